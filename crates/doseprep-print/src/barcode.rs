//! Barcodes as modules, ready to draw as rectangles in a PDF or an SVG:
//! Code 128 (set B) with `barcoders`, Data Matrix ECC 200 with `datamatrix`.
//!
//! Sizes are whole printer dots on the label printers pharmacies use, so
//! no bar is rounded thinner than its neighbour: 0.254 mm (10 mil) is 2 dots
//! at 203 dpi and 3 at 300 dpi.
//! * Code 128: X-dimension 0.254 mm, bars 7 mm high, a quiet zone of 10
//!   modules (2.54 mm) each side.
//! * Data Matrix: modules of 0.508 mm (4 dots at 203 dpi, 6 at 300), a quiet
//!   zone of 2 modules all round (ISO/IEC 16022 asks for one).

use datamatrix::{DataMatrix, SymbolList};

use crate::PrintError;

/// Code 128 X-dimension in mm (10 mil).
pub const CODE128_MODULE_MM: f32 = 0.254;
/// Code 128 bar height in mm.
pub const CODE128_HEIGHT_MM: f32 = 7.0;
/// Code 128 quiet zone, in modules, each side.
pub const CODE128_QUIET_MODULES: usize = 10;
/// Data Matrix module on a label, mm (20 mil).
pub const DATAMATRIX_LABEL_MODULE_MM: f32 = 0.508;
/// Data Matrix module on a worksheet, mm (20 mil).
pub const DATAMATRIX_SHEET_MODULE_MM: f32 = 0.508;
/// Data Matrix quiet zone, in modules, all round.
pub const DATAMATRIX_QUIET_MODULES: usize = 2;

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
