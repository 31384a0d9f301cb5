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

/// The bags of `date` (the site's clock) not destroyed or cancelled, in the
/// ledger's order: those prepared on it, and those planned for a session
/// thawed on it (their documents are printed when the day is planned).
pub fn bags_prepared_on(ledger: &Ledger, date: PrintDate) -> Result<Vec<BagId>> {
    let events = ledger.events()?;
    let read = |body: &str| -> Result<serde_json::Value> {
        serde_json::from_str(body).map_err(|error| {
            DayError::from(doseprep_ledger::LedgerError::Tampered(format!(
                "an event's body is not JSON ({error})"
            )))
        })
    };
    let text = |value: &serde_json::Value, key: &str| {
        value
            .get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let mut gone = std::collections::BTreeSet::new();
    for event in events
        .iter()
        .filter(|e| matches!(e.kind.as_str(), "destroy_bag" | "cancel_bag"))
    {
        gone.extend(text(&read(&event.body)?, "bag_id"));
    }
    let day = date.to_string();
    let mut bags = Vec::new();
    for event in &events {
        let body = match event.kind.as_str() {
            "prepare" | "plan" => read(&event.body)?,
            _ => continue,
        };
        // A bag is of the day it is made, or its session thawed.
        let dated = match event.kind.as_str() {
            "plan" => text(&body, "thawed_at"),
            _ => Some(event.at.clone()),
        };
        if !dated.is_some_and(|at| at.starts_with(&day)) {
            continue;
        }
        if let Some(id) = text(&body, "bag_id") {
            if !gone.contains(&id) {
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
