//! Shared by the integration tests: the vector files, and building
//! protocols, lots and orders from their JSON.

// Test code: a failed unwrap is a failed test.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use std::path::PathBuf;

use doseprep::{
    parse_time, BagId, BodyWeight, CellConcentration, ExactVolume, Lot, LotSpec, Order,
    Preparation, Protocol,
};
use serde_json::{json, Map, Value};

/// `tests/vectors/` of the repository.
pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors")
}

/// `crates/doseprep/protocols/`.
pub fn protocols_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("protocols")
}

/// A number, or "NaN"/"inf" as strings.
pub fn number(value: &Value) -> f64 {
    match value {
        Value::String(text) => text.parse().unwrap(),
        other => other.as_f64().unwrap(),
    }
}

/// "care-ssc" (built in), "examples/x.toml" (shipped), or a file of tests/vectors/protocols.
pub fn protocol(name: &str) -> Protocol {
    if name == "care-ssc" {
        return Protocol::care_ssc();
    }
    let path = if let Some(example) = name.strip_prefix("examples/") {
        protocols_dir().join("examples").join(example)
    } else {
        vectors_dir().join("protocols").join(name)
    };
    Protocol::from_toml(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// A lot from a vector's numbers (as the Python API takes them).
pub fn lot(l: &Value) -> doseprep::Result<Lot> {
    Lot::new(LotSpec {
        lot_id: l["lot_id"].as_str().unwrap().to_owned(),
        viable_cells_per_ml: CellConcentration::new(
            "viable_cells_per_ml",
            number(&l["viable_cells_per_ml"]),
        )?,
        viability: number(&l["viability"]),
        container_volume: ExactVolume::from_ml(
            "container_volume_ml",
            number(&l["container_volume_ml"]),
        )?,
        extractable_volume: l
            .get("extractable_volume_ml")
            .map(|v| ExactVolume::from_ml("extractable_volume_ml", number(v)))
            .transpose()?,
        containers: Lot::container_count(number(&l["containers"]))?,
        dmso_fraction: l.get("dmso_fraction").filter(|v| !v.is_null()).map(number),
        expires_at: None,
    })
}

/// An order from a vector.
pub fn order(o: &Value) -> doseprep::Result<Order> {
    let thawed_at = parse_time("thawed_at", o["thawed_at"].as_str().unwrap())?;
    let (participant, arm, visit) = (
        o["participant"].as_str().unwrap(),
        o["arm"].as_str().unwrap(),
        o["visit"].as_str().unwrap(),
    );
    // A weight is text with its unit, or a number under `weight_kg`.
    let mut order = match (&o["weight"], o.get("weight_kg")) {
        (Value::String(text), None) => {
            Order::with_weight_text(participant, text, arm, visit, thawed_at)?
        }
        (Value::Null, Some(kg)) => Order::new(
            participant,
            BodyWeight::from_kg(number(kg))?,
            arm,
            visit,
            thawed_at,
        )?,
        other => panic!("a vector's order gives weight text or weight_kg, not {other:?}"),
    };
    if let Some(text) = o.get("prepared_at").and_then(Value::as_str) {
        order = order.prepared(parse_time("prepared_at", text)?);
    }
    if let Some(text) = o.get("infusion_at").and_then(Value::as_str) {
        order = order.infusion(parse_time("infusion_at", text)?);
    }
    if let Some(text) = o.get("baseline_weight").and_then(Value::as_str) {
        order = order.baseline_text(text)?;
    }
    if let Some(text) = o.get("bag_id").and_then(Value::as_str) {
        order = order.with_bag_id(BagId::parse(text)?);
    }
    Ok(order)
}

/// The flat view of a preparation the vectors state (the Python getters' names).
pub fn flat(prep: &Preparation) -> Map<String, Value> {
    let dose = prep.dose.as_ref();
    let mut map = Map::new();
    let mut put = |key: &str, value: Value| {
        map.insert(key.to_owned(), value);
    };
    put("content", json!(prep.content.as_str()));
    put("body_weight_kg", json!(prep.body_weight.kg()));
    put("dosing_weight_kg", json!(prep.dosing_weight.kg()));
    put(
        "dosing_weight_from",
        serde_json::to_value(prep.dosing_weight_from).unwrap(),
    );
    put("diluent_volume_ml", json!(prep.diluent_volume.ml()));
    put("final_volume_ml", json!(prep.final_volume.ml()));
    put("pump_rate_ml_per_h", json!(prep.pump_rate.ml_per_hour()));
    put("start_by", json!(prep.start_by().rfc9557()));
    put("infuse_by", json!(prep.infuse_by().rfc9557()));
    put(
        "expected_net_mass_g",
        json!(prep.expected_net_mass.map(|g| g.grams())),
    );
    put("target_cells", json!(dose.map(|d| d.target_cells.cells())));
    put(
        "acceptable_min_cells",
        json!(dose.map(|d| d.acceptable_min_cells.cells())),
    );
    put(
        "acceptable_max_cells",
        json!(dose.map(|d| d.acceptable_max_cells.cells())),
    );
    put(
        "unrounded_draw_volume_ml",
        json!(dose.map(|d| d.unrounded_draw_volume.ml())),
    );
    put("draw_volume_ml", json!(dose.map(|d| d.draw_volume.ml())));
    put(
        "draw_graduation_ml",
        json!(dose.map(|d| d.draw_graduation.ml())),
    );
    put(
        "syringe_capacity_ml",
        json!(dose.and_then(|d| d.syringe_capacity).map(|v| v.ml())),
    );
    put(
        "rounding",
        json!(dose.map(|d| serde_json::to_value(d.rounding).unwrap())),
    );
    put(
        "delivered_cells",
        json!(dose.map(|d| d.delivered_cells.cells())),
    );
    put("deviation", json!(dose.map(|d| d.deviation.value())));
    put(
        "containers_to_thaw",
        json!(dose.map(|d| d.containers_to_thaw)),
    );
    put(
        "final_concentration_cells_per_ml",
        json!(dose.map(|d| d.final_concentration.cells_per_ml())),
    );
    put(
        "dmso_g_per_kg",
        json!(dose.and_then(|d| d.dmso).map(|x| x.g_per_kg())),
    );
    put(
        "dose_determined_by",
        json!(dose.map(|d| d.dose_determined_by.to_string())),
    );
    map
}

/// Fields compared exactly; every other number to 1e-12 relative.
pub const EXACT: [&str; 12] = [
    "content",
    "draw_volume_ml",
    "diluent_volume_ml",
    "final_volume_ml",
    "containers_to_thaw",
    "start_by",
    "infuse_by",
    "draw_graduation_ml",
    "syringe_capacity_ml",
    "rounding",
    "dose_determined_by",
    "dosing_weight_from",
];
