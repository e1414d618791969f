//! Items: constants, clusters, tasks and workflows, and the warnings about unused names.

use super::expr::mismatch;
use super::{Checker, Context, Env, LocalKind, Typed};
use crate::ast::{self, Expr, ExprKind, Item, ItemKind, OutputDecl, Param, Stmt, TypeExpr};
use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::load::ModuleId;
use crate::pod::{check_pod_spec, check_rules, PodProblemKind};
use crate::source::Span;
use crate::types::{named_type, ItemRef, Schema, Ty, TYPE_NAMES};
use crate::value::Value;
use std::collections::{HashMap, HashSet};

impl<'a> Checker<'a> {
    /// `storage_given`: `--storage` gives every built workflow a storage.
    pub(super) fn all_items(&mut self, storage_given: bool) {
        self.constants_in_order();
        let program = self.program;
        for (module_id, module) in program.modules() {
            for (index, item) in module.items().iter().enumerate() {
                let item_ref = ItemRef {
                    module: module_id,
                    index,
                };
                match &item.kind {
                    ItemKind::Const(_) | ItemKind::Cluster(_) => {
                        self.item_value(item_ref, item.span, None);
                    }
                    ItemKind::Task(task) => self.task(item_ref, task),
                    ItemKind::Workflow(workflow) => self.workflow(item_ref, workflow),
                    ItemKind::Import(_) => {}
                }
            }
        }
        self.workflow_calls(storage_given);
        self.unused_imports();
    }

    /// Evaluates every constant and cluster after the items its value names, so that no
    /// evaluation recurses through a chain of them (80,000 chained constants overflowed the
    /// stack). The members of a cycle are reported once (E0104) and are errors to their users;
    /// their bodies are still checked.
    fn constants_in_order(&mut self) {
        let program = self.program;
        let items: Vec<(ItemRef, &Item)> = program
            .modules()
            .flat_map(|(module, m)| {
                m.items()
                    .iter()
                    .enumerate()
                    .map(move |(index, item)| (ItemRef { module, index }, item))
            })
            .filter(|(_, item)| matches!(item.kind, ItemKind::Const(_) | ItemKind::Cluster(_)))
            .collect();
        let index: HashMap<ItemRef, usize> = items.iter().enumerate().map(|(i, (r, _))| (*r, i)).collect();
        let uses: Vec<Vec<usize>> = items
            .iter()
            .map(|(item_ref, item)| {
                let mut named = Vec::new();
                match &item.kind {
                    ItemKind::Const(c) => self.items_named(&c.value, item_ref.module, &mut named),
                    ItemKind::Cluster(c) => {
                        for expr in c.base.iter().chain(c.body.fields.iter().map(|f| &f.value)) {
                            self.items_named(expr, item_ref.module, &mut named);
                        }
                    }
                    _ => {}
                }
                let mut uses: Vec<usize> = named.iter().filter_map(|r| index.get(r).copied()).collect();
                uses.sort_unstable();
                uses.dedup();
                uses
            })
            .collect();
        let successors = |n: usize| uses.get(n).cloned().unwrap_or_default();
        let mut in_cycle = HashSet::new();
        for cycle in crate::dag::cycles(items.len(), successors) {
            let members: Vec<ItemRef> = cycle.iter().filter_map(|&i| items.get(i)).map(|(r, _)| *r).collect();
            self.report_item_cycle(&members);
            for (member, item) in cycle.iter().filter_map(|&i| items.get(i)) {
                self.memo.insert(*member, Typed::error(item.span));
                in_cycle.insert(*member);
            }
        }
        for node in crate::dag::postorder(items.len(), successors) {
            let Some((item_ref, item)) = items.get(node) else {
                continue;
            };
            if in_cycle.contains(item_ref) {
                self.evaluate(*item_ref, item, None);
            } else {
                self.item_value(*item_ref, item.span, None);
            }
        }
    }

