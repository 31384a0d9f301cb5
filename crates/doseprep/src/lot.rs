//! A lot of the cell product, as thawed, and the lot files pharmacists write.

use jiff::ZonedDateTime;
use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::order::non_empty;
use crate::protocol::FileFormat;
use crate::time::{format_time, parse_time};
use crate::units::{CellConcentration, ContainerYield, DmsoFraction, ExactVolume, Viability};
use crate::Text;

/// The inputs of a [`Lot`], unchecked: plain numbers where the caller has
/// them (the checks, with their messages, are in [`Lot::new`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LotSpec {
    /// The id on the container label.
    pub lot_id: String,
    /// Viable cells per mL after thaw.
    pub viable_cells_per_ml: CellConcentration,
    /// Fraction of live cells, in (0, 1] (0.93 for 93%).
    pub viability: f64,
    /// Fill volume of one container.
    pub container_volume: ExactVolume,
    /// What one container yields at the bench, at most its fill volume.
    pub extractable_volume: Option<ExactVolume>,
    /// Containers on hand.
    pub containers: u32,
    /// DMSO volume fraction of the thawed suspension, in [0, 1).
    pub dmso_fraction: Option<f64>,
    /// When the lot expires, if the label says.
    pub expires_at: Option<ZonedDateTime>,
}

/// One lot: its measured post-thaw figures and what is on hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "LotFile", try_from = "LotFile")]
pub struct Lot {
    lot_id: Text,
    viable_cells_per_ml: CellConcentration,
    viability: Viability,
    container_volume: ExactVolume,
    extractable_volume: Option<ExactVolume>,
    /// The extractable volume, else the fill: checked above 0 mL.
    per_container: ContainerYield,
    containers: u32,
    dmso_fraction: Option<DmsoFraction>,
    expires_at: Option<ZonedDateTime>,
    /// The numbers of the containers on hand, lowest first, where they are
    /// not 1 to `containers` (a ledger's stock after earlier days).
    container_numbers: Option<std::sync::Arc<[u32]>>,
}

/// A lot as written in a lot file or a record: quantities as text with
/// their units, read through the same checks as [`Lot::new`], so a bad value
/// keeps its error kind (`viability = 93` is a viability error).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotFile {
    lot_id: String,
    viable_cells_per_ml: String,
    viability: FractionCell,
    container_volume: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extractable_volume: Option<String>,
    containers: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dmso_fraction: Option<FractionCell>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    container_numbers: Option<Vec<u32>>,
}

impl LotFile {
    /// A lot as a sheet's row gives it: text as typed, a fraction or a
    /// count as the number it reads as.
    fn from_row(row: &crate::table::Row) -> Result<LotFile> {
        let fraction = |text: &str| {
            text.parse::<f64>().map_or_else(
                |_| FractionCell::Text(text.to_owned()),
                FractionCell::Number,
            )
        };
        let count = row.required("containers")?;
        let containers = count.parse::<i64>().map_err(|_| {
            DoseError::invalid_input(
                "containers",
                format!(
                    "row {}: containers {count:?} is not a whole number; count the containers",
                    row.line
                ),
            )
        })?;
        Ok(LotFile {
            lot_id: row.required("lot_id")?.to_owned(),
            viable_cells_per_ml: row.required("viable_cells_per_ml")?.to_owned(),
            viability: fraction(row.required("viability")?),
            container_volume: row.required("container_volume")?.to_owned(),
            extractable_volume: row.optional("extractable_volume").map(str::to_owned),
            containers,
            dmso_fraction: row.optional("dmso_fraction").map(fraction),
            expires_at: row.optional("expires_at").map(str::to_owned),
            container_numbers: None,
        })
    }
}

/// A fraction as a file gives it: a number, or text such as "93%", which
/// is refused with the fraction to write instead (never five lines of
/// parser text about a float).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
enum FractionCell {
    Number(f64),
    Text(String),
}

impl FractionCell {
    /// The number; text is refused (see [`fraction_text_error`]).
    fn value(self, field: &str, example: &str) -> Result<f64> {
        match self {
            FractionCell::Number(value) => Ok(value),
            FractionCell::Text(text) => Err(fraction_text_error(field, &text, example)),
        }
    }
}

