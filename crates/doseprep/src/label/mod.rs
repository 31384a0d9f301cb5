//! What the pharmacist prints: the blinded label for the bag and the
//! unblinded worksheet for the pharmacy. Every number goes through
//! [`numbers`], the one place display rounding and ISMP conventions live.

pub mod numbers;

use std::fmt::Write as _;

use crate::lot::Lot;
use crate::order::Order;
use crate::prepare::Preparation;
use crate::protocol::{Content, DoseBasis, FinalVolumeMode, Protocol};
use crate::units::format_duration;

/// The label on the bag. It reads only what an active bag and its matched
/// placebo share (protocol, participant, visit, volume, rate, times), so the
/// two labels are byte-identical: no content, arm, lot, draw or cell count.
pub fn blinded_label(protocol: &Protocol, prep: &Preparation) -> String {
    let mut label = String::new();
    let trial = match &protocol.registry_id {
        Some(id) => format!("{} ({id})", protocol.name),
        None => protocol.name.clone(),
    };
    // `write!` to a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(label, "{trial}");
    let _ = writeln!(label, "Participant: {}", prep.participant);
    let _ = writeln!(label, "Visit: {}", prep.visit);
    let _ = writeln!(label, "Contents: {}", protocol.blinded_product);
    let _ = writeln!(
        label,
        "Volume: {} in {}",
        numbers::volume(prep.final_volume),
        protocol.diluent.name
    );
    let _ = writeln!(
        label,
        "Route: {}, over {} at {}",
        protocol.route,
        format_duration(prep.infusion_duration),
        numbers::pump_rate(prep.pump_rate_ml_per_h)
    );
    let _ = writeln!(label, "Prepared: {}", numbers::time(&prep.prepared_at));
    let _ = writeln!(label, "Start by: {}", numbers::time(&prep.start_by));
    let _ = writeln!(
        label,
        "Infuse by: {} (end of infusion)",
        numbers::time(&prep.infuse_by)
    );
    let _ = writeln!(label, "{}", protocol.site.storage);
    let _ = writeln!(label, "For clinical trial use only");
    label
}

/// One unblinded line for a list of the day's bags, e.g.
/// "arm A month-0 active: 50 mL = 44.2 mL PlasmaLyte A + 5.8 mL cells (1 container),
/// 72.5 million (72,500,000) cells, +0.14%; 100 mL/h; infuse by 12:00 +00:00".
pub fn summary_line(prep: &Preparation) -> String {
    let mut line = format!(
        "arm {} {} {}: {} = {} {}",
        prep.arm,
        prep.visit,
        prep.content.as_str(),
        numbers::volume(prep.final_volume),
        numbers::volume(prep.diluent_volume),
        prep.diluent
    );
    if let Some(dose) = &prep.dose {
        let _ = write!(
            line,
            " + {} cells ({} container{}), {} cells, {}",
            numbers::volume(dose.draw_volume),
            dose.containers_to_thaw,
            if dose.containers_to_thaw == 1 {
                ""
            } else {
                "s"
            },
            numbers::count(dose.delivered_cells.cells()),
            numbers::signed_percent(dose.deviation)
        );
    }
    let _ = write!(
        line,
        "; {}; infuse by {}",
        numbers::pump_rate(prep.pump_rate_ml_per_h),
        prep.infuse_by.strftime("%H:%M %:z")
    );
    line
}

