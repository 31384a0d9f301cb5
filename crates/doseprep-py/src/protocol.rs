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

    /// A protocol from TOML text: one file with the trial's facts and the
    /// site's `[label]` and `[site]`, or, with `site=`, the trial file's
    /// text and the site file's text apart.
    #[staticmethod]
    #[pyo3(signature = (text, /, *, site = None))]
    fn from_toml(text: &str, site: Option<&str>) -> PyResult<Protocol> {
        match site {
            None => core::Protocol::from_toml(text),
            Some(site) => core::Protocol::from_trial_and_site("trial", text, "site", site),
        }
        .py()
        .map(Protocol::from)
    }

    /// An example protocol shipped in the package, by name: "care-ssc",
    /// "flat", "per-kg-with-cap", "twice-weekly", "weight-bands".
    #[staticmethod]
    fn example(name: &str) -> PyResult<Protocol> {
        core::Protocol::example(name).py().map(Protocol::from)
    }

    /// A protocol from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Protocol> {
        core::Protocol::from_json(text).py().map(Protocol::from)
    }

    /// A protocol from a file: JSON if the name ends in `.json`, else TOML;
    /// with `site=`, `path` is the trial file and `site` the site file. A
    /// missing file is a `FileNotFoundError` naming the path.
    #[staticmethod]
    #[pyo3(signature = (path, /, *, site = None))]
    fn from_file(path: PathBuf, site: Option<PathBuf>) -> PyResult<Protocol> {
        doseprep_day::files::protocol(Some(&path), site.as_deref())
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

    /// SHA-256 of the trial's facts: the same at every site of the trial.
    #[getter]
    fn trial_fingerprint(&self) -> PyResult<String> {
        self.inner.trial_fingerprint().map(str::to_owned).py()
    }

    /// SHA-256 of the site's settings and label particulars.
    #[getter]
    fn site_fingerprint(&self) -> PyResult<String> {
        self.inner.site_fingerprint().map(str::to_owned).py()
    }

    /// The canonical JSON form.
    fn to_json(&self) -> PyResult<String> {
        self.inner.canonical_json().py()
    }

    fn __hash__(&self) -> PyResult<u64> {
        Ok(crate::convert::text_hash(
            &self.inner.canonical_json().py()?,
        ))
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
