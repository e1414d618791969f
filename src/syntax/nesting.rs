//! A lexical pre-pass that bounds bracket nesting before the recursive parser sees the text.

use super::MAX_NESTING;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Bracket,
    /// `${` inside a string: its `}` returns to the string.
    Interpolation,
}

/// The first place where `(`, `[`, `{` and `${` nest deeper than [`MAX_NESTING`], as E0601.
/// Strings and comments are skipped, so brackets inside them do not count.
pub fn check(file: FileId, text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        if in_string {
            match rest {
                [b'\\', _, ..] | [b'$', b'$', ..] => i += 2,
                [b'$', b'{', ..] => {
                    open.push(Open::Interpolation);
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
                    open.push(Open::Bracket);
                    i += 1;
                }
                [b')' | b']' | b'}', ..] => {
                    in_string = open.pop() == Some(Open::Interpolation);
                    i += 1;
                }
                _ => i += 1,
            }
        }
        if open.len() > MAX_NESTING {
            let at = i.saturating_sub(1);
            return Some(
                Diagnostic::new(
                    Code::E0601,
                    Span::new(file, at, at + 1),
                    format!("nesting is deeper than the limit of {MAX_NESTING} levels"),
                    "too deep here",
                )
                .help("name the inner parts with `const` items or flatten the expression"),
            );
        }
    }
    None
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
