//! A small Wadler/Lindig document printer: a group is laid out flat when it fits in the
//! remaining width, else its lines break; a hard line (after a `//` comment) breaks every group
//! around it.

use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum Doc {
    Text(Rc<str>),
    /// Text at the end of a line that does not count towards the width (a trailing comment).
    Suffix(Rc<str>),
    /// A space when flat, a newline when broken.
    Line,
    /// Nothing when flat, a newline when broken.
    SoftLine,
    /// The first text when the group is flat, the second when it breaks (separating commas).
    Choice(&'static str, &'static str),
    /// Nothing, but the enclosing groups cannot be flat (after a `//` comment).
    BreakParent,
    /// Always a newline; the enclosing groups cannot be flat.
    HardLine,
    Nest(Rc<Doc>),
    /// Laid out flat (unless a comment inside needs a line of its own).
    Flat(Rc<Doc>),
    Group(Rc<Doc>),
    Concat(Rc<[Doc]>),
}

const INDENT: usize = 2;

pub fn text(s: impl Into<Rc<str>>) -> Doc {
    Doc::Text(s.into())
}

pub fn concat(docs: Vec<Doc>) -> Doc {
    Doc::Concat(docs.into())
}

pub fn nest(doc: Doc) -> Doc {
    Doc::Nest(Rc::new(doc))
}

pub fn group(doc: Doc) -> Doc {
    Doc::Group(Rc::new(doc))
}

/// Renders `doc` in `width` columns. Lines never end with spaces.
pub fn render(doc: &Doc, width: usize) -> String {
    let mut out = String::new();
    let mut column = 0;
    // (indent, flat, doc), processed from the end.
    let mut stack: Vec<(usize, bool, &Doc)> = vec![(0, false, doc)];
    while let Some((indent, flat, doc)) = stack.pop() {
        match doc {
            Doc::Text(s) | Doc::Suffix(s) => {
                out.push_str(s);
                column += s.chars().count();
            }
            Doc::Choice(when_flat, when_broken) => {
                let s = if flat { when_flat } else { when_broken };
                out.push_str(s);
                column += s.len();
            }
            Doc::BreakParent => {}
            Doc::Line | Doc::SoftLine if flat => {
                if matches!(doc, Doc::Line) {
                    out.push(' ');
                    column += 1;
                }
            }
            Doc::Line | Doc::SoftLine | Doc::HardLine => {
                let kept = out.trim_end_matches(' ').len();
                out.truncate(kept);
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
            }
            Doc::Nest(inner) => stack.push((indent + INDENT, flat, inner)),
            Doc::Flat(inner) => stack.push((indent, !has_break_parent(inner), inner)),
            Doc::Group(inner) => {
                let flat = flat || fits(inner, width.saturating_sub(column), &stack);
                stack.push((indent, flat, inner));
            }
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|d| (indent, flat, d))),
        }
    }
    let kept = out.trim_end_matches(' ').len();
    out.truncate(kept);
    out
}

/// Whether `doc` laid flat, and what follows it up to the next line break, fits in `room`.
fn fits(doc: &Doc, room: usize, rest: &[(usize, bool, &Doc)]) -> bool {
    let mut room = room as isize;
    let mut pending: Vec<(bool, &Doc)> = vec![(true, doc)];
    let mut rest = rest.iter().rev();
    loop {
        let Some((flat, doc)) = pending.pop().or_else(|| rest.next().map(|&(_, flat, d)| (flat, d))) else {
            return true;
        };
        match doc {
            Doc::Text(s) => room -= s.chars().count() as isize,
            Doc::Suffix(_) => {}
            Doc::Choice(when_flat, when_broken) => {
                room -= if flat { when_flat.len() } else { when_broken.len() } as isize
            }
            Doc::BreakParent if flat => return false,
            Doc::BreakParent => {}
            Doc::Line if flat => room -= 1,
            Doc::SoftLine if flat => {}
            Doc::HardLine if flat => return false,
            // A break in what follows the group ends the line the group must fit in.
            Doc::Line | Doc::SoftLine | Doc::HardLine => return room >= 0,
            Doc::Nest(inner) | Doc::Group(inner) => pending.push((flat, inner)),
            Doc::Flat(inner) => pending.push((!has_break_parent(inner), inner)),
            Doc::Concat(docs) => pending.extend(docs.iter().rev().map(|d| (flat, d))),
        }
        if room < 0 {
            return false;
        }
    }
}

/// Whether `doc` holds a comment that must end its line.
fn has_break_parent(doc: &Doc) -> bool {
    match doc {
        Doc::BreakParent | Doc::HardLine => true,
        Doc::Nest(inner) | Doc::Group(inner) | Doc::Flat(inner) => has_break_parent(inner),
        Doc::Concat(docs) => docs.iter().any(has_break_parent),
        _ => false,
    }
}
