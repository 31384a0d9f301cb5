//! Dose rules: how a protocol turns a participant into a target number of
//! cells and an acceptable range. Per kg (with a range per kg, a cap on the
//! total and a cap on the dosing weight), flat (with a range), or weight
//! bands, each band a per-kg or flat rule. And the weight basis: the weight
//! of the visit, or the baseline weight unless the visit's differs by more
//! than a threshold.
//!
//! The file form ([`DoseSpec`]) is checked once into the typed rule
//! ([`DoseRule`]), whose words ("band up to 50 kg: per-kg rule, 2.5 million
//! cells/kg") are made then, so that preparing a bag formats nothing.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::format;
use crate::units::serde_units::{cells_per_kg_text, cells_text, weight_text};
use crate::units::{BodyWeight, CellCount, CellsPerKg, Tolerance};

/// Which rule a `[dose]` table or a band uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleName {
    /// Cells per kg of dosing weight.
    PerKg,
    /// A fixed number of cells.
    Flat,
    /// The first band whose `max_weight` holds the dosing weight.
    WeightBands,
}

impl RuleName {
    /// "per-kg", "flat" or "weight-bands", as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleName::PerKg => "per-kg",
            RuleName::Flat => "flat",
            RuleName::WeightBands => "weight-bands",
        }
    }
}

/// Which weight doses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightBasis {
    /// The weight measured for the visit (the order's weight).
    #[default]
    Visit,
    /// The baseline weight, unless the visit's weight differs from it by
    /// more than `weight_change_threshold` (exactly the threshold stays on
    /// baseline).
    BaselineUnlessChanged,
}

impl WeightBasis {
    /// "visit" or "baseline-unless-changed", as the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightBasis::Visit => "visit",
            WeightBasis::BaselineUnlessChanged => "baseline-unless-changed",
        }
    }

    fn is_visit(&self) -> bool {
        *self == WeightBasis::Visit
    }
}

/// The `[dose]` table as written. Which keys apply depends on `rule`; a key
/// that does not apply to the rule is refused, naming it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseSpec {
    /// `per-kg`, `flat` or `weight-bands`.
    pub rule: RuleName,
    /// Per kg: cells per kg of dosing weight.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub cells_per_kg: Option<CellsPerKg>,
    /// Per kg: the lowest acceptable dose per kg.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub min_cells_per_kg: Option<CellsPerKg>,
    /// Per kg: the highest acceptable dose per kg (a hard maximum).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub max_cells_per_kg: Option<CellsPerKg>,
    /// Flat: the number of cells.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub cells: Option<CellCount>,
    /// Flat: the lowest acceptable number of cells.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub min_cells: Option<CellCount>,
    /// Per kg or flat: the most cells one infusion may hold (a hard maximum
    /// and a cap on the target).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub max_cells: Option<CellCount>,
    /// Per kg: dose as if the participant weighed at most this.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "weight_text::option"
    )]
    pub dosing_weight_cap: Option<BodyWeight>,
    /// Weight bands, lightest first, the last without `max_weight`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bands: Option<Vec<BandSpec>>,
    /// `visit` (default) or `baseline-unless-changed`.
    #[serde(default, skip_serializing_if = "WeightBasis::is_visit")]
    pub weight_basis: WeightBasis,
    /// With `baseline-unless-changed`: the relative change (0.10 is 10%)
    /// beyond which the visit's weight doses instead of the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_change_threshold: Option<Tolerance>,
}

/// One weight band as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BandSpec {
    /// Up to and including this dosing weight; absent on the last band.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "weight_text::option"
    )]
    pub max_weight: Option<BodyWeight>,
    /// `per-kg` or `flat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleName>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub cells_per_kg: Option<CellsPerKg>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub min_cells_per_kg: Option<CellsPerKg>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_per_kg_text::option"
    )]
    pub max_cells_per_kg: Option<CellsPerKg>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub cells: Option<CellCount>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub min_cells: Option<CellCount>,
    /// As in `[dose]`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "cells_text::option"
    )]
    pub max_cells: Option<CellCount>,
}

impl DoseSpec {
    /// CARE-SSc's: 1 million cells per kg, nothing else.
    pub(crate) fn per_kg(cells_per_kg: CellsPerKg) -> DoseSpec {
        DoseSpec {
            rule: RuleName::PerKg,
            cells_per_kg: Some(cells_per_kg),
            min_cells_per_kg: None,
            max_cells_per_kg: None,
            cells: None,
            min_cells: None,
            max_cells: None,
            dosing_weight_cap: None,
            bands: None,
            weight_basis: WeightBasis::Visit,
            weight_change_threshold: None,
        }
    }
}

