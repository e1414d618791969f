//! The evaluator of deferred expressions (language reference §9.1, `docs/deferred-expressions.md`):
//! what an executor computes when a node becomes ready, from the run's parameters, the JSON
//! of upstream outputs and the run id.

use crate::check::float_text;
use crate::emit::{is_safe_word, posix_quote};
use crate::quantity::Quantity;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What an expression may read.
pub struct Inputs<'a> {
    pub params: &'a BTreeMap<String, Json>,
    /// `(node, output)` → the JSON the node wrote there.
    pub outputs: &'a BTreeMap<(String, String), Json>,
    pub run_id: &'a str,
}

/// The value of `expr`, or why it has none (a missing input, a type error, an overflow, a zero
/// divisor).
pub fn evaluate(expr: &Json, inputs: &Inputs<'_>) -> Result<Json, String> {
    if let Some(lit) = expr.get("lit") {
        return Ok(lit.clone());
    }
    if let Some(name) = expr.get("param").and_then(Json::as_str) {
        return inputs
            .params
            .get(name)
            .cloned()
            .ok_or_else(|| format!("the parameter `{name}` has no value"));
    }
    if let Some(output) = expr.get("output") {
        let node = output.get("node").and_then(Json::as_str).unwrap_or_default();
        let name = output.get("name").and_then(Json::as_str).unwrap_or_default();
        return inputs
            .outputs
            .get(&(node.to_owned(), name.to_owned()))
            .cloned()
            .ok_or_else(|| format!("the output `{name}` of `{node}` has not been read"));
    }
    if expr.get("run_id").is_some() {
        return Ok(json!(inputs.run_id));
    }
    let op = expr
        .get("op")
        .and_then(Json::as_str)
        .ok_or_else(|| format!("not an expression: {expr}"))?;
    let args = expr
        .get("args")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    // `if` evaluates only the branch it takes.
    if op == "if" {
        let [condition, then, otherwise] = args else {
            return Err("`if` takes a condition and two branches".into());
        };
        let branch = if boolean(&evaluate(condition, inputs)?)? {
            then
        } else {
            otherwise
        };
        return evaluate(branch, inputs);
    }
    let values = args
        .iter()
        .map(|a| evaluate(a, inputs))
        .collect::<Result<Vec<_>, _>>()?;
    apply(op, &values)
}

#[derive(Clone, Copy)]
enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn of(value: &Json) -> Result<Number, String> {
        match (value.as_i64(), value.as_f64()) {
            (Some(i), _) => Ok(Number::Int(i)),
            (None, Some(f)) => Ok(Number::Float(f)),
            _ => Err(format!("{value} is not a number")),
        }
    }

    fn float(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    fn json(self) -> Json {
        match self {
            Number::Int(i) => json!(i),
            Number::Float(f) => json!(f),
        }
    }
}

fn boolean(value: &Json) -> Result<bool, String> {
    value.as_bool().ok_or_else(|| format!("{value} is not a boolean"))
}

fn text(value: &Json) -> Result<&str, String> {
    value.as_str().ok_or_else(|| format!("{value} is not a string"))
}

const OVERFLOW: &str = "integer overflow";

/// Integer arithmetic when both are integers (an overflow is an error), else floating point.
fn arithmetic(
    a: &Json,
    b: &Json,
    int: impl Fn(i64, i64) -> Result<i64, String>,
    float: impl Fn(f64, f64) -> f64,
) -> Result<Json, String> {
    match (Number::of(a)?, Number::of(b)?) {
        (Number::Int(x), Number::Int(y)) => int(x, y).map(|n| json!(n)),
        (x, y) => Ok(json!(float(x.float(), y.float()))),
    }
}

fn compare(a: &Json, b: &Json) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Json::String(x), Json::String(y)) => Ok(x.cmp(y)),
        (Json::Bool(x), Json::Bool(y)) => Ok(x.cmp(y)),
        _ => match (Number::of(a)?, Number::of(b)?) {
            (Number::Int(x), Number::Int(y)) => Ok(x.cmp(&y)),
            (x, y) => x
                .float()
                .partial_cmp(&y.float())
                .ok_or_else(|| "NaN cannot be compared".to_owned()),
        },
    }
}

/// A number rounded to an integer by `how`, or kept when it is one.
fn to_int(value: &Json, how: impl Fn(f64) -> f64) -> Result<Json, String> {
    match Number::of(value)? {
        Number::Int(i) => Ok(json!(i)),
        Number::Float(f) => {
            let rounded = how(f);
            if rounded.is_finite() && rounded >= i64::MIN as f64 && rounded < i64::MAX as f64 {
                Ok(json!(rounded as i64))
            } else {
                Err(OVERFLOW.into())
            }
        }
    }
}

