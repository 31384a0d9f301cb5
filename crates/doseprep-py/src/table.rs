//! `Table`: an Arrow table made by the core's conversions (a day plan's
//! thaws, a ledger's events), handed to DataFrame libraries through the
//! Arrow PyCapsule interface.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::ArrowError;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// An Arrow table: `polars.DataFrame(table)`, `pyarrow.table(table)` read it
/// through `__arrow_c_stream__`, without a Python object a row.
#[pyclass(frozen, module = "doseprep")]
pub struct Table {
    table: RecordBatch,
}

impl Table {
    /// The table a conversion made, or its failure as a ValueError.
    pub fn made(table: Result<RecordBatch, ArrowError>) -> PyResult<Table> {
        table
            .map(|table| Table { table })
            .map_err(|error| PyValueError::new_err(format!("Arrow: {error}")))
    }
}

/// The table of `parts` (one schema, rows in order) as an Arrow C stream
/// in a PyCapsule (the Arrow PyCapsule interface).
pub fn stream<'py>(py: Python<'py>, parts: &[RecordBatch]) -> PyResult<Bound<'py, PyCapsule>> {
    let schema = parts
        .first()
        .ok_or_else(|| {
            PyRuntimeError::new_err("internal error: an Arrow table of no parts; please report it")
        })?
        .schema();
    // The stream outlives this call: it owns its parts (each a few
    // reference counts, the columns are shared).
    let owned: Vec<RecordBatch> = parts.to_vec();
    let reader = RecordBatchIterator::new(owned.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
}

#[pymethods]
impl Table {
    /// Rows.
    fn __len__(&self) -> usize {
        self.table.num_rows()
    }

    /// The columns' names, in order.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.table
            .schema()
            .fields()
            .iter()
            .map(|field| field.name().clone())
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "<doseprep.Table of {} rows: {}>",
            self.table.num_rows(),
            self.column_names().join(", ")
        )
    }

    /// The table (the Arrow PyCapsule interface). `requested_schema` is not
    /// used: the table has one schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // fallback-ok: the spec lets a producer keep its own schema
        stream(py, std::slice::from_ref(&self.table))
    }
}
