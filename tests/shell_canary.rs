//! Canary tests (language reference §6.4): every emitted entrypoint, runtime env and `ray start`
//! line runs the way KubeRay and Ray run it, with payloads whose only effect is a file named
//! `CANARY`:
//!
//! - K8sJobMode and SidecarMode: the submitter's `/bin/bash -ce --` script as KubeRay's
//!   `common/job.go` builds it (entrypoint spliced raw, the runtime env JSON in Go's
//!   `strconv.Quote`), then the Ray CLI joining the words after `--` (`shlex.join` from Ray 2.60,
//!   `subprocess.list2cmdline` before) and the head running the result with `/bin/sh -c`;
//! - HTTPMode: the head's `/bin/sh -c` of the entrypoint;
//! - every pod: `ulimit …; ray start --KEY=VALUE …` under `/bin/bash -c --`, the parameters
//!   joined as KubeRay's `convertParamMap` joins them.
//!
//! A fake `ray` records its arguments. No program that rwfc accepts may create the canary, and
//! every value it accepts must arrive as the words the program meant; what it refuses must be
//! refused with E0516 or E0519.

use std::path::{Path, PathBuf};
use std::process::Command;

use rwfc::diagnostics::Code;
use rwfc::plan::BuildOptions;

const PAYLOADS: &[&str] = &[
    "plain-value_1.csv",
    "x;touch CANARY #",
    "$(touch CANARY)",
    "`touch CANARY`",
    "'; touch CANARY; '",
    "\"; touch CANARY; \"",
    "a\ntouch CANARY",
    "\\';touch CANARY;#",
    "$'\\x27';touch CANARY",
    "a b  c",
    "*",
    "x\\",
    "",
];

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Http,
    K8sJob,
    K8sJobRay260,
    Sidecar,
}

const MODES: [Mode; 4] = [Mode::Http, Mode::K8sJob, Mode::K8sJobRay260, Mode::Sidecar];

impl Mode {
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Mode::Http => ("submission_mode = \"HTTPMode\"", ""),
            Mode::K8sJob => ("", ""),
            Mode::K8sJobRay260 => ("", "ray_version = \"2.60.0\""),
            Mode::Sidecar => ("submission_mode = \"SidecarMode\"", ""),
        }
    }
}

/// An entrypoint (rwf string text, `${v}` the payload) and the words the job must receive, or
/// `None` when the text puts the value where rwfc must refuse it in every mode.
type Shape = (&'static str, Option<fn(&str) -> Vec<String>>);

const SHAPES: &[Shape] = &[
    ("argv ${v}", Some(|v| vec![v.into()])),
    ("argv --data=${v}", Some(|v| vec![format!("--data={v}")])),
    (
        "argv x${v}y --n 2",
        Some(|v| vec![format!("x{v}y"), "--n".into(), "2".into()]),
    ),
    ("argv ${v} ${v}", Some(|v| vec![v.into(), v.into()])),
    ("argv 'lit' ${v}", Some(|v| vec!["lit".into(), v.into()])),
    ("argv C:\\\\data\\\\${v}", None),
    ("argv '${v}'", None),
    ("argv \\\"${v}\\\"", None),
    ("argv $$'a\\\\'${v}'", None),
    ("argv - <<EOF\\n${v}\\nEOF", None),
    ("argv # ${v}", None),
    ("argv $$(echo ${v})", None),
    ("argv `echo ${v}`", None),
    ("argv $$${v}", None),
    ("argv {a,${v}}", None),
    ("argv data/*${v}", None),
];

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// A directory with a fake `ray` that records its arguments and an `argv` that records the
    /// job's words, both NUL-separated.
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin dir");
        let record = "for a in \"$@\"; do printf '%s\\0' \"$a\"; done";
        let ray = format!(
            "#!/bin/sh\ncase \"$1 $2\" in\n  \"job status\") exit 1 ;;\n  \"job logs\") exit 0 ;;\nesac\n{record} > \"$RAY_ARGS\"\n"
        );
        let argv = format!("#!/bin/sh\n{record} > \"$JOB_ARGS\"\n");
        for (name, text) in [("ray", ray), ("argv", argv)] {
            let path = bin.join(name);
            std::fs::write(&path, text).expect("script");
            let status = Command::new("chmod").arg("+x").arg(&path).status().expect("chmod");
            assert!(status.success());
        }
        Sandbox { dir }
    }

    fn work(&self) -> PathBuf {
        let work = self.dir.path().join("work");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir(&work).expect("work dir");
        work
    }

    /// Runs `shell -c… script` in a fresh work directory; returns it.
    fn run(&self, shell: &str, flags: &str, script: &str) -> PathBuf {
        let work = self.work();
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let _ = Command::new(shell)
            .args([flags, "--", script])
            .current_dir(&work)
            .env("PATH", path)
            .env("RAY_ARGS", self.dir.path().join("ray-args"))
            .env("JOB_ARGS", self.dir.path().join("job-args"))
            .output()
            .expect("shell runs");
        work
    }

    fn take(&self, name: &str) -> Option<Vec<String>> {
        let path = self.dir.path().join(name);
        let bytes = std::fs::read(&path).ok()?;
        let _ = std::fs::remove_file(&path);
        let text = String::from_utf8(bytes).expect("UTF-8 arguments");
        Some(text.split_terminator('\0').map(str::to_owned).collect())
    }
}

