//! `Order`: one participant's infusion at one visit, and building one from
//! keyword arguments or a dict.

use doseprep as core;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::convert::{py_datetime, quoted, BatchTimes, DinSequenceArg, Number, TimeArg, WeightArg};
use crate::errors::{to_py_err, type_error, IntoPy};
use jiff::ZonedDateTime;

/// The parts of an order as Python gives them.
pub struct OrderArgs<'a, 'py> {
    pub participant: &'a str,
    /// Required: `build` refuses `None` (a dict without a weight).
    pub weight: Option<WeightArg>,
    pub arm: &'a str,
    pub visit: &'a str,
    pub thawed_at: TimeArg<'py>,
    pub prepared_at: Option<TimeArg<'py>>,
    pub infusion_at: Option<TimeArg<'py>>,
    pub weighed_at: Option<TimeArg<'py>>,
    pub baseline_weight: Option<WeightArg>,
    pub bag_id: Option<String>,
    pub din_sequence: Option<DinSequenceArg>,
}

impl OrderArgs<'_, '_> {
    /// The core order, checked in the order of its parts (weight, thaw,
    /// participant, arm and visit, the other times, baseline, bag id, DIN):
    /// the times are converted here (Python is needed for a `datetime`),
    /// every other check is the core's.
    pub fn build(self) -> PyResult<core::Order> {
        let thawed_at = self.thawed_at.checked("thawed_at").map(boxed_error)?;
        let time = |arg: Option<TimeArg<'_>>, field: &str| {
            arg.map(|t| t.checked(field).map(boxed_error)).transpose()
        };
        let optional = OptionalValues {
            prepared_at: time(self.prepared_at, "prepared_at")?,
            infusion_at: time(self.infusion_at, "infusion_at")?,
            weighed_at: time(self.weighed_at, "weighed_at")?,
            baseline_weight: self.baseline_weight,
            bag_id: self.bag_id,
            din_sequence: self.din_sequence,
        };
        OrderValues {
            participant: self.participant.into(),
            weight: self.weight,
            arm: self.arm.into(),
            visit: self.visit.into(),
            thawed_at,
            optional: optional.boxed(),
        }
        .build()
        .py()
    }
}

/// A time as the core judged it, its error boxed (an order's values stay
/// small: a batch moves them).
type CheckedTime = Result<ZonedDateTime, Box<core::DoseError>>;

fn boxed_error(checked: core::Result<ZonedDateTime>) -> CheckedTime {
    checked.map_err(Box::new)
}

/// An order's values as read from Python: owned, of the right Python
/// types, times converted (or their errors kept). [`OrderValues::build`]
/// makes the core's checks, in the order of the order's parts, and needs no
/// Python, so a batch makes them on its second thread.
pub struct OrderValues {
    participant: core::Text,
    /// Required: `build` refuses `None` (a dict without a weight).
    weight: Option<WeightArg>,
    arm: core::Text,
    visit: core::Text,
    thawed_at: CheckedTime,
    /// Boxed: most orders give none of them, and a batch keeps its rows.
    optional: Option<Box<OptionalValues>>,
}

/// A row of a batch as read: an `Order` (built already), or a dict's values.
pub enum Read {
    Order(Box<core::Order>),
    Values(OrderValues),
}

/// The values an order may give.
#[derive(Default)]
struct OptionalValues {
    prepared_at: Option<CheckedTime>,
    infusion_at: Option<CheckedTime>,
    weighed_at: Option<CheckedTime>,
    baseline_weight: Option<WeightArg>,
    bag_id: Option<String>,
    din_sequence: Option<DinSequenceArg>,
}

impl OptionalValues {
    /// `None` when no value is given.
    fn boxed(self) -> Option<Box<OptionalValues>> {
        let given = self.prepared_at.is_some()
            || self.infusion_at.is_some()
            || self.weighed_at.is_some()
            || self.baseline_weight.is_some()
            || self.bag_id.is_some()
            || self.din_sequence.is_some();
        given.then(|| Box::new(self))
    }
}

