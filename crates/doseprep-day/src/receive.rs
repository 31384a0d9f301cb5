//! Lots received into the ledger from a lots file, each shipment numbered
//! on from the containers the ledger holds of its lot already.

use doseprep::Lot;
use doseprep_ledger::{Entry, Ledger};

use crate::error::Result;

/// One shipment received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The receipt's event.
    pub seq: i64,
    /// The lot.
    pub lot_id: String,
    /// The number of its first container.
    pub first_container: u32,
    /// The number of its last container.
    pub last_container: u32,
}

/// Receive each lot of `lots`, one event each, in order; `on_received` is
/// told of each as it is recorded, so a refusal of a later lot does not
/// hide the receipts before it.
pub fn receive_lots(
    ledger: &mut Ledger,
    lots: &[Lot],
    entry: &Entry,
    mut on_received: impl FnMut(&Received),
) -> Result<()> {
    for lot in lots {
        let known = ledger.lot_ids()?.iter().any(|id| id == lot.lot_id());
        let before = if known {
            ledger.balance(lot.lot_id())?.received
        } else {
            0
        };
        let seq = ledger.receive(lot, entry)?;
        on_received(&Received {
            seq,
            lot_id: lot.lot_id().to_owned(),
            first_container: before + 1,
            last_container: before + lot.containers(),
        });
    }
    Ok(())
}
