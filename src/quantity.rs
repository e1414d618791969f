//! Exact Kubernetes quantities, rwf durations and number literal classification.
//!
//! Everything here is integer arithmetic on exact decimal input: a quantity is
//! a count of nano-units (the finest precision Kubernetes keeps) and a duration
//! a count of milliseconds, so `1.5Gi`, `0.1` or `1.5h` never pass through
//! binary floating point on their way into a manifest.

use std::cmp::Ordering;
use std::fmt;

/// Nano-units per unit: Kubernetes rounds anything finer up to `1n`.
const NANOS_PER_UNIT: i128 = 1_000_000_000;

/// Kubernetes silently caps a parsed BinarySI quantity at 2^63-1; rwf rejects
/// larger values instead of emitting a different number than the user wrote.
const MAX_BINARY_NANOS: i128 = i64::MAX as i128 * NANOS_PER_UNIT;

/// Decimal SI suffixes other than the empty one, with their power of ten.
const DECIMAL_SUFFIXES: [(&str, i64); 9] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

/// Binary SI suffixes in increasing order, with their multiplier.
const BINARY_SUFFIXES: [(&str, u128); 6] = [
    ("Ki", 1 << 10),
    ("Mi", 1 << 20),
    ("Gi", 1 << 30),
    ("Ti", 1 << 40),
    ("Pi", 1 << 50),
    ("Ei", 1 << 60),
];

/// The suffixes a quantity literal may carry in rwf source (`n` and `u` are
/// left out: they only appear in quantity strings).
pub const QUANTITY_SUFFIXES: &[&str] = &["m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// The suffixes a duration literal may carry.
pub const DURATION_SUFFIXES: &[&str] = &["ms", "s", "min", "h", "d"];

const MILLIS_PER_SECOND: i64 = 1_000;
const MILLIS_PER_MINUTE: i64 = 60 * MILLIS_PER_SECOND;
const MILLIS_PER_HOUR: i64 = 60 * MILLIS_PER_MINUTE;
const MILLIS_PER_DAY: i64 = 24 * MILLIS_PER_HOUR;

/// Why a number literal is rejected; each variant maps to one diagnostic code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// E0302: an integer beyond i64, or a quantity or duration beyond its range.
    Overflow,
    /// E0304: a suffix that is neither a quantity nor a duration suffix.
    BadSuffix { suffix: String },
    /// E0304: an exponent (`3` or `-3`, after the `e`) together with a valid suffix, which
    /// Kubernetes quantities cannot have; `plain` is the number written without it, when short.
    ExponentWithSuffix {
        exponent: String,
        suffix: String,
        plain: Option<String>,
    },
    /// E0303, with a short reason such as "a fraction of a millisecond".
    OutOfRange(String),
}

/// How a quantity is written back. Kubernetes remembers the suffix family a
/// value was written with and canonicalizes within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// Powers of 1000: `500m`, `16G`.
    DecimalSI,
    /// Powers of 1024: `16Gi`.
    BinarySI,
    /// Powers of ten written as an exponent: `1e3`.
    DecimalExponent,
}

/// An exact Kubernetes quantity: its value in nano-units and its format.
///
/// `==` compares the format too (`1Ki` and `1024` differ in how they print),
/// while the ordering compares values only; use [`Quantity::same_value`] for
/// value equality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

/// What a quantity suffix multiplies its number by.
#[derive(Clone, Copy)]
struct Scale {
    pow10: i64,
    multiplier: u128,
    format: QuantityFormat,
}

impl Scale {
    /// Interprets a Kubernetes quantity suffix: a decimal or binary SI suffix,
    /// or an exponent `e3` / `E-3` (a bare `E` is exa).
    fn from_suffix(suffix: &str) -> Option<Scale> {
        let decimal = |pow10| Scale {
            pow10,
            multiplier: 1,
            format: QuantityFormat::DecimalSI,
        };
        if suffix.is_empty() {
            return Some(decimal(0));
        }
        if let Some(&(_, pow10)) = DECIMAL_SUFFIXES.iter().find(|(name, _)| *name == suffix) {
            return Some(decimal(pow10));
        }
        if let Some(&(_, multiplier)) = BINARY_SUFFIXES.iter().find(|(name, _)| *name == suffix) {
            return Some(Scale {
                pow10: 0,
                multiplier,
                format: QuantityFormat::BinarySI,
            });
        }
        let exponent = suffix.strip_prefix(['e', 'E'])?.parse().ok()?;
        Some(Scale {
            pow10: exponent,
            multiplier: 1,
            format: QuantityFormat::DecimalExponent,
        })
    }
}

