//! `rwfc run` (language reference §12): compiles one workflow as `build` does, then runs its
//! nodes on a local Ray through the Jobs API, in the order the library's scheduler decides.
//! This module moves bytes: processes, HTTP, files, the display.

use super::progress::Progress;
use super::ray::{tail, Head, Jobs};
use rwfc::run::scheduler::{Outcome, Scheduler, State};
use rwfc::run::{job_outcome, job_request, outputs_read, Record, RunPlan};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// How often running jobs are asked for their state.
const POLL: Duration = Duration::from_millis(500);
/// After Ctrl-C, how long the stopped jobs have to end.
const STOP_GRACE: Duration = Duration::from_secs(20);

#[derive(clap::Args)]
pub struct RunArgs {
    /// The `.rwf` file of the workflow.
    pub file: PathBuf,
    /// The workflow to run (needed when the file has several).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Bind a parameter: `NAME=VALUE`; every parameter without a default needs one.
    #[arg(long = "set", value_name = "NAME=VALUE", value_parser = crate::parse_set)]
    pub sets: Vec<(String, String)>,
    /// A running Ray's dashboard, such as `http://127.0.0.1:8265` (default: `RAY_ADDRESS`,
    /// else a Ray head started for the run and stopped after it).
    #[arg(long)]
    pub ray_address: Option<String>,
    /// Where outputs go, a `file://` URI (default: `.rwf/runs` under the root).
    #[arg(long)]
    pub storage: Option<String>,
    /// The run id; running the same id again skips the nodes that already succeeded
    /// (default: a hash of the sources and bindings).
    #[arg(long)]
    pub run_id: Option<String>,
    /// How many nodes may run at once (default: the number of cores).
    #[arg(long)]
    pub parallel: Option<usize>,
}

pub fn run(args: RunArgs, flags: &crate::Report) -> ExitCode {
    let input = match crate::read_input(&args.file, flags.root.as_deref()) {
        Ok(input) => input,
        Err(message) => return crate::fail(flags, &message),
    };
    let root = std::fs::canonicalize(&input.root).unwrap_or(input.root.clone());
    let storage = args
        .storage
        .clone()
        .unwrap_or_else(|| format!("file://{}", root.join(".rwf/runs").display()));
    let Some(storage_dir) = storage.strip_prefix("file://").map(PathBuf::from) else {
        return crate::fail(
            flags,
            &format!("`rwfc run` keeps outputs on this machine and cannot use `{storage}`: give `--storage file:///PATH` (or leave it out for `.rwf/runs`)"),
        );
    };
    let options = rwfc::BuildOptions {
        workflow: args.workflow.clone(),
        sets: args.sets.clone(),
        run_id: args.run_id.clone(),
        storage: Some(storage.clone()),
        storage_first: true,
        ..rwfc::BuildOptions::default()
    };
    let prepared = rwfc::prepare_run(&crate::OsFileSystem, &input.root, &input.main, &input.bytes, &options);
    let failed = crate::report(&prepared.diagnostics, &prepared.sources, flags);
    let plan = match prepared.run {
        Ok(plan) => plan,
        Err(rwfc::UsageError(message)) => return crate::fail(flags, &message),
    };
    if failed {
        return ExitCode::from(1);
    }
    let address = args.ray_address.clone().or_else(|| std::env::var("RAY_ADDRESS").ok());
    let head = match &address {
        Some(address) if !address.starts_with("http://") => {
            return crate::fail(
                flags,
                &format!("the Ray address `{address}` is not a dashboard URL: give one such as `http://127.0.0.1:8265`"),
            )
        }
        Some(_) => None,
        None => match find_ray() {
            None => {
                return crate::fail(
                    flags,
                    "no `ray` on PATH: install it with `pip install \"ray[default]\"`, or give `--ray-address` of a running Ray",
                )
            }
            Some(ray) => {
                eprintln!("starting a Ray head for the run…");
                match Head::start(&ray, &root) {
                    Ok(head) => Some(head),
                    Err(message) => return crate::fail(flags, &message),
                }
            }
        },
    };
    let address = head
        .as_ref()
        .map_or_else(|| address.unwrap_or_default(), |h| h.address.clone());
    let jobs = Jobs::new(&address);
    if let Err(error) = jobs.version() {
        return crate::fail(flags, &format!("no Ray dashboard answers at `{address}`: {error}"));
    }
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupted);
    // A second Ctrl-C while the jobs stop is the same request.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    let parallel = args
        .parallel
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let run_dir = storage_dir.join(&plan.workflow).join(&plan.run_id);
    let mut executor = Executor::new(&plan, &jobs, run_dir, parallel);
    eprintln!(
        "note: running `{}` (run id `{}`) on {address}; the cluster shape of its tasks does not apply on one machine and is ignored",
        plan.workflow, plan.run_id
    );
    let code = executor.run(&interrupted);
    drop(head);
    code
}

