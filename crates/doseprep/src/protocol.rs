//! A trial protocol: the trial's facts (dose, diluent, arms and visits) and the
//! site's settings (tolerances, rounding, limits), read from TOML or JSON.
//!
//! The file has two halves on purpose: everything at the top level and in
//! `[dose]`, `[diluent]` and `[arms]` is what the trial says; everything under
//! `[site]` is a setting this pharmacy chose, with a documented default. The
//! built-in [`Protocol::care_ssc`] equals `protocols/care-ssc.toml` (tested).

use std::collections::BTreeMap;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{DoseError, Result};
use crate::units::{self, BodyWeight, CellsPerKg, ExactVolume};

/// The advice that ends every parse error of a protocol file.
const FIX_THE_FILE: &str =
    "fix the key at the line shown (crates/doseprep/protocols/care-ssc.toml lists every key)";

/// The CARE-SSc protocol file as shipped (`protocols/care-ssc.toml`).
pub const CARE_SSC_TOML: &str = include_str!("../protocols/care-ssc.toml");

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

/// How the prescribed dose is computed. New rules (a flat dose with a range,
/// weight bands) are new variants; `PerKg` is the one CARE-SSc uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case", deny_unknown_fields)]
#[non_exhaustive]
pub enum DoseRule {
    /// `cells_per_kg` × dosing weight, where the dosing weight is the body
    /// weight capped at `dosing_weight_cap` if the protocol sets one.
    PerKg {
        /// Trial fact: cells per kg body weight.
        cells_per_kg: CellsPerKg,
        /// Site setting: dose as if the participant weighed at most this.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dosing_weight_cap: Option<BodyWeight>,
    },
}

/// Which cells the dose counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DoseBasis {
    /// Viable cells (the lot's viable cells/mL).
    Viable,
    /// All cells, live and dead (viable cells/mL ÷ viability).
    Total,
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

/// The diluent (trial fact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diluent {
    /// e.g. "PlasmaLyte A".
    pub name: String,
    /// e.g. 50 mL.
    pub volume: ExactVolume,
}

/// A weight range in kg.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeightRange {
    /// Lightest plausible participant.
    pub min: BodyWeight,
    /// Heaviest plausible participant.
    pub max: BodyWeight,
}

/// The settings a site chooses; every one has a default in the built-in
/// protocol, and none is a trial fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteSettings {
    /// `qs` or `additive`.
    pub final_volume_mode: FinalVolumeMode,
    /// `viable` or `total`.
    pub dose_basis: DoseBasis,
    /// Largest accepted |delivered − target| / target, a fraction in (0, 1).
    pub dose_tolerance: f64,
    /// The syringe resolution the draw is rounded to (half up).
    pub draw_increment: ExactVolume,
    /// Largest draw volume allowed whatever the mode (in `qs` mode the final
    /// volume limits the draw as well).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_draw_volume: Option<ExactVolume>,
    /// Lowest post-thaw viability a lot may have, a fraction in (0, 1].
    pub viability_floor: f64,
    /// Latest end of infusion, counted from thaw.
    #[serde(with = "units::duration_text")]
    pub max_thaw_to_end_of_infusion: SignedDuration,
    /// How long the infusion runs (sets the pump rate).
    #[serde(with = "units::duration_text")]
    pub infusion_duration: SignedDuration,
    /// Weights outside this range are refused as implausible.
    pub weight_range: WeightRange,
    /// Largest DMSO exposure, g per kg body weight, if the site sets one.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "units::optional_grams_per_kg_text"
    )]
    pub dmso_limit: Option<f64>,
    /// The storage line printed on the label.
    pub storage: String,
}

/// A protocol: trial facts at the top, site settings in `site`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Short name printed on labels, e.g. "CARE-SSc".
    pub name: String,
    /// Registry identifier, e.g. "NCT04356287".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_id: Option<String>,
    /// What the blinded label says the bag holds, the same for both contents,
    /// e.g. "UCMSC 1 million cells/kg or placebo".
    pub blinded_product: String,
    /// Route of administration, e.g. "IV".
    pub route: String,
    /// Visit names in order.
    pub visits: Vec<String>,
    /// The dose rule.
    pub dose: DoseRule,
    /// The diluent and its volume.
    pub diluent: Diluent,
    /// For each arm, the content at each visit.
    pub arms: BTreeMap<String, BTreeMap<String, Content>>,
    /// The site's settings.
    pub site: SiteSettings,
}

