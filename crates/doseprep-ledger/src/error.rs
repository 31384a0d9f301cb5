//! What the ledger refuses, and why: each error names the event, the item
//! and the fix, and has a stable code a script can match.

use doseprep::{DoseError, ErrorParts};

/// Which time of an event is out of order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// When the event happened.
    At,
    /// When an infusion started.
    StartedAt,
}

impl TimeField {
    /// The argument's name.
    pub fn name(self) -> &'static str {
        match self {
            TimeField::At => "at",
            TimeField::StartedAt => "started_at",
        }
    }
}

/// Which step of a planned bag a [`LedgerError::ThawedBeforePlan`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanStep {
    /// Its plan (`record_day`).
    Plan,
    /// Its preparation (`prepare_planned`).
    PreparePlanned,
}

impl PlanStep {
    /// The event's name, as messages give it.
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStep::Plan => "plan",
            PlanStep::PreparePlanned => "prepare_planned",
        }
    }
}

/// Which record of a bag a refusal of its record, draws or id is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BagRecord {
    /// A bag made at once (`prepare`).
    Prepare,
    /// A bag planned (`record_day`'s `plan`).
    Plan,
}

impl BagRecord {
    /// The event's name, as messages give it.
    pub fn as_str(self) -> &'static str {
        match self {
            BagRecord::Prepare => "prepare",
            BagRecord::Plan => "plan",
        }
    }
}

