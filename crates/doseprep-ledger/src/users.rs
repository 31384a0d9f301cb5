//! People who sign: the user registry, passphrases kept only as argon2id
//! hashes, and what each role may sign (21 CFR 11.50, 11.100, 11.200).
//!
//! A ledger without users records initials, as ledgers did before users
//! were kept. The first user registered is an administrator, unsigned
//! (there is no one yet to sign); from then on every event is signed by a
//! registered user whose role may sign its meaning, and a prepared bag is
//! dispensed only after a second user has signed its check.

use crate::db::{params, Db};
use argon2::password_hash::{phc::PasswordHash, PasswordHasher as _, PasswordVerifier as _};
use argon2::Argon2;

use crate::error::{LedgerError, Result};
use crate::event::Body;

/// Fewest characters in a passphrase: NIST SP 800-63B-4 §3.1.1.2 asks at
/// least 15 of a password that is the only factor.
pub const MIN_PASSPHRASE: usize = 15;

/// Most characters in a passphrase (SP 800-63B-4 asks at least 64 be allowed).
pub const MAX_PASSPHRASE: usize = 256;

/// What a user does; it decides what the user may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Receives, thaws, prepares, checks, dispenses, destroys, returns,
    /// counts and corrects.
    Pharmacist,
    /// Checks prepared bags (the second person).
    Checker,
    /// Records infusions.
    Nurse,
    /// Reads; signs nothing.
    Monitor,
    /// Registers users; handles no product.
    Administrator,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Pharmacist,
        Role::Checker,
        Role::Nurse,
        Role::Monitor,
        Role::Administrator,
    ];

    /// Its name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Pharmacist => "pharmacist",
            Role::Checker => "checker",
            Role::Nurse => "nurse",
            Role::Monitor => "monitor",
            Role::Administrator => "administrator",
        }
    }

    /// The role named `text`.
    pub fn parse(text: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| LedgerError::UnknownRole {
                role: text.chars().take(40).collect(),
            })
    }

    /// Whether a user of this role may sign with `meaning`. Product is
    /// handled by pharmacists, a check is a pharmacist's or a checker's,
    /// an infusion a nurse's, users an administrator's (separate duties).
    pub fn may_sign(self, meaning: Meaning) -> bool {
        match self {
            Role::Pharmacist => !matches!(
                meaning,
                Meaning::Administered
                    | Meaning::Registered
                    | Meaning::Disabled
                    | Meaning::Reset
                    | Meaning::Configured
            ),
            Role::Checker => meaning == Meaning::Checked,
            Role::Nurse => meaning == Meaning::Administered,
            Role::Monitor => false,
            Role::Administrator => matches!(
                meaning,
                Meaning::Registered | Meaning::Disabled | Meaning::Reset | Meaning::Configured
            ),
        }
    }

    /// The meanings this role may sign, for a message.
    fn signs(self) -> String {
        let meanings: Vec<&str> = Meaning::ALL
            .into_iter()
            .filter(|meaning| self.may_sign(*meaning))
            .map(Meaning::as_str)
            .collect();
        if meanings.is_empty() {
            "nothing".to_owned()
        } else {
            meanings.join(", ")
        }
    }
}

/// What a signature means (21 CFR 11.50(a)(3)): one per kind of event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Meaning {
    /// A user registered.
    Registered,
    /// A lot received.
    Received,
    /// Containers thawed.
    Thawed,
    /// A bag prepared.
    Prepared,
    /// A prepared bag checked by a second person.
    Checked,
    /// A bag handed over.
    Dispensed,
    /// A bag infused.
    Administered,
    /// Containers or a bag destroyed.
    Destroyed,
    /// Containers returned.
    Returned,
    /// A lot counted.
    Counted,
    /// An event corrected.
    Corrected,
    /// A user disabled.
    Disabled,
    /// A user's passphrase reset.
    Reset,
    /// A setting of the ledger made.
    Configured,
    /// A bag planned: its label printed, its draws set aside.
    Planned,
    /// A planned bag cancelled before it was made.
    Cancelled,
    /// Containers shipped to another site.
    Shipped,
}

