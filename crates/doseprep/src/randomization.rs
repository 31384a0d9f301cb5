//! The unblinded randomization list: which arm each participant is in.
//! The arm of a day's order comes from it, never typed.

use std::collections::BTreeMap;

use crate::day::DayOrder;
use crate::error::{DoseError, Result};
use crate::protocol::Protocol;
use crate::table::{read_csv, read_sheet, Row, Sheet};
use crate::Text;

/// The unblinded randomization list: participant → arm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Randomization {
    arms: BTreeMap<String, (Text, usize)>,
}

impl Randomization {
    /// From (participant, arm) pairs; `line` numbers are for messages.
    fn from_rows(rows: Vec<Row>) -> Result<Randomization> {
        let mut arms = BTreeMap::new();
        for row in rows {
            let bad = |reason: String| DoseError::Randomization {
                participant: None,
                reason,
                fix: "correct the randomization list".to_owned(),
            };
            let participant = row
                .required("participant")
                .map_err(|_| bad(format!("row {}: the participant cell is empty", row.line)))?;
            let arm = row.required("arm").map_err(|_| {
                bad(format!(
                    "row {}: the arm cell of {participant} is empty",
                    row.line
                ))
            })?;
            if let Some((_, first)) = arms.get(participant) {
                return Err(bad(format!(
                    "row {}: participant {participant} is listed again (first on row {first})",
                    row.line
                )));
            }
            arms.insert(participant.to_owned(), (Text::from(arm), row.line));
        }
        if arms.is_empty() {
            return Err(DoseError::Randomization {
                participant: None,
                reason: "the list has no participant".to_owned(),
                fix: "give a CSV with the columns participant,arm and one row per participant"
                    .to_owned(),
            });
        }
        Ok(Randomization { arms })
    }

    /// Read `participant,arm` CSV text (UTF-8, a byte-order mark allowed).
    pub fn from_csv_text(text: &str) -> Result<Randomization> {
        Randomization::from_rows(read_csv(
            "randomization list",
            text,
            &["participant", "arm"],
            &[],
        )?)
    }

    /// Read a `participant,arm` sheet of a spreadsheet, as from CSV.
    pub fn from_sheet(sheet: &Sheet) -> Result<Randomization> {
        Randomization::from_rows(read_sheet(
            "randomization list",
            sheet,
            &["participant", "arm"],
            &[],
            crate::table::DateCells::Refused,
        )?)
    }

    /// Check every arm against a protocol: an arm it lacks is an error naming the row.
    pub fn check_against(&self, protocol: &Protocol) -> Result<()> {
        let known = &protocol.spec().arms;
        for (participant, (arm, line)) in &self.arms {
            if !known.contains_key(arm.as_str()) {
                return Err(DoseError::Randomization {
                    participant: Some(participant.clone()),
                    reason: format!(
                        "row {line}: arm {arm:?} of {participant} is not in protocol {}",
                        protocol.name()
                    ),
                    fix: format!(
                        "use one of {}",
                        known.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The arm of a participant.
    pub fn arm(&self, participant: &str) -> Option<&str> {
        self.arms.get(participant).map(|(arm, _)| arm.as_str())
    }

    /// How many participants the list holds.
    pub fn len(&self) -> usize {
        self.arms.len()
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.arms.is_empty()
    }

    pub(crate) fn resolve(&self, order: &DayOrder) -> Result<Text> {
        let (arm, _) =
            self.arms
                .get(order.participant())
                .ok_or_else(|| DoseError::Randomization {
                    participant: Some(order.participant().to_owned()),
                    reason: format!(
                        "participant {} is not in the randomization list",
                        order.participant()
                    ),
                    fix: "check the participant id against the list; this order is not prepared"
                        .to_owned(),
                })?;
        if let Some(given) = order.arm() {
            if given != &**arm {
                return Err(DoseError::Randomization {
                    participant: Some(order.participant().to_owned()),
                    reason: format!(
                        "the order gives arm {given} for {} but the randomization list says arm {arm}",
                        order.participant()
                    ),
                    fix: "the list decides: remove the arm from the order or correct it, and check how it came to differ".to_owned(),
                });
            }
        }
        Ok(arm.clone())
    }
}
