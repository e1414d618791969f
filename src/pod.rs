//! Pod templates: snake_case rwf values checked against Kubernetes' PodSpec and converted to the API's camelCase JSON.
//!
//! The checker walks the value against the JSON Schema k8s-openapi generates for `PodSpec`, so the
//! field names, nesting and scalar types always match the Kubernetes version rwfc is built with.
//! Field names are the Kubernetes Python client's: each schema property name is put through the
//! client generator's snake_case rule ([`snake_case`]) and the user's key is matched against that.

use crate::diagnostics::did_you_mean;
use crate::quantity::Quantity;
use crate::source::Span;
use crate::value::{Entry, Value, ValueKind};
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::sync::OnceLock;

mod rules;
pub use rules::check_rules;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodProblem {
    pub span: Span,
    pub kind: PodProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodProblemKind {
    /// E0202: `path` like "pod_template.tolerations[0].efect"; `suggestion` is the snake_case name of the closest known field at that place, if any is close.
    UnknownField { path: String, suggestion: Option<String> },
    /// E0203: a container (in containers, init_containers) without `name`; path "pod_template.containers[1]".
    MissingName { path: String },
    /// E0201: `expected` is a human type description ("str", "int", "bool", "list", "record", "quantity", "int or str").
    TypeMismatch {
        path: String,
        expected: String,
        found: String,
    },
    /// E0303: an int beyond the 32 bits the field holds; `found` is the int.
    OutOfRange { path: String, found: i64 },
}

/// The schema that accepts anything: `items` or map values left unconstrained.
static ANY: Json = Json::Bool(true);

/// Definitions the walk treats specially: both are `x-kubernetes-int-or-string` without a `type`.
const QUANTITY_DEF: &str = "io.k8s.apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING_DEF: &str = "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
/// Definitions whose `name` the language requires (E0203) although every other field is optional.
const CONTAINER_DEFS: [&str; 2] = ["io.k8s.api.core.v1.Container", "io.k8s.api.core.v1.EphemeralContainer"];

/// Checks `value` (a Record holding a partial PodSpec in snake_case) and returns the camelCase JSON
/// object (keys in the value's order; serde_json is built with `preserve_order`) plus every problem found (not only the first).
/// `path` is the prefix for problem paths, e.g. "pod_template".
///
/// A value known only at run time becomes JSON `null` (the caller defers it); a field set to `none`
/// is left out; a value of the wrong type is reported and written as `null`.
pub fn check_pod_spec(value: &Value, path: &str) -> (serde_json::Value, Vec<PodProblem>) {
    let schema = pod_spec();
    let mut walker = Walker {
        schema,
        problems: Vec::new(),
    };
    let json = walker.walk(value, schema.root, path);
    if let Some(message) = deserialize_error(&json) {
        walker.problems.push(PodProblem {
            span: value.span,
            kind: PodProblemKind::TypeMismatch {
                path: path.to_owned(),
                expected: "a Kubernetes PodSpec".to_owned(),
                found: message,
            },
        });
    }
    (json, walker.problems)
}

fn pod_spec_schema() -> &'static Json {
    static SCHEMA: OnceLock<schemars::Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| schemars::schema_for!(PodSpec)).as_value()
}

/// The PodSpec schema prepared once per process: every pod template is checked against it.
fn pod_spec() -> &'static Schema<'static> {
    static PREPARED: OnceLock<Schema<'static>> = OnceLock::new();
    PREPARED.get_or_init(|| Schema::new(pod_spec_schema()))
}

/// A schema with what a walk needs of each of its objects worked out once, not at every value
/// walked. Both maps are keyed by the address of a schema object inside `root`, which stays in
/// place while borrowed, so an address stands for one schema.
struct Schema<'s> {
    root: &'s Json,
    /// The properties of each object schema that lists some.
    properties: HashMap<usize, Vec<Property<'s>>>,
    /// Where each `$ref` leads, and the name of the last definition followed.
    refs: HashMap<usize, (&'s Json, Option<&'s str>)>,
}

