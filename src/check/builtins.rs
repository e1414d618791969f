//! Builtin functions and operators, with exact integer semantics (language reference §6.2).

use crate::ast::{BinaryOp, UnaryOp};
use crate::diagnostics::{Code, Diagnostic};
use crate::quantity::{Duration, Quantity};
use crate::source::Span;
use crate::types::Ty;
use crate::value::{Value, ValueKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Builtin {
    Min,
    Max,
    Clamp,
    CeilDiv,
    Ceil,
    Floor,
    Round,
    Abs,
    Int,
    Float,
    Str,
    Len,
    Secret,
}

pub const BUILTINS: &[(&str, Builtin)] = &[
    ("min", Builtin::Min),
    ("max", Builtin::Max),
    ("clamp", Builtin::Clamp),
    ("ceil_div", Builtin::CeilDiv),
    ("ceil", Builtin::Ceil),
    ("floor", Builtin::Floor),
    ("round", Builtin::Round),
    ("abs", Builtin::Abs),
    ("int", Builtin::Int),
    ("float", Builtin::Float),
    ("str", Builtin::Str),
    ("len", Builtin::Len),
    ("secret", Builtin::Secret),
];

impl Builtin {
    pub fn lookup(name: &str) -> Option<Builtin> {
        BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
    }

    pub fn name(self) -> &'static str {
        BUILTINS.iter().find(|(_, b)| *b == self).map_or("builtin", |(n, _)| n)
    }

    fn signature(self) -> &'static str {
        match self {
            Builtin::Min | Builtin::Max => "min(a, b, ...) and max(a, b, ...) take two or more numbers of one kind",
            Builtin::Clamp => "clamp(x, lo, hi) takes three numbers of one kind",
            Builtin::CeilDiv => "ceil_div(a, b) takes two ints",
            Builtin::Ceil | Builtin::Floor | Builtin::Round => {
                "ceil, floor and round take one int or float and return an int"
            }
            Builtin::Abs => "abs(x) takes one number",
            Builtin::Int => "int(x) takes one int or float (and truncates)",
            Builtin::Float => "float(x) takes one int or float",
            Builtin::Str => "str(x) takes one scalar",
            Builtin::Len => "len(x) takes one list or str",
            Builtin::Secret => "secret(name, key) takes two strs",
        }
    }
}

/// A typed value: what every expression elaborates to.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub ty: Ty,
    pub value: Value,
}

impl Typed {
    pub fn new(ty: Ty, kind: ValueKind, span: Span) -> Typed {
        Typed {
            ty,
            value: Value::new(kind, span),
        }
    }

    pub fn error(span: Span) -> Typed {
        Typed::new(Ty::Error, ValueKind::Unknown, span)
    }

    pub fn unknown(ty: Ty, span: Span) -> Typed {
        Typed::new(ty, ValueKind::Unknown, span)
    }
}

fn wrong_args(builtin: Builtin, span: Span, why: String) -> Diagnostic {
    Diagnostic::new(
        Code::E0206,
        span,
        format!("wrong arguments to `{}`: {why}", builtin.name()),
        why,
    )
    .help(builtin.signature())
}

fn overflow(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0302,
        span,
        "integer overflow in a compile-time evaluation",
        "overflows",
    )
    .help("64-bit integers range from -9223372036854775808 to 9223372036854775807")
}

fn division_by_zero(span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::E0301,
        span,
        "division by zero in a compile-time evaluation",
        "divides by zero",
    )
    .help("check the divisor; use `max(d, 1)` when it may be zero")
}

