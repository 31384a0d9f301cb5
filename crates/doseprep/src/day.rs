//! A preparation day: the randomization list, the day's orders and the lots
//! on hand, to every bag of the day.
//!
//! * The arm of each order comes from the randomization list, never typed.
//! * Bags are grouped into thaw sessions, greedily in order of infusion time:
//!   a session thaws `site.preparation_time` before its first infusion and
//!   takes every later bag whose infusion ends within the thaw window.
//! * Containers are shared out across the day. Which orders the stock can
//!   serve is decided as if every bag were active (a placebo holds its
//!   twin's share), so a shortage delays participants whatever their arm;
//!   only active bags thaw and draw, and within a session they share
//!   thawed containers (four 5.8 mL draws take three 10 mL containers).
//! * Each planned bag gets a bag id from random bits the caller supplies.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;

use jiff::{Timestamp, ZonedDateTime};

use crate::bag_id::BagId;
use crate::error::{DoseError, Result};
use crate::label::numbers;
use crate::lot::Lot;
use crate::order::{non_empty, Order};
use crate::prepare::{build, check_lot, check_order, ContainerDraw, Opening, Preparation};
use crate::protocol::{Content, Protocol};
use crate::record::{PreparationRecord, VerifiedRecord};
use crate::table::{read_csv, Row};
use crate::time::{format_time, parse_time, SiteTime};
use crate::units::{BodyWeight, ContainerYield, ExactVolume};
use crate::Text;

/// The unblinded randomization list: participant → arm.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Randomization {
    arms: BTreeMap<String, (Text, usize)>,
}

impl Randomization {
    /// From (participant, arm) pairs; `line` numbers are for messages.
    fn from_rows(rows: Vec<Row>) -> Result<Randomization> {
        let mut arms = BTreeMap::new();
        for row in rows {
            let bad = |reason: String| DoseError::Randomization {
                participant: None,
                reason,
                fix: "correct the randomization list".to_owned(),
            };
            let participant = row
                .required("participant")
                .map_err(|_| bad(format!("row {}: the participant cell is empty", row.line)))?;
            let arm = row.required("arm").map_err(|_| {
                bad(format!(
                    "row {}: the arm cell of {participant} is empty",
                    row.line
                ))
            })?;
            if let Some((_, first)) = arms.get(participant) {
                return Err(bad(format!(
                    "row {}: participant {participant} is listed again (first on row {first})",
                    row.line
                )));
            }
            arms.insert(participant.to_owned(), (Text::from(arm), row.line));
        }
        if arms.is_empty() {
            return Err(DoseError::Randomization {
                participant: None,
                reason: "the list has no participant".to_owned(),
                fix: "give a CSV with the columns participant,arm and one row per participant"
                    .to_owned(),
            });
        }
        Ok(Randomization { arms })
    }

    /// Read `participant,arm` CSV text (UTF-8, a byte-order mark allowed).
    pub fn from_csv_str(text: &str) -> Result<Randomization> {
        Randomization::from_rows(read_csv(
            "randomization list",
            text,
            &["participant", "arm"],
            &[],
        )?)
    }

    /// Read `participant,arm` CSV from a reader the caller opened.
    pub fn from_csv_reader<R: Read>(mut reader: R) -> Result<Randomization> {
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(|e| {
            DoseError::invalid_input(
                "randomization list",
                format!("cannot be read as UTF-8 text: {e}"),
            )
        })?;
        Randomization::from_csv_str(&text)
    }

