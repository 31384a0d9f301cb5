//! The input files of a day, read with their paths: a missing file says
//! `no such file: PATH`, and a file the core refuses says its path first.

use std::path::Path;

use doseprep::{DayOrder, DayRow, DoseError, Lot, Order, Protocol, Randomization};

use crate::error::{DayError, Result};

/// A file's text. A byte-order mark is the readers' to skip.
pub fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => DayError::NoSuchFile {
            path: path.to_owned(),
        },
        _ => DayError::Read {
            path: path.to_owned(),
            source,
        },
    })
}

/// The core's reading of a file's text, its refusal naming the file.
fn read_with<T>(path: &Path, read: impl FnOnce(&str, &str) -> doseprep::Result<T>) -> Result<T> {
    let text = read_text(path)?;
    read(&path.to_string_lossy(), &text).map_err(|error| in_file(path, error))
}

fn in_file(path: &Path, error: DoseError) -> DayError {
    DayError::InFile {
        path: path.to_owned(),
        error: Box::new(error),
    }
}

/// The protocol of a file (TOML, or JSON for a name ending in `.json`), or
/// the built-in CARE-SSc protocol with this project's site defaults; with a
/// site file, `path` is the trial file (the built-in CARE-SSc trial where
/// none is given) and `site` the site's `[label]` and `[site]`.
pub fn protocol(path: Option<&Path>, site: Option<&Path>) -> Result<Protocol> {
    match (path, site) {
        (None, None) => Ok(Protocol::care_ssc()),
        (Some(path), None) => read_with(path, Protocol::from_file_text),
        // A site of the built-in trial: the CARE-SSc trial file with it.
        (None, Some(site)) => read_with(site, |name, text| {
            Protocol::from_trial_and_site(
                "care-ssc.toml",
                doseprep::protocol::CARE_SSC_TRIAL_TOML,
                name,
                text,
            )
        }),
        // An error may be either file's: it is told with both paths.
        (Some(path), Some(site)) => {
            let (trial, site_text) = (read_text(path)?, read_text(site)?);
            Protocol::from_trial_and_site(
                &path.to_string_lossy(),
                &trial,
                &site.to_string_lossy(),
                &site_text,
            )
            .map_err(|error| {
                in_file(
                    Path::new(&format!("{} with {}", path.display(), site.display())),
                    error,
                )
            })
        }
    }
}

/// One lot (TOML, or JSON for `.json`).
pub fn lot(path: &Path) -> Result<Lot> {
    read_with(path, Lot::from_file_text)
}

/// The lots of a file of `[[lot]]` tables (or of one lot).
pub fn lots(path: &Path) -> Result<Vec<Lot>> {
    read_with(path, Lot::many_from_file_text)
}

/// The randomization list (`participant,arm`), checked against the protocol.
pub fn randomization(path: &Path, protocol: &Protocol) -> Result<Randomization> {
    read_with(path, |_, text| {
        let list = Randomization::from_csv_text(text)?;
        list.check_against(protocol)?;
        Ok(list)
    })
}

/// A day's orders, a row each (an unreadable row keeps its error in its place).
pub fn day_orders(path: &Path) -> Result<Vec<DayRow>> {
    read_with(path, |_, text| DayOrder::from_csv_text(text))
}

/// A batch's orders, a row each (an unreadable row keeps its error in its place).
pub fn orders(path: &Path) -> Result<Vec<doseprep::Result<Order>>> {
    read_with(path, |_, text| Order::from_csv_text(text))
}

/// A preparation record file (as `doseprep prepare --json` writes it).
pub fn record(path: &Path) -> Result<doseprep::PreparationRecord> {
    read_with(path, |_, text| doseprep::PreparationRecord::from_json(text))
}