struct Property<'s> {
    /// The API's camelCase name.
    name: &'s str,
    schema: &'s Json,
    /// The Python client's name, which the user writes.
    snake: String,
}

impl<'s> Schema<'s> {
    fn new(root: &'s Json) -> Self {
        let mut properties = HashMap::new();
        let mut refs = HashMap::new();
        let mut pending = vec![root];
        while let Some(schema) = pending.pop() {
            match schema {
                Json::Object(fields) => {
                    if let Some(listed) = fields.get("properties").and_then(Json::as_object) {
                        let listed = listed.iter().map(|(name, property)| Property {
                            name,
                            schema: property,
                            snake: snake_case(name),
                        });
                        properties.insert(address(schema), listed.collect());
                    }
                    if fields.contains_key("$ref") {
                        refs.insert(address(schema), follow(root, schema));
                    }
                    pending.extend(fields.values());
                }
                Json::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        Schema { root, properties, refs }
    }

    /// The schema `schema` leads to through `$ref`s, and the name of the last definition followed.
    fn resolve(&self, schema: &'s Json) -> (&'s Json, Option<&'s str>) {
        self.refs.get(&address(schema)).copied().unwrap_or((schema, None))
    }

    /// The properties `schema` lists, in the schema's order (none for a schema without `properties`).
    fn properties(&self, schema: &Json) -> &[Property<'s>] {
        self.properties.get(&address(schema)).map_or(&[], Vec::as_slice)
    }
}

/// Follows `$ref`s from `schema`, returning the schema they lead to and the name of the last definition followed.
fn follow<'s>(root: &'s Json, mut schema: &'s Json) -> (&'s Json, Option<&'s str>) {
    let mut def = None;
    while let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
        // schemars writes local references only (`#/$defs/NAME`); anything else is left untyped.
        let Some(target) = reference.strip_prefix('#').and_then(|pointer| root.pointer(pointer)) else {
            break;
        };
        def = reference.rsplit('/').next();
        schema = target;
    }
    (schema, def)
}

fn address(schema: &Json) -> usize {
    std::ptr::from_ref(schema) as usize
}

/// The Kubernetes Python client's name for an API field. The client is generated by
/// openapi-generator, whose `underscore` rewrites `([A-Z]+)([A-Z][a-z])` and then
/// `([a-z\d])([A-Z])` to `$1_$2`, turns `-` into `_` and lowercases. So an acronym stays one word
/// at the end of a name (`hostIPC` → `host_ipc`, `setHostnameAsFQDN` → `set_hostname_as_fqdn`)
/// but loses its last letter to the next word when one follows (`podIPs` → `pod_i_ps`,
/// `targetWWNs` → `target_ww_ns`).
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        if c.is_ascii_uppercase() {
            // First rule: the last capital of a run of capitals that a lowercase letter follows.
            let ends_acronym =
                prev.is_some_and(|p| p.is_ascii_uppercase()) && next.is_some_and(|n| n.is_ascii_lowercase());
            // Second rule: a capital after a lowercase letter or digit.
            let starts_word = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            if ends_acronym || starts_word {
                out.push('_');
            }
        }
        out.push(if c == '-' { '_' } else { c.to_ascii_lowercase() });
    }
    out
}

/// `path.key`, or `path["key"]` for keys that are not plain identifiers (labels like `kubernetes.io/arch`).
fn key_path(path: &str, key: &str) -> String {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{path}.{key}")
    } else {
        format!("{path}[{key:?}]")
    }
}

/// The snake_case name to offer for an unknown `key`: the known field it spells in camelCase (or
/// any other casing the Python client's rule folds), else the closest known name.
fn suggest<'a>(key: &str, known: impl Iterator<Item = &'a str> + Clone) -> Option<String> {
    let folded = snake_case(key);
    known
        .clone()
        .find(|name| *name == folded)
        .or_else(|| did_you_mean(key, known))
        .map(str::to_owned)
}

