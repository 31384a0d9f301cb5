//! The CARE-SSc demo: one participant in every arm and visit, a bag and its
//! matched placebo side by side, then a planned clinic morning.

use doseprep::{
    blinded_label, parse_time, prepare, summary_line, worksheet, DayOrder, DayRow, GivenWeight,
    Lot, Order, PreparationRecord, Protocol, Randomization, VerifiedRecord,
};

use crate::error::Result;

const THAWED_AT: &str = "2026-11-25T09:00:00-05:00";
const PREPARED_AT: &str = "2026-11-25T09:20:00-05:00";
const LOT: &str = r#"
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"#;
const PARTICIPANT: &str = "CARE-012";
const WEIGHT: &str = "72.4 kg";
/// A clinic morning: six participants, two thaw sessions.
const RANDOMIZATION: &str =
    "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\nCARE-004,B\nCARE-005,A\nCARE-006,C\n";
const DAY: [(&str, &str, &str, &str); 6] = [
    (
        "CARE-001",
        "month-0",
        "72.4 kg",
        "2026-11-25T09:00:00-05:00",
    ),
    ("CARE-002", "month-0", "160 lb", "2026-11-25T09:30:00-05:00"),
    ("CARE-003", "month-3", "58 kg", "2026-11-25T10:00:00-05:00"),
    (
        "CARE-004",
        "month-3",
        "91.2 kg",
        "2026-11-25T11:30:00-05:00",
    ),
    ("CARE-005", "month-3", "66 kg", "2026-11-25T12:00:00-05:00"),
    ("CARE-006", "month-0", "80 kg", "2026-11-25T12:30:00-05:00"),
];

/// A heading of 77 characters.
pub fn rule(title: &str) -> String {
    let dashes = 72_usize.saturating_sub(title.chars().count()); // fallback-ok: a longer title has no dashes
    format!("--- {title} {}\n", "-".repeat(dashes))
}

/// The demo's text, as `doseprep demo` prints it.
pub fn demo() -> Result<String> {
    let protocol = Protocol::care_ssc();
    let lot = Lot::from_toml(LOT)?;
    let mut text = format!(
        "{}: participant {PARTICIPANT}, {WEIGHT}, lot {}\n",
        protocol.name(),
        lot.lot_id()
    );
    text += &format!(
        "lot: {} million viable cells/mL, viability {}, {} x {} mL, thawed {THAWED_AT} (site clock {})\n\n",
        lot.viable_cells_per_ml().cells_per_ml() / 1e6,
        lot.viability().value(),
        lot.containers(),
        lot.container_volume().ml(),
        protocol.zone().name()
    );
    let thawed_at = parse_time("thawed_at", THAWED_AT)?;
    let prepared_at = parse_time("prepared_at", PREPARED_AT)?;
    let mut bags: Vec<(String, String, VerifiedRecord)> = Vec::new();
    for arm in protocol.spec().arms.keys() {
        for visit in &protocol.spec().visits {
            let order =
                Order::with_weight_text(PARTICIPANT, WEIGHT, arm, visit, thawed_at.clone())?
                    .prepared(prepared_at.clone());
            let bag = prepare(&protocol, &order, &lot)?;
            text += &summary_line(&bag);
            text += "\n";
            let record = PreparationRecord::new(&protocol, &order, &lot, bag)?.verified()?;
            bags.push((arm.clone(), visit.clone(), record));
        }
    }
    let find = |arm: &str| {
        bags.iter()
            .find(|(a, v, _)| a == arm && v == "month-0")
            .ok_or_else(|| doseprep::DoseError::InvalidInput {
                field: "protocol".to_owned(),
                reason: format!("the demo shows arm {arm} at month-0, which the protocol lacks"),
            })
    };
    let (_, _, active_record) = find("B")?;
    let (_, _, twin_record) = find("C")?;
    text += "\n";
    text += &rule("worksheet: arm B, month-0 (active)");
    text += &worksheet(active_record);
    text += "\n";
    text += &rule("worksheet: arm C, month-0 (its matched placebo)");
    text += &worksheet(twin_record);
    text += "\n";
    let active_label = blinded_label(active_record);
    let twin_label = blinded_label(twin_record);
    text += &rule("blinded label: arm B, month-0 (active)");
    text += &active_label;
    text += "\n";
    text += &rule("blinded label: arm C, month-0 (placebo)");
    text += &twin_label;
    text += "\n";
    let same = if active_label == twin_label {
        "yes"
    } else {
        "NO"
    };
    text += &format!("labels byte-identical: {same}\n\n");
    let randomization = Randomization::from_csv_text(RANDOMIZATION)?;
    randomization.check_against(&protocol)?;
    let orders = DAY
        .iter()
        .map(|&(participant, visit, weight, infusion_at)| {
            DayOrder::given(
                participant,
                visit,
                GivenWeight::typed("weight", weight)?,
                parse_time("infusion_at", infusion_at)?,
            )
        })
        .collect::<doseprep::Result<Vec<_>>>()?;
    let rows = DayRow::numbered(orders);
    let plan = crate::day::plan(&protocol, &rows, &[lot], &randomization, &[], None)?;
    text += &rule("a planned day: summary for the ward");
    text += &plan.summary();
    text += "\n";
    text += &rule("pick list for the freezer (pharmacy)");
    text += &plan.pick_list();
    text += "\n";
    Ok(text)
}
