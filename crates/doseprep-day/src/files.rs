//! The input files of a day, read with their paths: a missing file says
//! `no such file: PATH`, and a file the core refuses says its path first.

use std::path::Path;

use doseprep::table::{Sheet, SheetCell};
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

/// The lots of a file of `[[lot]]` tables (or of one lot), or of a
/// spreadsheet's first sheet (a row a lot).
pub fn lots(path: &Path) -> Result<Vec<Lot>> {
    if is_spreadsheet(path) {
        let sheet = sheet(path)?;
        return Lot::many_from_sheet(&sheet).map_err(|error| in_file(path, error));
    }
    read_with(path, Lot::many_from_file_text)
}

/// Whether `path` names a spreadsheet (`.xlsx`, `.xlsm`, `.xls`, `.ods`),
/// read as one, rather than CSV text.
pub fn is_spreadsheet(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            ["xlsx", "xlsm", "xls", "ods"]
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
        })
}

/// The first sheet of the spreadsheet at `path`, each cell as calamine
/// reads it: a formula with no value saved is told apart from an empty
/// cell, and a date-and-time cell is given as its wall-clock reading.
pub fn sheet(path: &Path) -> Result<Sheet> {
    use calamine::{open_workbook_auto, Data, Reader};

    if let Err(source) = std::fs::metadata(path) {
        return Err(match source.kind() {
            std::io::ErrorKind::NotFound => DayError::NoSuchFile {
                path: path.to_owned(),
            },
            _ => DayError::Read {
                path: path.to_owned(),
                source,
            },
        });
    }
    let unreadable = |reason: String| {
        in_file(
            path,
            DoseError::InvalidInput {
                field: "spreadsheet".to_owned(),
                reason: format!("it cannot be read as a workbook ({reason}); save it as .xlsx"),
            },
        )
    };
    let mut workbook = open_workbook_auto(path).map_err(|error| unreadable(error.to_string()))?;
    let sheets: Vec<(String, bool, bool)> = workbook
        .sheets_metadata()
        .iter()
        .map(|sheet| {
            (
                sheet.name.clone(),
                sheet.visible == calamine::SheetVisible::Visible,
                sheet.typ == calamine::SheetType::WorkSheet,
            )
        })
        .collect();
    let Some((name, visible, _)) = sheets.first().cloned() else {
        return Err(unreadable("it has no sheet".to_owned()));
    };
    let refused = |reason: String| {
        in_file(
            path,
            DoseError::InvalidInput {
                field: "spreadsheet".to_owned(),
                reason,
            },
        )
    };
    if !visible {
        return Err(refused(format!(
            "its first sheet, {name:?}, which is the one read, is hidden; show it, or move the sheet to read first"
        )));
    }
    // The first sheet is read, and only one may hold cells: rows on
    // another sheet would be left out without a word.
    for (other, _, worksheet) in sheets.iter().skip(1) {
        if !*worksheet {
            continue;
        }
        let cells = workbook
            .worksheet_range(other)
            .map_err(|error| unreadable(error.to_string()))?;
        if !cells.is_empty() {
            return Err(refused(format!(
                "its sheet {other:?} holds cells besides the first sheet, {name:?}, the one read; put every row on the first sheet, and delete or empty the others"
            )));
        }
    }
    let values = workbook
        .worksheet_range(&name)
        .map_err(|error| unreadable(error.to_string()))?;
    let formulas = workbook
        .worksheet_formula(&name)
        .map_err(|error| unreadable(error.to_string()))?;
    // The cells either range holds: a formula with no value saved may lie
    // outside the values' range.
    let corners = [
        values.start(),
        values.end(),
        formulas.start(),
        formulas.end(),
    ];
    let rows = corners.iter().flatten().map(|(row, _)| *row);
    let columns = corners.iter().flatten().map(|(_, column)| *column);
    let (Some(top), Some(bottom), Some(left), Some(right)) = (
        rows.clone().min(),
        rows.max(),
        columns.clone().min(),
        columns.max(),
    ) else {
        return Ok(Sheet {
            name,
            first_column: 0,
            rows: Vec::new(),
        });
    };
    let mut read = Vec::new();
    for row in top..=bottom {
        let cells = (left..=right)
            .map(|column| {
                let formula = formulas
                    .get_value((row, column))
                    .filter(|formula| !formula.is_empty());
                match (values.get_value((row, column)), formula) {
                    // No value, or the empty text some writers save for one.
                    (None | Some(Data::Empty), Some(formula)) => {
                        SheetCell::FormulaWithoutValue(formula.clone())
                    }
                    (Some(Data::String(text)), Some(formula)) if text.is_empty() => {
                        SheetCell::FormulaWithoutValue(formula.clone())
                    }
                    (None | Some(Data::Empty), None) => SheetCell::Empty,
                    (Some(Data::String(text)), _) => SheetCell::Text(text.clone()),
                    (Some(Data::Float(number)), _) => SheetCell::Number(*number),
                    (Some(Data::Int(number)), _) => SheetCell::Integer(*number),
                    (Some(Data::Bool(value)), _) => SheetCell::Bool(*value),
                    (Some(Data::DateTime(when)), _) if when.is_datetime() => wall_clock(when),
                    (Some(Data::DateTime(when)), _) => {
                        SheetCell::Unreadable(format!("the duration {}", when.as_f64()))
                    }
                    // An OpenDocument date and time: its wall-clock
                    // reading, as an Excel date cell's (a date alone, or a
                    // time alone, is refused as there).
                    (Some(Data::DateTimeIso(text)), _) => {
                        match text.parse::<jiff::civil::DateTime>() {
                            Ok(wall) => SheetCell::DateTime(wall),
                            Err(_) => SheetCell::Unreadable(format!("the date or time {text}")),
                        }
                    }
                    (Some(Data::DurationIso(text)), _) => {
                        SheetCell::Unreadable(format!("the duration {text}"))
                    }
                    (Some(Data::Error(error)), _) => {
                        SheetCell::Unreadable(format!("the error value {error}"))
                    }
                }
            })
            .collect();
        // The row as the spreadsheet numbers it: calamine counts from 0.
        read.push((row as usize + 1, cells));
    }
    Ok(Sheet {
        name,
        first_column: left as usize,
        rows: read,
    })
}

