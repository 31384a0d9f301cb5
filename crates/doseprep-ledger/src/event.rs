//! Events: what each kind holds, who recorded it and when, and the hash
//! that chains it to the one before.

use jiff::ZonedDateTime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{LedgerError, Result};

/// The previous hash of the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Longest comment, reason or recipient, in characters.
pub const MAX_TEXT: usize = 1000;

/// Who records an event: initials, in a ledger without users; in one with
/// users, the passphrase of the user signed in (the second component of
/// a signing in one session, 21 CFR 11.200(a)(1)(i)).
#[derive(Debug, Clone, PartialEq)]
pub enum By {
    /// The initials of the person recording (a ledger without users).
    Initials(String),
    /// The signed-in user's passphrase, given again for this signing.
    Passphrase(crate::users::Passphrase),
}

/// Who recorded an event, when it happened, and an optional comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// When the event happened (an aware time; kept with its zone).
    pub at: ZonedDateTime,
    /// Who records it.
    pub by: By,
    /// A comment.
    pub comment: Option<String>,
    /// Why it is recorded later than the ledger's late-entry limit after it
    /// happened, where it is.
    pub late_reason: Option<String>,
}

impl Entry {
    /// The same entry, recorded late for `reason` (needed where the ledger
    /// has a late-entry limit and the entry is written beyond it).
    pub fn with_late_reason(self, reason: &str) -> Result<Entry> {
        check_text("late_reason", reason, "say why the event is recorded late")?;
        Ok(Entry {
            late_reason: Some(reason.to_owned()),
            ..self
        })
    }

    /// An entry recorded with initials, its initials and comment checked.
    pub fn new(at: ZonedDateTime, initials: &str, comment: Option<&str>) -> Result<Entry> {
        check_initials(initials)?;
        Entry::by(at, By::Initials(initials.to_owned()), comment)
    }

    /// An entry signed by the user signed in, with their passphrase.
    pub fn signed(
        at: ZonedDateTime,
        passphrase: crate::users::Passphrase,
        comment: Option<&str>,
    ) -> Result<Entry> {
        Entry::by(at, By::Passphrase(passphrase), comment)
    }

    /// An entry by `by` (its initials already checked).
    pub(crate) fn by(at: ZonedDateTime, by: By, comment: Option<&str>) -> Result<Entry> {
        if let Some(comment) = comment {
            check_text("comment", comment, "shorten the comment or leave it out")?;
        }
        Ok(Entry {
            at,
            by,
            comment: comment.map(str::to_owned),
            late_reason: None,
        })
    }
}

/// An infusion as the nurse records it: when it started and ended (aware
/// times, kept with their zone), and the reasons it needs where it needs
/// them.
#[derive(Debug, Clone, PartialEq)]
pub struct Infusion {
    /// When it started.
    pub started_at: ZonedDateTime,
    /// When it ended.
    pub ended_at: ZonedDateTime,
    /// Why it ended after the bag's infuse-by time, where it did.
    pub override_reason: Option<String>,
    /// Why it ran shorter than the bag's `site.shortest_infusion`, where it did.
    pub short_reason: Option<String>,
}

/// Initials: 1 to 8 letters, digits, '.' or '-'.
pub(crate) fn check_initials(initials: &str) -> Result<()> {
    let initials_ok = (1..=8).contains(&initials.chars().count())
        && initials
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if initials_ok {
        Ok(())
    } else {
        Err(LedgerError::Initials {
            initials: initials.chars().take(40).collect(),
        })
    }
}

/// A free text of 1 to `MAX_TEXT` characters.
pub(crate) fn check_text(field: &'static str, text: &str, fix: &'static str) -> Result<()> {
    let length = text.chars().count();
    if length == 0 || length > MAX_TEXT || text.trim().is_empty() {
        return Err(LedgerError::Text {
            field,
            value: text.chars().take(40).collect(),
            max: MAX_TEXT,
            fix,
        });
    }
    // Line breaks and tabs are text; other control characters are not
    // (PostgreSQL refuses NUL, and no printout shows them).
    if let Some(control) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(LedgerError::ControlCharacter {
            field,
            value: text.chars().take(40).collect(),
            character: u32::from(control),
        });
    }
    Ok(())
}

/// A container its session thaws, for each bag of the session (active or
/// placebo alike), by its number in the lot as received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionContainer {
    /// The lot.
    pub lot_id: String,
    /// The container's number in the lot as received.
    pub container: u32,
}

