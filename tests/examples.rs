//! Every example and every standard library module checks clean, warnings included.

use std::path::Path;
use std::process::Command;

fn check_clean(dir: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("folder exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rwf"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .rwf files in {}", dir.display());
    for file in files {
        let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
            .args(["check", "--color=never", "--deny-warnings"])
            .arg(&file)
            .output()
            .expect("rwfc runs");
        assert!(
            output.status.success(),
            "{} does not check clean:\n{}",
            file.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn examples_check_clean() {
    check_clean("examples");
    check_clean("examples/local");
}

#[test]
fn stdlib_checks_clean() {
    check_clean("stdlib");
}
