//! A site's ledger pushed to the trial's central ledger on PostgreSQL: the
//! events the centre lacks, after those it holds, which must be this
//! ledger's own. Idempotent (a push of what the centre holds sends
//! nothing) and resumable (events go in batches, each batch its own
//! transaction: a push killed at any moment leaves whole batches, and the
//! next one sends the rest).

use crate::db::{params, Db, Lock};
use crate::error::{LedgerError, Result};
use crate::event::{Event, EVENT_COLUMNS};
use crate::verify::{Scope, Verification};

/// Events sent a transaction.
const BATCH: usize = 500;

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The site the events were pushed as.
    pub site: String,
    /// Events the centre held already (this ledger's first ones).
    pub held: i64,
    /// Events sent now.
    pub sent: i64,
    /// The site's last event at the centre now, and its hash.
    pub head: Option<(i64, String)>,
}

/// Push the events of the ledger on `local` to the central ledger at
/// `url` as `site`. The ledger is verified whole first: a ledger that does
/// not verify is not pushed.
pub(crate) fn push(
    local: &Db,
    verification: &Verification,
    url: &str,
    site: &str,
) -> Result<Pushed> {
    crate::site::check_site(site)?;
    if let Some(problem) = &verification.problem {
        return Err(LedgerError::Tampered(format!(
            "nothing was pushed: {}",
            problem.reason
        )));
    }
    if verification.scope != Scope::Full {
        return Err(LedgerError::internal(
            "a push follows a full verify".to_owned(),
        ));
    }
    // A ledger is pushed as the site its own chain names, and no other:
    // an unsited ledger could be pushed under two names (its stock counted
    // twice by the sponsor), and two sites' ledgers copied from one
    // template share their first events, so the centre cannot tell them
    // apart by their events before the site was set.
    match crate::tables::Tables::site(local)? {
        Some((ledger_site, _)) if ledger_site != site => {
            return Err(LedgerError::PushSiteDiffers {
                site: site.to_owned(),
                ledger_site,
            })
        }
        Some(_) => {}
        None => return Err(LedgerError::NoSite { event: "push" }),
    }
    let centre = Db::Postgres(Box::new(crate::pg::open_central(url)?));
    let name = crate::pg::redacted(url);
    // A pusher's login pushes the sites it is named for; the server's
    // row-level security refuses the others. Said here first, plainly.
    let allowed: Option<(bool, String)> = centre
        .row(
            "SELECT EXISTS (SELECT FROM site_pusher WHERE site = ?1 AND login = current_user) \
                 OR (SELECT rolsuper OR rolbypassrls FROM pg_catalog.pg_roles \
                     WHERE rolname = current_user) \
                 OR pg_catalog.pg_has_role(current_user, (SELECT tableowner FROM pg_catalog.pg_tables \
                     WHERE schemaname = current_schema() AND tablename = 'site_event'), 'USAGE'), \
                 current_user::text",
            params![site],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|error| error.in_file(&name))?;
    if let Some((false, login)) = allowed {
        return Err(LedgerError::PusherNotForSite {
            login,
            site: site.to_owned(),
        });
    }
    let held: Vec<(i64, String)> = centre
        .rows(
            "SELECT seq, hash FROM site_event WHERE site = ?1 ORDER BY seq",
            params![site],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .map_err(|error| error.in_file(&name))?;
    let events: Vec<Event> = local.rows(
        &format!("SELECT {EVENT_COLUMNS} FROM event ORDER BY seq"),
        params![],
        Event::from_row,
    )?;
    // What the centre holds must be this ledger's first events, as they are.
    let refuse = |seq: i64, reason: String| LedgerError::PushRefused {
        site: site.to_owned(),
        seq,
        reason,
    };
    for (index, (seq, hash)) in held.iter().enumerate() {
        match events.get(index) {
            Some(event) if event.seq == *seq && event.hash == *hash => {}
            Some(event) => {
                return Err(refuse(
                    *seq,
                    format!(
                        "the centre holds event {seq} of site {site} with hash {hash}; this ledger's event {} has hash {} (another ledger pushed as this site, or this one rewritten)",
                        event.seq, event.hash
                    ),
                ))
            }
            None => {
                return Err(refuse(
                    *seq,
                    format!(
                        "the centre holds event {seq} of site {site}; this ledger has {} events (cut short, or another ledger pushed as this site)",
                        events.len()
                    ),
                ))
            }
        }
    }
    let held_count = i64::try_from(held.len())
        .map_err(|_| LedgerError::internal("more events than an i64 counts".to_owned()))?;
    let mut sent = 0;
    let unsent = events.get(held.len()..).ok_or_else(|| {
        LedgerError::internal("the centre holds more events than were matched".to_owned())
    })?;
    // The events before the ledger's site was set, and that event, go in
    // the first batch however many: the centre refuses one another site
    // holds (two ledgers copied from one), and then nothing is sent.
    // (None unsent: the centre holds the set_site event, and the rest name
    // the site.)
    let through_set_site = unsent
        .iter()
        .position(|event| event.kind == "set_site")
        .map_or(0, |set_site| set_site + 1);
    let (first, rest) = unsent.split_at(through_set_site);
    for batch in std::iter::once(first)
        .filter(|first| !first.is_empty())
        .chain(rest.chunks(BATCH))
    {
        send(&centre, site, batch).map_err(|error| error.in_file(&name))?;
        sent += i64::try_from(batch.len())
            .map_err(|_| LedgerError::internal("a batch larger than an i64".to_owned()))?;
    }
    let head = events.last().map(|event| (event.seq, event.hash.clone()));
    Ok(Pushed {
        site: site.to_owned(),
        held: held_count,
        sent,
        head,
    })
}

/// One batch, in one transaction: the centre's triggers check each event's
/// link and hash as it is inserted.
fn send(centre: &Db, site: &str, batch: &[Event]) -> Result<()> {
    centre.transaction(Lock::Sites, |centre| {
        // Under the lock, the site's last event again: another push of the
        // site may have sent this batch meanwhile.
        let last: Option<i64> = centre.one(
            "SELECT max(seq) FROM site_event WHERE site = ?1",
            params![site],
            |row| row.get(0),
        )?;
        let last = last.unwrap_or(0); // fallback-ok: a site with no event yet has sent up to event 0
        let Some(first) = batch.first().map(|event| event.seq) else {
            return Ok(());
        };
        if last != first - 1 {
            return Err(LedgerError::PushRefused {
                site: site.to_owned(),
                seq: first,
                reason: format!(
                    "another push of site {site} ran meanwhile (the centre's last event is now {last}); push again"
                ),
            });
        }
        for event in batch {
            let unsited = event.station.is_none();
            centre.execute(
                "INSERT INTO site_event (site, seq, kind, at, initials, comment, body, prev_hash, \
                 hash, recorded_at, signer, meaning, late_reason, event_site, workstation) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
                params![
                    site,
                    event.seq,
                    &event.kind,
                    &event.at,
                    &event.initials,
                    event.comment.as_deref(),
                    &event.body,
                    &event.prev_hash,
                    &event.hash,
                    event.recorded_at.as_deref(),
                    event.signer.as_deref(),
                    event.meaning.as_deref(),
                    event.late_reason.as_deref(),
                    event.station.as_ref().map(|station| station.site.as_str()),
                    event.station.as_ref().map(|station| station.workstation.as_str())
                ],
            )
            .map_err(|error| match error {
                // The centre's own message (not the server's, which its
                // language setting would translate), under unique_violation.
                LedgerError::Database { detail, .. }
                    if unsited
                        && detail.starts_with("PostgreSQL 23505: site_event_unsited_once:") =>
                {
                    LedgerError::PushRefused {
                        site: site.to_owned(),
                        seq: event.seq,
                        reason: format!(
                            "the centre holds this {} event, written before the ledger's site was set, for another site: the two ledgers were copied from one that had recorded it, and the sponsor would count it at both (start each site's ledger from one with users and settings only)",
                            event.kind
                        ),
                    }
                }
                other => other,
            })?;
        }
        Ok(())
    })
}
