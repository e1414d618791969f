//! The Argo target (language reference §11): one Argo `Workflow` whose DAG has a task per node,
//! each a `resource` template that creates the node's RayJob, as the RayJob emitter built it,
//! and waits for it; and the namespace's RBAC to run it. No I/O here: texts come back to
//! `lib.rs`, which returns them as files.

pub mod expr;
mod manifest;

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::emit::{self, EmittedJob};
use crate::names::shorten;
use crate::plan::{Node, WorkflowPlan};
use crate::source::Span;
use crate::value::{Sym, Value, ValueKind};
use expr::{Problem, Translator};
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap};

/// The ServiceAccount every step runs as, bound to the Role of `setup.yaml`.
pub const SERVICE_ACCOUNT: &str = "rwf-runner";
/// Argo's caps under its full CRD, and the controller's bound on an object's JSON.
pub const MAX_TEMPLATES: usize = 200;
pub const MAX_TASKS: usize = 200;
pub const MAX_OBJECT_BYTES: usize = 1024 * 1024;
/// Task and template names: `^[a-zA-Z0-9][-a-zA-Z0-9]*$`, at most 128 characters.
const MAX_ARGO_NAME: usize = 128;
/// A RayJob `generateName` prefix: 47 characters less the 5 Kubernetes appends.
const MAX_GENERATE_NAME: usize = 42;
/// Workflow names are at most 63 characters; Argo appends 5 to `generateName`.
const MAX_WORKFLOW_PREFIX: usize = 58;
/// Kept after a run: a success an hour, a failure a day, to look at; the RayJobs go with it.
const SECONDS_AFTER_SUCCESS: u64 = 3600;
const SECONDS_AFTER_FAILURE: u64 = 86400;
/// The template timeout is a backstop behind the RayJob's own deadline, never before it.
const BACKSTOP_MARGIN_SECONDS: i64 = 3600;

const SUCCESS: &str = "status.jobDeploymentStatus == Complete, status.jobStatus == SUCCEEDED";
/// Comma means OR in a failure condition (reference §3). `jobStatus == FAILED` is not here: with
/// `backoffLimit > 0` KubeRay keeps it while it retries.
const FAILURE: &str = "status.jobDeploymentStatus in (Failed, ValidationFailed), status.jobStatus == STOPPED";

/// The files of the Argo target: the Workflow to submit and the namespace's setup.
pub struct ArgoFiles {
    pub workflow: String,
    pub setup: String,
}

/// The Argo objects of `workflow`, whose nodes were emitted as `jobs` (same order); `None`
/// after reporting why they cannot be written.
pub fn build(workflow: &WorkflowPlan, jobs: &[EmittedJob], diagnostics: &mut Diagnostics) -> Option<ArgoFiles> {
    let before = diagnostics.error_count();
    let reported_braces = braces_in_program(workflow, diagnostics);
    let translator = Translator {
        params: &workflow.params,
        run_id: "workflow.name",
    };
    let names = argo_names(workflow, diagnostics);
    let mut templates = Vec::with_capacity(jobs.len() + 1);
    let mut tasks = Vec::with_capacity(jobs.len());
    for ((node, job), (task, template)) in workflow.nodes.iter().zip(jobs).zip(&names) {
        let Some(resource) =
            resource_template(workflow, node, job, template, &translator, reported_braces, diagnostics)
        else {
            continue;
        };
        if json_len(&resource) > MAX_OBJECT_BYTES / 2 {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0702,
                    node.name_span,
                    format!("the Argo template of `{}` alone is over half of Argo's 1 MiB bound", node.name),
                    "this node",
                )
                .help("no layout gives it room: make its RayJob smaller (fewer or shorter labels, annotations, pod template fields, runtime env)"),
            );
        }
        templates.push(resource);
        let depends: Vec<String> = node
            .dependencies
            .iter()
            .filter_map(|&d| names.get(d))
            .map(|(task, _)| format!("{task}.Succeeded"))
            .collect();
        let mut entry = json!({ "name": task, "template": template });
        if !depends.is_empty() {
            entry["depends"] = json!(depends.join(" && "));
        }
        tasks.push(entry);
    }
    if diagnostics.error_count() > before {
        return None;
    }
    templates.insert(0, json!({ "name": "dag", "dag": { "tasks": tasks } }));
    let object = workflow_object(workflow, templates);
    within_limits(workflow, &object, diagnostics).then(|| ArgoFiles {
        workflow: emit::yaml::to_string(&object),
        setup: setup(),
    })
}

