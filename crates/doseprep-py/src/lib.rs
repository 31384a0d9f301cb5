//! `doseprep._core`: the Python face of the doseprep crate. It converts
//! arguments and results and maps errors to exception classes; every dose rule
//! lives in the core crate.

use std::sync::Arc;

use doseprep::{self as core, ErrorKind};
use jiff::tz::{Offset, TimeZone};
use jiff::ZonedDateTime;
use pyo3::create_exception;
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyDateTime, PyDelta, PyDeltaAccess, PyDict, PyFloat, PyInt, PyList, PyString, PyTzInfo,
};

create_exception!(
    doseprep,
    DoseError,
    PyValueError,
    "Base class of every doseprep error. A ValueError: the input was wrong, not the program."
);
create_exception!(
    doseprep,
    UnitError,
    DoseError,
    "A quantity without a unit, with an unknown unit, or not a number."
);
create_exception!(
    doseprep,
    InvalidQuantityError,
    DoseError,
    "NaN, infinity, zero, a negative or an absurd quantity."
);
create_exception!(
    doseprep,
    ImplausibleWeightError,
    DoseError,
    "A body weight outside the protocol's plausible range."
);
create_exception!(
    doseprep,
    UnknownArmError,
    DoseError,
    "An arm the protocol does not define."
);
create_exception!(
    doseprep,
    UnknownVisitError,
    DoseError,
    "A visit the protocol does not define."
);
create_exception!(
    doseprep,
    ViabilityError,
    DoseError,
    "Viability outside 0-1 or under the protocol floor."
);
create_exception!(
    doseprep,
    LotTooDiluteError,
    DoseError,
    "The draw the dose needs does not fit in the bag."
);
create_exception!(
    doseprep,
    NotEnoughContainersError,
    DoseError,
    "Fewer containers on hand than the draw needs."
);
create_exception!(
    doseprep,
    OutsideToleranceError,
    DoseError,
    "The rounded draw misses the target by more than the tolerance."
);
create_exception!(
    doseprep,
    DmsoLimitError,
    DoseError,
    "DMSO exposure over the protocol limit."
);
create_exception!(
    doseprep,
    ThawWindowError,
    DoseError,
    "Thaw after preparation, or the infusion would end too late."
);
create_exception!(
    doseprep,
    InvalidTimeError,
    DoseError,
    "A time without a UTC offset, or one that cannot be read."
);
create_exception!(
    doseprep,
    InvalidInputError,
    DoseError,
    "An empty id or another unusable input."
);
create_exception!(
    doseprep,
    ProtocolError,
    DoseError,
    "A protocol file that is malformed or breaks a rule."
);
create_exception!(
    doseprep,
    RecordError,
    DoseError,
    "A preparation record that cannot be read or verified."
);

