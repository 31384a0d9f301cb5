//! The rules of the ledger: what an event may do given the events before
//! it (`check`), and what it changes (`apply`). The same two functions run
//! when an event is recorded and when `verify` replays the file.

use std::collections::BTreeSet;

use crate::db::{params, Db};

use crate::error::{LedgerError, PlanStep, Result, TimeField};
use crate::event::Body;
use crate::tables::{NewBag, NewUserRow, Stage, Tables};
use crate::users::User;
use doseprep::ExactVolume;

/// A container's state, as stored.
const IN_STOCK: &str = "in stock";
const THAWED: &str = "thawed";
const DESTROYED: &str = "destroyed";
const RETURNED: &str = "returned";
const SHIPPED: &str = "shipped";

/// The lot's container count and yield, where it was received.
pub(crate) fn known_lot(
    tables: &dyn Tables,
    event: &'static str,
    lot_id: &str,
) -> Result<(u32, u64)> {
    tables
        .lot(lot_id)?
        .map(|lot| (lot.containers, lot.yield_ul))
        .ok_or_else(|| LedgerError::UnknownLot {
            event,
            lot_id: lot_id.to_owned(),
        })
}

fn static_state(state: &str) -> &'static str {
    match state {
        IN_STOCK => IN_STOCK,
        THAWED => THAWED,
        DESTROYED => DESTROYED,
        RETURNED => RETURNED,
        SHIPPED => SHIPPED,
        _ => "in an unknown state",
    }
}

/// Each container exists, is listed once, and is in one of `allowed`.
fn check_containers(
    tables: &dyn Tables,
    event: &'static str,
    lot_id: &str,
    containers: &[u32],
    allowed: &[&str],
    fix: impl Fn(&str) -> &'static str,
) -> Result<()> {
    let (count, _) = known_lot(tables, event, lot_id)?;
    if containers.is_empty() {
        return Err(LedgerError::NoContainers { event });
    }
    let mut seen = BTreeSet::new();
    for &number in containers {
        if !seen.insert(number) {
            return Err(LedgerError::DuplicateContainer {
                event,
                lot_id: lot_id.to_owned(),
                container: number,
            });
        }
        let Some(container) = tables.container(lot_id, number)? else {
            return Err(LedgerError::UnknownContainer {
                event,
                lot_id: lot_id.to_owned(),
                container: number,
                containers: count,
            });
        };
        if !allowed.contains(&container.state.as_str()) {
            return Err(LedgerError::ContainerState {
                event,
                lot_id: lot_id.to_owned(),
                container: number,
                state: static_state(&container.state),
                fix: fix(&container.state),
            });
        }
    }
    Ok(())
}

fn bag_state_error(event: &'static str, bag_id: &str, state: &str) -> LedgerError {
    let (state, fix) = match (event, state) {
        ("destroy", "planned") => (
            "planned, not made",
            "a planned bag is not destroyed: cancel it (cancel_bag)",
        ),
        (_, "planned") => (
            "planned, not made",
            "record its preparation when it is done (prepare_planned)",
        ),
        (_, "cancelled") => (
            "cancelled",
            "a cancelled bag is not made; plan the visit again",
        ),
        ("dispense" | "administer", "prepared") => (
            "prepared but not checked",
            "a second user signs its check first (check)",
        ),
        ("cancel", "prepared" | "checked" | "dispensed") => (
            "made already",
            "a bag that was made is destroyed, not cancelled (destroy_bag)",
        ),
        ("prepare_planned", "prepared" | "checked" | "dispensed" | "administered") => (
            "prepared already",
            "a bag is prepared once; check the bag id",
        ),
        (_, "prepared") => ("prepared", "dispense it first"),
        ("check", "checked") => ("checked already", "a bag is checked once; dispense it"),
        (_, "checked") => ("checked", "dispense it first"),
        (_, "dispensed") => (
            "dispensed already",
            "a bag is dispensed once, so record its administration next",
        ),
        (_, "administered") => (
            "administered already",
            "a bag is given once; check the bag id",
        ),
        (_, "destroyed") => ("destroyed", "a destroyed bag is not used; prepare another"),
        _ => ("in an unknown state", "run verify"),
    };
    LedgerError::BagState {
        event,
        bag_id: bag_id.to_owned(),
        state,
        fix,
    }
}

fn known_bag(
    tables: &dyn Tables,
    event: &'static str,
    bag_id: &str,
    allowed: &[&str],
) -> Result<(String, String)> {
    let Some(bag) = tables.bag(bag_id)? else {
        return Err(LedgerError::UnknownBag {
            event,
            bag_id: bag_id.to_owned(),
        });
    };
    if !allowed.contains(&bag.state.as_str()) {
        return Err(bag_state_error(event, bag_id, &bag.state));
    }
    Ok((bag.participant, bag.infuse_by))
}

pub(crate) fn instant(field: &str, text: &str) -> Result<jiff::Timestamp> {
    // A time with an offset and no zone is the instant its offset gives, as
    // `parse_time` reads it (without the offset's own parse, which only
    // names its clock); a zone's name is checked against its offset there.
    if !text.ends_with(']') {
        if let Ok(timestamp) = jiff::fmt::temporal::DateTimeParser::new().parse_timestamp(text) {
            return Ok(timestamp);
        }
    }
    Ok(doseprep::parse_time(field, text)?.timestamp())
}