impl Protocol {
    /// The CARE-SSc protocol (NCT04356287) with this project's site defaults.
    ///
    /// Written out here rather than parsed from `protocols/care-ssc.toml`, so
    /// that a test can check the two independent copies agree.
    pub fn care_ssc() -> Protocol {
        use Content::{Active, Placebo};
        let schedule = |month_0, month_3| {
            BTreeMap::from([
                ("month-0".to_owned(), month_0),
                ("month-3".to_owned(), month_3),
            ])
        };
        Protocol {
            // Trial facts.
            name: "CARE-SSc".to_owned(),
            registry_id: Some("NCT04356287".to_owned()),
            blinded_product: "UCMSC 1 million cells/kg or placebo".to_owned(),
            route: "IV".to_owned(),
            visits: vec!["month-0".to_owned(), "month-3".to_owned()],
            dose: DoseRule::PerKg {
                cells_per_kg: CellsPerKg::exact(1e6),
                dosing_weight_cap: None, // site setting; the trial sets no cap
            },
            diluent: Diluent {
                name: "PlasmaLyte A".to_owned(),
                volume: ExactVolume::from_microlitres(50_000),
            },
            arms: BTreeMap::from([
                ("A".to_owned(), schedule(Active, Active)),
                ("B".to_owned(), schedule(Active, Placebo)),
                ("C".to_owned(), schedule(Placebo, Placebo)),
            ]),
            // Site defaults, none of them a trial fact.
            site: SiteSettings {
                final_volume_mode: FinalVolumeMode::Qs,
                dose_basis: DoseBasis::Viable,
                dose_tolerance: 0.10,
                draw_increment: ExactVolume::from_microlitres(100),
                max_draw_volume: None,
                viability_floor: 0.70,
                max_thaw_to_end_of_infusion: SignedDuration::from_hours(3),
                infusion_duration: SignedDuration::from_mins(30),
                weight_range: WeightRange {
                    min: BodyWeight::exact(30.0),
                    max: BodyWeight::exact(250.0),
                },
                dmso_limit: Some(1.0),
                storage: "Store at 15-25 °C. Do not refrigerate. Do not irradiate.".to_owned(),
            },
        }
    }

