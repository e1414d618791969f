//! Parts of the `rwfc` binary that touch the machine: the library decides, these move bytes.

pub mod fmt;
pub mod output;
mod progress;
mod ray;
pub mod run;