fn exception_type(py: Python<'_>, kind: ErrorKind) -> Bound<'_, pyo3::types::PyType> {
    match kind {
        ErrorKind::Unit => py.get_type::<UnitError>(),
        ErrorKind::InvalidQuantity => py.get_type::<InvalidQuantityError>(),
        ErrorKind::ImplausibleWeight => py.get_type::<ImplausibleWeightError>(),
        ErrorKind::UnknownArm => py.get_type::<UnknownArmError>(),
        ErrorKind::UnknownVisit => py.get_type::<UnknownVisitError>(),
        ErrorKind::Viability => py.get_type::<ViabilityError>(),
        ErrorKind::LotTooDilute => py.get_type::<LotTooDiluteError>(),
        ErrorKind::NotEnoughContainers => py.get_type::<NotEnoughContainersError>(),
        ErrorKind::OutsideTolerance => py.get_type::<OutsideToleranceError>(),
        ErrorKind::DmsoOverLimit => py.get_type::<DmsoLimitError>(),
        ErrorKind::ThawWindow => py.get_type::<ThawWindowError>(),
        ErrorKind::InvalidTime => py.get_type::<InvalidTimeError>(),
        ErrorKind::InvalidInput => py.get_type::<InvalidInputError>(),
        ErrorKind::Protocol => py.get_type::<ProtocolError>(),
        ErrorKind::Record => py.get_type::<RecordError>(),
        // A kind added to the core before the binding learns it is still a DoseError.
        _ => py.get_type::<DoseError>(),
    }
}

/// The Python exception for a core error, with the core's message.
fn to_py_err(error: core::DoseError) -> PyErr {
    Python::attach(|py| PyErr::from_type(exception_type(py, error.kind()), error.to_string()))
}

fn type_error(field: &str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{field} must be {expected}, not {type_name}"))
}

/// A float argument: anything with `__float__`; an int too large for a float
/// is a bad value (`InvalidQuantityError`), a non-number a `TypeError`.
fn float_arg(field: &str, unit: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>() {
        return Err(type_error(field, "a number", value));
    }
    match value.extract::<f64>() {
        Ok(number) => Ok(number),
        Err(e) if e.is_instance_of::<PyOverflowError>(value.py()) => {
            Err(to_py_err(core::DoseError::InvalidQuantity {
                field: field.to_owned(),
                value: f64::INFINITY,
                unit: unit.to_owned(),
                requirement: "a number that fits a 64-bit float".to_owned(),
            }))
        }
        Err(_) => Err(type_error(field, "a number", value)),
    }
}

/// A count of containers: an int, or a float with a whole value (4.0); NaN,
/// infinities, fractions, zero and negatives are `DoseError`s.
fn containers_arg(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    let bad = |shown: String| {
        to_py_err(core::DoseError::InvalidInput {
            field: "containers".to_owned(),
            reason: format!(
                "{shown} containers is not a whole count from 1 to {}; count the containers of this lot on hand",
                u32::MAX
            ),
        })
    };
    if value.is_instance_of::<PyBool>() {
        return Err(type_error("containers", "an int", value));
    }
    if let Ok(count) = value.extract::<i64>() {
        return u32::try_from(count).map_err(|_| bad(count.to_string()));
    }
    if value.is_instance_of::<PyInt>() {
        return Err(bad(value.str()?.to_string()));
    }
    let number = float_arg("containers", "", value)
        .map_err(|_| type_error("containers", "an int", value))?;
    if number.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&number) {
        // A whole float in range converts exactly.
        return Ok(number as u32);
    }
    Err(bad(format!("{number:?}")))
}

/// A weight: a number in kg, a string with a unit ("160 lb"), or a quantity
/// object with `.magnitude` and `.units` (pint's shape, without importing pint).
/// Returns the text the user typed, if the weight was text (for the worksheet).
fn weight_arg(value: &Bound<'_, PyAny>) -> PyResult<(core::BodyWeight, Option<String>)> {
    let py = value.py();
    let in_kg = |kg: f64| -> PyResult<(core::BodyWeight, Option<String>)> {
        Ok((core::BodyWeight::from_kg(kg).map_err(to_py_err)?, None))
    };
    // Plain floats first: the common case, and no attribute probe (a failed
    // `hasattr` costs a Python exception).
    if let Ok(number) = value.cast_exact::<PyFloat>() {
        return in_kg(number.value());
    }
    if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_str()?;
        let weight = core::BodyWeight::parse(text).map_err(to_py_err)?;
        return Ok((weight, Some(text.trim().to_owned())));
    }
    if !value.is_instance_of::<PyInt>()
        && value.hasattr(intern!(py, "magnitude"))?
        && value.hasattr(intern!(py, "units"))?
    {
        let magnitude = float_arg("weight", "", &value.getattr(intern!(py, "magnitude"))?)?;
        let units = value.getattr(intern!(py, "units"))?.str()?.to_string();
        let weight = match units.as_str() {
            "kilogram" | "kg" => core::BodyWeight::from_kg(magnitude),
            "pound" | "lb" | "avoirdupois_pound" => core::BodyWeight::from_pounds(magnitude),
            other => core::BodyWeight::parse(&format!("{magnitude} {other}")),
        }
        .map_err(to_py_err)?;
        return Ok((weight, Some(format!("{magnitude} {units}"))));
    }
    let kg = float_arg("weight", "kg", value).map_err(|e| {
        if e.is_instance_of::<PyTypeError>(py) {
            type_error(
                "weight",
                "a number in kg, a string such as '72.4 kg' or '160 lb', or a quantity",
                value,
            )
        } else {
            e
        }
    })?;
    in_kg(kg)
}

fn invalid_time(field: &str, input: String, reason: &str) -> PyErr {
    to_py_err(core::DoseError::InvalidTime {
        field: field.to_owned(),
        input,
        reason: reason.to_owned(),
    })
}

