//! The ledger on a PostgreSQL server: the connection, the schema (the same
//! tables, constraints and append-only triggers as the SQLite file's), and
//! the translation of the ledger's statements, written once in the dialect
//! both servers share, into PostgreSQL's few differences.

use std::cell::RefCell;
use std::collections::HashMap;

use postgres::types::{IsNull, Type};

use crate::db::{Param, Value};
use crate::error::{LedgerError, Result};
use crate::schema::{APPLICATION_ID, SCHEMA_VERSION};

/// An open connection to a ledger's database on a PostgreSQL server.
pub(crate) struct Postgres {
    client: RefCell<postgres::Client>,
    /// Statements prepared on this connection, by their text as written.
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// Whether a transaction is open (the server does not say without a
    /// round trip).
    pub(crate) in_transaction: std::cell::Cell<bool>,
}

/// The schema of a new ledger on PostgreSQL, at [`SCHEMA_VERSION`]: the
/// SQLite file's tables after its migrations, in PostgreSQL's types.
/// Integers are BIGINT (the SQLite file's are 64-bit); text is compared
/// byte by byte (`COLLATE "C"`), as SQLite does, so rows come back in the
/// order `verify` expects whatever the server's locale.
const SCHEMA: &str = r#"
CREATE TABLE doseprep_ledger (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    application_id BIGINT NOT NULL,
    schema_version BIGINT NOT NULL
);
CREATE TABLE event (
    seq BIGINT PRIMARY KEY CHECK (seq >= 1),
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
        'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct',
        'register_user', 'check', 'sign_in_failed', 'disable_user', 'change_passphrase',
        'reset_passphrase', 'configure', 'plan', 'prepare_planned', 'cancel_bag')),
    at TEXT COLLATE "C" NOT NULL,
    initials TEXT COLLATE "C" NOT NULL,
    comment TEXT COLLATE "C",
    -- Text, not json or jsonb: the hash is of these bytes exactly.
    body TEXT COLLATE "C" NOT NULL CHECK (body::json IS NOT NULL),
    prev_hash TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(prev_hash) = 64),
    hash TEXT COLLATE "C" NOT NULL UNIQUE CHECK (length(hash) = 64),
    recorded_at TEXT COLLATE "C" CHECK (recorded_at IS NULL OR length(recorded_at) = 20),
    signer TEXT COLLATE "C",
    meaning TEXT COLLATE "C" CHECK (meaning IS NULL OR meaning IN ('registered', 'received', 'thawed',
        'prepared', 'checked', 'dispensed', 'administered', 'destroyed', 'returned',
        'counted', 'corrected', 'disabled', 'reset', 'configured', 'planned', 'cancelled')),
    late_reason TEXT COLLATE "C" CHECK (late_reason IS NULL OR signer IS NOT NULL),
    CHECK ((signer IS NULL) = (meaning IS NULL)),
    CHECK (signer IS NULL OR recorded_at IS NOT NULL)
);
CREATE INDEX event_lot ON event ((body::json ->> 'lot_id'));
CREATE INDEX event_bag ON event ((body::json ->> 'bag_id'));
CREATE INDEX event_thawed_at ON event ((body::json ->> 'thawed_at'));
CREATE FUNCTION doseprep_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON event
    FOR EACH STATEMENT EXECUTE FUNCTION doseprep_append_only('the ledger is append-only');
CREATE TABLE head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL REFERENCES event (seq),
    hash TEXT COLLATE "C" NOT NULL
);
CREATE TABLE lot (
    lot_id TEXT COLLATE "C" PRIMARY KEY,
    received_seq BIGINT NOT NULL REFERENCES event (seq),
    containers BIGINT NOT NULL CHECK (containers >= 1),
    container_ul BIGINT NOT NULL CHECK (container_ul >= 1),
    yield_ul BIGINT NOT NULL CHECK (yield_ul >= 1 AND yield_ul <= container_ul),
    expires_at TEXT COLLATE "C"
);
CREATE TABLE container (
    lot_id TEXT COLLATE "C" NOT NULL REFERENCES lot (lot_id),
    number BIGINT NOT NULL CHECK (number >= 1),
    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('in stock', 'thawed', 'destroyed', 'returned')),
    was_thawed BIGINT NOT NULL DEFAULT 0 CHECK (was_thawed IN (0, 1)),
    drawn_ul BIGINT NOT NULL DEFAULT 0 CHECK (drawn_ul >= 0),
    thawed_at TEXT COLLATE "C",
    last_seq BIGINT NOT NULL REFERENCES event (seq),
    PRIMARY KEY (lot_id, number)
);
CREATE TABLE "user" (
    user_id TEXT COLLATE "C" PRIMARY KEY,
    full_name TEXT COLLATE "C" NOT NULL,
    initials TEXT COLLATE "C" NOT NULL,
    role TEXT COLLATE "C" NOT NULL CHECK (role IN ('pharmacist', 'checker', 'nurse', 'monitor', 'administrator')),
    registered_seq BIGINT NOT NULL REFERENCES event (seq),
    disabled_seq BIGINT REFERENCES event (seq)
);
ALTER TABLE event ADD FOREIGN KEY (signer) REFERENCES "user" (user_id)
    DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE bag (
    bag_id TEXT COLLATE "C" PRIMARY KEY,
    participant TEXT COLLATE "C" NOT NULL,
    visit TEXT COLLATE "C" NOT NULL,
    din TEXT COLLATE "C",
    state TEXT COLLATE "C" NOT NULL CHECK (state IN ('planned', 'prepared', 'checked', 'dispensed',
        'administered', 'destroyed', 'cancelled')),
    infuse_by TEXT COLLATE "C" NOT NULL,
    prepared_seq BIGINT NOT NULL REFERENCES event (seq),
    made_seq BIGINT REFERENCES event (seq),
    last_seq BIGINT NOT NULL REFERENCES event (seq),
    CHECK ((made_seq IS NULL) = (state IN ('planned', 'cancelled')))
);
CREATE INDEX bag_visit ON bag (participant, visit);
CREATE UNIQUE INDEX bag_din ON bag (din) WHERE din IS NOT NULL;
CREATE TABLE draw (
    bag_id TEXT COLLATE "C" NOT NULL REFERENCES bag (bag_id),
    lot_id TEXT COLLATE "C" NOT NULL,
    number BIGINT NOT NULL,
    volume_ul BIGINT NOT NULL CHECK (volume_ul >= 1),
    PRIMARY KEY (bag_id, lot_id, number),
    FOREIGN KEY (lot_id, number) REFERENCES container (lot_id, number)
);
CREATE TABLE correction (
    seq BIGINT PRIMARY KEY REFERENCES event (seq),
    at TEXT COLLATE "C",
    recipient TEXT COLLATE "C",
    last_seq BIGINT NOT NULL REFERENCES event (seq)
);
CREATE TABLE setting (
    name TEXT COLLATE "C" PRIMARY KEY CHECK (name IN ('late_entry_after_min')),
    value BIGINT NOT NULL CHECK (value >= 1),
    set_seq BIGINT NOT NULL REFERENCES event (seq)
);
CREATE TABLE credential (
    user_id TEXT COLLATE "C" PRIMARY KEY REFERENCES "user" (user_id),
    phc TEXT COLLATE "C" NOT NULL CHECK (phc LIKE '$argon2id$%')
);
-- The first event of the rules schemas 4 and 5 brought (see the SQLite
-- migrations): every event of a ledger started here.
CREATE TABLE schema_start (
    version BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL CHECK (first_seq >= 1)
);
INSERT INTO schema_start VALUES (4, 1), (5, 1);
CREATE TRIGGER schema_start_fixed BEFORE UPDATE OR DELETE OR TRUNCATE ON schema_start
    FOR EACH STATEMENT EXECUTE FUNCTION doseprep_append_only('the schema start is fixed');

