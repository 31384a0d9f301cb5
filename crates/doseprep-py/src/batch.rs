//! `prepare` and `prepare_many`: orders in, bags (or errors) out.

use doseprep as core;
use std::sync::Arc;

use arrow_array::RecordBatch;
use pyo3::exceptions::{PyBaseException, PyIndexError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyList, PySlice, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::convert::{BatchTimes, DinSequenceArg, Number, TimeArg, WeightArg};
use crate::errors::{base, to_py_err, IntoPy};
use crate::lot::Lot;
use crate::order::{from_item, KeyNames, OrderArgs, Read};
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
    din_sequence: Option<DinSequenceArg>,
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
/// prepares them; a batch keeps its rows in chunks of this many, each row
/// moved once into its chunk as it is prepared and never again, and no
/// buffer copied as the batch grows.
const CHUNK: usize = 1024;

/// Batches with at least this many rows build their Arrow table on two
/// threads, each about half the chunks (fewer are not worth a thread).
const SPLIT_AT: usize = 4 * CHUNK;

/// Prepare many orders from one lot in one call. Returns a Batch: a
/// sequence, in the order given, of a Preparation for each order that
/// succeeds and the DoseError instance (not raised) in the place of each
/// that fails, including a row that is not a dict or Order or holds a
/// value of the wrong type (InvalidInputError); and an Arrow table.
///
/// The rows are read from Python on this thread and prepared on a second
/// one as they come, a chunk at a time (both cores at work). The Arrow
/// table is built when it is first asked for.
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
    let core_protocol = &protocol.inner;
    let core_lot = &*lot.inner;
    let outcome = std::thread::scope(|scope| {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<ReadRow>>(4);
        // Emptied chunks come back to be filled again: memory once touched,
        // not fresh pages a chunk.
        let (give_back, given_back) = std::sync::mpsc::channel::<Vec<ReadRow>>();
        let preparer = std::thread::Builder::new()
            .name("doseprep-batch".to_owned())
            .spawn_scoped(scope, move || {
                let mut rows = Rows::default();
                for mut chunk in receive {
                    rows.push(prepared(&mut chunk, core_protocol, core_lot))?;
                    let _ = give_back.send(chunk); // fallback-ok: a reader that stopped takes no more chunks
                }
                Ok::<Rows, String>(rows)
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
            if !chunk.is_empty() {
                let _ = send.send(chunk); // fallback-ok: a preparer that stopped is reported by its join
            }
            Ok(())
        })();
        drop(send);
        let prepared = preparer.join();
        prepared.map(|made| (Some(made), read))
    })
    .map_err(|panic| {
        PyRuntimeError::new_err(format!(
            "internal error: the thread preparing the batch stopped ({}); please report it",
            panic_text(panic.as_ref())
        ))
    })?;
    let (made, read) = outcome;
    read?;
    let rows = match made {
        Some(Ok(rows)) => rows,
        Some(Err(why)) => {
            return Err(PyRuntimeError::new_err(format!(
                "internal error: {why}; please report it"
            )))
        }
        None => {
            return Err(PyRuntimeError::new_err(
                "internal error: a batch prepared without its rows; please report it",
            ))
        }
    };
    Ok(Batch {
        protocol: protocol.inner.clone(),
        lot: Arc::clone(&lot.inner),
        rows,
        table: std::sync::OnceLock::new(),
    })
}

/// A row as read from Python, not yet checked by the core.
enum ReadRow {
    /// An order, or a dict's values.
    Read(Read),
    /// A row of the wrong type, refused as the core refuses bad input.
    Refused(Box<core::DoseError>),
    /// Reading the row raised this DoseError.
    Raised(Box<Raised>),
}

/// A row of a batch.
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every row is an order: boxing it would allocate once a row"
)]
enum Row {
    /// An order the core accepted and prepared: its bag is made again when
    /// read (`prepare` is a pure function of the protocol, the order and
    /// the lot), so a batch keeps an order a row, not a bag.
    Order(core::Order),
    /// An order the core refused, or a row of the wrong type.
    Failed(Box<Failed>),
    /// Reading the row raised this DoseError.
    Raised(Box<Raised>),
}

