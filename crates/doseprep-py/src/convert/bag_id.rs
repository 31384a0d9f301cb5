//! A bag id as Python gives it: text, read as the core reads a printed id
//! (case, look-alikes, hyphens and spaces ignored; a wrong check symbol is
//! a mistyped id, an `InvalidInputError`, never "no such bag").

use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3::Borrowed;

use crate::errors::{to_py_err, type_error};

/// A bag id, parsed by the core.
pub struct BagIdArg(pub doseprep::BagId);

impl<'a, 'py> FromPyObject<'a, 'py> for BagIdArg {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let text = obj
            .cast::<PyString>()
            .map_err(|_| type_error("bag_id", "a str", &obj))?;
        doseprep::BagId::parse(text.to_str()?)
            .map(BagIdArg)
            .map_err(to_py_err)
    }
}
