//! `Protocol`: a checked trial protocol.

use std::path::PathBuf;

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::quoted;
use crate::errors::IntoPy;

/// A trial protocol: trial facts and site settings, checked once.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Protocol {
    pub inner: core::Protocol,
}

impl From<core::Protocol> for Protocol {
    fn from(inner: core::Protocol) -> Protocol {
        Protocol { inner }
    }
}

#[pymethods]
impl Protocol {
    /// The built-in CARE-SSc protocol with this project's site defaults.
    #[staticmethod]
    fn care_ssc() -> Protocol {
        core::Protocol::care_ssc().into()
    }

    /// A protocol from TOML text.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Protocol> {
        core::Protocol::from_toml(text).py().map(Protocol::from)
    }

    /// A protocol from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Protocol> {
        core::Protocol::from_json(text).py().map(Protocol::from)
    }

    /// A protocol from a file: JSON if the name ends in `.json`, else TOML.
    /// A missing file is a `FileNotFoundError` naming the path.
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Protocol> {
        doseprep_day::files::protocol(Some(&path))
            .map(Protocol::from)
            .map_err(crate::errors::day_error)
    }

    /// Short name, e.g. "CARE-SSc".
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// Visit names in order.
    #[getter]
    fn visits(&self) -> Vec<String> {
        self.inner.spec().visits.clone()
    }

    /// Arm → visit → "active" or "placebo".
    #[getter]
    fn arms<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let arms = PyDict::new(py);
        for (arm, schedule) in &self.inner.spec().arms {
            let visits = PyDict::new(py);
            for (visit, content) in schedule {
                visits.set_item(visit, content.as_str())?;
            }
            arms.set_item(arm, visits)?;
        }
        Ok(arms)
    }

    /// The IANA time zone of the site's clock.
    #[getter]
    fn time_zone(&self) -> &str {
        self.inner.zone().name()
    }

    /// SHA-256 of the protocol's canonical JSON.
    #[getter]
    fn fingerprint(&self) -> PyResult<String> {
        self.inner.fingerprint().map(str::to_owned).py()
    }

    /// The canonical JSON form.
    fn to_json(&self) -> PyResult<String> {
        self.inner.canonical_json().py()
    }

    fn __hash__(&self) -> PyResult<u64> {
        Ok(crate::convert::text_hash(self.inner.fingerprint().py()?))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json = slf.get().inner.canonical_json().py()?;
        (py.get_type::<Protocol>().getattr("from_json")?, (json,)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let spec = self.inner.spec();
        format!(
            "Protocol(name={}, visits=[{}], arms=[{}], time_zone={})",
            quoted(&spec.name),
            spec.visits
                .iter()
                .map(|v| quoted(v))
                .collect::<Vec<_>>()
                .join(", "),
            spec.arms
                .keys()
                .map(|a| quoted(a))
                .collect::<Vec<_>>()
                .join(", "),
            quoted(self.inner.zone().name())
        )
    }
}
