//! Invariants of a preparation, under proptest. Strategies are bounded to real
//! ranges for the "accepted" properties, throw bad lots at the twin
//! properties, and throw NaN, infinities, zero, negatives and arbitrary text
//! at the "never panics" properties.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use doseprep::protocol::{Gravimetric, Syringe};
use doseprep::rules::{BandSpec, RuleName};
use doseprep::units::Tolerance;
use doseprep::{
    parse_time, prepare, text_label, BodyWeight, CellConcentration, CellCount, CellsPerKg, Content,
    Density, DmsoExposure, DoseBasis, ExactVolume, FinalVolumeMode, LabelFacts, Lot, LotSpec,
    Order, Preparation, Protocol, ProtocolSpec, Rounding,
};
use proptest::prelude::*;

fn ul(microlitres: u64) -> ExactVolume {
    ExactVolume::from_microlitres(microlitres)
}

/// The syringes of issue 11's example: 1, 3, 10, 30, 60 mL.
fn syringes() -> Vec<Syringe> {
    [
        (1_000, 10),
        (3_000, 100),
        (10_000, 200),
        (30_000, 1_000),
        (60_000, 1_000),
    ]
    .into_iter()
    .map(|(capacity, graduation)| Syringe {
        capacity: ul(capacity),
        graduation: ul(graduation),
    })
    .collect()
}

/// Which dose rule a generated protocol uses.
#[derive(Debug, Clone)]
enum RuleChoice {
    PerKg {
        cap: Option<f64>,
        max_cells: Option<f64>,
        range: bool,
    },
    Flat {
        cells: f64,
        spread: f64,
    },
    Bands {
        limit: f64,
    },
}

fn rule_strategy() -> impl Strategy<Value = RuleChoice> {
    prop_oneof![
        (
            proptest::option::of(40.0f64..200.0),
            proptest::option::of(2e7f64..2e8),
            any::<bool>()
        )
            .prop_map(|(cap, max_cells, range)| RuleChoice::PerKg {
                cap,
                max_cells,
                range
            }),
        (1e7f64..2e8, 0.05f64..0.4).prop_map(|(cells, spread)| RuleChoice::Flat { cells, spread }),
        (35.0f64..200.0).prop_map(|limit| RuleChoice::Bands { limit }),
    ]
}