/// A container drawn from for a bag: volumes in µL, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draw {
    /// The lot.
    pub lot_id: String,
    /// The container's number in the lot as received.
    pub container: u32,
    /// The volume drawn, µL.
    pub volume_ul: u64,
}

/// Defines [`Body`] and, from the same variants, its reader by kind: the
/// body's JSON is internally tagged (`{"kind": "thaw", ...}`), and serde
/// reads an internally tagged enum by buffering every value first (the
/// preparation record, most of a ledger's bytes, twice over). The reader
/// takes the kind from the body's first key and reads the rest straight
/// into its variant.
macro_rules! bodies {
    ($(#[$meta:meta])* pub enum Body { $($variants:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "kind", rename_all = "snake_case")]
        pub enum Body { $($variants)* }

        /// [`Body`]'s variants read externally tagged, by kind.
        #[derive(Deserialize)]
        #[serde(remote = "Body", rename_all = "snake_case", deny_unknown_fields)]
        #[allow(dead_code, reason = "read by serde's remote derive only")]
        enum BodyByKind { $($variants)* }
    };
}

bodies! {
/// What an event records. The JSON of this is the event's body; `kind`
/// is also its own column.
pub enum Body {
    /// A lot received into the freezer.
    Receive {
        /// The lot.
        lot_id: String,
        /// Containers received, numbered on from `first_container`.
        containers: u32,
        /// The first container's number: 1 for a lot's first receipt; a
        /// later shipment of the same lot is numbered on. (Events written
        /// before receipts were numbered on lack it: they were first receipts.)
        #[serde(default = "first_receipt")]
        first_container: u32,
        /// Each container's volume, µL.
        container_ul: u64,
        /// What each yields, µL (the container volume if not stated).
        yield_ul: u64,
        /// Expiry, RFC 9557.
        expires_at: Option<String>,
        /// The shipment from another site it arrived by, where it did
        /// (absent from a receipt from the sponsor or depot).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shipment: Option<Shipment>,
    },
    /// Containers thawed.
    Thaw {
        /// The lot.
        lot_id: String,
        /// The containers.
        containers: Vec<u32>,
    },
    /// A bag prepared.
    Prepare {
        /// The bag id.
        bag_id: String,
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// "active" or "placebo".
        content: String,
        /// When its cells were thawed (its session's thaw), RFC 9557.
        thawed_at: String,
        /// The bag's infuse-by time, RFC 9557.
        infuse_by: String,
        /// Its ISBT 128 DIN, where the protocol prints one.
        din: Option<String>,
        /// The final volume, µL.
        final_ul: u64,
        /// The containers drawn from.
        draws: Vec<Draw>,
        /// The preparation record (its JSON, as stored).
        record: RecordJson,
    },
    /// A bag planned (a day's plan recorded as planned): its label and
    /// worksheet printed, its draws set aside, nothing made yet. Its
    /// preparation is recorded when it is done (`prepare_planned`); a plan
    /// not made is cancelled (`cancel_bag`). The same fields as a
    /// preparation: the record is the plan's.
    Plan {
        /// The bag id.
        bag_id: String,
        /// The participant.
        participant: String,
        /// The visit.
        visit: String,
        /// "active" or "placebo".
        content: String,
        /// When its session's containers are to be thawed, RFC 9557: its
        /// infuse-by time counts from it.
        thawed_at: String,
        /// The bag's infuse-by time, RFC 9557.
        infuse_by: String,
        /// Its ISBT 128 DIN, where the protocol prints one.
        din: Option<String>,
        /// The final volume, µL.
        final_ul: u64,
        /// The containers it is to draw from.
        draws: Vec<Draw>,
        /// Every container its session thaws, the same for an active bag
        /// and its placebo twin: a thaw before the session's time refuses
        /// every bag of the session alike.
        session_containers: Vec<SessionContainer>,
        /// The preparation record (its JSON, as stored).
        record: RecordJson,
    },
    /// A planned bag prepared, as planned, when it was done.
    PreparePlanned {
        /// The bag id.
        bag_id: String,
    },
    /// A planned bag cancelled before it was made: its draws go back to
    /// what its containers hold, and its visit may be planned again.
    CancelBag {
        /// The bag id.
        bag_id: String,
        /// Why (its containers thawed earlier than planned, the visit
        /// moved, ...).
        reason: String,
    },
    /// A bag handed over.
    Dispense {
        /// The bag id.
        bag_id: String,
        /// To whom (a name, a ward).
        to: String,
    },
    /// A bag infused.
    Administer {
        /// The bag id.
        bag_id: String,
        /// The participant it was given to.
        participant: String,
        /// Start of the infusion, RFC 9557.
        started_at: String,
        /// End of the infusion, RFC 9557.
        ended_at: String,
        /// Why it was given after its infuse-by time, where it was.
        override_reason: Option<String>,
        /// Why it ran shorter than its site's shortest infusion, where it
        /// did (absent from events written before the rule).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        short_reason: Option<String>,
    },
    /// Containers destroyed (from stock, or what is left after a thaw).
    DestroyContainers {
        /// The lot.
        lot_id: String,
        /// The containers.
        containers: Vec<u32>,
        /// Why.
        reason: String,
    },
    /// A bag destroyed.
    DestroyBag {
        /// The bag id.
        bag_id: String,
        /// Why.
        reason: String,
    },
    /// Containers returned (to the sponsor or the depot).
    Return {
        /// The lot.
        lot_id: String,
        /// The containers.
        containers: Vec<u32>,
    },
    /// A correction of an earlier event: the fields it gives supersede
    /// that event's, which stays as it was recorded.
    Correct {
        /// The event corrected.
        seq: i64,
        /// Why.
        reason: String,
        /// When the event happened, corrected (RFC 9557).
        at: Option<String>,
        /// Who received the bag (a dispense), corrected.
        to: Option<String>,
        /// The corrected event's bag, if it concerns one (so the bag's
        /// events list its corrections).
        bag_id: Option<String>,
        /// The corrected event's lot, if it names one.
        lot_id: Option<String>,
    },
    /// A user registered: from the first, every event is signed.
    RegisterUser {
        /// The id they sign in with.
        user_id: String,
        /// Their full name.
        full_name: String,
        /// Their initials.
        initials: String,
        /// Their role.
        role: String,
    },
    /// A prepared bag checked by a second person, before it is dispensed.
    Check {
        /// The bag id.
        bag_id: String,
    },
    /// A user disabled: they sign nothing from then on, and their
    /// passphrase hash is deleted.
    DisableUser {
        /// The user.
        user_id: String,
        /// Why (left the pharmacy, a passphrase disclosed, ...).
        reason: String,
    },
    /// A user's passphrase changed by the user, who gave the current one.
    ChangePassphrase {
        /// The user.
        user_id: String,
    },
    /// The ledger's late-entry limit set (a site setting, kept where it is
    /// enforced): an event written more than this after the time it gives
    /// needs a reason.
    Configure {
        /// The limit, whole minutes.
        late_entry_after_min: u32,
    },
    /// A user's passphrase reset by an administrator (the user forgot it),
    /// who gives the new one to the user.
    ResetPassphrase {
        /// The user.
        user_id: String,
    },
    /// A sign-in or signing refused: an unknown user id or a wrong
    /// passphrase (which of the two is not said, nor kept).
    SignInFailed {
        /// The user id given, where it is a registered one; otherwise
        /// "(not a registered id)" (text typed into the id field may be a
        /// passphrase, and the chain keeps what it holds for good).
        user_id: String,
    },
    /// The ledger's site set, once: from this event on, every event
    /// carries the site and the workstation that wrote it.
    SetSite {
        /// The site's code, as the trial names it (`JGH`, `APHP`).
        site: String,
        /// The site's name, as printed (`Jewish General Hospital`).
        name: String,
    },
    /// Containers in stock shipped to another site: they leave this site's
    /// stock, and the other site's receipt names this event.
    Ship {
        /// The lot.
        lot_id: String,
        /// The containers.
        containers: Vec<u32>,
        /// The site they go to (its code).
        to_site: String,
    },
    /// A count of a lot's containers on hand.
    Count {
        /// The lot.
        lot_id: String,
        /// Containers counted.
        counted: u32,
        /// Containers the events say are on hand.
        expected: u32,
    },
}
}

/// The shipment a receipt came by: the sending site, its `ship` event, and
/// the sending site's numbers of the containers, in the order this receipt
/// numbers them (its first container is the first listed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipment {
    /// The sending site's code.
    pub from_site: String,
    /// The sending site's `ship` event.
    pub seq: i64,
    /// The containers as the sending site numbered them.
    pub containers: Vec<u32>,
}

