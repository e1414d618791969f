//! Elaboration of expressions and configuration blocks.

use super::builtins::{self, coerce_number, to_text, Builtin, Typed, BUILTINS};
use super::{Checker, Context, Env, LocalKind};
use crate::ast::{Arg, Block, Expr, ExprKind, Ident, ItemKind, StrPart};
use crate::diagnostics::{Code, Diagnostic};
use crate::resolve::Def;
use crate::source::Span;
use crate::syntax::MAX_STRING_BYTES;
use crate::types::{ItemRef, Schema, Ty};
use crate::value::{CommandPart, Entry, Extent, Sym, Value, ValueKind, MAX_VALUE_DEPTH, MAX_VALUE_PARTS};

/// The largest replica count KubeRay accepts (an int32).
const MAX_REPLICAS: i64 = 2_147_483_647;
/// The largest value of Kubernetes' 32-bit fields (`backoffLimit`, `activeDeadlineSeconds`, ...).
const MAX_INT32: i64 = i32::MAX as i64;

impl Checker<'_> {
    /// Elaborates `expr`, checking it against `expected` when given (E0201 on mismatch).
    pub(super) fn expr(&mut self, expr: &Expr, env: &Env, expected: Option<&Ty>) -> Typed {
        let typed = self.infer(expr, env, expected);
        let Some(expected) = expected else {
            return typed;
        };
        if !typed.ty.assignable_to(expected) {
            let mut d = mismatch(expr.span, expected, &typed.ty);
            if (expected, &typed.ty) == (&Ty::Duration, &Ty::Quantity) {
                // `timeout = 90m` is ninety thousandths, not an hour and a half; a constant's
                // value shows the milli suffix in its canonical form.
                let written = self.program.sources.snippet(typed.value.span);
                let help = crate::quantity::milli_for_minutes_help(written).or_else(|| match &typed.value.kind {
                    ValueKind::Quantity(q) => crate::quantity::milli_for_minutes_help(&q.canonical()),
                    _ => None,
                });
                if let Some(help) = help {
                    d = d.help(help);
                }
            }
            self.diagnostics.push(d);
            return Typed::error(expr.span);
        }
        let kind = match (&typed.value.kind, &typed.ty, expected) {
            (ValueKind::Deferred(sym), Ty::Int | Ty::Float, Ty::Quantity) => Sym::op("quantity", vec![(**sym).clone()]),
            (kind, _, _) => coerce_number(kind, expected),
        };
        // A number too large for a quantity or a duration would otherwise vanish from the output.
        if matches!(kind, ValueKind::Unknown) && !matches!(typed.value.kind, ValueKind::Unknown) {
            let shown = match &typed.value.kind {
                ValueKind::Float(x) => format!("{x:e}"),
                other => to_text(other).unwrap_or_default(),
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0303,
                    expr.span,
                    format!("{shown} is too large for a {expected}"),
                    "out of range",
                )
                .help("quantities reach about 1.7e29 and durations about 290 million years; give a smaller value"),
            );
        }
        let ty = match (&typed.ty, expected) {
            (Ty::Int | Ty::Float, Ty::Float | Ty::Quantity | Ty::Duration) => expected.clone(),
            _ => typed.ty,
        };
        Typed::with_value(ty, Value::new(kind, typed.value.span))
    }

    fn infer(&mut self, expr: &Expr, env: &Env, expected: Option<&Ty>) -> Typed {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Int(n) => Typed::new(Ty::Int, ValueKind::Int(*n), span),
            ExprKind::Float(x) => Typed::new(Ty::Float, ValueKind::Float(*x), span),
            ExprKind::Quantity(q) => Typed::new(Ty::Quantity, ValueKind::Quantity(*q), span),
            ExprKind::Duration(d) => Typed::new(Ty::Duration, ValueKind::Duration(*d), span),
            ExprKind::Bool(b) => Typed::new(Ty::Bool, ValueKind::Bool(*b), span),
            ExprKind::None => Typed::new(Ty::NoneTy, ValueKind::None, span),
            ExprKind::Error => Typed::error(span),
            ExprKind::Str(parts) => self.string(parts, env, span),
            ExprKind::Name(ident) => self.name(&ident.name, ident.span, env, expected),
            ExprKind::Field(base, field) => self.field_access(base, &field.name, field.span, env, expected, span),
            ExprKind::List(items) => {
                let element = match expected {
                    Some(Ty::List(t)) => Some((**t).clone()),
                    _ => None,
                };
                let mut element_ty = element.clone();
                let mut values = Vec::new();
                let mut extent = Some(Extent::ONE);
                for item in items {
                    let typed = self.expr(item, env, element_ty.as_ref());
                    if element_ty.is_none() && typed.ty != Ty::Error {
                        element_ty = Some(typed.ty.clone());
                    }
                    if self.grow(&mut extent, &typed, span) {
                        values.push(typed.value);
                    }
                }
                if extent.is_none() {
                    return Typed::error(span);
                }
                let ty = Ty::List(Box::new(element_ty.unwrap_or(Ty::Error)));
                Typed::new(ty, ValueKind::List(values), span)
            }
            ExprKind::Record(block) => self.record(block, env, expected, None, "", span),
            ExprKind::Unary(op, operand) => {
                let operand = self.expr(operand, env, None);
                let name = match op {
                    crate::ast::UnaryOp::Neg => "neg",
                    crate::ast::UnaryOp::Not => "not",
                };
                self.lift(name, vec![operand], span, |o| builtins::unary(*op, &o[0], span))
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let lhs = self.expr(lhs, env, None);
                let rhs = self.expr(rhs, env, None);
                self.lift(op.op_name(), vec![lhs, rhs], span, |o| {
                    builtins::binary(*op, &o[0], &o[1], span)
                })
            }
            ExprKind::If(cond, then, otherwise) => {
                let cond = self.expr(cond, env, Some(&Ty::Bool));
                let then = self.expr(then, env, expected);
                let otherwise = self.expr(otherwise, env, expected.or(Some(&then.ty)));
                let ty = match (&then.ty, &otherwise.ty) {
                    (Ty::Error, t) | (t, Ty::Error) => t.clone(),
                    (Ty::Int, Ty::Float) => Ty::Float,
                    (t, _) => t.clone(),
                };
                let value = match (
                    &cond.value.kind,
                    Sym::of(&then.value.kind),
                    Sym::of(&otherwise.value.kind),
                ) {
                    (ValueKind::Bool(true), _, _) => then.value.kind,
                    (ValueKind::Bool(false), _, _) => otherwise.value.kind,
                    (ValueKind::Deferred(c), Some(a), Some(b)) => Sym::op("if", vec![(**c).clone(), a, b]),
                    _ => ValueKind::Unknown,
                };
                self.bounded(Typed::new(ty, value, span))
            }
            ExprKind::Call(callee, args) => self.call(callee, args, env, span),
            ExprKind::Refine(base, block) => {
                let base_typed = self.expr(base, env, None);
                match base_typed.ty {
                    Ty::Config(schema @ (Schema::Cluster | Schema::Head | Schema::Worker)) => {
                        let schema = match expected {
                            Some(Ty::Config(Schema::Head)) if schema == Schema::Worker => Schema::Head,
                            _ => schema,
                        };
                        let value = self.config(block, schema, env, Some(&base_typed.value), schema.name());
                        Typed::with_value(Ty::Config(schema), Value::new(value.kind, span))
                    }
                    Ty::Error => Typed::error(span),
                    other => {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E0201,
                                base.span,
                                format!("only clusters and nodes can be refined with `{{ ... }}`, not {other}"),
                                format!("this is {other}"),
                            )
                            .help("write `NAME { field = value }` where NAME is a cluster or a node value"),
                        );
                        Typed::error(span)
                    }
                }
            }
        }
    }

    /// Applies an operator. When an operand is deferred, its type is checked as if unknown
    /// and the result is the operation kept as an expression (§8).
    fn lift(
        &mut self,
        op: &'static str,
        operands: Vec<Typed>,
        span: Span,
        apply: impl FnOnce(&[Typed]) -> Result<Typed, Diagnostic>,
    ) -> Typed {
        if !operands.iter().any(|o| matches!(o.value.kind, ValueKind::Deferred(_))) {
            return self.report(apply(&operands), span);
        }
        let args: Option<Vec<Sym>> = operands.iter().map(|o| Sym::of(&o.value.kind)).collect();
        let masked: Vec<Typed> = operands
            .into_iter()
            .map(|o| match o.value.kind {
                ValueKind::Deferred(_) => Typed::unknown(o.ty, o.value.span),
                _ => o,
            })
            .collect();
        let typed = self.report(apply(&masked), span);
        match args {
            Some(args)
                if crate::value::OPS.contains(&op)
                    && typed.ty != Ty::Error
                    && typed.value.kind == ValueKind::Unknown =>
            {
                self.bounded(Typed::new(typed.ty, Sym::op(op, args), span))
            }
            _ => typed,
        }
    }

    fn report(&mut self, result: Result<Typed, Diagnostic>, span: Span) -> Typed {
        result.unwrap_or_else(|d| {
            self.diagnostics.push(d);
            Typed::error(span)
        })
    }

    fn string(&mut self, parts: &[StrPart], env: &Env, span: Span) -> Typed {
        let mut text = Some(String::new());
        // The pieces as expressions, for a string with deferred values in it.
        let mut pieces: Option<Vec<Sym>> = Some(Vec::new());
        let mut deferred = false;
        let mut too_long = false;
        for part in parts {
            match part {
                StrPart::Text(t) => {
                    if let Some(s) = text.as_mut() {
                        s.push_str(t);
                    }
                    if let Some(p) = pieces.as_mut() {
                        p.push(Sym::Lit(ValueKind::Str(t.clone())));
                    }
                }
                StrPart::Interp(e) => {
                    let typed = self.interpolated(e, env);
                    deferred |= matches!(typed.value.kind, ValueKind::Deferred(_));
                    match (pieces.as_mut(), Sym::of(&typed.value.kind)) {
                        (Some(p), Some(sym)) if typed.ty.assignable_to(&Ty::Str) => p.push(sym),
                        (Some(p), Some(sym)) => p.push(Sym::Op("str", vec![sym])),
                        _ => pieces = None,
                    }
                    match (text.as_mut(), to_text(&typed.value.kind)) {
                        // Checked before the text grows: doubling strings through constants
                        // reached a 1 GiB allocation.
                        (Some(s), Some(t)) if s.len() + t.len() > MAX_STRING_BYTES => {
                            too_long = true;
                            break;
                        }
                        (Some(s), Some(t)) => s.push_str(&t),
                        _ => text = None,
                    }
                }
            }
        }
        if too_long {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0604,
                    span,
                    format!("this string would be longer than the limit of {MAX_STRING_BYTES} bytes"),
                    "built here",
                )
                .help("interpolation makes strings of their values; one that doubles another at each step soon passes the limit"),
            );
            return Typed::error(span);
        }
        let value = match (text, pieces) {
            (Some(text), _) => ValueKind::Str(text),
            (None, Some(pieces)) if deferred => Sym::op("concat", pieces),
            _ => ValueKind::Unknown,
        };
        self.bounded(Typed::new(Ty::Str, value, span))
    }

    /// Adds `part` to the extent of the list or record being built at `span`; `extent` becomes
    /// `None` and the part is refused when the value would pass a limit (E0606 or E0607, once)
    /// or the part is an error. Builders check each part before they keep it, so no huge value
    /// is ever allocated, and then make the value an error, so what depends on it stays quiet
    /// (a list of an erroneous list would otherwise grow again and be reported again).
    fn grow(&mut self, extent: &mut Option<Extent>, part: &Typed, span: Span) -> bool {
        if part.ty == Ty::Error {
            *extent = None;
        }
        self.grow_by(extent, &part.value.kind, span)
    }

    fn grow_by(&mut self, extent: &mut Option<Extent>, part: &ValueKind, span: Span) -> bool {
        let Some(so_far) = *extent else {
            return false;
        };
        let grown = so_far.with_child(Extent::of(part));
        *extent = self.within_limits(grown, span).then_some(grown);
        extent.is_some()
    }

    /// [`Checker::grow_by`] a record entry: its key, then its value one level below.
    fn grow_entry(&mut self, extent: &mut Option<Extent>, entry: &Entry, span: Span) -> bool {
        if let Some(so_far) = extent.as_mut() {
            let label = entry.label.as_ref().map_or(0, String::len);
            so_far.parts = so_far.parts.saturating_add(1 + entry.key.len() + label);
        }
        self.grow_by(extent, &entry.value.kind, span)
    }

    /// `typed`, or an error after E0606 or E0607 when its value is past a limit: for values
    /// made of a few operands, each within the limits.
    fn bounded(&mut self, typed: Typed) -> Typed {
        let extent = match &typed.value.kind {
            ValueKind::Deferred(sym) => Extent::of_sym(sym),
            kind => Extent::of(kind),
        };
        if self.within_limits(extent, typed.value.span) {
            typed
        } else {
            Typed::error(typed.value.span)
        }
    }

    fn within_limits(&mut self, extent: Extent, span: Span) -> bool {
        let problem = if extent.parts > MAX_VALUE_PARTS {
            Diagnostic::new(
                Code::E0606,
                span,
                format!("this value would have more than {MAX_VALUE_PARTS} parts"),
                "built here",
            )
            .help("count one part per value, entry and string byte; a constant that doubles another at each step soon passes the limit")
        } else if extent.depth > MAX_VALUE_DEPTH {
            Diagnostic::new(
                Code::E0607,
                span,
                format!("this value would nest deeper than {MAX_VALUE_DEPTH} levels"),
                "built here",
            )
            .help("lists, records and run-time expressions built from constants nest; flatten the value")
        } else {
            return true;
        };
        self.diagnostics.push(problem);
        false
    }

    /// An `entrypoint` string: its interpolated values stay apart from the text (§6.4).
    fn command(&mut self, parts: &[StrPart], env: &Env, span: Span) -> Typed {
        if !parts.iter().any(|p| matches!(p, StrPart::Interp(_))) {
            return self.string(parts, env, span);
        }
        let command = parts
            .iter()
            .map(|part| match part {
                StrPart::Text(t) => CommandPart::Text(t.clone()),
                StrPart::Interp(e) => CommandPart::Value(self.interpolated(e, env).value),
            })
            .collect();
        self.bounded(Typed::new(Ty::Str, ValueKind::Command(command), span))
    }

    fn interpolated(&mut self, e: &Expr, env: &Env) -> Typed {
        let typed = self.expr(e, env, None);
        if !typed.ty.is_scalar() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0201,
                    e.span,
                    format!("only scalars can be interpolated, not {}", typed.ty),
                    format!("this is {}", typed.ty),
                )
                .help("interpolate one field of it, or a scalar computed from it"),
            );
        }
        typed
    }

    /// A bare name: a local, an item of the module, an imported module or a builtin.
    pub(super) fn name(&mut self, name: &str, span: Span, env: &Env, expected: Option<&Ty>) -> Typed {
        if let Some(local) = env.lookup(name) {
            return Typed::with_value(local.typed.ty.clone(), Value::new(local.typed.value.kind.clone(), span));
        }
        if env.later.contains(name) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0101,
                    span,
                    format!("`{name}` is used before its binding"),
                    "not bound yet",
                )
                .help(format!(
                    "move `let {name} = ...` above this use, or wait for it with `after {name}`"
                )),
            );
            return Typed::error(span);
        }
        match self.scopes.of(env.module).and_then(|s| s.get(name)) {
            Some(Def::Item(item)) => self.item_value(item, span, expected),
            Some(Def::Module { module, import }) => {
                self.used_imports.insert(import);
                Typed::unknown(Ty::Module(module), span)
            }
            Some(Def::Unloaded) => Typed::error(span),
            None => match Builtin::lookup(name) {
                Some(builtin) => Typed::unknown(Ty::Builtin(builtin), span),
                None => {
                    let mut best = closest_local(name, env)
                        .or_else(|| crate::diagnostics::closest(name, BUILTINS.iter().map(|(n, _)| *n)));
                    if let Some(found) = self.scopes.of(env.module).and_then(|s| s.suggestions().closest(name)) {
                        if best.is_none_or(|b| found.0 < b.0) {
                            best = Some(found);
                        }
                    }
                    // The name the fix offers is as good as used: no W0001 on top of the error.
                    if let Some((_, offered)) = best {
                        env.lookup(offered);
                    }
                    let mut diagnostic =
                        Diagnostic::new(Code::E0101, span, format!("unknown name `{name}`"), "not defined");
                    diagnostic = match best {
                        Some((_, best)) => diagnostic.help(format!("did you mean `{best}`?")),
                        None => diagnostic.help(
                            "define it with `const`, `cluster`, `task` or `workflow`, or import the module that has it",
                        ),
                    };
                    self.diagnostics.push(diagnostic);
                    Typed::error(span)
                }
            },
        }
    }

    fn field_access(
        &mut self,
        base: &Expr,
        field: &str,
        field_span: Span,
        env: &Env,
        expected: Option<&Ty>,
        span: Span,
    ) -> Typed {
        let base_typed = self.expr(base, env, None);
        match &base_typed.ty {
            Ty::Module(module) => {
                let def = self.scopes.of(*module).and_then(|s| s.get(field));
                match def {
                    Some(Def::Item(item)) => self.item_value(item, span, expected),
                    _ => {
                        let candidates: Vec<&str> = self
                            .scopes
                            .of(*module)
                            .map(|s| s.items().map(|(n, _)| n).collect())
                            .unwrap_or_default();
                        let module_name = self.program.sources.snippet(base.span).to_owned();
                        let mut diagnostic = Diagnostic::new(
                            Code::E0101,
                            field_span,
                            format!("module `{module_name}` has no item `{field}`"),
                            "not in that module",
                        )
                        .suggest(field, candidates.iter().copied());
                        if diagnostic.help.is_none() {
                            let mut sorted = candidates.clone();
                            sorted.sort_unstable();
                            let listed = quoted_list(&sorted);
                            diagnostic = diagnostic.help(
                                match sorted.iter().filter(|c| c.starts_with(field)).min_by_key(|c| c.len()) {
                                    Some(longer) => format!("did you mean `{longer}`? `{module_name}` has {listed}"),
                                    None => format!("`{module_name}` has {listed}"),
                                },
                            );
                        }
                        self.diagnostics.push(diagnostic);
                        Typed::error(span)
                    }
                }
            }
            Ty::Record(fields) => match fields.iter().find(|(n, _)| n == field) {
                Some((_, ty)) => match base_typed.value.get(field) {
                    Some(value) => Typed::with_value(ty.clone(), Value::new(value.kind.clone(), span)),
                    None => Typed::unknown(ty.clone(), span),
                },
                None => {
                    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0202,
                            field_span,
                            format!("{} has no field `{field}`", base_typed.ty),
                            "no such field",
                        )
                        .suggest(field, names.iter().copied())
                        .help(format!("its fields are {}", quoted_list(&names))),
                    );
                    Typed::error(span)
                }
            },
            Ty::Config(schema) => match base_typed.value.get(field) {
                Some(value) => {
                    let ty = schema.field(field).map_or(Ty::Any, |f| (f.ty)());
                    Typed::with_value(ty, value.clone())
                }
                None => {
                    let names: Vec<&str> = schema.fields().iter().map(|f| f.name).collect();
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0202,
                            field_span,
                            format!("this {} does not set `{field}`", schema.name()),
                            "not set here",
                        )
                        .suggest(field, names),
                    );
                    Typed::error(span)
                }
            },
            Ty::Error => Typed::error(span),
            other => {
                let mut diagnostic = Diagnostic::new(
                    Code::E0201,
                    field_span,
                    format!("{other} has no fields"),
                    format!("`.{field}` on {other}"),
                );
                if field == "result" {
                    let name = self.program.sources.snippet(base.span).to_owned();
                    diagnostic = diagnostic.help(format!(
                        "a task with a single output gives it as the value of the call: write `{name}`, not `{name}.result` (`outputs.result` is only the task's own place to write it)"
                    ));
                }
                self.diagnostics.push(diagnostic);
                Typed::error(span)
            }
        }
    }

    fn call(&mut self, callee: &Expr, args: &[Arg], env: &Env, span: Span) -> Typed {
        let callee_typed = self.expr(callee, env, None);
        match callee_typed.ty {
            Ty::Builtin(builtin) => {
                let mut typed_args = Vec::new();
                for arg in args {
                    if let Some(name) = &arg.name {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E0206,
                                name.span,
                                format!("`{}` takes its arguments by position", builtin.name()),
                                "named argument",
                            )
                            .help(format!(
                                "write `{}(...)` without `{} =`",
                                builtin.name(),
                                name.name
                            )),
                        );
                    }
                    typed_args.push(self.expr(&arg.value, env, None));
                }
                self.lift(builtin.name(), typed_args, span, |a| builtins::call(builtin, a, span))
            }
            Ty::Task(item) | Ty::Workflow(item) => {
                if env.context != Context::Workflow {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0207,
                            callee.span,
                            "tasks and workflows are called only inside a workflow",
                            "called here",
                        )
                        .help("call it from a `workflow` with `let NAME = ...`"),
                    );
                }
                self.call_arguments(item, args, env, span)
            }
            Ty::Error => {
                for arg in args {
                    self.expr(&arg.value, env, None);
                }
                Typed::error(span)
            }
            other => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0207,
                        callee.span,
                        format!("{other} cannot be called"),
                        "not a task, workflow or builtin",
                    )
                    .help("only tasks, workflows and builtin functions take arguments"),
                );
                for arg in args {
                    self.expr(&arg.value, env, None);
                }
                Typed::error(span)
            }
        }
    }

    /// Checks named arguments against a task's or workflow's parameters.
    fn call_arguments(&mut self, item: ItemRef, args: &[Arg], env: &Env, span: Span) -> Typed {
        let Some(ast_item) = self.item(item) else {
            return Typed::error(span);
        };
        let (name, params, output) = match &ast_item.kind {
            ItemKind::Task(t) => (&t.name, &t.params, &t.output),
            ItemKind::Workflow(w) => (&w.name, &w.params, &w.output),
            _ => return Typed::error(span),
        };
        let mut given: Vec<&str> = Vec::new();
        for arg in args {
            let Some(arg_name) = &arg.name else {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0205,
                        arg.span,
                        format!("arguments to `{}` are named", name.name),
                        "positional argument",
                    )
                    .help("write `parameter = value`"),
                );
                self.expr(&arg.value, env, None);
                continue;
            };
            match params.iter().find(|p| p.name.name == arg_name.name) {
                Some(param) => {
                    if given.contains(&arg_name.name.as_str()) {
                        self.diagnostics.push(Diagnostic::new(
                            Code::E0102,
                            arg_name.span,
                            format!("argument `{}` is given twice", arg_name.name),
                            "given again",
                        ));
                    }
                    given.push(&arg_name.name);
                    let ty = self.type_of(&param.ty, item.module);
                    self.expr(&arg.value, env, Some(&ty));
                }
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0205,
                            arg_name.span,
                            format!("`{}` has no parameter `{}`", name.name, arg_name.name),
                            "unknown argument",
                        )
                        .suggest(&arg_name.name, params.iter().map(|p| p.name.name.as_str()))
                        .label(name.span, "defined here"),
                    );
                    self.expr(&arg.value, env, None);
                }
            }
        }
        let missing: Vec<&str> = params
            .iter()
            .filter(|p| p.default.is_none() && !given.contains(&p.name.name.as_str()))
            .map(|p| p.name.name.as_str())
            .collect();
        if !missing.is_empty() {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0204,
                    span,
                    format!(
                        "missing argument{} {} to `{}`",
                        plural(missing.len()),
                        quoted_list(&missing),
                        name.name
                    ),
                    "missing arguments",
                )
                .label(name.span, "defined here")
                .help(format!("add `{} = ...`", missing.first().copied().unwrap_or(""))),
            );
        }
        let ty = match output {
            Some(output) => self.output_type(output, item.module),
            None => Ty::Nothing,
        };
        Typed::unknown(ty, span)
    }

    /// A `{ ... }` literal against the type expected where it stands (§5).
    pub(super) fn record(
        &mut self,
        block: &Block,
        env: &Env,
        expected: Option<&Ty>,
        base: Option<&Value>,
        path: &str,
        span: Span,
    ) -> Typed {
        match expected {
            Some(Ty::Config(schema)) => {
                let path = if path.is_empty() { schema.name() } else { path };
                let value = self.config(block, *schema, env, base, path);
                Typed::with_value(Ty::Config(*schema), Value::new(value.kind, span))
            }
            Some(Ty::Map(element)) => {
                let mut entries = Vec::new();
                let mut extent = Some(Extent::ONE);
                for field in &block.fields {
                    self.no_label(field.label.as_deref());
                    self.duplicate_key(block, field);
                    let typed = self.expr(&field.value, env, Some(element));
                    if typed.ty == Ty::Error {
                        extent = None;
                    }
                    let new = entry(&field.key.name, field.key.span, None, typed.value);
                    if self.grow_entry(&mut extent, &new, span) {
                        entries.push(new);
                    }
                }
                if extent.is_none() {
                    return Typed::error(span);
                }
                Typed::new(Ty::Map(element.clone()), ValueKind::Record(entries), span)
            }
            Some(Ty::Record(fields)) => {
                let mut entries = Vec::new();
                let mut extent = Some(Extent::ONE);
                for field in &block.fields {
                    self.duplicate_key(block, field);
                    match fields.iter().find(|(n, _)| *n == field.key.name) {
                        Some((_, ty)) => {
                            let typed = self.expr(&field.value, env, Some(ty));
                            if typed.ty == Ty::Error {
                                extent = None;
                            }
                            let new = entry(&field.key.name, field.key.span, None, typed.value);
                            if self.grow_entry(&mut extent, &new, span) {
                                entries.push(new);
                            }
                        }
                        None => {
                            let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                            self.diagnostics.push(
                                Diagnostic::new(
                                    Code::E0202,
                                    field.key.span,
                                    format!(
                                        "unknown field `{}` for the record {}",
                                        field.key.name,
                                        Ty::Record(fields.clone())
                                    ),
                                    "unknown field",
                                )
                                .suggest(&field.key.name, names),
                            );
                            self.expr(&field.value, env, None);
                        }
                    }
                }
                let missing: Vec<&str> = fields
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .filter(|n| !block.fields.iter().any(|f| f.key.name == *n))
                    .collect();
                if !missing.is_empty() {
                    let code = if path == "return" { Code::E0402 } else { Code::E0203 };
                    self.diagnostics.push(
                        Diagnostic::new(
                            code,
                            span,
                            format!("missing field{} {}", plural(missing.len()), quoted_list(&missing)),
                            "incomplete record",
                        )
                        .help(format!(
                            "add `{} = ...` to the record",
                            missing.first().copied().unwrap_or("")
                        )),
                    );
                }
                if extent.is_none() {
                    return Typed::error(span);
                }
                Typed::new(Ty::Record(fields.clone()), ValueKind::Record(entries), span)
            }
            _ => {
                let mut entries = Vec::new();
                let mut extent = Some(Extent::ONE);
                for field in &block.fields {
                    self.duplicate_key(block, field);
                    let typed = self.expr(&field.value, env, None);
                    if typed.ty == Ty::Error {
                        extent = None;
                    }
                    let label = field.label.as_ref().map(|l| l.value.clone());
                    let new = entry(&field.key.name, field.key.span, label, typed.value);
                    if self.grow_entry(&mut extent, &new, span) {
                        entries.push(new);
                    }
                }
                if extent.is_none() {
                    return Typed::error(span);
                }
                Typed::new(Ty::RecordLiteral, ValueKind::Record(entries), span)
            }
        }
    }

    /// A configuration block checked field by field against `schema`, merged over `base`
    /// (a refinement) key by key (§7).
    pub(super) fn config(
        &mut self,
        block: &Block,
        schema: Schema,
        env: &Env,
        base: Option<&Value>,
        path: &str,
    ) -> Value {
        let mut entries: Vec<Entry> = match base.map(|b| &b.kind) {
            Some(ValueKind::Record(entries)) => entries.clone(),
            _ => Vec::new(),
        };
        // Replaced entries still count: a bound on what was built, not on what is kept.
        let mut extent = Some(base.map_or(Extent::ONE, |b| Extent::of(&b.kind)));
        if schema == Schema::Pod {
            let literal = self.record(block, env, None, None, path, block.span);
            return self.pod(literal.value, base, path);
        }
        for field in &block.fields {
            let key = field.key.name.as_str();
            let label = field.label.as_ref().map(|l| l.value.clone());
            let field_path = match &label {
                Some(l) => format!("{path}.{key} \"{l}\""),
                None => format!("{path}.{key}"),
            };
            let spec = schema.field(key);
            let ty = match (spec, schema.open_key(key, field.key.quoted)) {
                (Some(spec), _) => (spec.ty)(),
                (None, Some(ty)) => ty,
                (None, None) => {
                    let names: Vec<&str> = schema.fields().iter().map(|f| f.name).collect();
                    let mut diagnostic = Diagnostic::new(
                        Code::E0202,
                        field.key.span,
                        format!("unknown field `{field_path}`"),
                        format!("not a field of {}", schema.name()),
                    )
                    .suggest(key, names.iter().copied());
                    if let Some(help) = field_hint(schema, key) {
                        diagnostic = diagnostic.help(help);
                    }
                    if diagnostic.help.is_none() {
                        diagnostic = diagnostic.help(format!("{} fields are {}", schema.name(), quoted_list(&names)));
                    }
                    self.diagnostics.push(diagnostic);
                    self.expr(&field.value, env, None);
                    continue;
                }
            };
            let labelled = spec.is_some_and(|s| s.labelled);
            if labelled && label.is_none() {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0203,
                        field.key.span,
                        format!("`{key}` needs a group name"),
                        "no name",
                    )
                    .help(format!("write `{key} \"NAME\" {{ ... }}`")),
                );
            } else if !labelled {
                self.no_label(field.label.as_deref());
                self.duplicate_key(block, field);
            } else if let Some(label) = &field.label {
                self.duplicate_group(block, field, label);
            }
            let key = if schema == Schema::Resources {
                self.duplicate_resource(block, field);
                crate::types::resource_key(key)
            } else {
                key
            };
            let previous = entries.iter().position(|e| e.key == key && e.label == label);
            let merges = matches!(field.value.kind, ExprKind::Record(_));
            let typed = match (&field.value.kind, &ty) {
                (ExprKind::Record(inner), Ty::Config(sub)) if merges => {
                    let base = previous.and_then(|i| entries.get(i)).map(|e| e.value.clone());
                    let value = self.config(inner, *sub, env, base.as_ref(), &field_path);
                    Typed::with_value(ty.clone(), Value::new(value.kind, field.value.span))
                }
                (ExprKind::Str(parts), _) if schema == Schema::Task && key == "entrypoint" => {
                    self.command(parts, env, field.value.span)
                }
                _ if schema == Schema::Task && key == "entrypoint" => {
                    if let Some(name) = spliced_local(&field.value, env) {
                        self.diagnostics.push(
                            Diagnostic::new(
                                Code::E0516,
                                name.span,
                                format!("the text of `{}` would become shell code of the entrypoint", name.name),
                                "a value, not program text",
                            )
                            .help(format!(
                                "only the program's literal text may be shell syntax: write the entrypoint as one string literal and interpolate the value there, `entrypoint = \"python -m job --arg ${{{}}}\"` (an `if` goes inside `${{...}}`), and rwfc quotes it as one word",
                                name.name
                            )),
                        );
                    }
                    self.expr(&field.value, env, Some(&ty))
                }
                _ => self.expr(&field.value, env, Some(&ty)),
            };
            self.check_range(key, &typed.value, &field_path);
            let new = entry(key, field.key.span, label, typed.value);
            if !self.grow_entry(&mut extent, &new, block.span) {
                continue;
            }
            match previous {
                Some(i) => {
                    if let Some(slot) = entries.get_mut(i) {
                        *slot = new;
                    }
                }
                None => entries.push(new),
            }
        }
        // Instantiated configurations live until emission, one per call: no spare room.
        entries.shrink_to_fit();
        Value::new(ValueKind::Record(entries), block.span)
    }

    fn pod(&mut self, literal: Value, base: Option<&Value>, path: &str) -> Value {
        let merged = match (base.map(|b| &b.kind), &literal.kind) {
            (Some(ValueKind::Record(old)), ValueKind::Record(new)) => {
                let mut entries = old.clone();
                for e in new {
                    match entries.iter_mut().find(|o| o.key == e.key) {
                        Some(slot) => *slot = e.clone(),
                        None => entries.push(e.clone()),
                    }
                }
                Value::new(ValueKind::Record(entries), literal.span)
            }
            _ => literal,
        };
        self.check_pod(&merged, path);
        merged
    }

    /// Field ranges the language fixes (§4.3, §10 E0303).
    fn check_range(&mut self, key: &str, value: &Value, path: &str) {
        const RANGES: &str =
            "replica counts are 0 to 2147483647, counts and TTLs are not negative, durations are whole seconds";
        const INT32: &str = "Kubernetes stores this field as a 32-bit int: at most 2147483647";
        let seconds = |d: &crate::quantity::Duration| d.millis() / 1000;
        let problem = match (key, &value.kind) {
            ("replicas" | "min_replicas" | "max_replicas", ValueKind::Int(n)) if !(0..=MAX_REPLICAS).contains(n) => {
                Some((format!("`{path}` is {n}, outside 0 to {MAX_REPLICAS}"), RANGES))
            }
            ("retries" | "ttl_seconds_after_finished", ValueKind::Int(n)) if *n < 0 => {
                Some((format!("`{path}` is {n}, but it cannot be negative"), RANGES))
            }
            ("retries" | "ttl_seconds_after_finished", ValueKind::Int(n)) if *n > MAX_INT32 => {
                Some((format!("`{path}` is {n}, above {MAX_INT32}"), INT32))
            }
            ("timeout" | "idle_timeout", ValueKind::Duration(d)) if d.whole_seconds().is_none() => Some((
                format!("`{path}` is {d}, which is not a whole number of seconds"),
                RANGES,
            )),
            ("timeout", ValueKind::Duration(d)) if d.millis() <= 0 => {
                Some((format!("`{path}` is {d}, but a deadline must be positive"), RANGES))
            }
            ("idle_timeout", ValueKind::Duration(d)) if d.millis() < 0 => {
                Some((format!("`{path}` is {d}, but it cannot be negative"), RANGES))
            }
            ("timeout" | "idle_timeout", ValueKind::Duration(d)) if seconds(d) > MAX_INT32 => Some((
                format!("`{path}` is {d}, {} seconds, above {MAX_INT32}", seconds(d)),
                "Kubernetes stores it in seconds as a 32-bit int: at most 2147483647 seconds (about 68 years)",
            )),
            _ => None,
        };
        if let Some((message, help)) = problem {
            self.diagnostics
                .push(Diagnostic::new(Code::E0303, value.span, message, "out of range").help(help));
        }
    }

    fn no_label(&mut self, label: Option<&crate::ast::PlainString>) {
        if let Some(label) = label {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0202,
                    label.span,
                    "only `worker` groups take a name",
                    "unexpected name",
                )
                .help("remove the string after the field name"),
            );
        }
    }

    /// E0502: two `worker "NAME"` groups of one name in one block.
    fn duplicate_group(&mut self, block: &Block, field: &crate::ast::Field, label: &crate::ast::PlainString) {
        let first = block
            .fields
            .iter()
            .find(|f| f.key.name == field.key.name && f.label.as_ref().is_some_and(|l| l.value == label.value));
        if let Some(first) = first.and_then(|f| f.label.as_ref()).filter(|f| f.span != label.span) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0502,
                    label.span,
                    format!("two worker groups are named \"{}\"", label.value),
                    "same name again",
                )
                .label(first.span, "first group with this name")
                .help("KubeRay needs a unique name per group; rename one, or put all its fields in one block"),
            );
        }
    }

    /// E0102 for two spellings of one Kubernetes resource in one block (`gpu` and
    /// `"nvidia.com/gpu"`): neither may win silently.
    fn duplicate_resource(&mut self, block: &Block, field: &crate::ast::Field) {
        let name = crate::types::resource_name(&field.key.name);
        let first = block
            .fields
            .iter()
            .take_while(|f| f.key.span != field.key.span)
            .find(|f| f.key.name != field.key.name && crate::types::resource_name(&f.key.name) == name);
        if let Some(first) = first {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0102,
                    field.key.span,
                    format!(
                        "`{name}` is set twice in one block, as `{}` and `{}`",
                        first.key.name, field.key.name
                    ),
                    "same resource again",
                )
                .label(first.key.span, "first set here")
                .help(format!(
                    "`{}` and `{}` are one Kubernetes resource; keep one of them",
                    first.key.name, field.key.name
                )),
            );
        }
    }

    fn duplicate_key(&mut self, block: &Block, field: &crate::ast::Field) {
        let first = block.fields.iter().find(|f| {
            f.key.name == field.key.name && f.label.as_ref().map(|l| &l.value) == field.label.as_ref().map(|l| &l.value)
        });
        if let Some(first) = first {
            if first.key.span != field.key.span {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        field.key.span,
                        format!("`{}` is set twice in one block", field.key.name),
                        "set again here",
                    )
                    .label(first.key.span, "first set here")
                    .help("remove one of them"),
                );
            }
        }
    }
}