/// A time: an aware `datetime` or an ISO 8601 string with an offset.
fn time_arg(field: &str, value: &Bound<'_, PyAny>) -> PyResult<ZonedDateTime> {
    if let Ok(text) = value.cast::<PyString>() {
        return core::parse_time(field, text.to_str()?).map_err(to_py_err);
    }
    let datetime = value.cast::<PyDateTime>().map_err(|_| {
        type_error(
            field,
            "a datetime with a tzinfo, or an ISO 8601 string",
            value,
        )
    })?;
    let py = value.py();
    let offset = datetime.call_method0(intern!(py, "utcoffset"))?;
    if offset.is_none() {
        return Err(invalid_time(
            field,
            datetime.str()?.to_string(),
            "it has no time zone; pass an aware datetime, e.g. datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo(\"Europe/London\"))",
        ));
    }
    let offset = offset.cast::<PyDelta>()?;
    let offset_seconds = offset.get_days() * 86_400 + offset.get_seconds();
    // `timestamp()` is one C call, where reading seven fields is seven
    // attribute lookups under the stable ABI. Its f64 resolves microseconds
    // exactly for any year before 2106 (ulp < 1 µs), so rounding to the
    // microsecond recovers the datetime's own value.
    let seconds: f64 = datetime.call_method0(intern!(py, "timestamp"))?.extract()?;
    let whole = seconds.floor();
    let micros = ((seconds - whole) * 1e6).round();
    let build = || -> Result<ZonedDateTime, jiff::Error> {
        let timestamp = jiff::Timestamp::new(whole as i64, 0)?
            .checked_add(jiff::SignedDuration::from_micros(micros as i64))?;
        Ok(timestamp.to_zoned_datetime(TimeZone::fixed(Offset::from_seconds(offset_seconds)?)))
    };
    build().map_err(|e| invalid_time(field, datetime.to_string(), &e.to_string()))
}

/// A `datetime` with a fixed-offset `timezone` for a core time.
fn py_datetime<'py>(py: Python<'py>, time: &ZonedDateTime) -> PyResult<Bound<'py, PyDateTime>> {
    let offset = PyDelta::new(py, 0, time.offset().seconds(), 0, true)?;
    let tzinfo = PyTzInfo::fixed_offset(py, offset)?;
    let civil = time.datetime();
    let narrow = |v: i8| u8::try_from(v).unwrap_or(0);
    PyDateTime::new(
        py,
        i32::from(civil.year()),
        narrow(civil.month()),
        narrow(civil.day()),
        narrow(civil.hour()),
        narrow(civil.minute()),
        narrow(civil.second()),
        u32::try_from(civil.subsec_nanosecond() / 1000).unwrap_or(0),
        Some(&tzinfo),
    )
}

/// A Python string literal for a repr: 'CARE-012'.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn json<T: serde::Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

// ------------------------------------------------------------------ Protocol

/// A trial protocol: trial facts and site settings.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct Protocol {
    inner: Arc<core::Protocol>,
}

impl Protocol {
    fn wrap(parsed: core::Result<core::Protocol>) -> PyResult<Protocol> {
        parsed
            .map(|inner| Protocol {
                inner: Arc::new(inner),
            })
            .map_err(to_py_err)
    }
}

#[pymethods]
impl Protocol {
    /// The built-in CARE-SSc protocol with this project's site defaults.
    #[staticmethod]
    fn care_ssc() -> Protocol {
        Protocol {
            inner: Arc::new(core::Protocol::care_ssc()),
        }
    }

