//! `Ledger`: the accountability ledger (doseprep-ledger) from Python.
//! Arguments are converted, calls run without the GIL (a writer may wait
//! for another), and results and errors are mapped; the rules are the
//! ledger crate's.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use doseprep as core;
use doseprep_ledger as ledger;
use pyo3::prelude::*;

use crate::table::Table;

use crate::protocol::Protocol;

use crate::convert::{container_numbers, json_loads, BagIdArg, Number, TimeArg, WholeNumber};
use crate::day::DayPlan;
use crate::errors::ledger_error;
use crate::lot::Lot;
use crate::preparation::Preparation;
use crate::record::PreparationRecord;

/// The accountability ledger of a pharmacy: an SQLite file or a
/// PostgreSQL database of every container and bag, append-only and
/// hash-chained.
#[pyclass(frozen, module = "doseprep")]
pub struct Ledger {
    inner: Mutex<ledger::Ledger>,
    /// The file, or `None` on a PostgreSQL server.
    path: Option<PathBuf>,
    /// The file's path or the server's URL, its password left out.
    location: String,
}

/// A ledger's file, or `None` where `location` is a PostgreSQL URL.
fn file_of(location: &std::path::Path) -> Option<PathBuf> {
    match location.to_str() {
        Some(text) if ledger::is_postgres_url(text) => None,
        _ => Some(location.to_path_buf()),
    }
}

/// A lot's containers: received, and where they went.
#[pyclass(frozen, get_all, module = "doseprep")]
pub struct Balance {
    lot_id: String,
    received: u32,
    thawed: u32,
    destroyed: u32,
    destroyed_after_thaw: u32,
    returned: u32,
    shipped: u32,
    on_hand: u32,
}

#[pymethods]
impl Balance {
    fn __repr__(&self) -> String {
        format!(
            "Balance(lot_id={:?}, received={}, thawed={}, destroyed={}, destroyed_after_thaw={}, returned={}, shipped={}, on_hand={})",
            self.lot_id, self.received, self.thawed, self.destroyed, self.destroyed_after_thaw, self.returned, self.shipped, self.on_hand
        )
    }

    /// The balance as a table, for a notebook: containers of the lot.
    fn _repr_html_(&self) -> String {
        let counts = [
            self.received,
            self.thawed,
            self.destroyed,
            self.destroyed_after_thaw,
            self.returned,
            self.shipped,
            self.on_hand,
        ];
        doseprep_print::notebook::table(
            &format!("lot {}: containers", self.lot_id),
            &[
                "received",
                "thawed",
                "destroyed",
                "destroyed_after_thaw",
                "returned",
                "shipped",
                "on_hand",
            ],
            &[counts.iter().map(u32::to_string).collect()],
        )
    }
}

/// A count of a lot's containers against its balance (recorded as an event).
#[pyclass(frozen, get_all, module = "doseprep")]
pub struct Reconciliation {
    lot_id: String,
    counted: u32,
    expected: u32,
    difference: i64,
    seq: i64,
}

#[pymethods]
impl Reconciliation {
    /// True when the count equals the balance.
    #[getter]
    fn ok(&self) -> bool {
        self.difference == 0
    }

    fn __repr__(&self) -> String {
        format!(
            "Reconciliation(lot_id={:?}, counted={}, expected={}, difference={}, seq={})",
            self.lot_id, self.counted, self.expected, self.difference, self.seq
        )
    }
}

/// The ledger's head at one moment, to keep outside the file.
#[pyclass(frozen, eq, hash, module = "doseprep")]
#[derive(PartialEq, Eq, Hash)]
pub struct Checkpoint {
    inner: ledger::Checkpoint,
}

#[pymethods]
impl Checkpoint {
    /// The last event's number (0 for a ledger with no event).
    #[getter]
    fn seq(&self) -> i64 {
        self.inner.seq
    }

    /// The last event's hash.
    #[getter]
    fn head(&self) -> String {
        self.inner.head.clone()
    }

    /// When it was taken, RFC 3339 in UTC.
    #[getter]
    fn taken_at(&self) -> String {
        self.inner.taken_at.clone()
    }

    /// The user signed in when it was taken, or None.
    #[getter]
    fn taken_by(&self) -> Option<String> {
        self.inner.taken_by.clone()
    }

    /// One line of JSON, to keep elsewhere.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// A checkpoint read back from its line.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Checkpoint> {
        Ok(Checkpoint {
            inner: ledger::Checkpoint::from_json(text).map_err(ledger_error)?,
        })
    }

    fn __repr__(&self) -> String {
        format!("Checkpoint.from_json({:?})", self.inner.to_json())
    }
}

/// What `Ledger.verify()` found: the first problem, or none.
#[pyclass(frozen, get_all, module = "doseprep")]
pub struct LedgerVerification {
    /// What was checked: "full" (the chain, every event replayed through the
    /// rules, the state tables) or "chain" (hashes, links and head only).
    scope: &'static str,
    /// The last event's number.
    events: i64,
    /// The events checked are those after this one: 0 for the whole
    /// chain, the checkpoint's event for `verify(since=...)`.
    checked_after: i64,
    head: Option<String>,
    problem_seq: Option<i64>,
    problem: Option<String>,
}

