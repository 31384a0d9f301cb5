//! Where everything goes on a label and a worksheet, in millimetres, shared
//! by the PDF and the HTML so the two print the same thing.

use doseprep::label::isbt128::Isbt128Codes;
use doseprep::label::Emphasis;
use doseprep::LabelFacts;

use crate::barcode::{
    code128, datamatrix, Linear, Matrix, CODE128_HEIGHT_MM, CODE128_MODULE_MM,
    CODE128_QUIET_MODULES, DATAMATRIX_LABEL_MODULE_MM, DATAMATRIX_QUIET_MODULES,
    DATAMATRIX_SHEET_MODULE_MM, DOT_GRID_MM,
};
use crate::fonts::{Metrics, BOLD, REGULAR};
use crate::PrintError;

/// Points per millimetre.
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;
/// The label's margin, mm.
const MARGIN_MM: f32 = 3.0;
/// Space between parts, mm.
const GAP_MM: f32 = 1.5;
/// Line height as a multiple of the font size.
pub(crate) const LINE_HEIGHT: f32 = 1.2;
/// Largest and smallest text on a label, pt.
const LARGEST_PT: f32 = 8.0;
const SMALLEST_PT: f32 = 4.5;
/// What the nurse reads first (participant, bag id, infuse by) is set bold
/// and this much larger than the body text.
const READ_FIRST_SCALE: f32 = 1.25;

/// A line of text placed on the page.
pub(crate) struct PlacedLine {
    pub text: String,
    pub bold: bool,
    /// Font size, pt.
    pub size_pt: f32,
    /// Left edge, mm.
    pub x_mm: f32,
    /// The width the line was wrapped to, mm: text past it would run into
    /// a barcode or the margin.
    pub width_mm: f32,
    /// Baseline, mm from the top.
    pub baseline_mm: f32,
}

/// A barcode placed on the page: its top-left corner and module size, mm.
pub(crate) struct PlacedLinear {
    pub code: Linear,
    pub x_mm: f32,
    pub y_mm: f32,
    pub module_mm: f32,
    pub height_mm: f32,
    /// What it encodes (for alt text and tests).
    pub text: String,
}

/// A Data Matrix placed on the page, its quiet zone included in `x`/`y`.
pub(crate) struct PlacedMatrix {
    pub code: Matrix,
    pub x_mm: f32,
    pub y_mm: f32,
    pub module_mm: f32,
    pub text: String,
}

/// A page: its size, lines, barcodes.
pub(crate) struct Page {
    pub width_mm: f32,
    pub height_mm: f32,
    pub lines: Vec<PlacedLine>,
    pub linear: Vec<PlacedLinear>,
    pub matrices: Vec<PlacedMatrix>,
}

/// The grid line at or before `mm`, so a barcode's edges fall on whole
/// printer dots (see [`DOT_GRID_MM`]).
fn on_grid(mm: f32) -> f32 {
    (mm / DOT_GRID_MM).floor() * DOT_GRID_MM
}

fn metrics(data: &[u8]) -> Result<Metrics<'_>, PrintError> {
    Metrics::new(data).ok_or(PrintError::Font)
}

