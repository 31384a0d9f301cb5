//! An order: who is infused, at which visit, what they weigh, and when.

use jiff::ZonedDateTime;
use serde::{Deserialize, Serialize};

use crate::bag_id::BagId;
use crate::error::{DoseError, Result};
use crate::label::isbt128::DinSequence;
use crate::time::{format_time, parse_time};
use crate::units::{BodyWeight, GivenWeight};
use crate::Text;

/// One participant's infusion at one visit.
///
/// The thaw time is required for every order, placebo or active: for a
/// placebo it is the thaw time of the session it is made in, exactly as for
/// an active bag made alongside. Nothing here reads a clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "OrderFile", try_from = "OrderFile")]
pub struct Order {
    participant: Text,
    weight: GivenWeight,
    arm: Text,
    visit: Text,
    thawed_at: ZonedDateTime,
    optional: Optional,
}

/// The parts an order may give, kept apart from the rest: most orders give
/// none, and a batch keeps an order a row (an order is 168 bytes, not 376).
#[derive(Debug, Clone, Default, PartialEq)]
struct OptionalParts {
    baseline_weight: Option<GivenWeight>,
    bag_id: Option<BagId>,
    din_sequence: Option<DinSequence>,
    prepared_at: Option<ZonedDateTime>,
    infusion_at: Option<ZonedDateTime>,
    weighed_at: Option<ZonedDateTime>,
}

/// An order gives none of its optional parts.
static NO_OPTIONAL_PARTS: OptionalParts = OptionalParts {
    baseline_weight: None,
    bag_id: None,
    din_sequence: None,
    prepared_at: None,
    infusion_at: None,
    weighed_at: None,
};

/// The optional parts, boxed where any is given. Equal by what they give,
/// so an order whose parts were boxed and left empty equals one never boxed.
#[derive(Debug, Clone, Default)]
struct Optional(Option<Box<OptionalParts>>);

impl PartialEq for Optional {
    fn eq(&self, other: &Optional) -> bool {
        self.parts() == other.parts()
    }
}

impl Optional {
    fn parts(&self) -> &OptionalParts {
        self.0.as_deref().unwrap_or(&NO_OPTIONAL_PARTS) // fallback-ok: no box is no part given
    }

    fn parts_mut(&mut self) -> &mut OptionalParts {
        self.0.get_or_insert_with(Box::default)
    }
}

/// An order as written in a record: text, read back through the same
/// checks as the API, so a bad value keeps its error kind. A weight is
/// written once, as it was given: `weight` as typed with its unit, or
/// `weight_kg` as a number (and so `baseline_weight` or
/// `baseline_weight_kg`), exactly as the Python API takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFile {
    participant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_kg: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_weight: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_weight_kg: Option<f64>,
    arm: String,
    visit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bag_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    din_sequence: Option<u32>,
    thawed_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prepared_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    infusion_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weighed_at: Option<String>,
}

/// A weight's two keys in a file: the text typed, or the kilograms given.
fn weight_keys(given: Option<&GivenWeight>) -> (Option<String>, Option<f64>) {
    match given {
        None => (None, None),
        Some(given) => match given.typed_text() {
            Some(text) => (Some(text.to_owned()), None),
            None => (None, Some(given.weight().kg())),
        },
    }
}

/// A weight from its two keys in a file: one of them, never both.
fn given_weight(field: &str, text: Option<&str>, kg: Option<f64>) -> Result<Option<GivenWeight>> {
    match (text, kg) {
        (Some(text), None) => GivenWeight::typed(field, text).map(Some),
        (None, Some(kg)) => Ok(Some(GivenWeight::kilograms(BodyWeight::from_kg_for(
            field, kg,
        )?))),
        (None, None) => Ok(None),
        (Some(text), Some(kg)) => Err(DoseError::InvalidRecord {
            reason: format!(
                "the order gives {field} twice ({text:?} and {field}_kg = {kg}); a weight is written once, as it was given"
            ),
        }),
    }
}

impl From<Order> for OrderFile {
    fn from(order: Order) -> OrderFile {
        let (weight, weight_kg) = weight_keys(Some(&order.weight));
        let optional = order.optional.parts();
        let (baseline_weight, baseline_weight_kg) = weight_keys(optional.baseline_weight.as_ref());
        OrderFile {
            participant: order.participant.to_string(),
            weight,
            weight_kg,
            baseline_weight,
            baseline_weight_kg,
            arm: order.arm.to_string(),
            visit: order.visit.to_string(),
            bag_id: optional.bag_id.map(|id| id.as_text()),
            din_sequence: optional.din_sequence.map(DinSequence::value),
            thawed_at: format_time(&order.thawed_at),
            prepared_at: optional.prepared_at.as_ref().map(format_time),
            infusion_at: optional.infusion_at.as_ref().map(format_time),
            weighed_at: optional.weighed_at.as_ref().map(format_time),
        }
    }
}

