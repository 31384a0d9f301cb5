//! The preparation day: `Randomization`, `DayOrder`, `plan_day`, `DayPlan`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use doseprep as core;
use pyo3::prelude::*;

use crate::table::Table;

use crate::convert::{py_datetime, quoted, Number, TimeArg, WeightArg};
use crate::errors::{to_py_err, IntoPy};
use crate::ledger::Ledger;
use crate::lot::Lot;
use crate::preparation::Preparation;
use crate::protocol::Protocol;

/// The unblinded randomization list: participant → arm.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Randomization {
    inner: core::Randomization,
}

#[pymethods]
impl Randomization {
    /// Read `participant,arm` CSV (UTF-8, a byte-order mark allowed). A
    /// duplicated participant or an empty cell is an error naming the row;
    /// with `protocol`, so is an arm the protocol lacks.
    #[staticmethod]
    #[pyo3(signature = (path, /, *, protocol=None))]
    fn from_csv(path: PathBuf, protocol: Option<&Protocol>) -> PyResult<Randomization> {
        let text = doseprep_day::files::read_text(&path).map_err(crate::errors::day_error)?;
        Randomization::from_csv_text(&text, protocol)
    }

    /// The same from a spreadsheet's first sheet (`.xlsx`, `.xlsm`, `.xls`,
    /// `.ods`), the same columns and errors.
    #[staticmethod]
    #[pyo3(signature = (path, /, *, protocol=None))]
    fn from_xlsx(path: PathBuf, protocol: Option<&Protocol>) -> PyResult<Randomization> {
        let inner = doseprep_day::files::spreadsheet_randomization(&path)
            .map_err(crate::errors::day_error)?;
        if let Some(protocol) = protocol {
            inner.check_against(&protocol.inner).py()?;
        }
        Ok(Randomization { inner })
    }

    /// The same from CSV text.
    #[staticmethod]
    #[pyo3(signature = (text, /, *, protocol=None))]
    fn from_csv_text(text: &str, protocol: Option<&Protocol>) -> PyResult<Randomization> {
        let inner = core::Randomization::from_csv_text(text).py()?;
        if let Some(protocol) = protocol {
            inner.check_against(&protocol.inner).py()?;
        }
        Ok(Randomization { inner })
    }

    /// The arm of a participant, or None.
    fn arm(&self, participant: &str) -> Option<String> {
        self.inner.arm(participant).map(str::to_owned)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("Randomization({} participants)", self.inner.len())
    }
}

/// One order of a day: no arm (the list gives it), the weight measured that
/// morning and the scheduled start of the infusion.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct DayOrder {
    inner: core::DayOrder,
}

