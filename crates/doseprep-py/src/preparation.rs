//! `Preparation`: one bag, and what is printed and kept of it.

use std::sync::Arc;

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::convert::{json_loads, py_datetime, quoted, Number};
use crate::errors::IntoPy;
use crate::record::PreparationRecord;

/// One bag: active or placebo, every number the pharmacist needs. Every
/// dose field of a placebo is None.
#[pyclass(frozen, eq, module = "doseprep")]
#[derive(PartialEq)]
pub struct Preparation {
    pub inner: core::Preparation,
    // The inputs, for the label, the worksheet and the record: the bag
    // keeps its order as given, never one rebuilt from its own outputs.
    pub protocol: core::Protocol,
    pub order: core::Order,
    pub lot: Arc<core::Lot>,
}

impl Preparation {
    /// A bag with the inputs it was prepared from.
    pub fn new(
        inner: core::Preparation,
        protocol: &core::Protocol,
        order: &core::Order,
        lot: &Arc<core::Lot>,
    ) -> Preparation {
        Preparation {
            inner,
            protocol: protocol.clone(),
            order: order.clone(),
            lot: Arc::clone(lot),
        }
    }

    /// The record of this preparation.
    pub fn core_record(&self) -> PyResult<core::PreparationRecord> {
        core::PreparationRecord::new(&self.protocol, &self.order, &self.lot, self.inner.clone())
            .py()
    }

    /// The record of this preparation, verified: what documents take.
    pub fn verified_record(&self) -> PyResult<core::VerifiedRecord> {
        self.core_record()?.verified().py()
    }