/// A refused event or an unusable ledger file. Each variant's message and
/// fix are written once, in one match; the message and the parts a script
/// reads are rendered from them.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LedgerError {
    /// A lot that was never received.
    UnknownLot {
        /// The event refused.
        event: &'static str,
        /// The lot named.
        lot_id: String,
    },
    /// A receipt number that is not one of the lot's receipts.
    UnknownReceipt {
        /// The lot.
        lot_id: String,
        /// The event number given.
        receipt: i64,
        /// The lot's receipts, e.g. "1, 7".
        receipts: String,
    },
    /// A shipment of a lot received before whose containers differ from the
    /// first receipt's: it is another lot, or the lot file is wrong.
    ReceiptDiffers {
        /// The lot.
        lot_id: String,
        /// The event that first received it.
        seq: i64,
        /// What the first receipt recorded, e.g. "10 mL containers yielding 10 mL".
        recorded: String,
        /// What this shipment gives.
        given: String,
    },
    /// A container number the lot does not have.
    UnknownContainer {
        /// The event refused.
        event: &'static str,
        /// The lot.
        lot_id: String,
        /// The number given.
        container: u32,
        /// How many the lot has.
        containers: u32,
    },
    /// A container in the wrong state for the event (thawed twice, used
    /// after it was destroyed, ...).
    ContainerState {
        /// The event refused.
        event: &'static str,
        /// The lot.
        lot_id: String,
        /// The container.
        container: u32,
        /// Its state: "in stock", "thawed", "destroyed" or "returned".
        state: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A draw beyond what a container yields.
    OverDrawn {
        /// The event refused.
        event: BagRecord,
        /// The lot.
        lot_id: String,
        /// The container.
        container: u32,
        /// This draw, mL.
        volume_ml: String,
        /// All draws from it with this one, mL.
        total_ml: String,
        /// What it yields, mL.
        yield_ml: String,
    },
    /// A bag the ledger does not know.
    UnknownBag {
        /// The event refused.
        event: &'static str,
        /// The bag id.
        bag_id: String,
    },
    /// A draw from a container thawed at another time than the bag's cells.
    ThawTimeDiffers {
        /// The bag id.
        bag_id: String,
        /// The lot.
        lot_id: String,
        /// The container.
        container: u32,
        /// When the ledger says it was thawed.
        container_thawed_at: String,
        /// When the bag's record says.
        bag_thawed_at: String,
    },
    /// A planned bag's container thawed before the plan's thaw time, which
    /// its label's infuse-by time counts from: the label would allow
    /// longer than the cells have.
    ThawedBeforePlan {
        /// The event refused.
        event: PlanStep,
        /// The bag id.
        bag_id: String,
        /// The lot.
        lot_id: String,
        /// The container.
        container: u32,
        /// When the ledger says it was thawed.
        container_thawed_at: String,
        /// When the bag's plan says.
        bag_thawed_at: String,
    },
    /// Draws given by hand that disagree with the bag's record.
    DrawsDisagree {
        /// The event refused.
        event: BagRecord,
        /// The bag id.
        bag_id: String,
        /// How they disagree.
        reason: String,
    },
    /// A DIN another bag carries.
    DinInUse {
        /// The event refused.
        event: BagRecord,
        /// The bag id.
        bag_id: String,
        /// The DIN.
        din: String,
        /// The bag that has it.
        other: String,
    },
    /// An infusion that ran shorter than the site's shortest infusion for
    /// its bag, recorded without a reason.
    ShortInfusion {
        /// The bag id.
        bag_id: String,
        /// How long it ran, e.g. "12 min".
        ran: String,
        /// The shortest without a reason, from the bag's record.
        shortest: String,
        /// The infusion the bag was planned for.
        planned: String,
    },
    /// A short-infusion reason for an infusion that was not short.
    ShortReasonNotNeeded {
        /// The bag id.
        bag_id: String,
        /// How long it ran.
        ran: String,
        /// The shortest without a reason, where the bag's record gives one.
        shortest: Option<String>,
    },
    /// An override reason for an infusion that was on time.
    OverrideNotNeeded {
        /// The bag id.
        bag_id: String,
        /// When the infusion ended.
        ended_at: String,
        /// The bag's infuse-by time.
        infuse_by: String,
    },
    /// A lot received with more containers than a lot has.
    TooManyContainers {
        /// The lot.
        lot_id: String,
        /// The count given.
        containers: u32,
        /// The most allowed.
        max: u32,
    },
    /// A bag recorded twice.
    BagAlreadyRecorded {
        /// The event refused.
        event: BagRecord,
        /// The bag id.
        bag_id: String,
        /// The event that recorded it.
        seq: i64,
    },
    /// A second bag for a participant's visit while the first stands.
    VisitAlreadyPrepared {
        /// The event refused.
        event: BagRecord,
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// The bag already recorded.
        existing: String,
        /// The event that recorded it.
        seq: i64,
    },
    /// A preparation without a bag id.
    NoBagId {
        /// The event refused.
        event: BagRecord,
        /// The participant.
        participant: String,
    },
    /// An active bag without the containers it was drawn from.
    NoDraws {
        /// The event refused.
        event: BagRecord,
        /// The bag id.
        bag_id: String,
    },
    /// A placebo bag with draws.
    PlaceboDraws {
        /// The event refused.
        event: BagRecord,
        /// The bag id.
        bag_id: String,
    },
    /// A bag in the wrong state for the event (administered twice, ...).
    BagState {
        /// The event refused.
        event: &'static str,
        /// The bag id.
        bag_id: String,
        /// Its state.
        state: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A bag given to another participant than its own.
    WrongParticipant {
        /// The bag id.
        bag_id: String,
        /// Whose bag it is.
        for_participant: String,
        /// Who was named.
        participant: String,
    },
    /// A bag made after its infuse-by time: its label has expired before
    /// it is made.
    MadePastInfuseBy {
        /// The event refused: "prepare" or "prepare_planned".
        event: &'static str,
        /// The bag id.
        bag_id: String,
        /// When it was made, on the site's clock.
        at: String,
        /// The bag's infuse-by time, on the site's clock.
        infuse_by: String,
    },
    /// An infusion that ended after the bag's infuse-by time.
    PastInfuseBy {
        /// The bag id.
        bag_id: String,
        /// When the infusion ended.
        ended_at: String,
        /// The bag's infuse-by time.
        infuse_by: String,
    },
    /// An event dated before an earlier event of its bag or container (a
    /// dispense before the preparation, a thaw before the receipt).
    OutOfTimeOrder {
        /// The event refused and its bag or container, e.g. "thaw of
        /// container 3 of lot \"UC-0042\"".
        subject: String,
        /// The time out of order.
        field: TimeField,
        /// Its time, on the site's wall clock.
        at: String,
        /// The earlier event, e.g. "its prepare (event 5)".
        earlier: String,
        /// That event's time, on the site's wall clock.
        earlier_at: String,
    },
    /// A correction that may not be recorded.
    CannotCorrect {
        /// The event to correct.
        seq: i64,
        /// The argument at fault: "seq", "corrected_at", "to" or "at".
        field: &'static str,
        /// Why not.
        why: String,
        /// What to do.
        fix: &'static str,
    },
    /// An infusion that ends before it starts.
    EndsBeforeStart {
        /// Start.
        started_at: String,
        /// End.
        ended_at: String,
    },
    /// Initials that are not initials.
    Initials {
        /// What was given.
        initials: String,
    },
    /// A text field that is empty or too long.
    Text {
        /// The field.
        field: &'static str,
        /// What was given (shortened).
        value: String,
        /// The longest allowed.
        max: usize,
        /// What to do.
        fix: &'static str,
    },
    /// An event listing no container.
    NoContainers {
        /// The event refused.
        event: &'static str,
    },
    /// A container listed twice in one event.
    DuplicateContainer {
        /// The event refused.
        event: &'static str,
        /// The lot.
        lot_id: String,
        /// The container.
        container: u32,
    },
    /// A day plan that uses more containers than the ledger has in stock.
    PlanExceedsStock {
        /// The lot.
        lot_id: String,
        /// Containers the plan thaws.
        planned: usize,
        /// Containers in stock.
        in_stock: usize,
    },
    /// A preparation record that does not verify.
    RecordDoesNotVerify {
        /// The bag id.
        bag_id: String,
        /// The fields that differ.
        differences: String,
    },
    /// A file written by a newer doseprep.
    SchemaTooNew {
        /// The file's version.
        found: i64,
        /// The newest this build reads.
        supported: i64,
    },
    /// A ledger opened to read only whose schema is older than this
    /// build's: migrating it would write.
    SchemaTooOld {
        /// The file.
        path: String,
        /// The file's version.
        found: i64,
        /// The version this build writes.
        current: i64,
    },
    /// A free text holding a control character other than a line break or
    /// a tab.
    ControlCharacter {
        /// The text's field (comment, reason, ...).
        field: &'static str,
        /// The text (its first 40 characters).
        value: String,
        /// The character's code point.
        character: u32,
    },
    /// The login that starts a ledger on PostgreSQL is a member of one of
    /// the ledger's roles: the tables' owner may change them whatever the
    /// grants say.
    OwnerInRole {
        /// The login.
        login: String,
        /// The role it is a member of.
        role: String,
    },
    /// A PostgreSQL database that holds no central ledger.
    NoCentral {
        /// The database's URL, its password left out.
        path: String,
    },
    /// A site name the central ledger does not take.
    SiteName {
        /// The name given (its first 40 characters).
        site: String,
        /// The longest name, in characters.
        max: usize,
    },
    /// An event written to a ledger that has a site, without the
    /// workstation writing it.
    NoWorkstation {
        /// The event.
        event: &'static str,
        /// The ledger's site.
        site: String,
    },
    /// A workstation given to a ledger that has no site: it would not be
    /// recorded.
    WorkstationWithoutSite {
        /// The workstation given.
        workstation: String,
    },
    /// A workstation name the ledger does not take.
    WorkstationName {
        /// The name given (its first 40 characters).
        workstation: String,
        /// The longest name, in characters.
        max: usize,
    },
    /// A shipment recorded in a ledger that has no site.
    NoSite {
        /// The event.
        event: &'static str,
    },
    /// A ledger's site set a second time.
    SiteAlreadySet {
        /// The ledger's site.
        site: String,
        /// The event that set it.
        seq: i64,
    },
    /// A shipment to or from the ledger's own site.
    SameSite {
        /// The event.
        event: &'static str,
        /// The site named, the ledger's own.
        site: String,
    },
    /// A receipt from a shipment whose container list is not one number
    /// for each container received.
    ShipmentContainers {
        /// The lot.
        lot_id: String,
        /// Containers the shipment lists.
        listed: usize,
        /// Containers the receipt brings.
        received: u32,
    },
    /// A ledger (or central ledger) on a server, of an older schema, opened
    /// by a login that does not own its tables and so cannot migrate it.
    MigrateAsOwner {
        /// The database's URL, its password left out.
        path: String,
        /// Its schema version.
        found: i64,
        /// The version this build writes.
        current: i64,
    },
    /// A container of a shipment received a second time.
    ShipmentReceived {
        /// The sending site.
        from_site: String,
        /// Its ship event.
        seq: i64,
        /// The sending site's number of the container.
        container: u32,
        /// The receipt that received it.
        receipt: i64,
    },
    /// A receipt's list of the sending site's container numbers naming one
    /// twice.
    ShippedContainerTwice {
        /// The sending site.
        from_site: String,
        /// The sending site's number of the container.
        container: u32,
    },
    /// A receipt naming a shipment event number below 1.
    ShipmentEvent {
        /// The number given.
        seq: i64,
    },
    /// A push by a login the central ledger does not name for the site.
    PusherNotForSite {
        /// The login.
        login: String,
        /// The site.
        site: String,
    },
    /// A ledger pushed as another site than its own.
    PushSiteDiffers {
        /// The site given to push as.
        site: String,
        /// The ledger's own site.
        ledger_site: String,
    },
    /// The central ledger holds events of the site that are not this
    /// ledger's: another ledger pushed as the site, or this one was cut
    /// short or rewritten. Nothing was pushed.
    PushRefused {
        /// The site.
        site: String,
        /// The first event that disagrees.
        seq: i64,
        /// How it disagrees.
        reason: String,
    },
    /// No ledger file at the path: opening never creates one.
    NoSuchLedger {
        /// The path given.
        path: String,
    },
    /// A file already at the path a new ledger was to be created at.
    LedgerExists {
        /// The path given.
        path: String,
    },
    /// A new ledger that cannot be created where it was asked for.
    CannotCreate {
        /// The path given.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// A preparation record stored in the ledger that cannot be read, or no
    /// longer recomputes: nothing is printed or exported from it.
    StoredRecord {
        /// The bag.
        bag_id: String,
        /// The event that stored it.
        seq: i64,
        /// What is wrong with it.
        problem: String,
    },
    /// An event dated after the moment it is written.
    FutureDated {
        /// The event refused.
        event: &'static str,
        /// The time it gives, on the site's clock.
        at: String,
        /// When it is written, on the same clock.
        written: String,
        /// The room for workstation clocks, in minutes.
        tolerance_min: i64,
    },
    /// An event written later than the ledger's late-entry limit after the
    /// time it gives, without a reason.
    LateEntry {
        /// The event refused.
        event: &'static str,
        /// The time it gives, on the site's clock.
        at: String,
        /// When it is written, on the same clock.
        written: String,
        /// The limit, minutes.
        limit_min: u32,
    },
    /// A late reason given for an event written within the limit (or in a
    /// ledger with none).
    LateReasonNotNeeded {
        /// The event refused.
        event: &'static str,
        /// The time it gives, on the site's clock.
        at: String,
        /// When it is written, on the same clock.
        written: String,
        /// The limit, minutes, where one is set.
        limit_min: Option<u32>,
    },
    /// A late-entry limit out of range.
    LateEntryLimit {
        /// The limit given, minutes.
        minutes: i64,
        /// The longest, minutes.
        max: u32,
    },
    /// A role that is not one of the five.
    UnknownRole {
        /// The role given.
        role: String,
    },
    /// A user id that is not 1 to 32 lowercase letters, digits, '.', '-' or '_'.
    UserId {
        /// The id given.
        user_id: String,
        /// The longest id.
        max: usize,
    },
    /// A passphrase too short or too long to set.
    PassphraseLength {
        /// Its length, in characters (the passphrase itself is never shown).
        length: usize,
        /// The fewest.
        min: usize,
        /// The most.
        max: usize,
    },
    /// A user id registered already.
    UserExists {
        /// The id.
        user_id: String,
        /// The event that registered it.
        seq: i64,
    },
    /// A signature, or a check, in a ledger where no user is registered yet.
    NoUsers {
        /// The event refused.
        event: &'static str,
    },
    /// The first user registered is not an administrator.
    FirstUserNotAdministrator {
        /// The role given.
        role: String,
    },
    /// An event given with initials in a ledger whose events are signed.
    SignatureRequired {
        /// The event refused.
        event: &'static str,
        /// What its signature would mean.
        meaning: &'static str,
    },
    /// A signing with no user signed in.
    NotSignedIn {
        /// The event refused.
        event: &'static str,
    },
    /// An unknown user id or a wrong passphrase (which, is not said).
    SignInFailed {
        /// The user id given.
        user_id: String,
        /// The event that recorded the failure (none on a ledger opened to read only).
        seq: Option<i64>,
    },
    /// A user whose passphrase an administrator set (at registration or a
    /// reset, event `seq`) signs in or signs before changing it.
    PassphraseNotChanged {
        /// The user.
        user_id: String,
        /// The administrator who set it.
        set_by: String,
        /// The event that set it.
        seq: i64,
    },
    /// A passphrase changed to itself.
    PassphraseUnchanged {
        /// The user.
        user_id: String,
    },
    /// A user disabled at event `seq`, who signs nothing after it.
    UserDisabled {
        /// The user.
        user_id: String,
        /// The event that disabled them.
        seq: i64,
    },
    /// An administrator disabling themselves.
    DisableSelf {
        /// The administrator.
        user_id: String,
    },
    /// A signer the registry does not hold.
    UnknownUser {
        /// The id.
        user_id: String,
    },
    /// A signer whose role may not sign this meaning.
    RoleMayNotSign {
        /// The signer.
        user_id: String,
        /// Their role.
        role: &'static str,
        /// What the signature would mean.
        meaning: &'static str,
        /// What the role signs, e.g. "checked".
        signs: String,
    },
    /// A check signed by the user who prepared the bag.
    SameChecker {
        /// The bag.
        bag_id: String,
        /// The user who prepared it and tried to check it.
        user_id: String,
    },
    /// An SQLite file that is not a ledger.
    NotALedger {
        /// The file.
        path: String,
    },
    /// A ledger whose stored events do not check out (found by verify, or
    /// when a write finds the chain's head missing).
    Tampered(String),
    /// SQLite failed (disk full, file locked past the busy timeout, a
    /// corrupt file, ...), or a write could not be made: a fault of the
    /// system, not of the input.
    Database {
        /// Which fault, from SQLite's code where SQLite gave one.
        fault: DatabaseFault,
        /// SQLite's message, or what could not be written.
        detail: String,
        /// SQLite's primary and extended codes, where SQLite failed.
        sqlite: Option<rusqlite::ffi::Error>,
        /// The ledger's file, once known (SQLite's own message never
        /// names it).
        file: Option<String>,
    },
    /// A core error (a time, a bag id).
    Dose(DoseError),
}

/// What kind of database fault, so that a script can tell a busy ledger
/// (try again) from a full disk or a corrupt file (call for help).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseFault {
    /// Another writer held the file past the busy timeout.
    Busy,
    /// The disk or the database is full.
    Full,
    /// The file is damaged (or truncated).
    Corrupt,
    /// The file or its folder cannot be written.
    ReadOnly,
    /// The server's roles do not let this login do it (PostgreSQL).
    Permission,
    /// The file cannot be opened.
    CannotOpen,
    /// The file's disk cannot keep a write-ahead log (a network drive).
    JournalMode,
    /// Any other failure.
    Other,
}

impl DatabaseFault {
    /// The stable code, e.g. "database_busy".
    pub fn as_str(self) -> &'static str {
        match self {
            DatabaseFault::Busy => "database_busy",
            DatabaseFault::Full => "database_full",
            DatabaseFault::Corrupt => "database_corrupt",
            DatabaseFault::ReadOnly => "database_read_only",
            DatabaseFault::Permission => "database_permission",
            DatabaseFault::CannotOpen => "database_cannot_open",
            DatabaseFault::JournalMode => "database_journal_mode",
            DatabaseFault::Other => "database",
        }
    }

    /// What to do about it.
    pub fn fix(self) -> &'static str {
        match self {
            DatabaseFault::Busy => {
                "another workstation is writing to the ledger; try again in a moment"
            }
            DatabaseFault::Full => "free space on the ledger's disk, then try again",
            DatabaseFault::Corrupt => {
                "the file is damaged: stop using it, keep it for review, and restore the last copy"
            }
            DatabaseFault::ReadOnly => {
                "the ledger file or its folder cannot be written, or it was opened to read only; check its permissions, or open it for writing"
            }
            DatabaseFault::CannotOpen => "check the path and the permissions of its folder",
            DatabaseFault::Permission => {
                "this login's roles do not allow it: ask the server's administrator"
            }
            DatabaseFault::JournalMode => {
                "put the ledger on a local disk (SQLite's own advice: never on a network drive)"
            }
            DatabaseFault::Other => "keep the file and report this",
        }
    }

    /// What to do about it, for a ledger on a PostgreSQL server.
    pub fn fix_on_server(self) -> &'static str {
        match self {
            DatabaseFault::Busy => {
                "another workstation is writing to the ledger; try again in a moment"
            }
            DatabaseFault::Full => {
                "the server's disk or memory is full: tell its administrator, then try again"
            }
            DatabaseFault::Corrupt => {
                "the server reports damaged data: stop using the ledger and tell its administrator"
            }
            DatabaseFault::ReadOnly => {
                "the connection was opened to read only; open it for writing"
            }
            DatabaseFault::Permission => {
                "this login's roles do not allow it (a writer is a member of doseprep_writer, an auditor of doseprep_auditor): ask the server's administrator"
            }
            DatabaseFault::CannotOpen => {
                "check the URL (host, port or socket folder, database) and that the server is running"
            }
            DatabaseFault::JournalMode | DatabaseFault::Other => {
                "keep the ledger as it is and report this"
            }
        }
    }

    fn of(code: rusqlite::ErrorCode) -> DatabaseFault {
        use rusqlite::ErrorCode;
        match code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => DatabaseFault::Busy,
            ErrorCode::DiskFull => DatabaseFault::Full,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => DatabaseFault::Corrupt,
            ErrorCode::ReadOnly => DatabaseFault::ReadOnly,
            ErrorCode::CannotOpen => DatabaseFault::CannotOpen,
            _ => DatabaseFault::Other,
        }
    }
}

