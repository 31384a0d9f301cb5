//! Barcodes as modules, ready to draw as rectangles in a PDF or an SVG:
//! Code 128 (set B) with `barcoders`, Data Matrix ECC 200 with `datamatrix`.
//!
//! Sizes are whole printer dots at both resolutions of pharmacy label
//! printers, 8 dots/mm (203 dpi) and 12 dots/mm (300 dpi): every size is a
//! multiple of 0.25 mm, which is 2 dots at one and 3 at the other, so one
//! geometry serves both and no bar is rounded thinner than its neighbour.
//! * Code 128: X-dimension 0.25 mm (ISBT 128's nominal, ST-002 §6.1.3),
//!   bars 7 mm high, a quiet zone of 10 modules (2.5 mm) each side.
//! * Data Matrix: modules of 0.5 mm (4 or 6 dots), a quiet zone of 2
//!   modules all round (ISO/IEC 16022 asks for one).
//! * Print gain: a thermal head, and a renderer that paints every dot a bar
//!   touches, print dark areas wider than drawn. Each bar is drawn
//!   [`BAR_WIDTH_REDUCTION_MM`] narrower, keeping the module pitch, so its
//!   edges fall a quarter dot (at 8 dots/mm) inside the dot grid rather
//!   than on it. Measured with zxing-cpp, zbar and libdmtx on poppler and
//!   MuPDF renderings at 8 and 12 dots/mm, with and without one dot of
//!   added gain (python/tests/test_scanners.py).

use datamatrix::{DataMatrix, SymbolList};

use crate::PrintError;

/// The grid every barcode size and position is a multiple of, mm: whole
/// dots at 8 and at 12 dots/mm.
pub const DOT_GRID_MM: f32 = 0.25;
/// Code 128 X-dimension in mm.
pub const CODE128_MODULE_MM: f32 = 0.25;
/// Code 128 bar height in mm.
pub const CODE128_HEIGHT_MM: f32 = 7.0;
/// Code 128 quiet zone, in modules, each side.
pub const CODE128_QUIET_MODULES: usize = 10;
/// Data Matrix module on a label, mm.
pub const DATAMATRIX_LABEL_MODULE_MM: f32 = 0.5;
/// Data Matrix module on a worksheet, mm.
pub const DATAMATRIX_SHEET_MODULE_MM: f32 = 0.5;
/// Data Matrix quiet zone, in modules, all round.
pub const DATAMATRIX_QUIET_MODULES: usize = 2;
/// How much narrower each dark bar is drawn than its modules, mm (half at
/// each edge): 1/16 mm, a quarter dot per edge at 8 dots/mm and 3/8 dot
/// at 12. A whole dot would make 2-dot bars 1 dot wide.
pub const BAR_WIDTH_REDUCTION_MM: f32 = 0.0625;

/// A rectangle in modules, from the symbol's top-left corner (quiet zone
/// excluded): x, y, width, height.
pub type ModuleRect = (f32, f32, f32, f32);

/// A linear barcode: one entry per module, `true` for a bar.
pub struct Linear {
    /// The modules, quiet zones excluded.
    pub modules: Vec<bool>,
}

/// A two-dimensional barcode: its dark modules on a square grid.
pub struct Matrix {
    /// Modules across (and down).
    pub size: usize,
    /// Dark modules as (column, row), top left origin.
    pub dark: Vec<(usize, usize)>,
}

impl Linear {
    /// Each bar (a run of dark modules) as a rectangle one module high,
    /// `reduction` modules narrower than its run, centred on it.
    pub fn bars(&self, reduction: f32) -> Vec<ModuleRect> {
        let mut bars = Vec::new();
        let mut start = None;
        for (index, dark) in self
            .modules
            .iter()
            .chain(std::iter::once(&false))
            .enumerate()
        {
            match (*dark, start) {
                (true, None) => start = Some(index),
                (false, Some(from)) => {
                    let run = (index - from) as f32;
                    bars.push((from as f32 + reduction / 2.0, 0.0, run - reduction, 1.0));
                    start = None;
                }
                _ => {}
            }
        }
        bars
    }
}

impl Matrix {
    fn is_dark(&self, column: isize, row: isize) -> bool {
        column >= 0
            && row >= 0
            && self
                .dark
                .contains(&(column.unsigned_abs(), row.unsigned_abs()))
    }

    /// The part of module (`column`, `row`) a dark module covers: its cell,
    /// pulled in by `pull` at each side that meets a light module (or the
    /// quiet zone), as (left, top, right, bottom).
    fn extent(&self, column: isize, row: isize, pull: f32) -> (f32, f32, f32, f32) {
        let inset = |dark: bool| if dark { 0.0 } else { pull };
        (
            column as f32 + inset(self.is_dark(column - 1, row)),
            row as f32 + inset(self.is_dark(column, row - 1)),
            (column + 1) as f32 - inset(self.is_dark(column + 1, row)),
            (row + 1) as f32 - inset(self.is_dark(column, row + 1)),
        )
    }