/// The error for a fraction given as text ("93%", "high") in a file or an
/// API: the fraction to write instead, as a viability error for
/// `viability` (its kind whatever the form) and an invalid input otherwise.
pub fn fraction_text_error(field: &str, text: &str, example: &str) -> DoseError {
    let percent = text
        .trim()
        .strip_suffix('%')
        .and_then(|number| number.trim().parse::<f64>().ok())
        .filter(|number| number.is_finite());
    let fix = match percent {
        Some(number) => format!(
            "{text:?} is a percentage: give the fraction as a number (no quotes, no %), {field} = {} for {number}%",
            number / 100.0
        ),
        None => format!("{text:?} is text: give a number (no quotes), e.g. {field} = {example}"),
    };
    match (field, percent) {
        ("viability", Some(number)) => DoseError::ViabilityOutOfRange { value: number, fix },
        _ => DoseError::invalid_input(field, fix),
    }
}

impl From<Lot> for LotFile {
    fn from(lot: Lot) -> LotFile {
        LotFile {
            lot_id: lot.lot_id.to_string(),
            viable_cells_per_ml: lot.viable_cells_per_ml.to_string(),
            viability: FractionCell::Number(lot.viability.value()),
            container_volume: lot.container_volume.to_string(),
            extractable_volume: lot.extractable_volume.map(|v| v.to_string()),
            containers: i64::from(lot.containers),
            dmso_fraction: lot.dmso_fraction.map(|f| FractionCell::Number(f.value())),
            expires_at: lot.expires_at.as_ref().map(format_time),
            container_numbers: lot.container_numbers.as_deref().map(<[u32]>::to_vec),
        }
    }
}

impl TryFrom<LotFile> for Lot {
    type Error = DoseError;
    fn try_from(f: LotFile) -> Result<Lot> {
        let numbers = f.container_numbers;
        let lot = Lot::new(LotSpec {
            viable_cells_per_ml: CellConcentration::parse(
                "viable_cells_per_ml",
                &f.viable_cells_per_ml,
            )?,
            container_volume: ExactVolume::parse("container_volume", &f.container_volume)?,
            extractable_volume: f
                .extractable_volume
                .map(|t| ExactVolume::parse("extractable_volume", &t))
                .transpose()?,
            containers: Lot::container_count_from_int(i128::from(f.containers))?,
            dmso_fraction: f
                .dmso_fraction
                .map(|cell| cell.value("dmso_fraction", "0.05"))
                .transpose()?,
            expires_at: f
                .expires_at
                .map(|t| parse_time("expires_at", &t))
                .transpose()?,
            viability: f.viability.value("viability", "0.93")?,
            lot_id: f.lot_id,
        })?;
        match numbers {
            Some(numbers) => {
                if u32::try_from(numbers.len()).ok() != Some(lot.containers) {
                    return Err(DoseError::invalid_input(
                        "container_numbers",
                        format!(
                            "{} container numbers for {} containers; give one number for each container on hand",
                            numbers.len(),
                            lot.containers
                        ),
                    ));
                }
                lot.with_container_numbers(numbers)
            }
            None => Ok(lot),
        }
    }
}

fn bad_count(shown: &str) -> DoseError {
    DoseError::invalid_input(
        "containers",
        format!(
            "{shown} containers is not a whole count from 1 to {}; count the containers of this lot on hand",
            u32::MAX
        ),
    )
}

/// A file of several lots: `[[lot]]` tables.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LotsFile {
    lot: Vec<LotFile>,
}

