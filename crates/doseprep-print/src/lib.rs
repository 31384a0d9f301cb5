//! doseprep-print: labels and worksheets a pharmacy can print, as PDF and
//! HTML, with barcodes. The heavy dependencies (a PDF writer, barcode
//! encoders, fonts) live here, so the core stays small.
//!
//! * The label is made from [`doseprep::LabelFacts`] alone, the facts an
//!   active bag and its placebo twin share, so twins with the same bag id
//!   print the same bytes.
//! * The worksheet is made from a [`doseprep::PreparationRecord`] alone, with
//!   a Data Matrix of the record's fingerprint.
//! * Output is deterministic: the same bag gives the same bytes.

mod barcode;
mod fonts;
mod html;
mod layout;
mod pdf;

use doseprep::{ErrorParts, LabelFacts, VerifiedRecord};

pub use barcode::{
    CODE128_HEIGHT_MM, CODE128_MODULE_MM, CODE128_QUIET_MODULES, DATAMATRIX_LABEL_MODULE_MM,
    DATAMATRIX_QUIET_MODULES, DATAMATRIX_SHEET_MODULE_MM,
};

/// What can stop a print. Each names the value, the limit and the fix
/// ([`PrintError::parts`]), as the core's errors do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// A barcode could not encode its text.
    #[error("the {symbology} barcode cannot encode {text:?}: {reason}; use printable ASCII in bag ids and codes")]
    Barcode {
        /// "Code 128" or "Data Matrix".
        symbology: &'static str,
        /// The text it was given.
        text: String,
        /// The encoder's reason.
        reason: String,
    },
    /// A linear barcode is wider than the label.
    #[error(
        "label.width_mm is {width_mm} mm; the barcode of {text:?} needs {needed_mm:.1} mm \
         with its quiet zones; make the label at least {} mm wide in the protocol's [label]",
        needed_mm.ceil()
    )]
    BarcodeTooWide {
        /// What the barcode encodes.
        text: String,
        /// The label's width, mm.
        width_mm: f32,
        /// The width it needs, mm.
        needed_mm: f32,
    },
    /// The label's text does not fit at the smallest size allowed.
    #[error(
        "the label's {lines} lines do not fit {width_mm} × {height_mm} mm at {smallest_pt} pt, \
         the smallest text allowed; make the label larger (label.width_mm, label.height_mm) \
         or its texts shorter"
    )]
    TextTooLong {
        /// Lines after wrapping.
        lines: usize,
        /// The label's width, mm.
        width_mm: f32,
        /// The label's height, mm.
        height_mm: f32,
        /// The smallest font size, pt.
        smallest_pt: f32,
    },
    /// The shipped font could not be read (a build problem).
    #[error("the shipped font could not be read; reinstall doseprep, and report this as a bug if it recurs")]
    Font,
    /// The PDF writer failed.
    #[error("the PDF could not be written: {0}; report this as a bug in doseprep")]
    Pdf(String),
    /// The record could not be fingerprinted.
    #[error("the record could not be fingerprinted: {0}; report this as a bug in doseprep")]
    Record(String),
}

impl PrintError {
    /// A fault of the program or its installation (the shipped font, the
    /// PDF writer, a record that cannot be fingerprinted), as opposed to a
    /// label the protocol's settings cannot fit.
    pub fn is_fault(&self) -> bool {
        matches!(
            self,
            PrintError::Font | PrintError::Pdf(_) | PrintError::Record(_)
        )
    }

    /// The field, value, limit and fix of the error, for a script to read.
    pub fn parts(&self) -> ErrorParts {
        let (field, value, limit, fix) = match self {
            PrintError::Barcode {
                symbology, text, ..
            } => (
                Some("barcode".to_owned()),
                Some(text.clone()),
                Some(format!("{symbology} encodes printable ASCII")),
                "use printable ASCII in bag ids and codes".to_owned(),
            ),
            PrintError::BarcodeTooWide {
                width_mm,
                needed_mm,
                ..
            } => (
                Some("label.width_mm".to_owned()),
                Some(format!("{width_mm} mm")),
                Some(format!("at least {needed_mm:.1} mm")),
                format!(
                    "make the label at least {} mm wide in the protocol's [label]",
                    needed_mm.ceil()
                ),
            ),
            PrintError::TextTooLong {
                width_mm,
                height_mm,
                smallest_pt,
                ..
            } => (
                Some("label".to_owned()),
                Some(format!("{width_mm} × {height_mm} mm")),
                Some(format!("text no smaller than {smallest_pt} pt")),
                "make the label larger (label.width_mm, label.height_mm) or its texts shorter"
                    .to_owned(),
            ),
            PrintError::Font => (
                None,
                None,
                None,
                "reinstall doseprep, and report this as a bug if it recurs".to_owned(),
            ),
            PrintError::Pdf(_) | PrintError::Record(_) => (
                None,
                None,
                None,
                "report this as a bug in doseprep".to_owned(),
            ),
        };
        ErrorParts {
            field,
            value,
            limit,
            fix,
        }
    }
}

/// A PDF of bag labels, one page each, at the label size of each.
pub fn labels_pdf(labels: &[LabelFacts]) -> Result<Vec<u8>, PrintError> {
    let pages = labels
        .iter()
        .map(layout::label)
        .collect::<Result<Vec<_>, _>>()?;
    pdf::render(&pages, "Bag labels")
}

/// The HTML of bag labels, one printed page each.
pub fn labels_html(labels: &[LabelFacts]) -> Result<String, PrintError> {
    let pages = labels
        .iter()
        .map(layout::label)
        .collect::<Result<Vec<_>, _>>()?;
    // The page's language is the protocol's first label language.
    let language = labels
        .first()
        .and_then(|label| label.languages.first())
        .map_or("en", String::as_str);
    Ok(html::render(&pages, "Bag labels", language))
}

fn worksheet_pages(record: &VerifiedRecord) -> Result<Vec<layout::Page>, PrintError> {
    let fingerprint = record
        .fingerprint()
        .map_err(|e| PrintError::Record(e.to_string()))?;
    let bag_id = record.preparation.bag_id.map(|id| id.as_text());
    layout::worksheet(
        &doseprep::label::worksheet_sections(record),
        &fingerprint,
        bag_id.as_deref(),
    )
}

/// A PDF of worksheets, each on A4 pages of its own.
pub fn worksheets_pdf(records: &[VerifiedRecord]) -> Result<Vec<u8>, PrintError> {
    let mut pages = Vec::new();
    for record in records {
        pages.extend(worksheet_pages(record)?);
    }
    pdf::render(&pages, "Preparation worksheets (unblinded)")
}

/// The HTML of a worksheet.
pub fn worksheet_html(record: &VerifiedRecord) -> Result<String, PrintError> {
    Ok(html::render(
        &worksheet_pages(record)?,
        "Preparation worksheet (unblinded)",
        "en",
    ))
}
