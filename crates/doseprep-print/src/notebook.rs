//! HTML for a notebook's cell (Jupyter's `_repr_html_`): fragments, not
//! pages, whose styles stay inside them. A label is shown as printed, in
//! an inline frame of its own document, so its page styles never reach the
//! notebook's.

use std::fmt::Write as _;

use doseprep::LabelFacts;

use crate::{html, layout, PrintError};

/// A table: `caption`, a header row of `columns`, and `rows` of cells,
/// every text escaped.
pub fn table(caption: &str, columns: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<table class=\"doseprep\">");
    // `write!` to a String cannot fail.
    let _ = write!(
        out,
        "<caption>{}</caption><thead><tr>",
        html::escape(caption)
    );
    for column in columns {
        let _ = write!(out, "<th>{}</th>", html::escape(column));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", html::escape(cell));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A bag's key numbers (name, value) as a table, beside its label as
/// printed (blinded, the label's own HTML page in a frame of its size).
pub fn preparation(
    caption: &str,
    numbers: &[(&str, String)],
    label: &LabelFacts,
) -> Result<String, PrintError> {
    let page = layout::label(label)?;
    let label_html = crate::labels_html(std::slice::from_ref(label))?;
    let rows: Vec<Vec<String>> = numbers
        .iter()
        .map(|(name, value)| vec![(*name).to_owned(), value.clone()])
        .collect();
    let mut out = String::from(
        "<div class=\"doseprep\" style=\"display: flex; gap: 1em; align-items: flex-start;\">",
    );
    out.push_str(&table(caption, &["name", "value"], &rows));
    let _ = write!(
        out,
        "<iframe title=\"bag label\" sandbox=\"\" srcdoc=\"{}\" style=\"width: {:.1}mm; height: {:.1}mm; border: 1px solid #999; background: white;\"></iframe></div>",
        html::escape(&label_html),
        page.width_mm,
        page.height_mm
    );
    Ok(out)
}