impl Meaning {
    /// Every meaning.
    pub const ALL: [Meaning; 17] = [
        Meaning::Registered,
        Meaning::Received,
        Meaning::Thawed,
        Meaning::Prepared,
        Meaning::Checked,
        Meaning::Dispensed,
        Meaning::Administered,
        Meaning::Destroyed,
        Meaning::Returned,
        Meaning::Counted,
        Meaning::Corrected,
        Meaning::Disabled,
        Meaning::Reset,
        Meaning::Configured,
        Meaning::Planned,
        Meaning::Cancelled,
        Meaning::Shipped,
    ];

    /// Its name, as stored and hashed.
    pub fn as_str(self) -> &'static str {
        match self {
            Meaning::Registered => "registered",
            Meaning::Received => "received",
            Meaning::Thawed => "thawed",
            Meaning::Prepared => "prepared",
            Meaning::Checked => "checked",
            Meaning::Dispensed => "dispensed",
            Meaning::Administered => "administered",
            Meaning::Destroyed => "destroyed",
            Meaning::Returned => "returned",
            Meaning::Counted => "counted",
            Meaning::Corrected => "corrected",
            Meaning::Disabled => "disabled",
            Meaning::Reset => "reset",
            Meaning::Configured => "configured",
            Meaning::Planned => "planned",
            Meaning::Cancelled => "cancelled",
            Meaning::Shipped => "shipped",
        }
    }

    /// What signing `body` means; `None` for a failed sign-in or a
    /// passphrase change, which no one signs.
    pub fn of(body: &Body) -> Option<Meaning> {
        Some(match body {
            Body::RegisterUser { .. } => Meaning::Registered,
            Body::Receive { .. } => Meaning::Received,
            Body::Thaw { .. } => Meaning::Thawed,
            Body::Prepare { .. } | Body::PreparePlanned { .. } => Meaning::Prepared,
            Body::Plan { .. } => Meaning::Planned,
            Body::CancelBag { .. } => Meaning::Cancelled,
            Body::Check { .. } => Meaning::Checked,
            Body::Dispense { .. } => Meaning::Dispensed,
            Body::Administer { .. } => Meaning::Administered,
            Body::DestroyContainers { .. } | Body::DestroyBag { .. } => Meaning::Destroyed,
            Body::Return { .. } => Meaning::Returned,
            Body::Count { .. } => Meaning::Counted,
            Body::Correct { .. } => Meaning::Corrected,
            Body::DisableUser { .. } => Meaning::Disabled,
            Body::ResetPassphrase { .. } => Meaning::Reset,
            Body::Configure { .. } | Body::SetSite { .. } => Meaning::Configured,
            Body::Ship { .. } => Meaning::Shipped,
            // The user's own act, proved by their current passphrase, and
            // a refusal: no one signs either.
            Body::SignInFailed { .. } | Body::ChangePassphrase { .. } => return None,
        })
    }
}

/// A passphrase as typed. It is never stored, printed or hashed into the
/// chain; only its argon2id hash is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct Passphrase(String);

impl Passphrase {
    /// A passphrase as typed (its length is checked when it is set, not
    /// when it is tried: a wrong one of any length just fails, and the
    /// failure is recorded).
    pub fn new(text: &str) -> Passphrase {
        Passphrase(text.to_owned())
    }

    /// This passphrase, if it may be set: 15 to 256 characters.
    pub(crate) fn settable(&self) -> Result<&Passphrase> {
        let length = self.0.chars().count();
        if !(MIN_PASSPHRASE..=MAX_PASSPHRASE).contains(&length) {
            return Err(LedgerError::PassphraseLength {
                length,
                min: MIN_PASSPHRASE,
                max: MAX_PASSPHRASE,
            });
        }
        Ok(self)
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

/// A user to register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The id they sign in with: 1 to 32 lowercase letters, digits, '.',
    /// '-' or '_'; never given to anyone else (21 CFR 11.100(a)).
    pub user_id: String,
    /// Their full name, as printed beside their signature (11.50(a)(1)).
    pub full_name: String,
    /// Their initials, printed on documents.
    pub initials: String,
    /// Their role.
    pub role: Role,
}

impl NewUser {
    /// A user, each field checked.
    pub fn new(user_id: &str, full_name: &str, initials: &str, role: Role) -> Result<NewUser> {
        check_user_id(user_id)?;
        crate::event::check_text("full_name", full_name, "give the user's full name")?;
        crate::event::check_initials(initials)?;
        Ok(NewUser {
            user_id: user_id.to_owned(),
            full_name: full_name.to_owned(),
            initials: initials.to_owned(),
            role,
        })
    }
}

/// A registered user, as the registry holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Their id.
    pub user_id: String,
    /// Their full name.
    pub full_name: String,
    /// Their initials.
    pub initials: String,
    /// Their role.
    pub role: Role,
    /// The event that registered them.
    pub registered_seq: i64,
    /// The event that disabled them, if one did.
    pub disabled_seq: Option<i64>,
}

