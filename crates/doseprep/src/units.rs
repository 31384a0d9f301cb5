//! Quantities, their units, and the arithmetic between them, defined once.
//!
//! * Body weight ([`BodyWeight`]) is its own type, apart from product
//!   quantities, so a participant's kilograms can never be mixed up with a
//!   product mass (GenPRES keeps them apart for the same reason).
//! * Volumes that are measured out ([`ExactVolume`]) are held as a whole
//!   number of microlitres, so 5.8 mL is exactly 5.8 and sums such as
//!   diluent + draw = 50 mL hold exactly. Unrounded volumes are `uom`
//!   [`Volume`]s.
//! * Cell counts are newtypes: cells/kg × kg = cells; cells ÷ (cells/mL) = mL.
//! * Units are read from text only here ("72.4 kg", "160 lb", "50 mL",
//!   "12.5 million cells/mL"), and every read value must be finite and > 0.

use std::fmt;
use std::str::FromStr;

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uom::si::f64::{Mass, Volume, VolumeRate};
use uom::si::mass::kilogram;
use uom::si::volume::cubic_meter;
use uom::si::volume_rate::cubic_meter_per_second;

use crate::error::{DoseError, Result};

/// The international avoirdupois pound, exactly 0.45359237 kg (1959
/// agreement). `uom` rounds it to 0.4535924 kg, so pounds are converted here.
/// Held as 45359237 / 10^8 so that `lb × 45359237 / 10^8` is a correctly
/// rounded result whenever the product is exact (e.g. 160 lb = 72.5747792 kg).
const POUND_IN_KG_NUMERATOR: f64 = 45_359_237.0;
const POUND_IN_KG_DENOMINATOR: f64 = 100_000_000.0;

/// Density of DMSO, g/mL at 20-25 °C (1.10 g/cm³ in the product literature),
/// used to turn a volume fraction of DMSO into grams.
pub const DMSO_DENSITY_G_PER_ML: f64 = 1.10;

/// Largest value any read quantity may take: beyond it a value is a typo or
/// an overflow, not a measurement (1e15 cells, 1e15 kg, 1e15 mL all are).
const LARGEST_PLAUSIBLE: f64 = 1e15;

fn check_positive(field: &str, value: f64, unit: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= LARGEST_PLAUSIBLE {
        Ok(value)
    } else {
        Err(DoseError::invalid_quantity(
            field,
            value,
            unit,
            "a finite number greater than 0 and at most 1e15",
        ))
    }
}

/// A number and the unit text after it, as read from a string such as
/// "12.5 million cells/mL" (the multiplier word is applied to the number).
struct RawQuantity<'a> {
    value: f64,
    unit: &'a str,
}

fn read_quantity<'a>(field: &str, input: &'a str, example: &str) -> Result<RawQuantity<'a>> {
    let malformed = |reason: &str| DoseError::Malformed {
        field: field.to_owned(),
        input: input.to_owned(),
        reason: reason.to_owned(),
        example: example.to_owned(),
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(malformed("it is empty"));
    }
    let number_end = numeric_prefix_len(text);
    let (number, rest) = text.split_at(number_end);
    if number.is_empty() {
        return Err(malformed("it does not start with a number"));
    }
    if rest.starts_with(',') {
        return Err(malformed(
            "a comma is not a decimal point or thousands separator here; use a point (72.4) and no separators",
        ));
    }
    let value = f64::from_str(number).map_err(|_| malformed("the number is not well formed"))?;
    let rest = rest.trim_start();
    let (multiplier, unit) = match rest.split_once(char::is_whitespace) {
        Some((word, unit)) if word.eq_ignore_ascii_case("million") => (1e6, unit.trim()),
        Some((word, _)) if word.eq_ignore_ascii_case("billion") => {
            return Err(malformed(
                "'billion' is ambiguous; write the count in millions (1000 million) or as 1e9",
            ));
        }
        _ => (1.0, rest),
    };
    Ok(RawQuantity {
        value: value * multiplier,
        unit,
    })
}

