//! The RayJob of a node as the text of a resource template's `manifest`: the emitter's RayJob
//! with `generateName` instead of `name`, the Argo workflow label on it and its pods, and every
//! deferred field written as one expression tag standing for a whole YAML scalar.
//!
//! A tag that succeeds becomes a YAML scalar: a number, or a JSON string (a JSON string is a
//! YAML double-quoted scalar) with every `{` escaped, so that no value brings a `{{` that
//! Argo's second substitution pass would read as a tag. A tag that fails stays as it is, a
//! flow mapping where the RayJob wants a scalar, which the API server rejects.

use super::expr::{self, Problem, Translator, Ty};
use crate::emit::{self, DeferredField, EmittedJob};
use serde_json::{Map, Value as Json};

/// The label that lets `argo logs` find Ray pods.
pub const WORKFLOW_LABEL: &str = "workflows.argoproj.io/workflow";

/// A deferred field that has no Argo form, with the reason.
pub struct Unexpressible {
    pub pointer: String,
    pub problem: Problem,
}

/// The manifest text of `job`, or the fields that cannot be written as tags.
pub fn manifest(
    job: &EmittedJob,
    generate_name: Result<String, Json>,
    translator: &Translator,
) -> Result<String, Vec<Unexpressible>> {
    let mut rayjob = job.rayjob.clone();
    let mut tags = Tags::new(&rayjob);
    if let Some(metadata) = rayjob.get_mut("metadata").and_then(Json::as_object_mut) {
        metadata.remove("name");
    }
    let prefix = match generate_name {
        Ok(prefix) => Json::String(prefix),
        Err(expression) => {
            let field = string_field("/metadata/generateName", expression);
            tags.add(&field, translator)
        }
    };
    set(&mut rayjob, "/metadata/generateName", prefix);
    let label = tags.push(string_tag("workflow.name"));
    for pointer in pod_templates(&rayjob) {
        set(
            &mut rayjob,
            &format!("{pointer}/metadata/labels/{}", label_key()),
            label.clone(),
        );
    }
    set(&mut rayjob, &format!("/metadata/labels/{}", label_key()), label);

    let (in_env, plain): (Vec<&DeferredField>, Vec<&DeferredField>) = job
        .deferred
        .iter()
        .filter(|d| d.pointer != "/metadata/name")
        .partition(|d| d.yaml_path.is_some());
    for field in plain {
        let placeholder = tags.add(field, translator);
        set(&mut rayjob, &field.pointer, placeholder);
    }
    if !in_env.is_empty() {
        let placeholder = tags.runtime_env(job.runtime_env.as_ref(), &in_env, translator);
        set(&mut rayjob, "/spec/runtimeEnvYAML", placeholder);
    }
    if !tags.problems.is_empty() {
        return Err(tags.problems);
    }
    Ok(tags.fill(&emit::yaml::to_string(&rayjob)))
}

fn label_key() -> String {
    WORKFLOW_LABEL.replace('/', "~1")
}

/// JSON pointers of the RayJob's pod templates: head, worker groups, submitter.
fn pod_templates(rayjob: &Json) -> Vec<String> {
    let mut pointers = Vec::new();
    if rayjob.pointer("/spec/rayClusterSpec/headGroupSpec/template").is_some() {
        pointers.push("/spec/rayClusterSpec/headGroupSpec/template".to_owned());
    }
    let groups = rayjob
        .pointer("/spec/rayClusterSpec/workerGroupSpecs")
        .and_then(Json::as_array)
        .map_or(0, Vec::len);
    pointers.extend((0..groups).map(|i| format!("/spec/rayClusterSpec/workerGroupSpecs/{i}/template")));
    if rayjob.pointer("/spec/submitterPodTemplate").is_some() {
        pointers.push("/spec/submitterPodTemplate".to_owned());
    }
    pointers
}

/// Sets the value at a JSON pointer, creating missing objects on the way.
fn set(root: &mut Json, pointer: &str, value: Json) {
    let keys: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|k| k.replace("~1", "/").replace("~0", "~"))
        .collect();
    let Some((last, path)) = keys.split_last() else { return };
    let mut at = root;
    for key in path {
        at = match at {
            Json::Array(items) => match key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) => item,
                None => return,
            },
            Json::Object(map) => map.entry(key.clone()).or_insert_with(|| Json::Object(Map::new())),
            _ => return,
        };
    }
    match at {
        Json::Object(map) => {
            map.insert(last.clone(), value);
        }
        Json::Array(items) => {
            if let Some(item) = last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *item = value;
            }
        }
        _ => {}
    }
}

fn string_field(pointer: &str, expression: Json) -> DeferredField {
    DeferredField {
        pointer: pointer.into(),
        yaml_path: None,
        ty: "str",
        quoting: None,
        expr: expression,
        checked: Vec::new(),
    }
}