fn json_len(value: &Json) -> usize {
    serde_json::to_string(value).map_or(usize::MAX, |s| s.len())
}

/// E0702 when the Workflow breaks a cap: the tasks and templates of one DAG, or the size.
fn within_limits(workflow: &WorkflowPlan, object: &Json, diagnostics: &mut Diagnostics) -> bool {
    let templates = object
        .pointer("/spec/templates")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    let bytes = json_len(object);
    let problem = if templates > MAX_TEMPLATES || workflow.nodes.len() > MAX_TASKS {
        format!(
            "`{}` has {} nodes: one Argo Workflow holds at most {} templates and {MAX_TASKS} tasks per DAG",
            workflow.name,
            workflow.nodes.len(),
            MAX_TEMPLATES
        )
    } else if bytes >= MAX_OBJECT_BYTES {
        format!(
            "the Argo Workflow of `{}` is {bytes} bytes of JSON, over Argo's 1 MiB bound",
            workflow.name
        )
    } else {
        return true;
    };
    diagnostics.push(
        Diagnostic::new(Code::E0702, workflow.span, problem, "this workflow").help(
            "rwfc does not yet split a workflow into WorkflowTemplates: split it into smaller workflows, or build it for `--target kuberay`",
        ),
    );
    false
}

/// The task and template name of every node: Argo's pattern holds for DNS-1035 node names;
/// long ones are shortened, and two that then meet are E0102.
fn argo_names(workflow: &WorkflowPlan, diagnostics: &mut Diagnostics) -> Vec<(String, String)> {
    let mut seen: HashMap<String, &Node> = HashMap::new();
    let mut names = Vec::with_capacity(workflow.nodes.len());
    for node in &workflow.nodes {
        let task = shorten(&node.name, MAX_ARGO_NAME);
        let template = shorten(&format!("rayjob-{}", node.name), MAX_ARGO_NAME);
        if let Some(earlier) = seen.insert(task.clone(), node) {
            diagnostics.push(
                Diagnostic::new(
                    Code::E0102,
                    node.name_span,
                    format!(
                        "the nodes `{}` and `{}` both become the Argo task `{task}`",
                        earlier.name, node.name
                    ),
                    "second node",
                )
                .label(earlier.name_span, "first node")
                .help("Argo task names are at most 128 characters: rename one of the `let` bindings"),
            );
        }
        names.push((task, template));
    }
    names
}

/// The `resource` template that creates `job` and waits for it to succeed.
fn resource_template(
    workflow: &WorkflowPlan,
    node: &Node,
    job: &EmittedJob,
    name: &str,
    translator: &Translator,
    reported_braces: bool,
    diagnostics: &mut Diagnostics,
) -> Option<Json> {
    if let Some(pointer) = braces_in_job(job).filter(|_| !reported_braces) {
        diagnostics.push(
            Diagnostic::new(
                Code::E0701,
                node.call_span,
                format!(
                    "the RayJob of `{}` would carry `{{{{` at `{pointer}` into the Argo Workflow",
                    node.name
                ),
                "the text comes from this call's arguments or the command line",
            )
            .help("Argo reads `{{` as the start of a template tag and cannot escape it: remove it from the value"),
        );
        return None;
    }
    let generate_name = match emit::rayjob_name_within(workflow, node, MAX_GENERATE_NAME - 1) {
        Ok(name) => Ok(format!("{name}-")),
        Err(sym) => Err(Sym::Op("concat", vec![sym, Sym::Lit(ValueKind::Str("-".into()))]).to_json()),
    };
    let text = match manifest::manifest(job, generate_name, translator) {
        Ok(text) => text,
        Err(mut problems) => {
            // Requests and limits mirror each other: one problem, one diagnostic.
            problems.dedup_by(|a, b| a.problem == b.problem);
            problems.into_iter().for_each(|p| report(node, p, diagnostics));
            return None;
        }
    };
    let mut template = json!({
        "name": name,
        "resource": {
            "action": "create",
            "setOwnerReference": true,
            "successCondition": SUCCESS,
            "failureCondition": FAILURE,
            "manifest": text,
        },
        "outputs": { "parameters": [{ "name": "rayjob-name", "valueFrom": { "jsonPath": "{.metadata.name}" } }] },
    });
    if let Some(seconds) = backstop(&job.rayjob) {
        template["timeout"] = json!(format!("{seconds}s"));
    }
    Some(template)
}