impl From<rusqlite::Error> for LedgerError {
    fn from(error: rusqlite::Error) -> Self {
        let sqlite = error.sqlite_error().copied();
        LedgerError::Database {
            fault: sqlite.map_or(DatabaseFault::Other, |e| DatabaseFault::of(e.code)),
            detail: error.to_string(),
            sqlite,
            file: None,
        }
    }
}

impl From<postgres::Error> for LedgerError {
    fn from(error: postgres::Error) -> Self {
        use postgres::error::SqlState;
        let fault = match error.code() {
            Some(code)
                if [
                    SqlState::T_R_SERIALIZATION_FAILURE,
                    SqlState::T_R_DEADLOCK_DETECTED,
                    SqlState::LOCK_NOT_AVAILABLE,
                    SqlState::QUERY_CANCELED,
                ]
                .contains(code) =>
            {
                DatabaseFault::Busy
            }
            Some(code) if [SqlState::DISK_FULL, SqlState::OUT_OF_MEMORY].contains(code) => {
                DatabaseFault::Full
            }
            Some(code) if [SqlState::DATA_CORRUPTED, SqlState::INDEX_CORRUPTED].contains(code) => {
                DatabaseFault::Corrupt
            }
            Some(code) if *code == SqlState::READ_ONLY_SQL_TRANSACTION => DatabaseFault::ReadOnly,
            Some(code) if *code == SqlState::INSUFFICIENT_PRIVILEGE => DatabaseFault::Permission,
            Some(code) if code.code().starts_with("08") => DatabaseFault::CannotOpen,
            Some(_) => DatabaseFault::Other,
            // No SQLSTATE: the server could not be reached or the connection broke.
            None => DatabaseFault::CannotOpen,
        };
        // The server's own words where it sent any (the error's Display
        // says only "db error"), else the client's, with their causes.
        let detail = match error.as_db_error() {
            Some(server) => {
                let mut detail =
                    format!("PostgreSQL {}: {}", server.code().code(), server.message());
                if let Some(more) = server.detail() {
                    detail.push_str(&format!(" ({more})"));
                }
                detail
            }
            None => {
                let mut detail = format!("PostgreSQL: {error}");
                let mut source = std::error::Error::source(&error);
                while let Some(cause) = source {
                    detail.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                detail
            }
        };
        LedgerError::Database {
            fault,
            detail,
            sqlite: None,
            file: None,
        }
    }
}

/// A result of the ledger.
pub type Result<T> = std::result::Result<T, LedgerError>;

impl std::fmt::Display for LedgerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A core error reads as the core wrote it.
            LedgerError::Dose(error) => error.fmt(f),
            _ => {
                let (what, fix) = self.said();
                write!(f, "{what}; {fix}")
            }
        }
    }
}