    /// Read and check a protocol from TOML. Unknown and missing keys are
    /// errors that name the key.
    pub fn from_toml(text: &str) -> Result<Protocol> {
        let protocol: Protocol =
            toml::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                format: "TOML".to_owned(),
                detail: format!("{}; {FIX_THE_FILE}", e.to_string().trim_end()),
            })?;
        protocol.validate()?;
        Ok(protocol)
    }

    /// Read and check a protocol from JSON.
    pub fn from_json(text: &str) -> Result<Protocol> {
        let protocol: Protocol =
            serde_json::from_str(text).map_err(|e| DoseError::MalformedProtocol {
                format: "JSON".to_owned(),
                detail: format!("{e}; {FIX_THE_FILE}"),
            })?;
        protocol.validate()?;
        Ok(protocol)
    }

    /// The canonical form: compact JSON with fields in declaration order and
    /// maps sorted, every quantity as its canonical text.
    pub fn canonical_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| DoseError::InvalidProtocol {
            field: "protocol".to_owned(),
            value: self.name.clone(),
            reason: format!("cannot be written as JSON: {e}"),
        })
    }

    /// SHA-256 of the canonical form, lowercase hex: the same for the same
    /// protocol however its file was laid out.
    pub fn fingerprint(&self) -> Result<String> {
        let digest = Sha256::digest(self.canonical_json()?.as_bytes());
        Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The content an arm receives at a visit.
    pub fn content(&self, arm: &str, visit: &str) -> Result<Content> {
        let schedule = self.arms.get(arm).ok_or_else(|| DoseError::UnknownArm {
            arm: arm.to_owned(),
            protocol: self.name.clone(),
            known: self.arms.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        schedule
            .get(visit)
            .copied()
            .ok_or_else(|| DoseError::UnknownVisit {
                visit: visit.to_owned(),
                protocol: self.name.clone(),
                known: self.visits.join(", "),
            })
    }

    /// The dose per kg of the protocol's rule.
    pub fn cells_per_kg(&self) -> CellsPerKg {
        match &self.dose {
            DoseRule::PerKg { cells_per_kg, .. } => *cells_per_kg,
        }
    }

    /// Check the rules a parsed protocol must keep (also run by `prepare`,
    /// since the fields are public and can be built in code).
    pub fn validate(&self) -> Result<()> {
        for (field, text) in [
            ("name", &self.name),
            ("blinded_product", &self.blinded_product),
            ("route", &self.route),
            ("diluent.name", &self.diluent.name),
        ] {
            if text.trim().is_empty() {
                return Err(DoseError::invalid_protocol(
                    field,
                    "\"\"",
                    "must not be empty",
                ));
            }
        }
        if self.visits.is_empty() {
            return Err(DoseError::invalid_protocol(
                "visits",
                "[]",
                "list at least one visit",
            ));
        }
        for (index, visit) in self.visits.iter().enumerate() {
            if self
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
        if self.arms.is_empty() {
            return Err(DoseError::invalid_protocol(
                "arms",
                "{}",
                "define at least one arm",
            ));
        }
        for (arm, schedule) in &self.arms {
            for visit in schedule.keys() {
                if !self.visits.contains(visit) {
                    return Err(DoseError::invalid_protocol(
                        &format!("arms.{arm}"),
                        visit,
                        &format!(
                            "names a visit that is not in visits ({}); add it to visits or fix the name",
                            self.visits.join(", ")
                        ),
                    ));
                }
            }
            if let Some(missing) = self.visits.iter().find(|v| !schedule.contains_key(*v)) {
                return Err(DoseError::invalid_protocol(
                    &format!("arms.{arm}"),
                    missing,
                    "this visit has no content for the arm; give it \"active\" or \"placebo\"",
                ));
            }
        }
        let site = &self.site;
        if !(site.dose_tolerance > 0.0 && site.dose_tolerance < 1.0) {
            return Err(DoseError::invalid_protocol(
                "site.dose_tolerance",
                site.dose_tolerance,
                "must be a fraction above 0 and below 1 (0.10 means ±10%)",
            ));
        }
        if !(site.viability_floor > 0.0 && site.viability_floor <= 1.0) {
            return Err(DoseError::invalid_protocol(
                "site.viability_floor",
                site.viability_floor,
                "must be a fraction above 0 and at most 1 (0.70 means 70%)",
            ));
        }
        if self.diluent.volume == ExactVolume::ZERO {
            return Err(DoseError::invalid_protocol(
                "diluent.volume",
                "0 mL",
                "must be above 0 mL",
            ));
        }
        if site.draw_increment == ExactVolume::ZERO {
            return Err(DoseError::invalid_protocol(
                "site.draw_increment",
                "0 mL",
                "must be above 0 mL, e.g. \"0.1 mL\"",
            ));
        }
        if site.final_volume_mode == FinalVolumeMode::Additive && site.max_draw_volume.is_none() {
            return Err(DoseError::invalid_protocol(
                "site.max_draw_volume",
                "(unset)",
                "additive mode needs the largest draw the bag can take, e.g. \"20 mL\"",
            ));
        }
        if site.draw_increment > self.diluent.volume {
            return Err(DoseError::invalid_protocol(
                "site.draw_increment",
                site.draw_increment,
                &format!("must not exceed the diluent volume {}", self.diluent.volume),
            ));
        }
        if site.weight_range.min >= site.weight_range.max {
            return Err(DoseError::invalid_protocol(
                "site.weight_range",
                format!("{}-{}", site.weight_range.min, site.weight_range.max),
                "min must be below max",
            ));
        }
        if site.infusion_duration >= site.max_thaw_to_end_of_infusion {
            return Err(DoseError::invalid_protocol(
                "site.infusion_duration",
                units::format_duration(site.infusion_duration),
                &format!(
                    "must be shorter than site.max_thaw_to_end_of_infusion ({})",
                    units::format_duration(site.max_thaw_to_end_of_infusion)
                ),
            ));
        }
        if let DoseRule::PerKg {
            dosing_weight_cap: Some(cap),
            ..
        } = &self.dose
        {
            if *cap < site.weight_range.min {
                return Err(DoseError::invalid_protocol(
                    "dose.dosing_weight_cap",
                    cap,
                    "is below site.weight_range.min; every participant would be dosed at the cap",
                ));
            }
        }
        Ok(())
    }
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
        assert_eq!(Protocol::care_ssc().validate(), Ok(()));
    }

    #[test]
    fn care_ssc_holds_the_trial_facts() {
        let p = care_ssc();
        assert_eq!(p.name, "CARE-SSc");
        assert_eq!(p.registry_id.as_deref(), Some("NCT04356287"));
        assert_eq!(p.cells_per_kg().value(), 1e6);
        assert_eq!(p.diluent.name, "PlasmaLyte A");
        assert_eq!(p.diluent.volume, ExactVolume::from_microlitres(50_000));
        assert_eq!(p.route, "IV");
        assert_eq!(p.visits, ["month-0", "month-3"]);
        use Content::{Active, Placebo};
        let schedule = |arm: &str| {
            p.visits
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
        let s = care_ssc().site;
        assert_eq!(s.final_volume_mode, FinalVolumeMode::Qs);
        assert_eq!(s.draw_increment, ExactVolume::from_microlitres(100));
        assert_eq!(s.dose_tolerance, 0.10);
        assert_eq!(s.dose_basis, DoseBasis::Viable);
        assert_eq!(s.viability_floor, 0.70);
        assert_eq!(s.infusion_duration, SignedDuration::from_mins(30));
        assert_eq!(s.max_thaw_to_end_of_infusion, SignedDuration::from_hours(3));
        assert_eq!(s.dmso_limit, Some(1.0));
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
        let json = p.canonical_json().unwrap_or_default();
        assert_eq!(Protocol::from_json(&json).as_ref(), Ok(&p));
        let reflowed = format!("# a comment\n{}", CARE_SSC_TOML.replace(" = ", "="));
        let again = Protocol::from_toml(&reflowed);
        assert_eq!(again.and_then(|p| p.fingerprint()), p.fingerprint());
        let fingerprint = p.fingerprint().unwrap_or_default();
        assert_eq!(fingerprint.len(), 64);
    }

    #[test]
    fn semantic_errors_name_the_field() {
        let cases = [
            (
                "dose_tolerance = 0.10",
                "dose_tolerance = 1.5",
                "site.dose_tolerance",
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
}
