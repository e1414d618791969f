//! What Kubernetes' own validation rejects in the parts of a RayJob rwfc writes from task fields
//! (resources, labels, annotations, env names, RayJob names): the CRD schema cannot tell, and
//! KubeRay only finds out when it creates the pods.

use super::{entries, field, Emitter, MANAGED_BY};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::names::{self, normalise, shorten, MAX_RAYJOB_NAME};
use crate::plan::{BuildOptions, Node, WorkflowPlan};
use crate::quantity::Quantity;
use crate::types::resource_name;
use crate::value::{Entry, Sym, Value, ValueKind};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap};

/// Kubernetes' limit on the total size of an object's annotations, keys and values.
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The RayJob name of `node` before its run (§9): the task's with `--task`, else
/// `<workflow>-<node>`.
fn rayjob_base_name(workflow: &WorkflowPlan, node: &Node) -> String {
    if workflow.single_task {
        normalise(&node.task)
    } else {
        format!("{}-{}", workflow.name, node.name)
    }
}

/// Hex digits of the run id's SHA-256 in a RayJob name: two runs never share a name.
const RUN_DIGITS: usize = 6;

/// The RayJob name of `node`, `<base>-<run>`, shortened to what KubeRay accepts; the expression
/// that computes it when the run id is known only at run time. The length of `<run>` is fixed,
/// so whether the name is shortened, and the 38 characters it then keeps, are known now.
pub(super) fn rayjob_name(workflow: &WorkflowPlan, node: &Node) -> Result<String, Sym> {
    rayjob_name_within(workflow, node, MAX_RAYJOB_NAME)
}

/// The RayJob name of `node` shortened to `max` characters (the Argo target's `generateName`
/// prefix leaves room for the random suffix Kubernetes appends).
pub fn rayjob_name_within(workflow: &WorkflowPlan, node: &Node, max: usize) -> Result<String, Sym> {
    let base = rayjob_base_name(workflow, node);
    let Some(run_id) = &workflow.run_id else {
        let run = hex_prefix(Sym::RunId, RUN_DIGITS);
        let joined_length = base.len() + 1 + RUN_DIGITS;
        if joined_length <= max {
            return Err(Sym::Op("concat", vec![literal(format!("{base}-")), run]));
        }
        let full = Sym::Op("concat", vec![literal(format!("{base}-")), run]);
        let digits = names::SHORTENED_DIGITS;
        let kept = base.get(..max - digits - 1).unwrap_or(&base);
        return Err(Sym::Op(
            "concat",
            vec![literal(format!("{kept}-")), hex_prefix(full, digits)],
        ));
    };
    let run = names::sha256_hex(run_id.as_bytes());
    let run = run.get(..RUN_DIGITS).unwrap_or(&run);
    Ok(shorten(&format!("{base}-{run}"), max))
}

fn literal(text: String) -> Sym {
    Sym::Lit(ValueKind::Str(text))
}

/// The first `digits` hex digits of the SHA-256 of a string expression.
fn hex_prefix(of: Sym, digits: usize) -> Sym {
    Sym::Op("sha256_hex", vec![of, Sym::Lit(ValueKind::Int(digits as i64))])
}

