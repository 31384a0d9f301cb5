//! The ledger's rules, balances, day recording and exports, on real SQLite
//! files, and on a real PostgreSQL server: with `DOSEPREP_TEST_STORE=postgres`
//! (and the server's URL in `DOSEPREP_TEST_POSTGRES_URL`, as
//! `scripts/with-postgres.sh` gives it), every test that starts from a
//! [`fresh`] ledger runs on a new database of that server instead. Tests of
//! the SQLite file itself (tampering with it, migrating it, opening it to
//! read only) run on SQLite either way. (Tampering with `sqlite3`, SIGKILL
//! and two writers are tested from Python, where the processes are real.)

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::path::PathBuf;

use doseprep::{
    parse_time, plan_day, BagId, BodyWeight, CellConcentration, DayOrder, DinSequence, ExactVolume,
    Lot, LotSpec, Order, PreparationRecord, Protocol, Randomization, VerifiedRecord,
};
use doseprep_ledger::{By, Draw, Entry, Infusion, Ledger, LedgerError, Shipment, Station};
use proptest::prelude::*;

fn at(text: &str) -> jiff::ZonedDateTime {
    parse_time("at", text).unwrap()
}

fn entry(text: &str) -> Entry {
    Entry::new(at(text), "MH", None).unwrap()
}

fn lot_spec(containers: u32) -> LotSpec {
    LotSpec {
        lot_id: "UC-0042".into(),
        viable_cells_per_ml: CellConcentration::parse("c", "12.5 million cells/mL").unwrap(),
        viability: 0.93,
        container_volume: ExactVolume::parse("v", "10 mL").unwrap(),
        extractable_volume: None,
        containers,
        dmso_fraction: Some(0.05),
        expires_at: None,
    }
}

fn lot(containers: u32) -> Lot {
    Lot::new(lot_spec(containers)).unwrap()
}

