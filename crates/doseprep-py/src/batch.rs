//! `prepare` and `prepare_many`: orders in, bags (or errors) out.

use doseprep as core;
use std::sync::Arc;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::RecordBatchIterator;
use pyo3::exceptions::{PyBaseException, PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PySlice};

use crate::convert::{BatchTimes, Number, TimeArg, WeightArg};
use crate::errors::{base, to_py_err, IntoPy};
use crate::lot::Lot;
use crate::order::{from_item, KeyNames, OrderArgs};
use crate::preparation::Preparation;
use crate::protocol::Protocol;

/// Prepare the bag an order calls for: the active bag, or the placebo matched
/// to the active bag the participant would have received from this lot (and
/// checked against everything that bag would be).
#[pyfunction]
#[pyo3(signature = (protocol, /, *, participant, arm, visit, lot, thawed_at, weight=None, weight_kg=None, prepared_at=None, infusion_at=None, baseline_weight=None, baseline_weight_kg=None, bag_id=None, din_sequence=None, weighed_at=None))]
#[allow(clippy::too_many_arguments)]
pub fn prepare<'py>(
    py: Python<'py>,
    protocol: &Protocol,
    participant: &str,
    arm: &str,
    visit: &str,
    lot: &Lot,
    thawed_at: TimeArg<'py>,
    weight: Option<WeightArg>,
    weight_kg: Option<Number>,
    prepared_at: Option<TimeArg<'py>>,
    infusion_at: Option<TimeArg<'py>>,
    baseline_weight: Option<WeightArg>,
    baseline_weight_kg: Option<Number>,
    bag_id: Option<String>,
    din_sequence: Option<u32>,
    weighed_at: Option<TimeArg<'py>>,
) -> PyResult<Bound<'py, Preparation>> {
    let order = OrderArgs {
        participant,
        weight: WeightArg::one_of("weight", weight, weight_kg, true)?,
        arm,
        visit,
        thawed_at,
        prepared_at,
        infusion_at,
        weighed_at,
        baseline_weight: WeightArg::one_of(
            "baseline_weight",
            baseline_weight,
            baseline_weight_kg,
            false,
        )?,
        bag_id,
        din_sequence,
    }
    .build()?;
    let inner = core::prepare(&protocol.inner, &order, &lot.inner).py()?;
    Preparation::new(inner, &protocol.inner, &order, &lot.inner).into_untracked(py)
}

/// Prepare many orders from one lot in one call. Returns a Batch: a
/// sequence, in the order given, of a Preparation for each order that
/// succeeds and the DoseError instance (not raised) in the place of each
/// that fails, including a row that is not a dict or Order or holds a
/// value of the wrong type (InvalidInputError); and an Arrow table.
#[pyfunction]
#[pyo3(signature = (protocol, orders, /, *, lot))]
pub fn prepare_many<'py>(
    py: Python<'py>,
    protocol: &Protocol,
    orders: &Bound<'py, PyAny>,
    lot: &Lot,
) -> PyResult<Batch> {
    let dose_error = base(py)?;
    let names = KeyNames::new(py);
    let mut times = BatchTimes::default();
    let mut rows: Vec<Outcome> = Vec::new();
    for item in orders.try_iter()? {
        let item = item?;
        let row = match from_item(&item, &names, &mut times) {
            Ok(order) => match core::prepare(&protocol.inner, &order, &lot.inner) {
                Ok(bag) => Outcome::Prepared(Box::new((bag, order))),
                Err(error) => Outcome::Failed(Some(Box::new(order)), error),
            },
            Err(e) if e.is_instance(py, &dose_error) => Outcome::Raised(e.into_value(py)),
            // A row with a value of the wrong type is that row's error, not
            // the batch's: the other rows still come back.
            Err(e) if e.is_instance_of::<PyTypeError>(py) => Outcome::Failed(
                None,
                core::DoseError::InvalidInput {
                    field: "order".to_owned(),
                    reason: e.value(py).to_string(),
                },
            ),
            Err(e) => return Err(e),
        };
        rows.push(row);
    }
    Ok(Batch {
        protocol: protocol.inner.clone(),
        lot: Arc::clone(&lot.inner),
        rows,
    })
}

/// One order's result, kept as the core made it until it is asked for.
enum Outcome {
    /// The bag, and the order it was made for (a Preparation holds both).
    Prepared(Box<(core::Preparation, core::Order)>),
    /// The core refused the order (read, where it was).
    Failed(Option<Box<core::Order>>, core::DoseError),
    /// Reading the row raised this DoseError.
    Raised(Py<PyBaseException>),
}

/// What `prepare_many` returns: its results in the order given, each made
/// into a Preparation or a DoseError when it is read (`batch[i]`,
/// iteration; a new object each time), and the whole batch as an Arrow
/// table through the Arrow PyCapsule interface (`__arrow_c_stream__`), so
/// `polars.DataFrame(batch)` and `pyarrow.table(batch)` read it without a
/// Python object a row.
#[pyclass(frozen, sequence, module = "doseprep")]
pub struct Batch {
    protocol: core::Protocol,
    lot: Arc<core::Lot>,
    rows: Vec<Outcome>,
}

