//! From protocol + order + lot to the bag: the dose, the draw, the diluent,
//! the pump rate and the times, for an active bag or its matched placebo.
//!
//! Rounding happens once, here: the draw volume is rounded half up to a whole
//! number of the protocol's increments and held exactly (see
//! [`round_half_up`]). Delivered cells and the deviation are recomputed from
//! the rounded draw and must fall within the protocol tolerance.

use jiff::{SignedDuration, ZonedDateTime as Zoned};
use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::lot::Lot;
use crate::order::{format_time, Order};
use crate::protocol::{Content, DoseBasis, DoseRule, FinalVolumeMode, Protocol};
use crate::units::{
    self, BodyWeight, CellConcentration, CellCount, ExactVolume, PumpRate, DMSO_DENSITY_G_PER_ML,
};

/// A quotient within this many increments below a half-way point counts as
/// half-way, so that a draw of 5.75 mL that arrives as 5.7499999999 mL after
/// `target ÷ concentration` still rounds up to 5.8 mL every time.
const HALF_WAY_SLACK: f64 = 1e-9;

/// Relative slack on the tolerance check, for the same floating-point noise:
/// a deviation of exactly 10.000000000000002% passes a ±10% tolerance.
const TOLERANCE_SLACK: f64 = 1e-12;

/// Round half up: 57.49 → 57, 57.5 → 58, 57.4999999999 → 58 (see
/// [`HALF_WAY_SLACK`]). `quotient` must be finite and ≥ 0.
pub fn round_half_up(quotient: f64) -> f64 {
    let floor = quotient.floor();
    if quotient - floor >= 0.5 - HALF_WAY_SLACK {
        floor + 1.0
    } else {
        floor
    }
}

/// The cell dose of an active bag, with the unrounded figures beside the
/// rounded ones for the worksheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveDose {
    /// The lot drawn from.
    pub lot_id: String,
    /// Which cells the counts below count.
    pub dose_basis: DoseBasis,
    /// Concentration the draw is computed from (viable, or total for a
    /// `total` basis), cells/mL.
    pub concentration_cells_per_ml: f64,
    /// Target cells: dose per kg × dosing weight.
    pub target_cells: CellCount,
    /// Lowest acceptable delivered cells.
    pub acceptable_min_cells: CellCount,
    /// Highest acceptable delivered cells.
    pub acceptable_max_cells: CellCount,
    /// target ÷ concentration, before rounding, mL.
    pub unrounded_draw_volume_ml: f64,
    /// The draw, rounded half up to the protocol increment.
    #[serde(rename = "draw_volume_ml", with = "ml_number")]
    pub draw_volume: ExactVolume,
    /// Fewest containers that hold the draw.
    pub containers_to_thaw: u64,
    /// Cells the rounded draw delivers.
    pub delivered_cells: CellCount,
    /// (delivered − target) ÷ target, signed: 0.0014 is +0.14%.
    pub deviation: f64,
    /// Delivered cells ÷ final volume.
    pub final_concentration_cells_per_ml: f64,
    /// DMSO in the bag per kg body weight, where the lot gives its DMSO fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dmso_g_per_kg: Option<f64>,
}

/// Everything the pharmacist needs to make one bag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preparation {
    /// Active or placebo.
    pub content: Content,
    /// Participant id.
    pub participant: String,
    /// Arm.
    pub arm: String,
    /// Visit.
    pub visit: String,
    /// Body weight, kg.
    pub body_weight_kg: f64,
    /// Weight the dose is computed from (body weight, capped if the protocol caps it), kg.
    pub dosing_weight_kg: f64,
    /// Diluent name.
    pub diluent: String,
    /// Diluent to put in the bag.
    #[serde(rename = "diluent_volume_ml", with = "ml_number")]
    pub diluent_volume: ExactVolume,
    /// The bag's final volume (placebo: the active twin's).
    #[serde(rename = "final_volume_ml", with = "ml_number")]
    pub final_volume: ExactVolume,
    /// Infusion duration.
    #[serde(rename = "infusion_duration_min", with = "minutes_number")]
    pub infusion_duration: SignedDuration,
    /// Pump rate, mL/h.
    pub pump_rate_ml_per_h: f64,
    /// When the bag is prepared.
    #[serde(with = "crate::order::time_text")]
    pub prepared_at: Zoned,
    /// Latest start of the infusion.
    #[serde(with = "crate::order::time_text")]
    pub start_by: Zoned,
    /// Latest end of the infusion (thaw + the protocol's window).
    #[serde(with = "crate::order::time_text")]
    pub infuse_by: Zoned,
    /// The cells, for an active bag; `None` for a placebo.
    pub dose: Option<ActiveDose>,
}

