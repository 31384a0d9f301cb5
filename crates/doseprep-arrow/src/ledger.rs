//! A ledger's tables: its events (as the accountability log has them) and
//! its lots' balances.

use std::sync::Arc;

use arrow_array::builder::{
    Int64Builder, StringViewBuilder, TimestampMicrosecondBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use doseprep_ledger::{Balance, Event};

/// Microseconds since the Unix epoch of an event's time as recorded
/// (RFC 9557, or RFC 3339 for `recorded_at`).
fn instant(field: &str, seq: i64, text: &str) -> Result<i64, ArrowError> {
    text.parse::<jiff::Timestamp>()
        .map(|at| at.as_microsecond())
        .map_err(|error| {
            ArrowError::ParseError(format!(
                "event {seq}: its {field} {text:?} is not a time ({error})"
            ))
        })
}

/// The events, a row each, in order: `seq`, `kind`, `at` (the time the
/// event claims) and `recorded_at` (when it was written, where the ledger
/// kept it) as UTC timestamps beside `at_text` as recorded (with its
/// zone), then who and where (`initials`, `signer`, `meaning`, `site`,
/// `workstation`), `late_reason`, `comment`, the body as JSON text, and
/// the chain (`prev_hash`, `hash`).
pub fn ledger_events(events: &[Event]) -> Result<RecordBatch, ArrowError> {
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from("UTC")));
    let mut seq = Int64Builder::with_capacity(events.len());
    let mut at = TimestampMicrosecondBuilder::with_capacity(events.len()).with_timezone("UTC");
    let mut recorded_at =
        TimestampMicrosecondBuilder::with_capacity(events.len()).with_timezone("UTC");
    const TEXT: [&str; 12] = [
        "kind",
        "at_text",
        "initials",
        "signer",
        "meaning",
        "site",
        "workstation",
        "late_reason",
        "comment",
        "body",
        "prev_hash",
        "hash",
    ];
    let mut texts: Vec<StringViewBuilder> = TEXT.iter().map(|_| StringViewBuilder::new()).collect();
    for event in events {
        seq.append_value(event.seq);
        at.append_value(instant("at", event.seq, &event.at)?);
        recorded_at.append_option(
            event
                .recorded_at
                .as_deref()
                .map(|text| instant("recorded_at", event.seq, text))
                .transpose()?,
        );
        let values: [Option<&str>; 12] = [
            Some(&event.kind),
            Some(&event.at),
            Some(&event.initials),
            event.signer.as_deref(),
            event.meaning.as_deref(),
            event.station.as_ref().map(|station| station.site.as_str()),
            event
                .station
                .as_ref()
                .map(|station| station.workstation.as_str()),
            event.late_reason.as_deref(),
            event.comment.as_deref(),
            Some(&event.body),
            Some(&event.prev_hash),
            Some(&event.hash),
        ];
        for (builder, value) in texts.iter_mut().zip(values) {
            builder.append_option(value);
        }
    }
    let mut fields = vec![
        Field::new("seq", DataType::Int64, false),
        Field::new("at", utc.clone(), false),
        Field::new("recorded_at", utc, true),
    ];
    fields.extend(TEXT.iter().map(|name| {
        let always = ["kind", "at_text", "initials", "body", "prev_hash", "hash"].contains(name);
        Field::new(*name, DataType::Utf8View, !always)
    }));
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(seq.finish()),
        Arc::new(at.finish()),
        Arc::new(recorded_at.finish()),
    ];
    columns.extend(texts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// Each lot's balance, a row a lot: `lot_id` and its containers
/// (`containers_received`, `containers_thawed`, `containers_destroyed` from
/// stock, `containers_destroyed_after_thaw`, `containers_returned`,
/// `containers_shipped`, `containers_on_hand`).
pub fn ledger_balances(balances: &[Balance]) -> Result<RecordBatch, ArrowError> {
    const COUNTS: [&str; 7] = [
        "containers_received",
        "containers_thawed",
        "containers_destroyed",
        "containers_destroyed_after_thaw",
        "containers_returned",
        "containers_shipped",
        "containers_on_hand",
    ];
    let mut lot_ids = StringViewBuilder::new();
    let mut counts: Vec<UInt32Builder> = COUNTS.iter().map(|_| UInt32Builder::new()).collect();
    for balance in balances {
        lot_ids.append_value(&balance.lot_id);
        let values = [
            balance.received,
            balance.thawed,
            balance.destroyed,
            balance.destroyed_after_thaw,
            balance.returned,
            balance.shipped,
            balance.on_hand,
        ];
        for (builder, value) in counts.iter_mut().zip(values) {
            builder.append_value(value);
        }
    }
    let mut fields = vec![Field::new("lot_id", DataType::Utf8View, false)];
    fields.extend(
        COUNTS
            .iter()
            .map(|name| Field::new(*name, DataType::UInt32, false)),
    );
    let mut columns: Vec<ArrayRef> = vec![Arc::new(lot_ids.finish())];
    columns.extend(counts.iter_mut().map(|b| Arc::new(b.finish()) as ArrayRef));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