/// The label of a bag: text on the left at the largest size that fits, a
/// Data Matrix of the bag id top right, Code 128 of the bag id (and of the
/// ISBT 128 DIN, where there is one) at the bottom.
pub(crate) fn label(facts: &LabelFacts) -> Result<Page, PrintError> {
    let (width_mm, height_mm) = (facts.size_mm.0 as f32, facts.size_mm.1 as f32);
    let regular = metrics(REGULAR)?;
    let bold = metrics(BOLD)?;
    let mut matrices = Vec::new();
    let mut linear = Vec::new();
    // Barcodes sit on the dot grid, whatever the label's size.
    let mut bottom_mm = on_grid(height_mm - MARGIN_MM);
    let mut codes: Vec<String> = Vec::new();
    if let Some(codes128) = facts
        .isbt128
        .as_ref()
        .map(|c: &Isbt128Codes| c.din_data.clone())
    {
        codes.push(codes128);
    }
    if let Some(bag_id) = facts.bag_id {
        codes.push(bag_id.as_text());
    }
    // Linear codes stack up from the bottom; the bag id's is the lowest.
    for text in codes.iter().rev() {
        let code = code128(text)?;
        let y_mm = bottom_mm - CODE128_HEIGHT_MM;
        linear.push(PlacedLinear {
            x_mm: MARGIN_MM,
            y_mm,
            module_mm: CODE128_MODULE_MM,
            height_mm: CODE128_HEIGHT_MM,
            code,
            text: text.clone(),
        });
        bottom_mm = y_mm - GAP_MM;
    }
    let mut text_right_mm = width_mm - MARGIN_MM;
    if let Some(bag_id) = facts.bag_id {
        let code = datamatrix(&bag_id.as_text())?;
        let side_mm =
            (code.size + 2 * DATAMATRIX_QUIET_MODULES) as f32 * DATAMATRIX_LABEL_MODULE_MM;
        let x_mm = on_grid(width_mm - MARGIN_MM - side_mm);
        matrices.push(PlacedMatrix {
            code,
            x_mm,
            y_mm: MARGIN_MM,
            module_mm: DATAMATRIX_LABEL_MODULE_MM,
            text: bag_id.as_text(),
        });
        text_right_mm = x_mm - GAP_MM;
    }
    // The quiet zone of the linear codes is part of their space: text may
    // not run into it, and the codes must fit across from the margin.
    for code in &linear {
        let needed = MARGIN_MM
            + (code.code.modules.len() + 2 * CODE128_QUIET_MODULES) as f32 * code.module_mm;
        if needed > width_mm {
            return Err(PrintError::BarcodeTooWide {
                text: code.text.clone(),
                width_mm,
                needed_mm: needed,
            });
        }
    }
    let text_width_pt = (text_right_mm - MARGIN_MM) * PT_PER_MM * 0.97;
    let text_height_mm = bottom_mm - MARGIN_MM;
    let source = facts.lines();
    let mut size = LARGEST_PT;
    loop {
        // (text, bold, size) of every wrapped line at this body size.
        let wrapped: Vec<(String, bool, f32)> = source
            .iter()
            .flat_map(|line| {
                let (face, bold, line_pt) = match line.emphasis {
                    Emphasis::ReadFirst => (&bold, true, size * READ_FIRST_SCALE),
                    Emphasis::Body => (&regular, false, size),
                };
                face.wrap(&line.text, line_pt, text_width_pt)
                    .into_iter()
                    .map(move |l| (l, bold, line_pt))
            })
            .collect();
        let height: f32 = wrapped
            .iter()
            .map(|(_, _, line_pt)| line_pt * LINE_HEIGHT / PT_PER_MM)
            .sum();
        if height <= text_height_mm || size <= SMALLEST_PT {
            if height > text_height_mm {
                return Err(PrintError::TextTooLong {
                    lines: wrapped.len(),
                    width_mm,
                    height_mm,
                    smallest_pt: SMALLEST_PT,
                });
            }
            let mut top_mm = MARGIN_MM;
            let lines = wrapped
                .into_iter()
                .map(|(text, bold, line_pt)| {
                    let line_mm = line_pt * LINE_HEIGHT / PT_PER_MM;
                    let placed = PlacedLine {
                        text,
                        bold,
                        size_pt: line_pt,
                        x_mm: MARGIN_MM,
                        width_mm: text_right_mm - MARGIN_MM,
                        baseline_mm: top_mm + line_pt / PT_PER_MM,
                    };
                    top_mm += line_mm;
                    placed
                })
                .collect();
            return Ok(Page {
                width_mm,
                height_mm,
                lines,
                linear,
                matrices,
            });
        }
        size -= 0.25;
    }
}

const SHEET_MARGIN_MM: f32 = 15.0;
const SHEET_PT: f32 = 9.0;

