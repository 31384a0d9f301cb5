//! A lot's balance, summed from its events alone (not from the state
//! tables), so that the balance is by construction the sum of the events;
//! a test checks the state tables agree.

use std::collections::BTreeMap;

use crate::db::{params, Db};
use serde::Serialize;

use crate::error::{LedgerError, Result};
use crate::event::{Body, Event, EVENT_COLUMNS};

/// A lot's containers: received, and where they went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    /// The lot.
    pub lot_id: String,
    /// Containers received.
    pub received: u32,
    /// Containers thawed.
    pub thawed: u32,
    /// Containers destroyed from stock (never thawed).
    pub destroyed: u32,
    /// Thawed containers whose remains were destroyed (already counted in
    /// `thawed`).
    pub destroyed_after_thaw: u32,
    /// Containers returned.
    pub returned: u32,
    /// Containers shipped to another site.
    pub shipped: u32,
    /// Containers on hand: received − thawed − destroyed − returned − shipped.
    pub on_hand: u32,
}

/// A count of a lot's containers against its balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The lot.
    pub lot_id: String,
    /// Containers counted.
    pub counted: u32,
    /// Containers the events say are on hand.
    pub expected: u32,
    /// counted − expected: 0 when they agree.
    pub difference: i64,
    /// The count event's number.
    pub seq: i64,
}

#[derive(Clone, Copy, PartialEq)]
enum Where {
    InStock,
    Thawed,
    Gone,
}

/// The events of one lot, in order.
pub(crate) fn lot_events(db: &Db, lot_id: &str) -> Result<Vec<Event>> {
    db.rows(
        &format!(
            "SELECT {EVENT_COLUMNS} FROM event WHERE json_extract(body, '$.lot_id') = ?1 ORDER BY seq"
        ),
        params![lot_id],
        Event::from_row,
    )
}

/// The balance of `lot_id` after all its events.
pub fn balance(db: &Db, lot_id: &str) -> Result<Balance> {
    balance_of(db, lot_id, None)
}