/// CARE-SSc with the site settings and the dose rule varied, and two extra
/// arms `X` (always active) and `Y` (always placebo) so every order has a twin.
fn protocol_strategy() -> impl Strategy<Value = Protocol> {
    (
        prop_oneof![Just(FinalVolumeMode::Qs), Just(FinalVolumeMode::Additive)],
        prop_oneof![Just(DoseBasis::Viable), Just(DoseBasis::Total)],
        prop_oneof![Just(10u64), Just(100), Just(500), Just(1000)],
        0.01f64..0.5,
        rule_strategy(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![
            Just("America/Toronto"),
            Just("Europe/Paris"),
            Just("Asia/Kolkata")
        ],
    )
        .prop_map(
            |(mode, basis, increment, tolerance, rule, with_syringes, weigh, zone)| {
                let mut spec = ProtocolSpec::care_ssc();
                spec.site.final_volume_mode = mode;
                spec.site.dose_basis = basis;
                spec.site.draw_increment = ul(increment);
                spec.site.dose_tolerance = Tolerance::new("dose_tolerance", tolerance).unwrap();
                spec.site.time_zone = zone.to_owned();
                if mode == FinalVolumeMode::Additive {
                    spec.site.max_draw_volume = Some(ul(30_000));
                }
                if with_syringes {
                    spec.site.syringes = syringes();
                }
                if weigh {
                    spec.site.gravimetric = Some(Gravimetric {
                        diluent_density: Density::new("d", 1.005).unwrap(),
                        product_density: Density::new("d", 1.04).unwrap(),
                        tolerance: Tolerance::new("tolerance", 0.02).unwrap(),
                    });
                }
                let per_kg = |v: f64| Some(CellsPerKg::new("d", v).unwrap());
                let cells = |v: f64| Some(CellCount::new("c", v).unwrap());
                match rule {
                    RuleChoice::PerKg {
                        cap,
                        max_cells,
                        range,
                    } => {
                        spec.dose.dosing_weight_cap =
                            cap.map(|kg| BodyWeight::from_kg(kg).unwrap());
                        spec.dose.max_cells = max_cells.and_then(cells);
                        if range {
                            spec.dose.min_cells_per_kg = per_kg(0.5e6);
                            spec.dose.max_cells_per_kg = per_kg(1.5e6);
                        }
                    }
                    RuleChoice::Flat {
                        cells: target,
                        spread,
                    } => {
                        spec.dose.rule = RuleName::Flat;
                        spec.dose.cells_per_kg = None;
                        spec.dose.cells = cells(target);
                        spec.dose.min_cells = cells(target * (1.0 - spread));
                        spec.dose.max_cells = cells(target * (1.0 + spread));
                    }
                    RuleChoice::Bands { limit } => {
                        spec.dose.rule = RuleName::WeightBands;
                        spec.dose.cells_per_kg = None;
                        let band = |max_weight: Option<f64>, rule: RuleName| BandSpec {
                            max_weight: max_weight.map(|kg| BodyWeight::from_kg(kg).unwrap()),
                            rule: Some(rule),
                            cells_per_kg: None,
                            min_cells_per_kg: None,
                            max_cells_per_kg: None,
                            cells: None,
                            min_cells: None,
                            max_cells: None,
                        };
                        let mut light = band(Some(limit), RuleName::PerKg);
                        light.cells_per_kg = per_kg(1.5e6);
                        light.min_cells_per_kg = per_kg(0.2e6);
                        light.max_cells_per_kg = per_kg(5e6);
                        let mut heavy = band(None, RuleName::Flat);
                        heavy.cells = cells(1e8);
                        heavy.min_cells = cells(1e7);
                        heavy.max_cells = cells(2.5e8);
                        spec.dose.bands = Some(vec![light, heavy]);
                    }
                }
                let all = |content| spec.visits.iter().map(|v| (v.clone(), content)).collect();
                let x = all(Content::Active);
                let y = all(Content::Placebo);
                spec.arms.insert("X".into(), x);
                spec.arms.insert("Y".into(), y);
                Protocol::new(spec).unwrap()
            },
        )
}

fn lot_strategy() -> impl Strategy<Value = Lot> {
    (
        1e5f64..5e8,
        0.7f64..=1.0,
        1u64..=200,
        1u32..=100,
        0.0f64..0.15,
        0.5f64..=1.0,
    )
        .prop_map(
            |(conc, viability, container_tenths, containers, dmso, yield_share)| {
                let fill = container_tenths * 100;
                let extractable = ((fill as f64 * yield_share) as u64).max(1);
                Lot::new(LotSpec {
                    lot_id: "LOT-1".into(),
                    viable_cells_per_ml: CellConcentration::new("c", conc).unwrap(),
                    viability,
                    container_volume: ul(fill),
                    extractable_volume: (yield_share < 1.0).then(|| ul(extractable)),
                    containers,
                    dmso_fraction: Some(dmso),
                    expires_at: None,
                })
                .unwrap()
            },
        )
}

/// Lots that are often bad: under the floor, too dilute, short of
/// containers, without a DMSO fraction, too concentrated for the syringes.
fn bad_lot_strategy() -> impl Strategy<Value = Lot> {
    (
        prop_oneof![1e4f64..1e6, 1e5f64..5e8, 1e9f64..5e10],
        prop_oneof![0.3f64..0.7, 0.7f64..=1.0],
        1u64..=200,
        1u32..=4,
        proptest::option::of(0.0f64..0.6),
    )
        .prop_map(|(conc, viability, container_tenths, containers, dmso)| {
            Lot::new(LotSpec {
                lot_id: "LOT-BAD".into(),
                viable_cells_per_ml: CellConcentration::new("c", conc).unwrap(),
                viability,
                container_volume: ul(container_tenths * 100),
                extractable_volume: None,
                containers,
                dmso_fraction: dmso,
                expires_at: None,
            })
            .unwrap()
        })
}

fn order(weight_kg: f64, arm: &str, visit: &str, minutes_after_thaw: i64) -> Order {
    let thawed = parse_time("t", "2026-11-25T09:00:00-05:00").unwrap();
    let prepared = thawed
        .checked_add(jiff::SignedDuration::from_mins(minutes_after_thaw))
        .unwrap();
    Order::new(
        "P-1",
        BodyWeight::from_kg(weight_kg).unwrap(),
        arm,
        visit,
        thawed,
    )
    .unwrap()
    .prepared(prepared)
}

fn visit_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("month-0"), Just("month-3")]
}

