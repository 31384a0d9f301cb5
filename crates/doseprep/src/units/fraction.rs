//! Dimensionless fractions, one type per meaning, each checked against its
//! range when it is made or read, so no later code re-checks a number:
//! [`Viability`] (above 0, at most 1), [`Tolerance`] (above 0, below 1),
//! [`DmsoFraction`] (0 up to but not including 1) and [`Deviation`]
//! (any finite signed number).
//!
//! These are plain `f64`s inside, not `uom` `Ratio`s: a ratio has no
//! dimension for `uom` to check, and every use here is one comparison or a
//! product with a quantity that has its own type, so `uom` earned nothing but
//! conversions in and out.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DoseError, Result};

/// Fraction of live cells: a lot's post-thaw viability, or the lowest a site
/// accepts. Above 0 and at most 1 (0.93 for 93%).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Viability(f64);

impl Viability {
    /// Checked: above 0 and at most 1. A number from above 1 to 100 is
    /// refused with the fraction it probably means ("pass 0.93 for 93%").
    pub fn new(value: f64) -> Result<Viability> {
        if value > 0.0 && value <= 1.0 {
            return Ok(Viability(value));
        }
        let fix = if value > 1.0 && value <= 100.0 {
            format!(
                "it looks like a percentage: pass {} for {value}%",
                value / 100.0
            )
        } else {
            "pass the fraction of viable cells, e.g. 0.93 for 93%".to_owned()
        };
        Err(DoseError::ViabilityOutOfRange { value, fix })
    }

    /// A viability known good at compile time (built-in site defaults).
    pub(crate) const fn exact(value: f64) -> Viability {
        Viability(value)
    }

    /// The plain number (0.93 for 93%).
    pub fn value(self) -> f64 {
        self.0
    }
}

/// A relative limit: a dose tolerance, a weighing tolerance, a weight-change
/// threshold. Above 0 and below 1 (0.10 for ±10%).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Tolerance(f64);

impl Tolerance {
    /// Checked: above 0 and below 1; `field` names the setting in the error.
    pub fn new(field: &str, value: f64) -> Result<Tolerance> {
        if value > 0.0 && value < 1.0 {
            Ok(Tolerance(value))
        } else {
            Err(DoseError::invalid_quantity(
                field,
                value,
                "(fraction)",
                "a fraction above 0 and below 1 (0.10 means ±10%)",
            ))
        }
    }

    /// A tolerance known good at compile time (built-in site defaults).
    pub(crate) const fn exact(value: f64) -> Tolerance {
        Tolerance(value)
    }

    /// The plain number (0.10 for ±10%).
    pub fn value(self) -> f64 {
        self.0
    }
}

/// The DMSO volume fraction of a thawed suspension: from 0 (a washed
/// product) up to but not including 1 (0.05 for 5%).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct DmsoFraction(f64);

impl DmsoFraction {
    /// Checked: at least 0 and below 1.
    pub fn new(value: f64) -> Result<DmsoFraction> {
        if (0.0..1.0).contains(&value) {
            Ok(DmsoFraction(value))
        } else {
            Err(DoseError::invalid_quantity(
                "dmso_fraction",
                value,
                "(volume fraction)",
                "a fraction from 0 up to but not including 1; e.g. 0.05 for 5% DMSO, 0 for a washed product",
            ))
        }
    }

    /// The plain number (0.05 for 5%).
    pub fn value(self) -> f64 {
        self.0
    }
}

/// A signed relative difference (delivered − target) ÷ target, finite.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Deviation(f64);

impl Deviation {
    /// Checked: finite.
    pub fn new(value: f64) -> Result<Deviation> {
        if value.is_finite() {
            Ok(Deviation(value))
        } else {
            Err(DoseError::invalid_quantity(
                "deviation",
                value,
                "(fraction)",
                "a finite number",
            ))
        }
    }

    /// (`measured` − `expected`) ÷ `expected`, for two finite amounts with
    /// `expected` above 0, which every caller's types guarantee.
    pub(crate) fn between(measured: f64, expected: f64) -> Deviation {
        Deviation((measured - expected) / expected)
    }

    /// The plain number (−0.02 for −2%).
    pub fn value(self) -> f64 {
        self.0
    }

    /// Its size, without the sign.
    pub fn magnitude(self) -> f64 {
        self.0.abs()
    }
}

/// Each fraction is written as its plain number and read back checked, so a
/// file or a stored record with an out-of-range fraction never reads.
macro_rules! plain_number_serde {
    ($type:ty, |$n:ident| $check:expr) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_f64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                let $n = f64::deserialize(deserializer)?;
                $check.map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $type {
            /// The plain number, as written in files.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

plain_number_serde!(Viability, |n| Viability::new(n));
plain_number_serde!(Tolerance, |n| Tolerance::new("tolerance", n));
plain_number_serde!(DmsoFraction, |n| DmsoFraction::new(n));
plain_number_serde!(Deviation, |n| Deviation::new(n));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn each_fraction_keeps_its_range_and_its_ends() {
        assert!(Viability::new(1.0).is_ok());
        assert!(Viability::new(0.0).is_err());
        assert!(Viability::new(f64::NAN).is_err());
        assert!(Tolerance::new("t", 0.999).is_ok());
        assert!(Tolerance::new("t", 1.0).is_err());
        assert!(Tolerance::new("t", 0.0).is_err());
        assert!(DmsoFraction::new(0.0).is_ok());
        assert!(DmsoFraction::new(1.0).is_err());
        assert!(DmsoFraction::new(-0.01).is_err());
        assert!(Deviation::new(-0.5).is_ok());
        assert!(Deviation::new(f64::INFINITY).is_err());
    }

    #[test]
    fn a_percentage_given_as_a_viability_gets_the_fraction_to_write() {
        let error = Viability::new(93.0).expect_err("93 is a percentage");
        assert_eq!(error.kind(), ErrorKind::Viability);
        assert!(error.to_string().contains("pass 0.93 for 93%"), "{error}");
    }

    #[test]
    fn reading_checks_the_range() {
        assert_eq!(
            serde_json::from_str::<Tolerance>("0.1")
                .map(Tolerance::value)
                .ok(),
            Some(0.1)
        );
        let error = serde_json::from_str::<Tolerance>("1.5").expect_err("1.5 is over 1");
        assert!(error.to_string().contains("above 0 and below 1"), "{error}");
        assert!(serde_json::from_str::<Viability>("70").is_err());
        assert_eq!(
            serde_json::to_string(&Viability::exact(0.7))
                .ok()
                .as_deref(),
            Some("0.7")
        );
    }
}
