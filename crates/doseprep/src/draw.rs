//! The draw as it happens at the bench: which syringe, rounded to which
//! graduation (half up, or down where half up would pass a hard maximum),
//! whether the delivered dose is in range, how many containers it takes
//! (from what one container yields), and the DMSO it carries.
//!
//! Rounding happens once, here, on exact values: the decision between two
//! graduations is made on the true quotient of the target and the
//! concentration (see `CellConcentration::steps_half_up`), not on a float
//! that carries noise, so no slack is needed.

use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result, StockCounted, YieldFrom};
use crate::format::round2;
use crate::lot::Lot;
use crate::protocol::{DoseBasis, Protocol};
use crate::rules::DoseTarget;
use crate::units::{
    BodyWeight, CellConcentration, CellCount, ComputedVolume, DmsoExposure, ExactVolume,
};

/// How the draw was rounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rounding {
    /// To the nearest graduation, halves up.
    HalfUp,
    /// Down to a graduation, because half up would deliver more than the
    /// rule's hard maximum.
    DownForMaximum,
}

/// Where the acceptable range comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RangeFrom {
    /// The site tolerance around the target, both sides.
    Tolerance,
    /// The dose rule's minimum and maximum.
    Rule,
    /// The rule's minimum, the site tolerance above the target.
    RuleMinimum,
    /// The site tolerance below the target, the rule's maximum.
    RuleMaximum,
}

impl Rounding {
    /// "half-up" or "down-for-maximum", as the record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rounding::HalfUp => "half-up",
            Rounding::DownForMaximum => "down-for-maximum",
        }
    }
}

impl RangeFrom {
    /// "tolerance", "rule", "rule-minimum" or "rule-maximum", as the record
    /// writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RangeFrom::Tolerance => "tolerance",
            RangeFrom::Rule => "rule",
            RangeFrom::RuleMinimum => "rule-minimum",
            RangeFrom::RuleMaximum => "rule-maximum",
        }
    }

    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            RangeFrom::Tolerance => "the site tolerance around the target",
            RangeFrom::Rule => "the dose rule's range",
            RangeFrom::RuleMinimum => {
                "the dose rule's minimum, the site tolerance above the target"
            }
            RangeFrom::RuleMaximum => {
                "the site tolerance below the target, the dose rule's maximum"
            }
        }
    }
}

/// A planned draw that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draw {
    pub concentration: CellConcentration,
    pub target: DoseTarget,
    pub low: CellCount,
    pub high: CellCount,
    pub range_from: RangeFrom,
    pub unrounded: ComputedVolume,
    pub syringe_capacity: Option<ExactVolume>,
    pub graduation: ExactVolume,
    pub rounding: Rounding,
    pub volume: ExactVolume,
    pub delivered: CellCount,
    pub containers: u32,
    pub dmso: Option<DmsoExposure>,
}

/// The concentration the dose is computed from: viable, or total cells.
#[inline]
pub(crate) fn dose_concentration(protocol: &Protocol, lot: &Lot) -> CellConcentration {
    match protocol.site().dose_basis {
        DoseBasis::Viable => lot.viable_cells_per_ml(),
        DoseBasis::Total => {
            CellConcentration::total_from_viable(lot.viable_cells_per_ml(), lot.viability())
        }
    }
}

/// Too few containers of `lot` for a draw of `volume`: `needed`, of which
/// `available` are in the `stock` counted.
pub(crate) fn shortage(
    lot: &Lot,
    volume: ExactVolume,
    needed: u64,
    available: u64,
    stock: StockCounted,
) -> DoseError {
    DoseError::NotEnoughContainers {
        lot_id: lot.lot_id().to_owned(),
        draw_ml: volume.ml(),
        per_container_ml: lot.yield_per_container().volume().ml(),
        per_container: match lot.extractable_volume() {
            Some(_) => YieldFrom::Extractable,
            None => YieldFrom::Fill,
        },
        needed,
        available,
        stock,
    }
}

fn too_dilute(
    lot: &Lot,
    concentration: CellConcentration,
    draw_ml: f64,
    limit: ExactVolume,
    reason: &str,
) -> DoseError {
    DoseError::LotTooDilute {
        lot_id: lot.lot_id().to_owned(),
        draw_ml,
        limit_ml: limit.ml(),
        limit_reason: reason.to_owned(),
        concentration: concentration.cells_per_ml(),
    }
}

