//! Runs every case of `tests/vectors/preparations.json` (shared with the
//! Python suite) through the Rust API.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{flat, lot, number, order, protocol, vectors_dir, EXACT};
use doseprep::{prepare, Preparation};
use serde_json::Value;

fn run(case: &Value) -> doseprep::Result<Preparation> {
    let protocol = protocol(case["protocol"].as_str().unwrap());
    prepare(&protocol, &order(&case["order"])?, &lot(&case["lot"])?)
}

fn check_expected(name: &str, prep: &Preparation, expected: &Value) {
    let actual = flat(prep);
    for (field, want) in expected.as_object().unwrap() {
        let got = actual
            .get(field)
            .unwrap_or_else(|| panic!("{name}: no field {field}"));
        if EXACT.contains(&field.as_str()) || want.is_null() || got.is_null() || want.is_string() {
            let same = got == want
                || (got.is_number() && want.is_number() && got.as_f64() == want.as_f64());
            assert!(same, "{name}: {field} = {got}, expected {want}");
        } else {
            let (got, want) = (number(got), number(want));
            let scale = want.abs().max(1e-300);
            assert!(
                (got - want).abs() <= 1e-12 * scale || got == want,
                "{name}: {field} = {got}, expected {want}"
            );
        }
    }
}

#[test]
fn every_preparation_vector() {
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(vectors_dir().join("preparations.json")).unwrap(),
    )
    .unwrap();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        match (run(case), case.get("expected"), case.get("error")) {
            (Ok(prep), Some(expected), None) => check_expected(name, &prep, expected),
            (Err(error), None, Some(want)) => {
                assert_eq!(
                    error.kind().name(),
                    want["kind"].as_str().unwrap(),
                    "{name}: {error}"
                );
                let message = error.to_string();
                for fragment in want["message_contains"].as_array().unwrap() {
                    let fragment = fragment.as_str().unwrap();
                    assert!(
                        message.contains(fragment),
                        "{name}: {message:?} lacks {fragment:?}"
                    );
                }
            }
            (result, _, _) => panic!("{name}: unexpected outcome {result:?}"),
        }
    }
}
