//! The unblinded pharmacy worksheet, from a preparation record alone.

use std::fmt::Write as _;

use crate::draw::Rounding;
use crate::format;
use crate::prepare::Opening;
use crate::protocol::{Content, DoseBasis, FinalVolumeMode};
use crate::record::VerifiedRecord;
use crate::rules::WeightUsed;
use crate::units::{format_duration, fraction};

/// The worksheet: the steps in order, each with its quantity. It says what
/// the bag holds: keep it in the pharmacy. It takes a verified record only:
/// its "pass" lines are the checks that verification ran again on these
/// figures.
pub fn worksheet(record: &VerifiedRecord) -> String {
    let protocol = &record.protocol;
    let order = &record.order;
    let lot = &record.lot;
    let prep = &record.preparation;
    let site = protocol.site();
    let mut sheet = String::new();
    let short = |fingerprint: &'_ str| -> String { fingerprint.chars().take(12).collect() };
    // `writeln!` to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(
        sheet,
        "UNBLINDED PREPARATION WORKSHEET: keep in pharmacy, do not send with the bag"
    );
    let _ = writeln!(
        sheet,
        "Protocol: {} (trial fingerprint {}, site {})",
        protocol.name(),
        short(&record.trial_fingerprint),
        short(&record.site_fingerprint)
    );
    if let Some(bag_id) = prep.bag_id {
        let _ = writeln!(sheet, "Bag: {bag_id}");
    }
    let _ = writeln!(sheet);
    let _ = writeln!(sheet, "1. Verify the order");
    let _ = writeln!(sheet, "   Participant: {}", prep.participant);
    let entered = order
        .weight_as_entered()
        .map_or_else(String::new, |text| format!(" (entered as {text})"));
    let _ = writeln!(
        sheet,
        "   Weight: {}{entered}",
        format::kilograms(prep.body_weight)
    );
    if let Some(baseline) = prep.baseline_weight {
        let entered = order
            .baseline_weight_as_entered()
            .map_or_else(String::new, |text| format!(" (entered as {text})"));
        let _ = writeln!(
            sheet,
            "   Baseline weight: {}{entered}",
            format::kilograms(baseline)
        );
    }
    if prep.dosing_weight_from != WeightUsed::Visit {
        let _ = writeln!(sheet, "   Doses on: {}", prep.dosing_weight_from.describe());
    }
    if prep.dosing_weight != prep.body_weight && prep.dosing_weight_from == WeightUsed::Visit {
        let _ = writeln!(
            sheet,
            "   Dosing weight: {} (protocol cap)",
            format::kilograms(prep.dosing_weight)
        );
    } else if prep.dosing_weight_from == WeightUsed::Baseline {
        let _ = writeln!(
            sheet,
            "   Dosing weight: {}",
            format::kilograms(prep.dosing_weight)
        );
    }
    let _ = writeln!(sheet, "   Arm: {}   Visit: {}", prep.arm, prep.visit);
    let _ = writeln!(
        sheet,
        "   Content: {}",
        match prep.content {
            Content::Active => "ACTIVE",
            Content::Placebo => "PLACEBO",
        }
    );
    let _ = writeln!(sheet, "   Thawed: {}", prep.thawed_at().wall_clock());
    if let Some(prepared) = prep.prepared_at() {
        let _ = writeln!(sheet, "   Prepared: {}", prepared.wall_clock());
    }
    if let Some(infusion) = prep.infusion_at() {
        let _ = writeln!(sheet, "   Infusion starts: {}", infusion.wall_clock());
    }

    let mode = match site.final_volume_mode {
        FinalVolumeMode::Qs => "qs to the final volume",
        FinalVolumeMode::Additive => "cells added to the diluent",
    };
    let yield_note = match lot.extractable_volume() {
        Some(extractable) => format!(
            "each yields {} of its {}",
            format::volume(extractable),
            format::volume(lot.container_volume())
        ),
        None => "the lot gives no extractable volume: every container is assumed to empty fully"
            .to_owned(),
    };
    match &prep.dose {
        Some(dose) => {
            let basis = match dose.dose_basis {
                DoseBasis::Viable => "viable cells",
                DoseBasis::Total => "total cells",
            };
            let _ = writeln!(sheet, "2. Verify the lot");
            let _ = writeln!(
                sheet,
                "   Lot {}: {} viable",
                dose.lot_id,
                format::concentration(lot.viable_cells_per_ml())
            );
            let _ = writeln!(
                sheet,
                "   Viability {} (floor {}): pass",
                format::ratio_percent(lot.viability()),
                format::ratio_percent(site.viability_floor)
            );
            if dose.dose_basis == DoseBasis::Total {
                let _ = writeln!(
                    sheet,
                    "   Total (viable / viability): {}",
                    format::concentration(dose.concentration)
                );
            }
            if prep.draws.is_empty() {
                let _ = writeln!(
                    sheet,
                    "3. Thaw {} container{} of {} (on hand: {}; {yield_note})",
                    dose.containers_to_thaw,
                    plural(dose.containers_to_thaw as usize),
                    format::volume(lot.container_volume()),
                    lot.containers()
                );
            } else {
                // A bag of a day's plan: the containers its session shares,
                // each thawed once, for the first bag that draws from it,
                // exactly as the pick list says.
                let thaw = prep
                    .draws
                    .iter()
                    .filter(|d| d.opening == Opening::Thaw)
                    .count();
                let session = prep.thawed_at().wall_clock();
                let _ = writeln!(
                    sheet,
                    "3. Containers of {}: thaw {thaw} for this bag at {session}, take {} already thawed in this session (on hand at the start of the day: {}; {yield_note})",
                    format::volume(lot.container_volume()),
                    prep.draws.len() - thaw,
                    lot.containers()
                );
                for draw in &prep.draws {
                    let how = match draw.opening {
                        Opening::Thaw => "thaw it now (pick list)",
                        Opening::AlreadyThawed => {
                            "already thawed for an earlier bag of this session: do not thaw another"
                        }
                    };
                    let _ = writeln!(
                        sheet,
                        "   Container {} of lot {}: draw {} ({how})",
                        draw.container,
                        draw.lot_id,
                        format::volume(draw.volume)
                    );
                }
            }
            let syringe = match dose.syringe_capacity {
                Some(capacity) => format!(
                    "{} syringe, graduated every {}",
                    format::volume(capacity),
                    format::volume(dose.draw_graduation)
                ),
                None => format!("increment {}", format::volume(dose.draw_graduation)),
            };
            let rounding = match dose.rounding {
                Rounding::HalfUp => "rounded half up",
                Rounding::DownForMaximum => {
                    "ROUNDED DOWN: half up would deliver more than the protocol's maximum"
                }
            };
            let _ = writeln!(
                sheet,
                "4. Draw {} of cell suspension ({syringe}; computed {}, {rounding})",
                format::volume(dose.draw_volume),
                format::computed_volume(dose.unrounded_draw_volume)
            );
            let _ = writeln!(
                sheet,
                "5. Add {} {} (final volume {}, {mode})",
                format::volume(prep.diluent_volume),
                prep.diluent,
                format::volume(prep.final_volume)
            );
            let _ = writeln!(sheet, "6. Check the dose ({basis})");
            let _ = writeln!(sheet, "   Set by: {}", dose.dose_determined_by);
            let _ = writeln!(sheet, "   Target:    {}", format::count(dose.target_cells));
            let _ = writeln!(
                sheet,
                "   Delivered: {}",
                format::count(dose.delivered_cells)
            );
            let _ = writeln!(
                sheet,
                "   Accepted:  {} to {} ({}): pass",
                format::count(dose.acceptable_min_cells),
                format::count(dose.acceptable_max_cells),
                dose.acceptable_range_from.describe()
            );
            let _ = writeln!(
                sheet,
                "   Deviation: {} (site tolerance ±{})",
                format::ratio_signed_percent(dose.deviation),
                format::ratio_percent(site.dose_tolerance)
            );
            let _ = writeln!(
                sheet,
                "   Final concentration: {}",
                format::concentration(dose.final_concentration)
            );
            if let Some(dmso) = dose.dmso {
                let limit = site.dmso_limit.map_or_else(
                    || "no limit set".to_owned(),
                    |l| format!("limit {} g/kg", format::decimal(l.g_per_kg(), 4)),
                );
                let _ = writeln!(
                    sheet,
                    "   DMSO: {} g/kg ({limit})",
                    format::decimal(dmso.g_per_kg(), 4)
                );
            }
        }
        None => {
            let _ = writeln!(sheet, "2. No cells: placebo matched to the active bag");
            let _ = writeln!(
                sheet,
                "   Checked against its active twin with lot {} (viability, dilution, syringe, dose range, containers, DMSO): pass",
                lot.lot_id()
            );
            let _ = writeln!(sheet, "3. Do not thaw any container");
            let _ = writeln!(
                sheet,
                "4. Put {} {} in the bag (the final volume of its active twin)",
                format::volume(prep.diluent_volume),
                prep.diluent
            );
            let _ = writeln!(sheet, "5. Nothing to draw");
            let _ = writeln!(sheet, "6. Nothing to check: no cells");
        }
    }
    if let (Some(expected), Some(settings)) = (prep.expected_net_mass, site.gravimetric) {
        let tolerance = fraction::value(settings.tolerance);
        let _ = writeln!(
            sheet,
            "   Weigh the filled bag (net): expected {} g, accepted {}-{} g (±{}): ________ g",
            format::decimal(expected.grams(), 2),
            format::decimal(expected.grams() * (1.0 - tolerance), 2),
            format::decimal(expected.grams() * (1.0 + tolerance), 2),
            format::percent(tolerance)
        );
    }
    let _ = writeln!(
        sheet,
        "7. Label with the blinded label; infuse {} over {} at {}",
        format::volume(prep.final_volume),
        format_duration(prep.infusion_duration),
        format::pump_rate(prep.pump_rate)
    );
    let _ = writeln!(sheet, "   Start by: {}", prep.start_by().wall_clock());
    let _ = writeln!(
        sheet,
        "   Infuse by: {} (end of infusion)",
        prep.infuse_by().wall_clock()
    );
    let _ = writeln!(sheet);
    let _ = writeln!(sheet, "Prepared by: ________   Checked by: ________");
    sheet
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
