//! A folder of documents published whole: written to a staging folder
//! beside it, each file synced, then renamed into place in one step, so a
//! reader (or a kill) never finds half of it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{DayError, Result};

/// An output folder checked before anything is planned or recorded: it
/// does not exist yet, or it is empty, and its parent exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFolder {
    path: PathBuf,
}

impl NewFolder {
    /// Check `path` as an output folder.
    pub fn check(path: &Path) -> Result<NewFolder> {
        let not_empty = || DayError::OutNotEmpty {
            path: path.to_owned(),
        };
        match std::fs::read_dir(path) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(not_empty());
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            // A file there: not a folder for the documents.
            Err(_) if path.exists() && !path.is_dir() => return Err(not_empty()),
            Err(source) => {
                return Err(DayError::Read {
                    path: path.to_owned(),
                    source,
                })
            }
        }
        let parent = parent_of(path);
        if !parent.is_dir() {
            return Err(DayError::OutParentMissing {
                path: path.to_owned(),
                parent,
            });
        }
        Ok(NewFolder {
            path: path.to_owned(),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `write` on a new staging folder beside this one
    /// (`.NAME.staging-XXXXXX`), then rename it to this folder in one step.
    /// If `write` fails the staging folder is removed and this folder is
    /// never made. A kill after `write` returned and before the rename
    /// leaves every document in the staging folder.
    pub fn publish<T>(self, write: impl FnOnce(&Path) -> Result<T>) -> Result<T> {
        let parent = parent_of(&self.path);
        let name = self
            .path
            .file_name()
            .map_or_else(|| "out".into(), |name| name.to_string_lossy());
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.staging-"))
            .tempdir_in(&parent)
            .map_err(|source| DayError::Write {
                path: parent.clone(),
                source,
            })?;
        // The staging folder's own entry is durable before anything is
        // recorded, so a power loss cannot keep a record and lose its folder.
        sync_folder(&parent)?;
        // On an error the staging folder is dropped, and so removed.
        let value = write(staging.path())?;
        let staged = staging.keep();
        if let Err(source) = rename_into_place(&staged, &self.path) {
            // What `write` did (a day recorded) stands: the documents are
            // whole in the staging folder, and the error says where.
            return Err(DayError::NotPublished {
                staging: staged,
                out: self.path,
                source,
            });
        }
        // The rename is done and cannot be undone; a failed sync of the
        // parent leaves the documents in place, readable, and is not an
        // error of the day. (Best effort, on purpose.)
        let _ = sync_folder(&parent);
        Ok(value)
    }
}

/// The folder `path` is in ("." for a bare name).
fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `staged` renamed to `out`. On Linux the rename replaces an empty `out`
/// in the same step; elsewhere the empty folder is removed first.
fn rename_into_place(staged: &Path, out: &Path) -> std::io::Result<()> {
    match std::fs::rename(staged, out) {
        Ok(()) => Ok(()),
        Err(_) if out.is_dir() => {
            std::fs::remove_dir(out)?;
            std::fs::rename(staged, out)
        }
        Err(source) => Err(source),
    }
}

/// Write `bytes` to a new file `name` in `folder`, synced to the disk.
pub fn write_file(folder: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = folder.join(name);
    let failed = |source| DayError::Write {
        path: path.clone(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// A new folder `name` in `folder`.
pub fn make_folder(folder: &Path, name: &str) -> Result<PathBuf> {
    let path = folder.join(name);
    std::fs::create_dir(&path).map_err(|source| DayError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Make a folder's entries (new files, a rename) durable.
pub fn sync_folder(folder: &Path) -> Result<()> {
    let failed = |source| DayError::Write {
        path: folder.to_owned(),
        source,
    };
    std::fs::File::open(folder)
        .and_then(|handle| handle.sync_all())
        .map_err(failed)
}

/// Write `bytes` to `path`, replacing a file there (a single bag's PDFs, an
/// export the user names), synced to the disk.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let failed = |source| DayError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::create(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}
