//! `PreparationRecord` and `verify`.

use std::sync::Arc;

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::convert::{json_loads, quoted};
use crate::errors::{type_error, IntoPy};
use crate::preparation::Preparation;

/// Every input and output of one preparation, the trial's and the site's
/// fingerprints and the library version; JSON round-trips exactly.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct PreparationRecord {
    pub inner: core::PreparationRecord,
}

impl From<core::PreparationRecord> for PreparationRecord {
    fn from(inner: core::PreparationRecord) -> PreparationRecord {
        PreparationRecord { inner }
    }
}

#[pymethods]
impl PreparationRecord {
    /// Read a record from JSON. Each input keeps the kind of its errors; the
    /// JSON of a Preparation (not a record) is refused with a hint.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<PreparationRecord> {
        core::PreparationRecord::from_json(text)
            .py()
            .map(PreparationRecord::from)
    }

    /// The Preparation a record holds (used to unpickle a Preparation).
    #[staticmethod]
    fn _preparation_from_json<'py>(
        py: Python<'py>,
        text: &str,
    ) -> PyResult<Bound<'py, Preparation>> {
        let record = core::PreparationRecord::from_json(text).py()?;
        PreparationRecord::from(record).preparation(py)
    }

    /// The preparation this record holds, with its inputs.
    fn preparation<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, Preparation>> {
        let r = &self.inner;
        Preparation::new(
            r.preparation.clone(),
            &r.protocol,
            &r.order,
            &Arc::new(r.lot.clone()),
        )
        .into_untracked(py)
    }

    /// The record as pretty JSON.
    fn to_json(&self) -> PyResult<String> {
        self.inner.to_json().py()
    }

    /// The record as a dict of JSON values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.to_json().py()?)
    }

    /// The unblinded worksheet, made from this record alone once it
    /// verifies (a record that does not is a `RecordError`).
    fn worksheet(&self) -> PyResult<String> {
        let record = self.inner.clone().verified().py()?;
        Ok(core::worksheet(&record))
    }

    #[getter]
    fn library_version(&self) -> &str {
        &self.inner.library_version
    }

    #[getter]
    fn trial_fingerprint(&self) -> &str {
        &self.inner.trial_fingerprint
    }

    #[getter]
    fn site_fingerprint(&self) -> &str {
        &self.inner.site_fingerprint
    }

    /// SHA-256 of the record's compact JSON, as the worksheet's Data Matrix
    /// holds it: finds the record from the paper.
    #[getter]
    fn fingerprint(&self) -> PyResult<String> {
        self.inner.fingerprint().py()
    }

    fn __hash__(&self) -> PyResult<u64> {
        Ok(crate::convert::text_hash(&self.inner.to_json().py()?))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json = slf.get().inner.to_json().py()?;
        (
            py.get_type::<PreparationRecord>().getattr("from_json")?,
            (json,),
        )
            .into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let p = &self.inner.preparation;
        format!(
            "PreparationRecord(participant={}, visit={}, content={}, trial_fingerprint={}, site_fingerprint={})",
            quoted(&p.participant),
            quoted(&p.visit),
            quoted(p.content.as_str()),
            quoted(&self.inner.trial_fingerprint),
            quoted(&self.inner.site_fingerprint)
        )
    }
}

/// The outcome of `verify`: `ok`, and each field that differs as
/// `(field, recorded, recomputed)`.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Verification {
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
pub fn verify(record: &Bound<'_, PyAny>) -> PyResult<Verification> {
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
    verification.py().map(|inner| Verification { inner })
}