impl Batch {
    /// Row `index` as a Python object.
    fn object<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self.rows.get(index) {
            Some(Outcome::Prepared(made)) => {
                let (bag, order) = made.as_ref();
                Ok(
                    Preparation::new(bag.clone(), &self.protocol, order, &self.lot)
                        .into_untracked(py)?
                        .into_any(),
                )
            }
            Some(Outcome::Failed(_, error)) => Ok(to_py_err(error.clone())
                .into_value(py)
                .into_bound(py)
                .into_any()),
            Some(Outcome::Raised(error)) => Ok(error.bind(py).clone().into_any()),
            None => Err(PyIndexError::new_err("batch index out of range")),
        }
    }

    /// `index` (negative from the end) as a position in the batch.
    fn position(&self, index: isize) -> PyResult<usize> {
        let length = isize::try_from(self.rows.len())
            .map_err(|_| PyIndexError::new_err("batch index out of range"))?;
        let from_start = if index < 0 { index + length } else { index };
        usize::try_from(from_start)
            .ok()
            .filter(|&position| position < self.rows.len())
            .ok_or_else(|| {
                PyIndexError::new_err(format!(
                    "batch index {index} out of range: the batch has {} rows",
                    self.rows.len()
                ))
            })
    }
}

/// The text of attribute `name` of a raised error, where it is text.
fn attribute(error: &Bound<'_, PyBaseException>, name: &str) -> Option<String> {
    error
        .getattr(name)
        .ok()
        .and_then(|value| value.extract::<String>().ok())
}

#[pymethods]
impl Batch {
    fn __len__(&self) -> usize {
        self.rows.len()
    }

    /// `batch[i]`, or a list for `batch[i:j:k]`.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let length = isize::try_from(self.rows.len())
                .map_err(|_| PyIndexError::new_err("batch index out of range"))?;
            let span = slice.indices(length)?;
            let mut items = Vec::with_capacity(span.slicelength);
            let mut at = span.start;
            for _ in 0..span.slicelength {
                items.push(self.object(py, self.position(at)?)?);
                at += span.step;
            }
            return Ok(PyList::new(py, items)?.into_any());
        }
        let index: isize = key.extract()?;
        self.object(py, self.position(index)?)
    }

    fn __iter__(slf: Bound<'_, Self>) -> BatchIterator {
        BatchIterator {
            batch: slf.unbind(),
            next: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn __repr__(&self) -> String {
        let prepared = self
            .rows
            .iter()
            .filter(|row| matches!(row, Outcome::Prepared(_)))
            .count();
        format!(
            "<doseprep.Batch of {} orders: {prepared} prepared, {} failed>",
            self.rows.len(),
            self.rows.len() - prepared
        )
    }

    /// The batch as an Arrow table, a row an order (the Arrow PyCapsule
    /// interface). `requested_schema` is not used: the table has one schema.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema; // fallback-ok: the spec lets a producer keep its own schema
                                  // Each failed row's error as text (a raised one read with the
                                  // thread attached), before the table is built.
        let failures: Vec<Option<(String, Option<String>, String)>> = self
            .rows
            .iter()
            .map(|row| match row {
                Outcome::Prepared(_) => None,
                Outcome::Failed(_, error) => Some((
                    error.kind().name().to_owned(),
                    error.parts().field,
                    error.to_string(),
                )),
                Outcome::Raised(error) => {
                    let error = error.bind(py);
                    Some((
                        attribute(error, "kind").unwrap_or_else(|| "error".to_owned()), // fallback-ok: every DoseError class sets kind; "error" is the base class's own
                        attribute(error, "field"),
                        error.to_string(),
                    ))
                }
            })
            .collect();
        let rows = self
            .rows
            .iter()
            .zip(&failures)
            .map(|(row, failure)| match (row, failure) {
                (Outcome::Prepared(made), _) => Ok(doseprep_arrow::Row::Prepared(&made.0)),
                (_, Some((kind, field, message))) => {
                    let order = match row {
                        Outcome::Failed(order, _) => order.as_deref(),
                        _ => None,
                    };
                    Ok(doseprep_arrow::Row::Failed(
                        order,
                        doseprep_arrow::Failure {
                            kind,
                            field: field.as_deref(),
                            message,
                        },
                    ))
                }
                (_, None) => Err(PyRuntimeError::new_err(
                    "internal error: a failed row without its error's text; please report it",
                )),
            })
            .collect::<PyResult<Vec<doseprep_arrow::Row<'_>>>>()?;
        let zone = self.protocol.zone().name();
        let table = doseprep_arrow::preparations(zone, &rows)
            .map_err(|error| PyValueError::new_err(format!("Arrow: {error}")))?;
        let schema = table.schema();
        let reader = RecordBatchIterator::new(std::iter::once(Ok(table)), schema);
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, c"arrow_array_stream")
    }
}

/// Iteration over a batch, each row made as it is reached.
#[pyclass(module = "doseprep")]
pub struct BatchIterator {
    batch: Py<Batch>,
    next: std::sync::atomic::AtomicUsize,
}

#[pymethods]
impl BatchIterator {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let batch = self.batch.get();
        let index = self.next.load(std::sync::atomic::Ordering::Relaxed);
        if index >= batch.rows.len() {
            return Ok(None);
        }
        self.next
            .store(index + 1, std::sync::atomic::Ordering::Relaxed);
        batch.object(py, index).map(Some)
    }
}
