//! From protocol + order + lot to the bag: the dose, the draw, the diluent,
//! the pump rate and the times, for an active bag or its matched placebo.
//!
//! A placebo is checked against everything its active twin would be, with
//! the same lot (viability floor, dilution, syringe, range after rounding,
//! containers, DMSO), and fails the same way, so that a lot problem delays
//! every participant alike; the check consumes nothing, and a placebo still
//! thaws no container.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::bag_id::BagId;
use crate::draw::{plan_draw, Draw, RangeFrom, Rounding};
use crate::error::{DoseError, Result};
use crate::format::round2;
use crate::label::isbt128::DinSequence;
use crate::lot::Lot;
use crate::order::Order;
use crate::protocol::{Content, DoseBasis, Protocol};
use crate::rules::{dosing_basis, TargetRule, WeightUsed};
use crate::time::{add_duration, SiteTime};
use crate::units::serde_units::{
    cells, cells_per_ml, computed_ml, g_per_kg, grams, kg, minutes, ml, ml_per_hour,
};
use crate::units::{
    format_duration, BodyWeight, CellConcentration, CellCount, ComputedVolume, Deviation,
    DmsoExposure, ExactVolume, Grams, PumpRate,
};
use crate::Text;
use jiff::tz::TimeZone;

/// The cell dose of an active bag, with the unrounded figures beside the
/// rounded ones for the worksheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveDose {
    /// The lot drawn from.
    pub lot_id: Text,
    /// Which cells the counts below count.
    pub dose_basis: DoseBasis,
    /// Concentration the draw is computed from (viable, or total for a
    /// `total` basis).
    #[serde(rename = "concentration_cells_per_ml", with = "cells_per_ml")]
    pub concentration: CellConcentration,
    /// Target cells.
    #[serde(with = "cells")]
    pub target_cells: CellCount,
    /// In words, what set the target (the rule, the band, a cap).
    pub dose_determined_by: Arc<str>,
    /// Which kind of rule set the target (the band's, with bands): the FHIR
    /// export states a dose per kg only for a per-kg rule.
    pub dose_rule: TargetRule,
    /// Lowest acceptable delivered cells.
    #[serde(with = "cells")]
    pub acceptable_min_cells: CellCount,
    /// Highest acceptable delivered cells.
    #[serde(with = "cells")]
    pub acceptable_max_cells: CellCount,
    /// Where that range comes from.
    pub acceptable_range_from: RangeFrom,
    /// target ÷ concentration, before rounding.
    #[serde(rename = "unrounded_draw_volume_ml", with = "computed_ml")]
    pub unrounded_draw_volume: ComputedVolume,
    /// The syringe drawn with, where the protocol lists syringes.
    #[serde(
        rename = "syringe_capacity_ml",
        default,
        skip_serializing_if = "Option::is_none",
        with = "ml::option"
    )]
    pub syringe_capacity: Option<ExactVolume>,
    /// The graduation the draw is rounded to (the syringe's, or the protocol increment).
    #[serde(rename = "draw_graduation_ml", with = "ml")]
    pub draw_graduation: ExactVolume,
    /// Half up, or down for a hard maximum.
    pub rounding: Rounding,
    /// The rounded draw.
    #[serde(rename = "draw_volume_ml", with = "ml")]
    pub draw_volume: ExactVolume,
    /// Fewest containers whose yield holds the draw.
    pub containers_to_thaw: u32,
    /// Cells the rounded draw delivers.
    #[serde(with = "cells")]
    pub delivered_cells: CellCount,
    /// (delivered − target) ÷ target, signed: 0.0014 is +0.14%.
    pub deviation: Deviation,
    /// Delivered cells ÷ final volume.
    #[serde(rename = "final_concentration_cells_per_ml", with = "cells_per_ml")]
    pub final_concentration: CellConcentration,
    /// DMSO in the bag per kg body weight, where the lot gives its DMSO fraction.
    #[serde(
        rename = "dmso_g_per_kg",
        default,
        skip_serializing_if = "Option::is_none",
        with = "g_per_kg::option"
    )]
    pub dmso: Option<DmsoExposure>,
}