/// A row the core refused, and who it was for as far as it was read.
struct Failed {
    who: Who,
    error: core::DoseError,
}

/// Who a failed row was for.
enum Who {
    /// The order, built: `prepare` refused it.
    Order(core::Order),
    /// The participant, arm and visit as read: building the order refused
    /// a value.
    Read([core::Text; 3]),
    /// Nothing was read: the row was of the wrong type.
    Unknown,
}

impl Who {
    fn ordered(&self) -> doseprep_arrow::Ordered<'_> {
        match self {
            Who::Order(order) => doseprep_arrow::Ordered::of(order),
            Who::Read([participant, arm, visit]) => doseprep_arrow::Ordered {
                participant: Some(participant),
                arm: Some(arm),
                visit: Some(visit),
            },
            Who::Unknown => doseprep_arrow::Ordered::default(),
        }
    }
}

/// A DoseError raised while reading a row, with its kind, field and text
/// read where Python may be called (the table is built without it).
struct Raised {
    error: Py<PyBaseException>,
    kind: String,
    field: Option<String>,
    message: String,
}

/// Rows prepared: each `Row::Order` is one `prepare` accepted.
struct PreparedChunk {
    rows: Vec<Row>,
    /// Whether a row holds a Python exception (`Row::Raised`): the cycle
    /// collector walks only these chunks, not every row of a batch.
    holds_exceptions: bool,
}

/// The rows of `chunk` checked and prepared (`chunk` left empty).
fn prepared(chunk: &mut Vec<ReadRow>, protocol: &core::Protocol, lot: &core::Lot) -> PreparedChunk {
    let failed = |who: Who, error: core::DoseError| Row::Failed(Box::new(Failed { who, error }));
    let prepare = |order: core::Order| match core::prepare(protocol, &order, lot) {
        Ok(_) => Row::Order(order),
        Err(error) => failed(Who::Order(order), error),
    };
    let rows = chunk.drain(..).map(|read| match read {
        ReadRow::Read(Read::Order(order)) => prepare(*order),
        ReadRow::Read(Read::Values(values)) => match values.build() {
            Ok(order) => prepare(order),
            Err(error) => failed(Who::Read(values.who()), error),
        },
        ReadRow::Refused(error) => failed(Who::Unknown, *error),
        ReadRow::Raised(raised) => Row::Raised(raised),
    });
    let rows: Vec<Row> = rows.collect();
    let holds_exceptions = rows.iter().any(|row| matches!(row, Row::Raised(_)));
    PreparedChunk {
        rows,
        holds_exceptions,
    }
}

/// A batch's rows, in chunks of [`CHUNK`]: every chunk but the last is full,
/// so row `i` is row `i % CHUNK` of chunk `i / CHUNK`.
#[derive(Default)]
struct Rows {
    chunks: Vec<PreparedChunk>,
    len: usize,
}

impl Rows {
    /// `chunk` after the rows already here.
    fn push(&mut self, chunk: PreparedChunk) -> Result<(), String> {
        if self
            .chunks
            .last()
            .is_some_and(|last| last.rows.len() != CHUNK)
        {
            return Err(format!(
                "a chunk of the batch came after one of fewer than {CHUNK} rows"
            ));
        }
        if chunk.rows.len() > CHUNK {
            return Err(format!(
                "a chunk of the batch has {} rows, more than {CHUNK}",
                chunk.rows.len()
            ));
        }
        self.len += chunk.rows.len();
        self.chunks.push(chunk);
        Ok(())
    }

    fn get(&self, index: usize) -> Option<&Row> {
        self.chunks.get(index / CHUNK)?.rows.get(index % CHUNK)
    }

    fn iter(&self) -> impl Iterator<Item = &Row> {
        self.chunks.iter().flat_map(|chunk| chunk.rows.iter())
    }
}

