//! `prepare` and `prepare_many`: orders in, bags (or errors) out.

use doseprep as core;
use std::sync::Arc;

use arrow_array::RecordBatch;
use pyo3::exceptions::{PyBaseException, PyIndexError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PySlice, PyType};

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

/// Rows read from Python before they are handed to the thread that
/// prepares them.
const CHUNK: usize = 1024;

/// Prepare many orders from one lot in one call. Returns a Batch: a
/// sequence, in the order given, of a Preparation for each order that
/// succeeds and the DoseError instance (not raised) in the place of each
/// that fails, including a row that is not a dict or Order or holds a
/// value of the wrong type (InvalidInputError); and an Arrow table.
///
/// The rows are read from Python on this thread and prepared on a second
/// one as they come, a chunk at a time (both cores at work); the second
/// builds the Arrow table as it goes.
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
    // Room for the rows at once where the orders say how many, up to a
    // bound: `len()` is the object's word, and the buffers grow past it.
    let expected = orders.len().unwrap_or(0).min(1 << 16); // fallback-ok: an iterator has no length; the buffers grow
    let core_protocol = &protocol.inner;
    let core_lot = &*lot.inner;
    let zone = protocol.inner.zone().name();
    let outcome = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Read>>(4);
        // Emptied chunks come back to be filled again: memory once touched,
        // not fresh pages a chunk.
        let (give_back, given_back) = std::sync::mpsc::channel::<Vec<Read>>();
        let preparer = std::thread::Builder::new()
            .name("doseprep-batch".to_owned())
            .spawn_scoped(scope, move || {
            let mut table = doseprep_arrow::PreparationsBuilder::new(zone, expected);
            let mut rows = Vec::with_capacity(expected);
            for mut chunk in receive {
                for read in chunk.drain(..) {
                    rows.push(prepare_read(core_protocol, core_lot, &mut table, read));
                }
                let _ = give_back.send(chunk); // fallback-ok: a reader that stopped takes no more chunks
            }
            (table, rows)
        });
        let preparer = match preparer {
            Ok(preparer) => preparer,
            Err(error) => {
                return Ok((
                    None,
                    Err(PyRuntimeError::new_err(format!(
                        "the batch's second thread could not be started ({error}); nothing was prepared"
                    ))),
                ))
            }
        };
        let read = (|| -> PyResult<()> {
            let mut chunk = Vec::with_capacity(CHUNK);
            for item in orders.try_iter()? {
                let item = item?;
                chunk.push(read_row(py, &item, &names, &mut times, &dose_error)?);
                if chunk.len() == CHUNK {
                    let empty = given_back
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK)); // fallback-ok: none back yet, a new one
                    let full = std::mem::replace(&mut chunk, empty);
                    if send.send(full).is_err() {
                        break; // the preparer stopped: its join says why
                    }
                }
            }
            let _ = send.send(chunk); // fallback-ok: a preparer that stopped is reported by its join
            Ok(())
        })();
        drop(send);
        let prepared = preparer.join();
        prepared.map(|made| (Some(made), read))
    })
    .map_err(|_| {
        PyRuntimeError::new_err(
            "internal error: the thread preparing the batch stopped; please report it",
        )
    })?;
    let (made, read) = outcome;
    read?;
    let Some((table, rows)) = made else {
        return Err(PyRuntimeError::new_err(
            "internal error: a batch prepared without its rows; please report it",
        ));
    };
    let table = table.finish().map_err(|error| {
        PyRuntimeError::new_err(format!(
            "internal error: the batch's Arrow table ({error}); please report it"
        ))
    })?;
    Ok(Batch {
        protocol: protocol.inner.clone(),
        lot: Arc::clone(&lot.inner),
        rows,
        table,
    })
}

/// A row as read from Python.
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every row is an order: boxing it would allocate once a row"
)]
enum Read {
    /// The order it gives.
    Order(core::Order),
    /// A row of the wrong type, refused as the core refuses bad input.
    Refused(core::DoseError),
    /// Reading it raised this DoseError (its kind, field and text read
    /// here, where Python may be called).
    Raised {
        error: Py<PyBaseException>,
        kind: String,
        field: Option<String>,
        message: String,
    },
}