/// What a bag draws from one container of a day's allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerDraw {
    /// The lot.
    pub lot_id: Text,
    /// The container's number within the lot on hand (1, 2, ...).
    pub container: u32,
    /// The volume drawn from it.
    #[serde(rename = "volume_ml", with = "ml")]
    pub volume: ExactVolume,
    /// Whether the container is thawed for this bag or was thawed for an
    /// earlier bag of its session: the worksheet says which, so that it
    /// and the pick list name the same thaws.
    pub opening: Opening,
}

/// How a bag comes by a container of its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Opening {
    /// Thawed for this bag, at its session's thaw (a line of the pick list).
    Thaw,
    /// Thawed earlier in the session for another bag; taken already thawed.
    AlreadyThawed,
}

impl Opening {
    /// "thaw" or "already_thawed", as the record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Opening::Thaw => "thaw",
            Opening::AlreadyThawed => "already_thawed",
        }
    }
}

/// Everything the pharmacist needs to make one bag.
///
/// Times are instants with the site's zone ([`Preparation::infuse_by`] and
/// the others give them as [`SiteTime`]s); the JSON form writes each one as
/// RFC 9557 text with the zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "PreparationJson", try_from = "PreparationJson")]
pub struct Preparation {
    /// Active or placebo.
    pub content: Content,
    /// Participant id.
    pub participant: Text,
    /// Arm.
    pub arm: Text,
    /// Visit.
    pub visit: Text,
    /// The bag id on the label, if one was given or planned.
    pub bag_id: Option<BagId>,
    /// The sequence number of the bag's ISBT 128 DIN, where the site's
    /// label carries one and it was given or planned.
    pub din_sequence: Option<DinSequence>,
    /// Body weight at the visit.
    pub body_weight: BodyWeight,
    /// Baseline weight, where the order gives one.
    pub baseline_weight: Option<BodyWeight>,
    /// The weight the dose is computed from, after the weight basis and any cap.
    pub dosing_weight: BodyWeight,
    /// Which weight doses.
    pub dosing_weight_from: WeightUsed,
    /// Diluent name.
    pub diluent: Text,
    /// Diluent to add.
    pub diluent_volume: ExactVolume,
    /// Final bag volume.
    pub final_volume: ExactVolume,
    /// Infusion duration.
    pub infusion_duration: SignedDuration,
    /// Pump rate.
    pub pump_rate: PumpRate,
    times: BagTimes,
    /// Expected net mass of the filled bag, where the site weighs bags.
    pub expected_net_mass: Option<Grams>,
    /// The containers drawn from, when a day plan allocated them.
    pub draws: Vec<ContainerDraw>,
    /// The cells, for an active bag; `None` for a placebo (every dose
    /// field of a placebo is absent, never a zero).
    pub dose: Option<ActiveDose>,
}

/// A bag's times: instants, and the site zone they are read in.
#[derive(Debug, Clone)]
struct BagTimes {
    zone: TimeZone,
    thawed_at: Timestamp,
    prepared_at: Option<Timestamp>,
    infusion_at: Option<Timestamp>,
    start_by: Timestamp,
    infuse_by: Timestamp,
}

impl PartialEq for BagTimes {
    fn eq(&self, other: &BagTimes) -> bool {
        self.zone.iana_name() == other.zone.iana_name()
            && self.thawed_at == other.thawed_at
            && self.prepared_at == other.prepared_at
            && self.infusion_at == other.infusion_at
            && self.start_by == other.start_by
            && self.infuse_by == other.infuse_by
    }
}

impl Preparation {
    fn at(&self, instant: Timestamp) -> SiteTime {
        SiteTime::new(instant, self.times.zone.clone())
    }
    /// When the product was thawed (the session's thaw, for a placebo too).
    pub fn thawed_at(&self) -> SiteTime {
        self.at(self.times.thawed_at)
    }
    /// When the bag was prepared, if given.
    pub fn prepared_at(&self) -> Option<SiteTime> {
        self.times.prepared_at.map(|t| self.at(t))
    }
    /// When the infusion is to start, if given.
    pub fn infusion_at(&self) -> Option<SiteTime> {
        self.times.infusion_at.map(|t| self.at(t))
    }
    /// Latest start of the infusion.
    pub fn start_by(&self) -> SiteTime {
        self.at(self.times.start_by)
    }
    /// Latest end of the infusion (thaw + the protocol's window).
    pub fn infuse_by(&self) -> SiteTime {
        self.at(self.times.infuse_by)
    }
}