-- What a blinded monitor reads, and all they read: the blinded log, built
-- as `Ledger::blinded_csv` builds it, only from what a bag and its placebo
-- twin share (each row dated by its session's thaw, ordered by session,
-- stage and bag id; no lot, no arm, no participant, no cells).
-- A security barrier: no function of the monitor's sees a row the view
-- leaves out.
CREATE VIEW blinded_log WITH (security_barrier) AS
SELECT split_part(made.session, '[', 1) AS session,
       event.kind AS event,
       made.bag_id,
       trim_scale(made.final_ul / 1000.0)::text AS volume_ml
FROM event
JOIN (SELECT DISTINCT ON (body::json ->> 'bag_id')
             body::json ->> 'bag_id' AS bag_id,
             body::json ->> 'thawed_at' AS session,
             (body::json ->> 'final_ul')::bigint AS final_ul
      FROM event WHERE kind IN ('plan', 'prepare')
      ORDER BY body::json ->> 'bag_id', seq) AS made
  ON made.bag_id = event.body::json ->> 'bag_id'
WHERE event.kind <> 'correct'
ORDER BY split_part(made.session, '[', 1)::timestamptz,
         CASE event.kind WHEN 'plan' THEN 0 WHEN 'prepare' THEN 1
             WHEN 'prepare_planned' THEN 1 WHEN 'check' THEN 2 WHEN 'dispense' THEN 3
             WHEN 'administer' THEN 4 ELSE 5 END,
         made.bag_id COLLATE "C", event.seq;

-- Who may do what, decided by the server: a pharmacy's writer inserts
-- events and never updates or deletes one (no grant, whatever the
-- triggers); an auditor reads everything but the passphrase hashes and
-- writes nothing; a blinded monitor reads the blinded log only. The roles
-- are the server's (made once, by whoever first may); people's logins are
-- made members of them.
DO $$
DECLARE
    role TEXT;
BEGIN
    FOREACH role IN ARRAY ARRAY['doseprep_writer', 'doseprep_auditor', 'doseprep_monitor'] LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = role) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', role);
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO doseprep_writer, doseprep_auditor, doseprep_monitor',
        current_schema());
    -- No temporary functions for anyone not granted them (a leaky
    -- function over a view is how rows it hides are seen).
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
GRANT SELECT ON doseprep_ledger TO doseprep_writer, doseprep_auditor, doseprep_monitor;
GRANT SELECT, INSERT ON event TO doseprep_writer;
GRANT SELECT, INSERT, UPDATE ON head TO doseprep_writer;
GRANT SELECT, INSERT, UPDATE, DELETE
    ON lot, container, bag, draw, correction, "user", setting, credential TO doseprep_writer;
GRANT SELECT ON schema_start TO doseprep_writer;
GRANT SELECT ON event, head, lot, container, bag, draw, correction, "user", setting, schema_start
    TO doseprep_auditor;
-- Verify checks there is a hash for each user; the hashes stay unread.
GRANT SELECT (user_id) ON credential TO doseprep_auditor;
GRANT SELECT ON blinded_log TO doseprep_monitor;
"#;

/// The central ledger of a trial on PostgreSQL: every site's events as the
/// site's own chain, pushed from its file (`Ledger::push`). The server
/// checks each event as it arrives, whoever sends it: its link to the
/// site's event before it, and its hash, recomputed here from its fields
/// by the README's formula (PostgreSQL's `to_json` escapes text as
/// serde_json does: `\"`, `\\`, `\b \f \n \r \t`, other control
/// characters as `\u00xx`, everything else as it is), so a forked, re-hashed
/// or edited chain is refused by the server itself. Append-only, as a
/// ledger's event table is.
const CENTRAL_SCHEMA: &str = r#"
DO $$ BEGIN
    -- Text is hashed as UTF-8: another encoding would refuse or change it.
    IF current_setting('server_encoding') <> 'UTF8' THEN
        RAISE EXCEPTION 'the central ledger needs a UTF8 database; this one is %',
            current_setting('server_encoding');
    END IF;
