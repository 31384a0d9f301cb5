//! Each command: its arguments handed to the doseprep crates, and what it
//! prints. No rule lives here.

use std::io::Write;
use std::path::Path;

use doseprep::{parse_time, BagId, Order, PreparationRecord};
use doseprep_day::{files, DayError, DayFiles, NewFolder, PrintDate, Printed, Recording};
use doseprep_ledger::{By, Entry, Infusion, Ledger, NewUser, Passphrase, Role};

use crate::args::{Cli, Command, LedgerCommand, Signer, VerifyScope, Who};

/// Why a command stopped: an input refused, or output that could not be
/// written.
#[derive(Debug)]
pub enum Failure {
    /// The crates refused an input, or a file could not be read or written
    /// (boxed: the command's results are small, its errors rare).
    Day(Box<DayError>),
    /// Standard output or error could not be written (a closed pipe).
    Output(std::io::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Day(error) => write!(f, "{error}"),
            Failure::Output(error) => write!(f, "the output could not be written: {error}"),
        }
    }
}

impl Failure {
    /// The exit status: 3 for a fault of the system (the output included),
    /// 2 for a mistake in the input.
    pub fn status(&self) -> u8 {
        match self {
            Failure::Day(error) if !error.is_system_fault() => 2,
            Failure::Day(_) | Failure::Output(_) => 3,
        }
    }
}

impl<E: Into<DayError>> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure::Day(Box::new(error.into()))
    }
}

type Outcome = Result<u8, Failure>;

/// Print a line (or text ending in one) to a stream.
macro_rules! say {
    ($stream:expr, $($arg:tt)*) => {
        writeln!($stream, $($arg)*).map_err(Failure::Output)?
    };
}

/// Text as it is, without a newline added.
fn put(stream: &mut dyn Write, text: &str) -> Result<(), Failure> {
    stream.write_all(text.as_bytes()).map_err(Failure::Output)
}

/// Run one parsed command.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    match cli.command {
        Command::Demo => {
            put(out, &doseprep_day::demo()?)?;
            Ok(0)
        }
        Command::Prepare(args) => prepare_one(args, out, err),
        Command::Batch(args) => batch(args, out, err),
        Command::Verify { record } => verify(&record, out, err),
        Command::Day(args) => day(args, out, err),
        Command::Reprint(args) => reprint(args, out),
        Command::Ledger(args) => ledger(args.command, args.workstation.as_deref(), out),
    }
}

/// A folder as the user wrote it, without a trailing separator.
fn shown(path: &Path) -> String {
    path.components().as_path().display().to_string()
}

fn prepare_one(args: crate::args::Prepare, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    let protocol = files::protocol(args.protocol.as_deref(), args.site.as_deref())?;
    let lot = files::lot(&args.lot)?;
    let mut order = Order::with_weight_text(
        &args.participant,
        &args.weight,
        &args.arm,
        &args.visit,
        parse_time("thawed_at", &args.thawed_at)?,
    )?;
    if let Some(at) = &args.prepared_at {
        order = order.prepared(parse_time("prepared_at", at)?);
    }
    if let Some(at) = &args.infusion_at {
        order = order.infusion(parse_time("infusion_at", at)?);
    }
    if let Some(weight) = &args.baseline_weight {
        order = order.baseline_text(weight)?;
    }
    if let Some(id) = &args.bag_id {
        order = order.with_bag_id(BagId::parse(id)?);
    }
    if let Some(number) = args.din_sequence {
        order = order.with_din_sequence(doseprep::DinSequence::new(number)?);
    }
    let record = PreparationRecord::prepare(&protocol, &order, &lot)?;
    if let Some(folder) = &args.pdf {
        let names = doseprep_day::documents::write_bag_pdfs(folder, &record)?;
        say!(err, "written to {}/: {}", shown(folder), names.join(", "));
    }
    if let Some(path) = &args.zpl {
        doseprep_day::documents::write_label_zpl(path, &record)?;
        say!(err, "label (ZPL) written to {}", path.display());
    }
    let label = doseprep::blinded_label(&record);
    if args.json {
        say!(out, "{}", record.to_json()?);
    } else if args.label_only {
        put(out, &label)?;
    } else if args.worksheet_only {
        put(out, &doseprep::worksheet(&record))?;
    } else {
        say!(out, "{}", doseprep::worksheet(&record));
        put(out, &doseprep_day::demo::rule("blinded label"))?;
        put(out, &label)?;
    }
    Ok(0)
}

