//! `rwfc build --target argo`: every Workflow validates strictly against Argo's CRD schema and
//! its JSON Schema; with Argo's own substitution (the `argo-expr` tool of `../shared/tools/`,
//! built into the target directory), every embedded RayJob validates strictly once its tags are
//! filled, fills the same RayJobs as `rwfc build --set` with the same values, and a value that
//! breaks a quoting rule fails the step instead of running.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `rwfc build FILE ARGS -o TMP` run in `dir`: its exit status, stderr and the files written.
fn build(dir: &Path, file: &str, args: &[&str]) -> (bool, String, tempfile::TempDir) {
    let out = tempfile::tempdir().expect("temp dir");
    let output = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["build", file, "--color=never", "-o"])
        .arg(out.path())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("rwfc runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        out,
    )
}

fn read_yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::Deserializer::from_str(&text)
        .map(|doc| serde_yaml::with::singleton_map_recursive::deserialize(doc).expect("YAML"))
        .collect()
}

fn validator(schema: Value) -> jsonschema::Validator {
    let mut schema = schema;
    support::strict(&mut schema);
    jsonschema::validator_for(&schema).expect("the schema compiles")
}

/// Argo's full CRD `openAPIV3Schema` and its published JSON Schema (at the Workflow), strict.
fn argo_validators() -> &'static [jsonschema::Validator; 2] {
    static VALIDATORS: OnceLock<[jsonschema::Validator; 2]> = OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let dir = repo().join("tests/schemas/argo");
        let crd = read_yaml(&dir.join("argoproj.io_workflows.yaml")).remove(0);
        let crd = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
        let text = std::fs::read_to_string(dir.join("schema.json")).expect("schema.json");
        let mut published: Value = serde_json::from_str(&text).expect("JSON");
        if let Value::Object(map) = &mut published {
            map.remove("oneOf");
            map.insert(
                "$ref".into(),
                json!("#/definitions/io.argoproj.workflow.v1alpha1.Workflow"),
            );
        }
        [validator(crd), validator(published)]
    })
}

fn validate_workflow(doc: &Value) -> Vec<String> {
    argo_validators()
        .iter()
        .zip(["CRD", "schema.json"])
        .flat_map(|(v, name)| {
            v.iter_errors(doc)
                .map(move |e| format!("{name}: {}: {e}", e.instance_path))
        })
        .collect()
}

/// The `argo-expr` tool: Argo's substitution and expression evaluation. `None`, with a line
/// saying why, when `../shared` is not beside the repository.
struct Tool {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _child: Child,
}

impl Tool {
    fn ask(&mut self, request: &Value) -> Value {
        writeln!(self.stdin, "{request}").expect("argo-expr reads");
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("argo-expr answers");
        serde_json::from_str(&line).expect("argo-expr answers JSON")
    }

    /// The template after Argo's substitution with `vars`, in Argo `mode`.
    fn replace(&mut self, template: &Value, vars: &Value, mode: &str) -> Result<Value, String> {
        let answer = self.ask(&json!({ "op": "replace", "mode": mode, "text": template.to_string(), "vars": vars }));
        match answer["text"].as_str() {
            Some(text) => Ok(serde_json::from_str(text).expect("JSON")),
            None => Err(answer["error"].to_string()),
        }
    }

    /// The manifest as kubectl reads it (go-yaml v2).
    fn yaml(&mut self, text: &str) -> Result<Value, String> {
        let answer = self.ask(&json!({ "op": "yaml", "text": text }));
        match answer["docs"].get(0) {
            Some(doc) => Ok(doc.clone()),
            None => Err(answer["error"].to_string()),
        }
    }

    fn lint(&mut self, expression: &str) -> Value {
        self.ask(&json!({ "op": "lint", "expr": expression }))["violations"].clone()
    }
}

