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
    /// (or not pushed the receipt of yet), each with the containers not
    /// received.
    pub in_transit: Vec<InTransit>,
    /// Receipts naming a shipment the sending site has not pushed, or
    /// that is not a shipment of that lot to the receiving site, or a
    /// container not in it or received already.
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

/// A stock event, or a correction of one, as the sponsor reads it (a
/// destruction's or correction's reason withheld).
struct StockEvent {
    seq: i64,
    at: String,
    body: Body,
}

/// One site's events at the centre: its stock events in order, and how
/// many events of each kind it pushed (bag events are only counted: their
/// places in the chain would tell where they fell among thaws).
#[derive(Default)]
struct SiteEvents {
    /// Its last event's number.
    last_seq: i64,
    stock: Vec<StockEvent>,
    counts: BTreeMap<String, i64>,
}

/// The view of the central ledger on `centre`, from one snapshot.
pub(crate) fn view(centre: &Db) -> Result<CentralView> {
    centre.transaction(Lock::Read, |centre| {
        let mut by_site: BTreeMap<String, SiteEvents> = BTreeMap::new();
        centre.each(
            "SELECT site, kind, n, site_events FROM site_event_count ORDER BY site, kind",
            params![],
            |row| {
                let site: String = row.get(0)?;
                let events = by_site.entry(site).or_default();
                events.counts.insert(row.get(1)?, row.get(2)?);
                events.last_seq = row.get(3)?;
                Ok(())
            },
        )?;
        centre.each(
            "SELECT site, seq, kind, at, body FROM site_stock_event ORDER BY site, seq",
            params![],
            |row| {
                let site: String = row.get(0)?;
                let seq: i64 = row.get(1)?;
                let kind: String = row.get(2)?;
                let at: String = row.get(3)?;
                let text: Option<String> = row.get(4)?;
                let body = text
                    .as_deref()
                    .and_then(Body::from_json)
                    .filter(|body| body.kind() == kind)
                    .ok_or_else(|| {
                        LedgerError::Tampered(format!(
                            "site {site}: event {seq} does not read as a {kind} event as a ledger writes one (its reason, if any, could not be withheld)"
                        ))
                    })?;
                let events = by_site.get_mut(&site).ok_or_else(|| {
                    LedgerError::internal(format!(
                        "site {site}'s stock event {seq} is not among its counted events"
                    ))
                })?;
                events.stock.push(StockEvent { seq, at, body });
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

/// `total + more`, or the fault of a count beyond a u32.
fn add(total: &mut u32, more: u32, site: &str) -> Result<()> {
    *total = total.checked_add(more).ok_or_else(|| too_many(site))?;
    Ok(())
}

/// A shipment and the containers of it not received yet.
struct Outstanding {
    shipment: InTransit,
    left: BTreeSet<u32>,
}

/// The view of the sites' events (each site's in order).
fn summed(by_site: &BTreeMap<String, SiteEvents>) -> Result<CentralView> {
    let mut sites = Vec::new();
    let mut shipments: BTreeMap<(String, i64), Outstanding> = BTreeMap::new();
    let mut receipts: Vec<(UnmatchedReceipt, Vec<u32>)> = Vec::new();
    let mut lots: BTreeMap<String, LotAcrossSites> = BTreeMap::new();
    for (
        site,
        SiteEvents {
            last_seq,
            stock,
            counts,
        },
    ) in by_site
    {
        let bodies: Vec<(i64, Body)> = stock
            .iter()
            .map(|event| (event.seq, event.body.clone()))
            .collect();
        // A stock event's time as last corrected (corrections follow what
        // they correct, in order).
        let mut corrected_at: BTreeMap<i64, &str> = BTreeMap::new();
        for event in stock {
            if let Body::Correct {
                seq, at: Some(at), ..
            } = &event.body
            {
                corrected_at.insert(*seq, at);
            }
        }
        let lot_ids: BTreeSet<&str> = bodies
            .iter()
            .filter(|(_, body)| matches!(body, Body::Receive { .. }))
            .filter_map(|(_, body)| body.lot_id())
            .collect();
        let balances = lot_ids
            .into_iter()
            .map(|lot_id| {
                tally(lot_id, &bodies, None).map_err(|error| match error {
                    LedgerError::Tampered(reason) => {
                        LedgerError::Tampered(format!("site {site}: {reason}"))
                    }
                    other => other,
                })
            })
            .collect::<Result<Vec<Balance>>>()?;
        let count = |kinds: &[&str]| -> Result<u32> {
            let mut found: i64 = 0;
            for kind in kinds {
                let n = counts.get(*kind).copied().unwrap_or(0); // fallback-ok: a kind the site never pushed counts 0
                found = found.checked_add(n).ok_or_else(|| too_many(site))?;
            }
            u32::try_from(found).map_err(|_| too_many(site))
        };
        for event in stock {
            match &event.body {
                Body::Ship {
                    lot_id,
                    containers,
                    to_site,
                } => {
                    shipments.insert(
                        (site.clone(), event.seq),
                        Outstanding {
                            shipment: InTransit {
                                from_site: site.clone(),
                                seq: event.seq,
                                at: corrected_at
                                    .get(&event.seq)
                                    .map_or_else(|| event.at.clone(), |&at| at.to_owned()),
                                to_site: to_site.clone(),
                                lot_id: lot_id.clone(),
                                containers: containers.clone(),
                            },
                            left: containers.iter().copied().collect(),
                        },
                    );
                }
                Body::Receive {
                    lot_id,
                    containers,
                    shipment,
                    ..
                } => {
                    let lot = lots
                        .entry(lot_id.clone())
                        .or_insert_with(|| LotAcrossSites {
                            lot_id: lot_id.clone(),
                            received: 0,
                            on_hand: 0,
                            thawed: 0,
                            destroyed: 0,
                            returned: 0,
                            in_transit: 0,
                        });
                    match shipment {
                        // From outside the trial's sites: new containers.
                        None => add(&mut lot.received, *containers, site)?,
                        Some(shipment) => receipts.push((
                            UnmatchedReceipt {
                                site: site.clone(),
                                seq: event.seq,
                                lot_id: lot_id.clone(),
                                from_site: shipment.from_site.clone(),
                                shipment_seq: shipment.seq,
                            },
                            shipment.containers.clone(),
                        )),
                    }
                }
                _ => {}
            }
        }
        for balance in &balances {
            if let Some(lot) = lots.get_mut(&balance.lot_id) {
                add(&mut lot.on_hand, balance.on_hand, site)?;
                add(&mut lot.thawed, balance.thawed, site)?;
                add(&mut lot.destroyed, balance.destroyed, site)?;
                add(&mut lot.returned, balance.returned, site)?;
            }
        }
        sites.push(SiteView {
            site: site.clone(),
            events: *last_seq,
            lots: balances,
            bags_made: count(&["prepare", "prepare_planned"])?,
            bags_administered: count(&["administer"])?,
            bags_destroyed: count(&["destroy_bag"])?,
        });
    }
    // A receipt takes out of transit the containers it names of a shipment
    // of that lot to the receiving site, each once; one naming a shipment
    // the centre lacks, or a container not (or no longer) in it, is
    // listed as unmatched.
    let mut unmatched_receipts = Vec::new();
    for (receipt, containers) in receipts {
        let key = (receipt.from_site.clone(), receipt.shipment_seq);
        match shipments.get_mut(&key) {
            Some(outstanding)
                if outstanding.shipment.to_site == receipt.site
                    && outstanding.shipment.lot_id == receipt.lot_id
                    && containers
                        .iter()
                        .all(|number| outstanding.left.contains(number)) =>
            {
                for number in &containers {
                    outstanding.left.remove(number);
                }
            }
            _ => unmatched_receipts.push(receipt),
        }
    }
    let mut in_transit = Vec::new();
    for outstanding in shipments.into_values() {
        if outstanding.left.is_empty() {
            continue;
        }
        let site = outstanding.shipment.from_site.clone();
        let left = u32::try_from(outstanding.left.len()).map_err(|_| too_many(&site))?;
        if let Some(lot) = lots.get_mut(&outstanding.shipment.lot_id) {
            add(&mut lot.in_transit, left, &site)?;
        }
        in_transit.push(InTransit {
            containers: outstanding
                .shipment
                .containers
                .iter()
                .copied()
                .filter(|number| outstanding.left.contains(number))
                .collect(),
            ..outstanding.shipment
        });
    }
    Ok(CentralView {
        sites,
        lots: lots.into_values().collect(),
        in_transit,
        unmatched_receipts,
    })
}