fn batch(args: crate::args::Batch, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    let protocol = files::protocol(args.protocol.as_deref(), args.site.as_deref())?;
    let lot = files::lot(&args.lot)?;
    let batch = doseprep_day::batch(&protocol, &lot, &args.orders)?;
    for line in &batch.lines {
        say!(out, "{line}");
    }
    if batch.failed > 0 {
        say!(
            err,
            "doseprep: {} of {} orders failed",
            batch.failed,
            batch.lines.len()
        );
        return Ok(1);
    }
    Ok(0)
}

fn verify(path: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    let verification = files::record(path)?.verify()?;
    if let Some(version) = &verification.verified_with_other_version {
        say!(
            out,
            "note: verified with doseprep {version}, not the version that made the record"
        );
    }
    let name = path.display();
    if verification.ok() {
        say!(
            out,
            "{name}: OK, every field recomputes to the recorded value"
        );
        return Ok(0);
    }
    for difference in &verification.differences {
        say!(
            out,
            "{}: recorded {}, recomputed {}",
            difference.field,
            difference.recorded,
            difference.recomputed
        );
    }
    say!(
        err,
        "{name}: {} difference(s)",
        verification.differences.len()
    );
    Ok(1)
}

fn day(args: crate::args::Day, out: &mut dyn Write, err: &mut dyn Write) -> Outcome {
    // Every file is checked before anything is planned, recorded or written.
    let folder = NewFolder::check(&args.out)?;
    let mut ledger = args
        .ledger
        .as_deref()
        .map(|at| -> Result<Ledger, Failure> {
            let ledger = Ledger::open_at(at.as_os_str())?;
            Ok(match &args.workstation {
                Some(workstation) => ledger.with_workstation(workstation)?,
                None => ledger,
            })
        })
        .transpose()?;
    let signer = Signer {
        initials: args.initials.clone(),
        user: args.user.clone(),
        // A plan is dated when it is written: it is never late.
        late_reason: None,
    };
    let recording = match &mut ledger {
        // clap makes --ledger need one of --initials and --user.
        Some(ledger) => {
            let by = by(ledger, &signer)?;
            Some(Recording { ledger, by })
        }
        None => None,
    };
    let files = DayFiles {
        orders: &args.orders,
        randomization: &args.randomization,
        lots: &args.lots,
        protocol: args.protocol.as_deref(),
        site: args.site.as_deref(),
    };
    let mut notes = Vec::new();
    let run = doseprep_day::run_day(
        files,
        folder,
        Printed::of(args.pdf, args.zpl),
        recording,
        &mut |note| notes.push(note.to_string()),
    );
    // Told whether or not the day then went through.
    for note in &notes {
        say!(err, "doseprep: {note}");
    }
    let run = run?;
    put(out, &run.plan.summary())?;
    say!(
        out,
        "written to {}/: {}",
        shown(&run.published.out),
        run.published.written.join(", ")
    );
    if let (Some(first), Some(last)) = (
        run.published.recorded.first(),
        run.published.recorded.last(),
    ) {
        say!(out, "recorded in the ledger: events {first} to {last}");
    }
    let not_planned = run.not_planned();
    if not_planned > 0 {
        say!(
            err,
            "doseprep: {not_planned} of {} order rows not planned (see day.csv)",
            run.plan.bags.len()
        );
        return Ok(1);
    }
    Ok(0)
}