/// The template timeout behind a RayJob deadline: every attempt's deadline, plus a margin.
fn backstop(rayjob: &Json) -> Option<i64> {
    let deadline = rayjob.pointer("/spec/activeDeadlineSeconds").and_then(Json::as_i64)?;
    let attempts = rayjob.pointer("/spec/backoffLimit").and_then(Json::as_i64).unwrap_or(0) + 1;
    deadline.checked_mul(attempts)?.checked_add(BACKSTOP_MARGIN_SECONDS)
}

fn report(node: &Node, unexpressible: manifest::Unexpressible, diagnostics: &mut Diagnostics) {
    let pointer = unexpressible.pointer;
    let diagnostic = match unexpressible.problem {
        Problem::Output { node: upstream, name } => Diagnostic::new(
            Code::E0703,
            node.call_span,
            format!("`{}` needs the output `{name}` of `{upstream}` at run time (for `{pointer}`), which the Argo target cannot read yet", node.name),
            "reads an upstream scalar output",
        )
        .help("the Argo target reads no output URI in this version: pass the value as a workflow parameter, or build for `--target kuberay`"),
        Problem::Unsupported(what) => Diagnostic::new(
            Code::E0704,
            node.call_span,
            format!("`{}` computes `{pointer}` at run time with {what}, which Argo's expressions cannot compute exactly", node.name),
            "the run-time value comes from this call",
        )
        .help("bind the value at build time with `--set`, or compute it with integers, strings and the operators of §9.1 that the Argo target supports"),
    };
    diagnostics.push(diagnostic);
}

/// E0701 for every program text that reaches the Argo objects with `{{`: a task's fields after
/// its arguments, and the workflow settings the node receives. Each text is reported once;
/// true when there was one.
fn braces_in_program(workflow: &WorkflowPlan, diagnostics: &mut Diagnostics) -> bool {
    let mut spans = BTreeSet::new();
    for node in &workflow.nodes {
        collect_braces(&node.config, &mut spans);
        collect_braces(&node.settings, &mut spans);
    }
    let found = !spans.is_empty();
    for span in spans {
        diagnostics.push(
            Diagnostic::new(
                Code::E0701,
                span,
                "this text would reach an Argo object with `{{` in it",
                "holds `{{`",
            )
            .help("Argo reads `{{` as the start of a template tag and cannot escape it: remove it, or build for `--target kuberay`"),
        );
    }
    found
}

fn collect_braces(value: &Value, spans: &mut BTreeSet<Span>) {
    match &value.kind {
        ValueKind::Str(s) if s.contains("{{") => {
            spans.insert(value.span);
        }
        ValueKind::Deferred(sym) if sym_has_braces(sym) => {
            spans.insert(value.span);
        }
        ValueKind::Command(parts) => {
            let text = parts.iter().any(|part| match part {
                crate::value::CommandPart::Text(t) => t.contains("{{"),
                crate::value::CommandPart::Value(v) => {
                    collect_braces(v, spans);
                    false
                }
            });
            if text {
                spans.insert(value.span);
            }
        }
        ValueKind::List(items) => items.iter().for_each(|i| collect_braces(i, spans)),
        ValueKind::Record(entries) => {
            for entry in entries {
                if entry.key.contains("{{") {
                    spans.insert(entry.key_span);
                }
                collect_braces(&entry.value, spans);
            }
        }
        _ => {}
    }
}

