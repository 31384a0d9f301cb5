//! `prepare` and `prepare_many`: orders in, bags (or errors) out.

use doseprep as core;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::{BatchTimes, Number, TimeArg, WeightArg};
use crate::errors::{base, to_py_err, IntoPy};
use crate::lot::Lot;
use crate::order::{from_item, KeyNames, OrderArgs};
use crate::preparation::Preparation;
use crate::protocol::Protocol;

/// Prepare the bag an order calls for: the active bag, or the placebo matched
/// to the active bag the participant would have received from this lot (and
/// checked against everything that bag would be).
#[pyfunction]
#[pyo3(signature = (protocol, /, *, participant, arm, visit, lot, thawed_at, weight=None, weight_kg=None, prepared_at=None, infusion_at=None, baseline_weight=None, baseline_weight_kg=None, bag_id=None, din_sequence=None, weighed_at=None))]
#[allow(clippy::too_many_arguments)]
pub fn prepare<'py>(
    py: Python<'py>,
    protocol: &Protocol,
    participant: &str,
    arm: &str,
    visit: &str,
    lot: &Lot,
    thawed_at: TimeArg<'py>,
    weight: Option<WeightArg>,
    weight_kg: Option<Number>,
    prepared_at: Option<TimeArg<'py>>,
    infusion_at: Option<TimeArg<'py>>,
    baseline_weight: Option<WeightArg>,
    baseline_weight_kg: Option<Number>,
    bag_id: Option<String>,
    din_sequence: Option<u32>,
    weighed_at: Option<TimeArg<'py>>,
) -> PyResult<Bound<'py, Preparation>> {
    let order = OrderArgs {
        participant,
        weight: WeightArg::one_of("weight", weight, weight_kg, true)?,
        arm,
        visit,
        thawed_at,
        prepared_at,
        infusion_at,
        weighed_at,
        baseline_weight: WeightArg::one_of(
            "baseline_weight",
            baseline_weight,
            baseline_weight_kg,
            false,
        )?,
        bag_id,
        din_sequence,
    }
    .build()?;
    let inner = core::prepare(&protocol.inner, &order, &lot.inner).py()?;
    Preparation::new(inner, &protocol.inner, &order, &lot.inner).into_untracked(py)
}

/// Prepare many orders from one lot in one call. Returns a list in the order
/// given: a Preparation for each order that succeeds, and the DoseError
/// instance (not raised) in the place of each that fails, including a row
/// that is not a dict or Order or holds a value of the wrong type
/// (InvalidInputError).
#[pyfunction]
#[pyo3(signature = (protocol, orders, /, *, lot))]
pub fn prepare_many<'py>(
    py: Python<'py>,
    protocol: &Protocol,
    orders: &Bound<'py, PyAny>,
    lot: &Lot,
) -> PyResult<Bound<'py, PyList>> {
    let dose_error = base(py)?;
    let names = KeyNames::new(py);
    let mut times = BatchTimes::default();
    let mut results: Vec<Bound<'py, PyAny>> = Vec::new();
    for item in orders.try_iter()? {
        let item = item?;
        let result = match from_item(&item, &names, &mut times) {
            Ok(order) => match core::prepare(&protocol.inner, &order, &lot.inner) {
                Ok(inner) => Preparation::new(inner, &protocol.inner, &order, &lot.inner)
                    .into_untracked(py)?
                    .into_any(),
                Err(error) => to_py_err(error).into_value(py).into_bound(py).into_any(),
            },
            Err(e) if e.is_instance(py, &dose_error) => e.into_value(py).into_bound(py).into_any(),
            // A row with a value of the wrong type is that row's error, not
            // the batch's: the other rows still come back.
            Err(e) if e.is_instance_of::<PyTypeError>(py) => {
                to_py_err(core::DoseError::InvalidInput {
                    field: "order".to_owned(),
                    reason: e.value(py).to_string(),
                })
                .into_value(py)
                .into_bound(py)
                .into_any()
            }
            Err(e) => return Err(e),
        };
        results.push(result);
    }
    PyList::new(py, results)
}