    /// The dark modules as rectangles, to be filled as one path: each
    /// module's cell pulled in by half the `reduction` where it meets a
    /// light module; where two dark modules meet, a strip across their
    /// common edge, inside both cells, so no renderer paints a hairline
    /// seam between them. Nothing reaches into a light module, at inside
    /// corners included.
    pub fn modules(&self, reduction: f32) -> Vec<ModuleRect> {
        let pull = reduction / 2.0;
        let rect = |(left, top, right, bottom): (f32, f32, f32, f32)| {
            (left, top, right - left, bottom - top)
        };
        let mut rects = Vec::with_capacity(self.dark.len() * 2);
        for &(column, row) in &self.dark {
            let (c, r) = (column as isize, row as isize);
            let own = self.extent(c, r, pull);
            rects.push(rect(own));
            if self.is_dark(c + 1, r) {
                let next = self.extent(c + 1, r, pull);
                let seam = (c + 1) as f32;
                rects.push(rect((
                    seam - pull,
                    own.1.max(next.1),
                    seam + pull,
                    own.3.min(next.3),
                )));
            }
            if self.is_dark(c, r + 1) {
                let below = self.extent(c, r + 1, pull);
                let seam = (r + 1) as f32;
                rects.push(rect((
                    own.0.max(below.0),
                    seam - pull,
                    own.2.min(below.2),
                    seam + pull,
                )));
            }
        }
        rects
    }
}

/// Code 128 set B of `text` (printable ASCII).
pub fn code128(text: &str) -> Result<Linear, PrintError> {
    let barcode =
        barcoders::sym::code128::Code128::new(format!("\u{0181}{text}")).map_err(|e| {
            PrintError::Barcode {
                symbology: "Code 128",
                text: text.to_owned(),
                reason: e.to_string(),
            }
        })?;
    Ok(Linear {
        modules: barcode.encode().into_iter().map(|m| m == 1).collect(),
    })
}

/// A square Data Matrix ECC 200 of `text`.
pub fn datamatrix(text: &str) -> Result<Matrix, PrintError> {
    let code = DataMatrix::encode(text.as_bytes(), SymbolList::default().enforce_square())
        .map_err(|e| PrintError::Barcode {
            symbology: "Data Matrix",
            text: text.to_owned(),
            reason: format!("{e:?}"),
        })?;
    let bitmap = code.bitmap();
    Ok(Matrix {
        size: bitmap.width().max(bitmap.height()),
        dark: bitmap.pixels().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_size_is_whole_dots_at_both_printer_resolutions() {
        for dots_per_mm in [8.0f32, 12.0] {
            for size in [
                DOT_GRID_MM,
                CODE128_MODULE_MM,
                CODE128_HEIGHT_MM,
                DATAMATRIX_LABEL_MODULE_MM,
                DATAMATRIX_SHEET_MODULE_MM,
            ] {
                let dots = size * dots_per_mm;
                assert_eq!(dots, dots.round(), "{size} mm at {dots_per_mm} dots/mm");
            }
            // Each edge moves a fraction of a dot, clear of the grid and of
            // the dot's centre.
            let per_edge = BAR_WIDTH_REDUCTION_MM / 2.0 * dots_per_mm;
            assert!((0.2..=0.4).contains(&per_edge), "{per_edge}");
        }
    }

    #[test]
    fn bars_are_runs_narrowed_and_matrix_neighbours_overlap() {
        let linear = Linear {
            modules: vec![true, true, false, true, false, false, true],
        };
        assert_eq!(
            linear.bars(0.25),
            [
                (0.125, 0.0, 1.75, 1.0),
                (3.125, 0.0, 0.75, 1.0),
                (6.125, 0.0, 0.75, 1.0)
            ]
        );
        // Two dark modules side by side: each cell pulled in at its light
        // sides, and a strip across their common edge.
        let matrix = Matrix {
            size: 2,
            dark: vec![(0, 0), (1, 0)],
        };
        assert_eq!(
            matrix.modules(0.25),
            [
                (0.125, 0.125, 0.875, 0.75),
                (0.875, 0.125, 0.25, 0.75),
                (1.0, 0.125, 0.875, 0.75)
            ]
        );
    }

    #[test]
    fn no_module_reaches_into_a_light_one_at_an_inside_corner() {
        // An L: (0,0), (1,0) and (0,1) dark, (1,1) light.
        let matrix = Matrix {
            size: 2,
            dark: vec![(0, 0), (1, 0), (0, 1)],
        };
        for (x, y, width, height) in matrix.modules(0.25) {
            let (right, bottom) = (x + width, y + height);
            // Overlapping the light cell [1, 2] × [1, 2] means a positive
            // area on both axes.
            let into_light = right > 1.0 && bottom > 1.0 && x < 2.0 && y < 2.0;
            assert!(!into_light, "({x}, {y}, {width}, {height})");
        }
    }

    #[test]
    fn code128_of_a_bag_id_has_the_expected_length() {
        // Start B (11) + 11 symbols × 11 + check (11) + stop (13) = 156 modules.
        let modules = code128("014D2PF2DBR").map(|c| c.modules.len());
        assert!(matches!(modules, Ok(156)), "{:?}", modules.ok());
        let square = datamatrix("014D2PF2DBR").map(|m| m.size);
        // 11 digits and capitals fit a 14 × 14 symbol in C40 or ASCII.
        assert!(
            matches!(square, Ok(n) if (12..=16).contains(&n)),
            "{:?}",
            square.ok()
        );
    }
}
