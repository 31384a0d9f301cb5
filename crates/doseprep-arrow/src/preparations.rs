//! A batch of preparations (`prepare_many`'s results) as one Arrow table,
//! a row an order, in the order given.

use std::sync::Arc;

use arrow_array::builder::{
    Float64Builder, StringViewBuilder, TimestampMicrosecondBuilder, UInt32Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use doseprep::{Order, Preparation, SiteTime};

/// Why an order made no bag: its error's kind (`weight_out_of_range`), the
/// input concerned where there is one, and the message as raised.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The error's kind, as `DoseError.kind` names it.
    pub kind: &'a str,
    /// The input concerned (`weight`), where the error names one.
    pub field: Option<&'a str>,
    /// The message, as the raised error's.
    pub message: &'a str,
}

/// One order's result.
#[derive(Debug, Clone, Copy)]
pub enum Row<'a> {
    /// The bag it made.
    Prepared(&'a Preparation),
    /// Who it was for, as far as the order was read, and why it failed.
    Failed(Ordered<'a>, Failure<'a>),
}

/// A failed order's identity as far as it was read: its participant, arm
/// and visit where known.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ordered<'a> {
    /// The participant, as written.
    pub participant: Option<&'a str>,
    /// The arm, where the order gives one.
    pub arm: Option<&'a str>,
    /// The visit, as written.
    pub visit: Option<&'a str>,
}

impl<'a> Ordered<'a> {
    /// The identity of an order that was read.
    pub fn of(order: &'a Order) -> Ordered<'a> {
        Ordered {
            participant: Some(order.participant()),
            arm: Some(order.arm()),
            visit: Some(order.visit()),
        }
    }
}

/// The columns, in order: the bag's identity, its weights, its dose (null
/// for a placebo), its volumes and times, then the error of a failed row.
/// Every column but the order's own is null on a failed row; the order's
/// participant, arm and visit are given where the order was read.
const TEXT: &[&str] = &["participant", "arm", "visit", "content", "bag_id", "lot_id"];
const NUMBERS_BEFORE_COUNT: &[&str] = &[
    "body_weight_kg",
    "baseline_weight_kg",
    "dosing_weight_kg",
    "target_cells",
    "delivered_cells",
    "deviation_fraction",
    "unrounded_draw_volume_ml",
    "draw_volume_ml",
    "diluent_volume_ml",
    "final_volume_ml",
    "final_concentration_cells_per_ml",
];
const COUNT: &str = "containers_to_thaw";
const NUMBERS_AFTER_COUNT: &[&str] = &["infusion_duration_min", "pump_rate_ml_per_h"];
const TIMES: &[&str] = &["thawed_at", "prepared_at", "infusion_at", "infuse_by"];
const ERRORS: &[&str] = &["error_kind", "error_field", "error_message"];

/// The table's schema, its times in `zone` (the site's IANA zone).
pub fn preparations_schema(zone: &str) -> SchemaRef {
    let time = DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(zone)));
    let mut fields = Vec::new();
    fields.extend(
        TEXT.iter()
            .map(|name| Field::new(*name, DataType::Utf8View, true)),
    );
    fields.extend(
        NUMBERS_BEFORE_COUNT
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, true)),
    );
    fields.push(Field::new(COUNT, DataType::UInt32, true));
    fields.extend(
        NUMBERS_AFTER_COUNT
            .iter()
            .map(|name| Field::new(*name, DataType::Float64, true)),
    );
    fields.extend(
        TIMES
            .iter()
            .map(|name| Field::new(*name, time.clone(), true)),
    );
    fields.extend(
        ERRORS
            .iter()
            .map(|name| Field::new(*name, DataType::Utf8View, true)),
    );
    Arc::new(Schema::new(fields))
}

/// Microseconds since the Unix epoch of `time` (jiff's whole range, years
/// -9999 to 9999, fits).
fn micros(time: &SiteTime) -> i64 {
    time.instant().as_microsecond()
}