/// Why k8s-openapi's own deserializer rejects the produced JSON, if it does: a net under the
/// schema walk. Nulls (run-time values, reported mismatches) are pruned first. A partial template
/// needs nothing added: k8s-openapi defaults absent required fields (`containers`, `name`).
fn deserialize_error(json: &Json) -> Option<String> {
    // A root that is not an object was reported by the walk, or is known only at run time.
    if !json.is_object() {
        return None;
    }
    let mut spec = json.clone();
    prune_nulls(&mut spec);
    serde_json::from_value::<PodSpec>(spec).err().map(|e| e.to_string())
}

fn prune_nulls(json: &mut Json) {
    match json {
        Json::Object(fields) => {
            fields.retain(|_, v| !v.is_null());
            fields.values_mut().for_each(prune_nulls);
        }
        Json::Array(items) => {
            items.retain(|v| !v.is_null());
            items.iter_mut().for_each(prune_nulls);
        }
        _ => {}
    }
}

struct Walker<'s> {
    schema: &'s Schema<'s>,
    problems: Vec<PodProblem>,
}

impl<'s> Walker<'s> {
    fn walk(&mut self, value: &Value, schema: &'s Json, path: &str) -> Json {
        if matches!(value.kind, ValueKind::Unknown | ValueKind::Deferred(_)) {
            return Json::Null;
        }
        let (schema, def) = self.schema.resolve(schema);
        match def {
            Some(QUANTITY_DEF) => return self.quantity(value, path),
            Some(INT_OR_STRING_DEF) => return self.int_or_string(value, path),
            _ => {}
        }
        match (schema.get("type").and_then(Json::as_str), &value.kind) {
            (Some("string"), ValueKind::Str(s)) => Json::String(s.clone()),
            (Some("string"), _) => self.mismatch(value, path, "str"),
            (Some("boolean"), ValueKind::Bool(b)) => Json::Bool(*b),
            (Some("boolean"), _) => self.mismatch(value, path, "bool"),
            (Some("integer"), ValueKind::Int(n)) => {
                // k8s-openapi reads `int32` fields into an `i32`.
                if schema.get("format").and_then(Json::as_str) == Some("int32") && i32::try_from(*n).is_err() {
                    self.out_of_range(value, path, *n)
                } else {
                    Json::from(*n)
                }
            }
            (Some("integer"), _) => self.mismatch(value, path, "int"),
            (Some("number"), ValueKind::Int(n)) => Json::from(*n),
            (Some("number"), ValueKind::Float(x)) => match serde_json::Number::from_f64(*x) {
                Some(number) => Json::Number(number),
                None => self.mismatch_found(value, path, "float", format!("float {x}")),
            },
            (Some("number"), _) => self.mismatch(value, path, "float"),
            (Some("array"), ValueKind::List(items)) => self.list(items, schema.get("items").unwrap_or(&ANY), path),
            (Some("array"), _) => self.mismatch(value, path, "list"),
            (Some("object"), ValueKind::Record(entries)) => match schema.get("additionalProperties") {
                Some(value_schema) => self.map(entries, value_schema, path),
                None => self.record(value, entries, self.schema.properties(schema), def, path),
            },
            (Some("object"), _) => {
                let expected = if schema.get("additionalProperties").is_some() {
                    "map"
                } else {
                    "record"
                };
                self.mismatch(value, path, expected)
            }
            // No type (no such schema in PodSpec today): JSON Schema accepts anything.
            _ => self.untyped(value, path),
        }
    }

    fn list(&mut self, items: &[Value], item_schema: &'s Json, path: &str) -> Json {
        let converted = items
            .iter()
            .enumerate()
            .filter(|(_, item)| !matches!(item.kind, ValueKind::None))
            .map(|(i, item)| self.walk(item, item_schema, &format!("{path}[{i}]")))
            .collect();
        Json::Array(converted)
    }

