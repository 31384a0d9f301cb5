//! Times as Python gives them (an aware `datetime`, or ISO 8601 text with an
//! offset) and as it gets them back: an aware `datetime` whose tzinfo is the
//! site's offset at that instant, named by the zone's abbreviation ("EST").

use std::cell::RefCell;

use doseprep::SiteTime;
use jiff::tz::{Offset, TimeZone};
use jiff::ZonedDateTime;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDateTime, PyDelta, PyDeltaAccess, PyString};
use pyo3::Borrowed;

use crate::errors::type_error;

/// A time argument, classified; [`TimeArg::resolve`] converts it for a field.
pub enum TimeArg<'py> {
    /// ISO 8601 text.
    Text(String),
    /// A `datetime` object.
    DateTime(Bound<'py, PyDateTime>),
    /// A time converted already (by this thread, or a batch's [`BatchTimes`]).
    Known(ZonedDateTime),
}

thread_local! {
    /// The last `datetime` this thread converted, with its conversion: a
    /// loop that passes one thaw-time object to `prepare` converts it once.
    /// Per thread, so no state is shared between threads (the module is
    /// declared free-threaded); held by a strong reference, so the identity
    /// test cannot be fooled by a freed and reused address; only datetimes
    /// whose tzinfo cannot change its offsets are kept.
    static LAST: RefCell<Option<(Py<PyAny>, ZonedDateTime)>> = const { RefCell::new(None) };
}

/// The conversion of `obj` if it is the `datetime` this thread converted last.
fn known(obj: &Bound<'_, PyAny>) -> Option<ZonedDateTime> {
    LAST.with(|last| {
        let last = last.try_borrow().ok()?;
        let (object, time) = last.as_ref()?;
        object.is(obj).then(|| time.clone())
    })
}

impl<'a, 'py> FromPyObject<'a, 'py> for TimeArg<'py> {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // An identity test before any type check, which costs an isinstance
        // call under abi3.
        if let Some(time) = known(&obj) {
            return Ok(TimeArg::Known(time));
        }
        if let Ok(text) = obj.cast::<PyString>() {
            return Ok(TimeArg::Text(text.to_str()?.to_owned()));
        }
        obj.cast::<PyDateTime>()
            .map(|dt| TimeArg::DateTime(dt.to_owned()))
            .map_err(|_| {
                type_error(
                    "a time",
                    "a datetime with a tzinfo, or an ISO 8601 string",
                    &obj,
                )
            })
    }
}

/// A batch's cache of the last time object it converted: the same object
/// on every row is converted once. It lives for one call, so no state is
/// shared between threads or calls. Only datetimes whose tzinfo is a
/// `datetime.timezone` or a `ZoneInfo` (which cannot change their offsets)
/// are kept, held by a reference so the identity test cannot be fooled by a
/// freed and reused address.
#[derive(Default)]
pub struct BatchTimes<'py> {
    last: Option<(Bound<'py, PyAny>, ZonedDateTime)>,
}

impl<'py> BatchTimes<'py> {
    /// The time of `obj` for `field`: a Python exception raised reading it,
    /// or the core's verdict on it (kept, so an order's checks can be made
    /// in their order).
    pub fn checked(
        &mut self,
        field: &str,
        obj: &Bound<'py, PyAny>,
    ) -> PyResult<doseprep::Result<ZonedDateTime>> {
        if let Some((last, time)) = &self.last {
            if last.is(obj) {
                return Ok(Ok(time.clone()));
            }
        }
        let arg: TimeArg<'py> = obj.extract()?;
        let checked = arg.checked(field)?;
        if let Ok(time) = &checked {
            let keep = match &arg {
                TimeArg::DateTime(datetime) => cacheable(datetime)?,
                TimeArg::Known(_) => true,
                TimeArg::Text(_) => false,
            };
            if keep {
                self.last = Some((obj.clone(), time.clone()));
            }
        }
        Ok(checked)
    }
}