    /// A protocol from TOML text.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Protocol> {
        Protocol::wrap(core::Protocol::from_toml(text))
    }

    /// A protocol from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Protocol> {
        Protocol::wrap(core::Protocol::from_json(text))
    }

    /// A protocol from a file: JSON if the name ends in `.json`, else TOML.
    #[staticmethod]
    fn from_file(path: std::path::PathBuf) -> PyResult<Protocol> {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            to_py_err(core::DoseError::MalformedProtocol {
                format: "file".to_owned(),
                detail: format!("cannot read {}: {e}", path.display()),
            })
        })?;
        let is_json = path
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            Protocol::from_json(&text)
        } else {
            Protocol::from_toml(&text)
        }
    }

    /// Short name, e.g. "CARE-SSc".
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    /// Visit names in order.
    #[getter]
    fn visits(&self) -> Vec<String> {
        self.inner.visits.clone()
    }

    /// Arm → visit → "active" or "placebo".
    #[getter]
    fn arms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let arms = PyDict::new(py);
        for (arm, schedule) in &self.inner.arms {
            let visits = PyDict::new(py);
            for (visit, content) in schedule {
                visits.set_item(visit, content.as_str())?;
            }
            arms.set_item(arm, visits)?;
        }
        Ok(arms)
    }

    /// SHA-256 of the protocol's canonical JSON.
    #[getter]
    fn fingerprint(&self) -> PyResult<String> {
        self.inner.fingerprint().map_err(to_py_err)
    }

    /// The canonical JSON form.
    fn to_json(&self) -> PyResult<String> {
        self.inner.canonical_json().map_err(to_py_err)
    }

    fn __repr__(&self) -> String {
        format!(
            "Protocol(name={}, visits=[{}], arms=[{}])",
            quoted(&self.inner.name),
            self.inner
                .visits
                .iter()
                .map(|v| quoted(v))
                .collect::<Vec<_>>()
                .join(", "),
            self.inner
                .arms
                .keys()
                .map(|a| quoted(a))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

// ------------------------------------------------------------------ Lot

/// One thawed lot of the cell product.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct Lot {
    inner: Arc<core::Lot>,
}

#[pymethods]
impl Lot {
    #[new]
    #[pyo3(signature = (*, lot_id, viable_cells_per_ml, viability, container_volume_ml, containers, dmso_fraction=None))]
    fn new(
        lot_id: &str,
        viable_cells_per_ml: &Bound<'_, PyAny>,
        viability: &Bound<'_, PyAny>,
        container_volume_ml: &Bound<'_, PyAny>,
        containers: &Bound<'_, PyAny>,
        dmso_fraction: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Lot> {
        let concentration = float_arg("viable_cells_per_ml", "cells/mL", viable_cells_per_ml)?;
        let viability = float_arg("viability", "", viability)?;
        let container_ml = float_arg("container_volume_ml", "mL", container_volume_ml)?;
        let containers = containers_arg(containers)?;
        let dmso_fraction = dmso_fraction
            .filter(|v| !v.is_none())
            .map(|v| float_arg("dmso_fraction", "", v))
            .transpose()?;
        let inner = core::Lot::new(
            lot_id,
            core::CellConcentration::new("viable_cells_per_ml", concentration)
                .map_err(to_py_err)?,
            viability,
            core::ExactVolume::from_ml("container_volume_ml", container_ml).map_err(to_py_err)?,
            containers,
            dmso_fraction,
        )
        .map_err(to_py_err)?;
        Ok(Lot {
            inner: Arc::new(inner),
        })
    }

    /// A lot from TOML text (quantities with units, e.g. `container_volume = "10 mL"`).
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Lot> {
        core::Lot::from_toml(text)
            .map(|inner| Lot {
                inner: Arc::new(inner),
            })
            .map_err(to_py_err)
    }

    #[getter]
    fn lot_id(&self) -> &str {
        self.inner.lot_id()
    }
    #[getter]
    fn viable_cells_per_ml(&self) -> f64 {
        self.inner.viable_cells_per_ml().cells_per_ml()
    }
    #[getter]
    fn viability(&self) -> f64 {
        self.inner.viability()
    }
    #[getter]
    fn container_volume_ml(&self) -> f64 {
        self.inner.container_volume().ml()
    }
    #[getter]
    fn containers(&self) -> u32 {
        self.inner.containers()
    }
    #[getter]
    fn dmso_fraction(&self) -> Option<f64> {
        self.inner.dmso_fraction()
    }

    fn __repr__(&self) -> String {
        let l = &self.inner;
        format!(
            "Lot(lot_id={}, viable_cells_per_ml={:?}, viability={:?}, container_volume_ml={:?}, containers={}, dmso_fraction={})",
            quoted(l.lot_id()),
            l.viable_cells_per_ml().cells_per_ml(),
            l.viability(),
            l.container_volume().ml(),
            l.containers(),
            l.dmso_fraction().map_or("None".to_owned(), |f| format!("{f:?}")),
        )
    }
}

// ------------------------------------------------------------------ Order

/// One participant's infusion at one visit.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct Order {
    inner: core::Order,
}

/// Remembers the last `datetime` converted, so a batch whose orders share one
/// thaw-time object converts it once. It holds a reference to that object, so
/// the identity test cannot be fooled by a freed and reused address, and it
/// only keeps datetimes whose offset is fixed by their tzinfo's type
/// (`datetime.timezone` or `zoneinfo.ZoneInfo`), never a custom tzinfo.
#[derive(Default)]
struct TimeCache<'py> {
    last: Option<(Bound<'py, PyAny>, ZonedDateTime)>,
}

impl<'py> TimeCache<'py> {
    fn convert(&mut self, field: &str, value: &Bound<'py, PyAny>) -> PyResult<ZonedDateTime> {
        if let Some((object, time)) = &self.last {
            if object.is(value) {
                return Ok(time.clone());
            }
        }
        let time = time_arg(field, value)?;
        if Self::cacheable(value)? {
            self.last = Some((value.clone(), time.clone()));
        }
        Ok(time)
    }

    fn cacheable(value: &Bound<'py, PyAny>) -> PyResult<bool> {
        let py = value.py();
        if !value.get_type().is(py.get_type::<PyDateTime>()) {
            return Ok(false);
        }
        let tzinfo_type = value.getattr(intern!(py, "tzinfo"))?.get_type();
        let module = tzinfo_type.module()?;
        let name = tzinfo_type.name()?;
        Ok(matches!(
            (module.to_str()?, name.to_str()?),
            ("datetime", "timezone") | ("zoneinfo", "ZoneInfo")
        ))
    }
}

fn build_order<'py>(
    participant: &str,
    weight: &Bound<'py, PyAny>,
    arm: &str,
    visit: &str,
    thawed_at: &Bound<'py, PyAny>,
    prepared_at: Option<&Bound<'py, PyAny>>,
    times: &mut TimeCache<'py>,
) -> PyResult<core::Order> {
    let (weight, as_entered) = weight_arg(weight)?;
    let thawed_at = times.convert("thawed_at", thawed_at)?;
    let prepared_at = prepared_at
        .filter(|v| !v.is_none())
        .map(|v| times.convert("prepared_at", v))
        .transpose()?;
    let mut order = core::Order::new(participant, weight, arm, visit, thawed_at, prepared_at)
        .map_err(to_py_err)?;
    if let Some(text) = as_entered {
        order.set_weight_as_entered(&text);
    }
    Ok(order)
}