/// Row `item` as an order, or its error; any other exception stops the batch.
fn read_row<'py>(
    py: Python<'py>,
    item: &Bound<'py, PyAny>,
    names: &KeyNames<'py>,
    times: &mut BatchTimes<'py>,
    dose_error: &Bound<'py, PyType>,
) -> PyResult<ReadRow> {
    match from_item(item, names, times) {
        Ok(read) => Ok(ReadRow::Read(read)),
        Err(e) if e.is_instance(py, dose_error) => {
            let error = e.into_value(py);
            let bound = error.bind(py);
            Ok(ReadRow::Raised(Box::new(Raised {
                kind: attribute(bound, "kind").unwrap_or_else(|| "error".to_owned()), // fallback-ok: every DoseError class sets kind; "error" is the base class's own
                field: attribute(bound, "field"),
                message: bound.to_string(),
                error,
            })))
        }
        // A row with a value of the wrong type is that row's error, not
        // the batch's: the other rows still come back.
        Err(e) if e.is_instance_of::<PyTypeError>(py) => {
            Ok(ReadRow::Refused(Box::new(core::DoseError::InvalidInput {
                field: "order".to_owned(),
                reason: e.value(py).to_string(),
            })))
        }
        Err(e) => Err(e),
    }
}

/// `rows`' lines of the Arrow table, starting at row `first` (for messages).
fn table_of<'a>(
    protocol: &core::Protocol,
    lot: &core::Lot,
    first: usize,
    rows: impl Iterator<Item = &'a Row>,
    count: usize,
) -> Result<RecordBatch, String> {
    let mut table = doseprep_arrow::PreparationsBuilder::new(protocol.zone().name(), count);
    for (index, row) in (first..).zip(rows) {
        match row {
            Row::Order(order) => {
                let bag = core::prepare(protocol, order, lot).map_err(|error| {
                    format!("row {index} prepared in the batch and not again ({error})")
                })?;
                table.push(&doseprep_arrow::Row::Prepared(&bag));
            }
            Row::Failed(failed) => {
                let error = &failed.error;
                let field = error.parts().field;
                table.push(&doseprep_arrow::Row::Failed(
                    failed.who.ordered(),
                    doseprep_arrow::Failure {
                        kind: error.kind().name(),
                        field: field.as_deref(),
                        message: &error.to_string(),
                    },
                ));
            }
            Row::Raised(raised) => table.push(&doseprep_arrow::Row::Failed(
                doseprep_arrow::Ordered::default(),
                doseprep_arrow::Failure {
                    kind: &raised.kind,
                    field: raised.field.as_deref(),
                    message: &raised.message,
                },
            )),
        }
    }
    table
        .finish()
        .map_err(|error| format!("the batch's Arrow table ({error})"))
}

/// What `prepare_many` returns: its results in the order given, each made
/// into a Preparation or a DoseError when it is read (`batch[i]`,
/// iteration; a new object each time), and the whole batch as an Arrow
/// table through the Arrow PyCapsule interface (`__arrow_c_stream__`), so
/// `polars.DataFrame(batch)` and `pyarrow.table(batch)` read it without a
/// Python object a row. The table is built the first time it is asked for
/// (on both cores for a large batch) and kept.
#[pyclass(frozen, sequence, module = "doseprep")]
pub struct Batch {
    protocol: core::Protocol,
    lot: Arc<core::Lot>,
    rows: Rows,
    table: std::sync::OnceLock<Result<Vec<RecordBatch>, String>>,
}