END $$;
CREATE TABLE doseprep_central (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    application_id BIGINT NOT NULL,
    schema_version BIGINT NOT NULL
);
CREATE TABLE site_event (
    site TEXT COLLATE "C" NOT NULL CHECK (site ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
    seq BIGINT NOT NULL CHECK (seq >= 1),
    kind TEXT COLLATE "C" NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    initials TEXT COLLATE "C" NOT NULL,
    comment TEXT COLLATE "C",
    body TEXT COLLATE "C" NOT NULL CHECK (body::json IS NOT NULL),
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL,
    recorded_at TEXT COLLATE "C",
    signer TEXT COLLATE "C",
    meaning TEXT COLLATE "C",
    late_reason TEXT COLLATE "C",
    pushed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (site, seq),
    UNIQUE (site, prev_hash),
    UNIQUE (site, hash)
);
CREATE FUNCTION doseprep_event_hash(e site_event) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(
        '[' || e.seq::text || ',' || to_json(e.kind)::text || ',' || to_json(e.at)::text
        || ',' || to_json(e.initials)::text || ',' || coalesce(to_json(e.comment)::text, 'null')
        || ',' || to_json(e.body)::text || ',' || to_json(e.prev_hash)::text
        || CASE
            WHEN e.signer IS NOT NULL OR e.meaning IS NOT NULL OR e.late_reason IS NOT NULL THEN
                ',' || coalesce(to_json(e.recorded_at)::text, 'null')
                || ',' || coalesce(to_json(e.signer)::text, 'null')
                || ',' || coalesce(to_json(e.meaning)::text, 'null')
                || coalesce(',' || to_json(e.late_reason)::text, '')
            WHEN e.recorded_at IS NOT NULL THEN ',' || to_json(e.recorded_at)::text
            ELSE ''
        END || ']', 'UTF8')), 'hex')
$$;
CREATE FUNCTION doseprep_check_arrival() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before TEXT;
BEGIN
    IF NEW.seq = 1 THEN
        before := repeat('0', 64);
    ELSE
        SELECT hash INTO before FROM site_event WHERE site = NEW.site AND seq = NEW.seq - 1;
        IF before IS NULL THEN
            RAISE EXCEPTION 'site %: event % arrives before event %', NEW.site, NEW.seq, NEW.seq - 1;
        END IF;
    END IF;
    IF NEW.prev_hash IS DISTINCT FROM before THEN
        RAISE EXCEPTION 'site %: event % does not follow the event before it (forked)', NEW.site, NEW.seq;
    END IF;
    IF NEW.hash IS DISTINCT FROM doseprep_event_hash(NEW) THEN
        RAISE EXCEPTION 'site %: event % is not the event its hash was taken of', NEW.site, NEW.seq;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER site_event_checked BEFORE INSERT ON site_event
    FOR EACH ROW EXECUTE FUNCTION doseprep_check_arrival();
CREATE FUNCTION doseprep_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '%', TG_ARGV[0]; END $$;
CREATE TRIGGER site_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON site_event
    FOR EACH STATEMENT EXECUTE FUNCTION doseprep_append_only('the central ledger is append-only');
-- The checks read this schema's table and the catalog's functions only,
-- whatever the inserting session's search path (a temporary table of the
-- same name, searched first by default, would otherwise stand in).
DO $$
DECLARE
    path TEXT := format('pg_catalog, %I, pg_temp', current_schema());
BEGIN
    EXECUTE format('ALTER FUNCTION doseprep_event_hash(site_event) SET search_path = %s', path);
    EXECUTE format('ALTER FUNCTION doseprep_check_arrival() SET search_path = %s', path);
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'doseprep_pusher') THEN
        CREATE ROLE doseprep_pusher NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO doseprep_pusher', current_schema());
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END $$;
-- A site's push: read what the centre holds, insert what it lacks; never
-- change or remove an event.
GRANT SELECT ON doseprep_central TO doseprep_pusher;
GRANT SELECT, INSERT ON site_event TO doseprep_pusher;
"#;

