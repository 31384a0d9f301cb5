//! The preparation day: `Randomization`, `DayOrder`, `plan_day`, `DayPlan`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use doseprep as core;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;

use crate::convert::{py_datetime, quoted, TimeArg, WeightArg};
use crate::errors::{to_py_err, IntoPy};
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
        let text = std::fs::read_to_string(&path).map_err(|e| crate::io_error(&path, e))?;
        Randomization::from_csv_text(&text, protocol)
    }

    /// The same from CSV text.
    #[staticmethod]
    #[pyo3(signature = (text, /, *, protocol=None))]
    fn from_csv_text(text: &str, protocol: Option<&Protocol>) -> PyResult<Randomization> {
        let inner = core::Randomization::from_csv_str(text).py()?;
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
    #[pyo3(signature = (*, participant, visit, weight, infusion_at, baseline_weight=None, arm=None))]
    fn new(
        participant: &str,
        visit: &str,
        weight: WeightArg,
        infusion_at: TimeArg<'_>,
        baseline_weight: Option<WeightArg>,
        arm: Option<&str>,
    ) -> PyResult<DayOrder> {
        let (weight, as_entered) = weight.resolve("weight").py()?;
        let mut inner = core::DayOrder::new(
            participant,
            visit,
            weight,
            infusion_at.resolve("infusion_at")?,
        )
        .py()?;
        if let Some(text) = as_entered {
            inner = inner.weight_entered_as(&text);
        }
        if let Some(baseline) = baseline_weight {
            let (weight, text) = baseline.resolve("baseline_weight").py()?;
            inner = inner.baseline(weight, text.as_deref());
        }
        if let Some(arm) = arm {
            inner = inner.stated_arm(arm).py()?;
        }
        Ok(DayOrder { inner })
    }

    /// The orders of a day's CSV: participant, visit, weight, infusion_at and
    /// optionally baseline_weight, arm. A bad header raises; a bad cell is
    /// that row's `DoseError`, in its place.
    #[staticmethod]
    fn from_csv(py: Python<'_>, path: PathBuf) -> PyResult<Vec<Py<PyAny>>> {
        let text = std::fs::read_to_string(&path).map_err(|e| crate::io_error(&path, e))?;
        core::DayOrder::from_csv_str(&text)
            .py()?
            .into_iter()
            .map(|row| match row {
                Ok(inner) => Ok(Py::new(py, DayOrder { inner })?.into_any()),
                Err(error) => Ok(to_py_err(error).into_value(py).into_any()),
            })
            .collect()
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
    /// One entry per order, in order: the bag (a Preparation with its bag id,
    /// session thaw time and draws), or the DoseError that stops it.
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

    /// A one-screen overview for the ward: no arm, content, lot or volume drawn.
    fn summary(&self) -> String {
        self.inner.summary()
    }

    /// The pick list for the freezer, in thaw order (pharmacy).
    fn pick_list(&self) -> String {
        self.inner.pick_list()
    }

    fn __repr__(&self) -> String {
        format!(
            "DayPlan({} orders, {} planned, {} thaws)",
            self.inner.bags.len(),
            self.inner.planned(),
            self.inner.thaws.len()
        )
    }
}

/// Plan a day: every order's bag from the randomization list and the lots on
/// hand, in thaw sessions, with containers shared out and a bag id each
/// (from the operating system's random source).
#[pyfunction]
#[pyo3(signature = (protocol, orders, /, *, lots, randomization))]
pub fn plan_day(
    protocol: &Protocol,
    orders: Vec<PyRef<'_, DayOrder>>,
    lots: Vec<PyRef<'_, Lot>>,
    randomization: &Randomization,
) -> PyResult<DayPlan> {
    let orders: Vec<core::DayOrder> = orders.iter().map(|o| o.inner.clone()).collect();
    let lots: Vec<core::Lot> = lots.iter().map(|l| (*l.inner).clone()).collect();
    let mut failure: Option<getrandom::Error> = None;
    let mut random = || {
        getrandom::u64().unwrap_or_else(|e| {
            failure = Some(e);
            0
        })
    };
    let plan = core::plan_day(
        &protocol.inner,
        &orders,
        &lots,
        &randomization.inner,
        &mut random,
    )
    .py()?;
    if let Some(error) = failure {
        return Err(PyOSError::new_err(format!(
            "the operating system's random source failed: {error}"
        )));
    }
    Ok(DayPlan {
        inner: plan,
        protocol: protocol.inner.clone(),
    })
}
