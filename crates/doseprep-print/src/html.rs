//! Pages to HTML: the same layout as the PDF, text as positioned lines and
//! barcodes as inline SVG, sized in millimetres for printing.

use std::fmt::Write as _;

use crate::barcode::{BAR_WIDTH_REDUCTION_MM, CODE128_QUIET_MODULES, DATAMATRIX_QUIET_MODULES};
use crate::layout::Page;

/// Text for HTML: `&`, `<`, `>` and `"` escaped.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML document of `pages`, each printed on a sheet of its own size.
pub(crate) fn render(pages: &[Page], title: &str, language: &str) -> String {
    let mut html = String::new();
    let (width, height) = pages
        .first()
        .map_or((100.0, 60.0), |p| (p.width_mm, p.height_mm));
    // `write!` to a String cannot fail.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n\
         @page {{ size: {width}mm {height}mm; margin: 0; }}\n\
         body {{ margin: 0; font-family: 'DejaVu Sans', 'Noto Sans', sans-serif; }}\n\
         .page {{ position: relative; overflow: hidden; break-after: page; background: white; color: black; }}\n\
         .line {{ position: absolute; white-space: pre; line-height: 1; }}\n\
         .bold {{ font-weight: bold; }}\n\
         svg {{ position: absolute; }}\n\
         </style>\n</head>\n<body>\n",
        escape(language),
        escape(title)
    );
    for page in pages {
        let _ = writeln!(
            html,
            "<div class=\"page\" style=\"width: {}mm; height: {}mm;\">",
            page.width_mm, page.height_mm
        );
        for line in &page.lines {
            // The line box's top sits one font size above the baseline.
            let top_mm = line.baseline_mm - line.size_pt / crate::layout::PT_PER_MM;
            let _ = writeln!(
                html,
                "<div class=\"line{}\" style=\"left: {:.2}mm; top: {:.2}mm; font-size: {}pt;\">{}</div>",
                if line.bold { " bold" } else { "" },
                line.x_mm,
                top_mm,
                line.size_pt,
                escape(&line.text)
            );
        }
        for code in &page.linear {
            let modules = code.code.modules.len() + 2 * CODE128_QUIET_MODULES;
            let _ = write!(
                html,
                "<svg role=\"img\" aria-label=\"Code 128: {}\" style=\"left: {:.2}mm; top: {:.2}mm; width: {:.2}mm; height: {:.2}mm;\" viewBox=\"0 0 {modules} 1\" preserveAspectRatio=\"none\"><rect width=\"{modules}\" height=\"1\" fill=\"white\"/>",
                escape(&code.text),
                code.x_mm,
                code.y_mm,
                modules as f32 * code.module_mm,
                code.height_mm
            );
            for (x, _, width, _) in code.code.bars(BAR_WIDTH_REDUCTION_MM / code.module_mm) {
                let _ = write!(
                    html,
                    "<rect x=\"{}\" width=\"{width}\" height=\"1\"/>",
                    x + CODE128_QUIET_MODULES as f32
                );
            }
            let _ = writeln!(html, "</svg>");
        }
        for code in &page.matrices {
            let modules = code.code.size + 2 * DATAMATRIX_QUIET_MODULES;
            let side = modules as f32 * code.module_mm;
            let _ = write!(
                html,
                "<svg role=\"img\" aria-label=\"Data Matrix: {}\" style=\"left: {:.2}mm; top: {:.2}mm; width: {side:.2}mm; height: {side:.2}mm;\" viewBox=\"0 0 {modules} {modules}\" shape-rendering=\"crispEdges\"><rect width=\"{modules}\" height=\"{modules}\" fill=\"white\"/>",
                escape(&code.text),
                code.x_mm,
                code.y_mm
            );
            let quiet = DATAMATRIX_QUIET_MODULES as f32;
            for (x, y, width, height) in code.code.modules(BAR_WIDTH_REDUCTION_MM / code.module_mm)
            {
                let _ = write!(
                    html,
                    "<rect x=\"{}\" y=\"{}\" width=\"{width}\" height=\"{height}\"/>",
                    x + quiet,
                    y + quiet
                );
            }
            let _ = writeln!(html, "</svg>");
        }
        let _ = writeln!(html, "</div>");
    }
    html.push_str("</body>\n</html>\n");
    html
}