fn assert_no_canary(work: &Path, what: &str) {
    assert!(!work.join("CANARY").exists(), "the canary was created: {what}");
}

/// The RayJobs of a build, or the codes of its errors.
fn build(program: &str, payload: &str, storage: Option<String>) -> Result<Vec<serde_json::Value>, Vec<Code>> {
    let options = BuildOptions {
        task: Some("t".into()),
        sets: vec![("v".into(), payload.into())],
        storage,
        ..BuildOptions::default()
    };
    let built = rwfc::build(
        &rwfc::load::NoFiles,
        Path::new("."),
        "t.rwf",
        program.as_bytes(),
        &options,
    );
    let errors: Vec<Code> = built
        .diagnostics
        .iter()
        .filter(|d| d.severity() == rwfc::diagnostics::Severity::Error)
        .map(|d| d.code)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let workflows = built.workflows.expect("a build");
    Ok(workflows
        .iter()
        .flat_map(|w| w.rayjobs.iter().filter_map(|&i| w.files.get(i)))
        .map(|(_, text)| serde_yaml::from_str(text).expect("YAML"))
        .collect())
}

/// Go's `strconv.Quote` for the printable text KubeRay quotes.
fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Python's `shlex.join`, as Ray 2.60 joins the words after `--`.
fn shlex_join(words: &[String]) -> String {
    let quote = |w: &String| {
        let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
        if w.is_empty() {
            "''".to_owned()
        } else if w.chars().all(safe) {
            w.clone()
        } else {
            format!("'{}'", w.replace('\'', "'\"'\"'"))
        }
    };
    words.iter().map(quote).collect::<Vec<_>>().join(" ")
}

/// Python's `subprocess.list2cmdline`, as older Ray joins the words after `--`.
fn list2cmdline(words: &[String]) -> String {
    let mut out = String::new();
    for word in words {
        if !out.is_empty() {
            out.push(' ');
        }
        let quote = word.contains([' ', '\t']) || word.is_empty();
        if quote {
            out.push('"');
        }
        let mut backslashes = 0;
        for c in word.chars() {
            match c {
                '\\' => backslashes += 1,
                '"' => {
                    out.push_str(&"\\".repeat(backslashes * 2 + 1));
                    out.push('"');
                    backslashes = 0;
                }
                c => {
                    out.push_str(&"\\".repeat(backslashes));
                    backslashes = 0;
                    out.push(c);
                }
            }
        }
        out.push_str(&"\\".repeat(if quote { backslashes * 2 } else { backslashes }));
        if quote {
            out.push('"');
        }
    }
    out
}

