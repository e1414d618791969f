//! Property tests: random *valid* rwf programs (tasks with heads, worker groups, resources,
//! runtime environments and pod templates; named clusters and refinements; workflows chaining
//! calls through their outputs, with overrides and `after`) must build without errors, every
//! emitted RayJob must pass the strict KubeRay schema and request no more than its limits, and
//! building twice must give the same bytes.
//!
//! The generator draws raw choices and then assembles a program that is valid by construction:
//! names are random letters with a suffix that keeps them unique and apart from keywords, every
//! replica count lies within its bounds, every interpolated value uses only characters that reach
//! a Ray job intact in any submission mode, and every workflow parameter has a default so the
//! build is complete (no deferred node).

mod support;

use proptest::prelude::*;
use rwfc::quantity::Quantity;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

// ---------------------------------------------------------------------------------------------
// The model of a program.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Str,
    Int,
    Dir,
}

impl Ty {
    fn text(self) -> &'static str {
        match self {
            Ty::Str => "str",
            Ty::Int => "int",
            Ty::Dir => "dir",
        }
    }
}

#[derive(Debug, Clone)]
struct Param {
    name: String,
    ty: Ty,
    default: Option<String>,
}

/// `min_replicas`, `replicas` and `max_replicas` as written (each may be left out).
#[derive(Debug, Clone, Copy)]
struct Bounds {
    min: Option<u32>,
    replicas: Option<u32>,
    max: Option<u32>,
}

impl Bounds {
    /// The replica counts an override or refinement may set without leaving the bounds.
    fn allowed(&self) -> (u32, u32) {
        let lo = self.min.unwrap_or(0);
        (lo, self.max.unwrap_or(lo + 8))
    }
}

#[derive(Debug, Clone, Default)]
struct Resources {
    cpu: Option<String>,
    mem: Option<String>,
    gpu: Option<u32>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.cpu.is_none() && self.mem.is_none() && self.gpu.is_none()
    }
}

#[derive(Debug, Clone)]
struct Toleration {
    key: String,
    /// `Some(value)` for `operator = "Equal"`, `None` for `"Exists"`.
    value: Option<String>,
    effect: &'static str,
}

#[derive(Debug, Clone)]
enum Pod {
    /// A value of `std/gpu`.
    Gpu(&'static str),
    Literal {
        tolerations: Vec<Toleration>,
        node_selector: Vec<(String, String)>,
    },
}

#[derive(Debug, Clone)]
struct Node {
    start_params: Vec<(&'static str, String)>,
    requests: Resources,
    pod: Option<Pod>,
}

#[derive(Debug, Clone)]
struct Group {
    name: String,
    bounds: Bounds,
    /// `replicas = clamp(ceil_div(P, 1000), min, max)` over an `int` parameter P of the task,
    /// when the group has both bounds and the task such a parameter.
    sized: bool,
    node: Node,
}

#[derive(Debug, Clone)]
struct RuntimeEnv {
    pip: Vec<String>,
    env_vars: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct Cluster {
    head: Option<Node>,
    groups: Vec<Group>,
    autoscaling: Option<Option<(&'static str, u32)>>,
    runtime_env: Option<RuntimeEnv>,
    ray_version: bool,
    ttl: Option<u32>,
}

#[derive(Debug, Clone)]
enum Ray {
    None,
    Inline(Cluster),
    /// `ray = NAME` (the cluster is an item), refined when the pair (group pick, replica pick) is set.
    Named(String, Cluster, Option<(usize, u32)>),
}

impl Ray {
    fn groups(&self) -> &[Group] {
        match self {
            Ray::None => &[],
            Ray::Inline(c) | Ray::Named(_, c, _) => &c.groups,
        }
    }
}

#[derive(Debug, Clone)]
struct Task {
    name: String,
    params: Vec<Param>,
    output: bool,
    image: String,
    mode: Option<&'static str>,
    ray: Ray,
    requests: Resources,
    env: Vec<(String, String)>,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    service_account: Option<String>,
    /// Task-level `limits` on CPU and memory, above every request.
    limits: bool,
    retries: Option<u32>,
    timeout: Option<String>,
}

#[derive(Debug, Clone)]
struct Override {
    image: Option<String>,
    retries: Option<u32>,
    timeout: Option<String>,
    /// Group pick and replica pick, resolved against the called task's groups.
    replicas: Option<(usize, u32)>,
}

#[derive(Debug, Clone)]
struct Call {
    name: String,
    task: usize,
    /// One pick per parameter, resolved against what the workflow has at that point.
    picks: Vec<u32>,
    with: Option<Override>,
    after: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Workflow {
    name: String,
    params: Vec<Param>,
    namespace: Option<String>,
    labels: Vec<(String, String)>,
    calls: Vec<Call>,
    returns: Option<usize>,
}

#[derive(Debug, Clone)]
struct Program {
    image_const: Option<String>,
    tasks: Vec<Task>,
    workflow: Workflow,
}

// ---------------------------------------------------------------------------------------------
// Strategies.

fn letters(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-z]{{1,{max}}}")).expect("valid regex")
}

/// A value that reaches a Ray job intact in every submission mode (§6.4).
fn safe_word() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9][a-z0-9._=@%+,:/-]{0,14}").expect("valid regex")
}

fn label_value() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9]([a-z0-9._-]{0,10}[a-z0-9])?").expect("valid regex")
}