impl Preparation {
    /// The rounded draw volume (0 mL for a placebo).
    pub fn draw_volume(&self) -> ExactVolume {
        self.dose
            .as_ref()
            .map_or(ExactVolume::ZERO, |d| d.draw_volume)
    }

    /// Delivered cells (0 for a placebo).
    pub fn delivered_cells(&self) -> CellCount {
        self.dose
            .as_ref()
            .map_or(CellCount(0.0), |d| d.delivered_cells)
    }

    /// Containers to thaw (0 for a placebo).
    pub fn containers_to_thaw(&self) -> u64 {
        self.dose.as_ref().map_or(0, |d| d.containers_to_thaw)
    }
}

/// The draw a dose needs, before bag volumes and containers.
struct Draw {
    concentration: CellConcentration,
    target: CellCount,
    unrounded_ml: f64,
    volume: ExactVolume,
    delivered: CellCount,
    deviation: f64,
}

/// Prepare the bag `order` calls for: the active bag, or the placebo matched
/// to the active bag the participant would have received from this lot.
pub fn prepare(protocol: &Protocol, order: &Order, lot: &Lot) -> Result<Preparation> {
    protocol.validate()?;
    prepare_validated(protocol, order, lot)
}

/// Prepare many orders from one lot, checking the protocol once. Results come
/// back in order, an error in the place of each order that fails, so one bad
/// row does not hide the others. Each order is prepared on its own: the
/// containers on hand are not shared out between orders.
pub fn prepare_many(protocol: &Protocol, orders: &[Order], lot: &Lot) -> Vec<Result<Preparation>> {
    match protocol.validate() {
        Ok(()) => orders
            .iter()
            .map(|order| prepare_validated(protocol, order, lot))
            .collect(),
        Err(error) => orders.iter().map(|_| Err(error.clone())).collect(),
    }
}

fn prepare_validated(protocol: &Protocol, order: &Order, lot: &Lot) -> Result<Preparation> {
    let content = protocol.content(order.arm(), order.visit())?;
    let weight = plausible_weight(protocol, order.weight())?;
    let dosing_weight = match &protocol.dose {
        DoseRule::PerKg {
            dosing_weight_cap: Some(cap),
            ..
        } => weight.min(*cap),
        DoseRule::PerKg { .. } => weight,
    };
    let site = &protocol.site;
    let schedule = schedule(protocol, order)?;

    if content == Content::Active && lot.viability() < site.viability_floor {
        return Err(DoseError::ViabilityBelowFloor {
            lot_id: lot.lot_id().to_owned(),
            value: lot.viability(),
            floor: site.viability_floor,
        });
    }
    // A placebo's volume is its active twin's: in `qs` mode the fixed final
    // volume, in `additive` mode diluent + the draw the twin would have had.
    let draw = match (content, site.final_volume_mode) {
        (Content::Placebo, FinalVolumeMode::Qs) => None,
        _ => Some(plan_draw(protocol, dosing_weight, lot)?),
    };
    let draw_volume = draw.as_ref().map_or(ExactVolume::ZERO, |d| d.volume);
    let final_volume = match site.final_volume_mode {
        FinalVolumeMode::Qs => protocol.diluent.volume,
        FinalVolumeMode::Additive => protocol
            .diluent
            .volume
            .checked_add(draw_volume)
            .ok_or_else(|| {
                too_dilute(
                    protocol,
                    lot,
                    draw_volume.ml(),
                    ExactVolume::ZERO,
                    "overflow",
                )
            })?,
    };
    let diluent_volume = match content {
        Content::Placebo => final_volume,
        // plan_draw has already held the draw to the final volume in qs mode.
        Content::Active => final_volume.checked_sub(draw_volume).ok_or_else(|| {
            too_dilute(
                protocol,
                lot,
                draw_volume.ml(),
                final_volume,
                "the final volume",
            )
        })?,
    };
    let pump_rate = PumpRate::for_infusion(final_volume, site.infusion_duration);

    let dose = match (content, draw) {
        (Content::Active, Some(draw)) => {
            Some(active_dose(protocol, lot, weight, draw, final_volume)?)
        }
        _ => None,
    };
    Ok(Preparation {
        content,
        participant: order.participant().to_owned(),
        arm: order.arm().to_owned(),
        visit: order.visit().to_owned(),
        body_weight_kg: weight.kg(),
        dosing_weight_kg: dosing_weight.kg(),
        diluent: protocol.diluent.name.clone(),
        diluent_volume,
        final_volume,
        infusion_duration: site.infusion_duration,
        pump_rate_ml_per_h: pump_rate.ml_per_hour(),
        prepared_at: order.prepared_at().clone(),
        start_by: schedule.start_by,
        infuse_by: schedule.infuse_by,
        dose,
    })
}

