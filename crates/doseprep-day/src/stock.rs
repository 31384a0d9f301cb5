//! The lots of a day as the ledger holds them: each lot file's lot with the
//! containers the ledger has in stock, by their numbers.

use doseprep::Lot;
use doseprep_ledger::Ledger;

use crate::error::{DayError, Result};

/// What the ledger's stock changed in the lots file's lots, to be told to
/// the pharmacist (the day is planned all the same).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockNote {
    /// A lot with no container in stock: planned without it.
    NoneInStock {
        /// The lot.
        lot_id: String,
    },
    /// A lot whose count in the ledger is not the lots file's: planned with
    /// the ledger's.
    CountDiffers {
        /// The lot.
        lot_id: String,
        /// Containers in stock in the ledger and not set aside for a planned bag.
        in_stock: u32,
        /// Containers the lots file says.
        in_file: u32,
    },
}

impl std::fmt::Display for StockNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StockNote::NoneInStock { lot_id } => write!(
                f,
                "lot {lot_id}: the ledger has no container of it in stock; planned without it"
            ),
            StockNote::CountDiffers {
                lot_id,
                in_stock,
                in_file,
            } => write!(
                f,
                "lot {lot_id}: the ledger has {in_stock} containers in stock and free to plan, the lots file says {in_file}; planned with the ledger's"
            ),
        }
    }
}

/// The lots with the ledger's containers in stock, and what that changed.
/// A lot with none left is left out (with a note) so the day is planned
/// with the others; none left of any lot is [`DayError::NoStock`].
pub fn in_stock(ledger: &Ledger, lots: Vec<Lot>) -> Result<(Vec<Lot>, Vec<StockNote>)> {
    let mut stocked = Vec::new();
    let mut notes = Vec::new();
    for given in lots {
        let lot_id = given.lot_id().to_owned();
        let numbers = ledger.in_stock(&lot_id)?;
        if numbers.is_empty() {
            notes.push(StockNote::NoneInStock { lot_id });
            continue;
        }
        let in_file = given.containers();
        let lot = given.with_container_numbers(numbers)?;
        if lot.containers() != in_file {
            notes.push(StockNote::CountDiffers {
                lot_id,
                in_stock: lot.containers(),
                in_file,
            });
        }
        stocked.push(lot);
    }
    if stocked.is_empty() {
        return Err(DayError::NoStock);
    }
    Ok((stocked, notes))
}
