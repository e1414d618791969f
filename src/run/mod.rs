//! `rwfc run` (language reference §12): what running a workflow on a local Ray needs, decided
//! here without I/O. The compiled plan of one workflow ([`RunPlan`]), the order of its nodes
//! ([`scheduler`]), the values of deferred fields ([`eval`]), each node's request to Ray's Jobs
//! API ([`job_request`]) and the record of the run (`run.json`, [`Record`]). The binary owns
//! processes, HTTP and files.

pub mod eval;
pub mod scheduler;

use crate::emit::DeferredField;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};
use std::collections::{BTreeMap, BTreeSet};

/// One workflow, compiled for a run: every parameter bound and the run id known.
#[derive(Debug)]
pub struct RunPlan {
    pub workflow: String,
    pub run_id: String,
    pub params: BTreeMap<String, Json>,
    pub nodes: Vec<RunNode>,
}

#[derive(Debug)]
pub struct RunNode {
    pub name: String,
    pub task: String,
    pub dependencies: Vec<usize>,
    /// The node's RayJob, complete or a template without its deferred fields.
    pub rayjob: Json,
    /// The runtime env of the RayJob, as JSON.
    pub runtime_env: Json,
    pub deferred: Vec<DeferredField>,
    /// Output name and URI.
    pub outputs: Vec<(String, String)>,
}

/// The `(node, output)` pairs whose values a deferred field reads: the executor reads them
/// back (as JSON, from their URIs) after their node succeeds.
pub fn outputs_read(plan: &RunPlan) -> BTreeSet<(String, String)> {
    fn walk(expr: &Json, into: &mut BTreeSet<(String, String)>) {
        if let Some(output) = expr.get("output") {
            let part = |key: &str| output.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
            into.insert((part("node"), part("name")));
        } else if let Some(Json::Array(args)) = expr.get("args") {
            args.iter().for_each(|a| walk(a, into));
        }
    }
    let mut read = BTreeSet::new();
    for node in &plan.nodes {
        for field in &node.deferred {
            walk(&field.expr, &mut read);
            field.checked.iter().for_each(|e| walk(e, &mut read));
        }
    }
    read
}

/// The body of `POST /api/jobs/` for `node`: its entrypoint and runtime env with every deferred
/// field evaluated, a submission id, and metadata naming the workflow, node and run. A value
/// that breaks its field's quoting rule fails the node: it is never quoted into a shell.
pub fn job_request(
    plan: &RunPlan,
    node: &RunNode,
    outputs: &BTreeMap<(String, String), Json>,
    submission_id: &str,
) -> Result<Json, String> {
    let inputs = eval::Inputs {
        params: &plan.params,
        outputs,
        run_id: &plan.run_id,
    };
    let mut rayjob = node.rayjob.clone();
    let mut runtime_env = node.runtime_env.clone();
    for field in &node.deferred {
        for word in &field.checked {
            let value = eval::evaluate(word, &inputs)?;
            if let Some(problem) = eval::breaks_rule("safe_word", &value) {
                return Err(problem);
            }
        }
        let value = eval::evaluate(&field.expr, &inputs)?;
        // `safe_word` applies to the words spliced in, checked above; `posix` values are quoted
        // by the expression itself; `no_shell_expansion` applies to the whole value.
        if let Some(problem) = field
            .quoting
            .filter(|rule| *rule == "no_shell_expansion")
            .and_then(|rule| eval::breaks_rule(rule, &value))
        {
            return Err(problem);
        }
        match &field.yaml_path {
            Some(path) => set(&mut runtime_env, path, value),
            None => set(&mut rayjob, &field.pointer, value),
        }
    }
    let entrypoint = rayjob
        .pointer("/spec/entrypoint")
        .and_then(Json::as_str)
        .ok_or("the node has no entrypoint")?;
    let mut request = Map::new();
    request.insert("entrypoint".into(), json!(entrypoint));
    request.insert("submission_id".into(), json!(submission_id));
    if runtime_env.as_object().is_some_and(|env| !env.is_empty()) {
        request.insert("runtime_env".into(), runtime_env);
    }
    request.insert(
        "metadata".into(),
        json!({
            "rwf.dev/workflow": plan.workflow,
            "rwf.dev/node": node.name,
            "rwf.dev/run-id": plan.run_id,
        }),
    );
    Ok(Json::Object(request))
}

/// Writes `value` at the JSON pointer `pointer`, creating objects missing on the way.
fn set(target: &mut Json, pointer: &str, value: Json) {
    let keys: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, parents)) = keys.split_last() else {
        *target = value;
        return;
    };
    let mut slot = target;
    for key in parents {
        if !slot.is_object() && !slot.is_array() {
            *slot = Json::Object(Map::new());
        }
        slot = match slot {
            Json::Array(items) => match key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) => item,
                None => return,
            },
            other => match other.as_object_mut() {
                Some(map) => map.entry(key.clone()).or_insert_with(|| Json::Object(Map::new())),
                None => return,
            },
        };
    }
    match slot {
        Json::Array(items) => {
            if let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *item = value;
            }
        }
        Json::Object(map) => {
            map.insert(last.clone(), value);
        }
        other => *other = json!({ last: value }),
    }
}

