//! Completion, and the configuration field under the cursor (for hover): which schema's block
//! the cursor is in follows from the enclosing item and the keys of the blocks around it.

use super::LineIndex;
use crate::ast::{self, ItemKind, Stmt};
use crate::types::{FieldSpec, Schema, Ty};
use lsp_types::{CompletionItem, CompletionItemKind, CompletionResponse, Position};

/// Where the cursor is among configuration blocks.
pub struct InSchema<'a> {
    pub schema: Schema,
    /// The field whose key the cursor is on, if any.
    pub field: Option<&'a ast::Field>,
}

fn contains(span: crate::source::Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

/// The configuration block the cursor is in (a task's or cluster's body, a workflow's settings,
/// a `with` override, and the blocks of their fields), and the field it is on.
pub fn in_schema(file: &ast::File, offset: usize) -> Option<InSchema<'_>> {
    let item = file.items.iter().find(|item| contains(item.span, offset))?;
    match &item.kind {
        ItemKind::Task(t) if contains(t.body.span, offset) => walk(Schema::Task, &t.body.fields, offset),
        ItemKind::Cluster(c) if contains(c.body.span, offset) => walk(Schema::Cluster, &c.body.fields, offset),
        ItemKind::Workflow(w) => {
            let overrides = w.body.iter().find_map(|s| match s {
                Stmt::Let(l) => l.with.as_ref().filter(|b| contains(b.span, offset)),
                _ => None,
            });
            if let Some(block) = overrides {
                return walk(Schema::Task, &block.fields, offset);
            }
            let settings: Vec<&ast::Field> = w
                .body
                .iter()
                .filter_map(|s| match s {
                    Stmt::Setting(f) => Some(f),
                    _ => None,
                })
                .collect();
            let on = settings.iter().find(|f| contains(f.span, offset));
            match on {
                Some(field) => descend(Schema::WorkflowSettings, field, offset),
                None if contains(w.body_span, offset) && !in_statement(w, offset) => Some(InSchema {
                    schema: Schema::WorkflowSettings,
                    field: None,
                }),
                None => None,
            }
        }
        _ => None,
    }
}

fn in_statement(w: &ast::Workflow, offset: usize) -> bool {
    w.body.iter().any(|s| match s {
        Stmt::Let(l) => contains(l.span, offset),
        Stmt::Return(e) => contains(e.span, offset),
        Stmt::Setting(_) => false,
    })
}

fn walk<'a>(schema: Schema, fields: &'a [ast::Field], offset: usize) -> Option<InSchema<'a>> {
    match fields.iter().find(|f| contains(f.span, offset)) {
        Some(field) => descend(schema, field, offset),
        None => Some(InSchema { schema, field: None }),
    }
}

/// Into the block of `field` when the cursor is inside it, else `field` itself.
fn descend<'a>(schema: Schema, field: &'a ast::Field, offset: usize) -> Option<InSchema<'a>> {
    if let ast::ExprKind::Record(block) = &field.value.kind {
        if contains(block.span, offset) && offset > block.span.start as usize {
            let Ty::Config(inner) = (schema.field(&field.key.name)?.ty)() else {
                return None;
            };
            return walk(inner, &block.fields, offset);
        }
    }
    contains(field.key.span, offset).then_some(InSchema {
        schema,
        field: Some(field),
    })
}

/// `name: type` of a configuration field.
pub fn describe(spec: &FieldSpec) -> String {
    format!("{}: {}", spec.name, (spec.ty)())
}