#[pymethods]
impl DayOrder {
    #[new]
    #[pyo3(signature = (*, participant, visit, infusion_at, weight=None, weight_kg=None, baseline_weight=None, baseline_weight_kg=None, arm=None, weighed_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        participant: &str,
        visit: &str,
        infusion_at: TimeArg<'_>,
        weight: Option<WeightArg>,
        weight_kg: Option<Number>,
        baseline_weight: Option<WeightArg>,
        baseline_weight_kg: Option<Number>,
        arm: Option<&str>,
        weighed_at: Option<TimeArg<'_>>,
    ) -> PyResult<DayOrder> {
        let baseline_weight = WeightArg::one_of(
            "baseline_weight",
            baseline_weight,
            baseline_weight_kg,
            false,
        )?;
        let weight = WeightArg::one_of("weight", weight, weight_kg, true)?
            .ok_or_else(|| pyo3::exceptions::PyTypeError::new_err("missing the weight"))?
            .resolve("weight")
            .py()?;
        let mut inner = core::DayOrder::given(
            participant,
            visit,
            weight,
            infusion_at.resolve("infusion_at")?,
        )
        .py()?;
        if let Some(baseline) = baseline_weight {
            inner = inner.baseline(baseline.resolve("baseline_weight").py()?);
        }
        if let Some(arm) = arm {
            inner = inner.stated_arm(arm).py()?;
        }
        if let Some(time) = weighed_at {
            inner = inner.weighed(time.resolve("weighed_at")?);
        }
        Ok(DayOrder { inner })
    }

    /// The rows of a day's orders CSV: participant, visit, weight,
    /// infusion_at and optionally baseline_weight, arm, weighed_at. A bad header raises;
    /// every row is a `DayRow` with its number, the participant and visit as
    /// written, and its order or the `DoseError` of a bad cell.
    #[staticmethod]
    fn from_csv(path: PathBuf) -> PyResult<Vec<DayRow>> {
        Ok(doseprep_day::files::csv_day_orders(&path)
            .map_err(crate::errors::day_error)?
            .into_iter()
            .map(|inner| DayRow { inner })
            .collect())
    }

    /// The same from a spreadsheet's first sheet (`.xlsx`, `.xlsm`, `.xls`,
    /// `.ods`): the same columns and errors, rows numbered as the sheet
    /// numbers them; a bad cell (an error value, a formula with no value
    /// saved) raises naming the sheet and cell. A date-and-time cell is read
    /// on `protocol`'s site clock where its site file says
    /// `spreadsheet_times = "site clock"`, and raises otherwise.
    #[staticmethod]
    #[pyo3(signature = (path, /, *, protocol))]
    fn from_xlsx(path: PathBuf, protocol: &Protocol) -> PyResult<Vec<DayRow>> {
        Ok(
            doseprep_day::files::spreadsheet_day_orders(&path, &protocol.inner)
                .map_err(crate::errors::day_error)?
                .into_iter()
                .map(|inner| DayRow { inner })
                .collect(),
        )
    }

    #[getter]
    fn participant(&self) -> &str {
        self.inner.participant()
    }
    #[getter]
    fn visit(&self) -> &str {
        self.inner.visit()
    }
    #[getter]
    fn weight_kg(&self) -> f64 {
        self.inner.weight().kg()
    }
    #[getter]
    fn arm(&self) -> Option<&str> {
        self.inner.arm()
    }

    fn __repr__(&self) -> String {
        format!(
            "DayOrder(participant={}, visit={}, infusion_at={})",
            quoted(self.inner.participant()),
            quoted(self.inner.visit()),
            quoted(&core::format_time(self.inner.infusion_at()))
        )
    }
}

/// One row of a day's orders as read: its number, the participant and
/// visit as written, and the order or why the row is not one.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct DayRow {
    inner: core::DayRow,
}