/// Applies a builtin to already elaborated arguments; the result is unknown when an input is.
pub fn call(builtin: Builtin, args: &[Typed], span: Span) -> Result<Typed, Diagnostic> {
    let arity_ok = match builtin {
        Builtin::Min | Builtin::Max => args.len() >= 2,
        Builtin::Clamp => args.len() == 3,
        Builtin::CeilDiv | Builtin::Secret => args.len() == 2,
        _ => args.len() == 1,
    };
    if !arity_ok {
        return Err(wrong_args(builtin, span, format!("{} argument(s) given", args.len())));
    }
    if args.iter().any(|a| a.ty == Ty::Error) {
        return Ok(Typed::error(span));
    }
    let known = args.iter().all(|a| a.value.kind != ValueKind::Unknown);
    match builtin {
        Builtin::Min | Builtin::Max | Builtin::Clamp => {
            let ty = numeric_join(args)
                .ok_or_else(|| wrong_args(builtin, span, format!("cannot compare {}", type_list(args))))?;
            if !known {
                return Ok(Typed::unknown(ty, span));
            }
            let pick = |a: &Typed, b: &Typed, want_less: bool| -> Result<Typed, Diagnostic> {
                let less = compare(&a.value.kind, &b.value.kind)
                    .ok_or_else(|| wrong_args(builtin, span, "incomparable values".into()))?
                    == std::cmp::Ordering::Less;
                Ok(if less == want_less { a.clone() } else { b.clone() })
            };
            let result = match builtin {
                Builtin::Clamp => {
                    let (x, lo, hi) = (&args[0], &args[1], &args[2]);
                    if compare(&lo.value.kind, &hi.value.kind) == Some(std::cmp::Ordering::Greater) {
                        return Err(wrong_args(
                            builtin,
                            span,
                            "the lower bound is above the upper bound".into(),
                        ));
                    }
                    let raised = pick(x, lo, false)?;
                    pick(&raised, hi, true)?
                }
                _ => {
                    let mut best = args[0].clone();
                    for a in &args[1..] {
                        best = pick(&best, a, builtin == Builtin::Min)?;
                    }
                    best
                }
            };
            Ok(Typed {
                ty: ty.clone(),
                value: Value::new(coerce_number(&result.value.kind, &ty), span),
            })
        }
        Builtin::CeilDiv => {
            if args.iter().any(|a| a.ty != Ty::Int) {
                return Err(wrong_args(builtin, span, format!("got {}", type_list(args))));
            }
            match (&args[0].value.kind, &args[1].value.kind) {
                (ValueKind::Int(a), ValueKind::Int(b)) => {
                    if *b == 0 {
                        return Err(division_by_zero(span));
                    }
                    let q = a.checked_div(*b).ok_or_else(|| overflow(span))?;
                    let r = a.checked_rem(*b).ok_or_else(|| overflow(span))?;
                    let up = r != 0 && ((r > 0) == (*b > 0));
                    let q = if up {
                        q.checked_add(1).ok_or_else(|| overflow(span))?
                    } else {
                        q
                    };
                    Ok(Typed::new(Ty::Int, ValueKind::Int(q), span))
                }
                _ => Ok(Typed::unknown(Ty::Int, span)),
            }
        }
        Builtin::Ceil | Builtin::Floor | Builtin::Round | Builtin::Int => {
            let arg = &args[0];
            if !matches!(arg.ty, Ty::Int | Ty::Float) {
                return Err(wrong_args(builtin, span, format!("got {}", arg.ty)));
            }
            let value = match arg.value.kind {
                ValueKind::Int(n) => ValueKind::Int(n),
                ValueKind::Float(x) => {
                    let r = match builtin {
                        Builtin::Ceil => x.ceil(),
                        Builtin::Floor => x.floor(),
                        Builtin::Round => x.round(),
                        _ => x.trunc(),
                    };
                    // 2^63 is exactly representable; i64's range is [-2^63, 2^63).
                    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
                    if !(-TWO_POW_63..TWO_POW_63).contains(&r) {
                        return Err(overflow(span));
                    }
                    ValueKind::Int(r as i64)
                }
                _ => ValueKind::Unknown,
            };
            Ok(Typed::new(Ty::Int, value, span))
        }
        Builtin::Abs => {
            let arg = &args[0];
            let value = match &arg.value.kind {
                ValueKind::Int(n) => ValueKind::Int(n.checked_abs().ok_or_else(|| overflow(span))?),
                ValueKind::Float(x) => ValueKind::Float(x.abs()),
                ValueKind::Quantity(q) if q.is_negative() => {
                    ValueKind::Quantity(q.checked_mul(-1).ok_or_else(|| overflow(span))?)
                }
                ValueKind::Duration(d) if d.millis() < 0 => {
                    ValueKind::Duration(d.checked_mul(-1).ok_or_else(|| overflow(span))?)
                }
                ValueKind::Quantity(_) | ValueKind::Duration(_) | ValueKind::Unknown if arg.ty.is_numeric() => {
                    arg.value.kind.clone()
                }
                _ => return Err(wrong_args(builtin, span, format!("got {}", arg.ty))),
            };
            Ok(Typed::new(arg.ty.clone(), value, span))
        }
        Builtin::Float => {
            let arg = &args[0];
            let value = match arg.value.kind {
                ValueKind::Int(n) => ValueKind::Float(n as f64),
                ValueKind::Float(x) => ValueKind::Float(x),
                ValueKind::Unknown if matches!(arg.ty, Ty::Int | Ty::Float) => ValueKind::Unknown,
                _ => return Err(wrong_args(builtin, span, format!("got {}", arg.ty))),
            };
            Ok(Typed::new(Ty::Float, value, span))
        }
        Builtin::Str => {
            let arg = &args[0];
            if !arg.ty.is_scalar() {
                return Err(wrong_args(builtin, span, format!("got {}", arg.ty)));
            }
            let value = to_text(&arg.value.kind).map_or(ValueKind::Unknown, ValueKind::Str);
            Ok(Typed::new(Ty::Str, value, span))
        }
        Builtin::Len => {
            let arg = &args[0];
            let value = match &arg.value.kind {
                ValueKind::List(items) => ValueKind::Int(items.len() as i64),
                ValueKind::Str(s) => ValueKind::Int(s.chars().count() as i64),
                ValueKind::Unknown if matches!(arg.ty, Ty::List(_) | Ty::Str | Ty::File | Ty::Dir) => {
                    ValueKind::Unknown
                }
                _ => return Err(wrong_args(builtin, span, format!("got {}", arg.ty))),
            };
            Ok(Typed::new(Ty::Int, value, span))
        }
        Builtin::Secret => {
            if args.iter().any(|a| !a.ty.assignable_to(&Ty::Str)) {
                return Err(wrong_args(builtin, span, format!("got {}", type_list(args))));
            }
            match (&args[0].value.kind, &args[1].value.kind) {
                (ValueKind::Str(name), ValueKind::Str(key)) => Ok(Typed::new(
                    Ty::Secret,
                    ValueKind::Secret {
                        name: name.clone(),
                        key: key.clone(),
                    },
                    span,
                )),
                _ => Err(wrong_args(
                    builtin,
                    span,
                    "the secret's name and key must be known at build time".into(),
                )),
            }
        }
    }
}

