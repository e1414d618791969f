//! `rwfc run` end to end, against a real local Ray that `rwfc run` starts itself: outputs land
//! where §9 says, a downstream node sees a value computed from an upstream scalar output, a
//! failing node stops the run and a rerun of its id resumes, Ctrl-C stops the jobs and the head.
//!
//! Ray comes from the virtual environment `tools/test.sh` installs (`.venv/`), or from PATH.
//! Without it these tests say so and pass, unless `RWFC_REQUIRE_RAY` is set (as CI sets it).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One Ray head at a time: the machine has few cores.
static RAY: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with the repository's virtual environment first, when it has Ray; `None` (the test is
/// skipped) when no Ray can be found.
fn ray_path() -> Option<String> {
    let path = std::env::var("PATH").unwrap_or_default();
    let venv = repo().join(".venv/bin");
    let with_venv = format!("{}:{path}", venv.display());
    let found = std::env::split_paths(&with_venv).any(|dir| dir.join("ray").is_file());
    if found {
        return Some(with_venv);
    }
    assert!(
        std::env::var_os("RWFC_REQUIRE_RAY").is_none(),
        "RWFC_REQUIRE_RAY is set but no `ray` is on PATH or in .venv/bin: run tools/test.sh"
    );
    eprintln!("skipped: no `ray` on PATH or in .venv/bin (tools/test.sh installs it)");
    None
}

fn rwfc(args: &[&str], path: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env_remove("RAY_ADDRESS")
        .output()
        .expect("rwfc runs")
}

/// The processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
        .filter(|cmd| cmd.contains(needle))
        .collect()
}

/// Waits a little for the processes of a stopped head to be gone.
fn assert_no_ray_left(rwfc_pid: u32) {
    let needle = format!("rwf-ray-{rwfc_pid}");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !processes_with(&needle).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        processes_with(&needle),
        Vec::<String>::new(),
        "Ray processes were left behind"
    );
}

fn run_status(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !l.starts_with('['))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_pipeline_runs_and_its_outputs_land_where_the_reference_says() {
    let Some(path) = ray_path() else { return };
    let _one = RAY.lock().unwrap_or_else(|e| e.into_inner());
    let storage = tempfile::tempdir().expect("temp dir");
    let uri = format!("file://{}", storage.path().display());
    let output = rwfc(
        &[
            "run",
            "examples/local/pipeline.rwf",
            "--storage",
            &uri,
            "--run-id",
            "e2e",
        ],
        &path,
        &repo(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // `<storage>/<workflow>/<run-id>/<node>/<output>`
    let rows = std::fs::read_to_string(storage.path().join("pipeline/e2e/rows/result")).expect("rows written");
    assert_eq!(rows.trim(), "2100");
    // The training step got `--rows 2100` from the upstream output: its mean is that of 0..2100.
    let loss = std::fs::read_to_string(storage.path().join("pipeline/e2e/loss/result")).expect("loss written");
    assert_eq!(loss.trim(), "1049.5");
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(storage.path().join("pipeline/e2e/run.json")).expect("run.json"))
            .expect("JSON");
    for node in ["rows", "loss", "done"] {
        assert_eq!(record["nodes"][node]["state"], "succeeded", "{record}");
        assert!(record["nodes"][node]["job"].is_string(), "{record}");
    }
    assert!(
        stderr.contains("is ignored"),
        "the cluster shape is said to be ignored: {stderr}"
    );
}

#[test]
fn a_failing_node_stops_the_run_and_a_rerun_resumes_after_it() {
    let Some(path) = ray_path() else { return };
    let _one = RAY.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().expect("temp dir");
    let markers = work.path().join("markers");
    std::fs::create_dir(&markers).expect("markers dir");
    let uri = format!("file://{}", work.path().join("runs").display());
    let dir = format!("dir={}", markers.display());
    let args = |fail: &'static str| {
        vec![
            "run".to_owned(),
            "tests/run/chain.rwf".to_owned(),
            "--storage".to_owned(),
            uri.clone(),
            "--run-id".to_owned(),
            "resume".to_owned(),
            "--set".to_owned(),
            dir.clone(),
            "--set".to_owned(),
            format!("fail={fail}"),
        ]
    };
    let first = args("3");
    let output = rwfc(&first.iter().map(String::as_str).collect::<Vec<_>>(), &path, &repo());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(run_status(&stderr).contains("error: node `middle` failed"), "{stderr}");
    assert!(markers.join("first").exists() && markers.join("middle").exists());
    assert!(
        !markers.join("last").exists(),
        "a node after the failed one never starts"
    );

    // The cause fixed, the same run id: `first` is not run again.
    std::fs::remove_file(markers.join("first")).expect("marker");
    let second = args("0");
    let output = rwfc(&second.iter().map(String::as_str).collect::<Vec<_>>(), &path, &repo());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !markers.join("first").exists(),
        "the node that succeeded before was skipped"
    );
    assert!(markers.join("last").exists());
    assert!(stderr.contains("1 from an earlier run"), "{stderr}");
}

