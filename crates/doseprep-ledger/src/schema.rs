//! The ledger file: SQLite in WAL mode with foreign keys on, recognised by
//! its application id, its schema version in `user_version`, and the
//! migrations that bring any older version to the current one.

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::error::{DatabaseFault, LedgerError, Result};

/// "dprp": marks an SQLite file as a doseprep ledger.
pub const APPLICATION_ID: i64 = 0x6470_7270;

/// How long a writer waits for another to finish, in milliseconds.
pub const BUSY_TIMEOUT_MS: u64 = 10_000;

/// Migration `i` takes the schema from version `i` to `i + 1`. Append only:
/// a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    // Version 1.
    r#"
    -- Every event, in order. Append-only: the triggers refuse changes, the
    -- hash chain shows any made around them.
    CREATE TABLE event (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count')),
        at TEXT NOT NULL,
        initials TEXT NOT NULL,
        comment TEXT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64)
    );
    CREATE INDEX event_lot ON event (json_extract(body, '$.lot_id'));
    CREATE INDEX event_bag ON event (json_extract(body, '$.bag_id'));
    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    -- The chain's head, written with each event: a deleted last event
    -- leaves the head pointing past the end.
    CREATE TABLE head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL REFERENCES event (seq),
        hash TEXT NOT NULL
    );

    -- The state the events lead to, kept to refuse what may not happen.
    -- `verify` rebuilds it from the events and compares.
    CREATE TABLE lot (
        lot_id TEXT PRIMARY KEY,
        received_seq INTEGER NOT NULL REFERENCES event (seq),
        containers INTEGER NOT NULL CHECK (containers >= 1),
        container_ul INTEGER NOT NULL CHECK (container_ul >= 1),
        yield_ul INTEGER NOT NULL CHECK (yield_ul >= 1 AND yield_ul <= container_ul),
        expires_at TEXT
    ) WITHOUT ROWID;
    CREATE TABLE container (
        lot_id TEXT NOT NULL REFERENCES lot (lot_id),
        number INTEGER NOT NULL CHECK (number >= 1),
        state TEXT NOT NULL CHECK (state IN ('in stock', 'thawed', 'destroyed', 'returned')),
        was_thawed INTEGER NOT NULL DEFAULT 0 CHECK (was_thawed IN (0, 1)),
        drawn_ul INTEGER NOT NULL DEFAULT 0 CHECK (drawn_ul >= 0),
        thawed_at TEXT,
        last_seq INTEGER NOT NULL REFERENCES event (seq),
        PRIMARY KEY (lot_id, number)
    ) WITHOUT ROWID;
    CREATE TABLE bag (
        bag_id TEXT PRIMARY KEY,
        participant TEXT NOT NULL,
        visit TEXT NOT NULL,
        din TEXT,
        state TEXT NOT NULL CHECK (state IN ('prepared', 'dispensed', 'administered', 'destroyed')),
        infuse_by TEXT NOT NULL,
        prepared_seq INTEGER NOT NULL REFERENCES event (seq),
        last_seq INTEGER NOT NULL REFERENCES event (seq)
    ) WITHOUT ROWID;
    CREATE INDEX bag_visit ON bag (participant, visit);
    CREATE UNIQUE INDEX bag_din ON bag (din) WHERE din IS NOT NULL;
    CREATE TABLE draw (
        bag_id TEXT NOT NULL REFERENCES bag (bag_id),
        lot_id TEXT NOT NULL,
        number INTEGER NOT NULL,
        volume_ul INTEGER NOT NULL CHECK (volume_ul >= 1),
        PRIMARY KEY (bag_id, lot_id, number),
        FOREIGN KEY (lot_id, number) REFERENCES container (lot_id, number)
    ) WITHOUT ROWID;
    "#,
    // Version 2.
    r#"
    -- Events keep when they were written (recorded_at: the clock of the
    -- machine writing, RFC 3339 in UTC, whole seconds; hashed with the
    -- event; none for events of version 1), and a correction is an event.
    -- SQLite cannot change a CHECK in place, so the table is made again
    -- and the events copied, as SQLite's ALTER TABLE documentation sets out
    -- (foreign keys are off while a migration runs).
    CREATE TABLE event_v2 (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct')),
        at TEXT NOT NULL,
        initials TEXT NOT NULL,
        comment TEXT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
        recorded_at TEXT CHECK (recorded_at IS NULL OR length(recorded_at) = 20)
    );
    INSERT INTO event_v2 (seq, kind, at, initials, comment, body, prev_hash, hash)
        SELECT seq, kind, at, initials, comment, body, prev_hash, hash FROM event;
    DROP TABLE event;
    ALTER TABLE event_v2 RENAME TO event;
    CREATE INDEX event_lot ON event (json_extract(body, '$.lot_id'));
    CREATE INDEX event_bag ON event (json_extract(body, '$.bag_id'));
    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    -- What corrections say now: for each corrected event, the latest value
    -- of each field corrected (the events themselves stay as recorded).
    CREATE TABLE correction (
        seq INTEGER PRIMARY KEY REFERENCES event (seq),
        at TEXT,
        recipient TEXT,
        last_seq INTEGER NOT NULL REFERENCES event (seq)
    ) WITHOUT ROWID;
    "#,
    // Version 3.
    r#"
    -- Users and signatures: an event is signed by a registered user
    -- (signer) with what the signature means (meaning), both hashed with
    -- it; an event recorded with initials has neither. New kinds: a user
    -- registered or disabled, a passphrase changed by its user or reset by
    -- an administrator, a bag checked by a second person, a failed sign-in. The
    -- event and bag tables are made again for their CHECKs, as in version 2.
    CREATE TABLE event_v3 (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct',
            'register_user', 'check', 'sign_in_failed', 'disable_user', 'change_passphrase',
            'reset_passphrase', 'configure')),
        at TEXT NOT NULL,
        initials TEXT NOT NULL,
        comment TEXT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
        recorded_at TEXT CHECK (recorded_at IS NULL OR length(recorded_at) = 20),
        signer TEXT REFERENCES user (user_id),
        meaning TEXT CHECK (meaning IS NULL OR meaning IN ('registered', 'received', 'thawed',
            'prepared', 'checked', 'dispensed', 'administered', 'destroyed', 'returned',
            'counted', 'corrected', 'disabled', 'reset', 'configured')),
        -- Why a signed event is written later than the ledger's late-entry
        -- limit after it happened (hashed with it).
        late_reason TEXT CHECK (late_reason IS NULL OR signer IS NOT NULL),
        CHECK ((signer IS NULL) = (meaning IS NULL)),
        CHECK (signer IS NULL OR recorded_at IS NOT NULL)
    );
    INSERT INTO event_v3 (seq, kind, at, initials, comment, body, prev_hash, hash, recorded_at)
        SELECT seq, kind, at, initials, comment, body, prev_hash, hash, recorded_at FROM event;
    DROP TABLE event;
    ALTER TABLE event_v3 RENAME TO event;
    CREATE INDEX event_lot ON event (json_extract(body, '$.lot_id'));
    CREATE INDEX event_bag ON event (json_extract(body, '$.bag_id'));
    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    CREATE TABLE bag_v3 (
        bag_id TEXT PRIMARY KEY,
        participant TEXT NOT NULL,
        visit TEXT NOT NULL,
        din TEXT,
        state TEXT NOT NULL CHECK (state IN ('prepared', 'checked', 'dispensed', 'administered', 'destroyed')),
        infuse_by TEXT NOT NULL,
        prepared_seq INTEGER NOT NULL REFERENCES event (seq),
        last_seq INTEGER NOT NULL REFERENCES event (seq)
    ) WITHOUT ROWID;
    INSERT INTO bag_v3 SELECT bag_id, participant, visit, din, state, infuse_by, prepared_seq, last_seq FROM bag;
    DROP TABLE bag;
    ALTER TABLE bag_v3 RENAME TO bag;
    CREATE INDEX bag_visit ON bag (participant, visit);
    CREATE UNIQUE INDEX bag_din ON bag (din) WHERE din IS NOT NULL;

    -- The registry, replayed from register_user events like the other
    -- state tables.
    CREATE TABLE user (
        user_id TEXT PRIMARY KEY,
        full_name TEXT NOT NULL,
        initials TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('pharmacist', 'checker', 'nurse', 'monitor', 'administrator')),
        registered_seq INTEGER NOT NULL REFERENCES event (seq),
        -- The event that disabled them: they sign nothing after it.
        disabled_seq INTEGER REFERENCES event (seq)
    ) WITHOUT ROWID;
    -- The ledger's settings, replayed from configure events: the site's
    -- late-entry limit (late_entry_after_min), where one is set.
    CREATE TABLE setting (
        name TEXT PRIMARY KEY CHECK (name IN ('late_entry_after_min')),
        value INTEGER NOT NULL CHECK (value >= 1),
        set_seq INTEGER NOT NULL REFERENCES event (seq)
    ) WITHOUT ROWID;
    -- Passphrases, as argon2id PHC strings only. Not events: a hash in the
    -- chain would travel with every export and archive. A disabled user's
    -- row is deleted with the event that disables them.
    CREATE TABLE credential (
        user_id TEXT PRIMARY KEY REFERENCES user (user_id),
        phc TEXT NOT NULL CHECK (phc LIKE '$argon2id$%')
    ) WITHOUT ROWID;
    "#,
    // Version 4.
    r#"
    -- A day's plan kept apart from what is done: a bag planned (plan), made
    -- when it is done (prepare_planned), or cancelled before it is made
    -- (cancel_bag). A bag is made by the event in made_seq (its preparation,
    -- or its plan's prepare_planned), which the four-eyes check reads; a
    -- planned or cancelled bag has none. Tables made again for their
    -- CHECKs, as in version 2.
    CREATE TABLE event_v4 (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct',
            'register_user', 'check', 'sign_in_failed', 'disable_user', 'change_passphrase',
            'reset_passphrase', 'configure', 'plan', 'prepare_planned', 'cancel_bag')),
        at TEXT NOT NULL,
        initials TEXT NOT NULL,
        comment TEXT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
        recorded_at TEXT CHECK (recorded_at IS NULL OR length(recorded_at) = 20),
        signer TEXT REFERENCES user (user_id),
        meaning TEXT CHECK (meaning IS NULL OR meaning IN ('registered', 'received', 'thawed',
            'prepared', 'checked', 'dispensed', 'administered', 'destroyed', 'returned',
            'counted', 'corrected', 'disabled', 'reset', 'configured', 'planned', 'cancelled')),
        late_reason TEXT CHECK (late_reason IS NULL OR signer IS NOT NULL),
        CHECK ((signer IS NULL) = (meaning IS NULL)),
        CHECK (signer IS NULL OR recorded_at IS NOT NULL)
    );
    INSERT INTO event_v4 SELECT seq, kind, at, initials, comment, body, prev_hash, hash,
        recorded_at, signer, meaning, late_reason FROM event;
    DROP TABLE event;
    ALTER TABLE event_v4 RENAME TO event;
    CREATE INDEX event_lot ON event (json_extract(body, '$.lot_id'));
    CREATE INDEX event_bag ON event (json_extract(body, '$.bag_id'));
    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    CREATE TABLE bag_v4 (
        bag_id TEXT PRIMARY KEY,
        participant TEXT NOT NULL,
        visit TEXT NOT NULL,
        din TEXT,
        state TEXT NOT NULL CHECK (state IN ('planned', 'prepared', 'checked', 'dispensed',
            'administered', 'destroyed', 'cancelled')),
        infuse_by TEXT NOT NULL,
        prepared_seq INTEGER NOT NULL REFERENCES event (seq),
        made_seq INTEGER REFERENCES event (seq),
        last_seq INTEGER NOT NULL REFERENCES event (seq),
        CHECK ((made_seq IS NULL) = (state IN ('planned', 'cancelled')))
    ) WITHOUT ROWID;
    INSERT INTO bag_v4 SELECT bag_id, participant, visit, din, state, infuse_by, prepared_seq,
        prepared_seq, last_seq FROM bag;
    DROP TABLE bag;
    ALTER TABLE bag_v4 RENAME TO bag;
    CREATE INDEX bag_visit ON bag (participant, visit);
    CREATE UNIQUE INDEX bag_din ON bag (din) WHERE din IS NOT NULL;
    -- A thaw session's bags, by their events' thaw time (the rules read a
    -- session whole at each plan and preparation).
    CREATE INDEX event_thawed_at ON event (json_extract(body, '$.thawed_at'));

    -- The first event written under this schema. Builds of schema 3 and
    -- before recorded a day's thaws and preparations at their planned
    -- times, ahead of when they were written; verify lets those stand, and
    -- holds every event from this one to "not written ahead".
    CREATE TABLE schema_start (
        version INTEGER PRIMARY KEY,
        first_seq INTEGER NOT NULL CHECK (first_seq >= 1)
    ) WITHOUT ROWID;
    INSERT INTO schema_start SELECT 4, coalesce(max(seq), 0) + 1 FROM event;
    CREATE TRIGGER schema_start_fixed_update BEFORE UPDATE ON schema_start
        BEGIN SELECT RAISE(ABORT, 'the schema start is fixed'); END;
    CREATE TRIGGER schema_start_fixed_delete BEFORE DELETE ON schema_start
        BEGIN SELECT RAISE(ABORT, 'the schema start is fixed'); END;
    "#,
    // Version 5.
    r#"
    -- A bag is made by its infuse-by time (one made after it has a label
    -- that expired before it was made): held to it from the first event
    -- written under this schema; earlier ones stand as recorded.
    INSERT INTO schema_start SELECT 5, coalesce(max(seq), 0) + 1 FROM event;
    "#,
    // Version 6.
    r#"
    -- Sites and shipments: the ledger's site is set once (set_site); from
    -- then on every event carries its site and the workstation that wrote
    -- it (both hashed with it). Containers leave for another site (ship,
    -- meaning shipped) and a receipt may name the shipment it came by.
    -- Tables made again for their CHECKs, as in version 2.
    CREATE TABLE event_v6 (
        seq INTEGER PRIMARY KEY CHECK (seq >= 1),
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct',
            'register_user', 'check', 'sign_in_failed', 'disable_user', 'change_passphrase',
            'reset_passphrase', 'configure', 'plan', 'prepare_planned', 'cancel_bag',
            'set_site', 'ship')),
        at TEXT NOT NULL,
        initials TEXT NOT NULL,
        comment TEXT,
        body TEXT NOT NULL CHECK (json_valid(body)),
        prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
        hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
        recorded_at TEXT CHECK (recorded_at IS NULL OR length(recorded_at) = 20),
        signer TEXT REFERENCES user (user_id),
        meaning TEXT CHECK (meaning IS NULL OR meaning IN ('registered', 'received', 'thawed',
            'prepared', 'checked', 'dispensed', 'administered', 'destroyed', 'returned',
            'counted', 'corrected', 'disabled', 'reset', 'configured', 'planned', 'cancelled',
            'shipped')),
        late_reason TEXT CHECK (late_reason IS NULL OR signer IS NOT NULL),
        -- Short names, as the ledger takes them (1 to 32 and 1 to 64 letters,
        -- digits, '.', '-' or '_', a letter or digit first).
        site TEXT CHECK (site IS NULL OR (length(site) BETWEEN 1 AND 32
            AND site GLOB '[A-Za-z0-9]*' AND site NOT GLOB '*[^A-Za-z0-9._-]*')),
        workstation TEXT CHECK (workstation IS NULL OR (length(workstation) BETWEEN 1 AND 64
            AND workstation GLOB '[A-Za-z0-9]*' AND workstation NOT GLOB '*[^A-Za-z0-9._-]*')),
        CHECK ((signer IS NULL) = (meaning IS NULL)),
        CHECK (signer IS NULL OR recorded_at IS NOT NULL),
        CHECK ((site IS NULL) = (workstation IS NULL)),
        CHECK (site IS NULL OR recorded_at IS NOT NULL)
    );
    INSERT INTO event_v6 SELECT seq, kind, at, initials, comment, body, prev_hash, hash,
        recorded_at, signer, meaning, late_reason, NULL, NULL FROM event;
    DROP TABLE event;
    ALTER TABLE event_v6 RENAME TO event;
    CREATE INDEX event_lot ON event (json_extract(body, '$.lot_id'));
    CREATE INDEX event_bag ON event (json_extract(body, '$.bag_id'));
    CREATE INDEX event_thawed_at ON event (json_extract(body, '$.thawed_at'));
    -- The ledger's site is read from its set_site event at each write.
    CREATE INDEX event_kind ON event (kind);
    CREATE TRIGGER event_append_only_update BEFORE UPDATE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER event_append_only_delete BEFORE DELETE ON event
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    CREATE TABLE container_v6 (
        lot_id TEXT NOT NULL REFERENCES lot (lot_id),
        number INTEGER NOT NULL CHECK (number >= 1),
        state TEXT NOT NULL CHECK (state IN ('in stock', 'thawed', 'destroyed', 'returned',
            'shipped')),
        was_thawed INTEGER NOT NULL DEFAULT 0 CHECK (was_thawed IN (0, 1)),
        drawn_ul INTEGER NOT NULL DEFAULT 0 CHECK (drawn_ul >= 0),
        thawed_at TEXT,
        last_seq INTEGER NOT NULL REFERENCES event (seq),
        PRIMARY KEY (lot_id, number)
    ) WITHOUT ROWID;
    INSERT INTO container_v6 SELECT lot_id, number, state, was_thawed, drawn_ul, thawed_at,
        last_seq FROM container;
    DROP TABLE container;
    ALTER TABLE container_v6 RENAME TO container;
    INSERT INTO schema_start SELECT 6, coalesce(max(seq), 0) + 1 FROM event;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Settings every connection needs: foreign keys, the busy timeout, and
