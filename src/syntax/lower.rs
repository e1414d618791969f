//! pest pairs to AST nodes. Problems the grammar deliberately lets through (number suffixes,
//! a lone `$`, limits) are reported here with their own codes.

use super::{Rule, MAX_EXPR_HEIGHT, MAX_STRING_BYTES};
use crate::ast::*;
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::quantity::{classify_number, NumberError, NumberLit, DURATION_SUFFIXES, QUANTITY_SUFFIXES};
use crate::source::{FileId, Span};
use pest::iterators::{Pair, Pairs};

pub struct Lowerer<'a> {
    file: FileId,
    /// The whole file; pairs come from a piece of it that starts at byte `offset`.
    text: &'a str,
    offset: usize,
    diagnostics: &'a mut Diagnostics,
}

/// A task's or workflow's name, parameters and output, and the pair of its body.
type Signature<'i> = (Ident, Vec<Param>, Option<OutputDecl>, Pair<'i, Rule>);

/// An expression with the height of its tree, so deep trees are refused before any recursive
/// pass (or `Drop`) walks them.
struct Lowered {
    expr: Expr,
    height: usize,
}

impl<'a> Lowerer<'a> {
    pub fn new(file: FileId, text: &'a str, offset: usize, diagnostics: &'a mut Diagnostics) -> Self {
        Lowerer {
            file,
            text,
            offset,
            diagnostics,
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.file, self.offset + s.start(), self.offset + s.end())
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            span: self.span(&pair),
            name: pair.as_str().to_owned(),
        }
    }

    /// The items of a parsed `file` rule.
    pub fn items(&mut self, root: Pair<'_, Rule>) -> Vec<Item> {
        root.into_inner()
            .filter(|p| p.as_rule() != Rule::EOI)
            .filter_map(|p| self.item(p))
            .collect()
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let doc = doc_comment(self.text, span.start as usize);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        inner.next(); // the keyword
        let kind = match rule {
            Rule::import_item => {
                let path = self.plain_string(inner.next()?);
                inner.next(); // `as`
                let alias = inner.next().map(|p| self.ident(p));
                ItemKind::Import(Import { path, alias })
            }
            Rule::const_item => {
                let name = self.ident(inner.next()?);
                let mut next = inner.next()?;
                let ty = if next.as_rule() == Rule::type_expr {
                    let ty = self.type_expr(next);
                    next = inner.next()?;
                    Some(ty)
                } else {
                    None
                };
                let value = self.expr(next);
                ItemKind::Const(Const { name, ty, value })
            }
            Rule::cluster_item => {
                let name = self.ident(inner.next()?);
                let mut next = inner.next()?;
                let base = if next.as_rule() == Rule::path_expr {
                    let base = self.path_expr(next);
                    next = inner.next()?;
                    Some(base)
                } else {
                    None
                };
                let body = self.block(next).0;
                ItemKind::Cluster(Cluster { name, base, body })
            }
            Rule::task_item => {
                let (name, params, output, next) = self.signature(&mut inner)?;
                let body = self.block(next).0;
                ItemKind::Task(Task {
                    name,
                    params,
                    output,
                    body,
                })
            }
            Rule::workflow_item => {
                let (name, params, output, next) = self.signature(&mut inner)?;
                let body_span = self.span(&next);
                let body = next.into_inner().filter_map(|p| self.statement(p)).collect();
                ItemKind::Workflow(Workflow {
                    name,
                    params,
                    output,
                    body,
                    body_span,
                })
            }
            _ => return None,
        };
        Some(Item { doc, kind, span })
    }

    /// `NAME(PARAMS) [-> OUTPUT]` of a task or workflow, and the pair of its body.
    fn signature<'i>(&mut self, inner: &mut Pairs<'i, Rule>) -> Option<Signature<'i>> {
        let name = self.ident(inner.next()?);
        let params = self.params(inner.next()?);
        let next = inner.next()?;
        if next.as_rule() == Rule::output_decl {
            let output = self.output_decl(next);
            Some((name, params, output, inner.next()?))
        } else {
            Some((name, params, None, next))
        }
    }

    fn params(&mut self, pair: Pair<'_, Rule>) -> Vec<Param> {
        pair.into_inner()
            .filter_map(|p| {
                let span = self.span(&p);
                let mut inner = p.into_inner();
                let name = self.ident(inner.next()?);
                let ty = self.type_expr(inner.next()?);
                let default = inner.next().map(|d| self.expr(d));
                Some(Param {
                    name,
                    ty,
                    default,
                    span,
                })
            })
            .collect()
    }

    fn output_decl(&mut self, pair: Pair<'_, Rule>) -> Option<OutputDecl> {
        let inner = pair.into_inner().next()?;
        Some(match inner.as_rule() {
            Rule::record_type => {
                let span = self.span(&inner);
                OutputDecl::Record(self.record_fields(inner), span)
            }
            _ => OutputDecl::Single(self.type_expr(inner)),
        })
    }

    fn record_fields(&mut self, pair: Pair<'_, Rule>) -> Vec<RecordFieldType> {
        pair.into_inner()
            .filter_map(|f| {
                let mut inner = f.into_inner();
                let name = self.ident(inner.next()?);
                let ty = self.type_expr(inner.next()?);
                Some(RecordFieldType { name, ty })
            })
            .collect()
    }

    fn type_expr(&mut self, pair: Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(&pair);
        let Some(inner) = pair.into_inner().next() else {
            return TypeExpr::Record(Vec::new(), span);
        };
        match inner.as_rule() {
            Rule::generic_type => {
                let mut parts = inner.into_inner();
                let Some(head) = parts.next() else {
                    return TypeExpr::Record(Vec::new(), span);
                };
                let name = self.ident(head);
                let args = parts.map(|p| self.type_expr(p)).collect();
                TypeExpr::Generic(name, args, span)
            }
            Rule::record_type => TypeExpr::Record(self.record_fields(inner), span),
            _ => TypeExpr::Named(self.ident(inner)),
        }
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Option<Stmt> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::let_stmt => {
                let mut inner = pair.into_inner();
                inner.next(); // `let`
                let name = self.ident(inner.next()?);
                let mut with = None;
                let mut with_span = None;
                let mut after = Vec::new();
                let mut fan_out = None;
                let head = inner.next()?;
                let mut clauses: Vec<Pair<'_, Rule>> = inner.collect();
                let value = if head.as_rule() == Rule::fan_out {
                    let fan_span = self.span(&head);
                    let mut parts = head.into_inner();
                    parts.next(); // `for`
                    let var = self.ident(parts.next()?);
                    parts.next(); // `in`
                    let list = self.expr(parts.next()?);
                    let value = self.expr(parts.next()?);
                    clauses.extend(parts);
                    fan_out = Some(Box::new(FanOut {
                        var,
                        list,
                        span: fan_span,
                    }));
                    value
                } else {
                    self.expr(head)
                };
                for clause in clauses {
                    match clause.as_rule() {
                        Rule::with_clause => {
                            with_span = Some(self.span(&clause));
                            let block = clause.into_inner().find(|p| p.as_rule() == Rule::block)?;
                            with = Some(self.block(block).0);
                        }
                        Rule::after_clause => {
                            after = clause
                                .into_inner()
                                .filter(|p| p.as_rule() == Rule::ident)
                                .map(|p| self.ident(p))
                                .collect();
                        }
                        _ => {}
                    }
                }
                Some(Stmt::Let(Let {
                    name,
                    value,
                    with,
                    with_span,
                    after,
                    fan_out,
                    span,
                }))
            }
            Rule::return_stmt => {
                let value = pair.into_inner().nth(1)?;
                Some(Stmt::Return(self.expr(value)))
            }
            Rule::field => Some(Stmt::Setting(self.field(pair)?.0)),
            _ => None,
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> (Block, usize) {
        let span = self.span(&pair);
        let mut height = 0;
        let fields = pair
            .into_inner()
            .filter_map(|p| self.field(p))
            .map(|(f, h)| {
                height = height.max(h);
                f
            })
            .collect();
        (Block { fields, span }, height)
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Option<(Field, usize)> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let key_pair = inner.next()?;
        let key_span = self.span(&key_pair);
        let key_inner = key_pair.into_inner().next()?;
        let key = match key_inner.as_rule() {
            Rule::plain_string => Key {
                name: self.plain_string(key_inner).value,
                quoted: true,
                span: key_span,
            },
            _ => Key {
                name: key_inner.as_str().to_owned(),
                quoted: false,
                span: key_span,
            },
        };
        let mut next = inner.next()?;
        let label = if next.as_rule() == Rule::plain_string {
            let label = self.plain_string(next);
            next = inner.next()?;
            Some(label)
        } else {
            None
        };
        let (value, height, is_block) = if next.as_rule() == Rule::block {
            let block_span = self.span(&next);
            let (block, h) = self.block(next);
            (
                Expr {
                    kind: ExprKind::Record(block),
                    span: block_span,
                },
                h + 1,
                true,
            )
        } else {
            let lowered = self.lowered(next);
            (lowered.expr, lowered.height, false)
        };
        Some((
            Field {
                key,
                label: label.map(Box::new),
                value,
                is_block,
                span,
            },
            height,
        ))
    }

    fn plain_string(&mut self, pair: Pair<'_, Rule>) -> PlainString {
        let span = self.span(&pair);
        let mut value = String::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::escape => value.push_str(&unescape(part.as_str())),
                Rule::dollar_dollar => value.push('$'),
                _ => value.push_str(part.as_str()),
            }
        }
        self.check_string_length(value.len(), span);
        PlainString { value, span }
    }

    fn check_string_length(&mut self, len: usize, span: Span) {
        if len > MAX_STRING_BYTES {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0604,
                    Span::new(span.file, span.start as usize, span.start as usize + 1),
                    format!("string is {len} bytes long, more than the limit of {MAX_STRING_BYTES} bytes"),
                    "this string",
                )
                .help("keep large data in files the job reads, and pass their paths"),
            );
        }
    }

    /// An expression; a tree too tall for later passes becomes [`ExprKind::Error`] after E0601.
    pub fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        self.lowered(pair).expr
    }

    fn lowered(&mut self, pair: Pair<'_, Rule>) -> Lowered {
        let span = self.span(&pair);
        let lowered = self.lower_expr(pair);
        if lowered.height > MAX_EXPR_HEIGHT {
            self.too_deep(span);
            return error_lowered(span);
        }
        lowered
    }

    fn too_deep(&mut self, span: Span) {
        self.diagnostics.push(
            Diagnostic::new(
                Code::E0601,
                Span::new(span.file, span.start as usize, span.start as usize + 1),
                format!("expression is nested deeper than the limit of {MAX_EXPR_HEIGHT} levels"),
                "this expression",
            )
            .help("split it into `const` items or `let` bindings"),
        );
    }

    fn lower_expr(&mut self, pair: Pair<'_, Rule>) -> Lowered {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::expr | Rule::cond_expr => {
                let items: Vec<Pair<'_, Rule>> = pair.into_inner().collect();
                let mut next = 0;
                self.binary_chain(&items, 0, &mut next)
            }
            Rule::operand | Rule::cond_operand => self.operand(pair.into_inner(), span),
            Rule::paren => match pair.into_inner().next() {
                Some(inner) => self.lower_expr(inner),
                None => error_lowered(span),
            },
            Rule::list => {
                let mut height = 0;
                let items = pair
                    .into_inner()
                    .map(|p| {
                        let l = self.lower_expr(p);
                        height = height.max(l.height);
                        l.expr
                    })
                    .collect();
                lowered(ExprKind::List(items), span, height + 1)
            }
            Rule::record => match pair.into_inner().next() {
                Some(block) => {
                    let (block, height) = self.block(block);
                    lowered(ExprKind::Record(block), span, height + 1)
                }
                None => error_lowered(span),
            },
            Rule::if_expr => self.if_expr(pair, span),
            Rule::branch => match pair.into_inner().next() {
                Some(inner) => self.lower_expr(inner),
                None => error_lowered(span),
            },
            Rule::number => self.number(pair.as_str(), span),
            Rule::string => self.string(pair, span),
            Rule::raw_string => {
                let text = pair.into_inner().next().map_or("", |p| p.as_str()).to_owned();
                self.check_string_length(text.len(), span);
                lowered(ExprKind::Str(vec![StrPart::Text(text)]), span, 1)
            }
            Rule::kw_true => lowered(ExprKind::Bool(true), span, 1),
            Rule::kw_false => lowered(ExprKind::Bool(false), span, 1),
            Rule::kw_none => lowered(ExprKind::None, span, 1),
            Rule::name => lowered(ExprKind::Name(self.ident(pair)), span, 1),
            _ => error_lowered(span),
        }
    }

    /// The operators of precedence `level` and tighter, from `items[*next]` (operands and
    /// operators alternating): folds `a op b op c` left-associatively per level, bounding the
    /// height as it grows. A level that grows too tall is skipped to its end, unlowered.
    fn binary_chain(&mut self, items: &[Pair<'_, Rule>], level: u8, next: &mut usize) -> Lowered {
        if level == PRECEDENCE_LEVELS {
            let Some(operand) = items.get(*next) else {
                return error_lowered(Span::default());
            };
            *next += 1;
            return self.lower_expr(operand.clone());
        }
        let mut acc = self.binary_chain(items, level + 1, next);
        while let Some(op) = items.get(*next).filter(|op| precedence(op.as_rule()) == level) {
            *next += 1;
            let rhs = self.binary_chain(items, level + 1, next);
            let span = acc.expr.span.to(rhs.expr.span);
            let height = acc.height.max(rhs.height) + 1;
            if height > MAX_EXPR_HEIGHT {
                self.too_deep(span);
                while items.get(*next).is_some_and(|op| precedence(op.as_rule()) >= level) {
                    *next += 2;
                }
                return error_lowered(span);
            }
            let kind = ExprKind::Binary(binary_op(op.as_str()), Box::new(acc.expr), Box::new(rhs.expr));
            acc = lowered(kind, span, height);
        }
        acc
    }

    /// Prefix operators, a primary and its suffixes: the suffixes bind tighter.
    fn operand(&mut self, mut pairs: Pairs<'_, Rule>, span: Span) -> Lowered {
        let mut ops = Vec::new();
        while let Some(op) = pairs.peek().filter(|p| p.as_rule() == Rule::op_unary) {
            ops.push((op.as_str() == "-", self.span(&op)));
            pairs.next();
        }
        if ops.len() >= MAX_EXPR_HEIGHT {
            self.too_deep(span);
            return error_lowered(span);
        }
        let mut acc = self.postfix(pairs);
        for (is_neg, op_span) in ops.into_iter().rev() {
            let op = if is_neg { UnaryOp::Neg } else { UnaryOp::Not };
            let span = op_span.to(acc.expr.span);
            let height = acc.height + 1;
            acc = match (op, &acc.expr.kind) {
                // `-9223372036854775808` must fold before the positive literal overflows.
                (UnaryOp::Neg, ExprKind::Int(n)) => lowered(ExprKind::Int(-n), span, 1),
                _ => lowered(ExprKind::Unary(op, Box::new(acc.expr)), span, height),
            };
        }
        if acc.height > MAX_EXPR_HEIGHT {
            self.too_deep(span);
            return error_lowered(span);
        }
        acc
    }

    fn postfix(&mut self, mut pairs: Pairs<'_, Rule>) -> Lowered {
        let Some(primary) = pairs.next() else {
            return error_lowered(Span::default());
        };
        let mut acc = self.lower_expr(primary);
        for suffix in pairs {
            let span = acc.expr.span.to(self.span(&suffix));
            match suffix.as_rule() {
                Rule::field_access => {
                    let Some(ident) = suffix.into_inner().next() else {
                        continue;
                    };
                    let ident = self.ident(ident);
                    acc = lowered(ExprKind::Field(Box::new(acc.expr), ident), span, acc.height + 1);
                }
                Rule::call_args => {
                    let mut height = acc.height;
                    let args = suffix
                        .into_inner()
                        .filter_map(|arg| {
                            let arg_span = self.span(&arg);
                            let mut inner = arg.into_inner();
                            let first = inner.next()?;
                            let (name, value) = match inner.next() {
                                Some(value) => (Some(self.ident(first)), self.lower_expr(value)),
                                None => (None, self.lower_expr(first)),
                            };
                            height = height.max(value.height);
                            Some(Arg {
                                name,
                                value: value.expr,
                                span: arg_span,
                            })
                        })
                        .collect();
                    acc = lowered(ExprKind::Call(Box::new(acc.expr), args), span, height + 1);
                }
                Rule::block => {
                    let (block, height) = self.block(suffix);
                    let height = acc.height.max(height) + 1;
                    acc = lowered(ExprKind::Refine(Box::new(acc.expr), block), span, height);
                }
                _ => {}
            }
        }
        acc
    }

    fn if_expr(&mut self, pair: Pair<'_, Rule>, span: Span) -> Lowered {
        let mut parts = pair
            .into_inner()
            .filter(|p| !matches!(p.as_rule(), Rule::kw_if | Rule::kw_else));
        let (Some(cond), Some(then), Some(otherwise)) = (parts.next(), parts.next(), parts.next()) else {
            return error_lowered(span);
        };
        let cond = self.lower_expr(cond);
        let then = self.lower_expr(then);
        let otherwise = self.lower_expr(otherwise);
        let height = cond.height.max(then.height).max(otherwise.height) + 1;
        lowered(
            ExprKind::If(Box::new(cond.expr), Box::new(then.expr), Box::new(otherwise.expr)),
            span,
            height,
        )
    }

    fn number(&mut self, token: &str, span: Span) -> Lowered {
        let kind = match classify_number(token) {
            Ok(NumberLit::Int(n)) => ExprKind::Int(n),
            Ok(NumberLit::Float(x)) => ExprKind::Float(x),
            Ok(NumberLit::Quantity(q)) => ExprKind::Quantity(q),
            Ok(NumberLit::Duration(d)) => ExprKind::Duration(d),
            Err(error) => {
                self.diagnostics.push(number_error(error, token, span));
                ExprKind::Error
            }
        };
        lowered(kind, span, 1)
    }

    fn string(&mut self, pair: Pair<'_, Rule>, span: Span) -> Lowered {
        let mut parts: Vec<StrPart> = Vec::new();
        let mut height = 0;
        let mut total = 0;
        for part in pair.into_inner() {
            let text = match part.as_rule() {
                Rule::text => part.as_str().to_owned(),
                Rule::escape => unescape(part.as_str()),
                Rule::dollar_dollar => "$".to_owned(),
                Rule::interpolation => {
                    let part_span = self.span(&part);
                    match part.into_inner().next() {
                        Some(inner) => {
                            let l = self.lower_expr(inner);
                            height = height.max(l.height);
                            parts.push(StrPart::Interp(l.expr));
                        }
                        None => parts.push(StrPart::Interp(error_expr(part_span))),
                    }
                    continue;
                }
                _ => {
                    let at = self.span(&part);
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0001,
                            at,
                            "a `$` in a string must start `${...}` or be written `$$`",
                            "lone `$`",
                        )
                        .help("write `$$` for a literal `$`"),
                    );
                    continue;
                }
            };
            total += text.len();
            match parts.last_mut() {
                Some(StrPart::Text(prev)) => prev.push_str(&text),
                _ => parts.push(StrPart::Text(text)),
            }
        }
        self.check_string_length(total, span);
        // Pushing leaves spare room, and the tree keeps every string for the whole compilation.
        parts.shrink_to_fit();
        lowered(ExprKind::Str(parts), span, height + 1)
    }

    fn path_expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let mut idents = pair.into_inner().map(|p| self.ident(p));
        let Some(first) = idents.next() else {
            return error_expr(Span::default());
        };
        let mut acc = Expr {
            span: first.span,
            kind: ExprKind::Name(first),
        };
        for ident in idents {
            let span = acc.span.to(ident.span);
            acc = Expr {
                kind: ExprKind::Field(Box::new(acc), ident),
                span,
            };
        }
        acc
    }
}