    /// The constants and clusters an expression names, directly or as `module.NAME`.
    fn items_named(&self, expr: &Expr, module: ModuleId, named: &mut Vec<ItemRef>) {
        let scope = self.scopes.of(module);
        let mut names = HashSet::new();
        free_names(expr, &mut names);
        for name in &names {
            if let Some(crate::resolve::Def::Item(item)) = scope.and_then(|s| s.get(name)) {
                named.push(item);
            }
        }
        qualified_names(expr, &mut |base, field| {
            if let Some(crate::resolve::Def::Module { module, .. }) = scope.and_then(|s| s.get(base)) {
                if let Some(crate::resolve::Def::Item(item)) = self.scopes.of(module).and_then(|s| s.get(field)) {
                    named.push(item);
                }
            }
        });
    }

    pub(super) fn item(&self, item: ItemRef) -> Option<&'a Item> {
        let program: &'a crate::load::Program = self.program;
        program.module(item.module)?.items().get(item.index)
    }

    /// The value of a constant or cluster (evaluated once), or the type of a task or workflow.
    pub(super) fn item_value(&mut self, item_ref: ItemRef, span: Span, expected: Option<&Ty>) -> Typed {
        let program = self.program;
        let Some(item) = program
            .module(item_ref.module)
            .and_then(|m| m.items().get(item_ref.index))
        else {
            return Typed::error(span);
        };
        match &item.kind {
            ItemKind::Task(_) => return Typed::unknown(Ty::Task(item_ref), span),
            ItemKind::Workflow(_) => return Typed::unknown(Ty::Workflow(item_ref), span),
            ItemKind::Import(_) => return Typed::error(span),
            ItemKind::Const(_) | ItemKind::Cluster(_) => {}
        }
        if let Some(position) = self.evaluating.iter().position(|r| *r == item_ref) {
            let members: Vec<ItemRef> = self.evaluating.get(position..).map(<[_]>::to_vec).unwrap_or_default();
            self.report_item_cycle(&members);
            return Typed::error(span);
        }
        // An unannotated `{ ... }` or `[ ... ]` constant takes its type at each use (§3.2).
        let retyped = match &item.kind {
            ItemKind::Const(c) if c.ty.is_none() && matches!(c.value.kind, ExprKind::Record(_) | ExprKind::List(_)) => {
                expected.filter(|t| **t != Ty::Error)
            }
            _ => None,
        };
        let done = match retyped {
            // An error stays one at every use; retyping it would only walk its chain again.
            Some(ty) => match self.memo.get(&item_ref) {
                Some(done) if done.ty == Ty::Error => Some(done),
                _ => self
                    .retyped
                    .get(&item_ref)
                    .and_then(|types| types.iter().find(|(t, _)| t == ty))
                    .map(|(_, done)| done),
            },
            None => self.memo.get(&item_ref),
        };
        if let Some(done) = done {
            return Typed::with_value(done.ty.clone(), Value::new(done.value.kind.clone(), span));
        }
        self.evaluating.push(item_ref);
        let typed = self.evaluate(item_ref, item, retyped);
        self.evaluating.pop();
        match retyped {
            Some(ty) => self
                .retyped
                .entry(item_ref)
                .or_default()
                .push((ty.clone(), typed.clone())),
            None => {
                self.memo.insert(item_ref, typed.clone());
            }
        }
        Typed::with_value(typed.ty, Value::new(typed.value.kind, span))
    }

    /// The value of a constant or cluster's definition, evaluated now.
    fn evaluate(&mut self, item_ref: ItemRef, item: &Item, expected: Option<&Ty>) -> Typed {
        match &item.kind {
            ItemKind::Const(c) => {
                let annotated = c.ty.as_ref().map(|t| self.type_of(t, item_ref.module));
                let env = Env::new(item_ref.module, Context::Const);
                self.expr(&c.value, &env, annotated.as_ref().or(expected))
            }
            ItemKind::Cluster(c) => self.cluster(c, &Env::new(item_ref.module, Context::Cluster)),
            _ => Typed::error(item.span),
        }
    }

    fn cluster(&mut self, cluster: &ast::Cluster, env: &Env) -> Typed {
        let base = cluster
            .base
            .as_ref()
            .map(|b| self.expr(b, env, Some(&Ty::Config(Schema::Cluster))));
        let value = self.config(
            &cluster.body,
            Schema::Cluster,
            env,
            base.as_ref().map(|b| &b.value),
            "cluster",
        );
        Typed::with_value(Ty::Config(Schema::Cluster), value)
    }

    fn report_item_cycle(&mut self, members: &[ItemRef]) {
        // Start at the first member in source order so every entry point reports one message.
        let start = members
            .iter()
            .enumerate()
            .min_by_key(|(_, r)| **r)
            .map_or(0, |(i, _)| i);
        let ordered: Vec<ItemRef> = members
            .iter()
            .cycle()
            .skip(start)
            .take(members.len())
            .copied()
            .collect();
        let named: Vec<(String, Span)> = ordered
            .iter()
            .filter_map(|r| self.item(*r).and_then(Item::name).map(|n| (n.name.clone(), n.span)))
            .collect();
        let Some((first, first_span)) = named.first().cloned() else {
            return;
        };
        let chain: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).chain([first.as_str()]).collect();
        let mut diagnostic = Diagnostic::new(
            Code::E0104,
            first_span,
            format!("cycle between definitions: {}", chain.join(" → ")),
            format!("`{first}` depends on itself"),
        )
        .help("a constant or cluster cannot be defined in terms of itself; break the cycle with a literal value");
        for (name, span) in named.iter().skip(1) {
            diagnostic = diagnostic.label(*span, format!("`{name}` is part of the cycle"));
        }
        self.diagnostics.push(diagnostic);
    }

    /// The type an annotation names (E0101 for an unknown type name).
    pub(super) fn type_of(&mut self, ty: &TypeExpr, module: ModuleId) -> Ty {
        let _ = module;
        match ty {
            TypeExpr::Named(ident) => named_type(&ident.name).unwrap_or_else(|| {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0101,
                        ident.span,
                        format!("unknown type `{}`", ident.name),
                        "not a type",
                    )
                    .suggest(&ident.name, TYPE_NAMES.iter().copied()),
                );
                Ty::Error
            }),
            TypeExpr::Generic(ident, args, span) => match (ident.name.as_str(), args.as_slice()) {
                ("list", [element]) => Ty::List(Box::new(self.type_of(element, module))),
                ("map", [key, value]) => {
                    if !matches!(key, TypeExpr::Named(k) if k.name == "str") {
                        self.diagnostics.push(
                            Diagnostic::new(Code::E0201, key.span(), "map keys are always `str`", "not `str`")
                                .help("write `map[str, T]`"),
                        );
                    }
                    Ty::Map(Box::new(self.type_of(value, module)))
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0201,
                            *span,
                            format!("`{}[...]` is not a type", ident.name),
                            "unknown generic type",
                        )
                        .help("the generic types are `list[T]` and `map[str, T]`"),
                    );
                    Ty::Error
                }
            },
            TypeExpr::Record(fields, _) => Ty::Record(
                fields
                    .iter()
                    .map(|f| (f.name.name.clone(), self.type_of(&f.ty, module)))
                    .collect(),
            ),
        }
    }

    pub(super) fn output_type(&mut self, output: &OutputDecl, module: ModuleId) -> Ty {
        match output {
            OutputDecl::Single(ty) => self.type_of(ty, module),
            OutputDecl::Record(fields, span) => self.type_of(&TypeExpr::Record(fields.clone(), *span), module),
        }
    }

    pub(super) fn check_pod(&mut self, value: &Value, path: &str) {
        let (_, problems) = check_pod_spec(value, path);
        for problem in problems {
            let diagnostic = match problem.kind {
                PodProblemKind::UnknownField { path, suggestion } => {
                    let d = Diagnostic::new(
                        Code::E0202,
                        problem.span,
                        format!("unknown field `{path}`"),
                        "not a field of the Kubernetes PodSpec",
                    );
                    match suggestion {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help("pod values use the Kubernetes Python client's snake_case field names"),
                    }
                }
                PodProblemKind::MissingName { path } => Diagnostic::new(
                    Code::E0203,
                    problem.span,
                    format!("`{path}` has no `name`"),
                    "container without a name",
                )
                .help("every container needs `name = \"...\"`; name it `ray-head` or `ray-worker` to merge into the Ray container"),
                PodProblemKind::TypeMismatch { path, expected, found } => Diagnostic::new(
                    Code::E0201,
                    problem.span,
                    format!("type mismatch at `{path}`: expected {expected}, found {found}"),
                    format!("expected {expected}"),
                ),
                PodProblemKind::OutOfRange { path, found } => Diagnostic::new(
                    Code::E0303,
                    problem.span,
                    format!("`{path}` is {found}, outside the 32-bit range of this Kubernetes field"),
                    "out of range",
                )
                .help("Kubernetes stores this field as a 32-bit int: -2147483648 to 2147483647"),
            };
            self.diagnostics.push(diagnostic);
        }
        self.diagnostics.extend(check_rules(value, path));
    }

    fn bind_params(&mut self, params: &[Param], env: &mut Env) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for param in params {
            if let Some(first) = seen.insert(&param.name.name, param.name.span) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        param.name.span,
                        format!("parameter `{}` is declared twice", param.name.name),
                        "declared again",
                    )
                    .label(first, "first declared here"),
                );
            }
            let ty = self.type_of(&param.ty, env.module);
            if let Some(default) = &param.default {
                let const_env = Env::new(env.module, Context::Const);
                self.expr(default, &const_env, Some(&ty));
            }
            env.bind(
                &param.name.name,
                Typed::unknown(ty, param.name.span),
                param.name.span,
                LocalKind::Param,
            );
        }
    }

    fn task(&mut self, item: ItemRef, task: &ast::Task) {
        let mut env = Env::new(item.module, Context::Task);
        self.bind_params(&task.params, &mut env);
        let outputs = match &task.output {
            Some(OutputDecl::Single(ty)) => vec![("result".to_owned(), self.type_of(ty, item.module))],
            Some(OutputDecl::Record(fields, _)) => fields
                .iter()
                .map(|f| (f.name.name.clone(), self.type_of(&f.ty, item.module)))
                .collect(),
            None => Vec::new(),
        };
        // `${outputs.NAME}` is the URI where the task writes that output: a str.
        let uris = outputs.into_iter().map(|(name, _)| (name, Ty::Str)).collect();
        env.bind(
            "outputs",
            Typed::unknown(Ty::Record(uris), task.name.span),
            task.name.span,
            LocalKind::Outputs,
        );
        self.config(&task.body, Schema::Task, &env, None, "task");
        self.unused_locals(&env, item.module);
    }

    fn workflow(&mut self, item: ItemRef, workflow: &ast::Workflow) {
        let mut env = Env::new(item.module, Context::Workflow);
        self.bind_params(&workflow.params, &mut env);
        let lets: Vec<&ast::Let> = workflow
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Let(l) => Some(l),
                _ => None,
            })
            .collect();
        let mut let_spans: HashMap<&str, Span> = HashMap::new();
        for l in &lets {
            if let Some(first) = let_spans.insert(&l.name.name, l.name.span) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        l.name.span,
                        format!("`{}` is bound twice in this workflow", l.name.name),
                        "bound again",
                    )
                    .label(first, "first bound here")
                    .help("give each step its own name"),
                );
            }
            env.later.insert(l.name.name.clone());
        }
        let settings = workflow.settings();
        if !settings.fields.is_empty() {
            self.config(&settings, Schema::WorkflowSettings, &env, None, "workflow");
        }
        let mut returned = None;
        for stmt in &workflow.body {
            match stmt {
                Stmt::Let(l) => self.let_binding(l, &mut env),
                Stmt::Return(value) => {
                    if returned.is_some() {
                        self.diagnostics.push(
                            Diagnostic::new(Code::E0402, value.span, "a workflow returns once", "second `return`")
                                .help("remove one of the `return` statements"),
                        );
                    }
                    returned = Some(value);
                }
                Stmt::Setting(_) => {}
            }
        }
        for l in &lets {
            for name in &l.after {
                if !let_spans.contains_key(name.name.as_str()) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code::E0101,
                            name.span,
                            format!("`after` names `{}`, which is not a step of this workflow", name.name),
                            "unknown step",
                        )
                        .suggest(&name.name, let_spans.keys().copied()),
                    );
                }
                // Through the index: a scan of every local per name was quadratic in a chain.
                env.lookup(&name.name);
            }
        }
        self.check_return(workflow, returned, &env, item.module);
        self.step_cycles(&lets);
        self.unused_locals(&env, item.module);
    }

    fn let_binding(&mut self, l: &ast::Let, env: &mut Env) {
        let Some(fan_out) = &l.fan_out else {
            let (typed, is_call) = self.check_step(l, env);
            env.bind(&l.name.name, typed, l.name.span, LocalKind::Let { is_call });
            return;
        };
        let list = self.expr(&fan_out.list, env, None);
        let element = match &list.ty {
            Ty::List(element) => (**element).clone(),
            Ty::Error => Ty::Error,
            other => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0201,
                        fan_out.list.span,
                        format!("a fan-out goes over a list, not {other}"),
                        format!("this is {other}"),
                    )
                    .help("write `for x in [a, b, c] { ... }`, or name a list parameter or constant"),
                );
                Ty::Error
            }
        };
        // The element's name is visible inside the braces only.
        let shadowed = env.newest.get(&fan_out.var.name).copied();
        let unknown = Value::new(crate::value::ValueKind::Unknown, fan_out.var.span);
        env.bind(
            &fan_out.var.name,
            Typed::with_value(element, unknown),
            fan_out.var.span,
            LocalKind::Param,
        );
        let (typed, is_call) = self.check_step(l, env);
        env.locals.pop();
        match shadowed {
            Some(index) => env.newest.insert(fan_out.var.name.clone(), index),
            None => env.newest.remove(&fan_out.var.name),
        };
        if !is_call {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0207,
                    l.value.span,
                    "a fan-out makes one call per element",
                    "not a call",
                )
                .help("put a task or workflow call inside the braces: `for x in xs { step(arg = x) }`"),
            );
        }
        let value = Value::new(crate::value::ValueKind::Unknown, l.value.span);
        // A fan-out is made for its calls: a missing one was reported above, not also as unused.
        env.bind(
            &l.name.name,
            Typed::with_value(Ty::List(Box::new(typed.ty)), value),
            l.name.span,
            LocalKind::Let { is_call: true },
        );
    }

    /// A `let`'s value and its `with`; whether it calls a task or workflow.
    fn check_step(&mut self, l: &ast::Let, env: &Env) -> (Typed, bool) {
        let typed = self.expr(&l.value, env, None);
        let callee = match &l.value.kind {
            ExprKind::Call(callee, _) => Some(self.callee_kind(callee, env)),
            _ => None,
        };
        if let (Some(with), Some(with_span)) = (&l.with, l.with_span) {
            match callee {
                Some(Ty::Task(_)) | Some(Ty::Error) => {
                    self.config(with, Schema::Task, env, None, "with");
                }
                Some(Ty::Workflow(_)) => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0207,
                        with_span,
                        "`with` applies to task calls, not to workflow calls",
                        "on a workflow call",
                    )
                    .help("put the overrides on the task calls inside that workflow"),
                ),
                _ => self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0207,
                        with_span,
                        "`with` applies only to a task call",
                        "not on a call",
                    )
                    .help("remove `with { ... }`, or call a task"),
                ),
            }
        }
        let is_call = matches!(callee, Some(Ty::Task(_) | Ty::Workflow(_) | Ty::Error));
        (typed, is_call)
    }

    /// What a call's callee is, without reporting anything twice.
    pub(super) fn callee_kind(&mut self, callee: &Expr, env: &Env) -> Ty {
        let path: Vec<&str> = match &callee.kind {
            ExprKind::Name(i) => vec![i.name.as_str()],
            ExprKind::Field(base, field) => match &base.kind {
                ExprKind::Name(m) => vec![m.name.as_str(), field.name.as_str()],
                _ => return Ty::Error,
            },
            _ => return Ty::Error,
        };
        let scope = self.scopes.of(env.module);
        let def = match path.as_slice() {
            [name] => scope.and_then(|s| s.get(name)),
            [module, name] => match scope.and_then(|s| s.get(module)) {
                Some(crate::resolve::Def::Module { module, .. }) => self.scopes.of(module).and_then(|s| s.get(name)),
                _ => None,
            },
            _ => None,
        };
        match def {
            Some(crate::resolve::Def::Item(r)) => match self.item(r).map(|i| &i.kind) {
                Some(ItemKind::Task(_)) => Ty::Task(r),
                Some(ItemKind::Workflow(_)) => Ty::Workflow(r),
                _ => Ty::Nothing,
            },
            _ => Ty::Error,
        }
    }

    fn check_return(&mut self, workflow: &ast::Workflow, returned: Option<&Expr>, env: &Env, module: ModuleId) {
        let expected = workflow.output.as_ref().map(|o| self.output_type(o, module));
        match (expected, returned) {
            (Some(expected), Some(value)) => {
                let typed = match &value.kind {
                    ExprKind::Record(block) => self.record(block, env, Some(&expected), None, "return", value.span),
                    _ => self.expr(value, env, None),
                };
                if !typed.ty.assignable_to(&expected) {
                    let mut d = mismatch(value.span, &expected, &typed.ty);
                    d.code = Code::E0402;
                    d.message = format!(
                        "`{}` returns {}, but its output is {expected}",
                        workflow.name.name, typed.ty
                    );
                    self.diagnostics.push(d);
                }
            }
            (Some(expected), None) => self.diagnostics.push(
                Diagnostic::new(
                    Code::E0402,
                    workflow.name.span,
                    format!(
                        "workflow `{}` declares the output {expected} but has no `return`",
                        workflow.name.name
                    ),
                    "no `return`",
                )
                .help("end the workflow with `return VALUE`"),
            ),
            (None, Some(value)) => {
                self.expr(value, env, None);
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0402,
                        value.span,
                        format!("workflow `{}` has no output, but returns a value", workflow.name.name),
                        "returned here",
                    )
                    .help(format!(
                        "declare the output: `workflow {}(...) -> TYPE`",
                        workflow.name.name
                    )),
                );
            }
            (None, None) => {}
        }
    }

    /// E0401 for steps that wait on each other through data and `after`.
    fn step_cycles(&mut self, lets: &[&ast::Let]) {
        let index: HashMap<&str, usize> = lets
            .iter()
            .enumerate()
            .map(|(i, l)| (l.name.name.as_str(), i))
            .collect();
        let edges: Vec<Vec<usize>> = lets
            .iter()
            .map(|l| {
                let mut names = let_free_names(l);
                names.extend(l.after.iter().map(|a| a.name.clone()));
                let mut deps: Vec<usize> = names.iter().filter_map(|n| index.get(n.as_str()).copied()).collect();
                deps.sort_unstable();
                deps
            })
            .collect();
        for cycle in crate::dag::cycles(lets.len(), |n| edges.get(n).cloned().unwrap_or_default()) {
            let members: Vec<&ast::Let> = cycle.iter().filter_map(|&i| lets.get(i).copied()).collect();
            let Some(first) = members.first() else { continue };
            let chain: Vec<&str> = members
                .iter()
                .map(|l| l.name.name.as_str())
                .chain([first.name.name.as_str()])
                .collect();
            let mut diagnostic = Diagnostic::new(
                Code::E0401,
                first.name.span,
                format!("dependency cycle between steps: {}", chain.join(" → ")),
                format!("`{}` waits for itself", first.name.name),
            )
            .help("remove one of the `after` names (or data uses) that close the cycle");
            for l in members.iter().skip(1) {
                diagnostic = diagnostic.label(l.name.span, format!("`{}` is part of the cycle", l.name.name));
            }
            self.diagnostics.push(diagnostic);
        }
    }

    /// E0401 for workflows that call themselves, directly or through others; E0203 for task
    /// outputs that no workflow (nor `--storage`) gives a `storage`.
    fn workflow_calls(&mut self, storage_given: bool) {
        let program = self.program;
        let workflows: Vec<ItemRef> = program
            .modules()
            .flat_map(|(module, m)| {
                m.items().iter().enumerate().filter_map(move |(index, item)| {
                    matches!(item.kind, ItemKind::Workflow(_)).then_some(ItemRef { module, index })
                })
            })
            .collect();
        // Calls of tasks with outputs in workflows without `storage`: they need a caller's.
        let mut unstored: Vec<(usize, Span, String)> = Vec::new();
        let edges: Vec<Vec<usize>> = workflows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let Some(ItemKind::Workflow(workflow)) = self.item(*w).map(|i| &i.kind) else {
                    return Vec::new();
                };
                // A misspelt `storage` is reported as an unknown field (E0202) with the fix; it
                // counts as given, so the fix is not asked for again at every call.
                let fields = Schema::WorkflowSettings.fields().iter().map(|f| f.name);
                let means_storage =
                    |key: &str| key == "storage" || did_you_mean(key, fields.clone()) == Some("storage");
                let has_storage = storage_given
                    || workflow
                        .body
                        .iter()
                        .any(|s| matches!(s, Stmt::Setting(f) if means_storage(&f.key.name)));
                let env = Env::new(w.module, Context::Workflow);
                let mut called = Vec::new();
                for stmt in &workflow.body {
                    let Stmt::Let(l) = stmt else { continue };
                    let ExprKind::Call(callee, _) = &l.value.kind else {
                        continue;
                    };
                    match self.callee_kind(callee, &env) {
                        Ty::Workflow(target) => called.extend(workflows.iter().position(|x| *x == target)),
                        Ty::Task(task) if !has_storage => {
                            if let Some(ItemKind::Task(t)) = self.item(task).map(|i| &i.kind) {
                                if t.output.is_some() {
                                    unstored.push((i, l.value.span, t.name.name.clone()));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                called
            })
            .collect();
        let called: HashSet<usize> = edges.iter().flatten().copied().collect();
        for (workflow, span, task) in unstored {
            if called.contains(&workflow)
                || self
                    .program
                    .is_stdlib(workflows.get(workflow).map_or(ModuleId(0), |w| w.module))
            {
                continue;
            }
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0203,
                    span,
                    format!("`{task}` has outputs, but this workflow sets no `storage` for them"),
                    "outputs need storage",
                )
                .help("add `storage = \"s3://bucket/prefix\"` to the workflow"),
            );
        }
        for cycle in crate::dag::cycles(workflows.len(), |n| edges.get(n).cloned().unwrap_or_default()) {
            let names: Vec<(String, Span)> = cycle
                .iter()
                .filter_map(|&i| workflows.get(i))
                .filter_map(|r| self.item(*r).and_then(Item::name).map(|n| (n.name.clone(), n.span)))
                .collect();
            let Some((first, span)) = names.first().cloned() else {
                continue;
            };
            let chain: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).chain([first.as_str()]).collect();
            let mut diagnostic = Diagnostic::new(
                Code::E0401,
                span,
                format!("workflow `{first}` calls itself: {}", chain.join(" → ")),
                "calls itself",
            )
            .help("workflows are inlined at build time, so they cannot recurse");
            for (name, span) in names.iter().skip(1) {
                diagnostic = diagnostic.label(*span, format!("`{name}` is part of the cycle"));
            }
            self.diagnostics.push(diagnostic);
        }
    }

    fn unused_locals(&mut self, env: &Env, module: ModuleId) {
        if self.program.is_stdlib(module) {
            return;
        }
        for local in &env.locals {
            if local.used.get() || local.name.starts_with('_') {
                continue;
            }
            let what = match local.kind {
                LocalKind::Param => "parameter",
                LocalKind::Let { is_call: false } => "binding",
                LocalKind::Let { is_call: true } | LocalKind::Outputs => continue,
            };
            // Counted only for the few candidates left: for every local it was quadratic.
            let bound_twice = env.locals.iter().filter(|l| l.name == local.name).count() > 1;
            if bound_twice {
                continue;
            }
            self.diagnostics.push(
                Diagnostic::new(
                    Code::W0001,
                    local.span,
                    format!("unused {what} `{}`", local.name),
                    "never used",
                )
                .help(format!("remove it, or name it `_{}` to keep it", local.name)),
            );
        }
    }

    fn unused_imports(&mut self) {
        let program = self.program;
        for (module_id, module) in program.modules() {
            if program.is_stdlib(module_id) {
                continue;
            }
            for (index, item) in module.items().iter().enumerate() {
                let ItemKind::Import(import) = &item.kind else { continue };
                let item_ref = ItemRef {
                    module: module_id,
                    index,
                };
                let silenced = import.alias.as_ref().is_some_and(|a| a.name.starts_with('_'));
                if !module.imports.contains_key(&index) || silenced || self.used_imports.contains(&item_ref) {
                    continue;
                }
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::W0001,
                        import.path.span,
                        format!("unused import `{}`", import.path.value),
                        "never used",
                    )
                    .help("remove the import"),
                );
            }
        }
    }
}

