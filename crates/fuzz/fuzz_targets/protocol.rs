//! Any bytes as a protocol file (TOML and JSON), a lot file, and a record:
//! a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(protocol) = doseprep::Protocol::from_toml(text) {
            // A protocol that loads must also fingerprint and round-trip.
            let json = protocol.canonical_json().unwrap_or_default();
            assert_eq!(doseprep::Protocol::from_json(&json).ok(), Some(protocol));
        }
        let _ = doseprep::Protocol::from_json(text);
        let _ = doseprep::Lot::from_toml(text);
        let _ = doseprep::Lot::many_from_file_text("lots.toml", text);
        if let Ok(record) = doseprep::PreparationRecord::from_json(text) {
            let _ = record.verify();
        }
    }
});
