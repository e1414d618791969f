//! Every diagnostic code has an explanation with an example and a test that produces it, and
//! no explanation exists without a code.

use rwfc::diagnostics::Code;
use std::path::Path;

fn read_tree(dir: &Path, extension: &str, into: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            read_tree(&path, extension, into);
        } else if path.extension().is_some_and(|e| e == extension) {
            into.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

#[test]
fn every_code_is_explained_with_an_example() {
    for code in Code::ALL {
        let text = code.explanation();
        let heading = format!("# {}: {}\n", code.as_str(), code.title());
        assert!(
            text.starts_with(&heading),
            "{}.md must start with `{heading}`",
            code.as_str()
        );
        assert!(
            text.contains("## Example") && text.contains("```rwf"),
            "{}.md needs an rwf example",
            code.as_str()
        );
    }
}

#[test]
fn every_explanation_has_a_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnostics/explain");
    for entry in std::fs::read_dir(dir).expect("explain folder").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stem = name.trim_end_matches(".md");
        assert!(Code::parse(stem).is_some(), "{name} explains no registered code");
    }
}

/// A code counts as tested when a UI expectation shows it, or a generated test asserts it
/// (the limits tests, whose inputs are too large to keep as files).
#[test]
fn every_code_is_produced_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut expectations = String::new();
    read_tree(&root.join("ui"), "stderr", &mut expectations);
    let mut generated = String::new();
    read_tree(&root.join("limits"), "rs", &mut generated);
    generated.push_str(&std::fs::read_to_string(root.join("limits.rs")).unwrap_or_default());
    let untested: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !expectations.contains(c) && !generated.contains(&format!("Code::{c}")))
        .collect();
    assert!(untested.is_empty(), "codes without a test: {untested:?}");
}
