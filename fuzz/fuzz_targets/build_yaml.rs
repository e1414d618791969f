//! Any bytes as the main file of a build with default options (every workflow of the file).
//! The compiler must never panic, hang or overflow its stack, and every file a successful build
//! emits must be valid YAML.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    let built = rwfc::build(
        &rwfc::load::NoFiles,
        Path::new("/fuzz"),
        "fuzz.rwf",
        bytes,
        &rwfc::BuildOptions::default(),
    );
    for diagnostic in &built.diagnostics {
        let _ = rwfc::diagnostics::render::human(diagnostic, &built.sources, false);
    }
    let has_errors = built
        .diagnostics
        .iter()
        .any(|d| d.severity() == rwfc::diagnostics::Severity::Error);
    let Ok(workflows) = built.workflows else {
        return;
    };
    if has_errors {
        assert!(workflows.is_empty(), "a build with errors produced files");
        return;
    }
    for workflow in &workflows {
        for (path, text) in &workflow.files {
            if let Err(error) = serde_yaml::from_str::<serde_yaml::Value>(text) {
                panic!("{}/{path} is not valid YAML: {error}\n{text}", workflow.name);
            }
        }
        for &index in &workflow.rayjobs {
            let file = workflow.files.get(index).map(|(path, _)| path.as_str());
            assert!(
                file.is_some_and(|path| path.starts_with("rayjobs/")),
                "RayJob index {index} of {} names {file:?}, not a RayJob file",
                workflow.name
            );
        }
    }
});