/// What a failed sign-in keeps of an id that is not registered.
pub(crate) const NOT_REGISTERED: &str = "(not a registered id)";

/// Most characters in a user id.
pub const MAX_USER_ID: usize = 32;

fn check_user_id(user_id: &str) -> Result<()> {
    // A letter first: no id reads as a number or a spreadsheet formula.
    let ok = (1..=MAX_USER_ID).contains(&user_id.len())
        && user_id.starts_with(|c: char| c.is_ascii_lowercase())
        && user_id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(LedgerError::UserId {
            user_id: user_id.chars().take(40).collect(),
            max: MAX_USER_ID,
        })
    }
}

/// A passphrase's argon2id hash, as a PHC string with a fresh random salt
/// and argon2's default cost (19 MiB, 2 passes, 1 lane: OWASP's
/// recommended minimum for argon2id).
pub(crate) fn hash(passphrase: &Passphrase) -> Result<String> {
    Argon2::default()
        .hash_password(passphrase.bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| LedgerError::internal(format!("hashing a passphrase: {error}")))
}

/// Whether `passphrase` is the one `phc` was made from.
fn matches(phc: &str, passphrase: &[u8]) -> Result<bool> {
    let parsed = PasswordHash::new(phc).map_err(|error| {
        LedgerError::Tampered(format!("a stored passphrase hash cannot be read ({error})"))
    })?;
    Ok(Argon2::default()
        .verify_password(passphrase, &parsed)
        .is_ok())
}

/// Whether any user is registered (from then on every event is signed).
pub(crate) fn any(db: &Db) -> Result<bool> {
    crate::tables::Tables::any_users(db)
}

/// The registered user `user_id`, if there is one.
pub(crate) fn find(db: &Db, user_id: &str) -> Result<Option<User>> {
    crate::tables::Tables::user(db, user_id)
}

/// The full name of every registered user (disabled ones too), by id: a
/// signature shown to a person names the signer (21 CFR 11.50(a)(1)).
pub(crate) fn names(db: &Db) -> Result<std::collections::HashMap<String, String>> {
    let mut names = std::collections::HashMap::new();
    db.each("SELECT user_id, full_name FROM user", params![], |row| {
        names.insert(row.get(0)?, row.get(1)?);
        Ok(())
    })?;
    Ok(names)
}