#[test]
fn ctrl_c_stops_the_running_jobs_and_the_head() {
    let Some(path) = ray_path() else { return };
    let _one = RAY.lock().unwrap_or_else(|e| e.into_inner());
    let work = tempfile::tempdir().expect("temp dir");
    let runs = work.path().join("runs");
    let uri = format!("file://{}", runs.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["run", "tests/run/sleep.rwf", "--storage", &uri, "--run-id", "nap"])
        .current_dir(repo())
        .env("PATH", &path)
        .env_remove("RAY_ADDRESS")
        .stderr(Stdio::piped())
        .spawn()
        .expect("rwfc starts");
    let rwfc_pid = child.id();
    let record = runs.join("sleeper/nap/run.json");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&record).is_ok_and(|t| t.contains("\"running\"")) {
        assert!(Instant::now() < deadline, "the first node never started");
        std::thread::sleep(Duration::from_millis(200));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(90);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("waitable") {
            break exit;
        }
        assert!(Instant::now() < deadline, "rwfc did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = child.wait_with_output().expect("stderr");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(exit.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let text = std::fs::read_to_string(&record).expect("run.json");
    assert!(
        text.contains("\"not started\""),
        "the second node never started: {text}"
    );
    assert_no_ray_left(rwfc_pid);
}

#[test]
fn missing_ray_unreachable_ray_and_remote_storage_are_usage_errors() {
    let dir = repo();
    let empty = tempfile::tempdir().expect("temp dir");
    let no_ray = format!("{}:/usr/bin:/bin", empty.path().display());
    let output = rwfc(&["run", "examples/local/pipeline.rwf"], &no_ray, &dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pip install \"ray[default]\""), "{stderr}");

    let output = rwfc(
        &[
            "run",
            "examples/local/pipeline.rwf",
            "--ray-address",
            "http://127.0.0.1:9",
        ],
        &no_ray,
        &dir,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no Ray dashboard answers"), "{stderr}");

    let output = rwfc(
        &["run", "examples/local/pipeline.rwf", "--storage", "s3://bucket/runs"],
        &no_ray,
        &dir,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("file://"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear error: {stderr}");
}

#[test]
fn a_fan_out_runs_every_element() {
    let Some(path) = ray_path() else { return };
    let _one = RAY.lock().unwrap_or_else(|e| e.into_inner());
    let storage = tempfile::tempdir().expect("temp dir");
    let uri = format!("file://{}", storage.path().display());
    let output = rwfc(
        &["run", "examples/local/sweep.rwf", "--storage", &uri, "--run-id", "fan"],
        &path,
        &repo(),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    for node in ["losses-0", "losses-1", "losses-2"] {
        let loss = std::fs::read_to_string(storage.path().join(format!("sweep/fan/{node}/result"))).expect("written");
        assert_eq!(loss.trim(), "999.5", "{node}");
    }
}
