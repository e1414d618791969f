//! rwfc: the compiler for rwf workflows of Ray jobs on Kubernetes.
//!
//! The library never prints, never exits and does no I/O: files reach it through the
//! [`FileSystem`] trait and results come back as values with their diagnostics.

pub mod argo;
pub mod ast;
pub mod check;
pub mod dag;
pub mod diagnostics;
pub mod emit;
pub mod format;
pub mod graph;
pub mod load;
pub mod lsp;
pub mod names;
pub mod parallel;
pub mod plan;
pub mod pod;
pub mod quantity;
pub mod resolve;
pub mod run;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod value;

pub use check::UsageError;
pub use plan::BuildOptions;

use check::Targets;
use diagnostics::{Diagnostic, Diagnostics};
use emit::EmittedJob;
use load::FileSystem;
use plan::WorkflowPlan;
use source::SourceMap;
use std::path::Path;

pub use parallel::STACK_BYTES;

/// The result of checking a file: every loaded source and every diagnostic, sorted.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// The result of a build: the files to write (none when there is any error).
pub struct Built {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// `Err` when the command line names nothing to build.
    pub workflows: Result<Vec<BuiltWorkflow>, UsageError>,
}

/// One output directory, `OUT/<name>/`.
pub struct BuiltWorkflow {
    pub name: String,
    /// Paths relative to the directory, with their contents, in a stable order.
    pub files: Vec<(String, String)>,
    /// What `-o -` writes, as indices into `files` (the text is not kept twice): the complete
    /// RayJobs, or with `--target argo` the Workflow.
    pub rayjobs: Vec<usize>,
    /// Nodes left as templates in the manifest.
    pub deferred: Vec<DeferredNode>,
    /// Parameters given no value: while there are any, the run id is a run-time input too.
    pub unbound: Vec<String>,
    /// Each node that waits for others, with the nodes it waits for.
    pub dependencies: Vec<(String, Vec<String>)>,
}

/// A node whose RayJob waits for run-time values.
pub struct DeferredNode {
    pub node: String,
    /// What it waits for, as text: parameters, upstream outputs, the run id.
    pub inputs: Vec<String>,
    /// JSON pointers of its deferred fields.
    pub fields: Vec<String>,
}

/// `rwfc check`: loads `main` (its path relative to `root`, and its bytes) with its imports,
/// resolves names, type-checks every item and instantiates every workflow and every task no
/// workflow calls, reporting what a build would. Each stage reports all it finds and goes on.
pub fn check(fs: &dyn FileSystem, root: &Path, main: &str, bytes: &[u8]) -> Checked {
    let mut diagnostics = Diagnostics::new();
    let program = load::load(fs, root, main, bytes, &mut diagnostics);
    let scopes = resolve::resolve(&program, &mut diagnostics);
    let options = BuildOptions::default();
    if let Ok(plan) = check::check(&program, &scopes, Targets::Check, &mut diagnostics) {
        emit::rayjob_name_collisions(&plan.workflows, &options, &mut diagnostics);
        emit_workflows(&plan.workflows, &mut diagnostics, |workflow, threads, found| {
            emit_nodes(workflow, &options, &program.sources, threads, found, drop);
        });
    }
    Checked {
        sources: program.sources,
        diagnostics: diagnostics.into_sorted(),
    }
}

/// `rwfc build`: everything `check` does for the targets `options` names, then the RayJobs
/// and workflow manifests, produced only when no error was found.
pub fn build(fs: &dyn FileSystem, root: &Path, main: &str, bytes: &[u8], options: &BuildOptions) -> Built {
    let mut diagnostics = Diagnostics::new();
    let program = load::load(fs, root, main, bytes, &mut diagnostics);
    let scopes = resolve::resolve(&program, &mut diagnostics);
    let plan = check::check(&program, &scopes, Targets::Build(options), &mut diagnostics);
    // Emission needs the source texts but not the syntax trees: freeing them first lowers the
    // peak memory by their size, the largest part of it.
    drop(scopes);
    let load::Program { sources, modules } = program;
    drop(modules);
    let workflows = plan.map(|plan| {
        emit::rayjob_name_collisions(&plan.workflows, options, &mut diagnostics);
        let mut built = emit_workflows(&plan.workflows, &mut diagnostics, |workflow, threads, found| {
            build_workflow(workflow, options, &sources, main, threads, found)
        });
        if diagnostics.has_errors() {
            built.clear();
        }
        built
    });
    Built {
        sources,
        diagnostics: diagnostics.into_sorted(),
        workflows,
    }
}