    /// A Kubernetes map (`node_selector`, `resources.limits`): keys are label or resource names, kept verbatim.
    fn map(&mut self, entries: &[Entry], value_schema: &'s Json, path: &str) -> Json {
        let mut out = Map::new();
        for entry in entries {
            if matches!(entry.value.kind, ValueKind::None) {
                out.shift_remove(&entry.key);
                continue;
            }
            let converted = self.walk(&entry.value, value_schema, &key_path(path, &entry.key));
            out.insert(entry.key.clone(), converted);
        }
        Json::Object(out)
    }

    /// An API object: each snake_case key is matched against the Python client names of its properties.
    fn record(
        &mut self,
        value: &Value,
        entries: &[Entry],
        properties: &[Property<'s>],
        def: Option<&str>,
        path: &str,
    ) -> Json {
        let mut out = Map::new();
        for entry in entries {
            let field_path = key_path(path, &entry.key);
            let Some(Property { name, schema, .. }) = properties.iter().find(|p| p.snake == entry.key) else {
                let suggestion = suggest(&entry.key, properties.iter().map(|p| p.snake.as_str()));
                self.problems.push(PodProblem {
                    span: entry.key_span,
                    kind: PodProblemKind::UnknownField {
                        path: field_path,
                        suggestion,
                    },
                });
                continue;
            };
            if matches!(entry.value.kind, ValueKind::None) {
                out.shift_remove(*name);
                continue;
            }
            let converted = self.walk(&entry.value, schema, &field_path);
            out.insert((*name).to_owned(), converted);
        }
        if def.is_some_and(|d| CONTAINER_DEFS.contains(&d)) && !out.contains_key("name") {
            self.problems.push(PodProblem {
                span: value.span,
                kind: PodProblemKind::MissingName { path: path.to_owned() },
            });
        }
        Json::Object(out)
    }

    /// A Kubernetes quantity, written in its canonical form. Unlike elsewhere in rwf, a string that
    /// parses as a quantity is accepted too, since pod values mirror YAML where `"16Gi"` is the usual spelling.
    fn quantity(&mut self, value: &Value, path: &str) -> Json {
        let (parsed, found) = match &value.kind {
            ValueKind::Int(n) => return Json::String(Quantity::from_int(*n).canonical()),
            ValueKind::Quantity(q) => return Json::String(q.canonical()),
            ValueKind::Float(x) => (Quantity::from_f64(*x), format!("float {x}, out of a quantity's range")),
            ValueKind::Str(s) => (Quantity::parse(s), format!("str {s:?}, not a quantity")),
            _ => return self.mismatch(value, path, "quantity"),
        };
        match parsed {
            Some(q) => Json::String(q.canonical()),
            None => self.mismatch_found(value, path, "quantity", found),
        }
    }

    fn int_or_string(&mut self, value: &Value, path: &str) -> Json {
        match &value.kind {
            // IntOrString holds an `i32`.
            ValueKind::Int(n) if i32::try_from(*n).is_ok() => Json::from(*n),
            ValueKind::Int(n) => self.out_of_range(value, path, *n),
            ValueKind::Str(s) => Json::String(s.clone()),
            _ => self.mismatch(value, path, "int or str"),
        }
    }

    /// Converts a value that no schema constrains, keeping keys as written.
    fn untyped(&mut self, value: &Value, path: &str) -> Json {
        match &value.kind {
            ValueKind::Bool(b) => Json::Bool(*b),
            ValueKind::Int(n) => Json::from(*n),
            ValueKind::Float(x) => match serde_json::Number::from_f64(*x) {
                Some(number) => Json::Number(number),
                None => self.mismatch_found(value, path, "a finite float", format!("float {x}")),
            },
            ValueKind::Str(s) => Json::String(s.clone()),
            ValueKind::Quantity(q) => Json::String(q.canonical()),
            ValueKind::List(items) => self.list(items, &ANY, path),
            ValueKind::Record(entries) => self.map(entries, &ANY, path),
            ValueKind::None | ValueKind::Unknown | ValueKind::Deferred(_) => Json::Null,
            ValueKind::Command(_) | ValueKind::Duration(_) | ValueKind::Secret { .. } => {
                self.mismatch(value, path, "a plain value")
            }
        }
    }

    fn out_of_range(&mut self, value: &Value, path: &str, found: i64) -> Json {
        self.problems.push(PodProblem {
            span: value.span,
            kind: PodProblemKind::OutOfRange {
                path: path.to_owned(),
                found,
            },
        });
        Json::Null
    }

    fn mismatch(&mut self, value: &Value, path: &str, expected: &str) -> Json {
        self.mismatch_found(value, path, expected, value.kind_name().to_owned())
    }

    fn mismatch_found(&mut self, value: &Value, path: &str, expected: &str, found: String) -> Json {
        self.problems.push(PodProblem {
            span: value.span,
            kind: PodProblemKind::TypeMismatch {
                path: path.to_owned(),
                expected: expected.to_owned(),
                found,
            },
        });
        Json::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use serde_json::json;

    fn at(kind: ValueKind, start: usize) -> Value {
        Value::new(kind, Span::new(FileId(0), start, start + 1))
    }

    fn val(kind: ValueKind) -> Value {
        Value::new(kind, Span::default())
    }

    fn text(s: &str) -> Value {
        val(ValueKind::Str(s.to_owned()))
    }

    fn int(n: i64) -> Value {
        val(ValueKind::Int(n))
    }

    fn list(items: Vec<Value>) -> Value {
        val(ValueKind::List(items))
    }

    fn record(fields: Vec<(&str, Value)>) -> Value {
        let entries = fields
            .into_iter()
            .map(|(key, value)| Entry {
                key: key.to_owned(),
                key_span: Span::default(),
                label: None,
                value,
            })
            .collect();
        val(ValueKind::Record(entries))
    }

    fn check(value: &Value) -> (Json, Vec<PodProblemKind>) {
        let (json, problems) = check_pod_spec(value, "pod_template");
        (json, problems.into_iter().map(|p| p.kind).collect())
    }

    fn unknown(path: &str, suggestion: Option<&str>) -> PodProblemKind {
        PodProblemKind::UnknownField {
            path: path.to_owned(),
            suggestion: suggestion.map(str::to_owned),
        }
    }

    fn mismatch(path: &str, expected: &str, found: &str) -> PodProblemKind {
        PodProblemKind::TypeMismatch {
            path: path.to_owned(),
            expected: expected.to_owned(),
            found: found.to_owned(),
        }
    }

    #[test]
    fn converts_a_gpu_pod_template_to_camel_case_in_source_order() {
        let pod = record(vec![
            (
                "tolerations",
                list(vec![record(vec![
                    ("key", text("nvidia.com/gpu")),
                    ("operator", text("Exists")),
                    ("effect", text("NoSchedule")),
                ])]),
            ),
            (
                "node_selector",
                record(vec![("cloud.google.com/gke-accelerator", text("nvidia-tesla-a100"))]),
            ),
            (
                "volumes",
                list(vec![record(vec![
                    ("name", text("shm")),
                    (
                        "empty_dir",
                        record(vec![("medium", text("Memory")), ("size_limit", text("16Gi"))]),
                    ),
                ])]),
            ),
            (
                "containers",
                list(vec![record(vec![
                    ("name", text("ray-worker")),
                    (
                        "volume_mounts",
                        list(vec![record(vec![
                            ("name", text("shm")),
                            ("mount_path", text("/dev/shm")),
                        ])]),
                    ),
                ])]),
            ),
        ]);
        let (json, problems) = check(&pod);
        assert_eq!(problems, vec![]);
        let expected = json!({
            "tolerations": [{ "key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule" }],
            "nodeSelector": { "cloud.google.com/gke-accelerator": "nvidia-tesla-a100" },
            "volumes": [{ "name": "shm", "emptyDir": { "medium": "Memory", "sizeLimit": "16Gi" } }],
            "containers": [{ "name": "ray-worker", "volumeMounts": [{ "name": "shm", "mountPath": "/dev/shm" }] }],
        });
        // Compared as text so that key order counts.
        assert_eq!(json.to_string(), expected.to_string());
    }

    #[test]
    fn misspelled_toleration_field_is_unknown_with_a_suggestion() {
        let toleration = Value::new(
            ValueKind::Record(vec![Entry {
                key: "efect".to_owned(),
                key_span: Span::new(FileId(0), 40, 45),
                label: None,
                value: text("NoSchedule"),
            }]),
            Span::default(),
        );
        let (problems_json, problems) =
            check_pod_spec(&record(vec![("tolerations", list(vec![toleration]))]), "pod_template");
        assert_eq!(problems_json, json!({ "tolerations": [{}] }));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].span, Span::new(FileId(0), 40, 45));
        assert_eq!(
            problems[0].kind,
            unknown("pod_template.tolerations[0].efect", Some("effect"))
        );
    }

