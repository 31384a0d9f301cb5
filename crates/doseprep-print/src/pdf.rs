//! Pages to PDF with krilla: fonts subset and embedded, no creation date,
//! no random ids (krilla derives the document id from the content), so the
//! same pages give the same bytes.

use krilla::geom::{PathBuilder, Point, Rect};
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule};
use krilla::text::{Font, TextDirection};
use krilla::{Document, SerializeSettings};

use crate::fonts::{BOLD, REGULAR};
use crate::layout::{Page, PT_PER_MM};
use crate::PrintError;

/// A PDF of `pages`, one PDF page each.
pub(crate) fn render(pages: &[Page], title: &str) -> Result<Vec<u8>, PrintError> {
    let settings = SerializeSettings {
        // No XMP packet: it would carry a document id and dates.
        xmp_metadata: false,
        ..SerializeSettings::default()
    };
    let mut document = Document::new_with(settings);
    document.set_metadata(krilla::metadata::Metadata::new().title(title.to_owned()));
    let regular = Font::new(REGULAR.into(), 0).ok_or(PrintError::Font)?;
    let bold = Font::new(BOLD.into(), 0).ok_or(PrintError::Font)?;
    for page in pages {
        let size = PageSettings::from_wh(page.width_mm * PT_PER_MM, page.height_mm * PT_PER_MM)
            .ok_or_else(|| {
                PrintError::Pdf(format!(
                    "a page of {} × {} mm",
                    page.width_mm, page.height_mm
                ))
            })?;
        let mut pdf_page = document.start_page_with(size);
        let mut surface = pdf_page.surface();
        // Non-zero: the barcode path's overlapping rectangles fill as one
        // area (even-odd would punch holes where they overlap).
        surface.set_fill(Some(Fill {
            rule: FillRule::NonZero,
            ..Fill::default()
        }));
        for line in &page.lines {
            let font = if line.bold {
                bold.clone()
            } else {
                regular.clone()
            };
            surface.draw_text(
                Point::from_xy(line.x_mm * PT_PER_MM, line.baseline_mm * PT_PER_MM),
                font,
                line.size_pt,
                &line.text,
                false,
                TextDirection::Auto,
            );
        }
        let mut bars = PathBuilder::new();
        let reduction_mm = crate::barcode::BAR_WIDTH_REDUCTION_MM;
        for code in &page.linear {
            let x0 = code.x_mm + crate::barcode::CODE128_QUIET_MODULES as f32 * code.module_mm;
            for (x, _, width, _) in code.code.bars(reduction_mm / code.module_mm) {
                push(
                    &mut bars,
                    x0 + x * code.module_mm,
                    code.y_mm,
                    width * code.module_mm,
                    code.height_mm,
                );
            }
        }
        for code in &page.matrices {
            let origin = crate::barcode::DATAMATRIX_QUIET_MODULES as f32 * code.module_mm;
            for (x, y, width, height) in code.code.modules(reduction_mm / code.module_mm) {
                push(
                    &mut bars,
                    code.x_mm + origin + x * code.module_mm,
                    code.y_mm + origin + y * code.module_mm,
                    width * code.module_mm,
                    height * code.module_mm,
                );
            }
        }
        if let Some(path) = bars.finish() {
            surface.draw_path(&path);
        }
        surface.finish();
        pdf_page.finish();
    }
    document
        .finish()
        .map_err(|e| PrintError::Pdf(format!("{e:?}")))
}

/// One bar or module as a rectangle, in mm.
fn push(path: &mut PathBuilder, x_mm: f32, y_mm: f32, width_mm: f32, height_mm: f32) {
    if let Some(rect) = Rect::from_xywh(
        x_mm * PT_PER_MM,
        y_mm * PT_PER_MM,
        width_mm * PT_PER_MM,
        height_mm * PT_PER_MM,
    ) {
        path.push_rect(rect);
    }
}
