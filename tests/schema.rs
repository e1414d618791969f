//! The strict RayJob schema check in `tests/support` accepts a minimal RayJob and rejects what the API server
//! would drop or refuse.

mod support;

use serde_json::{json, Value};

fn minimal_rayjob() -> Value {
    json!({
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": "demo"},
        "spec": {
            "entrypoint": "python main.py",
            "rayClusterSpec": {
                "headGroupSpec": {
                    "rayStartParams": {},
                    "template": {"spec": {"containers": [{"name": "ray-head", "image": "x"}]}}
                }
            }
        }
    })
}

/// The errors of a document that must be invalid.
fn errors_of(doc: &Value) -> Vec<String> {
    support::validate_rayjob(doc).expect_err("the document should be invalid")
}

fn head_group(doc: &mut Value) -> &mut Value {
    &mut doc["spec"]["rayClusterSpec"]["headGroupSpec"]
}

#[test]
fn minimal_rayjob_is_valid() {
    assert_eq!(support::validate_rayjob(&minimal_rayjob()), Ok(()));
}

#[test]
fn undeclared_field_in_head_group_spec_is_rejected_at_its_path() {
    let mut doc = minimal_rayjob();
    head_group(&mut doc)["foo"] = json!(1);
    let errors = errors_of(&doc);
    assert_eq!(
        errors,
        ["/spec/rayClusterSpec/headGroupSpec/foo: Additional properties are not allowed ('foo' was unexpected)"]
    );
}

#[test]
fn undeclared_field_in_spec_is_rejected() {
    let mut doc = minimal_rayjob();
    doc["spec"]["entryPoint"] = json!("python main.py");
    let errors = errors_of(&doc);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].starts_with("/spec/entryPoint: Additional properties"),
        "{errors:#?}"
    );
}

#[test]
fn each_undeclared_field_gets_its_own_error() {
    let mut doc = minimal_rayjob();
    doc["spec"]["a"] = json!(1);
    doc["spec"]["b"] = json!(2);
    let errors = errors_of(&doc);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().any(|e| e.starts_with("/spec/a: ")), "{errors:#?}");
    assert!(errors.iter().any(|e| e.starts_with("/spec/b: ")), "{errors:#?}");
}

#[test]
fn undeclared_field_inside_a_container_list_item_is_rejected() {
    let mut doc = minimal_rayjob();
    head_group(&mut doc)["template"]["spec"]["containers"][0]["imagePullPolicyy"] = json!("Always");
    let errors = errors_of(&doc);
    assert!(
        errors[0].starts_with("/spec/rayClusterSpec/headGroupSpec/template/spec/containers/0/imagePullPolicyy: "),
        "{errors:#?}"
    );
}

#[test]
fn schema_declares_ray_start_params_as_a_map_of_strings() {
    let text = std::fs::read_to_string(support::rayjob_schema_path()).expect("the RayJob schema is readable");
    let schema: Value = serde_json::from_str(&text).expect("the RayJob schema is JSON");
    let params = &schema["properties"]["spec"]["properties"]["rayClusterSpec"]["properties"]["headGroupSpec"]
        ["properties"]["rayStartParams"];
    assert_eq!(params["type"], "object");
    assert_eq!(params["additionalProperties"], json!({"type": "string"}));
}

#[test]
fn non_string_ray_start_param_is_rejected() {
    for value in [json!(1), json!(true), json!(null)] {
        let mut doc = minimal_rayjob();
        head_group(&mut doc)["rayStartParams"]["num-cpus"] = value.clone();
        let errors = errors_of(&doc);
        assert_eq!(errors.len(), 1, "{value}: {errors:#?}");
        assert!(
            errors[0].starts_with("/spec/rayClusterSpec/headGroupSpec/rayStartParams/num-cpus: ")
                && errors[0].contains("is not of type \"string\""),
            "{value}: {errors:#?}"
        );
    }
}

#[test]
fn string_ray_start_params_are_valid() {
    let mut doc = minimal_rayjob();
    head_group(&mut doc)["rayStartParams"] = json!({"num-cpus": "0", "dashboard-host": "0.0.0.0"});
    assert_eq!(support::validate_rayjob(&doc), Ok(()));
}

#[test]
fn missing_required_field_is_rejected() {
    let mut doc = minimal_rayjob();
    doc["spec"]["rayClusterSpec"]["headGroupSpec"]
        .as_object_mut()
        .expect("headGroupSpec is an object")
        .remove("template");
    let errors = errors_of(&doc);
    assert!(
        errors
            .iter()
            .any(|e| e.starts_with("/spec/rayClusterSpec/headGroupSpec: ") && e.contains("\"template\"")),
        "{errors:#?}"
    );
}

