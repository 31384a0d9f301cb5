//! Labels and worksheets as PDF and HTML: conversion of the bags to the
//! printer's inputs, and of its errors. The layout is `doseprep-print`'s.

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::print_error;
use crate::preparation::Preparation;

/// The labels of `facts` as PDF bytes, made without the GIL.
pub fn labels_pdf_of<'py>(
    py: Python<'py>,
    facts: &[core::LabelFacts],
) -> PyResult<Bound<'py, PyBytes>> {
    let pdf = py
        .detach(|| doseprep_print::labels_pdf(facts))
        .map_err(print_error)?;
    Ok(PyBytes::new(py, &pdf))
}

/// The labels of `facts` as HTML.
pub fn labels_html_of(py: Python<'_>, facts: &[core::LabelFacts]) -> PyResult<String> {
    py.detach(|| doseprep_print::labels_html(facts))
        .map_err(print_error)
}

/// The labels of `facts` as ZPL II.
pub fn labels_zpl_of(py: Python<'_>, facts: &[core::LabelFacts]) -> PyResult<String> {
    py.detach(|| doseprep_print::labels_zpl(facts))
        .map_err(print_error)
}

/// The worksheets of `records` as PDF bytes.
pub fn worksheets_pdf_of<'py>(
    py: Python<'py>,
    records: &[core::VerifiedRecord],
) -> PyResult<Bound<'py, PyBytes>> {
    let pdf = py
        .detach(|| doseprep_print::worksheets_pdf(records))
        .map_err(print_error)?;
    Ok(PyBytes::new(py, &pdf))
}

/// The worksheet of `record` as HTML.
pub fn worksheet_html_of(py: Python<'_>, record: &core::VerifiedRecord) -> PyResult<String> {
    py.detach(|| doseprep_print::worksheet_html(record))
        .map_err(print_error)
}

fn label_facts(bags: &[PyRef<'_, Preparation>]) -> PyResult<Vec<core::LabelFacts>> {
    bags.iter().map(|bag| bag.label_facts()).collect()
}

/// The labels of `bags` as one PDF, a page per bag at the protocol's label
/// size. Blinded: it prints only what a bag and its placebo twin share.
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn labels_pdf<'py>(
    py: Python<'py>,
    bags: Vec<PyRef<'py, Preparation>>,
) -> PyResult<Bound<'py, PyBytes>> {
    labels_pdf_of(py, &label_facts(&bags)?)
}

/// The worksheets of `bags` as one PDF (unblinded: pharmacy only).
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn worksheets_pdf<'py>(
    py: Python<'py>,
    bags: Vec<PyRef<'py, Preparation>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let records = bags
        .iter()
        .map(|bag| bag.verified_record())
        .collect::<PyResult<Vec<_>>>()?;
    worksheets_pdf_of(py, &records)
}

/// The labels of `bags` as one HTML document, for a browser to print.
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn labels_html(py: Python<'_>, bags: Vec<PyRef<'_, Preparation>>) -> PyResult<String> {
    labels_html_of(py, &label_facts(&bags)?)
}

/// The labels of `bags` as ZPL II for the site's thermal printer, one label
/// per bag (blinded).
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn labels_zpl(py: Python<'_>, bags: Vec<PyRef<'_, Preparation>>) -> PyResult<String> {
    labels_zpl_of(py, &label_facts(&bags)?)
}

/// The worksheet of one bag as an HTML document (unblinded).
#[pyfunction]
#[pyo3(signature = (bag, /))]
pub fn worksheet_html(py: Python<'_>, bag: PyRef<'_, Preparation>) -> PyResult<String> {
    worksheet_html_of(py, &bag.verified_record()?)
}
