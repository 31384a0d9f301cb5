//! What reaches the ward, and what the pharmacy keeps.
//!
//! The bag label is built only from [`LabelFacts`], a struct that holds
//! exactly what an active bag and its placebo twin share: the trial, the
//! participant and visit, the bag id, the blinded product text, the final
//! volume, the route, duration and rate, the times derived from the thaw
//! (start by, infuse by) and the protocol's label particulars. Equal facts
//! give equal labels by construction; a property test proves the facts are
//! equal for twins. The label shows no preparation time: a placebo made
//! faster than its twin would show a different gap to "infuse by".
//!
//! The worksheet ([`worksheet`]) is unblinded and is built from a
//! [`crate::PreparationRecord`] alone, so it cannot be handed another lot
//! than the one prepared. Every number goes through [`crate::format`].

pub mod captions;
pub mod isbt128;
mod worksheet;

use std::fmt::Write as _;

use jiff::SignedDuration;

pub use worksheet::{worksheet, worksheet_sections, Step, Worksheet, WorksheetText};

use crate::bag_id::BagId;
use crate::format;
use crate::prepare::Preparation;
use crate::protocol::{PrinterDpi, Protocol, Sponsor};
use crate::record::VerifiedRecord;
use crate::time::SiteTime;
use crate::units::{format_duration, ExactVolume, PumpRate};
use captions::{Captions, LabelLanguages};
use isbt128::Isbt128Codes;

/// Everything a bag label shows, and nothing an active bag and its placebo
/// twin could differ in.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelFacts {
    /// "CARE-SSc (NCT04356287)".
    pub trial: String,
    /// Participant id.
    pub participant: String,
    /// Visit.
    pub visit: String,
    /// The bag id, if the bag has one.
    pub bag_id: Option<BagId>,
    /// The blinded product text in each of the label's languages, e.g.
    /// "UCMSC 1 million cells/kg or placebo" (once where the trial gives one
    /// text for all languages).
    pub product: Vec<String>,
    /// Final bag volume.
    pub final_volume: ExactVolume,
    /// Diluent name.
    pub diluent: String,
    /// Route, e.g. "IV".
    pub route: String,
    /// Infusion duration.
    pub infusion_duration: SignedDuration,
    /// Pump rate.
    pub pump_rate: PumpRate,
    /// Latest start of the infusion (thaw + window − duration).
    pub start_by: SiteTime,
    /// Latest end of the infusion (thaw + window): the use-by time.
    pub infuse_by: SiteTime,
    /// The storage line in each of the label's languages.
    pub storage: Vec<String>,
    /// Sponsor and contact.
    pub sponsor: Option<Sponsor>,
    /// Investigator.
    pub investigator: Option<String>,
    /// Trial site.
    pub site: Option<String>,
    /// Statement lines (the investigational-use statement), in the label's
    /// languages.
    pub statements: Vec<String>,
    /// Label size in mm.
    pub size_mm: (f64, f64),
    /// The label's languages, e.g. ["fr", "en"]: the first is the page's
    /// and comes first in every bilingual caption.
    pub languages: LabelLanguages,
    /// ISBT 128 codes, where the protocol gives a FIN and a bag has an id.
    pub isbt128: Option<Isbt128Codes>,
    /// The site's label printer, for labels in ZPL.
    pub printer_dpi: Option<PrinterDpi>,
}

/// How a label line is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emphasis {
    /// What the nurse reads first (who, which bag, by when), set larger and
    /// bold: ISMP's principles for medication labels put the patient
    /// identifier and the critical use information first and most
    /// prominent.
    ReadFirst,
    /// Everything else, at the body size.
    Body,
}

/// One line of a label, in print order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelLine {
    /// The text.
    pub text: String,
    /// How it is set.
    pub emphasis: Emphasis,
}