/// A tag giving the string `text` as a JSON string with every `{` escaped.
fn string_tag(text: &str) -> String {
    format!(
        "sprig.replace(\"\\u007b\", {}, toJson({text}))",
        expr::string_literal("\\u007b")
    )
}

/// Placeholders standing for tags while the manifest is written: plain words no text of the
/// RayJob holds, replaced by the tags in the finished YAML.
struct Tags {
    stem: String,
    tags: Vec<String>,
    problems: Vec<Unexpressible>,
}

impl Tags {
    fn new(rayjob: &Json) -> Tags {
        let text = rayjob.to_string();
        let stem = (0..)
            .map(|n| format!("rwfargotag{n}x"))
            .find(|stem| !text.contains(stem.as_str()))
            .unwrap_or_default();
        Tags {
            stem,
            tags: Vec::new(),
            problems: Vec::new(),
        }
    }

    fn placeholder(&self, index: usize) -> String {
        format!("{}{index}z", self.stem)
    }

    fn push(&mut self, expression: String) -> Json {
        self.tags.push(expression);
        Json::String(self.placeholder(self.tags.len() - 1))
    }

    /// The tag of a deferred field, with the checks of its quoting rule.
    fn add(&mut self, field: &DeferredField, translator: &Translator) -> Json {
        match value_expression(field, translator) {
            Ok((text, Ty::Str)) => self.push(string_tag(&text)),
            Ok((text, _)) => self.push(text),
            Err(problem) => {
                self.problems.push(Unexpressible {
                    pointer: field.pointer.clone(),
                    problem,
                });
                Json::Null
            }
        }
    }

    /// `runtimeEnvYAML` as one tag: the YAML text with each deferred value spliced in as a
    /// JSON string, the whole given as a JSON string.
    fn runtime_env(&mut self, static_env: Option<&Json>, fields: &[&DeferredField], translator: &Translator) -> Json {
        let mut mapping = static_env.cloned().unwrap_or_else(|| Json::Object(Map::new()));
        let mut inner = Tags {
            stem: self.stem.replace("tag", "env"),
            tags: Vec::new(),
            problems: Vec::new(),
        };
        for field in fields {
            let placeholder = inner.add(field, translator);
            set(
                &mut mapping,
                field.yaml_path.as_deref().unwrap_or_default(),
                placeholder,
            );
        }
        self.problems.append(&mut inner.problems);
        let text = emit::yaml::to_string(&sort(&mapping));
        let mut pieces = Vec::new();
        let mut rest = text.as_str();
        for (index, tag) in inner.tags.iter().enumerate() {
            let placeholder = inner.placeholder(index);
            let Some((before, after)) = rest.split_once(placeholder.as_str()) else {
                continue;
            };
            pieces.push(expr::string_literal(before));
            pieces.push(tag.clone());
            rest = after;
        }
        pieces.push(expr::string_literal(rest));
        self.push(string_tag(&format!("({})", pieces.join(" + "))))
    }

    /// The YAML text with each placeholder replaced by its tag.
    fn fill(&self, yaml: &str) -> String {
        let mut out = yaml.to_owned();
        // Longest indices first, so that `…1z` never matches inside `…11z`.
        for (index, tag) in self.tags.iter().enumerate().rev() {
            out = out.replace(&self.placeholder(index), &format!("{{{{={tag}}}}}"));
        }
        out
    }
}

fn sort(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Json::Object(entries.into_iter().map(|(k, v)| (k.clone(), sort(v))).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(sort).collect()),
        other => other.clone(),
    }
}

/// The expression of a field's value, guarded by its quoting rule: a value that breaks the
/// rule fails the tag instead of being written.
fn value_expression(field: &DeferredField, translator: &Translator) -> Result<(String, Ty), Problem> {
    let value = translator.translate(&field.expr)?;
    let mut conditions = Vec::new();
    match field.quoting {
        Some("safe_word") => {
            for word in &field.checked {
                let word = translator.translate(word)?;
                conditions.push(expr::is_safe_word(&word.text));
            }
        }
        Some("no_shell_expansion") => conditions.push(expr::has_no_shell_expansion(&value.text)),
        _ => {}
    }
    if conditions.is_empty() {
        return Ok((value.text, value.ty));
    }
    let message = match field.quoting {
        Some("safe_word") => "a value in the entrypoint is not a safe word (A-Z a-z 0-9 _ . / : = @ % + , -)",
        _ => "a runtime env value holds $ or a backtick",
    };
    Ok((
        expr::checked(&value.text, "\"\"", &conditions.join(" && "), message),
        value.ty,
    ))
}