impl Lot {
    /// A lot, checked: a non-empty id, viability in (0, 1] (with a hint when
    /// it looks like a percentage), containers above 0, an extractable volume
    /// at most the fill, a DMSO fraction in [0, 1).
    pub fn new(spec: LotSpec) -> Result<Lot> {
        let lot_id = if spec.lot_id.trim().is_empty() {
            return Err(DoseError::invalid_input(
                "lot_id",
                "lot_id is empty; copy it from the container label",
            ));
        } else {
            non_empty("lot_id", &spec.lot_id)?
        };
        let viability = Viability::new(spec.viability)?;
        let Some(fill) = ContainerYield::new(spec.container_volume) else {
            return Err(DoseError::invalid_quantity(
                "container_volume",
                0.0,
                "mL",
                "above 0 mL; copy the fill volume from the container label",
            ));
        };
        let per_container = match spec.extractable_volume {
            None => fill,
            Some(extractable) => ContainerYield::new(extractable)
                .filter(|_| extractable <= spec.container_volume)
                .ok_or_else(|| {
                    DoseError::invalid_quantity(
                    "extractable_volume",
                    extractable.ml(),
                    "mL",
                    &format!(
                        "above 0 mL and at most the fill volume {} (a container cannot yield more than it holds)",
                        spec.container_volume
                    ),
                )
                })?,
        };
        if spec.containers == 0 {
            return Err(bad_count("0"));
        }
        let dmso_fraction = spec.dmso_fraction.map(DmsoFraction::new).transpose()?;
        Ok(Lot {
            lot_id,
            viable_cells_per_ml: spec.viable_cells_per_ml,
            viability,
            container_volume: spec.container_volume,
            extractable_volume: spec.extractable_volume,
            per_container,
            containers: spec.containers,
            dmso_fraction,
            expires_at: spec.expires_at,
            container_numbers: None,
        })
    }

    /// The same lot with the containers on hand numbered as given (their
    /// numbers in the lot as received, e.g. from a ledger's stock), so that
    /// a day's plan names the containers by the numbers on them. The
    /// numbers must be distinct and at least 1; their count becomes the
    /// lot's count on hand.
    pub fn with_container_numbers(mut self, numbers: Vec<u32>) -> Result<Lot> {
        let mut numbers = numbers;
        numbers.sort_unstable();
        let count = u32::try_from(numbers.len()).map_err(|_| {
            DoseError::invalid_input(
                "container_numbers",
                format!(
                    "{} containers of lot {} are more than a lot can hold (4294967295); give the containers on hand",
                    numbers.len(),
                    self.lot_id
                ),
            )
        })?;
        if numbers.is_empty() {
            return Err(DoseError::invalid_input(
                "container_numbers",
                format!(
                    "lot {} has no container on hand; receive more before planning with it",
                    self.lot_id
                ),
            ));
        }
        if numbers.first() == Some(&0) || numbers.windows(2).any(|w| w.first() == w.get(1)) {
            return Err(DoseError::invalid_input(
                "container_numbers",
                format!(
                    "{numbers:?} are not distinct container numbers from 1; give each container's number once"
                ),
            ));
        }
        self.containers = count;
        self.container_numbers = Some(numbers.into());
        Ok(self)
    }

