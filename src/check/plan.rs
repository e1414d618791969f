//! Instantiation: every workflow inlined into task-call nodes, each task's fields evaluated
//! with its call's arguments and merged with its override (language reference §3.5, §6.3, §7,
//! §8, §9). Values that depend on run-time inputs stay deferred expressions.

use super::expr::quoted_list;
use super::items::let_free_names;
use super::{Checker, Context, Env, LocalKind, Typed};
use crate::ast::{self, ExprKind, ItemKind, OutputDecl, Param, Stmt};
use crate::diagnostics::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::load::{ModuleId, Program};
use crate::names::normalise;
use crate::plan::{BuildOptions, InputBinding, InputSource, Node, Plan, PlanOutput, PlanParam, WorkflowPlan};
use crate::quantity::{classify_number, NumberLit};
use crate::source::Span;
use crate::types::{ItemRef, Schema, Ty};
use crate::value::{Entry, Sym, Value, ValueKind};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// At most this many nodes (task calls, workflows inlined) in one build (E0608): a workflow that
/// calls another twice, which calls another twice, doubles them at each level.
pub const MAX_NODES: u64 = 500_000;

/// At most this many workflows nested in one another's calls (E0609). `rwfc check` plans every
/// workflow, each with the ones it calls inlined, so a chain of N workflows each calling the
/// previous one took N²/2 inlinings, with node names growing at each level; bounding the depth
/// makes it linear. No workflow that can run comes near it.
pub const MAX_WORKFLOW_DEPTH: u32 = 64;

/// What the command line asks to build; `rwfc check` plans everything instead.
pub enum Targets<'o> {
    Check,
    Build(&'o BuildOptions),
}

/// A build the command line cannot satisfy (exit 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

/// The workflow being built, shared by everything inlined into it.
struct Build<'o> {
    workflow: String,
    run_id: Option<String>,
    storage: Option<&'o str>,
    storage_first: bool,
    called: &'o mut HashSet<ItemRef>,
    nodes: Vec<Node>,
    /// Each node's `let` name, for E0102 on collisions.
    taken: HashMap<String, Span>,
    /// Workflows being inlined, outermost first: a repeat is recursion (E0401, reported by the
    /// checker) and is not followed.
    inlining: Vec<ItemRef>,
}

impl<'o> Build<'o> {
    fn new(
        workflow: String,
        run_id: Option<String>,
        options: &'o BuildOptions,
        called: &'o mut HashSet<ItemRef>,
    ) -> Self {
        Build {
            workflow,
            run_id,
            storage: options.storage.as_deref(),
            storage_first: options.storage_first,
            called,
            nodes: Vec::new(),
            taken: HashMap::new(),
            inlining: Vec::new(),
        }
    }
}

/// The most elements one fan-out may have (E0605).
const MAX_FAN_OUT: usize = 10_000;

/// What a step of a workflow body sees: names, the steps bound so far, the settings in force.
#[derive(Clone, Copy)]
struct Scope<'s> {
    env: &'s Env,
    bound: &'s HashMap<String, Bound>,
    settings: &'s Value,
}

/// How deep a workflow's calls nest, and the call (its callee and span) in it or below that
/// passes [`MAX_WORKFLOW_DEPTH`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Depth {
    depth: u32,
    too_deep: Option<(ItemRef, Span)>,
}

/// A binding of a workflow body: its value and the nodes it stands for.
struct Bound {
    nodes: Vec<usize>,
    /// The node whose outputs this binding holds, for input bindings.
    call: Option<String>,
}

