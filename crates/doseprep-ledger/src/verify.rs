//! Walking the chain: every event numbered without a gap, linked to the one
//! before, hashed as stored, and possible given the events before it; the
//! head pointing at the last; the state tables what the events lead to.

use crate::db::{params, Db, Lock};
use serde::Serialize;

use crate::checkpoint::Checkpoint;
use crate::error::{LedgerError, Result};
use crate::event::{Body, Event, EVENT_COLUMNS, GENESIS};
use crate::state;
use crate::tables::{Memory, Rows, Tables as _};

/// How much a verification checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The chain (every hash, link and the head) and every event replayed
    /// through the rules, the state tables compared with the replay.
    Full,
    /// The chain only: every hash, link and the head; no event replayed,
    /// the state tables not compared. Quick enough to run every day.
    Chain,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// What was checked.
    pub scope: Scope,
    /// The last event's number (the events there are).
    pub events: i64,
    /// The events checked are those after this one: 0 for the whole
    /// chain; a checkpoint's event for a verify from that checkpoint
    /// (whose own event is checked first, by its hash), whether it found a
    /// problem or not.
    pub checked_after: i64,
    /// The hash of the last event: write it down (or print it) to show
    /// later that nothing was removed from the end.
    pub head: Option<String>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

impl Verification {
    /// True when the ledger checks out.
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// The first problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The event concerned, where it is one event.
    pub seq: Option<i64>,
    /// What is wrong.
    pub reason: String,
}

fn problem(scope: Scope, checked_after: i64, seq: Option<i64>, reason: String) -> Verification {
    Verification {
        scope,
        events: 0,
        checked_after,
        head: None,
        problem: Some(Problem { seq, reason }),
    }
}

/// Verify the ledger on `db`, in one read transaction: a writer
/// committing meanwhile is not seen half-way.
pub fn verify(db: &Db, scope: Scope) -> Result<Verification> {
    let walk_of = match scope {
        Scope::Full => Walk::Full,
        Scope::Chain => Walk::Chain,
    };
    db.transaction(Lock::Read, |snapshot| walk(snapshot, walk_of))
}

/// Verify the chain after the event `checkpoint` vouches for, in one read
/// transaction: that event must still have the checkpoint's hash and hash
/// as stored, and every event after it is checked as the chain scope
/// checks them (hash, link, recording time, the head). The events before
/// it are not read: a daily verify from the last checkpoint does not grow
/// with the ledger's age, and a full verify now and then reads them all.
///
/// Each of `earlier` (checkpoints of events up to `checkpoint`'s) is
/// vouched for the same way: its event there, hashing as stored, with its
/// head. The events between them are not read either.
pub fn verify_after(
    db: &Db,
    checkpoint: &Checkpoint,
    earlier: &[&Checkpoint],
) -> Result<Verification> {
    db.transaction(Lock::Read, |snapshot| {
        let verification = walk(snapshot, Walk::ChainAfter(checkpoint))?;
        if verification.problem.is_some() {
            return Ok(verification);
        }
        for earlier in earlier {
            if let Err(found) = vouched(snapshot, earlier)? {
                return Ok(problem(
                    Scope::Chain,
                    checkpoint.seq,
                    found.seq,
                    found.reason,
                ));
            }
        }
        Ok(verification)
    })
}

/// What a walk reads and checks.
#[derive(Clone, Copy)]
enum Walk<'a> {
    /// Every event, replayed.
    Full,
    /// Every event's hash and link.
    Chain,
    /// The hash and link of each event after a checkpoint's.
    ChainAfter(&'a Checkpoint),
}