fn uri() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["s3", "gs", "abfs"]),
        letters(8),
        proptest::string::string_regex("[a-z0-9_-]{1,10}(/[a-z0-9_.-]{1,10}){0,2}").expect("valid regex"),
    )
        .prop_map(|(scheme, bucket, path)| format!("{scheme}://{bucket}/{path}"))
}

fn image() -> impl Strategy<Value = String> {
    (letters(8), letters(8), 1u32..3, 0u32..60)
        .prop_map(|(registry, repo, major, minor)| format!("{registry}.example.com/{repo}/ray:{major}.{minor}"))
}

fn duration() -> impl Strategy<Value = String> {
    prop_oneof![
        (1u32..3600).prop_map(|s| format!("{s}s")),
        (1u32..600).prop_map(|m| format!("{m}min")),
        (1u32..48).prop_map(|h| format!("{h}h")),
        (1u32..7).prop_map(|d| format!("{d}d")),
        (1u32..100_000).prop_map(|s| s.to_string()),
    ]
}

fn bounds() -> impl Strategy<Value = Bounds> {
    (0u32..4, 0u32..4, 0u32..8, 0u8..6).prop_map(|(min, extra, more, shape)| {
        let replicas = min + extra;
        let max = replicas + more;
        match shape {
            0 => Bounds {
                min: Some(min),
                replicas: Some(replicas),
                max: Some(max),
            },
            1 => Bounds {
                min: None,
                replicas: Some(replicas),
                max: None,
            },
            2 => Bounds {
                min: None,
                replicas: Some(replicas),
                max: Some(max),
            },
            3 => Bounds {
                min: Some(min),
                replicas: Some(replicas),
                max: None,
            },
            4 => Bounds {
                min: None,
                replicas: None,
                max: None,
            },
            _ => Bounds {
                min: Some(min),
                replicas: None,
                max: None,
            },
        }
    })
}

fn resources() -> impl Strategy<Value = Resources> {
    (
        prop::option::of(prop_oneof![
            (1u32..64).prop_map(|c| c.to_string()),
            (1u32..4000).prop_map(|m| format!("{m}m")),
            (1u32..16).prop_map(|c| format!("{c}.5")),
        ]),
        prop::option::of(prop_oneof![
            (1u32..512).prop_map(|g| format!("{g}Gi")),
            (128u32..65536).prop_map(|m| format!("{m}Mi")),
            (1u32..100).prop_map(|g| format!("{g}G")),
        ]),
        prop::option::of(0u32..9),
    )
        .prop_map(|(cpu, mem, gpu)| Resources { cpu, mem, gpu })
}

fn toleration() -> impl Strategy<Value = Toleration> {
    (
        proptest::string::string_regex("[a-z]{1,8}(\\.[a-z]{1,6}/[a-z]{1,6})?").expect("valid regex"),
        prop::option::of(label_value()),
        prop::sample::select(vec!["NoSchedule", "PreferNoSchedule", "NoExecute"]),
    )
        .prop_map(|(key, value, effect)| Toleration { key, value, effect })
}

fn pod() -> impl Strategy<Value = Pod> {
    prop_oneof![
        prop::sample::select(vec!["any_node", "a100_node", "a100_80gb_node", "h100_node"]).prop_map(Pod::Gpu),
        (
            prop::collection::vec(toleration(), 0..3),
            prop::collection::btree_map(
                proptest::string::string_regex("([a-z]{1,6}\\.)?[a-z]{1,8}(/[a-z]{1,8})?").expect("valid regex"),
                label_value(),
                0..3
            ),
        )
            .prop_map(|(tolerations, selector)| Pod::Literal {
                tolerations,
                node_selector: selector.into_iter().collect(),
            }),
    ]
}

