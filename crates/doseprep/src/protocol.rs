//! A trial protocol: the trial's facts (dose, diluent, arms and visits) and a
//! site's settings (tolerances, rounding, limits, clock) with its label's
//! particulars, read from TOML or JSON.
//!
//! The two are apart on purpose: a trial file holds the top level and
//! `[dose]`, `[diluent]`, `[arms]`, what the trial says; a site file holds
//! `[site]`, the settings this pharmacy chose, and `[label]`. Each has its
//! own fingerprint, so two sites of one trial show the same trial
//! fingerprint. One file with both halves still reads.
//!
//! [`ProtocolSpec`] is the file as written, with public fields;
//! [`Protocol`] is a spec that passed every check, immutable and cheap to
//! clone, so preparing a bag never checks the protocol again.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bag_volume::{BagVolume, DrawLimit};
use crate::error::{DoseError, Result};
use crate::label::captions::{self, LabelLanguages, LanguageProblem};
use crate::language::PerLanguage;
use crate::rules::{DoseRule, DoseSpec};
use crate::time::SiteZone;
use crate::units::serde_units::volume_text;
use crate::units::{
    format_duration, BodyWeight, CellsPerKg, DmsoExposure, ExactVolume, PumpRate, Tolerance,
    Viability,
};
use crate::Text;

// The site's types, where the protocol's callers have always found them.
pub use crate::site::{
    DoseBasis, FinalVolumeMode, Gravimetric, Isbt128, LabelSpec, Paper, PrinterDpi, SiteSettings,
    Sponsor, Syringe, WeightRange,
};

/// The advice that ends every parse error of a protocol file.
const FIX_THE_FILE: &str = "fix the key at the line shown (crates/doseprep/protocols/care-ssc.toml lists every trial key, sites/care-ssc-default.toml every site key)";

/// The same advice for a trial file and a site file read together, whose
/// merged keys have no line.
const FIX_THE_KEY: &str = "fix the key named (crates/doseprep/protocols/care-ssc.toml lists every trial key, sites/care-ssc-default.toml every site key)";

/// The CARE-SSc trial file as shipped (`protocols/care-ssc.toml`): the
/// trial's facts only, the same at every site.
pub const CARE_SSC_TRIAL_TOML: &str = include_str!("../protocols/care-ssc.toml");

/// The documented default site of CARE-SSc
/// (`protocols/sites/care-ssc-default.toml`): its `[label]` and `[site]`.
pub const CARE_SSC_DEFAULT_SITE_TOML: &str =
    include_str!("../protocols/sites/care-ssc-default.toml");

/// The two as one file, as a pharmacy's single protocol file holds them.
pub const CARE_SSC_TOML: &str = concat!(
    include_str!("../protocols/care-ssc.toml"),
    "\n",
    include_str!("../protocols/sites/care-ssc-default.toml")
);

/// The example protocols shipped in the library, by name (each one file,
/// trial facts and a site together; every value is the example's own).
const EXAMPLES: [(&str, &str); 4] = [
    ("flat", include_str!("../protocols/examples/flat.toml")),
    (
        "per-kg-with-cap",
        include_str!("../protocols/examples/per-kg-with-cap.toml"),
    ),
    (
        "twice-weekly",
        include_str!("../protocols/examples/twice-weekly.toml"),
    ),
    (
        "weight-bands",
        include_str!("../protocols/examples/weight-bands.toml"),
    ),
];

/// The keys of a protocol that a site file holds: everything else is the
/// trial's.
const SITE_KEYS: [&str; 2] = ["label", "site"];

/// The keys of a trial file (every other key of [`ProtocolSpec`]).
const TRIAL_KEYS: [&str; 9] = [
    "name",
    "registry_id",
    "blinded_product",
    "route",
    "visits",
    "dose",
    "diluent",
    "arms",
    "masking",
];

/// What a bag holds at one visit of one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Content {
    /// The cell product.
    Active,
    /// Diluent alone, matched in volume to the active bag.
    Placebo,
}

impl Content {
    /// "active" or "placebo".
    pub fn as_str(self) -> &'static str {
        match self {
            Content::Active => "active",
            Content::Placebo => "placebo",
        }
    }
}

/// The diluent (trial fact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diluent {
    /// e.g. "PlasmaLyte A".
    pub name: String,
    /// e.g. 50 mL.
    #[serde(with = "volume_text")]
    pub volume: ExactVolume,
}

/// A protocol as written: trial facts at the top, site settings in `site`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// Short name printed on labels, e.g. "CARE-SSc".
    pub name: String,
    /// Registry identifier, e.g. "NCT04356287".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    /// What the blinded label says the bag holds, the same for both contents,
    /// e.g. "UCMSC 1 million cells/kg or placebo": one text for every
    /// language, or a text per language code.
    pub blinded_product: PerLanguage<String>,
    /// Route of administration, e.g. "IV".
    pub route: String,
    /// Visit names in order.
    pub visits: Vec<String>,
    /// The dose rule.
    pub dose: DoseSpec,
    /// The diluent and its volume.
    pub diluent: Diluent,
    /// For each arm, the content at each visit.
    pub arms: BTreeMap<String, BTreeMap<String, Content>>,
    /// How the protocol masks the bags, printed on every worksheet, e.g.
    /// "a cell suspension is cloudy, PlasmaLyte is clear: cover every bag
    /// with an opaque sleeve before it leaves the pharmacy". Unset, the
    /// worksheet names no masking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masking: Option<String>,
    /// The label's particulars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<LabelSpec>,
    /// The site's settings.
    pub site: SiteSettings,
}

/// A protocol that passed every check: immutable, cheap to clone.
#[derive(Debug, Clone)]
pub struct Protocol {
    inner: Arc<Checked>,
}

