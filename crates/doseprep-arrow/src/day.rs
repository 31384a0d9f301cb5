//! A day plan's tables: its bags (as a batch's), its thaws (the pick
//! list's lines, in thaw order) and the stock it leaves (by lot).

use std::sync::Arc;

use arrow_array::builder::{
    ListBuilder, StringViewBuilder, TimestampMicrosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, TimeUnit};
use doseprep::day::DayPlan;

use crate::preparations::{Failure, Ordered, PreparationsBuilder, Row};

/// The plan's bags, a row an input row: `row` (its number in the orders
/// file, or its place from 1 in a list given in code), then its
/// preparation, or why it could not be made with the participant and
/// visit as written (as [`crate::preparations`]), times in `zone`.
pub fn day_bags(zone: &str, plan: &DayPlan) -> Result<RecordBatch, ArrowError> {
    // A plan has a row beside each bag; a table that zipped fewer would
    // drop an order.
    if plan.bags.len() != plan.rows.len() {
        return Err(ArrowError::InvalidArgumentError(format!(
            "the plan has {} bags for {} rows",
            plan.bags.len(),
            plan.rows.len()
        )));
    }
    let mut table = PreparationsBuilder::new(zone, plan.bags.len());
    let mut numbers = UInt64Builder::with_capacity(plan.bags.len());
    for (bag, row) in plan.bags.iter().zip(&plan.rows) {
        numbers.append_value(u64::try_from(row.row).map_err(|_| {
            ArrowError::InvalidArgumentError("a row number beyond 2^64".to_owned())
        })?);
        match bag {
            Ok(bag) => table.push(&Row::Prepared(&bag.preparation)),
            Err(error) => {
                let field = error.parts().field;
                let ordered = Ordered {
                    participant: Some(row.participant.as_str()).filter(|p| !p.is_empty()),
                    arm: None,
                    visit: Some(row.visit.as_str()).filter(|v| !v.is_empty()),
                };
                table.push(&Row::Failed(
                    ordered,
                    Failure {
                        kind: error.kind().name(),
                        field: field.as_deref(),
                        message: &error.to_string(),
                    },
                ));
            }
        }
    }
    let bags = table.finish()?;
    let schema = bags.schema();
    let mut fields = vec![Arc::new(Field::new("row", DataType::UInt64, false))];
    fields.extend(schema.fields().iter().cloned());
    let mut columns: Vec<ArrayRef> = vec![Arc::new(numbers.finish())];
    columns.extend(bags.columns().iter().cloned());
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The plan's thaws, in thaw order (the pick list's lines): `thawed_at` in
/// `zone`, `lot_id`, `containers` (their numbers) and `container_count`.
pub fn day_thaws(zone: &str, plan: &DayPlan) -> Result<RecordBatch, ArrowError> {
    let count = plan.thaws.len();
    let mut thawed_at = TimestampMicrosecondBuilder::with_capacity(count).with_timezone(zone);
    let mut lot_ids = StringViewBuilder::new();
    let mut containers = ListBuilder::new(UInt32Builder::new()).with_field(Arc::new(Field::new(
        "item",
        DataType::UInt32,
        false,
    )));
    let mut container_count = UInt32Builder::with_capacity(count);
    for thaw in &plan.thaws {
        thawed_at.append_value(thaw.thawed_at.instant().as_microsecond());
        lot_ids.append_value(&thaw.lot_id);
        containers.values().append_slice(&thaw.containers);
        containers.append(true);
        let counted = u32::try_from(thaw.containers.len()).map_err(|_| {
            ArrowError::InvalidArgumentError("a thaw of more than 2^32 containers".to_owned())
        })?;
        container_count.append_value(counted);
    }
    let schema = Schema::new(vec![
        Field::new(
            "thawed_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(zone))),
            false,
        ),
        Field::new("lot_id", DataType::Utf8View, false),
        Field::new(
            "containers",
            DataType::List(Arc::new(Field::new("item", DataType::UInt32, false))),
            false,
        ),
        Field::new("container_count", DataType::UInt32, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(thawed_at.finish()),
        Arc::new(lot_ids.finish()),
        Arc::new(containers.finish()),
        Arc::new(container_count.finish()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns)
}

/// The stock the plan leaves, a row a lot: `lot_id`, `containers_left`
/// (in the freezer after the day) and `containers_held_for_blinding` (of
/// those, counted against placebo bags as their twins would use them).
pub fn day_stock(plan: &DayPlan) -> Result<RecordBatch, ArrowError> {
    let mut lot_ids = StringViewBuilder::new();
    let mut left = UInt32Builder::new();
    let mut held = UInt32Builder::new();
    for (lot_id, remaining) in &plan.remaining {
        lot_ids.append_value(lot_id);
        left.append_value(*remaining);
        // The plan lists only lots it holds some back of: a lot it does not
        // list holds back 0, as the pick list reads it.
        let held_back = plan.held_for_blinding.get(lot_id).copied();
        held.append_value(held_back.unwrap_or(0)); // fallback-ok: a lot not listed holds back none
    }
    let schema = Schema::new(vec![
        Field::new("lot_id", DataType::Utf8View, false),
        Field::new("containers_left", DataType::UInt32, false),
        Field::new("containers_held_for_blinding", DataType::UInt32, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(lot_ids.finish()),
        Arc::new(left.finish()),
        Arc::new(held.finish()),
    ];
    RecordBatch::try_new(Arc::new(schema), columns)
}