pub(super) fn mismatch(span: Span, expected: &Ty, found: &Ty) -> Diagnostic {
    let help = match (expected, found) {
        (Ty::Str, Ty::Int | Ty::Float | Ty::Bool) => "turn it into text with \"${...}\" or `str(...)`".to_owned(),
        (Ty::Int, Ty::Float) => "use `int(...)`, `round(...)`, `ceil(...)` or `floor(...)`".to_owned(),
        (Ty::Duration, Ty::Float) => "write a duration like `300s` or `6h`".to_owned(),
        (Ty::Secret, _) | (_, Ty::Secret) => "secrets are allowed only as `env` values".to_owned(),
        _ => format!("give a value of type {expected}"),
    };
    Diagnostic::new(
        Code::E0201,
        span,
        format!("type mismatch: expected {expected}, found {found}"),
        format!("this is {found}"),
    )
    .help(help)
}

fn entry(key: &str, key_span: Span, label: Option<String>, value: Value) -> Entry {
    Entry {
        key: key.to_owned(),
        key_span,
        label,
        value,
    }
}

pub(super) fn quoted_list(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A parameter, `let` or loop variable whose text an `entrypoint` expression that is not a
/// string literal would splice in as shell code (§6.4): a value must never become code. Names
/// in an `if` condition only choose between texts of the program.
fn spliced_local<'e>(e: &'e Expr, env: &Env) -> Option<&'e Ident> {
    let local = |name: &'e Ident| {
        let index = *env.newest.get(&name.name)?;
        let kind = &env.locals.get(index)?.kind;
        (*kind != LocalKind::Outputs).then_some(name)
    };
    match &e.kind {
        ExprKind::Name(name) => local(name),
        ExprKind::If(_, then, otherwise) => spliced_local(then, env).or_else(|| spliced_local(otherwise, env)),
        ExprKind::Str(parts) => parts.iter().find_map(|part| match part {
            StrPart::Interp(inner) => spliced_local(inner, env),
            StrPart::Text(_) => None,
        }),
        ExprKind::Field(base, _) => spliced_local(base, env),
        ExprKind::Unary(_, inner) => spliced_local(inner, env),
        ExprKind::Binary(_, left, right) => spliced_local(left, env).or_else(|| spliced_local(right, env)),
        ExprKind::List(items) => items.iter().find_map(|item| spliced_local(item, env)),
        ExprKind::Call(_, args) => args.iter().find_map(|arg| spliced_local(&arg.value, env)),
        ExprKind::Record(_) | ExprKind::Refine(..) => None,
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Quantity(_)
        | ExprKind::Duration(_)
        | ExprKind::Bool(_)
        | ExprKind::None
        | ExprKind::Error => None,
    }
}

