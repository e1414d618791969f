//! Emission: one KubeRay `RayJob` per node (`rayjob-mapping.md`), with every check KubeRay
//! would only make at run time reported here on the span that caused it. Fields that depend on
//! run-time values are left out of the object and listed as deferred fields (§9.1).

pub mod manifest;
mod shell;
mod validate;
mod version;
pub mod yaml;

pub use shell::{is_safe_word, posix_quote};
pub use validate::{rayjob_name_collisions, rayjob_name_within};
pub use version::KubeRayVersion;

use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::names::{self, normalise, shorten, MAX_LABEL_VALUE};
use crate::plan::{BuildOptions, Node, WorkflowPlan};
use crate::pod::check_pod_spec;
use crate::source::{SourceMap, Span};
use crate::types::resource_name;
use crate::value::{CommandPart, Entry, Sym, Value, ValueKind};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// The label that ties a RayJob and its pods to their run.
const RUN_ID_LABEL: &str = "rwf.dev/run-id";

/// A node's RayJob: complete when `deferred` is empty, otherwise a template without them.
#[derive(Debug)]
pub struct EmittedJob {
    pub node: String,
    /// `None` when the name waits for the run id.
    pub name: Option<String>,
    pub rayjob: Json,
    pub deferred: Vec<DeferredField>,
    /// The mapping `runtimeEnvYAML` holds (sorted), for what sends it elsewhere: the Argo
    /// target splices deferred values into its text, `rwfc run` sends it to Ray as JSON.
    pub runtime_env: Option<Json>,
}

/// A field known only at run time (§9.1): where it goes, its type and its expression.
#[derive(Debug, Clone)]
pub struct DeferredField {
    /// JSON pointer into the RayJob.
    pub pointer: String,
    /// For `runtimeEnvYAML`: the path inside the YAML mapping the string holds.
    pub yaml_path: Option<String>,
    pub ty: &'static str,
    /// `posix` (values are quoted in the expression), `safe_word` (each of `checked` must be a
    /// safe word) or `no_shell_expansion` (the value must hold no `$` or backtick); the executor
    /// rejects a value that breaks its rule.
    pub quoting: Option<&'static str>,
    pub expr: Json,
    pub checked: Vec<Json>,
}

const MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// A JSON object with `fields` in the order given. Unlike `json!`, which serializes every value
/// it is given into a new tree, this moves the values in.
pub(crate) fn object<const N: usize>(fields: [(&str, Json); N]) -> Json {
    Json::Object(fields.into_iter().map(|(key, value)| (key.to_owned(), value)).collect())
}

/// Builds the RayJob of `node`, reporting every problem into `diagnostics`.
pub fn rayjob(
    workflow: &WorkflowPlan,
    node: &Node,
    options: &BuildOptions,
    sources: &SourceMap,
    diagnostics: &mut Diagnostics,
) -> EmittedJob {
    let mut emitter = Emitter {
        node,
        sources,
        version: options.kuberay,
        diagnostics: Vec::new(),
        deferred: Vec::new(),
        runtime_env: None,
    };
    let rayjob = emitter.build(workflow, options);
    for mut diagnostic in emitter.diagnostics {
        // A problem inside a task's definition shows which call of the task it comes from.
        let in_call = diagnostic.span().is_none_or(|span| node.call_span.contains(span));
        if !workflow.single_task && !in_call {
            diagnostic = diagnostic.label(node.call_span, format!("in the call `{}`", node.name));
        }
        diagnostics.push(diagnostic);
    }
    let name = rayjob
        .pointer("/metadata/name")
        .and_then(Json::as_str)
        .map(str::to_owned);
    EmittedJob {
        node: node.name.clone(),
        name,
        rayjob,
        deferred: emitter.deferred,
        runtime_env: emitter.runtime_env,
    }
}

struct Emitter<'a> {
    node: &'a Node,
    /// The program's text, for diagnostics that quote a value as it was written.
    sources: &'a SourceMap,
    version: KubeRayVersion,
    diagnostics: Vec<Diagnostic>,
    deferred: Vec<DeferredField>,
    runtime_env: Option<Json>,
}

/// A field that is present and not `none`.
fn field<'v>(record: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    record
        .and_then(|r| r.get(key))
        .filter(|v| !matches!(v.kind, ValueKind::None))
}

fn entries(value: Option<&Value>) -> &[Entry] {
    match value.map(|v| &v.kind) {
        Some(ValueKind::Record(entries)) => entries,
        _ => &[],
    }
}

fn text(value: Option<&Value>) -> Option<&str> {
    match value.map(|v| &v.kind) {
        Some(ValueKind::Str(s)) => Some(s),
        _ => None,
    }
}

fn pointer_escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The existing cluster a task runs on, from `existing_cluster` or `address`.
struct Existing<'v> {
    name: String,
    namespace: Option<String>,
    value: &'v Value,
}

/// `ray://NAME-head-svc[.NAMESPACE...]:PORT` → (NAME, NAMESPACE).
fn parse_address(address: &str) -> Option<(String, Option<String>)> {
    let rest = address.strip_prefix("ray://")?;
    let (host, port) = rest.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    let mut labels = host.split('.');
    let service = labels.next()?;
    let cluster = service.strip_suffix("-head-svc").filter(|c| !c.is_empty())?;
    Some((cluster.to_owned(), labels.next().map(str::to_owned)))
}

