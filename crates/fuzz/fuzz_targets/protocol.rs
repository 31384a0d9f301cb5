//! Any bytes as a protocol file (TOML and JSON, one file or a trial and a
//! site file), a lot file, and a record:
//! a value or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(protocol) = doseprep::Protocol::from_toml(text) {
            // A protocol that loads must also fingerprint and round-trip.
            assert!(protocol.trial_fingerprint().is_ok());
            assert!(protocol.site_fingerprint().is_ok());
            let json = protocol.canonical_json().unwrap_or_default();
            assert_eq!(doseprep::Protocol::from_json(&json).ok(), Some(protocol));
        }
        // The same bytes as a trial file and a site file, split at a blank line.
        if let Some((trial, site)) = text.split_once("\n\n") {
            let _ = doseprep::Protocol::from_trial_and_site("trial.toml", trial, "site.toml", site);
        }
        let _ = doseprep::Protocol::from_json(text);
        let _ = doseprep::Lot::from_toml(text);
        let _ = doseprep::Lot::many_from_file_text("lots.toml", text);
        if let Ok(record) = doseprep::PreparationRecord::from_json(text) {
            let _ = record.verify();
        }
    }
});