/// Stored times as a person reads them in a message: the wall clock of
/// the site, "2026-03-02 08:00 EST". The site's zone is the first IANA
/// zone any of them was recorded with (a bag's times always have one);
/// where none has, each reads in its own UTC offset.
pub(crate) fn wall_clocks<const N: usize>(fields: [(&str, &str); N]) -> Result<[String; N]> {
    let mut times = Vec::with_capacity(N);
    for (field, text) in fields {
        times.push(doseprep::parse_time(field, text)?);
    }
    let site = times
        .iter()
        .find(|time| time.time_zone().iana_name().is_some())
        .map(|time| time.time_zone().clone());
    let mut read: [String; N] = std::array::from_fn(|_| String::new());
    for (slot, time) in read.iter_mut().zip(times) {
        let zone = site.clone().unwrap_or_else(|| time.time_zone().clone()); // fallback-ok: no site zone known, its own offset
        *slot = doseprep::SiteTime::new(time.timestamp(), zone).wall_clock();
    }
    Ok(read)
}

fn ml(microlitres: u64) -> String {
    doseprep::ExactVolume::from_microlitres(microlitres).ml_decimal()
}

/// The claimed time of event `seq` and what it was, as a message names it.
pub(crate) fn event_time(tables: &dyn Tables, seq: i64) -> Result<(String, &'static str)> {
    // As the corrections leave it.
    let (at, kind) = tables.event_time(seq)?;
    let what = match kind.as_str() {
        "receive" => "receipt",
        "thaw" => "thaw",
        "prepare" | "prepare_planned" => "preparation",
        "plan" => "plan",
        "dispense" => "dispensing",
        "check" => "check",
        _ => "last event",
    };
    Ok((at, what))
}

/// `at` (the event's `field`) is not before `earlier_at`, the time of
/// `earlier` of `item`. Times read on the clock of `site_time` (a time with
/// the site's zone, where one is known).
fn not_before(
    event: &'static str,
    field: TimeField,
    item: impl Fn() -> String,
    at: &str,
    earlier: impl Fn() -> String,
    earlier_at: &str,
    site_time: Option<&str>,
) -> Result<()> {
    if instant(field.name(), at)? >= instant("at", earlier_at)? {
        return Ok(());
    }
    let [_, at, earlier_at] = wall_clocks([
        ("infuse_by", site_time.unwrap_or(at)), // fallback-ok: no site zone known, each time on its own offset
        (field.name(), at),
        ("at", earlier_at),
    ])?;
    Err(LedgerError::OutOfTimeOrder {
        subject: format!("{event} of {}", item()),
        field,
        at,
        earlier: earlier(),
        earlier_at,
    })
}

/// `at` is not before the last event of each container.
fn after_containers(
    tables: &dyn Tables,
    event: &'static str,
    lot_id: &str,
    containers: &[u32],
    at: &str,
) -> Result<()> {
    for &number in containers {
        let seq = tables
            .container(lot_id, number)?
            .ok_or_else(|| {
                LedgerError::Tampered(format!("container {number} of lot {lot_id:?} has no row"))
            })?
            .last_seq;
        let (earlier_at, kind) = event_time(tables, seq)?;
        not_before(
            event,
            TimeField::At,
            || format!("container {number} of lot {lot_id:?}"),
            at,
            || format!("its {kind} (event {seq})"),
            &earlier_at,
            None,
        )?;
    }
    Ok(())
}

/// `at` (the event's `field`) is not before the bag's last event.
fn after_bag(
    tables: &dyn Tables,
    event: &'static str,
    field: TimeField,
    bag_id: &str,
    at: &str,
) -> Result<()> {
    let bag = tables
        .bag(bag_id)?
        .ok_or_else(|| LedgerError::Tampered(format!("bag {bag_id} has no row")))?;
    let (seq, infuse_by) = (bag.last_seq, bag.infuse_by);
    let (earlier_at, kind) = event_time(tables, seq)?;
    not_before(
        event,
        field,
        || format!("bag {bag_id}"),
        at,
        || format!("its {kind} (event {seq})"),
        &earlier_at,
        Some(&infuse_by),
    )
}

/// A thaw of `lot_id` at `at` is by the lot's expiry, where it has one.
pub(crate) fn thawed_in_date(tables: &dyn Tables, lot_id: &str, at: &str) -> Result<()> {
    let expires_at = tables.lot(lot_id)?.and_then(|lot| lot.expires_at);
    if let Some(expires_at) = expires_at {
        if instant("at", at)? > instant("expires_at", &expires_at)? {
            let [expires_at, thawed_at] = wall_clocks([("expires_at", &expires_at), ("at", at)])?;
            return Err(doseprep::DoseError::LotExpired {
                lot_id: lot_id.to_owned(),
                expires_at,
                thawed_at,
            }
            .into());
        }
    }
    Ok(())
}

/// Which builds may have written an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// This build, or one of schema 4 or later: held to every rule.
    Now,
    /// A build of schema 3 or before (events before the ledger's
    /// `schema_start` of schema 4): its days' thaws and preparations were
    /// recorded at their planned times.
    Earlier,
}