/// A per-kg rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PerKgRule {
    /// Cells per kg of dosing weight.
    pub cells_per_kg: CellsPerKg,
    /// The lowest acceptable dose per kg.
    pub min_cells_per_kg: Option<CellsPerKg>,
    /// The highest acceptable dose per kg.
    pub max_cells_per_kg: Option<CellsPerKg>,
    /// The most cells per infusion.
    pub max_cells: Option<CellCount>,
    /// The heaviest weight dosed.
    pub dosing_weight_cap: Option<BodyWeight>,
}

/// A flat rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatRule {
    /// The number of cells.
    pub cells: CellCount,
    /// The lowest acceptable number.
    pub min_cells: Option<CellCount>,
    /// The highest acceptable number.
    pub max_cells: Option<CellCount>,
}

/// The rule of one band, or of a whole protocol without bands.
#[derive(Debug, Clone, PartialEq)]
pub enum LeafRule {
    /// Per kg.
    PerKg(PerKgRule),
    /// Flat.
    Flat(FlatRule),
}

/// A band, checked: its rule and the words that say what set a target.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Its number, from 1 (lightest), as the file lists it.
    pub number: usize,
    /// Its rule.
    pub rule: LeafRule,
    words: Words,
}

/// A protocol's weight bands, checked: every band but the last holds the
/// dosing weights up to its `max_weight` (lightest first, each heavier than
/// the one before); the last takes every heavier weight, so every weight
/// has exactly one band.
#[derive(Debug, Clone, PartialEq)]
pub struct Bands {
    /// The bands with an upper weight, lightest first, with that weight.
    pub capped: Vec<(BodyWeight, Band)>,
    /// The band above the last upper weight.
    pub last: Band,
}

impl Bands {
    /// The band that holds `weight`: the first whose upper weight is at
    /// least it, else the last.
    pub fn band_of(&self, weight: BodyWeight) -> &Band {
        self.capped
            .iter()
            .find(|(max, _)| weight <= *max)
            .map_or(&self.last, |(_, band)| band)
    }
}

/// Which weight doses, checked: the threshold exists exactly where the
/// basis needs one, and is a fraction in (0, 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DosingWeightBasis {
    /// The weight measured for the visit.
    Visit,
    /// The baseline weight, unless the visit's differs from it by more
    /// than `threshold` (0.10 is 10%; exactly the threshold stays on
    /// baseline).
    BaselineUnlessChanged {
        /// The relative change beyond which the visit's weight doses.
        threshold: Tolerance,
    },
}

/// Which kind of rule set a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetRule {
    /// A per-kg rule (a dose per kg of dosing weight can be stated).
    PerKg,
    /// A flat rule (no dose per kg).
    Flat,
}

impl TargetRule {
    /// "per-kg" or "flat", as the record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetRule::PerKg => "per-kg",
            TargetRule::Flat => "flat",
        }
    }
}

/// The dose a rule orders, as the protocol states it (HL7's `ordered`
/// dose), before it is computed for a participant (`calculated`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderedDose {
    /// Cells per kg of dosing weight.
    PerKg(CellsPerKg),
    /// Cells per infusion.
    Flat(CellCount),
}

/// What was said about a target, made once per rule.
#[derive(Debug, Clone, PartialEq)]
struct Words {
    plain: Arc<str>,
    weight_capped: Arc<str>,
    cells_capped: Arc<str>,
}

/// A protocol's dose rule, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseRule {
    shape: Shape,
    basis: DosingWeightBasis,
}

/// One rule for every weight, with its words, or weight bands.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Leaf(LeafRule, Words),
    Bands(Bands),
}

/// What a rule asks of one participant: the target, the acceptable range
/// where the rule gives one, the hard maximum, and what set the target.
#[derive(Debug, Clone, PartialEq)]
pub struct DoseTarget {
    /// Cells to aim for.
    pub target: CellCount,
    /// The rule's lowest acceptable count, if it gives one.
    pub rule_min: Option<CellCount>,
    /// The rule's highest acceptable count, if it gives one: a hard maximum.
    pub rule_max: Option<CellCount>,
    /// The dosing weight after any cap.
    pub dosing_weight: BodyWeight,
    /// In words, what set the target.
    pub determined_by: Arc<str>,
    /// Which kind of rule set it (the band's, where the protocol has bands).
    pub rule: TargetRule,
}

