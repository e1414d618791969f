//! The AST of a parsed file, with its comments, as a [`Doc`].

use super::comments::Comment;
use super::doc::{concat, group, nest, render, text, Doc};
use crate::ast::*;
use crate::source::Span;
use std::rc::Rc;

/// `file` laid out, ending with one newline (nothing for an empty file).
pub fn file(source: &str, comments: Vec<Comment>, file: &File) -> String {
    let mut printer = Printer {
        source,
        comments,
        next: 0,
    };
    let body = printer.sequence(
        &file.items,
        |item| item.span,
        source.len(),
        Style::Lines,
        |p, item| p.item(item),
    );
    let out = render(&concat(body), super::WIDTH);
    let out = out.trim_start_matches('\n');
    if out.is_empty() {
        String::new()
    } else {
        format!("{out}\n")
    }
}

/// How the elements of a bracketed sequence are separated.
#[derive(Clone, Copy, PartialEq)]
enum Style {
    /// `{ a = 1, b = 2 }` when it fits; one per line without commas when not.
    Fields,
    /// `[a, b]` when it fits; one per line, each with a comma, when not.
    Commas,
    /// One per line, always (item bodies, workflow statements, the file).
    Lines,
}

struct Printer<'a> {
    source: &'a str,
    comments: Vec<Comment>,
    /// The first comment not yet printed.
    next: usize,
}

/// Operator precedence, loosest 0 (as the parser groups them).
fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 0,
        BinaryOp::And => 1,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne => 2,
        BinaryOp::Add | BinaryOp::Sub => 3,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 4,
    }
}

