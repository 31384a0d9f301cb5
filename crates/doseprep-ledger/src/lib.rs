//! doseprep-ledger: the accountability ledger of a trial pharmacy, on
//! SQLite or a PostgreSQL server. Every container from receipt to thaw, return or destruction,
//! every bag from preparation to infusion, as an append-only chain of
//! events, each its own transaction and each hashed with the one before.
//!
//! * [`Ledger::create`] starts a file and [`Ledger::open`] opens one (WAL, foreign keys on,
//!   schema version and migrations, full sync);
//!   [`Ledger::create_postgres`] and [`Ledger::open_postgres`] do the same in a
//!   PostgreSQL database, and [`Ledger::open_at`] takes either a path or a URL.
//! * The event methods check what the events before allow (a container is
//!   thawed once, a bag is given once and to its own participant, ...) and
//!   refuse the rest with a [`LedgerError`] naming the event, the item and
//!   the fix.
//! * [`Ledger::balance`] sums a lot's events; [`Ledger::verify`] walks the
//!   chain and names the first event changed, deleted or inserted.
//! * Exports: the accountability log as CSV, a blinded log, FHIR R4 JSON.

mod archive;
mod audit;
mod balance;
mod central;
mod checkpoint;
mod clock;
mod correct;
mod db;
mod error;
mod event;
mod export;
mod fhir;
mod identity;
mod pg;
mod push;
mod schema;
mod site;
mod state;
mod tables;
mod users;
mod verify;

use std::path::Path;

use crate::db::{params, Db, Lock};
use doseprep::{
    format_time, BagId, DinSequence, Lot, PreparationRecord, Protocol, RecordedBag, ThawSession,
    VerifiedRecord,
};

pub use archive::{Archive, ArchiveFile};
pub use audit::{AuditReport, Finding, FindingKind, FUTURE_TOLERANCE};
pub use balance::{Balance, Reconciliation};
pub use central::{CentralView, InTransit, LotAcrossSites, SiteView, UnmatchedReceipt};
pub use checkpoint::Checkpoint;
pub use clock::Clock;
pub use error::{BagRecord, DatabaseFault, LedgerError, PlanStep, Result, TimeField};
pub use event::{
    Body, By, Draw, Entry, Event, Infusion, RecordJson, SessionContainer, Shipment, Station,
    GENESIS, MAX_TEXT,
};
pub use export::{ACCOUNTABILITY_COLUMNS, BLINDED_COLUMNS};
pub use identity::{BagEvent, ChainOfIdentity, DrawTrace, DrawsAre, LotReceipt};
pub use pg::{is_url as is_postgres_url, redacted as redacted_url};
pub use push::Pushed;
pub use schema::{APPLICATION_ID, BUSY_TIMEOUT_MS, SCHEMA_VERSION};
pub use site::{check_workstation, MAX_SITE, MAX_WORKSTATION};
pub use state::{MAX_CONTAINERS, MAX_LATE_ENTRY_AFTER_MIN};
pub use users::{
    Meaning, NewUser, Passphrase, Role, User, MAX_PASSPHRASE, MAX_USER_ID, MIN_PASSPHRASE,
};
pub use verify::{Problem, Scope, Verification};

/// A ledger file, open.
pub struct Ledger {
    store: Store,
    /// The file, as given, to name in errors (":memory:" in memory).
    path: String,
}

/// Whether a bag's event records it made, or planned with its session's
/// containers.
enum Making {
    Made,
    Planned(Vec<SessionContainer>),
}

/// The open connection the ledger's operations run on.
struct Store {
    db: Db,
    /// Where `recorded_at` and a checkpoint's time are read.
    clock: Clock,
    /// The user signed in, who signs events given with a passphrase.
    signed_in: Option<String>,
    /// The workstation writing, which every event of a ledger with a site
    /// names.
    workstation: Option<String>,
    /// Whether the connection was opened to write or to read only.
    access: Access,
}

/// How a ledger was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Write,
    /// To read only: nothing it does is recorded (a failed sign-in
    /// included), so it needs no workstation.
    ReadOnly,
}

/// Who an event is written by: the initials it carries, its signer where
/// it is signed (initials then from the registry), and the workstation
/// they write at, where one is named.
struct Author {
    initials: String,
    signer: Option<String>,
    workstation: Option<String>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("path", &self.path).finish()
    }
}