fn lowered(kind: ExprKind, span: Span, height: usize) -> Lowered {
    Lowered {
        expr: Expr { kind, span },
        height,
    }
}

fn error_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Error,
        span,
    }
}

fn error_lowered(span: Span) -> Lowered {
    lowered(ExprKind::Error, span, 1)
}

/// Binary operator precedence levels: `||`, `&&`, comparisons, `+ -`, `* / %`.
const PRECEDENCE_LEVELS: u8 = 5;

/// The level of an operator, loosest 0; operands are past the last level.
fn precedence(rule: Rule) -> u8 {
    match rule {
        Rule::op_or => 0,
        Rule::op_and => 1,
        Rule::op_cmp => 2,
        Rule::op_add => 3,
        Rule::op_mul => 4,
        _ => PRECEDENCE_LEVELS,
    }
}

fn binary_op(symbol: &str) -> BinaryOp {
    match symbol {
        "*" => BinaryOp::Mul,
        "/" => BinaryOp::Div,
        "%" => BinaryOp::Rem,
        "+" => BinaryOp::Add,
        "-" => BinaryOp::Sub,
        "<" => BinaryOp::Lt,
        "<=" => BinaryOp::Le,
        ">" => BinaryOp::Gt,
        ">=" => BinaryOp::Ge,
        "==" => BinaryOp::Eq,
        "!=" => BinaryOp::Ne,
        "&&" => BinaryOp::And,
        _ => BinaryOp::Or,
    }
}

