//! A site's settings and its label's particulars: what a pharmacy chooses,
//! apart from the trial's facts (`protocol`). Every setting has a documented
//! default in the built-in site file, and none is a trial fact; the site's
//! fingerprint is taken of them.

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::language::PerLanguage;
use crate::units::serde_units::{
    density_text, duration_text, g_per_kg_text, volume_text, weight_text,
};
use crate::units::{BodyWeight, Density, DmsoExposure, ExactVolume, Tolerance, Viability};

/// Which cells the dose counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoseBasis {
    /// Viable cells (the lot's viable cells/mL).
    Viable,
    /// All cells, live and dead (viable cells/mL ÷ viability).
    Total,
}

impl DoseBasis {
    /// "viable" or "total", as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            DoseBasis::Viable => "viable",
            DoseBasis::Total => "total",
        }
    }
}

/// What the protocol's diluent volume means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FinalVolumeMode {
    /// The diluent volume is the bag's final volume: diluent = final − draw.
    Qs,
    /// The cells are added to the full diluent volume: final = diluent + draw.
    Additive,
}

impl FinalVolumeMode {
    /// "qs" or "additive", as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalVolumeMode::Qs => "qs",
            FinalVolumeMode::Additive => "additive",
        }
    }
}

/// A weight range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightRange {
    /// Lightest plausible participant.
    #[serde(with = "weight_text")]
    pub min: BodyWeight,
    /// Heaviest plausible participant.
    #[serde(with = "weight_text")]
    pub max: BodyWeight,
}

/// A syringe the pharmacy draws with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Syringe {
    /// Its nominal capacity, e.g. 3 mL.
    #[serde(with = "volume_text")]
    pub capacity: ExactVolume,
    /// The spacing of its graduation marks, e.g. 0.1 mL.
    #[serde(with = "volume_text")]
    pub graduation: ExactVolume,
}

/// Densities for the gravimetric check of a filled bag.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gravimetric {
    /// Density of the diluent, e.g. 1.005 g/mL.
    #[serde(with = "density_text")]
    pub diluent_density: Density,
    /// Density of the thawed cell suspension, e.g. 1.04 g/mL.
    #[serde(with = "density_text")]
    pub product_density: Density,
    /// Largest accepted |weighed − expected| ÷ expected, e.g. 0.02.
    pub tolerance: Tolerance,
}

/// A sheet of paper for worksheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Paper {
    /// ISO 216 A4, 210 × 297 mm.
    A4,
    /// US Letter, 8.5 × 11 in (215.9 × 279.4 mm), as North American sites print.
    Letter,
}

impl Paper {
    /// Width and height, mm.
    pub fn size_mm(self) -> (f64, f64) {
        match self {
            Paper::A4 => (210.0, 297.0),
            Paper::Letter => (215.9, 279.4),
        }
    }

    /// "A4" or "Letter", as the site file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "Letter",
        }
    }
}

/// The resolution of a thermal label printer, as its nameplate gives it.
/// The nameplate rounds: a print head is built in dots per millimetre, and
/// Zebra's ZPL II Programming Guide (`^JM`) gives its heads as 8 dots/mm
/// (203 dots/inch) and 12 dots/mm (304 dots/inch), so "300 dpi" is laid out
/// at 12 dots/mm exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "u16", into = "u16")]
pub enum PrinterDpi {
    /// 203 dpi: 8 dots/mm.
    Dpi203,
    /// 300 dpi: 12 dots/mm.
    Dpi300,
}

impl PrinterDpi {
    /// Dots per millimetre, exactly: 8 or 12.
    pub fn dots_per_mm(self) -> u32 {
        match self {
            PrinterDpi::Dpi203 => 8,
            PrinterDpi::Dpi300 => 12,
        }
    }

    /// Dots per inch as the nameplate says: 203 or 300.
    pub fn dpi(self) -> u16 {
        match self {
            PrinterDpi::Dpi203 => 203,
            PrinterDpi::Dpi300 => 300,
        }
    }
}

impl TryFrom<u16> for PrinterDpi {
    type Error = String;

    fn try_from(dpi: u16) -> std::result::Result<PrinterDpi, String> {
        match dpi {
            203 => Ok(PrinterDpi::Dpi203),
            300 => Ok(PrinterDpi::Dpi300),
            other => Err(format!(
                "label_printer_dpi {other} is not a label printer resolution doseprep prints for; give 203 (8 dots/mm) or 300 (12 dots/mm), as the printer's nameplate says"
            )),
        }
    }
}

impl From<PrinterDpi> for u16 {
    fn from(dpi: PrinterDpi) -> u16 {
        dpi.dpi()
    }
}