/// Every `BASE.FIELD` of an expression whose base is a bare name (a module's item, maybe).
fn qualified_names(expr: &Expr, found: &mut impl FnMut(&str, &str)) {
    match &expr.kind {
        ExprKind::Field(base, field) => match &base.kind {
            ExprKind::Name(name) => found(&name.name, &field.name),
            _ => qualified_names(base, found),
        },
        ExprKind::List(items) => items.iter().for_each(|e| qualified_names(e, found)),
        ExprKind::Record(block) => block.fields.iter().for_each(|f| qualified_names(&f.value, found)),
        ExprKind::Unary(_, e) => qualified_names(e, found),
        ExprKind::Binary(_, a, b) => {
            qualified_names(a, found);
            qualified_names(b, found);
        }
        ExprKind::If(c, a, b) => {
            qualified_names(c, found);
            qualified_names(a, found);
            qualified_names(b, found);
        }
        ExprKind::Call(callee, args) => {
            qualified_names(callee, found);
            args.iter().for_each(|a| qualified_names(&a.value, found));
        }
        ExprKind::Refine(base, block) => {
            qualified_names(base, found);
            block.fields.iter().for_each(|f| qualified_names(&f.value, found));
        }
        ExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let ast::StrPart::Interp(e) = p {
                qualified_names(e, found);
            }
        }),
        _ => {}
    }
}

