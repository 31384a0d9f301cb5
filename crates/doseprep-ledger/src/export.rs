//! The accountability log as CSV, after the columns of the NCI
//! investigational agent accountability record (date, participant, dose,
//! quantity received and dispensed, balance forward and balance, lot,
//! initials), and the blinded log for the sponsor's blinded team (bag ids
//! and volumes only).

use std::collections::BTreeMap;

use crate::db::{params, Db};
use doseprep::ExactVolume;

use crate::error::{LedgerError, Result};
use crate::event::{Body, Event, EVENT_COLUMNS};

/// The accountability log's columns. Quantities count containers.
pub const ACCOUNTABILITY_COLUMNS: [&str; 21] = [
    "seq",
    "date",
    "recorded_at",
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
    "signed_by",
    "signer_name",
    "meaning",
    "late_reason",
    "comment",
    "site",
    "workstation",
];

/// The blinded log's columns. No event number: the gaps the thaws leave
/// between bag events would hint at which bags are active. No event time:
/// `session` is the thaw time of the bag's session, which a bag and its
/// placebo twin share.
pub const BLINDED_COLUMNS: [&str; 4] = ["session", "event", "bag_id", "volume_ml"];

pub(crate) fn all_events(db: &Db) -> Result<Vec<Event>> {
    db.rows(
        &format!("SELECT {EVENT_COLUMNS} FROM event ORDER BY seq"),
        params![],
        Event::from_row,
    )
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

/// A stored time as ISO 8601 with its UTC offset, one form for every
/// time in an export (events recorded with an IANA zone also store it, in
/// brackets, which spreadsheets do not read).
fn iso8601(seq: i64, stored: &str) -> Result<String> {
    let time = doseprep::parse_time("at", stored).map_err(|_| {
        impossible(
            seq,
            &format!("has the time {stored:?}, which does not read"),
        )
    })?;
    Ok(time
        .timestamp()
        .display_with_offset(time.offset())
        .to_string())
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

/// The dose column of a prepared bag, what a pharmacist would write, from
/// its record read typed.
fn dose(record: &crate::event::RecordJson, bag_id: &str, seq: i64) -> Result<String> {
    let record = crate::stored_record(record.get(), bag_id, seq)?;
    let prep = &record.preparation;
    Ok(match &prep.dose {
        None => format!("placebo, {}", prep.final_volume),
        Some(dose) => format!(
            "{} million cells delivered ({}) in {}",
            doseprep::format::grouped_decimal(dose.delivered_cells.cells() / 1e6, 2),
            dose.draw_volume,
            prep.final_volume
        ),
    })
}

/// An event that a whole chain cannot hold (found by reading it, as
/// `verify` would): the export stops rather than print a made-up figure.
fn impossible(seq: i64, what: &str) -> LedgerError {
    LedgerError::Tampered(format!("event {seq} {what}"))
}

/// A corrected event's time and recipient, where corrected.
type Corrected = (Option<String>, Option<String>);

/// What the corrections say now, by corrected event.
pub(crate) fn corrections(db: &Db) -> Result<BTreeMap<i64, Corrected>> {
    let mut corrected = BTreeMap::new();
    db.each(
        "SELECT seq, at, recipient FROM correction",
        params![],
        |row| {
            corrected.insert(row.get(0)?, (row.get(1)?, row.get(2)?));
            Ok(())
        },
    )?;
    Ok(corrected)
}

/// The unblinded accountability log: one line per event, each with what
/// the corrections say now; a correction's own line says what it changed,
/// from what, and why.
pub fn accountability_csv(db: &Db) -> Result<String> {
    let corrected = corrections(db)?;
    // Each event's time and recipient as the lines so far leave them.
    let mut so_far: BTreeMap<i64, (String, Option<String>)> = BTreeMap::new();
    let mut on_hand: BTreeMap<String, u32> = BTreeMap::new();
    let mut state: BTreeMap<(String, u32), bool> = BTreeMap::new(); // thawed?
    let mut bags: BTreeMap<String, String> = BTreeMap::new(); // participant
    let names = crate::users::names(db)?;
    let mut rows = Vec::new();
    for event in all_events(db)? {
        let body = body(&event)?;
        let mut row: BTreeMap<&str, String> = BTreeMap::new();
        let seq = event.seq;
        let mut lot_change =
            |lot_id: &str, received: u32, out: u32, row: &mut BTreeMap<&str, String>| {
                // Before its first receipt a lot has none.
                let forward = on_hand.get(lot_id).copied().unwrap_or(0); // fallback-ok: nothing received yet is 0
                let balance = forward
                    .checked_add(received)
                    .and_then(|total| total.checked_sub(out))
                    .ok_or_else(|| impossible(seq, "takes more containers than the lot has"))?;
                on_hand.insert(lot_id.to_owned(), balance);
                row.insert("lot", lot_id.to_owned());
                row.insert("quantity_received", received.to_string());
                row.insert("quantity_dispensed", out.to_string());
                row.insert("balance_forward", forward.to_string());
                row.insert("balance", balance.to_string());
                Ok::<(), LedgerError>(())
            };
        match &body {
            Body::Receive {
                lot_id,
                containers,
                first_container,
                shipment,
                ..
            } => {
                lot_change(lot_id, *containers, 0, &mut row)?;
                row.insert(
                    "containers",
                    format!("#{first_container}-#{}", first_container + containers - 1),
                );
                if let Some(shipment) = shipment {
                    row.insert(
                        "dose",
                        format!(
                            "shipped from {} (its event {}, its containers {})",
                            shipment.from_site,
                            shipment.seq,
                            numbers(&shipment.containers)
                        ),
                    );
                }
            }
            Body::Ship {
                lot_id,
                containers,
                to_site,
            } => {
                lot_change(lot_id, 0, containers.len() as u32, &mut row)?;
                row.insert("containers", numbers(containers));
                row.insert("dose", format!("shipped to {to_site}"));
            }
            Body::SetSite { site, name } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("site set to {site} ({name})")),
                );
            }
            Body::Thaw { lot_id, containers } | Body::Return { lot_id, containers } => {
                for number in containers {
                    state.insert((lot_id.clone(), *number), matches!(body, Body::Thaw { .. }));
                }
                lot_change(lot_id, 0, containers.len() as u32, &mut row)?;
                row.insert("containers", numbers(containers));
            }
            Body::DestroyContainers {
                lot_id,
                containers,
                reason,
            } => {
                let from_stock = containers
                    .iter()
                    // A container never thawed is in stock.
                    .filter(|n| !state.get(&(lot_id.clone(), **n)).copied().unwrap_or(false)) // fallback-ok: never thawed
                    .count() as u32;
                lot_change(lot_id, 0, from_stock, &mut row)?;
                row.insert("containers", numbers(containers));
                row.insert("dose", format!("destroyed: {reason}"));
            }
            Body::Count {
                lot_id,
                counted,
                expected,
            } => {
                let forward = on_hand.get(lot_id).copied().unwrap_or(0); // fallback-ok: nothing received yet is 0
                row.insert("lot", lot_id.clone());
                row.insert("balance_forward", forward.to_string());
                row.insert("balance", forward.to_string());
                row.insert(
                    "dose",
                    format!(
                        "reconciled: {counted} counted, {expected} expected, difference {}",
                        i64::from(*counted) - i64::from(*expected)
                    ),
                );
            }
            Body::Prepare {
                bag_id,
                participant,
                draws,
                record,
                ..
            }
            | Body::Plan {
                bag_id,
                participant,
                draws,
                record,
                ..
            } => {
                bags.insert(bag_id.clone(), participant.clone());
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                let dose = dose(record, bag_id, seq)?;
                row.insert(
                    "dose",
                    match body {
                        Body::Plan { .. } => format!("planned: {dose}"),
                        _ => dose,
                    },
                );
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
                let participant = bags
                    .get(bag_id)
                    .ok_or_else(|| impossible(seq, "dispenses a bag no event prepared"))?;
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                let to = corrected
                    .get(&seq)
                    .and_then(|(_, recipient)| recipient.as_ref())
                    .unwrap_or(to); // fallback-ok: an uncorrected recipient is the one recorded
                row.insert("dose", format!("dispensed to {to}"));
            }
            Body::Correct {
                seq: target,
                reason,
                at,
                to,
                bag_id,
                lot_id,
            } => {
                let (was_at, was_to) = so_far
                    .get(target)
                    .cloned()
                    .ok_or_else(|| impossible(seq, "corrects an event not before it"))?;
                let mut changes = Vec::new();
                if let Some(at) = at {
                    changes.push(format!(
                        "at {} (was {})",
                        iso8601(seq, at)?,
                        iso8601(seq, &was_at)?
                    ));
                    so_far
                        .entry(*target)
                        .and_modify(|(now, _)| *now = at.clone());
                }
                if let Some(to) = to {
                    changes.push(format!(
                        "to {to} (was {})",
                        was_to.as_deref().unwrap_or("-") // fallback-ok: only a dispense's recipient is corrected
                    ));
                    so_far
                        .entry(*target)
                        .and_modify(|(_, now)| *now = Some(to.clone()));
                }
                if let Some(bag_id) = bag_id {
                    row.insert("bag_id", bag_id.clone());
                    if let Some(participant) = bags.get(bag_id) {
                        row.insert("participant", participant.clone());
                    }
                }
                if let Some(lot_id) = lot_id {
                    row.insert("lot", lot_id.clone());
                }
                row.insert(
                    "dose",
                    format!("corrected event {target}: {}: {reason}", changes.join(", ")),
                );
            }
            Body::Administer {
                bag_id,
                participant,
                started_at,
                ended_at,
                override_reason,
                short_reason,
            } => {
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                let mut text = format!(
                    "infused {} to {}",
                    iso8601(seq, started_at)?,
                    iso8601(seq, ended_at)?
                );
                if let Some(reason) = override_reason {
                    text.push_str(&format!(" (after infuse-by: {reason})"));
                }
                if let Some(reason) = short_reason {
                    text.push_str(&format!(" (shorter than the site's shortest: {reason})"));
                }
                row.insert("dose", text);
            }
            Body::DestroyBag { bag_id, reason } => {
                let participant = bags
                    .get(bag_id)
                    .ok_or_else(|| impossible(seq, "destroys a bag no event prepared"))?;
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                row.insert("dose", format!("destroyed: {reason}"));
            }
            Body::Check { bag_id } | Body::PreparePlanned { bag_id } => {
                let participant = bags
                    .get(bag_id)
                    .ok_or_else(|| impossible(seq, "names a bag no event prepared or planned"))?;
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                let done = match body {
                    Body::Check { .. } => "checked",
                    _ => "prepared as planned",
                };
                row.insert("dose", done.to_owned());
            }
            Body::CancelBag { bag_id, reason } => {
                let participant = bags
                    .get(bag_id)
                    .ok_or_else(|| impossible(seq, "cancels a bag no event planned"))?;
                row.insert("participant", participant.clone());
                row.insert("bag_id", bag_id.clone());
                row.insert("dose", format!("cancelled: {reason}"));
            }
            Body::RegisterUser {
                user_id,
                full_name,
                role,
                ..
            } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("registered user {user_id} ({full_name}), {role}")),
                );
            }
            Body::SignInFailed { user_id } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("failed sign-in as {user_id:?}")),
                );
            }
            Body::DisableUser { user_id, reason } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("disabled user {user_id}: {reason}")),
                );
            }
            Body::Configure {
                late_entry_after_min,
            } => {
                row.insert(
                    "dose",
                    format!("late-entry limit set to {late_entry_after_min} min"),
                );
            }
            Body::ResetPassphrase { user_id } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("passphrase of user {user_id} reset")),
                );
            }
            Body::ChangePassphrase { user_id } => {
                row.insert(
                    "dose",
                    spreadsheet_safe(&format!("user {user_id} changed their passphrase")),
                );
            }
        }
        so_far.insert(
            seq,
            (
                event.at.clone(),
                match &body {
                    Body::Dispense { to, .. } => Some(to.clone()),
                    _ => None,
                },
            ),
        );
        let date = corrected
            .get(&seq)
            .and_then(|(at, _)| at.as_ref())
            .unwrap_or(&event.at); // fallback-ok: an uncorrected event's time is the one recorded
        row.insert("seq", event.seq.to_string());
        row.insert("date", iso8601(seq, date)?);
        // UTC as written; empty for an event of schema 1, which kept none.
        if let Some(recorded_at) = &event.recorded_at {
            row.insert("recorded_at", recorded_at.clone());
        }
        row.insert("event", body.method().to_owned());
        row.insert("initials", spreadsheet_safe(&event.initials));
        if let (Some(signer), Some(meaning)) = (&event.signer, &event.meaning) {
            row.insert("signed_by", spreadsheet_safe(signer));
            if let Some(name) = names.get(signer) {
                row.insert("signer_name", spreadsheet_safe(name));
            }
            row.insert("meaning", spreadsheet_safe(meaning));
        }
        if let Some(reason) = &event.late_reason {
            row.insert("late_reason", spreadsheet_safe(reason));
        }
        if let Some(participant) = row.get("participant") {
            let safe = spreadsheet_safe(participant);
            row.insert("participant", safe);
        }
        row.insert(
            "comment",
            spreadsheet_safe(event.comment.as_deref().unwrap_or_default()), // fallback-ok: no comment is an empty cell
        );
        if let Some(station) = &event.station {
            row.insert("site", spreadsheet_safe(&station.site));
            row.insert("workstation", spreadsheet_safe(&station.workstation));
        }
        rows.push(
            ACCOUNTABILITY_COLUMNS
                .iter()
                .map(|column| row.remove(column).unwrap_or_default()) // fallback-ok: a column the event has nothing for is empty
                .collect(),
        );
    }
    csv_text(&ACCOUNTABILITY_COLUMNS, rows)
}