fn runtime_env_json(rayjob: &serde_json::Value) -> Option<String> {
    let yaml = rayjob["spec"]["runtimeEnvYAML"].as_str()?;
    let value: serde_json::Value = serde_yaml::from_str(yaml).expect("runtime env YAML");
    Some(value.to_string())
}

/// Runs a RayJob's job the way its submission mode runs it; returns the job's words and the
/// runtime env JSON `ray job submit` received (none in HTTPMode, where no shell sees it).
fn run_job(sandbox: &Sandbox, rayjob: &serde_json::Value, what: &str) -> (Option<Vec<String>>, Option<String>) {
    let spec = &rayjob["spec"];
    let entrypoint = spec["entrypoint"].as_str().expect("an entrypoint").trim();
    let mode = spec["submissionMode"].as_str().unwrap_or("K8sJobMode");
    if mode == "HTTPMode" {
        let work = sandbox.run("/bin/sh", "-c", entrypoint);
        assert_no_canary(&work, what);
        return (sandbox.take("job-args"), None);
    }
    let address = "http://127.0.0.1:8265";
    let runtime_env = runtime_env_json(rayjob)
        .map(|json| format!(" --runtime-env-json {}", go_quote(&json)))
        .unwrap_or_default();
    let submit = format!("ray job submit --address {address}");
    let script = if mode == "K8sJobMode" {
        format!(
            "if ! ray job status --address {address} rwf-1 >/dev/null 2>&1 ; then {submit} --no-wait{runtime_env} --submission-id rwf-1 -- {entrypoint} ; fi ; ray job logs --address {address} --follow rwf-1"
        )
    } else {
        format!("{submit}{runtime_env} --submission-id rwf-1 -- {entrypoint} ;")
    };
    let work = sandbox.run("/bin/bash", "-ce", &script);
    assert_no_canary(&work, what);
    let Some(args) = sandbox.take("ray-args") else {
        return (None, None);
    };
    let received_env = args
        .iter()
        .position(|a| a == "--runtime-env-json")
        .and_then(|i| args.get(i + 1).cloned());
    let words: Vec<String> = match args.iter().position(|a| a == "--") {
        Some(i) => args[i + 1..].to_vec(),
        None => Vec::new(),
    };
    let ray_version = spec["rayClusterSpec"]["rayVersion"].as_str().unwrap_or("2.40.0");
    let joined = if ray_version.starts_with("2.60") {
        shlex_join(&words)
    } else {
        list2cmdline(&words)
    };
    let work = sandbox.run("/bin/sh", "-c", &joined);
    assert_no_canary(&work, what);
    (sandbox.take("job-args"), received_env)
}

fn program(mode: Mode, entrypoint: &str, extra_ray: &str, output: bool) -> String {
    let (task_field, ray_field) = mode.fields();
    let output = if output { " -> dir" } else { "" };
    format!(
        "task t(v: str){output} {{\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"{entrypoint}\"\n  {task_field}\n  ray {{\n    {ray_field}\n    {extra_ray}\n  }}\n}}\n"
    )
}

#[test]
fn entrypoint_values_never_run_and_arrive_intact() {
    let sandbox = Sandbox::new();
    let mut accepted = 0;
    for mode in MODES {
        for (shape, expected) in SHAPES {
            for payload in PAYLOADS {
                let what = format!("{mode:?}, entrypoint {shape:?}, value {payload:?}");
                match build(&program(mode, shape, "", false), payload, None) {
                    Err(codes) => {
                        assert!(
                            codes.iter().all(|c| *c == Code::E0516),
                            "{what}: refused with {codes:?}"
                        );
                    }
                    Ok(rayjobs) => {
                        let expected = expected.unwrap_or_else(|| panic!("{what}: accepted, must be refused"));
                        let (words, _) = run_job(&sandbox, &rayjobs[0], &what);
                        assert_eq!(words, Some(expected(payload)), "{what}: the job's words");
                        accepted += 1;
                    }
                }
            }
        }
    }
    assert!(
        accepted > 100,
        "only {accepted} programs were accepted: the test exercises too little"
    );
}