#[pymethods]
impl LedgerVerification {
    /// True when the chain and the state check out.
    #[getter]
    fn ok(&self) -> bool {
        self.problem.is_none()
    }

    fn __bool__(&self) -> bool {
        self.ok()
    }

    fn __repr__(&self) -> String {
        match &self.problem {
            None => format!(
                "LedgerVerification(ok, scope={:?}, events={}, head={})",
                self.scope,
                self.events,
                self.head
                    .as_deref()
                    .map_or("None".to_owned(), |h| format!("{h:?}"))
            ),
            Some(problem) => format!(
                "LedgerVerification(problem_seq={}, problem={problem:?})",
                self.problem_seq
                    .map_or("None".to_owned(), |seq| seq.to_string())
            ),
        }
    }
}

/// Who records an entry, and its notes: a comment and, for an entry
/// written past the ledger's late-entry limit, why.
struct Recorder<'a> {
    initials: Option<&'a str>,
    passphrase: Option<&'a str>,
    comment: Option<&'a str>,
    late_reason: Option<&'a str>,
}

fn entry(at: &TimeArg<'_>, recorder: Recorder<'_>) -> PyResult<ledger::Entry> {
    entry_at(at.resolve("at")?, recorder)
}

fn entry_at(at: doseprep::ZonedDateTime, recorder: Recorder<'_>) -> PyResult<ledger::Entry> {
    let entry = match by(recorder.initials, recorder.passphrase)? {
        ledger::By::Initials(initials) => ledger::Entry::new(at, &initials, recorder.comment),
        ledger::By::Passphrase(passphrase) => {
            ledger::Entry::signed(at, passphrase, recorder.comment)
        }
    };
    match recorder.late_reason {
        Some(reason) => entry.and_then(|entry| entry.with_late_reason(reason)),
        None => entry,
    }
    .map_err(ledger_error)
}

/// Who records: `initials=` in a ledger without users, `passphrase=` (of the
/// user signed in) in one with users; exactly one of them.
pub(crate) fn by(initials: Option<&str>, passphrase: Option<&str>) -> PyResult<ledger::By> {
    match (initials, passphrase) {
        (Some(initials), None) => Ok(ledger::By::Initials(initials.to_owned())),
        (None, Some(passphrase)) => Ok(ledger::By::Passphrase(ledger::Passphrase::new(
            passphrase,
        ))),
        _ => Err(pyo3::exceptions::PyTypeError::new_err(
            "give initials= (a ledger without users) or passphrase= (the signed-in user's, in a ledger with users), one of them",
        )),
    }
}

fn draws(given: Vec<(String, WholeNumber, Number)>) -> PyResult<Vec<ledger::Draw>> {
    given
        .into_iter()
        .map(|(lot_id, container, Number(ml))| {
            let container = container
                .within("draws", 1u32, "give the number on the container")
                .map_err(crate::errors::to_py_err)?;
            let volume =
                core::ExactVolume::from_ml("draws", ml).map_err(crate::errors::to_py_err)?;
            Ok(ledger::Draw {
                lot_id,
                container,
                volume_ul: volume.microlitres(),
            })
        })
        .collect()
}

impl Ledger {
    fn lock(&self) -> PyResult<MutexGuard<'_, ledger::Ledger>> {
        self.inner.lock().map_err(|_| {
            pyo3::exceptions::PyRuntimeError::new_err(
                "the ledger's lock was poisoned by a failed call; open the ledger again",
            )
        })
    }

    /// The bags that stand for their visits, for planning a rerun.
    pub(crate) fn standing_bags(&self, py: Python<'_>) -> PyResult<Vec<core::RecordedBag>> {
        self.with(py, |l| l.standing_bags())
    }

    /// The next number of the facility's ISBT 128 DIN counter, for
    /// planning a day.
    pub(crate) fn din_from(
        &self,
        py: Python<'_>,
        protocol: &core::Protocol,
    ) -> PyResult<Option<core::DinSequence>> {
        self.with(py, |l| l.next_din_sequence(protocol))
    }

    /// The ledger's last event, verified, for a day's documents to print.
    pub(crate) fn mark(&self, py: Python<'_>) -> PyResult<core::LedgerMark> {
        let checkpoint = self.with(py, |l| l.checkpoint())?;
        Ok(core::LedgerMark {
            seq: checkpoint.seq,
            head: checkpoint.head,
        })
    }

    /// Run a day-on-disk `call` on the ledger without the GIL.
    pub(crate) fn with_day<T: Send>(
        &self,
        py: Python<'_>,
        call: impl FnOnce(&mut ledger::Ledger) -> doseprep_day::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.lock()?;
            call(&mut guard).map_err(crate::errors::day_error)
        })
    }

    /// Run `call` on the ledger without the GIL.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        call: impl FnOnce(&mut ledger::Ledger) -> ledger::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.lock()?;
            call(&mut guard).map_err(ledger_error)
        })
    }
}

#[pymethods]
impl Ledger {
    /// Open the ledger at `path`, an SQLite file or a PostgreSQL URL; a
    /// missing file is `FileNotFoundError` (opening never creates one: see
    /// `Ledger.create`).
    #[new]
    #[pyo3(signature = (path, /, *, workstation = None))]
    fn new(py: Python<'_>, path: PathBuf, workstation: Option<&str>) -> PyResult<Ledger> {
        let opened = py
            .detach(|| {
                let opened = ledger::Ledger::open_at(path.as_os_str())?;
                match workstation {
                    Some(workstation) => opened.with_workstation(workstation),
                    None => Ok(opened),
                }
            })
            .map_err(ledger_error)?;
        Ok(Ledger {
            location: opened.path().to_owned(),
            inner: Mutex::new(opened),
            path: file_of(&path),
        })
    }

