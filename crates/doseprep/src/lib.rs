//! doseprep: weight-based doses for cell-therapy infusions, and the matched
//! placebo bags that keep a trial blinded.
//!
//! Data flows protocol + order + lot → [`prepare`] → [`Preparation`]; a
//! day's orders, the randomization list and the lots on hand → [`plan_day`]
//! → [`DayPlan`]. Every quantity carries its unit in its type; every bad
//! input is a [`DoseError`]. The crate reads no file, no clock and no random
//! source: those are the caller's.
//!
//! ```
//! use doseprep::{parse_time, prepare, CellConcentration, ExactVolume, Lot, LotSpec, Order, Protocol};
//!
//! let protocol = Protocol::care_ssc();
//! let thawed_at = parse_time("thawed_at", "2026-11-25T09:00:00-05:00")?;
//! let order = Order::with_weight_text("CARE-012", "72.4 kg", "A", "month-0", thawed_at)?;
//! let lot = Lot::new(LotSpec {
//!     lot_id: "UC-0042".into(),
//!     viable_cells_per_ml: CellConcentration::parse("viable_cells_per_ml", "12.5 million cells/mL")?,
//!     viability: 0.93,
//!     container_volume: ExactVolume::parse("container_volume", "10 mL")?,
//!     extractable_volume: None,
//!     containers: 4,
//!     dmso_fraction: Some(0.05),
//!     expires_at: None,
//! })?;
//! let bag = prepare(&protocol, &order, &lot)?;
//! let dose = bag.dose.as_ref().ok_or("arm A at month-0 is active")?;
//! assert_eq!(dose.target_cells.cells(), 72.4e6);
//! assert_eq!(dose.draw_volume.to_string(), "5.8 mL");      // 5.792 mL rounded half up to 0.1 mL
//! assert_eq!(bag.diluent_volume.to_string(), "44.2 mL");   // qs to 50 mL
//! assert_eq!(dose.delivered_cells.cells(), 72.5e6);        // +0.14%
//! assert_eq!(bag.pump_rate.ml_per_hour(), 100.0);          // 50 mL over 30 min
//! assert_eq!(bag.infuse_by().wall_clock(), "2026-11-25 12:00 EST");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]

pub mod bag_id;
pub mod bag_volume;
pub mod day;
pub mod draw;
pub mod error;
pub mod format;
pub mod gravimetric;
pub mod label;
pub mod language;
pub mod lot;
pub mod order;
pub mod prepare;
pub mod protocol;
pub mod randomization;
pub mod record;
pub mod rules;
pub mod site;
pub mod table;
pub mod template;
pub mod time;
mod toml_error;
pub mod units;

/// The time crate this API takes and gives times in: an application needs
/// no second, possibly different, version of it.
pub use jiff;
/// The jiff types the API takes: instants, zoned times, durations, zones.
pub use jiff::{tz::TimeZone, SignedDuration, Timestamp, ZonedDateTime};

pub use bag_id::BagId;
pub use bag_volume::{BagVolume, DrawLimit};
pub use day::{
    plan_day, plan_day_after, DayOrder, DayPlan, DayRow, LedgerMark, PlanRow, PlannedBag,
    Randomization, RecordedBag, ThawSession, UNBLINDED_DOCUMENT,
};
pub use draw::{RangeFrom, Rounding};
pub use error::{DoseError, ErrorKind, ErrorParts, Result, StockCounted, YieldFrom};
pub use gravimetric::{check_weighed, WeighedCheck};
pub use label::isbt128::DinSequence;
pub use label::{blinded_label, summary_line, text_label, worksheet, LabelFacts};
pub use lot::{fraction_text_error, Lot, LotSpec};
pub use order::Order;
pub use prepare::{
    prepare, prepare_many, prepare_many_into, ActiveDose, ContainerDraw, Opening, Preparation,
};
pub use protocol::{
    Content, DoseBasis, FileFormat, FinalVolumeMode, Protocol, ProtocolSpec, SiteSettings,
};
pub use record::{Difference, PreparationRecord, Verification, VerifiedRecord};
pub use rules::{DoseRule, DosingWeightBasis, TargetRule, WeightBasis, WeightUsed};
pub use time::{format_time, parse_time, SiteTime, SiteZone};
pub use units::{format_duration, parse_duration};
pub use units::{
    BodyWeight, CellConcentration, CellCount, CellsPerKg, ComputedVolume, ContainerYield, Density,
    Deviation, DmsoExposure, DmsoFraction, ExactVolume, GivenWeight, Grams, PumpRate, Tolerance,
    Viability, WeighedIn,
};

/// Short text (ids, names): inline up to 24 bytes, so copying a bag's ids
/// costs no allocation and no atomic reference count.
pub type Text = compact_str::CompactString;

/// This library's version, written into every preparation record.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
