//! What can stop a day on disk: the core's, the ledger's and the printer's
//! refusals as they are, an input file's refusal with the file's path, and
//! the file system's faults with the path concerned.

use std::path::PathBuf;

use doseprep::{DoseError, ErrorParts};
use doseprep_ledger::LedgerError;
use doseprep_print::PrintError;

/// The result of this crate's functions.
pub type Result<T, E = DayError> = std::result::Result<T, E>;

/// Why a day, a reprint, a batch or a ledger command could not be done.
///
/// Each variant's message and fix are written once, in [`DayError::said`]:
/// the message reads "what; fix" and `parts().fix` is that fix.
#[derive(Debug)]
#[non_exhaustive]
pub enum DayError {
    /// The core refused an input given other than in a file (the errors
    /// are boxed: a result is common, an error rare).
    Dose(Box<DoseError>),
    /// The ledger refused an event, or its file cannot be used.
    Ledger(Box<LedgerError>),
    /// A label or worksheet could not be printed.
    Print(PrintError),
    /// An input file the core refuses: its path, and the core's error (one
    /// line: the location in the file, what is wrong and the fix).
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it (boxed: an error is rare, a result is not).
        error: Box<DoseError>,
    },
    /// An input file that is not there.
    NoSuchFile {
        /// The path given.
        path: PathBuf,
    },
    /// An input file that cannot be read (permissions, a folder, not UTF-8).
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A document that could not be written.
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Documents written whole but not moved into place (the rename
    /// failed): what was recorded with them stands.
    NotPublished {
        /// The staging folder that holds them.
        staging: PathBuf,
        /// The folder they were for.
        out: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An output folder that exists and holds something already.
    OutNotEmpty {
        /// The folder given.
        path: PathBuf,
    },
    /// An output folder whose parent does not exist.
    OutParentMissing {
        /// The folder given.
        path: PathBuf,
        /// Its parent.
        parent: PathBuf,
    },
    /// No lot of the day has a container in stock in the ledger.
    NoStock,
    /// A reprint of nothing.
    NothingToReprint,
    /// A reprint date that is not a date.
    InvalidDate {
        /// The text given.
        input: String,
    },
    /// A bag without a bag id, whose documents cannot be named.
    Unnamed {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
    },
    /// A bag the day planned whose record does not recompute: a fault of
    /// doseprep itself, found before anything is written or recorded.
    PlanDoesNotVerify(Box<DoseError>),
    /// The operating system's random source (bag ids) failed: a system fault.
    RandomSource(String),
    /// A receipt from a shipment read from a lots file holding other than
    /// one lot (a shipment is of one lot).
    OneLotForShipment {
        /// The lots file.
        path: PathBuf,
        /// Lots it holds.
        lots: usize,
    },
}

impl From<PrintError> for DayError {
    fn from(error: PrintError) -> DayError {
        DayError::Print(error)
    }
}

impl std::fmt::Display for DayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The crates' own errors read as they wrote them.
            DayError::Dose(error) => error.fmt(f),
            DayError::Ledger(error) => error.fmt(f),
            DayError::Print(error) => error.fmt(f),
            DayError::InFile { path, error } => {
                write!(f, "{}: {}", path.display(), one_line(&error.to_string()))
            }
            _ => {
                let (what, fix) = self.said();
                write!(f, "{what}; {fix}")
            }
        }
    }
}