    /// The number on the `k`-th container on hand (from 1): `k` itself,
    /// unless the lot was given its containers' numbers.
    #[expect(
        clippy::expect_used,
        reason = "a plan counts containers from 1 to the count on hand, which is the count of the numbers given"
    )]
    pub(crate) fn container_number(&self, k: u32) -> u32 {
        match &self.container_numbers {
            Some(numbers) => usize::try_from(k)
                .ok()
                .and_then(|k| k.checked_sub(1))
                .and_then(|index| numbers.get(index))
                .copied()
                .expect("the k-th container on hand has a number"), // allow-panic: see the reason above
            None => k,
        }
    }

    /// Whether a container of this number is on hand.
    pub fn holds_container(&self, number: u32) -> bool {
        match &self.container_numbers {
            Some(numbers) => numbers.binary_search(&number).is_ok(),
            None => (1..=self.containers).contains(&number),
        }
    }

    /// The numbers of the containers on hand, where they were given.
    pub fn container_numbers(&self) -> Option<&[u32]> {
        self.container_numbers.as_deref()
    }

    /// A count of containers from a number as a user may give it: a whole
    /// number from 1 to 4,294,967,295 (4.0 is 4); NaN, infinities, fractions,
    /// zero and negatives are refused with a message that shows the number.
    pub fn container_count(number: f64) -> Result<u32> {
        if number.fract() == 0.0 && number >= 1.0 && number <= f64::from(u32::MAX) {
            // A whole number in range converts exactly.
            Ok(number as u32)
        } else {
            Err(bad_count(&format!("{number:?}")))
        }
    }

    /// A count of containers from an integer of any size.
    pub fn container_count_from_int(number: i128) -> Result<u32> {
        u32::try_from(number)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad_count(&number.to_string()))
    }

    /// Read one lot from TOML, e.g. `lot_id = "UC-0042"`,
    /// `viable_cells_per_ml = "12.5 million cells/mL"`, `viability = 0.93`,
    /// `container_volume = "10 mL"`, `containers = 4`, and optionally
    /// `extractable_volume`, `dmso_fraction`, `expires_at`.
    pub fn from_toml(text: &str) -> Result<Lot> {
        let file: LotFile = toml::from_str(text)
            .map_err(|e| malformed("TOML", &crate::toml_error::one_line(text, &e)))?;
        Lot::try_from(file)
    }

    /// Read one lot from JSON (the same keys).
    pub fn from_json(text: &str) -> Result<Lot> {
        let file: LotFile =
            serde_json::from_str(text).map_err(|e| malformed("JSON", &e.to_string()))?;
        Lot::try_from(file)
    }

    /// Read a record's lot, keeping each error's kind.
    pub fn from_json_value(value: serde_json::Value) -> Result<Lot> {
        let file: LotFile =
            serde_json::from_value(value).map_err(|e| DoseError::InvalidRecord {
                reason: format!("the lot cannot be read: {e}"),
            })?;
        Lot::try_from(file)
    }

    /// Read a lot file's text in the format its name says (JSON for `.json`).
    pub fn from_file_text(file_name: &str, text: &str) -> Result<Lot> {
        match FileFormat::of(file_name) {
            FileFormat::Json => Lot::from_json(text),
            FileFormat::Toml => Lot::from_toml(text),
        }
    }

    /// Read the lots of a day: `[[lot]]` tables in TOML, a list in JSON, or
    /// a file of one lot. Ids must be unique.
    pub fn many_from_file_text(file_name: &str, text: &str) -> Result<Vec<Lot>> {
        let files: Vec<LotFile> = match FileFormat::of(file_name) {
            FileFormat::Json => {
                match serde_json::from_str::<Vec<LotFile>>(text) {
                    Ok(files) => files,
                    Err(_) => vec![serde_json::from_str(text)
                        .map_err(|e| malformed("JSON", &e.to_string()))?],
                }
            }
            FileFormat::Toml => match toml::from_str::<LotsFile>(text) {
                Ok(file) => file.lot,
                Err(many) => match toml::from_str::<LotFile>(text) {
                    Ok(one) => vec![one],
                    Err(_) => {
                        return Err(malformed("TOML", &crate::toml_error::one_line(text, &many)))
                    }
                },
            },
        };
        Lot::from_files(files)
    }

    /// Read the lots of a day from a spreadsheet's sheet, a row a lot, the
    /// columns the keys of a lot file (`lot_id`, `viable_cells_per_ml`,
    /// `viability`, `container_volume`, `containers`, and optionally
    /// `extractable_volume`, `dmso_fraction`, `expires_at`). A quantity
    /// carries its unit as in the file (`10 mL`); a date-and-time cell is
    /// refused (type the expiry as text with its UTC offset). Ids must be
    /// unique.
    pub fn many_from_sheet(sheet: &crate::table::Sheet) -> Result<Vec<Lot>> {
        let rows = crate::table::read_sheet(
            "lots file",
            sheet,
            &[
                "lot_id",
                "viable_cells_per_ml",
                "viability",
                "container_volume",
                "containers",
            ],
            &["extractable_volume", "dmso_fraction", "expires_at"],
            crate::table::DateCells::Refused,
        )?;
        let files = rows
            .iter()
            .map(LotFile::from_row)
            .collect::<Result<Vec<_>>>()?;
        Lot::from_files(files)
    }

    /// Lots from their files' fields: each checked, none twice, at least one.
    fn from_files(files: Vec<LotFile>) -> Result<Vec<Lot>> {
        let lots = files
            .into_iter()
            .map(Lot::try_from)
            .collect::<Result<Vec<_>>>()?;
        for (index, lot) in lots.iter().enumerate() {
            if lots
                .iter()
                .skip(index + 1)
                .any(|other| other.lot_id == lot.lot_id)
            {
                return Err(DoseError::invalid_input(
                    "lot_id",
                    format!(
                        "lot {} is listed twice; list each lot once with all its containers",
                        lot.lot_id
                    ),
                ));
            }
        }
        if lots.is_empty() {
            return Err(DoseError::invalid_input(
                "lots",
                "the file lists no lot; add [[lot]] tables",
            ));
        }
        Ok(lots)
    }

    /// Lot id.
    pub fn lot_id(&self) -> &str {
        &self.lot_id
    }
    pub(crate) fn lot_id_shared(&self) -> &Text {
        &self.lot_id
    }
    /// Viable cells per mL after thaw.
    pub fn viable_cells_per_ml(&self) -> CellConcentration {
        self.viable_cells_per_ml
    }
    /// Fraction of live cells.
    pub fn viability(&self) -> Viability {
        self.viability
    }
    /// Fill volume of one container.
    pub fn container_volume(&self) -> ExactVolume {
        self.container_volume
    }
    /// What one container yields, as the lot gives it.
    pub fn extractable_volume(&self) -> Option<ExactVolume> {
        self.extractable_volume
    }
    /// What one container yields: the extractable volume, else the fill
    /// (every container assumed to empty fully).
    pub fn yield_per_container(&self) -> ContainerYield {
        self.per_container
    }
    /// Containers on hand.
    pub fn containers(&self) -> u32 {
        self.containers
    }
    /// DMSO volume fraction, if known.
    pub fn dmso_fraction(&self) -> Option<DmsoFraction> {
        self.dmso_fraction
    }
    /// Expiry, if known.
    pub fn expires_at(&self) -> Option<&ZonedDateTime> {
        self.expires_at.as_ref()
    }
}