/// A preparation record's JSON, kept as the text stored (keys sorted, as
/// the ledger has always written it), not read into values until a
/// document needs the record.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecordJson(Box<serde_json::value::RawValue>);

impl RecordJson {
    /// The JSON of `record`, keys sorted.
    pub(crate) fn of(record: &doseprep::PreparationRecord) -> Result<RecordJson> {
        let internal = |e: serde_json::Error| LedgerError::internal(format!("record JSON: {e}"));
        // Through a value, whose object keys are sorted: the stored form.
        let value: serde_json::Value =
            serde_json::from_str(&record.to_json()?).map_err(internal)?;
        serde_json::value::to_raw_value(&value)
            .map(RecordJson)
            .map_err(internal)
    }

    /// JSON `null`, where a record is left out.
    pub(crate) fn null() -> RecordJson {
        RecordJson(serde_json::value::RawValue::NULL.to_owned())
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for RecordJson {
    fn eq(&self, other: &RecordJson) -> bool {
        self.get() == other.get()
    }
}

/// A body's JSON read as its kind's variant: the text is `{"kind":"<kind>"`
/// then the variant's fields, as [`Body`] writes it.
struct ByKind<'a> {
    kind: &'a str,
    fields: &'a str,
}

impl<'de> serde::Deserializer<'de> for ByKind<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        self,
        _visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("a body is read as an enum"))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de> serde::de::EnumAccess<'de> for ByKind<'de> {
    type Error = serde_json::Error;
    type Variant = ByKind<'de>;

    fn variant_seed<V: serde::de::DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> std::result::Result<(V::Value, Self::Variant), Self::Error> {
        let variant =
            seed.deserialize(serde::de::value::BorrowedStrDeserializer::new(self.kind))?;
        Ok((variant, self))
    }
}

