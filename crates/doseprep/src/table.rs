//! CSV files as pharmacists save them: UTF-8 with or without a byte-order
//! mark (Excel writes one), a header row naming the columns. A column the
//! reader does not know is an error that names it and lists the accepted
//! ones, never silently dropped: a header typed `prepard_at` must not turn
//! into "prepared = thawed".

use std::collections::BTreeMap;

use crate::error::{DoseError, Result};

/// One data row: its line in the file (the header is line 1) and its cells
/// by column name (empty cells left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Line number in the file, as a spreadsheet shows it.
    pub line: usize,
    /// Non-empty cells, by column.
    pub cells: BTreeMap<String, String>,
}

impl Row {
    /// A cell that must be there.
    pub fn required(&self, column: &str) -> Result<&str> {
        self.cells.get(column).map(String::as_str).ok_or_else(|| {
            DoseError::invalid_input(
                column,
                format!("row {}: the {column} cell is empty; fill it in", self.line),
            )
        })
    }

    /// A cell that may be empty.
    pub fn optional(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(String::as_str)
    }
}

/// Read a CSV file's text. `what` names the file in messages ("orders file").
/// Every `required` column must be in the header, and every header column
/// must be `required` or `optional`.
pub fn read_csv(what: &str, text: &str, required: &[&str], optional: &[&str]) -> Result<Vec<Row>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // French Excel saves "CSV" with semicolons (the comma is its decimal
    // mark); a header with semicolons and no comma is read that way. A decimal
    // comma in a cell is still refused by the quantity parser.
    let semicolons = text
        .lines()
        .next()
        .is_some_and(|header| header.contains(';') && !header.contains(','));
    let delimiter = if semicolons { b';' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| DoseError::invalid_input(what, format!("the header cannot be read: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let header = read_columns(what, &header, required, optional)?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| DoseError::invalid_input(what, format!("a row cannot be read: {e}")))?;
        // The line as a spreadsheet numbers it (blank lines count).
        // The line as a spreadsheet numbers it, blank lines counted: csv
        // gives the offset of the terminator before the record.
        let line = record
            .position()
            .and_then(|p| usize::try_from(p.byte()).ok())
            .and_then(|byte| {
                let after = text.get(byte..)?;
                let start = byte + (after.len() - after.trim_start_matches(['\r', '\n']).len());
                text.get(..start)
            })
            .map_or(index + 2, |before| before.matches('\n').count() + 1);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cells = header
            .iter()
            .zip(record.iter())
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| (name.clone(), value.to_owned()))
            .collect();
        rows.push(Row { line, cells });
    }
    Ok(rows)
}

/// A cell of a spreadsheet as its reader gives it (the core reads no file:
/// `doseprep-day` reads `.xlsx` with calamine).
#[derive(Debug, Clone, PartialEq)]
pub enum SheetCell {
    /// Nothing in it.
    Empty,
    /// Text.
    Text(String),
    /// A number (Excel keeps every number as a double).
    Number(f64),
    /// A whole number, as a reader of another format keeps it exactly.
    Integer(i64),
    /// TRUE or FALSE.
    Bool(bool),
    /// A cell formatted as a date and time: its wall-clock reading (Excel
    /// keeps no zone).
    DateTime(jiff::civil::DateTime),
    /// A value no column takes as it is: a duration, an error value
    /// (`#DIV/0!`), a date without its time, said as the sheet shows it.
    Unreadable(String),
    /// A formula with no value saved, or an empty one (a program that does
    /// not compute formulas wrote the file, or the formula gives empty
    /// text): never read as an empty cell.
    FormulaWithoutValue(String),
}

/// How a sheet's date-and-time cells are read.
#[derive(Debug, Clone, Copy)]
pub enum DateCells<'a> {
    /// On this site clock (the site file says `spreadsheet_times = "site
    /// clock"`).
    SiteClock(&'a crate::time::SiteZone),
    /// Refused, the fix naming the site file's setting (a day's orders).
    UnlessTheSiteSays,
    /// Refused, times typed as text (a file no site setting reads).
    Refused,
}

/// A sheet: its name and its rows, each with its number as the
/// spreadsheet shows it; the first row is the header.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's name (its tab).
    pub name: String,
    /// The column of each row's first cell, 0 for A.
    pub first_column: usize,
    /// The rows, header first, each with its number.
    pub rows: Vec<(usize, Vec<SheetCell>)>,
}

/// A cell's name as a spreadsheet shows it: `C4`.
pub fn cell_name(column: usize, row: usize) -> String {
    let mut letters = Vec::new();
    let mut rest = column + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(digit).unwrap_or(0))); // fallback-ok: digit < 26
        rest = (rest - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &row.to_string()
}

/// A number as its cell holds it: `72.4`, `12`.
fn number_text(value: f64) -> String {
    // Rust's float Display is the shortest text that reads back the same
    // number, and writes an integral one without a fraction.
    format!("{value}")
}