/// Length of the leading `[+-]digits[.digits][e[+-]digits]` of `text`.
fn numeric_prefix_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_exponent = false;
    while let Some(&byte) = bytes.get(end) {
        let accept = match byte {
            b'0'..=b'9' => {
                seen_digit = true;
                true
            }
            b'.' => !seen_exponent,
            b'+' | b'-' => end == 0 || matches!(bytes.get(end.wrapping_sub(1)), Some(b'e' | b'E')),
            b'e' | b'E' => {
                // An exponent only if digits follow ("1e6"), not a unit ("1 each").
                let next = bytes.get(end + 1).copied();
                let after_sign = bytes.get(end + 2).copied();
                let starts_exponent = matches!(next, Some(b'0'..=b'9'))
                    || (matches!(next, Some(b'+' | b'-'))
                        && matches!(after_sign, Some(b'0'..=b'9')));
                seen_digit && !seen_exponent && starts_exponent && {
                    seen_exponent = true;
                    true
                }
            }
            _ => false,
        };
        if !accept {
            break;
        }
        end += 1;
    }
    end
}

fn missing_unit(field: &str, input: &str, example: &str) -> DoseError {
    DoseError::MissingUnit {
        field: field.to_owned(),
        input: input.to_owned(),
        example: example.to_owned(),
    }
}

fn unknown_unit(field: &str, input: &str, unit: &str, hint: &str) -> DoseError {
    DoseError::UnknownUnit {
        field: field.to_owned(),
        input: input.to_owned(),
        unit: unit.to_owned(),
        hint: hint.to_owned(),
    }
}

// ---------------------------------------------------------------- body weight

/// A participant's body weight, in kilograms. Not a product quantity.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct BodyWeight {
    kg: f64,
}

impl BodyWeight {
    /// A weight in kilograms: finite and greater than 0 (the plausible range is
    /// the protocol's and is checked when preparing).
    pub fn from_kg(kg: f64) -> Result<Self> {
        check_positive("weight", kg, "kg").map(|kg| BodyWeight { kg })
    }

    /// A weight in avoirdupois pounds, converted exactly (1 lb = 0.45359237 kg).
    pub fn from_pounds(lb: f64) -> Result<Self> {
        let lb = check_positive("weight", lb, "lb")?;
        Self::from_kg(lb * POUND_IN_KG_NUMERATOR / POUND_IN_KG_DENOMINATOR)
    }

    /// Read "72.4 kg", "72.4kg", "160 lb" or "160 lbs". A bare number is an
    /// error: the unit of a weight is never guessed.
    pub fn parse(input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'72.4 kg' or '160 lb'";
        let raw = read_quantity("weight", input, EXAMPLE)?;
        match raw.unit.to_ascii_lowercase().as_str() {
            "" => Err(missing_unit("weight", input, EXAMPLE)),
            "kg" => Self::from_kg(raw.value),
            "lb" | "lbs" => Self::from_pounds(raw.value),
            "st" | "stone" => Err(unknown_unit(
                "weight",
                input,
                raw.unit,
                "write kg or lb (1 stone = 14 lb)",
            )),
            "g" => Err(unknown_unit(
                "weight",
                input,
                raw.unit,
                "body weight is entered in kg or lb, never grams",
            )),
            _ => Err(unknown_unit(
                "weight",
                input,
                raw.unit,
                "write kg or lb, e.g. '72.4 kg' or '160 lb'",
            )),
        }
    }

    /// A weight known good at compile time (built-in protocol limits).
    pub(crate) const fn exact(kg: f64) -> Self {
        BodyWeight { kg }
    }

    /// The weight in kilograms.
    pub fn kg(self) -> f64 {
        self.kg
    }

    /// The weight as a `uom` mass.
    pub fn mass(self) -> Mass {
        Mass::new::<kilogram>(self.kg)
    }

    /// The weight in pounds (display only).
    pub fn pounds(self) -> f64 {
        self.kg * POUND_IN_KG_DENOMINATOR / POUND_IN_KG_NUMERATOR
    }

