//! The fonts shipped with the crate (DejaVu Sans, regular and bold; free
//! licence in `fonts/LICENSE-DejaVu.txt`) and text measurement for wrapping
//! (krilla draws text but does not measure it).

use ttf_parser::Face;

/// DejaVu Sans.
pub(crate) static REGULAR: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
pub(crate) static BOLD: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// Widths of text in one font, in points at a size.
pub(crate) struct Metrics<'a> {
    face: Face<'a>,
}

impl<'a> Metrics<'a> {
    /// The metrics of a font file; `None` if it does not parse (it is
    /// compiled in, so a test checks it does).
    pub(crate) fn new(data: &'a [u8]) -> Option<Metrics<'a>> {
        Face::parse(data, 0).ok().map(|face| Metrics { face })
    }

    /// The advance width of `text` at `size` points (kerning aside: callers
    /// leave a margin).
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let per_em = f32::from(self.face.units_per_em());
        let units: f32 = text
            .chars()
            .map(|c| {
                self.face
                    .glyph_index(c)
                    .and_then(|g| self.face.glyph_hor_advance(g))
                    .map_or(per_em / 2.0, f32::from)
            })
            .sum();
        units / per_em * size
    }

    /// `text` broken at spaces into lines no wider than `max_width` points
    /// at `size` (a word longer than a line is broken between characters).
    pub(crate) fn wrap(&self, text: &str, size: f32, max_width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split(' ') {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if self.width(&candidate, size) <= max_width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            // A word too long for a line on its own is cut by characters.
            let mut piece = String::new();
            for c in word.chars() {
                piece.push(c);
                if self.width(&piece, size) > max_width && piece.chars().count() > 1 {
                    piece.pop();
                    lines.push(std::mem::take(&mut piece));
                    piece.push(c);
                }
            }
            line = piece;
        }
        if !line.is_empty() || lines.is_empty() {
            lines.push(line);
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_fonts_parse_and_measure() {
        let regular = Metrics::new(REGULAR).map(|m| m.width("0", 10.0));
        // DejaVu Sans digits advance 1303 of 2048 units: 6.36 pt at 10 pt.
        assert!(
            matches!(regular, Some(w) if (w - 6.362).abs() < 0.01),
            "{regular:?}"
        );
        assert!(Metrics::new(BOLD).is_some());
        // "dddd" is 4 × 1300/2048 em = 25.4 pt at 10 pt: it fits 26 pt, not 25.
        let metrics = Metrics::new(REGULAR).map(|m| m.wrap("a bb ccc dddd", 10.0, 26.0));
        assert_eq!(
            metrics,
            Some(vec!["a bb".to_owned(), "ccc".to_owned(), "dddd".to_owned()])
        );
    }
}
