//! `doseprep`: the command, as a binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    let status = doseprep_cli::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(status)
}