fn reprint(args: crate::args::Reprint, out: &mut dyn Write) -> Outcome {
    let ledger = Ledger::open_read_only_at(args.db.as_os_str())?;
    let mut bags = args
        .bag
        .iter()
        .map(|id| BagId::parse(id))
        .collect::<doseprep::Result<Vec<_>>>()?;
    if let Some(date) = &args.date {
        bags.extend(doseprep_day::bags_prepared_on(
            &ledger,
            PrintDate::parse(date)?,
        )?);
    }
    let folder = NewFolder::check(&args.out)?;
    let reprinted = doseprep_day::reprint(&ledger, &bags, folder, Printed::of(args.pdf, args.zpl))?;
    say!(
        out,
        "reprinted {} bag(s) from the ledger to {}/",
        reprinted.bags,
        shown(&reprinted.out)
    );
    Ok(0)
}

fn entry(ledger: &mut Ledger, who: &Who) -> Result<Entry, Failure> {
    signed_entry(
        ledger,
        &who.signer,
        parse_time("at", &who.at)?,
        who.comment.as_deref(),
    )
}

/// An entry at `at`: with initials, or signed by `--user`, who is signed in
/// with both components (user id and passphrase) for this one command.
fn signed_entry(
    ledger: &mut Ledger,
    signer: &Signer,
    at: doseprep::ZonedDateTime,
    comment: Option<&str>,
) -> Result<Entry, Failure> {
    let entry = match by(ledger, signer)? {
        By::Initials(initials) => Entry::new(at, &initials, comment)?,
        By::Passphrase(passphrase) => Entry::signed(at, passphrase, comment)?,
    };
    Ok(match &signer.late_reason {
        Some(reason) => entry.with_late_reason(reason)?,
        None => entry,
    })
}

/// Who records: `--initials`, or `--user` signed in with their passphrase.
fn by(ledger: &mut Ledger, signer: &Signer) -> Result<By, Failure> {
    match (&signer.initials, &signer.user) {
        (Some(initials), _) => Ok(By::Initials(initials.clone())),
        (None, Some(user)) => {
            let passphrase = passphrase(&format!("Passphrase for {user}: "))?;
            ledger.sign_in(user, &passphrase)?;
            Ok(By::Passphrase(passphrase))
        }
        // clap requires one of --initials and --user.
        (None, None) => Err(Failure::from(doseprep::DoseError::InvalidInput {
            field: "initials".to_owned(),
            reason: "give --initials (a ledger without users) or --user".to_owned(),
        })),
    }
}

/// A new passphrase for `user_id`: typed twice at a terminal (the two must
/// agree), once on standard input.
fn new_passphrase(user_id: &str) -> Result<Passphrase, Failure> {
    let new = passphrase(&format!("New passphrase for {user_id}: "))?;
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        let again = passphrase(&format!("The same again for {user_id}: "))?;
        if again != new {
            return Err(Failure::from(doseprep::DoseError::InvalidInput {
                field: "passphrase".to_owned(),
                reason: "the two passphrases typed differ; type the same twice".to_owned(),
            }));
        }
    }
    Ok(new)
}

/// A passphrase: typed at the terminal, unechoed, or the next line of
/// standard input when it is not a terminal (a script's pipe).
fn passphrase(prompt: &str) -> Result<Passphrase, Failure> {
    use std::io::{BufRead as _, IsTerminal as _};
    let stdin = std::io::stdin();
    let read = if stdin.is_terminal() {
        rpassword::prompt_password(prompt)
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line).map(|_| {
            let end = line.trim_end_matches(['\n', '\r']).len();
            line.truncate(end);
            line
        })
    };
    let text = read.map_err(|source| doseprep_day::DayError::Read {
        path: "standard input (the passphrase)".into(),
        source,
    })?;
    Ok(Passphrase::new(&text))
}

