//! A lot of the cell product, as thawed.

use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::units::{CellConcentration, ExactVolume};

/// One thawed lot: its measured post-thaw figures and what is on hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, try_from = "LotFields")]
pub struct Lot {
    lot_id: String,
    viable_cells_per_ml: CellConcentration,
    viability: f64,
    container_volume: ExactVolume,
    containers: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dmso_fraction: Option<f64>,
}

/// The unchecked shape of a [`Lot`] in a file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LotFields {
    lot_id: String,
    viable_cells_per_ml: CellConcentration,
    viability: f64,
    container_volume: ExactVolume,
    containers: u32,
    #[serde(default)]
    dmso_fraction: Option<f64>,
}

impl TryFrom<LotFields> for Lot {
    type Error = DoseError;
    fn try_from(f: LotFields) -> Result<Lot> {
        Lot::new(
            &f.lot_id,
            f.viable_cells_per_ml,
            f.viability,
            f.container_volume,
            f.containers,
            f.dmso_fraction,
        )
    }
}

impl Lot {
    /// A lot. `viability` is the fraction of live cells in (0, 1];
    /// `dmso_fraction`, if known, is the DMSO volume fraction of the thawed
    /// suspension in [0, 1).
    pub fn new(
        lot_id: &str,
        viable_cells_per_ml: CellConcentration,
        viability: f64,
        container_volume: ExactVolume,
        containers: u32,
        dmso_fraction: Option<f64>,
    ) -> Result<Lot> {
        let lot_id = lot_id.trim();
        if lot_id.is_empty() {
            return Err(DoseError::InvalidInput {
                field: "lot_id".to_owned(),
                reason: "lot_id is empty; copy it from the container label".to_owned(),
            });
        }
        if !(viability > 0.0 && viability <= 1.0) {
            let fix = if viability > 1.0 && viability <= 100.0 {
                format!(
                    "it looks like a percentage: pass {} for {viability}%",
                    viability / 100.0
                )
            } else {
                "pass the fraction of viable cells, e.g. 0.93 for 93%".to_owned()
            };
            return Err(DoseError::ViabilityOutOfRange {
                value: viability,
                fix,
            });
        }
        if container_volume == ExactVolume::ZERO {
            return Err(DoseError::invalid_quantity(
                "container_volume",
                0.0,
                "mL",
                "above 0 mL; copy the fill volume from the container label",
            ));
        }
        if containers == 0 {
            return Err(DoseError::InvalidInput {
                field: "containers".to_owned(),
                reason: "0 containers on hand; count the containers of this lot in the freezer"
                    .to_owned(),
            });
        }
        if let Some(fraction) = dmso_fraction {
            if !(0.0..1.0).contains(&fraction) {
                return Err(DoseError::invalid_quantity(
                    "dmso_fraction",
                    fraction,
                    "(volume fraction)",
                    "a fraction from 0 up to but not including 1, e.g. 0.05 for 5% DMSO",
                ));
            }
        }
        Ok(Lot {
            lot_id: lot_id.to_owned(),
            viable_cells_per_ml,
            viability,
            container_volume,
            containers,
            dmso_fraction,
        })
    }

    /// Read a lot from TOML, e.g. `lot_id = "UC-0042"`,
    /// `viable_cells_per_ml = "12.5 million cells/mL"`, `viability = 0.93`,
    /// `container_volume = "10 mL"`, `containers = 4`, optional `dmso_fraction`.
    pub fn from_toml(text: &str) -> Result<Lot> {
        toml::from_str(text).map_err(|e| DoseError::InvalidInput {
            field: "lot file".to_owned(),
            reason: e.to_string().trim_end().to_owned(),
        })
    }

    /// Lot id.
    pub fn lot_id(&self) -> &str {
        &self.lot_id
    }
    /// Viable cells per mL after thaw.
    pub fn viable_cells_per_ml(&self) -> CellConcentration {
        self.viable_cells_per_ml
    }
    /// Fraction of live cells.
    pub fn viability(&self) -> f64 {
        self.viability
    }
    /// Volume of one container.
    pub fn container_volume(&self) -> ExactVolume {
        self.container_volume
    }
    /// Containers on hand.
    pub fn containers(&self) -> u32 {
        self.containers
    }
    /// DMSO volume fraction, if known.
    pub fn dmso_fraction(&self) -> Option<f64> {
        self.dmso_fraction
    }
}
