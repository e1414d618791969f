//! Any bytes as the main file of `rwfc::check`, which also instantiates every task no workflow
//! calls (its parameters unbound, so many fields are deferred) and emits its RayJob in memory.
//! The compiler must never panic, hang or overflow its stack, and every diagnostic must render.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let checked = rwfc::check(&rwfc::load::NoFiles, Path::new("/fuzz"), "fuzz.rwf", bytes);
    for diagnostic in &checked.diagnostics {
        let _ = rwfc::diagnostics::render::human(diagnostic, &checked.sources, false);
        let _ = rwfc::diagnostics::render::json(diagnostic, &checked.sources);
    }
});
