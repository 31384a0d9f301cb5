//! A bag as FHIR R4 JSON: a Bundle (type collection) of the body-weight
//! Observation the dose was computed from (LOINC 29463-7), the
//! MedicationRequest with its ordered dose (the protocol's, 10*6/kg or
//! 10*6 cells) and its calculated one (10*6 cells for this participant), and, once given, the MedicationAdministration. Units are
//! UCUM codes; resource ids are UUIDs derived from the bag id, so the same
//! bag exports the same JSON.

use doseprep::rules::{dosing_basis, OrderedDose};
use doseprep::{format_time, parse_time, Content};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};
use crate::event::Body;
use crate::identity::bag_events;

const UCUM: &str = "http://unitsofmeasure.org";
const DOSE_RATE_TYPE: &str = "http://terminology.hl7.org/CodeSystem/dose-rate-type";
const LOINC: &str = "http://loinc.org";
const DATA_ABSENT_REASON: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";
const OBSERVATION_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
/// Identifier systems of this library (a site maps them to its own).
const PARTICIPANT_SYSTEM: &str = "urn:doseprep:participant";
const BAG_SYSTEM: &str = "urn:doseprep:bag-id";

/// A UUID (version 8, RFC 9562) from the SHA-256 of `name`: its first 16
/// bytes, with the version and variant bits set.
fn uuid(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes
        .iter_mut()
        .zip(digest.iter())
        .for_each(|(byte, digested)| *byte = *digested);
    bytes[6] = (bytes[6] & 0x0f) | 0x80;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let n = u128::from_be_bytes(bytes);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        n >> 96,
        (n >> 80) & 0xffff,
        (n >> 64) & 0xffff,
        (n >> 48) & 0xffff,
        n & 0xffff_ffff_ffff
    )
}

/// A FHIR dateTime ("2026-11-25T09:00:00-05:00") from a stored time.
fn date_time(field: &str, text: &str) -> Result<String> {
    Ok(parse_time(field, text)?
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string())
}

fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({"value": value, "unit": unit, "system": UCUM, "code": code})
}

fn dose_rate(code: &str, dose: Value, rate: Option<Value>) -> Value {
    let mut entry = json!({
        "type": {"coding": [{"system": DOSE_RATE_TYPE, "code": code}]},
        "doseQuantity": dose,
    });
    if let (Some(rate), Some(map)) = (rate, entry.as_object_mut()) {
        map.insert("rateQuantity".to_owned(), rate);
    }
    entry
}