/// Who set user `user_id`'s passphrase, and at which event, where it was
/// not the user: an administrator registering them or resetting it, until
/// they change it. (The first administrator sets their own.)
pub(crate) fn passphrase_set_by_another(db: &Db, user_id: &str) -> Result<Option<(String, i64)>> {
    let last: Option<(i64, String, Option<String>)> = db.row(
        "SELECT seq, kind, signer FROM event \
             WHERE kind IN ('register_user', 'reset_passphrase', 'change_passphrase') \
             AND json_extract(body, '$.user_id') = ?1 ORDER BY seq DESC LIMIT 1",
        params![user_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    Ok(match last {
        Some((seq, kind, Some(administrator))) if kind != "change_passphrase" => {
            Some((administrator, seq))
        }
        _ => None,
    })
}

/// Every registered user, in order of registration.
pub(crate) fn all(db: &Db) -> Result<Vec<User>> {
    let ids: Vec<String> = db.rows(
        "SELECT user_id FROM user ORDER BY registered_seq",
        params![],
        |row| row.get(0),
    )?;
    ids.iter()
        .filter_map(|id| find(db, id).transpose())
        .collect()
}

/// Whether `passphrase` is registered user `user_id`'s (false for a user
/// who is not registered: the caller cannot tell which was wrong).
pub(crate) fn authenticates(db: &Db, user_id: &str, passphrase: &[u8]) -> Result<bool> {
    let phc: Option<String> = db.row(
        "SELECT phc FROM credential WHERE user_id = ?1",
        params![user_id],
        |row| row.get(0),
    )?;
    match phc {
        Some(phc) => matches(&phc, passphrase),
        // As long as a registered id takes: the time does not tell an
        // unknown id from a wrong passphrase.
        None => matches(UNKNOWN_USER_PHC, passphrase).map(|_| false),
    }
}

/// An argon2id hash (the default cost) of a passphrase no user has, tried
/// for an unknown user id.
const UNKNOWN_USER_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$RXB66xur5TQQ44axnVIPrA$H9GoBkA4xPP/7OnYSrxjzBKLAeplyx+azR8Ti8zUPPc";

/// Whether an event of `body` under `initials`, signed by `signer` with
/// `meaning` (both `None` where it is not signed), may be recorded after
/// the events so far.
pub(crate) fn check_signature(
    tables: &dyn crate::tables::Tables,
    body: &Body,
    initials: &str,
    signer: Option<&str>,
    meaning: Option<&str>,
) -> Result<()> {
    let expected = Meaning::of(body);
    let registry = tables.any_users()?;
    match (signer, expected) {
        // No one signs a failed sign-in or a passphrase change; there is
        // one only once users are kept.
        (None, None) if registry => Ok(()),
        (None, None) => Err(LedgerError::NoUsers { event: body.kind() }),
        (Some(_), None) => Err(LedgerError::Tampered(format!(
            "a {} event is signed, but no one signs one",
            body.kind()
        ))),
        // Before the first user, events carry initials only; the first
        // user registered is an administrator, and a check is always a
        // second person's signature.
        (None, Some(_)) if !registry => match body {
            Body::RegisterUser { role, .. } if role != Role::Administrator.as_str() => {
                Err(LedgerError::FirstUserNotAdministrator { role: role.clone() })
            }
            // A check is a second person's signature; a setting is an
            // administrator's.
            Body::Check { .. } | Body::Configure { .. } => {
                Err(LedgerError::NoUsers { event: body.kind() })
            }
            // The first administrator registers under their own initials.
            Body::RegisterUser { initials: own, .. } if own != initials => {
                Err(LedgerError::Tampered(format!(
                    "the first user is registered unsigned under the initials {initials:?}, not their own {own:?}"
                )))
            }
            _ => Ok(()),
        },
        (None, Some(meaning)) => Err(LedgerError::SignatureRequired {
            event: body.kind(),
            meaning: meaning.as_str(),
        }),
        (Some(signer), Some(expected)) => {
            if meaning != Some(expected.as_str()) {
                return Err(LedgerError::Tampered(format!(
                    "a {} event is signed as {:?}; it means {}",
                    body.kind(),
                    meaning.unwrap_or("nothing"), // fallback-ok: names a missing meaning in a message
                    expected.as_str()
                )));
            }
            let Some(user) = tables.user(signer)? else {
                return Err(LedgerError::UnknownUser {
                    user_id: signer.to_owned(),
                });
            };
            if let Some(seq) = user.disabled_seq {
                return Err(LedgerError::UserDisabled {
                    user_id: user.user_id,
                    seq,
                });
            }
            // A signed event carries its signer's initials from the registry.
            if user.initials != initials {
                return Err(LedgerError::Tampered(format!(
                    "a {} event signed by {} carries the initials {initials:?}, not theirs ({:?})",
                    body.kind(),
                    user.user_id,
                    user.initials
                )));
            }
            if !user.role.may_sign(expected) {
                return Err(LedgerError::RoleMayNotSign {
                    user_id: user.user_id,
                    role: user.role.as_str(),
                    meaning: expected.as_str(),
                    signs: user.role.signs(),
                });
            }
            if let Body::DisableUser { user_id, .. } = body {
                if user_id == signer {
                    return Err(LedgerError::DisableSelf {
                        user_id: user_id.clone(),
                    });
                }
            }
            // Four eyes: the check is another user's than the preparation.
            if let Body::Check { bag_id } = body {
                if let Some(prepared) = tables.bag(bag_id)?.and_then(|bag| bag.made_seq) {
                    // A bag prepared before the ledger kept users names its
                    // preparer by initials only: the checker's differ.
                    let same = match tables.author(prepared)? {
                        (Some(preparer), _) => preparer == signer,
                        (None, preparer_initials) => preparer_initials == user.initials,
                    };
                    if same {
                        return Err(LedgerError::SameChecker {
                            bag_id: bag_id.clone(),
                            user_id: signer.to_owned(),
                        });
                    }
                }
            }
            Ok(())
        }
    }
}