fn node() -> impl Strategy<Value = Node> {
    (
        prop::collection::vec(
            (
                prop::sample::select(vec!["num-cpus", "num-gpus", "dashboard-host", "block"]),
                0u32..16,
            ),
            0..3,
        ),
        resources(),
        prop::option::weighted(0.4, pod()),
    )
        .prop_map(|(params, requests, pod)| {
            let mut start_params: Vec<(&'static str, String)> = Vec::new();
            for (key, n) in params {
                if start_params.iter().any(|(k, _)| *k == key) {
                    continue;
                }
                let value = match key {
                    "dashboard-host" => "0.0.0.0".to_owned(),
                    "block" => "true".to_owned(),
                    _ => n.to_string(),
                };
                start_params.push((key, value));
            }
            Node {
                start_params,
                requests,
                pod,
            }
        })
}

fn cluster() -> impl Strategy<Value = Cluster> {
    (
        prop::option::of(node()),
        prop::collection::vec((letters(8), bounds(), any::<bool>(), node()), 0..3),
        prop::option::weighted(
            0.3,
            prop::option::of((
                prop::sample::select(vec!["Default", "Conservative", "Aggressive"]),
                1u32..600,
            )),
        ),
        prop::option::weighted(
            0.4,
            (
                prop::collection::vec(
                    proptest::string::string_regex("[a-z]{2,10}(==[0-9]\\.[0-9]{1,2})?").expect("valid regex"),
                    0..4,
                ),
                prop::collection::btree_map(
                    proptest::string::string_regex("[A-Z]{1,6}(_[A-Z0-9]{1,4})?").expect("valid regex"),
                    safe_word(),
                    0..3,
                ),
            ),
        ),
        any::<bool>(),
        prop::option::weighted(0.3, 0u32..3600),
    )
        .prop_map(|(head, groups, autoscaling, runtime_env, ray_version, ttl)| Cluster {
            head,
            // Random letters then the index: unique, and a DNS-1123 label.
            groups: groups
                .into_iter()
                .enumerate()
                .map(|(i, (name, bounds, sized, node))| Group {
                    name: format!("{name}{i}"),
                    bounds,
                    sized,
                    node,
                })
                .collect(),
            autoscaling,
            runtime_env: runtime_env.map(|(pip, vars)| RuntimeEnv {
                pip,
                env_vars: vars.into_iter().collect(),
            }),
            ray_version,
            ttl,
        })
}

fn param(suffix: &'static str) -> impl Strategy<Value = (String, Ty, Option<String>)> {
    (
        letters(8),
        prop::sample::select(vec![Ty::Str, Ty::Int, Ty::Dir]),
        any::<bool>(),
        safe_word(),
        -1000i64..1_000_000,
        uri(),
    )
        .prop_map(move |(name, ty, has_default, word, n, uri)| {
            let default = has_default.then(|| match ty {
                Ty::Str => format!("\"{word}\""),
                Ty::Int => n.to_string(),
                Ty::Dir => format!("\"{uri}\""),
            });
            (format!("{name}{suffix}"), ty, default)
        })
}

/// Parameters with unique names (`<letters><suffix><index>`).
fn params(suffix: &'static str, count: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Param>> {
    prop::collection::vec(param(suffix), count).prop_map(|params| {
        params
            .into_iter()
            .enumerate()
            .map(|(i, (name, ty, default))| Param {
                name: format!("{name}{i}"),
                ty,
                default,
            })
            .collect()
    })
}

fn labels() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::btree_map(
        proptest::string::string_regex("([a-z]{1,6}\\.example\\.(io|dev)/)?[a-z]{1,10}").expect("valid regex"),
        label_value(),
        0..3,
    )
    .prop_map(|m| m.into_iter().collect())
}

