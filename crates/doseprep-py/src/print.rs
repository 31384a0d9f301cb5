//! Labels and worksheets as PDF and HTML: conversion of the bags to the
//! printer's inputs, and of its errors. The layout is `doseprep-print`'s.

use doseprep as core;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::print_error;
use crate::preparation::Preparation;

fn label_facts(bags: &[PyRef<'_, Preparation>]) -> Vec<core::LabelFacts> {
    bags.iter()
        .map(|bag| core::LabelFacts::new(&bag.protocol, &bag.inner))
        .collect()
}

fn records(bags: &[PyRef<'_, Preparation>]) -> PyResult<Vec<core::PreparationRecord>> {
    bags.iter().map(|bag| bag.core_record()).collect()
}

/// The labels of `bags` as one PDF, a page per bag at the protocol's label
/// size. Blinded: it prints only what a bag and its placebo twin share.
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn labels_pdf<'py>(
    py: Python<'py>,
    bags: Vec<PyRef<'py, Preparation>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let facts = label_facts(&bags);
    let pdf = py
        .detach(|| doseprep_print::labels_pdf(&facts))
        .map_err(print_error)?;
    Ok(PyBytes::new(py, &pdf))
}

/// The worksheets of `bags` as one PDF (unblinded: pharmacy only).
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn worksheets_pdf<'py>(
    py: Python<'py>,
    bags: Vec<PyRef<'py, Preparation>>,
) -> PyResult<Bound<'py, PyBytes>> {
    let records = records(&bags)?;
    let pdf = py
        .detach(|| doseprep_print::worksheets_pdf(&records))
        .map_err(print_error)?;
    Ok(PyBytes::new(py, &pdf))
}

/// The labels of `bags` as one HTML document, for a browser to print.
#[pyfunction]
#[pyo3(signature = (bags, /))]
pub fn labels_html(py: Python<'_>, bags: Vec<PyRef<'_, Preparation>>) -> PyResult<String> {
    let facts = label_facts(&bags);
    py.detach(|| doseprep_print::labels_html(&facts))
        .map_err(print_error)
}

/// The worksheet of one bag as an HTML document (unblinded).
#[pyfunction]
#[pyo3(signature = (bag, /))]
pub fn worksheet_html(py: Python<'_>, bag: PyRef<'_, Preparation>) -> PyResult<String> {
    let record = bag.core_record()?;
    py.detach(|| doseprep_print::worksheet_html(&record))
        .map_err(print_error)
}
