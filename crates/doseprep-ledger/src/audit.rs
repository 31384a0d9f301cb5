//! The periodic review: what an auditor reads for a period, from the
//! events written in it: overrides, short infusions, late and future-dated entries,
//! corrections and destructions with their reasons, and counts that
//! disagreed.

use crate::db::{params, Db};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::error::{LedgerError, Result};
use crate::event::{Body, Event};
use crate::verify::Verification;

/// How far an event's claimed time may be after the moment it was written
/// before the review lists it as future-dated: room for workstation clocks
/// that differ by a little (time kept by NTP agrees within seconds).
pub const FUTURE_TOLERANCE: SignedDuration = SignedDuration::from_mins(5);

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A bag given after its infuse-by time, with the override's reason.
    Override,
    /// An infusion shorter than its site's shortest, with the reason.
    ShortInfusion,
    /// An event written longer after it happened than the review's limit.
    LateEntry,
    /// An event that claims a time after it was written.
    FutureDated,
    /// A bag destroyed, with the reason.
    DestroyedBag,
    /// A planned bag cancelled before it was made, with the reason.
    CancelledBag,
    /// A bag still planned, neither made nor cancelled, past its infuse-by
    /// time when the review runs: its containers stay set aside.
    OpenPlan,
    /// Containers destroyed, with the reason.
    DestroyedContainers,
    /// A count of a lot's containers that differed from the events.
    CountDifference,
    /// A correction of an earlier event, with its reason.
    Correction,
    /// A sign-in or signing refused (unknown user id or wrong passphrase).
    FailedSignIn,
    /// A user registered or disabled, a passphrase changed or reset, or a
    /// setting made, the ledger's site among them (a review of who may
    /// sign, and how).
    AccessChange,
    /// Containers shipped to another site, or received from one (the
    /// chain of custody between sites).
    Shipment,
    /// An event whose time or body does not read (changed behind the
    /// ledger's back; the verification names it too).
    Unreadable,
}

impl FindingKind {
    /// Its name, as the report and scripts read it.
    pub fn name(self) -> &'static str {
        match self {
            FindingKind::Override => "override",
            FindingKind::ShortInfusion => "short_infusion",
            FindingKind::LateEntry => "late_entry",
            FindingKind::FutureDated => "future_dated",
            FindingKind::DestroyedBag => "destroyed_bag",
            FindingKind::CancelledBag => "cancelled_bag",
            FindingKind::OpenPlan => "open_plan",
            FindingKind::DestroyedContainers => "destroyed_containers",
            FindingKind::CountDifference => "count_difference",
            FindingKind::Correction => "correction",
            FindingKind::FailedSignIn => "failed_sign_in",
            FindingKind::Unreadable => "unreadable",
            FindingKind::AccessChange => "access_change",
            FindingKind::Shipment => "shipment",
        }
    }
}

/// One line of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The event.
    pub seq: i64,
    /// What it is.
    pub kind: FindingKind,
    /// The event's method, e.g. "administer".
    pub event: &'static str,
    /// When it happened, as recorded (RFC 9557).
    pub at: String,
    /// The same on the site's wall clock, as the report prints it.
    pub at_wall_clock: String,
    /// When it was written (UTC), where the event kept it.
    pub recorded_at: Option<String>,
    /// Who recorded it.
    pub initials: String,
    /// The user who signed it, where it was signed.
    pub signed_by: Option<String>,
    /// Their full name, from the registry, where it was signed.
    pub signer_name: Option<String>,
    /// What the signature means, where it was signed.
    pub meaning: Option<String>,
    /// What it says: the bag, the containers, the reason, the difference.
    pub detail: String,
}

/// The review of a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// The period's start (events written at or after it), if one.
    pub from: Option<Timestamp>,
    /// The period's end (events written before it), if one.
    pub to: Option<Timestamp>,
    /// An event written more than this after it happened is a late entry.
    pub late_after: SignedDuration,
    /// The ledger's verification, run for the review.
    pub verification: Verification,
    /// Events written in the period.
    pub events: usize,
    /// What the review lists, in event order.
    pub findings: Vec<Finding>,
}

/// When an event was written, for the period: its `recorded_at`, or, for an
/// event of schema 1 that kept none, the time it claims.
fn written(event: &Event) -> Result<Timestamp> {
    let text = event.recorded_at.as_deref().unwrap_or(&event.at); // fallback-ok: schema-1 events kept no recorded_at; the README says a review places them by their claimed time
    doseprep::parse_time("at", text)
        .map(|time| time.timestamp())
        .map_err(|_| {
            LedgerError::Tampered(format!(
                "event {} has the time {text:?}, which does not read",
                event.seq
            ))
        })
}