/// The fields of the block at the cursor, or else the names in scope there: the file's items
/// and the parameters and `let`s of the item the cursor is in.
pub fn completion(text: &str, position: Position) -> Option<CompletionResponse> {
    let offset = LineIndex::new(text).offset(position);
    let file = parse_around(text, position)?;
    if let Some(groups) = worker_groups(text, &file, offset) {
        let items = groups
            .into_iter()
            .map(|label| CompletionItem {
                label,
                kind: Some(CompletionItemKind::ENUM_MEMBER),
                detail: Some("worker group".to_owned()),
                ..Default::default()
            })
            .collect();
        return Some(CompletionResponse::Array(items));
    }
    // In a block, or on a key being typed: the block's fields.
    if let Some(found) = in_schema(&file, offset) {
        let items = found
            .schema
            .fields()
            .iter()
            .map(|spec| CompletionItem {
                label: spec.name.to_owned(),
                kind: Some(CompletionItemKind::FIELD),
                detail: Some((spec.ty)().to_string()),
                ..Default::default()
            })
            .collect();
        return Some(CompletionResponse::Array(items));
    }
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut add = |name: &ast::Ident, kind| {
        items.push(CompletionItem {
            label: name.name.clone(),
            kind: Some(kind),
            ..Default::default()
        })
    };
    for item in &file.items {
        if let Some(name) = item.name() {
            let kind = match item.kind {
                ItemKind::Task(_) | ItemKind::Workflow(_) => CompletionItemKind::FUNCTION,
                ItemKind::Import(_) => CompletionItemKind::MODULE,
                _ => CompletionItemKind::CONSTANT,
            };
            add(name, kind);
        }
        if !contains(item.span, offset) {
            continue;
        }
        let (params, body): (&[ast::Param], &[Stmt]) = match &item.kind {
            ItemKind::Task(t) => (&t.params, &[]),
            ItemKind::Workflow(w) => (&w.params, &w.body),
            _ => (&[], &[]),
        };
        params.iter().for_each(|p| add(&p.name, CompletionItemKind::VARIABLE));
        for stmt in body {
            if let Stmt::Let(l) = stmt {
                add(&l.name, CompletionItemKind::VARIABLE);
            }
        }
    }
    Some(CompletionResponse::Array(items))
}

/// In `worker "|"` of a call's override, the worker groups of the task it calls: those of its
/// `ray` block and of the clusters that block names or refines, in the file.
fn worker_groups(text: &str, file: &ast::File, offset: usize) -> Option<Vec<String>> {
    let line = text.get(..offset)?.rsplit('\n').next()?;
    // The cursor is in a label whose opening quote follows `worker`.
    let opened = line.rfind('"')?;
    if !line.get(..opened)?.trim_end().ends_with("worker") {
        return None;
    }
    let call = file.items.iter().find_map(|item| match &item.kind {
        ItemKind::Workflow(w) => w.body.iter().find_map(|s| match s {
            Stmt::Let(l) if l.with.as_ref().is_some_and(|b| contains(b.span, offset)) => Some(&l.value),
            _ => None,
        }),
        _ => None,
    })?;
    let ast::ExprKind::Call(callee, _) = &call.kind else {
        return None;
    };
    let ast::ExprKind::Name(task) = &callee.kind else {
        return None;
    };
    let body = file.items.iter().find_map(|item| match &item.kind {
        ItemKind::Task(t) if t.name.name == task.name => Some(&t.body),
        _ => None,
    })?;
    let mut groups = Vec::new();
    if let Some(ray) = body.fields.iter().find(|f| f.key.name == "ray") {
        cluster_groups(file, &ray.value, 0, &mut groups);
    }
    groups.sort();
    groups.dedup();
    Some(groups)
}

/// The worker group labels of a cluster value: a block, a cluster's name, or a refinement.
fn cluster_groups(file: &ast::File, value: &ast::Expr, depth: usize, groups: &mut Vec<String>) {
    // Clusters refining one another in a cycle are an error elsewhere; stop here.
    if depth > 16 {
        return;
    }
    match &value.kind {
        ast::ExprKind::Record(block) => block_groups(block, groups),
        ast::ExprKind::Refine(base, block) => {
            cluster_groups(file, base, depth + 1, groups);
            block_groups(block, groups);
        }
        ast::ExprKind::Name(name) => {
            let cluster = file.items.iter().find_map(|item| match &item.kind {
                ItemKind::Cluster(c) if c.name.name == name.name => Some(c),
                _ => None,
            });
            if let Some(cluster) = cluster {
                if let Some(base) = &cluster.base {
                    cluster_groups(file, base, depth + 1, groups);
                }
                block_groups(&cluster.body, groups);
            }
        }
        _ => {}
    }
}

fn block_groups(block: &ast::Block, groups: &mut Vec<String>) {
    let labels = block.fields.iter().filter(|f| f.key.name == "worker");
    groups.extend(labels.filter_map(|f| Some(f.label.as_ref()?.value.clone())));
}

/// The document parsed; while it is being typed it often does not parse, so then once more
/// with the cursor's line blanked (offsets unchanged).
fn parse_around(text: &str, position: Position) -> Option<ast::File> {
    let parse = |text: &str| crate::syntax::parse(crate::format::FILE, text, &mut Default::default());
    parse(text).or_else(|| {
        let blanked: String = text
            .split('\n')
            .enumerate()
            .map(|(i, line)| {
                if i == position.line as usize {
                    " ".repeat(line.len())
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        parse(&blanked)
    })
}
