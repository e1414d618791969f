//! Values computed at compile time. Each keeps the span of the expression it came from, so a
//! problem found late (a pod field, a replica bound) still points at the source.

use crate::quantity::{Duration, Quantity};
use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Quantity(Quantity),
    Duration(Duration),
    List(Vec<Value>),
    /// Records, maps and configuration blocks, in source order.
    Record(Vec<Entry>),
    Secret {
        name: String,
        key: String,
    },
    /// Known only when the task is called or the workflow runs; its type was checked.
    Unknown,
    /// Known only when the workflow runs, as an expression over its run-time inputs (§8).
    Deferred(Box<Sym>),
    /// An interpolated `entrypoint`: literal text and the values spliced into it, kept apart
    /// until the submission mode decides how each value is quoted (§6.4).
    Command(Vec<CommandPart>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandPart {
    Text(String),
    Value(Value),
}

/// The operators of deferred expressions (§9.1).
pub const OPS: &[&str] = &[
    "add",
    "sub",
    "mul",
    "div",
    "mod",
    "neg",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "and",
    "or",
    "not",
    "if",
    "min",
    "max",
    "clamp",
    "ceil_div",
    "ceil",
    "floor",
    "round",
    "abs",
    "int",
    "float",
    "str",
    "concat",
    "quantity",
    "shell_quote",
];

/// A run-time expression in the executor's terms (language reference §9.1).
#[derive(Debug, Clone, PartialEq)]
pub enum Sym {
    /// A scalar known at build time.
    Lit(ValueKind),
    Param(String),
    Output {
        node: String,
        name: String,
    },
    RunId,
    Op(&'static str, Vec<Sym>),
}

impl Sym {
    /// The expression of a value: its own when deferred, a literal when it is a known scalar.
    pub fn of(kind: &ValueKind) -> Option<Sym> {
        match kind {
            ValueKind::Deferred(sym) => Some((**sym).clone()),
            ValueKind::Bool(_)
            | ValueKind::Int(_)
            | ValueKind::Float(_)
            | ValueKind::Str(_)
            | ValueKind::Quantity(_)
            | ValueKind::Duration(_) => Some(Sym::Lit(kind.clone())),
            _ => None,
        }
    }

    pub fn op(name: &'static str, args: Vec<Sym>) -> ValueKind {
        ValueKind::Deferred(Box::new(Sym::Op(name, args)))
    }

    /// The §9.1 JSON form. Quantities are `quantity` of their canonical text, durations whole
    /// seconds.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Sym::Lit(kind) => match kind {
                ValueKind::Bool(b) => json!({ "lit": b }),
                ValueKind::Int(n) => json!({ "lit": n }),
                ValueKind::Float(x) => json!({ "lit": x }),
                ValueKind::Str(s) => json!({ "lit": s }),
                ValueKind::Quantity(q) => json!({ "op": "quantity", "args": [{ "lit": q.canonical() }] }),
                ValueKind::Duration(d) => json!({ "lit": d.millis() / 1000 }),
                _ => json!({ "lit": null }),
            },
            Sym::Param(name) => json!({ "param": name }),
            Sym::Output { node, name } => json!({ "output": { "node": node, "name": name } }),
            Sym::RunId => json!({ "run_id": {} }),
            Sym::Op(op, args) => json!({ "op": op, "args": args.iter().map(Sym::to_json).collect::<Vec<_>>() }),
        }
    }

    /// rwf-like text of the expression, for notes and graphs.
    pub fn display(&self) -> String {
        match self {
            Sym::Lit(ValueKind::Str(s)) => format!("{s:?}"),
            Sym::Lit(kind) => crate::check::to_text(kind).unwrap_or_default(),
            Sym::Param(name) => name.clone(),
            Sym::Output { node, name } => format!("{node}.{name}"),
            Sym::RunId => "run_id".to_owned(),
            Sym::Op(op, args) => {
                let texts: Vec<String> = args.iter().map(Sym::display).collect();
                let infix = match *op {
                    "add" => Some("+"),
                    "sub" => Some("-"),
                    "mul" => Some("*"),
                    "div" => Some("/"),
                    "mod" => Some("%"),
                    "eq" => Some("=="),
                    "ne" => Some("!="),
                    "lt" => Some("<"),
                    "le" => Some("<="),
                    "gt" => Some(">"),
                    "ge" => Some(">="),
                    "and" => Some("&&"),
                    "or" => Some("||"),
                    _ => None,
                };
                match (infix, texts.as_slice(), *op) {
                    (Some(sym), [a, b], _) => format!("({a} {sym} {b})"),
                    (_, [a], "neg") => format!("-{a}"),
                    (_, [a], "not") => format!("!{a}"),
                    (_, [c, a, b], "if") => format!("if {c} {{ {a} }} else {{ {b} }}"),
                    _ => format!("{op}({})", texts.join(", ")),
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    /// `worker "NAME"`.
    pub label: Option<String>,
    pub value: Value,
}

impl Value {
    pub fn new(kind: ValueKind, span: Span) -> Value {
        Value { kind, span }
    }

    /// The entry for `key`, the last one when a key repeats.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.kind {
            ValueKind::Record(entries) => entries.iter().rev().find(|e| e.key == key).map(|e| &e.value),
            _ => None,
        }
    }

    /// A short name of the value's kind, for messages.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            ValueKind::None => "none",
            ValueKind::Bool(_) => "bool",
            ValueKind::Int(_) => "int",
            ValueKind::Float(_) => "float",
            ValueKind::Str(_) => "str",
            ValueKind::Quantity(_) => "quantity",
            ValueKind::Duration(_) => "duration",
            ValueKind::List(_) => "list",
            ValueKind::Record(_) => "record",
            ValueKind::Secret { .. } => "secret",
            ValueKind::Unknown | ValueKind::Deferred(_) => "run-time value",
            ValueKind::Command(_) => "str",
        }
    }
}
