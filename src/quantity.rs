//! Exact Kubernetes quantities, rwf durations and number literal classification.
//! (Placeholder API: the implementation replaces this file.)

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    DecimalSI,
    BinarySI,
    DecimalExponent,
}

/// An exact quantity: its value in nano-units and the format it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    nanos: i128,
    format: QuantityFormat,
}

impl Quantity {
    pub fn from_int(n: i64) -> Quantity {
        Quantity {
            nanos: i128::from(n) * 1_000_000_000,
            format: QuantityFormat::DecimalSI,
        }
    }

    pub fn parse(_text: &str) -> Option<Quantity> {
        None
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.nanos / 1_000_000_000)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Duration {
    millis: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NumberLit {
    Int(i64),
    Float(f64),
    Quantity(Quantity),
    Duration(Duration),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    Overflow,
    BadSuffix { suffix: String },
    OutOfRange(String),
}

pub const QUANTITY_SUFFIXES: &[&str] = &["m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
pub const DURATION_SUFFIXES: &[&str] = &["ms", "s", "min", "h", "d"];

pub fn classify_number(token: &str) -> Result<NumberLit, NumberError> {
    token.replace('_', "").parse().map(NumberLit::Int).map_err(|_| NumberError::Overflow)
}