/// A date-and-time cell as the wall clock reads it, to the nearest second
/// as Excel shows it (calamine reads the serial in the workbook's 1900 or
/// 1904 system, to the millisecond).
fn wall_clock(when: &calamine::ExcelDateTime) -> SheetCell {
    let unreadable = || SheetCell::Unreadable(format!("the date serial {}", when.as_f64()));
    if !when.as_f64().is_finite() || !(0.0..2_958_466.0).contains(&when.as_f64()) {
        return unreadable();
    }
    // A serial below 1 is a time of day alone; a whole one, a date alone:
    // neither is an instant, and no midnight or 1899 date is made up.
    if when.as_f64() < 1.0 {
        return SheetCell::Unreadable(format!(
            "a time of day without its date ({})",
            when.as_f64()
        ));
    }
    if when.as_f64().fract() == 0.0 {
        let (year, month, day, ..) = when.to_ymd_hms_milli();
        return SheetCell::Unreadable(format!(
            "the date {year:04}-{month:02}-{day:02} without its time of day"
        ));
    }
    let (year, month, day, hour, minute, second, milli) = when.to_ymd_hms_milli();
    let (Ok(year), Ok(month), Ok(day), Ok(hour), Ok(minute), Ok(second)) = (
        i16::try_from(year),
        i8::try_from(month),
        i8::try_from(day),
        i8::try_from(hour),
        i8::try_from(minute),
        i8::try_from(second),
    ) else {
        return unreadable();
    };
    // Excel's 1900 system counts a 29 February 1900 that never was: no
    // such date is made, and the cell is refused.
    let Ok(time) = jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0) else {
        return unreadable();
    };
    let rounded = if milli >= 500 {
        time.checked_add(jiff::SignedDuration::from_secs(1))
    } else {
        Ok(time)
    };
    rounded.map_or_else(|_| unreadable(), SheetCell::DateTime)
}

/// The randomization list (`participant,arm`, a CSV file or a
/// spreadsheet's first sheet), checked against the protocol.
pub fn randomization(path: &Path, protocol: &Protocol) -> Result<Randomization> {
    if is_spreadsheet(path) {
        let list = spreadsheet_randomization(path)?;
        list.check_against(protocol)
            .map_err(|error| in_file(path, error))?;
        return Ok(list);
    }
    read_with(path, |_, text| {
        let list = Randomization::from_csv_text(text)?;
        list.check_against(protocol)?;
        Ok(list)
    })
}

/// A day's orders, a row each (an unreadable row keeps its error in its
/// place), from a CSV file or a spreadsheet's first sheet (its
/// date-and-time cells read as `protocol`'s site file says).
pub fn day_orders(path: &Path, protocol: &Protocol) -> Result<Vec<DayRow>> {
    if is_spreadsheet(path) {
        return spreadsheet_day_orders(path, protocol);
    }
    csv_day_orders(path)
}

/// A day's orders from a CSV file.
pub fn csv_day_orders(path: &Path) -> Result<Vec<DayRow>> {
    read_with(path, |_, text| DayOrder::from_csv_text(text))
}

/// A day's orders from a spreadsheet's first sheet.
pub fn spreadsheet_day_orders(path: &Path, protocol: &Protocol) -> Result<Vec<DayRow>> {
    let sheet = sheet(path)?;
    DayOrder::from_sheet(&sheet, protocol).map_err(|error| in_file(path, error))
}

/// The randomization list from a spreadsheet's first sheet, not yet
/// checked against a protocol.
pub fn spreadsheet_randomization(path: &Path) -> Result<Randomization> {
    let sheet = sheet(path)?;
    Randomization::from_sheet(&sheet).map_err(|error| in_file(path, error))
}

/// A batch's orders, a row each (an unreadable row keeps its error in its place).
pub fn orders(path: &Path) -> Result<Vec<doseprep::Result<Order>>> {
    read_with(path, |_, text| Order::from_csv_text(text))
}

/// A preparation record file (as `doseprep prepare --json` writes it).
pub fn record(path: &Path) -> Result<doseprep::PreparationRecord> {
    read_with(path, |_, text| doseprep::PreparationRecord::from_json(text))
}