/// A file in this test's own directory under target/.
fn file(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ledger-{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

/// A bag of CARE-SSc for `participant` in `arm` at month 0, with its id.
fn record(participant: &str, weight: &str, arm: &str, bag: u64) -> PreparationRecord {
    record_of(&Protocol::care_ssc(), participant, weight, arm, bag)
}

/// A bag of `protocol` for `participant` in `arm` at month 0, with its id.
fn record_of(
    protocol: &Protocol,
    participant: &str,
    weight: &str,
    arm: &str,
    bag: u64,
) -> PreparationRecord {
    let order = Order::with_weight_text(
        participant,
        weight,
        arm,
        "month-0",
        at("2026-11-25T08:30:00-05:00"),
    )
    .unwrap()
    .with_bag_id(BagId::from_random(bag));
    PreparationRecord::prepare(protocol, &order, &lot(12))
        .unwrap()
        .into_record()
}

fn draw(container: u32, ml: &str) -> Draw {
    Draw {
        lot_id: "UC-0042".into(),
        container,
        volume_ul: ExactVolume::parse("v", ml).unwrap().microlitres(),
    }
}

/// Which store the tests that start from [`fresh`] run on.
fn on_postgres() -> bool {
    match std::env::var("DOSEPREP_TEST_STORE").as_deref() {
        Ok("postgres") => true,
        Ok("sqlite") | Err(std::env::VarError::NotPresent) => false,
        other => panic!("DOSEPREP_TEST_STORE is {other:?}: set it to sqlite or postgres"),
    }
}

/// A new, empty ledger on the store under test: SQLite in memory, or a
/// database of its own on the test server.
fn fresh() -> Ledger {
    if !on_postgres() {
        return Ledger::open_in_memory().unwrap();
    }
    Ledger::create_postgres(&fresh_schema()).unwrap()
}

/// The URL of a new, empty schema of its own on the test server.
fn fresh_schema() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let server = std::env::var("DOSEPREP_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("DOSEPREP_TEST_STORE=postgres needs DOSEPREP_TEST_POSTGRES_URL: run the tests through scripts/with-postgres.sh")
    });
    let name = format!(
        "ledger_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    // A schema of its own in the server's database (quicker to make than a
    // database), found first on the ledger's search path.
    let mut admin = postgres::Client::connect(&server, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .unwrap();
    let joint = if server.contains('?') { '&' } else { '?' };
    format!("{server}{joint}options=-c%20search_path%3D{name}")
}

/// A ledger with lot UC-0042 (12 containers) received and #1 thawed.
/// The clock of `started()`'s ledger: the evening of the day recorded.
const WRITTEN_AT: &str = "2026-11-25T22:00:00Z";

fn started() -> Ledger {
    let mut ledger = fresh().with_clock(clock_at(WRITTEN_AT));
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    ledger
        .thaw("UC-0042", &[1], &entry("2026-11-25T08:30:00-05:00"))
        .unwrap();
    ledger
}

/// Plan `orders` (participant, arm, kg, infusion time) with `lot` and
/// record the day; the records and the event numbers.
fn record_a_day(
    ledger: &mut Ledger,
    lot: &Lot,
    orders: &[(&str, &str, &str, &str)],
) -> (Vec<VerifiedRecord>, Result<Vec<i64>, LedgerError>) {
    record_a_day_by(ledger, lot, orders, &By::Initials("MH".to_owned()), None)
}

/// As `record_a_day`, recorded `by`, with `late_reason`.
fn record_a_day_by(
    ledger: &mut Ledger,
    lot: &Lot,
    orders: &[(&str, &str, &str, &str)],
    by: &By,
    late_reason: Option<&str>,
) -> (Vec<VerifiedRecord>, Result<Vec<i64>, LedgerError>) {
    // A new seed each day: bag ids differ from day to day.
    static DAYS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(11);
    let seed = DAYS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (plan, records) = plan_a_day_seeded(lot, orders, seed);
    let numbers = do_the_day(ledger, &plan, &records, by, late_reason);
    (records, numbers)
}

/// A day of `orders` (participant, arm, kg, infusion time) planned with
/// `lot`, and its records (bag ids from a fixed seed).
fn plan_a_day(
    lot: &Lot,
    orders: &[(&str, &str, &str, &str)],
) -> (doseprep::DayPlan, Vec<VerifiedRecord>) {
    plan_a_day_seeded(lot, orders, 7)
}

/// [`plan_a_day_seeded`] with what lot UC-0042 (12 containers) has in
/// stock in `ledger`.
fn plan_from_stock(
    ledger: &Ledger,
    orders: &[(&str, &str, &str, &str)],
    seed: u64,
) -> (doseprep::DayPlan, Vec<VerifiedRecord>) {
    let stock = lot(12)
        .with_container_numbers(ledger.in_stock("UC-0042").unwrap())
        .unwrap();
    plan_a_day_seeded(&stock, orders, seed)
}

/// [`plan_a_day`], bag ids from `seed`.
fn plan_a_day_seeded(
    lot: &Lot,
    orders: &[(&str, &str, &str, &str)],
    mut seed: u64,
) -> (doseprep::DayPlan, Vec<VerifiedRecord>) {
    let protocol = Protocol::care_ssc();
    let day_orders: Vec<DayOrder> = orders
        .iter()
        .map(|(p, _, kg, time)| {
            DayOrder::new(
                p,
                "month-0",
                BodyWeight::from_kg(kg.parse().unwrap()).unwrap(),
                at(time),
            )
            .unwrap()
        })
        .collect();
    let list_text: String = orders
        .iter()
        .map(|(p, arm, _, _)| format!("{p},{arm}\n"))
        .collect();
    let list = Randomization::from_csv_text(&format!("participant,arm\n{list_text}")).unwrap();
    let plan = plan_day(
        &protocol,
        &doseprep::DayRow::numbered(day_orders),
        std::slice::from_ref(lot),
        &list,
        &mut || {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            seed
        },
    )
    .unwrap();
    let records = plan.records().unwrap();
    (plan, records)
}

/// When a bag of a plan is made: its given preparation time, or its thaw
/// plus the site's preparation time.
fn made_at(record: &VerifiedRecord) -> jiff::ZonedDateTime {
    let prep = &record.preparation;
    match prep.prepared_at() {
        Some(at) => at.zoned(),
        None => {
            let thawed = prep.thawed_at();
            let ready = record
                .protocol
                .site()
                .preparation_time
                .map_or(thawed.instant(), |time| {
                    thawed.instant().checked_add(time).unwrap()
                });
            doseprep::SiteTime::new(ready, thawed.zone().clone()).zoned()
        }
    }
}

/// Record `plan` (its `records`) `by`, then the day as it was done: each
/// session's thaw at its time, each bag made at [`made_at`], each with
/// `late_reason` where given. Every event's number, or the first refusal.
fn do_the_day(
    ledger: &mut Ledger,
    plan: &doseprep::DayPlan,
    records: &[VerifiedRecord],
    by: &By,
    late_reason: Option<&str>,
) -> Result<Vec<i64>, LedgerError> {
    let mut numbers = ledger.record_day(&plan.thaws, records, by, None)?;
    let done = |at: jiff::ZonedDateTime| Entry {
        at,
        by: by.clone(),
        comment: None,
        late_reason: late_reason.map(str::to_owned),
    };
    for thaw in &plan.thaws {
        numbers.push(ledger.thaw(
            thaw.lot_id.as_ref(),
            &thaw.containers,
            &done(thaw.thawed_at.zoned()),
        )?);
    }
    for record in records {
        numbers.push(
            ledger.prepare_planned(record.preparation.bag_id.unwrap(), &done(made_at(record)))?,
        );
    }
    Ok(numbers)
}

/// An infusion from `started_at` to `ended_at`, with its override's reason.
fn infused(
    started_at: &jiff::ZonedDateTime,
    ended_at: &jiff::ZonedDateTime,
    override_reason: Option<&str>,
) -> Infusion {
    Infusion {
        started_at: started_at.clone(),
        ended_at: ended_at.clone(),
        override_reason: override_reason.map(str::to_owned),
        short_reason: None,
    }
}

#[test]
fn the_second_day_thaws_the_containers_in_stock() {
    let mut ledger = fresh();
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    let day_one = [
        ("CARE-001", "A", "80", "2026-11-25T09:00:00-05:00"),
        ("CARE-002", "A", "80", "2026-11-25T09:00:00-05:00"),
    ];
    // 6.4 + 6.4 = 12.8 mL: #1 and #2.
    let (_, numbers) = record_a_day(&mut ledger, &lot(12), &day_one);
    // The plan (two bags), the thaw, the two bags made.
    assert_eq!(numbers.unwrap(), vec![2, 3, 4, 5, 6]);
    assert_eq!(
        ledger.in_stock("UC-0042").unwrap(),
        (3..=12).collect::<Vec<u32>>()
    );
    let day_two = [("CARE-003", "A", "72.4", "2026-11-26T09:00:00-05:00")];
    // Planned with the lot as the file gives it (containers 1 to 12), the
    // day would draw from #1, thawed the day before its plan's thaw: refused.
    let (_, refused) = record_a_day(&mut ledger, &lot(12), &day_two);
    assert_eq!(refused.unwrap_err().code(), "thawed_before_plan");
    // Planned with the ledger's stock, it thaws #3, and the record, the pick
    // list and the ledger all say #3.
    let stock = lot(12)
        .with_container_numbers(ledger.in_stock("UC-0042").unwrap())
        .unwrap();
    let (records, numbers) = record_a_day(&mut ledger, &stock, &day_two);
    assert_eq!(numbers.unwrap(), vec![7, 8, 9]);
    assert_eq!(records[0].preparation.draws[0].container, 3);
    let chain = ledger
        .chain_of_identity(records[0].preparation.bag_id.unwrap())
        .unwrap();
    assert_eq!(
        (chain.draws[0].container, chain.draws[0].thaw_seq),
        (3, Some(8))
    );
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_planned_day_is_recorded_and_balances() {
    let path = file("day");
    let mut ledger = Ledger::create(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), 6);
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    let (records, numbers) = record_a_day(
        &mut ledger,
        &lot(12),
        &[
            ("CARE-001", "A", "72.4", "2026-11-25T09:00:00-05:00"),
            ("CARE-002", "B", "80", "2026-11-25T09:30:00-05:00"),
            ("CARE-003", "C", "58", "2026-11-25T10:00:00-05:00"),
        ],
    );
    let numbers = numbers.unwrap();
    // Three bags planned, one thaw session (08:30: every infusion ends by
    // 11:30), then the three bags made.
    assert_eq!(numbers, vec![2, 3, 4, 5, 6, 7, 8]);
    // Two actives draw 5.8 mL + 6.4 mL = 12.2 mL: two 10 mL containers.
    let balance = ledger.balance("UC-0042").unwrap();
    assert_eq!(
        (balance.received, balance.thawed, balance.on_hand),
        (12, 2, 10)
    );
    let verification = ledger.verify().unwrap();
    assert!(verification.ok(), "{verification:?}");
    assert_eq!(verification.events, 8);
    // The placebo (arm C) drew from nothing; the actives from #1 and #2.
    let placebo = records[2].preparation.bag_id.unwrap();
    assert!(ledger.chain_of_identity(placebo).unwrap().draws.is_empty());
    let active = records[0].preparation.bag_id.unwrap();
    let chain = ledger.chain_of_identity(active).unwrap();
    assert_eq!(chain.draws_are, doseprep_ledger::DrawsAre::Drawn);
    assert_eq!(chain.draws.len(), 1);
    assert_eq!(
        (chain.draws[0].container, chain.draws[0].volume_ml),
        (1, 5.8)
    );
    assert_eq!(chain.draws[0].thaw_seq, Some(5));
    assert_eq!(chain.lots[0].received_seq, 1);
    // Reopened, the file has all of it.
    drop(ledger);
    let reopened = Ledger::open(&path).unwrap();
    assert_eq!(reopened.events().unwrap().len(), 8);
    assert!(reopened.verify().unwrap().ok());
}

#[test]
fn what_may_not_happen_is_refused_with_its_code() {
    let mut ledger = started();
    let code = |result: Result<i64, LedgerError>| result.map_err(|e| e.code()).err();
    let later = entry("2026-11-25T08:40:00-05:00");
    assert_eq!(
        code(ledger.thaw("UC-0042", &[1], &later)),
        Some("container_state")
    );
    assert_eq!(
        code(ledger.thaw("UC-0042", &[13], &later)),
        Some("unknown_container")
    );
    assert_eq!(
        code(ledger.thaw("UC-0099", &[1], &later)),
        Some("unknown_lot")
    );
    assert_eq!(
        code(ledger.thaw("UC-0042", &[2, 2], &later)),
        Some("duplicate_container")
    );
    assert_eq!(
        code(ledger.thaw("UC-0042", &[], &later)),
        Some("no_containers")
    );
    let smaller = Lot::new(LotSpec {
        container_volume: ExactVolume::parse("v", "5 mL").unwrap(),
        ..lot_spec(3)
    })
    .unwrap();
    assert_eq!(
        code(ledger.receive(&smaller, &later)),
        Some("receipt_differs")
    );
    ledger
        .destroy_containers("UC-0042", &[3], "dropped", &later)
        .unwrap();
    assert_eq!(
        code(ledger.thaw("UC-0042", &[3], &later)),
        Some("container_state")
    );
    assert_eq!(
        code(ledger.return_containers("UC-0042", &[1], &later)),
        Some("container_state")
    );
    // 5.8 mL from #1, then 5 mL more would take 10.8 of its 10 mL.
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    ledger
        .prepare(&bag, Some(vec![draw(1, "5.8 mL")]), &later)
        .unwrap();
    let second = record("CARE-013", "64 kg", "A", 2);
    let over = ledger
        .prepare(&second, Some(vec![draw(1, "5.1 mL")]), &later)
        .unwrap_err();
    assert_eq!(
        over.to_string(),
        "prepare: drawing 5.1 mL from container 1 of lot \"UC-0042\" would take 10.9 mL of the 10 mL it yields; draw from another thawed container"
    );
    assert_eq!(
        code(ledger.prepare(&second, Some(vec![draw(2, "5.1 mL")]), &later)),
        Some("container_state")
    );
    assert_eq!(
        code(ledger.prepare(&second, Some(vec![]), &later)),
        Some("no_draws")
    );
    assert_eq!(
        code(ledger.prepare(&bag, None, &later)),
        Some("bag_already_recorded")
    );
    let placebo = record("CARE-014", "64 kg", "C", 3);
    assert_eq!(
        code(ledger.prepare(&placebo, Some(vec![draw(1, "1 mL")]), &later)),
        Some("placebo_draws")
    );
    ledger.prepare(&placebo, None, &later).unwrap();
    // Administration: its own participant, once, by the infuse-by time (thawed 08:30 + 3 h = 11:30).
    let id = bag.preparation.bag_id.unwrap();
    let (start, end) = (
        at("2026-11-25T11:00:00-05:00"),
        at("2026-11-25T11:25:00-05:00"),
    );
    let give = |ledger: &mut Ledger, who: &str, end: &jiff::ZonedDateTime, reason: Option<&str>| {
        ledger.administer(
            id,
            who,
            &infused(&start, end, reason),
            &entry("2026-11-25T11:25:00-05:00"),
        )
    };
    assert_eq!(
        code(give(&mut ledger, "CARE-013", &end, None)),
        Some("wrong_participant")
    );
    let late = at("2026-11-25T11:40:00-05:00");
    assert_eq!(
        code(give(&mut ledger, "CARE-012", &late, None)),
        Some("past_infuse_by")
    );
    assert_eq!(
        code(give(
            &mut ledger,
            "CARE-012",
            &at("2026-11-25T10:50:00-05:00"),
            None
        )),
        Some("ends_before_start")
    );
    give(
        &mut ledger,
        "CARE-012",
        &late,
        Some("line occluded; restarted"),
    )
    .unwrap();
    assert_eq!(
        code(give(&mut ledger, "CARE-012", &end, None)),
        Some("bag_state")
    );
    assert_eq!(
        code(ledger.dispense(id, "ward 5", &later)),
        Some("bag_state")
    );
    assert_eq!(
        code(ledger.destroy_bag(BagId::from_random(0), "x", &later)),
        Some("unknown_bag")
    );
    assert_eq!(
        Entry::new(at("2026-11-25T08:00:00-05:00"), "", None)
            .map_err(|e| e.code())
            .err(),
        Some("initials")
    );
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn times_expiry_and_dins_are_checked() {
    let mut ledger = started(); // #1 thawed at 08:30
    let code = |result: Result<i64, LedgerError>| result.map_err(|e| e.code()).err();
    // A bag whose record says its cells were thawed at 09:00 cannot draw
    // from a container thawed at 08:30.
    let order = Order::with_weight_text(
        "CARE-020",
        "72.4 kg",
        "A",
        "month-0",
        at("2026-11-25T09:00:00-05:00"),
    )
    .unwrap()
    .with_bag_id(BagId::from_random(20));
    let stale = PreparationRecord::prepare(&Protocol::care_ssc(), &order, &lot(12)).unwrap();
    let later = entry("2026-11-25T09:10:00-05:00");
    let differs = ledger
        .prepare(&stale, Some(vec![draw(1, "5.8 mL")]), &later)
        .unwrap_err();
    assert_eq!(differs.code(), "thaw_time_differs");
    // Times in messages on the site's wall clock, as on every document.
    assert!(
        differs
            .to_string()
            .contains("was thawed at 2026-11-25 08:30 EST, but bag")
            && differs
                .to_string()
                .contains("were thawed at 2026-11-25 09:00 EST"),
        "{differs}"
    );
    // An infusion on time takes no override reason.
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    ledger
        .prepare(&bag, Some(vec![draw(1, "5.8 mL")]), &later)
        .unwrap();
    let id = bag.preparation.bag_id.unwrap();
    let (start, end) = (
        at("2026-11-25T10:00:00-05:00"),
        at("2026-11-25T10:30:00-05:00"),
    );
    assert_eq!(
        code(ledger.administer(
            id,
            "CARE-012",
            &infused(&start, &end, Some("just in case")),
            &later
        )),
        Some("override_not_needed")
    );
    // A lot past its expiry is not thawed.
    let expiring = Lot::new(LotSpec {
        lot_id: "UC-0050".into(),
        expires_at: Some(at("2026-11-25T08:00:00-05:00")),
        ..lot_spec(2)
    })
    .unwrap();
    ledger.receive(&expiring, &later).unwrap();
    let expired = ledger.thaw("UC-0050", &[1], &later).unwrap_err();
    assert_eq!(expired.code(), "lot_expired");
    // Given in offsets only: each reads on its own offset's clock.
    assert!(
        expired
            .to_string()
            .contains("expired at 2026-11-25 08:00 -05"),
        "{expired}"
    );
    // More containers than a lot has are refused.
    assert_eq!(
        code(
            ledger.receive(
                &Lot::new(LotSpec {
                    lot_id: "BIG".into(),
                    ..lot_spec(10_001)
                })
                .unwrap(),
                &later
            )
        ),
        Some("too_many_containers")
    );
    // ISBT 128 DINs: the facility's counter in the ledger gives 1, 2, ...
    // and a number in use is refused.
    let isbt = isbt_protocol();
    let with_id = |participant: &str, id: u64, sequence: u32| {
        let order = Order::with_weight_text(
            participant,
            "72.4 kg",
            "C",
            "month-0",
            at("2026-11-25T08:30:00-05:00"),
        )
        .unwrap()
        .with_bag_id(BagId::from_random(id))
        .with_din_sequence(DinSequence::new(sequence).unwrap());
        PreparationRecord::prepare(&isbt, &order, &lot(12)).unwrap()
    };
    let next = |ledger: &Ledger| {
        ledger
            .next_din_sequence(&isbt)
            .unwrap()
            .map(DinSequence::value)
    };
    assert_eq!(
        ledger.next_din_sequence(&Protocol::care_ssc()).unwrap(),
        None
    );
    assert_eq!(next(&ledger), Some(1));
    ledger
        .prepare(&with_id("CARE-030", 123_456, 1), None, &later)
        .unwrap();
    assert_eq!(next(&ledger), Some(2));
    assert_eq!(
        code(ledger.prepare(&with_id("CARE-031", 123_457, 1), None, &later)),
        Some("din_in_use")
    );
    ledger
        .prepare(&with_id("CARE-031", 123_457, 2), None, &later)
        .unwrap();
    assert_eq!(next(&ledger), Some(3));
    assert!(ledger.verify().unwrap().ok());
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Model {
    InStock,
    Thawed,
    DestroyedFromStock,
    DestroyedAfterThaw,
    Returned,
    Shipped,
}

#[derive(Debug, Clone)]
enum Step {
    Thaw(u32),
    Destroy(u32),
    Return(u32),
    Ship(u32),
    Count(u32),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1u32..=7).prop_map(Step::Thaw),
        (1u32..=7).prop_map(Step::Destroy),
        (1u32..=7).prop_map(Step::Return),
        (1u32..=7).prop_map(Step::Ship),
        (0u32..=7).prop_map(Step::Count),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Against a model of each container kept here: an event is accepted
    /// exactly when the model allows it, every figure of the balance is what
    /// the model counts, reconcile reports the difference, and the chain
    /// verifies.
    #[test]
    fn the_balance_is_the_sum_of_the_events(steps in proptest::collection::vec(step(), 1..25)) {
        let mut ledger = fresh().with_workstation("bench-1").unwrap();
        ledger.set_site("JGH", "Jewish General Hospital", &By::Initials("MH".to_owned())).unwrap();
        ledger.receive(&lot(6), &entry("2026-11-20T10:00:00-05:00")).unwrap();
        let mut model = [Model::InStock; 6];
        let when = entry("2026-11-25T08:00:00-05:00");
        for step in steps {
            let (result, number) = match step {
                Step::Thaw(n) => (ledger.thaw("UC-0042", &[n], &when), n),
                Step::Destroy(n) => (ledger.destroy_containers("UC-0042", &[n], "expired", &when), n),
                Step::Return(n) => (ledger.return_containers("UC-0042", &[n], &when), n),
                Step::Ship(n) => (ledger.ship("UC-0042", &[n], "CHUM", &when), n),
                Step::Count(counted) => {
                    let on_hand = model.iter().filter(|m| **m == Model::InStock).count() as i64;
                    let reconciliation = ledger.reconcile("UC-0042", counted, &when).unwrap();
                    prop_assert_eq!(reconciliation.difference, i64::from(counted) - on_hand);
                    continue;
                }
            };
            let current = model.get(number as usize - 1).copied();
            let next = match (&step, current) {
                (Step::Thaw(_), Some(Model::InStock)) => Some(Model::Thawed),
                (Step::Destroy(_), Some(Model::InStock)) => Some(Model::DestroyedFromStock),
                (Step::Destroy(_), Some(Model::Thawed)) => Some(Model::DestroyedAfterThaw),
                (Step::Return(_), Some(Model::InStock)) => Some(Model::Returned),
                (Step::Ship(_), Some(Model::InStock)) => Some(Model::Shipped),
                _ => None,
            };
            prop_assert_eq!(result.is_ok(), next.is_some(), "{:?} on {:?}: {:?}", step, current, result);
            if let (Some(next), Some(slot)) = (next, model.get_mut(number as usize - 1)) {
                *slot = next;
            }
        }
        let balance = ledger.balance("UC-0042").unwrap();
        let count = |state: Model| model.iter().filter(|m| **m == state).count() as u32;
        prop_assert_eq!(balance.received, 6);
        prop_assert_eq!(balance.on_hand, count(Model::InStock));
        prop_assert_eq!(balance.thawed, count(Model::Thawed) + count(Model::DestroyedAfterThaw));
        prop_assert_eq!(balance.destroyed, count(Model::DestroyedFromStock));
        prop_assert_eq!(balance.destroyed_after_thaw, count(Model::DestroyedAfterThaw));
        prop_assert_eq!(balance.returned, count(Model::Returned));
        prop_assert_eq!(balance.shipped, count(Model::Shipped));
        prop_assert!(ledger.verify().unwrap().ok());
    }
}

#[test]
fn exports_read_as_worked_by_hand() {
    let mut ledger = started();
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    let twin = record("CARE-013", "72.4 kg", "C", 2);
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:00:00-05:00"),
        )
        .unwrap();
    ledger
        .prepare(&twin, None, &entry("2026-11-25T09:00:00-05:00"))
        .unwrap();
    ledger
        .destroy_containers(
            "UC-0042",
            &[1, 2],
            "end of day",
            &entry("2026-11-25T17:00:00-05:00"),
        )
        .unwrap();
    let csv = ledger.accountability_csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "seq,date,recorded_at,event,participant,bag_id,dose,lot,containers,quantity_received,quantity_dispensed,balance_forward,balance,initials,signed_by,signer_name,meaning,late_reason,comment,site,workstation");
    assert_eq!(
        lines[1],
        "1,2026-11-20T10:00:00-05:00,2026-11-25T22:00:00Z,receive,,,,UC-0042,#1-#12,12,0,0,12,MH,,,,,,,"
    );
    assert_eq!(
        lines[2],
        "2,2026-11-25T08:30:00-05:00,2026-11-25T22:00:00Z,thaw,,,,UC-0042,#1,0,1,12,11,MH,,,,,,,"
    );
    let id = bag.preparation.bag_id.unwrap().as_text();
    assert_eq!(
        lines[3],
        format!("3,2026-11-25T09:00:00-05:00,2026-11-25T22:00:00Z,prepare,CARE-012,{id},72.5 million cells delivered (5.8 mL) in 50 mL,UC-0042,#1 (5.8 mL),,,,,MH,,,,,,,")
    );
    let twin_id = twin.preparation.bag_id.unwrap().as_text();
    assert_eq!(
        lines[4],
        format!(
            "4,2026-11-25T09:00:00-05:00,2026-11-25T22:00:00Z,prepare,CARE-013,{twin_id},\"placebo, 50 mL\",,,,,,,MH,,,,,,,"
        )
    );
    // #1 was thawed (already out of stock), #2 comes out of stock now.
    assert_eq!(lines[5], "5,2026-11-25T17:00:00-05:00,2026-11-25T22:00:00Z,destroy_containers,,,destroyed: end of day,UC-0042,#1 #2,0,1,11,10,MH,,,,,,,");
    assert_eq!(ledger.balance("UC-0042").unwrap().on_hand, 10);
    let blinded = ledger.blinded_csv().unwrap();
    assert_eq!(
        blinded,
        // Dated by their session's thaw (08:30), not when they were made.
        format!("session,event,bag_id,volume_ml\n2026-11-25T08:30:00-05:00,prepare,{id},50\n2026-11-25T08:30:00-05:00,prepare,{twin_id},50\n")
    );
}

#[test]
fn a_file_of_another_kind_or_a_newer_version_is_refused() {
    let path = file("foreign");
    let other = rusqlite::Connection::open(&path).unwrap();
    other
        .execute_batch("CREATE TABLE t (x); PRAGMA user_version = 1;")
        .unwrap();
    drop(other);
    assert_eq!(Ledger::open(&path).unwrap_err().code(), "not_a_ledger");
    let path = file("newer");
    drop(Ledger::create(&path).unwrap());
    let newer = rusqlite::Connection::open(&path).unwrap();
    newer.pragma_update(None, "user_version", 7).unwrap();
    drop(newer);
    let error = Ledger::open(&path).unwrap_err();
    assert_eq!(
        error,
        LedgerError::SchemaTooNew {
            found: 7,
            supported: 6
        }
    );
}

#[test]
fn a_ledger_is_opened_never_created_by_accident() {
    let path = file("typo");
    let error = Ledger::open(&path).unwrap_err();
    assert_eq!(error.code(), "no_such_ledger");
    assert!(
        error.to_string().contains("doseprep ledger init"),
        "{error}"
    );
    assert!(!path.exists(), "opening created {}", path.display());
    drop(Ledger::create(&path).unwrap());
    assert_eq!(Ledger::create(&path).unwrap_err().code(), "ledger_exists");
    assert_eq!(Ledger::open(&path).unwrap().schema_version().unwrap(), 6);
}

/// Plan `text` against what `ledger` holds, and record the planned bags.
fn plan_and_record(
    ledger: &mut Ledger,
    text: &str,
    list: &Randomization,
    seed: u64,
) -> doseprep::DayPlan {
    plan_and_record_on(ledger, &Protocol::care_ssc(), text, list, seed)
}

/// [`plan_and_record`] under `protocol`, DIN numbers from the ledger's counter.
fn plan_and_record_on(
    ledger: &mut Ledger,
    protocol: &Protocol,
    text: &str,
    list: &Randomization,
    seed: u64,
) -> doseprep::DayPlan {
    let stock = lot(100)
        .with_container_numbers(ledger.in_stock("UC-0042").unwrap())
        .unwrap();
    let mut state = seed;
    let plan = doseprep::plan_day_after(
        protocol,
        &DayOrder::from_csv_text(text).unwrap(),
        &[stock],
        list,
        &ledger.standing_bags().unwrap(),
        ledger.next_din_sequence(protocol).unwrap(),
        &mut || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            state
        },
    )
    .unwrap();
    let records = plan.records().unwrap();
    do_the_day(
        ledger,
        &plan,
        &records,
        &By::Initials("MH".to_owned()),
        None,
    )
    .unwrap();
    plan
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// A day run with some rows unreadable, then run again with every row
    /// fixed: every visit gets one bag across the two runs, each row is
    /// planned, already recorded or refused (a duplicate) in each run, the
    /// ledger accepts both (no container thawed twice, no visit twice), and
    /// its bags are the planned ones.
    #[test]
    fn a_rerun_accounts_for_every_row_once(
        rows in prop::collection::vec((0usize..8, 40u32..120, 0u32..300, any::<bool>()), 1..12),
        seed in any::<u64>(),
    ) {
        let mut ledger = fresh();
        ledger.receive(&lot(100), &entry("2026-11-20T10:00:00-05:00")).unwrap();
        let list = Randomization::from_csv_text(
            "participant,arm\nP0,A\nP1,B\nP2,C\nP3,A\nP4,B\nP5,C\nP6,A\nP7,C\n",
        )
        .unwrap();
        let file = |broken: bool| {
            let mut text = String::from("participant,visit,weight,infusion_at\n");
            for (participant, kg, minutes, flaky) in &rows {
                let weight = if broken && *flaky { format!("\"{kg},0 kg\"") } else { format!("{kg} kg") };
                text.push_str(&format!(
                    "P{participant},month-0,{weight},2026-11-25T{:02}:{:02}:00-05:00\n",
                    9 + minutes / 60,
                    minutes % 60
                ));
            }
            text
        };
        let first = plan_and_record(&mut ledger, &file(true), &list, seed);
        let second = plan_and_record(&mut ledger, &file(false), &list, seed ^ 1);
        prop_assert_eq!(first.bags.len(), rows.len());
        prop_assert_eq!(second.bags.len(), rows.len());

        let mut planned: Vec<(String, BagId)> = Vec::new();
        for plan in [&first, &second] {
            for bag in plan.bags.iter().filter_map(|b| b.as_ref().ok()) {
                planned.push((bag.preparation.participant.to_string(), bag.preparation.bag_id.unwrap()));
            }
        }
        // One bag per visit across the runs.
        let mut participants: Vec<&String> = planned.iter().map(|(p, _)| p).collect();
        participants.sort();
        let before = participants.len();
        participants.dedup();
        prop_assert_eq!(participants.len(), before, "a visit got two bags: {:?}", planned);
        // In the second run, every visit planned in the first is already recorded.
        for (bag, row) in second.bags.iter().zip(&second.rows) {
            let first_time = first.bags.iter().zip(&first.rows).find(|(b, r)| {
                r.participant == row.participant && b.is_ok()
            });
            match (bag, first_time) {
                // The same order again (the row planned the first time, or
                // an identical row of the visit readable only now).
                (Err(doseprep::DoseError::AlreadyRecorded { .. }), Some(_)) => {}
                // Another row of the visit, readable only now, comes first
                // and differs from the recorded bag's order: it names the bag.
                (Err(doseprep::DoseError::RecordedDifferently { .. }), Some((_, r))) if r.row != row.row => {}
                (Err(doseprep::DoseError::DuplicateOrder { .. }), _) => {}
                (Ok(_), None) => {}
                (other, earlier) => prop_assert!(false, "row {}: {:?} after {:?}", row.row, other.as_ref().map(|_| "planned"), earlier.map(|(_, r)| r.row)),
            }
        }
        // Every distinct participant ordered is standing in the ledger once.
        let mut standing: Vec<(String, BagId)> = ledger
            .standing_bags()
            .unwrap()
            .into_iter()
            .map(|b| (b.order.participant().to_owned(), b.bag_id))
            .collect();
        standing.sort();
        planned.sort();
        prop_assert_eq!(&standing, &planned);
        let mut ordered: Vec<String> = rows.iter().map(|(p, ..)| format!("P{p}")).collect();
        ordered.sort();
        ordered.dedup();
        let standing_participants: Vec<String> = standing.into_iter().map(|(p, _)| p).collect();
        prop_assert_eq!(standing_participants, ordered);
        prop_assert!(ledger.verify().unwrap().ok());
    }
}

