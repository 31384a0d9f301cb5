//! Corrections: an event's time, or a dispense's recipient, superseded by a
//! later event with its reason. The corrected event stays as recorded; the
//! rules, the exports and the review read what the corrections say now. A
//! corrected time keeps the event in order with every other event of its
//! bag, containers and lot.

use crate::db::{params, Db};

use crate::error::{LedgerError, Result};
use crate::event::{check_text, Body, Draw};
use crate::state::{event_time, instant, wall_clocks};
use crate::tables::Tables;

/// A refused correction of event `seq`; `field` is the argument at fault.
fn cannot(seq: i64, field: &'static str, why: String, fix: &'static str) -> LedgerError {
    LedgerError::CannotCorrect {
        seq,
        field,
        why,
        fix,
    }
}

/// The containers an event concerns, by lot.
fn containers_of(body: &Body) -> Vec<(String, u32)> {
    match body {
        Body::Receive {
            lot_id,
            containers,
            first_container,
            ..
        } => (*first_container..first_container.saturating_add(*containers))
            .map(|number| (lot_id.clone(), number))
            .collect(),
        Body::Thaw { lot_id, containers }
        | Body::DestroyContainers {
            lot_id, containers, ..
        }
        | Body::Return { lot_id, containers }
        | Body::Ship {
            lot_id, containers, ..
        } => containers
            .iter()
            .map(|number| (lot_id.clone(), *number))
            .collect(),
        Body::Prepare { draws, .. } | Body::Plan { draws, .. } => draws
            .iter()
            .map(
                |Draw {
                     lot_id, container, ..
                 }| (lot_id.clone(), *container),
            )
            .collect(),
        _ => Vec::new(),
    }
}

/// The other events that share a bag, a container or (for a receipt or a
/// count) a lot with `target`: their numbers and what each is of.
fn neighbours(tables: &dyn Tables, seq: i64, target: &Body) -> Result<Vec<(i64, String)>> {
    let mut found: Vec<(i64, String)> = Vec::new();
    // The other events found, corrections left out.
    let others = |events: Vec<(i64, Body)>| -> Vec<(i64, Body)> {
        events
            .into_iter()
            // A plan is paperwork, dated when written: out of the bag's time
            // order, but for its cancellation, which comes after it.
            .filter(|(other, body)| {
                let plan_apart =
                    matches!(body, Body::Plan { .. }) && !matches!(target, Body::CancelBag { .. });
                *other != seq && !matches!(body, Body::Correct { .. }) && !plan_apart
            })
            .collect()
    };
    if let Some(bag_id) = target.bag_id() {
        for (other, _) in others(tables.events_of_bag(bag_id)?) {
            found.push((other, format!("bag {bag_id}")));
        }
    }
    // A planned bag's preparation concerns the containers its plan draws from.
    let containers = match target {
        Body::PreparePlanned { bag_id } => crate::state::plan_of(tables, bag_id)?
            .draws
            .into_iter()
            .map(|draw| (draw.lot_id, draw.container))
            .collect(),
        _ => containers_of(target),
    };
    let mut lots: Vec<&str> = containers.iter().map(|(lot, _)| lot.as_str()).collect();
    lots.sort_unstable();
    lots.dedup();
    for lot_id in lots {
        for (other, body) in others(tables.events_of_lot(lot_id)?) {
            let shared = containers_of(&body)
                .into_iter()
                .find(|item| containers.contains(item));
            let lot_wide = matches!((target, &body), (Body::Receive { .. }, Body::Count { .. }));
            if let Some((_, number)) = shared {
                found.push((other, format!("container {number} of lot {lot_id:?}")));
            } else if lot_wide {
                found.push((other, format!("lot {lot_id:?}")));
            }
        }
        // Bags drawn from these containers (a prepare names no lot at its top).
        let drawn = tables.draws_of_lot(lot_id)?;
        // Bags drawn from the same container are not held to an order
        // among themselves (recording does not hold them to one either).
        let sibling = matches!(
            target,
            Body::Prepare { .. } | Body::Plan { .. } | Body::PreparePlanned { .. }
        );
        for (other, number) in drawn {
            if other != seq && !sibling && containers.contains(&(lot_id.to_owned(), number)) {
                found.push((other, format!("container {number} of lot {lot_id:?}")));
            }
        }
    }
    if let Body::Count { lot_id, .. } = target {
        for (other, body) in others(tables.events_of_lot(lot_id)?) {
            if matches!(body, Body::Receive { .. }) {
                found.push((other, format!("lot {lot_id:?}")));
            }
        }
    }
    found.sort();
    found.dedup_by_key(|(other, _)| *other);
    Ok(found)
}

/// The time of event `seq` as the corrections leave it (`recorded` where
/// none corrects it).
pub(crate) fn effective_at(db: &Db, seq: i64, recorded: &str) -> Result<String> {
    let corrected: Option<String> = db
        .row(
            "SELECT at FROM correction WHERE seq = ?1",
            params![seq],
            |row| row.get(0),
        )?
        .flatten();
    Ok(corrected.unwrap_or_else(|| recorded.to_owned())) // fallback-ok: an uncorrected event's time is the one recorded
}

