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

pub mod isbt128;
mod worksheet;

use std::fmt::Write as _;

use jiff::SignedDuration;

pub use worksheet::{worksheet, worksheet_sections, Step, Worksheet};

use crate::bag_id::BagId;
use crate::format;
use crate::prepare::Preparation;
use crate::protocol::{Protocol, Sponsor};
use crate::record::VerifiedRecord;
use crate::time::SiteTime;
use crate::units::{format_duration, ExactVolume, PumpRate};
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
    /// The blinded product text, e.g. "UCMSC 1 million cells/kg or placebo".
    pub product: String,
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
    /// Storage line.
    pub storage: String,
    /// Sponsor and contact.
    pub sponsor: Option<Sponsor>,
    /// Investigator.
    pub investigator: Option<String>,
    /// Trial site.
    pub site: Option<String>,
    /// Statement lines (the investigational-use statement in each language).
    pub statements: Vec<String>,
    /// Label size in mm.
    pub size_mm: (f64, f64),
    /// The label's languages, e.g. ["en", "fr"] (the first is the page's).
    pub languages: Vec<String>,
    /// ISBT 128 codes, where the protocol gives a FIN and a bag has an id.
    pub isbt128: Option<Isbt128Codes>,
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
        let isbt128 = match (&label.isbt128, prep.bag_id) {
            (Some(codes), Some(bag_id)) => Some(isbt128::codes(
                &codes.fin,
                &codes.product_code,
                bag_id,
                &prep.thawed_at(),
                &prep.infuse_by(),
            )),
            _ => None,
        };
        LabelFacts {
            trial,
            participant: prep.participant.to_string(),
            visit: prep.visit.to_string(),
            bag_id: prep.bag_id,
            product: spec.blinded_product.clone(),
            final_volume: prep.final_volume,
            diluent: spec.diluent.name.clone(),
            route: spec.route.clone(),
            infusion_duration: prep.infusion_duration,
            pump_rate: prep.pump_rate,
            start_by: prep.start_by(),
            infuse_by: prep.infuse_by(),
            storage: spec.site.storage.clone(),
            sponsor: label.sponsor.clone(),
            investigator: label.investigator.clone(),
            site: label.site.clone(),
            statements: label.statements.clone(),
            size_mm: (label.width_mm, label.height_mm),
            languages: label.languages.clone(),
            isbt128,
        }
    }

    /// The label's lines, in print order. The text, PDF and HTML labels all
    /// print these.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            self.trial.clone(),
            format!("Participant: {}   Visit: {}", self.participant, self.visit),
        ];
        if let Some(bag_id) = self.bag_id {
            lines.push(format!("Bag: {bag_id}"));
        }
        lines.push(format!("Contents: {}", self.product));
        lines.push(format!(
            "Volume: {} in {}",
            format::volume(self.final_volume),
            self.diluent
        ));
        lines.push(format!(
            "Route: {}, over {} at {}",
            self.route,
            format_duration(self.infusion_duration),
            format::pump_rate(self.pump_rate)
        ));
        lines.push(format!("Start by: {}", self.start_by.wall_clock()));
        lines.push(format!(
            "Infuse by: {} (end of infusion)",
            self.infuse_by.wall_clock()
        ));
        lines.push(self.storage.clone());
        if let Some(sponsor) = &self.sponsor {
            match &sponsor.phone {
                Some(phone) => lines.push(format!("Sponsor: {}, {phone}", sponsor.name)),
                None => lines.push(format!("Sponsor: {}", sponsor.name)),
            }
        }
        if let Some(investigator) = &self.investigator {
            lines.push(format!("Investigator: {investigator}"));
        }
        if let Some(site) = &self.site {
            lines.push(format!("Site: {site}"));
        }
        if let Some(codes) = &self.isbt128 {
            // The DIN with its check character, the product code, and the
            // expiration data structure (005) as ISBT 128 writes them.
            lines.push(format!(
                "DIN: {} {}   Product: {}   Expiry: {}",
                codes.din,
                codes.check,
                codes.product_data.trim_start_matches("=<"),
                codes.expiry_data
            ));
        }
        lines.extend(self.statements.iter().cloned());
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
        text.push_str(&line);
        text.push('\n');
    }
    text
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