impl LabelFacts {
    /// The facts of a bag's label. Reads only fields an active bag and its
    /// placebo twin share.
    pub fn new(protocol: &Protocol, prep: &Preparation) -> LabelFacts {
        let spec = protocol.spec();
        let label = protocol.label();
        let trial = match &spec.registry_id {
            Some(id) => format!("{} ({id})", spec.name),
            None => spec.name.clone(),
        };
        let isbt128 = isbt128::codes(protocol, prep);
        let languages = protocol.label_languages().clone();
        let codes = languages.codes();
        LabelFacts {
            trial,
            participant: prep.participant.to_string(),
            visit: prep.visit.to_string(),
            bag_id: prep.bag_id,
            product: spec
                .blinded_product
                .in_languages(&codes)
                .into_iter()
                .cloned()
                .collect(),
            final_volume: prep.final_volume,
            diluent: spec.diluent.name.clone(),
            route: spec.route.clone(),
            infusion_duration: prep.infusion_duration,
            pump_rate: prep.pump_rate,
            start_by: prep.start_by(),
            infuse_by: prep.infuse_by(),
            storage: spec
                .site
                .storage
                .in_languages(&codes)
                .into_iter()
                .cloned()
                .collect(),
            sponsor: label.sponsor.clone(),
            investigator: label.investigator.clone(),
            site: label.site.clone(),
            statements: label
                .statements
                .in_languages(&codes)
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            size_mm: (label.width_mm, label.height_mm),
            languages,
            isbt128,
            printer_dpi: spec.site.label_printer_dpi,
        }
    }

    /// The label's lines, in print order. The text, PDF and HTML labels all
    /// print these. Each caption is in the label's languages, first language
    /// first ("Visite / Visit: month-0").
    pub fn lines(&self) -> Vec<LabelLine> {
        let captions: Vec<&Captions> = self.languages.iter().map(|l| l.captions()).collect();
        let colon = self.languages.first().captions().colon.as_str();
        let caption = |pick: fn(&Captions) -> &str| {
            let mut said: Vec<&str> = Vec::new();
            for words in captions.iter().map(|c| pick(c)) {
                if !said.contains(&words) {
                    said.push(words);
                }
            }
            format!("{}{colon}", said.join(" / "))
        };
        let body = |text: String| LabelLine {
            text,
            emphasis: Emphasis::Body,
        };
        let first = |text: String| LabelLine {
            text,
            emphasis: Emphasis::ReadFirst,
        };
        let mut lines = vec![
            body(self.trial.clone()),
            first(format!(
                "{}{}   {}{}",
                caption(|c| &c.participant),
                self.participant,
                caption(|c| &c.visit),
                self.visit
            )),
        ];
        if let Some(bag_id) = self.bag_id {
            lines.push(first(format!("{}{bag_id}", caption(|c| &c.bag))));
        }
        lines.push(body(format!(
            "{}{}",
            caption(|c| &c.contents),
            self.product.join(" / ")
        )));
        lines.push(body(format!(
            "{}{}, {}",
            caption(|c| &c.volume),
            format::volume(self.final_volume),
            self.diluent
        )));
        lines.push(body(format!(
            "{}{}   {}{}, {}",
            caption(|c| &c.route),
            self.route,
            caption(|c| &c.infusion),
            format_duration(self.infusion_duration),
            format::pump_rate(self.pump_rate)
        )));
        lines.push(body(format!(
            "{}{}",
            caption(|c| &c.start_by),
            self.start_by.wall_clock()
        )));
        lines.push(first(format!(
            "{}{}",
            caption(|c| &c.infuse_by),
            self.infuse_by.wall_clock()
        )));
        lines.extend(self.storage.iter().cloned().map(body));
        if let Some(sponsor) = &self.sponsor {
            let name = match &sponsor.phone {
                Some(phone) => format!("{}, {phone}", sponsor.name),
                None => sponsor.name.clone(),
            };
            lines.push(body(format!("{}{name}", caption(|c| &c.sponsor))));
        }
        if let Some(investigator) = &self.investigator {
            lines.push(body(format!(
                "{}{investigator}",
                caption(|c| &c.investigator)
            )));
        }
        if let Some(site) = &self.site {
            lines.push(body(format!("{}{site}", caption(|c| &c.site))));
        }
        if let Some(codes) = &self.isbt128 {
            // The DIN with its check character, the product code, and the
            // expiry as a person reads it beside its data structure (005).
            lines.push(body(format!(
                "{}{} {}   {}{}   {}{} ({})",
                caption(|c| &c.din),
                codes.din,
                codes.check,
                caption(|c| &c.product_code),
                codes.product_data.trim_start_matches("=<"),
                caption(|c| &c.expiry),
                codes.expiry_read,
                codes.expiry_data
            )));
        }
        lines.extend(self.statements.iter().cloned().map(body));
        lines
    }
}

