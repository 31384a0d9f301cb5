//! Bag ids: 10 symbols of Crockford base32 (50 random bits) and a Crockford
//! check symbol (the value mod 37). Unpredictable and unrelated to the arm or
//! the content: the caller supplies the random bits (from the operating
//! system's random source in the binding and the command), so this crate
//! reads no random source and its tests are reproducible.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DoseError, Result};

/// Crockford's base32 digits, then the five extra check symbols (32-36).
const SYMBOLS: &[u8; 37] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ*~$=U";
const DATA_SYMBOLS: usize = 10;
const BITS: u32 = 5 * DATA_SYMBOLS as u32;

/// A bag id such as "7KQ2M9XT4R$".
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

    /// Read an id as printed. Case is ignored, and Crockford's look-alikes
    /// read as the digit they look like (I and L as 1, O as 0); hyphens and
    /// spaces are ignored. The check symbol must match.
    pub fn parse(input: &str) -> Result<BagId> {
        let invalid = |reason: &str| {
            DoseError::invalid_input(
                "bag_id",
                format!("{input:?} is not a bag id: {reason}; copy the 11 symbols from the label or the worksheet"),
            )
        };
        let symbols: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' '))
            .map(|b| match b.to_ascii_uppercase() {
                b'I' | b'L' => b'1',
                b'O' => b'0',
                other => other,
            })
            .collect();
        if symbols.len() != DATA_SYMBOLS + 1 {
            return Err(invalid("it must have 10 symbols and a check symbol"));
        }
        let (data, check) = symbols.split_at(DATA_SYMBOLS);
        let mut value: u64 = 0;
        for &symbol in data {
            let digit = SYMBOLS
                .iter()
                .take(32)
                .position(|&s| s == symbol)
                .ok_or_else(|| invalid("it holds a symbol that is not Crockford base32"))?;
            value = (value << 5) | digit as u64;
        }
        let id = BagId { value };
        if check.first() != Some(&id.check_symbol()) {
            return Err(invalid(
                "its check symbol does not match (a symbol was misread or mistyped)",
            ));
        }
        Ok(id)
    }

    /// The 50-bit value the symbols encode.
    pub fn value(self) -> u64 {
        self.value
    }

    fn check_symbol(self) -> u8 {
        // value mod 37 < 37 = SYMBOLS.len().
        SYMBOLS
            .get((self.value % 37) as usize)
            .copied()
            .unwrap_or(b'0')
    }

    /// The 11 symbols.
    pub fn as_text(self) -> String {
        let mut text = String::with_capacity(DATA_SYMBOLS + 1);
        for index in (0..DATA_SYMBOLS).rev() {
            let digit = (self.value >> (5 * index)) & 31;
            text.push(char::from(
                SYMBOLS.get(digit as usize).copied().unwrap_or(b'0'),
            ));
        }
        text.push(char::from(self.check_symbol()));
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
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_check() {
        // 0 is ten zeros, check 0 mod 37 = 0.
        assert_eq!(BagId::from_random(0).as_text(), "00000000000");
        // 37 → "0000000015" and check 37 mod 37 = 0.
        assert_eq!(BagId::from_random(37).as_text(), "00000000150");
        // 36 = 1×32 + 4 → "14", check 36 → 'U'.
        assert_eq!(BagId::from_random(36).as_text(), "0000000014U");
        // Highest: 50 one-bits → ten Z's; 2^36 ≡ 1 (mod 37), so
        // 2^50 − 1 ≡ 2^14 − 1 = 16383 ≡ 29 → 'X'.
        assert_eq!(BagId::from_random(u64::MAX).as_text(), "ZZZZZZZZZZX");
        for random in [0, 1, 36, 37, 123_456_789, u64::MAX, 0xDEAD_BEEF_CAFE] {
            let id = BagId::from_random(random);
            assert_eq!(BagId::parse(&id.as_text()), Ok(id));
            assert_eq!(BagId::parse(&id.as_text().to_lowercase()), Ok(id));
        }
        assert_eq!(BagId::parse("0000O000150"), Ok(BagId::from_random(37)));
        assert!(BagId::parse("00000000151").is_err());
        assert!(BagId::parse("0000000015").is_err());
        assert!(BagId::parse("000000001U0").is_err());
    }
}
