//! doseprep: weight-based doses for cell-therapy infusions, and the matched
//! placebo bags that keep a trial blinded.
//!
//! Data flows protocol + order + lot → [`prepare`] → [`Preparation`]. Every
//! quantity carries its unit in its type; every bad input is a [`DoseError`].
//!
//! ```
//! use doseprep::{prepare, BodyWeight, CellConcentration, ExactVolume, Lot, Order, Protocol};
//!
//! let protocol = Protocol::care_ssc();
//! let thawed_at = doseprep::parse_time("thawed_at", "2026-11-25T09:00:00+00:00")?;
//! let order = Order::with_weight_text("CARE-012", "72.4 kg", "A", "month-0", thawed_at, None)?;
//! let lot = Lot::new(
//!     "UC-0042",
//!     CellConcentration::parse("viable_cells_per_ml", "12.5 million cells/mL")?,
//!     0.93,
//!     ExactVolume::parse("container_volume", "10 mL")?,
//!     4,
//!     None,
//! )?;
//! let bag = prepare(&protocol, &order, &lot)?;
//! let dose = bag.dose.as_ref().ok_or("arm A at month-0 is active")?;
//! assert_eq!(dose.target_cells.cells(), 72.4e6);
//! assert_eq!(dose.draw_volume.to_string(), "5.8 mL");      // 5.792 mL rounded half up to 0.1 mL
//! assert_eq!(bag.diluent_volume.to_string(), "44.2 mL");   // qs to 50 mL
//! assert_eq!(dose.delivered_cells.cells(), 72.5e6);        // +0.14%
//! assert_eq!(bag.pump_rate_ml_per_h, 100.0);               // 50 mL over 30 min
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod label;
pub mod lot;
pub mod order;
pub mod prepare;
pub mod protocol;
pub mod record;
pub mod units;

pub use error::{DoseError, ErrorKind, Result};
pub use label::{blinded_label, summary_line, worksheet};
pub use lot::Lot;
pub use order::{format_time, parse_time, Order};
pub use prepare::{prepare, prepare_many, ActiveDose, Preparation};
pub use protocol::{Content, DoseBasis, DoseRule, FinalVolumeMode, Protocol, SiteSettings};
pub use record::{Difference, PreparationRecord, Verification};
pub use units::{BodyWeight, CellConcentration, CellCount, CellsPerKg, ExactVolume, PumpRate};

/// This library's version, written into every preparation record.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The repository README's Rust example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