/// The balance of the containers one receipt of `lot_id` (the event
/// `receipt`) brought in, after all the lot's events.
pub fn receipt_balance(db: &Db, lot_id: &str, receipt: i64) -> Result<Balance> {
    let known = receipts(db, lot_id)?;
    if !known.contains(&receipt) {
        return Err(LedgerError::UnknownReceipt {
            lot_id: lot_id.to_owned(),
            receipt,
            receipts: known
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    balance_of(db, lot_id, Some(receipt))
}

/// The events that received `lot_id`, in order: its receipts.
pub fn receipts(db: &Db, lot_id: &str) -> Result<Vec<i64>> {
    Ok(lot_events(db, lot_id)?
        .iter()
        .filter(|event| event.kind == "receive")
        .map(|event| event.seq)
        .collect())
}

fn balance_of(db: &Db, lot_id: &str, receipt: Option<i64>) -> Result<Balance> {
    let events = lot_events(db, lot_id)?;
    let mut bodies = Vec::with_capacity(events.len());
    for event in &events {
        let Some(body) = event.parsed_body() else {
            return Err(LedgerError::Tampered(format!(
                "event {} does not read as a {} event",
                event.seq, event.kind
            )));
        };
        bodies.push((event.seq, body));
    }
    tally(lot_id, &bodies, receipt)
}

/// A receipt that takes a lot beyond what a lot may hold.
fn beyond_a_lot(lot_id: &str, seq: i64) -> LedgerError {
    LedgerError::Tampered(format!(
        "event {seq} receives containers of lot {lot_id} beyond the {} a lot holds",
        crate::state::MAX_CONTAINERS
    ))
}

/// Container `number` of `lot_id` moved by event `seq` (an `event`) to
/// where `step` says from where it is, and that count raised by one. A
/// container not among those tallied (another receipt's) is passed over;
/// a move the rules refuse (a container thawed twice, or destroyed after
/// it left: a pushed event the centre only hash-checked) is a fault, never
/// counted twice.
fn move_container<'a>(
    containers: &mut BTreeMap<u32, Where>,
    seq: i64,
    lot_id: &str,
    number: u32,
    event: &str,
    step: impl FnOnce(Where) -> Option<(Where, &'a mut u32)>,
) -> Result<()> {
    let Some(place) = containers.get_mut(&number) else {
        return Ok(());
    };
    let (to, count) = step(*place).ok_or_else(|| {
        LedgerError::Tampered(format!(
            "event {seq} records a {event} of container {number} of lot {lot_id}, which the rules refuse where it is then"
        ))
    })?;
    // Each container is counted once at most, and a lot holds at most
    // MAX_CONTAINERS: no count can pass a u32.
    *count = count
        .checked_add(1)
        .ok_or_else(|| beyond_a_lot(lot_id, seq))?;
    *place = to;
    Ok(())
}

/// The balance of `lot_id` after `events` (each event's number and body,
/// in order; events of other lots are passed over): of the receipt
/// `receipt` only, or of every receipt.
pub(crate) fn tally(lot_id: &str, events: &[(i64, Body)], receipt: Option<i64>) -> Result<Balance> {
    let mut balance = Balance {
        lot_id: lot_id.to_owned(),
        received: 0,
        thawed: 0,
        destroyed: 0,
        destroyed_after_thaw: 0,
        returned: 0,
        shipped: 0,
        on_hand: 0,
    };
    let mut containers: BTreeMap<u32, Where> = BTreeMap::new();
    let mut received = false;
    for (seq, body) in events {
        if body.lot_id() != Some(lot_id) || matches!(body, Body::Correct { .. }) {
            continue;
        }
        match body.clone() {
            // Only the receipt asked for, or every receipt.
            Body::Receive {
                containers: n,
                first_container,
                ..
            } if receipt.is_none_or(|receipt| receipt == *seq) => {
                received = true;
                // The rules keep a lot within MAX_CONTAINERS; a receipt
                // beyond it (a pushed event the centre only hash-checked)
                // is refused before it is counted out one by one.
                let total = balance.received.checked_add(n);
                let last = first_container.checked_add(n);
                let (Some(total), Some(last)) = (total, last) else {
                    return Err(beyond_a_lot(lot_id, *seq));
                };
                if total > crate::state::MAX_CONTAINERS {
                    return Err(beyond_a_lot(lot_id, *seq));
                }
                // Containers are numbered on across receipts: one that
                // numbers a container again would put it back in stock.
                if let Some((&number, _)) = containers.range(first_container..last).next() {
                    return Err(LedgerError::Tampered(format!(
                        "event {seq} receives container {number} of lot {lot_id} again (a later receipt is numbered on)"
                    )));
                }
                balance.received = total;
                containers.extend((first_container..last).map(|number| (number, Where::InStock)));
            }
            Body::Thaw {
                containers: list, ..
            } => {
                for number in list {
                    move_container(&mut containers, *seq, lot_id, number, "thaw", |place| {
                        (place == Where::InStock).then_some((Where::Thawed, &mut balance.thawed))
                    })?;
                }
            }
            Body::DestroyContainers {
                containers: list, ..
            } => {
                for number in list {
                    move_container(&mut containers, *seq, lot_id, number, "destroy", |place| {
                        match place {
                            Where::InStock => Some((Where::Gone, &mut balance.destroyed)),
                            Where::Thawed => Some((Where::Gone, &mut balance.destroyed_after_thaw)),
                            Where::Gone => None,
                        }
                    })?;
                }
            }
            Body::Return {
                containers: list, ..
            } => {
                for number in list {
                    move_container(&mut containers, *seq, lot_id, number, "return", |place| {
                        (place == Where::InStock).then_some((Where::Gone, &mut balance.returned))
                    })?;
                }
            }
            Body::Ship {
                containers: list, ..
            } => {
                for number in list {
                    move_container(&mut containers, *seq, lot_id, number, "ship", |place| {
                        (place == Where::InStock).then_some((Where::Gone, &mut balance.shipped))
                    })?;
                }
            }
            _ => {}
        }
    }
    if !received {
        return Err(LedgerError::UnknownLot {
            event: "balance",
            lot_id: lot_id.to_owned(),
        });
    }
    // Counted, not subtracted: each container is in one place.
    balance.on_hand = containers
        .values()
        .map(|place| u32::from(*place == Where::InStock))
        .sum();
    Ok(balance)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    fn receipt(containers: u32) -> Body {
        Body::Receive {
            lot_id: "L".to_owned(),
            containers,
            first_container: 1,
            container_ul: 10_000,
            yield_ul: 10_000,
            expires_at: None,
            shipment: None,
        }
    }

    fn thaw(containers: &[u32]) -> Body {
        Body::Thaw {
            lot_id: "L".to_owned(),
            containers: containers.to_vec(),
        }
    }

    #[test]
    fn a_container_thawed_twice_is_a_fault_not_two_thaws() {
        let events = [(1, receipt(4)), (2, thaw(&[1, 2])), (3, thaw(&[2]))];
        match tally("L", &events, None) {
            Err(LedgerError::Tampered(reason)) => assert_eq!(
                reason,
                "event 3 records a thaw of container 2 of lot L, which the rules refuse where it is then"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_container_is_counted_where_it_went() {
        let events = [
            (1, receipt(5)),
            (2, thaw(&[1, 2])),
            (
                3,
                Body::DestroyContainers {
                    lot_id: "L".to_owned(),
                    containers: vec![2, 3],
                    reason: "cracked".to_owned(),
                },
            ),
            (
                4,
                Body::Return {
                    lot_id: "L".to_owned(),
                    containers: vec![4],
                },
            ),
        ];
        let balance = tally("L", &events, None).map_err(|e| e.to_string());
        let counted = balance.map(|b| {
            (
                b.received,
                b.thawed,
                b.destroyed,
                b.destroyed_after_thaw,
                b.returned,
                b.on_hand,
            )
        });
        assert_eq!(counted, Ok((5, 2, 1, 1, 1, 1)));
        let again = [(1, receipt(2)), (2, thaw(&[1])), (3, events[2].1.clone())];
        let destroyed_twice = [
            again[0].clone(),
            (
                2,
                Body::DestroyContainers {
                    lot_id: "L".to_owned(),
                    containers: vec![1],
                    reason: "x".to_owned(),
                },
            ),
            (
                3,
                Body::DestroyContainers {
                    lot_id: "L".to_owned(),
                    containers: vec![1],
                    reason: "x".to_owned(),
                },
            ),
        ];
        assert!(tally("L", &again, None).is_ok());
        let mut numbered_again = receipt(2);
        if let Body::Receive {
            first_container, ..
        } = &mut numbered_again
        {
            *first_container = 2;
        }
        match tally("L", &[(1, receipt(2)), (2, numbered_again)], None) {
            Err(LedgerError::Tampered(reason)) => assert_eq!(
                reason,
                "event 2 receives container 2 of lot L again (a later receipt is numbered on)"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            tally("L", &destroyed_twice, None),
            Err(LedgerError::Tampered(_))
        ));
    }
}
