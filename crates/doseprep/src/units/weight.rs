//! A participant's body weight: its own type, apart from product masses, so
//! a participant's kilograms can never be mixed up with grams of product
//! (GenPRES keeps body weight in its own unit group for the same reason).

use std::fmt;
use std::str::FromStr;

use uom::si::f64::Mass;
use uom::si::mass::kilogram;

use super::text::{check_positive, missing_unit, read_quantity, unknown_unit};
use crate::error::{DoseError, Result};
use crate::Text;

/// The international avoirdupois pound, exactly 0.45359237 kg (1959
/// agreement). `uom` rounds it to 0.4535924 kg, so pounds are converted here.
/// Held as 45359237 / 10^8 so that `lb × 45359237 / 10^8` is a correctly
/// rounded result whenever the product is exact (e.g. 160 lb = 72.5747792 kg).
const POUND_IN_KG_NUMERATOR: f64 = 45_359_237.0;
const POUND_IN_KG_DENOMINATOR: f64 = 100_000_000.0;

/// A participant's body weight, a `uom` mass (kilograms inside, exactly as
/// given). Finite and greater than 0 by construction.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct BodyWeight {
    mass: Mass,
}

impl BodyWeight {
    /// A weight in kilograms: finite and greater than 0 (the plausible range is
    /// the protocol's and is checked when preparing).
    pub fn from_kg(kg: f64) -> Result<Self> {
        Self::from_kg_for("weight", kg)
    }

    /// [`BodyWeight::from_kg`] for a named input (e.g. "baseline_weight").
    pub fn from_kg_for(field: &str, kg: f64) -> Result<Self> {
        check_positive(field, kg, "kg").map(|kg| BodyWeight {
            mass: Mass::new::<kilogram>(kg),
        })
    }

    /// The error for a bare number given as a weight through an API that
    /// also takes text: its unit is never guessed (160 from a US health
    /// record is pounds; read as kilograms it is a 2.2-fold overdose). The
    /// fix shows both ways to give it: with its unit, or as `{field}_kg`.
    pub fn bare_number_error(field: &str, value: f64) -> DoseError {
        let shown = crate::format::message_number(value);
        missing_unit(
            field,
            &shown,
            &format!("'{shown} kg' or '{shown} lb', or pass kilograms as {field}_kg={shown}"),
        )
    }

    /// A weight in avoirdupois pounds, converted exactly (1 lb = 0.45359237 kg).
    pub fn from_pounds(lb: f64) -> Result<Self> {
        Self::from_pounds_for("weight", lb)
    }

    fn from_pounds_for(field: &str, lb: f64) -> Result<Self> {
        let lb = check_positive(field, lb, "lb")?;
        Self::from_kg_for(field, lb * POUND_IN_KG_NUMERATOR / POUND_IN_KG_DENOMINATOR)
    }

    /// Read "72.4 kg", "72.4kg", "160 lb" or "160 lbs". A bare number is an
    /// error: the unit of a weight is never guessed.
    pub fn parse(input: &str) -> Result<Self> {
        Self::parse_for("weight", input)
    }

    /// [`BodyWeight::parse`] for a named input (e.g. "baseline_weight").
    pub fn parse_for(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'72.4 kg' or '160 lb'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        Self::from_unit_for(field, raw.value, raw.unit).map_err(|error| match error {
            DoseError::UnknownUnit { unit, hint, .. } => DoseError::UnknownUnit {
                field: field.to_owned(),
                input: input.to_owned(),
                unit,
                hint,
            },
            DoseError::MissingUnit { .. } => missing_unit(field, input, EXAMPLE),
            other => other,
        })
    }

    /// A number in a named unit, as units libraries spell them: "kg",
    /// "kilogram", "lb", "lbs", "pound", "avoirdupois_pound" (pint's names).
    /// Any other unit, grams and stones included, is refused with a hint.
    pub fn from_unit(value: f64, unit: &str) -> Result<Self> {
        Self::from_unit_for("weight", value, unit)
    }

