//! Invariants of a preparation, under proptest. Strategies are bounded to real
//! ranges for the "accepted" properties, and throw NaN, infinities, zero,
//! negatives and arbitrary text at the "never panics" properties.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use doseprep::protocol::{DoseRule, FinalVolumeMode};
use doseprep::{
    parse_time, prepare, BodyWeight, CellConcentration, CellsPerKg, Content, DoseBasis,
    ExactVolume, Lot, Order, Preparation, Protocol,
};
use proptest::prelude::*;

/// CARE-SSc with the site settings varied, and two extra arms `X` (always
/// active) and `Y` (always placebo) so every order has a twin.
fn protocol_strategy() -> impl Strategy<Value = Protocol> {
    (
        prop_oneof![Just(FinalVolumeMode::Qs), Just(FinalVolumeMode::Additive)],
        prop_oneof![Just(DoseBasis::Viable), Just(DoseBasis::Total)],
        prop_oneof![Just(10u64), Just(100), Just(500), Just(1000)],
        0.01f64..0.5,
        proptest::option::of(40.0f64..200.0),
    )
        .prop_map(|(mode, basis, increment_ul, tolerance, cap)| {
            let mut p = Protocol::care_ssc();
            p.site.final_volume_mode = mode;
            p.site.dose_basis = basis;
            p.site.draw_increment = ExactVolume::from_microlitres(increment_ul);
            p.site.dose_tolerance = tolerance;
            if mode == FinalVolumeMode::Additive {
                p.site.max_draw_volume = Some(ExactVolume::from_microlitres(30_000));
            }
            p.dose = DoseRule::PerKg {
                cells_per_kg: CellsPerKg::new("dose", 1e6).unwrap(),
                dosing_weight_cap: cap.map(|kg| BodyWeight::from_kg(kg).unwrap()),
            };
            let all = |content| p.visits.iter().map(|v| (v.clone(), content)).collect();
            let x = all(Content::Active);
            let y = all(Content::Placebo);
            p.arms.insert("X".into(), x);
            p.arms.insert("Y".into(), y);
            p
        })
}

fn lot_strategy() -> impl Strategy<Value = Lot> {
    (
        1e5f64..5e8,
        0.7f64..=1.0,
        1u64..=200,
        1u32..=100,
        proptest::option::of(0.0f64..0.15),
    )
        .prop_map(|(conc, viability, container_tenths, containers, dmso)| {
            Lot::new(
                "LOT-1",
                CellConcentration::new("c", conc).unwrap(),
                viability,
                ExactVolume::from_microlitres(container_tenths * 100),
                containers,
                dmso,
            )
            .unwrap()
        })
}

fn order(weight_kg: f64, arm: &str, visit: &str, minutes_after_thaw: i64) -> Order {
    let thawed = parse_time("t", "2026-11-25T09:00:00+00:00").unwrap();
    let prepared = thawed
        .checked_add(jiff::SignedDuration::from_mins(minutes_after_thaw))
        .unwrap();
    Order::new(
        "P-1",
        BodyWeight::from_kg(weight_kg).unwrap(),
        arm,
        visit,
        thawed,
        Some(prepared),
    )
    .unwrap()
}

