//! Arguments in, results out: typed `FromPyObject` argument types (a number,
//! a count, a weight, a time) and the conversion of core values to Python
//! objects. No dose rule lives here: each type only classifies what Python
//! gave and hands it to the core, which checks it and names the field.

mod bag_id;
mod number;
mod time;
mod weight;

pub use bag_id::BagIdArg;
pub use number::{container_numbers, Count, DinSequenceArg, FractionArg, Number, WholeNumber};
pub use time::{py_datetime, BatchTimes, TimeArg};
pub use weight::WeightArg;

use pyo3::prelude::*;

/// JSON text as Python values (times as ISO 8601 strings).
pub fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A Python string literal for a repr: 'CARE-012'.
pub fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The hash of a value by its text (its JSON or fingerprint): equal values
/// hash alike, as `__eq__` compares them.
pub fn text_hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}