fn numbers(containers: &[u32]) -> String {
    containers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The checkpoints of a file of JSON lines, none without a file.
fn checkpoint_lines(
    path: Option<&std::path::Path>,
) -> Result<Vec<doseprep_ledger::Checkpoint>, Failure> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    Ok(files::read_text(path)?
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(doseprep_ledger::Checkpoint::from_json)
        .collect::<Result<Vec<_>, _>>()?)
}

fn ledger(command: LedgerCommand, workstation: Option<&str>, out: &mut dyn Write) -> Outcome {
    // The ledger at `db`, writing at the workstation given, where one is.
    let open = |db: &std::path::Path| -> Result<Ledger, Failure> {
        let ledger = Ledger::open_at(db.as_os_str())?;
        Ok(match workstation {
            Some(workstation) => ledger.with_workstation(workstation)?,
            None => ledger,
        })
    };
    match command {
        LedgerCommand::Init { db } => {
            let created = Ledger::create_at(db.as_os_str())?;
            say!(out, "{}: a new, empty ledger", created.path());
        }
        LedgerCommand::Receive {
            db,
            lots: lots_file,
            from_site: Some(from_site),
            shipment: Some(shipment),
            shipped_containers: Some(shipped),
            who,
        } => {
            let mut ledger = open(&db)?;
            let lots = files::lots(&lots_file)?;
            let [lot] = lots.as_slice() else {
                return Err(Failure::from(doseprep_day::DayError::OneLotForShipment {
                    path: lots_file,
                    lots: lots.len(),
                }));
            };
            let entry = entry(&mut ledger, &who)?;
            let before = ledger.lot_ids()?.iter().any(|id| id == lot.lot_id());
            let first = if before {
                ledger.balance(lot.lot_id())?.received + 1
            } else {
                1
            };
            let shipment = doseprep_ledger::Shipment {
                from_site,
                seq: shipment,
                containers: shipped.0,
            };
            let seq = ledger.receive_shipment(lot, &shipment, &entry)?;
            say!(
                out,
                "event {seq}: received lot {} from {} (its event {}), containers {} to {}",
                lot.lot_id(),
                shipment.from_site,
                shipment.seq,
                first,
                first + lot.containers() - 1
            );
        }
        LedgerCommand::SetSite {
            db,
            site,
            name,
            signer,
        } => {
            let mut ledger = open(&db)?;
            let by = by(&mut ledger, &signer)?;
            let seq = ledger.set_site(&site, &name, &by)?;
            say!(out, "event {seq}: this ledger is site {site}'s ({name})");
        }
        LedgerCommand::Ship {
            db,
            lot,
            containers,
            to_site,
            who,
        } => {
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.ship(&lot, &containers.0, &to_site, &entry)?;
            say!(
                out,
                "event {seq}: lot {lot} containers {} shipped to {to_site}",
                numbers(&containers.0)
            );
        }
        LedgerCommand::Central { url, json } => {
            let view = Ledger::central_view(&url)?;
            if json {
                say!(out, "{}", central_json(&view)?);
            } else {
                say!(out, "{}", central_text(&view).trim_end());
            }
        }
        LedgerCommand::Receive { db, lots, who, .. } => {
            let mut ledger = open(&db)?;
            let lots = files::lots(&lots)?;
            let mut lines = Vec::new();
            let entry = entry(&mut ledger, &who)?;
            let received = doseprep_day::receive_lots(&mut ledger, &lots, &entry, |r| {
                lines.push(format!(
                    "event {}: received lot {}, containers {} to {}",
                    r.seq, r.lot_id, r.first_container, r.last_container
                ));
            });
            // The receipts recorded before a refusal are printed all the same.
            for line in &lines {
                say!(out, "{line}");
            }
            received?;
        }
        LedgerCommand::Balance { db, lot } => {
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            let lots = if lot.is_empty() {
                ledger.lot_ids()?
            } else {
                lot
            };
            for lot_id in &lots {
                let balance = ledger.balance(lot_id)?;
                say!(out, "lot {lot_id}: {}", balance_text(&balance));
                let receipts = ledger.receipts(lot_id)?;
                if receipts.len() > 1 {
                    for seq in receipts {
                        let balance = ledger.receipt_balance(lot_id, seq)?;
                        say!(out, "  receipt of event {seq}: {}", balance_text(&balance));
                    }
                }
            }
        }
        LedgerCommand::Checkpoint { db, user } => {
            // Signing in may record a failure, so it opens for writing.
            let ledger = match &user {
                Some(user) => {
                    let mut ledger = open(&db)?;
                    ledger.sign_in(user, &passphrase(&format!("Passphrase for {user}: "))?)?;
                    ledger
                }
                None => Ledger::open_read_only_at(db.as_os_str())?,
            };
            say!(out, "{}", ledger.checkpoint()?.to_json());
        }
        LedgerCommand::Archive {
            db,
            out: folder,
            checkpoints,
        } => {
            let checkpoints = checkpoint_lines(checkpoints.as_deref())?;
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            let archive = doseprep_day::write_archive(&ledger, &checkpoints, &folder)?;
            say!(
                out,
                "archived {} events (head {}) and {} checkpoints to {}; check it with `python3 {}`",
                archive.events,
                archive.checkpoint.head,
                checkpoints.len() + 1,
                folder.display(),
                folder.join("verify.py").display()
            );
        }
        LedgerCommand::AddUser {
            db,
            user_id,
            full_name,
            initials,
            role,
            signer,
        } => {
            let user = NewUser::new(&user_id, &full_name, &initials, Role::parse(&role)?)?;
            let mut ledger = open(&db)?;
            let signature = match &signer {
                Some(admin) => {
                    let passphrase = passphrase(&format!("Passphrase for {admin}: "))?;
                    ledger.sign_in(admin, &passphrase)?;
                    Some(passphrase)
                }
                None => None,
            };
            let new = new_passphrase(&user_id)?;
            let seq = ledger.register_user(&user, &new, signature.as_ref())?;
            say!(
                out,
                "event {seq}: user {user_id} ({full_name}, {role}) registered"
            );
        }
        LedgerCommand::DisableUser {
            db,
            user_id,
            reason,
            user,
        } => {
            let mut ledger = open(&db)?;
            let signature = passphrase(&format!("Passphrase for {user}: "))?;
            ledger.sign_in(&user, &signature)?;
            let seq = ledger.disable_user(&user_id, &reason, &signature)?;
            say!(out, "event {seq}: user {user_id} disabled ({reason})");
        }
        LedgerCommand::ChangePassphrase { db, user_id } => {
            let mut ledger = open(&db)?;
            let current = passphrase(&format!("Current passphrase for {user_id}: "))?;
            let new = new_passphrase(&user_id)?;
            let seq = ledger.change_passphrase(&user_id, &current, &new)?;
            say!(out, "event {seq}: user {user_id} changed their passphrase");
        }
        LedgerCommand::ResetPassphrase { db, user_id, user } => {
            let mut ledger = open(&db)?;
            let signature = passphrase(&format!("Passphrase for {user}: "))?;
            ledger.sign_in(&user, &signature)?;
            let new = new_passphrase(&user_id)?;
            let seq = ledger.reset_passphrase(&user_id, &new, &signature)?;
            say!(out, "event {seq}: passphrase of user {user_id} reset");
        }
        LedgerCommand::Configure {
            db,
            late_entry_after,
            user,
        } => {
            let after = doseprep::parse_duration("late_entry_after", &late_entry_after)?;
            let mut ledger = open(&db)?;
            let signature = passphrase(&format!("Passphrase for {user}: "))?;
            ledger.sign_in(&user, &signature)?;
            let seq = ledger.configure_late_entry_limit(after, &signature)?;
            say!(
                out,
                "event {seq}: late-entry limit set to {late_entry_after}"
            );
        }
        LedgerCommand::Users { db } => {
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            for user in ledger.users()? {
                say!(
                    out,
                    "{}\t{}\t{}\t{}\tregistered at event {}{}",
                    user.user_id,
                    user.full_name,
                    user.initials,
                    user.role.as_str(),
                    user.registered_seq,
                    user.disabled_seq
                        .map(|seq| format!(", disabled at event {seq}"))
                        .unwrap_or_default() // fallback-ok: a user not disabled has nothing more to say
                );
            }
        }
        LedgerCommand::Thaw {
            db,
            lot,
            containers,
            who,
        } => {
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.thaw(&lot, &containers.0, &entry)?;
            say!(
                out,
                "event {seq}: lot {lot} containers {} thawed",
                numbers(&containers.0)
            );
        }
        LedgerCommand::PreparePlanned { db, bag, who } => {
            let bag = BagId::parse(&bag)?;
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.prepare_planned(bag, &entry)?;
            say!(out, "event {seq}: bag {bag} prepared as planned");
        }
        LedgerCommand::Cancel {
            db,
            bag,
            reason,
            who,
        } => {
            let bag = BagId::parse(&bag)?;
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.cancel_bag(bag, &reason, &entry)?;
            say!(out, "event {seq}: bag {bag} cancelled ({reason})");
        }
        LedgerCommand::Check { db, bag, who } => {
            let bag = BagId::parse(&bag)?;
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.check(bag, &entry)?;
            say!(out, "event {seq}: bag {bag} checked");
        }
        LedgerCommand::Correct {
            db,
            seq,
            reason,
            corrected_at,
            to,
            who,
        } => {
            let corrected_at = corrected_at
                .as_deref()
                .map(|text| parse_time("corrected_at", text))
                .transpose()?;
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let number =
                ledger.correct(seq, corrected_at.as_ref(), to.as_deref(), &reason, &entry)?;
            say!(out, "event {number}: event {seq} corrected ({reason})");
        }
        LedgerCommand::Audit {
            db,
            late_after,
            from,
            to,
        } => {
            let late_after = doseprep::parse_duration("late_after", &late_after)?;
            let instant = |field: &str, text: &Option<String>| {
                text.as_deref()
                    .map(|text| parse_time(field, text).map(|time| time.timestamp()))
                    .transpose()
            };
            let (from, to) = (instant("from", &from)?, instant("to", &to)?);
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            let report = ledger.audit(from, to, late_after)?;
            say!(out, "{}", report.to_text(ledger.path()).trim_end());
            if !report.verification.ok() {
                return Ok(1);
            }
        }
        LedgerCommand::InitCentral { url } => {
            Ledger::create_central(&url)?;
            say!(
                out,
                "{}: a new, empty central ledger",
                doseprep_ledger::redacted_url(&url)
            );
        }
        LedgerCommand::Push { db, url, site } => {
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            let pushed = ledger.push(&url, &site)?;
            let head = pushed.head.as_ref().map_or_else(
                || "no event".to_owned(),
                |(seq, hash)| format!("event {seq}, head {hash}"),
            );
            say!(
                out,
                "site {}: {} events sent, {} held already; the centre holds {head}",
                pushed.site,
                pushed.sent,
                pushed.held
            );
        }
        LedgerCommand::Verify {
            db,
            checkpoints,
            scope,
            since,
        } => {
            let checkpoints = checkpoint_lines(checkpoints.as_deref())?;
            let since = match since {
                None => None,
                Some(path) => Some(checkpoint_lines(Some(&path))?.pop().ok_or_else(|| {
                    doseprep::DoseError::InvalidInput {
                        field: "since".to_owned(),
                        reason: format!(
                            "{} holds no checkpoint; give the file `doseprep ledger checkpoint` wrote",
                            path.display()
                        ),
                    }
                })?),
            };
            let ledger = Ledger::open_read_only_at(db.as_os_str())?;
            let chain_only = "hashes, links and head; events not replayed through the rules";
            let (verification, checked) = match (scope, since) {
                (VerifyScope::Full, Some(_)) => {
                    return Err(doseprep::DoseError::InvalidInput {
                        field: "since".to_owned(),
                        reason: "a full verify replays every event from the first, so it cannot start at a checkpoint; give --scope chain with --since, or drop --since".to_owned(),
                    }
                    .into())
                }
                (VerifyScope::Full, None) => {
                    (ledger.verify_against(&checkpoints)?, "ledger verified".to_owned())
                }
                (VerifyScope::Chain, None) => (
                    ledger.verify_chain(&checkpoints)?,
                    format!("ledger chain verified ({chain_only})"),
                ),
                (VerifyScope::Chain, Some(since)) => (
                    ledger.verify_chain_since(&since, &checkpoints)?,
                    format!(
                        "ledger chain verified after event {} ({chain_only}; the events before it not read)",
                        since.seq
                    ),
                ),
            };
            match &verification.problem {
                None => say!(
                    out,
                    "{checked}: {} events, head {}",
                    verification.events,
                    verification.head.as_deref().unwrap_or("none (no event)")
                ),
                Some(problem) => {
                    say!(out, "ledger does NOT verify: {}", problem.reason);
                    return Ok(1);
                }
            }
        }
        LedgerCommand::Dispense { db, bag, to, who } => {
            let bag = BagId::parse(&bag)?;
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.dispense(bag, &to, &entry)?;
            say!(out, "event {seq}: bag {bag} dispensed to {to}");
        }
        LedgerCommand::Administer(args) => {
            let bag = BagId::parse(&args.bag)?;
            let infusion = Infusion {
                started_at: parse_time("started_at", &args.started_at)?,
                ended_at: parse_time("ended_at", &args.ended_at)?,
                override_reason: args.override_reason.clone(),
                short_reason: args.short_reason.clone(),
            };
            let mut ledger = open(&args.db)?;
            let entry = signed_entry(
                &mut ledger,
                &args.signer,
                infusion.ended_at.clone(),
                args.comment.as_deref(),
            )?;
            let seq = ledger.administer(bag, &args.participant, &infusion, &entry)?;
            say!(out, "event {seq}: bag {bag} given to {}", args.participant);
        }
        LedgerCommand::Destroy(args) => {
            let mut ledger = open(&args.db)?;
            let entry = entry(&mut ledger, &args.who)?;
            match (&args.bag, &args.lot, &args.containers) {
                (Some(bag), _, _) => {
                    let bag = BagId::parse(bag)?;
                    let seq = ledger.destroy_bag(bag, &args.reason, &entry)?;
                    say!(out, "event {seq}: bag {bag} destroyed ({})", args.reason);
                }
                (None, Some(lot), Some(containers)) => {
                    let seq =
                        ledger.destroy_containers(lot, &containers.0, &args.reason, &entry)?;
                    say!(
                        out,
                        "event {seq}: lot {lot} containers {} destroyed ({})",
                        numbers(&containers.0),
                        args.reason
                    );
                }
                // clap requires --bag, or --lot with --containers.
                (None, _, _) => {
                    return Err(Failure::from(doseprep::DoseError::InvalidInput {
                        field: "destroy".to_owned(),
                        reason: "destroy takes --bag ID, or --lot ID with --containers 1,2"
                            .to_owned(),
                    }))
                }
            }
        }
        LedgerCommand::Return {
            db,
            lot,
            containers,
            who,
        } => {
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let seq = ledger.return_containers(&lot, &containers.0, &entry)?;
            say!(
                out,
                "event {seq}: lot {lot} containers {} returned",
                numbers(&containers.0)
            );
        }
        LedgerCommand::Count {
            db,
            lot,
            counted,
            who,
        } => {
            let mut ledger = open(&db)?;
            let entry = entry(&mut ledger, &who)?;
            let count = ledger.reconcile(&lot, counted, &entry)?;
            let verdict = match count.difference {
                0 => "agrees".to_owned(),
                d if d < 0 => format!("{} missing", -d),
                d => format!("{d} more than expected"),
            };
            say!(
                out,
                "lot {}: counted {}, expected {}: {verdict} (event {})",
                count.lot_id,
                count.counted,
                count.expected,
                count.seq
            );
            return Ok(if count.difference == 0 { 0 } else { 1 });
        }
        LedgerCommand::Export(args) => {
            let ledger = Ledger::open_read_only_at(args.db.as_os_str())?;
            let text = match &args.fhir {
                Some(bag) => {
                    let bundle = ledger.fhir_bundle(BagId::parse(bag)?)?;
                    let json = serde_json::to_string_pretty(&bundle).map_err(|error| {
                        DayError::from(doseprep::DoseError::InvalidRecord {
                            reason: format!("the FHIR bundle has no JSON form ({error})"),
                        })
                    })?;
                    json + "\n"
                }
                None if args.blinded => ledger.blinded_csv()?,
                None => ledger.accountability_csv()?,
            };
            match &args.out {
                Some(path) => doseprep_day::folder::replace_file(path, text.as_bytes())?,
                None => put(out, &text)?,
            }
        }
    }
    Ok(0)
}