#[pymethods]
impl Order {
    #[new]
    #[pyo3(signature = (*, participant, weight, arm, visit, thawed_at, prepared_at=None))]
    fn new(
        participant: &str,
        weight: &Bound<'_, PyAny>,
        arm: &str,
        visit: &str,
        thawed_at: &Bound<'_, PyAny>,
        prepared_at: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Order> {
        build_order(
            participant,
            weight,
            arm,
            visit,
            thawed_at,
            prepared_at,
            &mut TimeCache::default(),
        )
        .map(|inner| Order { inner })
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
    fn arm(&self) -> &str {
        self.inner.arm()
    }
    #[getter]
    fn visit(&self) -> &str {
        self.inner.visit()
    }
    #[getter]
    fn thawed_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        py_datetime(py, self.inner.thawed_at())
    }
    #[getter]
    fn prepared_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        py_datetime(py, self.inner.prepared_at())
    }

    fn __repr__(&self) -> String {
        let o = &self.inner;
        format!(
            "Order(participant={}, weight={}, arm={}, visit={}, thawed_at={}, prepared_at={})",
            quoted(o.participant()),
            o.weight_as_entered()
                .map_or_else(|| format!("{:?}", o.weight().kg()), quoted),
            quoted(o.arm()),
            quoted(o.visit()),
            quoted(&core::format_time(o.thawed_at())),
            quoted(&core::format_time(o.prepared_at()))
        )
    }
}

// ------------------------------------------------------------------ Preparation

/// One bag: active or placebo, every number the pharmacist needs.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct Preparation {
    inner: core::Preparation,
    // The inputs, for the label, the worksheet and the record.
    protocol: Arc<core::Protocol>,
    order: core::Order,
    lot: Arc<core::Lot>,
}

impl Preparation {
    fn record(&self) -> PyResult<core::PreparationRecord> {
        core::PreparationRecord::new(&self.protocol, &self.order, &self.lot, self.inner.clone())
            .map_err(to_py_err)
    }
}