impl TimeArg<'_> {
    /// The time, or an `InvalidTimeError` naming `field`.
    pub fn resolve(&self, field: &str) -> PyResult<ZonedDateTime> {
        self.checked(field)?.map_err(crate::errors::to_py_err)
    }

    /// The time, or the core's error naming `field`; a Python exception
    /// raised reading the object is raised.
    pub fn checked(&self, field: &str) -> PyResult<doseprep::Result<ZonedDateTime>> {
        match self {
            TimeArg::Text(text) => Ok(doseprep::parse_time(field, text)),
            TimeArg::DateTime(datetime) => {
                let checked = convert(field, datetime)?;
                if let Ok(time) = &checked {
                    if cacheable(datetime)? {
                        LAST.with(|last| {
                            if let Ok(mut last) = last.try_borrow_mut() {
                                *last = Some((datetime.clone().into_any().unbind(), time.clone()));
                            }
                        });
                    }
                }
                Ok(checked)
            }
            TimeArg::Known(time) => Ok(Ok(time.clone())),
        }
    }
}

fn invalid_time(field: &str, input: String, reason: &str) -> doseprep::DoseError {
    doseprep::DoseError::InvalidTime {
        field: field.to_owned(),
        input,
        reason: reason.to_owned(),
    }
}

/// `datetime` as a time for `field`: a Python exception raised reading it,
/// or the core's verdict.
fn convert(
    field: &str,
    datetime: &Bound<'_, PyDateTime>,
) -> PyResult<doseprep::Result<ZonedDateTime>> {
    let py = datetime.py();
    let offset = datetime.call_method0(intern!(py, "utcoffset"))?;
    if offset.is_none() {
        return Ok(Err(invalid_time(
            field,
            datetime.str()?.to_string(),
            "it has no time zone; pass an aware datetime, e.g. datetime(2026, 11, 25, 9, 0, tzinfo=ZoneInfo(\"America/Toronto\"))",
        )));
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
    Ok(build().map_err(|e| invalid_time(field, datetime.to_string(), &e.to_string())))
}

fn cacheable(value: &Bound<'_, PyDateTime>) -> PyResult<bool> {
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

/// `datetime.timezone`, imported once.
static TIMEZONE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An aware `datetime` for a site time: the site's offset at that instant,
/// the tzinfo named by the zone's abbreviation.
pub fn py_datetime<'py>(py: Python<'py>, time: &SiteTime) -> PyResult<Bound<'py, PyAny>> {
    let zoned = time.zoned();
    let offset = PyDelta::new(py, 0, zoned.offset().seconds(), 0, true)?;
    let timezone = TIMEZONE.get_or_try_init(py, || {
        Ok::<_, PyErr>(py.import("datetime")?.getattr("timezone")?.unbind())
    })?;
    let tzinfo = timezone.bind(py).call1((offset, time.abbreviation()))?;
    let civil = zoned.datetime();
    let datetime = PyDateTime::new(
        py,
        i32::from(civil.year()),
        civil_field(civil.month()),
        civil_field(civil.day()),
        civil_field(civil.hour()),
        civil_field(civil.minute()),
        civil_field(civil.second()),
        civil_micros(civil.subsec_nanosecond()),
        Some(tzinfo.cast::<pyo3::types::PyTzInfo>()?),
    )?;
    Ok(datetime.into_any())
}

/// A month, day, hour, minute or second of a jiff civil time as Python
/// takes it.
#[expect(
    clippy::expect_used,
    reason = "jiff keeps these fields in range: month 1-12, day 1-31, hour 0-23, minute and second 0-59"
)]
fn civil_field(value: i8) -> u8 {
    u8::try_from(value).expect("a civil field is never negative") // allow-panic: see the reason above
}

/// The microseconds of a jiff civil time's nanoseconds.
#[expect(
    clippy::expect_used,
    reason = "jiff keeps the subsecond nanoseconds in 0-999,999,999"
)]
fn civil_micros(nanoseconds: i32) -> u32 {
    let micros = nanoseconds / 1000;
    u32::try_from(micros).expect("subsecond nanoseconds are never negative") // allow-panic: see the reason above
}
