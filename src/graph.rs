//! `rwfc graph`: a workflow's DAG as Graphviz DOT or a Mermaid flowchart (language reference
//! §9), one box per task call labelled `<node> (<task>)` with its worker counts, deferred
//! counts shown as their expression.

use crate::plan::{Node, WorkflowPlan};
use crate::value::{Value, ValueKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dot,
    Mermaid,
}

/// The worker groups of a node and their sizes, as text.
fn worker_counts(node: &Node) -> Vec<String> {
    let Some(ray) = node.config.get("ray") else {
        return Vec::new();
    };
    let ValueKind::Record(entries) = &ray.kind else {
        return Vec::new();
    };
    entries
        .iter()
        .filter(|e| e.key == "worker")
        .map(|e| {
            let count = e
                .value
                .get("replicas")
                .or_else(|| e.value.get("min_replicas"))
                .map_or_else(|| "1".to_owned(), size);
            format!("{}: {count}", e.label.as_deref().unwrap_or_default())
        })
        .collect()
}

fn size(value: &Value) -> String {
    match &value.kind {
        ValueKind::Int(n) => n.to_string(),
        ValueKind::Deferred(sym) => sym.display(),
        _ => "?".to_owned(),
    }
}

/// Draws every workflow of `plan`, each as its own graph (DOT) or subgraph (Mermaid).
pub fn render(workflows: &[WorkflowPlan], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Dot => {
            for workflow in workflows {
                out.push_str(&format!("digraph {} {{\n", dot_quote(&workflow.name)));
                out.push_str("  rankdir=LR;\n  node [shape=box];\n");
                for node in &workflow.nodes {
                    let mut lines = vec![format!("{} ({})", node.name, node.task)];
                    lines.extend(worker_counts(node));
                    let label = lines.iter().map(|l| dot_escape(l)).collect::<Vec<_>>().join("\\n");
                    out.push_str(&format!("  {} [label=\"{label}\"];\n", dot_quote(&node.name)));
                }
                for node in &workflow.nodes {
                    for dependency in node.dependencies.iter().filter_map(|d| workflow.nodes.get(*d)) {
                        out.push_str(&format!(
                            "  {} -> {};\n",
                            dot_quote(&dependency.name),
                            dot_quote(&node.name)
                        ));
                    }
                }
                out.push_str("}\n");
            }
        }
        Format::Mermaid => {
            out.push_str("flowchart LR\n");
            for workflow in workflows {
                let indent = if workflows.len() > 1 {
                    out.push_str(&format!("  subgraph {}\n", workflow.name));
                    "    "
                } else {
                    "  "
                };
                let id = |name: &str| format!("{}__{}", workflow.name, name).replace('-', "_");
                for node in &workflow.nodes {
                    let mut lines = vec![format!("{} ({})", node.name, node.task)];
                    lines.extend(worker_counts(node));
                    let label = lines
                        .iter()
                        .map(|l| mermaid_escape(l))
                        .collect::<Vec<_>>()
                        .join("<br/>");
                    out.push_str(&format!("{indent}{}[\"{label}\"]\n", id(&node.name)));
                }
                for node in &workflow.nodes {
                    for dependency in node.dependencies.iter().filter_map(|d| workflow.nodes.get(*d)) {
                        out.push_str(&format!("{indent}{} --> {}\n", id(&dependency.name), id(&node.name)));
                    }
                }
                if workflows.len() > 1 {
                    out.push_str("  end\n");
                }
            }
        }
    }
    out
}

/// `text` with control characters written as Rust escapes (`\n`, `\u{1b}`): a group name may
/// hold them, and raw they would break a DOT string or a Mermaid line.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn dot_escape(text: &str) -> String {
    visible(text).replace('\\', "\\\\").replace('"', "\\\"")
}

fn dot_quote(name: &str) -> String {
    format!("\"{}\"", dot_escape(name))
}

fn mermaid_escape(text: &str) -> String {
    visible(text)
        .replace('#', "#35;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn draw(format: Format) -> String {
        let source = "task t() {\n  image = \"i\"\n  entrypoint = \"e\"\n  ray { worker \"a\\nb\\\"c\\u{1b}<d>#e\" { replicas = 2 } }\n}\nworkflow w() {\n  let n = t()\n}\n";
        let graphed = crate::graph(
            &crate::load::NoFiles,
            Path::new("/graph"),
            "g.rwf",
            source.as_bytes(),
            &crate::BuildOptions::default(),
            format,
        );
        graphed.text.unwrap_or_default()
    }

    #[test]
    fn control_characters_and_quotes_of_group_names_are_escaped() {
        let dot = draw(Format::Dot);
        assert!(dot.contains(r#"label="n (t)\na\\nb\"c\\u{1b}<d>#e: 2""#), "{dot}");
        let mermaid = draw(Format::Mermaid);
        assert!(
            mermaid.contains(r#"w__n["n (t)<br/>a\nb#quot;c\u{1b}#lt;d#gt;#35;e: 2"]"#),
            "{mermaid}"
        );
        for text in [dot, mermaid] {
            assert!(text.lines().all(|line| !line.chars().any(char::is_control)), "{text}");
        }
    }
}