#[pymethods]
impl Preparation {
    /// "active" or "placebo".
    #[getter]
    fn content(&self) -> &'static str {
        self.inner.content.as_str()
    }
    #[getter]
    fn participant(&self) -> &str {
        &self.inner.participant
    }
    #[getter]
    fn arm(&self) -> &str {
        &self.inner.arm
    }
    #[getter]
    fn visit(&self) -> &str {
        &self.inner.visit
    }
    #[getter]
    fn body_weight_kg(&self) -> f64 {
        self.inner.body_weight_kg
    }
    #[getter]
    fn dosing_weight_kg(&self) -> f64 {
        self.inner.dosing_weight_kg
    }
    /// The lot drawn from; None for a placebo.
    #[getter]
    fn lot_id(&self) -> Option<&str> {
        self.inner.dose.as_ref().map(|d| d.lot_id.as_str())
    }
    /// Target cells (0 for a placebo).
    #[getter]
    fn target_cells(&self) -> f64 {
        self.inner
            .dose
            .as_ref()
            .map_or(0.0, |d| d.target_cells.cells())
    }
    /// (lowest, highest) acceptable delivered cells; (0, 0) for a placebo.
    #[getter]
    fn acceptable_range(&self) -> (f64, f64) {
        self.inner.dose.as_ref().map_or((0.0, 0.0), |d| {
            (
                d.acceptable_min_cells.cells(),
                d.acceptable_max_cells.cells(),
            )
        })
    }
    /// The draw before rounding (0 for a placebo).
    #[getter]
    fn unrounded_draw_volume_ml(&self) -> f64 {
        self.inner
            .dose
            .as_ref()
            .map_or(0.0, |d| d.unrounded_draw_volume_ml)
    }
    #[getter]
    fn draw_volume_ml(&self) -> f64 {
        self.inner.draw_volume().ml()
    }
    #[getter]
    fn diluent(&self) -> &str {
        &self.inner.diluent
    }
    #[getter]
    fn diluent_volume_ml(&self) -> f64 {
        self.inner.diluent_volume.ml()
    }
    #[getter]
    fn final_volume_ml(&self) -> f64 {
        self.inner.final_volume.ml()
    }
    #[getter]
    fn delivered_cells(&self) -> f64 {
        self.inner.delivered_cells().cells()
    }
    /// Signed fraction (0.0014 is +0.14%); None for a placebo.
    #[getter]
    fn deviation(&self) -> Option<f64> {
        self.inner.dose.as_ref().map(|d| d.deviation)
    }
    #[getter]
    fn final_concentration_cells_per_ml(&self) -> f64 {
        self.inner
            .dose
            .as_ref()
            .map_or(0.0, |d| d.final_concentration_cells_per_ml)
    }
    #[getter]
    fn containers_to_thaw(&self) -> u64 {
        self.inner.containers_to_thaw()
    }
    #[getter]
    fn dmso_g_per_kg(&self) -> Option<f64> {
        self.inner.dose.as_ref().and_then(|d| d.dmso_g_per_kg)
    }
    #[getter]
    fn infusion_duration_min(&self) -> f64 {
        self.inner.infusion_duration.as_secs_f64() / 60.0
    }
    #[getter]
    fn pump_rate_ml_per_h(&self) -> f64 {
        self.inner.pump_rate_ml_per_h
    }
    #[getter]
    fn prepared_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        py_datetime(py, &self.inner.prepared_at)
    }
    /// Latest start of the infusion.
    #[getter]
    fn start_by<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        py_datetime(py, &self.inner.start_by)
    }
    /// Latest end of the infusion.
    #[getter]
    fn infuse_by<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        py_datetime(py, &self.inner.infuse_by)
    }

    /// The text of the bag's label: byte-identical for an active bag and its
    /// matched placebo.
    fn blinded_label(&self) -> String {
        core::blinded_label(&self.protocol, &self.inner)
    }

    /// One unblinded line: content, volumes, cells, rate, infuse-by time.
    fn summary(&self) -> String {
        core::summary_line(&self.inner)
    }

    /// The unblinded pharmacy worksheet: every step with its quantity.
    fn worksheet(&self) -> String {
        core::worksheet(&self.protocol, &self.order, &self.lot, &self.inner)
    }

    /// The verifiable record of this preparation and its inputs.
    #[pyo3(name = "record")]
    fn py_record(&self) -> PyResult<PreparationRecord> {
        self.record().map(|inner| PreparationRecord { inner })
    }

    /// The preparation as JSON (the core's serde form: quantities named by unit).
    fn to_json(&self) -> PyResult<String> {
        json(&self.inner)
    }

    /// The preparation as a dict of JSON values (times as ISO 8601 strings).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &json(&self.inner)?)
    }

    fn __repr__(&self) -> String {
        let p = &self.inner;
        let mut text = format!(
            "Preparation(content={}, participant={}, arm={}, visit={}, final_volume_ml={:?}, diluent_volume_ml={:?}",
            quoted(p.content.as_str()),
            quoted(&p.participant),
            quoted(&p.arm),
            quoted(&p.visit),
            p.final_volume.ml(),
            p.diluent_volume.ml()
        );
        if let Some(d) = &p.dose {
            text.push_str(&format!(
                ", draw_volume_ml={:?}, delivered_cells={:?}, deviation={:?}",
                d.draw_volume.ml(),
                d.delivered_cells.cells(),
                d.deviation
            ));
        }
        text.push_str(&format!(", pump_rate_ml_per_h={:?})", p.pump_rate_ml_per_h));
        text
    }
}

