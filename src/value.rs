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

/// At most this many parts in one computed value (E0606): values, record entries, expression
/// nodes, and the bytes of strings and keys. Constants can double a value at each step, so
/// without a bound 40 lines allocate gigabytes; it is above the longest string (E0604).
pub const MAX_VALUE_PARTS: usize = 2 * 1024 * 1024;
/// At most this many levels of lists, records and expressions in one computed value (E0607):
/// constants can wrap each other without end, and every later pass recurses over values.
pub const MAX_VALUE_DEPTH: usize = 128;

/// The size of a value: its parts and how deeply they nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub parts: usize,
    pub depth: usize,
}

impl Extent {
    /// A value without parts of its own yet: an empty list or record.
    pub const ONE: Extent = Extent { parts: 1, depth: 1 };

    /// Whether a value this size is within both limits.
    pub fn fits(self) -> bool {
        self.parts <= MAX_VALUE_PARTS && self.depth <= MAX_VALUE_DEPTH
    }

    /// This extent with `child` added one level below.
    pub fn with_child(self, child: Extent) -> Extent {
        Extent {
            parts: self.parts.saturating_add(child.parts),
            depth: self.depth.max(child.depth.saturating_add(1)),
        }
    }

    /// The extent of a value. The walk stops once past a limit, so it costs at most the limit
    /// and never recurses deeper than it.
    pub fn of(kind: &ValueKind) -> Extent {
        let mut extent = Extent { parts: 0, depth: 0 };
        measure_kind(kind, 1, &mut extent);
        extent
    }

    /// The extent of a run-time expression, measured like [`Extent::of`].
    pub fn of_sym(sym: &Sym) -> Extent {
        let mut extent = Extent { parts: 0, depth: 0 };
        measure_sym(sym, 1, &mut extent);
        extent
    }
}

fn measure_kind(kind: &ValueKind, depth: usize, extent: &mut Extent) {
    extent.parts = extent.parts.saturating_add(1);
    extent.depth = extent.depth.max(depth);
    if !extent.fits() {
        return;
    }
    match kind {
        ValueKind::Str(text) => extent.parts = extent.parts.saturating_add(text.len()),
        ValueKind::Secret { name, key } => extent.parts = extent.parts.saturating_add(name.len() + key.len()),
        ValueKind::List(items) => {
            for item in items {
                measure_kind(&item.kind, depth + 1, extent);
                if !extent.fits() {
                    return;
                }
            }
        }
        ValueKind::Record(entries) => {
            for entry in entries {
                let label = entry.label.as_ref().map_or(0, String::len);
                extent.parts = extent.parts.saturating_add(1 + entry.key.len() + label);
                measure_kind(&entry.value.kind, depth + 1, extent);
                if !extent.fits() {
                    return;
                }
            }
        }
        ValueKind::Deferred(sym) => measure_sym(sym, depth + 1, extent),
        ValueKind::Command(parts) => {
            for part in parts {
                match part {
                    CommandPart::Text(text) => extent.parts = extent.parts.saturating_add(text.len()),
                    CommandPart::Value(value) => measure_kind(&value.kind, depth + 1, extent),
                }
                if !extent.fits() {
                    return;
                }
            }
        }
        ValueKind::None
        | ValueKind::Bool(_)
        | ValueKind::Int(_)
        | ValueKind::Float(_)
        | ValueKind::Quantity(_)
        | ValueKind::Duration(_)
        | ValueKind::Unknown => {}
    }
}

fn measure_sym(sym: &Sym, depth: usize, extent: &mut Extent) {
    match sym {
        Sym::Lit(kind) => measure_kind(kind, depth, extent),
        Sym::Param(name) => extent.parts = extent.parts.saturating_add(1 + name.len()),
        Sym::Output { node, name } => extent.parts = extent.parts.saturating_add(1 + node.len() + name.len()),
        Sym::RunId => extent.parts = extent.parts.saturating_add(1),
        Sym::Op(_, args) => {
            extent.parts = extent.parts.saturating_add(1);
            extent.depth = extent.depth.max(depth);
            for arg in args {
                if !extent.fits() {
                    return;
                }
                measure_sym(arg, depth + 1, extent);
            }
        }
    }
    extent.depth = extent.depth.max(depth);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(kind: ValueKind) -> Value {
        Value::new(kind, Span::default())
    }

    #[test]
    fn extent_counts_parts_and_levels() {
        let list = ValueKind::List(vec![value(ValueKind::Int(1)), value(ValueKind::Str("ab".into()))]);
        assert_eq!(Extent::of(&list), Extent { parts: 5, depth: 2 });
        let sym = Sym::Op("add", vec![Sym::Param("n".into()), Sym::Lit(ValueKind::Int(1))]);
        assert_eq!(Extent::of_sym(&sym), Extent { parts: 4, depth: 2 });
    }

    #[test]
    fn extent_stops_past_the_limit() {
        let mut deep = ValueKind::Int(0);
        for _ in 0..10 * MAX_VALUE_DEPTH {
            deep = ValueKind::List(vec![value(deep)]);
        }
        let extent = Extent::of(&deep);
        assert!(!extent.fits());
        assert_eq!(extent.depth, MAX_VALUE_DEPTH + 1);
    }
}