/// `rows` as one table, times in `zone` (the protocol's site zone).
pub fn preparations(zone: &str, rows: &[Row<'_>]) -> Result<RecordBatch, ArrowError> {
    let mut table = PreparationsBuilder::new(zone, rows.len());
    for row in rows {
        table.push(row);
    }
    table.finish()
}

/// A table of preparations built a row at a time, then finished once.
pub struct PreparationsBuilder {
    zone: Arc<str>,
    texts: Vec<StringViewBuilder>,
    before: Vec<Float64Builder>,
    containers: UInt32Builder,
    after: Vec<Float64Builder>,
    times: Vec<TimestampMicrosecondBuilder>,
    errors: Vec<StringViewBuilder>,
}

impl PreparationsBuilder {
    /// An empty table, times in `zone`, room for `rows` rows.
    pub fn new(zone: &str, rows: usize) -> PreparationsBuilder {
        let zone: Arc<str> = Arc::from(zone);
        let text = || StringViewBuilder::with_capacity(rows);
        let number = || Float64Builder::with_capacity(rows);
        let time = || TimestampMicrosecondBuilder::with_capacity(rows).with_timezone(zone.clone());
        PreparationsBuilder {
            texts: TEXT.iter().map(|_| text()).collect(),
            before: NUMBERS_BEFORE_COUNT.iter().map(|_| number()).collect(),
            containers: UInt32Builder::with_capacity(rows),
            after: NUMBERS_AFTER_COUNT.iter().map(|_| number()).collect(),
            times: TIMES.iter().map(|_| time()).collect(),
            errors: ERRORS.iter().map(|_| StringViewBuilder::new()).collect(),
            zone,
        }
    }

    /// One more row.
    pub fn push(&mut self, row: &Row<'_>) {
        match row {
            Row::Prepared(bag) => self.prepared(bag),
            Row::Failed(ordered, failure) => self.failed(ordered, failure),
        }
    }

    fn prepared(&mut self, bag: &Preparation) {
        let dose = bag.dose.as_ref();
        let bag_id = bag.bag_id.map(|id| id.as_text());
        let values: [Option<&str>; 6] = [
            Some(&bag.participant),
            Some(&bag.arm),
            Some(&bag.visit),
            Some(bag.content.as_str()),
            bag_id.as_deref(),
            dose.map(|d| d.lot_id.as_str()),
        ];
        for (builder, value) in self.texts.iter_mut().zip(values) {
            builder.append_option(value);
        }
        let numbers: [Option<f64>; 11] = [
            Some(bag.body_weight.kg()),
            bag.baseline_weight.map(doseprep::BodyWeight::kg),
            Some(bag.dosing_weight.kg()),
            dose.map(|d| d.target_cells.cells()),
            dose.map(|d| d.delivered_cells.cells()),
            dose.map(|d| d.deviation.value()),
            dose.map(|d| d.unrounded_draw_volume.ml()),
            dose.map(|d| d.draw_volume.ml()),
            Some(bag.diluent_volume.ml()),
            Some(bag.final_volume.ml()),
            dose.map(|d| d.final_concentration.cells_per_ml()),
        ];
        for (builder, value) in self.before.iter_mut().zip(numbers) {
            builder.append_option(value);
        }
        self.containers
            .append_option(dose.map(|d| d.containers_to_thaw));
        let numbers = [
            Some(bag.infusion_duration.as_secs_f64() / 60.0),
            Some(bag.pump_rate.ml_per_hour()),
        ];
        for (builder, value) in self.after.iter_mut().zip(numbers) {
            builder.append_option(value);
        }
        let at = [
            Some(bag.thawed_at()),
            bag.prepared_at(),
            bag.infusion_at(),
            Some(bag.infuse_by()),
        ];
        for (builder, value) in self.times.iter_mut().zip(at) {
            builder.append_option(value.as_ref().map(micros));
        }
        for builder in &mut self.errors {
            builder.append_null();
        }
    }

    fn failed(&mut self, ordered: &Ordered<'_>, failure: &Failure<'_>) {
        let values: [Option<&str>; 6] = [
            ordered.participant,
            ordered.arm,
            ordered.visit,
            None,
            None,
            None,
        ];
        for (builder, value) in self.texts.iter_mut().zip(values) {
            builder.append_option(value);
        }
        for builder in self.before.iter_mut().chain(self.after.iter_mut()) {
            builder.append_null();
        }
        self.containers.append_null();
        for builder in &mut self.times {
            builder.append_null();
        }
        let values = [Some(failure.kind), failure.field, Some(failure.message)];
        for (builder, value) in self.errors.iter_mut().zip(values) {
            builder.append_option(value);
        }
    }

    /// The table.
    pub fn finish(mut self) -> Result<RecordBatch, ArrowError> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        columns.extend(
            self.texts
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.extend(
            self.before
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.push(Arc::new(self.containers.finish()));
        columns.extend(
            self.after
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.extend(
            self.times
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        columns.extend(
            self.errors
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        RecordBatch::try_new(preparations_schema(&self.zone), columns)
    }
}
