//! The command line: every command, argument and help text.

use std::path::PathBuf;

use clap::{ArgGroup, Args, Parser, Subcommand};

/// Weight-based cell-therapy doses, matched placebo bags, and the preparation day.
#[derive(Debug, Parser)]
#[command(name = "doseprep", bin_name = "doseprep", version)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Every arm and visit of CARE-SSc, and a planned day.
    Demo,
    /// Prepare one bag.
    Prepare(Prepare),
    /// Orders from CSV to JSON lines.
    Batch(Batch),
    /// Recompute a preparation record and compare.
    Verify {
        /// A record written by 'doseprep prepare --json'.
        record: PathBuf,
    },
    /// Plan a preparation day and write its documents.
    Day(Day),
    /// Labels, worksheets and records made again from the ledger.
    Reprint(Reprint),
    /// The accountability ledger (an SQLite file or a PostgreSQL database).
    Ledger(LedgerArgs),
}

/// `doseprep ledger [--workstation NAME] ...`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    /// The workstation writing (e.g. bench-2): every event of a ledger
    /// with a site names it (see `ledger set-site`); a ledger without a
    /// site takes none.
    #[arg(long, global = true)]
    pub workstation: Option<String>,
    #[command(subcommand)]
    pub command: LedgerCommand,
}

/// `doseprep prepare`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("output").args(["json", "label_only", "worksheet_only"])))]
pub struct Prepare {
    /// The participant.
    #[arg(long)]
    pub participant: String,
    /// With its unit: '72.4 kg' or '160 lb'.
    #[arg(long)]
    pub weight: String,
    /// The arm.
    #[arg(long)]
    pub arm: String,
    /// The visit.
    #[arg(long)]
    pub visit: String,
    /// Lot TOML (or .json) file.
    #[arg(long)]
    pub lot: PathBuf,
    /// Protocol TOML or JSON file (default: CARE-SSc); with --site, the trial file.
    #[arg(long)]
    pub protocol: Option<PathBuf>,
    /// The site file ([label] and [site]) read with the trial file of
    /// --protocol (default: the CARE-SSc trial).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// ISO 8601 time with its offset; for a placebo, the thaw time of its session.
    #[arg(long)]
    pub thawed_at: String,
    /// When the bag is prepared (ISO 8601 with its offset).
    #[arg(long)]
    pub prepared_at: Option<String>,
    /// Scheduled start of the infusion (ISO 8601 with its offset).
    #[arg(long)]
    pub infusion_at: Option<String>,
    /// With its unit, where the protocol doses on it.
    #[arg(long)]
    pub baseline_weight: Option<String>,
    /// The bag id to print on the label.
    #[arg(long)]
    pub bag_id: Option<String>,
    /// The sequence number of the bag's ISBT 128 DIN, for a site whose
    /// label carries one: the next of the facility's counter.
    #[arg(long, value_name = "N")]
    pub din_sequence: Option<u32>,
    /// Also write DIR/label.pdf and DIR/worksheet.pdf.
    #[arg(long, value_name = "DIR")]
    pub pdf: Option<PathBuf>,
    /// Also write the label as ZPL II to FILE (a file, or the printer's
    /// device), for the site's thermal printer ([site] label_printer_dpi).
    #[arg(long, value_name = "FILE")]
    pub zpl: Option<PathBuf>,
    /// Print the preparation record (JSON).
    #[arg(long)]
    pub json: bool,
    /// Print only the blinded label.
    #[arg(long)]
    pub label_only: bool,
    /// Print only the worksheet.
    #[arg(long)]
    pub worksheet_only: bool,
}

/// `doseprep batch`.
#[derive(Debug, Args)]
pub struct Batch {
    /// CSV: participant,weight,arm,visit,thawed_at[,prepared_at,infusion_at,baseline_weight,bag_id,din_sequence].
    pub orders: PathBuf,
    /// Lot TOML (or .json) file.
    #[arg(long)]
    pub lot: PathBuf,
    /// Protocol TOML or JSON file (default: CARE-SSc); with --site, the trial file.
    #[arg(long)]
    pub protocol: Option<PathBuf>,
    /// The site file ([label] and [site]) read with the trial file of
    /// --protocol (default: the CARE-SSc trial).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
}