/// Why a stored hash does not match: the event was renumbered (an event
/// inserted or deleted before it), or changed.
fn mismatch(event: &Event) -> (i64, String) {
    let seq = event.seq;
    let hash_as = |number: i64| event.hash_as(number) == event.hash;
    if hash_as(seq - 1) {
        (
            seq - 1,
            format!(
                "event {} was inserted or moved behind the ledger's back: the event after it was recorded as event {} (the events from there were renumbered)",
                seq - 1,
                seq - 1
            ),
        )
    } else if hash_as(seq + 1) {
        (
            seq,
            format!(
                "event {seq} was deleted or moved: the event now numbered {seq} was recorded as event {} (the events after it were renumbered)",
                seq + 1
            ),
        )
    } else {
        (
            seq,
            format!("event {seq} was changed after it was recorded: its hash does not match its contents"),
        )
    }
}

/// Events handed to the second thread at a time, and batches in flight.
const BATCH: usize = 256;
const IN_FLIGHT: usize = 2;

/// A problem found, with the event it was found at.
struct Found {
    at_event: i64,
    seq: Option<i64>,
    reason: String,
}

/// An event whose hash held, with its body read (where the replay reads it).
struct Hashed {
    event: Event,
    body: Option<Body>,
}

/// The second thread: each batch's hashes checked and bodies read, the
/// batch handed back in order; at the first changed event, the events
/// before it are handed back with it named, and the thread stops.
fn hash_and_read(
    batches: std::sync::mpsc::Receiver<Vec<Event>>,
    done: std::sync::mpsc::SyncSender<(Vec<Hashed>, Option<Found>)>,
    read_bodies: bool,
) {
    // One buffer each for every event's hash array and body fields: an
    // event's are kilobytes, and allocating them anew each time is dear.
    let (mut hash_input, mut fields) = (Vec::new(), String::new());
    for batch in batches {
        let mut hashed = Vec::with_capacity(batch.len());
        for event in batch {
            if !event.hash_matches_in(&mut hash_input) {
                let (seq, reason) = mismatch(&event);
                let changed = Found {
                    at_event: event.seq,
                    seq: Some(seq),
                    reason,
                };
                let _ = done.send((hashed, Some(changed)));
                return;
            }
            let body = if read_bodies {
                event.parsed_body_in(&mut fields)
            } else {
                None
            };
            hashed.push(Hashed { event, body });
        }
        if done.send((hashed, None)).is_err() {
            return;
        }
    }
}

/// What a walk found: the first problem of each source, by the event it
/// is at, and a fault that stopped it.
#[derive(Default)]
struct Findings {
    /// A changed event (its hash).
    changed: Option<Found>,
    /// A problem seen as the events were read: a gap, a link, a time.
    read: Option<Found>,
    /// An event the rules refuse after the ones before it.
    refused: Option<Found>,
    /// A fault reading or replaying, at an event.
    fault: Option<(i64, LedgerError)>,
}

impl Findings {
    /// The one to report, as reading the events one by one would: the
    /// first event's; at one event, its changed hash first (a changed event
    /// is named as changed, not by what its change breaks).
    fn first(self) -> Result<Option<Found>> {
        let mut candidates: Vec<(i64, u8, std::result::Result<Found, LedgerError>)> = Vec::new();
        if let Some(found) = self.changed {
            candidates.push((found.at_event, 0, Ok(found)));
        }
        if let Some(found) = self.read {
            candidates.push((found.at_event, 1, Ok(found)));
        }
        if let Some(found) = self.refused {
            candidates.push((found.at_event, 2, Ok(found)));
        }
        if let Some((at_event, fault)) = self.fault {
            candidates.push((at_event, 2, Err(fault)));
        }
        candidates.sort_by_key(|(at_event, order, _)| (*at_event, *order));
        match candidates.into_iter().next() {
            None => Ok(None),
            Some((_, _, Ok(found))) => Ok(Some(found)),
            Some((_, _, Err(fault))) => Err(fault),
        }
    }

