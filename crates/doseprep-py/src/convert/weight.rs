//! Weights as Python gives them: a number in kg, text with its unit
//! ("160 lb"), or a quantity object with `.magnitude` and `.units` (pint's
//! shape, without importing pint). The core reads the unit names.

use doseprep::BodyWeight;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyFloat, PyInt, PyString};
use pyo3::Borrowed;

use super::Number;
use crate::errors::type_error;

/// A weight argument, classified.
pub enum WeightArg {
    /// A number, in kilograms.
    Kg(f64),
    /// Text with its unit.
    Text(String),
    /// A quantity: magnitude and unit name.
    Quantity(f64, String),
}

impl<'a, 'py> FromPyObject<'a, 'py> for WeightArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        // Plain floats first: the common case, and no attribute probe (a
        // failed `hasattr` costs a Python exception).
        if let Ok(number) = obj.cast_exact::<PyFloat>() {
            return Ok(WeightArg::Kg(number.value()));
        }
        if let Ok(text) = obj.cast::<PyString>() {
            return Ok(WeightArg::Text(text.to_str()?.to_owned()));
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
            .map(|n| WeightArg::Kg(n.0))
            .map_err(|_| {
                type_error(
                    "weight",
                    "a number in kg, a string such as '72.4 kg' or '160 lb', or a quantity",
                    &obj,
                )
            })
    }
}

impl WeightArg {
    /// The weight, checked by the core for `field`, and the text the user
    /// typed if they typed one (for the worksheet).
    pub fn resolve(self, field: &str) -> doseprep::Result<(BodyWeight, Option<String>)> {
        match self {
            WeightArg::Kg(kg) => Ok((BodyWeight::from_kg_for(field, kg)?, None)),
            WeightArg::Text(text) => {
                let weight = BodyWeight::parse_for(field, &text)?;
                Ok((weight, Some(text.trim().to_owned())))
            }
            WeightArg::Quantity(magnitude, units) => {
                let weight = BodyWeight::from_unit_for(field, magnitude, &units)?;
                Ok((weight, Some(format!("{magnitude} {units}"))))
            }
        }
    }
}