fn tool() -> Option<std::sync::MutexGuard<'static, Tool>> {
    static TOOL: OnceLock<Option<Mutex<Tool>>> = OnceLock::new();
    let tool = TOOL.get_or_init(|| {
        let source = repo().join("../shared/tools/argo-expr");
        if !source.join("build.sh").is_file() {
            println!(
                "skipped: ../shared/tools/argo-expr is not beside the repository, so Argo's substitution cannot be run"
            );
            return None;
        }
        let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("argo-expr");
        if !binary.is_file() {
            let status = Command::new("bash")
                .arg(source.join("build.sh"))
                .arg(&binary)
                .status()
                .expect("bash runs");
            assert!(status.success(), "../shared/tools/argo-expr/build.sh failed");
        }
        let mut child = Command::new(&binary)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("argo-expr starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Some(Mutex::new(Tool {
            stdin,
            stdout,
            _child: child,
        }))
    });
    tool.as_ref().map(|t| t.lock().unwrap_or_else(|e| e.into_inner()))
}

fn resource_templates(workflow: &Value) -> Vec<Value> {
    workflow["spec"]["templates"]
        .as_array()
        .expect("templates")
        .iter()
        .filter(|t| t.get("resource").is_some())
        .cloned()
        .collect()
}

/// Each node's RayJob as kubectl would create it from the Workflow, for a run named `run` with
/// `params`, by node name; `Err` with the reason when Argo's output is not a usable RayJob.
fn filled_rayjobs(
    tool: &mut Tool,
    workflow: &Value,
    run: &str,
    params: &[(&str, &str)],
    mode: &str,
) -> Vec<(String, Result<Value, String>)> {
    let mut vars = json!({ "workflow.name": run });
    for (name, value) in params {
        vars[format!("workflow.parameters.{name}")] = json!(value);
    }
    resource_templates(workflow)
        .iter()
        .map(|template| {
            let name = template["name"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("rayjob-")
                .to_owned();
            let rayjob = tool.replace(template, &vars, mode).and_then(|t| {
                let doc = tool.yaml(t["resource"]["manifest"].as_str().unwrap_or_default())?;
                support::validate_rayjob(&doc).map_err(|e| e.join("; "))?;
                Ok(doc)
            });
            (name, rayjob)
        })
        .collect()
}

fn examples_with_workflows() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .expect("examples")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".rwf"))
        .filter(|n| std::fs::read_to_string(repo().join("examples").join(n)).is_ok_and(|t| t.contains("workflow ")))
        .collect();
    names.sort();
    names
}

