//! Type checking and compile-time evaluation (language reference §3–§8, §10).
//!
//! One walk elaborates every expression to a [`Typed`]: its type and, when it is known at
//! compile time, its value. Task parameters are unknown while a task is checked on its own.

mod builtins;
mod expr;
mod items;
mod plan;

pub(crate) use plan::merge_maps;
pub use plan::{Targets, UsageError};

pub use builtins::{float_text, to_text, Builtin, Typed};

use crate::diagnostics::Diagnostics;
use crate::load::{ModuleId, Program};
use crate::resolve::Scopes;
use crate::source::Span;
use crate::types::{ItemRef, Ty};
use crate::value::Value;
use std::cell::Cell;
use std::collections::{HashMap, HashSet};

/// Checks every item of every module, then instantiates what `targets` names: every workflow
/// and uncalled task for `rwfc check`, the requested ones for `rwfc build`.
pub fn check(
    program: &Program,
    scopes: &Scopes,
    targets: Targets<'_>,
    diagnostics: &mut Diagnostics,
) -> Result<crate::plan::Plan, UsageError> {
    let mut checker = Checker::new(program, scopes, diagnostics);
    checker.all_items(matches!(targets, Targets::Build(options) if options.storage.is_some()));
    checker.plan(targets)
}

struct Checker<'a> {
    program: &'a Program,
    scopes: &'a Scopes,
    diagnostics: &'a mut Diagnostics,
    /// Constants and clusters already evaluated.
    memo: HashMap<ItemRef, Typed>,
    /// Unannotated `{ ... }` and `[ ... ]` constants evaluated for the type of a use (§3.2), by
    /// type: evaluating them again at each use was exponential in a chain of such constants.
    retyped: HashMap<ItemRef, Vec<(Ty, Typed)>>,
    /// The nodes each workflow creates when inlined (E0608), counted once.
    node_counts: HashMap<ItemRef, u64>,
    /// How deep each workflow's calls nest (E0609), measured once.
    call_depths: HashMap<ItemRef, plan::Depth>,
    /// Constants and clusters being evaluated, outermost first: a repeat is a cycle (E0104).
    evaluating: Vec<ItemRef>,
    used_imports: HashSet<ItemRef>,
}

impl<'a> Checker<'a> {
    fn new(program: &'a Program, scopes: &'a Scopes, diagnostics: &'a mut Diagnostics) -> Self {
        Checker {
            program,
            scopes,
            diagnostics,
            memo: HashMap::new(),
            retyped: HashMap::new(),
            node_counts: HashMap::new(),
            call_depths: HashMap::new(),
            evaluating: Vec::new(),
            used_imports: HashSet::new(),
        }
    }

    /// `work` of every item, in order, on up to the machine's threads. Each contiguous range gets
    /// a checker of its own that starts from this one's evaluated items; their diagnostics and
    /// used imports join this checker's in range order, so the result is the one a single thread
    /// would give (a diagnostic found twice is kept once).
    fn in_parallel<T: Sync, R: Send>(
        &mut self,
        items: &[T],
        work: impl Fn(&mut Checker<'_>, &T) -> R + Sync,
    ) -> Vec<R> {
        let threads = crate::parallel::available_threads();
        if threads < 2 || items.len() < 2 {
            return items.iter().map(|item| work(self, item)).collect();
        }
        let (program, scopes, memo, retyped) = (self.program, self.scopes, &self.memo, &self.retyped);
        let ranges = crate::parallel::map_ranges(items, threads, |range| {
            let mut diagnostics = Diagnostics::new();
            let mut checker = Checker {
                program,
                scopes,
                diagnostics: &mut diagnostics,
                memo: memo.clone(),
                retyped: retyped.clone(),
                node_counts: HashMap::new(),
                call_depths: HashMap::new(),
                evaluating: Vec::new(),
                used_imports: HashSet::new(),
            };
            let results: Vec<R> = range.iter().map(|item| work(&mut checker, item)).collect();
            let used_imports = checker.used_imports;
            (results, diagnostics, used_imports)
        });
        let mut all = Vec::with_capacity(items.len());
        for (results, diagnostics, used_imports) in ranges {
            all.extend(results);
            self.diagnostics.extend(diagnostics);
            self.used_imports.extend(used_imports);
        }
        all
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    Const,
    Cluster,
    Task,
    Workflow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum LocalKind {
    Param,
    Let { is_call: bool },
    Outputs,
}

#[derive(Debug, Clone)]
struct Local {
    name: String,
    typed: Typed,
    span: Span,
    kind: LocalKind,
    used: Cell<bool>,
}

/// The names visible inside an item besides its module's items.
#[derive(Clone)]
struct Env {
    module: ModuleId,
    context: Context,
    locals: Vec<Local>,
    /// The index in `locals` of the newest local of each name: a scan per lookup was quadratic
    /// in the size of a workflow.
    newest: HashMap<String, usize>,
    /// `let` names of the workflow not bound yet: using one is "used before its binding".
    later: HashSet<String>,
}

impl Env {
    fn new(module: ModuleId, context: Context) -> Env {
        Env {
            module,
            context,
            locals: Vec::new(),
            newest: HashMap::new(),
            later: HashSet::new(),
        }
    }

    fn lookup(&self, name: &str) -> Option<&Local> {
        let local = self.locals.get(*self.newest.get(name)?)?;
        local.used.set(true);
        Some(local)
    }

    fn bind(&mut self, name: &str, typed: Typed, span: Span, kind: LocalKind) {
        self.later.remove(name);
        self.newest.insert(name.to_owned(), self.locals.len());
        self.locals.push(Local {
            name: name.to_owned(),
            typed,
            span,
            kind,
            used: Cell::new(false),
        });
    }
}

impl Typed {
    fn with_value(ty: Ty, value: Value) -> Typed {
        Typed { ty, value }
    }
}