/// Names an expression mentions (over-approximated: field names of blocks are skipped).
/// The names a `let` reads: its call and overrides (less a fan-out's element name) and the
/// list a fan-out goes over.
pub(super) fn let_free_names(l: &ast::Let) -> HashSet<String> {
    let mut names = HashSet::new();
    free_names(&l.value, &mut names);
    if let Some(with) = &l.with {
        with.fields.iter().for_each(|f| free_names(&f.value, &mut names));
    }
    if let Some(fan_out) = &l.fan_out {
        names.remove(&fan_out.var.name);
        free_names(&fan_out.list, &mut names);
    }
    names
}

pub(super) fn free_names(expr: &Expr, names: &mut HashSet<String>) {
    match &expr.kind {
        ExprKind::Name(i) => {
            names.insert(i.name.clone());
        }
        ExprKind::Field(base, _) => free_names(base, names),
        ExprKind::List(items) => items.iter().for_each(|e| free_names(e, names)),
        ExprKind::Record(block) => block.fields.iter().for_each(|f| free_names(&f.value, names)),
        ExprKind::Unary(_, e) => free_names(e, names),
        ExprKind::Binary(_, a, b) => {
            free_names(a, names);
            free_names(b, names);
        }
        ExprKind::If(c, a, b) => {
            free_names(c, names);
            free_names(a, names);
            free_names(b, names);
        }
        ExprKind::Call(callee, args) => {
            free_names(callee, names);
            args.iter().for_each(|a| free_names(&a.value, names));
        }
        ExprKind::Refine(base, block) => {
            free_names(base, names);
            block.fields.iter().for_each(|f| free_names(&f.value, names));
        }
        ExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let ast::StrPart::Interp(e) = p {
                free_names(e, names);
            }
        }),
        _ => {}
    }
}
