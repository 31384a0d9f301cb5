//! Dimensionless fractions (viability, tolerance, deviation, DMSO volume
//! fraction, thresholds) as `uom` `Ratio`s, checked against their range.

use uom::si::f64::Ratio;
use uom::si::ratio::ratio;

use crate::error::{DoseError, Result};

/// A fraction from a plain number, checked to lie in `(low, high]` (or
/// `[low, high)` etc., as `range` says); the error names the field and says
/// what the number means.
pub fn fraction(
    field: &str,
    value: f64,
    unit: &str,
    range: FractionRange,
    meaning: &str,
) -> Result<Ratio> {
    if range.contains(value) {
        Ok(Ratio::new::<ratio>(value))
    } else {
        Err(DoseError::invalid_quantity(
            field,
            value,
            unit,
            &format!("{}; {meaning}", range.describe()),
        ))
    }
}

/// Which fractions a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FractionRange {
    /// Above 0 and below 1 (a tolerance).
    Open,
    /// Above 0 and at most 1 (a viability, a floor).
    AboveZeroToOne,
    /// From 0 up to but not including 1 (a DMSO volume fraction).
    ZeroToBelowOne,
}

impl FractionRange {
    fn contains(self, value: f64) -> bool {
        match self {
            FractionRange::Open => value > 0.0 && value < 1.0,
            FractionRange::AboveZeroToOne => value > 0.0 && value <= 1.0,
            FractionRange::ZeroToBelowOne => (0.0..1.0).contains(&value),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            FractionRange::Open => "a fraction above 0 and below 1",
            FractionRange::AboveZeroToOne => "a fraction above 0 and at most 1",
            FractionRange::ZeroToBelowOne => "a fraction from 0 up to but not including 1",
        }
    }
}

/// The plain number of a fraction (0.93 for 93%).
pub fn value(fraction: Ratio) -> f64 {
    fraction.get::<ratio>()
}

/// A fraction known good at compile time (built-in protocol settings).
pub(crate) fn exact(value: f64) -> Ratio {
    Ratio::new::<ratio>(value)
}

/// A fraction from its plain number, unchecked: for specs built in code,
/// which `Protocol::new` checks field by field.
pub fn of(value: f64) -> Ratio {
    Ratio::new::<ratio>(value)
}