/// full sync (a recorded event survives a power cut, not only a crash).
fn configure(connection: &Connection) -> Result<()> {
    connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    connection.pragma_update(None, "foreign_keys", true)?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Open the ledger at `path` and bring it to the current schema. A missing
/// file is an error: a mistyped path must not start an empty ledger.
pub fn open(path: &std::path::Path) -> Result<Connection> {
    open_file(path).map_err(|error| match error.sqlite_error_code() {
        // A file that is not a database at all (a CSV, a lot file) was given
        // by mistake; one that starts as SQLite files do is a damaged one.
        Some(rusqlite::ErrorCode::NotADatabase) if !starts_as_sqlite(path) => {
            LedgerError::NotALedger {
                path: path.display().to_string(),
            }
        }
        _ => error.in_file(&path.display().to_string()),
    })
}

/// Whether the file starts with the 16 bytes every SQLite database starts
/// with ("SQLite format 3" and a NUL).
fn starts_as_sqlite(path: &std::path::Path) -> bool {
    use std::io::Read as _;
    let mut header = [0u8; 16];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0")
}

fn open_file(path: &std::path::Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(LedgerError::NoSuchLedger {
            path: path.display().to_string(),
        });
    }
    // Without SQLITE_OPEN_CREATE: a file removed since the check is not
    // made again.
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&connection)?;
    // Before anything is written (WAL is written into the file's header):
    // another program's database is refused untouched.
    check_is_ledger(&connection, path, Access::ReadWrite)?;
    // WAL: readers do not block the writer, and a killed writer leaves the
    // last committed state. Set once; it is a property of the file.
    let mode: String =
        connection.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(LedgerError::Database {
            fault: DatabaseFault::JournalMode,
            detail: format!(
                "{} cannot use write-ahead logging (journal mode {mode})",
                path.display()
            ),
            sqlite: None,
            file: None,
        });
    }
    migrate(connection, &path.display().to_string())
}

