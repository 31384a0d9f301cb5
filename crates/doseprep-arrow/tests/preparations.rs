//! The CARE-SSc worked example as a table: CARE-012, 72.4 kg, lot UC-0042
//! (12.5 million viable cells/mL, 10 mL containers), thawed 09:00 EST. By
//! hand: 72.4 million cells target; 72.4e6 / 12.5e6 = 5.792 mL, drawn as
//! 5.8 mL (0.1 mL graduation, half up); 5.8 x 12.5e6 = 72.5 million cells
//! delivered, 72.5 / 72.4 - 1 = +0.138% off; 50 - 5.8 = 44.2 mL of
//! PlasmaLyte A; one container. Its arm C twin: 50 mL of PlasmaLyte A, the
//! same final volume, and no dose (nulls, never zeros).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, TimestampMicrosecondType, UInt32Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use doseprep::{
    parse_time, prepare, BodyWeight, CellConcentration, ExactVolume, Lot, LotSpec, Order, Protocol,
};
use doseprep_arrow::{preparations, Failure, Ordered, Row};

fn order(participant: &str, arm: &str) -> Order {
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00-05:00").unwrap();
    Order::new(
        participant,
        BodyWeight::from_kg(72.4).unwrap(),
        arm,
        "month-0",
        thawed,
    )
    .unwrap()
}

fn table() -> RecordBatch {
    let protocol = Protocol::care_ssc();
    let lot = Lot::new(LotSpec {
        lot_id: "UC-0042".into(),
        viable_cells_per_ml: CellConcentration::new("c", 12.5e6).unwrap(),
        viability: 0.93,
        container_volume: ExactVolume::from_microlitres(10_000),
        extractable_volume: None,
        containers: 4,
        dmso_fraction: Some(0.05),
        expires_at: None,
    })
    .unwrap();
    let active = prepare(&protocol, &order("CARE-012", "A"), &lot).unwrap();
    let placebo = prepare(&protocol, &order("CARE-013", "C"), &lot).unwrap();
    let failed = order("CARE-014", "A");
    let rows = [
        Row::Prepared(&active),
        Row::Prepared(&placebo),
        Row::Failed(
            Ordered::of(&failed),
            Failure {
                kind: "lot_expired",
                field: Some("lot"),
                message: "lot UC-0042 expired",
            },
        ),
        Row::Failed(
            Ordered::default(),
            Failure {
                kind: "invalid_input",
                field: Some("order"),
                message: "each order must be a dict",
            },
        ),
    ];
    preparations(protocol.zone().name(), &rows).unwrap()
}

fn numbers(table: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let column = table.column_by_name(name).unwrap();
    column.as_primitive::<Float64Type>().iter().collect()
}

fn texts(table: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let column = table.column_by_name(name).unwrap();
    column
        .as_string_view()
        .iter()
        .map(|text| text.map(str::to_owned))
        .collect()
}

#[test]
fn the_worked_example_reads_as_computed_by_hand() {
    let table = table();
    assert_eq!(table.num_rows(), 4);
    let draw = numbers(&table, "draw_volume_ml");
    assert_eq!(draw, [Some(5.8), None, None, None]);
    assert_eq!(
        numbers(&table, "diluent_volume_ml"),
        [Some(44.2), Some(50.0), None, None]
    );
    assert_eq!(
        numbers(&table, "final_volume_ml"),
        [Some(50.0), Some(50.0), None, None]
    );
    let delivered = numbers(&table, "delivered_cells")[0].unwrap();
    assert!((delivered - 72.5e6).abs() < 1.0, "{delivered}");
    let target = numbers(&table, "target_cells")[0].unwrap();
    assert!((target - 72.4e6).abs() < 1.0, "{target}");
    let deviation = numbers(&table, "deviation_fraction")[0].unwrap();
    assert!(
        (deviation - (72.5 / 72.4 - 1.0)).abs() < 1e-12,
        "{deviation}"
    );
    let containers: Vec<Option<u32>> = table
        .column_by_name("containers_to_thaw")
        .unwrap()
        .as_primitive::<UInt32Type>()
        .iter()
        .collect();
    assert_eq!(containers, [Some(1), None, None, None]);
    assert_eq!(
        texts(&table, "content"),
        [Some("active".into()), Some("placebo".into()), None, None]
    );
    assert_eq!(
        texts(&table, "participant"),
        [
            Some("CARE-012".into()),
            Some("CARE-013".into()),
            Some("CARE-014".into()),
            None
        ]
    );
    assert_eq!(
        texts(&table, "error_kind"),
        [
            None,
            None,
            Some("lot_expired".into()),
            Some("invalid_input".into())
        ]
    );
    assert_eq!(
        texts(&table, "error_field"),
        [None, None, Some("lot".into()), Some("order".into())]
    );
}

#[test]
fn times_are_instants_in_the_sites_zone() {
    let table = table();
    let column = table.column_by_name("thawed_at").unwrap();
    assert_eq!(
        column.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("America/Toronto".into()))
    );
    let thawed = column.as_primitive::<TimestampMicrosecondType>();
    // 2026-11-25T14:00:00Z, by `date -d 2026-11-25T14:00:00Z +%s`: 1795615200.
    assert_eq!(thawed.value(0), 1_795_615_200_000_000);
    assert_eq!(thawed.value(1), thawed.value(0));
    assert!(thawed.is_null(2));
    // The infusion ends 3 h after the thaw at the latest (CARE-SSc's window).
    let by = table
        .column_by_name("infuse_by")
        .unwrap()
        .as_primitive::<TimestampMicrosecondType>();
    assert_eq!(by.value(0) - thawed.value(0), 3 * 3600 * 1_000_000);
}