/// `doseprep day`.
#[derive(Debug, Args)]
pub struct Day {
    /// CSV, or a spreadsheet's first sheet (.xlsx, .xlsm, .xls, .ods):
    /// participant,visit,weight,infusion_at[,baseline_weight,arm,weighed_at].
    pub orders: PathBuf,
    /// CSV, or a spreadsheet's first sheet: participant,arm.
    #[arg(long)]
    pub randomization: PathBuf,
    /// TOML of [[lot]] tables (or .json), or a spreadsheet's first sheet
    /// (a row a lot, the columns a lot file's keys).
    #[arg(long)]
    pub lots: PathBuf,
    /// A new (or empty) folder for the day's documents.
    #[arg(long)]
    pub out: PathBuf,
    /// Protocol TOML or JSON file (default: CARE-SSc); with --site, the trial file.
    #[arg(long)]
    pub protocol: Option<PathBuf>,
    /// The site file ([label] and [site]) read with the trial file of
    /// --protocol (default: the CARE-SSc trial).
    #[arg(long, value_name = "FILE")]
    pub site: Option<PathBuf>,
    /// Also write labels.pdf and worksheets.pdf.
    #[arg(long)]
    pub pdf: bool,
    /// Also write labels.zpl, the labels in ZPL II for the site's thermal
    /// printer ([site] label_printer_dpi).
    #[arg(long)]
    pub zpl: bool,
    /// Record the planned day in this ledger, an SQLite file or a PostgreSQL
    /// URL (needs --initials or --user).
    #[arg(long, value_name = "DB", requires = "recorder")]
    pub ledger: Option<PathBuf>,
    /// Who records the day in a ledger without users.
    #[arg(long, requires = "ledger", group = "recorder")]
    pub initials: Option<String>,
    /// The workstation recording the day, in a ledger with a site.
    #[arg(long, requires = "ledger")]
    pub workstation: Option<String>,
    /// The user who signs the day in a ledger with users (passphrase as
    /// for every signing: the terminal, or standard input's first line).
    #[arg(long, requires = "ledger", group = "recorder")]
    pub user: Option<String>,
}

/// `doseprep reprint`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("bags").args(["bag", "date"]).multiple(true).required(true)))]
pub struct Reprint {
    /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
    pub db: PathBuf,
    /// A bag id as printed (repeat for more).
    #[arg(long)]
    pub bag: Vec<String>,
    /// Every bag of that day, YYYY-MM-DD (site clock): prepared on it, or
    /// planned for a session thawed on it; none destroyed or cancelled.
    #[arg(long)]
    pub date: Option<String>,
    /// A new folder for the documents.
    #[arg(long)]
    pub out: PathBuf,
    /// Also labels.pdf and worksheets.pdf.
    #[arg(long)]
    pub pdf: bool,
    /// Also labels.zpl, for the thermal printer of the site that recorded
    /// the bags ([site] label_printer_dpi of their records).
    #[arg(long)]
    pub zpl: bool,
}

/// Who records an event, and when.
#[derive(Debug, Args)]
pub struct Who {
    /// ISO 8601 time with its offset, e.g. 2026-11-25T09:00:00-05:00.
    #[arg(long)]
    pub at: String,
    #[command(flatten)]
    pub signer: Signer,
    /// A comment kept with the event.
    #[arg(long)]
    pub comment: Option<String>,
}

/// Who signs: initials, in a ledger without users; a registered user
/// (their passphrase read from the terminal, unechoed, or from the first
/// line of standard input when it is not a terminal), in one with users.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("signer").args(["initials", "user"]).required(true)))]
pub struct Signer {
    /// The initials of the person recording (a ledger without users).
    #[arg(long)]
    pub initials: Option<String>,
    /// The user id of the person signing (a ledger with users).
    #[arg(long)]
    pub user: Option<String>,
    /// Why the event is recorded later than the ledger's late-entry limit
    /// after it happened (only then).
    #[arg(long)]
    pub late_reason: Option<String>,
}