impl<'de> serde::de::VariantAccess<'de> for ByKind<'de> {
    type Error = serde_json::Error;

    fn unit_variant(self) -> std::result::Result<(), Self::Error> {
        Err(serde::de::Error::custom("every body has fields"))
    }

    fn newtype_variant_seed<T: serde::de::DeserializeSeed<'de>>(
        self,
        _seed: T,
    ) -> std::result::Result<T::Value, Self::Error> {
        Err(serde::de::Error::custom("every body has named fields"))
    }

    fn tuple_variant<V: serde::de::Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("every body has named fields"))
    }

    fn struct_variant<V: serde::de::Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, Self::Error> {
        use serde::Deserializer as _;
        let mut reader = serde_json::Deserializer::from_str(self.fields);
        let value = reader.deserialize_struct("", fields, visitor)?;
        reader.end()?;
        Ok(value)
    }
}

impl Body {
    /// A body read back from its JSON, `None` where the text is not a body
    /// as the ledger writes it (its kind first, then its kind's fields).
    pub fn from_json(text: &str) -> Option<Body> {
        Body::from_json_in(text, &mut String::new())
    }

    /// [`Body::from_json`], the fields copied into `fields` (a buffer kept
    /// by a caller that reads many: a body can be kilobytes).
    pub(crate) fn from_json_in(text: &str, fields: &mut String) -> Option<Body> {
        let rest = text.strip_prefix(r#"{"kind":""#)?;
        let (kind, rest) = rest.split_once('"')?;
        // The fields without the kind, as an object of their own.
        fields.clear();
        match rest.strip_prefix(',') {
            Some(rest) => {
                fields.push('{');
                fields.push_str(rest);
            }
            None if rest == "}" => fields.push_str("{}"),
            None => return None,
        }
        BodyByKind::deserialize(ByKind { kind, fields }).ok()
    }

    /// The kind, as in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::Receive { .. } => "receive",
            Body::Thaw { .. } => "thaw",
            Body::Prepare { .. } => "prepare",
            Body::Dispense { .. } => "dispense",
            Body::Administer { .. } => "administer",
            Body::DestroyContainers { .. } => "destroy_containers",
            Body::DestroyBag { .. } => "destroy_bag",
            Body::Return { .. } => "return",
            Body::Count { .. } => "count",
            Body::Correct { .. } => "correct",
            Body::RegisterUser { .. } => "register_user",
            Body::Check { .. } => "check",
            Body::SignInFailed { .. } => "sign_in_failed",
            Body::DisableUser { .. } => "disable_user",
            Body::ChangePassphrase { .. } => "change_passphrase",
            Body::ResetPassphrase { .. } => "reset_passphrase",
            Body::Configure { .. } => "configure",
            Body::Plan { .. } => "plan",
            Body::PreparePlanned { .. } => "prepare_planned",
            Body::CancelBag { .. } => "cancel_bag",
            Body::SetSite { .. } => "set_site",
            Body::Ship { .. } => "ship",
        }
    }

    /// The name of the ledger method that records it, as exports show it
    /// (the stored `kind`, hashed into the chain, keeps its first names
    /// `return` and `count`).
    pub fn method(&self) -> &'static str {
        match self {
            Body::Return { .. } => "return_containers",
            Body::Count { .. } => "reconcile",
            other => other.kind(),
        }
    }

    /// The lot it concerns, if one.
    pub fn lot_id(&self) -> Option<&str> {
        match self {
            Body::Receive { lot_id, .. }
            | Body::Thaw { lot_id, .. }
            | Body::DestroyContainers { lot_id, .. }
            | Body::Return { lot_id, .. }
            | Body::Ship { lot_id, .. }
            | Body::Count { lot_id, .. } => Some(lot_id),
            Body::Correct { lot_id, .. } => lot_id.as_deref(),
            _ => None,
        }
    }

    /// The bag it concerns, if one.
    pub fn bag_id(&self) -> Option<&str> {
        match self {
            Body::Prepare { bag_id, .. }
            | Body::Plan { bag_id, .. }
            | Body::PreparePlanned { bag_id }
            | Body::CancelBag { bag_id, .. }
            | Body::Dispense { bag_id, .. }
            | Body::Administer { bag_id, .. }
            | Body::DestroyBag { bag_id, .. }
            | Body::Check { bag_id } => Some(bag_id),
            Body::Correct { bag_id, .. } => bag_id.as_deref(),
            _ => None,
        }
    }

    /// The body's JSON, as stored.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| LedgerError::internal(format!("event JSON: {e}")))
    }
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its number: 1, 2, 3, ... without gaps.
    pub seq: i64,
    /// Its kind.
    pub kind: String,
    /// When it happened, RFC 9557.
    pub at: String,
    /// Who recorded it.
    pub initials: String,
    /// A comment.
    pub comment: Option<String>,
    /// Its body's JSON.
    pub body: String,
    /// The hash of the event before.
    pub prev_hash: String,
    /// Its own hash.
    pub hash: String,
    /// When it was written, RFC 3339 in UTC to the second, from the clock of
    /// the machine that wrote it (`None` for events of schema 1).
    pub recorded_at: Option<String>,
    /// The user who signed it (`None` for an event recorded with initials).
    pub signer: Option<String>,
    /// What the signature means ("prepared", "checked", ...), where signed.
    pub meaning: Option<String>,
    /// Why it was written late, where the ledger's limit asked for a reason.
    pub late_reason: Option<String>,
    /// Where it was written: the site (the ledger's, from its `set_site`
    /// event on) and the workstation that wrote it; `None` for an event
    /// of a ledger without a site.
    pub station: Option<Station>,
}