    /// Replay `hashed` (in order) until a refusal or a fault, and not from
    /// an event already found wrong as read.
    fn replay(&mut self, replay: &Memory, hashed: Vec<Hashed>, starts: Starts) {
        for Hashed { event, body } in hashed {
            let seq = event.seq;
            let stopped = self.refused.is_some()
                || self.fault.is_some()
                || self.read.as_ref().is_some_and(|read| seq >= read.at_event);
            if stopped {
                return;
            }
            // A replay that cannot go on for what the event holds is a
            // problem of this event; any other fault is reported as one.
            match replayed(replay, event, body, starts) {
                Ok(None) => {}
                Ok(Some(reason)) | Err(LedgerError::Tampered(reason)) => {
                    self.refused = Some(Found {
                        at_event: seq,
                        seq: Some(seq),
                        reason,
                    });
                }
                Err(fault) => self.fault = Some((seq, fault)),
            }
        }
    }
}

fn walk(db: &Db, walk_of: Walk<'_>) -> Result<Verification> {
    let (scope, start) = match walk_of {
        Walk::Full => (Scope::Full, 0),
        Walk::Chain => (Scope::Chain, 0),
        Walk::ChainAfter(checkpoint) => (Scope::Chain, checkpoint.seq),
    };
    let problem = |seq: Option<i64>, reason: String| problem(scope, start, seq, reason);
    // The state the events lead to, in memory: the same rules as recording
    // (`state::check`), without a statement an event.
    let replay = match scope {
        Scope::Full => {
            // Room for the events there are (the rows, not what the head
            // says: a head changed behind the ledger's back is found below,
            // and a count that does not read is no hint).
            let rows: Option<i64> = db
                .one("SELECT count(*) FROM event", params![], |row| row.get(0))
                .ok();
            let room = rows.and_then(|rows| usize::try_from(rows).ok());
            Some(Memory::with_room_for(room.unwrap_or(0))) // fallback-ok: a hint of capacity only
        }
        Scope::Chain => None,
    };
    // The first events of schemas 4 and 5 (see the migrations).
    let first_of = |version: i64| -> Result<i64> {
        db.row(
            "SELECT first_seq FROM schema_start WHERE version = ?1",
            params![version],
            |row| row.get(0),
        )?
        .ok_or_else(|| {
            LedgerError::Tampered(format!(
                "the schema_start table has no row for schema {version}"
            ))
        })
    };
    let starts = Starts {
        plans: first_of(4)?,
        made_by_infuse_by: first_of(5)?,
    };
    if starts.made_by_infuse_by < starts.plans {
        return Ok(problem(
            None,
            format!(
                "the schema_start table was changed: it says schema 5 starts at event {}, before schema 4 (event {})",
                starts.made_by_infuse_by, starts.plans
            ),
        ));
    }
    let mut expected: i64 = 1;
    let mut previous = GENESIS.to_owned();
    // The first event written with its recording time: every one after it
    // has one too.
    let mut first_timed: Option<i64> = None;
    if let Walk::ChainAfter(checkpoint) = walk_of {
        match vouched(db, checkpoint)? {
            Ok(timed) => {
                expected = checkpoint.seq + 1;
                previous.clone_from(&checkpoint.head);
                first_timed = timed.then_some(checkpoint.seq);
            }
            Err(found) => return Ok(problem(found.seq, found.reason)),
        }
    }
    let checked_after = start;
    // This thread reads the events and replays them; a second one checks
    // each event's hash and reads its body meanwhile (a hash needs nothing
    // of the events before it), a batch ahead. Of the problems found, the
    // first event's is reported, as reading them one by one would.
    let found = std::thread::scope(|threads| -> Result<Option<Found>> {
        let (queue, batches) = std::sync::mpsc::sync_channel::<Vec<Event>>(IN_FLIGHT);
        let (done, hashed) = std::sync::mpsc::sync_channel(IN_FLIGHT);
        let read_bodies = replay.is_some();
        std::thread::Builder::new()
            .name("verify-hashes".to_owned())
            .spawn_scoped(threads, move || hash_and_read(batches, done, read_bodies))
            .map_err(|error| {
                LedgerError::internal(format!("cannot start the thread checking hashes: {error}"))
            })?;
        let mut findings = Findings::default();
        let mut in_flight = 0;
        // Send a batch to be hashed, and replay the batches hashed (one
        // ahead while reading goes on, all of them at the end); whether
        // reading should stop.
        let mut send = |batch: Vec<Event>, findings: &mut Findings, last: bool| -> bool {
            let mut ended = last;
            // The second thread stops at a changed event: nothing after it
            // is read.
            if !batch.is_empty() {
                if queue.send(batch).is_err() {
                    ended = true;
                } else {
                    in_flight += 1;
                }
            }
            let ahead = if ended { 0 } else { IN_FLIGHT - 1 };
            while in_flight > ahead {
                let Ok((batch, changed)) = hashed.recv() else {
                    break;
                };
                in_flight -= 1;
                if let Some(replay) = &replay {
                    findings.replay(replay, batch, starts);
                }
                if changed.is_some() {
                    findings.changed = changed;
                    ended = true;
                }
            }
            ended || findings.refused.is_some() || findings.fault.is_some()
        };
        let mut batch = Vec::with_capacity(BATCH);
        let scanned = db.scan(
            &format!("SELECT {EVENT_COLUMNS} FROM event WHERE seq > ?1 ORDER BY seq"),
            params![checked_after],
            |row| {
                let event = match Event::from_row(row) {
                    Ok(event) => event,
                    Err(error) => {
                        findings.fault = Some((expected, error));
                        return Ok(false);
                    }
                };
                let seq = event.seq;
                if seq != expected {
                    findings.read = Some(Found {
                        at_event: expected,
                        seq: Some(expected),
                        reason: format!(
                            "event {expected} is missing: it was deleted (the next event is {seq})"
                        ),
                    });
                    return Ok(false);
                }
                findings.read = read_problem(&event, &previous, &mut first_timed);
                previous.clone_from(&event.hash);
                batch.push(event);
                if findings.read.is_some() {
                    return Ok(false);
                }
                expected += 1;
                if batch.len() < BATCH {
                    return Ok(true);
                }
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                Ok(!send(full, &mut findings, false))
            },
        );
        if let Err(error) = scanned {
            findings.fault = Some((expected, error));
        }
        send(batch, &mut findings, true);
        drop(queue);
        findings.first()
    })?;
    if let Some(found) = found {
        return Ok(problem(found.seq, found.reason));
    }
    let last = expected - 1;
    let head: Option<(i64, String)> = db.row(
        "SELECT seq, hash FROM head WHERE id = 1",
        params![],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    match head {
        None if last > 0 => {
            return Ok(problem(
                None,
                "the chain's head record was deleted".to_owned(),
            ));
        }
        Some((seq, _)) if seq > last => {
            return Ok(problem(
                Some(last + 1),
                format!("event {} is missing: the events after {last} were deleted (the head names event {seq})", last + 1),
            ));
        }
        Some((seq, _)) if seq < last => {
            return Ok(problem(
                Some(seq + 1),
                format!(
                    "event {} was added behind the ledger's back: the chain's head names event {seq}, the last is {last}",
                    seq + 1
                ),
            ));
        }
        Some((seq, hash)) if seq != last || hash != previous => {
            return Ok(problem(
                Some(seq),
                format!("the chain's head names event {seq}, not the last event {last}: the head was rewritten"),
            ));
        }
        _ => {}
    }
    if let Some(replay) = replay {
        if let Some(found) = tables_differ(db, replay)? {
            return Ok(problem(None, found));
        }
    }
    Ok(Verification {
        scope,
        events: last,
        checked_after,
        head: (last > 0).then_some(previous),
        problem: None,
    })
}

/// Whether the event `checkpoint` names still stands as it vouched for it:
/// there, hashing as stored, with the checkpoint's hash. `Ok(timed)` says
/// whether it was written with its recording time (every event after it
/// then has one); `Err` is the problem found.
fn vouched(db: &Db, checkpoint: &Checkpoint) -> Result<std::result::Result<bool, Found>> {
    let seq = checkpoint.seq;
    let found = |reason: String| Found {
        at_event: seq,
        seq: Some(seq),
        reason,
    };
    if seq == 0 {
        return Ok(if checkpoint.head == GENESIS {
            Ok(false)
        } else {
            Err(found("the checkpoint of event 0 (no event) has a head other than the chain's start; give the line `doseprep ledger checkpoint` wrote".to_owned()))
        });
    }
    let event = db.row(
        &format!("SELECT {EVENT_COLUMNS} FROM event WHERE seq = ?1"),
        params![seq],
        Event::from_row,
    )?;
    let Some(event) = event else {
        return Ok(Err(found(format!(
            "event {seq}, which the checkpoint taken at {} saw, is gone: the events from it were removed",
            checkpoint.taken_at
        ))));
    };
    if !event.hash_matches_in(&mut Vec::new()) {
        return Ok(Err(found(format!(
            "event {seq}, the checkpoint's, was changed after it was recorded: its hash does not match its contents"
        ))));
    }
    if event.hash != checkpoint.head {
        return Ok(Err(found(format!(
            "event {seq} hashes differently from when the checkpoint taken at {} saw it: the events up to it were rewritten and re-hashed",
            checkpoint.taken_at
        ))));
    }
    Ok(Ok(event.recorded_at.is_some()))
}

/// How the stored state tables differ from the replay's, if they do. The
/// replay's rows are written (and the replay dropped) on a second thread
/// while the file's are read.
fn tables_differ(db: &Db, replay: Memory) -> Result<Option<String>> {
    let (stored, (replayed, signing)) = std::thread::scope(|threads| -> Result<_> {
        let replayed = std::thread::Builder::new()
            .name("verify-replay-rows".to_owned())
            .spawn_scoped(threads, move || -> Result<(Rows, Vec<String>)> {
                Ok((replay.snapshot()?, replay.active_user_ids()?))
            })
            .map_err(|error| {
                LedgerError::internal(format!(
                    "cannot start the thread writing the replay's rows: {error}"
                ))
            })?;
        let stored = crate::tables::Tables::snapshot(db);
        let replayed = replayed.join().map_err(|_| {
            LedgerError::internal("the thread writing the replay's rows panicked".to_owned())
        })?;
        Ok((stored?, replayed?))
    })?;
    if stored != replayed {
        let differing = stored
            .iter()
            .zip(replayed.iter())
            .find(|(a, b)| a != b)
            .map_or_else(
                || {
                    format!(
                        "{} rows stored, {} from the events",
                        stored.len(),
                        replayed.len()
                    )
                },
                |(a, b)| format!("stored \"{a}\", the events give \"{b}\""),
            );
        return Ok(Some(format!("the state tables were edited: {differing}")));
    }
    // Passphrase hashes are not events, but there is one for each user who
    // is not disabled, and none for anyone else.
    let ids = |db: &Db, query: &str| -> Result<Vec<String>> {
        db.rows(query, params![], |row| row.get(0))
    };
    let with_hash = ids(db, "SELECT user_id FROM credential ORDER BY user_id")?;
    if with_hash != signing {
        return Ok(Some(format!(
            "the passphrase hashes were edited: they are kept for {with_hash:?}, the events give the users {signing:?}"
        )));
    }
    Ok(None)
}

/// What is wrong with `event` as read, if anything: its link to the event
/// before (whose stored hash is `previous`) and its recording time.
fn read_problem(event: &Event, previous: &str, first_timed: &mut Option<i64>) -> Option<Found> {
    let seq = event.seq;
    let at = |reason: String| Found {
        at_event: seq,
        seq: Some(seq),
        reason,
    };
    if event.prev_hash != previous {
        // Its own hash holds (else that is found first), so the link it
        // stores is the one it was recorded with: the event before it is
        // not the one it followed.
        return Some(Found {
            at_event: seq,
            seq: Some(seq - 1),
            reason: format!(
                "event {} was changed and its hash recomputed: event {seq} links to the hash event {} had when it was recorded",
                seq - 1,
                seq - 1
            ),
        });
    }
    match (&event.recorded_at, *first_timed) {
        (Some(recorded_at), _) if recorded_at.parse::<jiff::Timestamp>().is_err() => Some(at(
            format!("event {seq} was changed: its recorded_at {recorded_at:?} is not a time"),
        )),
        (Some(_), None) => {
            *first_timed = Some(seq);
            None
        }
        (None, Some(first)) => Some(at(format!(
            "event {seq} was changed: it has no recorded_at, but every event from event {first} was written with one"
        ))),
        _ => None,
    }
}

/// The first event of each schema whose rules a replay tells apart.
#[derive(Debug, Clone, Copy)]
struct Starts {
    /// Schema 4: plans; nothing written ahead.
    plans: i64,
    /// Schema 5: a bag made by its infuse-by time.
    made_by_infuse_by: i64,
}

/// Replay `event` (its hash and link already checked; `body` its body, if
/// it reads) on `replay`: what is wrong with it, if anything.
fn replayed(
    replay: &Memory,
    event: Event,
    body: Option<Body>,
    starts: Starts,
) -> Result<Option<String>> {
    let plans_from = starts.plans;
    let seq = event.seq;
    let Some(body) = body else {
        return Ok(Some(format!(
            "event {seq} was changed: its body is not a {} event",
            event.kind
        )));
    };
    if event.late_reason.is_some() && event.signer.is_none() {
        return Ok(Some(format!(
            "event {seq} was changed: it gives a late_reason but is not signed (only a signed event gives one)"
        )));
    }
    // Plans are of schema 4: one before the ledger's first event of it
    // means schema_start was moved to exempt events from its rules.
    if event.seq < plans_from
        && matches!(
            body,
            Body::Plan { .. } | Body::PreparePlanned { .. } | Body::CancelBag { .. }
        )
    {
        return Ok(Some(format!(
            "the schema_start table was changed: it says schema 4 starts at event {plans_from}, but event {} is a {}, which only schema 4 writes",
            event.seq, event.kind
        )));
    }
    // An event written before the ledger kept recorded_at was recorded
    // before the time-order rules, one before schema 5 before a bag was
    // held to its infuse-by time: each is held to the rules of its time.
    let rules = match (&event.recorded_at, event.seq < starts.made_by_infuse_by) {
        (None, _) => state::Rules::Schema1,
        (Some(_), true) => state::Rules::Schema4,
        (Some(_), false) => state::Rules::Current,
    };
    let sets_site = match &body {
        Body::SetSite { site, .. } => Some(site.as_str()),
        _ => None,
    };
    match crate::site::check_station(replay, sets_site, event.station.as_ref()) {
        Ok(()) => {}
        Err(LedgerError::Tampered(reason)) => {
            return Ok(Some(format!("event {seq} was changed: {reason}")))
        }
        Err(error) => return Err(error),
    }
    if let Err(error) = crate::users::check_signature(
        replay,
        &body,
        &event.initials,
        event.signer.as_deref(),
        event.meaning.as_deref(),
    )
    .and_then(|()| state::check(replay, &event.at, &body, rules))
    .and_then(|()| match &event.recorded_at {
        Some(recorded_at) => {
            // Written ahead by a build of schema 3 or before, or not at all.
            let written = if event.seq < plans_from {
                state::Written::Earlier
            } else {
                state::Written::Now
            };
            state::not_future_dated(&body, &event.at, recorded_at, written).and_then(|()| {
                state::check_lateness(
                    replay,
                    &body,
                    &event.at,
                    recorded_at,
                    event.late_reason.as_deref(),
                )
            })
        }
        None => Ok(()),
    }) {
        return Ok(Some(format!(
            "event {seq} could not have been recorded after the events before it: {error}"
        )));
    }
    state::apply(replay, seq, &event.at, &body)?;
    replay.keep_event(event, body)?;
    Ok(None)
}
