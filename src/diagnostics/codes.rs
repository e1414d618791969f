//! The registry of diagnostic codes. A code keeps its meaning forever; new codes are added,
//! never reused. Each has a long explanation in `explain/<CODE>.md` for `rwfc explain`.

use super::Severity;

macro_rules! codes {
    ($($code:ident => $title:literal,)*) => {
        /// A stable diagnostic code of the language reference (§10).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($code,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// One line saying what the code means.
            pub fn title(self) -> &'static str {
                match self {
                    $(Code::$code => $title,)*
                }
            }

            /// The long explanation with an example, shown by `rwfc explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md")),)*
                }
            }
        }
    };
}

codes! {
    E0001 => "syntax error (or invalid UTF-8)",
    E0101 => "unknown name, or a value used before its binding",
    E0102 => "duplicate definition, key, module name or final node name",
    E0103 => "import not found",
    E0104 => "cycle between imports, constants or clusters",
    E0105 => "import path leaves the compilation root",
    E0201 => "type mismatch",
    E0202 => "unknown field",
    E0203 => "missing required field",
    E0204 => "missing argument",
    E0205 => "unknown argument or `--set` name",
    E0206 => "wrong arguments to a builtin",
    E0207 => "calling something that is not a task or workflow, or `with` on a workflow call",
    E0301 => "division by zero in a compile-time evaluation",
    E0302 => "integer overflow",
    E0303 => "value out of range",
    E0304 => "invalid quantity or duration suffix",
    E0401 => "dependency cycle in a workflow, or a workflow calling itself",
    E0402 => "missing or mistyped `return`",
    E0501 => "pod template's Ray container sets resources and the node sets `requests`/`limits`",
    E0502 => "duplicate worker group name",
    E0503 => "replicas outside `[min_replicas, max_replicas]` (also when not provable), or min > max",
    E0504 => "`ttl_seconds_after_finished > 0` with `shutdown_after_job_finishes = false`",
    E0505 => "a Kubernetes name or label is invalid",
    E0507 => "GPU requests differ from GPU limits",
    E0508 => "override names a worker group the task does not have",
    E0509 => "existing cluster together with fields that need our own cluster; bad `address`",
    E0510 => "field not supported by the target KubeRay version",
    E0511 => "`ray_start_params` sets a key KubeRay rejects (`labels`)",
    E0512 => "worker group name is not a DNS-1123 label",
    E0513 => "missing or empty `entrypoint`",
    E0514 => "no image for a Ray container",
    E0515 => "invalid `runtime_env`",
    E0516 => "interpolated value cannot reach the job intact (K8sJobMode with Ray < 2.60, or inside quotes)",
    E0517 => "field depends on a run-time value but must be known at build time",
    E0518 => "`submitter` set outside K8sJobMode, or an unknown `submission_mode`",
    E0519 => "a runtime env string or `ray_start_params` entry that a pod's bash would expand or split",
    E0520 => "a resource request or limit that Kubernetes rejects",
    E0521 => "a `ray_start_params` value that `ray start` cannot read as the integer its option takes",
    E0601 => "nesting too deep",
    E0602 => "file too large",
    E0603 => "too many imported files",
    E0604 => "string too long",
    E0605 => "fan-out over more than 10,000 elements",
    E0606 => "computed value too large",
    E0607 => "computed value nested too deeply",
    E0608 => "a build creates too many nodes",
    E0609 => "workflow calls nested too deeply",
    E0701 => "text that reaches an Argo object contains `{{`",
    E0702 => "a workflow cannot be laid out within Argo's limits",
    E0703 => "an upstream scalar output is needed at run time but the Argo target cannot read it",
    E0704 => "a run-time value that Argo's expressions cannot compute exactly",
    W0001 => "unused binding, import or parameter",
    W0501 => "autoscaling group that can never grow (`max_replicas` unset)",
    W0502 => "shell syntax in the literal text of a K8sJobMode or SidecarMode entrypoint",
    W0503 => "task-level resource that no node receives",
    W0504 => "memory or ephemeral storage below 1Mi: a number without a unit is bytes",
    W0505 => "head without resource requests or limits (a BestEffort pod)",
    W0506 => "task-level GPU request that reaches the head as well as the workers",
}

impl Code {
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        }
    }

    /// Looks a code up by its text, case-insensitively (`e0101` works too).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(text.trim()))
    }
}