/// The site and workstation an event was written at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Station {
    /// The site's code (`JGH`, `APHP`), as the ledger's `set_site` gave it.
    pub site: String,
    /// The workstation, as the writer named it (`pharmacy-bench-2`).
    pub workstation: String,
}

impl Event {
    /// The SHA-256 this event must have: of the compact JSON array
    /// `[seq, kind, at, initials, comment, body, prev_hash, recorded_at,
    /// signer, meaning, late_reason, site, workstation]` (13 elements, any
    /// of signer, meaning and late_reason null) for an event written at a
    /// station (schema 6); otherwise of the first ten for a signed event,
    /// with `late_reason` appended where it has one; of the first eight for
    /// one recorded with initials; of the first seven for an event written
    /// before the ledger kept `recorded_at` (schema 1). Each form has its
    /// own length, so no event hashes as one of another form.
    pub fn expected_hash(&self) -> String {
        self.hash_as(self.seq)
    }

    /// The hash the event would have had as event `seq`.
    pub(crate) fn hash_as(&self, seq: i64) -> String {
        hex(&Sha256::digest(self.hash_input(seq)))
    }

    /// Whether the stored hash is the hash of the stored fields, the hash's
    /// array written into `buffer` (kept by a caller that checks many).
    pub(crate) fn hash_matches_in(&self, buffer: &mut Vec<u8>) -> bool {
        self.hash_input_into(self.seq, buffer);
        hex(&Sha256::digest(buffer.as_slice())) == self.hash
    }

    /// The compact JSON array the hash is of, as event `seq`, in one buffer:
    /// serde_json hands its writer the escaped body in hundreds of small
    /// pieces, cheap into memory and dear into a hasher (a test holds the
    /// array to serde_json's own, byte for byte).
    pub(crate) fn hash_input(&self, seq: i64) -> Vec<u8> {
        let mut input = Vec::new();
        self.hash_input_into(seq, &mut input);
        input
    }