#[test]
fn top_level_metadata_stays_open_as_the_schema_declares_it() {
    // The CRD leaves ObjectMeta to the API server: `metadata` is a bare `type: object`.
    let mut doc = minimal_rayjob();
    doc["metadata"]["labels"] = json!({"app": "demo"});
    doc["metadata"]["anything"] = json!(1);
    assert_eq!(support::validate_rayjob(&doc), Ok(()));
}

#[test]
fn strict_closes_objects_with_properties_at_any_depth() {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "list": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
            "either": {"anyOf": [{"type": "object", "properties": {"b": {}}}, {"type": "string"}]},
            "map": {"type": "object", "additionalProperties": {"type": "object", "properties": {"c": {}}}},
            "properties": {"type": "object", "properties": {"d": {}}}
        }
    });
    support::strict(&mut schema);
    let closed = json!(false);
    assert_eq!(schema["additionalProperties"], closed);
    assert_eq!(schema["properties"]["list"]["items"]["additionalProperties"], closed);
    assert_eq!(
        schema["properties"]["either"]["anyOf"][0]["additionalProperties"],
        closed
    );
    assert_eq!(
        schema["properties"]["map"]["additionalProperties"]["additionalProperties"],
        closed
    );
    // A field named `properties` is a field, not a keyword: the map of fields gains no entry.
    assert_eq!(schema["properties"]["properties"]["additionalProperties"], closed);
    assert!(schema["properties"].get("additionalProperties").is_none(), "{schema:#}");
}

#[test]
fn strict_keeps_declared_openness_and_instance_data() {
    let mut schema = json!({
        "type": "object",
        "properties": {
            "open": {"type": "object", "properties": {"a": {}}, "additionalProperties": true},
            "kept": {"type": "object", "properties": {"a": {}}, "x-kubernetes-preserve-unknown-fields": true},
            "defaulted": {"type": "object", "default": {"properties": {}}}
        }
    });
    support::strict(&mut schema);
    assert_eq!(schema["properties"]["open"]["additionalProperties"], json!(true));
    assert!(
        schema["properties"]["kept"].get("additionalProperties").is_none(),
        "{schema:#}"
    );
    assert_eq!(schema["properties"]["defaulted"]["default"], json!({"properties": {}}));
}

#[test]
fn yaml_stream_validates_every_document() {
    let one = serde_yaml::to_string(&minimal_rayjob()).expect("a RayJob serializes to YAML");
    assert_eq!(support::validate_rayjob_yaml(&one), Ok(()));
    assert_eq!(support::validate_rayjob_yaml(&format!("{one}---\n{one}")), Ok(()));

    let mut bad = minimal_rayjob();
    bad["spec"]["foo"] = json!(1);
    let bad = serde_yaml::to_string(&bad).expect("a RayJob serializes to YAML");
    let errors = support::validate_rayjob_yaml(&format!("{one}---\n{bad}")).expect_err("document 2 is invalid");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].starts_with("document 2: /spec/foo: "), "{errors:#?}");
}

#[test]
fn unparsable_or_empty_yaml_is_an_error() {
    let errors = support::validate_rayjob_yaml("kind: RayJob\n  spec: [\n").expect_err("broken YAML");
    assert!(errors[0].starts_with("document 1: not valid YAML: "), "{errors:#?}");
    assert!(support::validate_rayjob_yaml("").is_err());
}

/// The rows of `tests/schemas/SOURCES.md`: each copied file with its SHA-256.
fn copied_schemas() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let text = std::fs::read_to_string(root.join("SOURCES.md")).expect("tests/schemas/SOURCES.md");
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let file = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            let sha = cells.get(4)?;
            Some((file.to_owned(), (*sha).to_owned()))
        })
        .collect()
}

#[test]
fn copied_schemas_match_their_sources() {
    use sha2::{Digest, Sha256};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let copies = copied_schemas();
    assert!(!copies.is_empty(), "SOURCES.md lists no schema");
    let shared = root.join("../shared/schemas");
    for (file, sha) in copies {
        let copy = std::fs::read(root.join("tests/schemas").join(&file)).expect("a listed copy exists");
        let digest: String = Sha256::digest(&copy).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            digest, sha,
            "tests/schemas/{file} differs from the SHA-256 in SOURCES.md"
        );
        // The contract folder beside the repository, where there is one, is the source of truth.
        if shared.is_dir() {
            let original = std::fs::read(shared.join(&file)).expect("the schema is in ../shared/schemas");
            assert!(
                original == copy,
                "tests/schemas/{file} differs from ../shared/schemas/{file}: copy it again"
            );
        }
    }
}
