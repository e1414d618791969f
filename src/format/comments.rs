//! The comments of a file, found by a scan that knows strings: `//` inside a string (or in an
//! interpolation, which is printed with its string) is not a comment.

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

/// Every comment of `text` (a file that parsed), in order.
pub fn collect(text: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    scan(text.as_bytes(), 0, false, &mut out);
    out.into_iter()
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

/// Scans code from `i`; inside an interpolation (`nested`) up to its closing `}`, whose index
/// is returned. Comments found outside strings are pushed as (start, end, is_line).
fn scan(bytes: &[u8], mut i: usize, nested: bool, out: &mut Vec<(usize, usize, bool)>) -> usize {
    let mut depth = 0usize;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |n| i + n);
                if !nested {
                    out.push((i, end, true));
                }
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = bytes
                    .get(i + 2..)
                    .and_then(|rest| rest.windows(2).position(|w| w == b"*/"))
                    .map_or(bytes.len(), |n| i + 2 + n + 2);
                if !nested {
                    out.push((i, end, false));
                }
                i = end;
            }
            b'"' => {
                let raw = i > 0 && bytes[i - 1] == b'r' && !(i > 1 && is_word(bytes[i - 2]));
                i = if raw {
                    skip_raw(bytes, i + 1)
                } else {
                    skip_string(bytes, i + 1, out)
                };
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' if nested && depth == 0 => return i,
            b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Past the closing quote of a raw string whose text starts at `i`.
fn skip_raw(bytes: &[u8], i: usize) -> usize {
    bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'"'))
        .map_or(bytes.len(), |n| i + n + 1)
}

/// Past the closing quote of a string whose text starts at `i`, interpolations included.
fn skip_string(bytes: &[u8], mut i: usize, out: &mut Vec<(usize, usize, bool)>) -> usize {
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => return i + 1,
            b'\\' => i += 2,
            b'$' if bytes.get(i + 1) == Some(&b'$') => i += 2,
            b'$' if bytes.get(i + 1) == Some(&b'{') => i = scan(bytes, i + 2, true, out) + 1,
            _ => i += 1,
        }
    }
    i
}
