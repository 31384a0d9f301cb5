//! Masses of product and DMSO: grams of a bag on a balance, the density of a
//! liquid, grams of DMSO per kg of body weight. Newtypes in the units people
//! read them in (`uom` would hold grams as kilograms and densities as kg/m³,
//! adding conversion noise to every figure a pharmacist compares).

use std::fmt;

use super::fraction::DmsoFraction;
use super::text::{check_positive, missing_unit, read_quantity, unknown_unit};
use super::volume::ExactVolume;
use super::weight::BodyWeight;
use crate::error::{DoseError, Result};

/// Density of DMSO, g/mL at 20-25 °C (1.10 g/cm³ in the product literature),
/// used to turn a volume fraction of DMSO into grams.
pub const DMSO_DENSITY: Density = Density { g_per_ml: 1.10 };

/// A mass of liquid in grams (a bag's net mass on a balance).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Grams {
    grams: f64,
}

impl Grams {
    /// A weighed mass: finite and at least 0 g.
    pub fn new(field: &str, grams: f64) -> Result<Grams> {
        if (0.0..=1e15).contains(&grams) {
            Ok(Grams { grams })
        } else {
            Err(DoseError::invalid_quantity(
                field,
                grams,
                "g",
                "a finite number of grams from 0 to 1e15, as read from the balance",
            ))
        }
    }

    /// Grams.
    pub fn grams(self) -> f64 {
        self.grams
    }
}

impl std::ops::Add for Grams {
    type Output = Grams;
    fn add(self, other: Grams) -> Grams {
        Grams {
            grams: self.grams + other.grams,
        }
    }
}

impl fmt::Display for Grams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g", self.grams)
    }
}

/// The density of a liquid in g/mL.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Density {
    g_per_ml: f64,
}

impl Density {
    /// A density in g/mL: finite, above 0 and at most 25 g/mL (osmium is 22.6).
    pub fn new(field: &str, g_per_ml: f64) -> Result<Density> {
        if g_per_ml.is_finite() && g_per_ml > 0.0 && g_per_ml <= 25.0 {
            Ok(Density { g_per_ml })
        } else {
            Err(DoseError::invalid_quantity(
                field,
                g_per_ml,
                "g/mL",
                "a finite number above 0 and at most 25 g/mL, e.g. '1.005 g/mL'",
            ))
        }
    }

    /// Read "1.005 g/mL".
    pub fn parse(field: &str, input: &str) -> Result<Density> {
        const EXAMPLE: &str = "'1.005 g/mL'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "g/mL" | "g/ml" => Density::new(field, raw.value),
            _ => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write g/mL, e.g. '1.005 g/mL'",
            )),
        }
    }

    /// g/mL.
    pub fn g_per_ml(self) -> f64 {
        self.g_per_ml
    }
}

impl std::ops::Mul<ExactVolume> for Density {
    type Output = Grams;
    fn mul(self, volume: ExactVolume) -> Grams {
        Grams {
            grams: volume.ml() * self.g_per_ml,
        }
    }
}

impl fmt::Display for Density {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g/mL", self.g_per_ml)
    }
}

/// Grams of DMSO per kilogram of body weight: an exposure, or a limit.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct DmsoExposure {
    g_per_kg: f64,
}

impl DmsoExposure {
    /// A limit in g/kg: finite and greater than 0.
    pub fn new(field: &str, g_per_kg: f64) -> Result<DmsoExposure> {
        check_positive(field, g_per_kg, "g/kg").map(|g_per_kg| DmsoExposure { g_per_kg })
    }

    /// Read a limit "1 g/kg".
    pub fn parse(field: &str, input: &str) -> Result<DmsoExposure> {
        const EXAMPLE: &str = "'1 g/kg'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "g/kg" => DmsoExposure::new(field, raw.value),
            _ => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write g/kg, e.g. '1 g/kg'",
            )),
        }
    }

    /// A limit known good at compile time (the built-in protocol).
    pub(crate) const fn exact(g_per_kg: f64) -> DmsoExposure {
        DmsoExposure { g_per_kg }
    }

    /// The DMSO a draw carries per kg of `weight`: volume × DMSO volume
    /// fraction × DMSO density ÷ weight.
    pub fn of_draw(draw: ExactVolume, fraction: DmsoFraction, weight: BodyWeight) -> DmsoExposure {
        DmsoExposure {
            g_per_kg: draw.ml() * fraction.value() * DMSO_DENSITY.g_per_ml / weight.kg(),
        }
    }

    /// From a recorded figure: finite and at least 0.
    pub fn from_recorded(field: &str, g_per_kg: f64) -> Result<DmsoExposure> {
        if g_per_kg.is_finite() && g_per_kg >= 0.0 {
            Ok(DmsoExposure { g_per_kg })
        } else {
            Err(DoseError::invalid_quantity(
                field,
                g_per_kg,
                "g/kg",
                "a finite number of at least 0",
            ))
        }
    }

    /// g/kg.
    pub fn g_per_kg(self) -> f64 {
        self.g_per_kg
    }
}

impl fmt::Display for DmsoExposure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} g/kg", self.g_per_kg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masses_and_densities() {
        assert_eq!(
            Density::parse("d", "1.005 g/mL").map(Density::g_per_ml),
            Ok(1.005)
        );
        let mass = Density::exact_for_test(1.04) * ExactVolume::from_microlitres(5_800);
        assert!((mass.grams() - 6.032).abs() < 1e-12);
        // 5.8 mL × 5% × 1.10 g/mL ÷ 72.5747792 kg.
        let dmso = DmsoExposure::of_draw(
            ExactVolume::from_microlitres(5_800),
            DmsoFraction::new(0.05).expect("0.05 is a DMSO fraction"),
            BodyWeight::exact(72.5747792),
        );
        assert_eq!(dmso.g_per_kg(), 0.004395466352310997);
        assert!(Grams::new("m", -1.0).is_err());
        assert!(Grams::new("m", f64::NAN).is_err());
    }

    impl Density {
        fn exact_for_test(g_per_ml: f64) -> Density {
            Density { g_per_ml }
        }
    }
}