impl Quantity {
    /// An integer quantity, written in DecimalSI like any number in rwf.
    pub fn from_int(n: i64) -> Quantity {
        Quantity {
            // Cannot overflow: |i64| * 10^9 is far below i128::MAX.
            nanos: i128::from(n) * NANOS_PER_UNIT,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// A float as a DecimalSI quantity, or `None` when it is not finite or out
    /// of range. The float's shortest decimal form is taken as the exact value,
    /// so `0.1` becomes `100m` rather than the binary approximation rounded up.
    pub fn from_f64(x: f64) -> Option<Quantity> {
        if !x.is_finite() {
            return None;
        }
        // Display never uses an exponent, so the text is always plain decimal.
        Quantity::parse(&x.to_string())
    }

    /// Parses Kubernetes' quantity syntax (`16Gi`, `500m`, `1.5`, `1e3`, `-2k`,
    /// `+1`, `.5`, `1.`), or `None` when the text is not a valid quantity or
    /// is out of range. Values finer than `1n` are rounded away from zero as
    /// Kubernetes does. Unlike Kubernetes, a BinarySI value beyond 2^63-1 is
    /// rejected rather than silently capped.
    pub fn parse(text: &str) -> Option<Quantity> {
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (int, rest) = split_digits(unsigned);
        let (frac, suffix) = match rest.strip_prefix('.') {
            Some(after) => split_digits(after),
            None => ("", rest),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        Quantity::build(negative, int, frac, Scale::from_suffix(suffix)?).ok()
    }

    /// A quantity literal from rwf source: `number` is `DIGITS[.DIGITS]` with
    /// underscores already removed, `suffix` one of [`QUANTITY_SUFFIXES`].
    pub fn from_literal(number: &str, suffix: &str) -> Result<Quantity, NumberError> {
        let scale = Scale::from_suffix(suffix)
            .filter(|_| QUANTITY_SUFFIXES.contains(&suffix))
            .ok_or_else(|| NumberError::BadSuffix {
                suffix: suffix.to_string(),
            })?;
        let (int, frac) = split_plain_number(number).ok_or_else(|| not_a_number(number))?;
        Quantity::build(false, int, frac, scale)
    }

    /// Computes `±int.frac × scale` exactly in nano-units, applying Kubernetes'
    /// parse rules: round finer values away from zero, and treat a BinarySI
    /// value strictly between 0 and 1 as DecimalSI.
    fn build(negative: bool, int: &str, frac: &str, scale: Scale) -> Result<Quantity, NumberError> {
        let digits = [int, frac].concat();
        let frac_len = i64::try_from(frac.len()).unwrap_or(i64::MAX);
        // Saturating is exact enough: shifts beyond ±10^18 overflow or round to 1n alike.
        let shift = scale.pow10.saturating_sub(frac_len).saturating_add(9);
        let (truncated, inexact) =
            scale_digits(digits.as_bytes(), scale.multiplier, shift).ok_or(NumberError::Overflow)?;
        let magnitude = truncated
            .checked_add(u128::from(inexact))
            .and_then(|m| i128::try_from(m).ok())
            .ok_or(NumberError::Overflow)?;
        let format = match scale.format {
            QuantityFormat::BinarySI if magnitude > MAX_BINARY_NANOS => return Err(NumberError::Overflow),
            QuantityFormat::BinarySI if magnitude > 0 && magnitude < NANOS_PER_UNIT => QuantityFormat::DecimalSI,
            format => format,
        };
        Ok(Quantity {
            nanos: if negative { -magnitude } else { magnitude },
            format,
        })
    }

    /// Multiplies by an integer, keeping the format; `None` on overflow.
    pub fn checked_mul(self, n: i64) -> Option<Quantity> {
        Some(Quantity {
            nanos: self.nanos.checked_mul(i128::from(n))?,
            format: self.format,
        })
    }

    /// Divides by an integer, keeping the format; `None` when `n` is zero or
    /// on overflow. A result finer than `1n` is rounded away from zero, the
    /// way Kubernetes rounds what it parses, so a share is never zero.
    pub fn checked_div(self, n: i64) -> Option<Quantity> {
        let divisor = i128::from(n);
        let quotient = self.nanos.checked_div(divisor)?;
        let remainder = self.nanos.checked_rem(divisor)?;
        let away = if remainder == 0 {
            0
        } else {
            self.nanos.signum() * divisor.signum()
        };
        Some(Quantity {
            nanos: quotient.checked_add(away)?,
            format: self.format,
        })
    }

    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    pub fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// Whether the value is a whole number (`2`, `1Ki`; not `500m`).
    pub fn is_whole(self) -> bool {
        self.nanos % NANOS_PER_UNIT == 0
    }

    pub fn format(self) -> QuantityFormat {
        self.format
    }

    /// Whether both quantities have the same value, whatever their formats.
    pub fn same_value(self, other: Quantity) -> bool {
        self.nanos == other.nanos
    }

    /// The value as a float: exact for integers and for fractional values
    /// below 2^53 nano-units, the nearest float otherwise.
    pub fn to_f64(self) -> f64 {
        if self.nanos % NANOS_PER_UNIT == 0 {
            (self.nanos / NANOS_PER_UNIT) as f64
        } else {
            self.nanos as f64 / NANOS_PER_UNIT as f64
        }
    }

    /// The canonical form of Kubernetes' `Quantity.String()`: `4`, `500m`,
    /// `16Gi`, `1536Mi` (for `1.5Gi`), `1e3`.
    pub fn canonical(self) -> String {
        self.to_string()
    }

    /// The value as an integer, rounded away from zero like Kubernetes'
    /// `Quantity.Value()`: `16Gi` is `17179869184`, `500m` is `1`.
    pub fn to_integer_string(self) -> String {
        // Cannot overflow: the quotient is 10^9 times smaller than i128::MAX.
        let rounded = self.nanos / NANOS_PER_UNIT + (self.nanos % NANOS_PER_UNIT).signum();
        rounded.to_string()
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Quantity) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders by value only: `1Ki` and `1024` compare equal.
impl Ord for Quantity {
    fn cmp(&self, other: &Quantity) -> Ordering {
        self.nanos.cmp(&other.nanos)
    }
}

/// Writes the canonical form (Kubernetes' `CanonicalizeBytes`): the mantissa
/// is an integer and the suffix as large as that allows.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nanos == 0 {
            return f.write_str("0");
        }
        // BinarySI needs a whole number of at least 1024 in magnitude;
        // anything else prints as DecimalSI so no precision is lost.
        let binary = self.format == QuantityFormat::BinarySI
            && self.nanos % NANOS_PER_UNIT == 0
            && self.nanos.unsigned_abs() >= 1024 * NANOS_PER_UNIT.unsigned_abs();
        if binary {
            let mut mantissa = self.nanos / NANOS_PER_UNIT;
            let mut suffix = "";
            for (name, _) in BINARY_SUFFIXES {
                if mantissa % 1024 != 0 {
                    break;
                }
                mantissa /= 1024;
                suffix = name;
            }
            return write!(f, "{mantissa}{suffix}");
        }
        let mut mantissa = self.nanos;
        let mut pow10: i64 = -9;
        while mantissa % 1000 == 0 {
            mantissa /= 1000;
            pow10 += 3;
        }
        let si_suffix = match pow10 {
            0 => Some(""),
            _ => DECIMAL_SUFFIXES
                .iter()
                .find(|(_, p)| *p == pow10)
                .map(|(name, _)| *name),
        };
        match si_suffix {
            Some(suffix) if self.format != QuantityFormat::DecimalExponent => {
                write!(f, "{mantissa}{suffix}")
            }
            _ if pow10 == 0 => write!(f, "{mantissa}"),
            // DecimalExponent, or beyond `E` where no SI suffix exists: the
            // exponent keeps the value exact (older Kubernetes dropped it).
            _ => write!(f, "{mantissa}e{pow10}"),
        }
    }
}

/// A span of time, exact to the millisecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    millis: i64,
}

