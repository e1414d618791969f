//! Placeholder until the PodSpec checker lands.
use crate::source::Span;
use crate::value::Value;
pub struct PodProblem {
    pub span: Span,
    pub kind: PodProblemKind,
}
pub enum PodProblemKind {
    UnknownField {
        path: String,
        suggestion: Option<String>,
    },
    MissingName {
        path: String,
    },
    TypeMismatch {
        path: String,
        expected: String,
        found: String,
    },
}
pub fn check_pod_spec(_value: &Value, _path: &str) -> (serde_json::Value, Vec<PodProblem>) {
    (serde_json::Value::Null, Vec::new())
}