    /// A Python object for a bag, not tracked by the cycle collector: it
    /// holds no Python object, so it can be in no reference cycle, and
    /// tracking a day's worth of bags made every collection walk them all.
    pub fn into_untracked(self, py: Python<'_>) -> PyResult<Bound<'_, Preparation>> {
        let object = Bound::new(py, self)?;
        // SAFETY: `object` is a live, GC-tracked instance of a class that
        // holds only Rust data, owned here with the thread attached.
        // CPython lets an object that can be in no cycle be untracked, and
        // its dealloc untracks again, which is then a no-op.
        #[allow(unsafe_code)]
        unsafe {
            pyo3::ffi::PyObject_GC_UnTrack(object.as_ptr().cast());
        }
        Ok(object)
    }

    /// The facts its label prints (those it shares with its twin), once
    /// its record verifies: a bag read from an edited record prints no
    /// label, as it prints no worksheet.
    pub fn label_facts(&self) -> PyResult<core::LabelFacts> {
        let record = self.verified_record()?;
        Ok(core::LabelFacts::new(&record.protocol, &record.preparation))
    }

    fn dose(&self) -> Option<&core::ActiveDose> {
        self.inner.dose.as_ref()
    }
}

#[pymethods]
impl Preparation {
    /// "active" or "placebo".
    #[getter]
    fn content(&self) -> &'static str {
        self.inner.content.as_str()
    }
    #[getter]
    fn participant(&self) -> &str {
        &self.inner.participant
    }
    #[getter]
    fn arm(&self) -> &str {
        &self.inner.arm
    }
    #[getter]
    fn visit(&self) -> &str {
        &self.inner.visit
    }
    /// The bag id on the label, if given or planned.
    #[getter]
    fn bag_id(&self) -> Option<String> {
        self.inner.bag_id.map(|id| id.as_text())
    }
    #[getter]
    fn body_weight_kg(&self) -> f64 {
        self.inner.body_weight.kg()
    }
    #[getter]
    fn baseline_weight_kg(&self) -> Option<f64> {
        self.inner.baseline_weight.map(core::BodyWeight::kg)
    }
    #[getter]
    fn dosing_weight_kg(&self) -> f64 {
        self.inner.dosing_weight.kg()
    }
    /// "visit", "baseline" or "visit-changed".
    #[getter]
    fn dosing_weight_from(&self) -> &'static str {
        self.inner.dosing_weight_from.as_str()
    }
    #[getter]
    fn lot_id(&self) -> Option<&str> {
        self.dose().map(|d| d.lot_id.as_str())
    }
    #[getter]
    fn target_cells(&self) -> Option<f64> {
        self.dose().map(|d| d.target_cells.cells())
    }
    /// (lowest, highest) acceptable delivered cells.
    #[getter]
    fn acceptable_range(&self) -> Option<(f64, f64)> {
        self.dose().map(|d| {
            (
                d.acceptable_min_cells.cells(),
                d.acceptable_max_cells.cells(),
            )
        })
    }
    /// In words, what set the target: the rule, the band, a cap.
    #[getter]
    fn dose_determined_by(&self) -> Option<String> {
        self.dose().map(|d| d.dose_determined_by.to_string())
    }
    #[getter]
    fn unrounded_draw_volume_ml(&self) -> Option<f64> {
        self.dose().map(|d| d.unrounded_draw_volume.ml())
    }
    #[getter]
    fn draw_volume_ml(&self) -> Option<f64> {
        self.dose().map(|d| d.draw_volume.ml())
    }
    /// The syringe drawn with, where the protocol lists syringes.
    #[getter]
    fn syringe_capacity_ml(&self) -> Option<f64> {
        self.dose()
            .and_then(|d| d.syringe_capacity)
            .map(core::ExactVolume::ml)
    }
    /// The graduation the draw was rounded to.
    #[getter]
    fn draw_graduation_ml(&self) -> Option<f64> {
        self.dose().map(|d| d.draw_graduation.ml())
    }
    /// "half-up", or "down-for-maximum" where half up would pass a hard maximum.
    #[getter]
    fn rounding(&self) -> Option<&'static str> {
        self.dose().map(|d| d.rounding.as_str())
    }
    #[getter]
    fn diluent(&self) -> &str {
        &self.inner.diluent
    }
    #[getter]
    fn diluent_volume_ml(&self) -> f64 {
        self.inner.diluent_volume.ml()
    }
    #[getter]
    fn final_volume_ml(&self) -> f64 {
        self.inner.final_volume.ml()
    }
    #[getter]
    fn delivered_cells(&self) -> Option<f64> {
        self.dose().map(|d| d.delivered_cells.cells())
    }
    /// Signed fraction (0.0014 is +0.14%).
    #[getter]
    fn deviation(&self) -> Option<f64> {
        self.dose().map(|d| d.deviation.value())
    }
    #[getter]
    fn final_concentration_cells_per_ml(&self) -> Option<f64> {
        self.dose().map(|d| d.final_concentration.cells_per_ml())
    }
    #[getter]
    fn containers_to_thaw(&self) -> Option<u32> {
        self.dose().map(|d| d.containers_to_thaw)
    }
    #[getter]
    fn dmso_g_per_kg(&self) -> Option<f64> {
        self.dose()
            .and_then(|d| d.dmso)
            .map(core::DmsoExposure::g_per_kg)
    }
    #[getter]
    fn infusion_duration_min(&self) -> f64 {
        self.inner.infusion_duration.as_secs_f64() / 60.0
    }
    #[getter]
    fn pump_rate_ml_per_h(&self) -> f64 {
        self.inner.pump_rate.ml_per_hour()
    }
    /// Expected net mass of the filled bag, where the site weighs bags.
    #[getter]
    fn expected_net_mass_g(&self) -> Option<f64> {
        self.inner.expected_net_mass.map(core::Grams::grams)
    }
    /// The containers drawn from, as (lot_id, container, volume_ml), when a
    /// day plan allocated them.
    #[getter]
    fn draws(&self) -> Vec<(String, u32, f64)> {
        self.inner
            .draws
            .iter()
            .map(|d| (d.lot_id.to_string(), d.container, d.volume.ml()))
            .collect()
    }
    #[getter]
    fn thawed_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_datetime(py, &self.inner.thawed_at())
    }
    /// The thaw time of the bag's session (the same as `thawed_at`).
    #[getter]
    fn thaw_session<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_datetime(py, &self.inner.thawed_at())
    }
    #[getter]
    fn prepared_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .prepared_at()
            .map(|t| py_datetime(py, &t))
            .transpose()
    }
    #[getter]
    fn infusion_at<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.inner
            .infusion_at()
            .map(|t| py_datetime(py, &t))
            .transpose()
    }
    /// Latest start of the infusion.
    #[getter]
    fn start_by<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_datetime(py, &self.inner.start_by())
    }
    /// Latest end of the infusion.
    #[getter]
    fn infuse_by<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        py_datetime(py, &self.inner.infuse_by())
    }

    /// The text of the bag's label: byte-identical for an active bag and its
    /// matched placebo.
    fn blinded_label(&self) -> PyResult<String> {
        // From the facts the bag shares with its twin, as labels_pdf prints.
        Ok(core::text_label(&self.label_facts()?))
    }

    /// One unblinded line: content, volumes, cells, rate, infuse-by time.
    fn summary(&self) -> String {
        core::summary_line(&self.inner)
    }

    /// The label as a one-page PDF at the protocol's label size (blinded:
    /// the same bytes as its placebo twin's).
    fn label_pdf<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        crate::print::labels_pdf_of(py, &[self.label_facts()?])
    }

    /// The key numbers beside the label, for a notebook (unblinded:
    /// pharmacy only, as the summary line is).
    fn _repr_html_(&self, py: Python<'_>) -> PyResult<String> {
        let numbers = core::label::key_numbers(&self.inner);
        let facts = self.label_facts()?;
        py.detach(|| {
            doseprep_print::notebook::preparation("preparation (unblinded)", &numbers, &facts)
        })
        .map_err(crate::errors::print_error)
    }

    /// The label as an HTML page for a browser to print (blinded).
    fn label_html(&self, py: Python<'_>) -> PyResult<String> {
        crate::print::labels_html_of(py, &[self.label_facts()?])
    }

    /// The label as ZPL II for the site's thermal printer (`[site]
    /// label_printer_dpi`), blinded like the PDF.
    fn label_zpl(&self, py: Python<'_>) -> PyResult<String> {
        crate::print::labels_zpl_of(py, &[self.label_facts()?])
    }

    /// The worksheet as a PDF on the site's paper (unblinded: pharmacy only).
    fn worksheet_pdf<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        crate::print::worksheets_pdf_of(py, &[self.verified_record()?])
    }

    /// The worksheet as an HTML page (unblinded: pharmacy only).
    fn worksheet_html(&self, py: Python<'_>) -> PyResult<String> {
        crate::print::worksheet_html_of(py, &self.verified_record()?)
    }

    /// The unblinded pharmacy worksheet: every step with its quantity.
    fn worksheet(&self) -> PyResult<String> {
        Ok(core::worksheet(&self.verified_record()?))
    }

    /// The verifiable record of this preparation and its inputs.
    fn record(&self) -> PyResult<PreparationRecord> {
        self.core_record().map(PreparationRecord::from)
    }

    /// The preparation as JSON (quantities named by unit, times RFC 9557).
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(crate::json_error)
    }

    /// The preparation as a dict of JSON values.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.to_json()?)
    }

    fn __hash__(&self) -> PyResult<u64> {
        Ok(crate::convert::text_hash(&self.to_json()?))
    }

    /// Pickled as its record, which holds every input.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let json = slf.get().core_record()?.to_json().py()?;
        (
            py.get_type::<PreparationRecord>()
                .getattr("_preparation_from_json")?,
            (json,),
        )
            .into_pyobject(py)
    }

    fn __repr__(&self) -> String {
        let p = &self.inner;
        let mut text = format!(
            "Preparation(content={}, participant={}, arm={}, visit={}, final_volume_ml={:?}, diluent_volume_ml={:?}",
            quoted(p.content.as_str()),
            quoted(&p.participant),
            quoted(&p.arm),
            quoted(&p.visit),
            p.final_volume.ml(),
            p.diluent_volume.ml()
        );
        if let Some(d) = &p.dose {
            text.push_str(&format!(
                ", draw_volume_ml={:?}, delivered_cells={:?}",
                d.draw_volume.ml(),
                d.delivered_cells.cells()
            ));
        }
        text.push_str(&format!(
            ", pump_rate_ml_per_h={:?})",
            p.pump_rate.ml_per_hour()
        ));
        text
    }
}

