//! An order: who is infused, at which visit, what they weigh, and when.

use jiff::ZonedDateTime as Zoned;
use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::units::BodyWeight;

/// One participant's infusion at one visit.
///
/// Times are [`Zoned`] so that a record says which clock they were read from
/// and durations across a clock change stay right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "OrderFields")]
pub struct Order {
    participant: String,
    weight: BodyWeight,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_as_entered: Option<String>,
    arm: String,
    visit: String,
    #[serde(with = "time_text")]
    thawed_at: Zoned,
    #[serde(with = "time_text")]
    prepared_at: Zoned,
}

/// The unchecked shape of an [`Order`] in JSON.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderFields {
    participant: String,
    weight: BodyWeight,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    weight_as_entered: Option<String>,
    arm: String,
    visit: String,
    #[serde(with = "time_text")]
    thawed_at: Zoned,
    #[serde(with = "time_text")]
    prepared_at: Zoned,
}

impl TryFrom<OrderFields> for Order {
    type Error = DoseError;
    fn try_from(f: OrderFields) -> Result<Order> {
        let mut order = Order::new(
            &f.participant,
            f.weight,
            &f.arm,
            &f.visit,
            f.thawed_at,
            Some(f.prepared_at),
        )?;
        order.weight_as_entered = f.weight_as_entered;
        Ok(order)
    }
}

fn non_empty(field: &str, value: &str) -> Result<String> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        Err(DoseError::InvalidInput {
            field: field.to_owned(),
            reason: format!("{field} is empty; give the {field} exactly as on the order"),
        })
    } else {
        Ok(trimmed.to_owned())
    }
}

impl Order {
    /// An order. `prepared_at` is when the bag is made and the infusion
    /// starts; it defaults to the thaw time. Arm and visit are checked
    /// against the protocol when preparing.
    pub fn new(
        participant: &str,
        weight: BodyWeight,
        arm: &str,
        visit: &str,
        thawed_at: Zoned,
        prepared_at: Option<Zoned>,
    ) -> Result<Order> {
        Ok(Order {
            participant: non_empty("participant", participant)?,
            weight,
            weight_as_entered: None,
            arm: non_empty("arm", arm)?,
            visit: non_empty("visit", visit)?,
            prepared_at: prepared_at.unwrap_or_else(|| thawed_at.clone()),
            thawed_at,
        })
    }

    /// Like [`Order::new`], with the weight as text with its unit ("160 lb").
    pub fn with_weight_text(
        participant: &str,
        weight: &str,
        arm: &str,
        visit: &str,
        thawed_at: Zoned,
        prepared_at: Option<Zoned>,
    ) -> Result<Order> {
        let mut order = Order::new(
            participant,
            BodyWeight::parse(weight)?,
            arm,
            visit,
            thawed_at,
            prepared_at,
        )?;
        order.set_weight_as_entered(weight);
        Ok(order)
    }

    /// Record the weight as the user typed it (for the worksheet), e.g. "160 lb".
    pub fn set_weight_as_entered(&mut self, text: &str) {
        self.weight_as_entered = Some(text.trim().to_owned());
    }

    /// Participant id.
    pub fn participant(&self) -> &str {
        &self.participant
    }
    /// Body weight.
    pub fn weight(&self) -> BodyWeight {
        self.weight
    }
    /// The weight as the user typed it ("160 lb"), if it was typed as text
    /// rather than given as a number of kilograms.
    pub fn weight_as_entered(&self) -> Option<&str> {
        self.weight_as_entered.as_deref()
    }
    /// Arm.
    pub fn arm(&self) -> &str {
        &self.arm
    }
    /// Visit.
    pub fn visit(&self) -> &str {
        &self.visit
    }
    /// When the product was thawed (for a placebo: when its active twin would be).
    pub fn thawed_at(&self) -> &Zoned {
        &self.thawed_at
    }
    /// When the bag is prepared and the infusion starts.
    pub fn prepared_at(&self) -> &Zoned {
        &self.prepared_at
    }
}

/// Read an RFC 3339 time with its UTC offset ("2026-11-25T09:00:00+01:00"),
/// or an RFC 9557 one with a zone name ("...+01:00[Europe/Paris]"). A time
/// without an offset is refused: a record must say which clock it was read
/// from. The result keeps the instant and its offset (a fixed-offset zone):
/// durations are counted in real time, and times print at that offset.
pub fn parse_time(field: &str, input: &str) -> Result<Zoned> {
    let invalid = |reason: String| DoseError::InvalidTime {
        field: field.to_owned(),
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    if let Ok(zoned) = text.parse::<Zoned>() {
        return Ok(fixed_offset(&zoned));
    }
    let timestamp = text.parse::<jiff::Timestamp>().map_err(|e| {
        invalid(format!(
            "{e}; write a date and time with its UTC offset, e.g. 2026-11-25T09:00:00+01:00"
        ))
    })?;
    let pieces = jiff::fmt::temporal::Pieces::parse(text).map_err(|e| invalid(e.to_string()))?;
    let offset = match pieces.offset() {
        Some(jiff::fmt::temporal::PiecesOffset::Numeric(numeric)) => numeric.offset(),
        _ => jiff::tz::Offset::UTC,
    };
    Ok(timestamp.to_zoned_datetime(jiff::tz::TimeZone::fixed(offset)))
}

/// The same instant in a fixed-offset zone at its current offset.
fn fixed_offset(time: &Zoned) -> Zoned {
    time.timestamp()
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(time.offset()))
}

/// A time as RFC 3339 with its offset, "2026-11-25T09:00:00+01:00": what
/// records and messages print, and what Python's `datetime.fromisoformat` reads.
pub fn format_time(time: &Zoned) -> String {
    time.timestamp()
        .display_with_offset(time.offset())
        .to_string()
}

/// Serde for a time as RFC 3339 text with its offset.
pub mod time_text {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Write "2026-11-25T09:00:00+01:00".
    pub fn serialize<S: Serializer>(
        time: &Zoned,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(time))
    }

    /// Read it back (any form [`parse_time`] reads).
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Zoned, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_time("time", &text).map_err(serde::de::Error::custom)
    }
}