impl DoseRule {
    /// Check a `[dose]` table. `weight_min` is the site's lightest plausible
    /// participant (a weight cap below it would dose everyone at the cap).
    pub fn from_spec(spec: &DoseSpec, weight_min: BodyWeight) -> Result<DoseRule> {
        let shape = match spec.rule {
            RuleName::WeightBands => {
                for (key, set) in [
                    ("cells_per_kg", spec.cells_per_kg.is_some()),
                    ("min_cells_per_kg", spec.min_cells_per_kg.is_some()),
                    ("max_cells_per_kg", spec.max_cells_per_kg.is_some()),
                    ("cells", spec.cells.is_some()),
                    ("min_cells", spec.min_cells.is_some()),
                    ("max_cells", spec.max_cells.is_some()),
                    ("dosing_weight_cap", spec.dosing_weight_cap.is_some()),
                ] {
                    if set {
                        return Err(not_for_rule(
                            &format!("dose.{key}"),
                            "weight-bands",
                            "put it in each band",
                        ));
                    }
                }
                Shape::Bands(bands(spec.bands.as_deref().unwrap_or(&[]))?) // fallback-ok: no [[dose.bands]] is no band, which bands() refuses
            }
            rule => {
                if spec.bands.is_some() {
                    return Err(not_for_rule(
                        "dose.bands",
                        rule.as_str(),
                        "use rule = \"weight-bands\" for bands",
                    ));
                }
                let leaf = leaf(
                    "dose",
                    rule,
                    LeafKeys {
                        cells_per_kg: spec.cells_per_kg,
                        min_cells_per_kg: spec.min_cells_per_kg,
                        max_cells_per_kg: spec.max_cells_per_kg,
                        cells: spec.cells,
                        min_cells: spec.min_cells,
                        max_cells: spec.max_cells,
                        dosing_weight_cap: spec.dosing_weight_cap,
                    },
                )?;
                if let LeafRule::PerKg(PerKgRule {
                    dosing_weight_cap: Some(cap),
                    ..
                }) = &leaf
                {
                    if *cap < weight_min {
                        return Err(DoseError::invalid_protocol(
                            "dose.dosing_weight_cap",
                            cap,
                            "is below site.weight_range.min; every participant would be dosed at the cap",
                        ));
                    }
                }
                let words = words("", &leaf);
                Shape::Leaf(leaf, words)
            }
        };
        let basis = match (spec.weight_basis, spec.weight_change_threshold) {
            (WeightBasis::Visit, Some(threshold)) => {
                return Err(DoseError::invalid_protocol(
                    "dose.weight_change_threshold",
                    threshold,
                    "applies only with weight_basis = \"baseline-unless-changed\"; remove it or set that basis",
                ))
            }
            (WeightBasis::BaselineUnlessChanged, None) => {
                return Err(DoseError::invalid_protocol(
                    "dose.weight_change_threshold",
                    "(unset)",
                    "weight_basis = \"baseline-unless-changed\" needs the change beyond which the visit's weight doses, e.g. 0.10 for 10%",
                ))
            }
            (WeightBasis::BaselineUnlessChanged, Some(threshold)) => {
                DosingWeightBasis::BaselineUnlessChanged { threshold }
            }
            (WeightBasis::Visit, None) => DosingWeightBasis::Visit,
        };
        Ok(DoseRule { shape, basis })
    }

    /// Which weight doses.
    pub fn weight_basis(&self) -> DosingWeightBasis {
        self.basis
    }

    /// The target for a dosing weight (after the weight basis).
    #[inline]
    pub fn target(&self, weight: BodyWeight) -> DoseTarget {
        match &self.shape {
            Shape::Leaf(rule, words) => leaf_target(rule, words, weight),
            Shape::Bands(bands) => {
                let band = bands.band_of(weight);
                leaf_target(&band.rule, &band.words, weight)
            }
        }
    }

    /// The dose the rule orders for a participant whose weight, after the
    /// weight basis, is `weight`: the band's rule, per kg or flat. A cap
    /// (on the weight or the cells) changes the target computed from it,
    /// not the dose ordered.
    pub fn ordered(&self, weight: BodyWeight) -> OrderedDose {
        let rule = match &self.shape {
            Shape::Leaf(rule, _) => rule,
            Shape::Bands(bands) => &bands.band_of(weight).rule,
        };
        match rule {
            LeafRule::PerKg(rule) => OrderedDose::PerKg(rule.cells_per_kg),
            LeafRule::Flat(rule) => OrderedDose::Flat(rule.cells),
        }
    }