fn yields(lot: &Lot) -> u64 {
    lot.yield_per_container().volume().microlitres()
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
        let site = protocol.site();
        let draw = dose.draw_volume.microlitres();
        // Volumes add up exactly.
        let nominal = protocol.spec().diluent.volume;
        match site.final_volume_mode {
            FinalVolumeMode::Qs => {
                prop_assert_eq!(draw + bag.diluent_volume.microlitres(), bag.final_volume.microlitres());
                prop_assert_eq!(bag.final_volume, nominal);
            }
            FinalVolumeMode::Additive => {
                prop_assert_eq!(bag.diluent_volume, nominal);
                prop_assert_eq!(bag.final_volume.microlitres(), nominal.microlitres() + draw);
            }
        }
        // The syringe is the smallest that holds the unrounded draw, and the
        // draw is a whole number of its graduations.
        let graduation = dose.draw_graduation.microlitres();
        prop_assert_eq!(draw % graduation, 0);
        let unrounded_ul = dose.unrounded_draw_volume.ml() * 1000.0;
        match dose.syringe_capacity {
            Some(capacity) => {
                prop_assert!(unrounded_ul <= capacity.microlitres() as f64 * (1.0 + 1e-12));
                prop_assert!(draw <= capacity.microlitres());
                let smaller = site.syringes.iter().filter(|s| s.capacity < capacity);
                for s in smaller {
                    prop_assert!(unrounded_ul > s.capacity.microlitres() as f64 * (1.0 - 1e-12));
                }
                prop_assert_eq!(site.syringes.iter().find(|s| s.capacity == capacity).map(|s| s.graduation), Some(dose.draw_graduation));
            }
            None => prop_assert_eq!(dose.draw_graduation, site.draw_increment),
        }
        // Nearest graduation, halves up; or below it under a hard maximum.
        match dose.rounding {
            Rounding::HalfUp => prop_assert!((draw as f64 - unrounded_ul).abs() <= graduation as f64 / 2.0 * (1.0 + 1e-9)),
            Rounding::DownForMaximum => {
                prop_assert!(draw as f64 <= unrounded_ul * (1.0 + 1e-12));
                prop_assert!(unrounded_ul - draw as f64 <= graduation as f64 * (1.0 + 1e-9));
            }
        }
        // Delivered cells within the acceptable range, never above the top.
        prop_assert!(dose.delivered_cells <= dose.acceptable_max_cells);
        prop_assert!(dose.delivered_cells >= dose.acceptable_min_cells);
        prop_assert!(dose.target_cells <= dose.acceptable_max_cells);
        if let Some(max) = protocol.spec().dose.max_cells {
            prop_assert!(dose.target_cells <= max);
            prop_assert!(dose.delivered_cells <= max);
        }
        // Fewest containers whose yield holds the draw.
        let per_container = yields(&lot);
        prop_assert!(u64::from(dose.containers_to_thaw) * per_container >= draw);
        prop_assert!(u64::from(dose.containers_to_thaw - 1) * per_container < draw);
        prop_assert!(dose.containers_to_thaw <= lot.containers());
        // Pump rate runs the final volume in the infusion duration.
        let hours = site.infusion_duration.as_secs_f64() / 3600.0;
        prop_assert!((bag.pump_rate.ml_per_hour() * hours - bag.final_volume.ml()).abs() <= 1e-9 * bag.final_volume.ml());
        // The expected mass, where bags are weighed, is the volumes times their densities.
        if let Some(g) = &site.gravimetric {
            let expected = g.product_density.g_per_ml() * dose.draw_volume.ml() + g.diluent_density.g_per_ml() * bag.diluent_volume.ml();
            prop_assert!((bag.expected_net_mass.unwrap().grams() - expected).abs() <= 1e-9 * expected);
        }
    }

    #[test]
    fn a_placebo_and_its_twin_fail_alike_or_match(
        protocol in protocol_strategy(),
        lot in prop_oneof![lot_strategy(), bad_lot_strategy()],
        weight in 30.0f64..250.0,
        visit in visit_strategy(),
        minutes in 0i64..=200,
    ) {
        let active = prepare(&protocol, &order(weight, "X", visit, minutes), &lot);
        let placebo = prepare(&protocol, &order(weight, "Y", visit, minutes), &lot);
        match (&active, &placebo) {
            (Ok(active), Ok(placebo)) => {
                prop_assert_eq!(placebo.content, Content::Placebo);
                prop_assert_eq!(placebo.final_volume, active.final_volume);
                prop_assert_eq!(placebo.diluent_volume, placebo.final_volume);
                prop_assert_eq!(placebo.infusion_duration, active.infusion_duration);
                prop_assert_eq!(placebo.pump_rate.ml_per_hour().to_bits(), active.pump_rate.ml_per_hour().to_bits());
                prop_assert_eq!(placebo.start_by(), active.start_by());
                prop_assert_eq!(placebo.infuse_by(), active.infuse_by());
                prop_assert!(placebo.dose.is_none());
                prop_assert_eq!(text_label(&LabelFacts::new(&protocol, placebo)), text_label(&LabelFacts::new(&protocol, active)));
            }
            (Err(a), Err(p)) => {
                prop_assert_eq!(a.kind(), p.kind(), "active: {} / placebo: {}", a, p);
                prop_assert_eq!(a.parts(), p.parts());
            }
            (a, p) => prop_assert!(false, "active {:?} but placebo {:?}", a.as_ref().map(|_| ()), p.as_ref().map(|_| ())),
        }
    }

    #[test]
    fn a_placebo_made_in_a_session_carries_the_session_times(
        protocol in protocol_strategy(),
        lot in lot_strategy(),
        weight in 30.0f64..250.0,
        active_minutes in 0i64..=150,
        placebo_minutes in 0i64..=150,
    ) {
        // Same thaw (the session's), different preparation times: the labels agree.
        let active = prepare(&protocol, &order(weight, "X", "month-0", active_minutes), &lot);
        let placebo = prepare(&protocol, &order(weight, "Y", "month-0", placebo_minutes), &lot);
        if let (Ok(active), Ok(placebo)) = (active, placebo) {
            prop_assert_eq!(text_label(&LabelFacts::new(&protocol, &active)), text_label(&LabelFacts::new(&protocol, &placebo)));
        }
    }

    #[test]
    fn the_band_chosen_is_the_first_whose_limit_holds(
        limit in 35.0f64..200.0,
        weight in 30.0f64..250.0,
    ) {
        let protocol = protocol_with_bands(limit);
        let target = protocol.rule().target(BodyWeight::from_kg(weight).unwrap());
        let text = target.determined_by.to_string();
        if weight <= limit {
            prop_assert!(text.starts_with("band 1"), "{}", text);
            prop_assert_eq!(target.target.cells(), 1.5e6 * weight);
        } else {
            prop_assert!(text.starts_with("band 2"), "{}", text);
            prop_assert_eq!(target.target.cells(), 1e8);
        }
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
            prop_assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
    }
}