#[test]
fn a_second_shipment_of_a_lot_is_its_own_receipt_numbered_on() {
    let mut ledger = fresh();
    let first = ledger
        .receive(&lot(4), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    ledger
        .thaw("UC-0042", &[1, 2], &entry("2026-11-21T08:30:00-05:00"))
        .unwrap();
    let second = ledger
        .receive(&lot(3), &entry("2026-11-22T10:00:00-05:00"))
        .unwrap();
    // Containers 1-4, then 5-7; two of the first shipment thawed.
    assert_eq!(ledger.in_stock("UC-0042").unwrap(), vec![3, 4, 5, 6, 7]);
    assert_eq!(ledger.receipts("UC-0042").unwrap(), vec![first, second]);
    ledger
        .return_containers("UC-0042", &[6], &entry("2026-11-23T10:00:00-05:00"))
        .unwrap();
    let whole = ledger.balance("UC-0042").unwrap();
    assert_eq!(
        (whole.received, whole.thawed, whole.returned, whole.on_hand),
        (7, 2, 1, 4)
    );
    let one = ledger.receipt_balance("UC-0042", first).unwrap();
    assert_eq!(
        (one.received, one.thawed, one.returned, one.on_hand),
        (4, 2, 0, 2)
    );
    let two = ledger.receipt_balance("UC-0042", second).unwrap();
    assert_eq!(
        (two.received, two.thawed, two.returned, two.on_hand),
        (3, 0, 1, 2)
    );
    assert_eq!(
        ledger
            .receipt_balance("UC-0042", 2)
            .unwrap_err()
            .to_string(),
        format!("\"UC-0042\" has no receipt at event 2 (its receipts are events {first}, {second}); give one of those events")
    );
    let csv = ledger.accountability_csv().unwrap();
    assert!(csv.contains(",#5-#7,"), "{csv}");
    assert!(ledger.verify().unwrap().ok());
}

/// The FHIR export states a dose per kg only where the rule that set the
/// target is a per-kg rule, as the record says: a light participant of the
/// weight-bands example is dosed per kg, a heavy one by the flat band.
#[test]
fn fhir_orders_the_protocols_dose_and_calculates_the_participants() {
    let protocol = Protocol::from_toml(include_str!(
        "../../doseprep/protocols/examples/weight-bands.toml"
    ))
    .unwrap();
    let mut ledger = fresh();
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00+01:00"))
        .unwrap();
    ledger
        .thaw("UC-0042", &[1, 2], &entry("2026-11-25T08:30:00+01:00"))
        .unwrap();
    let mut doses = Vec::new();
    for (container, (participant, weight, bag)) in
        [("EX-001", "40 kg", 41), ("EX-002", "80 kg", 42)]
            .into_iter()
            .enumerate()
    {
        let order = Order::with_weight_text(
            participant,
            weight,
            "active",
            "infusion",
            at("2026-11-25T08:30:00+01:00"),
        )
        .unwrap()
        .with_bag_id(BagId::from_random(bag));
        let record = PreparationRecord::prepare(&protocol, &order, &lot(12))
            .unwrap()
            .into_record();
        // 100 million cells either way (2.5 million/kg × 40 kg; the flat
        // band's 100 million): 8 mL of 12.5 million/mL.
        let drawn = draw(u32::try_from(container).unwrap() + 1, "8 mL");
        ledger
            .prepare(
                &record,
                Some(vec![drawn]),
                &entry("2026-11-25T08:50:00+01:00"),
            )
            .unwrap();
        let bundle = ledger.fhir_bundle(BagId::from_random(bag)).unwrap();
        let request = bundle["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| &entry["resource"])
            .find(|resource| resource["resourceType"] == "MedicationRequest")
            .unwrap()
            .clone();
        let codes: Vec<(String, String, f64)> = request["dosageInstruction"][0]["doseAndRate"]
            .as_array()
            .unwrap()
            .iter()
            .map(|dose| {
                (
                    dose["type"]["coding"][0]["code"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    dose["doseQuantity"]["code"].as_str().unwrap().to_owned(),
                    dose["doseQuantity"]["value"].as_f64().unwrap(),
                )
            })
            .collect();
        doses.push(codes);
    }
    // HL7 dose-rate-type: `ordered` is the protocol's dose (2.5 million/kg
    // in the per-kg band, the flat band's 100 million), `calculated` the
    // cells for this participant (2.5 × 40 kg = 100 million).
    let typed = |kind: &str, code: &str, value: f64| (kind.to_owned(), code.to_owned(), value);
    assert_eq!(
        doses,
        vec![
            vec![
                typed("ordered", "10*6/kg", 2.5),
                typed("calculated", "10*6", 100.0)
            ],
            vec![
                typed("ordered", "10*6", 100.0),
                typed("calculated", "10*6", 100.0)
            ],
        ]
    );
}

/// The CARE-SSc protocol with ISBT 128 codes on its label.
fn isbt_protocol() -> Protocol {
    Protocol::from_toml(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/vectors/protocols/care-ssc-isbt128.toml"
        ))
        .unwrap(),
    )
    .unwrap()
}

#[test]
fn a_days_dins_come_from_the_ledgers_counter_in_infusion_order_and_never_repeat() {
    let protocol = isbt_protocol();
    let mut ledger = fresh();
    ledger
        .receive(&lot(100), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    let list = Randomization::from_csv_text("participant,arm\nP1,A\nP2,C\nP3,B\nP4,A\n").unwrap();
    let mut seed = 5u64;
    let mut day = |ledger: &mut Ledger, rows: &str| {
        seed += 1;
        let text = format!("participant,visit,weight,infusion_at\n{rows}");
        let records = plan_and_record_on(ledger, &protocol, &text, &list, seed)
            .records()
            .unwrap();
        // (participant, DIN sequence), in infusion order.
        let mut bags: Vec<(String, u32, String)> = records
            .iter()
            .map(|r| {
                let prep = &r.preparation;
                (
                    prep.infusion_at().unwrap().rfc9557(),
                    prep.din_sequence.unwrap().value(),
                    prep.participant.to_string(),
                )
            })
            .collect();
        bags.sort();
        bags.into_iter().map(|(_, n, p)| (p, n)).collect::<Vec<_>>()
    };
    // Listed out of time order: numbers follow the infusion times, active
    // (P1) and placebo (P2) alike.
    let first = day(
        &mut ledger,
        "P2,month-0,70 kg,2026-11-25T10:00:00-05:00\nP1,month-0,70 kg,2026-11-25T09:30:00-05:00\n",
    );
    assert_eq!(first, [("P1".to_owned(), 1), ("P2".to_owned(), 2)]);
    let second = day(
        &mut ledger,
        "P3,month-0,70 kg,2026-11-26T09:30:00-05:00\nP4,month-0,70 kg,2026-11-26T10:00:00-05:00\n",
    );
    assert_eq!(second, [("P3".to_owned(), 3), ("P4".to_owned(), 4)]);
    assert_eq!(
        ledger
            .next_din_sequence(&protocol)
            .unwrap()
            .map(DinSequence::value),
        Some(5)
    );
    // Without the counter, an ISBT 128 site's day is refused.
    let refused = doseprep::plan_day(
        &protocol,
        &DayOrder::from_csv_text(
            "participant,visit,weight,infusion_at\nP1,month-3,70 kg,2027-02-25T09:30:00-05:00\n",
        )
        .unwrap(),
        &[lot(100)],
        &list,
        &mut || 7,
    )
    .unwrap_err();
    assert_eq!(refused.kind().name(), "invalid_input");
    assert!(refused.to_string().contains("din_sequence"), "{refused}");
    assert!(ledger.verify().unwrap().ok());
}

/// Rewrite event `from` (its initials) and every event after it, each
/// with the hash the ledger's own formula gives, and move the head: what a
/// forger with the file and the README can do.
fn forge_from(path: &std::path::Path, from: i64) {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch("DROP TRIGGER event_append_only_update;")
        .unwrap();
    let events = Ledger::open(path).unwrap().events().unwrap();
    let mut previous = events[usize::try_from(from - 2).unwrap()].hash.clone();
    for event in events.iter().filter(|e| e.seq >= from) {
        let mut forged = event.clone();
        if event.seq == from {
            forged.initials = "XX".to_owned();
        }
        forged.prev_hash = previous.clone();
        let (initials, hash) = (forged.initials.clone(), forged.expected_hash());
        connection
            .execute(
                "UPDATE event SET initials = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
                rusqlite::params![initials, previous, hash, event.seq],
            )
            .unwrap();
        previous = hash;
    }
    connection
        .execute("UPDATE head SET hash = ?1", [previous])
        .unwrap();
}

/// A new ledger file `name`, written at `WRITTEN_AT`, that has received
/// lot UC-0042 (12 containers).
fn received_in_file(name: &str) -> (PathBuf, Ledger) {
    let path = file(name);
    let mut ledger = Ledger::create(&path)
        .unwrap()
        .with_clock(clock_at(WRITTEN_AT));
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    (path, ledger)
}

/// The last event, `seq`, dated `at` instead, its hash recomputed and the
/// head's with it: what a forger with the file and the README can do. The
/// connection, its append-only trigger dropped, to go on.
fn redated(path: &std::path::Path, seq: i64, at: &str) -> rusqlite::Connection {
    let connection = rusqlite::Connection::open(path).unwrap();
    connection
        .execute_batch("DROP TRIGGER event_append_only_update;")
        .unwrap();
    let events = Ledger::open(path).unwrap().events().unwrap();
    let mut changed = events[usize::try_from(seq - 1).unwrap()].clone();
    assert_eq!(changed.seq, events.last().unwrap().seq, "the last event");
    changed.at = at.to_owned();
    let hash = changed.expected_hash();
    connection
        .execute(
            "UPDATE event SET at = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![changed.at, hash, seq],
        )
        .unwrap();
    connection
        .execute("UPDATE head SET hash = ?1", [&hash])
        .unwrap();
    connection
}

/// A thaw dated ahead of when it was written, put in with its hash
/// recomputed: verify refuses it in a ledger of this schema (builds of
/// schema 3 wrote a day's thaws ahead; only the events before the
/// ledger's first of schema 4 may be so).
#[test]
fn a_thaw_written_ahead_is_refused_on_replay_from_schema_4() {
    let (path, mut ledger) = received_in_file("thaw-ahead");
    ledger
        .thaw("UC-0042", &[1], &entry("2026-11-25T16:00:00-05:00"))
        .unwrap();
    assert!(ledger.verify().unwrap().ok());
    drop(ledger);
    // Written at 17:00 EST, it now says 19:00.
    let ahead = "2026-11-25T19:00:00-05:00";
    redated(&path, 2, ahead)
        .execute(
            "UPDATE container SET thawed_at = ?1 WHERE number = 1",
            [ahead],
        )
        .unwrap();
    let problem = Ledger::open(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.seq, Some(2));
    assert!(
        problem.reason.contains("is after the moment it is written"),
        "{}",
        problem.reason
    );
}

/// A bag made past its infuse-by time is refused, planned or prepared at
/// once; one so made in a ledger's events before schema 5 (as its
/// `schema_start` says) stands, and from schema 5 on verify names it.
#[test]
fn a_bag_made_past_its_infuse_by_time_is_refused_from_schema_5() {
    let (path, mut ledger) = received_in_file("made-late");
    // Infused at 09:00: thawed at 08:30, infuse by 11:30.
    let (plan, records) = plan_from_stock(
        &ledger,
        &[("CARE-001", "A", "80", "2026-11-25T09:00:00-05:00")],
        7,
    );
    let bag = records[0].preparation.bag_id.unwrap();
    let by = By::Initials("MH".to_owned());
    ledger.record_day(&plan.thaws, &records, &by, None).unwrap();
    ledger
        .thaw(
            "UC-0042",
            &plan.thaws[0].containers,
            &entry("2026-11-25T08:30:00-05:00"),
        )
        .unwrap();
    let refused = ledger
        .prepare_planned(bag, &entry("2026-11-25T11:31:00-05:00"))
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "prepare_planned: bag {bag} made at 2026-11-25 11:31 EST is past its infuse-by time \
             2026-11-25 11:30 EST: its label has expired; cancel it (cancel_bag) and plan the \
             visit again, with a new thaw"
        )
    );
    let made = ledger
        .prepare_planned(bag, &entry("2026-11-25T11:30:00-05:00"))
        .unwrap();
    assert!(ledger.verify().unwrap().ok());
    drop(ledger);
    // The making moved to 11:31, its hash recomputed (and the head's): from
    // schema 5 on, verify names it.
    let connection = redated(&path, made, "2026-11-25T11:31:00-05:00");
    let problem = Ledger::open(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.seq, Some(made));
    assert!(
        problem.reason.contains("is past its infuse-by time"),
        "{}",
        problem.reason
    );
    // A ledger whose events all came before schema 5 holds them to the
    // rules of their time.
    connection
        .execute_batch(&format!(
            "DROP TRIGGER schema_start_fixed_update; \
             UPDATE schema_start SET first_seq = {} WHERE version = 5;",
            made + 1
        ))
        .unwrap();
    let verification = Ledger::open(&path).unwrap().verify().unwrap();
    assert!(verification.ok(), "{verification:?}");
}

/// `schema_start` moved past a plan (to exempt later events from the rule
/// on writing ahead) is named by verify: only schema 4 writes plans.
#[test]
fn a_schema_start_moved_past_a_plan_is_found() {
    let (path, mut ledger) = received_in_file("schema-start");
    let (plan, records) = plan_a_day(
        &lot(12),
        &[("CARE-012", "A", "72.4", "2026-11-25T09:00:00-05:00")],
    );
    ledger
        .record_day(&plan.thaws, &records, &By::Initials("MH".to_owned()), None)
        .unwrap();
    drop(ledger);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(
            "DROP TRIGGER schema_start_fixed_update; UPDATE schema_start SET first_seq = 100;",
        )
        .unwrap();
    let problem = Ledger::open(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.seq, Some(2));
    assert!(
        problem
            .reason
            .contains("the schema_start table was changed: it says schema 4 starts at event 100, but event 2 is a plan"),
        "{}",
        problem.reason
    );
}

#[test]
fn a_checkpoint_catches_a_rehashed_rewrite_and_a_cut_tail() {
    let counted = |ledger: &mut Ledger, at: &str| {
        ledger.reconcile("UC-0042", 11, &entry(at)).unwrap();
    };
    // A rewrite of event 3 with every later hash recomputed.
    let path = file("checkpoint-rewrite");
    let mut ledger = Ledger::create(&path).unwrap();
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    ledger
        .thaw("UC-0042", &[1], &entry("2026-11-25T08:30:00-05:00"))
        .unwrap();
    counted(&mut ledger, "2026-11-25T17:00:00-05:00");
    counted(&mut ledger, "2026-11-25T17:05:00-05:00");
    let checkpoint = ledger.checkpoint().unwrap();
    assert_eq!(checkpoint.seq, 4);
    assert_eq!(
        doseprep_ledger::Checkpoint::from_json(&checkpoint.to_json()).unwrap(),
        checkpoint
    );
    assert!(ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap()
        .ok());
    drop(ledger);
    forge_from(&path, 3);
    let ledger = Ledger::open(&path).unwrap();
    assert!(ledger.verify().unwrap().ok(), "alone, the forgery verifies");
    let caught = ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap();
    let problem = caught.problem.unwrap();
    assert_eq!(problem.seq, Some(4));
    assert!(
        problem
            .reason
            .starts_with("event 4 is not the event the checkpoint taken at"),
        "{}",
        problem.reason
    );
    drop(ledger);

    // The last event deleted and the head moved back to the one before.
    let path = file("checkpoint-cut");
    let mut ledger = Ledger::create(&path).unwrap();
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    counted(&mut ledger, "2026-11-25T17:00:00-05:00");
    counted(&mut ledger, "2026-11-25T17:05:00-05:00");
    let checkpoint = ledger.checkpoint().unwrap();
    let second = ledger.events().unwrap()[1].hash.clone();
    drop(ledger);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch(&format!(
            "DROP TRIGGER event_append_only_delete; UPDATE head SET seq = 2, hash = '{second}'; DELETE FROM event WHERE seq = 3;"
        ))
        .unwrap();
    drop(connection);
    let ledger = Ledger::open(&path).unwrap();
    assert!(ledger.verify().unwrap().ok(), "alone, the cut verifies");
    let problem = ledger
        .verify_against(&[checkpoint])
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(problem.seq, Some(3));
    assert!(
        problem
            .reason
            .contains("the ledger ends at event 2, but the checkpoint taken at"),
        "{}",
        problem.reason
    );
    assert!(problem.reason.ends_with(": event 3 was removed"));
}

/// A clock that reads `text` (UTC) whatever the machine's clock says.
fn clock_at(text: &'static str) -> doseprep_ledger::Clock {
    doseprep_ledger::Clock::from_fn(move || text.parse().unwrap())
}

