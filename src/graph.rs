//! `rwfc graph`: a workflow's DAG as Graphviz DOT or a Mermaid flowchart (language reference
//! §9), one box per task call labelled `<node> (<task>)` with its worker counts (and their
//! `(min–max)` bounds when they differ), deferred counts shown as their expression.

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
            // Unset bounds are `replicas` itself (§4.3): a range shows only when one differs.
            let bound = |key: &str| e.value.get(key).map_or_else(|| count.clone(), size);
            let (min, max) = (bound("min_replicas"), bound("max_replicas"));
            let range = if min == count && max == count {
                String::new()
            } else {
                format!(" ({min}–{max})")
            };
            format!("{}: {count}{range}", e.label.as_deref().unwrap_or_default())
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
        draw_source(
            "task t() {\n  image = \"i\"\n  entrypoint = \"e\"\n  ray { worker \"a\\nb\\\"c\\u{1b}<d>#e\" { replicas = 2 } }\n}\nworkflow w() {\n  let n = t()\n}\n",
            format,
        )
    }

    fn draw_source(source: &str, format: Format) -> String {
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

    #[test]
    fn worker_ranges_show_when_bounds_differ_from_replicas() {
        let source = "task t(n: int) {
  image = \"i\"
  entrypoint = \"e\"
  ray {
    enable_autoscaling = true
    worker \"fixed\" { replicas = 3 }
    worker \"elastic\" { replicas = 2, min_replicas = 1, max_replicas = 5 }
    worker \"sized\" { replicas = clamp(n, 1, 4), max_replicas = 4 }
  }
}
workflow w(n: int) {
  let x = t(n = n)
}
";
        let mermaid = draw_source(source, Format::Mermaid);
        assert!(
            mermaid.contains("fixed: 3<br/>elastic: 2 (1–5)<br/>sized: clamp(n, 1, 4) (clamp(n, 1, 4)–4)"),
            "{mermaid}"
        );
    }
}
