//! A day's documents and its record go together: a refusal while recording
//! leaves no folder and no staging folder; a published day has every
//! document and a record per planned bag.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use doseprep::{parse_time, BodyWeight, DayOrder, DayRow, Lot, Protocol, Randomization};
use doseprep_day::{plan, publish_day, DayError, NewFolder, Printed, Recording};
use doseprep_ledger::{Entry, Ledger, LedgerError};

const LOT: &str = r#"
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"#;

fn planned_day() -> (Protocol, doseprep::DayPlan, Lot) {
    let protocol = Protocol::care_ssc();
    let lot = Lot::from_toml(LOT).unwrap();
    let arms = Randomization::from_csv_text("participant,arm\nCARE-001,A\nCARE-002,C\n").unwrap();
    let order = |participant: &str, weight: &str, at: &str| {
        DayOrder::new(
            participant,
            "month-0",
            BodyWeight::parse(weight).unwrap(),
            parse_time("infusion_at", at).unwrap(),
        )
        .unwrap()
    };
    let rows = DayRow::numbered([
        order("CARE-001", "72.4 kg", "2026-11-25T09:00:00-05:00"),
        order("CARE-002", "80 kg", "2026-11-25T09:30:00-05:00"),
    ]);
    let plan = plan(
        &protocol,
        &rows,
        std::slice::from_ref(&lot),
        &arms,
        &[],
        None,
    )
    .unwrap();
    (protocol, plan, lot)
}

fn entries(folder: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The day published to `out` and recorded in `ledger` by MH.
fn publish_recorded(
    plan: &doseprep::DayPlan,
    out: &std::path::Path,
    ledger: &mut Ledger,
) -> doseprep_day::Result<doseprep_day::Published> {
    publish_day(
        plan,
        NewFolder::check(out).unwrap(),
        Printed::Text,
        Some(Recording {
            ledger,
            by: doseprep_ledger::By::Initials("MH".to_owned()),
        }),
    )
}

#[test]
fn a_refused_record_leaves_no_documents() {
    let (_, plan, _) = planned_day();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("day");
    // The lot was never received in this ledger: recording is refused.
    let mut ledger = Ledger::open_in_memory().unwrap();
    let refused = publish_recorded(&plan, &out, &mut ledger);
    match refused {
        Err(DayError::Ledger(error)) => {
            assert!(
                matches!(*error, LedgerError::UnknownLot { .. }),
                "{error:?}"
            )
        }
        other => panic!("the record is refused, not {other:?}"),
    }
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
    assert_eq!(ledger.events().unwrap().len(), 0);
}

#[test]
fn a_published_day_has_every_document_and_its_record() {
    let (_, plan, lot) = planned_day();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("day");
    let mut ledger = Ledger::open_in_memory().unwrap();
    let at = parse_time("at", "2026-11-20T10:00:00-05:00").unwrap();
    ledger
        .receive(&lot, &Entry::new(at, "MH", None).unwrap())
        .unwrap();
    let published = publish_recorded(&plan, &out, &mut ledger).unwrap();
    // Two bags planned, after the receipt (each thaw and bag is recorded
    // when it is done).
    assert_eq!(published.recorded, vec![2, 3]);
    assert_eq!(entries(dir.path()), vec!["day"]);
    assert_eq!(
        entries(&out),
        vec!["bags", "day.csv", "pick-list.txt", "summary.txt"]
    );
    let ids: Vec<String> = plan
        .bags
        .iter()
        .map(|bag| bag.as_ref().unwrap().preparation.bag_id.unwrap().as_text())
        .collect();
    let mut expected: Vec<String> = ids
        .iter()
        .flat_map(|id| {
            ["label.txt", "record.json", "worksheet.txt"].map(|kind| format!("{id}.{kind}"))
        })
        .collect();
    expected.sort();
    assert_eq!(entries(&out.join("bags")), expected);
    assert_eq!(
        std::fs::read_to_string(out.join("summary.txt")).unwrap(),
        plan.summary()
    );
}

#[test]
fn an_output_folder_must_be_new_or_empty_inside_one_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(
        NewFolder::check(&file),
        Err(DayError::OutNotEmpty { .. })
    ));
    let orphan = dir.path().join("missing").join("day");
    assert!(matches!(
        NewFolder::check(&orphan),
        Err(DayError::OutParentMissing { .. })
    ));
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    assert!(NewFolder::check(&dir.path().join("empty")).is_ok());
}
