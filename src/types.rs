//! The types of rwf (language reference §5) and the schemas of its configuration records (§4).

use crate::load::ModuleId;
use std::fmt;

/// A definition in a module: the item at `index` of `module`'s file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ItemRef {
    pub module: ModuleId,
    pub index: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Int,
    Float,
    Bool,
    Str,
    Quantity,
    Duration,
    File,
    Dir,
    Secret,
    /// The type of `none`, accepted anywhere (it removes a field).
    NoneTy,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// Named outputs of a task or workflow.
    Record(Vec<(String, Ty)>),
    Config(Schema),
    /// An `env` value: `str` or `secret`.
    EnvValue,
    /// A `ray_start_params` value: any scalar.
    Scalar,
    /// Free-form JSON, e.g. the pass-through keys of `runtime_env`.
    Any,
    /// A `{ ... }` literal checked against nothing yet.
    RecordLiteral,
    Task(ItemRef),
    Workflow(ItemRef),
    Module(ModuleId),
    Builtin(crate::check::Builtin),
    /// What a task without outputs returns.
    Nothing,
    /// Stands for something already reported: accepted everywhere, reported nowhere.
    Error,
}

/// Configuration records whose fields are checked one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    Task,
    Cluster,
    Head,
    Worker,
    Resources,
    RuntimeEnv,
    Pod,
    Submitter,
    Autoscaler,
    WorkflowSettings,
}

/// One field of a configuration record.
pub struct FieldSpec {
    pub name: &'static str,
    pub ty: fn() -> Ty,
    /// `worker "NAME" { ... }`: the field takes a label and may repeat.
    pub labelled: bool,
}

const fn field(name: &'static str, ty: fn() -> Ty) -> FieldSpec {
    FieldSpec {
        name,
        ty,
        labelled: false,
    }
}

fn str_map() -> Ty {
    Ty::Map(Box::new(Ty::Str))
}

fn str_list() -> Ty {
    Ty::List(Box::new(Ty::Str))
}

const TASK_FIELDS: &[FieldSpec] = &[
    field("image", || Ty::Str),
    field("entrypoint", || Ty::Str),
    field("submission_mode", || Ty::Str),
    field("ray", || Ty::Config(Schema::Cluster)),
    field("requests", || Ty::Config(Schema::Resources)),
    field("limits", || Ty::Config(Schema::Resources)),
    field("env", || Ty::Map(Box::new(Ty::EnvValue))),
    field("retries", || Ty::Int),
    field("timeout", || Ty::Duration),
    field("namespace", || Ty::Str),
    field("service_account", || Ty::Str),
    field("labels", str_map),
    field("annotations", str_map),
    field("submitter", || Ty::Config(Schema::Submitter)),
];

const CLUSTER_FIELDS: &[FieldSpec] = &[
    field("head", || Ty::Config(Schema::Head)),
    FieldSpec {
        name: "worker",
        ty: || Ty::Config(Schema::Worker),
        labelled: true,
    },
    field("enable_autoscaling", || Ty::Bool),
    field("autoscaler", || Ty::Config(Schema::Autoscaler)),
    field("runtime_env", || Ty::Config(Schema::RuntimeEnv)),
    field("shutdown_after_job_finishes", || Ty::Bool),
    field("ttl_seconds_after_finished", || Ty::Int),
    field("ray_version", || Ty::Str),
    field("existing_cluster", || Ty::Str),
    field("address", || Ty::Str),
];

const HEAD_FIELDS: &[FieldSpec] = &[
    field("ray_start_params", || Ty::Map(Box::new(Ty::Scalar))),
    field("requests", || Ty::Config(Schema::Resources)),
    field("limits", || Ty::Config(Schema::Resources)),
    field("pod_template", || Ty::Config(Schema::Pod)),
    field("image", || Ty::Str),
];

const WORKER_FIELDS: &[FieldSpec] = &[
    field("ray_start_params", || Ty::Map(Box::new(Ty::Scalar))),
    field("requests", || Ty::Config(Schema::Resources)),
    field("limits", || Ty::Config(Schema::Resources)),
    field("pod_template", || Ty::Config(Schema::Pod)),
    field("image", || Ty::Str),
    field("replicas", || Ty::Int),
    field("min_replicas", || Ty::Int),
    field("max_replicas", || Ty::Int),
];

const RESOURCE_FIELDS: &[FieldSpec] = &[
    field("cpu", || Ty::Quantity),
    field("mem", || Ty::Quantity),
    field("gpu", || Ty::Quantity),
    field("ephemeral_storage", || Ty::Quantity),
];

const RUNTIME_ENV_FIELDS: &[FieldSpec] = &[
    field("pip", || Ty::Any),
    field("conda", || Ty::Any),
    field("env_vars", str_map),
    field("working_dir", || Ty::Str),
    field("py_modules", str_list),
    field("excludes", str_list),
];

const SUBMITTER_FIELDS: &[FieldSpec] = &[
    field("requests", || Ty::Config(Schema::Resources)),
    field("limits", || Ty::Config(Schema::Resources)),
    field("image", || Ty::Str),
];

const AUTOSCALER_FIELDS: &[FieldSpec] = &[
    field("upscaling_mode", || Ty::Str),
    field("idle_timeout", || Ty::Duration),
];

const WORKFLOW_SETTINGS_FIELDS: &[FieldSpec] = &[
    field("storage", || Ty::Str),
    field("namespace", || Ty::Str),
    field("labels", str_map),
    field("annotations", str_map),
    field("service_account", || Ty::Str),
];

