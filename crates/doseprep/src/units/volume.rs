//! Volumes. A volume that is measured out ([`ExactVolume`]) is a whole
//! number of microlitres, so 5.8 mL is exactly 5.8 and sums such as
//! diluent plus draw = 50 mL hold exactly. A volume that is only computed
//! (the draw before rounding) is a [`ComputedVolume`] in mL. Neither is a
//! `uom` `Volume`: its cubic-metre base turns 5.8 mL into 5.800000000000001 mL.

use std::fmt;

use super::text::{check_positive, missing_unit, read_quantity, unknown_unit};
use crate::error::{DoseError, Result};

/// Microlitres in one millilitre.
pub(crate) const MICROLITRES_PER_ML: u64 = 1000;

/// A volume that is measured out, held exactly as a whole number of
/// microlitres (the draw, the diluent, the bag, a container).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ExactVolume {
    microlitres: u64,
}

impl ExactVolume {
    /// Zero millilitres.
    pub const ZERO: ExactVolume = ExactVolume { microlitres: 0 };
    /// The largest volume this type holds.
    pub const MAX: ExactVolume = ExactVolume {
        microlitres: u64::MAX,
    };

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
        // A float such as 0.1 arrives as 100.00000000000001 µL: 1e-6 µL
        // relative is far below any real volume's resolution, far above that
        // representation error.
        if whole < 1.0 || (microlitres - whole).abs() > 1e-6 * whole {
            return Err(DoseError::invalid_quantity(
                field,
                ml,
                "mL",
                "a whole number of microlitres (at most 3 decimals in mL)",
            ));
        }
        // `whole` is in [1, 1e18], within u64.
        Ok(ExactVolume {
            microlitres: whole as u64,
        })
    }

    /// Read "50 mL" or "0.1 mL", exactly as written. "cc" is refused (ISMP:
    /// write mL).
    pub fn parse(field: &str, input: &str) -> Result<Self> {
        const EXAMPLE: &str = "'50 mL'";
        let raw = read_quantity(field, input, EXAMPLE)?;
        match raw.unit {
            "" => Err(missing_unit(field, input, EXAMPLE)),
            "mL" | "ml" | "ML" => {
                check_positive(field, raw.value, "mL")?;
                match raw
                    .exact()
                    .and_then(|d| d.times_whole(u128::from(MICROLITRES_PER_ML)))
                {
                    Some(microlitres) => u64::try_from(microlitres)
                        .map(ExactVolume::from_microlitres)
                        .map_err(|_| {
                            DoseError::invalid_quantity(field, raw.value, "mL", "at most 1e15 mL")
                        }),
                    None => Self::from_ml(field, raw.value),
                }
            }
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

    /// True for 0 mL.
    pub const fn is_zero(self) -> bool {
        self.microlitres == 0
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

    /// Take up to `wanted` from this volume: what is taken (the smaller
    /// of the two), what is left of this volume, and what is still wanted.
    /// Exact; neither difference can go below 0 mL.
    pub fn take_up_to(self, wanted: ExactVolume) -> (ExactVolume, ExactVolume, ExactVolume) {
        let taken = self.microlitres.min(wanted.microlitres);
        (
            ExactVolume::from_microlitres(taken),
            ExactVolume::from_microlitres(self.microlitres - taken),
            ExactVolume::from_microlitres(wanted.microlitres - taken),
        )
    }

    /// `count` times this volume, `None` on overflow.
    pub fn checked_mul(self, count: u64) -> Option<ExactVolume> {
        self.microlitres
            .checked_mul(count)
            .map(ExactVolume::from_microlitres)
    }

    /// True when this volume is a whole number of `part`s (`part` > 0).
    pub fn is_multiple_of(self, part: ExactVolume) -> bool {
        part.microlitres != 0 && self.microlitres % part.microlitres == 0
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
    /// "5.8 mL", "50 mL", "0.5 mL": a leading zero, no trailing zero (ISMP).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mL", self.ml_decimal())
    }
}

/// What one container of a lot yields: a volume above 0 mL, checked when
/// the lot is read, so a draw can always be counted in containers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContainerYield(ExactVolume);

impl ContainerYield {
    /// A yield, or `None` for 0 mL.
    pub fn new(volume: ExactVolume) -> Option<ContainerYield> {
        (!volume.is_zero()).then_some(ContainerYield(volume))
    }

    /// The volume.
    pub fn volume(self) -> ExactVolume {
        self.0
    }

    /// How many containers hold `volume` (rounded up).
    pub fn containers_for(self, volume: ExactVolume) -> u64 {
        volume.microlitres.div_ceil(self.0.microlitres)
    }
}

impl fmt::Display for ContainerYield {
    /// As its volume: "9.6 mL".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A volume computed but not measured out (the draw before rounding), in mL.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct ComputedVolume {
    ml: f64,
}

impl ComputedVolume {
    /// From millilitres (any finite value ≥ 0; the arithmetic that makes
    /// it guarantees that, and records read it back through
    /// [`ComputedVolume::from_recorded_ml`]).
    pub(crate) fn from_ml(ml: f64) -> Self {
        ComputedVolume { ml }
    }

    /// From a recorded figure: finite and ≥ 0.
    pub fn from_recorded_ml(field: &str, ml: f64) -> Result<Self> {
        if ml.is_finite() && ml >= 0.0 {
            Ok(ComputedVolume { ml })
        } else {
            Err(DoseError::invalid_quantity(
                field,
                ml,
                "mL",
                "a finite number of at least 0",
            ))
        }
    }

    /// Millilitres.
    pub fn ml(self) -> f64 {
        self.ml
    }
}

impl fmt::Display for ComputedVolume {
    /// To 3 decimals, as the worksheet prints it: "5.792 mL", "10.18 mL".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::format::computed_volume(*self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn volumes_are_exact_microlitres() {
        let parse = |s: &str| ExactVolume::parse("v", s).map(ExactVolume::microlitres);
        assert_eq!(parse("50 mL"), Ok(50_000));
        assert_eq!(parse("0.1 mL"), Ok(100));
        assert_eq!(parse("5.8ml"), Ok(5_800));
        assert_eq!(parse("3.8 mL"), Ok(3_800));
        assert_eq!(parse("1e1 mL"), Ok(10_000));
        assert_eq!(ExactVolume::from_microlitres(5_800).ml(), 5.8);
        assert_eq!(ExactVolume::from_microlitres(5_800).to_string(), "5.8 mL");
        assert_eq!(ExactVolume::from_microlitres(50_000).to_string(), "50 mL");
        assert_eq!(ExactVolume::from_microlitres(500).to_string(), "0.5 mL");
        assert_eq!(ExactVolume::from_microlitres(5).to_string(), "0.005 mL");
        assert_eq!(ComputedVolume::from_ml(5.792).to_string(), "5.792 mL");
        assert_eq!(ComputedVolume::from_ml(10.18).to_string(), "10.18 mL");
        let yield_ = ContainerYield::new(ExactVolume::from_microlitres(9_600)).unwrap();
        assert_eq!(yield_.to_string(), "9.6 mL");
        assert_eq!(
            ExactVolume::from_microlitres(10_250).to_string(),
            "10.25 mL"
        );
        assert_eq!(
            ExactVolume::parse("v", "0.0001 mL").map_err(|e| e.kind()),
            Err(ErrorKind::InvalidQuantity)
        );
        assert_eq!(
            ExactVolume::parse("v", "0 mL").map_err(|e| e.kind()),
            Err(ErrorKind::InvalidQuantity)
        );
        let cc = ExactVolume::parse("diluent", "50 cc").map_err(|e| e.to_string());
        assert!(matches!(&cc, Err(m) if m.contains("write mL")), "{cc:?}");
        assert_eq!(
            ExactVolume::parse("v", "50").map_err(|e| e.kind()),
            Err(ErrorKind::Unit)
        );
        let ten = ContainerYield::new(ExactVolume::from_microlitres(10_000)).unwrap();
        assert_eq!(ten.containers_for(ExactVolume::from_microlitres(23_200)), 3);
        assert_eq!(ten.containers_for(ExactVolume::from_microlitres(20_000)), 2);
        assert_eq!(ContainerYield::new(ExactVolume::ZERO), None);
        let five = ExactVolume::from_microlitres(5_000);
        let (taken, left, wanted) = five.take_up_to(ExactVolume::from_microlitres(7_000));
        assert_eq!(
            (taken, left, wanted),
            (
                five,
                ExactVolume::ZERO,
                ExactVolume::from_microlitres(2_000)
            )
        );
    }
}
