//! The `doseprep` command: its arguments (clap), then one call into the
//! doseprep crates per command, and what it prints. The same command runs
//! as the `doseprep` binary of this crate and as the Python package's
//! `doseprep` entry point (through the extension), so both behave alike.
//!
//! A user mistake (a bad argument, a missing file, a value the core
//! refuses, an event the ledger refuses) prints one line to stderr and
//! exits 2; a fault of the system (a database busy, full or corrupt, a
//! ledger that no longer verifies, a document that cannot be written, the
//! printer's font or PDF writer) prints one line and exits 3; a batch or
//! a day with orders that cannot be made exits 1, with each one's reason
//! in its output; a count that disagrees with the ledger, or a record or
//! ledger that does not verify, exits 1.

#![forbid(unsafe_code)]

mod args;
mod commands;

use std::ffi::OsString;
use std::io::Write;

use clap::Parser as _;

pub use args::Cli;

/// Run the command on `args` (the program name first), printing to `out`
/// and `err`; returns the exit status.
pub fn run<I, T>(args: I, out: &mut dyn Write, err: &mut dyn Write) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        // --help and --version are printed to stdout and exit 0.
        Err(error) if !error.use_stderr() => {
            let _ = out.write_all(error.render().to_string().as_bytes());
            let _ = out.flush();
            return 0;
        }
        // A usage mistake is one line, as every other mistake is.
        Err(error) => {
            let rendered = error.render().to_string();
            let said: Vec<&str> = rendered
                .lines()
                .filter(|line| {
                    !line.starts_with("Usage:") && !line.starts_with("For more information")
                })
                .collect();
            let line = doseprep_day::error::one_line(&said.join("\n"));
            let line = line.strip_prefix("error: ").unwrap_or(&line);
            let _ = writeln!(
                err,
                "doseprep: {line}; 'doseprep --help' lists the commands and arguments"
            );
            let _ = err.flush();
            return 2;
        }
    };
    let status = match commands::run(cli, out, err) {
        Ok(status) => status,
        Err(failure) => {
            let line = doseprep_day::error::one_line(&failure.to_string());
            let _ = writeln!(err, "doseprep: {line}");
            failure.status()
        }
    };
    let _ = out.flush();
    let _ = err.flush();
    status
}