impl Emitter<'_> {
    fn error(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diagnostics
            .push(Diagnostic::new(code, span, message, label).help(help));
    }

    fn build(&mut self, workflow: &WorkflowPlan, options: &BuildOptions) -> Json {
        let node = self.node;
        let config = Some(&node.config);
        let ray = field(config, "ray");
        let settings = Some(&node.settings);
        let existing = self.existing_cluster(ray, config);

        let name = match validate::rayjob_name(workflow, node) {
            Ok(name) => Some(name),
            Err(expr) => {
                self.deferred.push(DeferredField {
                    pointer: "/metadata/name".into(),
                    yaml_path: None,
                    ty: "str",
                    quoting: None,
                    expr: expr.to_json(),
                    checked: Vec::new(),
                });
                None
            }
        };
        if let Some(name) = name.as_ref().filter(|name| !names::is_dns1035_label(name)) {
            self.error(
                Code::E0505,
                node.name_span,
                format!("the RayJob name `{name}` is not a valid Kubernetes name"),
                "gives this name",
                "RayJob names are DNS-1035 labels: lower-case letters, digits and `-`, starting with a letter",
            );
        }
        let namespace = match field(config, "namespace").or(field(settings, "namespace")) {
            Some(value) => self.known_text(value, "namespace").map(str::to_owned),
            None => options.namespace.clone(),
        };
        if let Some(ns) = &namespace {
            if !names::is_dns1123_label(ns) {
                let help = "namespaces are DNS-1123 labels: at most 63 lower-case letters, digits and `-`";
                match field(config, "namespace").or(field(settings, "namespace")) {
                    Some(value) => self.error(
                        Code::E0505,
                        value.span,
                        format!("`{ns}` is not a valid namespace"),
                        "invalid namespace",
                        help,
                    ),
                    None => self.diagnostics.push(
                        Diagnostic::without_span(Code::E0505, format!("`--namespace {ns}` is not a valid namespace"))
                            .help(help),
                    ),
                }
            }
        }
        let labels = self.labels(workflow, config, settings);
        let mut annotations = BTreeMap::new();
        let location = self.sources.file(node.call_span.file).map(|f| {
            let (line, _) = f.line_column(node.call_span.start as usize);
            format!("{}:{line}", f.name())
        });
        annotations.insert("rwf.dev/source".to_owned(), Json::String(location.unwrap_or_default()));
        for (key, value) in self.user_map(settings, config, "annotations") {
            annotations.insert(key, value);
        }
        self.annotations_size(&annotations, settings, config);

        let mut metadata = Map::new();
        if let Some(name) = &name {
            metadata.insert("name".into(), Json::String(name.clone()));
        }
        if let Some(ns) = &namespace {
            metadata.insert("namespace".into(), Json::String(ns.clone()));
        }
        metadata.insert("labels".into(), Json::Object(labels.clone().into_iter().collect()));
        metadata.insert("annotations".into(), Json::Object(annotations.into_iter().collect()));

        let mode = self.submission_mode(config);
        self.sidecar_submitter_name(mode, config, ray);
        let mut spec = Map::new();
        let ray_version = text(field(ray, "ray_version"));
        if let Some(entrypoint) = self.entrypoint(config, mode, ray_version) {
            spec.insert("entrypoint".into(), entrypoint);
        }
        if mode != "K8sJobMode" {
            let first = if mode == "SidecarMode" {
                KubeRayVersion::V1_5
            } else {
                KubeRayVersion::V1_1
            };
            if self.supports(
                first,
                field(config, "submission_mode"),
                &format!("submission_mode = \"{mode}\""),
            ) {
                spec.insert("submissionMode".into(), json!(mode));
            }
        }
        self.runtime_env(ray, mode, &mut spec);
        let shutdown = match field(ray, "shutdown_after_job_finishes").map(|v| &v.kind) {
            Some(ValueKind::Bool(b)) => *b,
            _ => existing.is_none(),
        };
        spec.insert("shutdownAfterJobFinishes".into(), json!(shutdown));
        if let Some(ttl) = field(ray, "ttl_seconds_after_finished") {
            if let Some(n) = self.known_int(ttl, "ttl_seconds_after_finished") {
                let shutdown_off = matches!(
                    field(ray, "shutdown_after_job_finishes").map(|v| &v.kind),
                    Some(ValueKind::Bool(false))
                );
                if n > 0 && shutdown_off && existing.is_none() {
                    let mut d = Diagnostic::new(
                        Code::E0504,
                        ttl.span,
                        "`ttl_seconds_after_finished` has no effect: the cluster is never shut down",
                        "TTL set here",
                    )
                    .help("remove the TTL, or set `shutdown_after_job_finishes = true` (the default)");
                    if let Some(off) = field(ray, "shutdown_after_job_finishes") {
                        d = d.label(off.span, "shutdown turned off here");
                    }
                    self.diagnostics.push(d);
                }
                spec.insert("ttlSecondsAfterFinished".into(), json!(n));
            }
        }
        if let Some(timeout) = field(config, "timeout") {
            if let ValueKind::Duration(d) = timeout.kind {
                if self.supports(KubeRayVersion::V1_1, Some(timeout), "timeout") {
                    spec.insert("activeDeadlineSeconds".into(), json!(d.millis() / 1000));
                }
            } else {
                self.known(timeout, "timeout");
            }
        }
        if let Some(retries) = field(config, "retries") {
            if let Some(n) = self.known_int(retries, "retries") {
                if self.supports(KubeRayVersion::V1_2, Some(retries), "retries") {
                    spec.insert("backoffLimit".into(), json!(n));
                }
            }
        }
        let head_image = self.head_image(config, ray);
        match &existing {
            Some(cluster) => {
                spec.insert("clusterSelector".into(), json!({ "ray.io/cluster": cluster.name }));
                if let (Some(wanted), Some(actual)) = (&cluster.namespace, &namespace) {
                    if wanted != actual {
                        self.error(
                            Code::E0509,
                            cluster.value.span,
                            format!("the address names namespace `{wanted}`, but the RayJob is in `{actual}`"),
                            "another namespace",
                            "a RayJob's `clusterSelector` finds clusters in its own namespace; set `namespace` to the cluster's",
                        );
                    }
                }
            }
            // A bad `address` was reported; there is no cluster of our own to describe.
            None if field(ray, "address").is_some() || field(ray, "existing_cluster").is_some() => {}
            None => {
                let cluster = self.cluster_spec(config, ray, &labels);
                spec.insert("rayClusterSpec".into(), cluster);
            }
        }
        self.submitter(config, mode, head_image.as_deref(), &mut spec);

        let legacy = self.version < KubeRayVersion::V1_0;
        let api_version = if legacy { "ray.io/v1alpha1" } else { "ray.io/v1" };
        object([
            ("apiVersion", api_version.into()),
            ("kind", "RayJob".into()),
            ("metadata", Json::Object(metadata)),
            ("spec", Json::Object(spec)),
        ])
    }

    fn some_node_has_image(&self) -> bool {
        let ray = field(Some(&self.node.config), "ray");
        entries(ray)
            .iter()
            .filter(|e| e.key == "head" || e.key == "worker")
            .any(|e| field(Some(&e.value), "image").is_some())
    }

    /// E0510 when the target version lacks a field; true when it has it.
    fn supports(&mut self, first: KubeRayVersion, value: Option<&Value>, what: &str) -> bool {
        if self.version >= first {
            return true;
        }
        let span = value.map_or(self.node.call_span, |v| v.span);
        self.error(
            Code::E0510,
            span,
            format!(
                "`{what}` needs KubeRay {first} or later, but the target is {}",
                self.version
            ),
            format!("needs KubeRay {first}"),
            format!("remove it, or build with `--kuberay-version {first}` or later"),
        );
        false
    }

    /// E0517 for a value that must be known at build time but is not.
    fn known<'v>(&mut self, value: &'v Value, what: &str) -> Option<&'v Value> {
        match &value.kind {
            ValueKind::Deferred(sym) => {
                self.error(
                    Code::E0517,
                    value.span,
                    format!("`{what}` must be known at build time, but it depends on `{}`", sym.display()),
                    "known only at run time",
                    "only entrypoint, env values, replicas and resource quantities can wait for run-time values; give this a constant, a `--set` value or a parameter default",
                );
                None
            }
            ValueKind::Unknown => None,
            _ => Some(value),
        }
    }

    fn known_text<'v>(&mut self, value: &'v Value, what: &str) -> Option<&'v str> {
        match &self.known(value, what)?.kind {
            ValueKind::Str(s) => Some(s),
            _ => None,
        }
    }

    fn known_int(&mut self, value: &Value, what: &str) -> Option<i64> {
        match self.known(value, what)?.kind {
            ValueKind::Int(n) => Some(n),
            _ => None,
        }
    }

    fn existing_cluster<'v>(&mut self, ray: Option<&'v Value>, config: Option<&Value>) -> Option<Existing<'v>> {
        if let (Some(name), Some(address)) = (field(ray, "existing_cluster"), field(ray, "address")) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0509,
                    address.span,
                    "`address` and `existing_cluster` both name the cluster to run on",
                    "second way to name it",
                )
                .label(name.span, "`existing_cluster` set here")
                .help("keep one of them: `address` is only another spelling of `existing_cluster`"),
            );
        }
        let existing = if let Some(value) = field(ray, "existing_cluster") {
            let name = self.known_text(value, "existing_cluster")?.to_owned();
            if !names::is_dns1123_label(&name) {
                self.error(
                    Code::E0505,
                    value.span,
                    format!("`{name}` is not a valid RayCluster name"),
                    "invalid name",
                    "RayCluster names are DNS-1123 labels: lower-case letters, digits and `-`",
                );
            }
            Existing {
                name,
                namespace: None,
                value,
            }
        } else {
            let value = field(ray, "address")?;
            let address = self.known_text(value, "address")?;
            match parse_address(address) {
                Some((name, namespace)) => Existing { name, namespace, value },
                None => {
                    self.error(
                        Code::E0509,
                        value.span,
                        format!("`{address}` is not the address of a RayCluster's head service"),
                        "not `ray://NAME-head-svc[.NAMESPACE]:PORT`",
                        "write `address = \"ray://NAME-head-svc:10001\"`, or `existing_cluster = \"NAME\"`",
                    );
                    return None;
                }
            }
        };
        let conflicts: Vec<(&str, Option<&Value>)> = vec![
            ("head", field(ray, "head")),
            ("worker", field(ray, "worker")),
            ("enable_autoscaling", field(ray, "enable_autoscaling")),
            ("autoscaler", field(ray, "autoscaler")),
            ("shutdown_after_job_finishes", field(ray, "shutdown_after_job_finishes")),
            ("ttl_seconds_after_finished", field(ray, "ttl_seconds_after_finished")),
            ("image", field(config, "image")),
            ("requests", field(config, "requests")),
            ("limits", field(config, "limits")),
            ("env", field(config, "env")),
            ("service_account", field(config, "service_account")),
            (
                "retries",
                field(config, "retries").filter(|v| !matches!(v.kind, ValueKind::Int(0))),
            ),
            (
                "submission_mode",
                field(config, "submission_mode").filter(|v| matches!(&v.kind, ValueKind::Str(s) if s == "SidecarMode")),
            ),
        ];
        let what = if field(ray, "existing_cluster").is_some() {
            "existing_cluster"
        } else {
            "address"
        };
        for (key, value) in conflicts {
            let Some(value) = value else { continue };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0509,
                    value.span,
                    format!("`{key}` needs a cluster of the task's own, but the task runs on an existing cluster"),
                    "needs our own cluster",
                )
                .label(existing.value.span, format!("`{what}` set here"))
                .help(format!("remove `{key}`, or remove `{what}` to run on a new cluster")),
            );
        }
        Some(existing)
    }

    fn labels(
        &mut self,
        workflow: &WorkflowPlan,
        config: Option<&Value>,
        settings: Option<&Value>,
    ) -> BTreeMap<String, Json> {
        let mut labels = BTreeMap::new();
        let generated = |v: &str| Json::String(shorten(v, MAX_LABEL_VALUE));
        labels.insert(MANAGED_BY.to_owned(), json!("rwfc"));
        labels.insert("rwf.dev/workflow".to_owned(), generated(&workflow.name));
        labels.insert("rwf.dev/node".to_owned(), generated(&self.node.name));
        labels.insert("rwf.dev/task".to_owned(), generated(&normalise(&self.node.task)));
        match &workflow.run_id {
            Some(id) => {
                labels.insert(RUN_ID_LABEL.to_owned(), generated(id));
            }
            None => self.deferred.push(DeferredField {
                pointer: "/metadata/labels/rwf.dev~1run-id".into(),
                yaml_path: None,
                ty: "str",
                quoting: None,
                expr: Sym::RunId.to_json(),
                checked: Vec::new(),
            }),
        }
        for (key, value) in self.user_map(settings, config, "labels") {
            labels.insert(key, value);
        }
        labels
    }

    /// User `labels` or `annotations`: the workflow's, then the task's (winning), validated.
    fn user_map(&mut self, settings: Option<&Value>, config: Option<&Value>, which: &str) -> BTreeMap<String, Json> {
        let mut map: BTreeMap<String, (Span, Span, String)> = BTreeMap::new();
        for source in [settings, config] {
            for entry in entries(field(source, which)) {
                if let Some(value) = self.known_text(&entry.value, which) {
                    map.insert(entry.key.clone(), (entry.key_span, entry.value.span, value.to_owned()));
                }
            }
        }
        let mut out = BTreeMap::new();
        for (key, (span, value_span, value)) in map {
            if self.reserved_key(&key, span, &which[..which.len() - 1]) {
                continue;
            }
            if !names::is_qualified_name(&key) {
                self.error(
                    Code::E0505,
                    span,
                    format!("`{key}` is not a valid {} key", &which[..which.len() - 1]),
                    "invalid key",
                    "keys are an optional DNS subdomain and `/`, then at most 63 letters, digits, `-`, `_` or `.`",
                );
            } else if which == "labels" && !names::is_label_value(&value) {
                self.error(
                    Code::E0505,
                    value_span,
                    format!("the label `{key}` has the invalid value `{value}`"),
                    "invalid label value",
                    "label values are at most 63 letters, digits, `-`, `_` or `.`, beginning and ending with a letter or digit",
                );
            }
            out.insert(key, Json::String(value));
        }
        out
    }

    fn submission_mode(&mut self, config: Option<&Value>) -> &'static str {
        let Some(value) = field(config, "submission_mode") else {
            return "K8sJobMode";
        };
        match self.known_text(value, "submission_mode") {
            Some("K8sJobMode") | None => "K8sJobMode",
            Some("HTTPMode") => "HTTPMode",
            Some("SidecarMode") => "SidecarMode",
            Some(other) => {
                let other = other.to_owned();
                let mut d = Diagnostic::new(
                    Code::E0518,
                    value.span,
                    format!("unknown submission mode \"{other}\""),
                    "not a submission mode",
                );
                d = d.suggest(&other, ["K8sJobMode", "HTTPMode", "SidecarMode"]);
                if d.help.is_none() {
                    d = d.help(
                        "the submission modes are \"K8sJobMode\" (the default), \"HTTPMode\" and \"SidecarMode\"",
                    );
                }
                self.diagnostics.push(d);
                "K8sJobMode"
            }
        }
    }

    /// §6.4: each interpolated value arrives as one literal word.
    fn entrypoint(&mut self, config: Option<&Value>, mode: &str, ray_version: Option<&str>) -> Option<Json> {
        let Some(value) = field(config, "entrypoint") else {
            self.error(
                Code::E0513,
                self.node.task_span,
                format!("task `{}` has no `entrypoint`", self.node.task),
                "no entrypoint",
                "add `entrypoint = \"python -m your.module\"`: the command of the Ray job",
            );
            return None;
        };
        let parts: Vec<CommandPart> = match &value.kind {
            ValueKind::Command(parts) => parts.clone(),
            ValueKind::Str(s) => vec![CommandPart::Text(s.clone())],
            ValueKind::Deferred(_) => vec![CommandPart::Value(value.clone())],
            _ => return None,
        };
        let literal: String = parts
            .iter()
            .filter_map(|p| match p {
                CommandPart::Text(t) => Some(t.as_str()),
                CommandPart::Value(_) => None,
            })
            .collect();
        if literal.trim().is_empty() && parts.iter().all(|p| matches!(p, CommandPart::Text(_))) {
            self.error(
                Code::E0513,
                value.span,
                "the entrypoint is empty",
                "empty",
                "give the command of the Ray job, such as `python -m your.module`",
            );
            return None;
        }
        if mode != "HTTPMode" {
            if let Some(syntax) = shell::shell_syntax(&literal) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W0502,
                        value.span,
                        format!("the entrypoint contains {syntax}, which the submitter's shell runs or expands in the submitter pod, not on the cluster"),
                        "shell syntax",
                    )
                    .help("put the commands in a script in the image, or use `submission_mode = \"HTTPMode\"`"),
                );
            }
        }
        let posix = mode == "HTTPMode" || ray_version.and_then(|v| shell::version_at_least(v, 2, 60)) == Some(true);
        let reading: Vec<shell::Piece> = parts
            .iter()
            .map(|p| match p {
                CommandPart::Text(t) => shell::Piece::Text(t),
                CommandPart::Value(_) => shell::Piece::Hole,
            })
            .collect();
        let verdicts = shell::read_holes(&reading);
        let mut pieces: Vec<Sym> = Vec::new();
        let mut checked = Vec::new();
        let mut deferred = false;
        let mut index = 0;
        for part in &parts {
            match part {
                CommandPart::Text(t) => pieces.push(Sym::Lit(ValueKind::Str(t.clone()))),
                CommandPart::Value(v) => {
                    if let Some(Err(construct)) = verdicts.get(index) {
                        self.error(
                            Code::E0516,
                            v.span,
                            "this interpolated value would not reach the job as one plain word",
                            construct.place(),
                            construct.help(),
                        );
                    }
                    index += 1;
                    match &v.kind {
                        ValueKind::Deferred(sym) => {
                            deferred = true;
                            let as_text = Sym::Op("str", vec![(**sym).clone()]);
                            if posix {
                                pieces.push(Sym::Op("shell_quote", vec![as_text]));
                            } else {
                                checked.push(as_text.to_json());
                                pieces.push(as_text);
                            }
                        }
                        kind => {
                            let Some(text) = crate::check::to_text(kind) else {
                                continue;
                            };
                            if posix {
                                pieces.push(Sym::Lit(ValueKind::Str(posix_quote(&text))));
                            } else {
                                if !is_safe_word(&text) {
                                    self.error(
                                        Code::E0516,
                                        v.span,
                                        format!("the value {text:?} would not reach the job intact in {mode}"),
                                        "unsafe in this submission mode",
                                        "declare `ray_version = \"2.60.0\"` (or later) on the cluster, use `submission_mode = \"HTTPMode\"`, or pass the value in `runtime_env.env_vars`",
                                    );
                                }
                                pieces.push(Sym::Lit(ValueKind::Str(text)));
                            }
                        }
                    }
                }
            }
        }
        if deferred {
            self.deferred.push(DeferredField {
                pointer: "/spec/entrypoint".into(),
                yaml_path: None,
                ty: "str",
                quoting: Some(if posix { "posix" } else { "safe_word" }),
                expr: Sym::Op("concat", pieces).to_json(),
                checked,
            });
            return None;
        }
        let joined: String = pieces
            .iter()
            .filter_map(|p| match p {
                Sym::Lit(ValueKind::Str(s)) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        Some(Json::String(joined))
    }

    fn runtime_env(&mut self, ray: Option<&Value>, mode: &str, spec: &mut Map<String, Json>) {
        // KubeRay writes the runtime env into the submitter's bash script in these modes (§6.4).
        let through_bash = mode != "HTTPMode";
        let env_quoting = through_bash.then_some("no_shell_expansion");
        let mut env: BTreeMap<String, Json> = BTreeMap::new();
        let mut env_vars: BTreeMap<String, Json> = BTreeMap::new();
        let runtime_env = field(ray, "runtime_env");
        let installers: Vec<&Entry> = entries(runtime_env)
            .iter()
            .filter(|e| matches!(e.key.as_str(), "pip" | "uv" | "conda") && !matches!(e.value.kind, ValueKind::None))
            .collect();
        if let [first, second, ..] = installers.as_slice() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0515,
                    second.key_span,
                    format!("`runtime_env` sets both `{}` and `{}`", first.key, second.key),
                    "second package manager",
                )
                .label(first.key_span, "first set here")
                .help("Ray accepts only one of `pip`, `uv` and `conda`; list pip packages inside the conda environment instead"),
            );
        }
        if let (Some(env), true) = (runtime_env, through_bash) {
            self.expansions_in_runtime_env(env, mode);
        }
        for entry in entries(runtime_env) {
            match entry.key.as_str() {
                "env_vars" => {
                    for var in entries(Some(&entry.value)) {
                        match &var.value.kind {
                            ValueKind::Str(s) => {
                                env_vars.insert(var.key.clone(), Json::String(s.clone()));
                            }
                            ValueKind::Deferred(sym) => self.deferred.push(DeferredField {
                                pointer: "/spec/runtimeEnvYAML".into(),
                                yaml_path: Some(format!("/env_vars/{}", pointer_escape(&var.key))),
                                ty: "str",
                                quoting: env_quoting,
                                expr: sym.to_json(),
                                checked: Vec::new(),
                            }),
                            _ => {}
                        }
                    }
                }
                "pip" | "conda" => {
                    let ok = match (&entry.value.kind, entry.key.as_str()) {
                        (ValueKind::List(items), "pip") => items.iter().all(|i| matches!(i.kind, ValueKind::Str(_))),
                        (ValueKind::Str(_) | ValueKind::Record(_), _) => true,
                        _ => false,
                    };
                    if !ok {
                        let shape = if entry.key == "pip" {
                            "a list of package strings, a requirements file path, or a mapping"
                        } else {
                            "an environment name, a YAML file path, or a mapping"
                        };
                        self.error(
                            Code::E0515,
                            entry.value.span,
                            format!("`runtime_env.{}` must be {shape}", entry.key),
                            format!("this is {}", entry.value.kind_name()),
                            if entry.key == "pip" {
                                "write `pip = [\"pandas==2.2.2\"]`"
                            } else {
                                "write `conda = \"my-env\"`, or a mapping with the environment's `dependencies`"
                            },
                        );
                        continue;
                    }
                    if let Some(json) = self.plain_json(&entry.value, &entry.key) {
                        env.insert(entry.key.clone(), json);
                    }
                }
                key => {
                    self.local_paths(entry);
                    if let Some(json) = self.plain_json(&entry.value, key) {
                        env.insert(key.to_owned(), json);
                    }
                }
            }
        }
        for (name, uri) in &self.node.outputs {
            let key = format!("RWF_OUTPUT_{}", name.to_uppercase());
            match &uri.kind {
                ValueKind::Str(s) => {
                    if through_bash && shell::expands_in_double_quotes(s) {
                        self.error(
                            Code::E0519,
                            uri.span,
                            format!("the output URI {s:?} of this call holds `$` or a backtick, which the submitter's bash would expand"),
                            "output URI",
                            format!("in {mode} KubeRay passes the runtime env through bash in double quotes: remove `$` and backticks from `storage` (or `--storage`)"),
                        );
                    }
                    env_vars.insert(key, Json::String(s.clone()));
                }
                ValueKind::Deferred(sym) => self.deferred.push(DeferredField {
                    pointer: "/spec/runtimeEnvYAML".into(),
                    yaml_path: Some(format!("/env_vars/{key}")),
                    ty: "str",
                    quoting: env_quoting,
                    expr: sym.to_json(),
                    checked: Vec::new(),
                }),
                _ => {}
            }
        }
        if !env_vars.is_empty() {
            env.insert("env_vars".into(), Json::Object(env_vars.into_iter().collect()));
        }
        if env.is_empty() {
            return;
        }
        let mapping = sorted(&Json::Object(env.into_iter().collect()));
        self.runtime_env = Some(mapping.clone());
        if self.version < KubeRayVersion::V1_0 {
            use base64::Engine;
            let bytes = serde_json::to_vec(&mapping).unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            spec.insert("runtimeEnv".into(), Json::String(encoded));
        } else {
            spec.insert("runtimeEnvYAML".into(), Json::String(yaml::to_string(&mapping)));
        }
    }

    /// E0519 for every `runtime_env` key or string with `$` or a backtick: in K8sJobMode and
    /// SidecarMode KubeRay writes the runtime env JSON into the submitter's bash script inside
    /// double quotes (Go's `strconv.Quote`), where bash expands both.
    fn expansions_in_runtime_env(&mut self, value: &Value, mode: &str) {
        let help = format!(
            "in {mode} KubeRay passes the runtime env to `ray job submit` through bash in double quotes; remove `$` and backticks, or use `submission_mode = \"HTTPMode\"`, which sends it as JSON"
        );
        match &value.kind {
            ValueKind::Str(text) if shell::expands_in_double_quotes(text) => self.error(
                Code::E0519,
                value.span,
                "a `runtime_env` string holds `$` or a backtick, which the submitter's bash would expand",
                "expanded by bash",
                help,
            ),
            ValueKind::List(items) => items.iter().for_each(|i| self.expansions_in_runtime_env(i, mode)),
            ValueKind::Record(entries) => {
                for entry in entries {
                    if shell::expands_in_double_quotes(&entry.key) {
                        self.error(
                            Code::E0519,
                            entry.key_span,
                            "a `runtime_env` key holds `$` or a backtick, which the submitter's bash would expand",
                            "expanded by bash",
                            help.clone(),
                        );
                    }
                    self.expansions_in_runtime_env(&entry.value, mode);
                }
            }
            _ => {}
        }
    }

    /// A configuration value as plain JSON; deferred values are E0517 here.
    fn plain_json(&mut self, value: &Value, what: &str) -> Option<Json> {
        self.no_deferred_in(value, what);
        let json = manifest::value_json(value);
        (!json.is_null()).then_some(json)
    }

    fn head_image(&self, config: Option<&Value>, ray: Option<&Value>) -> Option<String> {
        text(field(field(ray, "head"), "image"))
            .or(text(field(config, "image")))
            .map(str::to_owned)
    }

    fn submitter(
        &mut self,
        config: Option<&Value>,
        mode: &str,
        head_image: Option<&str>,
        spec: &mut Map<String, Json>,
    ) {
        let Some(submitter) = field(config, "submitter") else {
            return;
        };
        if mode != "K8sJobMode" {
            self.error(
                Code::E0518,
                submitter.span,
                format!("`submitter` applies only to K8sJobMode, but this task uses {mode}"),
                "no submitter pod in this mode",
                "remove `submitter`, or use the default submission mode",
            );
            return;
        }
        let image = text(field(Some(submitter), "image")).or(head_image);
        let mut container = Map::new();
        container.insert("name".into(), json!("ray-job-submitter"));
        if let Some(image) = image {
            container.insert("image".into(), json!(image));
        }
        let resources = self.resources(
            field(Some(submitter), "requests"),
            field(Some(submitter), "limits"),
            "/spec/submitterPodTemplate/spec/containers/0/resources",
        );
        if !resources.is_empty() {
            container.insert("resources".into(), Json::Object(resources));
        }
        spec.insert(
            "submitterPodTemplate".into(),
            object([(
                "spec",
                object([
                    ("containers", Json::Array(vec![Json::Object(container)])),
                    ("restartPolicy", "Never".into()),
                ]),
            )]),
        );
    }

    fn cluster_spec(&mut self, config: Option<&Value>, ray: Option<&Value>, labels: &BTreeMap<String, Json>) -> Json {
        let mut cluster = Map::new();
        if let Some(version) = field(ray, "ray_version").and_then(|v| self.known_text(v, "ray_version")) {
            cluster.insert("rayVersion".into(), json!(version));
        }
        let autoscaling = matches!(
            field(ray, "enable_autoscaling").map(|v| &v.kind),
            Some(ValueKind::Bool(true))
        );
        cluster.insert("enableInTreeAutoscaling".into(), json!(autoscaling));
        if let Some(options) = field(ray, "autoscaler") {
            let mut out = Map::new();
            if let Some(mode) = field(Some(options), "upscaling_mode") {
                match self.known_text(mode, "upscaling_mode") {
                    Some(m @ ("Default" | "Conservative" | "Aggressive")) => {
                        out.insert("upscalingMode".into(), json!(m));
                    }
                    Some(other) => {
                        let other = other.to_owned();
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E0201,
                                mode.span,
                                format!("unknown upscaling mode \"{other}\""),
                                "not an upscaling mode",
                            )
                            .suggest(&other, ["Default", "Conservative", "Aggressive"]),
                        );
                    }
                    None => {}
                }
            }
            if let Some(ValueKind::Duration(d)) = field(Some(options), "idle_timeout").map(|v| &v.kind) {
                out.insert("idleTimeoutSeconds".into(), json!(d.millis() / 1000));
            }
            cluster.insert("autoscalerOptions".into(), Json::Object(out));
        }
        let task_requests = field(config, "requests");
        let task_limits = field(config, "limits");
        let mut receivers: Vec<(bool, Option<&Value>)> = Vec::new();
        let head = field(ray, "head");
        let head_spec = self.group(
            config,
            head,
            "ray-head",
            "/spec/rayClusterSpec/headGroupSpec",
            labels,
            &mut receivers,
        );
        cluster.insert("headGroupSpec".into(), head_spec);
        let mut groups = Vec::new();
        let workers: Vec<&Entry> = entries(ray).iter().filter(|e| e.key == "worker").collect();
        for entry in workers {
            let name = entry.label.clone().unwrap_or_default();
            if !names::is_dns1123_label(&name) {
                self.error(
                    Code::E0512,
                    entry.key_span,
                    format!("the worker group name \"{name}\" is not a DNS-1123 label"),
                    "invalid group name",
                    format!(
                        "use lower-case letters, digits and `-`, at most 63 characters, such as \"{}\"",
                        normalise(&name)
                            .chars()
                            .take(63)
                            .collect::<String>()
                            .trim_end_matches('-')
                    ),
                );
            }
            let pointer = format!("/spec/rayClusterSpec/workerGroupSpecs/{}", groups.len());
            let mut group = self.group(
                config,
                Some(&entry.value),
                "ray-worker",
                &pointer,
                labels,
                &mut receivers,
            );
            self.replicas(&entry.value, autoscaling, &name, &pointer, &mut group);
            if let Json::Object(map) = &mut group {
                let mut ordered = Map::new();
                ordered.insert("groupName".into(), json!(name));
                for key in ["replicas", "minReplicas", "maxReplicas"] {
                    if let Some(v) = map.remove(key) {
                        ordered.insert(key.into(), v);
                    }
                }
                ordered.append(map);
                group = Json::Object(ordered);
            }
            groups.push(group);
        }
        self.unreceived_resources(task_requests, task_limits, &receivers);
        self.gpus_on_head(task_requests, task_limits, &receivers);
        if !groups.is_empty() {
            cluster.insert("workerGroupSpecs".into(), Json::Array(groups));
        }
        Json::Object(cluster)
    }

    /// W0503: task-level resource keys that every node replaces.
    fn unreceived_resources(
        &mut self,
        requests: Option<&Value>,
        limits: Option<&Value>,
        receivers: &[(bool, Option<&Value>)],
    ) {
        for (which, task) in [("requests", requests), ("limits", limits)] {
            for entry in entries(task) {
                let received = receivers
                    .iter()
                    .any(|(skips, node)| !skips && field(field(*node, which), &entry.key).is_none());
                if !received && !receivers.is_empty() {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::W0503,
                            entry.key_span,
                            format!(
                                "the task-level `{which}.{}` reaches no node: every node sets its own",
                                entry.key
                            ),
                            "never used",
                        )
                        .help("remove it from the task, or leave it out of a node that should take it"),
                    );
                }
            }
        }
    }

    /// A head or worker group: `rayStartParams` and the pod template.
    fn group<'v>(
        &mut self,
        config: Option<&'v Value>,
        node: Option<&'v Value>,
        role: &str,
        pointer: &str,
        labels: &BTreeMap<String, Json>,
        receivers: &mut Vec<(bool, Option<&'v Value>)>,
    ) -> Json {
        let mut params = Map::new();
        let mut sorted_params: BTreeMap<String, Json> = BTreeMap::new();
        for entry in entries(field(node, "ray_start_params")) {
            if entry.key == "labels" {
                self.error(
                    Code::E0511,
                    entry.key_span,
                    "KubeRay rejects `labels` in `ray_start_params`",
                    "rejected by KubeRay",
                    "give Kubernetes labels with the task's `labels`; KubeRay sets Ray's own node labels itself",
                );
                continue;
            }
            let text = match &entry.value.kind {
                ValueKind::Quantity(q) if matches!(entry.key.as_str(), "memory" | "object-store-memory") => {
                    Some(q.to_integer_string())
                }
                kind => match self.known(&entry.value, "ray_start_params") {
                    Some(_) => crate::check::to_text(kind),
                    None => None,
                },
            };
            if !shell::is_safe_word(&entry.key) {
                self.error(
                    Code::E0519,
                    entry.key_span,
                    format!("the `ray_start_params` key {:?} is not a plain option name", entry.key),
                    "spliced into `ray start`",
                    "KubeRay writes each entry as `--KEY=VALUE` into the `ray start` command of the pod's bash; keys are `ray start` option names such as `num-cpus`",
                );
            }
            if let Some(text) = text {
                if shell::is_one_bash_word(&text) {
                    self.integer_start_param(entry, &text);
                } else {
                    self.error(
                        Code::E0519,
                        entry.value.span,
                        format!("the `ray_start_params` value {text:?} would not reach `ray start` as one word"),
                        "expanded or split by bash",
                        "KubeRay splices `--KEY=VALUE` into the pod's bash command unquoted: use letters, digits and `_ . / : = @ % + , -`, and wrap JSON in single quotes (`\"'{\\\"CPU\\\": 1}'\"`)",
                    );
                }
                sorted_params.insert(entry.key.clone(), Json::String(text));
            }
        }
        params.extend(sorted_params);

        let image = match field(node, "image").or(field(config, "image")) {
            Some(value) => self.known_text(value, "image").map(str::to_owned),
            None => None,
        };
        let pod_template = field(node, "pod_template");
        let (pod, _) = match pod_template {
            Some(template) => check_pod_spec(template, "pod_template"),
            None => (Json::Object(Map::new()), Vec::new()),
        };
        if let Some(template) = pod_template {
            self.no_deferred_in(template, "pod_template");
        }
        let mut pod = match pod {
            Json::Object(map) => map,
            _ => Map::new(),
        };
        let containers = match pod.remove("containers") {
            Some(Json::Array(list)) => list,
            _ => Vec::new(),
        };
        let (ray_container, sidecars): (Vec<Json>, Vec<Json>) = containers
            .into_iter()
            .partition(|c| c.get("name").and_then(Json::as_str) == Some(role));
        let template_container = ray_container.into_iter().next();
        let template_sets_resources = template_container
            .as_ref()
            .is_some_and(|c| c.get("resources").is_some());
        let node_requests = field(node, "requests");
        let node_limits = field(node, "limits");
        if template_sets_resources {
            if let Some(r) = node_requests.or(node_limits) {
                let span = pod_template.map_or(r.span, |p| p.span);
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0501,
                        r.span,
                        format!("the node sets resources, and so does its pod template's `{role}` container"),
                        "resources here",
                    )
                    .label(span, "the template's Ray container sets `resources`")
                    .help("keep one of them: remove `resources` from the template container, or `requests`/`limits` from the node"),
                );
            }
        }
        receivers.push((template_sets_resources, node));
        let (task_requests, task_limits) = if template_sets_resources {
            (None, None)
        } else {
            (field(config, "requests"), field(config, "limits"))
        };
        let container_pointer = format!("{pointer}/template/spec/containers/0");
        let merged_requests = merge_resources(task_requests, node_requests);
        let merged_limits = merge_resources(task_limits, node_limits);
        let unresourced = [&merged_requests, &merged_limits].iter().all(|r| {
            entries(r.as_ref())
                .iter()
                .all(|e| matches!(e.value.kind, ValueKind::None))
        });
        if role == "ray-head" && !template_sets_resources && unresourced {
            self.best_effort_head(config, node);
        }
        let resources = self.resources(
            merged_requests.as_ref(),
            merged_limits.as_ref(),
            &format!("{container_pointer}/resources"),
        );

        let mut container = Map::new();
        container.insert("name".into(), json!(role));
        let image_given = field(node, "image").or(field(config, "image")).is_some();
        match image {
            Some(image) => {
                container.insert("image".into(), json!(image));
            }
            None if image_given => {}
            // When no node has an image either, that is one problem, reported once on the task.
            None if !self.some_node_has_image() => self.error(
                Code::E0514,
                self.node.task_span,
                format!("task `{}` has no `image` for its Ray containers", self.node.task),
                "no image",
                "set `image = \"rayproject/ray:2.40.0\"` (the image with your code and Ray) on the task",
            ),
            None => self.error(
                Code::E0514,
                node.map_or(self.node.task_span, |n| n.span),
                format!("the `{role}` container has no image"),
                "no image",
                "set `image` on the task, or on this node",
            ),
        }
        if !resources.is_empty() {
            container.insert("resources".into(), Json::Object(resources));
        }
        let env = self.env(config, &container_pointer);
        if let Some(Json::Object(template)) = template_container {
            for (key, value) in template {
                match (container.get_mut(&key), value) {
                    (_, _) if key == "name" => {}
                    (Some(Json::Array(mine)), Json::Array(theirs)) => mine.extend(theirs),
                    (_, value) => {
                        container.insert(key, value);
                    }
                }
            }
        }
        if !env.is_empty() {
            let mut merged: Vec<Json> = match container.remove("env") {
                Some(Json::Array(list)) => list
                    .into_iter()
                    .filter(|e| {
                        let name = e.get("name").and_then(Json::as_str);
                        !env.iter().any(|mine| mine.get("name").and_then(Json::as_str) == name)
                    })
                    .collect(),
                _ => Vec::new(),
            };
            merged.extend(env);
            container.insert("env".into(), Json::Array(merged));
        }
        let mut containers = vec![Json::Object(container)];
        containers.extend(sidecars);
        let mut spec = Map::new();
        spec.insert("containers".into(), Json::Array(containers));
        for (key, value) in pod {
            spec.insert(key, value);
        }
        if let Some(value) = field(config, "service_account").or(field(Some(&self.node.settings), "service_account")) {
            if let Some(account) = self.known_text(value, "service_account") {
                if !names::is_dns1123_subdomain(account) {
                    self.error(
                        Code::E0505,
                        value.span,
                        format!("`{account}` is not a valid service account name"),
                        "invalid name",
                        "service account names are DNS subdomains: lower-case letters, digits, `-` and `.`",
                    );
                }
                spec.insert("serviceAccountName".into(), json!(account));
            }
        }
        let spec: BTreeMap<String, Json> = spec.into_iter().collect();
        // KubeRay copies no RayJob label to the pods it creates from this template.
        if !labels.contains_key(RUN_ID_LABEL) {
            self.deferred.push(DeferredField {
                pointer: format!("{pointer}/template/metadata/labels/rwf.dev~1run-id"),
                yaml_path: None,
                ty: "str",
                quoting: None,
                expr: Sym::RunId.to_json(),
                checked: Vec::new(),
            });
        }
        object([
            ("rayStartParams", Json::Object(params)),
            (
                "template",
                object([
                    (
                        "metadata",
                        object([("labels", Json::Object(labels.clone().into_iter().collect()))]),
                    ),
                    ("spec", Json::Object(spec.into_iter().collect())),
                ]),
            ),
        ])
    }

    /// E0517 for any run-time value inside `value`.
    fn no_deferred_in(&mut self, value: &Value, what: &str) {
        match &value.kind {
            ValueKind::Deferred(_) => {
                self.known(value, what);
            }
            ValueKind::List(items) => items.iter().for_each(|i| self.no_deferred_in(i, what)),
            ValueKind::Record(entries) => entries.iter().for_each(|e| self.no_deferred_in(&e.value, what)),
            _ => {}
        }
    }

    /// `env` of the Ray containers: values and secret references, in source order.
    fn env(&mut self, config: Option<&Value>, container_pointer: &str) -> Vec<Json> {
        let mut out = Vec::new();
        for entry in entries(field(config, "env")) {
            self.env_name(entry);
            match &entry.value.kind {
                ValueKind::Secret { name, key } => out.push(json!({
                    "name": entry.key,
                    "valueFrom": { "secretKeyRef": { "name": name, "key": key } },
                })),
                ValueKind::Deferred(sym) => {
                    self.deferred.push(DeferredField {
                        pointer: format!("{container_pointer}/env/{}/value", out.len()),
                        yaml_path: None,
                        ty: "str",
                        quoting: None,
                        expr: Sym::Op("str", vec![(**sym).clone()]).to_json(),
                        checked: Vec::new(),
                    });
                    out.push(json!({ "name": entry.key }));
                }
                kind => {
                    if let Some(text) = crate::check::to_text(kind) {
                        out.push(json!({ "name": entry.key, "value": text }));
                    }
                }
            }
        }
        out
    }

    /// `resources` of a container: keys under their Kubernetes names (`gpu` and
    /// `"nvidia.com/gpu"` are one key), requests and limits mirrored, quantities canonical;
    /// deferred quantities are recorded and left out.
    fn resources(&mut self, requests: Option<&Value>, limits: Option<&Value>, pointer: &str) -> Map<String, Json> {
        self.resource_rules(requests, limits);
        let by_name = |value: Option<&Value>| -> BTreeMap<String, Value> {
            entries(value)
                .iter()
                .filter(|e| !matches!(e.value.kind, ValueKind::None))
                .map(|e| (resource_name(&e.key).to_owned(), e.value.clone()))
                .collect()
        };
        let requested = by_name(requests);
        let limited = by_name(limits);
        for (key, request) in &requested {
            let Some(limit) = limited.get(key) else { continue };
            // Kubernetes does not overcommit extended resources such as GPUs.
            if !key.contains('/') {
                continue;
            }
            if let (ValueKind::Quantity(a), ValueKind::Quantity(b)) = (&request.kind, &limit.kind) {
                if !a.same_value(*b) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0507,
                            limit.span,
                            format!("`{key}` limits ({}) differ from its requests ({})", b.canonical(), a.canonical()),
                            "differs from the request",
                        )
                        .label(request.span, "requested here")
                        .help("Kubernetes requires requests and limits of GPUs and other extended resources to be equal; give one number"),
                    );
                }
            }
        }
        let mut out = Map::new();
        for (which, own, other) in [("requests", &requested, &limited), ("limits", &limited, &requested)] {
            let mut map: BTreeMap<String, Json> = BTreeMap::new();
            for (key, value) in other.iter().chain(own.iter()) {
                match &value.kind {
                    ValueKind::Quantity(q) => {
                        let pointer = format!("{pointer}/{which}/{}", pointer_escape(key));
                        self.deferred.retain(|d| d.pointer != pointer);
                        map.insert(key.clone(), json!(q.canonical()));
                    }
                    ValueKind::Deferred(sym) => {
                        map.remove(key);
                        let pointer = format!("{pointer}/{which}/{}", pointer_escape(key));
                        self.deferred.retain(|d| d.pointer != pointer);
                        self.deferred.push(DeferredField {
                            pointer,
                            yaml_path: None,
                            ty: "quantity",
                            quoting: None,
                            expr: Sym::Op("quantity", vec![(**sym).clone()]).to_json(),
                            checked: Vec::new(),
                        });
                    }
                    _ => {}
                }
            }
            if !map.is_empty() {
                out.insert(which.into(), Json::Object(map.into_iter().collect()));
            }
        }
        out
    }

    /// `replicas`, `minReplicas`, `maxReplicas` with their defaults and bounds (E0503, W0501).
    fn replicas(&mut self, worker: &Value, autoscaling: bool, group: &str, pointer: &str, out: &mut Json) {
        let replicas = field(Some(worker), "replicas");
        let min = field(Some(worker), "min_replicas");
        let max = field(Some(worker), "max_replicas");
        let one = Value::new(ValueKind::Int(1), worker.span);
        let replicas_value = replicas.or(min).unwrap_or(&one).clone();
        let min_value = min.unwrap_or(&replicas_value).clone();
        let max_value = max.unwrap_or(&replicas_value).clone();
        if autoscaling && max.is_none() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W0501,
                    worker.span,
                    format!(
                        "worker group \"{group}\" can never grow: `max_replicas` is unset, so it equals `replicas`"
                    ),
                    "fixed size",
                )
                .help("set `max_replicas` to let the autoscaler add workers"),
            );
        }
        // Bounds left unset are `replicas` itself, so only explicit ones can be violated.
        let r = range_of(&replicas_value.kind);
        let lo = min.and_then(|m| range_of(&m.kind));
        let hi = max.and_then(|m| range_of(&m.kind));
        if let (Some(lo), Some(hi), Some(min), Some(max)) = (lo, hi, min, max) {
            if lo.0 > hi.1 {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0503,
                        min.span,
                        format!(
                            "worker group \"{group}\": `min_replicas` ({}) is above `max_replicas` ({})",
                            show(lo),
                            show(hi)
                        ),
                        "above the maximum",
                    )
                    .label(max.span, "maximum")
                    .help("make `min_replicas` at most `max_replicas`"),
                );
            }
        }
        if let (Some(r), true) = (r, lo.is_some() || hi.is_some()) {
            let floor = lo.map_or(i64::MIN, |l| l.1);
            let ceiling = hi.map_or(i64::MAX, |h| h.0);
            if (r.0 < floor || r.1 > ceiling) && replicas.is_some() {
                let bounds = match (lo, hi) {
                    (Some(l), Some(h)) => format!("within [{}, {}]", fmt_bound(l.1), fmt_bound(h.0)),
                    (Some(l), None) => format!("at least `min_replicas` ({})", fmt_bound(l.1)),
                    (_, Some(h)) => format!("at most `max_replicas` ({})", fmt_bound(h.0)),
                    (None, None) => String::new(),
                };
                let deferred = matches!(replicas_value.kind, ValueKind::Deferred(_));
                let message = if deferred {
                    format!(
                        "worker group \"{group}\": `replicas` is proven only to lie in [{}, {}], not {bounds}",
                        fmt_bound(r.0),
                        fmt_bound(r.1)
                    )
                } else {
                    format!(
                        "worker group \"{group}\": `replicas` is {}, but must be {bounds}",
                        show(r)
                    )
                };
                let mut d = Diagnostic::new(Code::E0503, replicas_value.span, message, "outside the bounds").help(
                    if deferred {
                        "wrap it in `clamp(..., min, max)` with the group's bounds"
                    } else {
                        "set `replicas` between `min_replicas` and `max_replicas`"
                    },
                );
                for bound in [min, max].into_iter().flatten() {
                    d = d.label(bound.span, "bound set here");
                }
                self.diagnostics.push(d);
            }
        }
        let Json::Object(map) = out else { return };
        for (key, value) in [
            ("replicas", &replicas_value),
            ("minReplicas", &min_value),
            ("maxReplicas", &max_value),
        ] {
            match &value.kind {
                ValueKind::Int(n) => {
                    map.insert(key.into(), json!(n));
                }
                ValueKind::Deferred(sym) => self.deferred.push(DeferredField {
                    pointer: format!("{pointer}/{key}"),
                    yaml_path: None,
                    ty: "int",
                    quoting: None,
                    expr: sym.to_json(),
                    checked: Vec::new(),
                }),
                _ => {}
            }
        }
    }
}