/// An event is not dated after the moment it is written (by more than
/// `FUTURE_TOLERANCE`, room for workstation clocks): what has not happened
/// is not recorded. A day's plan is its own event (`plan`, dated when it is
/// written), so nothing is exempt. Builds of schema 3 and before recorded a
/// day's thaws and preparations at their planned times: a replay lets those
/// two kinds stand (the review lists them as future-dated).
pub(crate) fn not_future_dated(
    body: &Body,
    at: &str,
    recorded_at: &str,
    written: Written,
) -> Result<()> {
    if written == Written::Earlier && matches!(body, Body::Thaw { .. } | Body::Prepare { .. }) {
        return Ok(());
    }
    let ahead = instant("recorded_at", recorded_at)?.duration_until(instant("at", at)?);
    if ahead <= crate::audit::FUTURE_TOLERANCE {
        return Ok(());
    }
    // Both on the clock of the time given (`recorded_at` is UTC).
    let given = doseprep::parse_time("at", at)?;
    let on_clock = |instant: jiff::Timestamp| {
        doseprep::SiteTime::new(instant, given.time_zone().clone()).wall_clock()
    };
    let (at, written) = (
        on_clock(given.timestamp()),
        on_clock(instant("recorded_at", recorded_at)?),
    );
    Err(LedgerError::FutureDated {
        event: body.method(),
        at,
        written,
        tolerance_min: crate::audit::FUTURE_TOLERANCE.as_mins(),
    })
}

/// The longest late-entry limit, in minutes: a week. Beyond it the limit
/// would let a week-old entry pass without a word.
pub const MAX_LATE_ENTRY_AFTER_MIN: u32 = 10_080;

/// A late-entry limit of 1 minute to `MAX_LATE_ENTRY_AFTER_MIN`.
pub(crate) fn late_entry_limit_in_range(minutes: i64) -> Result<u32> {
    u32::try_from(minutes)
        .ok()
        .filter(|minutes| (1..=MAX_LATE_ENTRY_AFTER_MIN).contains(minutes))
        .ok_or(LedgerError::LateEntryLimit {
            minutes,
            max: MAX_LATE_ENTRY_AFTER_MIN,
        })
}

/// The ledger's late-entry limit in minutes, where one is set.
pub(crate) fn late_entry_limit(tables: &dyn Tables) -> Result<Option<u32>> {
    tables.late_entry_limit()
}

/// An event written more than the ledger's late-entry limit after the time
/// it gives (where a limit is set) says why, in `late_reason`; one written
/// within it has no reason to give.
pub(crate) fn check_lateness(
    tables: &dyn Tables,
    body: &Body,
    at: &str,
    recorded_at: &str,
    late_reason: Option<&str>,
) -> Result<()> {
    let limit = tables.late_entry_limit()?;
    let delay = instant("at", at)?.duration_until(instant("recorded_at", recorded_at)?);
    // The limit, where this entry is past it.
    let passed =
        limit.filter(|minutes| delay > jiff::SignedDuration::from_mins(i64::from(*minutes)));
    // Both times on the clock of the time given (`recorded_at` is UTC).
    let on_clock = || -> Result<(String, String)> {
        let given = doseprep::parse_time("at", at)?;
        let read = |instant: jiff::Timestamp| {
            doseprep::SiteTime::new(instant, given.time_zone().clone()).wall_clock()
        };
        Ok((
            read(given.timestamp()),
            read(instant("recorded_at", recorded_at)?),
        ))
    };
    match (passed, late_reason) {
        (None, None) => Ok(()),
        (Some(_), Some(reason)) => {
            crate::event::check_text("late_reason", reason, "say why the event is recorded late")
        }
        (Some(limit_min), None) => {
            let (at, written) = on_clock()?;
            Err(LedgerError::LateEntry {
                event: body.method(),
                at,
                written,
                limit_min,
            })
        }
        (None, Some(_)) => {
            let (at, written) = on_clock()?;
            Err(LedgerError::LateReasonNotNeeded {
                event: body.method(),
                at,
                written,
                limit_min: limit,
            })
        }
    }
}

/// `user_id` is registered and not disabled.
fn active_user(tables: &dyn Tables, user_id: &str) -> Result<()> {
    match tables.user(user_id)? {
        None => Err(LedgerError::UnknownUser {
            user_id: user_id.to_owned(),
        }),
        Some(User {
            disabled_seq: Some(seq),
            ..
        }) => Err(LedgerError::UserDisabled {
            user_id: user_id.to_owned(),
            seq,
        }),
        Some(_) => Ok(()),
    }
}

/// An infusion that ran (`ran`, started to ended) shorter than the shortest
/// its bag's site allows (`site.shortest_infusion`, in the bag's record:
/// the rule it was made under) says why in `short_reason`; one that did not
/// has no reason to give.
fn check_short_infusion(
    tables: &dyn Tables,
    bag_id: &str,
    ran: jiff::SignedDuration,
    short_reason: Option<&str>,
) -> Result<()> {
    let (shortest, planned) = tables.infusion_limits(bag_id)?;
    let shortest = shortest
        .map(|text| doseprep::parse_duration("site.shortest_infusion", &text))
        .transpose()?;
    let said = |duration: jiff::SignedDuration| doseprep::format_duration(duration);
    match (shortest.filter(|shortest| ran < *shortest), short_reason) {
        (None, None) => Ok(()),
        (Some(_), Some(reason)) => crate::event::check_text(
            "short_reason",
            reason,
            "say why the infusion ran shorter than its site's shortest",
        ),
        (Some(shortest), None) => Err(LedgerError::ShortInfusion {
            bag_id: bag_id.to_owned(),
            ran: said(ran),
            shortest: said(shortest),
            // A protocol with a shortest infusion has its infusion time.
            planned: planned.ok_or_else(|| {
                LedgerError::Tampered(format!(
                    "bag {bag_id}'s record gives a shortest infusion but no infusion_duration"
                ))
            })?,
        }),
        (None, Some(_)) => Err(LedgerError::ShortReasonNotNeeded {
            bag_id: bag_id.to_owned(),
            ran: said(ran),
            shortest: shortest.map(said),
        }),
    }
}

