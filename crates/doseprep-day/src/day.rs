//! A preparation day from its files to its published documents: read,
//! planned against the ledger's stock and bags, written to a staging
//! folder, recorded, then published in one rename. A failure or a kill at
//! any step leaves nothing recorded, or every document in place (or, killed
//! between the record and the rename, every document in the staging folder).

use std::path::{Path, PathBuf};

use doseprep::{DayPlan, DayRow, DinSequence, Lot, Protocol, Randomization, RecordedBag};
use doseprep_ledger::Ledger;

use crate::documents::{write_day, Printed};
use crate::error::{DayError, Result};
use crate::files;
use crate::folder::NewFolder;
use crate::stock::{in_stock, StockNote};

/// The files a day is planned from.
#[derive(Debug, Clone, Copy)]
pub struct DayFiles<'a> {
    /// The orders CSV: `participant,visit,weight,infusion_at[,baseline_weight,arm]`.
    pub orders: &'a Path,
    /// The randomization list CSV: `participant,arm`.
    pub randomization: &'a Path,
    /// The lots on hand: TOML of `[[lot]]` tables (or JSON).
    pub lots: &'a Path,
    /// The protocol file (or the trial file, with `site`), or `None` for
    /// the built-in CARE-SSc protocol (or trial).
    pub protocol: Option<&'a Path>,
    /// The site file (`[label]` and `[site]`), where the trial file is apart.
    pub site: Option<&'a Path>,
}

/// The ledger a day is recorded in, and who records it.
#[derive(Debug)]
pub struct Recording<'a> {
    /// The ledger (opened, never created, by the caller).
    pub ledger: &'a mut Ledger,
    /// Who records the day: initials, or the signed-in user's passphrase.
    pub by: doseprep_ledger::By,
}

/// What publishing a day did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The folder the documents are in.
    pub out: PathBuf,
    /// The documents written, in order (`bags/` for the bags' own files).
    pub written: Vec<&'static str>,
    /// The ledger's events for the day, in order; empty without a ledger
    /// or with no bag planned.
    pub recorded: Vec<i64>,
}

/// A day run from its files.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRun {
    /// The plan: a bag, or why not, for every row of the orders file.
    pub plan: DayPlan,
    /// Where the documents went, and the events recorded.
    pub published: Published,
}

impl DayRun {
    /// The rows not planned, a rerun's rows already recorded aside.
    pub fn not_planned(&self) -> usize {
        self.plan
            .bags
            .iter()
            .filter(|bag| {
                matches!(bag, Err(error) if error.kind() != doseprep::ErrorKind::AlreadyRecorded)
            })
            .count()
    }
}

/// Plan a day with bag ids from the operating system's random source. With
/// `recorded` (a ledger's standing bags), rows whose visit has its bag
/// already are not planned again; `din_from` is the ledger's next ISBT 128
/// DIN sequence number, for a site whose label carries one.
pub fn plan(
    protocol: &Protocol,
    rows: &[DayRow],
    lots: &[Lot],
    randomization: &Randomization,
    recorded: &[RecordedBag],
    din_from: Option<DinSequence>,
) -> Result<DayPlan> {
    let mut failure: Option<getrandom::Error> = None;
    let mut random = || {
        getrandom::u64().unwrap_or_else(|error| {
            failure = Some(error);
            // fallback-ok: the plan is discarded below when the source failed.
            0
        })
    };
    let plan = doseprep::plan_day_after(
        protocol,
        rows,
        lots,
        randomization,
        recorded,
        din_from,
        &mut random,
    )?;
    match failure {
        Some(error) => Err(DayError::RandomSource(error.to_string())),
        None => Ok(plan),
    }
}

/// Run a day from its files into `out`: every file read and checked, the
/// lots taken as the ledger holds them, the day planned (rows the ledger
/// holds bags for are not planned again), then [`publish_day`].
/// `on_stock_note` is told what the ledger's stock changed in the lots
/// file's lots as it is found, so a day that fails later does not hide it.
pub fn run_day(
    files: DayFiles<'_>,
    out: NewFolder,
    printed: Printed,
    recording: Option<Recording<'_>>,
    on_stock_note: &mut dyn FnMut(&StockNote),
) -> Result<DayRun> {
    let protocol = files::protocol(files.protocol, files.site)?;
    let randomization = files::randomization(files.randomization, &protocol)?;
    let lots = files::lots(files.lots)?;
    let rows = files::day_orders(files.orders, &protocol)?;
    let (lots, recorded, din_from, mark) = match &recording {
        Some(recording) => {
            let (lots, notes) = in_stock(recording.ledger, lots)?;
            notes.iter().for_each(&mut *on_stock_note);
            // Verified before the day is added to it; the documents print it.
            let checkpoint = recording.ledger.checkpoint()?;
            (
                lots,
                recording.ledger.standing_bags()?,
                recording.ledger.next_din_sequence(&protocol)?,
                Some(doseprep::LedgerMark {
                    seq: checkpoint.seq,
                    head: checkpoint.head,
                }),
            )
        }
        None => (lots, Vec::new(), None, None),
    };
    let plan = plan(&protocol, &rows, &lots, &randomization, &recorded, din_from)?;
    let plan = match mark {
        Some(mark) => plan.with_ledger_before(mark),
        None => plan,
    };
    let published = publish_day(&plan, out, printed, recording)?;
    Ok(DayRun { plan, published })
}

/// A planned day's documents written to a staging folder beside `out`,
/// the day recorded in the ledger (where given, and where a bag was
/// planned), then the folder published as `out`.
pub fn publish_day(
    plan: &DayPlan,
    out: NewFolder,
    printed: Printed,
    recording: Option<Recording<'_>>,
) -> Result<Published> {
    let records = plan
        .records()
        .map_err(|error| DayError::PlanDoesNotVerify(Box::new(error)))?;
    let path = out.path().to_owned();
    let (written, recorded) = out.publish(|staging| {
        let written = write_day(staging, plan, &records, printed)?;
        let recorded = match recording {
            Some(recording) if !records.is_empty() => {
                recording
                    .ledger
                    .record_day(&plan.thaws, &records, &recording.by, None)?
            }
            _ => Vec::new(),
        };
        Ok((written, recorded))
    })?;
    Ok(Published {
        out: path,
        written,
        recorded,
    })
}