    /// [`Event::hash_input`], written into `input` (emptied first).
    fn hash_input_into(&self, seq: i64, input: &mut Vec<u8>) {
        fn optional(text: &Option<String>) -> Json<'_> {
            text.as_deref().map_or(Json::Null, Json::Text)
        }
        let mut elements = vec![
            Json::Integer(seq),
            Json::Text(&self.kind),
            Json::Text(&self.at),
            Json::Text(&self.initials),
            optional(&self.comment),
            Json::Text(&self.body),
            Json::Text(&self.prev_hash),
        ];
        let signed = self.signer.is_some() || self.meaning.is_some();
        if let Some(station) = &self.station {
            // At a station (schema 6 on): thirteen elements, always.
            elements.extend([
                optional(&self.recorded_at),
                optional(&self.signer),
                optional(&self.meaning),
                optional(&self.late_reason),
                Json::Text(&station.site),
                Json::Text(&station.workstation),
            ]);
        } else if signed || self.late_reason.is_some() {
            // Signed (schema 3 on): ten elements, recorded_at null only in
            // an event changed behind the ledger's back; eleven where it was
            // written late, with its reason.
            elements.extend([
                optional(&self.recorded_at),
                optional(&self.signer),
                optional(&self.meaning),
            ]);
            if let Some(late_reason) = &self.late_reason {
                elements.push(Json::Text(late_reason));
            }
        } else if let Some(recorded_at) = &self.recorded_at {
            // Recorded with initials (schema 2 on): eight elements; an event
            // of schema 1, without recorded_at, has seven.
            elements.push(Json::Text(recorded_at));
        }
        let length: usize = elements.iter().map(Json::length_hint).sum();
        input.clear();
        input.reserve(length + elements.len() + 2);
        input.push(b'[');
        for (index, element) in elements.iter().enumerate() {
            if index > 0 {
                input.push(b',');
            }
            element.write(input);
        }
        input.push(b']');
    }

    /// Whether the stored hash is the hash of the stored fields.
    pub fn hash_matches(&self) -> bool {
        self.expected_hash() == self.hash
    }

    /// The body, read back.
    pub fn parsed_body(&self) -> Option<Body> {
        self.parsed_body_in(&mut String::new())
    }

    /// [`Event::parsed_body`], its fields copied into `fields` (see
    /// [`Body::from_json_in`]).
    pub(crate) fn parsed_body_in(&self, fields: &mut String) -> Option<Body> {
        Body::from_json_in(&self.body, fields).filter(|body| body.kind() == self.kind)
    }

    pub(crate) fn from_row(row: &crate::db::Row<'_>) -> Result<Event> {
        Ok(Event {
            seq: row.get(0)?,
            kind: row.get(1)?,
            at: row.get(2)?,
            initials: row.get(3)?,
            comment: row.get(4)?,
            body: row.get(5)?,
            prev_hash: row.get(6)?,
            hash: row.get(7)?,
            recorded_at: row.get(8)?,
            signer: row.get(9)?,
            meaning: row.get(10)?,
            late_reason: row.get(11)?,
            station: match (
                row.get::<Option<String>>(12)?,
                row.get::<Option<String>>(13)?,
            ) {
                (Some(site), Some(workstation)) => Some(Station { site, workstation }),
                (None, None) => None,
                // The schema's CHECK holds both or neither.
                _ => {
                    return Err(LedgerError::Tampered(
                        "an event names a site without a workstation, or one without the other"
                            .to_owned(),
                    ))
                }
            },
        })
    }
}

impl Event {
    /// Store the event as it is (its hash included).
    pub(crate) fn insert(&self, db: &crate::db::Db) -> Result<()> {
        db.execute(
            &format!(
                "INSERT INTO event ({EVENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            crate::db::params![
                self.seq,
                self.kind,
                self.at,
                self.initials,
                self.comment,
                self.body,
                self.prev_hash,
                self.hash,
                self.recorded_at,
                self.signer,
                self.meaning,
                self.late_reason,
                self.station.as_ref().map(|station| station.site.as_str()),
                self.station.as_ref().map(|station| station.workstation.as_str())
            ],
        )?;
        Ok(())
    }
}

/// The columns `Event::from_row` reads, in order.
pub(crate) const EVENT_COLUMNS: &str =
    "seq, kind, at, initials, comment, body, prev_hash, hash, recorded_at, signer, meaning, late_reason, site, workstation";

/// A hash fed as an `io::Write`.
/// An element of the hash's array: compact JSON as serde_json writes it.
enum Json<'a> {
    Integer(i64),
    Text(&'a str),
    Null,
}