impl Duration {
    /// `None` when the span does not fit in i64 milliseconds.
    pub fn from_secs(secs: i64) -> Option<Duration> {
        Some(Duration {
            millis: secs.checked_mul(MILLIS_PER_SECOND)?,
        })
    }

    pub fn from_millis(ms: i64) -> Duration {
        Duration { millis: ms }
    }

    /// A duration literal from rwf source: `number` is `DIGITS[.DIGITS]`
    /// (`1.5h` is fine), `suffix` one of [`DURATION_SUFFIXES`]. A value that
    /// is not a whole number of milliseconds is out of range.
    pub fn from_literal(number: &str, suffix: &str) -> Result<Duration, NumberError> {
        let unit = match suffix {
            "ms" => 1,
            "s" => MILLIS_PER_SECOND,
            "min" => MILLIS_PER_MINUTE,
            "h" => MILLIS_PER_HOUR,
            "d" => MILLIS_PER_DAY,
            _ => {
                return Err(NumberError::BadSuffix {
                    suffix: suffix.to_string(),
                })
            }
        };
        let (int, frac) = split_plain_number(number).ok_or_else(|| not_a_number(number))?;
        let shift = i64::try_from(frac.len()).map_or(i64::MIN, |len| -len);
        let digits = [int, frac].concat();
        let (millis, inexact) =
            scale_digits(digits.as_bytes(), u128::from(unit.unsigned_abs()), shift).ok_or(NumberError::Overflow)?;
        if inexact {
            return Err(NumberError::OutOfRange("a fraction of a millisecond".to_string()));
        }
        let millis = i64::try_from(millis).map_err(|_| NumberError::Overflow)?;
        Ok(Duration { millis })
    }

    pub fn millis(self) -> i64 {
        self.millis
    }

    /// `None` when the span is not a whole number of seconds.
    pub fn whole_seconds(self) -> Option<i64> {
        (self.millis % MILLIS_PER_SECOND == 0).then_some(self.millis / MILLIS_PER_SECOND)
    }

    /// `None` on overflow.
    pub fn checked_mul(self, n: i64) -> Option<Duration> {
        Some(Duration {
            millis: self.millis.checked_mul(n)?,
        })
    }

    /// Integer division of the milliseconds, truncating toward zero like rwf's
    /// integer `/`; `None` when `n` is zero or on overflow.
    pub fn checked_div(self, n: i64) -> Option<Duration> {
        Some(Duration {
            millis: self.millis.checked_div(n)?,
        })
    }
}

/// The shortest exact form: the largest of `d`, `h`, `min`, `s` that divides
/// the span, else `ms` (`5min`, `6h`, `1500ms`, `90min`); zero is `0s`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.millis == 0 {
            return f.write_str("0s");
        }
        let units = [
            ("d", MILLIS_PER_DAY),
            ("h", MILLIS_PER_HOUR),
            ("min", MILLIS_PER_MINUTE),
            ("s", MILLIS_PER_SECOND),
        ];
        for (name, unit) in units {
            if self.millis % unit == 0 {
                return write!(f, "{}{name}", self.millis / unit);
            }
        }
        write!(f, "{}ms", self.millis)
    }
}

/// A classified number token.
#[derive(Debug, Clone, PartialEq)]
pub enum NumberLit {
    Int(i64),
    Float(f64),
    Quantity(Quantity),
    Duration(Duration),
}

