//! The sponsor's view of the central ledger: each site's stock, thaws,
//! bags and destructions, summed from the events the site pushed, and the
//! shipments between sites not yet received.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::balance::{tally, Balance};
use crate::db::{params, Db, Lock};
use crate::error::{LedgerError, Result};
use crate::event::Body;

/// What every site has pushed to the central ledger, summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CentralView {
    /// Each site that has pushed, by code.
    pub sites: Vec<SiteView>,
    /// Lots across sites: each lot's containers summed over every site's
    /// balance, with those shipped and not yet received.
    pub lots: Vec<LotAcrossSites>,
    /// Shipments a site sent that the site they went to has not received
    /// (or not pushed the receipt of yet).
    pub in_transit: Vec<InTransit>,
    /// Receipts naming a shipment the sending site has not pushed (or
    /// that is not a shipment of that lot to the receiving site).
    pub unmatched_receipts: Vec<UnmatchedReceipt>,
}

/// One site, as its pushed events leave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteView {
    /// The site's code.
    pub site: String,
    /// Events the centre holds of it (its last event's number).
    pub events: i64,
    /// Each lot it received, by lot id.
    pub lots: Vec<Balance>,
    /// Bags made (prepared, or prepared as planned).
    pub bags_made: u32,
    /// Bags administered.
    pub bags_administered: u32,
    /// Bags destroyed.
    pub bags_destroyed: u32,
}

/// A lot over every site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LotAcrossSites {
    /// The lot.
    pub lot_id: String,
    /// Containers received from the sponsor or depot (receipts from
    /// another site are moves, not new containers).
    pub received: u32,
    /// Containers on hand, over every site.
    pub on_hand: u32,
    /// Containers thawed, over every site.
    pub thawed: u32,
    /// Containers destroyed from stock, over every site.
    pub destroyed: u32,
    /// Containers returned, over every site.
    pub returned: u32,
    /// Containers shipped from a site and not received at the other yet.
    pub in_transit: u32,
}

/// A shipment not received yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InTransit {
    /// The sending site.
    pub from_site: String,
    /// Its `ship` event.
    pub seq: i64,
    /// When it was shipped, RFC 9557.
    pub at: String,
    /// The site it goes to.
    pub to_site: String,
    /// The lot.
    pub lot_id: String,
    /// The sending site's numbers of its containers.
    pub containers: Vec<u32>,
}

/// A receipt from a shipment the centre does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnmatchedReceipt {
    /// The receiving site.
    pub site: String,
    /// Its `receive` event.
    pub seq: i64,
    /// The lot.
    pub lot_id: String,
    /// The sending site named.
    pub from_site: String,
    /// The sending site's event named.
    pub shipment_seq: i64,
}

/// The view of the central ledger on `centre`, from one snapshot.
pub(crate) fn view(centre: &Db) -> Result<CentralView> {
    centre.transaction(Lock::Read, |centre| {
        let mut by_site: BTreeMap<String, Vec<(i64, String, Body)>> = BTreeMap::new();
        centre.each(
            "SELECT site, seq, kind, at, body FROM site_event ORDER BY site, seq",
            params![],
            |row| {
                let site: String = row.get(0)?;
                let seq: i64 = row.get(1)?;
                let kind: String = row.get(2)?;
                let at: String = row.get(3)?;
                let text: String = row.get(4)?;
                let body = Body::from_json(&text)
                    .filter(|body| body.kind() == kind)
                    .ok_or_else(|| {
                        LedgerError::Tampered(format!(
                            "site {site}: event {seq} does not read as a {kind} event"
                        ))
                    })?;
                by_site.entry(site).or_default().push((seq, at, body));
                Ok(())
            },
        )?;
        summed(&by_site)
    })
}

/// A count beyond what a site's events can hold.
fn too_many(site: &str) -> LedgerError {
    LedgerError::Tampered(format!(
        "site {site} counts more than 4,294,967,295 of one thing"
    ))
}

