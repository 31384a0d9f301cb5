//! A batch of orders from one lot, one JSON line per row in the order of
//! the file: the preparation, or the row's error with its parts.

use std::path::Path;

use doseprep::{prepare, DoseError, Lot, Preparation, Protocol};
use serde::Serialize;

use crate::error::{DayError, Result};
use crate::files;

/// A batch's lines and how many rows failed.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// One JSON object per row, in order: `{"row": N, "ok": true,
    /// "preparation": {...}}` or `{"row": N, "ok": false, "error": kind,
    /// "field", "value", "limit", "fix", "message"}`.
    pub lines: Vec<String>,
    /// The rows that failed.
    pub failed: usize,
}

/// Prepare every row of the orders file `orders` from `lot`.
pub fn batch(protocol: &Protocol, lot: &Lot, orders: &Path) -> Result<Batch> {
    let rows = files::orders(orders)?;
    let mut lines = Vec::with_capacity(rows.len());
    let mut failed = 0;
    for (index, row) in rows.into_iter().enumerate() {
        let number = index + 1;
        let line = match row.and_then(|order| prepare(protocol, &order, lot)) {
            Ok(preparation) => serde_json::to_string(&Prepared {
                row: number,
                ok: true,
                preparation: &preparation,
            }),
            Err(error) => {
                failed += 1;
                let parts = error.parts();
                serde_json::to_string(&Refused {
                    row: number,
                    ok: false,
                    error: error.kind().name(),
                    field: parts.field,
                    value: parts.value,
                    limit: parts.limit,
                    fix: parts.fix,
                    message: error.to_string(),
                })
            }
        };
        lines.push(line.map_err(json_fault)?);
    }
    Ok(Batch { lines, failed })
}

/// A row made: its keys in this order.
#[derive(Serialize)]
struct Prepared<'a> {
    row: usize,
    ok: bool,
    preparation: &'a Preparation,
}

/// A row refused, with its error's parts.
#[derive(Serialize)]
struct Refused {
    row: usize,
    ok: bool,
    error: &'static str,
    field: Option<String>,
    value: Option<String>,
    limit: Option<String>,
    fix: String,
    message: String,
}

/// A preparation without a JSON form: every field has one, so this is a
/// fault of the program, reported as the record error it would be.
fn json_fault(error: serde_json::Error) -> DayError {
    DayError::from(DoseError::InvalidRecord {
        reason: format!("the preparation has no JSON form ({error})"),
    })
}