#[test]
fn each_event_keeps_when_it_was_written_and_follows_its_items_events_in_time() {
    let mut ledger = started().with_clock(clock_at("2026-11-25T14:02:07.900Z"));
    let code = |result: Result<i64, LedgerError>| result.map_err(|e| e.code()).err();
    // A thaw before the lot's receipt (2026-11-20 10:00).
    let refused = ledger
        .thaw("UC-0042", &[2], &entry("2026-11-19T08:30:00-05:00"))
        .unwrap_err();
    assert_eq!(refused.code(), "out_of_time_order");
    assert_eq!(
        refused.to_string(),
        "thaw of container 2 of lot \"UC-0042\": at 2026-11-19 08:30 -05 is before its receipt \
         (event 1) at 2026-11-20 10:00 -05; the events of a bag or container are recorded in the \
         order they happen; give the time it happened, not before 2026-11-20 10:00 -05; or, if \
         the time of its receipt (event 1) is wrong, correct that event first (correct)"
    );
    // A bag prepared (09:10) from container 1 (thawed 08:30), dispensed at
    // 08:00: refused; at 09:15: recorded.
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    assert_eq!(
        code(ledger.prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T08:29:00-05:00")
        )),
        Some("out_of_time_order")
    );
    // A preparation is not recorded before it is done (written at 09:02).
    assert_eq!(
        code(ledger.prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:10:00-05:00")
        )),
        Some("future_dated")
    );
    let mut ledger = ledger.with_clock(clock_at("2026-11-25T14:11:07.900Z"));
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:10:00-05:00"),
        )
        .unwrap();
    assert_eq!(
        code(ledger.dispense(id, "ward 5", &entry("2026-11-25T08:00:00-05:00"))),
        Some("out_of_time_order")
    );
    // Not dated after it is written (14:11 UTC, 09:11 EST).
    assert_eq!(
        ledger
            .dispense(id, "ward 5", &entry("2026-11-25T09:25:00-05:00"))
            .unwrap_err()
            .to_string(),
        "dispense: at 2026-11-25 09:25 -05 is after the moment it is written \
         (2026-11-25 09:11 -05, give or take 5 min); an event is recorded once it has happened; \
         give the time it happened; record what has not happened yet when it does"
    );
    let mut ledger = ledger.with_clock(clock_at("2026-11-25T15:00:00Z"));
    ledger
        .dispense(id, "ward 5", &entry("2026-11-25T09:15:00-05:00"))
        .unwrap();
    // An infusion that starts the day before (a wrong date), then one that
    // starts at its dispensing.
    let (day_before, start, end) = (
        at("2026-11-24T10:00:00-05:00"),
        at("2026-11-25T09:15:00-05:00"),
        at("2026-11-25T09:45:00-05:00"),
    );
    let refused = ledger
        .administer(
            id,
            "CARE-012",
            &infused(&day_before, &end, None),
            &entry("2026-11-25T09:45:00-05:00"),
        )
        .unwrap_err();
    assert_eq!(refused.code(), "out_of_time_order");
    assert_eq!(refused.parts().field.as_deref(), Some("started_at"));
    assert!(
        refused
            .to_string()
            .contains("before its dispensing (event 4) at 2026-11-25 09:15 EST"),
        "{refused}"
    );
    ledger
        .administer(
            id,
            "CARE-012",
            &infused(&start, &end, None),
            &entry("2026-11-25T09:45:00-05:00"),
        )
        .unwrap();
    // Containers: destroyed or returned before their last event, counted
    // before the lot arrived.
    assert_eq!(
        code(ledger.destroy_containers(
            "UC-0042",
            &[1],
            "spent",
            &entry("2026-11-25T08:00:00-05:00")
        )),
        Some("out_of_time_order")
    );
    assert_eq!(
        code(ledger.return_containers("UC-0042", &[3], &entry("2026-11-01T08:00:00-05:00"))),
        Some("out_of_time_order")
    );
    assert!(matches!(
        ledger.reconcile("UC-0042", 11, &entry("2026-11-01T08:00:00-05:00")),
        Err(LedgerError::OutOfTimeOrder { .. })
    ));
    // Every event an injected clock wrote carries its time, to the whole
    // second, truncated; the events before have the machine's.
    let events = ledger.events().unwrap();
    assert_eq!(events.len(), 5);
    let written: Vec<Option<&str>> = events[2..]
        .iter()
        .map(|e| e.recorded_at.as_deref())
        .collect();
    assert_eq!(
        written,
        [
            Some("2026-11-25T14:11:07Z"),
            Some("2026-11-25T15:00:00Z"),
            Some("2026-11-25T15:00:00Z")
        ]
    );
    assert!(events.iter().all(doseprep_ledger::Event::hash_matches));
    assert!(events[..2]
        .iter()
        .all(|e| e.recorded_at.as_deref() == Some(WRITTEN_AT)));
    assert!(ledger.verify().unwrap().ok());
    let checkpoint = ledger.checkpoint().unwrap();
    assert_eq!(checkpoint.taken_at, "2026-11-25T15:00:00Z");
}

/// A clock from `first_s` (Unix seconds) that moves on `step_s` seconds
/// at each read: events written one after another get different recording
/// times, so a blinded document that showed one would differ between
/// twins written in either order (one fixed time would hide it).
#[derive(Clone)]
struct SteppingClock {
    first_s: i64,
    step_s: i64,
    reads: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl SteppingClock {
    fn new(first_s: i64, step_s: i64) -> SteppingClock {
        SteppingClock {
            first_s,
            step_s,
            reads: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0)),
        }
    }

    /// The ledger's clock.
    fn clock(&self) -> doseprep_ledger::Clock {
        let this = self.clone();
        doseprep_ledger::Clock::from_fn(move || {
            let read = this
                .reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            jiff::Timestamp::from_second(this.first_s + read * this.step_s).unwrap()
        })
    }

    /// The time its next read will give (not a read).
    fn next(&self) -> jiff::Timestamp {
        let reads = self.reads.load(std::sync::atomic::Ordering::Relaxed);
        jiff::Timestamp::from_second(self.first_s + reads * self.step_s).unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Blinding: an active bag and its placebo twin, made at any times after
    /// their session's thaw, in either order, written at any time after the
    /// last of them (2026-11-25 16:35 UTC on, each write `step` seconds
    /// after the one before), and dispensed at any times after, give the
    /// same blinded log whichever of the two bag ids is the active one.
    #[test]
    fn the_blinded_log_is_the_same_whichever_twin_is_active(
        made in proptest::collection::vec(0u32..=90, 4),
        placebo_first in any::<bool>(),
        written in 0i64..86_400,
        step in 1i64..=600,
    ) {
        let blinded = |active_bag: u64| {
            let mut ledger = started().with_clock(SteppingClock::new(1_795_624_500 + written, step).clock());
            let (placebo_bag, placebo_made) = (3 - active_bag, made[1]);
            let active = record("CARE-012", "72.4 kg", "A", active_bag);
            let placebo = record("CARE-013", "72.4 kg", "C", placebo_bag);
            let at_minute = |minute: u32| {
                let time = at("2026-11-25T08:30:00-05:00");
                Entry::new(time.checked_add(jiff::Span::new().minutes(minute)).unwrap(), "MH", None).unwrap()
            };
            let prepare_active = |ledger: &mut Ledger| ledger.prepare(&active, Some(vec![draw(1, "5.8 mL")]), &at_minute(made[0])).unwrap();
            if placebo_first {
                ledger.prepare(&placebo, None, &at_minute(placebo_made)).unwrap();
                prepare_active(&mut ledger);
            } else {
                prepare_active(&mut ledger);
                ledger.prepare(&placebo, None, &at_minute(placebo_made)).unwrap();
            }
            // The active bag dispensed at made[2] minutes after 10:00, the
            // placebo at made[3].
            for (bag, minute) in [(active_bag, made[2]), (placebo_bag, made[3])] {
                ledger.dispense(BagId::from_random(bag), "ward 5", &at_minute(90 + minute)).unwrap();
            }
            ledger.blinded_csv().unwrap()
        };
        prop_assert_eq!(blinded(1), blinded(2));
    }

    /// The same for a day planned, then done: the twins planned together in
    /// either order, the container thawed up to 20 min before the planned
    /// 08:30 (both refused, both cancelled) or up to 30 min after, each bag
    /// made and dispensed at any time after, give the same
    /// blinded log whichever of the two is active; its rows carry the
    /// session only, never when a bag was made or the plan written (each
    /// write `step` seconds after the one before).
    #[test]
    fn a_planned_days_blinded_log_is_the_same_whichever_twin_is_active(
        made in proptest::collection::vec(0u32..=90, 4),
        thawed in -20i64..=30,
        placebo_first in any::<bool>(),
        written in 0i64..86_400,
        step in 1i64..=600,
    ) {
        let blinded = |active_bag: usize| {
            let stepping = SteppingClock::new(1_795_624_500 + written, step);
            let mut ledger = fresh().with_clock(stepping.clock());
            ledger.receive(&lot(12), &entry("2026-11-20T10:00:00-05:00")).unwrap();
            // The same rows (the same bag ids), the arms swapped.
            let arms = if active_bag == 1 { ["A", "C"] } else { ["C", "A"] };
            let (plan, records) = plan_a_day(
                &lot(12),
                &[
                    ("CARE-012", arms[0], "72.4", "2026-11-25T09:00:00-05:00"),
                    ("CARE-013", arms[1], "72.4", "2026-11-25T09:00:00-05:00"),
                ],
            );
            let ids: Vec<BagId> = records.iter().map(|r| r.preparation.bag_id.unwrap()).collect();
            let (active, placebo) = if active_bag == 1 { (0, 1) } else { (1, 0) };
            let mut twins = [records[active].clone(), records[placebo].clone()];
            if placebo_first {
                twins.reverse();
            }
            ledger.record_day(&plan.thaws, &twins, &By::Initials("MH".to_owned()), None).unwrap();
            let at_minute = |minute: u32| {
                let time = at("2026-11-25T08:30:00-05:00");
                Entry::new(time.checked_add(jiff::Span::new().minutes(minute)).unwrap(), "MH", None).unwrap()
            };
            let thaw = &plan.thaws[0];
            let thaw_at = at("2026-11-25T08:30:00-05:00")
                .checked_add(jiff::Span::new().minutes(thawed))
                .unwrap();
            ledger.thaw("UC-0042", &thaw.containers, &Entry::new(thaw_at, "MH", None).unwrap()).unwrap();
            if thawed < 0 {
                // Thawed early: both twins are refused, and cancelled alike.
                for (bag, minute) in [(active, made[0]), (placebo, made[1])] {
                    let refused = ledger.prepare_planned(ids[bag], &at_minute(30 + minute)).unwrap_err();
                    prop_assert_eq!(refused.code(), "thawed_before_plan");
                    // Cancelled when found, after the plan (written by the
                    // clock), at the time the clock will give it.
                    let now = stepping.next();
                    let found = Entry::new(
                        doseprep::SiteTime::new(now, at("2026-11-25T08:30:00-05:00").time_zone().clone()).zoned(),
                        "MH",
                        None,
                    ).unwrap();
                    ledger.cancel_bag(ids[bag], "thawed early", &found).unwrap();
                }
            } else {
                for (bag, minute) in [(active, made[0]), (placebo, made[1])] {
                    ledger.prepare_planned(ids[bag], &at_minute(30 + minute)).unwrap();
                }
                for (bag, minute) in [(active, made[2]), (placebo, made[3])] {
                    // By 11:00, before the clock's earliest (11:55 EST).
                    ledger.dispense(ids[bag], "ward 5", &at_minute(120 + minute / 3)).unwrap();
                }
            }
            let log = ledger.blinded_csv().unwrap();
            prop_assert!(log.lines().skip(1).all(|row| row.starts_with("2026-11-25T08:30:00-05:00,")), "{}", log);
            Ok(log)
        };
        prop_assert_eq!(blinded(1)?, blinded(2)?);
    }
}

/// A copy of the schema-1 ledger of tests/vectors, and its checkpoint.
fn schema_1_copy(name: &str) -> (PathBuf, doseprep_ledger::Checkpoint) {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ledgers");
    let path = file(name);
    std::fs::copy(vectors.join("schema-1.db"), &path).unwrap();
    let line = std::fs::read_to_string(vectors.join("schema-1.checkpoint")).unwrap();
    (path, doseprep_ledger::Checkpoint::from_json(&line).unwrap())
}

#[test]
fn a_ledger_of_schema_1_is_migrated_and_its_events_keep_their_first_hashes() {
    let (path, checkpoint) = schema_1_copy("schema-1");
    // Read only, it is not migrated, so it is refused.
    assert_eq!(
        Ledger::open_read_only(&path).unwrap_err().code(),
        "schema_too_old"
    );
    let mut ledger = Ledger::open(&path)
        .unwrap()
        .with_clock(clock_at("2026-11-25T13:31:00Z"));
    assert_eq!(ledger.schema_version().unwrap(), 6);
    // Event 3, a return dated the day before the receipt, was recorded
    // before the time-order rules: it still verifies.
    let events = ledger.events().unwrap();
    assert_eq!(events.len(), 3);
    assert!(events
        .iter()
        .all(|e| e.recorded_at.is_none() && e.hash_matches()));
    assert!(ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap()
        .ok());
    for container in [1, 2] {
        ledger
            .thaw("UC-0042", &[container], &entry("2026-11-25T08:30:00-05:00"))
            .unwrap();
    }
    let thaw = ledger.events().unwrap().pop().unwrap();
    assert_eq!(thaw.recorded_at.as_deref(), Some("2026-11-25T13:31:00Z"));
    assert!(ledger.verify_against(&[checkpoint]).unwrap().ok());
    drop(ledger);
    // The last event passed off as one of schema 1 (its recorded_at
    // dropped, its hash recomputed without it) after one written with its
    // time is named. (Dropping every recorded_at and re-hashing from there
    // is a rewrite, caught against a checkpoint taken after it.)
    let connection = rusqlite::Connection::open(&path).unwrap();
    let mut forged = thaw.clone();
    forged.recorded_at = None;
    connection
        .execute_batch("DROP TRIGGER event_append_only_update;")
        .unwrap();
    connection
        .execute(
            "UPDATE event SET recorded_at = NULL, hash = ?1 WHERE seq = 5",
            [forged.expected_hash()],
        )
        .unwrap();
    connection
        .execute("UPDATE head SET hash = ?1", [forged.expected_hash()])
        .unwrap();
    drop(connection);
    let verification = Ledger::open(&path).unwrap().verify().unwrap();
    let problem = verification.problem.unwrap();
    assert_eq!(problem.seq, Some(5));
    assert!(
        problem
            .reason
            .contains("it has no recorded_at, but every event from event 4 was written with one"),
        "{}",
        problem.reason
    );
}

#[test]
fn the_review_lists_what_an_auditor_asks_for_in_its_period() {
    use doseprep_ledger::FindingKind;
    use std::sync::{Arc, Mutex};
    let now = Arc::new(Mutex::new(
        "2026-11-20T15:00:00Z".parse::<jiff::Timestamp>().unwrap(),
    ));
    let clock = {
        let now = Arc::clone(&now);
        doseprep_ledger::Clock::from_fn(move || *now.lock().unwrap())
    };
    let set = |text: &str| *now.lock().unwrap() = text.parse().unwrap();
    let mut ledger = fresh().with_clock(clock);
    // 1: received 10:00 EST, written at 10:00 EST (15:00 UTC).
    ledger
        .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    // 2: a thaw of 08:30 written at 13:31 (5 h 1 min later): late.
    set("2026-11-25T18:31:00Z");
    ledger
        .thaw("UC-0042", &[1], &entry("2026-11-25T08:30:00-05:00"))
        .unwrap();
    // A bag prepared at 09:10, written at 08:00: future-dated, refused (a
    // ledger of schema 3 may hold one: the review lists it, see
    // a_ledger_written_by_the_schema_3_release_verifies_and_reads_alike).
    set("2026-11-25T13:00:00Z");
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    assert_eq!(
        ledger
            .prepare(
                &bag,
                Some(vec![draw(1, "5.8 mL")]),
                &entry("2026-11-25T09:10:00-05:00"),
            )
            .unwrap_err()
            .code(),
        "future_dated"
    );
    // 3: written at 09:10.
    set("2026-11-25T14:10:00Z");
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:10:00-05:00"),
        )
        .unwrap();
    // 4: given late with an override, written on time.
    set("2026-11-25T17:41:00Z");
    ledger
        .administer(
            id,
            "CARE-012",
            &infused(
                &at("2026-11-25T12:10:00-05:00"),
                &at("2026-11-25T12:40:00-05:00"),
                Some("pump failure, restarted"),
            ),
            &entry("2026-11-25T12:40:00-05:00"),
        )
        .unwrap();
    // 5, 6: #2 destroyed, a count one short.
    set("2026-11-25T22:00:00Z");
    ledger
        .destroy_containers(
            "UC-0042",
            &[2],
            "cracked",
            &entry("2026-11-25T17:00:00-05:00"),
        )
        .unwrap();
    ledger
        .reconcile("UC-0042", 9, &entry("2026-11-25T17:00:00-05:00"))
        .unwrap();
    let late_after = jiff::SignedDuration::from_hours(4);
    let report = ledger.audit(None, None, late_after).unwrap();
    assert!(report.verification.ok());
    assert_eq!(report.events, 6);
    let found: Vec<(i64, FindingKind)> = report.findings.iter().map(|f| (f.seq, f.kind)).collect();
    assert_eq!(
        found,
        vec![
            (2, FindingKind::LateEntry),
            (4, FindingKind::Override),
            (5, FindingKind::DestroyedContainers),
            (6, FindingKind::CountDifference),
        ]
    );
    let text = report.to_text(ledger.path());
    for line in [
        "events written from the first event to the last event: 6",
        "event 2 thaw [late_entry] at 2026-11-25 08:30 -05, written 2026-11-25T18:31:00Z, by MH: written 5 h 1 min after the time it gives",
        "event 4 administer [override] at 2026-11-25 12:40 -05, written 2026-11-25T17:41:00Z, by MH: bag 00000000012 given after its infuse-by time: pump failure, restarted",
        "event 5 destroy_containers [destroyed_containers] at 2026-11-25 17:00 -05, written 2026-11-25T22:00:00Z, by MH: lot UC-0042, containers 2: cracked",
        "event 6 reconcile [count_difference] at 2026-11-25 17:00 -05, written 2026-11-25T22:00:00Z, by MH: lot UC-0042: counted 9, the events give 10 (difference -1)",
    ] {
        assert!(text.contains(line), "{line}\nnot in\n{text}");
    }
    // The period of the evening: events 5 and 6 only.
    let evening = ledger
        .audit(
            Some("2026-11-25T21:00:00Z".parse().unwrap()),
            Some("2026-11-26T00:00:00Z".parse().unwrap()),
            late_after,
        )
        .unwrap();
    assert_eq!(evening.events, 2);
    assert_eq!(
        evening.findings.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![5, 6]
    );
}

/// `text` contains `part`, or the test fails showing both.
fn has(text: &str, part: &str) {
    assert!(text.contains(part), "{part:?}\nnot in\n{text:?}");
}