#[derive(Debug)]
struct Checked {
    spec: ProtocolSpec,
    rule: DoseRule,
    bag_volume: BagVolume,
    zone: SiteZone,
    label: LabelSpec,
    languages: LabelLanguages,
    name: Arc<str>,
    diluent_name: Text,
    /// Arm → visit → content, as short lists: a scan of two or three names
    /// beats a tree of strings.
    schedule: Vec<(Text, Vec<(Text, Content)>)>,
    /// The pump rate of a qs bag, whose volume is fixed: computed once.
    qs_pump_rate: PumpRate,
    /// The trial's and the site's fingerprints, computed once.
    fingerprints: OnceLock<std::result::Result<(String, String), DoseError>>,
}

impl PartialEq for Protocol {
    fn eq(&self, other: &Protocol) -> bool {
        self.inner.spec == other.inner.spec
    }
}

impl ProtocolSpec {
    /// The CARE-SSc protocol (NCT04356287) as written in
    /// `protocols/care-ssc.toml`, with this project's site defaults.
    pub fn care_ssc() -> ProtocolSpec {
        use Content::{Active, Placebo};
        let schedule = |month_0, month_3| {
            BTreeMap::from([
                ("month-0".to_owned(), month_0),
                ("month-3".to_owned(), month_3),
            ])
        };
        ProtocolSpec {
            // Trial facts.
            name: "CARE-SSc".to_owned(),
            registry_id: Some("NCT04356287".to_owned()),
            blinded_product: PerLanguage::ByLanguage(BTreeMap::from([
                (
                    "en".to_owned(),
                    "UCMSC 1 million cells/kg or placebo".to_owned(),
                ),
                (
                    "fr".to_owned(),
                    "CSM de cordon ombilical 1 million de cellules/kg ou placebo".to_owned(),
                ),
            ])),
            route: "IV".to_owned(),
            visits: vec!["month-0".to_owned(), "month-3".to_owned()],
            dose: DoseSpec::per_kg(CellsPerKg::exact(1e6)),
            diluent: Diluent {
                name: "PlasmaLyte A".to_owned(),
                volume: ExactVolume::from_microlitres(50_000),
            },
            arms: BTreeMap::from([
                ("A".to_owned(), schedule(Active, Active)),
                ("B".to_owned(), schedule(Active, Placebo)),
                ("C".to_owned(), schedule(Placebo, Placebo)),
            ]),
            // The registry entry does not say how bags are masked.
            masking: None,
            label: Some(LabelSpec {
                // Registry facts: the sponsor-investigator and the single site.
                sponsor: Some(Sponsor {
                    name: "Marie Hudson, MD (sponsor-investigator)".to_owned(),
                    phone: None,
                }),
                investigator: Some("Marie Hudson, MD".to_owned()),
                site: Some("Jewish General Hospital, Montreal".to_owned()),
                // Site defaults: Health Canada wants English and French.
                statements: PerLanguage::ByLanguage(BTreeMap::from([
                    (
                        "en".to_owned(),
                        vec!["For clinical trial use only".to_owned()],
                    ),
                    (
                        "fr".to_owned(),
                        vec!["Pour usage dans le cadre d'un essai clinique seulement".to_owned()],
                    ),
                ])),
                languages: vec!["en".to_owned(), "fr".to_owned()],
                width_mm: 100.0,
                height_mm: 60.0,
                isbt128: None,
            }),
            // Site defaults, none of them a trial fact.
            site: SiteSettings {
                time_zone: "America/Toronto".to_owned(),
                final_volume_mode: FinalVolumeMode::Qs,
                dose_basis: DoseBasis::Viable,
                dose_tolerance: Tolerance::exact(0.10),
                draw_increment: ExactVolume::from_microlitres(100),
                syringes: Vec::new(),
                max_draw_volume: None,
                viability_floor: Viability::exact(0.70),
                max_thaw_to_end_of_infusion: SignedDuration::from_hours(3),
                infusion_duration: SignedDuration::from_mins(30),
                preparation_time: Some(SignedDuration::from_mins(30)),
                shortest_infusion: None,
                max_bags_per_session: std::num::NonZeroU32::new(6),
                weight_range: WeightRange {
                    min: BodyWeight::exact(30.0),
                    max: BodyWeight::exact(250.0),
                },
                dmso_limit: Some(DmsoExposure::exact(1.0)),
                gravimetric: None,
                storage: PerLanguage::ByLanguage(BTreeMap::from([
                    (
                        "en".to_owned(),
                        "Store at 15-25 °C. Do not refrigerate. Do not irradiate.".to_owned(),
                    ),
                    (
                        "fr".to_owned(),
                        "Conserver entre 15 et 25 °C. Ne pas réfrigérer. Ne pas irradier."
                            .to_owned(),
                    ),
                ])),
                worksheet_paper: Some(Paper::Letter),
                // The registry does not say which printer a site has.
                label_printer_dpi: None,
                spreadsheet_times: None,
            },
        }
    }
}

impl Protocol {
    /// Check a spec. Every rule a protocol must keep is checked here, once.
    pub fn new(spec: ProtocolSpec) -> Result<Protocol> {
        let Validated {
            bag_volume,
            languages,
        } = validate(&spec)?;
        let rule = DoseRule::from_spec(&spec.dose, spec.site.weight_range.min)?;
        let zone = SiteZone::new("site.time_zone", &spec.site.time_zone)?;
        Ok(Protocol::assemble(spec, rule, zone, bag_volume, languages))
    }

