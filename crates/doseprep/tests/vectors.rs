//! Runs every case of `tests/vectors/preparations.json` (shared with the
//! Python suite) through the Rust API.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;

use doseprep::{
    parse_time, prepare, BodyWeight, CellConcentration, Content, ExactVolume, Lot, Order,
    Preparation, Protocol,
};
use serde_json::Value;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

fn number(value: &Value) -> f64 {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

fn protocol(name: &str) -> Protocol {
    if name == "care-ssc" {
        Protocol::care_ssc()
    } else {
        let text = std::fs::read_to_string(vectors_dir().join("protocols").join(name)).unwrap();
        Protocol::from_toml(&text).unwrap()
    }
}

fn run(case: &Value) -> doseprep::Result<Preparation> {
    let protocol = protocol(case["protocol"].as_str().unwrap());
    let o = &case["order"];
    let thawed_at = parse_time("thawed_at", o["thawed_at"].as_str().unwrap())?;
    let prepared_at = parse_time("prepared_at", o["prepared_at"].as_str().unwrap())?;
    let (participant, arm, visit) = (
        o["participant"].as_str().unwrap(),
        o["arm"].as_str().unwrap(),
        o["visit"].as_str().unwrap(),
    );
    let order = match &o["weight"] {
        Value::String(text) => {
            Order::with_weight_text(participant, text, arm, visit, thawed_at, Some(prepared_at))?
        }
        kg => Order::new(
            participant,
            BodyWeight::from_kg(number(kg))?,
            arm,
            visit,
            thawed_at,
            Some(prepared_at),
        )?,
    };
    let l = &case["lot"];
    let lot = Lot::new(
        l["lot_id"].as_str().unwrap(),
        CellConcentration::new("viable_cells_per_ml", number(&l["viable_cells_per_ml"]))?,
        number(&l["viability"]),
        ExactVolume::from_ml("container_volume", number(&l["container_volume_ml"]))?,
        l["containers"].as_u64().unwrap() as u32,
        l.get("dmso_fraction").map(number),
    )?;
    prepare(&protocol, &order, &lot)
}

fn assert_close(name: &str, field: &str, actual: f64, expected: f64) {
    let scale = expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= 1e-12 * scale || actual == expected,
        "{name}: {field} = {actual}, expected {expected}"
    );
}

fn check_expected(name: &str, prep: &Preparation, e: &Value) {
    let content = match prep.content {
        Content::Active => "active",
        Content::Placebo => "placebo",
    };
    assert_eq!(content, e["content"].as_str().unwrap(), "{name}");
    // Volumes and counts are exact.
    for (field, actual) in [
        ("draw_volume_ml", prep.draw_volume().ml()),
        ("diluent_volume_ml", prep.diluent_volume.ml()),
        ("final_volume_ml", prep.final_volume.ml()),
        ("containers_to_thaw", prep.containers_to_thaw() as f64),
    ] {
        assert_eq!(actual, number(&e[field]), "{name}: {field}");
    }
    assert_eq!(
        prep.draw_volume()
            .checked_add(if prep.content == Content::Active {
                prep.diluent_volume
            } else {
                ExactVolume::ZERO
            }),
        Some(if prep.content == Content::Active {
            prep.final_volume
        } else {
            ExactVolume::ZERO
        }),
        "{name}: draw + diluent = final"
    );
    let dose = prep.dose.as_ref();
    let target = dose.map_or(0.0, |d| d.target_cells.cells());
    let mut floats = vec![
        ("body_weight_kg", prep.body_weight_kg),
        ("dosing_weight_kg", prep.dosing_weight_kg),
        ("target_cells", target),
        ("delivered_cells", prep.delivered_cells().cells()),
        ("pump_rate_ml_per_h", prep.pump_rate_ml_per_h),
    ];
    if let Some(d) = dose {
        floats.extend([
            ("unrounded_draw_volume_ml", d.unrounded_draw_volume_ml),
            ("deviation", d.deviation),
            (
                "final_concentration_cells_per_ml",
                d.final_concentration_cells_per_ml,
            ),
        ]);
        match (&e["dmso_g_per_kg"], d.dmso_g_per_kg) {
            (Value::Null, None) => {}
            (expected, Some(actual)) => {
                assert_close(name, "dmso_g_per_kg", actual, number(expected))
            }
            (expected, actual) => panic!("{name}: dmso {actual:?}, expected {expected}"),
        }
    } else {
        assert!(e["deviation"].is_null(), "{name}: placebo has no deviation");
    }
    for (field, actual) in floats {
        assert_close(name, field, actual, number(&e[field]));
    }
    for (field, actual) in [("start_by", &prep.start_by), ("infuse_by", &prep.infuse_by)] {
        let expected = parse_time(field, e[field].as_str().unwrap()).unwrap();
        assert_eq!(actual.timestamp(), expected.timestamp(), "{name}: {field}");
        assert_eq!(actual.offset(), expected.offset(), "{name}: {field} offset");
    }
}

#[test]
fn every_vector_gives_the_hand_worked_result() {
    let text = std::fs::read_to_string(vectors_dir().join("preparations.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert!(
        cases.len() >= 20,
        "at least 20 vectors, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        match (run(case), case.get("expected"), case.get("error")) {
            (Ok(prep), Some(expected), None) => check_expected(name, &prep, expected),
            (Err(error), None, Some(expected)) => {
                let message = error.to_string();
                if error.kind().name() != expected["kind"].as_str().unwrap() {
                    failures.push(format!(
                        "{name}: kind {} ({message}), expected {}",
                        error.kind(),
                        expected["kind"]
                    ));
                }
                for fragment in expected["message_contains"].as_array().unwrap() {
                    let fragment = fragment.as_str().unwrap();
                    if !message.contains(fragment) {
                        failures.push(format!("{name}: message {message:?} lacks {fragment:?}"));
                    }
                }
            }
            (Ok(prep), _, Some(expected)) => {
                failures.push(format!("{name}: expected {expected}, got {prep:?}"))
            }
            (Err(error), Some(_), _) => failures.push(format!("{name}: unexpected error {error}")),
            _ => failures.push(format!(
                "{name}: a case needs exactly one of expected and error"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