fn plausible_weight(protocol: &Protocol, weight: BodyWeight) -> Result<BodyWeight> {
    let range = protocol.site.weight_range;
    if weight >= range.min && weight <= range.max {
        return Ok(weight);
    }
    let as_pounds = BodyWeight::from_pounds(weight.kg()).ok();
    let fix = match as_pounds {
        Some(kg) if kg >= range.min && kg <= range.max => format!(
            "if it was measured in pounds, pass '{} lb' ({} kg)",
            weight.kg(),
            round_for_message(kg.kg())
        ),
        _ => "re-weigh the participant and check the unit".to_owned(),
    };
    Err(DoseError::ImplausibleWeight {
        weight_kg: weight.kg(),
        min_kg: range.min.kg(),
        max_kg: range.max.kg(),
        fix,
    })
}

fn round_for_message(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

struct Schedule {
    start_by: Zoned,
    infuse_by: Zoned,
}

fn schedule(protocol: &Protocol, order: &Order) -> Result<Schedule> {
    let site = &protocol.site;
    let thawed_at = order.thawed_at();
    let prepared_at = order.prepared_at();
    if thawed_at.timestamp() > prepared_at.timestamp() {
        return Err(DoseError::ThawInFuture {
            thawed_at: format_time(thawed_at),
            prepared_at: format_time(prepared_at),
        });
    }
    let add = |time: &Zoned, duration: SignedDuration| {
        time.checked_add(duration)
            .map_err(|e| DoseError::InvalidTime {
                field: "thawed_at".to_owned(),
                input: format_time(time),
                reason: format!(
                    "adding {} goes out of range: {e}",
                    units::format_duration(duration)
                ),
            })
    };
    let infuse_by = add(thawed_at, site.max_thaw_to_end_of_infusion)?;
    let infusion_end = add(prepared_at, site.infusion_duration)?;
    if infusion_end.timestamp() > infuse_by.timestamp() {
        return Err(DoseError::ThawWindowExceeded {
            thawed_at: format_time(thawed_at),
            prepared_at: format_time(prepared_at),
            infusion_end: format_time(&infusion_end),
            infuse_by: format_time(&infuse_by),
            window: units::format_duration(site.max_thaw_to_end_of_infusion),
        });
    }
    let start_by = add(&infuse_by, -site.infusion_duration)?;
    Ok(Schedule {
        start_by,
        infuse_by,
    })
}

fn too_dilute(
    protocol: &Protocol,
    lot: &Lot,
    draw_ml: f64,
    limit: ExactVolume,
    reason: &str,
) -> DoseError {
    let concentration = match protocol.site.dose_basis {
        DoseBasis::Viable => lot.viable_cells_per_ml().cells_per_ml(),
        DoseBasis::Total => lot.viable_cells_per_ml().cells_per_ml() / lot.viability(),
    };
    DoseError::LotTooDilute {
        lot_id: lot.lot_id().to_owned(),
        draw_ml,
        limit_ml: limit.ml(),
        limit_reason: reason.to_owned(),
        concentration,
    }
}

/// The largest draw the bag allows, and why.
fn draw_limit(protocol: &Protocol) -> (ExactVolume, &'static str) {
    let site = &protocol.site;
    match (site.final_volume_mode, site.max_draw_volume) {
        (FinalVolumeMode::Qs, Some(max)) if max < protocol.diluent.volume => {
            (max, "site.max_draw_volume")
        }
        (FinalVolumeMode::Qs, _) => (protocol.diluent.volume, "the final volume in qs mode"),
        (FinalVolumeMode::Additive, Some(max)) => (max, "site.max_draw_volume"),
        // validate() requires max_draw_volume in additive mode.
        (FinalVolumeMode::Additive, None) => (ExactVolume::ZERO, "site.max_draw_volume is unset"),
    }
}

fn plan_draw(protocol: &Protocol, dosing_weight: BodyWeight, lot: &Lot) -> Result<Draw> {
    let site = &protocol.site;
    let concentration = match site.dose_basis {
        DoseBasis::Viable => lot.viable_cells_per_ml(),
        DoseBasis::Total => lot.viable_cells_per_ml().scaled(1.0 / lot.viability()),
    };
    let target = protocol.cells_per_kg() * dosing_weight;
    let unrounded_ml = units::volume_ml(target / concentration);
    let increment = site.draw_increment;
    let increments = round_half_up(unrounded_ml * 1000.0 / increment.microlitres() as f64);
    let (limit, limit_reason) = draw_limit(protocol);
    // Compared in f64 before any integer conversion, so a huge or infinite
    // draw is an error, never a saturated cast.
    if !increments.is_finite()
        || increments * increment.microlitres() as f64 > limit.microlitres() as f64
    {
        return Err(too_dilute(
            protocol,
            lot,
            round_for_message(unrounded_ml),
            limit,
            limit_reason,
        ));
    }
    let volume = increment
        .checked_mul(increments as u64)
        .ok_or_else(|| too_dilute(protocol, lot, unrounded_ml, limit, limit_reason))?;
    let delivered = concentration * volume;
    let deviation = (delivered.cells() - target.cells()) / target.cells();
    // Written so that a NaN deviation fails the check too.
    let within_tolerance = deviation.abs() <= site.dose_tolerance * (1.0 + TOLERANCE_SLACK);
    if !within_tolerance {
        return Err(DoseError::OutsideTolerance {
            delivered: delivered.cells(),
            target: target.cells(),
            draw_ml: volume.ml(),
            deviation_percent: deviation * 100.0,
            tolerance_percent: site.dose_tolerance * 100.0,
            increment_ml: increment.ml(),
        });
    }
    Ok(Draw {
        concentration,
        target,
        unrounded_ml,
        volume,
        delivered,
        deviation,
    })
}

fn active_dose(
    protocol: &Protocol,
    lot: &Lot,
    weight: BodyWeight,
    draw: Draw,
    final_volume: ExactVolume,
) -> Result<ActiveDose> {
    let container = lot.container_volume();
    let containers_to_thaw = draw
        .volume
        .microlitres()
        .div_ceil(container.microlitres().max(1));
    if containers_to_thaw > u64::from(lot.containers()) {
        return Err(DoseError::NotEnoughContainers {
            lot_id: lot.lot_id().to_owned(),
            draw_ml: draw.volume.ml(),
            container_ml: container.ml(),
            needed: containers_to_thaw,
            on_hand: lot.containers(),
        });
    }
    // DMSO is dosed per kg of actual body weight, not the capped dosing weight.
    let dmso_g_per_kg = lot
        .dmso_fraction()
        .map(|fraction| draw.volume.ml() * fraction * DMSO_DENSITY_G_PER_ML / weight.kg());
    if let (Some(exposure), Some(limit)) = (dmso_g_per_kg, protocol.site.dmso_limit) {
        if exposure > limit {
            return Err(DoseError::DmsoOverLimit {
                g_per_kg: exposure,
                limit_g_per_kg: limit,
            });
        }
    }
    let tolerance = protocol.site.dose_tolerance;
    Ok(ActiveDose {
        lot_id: lot.lot_id().to_owned(),
        dose_basis: protocol.site.dose_basis,
        concentration_cells_per_ml: draw.concentration.cells_per_ml(),
        target_cells: draw.target,
        acceptable_min_cells: CellCount(draw.target.cells() * (1.0 - tolerance)),
        acceptable_max_cells: CellCount(draw.target.cells() * (1.0 + tolerance)),
        unrounded_draw_volume_ml: draw.unrounded_ml,
        draw_volume: draw.volume,
        containers_to_thaw,
        delivered_cells: draw.delivered,
        deviation: draw.deviation,
        final_concentration_cells_per_ml: draw.delivered / final_volume,
        dmso_g_per_kg,
    })
}

/// Serde for an [`ExactVolume`] as a number of mL (5.8), read back exactly.
pub mod ml_number {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Write mL.
    pub fn serialize<S: Serializer>(
        volume: &ExactVolume,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_f64(volume.ml())
    }

    /// Read mL (must be whole microlitres, ≥ 0).
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<ExactVolume, D::Error> {
        let ml = f64::deserialize(deserializer)?;
        if ml == 0.0 {
            return Ok(ExactVolume::ZERO);
        }
        ExactVolume::from_ml("volume", ml).map_err(serde::de::Error::custom)
    }
}

/// Serde for a duration as a number of minutes (30), read back to the second.
pub mod minutes_number {
    use super::*;
    use serde::{Deserializer, Serializer};

    /// Write minutes.
    pub fn serialize<S: Serializer>(
        duration: &SignedDuration,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64() / 60.0)
    }

    /// Read minutes.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<SignedDuration, D::Error> {
        let minutes = f64::deserialize(deserializer)?;
        let seconds = (minutes * 60.0).round();
        if !(seconds.is_finite() && (0.0..=1e9).contains(&seconds)) {
            return Err(serde::de::Error::custom(format!(
                "infusion duration {minutes} min is out of range"
            )));
        }
        Ok(SignedDuration::from_secs(seconds as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_up_is_stated_and_stable() {
        assert_eq!(round_half_up(57.92), 58.0);
        assert_eq!(round_half_up(57.49), 57.0);
        assert_eq!(round_half_up(57.5), 58.0);
        assert_eq!(round_half_up(57.49999999999999), 58.0);
        assert_eq!(round_half_up(0.4), 0.0);
        // 5.75 mL / 0.1 mL arrives as 57.49999999999999 in f64.
        assert_eq!(round_half_up(5.75 / 0.1), 58.0);
    }
}