/// The review of the events written in `[from, to)`, run at `now`.
pub(crate) fn review(
    db: &Db,
    verification: Verification,
    (from, to): (Option<Timestamp>, Option<Timestamp>),
    late_after: SignedDuration,
    now: Timestamp,
) -> Result<AuditReport> {
    let mut findings = Vec::new();
    let mut events = 0;
    let names = crate::users::names(db)?;
    for event in crate::export::all_events(db)? {
        let signer_name = event
            .signer
            .as_ref()
            .and_then(|signer| names.get(signer).cloned());
        // An event whose times or body do not read is listed, whatever the
        // period (its own cannot be told), and the review goes on.
        let readable = written(&event).and_then(|when| {
            let body = event.parsed_body().ok_or_else(|| {
                LedgerError::Tampered(format!(
                    "event {} does not read as a {} event",
                    event.seq, event.kind
                ))
            })?;
            let [at_wall_clock] = crate::state::wall_clocks([("at", &event.at)])?;
            let claimed = doseprep::parse_time("at", &event.at)?.timestamp();
            Ok((when, body, at_wall_clock, claimed))
        });
        let (when, body, at_wall_clock, claimed) = match readable {
            Ok(read) => read,
            Err(error) => {
                findings.push(Finding {
                    seq: event.seq,
                    kind: FindingKind::Unreadable,
                    event: "unreadable",
                    at: event.at.clone(),
                    at_wall_clock: event.at.clone(),
                    recorded_at: event.recorded_at.clone(),
                    initials: event.initials.clone(),
                    signed_by: event.signer.clone(),
                    signer_name: signer_name.clone(),
                    meaning: event.meaning.clone(),
                    detail: error.to_string(),
                });
                continue;
            }
        };
        if from.is_some_and(|from| when < from) || to.is_some_and(|to| when >= to) {
            continue;
        }
        events += 1;
        let mut found = |kind: FindingKind, detail: String| {
            findings.push(Finding {
                seq: event.seq,
                kind,
                event: body.method(),
                at: event.at.clone(),
                at_wall_clock: at_wall_clock.clone(),
                recorded_at: event.recorded_at.clone(),
                initials: event.initials.clone(),
                signed_by: event.signer.clone(),
                signer_name: signer_name.clone(),
                meaning: event.meaning.clone(),
                detail,
            });
        };
        if event.recorded_at.is_some() {
            let delay = when.duration_since(claimed);
            if delay > late_after {
                let why = event
                    .late_reason
                    .as_ref()
                    .map(|reason| format!(": {reason}"))
                    .unwrap_or_default(); // fallback-ok: an entry within the ledger's own limit gave no reason
                found(
                    FindingKind::LateEntry,
                    format!("written {} after the time it gives{why}", span(delay)),
                );
            } else if -delay > FUTURE_TOLERANCE {
                found(
                    FindingKind::FutureDated,
                    format!("written {} before the time it gives", span(-delay)),
                );
            }
        }
        if let Body::Administer {
            bag_id,
            short_reason: Some(reason),
            ..
        } = &body
        {
            found(
                FindingKind::ShortInfusion,
                format!("bag {bag_id}'s infusion ran shorter than its site's shortest: {reason}"),
            );
        }
        match &body {
            Body::Administer {
                bag_id,
                override_reason: Some(reason),
                ..
            } => found(
                FindingKind::Override,
                format!("bag {bag_id} given after its infuse-by time: {reason}"),
            ),
            Body::DestroyBag { bag_id, reason } => {
                found(FindingKind::DestroyedBag, format!("bag {bag_id}: {reason}"))
            }
            Body::CancelBag { bag_id, reason } => {
                found(FindingKind::CancelledBag, format!("bag {bag_id}: {reason}"))
            }
            Body::Plan {
                bag_id, infuse_by, ..
            } => {
                let state: Option<String> = db.row(
                    "SELECT state FROM bag WHERE bag_id = ?1",
                    params![bag_id],
                    |row| row.get(0),
                )?;
                let past = crate::state::instant("infuse_by", infuse_by)? < now;
                if state.as_deref() == Some("planned") && past {
                    let [infuse_by] = crate::state::wall_clocks([("infuse_by", infuse_by)])?;
                    found(
                        FindingKind::OpenPlan,
                        format!(
                            "bag {bag_id} is still planned, neither made nor cancelled, past its \
                             infuse-by time {infuse_by}: its containers stay set aside until it \
                             is cancelled (cancel_bag)"
                        ),
                    );
                }
            }
            Body::DestroyContainers {
                lot_id,
                containers,
                reason,
            } => found(
                FindingKind::DestroyedContainers,
                format!("lot {lot_id}, containers {}: {reason}", listed(containers)),
            ),
            Body::Count {
                lot_id,
                counted,
                expected,
            } if counted != expected => found(
                FindingKind::CountDifference,
                format!(
                    "lot {lot_id}: counted {counted}, the events give {expected} (difference {})",
                    i64::from(*counted) - i64::from(*expected)
                ),
            ),
            Body::Correct {
                seq,
                reason,
                at,
                to,
                ..
            } => found(
                FindingKind::Correction,
                format!(
                    "event {seq}{}{}: {reason}",
                    at.as_ref()
                        .map(|at| format!(", at {at}"))
                        .unwrap_or_default(), // fallback-ok: a field not corrected says nothing
                    to.as_ref()
                        .map(|to| format!(", to {to}"))
                        .unwrap_or_default() // fallback-ok: a field not corrected says nothing
                ),
            ),
            Body::RegisterUser {
                user_id,
                full_name,
                role,
                ..
            } => found(
                FindingKind::AccessChange,
                format!("user {user_id} ({full_name}) registered as {role}"),
            ),
            Body::DisableUser { user_id, reason } => found(
                FindingKind::AccessChange,
                format!("user {user_id} disabled: {reason}"),
            ),
            Body::Configure {
                late_entry_after_min,
            } => found(
                FindingKind::AccessChange,
                format!("late-entry limit set to {late_entry_after_min} min"),
            ),
            Body::ResetPassphrase { user_id } => found(
                FindingKind::AccessChange,
                format!("passphrase of user {user_id} reset by an administrator"),
            ),
            Body::ChangePassphrase { user_id } => found(
                FindingKind::AccessChange,
                format!("user {user_id} changed their passphrase"),
            ),
            Body::SignInFailed { user_id } => found(
                FindingKind::FailedSignIn,
                format!("unknown user id or wrong passphrase for {user_id:?}"),
            ),
            Body::SetSite { site, name } => found(
                FindingKind::AccessChange,
                format!("the ledger's site set to {site} ({name})"),
            ),
            Body::Ship {
                lot_id,
                containers,
                to_site,
            } => found(
                FindingKind::Shipment,
                format!(
                    "lot {lot_id}, containers {} shipped to {to_site}",
                    listed(containers)
                ),
            ),
            Body::Receive {
                lot_id,
                shipment: Some(shipment),
                ..
            } => found(
                FindingKind::Shipment,
                format!(
                    "lot {lot_id} received from {} (its event {}, its containers {})",
                    shipment.from_site,
                    shipment.seq,
                    listed(&shipment.containers)
                ),
            ),
            _ => {}
        }
    }
    Ok(AuditReport {
        from,
        to,
        late_after,
        verification,
        events,
        findings,
    })
}

