//! A doseprep pharmacy's day on disk, for the `doseprep` command, the
//! Python binding and any Rust application alike: the input files read
//! with their paths, a day's documents written to a staging folder,
//! recorded in the ledger and published in one rename, bags' documents
//! made again from the ledger, a batch as JSON lines, lots received.
//!
//! The rules are the core's (`doseprep`), the ledger's and the printer's;
//! this crate holds the files, their names and the order of the steps.

#![forbid(unsafe_code)]

pub mod archive;
pub mod batch;
pub mod day;
pub mod demo;
pub mod documents;
pub mod error;
pub mod files;
pub mod folder;
pub mod receive;
pub mod reprint;
pub mod stock;

pub use archive::write_archive;
pub use batch::{batch, Batch};
pub use day::{plan, publish_day, run_day, DayFiles, DayRun, Published, Recording};
pub use demo::demo;
pub use documents::Printed;
pub use error::{DayError, Result};
pub use folder::NewFolder;
pub use receive::{receive_lots, Received};
pub use reprint::{bags_prepared_on, reprint, PrintDate, Reprinted};
pub use stock::{in_stock, StockNote};

/// The repository README's Rust examples (the printer and the ledger from
/// Rust), compiled and run as doctests of the crate that links them all.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