/// The Kubernetes name of a resource key.
pub fn resource_name(key: &str) -> &str {
    match key {
        "mem" => "memory",
        "gpu" => "nvidia.com/gpu",
        "ephemeral_storage" => "ephemeral-storage",
        other => other,
    }
}

/// The key a resource is kept under: the bare key when one names the same Kubernetes resource
/// (`"nvidia.com/gpu"` is `gpu`), so merging meets the two spellings as one key.
pub fn resource_key(key: &str) -> &str {
    RESOURCE_FIELDS
        .iter()
        .map(|f| f.name)
        .find(|bare| resource_name(bare) == key)
        .unwrap_or(key)
}

impl Schema {
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Schema::Task => TASK_FIELDS,
            Schema::Cluster => CLUSTER_FIELDS,
            Schema::Head => HEAD_FIELDS,
            Schema::Worker => WORKER_FIELDS,
            Schema::Resources => RESOURCE_FIELDS,
            Schema::RuntimeEnv => RUNTIME_ENV_FIELDS,
            // Pod values are checked against Kubernetes' PodSpec instead (see `pod`).
            Schema::Pod => &[],
            Schema::Submitter => SUBMITTER_FIELDS,
            Schema::Autoscaler => AUTOSCALER_FIELDS,
            Schema::WorkflowSettings => WORKFLOW_SETTINGS_FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldSpec> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The type for a key the fixed table does not list, when the schema allows open keys.
    pub fn open_key(self, key: &str, quoted: bool) -> Option<Ty> {
        match self {
            // `"amd.com/gpu" = 1`: extended resources are quoted and contain `/`.
            Schema::Resources if quoted && key.contains('/') => Some(Ty::Quantity),
            Schema::RuntimeEnv => Some(Ty::Any),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Schema::Task => "task",
            Schema::Cluster => "cluster",
            Schema::Head | Schema::Worker => "node",
            Schema::Resources => "resources",
            Schema::RuntimeEnv => "runtime_env",
            Schema::Pod => "pod",
            Schema::Submitter => "submitter",
            Schema::Autoscaler => "autoscaler",
            Schema::WorkflowSettings => "workflow settings",
        }
    }
}

impl Ty {
    /// Whether a value of type `self` may stand where `expected` is required (§5).
    pub fn assignable_to(&self, expected: &Ty) -> bool {
        use Ty::*;
        match (self, expected) {
            (Error, _) | (_, Error) | (NoneTy, _) | (_, Any) => true,
            (Int, Float | Quantity | Duration | Scalar) => true,
            (Float, Quantity | Scalar) => true,
            (Str, File | Dir | EnvValue | Scalar) => true,
            (File | Dir, Str) => true,
            (Bool | Quantity | Duration, Scalar) => true,
            (Secret, EnvValue) => true,
            (List(a), List(b)) | (Map(a), Map(b)) => a.assignable_to(b),
            (Record(a), Record(b)) => {
                a.len() == b.len()
                    && b.iter()
                        .all(|(name, ty)| a.iter().any(|(n, t)| n == name && t.assignable_to(ty)))
            }
            (Config(Schema::Worker), Config(Schema::Head)) => true,
            (a, b) => a == b,
        }
    }

    /// Whether `${...}` may turn a value of this type into text.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Ty::Int | Ty::Float | Ty::Bool | Ty::Str | Ty::Quantity | Ty::Duration | Ty::File | Ty::Dir | Ty::Error
        )
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float | Ty::Quantity | Ty::Duration)
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("int"),
            Ty::Float => f.write_str("float"),
            Ty::Bool => f.write_str("bool"),
            Ty::Str => f.write_str("str"),
            Ty::Quantity => f.write_str("quantity"),
            Ty::Duration => f.write_str("duration"),
            Ty::File => f.write_str("file"),
            Ty::Dir => f.write_str("dir"),
            Ty::Secret => f.write_str("secret"),
            Ty::NoneTy => f.write_str("none"),
            Ty::List(t) => write!(f, "list[{t}]"),
            Ty::Map(t) => write!(f, "map[str, {t}]"),
            Ty::Record(fields) => {
                f.write_str("(")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str(")")
            }
            Ty::Config(schema) => f.write_str(schema.name()),
            Ty::EnvValue => f.write_str("str or secret"),
            Ty::Scalar => f.write_str("scalar"),
            Ty::Any => f.write_str("any value"),
            Ty::RecordLiteral => f.write_str("record"),
            Ty::Task(_) => f.write_str("task"),
            Ty::Workflow(_) => f.write_str("workflow"),
            Ty::Module(_) => f.write_str("module"),
            Ty::Builtin(_) => f.write_str("builtin function"),
            Ty::Nothing => f.write_str("nothing"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

/// The named types a type annotation may use.
pub const TYPE_NAMES: &[&str] = &[
    "int",
    "float",
    "bool",
    "str",
    "quantity",
    "duration",
    "file",
    "dir",
    "secret",
    "resources",
    "cluster",
    "node",
    "runtime_env",
    "pod",
    "list",
    "map",
];

pub fn named_type(name: &str) -> Option<Ty> {
    Some(match name {
        "int" => Ty::Int,
        "float" => Ty::Float,
        "bool" => Ty::Bool,
        "str" => Ty::Str,
        "quantity" => Ty::Quantity,
        "duration" => Ty::Duration,
        "file" => Ty::File,
        "dir" => Ty::Dir,
        "secret" => Ty::Secret,
        "resources" => Ty::Config(Schema::Resources),
        "cluster" => Ty::Config(Schema::Cluster),
        "node" => Ty::Config(Schema::Worker),
        "runtime_env" => Ty::Config(Schema::RuntimeEnv),
        "pod" => Ty::Config(Schema::Pod),
        _ => return None,
    })
}
