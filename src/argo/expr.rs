//! Deferred expressions (§9.1) as Argo expression tags: expr-lang text that computes the same
//! value, using only operators, `asInt`, `asFloat`, `toJson` and `sprig.*` (language reference
//! §11). Never `?` (Argo 3.5 splits a tag at its first `?`), never `{{` or `}}` (the tag
//! delimiters): string literals spell those characters as escapes.
//!
//! expr-lang's `/` divides as floats and its `?:` is out of reach, so integer division is
//! `sprig.div` (Go's, truncating toward zero like §9.1) and a choice is `sprig.ternary`, which
//! evaluates both branches. An operation that can fail (a zero divisor, a number whose text
//! would differ) fails only on the path the §9.1 expression takes: it is guarded by the
//! conditions of the `if` branches it sits in. A value that fails makes the whole tag fail, and
//! Argo then leaves the tag's text in the manifest, where it is a YAML mapping where a scalar
//! belongs: the API server rejects the RayJob and the step fails, never runs a wrong value.

use crate::plan::PlanParam;
use serde_json::Value as Json;

/// The characters a word may hold to pass unquoted (`shell_quote`) or at all (`safe_word`).
const SAFE_WORD: &str = "^[A-Za-z0-9_./:=@%+,-]+$";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Float,
    Str,
    Bool,
}

/// Why a deferred expression has no Argo form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An upstream output, which the Workflow cannot read from its URI (E0703).
    Output { node: String, name: String },
    /// An operation on values the expression language cannot compute exactly (E0704).
    Unsupported(String),
}

/// Translates §9.1 expressions for one workflow.
pub struct Translator<'a> {
    pub params: &'a [PlanParam],
    /// The run id: `workflow.name`, or the parameter a split workflow's parts receive it in.
    pub run_id: &'a str,
}

/// An expr-lang expression and its type.
#[derive(Debug, Clone)]
pub struct Code {
    pub text: String,
    pub ty: Ty,
}

fn code(text: String, ty: Ty) -> Code {
    Code { text, ty }
}

/// An expr-lang string literal of `s` holding only printable ASCII other than `"`, `\`, `?`,
/// `{`, `}` and `` ` ``: everything else is a `\u` escape.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            ' '..='~' if !matches!(c, '"' | '\\' | '?' | '{' | '}' | '`') => out.push(c),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `value` when `ok` holds, else a failure, but only when `path` (the conditions of the `if`
/// branches the value sits in) holds too; `fallback` is a harmless value of the same type.
fn guard(value: &str, fallback: &str, ok: &str, path: Option<&str>, message: &str) -> String {
    let fail = format!("sprig.fail({})", string_literal(message));
    let condition = match path {
        None => format!("({ok}) || {fail}"),
        Some(path) => format!("({ok}) || !({path}) || {fail}"),
    };
    format!("sprig.ternary({value}, {fallback}, {condition})")
}

/// `a` unless it is zero, where it fails on `path` (and is 1 off it, so Go never divides by zero).
fn nonzero(divisor: &Code, path: Option<&str>) -> String {
    let (zero, one) = match divisor.ty {
        Ty::Float => ("0.0", "1.0"),
        _ => ("0", "1"),
    };
    let d = &divisor.text;
    let literal = d.trim_matches(|c| c == '(' || c == ')').parse::<f64>();
    if literal.is_ok_and(|x| x != 0.0) {
        return d.clone();
    }
    let fail = format!("sprig.fail({})", string_literal("division by zero"));
    let off_path = match path {
        None => fail,
        Some(path) => format!("(!({path}) || {fail}) && false"),
    };
    format!("sprig.ternary({d}, {one}, ({d} != {zero}) || {off_path})")
}

fn and_path(path: Option<&str>, condition: &str) -> String {
    match path {
        None => condition.to_owned(),
        Some(path) => format!("({path}) && ({condition})"),
    }
}