impl OrderValues {
    /// The core order; every check is the core's.
    pub fn build(&self) -> core::Result<core::Order> {
        let weight = self
            .weight
            .as_ref()
            .ok_or_else(|| missing_error("weight"))?
            .resolve("weight")?;
        let mut order = core::Order::given(
            &self.participant,
            weight,
            &self.arm,
            &self.visit,
            checked_time(&self.thawed_at)?,
        )?;
        let Some(optional) = &self.optional else {
            return Ok(order);
        };
        if let Some(time) = &optional.prepared_at {
            order = order.prepared(checked_time(time)?);
        }
        if let Some(time) = &optional.infusion_at {
            order = order.infusion(checked_time(time)?);
        }
        if let Some(time) = &optional.weighed_at {
            order = order.weighed(checked_time(time)?);
        }
        if let Some(baseline) = &optional.baseline_weight {
            order = order.baseline(baseline.resolve("baseline_weight")?);
        }
        if let Some(text) = &optional.bag_id {
            order = order.with_bag_id(core::BagId::parse(text)?);
        }
        if let Some(number) = optional.din_sequence {
            order = order.with_din_sequence(number.checked()?);
        }
        Ok(order)
    }

    /// The order's participant, arm and visit, as read.
    pub fn who(&self) -> [core::Text; 3] {
        [
            self.participant.clone(),
            self.arm.clone(),
            self.visit.clone(),
        ]
    }
}

/// A time as checked, or its error.
fn checked_time(time: &CheckedTime) -> core::Result<ZonedDateTime> {
    time.clone().map_err(|error| *error)
}

/// One participant's infusion at one visit.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Order {
    pub inner: core::Order,
}

/// The keys a dict order takes.
const KEYS: &str = "participant, weight (with its unit) or weight_kg, arm, visit, thawed_at, and optionally prepared_at, infusion_at, weighed_at, baseline_weight or baseline_weight_kg, bag_id, din_sequence";

fn missing_error(key: &str) -> core::DoseError {
    core::DoseError::InvalidInput {
        field: key.to_owned(),
        reason: format!("the order has no '{key}'; give {KEYS}"),
    }
}

fn missing(key: &str) -> PyErr {
    to_py_err(missing_error(key))
}

/// A text value, still a Python string (read without a copy later).
fn text<'py>(key: &str, value: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyString>> {
    let value = value.ok_or_else(|| missing(key))?;
    value
        .cast_into::<PyString>()
        .map_err(|e| type_error(key, "a str", e.into_inner().as_any()))
}

/// The interned names of the required keys and of `weight_kg`: identity
/// with them is tested first (keys written in Python code are interned),
/// the text only for keys made at run time.
pub struct KeyNames<'py>([Bound<'py, PyString>; 6]);

