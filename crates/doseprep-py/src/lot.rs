//! `Lot`: a lot of the cell product as thawed.

use std::path::PathBuf;
use std::sync::Arc;

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{quoted, Count, FractionArg, Number, TimeArg};
use crate::errors::IntoPy;

/// One lot of the cell product: its post-thaw figures and what is on hand.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Lot {
    pub inner: Arc<core::Lot>,
}

impl From<core::Lot> for Lot {
    fn from(inner: core::Lot) -> Lot {
        Lot {
            inner: Arc::new(inner),
        }
    }
}

#[pymethods]
impl Lot {
    #[new]
    #[pyo3(signature = (*, lot_id, viable_cells_per_ml, viability, container_volume_ml, containers, dmso_fraction=None, extractable_volume_ml=None, expires_at=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        lot_id: &str,
        viable_cells_per_ml: Number,
        viability: FractionArg,
        container_volume_ml: Number,
        containers: Count,
        dmso_fraction: Option<FractionArg>,
        extractable_volume_ml: Option<Number>,
        expires_at: Option<TimeArg<'_>>,
    ) -> PyResult<Lot> {
        let spec = core::LotSpec {
            lot_id: lot_id.to_owned(),
            viable_cells_per_ml: core::CellConcentration::new(
                "viable_cells_per_ml",
                viable_cells_per_ml.0,
            )
            .py()?,
            viability: viability.resolve("viability", "0.93").py()?,
            container_volume: core::ExactVolume::from_ml(
                "container_volume_ml",
                container_volume_ml.0,
            )
            .py()?,
            extractable_volume: extractable_volume_ml
                .map(|v| core::ExactVolume::from_ml("extractable_volume_ml", v.0))
                .transpose()
                .py()?,
            containers: containers.containers().py()?,
            dmso_fraction: dmso_fraction
                .map(|f| f.resolve("dmso_fraction", "0.05"))
                .transpose()
                .py()?,
            expires_at: expires_at.map(|t| t.resolve("expires_at")).transpose()?,
        };
        core::Lot::new(spec).py().map(Lot::from)
    }

    /// A lot from TOML text (quantities with units, e.g. `container_volume = "10 mL"`).
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Lot> {
        core::Lot::from_toml(text).py().map(Lot::from)
    }

    /// A lot from JSON text (the same keys as a lot file).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Lot> {
        core::Lot::from_json(text).py().map(Lot::from)
    }

    /// A lot from a file: JSON if the name ends in `.json`, else TOML.
    #[staticmethod]
    fn from_file(path: PathBuf) -> PyResult<Lot> {
        doseprep_day::files::lot(&path)
            .map(Lot::from)
            .map_err(crate::errors::day_error)
    }

    /// The lots of a day from a file of `[[lot]]` tables (or one lot), or
    /// from a spreadsheet's first sheet (`.xlsx`, `.xlsm`, `.xls`, `.ods`: a
    /// row a lot, the columns a lot file's keys).
    #[staticmethod]
    fn many_from_file(path: PathBuf) -> PyResult<Vec<Lot>> {
        let lots = doseprep_day::files::lots(&path).map_err(crate::errors::day_error)?;
        Ok(lots.into_iter().map(Lot::from).collect())
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
        self.inner.viability().value()
    }
    #[getter]
    fn container_volume_ml(&self) -> f64 {
        self.inner.container_volume().ml()
    }
    #[getter]
    fn extractable_volume_ml(&self) -> Option<f64> {
        self.inner.extractable_volume().map(core::ExactVolume::ml)
    }
    /// The same lot with its containers on hand numbered as given (their
    /// numbers in the lot as received, e.g. `ledger.in_stock(lot_id)`), so a
    /// day's plan names containers by the numbers on them.
    fn with_container_numbers(&self, numbers: Vec<u32>) -> PyResult<Lot> {
        (*self.inner)
            .clone()
            .with_container_numbers(numbers)
            .map(Lot::from)
            .py()
    }

    /// The numbers of the containers on hand, where they were given.
    #[getter]
    fn container_numbers(&self) -> Option<Vec<u32>> {
        self.inner.container_numbers().map(<[u32]>::to_vec)
    }

    #[getter]
    fn containers(&self) -> u32 {
        self.inner.containers()
    }
    #[getter]
    fn dmso_fraction(&self) -> Option<f64> {
        self.inner
            .dmso_fraction()
            .map(core::units::DmsoFraction::value)
    }

    /// The lot as JSON (a lot file's keys).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&*self.inner).map_err(crate::json_error)
    }

    /// By the lot's id: equal lots have equal ids (their expiry compares
    /// as an instant, whatever offset it was given in, so the JSON, which
    /// keeps the offset, is not hashed).
    fn __hash__(&self) -> PyResult<u64> {
        Ok(crate::convert::text_hash(self.inner.lot_id()))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json = slf.get().to_json()?;
        (py.get_type::<Lot>().getattr("from_json")?, (json,)).into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let l = &self.inner;
        format!(
            "Lot(lot_id={}, viable_cells_per_ml={:?}, viability={:?}, container_volume_ml={:?}, containers={}, dmso_fraction={})",
            quoted(l.lot_id()),
            l.viable_cells_per_ml().cells_per_ml(),
            l.viability().value(),
            l.container_volume().ml(),
            l.containers(),
            l.dmso_fraction().map_or("None".to_owned(), |f| format!("{:?}", f.value())),
        )
    }
}