fn fmt_bound(n: i64) -> String {
    match n {
        i64::MIN => "-∞".into(),
        i64::MAX => "∞".into(),
        n => n.to_string(),
    }
}

fn show(range: (i64, i64)) -> String {
    if range.0 == range.1 {
        range.0.to_string()
    } else {
        format!("in [{}, {}]", fmt_bound(range.0), fmt_bound(range.1))
    }
}

/// The proven range of an integer value: exact for constants, interval arithmetic through
/// `min`, `max`, `clamp`, `if`, `+`, `-` and `*` (§8); unbounded where nothing is known.
pub fn range_of(kind: &ValueKind) -> Option<(i64, i64)> {
    match kind {
        ValueKind::Int(n) => Some((*n, *n)),
        ValueKind::Deferred(sym) => Some(sym_range(sym)),
        _ => None,
    }
}

fn sym_range(sym: &Sym) -> (i64, i64) {
    const ALL: (i64, i64) = (i64::MIN, i64::MAX);
    match sym {
        Sym::Lit(ValueKind::Int(n)) => (*n, *n),
        Sym::Op(op, args) => {
            let r: Vec<(i64, i64)> = args.iter().map(sym_range).collect();
            match (*op, r.as_slice()) {
                ("min", [first, rest @ ..]) => rest.iter().fold(*first, |acc, x| (acc.0.min(x.0), acc.1.min(x.1))),
                ("max", [first, rest @ ..]) => rest.iter().fold(*first, |acc, x| (acc.0.max(x.0), acc.1.max(x.1))),
                ("clamp", [x, lo, hi]) => (x.0.max(lo.0).min(hi.1), x.1.min(hi.1).max(lo.0)),
                ("if", [_, a, b]) => (a.0.min(b.0), a.1.max(b.1)),
                ("add", [a, b]) => (a.0.saturating_add(b.0), a.1.saturating_add(b.1)),
                ("sub", [a, b]) => (a.0.saturating_sub(b.1), a.1.saturating_sub(b.0)),
                ("mul", [a, b]) => {
                    let products = [
                        a.0.saturating_mul(b.0),
                        a.0.saturating_mul(b.1),
                        a.1.saturating_mul(b.0),
                        a.1.saturating_mul(b.1),
                    ];
                    let lo = products.iter().copied().min().unwrap_or(i64::MIN);
                    let hi = products.iter().copied().max().unwrap_or(i64::MAX);
                    (lo, hi)
                }
                _ => ALL,
            }
        }
        _ => ALL,
    }
}

/// Task-level resources with the node's own merged over them key by key.
fn merge_resources(task: Option<&Value>, node: Option<&Value>) -> Option<Value> {
    match (task, node) {
        (None, None) => None,
        (Some(t), None) => Some(t.clone()),
        (None, Some(n)) => Some(n.clone()),
        (Some(t), Some(n)) => Some(crate::check::merge_maps(t, n)),
    }
}

/// A JSON value with every object's keys sorted, for YAML written from it.
fn sorted(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let ordered: BTreeMap<&String, Json> = map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Json::Object(ordered.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Json::Array(items) => Json::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}