#[test]
fn a_wrong_time_is_corrected_by_an_event_with_its_reason_and_everything_follows_it() {
    let mut ledger = started(); // 1 receipt 11-20 10:00, 2 thaw #1 08:30
    let code = |result: Result<i64, LedgerError>| result.map_err(|e| e.code()).err();
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    // 3: made at 09:10, typed 10:09; the dispense at 09:30 is refused.
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T10:09:00-05:00"),
        )
        .unwrap();
    let dispensed = entry("2026-11-25T09:30:00-05:00");
    assert_eq!(
        code(ledger.dispense(id, "ward 5", &dispensed)),
        Some("out_of_time_order")
    );
    // Corrections are made when the day's events were written (started()'s
    // clock, 17:00 EST): after the events they correct.
    let now = entry("2026-11-25T17:00:00-05:00");
    let nine_ten = at("2026-11-25T09:10:00-05:00");
    // 4: corrected; then the dispense (5) is recorded.
    assert_eq!(
        ledger
            .correct(3, Some(&nine_ten), None, "typed 10:09 for 09:10", &now)
            .unwrap(),
        4
    );
    ledger.dispense(id, "ward 5", &dispensed).unwrap();
    // What may not be corrected, each with its code and the reason.
    let refused = |ledger: &mut Ledger, seq: i64, at: Option<&str>, to: Option<&str>| {
        let at = at.map(self::at);
        ledger
            .correct(seq, at.as_ref(), to, "a reason", &now)
            .unwrap_err()
            .to_string()
    };
    has(&refused(&mut ledger, 3, Some("2026-11-25T09:45:00-05:00"), None), "event 3 cannot be corrected: the prepare of bag 00000000012 at 2026-11-25 09:45 EST would be after its dispensing (event 5) at 2026-11-25 09:30 EST");
    assert!(
        refused(&mut ledger, 3, Some("2026-11-25T08:00:00-05:00"), None)
            .contains("2026-11-25 08:00 EST is before its cells' thaw at 2026-11-25 08:30 EST")
    );
    assert!(
        refused(&mut ledger, 4, Some("2026-11-25T09:12:00-05:00"), None)
            .contains("event 4 is a correction of event 3; correct the event it corrects")
    );
    has(&refused(&mut ledger, 3, None, None), "it corrects nothing");
    let early = ledger
        .correct(
            3,
            Some(&nine_ten),
            None,
            "typo",
            &entry("2026-11-25T09:31:00-05:00"),
        )
        .unwrap_err();
    has(
        &early.to_string(),
        "the correction is dated 2026-11-25 09:31 EST, before event 3 was written (2026-11-25T22:00:00Z UTC)",
    );
    assert!(
        refused(&mut ledger, 3, Some("2026-11-25T09:10:00-05:00"), None)
            .contains("event 3 already gives that time")
    );
    has(
        &refused(&mut ledger, 3, None, Some("ward 6")),
        "names no recipient",
    );
    has(
        &refused(&mut ledger, 5, None, Some("ward 5")),
        "already names \"ward 5\"",
    );
    assert!(
        refused(&mut ledger, 2, Some("2026-11-25T08:20:00-05:00"), None)
            .contains("bag 00000000012 was made or planned in this thaw's session")
    );
    assert!(
        refused(&mut ledger, 9, Some("2026-11-25T08:20:00-05:00"), None)
            .contains("there is no event 9")
    );
    // 6: the recipient corrected.
    ledger
        .correct(5, None, Some("ward 6"), "sent to ward 6, not 5", &now)
        .unwrap();
    // The log shows each event as corrected, and each correction with what
    // it changed and why; the chain of identity and the review list them.
    let csv = ledger.accountability_csv().unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[3].starts_with("3,2026-11-25T09:10:00-05:00,"),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains(",correct,CARE-012,00000000012,corrected event 3: at 2026-11-25T09:10:00-05:00 (was 2026-11-25T10:09:00-05:00): typed 10:09 for 09:10,,"), "{}", lines[4]);
    assert!(lines[5].contains("dispensed to ward 6"), "{}", lines[5]);
    assert!(
        lines[6].contains("corrected event 5: to ward 6 (was ward 5): sent to ward 6, not 5"),
        "{}",
        lines[6]
    );
    let chain = ledger.chain_of_identity(id).unwrap();
    assert_eq!(chain.events[2].details["to"], "ward 6");
    assert_eq!(
        chain
            .events
            .iter()
            .map(|e| (e.seq, e.kind.as_str(), e.at.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (3, "prepare", "2026-11-25T09:10:00-05:00"),
            (4, "correct", "2026-11-25T17:00:00-05:00"),
            (5, "dispense", "2026-11-25T09:30:00-05:00"),
            (6, "correct", "2026-11-25T17:00:00-05:00"),
        ]
    );
    let review = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(48))
        .unwrap();
    assert_eq!(
        review
            .findings
            .iter()
            .map(|f| (f.seq, f.kind.name()))
            .collect::<Vec<_>>(),
        // Written on the evening of the 25th (started()'s clock): the receipt
        // of the 20th is late.
        vec![(1, "late_entry"), (4, "correction"), (6, "correction")]
    );
    // The blinded log shows the dispense, not the corrections.
    assert_eq!(ledger.blinded_csv().unwrap().lines().count(), 3);
    assert_eq!(ledger.balance("UC-0042").unwrap().on_hand, 11);
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn a_thaw_time_is_not_corrected_under_a_placebo_of_its_session_nor_past_expiry() {
    // Only the placebo twin of the 08:30 session is made: its record holds
    // the thaw time, so the thaw is not corrected.
    let mut ledger = started();
    let placebo = record("CARE-013", "72.4 kg", "C", 2);
    ledger
        .prepare(&placebo, None, &entry("2026-11-25T09:00:00-05:00"))
        .unwrap();
    let now = entry("2026-11-25T17:00:00-05:00");
    let refused = ledger
        .correct(
            2,
            Some(&at("2026-11-25T08:20:00-05:00")),
            None,
            "typo",
            &now,
        )
        .unwrap_err();
    has(
        &refused.to_string(),
        "bag 00000000024 was made or planned in this thaw's session",
    );
    // A lot expiring at 09:00: its thaw at 08:45 is not corrected to 09:10.
    let mut ledger = fresh().with_clock(clock_at(WRITTEN_AT));
    let expiring = Lot::new(LotSpec {
        expires_at: Some(at("2026-11-25T09:00:00-05:00")),
        ..lot_spec(2)
    })
    .unwrap();
    ledger
        .receive(&expiring, &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    ledger
        .thaw("UC-0042", &[1], &entry("2026-11-25T08:45:00-05:00"))
        .unwrap();
    let expired = ledger
        .correct(
            2,
            Some(&at("2026-11-25T09:10:00-05:00")),
            None,
            "typo",
            &now,
        )
        .unwrap_err();
    assert_eq!(expired.code(), "lot_expired");
    ledger
        .correct(
            2,
            Some(&at("2026-11-25T08:50:00-05:00")),
            None,
            "typo",
            &now,
        )
        .unwrap();
    assert!(ledger.verify().unwrap().ok());
}

// ---- Users and signatures (schema 3) ----

const ADMIN_PASS: &str = "correct horse battery staple";
const MH_PASS: &str = "mh's own long passphrase";
const JD_PASS: &str = "jd checks every single bag";
const RN_PASS: &str = "the nurse at the bedside";

fn pass(text: &str) -> doseprep_ledger::Passphrase {
    doseprep_ledger::Passphrase::new(text)
}

#[test]
fn a_passphrase_is_never_printed() {
    let entry = signed("2026-11-25T09:00:00-05:00", MH_PASS);
    assert!(!format!("{entry:?}").contains("mh's"), "{entry:?}");
}

fn signed(time: &str, passphrase: &str) -> Entry {
    Entry::signed(at(time), pass(passphrase), None).unwrap()
}

fn new_user(id: &str, name: &str, initials: &str, role: &str) -> doseprep_ledger::NewUser {
    doseprep_ledger::NewUser::new(
        id,
        name,
        initials,
        doseprep_ledger::Role::parse(role).unwrap(),
    )
    .unwrap()
}

/// A ledger with users: an administrator (registered unsigned, the first),
/// then pharmacist mh, checker jd and nurse rn, registered by the
/// administrator, each changing the first passphrase the administrator
/// gave them (events 1 to 7); lot UC-0042 received (8) and #1 thawed (9)
/// by mh, signed in.
fn staffed() -> Ledger {
    let mut ledger = fresh().with_clock(clock_at(WRITTEN_AT));
    ledger
        .register_user(
            &new_user("admin", "Ada Admin", "AA", "administrator"),
            &pass(ADMIN_PASS),
            None,
        )
        .unwrap();
    ledger.sign_in("admin", &pass(ADMIN_PASS)).unwrap();
    for (id, name, initials, role, passphrase) in [
        ("mh", "Marie Hébert", "MH", "pharmacist", MH_PASS),
        ("jd", "Jean Dubois", "JD", "checker", JD_PASS),
        ("rn", "Rita Nurse", "RN", "nurse", RN_PASS),
    ] {
        // The administrator sets a first passphrase; the user makes it
        // their own before they sign.
        let first = format!("{id}'s first passphrase, from admin");
        ledger
            .register_user(
                &new_user(id, name, initials, role),
                &pass(&first),
                Some(&pass(ADMIN_PASS)),
            )
            .unwrap();
        ledger
            .change_passphrase(id, &pass(&first), &pass(passphrase))
            .unwrap();
    }
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    ledger
        .receive(&lot(12), &signed("2026-11-20T10:00:00-05:00", MH_PASS))
        .unwrap();
    ledger
        .thaw(
            "UC-0042",
            &[1],
            &signed("2026-11-25T08:30:00-05:00", MH_PASS),
        )
        .unwrap();
    ledger
}

#[test]
fn every_event_of_a_ledger_with_users_is_signed_by_a_user_whose_role_signs_it() {
    let mut ledger = staffed();
    let bag = record("CARE-012", "72.4 kg", "A", 12);
    let id = bag.preparation.bag_id.unwrap();
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &signed("2026-11-25T09:00:00-05:00", MH_PASS),
        )
        .unwrap();
    // Initials alone are no longer a signature.
    assert_eq!(
        ledger
            .dispense(id, "ward 4", &entry("2026-11-25T09:40:00-05:00"))
            .unwrap_err(),
        LedgerError::SignatureRequired {
            event: "dispense",
            meaning: "dispensed"
        }
    );
    // Not dispensed before a second user checks it.
    let error = ledger
        .dispense(id, "ward 4", &signed("2026-11-25T09:40:00-05:00", MH_PASS))
        .unwrap_err();
    assert_eq!(error.code(), "bag_state");
    assert!(
        error.to_string().contains("prepared but not checked"),
        "{error}"
    );
    // Not checked by the one who prepared it.
    assert_eq!(
        ledger
            .check(id, &signed("2026-11-25T09:20:00-05:00", MH_PASS))
            .unwrap_err(),
        LedgerError::SameChecker {
            bag_id: id.as_text(),
            user_id: "mh".to_owned()
        }
    );
    ledger.sign_in("jd", &pass(JD_PASS)).unwrap();
    let checked = ledger
        .check(id, &signed("2026-11-25T09:20:00-05:00", JD_PASS))
        .unwrap();
    // A checker signs checks only.
    let error = ledger
        .dispense(id, "ward 4", &signed("2026-11-25T09:40:00-05:00", JD_PASS))
        .unwrap_err();
    assert_eq!(error.code(), "role_may_not_sign");
    assert_eq!(
        error.to_string(),
        "user jd (checker) may sign checked, not dispensed; sign in as a user whose role signs it"
    );
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    ledger
        .dispense(id, "ward 4", &signed("2026-11-25T09:40:00-05:00", MH_PASS))
        .unwrap();
    // A pharmacist does not record the infusion; the nurse does.
    let infusion = |ledger: &mut Ledger, passphrase: &str| {
        ledger.administer(
            id,
            "CARE-012",
            &infused(
                &at("2026-11-25T10:00:00-05:00"),
                &at("2026-11-25T10:30:00-05:00"),
                None,
            ),
            &signed("2026-11-25T10:30:00-05:00", passphrase),
        )
    };
    assert_eq!(
        infusion(&mut ledger, MH_PASS).unwrap_err().code(),
        "role_may_not_sign"
    );
    ledger.sign_in("rn", &pass(RN_PASS)).unwrap();
    infusion(&mut ledger, RN_PASS).unwrap();
    // Each event: the registry's initials, the signer, the meaning.
    let events = ledger.events().unwrap();
    let signature = |seq: i64| {
        let event = &events[usize::try_from(seq - 1).unwrap()];
        (
            event.kind.as_str(),
            event.initials.as_str(),
            event.signer.as_deref(),
            event.meaning.as_deref(),
        )
    };
    assert_eq!(
        signature(1),
        ("register_user", "AA", None, None),
        "the first administrator is registered unsigned"
    );
    assert_eq!(
        signature(2),
        ("register_user", "AA", Some("admin"), Some("registered"))
    );
    assert_eq!(
        signature(3),
        ("change_passphrase", "MH", None, None),
        "a user registered by an administrator makes the passphrase their own"
    );
    assert_eq!(
        signature(8),
        ("receive", "MH", Some("mh"), Some("received"))
    );
    assert_eq!(
        signature(checked),
        ("check", "JD", Some("jd"), Some("checked"))
    );
    assert_eq!(
        signature(checked + 2),
        ("administer", "RN", Some("rn"), Some("administered"))
    );
    assert!(events.iter().all(doseprep_ledger::Event::hash_matches));
    assert!(ledger.verify().unwrap().ok());
    // The accountability log names the signer (id and full name) and the meaning.
    let csv = ledger.accountability_csv().unwrap();
    let line = csv
        .lines()
        .find(|line| line.starts_with(&format!("{checked},")))
        .unwrap();
    assert!(
        line.ends_with(",checked,,,,,,,JD,jd,Jean Dubois,checked,,,,"),
        "{line}"
    );
    // A checkpoint names who took it, and reads back.
    let checkpoint = ledger.checkpoint().unwrap();
    assert_eq!(checkpoint.taken_by.as_deref(), Some("rn"));
    assert!(checkpoint
        .to_json()
        .ends_with(r#""taken_at":"2026-11-25T22:00:00Z","taken_by":"rn"}"#));
    assert_eq!(
        doseprep_ledger::Checkpoint::from_json(&checkpoint.to_json()).unwrap(),
        checkpoint
    );
    assert!(ledger.verify_against(&[checkpoint]).unwrap().ok());
}

#[test]
fn a_failed_sign_in_is_recorded_and_nothing_is_signed() {
    let mut ledger = staffed();
    let before = ledger.events().unwrap().len() as i64;
    let error = ledger
        .sign_in("mh", &pass("not mh's passphrase"))
        .unwrap_err();
    assert_eq!(
        error,
        LedgerError::SignInFailed {
            user_id: "mh".to_owned(),
            seq: Some(before + 1)
        }
    );
    // Whoever was signed in is signed out.
    assert_eq!(ledger.signed_in(), None);
    assert_eq!(
        ledger
            .thaw(
                "UC-0042",
                &[2],
                &signed("2026-11-25T08:30:00-05:00", MH_PASS)
            )
            .unwrap_err(),
        LedgerError::NotSignedIn { event: "thaw" }
    );
    // An unknown user reads the same; what was typed is not kept.
    assert_eq!(
        ledger.sign_in("nobody", &pass(MH_PASS)).unwrap_err().code(),
        "sign_in_failed"
    );
    // A wrong passphrase at a signing: the failure is recorded, the thaw not.
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    let error = ledger
        .thaw(
            "UC-0042",
            &[2],
            &signed("2026-11-25T08:30:00-05:00", "typo"),
        )
        .unwrap_err();
    assert_eq!(error.code(), "sign_in_failed");
    assert_eq!(
        ledger.signed_in(),
        None,
        "a failed signing signs the session out"
    );
    let events = ledger.events().unwrap();
    let kinds: Vec<&str> = events[before as usize..]
        .iter()
        .map(|e| e.kind.as_str())
        .collect();
    assert_eq!(kinds, ["sign_in_failed"; 3]);
    assert_eq!(
        events[before as usize + 1].body,
        r#"{"kind":"sign_in_failed","user_id":"(not a registered id)"}"#
    );
    assert_eq!(ledger.in_stock("UC-0042").unwrap().first(), Some(&2));
    let report = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(24 * 365))
        .unwrap();
    let failed: Vec<i64> = report
        .findings
        .iter()
        .filter(|f| f.kind == doseprep_ledger::FindingKind::FailedSignIn)
        .map(|f| f.seq)
        .collect();
    assert_eq!(failed, [before + 1, before + 2, before + 3]);
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn users_are_registered_by_an_administrator_with_a_passphrase_kept_as_argon2id() {
    let path = file("users");
    let mut ledger = Ledger::create(&path).unwrap();
    let nurse = new_user("rn", "Rita Nurse", "RN", "nurse");
    // The first user is an administrator; a check needs users.
    assert_eq!(
        ledger
            .register_user(&nurse, &pass(RN_PASS), None)
            .unwrap_err(),
        LedgerError::FirstUserNotAdministrator {
            role: "nurse".to_owned()
        }
    );
    let admin = new_user("admin", "Ada Admin", "AA", "administrator");
    assert_eq!(
        ledger
            .register_user(&admin, &pass("fourteen chars"), None)
            .unwrap_err(),
        LedgerError::PassphraseLength {
            length: 14,
            min: 15,
            max: 256
        }
    );
    ledger
        .register_user(&admin, &pass(ADMIN_PASS), None)
        .unwrap();
    // Every later user is registered signed, by a signed-in administrator.
    assert_eq!(
        ledger
            .register_user(&nurse, &pass(RN_PASS), None)
            .unwrap_err()
            .code(),
        "signature_required"
    );
    ledger.sign_in("admin", &pass(ADMIN_PASS)).unwrap();
    ledger
        .register_user(&nurse, &pass(RN_PASS), Some(&pass(ADMIN_PASS)))
        .unwrap();
    assert_eq!(
        ledger
            .register_user(&nurse, &pass(RN_PASS), Some(&pass(ADMIN_PASS)))
            .unwrap_err(),
        LedgerError::UserExists {
            user_id: "rn".to_owned(),
            seq: 2
        }
    );
    // An administrator handles no product.
    assert_eq!(
        ledger
            .receive(&lot(12), &signed("2026-11-20T10:00:00-05:00", ADMIN_PASS))
            .unwrap_err()
            .code(),
        "role_may_not_sign"
    );
    assert_eq!(
        ledger
            .users()
            .unwrap()
            .iter()
            .map(|u| (u.user_id.as_str(), u.role.as_str(), u.registered_seq))
            .collect::<Vec<_>>(),
        [("admin", "administrator", 1), ("rn", "nurse", 2)]
    );
    drop(ledger);
    // Only argon2id hashes (RFC 9106, the crate's default cost) are kept;
    // no passphrase is anywhere in the file.
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    let hashes: Vec<String> = sqlite
        .prepare("SELECT phc FROM credential ORDER BY user_id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(hashes.len(), 2);
    assert!(hashes
        .iter()
        .all(|phc| phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")));
    drop(sqlite);
    let bytes = std::fs::read(&path).unwrap();
    for secret in [ADMIN_PASS, RN_PASS] {
        assert!(!bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes()));
    }
    // Names checked as they are made.
    let code = |result: Result<doseprep_ledger::NewUser, LedgerError>| result.unwrap_err().code();
    let pharmacist = doseprep_ledger::Role::Pharmacist;
    assert_eq!(
        code(doseprep_ledger::NewUser::new("Mh", "M H", "MH", pharmacist)),
        "user_id"
    );
    assert_eq!(
        code(doseprep_ledger::NewUser::new("mh", " ", "MH", pharmacist)),
        "text"
    );
    assert_eq!(
        code(doseprep_ledger::NewUser::new(
            "mh", "M H", "M H", pharmacist
        )),
        "initials"
    );
    assert_eq!(
        doseprep_ledger::Role::parse("pharmacien")
            .unwrap_err()
            .code(),
        "unknown_role"
    );
}

#[test]
fn a_check_needs_users_and_a_ledger_without_them_records_initials_as_before() {
    let mut ledger = started();
    let bag = record("CARE-012", "72.4 kg", "A", 12);
    let id = bag.preparation.bag_id.unwrap();
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:00:00-05:00"),
        )
        .unwrap();
    assert_eq!(
        ledger
            .check(id, &entry("2026-11-25T09:20:00-05:00"))
            .unwrap_err(),
        LedgerError::NoUsers { event: "check" }
    );
    assert_eq!(
        ledger.sign_in("mh", &pass(MH_PASS)).unwrap_err(),
        LedgerError::NoUsers { event: "sign_in" }
    );
    ledger
        .dispense(id, "ward 4", &entry("2026-11-25T09:40:00-05:00"))
        .unwrap();
}

/// `staffed()`'s events, changed by `forge`, re-hashed from the first and
/// written to a new file with their head (state tables empty: a full
/// verify fails on the rules before it compares them): the problem named.
fn forged(
    name: &str,
    forge: impl Fn(&mut Vec<doseprep_ledger::Event>),
) -> doseprep_ledger::Problem {
    forged_from(name, staffed().events().unwrap(), forge)
}

/// As `forged`, from `events`.
fn forged_from(
    name: &str,
    mut events: Vec<doseprep_ledger::Event>,
    forge: impl Fn(&mut Vec<doseprep_ledger::Event>),
) -> doseprep_ledger::Problem {
    let path = file(name);
    drop(Ledger::create(&path).unwrap());
    forge(&mut events);
    let mut previous = doseprep_ledger::GENESIS.to_owned();
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    sqlite.pragma_update(None, "foreign_keys", false).unwrap();
    for event in &mut events {
        event.prev_hash = previous.clone();
        event.hash = event.expected_hash();
        previous = event.hash.clone();
        sqlite
            .execute(
                "INSERT INTO event (seq, kind, at, initials, comment, body, prev_hash, hash, recorded_at, signer, meaning, late_reason) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                rusqlite::params![
                    event.seq, event.kind, event.at, event.initials, event.comment, event.body,
                    event.prev_hash, event.hash, event.recorded_at, event.signer, event.meaning,
                    event.late_reason
                ],
            )
            .unwrap();
    }
    let last = events.last().unwrap();
    sqlite
        .execute(
            "INSERT INTO head (id, seq, hash) VALUES (1, ?1, ?2)",
            rusqlite::params![last.seq, last.hash],
        )
        .unwrap();
    drop(sqlite);
    Ledger::open_read_only(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap()
}

#[test]
fn a_signature_rewritten_with_every_hash_recomputed_is_caught_by_the_rules() {
    // Event 8 (mh's receipt) re-signed by the nurse: the role.
    let problem = forged("resigned", |events| {
        events[7].signer = Some("rn".to_owned());
        events[7].initials = "RN".to_owned();
    });
    assert_eq!(problem.seq, Some(8));
    assert!(
        problem
            .reason
            .contains("user rn (nurse) may sign administered, not received"),
        "{}",
        problem.reason
    );
    // Re-signed by the checker, the initials left as mh's: the registry.
    let problem = forged("initials", |events| {
        events[7].initials = "JD".to_owned();
    });
    assert_eq!(problem.seq, Some(8));
    assert!(
        problem
            .reason
            .contains("signed by mh carries the initials \"JD\", not theirs (\"MH\")"),
        "{}",
        problem.reason
    );
    // Unsigned, after the first user: initials alone are no signature.
    let problem = forged("unsigned", |events| {
        events[7].signer = None;
        events[7].meaning = None;
    });
    assert_eq!(problem.seq, Some(8));
    assert!(
        problem
            .reason
            .contains("every event is signed (here: received)"),
        "{}",
        problem.reason
    );
    // A meaning that is not the event's.
    let problem = forged("meaning", |events| {
        events[7].meaning = Some("counted".to_owned());
    });
    assert_eq!(problem.seq, Some(8));
    assert!(
        problem
            .reason
            .contains("a receive event is signed as \"counted\""),
        "{}",
        problem.reason
    );
}

#[test]
fn a_passphrase_hash_added_or_removed_behind_the_ledgers_back_is_found() {
    let path = file("credential");
    let mut ledger = Ledger::create(&path).unwrap();
    ledger
        .register_user(
            &new_user("admin", "Ada Admin", "AA", "administrator"),
            &pass(ADMIN_PASS),
            None,
        )
        .unwrap();
    drop(ledger);
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    sqlite.execute("DELETE FROM credential", []).unwrap();
    drop(sqlite);
    let problem = Ledger::open_read_only(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap();
    assert_eq!(
        problem.reason,
        "the passphrase hashes were edited: they are kept for [], the events give the users [\"admin\"]"
    );
}

#[test]
fn a_ledger_of_schema_2_is_migrated_verified_and_then_signed() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ledgers");
    let path = file("schema-2");
    std::fs::copy(vectors.join("schema-2.db"), &path).unwrap();
    let line = std::fs::read_to_string(vectors.join("schema-2.checkpoint")).unwrap();
    let checkpoint = doseprep_ledger::Checkpoint::from_json(&line).unwrap();
    let mut ledger = Ledger::open(&path)
        .unwrap()
        .with_clock(clock_at("2026-12-04T06:00:00Z"));
    assert_eq!(ledger.schema_version().unwrap(), 6);
    let events = ledger.events().unwrap();
    assert_eq!(events.len(), 4);
    assert!(events
        .iter()
        .all(|e| e.recorded_at.is_some() && e.signer.is_none() && e.hash_matches()));
    assert!(ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap()
        .ok());
    // The tables made again keep their triggers and indexes.
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    let mut objects: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_schema WHERE type IN ('trigger', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    objects.sort();
    assert_eq!(
        objects,
        [
            "bag_din",
            "bag_visit",
            "event_append_only_delete",
            "event_append_only_update",
            "event_bag",
            "event_kind",
            "event_lot",
            "event_thawed_at",
            "schema_start_fixed_delete",
            "schema_start_fixed_update"
        ]
    );
    drop(sqlite);
    // Its correction still stands, and from the first user on it is signed.
    assert!(ledger
        .accountability_csv()
        .unwrap()
        .contains("corrected event 2"));
    ledger
        .register_user(
            &new_user("admin", "Ada Admin", "AA", "administrator"),
            &pass(ADMIN_PASS),
            None,
        )
        .unwrap();
    assert_eq!(
        ledger
            .reconcile("UC-0042", 11, &entry("2026-12-04T00:50:00-05:00"))
            .unwrap_err()
            .code(),
        "signature_required"
    );
    assert!(ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap()
        .ok());
}

#[test]
fn the_review_lists_an_event_whose_time_does_not_read_and_goes_on() {
    let (path, mut ledger) = received_in_file("unreadable");
    ledger
        .destroy_containers(
            "UC-0042",
            &[3],
            "cracked",
            &entry("2026-11-21T10:00:00-05:00"),
        )
        .unwrap();
    drop(ledger);
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    sqlite
        .execute_batch(
            "DROP TRIGGER event_append_only_update; \
             UPDATE event SET at = 'the 20th' WHERE seq = 1;",
        )
        .unwrap();
    drop(sqlite);
    let ledger = Ledger::open_read_only(&path).unwrap();
    let report = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(24 * 365))
        .unwrap();
    assert!(report.verification.problem.is_some());
    let kinds: Vec<(i64, &str)> = report
        .findings
        .iter()
        .map(|f| (f.seq, f.kind.name()))
        .collect();
    assert_eq!(kinds, [(1, "unreadable"), (2, "destroyed_containers")]);
    assert!(
        report.findings[0].detail.contains("the 20th"),
        "{}",
        report.findings[0].detail
    );
}

#[test]
fn a_disabled_user_signs_nothing_and_a_user_changes_their_own_passphrase() {
    let mut ledger = staffed();
    let admin = pass(ADMIN_PASS);
    // A user changes their passphrase with the current one.
    assert_eq!(
        ledger
            .change_passphrase(
                "jd",
                &pass("not jd's passphrase"),
                &pass("a brand new long one")
            )
            .unwrap_err()
            .code(),
        "sign_in_failed"
    );
    let changed = ledger
        .change_passphrase("jd", &pass(JD_PASS), &pass("a brand new long one"))
        .unwrap();
    assert_eq!(
        ledger.sign_in("jd", &pass(JD_PASS)).unwrap_err().code(),
        "sign_in_failed"
    );
    ledger.sign_in("jd", &pass("a brand new long one")).unwrap();
    // An administrator disables mh, not themselves.
    ledger.sign_in("admin", &admin).unwrap();
    assert_eq!(
        ledger.disable_user("admin", "testing", &admin).unwrap_err(),
        LedgerError::DisableSelf {
            user_id: "admin".to_owned()
        }
    );
    let disabled = ledger
        .disable_user("mh", "left the pharmacy", &admin)
        .unwrap();
    assert_eq!(
        ledger.disable_user("mh", "again", &admin).unwrap_err(),
        LedgerError::UserDisabled {
            user_id: "mh".to_owned(),
            seq: disabled
        }
    );
    // A forgotten passphrase is reset by an administrator; not a
    // disabled user's.
    let reset = ledger
        .reset_passphrase("rn", &pass("rita's passphrase, reset"), &admin)
        .unwrap();
    assert_eq!(
        ledger
            .reset_passphrase("mh", &pass("mh's passphrase, reset"), &admin)
            .unwrap_err()
            .code(),
        "user_disabled"
    );
    // mh's passphrase no longer signs them in (its hash is gone).
    assert_eq!(
        ledger.sign_in("mh", &pass(MH_PASS)).unwrap_err().code(),
        "sign_in_failed"
    );
    // The administrator knows the passphrase they set: rn signs nothing
    // with it, and makes a new one first (not the same again).
    assert_eq!(
        ledger
            .sign_in("rn", &pass("rita's passphrase, reset"))
            .unwrap_err(),
        LedgerError::PassphraseNotChanged {
            user_id: "rn".to_owned(),
            set_by: "admin".to_owned(),
            seq: reset
        }
    );
    assert_eq!(
        ledger
            .change_passphrase(
                "rn",
                &pass("rita's passphrase, reset"),
                &pass("rita's passphrase, reset")
            )
            .unwrap_err()
            .code(),
        "passphrase_unchanged"
    );
    ledger
        .change_passphrase(
            "rn",
            &pass("rita's passphrase, reset"),
            &pass("rita's own passphrase now"),
        )
        .unwrap();
    ledger
        .sign_in("rn", &pass("rita's own passphrase now"))
        .unwrap();
    // A nurse resets no one's passphrase.
    assert_eq!(
        ledger
            .reset_passphrase(
                "jd",
                &pass("jd's passphrase, reset"),
                &pass("rita's own passphrase now")
            )
            .unwrap_err()
            .code(),
        "role_may_not_sign"
    );
    let users = ledger.users().unwrap();
    assert_eq!(users[1].user_id, "mh");
    assert_eq!(users[1].disabled_seq, Some(disabled));
    let events = ledger.events().unwrap();
    let change = &events[usize::try_from(changed - 1).unwrap()];
    assert_eq!(
        (
            change.kind.as_str(),
            change.initials.as_str(),
            change.signer.as_deref()
        ),
        ("change_passphrase", "JD", None)
    );
    let reset_event = &events[usize::try_from(reset - 1).unwrap()];
    assert_eq!(
        (
            reset_event.kind.as_str(),
            reset_event.signer.as_deref(),
            reset_event.meaning.as_deref()
        ),
        ("reset_passphrase", Some("admin"), Some("reset"))
    );
    let off = &events[usize::try_from(disabled - 1).unwrap()];
    assert_eq!(
        (off.signer.as_deref(), off.meaning.as_deref()),
        (Some("admin"), Some("disabled"))
    );
    let report = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(24 * 365))
        .unwrap();
    let access: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.kind == doseprep_ledger::FindingKind::AccessChange)
        .map(|f| f.detail.as_str())
        .collect();
    assert_eq!(
        access,
        [
            "user admin (Ada Admin) registered as administrator",
            "user mh (Marie Hébert) registered as pharmacist",
            "user mh changed their passphrase",
            "user jd (Jean Dubois) registered as checker",
            "user jd changed their passphrase",
            "user rn (Rita Nurse) registered as nurse",
            "user rn changed their passphrase",
            "user jd changed their passphrase",
            "user mh disabled: left the pharmacy",
            "passphrase of user rn reset by an administrator",
            "user rn changed their passphrase",
        ]
    );
    assert!(ledger.verify().unwrap().ok());
}

#[test]
fn past_the_ledgers_late_entry_limit_an_event_says_why() {
    let mut ledger = staffed();
    let admin = pass(ADMIN_PASS);
    assert_eq!(ledger.late_entry_limit().unwrap(), None);
    // Only an administrator sets it, in whole minutes, 1 min to a week.
    assert_eq!(
        ledger
            .configure_late_entry_limit(jiff::SignedDuration::from_hours(4), &pass(MH_PASS))
            .unwrap_err()
            .code(),
        "role_may_not_sign"
    );
    ledger.sign_in("admin", &admin).unwrap();
    for (after, code) in [
        (jiff::SignedDuration::from_secs(90), "invalid_input"),
        (jiff::SignedDuration::ZERO, "late_entry_limit"),
        (jiff::SignedDuration::from_hours(24 * 8), "late_entry_limit"),
    ] {
        assert_eq!(
            ledger
                .configure_late_entry_limit(after, &admin)
                .unwrap_err()
                .code(),
            code
        );
    }
    let set = ledger
        .configure_late_entry_limit(jiff::SignedDuration::from_hours(4), &admin)
        .unwrap();
    assert_eq!(
        ledger.late_entry_limit().unwrap(),
        Some(jiff::SignedDuration::from_hours(4))
    );
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    // Written at 22:00 UTC (17:00 EST): a thaw of 08:30 is 8 h 30 min late.
    let thaw = |ledger: &mut Ledger, container: u32, time: &str, reason: Option<&str>| {
        let entry = signed(time, MH_PASS);
        let entry = match reason {
            Some(reason) => entry.with_late_reason(reason).unwrap(),
            None => entry,
        };
        ledger.thaw("UC-0042", &[container], &entry)
    };
    assert_eq!(
        thaw(&mut ledger, 2, "2026-11-25T08:30:00-05:00", None)
            .unwrap_err()
            .to_string(),
        "thaw: at 2026-11-25 08:30 -05 is written at 2026-11-25 17:00 -05, more than this \
         ledger's late-entry limit of 240 min after it happened; give late_reason: why it is \
         recorded late (or, if the time is wrong, the time it happened)"
    );
    let late = thaw(
        &mut ledger,
        2,
        "2026-11-25T08:30:00-05:00",
        Some("transcribed from the paper log"),
    )
    .unwrap();
    // Within the limit, no reason is given.
    assert_eq!(
        thaw(
            &mut ledger,
            3,
            "2026-11-25T16:00:00-05:00",
            Some("no reason")
        )
        .unwrap_err()
        .code(),
        "late_reason_not_needed"
    );
    thaw(&mut ledger, 3, "2026-11-25T16:00:00-05:00", None).unwrap();
    let events = ledger.events().unwrap();
    let event = &events[usize::try_from(late - 1).unwrap()];
    assert_eq!(
        event.late_reason.as_deref(),
        Some("transcribed from the paper log")
    );
    assert!(event.hash_matches());
    assert!(ledger.verify().unwrap().ok());
    let report = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(4))
        .unwrap();
    let details: Vec<(i64, &str)> = report
        .findings
        .iter()
        .filter(|f| f.seq >= set)
        .map(|f| (f.seq, f.detail.as_str()))
        .collect();
    assert_eq!(
        details,
        [
            (set, "late-entry limit set to 240 min"),
            (
                late,
                "written 8 h 30 min after the time it gives: transcribed from the paper log"
            ),
        ]
    );
    // The reason taken out and every hash recomputed: the replay names it.
    let index = usize::try_from(late - 1).unwrap();
    let problem = forged_from("late", events, |events| {
        events[index].late_reason = None;
    });
    assert_eq!(problem.seq, Some(late));
    assert!(
        problem
            .reason
            .contains("more than this ledger's late-entry limit of 240 min"),
        "{}",
        problem.reason
    );
}