/// Help for a field users often write under another name, or in the wrong block.
fn field_hint(schema: Schema, key: &str) -> Option<String> {
    let alias = match (schema, key) {
        (Schema::Resources, "memory") => "mem",
        (Schema::Resources, "gpus") => "gpu",
        (Schema::Resources, "cpus") => "cpu",
        (Schema::Resources, "ephemeral-storage" | "storage") => "ephemeral_storage",
        (Schema::Head | Schema::Worker | Schema::Task, "cpu" | "mem" | "memory" | "gpu" | "gpus") => {
            return Some(format!(
                "resources go in `requests {{ ... }}` and `limits {{ ... }}`: `requests {{ {} = ... }}`",
                if key.starts_with("mem") {
                    "mem"
                } else {
                    key.trim_end_matches('s')
                }
            ))
        }
        _ => return None,
    };
    Some(format!(
        "did you mean `{alias}`? (rwf's resource keys are `cpu`, `mem`, `gpu` and `ephemeral_storage`)"
    ))
}

/// The local closest to a name not found: among those equally close, one not used yet (likely
/// the one meant), then the one sharing the longest start with it, then the smallest.
fn closest_local<'e>(name: &str, env: &'e Env) -> Option<(usize, &'e str)> {
    let common_start = |candidate: &str| name.chars().zip(candidate.chars()).take_while(|(a, b)| a == b).count();
    env.locals
        .iter()
        .filter_map(|local| {
            let (distance, candidate) = crate::diagnostics::closest(name, [local.name.as_str()])?;
            Some((
                distance,
                local.used.get(),
                std::cmp::Reverse(common_start(candidate)),
                candidate,
            ))
        })
        .min()
        .map(|(distance, _, _, candidate)| (distance, candidate))
}
