//! Bags' documents made again from the ledger alone, byte for byte as first
//! printed: each record read back and verified, a destroyed bag refused.

use std::path::PathBuf;

use doseprep::BagId;
use doseprep_ledger::Ledger;

use crate::documents::{write_reprint, Printed};
use crate::error::{DayError, Result};
use crate::folder::NewFolder;

/// A date on the site's clock, as a reprint takes it: `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintDate(jiff::civil::Date);

impl PrintDate {
    /// Read `2026-11-25`.
    pub fn parse(text: &str) -> Result<PrintDate> {
        let invalid = || DayError::InvalidDate {
            input: text.to_owned(),
        };
        let trimmed = text.trim();
        // jiff reads longer forms too; a reprint date is the date alone.
        if trimmed.len() != 10 {
            return Err(invalid());
        }
        trimmed
            .parse::<jiff::civil::Date>()
            .map(PrintDate)
            .map_err(|_| invalid())
    }
}

impl std::fmt::Display for PrintDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The bags prepared on `date` (the site's clock, as the ledger records
/// each preparation) and not destroyed, in the ledger's order.
pub fn bags_prepared_on(ledger: &Ledger, date: PrintDate) -> Result<Vec<BagId>> {
    let events = ledger.events()?;
    let bag_of = |body: &str| -> Result<Option<String>> {
        let value: serde_json::Value = serde_json::from_str(body).map_err(|error| {
            DayError::from(doseprep_ledger::LedgerError::Tampered(format!(
                "an event's body is not JSON ({error})"
            )))
        })?;
        Ok(value
            .get("bag_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned))
    };
    let mut destroyed = std::collections::BTreeSet::new();
    for event in events.iter().filter(|e| e.kind == "destroy_bag") {
        destroyed.extend(bag_of(&event.body)?);
    }
    let day = date.to_string();
    let mut bags = Vec::new();
    for event in events
        .iter()
        .filter(|e| e.kind == "prepare" && e.at.starts_with(&day))
    {
        if let Some(id) = bag_of(&event.body)? {
            if !destroyed.contains(&id) {
                bags.push(BagId::parse(&id)?);
            }
        }
    }
    Ok(bags)
}

/// The documents of `bags` (labels, worksheets and records; the PDFs where
/// asked) made again from the ledger into `out`. Returns how many bags.
/// The day's pick list, summary and `day.csv` are not made again.
pub fn reprint(
    ledger: &Ledger,
    bags: &[BagId],
    out: NewFolder,
    printed: Printed,
) -> Result<Reprinted> {
    if bags.is_empty() {
        return Err(DayError::NothingToReprint);
    }
    // A bag named twice (by id and by its date) is printed once.
    let mut seen = std::collections::BTreeSet::new();
    let records = bags
        .iter()
        .filter(|bag_id| seen.insert(bag_id.as_text()))
        .map(|&bag_id| ledger.reprint(bag_id))
        .collect::<doseprep_ledger::Result<Vec<_>>>()?;
    let path = out.path().to_owned();
    out.publish(|staging| write_reprint(staging, &records, printed))?;
    Ok(Reprinted {
        out: path,
        bags: records.len(),
    })
}

/// What a reprint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reprinted {
    /// The folder.
    pub out: PathBuf,
    /// How many bags' documents.
    pub bags: usize,
}