/// A job's state from `GET /api/jobs/{id}`: `None` while it runs, its outcome once it ended.
pub fn job_outcome(status: &Json) -> Option<scheduler::Outcome> {
    // Ray appends the job's log to its message; the log is shown on its own.
    let message = status
        .get("message")
        .and_then(Json::as_str)
        .and_then(|m| m.lines().next())
        .unwrap_or_default();
    match status.get("status").and_then(Json::as_str) {
        Some("SUCCEEDED") => Some(scheduler::Outcome::Succeeded),
        Some("FAILED") => Some(scheduler::Outcome::Failed(if message.is_empty() {
            "the job failed".into()
        } else {
            message.to_owned()
        })),
        Some("STOPPED") => Some(scheduler::Outcome::Failed("the job was stopped".into())),
        _ => None,
    }
}

/// `run.json`: each node's state, job and times, so a second run of the same id resumes.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    pub workflow: String,
    pub run_id: String,
    pub nodes: BTreeMap<String, NodeRecord>,
}

#[derive(Debug, Default, Serialize, Deserialize, PartialEq, Clone)]
pub struct NodeRecord {
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// Submissions so far: each gets a submission id of its own.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Record {
    /// Which nodes of `plan` succeeded according to this record (an earlier run of the id).
    pub fn succeeded(&self, plan: &RunPlan) -> Vec<bool> {
        plan.nodes
            .iter()
            .map(|n| self.nodes.get(&n.name).is_some_and(|r| r.state == "succeeded"))
            .collect()
    }

    /// The submission id of the next attempt of `node`, unique within the run.
    pub fn next_submission(&mut self, plan: &RunPlan, node: &str) -> String {
        let record = self.nodes.entry(node.to_owned()).or_default();
        record.attempts += 1;
        format!("rwf-{}-{}-{}-{}", plan.workflow, node, plan.run_id, record.attempts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> RunPlan {
        let template = json!({ "spec": {} });
        let deferred = vec![
            DeferredField {
                pointer: "/spec/entrypoint".into(),
                yaml_path: None,
                ty: "str",
                quoting: Some("safe_word"),
                expr: json!({ "op": "concat", "args": [{ "lit": "python eval.py --lr " }, { "op": "str", "args": [{ "output": { "node": "tune", "name": "result" } }] }] }),
                checked: vec![json!({ "op": "str", "args": [{ "output": { "node": "tune", "name": "result" } }] })],
            },
            DeferredField {
                pointer: "/spec/runtimeEnvYAML".into(),
                yaml_path: Some("/env_vars/NOTE".into()),
                ty: "str",
                quoting: Some("no_shell_expansion"),
                expr: json!({ "param": "note" }),
                checked: Vec::new(),
            },
        ];
        RunPlan {
            workflow: "wf".into(),
            run_id: "r1".into(),
            params: BTreeMap::from([("note".to_owned(), json!("hello"))]),
            nodes: vec![RunNode {
                name: "eval".into(),
                task: "eval".into(),
                dependencies: Vec::new(),
                rayjob: template,
                runtime_env: json!({ "pip": ["torch"] }),
                deferred,
                outputs: Vec::new(),
            }],
        }
    }

    #[test]
    fn a_request_carries_the_evaluated_fields() {
        let plan = plan();
        let outputs = BTreeMap::from([(("tune".to_owned(), "result".to_owned()), json!(0.5))]);
        let request = job_request(&plan, &plan.nodes[0], &outputs, "rwf-wf-eval-r1-1").expect("a request");
        assert_eq!(request["entrypoint"], "python eval.py --lr 0.5");
        assert_eq!(
            request["runtime_env"],
            json!({ "pip": ["torch"], "env_vars": { "NOTE": "hello" } })
        );
        assert_eq!(request["metadata"]["rwf.dev/node"], "eval");
        assert_eq!(
            outputs_read(&plan),
            BTreeSet::from([("tune".to_owned(), "result".to_owned())])
        );
    }

    #[test]
    fn a_value_that_breaks_its_rule_fails_the_node() {
        let plan = plan();
        let outputs = BTreeMap::from([(("tune".to_owned(), "result".to_owned()), json!("0.5; rm -rf ~"))]);
        assert!(job_request(&plan, &plan.nodes[0], &outputs, "s").is_err());
        let mut plan = plan;
        plan.params.insert("note".into(), json!("$(id)"));
        let outputs = BTreeMap::from([(("tune".to_owned(), "result".to_owned()), json!(0.5))]);
        assert!(job_request(&plan, &plan.nodes[0], &outputs, "s").is_err());
    }

    #[test]
    fn job_states_map_to_outcomes() {
        assert_eq!(job_outcome(&json!({ "status": "RUNNING" })), None);
        assert_eq!(
            job_outcome(&json!({ "status": "SUCCEEDED" })),
            Some(scheduler::Outcome::Succeeded)
        );
        assert!(
            matches!(job_outcome(&json!({ "status": "FAILED", "message": "exit 1" })), Some(scheduler::Outcome::Failed(m)) if m == "exit 1")
        );
        assert!(matches!(
            job_outcome(&json!({ "status": "STOPPED" })),
            Some(scheduler::Outcome::Failed(_))
        ));
    }

    #[test]
    fn records_resume_and_number_attempts() {
        let plan = plan();
        let mut record = Record::default();
        assert_eq!(record.next_submission(&plan, "eval"), "rwf-wf-eval-r1-1");
        assert_eq!(record.next_submission(&plan, "eval"), "rwf-wf-eval-r1-2");
        assert_eq!(record.succeeded(&plan), vec![false]);
        record.nodes.get_mut("eval").expect("a record").state = "succeeded".into();
        assert_eq!(record.succeeded(&plan), vec![true]);
        let text = serde_json::to_string(&record).expect("JSON");
        assert_eq!(serde_json::from_str::<Record>(&text).expect("read back"), record);
    }
}