    /// Check every arm against a protocol: an arm it lacks is an error naming the row.
    pub fn check_against(&self, protocol: &Protocol) -> Result<()> {
        let known = &protocol.spec().arms;
        for (participant, (arm, line)) in &self.arms {
            if !known.contains_key(arm.as_str()) {
                return Err(DoseError::Randomization {
                    participant: Some(participant.clone()),
                    reason: format!(
                        "row {line}: arm {arm:?} of {participant} is not in protocol {}",
                        protocol.name()
                    ),
                    fix: format!(
                        "use one of {}",
                        known.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        Ok(())
    }

    /// The arm of a participant.
    pub fn arm(&self, participant: &str) -> Option<&str> {
        self.arms.get(participant).map(|(arm, _)| arm.as_str())
    }

    /// How many participants the list holds.
    pub fn len(&self) -> usize {
        self.arms.len()
    }

    /// True for an empty list.
    pub fn is_empty(&self) -> bool {
        self.arms.is_empty()
    }

    fn resolve(&self, order: &DayOrder) -> Result<Text> {
        let (arm, _) =
            self.arms
                .get(order.participant.as_str())
                .ok_or_else(|| DoseError::Randomization {
                    participant: Some(order.participant.to_string()),
                    reason: format!(
                        "participant {} is not in the randomization list",
                        order.participant
                    ),
                    fix: "check the participant id against the list; this order is not prepared"
                        .to_owned(),
                })?;
        if let Some(given) = &order.arm {
            if given != arm {
                return Err(DoseError::Randomization {
                    participant: Some(order.participant.to_string()),
                    reason: format!(
                        "the order gives arm {given} for {} but the randomization list says arm {arm}",
                        order.participant
                    ),
                    fix: "the list decides: remove the arm from the order or correct it, and check how it came to differ".to_owned(),
                });
            }
        }
        Ok(arm.clone())
    }
}

/// One order of a day: no arm (the list gives it), the weight measured that
/// morning and the scheduled start of the infusion.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOrder {
    participant: Text,
    visit: Text,
    weight: BodyWeight,
    weight_as_entered: Option<String>,
    baseline_weight: Option<BodyWeight>,
    baseline_as_entered: Option<String>,
    infusion_at: ZonedDateTime,
    arm: Option<Text>,
}

impl DayOrder {
    /// An order of the day.
    pub fn new(
        participant: &str,
        visit: &str,
        weight: BodyWeight,
        infusion_at: ZonedDateTime,
    ) -> Result<DayOrder> {
        Ok(DayOrder {
            participant: non_empty("participant", participant)?,
            visit: non_empty("visit", visit)?,
            weight,
            weight_as_entered: None,
            baseline_weight: None,
            baseline_as_entered: None,
            infusion_at,
            arm: None,
        })
    }

    /// The weight as typed ("160 lb").
    pub fn weight_entered_as(mut self, text: &str) -> DayOrder {
        self.weight_as_entered = Some(text.trim().to_owned());
        self
    }

    /// The baseline weight, for protocols that dose on it.
    pub fn baseline(mut self, weight: BodyWeight, as_entered: Option<&str>) -> DayOrder {
        self.baseline_weight = Some(weight);
        self.baseline_as_entered = as_entered.map(|t| t.trim().to_owned());
        self
    }

    /// An arm the order states: it must agree with the list.
    pub fn stated_arm(mut self, arm: &str) -> Result<DayOrder> {
        self.arm = Some(non_empty("arm", arm)?);
        Ok(self)
    }

    /// Participant.
    pub fn participant(&self) -> &str {
        &self.participant
    }
    /// Visit.
    pub fn visit(&self) -> &str {
        &self.visit
    }
    /// Weight at the visit.
    pub fn weight(&self) -> BodyWeight {
        self.weight
    }
    /// Baseline weight, if given.
    pub fn baseline_weight(&self) -> Option<BodyWeight> {
        self.baseline_weight
    }
    /// Scheduled start of the infusion.
    pub fn infusion_at(&self) -> &ZonedDateTime {
        &self.infusion_at
    }
    /// The arm the order states, if any.
    pub fn arm(&self) -> Option<&str> {
        self.arm.as_deref()
    }

    /// The order to prepare: in `arm` (from the list), thawed at its
    /// session's `thawed_at`.
    fn order_at(&self, arm: &str, thawed_at: &ZonedDateTime) -> Result<Order> {
        let mut order = Order::new(
            &self.participant,
            self.weight,
            arm,
            &self.visit,
            thawed_at.clone(),
        )?
        .infusion(self.infusion_at.clone());
        if let Some(text) = &self.weight_as_entered {
            order = order.weight_entered_as(text);
        }
        if let Some(baseline) = self.baseline_weight {
            order = order.baseline(baseline);
            if let Some(text) = &self.baseline_as_entered {
                order = order.baseline_entered_as(text);
            }
        }
        Ok(order)
    }

    /// Read a day's orders CSV: `participant,visit,weight,infusion_at` and
    /// optionally `baseline_weight`, `arm`. A bad header is an error for the
    /// file; a bad cell is that row's error, in its place, with the row's
    /// number and its participant and visit as written.
    pub fn from_csv_str(text: &str) -> Result<Vec<DayRow>> {
        let rows = read_csv(
            "orders file",
            text,
            &["participant", "visit", "weight", "infusion_at"],
            &["baseline_weight", "arm"],
        )?;
        Ok(rows
            .iter()
            .map(|row| DayRow {
                row: row.line,
                participant: row.optional("participant").unwrap_or_default().to_owned(), // fallback-ok: an empty cell is shown empty, and the row is refused by from_row
                visit: row.optional("visit").unwrap_or_default().to_owned(), // fallback-ok: as above
                order: DayOrder::from_row(row),
            })
            .collect())
    }

    fn from_row(row: &Row) -> Result<DayOrder> {
        let weight_text = row.required("weight")?;
        let mut order = DayOrder::new(
            row.required("participant")?,
            row.required("visit")?,
            BodyWeight::parse(weight_text)?,
            parse_time("infusion_at", row.required("infusion_at")?)?,
        )?
        .weight_entered_as(weight_text);
        if let Some(text) = row.optional("baseline_weight") {
            order = order.baseline(BodyWeight::parse_for("baseline_weight", text)?, Some(text));
        }
        if let Some(arm) = row.optional("arm") {
            order = order.stated_arm(arm)?;
        }
        Ok(order)
    }
}

/// One row of a day's orders as it was read: its number, the participant
/// and visit as written (kept even when another cell of the row cannot be
/// read), and the order or why the row cannot be made into one. Every row
/// stays in the plan, so none can drop off the ward's sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    /// In a file, the row as a spreadsheet numbers it (the header is row
    /// 1); in a list given in code, the position from 1.
    pub row: usize,
    /// The participant as written, empty where the cell was.
    pub participant: String,
    /// The visit as written, empty where the cell was.
    pub visit: String,
    /// The order, or why the row is not one.
    pub order: Result<DayOrder>,
}

impl DayRow {
    /// Orders given in code, numbered by their position from 1.
    pub fn numbered(orders: impl IntoIterator<Item = DayOrder>) -> Vec<DayRow> {
        orders
            .into_iter()
            .enumerate()
            .map(|(index, order)| DayRow {
                row: index + 1,
                participant: order.participant.to_string(),
                visit: order.visit.to_string(),
                order: Ok(order),
            })
            .collect()
    }
}

/// Each row of a plan as the ward's documents name it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRow {
    /// The row's number (see [`DayRow::row`]).
    pub row: usize,
    /// The participant as written.
    pub participant: String,
    /// The visit as written.
    pub visit: String,
    /// The scheduled start of the infusion, where the row could be read.
    pub infusion_at: Option<SiteTime>,
}

/// One planned bag: its preparation (with bag id, session thaw time and
/// draws), and the order and lot it was prepared from (for its record).
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedBag {
    /// The bag.
    pub preparation: Preparation,
    /// The order as prepared (arm from the list, thaw of the session).
    pub order: Order,
    /// The lot it draws from (or, for a placebo, its twin would).
    pub lot: Lot,
    /// Index into [`DayPlan::sessions`].
    pub session: usize,
}

impl PlannedBag {
    /// The bag's record with the plan's protocol, verified: what its
    /// documents and the ledger are made from.
    pub fn record(&self, protocol: &Protocol) -> Result<VerifiedRecord> {
        PreparationRecord::new(protocol, &self.order, &self.lot, self.preparation.clone())?
            .verified()
    }
}

/// A thaw: when, which lot, which containers (the pick list's lines).
#[derive(Debug, Clone, PartialEq)]
pub struct ThawSession {
    /// When the containers are thawed.
    pub thawed_at: SiteTime,
    /// The lot.
    pub lot_id: Text,
    /// The containers, by number within the lot on hand.
    pub containers: Vec<u32>,
}

/// The plan of a day.
#[derive(Debug, Clone, PartialEq)]
pub struct DayPlan {
    /// One entry per input row, in the order given: the bag, or why it
    /// cannot be made (an unreadable row and a duplicate order included).
    pub bags: Vec<Result<PlannedBag>>,
    /// One entry per input row, beside [`DayPlan::bags`]: its number,
    /// participant and visit as written.
    pub rows: Vec<PlanRow>,
    /// The thaw time of each session, in order.
    pub sessions: Vec<SiteTime>,
    /// The thaws, in thaw order: only containers active bags draw from.
    pub thaws: Vec<ThawSession>,
    /// Containers left in the freezer after the day, by lot.
    pub remaining: BTreeMap<String, u32>,
    /// Of those, containers held back because placebo bags count against the
    /// stock as their active twins would (so a shortage falls on every arm alike).
    pub held_for_blinding: BTreeMap<String, u32>,
    /// The protocol's name, for the summary.
    protocol_name: String,
}

/// Containers thawed for one lot in one session, filled one after another.
#[derive(Debug, Default)]
struct OpenContainers {
    /// (container number, volume left).
    open: Vec<(u32, ExactVolume)>,
}

impl OpenContainers {
    /// What is left in the open containers, for comparing with a draw: a
    /// sum past the largest volume is more than any draw.
    fn left(&self) -> ExactVolume {
        self.open.iter().fold(ExactVolume::ZERO, |sum, (_, left)| {
            sum.checked_add(*left).unwrap_or(ExactVolume::MAX) // fallback-ok: more than any draw, all it is compared with
        })
    }

    /// Take `volume`, from open containers first, then from new ones
    /// numbered by `next`; returns the draws and how each container is
    /// come by. The caller has checked there is enough.
    fn take(
        &mut self,
        volume: ExactVolume,
        per_container: ContainerYield,
        next: &mut u32,
    ) -> Vec<(u32, ExactVolume, Opening)> {
        let mut draws = Vec::new();
        let mut wanted = volume;
        for (number, left) in &mut self.open {
            let (taken, rest, still_wanted) = left.take_up_to(wanted);
            if !taken.is_zero() {
                draws.push((*number, taken, Opening::AlreadyThawed));
                (*left, wanted) = (rest, still_wanted);
            }
        }
        while !wanted.is_zero() {
            *next += 1;
            let (taken, rest, still_wanted) = per_container.volume().take_up_to(wanted);
            self.open.push((*next, rest));
            draws.push((*next, taken, Opening::Thaw));
            wanted = still_wanted;
        }
        draws
    }
}

/// One lot through the day: the containers used so far, counted as if
/// every bag were active (the budget every arm is planned against) and by
/// active bags alone (what is physically thawed), and the containers open
/// in the current session.
#[derive(Debug)]
struct LotDay<'a> {
    lot: &'a Lot,
    /// Its place in the lots as given: a session's thaws are listed in it.
    given: usize,
    budget_used: u32,
    physical_used: u32,
    session: LotSession,
}

/// One lot in one thaw session.
#[derive(Debug, Default)]
struct LotSession {
    budget: OpenContainers,
    physical: OpenContainers,
    /// Containers (1 to on hand) active bags thawed, in order of use.
    thawed: Vec<u32>,
}

impl LotDay<'_> {
    /// Containers not yet counted against the budget.
    #[expect(
        clippy::expect_used,
        reason = "the budget takes only containers that the availability check found unopened"
    )]
    fn unopened(&self) -> u32 {
        self.lot
            .containers()
            .checked_sub(self.budget_used)
            .expect("the budget never counts more containers than are on hand") // allow-panic: see the reason above
    }

    /// Containers held back for placebos: the budget counts every bag,
    /// active bags fill a subset of its containers in the same order.
    #[expect(
        clippy::expect_used,
        reason = "active bags are a subset of all bags, drawn in the same order, so they open no more containers"
    )]
    fn held_for_blinding(&self) -> u32 {
        self.budget_used
            .checked_sub(self.physical_used)
            .expect("active bags open no more containers than all bags") // allow-panic: see the reason above
    }

    /// Containers left in the freezer.
    #[expect(
        clippy::expect_used,
        reason = "active bags thaw no more than the budget, which is at most the containers on hand"
    )]
    fn remaining(&self) -> u32 {
        self.lot
            .containers()
            .checked_sub(self.physical_used)
            .expect("active bags thaw no more containers than are on hand") // allow-panic: see the reason above
    }
}