/// `doseprep ledger ...`.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Start a new, empty ledger file.
    Init {
        /// The new ledger: an SQLite file (must not exist), or the URL of an empty PostgreSQL database.
        db: PathBuf,
    },
    /// Start the trial's central ledger, where sites push theirs, in an
    /// empty PostgreSQL database.
    InitCentral {
        /// The empty database's URL (postgresql://...).
        url: String,
    },
    /// Push a site's ledger to the central ledger: the events the centre
    /// lacks, after checking that those it holds are this ledger's own.
    /// Run it again at any time: it sends what is new, or nothing.
    Push {
        /// The site's ledger: its SQLite file or PostgreSQL URL.
        db: PathBuf,
        /// The central ledger's URL (postgresql://...).
        url: String,
        /// The site's short name at the centre (e.g. JGH, AP-HP): 1 to 32
        /// letters, digits, '.', '-' or '_'.
        #[arg(long)]
        site: String,
    },
    /// Record lots received (from the sponsor or depot; or, with
    /// --from-site, one lot shipped from another site).
    Receive {
        /// The ledger: its SQLite file or PostgreSQL URL (start one with 'doseprep ledger init').
        db: PathBuf,
        /// TOML of [[lot]] tables (or one lot, or .json).
        lots: PathBuf,
        /// The site the lot was shipped from (its code); the lots file
        /// holds that one lot.
        #[arg(long, requires_all = ["shipment", "shipped_containers"])]
        from_site: Option<String>,
        /// The sending site's ship event (its number, as its ledger printed it).
        #[arg(long, requires = "from_site")]
        shipment: Option<i64>,
        /// The sending site's numbers of the containers, in the order this
        /// receipt numbers them: 3,4,7.
        #[arg(long, requires = "from_site", value_parser = container_numbers)]
        shipped_containers: Option<ContainerNumbers>,
        #[command(flatten)]
        who: Who,
    },
    /// Set the ledger's site, once: from then on every event names the
    /// site and the workstation (--workstation) that wrote it.
    SetSite {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The site's code, as the trial names it (e.g. JGH, AP-HP): 1 to 32
        /// letters, digits, '.', '-' or '_'.
        site: String,
        /// The site's name, as printed.
        #[arg(long)]
        name: String,
        #[command(flatten)]
        signer: Signer,
    },
    /// Ship containers in stock to another site: they leave this site's
    /// stock; the other site receives them naming this event.
    Ship {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The lot.
        lot: String,
        /// Container numbers: 1,2,5.
        #[arg(long, value_parser = container_numbers)]
        containers: ContainerNumbers,
        /// The site they go to (its code).
        #[arg(long)]
        to_site: String,
        #[command(flatten)]
        who: Who,
    },
    /// The sponsor's view of the central ledger: each site's lots and
    /// bags, every lot over all sites, shipments not yet received.
    Central {
        /// The central ledger's URL (postgresql://...).
        url: String,
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Each lot's containers.
    Balance {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// Lot ids (default: every lot).
        lot: Vec<String>,
    },
    /// Walk the hash chain, and hold it against checkpoints kept elsewhere.
    Verify {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// A file of checkpoints, one JSON line each (as `ledger checkpoint` writes).
        #[arg(long)]
        checkpoints: Option<PathBuf>,
        /// full: the chain, every event replayed through the rules, the state
        /// tables; chain: hashes, links and head only (the quick daily check).
        #[arg(long, value_enum, default_value = "full")]
        scope: VerifyScope,
        /// With --scope chain: check only the events after a checkpoint's,
        /// the last line of this file (as `ledger checkpoint >> FILE`
        /// appends them); its own event must still hash as it saw it.
        #[arg(long)]
        since: Option<PathBuf>,
    },
    /// Verify the ledger and print its head as one JSON line, to keep elsewhere.
    Checkpoint {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The user who takes it, signed in (passphrase as for a signing);
        /// the line names them as taken_by.
        #[arg(long)]
        user: Option<String>,
    },
    /// Archive the whole ledger for the long term into a new folder: events
    /// as JSON lines, their schemas, the hash formula, the checkpoints, a
    /// verifier needing only Python's standard library, SHA-256 sums.
    Archive {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The new folder (must not exist, or be empty).
        out: PathBuf,
        /// A file of checkpoints kept elsewhere, one JSON line each: held
        /// against the ledger and archived with it.
        #[arg(long)]
        checkpoints: Option<PathBuf>,
    },
    /// Register a user who signs events (the first one, an administrator,
    /// unsigned; later ones signed by an administrator, --signer). The new
    /// passphrase is read as a signer's is (twice at a terminal).
    AddUser {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The id they sign in with (1 to 32 of a-z, 0-9, '.', '-', '_').
        user_id: String,
        /// Their full name, as printed beside their signature.
        #[arg(long)]
        full_name: String,
        /// Their initials, printed on documents.
        #[arg(long)]
        initials: String,
        /// pharmacist, checker, nurse, monitor or administrator.
        #[arg(long)]
        role: String,
        /// The administrator who registers them (all but the first user);
        /// their passphrase is read first.
        #[arg(long)]
        signer: Option<String>,
    },
    /// Disable a user (signed by an administrator, --user): they sign
    /// nothing from then on.
    DisableUser {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The user to disable.
        user_id: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The administrator who disables them (passphrase as for a signing).
        #[arg(long)]
        user: String,
    },
    /// Change your passphrase: the current one, then the new one (twice at
    /// a terminal), read as a signer's passphrase is.
    ChangePassphrase {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// Your user id.
        user_id: String,
    },
    /// Reset a user's forgotten passphrase (signed by an administrator,
    /// --user): their passphrase is read, then the new one (twice at a
    /// terminal), which the administrator gives to the user.
    ResetPassphrase {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The user whose passphrase is reset.
        user_id: String,
        /// The administrator who resets it.
        #[arg(long)]
        user: String,
    },
    /// Set the ledger's late-entry limit (the site's setting): an event
    /// written later than this after the time it gives needs --late-reason.
    Configure {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The limit, e.g. "4 h" (whole minutes, 1 min to a week).
        #[arg(long)]
        late_entry_after: String,
        /// The administrator who sets it (passphrase as for a signing).
        #[arg(long)]
        user: String,
    },
    /// The registered users.
    Users {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
    },
    /// Containers of a lot thawed, when they are (a day's plan records
    /// what is to be thawed, not the thaw).
    Thaw {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The lot.
        lot: String,
        /// Container numbers: 1,2,5.
        #[arg(long, value_parser = container_numbers)]
        containers: ContainerNumbers,
        #[command(flatten)]
        who: Who,
    },
    /// A planned bag prepared as planned (`day --ledger` records the plan),
    /// at the time it was made.
    PreparePlanned {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The bag id as printed.
        bag: String,
        #[command(flatten)]
        who: Who,
    },
    /// A planned bag cancelled before it was made: its draws go back to its
    /// containers, its visit may be planned again, its label is not
    /// printed again.
    Cancel {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The bag id as printed.
        bag: String,
        /// Why (kept in the record).
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        who: Who,
    },
    /// A prepared bag checked by a second user, before it is dispensed.
    Check {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The bag id as printed.
        bag: String,
        #[command(flatten)]
        who: Who,
    },
    /// Correct an earlier event's time, or a dispense's recipient, with the
    /// reason (the event stays as recorded; the correction is an event).
    Correct {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The number of the event to correct.
        seq: i64,
        /// Why.
        #[arg(long)]
        reason: String,
        /// The time the event happened, corrected (ISO 8601 with its offset).
        #[arg(long)]
        corrected_at: Option<String>,
        /// The recipient of a dispensed bag, corrected.
        #[arg(long)]
        to: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// The periodic review: overrides, short infusions, late and future-dated entries,
    /// destructions, cancelled bags, open plans and count differences of the events
    /// written in a period.
    Audit {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// An entry written more than this after the time it gives is late: "4 h", "30 min".
        #[arg(long)]
        late_after: String,
        /// Events written at or after this time (ISO 8601 with its offset); default: the first.
        #[arg(long)]
        from: Option<String>,
        /// Events written before this time (ISO 8601 with its offset); default: the last.
        #[arg(long)]
        to: Option<String>,
    },
    /// A bag handed over.
    Dispense {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The bag id as printed (case and hyphens do not matter).
        bag: String,
        /// The ward or person who takes the bag.
        #[arg(long)]
        to: String,
        #[command(flatten)]
        who: Who,
    },
    /// A bag infused.
    Administer(Administer),
    /// A bag, or containers of a lot, destroyed.
    Destroy(Destroy),
    /// Containers returned from stock.
    Return {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The lot.
        lot: String,
        /// Container numbers: 1,2,5.
        #[arg(long, value_parser = container_numbers)]
        containers: ContainerNumbers,
        #[command(flatten)]
        who: Who,
    },
    /// Record a count of a lot's containers (also: reconcile).
    #[command(alias = "reconcile")]
    Count {
        /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
        db: PathBuf,
        /// The lot.
        lot: String,
        /// Containers counted on hand: a whole number from 0.
        #[arg(long, value_parser = container_count)]
        counted: u32,
        #[command(flatten)]
        who: Who,
    },
    /// The log as CSV, blinded CSV or FHIR.
    Export(Export),
}

/// How much `ledger verify` checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyScope {
    /// The chain, every event replayed through the rules, the state tables.
    Full,
    /// Hashes, links and the head only.
    Chain,
}