/// The blinded log: the bag events, with bag ids and volumes only. Built
/// only from what a bag and its placebo twin share: every row of a bag is
/// dated by its session's thaw, never by when an event happened or was
/// written (a placebo is quicker to make, and may be dispensed first), and
/// the rows are in session order, then by a bag's stage and bag id, never
/// in the order they were recorded. Corrections are not rows.
pub fn blinded_csv(db: &Db) -> Result<String> {
    // Each bag's volume and session, from its preparation.
    let mut bags: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut rows = Vec::new();
    for event in all_events(db)? {
        let body = body(&event)?;
        let (Some(bag_id), false) = (body.bag_id(), matches!(body, Body::Correct { .. })) else {
            continue;
        };
        if let Body::Prepare {
            final_ul,
            thawed_at,
            ..
        }
        | Body::Plan {
            final_ul,
            thawed_at,
            ..
        } = &body
        {
            bags.insert(bag_id.to_owned(), (*final_ul, thawed_at.clone()));
        }
        let (final_ul, session) = bags
            .get(bag_id)
            .ok_or_else(|| impossible(event.seq, "names a bag no event prepared"))?;
        let instant = doseprep::parse_time("thawed_at", session)
            .map_err(|_| {
                impossible(
                    event.seq,
                    &format!("has the session time {session:?}, which does not read"),
                )
            })?
            .timestamp();
        // A bag's events in the order they happen.
        let stage = match &body {
            Body::Plan { .. } => 0,
            Body::Prepare { .. } | Body::PreparePlanned { .. } => 1,
            Body::Check { .. } => 2,
            Body::Dispense { .. } => 3,
            Body::Administer { .. } => 4,
            _ => 5,
        };
        rows.push((
            (instant, stage, bag_id.to_owned()),
            vec![
                iso8601(event.seq, session)?,
                body.method().to_owned(),
                bag_id.to_owned(),
                ml(*final_ul),
            ],
        ));
    }
    rows.sort_by(|(a, _), (b, _)| a.cmp(b));
    csv_text(
        &BLINDED_COLUMNS,
        rows.into_iter().map(|(_, row)| row).collect(),
    )
}
