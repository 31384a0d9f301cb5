//! ISBT 128 identifiers for a bag, where a protocol gives its facility
//! identification number (FIN) and product code: the donation
//! identification number (DIN, data structure 001) with its keyboard check
//! character (ISO 7064 mod 37-2, computed here), the product code (data
//! structure 003) and the expiration date and time (data structure 005).
//! No ICCBBA table is bundled: the user supplies the codes.
//!
//! A DIN here is the FIN, the two-digit year of preparation (site clock) and
//! the bag's six-digit [`DinSequence`]: the next number of the facility's
//! counter, which the ledger keeps ([`DinSequence::after`] of the highest it
//! holds), given to bags in the order a day plan makes them, so the DIN,
//! like the bag id, says nothing of the arm.

use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::prepare::Preparation;
use crate::protocol::Protocol;
use crate::time::SiteTime;

/// ISO 7064 characters: 0-9, A-Z, then '*' for 36.
const ISO7064: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";

/// The ISO 7064 mod 37-2 check character of `text` (digits and capital
/// letters), as ISBT 128 prints beside a DIN; `None` for another character.
pub fn check_character(text: &str) -> Option<char> {
    let mut sum: u32 = 0;
    for byte in text.bytes() {
        let value = ISO7064.iter().take(36).position(|&c| c == byte)? as u32;
        // Horner's form of Σ value × 2^position: (sum + value) × 2 mod 37.
        sum = ((sum + value) * 2) % 37;
    }
    let check = (38 - sum) % 37;
    ISO7064.get(check as usize).map(|&c| char::from(c))
}

/// Check a FIN ("A9999": a capital letter and four digits or capitals) and
/// a product code (8 digits or capitals, the first a letter).
pub fn check_codes(fin: &str, product_code: &str) -> Result<()> {
    let shape = |text: &str, len: usize| {
        text.len() == len
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            && text.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
    };
    if !shape(fin, 5) {
        return Err(DoseError::invalid_protocol(
            "label.isbt128.fin",
            format!("{fin:?}"),
            "must be the 5-character facility identification number ICCBBA assigned, e.g. \"A9999\"",
        ));
    }
    if !shape(product_code, 8) {
        return Err(DoseError::invalid_protocol(
            "label.isbt128.product_code",
            format!("{product_code:?}"),
            "must be the 8-character ISBT 128 product code, e.g. \"S1234V00\"",
        ));
    }
    Ok(())
}

/// A bag's ISBT 128 identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isbt128Codes {
    /// The 13-character DIN (FIN, year, sequence).
    pub din: String,
    /// Its keyboard check character.
    pub check: char,
    /// Data structure 001 as encoded: "=" + DIN + flags "00".
    pub din_data: String,
    /// Data structure 003: "=<" + product code.
    pub product_data: String,
    /// Data structure 005: "&>" + cyyjjjhhmm (expiry on the site clock).
    pub expiry_data: String,
    /// The same expiry as a person reads it: "2026-11-25 12:00 EST".
    pub expiry_read: String,
}

/// The sequence number of a DIN: 1 to 999999, never reused by a facility
/// within a year (ICCBBA ST-001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct DinSequence(u32);

impl DinSequence {
    /// The largest sequence number a DIN holds.
    pub const MAX: u32 = 999_999;

    /// A sequence number, checked.
    pub fn new(value: u32) -> Result<DinSequence> {
        DinSequence::from_int(i128::from(value))
    }

    /// A sequence number given as an int of any width (as Python gives
    /// one), checked: -1 is refused as 0 is, not overflowed.
    pub fn from_int(value: i128) -> Result<DinSequence> {
        match u32::try_from(value) {
            Ok(number) if (1..=DinSequence::MAX).contains(&number) => Ok(DinSequence(number)),
            _ => Err(DinSequence::refused(&value)),
        }
    }

    /// The error for a value that is not a sequence number, shown as given
    /// (an int too wide to hold is shown as text by its caller).
    pub fn refused(shown: &dyn std::fmt::Display) -> DoseError {
        DoseError::invalid_input(
            "din_sequence",
            format!(
                "{shown} is not a DIN sequence number; it must be a whole number from 1 to {}, the next of the facility's counter (ledger.next_din_sequence)",
                DinSequence::MAX
            ),
        )
    }

    /// The next number after the highest a facility has used (none: 1),
    /// or `None` when the year's numbers are used up.
    pub fn after(highest: Option<DinSequence>) -> Option<DinSequence> {
        match highest {
            None => Some(DinSequence(1)),
            Some(DinSequence(last)) if last < DinSequence::MAX => Some(DinSequence(last + 1)),
            Some(_) => None,
        }
    }

