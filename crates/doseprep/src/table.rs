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
    let accepted = || {
        let mut names: Vec<String> = required.iter().map(|c| (*c).to_owned()).collect();
        names.extend(optional.iter().map(|c| format!("{c} (optional)")));
        names.join(", ")
    };
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

#[cfg(test)]
mod tests {
    use super::*;

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