impl<'py> KeyNames<'py> {
    /// The names, looked up once per batch.
    pub fn new(py: Python<'py>) -> KeyNames<'py> {
        KeyNames([
            intern!(py, "participant").clone(),
            intern!(py, "weight").clone(),
            intern!(py, "arm").clone(),
            intern!(py, "visit").clone(),
            intern!(py, "thawed_at").clone(),
            intern!(py, "weight_kg").clone(),
        ])
    }
}

/// An order from a `dict` (or an `Order`), as `prepare_many` takes them. The
/// dict is read in one pass; a key it does not know is that row's error
/// (a typo such as `prepard_at` must not pass unnoticed).
pub fn from_item<'py>(
    item_obj: &Bound<'py, PyAny>,
    names: &KeyNames<'py>,
    times: &mut BatchTimes<'py>,
) -> PyResult<Read> {
    // A dict first: nearly every row is one.
    let dict = match item_obj.cast::<PyDict>() {
        Ok(dict) => dict,
        Err(_) => {
            return match item_obj.cast::<Order>() {
                Ok(order) => Ok(Read::Order(Box::new(order.get().inner.clone()))),
                Err(_) => Err(type_error(
                    "each order",
                    "a dict or a doseprep.Order",
                    item_obj,
                )),
            }
        }
    };
    let (mut participant, mut weight, mut arm, mut visit, mut thawed_at) =
        (None, None, None, None, None);
    let (mut prepared_at, mut infusion_at, mut baseline_weight, mut bag_id, mut din_sequence) =
        (None, None, None, None, None);
    let (mut weight_kg, mut baseline_weight_kg, mut weighed_at) = (None, None, None);
    let names = &names.0;
    for (key, value) in dict.iter() {
        if value.is_none() {
            continue;
        }
        let slot = match names.iter().position(|name| name.is(&key)) {
            Some(0) => &mut participant,
            Some(1) => &mut weight,
            Some(2) => &mut arm,
            Some(3) => &mut visit,
            Some(4) => &mut thawed_at,
            Some(_) => &mut weight_kg,
            None => {
                let key = key
                    .cast_into::<PyString>()
                    .map_err(|e| type_error("each key", "a str", e.into_inner().as_any()))?;
                match key.to_str()? {
                    "participant" => &mut participant,
                    "weight" => &mut weight,
                    "arm" => &mut arm,
                    "visit" => &mut visit,
                    "thawed_at" => &mut thawed_at,
                    "prepared_at" => &mut prepared_at,
                    "infusion_at" => &mut infusion_at,
                    "weighed_at" => &mut weighed_at,
                    "baseline_weight" => &mut baseline_weight,
                    "weight_kg" => &mut weight_kg,
                    "baseline_weight_kg" => &mut baseline_weight_kg,
                    "bag_id" => &mut bag_id,
                    "din_sequence" => &mut din_sequence,
                    other => {
                        return Err(to_py_err(core::DoseError::InvalidInput {
                            field: other.to_owned(),
                            reason: format!(
                            "the order has a key '{other}' it does not take; the keys are {KEYS}"
                        ),
                        }))
                    }
                }
            }
        };
        *slot = Some(value);
    }
    let (participant, arm, visit) = (
        text("participant", participant)?,
        text("arm", arm)?,
        text("visit", visit)?,
    );
    let weight = WeightArg::one_of(
        "weight",
        weight.map(|v| v.extract()).transpose()?,
        weight_kg.map(|v| v.extract()).transpose()?,
        false,
    )?;
    let thawed_at = times
        .checked("thawed_at", &thawed_at.ok_or_else(|| missing("thawed_at"))?)?
        .map_err(Box::new);
    let time = |value: Option<Bound<'py, PyAny>>, field: &str| -> PyResult<Option<CheckedTime>> {
        value
            .map(|v| Ok(boxed_error(v.extract::<TimeArg<'py>>()?.checked(field)?)))
            .transpose()
    };
    let optional = OptionalValues {
        prepared_at: time(prepared_at, "prepared_at")?,
        infusion_at: time(infusion_at, "infusion_at")?,
        weighed_at: time(weighed_at, "weighed_at")?,
        baseline_weight: WeightArg::one_of(
            "baseline_weight",
            baseline_weight.map(|v| v.extract()).transpose()?,
            baseline_weight_kg.map(|v| v.extract()).transpose()?,
            false,
        )?,
        bag_id: bag_id.map(|v| v.extract()).transpose()?,
        din_sequence: din_sequence.map(|v| v.extract()).transpose()?,
    };
    Ok(Read::Values(OrderValues {
        participant: participant.to_str()?.into(),
        weight,
        arm: arm.to_str()?.into(),
        visit: visit.to_str()?.into(),
        thawed_at,
        optional: optional.boxed(),
    }))
}

#[pymethods]
impl Order {
    #[new]
    #[pyo3(signature = (*, participant, arm, visit, thawed_at, weight=None, weight_kg=None, prepared_at=None, infusion_at=None, baseline_weight=None, baseline_weight_kg=None, bag_id=None, din_sequence=None, weighed_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn new<'py>(
        participant: &str,
        arm: &str,
        visit: &str,
        thawed_at: TimeArg<'py>,
        weight: Option<WeightArg>,
        weight_kg: Option<Number>,
        prepared_at: Option<TimeArg<'py>>,
        infusion_at: Option<TimeArg<'py>>,
        baseline_weight: Option<WeightArg>,
        baseline_weight_kg: Option<Number>,
        bag_id: Option<String>,
        din_sequence: Option<DinSequenceArg>,
        weighed_at: Option<TimeArg<'py>>,
    ) -> PyResult<Order> {
        OrderArgs {
            participant,
            weight: WeightArg::one_of("weight", weight, weight_kg, true)?,
            arm,
            visit,
            thawed_at,
            prepared_at,
            infusion_at,
            weighed_at,
            baseline_weight: WeightArg::one_of(
                "baseline_weight",
                baseline_weight,
                baseline_weight_kg,
                false,
            )?,
            bag_id,
            din_sequence,
        }
        .build()
        .map(|inner| Order { inner })
    }

    /// An order from its JSON (as in a record).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Order> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(crate::json_error)?;
        core::Order::from_json_value(value)
            .py()
            .map(|inner| Order { inner })
    }

    /// The orders of a CSV file for `doseprep batch`: the columns
    /// participant, weight, arm, visit, thawed_at and optionally
    /// prepared_at, infusion_at, baseline_weight, bag_id, din_sequence. A bad header
    /// raises; a bad cell is that row's `DoseError`, in its place.
    #[staticmethod]
    fn from_csv(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Vec<Py<PyAny>>> {
        let rows = doseprep_day::files::orders(&path).map_err(crate::errors::day_error)?;
        rows.into_iter()
            .map(|row| match row {
                Ok(inner) => Ok(Py::new(py, Order { inner })?.into_any()),
                Err(error) => Ok(to_py_err(error).into_value(py).into_any()),
            })
            .collect()
    }

    #[getter]
    fn participant(&self) -> &str {
        self.inner.participant()
    }
    #[getter]
    fn weight_kg(&self) -> f64 {
        self.inner.weight().kg()
    }
    #[getter]
    fn weight_as_entered(&self) -> Option<&str> {
        self.inner.weight_as_entered()
    }
    #[getter]
    fn baseline_weight_kg(&self) -> Option<f64> {
        self.inner.baseline_weight().map(core::BodyWeight::kg)
    }
    #[getter]
    fn arm(&self) -> &str {
        self.inner.arm()
    }
    #[getter]
    fn visit(&self) -> &str {
        self.inner.visit()
    }
    #[getter]
    fn bag_id(&self) -> Option<String> {
        self.inner.bag_id().map(|id| id.as_text())
    }
    #[getter]
    fn thawed_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        input_time(py, self.inner.thawed_at())
    }
    #[getter]
    fn prepared_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .prepared_at()
            .map(|t| input_time(py, t))
            .transpose()
    }
    #[getter]
    fn weighed_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .weighed_at()
            .map(|t| input_time(py, t))
            .transpose()
    }
    #[getter]
    fn infusion_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .infusion_at()
            .map(|t| input_time(py, t))
            .transpose()
    }

    /// The order as JSON.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(crate::json_error)
    }

    /// Equal orders hash equal: their times compare as instants, so they
    /// are hashed on one clock (UTC), whatever offsets they were given in.
    fn __hash__(&self) -> PyResult<u64> {
        let on_one_clock = self.inner.on_clock(&jiff::tz::TimeZone::UTC);
        Ok(crate::convert::text_hash(
            &serde_json::to_string(&on_one_clock).map_err(crate::json_error)?,
        ))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json = slf.get().to_json()?;
        (py.get_type::<Order>().getattr("from_json")?, (json,)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let o = &self.inner;
        format!(
            "Order(participant={}, weight={}, arm={}, visit={}, thawed_at={})",
            quoted(o.participant()),
            o.weight_as_entered()
                .map_or_else(|| format!("{:?}", o.weight().kg()), quoted),
            quoted(o.arm()),
            quoted(o.visit()),
            quoted(&core::format_time(o.thawed_at()))
        )
    }
}

/// An input time back as a `datetime` at the offset it was given in.
fn input_time<'py>(py: Python<'py>, time: &jiff::ZonedDateTime) -> PyResult<Bound<'py, PyAny>> {
    let zone = time.time_zone().clone();
    py_datetime(py, &core::SiteTime::new(time.timestamp(), zone))
}