/// `doseprep ledger administer`.
#[derive(Debug, Args)]
pub struct Administer {
    /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
    pub db: PathBuf,
    /// The bag id as printed.
    pub bag: String,
    /// Who received it.
    #[arg(long)]
    pub participant: String,
    /// ISO 8601 time with its offset.
    #[arg(long)]
    pub started_at: String,
    /// ISO 8601 time with its offset; the event is recorded at it.
    #[arg(long)]
    pub ended_at: String,
    #[command(flatten)]
    pub signer: Signer,
    /// Why a bag was given after its infuse-by time.
    #[arg(long)]
    pub override_reason: Option<String>,
    /// Why the infusion ran shorter than the site's shortest infusion
    /// (`site.shortest_infusion` in the bag's protocol).
    #[arg(long)]
    pub short_reason: Option<String>,
    /// A comment kept with the event.
    #[arg(long)]
    pub comment: Option<String>,
}

/// `doseprep ledger destroy`: a bag, or containers of a lot.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").args(["bag", "lot"]).required(true)))]
pub struct Destroy {
    /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
    pub db: PathBuf,
    /// The bag id as printed.
    #[arg(long)]
    pub bag: Option<String>,
    /// The lot of the containers (with --containers).
    #[arg(long, requires = "containers")]
    pub lot: Option<String>,
    /// Container numbers: 1,2,5 (with --lot).
    #[arg(long, value_parser = container_numbers, requires = "lot")]
    pub containers: Option<ContainerNumbers>,
    /// Why (kept in the record).
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub who: Who,
}

