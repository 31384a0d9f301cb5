//! The one error type of the crate, and the one list of error kinds that
//! the bindings turn into exception classes.
//!
//! Every message names the value with its unit, the limit it broke and what to
//! do about it, because the reader is a pharmacist at a bench, not a developer.
//! The same facts are available one by one through [`DoseError::parts`], for
//! scripts that log or route errors.

use std::fmt;

use crate::format::{message_number as show, round2};

/// Everything that can stop a preparation. Library code returns one of these
/// instead of panicking, whatever the input.
///
/// Each variant's facts are written once, in [`DoseError::parts`]'s one
/// match: the message a person reads and the parts a script reads are
/// rendered from them, so the two cannot drift.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DoseError {
    /// A quantity string could not be read as a number followed by a unit.
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
    MissingUnit {
        /// Which input.
        field: String,
        /// The text as given.
        input: String,
        /// A well-formed example for this field.
        example: String,
    },

    /// A unit this field does not accept.
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
    ImplausibleWeight {
        /// "weight" or "baseline_weight".
        field: String,
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
    UnknownArm {
        /// The arm as given.
        arm: String,
        /// Protocol name.
        protocol: String,
        /// The arms it defines.
        known: String,
    },

    /// A visit the protocol does not define.
    UnknownVisit {
        /// The visit as given.
        visit: String,
        /// Protocol name.
        protocol: String,
        /// The visits it defines.
        known: String,
    },

    /// Viability outside (0, 1].
    ViabilityOutOfRange {
        /// The value as given.
        value: f64,
        /// A percentage hint where it looks like one.
        fix: String,
    },

    /// Viability below the protocol's release floor.
    ViabilityBelowFloor {
        /// The lot.
        lot_id: String,
        /// The lot's viability.
        value: f64,
        /// The protocol's floor.
        floor: f64,
    },

    /// The draw does not fit in the bag.
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
    NotEnoughContainers {
        /// The lot.
        lot_id: String,
        /// The rounded draw volume in mL.
        draw_ml: f64,
        /// What one container yields, in mL.
        per_container_ml: f64,
        /// Whether that is the lot's extractable volume or its fill.
        per_container: YieldFrom,
        /// Containers the draw needs.
        needed: u64,
        /// Containers available.
        available: u64,
        /// Which stock they are counted from.
        stock: StockCounted,
    },

    /// After rounding the draw, the delivered dose falls outside the acceptable range.
    OutsideTolerance {
        /// Cells delivered by the rounded draw.
        delivered: f64,
        /// Lowest acceptable cells.
        low: f64,
        /// Highest acceptable cells.
        high: f64,
        /// Target cells.
        target: f64,
        /// The rounded draw in mL.
        draw_ml: f64,
        /// Signed deviation from the target in percent.
        deviation_percent: f64,
        /// Where the range comes from, e.g. "the protocol tolerance of ±10%".
        range_from: String,
        /// What to do.
        fix: String,
    },

    /// DMSO exposure over the protocol's limit.
    DmsoOverLimit {
        /// The lot.
        lot_id: String,
        /// Exposure in g/kg body weight.
        g_per_kg: f64,
        /// Limit in g/kg.
        limit_g_per_kg: f64,
    },

    /// The protocol limits DMSO and the lot does not say how much it holds.
    DmsoFractionMissing {
        /// The lot.
        lot_id: String,
        /// Limit in g/kg.
        limit_g_per_kg: f64,
    },

    /// A time of the order comes before the thaw time.
    ThawInFuture {
        /// Thaw time, on the site's clock.
        thawed_at: String,
        /// "preparation time" or "infusion start".
        later_name: String,
        /// That time, on the site's clock.
        later: String,
    },

    /// The infusion cannot end within the protocol's window after thaw.
    ThawWindowExceeded {
        /// Thaw time.
        thawed_at: String,
        /// When the infusion starts (preparation time, or scheduled start).
        start: String,
        /// When the infusion would end.
        infusion_end: String,
        /// Latest end of infusion.
        infuse_by: String,
        /// The protocol's window, e.g. "3 h".
        window: String,
    },

    /// A time that could not be read.
    InvalidTime {
        /// Which input.
        field: String,
        /// The time as given.
        input: String,
        /// What is wrong, and the fix.
        reason: String,
    },

    /// A text field that must not be empty, or similar.
    InvalidInput {
        /// Which input.
        field: String,
        /// What is wrong, and the fix.
        reason: String,
    },

    /// A protocol file that does not parse (syntax, a missing or unknown key).
    MalformedProtocol {
        /// "TOML" or "JSON".
        format: String,
        /// The parser's message, which names the key and line.
        detail: String,
    },

    /// A protocol that parses but breaks a rule.
    InvalidProtocol {
        /// The key, e.g. "site.dose_tolerance".
        field: String,
        /// Its value as given.
        value: String,
        /// The rule and the fix.
        reason: String,
    },

    /// A record that cannot be read or whose parts disagree.
    InvalidRecord {
        /// What is wrong.
        reason: String,
    },

    /// No syringe the protocol lists holds the draw.
    NoSyringe {
        /// The draw in mL.
        draw_ml: f64,
        /// Capacity of the largest syringe in mL.
        largest_ml: f64,
    },

    /// The order and the randomization list disagree, or the list is unusable.
    Randomization {
        /// The participant, where one is concerned.
        participant: Option<String>,
        /// What is wrong.
        reason: String,
        /// What to do.
        fix: String,
    },

    /// A second order for a participant's visit in one day: one visit, one bag.
    DuplicateOrder {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The row of this order.
        row: usize,
        /// The row of the first order for the same visit, which is planned.
        first_row: usize,
    },

    /// An order the ledger holds a bag for already, made from the same
    /// order: a rerun of the day, not planned again.
    AlreadyRecorded {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The row of the order.
        row: usize,
        /// The bag that stands for the visit.
        bag_id: String,
        /// The ledger event that recorded it.
        event: i64,
    },

    /// An order for a visit the ledger holds a bag for, made from another order.
    RecordedDifferently {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The row of the order.
        row: usize,
        /// The bag that stands for the visit.
        bag_id: String,
        /// The ledger event that recorded it.
        event: i64,
        /// What differs, e.g. "weight 72.4 kg, recorded 80 kg".
        differences: String,
    },

    /// A placebo order failed a check of the active bag it stands for.
    TwinCheck {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The error the active twin would give.
        twin: Box<DoseError>,
    },

    /// A lot thawed (or about to be) after its expiry. The same error from
    /// the core (a bag prepared from it) and the ledger (a thaw recorded).
    LotExpired {
        /// The lot.
        lot_id: String,
        /// Its expiry, as a time a person reads.
        expires_at: String,
        /// The thaw, as a time a person reads.
        thawed_at: String,
    },

    /// A record whose outputs do not recompute from its inputs, or whose
    /// protocol lost its fingerprint: no document is made from it.
    RecordDoesNotVerify {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The fields that differ.
        differences: Vec<crate::record::Difference>,
    },
}

