//! Statements, fields and expressions. Parentheses are not in the AST: they are written where
//! the parser would otherwise group differently.

use super::{precedence, Printer, Style};
use crate::ast::*;
use crate::format::doc::{concat, group, nest, text, Doc};

impl Printer<'_> {
    pub(super) fn stmt(&mut self, stmt: &Stmt) -> Doc {
        match stmt {
            Stmt::Setting(field) => self.field(field),
            Stmt::Return(e) => concat(vec![text("return "), self.expr(e, false)]),
            Stmt::Let(l) => self.let_stmt(l),
        }
    }

    fn let_stmt(&mut self, l: &Let) -> Doc {
        let mut docs = vec![text(format!("let {} = ", l.name.name))];
        let mut call = vec![self.expr(&l.value, false)];
        if let Some(with) = &l.with {
            call.extend([text(" with "), self.block(with, Style::Fields)]);
        }
        match &l.fan_out {
            Some(fan_out) => {
                docs.push(text(format!("for {} in ", fan_out.var.name)));
                docs.push(self.expr(&fan_out.list, true));
                docs.push(group(concat(vec![
                    text(" {"),
                    nest(concat(vec![Doc::Line, concat(call)])),
                    Doc::Line,
                    text("}"),
                ])));
            }
            None => docs.extend(call),
        }
        if !l.after.is_empty() {
            let names: Vec<&str> = l.after.iter().map(|a| a.name.as_str()).collect();
            docs.push(text(format!(" after {}", names.join(", "))));
        }
        concat(docs)
    }

    pub(super) fn field(&mut self, field: &Field) -> Doc {
        let mut docs = vec![text(self.slice(field.key.span))];
        if let Some(label) = &field.label {
            docs.extend([text(" "), text(self.slice(label.span))]);
        }
        match &field.value.kind {
            ExprKind::Record(block) if field.is_block => docs.extend([text(" "), self.block(block, Style::Fields)]),
            _ => docs.extend([text(" = "), self.expr(&field.value, false)]),
        }
        concat(docs)
    }

    /// An expression; `cond` in an `if` condition or a fan-out list, where a trailing `{` would
    /// open the branch, so a refinement needs parentheses.
    pub(super) fn expr(&mut self, e: &Expr, cond: bool) -> Doc {
        match &e.kind {
            ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Quantity(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Error => text(self.slice(e.span)),
            ExprKind::Bool(b) => text(if *b { "true" } else { "false" }),
            ExprKind::None => text("none"),
            ExprKind::Name(name) => text(name.name.as_str()),
            ExprKind::Field(base, name) => concat(vec![self.postfix_base(base), text(format!(".{}", name.name))]),
            ExprKind::List(items) => {
                let close = (e.span.end as usize).saturating_sub(1);
                self.bracketed(
                    ("[", "]"),
                    items,
                    |i| i.span,
                    close,
                    Style::Commas,
                    |p, i| p.expr(i, false),
                )
            }
            ExprKind::Record(block) => self.block(block, Style::Fields),
            ExprKind::Unary(op, operand) => {
                let symbol = if *op == UnaryOp::Neg { "-" } else { "!" };
                let inner = self.expr(operand, cond);
                match operand.kind {
                    ExprKind::Binary(..) => concat(vec![text(format!("{symbol}(")), inner, text(")")]),
                    _ => concat(vec![text(symbol), inner]),
                }
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let level = precedence(*op);
                let lhs = self.operand(lhs, cond, |l| l < level);
                let rhs = self.operand(rhs, cond, |l| l <= level);
                concat(vec![lhs, text(format!(" {} ", op.symbol())), rhs])
            }
            ExprKind::If(..) => self.if_expr(e),
            ExprKind::Call(callee, args) => {
                let callee = self.postfix_base(callee);
                let close = (e.span.end as usize).saturating_sub(1);
                let args = self.bracketed(("(", ")"), args, |a| a.span, close, Style::Commas, |p, a| p.arg(a));
                concat(vec![callee, args])
            }
            ExprKind::Refine(base, block) => {
                let refined = concat(vec![
                    self.postfix_base(base),
                    text(" "),
                    self.block(block, Style::Fields),
                ]);
                if cond {
                    concat(vec![text("("), refined, text(")")])
                } else {
                    refined
                }
            }
        }
    }

    /// An operand of a binary operator, in parentheses when `needs` says its operator is looser.
    fn operand(&mut self, e: &Expr, cond: bool, needs: impl Fn(u8) -> bool) -> Doc {
        match &e.kind {
            ExprKind::Binary(op, ..) if needs(precedence(*op)) => {
                concat(vec![text("("), self.expr(e, false), text(")")])
            }
            ExprKind::If(..) => concat(vec![text("("), self.expr(e, false), text(")")]),
            _ => self.expr(e, cond),
        }
    }

    /// What a call, field access or refinement applies to.
    fn postfix_base(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Binary(..) | ExprKind::Unary(..) | ExprKind::Refine(..) | ExprKind::If(..) => {
                concat(vec![text("("), self.expr(e, false), text(")")])
            }
            // A negative literal is one token to the parser, but `-1.x` would negate `1.x`.
            ExprKind::Int(n) if *n < 0 => concat(vec![text("("), self.expr(e, false), text(")")]),
            _ => self.expr(e, false),
        }
    }

    fn arg(&mut self, arg: &Arg) -> Doc {
        match &arg.name {
            Some(name) => concat(vec![text(format!("{} = ", name.name)), self.expr(&arg.value, false)]),
            None => self.expr(&arg.value, false),
        }
    }

    /// `if C { A } else if D { B } else { E }` on one line when it fits, else a branch per block.
    fn if_expr(&mut self, e: &Expr) -> Doc {
        let mut docs = Vec::new();
        let mut current = e;
        while let ExprKind::If(cond, then, otherwise) = &current.kind {
            docs.extend([text("if "), self.expr(cond, true), text(" {")]);
            docs.extend([
                nest(concat(vec![Doc::Line, self.expr(then, false)])),
                Doc::Line,
                text("} else "),
            ]);
            current = otherwise;
        }
        docs.extend([
            text("{"),
            nest(concat(vec![Doc::Line, self.expr(current, false)])),
            Doc::Line,
            text("}"),
        ]);
        group(concat(docs))
    }
}