// ------------------------------------------------------------------ records

/// Every input and output of one preparation, its protocol fingerprint and
/// the library version; JSON round-trips exactly.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct PreparationRecord {
    inner: core::PreparationRecord,
}

#[pymethods]
impl PreparationRecord {
    /// Read a record from JSON.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PreparationRecord> {
        core::PreparationRecord::from_json(text)
            .map(|inner| PreparationRecord { inner })
            .map_err(to_py_err)
    }

    /// The record as pretty JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().map_err(to_py_err)
    }

    /// The record as a dict of JSON values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &json(&self.inner)?)
    }

    #[getter]
    fn library_version(&self) -> &str {
        &self.inner.library_version
    }

    #[getter]
    fn protocol_fingerprint(&self) -> &str {
        &self.inner.protocol_fingerprint
    }

    fn __repr__(&self) -> String {
        let p = &self.inner.preparation;
        format!(
            "PreparationRecord(participant={}, visit={}, content={}, protocol_fingerprint={})",
            quoted(&p.participant),
            quoted(&p.visit),
            quoted(p.content.as_str()),
            quoted(&self.inner.protocol_fingerprint)
        )
    }
}

/// The outcome of `verify`: `ok`, and each field that differs as
/// `(field, recorded, recomputed)`.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
struct Verification {
    inner: core::Verification,
}

#[pymethods]
impl Verification {
    /// True when the record checks out.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok()
    }

    /// `(field, recorded, recomputed)` for every field that differs.
    #[getter]
    fn differences(&self) -> Vec<(String, String, String)> {
        self.inner
            .differences
            .iter()
            .map(|d| (d.field.clone(), d.recorded.clone(), d.recomputed.clone()))
            .collect()
    }

    /// The verifying library version, when it differs from the recording one.
    #[getter]
    fn verified_with_other_version(&self) -> Option<&str> {
        self.inner.verified_with_other_version.as_deref()
    }

    fn __bool__(&self) -> bool {
        self.inner.ok()
    }

    fn __repr__(&self) -> String {
        format!(
            "Verification(ok={}, differences={:?})",
            if self.inner.ok() { "True" } else { "False" },
            self.differences()
        )
    }
}

/// Recompute a record from its inputs and compare: a `PreparationRecord` or
/// its JSON text.
#[pyfunction]
fn verify(record: &Bound<'_, PyAny>) -> PyResult<Verification> {
    let verification = if let Ok(text) = record.cast::<PyString>() {
        core::PreparationRecord::from_json(text.to_str()?).and_then(|r| r.verify())
    } else if let Ok(record) = record.cast::<PreparationRecord>() {
        record.get().inner.verify()
    } else {
        return Err(type_error(
            "record",
            "a PreparationRecord or its JSON text",
            record,
        ));
    };
    verification
        .map(|inner| Verification { inner })
        .map_err(to_py_err)
}

// ------------------------------------------------------------------ functions

/// Prepare the bag an order calls for: the active bag, or the placebo matched
/// to the active bag the participant would have received from this lot.
#[pyfunction]
#[pyo3(signature = (protocol, /, *, participant, weight, arm, visit, lot, thawed_at, prepared_at=None))]
#[allow(clippy::too_many_arguments)]
fn prepare(
    protocol: &Protocol,
    participant: &str,
    weight: &Bound<'_, PyAny>,
    arm: &str,
    visit: &str,
    lot: &Lot,
    thawed_at: &Bound<'_, PyAny>,
    prepared_at: Option<&Bound<'_, PyAny>>,
) -> PyResult<Preparation> {
    let order = build_order(
        participant,
        weight,
        arm,
        visit,
        thawed_at,
        prepared_at,
        &mut TimeCache::default(),
    )?;
    let inner = core::prepare(&protocol.inner, &order, &lot.inner).map_err(to_py_err)?;
    Ok(Preparation {
        inner,
        protocol: Arc::clone(&protocol.inner),
        order,
        lot: Arc::clone(&lot.inner),
    })
}

