//! The label's captions per language, read from the message catalogues
//! shipped as data beside the protocol files (`protocols/captions/*.toml`).
//! A label in one language prints its captions; a label in two or more
//! prints them joined, first language first ("Visite / Visit").

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::day::DayText;
use crate::format::NumberWords;
use crate::label::WorksheetText;
use crate::template::{Plural, PluralRule};

/// The captions of one language. Every key is required, so a catalogue
/// cannot miss one (`every_catalogue_reads` checks the shipped ones).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Captions {
    /// The language's own name ("français").
    pub language: String,
    /// Between a caption and its value (": ", " : " in French).
    pub colon: String,
    /// Participant id.
    pub participant: String,
    /// Visit.
    pub visit: String,
    /// Bag id.
    pub bag: String,
    /// The blinded product text.
    pub contents: String,
    /// Final volume and diluent.
    pub volume: String,
    /// Route of administration.
    pub route: String,
    /// Infusion duration and pump rate.
    pub infusion: String,
    /// Latest start of the infusion.
    pub start_by: String,
    /// Latest end of the infusion.
    pub infuse_by: String,
    /// Sponsor.
    pub sponsor: String,
    /// Investigator.
    pub investigator: String,
    /// Trial site.
    pub site: String,
    /// ISBT 128 donation identification number.
    pub din: String,
    /// ISBT 128 product code.
    pub product_code: String,
    /// Expiry.
    pub expiry: String,
    /// Which counts take the singular.
    pub plural: PluralRule,
    /// Between groups of three digits.
    pub thousands_separator: String,
    /// The word for a million, singular and plural (no blanks).
    pub million: Plural,
    /// The unit of a cell concentration.
    pub cells_per_ml: String,
    /// The worksheet's texts.
    pub worksheet: WorksheetText,
    /// The pick list's and the summary's texts.
    pub day: DayText,
}

impl Captions {
    /// How this language writes large numbers.
    pub fn number_words(&self) -> NumberWords<'_> {
        NumberWords {
            thousands_separator: &self.thousands_separator,
            million_one: self.million.one.text(),
            million_other: self.million.other.text(),
            plural: self.plural,
            cells_per_ml: &self.cells_per_ml,
        }
    }

    /// The form of `plural` for `count` in this language.
    pub fn plural<'a>(&self, plural: &'a Plural, count: usize) -> &'a crate::template::Template {
        plural.pick(self.plural, count as f64)
    }
}

/// The shipped catalogues: (language code, TOML text).
const CATALOGUES: [(&str, &str); 2] = [
    ("en", include_str!("../../protocols/captions/en.toml")),
    ("fr", include_str!("../../protocols/captions/fr.toml")),
];

#[expect(
    clippy::expect_used,
    reason = "the catalogues are compiled in, and the test every_catalogue_reads reads each"
)]
static READ: LazyLock<Vec<(&'static str, Captions)>> = LazyLock::new(|| {
    CATALOGUES
        .iter()
        .map(|(code, text)| {
            let captions = toml::from_str(text).expect("a shipped caption catalogue reads"); // allow-panic: see the reason above
            (*code, captions)
        })
        .collect()
});

/// The language codes doseprep has captions for.
pub fn languages() -> Vec<&'static str> {
    CATALOGUES.iter().map(|(code, _)| *code).collect()
}

/// A language doseprep has captions for: made only from a code with a
/// catalogue, so its captions are always there.
#[derive(Clone, Copy)]
pub struct Language {
    code: &'static str,
    captions: &'static Captions,
}

impl Language {
    /// The language of a code ("en", "fr"), if doseprep has its captions.
    pub fn from_code(code: &str) -> Option<Language> {
        READ.iter()
            .find(|(known, _)| *known == code)
            .map(|(code, captions)| Language { code, captions })
    }

    /// Its code, e.g. "fr".
    pub fn code(self) -> &'static str {
        self.code
    }

    /// Its captions.
    pub fn captions(self) -> &'static Captions {
        self.captions
    }
}

impl PartialEq for Language {
    fn eq(&self, other: &Language) -> bool {
        self.code == other.code
    }
}

impl Eq for Language {}

impl std::fmt::Debug for Language {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Language({:?})", self.code)
    }
}

