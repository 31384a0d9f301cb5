//! The chain of identity of a bag: the lots and containers it was drawn
//! from, when each was received and thawed, its preparation record, and
//! every event of the bag since.

use crate::db::{params, Db};
use serde::Serialize;

use crate::balance::lot_events;
use crate::error::{LedgerError, Result};
use crate::event::{Body, Event, EVENT_COLUMNS};

/// A lot a bag was drawn from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LotReceipt {
    /// The lot.
    pub lot_id: String,
    /// The receive event.
    pub received_seq: i64,
    /// When it was received.
    pub received_at: String,
    /// Its expiry, if recorded.
    pub expires_at: Option<String>,
    /// The shipment from another site it came by, where it did: the
    /// sending site, its ship event, and its numbers of the containers in
    /// the order this receipt numbers them (from its first container on),
    /// so the chain of custody goes on in that site's ledger.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment: Option<crate::event::Shipment>,
}

/// What a bag's draws are, as it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DrawsAre {
    /// Drawn: the bag was made (prepared, or its plan's preparation recorded).
    Drawn,
    /// Set aside by the bag's plan; not drawn yet (the bag is not made).
    SetAside,
    /// Set aside by the bag's plan, then given back when it was cancelled:
    /// nothing was drawn for it.
    GivenBack,
}

/// A container a bag was drawn from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DrawTrace {
    /// The lot.
    pub lot_id: String,
    /// The container's number in the lot.
    pub container: u32,
    /// The volume drawn, mL.
    pub volume_ml: f64,
    /// The thaw event.
    pub thaw_seq: Option<i64>,
    /// When it was thawed.
    pub thawed_at: Option<String>,
}

/// One event of the bag.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BagEvent {
    /// Its number.
    pub seq: i64,
    /// Its kind.
    pub kind: String,
    /// When it happened, as corrected (a correction is an event of the bag too).
    pub at: String,
    /// Who recorded it.
    pub initials: String,
    /// The user who signed it, where it was signed.
    pub signed_by: Option<String>,
    /// Their full name, from the registry, where it was signed.
    pub signer_name: Option<String>,
    /// What the signature means, where it was signed.
    pub meaning: Option<String>,
    /// When it was written (and signed), UTC; none for events of schema 1.
    pub recorded_at: Option<String>,
    /// A comment.
    pub comment: Option<String>,
    /// Its body, without the record (which is `record`).
    pub details: serde_json::Value,
}

/// A bag's chain of identity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainOfIdentity {
    /// The bag id.
    pub bag_id: String,
    /// The participant.
    pub participant: String,
    /// "active" or "placebo".
    pub content: String,
    /// The lots drawn from (none for a placebo).
    pub lots: Vec<LotReceipt>,
    /// What `draws` are: drawn, set aside by a plan, or given back by a
    /// cancelled plan.
    pub draws_are: DrawsAre,
    /// The containers drawn from, set aside or given back (`draws_are`),
    /// each with its thaw: its container's (for a bag given back, only one
    /// that happened by the cancellation, whenever it was written).
    pub draws: Vec<DrawTrace>,
    /// The preparation record.
    pub record: serde_json::Value,
    /// The bag's events: prepared, then dispensed, administered or destroyed.
    pub events: Vec<BagEvent>,
}

pub(crate) fn bag_events(db: &Db, bag_id: &str) -> Result<Vec<(Event, Body)>> {
    let events = db.rows(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM event WHERE json_extract(body, '$.bag_id') = ?1 ORDER BY seq"
        ),
        params![bag_id],
        Event::from_row,
    )?;
    events
        .into_iter()
        .map(|event| match event.parsed_body() {
            Some(body) => Ok((event, body)),
            None => Err(LedgerError::Tampered(format!(
                "event {} does not read as a {} event",
                event.seq, event.kind
            ))),
        })
        .collect()
}