/// Round to 9 significant digits: a dose per kg computed in binary
/// floating point (72,400,000 cells / 72.4 kg) reads as the decimal it is.
fn significant(value: f64) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let digits = 9 - (value.abs().log10().floor() as i32) - 1;
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// The FHIR R4 Bundle of `bag_id`. It is unblinded (it names the content
/// and the cells), and says so in its `meta.tag`.
pub fn bundle(db: &crate::db::Db, bag_id: &str) -> Result<Value> {
    let events = bag_events(db, bag_id)?;
    let Some((prepared, Body::Prepare { record, .. } | Body::Plan { record, .. })) = events.first()
    else {
        return Err(LedgerError::UnknownBag {
            event: "fhir",
            bag_id: bag_id.to_owned(),
        });
    };
    // Exported only once it recomputes, as every document is.
    let record = crate::stored_record(record.get(), bag_id, prepared.seq)?;
    let prep = &record.preparation;
    let spec = record.protocol.spec();
    let subject =
        json!({"identifier": {"system": PARTICIPANT_SYSTEM, "value": prep.participant.as_str()}});
    let route = json!({"text": spec.route});
    let rate = quantity(prep.pump_rate.ml_per_hour(), "mL/h", "mL/h");
    let (observation_id, request_id, administration_id) = (
        uuid(&format!("{bag_id}/Observation")),
        uuid(&format!("{bag_id}/MedicationRequest")),
        uuid(&format!("{bag_id}/MedicationAdministration")),
    );
    let final_ml = prep.final_volume.ml();
    let (medication, dose_and_rate, given) = match (&prep.dose, prep.content) {
        (Some(dose), Content::Active) => {
            // HL7 dose-rate-type: `ordered` is the dose as the prescriber
            // ordered it, the protocol's rule (per kg, or flat; the band's
            // by the weight the basis chose, as `prepare` picks it), never
            // derived from the target, which a cap may have lowered;
            // `calculated` is the dose computed for this participant.
            let rule = record.protocol.rule();
            let (basis_weight, _) = dosing_basis(rule, prep.body_weight, prep.baseline_weight)?;
            let ordered = match rule.ordered(basis_weight) {
                OrderedDose::PerKg(per_kg) => quantity(
                    significant(per_kg.value() / 1e6),
                    "million cells/kg",
                    "10*6/kg",
                ),
                OrderedDose::Flat(cells) => {
                    quantity(significant(cells.cells() / 1e6), "million cells", "10*6")
                }
            };
            let doses = vec![
                dose_rate("ordered", ordered, None),
                dose_rate(
                    "calculated",
                    quantity(
                        significant(dose.target_cells.cells() / 1e6),
                        "million cells",
                        "10*6",
                    ),
                    Some(rate.clone()),
                ),
            ];
            (
                format!("{} investigational product, lot {}", spec.name, dose.lot_id),
                doses,
                quantity(
                    significant(dose.delivered_cells.cells() / 1e6),
                    "million cells",
                    "10*6",
                ),
            )
        }
        _ => (
            format!("{} placebo: {}", spec.name, spec.diluent.name),
            vec![dose_rate(
                "ordered",
                quantity(final_ml, "mL", "mL"),
                Some(rate.clone()),
            )],
            quantity(final_ml, "mL", "mL"),
        ),
    };
    let medication = json!({"text": medication});
    let administered = events.iter().find_map(|(event, body)| match body {
        Body::Administer {
            started_at,
            ended_at,
            override_reason,
            ..
        } => Some((event.seq, started_at, ended_at, override_reason)),
        _ => None,
    });
    // Destroyed once made (the order stopped), or cancelled while planned
    // (the order never acted on): its reason.
    let ended = events.iter().find_map(|(_, body)| match body {
        Body::DestroyBag { reason, .. } => Some(("stopped", "the bag was destroyed", reason)),
        Body::CancelBag { reason, .. } => {
            Some(("cancelled", "the planned bag was cancelled", reason))
        }
        _ => None,
    });
    let status = match (&administered, ended) {
        (Some(_), _) => "completed",
        (None, Some((status, _, _))) => status,
        (None, None) => "active",
    };
    let (measured, weighed_in) = record.order.given_weight().as_measured();
    let (effective_key, effective, weighed) = match record.order.weighed_at() {
        Some(at) => (
            "effectiveDateTime",
            json!(date_time("weighed_at", &format_time(at))?),
            "weighed at the time given",
        ),
        // The order does not say when the participant was weighed: the
        // vital-signs profile's required time is present as unknown
        // (data-absent-reason), never made up.
        None => (
            "_effectiveDateTime",
            json!({"extension": [{"url": DATA_ABSENT_REASON, "valueCode": "unknown"}]}),
            "the time of weighing was not recorded",
        ),
    };
    let mut observation = serde_json::Map::new();
    for (key, value) in [
        ("resourceType", json!("Observation")),
        ("id", json!(observation_id)),
        ("status", json!("final")),
        (
            "category",
            json!([{"coding": [{"system": OBSERVATION_CATEGORY, "code": "vital-signs", "display": "Vital Signs"}]}]),
        ),
        (
            "code",
            json!({"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}], "text": "Body weight"}),
        ),
        ("subject", subject.clone()),
        (effective_key, effective),
        (
            "valueQuantity",
            quantity(measured, weighed_in.symbol(), weighed_in.ucum()),
        ),
        (
            "note",
            json!([{"text": format!(
                "the weight on the order of bag {bag_id}, read as {} kg; the dose was computed from {} kg ({}); {weighed}",
                prep.body_weight.kg(),
                prep.dosing_weight.kg(),
                prep.dosing_weight_from.describe()
            )}]),
        ),
    ] {
        observation.insert(key.to_owned(), value);
    }
    let observation = Value::Object(observation);
    let mut request = json!({
        "resourceType": "MedicationRequest",
        "id": request_id,
        "identifier": [{"system": BAG_SYSTEM, "value": bag_id}],
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": medication,
        "subject": subject,
        "authoredOn": date_time("at", &crate::correct::effective_at(db, prepared.seq, &prepared.at)?)?,
        "supportingInformation": [{"reference": format!("urn:uuid:{observation_id}")}],
        "dosageInstruction": [{
            "text": format!("{} mL {} over {} min", prep.final_volume.ml_decimal(), spec.route, prep.infusion_duration.as_secs() / 60),
            "route": route,
            "doseAndRate": dose_and_rate,
        }],
    });
    if let (Some((_, what, reason)), Some(map)) = (ended, request.as_object_mut()) {
        map.insert(
            "statusReason".to_owned(),
            json!({"text": format!("{what}: {reason}")}),
        );
    }
    let mut entries = vec![
        json!({"fullUrl": format!("urn:uuid:{observation_id}"), "resource": observation}),
        json!({"fullUrl": format!("urn:uuid:{request_id}"), "resource": request}),
    ];
    if let Some((_, started_at, ended_at, override_reason)) = administered {
        let mut administration = json!({
            "resourceType": "MedicationAdministration",
            "id": administration_id,
            "identifier": [{"system": BAG_SYSTEM, "value": bag_id}],
            "status": "completed",
            "medicationCodeableConcept": medication,
            "subject": subject,
            "effectivePeriod": {
                "start": date_time("started_at", started_at)?,
                "end": date_time("ended_at", ended_at)?,
            },
            "request": {"reference": format!("urn:uuid:{request_id}")},
            "dosage": {"route": route, "dose": given, "rateQuantity": rate},
        });
        if let (Some(reason), Some(map)) = (override_reason, administration.as_object_mut()) {
            map.insert(
                "note".to_owned(),
                json!([{"text": format!("given after its infuse-by time: {reason}")}]),
            );
        }
        entries.push(
            json!({"fullUrl": format!("urn:uuid:{administration_id}"), "resource": administration}),
        );
    }
    Ok(json!({
        "resourceType": "Bundle",
        "id": uuid(&format!("{bag_id}/Bundle")),
        "meta": {"tag": [{
            "system": "urn:doseprep:blinding",
            "code": "unblinded",
            "display": "UNBLINDED: names the content; pharmacy and unblinded staff only",
        }]},
        "type": "collection",
        "entry": entries,
    }))
}