impl Json<'_> {
    fn length_hint(&self) -> usize {
        match self {
            Json::Integer(_) => 20,
            Json::Text(text) => text.len() + text.len() / 8 + 2,
            Json::Null => 4,
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Json::Integer(number) => out.extend_from_slice(number.to_string().as_bytes()),
            Json::Null => out.extend_from_slice(b"null"),
            Json::Text(text) => write_json_string(out, text),
        }
    }
}

/// `text` as a JSON string, escaped exactly as serde_json escapes it (a
/// test compares the two on any text): `"` and `\` backslashed, the
/// control characters U+0000 to U+001F as `\b`, `\t`, `\n`, `\f`, `\r` or
/// `\u00xx` (lowercase hex), everything else as it is in UTF-8. Eight bytes
/// at a time where none needs an escape: a verify escapes every event's
/// body, kilobytes of JSON, into its hash's array.
fn write_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let mut rest = text.as_bytes();
    while let Some((run, byte, after)) = split_at_escape(rest) {
        out.extend_from_slice(run);
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            _ => {
                let hex = |nibble: u8| match nibble {
                    0..=9 => b'0' + nibble,
                    _ => b'a' + (nibble - 10),
                };
                out.extend_from_slice(b"\\u00");
                out.extend_from_slice(&[hex(byte >> 4), hex(byte & 0x0f)]);
            }
        }
        rest = after;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// `bytes` split at its first byte that JSON escapes (a quote, a backslash,
/// a byte below 0x20): the bytes before it, it, and the bytes after; `None`
/// where there is none.
fn split_at_escape(bytes: &[u8]) -> Option<(&[u8], u8, &[u8])> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether any byte of `word` is below `n` (n at most 0x80; exact for "any").
    let any_below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word & HIGHS != 0;
    let needs_escape = |word: u64| {
        any_below(word ^ (ONES * u64::from(b'"')), 1)
            || any_below(word ^ (ONES * u64::from(b'\\')), 1)
            || any_below(word, 0x20)
    };
    // Eight bytes at a time up to the first word holding one, then byte by byte.
    let mut clean = 0;
    while let Some(word) = bytes
        .get(clean..clean + 8)
        .and_then(|word| <[u8; 8]>::try_from(word).ok())
    {
        if needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        clean += 8;
    }
    let index = clean
        + bytes
            .get(clean..)?
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
    let (run, from) = bytes.split_at_checked(index)?;
    let (&byte, after) = from.split_first()?;
    Some((run, byte, after))
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        for nibble in [byte >> 4, byte & 0x0f] {
            // A nibble is 0 to 15: a digit or a to f.
            let digit = match nibble {
                0..=9 => b'0' + nibble,
                _ => b'a' + (nibble - 10),
            };
            text.push(char::from(digit));
        }
    }
    text
}