impl std::error::Error for DayError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DayError::Dose(error) | DayError::PlanDoesNotVerify(error) => Some(error.as_ref()),
            DayError::InFile { error, .. } => Some(error.as_ref()),
            DayError::Ledger(error) => Some(error.as_ref()),
            DayError::Print(error) => Some(error),
            DayError::Read { source, .. }
            | DayError::Write { source, .. }
            | DayError::NotPublished { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<DoseError> for DayError {
    fn from(error: DoseError) -> DayError {
        DayError::Dose(Box::new(error))
    }
}

impl From<LedgerError> for DayError {
    fn from(error: LedgerError) -> DayError {
        DayError::Ledger(Box::new(error))
    }
}

impl DayError {
    /// The error's stable name, as scripts match it: the core's kind, the
    /// ledger's code, `print`, or this crate's own.
    pub fn code(&self) -> &'static str {
        match self {
            DayError::Dose(error) => error.kind().name(),
            DayError::InFile { error, .. } => error.kind().name(),
            DayError::Ledger(error) => error.code(),
            DayError::Print(_) => "print",
            DayError::NoSuchFile { .. } => "no_such_file",
            DayError::Read { .. } => "read",
            DayError::Write { .. } => "write",
            DayError::NotPublished { .. } => "not_published",
            DayError::OutNotEmpty { .. } => "out_not_empty",
            DayError::OutParentMissing { .. } => "out_parent_missing",
            DayError::NoStock => "no_stock",
            DayError::NothingToReprint => "nothing_to_reprint",
            DayError::InvalidDate { .. } => "invalid_date",
            DayError::Unnamed { .. } => "unnamed_bag",
            DayError::RandomSource(_) => "random_source",
            DayError::PlanDoesNotVerify(_) => "plan_does_not_verify",
            DayError::OneLotForShipment { .. } => "one_lot_for_shipment",
        }
    }

    /// What is wrong and what to do, each written once per variant (the
    /// crates' own errors and a file's error carry their own).
    fn said(&self) -> (String, String) {
        let shown = |path: &PathBuf| path.display().to_string();
        match self {
            DayError::Dose(error) => (error.to_string(), error.parts().fix),
            DayError::PlanDoesNotVerify(error) => (
                format!(
                    "the record of a bag the day planned does not recompute ({error}); nothing was written or recorded"
                ),
                "report this as a bug in doseprep".to_owned(),
            ),
            DayError::InFile { error, .. } => (error.to_string(), error.parts().fix),
            DayError::Ledger(error) => (error.to_string(), error.parts().fix),
            DayError::Print(error) => (error.to_string(), error.parts().fix),
            DayError::NoSuchFile { path } => (
                format!("no such file: {}", shown(path)),
                "check the path".to_owned(),
            ),
            DayError::Read { path, source } => (
                format!("cannot read {}: {source}", shown(path)),
                "check the path and that the file is UTF-8 text".to_owned(),
            ),
            DayError::Write { path, source } => (
                format!("cannot write {}: {source}", shown(path)),
                "check the disk's free space and the folder's permissions, then run again"
                    .to_owned(),
            ),
            DayError::NotPublished {
                staging,
                out,
                source,
            } => (
                format!(
                    "the documents were written to {} but could not be moved to {} ({source}); anything recorded with them stands",
                    shown(staging),
                    shown(out)
                ),
                format!(
                    "move {} to {} by hand, or make them again with doseprep reprint",
                    shown(staging),
                    shown(out)
                ),
            ),
            DayError::OutNotEmpty { path } => (
                format!(
                    "the output folder {} already exists and is not an empty folder",
                    shown(path)
                ),
                "give a new folder for these documents".to_owned(),
            ),
            DayError::OutParentMissing { path, parent } => (
                format!(
                    "the output folder {}: the folder {} does not exist",
                    shown(path),
                    shown(parent)
                ),
                "create it first".to_owned(),
            ),
            DayError::NoStock => (
                "no lot of the lots file has a container in stock in the ledger".to_owned(),
                "receive stock before planning the day".to_owned(),
            ),
            DayError::NothingToReprint => (
                "nothing to reprint".to_owned(),
                "give one or more bag ids, or a date on which bags were prepared".to_owned(),
            ),
            DayError::InvalidDate { input } => (
                format!("reprint date {input:?} is not a date written YYYY-MM-DD"),
                "give the day on the site's clock, e.g. 2026-11-25".to_owned(),
            ),
            DayError::Unnamed { participant, visit } => (
                format!(
                    "the bag of {participant} {visit} has no bag id, so its files cannot be named"
                ),
                "plan the bag with a day plan, which gives each bag one".to_owned(),
            ),
            DayError::RandomSource(reason) => (
                format!(
                    "the operating system's random source failed: {reason}; bag ids cannot be made, so nothing was planned"
                ),
                "check the operating system's random source (getrandom)".to_owned(),
            ),
            DayError::OneLotForShipment { path, lots } => (
                format!(
                    "{} holds {lots} lots; a receipt from a shipment is of one lot",
                    shown(path)
                ),
                "give a lots file of the one lot shipped (receive other lots without --from-site)"
                    .to_owned(),
            ),
        }
    }

    /// The facts of the error one by one (the input, its value, the limit
    /// and the fix), for a script or the binding.
    pub fn parts(&self) -> ErrorParts {
        let path = |path: &PathBuf| Some(path.display().to_string());
        let (field, value, limit) = match self {
            DayError::Dose(error) => return error.parts(),
            DayError::InFile { path: file, error } => {
                return ErrorParts {
                    value: error.parts().value.or_else(|| path(file)),
                    ..error.parts()
                }
            }
            DayError::Ledger(error) => return error.parts(),
            DayError::Print(error) => return error.parts(),
            DayError::PlanDoesNotVerify(error) => {
                let parts = error.parts();
                (parts.field, parts.value, parts.limit)
            }
            DayError::NoSuchFile { path: file } => (
                Some("path".to_owned()),
                path(file),
                Some("an existing file".to_owned()),
            ),
            DayError::Read { path: file, .. } | DayError::Write { path: file, .. } => {
                (Some("path".to_owned()), path(file), None)
            }
            DayError::NotPublished { staging, .. } => (Some("out".to_owned()), path(staging), None),
            DayError::OutNotEmpty { path: folder } => (
                Some("out".to_owned()),
                path(folder),
                Some("a new or empty folder".to_owned()),
            ),
            DayError::OutParentMissing { path: folder, .. } => (
                Some("out".to_owned()),
                path(folder),
                Some("a folder inside an existing one".to_owned()),
            ),
            DayError::NoStock => (
                Some("lots".to_owned()),
                None,
                Some("a container in stock".to_owned()),
            ),
            DayError::NothingToReprint => (
                Some("bags".to_owned()),
                None,
                Some("one bag or more".to_owned()),
            ),
            DayError::InvalidDate { input } => (
                Some("date".to_owned()),
                Some(input.clone()),
                Some("a date written YYYY-MM-DD".to_owned()),
            ),
            DayError::Unnamed { participant, visit } => (
                Some("bag_id".to_owned()),
                Some(format!("{participant} {visit}")),
                Some("a bag id".to_owned()),
            ),
            DayError::RandomSource(_) => (None, None, None),
            DayError::OneLotForShipment { path: file, lots } => (
                Some("lots".to_owned()),
                Some(format!("{lots} lots in {}", file.display())),
                Some("one lot".to_owned()),
            ),
        };
        ErrorParts {
            field,
            value,
            limit,
            fix: self.said().1,
        }
    }

    /// True for a fault of the system (a file that cannot be written, the
    /// random source, a database fault or a ledger that does not verify, the
    /// printer's font or PDF writer), false for an input a person can
    /// correct or an event the ledger refuses.
    pub fn is_system_fault(&self) -> bool {
        match self {
            DayError::Write { .. }
            | DayError::NotPublished { .. }
            | DayError::RandomSource(_)
            | DayError::PlanDoesNotVerify(_) => true,
            DayError::Ledger(error) => error.is_fault(),
            DayError::Print(error) => error.is_fault(),
            _ => false,
        }
    }
}

/// A message as one line: a parser's multi-line report (a TOML error
/// points at the column on a line of its own) with its lines joined.
pub fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    lines.join(" ")
}