fn task() -> impl Strategy<Value = Task> {
    (
        (letters(10), params("_p", 0..4), any::<bool>(), image()),
        (
            prop::option::of(prop::sample::select(vec!["K8sJobMode", "HTTPMode", "SidecarMode"])),
            prop::sample::select(vec![0u8, 1, 1, 2]),
            cluster(),
            letters(6),
            prop::option::of((0usize..4, 0u32..16)),
        ),
        (
            resources(),
            prop::collection::btree_map(
                proptest::string::string_regex("[A-Z]{1,8}(_[A-Z]{1,4})?").expect("valid regex"),
                safe_word(),
                0..3,
            ),
            labels(),
            prop::option::of(0u32..5),
            prop::option::of(duration()),
        ),
        (
            prop::collection::btree_map(
                proptest::string::string_regex("[a-z]{1,6}\\.example\\.com/[a-z]([a-z-]{0,10}[a-z])?")
                    .expect("valid regex"),
                proptest::string::string_regex("[ -~&&[^\"\\\\$]]{0,30}").expect("valid regex"),
                0..3,
            ),
            prop::option::of(proptest::string::string_regex("[a-z]([a-z0-9-]{0,20}[a-z0-9])?").expect("valid regex")),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (name, params, output, image),
                (mode, ray_kind, cluster, cluster_name, refine),
                (requests, env, labels, retries, timeout),
                (annotations, service_account, limits),
            )| {
                let ray = match ray_kind {
                    0 => Ray::None,
                    1 => Ray::Inline(cluster),
                    _ => Ray::Named(cluster_name, cluster, refine),
                };
                Task {
                    name,
                    params,
                    output,
                    image,
                    mode,
                    ray,
                    requests,
                    env: env.into_iter().collect(),
                    labels,
                    annotations: annotations.into_iter().collect(),
                    service_account,
                    limits,
                    retries,
                    timeout,
                }
            },
        )
}

fn call() -> impl Strategy<Value = Call> {
    (
        letters(10),
        0usize..16,
        prop::collection::vec(0u32..1000, 4),
        prop::option::weighted(
            0.4,
            (
                prop::option::of(image()),
                prop::option::of(0u32..5),
                prop::option::of(duration()),
                prop::option::of((0usize..4, 0u32..16)),
            )
                .prop_map(|(image, retries, timeout, replicas)| Override {
                    image,
                    retries,
                    timeout,
                    replicas,
                }),
        ),
        prop::collection::vec(0usize..16, 0..3),
    )
        .prop_map(|(name, task, picks, with, after)| Call {
            name,
            task,
            picks,
            with,
            after,
        })
}

