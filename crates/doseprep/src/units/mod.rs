//! Quantities, their units, and the arithmetic between them, defined once.
//!
//! * `uom` where its storage is exact for the inputs: body weight is a
//!   `uom` `Mass` (kilograms inside) behind its own type, [`BodyWeight`], so
//!   it cannot be mixed up with product masses.
//! * Fractions have one type per meaning, checked when made or read
//!   ([`Viability`], [`Tolerance`], [`DmsoFraction`], [`Deviation`]); they
//!   are not `uom` `Ratio`s, which have no dimension to check.
//! * Own types where `uom` lacks the unit or would round it: measured
//!   volumes are whole microlitres ([`ExactVolume`]) and computed ones mL
//!   ([`ComputedVolume`]), because `uom` holds volumes in m³; pump rates are
//!   mL/h ([`PumpRate`]); cells, cells/kg and cells/mL are counts `uom` has no
//!   dimension for; grams, g/mL and g/kg are held in those units.
//! * Durations are `jiff::SignedDuration`s, read exactly.
//! * Units are read from text only here ("72.4 kg", "160 lb", "50 mL",
//!   "12.5 million cells/mL", "2.2 h") and written in `serde_units`, and every
//!   read value must be finite and > 0.

mod cells;
mod duration;
pub(crate) mod exact;
pub mod fraction;
mod mass;
mod rate;
pub mod serde_units;
pub(crate) mod text;
mod volume;
mod weight;

pub use cells::{CellConcentration, CellCount, CellsPerKg};
pub use duration::{format_duration, parse_duration};
pub use fraction::{Deviation, DmsoFraction, Tolerance, Viability};
pub use mass::{Density, DmsoExposure, Grams, DMSO_DENSITY};
pub use rate::PumpRate;
pub use volume::{ComputedVolume, ContainerYield, ExactVolume};
pub use weight::{BodyWeight, GivenWeight, WeighedIn};
