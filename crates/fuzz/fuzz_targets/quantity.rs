//! Any text as each kind of quantity, a time, a bag id and a CSV: a value or
//! an error, never a panic; an accepted weight is finite and positive.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(weight) = doseprep::BodyWeight::parse(text) {
        assert!(weight.kg().is_finite() && weight.kg() > 0.0);
    }
    let _ = doseprep::ExactVolume::parse("volume", text);
    let _ = doseprep::CellConcentration::parse("concentration", text);
    let _ = doseprep::CellsPerKg::parse("dose", text);
    let _ = doseprep::CellCount::parse("cells", text);
    let _ = doseprep::Density::parse("density", text);
    let _ = doseprep::DmsoExposure::parse("dmso_limit", text);
    if let Ok(duration) = doseprep::units::parse_duration("duration", text) {
        assert!(duration.is_positive());
    }
    let _ = doseprep::parse_time("thawed_at", text);
    if let Ok(id) = doseprep::BagId::parse(text) {
        assert_eq!(doseprep::BagId::parse(&id.as_text()), Ok(id));
    }
    let _ = doseprep::Randomization::from_csv_text(text);
    let _ = doseprep::DayOrder::from_csv_text(text);
    let _ = doseprep::Order::from_csv_text(text);
});
