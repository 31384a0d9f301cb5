//! A ledger's archive written to a new folder, published whole.

use std::path::Path;

use doseprep_ledger::{Archive, Checkpoint, Ledger};

use crate::error::Result;
use crate::folder::{write_file, NewFolder};

/// Write `ledger`'s archive (with `checkpoints` kept elsewhere) to the new
/// folder `out`: every file synced, the folder renamed into place in one
/// step, so a half-written archive is never found there.
pub fn write_archive(ledger: &Ledger, checkpoints: &[Checkpoint], out: &Path) -> Result<Archive> {
    let folder = NewFolder::check(out)?;
    let archive = ledger.archive(checkpoints)?;
    folder.publish(|staging| {
        for file in &archive.files {
            write_file(staging, file.name, &file.bytes)?;
        }
        Ok(archive)
    })
}