/// E0102 for two nodes whose RayJobs would get one name in one namespace: distinct node names
/// can still meet once joined to their workflow's name (`a-b` + `c`, `a` + `b-c`) or shortened.
/// Tasks checked on their own are never built together with workflows, so they are left out.
pub fn rayjob_name_collisions(workflows: &[WorkflowPlan], options: &BuildOptions, diagnostics: &mut Diagnostics) {
    let mut first: HashMap<(Option<&str>, String), (&String, &Node)> = HashMap::new();
    for workflow in workflows.iter().filter(|w| !w.single_task) {
        for node in &workflow.nodes {
            let namespace = [&node.config, &node.settings]
                .into_iter()
                .find_map(|source| source.get("namespace"))
                .map_or(options.namespace.as_deref(), |ns| match &ns.kind {
                    ValueKind::Str(s) => Some(s.as_str()),
                    _ => None,
                });
            // Nodes of one build share its run: their names meet exactly when their bases do.
            let name = rayjob_name(workflow, node).unwrap_or_else(|_| rayjob_base_name(workflow, node));
            match first.get(&(namespace, name.clone())) {
                // Two nodes of one name were reported when the workflow was planned.
                Some((earlier_workflow, earlier))
                    if **earlier_workflow == workflow.name && earlier.name == node.name => {}
                Some((earlier_workflow, earlier)) => diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        node.name_span,
                        format!("two nodes get the RayJob name `{name}`"),
                        format!("gets `{name}`"),
                    )
                    .label(
                        earlier.name_span,
                        format!("node `{}` of workflow `{earlier_workflow}` gets it too", earlier.name),
                    )
                    .help("rename one of the nodes (or its workflow): KubeRay keeps one RayJob per name and namespace"),
                ),
                None => {
                    first.insert((namespace, name), (&workflow.name, node));
                }
            }
        }
    }
}

/// rwfc's own label and annotation keys, which a user's would overwrite.
fn is_reserved_key(key: &str) -> bool {
    key.starts_with("rwf.dev/") || key == MANAGED_BY
}

/// The entry behind a user label or annotation: the task's wins over the workflow's.
fn user_entry<'v>(settings: Option<&'v Value>, config: Option<&'v Value>, which: &str, key: &str) -> Option<&'v Entry> {
    [config, settings]
        .into_iter()
        .find_map(|source| entries(field(source, which)).iter().rev().find(|e| e.key == key))
}