/// The view of the sites' events (each site's in order).
fn summed(by_site: &BTreeMap<String, Vec<(i64, String, Body)>>) -> Result<CentralView> {
    let mut sites = Vec::new();
    let mut shipments: BTreeMap<(String, i64), InTransit> = BTreeMap::new();
    let mut receipts: Vec<UnmatchedReceipt> = Vec::new();
    for (site, events) in by_site {
        let bodies: Vec<(i64, Body)> = events
            .iter()
            .map(|(seq, _, body)| (*seq, body.clone()))
            .collect();
        let lot_ids: BTreeSet<&str> = bodies
            .iter()
            .filter(|(_, body)| matches!(body, Body::Receive { .. }))
            .filter_map(|(_, body)| body.lot_id())
            .collect();
        let lots = lot_ids
            .into_iter()
            .map(|lot_id| tally(lot_id, &bodies, None))
            .collect::<Result<Vec<Balance>>>()?;
        let count = |kinds: &[&str]| -> Result<u32> {
            let found = bodies
                .iter()
                .filter(|(_, body)| kinds.contains(&body.kind()))
                .count();
            u32::try_from(found).map_err(|_| too_many(site))
        };
        for (seq, at, body) in events {
            match body {
                Body::Ship {
                    lot_id,
                    containers,
                    to_site,
                } => {
                    shipments.insert(
                        (site.clone(), *seq),
                        InTransit {
                            from_site: site.clone(),
                            seq: *seq,
                            at: at.clone(),
                            to_site: to_site.clone(),
                            lot_id: lot_id.clone(),
                            containers: containers.clone(),
                        },
                    );
                }
                Body::Receive {
                    lot_id,
                    shipment: Some(shipment),
                    ..
                } => receipts.push(UnmatchedReceipt {
                    site: site.clone(),
                    seq: *seq,
                    lot_id: lot_id.clone(),
                    from_site: shipment.from_site.clone(),
                    shipment_seq: shipment.seq,
                }),
                _ => {}
            }
        }
        sites.push(SiteView {
            site: site.clone(),
            events: events.last().map_or(0, |(seq, _, _)| *seq),
            lots,
            bags_made: count(&["prepare", "prepare_planned"])?,
            bags_administered: count(&["administer"])?,
            bags_destroyed: count(&["destroy_bag"])?,
        });
    }
    // A receipt takes its shipment out of transit where the shipment is a
    // shipment of that lot to the receiving site.
    let mut unmatched_receipts = Vec::new();
    for receipt in receipts {
        let key = (receipt.from_site.clone(), receipt.shipment_seq);
        match shipments.get(&key) {
            Some(shipment)
                if shipment.to_site == receipt.site && shipment.lot_id == receipt.lot_id =>
            {
                shipments.remove(&key);
            }
            _ => unmatched_receipts.push(receipt),
        }
    }
    let in_transit: Vec<InTransit> = shipments.into_values().collect();
    let mut lots: BTreeMap<String, LotAcrossSites> = BTreeMap::new();
    for site in &sites {
        for balance in &site.lots {
            let lot = lots
                .entry(balance.lot_id.clone())
                .or_insert_with(|| LotAcrossSites {
                    lot_id: balance.lot_id.clone(),
                    received: 0,
                    on_hand: 0,
                    thawed: 0,
                    destroyed: 0,
                    returned: 0,
                    in_transit: 0,
                });
            lot.on_hand += balance.on_hand;
            lot.thawed += balance.thawed;
            lot.destroyed += balance.destroyed;
            lot.returned += balance.returned;
        }
    }
    // Received from outside: every receipt less those from another site.
    for events in by_site.values() {
        for (_, _, body) in events {
            if let Body::Receive {
                lot_id,
                containers,
                shipment: None,
                ..
            } = body
            {
                if let Some(lot) = lots.get_mut(lot_id) {
                    lot.received += containers;
                }
            }
        }
    }
    for shipment in &in_transit {
        let count =
            u32::try_from(shipment.containers.len()).map_err(|_| too_many(&shipment.from_site))?;
        if let Some(lot) = lots.get_mut(&shipment.lot_id) {
            lot.in_transit += count;
        }
    }
    Ok(CentralView {
        sites,
        lots: lots.into_values().collect(),
        in_transit,
        unmatched_receipts,
    })
}