/// The recipient of dispense `seq` as corrected, where a correction gives one.
pub(crate) fn effective_recipient(db: &Db, seq: i64) -> Result<Option<String>> {
    Ok(db
        .row(
            "SELECT recipient FROM correction WHERE seq = ?1",
            params![seq],
            |row| row.get(0),
        )?
        .flatten())
}

/// Whether a correction of event `seq` may be recorded.
/// `correction_at` is the correction's own time.
pub(crate) fn check(
    tables: &dyn Tables,
    seq: i64,
    reason: &str,
    new_at: Option<&str>,
    to: Option<&str>,
    names: (Option<&str>, Option<&str>),
    correction_at: &str,
) -> Result<()> {
    check_text("reason", reason, "say why the event is corrected")?;
    let Some((kind, target)) = tables.recorded(seq)? else {
        return Err(cannot(
            seq,
            "seq",
            format!("there is no event {seq}"),
            "give the number of the event to correct (ledger.events())",
        ));
    };
    if let Body::Correct { seq: original, .. } = &target {
        return Err(cannot(
            seq,
            "seq",
            format!("event {seq} is a correction of event {original}"),
            "correct the event it corrects: the latest correction stands",
        ));
    }
    if let Body::RegisterUser { .. }
    | Body::SignInFailed { .. }
    | Body::DisableUser { .. }
    | Body::ChangePassphrase { .. }
    | Body::ResetPassphrase { .. }
    | Body::Configure { .. }
    | Body::SetSite { .. } = &target
    {
        return Err(cannot(
            seq, "seq",
            format!("event {seq} is a {kind}, timed by the ledger's clock when it was written"),
            "a setting, a user's registration, disabling, passphrase change or reset, or a failed sign-in, is not corrected; add a comment to a later event and tell the monitor",
        ));
    }
    if let Body::Plan { bag_id, .. } = &target {
        return Err(cannot(
            seq,
            "seq",
            format!("event {seq} is the plan of bag {bag_id}, timed by the ledger's clock when it was written"),
            "a plan is not corrected: cancel the bag (cancel_bag) and plan it again",
        ));
    }
    if names != (target.bag_id(), target.lot_id()) {
        return Err(LedgerError::Tampered(format!(
            "a correction of event {seq} names another bag or lot than the event"
        )));
    }
    if new_at.is_none() && to.is_none() {
        return Err(cannot(
            seq,
            "seq",
            "it corrects nothing".to_owned(),
            "give the corrected time (at) or, for a dispense, the corrected recipient (to)",
        ));
    }
    // A correction is made after the event it corrects was written (by the
    // clock that wrote it, give or take a workstation's clock).
    let written = tables.recorded_at(seq)?;
    if let Some(written) = written {
        let made = instant("at", correction_at)?;
        let before = instant("recorded_at", &written)?.duration_since(made);
        if before > crate::audit::FUTURE_TOLERANCE {
            // On the site's clock where the event's bag gives its zone.
            let site_time: Option<String> = match target.bag_id() {
                Some(bag_id) => tables.bag(bag_id)?.map(|bag| bag.infuse_by),
                None => None,
            };
            let [_, at] = wall_clocks([
                ("infuse_by", site_time.as_deref().unwrap_or(correction_at)), // fallback-ok: no bag, the time on its own offset
                ("at", correction_at),
            ])?;
            return Err(cannot(
                seq,
                "at",
                format!(
                    "the correction is dated {at}, before event {seq} was written ({written} UTC)"
                ),
                "give the time the correction is made",
            ));
        }
    }
    if let Some(to) = to {
        let Body::Dispense {
            to: recorded_to, ..
        } = &target
        else {
            return Err(cannot(
                seq,
                "to",
                format!("event {seq} is a {kind}, which names no recipient"),
                "correct a dispense's recipient only",
            ));
        };
        check_text("to", to, "name who received the bag")?;
        let now = tables.correction(seq)?.and_then(|(_, recipient)| recipient);
        if now.as_deref().unwrap_or(recorded_to) == to {
            // fallback-ok: an uncorrected recipient is the one recorded
            return Err(cannot(
                seq,
                "to",
                format!("event {seq} already names {to:?}"),
                "give the recipient it should name",
            ));
        }
    }
    if let Some(new_at) = new_at {
        check_time(tables, seq, &kind, &target, new_at)?;
    }
    Ok(())
}