fn number_error(error: NumberError, token: &str, span: Span) -> Diagnostic {
    match error {
        NumberError::Overflow => Diagnostic::new(
            Code::E0302,
            span,
            format!("number `{token}` is too large"),
            "too large",
        )
        .help("integers range from -9223372036854775808 to 9223372036854775807; quantities and durations stay within the same range of their smallest unit"),
        NumberError::BadSuffix { suffix } => {
            let offset = token.len().saturating_sub(suffix.len());
            let at = Span::new(span.file, span.start as usize + offset, span.end as usize);
            Diagnostic::new(
                Code::E0304,
                at,
                format!("`{suffix}` is not a quantity or duration suffix"),
                "unknown suffix",
            )
            .help(format!(
                "quantities take {}; durations take {}",
                QUANTITY_SUFFIXES.join(" "),
                DURATION_SUFFIXES.join(" ")
            ))
        }
        NumberError::ExponentWithSuffix { exponent, suffix, plain } => {
            // The token ends with `e`, the exponent and the suffix.
            let offset = token.len().saturating_sub(suffix.len() + exponent.len() + 1);
            let at = Span::new(span.file, span.start as usize + offset, span.end as usize);
            let written = match plain {
                Some(plain) => format!("`{plain}{suffix}`, or the same amount with another suffix"),
                None => "the amount with another suffix".to_owned(),
            };
            Diagnostic::new(
                Code::E0304,
                at,
                format!("number `{token}` has both an exponent and the suffix `{suffix}`"),
                "an exponent cannot go with a suffix",
            )
            .help(format!(
                "quantities and durations take plain digits before their suffix: write {written}"
            ))
        }
        NumberError::OutOfRange(reason) => Diagnostic::new(
            Code::E0303,
            span,
            format!("number `{token}` is out of range: {reason}"),
            "out of range",
        )
        .help("write the value in a smaller unit"),
    }
}

fn unescape(escape: &str) -> String {
    match escape {
        "\\n" => "\n".into(),
        "\\t" => "\t".into(),
        "\\\"" => "\"".into(),
        "\\\\" => "\\".into(),
        _ => escape
            .strip_prefix("\\u{")
            .and_then(|s| s.strip_suffix('}'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32)
            .map_or_else(|| char::REPLACEMENT_CHARACTER.to_string(), String::from),
    }
}

/// The `///` lines directly above `offset`, joined, without the slashes.
fn doc_comment(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let mut lines: Vec<&str> = Vec::new();
    for line in before.lines().rev().map(str::trim) {
        if line.is_empty() && lines.is_empty() {
            continue;
        }
        match line.strip_prefix("///") {
            Some(rest) if !rest.starts_with('/') => lines.push(rest.strip_prefix(' ').unwrap_or(rest)),
            _ => break,
        }
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    Some(lines.join("\n"))
}