fn balance_text(b: &doseprep_ledger::Balance) -> String {
    format!(
        "received {}, thawed {}, destroyed {} (and {} after thaw), returned {}, shipped {}, on hand {}",
        b.received, b.thawed, b.destroyed, b.destroyed_after_thaw, b.returned, b.shipped, b.on_hand
    )
}

/// The central view as JSON.
fn central_json(view: &doseprep_ledger::CentralView) -> Result<String, Failure> {
    serde_json::to_string_pretty(view).map_err(|error| {
        Failure::from(doseprep_ledger::LedgerError::Database {
            fault: doseprep_ledger::DatabaseFault::Other,
            detail: format!("the central view could not be written as JSON: {error}"),
            sqlite: None,
            file: None,
        })
    })
}

/// The central view as a person reads it: each site, each lot over all
/// sites, what is in transit.
fn central_text(view: &doseprep_ledger::CentralView) -> String {
    let mut text = String::new();
    let mut line = |l: String| {
        text.push_str(&l);
        text.push('\n');
    };
    if view.sites.is_empty() {
        line("no site has pushed its ledger yet".to_owned());
    }
    for site in &view.sites {
        line(format!(
            "site {}: {} events; bags made {}, administered {}, destroyed {}",
            site.site, site.events, site.bags_made, site.bags_administered, site.bags_destroyed
        ));
        for balance in &site.lots {
            line(format!(
                "  lot {}: {}",
                balance.lot_id,
                balance_text(balance)
            ));
        }
    }
    for lot in &view.lots {
        line(format!(
            "lot {} over all sites: received {}, on hand {}, in transit {}, thawed {}, destroyed {}, returned {}",
            lot.lot_id, lot.received, lot.on_hand, lot.in_transit, lot.thawed, lot.destroyed, lot.returned
        ));
    }
    for shipment in &view.in_transit {
        line(format!(
            "in transit: lot {} containers {} from {} (its event {}, {}) to {}",
            shipment.lot_id,
            numbers(&shipment.containers),
            shipment.from_site,
            shipment.seq,
            shipment.at,
            shipment.to_site
        ));
    }
    for receipt in &view.unmatched_receipts {
        line(format!(
            "receipt without its shipment: site {} event {} received lot {} from {} event {}, which the centre does not hold as a shipment of that lot to {}",
            receipt.site, receipt.seq, receipt.lot_id, receipt.from_site, receipt.shipment_seq, receipt.site
        ));
    }
    text
}