#[pymethods]
impl DayRow {
    /// In a file, the row as a spreadsheet numbers it (the header is row 1);
    /// in a list, the position from 1.
    #[getter]
    fn row(&self) -> usize {
        self.inner.row
    }
    /// The participant as written ("" where the cell was empty).
    #[getter]
    fn participant(&self) -> &str {
        &self.inner.participant
    }
    /// The visit as written.
    #[getter]
    fn visit(&self) -> &str {
        &self.inner.visit
    }
    /// The order, or the DoseError that the row's cells give.
    #[getter]
    fn order(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        Ok(match &self.inner.order {
            Ok(order) => Py::new(
                py,
                DayOrder {
                    inner: order.clone(),
                },
            )?
            .into_any(),
            Err(error) => to_py_err(error.clone()).into_value(py).into_any(),
        })
    }
    fn __repr__(&self) -> String {
        format!(
            "DayRow(row={}, participant={}, visit={}, readable={})",
            self.inner.row,
            quoted(&self.inner.participant),
            quoted(&self.inner.visit),
            if self.inner.order.is_ok() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// A day's input: an order given in code, or a row read from a file.
#[derive(FromPyObject)]
pub enum DayInput<'py> {
    /// An order, numbered by its position.
    Order(PyRef<'py, DayOrder>),
    /// A row as read, with its own number.
    Row(PyRef<'py, DayRow>),
}

/// One thaw of a day: when, which lot, which containers.
#[pyclass(frozen, module = "doseprep")]
pub struct ThawSession {
    inner: core::ThawSession,
}

#[pymethods]
impl ThawSession {
    #[getter]
    fn thawed_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_datetime(py, &self.inner.thawed_at)
    }
    #[getter]
    fn lot_id(&self) -> &str {
        &self.inner.lot_id
    }
    #[getter]
    fn containers(&self) -> Vec<u32> {
        self.inner.containers.clone()
    }
    fn __repr__(&self) -> String {
        format!(
            "ThawSession(thawed_at={}, lot_id={}, containers={:?})",
            quoted(&self.inner.thawed_at.wall_clock()),
            quoted(&self.inner.lot_id),
            self.inner.containers
        )
    }
}

/// The plan of a day.
#[pyclass(frozen, module = "doseprep")]
pub struct DayPlan {
    pub(crate) inner: core::DayPlan,
    pub(crate) protocol: core::Protocol,
}

#[pymethods]
impl DayPlan {
    /// One entry per input row, in order: the bag (a Preparation with its bag
    /// id, session thaw time and draws), or the DoseError that stops it.
    #[getter]
    fn bags(&self, py: Python<'_>) -> PyResult<Vec<Py<PyAny>>> {
        self.inner
            .bags
            .iter()
            .map(|bag| match bag {
                Ok(bag) => Ok(Preparation::new(
                    bag.preparation.clone(),
                    &self.protocol,
                    &bag.order,
                    &std::sync::Arc::new(bag.lot.clone()),
                )
                .into_untracked(py)?
                .into_any()
                .unbind()),
                Err(error) => Ok(to_py_err(error.clone()).into_value(py).into_any()),
            })
            .collect()
    }

    /// One (row, participant, visit) per input row, beside `bags`, as written.
    #[getter]
    fn rows(&self) -> Vec<(usize, String, String)> {
        self.inner
            .rows
            .iter()
            .map(|r| (r.row, r.participant.clone(), r.visit.clone()))
            .collect()
    }

    /// The day as CSV for the pharmacy (unblinded): one line per input row.
    fn day_csv(&self) -> String {
        self.inner.day_csv()
    }

    /// Each thaw, in thaw order.
    #[getter]
    fn thaws(&self) -> Vec<ThawSession> {
        self.inner
            .thaws
            .iter()
            .map(|t| ThawSession { inner: t.clone() })
            .collect()
    }

    /// Containers left in the freezer after the day, by lot.
    #[getter]
    fn remaining(&self) -> BTreeMap<String, u32> {
        self.inner.remaining.clone()
    }

    /// Of those, containers counted against placebo bags as their twins would
    /// use them (so a shortage falls on every arm alike).
    #[getter]
    fn held_for_blinding(&self) -> BTreeMap<String, u32> {
        self.inner.held_for_blinding.clone()
    }

    /// The bags as an Arrow table, a row an input row (as prepare_many's
    /// batch: a failed row has error_kind, error_field and error_message).
    fn bag_table(&self) -> PyResult<Table> {
        Table::made(doseprep_arrow::day_bags(
            self.protocol.zone().name(),
            &self.inner,
        ))
    }

    /// The thaws as an Arrow table, in thaw order (the pick list's lines):
    /// thawed_at, lot_id, containers, container_count.
    fn thaw_table(&self) -> PyResult<Table> {
        Table::made(doseprep_arrow::day_thaws(
            self.protocol.zone().name(),
            &self.inner,
        ))
    }

    /// The stock the day leaves as an Arrow table, a row a lot: lot_id,
    /// containers_left, containers_held_for_blinding.
    fn stock_table(&self) -> PyResult<Table> {
        Table::made(doseprep_arrow::day_stock(&self.inner))
    }

    /// A one-screen overview for the ward: no arm, content, lot or volume drawn.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The summary as a table, for a notebook: its heading, then a row for
    /// each order row, blinded as the summary is.
    fn _repr_html_(&self) -> String {
        let rows: Vec<Vec<String>> = self
            .inner
            .summary_table()
            .into_iter()
            .map(Vec::from)
            .collect();
        doseprep_print::notebook::table(
            &self.inner.summary_heading().join("; "),
            &core::day::SUMMARY_COLUMNS,
            &rows,
        )
    }

    /// The pick list for the freezer, in thaw order (pharmacy).
    fn pick_list(&self) -> String {
        self.inner.pick_list()
    }

    /// Write every document of the day (`pick-list.txt`, `summary.txt`,
    /// `day.csv`, with `pdf` `labels.pdf` and `worksheets.pdf`, and each
    /// bag's files in `bags/`) to a staging folder beside `out` (a new or
    /// empty folder), record the day in `ledger` by `initials`, or signed
    /// with the signed-in user's `passphrase` (where given, and where a bag
    /// was planned), then publish the folder as `out` in one
    /// rename: nothing is recorded without its documents. Returns the
    /// ledger's events for the day (empty without a ledger).
    #[pyo3(signature = (out, /, *, pdf = false, ledger = None, initials = None, passphrase = None))]
    fn publish(
        &self,
        py: Python<'_>,
        out: PathBuf,
        pdf: bool,
        ledger: Option<&Ledger>,
        initials: Option<&str>,
        passphrase: Option<&str>,
    ) -> PyResult<Vec<i64>> {
        let folder = doseprep_day::NewFolder::check(&out).map_err(crate::errors::day_error)?;
        let printed = printed(pdf);
        let plan = &self.inner;
        match (ledger, initials.is_some() || passphrase.is_some()) {
            (Some(ledger), true) => {
                let by = crate::ledger::by(initials, passphrase)?;
                ledger.with_day(py, |l| {
                    let recording = doseprep_day::Recording { ledger: l, by };
                    Ok(doseprep_day::publish_day(plan, folder, printed, Some(recording))?.recorded)
                })
            }
            (None, false) => py
                .detach(|| doseprep_day::publish_day(plan, folder, printed, None))
                .map(|published| published.recorded)
                .map_err(crate::errors::day_error),
            _ => Err(pyo3::exceptions::PyTypeError::new_err(
                "give ledger= with initials= or passphrase= (who records the day), or none of them",
            )),
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "DayPlan({} order rows, {} planned, {} thaws)",
            self.inner.bags.len(),
            self.inner.planned(),
            self.inner.thaws.len()
        )
    }
}

/// Text documents, or text and PDF.
pub(crate) fn printed(pdf: bool) -> doseprep_day::Printed {
    if pdf {
        doseprep_day::Printed::TextAndPdf
    } else {
        doseprep_day::Printed::Text
    }
}

/// Plan a day: every order's bag from the randomization list and the lots on
/// hand, in thaw sessions, with containers shared out and a bag id each
/// (from the operating system's random source). `orders` are `DayOrder`s
/// (numbered by position from 1) or the `DayRow`s of `DayOrder.from_csv`,
/// unreadable rows included: each is in the plan.
///
/// With `ledger`, a row whose visit the ledger holds a bag for already is
/// not planned again: `AlreadyRecordedError` in its place when the bag was
/// made from the same order (a rerun), `RecordedDifferentlyError` naming
/// the bag when it was not.
#[pyfunction]
#[pyo3(signature = (protocol, orders, /, *, lots, randomization, ledger=None))]
pub fn plan_day(
    py: Python<'_>,
    protocol: &Protocol,
    orders: Vec<DayInput<'_>>,
    lots: Vec<PyRef<'_, Lot>>,
    randomization: &Randomization,
    ledger: Option<&Ledger>,
) -> PyResult<DayPlan> {
    let (recorded, din_from, mark) = match ledger {
        Some(ledger) => (
            ledger.standing_bags(py)?,
            ledger.din_from(py, &protocol.inner)?,
            Some(ledger.mark(py)?),
        ),
        None => (Vec::new(), None, None),
    };
    let orders: Vec<core::DayRow> = orders
        .iter()
        .enumerate()
        .map(|(index, input)| match input {
            DayInput::Order(order) => core::DayRow {
                row: index + 1,
                participant: order.inner.participant().to_owned(),
                visit: order.inner.visit().to_owned(),
                order: Ok(order.inner.clone()),
            },
            DayInput::Row(row) => row.inner.clone(),
        })
        .collect();
    let lots: Vec<core::Lot> = lots.iter().map(|l| (*l.inner).clone()).collect();
    let plan = doseprep_day::plan(
        &protocol.inner,
        &orders,
        &lots,
        &randomization.inner,
        &recorded,
        din_from,
    )
    .map_err(crate::errors::day_error)?;
    let plan = match mark {
        Some(mark) => plan.with_ledger_before(mark),
        None => plan,
    };
    Ok(DayPlan {
        inner: plan,
        protocol: protocol.inner.clone(),
    })
}