/// Whether a connection may migrate the file it opened.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    ReadWrite,
    ReadOnly,
}

/// Refuse a file that is not a ledger, by reading only: its application id,
/// or, for a file without one, whether it holds tables (a new empty file
/// has none and becomes a ledger). A read-only connection also needs the
/// current schema, since it cannot migrate.
fn check_is_ledger(connection: &Connection, path: &std::path::Path, access: Access) -> Result<()> {
    let not_a_ledger = || LedgerError::NotALedger {
        path: path.display().to_string(),
    };
    let application_id: i64 =
        connection.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let tables: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
        return Err(not_a_ledger());
    }
    if access == Access::ReadOnly {
        if application_id != APPLICATION_ID {
            return Err(not_a_ledger());
        }
        let version: i64 = connection.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(LedgerError::SchemaTooNew {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            return Err(LedgerError::SchemaTooOld {
                path: path.display().to_string(),
                found: version,
                current: SCHEMA_VERSION,
            });
        }
    }
    Ok(())
}

/// Open the ledger at `path` to read only (an auditor's write-protected
/// copy, a file on read-only media): nothing is written to the file, no
/// migration is made, and every event method is refused by SQLite as
/// `database_read_only`. Where SQLite cannot make the write-ahead log's
/// index beside the file (a read-only folder), the file is read as
/// immutable: no other program may be writing it then.
pub fn open_read_only(path: &std::path::Path) -> Result<Connection> {
    if !path.is_file() {
        return Err(LedgerError::NoSuchLedger {
            path: path.display().to_string(),
        });
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let first = Connection::open_with_flags(path, flags)
        .map_err(LedgerError::from)
        .and_then(|connection| {
            configure_reader(&connection)?;
            check_is_ledger(&connection, path, Access::ReadOnly)?;
            Ok(connection)
        });
    match first {
        // SQLite says CANTOPEN or READONLY_CANTINIT when it cannot make the
        // log's index beside a file in write-ahead-log mode.
        Err(error)
            if matches!(
                error.sqlite_error_code(),
                Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::ReadOnly)
            ) =>
        {
            let connection =
                Connection::open_with_flags(format!("file:{}?immutable=1", uri_path(path)), flags)?;
            configure_reader(&connection)?;
            check_is_ledger(&connection, path, Access::ReadOnly)?;
            Ok(connection)
        }
        Err(error)
            if error.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase)
                && !starts_as_sqlite(path) =>
        {
            Err(LedgerError::NotALedger {
                path: path.display().to_string(),
            })
        }
        other => other,
    }
    .map_err(|error| error.in_file(&path.display().to_string()))
}

