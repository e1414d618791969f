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
            ValueKind::Unknown => "run-time value",
        }
    }
}