/// `rwfc run`: everything `build` does for one workflow (the one `options` names, or the
/// file's only one), with every parameter given a value, as what running it needs.
pub fn prepare_run(fs: &dyn FileSystem, root: &Path, main: &str, bytes: &[u8], options: &BuildOptions) -> Prepared {
    let mut diagnostics = Diagnostics::new();
    let program = load::load(fs, root, main, bytes, &mut diagnostics);
    let scopes = resolve::resolve(&program, &mut diagnostics);
    let plan = check::check(&program, &scopes, Targets::Build(options), &mut diagnostics);
    let run = plan.and_then(|plan| {
        let mut workflows = plan.workflows;
        let workflow = match workflows.len() {
            1 => workflows.remove(0),
            _ => {
                let names: Vec<&str> = workflows.iter().map(|w| w.name.as_str()).collect();
                return Err(UsageError(format!(
                    "the file has {} workflows ({}); name the one to run with `--workflow NAME`",
                    names.len(),
                    names.join(", ")
                )));
            }
        };
        let unbound: Vec<&str> = workflow
            .params
            .iter()
            .filter(|p| p.bound.is_none())
            .map(|p| p.name.as_str())
            .collect();
        if !unbound.is_empty() {
            return Err(UsageError(format!(
                "a run needs a value for every parameter: give {} with `--set NAME=VALUE`",
                unbound.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let jobs = emit_nodes(
            &workflow,
            options,
            &program.sources,
            parallel::available_threads(),
            &mut diagnostics,
            |job| job,
        );
        Ok(run_plan(workflow, jobs))
    });
    Prepared {
        sources: program.sources,
        diagnostics: diagnostics.into_sorted(),
        run,
    }
}

/// The result of preparing a run: meaningful only without errors.
pub struct Prepared {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub run: Result<run::RunPlan, UsageError>,
}

fn run_plan(workflow: WorkflowPlan, jobs: Vec<EmittedJob>) -> run::RunPlan {
    let params = workflow
        .params
        .iter()
        .filter_map(|p| Some((p.name.clone(), emit::manifest::value_json(p.bound.as_ref()?))))
        .collect();
    let nodes = workflow
        .nodes
        .into_iter()
        .zip(jobs)
        .map(|(node, job)| run::RunNode {
            outputs: node
                .outputs
                .iter()
                .filter_map(|(name, uri)| match &uri.kind {
                    value::ValueKind::Str(uri) => Some((name.clone(), uri.clone())),
                    _ => None,
                })
                .collect(),
            name: node.name,
            task: node.task,
            dependencies: node.dependencies,
            rayjob: job.rayjob,
            runtime_env: job.runtime_env.unwrap_or_else(|| serde_json::json!({})),
            deferred: job.deferred,
        })
        .collect();
    run::RunPlan {
        workflow: workflow.name,
        // Every parameter is bound, so the build computed one, unless `--run-id` gave it.
        run_id: workflow.run_id.unwrap_or_default(),
        params,
        nodes,
    }
}

/// `rwfc graph`: the DAG of the workflow `options` names (or of every workflow of the file).
pub fn graph(
    fs: &dyn FileSystem,
    root: &Path,
    main: &str,
    bytes: &[u8],
    options: &BuildOptions,
    format: graph::Format,
) -> Graphed {
    let mut diagnostics = Diagnostics::new();
    let program = load::load(fs, root, main, bytes, &mut diagnostics);
    let scopes = resolve::resolve(&program, &mut diagnostics);
    let text = check::check(&program, &scopes, Targets::Build(options), &mut diagnostics)
        .map(|plan| graph::render(&plan.workflows, format));
    Graphed {
        sources: program.sources,
        diagnostics: diagnostics.into_sorted(),
        text,
    }
}

/// The result of `rwfc graph`: the drawing, meaningful only without errors.
pub struct Graphed {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub text: Result<String, UsageError>,
}

/// The output directory of `workflow`: its manifest (unless it is a `--task` build), the YAML of
/// each complete RayJob, and the nodes left as templates. Its nodes are spread over `threads` threads.
fn build_workflow(
    workflow: &WorkflowPlan,
    options: &BuildOptions,
    sources: &SourceMap,
    main: &str,
    threads: usize,
    diagnostics: &mut Diagnostics,
) -> BuiltWorkflow {
    if options.target == plan::Target::Argo {
        let jobs = emit_nodes(workflow, options, sources, threads, diagnostics, |job| job);
        return argo_workflow(workflow, &jobs, diagnostics);
    }
    // A complete RayJob becomes its YAML text on the thread that emitted it, and its JSON is
    // freed there: the JSON trees of all the nodes, several times their text, are never held
    // at once. The manifest needs only the templates of deferred nodes.
    let (jobs, texts): (Vec<EmittedJob>, Vec<Option<String>>) =
        emit_nodes(workflow, options, sources, threads, diagnostics, |mut job| {
            let text = job.deferred.is_empty().then(|| emit::yaml::to_string(&job.rayjob));
            if text.is_some() {
                job.rayjob = serde_json::Value::Null;
            }
            (job, text)
        })
        .into_iter()
        .unzip();
    let mut files = Vec::with_capacity(jobs.len() + 1);
    let mut rayjobs = Vec::new();
    let mut deferred = Vec::new();
    if !workflow.single_task {
        let manifest = emit::manifest::workflow_plan(workflow, &jobs, main);
        files.push(("workflow.yaml".to_owned(), emit::yaml::to_string(&manifest)));
    }
    for (job, text) in jobs.into_iter().zip(texts) {
        match text {
            Some(text) => {
                rayjobs.push(files.len());
                files.push((format!("rayjobs/{}.yaml", job.node), text));
            }
            None => {
                let mut inputs = std::collections::BTreeSet::new();
                job.deferred
                    .iter()
                    .for_each(|d| emit::manifest::inputs_of(&d.expr, &mut inputs));
                deferred.push(DeferredNode {
                    node: job.node,
                    inputs: inputs.into_iter().collect(),
                    fields: job.deferred.iter().map(|d| d.pointer.clone()).collect(),
                });
            }
        }
    }
    BuiltWorkflow {
        name: workflow.name.clone(),
        files,
        rayjobs,
        deferred,
        unbound: workflow
            .params
            .iter()
            .filter(|p| p.bound.is_none())
            .map(|p| p.name.clone())
            .collect(),
        dependencies: workflow
            .nodes
            .iter()
            .filter(|node| !node.dependencies.is_empty())
            .map(|node| {
                let upstream = node
                    .dependencies
                    .iter()
                    .filter_map(|&d| workflow.nodes.get(d).map(|n| n.name.clone()))
                    .collect();
                (node.name.clone(), upstream)
            })
            .collect(),
    }
}

/// `OUT/<workflow>/argo/`: the Workflow to submit and the namespace's setup. Nothing waits
/// for an executor, so there are no deferred nodes and no order to warn about.
fn argo_workflow(workflow: &WorkflowPlan, jobs: &[EmittedJob], diagnostics: &mut Diagnostics) -> BuiltWorkflow {
    let files = match argo::build(workflow, jobs, diagnostics) {
        Some(argo) => vec![
            ("argo/setup.yaml".to_owned(), argo.setup),
            ("argo/workflow.yaml".to_owned(), argo.workflow),
        ],
        None => Vec::new(),
    };
    BuiltWorkflow {
        name: workflow.name.clone(),
        rayjobs: if files.is_empty() { Vec::new() } else { vec![1] },
        files,
        deferred: Vec::new(),
        unbound: Vec::new(),
        dependencies: Vec::new(),
    }
}

/// The RayJob of every node of `workflow`, in node order, each passed through `finish` on the
/// thread that emitted it (a check keeps none); the nodes are spread over `threads` threads.
fn emit_nodes<R: Send>(
    workflow: &WorkflowPlan,
    options: &BuildOptions,
    sources: &SourceMap,
    threads: usize,
    diagnostics: &mut Diagnostics,
    finish: impl Fn(EmittedJob) -> R + Sync,
) -> Vec<R> {
    in_parallel(&workflow.nodes, threads, diagnostics, |node, found| {
        finish(emit::rayjob(workflow, node, options, sources, found))
    })
}

/// `per_workflow` of every workflow, in order, given the number of threads it may spread the
/// workflow's nodes over: the workflows are spread over the machine's threads when there are
/// enough of them, else each workflow's nodes are (a program of one large workflow gains as much).
fn emit_workflows<R: Send>(
    workflows: &[WorkflowPlan],
    diagnostics: &mut Diagnostics,
    per_workflow: impl Fn(&WorkflowPlan, usize, &mut Diagnostics) -> R + Sync,
) -> Vec<R> {
    let threads = parallel::available_threads();
    if workflows.len() >= threads {
        in_parallel(workflows, threads, diagnostics, |workflow, found| {
            per_workflow(workflow, 1, found)
        })
    } else {
        workflows
            .iter()
            .map(|workflow| per_workflow(workflow, threads, diagnostics))
            .collect()
    }
}

/// `f` of every item, in order, with the items split into contiguous ranges over at most
/// `threads` threads (the current one included). Each range reports into diagnostics of its own,
/// appended to `diagnostics` in range order, so results and diagnostics are those of a run on
/// one thread.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    diagnostics: &mut Diagnostics,
    f: impl Fn(&T, &mut Diagnostics) -> R + Sync,
) -> Vec<R> {
    let ranges = parallel::map_ranges(items, threads, |range| {
        let mut found = Diagnostics::new();
        let results: Vec<R> = range.iter().map(|item| f(item, &mut found)).collect();
        (results, found)
    });
    let mut all = Vec::with_capacity(items.len());
    for (results, found) in ranges {
        all.extend(results);
        diagnostics.extend(found);
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use diagnostics::Code;

    /// Reports one of ten diagnostics, in an order unlike the items', so that ranges repeat what
    /// earlier ranges found.
    fn double(item: &usize, diagnostics: &mut Diagnostics) -> usize {
        diagnostics.push(Diagnostic::without_span(Code::E0101, format!("{}", item * 7 % 10)));
        item * 2
    }

    #[test]
    fn threads_give_the_results_and_diagnostics_of_one_thread() {
        let items: Vec<usize> = (0..23).collect();
        let mut alone = Diagnostics::new();
        let expected = in_parallel(&items, 1, &mut alone, double);
        let alone: Vec<Diagnostic> = alone.iter().cloned().collect();
        for threads in [2, 3, 8, 50] {
            let mut found = Diagnostics::new();
            assert_eq!(in_parallel(&items, threads, &mut found, double), expected, "{threads}");
            assert_eq!(found.iter().cloned().collect::<Vec<_>>(), alone, "{threads}");
        }
    }
}
