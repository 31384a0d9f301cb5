//! The preparation day: hand-worked days from `tests/vectors/days.json`
//! (shared with the Python suite), and properties over random days.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{lot, number, protocol, vectors_dir};
use doseprep::{
    parse_time, plan_day, text_label, BodyWeight, CellConcentration, Content, DayOrder, DayPlan,
    DayRow, ExactVolume, LabelFacts, Lot, LotSpec, Opening, Protocol, Randomization,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A reproducible stand-in for the operating system's random source.
fn counter(seed: u64) -> impl FnMut() -> u64 {
    let mut state = seed;
    move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state
    }
}

fn day_orders(orders: &Value) -> Vec<DayOrder> {
    orders
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let weight = o["weight"].as_str().unwrap();
            DayOrder::given(
                o["participant"].as_str().unwrap(),
                o["visit"].as_str().unwrap(),
                doseprep::units::GivenWeight::typed("weight", weight).unwrap(),
                parse_time("infusion_at", o["infusion_at"].as_str().unwrap()).unwrap(),
            )
            .unwrap()
        })
        .collect()
}

fn run(case: &Value) -> (Protocol, DayPlan) {
    run_with(case, protocol(case["protocol"].as_str().unwrap()))
}

/// A day vector planned under another protocol (a site's languages).
fn run_with(case: &Value, protocol: Protocol) -> (Protocol, DayPlan) {
    let randomization =
        Randomization::from_csv_text(case["randomization"].as_str().unwrap()).unwrap();
    let lots: Vec<Lot> = case["lots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| lot(l).unwrap())
        .collect();
    let plan = plan_day(
        &protocol,
        &DayRow::numbered(day_orders(&case["orders"])),
        &lots,
        &randomization,
        &mut counter(7),
    )
    .unwrap();
    (protocol, plan)
}

#[test]
fn every_day_vector() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("days.json")).unwrap())
            .unwrap();
    assert!(cases.len() >= 2);
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (_, plan) = run(case);
        let expected = &case["expected"];
        let sessions: Vec<String> = plan.sessions.iter().map(|s| s.rfc9557()).collect();
        assert_eq!(json!(sessions), expected["sessions"], "{name}");
        let thaws: Vec<Value> = plan
            .thaws
            .iter()
            .map(|t| json!({"thawed_at": t.thawed_at.rfc9557(), "lot_id": t.lot_id.as_str(), "containers": t.containers}))
            .collect();
        assert_eq!(json!(thaws), expected["thaws"], "{name}");
        assert_eq!(json!(plan.remaining), expected["remaining"], "{name}");
        assert_eq!(
            json!(plan.held_for_blinding),
            expected["held_for_blinding"],
            "{name}"
        );
        let bags = expected["bags"].as_array().unwrap();
        assert_eq!(plan.bags.len(), bags.len(), "{name}");
        for (index, (got, want)) in plan.bags.iter().zip(bags).enumerate() {
            match (got, want.get("error")) {
                (Err(error), Some(kind)) => assert_eq!(
                    error.kind().name(),
                    kind.as_str().unwrap(),
                    "{name} #{index}"
                ),
                (Ok(bag), None) => {
                    let prep = &bag.preparation;
                    assert_eq!(
                        prep.content.as_str(),
                        want["content"].as_str().unwrap(),
                        "{name} #{index}"
                    );
                    assert_eq!(
                        bag.session as u64,
                        want["session"].as_u64().unwrap(),
                        "{name} #{index}"
                    );
                    assert_eq!(
                        prep.draw_volume().map(|v| v.ml()),
                        want["draw_volume_ml"].as_f64(),
                        "{name} #{index}"
                    );
                    let draws: Vec<Value> = prep
                        .draws
                        .iter()
                        .map(|d| json!([d.lot_id.as_str(), d.container, d.volume.ml()]))
                        .collect();
                    assert_eq!(json!(draws), want["draws"], "{name} #{index}");
                    for (field, time) in [
                        ("thawed_at", prep.thawed_at()),
                        ("start_by", prep.start_by()),
                        ("infuse_by", prep.infuse_by()),
                    ] {
                        if let Some(value) = want.get(field) {
                            assert_eq!(json!(time.rfc9557()), *value, "{name} #{index} {field}");
                        }
                    }
                    assert!(prep.bag_id.is_some());
                }
                (got, _) => panic!("{name} #{index}: {got:?} against {want}"),
            }
        }
    }
}