    fn assemble(
        spec: ProtocolSpec,
        rule: DoseRule,
        zone: SiteZone,
        bag_volume: BagVolume,
        languages: LabelLanguages,
    ) -> Protocol {
        Protocol {
            inner: Arc::new(Checked {
                rule,
                bag_volume,
                zone,
                languages,
                label: spec.label.clone().unwrap_or_default(), // fallback-ok: no [label] is the documented default label
                name: Arc::from(spec.name.as_str()),
                diluent_name: Text::from(spec.diluent.name.as_str()),
                schedule: spec
                    .arms
                    .iter()
                    .map(|(arm, visits)| {
                        let visits = visits
                            .iter()
                            .map(|(v, c)| (Text::from(v.as_str()), *c))
                            .collect();
                        (Text::from(arm.as_str()), visits)
                    })
                    .collect(),
                qs_pump_rate: PumpRate::for_infusion(
                    spec.diluent.volume,
                    spec.site.infusion_duration,
                ),
                fingerprints: OnceLock::new(),
                spec,
            }),
        }
    }

    /// The CARE-SSc protocol (NCT04356287) with this project's site defaults.
    /// Infallible: its zone is compiled in, and a test checks that it passes
    /// [`Protocol::new`] and equals the trial file `protocols/care-ssc.toml`
    /// read with its default site file `protocols/sites/care-ssc-default.toml`.
    pub fn care_ssc() -> Protocol {
        let spec = ProtocolSpec::care_ssc();
        let rule = DoseRule::care_ssc(CellsPerKg::exact(1e6));
        let zone = SiteZone::built_in("America/Toronto", jiff::tz::get!("America/Toronto"));
        let bag_volume = BagVolume::Qs {
            final_volume: spec.diluent.volume,
            draw_limit: DrawLimit::FinalVolume,
        };
        Protocol::assemble(spec, rule, zone, bag_volume, care_ssc_languages())
    }

