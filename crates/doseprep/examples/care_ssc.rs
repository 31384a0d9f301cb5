//! Prints what the pharmacy prepares for one example participant in each arm
//! of CARE-SSc at each visit: `cargo run -p doseprep --example care_ssc`.

use doseprep::{parse_time, prepare, CellConcentration, ExactVolume, Lot, Order, Protocol};

fn main() -> Result<(), doseprep::DoseError> {
    let protocol = Protocol::care_ssc();
    let lot = Lot::new(
        "UC-0042",
        CellConcentration::parse("viable_cells_per_ml", "12.5 million cells/mL")?,
        0.93,
        ExactVolume::parse("container_volume", "10 mL")?,
        4,
        Some(0.05),
    )?;
    let thawed_at = parse_time("thawed_at", "2026-11-25T09:00:00+00:00")?;
    for arm in protocol.arms.keys() {
        for visit in &protocol.visits {
            let order = Order::with_weight_text(
                "CARE-012",
                "72.4 kg",
                arm,
                visit,
                thawed_at.clone(),
                None,
            )?;
            let bag = prepare(&protocol, &order, &lot)?;
            println!("{}", doseprep::summary_line(&bag));
        }
    }
    Ok(())
}
