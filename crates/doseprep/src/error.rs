//! The one error type of the crate.
//!
//! Every message names the value with its unit, the limit it broke and what to
//! do about it, because the reader is a pharmacist at a bench, not a developer.

use std::fmt;

/// A number for a message: plain up to 1e15, scientific beyond (so 1e308 is
/// "1e308", not 309 digits) and for tiny magnitudes.
fn show(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && (magnitude >= 1e15 || (magnitude != 0.0 && magnitude < 1e-6)) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// Everything that can stop a preparation. Library code returns one of these
/// instead of panicking, whatever the input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DoseError {
    /// A quantity string could not be read as a number followed by a unit.
    #[error("{field}: cannot read {input:?} as a quantity: {reason}; write it as {example}")]
    Malformed {
        /// Which input (e.g. "weight").
        field: String,
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
        /// A well-formed example for this field.
        example: String,
    },

    /// A number was given where a unit is required.
    #[error("{field}: {input:?} has no unit; write the unit after the number, e.g. {example}")]
    MissingUnit {
        /// Which input.
        field: String,
        /// The text as given.
        input: String,
        /// A well-formed example for this field.
        example: String,
    },

    /// A unit this field does not accept.
    #[error("{field}: unit {unit:?} in {input:?} is not accepted here; {hint}")]
    UnknownUnit {
        /// Which input.
        field: String,
        /// The text as given.
        input: String,
        /// The unit part that was not understood.
        unit: String,
        /// Which units are accepted, and any special advice (cc, stone).
        hint: String,
    },

    /// NaN, an infinity, zero, a negative number or a value too large to be real.
    #[error("{field}: {} {unit} is not a valid value; it must be {requirement}", show(*.value))]
    InvalidQuantity {
        /// Which input.
        field: String,
        /// The value as given (may be NaN or inf).
        value: f64,
        /// Its unit.
        unit: String,
        /// The rule it broke, e.g. "a finite number greater than 0".
        requirement: String,
    },

    /// A body weight outside the protocol's plausible range.
    #[error("weight {} kg is outside the plausible {min_kg}-{max_kg} kg of this protocol; {fix}", show(*.weight_kg))]
    ImplausibleWeight {
        /// The weight in kilograms as understood.
        weight_kg: f64,
        /// The protocol's lower limit.
        min_kg: f64,
        /// The protocol's upper limit.
        max_kg: f64,
        /// A pounds hint where the value looks like pounds, else a re-weigh hint.
        fix: String,
    },

    /// An arm the protocol does not define.
    #[error("arm {arm:?} is not in protocol {protocol}; use one of {known}")]
    UnknownArm {
        /// The arm as given.
        arm: String,
        /// Protocol name.
        protocol: String,
        /// The arms it defines.
        known: String,
    },

    /// A visit the protocol does not define.
    #[error("visit {visit:?} is not in protocol {protocol}; use one of {known}")]
    UnknownVisit {
        /// The visit as given.
        visit: String,
        /// Protocol name.
        protocol: String,
        /// The visits it defines.
        known: String,
    },

    /// Viability outside (0, 1].
    #[error("viability {} is outside 0-1 (a fraction of live cells); {fix}", show(*.value))]
    ViabilityOutOfRange {
        /// The value as given.
        value: f64,
        /// A percentage hint where it looks like one.
        fix: String,
    },

    /// Viability below the protocol's release floor.
    #[error("lot {lot_id}: viability {value} is below the protocol floor {floor}; do not release this lot, thaw another lot")]
    ViabilityBelowFloor {
        /// The lot.
        lot_id: String,
        /// The lot's viability.
        value: f64,
        /// The protocol's floor.
        floor: f64,
    },

    /// The draw does not fit in the bag.
    #[error("lot {lot_id} is too dilute: the dose needs {} mL at {} cells/mL but at most {limit_ml} mL can be drawn ({limit_reason}); use a more concentrated lot", show(*.draw_ml), show(*.concentration))]
    LotTooDilute {
        /// The lot.
        lot_id: String,
        /// The draw volume the dose needs, in mL.
        draw_ml: f64,
        /// The limit in mL.
        limit_ml: f64,
        /// Where the limit comes from.
        limit_reason: String,
        /// The concentration used for the dose, cells/mL.
        concentration: f64,
    },

    /// Fewer containers on hand than the draw needs.
    #[error("lot {lot_id}: the draw of {draw_ml} mL needs {needed} containers of {container_ml} mL but only {on_hand} are on hand; bring more containers of this lot or use another lot")]
    NotEnoughContainers {
        /// The lot.
        lot_id: String,
        /// The rounded draw volume in mL.
        draw_ml: f64,
        /// Volume of one container in mL.
        container_ml: f64,
        /// Containers the draw needs.
        needed: u64,
        /// Containers on hand.
        on_hand: u32,
    },

    /// After rounding the draw, the delivered dose misses the target by more than the tolerance.
    #[error("delivered dose {} cells from a {draw_ml} mL draw deviates {deviation_percent:+.2}% from the target {} cells, beyond the protocol tolerance of ±{tolerance_percent}%; the {increment_ml} mL draw increment is too coarse for this lot, use a finer increment or a less concentrated lot", show(*.delivered), show(*.target))]
    OutsideTolerance {
        /// Cells delivered by the rounded draw.
        delivered: f64,
        /// Target cells.
        target: f64,
        /// The rounded draw in mL.
        draw_ml: f64,
        /// Signed deviation in percent.
        deviation_percent: f64,
        /// Protocol tolerance in percent.
        tolerance_percent: f64,
        /// Draw increment in mL.
        increment_ml: f64,
    },

    /// DMSO exposure over the protocol's limit.
    #[error("DMSO exposure {g_per_kg:.4} g/kg exceeds the protocol limit {limit_g_per_kg} g/kg; wash the cells or use a lot with less DMSO")]
    DmsoOverLimit {
        /// Exposure in g/kg body weight.
        g_per_kg: f64,
        /// Limit in g/kg.
        limit_g_per_kg: f64,
    },

    /// The preparation time is before the thaw time.
    #[error("thaw time {thawed_at} is after the preparation time {prepared_at}; check both clocks and enter the actual thaw time")]
    ThawInFuture {
        /// Thaw time as given.
        thawed_at: String,
        /// Preparation time as given.
        prepared_at: String,
    },

    /// The infusion cannot end within the protocol's window after thaw.
    #[error("infusion prepared at {prepared_at} would end at {infusion_end}, after the limit {infuse_by} ({window} from thaw at {thawed_at}); discard and thaw again")]
    ThawWindowExceeded {
        /// Thaw time.
        thawed_at: String,
        /// Preparation time.
        prepared_at: String,
        /// When the infusion would end.
        infusion_end: String,
        /// Latest end of infusion.
        infuse_by: String,
        /// The protocol's window, e.g. "3 h".
        window: String,
    },

    /// A time that could not be read.
    #[error("{field}: {input:?} is not a usable time: {reason}")]
    InvalidTime {
        /// Which input.
        field: String,
        /// The time as given.
        input: String,
        /// What is wrong, and the fix.
        reason: String,
    },

    /// A text field that must not be empty, or similar.
    #[error("{field}: {reason}")]
    InvalidInput {
        /// Which input.
        field: String,
        /// What is wrong, and the fix.
        reason: String,
    },

    /// A protocol file that does not parse (syntax, a missing or unknown key).
    #[error("protocol file ({format}) is malformed: {detail}")]
    MalformedProtocol {
        /// "TOML" or "JSON".
        format: String,
        /// The parser's message, which names the key and line.
        detail: String,
    },

    /// A protocol that parses but breaks a rule.
    #[error("protocol: {field} = {value} is invalid: {reason}")]
    InvalidProtocol {
        /// The key, e.g. "site.dose_tolerance".
        field: String,
        /// Its value as given.
        value: String,
        /// The rule and the fix.
        reason: String,
    },

    /// A record that cannot be read or whose parts disagree.
    #[error("preparation record: {reason}")]
    InvalidRecord {
        /// What is wrong.
        reason: String,
    },
}