impl Translator<'_> {
    /// The expr-lang form of the §9.1 expression `expr`.
    pub fn translate(&self, expr: &Json) -> Result<Code, Problem> {
        self.at(expr, None)
    }

    fn at(&self, expr: &Json, path: Option<&str>) -> Result<Code, Problem> {
        if let Some(lit) = expr.get("lit") {
            return literal(lit);
        }
        if let Some(Json::String(name)) = expr.get("param") {
            return self.param(name);
        }
        if let Some(output) = expr.get("output") {
            let field = |key: &str| output.get(key).and_then(Json::as_str).unwrap_or_default().to_owned();
            return Err(Problem::Output {
                node: field("node"),
                name: field("name"),
            });
        }
        if expr.get("run_id").is_some() {
            return Ok(code(self.run_id.to_owned(), Ty::Str));
        }
        let op = expr.get("op").and_then(Json::as_str).unwrap_or_default();
        let raw: &[Json] = expr.get("args").and_then(Json::as_array).map_or(&[], Vec::as_slice);
        if op == "if" {
            return self.choice(raw, path);
        }
        let args = raw.iter().map(|a| self.at(a, path)).collect::<Result<Vec<_>, _>>()?;
        self.operation(op, &args, raw, path)
    }

    fn param(&self, name: &str) -> Result<Code, Problem> {
        let read = format!("workflow.parameters[{}]", string_literal(name));
        let ty = self
            .params
            .iter()
            .find(|p| p.name == name)
            .map_or("str", |p| p.ty.as_str());
        Ok(match ty {
            "int" => code(format!("asInt({read})"), Ty::Int),
            "float" => code(format!("asFloat({read})"), Ty::Float),
            "bool" => code(
                guard(
                    &format!("{read} == \"true\""),
                    "false",
                    &format!("{read} == \"true\" || {read} == \"false\""),
                    None,
                    &format!("the parameter {name} must be true or false"),
                ),
                Ty::Bool,
            ),
            "str" | "file" | "dir" => code(read, Ty::Str),
            other => return Err(Problem::Unsupported(format!("a parameter of type `{other}`"))),
        })
    }

    /// `if c { a } else { b }`: both branches are computed, each failing only on its own path.
    fn choice(&self, raw: &[Json], path: Option<&str>) -> Result<Code, Problem> {
        let [c, a, b] = raw else {
            return Err(Problem::Unsupported("`if` without three arguments".into()));
        };
        let c = self.at(c, path)?;
        let a = self.at(a, Some(&and_path(path, &c.text)))?;
        let b = self.at(b, Some(&and_path(path, &format!("!({})", c.text))))?;
        let (a, b, ty) = unify(a, b);
        Ok(code(format!("sprig.ternary({a}, {b}, {})", c.text), ty))
    }

    fn operation(&self, op: &str, args: &[Code], raw: &[Json], path: Option<&str>) -> Result<Code, Problem> {
        let unsupported = || Problem::Unsupported(format!("`{op}` of {}", describe(args)));
        let t = |i: usize| args.get(i).map(|a| a.text.as_str()).unwrap_or_default();
        let ty = |i: usize| args.get(i).map(|a| a.ty);
        let numeric = args.iter().all(|a| matches!(a.ty, Ty::Int | Ty::Float));
        let all_int = args.iter().all(|a| a.ty == Ty::Int);
        let number = if all_int { Ty::Int } else { Ty::Float };
        Ok(match (op, args.len()) {
            ("add" | "sub" | "mul", 2) if numeric => {
                let symbol = match op {
                    "add" => "+",
                    "sub" => "-",
                    _ => "*",
                };
                code(format!("({} {symbol} {})", t(0), t(1)), number)
            }
            ("div", 2) if all_int => code(format!("sprig.div({}, {})", t(0), nonzero(&args[1], path)), Ty::Int),
            ("div", 2) if numeric => code(format!("({} / {})", t(0), nonzero(&args[1], path)), Ty::Float),
            ("mod", 2) if all_int => code(format!("sprig.mod({}, {})", t(0), nonzero(&args[1], path)), Ty::Int),
            ("neg", 1) if numeric => code(format!("(-{})", t(0)), number),
            ("eq" | "ne" | "lt" | "le" | "gt" | "ge", 2) if numeric || ty(0) == ty(1) => {
                let symbol = match op {
                    "eq" => "==",
                    "ne" => "!=",
                    "lt" => "<",
                    "le" => "<=",
                    "gt" => ">",
                    _ => ">=",
                };
                code(format!("({} {symbol} {})", t(0), t(1)), Ty::Bool)
            }
            ("and" | "or", 2) if args.iter().all(|a| a.ty == Ty::Bool) => {
                let symbol = if op == "and" { "&&" } else { "||" };
                code(format!("({} {symbol} {})", t(0), t(1)), Ty::Bool)
            }
            ("not", 1) if ty(0) == Some(Ty::Bool) => code(format!("(!{})", t(0)), Ty::Bool),
            ("min" | "max", n) if n >= 2 && all_int => code(format!("sprig.{op}({})", joined(args)), Ty::Int),
            ("min" | "max", n) if n >= 2 && numeric => fold_float(op, args)?,
            ("clamp", 3) if all_int => code(format!("sprig.min(sprig.max({}, {}), {})", t(0), t(1), t(2)), Ty::Int),
            ("clamp", 3) if numeric => {
                let low = fold_float("max", &args[..2])?;
                fold_float("min", &[low, args[2].clone()])?
            }
            ("ceil_div", 2) if all_int => ceil_div(&args[0], &args[1], path),
            ("ceil" | "floor" | "round" | "int", 1) if ty(0) == Some(Ty::Int) => args[0].clone(),
            ("ceil" | "floor", 1) if ty(0) == Some(Ty::Float) => code(format!("asInt(sprig.{op}({}))", t(0)), Ty::Int),
            ("int", 1) if ty(0) == Some(Ty::Float) => code(format!("asInt({})", t(0)), Ty::Int),
            ("round", 1) if ty(0) == Some(Ty::Float) => round(t(0)),
            ("abs", 1) if numeric => code(format!("sprig.ternary({0}, -{0}, {0} >= 0)", t(0)), number),
            ("float", 1) if numeric => code(format!("asFloat({})", t(0)), Ty::Float),
            ("str", 1) => to_text(&args[0], path)?,
            ("concat", _) if args.iter().all(|a| a.ty == Ty::Str) => match args {
                [] => code("\"\"".into(), Ty::Str),
                _ => code(format!("({})", texts(args).join(" + ")), Ty::Str),
            },
            ("quantity", 1) if ty(0) == Some(Ty::Int) => quantity(t(0)),
            ("shell_quote", 1) if ty(0) == Some(Ty::Str) => {
                let s = t(0);
                let quoted = format!("\"'\" + sprig.replace(\"'\", {}, {s}) + \"'\"", string_literal("'\\''"));
                let safe = string_literal(SAFE_WORD);
                code(format!("sprig.ternary({s}, {quoted}, {s} matches {safe})"), Ty::Str)
            }
            ("sha256_hex", 2) if ty(0) == Some(Ty::Str) => {
                match raw.get(1).and_then(|n| n.get("lit")).and_then(Json::as_u64) {
                    Some(n) => code(format!("sprig.trunc({n}, sprig.sha256sum({}))", t(0)), Ty::Str),
                    None => return Err(unsupported()),
                }
            }
            _ => return Err(unsupported()),
        })
    }
}