fn sym_has_braces(sym: &Sym) -> bool {
    match sym {
        Sym::Lit(ValueKind::Str(s)) => s.contains("{{"),
        Sym::Op(_, args) => args.iter().any(sym_has_braces),
        _ => false,
    }
}

/// Where the finished RayJob, or a literal of its deferred expressions, still holds `{{`: text
/// that came from the command line (`--storage`, `--namespace`) rather than the program.
fn braces_in_job(job: &EmittedJob) -> Option<String> {
    fn find(value: &Json, at: String) -> Option<String> {
        match value {
            Json::String(s) if s.contains("{{") => Some(at),
            Json::Array(items) => items.iter().enumerate().find_map(|(i, v)| find(v, format!("{at}/{i}"))),
            Json::Object(map) => map.iter().find_map(|(k, v)| {
                let at = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if k.contains("{{") {
                    Some(at)
                } else {
                    find(v, at)
                }
            }),
            _ => None,
        }
    }
    find(&job.rayjob, String::new()).or_else(|| {
        job.deferred
            .iter()
            .find(|d| find(&d.expr, String::new()).is_some())
            .map(|d| d.pointer.clone())
    })
}

fn workflow_object(workflow: &WorkflowPlan, templates: Vec<Json>) -> Json {
    let parameters: Vec<Json> = workflow
        .params
        .iter()
        .filter(|p| p.bound.is_none())
        .map(|p| json!({ "name": p.name, "description": format!("rwf parameter `{}` of type `{}`", p.name, p.ty) }))
        .collect();
    let prefix = shorten(&workflow.name, MAX_WORKFLOW_PREFIX - 1);
    let mut spec = json!({
        "entrypoint": "dag",
        "serviceAccountName": SERVICE_ACCOUNT,
        "podGC": { "strategy": "OnPodSuccess" },
        "ttlStrategy": {
            "secondsAfterSuccess": SECONDS_AFTER_SUCCESS,
            "secondsAfterFailure": SECONDS_AFTER_FAILURE,
        },
        "templates": templates,
    });
    if !parameters.is_empty() {
        spec["arguments"] = json!({ "parameters": parameters });
    }
    emit::object([
        ("apiVersion", "argoproj.io/v1alpha1".into()),
        ("kind", "Workflow".into()),
        (
            "metadata",
            json!({
                "generateName": format!("{prefix}-"),
                "labels": { "app.kubernetes.io/managed-by": "rwfc", "rwf.dev/workflow": shorten(&workflow.name, 63) },
            }),
        ),
        ("spec", spec),
    ])
}

/// The ServiceAccount the steps run as and the least rights of reference §6: the executor's
/// task results, and creating and reading RayJobs (the wait and the output are GETs); updating
/// workflow finalizers lets `setOwnerReference` work where owner references are enforced.
fn setup() -> String {
    let labels = json!({ "app.kubernetes.io/managed-by": "rwfc" });
    let objects = [
        json!({
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": { "name": SERVICE_ACCOUNT, "labels": labels },
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": { "name": SERVICE_ACCOUNT, "labels": labels },
            "rules": [
                { "apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"] },
                { "apiGroups": ["argoproj.io"], "resources": ["workflows/finalizers"], "verbs": ["update"] },
                { "apiGroups": ["ray.io"], "resources": ["rayjobs"], "verbs": ["create", "get"] },
            ],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": { "name": SERVICE_ACCOUNT, "labels": labels },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SERVICE_ACCOUNT },
            "subjects": [{ "kind": "ServiceAccount", "name": SERVICE_ACCOUNT }],
        }),
    ];
    let texts: Vec<String> = objects.iter().map(emit::yaml::to_string).collect();
    texts.join("---\n")
}
