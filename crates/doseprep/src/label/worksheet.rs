//! The unblinded pharmacy worksheet, from a preparation record alone.

use crate::draw::Rounding;
use crate::format;
use crate::prepare::Opening;
use crate::protocol::{Content, DoseBasis, FinalVolumeMode};
use crate::record::VerifiedRecord;
use crate::rules::WeightUsed;
use crate::site::Paper;
use crate::units::format_duration;

/// The worksheet: the steps in order, each with its quantity. It says what
/// the bag holds: keep it in the pharmacy. It takes a verified record only:
/// its "pass" lines are the checks that verification ran again on these
/// figures.
pub fn worksheet(record: &VerifiedRecord) -> String {
    worksheet_sections(record).text()
}

/// The worksheet as the printer lays it out: its title, the lines under
/// it, the steps in order (each a heading and its lines), and the sign-off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worksheet {
    /// "UNBLINDED PREPARATION WORKSHEET: ...", the first thing read.
    pub title: String,
    /// The protocol and the bag, under the title.
    pub header: Vec<String>,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// Where the preparer and the checker sign, each with the date and time.
    pub sign_off: String,
    /// The paper the site prints worksheets on.
    pub paper: Paper,
}

/// A blank for a date and a time written by hand.
const DATE_TIME_BLANK: &str = "____-__-__ __:__";

/// One step of a worksheet: "4. Draw 5.8 mL ..." and the lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The numbered step.
    pub heading: String,
    /// Its quantities and checks, each indented under it.
    pub lines: Vec<String>,
}

impl Worksheet {
    /// A line under the last step, or under the title before the first.
    fn line(&mut self, text: String) {
        match self.steps.last_mut() {
            Some(step) => step.lines.push(text),
            None => self.header.push(text),
        }
    }

    fn step(&mut self, heading: String) {
        self.steps.push(Step {
            heading,
            lines: Vec::new(),
        });
    }

    /// The worksheet as text: the title and header, a blank line, the
    /// steps, a blank line, the sign-off.
    pub fn text(&self) -> String {
        let mut lines = vec![self.title.as_str()];
        lines.extend(self.header.iter().map(String::as_str));
        lines.push("");
        for step in &self.steps {
            lines.push(&step.heading);
            lines.extend(step.lines.iter().map(String::as_str));
        }
        lines.push("");
        lines.push(&self.sign_off);
        lines.iter().map(|line| format!("{line}\n")).collect()
    }
}

