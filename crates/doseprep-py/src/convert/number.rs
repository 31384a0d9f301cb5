//! Numbers and counts as Python gives them.

use pyo3::exceptions::PyOverflowError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt};
use pyo3::Borrowed;

use crate::errors::type_error;

/// Any real number (anything with `__float__`, but not a bool). An int too
/// large for a float arrives as infinity, which the core refuses with the
/// field's message.
pub struct Number(pub f64);

impl<'a, 'py> FromPyObject<'a, 'py> for Number {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(float) = obj.cast_exact::<PyFloat>() {
            return Ok(Number(float.value()));
        }
        if obj.is_instance_of::<PyBool>() {
            return Err(type_error("the value", "a number", &obj));
        }
        match obj.extract::<f64>() {
            Ok(number) => Ok(Number(number)),
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(Number(f64::INFINITY)),
            Err(_) => Err(type_error("the value", "a number", &obj)),
        }
    }
}

/// A count as given: an int of any size, or a float (4.0 is a count; 2.5,
/// NaN and infinities are not, which the core says).
pub enum Count {
    /// An int (`None` beyond 128 bits).
    Int(Option<i128>),
    /// A float.
    Float(f64),
}

impl<'a, 'py> FromPyObject<'a, 'py> for Count {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() {
            return Err(type_error("a count", "an int", &obj));
        }
        if obj.is_instance_of::<PyInt>() {
            return Ok(Count::Int(obj.extract::<i128>().ok()));
        }
        obj.extract::<Number>()
            .map(|n| Count::Float(n.0))
            .map_err(|_| type_error("a count", "an int", &obj))
    }
}

impl Count {
    /// The number of containers, checked by the core.
    pub fn containers(self) -> doseprep::Result<u32> {
        match self {
            Count::Int(Some(n)) => doseprep::Lot::container_count_from_int(n),
            Count::Int(None) => doseprep::Lot::container_count(f64::INFINITY),
            Count::Float(x) => doseprep::Lot::container_count(x),
        }
    }
}

/// A whole number as given: an int of any size (`None` beyond 128 bits),
/// or an object with `__index__` (numpy's ints); a bool or a float is a
/// TypeError. Narrowed with [`WholeNumber::within`],
/// so an out-of-range int is a typed error naming its field, never
/// Python's bare OverflowError.
#[derive(Clone, Copy)]
pub struct WholeNumber(pub Option<i128>);

impl<'a, 'py> FromPyObject<'a, 'py> for WholeNumber {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if obj.is_instance_of::<PyBool>() {
            return Err(type_error("the value", "an int", &obj));
        }
        // An int, or anything an int stands for (`__index__`: numpy's
        // int64, as pandas' `to_dict("records")` gives); a float has none.
        match obj.extract::<i128>() {
            Ok(number) => Ok(WholeNumber(Some(number))),
            Err(e) if e.is_instance_of::<PyOverflowError>(obj.py()) => Ok(WholeNumber(None)),
            Err(_) => Err(type_error("the value", "an int", &obj)),
        }
    }
}

impl WholeNumber {
    /// The number as a `T` no smaller than `least`, or the field's typed
    /// error naming the value, the range and `fix`.
    pub fn within<T>(self, field: &str, least: T, fix: &str) -> doseprep::Result<T>
    where
        T: TryFrom<i128> + Copy + PartialOrd + std::fmt::Display + Bounded,
    {
        let refuse = |shown: String| doseprep::DoseError::InvalidInput {
            field: field.to_owned(),
            reason: format!(
                "{field} {shown} is outside {least} to {}; {fix}",
                T::GREATEST
            ),
        };
        match self.0 {
            None => Err(refuse("(an int beyond 128 bits)".to_owned())),
            Some(n) => match T::try_from(n) {
                Ok(value) if value >= least => Ok(value),
                _ => Err(refuse(n.to_string())),
            },
        }
    }
}

/// The greatest value of an integer type, for [`WholeNumber::within`]'s message.
pub trait Bounded {
    /// The greatest value.
    const GREATEST: Self;
}

impl Bounded for u32 {
    const GREATEST: u32 = u32::MAX;
}

impl Bounded for i64 {
    const GREATEST: i64 = i64::MAX;
}

/// An ISBT 128 DIN sequence number as given: a whole number of any size,
/// checked by the core when the order is built (in its turn among the
/// order's checks); a bool or a float is a TypeError naming the field.
#[derive(Clone, Copy)]
pub struct DinSequenceArg(WholeNumber);

impl<'a, 'py> FromPyObject<'a, 'py> for DinSequenceArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        obj.extract::<WholeNumber>()
            .map(DinSequenceArg)
            .map_err(|_| type_error("din_sequence", "an int", &obj))
    }
}

impl DinSequenceArg {
    /// The sequence number, checked by the core.
    pub fn checked(self) -> doseprep::Result<doseprep::DinSequence> {
        match self.0 .0 {
            Some(n) => doseprep::DinSequence::from_int(n),
            None => Err(doseprep::DinSequence::refused(&"(an int beyond 128 bits)")),
        }
    }
}

/// Container numbers as given, each checked as a number of a container
/// in its lot (from 1).
pub fn container_numbers(field: &str, given: Vec<WholeNumber>) -> doseprep::Result<Vec<u32>> {
    given
        .into_iter()
        .map(|number| number.within(field, 1u32, "use the number on the container"))
        .collect()
}

/// A fraction as Python gives it: a number, or text ("93%"), which the
/// core refuses with the fraction to give instead.
pub enum FractionArg {
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
}

impl<'a, 'py> FromPyObject<'a, 'py> for FractionArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(text) = obj.cast::<pyo3::types::PyString>() {
            return Ok(FractionArg::Text(text.to_str()?.to_owned()));
        }
        obj.extract::<Number>().map(|n| FractionArg::Number(n.0))
    }
}

impl FractionArg {
    /// The number, or the core's error for text.
    pub fn resolve(self, field: &str, example: &str) -> doseprep::Result<f64> {
        match self {
            FractionArg::Number(value) => Ok(value),
            FractionArg::Text(text) => Err(doseprep::fraction_text_error(field, &text, example)),
        }
    }
}
