//! The workflow manifest (`rwf.dev/v1alpha1` `WorkflowPlan`, language reference §9): the
//! execution plan an executor follows, with each node's RayJob file or template and its
//! deferred fields. Its JSON Schema is `schemas/workflow-plan.schema.json`.

use super::{object, EmittedJob};
use crate::names::normalise;
use crate::plan::{InputSource, WorkflowPlan};
use crate::value::{Value, ValueKind};
use serde_json::{json, Map, Value as Json};

/// A value in the manifest: plain JSON when known, `{"expression": ...}` when deferred.
pub fn value_json(value: &Value) -> Json {
    match &value.kind {
        ValueKind::Bool(b) => json!(b),
        ValueKind::Int(n) => json!(n),
        ValueKind::Float(x) => json!(x),
        ValueKind::Str(s) => json!(s),
        ValueKind::Quantity(q) => json!(q.canonical()),
        ValueKind::Duration(d) => json!(d.millis() / 1000),
        ValueKind::List(items) => Json::Array(items.iter().map(value_json).collect()),
        ValueKind::Record(entries) => {
            Json::Object(entries.iter().map(|e| (e.key.clone(), value_json(&e.value))).collect())
        }
        ValueKind::Secret { name, key } => json!({ "secret": { "name": name, "key": key } }),
        ValueKind::Deferred(sym) => json!({ "expression": sym.to_json() }),
        ValueKind::Command(_) | ValueKind::None | ValueKind::Unknown => Json::Null,
    }
}

/// The manifest of `workflow`, whose nodes were emitted as `jobs` (same order).
pub fn workflow_plan(workflow: &WorkflowPlan, jobs: &[EmittedJob], source: &str) -> Json {
    let mut spec = Map::new();
    if let Some(description) = &workflow.description {
        spec.insert("description".into(), json!(description));
    }
    spec.insert("source".into(), json!(source));
    spec.insert(
        "runId".into(),
        match &workflow.run_id {
            Some(id) => json!({ "value": id }),
            None => json!({ "input": true }),
        },
    );
    let parameters: Vec<Json> = workflow
        .params
        .iter()
        .map(|p| {
            let mut param = Map::new();
            param.insert("name".into(), json!(p.name));
            param.insert("type".into(), json!(p.ty));
            if let Some(default) = &p.default {
                param.insert("default".into(), value_json(default));
            }
            if let Some(bound) = &p.bound {
                param.insert("bound".into(), value_json(bound));
            }
            Json::Object(param)
        })
        .collect();
    spec.insert("parameters".into(), Json::Array(parameters));
    let outputs: Vec<Json> = workflow
        .outputs
        .iter()
        .map(|o| json!({ "name": o.name, "type": o.ty, "value": value_json(&o.value) }))
        .collect();
    spec.insert("outputs".into(), Json::Array(outputs));
    let nodes: Vec<Json> = workflow
        .nodes
        .iter()
        .zip(jobs)
        .map(|(node, job)| {
            let mut out = Map::new();
            out.insert("name".into(), json!(node.name));
            out.insert("task".into(), json!(normalise(&node.task)));
            if let Some(name) = &job.name {
                out.insert("rayJobName".into(), json!(name));
            }
            if job.deferred.is_empty() {
                out.insert("rayJobFile".into(), json!(format!("rayjobs/{}.yaml", node.name)));
            } else {
                out.insert("rayJobTemplate".into(), job.rayjob.clone());
            }
            let dependencies: Vec<&str> = node
                .dependencies
                .iter()
                .filter_map(|d| workflow.nodes.get(*d).map(|n| n.name.as_str()))
                .collect();
            out.insert("dependencies".into(), json!(dependencies));
            let inputs: Vec<Json> = node
                .inputs
                .iter()
                .map(|input| {
                    let source = match &input.source {
                        InputSource::Constant(v) => json!({ "constant": value_json(v) }),
                        InputSource::Parameter(p) => json!({ "parameter": p }),
                        InputSource::Output { node, name } => json!({ "output": { "node": node, "name": name } }),
                        InputSource::Expression(v) => match &v.kind {
                            ValueKind::Deferred(sym) => json!({ "expression": sym.to_json() }),
                            _ => json!({ "constant": value_json(v) }),
                        },
                    };
                    let mut binding = Map::new();
                    binding.insert("param".into(), json!(input.param));
                    if let Json::Object(source) = source {
                        binding.extend(source);
                    }
                    Json::Object(binding)
                })
                .collect();
            out.insert("inputs".into(), Json::Array(inputs));
            let outputs: Vec<Json> = node
                .outputs
                .iter()
                .map(|(name, uri)| match &uri.kind {
                    ValueKind::Deferred(sym) => json!({ "name": name, "uri": { "expression": sym.to_json() } }),
                    _ => json!({ "name": name, "uri": value_json(uri) }),
                })
                .collect();
            out.insert("outputs".into(), Json::Array(outputs));
            let deferred: Vec<Json> = job
                .deferred
                .iter()
                .map(|d| {
                    let mut field = Map::new();
                    field.insert("pointer".into(), json!(d.pointer));
                    if let Some(path) = &d.yaml_path {
                        field.insert("yamlPath".into(), json!(path));
                    }
                    field.insert("type".into(), json!(d.ty));
                    if let Some(quoting) = d.quoting {
                        field.insert("quoting".into(), json!(quoting));
                    }
                    field.insert("expression".into(), d.expr.clone());
                    if !d.checked.is_empty() {
                        field.insert("safeWords".into(), Json::Array(d.checked.clone()));
                    }
                    Json::Object(field)
                })
                .collect();
            out.insert("deferred".into(), Json::Array(deferred));
            Json::Object(out)
        })
        .collect();
    spec.insert("nodes".into(), Json::Array(nodes));
    object([
        ("apiVersion", "rwf.dev/v1alpha1".into()),
        ("kind", "WorkflowPlan".into()),
        ("metadata", object([("name", workflow.name.as_str().into())])),
        ("spec", Json::Object(spec)),
    ])
}

/// The run-time inputs an expression waits for, for notes: parameters, upstream outputs and
/// the run id.
pub fn inputs_of(expr: &Json, into: &mut std::collections::BTreeSet<String>) {
    if let Some(Json::String(name)) = expr.get("param") {
        into.insert(format!("`{name}`"));
    } else if let Some(output) = expr.get("output") {
        let node = output.get("node").and_then(Json::as_str).unwrap_or_default();
        let name = output.get("name").and_then(Json::as_str).unwrap_or_default();
        into.insert(format!("the output `{name}` of `{node}`"));
    } else if expr.get("run_id").is_some() {
        into.insert("the run id".to_owned());
    } else if let Some(Json::Array(args)) = expr.get("args") {
        args.iter().for_each(|a| inputs_of(a, into));
    }
}