    /// The smaller of two weights (a dosing-weight cap).
    pub fn min(self, other: BodyWeight) -> BodyWeight {
        if other.kg < self.kg {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for BodyWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} kg", self.kg)
    }
}

impl FromStr for BodyWeight {
    type Err = DoseError;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

// ---------------------------------------------------------------- volumes

/// A volume that is measured out, held exactly as a whole number of
/// microlitres (the draw, the diluent, the bag, a container).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExactVolume {
    microlitres: u64,
}

/// Microlitres in one millilitre.
const MICROLITRES_PER_ML: u64 = 1000;

impl ExactVolume {
    /// Zero millilitres.
    pub const ZERO: ExactVolume = ExactVolume { microlitres: 0 };

    /// From a whole number of microlitres.
    pub const fn from_microlitres(microlitres: u64) -> Self {
        ExactVolume { microlitres }
    }

    /// From millilitres, which must be finite, greater than 0 and a whole
    /// number of microlitres (0.001 mL), the resolution of every volume here.
    pub fn from_ml(field: &str, ml: f64) -> Result<Self> {
        let ml = check_positive(field, ml, "mL")?;
        let microlitres = ml * MICROLITRES_PER_ML as f64;
        let whole = microlitres.round();
        // 1e-6 µL absorbs binary representation (0.1 mL × 1000 = 100.00000000000001).
        if whole < 1.0 || (microlitres - whole).abs() > 1e-6 * whole {
            return Err(DoseError::invalid_quantity(
                field,
                ml,
                "mL",
                "a whole number of microlitres (at most 3 decimals in mL)",
            ));
        }
        // `whole` is in (0, 1e18], within u64.
        Ok(ExactVolume {
            microlitres: whole as u64,
        })
    }

    /// Read "50 mL" or "0.1 mL". "cc" is refused (ISMP: write mL).
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'50 mL'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "mL" | "ml" | "ML" => Self::from_ml(field, raw.value),
            "cc" | "CC" | "cm3" | "cm³" => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write mL: 'cc' is on the ISMP list of error-prone abbreviations",
            )),
            _ => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write the volume in mL, e.g. '50 mL'",
            )),
        }
    }

    /// Whole microlitres.
    pub const fn microlitres(self) -> u64 {
        self.microlitres
    }

    /// Millilitres, the nearest `f64` to the exact decimal (5800 µL → 5.8).
    pub fn ml(self) -> f64 {
        self.microlitres as f64 / MICROLITRES_PER_ML as f64
    }

    /// As a `uom` volume.
    pub fn volume(self) -> Volume {
        Volume::new::<cubic_meter>(self.microlitres as f64 * 1e-9)
    }

    /// Exact sum, `None` on overflow.
    pub fn checked_add(self, other: ExactVolume) -> Option<ExactVolume> {
        self.microlitres
            .checked_add(other.microlitres)
            .map(ExactVolume::from_microlitres)
    }

    /// Exact difference, `None` if `other` is larger.
    pub fn checked_sub(self, other: ExactVolume) -> Option<ExactVolume> {
        self.microlitres
            .checked_sub(other.microlitres)
            .map(ExactVolume::from_microlitres)
    }

    /// `count` times this volume, `None` on overflow.
    pub fn checked_mul(self, count: u64) -> Option<ExactVolume> {
        self.microlitres
            .checked_mul(count)
            .map(ExactVolume::from_microlitres)
    }

    /// The decimal millilitre figure without unit: "5.8", "0.1", "50", "0.005".
    pub fn ml_decimal(self) -> String {
        let whole = self.microlitres / MICROLITRES_PER_ML;
        let fraction = self.microlitres % MICROLITRES_PER_ML;
        if fraction == 0 {
            whole.to_string()
        } else {
            let digits = format!("{fraction:03}");
            format!("{whole}.{}", digits.trim_end_matches('0'))
        }
    }
}

impl fmt::Display for ExactVolume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mL", self.ml_decimal())
    }
}