/// What keeps a list of codes from being a label's languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageProblem {
    /// A code with no caption catalogue.
    NoCatalogue(String),
    /// A code given twice.
    Twice(String),
}

/// A label's languages: at least one, each with its captions, none twice,
/// first language first (it is the page's language and leads every
/// bilingual caption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelLanguages {
    first: Language,
    rest: Vec<Language>,
}

impl LabelLanguages {
    /// The languages of `codes`; no codes is English, the documented
    /// default.
    pub fn new<S: AsRef<str>>(codes: &[S]) -> Result<LabelLanguages, LanguageProblem> {
        let mut languages: Vec<Language> = Vec::with_capacity(codes.len());
        for code in codes.iter().map(AsRef::as_ref) {
            let language = Language::from_code(code)
                .ok_or_else(|| LanguageProblem::NoCatalogue(code.to_owned()))?;
            if languages.contains(&language) {
                return Err(LanguageProblem::Twice(code.to_owned()));
            }
            languages.push(language);
        }
        let mut languages = languages.into_iter();
        match languages.next() {
            Some(first) => Ok(LabelLanguages {
                first,
                rest: languages.collect(),
            }),
            None => Ok(LabelLanguages::english()),
        }
    }

    /// English alone.
    #[expect(
        clippy::expect_used,
        reason = "the English catalogue is compiled in, and every_catalogue_reads reads it"
    )]
    pub fn english() -> LabelLanguages {
        LabelLanguages {
            first: Language::from_code("en").expect("English is shipped"), // allow-panic: see the reason above
            rest: Vec::new(),
        }
    }

    /// The first language.
    pub fn first(&self) -> Language {
        self.first
    }

    /// Every language, first language first.
    pub fn iter(&self) -> impl Iterator<Item = Language> + '_ {
        std::iter::once(self.first).chain(self.rest.iter().copied())
    }

    /// Every code, first language first.
    pub fn codes(&self) -> Vec<&'static str> {
        self.iter().map(Language::code).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_reads() {
        for (code, text) in CATALOGUES {
            let read = toml::from_str::<Captions>(text);
            assert!(read.is_ok(), "{code}: {read:?}");
        }
        assert_eq!(
            Language::from_code("fr").map(|l| l.captions().visit.as_str()),
            Some("Visite")
        );
        assert!(Language::from_code("de").is_none());
    }

    /// Every text's blanks, by its path in the catalogue.
    fn blanks_by_key(captions: &Captions) -> Vec<(String, Vec<String>)> {
        fn walk(path: &str, value: &serde_json::Value, out: &mut Vec<(String, Vec<String>)>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, value) in map {
                        walk(&format!("{path}.{key}"), value, out);
                    }
                }
                serde_json::Value::String(text) => {
                    let mut blanks: Vec<String> = crate::template::Template::from_text(text)
                        .blanks()
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    blanks.sort();
                    out.push((path.to_owned(), blanks));
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        let value = serde_json::to_value(captions).unwrap();
        walk("", &value, &mut out);
        out
    }

    #[test]
    fn every_language_has_the_blanks_english_has() {
        let english = blanks_by_key(Language::from_code("en").map(|l| l.captions()).unwrap());
        assert!(english.len() > 90, "{}", english.len());
        for code in languages() {
            let other = blanks_by_key(Language::from_code(code).map(|l| l.captions()).unwrap());
            assert_eq!(other, english, "{code}");
        }
    }

    #[test]
    fn label_languages_are_known_once_each_and_english_when_none() {
        let both = LabelLanguages::new(&["fr", "en"]);
        assert_eq!(
            both.as_ref().map(LabelLanguages::codes),
            Ok(vec!["fr", "en"])
        );
        assert_eq!(
            LabelLanguages::new::<&str>(&[]).map(|l| l.codes()),
            Ok(vec!["en"])
        );
        assert_eq!(
            LabelLanguages::new(&["fr", "fr"]),
            Err(LanguageProblem::Twice("fr".to_owned()))
        );
        assert_eq!(
            LabelLanguages::new(&["en", "de"]),
            Err(LanguageProblem::NoCatalogue("de".to_owned()))
        );
    }
}