/// Differences in a message: "field: recorded A, recomputed B; ...".
fn listed(differences: &[crate::record::Difference]) -> String {
    differences
        .iter()
        .map(|d| {
            format!(
                "{}: recorded {}, recomputed {}",
                d.field, d.recorded, d.recomputed
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The facts of an error one by one, for scripts: which input, its value,
/// the limit it broke, and what to do. `field`, `value` and `limit` are
/// `None` where they do not apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorParts {
    /// The input concerned, e.g. "weight", "site.dose_tolerance".
    pub field: Option<String>,
    /// Its value as text, with its unit where it has one.
    pub value: Option<String>,
    /// The limit or rule it broke, as text.
    pub limit: Option<String>,
    /// What to do about it.
    pub fix: String,
}

/// Declares the error kinds once: the Rust enum, their stable names, and the
/// Python class and docstring each binds to.
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $kind:ident => $name:literal, $class:literal, $summary:literal;)*) => {
        /// The kind of a [`DoseError`], without its data: what bindings map
        /// to exception classes and tests assert on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorKind {
            $($(#[$doc])* $kind,)*
        }

        impl ErrorKind {
            /// Every kind, in a fixed order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$kind,)*];

            /// A stable snake_case name, used in test vectors and JSON error lines.
            pub fn name(self) -> &'static str {
                match self { $(ErrorKind::$kind => $name,)* }
            }

            /// The name of the exception class a binding gives this kind.
            pub fn class_name(self) -> &'static str {
                match self { $(ErrorKind::$kind => $class,)* }
            }

            /// One line on when this kind is raised (the class docstring).
            pub fn summary(self) -> &'static str {
                match self { $(ErrorKind::$kind => $summary,)* }
            }
        }
    };
}

