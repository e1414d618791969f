//! rwfc: the compiler for rwf workflows of Ray jobs on Kubernetes.
//!
//! The library never prints, never exits and does no I/O: files reach it through the
//! [`FileSystem`] trait and results come back as values with their diagnostics.

pub mod ast;
pub mod check;
pub mod dag;
pub mod diagnostics;
pub mod load;
pub mod pod;
pub mod quantity;
pub mod resolve;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod value;

use diagnostics::{Diagnostic, Diagnostics};
use load::FileSystem;
use source::SourceMap;
use std::path::Path;

/// The result of checking a file: every loaded source and every diagnostic, sorted.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// `rwfc check`: loads `main` (its path relative to `root`, and its bytes) with its imports,
/// resolves names and type-checks every item. Each stage reports all it finds and goes on.
pub fn check(fs: &dyn FileSystem, root: &Path, main: &str, bytes: &[u8]) -> Checked {
    let mut diagnostics = Diagnostics::new();
    let program = load::load(fs, root, main, bytes, &mut diagnostics);
    let scopes = resolve::resolve(&program, &mut diagnostics);
    check::check(&program, &scopes, &mut diagnostics);
    Checked {
        sources: program.sources,
        diagnostics: diagnostics.into_sorted(),
    }
}
