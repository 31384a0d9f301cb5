//! Dose rules and the draw at the bench, end to end on the shipped example
//! protocols: the weighing check, and what the worksheet says of them.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::protocol;
use doseprep::{
    check_weighed, parse_time, prepare, worksheet, BodyWeight, Grams, Lot, Order, PreparationRecord,
};

fn vial_lot(containers: u32) -> Lot {
    Lot::from_toml(&format!(
        "lot_id = \"R-0001\"\nviable_cells_per_ml = \"6.68 million cells/mL\"\nviability = 0.95\n\
         container_volume = \"3.8 mL\"\nextractable_volume = \"3.5 mL\"\ncontainers = {containers}\n"
    ))
    .unwrap()
}

fn twice_weekly_order(weight: &str, baseline: &str) -> Order {
    Order::with_weight_text(
        "EX-001",
        weight,
        "active",
        "dose-3",
        parse_time("t", "2026-11-25T09:00:00-06:00").unwrap(),
    )
    .unwrap()
    .baseline_text(baseline)
    .unwrap()
}

#[test]
fn a_weighed_bag_is_checked_against_its_volumes() {
    let protocol = protocol("examples/twice-weekly.toml");
    let bag = prepare(
        &protocol,
        &twice_weekly_order("30 kg", "30 kg"),
        &vial_lot(30),
    )
    .unwrap();
    // 9 mL × 1.04 g/mL + 91 mL × 1.005 g/mL = 100.815 g; ±2% = 98.7987-102.8313 g.
    let pass = check_weighed(&protocol, &bag, Grams::new("m", 101.0).unwrap()).unwrap();
    assert!(pass.ok);
    assert!((pass.expected.grams() - 100.815).abs() < 1e-12);
    assert!(
        (pass.low.grams() - 98.7987).abs() < 1e-9 && (pass.high.grams() - 102.8313).abs() < 1e-9
    );
    assert!((pass.deviation.value() - 0.185 / 100.815).abs() < 1e-15);
    // 100.815 is 100.81499... in binary: display rounds to 100.81 (the
    // exact figure is in the record).
    assert_eq!(
        pass.message,
        "weighed 101 g, expected 100.81 g (accepted 98.8-102.83 g, ±2%): pass (+0.18%)"
    );
    let fail = check_weighed(&protocol, &bag, Grams::new("m", 103.0).unwrap()).unwrap();
    assert!(!fail.ok);
    assert!(fail.message.contains("FAIL"), "{}", fail.message);
    // CARE-SSc gives no densities: weighing is an error that names the setting.
    let care = doseprep::Protocol::care_ssc();
    let lot = Lot::from_toml("lot_id = \"L\"\nviable_cells_per_ml = \"12.5 million cells/mL\"\nviability = 0.93\ncontainer_volume = \"10 mL\"\ncontainers = 4\ndmso_fraction = 0\n").unwrap();
    let order = Order::new(
        "P",
        BodyWeight::from_kg(72.4).unwrap(),
        "A",
        "month-0",
        parse_time("t", "2026-11-25T09:00:00-05:00").unwrap(),
    )
    .unwrap();
    let care_bag = prepare(&care, &order, &lot).unwrap();
    let error = check_weighed(&care, &care_bag, Grams::new("m", 50.0).unwrap()).unwrap_err();
    assert_eq!(error.kind().name(), "protocol");
    assert!(error.to_string().contains("site.gravimetric"), "{error}");
}

#[test]
fn the_worksheet_says_which_syringe_which_weight_and_what_a_vial_yields() {
    let protocol = protocol("examples/twice-weekly.toml");
    let order = twice_weekly_order("34 kg", "30 kg");
    let lot = vial_lot(30);
    let record = PreparationRecord::prepare(&protocol, &order, &lot).unwrap();
    let sheet = worksheet(&record);
    for line in [
        "   Weight: 34 kg (entered as 34 kg)",
        "   Baseline weight: 30 kg (entered as 30 kg)",
        "   Doses on: the visit's weight (it differs from baseline by more than the threshold)",
        "3. Thaw 3 containers of 3.8 mL (on hand: 30; each yields 3.5 mL of its 3.8 mL)",
        "4. Draw 10 mL of cell suspension (30 mL syringe, graduated every 1 mL; computed 10.18 mL, rounded half up)",
        "   Set by: per-kg rule, 2 million cells/kg × dosing weight",
        "   Weigh the filled bag (net): expected 100.85 g, accepted 98.83-102.87 g (±2%): ________ g",
    ] {
        assert!(sheet.lines().any(|l| l == line), "missing {line:?} in\n{sheet}");
    }
}

#[test]
fn the_worksheet_says_when_a_draw_was_rounded_down_for_the_maximum() {
    let protocol = protocol("examples/per-kg-with-cap.toml");
    let lot = Lot::from_toml("lot_id = \"EX-LOT\"\nviable_cells_per_ml = \"15 million cells/mL\"\nviability = 0.9\ncontainer_volume = \"10 mL\"\ncontainers = 10\n").unwrap();
    let order = Order::with_weight_text(
        "EX-001",
        "140 kg",
        "active",
        "infusion",
        parse_time("t", "2026-11-25T09:00:00-05:00").unwrap(),
    )
    .unwrap();
    let record = PreparationRecord::prepare(&protocol, &order, &lot).unwrap();
    let sheet = worksheet(&record);
    assert!(
        sheet.contains("4. Draw 6.6 mL of cell suspension (increment 0.1 mL; computed 6.667 mL, ROUNDED DOWN: half up would deliver more than the protocol's maximum)"),
        "{sheet}"
    );
    assert!(
        sheet.contains("   Set by: cap on cells, 100 million cells (the per-kg rule gives more)"),
        "{sheet}"
    );
    assert!(sheet.contains("   Accepted:  70 million (70,000,000) to 100 million (100,000,000) (the dose rule's range): pass"), "{sheet}");
}