/// A container of a planned bag's session (`lot_id`, `container`) was not
/// thawed before the plan's thaw time (`thawed_at`), which its label's
/// infuse-by time counts from. A later thaw leaves the label earlier than
/// it need be, never later.
fn not_thawed_before_plan(
    event: PlanStep,
    bag_id: &str,
    (lot_id, container): (&str, u32),
    container_thawed_at: &str,
    thawed_at: &str,
) -> Result<()> {
    if instant("thawed_at", container_thawed_at)? >= instant("thawed_at", thawed_at)? {
        return Ok(());
    }
    let [bag_thawed_at, container_thawed_at] =
        wall_clocks([("thawed_at", thawed_at), ("thawed_at", container_thawed_at)])?;
    Err(LedgerError::ThawedBeforePlan {
        event,
        bag_id: bag_id.to_owned(),
        lot_id: lot_id.to_owned(),
        container,
        container_thawed_at,
        bag_thawed_at,
    })
}

/// What a bag's plan says: its session's thaw time and its draws (the
/// session's containers are read from the ledger: `Tables::session_containers`).
pub(crate) struct PlanOf {
    pub thawed_at: String,
    pub draws: Vec<crate::event::Draw>,
}

/// The plan of bag `bag_id`.
pub(crate) fn plan_of(tables: &dyn Tables, bag_id: &str) -> Result<PlanOf> {
    let bag = tables
        .bag(bag_id)?
        .ok_or_else(|| LedgerError::Tampered(format!("bag {bag_id} has no row")))?;
    match tables.recorded(bag.prepared_seq)? {
        Some((
            _,
            Body::Plan {
                thawed_at, draws, ..
            },
        )) => Ok(PlanOf { thawed_at, draws }),
        _ => Err(LedgerError::Tampered(format!(
            "bag {bag_id} is planned, but its event {} is not a plan",
            bag.prepared_seq
        ))),
    }
}

/// A planned bag made at `at`: every container of its session (its own
/// draws, its plan's session containers, and those of every other bag of
/// the session not cancelled, whichever day's plan it came in: an active
/// bag and its placebo alike) still thawed, none thawed before the plan's
/// time; and made after each of those thaws and its session's planned one.
fn check_prepare_planned(tables: &dyn Tables, at: &str, bag_id: &str, rules: Rules) -> Result<()> {
    // The plan is paperwork, dated when written (a day may be entered after
    // it was done): a bag's time order starts with its preparation.
    let (_, infuse_by) = known_bag(tables, "prepare_planned", bag_id, &["planned"])?;
    made_by_infuse_by("prepare_planned", bag_id, at, &infuse_by, rules)?;
    let plan = plan_of(tables, bag_id)?;
    let made_after = |what: String, earlier_at: &str| {
        not_before(
            "prepare_planned",
            TimeField::At,
            || format!("bag {bag_id}"),
            at,
            || what.clone(),
            earlier_at,
            Some(&infuse_by),
        )
    };
    // Each time read once (a bag's session is read whole at each making);
    // a refusal reads them again for its message.
    let (made, planned_thaw) = (instant("at", at)?, instant("thawed_at", &plan.thawed_at)?);
    for (lot_id, number) in tables.session_containers(&plan.thawed_at)? {
        check_containers(
            tables,
            "prepare_planned",
            &lot_id,
            &[number],
            &[THAWED],
            |state| {
                match state {
                IN_STOCK => "record its session's thaw first (thaw)",
                _ => "it is gone: cancel every bag of its session alike, active and placebo (cancel_bag), and plan them again",
            }
            },
        )?;
        let container_thawed_at = tables
            .container(&lot_id, number)?
            .and_then(|container| container.thawed_at)
            .ok_or_else(|| {
                LedgerError::Tampered(format!(
                    "container {number} of lot {lot_id:?} is thawed with no thaw time"
                ))
            })?;
        let thawed = instant("thawed_at", &container_thawed_at)?;
        if thawed < planned_thaw {
            not_thawed_before_plan(
                PlanStep::PreparePlanned,
                bag_id,
                (&lot_id, number),
                &container_thawed_at,
                &plan.thawed_at,
            )?;
        }
        // Bags drawn from one container are not held to an order among
        // themselves: only to its thaw.
        if made < thawed {
            made_after(
                format!("the thaw of container {number} of lot {lot_id:?}"),
                &container_thawed_at,
            )?;
        }
    }
    if made < planned_thaw {
        made_after("its session's planned thaw".to_owned(), &plan.thawed_at)?;
    }
    Ok(())
}

/// The most containers one receipt may bring.
pub const MAX_CONTAINERS: u32 = 10_000;

/// Which rules an event was recorded under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rules {
    /// Before events kept `recorded_at` (ledger schema 1): the events of a
    /// bag or container were not yet held to time order, so a ledger of
    /// that time that has one out of order still verifies.
    Schema1,
    /// Ledger schema 2 to 4: held to time order, but a bag made after its
    /// infuse-by time stood.
    Schema4,
    /// Every rule of this build.
    Current,
}

