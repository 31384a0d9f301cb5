//! Texts of the message catalogues (`protocols/captions/*.toml`) with
//! named blanks: "Lot {lot}: {concentration} viable". A catalogue is data,
//! so a translator can reorder the blanks; the test
//! `every_language_has_the_blanks_english_has` holds every catalogue to
//! English's blanks, so a translation cannot drop a figure.

use serde::{Deserialize, Serialize};

/// A text with named blanks, `{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Template(String);

impl Template {
    /// The text with each `{name}` replaced by its value. A blank without a
    /// value stays as written, so a test that looks for `{` finds it.
    pub fn fill(&self, values: &[(&str, &str)]) -> String {
        let mut filled = String::with_capacity(self.0.len() + 32);
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find('{') {
            filled.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                values
                    .iter()
                    .find(|(known, _)| *known == name)
                    .map(|(_, value)| (*value, close))
            });
            match value {
                Some((value, close)) => {
                    filled.push_str(value);
                    rest = &after[close + 1..];
                }
                None => {
                    filled.push('{');
                    rest = after;
                }
            }
        }
        filled.push_str(rest);
        filled
    }

    /// A template of `text`.
    pub fn from_text(text: &str) -> Template {
        Template(text.to_owned())
    }

    /// The text with no blanks to fill.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The names of its blanks, in order.
    pub fn blanks(&self) -> Vec<&str> {
        let mut names = Vec::new();
        let mut rest = self.0.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    names.push(&after[..close]);
                    rest = &after[close + 1..];
                }
                None => break,
            }
        }
        names
    }
}

/// Which counts take a language's singular form (CLDR's "one" category).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PluralRule {
    /// English: exactly 1 ("1 container", "0 containers").
    #[serde(rename = "one is 1")]
    OneIsOne,
    /// French: 0 and 1, and 1.5 ("0 contenant", "1,5 million").
    #[serde(rename = "one is below 2")]
    OneIsBelowTwo,
}

/// A text in its singular and plural forms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plural {
    /// For a count the rule calls one.
    pub one: Template,
    /// For every other count.
    pub other: Template,
}

impl Plural {
    /// The form for `count` under `rule`.
    pub fn pick(&self, rule: PluralRule, count: f64) -> &Template {
        let one = match rule {
            PluralRule::OneIsOne => count == 1.0,
            PluralRule::OneIsBelowTwo => count.abs() < 2.0,
        };
        if one {
            &self.one
        } else {
            &self.other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_are_filled_by_name_in_any_order() {
        let template = Template("Lot {lot}: {n} {lot}".to_owned());
        assert_eq!(
            template.fill(&[("n", "3"), ("lot", "UC-1")]),
            "Lot UC-1: 3 UC-1"
        );
        assert_eq!(template.blanks(), ["lot", "n", "lot"]);
        // A blank with no value, and a lone brace, stay as written.
        assert_eq!(template.fill(&[("lot", "X")]), "Lot X: {n} X");
        assert_eq!(Template("a { b".to_owned()).fill(&[]), "a { b");
    }

    #[test]
    fn plural_forms_follow_the_language_rule() {
        let forms = Plural {
            one: Template("one".to_owned()),
            other: Template("other".to_owned()),
        };
        assert_eq!(forms.pick(PluralRule::OneIsOne, 1.0).text(), "one");
        assert_eq!(forms.pick(PluralRule::OneIsOne, 0.0).text(), "other");
        assert_eq!(forms.pick(PluralRule::OneIsBelowTwo, 0.0).text(), "one");
        assert_eq!(forms.pick(PluralRule::OneIsBelowTwo, 1.5).text(), "one");
        assert_eq!(forms.pick(PluralRule::OneIsBelowTwo, 2.0).text(), "other");
    }
}
