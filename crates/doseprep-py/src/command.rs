//! `run_command`: the `doseprep` command of `doseprep-cli`, run in this
//! process, so the Python package's entry point is the Rust command.

use std::ffi::OsString;

use pyo3::prelude::*;

/// Run the `doseprep` command on `argv` (the program name first), printing
/// to the process's standard output and error; returns the exit status.
#[pyfunction]
#[pyo3(signature = (argv, /))]
pub fn run_command(py: Python<'_>, argv: Vec<OsString>) -> u8 {
    py.detach(|| {
        doseprep_cli::run(
            argv,
            &mut std::io::stdout().lock(),
            &mut std::io::stderr().lock(),
        )
    })
}
