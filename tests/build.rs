//! `rwfc build` end to end: golden output for every example, strict schema validation of every
//! RayJob and manifest, determinism, atomic replacement of the output, and entrypoint quoting
//! of hostile values checked by a real shell.
//! `RWFC_BLESS=1 cargo test --test build` rewrites the golden files in `tests/golden/`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rwfc(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .arg("--color=never")
        .current_dir(dir)
        .output()
        .expect("rwfc runs")
}

/// Every file under `dir`, relative path and contents, sorted by path.
/// The lock file builds into one output directory take turns with.
const LOCK: &str = ".rwfc.lock";

/// Every file under `dir` but the lock, with its text.
fn tree(dir: &Path) -> Vec<(String, String)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name() == LOCK {
                continue;
            }
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let relative = path
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((relative, std::fs::read_to_string(&path).expect("text output")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Validates every RayJob and manifest of a built tree; returns the problems.
fn validate_tree(files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in files {
        let result = if path.contains("/rayjobs/") {
            support::validate_rayjob_yaml(text)
        } else if path.ends_with("workflow.yaml") {
            support::validate_workflow_plan_yaml(text)
        } else {
            Err(vec!["unexpected file".to_owned()])
        };
        if let Err(errors) = result {
            problems.push(format!("{path}:\n  {}", errors.join("\n  ")));
        }
    }
    problems
}

fn examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rwf"))
        .collect();
    files.sort();
    files
}

#[test]
fn examples_build_to_their_golden_output_and_validate_strictly() {
    let bless = std::env::var_os("RWFC_BLESS").is_some();
    let mut failures = Vec::new();
    let mut built = 0;
    for example in examples() {
        let text = std::fs::read_to_string(&example).expect("readable example");
        if !text.contains("workflow ") {
            continue;
        }
        let stem = example.file_stem().expect("named").to_string_lossy().into_owned();
        let out = tempfile::tempdir().expect("temp dir");
        let output = rwfc(
            &[
                "build",
                &format!("{stem}.rwf"),
                "-o",
                out.path().to_str().expect("utf-8 path"),
            ],
            &repo().join("examples"),
        );
        if !output.status.success() {
            failures.push(format!(
                "{stem}: build failed\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
            continue;
        }
        built += 1;
        let files = tree(out.path());
        failures.extend(validate_tree(&files).into_iter().map(|p| format!("{stem}: {p}")));
        let mut golden = String::new();
        for (path, contents) in &files {
            golden.push_str(&format!("# {path}\n{contents}"));
        }
        let graph = rwfc(&["graph", &format!("{stem}.rwf")], &repo().join("examples"));
        assert!(
            graph.status.success(),
            "{stem}: graph failed\n{}",
            String::from_utf8_lossy(&graph.stderr)
        );
        golden.push_str(&format!("# graph.dot\n{}", String::from_utf8_lossy(&graph.stdout)));
        // The summary lines name the output folder, a fresh temporary one each run.
        let notes = String::from_utf8_lossy(&output.stderr).replace(out.path().to_str().expect("utf-8 path"), "OUT");
        if !notes.is_empty() {
            golden.push_str(&format!("# stderr\n{notes}"));
        }
        golden.push_str(&argo_golden(&stem));
        let golden_path = repo().join("tests/golden").join(format!("{stem}.yaml"));
        if bless {
            std::fs::create_dir_all(golden_path.parent().expect("folder")).expect("writable tests/golden");
            std::fs::write(&golden_path, &golden).expect("writable golden file");
        } else if std::fs::read_to_string(&golden_path).unwrap_or_default() != golden {
            failures.push(format!(
                "{stem}: output differs from {} (RWFC_BLESS=1 to accept, then read the diff)",
                golden_path.display()
            ));
        }
    }
    assert!(built >= 10, "only {built} examples have workflows");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The `--target argo` output of an example, or its diagnostics when the target refuses it.
fn argo_golden(stem: &str) -> String {
    let out = tempfile::tempdir().expect("temp dir");
    let output = rwfc(
        &[
            "build",
            &format!("{stem}.rwf"),
            "--target",
            "argo",
            "-o",
            out.path().to_str().expect("utf-8 path"),
        ],
        &repo().join("examples"),
    );
    let mut golden = String::new();
    for (path, contents) in tree(out.path()) {
        golden.push_str(&format!("# argo: {path}\n{contents}"));
    }
    let stderr = String::from_utf8_lossy(&output.stderr).replace(out.path().to_str().expect("utf-8 path"), "OUT");
    if !stderr.is_empty() {
        golden.push_str(&format!("# argo: stderr\n{stderr}"));
    }
    golden
}

#[test]
fn a_build_into_a_folder_ends_with_one_summary_line_per_workflow() {
    let out = tempfile::tempdir().expect("temp dir");
    let dir = out.path().to_str().expect("utf-8 path");
    let output = rwfc(&["build", "dynamic_sizing.rwf", "-o", dir], &repo().join("examples"));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summaries: Vec<&str> = stderr.lines().filter(|l| l.starts_with("wrote ")).collect();
    assert_eq!(
        summaries,
        [format!("wrote {dir}/transcribe-podcasts/: 0 RayJobs, 2 deferred")],
        "{stderr}"
    );
    let bound = rwfc(
        &["build", "dynamic_sizing.rwf", "--set", "hours=12000", "-o", dir],
        &repo().join("examples"),
    );
    let stderr = String::from_utf8_lossy(&bound.stderr);
    assert_eq!(
        stderr
            .lines()
            .filter(|l| !l.starts_with("warning: "))
            .collect::<Vec<_>>(),
        [format!("wrote {dir}/transcribe-podcasts/: 2 RayJobs")],
        "{stderr}"
    );
    // `-o -` writes the RayJobs to stdout and no summary.
    let streamed = rwfc(
        &["build", "dynamic_sizing.rwf", "--set", "hours=12000", "-o", "-"],
        &repo().join("examples"),
    );
    assert!(streamed.status.success());
    let stderr = String::from_utf8_lossy(&streamed.stderr);
    assert!(!stderr.contains("wrote "), "{stderr}");
}

#[test]
fn building_twice_gives_identical_bytes() {
    let first = tempfile::tempdir().expect("temp dir");
    let second = tempfile::tempdir().expect("temp dir");
    for out in [&first, &second] {
        let output = rwfc(
            &[
                "build",
                "first_look.rwf",
                "--set",
                "raw_data=s3://acme/raw",
                "-o",
                out.path().to_str().expect("utf-8"),
            ],
            &repo().join("examples"),
        );
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let (a, b) = (tree(first.path()), tree(second.path()));
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let work = tempfile::tempdir().expect("temp dir");
    let source = work.path().join("job.rwf");
    let good = "task hello() {\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"python hello.py\"\n}\n\
                workflow greet() {\n  let h = hello()\n}\n";
    std::fs::write(&source, good).expect("writable");
    let out = work.path().join("out");
    let output = rwfc(&["build", "job.rwf", "-o", "out"], work.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let before = tree(&out);
    assert_eq!(before.len(), 2, "{before:?}");

    // The same workflow with a type error, and a renamed node that would add a file.
    let broken = good
        .replace("python hello.py", "python hello.py\" \n  retries = \"three")
        .replace("let h", "let renamed");
    std::fs::write(&source, broken).expect("writable");
    let output = rwfc(&["build", "job.rwf", "-o", "out"], work.path());
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(tree(&out), before);
    let mut leftovers: Vec<_> = std::fs::read_dir(&out)
        .expect("out exists")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    leftovers.sort();
    assert_eq!(leftovers, [LOCK, "greet"], "only the workflow's folder and the lock");
}

const GREET: &str = "task hello() {\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"python hello.py\"\n}\n\
                     workflow greet() {\n  let h = hello()\n}\n";

#[test]
fn staging_folders_left_by_a_killed_build_are_cleaned_up() {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(work.path().join("job.rwf"), GREET).expect("writable");
    let out = work.path().join("out");
    for stale in [
        ".greet.rwfc-new-4000001",
        ".greet.rwfc-old-4000001",
        ".other.rwfc-new-7",
    ] {
        std::fs::create_dir_all(out.join(stale).join("rayjobs")).expect("stale folder");
    }
    let output = rwfc(&["build", "job.rwf", "-o", "out"], work.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mut left: Vec<_> = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    left.sort();
    assert_eq!(left, [LOCK, "greet"]);
}

#[test]
fn concurrent_builds_into_one_folder_take_turns() {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(work.path().join("job.rwf"), GREET).expect("writable");
    let builds: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_rwfc"))
                .args(["build", "job.rwf", "-o", "out"])
                .current_dir(work.path())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("rwfc starts")
        })
        .collect();
    for build in builds {
        let output = build.wait_with_output().expect("rwfc ends");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let paths: Vec<String> = tree(&work.path().join("out")).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["greet/rayjobs/h.yaml", "greet/workflow.yaml"]);
}

#[test]
fn a_rebuilt_folder_never_goes_missing() {
    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(work.path().join("job.rwf"), GREET).expect("writable");
    assert!(rwfc(&["build", "job.rwf", "-o", "out"], work.path()).status.success());
    let manifest = work.path().join("out/greet/workflow.yaml");
    let done = std::sync::atomic::AtomicBool::new(false);
    let missing = std::thread::scope(|scope| {
        let watcher = scope.spawn(|| {
            let mut missing = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                missing += usize::from(!manifest.exists());
            }
            missing
        });
        for _ in 0..10 {
            assert!(rwfc(&["build", "job.rwf", "-o", "out"], work.path()).status.success());
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.join().expect("watcher")
    });
    assert_eq!(
        missing, 0,
        "the workflow folder was missing {missing} times while it was replaced"
    );
}

#[test]
fn a_rebuild_replaces_the_workflow_folder_as_a_whole() {
    let work = tempfile::tempdir().expect("temp dir");
    let source = work.path().join("job.rwf");
    let program = |node: &str| {
        format!(
            "task hello() {{\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"python hello.py\"\n}}\n\
             workflow greet() {{\n  let {node} = hello()\n}}\n"
        )
    };
    std::fs::write(&source, program("first")).expect("writable");
    assert!(rwfc(&["build", "job.rwf", "-o", "out"], work.path()).status.success());
    std::fs::write(&source, program("second")).expect("writable");
    assert!(rwfc(&["build", "job.rwf", "-o", "out"], work.path()).status.success());
    let paths: Vec<String> = tree(&work.path().join("out")).into_iter().map(|(p, _)| p).collect();
    assert_eq!(paths, ["greet/rayjobs/second.yaml", "greet/workflow.yaml"]);
}

const HOSTILE: &[&str] = &[
    "$(id)",
    "`id`",
    "it's \"quoted\"",
    "two\nlines",
    "; touch pwned",
    "a b",
    "*",
];

/// The entrypoint of the task built with `value` set, or the build's stderr when it fails.
fn entrypoint(dir: &Path, file: &str, value: &str) -> Result<String, String> {
    let output = rwfc(
        &[
            "build",
            file,
            "--task",
            "echo",
            "--set",
            &format!("value={value}"),
            "-o",
            "-",
        ],
        dir,
    );
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let stream = String::from_utf8_lossy(&output.stdout).into_owned();
    support::validate_rayjob_yaml(&stream).map_err(|e| e.join("\n"))?;
    let doc: serde_json::Value = serde_yaml::from_str(&stream).map_err(|e| e.to_string())?;
    Ok(doc["spec"]["entrypoint"].as_str().unwrap_or_default().to_owned())
}

fn hostile_task(dir: &Path, name: &str, settings: &str) {
    let text = format!(
        "task echo(value: str) {{\n  image = \"rayproject/ray:2.60.0\"\n  entrypoint = \"printf %s. ${{value}}\"\n{settings}}}\n"
    );
    std::fs::write(dir.join(name), text).expect("writable");
}

#[test]
fn hostile_values_arrive_as_one_literal_word() {
    let work = tempfile::tempdir().expect("temp dir");
    hostile_task(work.path(), "http.rwf", "  submission_mode = \"HTTPMode\"\n");
    hostile_task(work.path(), "k8s.rwf", "  ray { ray_version = \"2.60.0\" }\n");
    let canary = work.path().join("pwned");
    for file in ["http.rwf", "k8s.rwf"] {
        for value in HOSTILE {
            let command = entrypoint(work.path(), file, value).unwrap_or_else(|e| panic!("{file} {value:?}: {e}"));
            let output = Command::new("sh")
                .arg("-c")
                .arg(&command)
                .current_dir(work.path())
                .output()
                .expect("sh runs");
            assert_eq!(
                String::from_utf8_lossy(&output.stdout),
                format!("{value}."),
                "{file}: {value:?} did not arrive as one word through `{command}`"
            );
            assert!(!canary.exists(), "{file}: {value:?} ran a command");
        }
    }
}

#[test]
fn hostile_values_are_rejected_in_k8sjobmode_without_ray_version() {
    let work = tempfile::tempdir().expect("temp dir");
    hostile_task(work.path(), "old.rwf", "");
    for value in HOSTILE {
        let error = entrypoint(work.path(), "old.rwf", value).expect_err("refused");
        assert!(error.contains("E0516"), "{value:?}: {error}");
    }
    assert_eq!(
        entrypoint(work.path(), "old.rwf", "s3://bucket/key-1.txt").as_deref(),
        Ok("printf %s. s3://bucket/key-1.txt")
    );
}

#[test]
fn kuberay_0_6_gets_v1alpha1_and_a_base64_runtime_env() {
    use base64::Engine;
    let work = tempfile::tempdir().expect("temp dir");
    let source = "task hello() {\n  image = \"rayproject/ray:2.9.0\"\n  entrypoint = \"python hello.py\"\n  \
                  ray { runtime_env { pip = [\"requests\"], env_vars = { MODE = \"fast\" } } }\n}\n";
    std::fs::write(work.path().join("job.rwf"), source).expect("writable");
    let output = rwfc(
        &[
            "build",
            "job.rwf",
            "--task",
            "hello",
            "--kuberay-version",
            "0.6",
            "-o",
            "-",
        ],
        work.path(),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let doc: serde_json::Value = serde_yaml::from_slice(&output.stdout).expect("YAML");
    assert_eq!(doc["apiVersion"], "ray.io/v1alpha1");
    assert!(doc["spec"].get("runtimeEnvYAML").is_none());
    let encoded = doc["spec"]["runtimeEnv"].as_str().expect("runtimeEnv is a string");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    let env: serde_json::Value = serde_json::from_slice(&decoded).expect("JSON inside");
    assert_eq!(
        env,
        serde_json::json!({ "env_vars": { "MODE": "fast" }, "pip": ["requests"] })
    );
    assert_eq!(
        doc["spec"]["rayClusterSpec"]["headGroupSpec"]["rayStartParams"],
        serde_json::json!({})
    );
}

#[test]
fn the_readme_shows_the_task_and_the_rayjob_it_becomes() {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let task = std::fs::read_to_string(repo().join("examples/readme.rwf")).expect("examples/readme.rwf");
    let output = rwfc(
        &["build", "readme.rwf", "--task", "train", "-o", "-"],
        &repo().join("examples"),
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rayjob = String::from_utf8_lossy(&output.stdout);
    support::validate_rayjob_yaml(&rayjob).expect("strictly valid");
    assert!(
        readme.contains(&format!("```rwf\n{task}```")),
        "README.md must show examples/readme.rwf as it is"
    );
    assert!(
        readme.contains(&format!("```yaml\n{rayjob}```")),
        "README.md must show today's RayJob:\n{rayjob}"
    );
    let graph = rwfc(
        &[
            "graph",
            "subworkflow.rwf",
            "--workflow",
            "train_and_evaluate",
            "--format",
            "mermaid",
        ],
        &repo().join("examples"),
    );
    let picture = String::from_utf8_lossy(&graph.stdout);
    assert!(
        readme.contains(&format!("```mermaid\n{picture}```")),
        "README.md must show today's graph:\n{picture}"
    );
}

#[test]
fn each_override_changes_only_its_own_call() {
    let work = tempfile::tempdir().expect("temp dir");
    let source = r#"task train(lr: float = 0.1) {
  image = "rayproject/ray:2.40.0"
  entrypoint = "python train.py --lr ${lr}"
  ray { worker "gpu" { replicas = 2, requests { cpu = 4, gpu = 1 } } }
}
workflow sweep() {
  let small = train() with { ray { worker "gpu" { replicas = 1 } } }
  let wide = train(lr = 0.2) with { ray { worker "gpu" { replicas = 8 } } }
  let newer = train() with { image = "rayproject/ray:2.41.0", retries = 3 }
  let plain = train() after small, wide, newer
}
"#;
    std::fs::write(work.path().join("sweep.rwf"), source).expect("writable");
    let output = rwfc(&["build", "sweep.rwf", "-o", "out"], work.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let job = |node: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(work.path().join(format!("out/sweep/rayjobs/{node}.yaml"))).expect("RayJob");
        support::validate_rayjob_yaml(&text).expect("strictly valid");
        serde_yaml::from_str(&text).expect("YAML")
    };
    let replicas = |j: &serde_json::Value| j["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"].clone();
    let image = |j: &serde_json::Value| {
        j["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["image"].clone()
    };
    let (small, wide, newer, plain) = (job("small"), job("wide"), job("newer"), job("plain"));
    assert_eq!([replicas(&small), replicas(&wide), replicas(&newer)], [1, 8, 2]);
    assert_eq!(wide["spec"]["entrypoint"], "python train.py --lr 0.2");
    assert_eq!(image(&newer), "rayproject/ray:2.41.0");
    assert_eq!(newer["spec"]["backoffLimit"], 3);
    // The call after all the overrides still gets the task as it is written.
    assert_eq!(replicas(&plain), 2);
    assert_eq!(image(&plain), "rayproject/ray:2.40.0");
    assert!(plain["spec"].get("backoffLimit").is_none());
    assert_eq!(plain["spec"]["entrypoint"], "python train.py --lr 0.1");
}

#[test]
fn output_stays_under_the_output_directory_whatever_the_names() {
    let work = tempfile::tempdir().expect("temp dir");
    let source = "task Hello_World() {\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"python hello.py\"\n}\n\
                  workflow Inner__Flow_() {\n  let Step__One_ = Hello_World()\n}\n\
                  workflow OUTER_flow() {\n  let sub__ = Inner__Flow_()\n  let x = Hello_World()\n}\n";
    std::fs::write(work.path().join("names.rwf"), source).expect("writable");
    let output = rwfc(&["build", "names.rwf", "-o", "out/nested"], work.path());
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let everything: Vec<String> = tree(work.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        everything,
        [
            "names.rwf",
            "out/nested/inner-flow/rayjobs/step-one.yaml",
            "out/nested/inner-flow/workflow.yaml",
            "out/nested/outer-flow/rayjobs/sub-step-one.yaml",
            "out/nested/outer-flow/rayjobs/x.yaml",
            "out/nested/outer-flow/workflow.yaml",
        ]
    );
}