fn malformed(format: &str, detail: &str) -> DoseError {
    DoseError::invalid_input(
        "lot file",
        format!(
            "the {format} cannot be read: {}; a lot gives lot_id, viable_cells_per_ml, viability, container_volume, containers, and optionally extractable_volume, dmso_fraction, expires_at",
            detail.trim_end()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    const LOT: &str = "lot_id = \"UC-0042\"\nviable_cells_per_ml = \"12.5 million cells/mL\"\nviability = 0.93\ncontainer_volume = \"10 mL\"\ncontainers = 4\n";

    #[test]
    fn lot_files_keep_error_kinds() {
        assert!(Lot::from_toml(LOT).is_ok());
        let kind = |text: &str| Lot::from_toml(text).map(|_| ()).map_err(|e| e.kind());
        assert_eq!(kind(&LOT.replace("0.93", "93")), Err(ErrorKind::Viability));
        assert_eq!(kind(&LOT.replace("10 mL", "10 cc")), Err(ErrorKind::Unit));
        assert_eq!(
            kind(&LOT.replace("containers = 4", "containers = 0")),
            Err(ErrorKind::InvalidInput)
        );
        assert_eq!(
            kind(&LOT.replace("containers = 4", "containers = -2")),
            Err(ErrorKind::InvalidInput)
        );
        assert_eq!(
            kind(&format!("{LOT}colour = \"red\"\n")),
            Err(ErrorKind::InvalidInput)
        );
        assert_eq!(
            kind(&format!("{LOT}extractable_volume = \"10.5 mL\"\n")),
            Err(ErrorKind::InvalidQuantity)
        );
        let message = Lot::from_toml(&LOT.replace("0.93", "93")).map_err(|e| e.to_string());
        assert!(
            matches!(&message, Err(m) if m.contains("pass 0.93 for 93%")),
            "{message:?}"
        );
    }

    #[test]
    fn many_lots_in_one_file() {
        let two = format!(
            "[[lot]]\n{LOT}\n[[lot]]\n{}",
            LOT.replace("UC-0042", "UC-0043")
        );
        let lots = Lot::many_from_file_text("lots.toml", &two).map(|l| l.len());
        assert_eq!(lots, Ok(2));
        assert_eq!(
            Lot::many_from_file_text("lot.toml", LOT).map(|l| l.len()),
            Ok(1)
        );
        let twice = format!("[[lot]]\n{LOT}\n[[lot]]\n{LOT}");
        assert!(Lot::many_from_file_text("lots.toml", &twice).is_err());
    }

    #[test]
    fn container_counts() {
        assert_eq!(Lot::container_count(4.0), Ok(4));
        for bad in [f64::NAN, f64::INFINITY, 2.5, 0.0, -1.0, 1e308] {
            assert_eq!(
                Lot::container_count(bad).map_err(|e| e.kind()),
                Err(ErrorKind::InvalidInput)
            );
        }
        assert_eq!(
            Lot::container_count_from_int(1 << 40).map_err(|e| e.kind()),
            Err(ErrorKind::InvalidInput)
        );
    }
}