fn type_list(args: &[Typed]) -> String {
    args.iter().map(|a| a.ty.to_string()).collect::<Vec<_>>().join(", ")
}

/// The common numeric type of arguments: int and float mix to float; quantities and
/// durations only with their own kind (ints are accepted as either).
fn numeric_join(args: &[Typed]) -> Option<Ty> {
    let mut joined = Ty::Int;
    for a in args {
        joined = match (&joined, &a.ty) {
            (j, t) if j == t => joined,
            (Ty::Int, t @ (Ty::Float | Ty::Quantity | Ty::Duration)) => t.clone(),
            (Ty::Float | Ty::Quantity | Ty::Duration, Ty::Int) => joined,
            (Ty::Float, Ty::Float) => joined,
            (Ty::Quantity, Ty::Float) | (Ty::Float, Ty::Quantity) => Ty::Quantity,
            _ => return None,
        };
    }
    Some(joined)
}

/// Converts a known number to the representation of `ty` (an int where a float is meant, ...).
pub fn coerce_number(kind: &ValueKind, ty: &Ty) -> ValueKind {
    match (kind, ty) {
        (ValueKind::Int(n), Ty::Float) => ValueKind::Float(*n as f64),
        (ValueKind::Int(n), Ty::Quantity) => ValueKind::Quantity(Quantity::from_int(*n)),
        (ValueKind::Float(x), Ty::Quantity) => Quantity::from_f64(*x).map_or(ValueKind::Unknown, ValueKind::Quantity),
        (ValueKind::Int(n), Ty::Duration) => Duration::from_secs(*n).map_or(ValueKind::Unknown, ValueKind::Duration),
        _ => kind.clone(),
    }
}

pub fn compare(a: &ValueKind, b: &ValueKind) -> Option<std::cmp::Ordering> {
    use ValueKind::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Quantity(_) | Int(_) | Float(_), Quantity(_) | Int(_) | Float(_)) => {
            let x = as_quantity(a)?;
            let y = as_quantity(b)?;
            Some(x.cmp(&y))
        }
        (Duration(x), Duration(y)) => Some(x.cmp(y)),
        (Duration(x), Int(y)) => Some(x.cmp(&crate::quantity::Duration::from_secs(*y)?)),
        (Int(x), Duration(y)) => Some(crate::quantity::Duration::from_secs(*x)?.cmp(y)),
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (Bool(x), Bool(y)) => Some(x.cmp(y)),
        _ => Option::None,
    }
}

