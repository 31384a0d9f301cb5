//! A TOML parser's error as one line: where (line, column and the line's
//! text) and what, so a file error prints as one line with its location.

/// `line 3, column 13 (viability = 93%): string values must be quoted`.
pub(crate) fn one_line(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().replace('\n', " ");
    let Some(before) = error.span().and_then(|span| text.get(..span.start)) else {
        return message;
    };
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    let source = text
        .get(line_start..)
        .and_then(|rest| rest.lines().next())
        .unwrap_or("")
        .trim();
    format!("line {line}, column {column} ({source}): {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_line_the_column_and_the_text() {
        let text = "a = 1\nviability = 93%\n";
        let error = toml::from_str::<toml::Table>(text).expect_err("93% is not TOML");
        let line = one_line(text, &error);
        assert!(
            line.starts_with("line 2, column 13 (viability = 93%): "),
            "{line}"
        );
        assert!(!line.contains('\n'));
    }
}