    /// The weight bands, for a rule with bands.
    pub fn bands(&self) -> Option<&Bands> {
        match &self.shape {
            Shape::Bands(bands) => Some(bands),
            Shape::Leaf(..) => None,
        }
    }

    /// The one rule of a protocol without bands.
    pub fn leaf(&self) -> Option<&LeafRule> {
        match &self.shape {
            Shape::Leaf(rule, _) => Some(rule),
            Shape::Bands(_) => None,
        }
    }

    /// The CARE-SSc rule, built without a check (a test checks it).
    pub(crate) fn care_ssc(cells_per_kg: CellsPerKg) -> DoseRule {
        let leaf = LeafRule::PerKg(PerKgRule {
            cells_per_kg,
            min_cells_per_kg: None,
            max_cells_per_kg: None,
            max_cells: None,
            dosing_weight_cap: None,
        });
        let words = words("", &leaf);
        DoseRule {
            shape: Shape::Leaf(leaf, words),
            basis: DosingWeightBasis::Visit,
        }
    }
}

#[inline]
fn leaf_target(rule: &LeafRule, words: &Words, weight: BodyWeight) -> DoseTarget {
    match rule {
        LeafRule::PerKg(rule) => {
            let (dosing_weight, weight_capped) = match rule.dosing_weight_cap {
                Some(cap) if weight > cap => (cap, true),
                _ => (weight, false),
            };
            let raw = rule.cells_per_kg * dosing_weight;
            let (target, cells_capped) = match rule.max_cells {
                Some(max) if raw > max => (max, true),
                _ => (raw, false),
            };
            let per_kg_max = rule.max_cells_per_kg.map(|max| max * dosing_weight);
            let rule_max = match (per_kg_max, rule.max_cells) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // Where the cap on cells is below the per-kg minimum of a heavy
            // participant, the cap wins: the minimum is lowered to it.
            let rule_min = rule
                .min_cells_per_kg
                .map(|min| (min * dosing_weight).min(target));
            let determined_by = if cells_capped {
                &words.cells_capped
            } else if weight_capped {
                &words.weight_capped
            } else {
                &words.plain
            };
            DoseTarget {
                target,
                rule_min,
                rule_max,
                dosing_weight,
                determined_by: Arc::clone(determined_by),
                rule: TargetRule::PerKg,
            }
        }
        LeafRule::Flat(rule) => DoseTarget {
            target: rule.cells,
            rule_min: rule.min_cells,
            rule_max: rule.max_cells,
            dosing_weight: weight,
            determined_by: Arc::clone(&words.plain),
            rule: TargetRule::Flat,
        },
    }
}

/// The keys a leaf rule may hold, whichever rule it is.
struct LeafKeys {
    cells_per_kg: Option<CellsPerKg>,
    min_cells_per_kg: Option<CellsPerKg>,
    max_cells_per_kg: Option<CellsPerKg>,
    cells: Option<CellCount>,
    min_cells: Option<CellCount>,
    max_cells: Option<CellCount>,
    dosing_weight_cap: Option<BodyWeight>,
}

fn not_for_rule(key: &str, rule: &str, fix: &str) -> DoseError {
    DoseError::invalid_protocol(
        key,
        "(set)",
        &format!("is not a key of rule \"{rule}\"; {fix}"),
    )
}