fn check_time(
    tables: &dyn Tables,
    seq: i64,
    kind: &str,
    target: &Body,
    new_at: &str,
) -> Result<()> {
    if let Body::Administer { .. } = target {
        return Err(cannot(
            seq, "corrected_at",
            "an infusion's times are its start and end, not the event's time".to_owned(),
            "an infusion's times are not corrected yet: add a comment to a later event and tell the monitor",
        ));
    }
    if let Body::Thaw { lot_id, containers } = target {
        // Every bag of the session, active or placebo, made or planned,
        // holds the thaw time in its record (its infuse-by time follows
        // from it); so does a bag planned from the thaw's containers for
        // a session of another time.
        let (current, _) = event_time(tables, seq)?;
        let session = instant("at", &current)?;
        for (bag, thawed_at) in tables.session_bags()? {
            if instant("thawed_at", &thawed_at)? == session {
                return Err(cannot(
                    seq, "corrected_at",
                    format!("bag {bag} was made or planned in this thaw's session, and its record holds the thaw time (its infuse-by time follows from it)"),
                    "destroy (or, if planned, cancel) the session's bags and prepare them again from a new thaw",
                ));
            }
        }
        for (bag_seq, number) in tables.draws_of_lot(lot_id)? {
            if containers.contains(&number) {
                return Err(cannot(
                    seq, "corrected_at",
                    format!("container {number} of this thaw is drawn from by the bag of event {bag_seq}, whose record holds the thaw time (its infuse-by time follows from it)"),
                    "destroy (or, if planned, cancel) the session's bags and prepare them again from a new thaw",
                ));
            }
        }
        // A corrected thaw is held to the lot's expiry, as a thaw is.
        crate::state::thawed_in_date(tables, lot_id, new_at)?;
    }
    let (current, _) = event_time(tables, seq)?;
    let new_instant = instant("at", new_at)?;
    // Times read on the site's clock where the bag gives its zone.
    let site_time: String = match target.bag_id() {
        Some(bag_id) => tables
            .bag(bag_id)?
            .map_or_else(|| new_at.to_owned(), |bag| bag.infuse_by), // fallback-ok: no bag row, each time on its own offset
        None => new_at.to_owned(),
    };
    if instant("at", &current)? == new_instant {
        return Err(cannot(
            seq,
            "corrected_at",
            format!("event {seq} already gives that time"),
            "give the time it happened",
        ));
    }
    if let Body::Prepare { thawed_at, .. } = target {
        if new_instant < instant("thawed_at", thawed_at)? {
            let [_, at, thawed] = wall_clocks([
                ("infuse_by", &site_time),
                ("at", new_at),
                ("thawed_at", thawed_at),
            ])?;
            return Err(cannot(
                seq,
                "corrected_at",
                format!("{at} is before its cells' thaw at {thawed}"),
                "give the time the bag was made",
            ));
        }
    }
    if let Body::PreparePlanned { bag_id } = target {
        // As when it was recorded: after its session's thaws, planned and done.
        let plan = crate::state::plan_of(tables, bag_id)?;
        let mut thaws = vec![(
            plan.thawed_at.clone(),
            "its session's planned thaw".to_owned(),
        )];
        for (lot_id, number) in tables.session_containers(&plan.thawed_at)? {
            if let Some(container_thawed_at) = tables
                .container(&lot_id, number)?
                .and_then(|container| container.thawed_at)
            {
                thaws.push((
                    container_thawed_at,
                    format!("the thaw of container {number} of lot {lot_id:?}"),
                ));
            }
        }
        for (thawed_at, what) in thaws {
            if new_instant < instant("thawed_at", &thawed_at)? {
                let [_, at, thawed] = wall_clocks([
                    ("infuse_by", &site_time),
                    ("at", new_at),
                    ("thawed_at", &thawed_at),
                ])?;
                return Err(cannot(
                    seq,
                    "corrected_at",
                    format!("{at} is before {what} at {thawed}"),
                    "give the time the bag was made",
                ));
            }
        }
    }
    for (other, item) in neighbours(tables, seq, target)? {
        let (other_at, what) = event_time(tables, other)?;
        // A later infusion is held against its start.
        let other_at = match tables.recorded(other)? {
            Some((_, Body::Administer { started_at, .. })) if other > seq => started_at,
            _ => other_at,
        };
        let other_instant = instant("at", &other_at)?;
        let out_of_order = if other < seq {
            new_instant < other_instant
        } else {
            new_instant > other_instant
        };
        if out_of_order {
            let [_, at, other_at] =
                wall_clocks([("infuse_by", &site_time), ("at", new_at), ("at", &other_at)])?;
            let side = if other < seq { "before" } else { "after" };
            return Err(cannot(
                seq, "corrected_at",
                format!("the {kind} of {item} at {at} would be {side} its {what} (event {other}) at {other_at}"),
                "give the time it happened; if the other event's time is wrong, correct that one first",
            ));
        }
    }
    Ok(())
}

/// Apply the correction `seq` of event `corrected`.
pub(crate) fn apply(
    tables: &dyn Tables,
    seq: i64,
    corrected: i64,
    new_at: Option<&str>,
    to: Option<&str>,
) -> Result<()> {
    tables.correct(seq, corrected, new_at, to)?;
    // A thaw's corrected time is its containers' thaw time (no bag was
    // drawn from them: `check` refuses that).
    if let (Some(new_at), Some((_, Body::Thaw { lot_id, containers }))) =
        (new_at, tables.recorded(corrected)?)
    {
        tables.set_thawed_at(&lot_id, &containers, new_at)?;
    }
    Ok(())
}