/// The JSON form of a [`Preparation`]: quantities as numbers named by unit,
/// times as RFC 9557 text.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreparationJson {
    content: Content,
    participant: Text,
    arm: Text,
    visit: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bag_id: Option<BagId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    din_sequence: Option<DinSequence>,
    #[serde(rename = "body_weight_kg", with = "kg")]
    body_weight: BodyWeight,
    #[serde(
        rename = "baseline_weight_kg",
        default,
        skip_serializing_if = "Option::is_none",
        with = "kg::option"
    )]
    baseline_weight: Option<BodyWeight>,
    #[serde(rename = "dosing_weight_kg", with = "kg")]
    dosing_weight: BodyWeight,
    #[serde(default = "visit_weight", skip_serializing_if = "is_visit_weight")]
    dosing_weight_from: WeightUsed,
    diluent: Text,
    #[serde(rename = "diluent_volume_ml", with = "ml")]
    diluent_volume: ExactVolume,
    #[serde(rename = "final_volume_ml", with = "ml")]
    final_volume: ExactVolume,
    #[serde(rename = "infusion_duration_min", with = "minutes")]
    infusion_duration: SignedDuration,
    #[serde(rename = "pump_rate_ml_per_h", with = "ml_per_hour")]
    pump_rate: PumpRate,
    thawed_at: SiteTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prepared_at: Option<SiteTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    infusion_at: Option<SiteTime>,
    start_by: SiteTime,
    infuse_by: SiteTime,
    #[serde(
        rename = "expected_net_mass_g",
        default,
        skip_serializing_if = "Option::is_none",
        with = "grams::option"
    )]
    expected_net_mass: Option<Grams>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    draws: Vec<ContainerDraw>,
    dose: Option<ActiveDose>,
}

impl From<Preparation> for PreparationJson {
    fn from(p: Preparation) -> PreparationJson {
        PreparationJson {
            thawed_at: p.thawed_at(),
            prepared_at: p.prepared_at(),
            infusion_at: p.infusion_at(),
            start_by: p.start_by(),
            infuse_by: p.infuse_by(),
            content: p.content,
            participant: p.participant,
            arm: p.arm,
            visit: p.visit,
            bag_id: p.bag_id,
            din_sequence: p.din_sequence,
            body_weight: p.body_weight,
            baseline_weight: p.baseline_weight,
            dosing_weight: p.dosing_weight,
            dosing_weight_from: p.dosing_weight_from,
            diluent: p.diluent,
            diluent_volume: p.diluent_volume,
            final_volume: p.final_volume,
            infusion_duration: p.infusion_duration,
            pump_rate: p.pump_rate,
            expected_net_mass: p.expected_net_mass,
            draws: p.draws,
            dose: p.dose,
        }
    }
}

impl TryFrom<PreparationJson> for Preparation {
    type Error = DoseError;
    fn try_from(j: PreparationJson) -> Result<Preparation> {
        let zone = j.thawed_at.zone().clone();
        let same_zone = |t: &SiteTime| t.zone().iana_name() == zone.iana_name();
        let all_same = [
            Some(&j.start_by),
            Some(&j.infuse_by),
            j.prepared_at.as_ref(),
            j.infusion_at.as_ref(),
        ]
        .into_iter()
        .flatten()
        .all(same_zone);
        if !all_same {
            return Err(DoseError::InvalidRecord {
                reason: "the preparation's times are not all in one time zone".to_owned(),
            });
        }
        Ok(Preparation {
            times: BagTimes {
                zone,
                thawed_at: j.thawed_at.instant(),
                prepared_at: j.prepared_at.map(|t| t.instant()),
                infusion_at: j.infusion_at.map(|t| t.instant()),
                start_by: j.start_by.instant(),
                infuse_by: j.infuse_by.instant(),
            },
            content: j.content,
            participant: j.participant,
            arm: j.arm,
            visit: j.visit,
            bag_id: j.bag_id,
            din_sequence: j.din_sequence,
            body_weight: j.body_weight,
            baseline_weight: j.baseline_weight,
            dosing_weight: j.dosing_weight,
            dosing_weight_from: j.dosing_weight_from,
            diluent: j.diluent,
            diluent_volume: j.diluent_volume,
            final_volume: j.final_volume,
            infusion_duration: j.infusion_duration,
            pump_rate: j.pump_rate,
            expected_net_mass: j.expected_net_mass,
            draws: j.draws,
            dose: j.dose,
        })
    }
}

