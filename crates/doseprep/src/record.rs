//! The preparation record: every input, every output, the trial's and the
//! site's fingerprints and the library version, as JSON that round-trips losslessly
//! and can be re-verified by recomputing from the inputs.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::error::{DoseError, Result};
use crate::lot::Lot;
use crate::order::Order;
use crate::prepare::{prepare, Preparation};
use crate::protocol::{Protocol, ProtocolSpec};

/// What was prepared, from what, by which version of this library.
///
/// Nothing here reads a clock: the same inputs give the same record byte
/// for byte. A bag of a day plan carries its bag id and session thaw time in
/// its order, and its container allocation in `preparation.draws`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreparationRecord {
    /// doseprep version that made the record.
    pub library_version: String,
    /// SHA-256 of the trial's facts in canonical form, lowercase hex: the
    /// same at every site of the trial.
    pub trial_fingerprint: String,
    /// SHA-256 of the site's settings and label particulars, lowercase hex.
    pub site_fingerprint: String,
    /// The protocol as given.
    #[serde(serialize_with = "protocol_spec")]
    pub protocol: Protocol,
    /// The order.
    pub order: Order,
    /// The lot.
    pub lot: Lot,
    /// Every output.
    pub preparation: Preparation,
}

/// A record that [`PreparationRecord::verify`] found whole: every output
/// recomputed from its inputs agreed, and its trial and site parts have
/// their recorded fingerprints. Documents are made only from one, so that a worksheet's
/// "pass" stands for a check that ran on these very figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct VerifiedRecord(PreparationRecord);

impl VerifiedRecord {
    /// The record.
    pub fn record(&self) -> &PreparationRecord {
        &self.0
    }

    /// The record, for keeping.
    pub fn into_record(self) -> PreparationRecord {
        self.0
    }
}

impl std::ops::Deref for VerifiedRecord {
    type Target = PreparationRecord;
    fn deref(&self) -> &PreparationRecord {
        &self.0
    }
}

impl AsRef<PreparationRecord> for VerifiedRecord {
    fn as_ref(&self) -> &PreparationRecord {
        &self.0
    }
}

fn protocol_spec<S: Serializer>(
    protocol: &Protocol,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    protocol.spec().serialize(serializer)
}

/// A record's parts as JSON values, read one by one so that each keeps the
/// kind of its errors.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFields {
    library_version: String,
    trial_fingerprint: String,
    site_fingerprint: String,
    protocol: Value,
    order: Value,
    lot: Value,
    preparation: Value,
}

/// One field whose recorded value differs from the recomputed one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Difference {
    /// Dotted path, e.g. "preparation.dose.draw_volume_ml".
    pub field: String,
    /// As recorded (JSON text).
    pub recorded: String,
    /// As recomputed now (JSON text).
    pub recomputed: String,
}

/// The outcome of [`PreparationRecord::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Fields that differ; empty when the record checks out.
    pub differences: Vec<Difference>,
    /// The library version that verified, when it is not the one that recorded
    /// (informational: a version change alone is not a difference).
    pub verified_with_other_version: Option<String>,
}

impl Verification {
    /// True when nothing differs.
    pub fn ok(&self) -> bool {
        self.differences.is_empty()
    }
}

fn to_value<T: Serialize>(what: &str, value: &T) -> Result<Value> {
    serde_json::to_value(value).map_err(|e| DoseError::InvalidRecord {
        reason: format!("cannot write {what} as JSON: {e}"),
    })
}

impl PreparationRecord {
    /// Prepare, record and verify in one step.
    pub fn prepare(protocol: &Protocol, order: &Order, lot: &Lot) -> Result<VerifiedRecord> {
        let preparation = prepare(protocol, order, lot)?;
        PreparationRecord::new(protocol, order, lot, preparation)?.verified()
    }