fn as_quantity(v: &ValueKind) -> Option<Quantity> {
    match v {
        ValueKind::Quantity(q) => Some(*q),
        ValueKind::Int(n) => Some(Quantity::from_int(*n)),
        ValueKind::Float(x) => Quantity::from_f64(*x),
        _ => None,
    }
}

/// The text `${...}` and `str()` produce for a scalar (§6.2).
pub fn to_text(v: &ValueKind) -> Option<String> {
    Some(match v {
        ValueKind::Int(n) => n.to_string(),
        ValueKind::Float(x) => float_text(*x),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Str(s) => s.clone(),
        ValueKind::Quantity(q) => q.canonical(),
        ValueKind::Duration(d) => (d.millis() / 1000).to_string(),
        _ => return None,
    })
}

/// Rust's shortest round-trip text, with `.0` when it has no `.`.
pub fn float_text(x: f64) -> String {
    let text = x.to_string();
    if text.contains('.') || !x.is_finite() {
        text
    } else {
        format!("{text}.0")
    }
}

/// Types and, when both sides are known, evaluates a binary operator.
pub fn binary(op: BinaryOp, lhs: &Typed, rhs: &Typed, span: Span) -> Result<Typed, Diagnostic> {
    use BinaryOp::*;
    if lhs.ty == Ty::Error || rhs.ty == Ty::Error {
        return Ok(Typed::error(span));
    }
    let mismatch = || {
        let help = if op == Add && (lhs.ty == Ty::Str || rhs.ty == Ty::Str) {
            "`+` does not join strings: write \"${a}${b}\"".to_owned()
        } else if matches!(lhs.ty, Ty::Quantity | Ty::Duration) || matches!(rhs.ty, Ty::Quantity | Ty::Duration) {
            "quantities and durations support only `*` and `/` by an int, and comparisons".to_owned()
        } else {
            "convert one side with `int(...)` or `float(...)`".to_owned()
        };
        Diagnostic::new(
            Code::E0201,
            span,
            format!("`{}` cannot combine {} and {}", op.symbol(), lhs.ty, rhs.ty),
            format!("{} {} {}", lhs.ty, op.symbol(), rhs.ty),
        )
        .help(help)
    };
    let (l, r) = (&lhs.value.kind, &rhs.value.kind);
    let known = *l != ValueKind::Unknown && *r != ValueKind::Unknown;
    let result_ty = match op {
        And | Or => {
            if lhs.ty != Ty::Bool || rhs.ty != Ty::Bool {
                return Err(mismatch());
            }
            Ty::Bool
        }
        Eq | Ne | Lt | Le | Gt | Ge => {
            let comparable = lhs.ty.assignable_to(&rhs.ty) || rhs.ty.assignable_to(&lhs.ty);
            let ordered = matches!(op, Eq | Ne) || lhs.ty.is_numeric() || lhs.ty == Ty::Str;
            if !comparable || !ordered {
                return Err(mismatch());
            }
            Ty::Bool
        }
        Add | Sub => match (&lhs.ty, &rhs.ty) {
            (Ty::Int, Ty::Int) => Ty::Int,
            (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
            _ => return Err(mismatch()),
        },
        Mul | Div | Rem => match (&lhs.ty, &rhs.ty) {
            (Ty::Int, Ty::Int) => Ty::Int,
            (Ty::Int | Ty::Float, Ty::Int | Ty::Float) => Ty::Float,
            (Ty::Quantity | Ty::Duration, Ty::Int) if op != Rem => lhs.ty.clone(),
            (Ty::Int, Ty::Quantity | Ty::Duration) if op == Mul => rhs.ty.clone(),
            _ => return Err(mismatch()),
        },
    };
    if !known {
        return Ok(Typed::unknown(result_ty, span));
    }
    let value = evaluate(op, l, r, span)?;
    Ok(Typed::new(result_ty, value, span))
}

fn evaluate(op: BinaryOp, l: &ValueKind, r: &ValueKind, span: Span) -> Result<ValueKind, Diagnostic> {
    use BinaryOp::*;
    use ValueKind::*;
    let float = |x: f64| {
        if x.is_finite() {
            Ok(Float(x))
        } else {
            Err(overflow(span))
        }
    };
    Ok(match (op, l, r) {
        (And, Bool(a), Bool(b)) => Bool(*a && *b),
        (Or, Bool(a), Bool(b)) => Bool(*a || *b),
        (Eq | Ne | Lt | Le | Gt | Ge, a, b) => {
            use std::cmp::Ordering::*;
            let ord = compare(a, b);
            Bool(match op {
                Eq => ord == Some(Equal),
                Ne => ord != Some(Equal),
                Lt => ord == Some(Less),
                Le => matches!(ord, Some(Less | Equal)),
                Gt => ord == Some(Greater),
                _ => matches!(ord, Some(Greater | Equal)),
            })
        }
        (Div | Rem, _, Int(0)) => return Err(division_by_zero(span)),
        (Div | Rem, _, Float(y)) if *y == 0.0 => return Err(division_by_zero(span)),
        (Add, Int(a), Int(b)) => Int(a.checked_add(*b).ok_or_else(|| overflow(span))?),
        (Sub, Int(a), Int(b)) => Int(a.checked_sub(*b).ok_or_else(|| overflow(span))?),
        (Mul, Int(a), Int(b)) => Int(a.checked_mul(*b).ok_or_else(|| overflow(span))?),
        (Div, Int(a), Int(b)) => Int(a.checked_div(*b).ok_or_else(|| overflow(span))?),
        (Rem, Int(a), Int(b)) => Int(a.checked_rem(*b).ok_or_else(|| overflow(span))?),
        (Mul, Quantity(q), Int(n)) | (Mul, Int(n), Quantity(q)) => {
            Quantity(q.checked_mul(*n).ok_or_else(|| overflow(span))?)
        }
        (Div, Quantity(q), Int(n)) => Quantity(q.checked_div(*n).ok_or_else(|| overflow(span))?),
        (Mul, Duration(d), Int(n)) | (Mul, Int(n), Duration(d)) => {
            Duration(d.checked_mul(*n).ok_or_else(|| overflow(span))?)
        }
        (Div, Duration(d), Int(n)) => Duration(d.checked_div(*n).ok_or_else(|| overflow(span))?),
        (op, a, b) => {
            let (Some(x), Some(y)) = (as_float(a), as_float(b)) else {
                return Ok(Unknown);
            };
            match op {
                Add => float(x + y)?,
                Sub => float(x - y)?,
                Mul => float(x * y)?,
                Div => float(x / y)?,
                _ => float(x % y)?,
            }
        }
    })
}

fn as_float(v: &ValueKind) -> Option<f64> {
    match v {
        ValueKind::Int(n) => Some(*n as f64),
        ValueKind::Float(x) => Some(*x),
        _ => None,
    }
}

pub fn unary(op: UnaryOp, operand: &Typed, span: Span) -> Result<Typed, Diagnostic> {
    if operand.ty == Ty::Error {
        return Ok(Typed::error(span));
    }
    let value = match (op, &operand.value.kind) {
        (_, ValueKind::Unknown) => ValueKind::Unknown,
        (UnaryOp::Not, ValueKind::Bool(b)) => ValueKind::Bool(!b),
        (UnaryOp::Neg, ValueKind::Int(n)) => ValueKind::Int(n.checked_neg().ok_or_else(|| overflow(span))?),
        (UnaryOp::Neg, ValueKind::Float(x)) => ValueKind::Float(-x),
        (UnaryOp::Neg, ValueKind::Quantity(q)) => ValueKind::Quantity(q.checked_mul(-1).ok_or_else(|| overflow(span))?),
        (UnaryOp::Neg, ValueKind::Duration(d)) => ValueKind::Duration(d.checked_mul(-1).ok_or_else(|| overflow(span))?),
        _ => ValueKind::Unknown,
    };
    let fits = match op {
        UnaryOp::Not => operand.ty == Ty::Bool,
        UnaryOp::Neg => operand.ty.is_numeric(),
    };
    if !fits {
        let symbol = if op == UnaryOp::Not { "!" } else { "-" };
        return Err(Diagnostic::new(
            Code::E0201,
            span,
            format!("`{symbol}` cannot apply to {}", operand.ty),
            format!("{symbol}{}", operand.ty),
        )
        .help(if op == UnaryOp::Not {
            "`!` takes a bool"
        } else {
            "`-` takes a number"
        }));
    }
    Ok(Typed::new(operand.ty.clone(), value, span))
}