impl Checker<'_> {
    pub(super) fn plan(&mut self, targets: Targets<'_>) -> Result<Plan, UsageError> {
        let mut called = HashSet::new();
        let sources = OnceLock::new();
        let mut plan = Plan::default();
        match targets {
            Targets::Check => {
                let defaults = BuildOptions::default();
                let program: &Program = self.program;
                let user_items: Vec<(ItemRef, bool)> = program
                    .modules()
                    .filter(|(id, _)| !program.is_stdlib(*id))
                    .flat_map(|(module, m)| {
                        m.items()
                            .iter()
                            .enumerate()
                            .filter_map(move |(index, item)| match item.kind {
                                ItemKind::Workflow(_) => Some((ItemRef { module, index }, true)),
                                ItemKind::Task(_) => Some((ItemRef { module, index }, false)),
                                _ => None,
                            })
                    })
                    .collect();
                let workflows: Vec<ItemRef> = user_items
                    .iter()
                    .filter(|(_, is_workflow)| *is_workflow)
                    .map(|(item, _)| *item)
                    .collect();
                // The workflows of the main file are built into one output directory together;
                // those of imported files are checked on their own.
                let (root, imported): (Vec<ItemRef>, Vec<ItemRef>) =
                    workflows.iter().partition(|item| item.module == Program::ROOT);
                for group in [root, imported] {
                    let planned = self.plan_all(&group, &mut called, |checker, item, called| {
                        checker.plan_workflow(item, &defaults, called, &sources)
                    });
                    if group.first().is_some_and(|item| item.module == Program::ROOT) {
                        self.workflow_name_collisions(&planned);
                    }
                    plan.workflows.extend(planned);
                }
                let uncalled: Vec<ItemRef> = user_items
                    .iter()
                    .filter(|(item, is_workflow)| !*is_workflow && !called.contains(item))
                    .map(|(item, _)| *item)
                    .collect();
                plan.workflows
                    .extend(self.plan_all(&uncalled, &mut called, |checker, item, called| {
                        checker.plan_task(item, &defaults, called, &sources)
                    }));
            }
            Targets::Build(options) => {
                let main = Program::ROOT;
                let items: Vec<(ItemRef, &ast::Item)> = self
                    .program
                    .module(main)
                    .map(|m| {
                        m.items()
                            .iter()
                            .enumerate()
                            .map(|(index, item)| (ItemRef { module: main, index }, item))
                            .collect()
                    })
                    .unwrap_or_default();
                let named = |kind: &str, wanted: &str| -> Result<ItemRef, UsageError> {
                    let candidates: Vec<&str> = items
                        .iter()
                        .filter(|(_, i)| i.kind_name() == kind)
                        .filter_map(|(_, i)| i.name().map(|n| n.name.as_str()))
                        .collect();
                    items
                        .iter()
                        .find(|(_, i)| i.kind_name() == kind && i.name().is_some_and(|n| n.name == wanted))
                        .map(|(r, _)| *r)
                        .ok_or_else(|| {
                            let hint = match did_you_mean(wanted, candidates.iter().copied()) {
                                Some(best) => format!("; did you mean `{best}`?"),
                                None if candidates.is_empty() => format!("; the file has no {kind}"),
                                None => format!("; its {kind}s are {}", quoted_list(&candidates)),
                            };
                            UsageError(format!("no {kind} `{wanted}` in the file{hint}"))
                        })
                };
                if let Some(task) = &options.task {
                    let item = named("task", task)?;
                    plan.workflows
                        .extend(self.plan_task(item, options, &mut called, &sources));
                } else {
                    let selected: Vec<ItemRef> = match &options.workflow {
                        Some(name) => vec![named("workflow", name)?],
                        None => items
                            .iter()
                            .filter(|(_, i)| matches!(i.kind, ItemKind::Workflow(_)))
                            .map(|(r, _)| *r)
                            .collect(),
                    };
                    if selected.is_empty() {
                        return Err(UsageError(
                            "nothing to build: the file has no workflow; name a task with `--task NAME`".into(),
                        ));
                    }
                    plan.workflows
                        .extend(self.plan_all(&selected, &mut called, |checker, item, called| {
                            checker.plan_workflow(item, options, called, &sources)
                        }));
                }
                self.workflow_name_collisions(&plan.workflows);
            }
        }
        Ok(plan)
    }

    /// `plan_one` of every item, on every core, adding the tasks they call to `called`.
    fn plan_all(
        &mut self,
        items: &[ItemRef],
        called: &mut HashSet<ItemRef>,
        plan_one: impl Fn(&mut Checker<'_>, ItemRef, &mut HashSet<ItemRef>) -> Option<WorkflowPlan> + Sync,
    ) -> Vec<WorkflowPlan> {
        let planned = self.in_parallel(items, |checker, item| {
            let mut item_called = HashSet::new();
            let plan = plan_one(checker, *item, &mut item_called);
            (plan, item_called)
        });
        planned
            .into_iter()
            .filter_map(|(plan, item_called)| {
                called.extend(item_called);
                plan
            })
            .collect()
    }

    /// The DNS-1035 name of a workflow, task or step in the output: it names files and
    /// directories, so one that would be empty or start with a digit is E0505.
    fn output_name(&mut self, ident: &ast::Ident, what: &str) -> String {
        let name = normalise(&ident.name);
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0505,
                    ident.span,
                    format!("the {what} name `{}` gives no valid Kubernetes name", ident.name),
                    if name.is_empty() { "empty once normalised".to_owned() } else { format!("becomes `{name}`") },
                )
                .help("names in the output are lower-cased, `_` becomes `-`, and they must start with a letter; rename it"),
            );
            return format!("x{}", name);
        }
        name
    }

    /// E0102 for workflows whose output directories would be the same.
    fn workflow_name_collisions(&mut self, workflows: &[WorkflowPlan]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for workflow in workflows {
            if let Some(first) = seen.insert(&workflow.name, workflow.span) {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        workflow.span,
                        format!("two workflows are both named `{}` in the output", workflow.name),
                        "same name once normalised",
                    )
                    .label(first, "this one has the same name")
                    .help("names are lower-cased and `_` becomes `-`; rename one of them"),
                );
            }
        }
    }

    /// The values of parameters: `--set`, else the default, else a run-time input.
    fn bind_inputs(
        &mut self,
        params: &[Param],
        module: ModuleId,
        sets: &[(String, String)],
    ) -> Vec<(PlanParam, Typed)> {
        for (name, _) in sets {
            if !params.iter().any(|p| p.name.name == *name) {
                let mut d = Diagnostic::without_span(Code::E0205, format!("`--set {name}` names no parameter"));
                d = d.suggest(name, params.iter().map(|p| p.name.name.as_str()));
                if d.help.is_none() {
                    let names: Vec<&str> = params.iter().map(|p| p.name.name.as_str()).collect();
                    d = d.help(if names.is_empty() {
                        "this has no parameters".to_owned()
                    } else {
                        format!("the parameters are {}", quoted_list(&names))
                    });
                }
                self.diagnostics.push(d);
            }
        }
        params
            .iter()
            .map(|param| {
                let ty = self.type_of(&param.ty, module);
                let default = param
                    .default
                    .as_ref()
                    .map(|d| self.expr(d, &Env::new(module, Context::Const), Some(&ty)).value);
                let set = sets.iter().rev().find(|(n, _)| *n == param.name.name);
                let bound = match set {
                    Some((name, text)) => self.set_value(name, text, &ty, module, param.name.span),
                    None => default.clone(),
                };
                let value = match (&bound, set) {
                    (Some(value), _) => value.clone(),
                    // A refused `--set` value (E0201) is an error, not a run-time input that
                    // later fields would be reported for.
                    (None, Some(_)) => Value::new(ValueKind::Unknown, param.name.span),
                    (None, None) => Value::new(
                        ValueKind::Deferred(Box::new(Sym::Param(param.name.name.clone()))),
                        param.name.span,
                    ),
                };
                let plan_param = PlanParam {
                    name: param.name.name.clone(),
                    ty: ty.to_string(),
                    default,
                    bound,
                };
                (plan_param, Typed::with_value(ty, value))
            })
            .collect()
    }

    /// A `--set` value: verbatim for `str`, `file` and `dir`, else a literal of the type.
    fn set_value(&mut self, name: &str, text: &str, ty: &Ty, module: ModuleId, span: Span) -> Option<Value> {
        let kind = match ty {
            Ty::Str | Ty::File | Ty::Dir => Some(ValueKind::Str(text.to_owned())),
            Ty::Bool => match text {
                "true" => Some(ValueKind::Bool(true)),
                "false" => Some(ValueKind::Bool(false)),
                _ => None,
            },
            Ty::Int | Ty::Float | Ty::Quantity | Ty::Duration => {
                let (negative, digits) = match text.strip_prefix('-') {
                    Some(rest) => (true, rest),
                    None => (false, text),
                };
                let literal = match classify_number(digits) {
                    Ok(NumberLit::Int(n)) => Some((Ty::Int, ValueKind::Int(n))),
                    Ok(NumberLit::Float(x)) => Some((Ty::Float, ValueKind::Float(x))),
                    Ok(NumberLit::Quantity(q)) => Some((Ty::Quantity, ValueKind::Quantity(q))),
                    Ok(NumberLit::Duration(d)) => Some((Ty::Duration, ValueKind::Duration(d))),
                    Err(_) => None,
                };
                literal
                    .filter(|(found, _)| found.assignable_to(ty))
                    .and_then(|(_, kind)| {
                        let kind = super::builtins::coerce_number(&kind, ty);
                        if !negative {
                            return Some(kind);
                        }
                        match kind {
                            ValueKind::Int(n) => n.checked_neg().map(ValueKind::Int),
                            ValueKind::Float(x) => Some(ValueKind::Float(-x)),
                            ValueKind::Quantity(q) => q.checked_mul(-1).map(ValueKind::Quantity),
                            ValueKind::Duration(d) => d.checked_mul(-1).map(ValueKind::Duration),
                            _ => None,
                        }
                    })
            }
            _ => {
                return match self.set_literal(text, ty, module, span) {
                    Ok(value) => Some(value),
                    Err(reason) => {
                        self.diagnostics.push(
                            Diagnostic::without_span(
                                Code::E0201,
                                format!("`--set {name}={text}` is not a value of type {ty}"),
                            )
                            .help(format!("{reason}; give `{name}` an rwf literal of type {ty}")),
                        );
                        None
                    }
                };
            }
        };
        if kind.is_none() {
            self.diagnostics.push(
                Diagnostic::without_span(
                    Code::E0201,
                    format!("`--set {name}={text}` is not a value of type {ty}"),
                )
                .help(
                    match ty {
                        Ty::Duration => crate::quantity::milli_for_minutes_help(text),
                        _ => None,
                    }
                    .unwrap_or_else(|| format!("give `{name}` a literal of type {ty}")),
                ),
            );
        }
        kind.map(|k| Value::new(k, span))
    }

    /// A `--set` value of a list, map or record type, read as an rwf literal and checked as a
    /// constant of the type would be; why not, when it is not one. Its spans are the
    /// parameter's, as the text has no file.
    fn set_literal(&mut self, text: &str, ty: &Ty, module: ModuleId, span: Span) -> Result<Value, String> {
        let expr = crate::syntax::parse_value(self.program.sources.next_id(), text)?;
        if let Some(part) = not_literal(&expr) {
            let part = text.get(part.start as usize..part.end as usize).unwrap_or(text);
            return Err(format!("`{part}` is not a literal (strings are quoted)"));
        }
        let mut found = Diagnostics::new();
        let typed = Checker::new(self.program, self.scopes, &mut found).expr(
            &expr,
            &Env::new(module, Context::Const),
            Some(ty),
        );
        if let Some(problem) = found.into_iter().next() {
            return Err(problem.message);
        }
        if !typed.ty.assignable_to(ty) {
            return Err(format!("it is {}", typed.ty));
        }
        Ok(respanned(typed.value, span))
    }

    /// The SHA-256 of the loaded files and the bindings. The files' part is hashed once per
    /// build (`sources`) and shared by every workflow: hashing them again per workflow made a
    /// build quadratic in the size of the program.
    fn run_id(
        &mut self,
        options: &BuildOptions,
        params: &[(PlanParam, Typed)],
        sources: &OnceLock<Sha256>,
    ) -> Option<String> {
        if let Some(id) = &options.run_id {
            if id.is_empty() || !crate::names::is_label_value(id) {
                self.diagnostics.push(
                    Diagnostic::without_span(Code::E0505, format!("`--run-id {id}` is not a valid label value"))
                        .help("run ids are labels: at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit"),
                );
                // Reported once: what would carry the id waits for a valid one instead.
                return None;
            }
            return Some(id.clone());
        }
        // On Argo the run is the Argo workflow's: its name, known when it is submitted.
        if options.target == crate::plan::Target::Argo {
            return None;
        }
        if params.iter().any(|(p, _)| p.bound.is_none()) {
            return None;
        }
        let mut hasher = sources
            .get_or_init(|| {
                let mut files: Vec<(&str, &str)> = self
                    .program
                    .sources
                    .files()
                    .map(|(_, f)| (f.name(), &*f.text))
                    .collect();
                files.sort_unstable();
                let mut hasher = Sha256::new();
                for (name, text) in files {
                    hasher.update(name);
                    hasher.update("\0");
                    hasher.update(text);
                    hasher.update("\0");
                }
                hasher
            })
            .clone();
        let mut bindings: Vec<String> = params
            .iter()
            .map(|(p, t)| format!("{}={}", p.name, super::to_text(&t.value.kind).unwrap_or_default()))
            .collect();
        bindings.sort_unstable();
        hasher.update(bindings.join("\n"));
        let hex: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Some(hex.chars().take(12).collect())
    }

    fn plan_workflow(
        &mut self,
        item: ItemRef,
        options: &BuildOptions,
        called: &mut HashSet<ItemRef>,
        sources: &OnceLock<Sha256>,
    ) -> Option<WorkflowPlan> {
        let ast_item = self.item(item)?;
        let ItemKind::Workflow(workflow) = &ast_item.kind else {
            return None;
        };
        if self.node_count(item) > MAX_NODES {
            self.too_many_nodes(item, workflow);
            return None;
        }
        let params = self.bind_inputs(&workflow.params, item.module, &options.sets);
        let run_id = self.run_id(options, &params, sources);
        let name = self.output_name(&workflow.name, "workflow");
        let mut build = Build::new(name, run_id, options, called);
        let args: Vec<(String, Typed)> = params.iter().map(|(p, t)| (p.name.clone(), t.clone())).collect();
        let inherited = Value::new(ValueKind::Record(Vec::new()), workflow.name.span);
        let returned = self.inline(item, "", &args, &inherited, &mut build);
        let outputs = match (&workflow.output, returned) {
            (Some(OutputDecl::Record(fields, _)), Some(value)) => fields
                .iter()
                .map(|f| PlanOutput {
                    name: f.name.name.clone(),
                    ty: self.type_of(&f.ty, item.module).to_string(),
                    value: value.get(&f.name.name).cloned().unwrap_or_else(|| unknown(f.name.span)),
                })
                .collect(),
            (Some(OutputDecl::Single(ty)), Some(value)) => vec![PlanOutput {
                name: "result".into(),
                ty: self.type_of(ty, item.module).to_string(),
                value,
            }],
            _ => Vec::new(),
        };
        Some(WorkflowPlan {
            name: build.workflow,
            single_task: false,
            description: ast_item.doc.clone(),
            span: workflow.name.span,
            params: params.into_iter().map(|(p, _)| p).collect(),
            outputs,
            run_id: build.run_id,
            nodes: topological(build.nodes),
        })
    }

    /// `--task NAME` (or a task no workflow calls, under `rwfc check`): one node named after it.
    fn plan_task(
        &mut self,
        item: ItemRef,
        options: &BuildOptions,
        called: &mut HashSet<ItemRef>,
        sources: &OnceLock<Sha256>,
    ) -> Option<WorkflowPlan> {
        let ast_item = self.item(item)?;
        let ItemKind::Task(task) = &ast_item.kind else {
            return None;
        };
        let params = self.bind_inputs(&task.params, item.module, &options.sets);
        if options.task.is_some() {
            let missing: Vec<&str> = params
                .iter()
                .filter(|(p, _)| p.bound.is_none())
                .map(|(p, _)| p.name.as_str())
                .collect();
            if let Some(first) = missing.first() {
                self.diagnostics.push(
                    Diagnostic::without_span(
                        Code::E0204,
                        format!(
                            "`--task {}` needs a value for {}",
                            task.name.name,
                            quoted_list(&missing)
                        ),
                    )
                    .help(format!("add `--set {first}=VALUE`")),
                );
            }
        }
        let name = self.output_name(&task.name, "task");
        let run_id = self.run_id(options, &params, sources);
        let mut build = Build::new(name.clone(), run_id, options, called);
        let args: Vec<(String, Typed)> = params.iter().map(|(p, t)| (p.name.clone(), t.clone())).collect();
        let settings = Value::new(ValueKind::Record(Vec::new()), task.name.span);
        let inputs = params
            .iter()
            .map(|(p, t)| InputBinding {
                param: p.name.clone(),
                source: match t.value.kind {
                    ValueKind::Deferred(_) => InputSource::Parameter(p.name.clone()),
                    _ => InputSource::Constant(t.value.clone()),
                },
            })
            .collect();
        let call = Call {
            task: item,
            node: name,
            name_span: task.name.span,
            call_span: task.name.span,
            args,
            inputs,
            settings: &settings,
            with: None,
            env: None,
        };
        self.instantiate(call, &mut build);
        Some(WorkflowPlan {
            name: build.workflow,
            single_task: true,
            description: ast_item.doc.clone(),
            span: task.name.span,
            params: params.into_iter().map(|(p, _)| p).collect(),
            outputs: Vec::new(),
            run_id: build.run_id,
            nodes: build.nodes,
        })
    }

    /// Inlines one workflow body into `build`, its node names prefixed; returns its `return`
    /// value.
    fn inline(
        &mut self,
        item: ItemRef,
        prefix: &str,
        args: &[(String, Typed)],
        inherited: &Value,
        build: &mut Build<'_>,
    ) -> Option<Value> {
        let ast_item = self.item(item)?;
        let ItemKind::Workflow(workflow) = &ast_item.kind else {
            return None;
        };
        if build.inlining.contains(&item) {
            return None;
        }
        build.inlining.push(item);
        let returned = self.inline_body(item, workflow, prefix, args, inherited, build);
        build.inlining.pop();
        returned
    }

    fn inline_body(
        &mut self,
        item: ItemRef,
        workflow: &ast::Workflow,
        prefix: &str,
        args: &[(String, Typed)],
        inherited: &Value,
        build: &mut Build<'_>,
    ) -> Option<Value> {
        let body_start = build.nodes.len();
        let mut env = Env::new(item.module, Context::Workflow);
        for param in &workflow.params {
            let typed = match args.iter().find(|(n, _)| *n == param.name.name) {
                Some((_, typed)) => typed.clone(),
                None => {
                    let ty = self.type_of(&param.ty, item.module);
                    match &param.default {
                        Some(d) => self.expr(d, &Env::new(item.module, Context::Const), Some(&ty)),
                        None => Typed::error(param.name.span),
                    }
                }
            };
            env.bind(&param.name.name, typed, param.name.span, LocalKind::Param);
        }
        let own_settings = self.config(&workflow.settings(), Schema::WorkflowSettings, &env, None, "workflow");
        let settings = merge_settings(inherited, &own_settings);
        for stmt in &workflow.body {
            if let Stmt::Let(l) = stmt {
                env.later.insert(l.name.name.clone());
            }
        }
        let mut bound: HashMap<String, Bound> = HashMap::new();
        let mut waits: Vec<(Vec<usize>, &[ast::Ident])> = Vec::new();
        for stmt in &workflow.body {
            let Stmt::Let(l) = stmt else { continue };
            let names = let_free_names(l);
            let mut upstream: Vec<usize> = names
                .iter()
                .filter_map(|n| bound.get(n))
                .flat_map(|b| b.nodes.iter().copied())
                .collect();
            upstream.sort_unstable();
            upstream.dedup();
            let first_node = build.nodes.len();
            let scope = Scope {
                env: &env,
                bound: &bound,
                settings: &settings,
            };
            let (typed, call) = match &l.fan_out {
                None => self.step(l, &format!("{prefix}{}", l.name.name), &scope, build),
                Some(fan_out) => (self.fan_out(l, fan_out, prefix, &scope, build), None),
            };
            let created: Vec<usize> = (first_node..build.nodes.len()).collect();
            // Inside an inlined workflow only its first steps wait for the caller's inputs; the
            // others wait for those.
            for index in &created {
                if let Some(node) = build.nodes.get_mut(*index) {
                    if node.dependencies.iter().all(|d| *d < first_node) {
                        node.dependencies.extend(upstream.iter().copied());
                    }
                }
            }
            if !l.after.is_empty() {
                waits.push((created.clone(), &l.after));
            }
            let nodes = if created.is_empty() { upstream } else { created };
            env.bind(
                &l.name.name,
                typed,
                l.name.span,
                LocalKind::Let {
                    is_call: call.is_some(),
                },
            );
            bound.insert(l.name.name.clone(), Bound { nodes, call });
        }
        for (waiting, after) in waits {
            let awaited: Vec<usize> = after
                .iter()
                .filter_map(|a| bound.get(&a.name))
                .flat_map(|b| b.nodes.iter().copied())
                .collect();
            for index in waiting {
                if let Some(node) = build.nodes.get_mut(index) {
                    node.dependencies
                        .extend(awaited.iter().copied().filter(|&d| d != index));
                }
            }
        }
        // Only this body's nodes changed: sorting every node of the build at each inlined body
        // was quadratic.
        for node in build.nodes.iter_mut().skip(body_start) {
            node.dependencies.sort_unstable();
            node.dependencies.dedup();
        }
        let returned = workflow.body.iter().find_map(|s| match s {
            Stmt::Return(e) => Some(e),
            _ => None,
        })?;
        let expected = workflow.output.as_ref().map(|o| self.output_type(o, item.module));
        let typed = match (&returned.kind, &expected) {
            (ExprKind::Record(block), Some(ty)) => self.record(block, &env, Some(ty), None, "return", returned.span),
            _ => self.expr(returned, &env, None),
        };
        Some(typed.value)
    }

    /// One call of a `let` as the node (or, for a workflow, the prefix of the nodes) `node`;
    /// any other value is evaluated. Its value, and the node when it is a task call.
    fn step(&mut self, l: &ast::Let, node: &str, scope: &Scope<'_>, build: &mut Build<'_>) -> (Typed, Option<String>) {
        let callee = match &l.value.kind {
            ExprKind::Call(callee, call_args) => Some((self.callee_kind(callee, scope.env), call_args)),
            _ => None,
        };
        match callee {
            Some((Ty::Task(task), call_args)) => {
                let node = self.output_name(
                    &ast::Ident {
                        name: node.to_owned(),
                        span: l.name.span,
                    },
                    "step",
                );
                let (args, inputs) = self.call_inputs(task, call_args, scope.env, scope.bound);
                let call = Call {
                    task,
                    node: node.clone(),
                    name_span: l.name.span,
                    call_span: l.value.span,
                    args,
                    inputs,
                    settings: scope.settings,
                    with: l.with.as_ref(),
                    env: Some(scope.env),
                };
                (self.instantiate(call, build), Some(node))
            }
            Some((Ty::Workflow(inner), call_args)) => {
                if self.call_depth(inner).depth >= MAX_WORKFLOW_DEPTH {
                    self.too_deep(inner, l.value.span);
                    return (Typed::error(l.value.span), None);
                }
                let (args, _) = self.call_inputs(inner, call_args, scope.env, scope.bound);
                let returned = self.inline(inner, &format!("{node}-"), &args, scope.settings, build);
                let ty = self.workflow_output_type(inner);
                let value = returned.unwrap_or_else(|| unknown(l.value.span));
                (Typed::with_value(ty, value), None)
            }
            _ => (self.expr(&l.value, scope.env, None), None),
        }
    }

    /// `let NAME = for X in LIST { CALL }` (§3.6): one call per element of a list known at build
    /// time, as the nodes `NAME-<index>`; its value is the list of the calls' values.
    fn fan_out(
        &mut self,
        l: &ast::Let,
        fan_out: &ast::FanOut,
        prefix: &str,
        scope: &Scope<'_>,
        build: &mut Build<'_>,
    ) -> Typed {
        let list = self.expr(&fan_out.list, scope.env, None);
        let element_ty = match &list.ty {
            Ty::List(element) => (**element).clone(),
            _ => Ty::Error,
        };
        let items = match &list.value.kind {
            ValueKind::List(items) => items.clone(),
            ValueKind::Deferred(sym) => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0517,
                        fan_out.list.span,
                        format!("the list of a fan-out must be known at build time, but it depends on `{}`", sym.display()),
                        "known only at run time",
                    )
                    .help("the number of nodes is fixed when the workflow is built: give the list with `--set`, a default or a constant"),
                );
                return Typed::error(l.value.span);
            }
            _ => return Typed::error(l.value.span),
        };
        if items.len() > MAX_FAN_OUT {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0605,
                    fan_out.list.span,
                    format!(
                        "this fan-out has {} elements, more than the limit of {MAX_FAN_OUT}",
                        items.len()
                    ),
                    "too many elements",
                )
                .help("split the list over several workflows, or batch elements into one call each"),
            );
            return Typed::error(l.value.span);
        }
        // The nodes are counted before they are built: a fan-out's elements are known only now.
        let per_element = self.let_node_count(l, scope.env);
        let total = (items.len() as u64)
            .saturating_mul(per_element)
            .saturating_add(build.nodes.len() as u64);
        if total > MAX_NODES {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::E0608,
                    fan_out.list.span,
                    format!("this fan-out takes the build to {total} nodes, more than the limit of {MAX_NODES}"),
                    format!("{} elements of {per_element} nodes each", items.len()),
                )
                .help("each node is a Ray cluster of its own; do small pieces of work as Ray tasks inside one job"),
            );
            return Typed::error(l.value.span);
        }
        let mut env = scope.env.clone();
        let mut values = Vec::with_capacity(items.len());
        let mut output_ty = Ty::Error;
        for (index, item) in items.into_iter().enumerate() {
            env.bind(
                &fan_out.var.name,
                Typed::with_value(element_ty.clone(), item),
                fan_out.var.span,
                LocalKind::Param,
            );
            let element_scope = Scope { env: &env, ..*scope };
            let node = format!("{prefix}{}-{index}", l.name.name);
            let (typed, _) = self.step(l, &node, &element_scope, build);
            output_ty = typed.ty;
            values.push(typed.value);
        }
        let value = Value::new(ValueKind::List(values), l.value.span);
        Typed::with_value(Ty::List(Box::new(output_ty)), value)
    }

    /// The nodes one `let` creates, counted from its call (a fan-out's elements are counted
    /// once here; `fan_out` counts them all when it knows the list).
    fn let_node_count(&mut self, l: &ast::Let, env: &Env) -> u64 {
        let ExprKind::Call(callee, _) = &l.value.kind else {
            return 0;
        };
        match self.callee_kind(callee, env) {
            Ty::Task(_) => 1,
            Ty::Workflow(inner) => self.node_count(inner),
            _ => 0,
        }
    }

    /// E0608 on the call of `workflow`'s body that takes its build past the limit.
    fn too_many_nodes(&mut self, item: ItemRef, workflow: &ast::Workflow) {
        let env = Env::new(item.module, Context::Workflow);
        let mut count: u64 = 0;
        for stmt in &workflow.body {
            let Stmt::Let(l) = stmt else { continue };
            count = count.saturating_add(self.let_node_count(l, &env));
            if count > MAX_NODES {
                let total = self.node_count(item);
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0608,
                        l.value.span,
                        format!(
                            "building `{}` would create {total} nodes, more than the limit of {MAX_NODES}",
                            workflow.name.name
                        ),
                        format!("{count} nodes with this call"),
                    )
                    .help("each node is a Ray cluster of its own; do small pieces of work as Ray tasks inside one job"),
                );
                return;
            }
        }
    }

    /// How many workflows deep `item`'s calls nest, itself counted (memoized; a workflow that
    /// calls itself, E0401, counts its own calls once), and the call in it that passes the
    /// limit, if one does.
    fn call_depth(&mut self, item: ItemRef) -> Depth {
        if let Some(&depth) = self.call_depths.get(&item) {
            return depth;
        }
        let mut depth = Depth {
            depth: 1,
            too_deep: None,
        };
        // Marks the workflow while it is measured, so recursion ends.
        self.call_depths.insert(item, depth);
        let Some(ItemKind::Workflow(workflow)) = self.item(item).map(|i| &i.kind) else {
            return depth;
        };
        let env = Env::new(item.module, Context::Workflow);
        for stmt in &workflow.body {
            let Stmt::Let(l) = stmt else { continue };
            let ExprKind::Call(callee, _) = &l.value.kind else {
                continue;
            };
            let Ty::Workflow(inner) = self.callee_kind(callee, &env) else {
                continue;
            };
            let called = self.call_depth(inner);
            if called.depth >= depth.depth {
                depth.depth = called.depth.saturating_add(1);
                depth.too_deep = match called.too_deep {
                    None if called.depth == MAX_WORKFLOW_DEPTH => Some((inner, l.value.span)),
                    passed => passed,
                };
            }
        }
        self.call_depths.insert(item, depth);
        depth
    }

    /// E0609 on the call that nests workflows past the limit, reached from a call of `inner` at
    /// `span` (it is that call, or one in a workflow `inner` calls): reported once however many
    /// workflows reach it.
    fn too_deep(&mut self, inner: ItemRef, span: Span) {
        let (callee, span) = self.call_depth(inner).too_deep.unwrap_or((inner, span));
        let name = match self.item(callee).map(|i| &i.kind) {
            Some(ItemKind::Workflow(workflow)) => workflow.name.name.clone(),
            _ => return,
        };
        self.diagnostics.push(
            Diagnostic::new(
                Code::E0609,
                span,
                format!("workflow calls nested more than {MAX_WORKFLOW_DEPTH} deep"),
                format!("`{name}` already nests {MAX_WORKFLOW_DEPTH} workflows"),
            )
            .help("each workflow called is inlined into its caller's build; call the tasks of inner workflows from fewer levels"),
        );
    }

    /// The nodes inlining `item` creates, counted from its calls before any is built (memoized;
    /// saturating, and a workflow that calls itself counts its own calls once).
    fn node_count(&mut self, item: ItemRef) -> u64 {
        if let Some(&count) = self.node_counts.get(&item) {
            return count;
        }
        // Marks the workflow while it is counted, so recursion (E0401) ends.
        self.node_counts.insert(item, 0);
        let Some(ItemKind::Workflow(workflow)) = self.item(item).map(|i| &i.kind) else {
            return 0;
        };
        let env = Env::new(item.module, Context::Workflow);
        let mut count: u64 = 0;
        for stmt in &workflow.body {
            let Stmt::Let(l) = stmt else { continue };
            count = count.saturating_add(self.let_node_count(l, &env));
        }
        self.node_counts.insert(item, count);
        count
    }

    fn workflow_output_type(&mut self, item: ItemRef) -> Ty {
        match self.item(item).map(|i| &i.kind) {
            Some(ItemKind::Workflow(w)) => match &w.output {
                Some(output) => self.output_type(output, item.module),
                None => Ty::Nothing,
            },
            _ => Ty::Error,
        }
    }

    /// The arguments of a call evaluated in the caller's scope, and where each comes from.
    fn call_inputs(
        &mut self,
        callee: ItemRef,
        call_args: &[ast::Arg],
        env: &Env,
        bound: &HashMap<String, Bound>,
    ) -> (Vec<(String, Typed)>, Vec<InputBinding>) {
        let params: Vec<Param> = match self.item(callee).map(|i| &i.kind) {
            Some(ItemKind::Task(t)) => t.params.clone(),
            Some(ItemKind::Workflow(w)) => w.params.clone(),
            _ => Vec::new(),
        };
        let mut args = Vec::new();
        let mut inputs = Vec::new();
        for param in &params {
            let ty = self.type_of(&param.ty, callee.module);
            let given = call_args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == param.name.name));
            let typed = match (given, &param.default) {
                (Some(arg), _) => self.expr(&arg.value, env, Some(&ty)),
                (None, Some(default)) => self.expr(default, &Env::new(callee.module, Context::Const), Some(&ty)),
                (None, None) => Typed::error(param.name.span),
            };
            let source = match (given.map(|a| &a.value.kind), &typed.value.kind) {
                (Some(ExprKind::Name(n)), _) if bound.get(&n.name).is_some_and(|b| b.call.is_some()) => {
                    InputSource::Output {
                        node: bound.get(&n.name).and_then(|b| b.call.clone()).unwrap_or_default(),
                        name: "result".into(),
                    }
                }
                (Some(ExprKind::Field(base, field)), _) if matches!(&base.kind, ExprKind::Name(n) if bound.get(&n.name).is_some_and(|b| b.call.is_some())) =>
                {
                    let node = match &base.kind {
                        ExprKind::Name(n) => bound.get(&n.name).and_then(|b| b.call.clone()).unwrap_or_default(),
                        _ => String::new(),
                    };
                    InputSource::Output {
                        node,
                        name: field.name.clone(),
                    }
                }
                (Some(ExprKind::Name(n)), _)
                    if env
                        .locals
                        .iter()
                        .any(|l| l.name == n.name && l.kind == LocalKind::Param) =>
                {
                    InputSource::Parameter(n.name.clone())
                }
                (_, ValueKind::Deferred(sym)) => match &**sym {
                    Sym::Param(p) => InputSource::Parameter(p.clone()),
                    _ => InputSource::Expression(typed.value.clone()),
                },
                _ => InputSource::Constant(typed.value.clone()),
            };
            inputs.push(InputBinding {
                param: param.name.name.clone(),
                source,
            });
            args.push((param.name.name.clone(), typed));
        }
        (args, inputs)
    }

    /// One task call: the node with the task's fields evaluated for these arguments and the
    /// call's override merged over them. Returns the call's value (its outputs).
    fn instantiate(&mut self, call: Call<'_>, build: &mut Build<'_>) -> Typed {
        build.called.insert(call.task);
        let Some(ItemKind::Task(task)) = self.item(call.task).map(|i| &i.kind) else {
            return Typed::error(call.call_span);
        };
        if let Some(first) = build.taken.insert(call.node.clone(), call.name_span) {
            if first != call.name_span {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0102,
                        call.name_span,
                        format!("two steps are both named `{}` in the output", call.node),
                        "same node name",
                    )
                    .label(first, "this step has the same name")
                    .help("node names join inlined `let` names with `-` and turn `_` into `-`; rename one step"),
                );
            }
        }
        let output_fields: Vec<(String, Ty)> = match &task.output {
            Some(OutputDecl::Single(ty)) => vec![("result".into(), self.type_of(ty, call.task.module))],
            Some(OutputDecl::Record(fields, _)) => fields
                .iter()
                .map(|f| (f.name.name.clone(), self.type_of(&f.ty, call.task.module)))
                .collect(),
            None => Vec::new(),
        };
        let storage = match call.settings.get("storage").map(|v| &v.kind) {
            Some(ValueKind::Str(s)) if !(build.storage_first && build.storage.is_some()) => {
                Some(s.trim_end_matches('/').to_owned())
            }
            _ => build.storage.map(|s| s.trim_end_matches('/').to_owned()),
        };
        let uris: Vec<(String, Value)> = output_fields
            .iter()
            .map(|(name, _)| {
                let kind = match (&storage, &build.run_id) {
                    (Some(storage), Some(run_id)) => {
                        ValueKind::Str(format!("{storage}/{}/{run_id}/{}/{name}", build.workflow, call.node))
                    }
                    (Some(storage), None) => Sym::op(
                        "concat",
                        vec![
                            Sym::Lit(ValueKind::Str(format!("{storage}/{}/", build.workflow))),
                            Sym::RunId,
                            Sym::Lit(ValueKind::Str(format!("/{}/{name}", call.node))),
                        ],
                    ),
                    (None, _) => ValueKind::Unknown,
                };
                (name.clone(), Value::new(kind, call.call_span))
            })
            .collect();
        let mut task_env = Env::new(call.task.module, Context::Task);
        for (name, typed) in &call.args {
            task_env.bind(name, typed.clone(), call.name_span, LocalKind::Param);
        }
        let uri_entries = uris
            .iter()
            .map(|(name, value)| Entry {
                key: name.clone(),
                key_span: call.name_span,
                label: None,
                value: value.clone(),
            })
            .collect();
        task_env.bind(
            "outputs",
            Typed::with_value(
                Ty::Record(output_fields.iter().map(|(n, _)| (n.clone(), Ty::Str)).collect()),
                Value::new(ValueKind::Record(uri_entries), call.name_span),
            ),
            call.name_span,
            LocalKind::Outputs,
        );
        let mut config = self.config(&task.body, Schema::Task, &task_env, None, "task");
        if let (Some(with), Some(env)) = (call.with, call.env) {
            self.unknown_groups(with, &config, &task.name.name);
            config = self.config(with, Schema::Task, env, Some(&config), "with");
        }
        let value_of = |name: &str, ty: &Ty, uri: Option<&Value>| -> Value {
            match (ty, uri) {
                (Ty::File | Ty::Dir, Some(uri)) => uri.clone(),
                _ => Value::new(
                    ValueKind::Deferred(Box::new(Sym::Output {
                        node: call.node.clone(),
                        name: name.to_owned(),
                    })),
                    call.call_span,
                ),
            }
        };
        let result = match &task.output {
            Some(OutputDecl::Single(_)) => output_fields
                .first()
                .map(|(name, ty)| Typed::with_value(ty.clone(), value_of(name, ty, uris.first().map(|(_, v)| v))))
                .unwrap_or_else(|| Typed::error(call.call_span)),
            Some(OutputDecl::Record(..)) => {
                let entries = output_fields
                    .iter()
                    .zip(&uris)
                    .map(|((name, ty), (_, uri))| Entry {
                        key: name.clone(),
                        key_span: call.name_span,
                        label: None,
                        value: value_of(name, ty, Some(uri)),
                    })
                    .collect();
                Typed::with_value(
                    Ty::Record(output_fields.clone()),
                    Value::new(ValueKind::Record(entries), call.call_span),
                )
            }
            None => Typed::unknown(Ty::Nothing, call.call_span),
        };
        build.nodes.push(Node {
            name: call.node,
            name_span: call.name_span,
            call_span: call.call_span,
            task: task.name.name.clone(),
            task_span: task.name.span,
            config,
            settings: call.settings.clone(),
            dependencies: Vec::new(),
            inputs: call.inputs,
            outputs: uris,
        });
        result
    }

    /// E0508: an override's `worker "NAME"` that the task's cluster does not have.
    fn unknown_groups(&mut self, with: &ast::Block, config: &Value, task: &str) {
        let groups: Vec<&str> = config
            .get("ray")
            .map(|ray| match &ray.kind {
                ValueKind::Record(entries) => entries
                    .iter()
                    .filter(|e| e.key == "worker")
                    .filter_map(|e| e.label.as_deref())
                    .collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        for field in with.fields.iter().filter(|f| f.key.name == "ray") {
            let ExprKind::Record(ray) = &field.value.kind else {
                continue;
            };
            for worker in ray.fields.iter().filter(|f| f.key.name == "worker") {
                let Some(label) = &worker.label else { continue };
                if groups.contains(&label.value.as_str()) {
                    continue;
                }
                let listed = if groups.is_empty() {
                    format!("`{task}` has no worker groups")
                } else {
                    format!("the groups of `{task}` are {}", quoted_list(&groups))
                };
                let mut d = Diagnostic::new(
                    Code::E0508,
                    label.span,
                    format!(
                        "the override names worker group \"{}\", which `{task}` does not have",
                        label.value
                    ),
                    "no such group",
                );
                d = match did_you_mean(&label.value, groups.iter().copied()) {
                    Some(best) => d.help(format!("did you mean \"{best}\"? {listed}")),
                    None => d.help(format!(
                        "{listed}; an override cannot add a group — refine the cluster in the task instead"
                    )),
                };
                self.diagnostics.push(d);
            }
        }
    }
}

struct Call<'c> {
    task: ItemRef,
    node: String,
    name_span: Span,
    call_span: Span,
    args: Vec<(String, Typed)>,
    inputs: Vec<InputBinding>,
    settings: &'c Value,
    with: Option<&'c ast::Block>,
    /// The caller's scope, for the override.
    env: Option<&'c Env>,
}