    /// A protocol from a trial file and a site file (TOML, or JSON for a
    /// `.json` name, each by its own name): the trial file holds the
    /// trial's facts only, the site file only its `[label]` and `[site]`
    /// tables. A key in the wrong file is refused, naming the file it
    /// belongs in.
    pub fn from_trial_and_site(
        trial_file_name: &str,
        trial_text: &str,
        site_file_name: &str,
        site_text: &str,
    ) -> Result<Protocol> {
        let format_of = |name: &str| match FileFormat::of(name) {
            FileFormat::Json => "JSON",
            FileFormat::Toml => "TOML",
        };
        let read = |file: &str,
                    name: &str,
                    text: &str|
         -> Result<serde_json::Map<String, serde_json::Value>> {
            let value: serde_json::Value = match FileFormat::of(name) {
                FileFormat::Json => {
                    serde_json::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                        format: "JSON".to_owned(),
                        detail: format!("the {file} {name} cannot be read: {e}"),
                    })?
                }
                FileFormat::Toml => {
                    toml::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                        format: "TOML".to_owned(),
                        detail: format!(
                            "the {file} {name} cannot be read: {}",
                            crate::toml_error::one_line(text, &e)
                        ),
                    })?
                }
            };
            match value {
                serde_json::Value::Object(map) => Ok(map),
                _ => Err(DoseError::MalformedProtocol {
                    format: format_of(name).to_owned(),
                    detail: format!("the {file} {name} is not a table of keys"),
                }),
            }
        };
        let mut spec = read("trial file", trial_file_name, trial_text)?;
        if let Some(key) = spec.keys().find(|key| SITE_KEYS.contains(&key.as_str())) {
            return Err(DoseError::invalid_protocol(
                key,
                format!("[{key}] in the trial file {trial_file_name}"),
                "is a site's table, not the trial's: move it to the site file",
            ));
        }
        for (key, value) in read("site file", site_file_name, site_text)? {
            if !SITE_KEYS.contains(&key.as_str()) {
                let reason = if TRIAL_KEYS.contains(&key.as_str()) {
                    "is a trial fact, not a site setting: it belongs in the trial file (a site file holds [label] and [site])"
                } else {
                    "is not a table of a site file, which holds [label] and [site]; check its spelling"
                };
                return Err(DoseError::invalid_protocol(
                    &key,
                    format!("{key} in the site file {site_file_name}"),
                    reason,
                ));
            }
            spec.insert(key, value);
        }
        // serde_path_to_error names the key ("site.dose_tolerance"), which
        // the merged value has no line number to show.
        let spec: ProtocolSpec =
            serde_path_to_error::deserialize(serde_json::Value::Object(spec)).map_err(|e| {
                DoseError::MalformedProtocol {
                    format: format_of(trial_file_name).to_owned(),
                    detail: format!(
                        "the trial file {trial_file_name} and the site file {site_file_name} together, at {}: {}; {FIX_THE_KEY}",
                        e.path(),
                        e.inner()
                    ),
                }
            })?;
        Protocol::new(spec)
    }

    /// An example protocol shipped in the library, by name: `care-ssc`
    /// (the trial with its documented default site, as
    /// [`Protocol::care_ssc`]), `flat`, `per-kg-with-cap`, `twice-weekly`,
    /// `weight-bands`. So every example runs from an installed wheel.
    pub fn example(name: &str) -> Result<Protocol> {
        if name == "care-ssc" {
            return Ok(Protocol::care_ssc());
        }
        let (_, text) = EXAMPLES
            .iter()
            .find(|(example, _)| *example == name)
            .ok_or_else(|| {
                DoseError::invalid_input(
                    "example",
                    format!(
                        "there is no example protocol {name:?}; use one of {}",
                        Protocol::example_names().join(", ")
                    ),
                )
            })?;
        Protocol::from_toml(text)
    }

    /// The names [`Protocol::example`] takes.
    pub fn example_names() -> Vec<&'static str> {
        std::iter::once("care-ssc")
            .chain(EXAMPLES.iter().map(|(name, _)| *name))
            .collect()
    }

    /// Read and check a protocol from TOML. Unknown and missing keys are
    /// errors that name the key.
    pub fn from_toml(text: &str) -> Result<Protocol> {
        let spec: ProtocolSpec =
            toml::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                format: "TOML".to_owned(),
                detail: format!("{}; {FIX_THE_FILE}", crate::toml_error::one_line(text, &e)),
            })?;
        Protocol::new(spec)
    }

    /// Read and check a protocol from JSON.
    pub fn from_json(text: &str) -> Result<Protocol> {
        let spec: ProtocolSpec =
            serde_json::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                format: "JSON".to_owned(),
                detail: format!("{e}; {FIX_THE_FILE}"),
            })?;
        Protocol::new(spec)
    }

    /// Read a protocol file's text in the format its name says: JSON for a
    /// name ending in `.json` (any case), TOML otherwise.
    pub fn from_file_text(file_name: &str, text: &str) -> Result<Protocol> {
        match FileFormat::of(file_name) {
            FileFormat::Json => Protocol::from_json(text),
            FileFormat::Toml => Protocol::from_toml(text),
        }
    }

    /// The spec as written (and as checked).
    pub fn spec(&self) -> &ProtocolSpec {
        &self.inner.spec
    }

    /// Short name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    pub(crate) fn diluent_name(&self) -> &Text {
        &self.inner.diluent_name
    }

    /// The pump rate of a bag of `final_volume`.
    pub(crate) fn pump_rate(&self, final_volume: ExactVolume) -> PumpRate {
        if final_volume == self.inner.spec.diluent.volume {
            self.inner.qs_pump_rate
        } else {
            PumpRate::for_infusion(final_volume, self.inner.spec.site.infusion_duration)
        }
    }

    /// The checked dose rule.
    pub fn rule(&self) -> &DoseRule {
        &self.inner.rule
    }

    /// What a bag's volume is made of (the site's mode, with its limit).
    pub fn bag_volume(&self) -> BagVolume {
        self.inner.bag_volume
    }

    /// The site's settings.
    pub fn site(&self) -> &SiteSettings {
        &self.inner.spec.site
    }

    /// The site's clock.
    pub fn zone(&self) -> &SiteZone {
        &self.inner.zone
    }

    /// The clock a spreadsheet's date-and-time cells are read on: the
    /// site's, where its site file says `spreadsheet_times = "site
    /// clock"`; none (such cells refused) otherwise.
    pub fn spreadsheet_zone(&self) -> Option<&SiteZone> {
        match self.site().spreadsheet_times {
            Some(crate::site::SpreadsheetTimes::SiteClock) => Some(&self.inner.zone),
            None => None,
        }
    }

    /// The label's particulars (defaults where the protocol gives none).
    pub fn label(&self) -> &LabelSpec {
        &self.inner.label
    }

    /// The label's languages, checked: each has its captions, none twice.
    pub fn label_languages(&self) -> &LabelLanguages {
        &self.inner.languages
    }

    /// The canonical form: compact JSON with fields in declaration order and
    /// maps sorted, every quantity as its canonical text.
    pub fn canonical_json(&self) -> Result<String> {
        canonical_json(&self.inner.spec)
    }

    /// SHA-256 of the trial's facts in canonical form (every key but
    /// `label` and `site`), lowercase hex: the same at every site of the
    /// trial, whether its files were one or two and however laid out.
    pub fn trial_fingerprint(&self) -> Result<&str> {
        self.fingerprints().map(|(trial, _)| trial.as_str())
    }

    /// SHA-256 of the site's part in canonical form (`label` and `site`),
    /// lowercase hex: what tells two sites of one trial apart.
    pub fn site_fingerprint(&self) -> Result<&str> {
        self.fingerprints().map(|(_, site)| site.as_str())
    }

    fn fingerprints(&self) -> Result<&(String, String)> {
        self.inner
            .fingerprints
            .get_or_init(|| {
                let value = serde_json::to_value(&self.inner.spec).map_err(|e| {
                    DoseError::InvalidProtocol {
                        field: "protocol".to_owned(),
                        value: self.inner.spec.name.clone(),
                        reason: format!("cannot be written as JSON: {e}"),
                    }
                })?;
                let serde_json::Value::Object(mut trial) = value else {
                    return Err(DoseError::InvalidProtocol {
                        field: "protocol".to_owned(),
                        value: self.inner.spec.name.clone(),
                        reason: "is not written as a JSON object".to_owned(),
                    });
                };
                let mut site = serde_json::Map::new();
                for key in SITE_KEYS {
                    if let Some(part) = trial.remove(key) {
                        site.insert(key.to_owned(), part);
                    }
                }
                let digest = |part: serde_json::Map<String, serde_json::Value>| {
                    let canonical = sorted(serde_json::Value::Object(part)).to_string();
                    Sha256::digest(canonical.as_bytes())
                        .iter()
                        .map(|byte| format!("{byte:02x}"))
                        .collect::<String>()
                };
                Ok((digest(trial), digest(site)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The content an arm receives at a visit.
    pub fn content(&self, arm: &str, visit: &str) -> Result<Content> {
        let found = self
            .inner
            .schedule
            .iter()
            .find(|(name, _)| name == arm)
            .and_then(|(_, visits)| visits.iter().find(|(name, _)| name == visit));
        if let Some((_, content)) = found {
            return Ok(*content);
        }
        let spec = &self.inner.spec;
        let schedule = spec.arms.get(arm).ok_or_else(|| DoseError::UnknownArm {
            arm: arm.to_owned(),
            protocol: spec.name.clone(),
            known: spec.arms.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        schedule
            .get(visit)
            .copied()
            .ok_or_else(|| DoseError::UnknownVisit {
                visit: visit.to_owned(),
                protocol: spec.name.clone(),
                known: spec.visits.join(", "),
            })
    }
}

/// Protocol and lot files are TOML or JSON, by their name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `.json`
    Json,
    /// anything else
    Toml,
}

impl FileFormat {
    /// The format a file name says: JSON for `.json` (any case), else TOML.
    pub fn of(file_name: &str) -> FileFormat {
        let is_json = std::path::Path::new(file_name)
            .extension()
            .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
        if is_json {
            FileFormat::Json
        } else {
            FileFormat::Toml
        }
    }
}

/// `value` with every object's keys in sorted order, whatever order the
/// maps keep (serde_json's `preserve_order` keeps insertion order): the
/// canonical form the fingerprints are taken of.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.cmp(b));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sorted(value)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

fn canonical_json(spec: &ProtocolSpec) -> Result<String> {
    serde_json::to_string(spec).map_err(|e| DoseError::InvalidProtocol {
        field: "protocol".to_owned(),
        value: spec.name.clone(),
        reason: format!("cannot be written as JSON: {e}"),
    })
}

fn duration_positive(field: &str, duration: SignedDuration) -> Result<()> {
    if duration.is_positive() {
        Ok(())
    } else {
        Err(DoseError::invalid_protocol(
            field,
            format_duration(duration),
            "must be longer than 0, e.g. \"30 min\"",
        ))
    }
}

/// Every rule a spec must keep besides the dose rule and the zone.
/// Check every rule a protocol must keep; the bag volume rule is what the
/// checks make of the mode, the diluent and the largest draw.
fn validate(spec: &ProtocolSpec) -> Result<Validated> {
    let languages = validate_languages(spec)?;
    let texts = std::iter::once(("blinded_product", spec.blinded_product.all()))
        .chain(std::iter::once(("site.storage", spec.site.storage.all())))
        .flat_map(|(field, texts)| texts.into_iter().map(move |text| (field, text)));
    for (field, text) in [
        ("name", &spec.name),
        ("route", &spec.route),
        ("diluent.name", &spec.diluent.name),
    ]
    .into_iter()
    .chain(texts)
    {
        if text.trim().is_empty() {
            return Err(DoseError::invalid_protocol(
                field,
                "\"\"",
                "must not be empty",
            ));
        }
    }
    validate_printable(spec)?;
    if spec.visits.is_empty() {
        return Err(DoseError::invalid_protocol(
            "visits",
            "[]",
            "list at least one visit",
        ));
    }
    for (index, visit) in spec.visits.iter().enumerate() {
        if visit.trim().is_empty() {
            return Err(DoseError::invalid_protocol(
                "visits",
                "\"\"",
                "a visit name must not be empty",
            ));
        }
        if spec
            .visits
            .iter()
            .skip(index + 1)
            .any(|other| other == visit)
        {
            return Err(DoseError::invalid_protocol(
                "visits",
                visit,
                "is listed twice; name each visit once",
            ));
        }
    }
    if spec.arms.is_empty() {
        return Err(DoseError::invalid_protocol(
            "arms",
            "{}",
            "define at least one arm",
        ));
    }
    for (arm, schedule) in &spec.arms {
        if arm.trim().is_empty() {
            return Err(DoseError::invalid_protocol(
                "arms",
                "\"\"",
                "an arm name must not be empty",
            ));
        }
        for visit in schedule.keys() {
            if !spec.visits.contains(visit) {
                return Err(DoseError::invalid_protocol(
                    &format!("arms.{arm}"),
                    visit,
                    &format!(
                        "names a visit that is not in visits ({}); add it to visits or fix the name",
                        spec.visits.join(", ")
                    ),
                ));
            }
        }
        if let Some(missing) = spec.visits.iter().find(|v| !schedule.contains_key(*v)) {
            return Err(DoseError::invalid_protocol(
                &format!("arms.{arm}"),
                missing,
                "this visit has no content for the arm; give it \"active\" or \"placebo\"",
            ));
        }
    }
    let bag_volume = validate_site(spec)?;
    if let Some(label) = &spec.label {
        validate_label(label)?;
    }
    Ok(Validated {
        bag_volume,
        languages,
    })
}

/// Every text a label or worksheet prints holds printable characters only:
/// a tab or line break would reflow the printed page, and a label printer
/// acts on control characters instead of printing them.
fn validate_printable(spec: &ProtocolSpec) -> Result<()> {
    let label = spec.label.clone().unwrap_or_default(); // fallback-ok: no [label] is the documented default label
    let mut texts: Vec<(&str, &str)> = vec![
        ("name", &spec.name),
        ("route", &spec.route),
        ("diluent.name", &spec.diluent.name),
    ];
    texts.extend(spec.registry_id.iter().map(|t| ("registry_id", t.as_str())));
    texts.extend(
        spec.blinded_product
            .all()
            .into_iter()
            .map(|t| ("blinded_product", t.as_str())),
    );
    texts.extend(
        spec.site
            .storage
            .all()
            .into_iter()
            .map(|t| ("site.storage", t.as_str())),
    );
    let statements = label.statements.all().into_iter().flatten();
    texts.extend(statements.map(|t| ("label.statements", t.as_str())));
    if let Some(sponsor) = &label.sponsor {
        texts.push(("label.sponsor.name", &sponsor.name));
        texts.extend(
            sponsor
                .phone
                .iter()
                .map(|t| ("label.sponsor.phone", t.as_str())),
        );
    }
    texts.extend(
        label
            .investigator
            .iter()
            .map(|t| ("label.investigator", t.as_str())),
    );
    texts.extend(label.site.iter().map(|t| ("label.site", t.as_str())));
    for (field, text) in texts {
        if let Some(control) = text.chars().find(|c| c.is_control()) {
            return Err(DoseError::invalid_protocol(
                field,
                format!("{text:?}"),
                &format!(
                    "holds the control character U+{:04X}; a printed text is one line of printable characters",
                    u32::from(control)
                ),
            ));
        }
    }
    Ok(())
}

/// What checking a spec makes of it besides the dose rule and the zone.
struct Validated {
    bag_volume: BagVolume,
    languages: LabelLanguages,
}

/// CARE-SSc's default site prints English and French (Health Canada).
#[expect(
    clippy::expect_used,
    reason = "both catalogues are compiled in; the test that care_ssc() equals its files checks it"
)]
fn care_ssc_languages() -> LabelLanguages {
    let languages = LabelLanguages::new(&["en", "fr"]).expect("en and fr are shipped, once each"); // allow-panic: see the reason above
    languages
}

fn validate_site(spec: &ProtocolSpec) -> Result<BagVolume> {
    let site = &spec.site;
    let bag_volume = BagVolume::new(
        spec.diluent.volume,
        site.final_volume_mode,
        site.max_draw_volume,
    )?;
    if site.draw_increment.is_zero() {
        return Err(DoseError::invalid_protocol(
            "site.draw_increment",
            "0 mL",
            "must be above 0 mL, e.g. \"0.1 mL\"",
        ));
    }
    if site.draw_increment > spec.diluent.volume {
        return Err(DoseError::invalid_protocol(
            "site.draw_increment",
            site.draw_increment,
            &format!("must not exceed the diluent volume {}", spec.diluent.volume),
        ));
    }
    validate_syringes(&site.syringes)?;
    if site.weight_range.min >= site.weight_range.max {
        return Err(DoseError::invalid_protocol(
            "site.weight_range",
            format!("{}-{}", site.weight_range.min, site.weight_range.max),
            "min must be below max",
        ));
    }
    duration_positive("site.infusion_duration", site.infusion_duration)?;
    duration_positive(
        "site.max_thaw_to_end_of_infusion",
        site.max_thaw_to_end_of_infusion,
    )?;
    if site.infusion_duration >= site.max_thaw_to_end_of_infusion {
        return Err(DoseError::invalid_protocol(
            "site.infusion_duration",
            format_duration(site.infusion_duration),
            &format!(
                "must be shorter than site.max_thaw_to_end_of_infusion ({}): the thaw window must hold the infusion",
                format_duration(site.max_thaw_to_end_of_infusion)
            ),
        ));
    }
    if let Some(shortest) = site.shortest_infusion {
        duration_positive("site.shortest_infusion", shortest)?;
        if shortest >= site.infusion_duration {
            return Err(DoseError::invalid_protocol(
                "site.shortest_infusion",
                format_duration(shortest),
                &format!(
                    "must be shorter than site.infusion_duration ({}): it is how much shorter than planned an infusion may run without a reason",
                    format_duration(site.infusion_duration)
                ),
            ));
        }
    }
    if let Some(preparation) = site.preparation_time {
        duration_positive("site.preparation_time", preparation)?;
        if preparation + site.infusion_duration > site.max_thaw_to_end_of_infusion {
            return Err(DoseError::invalid_protocol(
                "site.preparation_time",
                format_duration(preparation),
                &format!(
                    "with the infusion ({}) it does not fit in site.max_thaw_to_end_of_infusion ({})",
                    format_duration(site.infusion_duration),
                    format_duration(site.max_thaw_to_end_of_infusion)
                ),
            ));
        }
    }
    if let Some(limit) = site.dmso_limit {
        let value = limit.g_per_kg();
        if !(value.is_finite() && value > 0.0) {
            return Err(DoseError::invalid_protocol(
                "site.dmso_limit",
                value,
                "must be a finite number of g/kg above 0; leave it out to set no limit",
            ));
        }
    }
    Ok(bag_volume)
}

fn validate_syringes(syringes: &[Syringe]) -> Result<()> {
    let mut previous: Option<ExactVolume> = None;
    for (index, syringe) in syringes.iter().enumerate() {
        let field = format!("site.syringes[{}]", index + 1);
        if syringe.graduation.is_zero() || syringe.capacity.is_zero() {
            return Err(DoseError::invalid_protocol(
                &field,
                format!("{} graduated {}", syringe.capacity, syringe.graduation),
                "capacity and graduation must be above 0 mL",
            ));
        }
        if !syringe.capacity.is_multiple_of(syringe.graduation) {
            return Err(DoseError::invalid_protocol(
                &field,
                format!("{} graduated {}", syringe.capacity, syringe.graduation),
                "the graduation must divide the capacity (a 3 mL syringe is marked every 0.1 mL, not every 0.7 mL)",
            ));
        }
        if let Some(before) = previous {
            if syringe.capacity <= before {
                return Err(DoseError::invalid_protocol(
                    &field,
                    syringe.capacity,
                    &format!("is not larger than the syringe before it ({before}); list each capacity once, smallest first"),
                ));
            }
        }
        previous = Some(syringe.capacity);
    }
    Ok(())
}

/// Every label language has captions, and every per-language text has a
/// text in each label language.
fn validate_languages(spec: &ProtocolSpec) -> Result<LabelLanguages> {
    let label = spec.label.clone().unwrap_or_default(); // fallback-ok: no [label] is the documented default label
    let languages = LabelLanguages::new(&label.languages).map_err(|problem| match problem {
        LanguageProblem::NoCatalogue(code) => DoseError::invalid_protocol(
            "label.languages",
            format!("{code:?}"),
            &format!(
                "has no caption catalogue; doseprep prints labels in {} (protocols/captions/)",
                captions::languages().join(", ")
            ),
        ),
        LanguageProblem::Twice(code) => DoseError::invalid_protocol(
            "label.languages",
            format!("{code:?}"),
            "is given twice; list each language once, first language first",
        ),
    })?;
    let codes = languages.codes();
    for (field, missing) in [
        ("blinded_product", spec.blinded_product.missing(&codes)),
        ("site.storage", spec.site.storage.missing(&codes)),
        ("label.statements", label.statements.missing(&codes)),
    ] {
        if let Some(language) = missing {
            return Err(DoseError::invalid_protocol(
                field,
                format!("(no {language:?} text)"),
                &format!(
                    "the label is printed in {}: give a text for each, e.g. {language} = \"...\", or one text for all",
                    codes.join(", ")
                ),
            ));
        }
    }
    // The investigational-use statement is required (EU 536/2014 Annex VI,
    // C.05.011): every language of the label carries at least one line.
    for lines in label.statements.in_languages(&codes) {
        if lines.is_empty() || lines.iter().any(|line| line.trim().is_empty()) {
            return Err(DoseError::invalid_protocol(
                "label.statements",
                format!("{lines:?}"),
                "every label language needs at least one statement line and no blank one, e.g. \"For clinical trial use only\" (EU 536/2014 Annex VI, C.05.011)",
            ));
        }
    }
    // doseprep's default statement is English: it does not stand in for
    // another language's.
    if label.statements == LabelSpec::default().statements && !codes.contains(&"en") {
        return Err(DoseError::invalid_protocol(
            "label.statements",
            "(unset: doseprep's English default)",
            &format!(
                "the label is printed in {} only: give the statements in its language, e.g. statements = {{ {} = [\"...\"] }}",
                codes.join(", "),
                languages.first().code()
            ),
        ));
    }
    Ok(languages)
}

fn validate_label(label: &LabelSpec) -> Result<()> {
    for (field, value) in [
        ("label.width_mm", label.width_mm),
        ("label.height_mm", label.height_mm),
    ] {
        if !(value.is_finite() && (20.0..=300.0).contains(&value)) {
            return Err(DoseError::invalid_protocol(
                field,
                value,
                "must be a size in mm from 20 to 300 (labels are 100 × 60 mm by default)",
            ));
        }
    }
    if let Some(isbt) = &label.isbt128 {
        crate::label::isbt128::check_codes(&isbt.fin, &isbt.product_code)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn care_ssc() -> Protocol {
        Protocol::care_ssc()
    }

    #[test]
    fn the_shipped_file_and_the_built_in_agree() {
        assert_eq!(Protocol::from_toml(CARE_SSC_TOML), Ok(Protocol::care_ssc()));
        // Its bag volume, written by hand, is what the checks make of the file.
        let read = Protocol::from_toml(CARE_SSC_TOML).unwrap();
        assert_eq!(read.bag_volume(), Protocol::care_ssc().bag_volume());
        let checked = Protocol::new(ProtocolSpec::care_ssc());
        assert_eq!(checked.as_ref(), Ok(&Protocol::care_ssc()));
        assert_eq!(
            checked.map(|p| p.rule().clone()),
            Ok(Protocol::care_ssc().rule().clone())
        );
    }

    #[test]
    fn care_ssc_holds_the_trial_facts() {
        let p = care_ssc();
        let spec = p.spec();
        assert_eq!(spec.name, "CARE-SSc");
        assert_eq!(spec.registry_id.as_deref(), Some("NCT04356287"));
        assert_eq!(spec.dose.cells_per_kg.map(CellsPerKg::value), Some(1e6));
        assert_eq!(spec.diluent.name, "PlasmaLyte A");
        assert_eq!(spec.diluent.volume, ExactVolume::from_microlitres(50_000));
        assert_eq!(spec.route, "IV");
        assert_eq!(spec.visits, ["month-0", "month-3"]);
        use Content::{Active, Placebo};
        let schedule = |arm: &str| {
            spec.visits
                .iter()
                .map(|v| p.content(arm, v))
                .collect::<Result<Vec<_>>>()
        };
        assert_eq!(schedule("A"), Ok(vec![Active, Active]));
        assert_eq!(schedule("B"), Ok(vec![Active, Placebo]));
        assert_eq!(schedule("C"), Ok(vec![Placebo, Placebo]));
    }

    #[test]
    fn care_ssc_site_defaults() {
        let s = care_ssc().spec().site.clone();
        assert_eq!(s.time_zone, "America/Toronto");
        assert_eq!(s.final_volume_mode, FinalVolumeMode::Qs);
        assert_eq!(s.draw_increment, ExactVolume::from_microlitres(100));
        assert_eq!(s.dose_tolerance.value(), 0.10);
        assert_eq!(s.dose_basis, DoseBasis::Viable);
        assert_eq!(s.viability_floor.value(), 0.70);
        assert_eq!(s.infusion_duration, SignedDuration::from_mins(30));
        assert_eq!(s.max_thaw_to_end_of_infusion, SignedDuration::from_hours(3));
        assert_eq!(s.dmso_limit.map(DmsoExposure::g_per_kg), Some(1.0));
    }

    #[test]
    fn unknown_and_missing_keys_are_named() {
        let unknown = CARE_SSC_TOML.replace("route = \"IV\"", "route = \"IV\"\nroot = \"IV\"");
        let err = Protocol::from_toml(&unknown).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.contains("unknown field `root`")),
            "{err:?}"
        );
        let missing = CARE_SSC_TOML.replace("route = \"IV\"", "");
        let err = Protocol::from_toml(&missing).map_err(|e| e.to_string());
        assert!(
            matches!(&err, Err(m) if m.contains("missing field `route`")),
            "{err:?}"
        );
    }

    #[test]
    fn json_and_toml_agree_and_fingerprint_is_layout_free() {
        let p = care_ssc();
        let json = p.canonical_json().unwrap();
        assert_eq!(Protocol::from_json(&json).as_ref(), Ok(&p));
        let reflowed = format!("# a comment\n{}", CARE_SSC_TOML.replace(" = ", "="));
        let again = Protocol::from_toml(&reflowed);
        assert_eq!(
            again
                .as_ref()
                .map(|p| p.trial_fingerprint().map(str::to_owned)),
            Ok(p.trial_fingerprint().map(str::to_owned))
        );
        assert_eq!(p.trial_fingerprint().map(str::len), Ok(64));
        assert_eq!(FileFormat::of("p.JSON"), FileFormat::Json);
        assert_eq!(FileFormat::of("p.toml"), FileFormat::Toml);
    }

    #[test]
    fn a_trial_file_and_a_site_file_make_the_protocol_and_sites_share_the_trial_fingerprint() {
        let two_files = Protocol::from_trial_and_site(
            "care-ssc.toml",
            CARE_SSC_TRIAL_TOML,
            "care-ssc-default.toml",
            CARE_SSC_DEFAULT_SITE_TOML,
        )
        .unwrap();
        assert_eq!(two_files, care_ssc());
        // Another site of the trial: its own clock and label; the same trial.
        let paris_site = CARE_SSC_DEFAULT_SITE_TOML
            .replace("\"America/Toronto\"", "\"Europe/Paris\"")
            .replace("languages = [\"en\", \"fr\"]", "languages = [\"fr\"]");
        let paris =
            Protocol::from_trial_and_site("t.toml", CARE_SSC_TRIAL_TOML, "paris.toml", &paris_site)
                .unwrap();
        assert_eq!(paris.trial_fingerprint(), care_ssc().trial_fingerprint());
        assert_ne!(paris.site_fingerprint(), care_ssc().site_fingerprint());
        // The single file gives the same two fingerprints as the two files.
        let one_file = Protocol::from_toml(CARE_SSC_TOML).unwrap();
        assert_eq!(one_file.trial_fingerprint(), two_files.trial_fingerprint());
        assert_eq!(one_file.site_fingerprint(), two_files.site_fingerprint());
        // A trial fact changed is another trial.
        let other_dose =
            CARE_SSC_TRIAL_TOML.replace("\"1 million cells/kg\"", "\"2 million cells/kg\"");
        let other = Protocol::from_trial_and_site(
            "t.toml",
            &other_dose,
            "s.toml",
            CARE_SSC_DEFAULT_SITE_TOML,
        )
        .unwrap();
        assert_ne!(other.trial_fingerprint(), care_ssc().trial_fingerprint());
        assert_eq!(other.site_fingerprint(), care_ssc().site_fingerprint());
        // A key in the wrong file is refused, naming where it belongs.
        let misplaced = Protocol::from_trial_and_site(
            "t.toml",
            CARE_SSC_TRIAL_TOML,
            "s.toml",
            &format!("route = \"IV\"\n{CARE_SSC_DEFAULT_SITE_TOML}"),
        )
        .unwrap_err();
        assert!(
            misplaced
                .to_string()
                .contains("route = route in the site file s.toml is invalid: is a trial fact"),
            "{misplaced}"
        );
        // A misspelt table is not called a trial fact.
        let typo = Protocol::from_trial_and_site(
            "t.toml",
            CARE_SSC_TRIAL_TOML,
            "s.toml",
            &CARE_SSC_DEFAULT_SITE_TOML.replace("[label]", "[labels]"),
        )
        .unwrap_err();
        assert!(typo.to_string().contains("check its spelling"), "{typo}");
        let site_in_trial = Protocol::from_trial_and_site(
            "t.toml",
            CARE_SSC_TOML,
            "s.toml",
            CARE_SSC_DEFAULT_SITE_TOML,
        )
        .unwrap_err();
        assert!(
            site_in_trial
                .to_string()
                .contains("move it to the site file"),
            "{site_in_trial}"
        );
    }

    #[test]
    fn every_example_is_reachable_by_name() {
        for name in Protocol::example_names() {
            assert!(Protocol::example(name).is_ok(), "{name}");
        }
        assert_eq!(Protocol::example("care-ssc"), Ok(care_ssc()));
        let unknown = Protocol::example("bands").unwrap_err().to_string();
        assert!(
            unknown
                .contains("use one of care-ssc, flat, per-kg-with-cap, twice-weekly, weight-bands"),
            "{unknown}"
        );
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let cases = [
            (
                "dose_tolerance = 0.10",
                "dose_tolerance = 1.5",
                "tolerance: 1.5 (fraction) is not a valid value",
            ),
            (
                "cells_per_kg = \"1 million cells/kg\"",
                "cells_per_kg = \"-1 million cells/kg\"",
                "dose",
            ),
            (
                "B = { month-0 = \"active\", month-3 = \"placebo\" }",
                "B = { month-0 = \"active\", month-6 = \"placebo\" }",
                "arms.B",
            ),
            (
                "time_zone = \"America/Toronto\"",
                "time_zone = \"Mars/Olympus\"",
                "\"Mars/Olympus\"",
            ),
            (
                "time_zone = \"America/Toronto\"",
                "time_zone = \"\"",
                "site.time_zone",
            ),
            (
                "infusion_duration = \"30 min\"",
                "infusion_duration = \"0 min\"",
                "infusion_duration",
            ),
            (
                "dmso_limit = \"1 g/kg\"",
                "dmso_limit = \"0 g/kg\"",
                "dmso_limit",
            ),
            (
                "infusion_duration = \"30 min\"",
                "infusion_duration = \"4 h\"",
                "site.infusion_duration",
            ),
        ];
        for (from, to, field) in cases {
            assert!(CARE_SSC_TOML.contains(from), "{from}");
            let err = Protocol::from_toml(&CARE_SSC_TOML.replace(from, to));
            assert_eq!(
                err.as_ref().map_err(|e| e.kind()),
                Err(ErrorKind::Protocol),
                "{to}"
            );
            let message = err.map_err(|e| e.to_string());
            assert!(
                matches!(&message, Err(m) if m.contains(field)),
                "{message:?}"
            );
        }
    }

    #[test]
    fn fractional_durations_are_accepted() {
        for duration in ["2.2 h", "1.1 h", "4.1 min", "90 min"] {
            let text = CARE_SSC_TOML
                .replace(
                    "infusion_duration = \"30 min\"",
                    &format!("infusion_duration = \"{duration}\""),
                )
                .replace(
                    "max_thaw_to_end_of_infusion = \"3 h\"",
                    "max_thaw_to_end_of_infusion = \"4 h\"",
                );
            assert!(Protocol::from_toml(&text).is_ok(), "{duration}");
        }
    }
}