fn visit_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("month-0"), Just("month-3")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn accepted_active_bags_keep_every_invariant(
        protocol in protocol_strategy(),
        lot in lot_strategy(),
        weight in 30.0f64..250.0,
        visit in visit_strategy(),
        minutes in 0i64..=150,
    ) {
        let result = prepare(&protocol, &order(weight, "X", visit, minutes), &lot);
        let Ok(bag) = result else { return Ok(()); };
        let dose = bag.dose.as_ref().unwrap();
        let site = &protocol.site;
        let increment = site.draw_increment.microlitres();
        let draw = dose.draw_volume.microlitres();
        // Volumes add up exactly.
        match site.final_volume_mode {
            FinalVolumeMode::Qs => {
                prop_assert_eq!(draw + bag.diluent_volume.microlitres(), bag.final_volume.microlitres());
                prop_assert_eq!(bag.final_volume, protocol.diluent.volume);
            }
            FinalVolumeMode::Additive => {
                prop_assert_eq!(bag.diluent_volume, protocol.diluent.volume);
                prop_assert_eq!(bag.final_volume.microlitres(), protocol.diluent.volume.microlitres() + draw);
            }
        }
        // Whole increments, nearest to the unrounded draw (half up).
        prop_assert_eq!(draw % increment, 0);
        let unrounded_ul = dose.unrounded_draw_volume_ml * 1000.0;
        prop_assert!((draw as f64 - unrounded_ul).abs() <= increment as f64 / 2.0 * (1.0 + 1e-9));
        // Delivered dose within tolerance, recomputed from the rounded draw.
        let recomputed = dose.concentration_cells_per_ml * draw as f64 / 1000.0;
        prop_assert!((dose.delivered_cells.cells() - recomputed).abs() <= 1e-9 * recomputed);
        prop_assert!(dose.deviation.abs() <= site.dose_tolerance * (1.0 + 1e-9));
        prop_assert!(dose.delivered_cells >= dose.acceptable_min_cells || dose.deviation.abs() <= site.dose_tolerance);
        // Fewest containers that hold the draw.
        let container = lot.container_volume().microlitres();
        prop_assert!(dose.containers_to_thaw * container >= draw);
        prop_assert!((dose.containers_to_thaw - 1) * container < draw);
        prop_assert!(dose.containers_to_thaw <= u64::from(lot.containers()));
        // Pump rate runs the final volume in the infusion duration.
        let hours = site.infusion_duration.as_secs_f64() / 3600.0;
        prop_assert!((bag.pump_rate_ml_per_h * hours - bag.final_volume.ml()).abs() <= 1e-9 * bag.final_volume.ml());
    }

    #[test]
    fn a_placebo_matches_its_active_twin(
        protocol in protocol_strategy(),
        lot in lot_strategy(),
        weight in 30.0f64..250.0,
        visit in visit_strategy(),
        minutes in 0i64..=150,
    ) {
        let active = prepare(&protocol, &order(weight, "X", visit, minutes), &lot);
        let placebo = prepare(&protocol, &order(weight, "Y", visit, minutes), &lot);
        if let Ok(active) = &active {
            let placebo = placebo.as_ref().unwrap();
            prop_assert_eq!(placebo.content, Content::Placebo);
            prop_assert_eq!(placebo.final_volume, active.final_volume);
            prop_assert_eq!(placebo.diluent_volume, placebo.final_volume);
            prop_assert_eq!(placebo.infusion_duration, active.infusion_duration);
            prop_assert_eq!(placebo.pump_rate_ml_per_h.to_bits(), active.pump_rate_ml_per_h.to_bits());
            prop_assert_eq!(&placebo.start_by, &active.start_by);
            prop_assert_eq!(&placebo.infuse_by, &active.infuse_by);
            prop_assert!(placebo.dose.is_none());
            prop_assert_eq!(placebo.delivered_cells().cells(), 0.0);
        }
        if protocol.site.final_volume_mode == FinalVolumeMode::Qs {
            // In qs mode the placebo needs nothing from the lot.
            prop_assert!(placebo.is_ok() || active.is_err());
        }
    }

    #[test]
    fn dose_is_linear_in_weight_up_to_the_cap(
        protocol in protocol_strategy(),
        w1 in 30.0f64..250.0,
        w2 in 30.0f64..250.0,
    ) {
        // A lot so rich and a tolerance so wide that rounding never refuses:
        // only the target matters here.
        let mut protocol = protocol;
        protocol.site.dose_tolerance = 0.99;
        protocol.site.draw_increment = ExactVolume::from_microlitres(10);
        let lot = Lot::new("L", CellConcentration::new("c", 5e7).unwrap(), 1.0,
            ExactVolume::from_microlitres(50_000), 10, None).unwrap();
        let target = |w: f64| prepare(&protocol, &order(w, "X", "month-0", 0), &lot)
            .map(|b| (b.dosing_weight_kg, b.dose.unwrap().target_cells.cells()));
        let (d1, t1) = target(w1).unwrap();
        let (d2, t2) = target(w2).unwrap();
        let cap = match &protocol.dose { DoseRule::PerKg { dosing_weight_cap, .. } => dosing_weight_cap.map(|c| c.kg()), _ => None };
        let capped = |w: f64| cap.map_or(w, |c| w.min(c));
        prop_assert_eq!(d1, capped(w1));
        prop_assert_eq!(d2, capped(w2));
        prop_assert!((t1 - 1e6 * d1).abs() <= 1e-9 * t1);
        prop_assert!((t1 * d2 - t2 * d1).abs() <= 1e-9 * t1 * d2);
    }

    #[test]
    fn preparations_round_trip_through_json_bit_for_bit(
        protocol in protocol_strategy(),
        lot in lot_strategy(),
        weight in 30.0f64..250.0,
        arm in prop_oneof![Just("X"), Just("Y")],
    ) {
        if let Ok(bag) = prepare(&protocol, &order(weight, arm, "month-0", 5), &lot) {
            let json = serde_json::to_string(&bag).unwrap();
            let back: Preparation = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &bag);
            prop_assert_eq!(back.pump_rate_ml_per_h.to_bits(), bag.pump_rate_ml_per_h.to_bits());
        }
    }
}

