//! Deferred fields: an evaluator written only from `docs/deferred-expressions.md` computes the
//! run-time values of a manifest's expressions, and they match a build with the values bound.

mod support;

use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The documented evaluator (enough of it for the integer, string and entrypoint forms).
fn eval(expr: &Value, params: &HashMap<&str, Value>, run_id: &str) -> Value {
    if let Some(lit) = expr.get("lit") {
        return lit.clone();
    }
    if let Some(name) = expr.get("param").and_then(Value::as_str) {
        return params
            .get(name)
            .cloned()
            .unwrap_or_else(|| panic!("no value for parameter {name}"));
    }
    if expr.get("run_id").is_some() {
        return json!(run_id);
    }
    let op = expr["op"].as_str().expect("an op");
    let args: Vec<Value> = expr["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| eval(a, params, run_id))
        .collect();
    let int = |i: usize| args[i].as_i64().expect("an integer");
    match op {
        "add" => json!(int(0) + int(1)),
        "sub" => json!(int(0) - int(1)),
        "mul" => json!(int(0) * int(1)),
        "div" => json!(int(0) / int(1)),
        "min" => json!((0..args.len()).map(int).min()),
        "max" => json!((0..args.len()).map(int).max()),
        "clamp" => json!(int(0).max(int(1)).min(int(2))),
        "ceil_div" => {
            let (a, b) = (int(0), int(1));
            json!(a / b + i64::from(a % b != 0 && (a % b > 0) == (b > 0)))
        }
        "gt" => json!(int(0) > int(1)),
        "if" => args[if args[0] == json!(true) { 1 } else { 2 }].clone(),
        "str" => match &args[0] {
            Value::String(s) => json!(s),
            other => json!(other.to_string()),
        },
        "concat" => json!(args.iter().map(|a| a.as_str().expect("a string")).collect::<String>()),
        other => panic!("the evaluator has no `{other}`"),
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn build(args: &[&str], out: &Path) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["build", "adaptive_training.rwf", "-o", out.to_str().expect("utf-8")])
        .args(args)
        .current_dir(repo().join("examples"))
        .output()
        .expect("rwfc runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = std::fs::read_to_string(out.join("adaptive-training/workflow.yaml")).expect("manifest");
    support::validate_workflow_plan_yaml(&text).expect("valid manifest");
    serde_yaml::from_str(&text).expect("YAML")
}

fn workers(rayjob: &Value) -> i64 {
    rayjob["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]["replicas"]
        .as_i64()
        .expect("replicas")
}

#[test]
fn deferred_worker_counts_evaluate_to_the_bound_builds() {
    let mut concrete = Vec::new();
    for size in ["5000000", "100"] {
        let out = tempfile::tempdir().expect("temp dir");
        build(&["--set", &format!("dataset_size={size}")], out.path());
        let text = std::fs::read_to_string(out.path().join("adaptive-training/rayjobs/model.yaml")).expect("a RayJob");
        support::validate_rayjob_yaml(&text).expect("strictly valid");
        concrete.push(workers(&serde_yaml::from_str(&text).expect("YAML")));
    }
    assert_eq!(concrete, [5, 1]);

    let out = tempfile::tempdir().expect("temp dir");
    let plan = build(&[], out.path());
    assert!(
        !out.path().join("adaptive-training/rayjobs").exists(),
        "a deferred node has no RayJob file"
    );
    let node = &plan["spec"]["nodes"][0];
    let deferred = node["deferred"].as_array().expect("deferred fields");
    let replicas = deferred
        .iter()
        .find(|d| d["pointer"] == "/spec/rayClusterSpec/workerGroupSpecs/0/replicas")
        .expect("replicas is deferred");
    assert_eq!(replicas["type"], "int");
    let evaluated: Vec<i64> = [5_000_000, 100]
        .iter()
        .map(|size| {
            let params = HashMap::from([("dataset_size", json!(size))]);
            eval(&replicas["expression"], &params, "r1").as_i64().expect("an int")
        })
        .collect();
    assert_eq!(evaluated, concrete);

    // Filling every deferred field into the template gives a complete, valid RayJob.
    let mut rayjob = node["rayJobTemplate"].clone();
    let params = HashMap::from([("dataset_size", json!(5_000_000))]);
    for field in deferred {
        let value = eval(&field["expression"], &params, "r1");
        let pointer = field["pointer"].as_str().expect("pointer");
        if let Some(path) = field.get("yamlPath").and_then(Value::as_str) {
            let text = rayjob
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("{}")
                .to_owned();
            let mut mapping: Value = serde_yaml::from_str(&text).expect("YAML mapping");
            let (parent, key) = path.rsplit_once('/').expect("a key");
            // Mappings missing on the way are created, as the document says.
            let mut slot = &mut mapping;
            for step in parent.split('/').skip(1) {
                slot = &mut slot[step];
            }
            slot[key.replace("~1", "/").replace("~0", "~")] = value;
            let (parent, key) = pointer.rsplit_once('/').expect("a key");
            rayjob.pointer_mut(parent).expect("parent exists")[key] =
                json!(serde_yaml::to_string(&mapping).expect("YAML"));
        } else {
            let (parent, key) = pointer.rsplit_once('/').expect("a key");
            rayjob.pointer_mut(parent).expect("parent exists")[key.replace("~1", "/").replace("~0", "~")] = value;
        }
    }
    support::validate_rayjob(&rayjob).expect("strictly valid once completed");
    assert_eq!(workers(&rayjob), 5);
    assert_eq!(
        rayjob["spec"]["entrypoint"],
        "python -m acme.finetune --data s3://acme-datasets/reviews/v3 --out s3://acme-ml/runs/adaptive-training/r1/model/result"
    );
}