/// The worksheet's sections, from a verified record alone.
pub fn worksheet_sections(record: &VerifiedRecord) -> Worksheet {
    let protocol = &record.protocol;
    let order = &record.order;
    let lot = &record.lot;
    let prep = &record.preparation;
    let site = protocol.site();
    let mut sheet = Worksheet {
        title: "UNBLINDED PREPARATION WORKSHEET: keep in pharmacy, do not send with the bag"
            .to_owned(),
        header: Vec::new(),
        steps: Vec::new(),
        sign_off: format!(
            "Prepared by: ________ at {DATE_TIME_BLANK}   Checked by: ________ at {DATE_TIME_BLANK}"
        ),
        // fallback-ok: the site file documents A4 as the paper where it names none.
        paper: site.worksheet_paper.unwrap_or(Paper::A4),
    };
    let short = |fingerprint: &'_ str| -> String { fingerprint.chars().take(12).collect() };
    sheet.line(format!(
        "Protocol: {} (trial fingerprint {}, site {})",
        protocol.name(),
        short(&record.trial_fingerprint),
        short(&record.site_fingerprint)
    ));
    if let Some(bag_id) = prep.bag_id {
        sheet.line(format!("Bag: {bag_id}"));
    }
    sheet.step("1. Verify the order".to_owned());
    sheet.line(format!("   Participant: {}", prep.participant));
    let entered = order
        .weight_as_entered()
        .map_or_else(String::new, |text| format!(" (entered as {text})"));
    sheet.line(format!(
        "   Weight: {}{entered}",
        format::kilograms(prep.body_weight)
    ));
    if let Some(baseline) = prep.baseline_weight {
        let entered = order
            .baseline_weight_as_entered()
            .map_or_else(String::new, |text| format!(" (entered as {text})"));
        sheet.line(format!(
            "   Baseline weight: {}{entered}",
            format::kilograms(baseline)
        ));
    }
    if prep.dosing_weight_from != WeightUsed::Visit {
        sheet.line(format!(
            "   Doses on: {}",
            prep.dosing_weight_from.describe()
        ));
    }
    if prep.dosing_weight != prep.body_weight && prep.dosing_weight_from == WeightUsed::Visit {
        sheet.line(format!(
            "   Dosing weight: {} (protocol cap)",
            format::kilograms(prep.dosing_weight)
        ));
    } else if prep.dosing_weight_from == WeightUsed::Baseline {
        sheet.line(format!(
            "   Dosing weight: {}",
            format::kilograms(prep.dosing_weight)
        ));
    }
    sheet.line(format!("   Arm: {}   Visit: {}", prep.arm, prep.visit));
    sheet.line(format!(
        "   Content: {}",
        match prep.content {
            Content::Active => "ACTIVE",
            Content::Placebo => "PLACEBO",
        }
    ));
    sheet.line(format!("   Thawed: {}", prep.thawed_at().wall_clock()));
    if let Some(prepared) = prep.prepared_at() {
        sheet.line(format!("   Prepared: {}", prepared.wall_clock()));
    }
    if let Some(infusion) = prep.infusion_at() {
        sheet.line(format!("   Infusion starts: {}", infusion.wall_clock()));
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
            sheet.step("2. Verify the lot".to_owned());
            sheet.line(format!(
                "   Lot {}: {} viable",
                dose.lot_id,
                format::concentration(lot.viable_cells_per_ml())
            ));
            sheet.line(format!(
                "   Viability {} (floor {}): pass",
                format::percent(lot.viability().value()),
                format::percent(site.viability_floor.value())
            ));
            let recorded_expiry = lot.expires_at().map_or_else(
                || "none given".to_owned(),
                |at| protocol.zone().at(at.timestamp()).wall_clock(),
            );
            sheet.line(format!(
                "   Expiry read from the vial: ________________ (the lot's record: {recorded_expiry})"
            ));
            if dose.dose_basis == DoseBasis::Total {
                sheet.line(format!(
                    "   Total (viable / viability): {}",
                    format::concentration(dose.concentration)
                ));
            }
            if prep.draws.is_empty() {
                sheet.step(format!(
                    "3. Thaw {} container{} of {} (on hand: {}; {yield_note})",
                    dose.containers_to_thaw,
                    plural(dose.containers_to_thaw as usize),
                    format::volume(lot.container_volume()),
                    lot.containers()
                ));
                sheet.line(format!("   Thawed at (actual): {DATE_TIME_BLANK}"));
                sheet.line(
                    "   Post-thaw visual check (container intact, no clumps or discoloration): ________"
                        .to_owned(),
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
                sheet.step(format!(
                    "3. Containers of {}: thaw {thaw} for this bag at {session}, take {} already thawed in this session (on hand at the start of the day: {}; {yield_note})",
                    format::volume(lot.container_volume()),
                    prep.draws.len() - thaw,
                    lot.containers()
                ));
                for draw in &prep.draws {
                    let how = match draw.opening {
                        Opening::Thaw => "thaw it now (pick list)",
                        Opening::AlreadyThawed => {
                            "already thawed for an earlier bag of this session: do not thaw another"
                        }
                    };
                    sheet.line(format!(
                        "   Container {} of lot {}: draw {} ({how})",
                        draw.container,
                        draw.lot_id,
                        format::volume(draw.volume)
                    ));
                }
                sheet.line(format!("   Thawed at (actual): {DATE_TIME_BLANK}"));
                sheet.line(
                    "   Post-thaw visual check (container intact, no clumps or discoloration): ________"
                        .to_owned(),
                );
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
            sheet.step(format!(
                "4. Draw {} of cell suspension ({syringe}; computed {}, {rounding})",
                format::volume(dose.draw_volume),
                format::computed_volume(dose.unrounded_draw_volume)
            ));
            sheet.step(format!(
                "5. Add {} {} (final volume {}, {mode})",
                format::volume(prep.diluent_volume),
                prep.diluent,
                format::volume(prep.final_volume)
            ));
            sheet.step(format!("6. Check the dose ({basis})"));
            sheet.line(format!("   Set by: {}", dose.dose_determined_by));
            sheet.line(format!(
                "   Target:    {}",
                format::count(dose.target_cells)
            ));
            sheet.line(format!(
                "   Delivered: {}",
                format::count(dose.delivered_cells)
            ));
            sheet.line(format!(
                "   Accepted:  {} to {} ({}): pass",
                format::count(dose.acceptable_min_cells),
                format::count(dose.acceptable_max_cells),
                dose.acceptable_range_from.describe()
            ));
            sheet.line(format!(
                "   Deviation: {} (site tolerance ±{})",
                format::signed_percent(dose.deviation.value()),
                format::percent(site.dose_tolerance.value())
            ));
            sheet.line(format!(
                "   Final concentration: {}",
                format::concentration(dose.final_concentration)
            ));
            if let Some(dmso) = dose.dmso {
                let limit = site.dmso_limit.map_or_else(
                    || "no limit set".to_owned(),
                    |l| format!("limit {} g/kg", format::decimal(l.g_per_kg(), 4)),
                );
                sheet.line(format!(
                    "   DMSO: {} g/kg ({limit})",
                    format::decimal(dmso.g_per_kg(), 4)
                ));
            }
        }
        None => {
            sheet.step("2. No cells: placebo matched to the active bag".to_owned());
            sheet.line(format!(
                "   Checked against its active twin with lot {} (viability, dilution, syringe, dose range, containers, DMSO): pass",
                lot.lot_id()
            ));
            sheet.step("3. Do not thaw any container".to_owned());
            sheet.step(format!(
                "4. Put {} {} in the bag (the final volume of its active twin)",
                format::volume(prep.diluent_volume),
                prep.diluent
            ));
            sheet.step("5. Nothing to draw".to_owned());
            sheet.step("6. Nothing to check: no cells".to_owned());
        }
    }
    if let (Some(expected), Some(settings)) = (prep.expected_net_mass, site.gravimetric) {
        let tolerance = settings.tolerance.value();
        sheet.line(format!(
            "   Weigh the filled bag (net): expected {} g, accepted {}-{} g (±{}): ________ g",
            format::decimal(expected.grams(), 2),
            format::decimal(expected.grams() * (1.0 - tolerance), 2),
            format::decimal(expected.grams() * (1.0 + tolerance), 2),
            format::percent(tolerance)
        ));
    }
    sheet.step(format!(
        "7. Label with the blinded label; infuse {} over {} at {}",
        format::volume(prep.final_volume),
        format_duration(prep.infusion_duration),
        format::pump_rate(prep.pump_rate)
    ));
    sheet.line(format!("   Start by: {}", prep.start_by().wall_clock()));
    sheet.line(format!(
        "   Infuse by: {} (end of infusion)",
        prep.infuse_by().wall_clock()
    ));
    if let Some(masking) = &protocol.spec().masking {
        // Every bag, active or placebo, is masked the same way.
        sheet.line(format!("   Mask the bag: {masking}"));
    }
    sheet
}

fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