/// A day's plan is recorded when it is written, as planned; each thaw and
/// each bag is recorded when it is done. A container thawed before its
/// plan's time (which the label's infuse-by counts from) refuses the bag,
/// which is cancelled and planned again.
#[test]
fn a_day_is_planned_when_written_and_each_thaw_and_bag_when_done() {
    let mut ledger = staffed(); // written at 17:00 EST on the 25th
    ledger.sign_in("admin", &pass(ADMIN_PASS)).unwrap();
    ledger
        .configure_late_entry_limit(jiff::SignedDuration::from_hours(4), &pass(ADMIN_PASS))
        .unwrap();
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    let mh = || Entry::signed(at("2026-11-25T17:00:00-05:00"), pass(MH_PASS), None).unwrap();
    let late = |time: &str| {
        Entry::signed(at(time), pass(MH_PASS), None)
            .unwrap()
            .with_late_reason("entered from the worksheet")
            .unwrap()
    };
    let free = ledger.in_stock("UC-0042").unwrap();
    let first = free[0];
    let stock = lot(12).with_container_numbers(free.clone()).unwrap();
    let (plan, records) = plan_a_day(
        &stock,
        &[
            ("CARE-001", "A", "80", "2026-11-25T09:00:00-05:00"),
            ("CARE-002", "C", "80", "2026-11-25T09:00:00-05:00"),
        ],
    );
    let (active, placebo) = (
        records[0].preparation.bag_id.unwrap(),
        records[1].preparation.bag_id.unwrap(),
    );
    let planned = ledger
        .record_day(&plan.thaws, &records, &By::Passphrase(pass(MH_PASS)), None)
        .unwrap();
    let events = ledger.events().unwrap();
    for seq in &planned {
        let event = &events[usize::try_from(seq - 1).unwrap()];
        // Dated when written (22:00 UTC), on the site's clock; never late.
        assert_eq!(
            (
                event.kind.as_str(),
                event.at.as_str(),
                event.late_reason.as_deref()
            ),
            ("plan", "2026-11-25T17:00:00-05:00[America/Toronto]", None)
        );
        assert_eq!(event.meaning.as_deref(), Some("planned"));
    }
    // The active bag's container is set aside, not free to plan again.
    assert_eq!(plan.thaws[0].containers, vec![first]);
    assert_eq!(ledger.in_stock("UC-0042").unwrap(), free[1..].to_vec());
    let code = |result: Result<i64, LedgerError>| result.map_err(|e| e.code()).err();
    // Nothing is made yet: not checked, destroyed, or made before its thaw.
    assert_eq!(code(ledger.check(active, &mh())), Some("bag_state"));
    assert_eq!(
        code(ledger.destroy_bag(active, "dropped", &mh())),
        Some("bag_state")
    );
    assert_eq!(
        code(ledger.prepare_planned(active, &late("2026-11-25T09:10:00-05:00"))),
        Some("container_state")
    );
    assert_eq!(
        code(ledger.return_containers("UC-0042", &[first], &mh())),
        Some("container_state")
    );
    // Thawed at 08:10, before the plan's 08:30: the active bag's label
    // would allow 20 min more than its cells have. Refused, and so is its
    // placebo twin (whose session it is): both are cancelled alike.
    ledger
        .thaw("UC-0042", &[first], &late("2026-11-25T08:10:00-05:00"))
        .unwrap();
    let refused = ledger
        .prepare_planned(active, &late("2026-11-25T09:10:00-05:00"))
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        format!(
            "prepare_planned: container {first} of lot \"UC-0042\" was thawed at 2026-11-25 08:10 EST, \
             before 2026-11-25 08:30 EST, the thaw bag {active}'s label counts its infuse-by time \
             from; cancel every bag of the session alike, active and placebo (cancel_bag), and \
             plan them again, so their labels count from the thaw as done"
        )
    );
    assert_eq!(
        code(ledger.prepare_planned(placebo, &late("2026-11-25T09:00:00-05:00"))),
        Some("thawed_before_plan")
    );
    // Reviewed at 17:00, past their infuse-by times: two open plans.
    let open = |ledger: &Ledger| {
        ledger
            .audit(None, None, jiff::SignedDuration::from_hours(4))
            .unwrap()
            .findings
            .iter()
            .filter(|f| f.kind.name() == "open_plan")
            .map(|f| f.seq)
            .collect::<Vec<i64>>()
    };
    assert_eq!(open(&ledger), planned);
    // Its chain of identity: the container set aside, not drawn, with the
    // thaw of 08:10.
    let thaw_seq = planned.last().unwrap() + 1;
    let set_aside = ledger.chain_of_identity(active).unwrap();
    assert_eq!(set_aside.draws_are, doseprep_ledger::DrawsAre::SetAside);
    assert_eq!(
        set_aside
            .draws
            .iter()
            .map(|d| (d.container, d.thaw_seq))
            .collect::<Vec<_>>(),
        vec![(first, Some(thaw_seq))]
    );
    for bag in [active, placebo] {
        ledger
            .cancel_bag(bag, "the session thawed at 08:10, before the plan", &mh())
            .unwrap();
    }
    assert_eq!(open(&ledger), Vec::<i64>::new());
    // Given back: nothing was drawn for either twin; the active's
    // container was thawed (08:10) before the cancellation.
    for bag in [active, placebo] {
        let chain = ledger.chain_of_identity(bag).unwrap();
        assert_eq!(chain.draws_are, doseprep_ledger::DrawsAre::GivenBack);
    }
    assert_eq!(
        ledger.chain_of_identity(active).unwrap().draws[0].thaw_seq,
        Some(thaw_seq)
    );
    assert_eq!(
        code(ledger.cancel_bag(placebo, "again", &mh())),
        Some("bag_state")
    );
    assert_eq!(
        code(ledger.prepare_planned(active, &late("2026-11-25T09:10:00-05:00"))),
        Some("bag_state")
    );
    assert_eq!(
        ledger.reprint(active).unwrap_err().code(),
        "bag_state",
        "a cancelled bag's label is not printed again"
    );
    // The visit is planned again: one bag stands for each visit.
    let standing: Vec<String> = ledger
        .standing_bags()
        .unwrap()
        .iter()
        .map(|bag| bag.bag_id.as_text())
        .collect();
    assert!(standing.is_empty(), "{standing:?}");
    let balance = ledger.balance("UC-0042").unwrap();
    assert_eq!(balance.on_hand, 12 - balance.thawed);
    let review = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(4))
        .unwrap();
    assert!(review.verification.ok(), "{:?}", review.verification);
    assert!(review
        .findings
        .iter()
        .any(|f| f.kind.name() == "cancelled_bag" && f.detail.contains("before the plan")));
    // The blinded log: each twin's plan and cancellation, dated by their
    // session.
    let blinded = ledger.blinded_csv().unwrap();
    assert_eq!(blinded.lines().count(), 5, "{blinded}");
    assert!(
        !blinded.contains("08:10") && !blinded.contains("09:00"),
        "{blinded}"
    );
    assert!(ledger.verify().unwrap().ok());
}

