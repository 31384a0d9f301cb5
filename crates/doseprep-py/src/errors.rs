//! Exception classes, one per kind of the core's one list
//! (`doseprep::ErrorKind::ALL`), made when the module loads, and the mapping
//! of a core error to an exception that a script can read: `.kind`,
//! `.field`, `.value`, `.limit` and `.fix` beside the message.

use std::ffi::CString;

use doseprep::{DoseError, ErrorKind, ErrorParts};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

/// The base class and one class per kind, in `ErrorKind::ALL` order.
struct Classes {
    base: Py<PyType>,
    kinds: Vec<(ErrorKind, Py<PyType>)>,
    print: Py<PyType>,
    ledger: Py<PyType>,
    fault: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    doc: &str,
    base: &Bound<'py, PyType>,
) -> PyResult<Py<PyType>> {
    let name = CString::new(format!("doseprep.{name}"))?;
    let doc = CString::new(doc)?;
    PyErr::new_type(py, &name, Some(&doc), Some(base), None)
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let value_error = py.get_type::<PyValueError>();
        let base = new_class(
            py,
            "DoseError",
            "Base class of every doseprep error: the input was wrong, not the program. \
             `.kind` names the kind; `.field`, `.value`, `.limit` and `.fix` give the \
             input concerned, its value, the limit it broke and what to do (None where \
             they do not apply).",
            &value_error,
        )?;
        let bound = base.bind(py);
        bound.setattr("kind", "error")?;
        for attribute in ["field", "value", "limit", "fix"] {
            bound.setattr(attribute, py.None())?;
        }
        let kinds = ErrorKind::ALL
            .iter()
            .map(|&kind| {
                let class = new_class(py, kind.class_name(), kind.summary(), bound)?;
                class.bind(py).setattr("kind", kind.name())?;
                Ok((kind, class))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let print = new_class(
            py,
            "PrintError",
            "A label or worksheet could not be printed: a barcode wider than the label, \
             text that does not fit at the smallest size allowed, or text a barcode \
             cannot encode.",
            bound,
        )?;
        print.bind(py).setattr("kind", "print")?;
        let ledger = new_class(
            py,
            "LedgerError",
            "An event the ledger refuses (a container thawed twice, a bag given twice or to \
             another participant, ...) or a ledger file it cannot use. `.code` names the \
             case, e.g. \"container_state\".",
            bound,
        )?;
        ledger.bind(py).setattr("kind", "ledger")?;
        ledger.bind(py).setattr("code", "ledger")?;
        // Not a DoseError: the input was right, the system failed.
        let fault = new_class(
            py,
            "FaultError",
            "A fault of the system, not of the input: the ledger's database busy, full or \
             corrupt, a ledger that no longer verifies or was written by a newer doseprep, \
             the printer's font or PDF writer. `.code` names the case (e.g. \
             \"database_busy\", \"tampered\"); `.fix` says what to do. File faults are \
             Python's own OSError subclasses.",
            &py.get_type::<PyRuntimeError>(),
        )?;
        let bound_fault = fault.bind(py);
        bound_fault.setattr("kind", "fault")?;
        bound_fault.setattr("code", "fault")?;
        for attribute in ["field", "value", "limit", "fix"] {
            bound_fault.setattr(attribute, py.None())?;
        }
        Ok::<_, PyErr>(Classes {
            base,
            kinds,
            print,
            ledger,
            fault,
        })
    })
}

/// Add `DoseError` and every kind's class to the module.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = classes(py)?;
    module.add("DoseError", classes.base.bind(py))?;
    for (kind, class) in &classes.kinds {
        module.add(kind.class_name(), class.bind(py))?;
    }
    module.add("PrintError", classes.print.bind(py))?;
    module.add("LedgerError", classes.ledger.bind(py))?;
    module.add("FaultError", classes.fault.bind(py))?;
    Ok(())
}