/// Classifies one number token as lexed by the grammar:
/// `DIGITS(_DIGITS)*[.DIGITS][e[+-]DIGITS][SUFFIX]` with `SUFFIX` a run of
/// ASCII letters.
///
/// Without a suffix it is an `Int` (i64, `Overflow` beyond), or a `Float` when
/// it has a `.` or an exponent. A quantity suffix makes a `Quantity`, a
/// duration suffix a `Duration`; any other suffix is `BadSuffix`, and an
/// exponent together with a valid suffix `ExponentWithSuffix`. The exponent is lower-case `e` only (`E` is
/// exa) and `m` is milli, never minutes. Underscores are digit separators.
pub fn classify_number(token: &str) -> Result<NumberLit, NumberError> {
    let bad_suffix = |suffix: &str| NumberError::BadSuffix {
        suffix: suffix.to_string(),
    };
    if !token.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(bad_suffix(token));
    }
    let int_len = token.bytes().take_while(|b| b.is_ascii_digit() || *b == b'_').count();
    let (int, rest) = token.split_at(int_len);
    let (frac, rest) = match rest.strip_prefix('.').map(split_digits) {
        Some((frac, after)) if !frac.is_empty() => (frac, after),
        _ => ("", rest),
    };
    let (exponent, suffix) = match rest.strip_prefix('e') {
        Some(after) => {
            let sign_len = usize::from(after.starts_with(['+', '-']));
            let (digits, tail) = split_digits(&after[sign_len..]);
            if digits.is_empty() {
                (None, rest)
            } else {
                (Some(&after[..sign_len + digits.len()]), tail)
            }
        }
        None => (None, rest),
    };

    let mut number = int.replace('_', "");
    if !frac.is_empty() {
        number.push('.');
        number.push_str(frac);
    }
    match (suffix, exponent) {
        ("", None) if frac.is_empty() => number.parse().map(NumberLit::Int).map_err(|_| NumberError::Overflow),
        ("", _) => {
            if let Some(exponent) = exponent {
                number.push('e');
                number.push_str(exponent);
            }
            number
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(NumberLit::Float)
                .ok_or_else(|| NumberError::OutOfRange("too large for a float".to_string()))
        }
        (suffix, Some(exponent)) if QUANTITY_SUFFIXES.contains(&suffix) || DURATION_SUFFIXES.contains(&suffix) => {
            Err(NumberError::ExponentWithSuffix {
                exponent: exponent.to_owned(),
                suffix: suffix.to_owned(),
                plain: without_exponent(&int.replace('_', ""), frac, exponent),
            })
        }
        (suffix, Some(_)) => Err(bad_suffix(suffix)),
        (suffix, None) if QUANTITY_SUFFIXES.contains(&suffix) => {
            Quantity::from_literal(&number, suffix).map(NumberLit::Quantity)
        }
        (suffix, None) if DURATION_SUFFIXES.contains(&suffix) => {
            Duration::from_literal(&number, suffix).map(NumberLit::Duration)
        }
        (suffix, None) => Err(bad_suffix(suffix)),
    }
}

/// The help for a milli-suffixed number written where a duration is expected (`90m`): `m`
/// is milli, as in Kubernetes quantities, and minutes are `min`. `None` for any other text.
pub fn milli_for_minutes_help(text: &str) -> Option<String> {
    let number = text.trim().strip_suffix('m')?;
    let plain = number.trim_start_matches('-').replace('_', "");
    split_plain_number(&plain)?;
    Some(format!(
        "`m` means milli (thousandths), so `{}` is a quantity, not a duration; minutes are `min`: write `{number}min`",
        text.trim()
    ))
}

/// `INT.FRAC` times ten to `exponent` in plain digits (`1`, `5`, `2` → `150`), or `None` when
/// it would be long.
fn without_exponent(int: &str, frac: &str, exponent: &str) -> Option<String> {
    let exponent: i64 = exponent.parse().ok().filter(|e: &i64| e.abs() <= 30)?;
    let digits = format!("{int}{frac}");
    let point = i64::try_from(int.len()).ok()? + exponent;
    let (whole, fraction) = if point <= 0 {
        (
            String::new(),
            format!("{}{digits}", "0".repeat(usize::try_from(-point).ok()?)),
        )
    } else {
        let point = usize::try_from(point).ok()?;
        if point >= digits.len() {
            (format!("{digits}{}", "0".repeat(point - digits.len())), String::new())
        } else {
            let (whole, fraction) = digits.split_at(point);
            (whole.to_owned(), fraction.to_owned())
        }
    };
    let whole = match whole.trim_start_matches('0') {
        "" => "0",
        trimmed => trimmed,
    };
    Some(match fraction.trim_end_matches('0') {
        "" => whole.to_owned(),
        fraction => format!("{whole}.{fraction}"),
    })
}

/// Splits `text` after its leading ASCII digits.
fn split_digits(text: &str) -> (&str, &str) {
    let len = text.bytes().take_while(u8::is_ascii_digit).count();
    text.split_at(len)
}

/// Splits `DIGITS[.DIGITS]` into its integer and fraction digits.
fn split_plain_number(number: &str) -> Option<(&str, &str)> {
    let (int, frac) = match number.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (number, None),
    };
    let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (is_digits(int) && frac.is_none_or(is_digits)).then_some((int, frac.unwrap_or("")))
}

fn not_a_number(number: &str) -> NumberError {
    NumberError::OutOfRange(format!("`{number}` is not a decimal number"))
}