    /// Open the ledger at `path` to read only (an auditor's write-protected
    /// copy): verify, export and read it; nothing is written to the file,
    /// and every event is refused (`FaultError`, code `database_read_only`).
    #[staticmethod]
    fn open_read_only(py: Python<'_>, path: PathBuf) -> PyResult<Ledger> {
        let opened = py
            .detach(|| ledger::Ledger::open_read_only_at(path.as_os_str()))
            .map_err(ledger_error)?;
        Ok(Ledger {
            location: opened.path().to_owned(),
            inner: Mutex::new(opened),
            path: file_of(&path),
        })
    }

    /// Start a new ledger at `path`: an SQLite file (one already there is
    /// `FileExistsError`), or the URL of an empty PostgreSQL database.
    #[staticmethod]
    #[pyo3(signature = (path, /, *, workstation = None))]
    fn create(py: Python<'_>, path: PathBuf, workstation: Option<&str>) -> PyResult<Ledger> {
        let created = py
            .detach(|| {
                let created = ledger::Ledger::create_at(path.as_os_str())?;
                match workstation {
                    Some(workstation) => created.with_workstation(workstation),
                    None => Ok(created),
                }
            })
            .map_err(ledger_error)?;
        Ok(Ledger {
            location: created.path().to_owned(),
            inner: Mutex::new(created),
            path: file_of(&path),
        })
    }

    /// The file; a ledger on a PostgreSQL server has none (`ValueError`
    /// naming its `location`).
    #[getter]
    fn path(&self) -> PyResult<PathBuf> {
        match &self.path {
            Some(path) => Ok(path.clone()),
            None => Err(pyo3::exceptions::PyValueError::new_err(format!(
                "the ledger {} is on a PostgreSQL server, not in a file: read Ledger.location",
                self.location
            ))),
        }
    }

    /// Where the ledger is: its file's path, or its PostgreSQL URL without
    /// the password.
    #[getter]
    fn location(&self) -> String {
        self.location.clone()
    }

