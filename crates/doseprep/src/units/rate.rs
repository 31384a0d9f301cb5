//! Infusion pump rates, in mL/h: the unit pumps are programmed in. `uom`
//! has no mL/h (its volume rate is m³/s, which would add conversion noise).

use std::fmt;

use jiff::SignedDuration;

use super::duration::hours;
use super::volume::ExactVolume;
use crate::error::{DoseError, Result};

/// An infusion pump rate in mL/h.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct PumpRate {
    ml_per_hour: f64,
}

impl PumpRate {
    /// The rate that runs `volume` in `duration` (a protocol guarantees
    /// duration > 0).
    pub fn for_infusion(volume: ExactVolume, duration: SignedDuration) -> PumpRate {
        PumpRate {
            ml_per_hour: volume.ml() / hours(duration),
        }
    }

    /// From a recorded figure: finite and greater than 0.
    pub fn from_ml_per_hour(field: &str, ml_per_hour: f64) -> Result<PumpRate> {
        if ml_per_hour.is_finite() && ml_per_hour > 0.0 {
            Ok(PumpRate { ml_per_hour })
        } else {
            Err(DoseError::invalid_quantity(
                field,
                ml_per_hour,
                "mL/h",
                "a finite number greater than 0",
            ))
        }
    }

    /// mL per hour.
    pub fn ml_per_hour(self) -> f64 {
        self.ml_per_hour
    }
}

impl fmt::Display for PumpRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} mL/h", self.ml_per_hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_ml_over_thirty_minutes_is_a_hundred_ml_per_hour() {
        let rate = PumpRate::for_infusion(
            ExactVolume::from_microlitres(50_000),
            SignedDuration::from_mins(30),
        );
        assert_eq!(rate.ml_per_hour(), 100.0);
        let rate = PumpRate::for_infusion(
            ExactVolume::from_microlitres(55_800),
            SignedDuration::from_mins(30),
        );
        assert_eq!(rate.ml_per_hour(), 111.6);
    }
}
