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
        "shell_quote" => {
            let text = args[0].as_str().expect("a string");
            let safe = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
            if !text.is_empty() && text.chars().all(safe) {
                json!(text)
            } else {
                json!(format!("'{}'", text.replace('\'', r"'\''")))
            }
        }
        "sha256_hex" => {
            use sha2::{Digest, Sha256};
            let digest: String = Sha256::digest(args[0].as_str().expect("a string").as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            json!(digest[..int(1) as usize])
        }
        other => panic!("the evaluator has no `{other}`"),
    }
}

/// A node's RayJob template with every deferred field filled, as the document says: each
/// expression evaluated and written at its pointer (inside the runtime env YAML at `yamlPath`).
fn fill(node: &Value, params: &HashMap<&str, Value>, run_id: &str) -> Value {
    let mut rayjob = node["rayJobTemplate"].clone();
    let unescape = |key: &str| key.replace("~1", "/").replace("~0", "~");
    for field in node["deferred"].as_array().expect("deferred fields") {
        let value = eval(&field["expression"], params, run_id);
        let pointer = field["pointer"].as_str().expect("pointer");
        let (parent, key) = pointer.rsplit_once('/').expect("a key");
        if let Some(path) = field.get("yamlPath").and_then(Value::as_str) {
            let text = rayjob
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("{}")
                .to_owned();
            let mut mapping: Value = serde_yaml::from_str(&text).expect("YAML mapping");
            let (inner_parent, inner_key) = path.rsplit_once('/').expect("a key");
            // Mappings missing on the way are created, as the document says.
            let mut slot = &mut mapping;
            for step in inner_parent.split('/').skip(1) {
                slot = &mut slot[unescape(step)];
            }
            slot[unescape(inner_key)] = value;
            rayjob.pointer_mut(parent).expect("parent exists")[key] =
                json!(serde_yaml::to_string(&mapping).expect("YAML"));
        } else {
            rayjob.pointer_mut(parent).expect("parent exists")[unescape(key)] = value;
        }
    }
    rayjob
}

/// A RayJob with its runtime env YAML read, so two equal environments compare equal however
/// their text was written.
fn comparable(mut rayjob: Value) -> Value {
    if let Some(text) = rayjob.pointer("/spec/runtimeEnvYAML").and_then(Value::as_str) {
        let env: Value = serde_yaml::from_str(text).expect("runtime env YAML");
        rayjob["spec"]["runtimeEnvYAML"] = env;
    }
    rayjob
}

/// A value of each parameter type for the run.
fn sample(ty: &str) -> (String, Value) {
    match ty {
        "int" => ("3".into(), json!(3)),
        "float" => ("1.5".into(), json!(1.5)),
        "bool" => ("true".into(), json!(true)),
        "dir" | "file" => ("s3://bucket/sample".into(), json!("s3://bucket/sample")),
        _ => ("sample".into(), json!("sample")),
    }
}

#[test]
fn every_filled_template_is_the_rayjob_of_the_bound_build() {
    let mut compared = 0;
    let mut examples: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "rwf"))
        .collect();
    examples.sort();
    for example in examples {
        let file = example.file_name().and_then(|n| n.to_str()).expect("a name").to_owned();
        let open = tempfile::tempdir().expect("temp dir");
        let output = rwfc(&["build", &file, "-o", open.path().to_str().expect("utf-8")]);
        if !output.status.success() {
            continue; // a file without workflows
        }
        for dir in std::fs::read_dir(open.path()).expect("output").flatten() {
            if !dir.path().is_dir() {
                continue;
            }
            let workflow = dir.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(dir.path().join("workflow.yaml")).expect("a manifest");
            let plan: Value = serde_yaml::from_str(&text).expect("YAML");
            let unbound: Vec<(&str, &str)> = plan["spec"]["parameters"]
                .as_array()
                .expect("parameters")
                .iter()
                .filter(|p| p.get("bound").is_none())
                .map(|p| (p["name"].as_str().expect("name"), p["type"].as_str().expect("type")))
                .collect();
            if unbound.is_empty() {
                continue;
            }
            let mut args = vec!["--run-id".to_owned(), "r1".to_owned()];
            let mut params = HashMap::new();
            for (name, ty) in &unbound {
                let (text, value) = sample(ty);
                args.extend(["--set".to_owned(), format!("{name}={text}")]);
                params.insert(*name, value);
            }
            let bound = tempfile::tempdir().expect("temp dir");
            let mut build_args = vec!["build", &file, "-o", bound.path().to_str().expect("utf-8")];
            let name = plan["metadata"]["name"].as_str().expect("a name").to_owned();
            // rwf names have no `-`: the output's `-` was a `_`.
            let source_name = name.replace('-', "_");
            build_args.extend(["--workflow", &source_name]);
            build_args.extend(args.iter().map(String::as_str));
            let output = rwfc(&build_args);
            assert!(
                output.status.success(),
                "{file}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            for node in plan["spec"]["nodes"].as_array().expect("nodes") {
                let node_name = node["name"].as_str().expect("a node name");
                let path = bound.path().join(&workflow).join(format!("rayjobs/{node_name}.yaml"));
                // A node that waits for an upstream output stays a template in both builds.
                let Ok(concrete) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let concrete: Value = serde_yaml::from_str(&concrete).expect("YAML");
                assert_eq!(
                    comparable(fill(node, &params, "r1")),
                    comparable(concrete),
                    "{file}: node `{node_name}`"
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 2, "only {compared} templates were compared");
}

fn rwfc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(args)
        .current_dir(repo().join("examples"))
        .output()
        .expect("rwfc runs")
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
    let params = HashMap::from([("dataset_size", json!(5_000_000))]);
    let rayjob = fill(node, &params, "r1");
    support::validate_rayjob(&rayjob).expect("strictly valid once completed");
    assert_eq!(workers(&rayjob), 5);
    assert_eq!(
        rayjob["spec"]["entrypoint"],
        "python -m acme.finetune --data s3://acme-datasets/reviews/v3 --out s3://acme-ml/runs/adaptive-training/r1/model/result"
    );
}
