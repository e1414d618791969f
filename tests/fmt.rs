//! `rwfc fmt`: over every `.rwf` of the repository, formatting is idempotent, keeps every
//! comment, and gives a file that parses to the same AST and builds the same files; and the
//! cases of `fmt/` give their `.formatted` layout (`RWFC_BLESS=1` rewrites them).

use rwfc::diagnostics::Diagnostics;
use rwfc::format::{comments, format, FILE};
use std::path::{Path, PathBuf};
use support::without_spans;

mod support;

fn rwf_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.map(|e| e.path()).expect("a directory entry"))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rwf_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rwf") {
            out.push(path);
        }
    }
}

fn repository_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "stdlib", "tests/ui", "tests/fmt"] {
        rwf_files(&root.join(dir), &mut files);
    }
    files
}

fn comment_texts(text: &str) -> Vec<String> {
    let mut diagnostics = Diagnostics::new();
    let file = rwfc::syntax::parse(FILE, text, &mut diagnostics).expect("parses");
    let strings = rwfc::format::strings::literals(&file);
    let mut texts: Vec<String> = comments::collect(text, &strings).into_iter().map(|c| c.text).collect();
    texts.sort();
    texts
}

/// The files `rwfc build` would write for `bytes` as the file `path`, when it builds, with a
/// fixed run id (the default hashes the source text) and without the `rwf.dev/source`
/// annotations, which give line numbers.
fn built(path: &Path, bytes: &[u8]) -> Option<Vec<(String, String, String)>> {
    let root = path.parent()?;
    let main = path.file_name()?.to_str()?;
    let options = rwfc::BuildOptions {
        run_id: Some("fmt-test".to_owned()),
        ..rwfc::BuildOptions::default()
    };
    let built = rwfc::build(&support::Disk, root, main, bytes, &options);
    let workflows = built.workflows.ok()?;
    let without_lines = |text: String| -> String {
        text.lines()
            .filter(|l| !l.contains("rwf.dev/source:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let files = workflows
        .into_iter()
        .flat_map(|w| {
            w.files
                .into_iter()
                .map(move |(path, text)| (w.name.clone(), path, text))
        })
        .map(|(name, path, text)| (name, path, without_lines(text)))
        .collect();
    Some(files)
}

#[test]
fn formatting_every_file_keeps_its_meaning_and_comments_and_is_idempotent() {
    let mut formatted_count = 0;
    let mut built_count = 0;
    for path in repository_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // invalid UTF-8 cases
        };
        let Ok(once) = format(&text) else {
            continue; // cases that do not parse
        };
        formatted_count += 1;
        let name = path.display();
        let twice = format(&once).unwrap_or_else(|_| panic!("{name}: the formatted file does not parse"));
        assert_eq!(once, twice, "{name}: formatting is not idempotent");
        assert_eq!(comment_texts(&text), comment_texts(&once), "{name}: comments changed");
        assert_eq!(without_spans(&text), without_spans(&once), "{name}: the AST changed");
        // Building every UI case would take minutes; the examples have the workflows.
        if path.starts_with(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")) {
            continue;
        }
        let before = built(&path, text.as_bytes());
        if before.as_ref().is_some_and(|w| !w.is_empty()) {
            assert_eq!(
                before,
                built(&path, once.as_bytes()),
                "{name}: the build output changed"
            );
            built_count += 1;
        }
    }
    assert!(formatted_count > 50, "only {formatted_count} files were formatted");
    assert!(built_count > 15, "only {built_count} files were built");
}

#[test]
fn fmt_cases_give_their_formatted_layout() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fmt");
    let bless = std::env::var_os("RWFC_BLESS").is_some();
    let mut cases = Vec::new();
    rwf_files(&dir, &mut cases);
    assert!(!cases.is_empty());
    let mut failures = Vec::new();
    for case in cases {
        let text = std::fs::read_to_string(&case).expect("a case");
        let actual = format(&text).unwrap_or_else(|_| panic!("{} does not parse", case.display()));
        let expected_path = case.with_extension("formatted");
        if bless {
            std::fs::write(&expected_path, &actual).expect("writing the expected layout");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!("{}:\n{actual}", case.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "layouts differ (RWFC_BLESS=1 rewrites):\n{}",
        failures.join("\n")
    );
}

fn rwfc(args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rwfc runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("rwfc exits")
}

#[test]
fn check_changes_nothing_and_lists_the_files_that_would_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let messy = dir.path().join("messy.rwf");
    let tidy = dir.path().join("tidy.rwf");
    std::fs::write(&messy, "const A={a=1}\n").expect("written");
    std::fs::write(&tidy, "const A = { a = 1 }\n").expect("written");
    let dir_arg = dir.path().to_str().expect("utf-8");
    let output = rwfc(&["fmt", "--check", dir_arg], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("{}\n", messy.display())
    );
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), "const A={a=1}\n");
    let output = rwfc(&["fmt", dir_arg], "");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), "const A = { a = 1 }\n");
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listed").count(),
        2,
        "no temporary file left"
    );
    assert_eq!(rwfc(&["fmt", "--check", dir_arg], "").status.code(), Some(0));
}

#[test]
fn stdin_goes_to_stdout_and_a_syntax_error_is_reported() {
    let output = rwfc(&["fmt", "-"], "const  A=1");
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "const A = 1\n");
    let output = rwfc(&["fmt", "-"], "task t( {");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("E0001"));
}