/// A bag is made by its infuse-by time (ledger schema 5 on): one made after
/// it has a label that expired before it was made.
fn made_by_infuse_by(
    event: &'static str,
    bag_id: &str,
    at: &str,
    infuse_by: &str,
    rules: Rules,
) -> Result<()> {
    if rules != Rules::Current || instant("at", at)? <= instant("infuse_by", infuse_by)? {
        return Ok(());
    }
    let [infuse_by_on_clock, at_on_clock] = wall_clocks([("infuse_by", infuse_by), ("at", at)])?;
    Err(LedgerError::MadePastInfuseBy {
        event,
        bag_id: bag_id.to_owned(),
        at: at_on_clock,
        infuse_by: infuse_by_on_clock,
    })
}

/// Whether `body`, happening at `at`, may be recorded after the events so far.
pub(crate) fn check(tables: &dyn Tables, at: &str, body: &Body, rules: Rules) -> Result<()> {
    // The time-order rules, where the event was recorded under them.
    let in_order = |order: &dyn Fn() -> Result<()>| match rules {
        Rules::Current | Rules::Schema4 => order(),
        Rules::Schema1 => Ok(()),
    };
    match body {
        Body::Receive {
            lot_id,
            containers,
            first_container,
            container_ul,
            yield_ul,
            expires_at,
            shipment,
        } => {
            if let Some(shipment) = shipment {
                crate::site::check_shipment(tables, lot_id, *containers, shipment)?;
            }
            let before = tables.lot(lot_id)?.map(|lot| {
                (
                    lot.containers,
                    lot.container_ul,
                    lot.yield_ul,
                    lot.expires_at,
                    lot.received_seq,
                )
            });
            let on_record = before.as_ref().map_or(0, |(n, ..)| *n);
            let total = on_record.checked_add(*containers);
            if *containers == 0 || total.is_none_or(|total| total > MAX_CONTAINERS) {
                return Err(LedgerError::TooManyContainers {
                    lot_id: lot_id.clone(),
                    containers: *containers,
                    // A lot holds at most MAX_CONTAINERS (each receipt is
                    // checked), so this is what one more may bring.
                    max: MAX_CONTAINERS.saturating_sub(on_record), // fallback-ok: never below 0 for a lot the rules kept
                });
            }
            if let Some((_, first_ul, first_yield, first_expiry, seq)) = before {
                let describe = |ul: u64, yield_ul: u64, expiry: Option<&String>| {
                    format!(
                        "{} containers yielding {}, expiry {}",
                        ExactVolume::from_microlitres(ul),
                        ExactVolume::from_microlitres(yield_ul),
                        expiry.map_or("not given", String::as_str)
                    )
                };
                if (first_ul, first_yield, first_expiry.as_ref())
                    != (*container_ul, *yield_ul, expires_at.as_ref())
                {
                    return Err(LedgerError::ReceiptDiffers {
                        lot_id: lot_id.clone(),
                        seq,
                        recorded: describe(first_ul, first_yield, first_expiry.as_ref()),
                        given: describe(*container_ul, *yield_ul, expires_at.as_ref()),
                    });
                }
            }
            // The numbers go on from the lot's last container.
            if Some(*first_container) != on_record.checked_add(1) {
                return Err(LedgerError::Tampered(format!(
                    "a receipt of lot {lot_id:?} numbers its containers from {first_container}, \
                     but the lot has {on_record} already (if another receipt was being recorded \
                     at the same moment, receive again)"
                )));
            }
            Ok(())
        }
        Body::Thaw { lot_id, containers } => {
            thawed_in_date(tables, lot_id, at)?;
            check_containers(
                tables,
                "thaw",
                lot_id,
                containers,
                &[IN_STOCK],
                |state| match state {
                    THAWED => "a container is thawed once; thaw another",
                    DESTROYED => "it was destroyed; thaw another",
                    SHIPPED => "it was shipped to another site; thaw another",
                    _ => "it was returned; thaw another",
                },
            )?;
            in_order(&|| after_containers(tables, "thaw", lot_id, containers, at))
        }
        Body::Prepare {
            bag_id,
            participant,
            visit,
            content,
            draws,
            thawed_at,
            infuse_by,
            din,
            ..
        }
        | Body::Plan {
            bag_id,
            participant,
            visit,
            content,
            draws,
            thawed_at,
            infuse_by,
            din,
            ..
        } => {
            let stage = match body {
                Body::Plan { .. } => Stage::Planned,
                _ => Stage::Made,
            };
            let event = body.kind();
            let step = match stage {
                Stage::Planned => crate::error::BagRecord::Plan,
                Stage::Made => crate::error::BagRecord::Prepare,
            };
            if let Some(din) = din {
                if let Some(other) = tables.bag_with_din(din)? {
                    return Err(LedgerError::DinInUse {
                        event: step,
                        bag_id: bag_id.clone(),
                        din: din.clone(),
                        other,
                    });
                }
            }
            if let Some(recorded) = tables.bag(bag_id)? {
                return Err(LedgerError::BagAlreadyRecorded {
                    event: step,
                    bag_id: bag_id.clone(),
                    seq: recorded.prepared_seq,
                });
            }
            if let Some((existing, seq)) = tables.standing_bag(participant, visit)? {
                return Err(LedgerError::VisitAlreadyPrepared {
                    event: step,
                    participant: participant.clone(),
                    visit: visit.clone(),
                    existing,
                    seq,
                });
            }
            match (content.as_str(), draws.is_empty()) {
                ("active", true) => {
                    return Err(LedgerError::NoDraws {
                        event: step,
                        bag_id: bag_id.clone(),
                    })
                }
                ("placebo", false) => {
                    return Err(LedgerError::PlaceboDraws {
                        event: step,
                        bag_id: bag_id.clone(),
                    })
                }
                _ => {}
            }
            let mut seen = BTreeSet::new();
            for draw in draws {
                if !seen.insert((draw.lot_id.as_str(), draw.container)) {
                    return Err(LedgerError::DuplicateContainer {
                        event,
                        lot_id: draw.lot_id.clone(),
                        container: draw.container,
                    });
                }
                // A plan sets aside what its session will thaw, or what a
                // thawed container holds still.
                let ready: &[&str] = match stage {
                    Stage::Planned => &[IN_STOCK, THAWED],
                    Stage::Made => &[THAWED],
                };
                check_containers(
                    tables,
                    event,
                    &draw.lot_id,
                    &[draw.container],
                    ready,
                    |state| match state {
                        IN_STOCK => "record its thaw first (thaw)",
                        DESTROYED => "it was destroyed; draw from another thawed container",
                        SHIPPED => {
                            "it was shipped to another site; draw from another thawed container"
                        }
                        _ => "it was returned; draw from another thawed container",
                    },
                )?;
                let container = tables.container(&draw.lot_id, draw.container)?;
                let container_thawed_at = container.as_ref().and_then(|c| c.thawed_at.clone());
                if let (Some(container_thawed_at), Stage::Planned) = (&container_thawed_at, stage) {
                    not_thawed_before_plan(
                        PlanStep::Plan,
                        bag_id,
                        (&draw.lot_id, draw.container),
                        container_thawed_at,
                        thawed_at,
                    )?;
                } else if let Some(container_thawed_at) = container_thawed_at {
                    if instant("thawed_at", &container_thawed_at)?
                        != instant("thawed_at", thawed_at)?
                    {
                        let [bag_thawed_at, container_thawed_at] = wall_clocks([
                            ("thawed_at", thawed_at),
                            ("thawed_at", &container_thawed_at),
                        ])?;
                        return Err(LedgerError::ThawTimeDiffers {
                            bag_id: bag_id.clone(),
                            lot_id: draw.lot_id.clone(),
                            container: draw.container,
                            container_thawed_at,
                            bag_thawed_at,
                        });
                    }
                }
                let (_, yield_ul) = known_lot(tables, event, &draw.lot_id)?;
                // fallback-ok: check_containers above found the container
                let drawn = container.map_or(0, |c| c.drawn_ul);
                let total = drawn.saturating_add(draw.volume_ul);
                if draw.volume_ul == 0 {
                    return Err(LedgerError::DrawsDisagree {
                        event: step,
                        bag_id: bag_id.clone(),
                        reason: format!("draw 0 mL from container {}", draw.container),
                    });
                }
                if total > yield_ul {
                    return Err(LedgerError::OverDrawn {
                        event: step,
                        lot_id: draw.lot_id.clone(),
                        container: draw.container,
                        volume_ml: ml(draw.volume_ul),
                        total_ml: ml(total),
                        yield_ml: ml(yield_ul),
                    });
                }
            }
            // Active or placebo alike: a bag is made after its session's
            // thaw (the containers' thaw, checked above to be the same). A
            // plan is made before it, when the day is planned; none of its
            // session's containers was thawed before its time.
            if let Body::Plan {
                session_containers, ..
            } = body
            {
                // Its session as the ledger holds it (bags planned or made
                // for the same thaw time in other calls) and as it names it.
                let mut session = tables.session_containers(thawed_at)?;
                session.extend(
                    session_containers
                        .iter()
                        .map(|thawed| (thawed.lot_id.clone(), thawed.container)),
                );
                session.sort();
                session.dedup();
                for (lot_id, number) in session {
                    check_containers(
                        tables,
                        event,
                        &lot_id,
                        &[number],
                        &[IN_STOCK, THAWED],
                        |state| match state {
                            DESTROYED => "it was destroyed; plan the session with another",
                            SHIPPED => {
                                "it was shipped to another site; plan the session with another"
                            }
                            _ => "it was returned; plan the session with another",
                        },
                    )?;
                    let container_thawed_at = tables
                        .container(&lot_id, number)?
                        .and_then(|container| container.thawed_at);
                    if let Some(container_thawed_at) = container_thawed_at {
                        not_thawed_before_plan(
                            PlanStep::Plan,
                            bag_id,
                            (&lot_id, number),
                            &container_thawed_at,
                            thawed_at,
                        )?;
                    }
                }
                return Ok(());
            }
            in_order(&|| {
                not_before(
                    "prepare",
                    TimeField::At,
                    || format!("bag {bag_id}"),
                    at,
                    || "its cells' thaw".to_owned(),
                    thawed_at,
                    Some(infuse_by),
                )
            })?;
            made_by_infuse_by("prepare", bag_id, at, infuse_by, rules)
        }
        Body::PreparePlanned { bag_id } => check_prepare_planned(tables, at, bag_id, rules),
        Body::CancelBag { bag_id, reason } => {
            crate::event::check_text("reason", reason, "say why the bag is cancelled")?;
            known_bag(tables, "cancel", bag_id, &["planned"])?;
            after_bag(tables, "cancel", TimeField::At, bag_id, at)
        }
        Body::Dispense { bag_id, to } => {
            crate::event::check_text("to", to, "name who received the bag")?;
            // Where users sign, a bag is checked by a second one first.
            let ready: &[&str] = if tables.any_users()? {
                &["checked"]
            } else {
                &["prepared", "checked"]
            };
            known_bag(tables, "dispense", bag_id, ready)?;
            in_order(&|| after_bag(tables, "dispense", TimeField::At, bag_id, at))
        }
        Body::Administer {
            bag_id,
            participant,
            started_at,
            ended_at,
            override_reason,
            short_reason,
        } => {
            let ready: &[&str] = if tables.any_users()? {
                &["checked", "dispensed"]
            } else {
                &["prepared", "checked", "dispensed"]
            };
            let (owner, infuse_by) = known_bag(tables, "administer", bag_id, ready)?;
            if &owner != participant {
                return Err(LedgerError::WrongParticipant {
                    bag_id: bag_id.clone(),
                    for_participant: owner,
                    participant: participant.clone(),
                });
            }
            let (started, ended) = (
                instant("started_at", started_at)?,
                instant("ended_at", ended_at)?,
            );
            // Read on the bag's clock: its infuse-by time has the site's zone.
            let [started_on_clock, ended_on_clock, infuse_by_on_clock] = wall_clocks([
                ("infuse_by", &infuse_by),
                ("started_at", started_at),
                ("ended_at", ended_at),
            ])
            .map(|[infuse_by, started, ended]| [started, ended, infuse_by])?;
            if ended < started {
                return Err(LedgerError::EndsBeforeStart {
                    started_at: started_on_clock,
                    ended_at: ended_on_clock,
                });
            }
            after_bag(
                tables,
                "administer",
                TimeField::StartedAt,
                bag_id,
                started_at,
            )?;
            check_short_infusion(
                tables,
                bag_id,
                started.duration_until(ended),
                short_reason.as_deref(),
            )?;
            let late = ended > instant("infuse_by", &infuse_by)?;
            match (override_reason, late) {
                (Some(reason), true) => crate::event::check_text(
                    "override_reason",
                    reason,
                    "say why the bag was given after its infuse-by time",
                ),
                (Some(_), false) => Err(LedgerError::OverrideNotNeeded {
                    bag_id: bag_id.clone(),
                    ended_at: ended_on_clock,
                    infuse_by: infuse_by_on_clock,
                }),
                (None, true) => Err(LedgerError::PastInfuseBy {
                    bag_id: bag_id.clone(),
                    ended_at: ended_on_clock,
                    infuse_by: infuse_by_on_clock,
                }),
                (None, false) => Ok(()),
            }
        }
        Body::DestroyContainers {
            lot_id,
            containers,
            reason,
        } => {
            crate::event::check_text("reason", reason, "say why the containers are destroyed")?;
            check_containers(
                tables,
                "destroy",
                lot_id,
                containers,
                &[IN_STOCK, THAWED],
                |state| {
                    match state {
                    DESTROYED => "it was destroyed already, so record nothing more for it",
                    SHIPPED => "it was shipped to another site and is not here, so check the container number",
                    _ => "it was returned and is not here, so check the container number",
                }
                },
            )?;
            in_order(&|| after_containers(tables, "destroy", lot_id, containers, at))
        }
        Body::DestroyBag { bag_id, reason } => {
            crate::event::check_text("reason", reason, "say why the bag is destroyed")?;
            known_bag(
                tables,
                "destroy",
                bag_id,
                &["prepared", "checked", "dispensed"],
            )?;
            in_order(&|| after_bag(tables, "destroy", TimeField::At, bag_id, at))
        }
        Body::Return { lot_id, containers }
        | Body::Ship {
            lot_id, containers, ..
        } => {
            let event = match body {
                Body::Ship { to_site, .. } => {
                    crate::site::check_ship(tables, to_site)?;
                    "ship"
                }
                _ => "return",
            };
            check_containers(
                tables,
                event,
                lot_id,
                containers,
                &[IN_STOCK],
                |state| match state {
                    THAWED => "a thawed container cannot leave; destroy what is left",
                    DESTROYED => "it was destroyed, so check the container number",
                    SHIPPED => "it was shipped to another site, so check the container number",
                    _ => "it was returned already, so check the container number",
                },
            )?;
            // A container a planned bag is to draw from stays for it.
            for &number in containers {
                if tables
                    .container(lot_id, number)?
                    .is_some_and(|container| container.drawn_ul > 0)
                {
                    return Err(LedgerError::ContainerState {
                        event,
                        lot_id: lot_id.clone(),
                        container: number,
                        state: "set aside for a planned bag",
                        fix: "cancel the bags planned from it first (cancel_bag)",
                    });
                }
            }
            in_order(&|| after_containers(tables, event, lot_id, containers, at))
        }
        Body::SetSite { site, name } => crate::site::check_set_site(tables, site, name),
        Body::Correct {
            seq,
            reason,
            at: new_at,
            to,
            bag_id,
            lot_id,
        } => crate::correct::check(
            tables,
            *seq,
            reason,
            new_at.as_deref(),
            to.as_deref(),
            (bag_id.as_deref(), lot_id.as_deref()),
            at,
        ),
        Body::Check { bag_id } => {
            known_bag(tables, "check", bag_id, &["prepared"])?;
            after_bag(tables, "check", TimeField::At, bag_id, at)
        }
        Body::RegisterUser {
            user_id,
            full_name,
            initials,
            role,
        } => {
            crate::users::NewUser::new(
                user_id,
                full_name,
                initials,
                crate::users::Role::parse(role)?,
            )?;
            match tables.user(user_id)? {
                Some(user) => Err(LedgerError::UserExists {
                    user_id: user_id.clone(),
                    seq: user.registered_seq,
                }),
                None => Ok(()),
            }
        }
        Body::DisableUser { user_id, reason } => {
            crate::event::check_text("reason", reason, "say why the user is disabled")?;
            active_user(tables, user_id)
        }
        Body::ChangePassphrase { user_id } | Body::ResetPassphrase { user_id } => {
            active_user(tables, user_id)
        }
        Body::Configure {
            late_entry_after_min,
        } => late_entry_limit_in_range(i64::from(*late_entry_after_min)).map(|_| ()),
        Body::SignInFailed { user_id } => {
            if user_id != crate::users::NOT_REGISTERED && tables.user(user_id)?.is_none() {
                return Err(LedgerError::Tampered(format!(
                    "a failed sign-in keeps the id {user_id:?}, which is not registered (it keeps a registered id only)"
                )));
            }
            Ok(())
        }
        Body::Count { lot_id, .. } => {
            let Some(received_seq) = tables.lot(lot_id)?.map(|lot| lot.received_seq) else {
                return Err(LedgerError::UnknownLot {
                    event: "count",
                    lot_id: lot_id.clone(),
                });
            };
            in_order(&|| {
                let (received_at, _) = event_time(tables, received_seq)?;
                not_before(
                    "count",
                    TimeField::At,
                    || format!("lot {lot_id:?}"),
                    at,
                    || format!("its receipt (event {received_seq})"),
                    &received_at,
                    None,
                )
            })
        }
    }
}