/// The kind of a [`DoseError`], without its data: what bindings map to
/// exception classes and tests assert on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// [`DoseError::Malformed`], [`DoseError::MissingUnit`], [`DoseError::UnknownUnit`].
    Unit,
    /// [`DoseError::InvalidQuantity`].
    InvalidQuantity,
    /// [`DoseError::ImplausibleWeight`].
    ImplausibleWeight,
    /// [`DoseError::UnknownArm`].
    UnknownArm,
    /// [`DoseError::UnknownVisit`].
    UnknownVisit,
    /// [`DoseError::ViabilityOutOfRange`], [`DoseError::ViabilityBelowFloor`].
    Viability,
    /// [`DoseError::LotTooDilute`].
    LotTooDilute,
    /// [`DoseError::NotEnoughContainers`].
    NotEnoughContainers,
    /// [`DoseError::OutsideTolerance`].
    OutsideTolerance,
    /// [`DoseError::DmsoOverLimit`].
    DmsoOverLimit,
    /// [`DoseError::ThawInFuture`], [`DoseError::ThawWindowExceeded`].
    ThawWindow,
    /// [`DoseError::InvalidTime`].
    InvalidTime,
    /// [`DoseError::InvalidInput`].
    InvalidInput,
    /// [`DoseError::MalformedProtocol`], [`DoseError::InvalidProtocol`].
    Protocol,
    /// [`DoseError::InvalidRecord`].
    Record,
}

