//! The comments of a file, found by a scan that steps over its string literals: `//` inside a
//! string (or in an interpolation, which is printed with its string) is not a comment.

use std::collections::HashMap;

/// A comment and where it was.
#[derive(Debug, Clone)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
    /// The text, without the spaces that ended its line.
    pub text: String,
    /// A `//` comment: what follows it must start a new line.
    pub is_line: bool,
    /// Something (other than spaces) follows a block comment on its line.
    pub code_after: bool,
}

/// Every comment of `text` (a file that parsed), in order; `strings` maps the start of each
/// string literal to its end.
pub fn collect(text: &str, strings: &HashMap<usize, usize>) -> Vec<Comment> {
    scan(text.as_bytes(), strings)
        .into_iter()
        .map(|(start, end, is_line)| {
            let raw = text.get(start..end).unwrap_or_default();
            let rest = text.get(end..).unwrap_or_default();
            let line_rest = rest.split('\n').next().unwrap_or_default();
            Comment {
                start,
                end,
                text: raw.trim_end().to_owned(),
                is_line,
                code_after: !is_line && !line_rest.trim().is_empty(),
            }
        })
        .collect()
}

/// The comments outside strings, as (start, end, is_line).
fn scan(bytes: &[u8], strings: &HashMap<usize, usize>) -> Vec<(usize, usize, bool)> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                out.push((i, end, true));
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = bytes
                    .get(i + 2..)
                    .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                out.push((i, end, false));
                i = end;
            }
            b'r' | b'"' => i = strings.get(&i).copied().unwrap_or(i + 1),
            _ => i += 1,
        }
    }
    out
}
