//! Text a trial or a site gives per language: one text for every language
//! of the label (`storage = "..."`), or one per language code
//! (`storage = { en = "...", fr = "..." }`), printed in the label's
//! languages, first language first.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One text, or a text per language code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PerLanguage<T> {
    /// The same text in every language of the label.
    Same(T),
    /// A text per language code ("en", "fr").
    ByLanguage(BTreeMap<String, T>),
}

impl<T> PerLanguage<T> {
    /// The text for each of `languages`, in their order; a text given once
    /// for all languages is given once.
    pub fn in_languages<'a>(&'a self, languages: &[&str]) -> Vec<&'a T> {
        match self {
            PerLanguage::Same(text) => vec![text],
            PerLanguage::ByLanguage(texts) => languages
                .iter()
                .filter_map(|language| texts.get(*language))
                .collect(),
        }
    }

    /// The first of `languages` this text lacks, if any.
    pub fn missing<'l>(&self, languages: &[&'l str]) -> Option<&'l str> {
        match self {
            PerLanguage::Same(_) => None,
            PerLanguage::ByLanguage(texts) => languages
                .iter()
                .find(|language| !texts.contains_key(**language))
                .copied(),
        }
    }

    /// Every text given, whatever its language.
    pub fn all(&self) -> Vec<&T> {
        match self {
            PerLanguage::Same(text) => vec![text],
            PerLanguage::ByLanguage(texts) => texts.values().collect(),
        }
    }
}

impl<T> From<T> for PerLanguage<T> {
    fn from(text: T) -> PerLanguage<T> {
        PerLanguage::Same(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_in_the_labels_language_order() {
        let texts: PerLanguage<String> = toml::from_str::<BTreeMap<String, PerLanguage<String>>>(
            "t = { en = \"Store\", fr = \"Conserver\" }",
        )
        .ok()
        .and_then(|mut table| table.remove("t"))
        .unwrap_or_else(|| PerLanguage::Same(String::new()));
        assert_eq!(texts.in_languages(&["fr", "en"]), ["Conserver", "Store"]);
        assert_eq!(texts.in_languages(&["fr"]), ["Conserver"]);
        assert_eq!(texts.missing(&["fr", "de"]), Some("de"));
        assert_eq!(PerLanguage::Same("x").in_languages(&["fr", "en"]), [&"x"]);
    }
}