/// The base class.
pub fn base(py: Python<'_>) -> PyResult<Bound<'_, PyType>> {
    Ok(classes(py)?.base.bind(py).clone())
}

/// The Python exception for a core error: its kind's class, the core's
/// message, and the error's parts as attributes.
pub fn to_py_err(error: DoseError) -> PyErr {
    kind_error(error.kind(), &error.to_string(), error.parts())
}

/// An instance of `kind`'s class with `message` and `parts`.
fn kind_error(kind: ErrorKind, message: &str, parts: ErrorParts) -> PyErr {
    Python::attach(|py| {
        let built = classes(py).and_then(|c| {
            let class = c
                .kinds
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(&c.base, |(_, class)| class)
                .bind(py);
            instance(class, message, parts)
        });
        match built {
            Ok(err) | Err(err) => err,
        }
    })
}

/// The Python exception for a print error: `PrintError` with its parts, or
/// `FaultError` for a fault of the printer itself (font, PDF writer).
pub fn print_error(error: doseprep_print::PrintError) -> PyErr {
    if error.is_fault() {
        return fault_error("print", &error.to_string(), error.parts());
    }
    Python::attach(|py| {
        let built =
            classes(py).and_then(|c| instance(c.print.bind(py), &error.to_string(), error.parts()));
        match built {
            Ok(err) | Err(err) => err,
        }
    })
}

/// The Python exception for a ledger error: `LedgerError` with its `code`
/// and parts, or, for a core error inside it, that error's own class.
pub fn ledger_error(error: doseprep_ledger::LedgerError) -> PyErr {
    use doseprep_ledger::LedgerError;
    match error {
        LedgerError::Dose(inner) => return to_py_err(inner),
        // The file errors Python users catch as such.
        LedgerError::NoSuchLedger { .. } => {
            return pyo3::exceptions::PyFileNotFoundError::new_err(error.to_string())
        }
        LedgerError::LedgerExists { .. } => {
            return pyo3::exceptions::PyFileExistsError::new_err(error.to_string())
        }
        _ if error.is_fault() => {
            return fault_error(error.code(), &error.to_string(), error.parts())
        }
        _ => {}
    }
    Python::attach(|py| {
        let built = classes(py).and_then(|c| {
            let err = instance(c.ledger.bind(py), &error.to_string(), error.parts())?;
            err.value(py).setattr("code", error.code())?;
            Ok(err)
        });
        match built {
            Ok(err) | Err(err) => err,
        }
    })
}

/// A `FaultError` with its `code` and parts.
fn fault_error(code: &str, message: &str, parts: ErrorParts) -> PyErr {
    Python::attach(|py| {
        let built = classes(py).and_then(|c| {
            let err = instance(c.fault.bind(py), message, parts)?;
            err.value(py).setattr("code", code)?;
            Ok(err)
        });
        match built {
            Ok(err) | Err(err) => err,
        }
    })
}

fn instance(class: &Bound<'_, PyType>, message: &str, parts: ErrorParts) -> PyResult<PyErr> {
    let instance = class.call1((message,))?;
    instance.setattr("field", parts.field)?;
    instance.setattr("value", parts.value)?;
    instance.setattr("limit", parts.limit)?;
    instance.setattr("fix", parts.fix)?;
    Ok(PyErr::from_value(instance))
}

/// A `TypeError` naming the argument, what it must be, and what it was.
pub fn type_error(field: &str, expected: &str, value: &Bound<'_, PyAny>) -> PyErr {
    let type_name = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{field} must be {expected}, not {type_name}"))
}

/// Map a core result into a Python result.
pub trait IntoPy<T> {
    /// The value, or the core error as its exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for doseprep::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py_err)
    }
}

/// The Python exception for an error of a day on disk: the core's,
/// ledger's and printer's as their own classes, a file the core refuses as
/// its error's class with the path in the message, the file system's as
/// the `OSError` subclass Python would raise, and the rest as
/// `InvalidInputError` with their parts.
pub fn day_error(error: doseprep_day::DayError) -> PyErr {
    use doseprep_day::DayError;
    use pyo3::exceptions::{PyFileExistsError, PyFileNotFoundError, PyOSError};
    let message = error.to_string();
    let parts = error.parts();
    match error {
        DayError::Dose(inner) => to_py_err(*inner),
        DayError::Ledger(inner) => ledger_error(*inner),
        DayError::Print(inner) => print_error(inner),
        DayError::InFile { error: inner, .. } => kind_error(inner.kind(), &message, parts),
        DayError::NoSuchFile { .. } | DayError::OutParentMissing { .. } => {
            PyFileNotFoundError::new_err(message)
        }
        DayError::OutNotEmpty { .. } => PyFileExistsError::new_err(message),
        // The OSError subclass of the cause (PermissionError, IsADirectoryError, ...).
        DayError::Read { source, .. }
        | DayError::Write { source, .. }
        | DayError::NotPublished { source, .. } => {
            PyErr::from(std::io::Error::new(source.kind(), message))
        }
        DayError::RandomSource(_) => PyOSError::new_err(message),
        ref fault if fault.is_system_fault() => fault_error(fault.code(), &message, parts),
        _ => kind_error(ErrorKind::InvalidInput, &message, parts),
    }
}