/// The first part of a `--set` value that is not a literal: lists, records and maps of
/// numbers, strings without interpolation, `true`, `false` and `none` are.
fn not_literal(expr: &ast::Expr) -> Option<Span> {
    match &expr.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Quantity(_)
        | ExprKind::Duration(_)
        | ExprKind::Bool(_)
        | ExprKind::None => None,
        ExprKind::Str(parts) => parts.iter().find_map(|part| match part {
            ast::StrPart::Interp(e) => Some(e.span),
            ast::StrPart::Text(_) => None,
        }),
        ExprKind::Unary(ast::UnaryOp::Neg, inner) if not_literal(inner).is_none() => None,
        ExprKind::List(items) => items.iter().find_map(not_literal),
        ExprKind::Record(block) => block.fields.iter().find_map(|f| not_literal(&f.value)),
        _ => Some(expr.span),
    }
}

/// `value` with every part at `span`.
fn respanned(value: Value, span: Span) -> Value {
    let kind = match value.kind {
        ValueKind::List(items) => ValueKind::List(items.into_iter().map(|v| respanned(v, span)).collect()),
        ValueKind::Record(entries) => ValueKind::Record(
            entries
                .into_iter()
                .map(|e| Entry {
                    key_span: span,
                    value: respanned(e.value, span),
                    ..e
                })
                .collect(),
        ),
        kind => kind,
    };
    Value::new(kind, span)
}