/// The chain of identity of `bag_id`.
pub fn chain_of_identity(db: &Db, bag_id: &str) -> Result<ChainOfIdentity> {
    let events = bag_events(db, bag_id)?;
    let Some((
        _,
        Body::Prepare {
            participant,
            content,
            draws,
            record,
            ..
        }
        | Body::Plan {
            participant,
            content,
            draws,
            record,
            ..
        },
    )) = events.first()
    else {
        return Err(LedgerError::UnknownBag {
            event: "chain_of_identity",
            bag_id: bag_id.to_owned(),
        });
    };
    // When the bag was cancelled, where it was (as corrected).
    let cancelled = events
        .iter()
        .find(|(_, body)| matches!(body, Body::CancelBag { .. }))
        .map(|(event, _)| {
            let at = crate::correct::effective_at(db, event.seq, &event.at)?;
            crate::state::instant("at", &at)
        })
        .transpose()?;
    let made = events
        .iter()
        .any(|(_, body)| matches!(body, Body::Prepare { .. } | Body::PreparePlanned { .. }));
    let draws_are = match (cancelled, made) {
        (Some(_), _) => DrawsAre::GivenBack,
        (None, true) => DrawsAre::Drawn,
        (None, false) => DrawsAre::SetAside,
    };
    let mut lots: Vec<LotReceipt> = Vec::new();
    let mut traces = Vec::new();
    for draw in draws {
        let history = lot_events(db, &draw.lot_id)?;
        // The receipt that brought this container in, listed once.
        if let Some((event, expires_at, shipment)) =
            history.iter().find_map(|e| match e.parsed_body() {
                Some(Body::Receive {
                    expires_at,
                    first_container,
                    containers,
                    shipment,
                    ..
                }) if (first_container..first_container + containers).contains(&draw.container) => {
                    Some((e, expires_at, shipment))
                }
                _ => None,
            })
        {
            if !lots.iter().any(|l| l.received_seq == event.seq) {
                lots.push(LotReceipt {
                    lot_id: draw.lot_id.clone(),
                    received_seq: event.seq,
                    received_at: crate::correct::effective_at(db, event.seq, &event.at)?,
                    expires_at,
                    shipment,
                });
            }
        }
        // A container given back may be thawed later for another bag: its
        // thaw is the bag's where it happened (as corrected) by the
        // cancellation, whenever it was written.
        let thawed = |e: &&Event| matches!(e.parsed_body(), Some(Body::Thaw { containers, .. }) if containers.contains(&draw.container));
        let thaw = match history.iter().find(thawed) {
            Some(thaw) => match cancelled {
                Some(cancelled_at) => {
                    let at = crate::correct::effective_at(db, thaw.seq, &thaw.at)?;
                    (crate::state::instant("at", &at)? <= cancelled_at).then_some(thaw)
                }
                None => Some(thaw),
            },
            None => None,
        };
        traces.push(DrawTrace {
            lot_id: draw.lot_id.clone(),
            container: draw.container,
            volume_ml: doseprep::ExactVolume::from_microlitres(draw.volume_ul).ml(),
            thaw_seq: thaw.map(|e| e.seq),
            thawed_at: thaw
                .map(|e| crate::correct::effective_at(db, e.seq, &e.at))
                .transpose()?,
        });
    }
    let names = crate::users::names(db)?;
    let bag_events = events
        .iter()
        .map(|(event, body)| {
            let mut details = serde_json::to_value(body)
                .map_err(|e| LedgerError::internal(format!("event {} as JSON: {e}", event.seq)))?;
            if let Some(map) = details.as_object_mut() {
                map.remove("record");
                map.remove("kind");
                // A dispense's recipient as corrected.
                if let Some(to) = crate::correct::effective_recipient(db, event.seq)? {
                    map.insert("to".to_owned(), serde_json::Value::String(to));
                }
            }
            Ok(BagEvent {
                seq: event.seq,
                kind: event.kind.clone(),
                at: crate::correct::effective_at(db, event.seq, &event.at)?,
                initials: event.initials.clone(),
                signed_by: event.signer.clone(),
                signer_name: event
                    .signer
                    .as_ref()
                    .and_then(|signer| names.get(signer).cloned()),
                meaning: event.meaning.clone(),
                recorded_at: event.recorded_at.clone(),
                comment: event.comment.clone(),
                details,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ChainOfIdentity {
        bag_id: bag_id.to_owned(),
        participant: participant.clone(),
        content: content.clone(),
        lots,
        draws_are,
        draws: traces,
        record: serde_json::from_str(record.get())
            .map_err(|e| LedgerError::internal(format!("bag {bag_id}'s record as JSON: {e}")))?,
        events: bag_events,
    })
}
