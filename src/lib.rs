//! rwfc: the compiler for rwf workflows of Ray jobs on Kubernetes.
//!
//! The library never prints, never exits and does no I/O: files reach it through the
//! [`FileSystem`] trait and results come back as values with their diagnostics.

pub mod ast;
pub mod check;
pub mod dag;
pub mod diagnostics;
pub mod emit;
pub mod graph;
pub mod load;
pub mod names;
pub mod parallel;
pub mod plan;
pub mod pod;
pub mod quantity;
pub mod resolve;
pub mod source;
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod value;

pub use check::UsageError;
pub use plan::BuildOptions;

use check::Targets;
use diagnostics::{Diagnostic, Diagnostics};
use load::FileSystem;
use source::SourceMap;
use std::path::Path;

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
    /// The complete RayJobs, for `-o -`: indices into `files` (the text is not kept twice).
    pub rayjobs: Vec<usize>,
    /// Nodes left as templates in the manifest.
    pub deferred: Vec<DeferredNode>,
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
        for workflow in &plan.workflows {
            for node in &workflow.nodes {
                emit::rayjob(workflow, node, &options, &program.sources, &mut diagnostics);
            }
        }
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
    let workflows = check::check(&program, &scopes, Targets::Build(options), &mut diagnostics).map(|plan| {
        let mut built = Vec::new();
        for workflow in &plan.workflows {
            let jobs: Vec<emit::EmittedJob> = workflow
                .nodes
                .iter()
                .map(|node| emit::rayjob(workflow, node, options, &program.sources, &mut diagnostics))
                .collect();
            let mut files = Vec::new();
            let mut rayjobs = Vec::new();
            let mut deferred = Vec::new();
            if !workflow.single_task {
                let manifest = emit::manifest::workflow_plan(workflow, &jobs, main);
                files.push(("workflow.yaml".to_owned(), emit::yaml::to_string(&manifest)));
            }
            for job in &jobs {
                if job.deferred.is_empty() {
                    let text = emit::yaml::to_string(&job.rayjob);
                    rayjobs.push(files.len());
                    files.push((format!("rayjobs/{}.yaml", job.node), text));
                } else {
                    let mut inputs = std::collections::BTreeSet::new();
                    job.deferred
                        .iter()
                        .for_each(|d| emit::manifest::inputs_of(&d.expr, &mut inputs));
                    deferred.push(DeferredNode {
                        node: job.node.clone(),
                        inputs: inputs.into_iter().collect(),
                        fields: job.deferred.iter().map(|d| d.pointer.clone()).collect(),
                    });
                }
            }
            built.push(BuiltWorkflow {
                name: workflow.name.clone(),
                files,
                rayjobs,
                deferred,
            });
        }
        if diagnostics.has_errors() {
            built.clear();
        }
        built
    });
    Built {
        sources: program.sources,
        diagnostics: diagnostics.into_sorted(),
        workflows,
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
