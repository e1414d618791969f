//! Hostile and oversized input: each gives a diagnostic or a clean result, never a panic or a
//! stack overflow. These inputs are generated because they are too large to keep as files.

use rwfc::diagnostics::Code;
use std::path::Path;
use std::process::{Command, Output};

fn check_bytes(dir: &Path, name: &str, bytes: &[u8], extra: &[&str]) -> Output {
    let file = dir.join(name);
    std::fs::write(&file, bytes).expect("writable temp dir");
    Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["check", "--color=never", "--message-format=short"])
        .args(extra)
        .arg(&file)
        .output()
        .expect("rwfc runs")
}

/// Exit 0 or 1 (never a crash, which is 101 or a signal) and, when given, the code expected.
fn assert_handled(output: &Output, code: Option<Code>) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "crashed: {:?}\n{stderr}",
        output.status
    );
    if let Some(code) = code {
        assert!(
            stderr.contains(&format!("[{}]", code.as_str())),
            "expected {}, got:\n{stderr}",
            code.as_str()
        );
    }
}

#[test]
fn empty_file_is_clean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = check_bytes(dir.path(), "empty.rwf", b"", &[]);
    assert_handled(&output, None);
    assert!(output.status.success());
}

#[test]
fn invalid_utf8_is_a_syntax_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = check_bytes(dir.path(), "latin1.rwf", b"const NAME = \"caf\xe9\"\n", &[]);
    assert_handled(&output, Some(Code::E0001));
}

#[test]
fn ten_thousand_deep_nesting_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deep = format!("const X = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000));
    assert_handled(
        &check_bytes(dir.path(), "parens.rwf", deep.as_bytes(), &[]),
        Some(Code::E0601),
    );
    let records = format!("const X = {}{}\n", "{ a = ".repeat(10_000), "1 }".repeat(10_000));
    assert_handled(
        &check_bytes(dir.path(), "records.rwf", records.as_bytes(), &[]),
        Some(Code::E0601),
    );
    let unary = format!("const X = {}1\n", "-".repeat(10_000));
    assert_handled(
        &check_bytes(dir.path(), "unary.rwf", unary.as_bytes(), &[]),
        Some(Code::E0601),
    );
    let chain = format!("const X = 1{}\n", " + 1".repeat(10_000));
    assert_handled(
        &check_bytes(dir.path(), "chain.rwf", chain.as_bytes(), &[]),
        Some(Code::E0601),
    );
}

#[test]
fn twenty_megabyte_file_checks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 20 * 1024 * 1024 {
        text.push_str(&format!(
            "/// Item {i}.\nconst C{i}: resources = {{ cpu = {}, mem = {}Gi }}\n",
            i % 7 + 1,
            i % 5 + 1
        ));
        i += 1;
    }
    assert_handled(&check_bytes(dir.path(), "large.rwf", text.as_bytes(), &[]), None);
}

#[test]
fn oversized_file_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!("// {}\n", "x".repeat(rwfc::syntax::MAX_FILE_BYTES));
    assert_handled(
        &check_bytes(dir.path(), "huge.rwf", text.as_bytes(), &[]),
        Some(Code::E0602),
    );
}

#[test]
fn overlong_string_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = format!("const S = \"{}\"\n", "x".repeat(rwfc::syntax::MAX_STRING_BYTES + 1));
    assert_handled(
        &check_bytes(dir.path(), "string.rwf", text.as_bytes(), &[]),
        Some(Code::E0604),
    );
}

#[test]
fn too_many_files_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A chain of imports one longer than the limit.
    for i in 0..=rwfc::load::MAX_FILES {
        let text = format!("import \"./m{}.rwf\" as next\nconst V{i} = next.V{}\n", i + 1, i + 1);
        std::fs::write(dir.path().join(format!("m{i}.rwf")), text).expect("writable");
    }
    let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["check", "--color=never", "--message-format=short"])
        .arg(dir.path().join("m0.rwf"))
        .output()
        .expect("rwfc runs");
    assert_handled(&output, Some(Code::E0603));
}

#[test]
fn random_bytes_never_crash() {
    let dir = tempfile::tempdir().expect("temp dir");
    // A fixed xorshift sequence keeps the test deterministic.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..40 {
        let mut bytes = Vec::with_capacity(4096);
        for _ in 0..4096 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state as u8);
        }
        // Half the rounds use printable syntax characters, which get further into the parser.
        if round % 2 == 1 {
            let alphabet = b"{}()[]\"$ =,.+-*/<>!&|abcxyz019_\n taskworkflowletconst";
            for b in &mut bytes {
                *b = alphabet[*b as usize % alphabet.len()];
            }
        }
        assert_handled(
            &check_bytes(dir.path(), &format!("random{round}.rwf"), &bytes, &[]),
            None,
        );
    }
}

#[test]
fn json_lines_carry_line_and_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bad.rwf");
    std::fs::write(&file, "const A = 1 / 0\nconst B: int = \"x\"\n").expect("writable");
    let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["check", "--message-format", "json"])
        .arg(&file)
        .output()
        .expect("rwfc runs");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).expect("each line is JSON");
        let label = &value["labels"][0];
        assert!(label["line"].as_u64().is_some_and(|l| l >= 1), "{line}");
        assert!(label["column"].as_u64().is_some_and(|c| c >= 1), "{line}");
        assert!(label["offset"].is_u64() && label["length"].is_u64(), "{line}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let missing = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["check", "does-not-exist.rwf"])
        .output()
        .expect("rwfc runs");
    assert_eq!(missing.status.code(), Some(2));
    let unknown_code = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["explain", "E9999"])
        .output()
        .expect("rwfc runs");
    assert_eq!(unknown_code.status.code(), Some(2));
    let explain = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["explain", "e0202"])
        .output()
        .expect("rwfc runs");
    assert!(explain.status.success());
    assert!(String::from_utf8_lossy(&explain.stdout).starts_with("# E0202"));
}

#[test]
fn file_outside_its_root_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("a.rwf"), "").expect("writable");
    let inner = dir.path().join("inner");
    std::fs::create_dir(&inner).expect("writable");
    let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["check", "--root"])
        .arg(&inner)
        .arg(dir.path().join("a.rwf"))
        .output()
        .expect("rwfc runs");
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn fan_out_over_ten_thousand_elements_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shards: Vec<String> = (0..=10_000).map(|i| i.to_string()).collect();
    let text = format!(
        "const SHARDS = [{}]\n\
         task score(shard: int) {{\n  image = \"ghcr.io/acme/ray:2.40\"\n  entrypoint = \"python -m score --shard ${{shard}}\"\n}}\n\
         workflow scoring() {{\n  let scores = for s in SHARDS {{ score(shard = s) }}\n}}\n",
        shards.join(", ")
    );
    assert_handled(
        &check_bytes(dir.path(), "fan_out.rwf", text.as_bytes(), &[]),
        Some(Code::E0605),
    );
}