/// A bag the ledger holds for a participant's visit (prepared, not
/// destroyed), with the order it was made for: what a rerun of the day is
/// compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedBag {
    /// The bag.
    pub bag_id: BagId,
    /// The ledger event that recorded its preparation.
    pub event: i64,
    /// The order it was made for (from its record).
    pub order: Order,
}

/// What differs between a day's order (with its arm from the list) and the
/// order a recorded bag was made for; empty when it is the same order.
fn differences(order: &DayOrder, arm: Option<&str>, recorded: &Order) -> Vec<String> {
    let mut out = Vec::new();
    if order.weight != recorded.weight() {
        out.push(format!(
            "weight {}, recorded {}",
            numbers::kilograms(order.weight),
            numbers::kilograms(recorded.weight())
        ));
    }
    if order.baseline_weight != recorded.baseline_weight() {
        let show = |w: Option<BodyWeight>| w.map_or_else(|| "none".to_owned(), numbers::kilograms);
        out.push(format!(
            "baseline weight {}, recorded {}",
            show(order.baseline_weight),
            show(recorded.baseline_weight())
        ));
    }
    if let Some(arm) = arm.filter(|arm| *arm != recorded.arm()) {
        out.push(format!("arm {arm}, recorded {}", recorded.arm()));
    }
    let recorded_start = recorded.infusion_at().map(ZonedDateTime::timestamp);
    if Some(order.infusion_at.timestamp()) != recorded_start {
        out.push(format!(
            "infusion at {}, recorded {}",
            format_time(&order.infusion_at),
            recorded
                .infusion_at()
                .map_or_else(|| "none".to_owned(), format_time)
        ));
    }
    out
}