    /// The workstation this ledger's events are written at, or None.
    #[getter]
    fn workstation(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |l| Ok(l.workstation().map(str::to_owned)))
    }

    /// The ledger's site (its code), or None before `set_site`.
    #[getter]
    fn site(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |l| Ok(l.site()?.map(|(site, _)| site)))
    }

    /// Set the ledger's site, once (`site` its code, e.g. "JGH"; `name` as
    /// printed): from this event on, every event names the site and the
    /// workstation that wrote it, so the ledger is opened with
    /// `workstation=`. Signed by the signed-in administrator
    /// (`passphrase=`) in a ledger with users; dated now. Returns the
    /// event's number.
    #[pyo3(signature = (site, /, *, name, initials = None, passphrase = None))]
    fn set_site(
        &self,
        py: Python<'_>,
        site: &str,
        name: &str,
        initials: Option<&str>,
        passphrase: Option<&str>,
    ) -> PyResult<i64> {
        let by = by(initials, passphrase)?;
        self.with(py, |l| l.set_site(site, name, &by))
    }

    /// Containers in stock shipped to another site (`to_site`, its code):
    /// they leave this site's stock; the other site receives them with
    /// `receive_shipment`, naming this event. Returns the event's number.
    #[pyo3(signature = (lot_id, containers, /, *, to_site, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn ship(
        &self,
        py: Python<'_>,
        lot_id: &str,
        containers: Vec<WholeNumber>,
        to_site: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let containers =
            container_numbers("containers", containers).map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.ship(lot_id, &containers, to_site, &entry))
    }

    /// A lot received from another site's shipment: `from_site` (its
    /// code), `shipment_seq` (its ship event) and `shipped_containers` (its
    /// numbers of the containers, in the order this receipt numbers them).
    /// Returns the event's number.
    #[pyo3(signature = (lot, /, *, from_site, shipment_seq, shipped_containers, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn receive_shipment(
        &self,
        py: Python<'_>,
        lot: &Lot,
        from_site: &str,
        shipment_seq: WholeNumber,
        shipped_containers: Vec<WholeNumber>,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let seq = shipment_seq
            .within(
                "shipment_seq",
                1i64,
                "give the number of the sending site's ship event",
            )
            .map_err(crate::errors::to_py_err)?;
        let containers = container_numbers("shipped_containers", shipped_containers)
            .map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        let shipment = ledger::Shipment {
            from_site: from_site.to_owned(),
            seq,
            containers,
        };
        let lot = lot.inner.clone();
        self.with(py, |l| l.receive_shipment(&lot, &shipment, &entry))
    }

    /// The sponsor's view of the central ledger at `url` (PostgreSQL), as a
    /// dict: `sites` (each site's `site`, `events`, `lots` (balances as
    /// dicts), `bags_made`, `bags_administered`, `bags_destroyed`), `lots`
    /// (each lot over all sites), `in_transit` (shipments not yet
    /// received) and `unmatched_receipts`.
    #[staticmethod]
    fn central_view<'py>(py: Python<'py>, url: &str) -> PyResult<Bound<'py, PyAny>> {
        let url = url.to_owned();
        let view = py
            .detach(|| ledger::Ledger::central_view(&url))
            .map_err(ledger_error)?;
        let text = serde_json::to_string(&view).map_err(crate::json_error)?;
        json_loads(py, &text)
    }

    /// The file's schema version.
    #[getter]
    fn schema_version(&self, py: Python<'_>) -> PyResult<i64> {
        self.with(py, |l| l.schema_version())
    }

    /// A lot received: containers 1 to `lot.containers`. Returns the event's number.
    #[pyo3(signature = (lot, /, *, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn receive(
        &self,
        py: Python<'_>,
        lot: &Lot,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        let lot = lot.inner.clone();
        self.with(py, |l| l.receive(&lot, &entry))
    }

    /// Containers of a lot thawed.
    #[pyo3(signature = (lot_id, containers, /, *, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn thaw(
        &self,
        py: Python<'_>,
        lot_id: &str,
        containers: Vec<WholeNumber>,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let containers =
            container_numbers("containers", containers).map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.thaw(lot_id, &containers, &entry))
    }

    /// A bag prepared. `draws` lists (lot_id, container, mL) by the
    /// containers' numbers in the lot as received; it defaults to the bag's own.
    #[pyo3(signature = (bag, /, *, at, initials = None, passphrase = None, draws = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare(
        &self,
        py: Python<'_>,
        bag: &Preparation,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        draws: Option<Vec<(String, WholeNumber, Number)>>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        let record = bag.core_record()?;
        let draws = draws.map(self::draws).transpose()?;
        self.with(py, |l| l.prepare(&record, draws, &entry))
    }

    /// A planned day recorded as planned: one plan event a bag, dated when
    /// written, in one transaction.
    #[pyo3(signature = (plan, /, *, initials = None, passphrase = None, comment = None))]
    fn record_day(
        &self,
        py: Python<'_>,
        plan: &DayPlan,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
    ) -> PyResult<Vec<i64>> {
        // A planned bag that does not recompute is a fault, as in publish.
        let records = plan.inner.records().map_err(|error| {
            crate::errors::day_error(doseprep_day::DayError::PlanDoesNotVerify(Box::new(error)))
        })?;
        let thaws = plan.inner.thaws.clone();
        let by = by(initials, passphrase)?;
        self.with(py, |l| l.record_day(&thaws, &records, &by, comment))
    }

    /// A planned bag prepared as planned, at `at` (when it was made).
    #[pyo3(signature = (bag_id, /, *, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn prepare_planned(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.prepare_planned(bag_id.0, &entry))
    }

    /// A planned bag cancelled before it was made, with the reason.
    #[pyo3(signature = (bag_id, /, *, reason, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn cancel_bag(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        reason: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.cancel_bag(bag_id.0, reason, &entry))
    }

    /// Register a user who signs (their passphrase kept only as its
    /// argon2id hash). The first user of a ledger is an administrator,
    /// registered without `signature`; from then on every event is signed,
    /// and a signed-in administrator registers each later user, giving
    /// their own passphrase as `signature`. Returns the event's number.
    #[pyo3(signature = (user_id, /, *, full_name, initials, role, passphrase, signature = None))]
    #[allow(clippy::too_many_arguments)]
    fn register_user(
        &self,
        py: Python<'_>,
        user_id: &str,
        full_name: &str,
        initials: &str,
        role: &str,
        passphrase: &str,
        signature: Option<&str>,
    ) -> PyResult<i64> {
        let role = ledger::Role::parse(role).map_err(ledger_error)?;
        let user =
            ledger::NewUser::new(user_id, full_name, initials, role).map_err(ledger_error)?;
        let passphrase = ledger::Passphrase::new(passphrase);
        let signature = signature.map(ledger::Passphrase::new);
        self.with(py, |l| {
            l.register_user(&user, &passphrase, signature.as_ref())
        })
    }

    /// Sign in with user id and passphrase (both components of the
    /// signature); each signing after it gives `passphrase=` again. A
    /// failure is recorded as a `sign_in_failed` event and raised.
    #[pyo3(signature = (user_id, /, *, passphrase))]
    fn sign_in(&self, py: Python<'_>, user_id: &str, passphrase: &str) -> PyResult<()> {
        let passphrase = ledger::Passphrase::new(passphrase);
        self.with(py, |l| l.sign_in(user_id, &passphrase).map(|_| ()))
    }

    /// Disable a user, with the reason, signed by the signed-in
    /// administrator (`signature`, their passphrase): the user signs
    /// nothing from then on. Returns the event's number.
    #[pyo3(signature = (user_id, /, *, reason, signature))]
    fn disable_user(
        &self,
        py: Python<'_>,
        user_id: &str,
        reason: &str,
        signature: &str,
    ) -> PyResult<i64> {
        let signature = ledger::Passphrase::new(signature);
        self.with(py, |l| l.disable_user(user_id, reason, &signature))
    }

    /// A user's passphrase changed by the user, who gives the current one
    /// (a wrong one is recorded as a failed sign-in). Returns the event's number.
    #[pyo3(signature = (user_id, /, *, current, new))]
    fn change_passphrase(
        &self,
        py: Python<'_>,
        user_id: &str,
        current: &str,
        new: &str,
    ) -> PyResult<i64> {
        let (current, new) = (
            ledger::Passphrase::new(current),
            ledger::Passphrase::new(new),
        );
        self.with(py, |l| l.change_passphrase(user_id, &current, &new))
    }

    /// Reset a user's forgotten passphrase to `new`, signed by the
    /// signed-in administrator (`signature`, their passphrase). Returns the
    /// event's number.
    #[pyo3(signature = (user_id, /, *, new, signature))]
    fn reset_passphrase(
        &self,
        py: Python<'_>,
        user_id: &str,
        new: &str,
        signature: &str,
    ) -> PyResult<i64> {
        let (new, signature) = (
            ledger::Passphrase::new(new),
            ledger::Passphrase::new(signature),
        );
        self.with(py, |l| l.reset_passphrase(user_id, &new, &signature))
    }

    /// Set the ledger's late-entry limit, e.g. "4 h" (the site's setting,
    /// whole minutes, 1 min to a week), signed by the signed-in
    /// administrator (`signature`): from then on an event written later
    /// than that after the time it gives needs `late_reason=`.
    #[pyo3(signature = (*, late_entry_after, signature))]
    fn configure(&self, py: Python<'_>, late_entry_after: &str, signature: &str) -> PyResult<i64> {
        let after = core::parse_duration("late_entry_after", late_entry_after)
            .map_err(crate::errors::to_py_err)?;
        let signature = ledger::Passphrase::new(signature);
        self.with(py, |l| l.configure_late_entry_limit(after, &signature))
    }

    /// The ledger's late-entry limit in minutes, or None where none is set.
    #[getter]
    fn late_entry_after_min(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        self.with(py, |l| {
            l.late_entry_limit()
                .map(|limit| limit.map(|after| after.as_mins()))
        })
    }

    /// End the session: the next signing needs `sign_in` again.
    fn sign_out(&self, py: Python<'_>) -> PyResult<()> {
        self.with(py, |l| {
            l.sign_out();
            Ok(())
        })
    }

    /// The user id signed in, or None.
    #[getter]
    fn signed_in(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.with(py, |l| Ok(l.signed_in().map(str::to_owned)))
    }

    /// The registered users, in order of registration, as dicts
    /// (`user_id`, `full_name`, `initials`, `role`, `registered_seq`,
    /// `disabled_seq`: the event that disabled them, or None).
    fn users<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let users = self.with(py, |l| l.users())?;
        users
            .iter()
            .map(|user| {
                let value = serde_json::json!({
                    "user_id": user.user_id, "full_name": user.full_name,
                    "initials": user.initials, "role": user.role.as_str(),
                    "registered_seq": user.registered_seq, "disabled_seq": user.disabled_seq,
                });
                json_loads(py, &value.to_string())
            })
            .collect()
    }

    /// Push this ledger's events to the trial's central ledger at `url`
    /// (PostgreSQL) as `site`: verified whole first; the events the centre
    /// holds for the site must be this ledger's first ones (`LedgerError`,
    /// code `push_refused`, names the first that is not); the rest are sent
    /// in batches the server checks. Idempotent and resumable. Returns
    /// `{"site", "held", "sent", "head_seq", "head_hash"}`.
    #[pyo3(signature = (url, /, *, site))]
    fn push<'py>(&self, py: Python<'py>, url: &str, site: &str) -> PyResult<Bound<'py, PyAny>> {
        let pushed = self.with(py, |l| l.push(url, site))?;
        let (head_seq, head_hash) = pushed.head.unzip();
        let value = serde_json::json!({
            "site": pushed.site, "held": pushed.held, "sent": pushed.sent,
            "head_seq": head_seq, "head_hash": head_hash,
        });
        json_loads(py, &value.to_string())
    }

    /// Start the trial's central ledger in the empty PostgreSQL database at
    /// `url`, where sites push their ledgers.
    #[staticmethod]
    fn create_central(py: Python<'_>, url: &str) -> PyResult<()> {
        let url = url.to_owned();
        py.detach(|| ledger::Ledger::create_central(&url))
            .map_err(ledger_error)
    }

    /// A prepared bag checked by a second user (a checker, or a pharmacist
    /// who did not prepare it); where users sign, a bag is dispensed only
    /// after its check.
    #[pyo3(signature = (bag_id, /, *, at, passphrase, comment = None, late_reason = None))]
    fn check(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        at: TimeArg<'_>,
        passphrase: &str,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials: None,
                passphrase: Some(passphrase),
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.check(bag_id.0, &entry))
    }

    /// A bag handed over `to` (a person or a ward).
    #[pyo3(signature = (bag_id, /, *, to, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn dispense(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        to: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.dispense(bag_id.0, to, &entry))
    }

    /// A bag infused; refused after its infuse-by time unless
    /// `override_reason` says why, and shorter than its site's shortest
    /// infusion unless `short_reason` says why. Recorded at `ended_at`.
    #[pyo3(signature = (bag_id, /, *, participant, started_at, ended_at, initials = None, passphrase = None, override_reason = None, short_reason = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn administer(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        participant: &str,
        started_at: TimeArg<'_>,
        ended_at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        override_reason: Option<&str>,
        short_reason: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let infusion = doseprep_ledger::Infusion {
            started_at: started_at.resolve("started_at")?,
            ended_at: ended_at.resolve("ended_at")?,
            override_reason: override_reason.map(str::to_owned),
            short_reason: short_reason.map(str::to_owned),
        };
        let entry = entry_at(
            infusion.ended_at.clone(),
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| {
            l.administer(bag_id.0, participant, &infusion, &entry)
        })
    }

    /// Containers destroyed (from stock, or what is left after a thaw).
    #[pyo3(signature = (lot_id, containers, /, *, reason, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn destroy_containers(
        &self,
        py: Python<'_>,
        lot_id: &str,
        containers: Vec<WholeNumber>,
        reason: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let containers =
            container_numbers("containers", containers).map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| {
            l.destroy_containers(lot_id, &containers, reason, &entry)
        })
    }

    /// A bag destroyed.
    #[pyo3(signature = (bag_id, /, *, reason, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn destroy_bag(
        &self,
        py: Python<'_>,
        bag_id: BagIdArg,
        reason: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.destroy_bag(bag_id.0, reason, &entry))
    }

    /// A correction of event `seq`: its time (`corrected_at`) or a
    /// dispense's recipient (`to`), with the reason; `at` and `initials`
    /// are the correction's own.
    #[pyo3(signature = (seq, /, *, reason, at, initials = None, passphrase = None, corrected_at = None, to = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn correct(
        &self,
        py: Python<'_>,
        seq: WholeNumber,
        reason: &str,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        corrected_at: Option<TimeArg<'_>>,
        to: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let seq: i64 = seq
            .within("seq", 1i64, "give the number of the event to correct")
            .map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        let corrected_at = corrected_at
            .map(|time| time.resolve("corrected_at"))
            .transpose()?;
        self.with(py, |l| {
            l.correct(seq, corrected_at.as_ref(), to, reason, &entry)
        })
    }

    /// Containers returned from stock.
    #[pyo3(signature = (lot_id, containers, /, *, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn return_containers(
        &self,
        py: Python<'_>,
        lot_id: &str,
        containers: Vec<WholeNumber>,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<i64> {
        let containers =
            container_numbers("containers", containers).map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        self.with(py, |l| l.return_containers(lot_id, &containers, &entry))
    }

    /// A lot's balance: the sum of its events. With `receipt` (an event
    /// number from `receipts`), only the containers that shipment brought in.
    #[pyo3(signature = (lot_id, /, *, receipt = None))]
    fn balance(
        &self,
        py: Python<'_>,
        lot_id: &str,
        receipt: Option<WholeNumber>,
    ) -> PyResult<Balance> {
        let receipt = receipt
            .map(|r| {
                r.within(
                    "receipt",
                    1i64,
                    "give one of the lot's receipts (Ledger.receipts)",
                )
            })
            .transpose()
            .map_err(crate::errors::to_py_err)?;
        let b = self.with(py, |l| match receipt {
            None => l.balance(lot_id),
            Some(seq) => l.receipt_balance(lot_id, seq),
        })?;
        Ok(Balance {
            lot_id: b.lot_id,
            received: b.received,
            thawed: b.thawed,
            destroyed: b.destroyed,
            destroyed_after_thaw: b.destroyed_after_thaw,
            returned: b.returned,
            shipped: b.shipped,
            on_hand: b.on_hand,
        })
    }

    /// The events that received a lot, in order: one per shipment.
    fn receipts(&self, py: Python<'_>, lot_id: &str) -> PyResult<Vec<i64>> {
        self.with(py, |l| l.receipts(lot_id))
    }

    /// Record a count of a lot's containers on hand and compare it with the balance.
    #[pyo3(signature = (lot_id, /, *, counted, at, initials = None, passphrase = None, comment = None, late_reason = None))]
    #[allow(clippy::too_many_arguments)]
    fn reconcile(
        &self,
        py: Python<'_>,
        lot_id: &str,
        counted: WholeNumber,
        at: TimeArg<'_>,
        initials: Option<&str>,
        passphrase: Option<&str>,
        comment: Option<&str>,
        late_reason: Option<&str>,
    ) -> PyResult<Reconciliation> {
        let counted = counted
            .within("counted", 0u32, "count the containers on hand")
            .map_err(crate::errors::to_py_err)?;
        let entry = entry(
            &at,
            Recorder {
                initials,
                passphrase,
                comment,
                late_reason,
            },
        )?;
        let r = self.with(py, |l| l.reconcile(lot_id, counted, &entry))?;
        Ok(Reconciliation {
            lot_id: r.lot_id,
            counted: r.counted,
            expected: r.expected,
            difference: r.difference,
            seq: r.seq,
        })
    }

    /// The numbers of a lot's containers in stock, lowest first: plan a
    /// day with `lot.with_container_numbers(ledger.in_stock(lot.lot_id))`.
    fn in_stock(&self, py: Python<'_>, lot_id: &str) -> PyResult<Vec<u32>> {
        self.with(py, |l| l.in_stock(lot_id))
    }

    /// The lots received, in order of receipt.
    fn lot_ids(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        self.with(py, |l| l.lot_ids())
    }

    /// A bag's chain of identity: lots, containers and their thaws, the
    /// preparation record, and the bag's events.
    fn chain_of_identity<'py>(
        &self,
        py: Python<'py>,
        bag_id: BagIdArg,
    ) -> PyResult<Bound<'py, PyAny>> {
        let chain = self.with(py, |l| l.chain_of_identity(bag_id.0))?;
        json_loads(
            py,
            &serde_json::to_string(&chain).map_err(crate::json_error)?,
        )
    }

    /// The next number of the facility's ISBT 128 DIN counter for a
    /// protocol whose label carries DINs ([label] isbt128), for
    /// `prepare(..., din_sequence=)`; None for a protocol without. A day
    /// planned with the ledger takes its numbers itself.
    fn next_din_sequence(&self, py: Python<'_>, protocol: &Protocol) -> PyResult<Option<u32>> {
        Ok(self
            .din_from(py, &protocol.inner)?
            .map(core::DinSequence::value))
    }

    /// A bag made again from its record in the ledger (verified), to print
    /// its label, worksheet and record again, byte for byte as the first time.
    fn reprint(&self, py: Python<'_>, bag_id: BagIdArg) -> PyResult<Py<Preparation>> {
        let record = self.with(py, |l| l.reprint(bag_id.0))?.into_record();
        Ok(Preparation::new(
            record.preparation,
            &record.protocol,
            &record.order,
            &std::sync::Arc::new(record.lot),
        )
        .into_untracked(py)?
        .unbind())
    }

    /// Bags' labels, worksheets and records (and, with `pdf`, `labels.pdf`
    /// and `worksheets.pdf`) made again from the ledger into the new (or
    /// empty) folder `out`, byte for byte as first printed: `bags` by id,
    /// and every bag of `date` (`YYYY-MM-DD`, the site's clock: prepared on
    /// it, or planned for a session thawed on it), none destroyed or
    /// cancelled. Published whole, in one rename. Returns how many bags.
    #[pyo3(signature = (out, /, *, bags = Vec::new(), date = None, pdf = false))]
    fn reprint_documents(
        &self,
        py: Python<'_>,
        out: PathBuf,
        bags: Vec<BagIdArg>,
        date: Option<&str>,
        pdf: bool,
    ) -> PyResult<usize> {
        let date = date
            .map(doseprep_day::PrintDate::parse)
            .transpose()
            .map_err(crate::errors::day_error)?;
        let printed = crate::day::printed(pdf);
        self.with_day(py, |l| {
            let mut ids: Vec<core::BagId> = bags.iter().map(|bag| bag.0).collect();
            if let Some(date) = date {
                ids.extend(doseprep_day::bags_prepared_on(l, date)?);
            }
            let folder = doseprep_day::NewFolder::check(&out)?;
            Ok(doseprep_day::reprint(l, &ids, folder, printed)?.bags)
        })
    }

    /// The preparation record of a bag, as recorded.
    fn record(&self, py: Python<'_>, bag_id: BagIdArg) -> PyResult<PreparationRecord> {
        let chain = self.with(py, |l| l.chain_of_identity(bag_id.0))?;
        core::PreparationRecord::from_json(&chain.record.to_string())
            .map(PreparationRecord::from)
            .map_err(crate::errors::to_py_err)
    }

    /// Walk the chain: the first event changed, deleted or inserted, if any.
    /// `scope="full"` also replays every event through the rules and
    /// compares the state tables; `scope="chain"` checks hashes, links and
    /// the head only (the quick daily check); with `since` (a checkpoint),
    /// the chain after the checkpoint's event only.
    #[pyo3(signature = (*, checkpoints = Vec::new(), scope = "full", since = None))]
    fn verify(
        &self,
        py: Python<'_>,
        checkpoints: Vec<PyRef<'_, Checkpoint>>,
        scope: &str,
        since: Option<PyRef<'_, Checkpoint>>,
    ) -> PyResult<LedgerVerification> {
        let checkpoints: Vec<ledger::Checkpoint> =
            checkpoints.iter().map(|c| c.inner.clone()).collect();
        let scope = match scope {
            "full" => ledger::Scope::Full,
            "chain" => ledger::Scope::Chain,
            other => {
                return Err(crate::errors::to_py_err(core::DoseError::InvalidInput {
                    field: "scope".to_owned(),
                    reason: format!(
                        "scope {other:?} is not \"full\" or \"chain\"; give \"full\" (replay every event) or \"chain\" (hashes and links only)"
                    ),
                }))
            }
        };
        let since = since.map(|c| c.inner.clone());
        let v = match (scope, since) {
            (ledger::Scope::Full, Some(_)) => {
                return Err(crate::errors::to_py_err(core::DoseError::InvalidInput {
                    field: "since".to_owned(),
                    reason: "a full verify replays every event from the first, so it cannot start at a checkpoint; give scope=\"chain\" with since=, or drop since".to_owned(),
                }))
            }
            (ledger::Scope::Full, None) => self.with(py, |l| l.verify_against(&checkpoints))?,
            (ledger::Scope::Chain, None) => self.with(py, |l| l.verify_chain(&checkpoints))?,
            (ledger::Scope::Chain, Some(since)) => {
                self.with(py, |l| l.verify_chain_since(&since, &checkpoints))?
            }
        };
        Ok(LedgerVerification {
            scope: match v.scope {
                ledger::Scope::Full => "full",
                ledger::Scope::Chain => "chain",
            },
            events: v.events,
            checked_after: v.checked_after,
            head: v.head,
            problem_seq: v.problem.as_ref().and_then(|p| p.seq),
            problem: v.problem.map(|p| p.reason),
        })
    }

    /// The ledger's head now, verified first: keep `checkpoint.to_json()`
    /// outside the file, and give it back to `verify(checkpoints=[...])`.
    fn checkpoint(&self, py: Python<'_>) -> PyResult<Checkpoint> {
        Ok(Checkpoint {
            inner: self.with(py, |l| l.checkpoint())?,
        })
    }

    /// The whole ledger archived into the new folder `out` (events as JSON
    /// lines, their schemas, the hash formula, `checkpoints` with one taken
    /// now, `verify.py` needing only Python's standard library, SHA-256
    /// sums), published in one rename; the checkpoint taken.
    #[pyo3(signature = (out, /, *, checkpoints = Vec::new()))]
    fn archive(
        &self,
        py: Python<'_>,
        out: PathBuf,
        checkpoints: Vec<PyRef<'_, Checkpoint>>,
    ) -> PyResult<Checkpoint> {
        let checkpoints: Vec<ledger::Checkpoint> =
            checkpoints.iter().map(|c| c.inner.clone()).collect();
        let archive = self.with_day(py, |l| doseprep_day::write_archive(l, &checkpoints, &out))?;
        Ok(Checkpoint {
            inner: archive.checkpoint,
        })
    }

    /// The periodic review of the events written from `start` to `end`
    /// (each optional): a dict of the period, the verification, the events
    /// written and the findings, with the report as `text`.
    #[pyo3(signature = (*, late_after, start = None, end = None))]
    fn audit<'py>(
        &self,
        py: Python<'py>,
        late_after: &str,
        start: Option<TimeArg<'_>>,
        end: Option<TimeArg<'_>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let late_after =
            core::parse_duration("late_after", late_after).map_err(crate::errors::to_py_err)?;
        let start = start
            .map(|time| time.resolve("start"))
            .transpose()?
            .map(|time| time.timestamp());
        let end = end
            .map(|time| time.resolve("end"))
            .transpose()?
            .map(|time| time.timestamp());
        let (report, text) = self.with(py, |l| {
            let report = l.audit(start, end, late_after)?;
            let text = report.to_text(l.path());
            Ok((report, text))
        })?;
        let value = serde_json::to_value(&report).map_err(crate::json_error)?;
        let serde_json::Value::Object(mut fields) = value else {
            return Err(crate::json_error("the review is not a JSON object"));
        };
        fields.insert("text".to_owned(), serde_json::Value::String(text));
        json_loads(py, &serde_json::Value::Object(fields).to_string())
    }

    /// Every event as an Arrow table, in order: seq, at and recorded_at
    /// (UTC timestamps), kind, at_text (as recorded, with its zone),
    /// initials, signer, meaning, site, workstation, late_reason, comment,
    /// body (JSON text), prev_hash, hash.
    fn event_table(&self, py: Python<'_>) -> PyResult<Table> {
        let events = self.with(py, |l| l.events())?;
        Table::made(doseprep_arrow::ledger_events(&events))
    }

    /// Every lot's balance as an Arrow table, in order of receipt: lot_id,
    /// received, thawed, destroyed, destroyed_after_thaw, returned,
    /// shipped, on_hand (containers).
    fn balance_table(&self, py: Python<'_>) -> PyResult<Table> {
        let balances = self.with(py, |l| {
            l.lot_ids()?
                .iter()
                .map(|lot_id| l.balance(lot_id))
                .collect::<ledger::Result<Vec<_>>>()
        })?;
        Table::made(doseprep_arrow::ledger_balances(&balances))
    }

    /// Every event, in order, as dicts (body parsed).
    fn events<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let events = self.with(py, |l| l.events())?;
        events
            .iter()
            .map(|e| {
                let body: serde_json::Value =
                    serde_json::from_str(&e.body).map_err(crate::json_error)?;
                let value = serde_json::json!({
                    "seq": e.seq, "kind": e.kind, "at": e.at, "initials": e.initials,
                    "comment": e.comment, "body": body, "prev_hash": e.prev_hash, "hash": e.hash,
                    "recorded_at": e.recorded_at, "signer": e.signer, "meaning": e.meaning,
                    "late_reason": e.late_reason,
                    "site": e.station.as_ref().map(|station| &station.site),
                    "workstation": e.station.as_ref().map(|station| &station.workstation),
                });
                json_loads(py, &value.to_string())
            })
            .collect()
    }

    /// The accountability log (unblinded): one CSV line per event.
    fn export_csv(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |l| l.accountability_csv())
    }

    /// The blinded log: bag events with bag ids and volumes only.
    fn export_blinded_csv(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |l| l.blinded_csv())
    }

    /// A bag as a FHIR R4 Bundle (JSON text).
    fn export_fhir(&self, py: Python<'_>, bag_id: BagIdArg) -> PyResult<String> {
        let bundle = self.with(py, |l| l.fhir_bundle(bag_id.0))?;
        serde_json::to_string_pretty(&bundle).map_err(crate::json_error)
    }

    fn __repr__(&self) -> String {
        format!("Ledger({:?})", self.location)
    }
}