#[test]
fn runtime_env_strings_never_run_and_arrive_intact() {
    let sandbox = Sandbox::new();
    let mut accepted = 0;
    for mode in MODES {
        for payload in PAYLOADS {
            let what = format!("{mode:?}, runtime env value {payload:?}");
            let env = "runtime_env { pip = [\"pkg-${v}\"], env_vars = { V = \"${v}\" } }";
            let storage = Some(format!("s3://bucket/{payload}"));
            match build(&program(mode, "argv run", env, true), payload, storage) {
                Err(codes) => assert!(
                    codes.iter().all(|c| *c == Code::E0519),
                    "{what}: refused with {codes:?}"
                ),
                Ok(rayjobs) => {
                    let expected = runtime_env_json(&rayjobs[0]).expect("a runtime env");
                    let (words, received) = run_job(&sandbox, &rayjobs[0], &what);
                    assert_eq!(words, Some(vec!["run".to_owned()]), "{what}");
                    if mode != Mode::Http {
                        let received: serde_json::Value =
                            serde_json::from_str(&received.expect("a runtime env")).expect("JSON");
                        let expected: serde_json::Value = serde_json::from_str(&expected).expect("JSON");
                        assert_eq!(received, expected, "{what}: the runtime env ray job submit got");
                    }
                    accepted += 1;
                }
            }
        }
    }
    assert!(accepted > 20, "only {accepted} programs were accepted");
}

/// `ray start` as KubeRay's `convertParamMap` writes it: sorted keys, `true` as a bare flag,
/// `false` dropped, everything else `--KEY=VALUE`.
fn ray_start_line(params: &serde_json::Map<String, serde_json::Value>) -> String {
    let mut line = String::from("ulimit -n ${RAY_START_ULIMIT_OPEN_FILES:-65536}; ray start --head ");
    let mut keys: Vec<&String> = params.keys().collect();
    keys.sort();
    for key in keys {
        let value = params[key].as_str().expect("string parameters");
        match value.to_lowercase().as_str() {
            "true" => line.push_str(&format!(" --{key} ")),
            "false" => {}
            _ => line.push_str(&format!(" --{key}={value} ")),
        }
    }
    line.push_str(" --block ");
    line
}

#[test]
fn ray_start_params_never_run_and_arrive_intact() {
    let sandbox = Sandbox::new();
    let mut accepted = 0;
    for payload in PAYLOADS {
        let what = format!("ray_start_params value {payload:?}");
        let head =
            "head { ray_start_params = { \"dashboard-host\" = \"${v}\", resources = \"'{\\\"accel\\\": 1}'\" } }";
        match build(&program(Mode::Http, "argv run", head, false), payload, None) {
            Err(codes) => assert!(
                codes.iter().all(|c| *c == Code::E0519),
                "{what}: refused with {codes:?}"
            ),
            Ok(rayjobs) => {
                let params = rayjobs[0]["spec"]["rayClusterSpec"]["headGroupSpec"]["rayStartParams"]
                    .as_object()
                    .expect("rayStartParams")
                    .clone();
                let work = sandbox.run("/bin/bash", "-c", &ray_start_line(&params));
                assert_no_canary(&work, &what);
                let args = sandbox.take("ray-args").expect("ray start ran");
                // An accepted value is plain, or quoted stretches without escapes (how JSON is
                // given): bash removes the quotes and nothing else.
                let unquoted: String = payload.chars().filter(|c| !matches!(c, '\'' | '"')).collect();
                assert!(
                    args.contains(&format!("--dashboard-host={unquoted}")),
                    "{what}: {args:?}"
                );
                assert!(
                    args.contains(&"--resources={\"accel\": 1}".to_owned()),
                    "{what}: {args:?}"
                );
                accepted += 1;
            }
        }
    }
    assert!(accepted >= 1, "no value was accepted");
}