/// Computes `digits × multiplier × 10^shift` exactly: the result truncated
/// toward zero and whether anything was truncated, or `None` when it does not
/// fit in u128 or `digits` holds a non-digit. `multiplier` must be below
/// 10^19 (at most 2^60 here), which keeps the long multiplication in range.
fn scale_digits(digits: &[u8], multiplier: u128, shift: i64) -> Option<(u128, bool)> {
    let digit = |d: &u8| char::from(*d).to_digit(10).map(u128::from);
    let digits = match digits.iter().position(|&d| d != b'0') {
        Some(first_significant) => &digits[first_significant..],
        None => return Some((0, false)),
    };
    let to_int = |digits: &[u8]| {
        digits
            .iter()
            .try_fold(0u128, |acc, d| acc.checked_mul(10)?.checked_add(digit(d)?))
    };
    if shift >= 0 {
        let power = 10u128.checked_pow(u32::try_from(shift).ok()?)?;
        let value = to_int(digits)?.checked_mul(multiplier)?.checked_mul(power)?;
        return Some((value, false));
    }
    // The last `cut` digits fall below the unit: split them off as a fraction
    // 0.[padding zeros][low], whose product with the multiplier is carried
    // into the whole part by long multiplication from the last digit.
    let cut = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
    let (high, low) = digits.split_at(digits.len().saturating_sub(cut));
    let padding = cut.saturating_sub(digits.len());
    let whole = to_int(high)?.checked_mul(multiplier)?;
    // With 20 or more leading zeros the fraction is below 10^-20, so times a
    // multiplier below 10^19 it stays below 1; `low` is non-zero here.
    if padding >= 20 {
        return Some((whole, true));
    }
    let mut carry = 0u128;
    let mut inexact = false;
    let fraction_digits = low.iter().rev().map(digit);
    for d in fraction_digits.chain(std::iter::repeat_n(Some(0), padding)) {
        // Below 10 × multiplier + carry, and carry < multiplier: no overflow.
        let product = d? * multiplier + carry;
        inexact |= !product.is_multiple_of(10);
        carry = product / 10;
    }
    Some((whole.checked_add(carry)?, inexact))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> Quantity {
        match Quantity::parse(text) {
            Some(quantity) => quantity,
            None => panic!("`{text}` should parse"),
        }
    }

    fn canonical(text: &str) -> String {
        q(text).canonical()
    }

    #[test]
    fn canonical_forms_from_the_brief() {
        assert_eq!(Quantity::from_int(4).canonical(), "4");
        assert_eq!(
            Quantity::from_f64(0.5).map(Quantity::canonical).as_deref(),
            Some("500m")
        );
        assert_eq!(canonical("16Gi"), "16Gi");
        assert_eq!(
            Quantity::from_literal("1.5", "Gi").map(Quantity::canonical),
            Ok("1536Mi".into())
        );
        assert_eq!(Quantity::from_int(1_000_000_000).canonical(), "1G");
        assert_eq!(canonical("1000"), "1k");
        assert_eq!(canonical("0.1"), "100m");
        assert_eq!(canonical("1024"), "1024");
        assert_eq!(
            q("512Ki").checked_mul(2).map(Quantity::canonical).as_deref(),
            Some("1Mi")
        );
        assert_eq!(canonical("0"), "0");
        assert_eq!(canonical("1.5"), "1500m");
        assert_eq!(
            q("100m").checked_mul(3).map(Quantity::canonical).as_deref(),
            Some("300m")
        );
    }

    #[test]
    fn decimal_si_picks_the_largest_exact_suffix() {
        let cases = [
            ("1", "1"),
            ("10", "10"),
            ("100", "100"),
            ("1500", "1500"),
            ("12000", "12k"),
            ("1M", "1M"),
            ("1000k", "1M"),
            ("0.001", "1m"),
            ("0.0001", "100u"),
            ("1.01", "1010m"),
            ("10.000001", "10000001u"),
            ("1n", "1n"),
            ("1000n", "1u"),
            ("10000000n", "10m"),
            ("100u", "100u"),
            ("1000u", "1m"),
            ("12E", "12E"),
            ("1000P", "1E"),
            ("1T", "1T"),
            ("5P", "5P"),
            ("1.", "1"),
            (".5", "500m"),
            ("+1", "1"),
            ("-1", "-1"),
            ("-0.5", "-500m"),
            ("-5000", "-5k"),
            ("-0", "0"),
            ("000012", "12"),
        ];
        for (text, expected) in cases {
            assert_eq!(canonical(text), expected, "{text}");
        }
    }

    #[test]
    fn decimal_beyond_exa_uses_an_exponent() {
        assert_eq!(canonical("1000E"), "1e21");
        assert_eq!(canonical("-1500E"), "-1500E");
        assert_eq!(canonical("-15000E"), "-15e21");
        assert_eq!(
            Quantity::from_f64(1e21).map(Quantity::canonical).as_deref(),
            Some("1e21")
        );
    }

    #[test]
    fn binary_si_canonical_forms() {
        let cases = [
            ("1Ki", "1Ki"),
            ("1024Ki", "1Mi"),
            ("1023Ki", "1023Ki"),
            ("100Mi", "100Mi"),
            ("1.5Gi", "1536Mi"),
            ("2048Mi", "2Gi"),
            ("7Ei", "7Ei"),
            ("-1Ki", "-1Ki"),
            ("-1.5Gi", "-1536Mi"),
            ("0Ki", "0"),
            // Below 1024 or fractional: printed as DecimalSI.
            ("0.5Ki", "512"),
            ("1.1Ki", "1126400m"),
            ("0.0001Ki", "102400u"),
        ];
        for (text, expected) in cases {
            assert_eq!(canonical(text), expected, "{text}");
        }
        assert_eq!(q("1Ki").format(), QuantityFormat::BinarySI);
    }

    #[test]
    fn binary_si_between_zero_and_one_becomes_decimal() {
        let small = q("0.0001Ki");
        assert_eq!(small.format(), QuantityFormat::DecimalSI);
        assert_eq!(
            small.checked_mul(100_000).map(Quantity::canonical).as_deref(),
            Some("10240")
        );
        assert_eq!(q("-0.0001Ki").format(), QuantityFormat::DecimalSI);
        assert_eq!(q("0.5Ki").format(), QuantityFormat::BinarySI);
    }

    #[test]
    fn binary_si_beyond_i64_is_rejected_not_capped() {
        assert_eq!(Quantity::parse("8Ei"), None);
        assert_eq!(Quantity::parse("-8Ei"), None);
        assert_eq!(Quantity::from_literal("8", "Ei"), Err(NumberError::Overflow));
        assert_eq!(canonical("9223372036854775807"), "9223372036854775807");
    }

    #[test]
    fn decimal_exponent_forms() {
        assert_eq!(canonical("1e3"), "1e3");
        assert_eq!(canonical("1E3"), "1e3");
        assert_eq!(canonical("1e+3"), "1e3");
        assert_eq!(canonical("1.5e3"), "1500");
        assert_eq!(canonical("1e-3"), "1e-3");
        assert_eq!(canonical("5e-1"), "500e-3");
        assert_eq!(canonical("10e2"), "1e3");
        assert_eq!(canonical("1e0"), "1");
        assert_eq!(canonical("0e99999"), "0");
        assert_eq!(q("1e3").format(), QuantityFormat::DecimalExponent);
        assert_eq!(q("1E").format(), QuantityFormat::DecimalSI);
        assert_eq!(canonical("1E"), "1E");
    }

    #[test]
    fn sub_nano_values_round_away_from_zero() {
        assert_eq!(canonical("0.9n"), "1n");
        assert_eq!(canonical("-0.9n"), "-1n");
        assert_eq!(canonical("1.0000000001"), "1000000001n");
        assert_eq!(canonical("1e-30"), "1e-9");
        assert_eq!(canonical("1e-9223372036854775807"), "1e-9");
        assert_eq!(canonical("0.0000000000000000000000000000001"), "1n");
        assert_eq!(canonical("0.00000000000000000000000000000000000000000001Ei"), "1n");
        assert_eq!(canonical("0.5n"), "1n");
        assert_eq!(canonical("0.0000000000000000000000000000"), "0");
    }

    #[test]
    fn invalid_quantity_strings() {
        let invalid = [
            "",
            "+",
            "-",
            ".",
            "Ki",
            "1 ",
            " 1",
            "1e",
            "1ki",
            "1KiB",
            "1.2.3",
            "--1",
            "+-1",
            "1e1.5",
            "0x10",
            "1Gb",
            "1mi",
            "1e99999999999999999999",
            "1e40",
            "1k1",
            "1_000",
            "1,5",
            "∞",
            "1e+",
            "1ee3",
        ];
        for text in invalid {
            assert_eq!(Quantity::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn range_is_that_of_i128_nanos() {
        assert_eq!(
            canonical("170141183460469231731687303715884105727n"),
            "170141183460469231731687303715884105727n"
        );
        assert_eq!(Quantity::parse("170141183460469231731687303715884105728n"), None);
        assert_eq!(Quantity::parse("1000000000000000000000000000000"), None);
        assert_eq!(
            Quantity::from_literal("999999999999999999999999999999999999999", "E"),
            Err(NumberError::Overflow)
        );
    }

    #[test]
    fn from_int_extremes() {
        assert_eq!(Quantity::from_int(1000).canonical(), "1k");
        assert_eq!(Quantity::from_int(1025).canonical(), "1025");
        assert_eq!(Quantity::from_int(i64::MAX).canonical(), "9223372036854775807");
        assert_eq!(Quantity::from_int(i64::MIN).canonical(), "-9223372036854775808");
        assert_eq!(Quantity::from_int(0).format(), QuantityFormat::DecimalSI);
    }

    #[test]
    fn from_f64_uses_the_shortest_decimal() {
        let cases = [
            (0.1, "100m"),
            (2.5, "2500m"),
            (-0.25, "-250m"),
            (1e-10, "1n"),
            (5e-324, "1n"),
            (-0.0, "0"),
            (3.0, "3"),
            (1e9, "1G"),
            (0.3, "300m"),
        ];
        for (x, expected) in cases {
            assert_eq!(
                Quantity::from_f64(x).map(Quantity::canonical).as_deref(),
                Some(expected),
                "{x}"
            );
        }
        assert_eq!(Quantity::from_f64(f64::NAN), None);
        assert_eq!(Quantity::from_f64(f64::INFINITY), None);
        assert_eq!(Quantity::from_f64(f64::NEG_INFINITY), None);
        assert_eq!(Quantity::from_f64(1e300), None);
        assert_eq!(Quantity::from_f64(f64::MAX), None);
    }

    #[test]
    fn from_literal_checks_suffix_and_number() {
        assert_eq!(Quantity::from_literal("16", "Gi"), Ok(q("16Gi")));
        assert_eq!(
            Quantity::from_literal("500", "m").map(Quantity::canonical),
            Ok("500m".into())
        );
        assert_eq!(
            Quantity::from_literal("1.5", "m").map(Quantity::canonical),
            Ok("1500u".into())
        );
        assert_eq!(
            Quantity::from_literal("2", "k").map(Quantity::canonical),
            Ok("2k".into())
        );
        for suffix in ["", "n", "u", "X", "e3", "ki", "Gb"] {
            assert_eq!(
                Quantity::from_literal("1", suffix),
                Err(NumberError::BadSuffix { suffix: suffix.into() }),
                "{suffix:?}"
            );
        }
        for number in ["", "1.", ".5", "1e3", "-1", "1_0", "a"] {
            assert!(
                matches!(Quantity::from_literal(number, "k"), Err(NumberError::OutOfRange(_))),
                "{number:?}"
            );
        }
    }

    #[test]
    fn multiplication_keeps_the_format() {
        assert_eq!(q("1Gi").checked_mul(0).map(Quantity::canonical).as_deref(), Some("0"));
        assert_eq!(
            q("1Gi").checked_mul(-2).map(Quantity::canonical).as_deref(),
            Some("-2Gi")
        );
        assert_eq!(
            q("1e3").checked_mul(2).map(Quantity::format),
            Some(QuantityFormat::DecimalExponent)
        );
        assert_eq!(q("1e3").checked_mul(2).map(Quantity::canonical).as_deref(), Some("2e3"));
        assert_eq!(
            q("4Ei").checked_mul(4).map(Quantity::canonical).as_deref(),
            Some("16Ei")
        );
        let huge = q("170141183460469231731687303715884105727n");
        assert_eq!(huge.checked_mul(2), None);
        assert_eq!(huge.checked_mul(-1).map(Quantity::is_negative), Some(true));
    }

    #[test]
    fn division_rounds_away_from_zero() {
        let div = |text: &str, n| q(text).checked_div(n).map(Quantity::canonical);
        assert_eq!(div("1", 3).as_deref(), Some("333333334n"));
        assert_eq!(div("-1", 3).as_deref(), Some("-333333334n"));
        assert_eq!(div("1", -3).as_deref(), Some("-333333334n"));
        assert_eq!(div("-1", -3).as_deref(), Some("333333334n"));
        assert_eq!(div("1Gi", 2).as_deref(), Some("512Mi"));
        assert_eq!(div("3", 3).as_deref(), Some("1"));
        assert_eq!(div("1n", 2).as_deref(), Some("1n"));
        assert_eq!(div("0", 7).as_deref(), Some("0"));
        assert_eq!(div("1", 0), None);
        assert_eq!(
            q("1Gi").checked_div(2).map(Quantity::format),
            Some(QuantityFormat::BinarySI)
        );
        // i128::MIN nano-units: the one value whose division by -1 overflows.
        let minimum = q("1n")
            .checked_mul(i64::MIN)
            .and_then(|x| x.checked_mul(i64::MIN))
            .and_then(|x| x.checked_mul(-2));
        assert_eq!(minimum.map(Quantity::is_negative), Some(true));
        assert_eq!(minimum.and_then(|x| x.checked_div(-1)), None);
        assert_eq!(minimum.and_then(|x| x.checked_mul(-1)), None);
        assert_eq!(
            minimum.map(Quantity::canonical).as_deref(),
            Some("-170141183460469231731687303715884105728n")
        );
        assert_eq!(
            minimum.map(Quantity::to_integer_string).as_deref(),
            Some("-170141183460469231731687303716")
        );
    }

    #[test]
    fn integer_string_rounds_away_from_zero() {
        assert_eq!(q("16Gi").to_integer_string(), "17179869184");
        assert_eq!(q("500m").to_integer_string(), "1");
        assert_eq!(q("-500m").to_integer_string(), "-1");
        assert_eq!(q("1.5").to_integer_string(), "2");
        assert_eq!(q("2").to_integer_string(), "2");
        assert_eq!(q("0").to_integer_string(), "0");
        assert_eq!(q("1n").to_integer_string(), "1");
        assert_eq!(q("1e3").to_integer_string(), "1000");
    }

    #[test]
    fn predicates_and_floats() {
        assert!(q("-1m").is_negative());
        assert!(!q("0").is_negative());
        assert!(q("0Ki").is_zero());
        assert!(!q("1n").is_zero());
        assert_eq!(q("500m").to_f64(), 0.5);
        assert_eq!(q("100m").to_f64(), 0.1);
        assert_eq!(q("16Gi").to_f64(), 17179869184.0);
        assert_eq!(q("-1.5").to_f64(), -1.5);
        assert_eq!(q("1n").to_f64(), 1e-9);
    }

    #[test]
    fn ordering_ignores_the_format() {
        assert!(q("1Ki").same_value(q("1024")));
        assert_ne!(q("1Ki"), q("1024"));
        assert_eq!(q("1Ki").cmp(&q("1024")), Ordering::Equal);
        assert!(q("500m") < q("1"));
        assert!(q("-1Gi") < q("0"));
        assert!(q("1Mi") > q("1M"));
        assert_eq!(q("1e3").max(q("999")), q("1e3"));
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(format!("{}", q("1.5Gi")), "1536Mi");
        assert_eq!(q("2000m").to_string(), q("2000m").canonical());
    }

    #[test]
    fn duration_literals() {
        let ms = |number, suffix| Duration::from_literal(number, suffix).map(Duration::millis);
        assert_eq!(ms("1.5", "h"), Ok(5_400_000));
        assert_eq!(ms("300", "s"), Ok(300_000));
        assert_eq!(ms("2", "min"), Ok(120_000));
        assert_eq!(ms("1", "d"), Ok(86_400_000));
        assert_eq!(ms("250", "ms"), Ok(250));
        assert_eq!(ms("0.001", "s"), Ok(1));
        assert_eq!(ms("0.5", "d"), Ok(43_200_000));
        assert_eq!(ms("0", "s"), Ok(0));
        assert_eq!(ms("1.0", "ms"), Ok(1));
        let fraction = Err(NumberError::OutOfRange("a fraction of a millisecond".into()));
        assert_eq!(ms("1.5", "ms"), fraction);
        assert_eq!(ms("0.0001", "s"), fraction);
        assert_eq!(ms("0.00000000000000000000000000000000001", "d"), fraction);
        assert_eq!(ms("9223372036854775807", "ms"), Ok(i64::MAX));
        assert_eq!(ms("9223372036854775808", "ms"), Err(NumberError::Overflow));
        assert_eq!(ms("9223372036854775807", "d"), Err(NumberError::Overflow));
        assert_eq!(ms("1", "m"), Err(NumberError::BadSuffix { suffix: "m".into() }));
        assert_eq!(ms("1", "mins"), Err(NumberError::BadSuffix { suffix: "mins".into() }));
        assert!(matches!(ms("1e3", "s"), Err(NumberError::OutOfRange(_))));
    }

    #[test]
    fn duration_arithmetic() {
        let d = Duration::from_millis;
        assert_eq!(Duration::from_secs(3).map(Duration::millis), Some(3000));
        assert_eq!(Duration::from_secs(i64::MAX), None);
        assert_eq!(d(3000).whole_seconds(), Some(3));
        assert_eq!(d(-3000).whole_seconds(), Some(-3));
        assert_eq!(d(1500).whole_seconds(), None);
        assert_eq!(d(1500).checked_mul(2), Some(d(3000)));
        assert_eq!(d(i64::MAX).checked_mul(2), None);
        assert_eq!(d(1001).checked_div(2), Some(d(500)));
        assert_eq!(d(-1001).checked_div(2), Some(d(-500)));
        assert_eq!(d(1).checked_div(0), None);
        assert_eq!(d(i64::MIN).checked_div(-1), None);
        assert!(d(1) < d(2));
    }

    #[test]
    fn duration_display_uses_the_largest_exact_unit() {
        let cases = [
            (0, "0s"),
            (300_000, "5min"),
            (6 * MILLIS_PER_HOUR, "6h"),
            (1500, "1500ms"),
            (90 * MILLIS_PER_MINUTE, "90min"),
            (2 * MILLIS_PER_DAY, "2d"),
            (36 * MILLIS_PER_HOUR, "36h"),
            (-3000, "-3s"),
            (1001, "1001ms"),
            (i64::MIN, "-9223372036854775808ms"),
        ];
        for (millis, expected) in cases {
            assert_eq!(Duration::from_millis(millis).to_string(), expected);
        }
    }

    fn classify(token: &str) -> Result<NumberLit, NumberError> {
        classify_number(token)
    }

    fn bad(suffix: &str) -> Result<NumberLit, NumberError> {
        Err(NumberError::BadSuffix { suffix: suffix.into() })
    }

    #[test]
    fn classify_ints_and_floats() {
        assert_eq!(classify("42"), Ok(NumberLit::Int(42)));
        assert_eq!(classify("0"), Ok(NumberLit::Int(0)));
        assert_eq!(classify("007"), Ok(NumberLit::Int(7)));
        assert_eq!(classify("1_000_000"), Ok(NumberLit::Int(1_000_000)));
        assert_eq!(classify("9223372036854775807"), Ok(NumberLit::Int(i64::MAX)));
        assert_eq!(classify("9223372036854775808"), Err(NumberError::Overflow));
        assert_eq!(classify("1.5"), Ok(NumberLit::Float(1.5)));
        assert_eq!(classify("1_000.25"), Ok(NumberLit::Float(1000.25)));
        assert_eq!(classify("1e3"), Ok(NumberLit::Float(1000.0)));
        assert_eq!(classify("1e+3"), Ok(NumberLit::Float(1000.0)));
        assert_eq!(classify("1.5e-3"), Ok(NumberLit::Float(0.0015)));
        assert_eq!(classify("0.1"), Ok(NumberLit::Float(0.1)));
        assert!(matches!(classify("1e999"), Err(NumberError::OutOfRange(_))));
    }

    #[test]
    fn classify_quantities_and_durations() {
        assert_eq!(classify("16Gi"), Ok(NumberLit::Quantity(q("16Gi"))));
        assert_eq!(classify("500m"), Ok(NumberLit::Quantity(q("500m"))));
        assert_eq!(classify("1_000m"), Ok(NumberLit::Quantity(q("1000m"))));
        assert_eq!(classify("1.5Gi"), Ok(NumberLit::Quantity(q("1536Mi"))));
        assert_eq!(classify("2E"), Ok(NumberLit::Quantity(q("2E"))));
        assert_eq!(
            classify("5min"),
            Ok(NumberLit::Duration(Duration::from_millis(300_000)))
        );
        assert_eq!(
            classify("300s"),
            Ok(NumberLit::Duration(Duration::from_millis(300_000)))
        );
        assert_eq!(
            classify("1.5h"),
            Ok(NumberLit::Duration(Duration::from_millis(5_400_000)))
        );
        assert_eq!(
            classify("1_500ms"),
            Ok(NumberLit::Duration(Duration::from_millis(1500)))
        );
        assert_eq!(
            classify("7d"),
            Ok(NumberLit::Duration(Duration::from_millis(7 * MILLIS_PER_DAY)))
        );
        assert!(matches!(classify("1.5ms"), Err(NumberError::OutOfRange(_))));
        assert_eq!(
            classify("99999999999999999999999999999999999999999E"),
            Err(NumberError::Overflow)
        );
    }

    #[test]
    fn classify_rejects_bad_suffixes() {
        assert_eq!(classify("16Gb"), bad("Gb"));
        assert_eq!(classify("5mins"), bad("mins"));
        assert_eq!(classify("2ki"), bad("ki"));
        assert_eq!(classify("1n"), bad("n"));
        let exponent_with = |exponent: &str, suffix: &str, plain: &str| {
            Err(NumberError::ExponentWithSuffix {
                exponent: exponent.into(),
                suffix: suffix.into(),
                plain: Some(plain.into()),
            })
        };
        assert_eq!(classify("1e3k"), exponent_with("3", "k", "1000"));
        assert_eq!(classify("1e3s"), exponent_with("3", "s", "1000"));
        assert_eq!(classify("1e3Gi"), exponent_with("3", "Gi", "1000"));
        assert_eq!(classify("1.5e-3Gi"), exponent_with("-3", "Gi", "0.0015"));
        assert_eq!(classify("0_012.50e+1m"), exponent_with("+1", "m", "125"));
        assert_eq!(classify("25e-1s"), exponent_with("-1", "s", "2.5"));
        assert!(matches!(
            classify("1e99Mi"),
            Err(NumberError::ExponentWithSuffix { plain: None, .. })
        ));
        assert_eq!(classify("1e3Gb"), bad("Gb"));
        assert_eq!(classify("1e"), bad("e"));
        assert_eq!(classify("1em"), bad("em"));
        assert_eq!(classify("1e+"), bad("e+"));
        assert_eq!(classify("1E3"), bad("E3"));
        assert_eq!(classify("1.k"), bad(".k"));
        assert_eq!(classify("1.5.3"), bad(".3"));
        assert_eq!(classify(""), bad(""));
        assert_eq!(classify("k"), bad("k"));
        assert_eq!(classify("1é"), bad("é"));
    }
}
