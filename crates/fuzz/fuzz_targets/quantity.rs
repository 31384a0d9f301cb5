//! Any text as each kind of quantity and as a time: a value or an error,
//! never a panic; an accepted weight is finite and positive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(weight) = doseprep::BodyWeight::parse(text) {
        assert!(weight.kg().is_finite() && weight.kg() > 0.0);
    }
    let _ = doseprep::ExactVolume::parse("volume", text);
    let _ = doseprep::CellConcentration::parse("concentration", text);
    let _ = doseprep::CellsPerKg::parse("dose", text);
    let _ = doseprep::units::parse_duration("duration", text);
    let _ = doseprep::units::parse_grams_per_kg("dmso_limit", text);
    let _ = doseprep::parse_time("thawed_at", text);
});