impl TryFrom<OrderFile> for Order {
    type Error = DoseError;
    fn try_from(f: OrderFile) -> Result<Order> {
        let time =
            |field: &str, text: Option<&String>| text.map(|t| parse_time(field, t)).transpose();
        let weight =
            given_weight("weight", f.weight.as_deref(), f.weight_kg)?.ok_or_else(|| {
                DoseError::InvalidRecord {
                    reason: "the order gives no weight; it needs weight (as typed) or weight_kg"
                        .to_owned(),
                }
            })?;
        let mut order = Order::given(
            &f.participant,
            weight,
            &f.arm,
            &f.visit,
            parse_time("thawed_at", &f.thawed_at)?,
        )?;
        let optional = OptionalParts {
            baseline_weight: given_weight(
                "baseline_weight",
                f.baseline_weight.as_deref(),
                f.baseline_weight_kg,
            )?,
            bag_id: f.bag_id.map(|t| BagId::parse(&t)).transpose()?,
            din_sequence: f.din_sequence.map(DinSequence::new).transpose()?,
            prepared_at: time("prepared_at", f.prepared_at.as_ref())?,
            infusion_at: time("infusion_at", f.infusion_at.as_ref())?,
            weighed_at: time("weighed_at", f.weighed_at.as_ref())?,
        };
        if optional != NO_OPTIONAL_PARTS {
            order.optional = Optional(Some(Box::new(optional)));
        }
        Ok(order)
    }
}

impl Order {
    /// Read an order from a record's JSON value, keeping each error's kind.
    pub fn from_json_value(value: serde_json::Value) -> Result<Order> {
        let file: OrderFile =
            serde_json::from_value(value).map_err(|e| DoseError::InvalidRecord {
                reason: format!("the order cannot be read: {e}"),
            })?;
        Order::try_from(file)
    }
}

/// `value` trimmed, or an error naming the field when it is empty.
pub(crate) fn non_empty(field: &str, value: &str) -> Result<Text> {
    // Nearly every id is printable ASCII without a space: nothing to trim,
    // no control character, checked in one pass over the bytes.
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Ok(Text::from(value));
    }
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(DoseError::invalid_input(
            field,
            format!("{field} is empty; give the {field} exactly as on the order"),
        ))
    } else if let Some(control) = trimmed.chars().find(|c| c.is_control()) {
        // No label, worksheet or database keeps one faithfully (PostgreSQL
        // refuses NUL): an id is never typed with one.
        Err(DoseError::invalid_input(
            field,
            format!(
                "{field} {:?} holds the control character U+{:04X}; give the {field} exactly as printed, without it",
                trimmed.chars().take(40).collect::<String>(),
                u32::from(control)
            ),
        ))
    } else {
        Ok(Text::from(trimmed))
    }
}

impl Order {
    /// An order with the weight in kilograms given as a number. Arm and
    /// visit are checked against the protocol when preparing.
    pub fn new(
        participant: &str,
        weight: BodyWeight,
        arm: &str,
        visit: &str,
        thawed_at: ZonedDateTime,
    ) -> Result<Order> {
        Order::given(
            participant,
            GivenWeight::kilograms(weight),
            arm,
            visit,
            thawed_at,
        )
    }

    /// An order with the weight as it was given (typed, or in kilograms).
    pub fn given(
        participant: &str,
        weight: GivenWeight,
        arm: &str,
        visit: &str,
        thawed_at: ZonedDateTime,
    ) -> Result<Order> {
        Ok(Order {
            participant: non_empty("participant", participant)?,
            weight,
            arm: non_empty("arm", arm)?,
            visit: non_empty("visit", visit)?,
            thawed_at,
            optional: Optional::default(),
        })
    }

    /// Like [`Order::new`], with the weight as text with its unit ("160 lb").
    pub fn with_weight_text(
        participant: &str,
        weight: &str,
        arm: &str,
        visit: &str,
        thawed_at: ZonedDateTime,
    ) -> Result<Order> {
        Order::given(
            participant,
            GivenWeight::typed("weight", weight)?,
            arm,
            visit,
            thawed_at,
        )
    }

    /// When the bag is prepared (checked to be at or after the thaw).
    pub fn prepared(mut self, at: ZonedDateTime) -> Order {
        self.optional.parts_mut().prepared_at = Some(at);
        self
    }

    /// When the infusion is to start (checked to end within the thaw window).
    pub fn infusion(mut self, at: ZonedDateTime) -> Order {
        self.optional.parts_mut().infusion_at = Some(at);
        self
    }