/// The first container's number of a lot's first receipt.
fn first_receipt() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(recorded_at: Option<&str>) -> Event {
        Event {
            seq: 1,
            kind: "receive".to_owned(),
            at: "2026-11-20T10:00:00-05:00".to_owned(),
            initials: "MH".to_owned(),
            comment: Some("réception".to_owned()),
            body: r#"{"kind":"receive"}"#.to_owned(),
            prev_hash: GENESIS.to_owned(),
            hash: String::new(),
            recorded_at: recorded_at.map(str::to_owned),
            signer: None,
            meaning: None,
            late_reason: None,
            station: None,
        }
    }

    /// Every character U+0000 to U+00FF at every offset 0 to 16 in text
    /// of a run of plain bytes (before, inside and after the eight-byte
    /// scan), and doubled: escaped as serde_json escapes it, exhaustively.
    #[test]
    fn every_latin1_character_at_every_offset_is_escaped_as_serde_json_escapes_it() {
        let mut written = Vec::new();
        for character in (0u32..=0xff).filter_map(char::from_u32) {
            for offset in 0..=16 {
                for tail in [0, 1, 7, 8, 9] {
                    let plain = |n: usize| "a".repeat(n);
                    for text in [
                        format!("{}{character}{}", plain(offset), plain(tail)),
                        format!("{}{character}{character}{}", plain(offset), plain(tail)),
                    ] {
                        written.clear();
                        write_json_string(&mut written, &text);
                        assert_eq!(
                            written,
                            serde_json::to_vec(&text).expect("a str always serializes"), // allow-panic: test
                            "{text:?}"
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Text escaped as serde_json escapes it, on text dense in quotes,
        /// backslashes and control characters and on any text, long enough
        /// for the eight-byte scan and its tail.
        #[test]
        fn text_is_escaped_as_serde_json_escapes_it(
            text in "(?s)[\"\\\\\\x00-\\x1f\\x7fa-zé€😀]{0,80}|(?s).{0,200}",
        ) {
            let mut written = Vec::new();
            write_json_string(&mut written, &text);
            proptest::prop_assert_eq!(written, serde_json::to_vec(&text).unwrap());
        }

        /// The hash's array is the one serde_json writes, byte for byte:
        /// every escape (quotes, backslashes, every control character) and
        /// every other character (non-ASCII as UTF-8) as it does.
        #[test]
        fn the_hash_input_is_serde_jsons_array(
            seq in proptest::num::i64::ANY,
            text in "(?s).{0,40}",
            controls in proptest::collection::vec(0u8..0x20, 0..8),
            signed in proptest::bool::ANY,
            late in proptest::bool::ANY,
            at_station in proptest::bool::ANY,
        ) {
            let mixed: String = controls.iter().map(|byte| char::from(*byte)).chain(text.chars()).collect();
            let event = Event {
                comment: Some(mixed.clone()),
                body: format!("{{\"kind\":\"receive\",\"x\":{:?}}}", mixed),
                signer: signed.then(|| mixed.clone()),
                meaning: signed.then(|| "received".to_owned()),
                late_reason: (signed && late).then(|| mixed.clone()),
                station: at_station.then(|| Station { site: mixed.clone(), workstation: mixed.clone() }),
                ..example(Some("2026-11-20T15:02:07Z"))
            };
            let common = (seq, &event.kind, &event.at, &event.initials, &event.comment, &event.body, &event.prev_hash);
            let (c0, c1, c2, c3, c4, c5, c6) = common;
            let by_serde = match (&event.signer, &event.late_reason) {
                _ if at_station => serde_json::to_vec(&(c0, c1, c2, c3, c4, c5, c6, &event.recorded_at, &event.signer, &event.meaning, &event.late_reason, &mixed, &mixed)),
                (Some(_), Some(reason)) => serde_json::to_vec(&(c0, c1, c2, c3, c4, c5, c6, &event.recorded_at, &event.signer, &event.meaning, reason)),
                (Some(_), None) => serde_json::to_vec(&(c0, c1, c2, c3, c4, c5, c6, &event.recorded_at, &event.signer, &event.meaning)),
                _ => serde_json::to_vec(&(c0, c1, c2, c3, c4, c5, c6, &event.recorded_at)),
            }.unwrap();
            proptest::prop_assert_eq!(event.hash_input(seq), by_serde);
            let schema_1 = Event { recorded_at: None, signer: None, meaning: None, late_reason: None, station: None, ..event.clone() };
            proptest::prop_assert_eq!(schema_1.hash_input(seq), serde_json::to_vec(&common).unwrap());
        }
    }

    /// The README's worked example, also computed with Python's
    /// `json.dumps(..., separators=(",", ":"), ensure_ascii=False)`.
    #[test]
    fn the_readme_hash_example_recomputes() {
        assert_eq!(
            example(Some("2026-11-20T15:02:07Z")).expected_hash(),
            "32aca86c18d48dffceccbd4669a87559e53c37d6eddffdf23517028c88ffe658"
        );
        // An event of schema 1, without recorded_at.
        assert_eq!(
            example(None).expected_hash(),
            "1d4784cfb250836718872825312ca40040d16e3ca37d013f4871167bcb3c2a09"
        );
        // A signed event (schema 3): signer and meaning appended.
        let signed = Event {
            signer: Some("mhebert".to_owned()),
            meaning: Some("received".to_owned()),
            ..example(Some("2026-11-20T15:02:07Z"))
        };
        assert_eq!(
            signed.expected_hash(),
            "9f30e270c9ddf277800775785484fa2ec3d8b372a754298017f08485715231c9"
        );
        // Signed and written late, with its reason appended.
        let late = Event {
            late_reason: Some("transcrit du registre papier".to_owned()),
            ..signed
        };
        assert_eq!(
            late.expected_hash(),
            "334daf5e27b31fcf699017863764e3189397cbf70b3434aa83a49a7535be7f87"
        );
        // Written at a station (schema 6): always thirteen elements, the
        // unsigned event's signer, meaning and late_reason null.
        let at_station = Event {
            station: Some(Station {
                site: "JGH".to_owned(),
                workstation: "bench-1".to_owned(),
            }),
            ..example(Some("2026-11-20T15:02:07Z"))
        };
        assert_eq!(
            at_station.expected_hash(),
            "fc24ac3e3652c45e2cf2cad8d0d170ce047f599f69790d461557efa90fefff64"
        );
    }
}