impl Emitter<'_> {
    /// E0505 for a user key that would overwrite one of rwfc's labels or annotations.
    pub(super) fn reserved_key(&mut self, key: &str, span: crate::source::Span, which: &str) -> bool {
        if !is_reserved_key(key) {
            return false;
        }
        self.error(
            Code::E0505,
            span,
            format!("the {which} key `{key}` is reserved: rwfc sets it itself"),
            "reserved key",
            "choose a key outside `rwf.dev/` and other than `app.kubernetes.io/managed-by`; rwfc uses them to find the RayJobs of a run",
        );
        true
    }

    /// E0505 when the annotations of the RayJob exceed Kubernetes' 256 KiB.
    pub(super) fn annotations_size(
        &mut self,
        annotations: &BTreeMap<String, Json>,
        settings: Option<&Value>,
        config: Option<&Value>,
    ) {
        let size = |(key, value): (&String, &Json)| key.len() + value.as_str().map_or(0, str::len);
        let total: usize = annotations.iter().map(size).sum();
        if total <= MAX_ANNOTATIONS_BYTES {
            return;
        }
        let largest = annotations
            .iter()
            .filter_map(|(key, value)| {
                user_entry(settings, config, "annotations", key).map(|e| (size((key, value)), e))
            })
            .max_by_key(|(bytes, _)| *bytes);
        let Some((bytes, entry)) = largest else { return };
        self.error(
            Code::E0505,
            entry.value.span,
            format!("the RayJob's annotations take {total} bytes, above Kubernetes' limit of {MAX_ANNOTATIONS_BYTES}"),
            format!("the largest annotation, {bytes} bytes"),
            "keep annotations short (at most 256 KiB together, keys included); put large data in storage and annotate its URI",
        );
    }

    /// E0505 for an `env` name Kubernetes rejects.
    pub(super) fn env_name(&mut self, entry: &Entry) {
        if !names::is_env_var_name(&entry.key) {
            self.error(
                Code::E0505,
                entry.key_span,
                format!("{:?} is not a valid environment variable name", entry.key),
                "invalid name",
                "names are letters, digits, `_`, `-` and `.`, not starting with a digit (and never empty or with `=`)",
            );
        }
    }

    /// E0102 for a head pod container named `ray-job-submitter` in SidecarMode, where KubeRay
    /// adds a container of that name to the head pod itself.
    pub(super) fn sidecar_submitter_name(&mut self, mode: &str, config: Option<&Value>, ray: Option<&Value>) {
        if mode != "SidecarMode" {
            return;
        }
        let template = field(field(ray, "head"), "pod_template");
        let Some(ValueKind::List(containers)) = field(template, "containers").map(|c| &c.kind) else {
            return;
        };
        let mode_span = field(config, "submission_mode").map_or(self.node.task_span, |v| v.span);
        for name in containers.iter().filter_map(|c| field(Some(c), "name")) {
            if matches!(&name.kind, ValueKind::Str(s) if s == "ray-job-submitter") {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        name.span,
                        "the head pod has a container named `ray-job-submitter`, which SidecarMode adds itself",
                        "same name as KubeRay's submitter",
                    )
                    .label(
                        mode_span,
                        "SidecarMode adds the `ray-job-submitter` container to the head pod",
                    )
                    .help("rename this container"),
                );
            }
        }
    }

    /// E0521 for a `ray_start_params` value that `ray start` cannot read as the integer its
    /// option takes, written as `text`.
    pub(super) fn integer_start_param(&mut self, entry: &Entry, text: &str) {
        if !INTEGER_START_PARAMS.contains(&entry.key.as_str()) || is_python_int(text) {
            return;
        }
        let key = &entry.key;
        let help = match key.as_str() {
            "memory" | "object-store-memory" => {
                format!("`{key}` is a whole number of bytes: give an integer or a quantity such as `16Gi`")
            }
            "num-cpus" | "num-gpus" => format!(
                "give a whole number (`\"{key}\" = \"0\"` keeps work off the node); ask for fractions per task or actor in the job instead, as in `@ray.remote({}=0.5)`",
                key.replace('-', "_")
            ),
            _ => format!("give a whole number, such as `\"{key}\" = \"8000\"`"),
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::E0521,
                entry.value.span,
                format!(
                    "`ray start --{key}` takes an integer, so \"{text}\" makes every pod of the group fail to start"
                ),
                "not an integer",
            )
            .label(entry.key_span, "an integer option of `ray start`")
            .help(help),
        );
    }

    /// W0504 for memory or ephemeral storage below 1Mi: a number without a unit is bytes, so
    /// `mem = 32` is 32 bytes and `mem = 1.5` is 1500m bytes, never what was meant.
    fn tiny_bytes(&mut self, name: &str, entry: &Entry, q: &Quantity) {
        let smallest = Quantity::from_int(1 << 20);
        if !matches!(name, "memory" | "ephemeral-storage") || q.is_zero() || q.is_negative() || *q >= smallest {
            return;
        }
        let written = self.sources.snippet(entry.value.span).trim();
        let plain = !written.is_empty() && written.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'_');
        let help = if plain {
            format!(
                "a number without a unit is bytes; did you mean `{} = {written}Gi`?",
                entry.key
            )
        } else {
            "give the amount with a binary unit, such as `512Mi` or `32Gi`".to_owned()
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::W0504,
                entry.value.span,
                format!(
                    "`{}` is {} bytes, far too little for a container",
                    entry.key,
                    q.canonical()
                ),
                format!("{} bytes", q.canonical()),
            )
            .help(help),
        );
    }

    /// W0505 for a head that nothing gives resources: a BestEffort pod, first to be evicted,
    /// on which Ray counts every CPU and all the memory of the node it lands on.
    pub(super) fn best_effort_head(&mut self, config: Option<&Value>, head: Option<&Value>) {
        // The key `head` (or `ray`) rather than the whole block, which can be long.
        let key_span =
            |record: Option<&Value>, key: &str| entries(record).iter().find(|e| e.key == key).map(|e| e.key_span);
        let span = head
            .and_then(|_| key_span(field(config, "ray"), "head"))
            .or_else(|| key_span(config, "ray"))
            .unwrap_or(self.node.task_span);
        self.diagnostics.push(
            Diagnostic::new(
                Code::W0505,
                span,
                "the head pod has no resource requests or limits: Kubernetes runs it as BestEffort, and Ray counts every CPU of its node",
                "head without resources",
            )
            .help("give the head `requests { cpu = 2, mem = 8Gi }`, or the task `requests`, which reach every node"),
        );
    }

    /// W0506 for a task-level GPU that reaches the head as well as the workers: each node
    /// merges the task's resources, so a head that sets no GPU of its own takes them too, and
    /// the cluster asks for more GPUs than the job uses. `receivers` are the head, then the
    /// worker groups, each with whether its template's resources replace the task's.
    pub(super) fn gpus_on_head(
        &mut self,
        requests: Option<&Value>,
        limits: Option<&Value>,
        receivers: &[(bool, Option<&Value>)],
    ) {
        let Some(((head_skips, head), workers)) = receivers.split_first() else {
            return;
        };
        if *head_skips || workers.is_empty() {
            return;
        }
        fn own<'v>(node: Option<&'v Value>, key: &str) -> Option<&'v Value> {
            field(field(node, "requests"), key).or(field(field(node, "limits"), key))
        }
        let count = |value: &Value| match &value.kind {
            ValueKind::Quantity(q) => q.to_integer_string().parse::<i64>().ok(),
            _ => None,
        };
        let gpus: Vec<&Entry> = [requests, limits]
            .into_iter()
            .flat_map(entries)
            .filter(|e| resource_name(&e.key).ends_with("gpu"))
            .collect();
        for (index, task) in gpus.iter().enumerate() {
            // A key in both task-level `requests` and `limits` is one resource.
            if gpus[..index].iter().any(|e| e.key == task.key) || own(*head, &task.key).is_some() {
                continue;
            }
            let Some(on_head) = count(&task.value).filter(|n| *n > 0) else {
                continue;
            };
            let total = workers.iter().try_fold(on_head, |sum, (skips, worker)| {
                let per_worker = match own(*worker, &task.key) {
                    Some(value) => count(value)?,
                    None if *skips => 0,
                    None => on_head,
                };
                let replicas = field(*worker, "replicas").or(field(*worker, "min_replicas"));
                let replicas = match replicas.map(|r| &r.kind) {
                    Some(ValueKind::Int(n)) => *n,
                    None => 1,
                    Some(_) => return None,
                };
                sum.checked_add(per_worker.checked_mul(replicas)?)
            });
            let key = &task.key;
            let message = match total {
                Some(total) => format!(
                    "the task-level `{key}` reaches the head too: the cluster asks for {total} `{key}` in total, {on_head} of them on the head"
                ),
                None => format!("the task-level `{key}` reaches the head too: the head asks for {on_head} besides the workers'"),
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W0506,
                    task.value.span,
                    message,
                    "reaches the head too",
                )
                .help(format!(
                    "Ray runs the job's GPU work on the workers: put `{0}` in the worker groups' `requests`, or give the head `requests {{ {0} = 0 }}`",
                    task.key
                )),
            );
        }
    }

    /// E0515 for a local path in `working_dir` or `py_modules`: under KubeRay the job is
    /// submitted from a pod (the submitter, or the operator itself), so a local path names a
    /// directory of that pod, never one of the machine that ran rwfc; nothing uploads it.
    pub(super) fn local_paths(&mut self, entry: &Entry) {
        let paths: Vec<&Value> = match (entry.key.as_str(), &entry.value.kind) {
            ("working_dir", ValueKind::Str(_)) => vec![&entry.value],
            ("py_modules", ValueKind::List(items)) => items.iter().collect(),
            _ => return,
        };
        for path in paths {
            let ValueKind::Str(text) = &path.kind else { continue };
            if text.contains("://") {
                continue;
            }
            self.error(
                Code::E0515,
                path.span,
                format!("`runtime_env.{}` names the local path {text:?}, which KubeRay never uploads", entry.key),
                "a path of the submitting pod",
                "KubeRay submits the job from a pod, where this path is resolved; give a remote URI of a zip archive (`s3://bucket/code.zip`, `gs://...`, `https://.../code.zip`) or bake the code into the image",
            );
        }
    }

    /// E0520 for what Kubernetes rejects in a container's resources, on the values as written:
    /// names that are not resource names, negative amounts, fractions of extended resources, and
    /// requests above limits (extended resources, which must be equal, are E0507's).
    pub(super) fn resource_rules(&mut self, requests: Option<&Value>, limits: Option<&Value>) {
        let requested = written_resources(requests);
        let limited = written_resources(limits);
        for (name, entry) in requested.iter().chain(&limited) {
            if !names::is_container_resource_name(name) {
                self.error(
                    Code::E0520,
                    entry.key_span,
                    format!("`{name}` is not a resource name Kubernetes accepts"),
                    "invalid resource name",
                    "an extended resource is `DOMAIN/NAME`, such as \"amd.com/gpu\": a DNS subdomain, `/`, and at most 63 letters, digits, `-`, `_` or `.`",
                );
                continue;
            }
            let ValueKind::Quantity(q) = &entry.value.kind else {
                continue;
            };
            self.tiny_bytes(name, entry, q);
            if q.is_negative() {
                self.error(
                    Code::E0520,
                    entry.value.span,
                    format!("`{name}` is {}, but resources cannot be negative", q.canonical()),
                    "negative",
                    "give zero or more",
                );
            } else if names::is_integer_resource(name) && !q.is_whole() {
                self.error(
                    Code::E0520,
                    entry.value.span,
                    format!(
                        "`{name}` is {}, but Kubernetes counts extended resources in whole units",
                        q.canonical()
                    ),
                    "not a whole number",
                    "give a whole number; to share a GPU, use the device plugin's time-slicing or MIG resources",
                );
            }
        }
        for (name, request) in &requested {
            let Some((_, limit)) = limited.iter().find(|(n, _)| n == name) else {
                continue;
            };
            let (ValueKind::Quantity(r), ValueKind::Quantity(l)) = (&request.value.kind, &limit.value.kind) else {
                continue;
            };
            if r > l && !names::is_integer_resource(name) && !l.is_negative() {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0520,
                        request.value.span,
                        format!("`{name}` requests {}, above its limit {}", r.canonical(), l.canonical()),
                        "above the limit",
                    )
                    .label(limit.value.span, "limit set here")
                    .help("a container cannot request more than its limit; raise the limit or lower the request"),
                );
            }
        }
    }
}

/// The `ray start` options that Ray's command line reads as integers (`type=int` in
/// `python/ray/scripts/scripts.py`): any other text makes `ray start`, and so the pod, fail.
const INTEGER_START_PARAMS: &[&str] = &[
    "num-cpus",
    "num-gpus",
    "memory",
    "object-store-memory",
    "port",
    "gcs-server-port",
    "node-manager-port",
    "object-manager-port",
    "min-worker-port",
    "max-worker-port",
    "ray-client-server-port",
    "dashboard-port",
    "dashboard-grpc-port",
    "dashboard-agent-listen-port",
    "dashboard-agent-grpc-port",
    "runtime-env-agent-port",
    "metrics-agent-port",
    "metrics-export-port",
];

/// Whether Python's `int()` (which Ray's command line uses) reads `text`.
fn is_python_int(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty()
        && digits
            .split('_')
            .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()))
}

/// The entries of `requests` or `limits` under their Kubernetes names.
fn written_resources(value: Option<&Value>) -> Vec<(String, &Entry)> {
    entries(value)
        .iter()
        .filter(|e| !matches!(e.value.kind, ValueKind::None))
        .map(|e| (resource_name(&e.key).to_owned(), e))
        .collect()
}