/// A plan cancelled, then the thaw of its container entered late, dated
/// before the cancellation: the chain of identity of the bag given back
/// names that thaw. A container given back, planned again and thawed after
/// the cancellation: that thaw is the new bag's, not the one given back.
#[test]
fn a_given_back_bag_names_the_thaw_done_by_its_cancellation() {
    let mut ledger = staffed(); // written at 17:00 EST on the 25th
    ledger.sign_in("mh", &pass(MH_PASS)).unwrap();
    let signed = |time: &str| Entry::signed(at(time), pass(MH_PASS), None).unwrap();
    let plan_one = |ledger: &mut Ledger, participant: &str, seed: u64| {
        let (plan, records) = plan_from_stock(
            ledger,
            &[(participant, "A", "80", "2026-11-25T19:00:00-05:00")],
            seed,
        );
        ledger
            .record_day(&plan.thaws, &records, &By::Passphrase(pass(MH_PASS)), None)
            .unwrap();
        (
            records[0].preparation.bag_id.unwrap(),
            plan.thaws[0].containers[0],
        )
    };
    let (first, first_container) = plan_one(&mut ledger, "CARE-001", 1);
    ledger
        .cancel_bag(
            first,
            "participant unwell",
            &signed("2026-11-25T17:00:00-05:00"),
        )
        .unwrap();
    // Thawed at 13:00, written after the cancellation.
    let early = ledger
        .thaw(
            "UC-0042",
            &[first_container],
            &signed("2026-11-25T13:00:00-05:00"),
        )
        .unwrap();
    let chain = ledger.chain_of_identity(first).unwrap();
    assert_eq!(chain.draws_are, doseprep_ledger::DrawsAre::GivenBack);
    let thaws = |chain: &doseprep_ledger::ChainOfIdentity| {
        chain
            .draws
            .iter()
            .map(|d| (d.container, d.thaw_seq))
            .collect::<Vec<_>>()
    };
    assert_eq!(thaws(&chain), vec![(first_container, Some(early))]);
    // A second bag cancelled before its container is thawed; a third
    // planned from that container, thawed at 17:03, after the cancellation.
    let (second, second_container) = plan_one(&mut ledger, "CARE-002", 2);
    ledger
        .cancel_bag(second, "visit moved", &signed("2026-11-25T17:00:00-05:00"))
        .unwrap();
    let (third, third_container) = plan_one(&mut ledger, "CARE-003", 3);
    assert_eq!(third_container, second_container);
    // Its visit planned again: the refusal names the plan, not a preparation.
    let (plan, records) = plan_from_stock(
        &ledger,
        &[("CARE-003", "A", "80", "2026-11-25T19:00:00-05:00")],
        4,
    );
    let again = ledger
        .record_day(&plan.thaws, &records, &By::Passphrase(pass(MH_PASS)), None)
        .unwrap_err();
    assert!(
        again.to_string().starts_with(&format!(
            "plan: participant CARE-003 has bag {third} for visit month-0 already"
        )),
        "{again}"
    );
    let later = ledger
        .thaw(
            "UC-0042",
            &[third_container],
            &signed("2026-11-25T17:03:00-05:00"),
        )
        .unwrap();
    assert_eq!(
        thaws(&ledger.chain_of_identity(second).unwrap()),
        vec![(second_container, None)]
    );
    let chain = ledger.chain_of_identity(third).unwrap();
    assert_eq!(chain.draws_are, doseprep_ledger::DrawsAre::SetAside);
    assert_eq!(thaws(&chain), vec![(third_container, Some(later))]);
    assert!(ledger.verify().unwrap().ok());
}

/// An active bag planned in the morning's call with its session's thaw,
/// its placebo twin added to the same session by a later call that thaws
/// nothing: the session as the ledger holds it refuses both alike, after a
/// thaw before the plan's time, or a container gone before they are made.
#[test]
fn twins_planned_in_two_calls_are_held_alike() {
    let by = By::Initials("MH".to_owned());
    let (plan, records) = plan_a_day(
        &lot(12),
        &[
            ("CARE-012", "A", "72.4", "2026-11-25T09:00:00-05:00"),
            ("CARE-013", "C", "72.4", "2026-11-25T09:00:00-05:00"),
        ],
    );
    let ids: Vec<BagId> = records
        .iter()
        .map(|r| r.preparation.bag_id.unwrap())
        .collect();
    let containers = plan.thaws[0].containers.clone();
    let planned = |ledger: &mut Ledger| {
        ledger
            .receive(&lot(12), &entry("2026-11-20T10:00:00-05:00"))
            .unwrap();
        ledger
            .record_day(&plan.thaws, &records[..1], &by, None)
            .unwrap();
        ledger.record_day(&[], &records[1..], &by, None).unwrap();
    };
    let made = |ledger: &mut Ledger| -> Vec<&'static str> {
        ids.iter()
            .map(|id| {
                ledger
                    .prepare_planned(*id, &entry("2026-11-25T09:10:00-05:00"))
                    .map_or_else(|error| error.code(), |_| "made")
            })
            .collect()
    };
    let mut early = fresh().with_clock(clock_at(WRITTEN_AT));
    planned(&mut early);
    early
        .thaw("UC-0042", &containers, &entry("2026-11-25T08:10:00-05:00"))
        .unwrap();
    assert_eq!(made(&mut early), ["thawed_before_plan"; 2]);
    let mut gone = fresh().with_clock(clock_at(WRITTEN_AT));
    planned(&mut gone);
    gone.thaw("UC-0042", &containers, &entry("2026-11-25T08:30:00-05:00"))
        .unwrap();
    gone.destroy_containers(
        "UC-0042",
        &containers,
        "dropped",
        &entry("2026-11-25T08:40:00-05:00"),
    )
    .unwrap();
    assert_eq!(made(&mut gone), ["container_state"; 2]);
    let mut on_time = fresh().with_clock(clock_at(WRITTEN_AT));
    planned(&mut on_time);
    on_time
        .thaw("UC-0042", &containers, &entry("2026-11-25T08:35:00-05:00"))
        .unwrap();
    assert_eq!(made(&mut on_time), ["made"; 2]);
    assert!(on_time.verify().unwrap().ok());
}

#[test]
fn a_setting_edited_behind_the_ledgers_back_is_found() {
    let path = file("setting");
    let mut ledger = Ledger::create(&path).unwrap();
    ledger
        .register_user(
            &new_user("admin", "Ada Admin", "AA", "administrator"),
            &pass(ADMIN_PASS),
            None,
        )
        .unwrap();
    ledger.sign_in("admin", &pass(ADMIN_PASS)).unwrap();
    ledger
        .configure_late_entry_limit(jiff::SignedDuration::from_hours(4), &pass(ADMIN_PASS))
        .unwrap();
    drop(ledger);
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    sqlite
        .execute("UPDATE setting SET value = 10080", [])
        .unwrap();
    drop(sqlite);
    let problem = Ledger::open_read_only(&path)
        .unwrap()
        .verify()
        .unwrap()
        .problem
        .unwrap();
    assert!(
        problem
            .reason
            .contains("setting late_entry_after_min: 10080"),
        "{}",
        problem.reason
    );
}

/// CARE-SSc in Paris, the site holding infusions to 20 min at the
/// shortest (its planned infusion is 30 min).
fn shortest_20_min_protocol() -> Protocol {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/protocols/care-ssc-paris.toml"
    ))
    .unwrap();
    let line = "infusion_duration = \"30 min\"";
    assert!(text.contains(line));
    Protocol::from_toml(&text.replace(
        line,
        "shortest_infusion = \"20 min\"\ninfusion_duration = \"30 min\"",
    ))
    .unwrap()
}

#[test]
fn an_infusion_shorter_than_its_sites_shortest_needs_a_reason_and_the_review_lists_it() {
    let mut ledger = started();
    let bag = record_of(&shortest_20_min_protocol(), "CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:00:00-05:00"),
        )
        .unwrap();
    let give = |ledger: &mut Ledger, end: &str, short_reason: Option<&str>| {
        let infusion = Infusion {
            short_reason: short_reason.map(str::to_owned),
            ..infused(&at("2026-11-25T10:00:00-05:00"), &at(end), None)
        };
        ledger.administer(id, "CARE-012", &infusion, &entry(end))
    };
    // 10:00 to 10:12 is 12 min, under the site's 20.
    let short = give(&mut ledger, "2026-11-25T10:12:00-05:00", None).unwrap_err();
    assert_eq!(short.code(), "short_infusion");
    assert_eq!(
        short.to_string(),
        format!("administer: bag {id}'s infusion ran 12 min, shorter than its site's shortest infusion of 20 min (planned 30 min); check started_at and ended_at; if it did run that fast, record it with short_reason (why)")
    );
    // 10:00 to 10:20 is not shorter than 20 min: no reason to give.
    let not_short = give(
        &mut ledger,
        "2026-11-25T10:20:00-05:00",
        Some("pump set too fast"),
    )
    .unwrap_err();
    assert_eq!(not_short.code(), "short_reason_not_needed");
    let seq = give(
        &mut ledger,
        "2026-11-25T10:12:00-05:00",
        Some("pump set at 250 mL/h"),
    )
    .unwrap();
    assert!(ledger.verify().unwrap().ok());
    let review = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(24))
        .unwrap();
    let listed: Vec<_> = review
        .findings
        .iter()
        .filter(|finding| finding.seq == seq)
        .map(|finding| (finding.kind.name(), finding.detail.clone()))
        .collect();
    assert_eq!(
        listed,
        [(
            "short_infusion",
            format!(
                "bag {id}'s infusion ran shorter than its site's shortest: pump set at 250 mL/h"
            )
        )]
    );
}

#[test]
fn a_site_without_a_shortest_infusion_takes_no_short_reason() {
    let mut ledger = started();
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:00:00-05:00"),
        )
        .unwrap();
    let infusion = Infusion {
        short_reason: Some("fast".to_owned()),
        ..infused(
            &at("2026-11-25T10:00:00-05:00"),
            &at("2026-11-25T10:05:00-05:00"),
            None,
        )
    };
    let refused = ledger
        .administer(
            id,
            "CARE-012",
            &infusion,
            &entry("2026-11-25T10:05:00-05:00"),
        )
        .unwrap_err();
    assert_eq!(refused.code(), "short_reason_not_needed");
    assert!(
        refused
            .to_string()
            .contains("its site sets no shortest infusion (site.shortest_infusion)"),
        "{refused}"
    );
    // Without it, a 5-minute infusion is recorded: the site set no limit.
    let infusion = Infusion {
        short_reason: None,
        ..infusion
    };
    ledger
        .administer(
            id,
            "CARE-012",
            &infusion,
            &entry("2026-11-25T10:05:00-05:00"),
        )
        .unwrap();
}

#[test]
fn a_second_receipt_past_what_a_count_holds_is_refused_not_wrapped() {
    let mut ledger = started();
    // A lot file may give any count a u32 holds; 12 are on record already.
    let huge = Lot::new(LotSpec {
        containers: u32::MAX,
        ..lot_spec(12)
    })
    .unwrap();
    let refused = ledger
        .receive(&huge, &entry("2026-11-21T10:00:00-05:00"))
        .unwrap_err();
    assert_eq!(refused.code(), "too_many_containers");
}

