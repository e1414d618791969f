//! Rules of Kubernetes' pod validation that the PodSpec's types do not carry: names, port
//! numbers, references from volume mounts to volumes, and the closed sets of values some string
//! fields take. The API server would accept the RayJob (its pod templates are not validated as
//! pods); KubeRay's pods would then be refused and the cluster would never become ready.

use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::names;
use crate::quantity::Quantity;
use crate::source::Span;
use crate::value::{Value, ValueKind};

const RESTART_POLICIES: &[&str] = &["Always", "OnFailure", "Never"];
const DNS_POLICIES: &[&str] = &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];
/// An empty effect or operator is allowed: it matches every effect, and means `Equal`.
const TOLERATION_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute", ""];
const TOLERATION_OPERATORS: &[&str] = &["Exists", "Equal", ""];
/// Container names are unique across all three lists of a pod.
const CONTAINER_LISTS: &[&str] = &["containers", "init_containers", "ephemeral_containers"];
const PROBES: &[&str] = &["liveness_probe", "readiness_probe", "startup_probe"];

/// Every problem of these rules in `pod` (a partial PodSpec in snake_case, already walked
/// against the schema), each once; `path` prefixes the paths in messages ("pod_template").
/// Values known only at run time are skipped.
pub fn check_rules(pod: &Value, path: &str) -> Vec<Diagnostic> {
    let mut rules = Rules { found: Vec::new() };
    if matches!(pod.kind, ValueKind::Record(_)) {
        rules.pod(pod, path);
    }
    rules.found
}

/// A field that is set.
fn get<'v>(record: &'v Value, key: &str) -> Option<&'v Value> {
    record.get(key).filter(|v| !matches!(v.kind, ValueKind::None))
}

/// The items of a list field with their indices (as the schema walk numbers them).
fn items<'v>(record: &'v Value, key: &str) -> impl Iterator<Item = (usize, &'v Value)> {
    let list = match get(record, key).map(|v| &v.kind) {
        Some(ValueKind::List(items)) => items.as_slice(),
        _ => &[],
    };
    list.iter()
        .enumerate()
        .filter(|(_, v)| !matches!(v.kind, ValueKind::None))
}

fn text(value: Option<&Value>) -> Option<(&str, Span)> {
    match value.map(|v| (&v.kind, v.span)) {
        Some((ValueKind::Str(s), span)) => Some((s, span)),
        _ => None,
    }
}

/// The first place each name was given, to report a second one with both places.
#[derive(Default)]
struct Seen<'v>(Vec<(&'v str, Span)>);

impl<'v> Seen<'v> {
    fn first(&mut self, name: &'v str, span: Span) -> Option<Span> {
        match self.0.iter().find(|(n, _)| *n == name) {
            Some((_, first)) => Some(*first),
            None => {
                self.0.push((name, span));
                None
            }
        }
    }
}

struct Rules {
    found: Vec<Diagnostic>,
}

impl Rules {
    fn pod(&mut self, pod: &Value, path: &str) {
        self.one_of(
            get(pod, "restart_policy"),
            &format!("{path}.restart_policy"),
            RESTART_POLICIES,
        );
        self.one_of(get(pod, "dns_policy"), &format!("{path}.dns_policy"), DNS_POLICIES);
        for (i, toleration) in items(pod, "tolerations") {
            let at = format!("{path}.tolerations[{i}]");
            self.one_of(get(toleration, "effect"), &format!("{at}.effect"), TOLERATION_EFFECTS);
            self.one_of(
                get(toleration, "operator"),
                &format!("{at}.operator"),
                TOLERATION_OPERATORS,
            );
        }
        let volumes = self.volumes(pod, path);
        let mut containers = Seen::default();
        for list in CONTAINER_LISTS {
            for (i, container) in items(pod, list) {
                let at = format!("{path}.{list}[{i}]");
                if let Some((name, span)) = text(get(container, "name")) {
                    self.name(name, span, &format!("{at}.name"), "container", names::is_dns1123_label);
                    if let Some(first) = containers.first(name, span) {
                        self.duplicate(span, first, &format!("two containers of the pod are named `{name}`"),
                            "container names are unique in a pod, init containers included; rename one (only one container can merge into the Ray container)");
                    }
                }
                self.container(container, &at, volumes.as_deref());
            }
        }
    }

