//! The unblinded pharmacy worksheet, from a preparation record alone.

use serde::{Deserialize, Serialize};

use crate::draw::{RangeFrom, Rounding};
use crate::format;
use crate::label::captions::Language;
use crate::prepare::Opening;
use crate::protocol::{Content, DoseBasis, FinalVolumeMode};
use crate::record::VerifiedRecord;
use crate::rules::WeightUsed;
use crate::site::Paper;
use crate::template::{Plural, Template};
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
    /// The language it is written in.
    pub language: Language,
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

    /// The line that names the record's fingerprint, which the printed
    /// worksheet's Data Matrix holds.
    pub fn fingerprint_line(&self, fingerprint: &str) -> String {
        self.language
            .captions()
            .worksheet
            .record_fingerprint
            .fill(&[("fingerprint", fingerprint)])
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

/// The worksheet's sections, from a verified record alone, in the site's
/// first label language: a worksheet is read by one pharmacist, and the
/// language a site puts first is the one its staff read.
pub fn worksheet_sections(record: &VerifiedRecord) -> Worksheet {
    let protocol = &record.protocol;
    let order = &record.order;
    let lot = &record.lot;
    let prep = &record.preparation;
    let site = protocol.site();
    let language = protocol.label_languages().first();
    let captions = language.captions();
    let words = captions.number_words();
    let t = &captions.worksheet;
    let plural = |forms: &'static Plural, count: usize| captions.plural(forms, count);
    let mut sheet = Worksheet {
        title: t.title.text().to_owned(),
        header: Vec::new(),
        steps: Vec::new(),
        sign_off: t.sign_off.fill(&[("blank", DATE_TIME_BLANK)]),
        // fallback-ok: the site file documents A4 as the paper where it names none.
        paper: site.worksheet_paper.unwrap_or(Paper::A4),
        language,
    };
    let short = |fingerprint: &'_ str| -> String { fingerprint.chars().take(12).collect() };
    sheet.line(t.protocol.fill(&[
        ("name", protocol.name()),
        ("trial", &short(&record.trial_fingerprint)),
        ("site", &short(&record.site_fingerprint)),
    ]));
    if let Some(bag_id) = prep.bag_id {
        sheet.line(t.bag.fill(&[("bag_id", &bag_id.to_string())]));
    }
    sheet.step(t.verify_order.text().to_owned());
    sheet.line(t.participant.fill(&[("participant", &prep.participant)]));
    let weight = format::kilograms(prep.body_weight);
    sheet.line(match order.weight_as_entered() {
        Some(entered) => t
            .weight_entered
            .fill(&[("weight", &weight), ("entered", entered)]),
        None => t.weight.fill(&[("weight", &weight)]),
    });
    if let Some(baseline) = prep.baseline_weight {
        let weight = format::kilograms(baseline);
        sheet.line(match order.baseline_weight_as_entered() {
            Some(entered) => t
                .baseline_weight_entered
                .fill(&[("weight", &weight), ("entered", entered)]),
            None => t.baseline_weight.fill(&[("weight", &weight)]),
        });
    }
    match prep.dosing_weight_from {
        WeightUsed::Visit => {}
        WeightUsed::Baseline => sheet.line(t.doses_on_baseline.text().to_owned()),
        WeightUsed::VisitChanged => sheet.line(t.doses_on_visit_changed.text().to_owned()),
    }
    let dosing = format::kilograms(prep.dosing_weight);
    if prep.dosing_weight != prep.body_weight && prep.dosing_weight_from == WeightUsed::Visit {
        sheet.line(t.dosing_weight_capped.fill(&[("weight", &dosing)]));
    } else if prep.dosing_weight_from == WeightUsed::Baseline {
        sheet.line(t.dosing_weight.fill(&[("weight", &dosing)]));
    }
    sheet.line(
        t.arm_visit
            .fill(&[("arm", &prep.arm), ("visit", &prep.visit)]),
    );
    sheet.line(
        match prep.content {
            Content::Active => &t.content_active,
            Content::Placebo => &t.content_placebo,
        }
        .text()
        .to_owned(),
    );
    sheet.line(t.thawed.fill(&[("time", &prep.thawed_at().wall_clock())]));
    if let Some(prepared) = prep.prepared_at() {
        sheet.line(t.prepared.fill(&[("time", &prepared.wall_clock())]));
    }
    if let Some(infusion) = prep.infusion_at() {
        sheet.line(t.infusion_starts.fill(&[("time", &infusion.wall_clock())]));
    }

    let yield_note = match lot.extractable_volume() {
        Some(extractable) => t.yield_each.fill(&[
            ("extractable", &format::volume(extractable)),
            ("volume", &format::volume(lot.container_volume())),
        ]),
        None => t.yield_unknown.text().to_owned(),
    };
    let container_volume = format::volume(lot.container_volume());
    match &prep.dose {
        Some(dose) => {
            sheet.step(t.verify_lot.text().to_owned());
            sheet.line(t.lot.fill(&[
                ("lot", &dose.lot_id),
                (
                    "concentration",
                    &format::concentration_in(lot.viable_cells_per_ml(), &words),
                ),
            ]));
            sheet.line(t.viability.fill(&[
                ("viability", &format::percent(lot.viability().value())),
                ("floor", &format::percent(site.viability_floor.value())),
            ]));
            let recorded_expiry = lot.expires_at().map_or_else(
                || t.no_expiry.text().to_owned(),
                |at| protocol.zone().at(at.timestamp()).wall_clock(),
            );
            sheet.line(t.vial_expiry.fill(&[("expiry", &recorded_expiry)]));
            if dose.dose_basis == DoseBasis::Total {
                sheet.line(t.total_concentration.fill(&[(
                    "concentration",
                    &format::concentration_in(dose.concentration, &words),
                )]));
            }
            if prep.draws.is_empty() {
                let count = dose.containers_to_thaw as usize;
                sheet.step(plural(&t.thaw, count).fill(&[
                    ("count", &count.to_string()),
                    ("volume", &container_volume),
                    ("on_hand", &lot.containers().to_string()),
                    ("yield", &yield_note),
                ]));
            } else {
                // A bag of a day's plan: the containers its session shares,
                // each thawed once, for the first bag that draws from it,
                // exactly as the pick list says.
                let thaw = prep
                    .draws
                    .iter()
                    .filter(|d| d.opening == Opening::Thaw)
                    .count();
                sheet.step(t.containers.fill(&[
                    ("volume", &container_volume),
                    ("thaw", &thaw.to_string()),
                    ("session", &prep.thawed_at().wall_clock()),
                    ("taken", &(prep.draws.len() - thaw).to_string()),
                    ("on_hand", &lot.containers().to_string()),
                    ("yield", &yield_note),
                ]));
                for draw in &prep.draws {
                    let line = match draw.opening {
                        Opening::Thaw => &t.container_thaw_now,
                        Opening::AlreadyThawed => &t.container_already_thawed,
                    };
                    sheet.line(line.fill(&[
                        ("container", &draw.container.to_string()),
                        ("lot", &draw.lot_id),
                        ("volume", &format::volume(draw.volume)),
                    ]));
                }
            }
            sheet.line(t.thawed_actual.fill(&[("blank", DATE_TIME_BLANK)]));
            sheet.line(t.post_thaw_check.text().to_owned());
            let graduation = format::volume(dose.draw_graduation);
            let syringe = match dose.syringe_capacity {
                Some(capacity) => t.syringe.fill(&[
                    ("capacity", &format::volume(capacity)),
                    ("graduation", &graduation),
                ]),
                None => t.increment.fill(&[("graduation", &graduation)]),
            };
            let rounding = match dose.rounding {
                Rounding::HalfUp => &t.rounded_half_up,
                Rounding::DownForMaximum => &t.rounded_down,
            };
            sheet.step(t.draw.fill(&[
                ("volume", &format::volume(dose.draw_volume)),
                ("syringe", &syringe),
                (
                    "computed",
                    &format::computed_volume(dose.unrounded_draw_volume),
                ),
                ("rounding", rounding.text()),
            ]));
            let add = match site.final_volume_mode {
                FinalVolumeMode::Qs => &t.add_qs,
                FinalVolumeMode::Additive => &t.add_additive,
            };
            sheet.step(add.fill(&[
                ("volume", &format::volume(prep.diluent_volume)),
                ("diluent", &prep.diluent),
                ("final_volume", &format::volume(prep.final_volume)),
            ]));
            sheet.step(
                match dose.dose_basis {
                    DoseBasis::Viable => &t.check_viable,
                    DoseBasis::Total => &t.check_total,
                }
                .text()
                .to_owned(),
            );
            sheet.line(t.set_by.fill(&[("rule", &dose.dose_determined_by)]));
            sheet.line(
                t.target
                    .fill(&[("cells", &format::count_in(dose.target_cells, &words))]),
            );
            sheet.line(
                t.delivered
                    .fill(&[("cells", &format::count_in(dose.delivered_cells, &words))]),
            );
            let range = match dose.acceptable_range_from {
                RangeFrom::Tolerance => &t.range_tolerance,
                RangeFrom::Rule => &t.range_rule,
                RangeFrom::RuleMinimum => &t.range_rule_minimum,
                RangeFrom::RuleMaximum => &t.range_rule_maximum,
            };
            sheet.line(t.accepted.fill(&[
                ("min", &format::count_in(dose.acceptable_min_cells, &words)),
                ("max", &format::count_in(dose.acceptable_max_cells, &words)),
                ("range", range.text()),
            ]));
            sheet.line(t.deviation.fill(&[
                ("deviation", &format::signed_percent(dose.deviation.value())),
                ("tolerance", &format::percent(site.dose_tolerance.value())),
            ]));
            sheet.line(t.final_concentration.fill(&[(
                "concentration",
                &format::concentration_in(dose.final_concentration, &words),
            )]));
            if let Some(dmso) = dose.dmso {
                let dmso_g_per_kg = format::decimal(dmso.g_per_kg(), 4);
                sheet.line(match site.dmso_limit {
                    Some(limit) => t.dmso.fill(&[
                        ("dmso", &dmso_g_per_kg),
                        ("limit", &format::decimal(limit.g_per_kg(), 4)),
                    ]),
                    None => t.dmso_no_limit.fill(&[("dmso", &dmso_g_per_kg)]),
                });
            }
        }
        None => {
            sheet.step(t.placebo.text().to_owned());
            sheet.line(t.placebo_checked.fill(&[("lot", lot.lot_id())]));
            sheet.step(t.placebo_no_thaw.text().to_owned());
            sheet.step(t.placebo_fill.fill(&[
                ("volume", &format::volume(prep.diluent_volume)),
                ("diluent", &prep.diluent),
            ]));
            sheet.step(t.placebo_no_draw.text().to_owned());
            sheet.step(t.placebo_no_check.text().to_owned());
        }
    }
    if let (Some(expected), Some(settings)) = (prep.expected_net_mass, site.gravimetric) {
        let tolerance = settings.tolerance.value();
        sheet.line(t.weigh.fill(&[
            ("expected", &format::decimal(expected.grams(), 2)),
            (
                "low",
                &format::decimal(expected.grams() * (1.0 - tolerance), 2),
            ),
            (
                "high",
                &format::decimal(expected.grams() * (1.0 + tolerance), 2),
            ),
            ("tolerance", &format::percent(tolerance)),
        ]));
    }
    sheet.step(t.label.fill(&[
        ("volume", &format::volume(prep.final_volume)),
        ("duration", &format_duration(prep.infusion_duration)),
        ("rate", &format::pump_rate(prep.pump_rate)),
    ]));
    sheet.line(t.start_by.fill(&[("time", &prep.start_by().wall_clock())]));
    sheet.line(
        t.infuse_by
            .fill(&[("time", &prep.infuse_by().wall_clock())]),
    );
    if let Some(masking) = &protocol.spec().masking {
        // Every bag, active or placebo, is masked the same way.
        sheet.line(t.mask.fill(&[("masking", masking)]));
    }
    sheet
}

/// The worksheet's texts in one language.
/// Read from the message catalogues; every key is required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorksheetText {
    pub(crate) title: Template,
    pub(crate) record_fingerprint: Template,
    pub(crate) sign_off: Template,
    pub(crate) protocol: Template,
    pub(crate) bag: Template,
    pub(crate) verify_order: Template,
    pub(crate) participant: Template,
    pub(crate) weight: Template,
    pub(crate) weight_entered: Template,
    pub(crate) baseline_weight: Template,
    pub(crate) baseline_weight_entered: Template,
    pub(crate) doses_on_baseline: Template,
    pub(crate) doses_on_visit_changed: Template,
    pub(crate) dosing_weight_capped: Template,
    pub(crate) dosing_weight: Template,
    pub(crate) arm_visit: Template,
    pub(crate) content_active: Template,
    pub(crate) content_placebo: Template,
    pub(crate) thawed: Template,
    pub(crate) prepared: Template,
    pub(crate) infusion_starts: Template,
    pub(crate) verify_lot: Template,
    pub(crate) lot: Template,
    pub(crate) viability: Template,
    pub(crate) vial_expiry: Template,
    pub(crate) no_expiry: Template,
    pub(crate) total_concentration: Template,
    pub(crate) yield_each: Template,
    pub(crate) yield_unknown: Template,
    pub(crate) thaw: Plural,
    pub(crate) containers: Template,
    pub(crate) container_thaw_now: Template,
    pub(crate) container_already_thawed: Template,
    pub(crate) thawed_actual: Template,
    pub(crate) post_thaw_check: Template,
    pub(crate) syringe: Template,
    pub(crate) increment: Template,
    pub(crate) rounded_half_up: Template,
    pub(crate) rounded_down: Template,
    pub(crate) draw: Template,
    pub(crate) add_qs: Template,
    pub(crate) add_additive: Template,
    pub(crate) check_viable: Template,
    pub(crate) check_total: Template,
    pub(crate) set_by: Template,
    pub(crate) target: Template,
    pub(crate) delivered: Template,
    pub(crate) accepted: Template,
    pub(crate) range_tolerance: Template,
    pub(crate) range_rule: Template,
    pub(crate) range_rule_minimum: Template,
    pub(crate) range_rule_maximum: Template,
    pub(crate) deviation: Template,
    pub(crate) final_concentration: Template,
    pub(crate) dmso: Template,
    pub(crate) dmso_no_limit: Template,
    pub(crate) placebo: Template,
    pub(crate) placebo_checked: Template,
    pub(crate) placebo_no_thaw: Template,
    pub(crate) placebo_fill: Template,
    pub(crate) placebo_no_draw: Template,
    pub(crate) placebo_no_check: Template,
    pub(crate) weigh: Template,
    pub(crate) label: Template,
    pub(crate) start_by: Template,
    pub(crate) infuse_by: Template,
    pub(crate) mask: Template,
}
