//! The byte ranges of every string literal of a parsed file, so the comment scan can step over
//! them: whether `${` opens an interpolation depends on where the string is (keys, labels and
//! import paths have none), which the parser already decided.

use crate::ast::*;
use crate::source::Span;
use std::collections::HashMap;

/// Each string literal's start (its `"`, or the `r` of a raw string) and end.
pub fn literals(file: &File) -> HashMap<usize, usize> {
    let mut found = Strings(HashMap::new());
    for item in &file.items {
        found.item(item);
    }
    found.0
}

struct Strings(HashMap<usize, usize>);

impl Strings {
    fn add(&mut self, span: Span) {
        self.0.insert(span.start as usize, span.end as usize);
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Import(import) => self.add(import.path.span),
            ItemKind::Const(c) => self.expr(&c.value),
            ItemKind::Cluster(c) => {
                c.base.iter().for_each(|b| self.expr(b));
                self.block(&c.body);
            }
            ItemKind::Task(t) => {
                self.params(&t.params);
                self.block(&t.body);
            }
            ItemKind::Workflow(w) => {
                self.params(&w.params);
                for stmt in &w.body {
                    match stmt {
                        Stmt::Setting(field) => self.field(field),
                        Stmt::Return(e) => self.expr(e),
                        Stmt::Let(l) => {
                            self.expr(&l.value);
                            l.with.iter().for_each(|b| self.block(b));
                            l.fan_out.iter().for_each(|f| self.expr(&f.list));
                        }
                    }
                }
            }
        }
    }

    fn params(&mut self, params: &[Param]) {
        params
            .iter()
            .filter_map(|p| p.default.as_ref())
            .for_each(|d| self.expr(d));
    }

    fn block(&mut self, block: &Block) {
        block.fields.iter().for_each(|f| self.field(f));
    }

    fn field(&mut self, field: &Field) {
        if field.key.quoted {
            self.add(field.key.span);
        }
        if let Some(label) = &field.label {
            self.add(label.span);
        }
        self.expr(&field.value);
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Str(_) => self.add(e.span),
            ExprKind::Field(base, _) | ExprKind::Unary(_, base) => self.expr(base),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Record(block) => self.block(block),
            ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::If(c, t, o) => [c, t, o].into_iter().for_each(|x| self.expr(x)),
            ExprKind::Call(callee, args) => {
                self.expr(callee);
                args.iter().for_each(|a| self.expr(&a.value));
            }
            ExprKind::Refine(base, block) => {
                self.expr(base);
                self.block(block);
            }
            _ => {}
        }
    }
}
