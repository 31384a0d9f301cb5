//! The label's captions per language, read from the message catalogues
//! shipped as data beside the protocol files (`protocols/captions/*.toml`).
//! A label in one language prints its captions; a label in two or more
//! prints them joined, first language first ("Visite / Visit").

use std::sync::LazyLock;

use serde::Deserialize;

/// The captions of one language. Every key is required, so a catalogue
/// cannot miss one (`every_catalogue_reads` checks the shipped ones).
#[derive(Debug, Clone, Deserialize)]
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

/// The captions of a language code ("en", "fr"), if doseprep has them.
pub fn captions(language: &str) -> Option<&'static Captions> {
    READ.iter()
        .find(|(code, _)| *code == language)
        .map(|(_, captions)| captions)
}

/// The language codes doseprep has captions for.
pub fn languages() -> Vec<&'static str> {
    CATALOGUES.iter().map(|(code, _)| *code).collect()
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
        assert_eq!(captions("fr").map(|c| c.visit.as_str()), Some("Visite"));
        assert!(captions("de").is_none());
    }
}
