//! `rwfc fmt`: one canonical layout for a file, keeping every comment where it was.
//!
//! Comments are silent in the grammar, so they are collected here with their byte offsets
//! (skipping strings, which are printed as written) and placed back while the AST is printed:
//! those before a field, statement, item or element go on their own lines above it, one at the
//! end of its line stays there, and one in a place with no line of its own (inside an operator
//! chain) moves to the end of the line of the element that holds it.

pub mod comments;
mod doc;
mod print;
pub mod strings;

use crate::diagnostics::Diagnostics;
use crate::source::FileId;

/// The width lines are fitted into.
pub const WIDTH: usize = 100;

/// The file id of the text in the diagnostics [`format`] returns.
pub const FILE: FileId = FileId(0);

/// `text` in the canonical layout, or the diagnostics of a file that does not parse (a file
/// with any error is never rewritten).
pub fn format(text: &str) -> Result<String, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let parsed = crate::syntax::parse(FILE, text, &mut diagnostics);
    match parsed {
        Some(file) if diagnostics.is_empty() => {
            let comments = comments::collect(text, &strings::literals(&file));
            Ok(print::file(text, comments, &file))
        }
        _ => Err(diagnostics),
    }
}

#[cfg(test)]
mod tests;