fn protocol_with_bands(limit: f64) -> Protocol {
    let text = format!(
        "{}\n[[dose.bands]]\nmax_weight = \"{limit} kg\"\nrule = \"per-kg\"\ncells_per_kg = \"1.5 million cells/kg\"\n[[dose.bands]]\nrule = \"flat\"\ncells = \"100 million cells\"\n",
        doseprep::protocol::CARE_SSC_TOML
            .replace("rule = \"per-kg\"\ncells_per_kg = \"1 million cells/kg\"     # trial fact", "rule = \"weight-bands\"")
    );
    // Tables after [site] would belong to it: put the bands at the end as
    // dotted tables, which TOML allows anywhere.
    Protocol::from_toml(&text).unwrap()
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
        containers in any_number(),
        minutes in any::<i32>(),
        arm in prop_oneof![Just("A"), Just("B"), Just("C"), Just(""), Just("Z")],
    ) {
        let protocol = Protocol::care_ssc();
        let outcome = (|| {
            let thawed = parse_time("t", "2026-11-25T09:00:00-05:00")?;
            let mut order = Order::new("P", BodyWeight::from_kg(weight)?, arm, "month-0", thawed.clone())?;
            if let Ok(prepared) = thawed.checked_add(jiff::SignedDuration::from_mins(i64::from(minutes))) {
                order = order.prepared(prepared);
            }
            let lot = Lot::new(LotSpec {
                lot_id: "L".into(),
                viable_cells_per_ml: CellConcentration::new("c", conc)?,
                viability,
                container_volume: ExactVolume::from_ml("container_volume", container_ml)?,
                extractable_volume: None,
                containers: Lot::container_count(containers)?,
                dmso_fraction: dmso,
                expires_at: None,
            })?;
            prepare(&protocol, &order, &lot)
        })();
        if let Ok(bag) = outcome {
            // Anything accepted must be a real, finite bag.
            prop_assert!(bag.pump_rate.ml_per_hour().is_finite() && bag.pump_rate.ml_per_hour() > 0.0);
            prop_assert!(weight.is_finite() && (30.0..=250.0).contains(&weight));
            if let Some(dose) = &bag.dose {
                prop_assert!(dose.deviation.value().is_finite());
            }
        }
    }

    #[test]
    fn any_text_to_the_parsers_is_a_value_or_an_error(text in ".{0,40}") {
        let _ = BodyWeight::parse(&text);
        let _ = ExactVolume::parse("v", &text);
        let _ = CellConcentration::parse("c", &text);
        let _ = CellsPerKg::parse("d", &text);
        let _ = CellCount::parse("d", &text);
        let _ = DmsoExposure::parse("d", &text);
        let _ = Density::parse("d", &text);
        let _ = doseprep::units::parse_duration("d", &text);
        let _ = parse_time("t", &text);
        let _ = doseprep::BagId::parse(&text);
        let _ = Protocol::from_toml(&text);
        let _ = Protocol::from_json(&text);
        let _ = Lot::from_toml(&text);
        let _ = doseprep::Randomization::from_csv_text(&text);
        let _ = doseprep::DayOrder::from_csv_text(&text);
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

    #[test]
    fn durations_in_decimal_hours_are_exact(tenths in 1u32..=300) {
        // n tenths of an hour is n × 360,000 ms exactly, however f64 would round n/10.
        let text = format!("{}.{} h", tenths / 10, tenths % 10);
        let parsed = doseprep::units::parse_duration("d", &text).unwrap();
        prop_assert_eq!(parsed.as_millis(), i128::from(tenths) * 360_000);
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
    let lot = Lot::new(LotSpec {
        lot_id: "L".into(),
        viable_cells_per_ml: CellConcentration::new("c", 12.5e6).unwrap(),
        viability: 0.93,
        container_volume: ul(10_000),
        extractable_volume: None,
        containers: 4,
        dmso_fraction: Some(0.0),
        expires_at: None,
    })
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
            assert_eq!(bag.body_weight.kg(), *kg);
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
    // A reused buffer gives the same results.
    let mut buffer = vec![Err(doseprep::DoseError::InvalidRecord {
        reason: "stale".into(),
    })];
    doseprep::prepare_many_into(&protocol, &orders, &lot, &mut buffer);
    assert_eq!(buffer, results);
}