fn visit_weight() -> WeightUsed {
    WeightUsed::Visit
}

fn is_visit_weight(used: &WeightUsed) -> bool {
    *used == WeightUsed::Visit
}

impl Preparation {
    /// The rounded draw volume, `None` for a placebo.
    pub fn draw_volume(&self) -> Option<ExactVolume> {
        self.dose.as_ref().map(|d| d.draw_volume)
    }

    /// Containers to thaw, `None` for a placebo.
    pub fn containers_to_thaw(&self) -> Option<u32> {
        self.dose.as_ref().map(|d| d.containers_to_thaw)
    }
}

/// The checks and figures every order gets, placebo or active: content,
/// plausible weight, dosing weight, times.
pub(crate) struct Common {
    pub content: Content,
    weight: BodyWeight,
    dosing_weight: BodyWeight,
    used: WeightUsed,
    times: Times,
}

struct Times {
    thawed_at: Timestamp,
    prepared_at: Option<Timestamp>,
    infusion_at: Option<Timestamp>,
    start_by: Timestamp,
    infuse_by: Timestamp,
}

/// Prepare the bag `order` calls for: the active bag, or the placebo matched
/// to the active bag the participant would have received from this lot.
#[inline]
pub fn prepare(protocol: &Protocol, order: &Order, lot: &Lot) -> Result<Preparation> {
    let common = check_order(protocol, order)?;
    let draw = check_lot(protocol, order, lot, &common)?;
    build(protocol, order, lot, common, &draw)
}

/// The order-level checks: the placebo's own, not its twin's.
#[inline]
pub(crate) fn check_order(protocol: &Protocol, order: &Order) -> Result<Common> {
    common(protocol, order)
}

/// The lot-level checks of the active bag the order stands for; for a
/// placebo, an error is the twin's, said so.
#[inline]
pub(crate) fn check_lot(
    protocol: &Protocol,
    order: &Order,
    lot: &Lot,
    common: &Common,
) -> Result<Draw> {
    let draw = usable_lot(protocol, lot, common.times.thawed_at).and_then(|()| {
        let target = protocol.rule().target(common.dosing_weight);
        plan_draw(protocol, lot, target, common.weight)
    });
    match (common.content, draw) {
        (_, Ok(draw)) => Ok(draw),
        (Content::Active, Err(error)) => Err(error),
        (Content::Placebo, Err(error)) => {
            Err(error.for_placebo(order.participant(), order.visit()))
        }
    }
}

#[inline]
fn usable_lot(protocol: &Protocol, lot: &Lot, thawed_at: Timestamp) -> Result<()> {
    match lot.expires_at() {
        Some(expiry) if expiry.timestamp() < thawed_at => Err(DoseError::LotExpired {
            lot_id: lot.lot_id().to_owned(),
            expires_at: protocol.zone().at(expiry.timestamp()).wall_clock(),
            thawed_at: protocol.zone().at(thawed_at).wall_clock(),
        }),
        _ => Ok(()),
    }
}

/// Prepare many orders from one lot. Results come back in order, an error
/// in the place of each order that fails, so one bad row does not hide the
/// others. Each order is prepared on its own: the containers on hand are not
/// shared out between orders (a day plan does that).
pub fn prepare_many(protocol: &Protocol, orders: &[Order], lot: &Lot) -> Vec<Result<Preparation>> {
    let mut results = Vec::with_capacity(orders.len());
    prepare_many_into(protocol, orders, lot, &mut results);
    results
}

/// [`prepare_many`] into a buffer the caller keeps: its earlier contents are
/// dropped and its memory reused, so a service preparing batch after batch
/// does not fault in fresh pages for every batch.
pub fn prepare_many_into(
    protocol: &Protocol,
    orders: &[Order],
    lot: &Lot,
    results: &mut Vec<Result<Preparation>>,
) {
    results.clear();
    results.extend(orders.iter().map(|order| prepare(protocol, order, lot)));
}