/// A duration as a person reads it: "3 d 2 h 5 min", "45 min", "20 s".
fn span(duration: SignedDuration) -> String {
    let seconds = duration.as_secs().max(0);
    let (days, hours, minutes) = (seconds / 86_400, seconds / 3_600 % 24, seconds / 60 % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days} d"));
    }
    if hours > 0 {
        parts.push(format!("{hours} h"));
    }
    if minutes > 0 || parts.is_empty() && seconds >= 60 {
        parts.push(format!("{minutes} min"));
    }
    if parts.is_empty() {
        parts.push(format!("{seconds} s"));
    }
    parts.join(" ")
}

impl AuditReport {
    /// The review as text, for the auditor's file: the period, the
    /// ledger's verification, what is not kept yet, and each finding.
    pub fn to_text(&self, path: &str) -> String {
        let bound = |time: Option<Timestamp>, none: &str| {
            time.map_or_else(|| none.to_owned(), |time| time.to_string())
        };
        let mut text = format!(
            "LEDGER REVIEW (unblinded: pharmacy and auditors only)\nledger: {path}\nevents written from {} to {}: {}\n",
            bound(self.from, "the first event"),
            bound(self.to, "the last event"),
            self.events
        );
        match &self.verification.problem {
            None => text.push_str(&format!(
                "chain verified: {} events, head {}\n",
                self.verification.events,
                self.verification
                    .head
                    .as_deref()
                    .unwrap_or("none (no event)")
            )),
            Some(problem) => text.push_str(&format!("chain does NOT verify: {}\n", problem.reason)),
        }
        text.push_str(&format!(
            "late entry: written more than {} after the time it gives; future-dated: more than {} before\n",
            span(self.late_after),
            span(FUTURE_TOLERANCE)
        ));
        text.push_str(&format!("findings: {}\n", self.findings.len()));
        for finding in &self.findings {
            text.push_str(&format!(
                "event {} {} [{}] at {}, written {}, by {}{}: {}\n",
                finding.seq,
                finding.event,
                finding.kind.name(),
                finding.at_wall_clock,
                finding
                    .recorded_at
                    .as_deref()
                    .unwrap_or("(not kept: schema 1)"),
                finding.initials,
                signature(finding),
                finding.detail
            ));
        }
        text
    }
}

/// A finding's signature as a person reads it (21 CFR 11.50): " (signed by
/// Marie Hébert (mh) as prepared)"; nothing for an event recorded with
/// initials.
fn signature(finding: &Finding) -> String {
    let meaning = finding
        .meaning
        .as_ref()
        .map(|meaning| format!(" as {meaning}"))
        .unwrap_or_default(); // fallback-ok: the schema gives a signed event its meaning
    match (&finding.signed_by, &finding.signer_name) {
        (Some(user), Some(name)) => format!(" (signed by {name} ({user}){meaning})"),
        (Some(user), None) => format!(" (signed by {user}, who is not in the registry{meaning})"),
        (None, _) => String::new(),
    }
}

/// Container numbers as a person reads them: "3, 4".
fn listed(containers: &[u32]) -> String {
    containers
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