    /// The names of the pod's volumes, checked (E0505, E0102); `None` when some are known only at run time.
    fn volumes<'v>(&mut self, pod: &'v Value, path: &str) -> Option<Vec<&'v str>> {
        let mut seen = Seen::default();
        let mut complete = !matches!(
            get(pod, "volumes").map(|v| &v.kind),
            Some(ValueKind::Unknown | ValueKind::Deferred(_))
        );
        for (i, volume) in items(pod, "volumes") {
            let Some((name, span)) = text(get(volume, "name")) else {
                complete = false;
                continue;
            };
            self.name(
                name,
                span,
                &format!("{path}.volumes[{i}].name"),
                "volume",
                names::is_dns1123_label,
            );
            if let Some(first) = seen.first(name, span) {
                self.duplicate(
                    span,
                    first,
                    &format!("two volumes of the pod are named `{name}`"),
                    "rename one of them",
                );
            }
        }
        complete.then(|| seen.0.into_iter().map(|(name, _)| name).collect())
    }

    fn container(&mut self, container: &Value, at: &str, volumes: Option<&[&str]>) {
        let mut ports = Seen::default();
        for (i, port) in items(container, "ports") {
            let port_at = format!("{at}.ports[{i}]");
            if let Some((name, span)) = text(get(port, "name")) {
                self.name(name, span, &format!("{port_at}.name"), "port", names::is_port_name);
                if let Some(first) = ports.first(name, span) {
                    self.duplicate(
                        span,
                        first,
                        &format!("two ports of the container are named `{name}`"),
                        "rename one of them",
                    );
                }
            }
            self.port_number(get(port, "container_port"), &format!("{port_at}.container_port"), false);
            self.port_number(get(port, "host_port"), &format!("{port_at}.host_port"), true);
        }
        for probe in PROBES.iter().filter_map(|p| get(container, p).map(|v| (p, v))) {
            for action in ["http_get", "tcp_socket", "grpc"] {
                let port_at = format!("{at}.{}.{action}.port", probe.0);
                match get(probe.1, action).and_then(|a| get(a, "port")) {
                    Some(port) if matches!(port.kind, ValueKind::Str(_)) => {
                        if let Some((name, span)) = text(Some(port)) {
                            self.name(name, span, &port_at, "port", names::is_port_name);
                        }
                    }
                    port => self.port_number(port, &port_at, false),
                }
            }
        }
        for (i, var) in items(container, "env") {
            if let Some((name, span)) = text(get(var, "name")) {
                self.name(
                    name,
                    span,
                    &format!("{at}.env[{i}].name"),
                    "environment variable",
                    names::is_env_var_name,
                );
            }
        }
        if let Some(resources) = get(container, "resources") {
            self.resources(resources, &format!("{at}.resources"));
        }
        let Some(volumes) = volumes else { return };
        for mount in items(container, "volume_mounts").map(|(_, m)| m) {
            let Some((name, span)) = text(get(mount, "name")) else {
                continue;
            };
            if !volumes.contains(&name) {
                let mut d = Diagnostic::new(
                    Code::E0101,
                    span,
                    format!("the volume mount names `{name}`, which is not a volume of the pod"),
                    "no such volume",
                );
                d = match did_you_mean(name, volumes.iter().copied()) {
                    Some(close) => d.help(format!("did you mean `{close}`?")),
                    None if volumes.is_empty() => d.help("the pod template defines no `volumes`; add the volume there"),
                    None => d.help(format!("the pod's volumes are {}", quoted(volumes))),
                };
                self.found.push(d);
            }
        }
    }

    /// E0520 for a container's own `resources` that Kubernetes rejects: the rules the emitter
    /// applies to `requests` and `limits`, here on the template's quantities.
    fn resources(&mut self, resources: &Value, at: &str) {
        let amounts = |which: &str| -> Vec<(&str, Quantity, Span)> {
            let entries = match get(resources, which).map(|v| &v.kind) {
                Some(ValueKind::Record(entries)) => entries.as_slice(),
                _ => &[],
            };
            entries
                .iter()
                .filter_map(|e| quantity(&e.value).map(|q| (e.key.as_str(), q, e.value.span)))
                .collect()
        };
        let requests = amounts("requests");
        let limits = amounts("limits");
        for (which, list) in [("requests", &requests), ("limits", &limits)] {
            let Some(ValueKind::Record(entries)) = get(resources, which).map(|v| &v.kind) else {
                continue;
            };
            for entry in entries.iter().filter(|e| !names::is_container_resource_name(&e.key)) {
                self.found.push(
                    Diagnostic::new(
                        Code::E0520,
                        entry.key_span,
                        format!("`{at}.{which}` names `{}`, not a resource Kubernetes accepts", entry.key),
                        "invalid resource name",
                    )
                    .help("resources are `cpu`, `memory`, `ephemeral-storage`, `hugepages-SIZE`, or `DOMAIN/NAME` such as \"nvidia.com/gpu\""),
                );
            }
            for (name, q, span) in list {
                let problem = if q.is_negative() {
                    "resources cannot be negative"
                } else if names::is_integer_resource(name) && !q.is_whole() {
                    "Kubernetes counts extended resources in whole units"
                } else {
                    continue;
                };
                self.found.push(
                    Diagnostic::new(
                        Code::E0520,
                        *span,
                        format!("`{at}.{which}` gives `{name}` {}, but {problem}", q.canonical()),
                        "rejected by Kubernetes",
                    )
                    .help("give a whole amount of zero or more"),
                );
            }
        }
        for (name, request, span) in &requests {
            let Some((_, limit, limit_span)) = limits.iter().find(|(n, ..)| n == name) else {
                continue;
            };
            if request > limit && !limit.is_negative() {
                let message = if names::is_integer_resource(name) {
                    format!(
                        "`{name}` requests {}, but its limit is {}; extended resources need them equal",
                        request.canonical(),
                        limit.canonical()
                    )
                } else {
                    format!(
                        "`{name}` requests {}, above its limit {}",
                        request.canonical(),
                        limit.canonical()
                    )
                };
                self.found.push(
                    Diagnostic::new(Code::E0520, *span, message, "above the limit")
                        .label(*limit_span, "limit set here")
                        .help("a container cannot request more than its limit; raise the limit or lower the request"),
                );
            }
        }
    }

    /// E0505 for a name that `valid` rejects.
    fn name(&mut self, name: &str, span: Span, path: &str, what: &str, valid: fn(&str) -> bool) {
        if valid(name) {
            return;
        }
        let rule = match what {
            "port" => "port names are at most 15 lower-case letters, digits and `-`, with a letter, without `-` at either end or `--`",
            "environment variable" => "names are letters, digits, `_`, `-` and `.`, not starting with a digit (and never empty or with `=`)",
            _ => "names are DNS-1123 labels: at most 63 lower-case letters, digits and `-`, beginning and ending with a letter or digit",
        };
        self.found.push(
            Diagnostic::new(
                Code::E0505,
                span,
                format!("`{path}` is {name:?}, not a valid {what} name"),
                "invalid name",
            )
            .help(rule),
        );
    }

    fn duplicate(&mut self, span: Span, first: Span, message: &str, help: &str) {
        self.found.push(
            Diagnostic::new(Code::E0102, span, message, "same name again")
                .label(first, "first used here")
                .help(help),
        );
    }

    /// E0303 for a port number outside 1–65535 (0 too, where it means "none"). A number beyond
    /// 32 bits was reported by the schema walk.
    fn port_number(&mut self, port: Option<&Value>, path: &str, zero_allowed: bool) {
        let Some(value) = port else { return };
        let ValueKind::Int(n) = value.kind else { return };
        if i32::try_from(n).is_err() || (1..=65535).contains(&n) || (zero_allowed && n == 0) {
            return;
        }
        self.found.push(
            Diagnostic::new(
                Code::E0303,
                value.span,
                format!("`{path}` is {n}, not a port number"),
                "out of range",
            )
            .help("port numbers are 1 to 65535"),
        );
    }

    /// E0303 for a string outside the closed set Kubernetes accepts.
    fn one_of(&mut self, value: Option<&Value>, path: &str, valid: &[&str]) {
        let Some((given, span)) = text(value) else { return };
        if valid.contains(&given) {
            return;
        }
        let named: Vec<&str> = valid.iter().copied().filter(|v| !v.is_empty()).collect();
        let mut help = format!("the values are {}", quoted(&named));
        if named.len() < valid.len() {
            help.push_str(", or \"\"");
        }
        if let Some(close) = did_you_mean(given, named.iter().copied()) {
            help = format!(
                "did you mean \"{close}\"? The values are {}",
                &help["the values are ".len()..]
            );
        }
        self.found.push(
            Diagnostic::new(
                Code::E0303,
                span,
                format!("`{path}` is {given:?}, which Kubernetes does not accept"),
                "not an accepted value",
            )
            .help(help),
        );
    }
}

/// `"a", "b" and "c"`.
fn quoted(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// A pod value's quantity: a number, a quantity, or a string that parses as one (as the schema
/// walk accepts them).
fn quantity(value: &Value) -> Option<Quantity> {
    match &value.kind {
        ValueKind::Int(n) => Some(Quantity::from_int(*n)),
        ValueKind::Float(x) => Quantity::from_f64(*x),
        ValueKind::Quantity(q) => Some(*q),
        ValueKind::Str(s) => Quantity::parse(s),
        _ => None,
    }
}