/// Plan a day. `random` gives 64 random bits per call (the operating
/// system's random source in the binding and the command).
///
/// An error for the whole day (no `site.preparation_time`, no lot, an arm
/// the protocol lacks in the list) is returned as `Err`; a row that cannot
/// be made (unreadable, a second order for a visit already ordered, or a
/// bag the protocol or the stock refuses) is an `Err` in its place in
/// [`DayPlan::bags`]. Every row is in the plan, once.
pub fn plan_day(
    protocol: &Protocol,
    rows: &[DayRow],
    lots: &[Lot],
    randomization: &Randomization,
    random: &mut dyn FnMut() -> u64,
) -> Result<DayPlan> {
    plan_day_after(protocol, rows, lots, randomization, &[], random)
}

/// [`plan_day`] for a day some of whose visits the ledger holds bags for
/// already (`recorded`, e.g. the same day run again after a row was fixed):
/// a row made from the same order as its visit's recorded bag is
/// [`DoseError::AlreadyRecorded`] and is not planned again; a row with
/// another order is [`DoseError::RecordedDifferently`], naming the bag.
///
/// Containers thawed before are not used: what is left in them depends on
/// which earlier bags were placebos, so a plan that used them would set an
/// add-on's session, and so its label times, by other participants' arms.
pub fn plan_day_after(
    protocol: &Protocol,
    rows: &[DayRow],
    lots: &[Lot],
    randomization: &Randomization,
    recorded: &[RecordedBag],
    random: &mut dyn FnMut() -> u64,
) -> Result<DayPlan> {
    let site = protocol.site();
    let preparation_time = site.preparation_time.ok_or_else(|| {
        DoseError::invalid_protocol(
            "site.preparation_time",
            "(unset)",
            "planning a day needs the time from thaw to a bag ready to infuse, e.g. \"30 min\"",
        )
    })?;
    if lots.is_empty() {
        return Err(DoseError::invalid_input(
            "lots",
            "no lot on hand; give at least one lot",
        ));
    }
    randomization.check_against(protocol)?;
    let zone = protocol.zone();

    // Lots in the order of use: earliest expiry first where lots give it,
    // else as given (the sort is stable).
    let mut lot_days: Vec<LotDay> = lots
        .iter()
        .enumerate()
        .map(|(given, lot)| LotDay {
            lot,
            given,
            budget_used: 0,
            physical_used: 0,
            session: LotSession::default(),
        })
        .collect();
    lot_days.sort_by_key(|day| {
        day.lot
            .expires_at()
            .map_or((1, Timestamp::MAX), |t| (0, t.timestamp()))
    });

    // Every row gets its outcome here or in a session below. An unreadable
    // row keeps its error; a second order for a visit is refused, the first
    // (in the file's order) is planned: one visit, one bag.
    let mut bags: Vec<Option<Result<PlannedBag>>> = Vec::with_capacity(rows.len());
    let mut first_row_of_visit: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut readable: Vec<(usize, &DayOrder)> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        bags.push(match &row.order {
            Err(error) => Some(Err(error.clone())),
            Ok(order) => match first_row_of_visit.get(&(&*order.participant, &*order.visit)) {
                Some(&first_row) => Some(Err(DoseError::DuplicateOrder {
                    participant: order.participant.to_string(),
                    visit: order.visit.to_string(),
                    row: row.row,
                    first_row,
                })),
                None => {
                    first_row_of_visit.insert((&order.participant, &order.visit), row.row);
                    let standing = recorded.iter().find(|bag| {
                        bag.order.participant() == &*order.participant
                            && bag.order.visit() == &*order.visit
                    });
                    match standing {
                        None => {
                            readable.push((index, order));
                            None
                        }
                        Some(bag) => {
                            let arm = randomization.arm(&order.participant);
                            let differ = differences(order, arm, &bag.order);
                            Some(Err(if differ.is_empty() {
                                DoseError::AlreadyRecorded {
                                    participant: order.participant.to_string(),
                                    visit: order.visit.to_string(),
                                    row: row.row,
                                    bag_id: bag.bag_id.as_text(),
                                    event: bag.event,
                                }
                            } else {
                                DoseError::RecordedDifferently {
                                    participant: order.participant.to_string(),
                                    visit: order.visit.to_string(),
                                    row: row.row,
                                    bag_id: bag.bag_id.as_text(),
                                    event: bag.event,
                                    differences: differ.join("; "),
                                }
                            }))
                        }
                    }
                }
            },
        });
    }
    // Orders in order of infusion time (stable for equal times).
    readable.sort_by_key(|(_, order)| order.infusion_at.timestamp());

    let mut sessions: Vec<SiteTime> = Vec::new();
    let mut thaws: Vec<ThawSession> = Vec::new();
    let mut ids_used: Vec<BagId> = Vec::new();

    let mut queue = readable.as_slice();
    while let Some(&(_, anchor)) = queue.first() {
        let thaw = anchor
            .infusion_at
            .timestamp()
            .checked_sub(preparation_time)
            .map_err(|e| DoseError::InvalidTime {
                field: "infusion_at".to_owned(),
                input: zone.at(anchor.infusion_at.timestamp()).wall_clock(),
                reason: e.to_string(),
            })?;
        let window_end = thaw
            .checked_add(site.max_thaw_to_end_of_infusion)
            .unwrap_or(Timestamp::MAX); // fallback-ok: a window past the end of time holds every later bag
                                        // The session: this bag and every later one whose infusion ends in
                                        // the window, up to the bags a session may hold.
        let capacity = site
            .max_bags_per_session
            .map_or(usize::MAX, |most| most.get() as usize);
        let taken = queue
            .iter()
            .enumerate()
            .take_while(|(position, (_, order))| {
                let ends = order
                    .infusion_at
                    .timestamp()
                    .checked_add(site.infusion_duration)
                    .unwrap_or(Timestamp::MAX); // fallback-ok: an end past the end of time is outside every window
                *position == 0 || (*position < capacity && ends <= window_end)
            })
            .count();
        let (members, rest) = queue.split_at(taken);
        queue = rest;
        let session_index = sessions.len();
        sessions.push(zone.at(thaw));
        let thawed_at = thaw.to_zoned_datetime(zone.zone().clone());

        for day in &mut lot_days {
            day.session = LotSession::default();
        }
        for &(index, day_order) in members {
            let result = plan_bag(
                protocol,
                day_order,
                &thawed_at,
                randomization,
                &mut lot_days,
            )
            .map(|mut bag| {
                bag.session = session_index;
                let id = fresh_id(random, &ids_used);
                ids_used.push(id);
                bag.preparation.bag_id = Some(id);
                bag.order = bag.order.clone().with_bag_id(id);
                bag
            });
            if let Some(slot) = bags.get_mut(index) {
                *slot = Some(result);
            }
        }
        let mut session_thaws: Vec<&LotDay> = lot_days
            .iter()
            .filter(|day| !day.session.thawed.is_empty())
            .collect();
        session_thaws.sort_by_key(|day| day.given);
        for day in session_thaws {
            let mut containers: Vec<u32> = day
                .session
                .thawed
                .iter()
                .map(|&k| day.lot.container_number(k))
                .collect();
            containers.sort_unstable();
            containers.dedup();
            thaws.push(ThawSession {
                thawed_at: zone.at(thaw),
                lot_id: day.lot.lot_id_shared().clone(),
                containers,
            });
        }
    }

    let mut remaining = BTreeMap::new();
    let mut held = BTreeMap::new();
    for day in &lot_days {
        remaining.insert(day.lot.lot_id().to_owned(), day.remaining());
        held.insert(day.lot.lot_id().to_owned(), day.held_for_blinding());
    }
    let bags = bags.into_iter().map(outcome).collect();
    Ok(DayPlan {
        bags,
        rows: rows
            .iter()
            .map(|row| PlanRow {
                row: row.row,
                participant: row.participant.clone(),
                visit: row.visit.clone(),
                infusion_at: row
                    .order
                    .as_ref()
                    .ok()
                    .map(|order| zone.at(order.infusion_at.timestamp())),
            })
            .collect(),
        sessions,
        thaws,
        remaining,
        held_for_blinding: held,
        protocol_name: protocol.name().to_owned(),
    })
}