fn unknown(span: Span) -> Value {
    Value::new(ValueKind::Unknown, span)
}

/// Workflow settings: the inner workflow's win; `labels` and `annotations` merge key by key.
fn merge_settings(outer: &Value, inner: &Value) -> Value {
    let mut entries: Vec<Entry> = match &outer.kind {
        ValueKind::Record(entries) => entries.clone(),
        _ => Vec::new(),
    };
    if let ValueKind::Record(own) = &inner.kind {
        for entry in own {
            match entries.iter_mut().find(|e| e.key == entry.key) {
                Some(slot) if matches!(entry.key.as_str(), "labels" | "annotations") => {
                    slot.value = merge_maps(&slot.value, &entry.value);
                }
                Some(slot) => *slot = entry.clone(),
                None => entries.push(entry.clone()),
            }
        }
    }
    Value::new(ValueKind::Record(entries), inner.span)
}

/// Two maps merged key by key, `over` winning.
pub(crate) fn merge_maps(base: &Value, over: &Value) -> Value {
    match (&base.kind, &over.kind) {
        (ValueKind::Record(base_entries), ValueKind::Record(over_entries)) => {
            let mut entries = base_entries.clone();
            for entry in over_entries {
                match entries.iter_mut().find(|e| e.key == entry.key) {
                    Some(slot) => *slot = entry.clone(),
                    None => entries.push(entry.clone()),
                }
            }
            Value::new(ValueKind::Record(entries), over.span)
        }
        _ => over.clone(),
    }
}

/// Nodes reordered so each comes after its dependencies, with indices renumbered; left as
/// they are when there is a cycle (reported by the checker as E0401).
fn topological(nodes: Vec<Node>) -> Vec<Node> {
    let Some(order) = crate::dag::topological_order(nodes.len(), |n| {
        nodes.get(n).map(|node| node.dependencies.clone()).unwrap_or_default()
    }) else {
        return nodes;
    };
    let mut position = vec![0; nodes.len()];
    for (new, &old) in order.iter().enumerate() {
        if let Some(slot) = position.get_mut(old) {
            *slot = new;
        }
    }
    let mut slots: Vec<Option<Node>> = nodes.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&old| slots.get_mut(old).and_then(Option::take))
        .map(|mut node| {
            node.dependencies = node
                .dependencies
                .iter()
                .filter_map(|d| position.get(*d).copied())
                .collect();
            node.dependencies.sort_unstable();
            node
        })
        .collect()
}
