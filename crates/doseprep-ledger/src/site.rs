//! Sites and workstations: the names an event is written under, and the
//! rules a shipment between sites follows.

use crate::error::{LedgerError, Result};
use crate::event::{Body, Shipment, Station};
use crate::tables::Tables;

/// The longest site code, in characters (the central ledger's CHECK).
pub const MAX_SITE: usize = 32;

/// The longest workstation name, in characters.
pub const MAX_WORKSTATION: usize = 64;

/// 1 to `max` letters, digits, '.', '-' or '_', starting with a letter or
/// digit: a name that prints the same on every label, export and screen.
fn is_short_name(name: &str, max: usize) -> bool {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    first_ok && rest_ok && name.chars().count() <= max
}

/// Whether `site` may name a site: 1 to [`MAX_SITE`] letters, digits, '.',
/// '-' or '_', starting with a letter or digit.
pub(crate) fn check_site(site: &str) -> Result<()> {
    if is_short_name(site, MAX_SITE) {
        Ok(())
    } else {
        Err(LedgerError::SiteName {
            site: site.chars().take(40).collect(),
            max: MAX_SITE,
        })
    }
}

/// Whether `workstation` may name a workstation: as a site, up to
/// [`MAX_WORKSTATION`] characters.
pub fn check_workstation(workstation: &str) -> Result<()> {
    if is_short_name(workstation, MAX_WORKSTATION) {
        Ok(())
    } else {
        Err(LedgerError::WorkstationName {
            workstation: workstation.chars().take(40).collect(),
            max: MAX_WORKSTATION,
        })
    }
}

/// The ledger's site once an event setting it to `set` (a `set_site`
/// body's site, where the event is one) is written.
fn site_after(tables: &dyn Tables, set: Option<&str>) -> Result<Option<String>> {
    match set {
        Some(site) => Ok(Some(site.to_owned())),
        None => Ok(tables.site()?.map(|(site, _)| site)),
    }
}

/// The station an event is written at: the ledger's site (or the one the
/// event sets) and the writer's workstation. A ledger with a site needs a
/// workstation; one without takes none (it would not be recorded).
pub(crate) fn station_for(
    tables: &dyn Tables,
    event: &'static str,
    set: Option<&str>,
    workstation: Option<&str>,
) -> Result<Option<Station>> {
    match (site_after(tables, set)?, workstation) {
        (Some(site), Some(workstation)) => Ok(Some(Station {
            site,
            workstation: workstation.to_owned(),
        })),
        (Some(site), None) => Err(LedgerError::NoWorkstation { event, site }),
        (None, Some(workstation)) => Err(LedgerError::WorkstationWithoutSite {
            workstation: workstation.to_owned(),
        }),
        (None, None) => Ok(None),
    }
}

/// Whether an event's stored station is the one it was written at: the
/// ledger's site from its `set_site` on (that event's included), and none
/// before.
pub(crate) fn check_station(
    tables: &dyn Tables,
    set: Option<&str>,
    station: Option<&Station>,
) -> Result<()> {
    match (site_after(tables, set)?, station) {
        (None, None) => Ok(()),
        (Some(site), Some(station)) if station.site == site => {
            check_workstation(&station.workstation).map_err(|_| {
                LedgerError::Tampered(format!(
                    "it names the workstation {:?}, which no doseprep writes",
                    station.workstation
                ))
            })
        }
        (Some(site), Some(station)) => Err(LedgerError::Tampered(format!(
            "it was written at site {}, but the ledger is site {site}'s",
            station.site
        ))),
        (Some(site), None) => Err(LedgerError::Tampered(format!(
            "it names no site, but the ledger is site {site}'s (every event of a site names it)"
        ))),
        (None, Some(station)) => Err(LedgerError::Tampered(format!(
            "it names site {}, but the ledger has no site then",
            station.site
        ))),
    }
}

/// The ledger's own site, for an event between sites.
fn own_site(tables: &dyn Tables, event: &'static str) -> Result<String> {
    tables
        .site()?
        .map(|(site, _)| site)
        .ok_or(LedgerError::NoSite { event })
}

/// Whether the ledger's site may be set to `site`, named `name`.
pub(crate) fn check_set_site(tables: &dyn Tables, site: &str, name: &str) -> Result<()> {
    check_site(site)?;
    crate::event::check_text("name", name, "give the site's name as it is printed")?;
    match tables.site()? {
        Some((site, seq)) => Err(LedgerError::SiteAlreadySet { site, seq }),
        None => Ok(()),
    }
}

/// Whether containers may be shipped to `to_site` (the containers' own
/// rules are the caller's).
pub(crate) fn check_ship(tables: &dyn Tables, to_site: &str) -> Result<()> {
    check_site(to_site)?;
    let own = own_site(tables, "ship")?;
    if own == to_site {
        return Err(LedgerError::SameSite {
            event: "ship",
            site: own,
        });
    }
    Ok(())
}

/// Whether a receipt of `containers` containers of `lot_id` may come by
/// `shipment`.
pub(crate) fn check_shipment(
    tables: &dyn Tables,
    lot_id: &str,
    containers: u32,
    shipment: &Shipment,
) -> Result<()> {
    check_site(&shipment.from_site)?;
    let own = own_site(tables, "receive")?;
    if own == shipment.from_site {
        return Err(LedgerError::SameSite {
            event: "receive",
            site: own,
        });
    }
    if shipment.seq < 1 {
        return Err(LedgerError::ShipmentEvent { seq: shipment.seq });
    }
    let mut listed = std::collections::BTreeSet::new();
    for &number in &shipment.containers {
        if !listed.insert(number) {
            return Err(LedgerError::ShippedContainerTwice {
                from_site: shipment.from_site.clone(),
                container: number,
            });
        }
    }
    let numbered = shipment.containers.iter().all(|&number| number >= 1);
    if u32::try_from(shipment.containers.len()) != Ok(containers) || !numbered {
        return Err(LedgerError::ShipmentContainers {
            lot_id: lot_id.to_owned(),
            listed: shipment.containers.len(),
            received: containers,
        });
    }
    // A container of a shipment is received once: a receipt run again,
    // or a second naming one the first brought, is refused, whatever lot
    // id the earlier receipt gave it.
    for (seq, body) in tables.shipment_receipts()? {
        if let Body::Receive {
            shipment: Some(earlier),
            ..
        } = body
        {
            let same = earlier.from_site == shipment.from_site && earlier.seq == shipment.seq;
            if let Some(&container) = earlier
                .containers
                .iter()
                .find(|number| same && listed.contains(number))
            {
                return Err(LedgerError::ShipmentReceived {
                    from_site: shipment.from_site.clone(),
                    seq: shipment.seq,
                    container,
                    receipt: seq,
                });
            }
        }
    }
    Ok(())
}