fn leaf(path: &str, rule: RuleName, keys: LeafKeys) -> Result<LeafRule> {
    let key = |name: &str| format!("{path}.{name}");
    match rule {
        RuleName::PerKg => {
            for (name, set) in [
                ("cells", keys.cells.is_some()),
                ("min_cells", keys.min_cells.is_some()),
            ] {
                if set {
                    return Err(not_for_rule(
                        &key(name),
                        "per-kg",
                        "give per-kg amounts (min_cells_per_kg), or use rule = \"flat\"",
                    ));
                }
            }
            let cells_per_kg = keys.cells_per_kg.ok_or_else(|| {
                DoseError::invalid_protocol(
                    &key("cells_per_kg"),
                    "(unset)",
                    "rule \"per-kg\" needs cells_per_kg, e.g. \"1 million cells/kg\"",
                )
            })?;
            if let Some(min) = keys.min_cells_per_kg {
                if min > cells_per_kg {
                    return Err(DoseError::invalid_protocol(
                        &key("min_cells_per_kg"),
                        min,
                        &format!("is above the target cells_per_kg ({cells_per_kg}); the minimum must be at most the target"),
                    ));
                }
            }
            if let Some(max) = keys.max_cells_per_kg {
                if max < cells_per_kg {
                    return Err(DoseError::invalid_protocol(
                        &key("max_cells_per_kg"),
                        max,
                        &format!("is below the target cells_per_kg ({cells_per_kg}); the maximum must be at least the target"),
                    ));
                }
            }
            Ok(LeafRule::PerKg(PerKgRule {
                cells_per_kg,
                min_cells_per_kg: keys.min_cells_per_kg,
                max_cells_per_kg: keys.max_cells_per_kg,
                max_cells: keys.max_cells,
                dosing_weight_cap: keys.dosing_weight_cap,
            }))
        }
        RuleName::Flat => {
            for (name, set) in [
                ("cells_per_kg", keys.cells_per_kg.is_some()),
                ("min_cells_per_kg", keys.min_cells_per_kg.is_some()),
                ("max_cells_per_kg", keys.max_cells_per_kg.is_some()),
                ("dosing_weight_cap", keys.dosing_weight_cap.is_some()),
            ] {
                if set {
                    return Err(not_for_rule(&key(name), "flat", "a flat dose does not depend on weight; use rule = \"per-kg\" for a dose per kg"));
                }
            }
            let cells = keys.cells.ok_or_else(|| {
                DoseError::invalid_protocol(
                    &key("cells"),
                    "(unset)",
                    "rule \"flat\" needs cells, e.g. \"100 million cells\"",
                )
            })?;
            if let (Some(min), Some(max)) = (keys.min_cells, keys.max_cells) {
                if max < min {
                    return Err(DoseError::invalid_protocol(
                        &key("max_cells"),
                        max,
                        &format!(
                            "is below min_cells ({min}); the maximum must be at least the minimum"
                        ),
                    ));
                }
            }
            if let Some(min) = keys.min_cells {
                if min > cells {
                    return Err(DoseError::invalid_protocol(
                        &key("min_cells"),
                        min,
                        &format!("is above the target cells ({cells}); the minimum must be at most the target"),
                    ));
                }
            }
            if let Some(max) = keys.max_cells {
                if max < cells {
                    return Err(DoseError::invalid_protocol(
                        &key("max_cells"),
                        max,
                        &format!("is below the target cells ({cells}); the maximum must be at least the target"),
                    ));
                }
            }
            Ok(LeafRule::Flat(FlatRule {
                cells,
                min_cells: keys.min_cells,
                max_cells: keys.max_cells,
            }))
        }
        RuleName::WeightBands => Err(DoseError::invalid_protocol(
            &key("rule"),
            "\"weight-bands\"",
            "a band cannot hold weight bands; give it rule = \"per-kg\" or \"flat\"",
        )),
    }
}

fn bands(specs: &[BandSpec]) -> Result<Bands> {
    if specs.is_empty() {
        return Err(DoseError::invalid_protocol(
            "dose.bands",
            "[]",
            "rule \"weight-bands\" needs [[dose.bands]], lightest first, the last without max_weight",
        ));
    }
    let count = specs.len();
    let mut previous: Option<BodyWeight> = None;
    let mut capped = Vec::with_capacity(count);
    let mut last = None;
    for (index, spec) in specs.iter().enumerate() {
        let path = format!("dose.bands[{}]", index + 1);
        let is_last = index + 1 == count;
        match (spec.max_weight, is_last) {
            (Some(max), true) => {
                return Err(DoseError::invalid_protocol(
                    &format!("{path}.max_weight"),
                    max,
                    "the last band takes every heavier participant: remove its max_weight (or add a band after it)",
                ));
            }
            (None, false) => {
                return Err(DoseError::invalid_protocol(
                    &format!("{path}.max_weight"),
                    "(unset)",
                    "only the last band may leave out max_weight; give this band its upper weight",
                ));
            }
            (Some(max), false) => {
                if let Some(before) = previous {
                    if max <= before {
                        return Err(DoseError::invalid_protocol(
                            &format!("{path}.max_weight"),
                            max,
                            &format!("is not above the band before it ({before}); list bands lightest first, each heavier than the last"),
                        ));
                    }
                }
            }
            (None, true) => {}
        }
        let rule = spec.rule.ok_or_else(|| {
            DoseError::invalid_protocol(
                &format!("{path}.rule"),
                "(unset)",
                "give the band rule = \"per-kg\" or \"flat\"",
            )
        })?;
        let leaf = leaf(
            &path,
            rule,
            LeafKeys {
                cells_per_kg: spec.cells_per_kg,
                min_cells_per_kg: spec.min_cells_per_kg,
                max_cells_per_kg: spec.max_cells_per_kg,
                cells: spec.cells,
                min_cells: spec.min_cells,
                max_cells: spec.max_cells,
                dosing_weight_cap: None,
            },
        )?;
        let prefix = match (spec.max_weight, previous) {
            (Some(max), _) => format!("band {} (up to {}): ", index + 1, format::kilograms(max)),
            (None, Some(before)) => {
                format!("band {} (above {}): ", index + 1, format::kilograms(before))
            }
            (None, None) => format!("band {}: ", index + 1),
        };
        let band = Band {
            number: index + 1,
            words: words(&prefix, &leaf),
            rule: leaf,
        };
        match spec.max_weight {
            Some(max) => capped.push((max, band)),
            None => last = Some(band),
        }
        previous = spec.max_weight;
    }
    // The loop refused a last band with max_weight and an earlier one
    // without, and the list is not empty: the last band is there.
    let last = last.ok_or_else(|| {
        DoseError::invalid_protocol(
            "dose.bands",
            "(no last band)",
            "the last band takes every heavier participant: leave out its max_weight",
        )
    })?;
    Ok(Bands { capped, last })
}