/// Append one checked event inside an open transaction; its number.
fn append(
    db: &Db,
    at: &str,
    author: &Author,
    comment: Option<&str>,
    late_reason: Option<&str>,
    body: &Body,
    recorded_at: &str,
) -> Result<i64> {
    // Who signs, then what they sign.
    let meaning = author
        .signer
        .as_ref()
        .and_then(|_| users::Meaning::of(body))
        .map(|meaning| meaning.as_str().to_owned());
    users::check_signature(
        db,
        body,
        &author.initials,
        author.signer.as_deref(),
        meaning.as_deref(),
    )?;
    let sets_site = match body {
        Body::SetSite { site, .. } => Some(site.as_str()),
        _ => None,
    };
    let station = site::station_for(db, body.kind(), sets_site, author.workstation.as_deref())?;
    state::check(db, at, body, state::Rules::Current)?;
    state::not_future_dated(body, at, recorded_at, state::Written::Now)?;
    state::check_lateness(db, body, at, recorded_at, late_reason)?;
    let head: Option<(i64, String)> = db.row(
        "SELECT seq, hash FROM head WHERE id = 1",
        params![],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let last: Option<i64> = db.one("SELECT max(seq) FROM event", params![], |row| row.get(0))?;
    let (seq, prev_hash) = match (head, last) {
        (None, None) => (1, GENESIS.to_owned()),
        (Some((seq, hash)), Some(last)) if seq == last => (seq + 1, hash),
        _ => {
            return Err(LedgerError::Tampered(format!(
                "the chain's head does not name the last event ({})",
                last.map_or_else(
                    || "there is none".to_owned(),
                    |last| format!("event {last}")
                )
            )))
        }
    };
    let event = Event {
        seq,
        kind: body.kind().to_owned(),
        at: at.to_owned(),
        initials: author.initials.clone(),
        comment: comment.map(str::to_owned),
        body: body.to_json()?,
        prev_hash,
        hash: String::new(),
        recorded_at: Some(recorded_at.to_owned()),
        signer: author.signer.clone(),
        meaning,
        late_reason: late_reason.map(str::to_owned),
        station,
    };
    let event = Event {
        hash: event.expected_hash(),
        ..event
    };
    event.insert(db)?;
    state::apply(db, seq, &event.at, body)?;
    db.execute(
        "INSERT INTO head (id, seq, hash) VALUES (1, ?1, ?2) \
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![seq, &event.hash],
    )?;
    Ok(seq)
}

/// A record verified, or the ledger's refusal naming the fields that do not
/// recompute (`refuse` says what the refusal is).
pub(crate) fn verified(
    record: PreparationRecord,
    refuse: impl FnOnce(String) -> LedgerError,
) -> Result<VerifiedRecord> {
    record.verified().map_err(|error| match error {
        doseprep::DoseError::RecordDoesNotVerify { differences, .. } => refuse(
            differences
                .iter()
                .map(|d| d.field.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => other.into(),
    })
}

/// The record that event `seq` stored for `bag_id`, read typed and
/// verified: a stored record that cannot be read or no longer recomputes is
/// [`LedgerError::StoredRecord`], a fault, never the caller's bad input.
pub(crate) fn stored_record(json: &str, bag_id: &str, seq: i64) -> Result<VerifiedRecord> {
    let problem = |problem: String| LedgerError::StoredRecord {
        bag_id: bag_id.to_owned(),
        seq,
        problem,
    };
    let record = PreparationRecord::from_json(json)
        .map_err(|error| problem(format!("cannot be read ({error})")))?;
    record.verified().map_err(|error| match error {
        doseprep::DoseError::RecordDoesNotVerify { differences, .. } => problem(format!(
            "no longer recomputes ({})",
            differences
                .iter()
                .map(|d| d.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        other => problem(format!("cannot be verified ({other})")),
    })
}

impl Ledger {
    /// The ledger on an open connection to `path`, on this machine's clock.
    fn on(db: Db, path: String, access: Access) -> Ledger {
        Ledger {
            store: Store {
                db,
                clock: Clock::system(),
                signed_in: None,
                workstation: None,
                access,
            },
            path,
        }
    }

    /// Open the ledger at `path`. A missing file is
    /// [`LedgerError::NoSuchLedger`]: opening never creates one.
    pub fn open(path: &Path) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Sqlite(schema::open(path)?),
            path.display().to_string(),
            Access::Write,
        ))
    }

    /// Open the ledger at `path` to read only: verify it, export it, read
    /// balances and chains of identity from an auditor's write-protected
    /// copy. Nothing is written to the file; every event is refused
    /// (`database_read_only`), and a ledger of an older schema is
    /// [`LedgerError::SchemaTooOld`] (it is not migrated).
    pub fn open_read_only(path: &Path) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Sqlite(schema::open_read_only(path)?),
            path.display().to_string(),
            Access::ReadOnly,
        ))
    }

    /// Start a new ledger at `path`; a file already there is
    /// [`LedgerError::LedgerExists`].
    pub fn create(path: &Path) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Sqlite(schema::create(path)?),
            path.display().to_string(),
            Access::Write,
        ))
    }

    /// Open the ledger in the PostgreSQL database at `url`
    /// (`postgresql://USER@HOST/DATABASE`, or `postgresql://USER@/DATABASE?host=/socket/folder`
    /// for a Unix socket). A database without a ledger is
    /// [`LedgerError::NoSuchLedger`] (start one with [`Ledger::create_postgres`]);
    /// another program's is [`LedgerError::NotALedger`]. The URL names the
    /// ledger in errors, its password left out. No TLS: reach the server
    /// over a Unix socket or a private network.
    pub fn open_postgres(url: &str) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Postgres(Box::new(pg::open(url)?)),
            pg::redacted(url),
            Access::Write,
        ))
    }

    /// Start a new ledger in the empty PostgreSQL database at `url` (made
    /// beforehand by the server's administrator); a database holding
    /// tables already is [`LedgerError::LedgerExists`].
    pub fn create_postgres(url: &str) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Postgres(Box::new(pg::create(url)?)),
            pg::redacted(url),
            Access::Write,
        ))
    }

    /// Open the ledger in the PostgreSQL database at `url` to read only:
    /// every transaction of the connection is read-only, so every event is
    /// refused by the server (`database_read_only`), as on a write-protected
    /// file.
    pub fn open_read_only_postgres(url: &str) -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Postgres(Box::new(pg::open_read_only(url)?)),
            pg::redacted(url),
            Access::ReadOnly,
        ))
    }

    /// Open the ledger at `location`: a PostgreSQL URL (`postgresql://` or
    /// `postgres://`) or an SQLite file's path.
    pub fn open_at(location: &std::ffi::OsStr) -> Result<Ledger> {
        match location.to_str().filter(|text| pg::is_url(text)) {
            Some(url) => Ledger::open_postgres(url),
            None => Ledger::open(Path::new(location)),
        }
    }

    /// [`Ledger::open_at`], to read only.
    pub fn open_read_only_at(location: &std::ffi::OsStr) -> Result<Ledger> {
        match location.to_str().filter(|text| pg::is_url(text)) {
            Some(url) => Ledger::open_read_only_postgres(url),
            None => Ledger::open_read_only(Path::new(location)),
        }
    }

    /// Start a new ledger at `location`, a PostgreSQL URL or a file's path.
    pub fn create_at(location: &std::ffi::OsStr) -> Result<Ledger> {
        match location.to_str().filter(|text| pg::is_url(text)) {
            Some(url) => Ledger::create_postgres(url),
            None => Ledger::create(Path::new(location)),
        }
    }

    /// A ledger in memory (for tests and trials of a script).
    pub fn open_in_memory() -> Result<Ledger> {
        Ok(Ledger::on(
            Db::Sqlite(schema::open_in_memory()?),
            ":memory:".to_owned(),
            Access::Write,
        ))
    }

    /// The same ledger, its events written at `workstation` (1 to
    /// [`MAX_WORKSTATION`] letters, digits, '.', '-' or '_'): every event of
    /// a ledger with a site names the workstation that wrote it, and one
    /// without a site takes none ([`LedgerError::WorkstationWithoutSite`]
    /// at the first event).
    pub fn with_workstation(mut self, workstation: &str) -> Result<Ledger> {
        check_workstation(workstation)?;
        self.store.workstation = Some(workstation.to_owned());
        Ok(self)
    }

    /// The workstation this ledger's events are written at, where one is named.
    pub fn workstation(&self) -> Option<&str> {
        self.store.workstation.as_deref()
    }

    /// The ledger's site (its code) and the event that set it, where one did.
    pub fn site(&self) -> Result<Option<(String, i64)>> {
        self.read(|db: &Db| crate::tables::Tables::site(db))
    }

    /// Set the ledger's site, once: `site` its code (1 to [`MAX_SITE`]
    /// letters, digits, '.', '-' or '_'), `name` as printed. From this
    /// event on, every event names the site and the workstation that
    /// wrote it, so the ledger is opened with a workstation
    /// ([`Ledger::with_workstation`]). Signed by an administrator where the
    /// ledger has users; dated now.
    pub fn set_site(&mut self, site: &str, name: &str, by: &By) -> Result<i64> {
        self.store
            .set_site(site, name, by)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Ship containers of a lot in stock to another site (its code): they
    /// leave this site's stock; the other site receives them with
    /// [`Ledger::receive_shipment`], naming this event.
    pub fn ship(
        &mut self,
        lot_id: &str,
        containers: &[u32],
        to_site: &str,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .record(
                entry,
                Body::Ship {
                    lot_id: lot_id.to_owned(),
                    containers: containers.to_vec(),
                    to_site: to_site.to_owned(),
                },
            )
            .map_err(|error| error.in_file(&self.path))
    }

    /// Receive a lot shipped from another site: as [`Ledger::receive`],
    /// the receipt naming the shipment (the sending site, its `ship` event,
    /// and its numbers of the containers, in the order this receipt numbers
    /// them).
    pub fn receive_shipment(
        &mut self,
        lot: &Lot,
        shipment: &Shipment,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .receive_from(lot, Some(shipment), entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The same ledger, reading `recorded_at` and checkpoint times from
    /// `clock` instead of this machine's clock (a test's fixed time).
    pub fn with_clock(mut self, clock: Clock) -> Ledger {
        self.store.clock = clock;
        self
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        self.store
            .schema_version()
            .map_err(|error| error.in_file(&self.path))
    }

    /// A lot received: its containers, numbered 1 to `lot.containers()`
    /// the first time; a later shipment of the same lot (same containers
    /// and expiry) is numbered on from the lot's last container, and is its
    /// own receipt (its event number) in [`Ledger::receipt_balance`].
    pub fn receive(&mut self, lot: &Lot, entry: &Entry) -> Result<i64> {
        self.store
            .receive(lot, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Containers of a lot thawed.
    pub fn thaw(&mut self, lot_id: &str, containers: &[u32], entry: &Entry) -> Result<i64> {
        self.store
            .thaw(lot_id, containers, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag prepared, with the containers it was drawn from (by their
    /// numbers in the lot as received). `draws` defaults to the bag's own.
    pub fn prepare(
        &mut self,
        record: &PreparationRecord,
        draws: Option<Vec<Draw>>,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .prepare(record, draws, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A planned day recorded as planned, in one transaction: one `plan`
    /// event a bag (its label and worksheet printed, its draws set aside),
    /// each dated when it is written, each naming every container its
    /// session thaws (`thaws`, the plan's: the same for an active bag and
    /// its placebo twin). Nothing is thawed or made yet: each
    /// thaw is recorded when it is done ([`Ledger::thaw`]), each bag when it
    /// is made ([`Ledger::prepare_planned`]) or cancelled
    /// ([`Ledger::cancel_bag`]). The plan must name containers by their
    /// numbers in the lot as received: plan with each lot's stock
    /// ([`Ledger::in_stock`], `Lot::with_container_numbers`).
    pub fn record_day(
        &mut self,
        thaws: &[ThawSession],
        bags: &[VerifiedRecord],
        by: &By,
        comment: Option<&str>,
    ) -> Result<Vec<i64>> {
        self.store
            .record_day(thaws, bags, by, comment)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A planned bag prepared as planned, at `entry.at`: after its plan,
    /// after its session's planned thaw, and after each of its containers'
    /// thaw, none of which may have been thawed before the plan's time (its
    /// label's infuse-by time counts from it; a later thaw only leaves the
    /// label earlier than it need be).
    pub fn prepare_planned(&mut self, bag_id: BagId, entry: &Entry) -> Result<i64> {
        self.store
            .record(
                entry,
                Body::PreparePlanned {
                    bag_id: bag_id.as_text(),
                },
            )
            .map_err(|error| error.in_file(&self.path))
    }

    /// A planned bag cancelled before it was made, with the reason: its
    /// draws go back to its containers and its visit may be planned again.
    /// Its label is not printed again.
    pub fn cancel_bag(&mut self, bag_id: BagId, reason: &str, entry: &Entry) -> Result<i64> {
        self.store
            .record(
                entry,
                Body::CancelBag {
                    bag_id: bag_id.as_text(),
                    reason: reason.to_owned(),
                },
            )
            .map_err(|error| error.in_file(&self.path))
    }

    /// The numbers of a lot's containers in stock and not set aside for a
    /// planned bag, lowest first: what a day's plan may thaw (see
    /// `Lot::with_container_numbers`). A lot's balance counts those set
    /// aside as on hand: they are in the freezer.
    pub fn in_stock(&self, lot_id: &str) -> Result<Vec<u32>> {
        self.store
            .in_stock(lot_id)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Register a user with their passphrase (kept only as its argon2id
    /// hash). The first user of a ledger is an administrator, registered
    /// unsigned (`signature` `None`); from then on every event of the
    /// ledger is signed, and each later user is registered by a signed-in
    /// administrator, `signature` their passphrase.
    pub fn register_user(
        &mut self,
        user: &NewUser,
        passphrase: &Passphrase,
        signature: Option<&Passphrase>,
    ) -> Result<i64> {
        self.store
            .register_user(user, passphrase, signature)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Sign in with both components of the signature, user id and
    /// passphrase (21 CFR 11.200(a)(1)(i)); each signing after it gives the
    /// passphrase again ([`Entry::signed`]). A failure is recorded as a
    /// `sign_in_failed` event and refused ([`LedgerError::SignInFailed`]),
    /// and whoever was signed in is signed out.
    pub fn sign_in(&mut self, user_id: &str, passphrase: &Passphrase) -> Result<User> {
        self.store
            .sign_in(user_id, passphrase)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Disable a user (they left, their passphrase was disclosed): signed
    /// by a signed-in administrator, `signature` their passphrase, with the
    /// reason. The user signs nothing from then on, their passphrase hash is
    /// deleted, and their id is never given to anyone else.
    pub fn disable_user(
        &mut self,
        user_id: &str,
        reason: &str,
        signature: &Passphrase,
    ) -> Result<i64> {
        self.store
            .disable_user(user_id, reason, signature)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A user's passphrase changed by the user: `current` must be theirs
    /// (a wrong one is recorded as a failed sign-in), `new` is checked as
    /// at registration. Recorded as a `change_passphrase` event (no hash
    /// in it).
    pub fn change_passphrase(
        &mut self,
        user_id: &str,
        current: &Passphrase,
        new: &Passphrase,
    ) -> Result<i64> {
        self.store
            .change_passphrase(user_id, current, new)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Set the ledger's late-entry limit (the site's setting, kept where it
    /// is enforced): from then on an event written more than `after` after
    /// the time it gives is refused without a reason
    /// ([`Entry::with_late_reason`]). Whole minutes, 1 min to a week;
    /// signed by a signed-in administrator, `signature` their passphrase.
    pub fn configure_late_entry_limit(
        &mut self,
        after: jiff::SignedDuration,
        signature: &Passphrase,
    ) -> Result<i64> {
        self.store
            .configure_late_entry_limit(after, signature)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The ledger's late-entry limit, where one is set.
    pub fn late_entry_limit(&self) -> Result<Option<jiff::SignedDuration>> {
        let minutes =
            state::late_entry_limit(&self.store.db).map_err(|error| error.in_file(&self.path))?;
        Ok(minutes.map(|minutes| jiff::SignedDuration::from_mins(i64::from(minutes))))
    }

    /// Reset a user's forgotten passphrase to `new`: signed by a signed-in
    /// administrator, `signature` their passphrase. Recorded as a
    /// `reset_passphrase` event (no hash in it); the user gets `new` from
    /// the administrator and changes it ([`Ledger::change_passphrase`]).
    pub fn reset_passphrase(
        &mut self,
        user_id: &str,
        new: &Passphrase,
        signature: &Passphrase,
    ) -> Result<i64> {
        self.store
            .reset_passphrase(user_id, new, signature)
            .map_err(|error| error.in_file(&self.path))
    }

    /// End the session: the next signing needs a sign-in again.
    pub fn sign_out(&mut self) {
        self.store.signed_in = None;
    }

    /// The user signed in, if one is.
    pub fn signed_in(&self) -> Option<&str> {
        self.store.signed_in.as_deref()
    }

    /// The registered users, in order of registration.
    pub fn users(&self) -> Result<Vec<User>> {
        users::all(&self.store.db).map_err(|error| error.in_file(&self.path))
    }

    /// A prepared bag checked by a second user (a checker or a pharmacist
    /// who did not prepare it): where users sign, a bag is dispensed or
    /// given only after its check.
    pub fn check(&mut self, bag_id: BagId, entry: &Entry) -> Result<i64> {
        self.store
            .record(
                entry,
                Body::Check {
                    bag_id: bag_id.as_text(),
                },
            )
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag handed over to `to`.
    pub fn dispense(&mut self, bag_id: BagId, to: &str, entry: &Entry) -> Result<i64> {
        self.store
            .dispense(bag_id, to, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag infused into `participant` as `infusion` says. Refused when it
    /// ended after the bag's infuse-by time without `override_reason`, or
    /// ran shorter than the bag's `site.shortest_infusion` without
    /// `short_reason`.
    pub fn administer(
        &mut self,
        bag_id: BagId,
        participant: &str,
        infusion: &Infusion,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .administer(bag_id, participant, infusion, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Containers destroyed: from stock, or the remains of a thaw.
    pub fn destroy_containers(
        &mut self,
        lot_id: &str,
        containers: &[u32],
        reason: &str,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .destroy_containers(lot_id, containers, reason, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag destroyed.
    pub fn destroy_bag(&mut self, bag_id: BagId, reason: &str, entry: &Entry) -> Result<i64> {
        self.store
            .destroy_bag(bag_id, reason, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Containers returned from stock.
    pub fn return_containers(
        &mut self,
        lot_id: &str,
        containers: &[u32],
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .return_containers(lot_id, containers, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The balance of the containers one shipment of a lot brought in:
    /// `receipt` is the event that received it (see [`Ledger::receipts`]).
    pub fn receipt_balance(&self, lot_id: &str, receipt: i64) -> Result<Balance> {
        self.store
            .receipt_balance(lot_id, receipt)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The events that received a lot, in order: one per shipment.
    pub fn receipts(&self, lot_id: &str) -> Result<Vec<i64>> {
        self.store
            .receipts(lot_id)
            .map_err(|error| error.in_file(&self.path))
    }

    /// Record a count of a lot's containers on hand, and how it compares.
    pub fn reconcile(
        &mut self,
        lot_id: &str,
        counted: u32,
        entry: &Entry,
    ) -> Result<Reconciliation> {
        self.store
            .reconcile(lot_id, counted, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The lots the ledger holds, in order of receipt.
    pub fn lot_ids(&self) -> Result<Vec<String>> {
        self.store
            .lot_ids()
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag's chain of identity.
    pub fn chain_of_identity(&self, bag_id: BagId) -> Result<ChainOfIdentity> {
        self.read(|db| identity::chain_of_identity(db, &bag_id.as_text()))
    }

    /// A bag's preparation record as the ledger holds it, verified: what
    /// its label, worksheet and record are made again from, byte for byte
    /// as first printed. A record that does not recompute, or a destroyed
    /// bag, is refused.
    pub fn reprint(&self, bag_id: BagId) -> Result<VerifiedRecord> {
        self.store
            .reprint(bag_id)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The next number of the facility's ISBT 128 DIN counter for a
    /// protocol whose label carries DINs (`None` for one without): one
    /// past the highest sequence of any bag this ledger holds with the
    /// site's FIN, destroyed bags included, so no number is given twice.
    /// The ledger refuses a second bag with a DIN in use, so two
    /// workstations that plan at once cannot both record one number.
    pub fn next_din_sequence(&self, protocol: &Protocol) -> Result<Option<DinSequence>> {
        self.store
            .next_din_sequence(protocol)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The bags that stand for their visits (prepared and not destroyed),
    /// each with the order it was made for, in the order they were
    /// recorded: what [`doseprep::plan_day_after`] compares a rerun with.
    pub fn standing_bags(&self) -> Result<Vec<RecordedBag>> {
        self.store
            .standing_bags()
            .map_err(|error| error.in_file(&self.path))
    }

    /// A bag as a FHIR R4 Bundle.
    pub fn fhir_bundle(&self, bag_id: BagId) -> Result<serde_json::Value> {
        self.read(|db| fhir::bundle(db, &bag_id.as_text()))
    }

    /// A lot's balance: the sum of its events.
    pub fn balance(&self, lot_id: &str) -> Result<Balance> {
        self.read(|db| balance::balance(db, lot_id))
    }

    /// Push this ledger's events to the trial's central ledger at `url`
    /// (PostgreSQL) as `site`: the ledger is verified whole first, the
    /// events the centre holds for the site must be this ledger's first
    /// ones ([`LedgerError::PushRefused`] names the first that is not), and
    /// the rest are sent in batches, each its own transaction, checked by
    /// the server as they arrive (link and hash). Run again, it sends what
    /// is new, or nothing; killed, the next push sends the rest.
    pub fn push(&self, url: &str, site: &str) -> Result<Pushed> {
        self.read(|db| {
            let verification = verify::verify(db, Scope::Full)?;
            push::push(db, &verification, url, site)
        })
    }

    /// Start the trial's central ledger in the empty PostgreSQL database at
    /// `url`: where sites push their ledgers ([`Ledger::push`]).
    pub fn create_central(url: &str) -> Result<()> {
        pg::create_central(url)
    }

    /// The sponsor's view of the central ledger at `url`: each site's
    /// balances and bags, every lot over all sites, the shipments not yet
    /// received, and receipts naming a shipment the centre lacks; summed
    /// from the events the sites pushed (each chain checked by the server
    /// as it arrived), read in one snapshot.
    pub fn central_view(url: &str) -> Result<CentralView> {
        let centre = Db::Postgres(Box::new(pg::open_central(url)?));
        central::view(&centre).map_err(|error| error.in_file(&pg::redacted(url)))
    }

    /// `work`'s reads, in one snapshot (a writer committing meanwhile is
    /// not seen half-way), with the ledger named in its errors.
    fn read<T>(&self, work: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
        self.store
            .db
            .transaction(Lock::Read, work)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The ledger's head now, to keep outside the file: the chain is
    /// verified first, and a ledger that does not verify is refused
    /// ([`LedgerError::Tampered`]).
    pub fn checkpoint(&self) -> Result<Checkpoint> {
        verify::verify(&self.store.db, Scope::Full)
            .and_then(|verification| {
                checkpoint::take(
                    &verification,
                    &self.store.clock,
                    self.store.signed_in.as_deref(),
                )
            })
            .map_err(|error| error.in_file(&self.path))
    }

    /// Walk the chain, then hold it against checkpoints kept elsewhere: a
    /// tail cut off, or events rewritten with their hashes recomputed, up
    /// to a checkpointed event, is the problem named.
    pub fn verify_against(&self, checkpoints: &[Checkpoint]) -> Result<Verification> {
        self.read(|db| {
            let verification = verify::verify(db, Scope::Full)?;
            checkpoint::hold(db, verification, checkpoints)
        })
    }

    /// The periodic review of the events written in `[from, to)` (by their
    /// `recorded_at`; events of schema 1 by the time they claim): the
    /// chain verified, overrides, entries written more than `late_after`
    /// after they happened, future-dated entries, corrections, destroyed
    /// bags and containers with their reasons, and counts that differed.
    pub fn audit(
        &self,
        from: Option<jiff::Timestamp>,
        to: Option<jiff::Timestamp>,
        late_after: jiff::SignedDuration,
    ) -> Result<AuditReport> {
        let now = self.store.clock.now();
        self.read(|db| {
            let verification = verify::verify(db, Scope::Full)?;
            audit::review(db, verification, (from, to), late_after, now)
        })
    }

    /// Correct event `seq`: its time (`corrected_at`) or, for a dispense,
    /// its recipient (`to`), with the reason; `entry` is the correction's
    /// own (when and by whom it is made). The event stays as recorded; the
    /// correction is an event of its own, and the rules, the exports, the
    /// chain of identity and the review read what it says. A corrected time
    /// keeps the event in order with every other event of its bag,
    /// containers and lot; an infusion's times, a thaw that bags were made
    /// from, and quantities (containers, volumes, counts) are not corrected
    /// here ([`LedgerError::CannotCorrect`] says what to do instead).
    pub fn correct(
        &mut self,
        seq: i64,
        corrected_at: Option<&jiff::ZonedDateTime>,
        to: Option<&str>,
        reason: &str,
        entry: &Entry,
    ) -> Result<i64> {
        self.store
            .correct(seq, corrected_at, to, reason, entry)
            .map_err(|error| error.in_file(&self.path))
    }

    /// The ledger archived for the long term (events as JSON lines, their
    /// schemas, the hash formula, `checkpoints` kept elsewhere with the one
    /// taken now, a standard-library verifier, SHA-256 sums): the files, for
    /// the caller to write. A ledger that does not verify, or that a
    /// checkpoint does not match, is refused ([`LedgerError::Tampered`]).
    pub fn archive(&self, checkpoints: &[Checkpoint]) -> Result<Archive> {
        // One snapshot: the archive holds the events verified, no later one.
        self.read(|db| {
            let verification = verify::verify(db, Scope::Full)?;
            let verification = checkpoint::hold(db, verification, checkpoints)?;
            let taken = checkpoint::take(
                &verification,
                &self.store.clock,
                self.store.signed_in.as_deref(),
            )?;
            archive::archive(db, &verification, taken, checkpoints, &self.path)
        })
    }

    /// Where the ledger is: its path as given (":memory:" in memory), or its
    /// PostgreSQL URL without the password.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The chain only, held against `checkpoints`: every event's hash and
    /// link and the head, without replaying the events through the rules or
    /// comparing the state tables ([`Scope::Chain`]): the daily check, many
    /// times quicker than [`Ledger::verify_against`], which does both.
    pub fn verify_chain(&self, checkpoints: &[Checkpoint]) -> Result<Verification> {
        self.read(|db| {
            let verification = verify::verify(db, Scope::Chain)?;
            checkpoint::hold(db, verification, checkpoints)
        })
    }

    /// The chain after the event `since` vouches for (which must still
    /// hash as the checkpoint saw it), held against `checkpoints`: the
    /// daily check of what was written since the last checkpoint, whose
    /// time does not grow with the ledger's age. The events up to `since`
    /// are not read: [`Ledger::verify_against`] reads them all. Each of
    /// `checkpoints` up to `since` is vouched for as `since` is (its
    /// event re-hashed, not only its stored hash compared); those after it
    /// are held against the walk.
    pub fn verify_chain_since(
        &self,
        since: &Checkpoint,
        checkpoints: &[Checkpoint],
    ) -> Result<Verification> {
        let (earlier, later): (Vec<&Checkpoint>, Vec<&Checkpoint>) =
            checkpoints.iter().partition(|c| c.seq <= since.seq);
        let later: Vec<Checkpoint> = later.into_iter().cloned().collect();
        self.read(|db| {
            let verification = verify::verify_after(db, since, &earlier)?;
            checkpoint::hold(db, verification, &later)
        })
    }

    /// Walk the chain; the first problem, if any.
    pub fn verify(&self) -> Result<Verification> {
        verify::verify(&self.store.db, Scope::Full).map_err(|error| error.in_file(&self.path))
    }

    /// Every event, in order.
    pub fn events(&self) -> Result<Vec<Event>> {
        export::all_events(&self.store.db).map_err(|error| error.in_file(&self.path))
    }

    /// The accountability log (unblinded): one CSV line per event.
    pub fn accountability_csv(&self) -> Result<String> {
        self.read(export::accountability_csv)
    }

    /// The blinded log: bag events with bag ids and volumes only.
    pub fn blinded_csv(&self) -> Result<String> {
        self.read(export::blinded_csv)
    }
}

/// The ledger's operations on its open connection; [`Ledger`] names the
/// file in their errors.
impl Store {
    pub(crate) fn schema_version(&self) -> Result<i64> {
        schema::version(&self.db)
    }

    /// Record events in one transaction: all of them, or none.
    fn record_all(&mut self, events: &[(Entry, Body)]) -> Result<Vec<i64>> {
        let recorded_at = self.clock.now_text();
        self.record_all_at(events, recorded_at)
    }

    /// `record_all`, written at `recorded_at` (the clock read once, by the
    /// caller, for the events of one call).
    fn record_all_at(&mut self, events: &[(Entry, Body)], recorded_at: String) -> Result<Vec<i64>> {
        // Signatures first, each passphrase checked once a call.
        let mut authors = Vec::with_capacity(events.len());
        let mut checked: Option<&Passphrase> = None;
        for (entry, body) in events {
            authors.push(self.author(&entry.by, body, &mut checked)?);
        }
        self.db.transaction(Lock::Write, |db| {
            let mut numbers = Vec::with_capacity(events.len());
            for ((entry, body), author) in events.iter().zip(&authors) {
                numbers.push(append(
                    db,
                    &format_time(&entry.at),
                    author,
                    entry.comment.as_deref(),
                    entry.late_reason.as_deref(),
                    body,
                    &recorded_at,
                )?);
            }
            Ok(numbers)
        })
    }

    /// Who writes an event given `by`: initials as given, or the signed-in
    /// user, whose passphrase is checked here (once a call: `checked`).
    fn author<'a>(
        &mut self,
        by: &'a By,
        body: &Body,
        checked: &mut Option<&'a Passphrase>,
    ) -> Result<Author> {
        match by {
            By::Initials(initials) => Ok(Author {
                initials: initials.clone(),
                signer: None,
                workstation: self.workstation.clone(),
            }),
            By::Passphrase(passphrase) => {
                let Some(user_id) = self.signed_in.clone() else {
                    return Err(LedgerError::NotSignedIn { event: body.kind() });
                };
                if *checked != Some(passphrase) {
                    self.authenticate(&user_id, passphrase)?;
                    self.own_passphrase(&user_id)?;
                    *checked = Some(passphrase);
                }
                let user =
                    users::find(&self.db, &user_id)?.ok_or(LedgerError::UnknownUser { user_id })?;
                Ok(Author {
                    initials: user.initials,
                    signer: Some(user.user_id),
                    workstation: self.workstation.clone(),
                })
            }
        }
    }

    /// Whether `passphrase` is `user_id`'s; a failure is recorded as an
    /// event of its own (where the ledger can be written) and refused.
    fn authenticate(&mut self, user_id: &str, passphrase: &Passphrase) -> Result<()> {
        // A site's ledger records a failure with its workstation: without
        // one, no passphrase is tried (a guess would go unrecorded). A
        // ledger without a site records it as every event of its, with
        // none (a workstation given names the events from set_site on).
        // A ledger opened to read only records nothing, and says so.
        let site = crate::tables::Tables::site(&self.db)?;
        let workstation = match (&site, &self.workstation) {
            (Some((site, _)), None) if self.access == Access::Write => {
                return Err(LedgerError::NoWorkstation {
                    event: "sign_in",
                    site: site.clone(),
                })
            }
            (Some(_), Some(workstation)) => Some(workstation.clone()),
            (Some(_), None) | (None, _) => None,
        };
        if users::authenticates(&self.db, user_id, passphrase.bytes())? {
            return Ok(());
        }
        // Whoever was signed in is signed out: the next signing starts over.
        self.signed_in = None;
        let given: String = user_id.chars().take(40).collect();
        // Only a registered id is kept: text typed into the id field may be
        // a passphrase, and the chain keeps what it holds for good.
        let kept = match users::find(&self.db, user_id)? {
            Some(user) => user.user_id,
            None => users::NOT_REGISTERED.to_owned(),
        };
        let failure = Body::SignInFailed { user_id: kept };
        let author = Author {
            initials: "-".to_owned(),
            signer: None,
            workstation,
        };
        let recorded = match self.access {
            Access::Write => self.record_now(&author, &failure, |_| Ok(())),
            Access::ReadOnly => {
                return Err(LedgerError::SignInFailed {
                    user_id: given,
                    seq: None,
                })
            }
        };
        let seq = match recorded {
            Ok(seq) => Some(seq),
            // A ledger opened to read only cannot keep it; the refusal says so.
            Err(LedgerError::Database {
                fault: DatabaseFault::ReadOnly | DatabaseFault::Permission,
                ..
            }) => None,
            // Any other fault is reported: a failure is never lost unsaid.
            Err(error) => return Err(error),
        };
        Err(LedgerError::SignInFailed {
            user_id: given,
            seq,
        })
    }

    pub(crate) fn sign_in(&mut self, user_id: &str, passphrase: &Passphrase) -> Result<User> {
        if !users::any(&self.db)? {
            return Err(LedgerError::NoUsers { event: "sign_in" });
        }
        self.signed_in = None;
        self.authenticate(user_id, passphrase)?;
        self.own_passphrase(user_id)?;
        let user = users::find(&self.db, user_id)?.ok_or_else(|| LedgerError::UnknownUser {
            user_id: user_id.to_owned(),
        })?;
        self.signed_in = Some(user.user_id.clone());
        Ok(user)
    }

    /// A signature is its user's alone: not with a passphrase an
    /// administrator set and still knows (21 CFR 11.100(a), 11.300(b)).
    fn own_passphrase(&self, user_id: &str) -> Result<()> {
        match users::passphrase_set_by_another(&self.db, user_id)? {
            Some((set_by, seq)) => Err(LedgerError::PassphraseNotChanged {
                user_id: user_id.to_owned(),
                set_by,
                seq,
            }),
            None => Ok(()),
        }
    }

    pub(crate) fn disable_user(
        &mut self,
        user_id: &str,
        reason: &str,
        signature: &Passphrase,
    ) -> Result<i64> {
        let body = Body::DisableUser {
            user_id: user_id.to_owned(),
            reason: reason.to_owned(),
        };
        let author = self.author(&By::Passphrase(signature.clone()), &body, &mut None)?;
        // With the event: a disabled user cannot sign in again.
        let seq = self.record_now(&author, &body, |db| {
            db.execute(
                "DELETE FROM credential WHERE user_id = ?1",
                params![user_id],
            )?;
            Ok(())
        })?;
        if self.signed_in.as_deref() == Some(user_id) {
            self.signed_in = None;
        }
        Ok(seq)
    }

    pub(crate) fn change_passphrase(
        &mut self,
        user_id: &str,
        current: &Passphrase,
        new: &Passphrase,
    ) -> Result<i64> {
        if !users::any(&self.db)? {
            return Err(LedgerError::NoUsers {
                event: "change_passphrase",
            });
        }
        let phc = users::hash(new.settable()?)?;
        self.authenticate(user_id, current)?;
        if new.bytes() == current.bytes() {
            return Err(LedgerError::PassphraseUnchanged {
                user_id: user_id.to_owned(),
            });
        }
        let body = Body::ChangePassphrase {
            user_id: user_id.to_owned(),
        };
        let author = Author {
            initials: users::find(&self.db, user_id)?
                .map(|user| user.initials)
                .ok_or_else(|| LedgerError::UnknownUser {
                    user_id: user_id.to_owned(),
                })?,
            signer: None,
            workstation: self.workstation.clone(),
        };
        self.record_now(&author, &body, |db| {
            db.execute(
                "UPDATE credential SET phc = ?1 WHERE user_id = ?2",
                params![&phc, user_id],
            )?;
            Ok(())
        })
    }

    pub(crate) fn configure_late_entry_limit(
        &mut self,
        after: jiff::SignedDuration,
        signature: &Passphrase,
    ) -> Result<i64> {
        if after.as_secs() % 60 != 0 || after.subsec_nanos() != 0 {
            return Err(doseprep::DoseError::InvalidInput {
                field: "late_entry_after".to_owned(),
                reason: format!(
                    "{after:#} is not a whole number of minutes from 1 to {}; give e.g. \"4 h\" or \"90 min\"",
                    state::MAX_LATE_ENTRY_AFTER_MIN
                ),
            }
            .into());
        }
        let minutes = state::late_entry_limit_in_range(after.as_mins())?;
        let body = Body::Configure {
            late_entry_after_min: minutes,
        };
        let author = self.author(&By::Passphrase(signature.clone()), &body, &mut None)?;
        self.record_now(&author, &body, |_| Ok(()))
    }

    pub(crate) fn reset_passphrase(
        &mut self,
        user_id: &str,
        new: &Passphrase,
        signature: &Passphrase,
    ) -> Result<i64> {
        let phc = users::hash(new.settable()?)?;
        let body = Body::ResetPassphrase {
            user_id: user_id.to_owned(),
        };
        let author = self.author(&By::Passphrase(signature.clone()), &body, &mut None)?;
        self.record_now(&author, &body, |db| {
            db.execute(
                "UPDATE credential SET phc = ?1 WHERE user_id = ?2",
                params![&phc, user_id],
            )?;
            Ok(())
        })
    }

    pub(crate) fn register_user(
        &mut self,
        user: &NewUser,
        passphrase: &Passphrase,
        signature: Option<&Passphrase>,
    ) -> Result<i64> {
        let phc = users::hash(passphrase.settable()?)?;
        let body = Body::RegisterUser {
            user_id: user.user_id.clone(),
            full_name: user.full_name.clone(),
            initials: user.initials.clone(),
            role: user.role.as_str().to_owned(),
        };
        // The first administrator registers under their own initials
        // (there is no one yet to sign); every later user is signed for.
        let by = match signature {
            Some(passphrase) => By::Passphrase(passphrase.clone()),
            None => By::Initials(user.initials.clone()),
        };
        let author = self.author(&by, &body, &mut None)?;
        self.record_now(&author, &body, |db| {
            db.execute(
                "INSERT INTO credential (user_id, phc) VALUES (?1, ?2)",
                params![user.user_id, &phc],
            )?;
            Ok(())
        })
    }

    /// Record `body`, dated now by the ledger's clock (a user's
    /// registration or disabling, a passphrase changed or reset, a setting,
    /// a failed sign-in: acts of the ledger itself, never back-dated, so
    /// never late), with `also` run in the same
    /// transaction (the passphrase hashes, which are not events).
    fn record_now(
        &mut self,
        author: &Author,
        body: &Body,
        also: impl FnOnce(&Db) -> Result<()>,
    ) -> Result<i64> {
        let now = self.clock.now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
        let recorded_at = self.clock.now_text();
        self.db.transaction(Lock::Write, |db| {
            let seq = append(
                db,
                &format_time(&now),
                author,
                None,
                None,
                body,
                &recorded_at,
            )?;
            also(db)?;
            Ok(seq)
        })
    }

    fn record(&mut self, entry: &Entry, body: Body) -> Result<i64> {
        let numbers = self.record_all(&[(entry.clone(), body)])?;
        numbers
            .first()
            .copied()
            .ok_or_else(|| LedgerError::internal("no event was recorded".to_owned()))
    }

    pub(crate) fn receive(&mut self, lot: &Lot, entry: &Entry) -> Result<i64> {
        self.receive_from(lot, None, entry)
    }

    fn set_site(&mut self, site: &str, name: &str, by: &By) -> Result<i64> {
        let body = Body::SetSite {
            site: site.to_owned(),
            name: name.to_owned(),
        };
        let author = self.author(by, &body, &mut None)?;
        self.record_now(&author, &body, |_| Ok(()))
    }

    fn receive_from(
        &mut self,
        lot: &Lot,
        shipment: Option<&Shipment>,
        entry: &Entry,
    ) -> Result<i64> {
        let on_record: u32 = self
            .db
            .row(
                "SELECT containers FROM lot WHERE lot_id = ?1",
                params![lot.lot_id()],
                |row| row.get(0),
            )?
            .unwrap_or(0); // fallback-ok: a lot not received yet has no container
        self.record(
            entry,
            Body::Receive {
                lot_id: lot.lot_id().to_owned(),
                containers: lot.containers(),
                first_container: on_record + 1,
                container_ul: lot.container_volume().microlitres(),
                yield_ul: lot.yield_per_container().volume().microlitres(),
                expires_at: lot.expires_at().map(format_time),
                shipment: shipment.cloned(),
            },
        )
    }

    pub(crate) fn thaw(&mut self, lot_id: &str, containers: &[u32], entry: &Entry) -> Result<i64> {
        self.record(
            entry,
            Body::Thaw {
                lot_id: lot_id.to_owned(),
                containers: containers.to_vec(),
            },
        )
    }

    /// The event of a bag made (`prepare`) or planned (`plan`) from its record.
    fn prepare_body(
        record: &VerifiedRecord,
        draws: Option<Vec<Draw>>,
        making: Making,
    ) -> Result<Body> {
        let prep = &record.preparation;
        let event = match making {
            Making::Made => BagRecord::Prepare,
            Making::Planned(_) => BagRecord::Plan,
        };
        let Some(bag_id) = prep.bag_id else {
            return Err(LedgerError::NoBagId {
                event,
                participant: prep.participant.to_string(),
            });
        };
        let draws = draws.unwrap_or_else(|| {
            prep.draws
                .iter()
                .map(|d| Draw {
                    lot_id: d.lot_id.to_string(),
                    container: d.container,
                    volume_ul: d.volume.microlitres(),
                })
                .collect()
        });
        // Draws given by hand must be the record's: its lot, its volume.
        let disagree = |reason: String| LedgerError::DrawsDisagree {
            event,
            bag_id: bag_id.as_text(),
            reason,
        };
        if let Some(dose) = &prep.dose {
            if let Some(other) = draws.iter().find(|d| d.lot_id != *dose.lot_id) {
                return Err(disagree(format!(
                    "name lot {:?}, the record lot {:?}",
                    other.lot_id, dose.lot_id
                )));
            }
            let total: u64 = draws.iter().map(|d| d.volume_ul).sum();
            if total != dose.draw_volume.microlitres() && !draws.is_empty() {
                return Err(disagree(format!(
                    "add up to {} mL, the record draws {}",
                    doseprep::ExactVolume::from_microlitres(total).ml_decimal(),
                    dose.draw_volume
                )));
            }
        }
        let din = doseprep::label::isbt128::codes(&record.protocol, prep).map(|c| c.din);
        let record_json = event::RecordJson::of(record)?;
        let (bag_id, participant, visit, content) = (
            bag_id.as_text(),
            prep.participant.to_string(),
            prep.visit.to_string(),
            prep.content.as_str().to_owned(),
        );
        let (thawed_at, infuse_by, final_ul) = (
            prep.thawed_at().rfc9557(),
            prep.infuse_by().rfc9557(),
            prep.final_volume.microlitres(),
        );
        Ok(match making {
            Making::Made => Body::Prepare {
                bag_id,
                participant,
                visit,
                content,
                thawed_at,
                infuse_by,
                din,
                final_ul,
                draws,
                record: record_json,
            },
            Making::Planned(session_containers) => Body::Plan {
                bag_id,
                participant,
                visit,
                content,
                thawed_at,
                infuse_by,
                din,
                final_ul,
                draws,
                session_containers,
                record: record_json,
            },
        })
    }

    pub(crate) fn prepare(
        &mut self,
        record: &PreparationRecord,
        draws: Option<Vec<Draw>>,
        entry: &Entry,
    ) -> Result<i64> {
        let bag_id = record.preparation.bag_id;
        let record = verified(record.clone(), |differences| match bag_id {
            Some(bag_id) => LedgerError::RecordDoesNotVerify {
                bag_id: bag_id.as_text(),
                differences,
            },
            None => LedgerError::NoBagId {
                event: BagRecord::Prepare,
                participant: record.preparation.participant.to_string(),
            },
        })?;
        let body = Store::prepare_body(&record, draws, Making::Made)?;
        self.record(entry, body)
    }

    pub(crate) fn record_day(
        &mut self,
        thaws: &[ThawSession],
        bags: &[VerifiedRecord],
        by: &By,
        comment: Option<&str>,
    ) -> Result<Vec<i64>> {
        if let By::Initials(initials) = by {
            event::check_initials(initials)?;
        }
        // A plan happens when it is written: each is dated by the clock
        // read that gives its recorded_at, on its site's clock.
        let recorded_at = self.clock.now_text();
        let now = state::instant("recorded_at", &recorded_at)?;
        let mut events = Vec::new();
        for record in bags {
            let thawed_at = record.preparation.thawed_at();
            let at = doseprep::SiteTime::new(now, thawed_at.zone().clone()).zoned();
            // Its session: every thaw at its thaw time, whatever its content.
            let session_containers = thaws
                .iter()
                .filter(|thaw| thaw.thawed_at.instant() == thawed_at.instant())
                .flat_map(|thaw| {
                    thaw.containers.iter().map(|&container| SessionContainer {
                        lot_id: thaw.lot_id.to_string(),
                        container,
                    })
                })
                .collect();
            events.push((
                Entry::by(at, by.clone(), comment)?,
                Store::prepare_body(record, None, Making::Planned(session_containers))?,
            ));
        }
        self.record_all_at(&events, recorded_at)
    }

    pub(crate) fn in_stock(&self, lot_id: &str) -> Result<Vec<u32>> {
        state::known_lot(&self.db, "in_stock", lot_id)?;
        state::in_stock(&self.db, lot_id)
    }

    pub(crate) fn dispense(&mut self, bag_id: BagId, to: &str, entry: &Entry) -> Result<i64> {
        self.record(
            entry,
            Body::Dispense {
                bag_id: bag_id.as_text(),
                to: to.to_owned(),
            },
        )
    }

    pub(crate) fn administer(
        &mut self,
        bag_id: BagId,
        participant: &str,
        infusion: &Infusion,
        entry: &Entry,
    ) -> Result<i64> {
        self.record(
            entry,
            Body::Administer {
                bag_id: bag_id.as_text(),
                participant: participant.to_owned(),
                started_at: format_time(&infusion.started_at),
                ended_at: format_time(&infusion.ended_at),
                override_reason: infusion.override_reason.clone(),
                short_reason: infusion.short_reason.clone(),
            },
        )
    }

    pub(crate) fn destroy_containers(
        &mut self,
        lot_id: &str,
        containers: &[u32],
        reason: &str,
        entry: &Entry,
    ) -> Result<i64> {
        self.record(
            entry,
            Body::DestroyContainers {
                lot_id: lot_id.to_owned(),
                containers: containers.to_vec(),
                reason: reason.to_owned(),
            },
        )
    }

    pub(crate) fn destroy_bag(
        &mut self,
        bag_id: BagId,
        reason: &str,
        entry: &Entry,
    ) -> Result<i64> {
        self.record(
            entry,
            Body::DestroyBag {
                bag_id: bag_id.as_text(),
                reason: reason.to_owned(),
            },
        )
    }

    pub(crate) fn return_containers(
        &mut self,
        lot_id: &str,
        containers: &[u32],
        entry: &Entry,
    ) -> Result<i64> {
        self.record(
            entry,
            Body::Return {
                lot_id: lot_id.to_owned(),
                containers: containers.to_vec(),
            },
        )
    }

    pub(crate) fn receipt_balance(&self, lot_id: &str, receipt: i64) -> Result<Balance> {
        balance::receipt_balance(&self.db, lot_id, receipt)
    }

    pub(crate) fn receipts(&self, lot_id: &str) -> Result<Vec<i64>> {
        state::known_lot(&self.db, "receipts", lot_id)?;
        balance::receipts(&self.db, lot_id)
    }

    pub(crate) fn reconcile(
        &mut self,
        lot_id: &str,
        counted: u32,
        entry: &Entry,
    ) -> Result<Reconciliation> {
        // The signature first (it may record a failed one), then balance and
        // count in one transaction: no event slips in between.
        let mut body = Body::Count {
            lot_id: lot_id.to_owned(),
            counted,
            expected: 0,
        };
        let author = self.author(&entry.by, &body, &mut None)?;
        let recorded_at = self.clock.now_text();
        let (expected, seq) = self.db.transaction(Lock::Write, |db| {
            let expected = balance::balance(db, lot_id)?.on_hand;
            if let Body::Count { expected: slot, .. } = &mut body {
                *slot = expected;
            }
            let seq = append(
                db,
                &format_time(&entry.at),
                &author,
                entry.comment.as_deref(),
                entry.late_reason.as_deref(),
                &body,
                &recorded_at,
            )?;
            Ok((expected, seq))
        })?;
        Ok(Reconciliation {
            lot_id: lot_id.to_owned(),
            counted,
            expected,
            difference: i64::from(counted) - i64::from(expected),
            seq,
        })
    }

    pub(crate) fn correct(
        &mut self,
        seq: i64,
        at: Option<&jiff::ZonedDateTime>,
        to: Option<&str>,
        reason: &str,
        entry: &Entry,
    ) -> Result<i64> {
        // The corrected event's bag and lot go into the correction, so the
        // bag's and the lot's events list it.
        let names: Option<String> = self.db.row(
            "SELECT body FROM event WHERE seq = ?1",
            params![seq],
            |row| row.get(0),
        )?;
        let target = names.and_then(|text| Body::from_json(&text));
        self.record(
            entry,
            Body::Correct {
                seq,
                reason: reason.to_owned(),
                at: at.map(format_time),
                to: to.map(str::to_owned),
                bag_id: target.as_ref().and_then(Body::bag_id).map(str::to_owned),
                lot_id: target.as_ref().and_then(Body::lot_id).map(str::to_owned),
            },
        )
    }

    pub(crate) fn lot_ids(&self) -> Result<Vec<String>> {
        self.db.rows(
            "SELECT lot_id FROM lot ORDER BY received_seq",
            params![],
            |row| row.get(0),
        )
    }

    pub(crate) fn chain_of_identity(&self, bag_id: BagId) -> Result<ChainOfIdentity> {
        identity::chain_of_identity(&self.db, &bag_id.as_text())
    }

    pub(crate) fn reprint(&self, bag_id: BagId) -> Result<VerifiedRecord> {
        let chain = self.chain_of_identity(bag_id)?;
        // A destroyed or cancelled bag's label printed again could go on
        // another bag.
        for (kind, state) in [("destroy_bag", "destroyed"), ("cancel_bag", "cancelled")] {
            if chain.events.iter().any(|event| event.kind == kind) {
                return Err(LedgerError::BagState {
                    event: "reprint",
                    bag_id: bag_id.as_text(),
                    state,
                    fix: "a destroyed or cancelled bag's label is not printed again; print the bag that replaces it",
                });
            }
        }
        let seq = chain
            .events
            .iter()
            .find(|event| matches!(event.kind.as_str(), "prepare" | "plan"))
            .map(|event| event.seq)
            .ok_or_else(|| LedgerError::UnknownBag {
                event: "reprint",
                bag_id: bag_id.as_text(),
            })?;
        stored_record(&chain.record.to_string(), &bag_id.as_text(), seq)
    }

    pub(crate) fn next_din_sequence(&self, protocol: &Protocol) -> Result<Option<DinSequence>> {
        let Some(codes) = protocol.label().isbt128.as_ref() else {
            return Ok(None);
        };
        let dins: Vec<String> = self.db.rows(
            "SELECT din FROM bag WHERE din IS NOT NULL AND substr(din, 1, 5) = ?1",
            params![codes.fin.as_str()],
            |row| row.get(0),
        )?;
        let mut highest: Option<DinSequence> = None;
        for din in &dins {
            let sequence = doseprep::label::isbt128::sequence_in(din, &codes.fin).ok_or_else(|| {
                LedgerError::Tampered(format!(
                    "the bag table holds the DIN {din:?}, which is not a 13-character DIN of the facility {}",
                    codes.fin
                ))
            })?;
            highest = highest.max(Some(sequence));
        }
        DinSequence::after(highest).map(Some).ok_or_else(|| {
            LedgerError::from(doseprep::DoseError::InvalidInput {
                field: "din_sequence".to_owned(),
                reason: format!(
                    "the facility {}'s DIN counter has given all {} numbers; ask ICCBBA's guidance for the facility (a new FIN)",
                    codes.fin,
                    DinSequence::MAX
                ),
            })
        })
    }

    pub(crate) fn standing_bags(&self) -> Result<Vec<RecordedBag>> {
        let bags: Vec<(String, i64)> = self.db.rows(
            "SELECT bag_id, prepared_seq FROM bag WHERE state NOT IN ('destroyed', 'cancelled') \
             ORDER BY prepared_seq",
            params![],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        bags.into_iter()
            .map(|(bag_id, seq)| {
                let prepared = identity::bag_events(&self.db, &bag_id)?
                    .into_iter()
                    .find_map(|(_, body)| match body {
                        Body::Prepare { record, .. } | Body::Plan { record, .. } => Some(record),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        LedgerError::Tampered(format!(
                            "bag {bag_id} stands, but no event records its preparation"
                        ))
                    })?;
                let record = stored_record(prepared.get(), &bag_id, seq)?.into_record();
                Ok(RecordedBag {
                    bag_id: BagId::parse(&bag_id)?,
                    event: seq,
                    order: record.order,
                })
            })
            .collect()
    }
}
