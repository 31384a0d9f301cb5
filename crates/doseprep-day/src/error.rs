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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DayError {
    /// The core refused an input given other than in a file (the errors
    /// are boxed: a result is common, an error rare).
    #[error(transparent)]
    Dose(Box<DoseError>),
    /// The ledger refused an event, or its file cannot be used.
    #[error(transparent)]
    Ledger(Box<LedgerError>),
    /// A label or worksheet could not be printed.
    #[error(transparent)]
    Print(#[from] PrintError),
    /// An input file the core refuses: its path, and the core's error (one
    /// line: the location in the file, what is wrong and the fix).
    #[error("{path}: {}", one_line(&error.to_string()))]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it (boxed: an error is rare, a result is not).
        error: Box<DoseError>,
    },
    /// An input file that is not there.
    #[error("no such file: {path}")]
    NoSuchFile {
        /// The path given.
        path: PathBuf,
    },
    /// An input file that cannot be read (permissions, a folder, not UTF-8).
    #[error("cannot read {path}: {source}; check the path and that the file is UTF-8 text")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A document that could not be written.
    #[error("cannot write {path}: {source}; check the disk's free space and the folder's permissions, then run again")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Documents written whole but not moved into place (the rename
    /// failed): what was recorded with them stands.
    #[error("the documents were written to {staging} but could not be moved to {out} ({source}); anything recorded with them stands: move {staging} to {out} by hand, or make them again with doseprep reprint")]
    NotPublished {
        /// The staging folder that holds them.
        staging: PathBuf,
        /// The folder they were for.
        out: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An output folder that exists and holds something already.
    #[error("the output folder {path} already exists and is not an empty folder; give a new folder for these documents")]
    OutNotEmpty {
        /// The folder given.
        path: PathBuf,
    },
    /// An output folder whose parent does not exist.
    #[error("the output folder {path}: the folder {parent} does not exist; create it first")]
    OutParentMissing {
        /// The folder given.
        path: PathBuf,
        /// Its parent.
        parent: PathBuf,
    },
    /// No lot of the day has a container in stock in the ledger.
    #[error("no lot of the lots file has a container in stock in the ledger; receive stock before planning the day")]
    NoStock,
    /// A reprint of nothing.
    #[error("nothing to reprint: give one or more bag ids, or a date on which bags were prepared")]
    NothingToReprint,
    /// A reprint date that is not a date.
    #[error("reprint date {input:?} is not a date written YYYY-MM-DD; give the day on the site's clock, e.g. 2026-11-25")]
    InvalidDate {
        /// The text given.
        input: String,
    },
    /// A bag without a bag id, whose documents cannot be named.
    #[error("the bag of {participant} {visit} has no bag id, so its files cannot be named; plan the bag with a day plan, which gives each bag one")]
    Unnamed {
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
    },
    /// A bag the day planned whose record does not recompute: a fault of
    /// doseprep itself, found before anything is written or recorded.
    #[error("the record of a bag the day planned does not recompute ({0}); nothing was written or recorded: report this as a bug in doseprep")]
    PlanDoesNotVerify(Box<DoseError>),
    /// The operating system's random source (bag ids) failed: a system fault.
    #[error("the operating system's random source failed: {0}; bag ids cannot be made, so nothing was planned")]
    RandomSource(String),
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
        }
    }

    /// The facts of the error one by one (the input, its value, the limit
    /// and the fix), for a script or the binding.
    pub fn parts(&self) -> ErrorParts {
        let path = |path: &PathBuf| Some(path.display().to_string());
        match self {
            DayError::Dose(error) => error.parts(),
            DayError::InFile { path: file, error } => ErrorParts {
                value: error.parts().value.or_else(|| path(file)),
                ..error.parts()
            },
            DayError::Ledger(error) => error.parts(),
            DayError::Print(error) => error.parts(),
            DayError::NoSuchFile { path: file } => ErrorParts {
                field: Some("path".to_owned()),
                value: path(file),
                limit: Some("an existing file".to_owned()),
                fix: "check the path".to_owned(),
            },
            DayError::Read { path: file, .. } | DayError::Write { path: file, .. } => ErrorParts {
                field: Some("path".to_owned()),
                value: path(file),
                limit: None,
                fix: "check the disk, the path and its permissions".to_owned(),
            },
            DayError::NotPublished { staging, .. } => ErrorParts {
                field: Some("out".to_owned()),
                value: path(staging),
                limit: None,
                fix: "move the staging folder into place by hand, or reprint from the ledger"
                    .to_owned(),
            },
            DayError::OutNotEmpty { path: folder } => ErrorParts {
                field: Some("out".to_owned()),
                value: path(folder),
                limit: Some("a new or empty folder".to_owned()),
                fix: "give a new folder for these documents".to_owned(),
            },
            DayError::OutParentMissing { path: folder, .. } => ErrorParts {
                field: Some("out".to_owned()),
                value: path(folder),
                limit: Some("a folder inside an existing one".to_owned()),
                fix: "create its parent folder first".to_owned(),
            },
            DayError::NoStock => ErrorParts {
                field: Some("lots".to_owned()),
                value: None,
                limit: Some("a container in stock".to_owned()),
                fix: "receive stock before planning the day".to_owned(),
            },
            DayError::NothingToReprint => ErrorParts {
                field: Some("bags".to_owned()),
                value: None,
                limit: Some("one bag or more".to_owned()),
                fix: "give one or more bag ids, or a date on which bags were prepared".to_owned(),
            },
            DayError::InvalidDate { input } => ErrorParts {
                field: Some("date".to_owned()),
                value: Some(input.clone()),
                limit: Some("a date written YYYY-MM-DD".to_owned()),
                fix: "give the day on the site's clock, e.g. 2026-11-25".to_owned(),
            },
            DayError::Unnamed { participant, visit } => ErrorParts {
                field: Some("bag_id".to_owned()),
                value: Some(format!("{participant} {visit}")),
                limit: Some("a bag id".to_owned()),
                fix: "plan the bag with a day plan, which gives each bag one".to_owned(),
            },
            DayError::PlanDoesNotVerify(error) => ErrorParts {
                fix: "report this as a bug in doseprep".to_owned(),
                ..error.parts()
            },
            DayError::RandomSource(_) => ErrorParts {
                field: None,
                value: None,
                limit: None,
                fix: "check the operating system's random source (getrandom)".to_owned(),
            },
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
