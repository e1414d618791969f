//! The untyped syntax tree. Every node carries the [`Span`] of its source text; nothing here
//! knows about names, types or values.

use crate::quantity::{Duration, Quantity};
use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Text of the `///` lines before the item, without the slashes.
    pub doc: Option<String>,
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Import(Import),
    Const(Const),
    Cluster(Cluster),
    Task(Task),
    Workflow(Workflow),
}

impl Item {
    /// The name the item binds in its module (an import binds its module name).
    pub fn name(&self) -> Option<&Ident> {
        match &self.kind {
            ItemKind::Import(i) => i.alias.as_ref(),
            ItemKind::Const(c) => Some(&c.name),
            ItemKind::Cluster(c) => Some(&c.name),
            ItemKind::Task(t) => Some(&t.name),
            ItemKind::Workflow(w) => Some(&w.name),
        }
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            ItemKind::Import(_) => "import",
            ItemKind::Const(_) => "constant",
            ItemKind::Cluster(_) => "cluster",
            ItemKind::Task(_) => "task",
            ItemKind::Workflow(_) => "workflow",
        }
    }
}

/// A string literal whose text is taken as written: import paths, labels and keys.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainString {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub path: PlainString,
    /// The `as` name; `None` means the file stem is the module name.
    pub alias: Option<Ident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Const {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: Ident,
    /// `cluster NAME = BASE { ... }` refines BASE.
    pub base: Option<Expr>,
    pub body: Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutputDecl {
    Single(TypeExpr),
    Record(Vec<RecordFieldType>, Span),
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordFieldType {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: Ident,
    pub params: Vec<Param>,
    pub output: Option<OutputDecl>,
    pub body: Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    pub name: Ident,
    pub params: Vec<Param>,
    pub output: Option<OutputDecl>,
    pub body: Vec<Stmt>,
    pub body_span: Span,
}

impl Workflow {
    /// The settings (`storage = ...`, `labels { ... }`) of the body, as one block.
    pub fn settings(&self) -> Block {
        let fields = self
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Setting(f) => Some(f.clone()),
                _ => None,
            })
            .collect();
        Block {
            fields,
            span: self.body_span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Setting(Field),
    Let(Let),
    Return(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Let {
    pub name: Ident,
    /// With `fan_out`, the call made once per element.
    pub value: Expr,
    pub with: Option<Block>,
    pub with_span: Option<Span>,
    pub after: Vec<Ident>,
    pub fan_out: Option<Box<FanOut>>,
    pub span: Span,
}

/// `for VAR in LIST { ... }` around a `let`'s call (§3.6).
#[derive(Debug, Clone, PartialEq)]
pub struct FanOut {
    pub var: Ident,
    pub list: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    Named(Ident),
    /// `list[T]`, `map[str, T]`; arity and names are checked later.
    Generic(Ident, Vec<TypeExpr>, Span),
    Record(Vec<RecordFieldType>, Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(i) => i.span,
            TypeExpr::Generic(_, _, s) | TypeExpr::Record(_, s) => *s,
        }
    }
}

/// `{ field, field }`: a record literal, a configuration block or an override.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub key: Key,
    /// `worker "NAME" { ... }`; boxed, as most fields have none and the tree holds many fields.
    pub label: Option<Box<PlainString>>,
    pub value: Expr,
    /// `key { ... }` rather than `key = ...`: merges like a literal.
    pub is_block: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub quoted: bool,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Float(f64),
    Quantity(Quantity),
    Duration(Duration),
    Bool(bool),
    None,
    Str(Vec<StrPart>),
    Name(Ident),
    /// `base.field`: a module item, a record output field or a configuration field.
    Field(Box<Expr>, Ident),
    List(Vec<Expr>),
    Record(Block),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Arg>),
    /// `base { fields }`: a refined cluster or node.
    Refine(Box<Expr>, Block),
    /// Stands for a part the parser already reported; checks stay quiet about it.
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StrPart {
    Text(String),
    Interp(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Mul,
    Div,
    Rem,
    Add,
    Sub,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinaryOp {
    /// The operator's name in deferred expressions (§9.1).
    pub fn op_name(self) -> &'static str {
        match self {
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Rem => "mod",
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }
}