fn apply(op: &str, values: &[Json]) -> Result<Json, String> {
    let arity = |n: usize| {
        if values.len() == n {
            Ok(())
        } else {
            Err(format!("`{op}` takes {n} arguments, not {}", values.len()))
        }
    };
    let first = || values.first().ok_or_else(|| format!("`{op}` needs an argument"));
    match op {
        "add" | "sub" | "mul" | "div" | "mod" => {
            arity(2)?;
            let (a, b) = (&values[0], &values[1]);
            match op {
                "add" => arithmetic(a, b, |x, y| x.checked_add(y).ok_or(OVERFLOW.into()), |x, y| x + y),
                "sub" => arithmetic(a, b, |x, y| x.checked_sub(y).ok_or(OVERFLOW.into()), |x, y| x - y),
                "mul" => arithmetic(a, b, |x, y| x.checked_mul(y).ok_or(OVERFLOW.into()), |x, y| x * y),
                _ => {
                    if Number::of(b)?.float() == 0.0 {
                        return Err("division by zero".into());
                    }
                    if op == "div" {
                        arithmetic(a, b, |x, y| x.checked_div(y).ok_or(OVERFLOW.into()), |x, y| x / y)
                    } else {
                        arithmetic(a, b, |x, y| x.checked_rem(y).ok_or(OVERFLOW.into()), |x, y| x % y)
                    }
                }
            }
        }
        "neg" => {
            arity(1)?;
            match Number::of(&values[0])? {
                Number::Int(i) => i.checked_neg().map(|n| json!(n)).ok_or_else(|| OVERFLOW.into()),
                Number::Float(f) => Ok(json!(-f)),
            }
        }
        "eq" | "ne" => {
            arity(2)?;
            let equal = match (Number::of(&values[0]), Number::of(&values[1])) {
                (Ok(a), Ok(b)) => a.float() == b.float(),
                _ => values[0] == values[1],
            };
            Ok(json!(equal == (op == "eq")))
        }
        "lt" | "le" | "gt" | "ge" => {
            arity(2)?;
            let ordering = compare(&values[0], &values[1])?;
            Ok(json!(match op {
                "lt" => ordering.is_lt(),
                "le" => ordering.is_le(),
                "gt" => ordering.is_gt(),
                _ => ordering.is_ge(),
            }))
        }
        "and" | "or" => {
            arity(2)?;
            let (a, b) = (boolean(&values[0])?, boolean(&values[1])?);
            Ok(json!(if op == "and" { a && b } else { a || b }))
        }
        "not" => {
            arity(1)?;
            Ok(json!(!boolean(&values[0])?))
        }
        "min" | "max" => {
            let mut best = Number::of(first()?)?;
            for value in &values[1..] {
                let candidate = Number::of(value)?;
                let better = match op {
                    "min" => candidate.float() < best.float(),
                    _ => candidate.float() > best.float(),
                };
                if better {
                    best = candidate;
                }
            }
            Ok(best.json())
        }
        "clamp" => {
            arity(3)?;
            let low = apply("max", &values[..2])?;
            apply("min", &[low, values[2].clone()])
        }
        "ceil_div" => {
            arity(2)?;
            match (Number::of(&values[0])?, Number::of(&values[1])?) {
                (Number::Int(_), Number::Int(0)) => Err("division by zero".into()),
                (Number::Int(a), Number::Int(b)) => {
                    let quotient = a.checked_div(b).ok_or(OVERFLOW)?;
                    let up = a % b != 0 && ((a % b > 0) == (b > 0));
                    Ok(json!(quotient + i64::from(up)))
                }
                _ => Err("`ceil_div` takes two integers".into()),
            }
        }
        "ceil" => to_int(first()?, f64::ceil),
        "floor" => to_int(first()?, f64::floor),
        "round" => to_int(first()?, f64::round),
        "int" => to_int(first()?, f64::trunc),
        "abs" => match Number::of(first()?)? {
            Number::Int(i) => i.checked_abs().map(|n| json!(n)).ok_or_else(|| OVERFLOW.into()),
            Number::Float(f) => Ok(json!(f.abs())),
        },
        "float" => Ok(json!(Number::of(first()?)?.float())),
        "str" => Ok(json!(as_text(first()?)?)),
        "concat" => Ok(json!(values.iter().map(text).collect::<Result<String, _>>()?)),
        "quantity" => {
            let value = first()?;
            let quantity = match value {
                Json::String(s) => Quantity::parse(s),
                _ => match Number::of(value)? {
                    Number::Int(i) => Some(Quantity::from_int(i)),
                    Number::Float(f) => Quantity::from_f64(f),
                },
            };
            quantity
                .map(|q| json!(q.canonical()))
                .ok_or_else(|| format!("{value} is not a quantity"))
        }
        "shell_quote" => Ok(json!(posix_quote(text(first()?)?))),
        "sha256_hex" => {
            arity(2)?;
            let digits = values[1].as_u64().ok_or("`sha256_hex` takes a count of digits")? as usize;
            let digest: String = Sha256::digest(text(&values[0])?.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            Ok(json!(digest.get(..digits).unwrap_or(&digest)))
        }
        other => Err(format!("unknown operation `{other}`")),
    }
}

/// `str` of a value (§6.2): integers in decimal, floats in their shortest round-trip form.
fn as_text(value: &Json) -> Result<String, String> {
    match value {
        Json::String(s) => Ok(s.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Ok(i.to_string()),
            None => Ok(float_text(n.as_f64().unwrap_or_default())),
        },
        other => Err(format!("{other} is not a scalar")),
    }
}

/// Whether a value passes a deferred field's quoting rule (`docs/deferred-expressions.md`):
/// `safe_word` values and `no_shell_expansion` strings are checked, never quoted.
pub fn breaks_rule(rule: &str, value: &Json) -> Option<String> {
    let text = value.as_str().unwrap_or_default();
    match rule {
        "safe_word" if !is_safe_word(text) => Some(format!(
            "the value {text:?} is not a word of `A-Z a-z 0-9 _ . / : = @ % + , -`, so it cannot reach the job intact"
        )),
        "no_shell_expansion" if text.contains(['$', '`']) => Some(format!(
            "the value {text:?} holds `$` or a backtick, which the submitter's shell would expand"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(expr: Json) -> Result<Json, String> {
        let params = BTreeMap::from([("rows".to_owned(), json!(2_500_000))]);
        let outputs = BTreeMap::from([(("train".to_owned(), "result".to_owned()), json!(0.25))]);
        evaluate(
            &expr,
            &Inputs {
                params: &params,
                outputs: &outputs,
                run_id: "r1",
            },
        )
    }

    fn op(name: &str, args: Vec<Json>) -> Json {
        json!({ "op": name, "args": args })
    }

    #[test]
    fn integer_arithmetic_stays_integer() {
        let rows = json!({ "param": "rows" });
        let workers = op(
            "clamp",
            vec![
                op("ceil_div", vec![rows.clone(), json!({"lit": 1_000_000})]),
                json!({"lit": 1}),
                json!({"lit": 8}),
            ],
        );
        assert_eq!(eval(workers), Ok(json!(3)));
        assert_eq!(
            eval(op("div", vec![json!({"lit": -7}), json!({"lit": 2})])),
            Ok(json!(-3))
        );
        assert_eq!(
            eval(op("mod", vec![json!({"lit": -7}), json!({"lit": 2})])),
            Ok(json!(-1))
        );
        assert_eq!(
            eval(op("add", vec![json!({"lit": 1}), json!({"lit": 0.5})])),
            Ok(json!(1.5))
        );
        assert!(eval(op("div", vec![rows, json!({"lit": 0})])).is_err());
        assert!(eval(op("mul", vec![json!({"lit": i64::MAX}), json!({"lit": 2})])).is_err());
    }

    #[test]
    fn reads_outputs_the_run_id_and_text() {
        let score = json!({ "output": { "node": "train", "name": "result" } });
        assert_eq!(eval(op("str", vec![score])), Ok(json!("0.25")));
        assert_eq!(eval(op("str", vec![json!({"lit": 2.0})])), Ok(json!("2.0")));
        let name = op(
            "concat",
            vec![
                json!({"lit": "w-n-"}),
                op("sha256_hex", vec![json!({"run_id": {}}), json!({"lit": 6})]),
            ],
        );
        let digest: String = Sha256::digest(b"r1").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(eval(name), Ok(json!(format!("w-n-{}", &digest[..6]))));
        assert_eq!(eval(op("shell_quote", vec![json!({"lit": "a b"})])), Ok(json!("'a b'")));
        assert_eq!(eval(op("quantity", vec![json!({"lit": 1.5})])), Ok(json!("1500m")));
        assert!(eval(json!({ "output": { "node": "other", "name": "result" } })).is_err());
    }

    #[test]
    fn if_takes_one_branch() {
        let expr = op(
            "if",
            vec![
                json!({"lit": true}),
                json!({"lit": 1}),
                op("div", vec![json!({"lit": 1}), json!({"lit": 0})]),
            ],
        );
        assert_eq!(eval(expr), Ok(json!(1)));
    }

    #[test]
    fn quoting_rules_refuse_rather_than_quote() {
        assert!(breaks_rule("safe_word", &json!("s3://b/k")).is_none());
        assert!(breaks_rule("safe_word", &json!("a;b")).is_some());
        assert!(breaks_rule("no_shell_expansion", &json!("$(id)")).is_some());
        assert!(breaks_rule("posix", &json!("$(id)")).is_none());
    }
}