/// Apply event `seq`, at `at` (already checked), to the state.
pub(crate) fn apply(tables: &dyn Tables, seq: i64, at: &str, body: &Body) -> Result<()> {
    match body {
        Body::Receive {
            lot_id,
            containers,
            first_container,
            container_ul,
            yield_ul,
            expires_at,
            ..
        } => tables.receive(
            seq,
            lot_id,
            *containers,
            *first_container,
            *container_ul,
            *yield_ul,
            expires_at.as_deref(),
        ),
        Body::Thaw { lot_id, containers } => tables.thaw(seq, at, lot_id, containers),
        Body::Prepare {
            bag_id,
            participant,
            visit,
            thawed_at,
            infuse_by,
            din,
            draws,
            record,
            ..
        }
        | Body::Plan {
            bag_id,
            participant,
            visit,
            thawed_at,
            infuse_by,
            din,
            draws,
            record,
            ..
        } => tables.prepare(
            seq,
            &NewBag {
                bag_id,
                participant,
                visit,
                din: din.as_deref(),
                infuse_by,
                draws,
                stage: match body {
                    Body::Plan { .. } => Stage::Planned,
                    _ => Stage::Made,
                },
                thawed_at,
                session_containers: match body {
                    Body::Plan {
                        session_containers, ..
                    } => session_containers,
                    _ => &[],
                },
                infusion: crate::tables::infusion_limits(record.get())?,
            },
        ),
        Body::PreparePlanned { bag_id } => tables.make(seq, bag_id),
        Body::CancelBag { bag_id, .. } => tables.cancel(seq, bag_id),
        Body::Dispense { bag_id, .. } => tables.set_bag(seq, bag_id, "dispensed"),
        Body::Administer { bag_id, .. } => tables.set_bag(seq, bag_id, "administered"),
        Body::Check { bag_id } => tables.set_bag(seq, bag_id, "checked"),
        Body::RegisterUser {
            user_id,
            full_name,
            initials,
            role,
        } => tables.register_user(
            seq,
            &NewUserRow {
                user_id,
                full_name,
                initials,
                role,
            },
        ),
        Body::DisableUser { user_id, .. } => tables.disable_user(seq, user_id),
        Body::Configure {
            late_entry_after_min,
        } => tables.set_late_entry_limit(seq, *late_entry_after_min),
        Body::SignInFailed { .. }
        | Body::ChangePassphrase { .. }
        | Body::ResetPassphrase { .. }
        | Body::Count { .. } => Ok(()),
        Body::DestroyBag { bag_id, .. } => tables.set_bag(seq, bag_id, "destroyed"),
        Body::DestroyContainers {
            lot_id, containers, ..
        } => tables.set_containers(seq, lot_id, containers, DESTROYED),
        Body::Return { lot_id, containers } => {
            tables.set_containers(seq, lot_id, containers, RETURNED)
        }
        Body::Ship {
            lot_id, containers, ..
        } => tables.set_containers(seq, lot_id, containers, SHIPPED),
        Body::SetSite { site, .. } => tables.set_site(seq, site),
        Body::Correct {
            seq: corrected,
            at: new_at,
            to,
            ..
        } => crate::correct::apply(tables, seq, *corrected, new_at.as_deref(), to.as_deref()),
    }
}

/// The containers of a lot in stock and not set aside for a planned bag,
/// lowest number first: what a day's plan may thaw.
pub(crate) fn in_stock(db: &Db, lot_id: &str) -> Result<Vec<u32>> {
    db.rows(
        "SELECT number FROM container WHERE lot_id = ?1 AND state = 'in stock' AND drawn_ul = 0 \
         ORDER BY number",
        params![lot_id],
        |row| row.get(0),
    )
}
