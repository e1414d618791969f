//! Shared test support: validation of RayJob documents against KubeRay's own RayJob v1 schema, made strict.
//!
//! The schema is the copy in `tests/schemas/` (source and SHA-256 in `tests/schemas/SOURCES.md`).
//! Strict means every object schema that lists `properties` rejects fields it does not list: the API server
//! would silently drop such fields (it prunes unknown fields), so a typo in emitted YAML would otherwise go
//! unnoticed.

// Each test binary that says `mod support;` uses only a part of this module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::Value;

/// Where the RayJob v1 schema (the CRD's `openAPIV3Schema`, as JSON) is expected.
pub fn rayjob_schema_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/kuberay/rayjob.v1.schema.json")
}

/// Closes every object schema that has `properties` and no `additionalProperties` of its own, at any depth.
pub fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            // The API server keeps unknown fields under `x-kubernetes-preserve-unknown-fields: true`: stays open.
            let preserves_unknown = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
            if map.contains_key("properties") && !map.contains_key("additionalProperties") && !preserves_unknown {
                map.insert("additionalProperties".to_owned(), Value::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                match key.as_str() {
                    // Maps from names to schemas: the names are field names, not keywords.
                    "properties" | "patternProperties" | "definitions" | "$defs" | "dependentSchemas" => {
                        if let Value::Object(named) = value {
                            named.values_mut().for_each(strict);
                        }
                    }
                    // Instance data or name lists, not schemas: an object in a `default` must stay as written.
                    "default" | "enum" | "const" | "examples" | "required" => {}
                    k if k.starts_with("x-kubernetes-") => {}
                    _ => strict(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// The strict RayJob validator, compiled once per test binary: compiling the ~1 MB schema costs far more
/// than validating one document.
fn rayjob_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = rayjob_schema_path();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the KubeRay RayJob schema at {}: {e}", path.display()));
        let mut schema: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("the RayJob schema at {} is not JSON: {e}", path.display()));
        strict(&mut schema);
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("the RayJob schema at {} does not compile: {e}", path.display()))
    })
}

/// Validates one RayJob document; each error reads `<instance path>: <message>`, the path a JSON pointer
/// (`(root)` for the whole document). An undeclared field is reported at its own path, one error per field,
/// e.g. `/spec/foo: Additional properties are not allowed ('foo' was unexpected)`.
pub fn validate_rayjob(doc: &Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    for e in rayjob_validator().iter_errors(doc) {
        match &e.kind {
            jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let path = e.instance_path.join(name.as_str());
                    errors.push(format!(
                        "{path}: Additional properties are not allowed ('{name}' was unexpected)"
                    ));
                }
            }
            _ => {
                let path = e.instance_path.as_str();
                errors.push(format!("{}: {e}", if path.is_empty() { "(root)" } else { path }));
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates every document of a YAML stream (documents separated by `---`). Each error starts with
/// `document N: ` (counted from 1). Empty text is one null document to serde_yaml, so it fails too: empty
/// output cannot pass for valid output.
pub fn validate_rayjob_yaml(text: &str) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    let mut count = 0;
    for (i, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        count += 1;
        let n = i + 1;
        match Value::deserialize(document) {
            Ok(doc) => {
                if let Err(doc_errors) = validate_rayjob(&doc) {
                    errors.extend(doc_errors.into_iter().map(|e| format!("document {n}: {e}")));
                }
            }
            Err(e) => {
                errors.push(format!("document {n}: not valid YAML: {e}"));
                // After a syntax error serde_yaml cannot find where the next document starts (and may
                // repeat the error for ever), so reading stops here.
                break;
            }
        }
    }
    if count == 0 {
        errors.push("no YAML document in the text".to_owned());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The repository's own WorkflowPlan schema (`schemas/workflow-plan.schema.json`), already strict.
fn workflow_plan_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/workflow-plan.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let schema: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{} does not compile: {e}", path.display()))
    })
}

/// Validates a workflow manifest (YAML text) against the WorkflowPlan schema.
pub fn validate_workflow_plan_yaml(text: &str) -> Result<(), Vec<String>> {
    let doc: Value = serde_yaml::from_str(text).map_err(|e| vec![format!("not valid YAML: {e}")])?;
    let errors: Vec<String> = workflow_plan_validator()
        .iter_errors(&doc)
        .map(|e| format!("{}: {e}", e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// The debug rendering of the AST of `text`, with every `Span { ... }` left out: two texts
/// with the same rendering mean the same program, however laid out. `None` when it does not
/// parse.
pub fn without_spans(text: &str) -> Option<String> {
    let mut diagnostics = rwfc::diagnostics::Diagnostics::new();
    let file = rwfc::syntax::parse(rwfc::format::FILE, text, &mut diagnostics)?;
    let debug = format!("{file:?}");
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug.as_str();
    while let Some(at) = rest.find("Span { file: ") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').map_or(rest.len(), |n| at + n + 1);
        out.push_str("Span");
        rest = &rest[end..];
    }
    out.push_str(rest);
    Some(out)
}

/// The file system of the machine, for tests that compile files on disk (the library reads
/// only through `FileSystem`).
pub struct Disk;

impl rwfc::load::FileSystem for Disk {
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn canonicalize(&self, path: &Path) -> std::io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }
}