fn program() -> impl Strategy<Value = Program> {
    (
        prop::option::of(image()),
        prop::collection::vec(task(), 1..5),
        (
            letters(10),
            params("_w", 0..4),
            prop::option::of(
                proptest::string::string_regex("[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?").expect("valid regex"),
            ),
            labels(),
            prop::collection::vec(call(), 1..6),
            prop::option::of(0usize..16),
        ),
    )
        .prop_map(
            |(image_const, tasks, (name, params, namespace, labels, calls, returns))| {
                let mut tasks: Vec<Task> = tasks
                    .into_iter()
                    .enumerate()
                    .map(|(i, mut t)| {
                        t.name = format!("{}_t{i}", t.name);
                        if let Ray::Named(cluster, _, _) = &mut t.ray {
                            *cluster = format!("{cluster}_c{i}");
                        }
                        t
                    })
                    .collect();
                // Every workflow parameter needs a value at build time.
                let params = params
                    .into_iter()
                    .map(|mut p| {
                        p.default.get_or_insert_with(|| match p.ty {
                            Ty::Str => "\"value\"".to_owned(),
                            Ty::Int => "7".to_owned(),
                            Ty::Dir => "\"s3://bucket/input\"".to_owned(),
                        });
                        p
                    })
                    .collect();
                let calls = calls
                    .into_iter()
                    .enumerate()
                    .map(|(i, mut c)| {
                        c.name = format!("{}_n{i}", c.name);
                        c.task %= tasks.len();
                        c
                    })
                    .collect::<Vec<_>>();
                // A task's image may come from the constant.
                if image_const.is_some() {
                    if let Some(first) = tasks.first_mut() {
                        first.image = String::new();
                    }
                }
                Program {
                    image_const,
                    tasks,
                    workflow: Workflow {
                        name: format!("{name}_wf"),
                        params,
                        namespace: namespace.map(|n| format!("ns-{n}")),
                        labels,
                        calls,
                        returns,
                    },
                }
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Rendering.

fn render_resources(out: &mut String, indent: &str, field: &str, r: &Resources) {
    if r.is_empty() {
        return;
    }
    let mut parts = Vec::new();
    if let Some(cpu) = &r.cpu {
        parts.push(format!("cpu = {cpu}"));
    }
    if let Some(mem) = &r.mem {
        parts.push(format!("mem = {mem}"));
    }
    if let Some(gpu) = r.gpu {
        parts.push(format!("gpu = {gpu}"));
    }
    let _ = writeln!(out, "{indent}{field} {{ {} }}", parts.join(", "));
}

fn render_pod(out: &mut String, pod: &Pod) {
    match pod {
        Pod::Gpu(name) => {
            let _ = writeln!(out, "      pod_template = gpu.{name}");
        }
        Pod::Literal {
            tolerations,
            node_selector,
        } => {
            let _ = writeln!(out, "      pod_template {{");
            if !tolerations.is_empty() {
                let items: Vec<String> = tolerations
                    .iter()
                    .map(|t| match &t.value {
                        Some(value) => format!(
                            "{{ key = \"{}\", operator = \"Equal\", value = \"{value}\", effect = \"{}\" }}",
                            t.key, t.effect
                        ),
                        None => format!(
                            "{{ key = \"{}\", operator = \"Exists\", effect = \"{}\" }}",
                            t.key, t.effect
                        ),
                    })
                    .collect();
                let _ = writeln!(out, "        tolerations = [{}]", items.join(", "));
            }
            if !node_selector.is_empty() {
                let entries: Vec<String> = node_selector
                    .iter()
                    .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
                    .collect();
                let _ = writeln!(out, "        node_selector = {{ {} }}", entries.join(", "));
            }
            let _ = writeln!(out, "      }}");
        }
    }
}

fn render_node(out: &mut String, node: &Node) {
    if !node.start_params.is_empty() {
        let entries: Vec<String> = node
            .start_params
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
            .collect();
        let _ = writeln!(out, "      ray_start_params = {{ {} }}", entries.join(", "));
    }
    render_resources(out, "      ", "requests", &node.requests);
    if let Some(pod) = &node.pod {
        render_pod(out, pod);
    }
}

/// `sizing` is an `int` parameter of the task the cluster is inlined in, if it has one.
fn render_cluster_body(out: &mut String, c: &Cluster, sizing: Option<&str>) {
    if let Some(head) = &c.head {
        let _ = writeln!(out, "    head {{");
        render_node(out, head);
        let _ = writeln!(out, "    }}");
    }
    for g in &c.groups {
        let _ = writeln!(out, "    worker \"{}\" {{", g.name);
        let mut counts = Vec::new();
        if let Some(min) = g.bounds.min {
            counts.push(format!("min_replicas = {min}"));
        }
        match (g.bounds, sizing) {
            (
                Bounds {
                    min: Some(min),
                    max: Some(max),
                    ..
                },
                Some(param),
            ) if g.sized => counts.push(format!("replicas = clamp(ceil_div({param}, 1000), {min}, {max})")),
            _ => {
                if let Some(r) = g.bounds.replicas {
                    counts.push(format!("replicas = {r}"));
                }
            }
        }
        if let Some(max) = g.bounds.max {
            counts.push(format!("max_replicas = {max}"));
        }
        if !counts.is_empty() {
            let _ = writeln!(out, "      {}", counts.join(", "));
        }
        render_node(out, &g.node);
        let _ = writeln!(out, "    }}");
    }
    if let Some(autoscaler) = &c.autoscaling {
        let _ = writeln!(out, "    enable_autoscaling = true");
        if let Some((mode, idle)) = autoscaler {
            let _ = writeln!(
                out,
                "    autoscaler {{ upscaling_mode = \"{mode}\", idle_timeout = {idle}s }}"
            );
        }
    }
    if let Some(env) = &c.runtime_env {
        let pip: Vec<String> = env.pip.iter().map(|p| format!("\"{p}\"")).collect();
        let vars: Vec<String> = env.env_vars.iter().map(|(k, v)| format!("{k} = \"{v}\"")).collect();
        let _ = writeln!(
            out,
            "    runtime_env {{ pip = [{}], env_vars = {{ {} }} }}",
            pip.join(", "),
            vars.join(", ")
        );
    }
    if c.ray_version {
        let _ = writeln!(out, "    ray_version = \"2.60.0\"");
    }
    if let Some(ttl) = c.ttl {
        let _ = writeln!(out, "    ttl_seconds_after_finished = {ttl}");
    }
}

/// A replica count within a group's bounds, from a raw pick.
fn replicas_within(group: &Group, pick: u32) -> u32 {
    let (lo, hi) = group.bounds.allowed();
    lo + pick % (hi - lo + 1)
}

fn render_map(entries: &[(String, String)], quoted_keys: bool) -> String {
    let entries: Vec<String> = entries
        .iter()
        .map(|(k, v)| {
            if quoted_keys {
                format!("\"{k}\" = \"{v}\"")
            } else {
                format!("{k} = \"{v}\"")
            }
        })
        .collect();
    format!("{{ {} }}", entries.join(", "))
}

fn render(program: &Program) -> String {
    let mut out = String::from("import \"std/gpu\"\n\n");
    if let Some(image) = &program.image_const {
        let _ = writeln!(out, "const IMAGE = \"{image}\"\n");
    }
    for task in &program.tasks {
        if let Ray::Named(name, cluster, _) = &task.ray {
            let _ = writeln!(out, "/// The cluster of `{}`.\ncluster {name} {{", task.name);
            render_cluster_body(&mut out, cluster, None);
            let _ = writeln!(out, "}}\n");
        }
    }
    for task in &program.tasks {
        let params: Vec<String> = task
            .params
            .iter()
            .map(|p| match &p.default {
                Some(d) => format!("{}: {} = {d}", p.name, p.ty.text()),
                None => format!("{}: {}", p.name, p.ty.text()),
            })
            .collect();
        let output = if task.output { " -> dir" } else { "" };
        let _ = writeln!(out, "/// Task {}.", task.name);
        let _ = writeln!(out, "task {}({}){output} {{", task.name, params.join(", "));
        if task.image.is_empty() {
            let _ = writeln!(out, "  image = IMAGE");
        } else {
            let _ = writeln!(out, "  image = \"{}\"", task.image);
        }
        let mut entrypoint = format!("python -m jobs.{}", task.name);
        for p in &task.params {
            let _ = write!(entrypoint, " --{} ${{{}}}", p.name.replace('_', "-"), p.name);
        }
        if task.output {
            entrypoint.push_str(" --out ${outputs.result}");
        }
        let _ = writeln!(out, "  entrypoint = \"{entrypoint}\"");
        if let Some(mode) = task.mode {
            let _ = writeln!(out, "  submission_mode = \"{mode}\"");
        }
        match &task.ray {
            Ray::None => {}
            Ray::Inline(cluster) => {
                let _ = writeln!(out, "  ray {{");
                let sizing = task.params.iter().find(|p| p.ty == Ty::Int).map(|p| p.name.as_str());
                render_cluster_body(&mut out, cluster, sizing);
                let _ = writeln!(out, "  }}");
            }
            Ray::Named(name, cluster, refine) => match refine.and_then(|(g, r)| {
                let group = cluster.groups.get(g % cluster.groups.len().max(1))?;
                Some((group, replicas_within(group, r)))
            }) {
                Some((group, replicas)) => {
                    let _ = writeln!(
                        out,
                        "  ray = {name} {{ worker \"{}\" {{ replicas = {replicas} }} }}",
                        group.name
                    );
                }
                None => {
                    let _ = writeln!(out, "  ray = {name}");
                }
            },
        }
        render_resources(&mut out, "  ", "requests", &task.requests);
        if task.limits {
            // At or above every request the generator makes, which keeps the program valid:
            // a node's request above the limit it inherits is E0520. GPUs are left out: a
            // node's own GPU request would differ from them (E0507).
            let limits = Resources {
                cpu: Some("64".to_owned()),
                mem: Some("512Gi".to_owned()),
                gpu: None,
            };
            render_resources(&mut out, "  ", "limits", &limits);
        }
        if !task.annotations.is_empty() {
            let _ = writeln!(out, "  annotations = {}", render_map(&task.annotations, true));
        }
        if let Some(account) = &task.service_account {
            let _ = writeln!(out, "  service_account = \"{account}\"");
        }
        if !task.env.is_empty() {
            let _ = writeln!(out, "  env = {}", render_map(&task.env, false));
        }
        if !task.labels.is_empty() {
            let _ = writeln!(out, "  labels = {}", render_map(&task.labels, true));
        }
        if let Some(retries) = task.retries {
            let _ = writeln!(out, "  retries = {retries}");
        }
        if let Some(timeout) = &task.timeout {
            let _ = writeln!(out, "  timeout = {timeout}");
        }
        let _ = writeln!(out, "}}\n");
    }

    let wf = &program.workflow;
    let params: Vec<String> = wf
        .params
        .iter()
        .map(|p| {
            format!(
                "{}: {} = {}",
                p.name,
                p.ty.text(),
                p.default.as_deref().unwrap_or("none")
            )
        })
        .collect();
    let producers: Vec<usize> = (0..wf.calls.len())
        .filter(|&i| program.tasks[wf.calls[i].task].output)
        .collect();
    let returned = wf
        .returns
        .and_then(|pick| (!producers.is_empty()).then(|| producers[pick % producers.len()]));
    let output = if returned.is_some() { " -> dir" } else { "" };
    let _ = writeln!(out, "/// Workflow {}.", wf.name);
    let _ = writeln!(out, "workflow {}({}){output} {{", wf.name, params.join(", "));
    let _ = writeln!(out, "  storage = \"s3://runs-bucket/rwf\"");
    if let Some(namespace) = &wf.namespace {
        let _ = writeln!(out, "  namespace = \"{namespace}\"");
    }
    if !wf.labels.is_empty() {
        let _ = writeln!(out, "  labels = {}", render_map(&wf.labels, true));
    }
    for (i, call) in wf.calls.iter().enumerate() {
        let task = &program.tasks[call.task];
        let mut args = Vec::new();
        for (j, p) in task.params.iter().enumerate() {
            let pick = call.picks.get(j).copied().unwrap_or(0);
            // Half of the parameters with a default are left to it.
            if p.default.is_some() && pick % 2 == 0 {
                continue;
            }
            let from_workflow: Vec<&Param> = wf.params.iter().filter(|w| w.ty == p.ty).collect();
            let upstream: Vec<usize> = if p.ty == Ty::Dir {
                (0..i).filter(|&k| program.tasks[wf.calls[k].task].output).collect()
            } else {
                Vec::new()
            };
            let choices = 1 + from_workflow.len() + upstream.len();
            let choice = (pick / 2) as usize % choices;
            let value = if choice == 0 {
                match p.ty {
                    Ty::Str => format!("\"v{pick}\""),
                    Ty::Int => (pick as i64 - 100).to_string(),
                    Ty::Dir => format!("\"gs://data-{pick}/set\""),
                }
            } else if choice <= from_workflow.len() {
                from_workflow[choice - 1].name.clone()
            } else {
                wf.calls[upstream[choice - 1 - from_workflow.len()]].name.clone()
            };
            args.push(format!("{} = {value}", p.name));
        }
        let _ = write!(out, "  let {} = {}({})", call.name, task.name, args.join(", "));
        if let Some(with) = &call.with {
            let mut fields = Vec::new();
            if let Some(image) = &with.image {
                fields.push(format!("image = \"{image}\""));
            }
            if let Some(retries) = with.retries {
                fields.push(format!("retries = {retries}"));
            }
            if let Some(timeout) = &with.timeout {
                fields.push(format!("timeout = {timeout}"));
            }
            let groups = task.ray.groups();
            if let (Some((g, r)), false) = (with.replicas, groups.is_empty()) {
                let group = &groups[g % groups.len()];
                fields.push(format!(
                    "ray {{ worker \"{}\" {{ replicas = {} }} }}",
                    group.name,
                    replicas_within(group, r)
                ));
            }
            let _ = write!(out, "\n    with {{ {} }}", fields.join(", "));
        }
        let mut after: Vec<&str> = call
            .after
            .iter()
            .filter(|_| i > 0)
            .map(|&k| wf.calls[k % i].name.as_str())
            .collect();
        after.sort_unstable();
        after.dedup();
        if !after.is_empty() {
            let _ = write!(out, " after {}", after.join(", "));
        }
        out.push('\n');
    }
    if let Some(k) = returned {
        let _ = writeln!(out, "  return {}", wf.calls[k].name);
    }
    out.push_str("}\n");
    out
}

// ---------------------------------------------------------------------------------------------
// The properties.

/// Every `resources` of a RayJob whose request for a resource is above its limit: Kubernetes
/// rejects such a pod, though the CRD schema cannot tell.
fn requests_above_limits(value: &Value, path: &str, problems: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::Object(requests)), Some(Value::Object(limits))) =
                (map.get("requests"), map.get("limits"))
            {
                for (key, request) in requests {
                    let quantity = |v: &Value| {
                        v.as_str()
                            .map(str::to_owned)
                            .or_else(|| v.as_i64().map(|n| n.to_string()))
                    };
                    let (Some(request), Some(limit)) = (quantity(request), limits.get(key).and_then(quantity)) else {
                        continue;
                    };
                    match (Quantity::parse(&request), Quantity::parse(&limit)) {
                        (Some(r), Some(l)) if r > l => {
                            problems.push(format!("{path}: {key} requests {request}, above its limit {limit}"));
                        }
                        (Some(_), Some(_)) => {}
                        _ => problems.push(format!("{path}: {key}: {request} or {limit} is not a quantity")),
                    }
                }
            }
            for (key, child) in map {
                requests_above_limits(child, &format!("{path}/{key}"), problems);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                requests_above_limits(child, &format!("{path}/{i}"), problems);
            }
        }
        _ => {}
    }
}

