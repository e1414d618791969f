//! A lexical pre-pass over the text before the recursive parser sees it: it bounds bracket
//! nesting and finds where top-level items start, so the parser can take the file in pieces.

use super::MAX_NESTING;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Bracket,
    /// `${` inside a string: its `}` returns to the string.
    Interpolation,
}

/// The keywords that begin an item. None can continue an expression, so outside brackets,
/// strings and comments each one starts an item of any file that parses.
const ITEM_KEYWORDS: [&[u8]; 5] = [b"import", b"const", b"cluster", b"task", b"workflow"];

/// The offsets of the keywords that start top-level items, in order; or the first place where
/// `(`, `[`, `{` and `${` nest deeper than [`MAX_NESTING`], as E0601. Strings and comments are
/// skipped, so brackets and keywords inside them do not count.
pub fn scan(file: FileId, text: &str) -> Result<Vec<usize>, Diagnostic> {
    let mut item_starts = Vec::new();
    walk(text, text.len(), |at| item_starts.push(at)).map_err(|at| {
        Diagnostic::new(
            Code::E0601,
            Span::new(file, at, at + 1),
            format!("nesting is deeper than the limit of {MAX_NESTING} levels"),
            "too deep here",
        )
        .help("name the inner parts with `const` items or flatten the expression")
    })?;
    Ok(item_starts)
}

/// The offset of the innermost bracket still open at `offset`, when there is one.
pub fn unclosed_at(text: &str, offset: usize) -> Option<usize> {
    let open = walk(text, offset, |_| {}).ok()?;
    open.iter()
        .rev()
        .find(|(kind, _)| *kind == Open::Bracket)
        .map(|(_, at)| *at)
}

/// Reads `text` up to `stop`, calling `item_start` with the offset of each keyword that starts a
/// top-level item; the brackets open at `stop` with their offsets, or where nesting got too deep.
fn walk(text: &str, stop: usize, mut item_start: impl FnMut(usize)) -> Result<Vec<(Open, usize)>, usize> {
    let bytes = text.as_bytes();
    let stop = stop.min(bytes.len());
    let mut open: Vec<(Open, usize)> = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < stop {
        let rest = &bytes[i..];
        if in_string {
            match rest {
                [b'\\', _, ..] | [b'$', b'$', ..] => i += 2,
                [b'$', b'{', ..] => {
                    open.push((Open::Interpolation, i));
                    in_string = false;
                    i += 2;
                }
                [b'"', ..] | [b'\n', ..] => {
                    in_string = false;
                    i += 1;
                }
                _ => i += 1,
            }
        } else {
            match rest {
                [b'/', b'/', ..] => i += skip_until(rest, b"\n"),
                [b'/', b'*', ..] => i += 2 + skip_until(&rest[2..], b"*/"),
                [b'r', b'"', ..] if !preceded_by_word(bytes, i) => {
                    i += 2 + skip_until(&rest[2..], b"\"");
                }
                [b'"', ..] => {
                    in_string = true;
                    i += 1;
                }
                [b'(' | b'[' | b'{', ..] => {
                    open.push((Open::Bracket, i));
                    i += 1;
                }
                [b')' | b']' | b'}', ..] => {
                    in_string = open.pop().map(|(kind, _)| kind) == Some(Open::Interpolation);
                    i += 1;
                }
                [b'c' | b'i' | b't' | b'w', ..] if open.is_empty() && !preceded_by_word(bytes, i) => {
                    let word = word_len(rest);
                    if ITEM_KEYWORDS.contains(&&rest[..word]) {
                        item_start(i);
                    }
                    i += word;
                }
                _ => i += 1,
            }
        }
        if open.len() > MAX_NESTING {
            return Err(i.saturating_sub(1));
        }
    }
    Ok(open)
}

/// Length of the identifier-like word at the start of `bytes`.
fn word_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(bytes.len())
}

fn preceded_by_word(bytes: &[u8], i: usize) -> bool {
    i > 0
        && bytes
            .get(i - 1)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Bytes up to and including `end` (or to the end of the input).
fn skip_until(bytes: &[u8], end: &[u8]) -> usize {
    bytes
        .windows(end.len())
        .position(|w| w == end)
        .map_or(bytes.len(), |p| p + end.len())
}