/// Migration `i` takes a central ledger from version `i + 1` to the next.
/// Append only.
const CENTRAL_MIGRATIONS: &[&str] = &[
    // Version 2: an event names the site and workstation it was written at
    // (a ledger's schema 6); `event_site` is the event's own, null before
    // its ledger's set_site, and only ever the site it is pushed as. The
    // hash takes the thirteen-element form for such an event.
    r#"
    ALTER TABLE site_event
        ADD COLUMN event_site TEXT COLLATE "C",
        ADD COLUMN workstation TEXT COLLATE "C",
        ADD CHECK (event_site IS NULL OR event_site = site),
        ADD CHECK ((event_site IS NULL) = (workstation IS NULL));
    CREATE OR REPLACE FUNCTION doseprep_event_hash(e site_event) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
        SELECT encode(sha256(convert_to(
            '[' || e.seq::text || ',' || to_json(e.kind)::text || ',' || to_json(e.at)::text
            || ',' || to_json(e.initials)::text || ',' || coalesce(to_json(e.comment)::text, 'null')
            || ',' || to_json(e.body)::text || ',' || to_json(e.prev_hash)::text
            || CASE
                WHEN e.event_site IS NOT NULL THEN
                    ',' || coalesce(to_json(e.recorded_at)::text, 'null')
                    || ',' || coalesce(to_json(e.signer)::text, 'null')
                    || ',' || coalesce(to_json(e.meaning)::text, 'null')
                    || ',' || coalesce(to_json(e.late_reason)::text, 'null')
                    || ',' || to_json(e.event_site)::text
                    || ',' || to_json(e.workstation)::text
                WHEN e.signer IS NOT NULL OR e.meaning IS NOT NULL OR e.late_reason IS NOT NULL THEN
                    ',' || coalesce(to_json(e.recorded_at)::text, 'null')
                    || ',' || coalesce(to_json(e.signer)::text, 'null')
                    || ',' || coalesce(to_json(e.meaning)::text, 'null')
                    || coalesce(',' || to_json(e.late_reason)::text, '')
                WHEN e.recorded_at IS NOT NULL THEN ',' || to_json(e.recorded_at)::text
                ELSE ''
            END || ']', 'UTF8')), 'hex')
    $$;
    -- Replaced, the function lost its pinned search path: pinned again.
    DO $pin$
    BEGIN
        EXECUTE format('ALTER FUNCTION doseprep_event_hash(site_event) SET search_path = %s',
            format('pg_catalog, %I, pg_temp', current_schema()));
    END $pin$;
    "#,
    // Version 3: a pusher's login is tied to its sites. The centre's
    // administrator names each site's logins in site_pusher; row-level
    // security lets a member of doseprep_pusher read and insert the events
    // of those sites only, so no login pushes, or claims, another site's
    // name. The sponsor's role reads every site's stock and bag events
    // (no bag's body) and writes nothing.
    r#"
    CREATE TABLE site_pusher (
        site TEXT COLLATE "C" NOT NULL CHECK (site ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
        login NAME NOT NULL,
        PRIMARY KEY (site, login)
    );
    ALTER TABLE site_event ENABLE ROW LEVEL SECURITY;
    CREATE POLICY site_event_own_sites ON site_event TO doseprep_pusher
        USING (EXISTS (SELECT FROM site_pusher p
                       WHERE p.site = site_event.site AND p.login = current_user))
        WITH CHECK (EXISTS (SELECT FROM site_pusher p
                            WHERE p.site = site_event.site AND p.login = current_user));
    GRANT SELECT ON site_pusher TO doseprep_pusher;
    -- A workstation as a ledger names it; and one ledger pushed as one
    -- site only (its first event is no other site's first event).
    ALTER TABLE site_event ADD CHECK (workstation IS NULL
        OR workstation ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$');
    CREATE UNIQUE INDEX site_event_one_chain ON site_event (hash) WHERE seq = 1;
    -- What the sponsor reads, and all they read: every site's events with
    -- the bodies and times of stock events only (receipts, thaws,
    -- shipments, returns, destructions of containers, counts). A bag's
    -- body (its participant, its draws, its record) would tell an active
    -- bag from a placebo, and its time beside a thaw's might; its kind and
    -- site do not. A security barrier, as the blinded log is.
    CREATE VIEW site_stock_event WITH (security_barrier) AS
    SELECT site, seq, kind,
           CASE WHEN kind IN ('receive', 'thaw', 'ship', 'return', 'destroy_containers', 'count')
                THEN at END AS at,
           CASE WHEN kind IN ('receive', 'thaw', 'ship', 'return', 'destroy_containers', 'count')
                THEN body END AS body
    FROM site_event;
    DO $roles$
    BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'doseprep_sponsor') THEN
            CREATE ROLE doseprep_sponsor NOLOGIN;
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO doseprep_sponsor', current_schema());
    END $roles$;
    GRANT SELECT ON doseprep_central, site_stock_event TO doseprep_sponsor;
    "#,
    // Version 4. The unique index on first events refused two sites whose
    // ledgers were copied from one template (their first events the same);
    // a push now needs the ledger's own site, set in its chain, instead.
    // The sponsor's view shows a bag event's kind, and nothing else of it
    // (its number would place it between thaws); a destruction's reason is
    // withheld (free text a pharmacist may have written a participant
    // into); and a correction of a stock event is shown, so a shipment's
    // time reads as corrected.
    r#"
    DROP INDEX IF EXISTS site_event_one_chain;
    DROP VIEW site_stock_event;
    CREATE VIEW site_stock_event WITH (security_barrier) AS
    SELECT e.site,
           max(e.seq) OVER (PARTITION BY e.site) AS site_events,
           CASE WHEN stock.shown THEN e.seq END AS seq,
           e.kind,
           CASE WHEN stock.shown THEN e.at END AS at,
           CASE WHEN stock.shown
                THEN regexp_replace(e.body, '"reason":"(?:[^"\\]|\\.)*"', '"reason":""', 'g')
           END AS body
    FROM site_event e
    CROSS JOIN LATERAL (
        SELECT e.kind IN ('receive', 'thaw', 'ship', 'return', 'destroy_containers', 'count')
            OR (e.kind = 'correct' AND EXISTS (
                SELECT FROM site_event corrected
                WHERE corrected.site = e.site
                  AND corrected.kind IN ('receive', 'thaw', 'ship', 'return',
                                         'destroy_containers', 'count')
                  AND corrected.seq::text
                      = substring(e.body FROM '^\{"kind":"correct","seq":([0-9]+),')))
            AS shown
    ) stock;
    GRANT SELECT ON site_stock_event TO doseprep_sponsor;
    "#,
    // Version 5. An event written before its ledger's site was set names
    // no site, so two sites whose ledgers were copied from one that had
    // recorded stock hold the same such events, which the sponsor would
    // count at both: from now on such an event is refused to a second site
    // (a ledger's setup, its users and settings, may be shared), checked by
    // a trigger that sees every site's events whatever the pusher's own; a
    // centre that holds such twins already keeps them (it is append-only)
    // and its views count the one pushed first only. The sponsor's view
    // gives stock events and corrections of them only; bag events are
    // counted per site and kind (site_event_count), never listed, so no
    // row's place tells where a bag event fell. A reason is shown only as
    // withheld: a body whose reason the withholding missed (not written as
    // a ledger writes it, or not JSON PostgreSQL's jsonb reads) is not
    // shown at all.
    r#"
    CREATE INDEX site_event_unsited ON site_event (hash) WHERE event_site IS NULL;
    CREATE FUNCTION doseprep_setup_kind(kind TEXT) RETURNS BOOLEAN LANGUAGE sql IMMUTABLE AS $$
        SELECT kind IN ('register_user', 'configure', 'disable_user', 'change_passphrase',
                        'reset_passphrase', 'sign_in_failed')
    $$;
    CREATE FUNCTION doseprep_check_unsited() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
    DECLARE
        other TEXT;
    BEGIN
        IF NEW.event_site IS NULL AND NOT doseprep_setup_kind(NEW.kind) THEN
            SELECT site INTO other FROM site_event
            WHERE hash = NEW.hash AND event_site IS NULL AND site <> NEW.site
            LIMIT 1;
            IF other IS NOT NULL THEN
                RAISE EXCEPTION 'site_event_unsited_once: site %: its % event %, written before its ledger''s site was set, is held for site % already', NEW.site, NEW.kind, NEW.seq, other
                    USING ERRCODE = 'unique_violation';
            END IF;
        END IF;
        RETURN NEW;
    END $$;
    CREATE TRIGGER site_event_unsited_once BEFORE INSERT ON site_event
        FOR EACH ROW EXECUTE FUNCTION doseprep_check_unsited();
    REVOKE EXECUTE ON FUNCTION doseprep_check_unsited() FROM PUBLIC;
    -- jsonb of a body, or null where jsonb does not read it (a NUL, a
    -- number beyond numeric): one such body withholds itself, not the view.
    CREATE FUNCTION doseprep_jsonb_or_null(body TEXT) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        RETURN body::jsonb;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$;
    DO $pin$
    DECLARE
        path TEXT := format('pg_catalog, %I, pg_temp', current_schema());
    BEGIN
        EXECUTE format('ALTER FUNCTION doseprep_setup_kind(TEXT) SET search_path = %s', path);
        EXECUTE format('ALTER FUNCTION doseprep_check_unsited() SET search_path = %s', path);
        EXECUTE format('ALTER FUNCTION doseprep_jsonb_or_null(TEXT) SET search_path = %s', path);
    END $pin$;
    -- The events the sponsor counts: all, but an unsited one another site
    -- pushed first (a twin a centre held before version 5).
    CREATE VIEW site_event_counted WITH (security_barrier) AS
    SELECT e.* FROM site_event e
    WHERE e.event_site IS NOT NULL OR doseprep_setup_kind(e.kind) OR NOT EXISTS (
        SELECT FROM site_event first
        WHERE first.hash = e.hash AND first.event_site IS NULL
          AND (first.pushed_at, first.site) < (e.pushed_at, e.site));
    REVOKE ALL ON site_event_counted FROM PUBLIC;
    DROP VIEW IF EXISTS site_stock_event;
    CREATE VIEW site_stock_event WITH (security_barrier) AS
    SELECT e.site, e.seq, e.kind, e.at,
           CASE WHEN parsed.fields IS NOT NULL
                      AND (parsed.fields -> 'reason' IS NULL OR parsed.fields ->> 'reason' = '')
                THEN withheld.body END AS body
    FROM site_event_counted e
    CROSS JOIN LATERAL (
        SELECT regexp_replace(e.body, $re$"reason":"(?:[^"\\]|\\.)*"$re$, '"reason":""', 'g') AS body
    ) withheld
    CROSS JOIN LATERAL (SELECT doseprep_jsonb_or_null(withheld.body) AS fields) parsed
    WHERE e.kind IN ('receive', 'thaw', 'ship', 'return', 'destroy_containers', 'count')
       OR (e.kind = 'correct' AND EXISTS (
            SELECT FROM site_event_counted corrected
            WHERE corrected.site = e.site
              AND corrected.kind IN ('receive', 'thaw', 'ship', 'return',
                                     'destroy_containers', 'count')
              AND corrected.seq = substring(e.body FROM $re$^\{"kind":"correct","seq":([0-9]{1,18}),$re$)::bigint));
    CREATE VIEW site_event_count WITH (security_barrier) AS
    SELECT site, kind, count(*) AS n, max(max(seq)) OVER (PARTITION BY site) AS site_events
    FROM site_event_counted
    GROUP BY site, kind;
    GRANT SELECT ON site_stock_event, site_event_count TO doseprep_sponsor;
    "#,
];

/// The central ledger's version.
const CENTRAL_VERSION: i64 = 1 + CENTRAL_MIGRATIONS.len() as i64;

/// Bring the central ledger `db` holds from `version` to
/// [`CENTRAL_VERSION`], in the transaction open on it.
fn migrate_central(db: &Postgres, version: i64) -> Result<()> {
    let applied = usize::try_from(version - 1).unwrap_or(usize::MAX); // fallback-ok: a version below 1 is refused by the caller
    for migration in CENTRAL_MIGRATIONS.iter().skip(applied) {
        db.batch(migration)?;
    }
    db.execute(
        "UPDATE doseprep_central SET schema_version = ?1 WHERE id = 1",
        &[Param::Integer(CENTRAL_VERSION)],
    )?;
    Ok(())
}

/// The version [`SCHEMA`] makes: the first a PostgreSQL ledger had.
const BASELINE: i64 = 5;

/// Migration `i` takes a PostgreSQL ledger from version `BASELINE + i` to
/// the next, as the SQLite migration of the same number does. Append only.
const MIGRATIONS: &[&str] = &[
    // Version 6: sites and shipments (see the SQLite migration).
    r#"
    ALTER TABLE event
        DROP CONSTRAINT event_kind_check,
        ADD CONSTRAINT event_kind_check CHECK (kind IN ('receive', 'thaw', 'prepare', 'dispense',
            'administer', 'destroy_containers', 'destroy_bag', 'return', 'count', 'correct',
            'register_user', 'check', 'sign_in_failed', 'disable_user', 'change_passphrase',
            'reset_passphrase', 'configure', 'plan', 'prepare_planned', 'cancel_bag',
            'set_site', 'ship')),
        DROP CONSTRAINT event_meaning_check,
        ADD CONSTRAINT event_meaning_check CHECK (meaning IS NULL OR meaning IN ('registered',
            'received', 'thawed', 'prepared', 'checked', 'dispensed', 'administered', 'destroyed',
            'returned', 'counted', 'corrected', 'disabled', 'reset', 'configured', 'planned',
            'cancelled', 'shipped')),
        ADD COLUMN site TEXT COLLATE "C" CHECK (site ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$'),
        ADD COLUMN workstation TEXT COLLATE "C"
            CHECK (workstation ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'),
        ADD CHECK ((site IS NULL) = (workstation IS NULL)),
        ADD CHECK (site IS NULL OR recorded_at IS NOT NULL);
    CREATE INDEX event_kind ON event (kind);
    ALTER TABLE container
        DROP CONSTRAINT container_state_check,
        ADD CONSTRAINT container_state_check CHECK (state IN ('in stock', 'thawed', 'destroyed',
            'returned', 'shipped'));
    INSERT INTO schema_start SELECT 6, coalesce(max(seq), 0) + 1 FROM event;
    "#,
];

/// Every SQLite migration has its PostgreSQL one before this builds.
const _: () = assert!(BASELINE + MIGRATIONS.len() as i64 == SCHEMA_VERSION);

/// Whether the login of `db` may migrate `table` and the tables beside it:
/// it owns them (or is a member of their owner). A writer, pusher or
/// sponsor login never does.
fn owns(db: &Postgres, table: &str) -> Result<bool> {
    let rows = db.query(
        "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
         AND tablename = ?1 AND pg_catalog.pg_has_role(current_user, tableowner, 'USAGE')",
        &[Param::Text(table)],
    )?;
    Ok(matches!(
        rows.first().map(|row| cell_value(row, 0)).transpose()?,
        Some(Value::Integer(1))
    ))
}

/// Bring the ledger `db` holds from `version` to [`SCHEMA_VERSION`], in the
/// transaction open on it.
fn migrate(db: &Postgres, version: i64) -> Result<()> {
    let applied = usize::try_from(version - BASELINE).unwrap_or(usize::MAX); // fallback-ok: a version below the baseline applies none and is refused by the caller
    for migration in MIGRATIONS.iter().skip(applied) {
        db.batch(migration)?;
    }
    db.execute(
        "UPDATE doseprep_ledger SET schema_version = ?1 WHERE id = 1",
        &[Param::Integer(SCHEMA_VERSION)],
    )?;
    Ok(())
}

/// The ledger's statements in PostgreSQL's words: `$1` for `?1`,
/// `->>` on the body for `json_extract`, `coalesce` for `ifnull`, and the
/// `user` table quoted (PostgreSQL reserves the word).
pub(crate) fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(start) = rest.find(['?', 'j', 'i', 'F', 'I', 'U', 'J']) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        if let Some(digits) = from.strip_prefix('?') {
            out.push('$');
            rest = digits;
        } else if let Some((replacement, after)) = json_extract(from) {
            out.push_str(&replacement);
            rest = after;
        } else if let Some(after) = from.strip_prefix("ifnull(") {
            out.push_str("coalesce(");
            rest = after;
        } else if let Some((keyword, after)) =
            ["FROM user", "INTO user", "UPDATE user", "JOIN user"]
                .iter()
                .find_map(|keyword| {
                    from.strip_prefix(keyword)
                        .filter(|after| {
                            !after.starts_with(|c: char| c == '_' || c.is_alphanumeric())
                        })
                        .map(|after| (keyword, after))
                })
        {
            out.push_str(keyword.trim_end_matches("user"));
            out.push_str("\"user\"");
            rest = after;
        } else {
            let mut chars = from.chars();
            if let Some(first) = chars.next() {
                out.push(first);
            }
            rest = chars.as_str();
        }
    }
    out.push_str(rest);
    out
}

/// `json_extract(COLUMN, '$.KEY')` at the start of `sql`, as PostgreSQL's
/// `(COLUMN::json ->> 'KEY')`, and the text after it.
fn json_extract(sql: &str) -> Option<(String, &str)> {
    let inner = sql.strip_prefix("json_extract(")?;
    let (column, after) = inner.split_once(", '$.")?;
    let (key, after) = after.split_once("')")?;
    // A top-level key only: a nested path ('$.a.b') is left as written, so
    // the server refuses the statement rather than read another key.
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    Some((format!("({column}::json ->> '{key}')"), after))
}

/// `url` with its password, if it has one, left out: it names the ledger
/// in messages.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len()); // fallback-ok: a URL without a path is all authority
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    // A password given as a parameter (`?password=...`) is left out too.
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.to_ascii_lowercase().starts_with("password="))
                .collect();
            if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            }
        }
        None => path.to_owned(),
    };
    format!("{scheme}://{authority}{path}")
}