/// The unblinded worksheet: the steps in order, each with its quantity.
/// Keep it in the pharmacy; it says what the bag holds.
pub fn worksheet(protocol: &Protocol, order: &Order, lot: &Lot, prep: &Preparation) -> String {
    let mut sheet = String::new();
    let site = &protocol.site;
    let fingerprint = protocol
        .fingerprint()
        .unwrap_or_else(|_| "unavailable".to_owned());
    let short_fingerprint = fingerprint.get(..12).unwrap_or(&fingerprint);
    let _ = writeln!(
        sheet,
        "UNBLINDED PREPARATION WORKSHEET: keep in pharmacy, do not send with the bag"
    );
    let _ = writeln!(
        sheet,
        "Protocol: {} (fingerprint {short_fingerprint})",
        protocol.name
    );
    let _ = writeln!(sheet);
    let _ = writeln!(sheet, "1. Verify the order");
    let _ = writeln!(sheet, "   Participant: {}", prep.participant);
    let entered = order
        .weight_as_entered()
        .map_or_else(String::new, |text| format!(" (entered as {text})"));
    let _ = writeln!(
        sheet,
        "   Weight: {}{entered}",
        numbers::kilograms(prep.body_weight_kg)
    );
    if prep.dosing_weight_kg != prep.body_weight_kg {
        let _ = writeln!(
            sheet,
            "   Dosing weight: {} (protocol cap)",
            numbers::kilograms(prep.dosing_weight_kg)
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
    let _ = writeln!(sheet, "   Thawed: {}", numbers::time(order.thawed_at()));
    let _ = writeln!(sheet, "   Prepared: {}", numbers::time(&prep.prepared_at));

    let mode = match site.final_volume_mode {
        FinalVolumeMode::Qs => "qs to the final volume",
        FinalVolumeMode::Additive => "cells added to the diluent",
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
                "   Lot {}: {} viable cells/mL",
                dose.lot_id,
                numbers::count(lot.viable_cells_per_ml().cells_per_ml())
            );
            let _ = writeln!(
                sheet,
                "   Viability {} (floor {}): pass",
                numbers::percent(lot.viability()),
                numbers::percent(site.viability_floor)
            );
            if dose.dose_basis == DoseBasis::Total {
                let _ = writeln!(
                    sheet,
                    "   Total cells/mL (viable / viability): {}",
                    numbers::count(dose.concentration_cells_per_ml)
                );
            }
            let _ = writeln!(
                sheet,
                "3. Thaw {} container{} of {} (on hand: {})",
                dose.containers_to_thaw,
                if dose.containers_to_thaw == 1 {
                    ""
                } else {
                    "s"
                },
                numbers::volume(lot.container_volume()),
                lot.containers()
            );
            let _ = writeln!(
                sheet,
                "4. Draw {} of cell suspension (computed {}, rounded half up to {})",
                numbers::volume(dose.draw_volume),
                numbers::millilitres(dose.unrounded_draw_volume_ml),
                numbers::volume(site.draw_increment)
            );
            let _ = writeln!(
                sheet,
                "5. Add {} {} (final volume {}, {mode})",
                numbers::volume(prep.diluent_volume),
                prep.diluent,
                numbers::volume(prep.final_volume)
            );
            let _ = writeln!(sheet, "6. Check the dose ({basis})");
            let _ = writeln!(
                sheet,
                "   Target:    {}",
                numbers::count(dose.target_cells.cells())
            );
            let _ = writeln!(
                sheet,
                "   Delivered: {}",
                numbers::count(dose.delivered_cells.cells())
            );
            let _ = writeln!(
                sheet,
                "   Deviation: {} (tolerance ±{}): pass",
                numbers::signed_percent(dose.deviation),
                numbers::percent(site.dose_tolerance)
            );
            let _ = writeln!(
                sheet,
                "   Final concentration: {} cells/mL",
                numbers::count(dose.final_concentration_cells_per_ml)
            );
            if let Some(dmso) = dose.dmso_g_per_kg {
                let limit = site.dmso_limit.map_or_else(
                    || "no limit set".to_owned(),
                    |l| format!("limit {} g/kg", numbers::decimal(l, 4)),
                );
                let _ = writeln!(
                    sheet,
                    "   DMSO: {} g/kg ({limit})",
                    numbers::decimal(dmso, 4)
                );
            }
        }
        None => {
            let _ = writeln!(sheet, "2. No cells: placebo matched to the active bag");
            let _ = writeln!(sheet, "3. Do not thaw any container");
            let _ = writeln!(
                sheet,
                "4. Put {} {} in the bag (the final volume of its active twin)",
                numbers::volume(prep.diluent_volume),
                prep.diluent
            );
            let _ = writeln!(sheet, "5. Nothing to draw");
            let _ = writeln!(sheet, "6. Nothing to check: no cells");
        }
    }
    let _ = writeln!(
        sheet,
        "7. Label with the blinded label; infuse {} over {} at {}",
        numbers::volume(prep.final_volume),
        format_duration(prep.infusion_duration),
        numbers::pump_rate(prep.pump_rate_ml_per_h)
    );
    let _ = writeln!(sheet, "   Start by: {}", numbers::time(&prep.start_by));
    let _ = writeln!(
        sheet,
        "   Infuse by: {} (end of infusion)",
        numbers::time(&prep.infuse_by)
    );
    let _ = writeln!(sheet);
    let _ = writeln!(sheet, "Prepared by: ________   Checked by: ________");
    sheet
}
