//! Weights as Python gives them: text with its unit ("160 lb"), a quantity
//! object with `.magnitude` and `.units` (pint's shape, without importing
//! pint), or kilograms under a keyword that names the unit (`weight_kg=`).
//! A bare number under `weight=` is refused: its unit is never guessed.

use doseprep::{BodyWeight, GivenWeight};
use pyo3::exceptions::PyTypeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString};
use pyo3::Borrowed;

use super::Number;
use crate::errors::type_error;

/// A weight argument, classified.
pub enum WeightArg {
    /// A number given as `weight_kg=`: kilograms, by the keyword's name.
    Kg(f64),
    /// A number given as `weight=`: no unit, refused when resolved.
    BareNumber(f64),
    /// Text with its unit.
    Text(String),
    /// A quantity: magnitude and unit name.
    Quantity(f64, String),
}

impl<'a, 'py> FromPyObject<'a, 'py> for WeightArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(text) = obj.cast::<PyString>() {
            return Ok(WeightArg::Text(text.to_str()?.to_owned()));
        }
        // Plain floats before the attribute probe (a failed `hasattr` costs a
        // Python exception).
        if let Ok(number) = obj.cast_exact::<PyFloat>() {
            return Ok(WeightArg::BareNumber(number.value()));
        }
        let py = obj.py();
        if !obj.is_instance_of::<PyInt>()
            && obj.hasattr(intern!(py, "magnitude"))?
            && obj.hasattr(intern!(py, "units"))?
        {
            let magnitude = obj
                .getattr(intern!(py, "magnitude"))?
                .extract::<Number>()?
                .0;
            let units = obj.getattr(intern!(py, "units"))?.str()?.to_string();
            return Ok(WeightArg::Quantity(magnitude, units));
        }
        obj.extract::<Number>()
            .map(|n| WeightArg::BareNumber(n.0))
            .map_err(|_| {
                type_error(
                    "weight",
                    "a string such as '72.4 kg' or '160 lb', or a quantity (kilograms as a number go in weight_kg)",
                    &obj,
                )
            })
    }
}

impl WeightArg {
    /// The one weight of `field` from its two keywords: `field=` (text or a
    /// quantity) or `field_kg=` (a number in kg). Both, or neither where
    /// `required`, is a `TypeError` naming them.
    pub fn one_of(
        field: &str,
        with_unit: Option<WeightArg>,
        kg: Option<Number>,
        required: bool,
    ) -> PyResult<Option<WeightArg>> {
        match (with_unit, kg) {
            (Some(_), Some(_)) => Err(PyTypeError::new_err(format!(
                "give {field} (with its unit) or {field}_kg (a number in kg), not both"
            ))),
            (Some(weight), None) => Ok(Some(weight)),
            (None, Some(kg)) => Ok(Some(WeightArg::Kg(kg.0))),
            (None, None) if required => Err(PyTypeError::new_err(format!(
                "missing the {field}: give {field}='72.4 kg' (or '160 lb', or a quantity) or {field}_kg=72.4"
            ))),
            (None, None) => Ok(None),
        }
    }

    /// The weight as given, checked by the core for `field`: typed (text,
    /// or a units library's quantity written as text) or in kilograms.
    pub fn resolve(&self, field: &str) -> doseprep::Result<GivenWeight> {
        match self {
            WeightArg::Kg(kg) => Ok(GivenWeight::kilograms(BodyWeight::from_kg_for(field, *kg)?)),
            WeightArg::BareNumber(value) => Err(BodyWeight::bare_number_error(field, *value)),
            WeightArg::Text(text) => GivenWeight::typed(field, text),
            WeightArg::Quantity(magnitude, units) => GivenWeight::of_unit(field, *magnitude, units),
        }
    }
}
