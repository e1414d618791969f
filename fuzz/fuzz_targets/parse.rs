//! Any bytes through the first two stages: UTF-8 and size checks, then the parser and lowering.
//! Every outcome is a value or a diagnostic; a panic, a hang or a stack overflow is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use rwfc::diagnostics::Diagnostics;
use rwfc::source::{Origin, SourceMap};
use rwfc::syntax;

fuzz_target!(|bytes: &[u8]| {
    let mut sources = SourceMap::new();
    let file = sources.next_id();
    let mut diagnostics = Diagnostics::new();
    let Some(text) = syntax::decode(file, bytes, &mut diagnostics) else {
        assert!(diagnostics.has_errors(), "decode refused the bytes without an error");
        return;
    };
    let id = sources.add(Origin::User("fuzz.rwf".into()), text.as_str());
    assert_eq!(id, file);
    let parsed = syntax::parse(file, &text, &mut diagnostics);
    if parsed.is_none() {
        assert!(diagnostics.has_errors(), "parse gave no file and no error");
    }
    // Every span must lie on character boundaries of its file, or rendering would slice badly.
    for diagnostic in diagnostics.iter() {
        let _ = rwfc::diagnostics::render::human(diagnostic, &sources, false);
    }
});