#[test]
fn a_record_whose_site_settings_no_longer_read_is_named_by_verify_not_taken_as_no_limit() {
    let mut ledger = started();
    let bag = record_of(&shortest_20_min_protocol(), "CARE-012", "72.4 kg", "A", 1);
    let id = bag.preparation.bag_id.unwrap();
    ledger
        .prepare(
            &bag,
            Some(vec![draw(1, "5.8 mL")]),
            &entry("2026-11-25T09:00:00-05:00"),
        )
        .unwrap();
    let infusion = Infusion {
        short_reason: Some("pump at 250 mL/h".to_owned()),
        ..infused(
            &at("2026-11-25T10:00:00-05:00"),
            &at("2026-11-25T10:12:00-05:00"),
            None,
        )
    };
    ledger
        .administer(
            id,
            "CARE-012",
            &infusion,
            &entry("2026-11-25T10:12:00-05:00"),
        )
        .unwrap();
    let events = ledger.events().unwrap();
    // The shortest infusion rewritten as a bare number, every hash recomputed.
    let problem = forged_from("site-settings", events, |events| {
        let body = &mut events[2].body;
        assert!(body.contains(r#""shortest_infusion":"20 min""#), "{body}");
        *body = body.replace(
            r#""shortest_infusion":"20 min""#,
            r#""shortest_infusion":20"#,
        );
    });
    assert_eq!(problem.seq, Some(3));
    assert!(
        problem.reason.contains("site settings do not read"),
        "{}",
        problem.reason
    );
}

/// A ledger written by the build that released schema 3 (users,
/// signatures, late entries; `tests/vectors/README.md` says how it was
/// made) reads and verifies alike with this build's replay, bodies and hash.
#[test]
fn a_ledger_written_by_the_schema_3_release_verifies_and_reads_alike() {
    let vectors = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/ledgers");
    let path = file("schema-3");
    std::fs::copy(vectors.join("schema-3.db"), &path).unwrap();
    let line = std::fs::read_to_string(vectors.join("schema-3.checkpoint")).unwrap();
    let checkpoint = doseprep_ledger::Checkpoint::from_json(&line).unwrap();
    // Read-only, it is refused until migrated: a read-only connection
    // cannot bring it to this schema.
    assert_eq!(
        Ledger::open_read_only(&path).unwrap_err().code(),
        "schema_too_old"
    );
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(ledger.schema_version().unwrap(), 6);
    let verification = ledger
        .verify_against(std::slice::from_ref(&checkpoint))
        .unwrap();
    assert!(verification.ok(), "{verification:?}");
    assert_eq!(verification.events, 19);
    let events = ledger.events().unwrap();
    assert!(events
        .iter()
        .all(|event| event.hash_matches() && event.parsed_body().is_some()));
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "register_user",
            "register_user",
            "register_user",
            "register_user",
            "configure",
            "receive",
            "thaw",
            "prepare",
            "prepare",
            "check",
            "dispense",
            "administer",
            "correct",
            "destroy_bag",
            "count",
            "sign_in_failed",
            "change_passphrase",
            "reset_passphrase",
            "disable_user"
        ]
    );
    let review = ledger
        .audit(None, None, jiff::SignedDuration::from_hours(4))
        .unwrap();
    let found: Vec<&str> = review.findings.iter().map(|f| f.kind.name()).collect();
    assert_eq!(
        found,
        [
            "access_change",
            "access_change",
            "access_change",
            "access_change",
            "access_change",
            "late_entry",
            "late_entry",
            "late_entry",
            "late_entry",
            "late_entry",
            "late_entry",
            "late_entry",
            "correction",
            "destroyed_bag",
            "count_difference",
            "failed_sign_in",
            "access_change",
            "access_change",
            "access_change"
        ]
    );
    let text = review.to_text("schema-3.db");
    assert!(
        text.contains("by RN (signed by Rita Nurse (rn) as administered): written 18 h 14 min after the time it gives: infusion charted on paper"),
        "{text}"
    );
    // The accountability log names the nurse who signed the infusion.
    let csv = ledger.accountability_csv().unwrap();
    let infusion = csv.lines().find(|line| line.starts_with("12,")).unwrap();
    assert!(
        infusion.ends_with(",RN,rn,Rita Nurse,administered,infusion charted on paper,,,"),
        "{infusion}"
    );
}

/// Verify checks a long ledger's hashes in batches of 256 on a second
/// thread, a batch ahead of the replay: a changed event is named wherever
/// it falls (first or last of a batch, deep in the ledger), the first of
/// two is the one named, and an untouched ledger verifies whole.
#[test]
fn a_changed_event_is_named_wherever_it_falls_in_a_long_ledger() {
    let path = file("long");
    let mut ledger = Ledger::create(&path)
        .unwrap()
        .with_clock(clock_at(WRITTEN_AT));
    let receipts: i64 = 2_000;
    for number in 1..=receipts {
        let spec = LotSpec {
            lot_id: format!("UC-{number:04}"),
            ..lot_spec(1)
        };
        ledger
            .receive(
                &Lot::new(spec).unwrap(),
                &entry("2026-11-20T10:00:00-05:00"),
            )
            .unwrap();
    }
    let whole = ledger.verify().unwrap();
    assert!(whole.ok(), "{whole:?}");
    assert_eq!(whole.events, receipts);
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch("DROP TRIGGER event_append_only_update;")
        .unwrap();
    let set_initials = |seq: i64, initials: &str| {
        connection
            .execute(
                "UPDATE event SET initials = ?1 WHERE seq = ?2",
                rusqlite::params![initials, seq],
            )
            .unwrap();
    };
    let named = |ledger: &Ledger| {
        let found = ledger.verify().unwrap().problem.unwrap();
        (found.seq, found.reason)
    };
    let changed = |seq: i64| {
        (
            Some(seq),
            format!("event {seq} was changed after it was recorded: its hash does not match its contents"),
        )
    };
    // The first and last of a batch of 256, and events deep in the ledger.
    for seq in [1, 256, 257, 700, 1_337, 1_999, receipts] {
        set_initials(seq, "XX");
        assert_eq!(named(&ledger), changed(seq), "event {seq} changed");
        set_initials(seq, "MH");
    }
    set_initials(1_600, "XX");
    set_initials(700, "XX");
    assert_eq!(
        named(&ledger),
        changed(700),
        "the first of two changed events"
    );
    set_initials(700, "MH");
    set_initials(1_600, "MH");
    assert!(ledger.verify().unwrap().ok());
}

/// A lot shipped from one site's ledger to another's: every event from a
/// ledger's set_site names the site and the workstation that wrote it, the
/// containers leave the sender's stock, and the receipt names the shipment.
#[test]
fn sites_name_their_events_and_lots_ship_between_them() {
    let by = By::Initials("MH".to_owned());
    let mut jgh = fresh();
    jgh.receive(&lot(4), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    // A site needs a workstation to write at; one is named only where
    // the ledger has a site.
    let error = jgh
        .set_site("JGH", "Jewish General Hospital", &by)
        .unwrap_err();
    assert_eq!(error.code(), "no_workstation", "{error}");
    let mut jgh = jgh.with_workstation("bench-1").unwrap();
    let error = jgh.ship("UC-0042", &[3], "CHUM", &entry("2026-11-21T10:00:00-05:00"));
    assert_eq!(
        error.unwrap_err(),
        LedgerError::WorkstationWithoutSite {
            workstation: "bench-1".to_owned()
        }
    );
    assert_eq!(jgh.site().unwrap(), None);
    let set = jgh.set_site("JGH", "Jewish General Hospital", &by).unwrap();
    assert_eq!(set, 2);
    assert_eq!(jgh.site().unwrap(), Some(("JGH".to_owned(), 2)));
    assert_eq!(
        jgh.set_site("CHUM", "CHUM", &by).unwrap_err(),
        LedgerError::SiteAlreadySet {
            site: "JGH".to_owned(),
            seq: 2
        }
    );
    let shipped_at = entry("2026-11-21T10:00:00-05:00");
    assert_eq!(
        jgh.ship("UC-0042", &[3], "JGH", &shipped_at).unwrap_err(),
        LedgerError::SameSite {
            event: "ship",
            site: "JGH".to_owned()
        }
    );
    assert_eq!(
        jgh.ship("UC-0042", &[3], "Montréal", &shipped_at)
            .unwrap_err()
            .code(),
        "site_name"
    );
    let ship = jgh.ship("UC-0042", &[3, 4], "CHUM", &shipped_at).unwrap();
    assert_eq!(ship, 3);
    let again = jgh.ship("UC-0042", &[4], "CHUM", &shipped_at).unwrap_err();
    assert_eq!(again.code(), "container_state", "{again}");
    assert!(again.to_string().contains("is shipped"), "{again}");
    let thaw = jgh
        .thaw("UC-0042", &[3], &entry("2026-11-22T08:00:00-05:00"))
        .unwrap_err();
    assert_eq!(thaw.code(), "container_state", "{thaw}");
    let balance = jgh.balance("UC-0042").unwrap();
    assert_eq!(
        (balance.received, balance.shipped, balance.on_hand),
        (4, 2, 2)
    );
    assert_eq!(jgh.in_stock("UC-0042").unwrap(), vec![1, 2]);
    // The receipt before the site names none; every event from set_site does.
    let stations: Vec<Option<Station>> = jgh
        .events()
        .unwrap()
        .into_iter()
        .map(|e| e.station)
        .collect();
    let bench = Some(Station {
        site: "JGH".to_owned(),
        workstation: "bench-1".to_owned(),
    });
    assert_eq!(stations, vec![None, bench.clone(), bench]);
    assert!(jgh.verify().unwrap().ok());
    // A workstation of another ledger handle is named as its own.
    let csv = jgh.accountability_csv().unwrap();
    assert!(
        csv.lines().any(|line| line.starts_with("3,")
            && line.contains(",shipped to CHUM,")
            && line.ends_with(",JGH,bench-1")),
        "{csv}"
    );

    let mut chum = fresh().with_workstation("pharm-a").unwrap();
    chum.set_site(
        "CHUM",
        "Centre hospitalier de l'Université de Montréal",
        &by,
    )
    .unwrap();
    let arrived = entry("2026-11-21T15:00:00-05:00");
    let shipment = |from_site: &str, seq: i64, containers: &[u32]| Shipment {
        from_site: from_site.to_owned(),
        seq,
        containers: containers.to_vec(),
    };
    assert_eq!(
        chum.receive_shipment(&lot(2), &shipment("JGH", 3, &[3]), &arrived)
            .unwrap_err(),
        LedgerError::ShipmentContainers {
            lot_id: "UC-0042".to_owned(),
            listed: 1,
            received: 2
        }
    );
    assert_eq!(
        chum.receive_shipment(&lot(2), &shipment("JGH", 3, &[3, 3]), &arrived)
            .unwrap_err()
            .code(),
        "duplicate_container"
    );
    assert_eq!(
        chum.receive_shipment(&lot(2), &shipment("CHUM", 3, &[3, 4]), &arrived)
            .unwrap_err()
            .code(),
        "same_site"
    );
    assert_eq!(
        chum.receive_shipment(&lot(2), &shipment("JGH", 0, &[3, 4]), &arrived)
            .unwrap_err(),
        LedgerError::ShipmentEvent { seq: 0 }
    );
    let receipt = chum
        .receive_shipment(&lot(2), &shipment("JGH", 3, &[3, 4]), &arrived)
        .unwrap();
    assert_eq!(receipt, 2);
    // A shipment's container is received once.
    assert_eq!(
        chum.receive_shipment(&lot(1), &shipment("JGH", 3, &[4]), &arrived)
            .unwrap_err(),
        LedgerError::ShipmentReceived {
            from_site: "JGH".to_owned(),
            seq: 3,
            container: 4,
            receipt: 2
        }
    );
    let balance = chum.balance("UC-0042").unwrap();
    assert_eq!((balance.received, balance.on_hand), (2, 2));
    let body = chum.events().unwrap().pop().unwrap().body;
    assert!(
        body.ends_with(r#""shipment":{"from_site":"JGH","seq":3,"containers":[3,4]}}"#),
        "{body}"
    );
    assert!(chum.verify().unwrap().ok());

    // A bag made from a lot that came by a shipment: its chain of identity
    // names the shipment, so the custody goes on in the sender's ledger.
    let mut muhc = fresh()
        .with_workstation("pharm-b")
        .unwrap()
        .with_clock(clock_at(WRITTEN_AT));
    muhc.set_site("MUHC", "McGill University Health Centre", &by)
        .unwrap();
    let twelve: Vec<u32> = (13..=24).collect();
    muhc.receive_shipment(
        &lot(12),
        &shipment("JGH", 9, &twelve),
        &entry("2026-11-20T10:00:00-05:00"),
    )
    .unwrap();
    muhc.thaw("UC-0042", &[1], &entry("2026-11-25T08:30:00-05:00"))
        .unwrap();
    let bag = record("CARE-012", "72.4 kg", "A", 1);
    muhc.prepare(
        &bag,
        Some(vec![draw(1, "5.8 mL")]),
        &entry("2026-11-25T09:00:00-05:00"),
    )
    .unwrap();
    let chain = muhc
        .chain_of_identity(bag.preparation.bag_id.unwrap())
        .unwrap();
    assert_eq!(chain.lots.len(), 1);
    assert_eq!(chain.lots[0].shipment, Some(shipment("JGH", 9, &twelve)));

    // A ledger without a site cannot ship, nor receive from a site.
    let mut plain = fresh();
    plain
        .receive(&lot(2), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    assert_eq!(
        plain
            .ship("UC-0042", &[1], "CHUM", &shipped_at)
            .unwrap_err(),
        LedgerError::NoSite { event: "ship" }
    );
    assert_eq!(
        Ledger::open_in_memory()
            .unwrap()
            .with_workstation("bench 1")
            .unwrap_err()
            .code(),
        "workstation_name"
    );
}

/// A ledger and a central ledger started on a server by the previous
/// release (schema 5, central 1) are migrated when first opened, and take
/// sites from then on. The older schemas are made here from new ones,
/// undoing what the migrations add.
#[test]
fn a_server_ledger_of_schema_5_and_its_centre_are_migrated_on_opening() {
    if !on_postgres() {
        return;
    }
    let url = fresh_schema();
    let mut ledger = Ledger::create_postgres(&url).unwrap();
    ledger
        .receive(&lot(4), &entry("2026-11-20T10:00:00-05:00"))
        .unwrap();
    drop(ledger);
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "ALTER TABLE event DROP COLUMN site, DROP COLUMN workstation,
                DROP CONSTRAINT event_kind_check,
                ADD CONSTRAINT event_kind_check CHECK (kind IN ('receive', 'thaw', 'prepare',
                    'dispense', 'administer', 'destroy_containers', 'destroy_bag', 'return',
                    'count', 'correct', 'register_user', 'check', 'sign_in_failed',
                    'disable_user', 'change_passphrase', 'reset_passphrase', 'configure', 'plan',
                    'prepare_planned', 'cancel_bag')),
                DROP CONSTRAINT event_meaning_check,
                ADD CONSTRAINT event_meaning_check CHECK (meaning IS NULL OR meaning IN
                    ('registered', 'received', 'thawed', 'prepared', 'checked', 'dispensed',
                    'administered', 'destroyed', 'returned', 'counted', 'corrected', 'disabled',
                    'reset', 'configured', 'planned', 'cancelled'));
             DROP INDEX event_kind;
             ALTER TABLE container DROP CONSTRAINT container_state_check,
                ADD CONSTRAINT container_state_check
                    CHECK (state IN ('in stock', 'thawed', 'destroyed', 'returned'));
             ALTER TABLE schema_start DISABLE TRIGGER schema_start_fixed;
             DELETE FROM schema_start WHERE version = 6;
             ALTER TABLE schema_start ENABLE TRIGGER schema_start_fixed;
             UPDATE doseprep_ledger SET schema_version = 5;",
        )
        .unwrap();
    // Read only, it is not migrated; nor by a login that does not own it.
    assert_eq!(
        Ledger::open_read_only_postgres(&url).unwrap_err().code(),
        "schema_too_old"
    );
    let writer = format!("writer_migrating_{}", std::process::id());
    admin
        .batch_execute(&format!(
            "CREATE ROLE {writer} LOGIN IN ROLE doseprep_writer"
        ))
        .unwrap();
    assert!(url.contains("postgres@"), "{url}");
    let as_writer = url.replacen("postgres@", &format!("{writer}@"), 1);
    assert_eq!(
        Ledger::open_postgres(&as_writer).unwrap_err().code(),
        "migrate_as_owner"
    );
    let mut ledger = Ledger::open_postgres(&url)
        .unwrap()
        .with_workstation("bench-1")
        .unwrap();
    assert_eq!(ledger.schema_version().unwrap(), 6);
    let starts: i64 = admin
        .query_one("SELECT first_seq FROM schema_start WHERE version = 6", &[])
        .unwrap()
        .get(0);
    assert_eq!(starts, 2);
    ledger
        .set_site(
            "JGH",
            "Jewish General Hospital",
            &By::Initials("MH".to_owned()),
        )
        .unwrap();
    ledger
        .ship("UC-0042", &[4], "CHUM", &entry("2026-11-21T10:00:00-05:00"))
        .unwrap();
    assert!(ledger.verify().unwrap().ok());

    // The centre: made at version 1 (what versions 2 to 5 add taken
    // away), migrated by the first push.
    let centre = fresh_schema();
    Ledger::create_central(&centre).unwrap();
    let mut admin = postgres::Client::connect(&centre, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "DROP VIEW site_stock_event;
             DROP VIEW site_event_count;
             DROP VIEW site_event_counted;
             DROP TRIGGER site_event_unsited_once ON site_event;
             DROP FUNCTION doseprep_check_unsited(), doseprep_jsonb_or_null(text),
                 doseprep_setup_kind(text);
             DROP INDEX site_event_unsited;
             DROP POLICY site_event_own_sites ON site_event;
             ALTER TABLE site_event DISABLE ROW LEVEL SECURITY;
             DROP TABLE site_pusher;
             ALTER TABLE site_event DROP COLUMN event_site, DROP COLUMN workstation;
             UPDATE doseprep_central SET schema_version = 1;",
        )
        .unwrap();
    let pushed = ledger.push(&centre, "JGH").unwrap();
    assert_eq!((pushed.held, pushed.sent), (0, 3));
    // The server recomputed each hash, the thirteen-element ones included.
    let stored: Vec<(i64, Option<String>, Option<String>)> = admin
        .query(
            "SELECT seq, event_site, workstation FROM site_event ORDER BY seq",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    let at_bench = || (Some("JGH".to_owned()), Some("bench-1".to_owned()));
    assert_eq!(
        stored,
        vec![
            (1, None, None),
            (2, at_bench().0, at_bench().1),
            (3, at_bench().0, at_bench().1)
        ]
    );
    // A ledger with a site is pushed as that site only.
    assert_eq!(
        ledger.push(&centre, "CHUM").unwrap_err(),
        LedgerError::PushSiteDiffers {
            site: "CHUM".to_owned(),
            ledger_site: "JGH".to_owned()
        }
    );
}
