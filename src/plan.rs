//! The evaluated program: what `rwfc build` turns into files. Each workflow is inlined into a
//! list of nodes, one per task call, each with its task configuration after argument
//! substitution and its call's override (language reference §3.5, §7, §8).

use crate::source::Span;
use crate::value::Value;

/// What to build, from the command line.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// `--workflow NAME`; every workflow of the main file when `None`.
    pub workflow: Option<String>,
    /// `--task NAME`: one task on its own.
    pub task: Option<String>,
    /// `--set NAME=VALUE`, in command-line order.
    pub sets: Vec<(String, String)>,
    pub run_id: Option<String>,
    pub storage: Option<String>,
    /// `storage` wins over the workflows' own `storage` settings (`rwfc run` keeps outputs on
    /// this machine).
    pub storage_first: bool,
    pub namespace: Option<String>,
    pub kuberay: crate::emit::KubeRayVersion,
    pub target: Target,
}

/// What carries the DAG (language reference §11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Target {
    /// The WorkflowPlan and one RayJob file per node.
    #[default]
    Kuberay,
    /// One Argo `Workflow` whose resource templates create the RayJobs.
    Argo,
}

/// Every workflow (or the one task) a build produces.
#[derive(Debug, Default)]
pub struct Plan {
    pub workflows: Vec<WorkflowPlan>,
}

#[derive(Debug)]
pub struct WorkflowPlan {
    /// The DNS-1035 name: the output directory and the prefix of RayJob names.
    pub name: String,
    /// `--task` builds: RayJob names are the task's name alone.
    pub single_task: bool,
    pub description: Option<String>,
    pub span: Span,
    pub params: Vec<PlanParam>,
    pub outputs: Vec<PlanOutput>,
    /// `None` when the run id is a run-time input (some parameter is unbound).
    pub run_id: Option<String>,
    /// In topological order.
    pub nodes: Vec<Node>,
}

#[derive(Debug)]
pub struct PlanParam {
    pub name: String,
    pub ty: String,
    pub default: Option<Value>,
    /// The value `--set` or the default gives; `None` when it is known only at run time.
    pub bound: Option<Value>,
}

#[derive(Debug)]
pub struct PlanOutput {
    pub name: String,
    pub ty: String,
    pub value: Value,
}

#[derive(Debug)]
pub struct Node {
    /// Normalised DNS-1035 node name, inlined workflows' `let` names joined with `-`.
    pub name: String,
    /// The `let` name, where diagnostics about the node point.
    pub name_span: Span,
    /// The call, for the `rwf.dev/source` annotation.
    pub call_span: Span,
    pub task: String,
    /// The task's name in its definition, where problems of the task itself point.
    pub task_span: Span,
    /// The task's fields after argument substitution and the call's override.
    pub config: Value,
    /// Workflow settings that reach this node, inner over outer.
    pub settings: Value,
    /// Indices into the workflow's nodes.
    pub dependencies: Vec<usize>,
    pub inputs: Vec<InputBinding>,
    /// Output name and the URI where the task writes it.
    pub outputs: Vec<(String, Value)>,
}

#[derive(Debug)]
pub struct InputBinding {
    pub param: String,
    pub source: InputSource,
}

#[derive(Debug)]
pub enum InputSource {
    Constant(Value),
    Parameter(String),
    Output {
        node: String,
        name: String,
    },
    /// Computed from run-time inputs.
    Expression(Value),
}