/// The text label on the bag: the lines of [`LabelFacts`], one per line.
pub fn blinded_label(record: &VerifiedRecord) -> String {
    text_label(&LabelFacts::new(&record.protocol, &record.preparation))
}

/// The text of a label from its facts.
pub fn text_label(facts: &LabelFacts) -> String {
    let mut text = String::new();
    for line in facts.lines() {
        text.push_str(&line.text);
        text.push('\n');
    }
    text
}

/// A preparation's key numbers, each named with its unit as the Python
/// API names it, for a notebook's table (unblinded, as the summary line
/// is: pharmacy only). What a bag lacks (a placebo's dose, a bag id not
/// given) is left out, not shown empty.
pub fn key_numbers(prep: &Preparation) -> Vec<(&'static str, String)> {
    let mut numbers = vec![
        ("participant", prep.participant.to_string()),
        ("arm", prep.arm.to_string()),
        ("visit", prep.visit.to_string()),
        ("content", prep.content.as_str().to_owned()),
    ];
    numbers.extend(prep.bag_id.map(|id| ("bag_id", id.as_text())));
    numbers.extend([
        ("body_weight", prep.body_weight.to_string()),
        ("final_volume", format::volume(prep.final_volume)),
        (
            "diluent",
            format!("{} {}", format::volume(prep.diluent_volume), prep.diluent),
        ),
    ]);
    if let Some(dose) = &prep.dose {
        numbers.extend([
            ("lot_id", dose.lot_id.to_string()),
            ("target_cells", format::count(dose.target_cells)),
            ("draw_volume", format::volume(dose.draw_volume)),
            ("containers_to_thaw", dose.containers_to_thaw.to_string()),
            ("delivered_cells", format::count(dose.delivered_cells)),
            ("deviation", format::signed_percent(dose.deviation.value())),
        ]);
    }
    numbers.extend([
        ("pump_rate", format::pump_rate(prep.pump_rate)),
        ("start_by", prep.start_by().wall_clock()),
        ("infuse_by", prep.infuse_by().wall_clock()),
    ]);
    numbers
}

/// One unblinded line for a list of the day's bags, e.g.
/// "arm A month-0 active: 50 mL = 44.2 mL PlasmaLyte A + 5.8 mL cells (1 container),
/// 72.5 million (72,500,000) cells, +0.14%; 100 mL/h; infuse by 12:00 EST".
pub fn summary_line(prep: &Preparation) -> String {
    let mut line = format!(
        "arm {} {} {}: {} = {} {}",
        prep.arm,
        prep.visit,
        prep.content.as_str(),
        format::volume(prep.final_volume),
        format::volume(prep.diluent_volume),
        prep.diluent
    );
    if let Some(dose) = &prep.dose {
        // `write!` to a String cannot fail.
        let _ = write!(
            line,
            " + {} cells ({} container{}), {} cells, {}",
            format::volume(dose.draw_volume),
            dose.containers_to_thaw,
            if dose.containers_to_thaw == 1 {
                ""
            } else {
                "s"
            },
            format::count(dose.delivered_cells),
            format::signed_percent(dose.deviation.value())
        );
    }
    let _ = write!(
        line,
        "; {}; infuse by {}",
        format::pump_rate(prep.pump_rate),
        prep.infuse_by().time_of_day()
    );
    line
}