error_kinds! {
    /// [`DoseError::Malformed`], [`DoseError::MissingUnit`], [`DoseError::UnknownUnit`].
    Unit => "unit", "UnitError", "A quantity without a unit, with an unknown unit, or not a number.";
    /// [`DoseError::InvalidQuantity`].
    InvalidQuantity => "invalid_quantity", "InvalidQuantityError", "NaN, infinity, zero, a negative or an absurd quantity.";
    /// [`DoseError::ImplausibleWeight`].
    ImplausibleWeight => "implausible_weight", "ImplausibleWeightError", "A body weight outside the protocol's plausible range.";
    /// [`DoseError::UnknownArm`].
    UnknownArm => "unknown_arm", "UnknownArmError", "An arm the protocol does not define.";
    /// [`DoseError::UnknownVisit`].
    UnknownVisit => "unknown_visit", "UnknownVisitError", "A visit the protocol does not define.";
    /// [`DoseError::ViabilityOutOfRange`], [`DoseError::ViabilityBelowFloor`].
    Viability => "viability", "ViabilityError", "Viability outside 0-1 or under the protocol floor.";
    /// [`DoseError::LotTooDilute`].
    LotTooDilute => "lot_too_dilute", "LotTooDiluteError", "The draw the dose needs does not fit in the bag.";
    /// [`DoseError::NotEnoughContainers`].
    NotEnoughContainers => "not_enough_containers", "NotEnoughContainersError", "Fewer containers on hand than the draw needs.";
    /// [`DoseError::OutsideTolerance`].
    OutsideTolerance => "outside_tolerance", "OutsideToleranceError", "The rounded draw delivers a dose outside the acceptable range.";
    /// [`DoseError::DmsoOverLimit`], [`DoseError::DmsoFractionMissing`].
    DmsoLimit => "dmso_limit", "DmsoLimitError", "DMSO exposure over the protocol limit, or a lot that does not give its DMSO fraction.";
    /// [`DoseError::ThawInFuture`], [`DoseError::ThawWindowExceeded`].
    ThawWindow => "thaw_window", "ThawWindowError", "Thaw after preparation, or the infusion would end too late.";
    /// [`DoseError::InvalidTime`].
    InvalidTime => "invalid_time", "InvalidTimeError", "A time without a UTC offset, or one that cannot be read.";
    /// [`DoseError::InvalidInput`].
    InvalidInput => "invalid_input", "InvalidInputError", "An empty id, an unknown column or another unusable input.";
    /// [`DoseError::MalformedProtocol`], [`DoseError::InvalidProtocol`].
    Protocol => "protocol", "ProtocolError", "A protocol file that is malformed or breaks a rule.";
    /// [`DoseError::InvalidRecord`], [`DoseError::RecordDoesNotVerify`].
    Record => "record", "RecordError", "A preparation record that cannot be read or verified.";
    /// [`DoseError::LotExpired`].
    LotExpired => "lot_expired", "LotExpiredError", "A lot thawed after its expiry.";
    /// [`DoseError::NoSyringe`].
    Syringe => "syringe", "SyringeError", "A draw larger than every syringe the protocol lists.";
    /// [`DoseError::Randomization`].
    Randomization => "randomization", "RandomizationError", "An order that disagrees with the randomization list, or an unusable list.";
    /// [`DoseError::DuplicateOrder`].
    DuplicateOrder => "duplicate_order", "DuplicateOrderError", "A second order for the same participant and visit in one day.";
    /// [`DoseError::AlreadyRecorded`].
    AlreadyRecorded => "already_recorded", "AlreadyRecordedError", "An order whose bag the ledger holds already, from the same order (a rerun): not planned again.";
    /// [`DoseError::RecordedDifferently`].
    RecordedDifferently => "recorded_differently", "RecordedDifferentlyError", "An order for a visit whose bag the ledger holds already, recorded for another order.";
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn some(text: impl Into<String>) -> Option<String> {
    Some(text.into())
}

impl DoseError {
    /// The kind of this error. A placebo's twin check has the kind of the
    /// twin's error, so a placebo fails exactly like its active twin.
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
            DoseError::DmsoOverLimit { .. } | DoseError::DmsoFractionMissing { .. } => {
                ErrorKind::DmsoLimit
            }
            DoseError::ThawInFuture { .. } | DoseError::ThawWindowExceeded { .. } => {
                ErrorKind::ThawWindow
            }
            DoseError::InvalidTime { .. } => ErrorKind::InvalidTime,
            DoseError::InvalidInput { .. } => ErrorKind::InvalidInput,
            DoseError::MalformedProtocol { .. } | DoseError::InvalidProtocol { .. } => {
                ErrorKind::Protocol
            }
            DoseError::InvalidRecord { .. } | DoseError::RecordDoesNotVerify { .. } => {
                ErrorKind::Record
            }
            DoseError::NoSyringe { .. } => ErrorKind::Syringe,
            DoseError::LotExpired { .. } => ErrorKind::LotExpired,
            DoseError::Randomization { .. } => ErrorKind::Randomization,
            DoseError::DuplicateOrder { .. } => ErrorKind::DuplicateOrder,
            DoseError::AlreadyRecorded { .. } => ErrorKind::AlreadyRecorded,
            DoseError::RecordedDifferently { .. } => ErrorKind::RecordedDifferently,
            DoseError::TwinCheck { twin, .. } => twin.kind(),
        }
    }

    /// The facts of this error one by one (see [`ErrorParts`]).
    pub fn parts(&self) -> ErrorParts {
        self.facts().1
    }

    /// The message and the parts, from each variant's facts written once.
    /// A structured error reads "what is wrong; the fix", its fix the same
    /// text as `parts().fix`; an error whose reason is free text (an invalid
    /// input, time, protocol key or record) carries its fix in that text.
    fn facts(&self) -> (String, ErrorParts) {
        /// "what; fix", with the parts.
        fn said(
            what: String,
            field: &str,
            value: Option<String>,
            limit: Option<String>,
            fix: String,
        ) -> (String, ErrorParts) {
            (
                format!("{what}; {fix}"),
                ErrorParts {
                    field: Some(field.to_owned()),
                    value,
                    limit,
                    fix,
                },
            )
        }
        /// A free-text reason that says what is wrong and what to do.
        fn reason(
            message: String,
            field: &str,
            value: Option<String>,
            reason: &str,
        ) -> (String, ErrorParts) {
            (
                message,
                ErrorParts {
                    field: Some(field.to_owned()),
                    value,
                    limit: None,
                    fix: reason.to_owned(),
                },
            )
        }
        match self {
            DoseError::Malformed {
                field,
                input,
                reason,
                example,
            } => said(
                format!("{field}: cannot read {input:?} as a quantity: {reason}"),
                field,
                some(input),
                some(format!("a number then a unit ({reason})")),
                format!("write it as {example}"),
            ),
            DoseError::MissingUnit {
                field,
                input,
                example,
            } => said(
                format!("{field}: {input:?} has no unit"),
                field,
                some(input),
                some("a number followed by its unit"),
                format!("write the unit after the number, e.g. {example}"),
            ),
            DoseError::UnknownUnit {
                field,
                input,
                unit,
                hint,
            } => said(
                format!("{field}: unit {unit:?} in {input:?} is not accepted here"),
                field,
                some(input),
                some(format!("a unit this field takes, not {unit:?}")),
                hint.clone(),
            ),
            DoseError::InvalidQuantity {
                field,
                value,
                unit,
                requirement,
            } => {
                let shown = format!("{} {unit}", show(*value)).trim_end().to_owned();
                said(
                    format!("{field}: {shown} is not a valid value; it must be {requirement}"),
                    field,
                    Some(shown),
                    some(requirement),
                    format!("give {requirement}"),
                )
            }
            DoseError::ImplausibleWeight {
                field,
                weight_kg,
                min_kg,
                max_kg,
                fix,
            } => said(
                format!(
                    "{field} {} kg is outside the plausible {min_kg}-{max_kg} kg of this protocol",
                    show(*weight_kg)
                ),
                field,
                some(format!("{} kg", show(*weight_kg))),
                some(format!("{min_kg}-{max_kg} kg")),
                fix.clone(),
            ),
            DoseError::UnknownArm {
                arm,
                protocol,
                known,
            } => said(
                format!("arm {arm:?} is not in protocol {protocol}"),
                "arm",
                some(arm),
                some(format!("one of {known}")),
                format!("use one of {known}"),
            ),
            DoseError::UnknownVisit {
                visit,
                protocol,
                known,
            } => said(
                format!("visit {visit:?} is not in protocol {protocol}"),
                "visit",
                some(visit),
                some(format!("one of {known}")),
                format!("use one of {known}"),
            ),
            DoseError::ViabilityOutOfRange { value, fix } => said(
                format!(
                    "viability {} is outside 0-1 (a fraction of live cells)",
                    show(*value)
                ),
                "viability",
                some(show(*value)),
                some("above 0 and at most 1"),
                fix.clone(),
            ),
            DoseError::ViabilityBelowFloor {
                lot_id,
                value,
                floor,
            } => said(
                format!("lot {lot_id}: viability {value} is below the protocol floor {floor}"),
                "viability",
                some(show(*value)),
                some(format!("at least {floor}")),
                "do not release this lot, thaw another lot".to_owned(),
            ),
            DoseError::LotTooDilute {
                lot_id,
                draw_ml,
                limit_ml,
                limit_reason,
                concentration,
            } => said(
                    format!(
                        "lot {lot_id} is too dilute: the dose needs {} mL at {} cells/mL but at most {limit_ml} mL can be drawn ({limit_reason})",
                        show(round2(*draw_ml)),
                        show(*concentration)
                    ),
                    "viable_cells_per_ml",
                    some(format!("{} cells/mL", show(*concentration))),
                    some(format!(
                        "concentrated enough for a draw of at most {limit_ml} mL ({limit_reason})"
                    )),
                    "use a more concentrated lot".to_owned(),
                ),
            DoseError::NotEnoughContainers {
                lot_id,
                draw_ml,
                per_container_ml,
                per_container,
                needed,
                available,
                stock,
            } => said(
                format!(
                    "lot {lot_id}: the draw of {draw_ml} mL needs {needed} containers of {per_container_ml} mL{} but only {available} {}",
                    per_container.as_str(),
                    stock.as_str()
                ),
                "containers",
                some(available.to_string()),
                some(format!("at least {needed} for the draw of {draw_ml} mL")),
                "bring more containers of this lot or use another lot".to_owned(),
            ),
            DoseError::OutsideTolerance {
                delivered,
                low,
                high,
                target,
                draw_ml,
                deviation_percent,
                range_from,
                fix,
            } => said(
                format!(
                    "delivered dose {} cells from a {draw_ml} mL draw is outside the acceptable {}-{} cells ({range_from}; target {} cells, deviation {deviation_percent:+.2}%)",
                    show(*delivered),
                    show(*low),
                    show(*high),
                    show(*target)
                ),
                "draw_volume",
                some(format!("{draw_ml} mL")),
                some(format!("{}-{} cells", show(*low), show(*high))),
                fix.clone(),
            ),
            DoseError::DmsoOverLimit {
                lot_id,
                g_per_kg,
                limit_g_per_kg,
            } => said(
                format!(
                    "lot {lot_id}: DMSO exposure {g_per_kg:.4} g/kg exceeds the protocol limit {limit_g_per_kg} g/kg"
                ),
                "dmso_fraction",
                some(format!("{g_per_kg:.4} g/kg")),
                some(format!("{limit_g_per_kg} g/kg")),
                "wash the cells or use a lot with less DMSO".to_owned(),
            ),
            DoseError::DmsoFractionMissing {
                lot_id,
                limit_g_per_kg,
            } => said(
                format!(
                    "lot {lot_id} gives no dmso_fraction, but the protocol limits DMSO to {limit_g_per_kg} g/kg"
                ),
                "dmso_fraction",
                None,
                some(format!("{limit_g_per_kg} g/kg")),
                "give the lot's DMSO volume fraction (e.g. 0.05 for 5%, 0 for a washed product)"
                    .to_owned(),
            ),
            DoseError::ThawInFuture {
                thawed_at,
                later_name,
                later,
            } => said(
                format!("thaw time {thawed_at} is after the {later_name} {later}"),
                "thawed_at",
                some(thawed_at),
                some(format!("not after {later}")),
                "check both clocks and enter the actual thaw time".to_owned(),
            ),
            DoseError::ThawWindowExceeded {
                thawed_at,
                start,
                infusion_end,
                infuse_by,
                window,
            } => said(
                format!(
                    "infusion starting at {start} would end at {infusion_end}, after the limit {infuse_by} ({window} from thaw at {thawed_at})"
                ),
                "thawed_at",
                some(thawed_at),
                some(format!(
                    "at most {window} before the end of infusion ({infusion_end})"
                )),
                "discard and thaw again".to_owned(),
            ),
            DoseError::InvalidTime {
                field,
                input,
                reason: why,
            } => reason(
                format!("{field}: {input:?} is not a usable time: {why}"),
                field,
                some(input),
                why,
            ),
            DoseError::InvalidInput { field, reason: why } => {
                reason(format!("{field}: {why}"), field, None, why)
            }
            DoseError::MalformedProtocol { format, detail } => reason(
                format!("protocol file ({format}) is malformed: {detail}"),
                "protocol",
                None,
                detail,
            ),
            DoseError::InvalidProtocol {
                field,
                value,
                reason: why,
            } => reason(
                format!("protocol: {field} = {value} is invalid: {why}"),
                field,
                some(value),
                why,
            ),
            DoseError::InvalidRecord { reason: why } => {
                reason(format!("preparation record: {why}"), "record", None, why)
            }
            DoseError::LotExpired {
                lot_id,
                expires_at,
                thawed_at,
            } => said(
                format!("lot {lot_id} expired at {expires_at}, before the thaw at {thawed_at}"),
                "thawed_at",
                some(thawed_at),
                some(format!("not after {expires_at}, the lot's expiry")),
                "use another lot, and quarantine this one and destroy its containers".to_owned(),
            ),
            DoseError::RecordDoesNotVerify {
                participant,
                visit,
                differences,
            } => said(
                format!(
                    "the preparation record of {participant} at {visit} does not verify ({}); no label or worksheet is made from it",
                    listed(differences)
                ),
                "record",
                some(listed(differences)),
                some("every output as recomputed from the record's inputs"),
                "prepare the bag again, and keep this record for review".to_owned(),
            ),
            DoseError::NoSyringe {
                draw_ml,
                largest_ml,
            } => said(
                format!(
                    "the draw of {} mL is more than the largest syringe of site.syringes holds ({largest_ml} mL)",
                    show(round2(*draw_ml))
                ),
                "draw_volume",
                some(format!("{} mL", show(round2(*draw_ml)))),
                some(format!("{largest_ml} mL")),
                "split the draw between syringes by hand, or list a larger syringe".to_owned(),
            ),
            DoseError::Randomization {
                participant,
                reason: why,
                fix,
            } => (
                format!("randomization: {why}; {fix}"),
                ErrorParts {
                    field: participant.as_ref().map(|_| "participant".to_owned()),
                    value: participant.clone(),
                    limit: some(why),
                    fix: fix.clone(),
                },
            ),
            DoseError::DuplicateOrder {
                participant,
                visit,
                row,
                first_row,
            } => said(
                format!(
                    "row {row}: {participant} at {visit} is ordered again (first on row {first_row}); one visit gets one bag, so this row is not planned"
                ),
                "participant",
                some(format!("{participant} {visit}")),
                some(format!(
                    "one bag per visit (first ordered on row {first_row})"
                )),
                "delete the row that is wrong and plan the day again".to_owned(),
            ),
            DoseError::AlreadyRecorded {
                participant,
                visit,
                row,
                bag_id,
                event,
            } => said(
                format!(
                    "row {row}: {participant} at {visit} is recorded already with this order: bag {bag_id} (ledger event {event}); it is not planned again"
                ),
                "participant",
                some(format!("{participant} {visit}")),
                some(format!("one bag per visit: bag {bag_id} (ledger event {event})")),
                "there is nothing to do: the bag is recorded".to_owned(),
            ),
            DoseError::RecordedDifferently {
                participant,
                visit,
                row,
                bag_id,
                event,
                differences,
            } => said(
                format!(
                    "row {row}: {participant} at {visit} has bag {bag_id} already (ledger event {event}), recorded for another order ({differences})"
                ),
                "participant",
                some(format!("{participant} {visit} ({differences})")),
                some(format!("one bag per visit: bag {bag_id} (ledger event {event})")),
                format!("if this row replaces that bag, give the reason and cancel bag {bag_id} where it is only planned (doseprep ledger cancel) or destroy it where it was made (doseprep ledger destroy), then plan the row again; otherwise correct the row"),
            ),
            DoseError::TwinCheck {
                participant,
                visit,
                twin,
            } => (
                format!(
                    "placebo for {participant} at {visit}: the active bag it stands for fails its check, and a placebo fails like its twin so that a lot problem delays every participant alike (blinding): {twin}"
                ),
                twin.parts(),
            ),
        }
    }

    /// The error a placebo gives when its active twin fails `twin`.
    pub(crate) fn for_placebo(self, participant: &str, visit: &str) -> DoseError {
        DoseError::TwinCheck {
            participant: participant.to_owned(),
            visit: visit.to_owned(),
            twin: Box::new(self),
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

    pub(crate) fn invalid_input(field: &str, reason: impl Into<String>) -> Self {
        DoseError::InvalidInput {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for DoseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.facts().0)
    }
}

impl std::error::Error for DoseError {}

/// Whether a container's yield is its extractable volume or its fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YieldFrom {
    /// The lot gives no extractable volume: every container empties fully.
    Fill,
    /// The lot's extractable volume.
    Extractable,
}