/// A `uom` volume read in millilitres.
pub fn volume_ml(volume: Volume) -> f64 {
    // m³ → mL is × 10^6; done by hand so no unit-conversion rounding hides here.
    volume.get::<cubic_meter>() * 1e6
}

// ---------------------------------------------------------------- cells

/// A number of cells (viable or total, as the protocol's dose basis says).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CellCount(pub f64);

/// A dose per kilogram of body weight.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct CellsPerKg(f64);

/// Cells per millilitre of suspension.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct CellConcentration(f64);

impl CellCount {
    /// The count as a number.
    pub fn cells(self) -> f64 {
        self.0
    }
}

impl CellsPerKg {
    /// A dose per kg: finite and greater than 0.
    pub fn new(field: &str, cells_per_kg: f64) -> Result<Self> {
        check_positive(field, cells_per_kg, "cells/kg").map(CellsPerKg)
    }

    /// Read "1e6 cells/kg" or "1 million cells/kg".
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'1 million cells/kg' or '1e6 cells/kg'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "cells/kg" => Self::new(field, raw.value),
            _ => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write cells/kg, e.g. '1e6 cells/kg'",
            )),
        }
    }

    /// A dose known good at compile time (the built-in protocol).
    pub(crate) const fn exact(cells_per_kg: f64) -> Self {
        CellsPerKg(cells_per_kg)
    }

    /// Cells per kilogram.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl CellConcentration {
    /// A concentration in cells/mL: finite and greater than 0.
    pub fn new(field: &str, cells_per_ml: f64) -> Result<Self> {
        check_positive(field, cells_per_ml, "cells/mL").map(CellConcentration)
    }

    /// Read "12.5 million cells/mL" or "1.25e7 cells/mL".
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'12.5 million cells/mL'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "cells/mL" | "cells/ml" => Self::new(field, raw.value),
            "cells/cc" => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write cells/mL: 'cc' is on the ISMP list of error-prone abbreviations",
            )),
            _ => Err(unknown_unit(field, input, raw.unit, "write cells/mL")),
        }
    }

    /// Cells per millilitre.
    pub fn cells_per_ml(self) -> f64 {
        self.0
    }

    /// Scale by a dimensionless factor (e.g. ÷ viability for total cells).
    pub(crate) fn scaled(self, factor: f64) -> CellConcentration {
        CellConcentration(self.0 * factor)
    }
}

impl std::ops::Mul<BodyWeight> for CellsPerKg {
    type Output = CellCount;
    fn mul(self, weight: BodyWeight) -> CellCount {
        CellCount(self.0 * weight.kg())
    }
}

impl std::ops::Div<CellConcentration> for CellCount {
    type Output = Volume;
    fn div(self, concentration: CellConcentration) -> Volume {
        Volume::new::<cubic_meter>(self.0 / concentration.0 * 1e-6)
    }
}

impl std::ops::Mul<ExactVolume> for CellConcentration {
    type Output = CellCount;
    fn mul(self, volume: ExactVolume) -> CellCount {
        // µL × cells/mL ÷ 1000: exact for the round figures of real lots.
        CellCount(volume.microlitres() as f64 * self.0 / MICROLITRES_PER_ML as f64)
    }
}

impl std::ops::Div<ExactVolume> for CellCount {
    type Output = f64;
    /// Cells per mL of the bag.
    fn div(self, volume: ExactVolume) -> f64 {
        self.0 * MICROLITRES_PER_ML as f64 / volume.microlitres() as f64
    }
}

// ---------------------------------------------------------------- rates, durations

/// An infusion pump rate in mL/h, the unit pumps are programmed in (`uom`
/// has no mL/h).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct PumpRate {
    ml_per_hour: f64,
}

impl PumpRate {
    /// The rate that runs `volume` in `duration` (duration > 0).
    pub fn for_infusion(volume: ExactVolume, duration: SignedDuration) -> PumpRate {
        let hours = duration.as_secs_f64() / 3600.0;
        PumpRate {
            ml_per_hour: volume.ml() / hours,
        }
    }