impl Printer<'_> {
    fn slice(&self, span: Span) -> &str {
        self.source
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default()
    }

    /// Whether the whitespace just before `at` holds an empty line.
    fn blank_before(&self, at: usize) -> bool {
        let before = self.source.get(..at).unwrap_or_default();
        let gap = before.trim_end_matches([' ', '\t', '\r', '\n']);
        before[gap.len()..].matches('\n').count() >= 2
    }

    fn comment_doc(comment: &Comment) -> Doc {
        if comment.is_line {
            concat(vec![text(comment.text.as_str()), Doc::BreakParent])
        } else {
            text(comment.text.as_str())
        }
    }

    /// A comment at the end of a line: it does not count towards the width, so a short block
    /// with a long comment after it stays on one line.
    fn trailing_doc(comment: &Comment) -> Doc {
        let suffix = Doc::Suffix(format!(" {}", comment.text).into());
        if comment.is_line {
            concat(vec![suffix, Doc::BreakParent])
        } else {
            suffix
        }
    }

    /// The comments before `at`, each on its own line (a block comment with code after it on
    /// its line stays on that line), with the empty lines between them kept.
    fn leading(&mut self, at: usize, blank_allowed: &mut bool) -> Vec<Doc> {
        let mut docs = Vec::new();
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.start < at) {
            if *blank_allowed && self.blank_before(comment.start) {
                docs.push(Doc::HardLine);
            }
            *blank_allowed = true;
            docs.push(Self::comment_doc(comment));
            docs.push(if comment.code_after { text(" ") } else { Doc::HardLine });
            self.next += 1;
        }
        docs
    }

    /// Where the text of `span` ends: pest's spans of repeated rules take in the whitespace and
    /// comments after them.
    fn content_end(&self, span: Span) -> usize {
        self.back_over_gap(span.start as usize, span.end as usize)
    }

    /// `at` moved back over whitespace and comments, not before `floor`.
    fn back_over_gap(&self, floor: usize, mut at: usize) -> usize {
        loop {
            let before = self.source.get(floor..at).unwrap_or_default();
            at = floor + before.trim_end().len();
            let found = self.comments.partition_point(|c| c.end < at);
            match self.comments.get(found).filter(|c| c.end == at && c.start >= floor) {
                Some(comment) => at = comment.start,
                None => return at,
            }
        }
    }

    /// Comments left inside an element (`until`) and those at the end of its line, after it;
    /// after a `//` comment, the next goes on a line of its own.
    fn trailing(&mut self, until: usize) -> Vec<Doc> {
        let mut docs = Vec::new();
        let mut after_line_comment = false;
        let mut push = |docs: &mut Vec<Doc>, comment: &Comment| {
            if after_line_comment {
                docs.extend([Doc::HardLine, Self::comment_doc(comment)]);
            } else {
                docs.push(Self::trailing_doc(comment));
            }
            after_line_comment = comment.is_line;
        };
        while let Some(comment) = self.comments.get(self.next).filter(|c| c.start < until) {
            push(&mut docs, comment);
            self.next += 1;
        }
        // Comments on the same line after the element, a comma or another block comment.
        let mut from = until;
        loop {
            let rest = self.source.get(from..).unwrap_or_default();
            let gap = rest.len() - rest.trim_start_matches([' ', '\t', ',']).len();
            let Some(comment) = self.comments.get(self.next).filter(|c| c.start == from + gap) else {
                break;
            };
            push(&mut docs, comment);
            self.next += 1;
            if comment.is_line {
                break;
            }
            from = comment.end;
        }
        docs
    }

    /// `elements` up to the closing bracket at `close`, each with its comments, separated in
    /// `style`, each after a line break (not yet nested).
    fn sequence<T>(
        &mut self,
        elements: &[T],
        span: impl Fn(&T) -> Span,
        close: usize,
        style: Style,
        mut print: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Vec<Doc> {
        let (line, separator) = match style {
            Style::Fields => (Doc::Line, Doc::Choice(",", "")),
            Style::Commas => (Doc::SoftLine, Doc::Choice(",", ",")),
            Style::Lines => (Doc::HardLine, Doc::Choice("", "")),
        };
        let mut inner = Vec::new();
        let mut blank_allowed = false;
        for (i, element) in elements.iter().enumerate() {
            let span = span(element);
            if i > 0 && style != Style::Commas {
                inner.push(separator.clone());
            }
            inner.push(if i > 0 && style != Style::Lines {
                Doc::Line
            } else {
                line.clone()
            });
            inner.extend(self.leading(span.start as usize, &mut blank_allowed));
            if blank_allowed && self.blank_before(span.start as usize) {
                inner.push(Doc::HardLine);
            }
            blank_allowed = true;
            inner.push(print(self, element));
            if style == Style::Commas {
                inner.push(if i + 1 < elements.len() {
                    separator.clone()
                } else {
                    Doc::Choice("", ",")
                });
            }
            let end = self.content_end(span);
            inner.extend(self.trailing(end));
        }
        let mut end = self.leading(close, &mut blank_allowed);
        if !end.is_empty() {
            // Comments before the closing bracket: on lines of their own inside it.
            end.pop();
            inner.push(line.clone());
            inner.extend(end);
        }
        inner
    }

    fn bracketed<T>(
        &mut self,
        (open, close): (&'static str, &'static str),
        elements: &[T],
        span: impl Fn(&T) -> Span,
        close_at: usize,
        style: Style,
        print: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        let inner = self.sequence(elements, span, close_at, style, print);
        if inner.is_empty() {
            return text(format!("{open}{close}"));
        }
        let close_line = match style {
            Style::Fields => Doc::Line,
            Style::Commas => Doc::SoftLine,
            Style::Lines => Doc::HardLine,
        };
        group(concat(vec![text(open), nest(concat(inner)), close_line, text(close)]))
    }

    /// `{ fields }` ending at the `}` that ends `span`.
    fn block(&mut self, block: &Block, style: Style) -> Doc {
        let close = (block.span.end as usize).saturating_sub(1);
        self.bracketed(("{", "}"), &block.fields, |f| f.span, close, style, |p, f| p.field(f))
    }

    fn item(&mut self, item: &Item) -> Doc {
        match &item.kind {
            ItemKind::Import(import) => {
                let mut docs = vec![text("import "), text(self.slice(import.path.span))];
                if let Some(alias) = &import.alias {
                    docs.push(text(format!(" as {}", alias.name)));
                }
                concat(docs)
            }
            ItemKind::Const(c) => {
                let mut docs = vec![text(format!("const {}", c.name.name))];
                if let Some(ty) = &c.ty {
                    docs.extend([text(": "), self.ty(ty)]);
                }
                docs.extend([text(" = "), self.expr(&c.value, false)]);
                concat(docs)
            }
            ItemKind::Cluster(c) => {
                let mut docs = vec![text(format!("cluster {}", c.name.name))];
                if let Some(base) = &c.base {
                    docs.extend([text(" = "), self.expr(base, false)]);
                }
                docs.extend([text(" "), self.block(&c.body, Style::Lines)]);
                concat(docs)
            }
            ItemKind::Task(t) => {
                let head = self.signature("task", &t.name, &t.params, t.output.as_ref(), t.body.span);
                concat(vec![head, text(" "), self.block(&t.body, Style::Lines)])
            }
            ItemKind::Workflow(w) => {
                let head = self.signature("workflow", &w.name, &w.params, w.output.as_ref(), w.body_span);
                let close = (w.body_span.end as usize).saturating_sub(1);
                let stmts: Vec<(Span, &Stmt)> = w.body.iter().map(|s| (self.stmt_span(s), s)).collect();
                let body = self.bracketed(("{", "}"), &stmts, |s| s.0, close, Style::Lines, |p, s| p.stmt(s.1));
                concat(vec![head, text(" "), body])
            }
        }
    }

    fn signature(
        &mut self,
        keyword: &str,
        name: &Ident,
        params: &[Param],
        output: Option<&OutputDecl>,
        body: Span,
    ) -> Doc {
        let params_end = output.map_or(body.start, |o| match o {
            OutputDecl::Single(ty) => ty.span().start,
            OutputDecl::Record(_, span) => span.start,
        });
        let close = self
            .source
            .get(..params_end as usize)
            .and_then(|s| s.rfind(')'))
            .unwrap_or_default();
        let params = self.bracketed(
            ("(", ")"),
            params,
            |p| p.span,
            close,
            Style::Commas,
            |p, param| p.param(param),
        );
        let mut docs = vec![text(format!("{keyword} {}", name.name)), params];
        match output {
            Some(OutputDecl::Single(ty)) => docs.extend([text(" -> "), self.ty(ty)]),
            // Flat: when the line is too long, the parameters break instead.
            Some(OutputDecl::Record(fields, span)) => {
                let record = self.record_type(fields, *span);
                docs.extend([text(" -> "), Doc::Flat(Rc::new(record))]);
            }
            None => {}
        }
        group(concat(docs))
    }

    /// A statement's span; a `return`'s starts at the keyword.
    fn stmt_span(&self, stmt: &Stmt) -> Span {
        match stmt {
            Stmt::Setting(field) => field.span,
            Stmt::Let(l) => l.span,
            Stmt::Return(e) => {
                let keyword_end = self.back_over_gap(0, e.span.start as usize);
                let start = keyword_end.saturating_sub("return".len());
                Span::new(e.span.file, start, e.span.end as usize)
            }
        }
    }

    fn param(&mut self, param: &Param) -> Doc {
        let mut docs = vec![text(format!("{}: ", param.name.name)), self.ty(&param.ty)];
        if let Some(default) = &param.default {
            docs.extend([text(" = "), self.expr(default, false)]);
        }
        concat(docs)
    }

    fn ty(&mut self, ty: &TypeExpr) -> Doc {
        match ty {
            TypeExpr::Named(name) => text(name.name.as_str()),
            TypeExpr::Generic(name, args, span) => {
                let close = (span.end as usize).saturating_sub(1);
                let args = self.bracketed(("[", "]"), args, TypeExpr::span, close, Style::Commas, |p, t| p.ty(t));
                concat(vec![text(name.name.as_str()), args])
            }
            TypeExpr::Record(fields, span) => self.record_type(fields, *span),
        }
    }

    fn record_type(&mut self, fields: &[RecordFieldType], span: Span) -> Doc {
        let close = (span.end as usize).saturating_sub(1);
        let span_of = |f: &RecordFieldType| f.name.span.to(f.ty.span());
        self.bracketed(("(", ")"), fields, span_of, close, Style::Commas, |p, f| {
            concat(vec![text(format!("{}: ", f.name.name)), p.ty(&f.ty)])
        })
    }
}

mod expr;
