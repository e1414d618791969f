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

/// Runs rwfc with `args`, failing the test (not hanging it) when it takes longer than 20 s.
fn run_with_deadline(args: &[&std::ffi::OsStr]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rwfc runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("waitable").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("rwfc {args:?} still runs after 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("rwfc output")
}

#[test]
fn files_that_are_not_regular_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("pipe.rwf");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // Given on the command line: a usage error, not a read that waits for a writer forever.
    let output = run_with_deadline(&["check".as_ref(), fifo.as_os_str()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a regular file"));
    // Reached by an import: E0103 on the import.
    let main = dir.path().join("main.rwf");
    std::fs::write(&main, "import \"./pipe.rwf\" as pipe\nconst A = pipe.X\n").expect("writable");
    let output = run_with_deadline(&["check".as_ref(), "--message-format=short".as_ref(), main.as_os_str()]);
    assert_handled(&output, Some(Code::E0103));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a regular file"));
    // An endless device.
    let output = run_with_deadline(&["check".as_ref(), "--root=/".as_ref(), "/dev/zero".as_ref()]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn huge_sparse_file_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sparse.rwf");
    std::fs::File::create(&file)
        .and_then(|f| f.set_len(3 << 30))
        .expect("a sparse file");
    let started = std::time::Instant::now();
    let output = run_with_deadline(&["check".as_ref(), "--message-format=short".as_ref(), file.as_os_str()]);
    assert_handled(&output, Some(Code::E0602));
    // Reading 3 GiB took 13 s; reading past the limit by one byte takes well under one.
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn long_chain_of_constants_is_evaluated_without_recursion() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("const C0 = 1\n");
    for i in 1..80_000 {
        text.push_str(&format!("const C{i} = C{}\n", i - 1));
    }
    // A cycle as long is reported once, without recursing through it either.
    text.push_str("const D0 = D79999\n");
    for i in 1..80_000 {
        text.push_str(&format!("const D{i} = D{}\n", i - 1));
    }
    let output = check_bytes(dir.path(), "chain.rwf", text.as_bytes(), &[]);
    assert_handled(&output, Some(Code::E0104));
    assert_eq!(String::from_utf8_lossy(&output.stderr).matches("[E0104]").count(), 1);
}

#[test]
fn values_doubled_through_constants_are_refused_where_they_grow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from("const L0 = [\"ab\"]\nconst S0 = \"ab\"\n");
    for i in 1..=40 {
        text.push_str(&format!("const L{i} = [L{}, L{}]\n", i - 1, i - 1));
        text.push_str(&format!("const S{i} = \"${{S{}}}${{S{}}}\"\n", i - 1, i - 1));
    }
    let output = check_bytes(dir.path(), "doubling.rwf", text.as_bytes(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_handled(&output, Some(Code::E0606));
    assert_eq!(stderr.matches("[E0606]").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("[E0604]").count(), 1, "{stderr}");
    let mut nested = String::new();
    for i in 0..10_000 {
        nested.push_str(&format!("const C{i} = {{ a = C{} }}\n", i + 1));
    }
    nested.push_str("const C10000 = 1\n");
    let output = check_bytes(dir.path(), "nested.rwf", nested.as_bytes(), &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_handled(&output, Some(Code::E0607));
    assert_eq!(stderr.matches("[E0607]").count(), 1, "{stderr}");
}

#[test]
fn a_fan_out_past_the_node_limit_is_refused_before_it_is_built() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shards: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let mut text = format!(
        "const SHARDS = [{}]\n\
         task score() {{\n  image = \"ghcr.io/acme/ray:2.40\"\n  entrypoint = \"python -m score\"\n}}\n\
         workflow w0() {{\n  let a = score()\n}}\n",
        shards.join(", ")
    );
    // w6 makes 64 nodes; 10,000 of them are 640,000.
    for i in 1..=6 {
        text.push_str(&format!(
            "workflow w{i}() {{\n  let a = w{}()\n  let b = w{}()\n}}\n",
            i - 1,
            i - 1
        ));
    }
    text.push_str("workflow all() {\n  let runs = for s in SHARDS { w6() }\n}\n");
    assert_handled(
        &check_bytes(dir.path(), "fan_out_nodes.rwf", text.as_bytes(), &[]),
        Some(Code::E0608),
    );
}