impl ErrorKind {
    /// A stable snake_case name, used in test vectors and JSON error lines.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Unit => "unit",
            ErrorKind::InvalidQuantity => "invalid_quantity",
            ErrorKind::ImplausibleWeight => "implausible_weight",
            ErrorKind::UnknownArm => "unknown_arm",
            ErrorKind::UnknownVisit => "unknown_visit",
            ErrorKind::Viability => "viability",
            ErrorKind::LotTooDilute => "lot_too_dilute",
            ErrorKind::NotEnoughContainers => "not_enough_containers",
            ErrorKind::OutsideTolerance => "outside_tolerance",
            ErrorKind::DmsoOverLimit => "dmso_over_limit",
            ErrorKind::ThawWindow => "thaw_window",
            ErrorKind::InvalidTime => "invalid_time",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Record => "record",
        }
    }

    /// Every kind, for bindings that build one exception class per kind.
    pub const ALL: [ErrorKind; 15] = [
        ErrorKind::Unit,
        ErrorKind::InvalidQuantity,
        ErrorKind::ImplausibleWeight,
        ErrorKind::UnknownArm,
        ErrorKind::UnknownVisit,
        ErrorKind::Viability,
        ErrorKind::LotTooDilute,
        ErrorKind::NotEnoughContainers,
        ErrorKind::OutsideTolerance,
        ErrorKind::DmsoOverLimit,
        ErrorKind::ThawWindow,
        ErrorKind::InvalidTime,
        ErrorKind::InvalidInput,
        ErrorKind::Protocol,
        ErrorKind::Record,
    ];
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl DoseError {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            DoseError::Malformed { .. }
            | DoseError::MissingUnit { .. }
            | DoseError::UnknownUnit { .. } => ErrorKind::Unit,
            DoseError::InvalidQuantity { .. } => ErrorKind::InvalidQuantity,
            DoseError::ImplausibleWeight { .. } => ErrorKind::ImplausibleWeight,
            DoseError::UnknownArm { .. } => ErrorKind::UnknownArm,
            DoseError::UnknownVisit { .. } => ErrorKind::UnknownVisit,
            DoseError::ViabilityOutOfRange { .. } | DoseError::ViabilityBelowFloor { .. } => {
                ErrorKind::Viability
            }
            DoseError::LotTooDilute { .. } => ErrorKind::LotTooDilute,
            DoseError::NotEnoughContainers { .. } => ErrorKind::NotEnoughContainers,
            DoseError::OutsideTolerance { .. } => ErrorKind::OutsideTolerance,
            DoseError::DmsoOverLimit { .. } => ErrorKind::DmsoOverLimit,
            DoseError::ThawInFuture { .. } | DoseError::ThawWindowExceeded { .. } => {
                ErrorKind::ThawWindow
            }
            DoseError::InvalidTime { .. } => ErrorKind::InvalidTime,
            DoseError::InvalidInput { .. } => ErrorKind::InvalidInput,
            DoseError::MalformedProtocol { .. } | DoseError::InvalidProtocol { .. } => {
                ErrorKind::Protocol
            }
            DoseError::InvalidRecord { .. } => ErrorKind::Record,
        }
    }

    pub(crate) fn invalid_quantity(field: &str, value: f64, unit: &str, requirement: &str) -> Self {
        DoseError::InvalidQuantity {
            field: field.to_owned(),
            value,
            unit: unit.to_owned(),
            requirement: requirement.to_owned(),
        }
    }

    pub(crate) fn invalid_protocol(field: &str, value: impl fmt::Display, reason: &str) -> Self {
        DoseError::InvalidProtocol {
            field: field.to_owned(),
            value: value.to_string(),
            reason: reason.to_owned(),
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DoseError>;
