//! The ledger archived for the long term: every event as a line of JSON,
//! with the schema of a line and of each body, the hash formula, the
//! checkpoints, a verifier that needs only Python's standard library, and
//! the SHA-256 of every file. The files are returned; writing them is the
//! caller's (a folder published whole).

use crate::db::Db;
use sha2::{Digest, Sha256};

use crate::checkpoint::Checkpoint;
use crate::error::{LedgerError, Result};
use crate::event::hex;
use crate::verify::Verification;

/// The verifier shipped in every archive.
const VERIFIER: &str = include_str!("verify.py");
/// The JSON Schema of a line of `events.jsonl`.
const EVENT_SCHEMA: &str = include_str!("event.schema.json");
/// The JSON Schema of an event's body (the `body` text, parsed).
const BODY_SCHEMA: &str = include_str!("body.schema.json");

/// One file of an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// Its name in the archive's folder.
    pub name: &'static str,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// An archive's files, and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// The files, `SHA256SUMS` last.
    pub files: Vec<ArchiveFile>,
    /// Events archived.
    pub events: i64,
    /// The checkpoint taken for the archive (the verified head).
    pub checkpoint: Checkpoint,
}

/// The archive of a verified ledger; `checkpoints` (kept elsewhere) are
/// written beside the one taken now, after they were held against it.
pub(crate) fn archive(
    db: &Db,
    verification: &Verification,
    taken: Checkpoint,
    checkpoints: &[Checkpoint],
    path: &str,
) -> Result<Archive> {
    if let Some(problem) = &verification.problem {
        return Err(LedgerError::Tampered(problem.reason.clone()));
    }
    let mut events = String::new();
    for event in crate::export::all_events(db)? {
        let line = serde_json::json!({
            "seq": event.seq,
            "kind": event.kind,
            "at": event.at,
            "initials": event.initials,
            "comment": event.comment,
            "body": event.body,
            "prev_hash": event.prev_hash,
            "hash": event.hash,
            "recorded_at": event.recorded_at,
            "signer": event.signer,
            "meaning": event.meaning,
            "late_reason": event.late_reason,
            "site": event.station.as_ref().map(|station| &station.site),
            "workstation": event.station.as_ref().map(|station| &station.workstation),
        });
        events.push_str(&line.to_string());
        events.push('\n');
    }
    let mut checkpoint_lines = String::new();
    for checkpoint in checkpoints.iter().chain(std::iter::once(&taken)) {
        checkpoint_lines.push_str(&checkpoint.to_json());
        checkpoint_lines.push('\n');
    }
    let format = format_text(path, verification.events, &taken);
    let mut files = vec![
        ArchiveFile {
            name: "events.jsonl",
            bytes: events.into_bytes(),
        },
        ArchiveFile {
            name: "checkpoints.jsonl",
            bytes: checkpoint_lines.into_bytes(),
        },
        ArchiveFile {
            name: "event.schema.json",
            bytes: EVENT_SCHEMA.as_bytes().to_vec(),
        },
        ArchiveFile {
            name: "body.schema.json",
            bytes: BODY_SCHEMA.as_bytes().to_vec(),
        },
        ArchiveFile {
            name: "FORMAT.md",
            bytes: format.into_bytes(),
        },
        ArchiveFile {
            name: "verify.py",
            bytes: VERIFIER.as_bytes().to_vec(),
        },
    ];
    // In the form `sha256sum -c SHA256SUMS` reads.
    let sums: String = files
        .iter()
        .map(|file| format!("{}  {}\n", hex(&Sha256::digest(&file.bytes)), file.name))
        .collect();
    files.push(ArchiveFile {
        name: "SHA256SUMS",
        bytes: sums.into_bytes(),
    });
    Ok(Archive {
        files,
        events: verification.events,
        checkpoint: taken,
    })
}