/// The settings a site chooses; every one has a default in the built-in
/// protocol, and none is a trial fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    /// The IANA time zone of the site's wall clocks, e.g. "America/Toronto".
    pub time_zone: String,
    /// `qs` or `additive`.
    pub final_volume_mode: FinalVolumeMode,
    /// `viable` or `total`.
    pub dose_basis: DoseBasis,
    /// Largest accepted |delivered − target| ÷ target where the dose rule
    /// gives no range of its own, a fraction in (0, 1).
    pub dose_tolerance: Tolerance,
    /// The syringe resolution the draw is rounded to when no syringes are listed.
    #[serde(with = "volume_text")]
    pub draw_increment: ExactVolume,
    /// The syringes on hand, smallest first; the draw uses the smallest that
    /// holds it and is rounded to its graduation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub syringes: Vec<Syringe>,
    /// Largest draw volume allowed whatever the mode (in `qs` mode the final
    /// volume limits the draw as well).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "volume_text::option"
    )]
    pub max_draw_volume: Option<ExactVolume>,
    /// Lowest post-thaw viability a lot may have, a fraction in (0, 1].
    pub viability_floor: Viability,
    /// Latest end of infusion, counted from thaw.
    #[serde(with = "duration_text")]
    pub max_thaw_to_end_of_infusion: SignedDuration,
    /// How long the infusion runs (sets the pump rate).
    #[serde(with = "duration_text")]
    pub infusion_duration: SignedDuration,
    /// The shortest an infusion may run without a reason: one recorded as
    /// shorter (started to ended) needs `short_reason`. Unset, no infusion
    /// is held to a shortest time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_text::option"
    )]
    pub shortest_infusion: Option<SignedDuration>,
    /// Time from thaw to a bag ready to infuse, for planning a day's thaws.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "duration_text::option"
    )]
    pub preparation_time: Option<SignedDuration>,
    /// The most bags one thaw session takes when a day is planned; a later
    /// bag starts a new session. Unset, a session takes every bag its thaw
    /// window holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bags_per_session: Option<std::num::NonZeroU32>,
    /// Weights outside this range are refused as implausible.
    pub weight_range: WeightRange,
    /// Largest DMSO exposure, g per kg body weight, if the site sets one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "g_per_kg_text::option"
    )]
    pub dmso_limit: Option<DmsoExposure>,
    /// Densities and tolerance for weighing filled bags, if the site weighs them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gravimetric: Option<Gravimetric>,
    /// The storage line printed on the label: one text for every language,
    /// or a text per language code.
    pub storage: PerLanguage<String>,
    /// The paper worksheets are printed on, `A4` or `Letter`; unset, A4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worksheet_paper: Option<Paper>,
    /// The resolution of the site's thermal label printer, 203 or 300 dpi,
    /// for labels in ZPL; unset, ZPL labels are refused naming this setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_printer_dpi: Option<PrinterDpi>,
    /// How a spreadsheet's date-and-time cells are read (Excel keeps no
    /// zone in them): `"site clock"`, as the site's wall clock; unset, such
    /// a cell is refused and the time is typed as text with its offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spreadsheet_times: Option<SpreadsheetTimes>,
}

/// How a spreadsheet's date-and-time cells are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpreadsheetTimes {
    /// As the site's wall clock: a time the clock shows twice (the night
    /// it falls back) or never (the night it springs forward) is refused.
    #[serde(rename = "site clock")]
    SiteClock,
}

/// The sponsor printed on the label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sponsor {
    /// Name, e.g. "Marie Hudson, MD".
    pub name: String,
    /// A contact number for emergencies, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// ISBT 128 codes the user supplies (no ICCBBA table is bundled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Isbt128 {
    /// Facility identification number, 5 characters (e.g. "A9999").
    pub fin: String,
    /// Product code, 8 characters (e.g. "S1234V00").
    pub product_code: String,
}

/// The label's particulars (EU 536/2014 Annex VI, Health Canada C.05.011,
/// 21 CFR 312.6). Every one is the same for an active bag and its placebo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSpec {
    /// The sponsor and contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<Sponsor>,
    /// The investigator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigator: Option<String>,
    /// The trial site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Statement lines, e.g. the investigational-use statement: one list
    /// for every language, or a list per language code.
    #[serde(default = "default_statements")]
    pub statements: PerLanguage<Vec<String>>,
    /// Languages of the label, e.g. ["fr", "en"], first language first;
    /// unset, the label is in English.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Label width in mm.
    #[serde(default = "default_width")]
    pub width_mm: f64,
    /// Label height in mm.
    #[serde(default = "default_height")]
    pub height_mm: f64,
    /// ISBT 128 codes, where the protocol uses them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isbt128: Option<Isbt128>,
}

fn default_statements() -> PerLanguage<Vec<String>> {
    PerLanguage::Same(vec!["For clinical trial use only".to_owned()])
}

fn default_width() -> f64 {
    100.0
}

fn default_height() -> f64 {
    60.0
}

impl Default for LabelSpec {
    fn default() -> LabelSpec {
        LabelSpec {
            sponsor: None,
            investigator: None,
            site: None,
            statements: default_statements(),
            languages: Vec::new(),
            width_mm: default_width(),
            height_mm: default_height(),
            isbt128: None,
        }
    }
}