impl std::error::Error for LedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LedgerError::Dose(error) => Some(error),
            LedgerError::Database {
                sqlite: Some(error),
                ..
            } => Some(error),
            _ => None,
        }
    }
}

impl From<DoseError> for LedgerError {
    fn from(error: DoseError) -> LedgerError {
        LedgerError::Dose(error)
    }
}

impl LedgerError {
    /// What is wrong and what to do, each written once per variant: the
    /// message is "what; fix", and `parts().fix` is that fix.
    fn said(&self) -> (String, String) {
        match self {
            LedgerError::UnknownLot { event, lot_id } => (format!("{event}: lot {lot_id:?} is not in the ledger"), "record its receipt first (receive)".to_owned()),
            LedgerError::UnknownReceipt { lot_id, receipt, receipts } => (format!("{lot_id:?} has no receipt at event {receipt} (its receipts are events {receipts})"), "give one of those events".to_owned()),
            LedgerError::ReceiptDiffers { lot_id, seq, recorded, given } => (format!("receive: lot {lot_id:?} was received at event {seq} with {recorded}, this shipment has {given}; a later shipment of the same lot has the same containers and expiry"), "if it is another lot, receive it under its own lot id".to_owned()),
            LedgerError::UnknownContainer { event, lot_id, container, containers } => (format!("{event}: lot {lot_id:?} has containers 1 to {containers}; there is no container {container}"), "use the number on the container".to_owned()),
            LedgerError::ContainerState { event, lot_id, container, state, fix } => (format!("{event}: container {container} of lot {lot_id:?} is {state}"), fix.to_string()),
            LedgerError::OverDrawn { event, lot_id, container, volume_ml, total_ml, yield_ml } => (format!("{}: drawing {volume_ml} mL from container {container} of lot {lot_id:?} would take {total_ml} mL of the {yield_ml} mL it yields", event.as_str()), "draw from another thawed container".to_owned()),
            LedgerError::UnknownBag { event, bag_id } => (format!("{event}: bag {bag_id} is not in the ledger"), match *event {
                "prepare_planned" | "cancel" => "record its day's plan first (record_day, doseprep day --ledger)",
                _ => "record its preparation first (prepare, or record_day then prepare_planned)",
            }.to_owned()),
            LedgerError::ThawTimeDiffers { bag_id, lot_id, container, container_thawed_at, bag_thawed_at } => (format!("prepare: container {container} of lot {lot_id:?} was thawed at {container_thawed_at}, but bag {bag_id}'s record says its cells were thawed at {bag_thawed_at}"), "prepare the bag with the container's thaw time, or thaw a container for it".to_owned()),
            LedgerError::ThawedBeforePlan { event, bag_id, lot_id, container, container_thawed_at, bag_thawed_at } => (format!("{}: container {container} of lot {lot_id:?} was thawed at {container_thawed_at}, before {bag_thawed_at}, the thaw bag {bag_id}'s label counts its infuse-by time from", event.as_str()), match event {
                PlanStep::Plan => "plan the day with the containers in stock (ledger.in_stock), so its labels count from a thaw still to come",
                PlanStep::PreparePlanned => "cancel every bag of the session alike, active and placebo (cancel_bag), and plan them again, so their labels count from the thaw as done",
            }.to_owned()),
            LedgerError::DrawsDisagree { event, bag_id, reason } => (format!("{}: the draws of bag {bag_id} {reason}", event.as_str()), "give the draws the record describes".to_owned()),
            LedgerError::DinInUse { event, bag_id, din, other } => (format!("{}: bag {bag_id} would carry ISBT 128 DIN {din}, which bag {other} carries already", event.as_str()), "give this bag another bag id".to_owned()),
            LedgerError::ShortInfusion { bag_id, ran, shortest, planned } => (format!("administer: bag {bag_id}'s infusion ran {ran}, shorter than its site's shortest infusion of {shortest} (planned {planned})"), "check started_at and ended_at; if it did run that fast, record it with short_reason (why)".to_owned()),
            LedgerError::ShortReasonNotNeeded { bag_id, ran, shortest: Some(shortest) } => (format!("administer: bag {bag_id}'s infusion ran {ran}, not shorter than its site's shortest infusion of {shortest}"), "a short_reason is only for an infusion shorter than that, so leave it out".to_owned()),
            LedgerError::ShortReasonNotNeeded { bag_id, ran, shortest: None } => (format!("administer: bag {bag_id}'s infusion ran {ran}, and its site sets no shortest infusion (site.shortest_infusion)"), "a short_reason is only for an infusion shorter than that, so leave it out".to_owned()),
            LedgerError::OverrideNotNeeded { bag_id, ended_at, infuse_by } => (format!("administer: bag {bag_id}'s infusion ended at {ended_at}, by its infuse-by time {infuse_by}"), "an override_reason is only for a late infusion, so leave it out".to_owned()),
            LedgerError::TooManyContainers { lot_id, containers, max } => (format!("receive: lot {lot_id:?} has {containers} containers; a lot is received with at most {max}"), "check the count on the shipping record".to_owned()),
            LedgerError::BagAlreadyRecorded { event, bag_id, seq } => (format!("{}: bag {bag_id} was recorded already (event {seq})", event.as_str()), "each bag is prepared once".to_owned()),
            LedgerError::VisitAlreadyPrepared { event, participant, visit, existing, seq } => (format!("{}: participant {participant} has bag {existing} for visit {visit} already (event {seq})", event.as_str()), "one bag a visit: destroy that bag (or cancel it, if it is only planned) first to record another".to_owned()),
            LedgerError::NoBagId { event, participant } => (format!("{}: the bag for {participant} has no bag id", event.as_str()), "give it one (plan_day does, or prepare(..., bag_id=...))".to_owned()),
            LedgerError::NoDraws { event, bag_id } => (format!("{}: active bag {bag_id} names no container it was drawn from", event.as_str()), "plan it with plan_day or give its draws (lot, container, mL)".to_owned()),
            LedgerError::PlaceboDraws { event, bag_id } => (format!("{}: placebo bag {bag_id} draws from no container", event.as_str()), "remove its draws".to_owned()),
            LedgerError::BagState { event, bag_id, state, fix } => (format!("{event}: bag {bag_id} is {state}"), fix.to_string()),
            LedgerError::WrongParticipant { bag_id, for_participant, participant } => (format!("administer: bag {bag_id} is for participant {for_participant}, not {participant}"), "check the wristband and the label, and use that participant's bag".to_owned()),
            LedgerError::MadePastInfuseBy { event, bag_id, at, infuse_by } => (format!("{event}: bag {bag_id} made at {at} is past its infuse-by time {infuse_by}: its label has expired"), match *event {
                "prepare_planned" => "cancel it (cancel_bag) and plan the visit again, with a new thaw",
                _ => "plan the visit again, with a new thaw",
            }.to_owned()),
            LedgerError::PastInfuseBy { bag_id, ended_at, infuse_by } => (format!("administer: bag {bag_id}'s infusion ended at {ended_at}, after its infuse-by time {infuse_by}"), "record it with override_reason (why it was given late) or destroy the bag".to_owned()),
            LedgerError::OutOfTimeOrder { subject, field, at, earlier, earlier_at } => (format!("{subject}: {} is before {earlier} at {earlier_at}; the events of a bag or container are recorded in the order they happen", match field { TimeField::At => format!("at {at}"), TimeField::StartedAt => format!("started_at {at}") }), format!("give the time it happened, not before {earlier_at}; or, if the time of {earlier} is wrong, correct that event first (correct)")),
            LedgerError::CannotCorrect { seq, why, fix, .. } => (format!("correct: event {seq} cannot be corrected: {why}"), fix.to_string()),
            LedgerError::EndsBeforeStart { started_at, ended_at } => (format!("administer: ended_at {ended_at} is before started_at {started_at}"), "check both times".to_owned()),
            LedgerError::Initials { initials } => (format!("initials {initials:?} must be 1 to 8 letters, digits, '.' or '-' (e.g. \"MH\")"), "give the initials of the person recording".to_owned()),
            LedgerError::ControlCharacter { field, value, character } => (format!("{field} {value:?} holds the control character U+{character:04X}"), "type it without (a line break or a tab may stay)".to_owned()),
            LedgerError::OwnerInRole { login, role } => (format!("the login {login} that starts the ledger is a member of {role}, and the owner of a ledger's tables may change them whatever the roles allow"), "start the ledger as an administrator's login that is in no doseprep role; people record as members of doseprep_writer".to_owned()),
            LedgerError::NoCentral { path } => (format!("the PostgreSQL database {path} holds no central ledger"), format!("give the central ledger's URL, or start one in an empty database with `doseprep ledger init-central {path}`")),
            LedgerError::SiteName { site, max } => (format!("site {site:?} must be 1 to {max} letters, digits, '.', '-' or '_', starting with a letter or digit"), "give the site's short name, e.g. JGH or AP-HP".to_owned()),
            LedgerError::NoWorkstation { event: "set_site", site } => (format!("set_site: from this event on, each event of site {site}'s ledger names the workstation that writes it; none was given"), "open the ledger with workstation= (command: --workstation NAME), e.g. the bench's name".to_owned()),
            LedgerError::NoWorkstation { event, site } => (format!("{event}: this ledger is site {site}'s, and each of its events names the workstation that writes it; none was given"), "open the ledger with workstation= (command: --workstation NAME), e.g. the bench's name".to_owned()),
            LedgerError::WorkstationWithoutSite { workstation } => (format!("workstation {workstation:?} was given, but the ledger has no site, so it would not be recorded"), "set the ledger's site first (set_site; command: ledger set-site), or open it without a workstation".to_owned()),
            LedgerError::WorkstationName { workstation, max } => (format!("workstation {workstation:?} must be 1 to {max} letters, digits, '.', '-' or '_', starting with a letter or digit"), "give the workstation's short name, e.g. bench-2".to_owned()),
            LedgerError::NoSite { event: "push" } => ("push: the ledger has no site, and a ledger is pushed as the site its own events name".to_owned(), "set the ledger's site first (set_site; command: ledger set-site), then push".to_owned()),
            LedgerError::NoSite { event } => (format!("{event}: the ledger has no site, and a shipment goes from one site to another"), "set the ledger's site first (set_site; command: ledger set-site)".to_owned()),
            LedgerError::SiteAlreadySet { site, seq } => (format!("the ledger is site {site}'s since event {seq}; a ledger's site is set once"), "each site keeps its own ledger: start another ledger for another site".to_owned()),
            LedgerError::SameSite { event, site } => (format!("{event}: site {site} is this ledger's own site"), "name the other site (ship: where it goes; receive: where it came from)".to_owned()),
            LedgerError::ShipmentContainers { lot_id, listed, received } => (format!("receive: the shipment lists {listed} containers of lot {lot_id:?}, but the receipt brings {received}, numbered from 1"), "list the sending site's number of each container received, in the order they are numbered here".to_owned()),
            LedgerError::ShipmentReceived { from_site, seq, container, receipt } => (format!("receive: container {container} of {from_site}'s shipment (its event {seq}) was received already, at event {receipt}"), "a shipment is received once: check the shipment's event number, or leave out what was received already".to_owned()),
            LedgerError::MigrateAsOwner { path, found, current } => (format!("the ledger {path} has schema version {found}; this doseprep writes version {current}, and only the login that owns its tables may migrate it"), "open it once with this doseprep as its owner (the login that ran init or init-central), then record as before".to_owned()),
            LedgerError::ShippedContainerTwice { from_site, container } => (format!("receive: shipped_containers lists {from_site}'s container {container} twice"), "list each container the sending site shipped once, by its number there".to_owned()),
            LedgerError::ShipmentEvent { seq } => (format!("receive: the shipment's event {seq} cannot be one: events are numbered from 1"), "give the number of the sending site's ship event (its ledger's shipment record)".to_owned()),
            LedgerError::PusherNotForSite { login, site } => (format!("the login {login} is not named to push site {site} at the central ledger; nothing was pushed"), format!("push with the site's own login, or have the centre's administrator name it: INSERT INTO site_pusher (site, login) VALUES ('{site}', '{login}')")),
            LedgerError::PushSiteDiffers { site, ledger_site } => (format!("the ledger is site {ledger_site}'s; it cannot be pushed as site {site}"), format!("push it as site {ledger_site}")),
            LedgerError::PushRefused { site, seq, reason } => (format!("push refused at event {seq} of site {site}: {reason}; this push sent nothing from event {seq} on"), "keep both ledgers as they are for review, and report it to the trial's monitor".to_owned()),
            LedgerError::Text { field, value, max, fix } => (format!("{field} {value:?} must be 1 to {max} characters"), fix.to_string()),
            LedgerError::NoContainers { event } => (format!("{event}: no container given"), "list the container numbers".to_owned()),
            LedgerError::DuplicateContainer { event, lot_id, container } => (format!("{event}: container {container} of lot {lot_id:?} is listed twice"), "list it once".to_owned()),
            LedgerError::PlanExceedsStock { lot_id, planned, in_stock } => (format!("record_day: the plan thaws {planned} containers of lot {lot_id:?}, the ledger has {in_stock} in stock"), "plan with the lot's count on hand (doseprep ledger balance)".to_owned()),
            LedgerError::RecordDoesNotVerify { bag_id, differences } => (format!("prepare: the record of bag {bag_id} does not verify ({differences})"), "prepare it again".to_owned()),
            LedgerError::SchemaTooNew { found, supported } => (format!("the ledger has schema version {found}; this doseprep reads versions 1 to {supported}"), "upgrade doseprep".to_owned()),
            LedgerError::SchemaTooOld { path, found, current } => (format!("the ledger {path} has schema version {found}; this doseprep reads version {current} when it opens a ledger to read only"), "open it once for writing (it is migrated then), or read it with the doseprep that wrote it".to_owned()),
            LedgerError::NoSuchLedger { path } if crate::pg::is_url(path) => (format!("the PostgreSQL database {path} holds no ledger (it is empty)"), format!("check the URL, or start a ledger in it with `doseprep ledger init {path}` (Python: Ledger.create)")),
            LedgerError::NoSuchLedger { path } => (format!("no ledger file at {path}"), format!("check the path, or start a new ledger with `doseprep ledger init {path}` (Python: Ledger.create)")),
            LedgerError::LedgerExists { path } if crate::pg::is_url(path) => (format!("the PostgreSQL database {path} already holds tables"), "open it as a ledger, or start the new ledger in an empty database (CREATE DATABASE)".to_owned()),
            LedgerError::LedgerExists { path } => (format!("{path} already exists"), "open it as a ledger, or create the new ledger under another name".to_owned()),
            LedgerError::CannotCreate { path, reason } => (format!("cannot create a ledger at {path}: {reason}"), "check that its folder exists and can be written".to_owned()),
            LedgerError::StoredRecord { bag_id, seq, problem } => (format!("the record of bag {bag_id} stored at event {seq} {problem}"), "nothing is printed or exported from it: keep the file for review and report it to the trial's monitor".to_owned()),
            LedgerError::NotALedger { path } if crate::pg::is_url(path) => (format!("the PostgreSQL database {path} holds tables that are not a doseprep ledger's"), "give the ledger's database, or an empty database to start one".to_owned()),
            LedgerError::NotALedger { path } => (format!("{path} is not a doseprep ledger (another SQLite database, or not a database at all)"), "give the ledger's file, or a new file name to start one".to_owned()),
            LedgerError::FutureDated { event, at, written, tolerance_min } => (format!("{event}: at {at} is after the moment it is written ({written}, give or take {tolerance_min} min); an event is recorded once it has happened"), "give the time it happened; record what has not happened yet when it does".to_owned()),
            LedgerError::LateEntry { event, at, written, limit_min } => (format!("{event}: at {at} is written at {written}, more than this ledger's late-entry limit of {limit_min} min after it happened"), "give late_reason: why it is recorded late (or, if the time is wrong, the time it happened)".to_owned()),
            LedgerError::LateReasonNotNeeded { event, at, written, limit_min: Some(limit_min) } => (format!("{event}: at {at}, written at {written}, is within this ledger's late-entry limit of {limit_min} min"), "a late_reason is only for an entry written late, so leave it out".to_owned()),
            LedgerError::LateReasonNotNeeded { event, at, written, limit_min: None } => (format!("{event}: at {at}, written at {written}: this ledger sets no late-entry limit"), "a late_reason is only for an entry written late, so leave it out".to_owned()),
            LedgerError::LateEntryLimit { minutes, max } => (format!("configure: a late-entry limit of {minutes} min is not 1 min to {max} min (a week)"), "give the site's limit in whole minutes, e.g. \"4 h\"".to_owned()),
            LedgerError::UnknownRole { role } => (format!("role {role:?} is not one of pharmacist, checker, nurse, monitor, administrator"), "give one of those roles".to_owned()),
            LedgerError::UserId { user_id, max } => (format!("user id {user_id:?} must be 1 to {max} lowercase letters, digits, '.', '-' or '_' (e.g. \"mhebert\")"), "give the id the user signs in with".to_owned()),
            LedgerError::PassphraseLength { length, min, max } => (format!("a passphrase of {length} characters is too short or too long: {min} to {max} characters"), format!("choose a passphrase of at least {min} characters (a few words)")),
            LedgerError::UserExists { user_id, seq } => (format!("register_user: user {user_id} was registered at event {seq}; a user id is never given to anyone else"), "give the new user another id".to_owned()),
            LedgerError::NoUsers { event } => (format!("{event}: no user is registered in this ledger, so nothing can be signed"), "register the first administrator (register_user), then the users who sign".to_owned()),
            LedgerError::FirstUserNotAdministrator { role } => (format!("register_user: the first user of a ledger registers the others, so is an administrator, not a {role}"), "register an administrator first, signed in as whom you register the others".to_owned()),
            LedgerError::SignatureRequired { event, meaning } => (format!("{event}: this ledger keeps users, so every event is signed (here: {meaning}); initials alone are not a signature"), "sign in (sign_in) and give your passphrase instead of initials".to_owned()),
            LedgerError::NotSignedIn { event } => (format!("{event}: no user is signed in to sign it"), "sign in first (sign_in), with your user id and passphrase".to_owned()),
            LedgerError::SignInFailed { user_id, seq: Some(seq) } => (format!("sign-in as {user_id:?} failed: unknown user id or wrong passphrase; nothing was signed, and the failed attempt is recorded as event {seq}"), "give your own user id and passphrase; if you have forgotten it, ask the ledger's administrator".to_owned()),
            LedgerError::PassphraseNotChanged { user_id, set_by, seq } => (format!("user {user_id:?} signs with the passphrase administrator {set_by:?} set at event {seq}, which they know: a signature would not be {user_id:?}'s alone"), "change it first (change_passphrase; the command: ledger change-passphrase), then sign in".to_owned()),
            LedgerError::PassphraseUnchanged { user_id } => (format!("change_passphrase: the new passphrase of user {user_id:?} is the current one"), "give a new passphrase that only you know".to_owned()),
            LedgerError::SignInFailed { user_id, seq: None } => (format!("sign-in as {user_id:?} failed: unknown user id or wrong passphrase; nothing was signed, and the ledger, open to read only, could not record the attempt"), "give your own user id and passphrase; if you have forgotten it, ask the ledger's administrator".to_owned()),
            LedgerError::UnknownUser { user_id } => (format!("user {user_id:?} is not registered in this ledger"), "register them first (register_user)".to_owned()),
            LedgerError::UserDisabled { user_id, seq } => (format!("user {user_id} was disabled at event {seq} and signs nothing since"), "a disabled user signs nothing and is not disabled again; a user id is never given again, so register a returning person under a new id".to_owned()),
            LedgerError::DisableSelf { user_id } => (format!("disable_user: administrator {user_id} cannot disable themselves (a ledger keeps someone who registers users)"), "another administrator disables them".to_owned()),
            LedgerError::RoleMayNotSign { user_id, role, meaning, signs } => (format!("user {user_id} ({role}) may sign {signs}, not {meaning}"), "sign in as a user whose role signs it".to_owned()),
            LedgerError::SameChecker { bag_id, user_id } => (format!("check: bag {bag_id} was prepared by {user_id}, who cannot also check it"), "a second user (a checker or another pharmacist) signs the check".to_owned()),
            LedgerError::Tampered(detail) => (
                format!("the ledger does not verify: {detail}"),
                "run `doseprep ledger verify` and keep the file for review".to_owned(),
            ),
            LedgerError::Database { fault, detail, file: Some(file), .. } if crate::pg::is_url(file) => (
                format!("the ledger {file}: {detail}"),
                fault.fix_on_server().to_owned(),
            ),
            LedgerError::Database { fault, detail, file: Some(file), .. } => (
                format!("the ledger {file}: {detail}"),
                fault.fix().to_owned(),
            ),
            LedgerError::Database { fault, detail, file: None, .. } => (
                format!("the ledger database: {detail}"),
                fault.fix().to_owned(),
            ),
            LedgerError::Dose(error) => (error.to_string(), error.parts().fix),
        }
    }

