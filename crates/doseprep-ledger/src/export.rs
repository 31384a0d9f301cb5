//! The accountability log as CSV, after the columns of the NCI
//! investigational agent accountability record (date, participant, dose,
//! quantity received and dispensed, balance forward and balance, lot,
//! initials), and the blinded log for the sponsor's blinded team (bag ids
//! and volumes only).

use std::collections::BTreeMap;

use doseprep::ExactVolume;
use rusqlite::Connection;

use crate::error::{LedgerError, Result};
use crate::event::{Body, Event, EVENT_COLUMNS};

/// The accountability log's columns. Quantities count containers.
pub const ACCOUNTABILITY_COLUMNS: [&str; 14] = [
    "seq",
    "date",
    "event",
    "participant",
    "bag_id",
    "dose",
    "lot",
    "containers",
    "quantity_received",
    "quantity_dispensed",
    "balance_forward",
    "balance",
    "initials",
    "comment",
];

/// The blinded log's columns. No event number: the gaps the thaws leave
/// between bag events would hint at which bags are active.
pub const BLINDED_COLUMNS: [&str; 4] = ["date", "event", "bag_id", "volume_ml"];

pub(crate) fn all_events(connection: &Connection) -> Result<Vec<Event>> {
    let mut statement =
        connection.prepare(&format!("SELECT {EVENT_COLUMNS} FROM event ORDER BY seq"))?;
    let events = statement
        .query_map([], Event::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(events)
}

fn body(event: &Event) -> Result<Body> {
    event.parsed_body().ok_or_else(|| {
        LedgerError::Tampered(format!(
            "event {} does not read as a {} event",
            event.seq, event.kind
        ))
    })
}

fn csv_text(header: &[&str], rows: Vec<Vec<String>>) -> Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| LedgerError::internal(format!("CSV: {e}"));
    writer.write_record(header).map_err(failed)?;
    for row in rows {
        writer.write_record(&row).map_err(failed)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| LedgerError::internal(format!("CSV: {e}")))?;
    String::from_utf8(bytes).map_err(|e| LedgerError::internal(format!("CSV: {e}")))
}

/// Free text as a spreadsheet will not run it: a leading `=`, `+`, `-`,
/// `@`, tab or carriage return starts a formula in Excel and LibreOffice,
/// so such text gets a leading apostrophe (OWASP's CSV injection advice).
fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn ml(microlitres: u64) -> String {
    ExactVolume::from_microlitres(microlitres).ml_decimal()
}

