//! Cell counts and the arithmetic between them, defined once:
//! cells/kg × kg = cells; cells ÷ (cells/mL) = mL; cells/mL × mL = cells.
//! `uom` has no dimension for a count of cells, so these are newtypes with
//! private fields and checked constructors.

use std::cmp::Ordering;
use std::fmt;

use super::exact::compare_products;
use super::fraction::{Deviation, Viability};
use super::text::{check_positive, missing_unit, read_quantity, unknown_unit};
use super::volume::{ComputedVolume, ExactVolume, MICROLITRES_PER_ML};
use super::weight::BodyWeight;
use crate::error::Result;

/// A number of cells.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct CellCount {
    cells: f64,
}

/// Cells per kilogram of body weight.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct CellsPerKg {
    cells_per_kg: f64,
}

/// Cells per millilitre of suspension.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct CellConcentration {
    cells_per_ml: f64,
}

impl CellCount {
    /// A count of cells: finite and greater than 0.
    pub fn new(field: &str, cells: f64) -> Result<Self> {
        check_positive(field, cells, "cells").map(|cells| CellCount { cells })
    }

    /// Read "100 million cells" or "1e8 cells".
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'100 million cells' or '1e8 cells'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "cells" => Self::new(field, raw.value),
            _ => Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write cells, e.g. '100 million cells'",
            )),
        }
    }

    /// A count from a test's arithmetic, unchecked.
    #[cfg(test)]
    pub(crate) const fn computed(cells: f64) -> Self {
        CellCount { cells }
    }

    /// The count as a number.
    pub fn cells(self) -> f64 {
        self.cells
    }

    /// The smaller of two counts.
    pub fn min(self, other: CellCount) -> CellCount {
        if other.cells < self.cells {
            other
        } else {
            self
        }
    }

    /// (self − target) ÷ target, signed: 0.0014 is +0.14%.
    pub fn deviation_from(self, target: CellCount) -> Deviation {
        Deviation::between(self.cells, target.cells)
    }

    /// This count scaled by a fraction (1 − tolerance, 1 + tolerance).
    pub(crate) fn scaled(self, factor: f64) -> CellCount {
        CellCount {
            cells: self.cells * factor,
        }
    }
}

impl CellsPerKg {
    /// A dose per kg: finite and greater than 0.
    pub fn new(field: &str, cells_per_kg: f64) -> Result<Self> {
        check_positive(field, cells_per_kg, "cells/kg")
            .map(|cells_per_kg| CellsPerKg { cells_per_kg })
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
        CellsPerKg { cells_per_kg }
    }

    /// Cells per kilogram.
    pub fn value(self) -> f64 {
        self.cells_per_kg
    }
}

impl CellConcentration {
    /// A concentration in cells/mL: finite and greater than 0.
    pub fn new(field: &str, cells_per_ml: f64) -> Result<Self> {
        check_positive(field, cells_per_ml, "cells/mL")
            .map(|cells_per_ml| CellConcentration { cells_per_ml })
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
        self.cells_per_ml
    }

    /// All cells, live and dead, from the viable concentration: viable ÷ viability.
    pub fn total_from_viable(viable: CellConcentration, viability: Viability) -> CellConcentration {
        CellConcentration {
            cells_per_ml: viable.cells_per_ml / viability.value(),
        }
    }

    /// How many steps of `step` give the draw nearest to `target ÷ self`,
    /// halves rounded up, decided exactly on the given values (no slack):
    /// the smallest `n` with `target ÷ self < (n + ½) × step`. `None` if it
    /// does not fit in a `u64`.
    pub(crate) fn steps_half_up(self, target: CellCount, step: ExactVolume) -> Option<u64> {
        let step_ul = step.microlitres();
        // n + ½ ≤ q  ⟺  self × (2n + 1) × step ≤ 2000 × target (µL per mL × 2).
        let at_or_past_half = |n: u64| -> Option<bool> {
            let odd = n.checked_mul(2)?.checked_add(1)?.checked_mul(step_ul)?;
            Some(
                compare_products(self.cells_per_ml, odd, target.cells, 2 * MICROLITRES_PER_ML)
                    != Ordering::Greater,
            )
        };
        let mut n = self.estimate_steps(target, step)?;
        for _ in 0..4 {
            if at_or_past_half(n)? {
                n = n.checked_add(1)?;
            } else if n > 0 && !at_or_past_half(n - 1)? {
                n -= 1;
            } else {
                return Some(n);
            }
        }
        None
    }

    /// How many whole steps of `step` fit in `target ÷ self` (rounded down),
    /// decided exactly.
    pub(crate) fn steps_down(self, target: CellCount, step: ExactVolume) -> Option<u64> {
        let step_ul = step.microlitres();
        // n ≤ q  ⟺  self × n × step ≤ 1000 × target.
        let fits = |n: u64| -> Option<bool> {
            let volume = n.checked_mul(step_ul)?;
            Some(
                compare_products(self.cells_per_ml, volume, target.cells, MICROLITRES_PER_ML)
                    != Ordering::Greater,
            )
        };
        let mut n = self.estimate_steps(target, step)?;
        for _ in 0..4 {
            if !fits(n)? {
                n = n.checked_sub(1)?;
            } else if fits(n.checked_add(1)?)? {
                n += 1;
            } else {
                return Some(n);
            }
        }
        None
    }

