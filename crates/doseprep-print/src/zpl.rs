//! Labels in ZPL II, the language of Zebra and compatible thermal printers:
//! the same layout as the PDF ([`crate::layout::label`]) converted to the
//! printer's dots, with the printer's own Code 128 (`^BC`) and Data Matrix
//! (`^BX`) of the same payloads, text as UTF-8 (`^CI28`) in the printer's
//! scalable font. Every size is a whole number of dots: barcode positions
//! and modules are on the 0.25 mm grid, whole dots at 8 and 12 dots/mm.

use std::fmt::Write as _;

use doseprep::site::PrinterDpi;
use doseprep::LabelFacts;

use crate::barcode::{CODE128_QUIET_MODULES, DATAMATRIX_QUIET_MODULES};
use crate::layout::{self, Page, PT_PER_MM};
use crate::PrintError;

/// One ZPL label per bag, in order, at each label's site printer
/// resolution (`[site] label_printer_dpi`).
pub(crate) fn labels(labels: &[LabelFacts]) -> Result<String, PrintError> {
    let mut zpl = String::new();
    for facts in labels {
        let dpi = facts.printer_dpi.ok_or(PrintError::NoPrinterResolution)?;
        let page = layout::label(facts)?;
        label(&mut zpl, &page, dpi)?;
    }
    Ok(zpl)
}

/// Millimetres to the nearest whole dot.
fn dots(mm: f32, dpi: PrinterDpi) -> i64 {
    (f64::from(mm) * f64::from(dpi.dots_per_mm())).round() as i64
}

/// Text for a `^FD` field in a `^FB` block with `^FH_` on: the characters
/// ZPL reads as commands (`^`, `~`) and its hexadecimal escape (`_`) written
/// as escapes, the backslash that `^FB` reads as its own escape (`\&` is a
/// line break) doubled; every other character as UTF-8 (`^CI28`). A control
/// character has no place on a label and is refused.
fn field_text(text: &str) -> Result<String, PrintError> {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '^' => escaped.push_str("_5E"),
            '~' => escaped.push_str("_7E"),
            '_' => escaped.push_str("_5F"),
            '\\' => escaped.push_str("\\\\"),
            control if control.is_control() => {
                return Err(PrintError::ControlCharacter {
                    text: text.to_owned(),
                    code_point: u32::from(control),
                })
            }
            other => escaped.push(other),
        }
    }
    Ok(escaped)
}

/// A barcode payload as the printer encodes it: digits, capitals and `=`
/// only (bag ids, ISBT 128 DINs), so no character has a meaning of its own
/// to `^BC` or `^BX` (`>` starts a subset change in Code 128).
fn payload(symbology: &'static str, text: &str) -> Result<String, PrintError> {
    if text
        .bytes()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase() || b == b'=')
    {
        Ok(text.to_owned())
    } else {
        Err(PrintError::Barcode {
            symbology,
            text: text.to_owned(),
            reason: "a ZPL label encodes digits, capitals and '=' only".to_owned(),
        })
    }
}

fn label(zpl: &mut String, page: &Page, dpi: PrinterDpi) -> Result<(), PrintError> {
    // `write!` to a String cannot fail.
    let _ = write!(
        zpl,
        "^XA\n^CI28\n^PW{}\n^LL{}\n^LH0,0\n",
        dots(page.width_mm, dpi),
        dots(page.height_mm, dpi)
    );
    for line in &page.lines {
        let size_mm = line.size_pt / PT_PER_MM;
        let height = dots(size_mm, dpi);
        let top = dots(line.baseline_mm - size_mm, dpi);
        let left = dots(line.x_mm, dpi);
        // A field block as wide as the PDF wrapped the line to: the printer's
        // font (CG Triumvirate) is narrower than DejaVu Sans at one height,
        // and the block keeps anything longer off the barcodes beside it.
        let width = dots(line.width_mm, dpi);
        // The printer's font has no bold face: a bold line is struck twice,
        // one dot apart.
        let strikes: &[i64] = if line.bold { &[0, 1] } else { &[0] };
        for shift in strikes {
            let _ = writeln!(
                zpl,
                "^FO{},{top}^A0N,{height},{height}^FB{width},1,0,L^FH_^FD{}^FS",
                left + shift,
                field_text(&line.text)?
            );
        }
    }
    for code in &page.linear {
        let x = code.x_mm + CODE128_QUIET_MODULES as f32 * code.module_mm;
        let _ = writeln!(
            zpl,
            "^FO{},{}^BY{}^BCN,{},N,N,N,N^FD{}^FS",
            dots(x, dpi),
            dots(code.y_mm, dpi),
            dots(code.module_mm, dpi),
            dots(code.height_mm, dpi),
            payload("Code 128", &code.text)?
        );
    }
    for code in &page.matrices {
        let quiet = DATAMATRIX_QUIET_MODULES as f32 * code.module_mm;
        let _ = writeln!(
            zpl,
            "^FO{},{}^BXN,{},200,{size},{size}^FD{}^FS",
            dots(code.x_mm + quiet, dpi),
            dots(code.y_mm + quiet, dpi),
            dots(code.module_mm, dpi),
            payload("Data Matrix", &code.text)?,
            size = code.code.size
        );
    }
    zpl.push_str("^XZ\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_zpl_reads_as_commands() {
        assert_eq!(
            field_text("a^b~c_d é \\&").ok().as_deref(),
            Some("a_5Eb_7Ec_5Fd é \\\\&")
        );
        assert!(field_text("line\nbreak").is_err());
        assert!(payload("Code 128", "=A999926896491 00").is_err());
        assert!(payload("Code 128", "=A99992689649100").is_ok());
        assert!(payload("Code 128", "A>B").is_err());
    }

    #[test]
    fn sizes_are_whole_dots() {
        assert_eq!(dots(0.25, PrinterDpi::Dpi203), 2);
        assert_eq!(dots(0.25, PrinterDpi::Dpi300), 3);
        assert_eq!(dots(100.0, PrinterDpi::Dpi203), 800);
        assert_eq!(dots(60.0, PrinterDpi::Dpi300), 720);
    }
}