/// Whether `location` names a PostgreSQL database rather than a file.
pub fn is_url(location: &str) -> bool {
    location.starts_with("postgresql://") || location.starts_with("postgres://")
}

impl Postgres {
    pub(crate) fn connect(url: &str) -> Result<Postgres> {
        let client = postgres::Client::connect(url, postgres::NoTls)
            .map_err(|error| LedgerError::from(error).in_file(&redacted(url)))?;
        Ok(Postgres {
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            in_transaction: std::cell::Cell::new(false),
        })
    }

    /// The prepared statement of `sql` (the ledger's dialect).
    fn statement(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.borrow_mut().prepare(&translate(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }

    pub(crate) fn query(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|param| param as &(dyn postgres::types::ToSql + Sync))
            .collect();
        Ok(self.client.borrow_mut().query(&statement, &params)?)
    }

    pub(crate) fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize> {
        let statement = self.statement(sql)?;
        let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
            .iter()
            .map(|param| param as &(dyn postgres::types::ToSql + Sync))
            .collect();
        let changed = self.client.borrow_mut().execute(&statement, &params)?;
        usize::try_from(changed)
            .map_err(|_| LedgerError::internal(format!("the server says {changed} rows changed")))
    }

    /// Statements without parameters, run as one.
    pub(crate) fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    /// The schema version the database holds, and whether it is a ledger
    /// at all: `None` for an empty database.
    fn marker(&self) -> Result<Option<(i64, i64)>> {
        let tables = self.query(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()",
            &[],
        )?;
        let count = tables.first().map(|row| cell_value(row, 0)).transpose()?;
        if matches!(count, Some(Value::Integer(0))) {
            return Ok(None);
        }
        let marked = self.query(
            "SELECT count(*) FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = 'doseprep_ledger'",
            &[],
        )?;
        let has_marker = marked.first().map(|row| cell_value(row, 0)).transpose()?;
        if !matches!(has_marker, Some(Value::Integer(1))) {
            return Ok(Some((0, 0)));
        }
        let rows = self.query(
            "SELECT application_id, schema_version FROM doseprep_ledger WHERE id = 1",
            &[],
        )?;
        let Some(row) = rows.first() else {
            return Ok(Some((0, 0)));
        };
        match (cell_value(row, 0)?, cell_value(row, 1)?) {
            (Value::Integer(application), Value::Integer(version)) => {
                Ok(Some((application, version)))
            }
            _ => Ok(Some((0, 0))),
        }
    }

    pub(crate) fn schema_version(&self) -> Result<i64> {
        Ok(self.marker()?.map_or(0, |(_, version)| version))
    }
}

/// A transaction under the lock ledgers and central ledgers are started and
/// migrated under. READ COMMITTED whatever the database's default, so each
/// statement after the lock is taken reads what the opening before it
/// committed (a REPEATABLE READ snapshot, taken as the lock's statement
/// began, would not).
const LOCKED_BEGIN: &str =
    "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1685090930)";

/// Open the ledger in the database at `url`; a database that is not one
/// (empty, or another program's) is refused untouched.
pub(crate) fn open(url: &str) -> Result<Postgres> {
    open_to(url, Access::Write)
}

/// Whether an opening may migrate the ledger.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Write,
    Read,
}