/// A row's outcome once every session is planned.
#[expect(
    clippy::expect_used,
    reason = "every row is refused before the sessions or is readable, and the sessions take every readable row once"
)]
fn outcome(slot: Option<Result<PlannedBag>>) -> Result<PlannedBag> {
    slot.expect("every row of a day has an outcome") // allow-panic: see the reason above
}

fn fresh_id(random: &mut dyn FnMut() -> u64, used: &[BagId]) -> BagId {
    // Fifty random bits collide with odds of about 1 in 10^15 per pair; a
    // repeat draws again rather than trusting the odds.
    let mut id = BagId::from_random(random());
    for _ in 0..16 {
        if !used.contains(&id) {
            break;
        }
        id = BagId::from_random(random());
    }
    id
}

/// Plan one bag from the first lot, in order of use, that passes its
/// checks and whose stock holds the draw counted as if every bag were
/// active; the bag's session is set by the caller.
fn plan_bag(
    protocol: &Protocol,
    day_order: &DayOrder,
    thawed_at: &ZonedDateTime,
    randomization: &Randomization,
    lot_days: &mut [LotDay],
) -> Result<PlannedBag> {
    let arm = randomization.resolve(day_order)?;
    let order = day_order.order_at(&arm, thawed_at)?;
    let common = check_order(protocol, &order)?;
    let content = common.content;
    let mut first_error: Option<DoseError> = None;
    let mut shortage: Option<DoseError> = None;
    for day in lot_days.iter_mut() {
        let lot = day.lot;
        let draw = match check_lot(protocol, &order, lot, &common) {
            Ok(draw) => draw,
            Err(error) => {
                first_error.get_or_insert(error);
                continue;
            }
        };
        // Can the stock serve it, counting every bag as active?
        let per_container = lot.yield_per_container();
        let needed = draw
            .volume
            .checked_sub(day.session.budget.left())
            .map_or(0, |beyond_open| per_container.containers_for(beyond_open));
        let unopened = day.unopened();
        if needed > u64::from(unopened) {
            let error = DoseError::NotEnoughContainers {
                lot_id: lot.lot_id().to_owned(),
                draw_ml: draw.volume.ml(),
                per_container_ml: per_container.volume().ml(),
                per_container_note: if lot.extractable_volume().is_some() {
                    " extractable".to_owned()
                } else {
                    String::new()
                },
                needed,
                available: u64::from(unopened),
                availability: "are left for this day".to_owned(),
            };
            shortage.get_or_insert(match content {
                Content::Active => error,
                Content::Placebo => error.for_placebo(order.participant(), order.visit()),
            });
            continue;
        }
        let volume = draw.volume;
        let mut preparation = build(protocol, &order, lot, common, &draw)?;
        day.session
            .budget
            .take(volume, per_container, &mut day.budget_used);
        if content == Content::Active {
            let draws = day
                .session
                .physical
                .take(volume, per_container, &mut day.physical_used);
            day.session
                .thawed
                .extend(draws.iter().map(|(number, _, _)| *number));
            preparation.draws = draws
                .into_iter()
                .map(|(k, volume, opening)| ContainerDraw {
                    lot_id: lot.lot_id_shared().clone(),
                    container: lot.container_number(k),
                    volume,
                    opening,
                })
                .collect();
        }
        return Ok(PlannedBag {
            preparation,
            order,
            lot: lot.clone(),
            session: 0,
        });
    }
    // Every lot either failed a check or had too few containers, and the
    // day has at least one lot (checked before any session).
    Err(shortage
        .or(first_error)
        .unwrap_or_else(|| DoseError::invalid_input("lots", "no lot on hand")))
}