/// FORMAT.md: what the archive holds and how to check it by hand.
fn format_text(path: &str, events: i64, taken: &Checkpoint) -> String {
    format!(
        r#"# doseprep ledger archive

Archived from `{path}` by doseprep {version} (ledger schema {schema}) at
{taken_at} (UTC): {events} events, the last one's hash (the head)
`{head}`.

## Files

- `events.jsonl`: every event, one JSON object a line, in order. Fields:
  `seq` (1, 2, 3, ... without a gap), `kind`, `at` (when it happened, RFC
  9557: ISO 8601 with its UTC offset, and the IANA zone in brackets where
  one was given), `initials`, `comment` (or null), `body` (the event's
  details as JSON text, exactly as hashed: parse it to read them),
  `prev_hash`, `hash`, `recorded_at` (when it was written, UTC, from the
  clock of the machine that wrote it; null for events of ledger schema 1),
  `signer` and `meaning` (the registered user who signed it and what the
  signature means, e.g. "prepared", "checked"; both null for an event
  recorded with initials, before the ledger kept users), `late_reason`
  (why a signed event was written later than the ledger's late-entry limit
  after it happened; null otherwise), `site` and `workstation` (where it
  was written: both null before the ledger's `set_site` event, both set
  from it on).
  `event.schema.json` is the JSON Schema (2020-12) of a line,
  `body.schema.json` of a parsed body.
- `checkpoints.jsonl`: heads written down at other times (`seq`, `head`,
  `taken_at`), held against the events, and the head at archiving, last.
- `verify.py`: checks all of this with Python 3's standard library only:
  `python3 verify.py`.
- `SHA256SUMS`: the SHA-256 of each other file (`sha256sum -c SHA256SUMS`).

## The hash of an event

`hash` is the SHA-256, as 64 lowercase hex digits, of the UTF-8 bytes of
the compact JSON array

    [seq, kind, at, initials, comment, body, prev_hash, recorded_at, signer, meaning]

for a signed event (`signer` not null), with `late_reason` appended as an
eleventh element where it is not null; for an event recorded with
initials, of the first eight only; for an event with a `site` (ledger
schema 6, from the ledger's `set_site` event on), always of the thirteen
`[seq, kind, at, initials, comment, body, prev_hash, recorded_at, signer,
meaning, late_reason, site, workstation]`, any of `signer`, `meaning` and
`late_reason` null; for an event whose `recorded_at` is
null (ledger schema 1), of the first seven only. Once one event has a
`recorded_at` every later one has.
Compact JSON: no spaces; `seq` a plain integer; a null comment `null`;
`body` one JSON string; characters beyond ASCII written as themselves
(never `\u` escapes); only `"`, `\` and control characters escaped (`\"`,
`\\`, `\n`, `\t`, ..., others as `\u001f` in lowercase hex); `/` not
escaped. Python's `json.dumps(array, separators=(",", ":"),
ensure_ascii=False)` writes exactly this. `prev_hash` is the hash of the
event before, 64 zeros for the first.

Worked example: `[1,"receive","2026-11-20T10:00:00-05:00","MH","réception","{{\"kind\":\"receive\"}}","000…000","2026-11-20T15:02:07Z"]`
(64 zeros) hashes to
`32aca86c18d48dffceccbd4669a87559e53c37d6eddffdf23517028c88ffe658`; the
same without its last element to
`1d4784cfb250836718872825312ca40040d16e3ca37d013f4871167bcb3c2a09`; the
same signed, with `"mhebert","received"` appended, to
`9f30e270c9ddf277800775785484fa2ec3d8b372a754298017f08485715231c9`; and
that, written late with `"transcrit du registre papier"` appended, to
`334daf5e27b31fcf699017863764e3189397cbf70b3434aa83a49a7535be7f87`.

A chain that verifies shows that each event is stored as it was hashed
and follows the event it was recorded after. It cannot show on its own
that the chain was not rewritten from some event on with every hash
recomputed, or cut short: a checkpoint kept elsewhere shows that, up to the
event it names.
"#,
        version = doseprep::VERSION,
        schema = crate::schema::SCHEMA_VERSION,
        taken_at = taken.taken_at,
        head = taken.head,
    )
}