    /// The number.
    pub fn value(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for DinSequence {
    type Error = String;
    fn try_from(value: u32) -> std::result::Result<DinSequence, String> {
        DinSequence::new(value).map_err(|e| e.to_string())
    }
}

impl From<DinSequence> for u32 {
    fn from(sequence: DinSequence) -> u32 {
        sequence.0
    }
}

/// The sequence number of a 13-character DIN of the facility `fin` (FIN,
/// two-digit year, six-digit sequence), if `din` is one.
pub fn sequence_in(din: &str, fin: &str) -> Option<DinSequence> {
    let rest = din.strip_prefix(fin)?;
    if rest.len() != 8 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.get(2..)?
        .parse()
        .ok()
        .and_then(|n| DinSequence::new(n).ok())
}

/// The ISBT 128 codes of a bag, where the protocol's site gives ISBT 128
/// codes and the bag has its DIN sequence: its DIN from the year it was
/// prepared (thawed) and that sequence, its expiry the end of its infusion
/// window. Takes a checked [`Protocol`], so the FIN and product code have
/// their shape.
pub fn codes(protocol: &Protocol, prep: &Preparation) -> Option<Isbt128Codes> {
    let site_codes = protocol.label().isbt128.as_ref()?;
    Some(checked_codes(
        &site_codes.fin,
        &site_codes.product_code,
        prep.din_sequence?,
        &prep.thawed_at(),
        &prep.infuse_by(),
    ))
}

#[expect(
    clippy::expect_used,
    reason = "Protocol::new checks the FIN is capitals and digits, and the year and sequence are digits"
)]
fn checked_codes(
    fin: &str,
    product_code: &str,
    sequence: DinSequence,
    prepared: &SiteTime,
    expires: &SiteTime,
) -> Isbt128Codes {
    let year = prepared.zoned().year().rem_euclid(100);
    let sequence = sequence.value();
    let din = format!("{fin}{year:02}{sequence:06}");
    let check = check_character(&din).expect("a DIN is capitals and digits"); // allow-panic: see the reason above
    let expiry = expires.zoned();
    let expiry_data = format!(
        "&>{:03}{:03}{}",
        expiry.year().rem_euclid(1000),
        expiry.day_of_year(),
        expiry.strftime("%H%M")
    );
    Isbt128Codes {
        din_data: format!("={din}00"),
        product_data: format!("=<{product_code}"),
        expiry_data,
        expiry_read: expires.wall_clock(),
        din,
        check,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_characters_match_hand_worked_values() {
        // JPAC Red Book, Annex 2: G123 498 654 321 → H (checksum 17).
        assert_eq!(check_character("G123498654321"), Some('H'));
        // By hand: "0" → sum (0+0)×2 = 0, check 38 mod 37 = 1 → '1'.
        assert_eq!(check_character("0"), Some('1'));
        // "1" → (0+1)×2 = 2, check 36 → '*'.
        assert_eq!(check_character("1"), Some('*'));
        // "A" (10) → 20, check 18 → 'I'.
        assert_eq!(check_character("A"), Some('I'));
        assert_eq!(check_character("a"), None);
    }

    #[test]
    fn sequences_count_up_from_one_and_are_read_back_from_a_din() {
        assert_eq!(DinSequence::after(None).map(DinSequence::value), Some(1));
        let last = DinSequence::new(41).ok();
        assert_eq!(DinSequence::after(last).map(DinSequence::value), Some(42));
        let full = DinSequence::new(999_999).ok();
        assert_eq!(DinSequence::after(full), None);
        assert!(DinSequence::new(0).is_err() && DinSequence::new(1_000_000).is_err());
        // Any int, as Python gives one: refused as given, never wrapped
        // into range (2^32 + 1 is not 1).
        for refused in [-1, 0, 1_000_000, (1i128 << 32) + 1, i128::MIN] {
            let message = DinSequence::from_int(refused).map(DinSequence::value);
            assert!(
                matches!(&message, Err(e) if e.to_string().contains(&format!("{refused} is not a DIN sequence number"))),
                "{refused}: {message:?}"
            );
        }
        assert_eq!(
            DinSequence::from_int(999_999).map(DinSequence::value),
            Ok(999_999)
        );
        assert_eq!(
            sequence_in("A999926000042", "A9999"),
            DinSequence::new(42).ok()
        );
        assert_eq!(sequence_in("B999926000042", "A9999"), None);
        assert_eq!(sequence_in("A99992600004", "A9999"), None);
        assert_eq!(sequence_in("A999926000000", "A9999"), None);
    }

    #[test]
    fn codes_are_checked() {
        assert!(check_codes("A9999", "S1234V00").is_ok());
        assert!(check_codes("99999", "S1234V00").is_err());
        assert!(check_codes("A999", "S1234V00").is_err());
        assert!(check_codes("A9999", "s1234v00").is_err());
    }
}