    /// [`BodyWeight::from_unit`] for a named input.
    pub fn from_unit_for(field: &str, value: f64, unit: &str) -> Result<Self> {
        let unit = unit.trim();
        if unit.eq_ignore_ascii_case("kg") {
            return Self::from_kg_for(field, value);
        }
        if unit.eq_ignore_ascii_case("lb") {
            return Self::from_pounds_for(field, value);
        }
        let shown = format!("{value} {unit}");
        match unit.to_ascii_lowercase().as_str() {
            "" => Err(missing_unit(field, &shown, "'72.4 kg' or '160 lb'")),
            "kilogram" | "kilograms" => Self::from_kg_for(field, value),
            "lbs" | "pound" | "pounds" | "avoirdupois_pound" => Self::from_pounds_for(field, value),
            "st" | "stone" => Err(unknown_unit(
                field,
                &shown,
                unit,
                "write kg or lb (1 stone = 14 lb)",
            )),
            "g" | "gram" | "grams" => Err(unknown_unit(
                field,
                &shown,
                unit,
                "body weight is entered in kg or lb, never grams",
            )),
            _ => Err(unknown_unit(
                field,
                &shown,
                unit,
                "write kg or lb, e.g. '72.4 kg' or '160 lb'",
            )),
        }
    }

    /// A weight known good at compile time (built-in protocol limits).
    pub(crate) fn exact(kg: f64) -> Self {
        BodyWeight {
            mass: Mass::new::<kilogram>(kg),
        }
    }

    /// The weight in kilograms.
    pub fn kg(self) -> f64 {
        self.mass.get::<kilogram>()
    }

    /// |self − other| ÷ other, the relative change from `other`.
    pub fn relative_change_from(self, other: BodyWeight) -> f64 {
        (self.kg() - other.kg()).abs() / other.kg()
    }
}

impl fmt::Display for BodyWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kg", self.kg())
    }
}

/// A body weight as a person gave it: typed with its unit ("160 lb"), or
/// kilograms given as a number in code. A typed weight keeps its text, and
/// its kilograms are read from that text when it is made, never set apart
/// from it: the two cannot disagree.
#[derive(Debug, Clone, PartialEq)]
pub struct GivenWeight {
    weight: BodyWeight,
    typed: Option<Text>,
    /// The number and unit as measured, read from the same text.
    measured: (f64, WeighedIn),
}

impl GivenWeight {
    /// A weight typed with its unit, read for `field` ("weight",
    /// "baseline_weight").
    pub fn typed(field: &str, text: &str) -> Result<GivenWeight> {
        let weight = BodyWeight::parse_for(field, text)?;
        let raw = read_quantity(field, text, "'72.4 kg' or '160 lb'")?;
        let unit = match raw.unit.trim().to_ascii_lowercase().as_str() {
            "lb" | "lbs" | "pound" | "pounds" | "avoirdupois_pound" => WeighedIn::Pounds,
            // parse_for took only kilograms' names besides pounds'.
            _ => WeighedIn::Kilograms,
        };
        Ok(GivenWeight {
            weight,
            typed: Some(Text::from(text.trim())),
            measured: (raw.value, unit),
        })
    }

    /// A number in a named unit, as a units library gives it (pint's
    /// `160 pound`): checked as a number first, so NaN or a negative keeps
    /// its kind, then kept as the text it reads as.
    pub fn of_unit(field: &str, value: f64, unit: &str) -> Result<GivenWeight> {
        BodyWeight::from_unit_for(field, value, unit)?;
        GivenWeight::typed(field, &format!("{value} {}", unit.trim()))
    }

    /// Kilograms given as a number (not typed by a person).
    pub fn kilograms(weight: BodyWeight) -> GivenWeight {
        GivenWeight {
            weight,
            typed: None,
            measured: (weight.kg(), WeighedIn::Kilograms),
        }
    }

    /// The weight.
    pub fn weight(&self) -> BodyWeight {
        self.weight
    }

    /// The text typed, if the weight was typed.
    pub fn typed_text(&self) -> Option<&str> {
        self.typed.as_deref()
    }

    /// The weight as it was measured: the number and unit typed ("160 lb"
    /// is 160 pounds), or kilograms for a weight given as a number.
    pub fn as_measured(&self) -> (f64, WeighedIn) {
        self.measured
    }
}

/// The unit a body weight was measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeighedIn {
    /// Kilograms.
    Kilograms,
    /// Avoirdupois pounds.
    Pounds,
}

impl WeighedIn {
    /// The UCUM code: "kg" or "[lb_av]".
    pub fn ucum(self) -> &'static str {
        match self {
            WeighedIn::Kilograms => "kg",
            WeighedIn::Pounds => "[lb_av]",
        }
    }

    /// The symbol a person writes: "kg" or "lb".
    pub fn symbol(self) -> &'static str {
        match self {
            WeighedIn::Kilograms => "kg",
            WeighedIn::Pounds => "lb",
        }
    }
}