impl YieldFrom {
    /// As the message says it after the volume ("10 mL extractable").
    pub fn as_str(self) -> &'static str {
        match self {
            YieldFrom::Fill => "",
            YieldFrom::Extractable => " extractable",
        }
    }
}

/// Which stock a shortage is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockCounted {
    /// The containers on hand (one bag prepared on its own).
    OnHand,
    /// What is left for the day after earlier bags of its plan.
    LeftForTheDay,
}

impl StockCounted {
    /// As the message says it ("only 2 are on hand").
    pub fn as_str(self) -> &'static str {
        match self {
            StockCounted::OnHand => "are on hand",
            StockCounted::LeftForTheDay => "are left for this day",
        }
    }
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DoseError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name_and_class() {
        let mut names: Vec<_> = ErrorKind::ALL.iter().map(|k| k.name()).collect();
        let mut classes: Vec<_> = ErrorKind::ALL.iter().map(|k| k.class_name()).collect();
        names.sort_unstable();
        names.dedup();
        classes.sort_unstable();
        classes.dedup();
        assert_eq!(names.len(), ErrorKind::ALL.len());
        assert_eq!(classes.len(), ErrorKind::ALL.len());
        assert!(classes.iter().all(|c| c.ends_with("Error")));
    }

    #[test]
    fn a_twin_check_keeps_the_kind_and_the_parts_of_the_twin() {
        let twin = DoseError::ViabilityBelowFloor {
            lot_id: "UC-0042".into(),
            value: 0.6,
            floor: 0.7,
        };
        let placebo = twin.clone().for_placebo("CARE-012", "month-3");
        assert_eq!(placebo.kind(), ErrorKind::Viability);
        assert_eq!(placebo.parts(), twin.parts());
        assert_eq!(
            placebo.to_string(),
            "placebo for CARE-012 at month-3: the active bag it stands for fails its check, and a placebo fails like its twin so that a lot problem delays every participant alike (blinding): lot UC-0042: viability 0.6 is below the protocol floor 0.7; do not release this lot, thaw another lot"
        );
    }
}