/// `doseprep ledger export`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("kind").args(["csv", "blinded", "fhir"]).required(true)))]
pub struct Export {
    /// The ledger: its SQLite file, or its PostgreSQL URL (postgresql://...).
    pub db: PathBuf,
    /// The accountability log (UNBLINDED: pharmacy only).
    #[arg(long)]
    pub csv: bool,
    /// Bag ids and volumes only.
    #[arg(long)]
    pub blinded: bool,
    /// A bag as a FHIR R4 Bundle (UNBLINDED: pharmacy only).
    #[arg(long, value_name = "BAG_ID")]
    pub fhir: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Container numbers as given: whole numbers from 1, at least one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerNumbers(pub Vec<u32>);

fn container_numbers(text: &str) -> Result<ContainerNumbers, String> {
    let numbers: Option<Vec<u32>> = text
        .split(',')
        .map(|part| part.trim().parse::<u32>().ok().filter(|&n| n >= 1))
        .collect();
    match numbers {
        Some(numbers) if !numbers.is_empty() => Ok(ContainerNumbers(numbers)),
        _ => Err(format!(
            "{text:?} is not a list of container numbers; give them as 1,2,5"
        )),
    }
}

fn container_count(text: &str) -> Result<u32, String> {
    text.trim().parse::<u32>().map_err(|_| {
        format!("{text:?} is not a count of containers from 0; count the containers on hand")
    })
}