impl FromStr for BodyWeight {
    type Err = DoseError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn a_given_weight_keeps_its_text_and_its_kind_of_error() {
        let typed = GivenWeight::typed("weight", " 160 lb ").unwrap();
        assert_eq!(typed.typed_text(), Some("160 lb"));
        assert_eq!(typed.weight().kg(), 72.5747792);
        let quantity = GivenWeight::of_unit("weight", 160.0, "pound").unwrap();
        assert_eq!(quantity.typed_text(), Some("160 pound"));
        assert_eq!(quantity.weight(), typed.weight());
        // A units library's NaN stays an invalid quantity, not unreadable text.
        let nan = GivenWeight::of_unit("weight", f64::NAN, "pound").unwrap_err();
        assert_eq!(nan.kind(), ErrorKind::InvalidQuantity);
        assert_eq!(
            GivenWeight::kilograms(BodyWeight::exact(72.4)).typed_text(),
            None
        );
        assert_eq!(typed.as_measured(), (160.0, WeighedIn::Pounds));
        assert_eq!(quantity.as_measured(), (160.0, WeighedIn::Pounds));
        assert_eq!(
            GivenWeight::typed("weight", "72.4kg")
                .unwrap()
                .as_measured(),
            (72.4, WeighedIn::Kilograms)
        );
        assert_eq!(
            GivenWeight::kilograms(BodyWeight::exact(72.4)).as_measured(),
            (72.4, WeighedIn::Kilograms)
        );
    }

    #[test]
    fn weights_read_with_their_units() {
        assert_eq!(BodyWeight::parse("72.4 kg").map(BodyWeight::kg), Ok(72.4));
        assert_eq!(BodyWeight::parse("72.4kg").map(BodyWeight::kg), Ok(72.4));
        assert_eq!(BodyWeight::parse(" 72.4 KG ").map(BodyWeight::kg), Ok(72.4));
        // 160 × 0.45359237 = 72.5747792 exactly.
        assert_eq!(
            BodyWeight::parse("160 lb").map(BodyWeight::kg),
            Ok(72.5747792)
        );
        assert_eq!(
            BodyWeight::parse("160 lbs").map(BodyWeight::kg),
            Ok(72.5747792)
        );
        // 1 lb = 0.45359237 kg exactly, not uom's 0.4535924.
        assert_eq!(
            BodyWeight::parse("1 lb").map(BodyWeight::kg),
            Ok(0.45359237)
        );
        assert_eq!(
            BodyWeight::from_unit(160.0, "pound").map(BodyWeight::kg),
            Ok(72.5747792)
        );
        assert_eq!(
            BodyWeight::from_unit(72.4, "kilogram").map(BodyWeight::kg),
            Ok(72.4)
        );
    }

    #[test]
    fn weights_without_a_unit_or_with_a_wrong_one_are_refused() {
        let kind = |s: &str| BodyWeight::parse(s).map_err(|e| e.kind());
        assert_eq!(kind("72.4"), Err(ErrorKind::Unit));
        assert_eq!(kind("72.4 stone"), Err(ErrorKind::Unit));
        assert_eq!(kind("72,4 kg"), Err(ErrorKind::Unit));
        assert_eq!(kind(""), Err(ErrorKind::Unit));
        assert_eq!(kind("   "), Err(ErrorKind::Unit));
        assert_eq!(kind("kg"), Err(ErrorKind::Unit));
        assert_eq!(kind("NaN kg"), Err(ErrorKind::Unit));
        assert_eq!(kind("inf kg"), Err(ErrorKind::Unit));
        assert_eq!(kind("0 kg"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("-70 kg"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("1e308 kg"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("1e309 kg"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(
            BodyWeight::from_unit(72.4, "gram").map_err(|e| e.kind()),
            Err(ErrorKind::Unit)
        );
        let message = BodyWeight::parse("72,4 kg").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("weight: cannot read \"72,4 kg\" as a quantity: a comma is not a decimal point or thousands separator here; use a point (72.4) and no separators; write it as '72.4 kg' or '160 lb'".to_owned())
        );
        let message = BodyWeight::parse("72.4").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("weight: \"72.4\" has no unit; write the unit after the number, e.g. '72.4 kg' or '160 lb'".to_owned())
        );
        let message = BodyWeight::parse("72.4 stone").map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("weight: unit \"stone\" in \"72.4 stone\" is not accepted here; write kg or lb (1 stone = 14 lb)".to_owned())
        );
    }

    #[test]
    fn non_finite_kg_values_are_refused() {
        for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -1.0, 1e308] {
            assert_eq!(
                BodyWeight::from_kg(value).map_err(|e| e.kind()),
                Err(ErrorKind::InvalidQuantity),
                "{value}"
            );
        }
    }
}