/// The settings a reader needs (foreign keys and sync concern writes).
fn configure_reader(connection: &Connection) -> Result<()> {
    connection.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    Ok(())
}

/// `path` as the path of a `file:` URI: every byte but unreserved ones and
/// `/` percent-encoded, so `?`, `#` and `%` in a file name stay the name's.
fn uri_path(path: &std::path::Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()); // fallback-ok: a relative path is a valid URI path too
    let mut encoded = String::new();
    for &byte in absolute.as_os_str().as_encoded_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Create a new ledger at `path`: the file must not exist (it is made
/// empty, atomically, then given the schema).
pub fn create(path: &std::path::Path) -> Result<Connection> {
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(file) => {
            // Closed before SQLite opens the file: closing any descriptor
            // of a file drops every POSIX lock the process holds on it,
            // SQLite's included.
            drop(file);
            open(path)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(LedgerError::LedgerExists {
                path: path.display().to_string(),
            })
        }
        Err(error) => Err(LedgerError::CannotCreate {
            path: path.display().to_string(),
            reason: error.to_string(),
        }),
    }
}

/// A ledger in memory, for tests and for replaying events in `verify`.
pub fn open_in_memory() -> Result<Connection> {
    let connection = Connection::open_in_memory()?;
    configure(&connection)?;
    migrate(connection, ":memory:")
}

