//! Prints what the pharmacy prepares for one example participant in each arm
//! of CARE-SSc at each visit: `cargo run -p doseprep --example care_ssc`.

use doseprep::{parse_time, prepare, Lot, Order, Protocol};

fn main() -> Result<(), doseprep::DoseError> {
    let protocol = Protocol::care_ssc();
    let lot = Lot::from_toml(
        r#"
        lot_id = "UC-0042"
        viable_cells_per_ml = "12.5 million cells/mL"
        viability = 0.93
        container_volume = "10 mL"
        containers = 4
        dmso_fraction = 0.05
        "#,
    )?;
    let thawed_at = parse_time("thawed_at", "2026-11-25T09:00:00-05:00")?;
    let spec = protocol.spec();
    for arm in spec.arms.keys() {
        for visit in &spec.visits {
            let order =
                Order::with_weight_text("CARE-012", "72.4 kg", arm, visit, thawed_at.clone())?;
            let bag = prepare(&protocol, &order, &lot)?;
            println!("{}", doseprep::summary_line(&bag));
        }
    }
    Ok(())
}