    /// mL per hour.
    pub fn ml_per_hour(self) -> f64 {
        self.ml_per_hour
    }

    /// As a `uom` volume rate.
    pub fn volume_rate(self) -> VolumeRate {
        VolumeRate::new::<cubic_meter_per_second>(self.ml_per_hour * 1e-6 / 3600.0)
    }
}

/// Read "30 min", "3 h", "90 s" as a duration (> 0, whole seconds).
pub fn parse_duration(field: &str, input: &str) -> Result<SignedDuration> {
    const EXAMPLE: &str = "'30 min' or '3 h'";
    let raw = read_quantity(field, input, EXAMPLE)?;
    let seconds_per_unit = match raw.unit {
        "" => return Err(missing_unit(field, input, EXAMPLE)),
        "s" => 1.0,
        "min" => 60.0,
        "h" => 3600.0,
        _ => return Err(unknown_unit(field, input, raw.unit, "write s, min or h")),
    };
    let seconds = check_positive(field, raw.value, raw.unit)? * seconds_per_unit;
    // Whole seconds, so the duration and its display are exact.
    if seconds.fract() != 0.0 || seconds > 1e9 {
        return Err(DoseError::invalid_quantity(
            field,
            raw.value,
            raw.unit,
            "a whole number of seconds, at most 1e9 s",
        ));
    }
    Ok(SignedDuration::from_secs(seconds as i64))
}

/// "30 min", "3 h", "90 s": the largest unit that divides the duration.
pub fn format_duration(duration: SignedDuration) -> String {
    let seconds = duration.as_secs();
    if seconds != 0 && seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

/// Read a DMSO limit "1 g/kg" (grams of DMSO per kg body weight).
pub fn parse_grams_per_kg(field: &str, input: &str) -> Result<f64> {
    const EXAMPLE: &str = "'1 g/kg'";
    let raw = read_quantity(field, input, EXAMPLE)?;
    match raw.unit {
        "" => Err(missing_unit(field, input, EXAMPLE)),
        "g/kg" => check_positive(field, raw.value, "g/kg"),
        _ => Err(unknown_unit(
            field,
            input,
            raw.unit,
            "write g/kg, e.g. '1 g/kg'",
        )),
    }
}

// ---------------------------------------------------------------- serde as text

/// Serde for quantity types as their text with unit ("50 mL"), as written in
/// protocol files.
macro_rules! serde_as_text {
    ($type:ty, $field:literal, |$value:ident| $display:expr, |$text:ident| $parse:expr) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(
                &self,
                serializer: S,
            ) -> std::result::Result<S::Ok, S::Error> {
                let $value = self;
                serializer.serialize_str(&$display)
            }
        }
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(
                deserializer: D,
            ) -> std::result::Result<Self, D::Error> {
                let $text = String::deserialize(deserializer)?;
                $parse.map_err(serde::de::Error::custom)
            }
        }
    };
}

serde_as_text!(ExactVolume, "volume", |v| v.to_string(), |t| {
    ExactVolume::parse("volume", &t)
});
serde_as_text!(BodyWeight, "weight", |v| v.to_string(), |t| {
    BodyWeight::parse(&t)
});
serde_as_text!(CellsPerKg, "dose", |v| format!("{} cells/kg", v.0), |t| {
    CellsPerKg::parse("dose", &t)
});
serde_as_text!(
    CellConcentration,
    "concentration",
    |v| format!("{} cells/mL", v.0),
    |t| CellConcentration::parse("concentration", &t)
);

/// Serde for a duration as text ("30 min").
pub mod duration_text {
    use super::*;

    /// Write "30 min".
    pub fn serialize<S: Serializer>(
        duration: &SignedDuration,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_duration(*duration))
    }

    /// Read "30 min".
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<SignedDuration, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_duration("duration", &text).map_err(serde::de::Error::custom)
    }
}

/// Serde for an optional g/kg limit as text ("1 g/kg").
pub mod optional_grams_per_kg_text {
    use super::*;

