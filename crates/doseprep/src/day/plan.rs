//! Planning a day: thaw sessions, the stock shared out as if every bag
//! were active, and a bag id for each planned bag.

use crate::label::captions::Language;
use crate::label::isbt128::DinSequence;
use std::collections::BTreeMap;

use jiff::{Timestamp, ZonedDateTime};

use crate::bag_id::BagId;
use crate::draw::shortage as container_shortage;
use crate::error::{DoseError, Result, StockCounted};
use crate::format;
use crate::lot::Lot;
use crate::order::Order;
use crate::prepare::{build, check_lot, check_order, ContainerDraw, Opening, Preparation};
use crate::protocol::{Content, Protocol};
use crate::record::{PreparationRecord, VerifiedRecord};
use crate::time::{format_time, SiteTime};
use crate::units::{BodyWeight, ContainerYield, ExactVolume};
use crate::Text;

use super::{DayOrder, DayRow};
use crate::randomization::Randomization;

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
    /// The protocol the day was planned with.
    pub protocol: Protocol,
}

impl PlannedBag {
    /// The bag's record, verified: what its documents and the ledger are
    /// made from.
    pub fn record(&self) -> Result<VerifiedRecord> {
        PreparationRecord::new(
            &self.protocol,
            &self.order,
            &self.lot,
            self.preparation.clone(),
        )?
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
    pub(super) protocol_name: String,
    /// The language of the pick list and the summary: the site's first
    /// label language.
    pub(super) language: Language,
    /// The ledger the day was planned against, as verified then: the pick
    /// list and the summary print it, so the paper anchors the record.
    pub(super) ledger_before: Option<LedgerMark>,
}

/// A ledger's last event, verified: its number and hash (64 zeros and
/// event 0 for a ledger with no event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerMark {
    /// The last event's number.
    pub seq: i64,
    /// Its hash.
    pub head: String,
}

impl DayPlan {
    /// The plan, its pick list and summary printing `mark`: the ledger it
    /// was planned against, verified.
    pub fn with_ledger_before(mut self, mark: LedgerMark) -> DayPlan {
        self.ledger_before = Some(mark);
        self
    }

    /// The ledger the day was planned against, where it was.
    pub fn ledger_before(&self) -> Option<&LedgerMark> {
        self.ledger_before.as_ref()
    }
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
    if order.weight() != recorded.weight() {
        out.push(format!(
            "weight {}, recorded {}",
            format::kilograms(order.weight()),
            format::kilograms(recorded.weight())
        ));
    }
    if order.baseline_weight() != recorded.baseline_weight() {
        let show = |w: Option<BodyWeight>| w.map_or_else(|| "none".to_owned(), format::kilograms);
        out.push(format!(
            "baseline weight {}, recorded {}",
            show(order.baseline_weight()),
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
    plan_day_after(protocol, rows, lots, randomization, &[], None, random)
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
///
/// Where the site's label carries an ISBT 128 DIN, `din_from` is the next
/// number of the facility's counter (the ledger's `next_din_sequence`):
/// planned bags take it and the numbers after it in the order they are
/// given ids (by infusion time, whatever their arm). Without it such a day
/// is refused; a site without DINs takes none.
pub fn plan_day_after(
    protocol: &Protocol,
    rows: &[DayRow],
    lots: &[Lot],
    randomization: &Randomization,
    recorded: &[RecordedBag],
    din_from: Option<DinSequence>,
    random: &mut dyn FnMut() -> u64,
) -> Result<DayPlan> {
    let site = protocol.site();
    let mut next_din = match (protocol.label().isbt128.is_some(), din_from) {
        (true, Some(first)) => DinSequences::From(first),
        (false, None) => DinSequences::NotPrinted,
        (true, None) => {
            return Err(DoseError::invalid_input(
                "din_sequence",
                "the site's label carries an ISBT 128 DIN ([label] isbt128), whose sequence number comes from the facility's counter; plan the day with the ledger (or give the counter's next number)",
            ))
        }
        (false, Some(first)) => {
            return Err(DoseError::invalid_input(
                "din_sequence",
                format!(
                    "{} is given, but the site's label carries no ISBT 128 DIN; give none, or give the site's [label] isbt128 codes",
                    first.value()
                ),
            ))
        }
    };
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
    // A lot given twice would count its containers twice.
    for (index, lot) in lots.iter().enumerate() {
        if lots
            .iter()
            .take(index)
            .any(|earlier| earlier.lot_id() == lot.lot_id())
        {
            return Err(DoseError::invalid_input(
                "lots",
                format!(
                    "lot {} is given twice; give each lot once, with every container on hand",
                    lot.lot_id()
                ),
            ));
        }
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
            .and_then(|mut bag| {
                bag.session = session_index;
                let id = fresh_id(random, &ids_used);
                ids_used.push(id);
                bag.preparation.bag_id = Some(id);
                bag.order = bag.order.clone().with_bag_id(id);
                if let Some(sequence) = next_din.take()? {
                    bag.preparation.din_sequence = Some(sequence);
                    bag.order = bag.order.clone().with_din_sequence(sequence);
                }
                Ok(bag)
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
        ledger_before: None,
        language: protocol.label_languages().first(),
    })
}

/// The DIN sequence numbers a day gives out.
enum DinSequences {
    /// The site's label carries no DIN.
    NotPrinted,
    /// The next number to give.
    From(DinSequence),
    /// All 999999 are given.
    UsedUp,
}

impl DinSequences {
    /// The next number, if the site prints DINs; an error once they are
    /// used up.
    fn take(&mut self) -> Result<Option<DinSequence>> {
        match *self {
            DinSequences::NotPrinted => Ok(None),
            DinSequences::From(sequence) => {
                *self = DinSequence::after(Some(sequence))
                    .map_or(DinSequences::UsedUp, DinSequences::From);
                Ok(Some(sequence))
            }
            DinSequences::UsedUp => Err(DoseError::invalid_input(
                "din_sequence",
                format!(
                    "the facility's DIN counter has given all {} numbers; ask ICCBBA's guidance for the facility (a new FIN)",
                    DinSequence::MAX
                ),
            )),
        }
    }
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
            let error = container_shortage(
                lot,
                draw.volume,
                needed,
                u64::from(unopened),
                StockCounted::LeftForTheDay,
            );
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
            protocol: protocol.clone(),
        });
    }
    // Every lot either failed a check or had too few containers, and the
    // day has at least one lot (checked before any session).
    Err(shortage
        .or(first_error)
        .unwrap_or_else(|| DoseError::invalid_input("lots", "no lot on hand")))
}