/// `ray` on PATH.
fn find_ray() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ray"))
        .find(|candidate| candidate.is_file())
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The path of a `file://` URI.
fn local_path(uri: &str) -> Option<PathBuf> {
    uri.strip_prefix("file://").map(PathBuf::from)
}

struct Executor<'p> {
    plan: &'p RunPlan,
    jobs: &'p Jobs,
    run_dir: PathBuf,
    scheduler: Scheduler,
    record: Record,
    /// The `(node, output)` pairs later nodes' deferred fields read, and those read so far.
    needed: std::collections::BTreeSet<(String, String)>,
    outputs: BTreeMap<(String, String), Json>,
    progress: Progress,
    /// The log tail of each failed node, shown at the end.
    logs: BTreeMap<usize, String>,
}

impl<'p> Executor<'p> {
    fn new(plan: &'p RunPlan, jobs: &'p Jobs, run_dir: PathBuf, parallel: usize) -> Executor<'p> {
        let record = std::fs::read_to_string(run_dir.join("run.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Record>(&text).ok())
            .unwrap_or_else(|| Record {
                workflow: plan.workflow.clone(),
                run_id: plan.run_id.clone(),
                nodes: BTreeMap::new(),
            });
        let resumed = record.succeeded(plan);
        let scheduler = Scheduler::new(
            plan.nodes.iter().map(|n| n.dependencies.clone()).collect(),
            &resumed,
            parallel,
        );
        let progress = Progress::new(
            plan.nodes.iter().map(|n| n.name.clone()).collect(),
            std::io::stderr().is_terminal(),
        );
        Executor {
            plan,
            jobs,
            run_dir,
            scheduler,
            record,
            needed: outputs_read(plan),
            outputs: BTreeMap::new(),
            progress,
            logs: BTreeMap::new(),
        }
    }

    fn run(&mut self, interrupted: &AtomicBool) -> ExitCode {
        // Outputs of nodes that succeeded in an earlier run of this id are read back first.
        for node in 0..self.plan.nodes.len() {
            if self.scheduler.state(node) == Some(&State::Resumed) {
                if let Err(reason) = self.read_outputs(node) {
                    self.progress.println(&format!("note: {reason}"));
                }
            }
        }
        let mut stopping_since: Option<Instant> = None;
        loop {
            if interrupted.load(Ordering::SeqCst) && stopping_since.is_none() {
                stopping_since = Some(Instant::now());
                self.progress.println("interrupted: stopping the running jobs…");
                self.scheduler.interrupt();
                for (_, job) in self.scheduler.running() {
                    let _ = self.jobs.stop(job);
                }
            }
            for node in self.scheduler.to_start() {
                self.start(node);
            }
            self.poll();
            self.save();
            self.progress.update(self.scheduler.states());
            if self.scheduler.finished() {
                break;
            }
            if stopping_since.is_some_and(|since| since.elapsed() > STOP_GRACE) {
                for (node, _) in self
                    .scheduler
                    .running()
                    .into_iter()
                    .map(|(n, j)| (n, j.to_owned()))
                    .collect::<Vec<_>>()
                {
                    self.scheduler
                        .ended(node, Outcome::Failed("it did not stop in time".into()));
                }
                self.save();
                break;
            }
            std::thread::sleep(POLL);
        }
        self.progress.update(self.scheduler.states());
        let progress = std::mem::replace(&mut self.progress, Progress::new(Vec::new(), false));
        progress.finish();
        self.summary(interrupted.load(Ordering::SeqCst))
    }

    /// Submits a node's job: its output folder made, its deferred fields evaluated. A node that
    /// cannot be submitted fails.
    fn start(&mut self, node: usize) {
        let Some(spec) = self.plan.nodes.get(node) else { return };
        for (_, uri) in &spec.outputs {
            if let Some(parent) = local_path(uri).as_deref().and_then(Path::parent) {
                if let Err(error) = std::fs::create_dir_all(parent) {
                    let reason = format!("cannot create `{}`: {error}", parent.display());
                    return self.scheduler.ended(node, Outcome::Failed(reason));
                }
            }
        }
        let submission = self.record.next_submission(self.plan, &spec.name);
        let submitted =
            job_request(self.plan, spec, &self.outputs, &submission).and_then(|request| self.jobs.submit(&request));
        let entry = self.record.nodes.entry(spec.name.clone()).or_default();
        entry.started_ms = Some(now_ms());
        entry.ended_ms = None;
        entry.reason = None;
        match submitted {
            Ok(job) => {
                entry.job = Some(job.clone());
                self.scheduler.started(node, job);
            }
            Err(reason) => self.scheduler.ended(node, Outcome::Failed(reason)),
        }
    }

    /// Asks Ray about every running job and reports the ones that ended.
    fn poll(&mut self) {
        let running: Vec<(usize, String)> = self
            .scheduler
            .running()
            .into_iter()
            .map(|(node, job)| (node, job.to_owned()))
            .collect();
        for (node, job) in running {
            let outcome = match self.jobs.status(&job) {
                Ok(status) => job_outcome(&status),
                Err(error) => Some(Outcome::Failed(format!("Ray does not answer about the job: {error}"))),
            };
            let outcome = match outcome {
                None => continue,
                Some(Outcome::Succeeded) => match self.read_outputs(node) {
                    Ok(()) => Outcome::Succeeded,
                    Err(reason) => Outcome::Failed(reason),
                },
                Some(failed) => failed,
            };
            if matches!(outcome, Outcome::Failed(_)) {
                if let Ok(logs) = self.jobs.logs(&job) {
                    self.logs.insert(node, tail(&logs, 20));
                }
            }
            self.scheduler.ended(node, outcome);
        }
    }

    /// Reads back the outputs of `node` that later nodes' deferred fields need, as JSON.
    fn read_outputs(&mut self, node: usize) -> Result<(), String> {
        let Some(spec) = self.plan.nodes.get(node) else {
            return Ok(());
        };
        for (name, uri) in &spec.outputs {
            if !self.needed.contains(&(spec.name.clone(), name.clone())) {
                continue;
            }
            let path =
                local_path(uri).ok_or_else(|| format!("the output `{name}` of `{}` is not a file", spec.name))?;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("`{}` wrote no output `{name}` at `{}`: {e}", spec.name, path.display()))?;
            let value = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "the output `{name}` of `{}` at `{}` is not JSON: {e}",
                    spec.name,
                    path.display()
                )
            })?;
            self.outputs.insert((spec.name.clone(), name.clone()), value);
        }
        Ok(())
    }

    /// Writes `run.json` (atomically: a new file renamed over the old one).
    fn save(&mut self) {
        for (node, spec) in self.plan.nodes.iter().enumerate() {
            let Some(state) = self.scheduler.state(node) else {
                continue;
            };
            if *state == State::Resumed {
                continue;
            }
            let entry = self.record.nodes.entry(spec.name.clone()).or_default();
            entry.state = state.name().to_owned();
            if let State::Failed { reason, .. } = state {
                entry.reason = Some(reason.clone());
            }
            if state.is_done() && entry.ended_ms.is_none() && entry.started_ms.is_some() {
                entry.ended_ms = Some(now_ms());
            }
        }
        let Ok(text) = serde_json::to_string_pretty(&self.record) else {
            return;
        };
        if std::fs::create_dir_all(&self.run_dir).is_err() {
            return;
        }
        let fresh = self.run_dir.join(format!(".run.json.{}", std::process::id()));
        if std::fs::write(&fresh, text).is_ok() {
            let _ = std::fs::rename(&fresh, self.run_dir.join("run.json"));
        }
    }

    fn summary(&self, interrupted: bool) -> ExitCode {
        let states = self.scheduler.states();
        let count = |name: &str| states.iter().filter(|s| s.name() == name).count();
        for node in self.scheduler.failed() {
            if let (Some(spec), Some(State::Failed { reason, .. })) = (self.plan.nodes.get(node), states.get(node)) {
                eprintln!("error: node `{}` failed: {reason}", spec.name);
                if let Some(logs) = self.logs.get(&node).filter(|l| !l.is_empty()) {
                    eprintln!("--- last lines of its log ---\n{logs}\n---");
                }
            }
        }
        let resumed = states.iter().filter(|s| **s == State::Resumed).count();
        let mut summary = format!(
            "{} succeeded ({resumed} from an earlier run), {} failed, {} not started",
            count("succeeded"),
            count("failed"),
            count("not started")
        );
        if interrupted {
            summary.push_str("; interrupted");
        }
        eprintln!(
            "run `{}` of `{}`: {summary}; record in `{}`",
            self.plan.run_id,
            self.plan.workflow,
            self.run_dir.join("run.json").display()
        );
        if self.scheduler.succeeded() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
    }
}