    /// A failure that is not the fault of what was asked, not a refusal
    /// of it (a database fault, a ledger that does not verify, a file
    /// written by a newer doseprep), as opposed to bad input or a refused
    /// event. A core error inside is always bad input.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            LedgerError::Database { .. }
                | LedgerError::Tampered(_)
                | LedgerError::StoredRecord { .. }
                | LedgerError::SchemaTooNew { .. }
                | LedgerError::SchemaTooOld { .. }
                | LedgerError::MigrateAsOwner { .. }
        )
    }

    /// The error with the ledger's file named, where it is a database
    /// fault that does not name it yet.
    pub(crate) fn in_file(self, path: &str) -> LedgerError {
        match self {
            LedgerError::Database {
                fault,
                detail,
                sqlite,
                file: None,
            } => LedgerError::Database {
                fault,
                detail,
                sqlite,
                file: Some(path.to_owned()),
            },
            other => other,
        }
    }

    /// SQLite's error code, where SQLite failed.
    pub fn sqlite_error_code(&self) -> Option<rusqlite::ErrorCode> {
        match self {
            LedgerError::Database { sqlite, .. } => sqlite.map(|e| e.code),
            _ => None,
        }
    }

    /// A fault of the system that is not SQLite's (a value that could not
    /// be written as JSON or CSV, a write that recorded nothing).
    pub(crate) fn internal(detail: String) -> LedgerError {
        LedgerError::Database {
            fault: DatabaseFault::Other,
            detail,
            sqlite: None,
            file: None,
        }
    }

    /// A stable name of the error, e.g. "container_state".
    pub fn code(&self) -> &'static str {
        match self {
            LedgerError::UnknownLot { .. } => "unknown_lot",
            LedgerError::ReceiptDiffers { .. } => "receipt_differs",
            LedgerError::UnknownReceipt { .. } => "unknown_receipt",
            LedgerError::UnknownContainer { .. } => "unknown_container",
            LedgerError::ContainerState { .. } => "container_state",
            LedgerError::OverDrawn { .. } => "over_drawn",
            LedgerError::UnknownBag { .. } => "unknown_bag",
            LedgerError::BagAlreadyRecorded { .. } => "bag_already_recorded",
            LedgerError::VisitAlreadyPrepared { .. } => "visit_already_prepared",
            LedgerError::ThawTimeDiffers { .. } => "thaw_time_differs",
            LedgerError::ThawedBeforePlan { .. } => "thawed_before_plan",
            LedgerError::DrawsDisagree { .. } => "draws_disagree",
            LedgerError::DinInUse { .. } => "din_in_use",
            LedgerError::OverrideNotNeeded { .. } => "override_not_needed",
            LedgerError::ShortInfusion { .. } => "short_infusion",
            LedgerError::ShortReasonNotNeeded { .. } => "short_reason_not_needed",
            LedgerError::TooManyContainers { .. } => "too_many_containers",
            LedgerError::NoBagId { .. } => "no_bag_id",
            LedgerError::NoDraws { .. } => "no_draws",
            LedgerError::PlaceboDraws { .. } => "placebo_draws",
            LedgerError::BagState { .. } => "bag_state",
            LedgerError::WrongParticipant { .. } => "wrong_participant",
            LedgerError::PastInfuseBy { .. } => "past_infuse_by",
            LedgerError::MadePastInfuseBy { .. } => "made_past_infuse_by",
            LedgerError::OutOfTimeOrder { .. } => "out_of_time_order",
            LedgerError::CannotCorrect { .. } => "cannot_correct",
            LedgerError::EndsBeforeStart { .. } => "ends_before_start",
            LedgerError::Initials { .. } => "initials",
            LedgerError::Text { .. } => "text",
            LedgerError::NoCentral { .. } => "no_central",
            LedgerError::SiteName { .. } => "site_name",
            LedgerError::PushRefused { .. } => "push_refused",
            LedgerError::NoWorkstation { .. } => "no_workstation",
            LedgerError::WorkstationWithoutSite { .. } => "workstation_without_site",
            LedgerError::WorkstationName { .. } => "workstation_name",
            LedgerError::NoSite { .. } => "no_site",
            LedgerError::SiteAlreadySet { .. } => "site_already_set",
            LedgerError::SameSite { .. } => "same_site",
            LedgerError::ShipmentContainers { .. } => "shipment_containers",
            LedgerError::PushSiteDiffers { .. } => "push_site_differs",
            LedgerError::PusherNotForSite { .. } => "pusher_not_for_site",
            LedgerError::ShipmentEvent { .. } => "shipment_event",
            LedgerError::ShipmentReceived { .. } => "shipment_received",
            LedgerError::ShippedContainerTwice { .. } => "duplicate_container",
            LedgerError::MigrateAsOwner { .. } => "migrate_as_owner",
            LedgerError::ControlCharacter { .. } => "control_character",
            LedgerError::OwnerInRole { .. } => "owner_in_role",
            LedgerError::NoContainers { .. } => "no_containers",
            LedgerError::DuplicateContainer { .. } => "duplicate_container",
            LedgerError::PlanExceedsStock { .. } => "plan_exceeds_stock",
            LedgerError::RecordDoesNotVerify { .. } => "record_does_not_verify",
            LedgerError::SchemaTooNew { .. } => "schema_too_new",
            LedgerError::NotALedger { .. } => "not_a_ledger",
            LedgerError::SchemaTooOld { .. } => "schema_too_old",
            LedgerError::CannotCreate { .. } => "cannot_create",
            LedgerError::StoredRecord { .. } => "stored_record",
            LedgerError::NoSuchLedger { .. } => "no_such_ledger",
            LedgerError::LedgerExists { .. } => "ledger_exists",
            LedgerError::Tampered(_) => "tampered",
            LedgerError::UnknownRole { .. } => "unknown_role",
            LedgerError::FutureDated { .. } => "future_dated",
            LedgerError::LateEntry { .. } => "late_entry",
            LedgerError::LateReasonNotNeeded { .. } => "late_reason_not_needed",
            LedgerError::LateEntryLimit { .. } => "late_entry_limit",
            LedgerError::UserId { .. } => "user_id",
            LedgerError::PassphraseLength { .. } => "passphrase_length",
            LedgerError::UserExists { .. } => "user_exists",
            LedgerError::NoUsers { .. } => "no_users",
            LedgerError::FirstUserNotAdministrator { .. } => "first_user_not_administrator",
            LedgerError::SignatureRequired { .. } => "signature_required",
            LedgerError::NotSignedIn { .. } => "not_signed_in",
            LedgerError::SignInFailed { .. } => "sign_in_failed",
            LedgerError::PassphraseNotChanged { .. } => "passphrase_not_changed",
            LedgerError::PassphraseUnchanged { .. } => "passphrase_unchanged",
            LedgerError::UnknownUser { .. } => "unknown_user",
            LedgerError::UserDisabled { .. } => "user_disabled",
            LedgerError::DisableSelf { .. } => "disable_self",
            LedgerError::RoleMayNotSign { .. } => "role_may_not_sign",
            LedgerError::SameChecker { .. } => "same_checker",
            LedgerError::Database { fault, .. } => fault.as_str(),
            LedgerError::Dose(error) => error.kind().name(),
        }
    }

    /// The field, value, limit and fix, for a script to read.
    pub fn parts(&self) -> ErrorParts {
        let text = |s: &str| Some(s.to_owned());
        let (field, value, limit): (Option<String>, Option<String>, Option<String>) = match self {
            LedgerError::Dose(error) => return error.parts(),
            LedgerError::UnknownLot { lot_id, .. }
            | LedgerError::ReceiptDiffers { lot_id, .. }
            | LedgerError::UnknownReceipt { lot_id, .. } => {
                (text("lot_id"), Some(lot_id.clone()), None)
            }
            LedgerError::UnknownContainer {
                container,
                containers,
                ..
            } => (
                text("containers"),
                Some(container.to_string()),
                Some(format!("1 to {containers}")),
            ),
            LedgerError::ContainerState {
                container, state, ..
            } => (
                text("containers"),
                Some(container.to_string()),
                Some(format!("it is {state}")),
            ),
            LedgerError::OverDrawn {
                volume_ml,
                yield_ml,
                ..
            } => (
                text("draws"),
                Some(format!("{volume_ml} mL")),
                Some(format!("{yield_ml} mL a container")),
            ),
            LedgerError::UnknownBag { bag_id, .. }
            | LedgerError::BagAlreadyRecorded { bag_id, .. }
            | LedgerError::NoDraws { bag_id, .. }
            | LedgerError::PlaceboDraws { bag_id, .. }
            | LedgerError::RecordDoesNotVerify { bag_id, .. } => {
                (text("bag_id"), Some(bag_id.clone()), None)
            }
            LedgerError::BagState { bag_id, state, .. } => (
                text("bag_id"),
                Some(bag_id.clone()),
                Some(format!("it is {state}")),
            ),
            LedgerError::VisitAlreadyPrepared {
                participant,
                visit,
                existing,
                ..
            } => (
                text("visit"),
                Some(format!("{participant} {visit}")),
                Some(format!("bag {existing} stands")),
            ),
            LedgerError::ThawTimeDiffers {
                container_thawed_at,
                bag_thawed_at,
                ..
            } => (
                text("thawed_at"),
                Some(bag_thawed_at.clone()),
                Some(format!("the container's thaw, {container_thawed_at}")),
            ),
            LedgerError::ThawedBeforePlan {
                container_thawed_at,
                bag_thawed_at,
                ..
            } => (
                text("thawed_at"),
                Some(container_thawed_at.clone()),
                Some(format!("not before the plan's thaw, {bag_thawed_at}")),
            ),
            LedgerError::DrawsDisagree { bag_id, reason, .. } => {
                (text("draws"), Some(bag_id.clone()), Some(reason.clone()))
            }
            LedgerError::DinInUse { din, other, .. } => (
                text("bag_id"),
                Some(din.clone()),
                Some(format!("a DIN once; bag {other} has it")),
            ),
            LedgerError::ShortInfusion { ran, shortest, .. } => (
                text("short_reason"),
                Some(ran.clone()),
                Some(format!("a reason below {shortest}")),
            ),
            LedgerError::ShortReasonNotNeeded { ran, shortest, .. } => (
                text("short_reason"),
                Some(ran.clone()),
                Some(shortest.as_ref().map_or_else(
                    || "no shortest infusion set".to_owned(),
                    |shortest| format!("only below {shortest}"),
                )),
            ),
            LedgerError::OverrideNotNeeded {
                ended_at,
                infuse_by,
                ..
            } => (
                text("override_reason"),
                Some(ended_at.clone()),
                Some(format!("only after {infuse_by}")),
            ),
            LedgerError::TooManyContainers {
                containers, max, ..
            } => (
                text("containers"),
                Some(containers.to_string()),
                Some(format!("at most {max}")),
            ),
            LedgerError::NoBagId { participant, .. } => {
                (text("bag_id"), Some(participant.clone()), None)
            }
            LedgerError::WrongParticipant {
                participant,
                for_participant,
                ..
            } => (
                text("participant"),
                Some(participant.clone()),
                Some(format!("the bag is for {for_participant}")),
            ),
            LedgerError::MadePastInfuseBy { at, infuse_by, .. } => (
                text("at"),
                Some(at.clone()),
                Some(format!("no later than {infuse_by}")),
            ),
            LedgerError::PastInfuseBy {
                ended_at,
                infuse_by,
                ..
            } => (
                text("ended_at"),
                Some(ended_at.clone()),
                Some(format!("no later than {infuse_by}")),
            ),
            LedgerError::OutOfTimeOrder {
                field,
                at,
                earlier_at,
                ..
            } => (
                text(field.name()),
                Some(at.clone()),
                Some(format!("not before {earlier_at}")),
            ),
            // The event number is the value at fault only where `seq` is;
            // the message gives the time or recipient otherwise.
            LedgerError::CannotCorrect { seq, field, .. } => (
                text(field),
                (*field == "seq").then(|| seq.to_string()),
                None,
            ),
            LedgerError::EndsBeforeStart {
                started_at,
                ended_at,
            } => (
                text("ended_at"),
                Some(ended_at.clone()),
                Some(format!("not before {started_at}")),
            ),
            LedgerError::Initials { initials } => (
                text("initials"),
                Some(initials.clone()),
                text("1 to 8 letters, digits, '.' or '-'"),
            ),
            LedgerError::ControlCharacter {
                field,
                value,
                character,
            } => (
                text(field),
                Some(value.clone()),
                Some(format!("no control character (U+{character:04X} given)")),
            ),
            LedgerError::NoCentral { path } => (text("url"), Some(path.clone()), None),
            LedgerError::SiteName { site, max } => (
                text("site"),
                Some(site.clone()),
                Some(format!("1 to {max} letters, digits, '.', '-' or '_'")),
            ),
            LedgerError::NoWorkstation { .. } => (text("workstation"), None, text("given")),
            LedgerError::WorkstationWithoutSite { workstation } => (
                text("workstation"),
                Some(workstation.clone()),
                text("none, until the ledger's site is set"),
            ),
            LedgerError::WorkstationName { workstation, max } => (
                text("workstation"),
                Some(workstation.clone()),
                Some(format!("1 to {max} letters, digits, '.', '-' or '_'")),
            ),
            LedgerError::NoSite { .. } => (text("site"), None, text("the ledger's site set")),
            LedgerError::SiteAlreadySet { site, .. } => {
                (text("site"), Some(site.clone()), text("set once"))
            }
            LedgerError::SameSite { site, .. } => {
                (text("site"), Some(site.clone()), text("another site"))
            }
            LedgerError::ShipmentContainers {
                listed, received, ..
            } => (
                text("shipment.containers"),
                Some(listed.to_string()),
                Some(format!("{received}, each once")),
            ),
            LedgerError::ShippedContainerTwice { container, .. } => (
                text("shipment.containers"),
                Some(container.to_string()),
                text("each once"),
            ),
            LedgerError::ShipmentEvent { seq } => (
                text("shipment.seq"),
                Some(seq.to_string()),
                text("1 or more"),
            ),
            LedgerError::MigrateAsOwner {
                path,
                found,
                current,
            } => (
                text("url"),
                Some(format!("{path} (schema {found})")),
                Some(format!("schema {current}, migrated by its owner")),
            ),
            LedgerError::ShipmentReceived {
                container, receipt, ..
            } => (
                text("shipment.containers"),
                Some(container.to_string()),
                Some(format!("not received before (event {receipt} did)")),
            ),
            LedgerError::PusherNotForSite { login, site } => (
                text("site"),
                Some(site.clone()),
                Some(format!("a site the login {login} is named for")),
            ),
            LedgerError::PushSiteDiffers { site, ledger_site } => {
                (text("site"), Some(site.clone()), Some(ledger_site.clone()))
            }
            LedgerError::PushRefused { site, seq, .. } => (
                text("seq"),
                Some(seq.to_string()),
                Some(format!("the centre's events of site {site}")),
            ),
            LedgerError::OwnerInRole { login, role } => (
                text("login"),
                Some(login.clone()),
                Some(format!("not a member of {role}")),
            ),
            LedgerError::Text {
                field, value, max, ..
            } => (
                text(field),
                Some(value.clone()),
                Some(format!("1 to {max} characters")),
            ),
            LedgerError::NoContainers { .. } => (text("containers"), None, text("at least one")),
            LedgerError::DuplicateContainer { container, .. } => (
                text("containers"),
                Some(container.to_string()),
                text("each once"),
            ),
            LedgerError::PlanExceedsStock {
                planned, in_stock, ..
            } => (
                text("plan"),
                Some(planned.to_string()),
                Some(format!("{in_stock} in stock")),
            ),
            LedgerError::SchemaTooNew { found, supported } => (
                text("schema_version"),
                Some(found.to_string()),
                Some(format!("at most {supported}")),
            ),
            LedgerError::SchemaTooOld { found, current, .. } => (
                text("schema_version"),
                Some(found.to_string()),
                Some(format!("{current} to read only")),
            ),
            LedgerError::NotALedger { path }
            | LedgerError::NoSuchLedger { path }
            | LedgerError::LedgerExists { path }
            | LedgerError::CannotCreate { path, .. } => (text("path"), Some(path.clone()), None),
            LedgerError::StoredRecord { bag_id, .. } => {
                (text("bag_id"), Some(bag_id.clone()), None)
            }
            LedgerError::LateEntry {
                written, limit_min, ..
            } => (
                text("late_reason"),
                Some(written.clone()),
                Some(format!("a reason beyond {limit_min} min")),
            ),
            LedgerError::LateReasonNotNeeded { at, .. } => (
                text("late_reason"),
                Some(at.clone()),
                text("only when late"),
            ),
            LedgerError::LateEntryLimit { minutes, max } => (
                text("late_entry_after"),
                Some(format!("{minutes} min")),
                Some(format!("1 to {max} min")),
            ),
            LedgerError::FutureDated { at, written, .. } => (
                text("at"),
                Some(at.clone()),
                Some(format!("not after {written}")),
            ),
            LedgerError::UnknownRole { role } => (
                text("role"),
                Some(role.clone()),
                text("pharmacist, checker, nurse, monitor or administrator"),
            ),
            LedgerError::UserId { user_id, max } => (
                text("user_id"),
                Some(user_id.clone()),
                Some(format!("1 to {max} of a-z, 0-9, '.', '-', '_'")),
            ),
            LedgerError::PassphraseLength { length, min, max } => (
                text("passphrase"),
                Some(format!("{length} characters")),
                Some(format!("{min} to {max} characters")),
            ),
            LedgerError::PassphraseNotChanged { set_by, seq, .. } => (
                text("passphrase"),
                Some(format!("set by {set_by} at event {seq}")),
                text("a passphrase its user set"),
            ),
            LedgerError::PassphraseUnchanged { user_id } => (
                text("new"),
                Some(user_id.clone()),
                text("another passphrase"),
            ),
            LedgerError::UserExists { user_id, .. }
            | LedgerError::UnknownUser { user_id }
            | LedgerError::UserDisabled { user_id, .. }
            | LedgerError::DisableSelf { user_id }
            | LedgerError::SignInFailed { user_id, .. } => {
                (text("user_id"), Some(user_id.clone()), None)
            }
            LedgerError::NoUsers { .. } => (text("user"), None, text("a registered user")),
            LedgerError::FirstUserNotAdministrator { role } => (
                text("role"),
                Some(role.clone()),
                text("administrator for the first user"),
            ),
            LedgerError::SignatureRequired { .. } => {
                (text("initials"), None, text("a signature, not initials"))
            }
            LedgerError::NotSignedIn { .. } => (text("passphrase"), None, text("a user signed in")),
            LedgerError::RoleMayNotSign { user_id, signs, .. } => (
                text("user_id"),
                Some(user_id.clone()),
                Some(format!("signs {signs}")),
            ),
            LedgerError::SameChecker { user_id, .. } => (
                text("user_id"),
                Some(user_id.clone()),
                text("not the preparer"),
            ),
            LedgerError::Database {
                file: Some(file), ..
            } => (text("path"), Some(file.clone()), None),
            LedgerError::Tampered(_) | LedgerError::Database { file: None, .. } => {
                (None, None, None)
            }
        };
        let (_, fix) = self.said();
        ErrorParts {
            field,
            value,
            limit,
            fix,
        }
    }
}