#[inline]
fn common(protocol: &Protocol, order: &Order) -> Result<Common> {
    let content = protocol.content(order.arm(), order.visit())?;
    let weight = plausible("weight", protocol, order.weight())?;
    let baseline = order
        .baseline_weight()
        .map(|w| plausible("baseline_weight", protocol, w))
        .transpose()?;
    let (dosing_weight, used) = dosing_basis(protocol.rule(), weight, baseline)?;
    let times = schedule(protocol, order)?;
    check_din_sequence(protocol, order)?;
    Ok(Common {
        content,
        weight,
        dosing_weight,
        used,
        times,
    })
}

/// A bag of a site whose label carries an ISBT 128 DIN has its sequence
/// number when it has an id (its label is printed); a site without one
/// takes none, so no record holds a number no label shows.
fn check_din_sequence(protocol: &Protocol, order: &Order) -> Result<()> {
    let isbt128 = protocol.label().isbt128.is_some();
    match (isbt128, order.bag_id(), order.din_sequence()) {
        (true, Some(bag_id), None) => Err(DoseError::invalid_input(
            "din_sequence",
            format!(
                "bag {bag_id} has no DIN sequence number, and the site's label carries an ISBT 128 DIN ([label] isbt128); give din_sequence, the next of the facility's counter (ledger.next_din_sequence), or plan the day with the ledger"
            ),
        )),
        (false, _, Some(sequence)) => Err(DoseError::invalid_input(
            "din_sequence",
            format!(
                "{} is given, but the site's label carries no ISBT 128 DIN; drop din_sequence, or give the site's [label] isbt128 codes",
                sequence.value()
            ),
        )),
        _ => Ok(()),
    }
}

#[inline]
fn plausible(field: &str, protocol: &Protocol, weight: BodyWeight) -> Result<BodyWeight> {
    let range = protocol.site().weight_range;
    if weight >= range.min && weight <= range.max {
        return Ok(weight);
    }
    let as_pounds = BodyWeight::from_pounds(weight.kg()).ok();
    let fix = match as_pounds {
        Some(kg) if kg >= range.min && kg <= range.max => format!(
            "if it was measured in pounds, pass '{} lb' ({} kg)",
            weight.kg(),
            round2(kg.kg())
        ),
        _ => "re-weigh the participant and check the unit".to_owned(),
    };
    Err(DoseError::ImplausibleWeight {
        field: field.to_owned(),
        weight_kg: weight.kg(),
        min_kg: range.min.kg(),
        max_kg: range.max.kg(),
        fix,
    })
}

#[inline]
fn schedule(protocol: &Protocol, order: &Order) -> Result<Times> {
    let site = protocol.site();
    let zone = protocol.zone();
    let thawed_at = order.thawed_at().timestamp();
    let prepared_at = order.prepared_at().map(|t| t.timestamp());
    let infusion_at = order.infusion_at().map(|t| t.timestamp());
    let add = |time: Timestamp, duration: SignedDuration| {
        add_duration(time, duration).ok_or_else(|| DoseError::InvalidTime {
            field: "thawed_at".to_owned(),
            input: zone.at(time).wall_clock(),
            reason: format!(
                "adding {} goes past the year 9999; check the date",
                format_duration(duration)
            ),
        })
    };
    for (name, later) in [
        ("preparation time", prepared_at),
        ("infusion start", infusion_at),
    ] {
        if let Some(later) = later {
            if later < thawed_at {
                return Err(DoseError::ThawInFuture {
                    thawed_at: zone.at(thawed_at).wall_clock(),
                    later_name: name.to_owned(),
                    later: zone.at(later).wall_clock(),
                });
            }
        }
    }
    // A dose is computed from a weight taken before the bag is made (or,
    // without a preparation time, before the infusion starts).
    if let (Some(weighed), Some(bound)) = (
        order.weighed_at().map(|t| t.timestamp()),
        prepared_at.or(infusion_at),
    ) {
        if weighed > bound {
            return Err(DoseError::InvalidTime {
                field: "weighed_at".to_owned(),
                input: zone.at(weighed).wall_clock(),
                reason: format!(
                    "the weight the dose is computed from was taken after the {} ({}); check the time of weighing",
                    if prepared_at.is_some() { "preparation" } else { "infusion start" },
                    zone.at(bound).wall_clock()
                ),
            });
        }
    }
    if let (Some(prepared), Some(infusion)) = (prepared_at, infusion_at) {
        if infusion < prepared {
            return Err(DoseError::InvalidTime {
                field: "infusion_at".to_owned(),
                input: zone.at(infusion).wall_clock(),
                reason: format!(
                    "the infusion cannot start before the bag is prepared ({}); check both times",
                    zone.at(prepared).wall_clock()
                ),
            });
        }
    }
    let infuse_by = add(thawed_at, site.max_thaw_to_end_of_infusion)?;
    let start = infusion_at.or(prepared_at).unwrap_or(thawed_at);
    let infusion_end = add(start, site.infusion_duration)?;
    if infusion_end > infuse_by {
        return Err(DoseError::ThawWindowExceeded {
            thawed_at: zone.at(thawed_at).wall_clock(),
            start: zone.at(start).wall_clock(),
            infusion_end: zone.at(infusion_end).wall_clock(),
            infuse_by: zone.at(infuse_by).wall_clock(),
            window: format_duration(site.max_thaw_to_end_of_infusion),
        });
    }
    let start_by = add(infuse_by, -site.infusion_duration)?;
    Ok(Times {
        thawed_at,
        prepared_at,
        infusion_at,
        start_by,
        infuse_by,
    })
}