/// A cell's text as the CSV reader would have it, or why it has none.
fn cell_text(
    what: &str,
    sheet: &str,
    name: &str,
    cell: &SheetCell,
    dates: DateCells<'_>,
) -> Result<Option<String>> {
    let at = |reason: String| {
        DoseError::invalid_input(what, format!("sheet {sheet:?}, cell {name}: {reason}"))
    };
    Ok(match cell {
        SheetCell::Empty => None,
        SheetCell::Text(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        SheetCell::Number(value) => Some(number_text(*value)),
        SheetCell::Integer(value) => Some(value.to_string()),
        SheetCell::Bool(value) => Some(if *value { "TRUE" } else { "FALSE" }.to_owned()),
        SheetCell::DateTime(wall) => {
            let zone = match dates {
                DateCells::SiteClock(zone) => zone,
                DateCells::UnlessTheSiteSays => {
                    return Err(at(format!(
                        "{wall} is a date and time without its zone (Excel keeps none); type it as text with its UTC offset, as 2026-11-25T09:00:00-05:00, or set the site file's spreadsheet_times = \"site clock\" to read such cells on the site's clock"
                    )))
                }
                DateCells::Refused => {
                    return Err(at(format!(
                        "{wall} is a date and time without its zone (Excel keeps none); type it as text with its UTC offset, as 2026-11-25T09:00:00-05:00"
                    )))
                }
            };
            let zoned = zone
                .zone()
                .to_ambiguous_zoned_datetime(*wall)
                .unambiguous()
                .map_err(|_| {
                    at(format!(
                        "{wall} is shown twice or never by the clock of {} (the night it changes); type it as text with its UTC offset",
                        zone.name()
                    ))
                })?;
            // An offset of whole minutes, as every zone has kept since the
            // 1970s; an older one (Paris ran 9 min 21 s ahead of UTC until
            // 1911) would not be written exactly.
            if zoned.offset().seconds() % 60 != 0 {
                return Err(at(format!(
                    "{wall} on the clock of {} is {} from UTC, not a whole number of minutes; type it as text with its UTC offset",
                    zone.name(),
                    zoned.offset()
                )));
            }
            Some(zoned.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
        }
        SheetCell::Unreadable(shown) => {
            return Err(at(format!(
                "it holds {shown}, which no column takes; correct it in the spreadsheet"
            )))
        }
        SheetCell::FormulaWithoutValue(formula) => {
            return Err(at(format!(
                "it holds the formula ={formula} with no value saved, or an empty one; type the value, or open and save the file in a spreadsheet program that computes it"
            )))
        }
    })
}

/// Read a sheet as [`read_csv`] reads a CSV file's text: the same columns,
/// the same checks, rows numbered as the spreadsheet numbers them. A cell
/// no column could take (an error value, a formula with no value saved, a
/// date and time where the site does not read them on its clock, or one
/// its clock shows twice or never) is an error for the whole sheet, naming
/// the sheet and cell (in a CSV file, text, it would be its row's error:
/// here it is not text, and the sheet is to be corrected). Date-and-time
/// cells are read as `dates` says.
pub fn read_sheet(
    what: &str,
    sheet: &Sheet,
    required: &[&str],
    optional: &[&str],
    dates: DateCells<'_>,
) -> Result<Vec<Row>> {
    let mut lines = Vec::new();
    for (number, cells) in &sheet.rows {
        let mut texts = Vec::with_capacity(cells.len());
        for (index, cell) in cells.iter().enumerate() {
            let name = cell_name(sheet.first_column + index, *number);
            texts.push(cell_text(what, &sheet.name, &name, cell, dates)?);
        }
        lines.push((*number, texts));
    }
    let Some(((header_row, header), data)) = lines.split_first() else {
        return Err(DoseError::invalid_input(
            what,
            format!(
                "sheet {:?} is empty; give a header row naming the columns",
                sheet.name
            ),
        ));
    };
    // A column with no header is passed over where it is empty (a sheet's
    // range may take in a formatted, empty column), and refused naming its
    // header cell where it holds anything.
    let mut columns: Vec<(usize, String)> = Vec::new();
    for (index, name) in header.iter().enumerate() {
        match name {
            Some(name) => columns.push((index, name.clone())),
            None if data
                .iter()
                .any(|(_, cells)| cells.get(index).is_some_and(Option::is_some)) =>
            {
                return Err(DoseError::invalid_input(
                    what,
                    format!(
                        "sheet {:?}, cell {}: the header cell is empty but its column is not; name the column",
                        sheet.name,
                        cell_name(sheet.first_column + index, *header_row)
                    ),
                ))
            }
            None => {}
        }
    }
    // The header read by read_csv's checks: one reader of columns for both.
    let names: Vec<String> = columns.iter().map(|(_, name)| name.clone()).collect();
    read_columns(what, &names, required, optional)?;
    let mut read = Vec::new();
    for (number, cells) in data {
        let cells: BTreeMap<String, String> = columns
            .iter()
            .filter_map(|(index, name)| {
                cells
                    .get(*index)
                    .cloned()
                    .flatten()
                    .map(|text| (name.clone(), text))
            })
            .collect();
        if !cells.is_empty() {
            read.push(Row {
                line: *number,
                cells,
            });
        }
    }
    Ok(read)
}

/// The header's columns, checked: each one `required` or `optional`, none
/// twice, every `required` one there.
fn read_columns(
    what: &str,
    header: &[String],
    required: &[&str],
    optional: &[&str],
) -> Result<Vec<String>> {
    let accepted = || {
        let mut names: Vec<String> = required.iter().map(|c| (*c).to_owned()).collect();
        names.extend(optional.iter().map(|c| format!("{c} (optional)")));
        names.join(", ")
    };
    for (index, name) in header.iter().enumerate() {
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            return Err(DoseError::invalid_input(
                what,
                format!(
                    "column {name:?} is not one this file takes; the columns are {}",
                    accepted()
                ),
            ));
        }
        if header.iter().skip(index + 1).any(|other| other == name) {
            return Err(DoseError::invalid_input(
                what,
                format!("column {name:?} appears twice in the header"),
            ));
        }
    }
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|c| !header.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(DoseError::invalid_input(
            what,
            format!(
                "the header lacks the column(s) {}; the columns are {}",
                missing.join(", "),
                accepted()
            ),
        ));
    }
    Ok(header.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_named_as_a_spreadsheet_names_them() {
        let names: Vec<String> = [
            (0, 1),
            (2, 2),
            (25, 9),
            (26, 10),
            (27, 3),
            (701, 4),
            (702, 5),
        ]
        .iter()
        .map(|&(column, row)| cell_name(column, row))
        .collect();
        assert_eq!(names, ["A1", "C2", "Z9", "AA10", "AB3", "ZZ4", "AAA5"]);
        assert_eq!(number_text(72.4), "72.4");
        assert_eq!(number_text(12.0), "12");
    }

    #[test]
    fn a_sheet_reads_as_its_csv_and_names_a_bad_cell() {
        let text = |t: &str| SheetCell::Text(t.to_owned());
        let mut sheet = Sheet {
            name: "Arms".to_owned(),
            first_column: 1,
            rows: vec![
                (2, vec![text("participant"), text("arm")]),
                (3, vec![text(" P-1 "), text("A")]),
                (4, vec![SheetCell::Empty, SheetCell::Empty]),
                (5, vec![SheetCell::Number(7.0), text("B")]),
            ],
        };
        let rows = read_sheet(
            "f",
            &sheet,
            &["participant", "arm"],
            &[],
            DateCells::Refused,
        );
        let read: Result<Vec<(usize, Option<&str>)>> = rows
            .as_ref()
            .map(|rows| {
                rows.iter()
                    .map(|r| (r.line, r.optional("participant")))
                    .collect()
            })
            .map_err(Clone::clone);
        assert_eq!(read, Ok(vec![(3, Some("P-1")), (5, Some("7"))]));
        if let Some(cell) = sheet
            .rows
            .get_mut(3)
            .and_then(|(_, cells)| cells.get_mut(1))
        {
            *cell = SheetCell::FormulaWithoutValue("B4".to_owned());
        }
        let error = read_sheet(
            "f",
            &sheet,
            &["participant", "arm"],
            &[],
            DateCells::Refused,
        )
        .map_err(|e| e.to_string());
        assert_eq!(
            error.as_ref().err().map(|e| e.starts_with(
                "f: sheet \"Arms\", cell C5: it holds the formula =B4 with no value saved"
            )),
            Some(true),
            "{error:?}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_read_and_unknown_columns_are_named() {
        let rows = read_csv(
            "f",
            "\u{feff}participant,arm\r\nP-1,A\r\n\r\nP-2, B \r\n",
            &["participant", "arm"],
            &[],
        );
        assert_eq!(rows.as_ref().map(Vec::len), Ok(2));
        assert_eq!(
            rows.as_ref()
                .ok()
                .and_then(|r| r.get(1))
                .map(|r| (r.line, r.optional("arm"))),
            Some((4, Some("B")))
        );
        let error = read_csv(
            "orders file",
            "participant,prepard_at\n",
            &["participant"],
            &["prepared_at"],
        )
        .map_err(|e| e.to_string());
        assert_eq!(
            error,
            Err("orders file: column \"prepard_at\" is not one this file takes; the columns are participant, prepared_at (optional)".to_owned())
        );
        assert!(read_csv("f", "arm\nA\n", &["participant", "arm"], &[]).is_err());
    }

    #[test]
    fn a_semicolon_separated_file_from_french_excel_is_read() {
        let rows = read_csv(
            "orders file",
            "\u{feff}participant;arm\r\nP-1;A\r\nP-2;B\r\n",
            &["participant", "arm"],
            &[],
        );
        assert_eq!(
            rows.map(|rows| rows
                .iter()
                .map(|r| (r.line, r.optional("arm").map(str::to_owned)))
                .collect::<Vec<_>>()),
            Ok(vec![(2, Some("A".to_owned())), (3, Some("B".to_owned()))])
        );
    }
}
