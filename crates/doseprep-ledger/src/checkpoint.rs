//! Checkpoints: the chain's head written down outside the file. A ledger
//! rewritten from some event on with every hash recomputed, or cut short,
//! verifies on its own; against a checkpoint kept elsewhere it does not.

use crate::db::{params, Db};
use serde::{Deserialize, Serialize};

use crate::error::{LedgerError, Result};
use crate::event::GENESIS;
use crate::verify::{Problem, Verification};

/// The ledger's head at one moment: the last event's number and hash,
/// when the checkpoint was taken (UTC, from the ledger's clock), and who
/// took it, where a user was signed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    /// The last event's number (0 for a ledger with no event).
    pub seq: i64,
    /// The last event's hash (64 zeros for a ledger with no event).
    pub head: String,
    /// When it was taken, RFC 3339 in UTC.
    pub taken_at: String,
    /// The user signed in when it was taken (an attribution written in the
    /// line, not a cryptographic signature: whoever keeps the line keeps it
    /// as it was written); absent where no one was signed in.
    #[serde(default)]
    pub taken_by: Option<String>,
}

impl Checkpoint {
    /// One line of JSON, to keep elsewhere (printed, mailed, in another
    /// system).
    pub fn to_json(&self) -> String {
        match &self.taken_by {
            Some(user) => serde_json::json!({"seq": self.seq, "head": self.head,
                "taken_at": self.taken_at, "taken_by": user}),
            None => {
                serde_json::json!({"seq": self.seq, "head": self.head, "taken_at": self.taken_at})
            }
        }
        .to_string()
    }

    /// A checkpoint read back from [`Checkpoint::to_json`]'s line.
    pub fn from_json(text: &str) -> Result<Checkpoint> {
        let checkpoint: Checkpoint = serde_json::from_str(text.trim()).map_err(|error| {
            LedgerError::from(doseprep::DoseError::InvalidInput {
                field: "checkpoint".to_owned(),
                reason: format!(
                    "{:?} is not a checkpoint ({error}); give the line `doseprep ledger checkpoint` wrote",
                    text.trim()
                ),
            })
        })?;
        let well_formed = checkpoint.seq >= 0
            && checkpoint.head.len() == 64
            && checkpoint.head.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return Err(doseprep::DoseError::InvalidInput {
                field: "checkpoint".to_owned(),
                reason: format!(
                    "seq {} and head {:?} are not an event number from 0 and a 64-digit hash; give the line `doseprep ledger checkpoint` wrote",
                    checkpoint.seq, checkpoint.head
                ),
            }
            .into());
        }
        Ok(checkpoint)
    }
}

/// The checkpoint of a verified ledger: a ledger that does not verify has
/// no head worth keeping, and is refused.
pub(crate) fn take(
    verification: &Verification,
    clock: &crate::Clock,
    taken_by: Option<&str>,
) -> Result<Checkpoint> {
    if let Some(problem) = &verification.problem {
        return Err(LedgerError::Tampered(problem.reason.clone()));
    }
    Ok(Checkpoint {
        seq: verification.events,
        head: verification
            .head
            .clone()
            .unwrap_or_else(|| GENESIS.to_owned()), // fallback-ok: no event, the chain's start
        taken_at: clock.now_text(),
        taken_by: taken_by.map(str::to_owned),
    })
}

/// `verification` (of the whole chain) held against `checkpoints`: the
/// first checkpoint whose event is gone or hashes differently is the
/// problem.
pub(crate) fn hold(
    db: &Db,
    verification: Verification,
    checkpoints: &[Checkpoint],
) -> Result<Verification> {
    if verification.problem.is_some() {
        return Ok(verification);
    }
    let last = verification.events;
    for checkpoint in checkpoints {
        let problem = if checkpoint.seq > last {
            Some(Problem {
                seq: Some(last + 1),
                reason: format!(
                    "the ledger ends at event {last}, but the checkpoint taken at {} saw event {}: {}",
                    checkpoint.taken_at,
                    checkpoint.seq,
                    if checkpoint.seq == last + 1 {
                        format!("event {} was removed", checkpoint.seq)
                    } else {
                        format!("events {} to {} were removed", last + 1, checkpoint.seq)
                    }
                ),
            })
        } else {
            let hash: Option<String> = if checkpoint.seq == 0 {
                Some(GENESIS.to_owned())
            } else {
                db.row(
                    "SELECT hash FROM event WHERE seq = ?1",
                    params![checkpoint.seq],
                    |row| row.get(0),
                )?
            };
            (hash.as_deref() != Some(checkpoint.head.as_str())).then(|| Problem {
                seq: Some(checkpoint.seq),
                reason: format!(
                    "event {} is not the event the checkpoint taken at {} saw (hash {}, now {}): the ledger was rewritten up to event {} and its hashes recomputed",
                    checkpoint.seq,
                    checkpoint.taken_at,
                    checkpoint.head,
                    hash.as_deref().unwrap_or("missing"), // fallback-ok: the word shown when the event is gone
                    checkpoint.seq
                ),
            })
        };
        if let Some(problem) = problem {
            return Ok(Verification {
                problem: Some(problem),
                ..verification
            });
        }
    }
    Ok(verification)
}