    /// A record of a preparation already made from these inputs. The
    /// order's times are kept on the site's clock (the same instants), so a
    /// bag's record reads the same whatever offset its times were typed in.
    pub fn new(
        protocol: &Protocol,
        order: &Order,
        lot: &Lot,
        preparation: Preparation,
    ) -> Result<PreparationRecord> {
        Ok(PreparationRecord {
            library_version: crate::VERSION.to_owned(),
            trial_fingerprint: protocol.trial_fingerprint()?.to_owned(),
            site_fingerprint: protocol.site_fingerprint()?.to_owned(),
            protocol: protocol.clone(),
            order: order.on_clock(protocol.zone().zone()),
            lot: lot.clone(),
            preparation,
        })
    }

    /// SHA-256 of the record's compact JSON, lowercase hex: what the
    /// worksheet's Data Matrix holds, to find the record from the paper.
    pub fn fingerprint(&self) -> Result<String> {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_string(self).map_err(|e| DoseError::InvalidRecord {
            reason: format!("cannot be written as JSON: {e}"),
        })?;
        Ok(Sha256::digest(json.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect())
    }

    /// Pretty JSON, fields in a fixed order, floats written to round-trip exactly.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| DoseError::InvalidRecord {
            reason: format!("cannot be written as JSON: {e}"),
        })
    }

    /// Read a record. Inputs are re-checked as they are read, and keep the
    /// kind of their errors (a lot with viability 93 is a viability error).
    pub fn from_json(text: &str) -> Result<PreparationRecord> {
        let fields: RecordFields = serde_json::from_str(text).map_err(|e| {
            let looks_like_preparation = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("content").cloned())
                .is_some();
            let hint = if looks_like_preparation {
                "; this is the JSON of a Preparation (prep.to_json()), not of a record: write the record with prep.record().to_json()"
            } else {
                ""
            };
            DoseError::InvalidRecord {
                reason: format!("cannot be read: {e}{hint}"),
            }
        })?;
        PreparationRecord::from_fields(fields)
    }

    /// Read a record from its JSON value (as a ledger event holds it),
    /// with the checks of [`PreparationRecord::from_json`] and no detour
    /// through text.
    pub fn from_json_value(value: Value) -> Result<PreparationRecord> {
        let fields: RecordFields =
            serde_json::from_value(value).map_err(|e| DoseError::InvalidRecord {
                reason: format!("cannot be read: {e}"),
            })?;
        PreparationRecord::from_fields(fields)
    }

    fn from_fields(fields: RecordFields) -> Result<PreparationRecord> {
        let spec: ProtocolSpec =
            serde_json::from_value(fields.protocol).map_err(|e| DoseError::MalformedProtocol {
                format: "JSON".to_owned(),
                detail: format!("the record's protocol cannot be read: {e}"),
            })?;
        let protocol = Protocol::new(spec)?;
        let order = Order::from_json_value(fields.order)?;
        let lot = Lot::from_json_value(fields.lot)?;
        let preparation: Preparation =
            serde_json::from_value(fields.preparation).map_err(|e| DoseError::InvalidRecord {
                reason: format!("the preparation cannot be read: {e}"),
            })?;
        Ok(PreparationRecord {
            library_version: fields.library_version,
            trial_fingerprint: fields.trial_fingerprint,
            site_fingerprint: fields.site_fingerprint,
            protocol,
            order,
            lot,
            preparation,
        })
    }

    /// Recompute the preparation from the recorded inputs and compare every
    /// field, check the trial and the site against their recorded
    /// fingerprints, and check
    /// a day plan's container allocation against the lot and the draw.
    pub fn verify(&self) -> Result<Verification> {
        let mut differences = Vec::new();
        for (field, recorded, recomputed) in [
            (
                "trial_fingerprint",
                &self.trial_fingerprint,
                self.protocol.trial_fingerprint()?,
            ),
            (
                "site_fingerprint",
                &self.site_fingerprint,
                self.protocol.site_fingerprint()?,
            ),
        ] {
            if recorded != recomputed {
                differences.push(Difference {
                    field: field.to_owned(),
                    recorded: recorded.clone(),
                    recomputed: recomputed.to_owned(),
                });
            }
        }
        let recorded = to_value("the recorded preparation", &self.preparation)?;
        match prepare(&self.protocol, &self.order, &self.lot) {
            Ok(mut recomputed) => {
                // The allocation is the day's, not the bag's: it is carried
                // over and checked on its own below.
                recomputed.draws = self.preparation.draws.clone();
                let recomputed = to_value("the recomputed preparation", &recomputed)?;
                diff("preparation", &recorded, &recomputed, &mut differences);
            }
            Err(error) => differences.push(Difference {
                field: "preparation".to_owned(),
                recorded: "a preparation".to_owned(),
                recomputed: format!("error: {error}"),
            }),
        }
        self.check_draws(&mut differences);
        Ok(Verification {
            differences,
            verified_with_other_version: (self.library_version != crate::VERSION)
                .then(|| crate::VERSION.to_owned()),
        })
    }

    /// The record as a [`VerifiedRecord`], if [`PreparationRecord::verify`]
    /// finds no difference; else [`DoseError::RecordDoesNotVerify`] naming
    /// each field. A different library version alone is not a difference.
    pub fn verified(self) -> Result<VerifiedRecord> {
        let verification = self.verify()?;
        if verification.ok() {
            Ok(VerifiedRecord(self))
        } else {
            Err(DoseError::RecordDoesNotVerify {
                participant: self.preparation.participant.to_string(),
                visit: self.preparation.visit.to_string(),
                differences: verification.differences,
            })
        }
    }

    fn check_draws(&self, out: &mut Vec<Difference>) {
        let draws = &self.preparation.draws;
        if draws.is_empty() {
            return;
        }
        let mut note = |field: &str, recorded: String, recomputed: String| {
            out.push(Difference {
                field: format!("preparation.draws.{field}"),
                recorded,
                recomputed,
            });
        };
        let Some(dose) = &self.preparation.dose else {
            note(
                "placebo",
                format!("{} draws", draws.len()),
                "0 draws (a placebo draws nothing)".to_owned(),
            );
            return;
        };
        let total = draws
            .iter()
            .try_fold(crate::units::ExactVolume::ZERO, |sum, d| {
                sum.checked_add(d.volume)
            });
        if total != Some(dose.draw_volume) {
            note(
                "total",
                total.map_or_else(|| "overflow".to_owned(), |v| v.to_string()),
                dose.draw_volume.to_string(),
            );
        }
        let per_container = self.lot.yield_per_container().volume();
        for (index, draw) in draws.iter().enumerate() {
            if *draw.lot_id != *self.lot.lot_id() {
                note(
                    "lot_id",
                    draw.lot_id.to_string(),
                    self.lot.lot_id().to_owned(),
                );
            }
            if !self.lot.holds_container(draw.container) {
                note(
                    "container",
                    draw.container.to_string(),
                    match self.lot.container_numbers() {
                        Some(numbers) => format!("one of {numbers:?}"),
                        None => format!("1 to {}", self.lot.containers()),
                    },
                );
            }
            if draw.volume > per_container {
                note(
                    "volume_ml",
                    draw.volume.to_string(),
                    format!("at most {per_container}"),
                );
            }
            if draws
                .iter()
                .skip(index + 1)
                .any(|other| other.container == draw.container)
            {
                note(
                    "container",
                    format!("{} twice", draw.container),
                    "each container once".to_owned(),
                );
            }
        }
    }
}

/// Every leaf where `recorded` and `recomputed` differ, by dotted path.
fn diff(path: &str, recorded: &Value, recomputed: &Value, out: &mut Vec<Difference>) {
    match (recorded, recomputed) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = format!("{path}.{key}");
                diff(&child, value, b.get(key).unwrap_or(&Value::Null), out);
            }
            for (key, value) in b {
                if !a.contains_key(key) {
                    diff(&format!("{path}.{key}"), &Value::Null, value, out);
                }
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(Difference {
            field: path.to_owned(),
            recorded: a.to_string(),
            recomputed: b.to_string(),
        }),
    }
}
