//! rwfc: the compiler for rwf workflows of Ray jobs on Kubernetes.
//!
//! The library never prints, never exits and does no I/O: files reach it through the
//! [`FileSystem`] trait and results come back as values with their diagnostics.

pub mod ast;
pub mod diagnostics;
pub mod quantity;
pub mod source;
pub mod value;
pub mod syntax;
pub mod dag;
pub mod load;
pub mod stdlib;