/// The pages of a worksheet: a Data Matrix of the record's fingerprint and
/// Code 128 of the bag id at the top of the first page, then the text,
/// wrapped and broken across pages.
pub(crate) fn worksheet(
    sheet: &doseprep::label::Worksheet,
    fingerprint: &str,
    bag_id: Option<&str>,
) -> Result<Vec<Page>, PrintError> {
    let regular = metrics(REGULAR)?;
    let (width_mm, height_mm) = sheet.paper.size_mm();
    let (width_mm, height_mm) = (width_mm as f32, height_mm as f32);
    let code = datamatrix(fingerprint)?;
    let side_mm = (code.size + 2 * DATAMATRIX_QUIET_MODULES) as f32 * DATAMATRIX_SHEET_MODULE_MM;
    let mut first_top_mm = SHEET_MARGIN_MM + side_mm + GAP_MM;
    let matrices = vec![PlacedMatrix {
        code,
        x_mm: on_grid(width_mm - SHEET_MARGIN_MM - side_mm),
        y_mm: SHEET_MARGIN_MM,
        module_mm: DATAMATRIX_SHEET_MODULE_MM,
        text: fingerprint.to_owned(),
    }];
    let mut linear = Vec::new();
    if let Some(bag_id) = bag_id {
        linear.push(PlacedLinear {
            code: code128(bag_id)?,
            x_mm: SHEET_MARGIN_MM,
            y_mm: SHEET_MARGIN_MM,
            module_mm: CODE128_MODULE_MM,
            height_mm: CODE128_HEIGHT_MM,
            text: bag_id.to_owned(),
        });
        first_top_mm = first_top_mm.max(SHEET_MARGIN_MM + CODE128_HEIGHT_MM + GAP_MM);
    }
    let width_pt = (width_mm - 2.0 * SHEET_MARGIN_MM) * PT_PER_MM * 0.97;
    // The worksheet's own structure: its title set bold, every other line
    // as the core wrote it.
    // The "UNBLINDED" title first, then the fingerprint the Data Matrix holds.
    let mut all = vec![
        (sheet.title.clone(), true),
        (sheet.fingerprint_line(fingerprint), false),
    ];
    all.extend(sheet.header.iter().map(|line| (line.clone(), false)));
    all.push((String::new(), false));
    for step in &sheet.steps {
        all.push((step.heading.clone(), false));
        all.extend(step.lines.iter().map(|line| (line.clone(), false)));
    }
    all.push((String::new(), false));
    all.push((sheet.sign_off.clone(), false));
    let wrapped: Vec<(String, bool)> = all
        .iter()
        .flat_map(|(line, bold)| {
            let bold = *bold;
            // Keep the worksheet's indentation, and hang wrapped lines under
            // the text they continue.
            let indent: String = line.chars().take_while(|c| *c == ' ').collect();
            let hanging = format!("{indent}   ");
            let room = width_pt - regular.width(&hanging, SHEET_PT);
            regular
                .wrap(line.trim_start(), SHEET_PT, room)
                .into_iter()
                .enumerate()
                .map(move |(i, l)| {
                    let lead = if i == 0 { &indent } else { &hanging };
                    (format!("{lead}{l}"), bold)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let line_mm = SHEET_PT * LINE_HEIGHT / PT_PER_MM;
    let mut pages = Vec::new();
    let mut page = Page {
        width_mm,
        height_mm,
        lines: Vec::new(),
        linear,
        matrices,
    };
    let mut y_mm = first_top_mm;
    for (line, bold) in wrapped {
        if y_mm + line_mm > height_mm - SHEET_MARGIN_MM {
            pages.push(page);
            page = Page {
                width_mm,
                height_mm,
                lines: Vec::new(),
                linear: Vec::new(),
                matrices: Vec::new(),
            };
            y_mm = SHEET_MARGIN_MM;
        }
        page.lines.push(PlacedLine {
            text: line,
            bold,
            size_pt: SHEET_PT,
            x_mm: SHEET_MARGIN_MM,
            width_mm: width_mm - 2.0 * SHEET_MARGIN_MM,
            baseline_mm: y_mm + SHEET_PT / PT_PER_MM,
        });
        y_mm += line_mm;
    }
    pages.push(page);
    Ok(pages)
}