    /// When the participant was weighed (checked to be no later than the
    /// preparation, or the infusion start where no preparation time is
    /// given): the FHIR weight Observation's time.
    pub fn weighed(mut self, at: ZonedDateTime) -> Order {
        self.optional.parts_mut().weighed_at = Some(at);
        self
    }

    /// The baseline weight as given, for protocols that dose on it.
    pub fn baseline(mut self, weight: GivenWeight) -> Order {
        self.optional.parts_mut().baseline_weight = Some(weight);
        self
    }

    /// The baseline weight as typed ("160 lb").
    pub fn baseline_text(self, text: &str) -> Result<Order> {
        Ok(self.baseline(GivenWeight::typed("baseline_weight", text)?))
    }

    /// The bag id printed on the label, where no day plan assigns one.
    pub fn with_bag_id(mut self, bag_id: BagId) -> Order {
        self.optional.parts_mut().bag_id = Some(bag_id);
        self
    }

    /// The sequence number of the bag's ISBT 128 DIN, for a site whose
    /// label carries one ([label] isbt128), where no day plan assigns it:
    /// the next of the facility's counter (the ledger's
    /// `next_din_sequence`).
    pub fn with_din_sequence(mut self, sequence: DinSequence) -> Order {
        self.optional.parts_mut().din_sequence = Some(sequence);
        self
    }

    /// Participant id.
    pub fn participant(&self) -> &str {
        &self.participant
    }
    pub(crate) fn participant_shared(&self) -> &Text {
        &self.participant
    }
    /// Body weight at the visit.
    pub fn weight(&self) -> BodyWeight {
        self.weight.weight()
    }
    /// The weight at the visit as it was given.
    pub fn given_weight(&self) -> &GivenWeight {
        &self.weight
    }
    /// The weight as the user typed it ("160 lb"), if typed as text.
    pub fn weight_as_entered(&self) -> Option<&str> {
        self.weight.typed_text()
    }
    /// Baseline weight, if given.
    pub fn baseline_weight(&self) -> Option<BodyWeight> {
        self.optional
            .parts()
            .baseline_weight
            .as_ref()
            .map(GivenWeight::weight)
    }
    /// The baseline weight as it was given, if given.
    pub fn given_baseline_weight(&self) -> Option<&GivenWeight> {
        self.optional.parts().baseline_weight.as_ref()
    }
    /// The baseline weight as typed, if typed as text.
    pub fn baseline_weight_as_entered(&self) -> Option<&str> {
        self.optional
            .parts()
            .baseline_weight
            .as_ref()
            .and_then(GivenWeight::typed_text)
    }
    /// Arm.
    pub fn arm(&self) -> &str {
        &self.arm
    }
    pub(crate) fn arm_shared(&self) -> &Text {
        &self.arm
    }
    /// Visit.
    pub fn visit(&self) -> &str {
        &self.visit
    }
    pub(crate) fn visit_shared(&self) -> &Text {
        &self.visit
    }
    /// Bag id, if given.
    pub fn bag_id(&self) -> Option<BagId> {
        self.optional.parts().bag_id
    }
    /// The DIN's sequence number, if given.
    pub fn din_sequence(&self) -> Option<DinSequence> {
        self.optional.parts().din_sequence
    }
    /// When the product was thawed (for a placebo: its session's thaw).
    pub fn thawed_at(&self) -> &ZonedDateTime {
        &self.thawed_at
    }
    /// When the bag is prepared, if given.
    pub fn prepared_at(&self) -> Option<&ZonedDateTime> {
        self.optional.parts().prepared_at.as_ref()
    }
    /// When the participant was weighed, if given.
    pub fn weighed_at(&self) -> Option<&ZonedDateTime> {
        self.optional.parts().weighed_at.as_ref()
    }
    /// When the infusion is to start, if given.
    pub fn infusion_at(&self) -> Option<&ZonedDateTime> {
        self.optional.parts().infusion_at.as_ref()
    }
}