fn open_to(url: &str, access: Access) -> Result<Postgres> {
    let name = redacted(url);
    let db = Postgres::connect(url)?;
    match db.marker().map_err(|error| error.in_file(&name))? {
        Some((application, version)) if application == APPLICATION_ID => {
            if version > SCHEMA_VERSION {
                return Err(LedgerError::SchemaTooNew {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            // No doseprep made a PostgreSQL ledger before the baseline.
            if version < BASELINE {
                return Err(LedgerError::NotALedger { path: name });
            }
            if version < SCHEMA_VERSION {
                // Under the lock ledgers are started and migrated under, the
                // version again: one opening migrates, another waits, then
                // finds the work done (a reader or a non-owner is refused
                // only if it is still to do).
                let migrated = (|| {
                    db.batch(LOCKED_BEGIN)?;
                    match db.marker()? {
                        Some((_, now)) if now > SCHEMA_VERSION => {
                            return Err(LedgerError::SchemaTooNew {
                                found: now,
                                supported: SCHEMA_VERSION,
                            })
                        }
                        Some((_, now)) if now < SCHEMA_VERSION => match access {
                            Access::Read => {
                                return Err(LedgerError::SchemaTooOld {
                                    path: name.clone(),
                                    found: now,
                                    current: SCHEMA_VERSION,
                                })
                            }
                            Access::Write if !owns(&db, "event")? => {
                                return Err(LedgerError::MigrateAsOwner {
                                    path: name.clone(),
                                    found: now,
                                    current: SCHEMA_VERSION,
                                })
                            }
                            Access::Write => migrate(&db, now)?,
                        },
                        _ => {}
                    }
                    db.batch("COMMIT")
                })();
                if let Err(error) = migrated {
                    let _ = db.batch("ROLLBACK"); // fallback-ok: the failure that stopped it is returned
                    return Err(error.in_file(&name));
                }
            }
            Ok(db)
        }
        Some(_) => Err(LedgerError::NotALedger { path: name }),
        None => Err(LedgerError::NoSuchLedger { path: name }),
    }
}

/// [`open`], every transaction of the connection read-only.
pub(crate) fn open_read_only(url: &str) -> Result<Postgres> {
    let db = open_to(url, Access::Read)?;
    db.batch("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
        .map_err(|error| error.in_file(&redacted(url)))?;
    Ok(db)
}

/// Start a new ledger in the empty database at `url`.
pub(crate) fn create(url: &str) -> Result<Postgres> {
    create_in(url, |db| {
        // The tables' owner may switch the triggers off and rewrite
        // events whatever the grants: never a login that records.
        let member = db.query(
            "SELECT current_user::text, r.rolname::text FROM pg_catalog.pg_auth_members m \
                 JOIN pg_catalog.pg_roles r ON r.oid = m.roleid \
                 WHERE r.rolname IN ('doseprep_writer', 'doseprep_auditor', 'doseprep_monitor') \
                 AND m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user) \
                 ORDER BY r.rolname",
            &[],
        )?;
        if let Some(row) = member.first() {
            if let (Value::Text(login), Value::Text(role)) =
                (cell_value(row, 0)?, cell_value(row, 1)?)
            {
                return Err(LedgerError::OwnerInRole {
                    login: login.to_owned(),
                    role: role.to_owned(),
                });
            }
        }
        db.batch(SCHEMA)?;
        db.execute(
            "INSERT INTO doseprep_ledger (id, application_id, schema_version) VALUES (1, ?1, ?2)",
            &[Param::Integer(APPLICATION_ID), Param::Integer(BASELINE)],
        )?;
        migrate(db, BASELINE)
    })
}

/// Connect to the empty database at `url` and `make` what it is to hold, in
/// one transaction: all of it, or nothing.
fn create_in(url: &str, make: impl FnOnce(&Postgres) -> Result<()>) -> Result<Postgres> {
    let name = redacted(url);
    let db = Postgres::connect(url)?;
    let made = (|| {
        // One ledger (or central ledger) started at a time on the server:
        // the roles and the database's TEMP grant are the server's, and two
        // made at once collide ("tuple concurrently updated").
        db.batch(LOCKED_BEGIN)?;
        if db.marker()?.is_some() {
            return Err(LedgerError::LedgerExists { path: name.clone() });
        }
        make(&db)?;
        db.batch("COMMIT")
    })();
    if let Err(error) = made {
        let _ = db.batch("ROLLBACK"); // fallback-ok: the failure that stopped it is returned
        return Err(error.in_file(&name));
    }
    Ok(db)
}

/// Open the central ledger in the database at `url`.
pub(crate) fn open_central(url: &str) -> Result<Postgres> {
    let name = redacted(url);
    let db = Postgres::connect(url)?;
    let found = db
        .query(
            "SELECT count(*) FROM pg_catalog.pg_tables \
             WHERE schemaname = current_schema() AND tablename = 'doseprep_central'",
            &[],
        )
        .map_err(|error| error.in_file(&name))?;
    let marked = found.first().map(|row| cell_value(row, 0)).transpose()?;
    if !matches!(marked, Some(Value::Integer(1))) {
        return Err(LedgerError::NoCentral { path: name });
    }
    let rows = db.query(
        "SELECT application_id, schema_version FROM doseprep_central WHERE id = 1",
        &[],
    )?;
    let version = match rows.first() {
        Some(row) => match (cell_value(row, 0)?, cell_value(row, 1)?) {
            (Value::Integer(APPLICATION_ID), Value::Integer(version)) => Some(version),
            _ => None,
        },
        None => None,
    };
    match version {
        Some(CENTRAL_VERSION) => Ok(db),
        Some(found) if found > CENTRAL_VERSION => Err(LedgerError::SchemaTooNew {
            found,
            supported: CENTRAL_VERSION,
        }),
        Some(found) if found >= 1 => {
            // Under the lock central ledgers are started and migrated
            // under, the version again: one opening migrates, another
            // waits, then finds the work done (a non-owner is refused only
            // if it is still to do).
            let migrated = (|| {
                db.batch(LOCKED_BEGIN)?;
                let now = db.query(
                    "SELECT schema_version FROM doseprep_central WHERE id = 1",
                    &[],
                )?;
                if let Some(Value::Integer(now)) =
                    now.first().map(|row| cell_value(row, 0)).transpose()?
                {
                    if now > CENTRAL_VERSION {
                        return Err(LedgerError::SchemaTooNew {
                            found: now,
                            supported: CENTRAL_VERSION,
                        });
                    }
                    if now < CENTRAL_VERSION {
                        if !owns(&db, "site_event")? {
                            return Err(LedgerError::MigrateAsOwner {
                                path: name.clone(),
                                found: now,
                                current: CENTRAL_VERSION,
                            });
                        }
                        migrate_central(&db, now)?;
                    }
                }
                db.batch("COMMIT")
            })();
            if let Err(error) = migrated {
                let _ = db.batch("ROLLBACK"); // fallback-ok: the failure that stopped it is returned
                return Err(error.in_file(&name));
            }
            Ok(db)
        }
        _ => Err(LedgerError::NoCentral { path: name }),
    }
}

/// Start the central ledger in the empty database at `url`.
pub(crate) fn create_central(url: &str) -> Result<()> {
    create_in(url, |db| {
        db.batch(CENTRAL_SCHEMA)?;
        db.execute(
            "INSERT INTO doseprep_central (id, application_id, schema_version) VALUES (1, ?1, 1)",
            &[Param::Integer(APPLICATION_ID)],
        )?;
        migrate_central(db, 1)
    })
    .map(drop)
}

/// Cell `index` of `row` as the ledger reads cells.
pub(crate) fn cell_value(row: &postgres::Row, index: usize) -> Result<Value<'_>> {
    let Raw(raw, ty) = row.try_get::<_, Raw<'_>>(index)?;
    let Some(bytes) = raw else {
        return Ok(Value::Null);
    };
    let integer = |bytes: &[u8]| -> Option<i64> {
        match bytes.len() {
            8 => <[u8; 8]>::try_from(bytes).ok().map(i64::from_be_bytes),
            4 => <[u8; 4]>::try_from(bytes)
                .ok()
                .map(|b| i64::from(i32::from_be_bytes(b))),
            2 => <[u8; 2]>::try_from(bytes)
                .ok()
                .map(|b| i64::from(i16::from_be_bytes(b))),
            _ => None,
        }
    };
    let value = if [Type::INT8, Type::INT4, Type::INT2].contains(&ty) {
        integer(bytes).map(Value::Integer)
    } else if ty == Type::BOOL {
        bytes
            .first()
            .map(|&byte| Value::Integer(i64::from(byte != 0)))
    } else if [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::JSON,
    ]
    .contains(&ty)
    {
        std::str::from_utf8(bytes).ok().map(Value::Text)
    } else {
        Some(Value::Other(ty.name().to_owned()))
    };
    value.ok_or_else(|| {
        LedgerError::internal(format!(
            "column {index} of type {} does not read as its type",
            ty.name()
        ))
    })
}

/// A cell as the server sent it, and its type.
struct Raw<'a>(Option<&'a [u8]>, Type);

impl<'a> postgres::types::FromSql<'a> for Raw<'a> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Raw<'a>, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw), ty.clone()))
    }

    fn from_sql_null(
        ty: &Type,
    ) -> std::result::Result<Raw<'a>, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None, ty.clone()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl postgres::types::ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Param::Null => Ok(IsNull::Yes),
            Param::Integer(number) => integer_to_sql(number, ty, out),
            Param::Unsigned(number) => integer_to_sql(i64::try_from(number)?, ty, out),
            Param::Text(text) => {
                if [Type::INT8, Type::INT4, Type::INT2].contains(ty) {
                    return Err(
                        format!("text ({text:?}) where the server expects {}", ty.name()).into(),
                    );
                }
                // The text's bytes are its wire form (json's too).
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::JSON,
            Type::UNKNOWN,
        ]
        .contains(ty)
    }

    postgres::types::to_sql_checked!();
}