/// Row `item` as an order, or its error; any other exception stops the batch.
fn read_row<'py>(
    py: Python<'py>,
    item: &Bound<'py, PyAny>,
    names: &KeyNames<'py>,
    times: &mut BatchTimes<'py>,
    dose_error: &Bound<'py, PyType>,
) -> PyResult<Read> {
    match from_item(item, names, times) {
        Ok(order) => Ok(Read::Order(order)),
        Err(e) if e.is_instance(py, dose_error) => {
            let error = e.into_value(py);
            let bound = error.bind(py);
            Ok(Read::Raised {
                kind: attribute(bound, "kind").unwrap_or_else(|| "error".to_owned()), // fallback-ok: every DoseError class sets kind; "error" is the base class's own
                field: attribute(bound, "field"),
                message: bound.to_string(),
                error,
            })
        }
        // A row with a value of the wrong type is that row's error, not
        // the batch's: the other rows still come back.
        Err(e) if e.is_instance_of::<PyTypeError>(py) => {
            Ok(Read::Refused(core::DoseError::InvalidInput {
                field: "order".to_owned(),
                reason: e.value(py).to_string(),
            }))
        }
        Err(e) => Err(e),
    }
}

/// The row `read` prepared, its line added to `table`.
fn prepare_read(
    protocol: &core::Protocol,
    lot: &core::Lot,
    table: &mut doseprep_arrow::PreparationsBuilder,
    read: Read,
) -> Outcome {
    let failure = |table: &mut doseprep_arrow::PreparationsBuilder,
                   order: Option<&core::Order>,
                   error: &core::DoseError| {
        let field = error.parts().field;
        table.push(&doseprep_arrow::Row::Failed(
            order.map_or_else(
                doseprep_arrow::Ordered::default,
                doseprep_arrow::Ordered::of,
            ),
            doseprep_arrow::Failure {
                kind: error.kind().name(),
                field: field.as_deref(),
                message: &error.to_string(),
            },
        ));
    };
    match read {
        Read::Order(order) => match core::prepare(protocol, &order, lot) {
            Ok(bag) => {
                table.push(&doseprep_arrow::Row::Prepared(&bag));
                Outcome::Prepared(order)
            }
            Err(error) => {
                failure(table, Some(&order), &error);
                Outcome::Failed(Box::new((Some(order), error)))
            }
        },
        Read::Refused(error) => {
            failure(table, None, &error);
            Outcome::Failed(Box::new((None, error)))
        }
        Read::Raised {
            error,
            kind,
            field,
            message,
        } => {
            table.push(&doseprep_arrow::Row::Failed(
                doseprep_arrow::Ordered::default(),
                doseprep_arrow::Failure {
                    kind: &kind,
                    field: field.as_deref(),
                    message: &message,
                },
            ));
            Outcome::Raised(error)
        }
    }
}

/// One order's result, kept small until it is asked for.
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every row is an order prepared: boxing it would allocate once a row"
)]
enum Outcome {
    /// The order, prepared: its bag is made again when read (`prepare` is
    /// a pure function of the protocol, the order and the lot), so a batch
    /// keeps an order a row, not a bag.
    Prepared(core::Order),
    /// The core refused the order (read, where it was).
    Failed(Box<(Option<core::Order>, core::DoseError)>),
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
    table: RecordBatch,
}

impl Batch {
    /// Row `index` as a Python object.
    fn object<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self.rows.get(index) {
            Some(Outcome::Prepared(order)) => {
                let bag = core::prepare(&self.protocol, order, &self.lot).map_err(|error| {
                    PyRuntimeError::new_err(format!(
                        "internal error: row {index} prepared in the batch and not again ({error}); please report it"
                    ))
                })?;
                Ok(Preparation::new(bag, &self.protocol, order, &self.lot)
                    .into_untracked(py)?
                    .into_any())
            }
            Some(Outcome::Failed(failed)) => Ok(to_py_err(failed.1.clone())
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
            for taken in 0..span.slicelength {
                // start + taken × step, each within the batch: checked, as
                // a step may be as large as an isize holds.
                let at = isize::try_from(taken)
                    .ok()
                    .and_then(|taken| taken.checked_mul(span.step))
                    .and_then(|offset| span.start.checked_add(offset))
                    .ok_or_else(|| PyIndexError::new_err("batch slice out of range"))?;
                items.push(self.object(py, self.position(at)?)?);
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
        crate::table::stream(py, &self.table)
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