impl DayPlan {
    /// Each planned bag's verified record, in the plan's order, with the
    /// protocol the day was planned with.
    pub fn records(&self, protocol: &Protocol) -> Result<Vec<VerifiedRecord>> {
        self.bags
            .iter()
            .filter_map(|bag| bag.as_ref().ok())
            .map(|bag| bag.record(protocol))
            .collect()
    }

    /// How many orders were planned.
    pub fn planned(&self) -> usize {
        self.bags.iter().filter(|b| b.is_ok()).count()
    }

    /// How many rows the ledger holds a bag for already, from the same order.
    pub fn already_recorded(&self) -> usize {
        self.bags
            .iter()
            .filter(|b| matches!(b, Err(DoseError::AlreadyRecorded { .. })))
            .count()
    }

    /// The pick list: which containers of which lot to take from the
    /// freezer, in thaw order. For the pharmacy.
    pub fn pick_list(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "PICK LIST: {} (containers to take from the freezer, in thaw order)",
            self.protocol_name
        );
        if self.thaws.is_empty() {
            let _ = writeln!(text, "Nothing to thaw.");
        }
        for thaw in &self.thaws {
            let containers: Vec<String> = thaw.containers.iter().map(u32::to_string).collect();
            let _ = writeln!(
                text,
                "{}  thaw lot {}  container{} {}",
                thaw.thawed_at.wall_clock(),
                thaw.lot_id,
                if thaw.containers.len() == 1 { "" } else { "s" },
                containers.join(", ")
            );
        }
        for (lot, left) in &self.remaining {
            let held = self.held_for_blinding.get(lot).copied().unwrap_or(0);
            let _ = writeln!(
                text,
                "Lot {lot}: {left} container{} left in the freezer{}",
                if *left == 1 { "" } else { "s" },
                if held > 0 {
                    format!(" ({held} counted against placebo bags, as their twins would use)")
                } else {
                    String::new()
                }
            );
        }
        text
    }

    /// A one-screen overview for the ward: every input row, planned or
    /// not, with its row number; sessions and bags in infusion order, with
    /// no arm, content, lot or volume drawn. Rows that could not be read
    /// (no time to sort them by) come first.
    pub fn summary(&self) -> String {
        let mut text = String::new();
        let already = self.already_recorded();
        let failed = self.bags.len() - self.planned() - already;
        let _ = writeln!(
            text,
            "{} day plan: {} order row{}, {} planned, {}{} not planned",
            self.protocol_name,
            self.bags.len(),
            if self.bags.len() == 1 { "" } else { "s" },
            self.planned(),
            if already > 0 {
                format!("{already} already recorded, ")
            } else {
                String::new()
            },
            failed
        );
        for (index, thaw) in self.sessions.iter().enumerate() {
            let count = self
                .bags
                .iter()
                .filter(|b| matches!(b, Ok(bag) if bag.session == index))
                .count();
            let _ = writeln!(
                text,
                "Session {}: thaw {}, {} bag{}",
                index + 1,
                thaw.wall_clock(),
                count,
                if count == 1 { "" } else { "s" }
            );
        }
        let mut lines: Vec<(Option<Timestamp>, String)> = Vec::new();
        for (bag, row) in self.bags.iter().zip(&self.rows) {
            let who = format!(
                "row {}  {} {}",
                row.row,
                as_written(&row.participant, "(no participant)"),
                as_written(&row.visit, "(no visit)")
            );
            match bag {
                Ok(bag) => {
                    let prep = &bag.preparation;
                    let start = prep
                        .infusion_at()
                        .as_ref()
                        .map_or(prep.start_by().instant(), SiteTime::instant);
                    lines.push((
                        Some(start),
                        format!(
                            "{}  {who}  bag {}  {}  start by {}  infuse by {}",
                            prep.infusion_at()
                                .as_ref()
                                .map_or_else(String::new, SiteTime::time_of_day),
                            prep.bag_id.map_or_else(String::new, |id| id.as_text()),
                            numbers::volume(prep.final_volume),
                            prep.start_by().time_of_day(),
                            prep.infuse_by().time_of_day()
                        ),
                    ));
                }
                Err(DoseError::AlreadyRecorded { bag_id, .. }) => lines.push((
                    row.infusion_at.as_ref().map(SiteTime::instant),
                    format!(
                        "{}  {who}  already recorded (bag {bag_id})",
                        row.infusion_at
                            .as_ref()
                            .map_or_else(|| "--:--".to_owned(), SiteTime::time_of_day),
                    ),
                )),
                // The kind only: a placebo's message names its twin.
                Err(error) => lines.push((
                    row.infusion_at.as_ref().map(SiteTime::instant),
                    format!(
                        "{}  {who}  NOT PLANNED: {}",
                        row.infusion_at
                            .as_ref()
                            .map_or_else(|| "--:--".to_owned(), SiteTime::time_of_day),
                        error.kind().name().replace('_', " ")
                    ),
                )),
            }
        }
        lines.sort_by_key(|(at, _)| *at);
        for (_, line) in lines {
            let _ = writeln!(text, "{line}");
        }
        text
    }

    /// The day as CSV for the pharmacy (unblinded): one line per input row,
    /// in the order given, planned or with the reason it is not.
    pub fn day_csv(&self) -> String {
        let mut buffer = format!("# {UNBLINDED_DOCUMENT}\n").into_bytes();
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(&mut buffer);
        let mut write = |fields: [&str; 13]| {
            // Writing to memory cannot fail, and every record has 13 fields.
            let _ = writer.write_record(fields);
        };
        write([
            "row",
            "participant",
            "visit",
            "arm",
            "content",
            "bag_id",
            "thaw_session",
            "infusion_at",
            "lot_id",
            "containers",
            "draw_volume_ml",
            "status",
            "message",
        ]);
        for (bag, row) in self.bags.iter().zip(&self.rows) {
            let number = row.row.to_string();
            match bag {
                Err(error) => {
                    let (bag_id, status) = match error {
                        DoseError::AlreadyRecorded { bag_id, .. } => {
                            (bag_id.as_str(), "already recorded".to_owned())
                        }
                        other => ("", format!("NOT PLANNED: {}", other.kind().name())),
                    };
                    write([
                        &number,
                        &row.participant,
                        &row.visit,
                        "",
                        "",
                        bag_id,
                        "",
                        &row.infusion_at
                            .as_ref()
                            .map_or_else(String::new, offset_time),
                        "",
                        "",
                        "",
                        &status,
                        &error.to_string(),
                    ]);
                }
                Ok(bag) => {
                    let prep = &bag.preparation;
                    let containers: Vec<String> = prep
                        .draws
                        .iter()
                        .map(|d| format!("{}#{}:{}mL", d.lot_id, d.container, d.volume.ml()))
                        .collect();
                    write([
                        &number,
                        &prep.participant,
                        &prep.visit,
                        &prep.arm,
                        prep.content.as_str(),
                        &prep.bag_id.map_or_else(String::new, |id| id.as_text()),
                        &offset_time(&prep.thawed_at()),
                        &prep
                            .infusion_at()
                            .as_ref()
                            .map_or_else(String::new, offset_time),
                        prep.dose.as_ref().map_or("", |dose| dose.lot_id.as_str()),
                        &containers.join(" "),
                        &prep
                            .draw_volume()
                            .map_or_else(String::new, |volume| volume.ml().to_string()),
                        "planned",
                        "",
                    ]);
                }
            }
        }
        // Dropping the writer flushes it into the buffer.
        drop(writer);
        // Every cell came from a `str`, so the bytes are UTF-8.
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// The heading of every unblinded pharmacy document of a day.
pub const UNBLINDED_DOCUMENT: &str =
    "UNBLINDED pharmacy document: keep in pharmacy, do not send to the ward";

/// A time with its UTC offset, as a spreadsheet reads it
/// (2026-11-25T08:30:00-05:00).
fn offset_time(time: &SiteTime) -> String {
    time.zoned().strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A cell as written, or a stand-in that says it was empty.
fn as_written<'a>(text: &'a str, empty: &'a str) -> &'a str {
    if text.is_empty() {
        empty
    } else {
        text
    }
}
