//! Bag ids: 11 symbols of Crockford base32, the first 10 holding 50 random
//! bits and the last a check symbol from the same 32. Every symbol is a
//! digit or a capital letter other than I, L, O and U: it reads aloud,
//! and a file name or a shell takes it unquoted.
//!
//! The check is Damm's algorithm over the quasigroup x ∘ y = 2·x + y of
//! GF(32) (polynomial x⁵ + x² + 1): each step is a bijection in each
//! argument, so a single wrong symbol always changes the result, and
//! (c ∘ a) ∘ b = (c ∘ b) ∘ a only when 3·(a + b) = 0, that is a = b, so
//! every swap of two adjacent symbols (the check symbol included) is
//! caught. The unit tests try every such error on many ids. (The former
//! check, the value mod 37, needed five extra symbols, `*~$=U`, which are
//! hard to say and unsafe in a shell.)
//!
//! Unpredictable and unrelated to the arm or the content: the caller
//! supplies the random bits (from the operating system's random source in
//! the binding and the command), so this crate reads no random source and
//! its tests are reproducible.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DoseError, Result};

/// Crockford's base32 digits: the value of a symbol is its position.
const SYMBOLS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA_SYMBOLS: usize = 10;
const BITS: u32 = 5 * DATA_SYMBOLS as u32;

/// 2·x in GF(32) with the reduction polynomial x⁵ + x² + 1 (0b100101).
fn times_two(x: u8) -> u8 {
    let doubled = x << 1;
    if doubled & 0b10_0000 == 0 {
        doubled
    } else {
        doubled ^ 0b10_0101
    }
}

/// Damm's interim digit over the symbols' values (each below 32).
fn damm(values: impl IntoIterator<Item = u8>) -> u8 {
    values
        .into_iter()
        .fold(0, |interim, value| times_two(interim) ^ value)
}

/// The symbol of a value below 32.
#[expect(
    clippy::indexing_slicing,
    reason = "a value masked to five bits indexes the 32 symbols"
)]
fn symbol(value: u8) -> char {
    char::from(SYMBOLS[usize::from(value & 31)]) // allow-panic: value & 31 < 32 = SYMBOLS.len()
}

/// A bag id such as "7KQ2M9XT4RP".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BagId {
    value: u64,
}

impl BagId {
    /// The id made of the low 50 bits of `random` (give it 64 random bits).
    pub fn from_random(random: u64) -> BagId {
        BagId {
            value: random & ((1u64 << BITS) - 1),
        }
    }

    /// Read an id as printed or typed. Case is ignored, Crockford's
    /// look-alikes read as the digit they look like (I and L as 1, O as 0),
    /// and hyphens and spaces are ignored. A check symbol that does not
    /// match is a mistyped id.
    pub fn parse(input: &str) -> Result<BagId> {
        let invalid = |reason: &str| {
            DoseError::invalid_input(
                "bag_id",
                format!("{input:?} is not a bag id: {reason}; copy the 11 symbols from the label or the worksheet"),
            )
        };
        let mut values = Vec::with_capacity(DATA_SYMBOLS + 1);
        for byte in input.bytes().filter(|b| !matches!(b, b'-' | b' ')) {
            let read_as = match byte.to_ascii_uppercase() {
                b'I' | b'L' => b'1',
                b'O' => b'0',
                other => other,
            };
            let value = SYMBOLS
                .iter()
                .position(|&s| s == read_as)
                .ok_or_else(|| invalid("it holds a symbol that is not Crockford base32 (digits and letters but I, L, O, U)"))?;
            values.push(value as u8);
        }
        if values.len() != DATA_SYMBOLS + 1 {
            return Err(invalid("it must have 10 symbols and a check symbol"));
        }
        if damm(values.iter().copied()) != 0 {
            return Err(invalid(
                "its check symbol does not match, so a symbol was misread or mistyped",
            ));
        }
        let value = values
            .iter()
            .take(DATA_SYMBOLS)
            .fold(0u64, |value, &digit| (value << 5) | u64::from(digit));
        Ok(BagId { value })
    }

    /// The 50-bit value the symbols encode.
    pub fn value(self) -> u64 {
        self.value
    }

    /// The ten data symbols' values, most significant first.
    fn digits(self) -> impl Iterator<Item = u8> {
        (0..DATA_SYMBOLS)
            .rev()
            .map(move |index| ((self.value >> (5 * index)) & 31) as u8)
    }

    /// The 11 symbols.
    pub fn as_text(self) -> String {
        let mut text: String = self.digits().map(symbol).collect();
        // The check symbol c makes the whole come to 0: 2·interim + c = 0.
        text.push(symbol(times_two(damm(self.digits()))));
        text
    }
}

impl fmt::Display for BagId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

impl Serialize for BagId {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_text())
    }
}

impl<'de> Deserialize<'de> for BagId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        BagId::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_check() {
        // Zero: ten zeros and check 0.
        assert_eq!(BagId::from_random(0).as_text(), "00000000000");
        // 1: interim 1 after the last digit, check 2·1 = 2.
        assert_eq!(BagId::from_random(1).as_text(), "00000000012");
        // 32 = "10": interim 1 then 2·1 + 0 = 2, check 2·2 = 4.
        assert_eq!(BagId::from_random(32).as_text(), "00000000104");
        // 31 = "0...0Z": interim 31, check 2·31 = 62 − 32 = 30 reduced:
        // 0b111110 ^ 0b100101 = 0b011011 = 27 → 'V'.
        assert_eq!(BagId::from_random(31).as_text(), "000000000ZV");
        for random in [0, 1, 36, 37, 123_456_789, u64::MAX, 0xDEAD_BEEF_CAFE] {
            let id = BagId::from_random(random);
            assert_eq!(BagId::parse(&id.as_text()), Ok(id));
            assert_eq!(BagId::parse(&id.as_text().to_lowercase()), Ok(id));
        }
        assert_eq!(BagId::parse("0000O000104"), Ok(BagId::from_random(32)));
        assert_eq!(BagId::parse("0000-0000-104"), Ok(BagId::from_random(32)));
        assert!(BagId::parse("00000000105").is_err());
        assert!(BagId::parse("0000000010").is_err());
        assert!(BagId::parse("0000000010*").is_err());
    }

    #[test]
    fn every_symbol_is_safe_to_say_and_to_use_unquoted() {
        for random in (0..2000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15)) {
            let text = BagId::from_random(random).as_text();
            assert!(
                text.bytes().all(
                    |b| b.is_ascii_digit() || (b.is_ascii_uppercase() && !b"ILOU".contains(&b))
                ),
                "{text}"
            );
        }
    }

    /// Every single wrong symbol and every swap of two adjacent different
    /// symbols, on many ids, is refused.
    #[test]
    fn every_single_error_and_adjacent_swap_is_caught() {
        for random in (0..3000u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i) {
            let text = BagId::from_random(random).as_text().into_bytes();
            for position in 0..text.len() {
                for &other in SYMBOLS.iter() {
                    if other == text[position] {
                        continue;
                    }
                    let mut wrong = text.clone();
                    wrong[position] = other;
                    let wrong = String::from_utf8(wrong).unwrap();
                    assert!(BagId::parse(&wrong).is_err(), "{wrong} passed");
                }
                if position + 1 < text.len() && text[position] != text[position + 1] {
                    let mut swapped = text.clone();
                    swapped.swap(position, position + 1);
                    let swapped = String::from_utf8(swapped).unwrap();
                    assert!(BagId::parse(&swapped).is_err(), "{swapped} passed");
                }
            }
        }
    }
}