    #[test]
    fn camel_case_key_is_unknown_and_suggests_its_snake_case_name() {
        let (_, problems) = check(&record(vec![
            ("nodeSelector", record(vec![])),
            ("hostIPC", val(ValueKind::Bool(true))),
            ("zzz", int(1)),
        ]));
        assert_eq!(
            problems,
            vec![
                unknown("pod_template.nodeSelector", Some("node_selector")),
                unknown("pod_template.hostIPC", Some("host_ipc")),
                unknown("pod_template.zzz", None),
            ]
        );
    }

    #[test]
    fn container_without_name_is_missing_name() {
        let nameless = at(ValueKind::Record(vec![]), 7);
        let pod = record(vec![
            (
                "containers",
                list(vec![record(vec![("name", text("ray-head"))]), nameless]),
            ),
            ("init_containers", list(vec![record(vec![("image", text("busybox"))])])),
        ]);
        let (json, problems) = check_pod_spec(&pod, "pod_template");
        let kinds: Vec<_> = problems.iter().map(|p| p.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                PodProblemKind::MissingName {
                    path: "pod_template.containers[1]".to_owned()
                },
                PodProblemKind::MissingName {
                    path: "pod_template.init_containers[0]".to_owned()
                },
            ]
        );
        assert_eq!(problems[0].span, Span::new(FileId(0), 7, 8));
        assert_eq!(json["initContainers"], json!([{ "image": "busybox" }]));
    }

    #[test]
    fn acronym_fields_use_the_python_client_names() {
        let pod = record(vec![
            ("host_ipc", val(ValueKind::Bool(true))),
            ("host_pid", val(ValueKind::Bool(false))),
            ("set_hostname_as_fqdn", val(ValueKind::Bool(true))),
        ]);
        let (json, problems) = check(&pod);
        assert_eq!(problems, vec![]);
        assert_eq!(
            json.to_string(),
            r#"{"hostIPC":true,"hostPID":false,"setHostnameAsFQDN":true}"#
        );
    }

    #[test]
    fn snake_case_follows_openapi_generator() {
        for (camel, snake) in [
            ("nodeSelector", "node_selector"),
            ("hostIPC", "host_ipc"),
            ("podIPs", "pod_i_ps"),
            ("targetWWNs", "target_ww_ns"),
            ("setHostnameAsFQDN", "set_hostname_as_fqdn"),
            ("volumeID", "volume_id"),
            ("x509Name", "x509_name"),
            ("name", "name"),
        ] {
            assert_eq!(snake_case(camel), snake, "{camel}");
        }
    }

    #[test]
    fn snake_case_names_never_collide_in_the_schema() {
        let schema = pod_spec_schema();
        let defs = schema.get("$defs").and_then(Json::as_object).into_iter().flatten();
        for (name, def) in defs.map(|(n, d)| (n.as_str(), d)).chain([("PodSpec", schema)]) {
            let mut snakes: Vec<String> = def
                .get("properties")
                .and_then(Json::as_object)
                .into_iter()
                .flatten()
                .map(|(p, _)| snake_case(p))
                .collect();
            let count = snakes.len();
            snakes.sort();
            snakes.dedup();
            assert_eq!(snakes.len(), count, "{name}");
        }
    }

    #[test]
    fn quantities_accept_numbers_quantities_and_quantity_strings() {
        let limits = record(vec![
            ("cpu", val(ValueKind::Float(0.5))),
            (
                "memory",
                val(ValueKind::Quantity(
                    Quantity::parse("1.5Gi").unwrap_or(Quantity::from_int(0)),
                )),
            ),
            ("nvidia.com/gpu", int(1)),
            ("ephemeral-storage", text("16Gi")),
            ("bad", text("16Gx")),
        ]);
        let pod = record(vec![(
            "containers",
            list(vec![record(vec![
                ("name", text("ray-worker")),
                ("resources", record(vec![("limits", limits)])),
            ])]),
        )]);
        let (json, problems) = check(&pod);
        assert_eq!(
            json["containers"][0]["resources"]["limits"].to_string(),
            r#"{"cpu":"500m","memory":"1536Mi","nvidia.com/gpu":"1","ephemeral-storage":"16Gi","bad":null}"#
        );
        assert_eq!(
            problems,
            vec![mismatch(
                "pod_template.containers[0].resources.limits.bad",
                "quantity",
                r#"str "16Gx", not a quantity"#
            )]
        );
    }

    #[test]
    fn int_or_string_ports_accept_both() {
        let probe = |port: Value| record(vec![("http_get", record(vec![("port", port), ("path", text("/"))]))]);
        let pod = record(vec![(
            "containers",
            list(vec![record(vec![
                ("name", text("ray-head")),
                ("liveness_probe", probe(int(8265))),
                ("readiness_probe", probe(text("dashboard"))),
                ("startup_probe", probe(val(ValueKind::Bool(true)))),
            ])]),
        )]);
        let (json, problems) = check(&pod);
        assert_eq!(json["containers"][0]["livenessProbe"]["httpGet"]["port"], json!(8265));
        assert_eq!(
            json["containers"][0]["readinessProbe"]["httpGet"]["port"],
            json!("dashboard")
        );
        assert_eq!(
            problems,
            vec![mismatch(
                "pod_template.containers[0].startup_probe.http_get.port",
                "int or str",
                "bool"
            )]
        );
    }

    #[test]
    fn wrong_types_are_mismatches() {
        let pod = record(vec![
            ("host_network", text("yes")),
            ("priority", int(1 << 40)),
            ("node_selector", record(vec![("kubernetes.io/arch", int(1))])),
            ("tolerations", record(vec![])),
            (
                "containers",
                list(vec![record(vec![
                    ("name", text("ray-worker")),
                    (
                        "env",
                        list(vec![record(vec![
                            ("name", text("TOKEN")),
                            (
                                "value",
                                val(ValueKind::Secret {
                                    name: "s".to_owned(),
                                    key: "k".to_owned(),
                                }),
                            ),
                        ])]),
                    ),
                ])]),
            ),
        ]);
        let (json, problems) = check(&pod);
        assert_eq!(
            problems,
            vec![
                mismatch("pod_template.host_network", "bool", "str"),
                PodProblemKind::OutOfRange {
                    path: "pod_template.priority".to_owned(),
                    found: 1 << 40
                },
                mismatch("pod_template.node_selector[\"kubernetes.io/arch\"]", "str", "int"),
                mismatch("pod_template.tolerations", "list", "record"),
                mismatch("pod_template.containers[0].env[0].value", "str", "secret"),
            ]
        );
        assert_eq!(json["hostNetwork"], Json::Null);
    }

    #[test]
    fn reports_every_problem_and_keeps_going() {
        let pod = record(vec![
            ("tolerations", list(vec![record(vec![("efect", text("NoSchedule"))])])),
            ("host_ipc", int(1)),
            ("containers", list(vec![record(vec![("imag", text("ray"))])])),
            ("node_selector", record(vec![("pool", text("gpu"))])),
        ]);
        let (json, problems) = check(&pod);
        assert_eq!(
            problems,
            vec![
                unknown("pod_template.tolerations[0].efect", Some("effect")),
                mismatch("pod_template.host_ipc", "bool", "int"),
                unknown("pod_template.containers[0].imag", Some("image")),
                PodProblemKind::MissingName {
                    path: "pod_template.containers[0]".to_owned()
                },
            ]
        );
        assert_eq!(json["nodeSelector"], json!({ "pool": "gpu" }));
    }

    #[test]
    fn run_time_values_are_null_and_none_removes_the_field() {
        let pod = record(vec![
            ("service_account_name", val(ValueKind::Unknown)),
            ("hostname", text("a")),
            ("hostname", val(ValueKind::None)),
            ("tolerations", list(vec![val(ValueKind::Unknown), val(ValueKind::None)])),
            (
                "containers",
                list(vec![record(vec![("name", val(ValueKind::Unknown))])]),
            ),
        ]);
        let (json, problems) = check(&pod);
        assert_eq!(problems, vec![]);
        assert_eq!(
            json.to_string(),
            r#"{"serviceAccountName":null,"tolerations":[null],"containers":[{"name":null}]}"#
        );
    }

    #[test]
    fn root_must_be_a_record() {
        let (json, problems) = check(&text("gpu"));
        assert_eq!(json, Json::Null);
        assert_eq!(problems, vec![mismatch("pod_template", "record", "str")]);
        let (json, problems) = check(&val(ValueKind::Unknown));
        assert_eq!((json, problems), (Json::Null, vec![]));
    }

    #[test]
    fn schema_forms_pod_spec_does_not_use_today_still_work() {
        let root = json!({
            "type": "object",
            "properties": { "ratio": { "type": "number" }, "extra": true },
        });
        let schema = Schema::new(&root);
        let mut walker = Walker {
            schema: &schema,
            problems: Vec::new(),
        };
        let value = record(vec![
            ("ratio", val(ValueKind::Float(0.25))),
            ("extra", record(vec![("someKey", list(vec![int(1), text("a")]))])),
        ]);
        let json = walker.walk(&value, &root, "x");
        assert_eq!(json.to_string(), r#"{"ratio":0.25,"extra":{"someKey":[1,"a"]}}"#);
        let bad = record(vec![("ratio", text("a")), ("extra", val(ValueKind::Float(f64::NAN)))]);
        walker.walk(&bad, &root, "x");
        let problems: Vec<_> = walker.problems.into_iter().map(|p| p.kind).collect();
        assert_eq!(
            problems,
            vec![
                mismatch("x.ratio", "float", "str"),
                mismatch("x.extra", "a finite float", "float NaN")
            ]
        );
    }

    #[test]
    fn deserializer_catches_what_the_schema_does_not_say() {
        // `Time` is a plain string in the schema; k8s-openapi parses it as RFC 3339.
        let metadata = record(vec![("creation_timestamp", text("yesterday"))]);
        let claim = record(vec![("metadata", metadata)]);
        let volume = record(vec![
            ("name", text("scratch")),
            ("ephemeral", record(vec![("volume_claim_template", claim)])),
        ]);
        let (_, problems) = check(&record(vec![("volumes", list(vec![volume]))]));
        assert!(
            matches!(
                problems.as_slice(),
                [PodProblemKind::TypeMismatch { path, expected, .. }] if path == "pod_template" && expected == "a Kubernetes PodSpec"
            ),
            "{problems:?}"
        );
    }
}