/// Any f64 at all, with the troublemakers drawn often.
fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-0.0),
        Just(-1.0),
        Just(1e308),
        Just(f64::MIN_POSITIVE),
        Just(5e-324),
        any::<f64>(),
        -1e12f64..1e12,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn any_numbers_give_a_result_or_an_error_never_a_panic(
        weight in any_number(),
        conc in any_number(),
        viability in any_number(),
        container_ml in any_number(),
        dmso in proptest::option::of(any_number()),
        containers in any::<u32>(),
        minutes in any::<i32>(),
        arm in prop_oneof![Just("A"), Just("B"), Just("C"), Just(""), Just("Z")],
    ) {
        let protocol = Protocol::care_ssc();
        let outcome = (|| {
            let thawed = parse_time("t", "2026-11-25T09:00:00+00:00")?;
            let prepared = thawed.checked_add(jiff::SignedDuration::from_mins(i64::from(minutes))).ok();
            let order = Order::new("P", BodyWeight::from_kg(weight)?, arm, "month-0", thawed, prepared)?;
            let lot = Lot::new("L", CellConcentration::new("c", conc)?, viability,
                ExactVolume::from_ml("container_volume", container_ml)?, containers, dmso)?;
            prepare(&protocol, &order, &lot)
        })();
        if let Ok(bag) = outcome {
            // Anything accepted must be a real, finite bag.
            prop_assert!(bag.pump_rate_ml_per_h.is_finite() && bag.pump_rate_ml_per_h > 0.0);
            prop_assert!(weight.is_finite() && (30.0..=250.0).contains(&weight));
            if let Some(dose) = &bag.dose {
                prop_assert!(dose.deviation.is_finite());
            }
        }
    }

    #[test]
    fn any_text_to_the_parsers_is_a_value_or_an_error(text in ".{0,40}") {
        let _ = BodyWeight::parse(&text);
        let _ = ExactVolume::parse("v", &text);
        let _ = CellConcentration::parse("c", &text);
        let _ = CellsPerKg::parse("d", &text);
        let _ = doseprep::units::parse_duration("d", &text);
        let _ = parse_time("t", &text);
        let _ = Protocol::from_toml(&text);
        let _ = Protocol::from_json(&text);
    }

    #[test]
    fn quantity_like_text_parses_or_errs_consistently(
        number in any_number(),
        unit in prop_oneof![Just("kg"), Just("lb"), Just("lbs"), Just(""), Just("stone"), Just("g")],
        space in prop_oneof![Just(""), Just(" ")],
    ) {
        let text = format!("{number}{space}{unit}");
        match BodyWeight::parse(&text) {
            Ok(weight) => {
                prop_assert!(number.is_finite() && number > 0.0);
                prop_assert!(unit == "kg" || unit.starts_with("lb"));
                let kg = if unit == "kg" { number } else { number * 0.45359237 };
                prop_assert!((weight.kg() - kg).abs() <= 1e-12 * kg);
            }
            Err(_) => {
                // Refused only if the unit is not a weight unit or the value in kg is not finite and in (0, 1e15]
                // (5e-324 lb underflows to 0 kg and is refused).
                let kg = if unit.starts_with("lb") { number * 45_359_237.0 / 1e8 } else { number };
                let valid_number = number.is_finite() && number > 0.0 && kg > 0.0 && kg <= 1e15 && number <= 1e15;
                prop_assert!(!valid_number || !(unit == "kg" || unit.starts_with("lb")));
            }
        }
    }
}

#[test]
fn protocol_mutations_never_panic() {
    // Every single-line deletion of the shipped protocol file is an error
    // (or, for comment lines, the same protocol), never a panic.
    let lines: Vec<&str> = doseprep::protocol::CARE_SSC_TOML.lines().collect();
    for skip in 0..lines.len() {
        let text: Vec<&str> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != skip)
            .map(|(_, l)| *l)
            .collect();
        let result = Protocol::from_toml(&text.join("\n"));
        let line = lines[skip].trim();
        if line.is_empty() || line.starts_with('#') {
            assert_eq!(result, Ok(Protocol::care_ssc()), "line {skip}: {line}");
        }
    }
}

#[test]
fn prepare_many_returns_every_result_in_order() {
    let protocol = Protocol::care_ssc();
    let lot = Lot::new(
        "L",
        CellConcentration::new("c", 12.5e6).unwrap(),
        0.93,
        ExactVolume::from_microlitres(10_000),
        4,
        None,
    )
    .unwrap();
    let rows = [
        (72.4, "A", true),
        (352.0, "A", false), // implausible weight
        (72.4, "C", true),
        (72.4, "Z", false), // unknown arm
        (150.0, "B", true),
        (20.0, "C", false), // implausible even for a placebo
    ];
    let orders: Vec<Order> = rows
        .iter()
        .map(|(kg, arm, _)| order(*kg, arm, "month-0", 0))
        .collect();
    let results = doseprep::prepare_many(&protocol, &orders, &lot);
    assert_eq!(results.len(), rows.len());
    for ((kg, arm, ok), result) in rows.iter().zip(&results) {
        assert_eq!(result.is_ok(), *ok, "{kg} kg arm {arm}: {result:?}");
        if let Ok(bag) = result {
            assert_eq!(bag.body_weight_kg, *kg);
            assert_eq!(bag.arm, *arm);
        }
    }
    assert_eq!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .map(|e| e.kind().name())
            .collect::<Vec<_>>(),
        ["implausible_weight", "unknown_arm", "implausible_weight"]
    );
    // A broken protocol fails every order, each with the same error, none dropped.
    let mut broken = protocol.clone();
    broken.site.dose_tolerance = 2.0;
    let results = doseprep::prepare_many(&broken, &orders, &lot);
    assert_eq!(results.len(), rows.len());
    assert!(results
        .iter()
        .all(|r| matches!(r, Err(e) if e.kind().name() == "protocol")));
}