impl Order {
    /// The columns an orders CSV for a batch takes.
    pub const CSV_REQUIRED: [&'static str; 5] =
        ["participant", "weight", "arm", "visit", "thawed_at"];
    /// The optional columns.
    pub const CSV_OPTIONAL: [&'static str; 6] = [
        "prepared_at",
        "infusion_at",
        "weighed_at",
        "baseline_weight",
        "bag_id",
        "din_sequence",
    ];

    /// Read an orders CSV (a byte-order mark allowed). A bad header is an
    /// error for the file; a bad cell is that row's error, in its place.
    pub fn from_csv_text(text: &str) -> Result<Vec<Result<Order>>> {
        let rows = crate::table::read_csv(
            "orders file",
            text,
            &Order::CSV_REQUIRED,
            &Order::CSV_OPTIONAL,
        )?;
        Ok(rows.iter().map(Order::from_row).collect())
    }

    /// One row of an orders CSV.
    pub fn from_row(row: &crate::table::Row) -> Result<Order> {
        let time = |field: &str| {
            row.optional(field)
                .map(|t| parse_time(field, t))
                .transpose()
        };
        let mut order = Order::with_weight_text(
            row.required("participant")?,
            row.required("weight")?,
            row.required("arm")?,
            row.required("visit")?,
            parse_time("thawed_at", row.required("thawed_at")?)?,
        )?;
        if let Some(at) = time("prepared_at")? {
            order = order.prepared(at);
        }
        if let Some(at) = time("infusion_at")? {
            order = order.infusion(at);
        }
        if let Some(at) = time("weighed_at")? {
            order = order.weighed(at);
        }
        if let Some(text) = row.optional("baseline_weight") {
            order = order.baseline_text(text)?;
        }
        if let Some(text) = row.optional("bag_id") {
            order = order.with_bag_id(BagId::parse(text)?);
        }
        if let Some(text) = row.optional("din_sequence") {
            let number = text.trim().parse::<u32>().map_err(|_| {
                DoseError::invalid_input(
                    "din_sequence",
                    format!(
                        "{text:?} is not a DIN sequence number; it must be a whole number from 1 to {}",
                        DinSequence::MAX
                    ),
                )
            })?;
            order = order.with_din_sequence(DinSequence::new(number)?);
        }
        Ok(order)
    }
}

impl Order {
    /// The same order with its times on `zone`'s clock (the same instants),
    /// as a record keeps them: a bag's record reads the same whatever
    /// offset its times were typed in.
    pub fn on_clock(&self, zone: &jiff::tz::TimeZone) -> Order {
        let on_clock =
            |time: &Option<ZonedDateTime>| time.as_ref().map(|t| t.with_time_zone(zone.clone()));
        let optional = self.optional.0.as_deref().map(|parts| {
            Box::new(OptionalParts {
                prepared_at: on_clock(&parts.prepared_at),
                infusion_at: on_clock(&parts.infusion_at),
                weighed_at: on_clock(&parts.weighed_at),
                ..parts.clone()
            })
        });
        Order {
            thawed_at: self.thawed_at.with_time_zone(zone.clone()),
            optional: Optional(optional),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thaw() -> ZonedDateTime {
        let time = parse_time("thawed_at", "2026-11-25T09:00:00-05:00");
        time.expect("a valid time") // allow-panic: test fixture
    }

    fn order() -> Order {
        let weight = BodyWeight::from_kg(72.4).expect("72.4 kg"); // allow-panic: test fixture
        let order = Order::new("P-001", weight, "A", "month-0", thaw());
        order.expect("a valid order") // allow-panic: test fixture
    }

    #[test]
    fn an_order_keeps_its_optional_parts_apart_and_small() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(std::mem::size_of::<Order>(), 168);
        assert!(order().optional.0.is_none());
        let prepared = order().prepared(thaw());
        assert_eq!(prepared.prepared_at(), Some(&thaw()));
        assert_eq!(prepared.infusion_at(), None);
        assert_ne!(prepared, order());
    }

    #[test]
    fn an_order_read_back_equals_the_order_written() {
        for written in [
            order(),
            order()
                .prepared(thaw())
                .with_din_sequence(DinSequence::new(7).expect("7")), // allow-panic: test fixture
        ] {
            let json = serde_json::to_value(&written).expect("an order writes"); // allow-panic: test fixture
            let read = Order::from_json_value(json).expect("an order reads"); // allow-panic: test fixture
            assert_eq!(read, written);
            assert_eq!(read.optional.0.is_some(), written.optional.0.is_some());
        }
    }

    /// `non_empty` without its ASCII shortcut: the rule as written.
    fn non_empty_by_the_rule(value: &str) -> Option<Text> {
        let trimmed = value.trim();
        (!trimmed.is_empty() && !trimmed.chars().any(char::is_control)).then(|| Text::from(trimmed))
    }

    proptest::proptest! {
        #[test]
        fn the_ascii_shortcut_reads_ids_as_the_rule_does(value in "[ -~\\t\\n\u{0}\u{7f}\u{a0}é]{0,12}") {
            proptest::prop_assert_eq!(non_empty("participant", &value).ok(), non_empty_by_the_rule(&value));
        }
    }

    #[test]
    fn empty_optional_parts_equal_none() {
        let boxed_empty = Order {
            optional: Optional(Some(Box::default())),
            ..order()
        };
        assert_eq!(boxed_empty, order());
    }
}