/// The §9.1 checks that make an executor reject a run, as expr conditions on a string.
pub fn is_safe_word(text: &str) -> String {
    format!("({text} matches {})", string_literal(SAFE_WORD))
}

pub fn has_no_shell_expansion(text: &str) -> String {
    format!(
        "(!({text} contains {}) && !({text} contains {}))",
        string_literal("$"),
        string_literal("`")
    )
}

/// `value` when `ok` holds, else a failure of the whole tag with `message`.
pub fn checked(value: &str, fallback: &str, ok: &str, message: &str) -> String {
    guard(value, fallback, ok, None, message)
}

fn literal(lit: &Json) -> Result<Code, Problem> {
    Ok(match lit {
        Json::Bool(b) => code(b.to_string(), Ty::Bool),
        Json::String(s) => code(string_literal(s), Ty::Str),
        Json::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i64::MIN), _) => code(format!("({} - 1)", i64::MIN + 1), Ty::Int),
            (Some(i), _) if i < 0 => code(format!("({i})"), Ty::Int),
            (Some(i), _) => code(i.to_string(), Ty::Int),
            (None, Some(x)) if x.is_finite() => code(format!("({x:?})"), Ty::Float),
            _ => return Err(Problem::Unsupported(format!("the number {n}"))),
        },
        other => return Err(Problem::Unsupported(format!("the literal {other}"))),
    })
}

fn texts(args: &[Code]) -> Vec<&str> {
    args.iter().map(|a| a.text.as_str()).collect()
}

fn joined(args: &[Code]) -> String {
    texts(args).join(", ")
}

fn describe(args: &[Code]) -> String {
    let names: Vec<&str> = args
        .iter()
        .map(|a| match a.ty {
            Ty::Int => "int",
            Ty::Float => "float",
            Ty::Str => "str",
            Ty::Bool => "bool",
        })
        .collect();
    format!("({})", names.join(", "))
}