    /// Write "1 g/kg" or nothing.
    pub fn serialize<S: Serializer>(
        value: &Option<f64>,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        match value {
            Some(limit) => serializer.serialize_some(&format!("{limit} g/kg")),
            None => serializer.serialize_none(),
        }
    }

    /// Read "1 g/kg".
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Option<f64>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| parse_grams_per_kg("dmso_limit", &text))
            .transpose()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

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

    #[test]
    fn volumes_are_exact_microlitres() {
        assert_eq!(
            ExactVolume::parse("v", "50 mL").map(ExactVolume::microlitres),
            Ok(50_000)
        );
        assert_eq!(
            ExactVolume::parse("v", "0.1 mL").map(ExactVolume::microlitres),
            Ok(100)
        );
        assert_eq!(
            ExactVolume::parse("v", "5.8ml").map(ExactVolume::microlitres),
            Ok(5_800)
        );
        assert_eq!(ExactVolume::from_microlitres(5_800).ml(), 5.8);
        assert_eq!(ExactVolume::from_microlitres(5_800).to_string(), "5.8 mL");
        assert_eq!(ExactVolume::from_microlitres(50_000).to_string(), "50 mL");
        assert_eq!(ExactVolume::from_microlitres(500).to_string(), "0.5 mL");
        assert_eq!(ExactVolume::from_microlitres(5).to_string(), "0.005 mL");
        assert_eq!(
            ExactVolume::from_microlitres(10_250).to_string(),
            "10.25 mL"
        );
        assert_eq!(
            ExactVolume::parse("v", "0.0001 mL").map_err(|e| e.kind()),
            Err(ErrorKind::InvalidQuantity)
        );
        let cc = ExactVolume::parse("diluent", "50 cc").map_err(|e| e.to_string());
        assert!(matches!(&cc, Err(m) if m.contains("write mL")), "{cc:?}");
        assert_eq!(
            ExactVolume::parse("v", "50").map_err(|e| e.kind()),
            Err(ErrorKind::Unit)
        );
    }

    #[test]
    fn cell_quantities_read_with_multipliers() {
        assert_eq!(
            CellsPerKg::parse("d", "1e6 cells/kg").map(CellsPerKg::value),
            Ok(1e6)
        );
        assert_eq!(
            CellsPerKg::parse("d", "1 million cells/kg").map(CellsPerKg::value),
            Ok(1e6)
        );
        assert_eq!(
            CellConcentration::parse("c", "12.5 million cells/mL")
                .map(CellConcentration::cells_per_ml),
            Ok(12.5e6)
        );
        assert_eq!(
            CellConcentration::parse("c", "1 billion cells/mL").map_err(|e| e.kind()),
            Err(ErrorKind::Unit)
        );
    }

    #[test]
    fn cell_arithmetic_is_defined_once() {
        let dose = CellsPerKg(1e6);
        let weight = BodyWeight { kg: 72.4 };
        let target = dose * weight;
        assert_eq!(target, CellCount(72.4e6));
        let concentration = CellConcentration(12.5e6);
        // 72.4e6 / 12.5e6 = 5.792 mL.
        assert!((volume_ml(target / concentration) - 5.792).abs() < 1e-12);
        assert_eq!(
            concentration * ExactVolume::from_microlitres(5_800),
            CellCount(72.5e6)
        );
    }

    #[test]
    fn durations_and_rates() {
        assert_eq!(
            parse_duration("d", "30 min"),
            Ok(SignedDuration::from_mins(30))
        );
        assert_eq!(
            parse_duration("d", "3 h"),
            Ok(SignedDuration::from_hours(3))
        );
        assert_eq!(format_duration(SignedDuration::from_mins(90)), "90 min");
        assert_eq!(format_duration(SignedDuration::from_hours(3)), "3 h");
        assert_eq!(format_duration(SignedDuration::from_secs(45)), "45 s");
        let rate = PumpRate::for_infusion(
            ExactVolume::from_microlitres(50_000),
            SignedDuration::from_mins(30),
        );
        assert_eq!(rate.ml_per_hour(), 100.0);
    }
}