/// The outcome of weighing a filled bag.
#[pyclass(frozen, module = "doseprep")]
pub struct WeighedCheck {
    inner: core::WeighedCheck,
}

#[pymethods]
impl WeighedCheck {
    /// True when the weighed mass is within the tolerance.
    #[getter]
    fn ok(&self) -> bool {
        self.inner.ok
    }
    #[getter]
    fn weighed_g(&self) -> f64 {
        self.inner.weighed.grams()
    }
    #[getter]
    fn expected_g(&self) -> f64 {
        self.inner.expected.grams()
    }
    /// (lowest, highest) accepted mass, g.
    #[getter]
    fn accepted_range_g(&self) -> (f64, f64) {
        (self.inner.low.grams(), self.inner.high.grams())
    }
    /// (weighed − expected) ÷ expected, signed.
    #[getter]
    fn deviation(&self) -> f64 {
        self.inner.deviation.value()
    }
    #[getter]
    fn message(&self) -> &str {
        &self.inner.message
    }
    fn __bool__(&self) -> bool {
        self.inner.ok
    }
    fn __repr__(&self) -> String {
        format!(
            "WeighedCheck(ok={}, message={})",
            if self.inner.ok { "True" } else { "False" },
            quoted(&self.inner.message)
        )
    }
}

/// Compare a bag's weighed net mass (g) with what its volumes should weigh.
#[pyfunction]
#[pyo3(signature = (prep, /, *, net_mass_g))]
pub fn check_weighed(prep: &Preparation, net_mass_g: Number) -> PyResult<WeighedCheck> {
    let weighed = core::Grams::new("net_mass_g", net_mass_g.0).py()?;
    core::check_weighed(&prep.protocol, &prep.inner, weighed)
        .py()
        .map(|inner| WeighedCheck { inner })
}
