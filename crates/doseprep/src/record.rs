//! The preparation record: every input, every output, the protocol's
//! fingerprint and the library version, as JSON that round-trips losslessly
//! and can be re-verified by recomputing from the inputs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{DoseError, Result};
use crate::lot::Lot;
use crate::order::Order;
use crate::prepare::{prepare, Preparation};
use crate::protocol::Protocol;

/// What was prepared, from what, by which version of this library.
///
/// The time of preparation is `order.prepared_at` (also
/// `preparation.prepared_at`); nothing here reads a clock, so the same
/// inputs give the same record byte for byte.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreparationRecord {
    /// doseprep version that made the record.
    pub library_version: String,
    /// SHA-256 of the protocol's canonical JSON, lowercase hex.
    pub protocol_fingerprint: String,
    /// The protocol as given.
    pub protocol: Protocol,
    /// The order.
    pub order: Order,
    /// The lot.
    pub lot: Lot,
    /// Every output.
    pub preparation: Preparation,
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
    /// Prepare and record in one step.
    pub fn prepare(protocol: &Protocol, order: &Order, lot: &Lot) -> Result<PreparationRecord> {
        let preparation = prepare(protocol, order, lot)?;
        PreparationRecord::new(protocol, order, lot, preparation)
    }

    /// A record of a preparation already made from these inputs.
    pub fn new(
        protocol: &Protocol,
        order: &Order,
        lot: &Lot,
        preparation: Preparation,
    ) -> Result<PreparationRecord> {
        Ok(PreparationRecord {
            library_version: crate::VERSION.to_owned(),
            protocol_fingerprint: protocol.fingerprint()?,
            protocol: protocol.clone(),
            order: order.clone(),
            lot: lot.clone(),
            preparation,
        })
    }

    /// Pretty JSON, fields in a fixed order, floats written to round-trip exactly.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| DoseError::InvalidRecord {
            reason: format!("cannot be written as JSON: {e}"),
        })
    }

    /// Read a record. Inputs are re-checked as they are read (a lot with
    /// viability 93 is refused here too).
    pub fn from_json(text: &str) -> Result<PreparationRecord> {
        serde_json::from_str(text).map_err(|e| DoseError::InvalidRecord {
            reason: format!("cannot be read: {e}"),
        })
    }

    /// Recompute the preparation from the recorded inputs and compare every
    /// field, and check the protocol against its recorded fingerprint.
    pub fn verify(&self) -> Result<Verification> {
        let mut differences = Vec::new();
        let fingerprint = self.protocol.fingerprint()?;
        if fingerprint != self.protocol_fingerprint {
            differences.push(Difference {
                field: "protocol_fingerprint".to_owned(),
                recorded: self.protocol_fingerprint.clone(),
                recomputed: fingerprint,
            });
        }
        let recorded = to_value("the recorded preparation", &self.preparation)?;
        match prepare(&self.protocol, &self.order, &self.lot) {
            Ok(recomputed) => {
                let recomputed = to_value("the recomputed preparation", &recomputed)?;
                diff("preparation", &recorded, &recomputed, &mut differences);
            }
            Err(error) => differences.push(Difference {
                field: "preparation".to_owned(),
                recorded: "a preparation".to_owned(),
                recomputed: format!("error: {error}"),
            }),
        }
        Ok(Verification {
            differences,
            verified_with_other_version: (self.library_version != crate::VERSION)
                .then(|| crate::VERSION.to_owned()),
        })
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