#[test]
fn four_draws_of_a_session_share_three_containers() {
    // Four 5.8 mL draws at once take three 10 mL containers (23.2 mL), not four.
    let case = json!({
        "protocol": "care-ssc",
        "randomization": "participant,arm\nP1,A\nP2,A\nP3,A\nP4,A\n",
        "lots": [{"lot_id": "UC-0042", "viable_cells_per_ml": 12.5e6, "viability": 0.93, "container_volume_ml": 10, "containers": 8, "dmso_fraction": 0.05}],
        "orders": (1..=4).map(|i| json!({"participant": format!("P{i}"), "visit": "month-0", "weight": "72.4 kg", "infusion_at": "2026-11-25T09:00:00-05:00"})).collect::<Vec<_>>(),
    });
    let (_, plan) = run(&case);
    assert_eq!(plan.thaws.len(), 1);
    assert_eq!(plan.thaws[0].containers, [1, 2, 3]);
    assert_eq!(plan.remaining["UC-0042"], 5);
    let summary = plan.summary();
    for secret in ["arm", "active", "placebo", "UC-0042", "5.8 mL"] {
        assert!(
            !summary.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} in\n{summary}"
        );
    }
}

#[test]
fn the_list_decides_the_arm() {
    let protocol = Protocol::care_ssc();
    let lot = lot(&json!({"lot_id": "L", "viable_cells_per_ml": 12.5e6, "viability": 0.93, "container_volume_ml": 10, "containers": 8, "dmso_fraction": 0.0})).unwrap();
    let list = Randomization::from_csv_text("\u{feff}participant,arm\r\nP1,A\r\nP2,C\r\n").unwrap();
    let at = parse_time("t", "2026-11-25T09:00:00-05:00").unwrap();
    let order = |p: &str| {
        DayOrder::new(p, "month-0", BodyWeight::from_kg(70.0).unwrap(), at.clone()).unwrap()
    };
    let orders = vec![
        order("P1"),
        order("P2").stated_arm("A").unwrap(),
        order("P9"),
    ];
    let plan = plan_day(
        &protocol,
        &DayRow::numbered(orders.clone()),
        std::slice::from_ref(&lot),
        &list,
        &mut counter(1),
    )
    .unwrap();
    assert!(plan.bags[0].is_ok());
    let mismatch = plan.bags[1].as_ref().unwrap_err().to_string();
    assert!(
        mismatch.contains("arm A for P2 but the randomization list says arm C"),
        "{mismatch}"
    );
    let unknown = plan.bags[2].as_ref().unwrap_err();
    assert_eq!(unknown.kind().name(), "randomization");
    assert!(unknown
        .to_string()
        .contains("P9 is not in the randomization list"));
    // A list with a bad row is refused, naming the row.
    for (text, fragment) in [
        (
            "participant,arm\nP1,A\nP1,B\n",
            "row 3: participant P1 is listed again (first on row 2)",
        ),
        (
            "participant,arm\nP1,\n",
            "row 2: the arm cell of P1 is empty",
        ),
        ("participant,arm,stratum\nP1,A,x\n", "column \"stratum\""),
    ] {
        let error = Randomization::from_csv_text(text).unwrap_err().to_string();
        assert!(error.contains(fragment), "{error}");
    }
    let bad_arm = Randomization::from_csv_text("participant,arm\nP1,A\nP2,Z\n").unwrap();
    let error = bad_arm.check_against(&protocol).unwrap_err().to_string();
    assert!(
        error.contains("row 3: arm \"Z\" of P2 is not in protocol CARE-SSc"),
        "{error}"
    );
    assert!(plan_day(
        &protocol,
        &DayRow::numbered(orders.clone()),
        std::slice::from_ref(&lot),
        &bad_arm,
        &mut counter(1)
    )
    .is_err());
}

