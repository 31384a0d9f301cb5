//! ISBT 128 identifiers for a bag, where a protocol gives its facility
//! identification number (FIN) and product code: the donation
//! identification number (DIN, data structure 001) with its keyboard check
//! character (ISO 7064 mod 37-2, computed here), the product code (data
//! structure 003) and the expiration date and time (data structure 005).
//! No ICCBBA table is bundled: the user supplies the codes.
//!
//! A DIN here is the FIN, the two-digit year of preparation (site clock) and
//! a six-digit sequence number taken from the bag id (its value mod 10^6),
//! so the DIN, like the bag id, says nothing of the arm.

use crate::bag_id::BagId;
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

/// The ISBT 128 codes of a bag, where the protocol's site gives ISBT 128
/// codes: its DIN from the year it was prepared (thawed) and its bag id, its
/// expiry the end of its infusion window. Takes a checked [`Protocol`], so
/// the FIN and product code have their shape.
pub fn codes(protocol: &Protocol, bag_id: BagId, prep: &Preparation) -> Option<Isbt128Codes> {
    let site_codes = protocol.label().isbt128.as_ref()?;
    Some(checked_codes(
        &site_codes.fin,
        &site_codes.product_code,
        bag_id,
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
    bag_id: BagId,
    prepared: &SiteTime,
    expires: &SiteTime,
) -> Isbt128Codes {
    let year = prepared.zoned().year().rem_euclid(100);
    let sequence = bag_id.value() % 1_000_000;
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
    fn codes_are_checked() {
        assert!(check_codes("A9999", "S1234V00").is_ok());
        assert!(check_codes("99999", "S1234V00").is_err());
        assert!(check_codes("A999", "S1234V00").is_err());
        assert!(check_codes("A9999", "s1234v00").is_err());
    }
}