    fn estimate_steps(self, target: CellCount, step: ExactVolume) -> Option<u64> {
        let estimate = target.cells / self.cells_per_ml * MICROLITRES_PER_ML as f64
            / step.microlitres() as f64;
        // Compared in f64 before converting, so a huge draw is `None`, never
        // a saturated cast.
        // Only an estimate (the callers settle the exact answer), so a cast of
        // estimate + ½ serves as rounding.
        (0.0..1e18)
            .contains(&estimate)
            .then_some((estimate + 0.5) as u64)
    }

    /// Whether `volume` of this suspension holds at most `bound` cells,
    /// decided exactly.
    pub(crate) fn delivers_at_most(self, volume: ExactVolume, bound: CellCount) -> bool {
        compare_products(
            self.cells_per_ml,
            volume.microlitres(),
            bound.cells,
            MICROLITRES_PER_ML,
        ) != Ordering::Greater
    }

    /// Whether `volume` of this suspension holds at least `bound` cells,
    /// decided exactly.
    pub(crate) fn delivers_at_least(self, volume: ExactVolume, bound: CellCount) -> bool {
        compare_products(
            self.cells_per_ml,
            volume.microlitres(),
            bound.cells,
            MICROLITRES_PER_ML,
        ) != Ordering::Less
    }
}

impl std::ops::Mul<BodyWeight> for CellsPerKg {
    type Output = CellCount;
    fn mul(self, weight: BodyWeight) -> CellCount {
        CellCount {
            cells: self.cells_per_kg * weight.kg(),
        }
    }
}

impl std::ops::Div<CellConcentration> for CellCount {
    type Output = ComputedVolume;
    /// mL of suspension that hold these cells: one division.
    fn div(self, concentration: CellConcentration) -> ComputedVolume {
        ComputedVolume::from_ml(self.cells / concentration.cells_per_ml)
    }
}

impl std::ops::Mul<ExactVolume> for CellConcentration {
    type Output = CellCount;
    fn mul(self, volume: ExactVolume) -> CellCount {
        // µL × cells/mL ÷ 1000: exact for the round figures of real lots.
        CellCount {
            cells: volume.microlitres() as f64 * self.cells_per_ml / MICROLITRES_PER_ML as f64,
        }
    }
}

impl std::ops::Div<ExactVolume> for CellCount {
    type Output = CellConcentration;
    /// Cells per mL of a bag of this volume.
    fn div(self, volume: ExactVolume) -> CellConcentration {
        CellConcentration {
            cells_per_ml: self.cells * MICROLITRES_PER_ML as f64 / volume.microlitres() as f64,
        }
    }
}

impl fmt::Display for CellCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cells", self.cells)
    }
}

impl fmt::Display for CellsPerKg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cells/kg", self.cells_per_kg)
    }
}

impl fmt::Display for CellConcentration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} cells/mL", self.cells_per_ml)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn count(cells: f64) -> CellCount {
        CellCount::computed(cells)
    }

    fn concentration(cells_per_ml: f64) -> CellConcentration {
        CellConcentration { cells_per_ml }
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
            CellCount::parse("c", "100 million cells").map(CellCount::cells),
            Ok(1e8)
        );
        assert_eq!(
            CellConcentration::parse("c", "1 billion cells/mL").map_err(|e| e.kind()),
            Err(ErrorKind::Unit)
        );
    }

    #[test]
    fn cell_arithmetic_is_defined_once() {
        let target = CellsPerKg::exact(1e6) * BodyWeight::exact(72.4);
        assert_eq!(target, count(72.4e6));
        // 72.4e6 / 12.5e6 = 5.792 mL, one division.
        assert_eq!((target / concentration(12.5e6)).ml(), 5.792);
        assert_eq!(
            concentration(12.5e6) * ExactVolume::from_microlitres(5_800),
            count(72.5e6)
        );
        assert_eq!(
            (count(72.5e6) / ExactVolume::from_microlitres(50_000)).cells_per_ml(),
            1.45e6
        );
    }

    #[test]
    fn half_up_is_decided_on_exact_values() {
        let step = ExactVolume::from_microlitres(100);
        let c = concentration(12.5e6);
        // 5.792 mL → 57.92 steps → 58.
        assert_eq!(c.steps_half_up(count(72.4e6), step), Some(58));
        // Exactly 5.75 mL → 57.5 steps → 58 (in f64, 5.75 / 0.1 is 57.49999999999999).
        assert_eq!(c.steps_half_up(count(71.875e6), step), Some(58));
        // Just under half-way stays down: 71.874999e6 cells.
        assert_eq!(c.steps_half_up(count(71.874_999e6), step), Some(57));
        assert_eq!(c.steps_down(count(71.875e6), step), Some(57));
        // Exactly 58 steps stays 58 either way.
        assert_eq!(c.steps_down(count(72.5e6), step), Some(58));
        assert_eq!(c.steps_half_up(count(72.5e6), step), Some(58));
        // A draw too large to count is None, not a saturated number.
        assert_eq!(concentration(1e-300).steps_half_up(count(1e15), step), None);
        assert!(c.delivers_at_most(ExactVolume::from_microlitres(5_800), count(72.5e6)));
        assert!(!c.delivers_at_most(ExactVolume::from_microlitres(5_800), count(72_499_999.0)));
        assert!(c.delivers_at_least(ExactVolume::from_microlitres(5_800), count(72.5e6)));
    }
}