/// Plan the draw of an active bag for `target` from `lot`, with every check
/// a lot can fail: viability floor, dilution, syringe, range after
/// rounding, containers, DMSO. `weight` is the participant's body weight
/// (DMSO is dosed per kg of actual weight, not the capped dosing weight).
#[inline]
pub(crate) fn plan_draw(
    protocol: &Protocol,
    lot: &Lot,
    target: DoseTarget,
    weight: BodyWeight,
) -> Result<Draw> {
    let site = protocol.site();
    if lot.viability() < site.viability_floor {
        return Err(DoseError::ViabilityBelowFloor {
            lot_id: lot.lot_id().to_owned(),
            value: lot.viability().value(),
            floor: site.viability_floor.value(),
        });
    }
    let concentration = dose_concentration(protocol, lot);
    let aim = target.target;
    let unrounded = aim / concentration;
    let (limit, limit_reason) = protocol.bag_volume().draw_limit();
    if !concentration.delivers_at_least(limit, aim) {
        return Err(too_dilute(
            lot,
            concentration,
            unrounded.ml(),
            limit,
            limit_reason,
        ));
    }
    let (syringe_capacity, graduation) = if site.syringes.is_empty() {
        (None, site.draw_increment)
    } else {
        // Smallest first (checked): the first that holds the unrounded draw.
        let syringe = site
            .syringes
            .iter()
            .find(|s| concentration.delivers_at_least(s.capacity, aim));
        match syringe {
            Some(s) => (Some(s.capacity), s.graduation),
            None => {
                return Err(DoseError::NoSyringe {
                    draw_ml: unrounded.ml(),
                    largest_ml: site.syringes.last().map_or(0.0, |s| s.capacity.ml()),
                })
            }
        }
    };
    let too_large = || too_dilute(lot, concentration, unrounded.ml(), limit, limit_reason);
    let mut rounding = Rounding::HalfUp;
    let mut steps = concentration
        .steps_half_up(aim, graduation)
        .ok_or_else(too_large)?;
    if let Some(maximum) = target.rule_max {
        let half_up = graduation.checked_mul(steps).ok_or_else(too_large)?;
        if !concentration.delivers_at_most(half_up, maximum) {
            steps = concentration
                .steps_down(aim, graduation)
                .ok_or_else(too_large)?;
            rounding = Rounding::DownForMaximum;
        }
    }
    let volume = graduation.checked_mul(steps).ok_or_else(too_large)?;
    if volume > limit {
        return Err(too_large());
    }
    let tolerance = site.dose_tolerance.value();
    let (low, range_low_from_rule) = match target.rule_min {
        Some(min) => (min, true),
        None => (aim.scaled(1.0 - tolerance), false),
    };
    let (high, range_high_from_rule) = match target.rule_max {
        Some(max) => (max, true),
        None => (aim.scaled(1.0 + tolerance), false),
    };
    let range_from = match (range_low_from_rule, range_high_from_rule) {
        (true, true) => RangeFrom::Rule,
        (false, false) => RangeFrom::Tolerance,
        (true, false) => RangeFrom::RuleMinimum,
        (false, true) => RangeFrom::RuleMaximum,
    };
    let delivered = concentration * volume;
    let in_range = !volume.is_zero()
        && concentration.delivers_at_least(volume, low)
        && concentration.delivers_at_most(volume, high);
    if !in_range {
        let range_words = match range_from {
            RangeFrom::Tolerance => {
                format!("the protocol tolerance of ±{}%", round2(tolerance * 100.0))
            }
            other => other.describe().to_owned(),
        };
        return Err(DoseError::OutsideTolerance {
            delivered: delivered.cells(),
            low: low.cells(),
            high: high.cells(),
            target: aim.cells(),
            draw_ml: volume.ml(),
            deviation_percent: delivered.deviation_from(aim).value() * 100.0,
            range_from: range_words,
            fix: format!(
                "the {graduation} graduation is too coarse for this lot; use a finer syringe or increment, or a less concentrated lot"
            ),
        });
    }
    let per_container = lot.yield_per_container();
    let needed = per_container.containers_for(volume);
    if needed > u64::from(lot.containers()) {
        return Err(shortage(
            lot,
            volume,
            needed,
            u64::from(lot.containers()),
            StockCounted::OnHand,
        ));
    }
    #[expect(
        clippy::expect_used,
        reason = "needed is at most the containers on hand, a u32, or the draw was refused above"
    )]
    let containers = u32::try_from(needed).expect("needed fits the u32 count on hand"); // allow-panic: see the reason above
    let dmso = lot
        .dmso_fraction()
        .map(|fraction| DmsoExposure::of_draw(volume, fraction, weight));
    if let Some(limit) = site.dmso_limit {
        match dmso {
            None => {
                return Err(DoseError::DmsoFractionMissing {
                    lot_id: lot.lot_id().to_owned(),
                    limit_g_per_kg: limit.g_per_kg(),
                })
            }
            Some(exposure) if exposure > limit => {
                return Err(DoseError::DmsoOverLimit {
                    lot_id: lot.lot_id().to_owned(),
                    g_per_kg: exposure.g_per_kg(),
                    limit_g_per_kg: limit.g_per_kg(),
                })
            }
            Some(_) => {}
        }
    }
    Ok(Draw {
        concentration,
        target,
        low,
        high,
        range_from,
        unrounded,
        syringe_capacity,
        graduation,
        rounding,
        volume,
        delivered,
        containers,
        dmso,
    })
}
