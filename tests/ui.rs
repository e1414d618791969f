//! The UI harness: every `tests/ui/<area>/<case>.rwf` is checked by the `rwfc` binary and its
//! diagnostics are compared with `<case>.stderr`. Files in deeper folders are support files
//! (imports). A first line `// rwfc: ARGS` adds command-line arguments.
//! `RWFC_BLESS=1 cargo test --test ui` rewrites the expected files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    let mut cases = Vec::new();
    for area in std::fs::read_dir(&root).expect("tests/ui exists") {
        let area = area.expect("readable tests/ui").path();
        if !area.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&area).expect("readable area") {
            let case = case.expect("readable case").path();
            if case.extension().is_some_and(|e| e == "rwf") {
                cases.push(case);
            }
        }
    }
    cases.sort();
    cases
}

fn extra_args(source: &str) -> Vec<String> {
    source
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("// rwfc:"))
        .map(|args| args.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[test]
fn ui() {
    let bless = std::env::var_os("RWFC_BLESS").is_some();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(!cases.is_empty(), "no UI cases found");
    for case in &cases {
        let source = std::fs::read(case).expect("readable case");
        let args = extra_args(&String::from_utf8_lossy(&source));
        let dir = case.parent().expect("case has a folder");
        let name = case.file_name().expect("case has a name");
        let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
            .arg("check")
            .arg("--color=never")
            .args(&args)
            .arg(name)
            .current_dir(dir)
            .env_remove("NO_COLOR")
            .output()
            .expect("rwfc runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = output.status.code();
        let has_errors = stderr.contains("  × ") || stderr.contains("\"severity\":\"error\"");
        let expected_code = if has_errors || args.iter().any(|a| a == "--deny-warnings") && !stderr.is_empty() {
            1
        } else {
            0
        };
        if code != Some(expected_code) {
            failures.push(format!(
                "{}: exit code {code:?}, expected {expected_code}\n{stderr}",
                case.display()
            ));
            continue;
        }
        let expected_path = case.with_extension("stderr");
        if bless {
            if stderr.is_empty() {
                let _ = std::fs::remove_file(&expected_path);
            } else {
                std::fs::write(&expected_path, &stderr).expect("writable expected file");
            }
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != stderr {
            failures.push(format!(
                "{}: output differs (RWFC_BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{stderr}",
                case.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} UI cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}