fn words(prefix: &str, rule: &LeafRule) -> Words {
    match rule {
        LeafRule::PerKg(rule) => {
            let base = format!(
                "{prefix}per-kg rule, {} × dosing weight",
                format::cells_per_kg(rule.cells_per_kg)
            );
            let weight_capped = match rule.dosing_weight_cap {
                Some(cap) => format!("{base}, weight capped at {}", format::kilograms(cap)),
                None => base.clone(),
            };
            let cells_capped = match rule.max_cells {
                Some(max) => format!(
                    "{prefix}cap on cells, {} (the per-kg rule gives more)",
                    format::cells_short(max)
                ),
                None => base.clone(),
            };
            Words {
                plain: Arc::from(base),
                weight_capped: Arc::from(weight_capped),
                cells_capped: Arc::from(cells_capped),
            }
        }
        LeafRule::Flat(rule) => {
            let text: Arc<str> = Arc::from(format!(
                "{prefix}flat rule, {}",
                format::cells_short(rule.cells)
            ));
            Words {
                plain: Arc::clone(&text),
                weight_capped: Arc::clone(&text),
                cells_capped: text,
            }
        }
    }
}

/// Which weight doses, from the visit's weight and the baseline's.
#[inline]
pub fn dosing_basis(
    rule: &DoseRule,
    visit: BodyWeight,
    baseline: Option<BodyWeight>,
) -> Result<(BodyWeight, WeightUsed)> {
    match rule.basis {
        DosingWeightBasis::Visit => Ok((visit, WeightUsed::Visit)),
        DosingWeightBasis::BaselineUnlessChanged { threshold } => {
            let baseline = baseline.ok_or_else(|| {
                DoseError::invalid_input(
                    "baseline_weight",
                    "the protocol doses on the baseline weight unless the visit's weight differs by more than its threshold; give baseline_weight with its unit, e.g. '72.4 kg'",
                )
            })?;
            if visit.relative_change_from(baseline) > threshold.value() {
                Ok((visit, WeightUsed::VisitChanged))
            } else {
                Ok((baseline, WeightUsed::Baseline))
            }
        }
    }
}

/// Which weight a bag was dosed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WeightUsed {
    /// The visit's weight (the protocol doses on it).
    Visit,
    /// The baseline weight (within the threshold).
    Baseline,
    /// The visit's weight, because it differs from baseline by more than the threshold.
    VisitChanged,
}

impl WeightUsed {
    /// "visit", "baseline" or "visit-changed", as the record writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightUsed::Visit => "visit",
            WeightUsed::Baseline => "baseline",
            WeightUsed::VisitChanged => "visit-changed",
        }
    }

    /// In words, for the worksheet.
    pub fn describe(self) -> &'static str {
        match self {
            WeightUsed::Visit => "the visit's weight",
            WeightUsed::Baseline => "the baseline weight (the visit's is within the threshold)",
            WeightUsed::VisitChanged => {
                "the visit's weight (it differs from baseline by more than the threshold)"
            }
        }
    }
}
