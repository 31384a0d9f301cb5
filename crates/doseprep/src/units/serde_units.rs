//! Serde for quantities at the edge. In JSON outputs a quantity is a plain
//! number whose unit is in the key (`"draw_volume_ml": 5.8`); in protocol
//! and lot files it is text with its unit (`volume = "50 mL"`). Each module
//! here is one unit, used with `#[serde(with = ...)]`, so the types inside
//! stay typed and the files stay as people write them.

use jiff::SignedDuration;
use serde::{Deserialize, Deserializer, Serializer};

use super::{
    BodyWeight, CellConcentration, CellCount, CellsPerKg, ComputedVolume, Density, DmsoExposure,
    ExactVolume, Grams, PumpRate,
};

/// One module per unit: `serialize` writes the plain number, `deserialize`
/// reads and checks it; `option` does the same for an `Option`.
macro_rules! number_module {
    ($(#[$doc:meta])* $name:ident, $type:ty, |$v:ident| $to:expr, |$n:ident| $from:expr) => {
        $(#[$doc])*
        pub mod $name {
            use super::*;

            /// Write the plain number.
            pub fn serialize<S: Serializer>(value: &$type, serializer: S) -> Result<S::Ok, S::Error> {
                let $v = *value;
                serializer.serialize_f64($to)
            }

            /// Read the number and check it.
            pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                let $n = f64::deserialize(deserializer)?;
                $from.map_err(serde::de::Error::custom)
            }

            /// The same for an optional value (`null` when absent).
            pub mod option {
                use super::*;

                /// Write the number or `null`.
                pub fn serialize<S: Serializer>(
                    value: &Option<$type>,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    match value {
                        Some($v) => {
                            let $v = *$v;
                            serializer.serialize_some(&$to)
                        }
                        None => serializer.serialize_none(),
                    }
                }

                /// Read a number or `null`.
                pub fn deserialize<'de, D: Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Option<$type>, D::Error> {
                    Option::<f64>::deserialize(deserializer)?
                        .map(|$n| $from)
                        .transpose()
                        .map_err(serde::de::Error::custom)
                }
            }
        }
    };
}

number_module!(
    /// A body weight as kg.
    kg, BodyWeight, |v| v.kg(), |n| BodyWeight::from_kg(n)
);
number_module!(
    /// A measured volume as mL (read back to the exact microlitre; 0 allowed).
    ml, ExactVolume, |v| v.ml(), |n| if n == 0.0 { Ok(ExactVolume::ZERO) } else { ExactVolume::from_ml("volume", n) }
);
number_module!(
    /// A computed volume as mL.
    computed_ml, ComputedVolume, |v| v.ml(), |n| ComputedVolume::from_recorded_ml("volume", n)
);
number_module!(
    /// A count of cells.
    cells, CellCount, |v| v.cells(), |n| CellCount::new("cells", n)
);
number_module!(
    /// A concentration as cells/mL.
    cells_per_ml, CellConcentration, |v| v.cells_per_ml(), |n| CellConcentration::new("cells_per_ml", n)
);
number_module!(
    /// A pump rate as mL/h.
    ml_per_hour, PumpRate, |v| v.ml_per_hour(), |n| PumpRate::from_ml_per_hour("pump_rate_ml_per_h", n)
);
number_module!(
    /// A DMSO exposure as g/kg.
    g_per_kg, DmsoExposure, |v| v.g_per_kg(), |n| DmsoExposure::from_recorded("dmso_g_per_kg", n)
);
number_module!(
    /// A mass as g.
    grams, Grams, |v| v.grams(), |n| Grams::new("grams", n)
);
number_module!(
    /// A duration as minutes (30), read back to the millisecond.
    minutes, SignedDuration, |v| v.as_millis() as f64 / 60_000.0, |n| {
        let ms = (n * 60_000.0).round();
        if ms.is_finite() && ms > 0.0 && ms <= 1e12 {
            Ok(SignedDuration::from_millis(ms as i64))
        } else {
            Err(crate::DoseError::invalid_quantity("infusion_duration_min", n, "min", "a finite number of minutes above 0"))
        }
    }
);

/// Serde as text with the unit, for protocol and lot files: `"50 mL"`.
macro_rules! text_module {
    ($(#[$doc:meta])* $name:ident, $type:ty, |$v:ident| $to:expr, |$t:ident| $from:expr) => {
        $(#[$doc])*
        pub mod $name {
            use super::*;

            /// Write the text with its unit.
            pub fn serialize<S: Serializer>(value: &$type, serializer: S) -> Result<S::Ok, S::Error> {
                let $v = value;
                serializer.serialize_str(&$to)
            }

            /// Read the text with its unit.
            pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<$type, D::Error> {
                let $t = String::deserialize(deserializer)?;
                $from.map_err(serde::de::Error::custom)
            }

            /// The same for an optional value (absent when `None`).
            pub mod option {
                use super::*;

                /// Write the text or nothing.
                pub fn serialize<S: Serializer>(
                    value: &Option<$type>,
                    serializer: S,
                ) -> Result<S::Ok, S::Error> {
                    match value {
                        Some($v) => serializer.serialize_some(&$to),
                        None => serializer.serialize_none(),
                    }
                }

                /// Read the text, if present.
                pub fn deserialize<'de, D: Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Option<$type>, D::Error> {
                    Option::<String>::deserialize(deserializer)?
                        .map(|$t| $from)
                        .transpose()
                        .map_err(serde::de::Error::custom)
                }
            }
        }
    };
}

text_module!(
    /// "72.4 kg".
    weight_text, BodyWeight, |v| v.to_string(), |t| BodyWeight::parse(&t)
);
text_module!(
    /// "50 mL".
    volume_text, ExactVolume, |v| v.to_string(), |t| ExactVolume::parse("volume", &t)
);
text_module!(
    /// "1000000 cells/kg".
    cells_per_kg_text, CellsPerKg, |v| v.to_string(), |t| CellsPerKg::parse("dose", &t)
);
text_module!(
    /// "100000000 cells".
    cells_text, CellCount, |v| v.to_string(), |t| CellCount::parse("cells", &t)
);
text_module!(
    /// "12500000 cells/mL".
    concentration_text, CellConcentration, |v| v.to_string(), |t| CellConcentration::parse("concentration", &t)
);
text_module!(
    /// "30 min".
    duration_text, SignedDuration, |v| crate::units::format_duration(*v), |t| crate::units::parse_duration("duration", &t)
);
text_module!(
    /// "1 g/kg".
    g_per_kg_text, DmsoExposure, |v| v.to_string(), |t| DmsoExposure::parse("dmso_limit", &t)
);
text_module!(
    /// "1.005 g/mL".
    density_text, Density, |v| v.to_string(), |t| Density::parse("density", &t)
);
