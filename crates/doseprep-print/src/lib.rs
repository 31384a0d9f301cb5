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
pub mod notebook;
mod pdf;
mod zpl;

use doseprep::{ErrorParts, LabelFacts, VerifiedRecord};

pub use barcode::{
    BAR_WIDTH_REDUCTION_MM, CODE128_HEIGHT_MM, CODE128_MODULE_MM, CODE128_QUIET_MODULES,
    DATAMATRIX_LABEL_MODULE_MM, DATAMATRIX_QUIET_MODULES, DATAMATRIX_SHEET_MODULE_MM, DOT_GRID_MM,
};

/// What can stop a print. Each names the value, the limit and the fix
/// ([`PrintError::parts`]), as the core's errors do; the message and the
/// parts are rendered from one match ([`PrintError::facts`]).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum PrintError {
    /// A barcode could not encode its text.
    Barcode {
        /// "Code 128" or "Data Matrix".
        symbology: &'static str,
        /// The text it was given.
        text: String,
        /// The encoder's reason.
        reason: String,
    },
    /// A linear barcode is wider than the label.
    BarcodeTooWide {
        /// What the barcode encodes.
        text: String,
        /// The label's width, mm.
        width_mm: f32,
        /// The width it needs, mm.
        needed_mm: f32,
    },
    /// The label's text does not fit at the smallest size allowed.
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
    /// A ZPL label was asked of a site that names no label printer.
    NoPrinterResolution,
    /// A label line holds a control character, which a label printer
    /// would act on rather than print.
    ControlCharacter {
        /// The line.
        text: String,
        /// The character's code point.
        code_point: u32,
    },
    /// The shipped font could not be read (a build problem).
    Font,
    /// The PDF writer failed.
    Pdf(String),
    /// The record could not be fingerprinted.
    Record(String),
}

/// One error's facts, written once: what happened, the input and its
/// value, the limit it broke, and the fix.
struct Facts {
    what: String,
    field: Option<String>,
    value: Option<String>,
    limit: Option<String>,
    fix: String,
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

    fn facts(&self) -> Facts {
        let fault = |what: String, fix: &str| Facts {
            what,
            field: None,
            value: None,
            limit: None,
            fix: fix.to_owned(),
        };
        match self {
            PrintError::Barcode {
                symbology,
                text,
                reason,
            } => Facts {
                what: format!("the {symbology} barcode cannot encode {text:?}: {reason}"),
                field: Some("barcode".to_owned()),
                value: Some(text.clone()),
                limit: Some(format!("{symbology} encodes printable ASCII")),
                fix: "use printable ASCII in bag ids and codes".to_owned(),
            },
            PrintError::BarcodeTooWide {
                text,
                width_mm,
                needed_mm,
            } => Facts {
                what: format!(
                    "label.width_mm is {width_mm} mm; the barcode of {text:?} needs {needed_mm:.1} mm with its quiet zones"
                ),
                field: Some("label.width_mm".to_owned()),
                value: Some(format!("{width_mm} mm")),
                limit: Some(format!("at least {needed_mm:.1} mm")),
                fix: format!(
                    "make the label at least {} mm wide in the site file's [label]",
                    needed_mm.ceil()
                ),
            },
            PrintError::TextTooLong {
                lines,
                width_mm,
                height_mm,
                smallest_pt,
            } => Facts {
                what: format!(
                    "the label's {lines} lines do not fit {width_mm} × {height_mm} mm at {smallest_pt} pt, the smallest text allowed"
                ),
                field: Some("label".to_owned()),
                value: Some(format!("{width_mm} × {height_mm} mm")),
                limit: Some(format!("text no smaller than {smallest_pt} pt")),
                fix: "make the label larger (label.width_mm, label.height_mm) or its texts shorter"
                    .to_owned(),
            },
            PrintError::NoPrinterResolution => Facts {
                what: "site.label_printer_dpi is not set: a ZPL label is drawn in the printer's dots".to_owned(),
                field: Some("site.label_printer_dpi".to_owned()),
                value: Some("(unset)".to_owned()),
                limit: Some("203 or 300".to_owned()),
                fix: "set label_printer_dpi = 203 or 300 in the site file's [site], as the printer's nameplate says".to_owned(),
            },
            PrintError::ControlCharacter { text, code_point } => Facts {
                what: format!(
                    "the label line {text:?} holds the control character U+{code_point:04X}, which a label printer would act on"
                ),
                field: Some("label".to_owned()),
                value: Some(text.clone()),
                limit: Some("printable characters only".to_owned()),
                fix: "remove the control character from the protocol, site file or order text it came from".to_owned(),
            },
            PrintError::Font => fault(
                "the shipped font could not be read".to_owned(),
                "reinstall doseprep, and report this as a bug if it recurs",
            ),
            PrintError::Pdf(detail) => fault(
                format!("the PDF could not be written: {detail}"),
                "report this as a bug in doseprep",
            ),
            PrintError::Record(detail) => fault(
                format!("the record could not be fingerprinted: {detail}"),
                "report this as a bug in doseprep",
            ),
        }
    }

    /// The field, value, limit and fix of the error, for a script to read.
    pub fn parts(&self) -> ErrorParts {
        let Facts {
            field,
            value,
            limit,
            fix,
            ..
        } = self.facts();
        ErrorParts {
            field,
            value,
            limit,
            fix,
        }
    }
}

impl std::fmt::Display for PrintError {
    /// "what; fix", both from [`PrintError::facts`].
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let facts = self.facts();
        write!(f, "{}; {}", facts.what, facts.fix)
    }
}

impl std::error::Error for PrintError {}

/// The labels as ZPL II for a thermal printer, one `^XA`...`^XZ` label
/// per bag, at the resolution of the site's printer (`[site]
/// label_printer_dpi`): the PDF's layout in whole dots, the printer's own
/// Code 128 and Data Matrix of the same payloads, text as UTF-8. Built from
/// [`LabelFacts`] alone, so twins give the same bytes.
pub fn labels_zpl(labels: &[LabelFacts]) -> Result<String, PrintError> {
    zpl::labels(labels)
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
        .map_or("en", |label| label.languages.first().code()); // fallback-ok: an empty page list has no label to take a language from
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

/// A PDF of worksheets, each on pages of its own, of the paper the site names (A4 or Letter).
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
        // The worksheet is in the site's first label language.
        record.protocol.label_languages().first().code(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_ends_with_the_fix_its_parts_give() {
        let errors = [
            PrintError::Barcode {
                symbology: "Code 128",
                text: "é".to_owned(),
                reason: "not ASCII".to_owned(),
            },
            PrintError::BarcodeTooWide {
                text: "014D2PF2DBR".to_owned(),
                width_mm: 30.0,
                needed_mm: 41.2,
            },
            PrintError::TextTooLong {
                lines: 19,
                width_mm: 50.0,
                height_mm: 30.0,
                smallest_pt: 6.0,
            },
            PrintError::NoPrinterResolution,
            PrintError::Font,
            PrintError::Pdf("x".to_owned()),
            PrintError::Record("y".to_owned()),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.ends_with(&error.parts().fix), "{message}");
        }
        let wide = PrintError::BarcodeTooWide {
            text: "014D2PF2DBR".to_owned(),
            width_mm: 30.0,
            needed_mm: 41.2,
        };
        assert_eq!(
            wide.to_string(),
            "label.width_mm is 30 mm; the barcode of \"014D2PF2DBR\" needs 41.2 mm with its quiet zones; make the label at least 42 mm wide in the site file's [label]"
        );
    }
}