fn integer_to_sql(
    number: i64,
    ty: &Type,
    out: &mut bytes::BytesMut,
) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    if *ty == Type::INT4 {
        out.extend_from_slice(&i32::try_from(number)?.to_be_bytes());
    } else if *ty == Type::INT2 {
        out.extend_from_slice(&i16::try_from(number)?.to_be_bytes());
    } else if *ty == Type::INT8 {
        out.extend_from_slice(&number.to_be_bytes());
    } else {
        return Err(format!(
            "an integer ({number}) where the server expects {}",
            ty.name()
        )
        .into());
    }
    Ok(IsNull::No)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_translated_into_postgresqls_words() {
        assert_eq!(
            translate(
                "SELECT seq FROM event WHERE json_extract(body, '$.lot_id') = ?1 AND seq > ?12"
            ),
            "SELECT seq FROM event WHERE (body::json ->> 'lot_id') = $1 AND seq > $12"
        );
        assert_eq!(
            translate("SELECT ifnull(din, '-') FROM user JOIN user_x ON 1 WHERE EXISTS (SELECT 1 FROM user)"),
            "SELECT coalesce(din, '-') FROM \"user\" JOIN user_x ON 1 WHERE EXISTS (SELECT 1 FROM \"user\")"
        );
        assert_eq!(
            translate("INSERT INTO user (user_id) VALUES (?1)"),
            "INSERT INTO \"user\" (user_id) VALUES ($1)"
        );
        assert_eq!(
            translate("UPDATE user SET disabled_seq = ?1"),
            "UPDATE \"user\" SET disabled_seq = $1"
        );
        // A nested path is left as written: the server refuses it.
        assert_eq!(
            translate("SELECT json_extract(body, '$.record.order') FROM event"),
            "SELECT json_extract(body, '$.record.order') FROM event"
        );
    }

    #[test]
    fn a_password_is_left_out_of_the_url_named() {
        assert_eq!(
            redacted("postgresql://mh:secret@db.local:5432/care_ssc"),
            "postgresql://mh@db.local:5432/care_ssc"
        );
        assert_eq!(
            redacted("postgresql://mh@/care_ssc?host=/run/postgresql&password=secret"),
            "postgresql://mh@/care_ssc?host=/run/postgresql"
        );
        assert_eq!(
            redacted("postgres://db.local/care_ssc?PASSWORD=secret"),
            "postgres://db.local/care_ssc"
        );
        assert_eq!(
            redacted("postgresql://mh@db.local"),
            "postgresql://mh@db.local"
        );
    }
}