#[test]
fn every_workflow_validates_against_argo_schemas_and_its_rayjobs_against_kuberay() {
    let mut failures = Vec::new();
    let mut tool = tool();
    let mut checked = 0;
    for example in examples_with_workflows() {
        let (ok, stderr, out) = build(&repo().join("examples"), &example, &["--target", "argo"]);
        if !ok {
            // Only an upstream scalar output may stop a build (E0703, see README).
            if !stderr.contains("E0703") {
                failures.push(format!("{example}: {stderr}"));
            }
            continue;
        }
        for dir in std::fs::read_dir(out.path())
            .expect("out")
            .flatten()
            .filter(|e| e.path().is_dir())
        {
            let workflow = read_yaml(&dir.path().join("argo/workflow.yaml")).remove(0);
            checked += 1;
            failures.extend(
                validate_workflow(&workflow)
                    .into_iter()
                    .map(|e| format!("{example}: {e}")),
            );
            let params: Vec<(String, &str)> = workflow["spec"]["arguments"]["parameters"]
                .as_array()
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .map(|p| (p["name"].as_str().unwrap_or_default().to_owned(), "7"))
                .collect();
            let params: Vec<(&str, &str)> = params.iter().map(|(n, v)| (n.as_str(), *v)).collect();
            if let Some(tool) = tool.as_deref_mut() {
                for mode in ["3.5", "4"] {
                    for (node, rayjob) in filled_rayjobs(tool, &workflow, "run-abc12", &params, mode) {
                        if let Err(e) = rayjob {
                            failures.push(format!("{example} {node} (Argo {mode}): {e}"));
                        }
                    }
                }
                for template in resource_templates(&workflow) {
                    let manifest = template["resource"]["manifest"].as_str().unwrap_or_default();
                    for tag in manifest.split("{{=").skip(1).filter_map(|t| t.split("}}").next()) {
                        let violations = tool.lint(tag);
                        if violations != json!([]) {
                            failures.push(format!("{example}: `{tag}`: {violations}"));
                        }
                    }
                }
            }
        }
    }
    assert!(checked >= 15, "only {checked} workflows built");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a comparison looks at: the cluster, the entrypoint, the runtime env, the name.
fn essentials(rayjob: &Value) -> Value {
    let mut cluster = rayjob["spec"]["rayClusterSpec"].clone();
    // The only addition of the Argo target: the label `argo logs` finds Ray pods by.
    for pointer in ["/headGroupSpec/template/metadata/labels"] {
        if let Some(Value::Object(labels)) = cluster.pointer_mut(pointer) {
            labels.remove("workflows.argoproj.io/workflow");
        }
    }
    if let Some(Value::Array(groups)) = cluster.get_mut("workerGroupSpecs") {
        for group in groups {
            if let Some(Value::Object(labels)) = group.pointer_mut("/template/metadata/labels") {
                labels.remove("workflows.argoproj.io/workflow");
            }
        }
    }
    let env: Value = rayjob["spec"]["runtimeEnvYAML"]
        .as_str()
        .map_or(Value::Null, |t| serde_yaml::from_str(t).expect("runtime env YAML"));
    let name = rayjob["metadata"]["name"]
        .as_str()
        .map(|n| format!("{n}-"))
        .or_else(|| rayjob["metadata"]["generateName"].as_str().map(str::to_owned));
    json!({ "cluster": cluster, "entrypoint": rayjob["spec"]["entrypoint"], "env": env, "name": name })
}

/// The RayJobs of a `--target kuberay` build with `--set` values and the run id, by node;
/// `None` when the build refuses the values.
fn kuberay_rayjobs(dir: &Path, file: &str, run: &str, params: &[(&str, &str)]) -> Option<Vec<(String, Value)>> {
    let mut args = vec!["--run-id".to_owned(), run.to_owned()];
    for (name, value) in params {
        args.extend(["--set".to_owned(), format!("{name}={value}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, out) = build(dir, file, &args);
    if !ok {
        return None;
    }
    let mut jobs = Vec::new();
    for workflow in std::fs::read_dir(out.path()).expect("out").flatten() {
        let Ok(files) = std::fs::read_dir(workflow.path().join("rayjobs")) else {
            continue;
        };
        for file in files.flatten() {
            let node = file.path().file_stem().expect("named").to_string_lossy().into_owned();
            jobs.push((node, read_yaml(&file.path()).remove(0)));
        }
    }
    jobs.sort_by(|a, b| a.0.cmp(&b.0));
    Some(jobs)
}

/// Filling the Argo Workflow with values gives the RayJobs `rwfc build --set` gives.
fn same_as_kuberay(dir: &Path, file: &str, runs: &[&[(&str, &str)]]) {
    let Some(mut tool) = tool() else { return };
    let (ok, stderr, out) = build(dir, file, &["--target", "argo"]);
    assert!(ok, "{file}: {stderr}");
    let dirs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    let [workflow_dir] = dirs.as_slice() else {
        panic!("{file}: one workflow expected")
    };
    let workflow = read_yaml(&workflow_dir.join("argo/workflow.yaml")).remove(0);
    let run = "argo-run-x7k2p";
    for params in runs {
        let expected = kuberay_rayjobs(dir, file, run, params).unwrap_or_else(|| panic!("{file} {params:?} builds"));
        for mode in ["3.5", "4"] {
            let mut filled: Vec<(String, Value)> = filled_rayjobs(&mut tool, &workflow, run, params, mode)
                .into_iter()
                .map(|(node, job)| {
                    (
                        node,
                        job.unwrap_or_else(|e| panic!("{file} {params:?} Argo {mode}: {e}")),
                    )
                })
                .collect();
            filled.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(filled.len(), expected.len(), "{file}: node count");
            for ((node, argo), (other, kuberay)) in filled.iter().zip(&expected) {
                assert_eq!(node, other);
                assert_eq!(
                    essentials(argo),
                    essentials(kuberay),
                    "{file} {node} {params:?} Argo {mode}"
                );
            }
        }
    }
}

#[test]
fn adaptive_training_fills_like_a_build_with_set() {
    same_as_kuberay(
        &repo().join("examples"),
        "adaptive_training.rwf",
        &[
            &[("dataset_size", "5000000")],
            &[("dataset_size", "1")],
            &[("dataset_size", "123456789")],
        ],
    );
}

#[test]
fn dynamic_sizing_fills_like_a_build_with_set() {
    same_as_kuberay(
        &repo().join("examples"),
        "dynamic_sizing.rwf",
        &[&[("hours", "3")], &[("hours", "10001")], &[("hours", "0")]],
    );
}

#[test]
fn first_look_fills_like_a_build_with_set() {
    same_as_kuberay(
        &repo().join("examples"),
        "first_look.rwf",
        &[
            &[("raw_data", "s3://acme/raw/2026")],
            &[("raw_data", "gs://b/x_y-1.parquet")],
        ],
    );
}

/// Two programs whose run-time string reaches the entrypoint and the runtime env: in K8sJobMode
/// with an old Ray (a safe word, and no `$` or backtick for the submitter's bash) and in
/// HTTPMode (quoted for `sh`, any value).
const HOSTILE: [(&str, &str); 2] = [
    ("k8s", "task k8s(word: str) {\n  image = \"rayproject/ray:2.40.0\"\n  entrypoint = \"python -m job --word ${word}\"\n  ray { runtime_env { env_vars = { NOTE = word } } }\n}\n\nworkflow k8s_job(word: str) {\n  let a = k8s(word = word)\n}\n"),
    ("http", "task http(word: str) {\n  image = \"rayproject/ray:2.40.0\"\n  submission_mode = \"HTTPMode\"\n  entrypoint = \"python -m job --word ${word}\"\n  ray { runtime_env { env_vars = { NOTE = word } } }\n}\n\nworkflow http_job(word: str) {\n  let b = http(word = word)\n}\n"),
];

/// Values that a quoting rule must refuse or quote, and one safe word.
const VALUES: &[&str] = &[
    "x$(touch /tmp/pwned)y",
    "a b",
    "",
    "it's",
    "{{=1}}",
    "{{workflow.name}}",
    "x\ny",
    "`id`",
    "$HOME",
    "a\"b",
    "\\",
    "é",
    "ok-value_1.2",
];

#[test]
fn hostile_values_fail_the_step_or_arrive_intact() {
    let Some(mut tool) = tool() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, program) in HOSTILE {
        let file = format!("{name}.rwf");
        std::fs::write(dir.path().join(&file), program).expect("writable");
        let (ok, stderr, out) = build(dir.path(), &file, &["--target", "argo"]);
        assert!(ok, "{stderr}");
        let workflow = read_yaml(&out.path().join(format!("{name}-job/argo/workflow.yaml"))).remove(0);
        let run = "hostile-r1";
        let mut refused = 0;
        for value in VALUES {
            // `rwfc build --set` refuses what K8sJobMode cannot carry (E0516, E0519).
            let expected = kuberay_rayjobs(dir.path(), &file, run, &[("word", value)]);
            for mode in ["3.5", "4"] {
                for (node, filled) in filled_rayjobs(&mut tool, &workflow, run, &[("word", value)], mode) {
                    let expected = expected.as_ref().map(|jobs| essentials(&jobs[0].1));
                    match (filled, expected) {
                        (Ok(job), Some(expected)) => {
                            assert_eq!(essentials(&job), expected, "{name} {node} {value:?} (Argo {mode})")
                        }
                        (Err(_), None) => refused += 1,
                        (Ok(job), None) => panic!("{name} {value:?} (Argo {mode}) was let through: {job}"),
                        (Err(e), Some(_)) => panic!("{name} {value:?} (Argo {mode}) was refused: {e}"),
                    }
                }
            }
        }
        let safe = |v: &str| {
            !v.is_empty()
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_./:=@%+,-".contains(&b))
        };
        let unsafe_values = VALUES.iter().filter(|v| !safe(v)).count();
        let expected_refusals = if name == "k8s" { 2 * unsafe_values } else { 0 };
        assert_eq!(refused, expected_refusals, "{name}: refusals");
    }
}

#[test]
fn the_schemas_reject_what_argo_would() {
    let (ok, stderr, out) = build(&repo().join("examples"), "adaptive_training.rwf", &["--target", "argo"]);
    assert!(ok, "{stderr}");
    let good = read_yaml(&out.path().join("adaptive-training/argo/workflow.yaml")).remove(0);
    assert_eq!(validate_workflow(&good), Vec::<String>::new());
    let mut undeclared = good.clone();
    undeclared["spec"]["templates"][1]["resource"]["sucessCondition"] = json!("x");
    assert_eq!(
        validate_workflow(&undeclared).len(),
        2,
        "both schemas reject an undeclared field"
    );
    let mut bad_name = good.clone();
    bad_name["spec"]["templates"][0]["dag"]["tasks"][0]["name"] = json!("my_task");
    assert!(
        !validate_workflow(&bad_name).is_empty(),
        "the CRD rejects `_` in task names"
    );
    let mut too_many = good;
    let task = too_many["spec"]["templates"][0]["dag"]["tasks"][0].clone();
    too_many["spec"]["templates"][0]["dag"]["tasks"] = json!(vec![task; 201]);
    assert!(!validate_workflow(&too_many).is_empty(), "the CRD caps tasks at 200");
}

#[test]
fn setup_grants_exactly_the_rights_of_the_reference() {
    let (ok, stderr, out) = build(&repo().join("examples"), "adaptive_training.rwf", &["--target", "argo"]);
    assert!(ok, "{stderr}");
    let setup = read_yaml(&out.path().join("adaptive-training/argo/setup.yaml"));
    let kinds: Vec<&str> = setup.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["ServiceAccount", "Role", "RoleBinding"]);
    assert_eq!(
        setup[1]["rules"],
        json!([
            { "apiGroups": ["argoproj.io"], "resources": ["workflowtaskresults"], "verbs": ["create", "patch"] },
            { "apiGroups": ["argoproj.io"], "resources": ["workflows/finalizers"], "verbs": ["update"] },
            { "apiGroups": ["ray.io"], "resources": ["rayjobs"], "verbs": ["create", "get"] },
        ])
    );
    let workflow = read_yaml(&out.path().join("adaptive-training/argo/workflow.yaml")).remove(0);
    assert_eq!(workflow["spec"]["serviceAccountName"], setup[0]["metadata"]["name"]);
    let stdout = Command::new(env!("CARGO_BIN_EXE_rwfc"))
        .args(["build", "adaptive_training.rwf", "--target", "argo", "-o", "-"])
        .current_dir(repo().join("examples"))
        .output()
        .expect("rwfc runs");
    assert!(stdout.status.success());
    let written = std::fs::read_to_string(out.path().join("adaptive-training/argo/workflow.yaml")).expect("written");
    assert_eq!(
        String::from_utf8_lossy(&stdout.stdout),
        written,
        "`-o -` writes the Workflow alone"
    );
}