/// The branches of a choice with one type: an int meeting a float becomes a float.
fn unify(a: Code, b: Code) -> (String, String, Ty) {
    let float = |c: Code| match c.ty {
        Ty::Int => format!("asFloat({})", c.text),
        _ => c.text,
    };
    match (a.ty, b.ty) {
        (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => (float(a), float(b), Ty::Float),
        (ty, _) => (a.text, b.text, ty),
    }
}

/// `min`/`max` of numbers one of which is a float: pairwise choices, as floats.
fn fold_float(op: &str, args: &[Code]) -> Result<Code, Problem> {
    let as_float = |c: &Code| match c.ty {
        Ty::Int => format!("asFloat({})", c.text),
        _ => c.text.clone(),
    };
    let mut acc = args
        .first()
        .map(as_float)
        .ok_or_else(|| Problem::Unsupported(format!("`{op}` of nothing")))?;
    let symbol = if op == "min" { "<=" } else { ">=" };
    for next in args.iter().skip(1).map(as_float) {
        acc = format!("sprig.ternary({acc}, {next}, {acc} {symbol} {next})");
    }
    Ok(code(acc, Ty::Float))
}

/// The quotient rounded up: Go's truncated quotient, plus one when the remainder is non-zero
/// and has the divisor's sign.
fn ceil_div(a: &Code, b: &Code, path: Option<&str>) -> Code {
    let divisor = nonzero(b, path);
    let (a, b) = (&a.text, &b.text);
    code(
        format!(
            "(sprig.div({a}, {divisor}) + sprig.ternary(1, 0, sprig.mod({a}, {divisor}) != 0 && (sprig.mod({a}, {divisor}) > 0) == ({b} > 0)))"
        ),
        Ty::Int,
    )
}

/// Half away from zero, exactly: `x - floor(x)` is exact for every double.
fn round(x: &str) -> Code {
    let up = |v: String| format!("(asInt(sprig.floor({v})) + sprig.ternary(1, 0, {v} - sprig.floor({v}) >= 0.5))");
    code(
        format!(
            "sprig.ternary({}, -{}, {x} >= 0.0)",
            up(x.to_owned()),
            up(format!("(-{x})"))
        ),
        Ty::Int,
    )
}

/// `str` of a value (§6.2): integers in decimal; floats in their shortest round-trip form with
/// `.0` when there is no `.`, which Go's JSON writes alike between 1e-6 and 1e21 (beyond, it
/// writes an exponent and the tag fails instead).
fn to_text(value: &Code, path: Option<&str>) -> Result<Code, Problem> {
    let v = &value.text;
    Ok(match value.ty {
        Ty::Str => value.clone(),
        Ty::Int => code(format!("sprig.toString({v})"), Ty::Str),
        Ty::Bool => code(format!("sprig.ternary(\"true\", \"false\", {v})"), Ty::Str),
        Ty::Float => {
            let text = format!(
                "sprig.regexReplaceAll({}, toJson({v}), {})",
                string_literal("^(-?[0-9]+)$"),
                string_literal("${1}.0")
            );
            let ok = format!("{v} == 0.0 || ({v} >= 0.000001 && {v} < 1e21) || ({v} <= -0.000001 && {v} > -1e21)");
            code(
                guard(
                    &text,
                    "\"\"",
                    &ok,
                    path,
                    "a float outside 1e-6..1e21 has no exact text here",
                ),
                Ty::Str,
            )
        }
    })
}

/// The canonical Kubernetes quantity of an integer: trailing groups of three zeros become an
/// SI suffix (`2000` is `2k`, `1500` stays `1500`).
fn quantity(n: &str) -> Code {
    const SUFFIXES: [(&str, u32); 6] = [("E", 18), ("P", 15), ("T", 12), ("G", 9), ("M", 6), ("k", 3)];
    let mut text = format!("sprig.toString({n})");
    for (suffix, power) in SUFFIXES.iter().rev() {
        let unit = 10_i64.pow(*power);
        text = format!(
            "sprig.ternary(sprig.toString(sprig.div({n}, {unit})) + {}, {text}, {n} != 0 && sprig.mod({n}, {unit}) == 0)",
            string_literal(suffix)
        );
    }
    code(text, Ty::Str)
}