#[test]
fn a_lot_numbered_by_its_stock_plans_with_those_numbers() {
    // Day 2 of a lot: #1 and #2 thawed yesterday, #5 destroyed; on hand
    // #3, #4, #6. Two 6.4 mL draws (80 kg) take two 10 mL containers.
    let protocol = Protocol::care_ssc();
    let lot = lot(&json!({"lot_id": "L", "viable_cells_per_ml": 12.5e6, "viability": 0.93, "container_volume_ml": 10, "containers": 3, "dmso_fraction": 0.0}))
        .unwrap()
        .with_container_numbers(vec![6, 3, 4])
        .unwrap();
    assert_eq!(lot.container_numbers(), Some(&[3, 4, 6][..]));
    let list = Randomization::from_csv_text(
        "participant,arm
P1,A
P2,A
",
    )
    .unwrap();
    let at = parse_time("t", "2026-11-26T09:00:00-05:00").unwrap();
    let orders: Vec<DayOrder> = ["P1", "P2"]
        .iter()
        .map(|p| {
            DayOrder::new(p, "month-0", BodyWeight::from_kg(80.0).unwrap(), at.clone()).unwrap()
        })
        .collect();
    let plan = plan_day(
        &protocol,
        &DayRow::numbered(orders.clone()),
        std::slice::from_ref(&lot),
        &list,
        &mut counter(2),
    )
    .unwrap();
    assert_eq!(plan.thaws[0].containers, vec![3, 4]);
    let first = plan.bags[0].as_ref().unwrap();
    let second = plan.bags[1].as_ref().unwrap();
    let draws = |bag: &doseprep::PlannedBag| {
        bag.preparation
            .draws
            .iter()
            .map(|d| (d.container, d.volume.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(draws(first), vec![(3, "6.4 mL".to_owned())]);
    assert_eq!(
        draws(second),
        vec![(3, "3.6 mL".to_owned()), (4, "2.8 mL".to_owned())]
    );
    assert!(
        plan.pick_list().contains("thaw lot L  containers 3, 4"),
        "{}",
        plan.pick_list()
    );
    let record = doseprep::PreparationRecord::new(
        &protocol,
        &second.order,
        &second.lot,
        second.preparation.clone(),
    )
    .unwrap();
    assert!(record.verify().unwrap().ok());
    let back = doseprep::PreparationRecord::from_json(&record.to_json().unwrap()).unwrap();
    assert_eq!(back.lot.container_numbers(), Some(&[3, 4, 6][..]));
    // Numbers that are not a count of distinct containers are refused.
    assert!(lot.clone().with_container_numbers(vec![]).is_err());
    assert!(lot.clone().with_container_numbers(vec![2, 2]).is_err());
    assert!(lot.with_container_numbers(vec![0, 1]).is_err());
}

/// A random day: 1-40 orders over a day, 1-3 lots with random stock.
#[derive(Debug, Clone)]
struct Day {
    orders: Vec<(f64, i64, usize)>, // weight, minutes after 07:00, arm index
    lots: Vec<(f64, u64, Option<u64>, u32)>, // concentration, fill µL, extractable µL, containers
}

fn day_strategy() -> impl Strategy<Value = Day> {
    (
        proptest::collection::vec((30.0f64..250.0, 0i64..=720, 0usize..3), 1..=40),
        proptest::collection::vec(
            (
                5e6f64..6e7,
                2_000u64..=20_000,
                proptest::option::of(50u64..=100),
                1u32..=12,
            ),
            1..=3,
        ),
    )
        .prop_map(|(orders, lots)| Day {
            orders,
            lots: lots
                .into_iter()
                .map(|(conc, fill, share, n)| {
                    (conc, fill / 100 * 100, share.map(|s| fill / 100 * s), n)
                })
                .collect(),
        })
}

fn build(day: &Day, arms: [&str; 3]) -> (Vec<DayOrder>, Vec<Lot>, Randomization) {
    let start = parse_time("t", "2026-11-25T07:00:00-05:00").unwrap();
    let mut list = String::from("participant,arm\n");
    let orders = day
        .orders
        .iter()
        .enumerate()
        .map(|(i, (weight, minutes, arm))| {
            list.push_str(&format!("P{i},{}\n", arms[*arm]));
            DayOrder::new(
                &format!("P{i}"),
                "month-0",
                BodyWeight::from_kg(*weight).unwrap(),
                start
                    .checked_add(jiff::SignedDuration::from_mins(*minutes))
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    let lots = day
        .lots
        .iter()
        .enumerate()
        .map(|(i, (conc, fill, extractable, n))| {
            Lot::new(LotSpec {
                lot_id: format!("LOT-{i}"),
                viable_cells_per_ml: CellConcentration::new("c", *conc).unwrap(),
                viability: 0.9,
                container_volume: ExactVolume::from_microlitres(*fill),
                extractable_volume: extractable
                    .filter(|e| *e > 0)
                    .map(ExactVolume::from_microlitres),
                containers: *n,
                dmso_fraction: Some(0.05),
                expires_at: None,
            })
            .unwrap()
        })
        .collect();
    (orders, lots, Randomization::from_csv_text(&list).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_planned_day_keeps_every_invariant(day in day_strategy(), seed in any::<u64>()) {
        let protocol = Protocol::care_ssc();
        let (orders, lots, list) = build(&day, ["A", "B", "C"]);
        let plan = plan_day(&protocol, &DayRow::numbered(orders.clone()), &lots, &list, &mut counter(seed)).unwrap();
        // Every order has exactly one entry, in order.
        prop_assert_eq!(plan.bags.len(), orders.len());
        let site = protocol.site();
        let mut container_session: BTreeMap<(String, u32), usize> = BTreeMap::new();
        let mut drawn: BTreeMap<(String, u32), u64> = BTreeMap::new();
        let mut ids = BTreeSet::new();
        let mut session_times: BTreeMap<usize, (String, String)> = BTreeMap::new();
        let mut alone = 0u64;
        for (bag, order) in plan.bags.iter().filter_map(|b| b.as_ref().ok()).map(|b| (b, b)) {
            let prep = &bag.preparation;
            prop_assert_eq!(&prep.participant, &order.order.participant());
            prop_assert!(ids.insert(prep.bag_id.unwrap()), "bag ids repeat");
            // The bag's infusion ends within the window from its session's thaw.
            let thaw = plan.sessions[bag.session].instant();
            prop_assert_eq!(prep.thawed_at().instant(), thaw);
            let end = prep.infusion_at().unwrap().instant().checked_add(site.infusion_duration).unwrap();
            prop_assert!(end <= thaw.checked_add(site.max_thaw_to_end_of_infusion).unwrap());
            // Active and placebo bags of one session carry the same label times.
            let times = (prep.start_by().rfc9557(), prep.infuse_by().rfc9557());
            let first = session_times.entry(bag.session).or_insert_with(|| times.clone());
            prop_assert_eq!(&*first, &times);
            let total: u64 = prep.draws.iter().map(|d| d.volume.microlitres()).sum();
            match prep.content {
                Content::Active => {
                    prop_assert_eq!(total, prep.draw_volume().unwrap().microlitres());
                    alone += u64::from(prep.containers_to_thaw().unwrap());
                }
                Content::Placebo => prop_assert!(prep.draws.is_empty()),
            }
            let lot_ids: BTreeSet<&str> = prep.draws.iter().map(|d| d.lot_id.as_str()).collect();
            prop_assert!(lot_ids.len() <= 1, "a bag draws from two lots");
            for draw in &prep.draws {
                let key = (draw.lot_id.to_string(), draw.container);
                // A container belongs to one session only.
                let session = *container_session.entry(key.clone()).or_insert(bag.session);
                prop_assert_eq!(session, bag.session);
                *drawn.entry(key).or_insert(0) += draw.volume.microlitres();
            }
        }
        // No container gives more than it yields; per lot, used + left = on hand.
        let mut used_per_lot: BTreeMap<String, u32> = BTreeMap::new();
        for ((lot_id, container), volume) in &drawn {
            let lot = lots.iter().find(|l| l.lot_id() == lot_id).unwrap();
            prop_assert!(*volume <= lot.yield_per_container().volume().microlitres());
            prop_assert!(*container >= 1 && *container <= lot.containers());
            *used_per_lot.entry(lot_id.clone()).or_insert(0) += 1;
        }
        for lot in &lots {
            let used = used_per_lot.get(lot.lot_id()).copied().unwrap_or(0);
            prop_assert_eq!(used + plan.remaining[lot.lot_id()], lot.containers());
            let thawed: u32 = plan.thaws.iter().filter(|t| t.lot_id == lot.lot_id()).map(|t| t.containers.len() as u32).sum();
            prop_assert_eq!(thawed, used);
        }
        // Sharing never uses more containers than preparing each bag alone would.
        prop_assert!(u64::from(used_per_lot.values().sum::<u32>()) <= alone);

        // The worksheets say to thaw exactly the pick list's containers, each
        // once and at its session's time; every other draw is from a
        // container thawed for an earlier bag of the same session.
        let mut on_worksheets: Vec<(String, String, u32)> = Vec::new();
        let mut opened_before: BTreeSet<(String, u32)> = BTreeSet::new();
        let mut by_session: Vec<&doseprep::PlannedBag> = plan.bags.iter().filter_map(|b| b.as_ref().ok()).collect();
        by_session.sort_by_key(|b| (b.session, b.preparation.infusion_at().unwrap().instant()));
        for bag in by_session {
            let prep = &bag.preparation;
            let sheet = doseprep::worksheet(&bag.record().unwrap());
            for draw in &prep.draws {
                let key = (draw.lot_id.to_string(), draw.container);
                let line = format!("   Container {} of lot {}: draw ", draw.container, draw.lot_id);
                prop_assert!(sheet.contains(&line), "{}", sheet);
                match draw.opening {
                    Opening::Thaw => {
                        prop_assert!(opened_before.insert(key.clone()), "thawed twice: {:?}", key);
                        prop_assert!(sheet.contains(&format!("{line}{} (thaw it now (pick list))", doseprep::ExactVolume::to_string(&draw.volume))), "{}", sheet);
                        on_worksheets.push((prep.thawed_at().wall_clock(), key.0, key.1));
                    }
                    Opening::AlreadyThawed => prop_assert!(opened_before.contains(&key), "taken before it was thawed: {:?}", key),
                }
            }
        }
        let mut on_pick_list: Vec<(String, String, u32)> = plan.thaws.iter().flat_map(|t| t.containers.iter().map(move |c| (t.thawed_at.wall_clock(), t.lot_id.to_string(), *c))).collect();
        on_worksheets.sort();
        on_pick_list.sort();
        prop_assert_eq!(on_worksheets, on_pick_list);
    }

    #[test]
    fn which_orders_fail_does_not_depend_on_the_arms(day in day_strategy()) {
        // The same day with every arm moved along: placebos hold their twins'
        // stock, so the same orders fail, with the same kinds.
        let protocol = Protocol::care_ssc();
        let outcome = |arms| {
            let (orders, lots, list) = build(&day, arms);
            let plan = plan_day(&protocol, &DayRow::numbered(orders.clone()), &lots, &list, &mut counter(3)).unwrap();
            let kinds: Vec<Option<&'static str>> = plan.bags.iter().map(|b| b.as_ref().err().map(|e| e.kind().name())).collect();
            let labels: Vec<Option<String>> = plan.bags.iter().map(|b| b.as_ref().ok().map(|b| {
                let mut prep = b.preparation.clone();
                prep.bag_id = None;
                text_label(&LabelFacts::new(&protocol, &prep))
            })).collect();
            // The ward's summary in a notebook's table, bag ids aside.
            let table: Vec<Vec<String>> = plan.summary_table().into_iter().map(|row| {
                row.into_iter().enumerate().map(|(column, cell)| if column == 4 { String::new() } else { cell }).collect()
            }).collect();
            (kinds, labels, plan.sessions.iter().map(|s| s.rfc9557()).collect::<Vec<_>>(), table)
        };
        prop_assert_eq!(outcome(["A", "B", "C"]), outcome(["C", "A", "B"]));
    }
}

#[test]
fn the_summary_and_pick_list_read_as_expected() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("days.json")).unwrap())
            .unwrap();
    let (_, plan) = run(&cases[0]);
    let pick = plan.pick_list();
    assert!(
        pick.contains("2026-11-25 08:30 EST  thaw lot UC-0042  containers 1, 2\n"),
        "{pick}"
    );
    assert!(
        pick.contains("2026-11-25 11:00 EST  thaw lot UC-0042  container 3\n"),
        "{pick}"
    );
    assert!(
        pick.contains(
            "Lot UC-0042: 9 containers left in the freezer (1 counted against placebo bags"
        ),
        "{pick}"
    );
    let summary = plan.summary();
    assert!(
        summary.starts_with("CARE-SSc day plan: 6 order rows, 6 planned, 0 not planned\n"),
        "{summary}"
    );
    assert!(
        summary.contains("Session 1: thaw 2026-11-25 08:30 EST, 3 bags\n"),
        "{summary}"
    );
    let (_, short) = run(&cases[1]);
    let summary = short.summary();
    assert!(
        summary.contains("10:00 EST  row 5  P5 month-0  NOT PLANNED: not enough containers"),
        "{summary}"
    );
    assert!(
        summary.contains("10:15 EST  row 6  P6 month-0  NOT PLANNED: not enough containers"),
        "{summary}"
    );
    assert!(!summary.contains("placebo"), "{summary}");
    let _ = number(&json!(1));
}

#[test]
fn a_french_site_gets_its_pick_list_and_summary_in_french() {
    let cases: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(vectors_dir().join("days.json")).unwrap())
            .unwrap();
    assert_eq!(cases[0]["protocol"], "care-ssc");
    let mut spec = doseprep::ProtocolSpec::care_ssc();
    spec.label.as_mut().unwrap().languages = vec!["fr".to_owned(), "en".to_owned()];
    let (_, plan) = run_with(&cases[0], Protocol::new(spec).unwrap());
    // The same day as the English test above, line for line, in French.
    let pick = plan.pick_list();
    assert!(
        pick.starts_with("LISTE DE PRÉLÈVEMENT : CARE-SSc ("),
        "{pick}"
    );
    assert!(
        pick.contains("2026-11-25 08:30 EST  décongeler lot UC-0042  contenants 1, 2\n"),
        "{pick}"
    );
    assert!(
        pick.contains("2026-11-25 11:00 EST  décongeler lot UC-0042  contenant 3\n"),
        "{pick}"
    );
    assert!(
        pick.contains("Lot UC-0042 : 9 contenants restent au congélateur (1 compté(s) pour des poches placebo"),
        "{pick}"
    );
    let summary = plan.summary();
    assert!(
        summary.starts_with(
            "CARE-SSc, plan du jour : 6 lignes de prescription, 6 planifiée(s), 0 non planifiée(s)\n"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("Séance 1 : décongélation 2026-11-25 08:30 EST, 3 poches\n"),
        "{summary}"
    );
    assert!(summary.contains("  ligne 1  "), "{summary}");
    for english in [
        "thaw",
        "container",
        "Session",
        "row ",
        "bag ",
        "start by",
        "planned",
    ] {
        assert!(!summary.contains(english), "{english:?} in\n{summary}");
        assert!(!pick.contains(english), "{english:?} in\n{pick}");
    }
    assert!(!summary.contains('{') && !pick.contains('{'));
}

/// The CSV cells of an orders-file row of kind `kind`: readable, or broken
/// the ways people break them (a decimal comma, a time without its offset,
/// no participant).
fn order_row(participant: usize, kind: u8, minutes: u32) -> String {
    let time = format!("2026-11-25T{:02}:{:02}:00", 8 + minutes / 60, minutes % 60);
    match kind {
        1 => format!("P{participant},month-0,\"72,4 kg\",{time}-05:00\n"),
        2 => format!("P{participant},month-0,72.4 kg,{time}\n"),
        3 => format!(",month-0,72.4 kg,{time}-05:00\n"),
        _ => format!("P{participant},month-0,72.4 kg,{time}-05:00\n"),
    }
}

fn plenty_of_stock() -> Lot {
    Lot::new(LotSpec {
        lot_id: "UC-0042".to_owned(),
        viable_cells_per_ml: CellConcentration::new("c", 12.5e6).unwrap(),
        viability: 0.93,
        container_volume: ExactVolume::from_microlitres(10_000),
        extractable_volume: None,
        containers: 100,
        dmso_fraction: Some(0.05),
        expires_at: None,
    })
    .unwrap()
}

const SIX_PARTICIPANTS: &str = "participant,arm\nP0,A\nP1,B\nP2,C\nP3,A\nP4,B\nP5,C\n";

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every row of an orders file is in the plan, the summary and day.csv
    /// exactly once, with its number; a visit gets at most one bag; no
    /// container is thawed twice.
    #[test]
    fn every_row_of_an_orders_file_is_accounted_for_once(
        rows in prop::collection::vec((0usize..6, 0u8..6, 0u32..420), 1..30),
        seed in any::<u64>(),
    ) {
        let mut text = String::from("participant,visit,weight,infusion_at\n");
        for (participant, kind, minutes) in &rows {
            text.push_str(&order_row(*participant, *kind, *minutes));
        }
        let read = DayOrder::from_csv_text(&text).unwrap();
        prop_assert_eq!(read.len(), rows.len());
        let list = Randomization::from_csv_text(SIX_PARTICIPANTS).unwrap();
        let plan = plan_day(&Protocol::care_ssc(), &read, &[plenty_of_stock()], &list, &mut counter(seed)).unwrap();
        prop_assert_eq!(plan.bags.len(), rows.len());
        let numbers: Vec<usize> = plan.rows.iter().map(|r| r.row).collect();
        prop_assert_eq!(numbers, (2..rows.len() + 2).collect::<Vec<_>>());

        let mut first_of_visit: BTreeMap<String, usize> = BTreeMap::new();
        for ((participant, kind, _), (bag, row)) in rows.iter().zip(plan.bags.iter().zip(&plan.rows)) {
            // The participant as written, even where the row is unreadable.
            let written = if *kind == 3 { String::new() } else { format!("P{participant}") };
            prop_assert_eq!(&row.participant, &written);
            match kind {
                1..=3 => prop_assert!(bag.is_err()),
                _ => match first_of_visit.get(&written) {
                    Some(first) => prop_assert_eq!(
                        bag.as_ref().err().map(|e| e.to_string()),
                        Some(format!("row {}: {written} at month-0 is ordered again (first on row {first}); one visit gets one bag, so this row is not planned; delete the row that is wrong and plan the day again", row.row))
                    ),
                    None => {
                        first_of_visit.insert(written.clone(), row.row);
                        prop_assert!(bag.is_ok(), "{:?}", bag.as_ref().err().map(ToString::to_string));
                    }
                },
            }
        }

        let summary = plan.summary();
        prop_assert!(summary.starts_with(&format!("CARE-SSc day plan: {} order row", rows.len())), "{}", summary);
        for row in &plan.rows {
            prop_assert_eq!(summary.matches(&format!("  row {}  ", row.row)).count(), 1, "{}", summary);
        }
        let csv = plan.day_csv();
        let lines: Vec<&str> = csv.lines().collect();
        prop_assert_eq!(lines.len(), rows.len() + 2);
        for (line, row) in lines.iter().skip(2).zip(&plan.rows) {
            prop_assert!(line.starts_with(&format!("{},{},", row.row, row.participant)), "{}", line);
        }

        let mut thawed = BTreeSet::new();
        for thaw in &plan.thaws {
            for container in &thaw.containers {
                prop_assert!(thawed.insert((thaw.lot_id.to_string(), *container)), "container {} thawed twice", container);
            }
        }
    }
}

#[test]
fn a_session_takes_at_most_the_bags_the_site_allows() {
    // Eight bags within one thaw window; CARE-SSc's site default is six a session.
    let mut text = String::from("participant,visit,weight,infusion_at\n");
    let mut list = String::from("participant,arm\n");
    for i in 0..8 {
        text.push_str(&format!(
            "P{i},month-0,72.4 kg,2026-11-25T09:{:02}:00-05:00\n",
            i * 5
        ));
        list.push_str(&format!("P{i},A\n"));
    }
    let plan = plan_day(
        &Protocol::care_ssc(),
        &DayOrder::from_csv_text(&text).unwrap(),
        &[plenty_of_stock()],
        &Randomization::from_csv_text(&list).unwrap(),
        &mut counter(1),
    )
    .unwrap();
    let sessions: Vec<usize> = plan
        .bags
        .iter()
        .map(|b| b.as_ref().unwrap().session)
        .collect();
    assert_eq!(sessions, [0, 0, 0, 0, 0, 0, 1, 1]);
    // The second session thaws 30 min before its first infusion (09:30): 09:00.
    assert_eq!(plan.sessions[1].wall_clock(), "2026-11-25 09:00 EST");
}

#[test]
fn unreadable_rows_and_a_second_order_stay_on_the_ward_sheet() {
    let text = "participant,visit,weight,infusion_at\n\
                P0,month-0,72.4 kg,2026-11-25T09:00:00-05:00\n\
                P1,month-0,\"72,4 kg\",2026-11-25T09:30:00-05:00\n\
                P2,month-0,72400 g,2026-11-25T10:00:00-05:00\n\
                P3,month-0,72.4 kg,2026-11-25T10:30:00\n\
                P0,month-0,80 kg,2026-11-25T10:45:00-05:00\n";
    let plan = plan_day(
        &Protocol::care_ssc(),
        &DayOrder::from_csv_text(text).unwrap(),
        &[plenty_of_stock()],
        &Randomization::from_csv_text(SIX_PARTICIPANTS).unwrap(),
        &mut counter(2),
    )
    .unwrap();
    let summary = plan.summary();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        "CARE-SSc day plan: 5 order rows, 1 planned, 4 not planned"
    );
    // Unreadable rows first (no time to sort them by), then by infusion time.
    assert_eq!(lines[2], "--:--  row 3  P1 month-0  NOT PLANNED: unit");
    assert_eq!(lines[3], "--:--  row 4  P2 month-0  NOT PLANNED: unit");
    assert_eq!(
        lines[4],
        "--:--  row 5  P3 month-0  NOT PLANNED: invalid time"
    );
    assert!(
        lines[5].starts_with("09:00 EST  row 2  P0 month-0  bag "),
        "{summary}"
    );
    assert_eq!(
        lines[6],
        "10:45 EST  row 6  P0 month-0  NOT PLANNED: duplicate order"
    );
    assert_eq!(lines.len(), 7);
    let csv = plan.day_csv();
    assert!(
        csv.contains("\n3,P1,month-0,,,,,,,,,NOT PLANNED: unit,"),
        "{csv}"
    );
    assert!(csv.contains("\n6,P0,month-0,,,,,2026-11-25T10:45:00-05:00,,,,NOT PLANNED: duplicate_order,\"row 6: P0 at month-0 is ordered again (first on row 2)"), "{csv}");
}