impl Batch {
    /// Row `index` as a Python object.
    fn object<'py>(&self, py: Python<'py>, index: usize) -> PyResult<Bound<'py, PyAny>> {
        match self.rows.get(index) {
            Some(Row::Order(order)) => {
                let bag = core::prepare(&self.protocol, order, &self.lot).map_err(|error| {
                    PyRuntimeError::new_err(format!(
                        "internal error: row {index} prepared in the batch and not again ({error}); please report it"
                    ))
                })?;
                Ok(Preparation::new(bag, &self.protocol, order, &self.lot)
                    .into_untracked(py)?
                    .into_any())
            }
            Some(Row::Failed(failed)) => Ok(to_py_err(failed.error.clone())
                .into_value(py)
                .into_bound(py)
                .into_any()),
            Some(Row::Raised(raised)) => Ok(raised.error.bind(py).clone().into_any()),
            None => Err(PyIndexError::new_err("batch index out of range")),
        }
    }

    /// `index` (negative from the end) as a position in the batch.
    fn position(&self, index: isize) -> PyResult<usize> {
        let length = isize::try_from(self.rows.len)
            .map_err(|_| PyIndexError::new_err("batch index out of range"))?;
        let from_start = if index < 0 { index + length } else { index };
        usize::try_from(from_start)
            .ok()
            .filter(|&position| position < self.rows.len)
            .ok_or_else(|| {
                PyIndexError::new_err(format!(
                    "batch index {index} out of range: the batch has {} rows",
                    self.rows.len
                ))
            })
    }

    /// The Arrow table (its parts, in row order), built the first time it
    /// is asked for, without holding the GIL.
    fn table(&self, py: Python<'_>) -> PyResult<&[RecordBatch]> {
        py.detach(|| self.table.get_or_init(|| self.build_table()))
            .as_deref()
            .map_err(|why| {
                PyRuntimeError::new_err(format!("internal error: {why}; please report it"))
            })
    }

    /// The table: one part, or two halves built at once on two threads.
    fn build_table(&self) -> Result<Vec<RecordBatch>, String> {
        let (protocol, lot) = (&self.protocol, &*self.lot);
        let rows_of = |chunks: &[PreparedChunk]| -> usize {
            chunks.iter().map(|chunk| chunk.rows.len()).sum()
        };
        let table = |first: usize, chunks: &[PreparedChunk]| {
            table_of(
                protocol,
                lot,
                first,
                chunks.iter().flat_map(|chunk| chunk.rows.iter()),
                rows_of(chunks),
            )
        };
        let chunks = &self.rows.chunks[..];
        if self.rows.len < SPLIT_AT {
            return Ok(vec![table(0, chunks)?]);
        }
        let (front, back) = chunks.split_at(chunks.len() / 2);
        let back_starts = rows_of(front);
        std::thread::scope(|scope| {
            let back_thread = std::thread::Builder::new()
                .name("doseprep-table".to_owned())
                .spawn_scoped(scope, || table(back_starts, back));
            let front_table = table(0, front)?;
            let back_table = match back_thread {
                Ok(thread) => thread.join().map_err(|panic| {
                    format!(
                        "the thread building the batch's table stopped ({})",
                        panic_text(panic.as_ref())
                    )
                })??,
                Err(_) => table(back_starts, back)?, // fallback-ok: without a second thread, this one builds both halves
            };
            Ok(vec![front_table, back_table])
        })
    }
}

/// What a thread that panicked said, where it said it in text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message") // fallback-ok: a panic's payload need not be text
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
        self.rows.len
    }

    /// The exceptions the batch holds, shown to the cycle collector: a
    /// held exception raised again keeps a traceback, which may hold the
    /// batch.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        let holding = self
            .rows
            .chunks
            .iter()
            .filter(|chunk| chunk.holds_exceptions);
        for row in holding.flat_map(|chunk| chunk.rows.iter()) {
            if let Row::Raised(raised) = row {
                visit.call(&raised.error)?;
            }
        }
        Ok(())
    }

    /// `batch[i]`, or a list for `batch[i:j:k]`.
    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<PySlice>() {
            let length = isize::try_from(self.rows.len)
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
            .filter(|row| matches!(row, Row::Order(_)))
            .count();
        format!(
            "<doseprep.Batch of {} orders: {prepared} prepared, {} failed>",
            self.rows.len,
            self.rows.len - prepared
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
        crate::table::stream(py, self.table(py)?)
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

    /// Its batch, shown to the cycle collector (a batch holding a raised
    /// exception can be reached back from it through a traceback).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.batch)
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let batch = self.batch.get();
        let index = self.next.load(std::sync::atomic::Ordering::Relaxed);
        if index >= batch.rows.len {
            return Ok(None);
        }
        // One claim a call, so two threads iterating one iterator never
        // get the same row.
        let index = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if index >= batch.rows.len {
            return Ok(None);
        }
        batch.object(py, index).map(Some)
    }
}