fn numbers(containers: &[u32]) -> String {
    containers
        .iter()
        .map(|n| format!("#{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The dose column of a prepared bag: what a pharmacist would write.
fn dose(content: &str, final_ul: u64, record: &serde_json::Value) -> String {
    if content != "active" {
        return format!("placebo, {} mL", ml(final_ul));
    }
    let cells = record
        .pointer("/preparation/dose/delivered_cells")
        .and_then(serde_json::Value::as_f64);
    let drawn = record
        .pointer("/preparation/dose/draw_volume_ml")
        .and_then(serde_json::Value::as_f64);
    match (cells, drawn) {
        (Some(cells), Some(drawn)) => format!(
            "{} million cells delivered ({drawn} mL) in {} mL",
            doseprep::label::numbers::grouped_decimal(cells / 1e6, 2),
            ml(final_ul)
        ),
        _ => format!("active, {} mL", ml(final_ul)),
    }
}

/// The unblinded accountability log: one line per event.
pub fn accountability_csv(connection: &Connection) -> Result<String> {
    let mut on_hand: BTreeMap<String, u32> = BTreeMap::new();
    let mut state: BTreeMap<(String, u32), bool> = BTreeMap::new(); // thawed?
    let mut bags: BTreeMap<String, String> = BTreeMap::new(); // participant
    let mut rows = Vec::new();
    for event in all_events(connection)? {
        let body = body(&event)?;
        let mut row: BTreeMap<&str, String> = BTreeMap::new();
        let mut lot_change =
            |lot_id: &str, received: u32, out: u32, row: &mut BTreeMap<&str, String>| {
                let forward = on_hand.get(lot_id).copied().unwrap_or(0);
                let balance = (forward + received).saturating_sub(out);
                on_hand.insert(lot_id.to_owned(), balance);
                row.insert("lot", lot_id.to_owned());
                row.insert("quantity_received", received.to_string());
                row.insert("quantity_dispensed", out.to_string());
                row.insert("balance_forward", forward.to_string());
                row.insert("balance", balance.to_string());
            };
        match &body {
            Body::Receive {
                lot_id,
                containers,
                first_container,
                ..
            } => {
                lot_change(lot_id, *containers, 0, &mut row);
                row.insert(
                    "containers",
                    format!("#{first_container}-#{}", first_container + containers - 1),
                );
            }
            Body::Thaw { lot_id, containers } | Body::Return { lot_id, containers } => {
                for number in containers {
                    state.insert((lot_id.clone(), *number), matches!(body, Body::Thaw { .. }));
                }
                lot_change(lot_id, 0, containers.len() as u32, &mut row);
                row.insert("containers", numbers(containers));
            }
            Body::DestroyContainers {
                lot_id,
                containers,
                reason,
            } => {
                let from_stock = containers
                    .iter()
                    .filter(|n| !state.get(&(lot_id.clone(), **n)).copied().unwrap_or(false))
                    .count() as u32;
                lot_change(lot_id, 0, from_stock, &mut row);
                row.insert("containers", numbers(containers));
                row.insert("dose", format!("destroyed: {reason}"));
            }
            Body::Count {
                lot_id,
                counted,
                expected,
            } => {
                let forward = on_hand.get(lot_id).copied().unwrap_or(0);
                row.insert("lot", lot_id.clone());
                row.insert("balance_forward", forward.to_string());
                row.insert("balance", forward.to_string());
                row.insert(
                    "dose",
                    format!(
                        "count: {counted} counted, {expected} expected, difference {}",
                        i64::from(*counted) - i64::from(*expected)
                    ),
                );
            }
            Body::Prepare {
                bag_id,
                participant,
                content,
                final_ul,
                draws,
                record,
                ..
            } => {
                bags.insert(bag_id.clone(), participant.clone());
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                row.insert("dose", dose(content, *final_ul, record));
                let mut lots: Vec<&str> = draws.iter().map(|d| d.lot_id.as_str()).collect();
                lots.dedup();
                row.insert("lot", lots.join(" "));
                row.insert(
                    "containers",
                    draws
                        .iter()
                        .map(|d| format!("#{} ({} mL)", d.container, ml(d.volume_ul)))
                        .collect::<Vec<_>>()
                        .join(" "),
                );
            }
            Body::Dispense { bag_id, to } => {
                row.insert("participant", bags.get(bag_id).cloned().unwrap_or_default());
                row.insert("bag_id", bag_id.clone());
                row.insert("dose", format!("dispensed to {to}"));
            }
            Body::Administer {
                bag_id,
                participant,
                started_at,
                ended_at,
                override_reason,
            } => {
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                let mut text = format!("infused {started_at} to {ended_at}");
                if let Some(reason) = override_reason {
                    text.push_str(&format!(" (after infuse-by: {reason})"));
                }
                row.insert("dose", text);
            }
            Body::DestroyBag { bag_id, reason } => {
                row.insert("participant", bags.get(bag_id).cloned().unwrap_or_default());
                row.insert("bag_id", bag_id.clone());
                row.insert("dose", format!("destroyed: {reason}"));
            }
        }
        row.insert("seq", event.seq.to_string());
        row.insert("date", event.at.clone());
        row.insert("event", event.kind.clone());
        row.insert("initials", spreadsheet_safe(&event.initials));
        if let Some(participant) = row.get("participant") {
            let safe = spreadsheet_safe(participant);
            row.insert("participant", safe);
        }
        row.insert(
            "comment",
            spreadsheet_safe(event.comment.as_deref().unwrap_or_default()),
        );
        rows.push(
            ACCOUNTABILITY_COLUMNS
                .iter()
                .map(|column| row.remove(column).unwrap_or_default())
                .collect(),
        );
    }
    csv_text(&ACCOUNTABILITY_COLUMNS, rows)
}

/// The blinded log: the bag events, with bag ids and volumes only.
pub fn blinded_csv(connection: &Connection) -> Result<String> {
    let mut volumes: BTreeMap<String, u64> = BTreeMap::new();
    let mut rows = Vec::new();
    for event in all_events(connection)? {
        let body = body(&event)?;
        let Some(bag_id) = body.bag_id() else {
            continue;
        };
        if let Body::Prepare { final_ul, .. } = &body {
            volumes.insert(bag_id.to_owned(), *final_ul);
        }
        let volume = volumes.get(bag_id).map(|ul| ml(*ul)).unwrap_or_default();
        rows.push(vec![
            event.at.clone(),
            event.kind.clone(),
            bag_id.to_owned(),
            volume,
        ]);
    }
    csv_text(&BLINDED_COLUMNS, rows)
}