#[inline]
pub(crate) fn build(
    protocol: &Protocol,
    order: &Order,
    lot: &Lot,
    common: Common,
    draw: &Draw,
) -> Result<Preparation> {
    let site = protocol.site();
    // A placebo's volume is its active twin's: in `qs` mode the fixed final
    // volume, in `additive` mode diluent + the draw the twin would have had.
    let bag_volume = protocol.bag_volume();
    let final_volume = bag_volume.final_volume(draw.volume)?;
    let active_diluent = bag_volume.active_diluent(draw.volume);
    let pump_rate = protocol.pump_rate(final_volume);
    let (diluent_volume, dose) = match common.content {
        Content::Placebo => (final_volume, None),
        Content::Active => (
            active_diluent,
            Some(ActiveDose {
                lot_id: lot.lot_id_shared().clone(),
                dose_basis: site.dose_basis,
                concentration: draw.concentration,
                target_cells: draw.target.target,
                dose_determined_by: Arc::clone(&draw.target.determined_by),
                dose_rule: draw.target.rule,
                acceptable_min_cells: draw.low,
                acceptable_max_cells: draw.high,
                acceptable_range_from: draw.range_from,
                unrounded_draw_volume: draw.unrounded,
                syringe_capacity: draw.syringe_capacity,
                draw_graduation: draw.graduation,
                rounding: draw.rounding,
                draw_volume: draw.volume,
                containers_to_thaw: draw.containers,
                delivered_cells: draw.delivered,
                deviation: draw.delivered.deviation_from(draw.target.target),
                final_concentration: draw.delivered / final_volume,
                dmso: draw.dmso,
            }),
        ),
    };
    let expected_net_mass = site.gravimetric.map(|g| match common.content {
        Content::Active => g.product_density * draw.volume + g.diluent_density * active_diluent,
        Content::Placebo => g.diluent_density * final_volume,
    });
    let times = common.times;
    Ok(Preparation {
        content: common.content,
        participant: order.participant_shared().clone(),
        arm: order.arm_shared().clone(),
        visit: order.visit_shared().clone(),
        bag_id: order.bag_id(),
        din_sequence: order.din_sequence(),
        body_weight: common.weight,
        baseline_weight: order.baseline_weight(),
        dosing_weight: draw.target.dosing_weight,
        dosing_weight_from: common.used,
        diluent: protocol.diluent_name().clone(),
        diluent_volume,
        final_volume,
        infusion_duration: site.infusion_duration,
        pump_rate,
        times: BagTimes {
            zone: protocol.zone().zone().clone(),
            thawed_at: times.thawed_at,
            prepared_at: times.prepared_at,
            infusion_at: times.infusion_at,
            start_by: times.start_by,
            infuse_by: times.infuse_by,
        },
        expected_net_mass,
        draws: Vec::new(),
        dose,
    })
}

#[cfg(test)]
mod tests {
    use super::Preparation;

    /// The size the README gives for a `Preparation` (what `prepare`
    /// returns, moved whole), held here so that the figure is reproduced.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_preparation_is_504_bytes() {
        assert_eq!(std::mem::size_of::<Preparation>(), 504);
    }
}