fn migrate(mut connection: Connection, path: &str) -> Result<Connection> {
    // A migration may make a table again (SQLite's way to change a CHECK):
    // foreign keys are off while it runs, as SQLite's documentation of ALTER
    // TABLE says, and checked whole before they are on again. (The pragma
    // is a no-op inside a transaction, so it is set outside.)
    connection.pragma_update(None, "foreign_keys", false)?;
    let migrated = migrate_versions(&mut connection, path);
    connection.pragma_update(None, "foreign_keys", true)?;
    migrated?;
    Ok(connection)
}

/// Apply the migrations the file lacks, in one transaction.
fn migrate_versions(connection: &mut Connection, path: &str) -> Result<()> {
    // One writer migrates; another waits for it, then finds the work done.
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let application_id: i64 =
        transaction.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version: i64 = transaction.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let tables: i64 = transaction.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
        [],
        |r| r.get(0),
    )?;
    if application_id != APPLICATION_ID && (application_id != 0 || tables > 0) {
        return Err(LedgerError::NotALedger {
            path: path.to_owned(),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(LedgerError::SchemaTooNew {
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    // A negative version is written by no doseprep: the file is not one of ours.
    let Ok(applied) = usize::try_from(version) else {
        return Err(LedgerError::NotALedger {
            path: path.to_owned(),
        });
    };
    let migrating = applied < MIGRATIONS.len();
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", index as i64 + 1)?;
    }
    transaction.pragma_update(None, "application_id", APPLICATION_ID)?;
    // Before the migration is committed (it reads every row, so only where
    // one ran): a row naming an event or lot the ledger lacks leaves the
    // file as it was.
    if migrating {
        let broken: Option<String> = transaction
            .query_row("PRAGMA foreign_key_check", [], |row| row.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(LedgerError::Tampered(format!(
                "a row of table {table} names an event or lot the ledger does not hold"
            )));
        }
    }
    transaction.commit()?;
    Ok(())
}

/// The schema version of the ledger `db` holds.
pub(crate) fn version(db: &crate::db::Db) -> Result<i64> {
    match db {
        crate::db::Db::Sqlite(connection) => {
            Ok(connection.pragma_query_value(None, "user_version", |row| row.get(0))?)
        }
        crate::db::Db::Postgres(server) => server.schema_version(),
    }
}
