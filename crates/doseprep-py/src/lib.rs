//! `doseprep._core`: the Python face of the doseprep crate. It converts
//! arguments and results and maps errors to exception classes; every dose
//! rule, unit name and file format lives in the core crate. One module per
//! concern: `errors`, `convert`, and one per class.

mod batch;
mod command;
mod convert;
mod day;
mod errors;
mod ledger;
mod lot;
mod order;
mod preparation;
mod print;
mod protocol;
mod record;
mod table;

use pyo3::prelude::*;

/// Rust's allocations in the module: mimalloc (why: the workspace's Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// JSON that could not be written (not expected: every value has a JSON form).
fn json_error(error: impl std::fmt::Display) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(format!("JSON: {error}"))
}

/// The version of the doseprep core this module was built from.
#[pyfunction]
fn version() -> &'static str {
    doseprep::VERSION
}

/// The classes hold only immutable data, so the module runs without the GIL.
#[pymodule(gil_used = false)]
mod _core {
    use super::*;

    #[pymodule_export]
    use super::batch::{prepare, prepare_many, Batch};
    #[pymodule_export]
    use super::command::run_command;
    #[pymodule_export]
    use super::day::{plan_day, DayOrder, DayPlan, DayRow, Randomization, ThawSession};
    #[pymodule_export]
    use super::ledger::{Balance, Checkpoint, Ledger, LedgerVerification, Reconciliation};
    #[pymodule_export]
    use super::lot::Lot;
    #[pymodule_export]
    use super::order::Order;
    #[pymodule_export]
    use super::preparation::{check_weighed, Preparation, WeighedCheck};
    #[pymodule_export]
    use super::print::{labels_html, labels_pdf, labels_zpl, worksheet_html, worksheets_pdf};
    #[pymodule_export]
    use super::protocol::Protocol;
    #[pymodule_export]
    use super::record::{verify, PreparationRecord, Verification};
    #[pymodule_export]
    use super::table::Table;
    #[pymodule_export]
    use super::version;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        super::errors::register(module)
    }
}
