//! The UI harness: every `tests/ui/<area>/<case>.rwf` is checked by the `rwfc` binary and its
//! diagnostics are compared with `<case>.stderr`. Files in deeper folders are support files
//! (imports). A first line `// rwfc: ARGS` adds command-line arguments; a first line
//! `// rwfc build: ARGS` builds instead (`rwfc build ARGS CASE -o -`), and the RayJob stream on
//! stdout is compared with `<case>.stdout` and validated against the strict RayJob schema.
//! The exit code must be 2 when stderr holds a usage error, 1 when it holds an error
//! (or anything with `--deny-warnings`), 0 otherwise, unless a line `// exit: N` says.
//! `RWFC_BLESS=1 cargo test --test ui` rewrites the expected files.

mod support;

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

/// The subcommand and extra arguments of a case, from its first line.
fn command_line(source: &str) -> (&'static str, Vec<String>) {
    let first = source.lines().next().unwrap_or_default();
    let words = |args: &str| args.split_whitespace().map(str::to_owned).collect();
    if let Some(args) = first.strip_prefix("// rwfc build:") {
        ("build", words(args))
    } else if let Some(args) = first.strip_prefix("// rwfc:") {
        ("check", words(args))
    } else {
        ("check", Vec::new())
    }
}

/// Compares `actual` with the expected file (absent means empty), or rewrites it when blessing.
fn compare(expected_path: &Path, actual: &str, bless: bool) -> Option<String> {
    if bless {
        if actual.is_empty() {
            let _ = std::fs::remove_file(expected_path);
        } else {
            std::fs::write(expected_path, actual).expect("writable expected file");
        }
        return None;
    }
    let expected = std::fs::read_to_string(expected_path).unwrap_or_default();
    (expected != actual).then(|| {
        format!(
            "{}: output differs (RWFC_BLESS=1 to accept)\n--- expected\n{expected}\n--- actual\n{actual}",
            expected_path.display()
        )
    })
}

#[test]
fn ui() {
    let bless = std::env::var_os("RWFC_BLESS").is_some();
    let mut failures = Vec::new();
    let cases = cases();
    assert!(!cases.is_empty(), "no UI cases found");
    for case in &cases {
        let source = std::fs::read(case).expect("readable case");
        let (subcommand, args) = command_line(&String::from_utf8_lossy(&source));
        let dir = case.parent().expect("case has a folder");
        let name = case.file_name().expect("case has a name");
        let to_stdout: &[&str] = if subcommand == "build" { &["-o", "-"] } else { &[] };
        let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
            .arg(subcommand)
            .arg("--color=never")
            .args(&args)
            .arg(name)
            .args(to_stdout)
            .current_dir(dir)
            .env_remove("NO_COLOR")
            .output()
            .expect("rwfc runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let code = output.status.code();
        let has_errors = stderr.contains("  × ") || stderr.contains("\"severity\":\"error\"");
        let usage_error = stderr
            .lines()
            .any(|line| line.starts_with("error: ") || line.contains("\"code\":null"));
        let declared = String::from_utf8_lossy(&source)
            .lines()
            .find_map(|line| line.strip_prefix("// exit: ")?.trim().parse::<i32>().ok());
        let expected_code = if let Some(code) = declared {
            code
        } else if usage_error {
            2
        } else if has_errors || args.iter().any(|a| a == "--deny-warnings") && !stderr.is_empty() {
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
        failures.extend(compare(&case.with_extension("stderr"), &stderr, bless));
        if subcommand == "build" {
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            // KubeRay 0.6 output (`ray.io/v1alpha1`) predates the v1 schema; tests/build.rs checks its shape.
            if !stdout.is_empty() && !stdout.contains("apiVersion: ray.io/v1alpha1") {
                if let Err(errors) = support::validate_rayjob_yaml(&stdout) {
                    failures.push(format!("{}: invalid RayJob:\n{}", case.display(), errors.join("\n")));
                }
            }
            failures.extend(compare(&case.with_extension("stdout"), &stdout, bless));
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