/// Everything a build produces, for comparing two builds.
type Output = Vec<(String, Vec<(String, String)>, Vec<usize>)>;

fn build(source: &str) -> Result<Output, String> {
    let built = rwfc::build(
        &rwfc::load::NoFiles,
        Path::new("/properties"),
        "generated.rwf",
        source.as_bytes(),
        &rwfc::BuildOptions::default(),
    );
    let errors: Vec<String> = built
        .diagnostics
        .iter()
        .filter(|d| d.severity() == rwfc::diagnostics::Severity::Error)
        .map(|d| rwfc::diagnostics::render::human(d, &built.sources, false))
        .collect();
    if !errors.is_empty() {
        return Err(errors.join("\n"));
    }
    let workflows = built.workflows.map_err(|e| format!("usage error: {e:?}"))?;
    workflows
        .into_iter()
        .map(|w| {
            if let Some(node) = w.deferred.first() {
                return Err(format!("node `{}` deferred in a fully bound build", node.node));
            }
            Ok((w.name, w.files, w.rayjobs))
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn formatting_valid_programs_keeps_their_ast_and_is_idempotent(program in program()) {
        let source = render(&program);
        let once = rwfc::format::format(&source).map_err(|_| TestCaseError::fail(format!("does not parse\n{source}")))?;
        prop_assert_eq!(rwfc::format::format(&once).ok(), Some(once.clone()), "not idempotent\n{}", source);
        prop_assert_eq!(support::without_spans(&source), support::without_spans(&once), "the AST changed\n{}", once);
    }

    #[test]
    fn valid_programs_build_to_strictly_valid_deterministic_rayjobs(program in program()) {
        let source = render(&program);
        let first = build(&source).map_err(|e| TestCaseError::fail(format!("{e}\n--- program\n{source}")))?;
        prop_assert_eq!(first.len(), 1, "one workflow expected\n{}", source);
        let (_, files, rayjobs) = &first[0];
        prop_assert_eq!(rayjobs.len(), program.workflow.calls.len(), "one RayJob per call\n{}", source);
        for (path, text) in files {
            if path.starts_with("rayjobs/") {
                if let Err(errors) = support::validate_rayjob_yaml(text) {
                    return Err(TestCaseError::fail(format!(
                        "{path} is not a valid RayJob:\n  {}\n--- program\n{source}\n--- {path}\n{text}",
                        errors.join("\n  ")
                    )));
                }
                let doc: Value = serde_yaml::from_str(text).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let mut problems = Vec::new();
                requests_above_limits(&doc, "", &mut problems);
                if !problems.is_empty() {
                    return Err(TestCaseError::fail(format!(
                        "{path} asks for more than its limits:\n  {}\n--- program\n{source}",
                        problems.join("\n  ")
                    )));
                }
            } else if let Err(errors) = support::validate_workflow_plan_yaml(text) {
                return Err(TestCaseError::fail(format!(
                    "{path} is not a valid workflow manifest:\n  {}\n--- program\n{source}",
                    errors.join("\n  ")
                )));
            }
        }
        let second = build(&source).map_err(TestCaseError::fail)?;
        prop_assert!(first == second, "two builds differ\n{}", source);
    }

    /// A request above its limit, the task's or the node's own, is E0520 exactly when the
    /// quantities compare so; equal or lower ones build.
    #[test]
    fn requests_above_limits_are_e0520_exactly(
        request in (1u32..64_000).prop_map(|m| format!("{m}m")),
        limit in prop_oneof![(1u32..64).prop_map(|c| c.to_string()), (1u32..64_000).prop_map(|m| format!("{m}m"))],
        on_node in any::<bool>(),
    ) {
        let (task_limit, node_limit) = if on_node {
            (String::new(), format!(", limits {{ cpu = {limit} }}"))
        } else {
            (format!("  limits {{ cpu = {limit} }}\n"), String::new())
        };
        let source = format!(
            "task t() {{\n  image = \"i\"\n  entrypoint = \"e\"\n{task_limit}  ray {{ head {{ requests {{ mem = 1Gi }} }} worker \"w\" {{ requests {{ cpu = {request} }}{node_limit} }} }}\n}}\n"
        );
        let built = rwfc::check(&rwfc::load::NoFiles, Path::new("/properties"), "r.rwf", source.as_bytes());
        let codes: Vec<&str> = built.diagnostics.iter().map(|d| d.code.as_str()).collect();
        let above = Quantity::parse(&request) > Quantity::parse(&limit);
        let expected: Vec<&str> = if above { vec!["E0520"] } else { Vec::new() };
        prop_assert_eq!(codes, expected, "{}", source);
    }
}