fn required_item<'py>(
    dict: &Bound<'py, PyDict>,
    key: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    dict.get_item(key)?.ok_or_else(|| {
        to_py_err(core::DoseError::InvalidInput {
            field: key.to_string(),
            reason: format!(
                "the order has no '{key}'; give participant, weight, arm, visit and thawed_at"
            ),
        })
    })
}

fn order_from_item<'py>(
    item: &Bound<'py, PyAny>,
    times: &mut TimeCache<'py>,
) -> PyResult<core::Order> {
    if let Ok(order) = item.cast::<Order>() {
        return Ok(order.get().inner.clone());
    }
    let dict = item
        .cast::<PyDict>()
        .map_err(|_| type_error("each order", "a dict or a doseprep.Order", item))?;
    let py = item.py();
    let required = |key: &Bound<'py, PyString>| required_item(dict, key);
    let text = |key: &Bound<'py, PyString>| -> PyResult<String> {
        let value = required(key)?;
        value
            .extract::<String>()
            .map_err(|_| type_error(&key.to_string(), "a str", &value))
    };
    build_order(
        &text(intern!(py, "participant"))?,
        &required(intern!(py, "weight"))?,
        &text(intern!(py, "arm"))?,
        &text(intern!(py, "visit"))?,
        &required(intern!(py, "thawed_at"))?,
        dict.get_item(intern!(py, "prepared_at"))?.as_ref(),
        times,
    )
}

/// Prepare many orders from one lot in one call. Returns a list in the order
/// given: a Preparation for each order that succeeds, and the DoseError
/// instance (not raised) in the place of each that fails, including a row
/// that is not a dict or Order or holds a value of the wrong type
/// (InvalidInputError).
#[pyfunction]
#[pyo3(signature = (protocol, orders, /, *, lot))]
fn prepare_many<'py>(
    py: Python<'py>,
    protocol: &Protocol,
    orders: &Bound<'py, PyAny>,
    lot: &Lot,
) -> PyResult<Bound<'py, PyList>> {
    let results = PyList::empty(py);
    let mut parsed = Vec::new();
    let mut slots = Vec::new();
    let mut times = TimeCache::default();
    for item in orders.try_iter()? {
        let item = item?;
        match order_from_item(&item, &mut times) {
            Ok(order) => {
                slots.push(None);
                parsed.push(order);
            }
            Err(e) if e.is_instance_of::<DoseError>(py) => {
                slots.push(Some(e.into_value(py).into_any()))
            }
            // A row with a value of the wrong type is that row's error, not
            // the batch's: the other rows still come back.
            Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                let error = to_py_err(core::DoseError::InvalidInput {
                    field: "order".to_owned(),
                    reason: e.value(py).to_string(),
                });
                slots.push(Some(error.into_value(py).into_any()));
            }
            Err(e) => return Err(e),
        }
    }
    let prepared = core::prepare_many(&protocol.inner, &parsed, &lot.inner);
    let mut prepared = prepared.into_iter().zip(parsed);
    for slot in slots {
        match slot {
            Some(error) => results.append(error)?,
            None => match prepared.next() {
                Some((Ok(inner), order)) => results.append(Preparation {
                    inner,
                    protocol: Arc::clone(&protocol.inner),
                    order,
                    lot: Arc::clone(&lot.inner),
                })?,
                Some((Err(error), _)) => results.append(to_py_err(error).into_value(py))?,
                None => return Err(PyValueError::new_err("internal: fewer results than orders")),
            },
        }
    }
    Ok(results)
}

/// The version of the doseprep core this module was built from.
#[pyfunction]
fn version() -> &'static str {
    core::VERSION
}

#[pymodule]
mod _core {
    use super::*;

    #[pymodule_export]
    use super::{
        prepare, prepare_many, verify, version, DmsoLimitError, DoseError, ImplausibleWeightError,
        InvalidInputError, InvalidQuantityError, InvalidTimeError, Lot, LotTooDiluteError,
        NotEnoughContainersError, Order, OutsideToleranceError, Preparation, PreparationRecord,
        Protocol, ProtocolError, RecordError, ThawWindowError, UnitError, UnknownArmError,
        UnknownVisitError, Verification, ViabilityError,
    };

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = module.py();
        // Each exception class says its kind, for code that logs or groups errors.
        py.get_type::<DoseError>().setattr("kind", "error")?;
        for kind in ErrorKind::ALL {
            exception_type(py, kind).setattr("kind", kind.name())?;
        }
        Ok(())
    }
}
