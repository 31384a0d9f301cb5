//! Every number a person reads, in one place: the numbers in error
//! messages, and clinical output by ISMP conventions:
//! a leading zero (0.5 mL), no trailing zero (5 mL, never 5.0 mL), a space
//! between number and unit, mL never cc, and counts of a million or more as
//! "72.4 million" with the full figure beside it ("72,400,000").
//!
//! Display rounding is to a fixed number of decimals per kind of quantity,
//! nearest value (ties resolved on the binary value, as Rust's formatter
//! does); the exact figures stay in the record.

use crate::template::PluralRule;
use crate::units::{
    BodyWeight, CellConcentration, CellCount, CellsPerKg, ComputedVolume, ExactVolume, PumpRate,
};

/// How a language writes large numbers: its thousands separator and its
/// word for a million. The decimal mark is a point in every language, so a
/// bilingual label never carries two marks (SI allows the point in any
/// language); the French separator is a no-break space, as SI and French
/// typography write it, never a comma a French reader takes for a decimal
/// mark.
#[derive(Debug, Clone, Copy)]
pub struct NumberWords<'a> {
    /// Between groups of three digits: "," or a no-break space.
    pub thousands_separator: &'a str,
    /// "million" for a count the language calls one.
    pub million_one: &'a str,
    /// "million" (English) or "millions" (French) for any other.
    pub million_other: &'a str,
    /// Which counts are one.
    pub plural: PluralRule,
    /// The unit of a concentration: "cells/mL", "cellules/mL".
    pub cells_per_ml: &'a str,
}

/// English, as messages and the default documents write numbers.
pub const ENGLISH: NumberWords<'static> = NumberWords {
    thousands_separator: ",",
    million_one: "million",
    million_other: "million",
    plural: PluralRule::OneIsOne,
    cells_per_ml: "cells/mL",
};

/// A number for a message: plain up to 1e15, scientific beyond (so 1e308 is
/// "1e308", not 309 digits) and for tiny magnitudes.
pub(crate) fn message_number(value: f64) -> String {
    let magnitude = value.abs();
    if value.is_finite() && (magnitude >= 1e15 || (magnitude != 0.0 && magnitude < 1e-6)) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

/// A number rounded to 2 decimals for a message (66.67 mL, 159.66 kg).
pub(crate) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// `value` with at most `decimals` decimals, trailing zeros and a bare point
/// removed, a leading zero kept: 0.05, 10, 10.25, 5.
pub fn decimal(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

/// A whole number with thousands separators: 72,400,000.
pub fn grouped(value: f64) -> String {
    grouped_in(value, &ENGLISH)
}

fn grouped_in(value: f64, words: &NumberWords<'_>) -> String {
    let rounded = format!("{:.0}", value.abs());
    let sign = if value.is_sign_negative() && rounded != "0" {
        "-"
    } else {
        ""
    };
    format!(
        "{sign}{}",
        group_digits(&rounded, words.thousands_separator)
    )
}

/// A run of digits with the separator before every third from the right.
fn group_digits(digits: &str, separator: &str) -> String {
    let count = digits.chars().count();
    let mut out = String::with_capacity(count + count / 3 * separator.len());
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (count - index) % 3 == 0 {
            out.push_str(separator);
        }
        out.push(digit);
    }
    out
}

/// [`decimal`] with thousands separators in the whole part: 1,000.5.
pub fn grouped_decimal(value: f64, decimals: usize) -> String {
    grouped_decimal_in(value, decimals, &ENGLISH)
}

fn grouped_decimal_in(value: f64, decimals: usize, words: &NumberWords<'_>) -> String {
    let text = decimal(value, decimals);
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(unsigned) => ("-", unsigned),
        None => ("", text.as_str()),
    };
    let separator = words.thousands_separator;
    match unsigned.split_once('.') {
        Some((whole, fraction)) => {
            format!("{sign}{}.{fraction}", group_digits(whole, separator))
        }
        None => format!("{sign}{}", group_digits(unsigned, separator)),
    }
}

fn count_number(value: f64, words: &NumberWords<'_>) -> String {
    if value.abs() >= 1e6 {
        let millions = value / 1e6;
        let shown = grouped_decimal_in(millions, 2, words);
        // The word agrees with the figure as shown ("1.5 million", "2 millions").
        let million = match words.plural {
            PluralRule::OneIsOne if shown == "1" => words.million_one,
            PluralRule::OneIsBelowTwo if millions.abs() < 2.0 && shown != "2" => words.million_one,
            _ => words.million_other,
        };
        format!("{shown} {million} ({})", grouped_in(value, words))
    } else {
        grouped_in(value, words)
    }
}

fn short_number(value: f64) -> String {
    // Doses per kg are written in millions from 0.1 million up (0.2-5 million/kg).
    if value.abs() >= 1e5 {
        format!("{} million", grouped_decimal(value / 1e6, 4))
    } else {
        grouped_decimal(value, 2)
    }
}

/// A count of cells: "72.4 million (72,400,000)" from a million up, else
/// "950,000". Never "billion" (ambiguous between long and short scales).
pub fn count(value: CellCount) -> String {
    count_in(value, &ENGLISH)
}

/// [`count`] in a language's words: French gives "72.5 millions
/// (72 500 000)", with no-break spaces.
pub fn count_in(value: CellCount, words: &NumberWords<'_>) -> String {
    count_number(value.cells(), words)
}

/// A concentration: "12.5 million (12,500,000) cells/mL".
pub fn concentration(value: CellConcentration) -> String {
    concentration_in(value, &ENGLISH)
}

/// [`concentration`] in a language's words.
pub fn concentration_in(value: CellConcentration, words: &NumberWords<'_>) -> String {
    format!(
        "{} {}",
        count_number(value.cells_per_ml(), words),
        words.cells_per_ml
    )
}

/// A count in words for a rule: "100 million cells".
pub fn cells_short(value: CellCount) -> String {
    format!("{} cells", short_number(value.cells()))
}

/// A dose per kg for a rule: "2.5 million cells/kg".
pub fn cells_per_kg(value: CellsPerKg) -> String {
    format!("{} cells/kg", short_number(value.value()))
}

/// An exact volume: "5.8 mL", "0.5 mL", "50 mL".
pub fn volume(volume: ExactVolume) -> String {
    volume.to_string()
}

/// A volume that is not a measured amount (an unrounded figure), to 3 decimals.
pub fn computed_volume(volume: ComputedVolume) -> String {
    format!("{} mL", decimal(volume.ml(), 3))
}

/// A body weight: "72.57 kg".
pub fn kilograms(weight: BodyWeight) -> String {
    format!("{} kg", decimal(weight.kg(), 2))
}

/// A pump rate, to the 0.1 mL/h pumps take: "100 mL/h", "109.2 mL/h".
pub fn pump_rate(rate: PumpRate) -> String {
    format!("{} mL/h", decimal(rate.ml_per_hour(), 1))
}

/// A signed percentage from a fraction: "+0.14%", "-10%", "0%".
pub fn signed_percent(fraction: f64) -> String {
    let text = decimal(fraction * 100.0, 2);
    if text.starts_with('-') || text == "0" {
        format!("{text}%")
    } else {
        format!("+{text}%")
    }
}

/// A percentage from a fraction: "10%", "93%".
pub fn percent(fraction: f64) -> String {
    format!("{}%", decimal(fraction * 100.0, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(value: f64) -> CellCount {
        CellCount::computed(value)
    }

    #[test]
    fn leading_zero_and_no_trailing_zero() {
        assert_eq!(decimal(0.05, 2), "0.05");
        assert_eq!(decimal(0.5, 2), "0.5");
        assert_eq!(decimal(10.0, 2), "10");
        assert_eq!(decimal(10.25, 2), "10.25");
        assert_eq!(decimal(5.0, 3), "5");
        assert_eq!(decimal(44.2, 3), "44.2");
        assert_eq!(decimal(-0.001, 2), "0");
        assert_eq!(volume(ExactVolume::from_microlitres(500)), "0.5 mL");
        assert_eq!(volume(ExactVolume::from_microlitres(5_000)), "5 mL");
        assert_eq!(volume(ExactVolume::from_microlitres(10_250)), "10.25 mL");
        assert_eq!(computed_volume(ComputedVolume::from_ml(5.792)), "5.792 mL");
    }

    #[test]
    fn large_counts_in_millions_with_the_full_figure() {
        assert_eq!(count(cells(72.4e6)), "72.4 million (72,400,000)");
        assert_eq!(count(cells(1e9)), "1,000 million (1,000,000,000)");
        assert_eq!(count(cells(1234.5e6)), "1,234.5 million (1,234,500,000)");
        assert_eq!(grouped_decimal(-0.5, 2), "-0.5");
        assert_eq!(count(cells(1e6)), "1 million (1,000,000)");
        assert_eq!(count(cells(72_574_779.2)), "72.57 million (72,574,779)");
        assert_eq!(count(cells(950_000.0)), "950,000");
        assert_eq!(grouped(1234.0), "1,234");
        assert_eq!(grouped(123.0), "123");
        assert_eq!(grouped(-1234567.0), "-1,234,567");
        assert_eq!(cells_short(cells(1e8)), "100 million cells");
        assert_eq!(
            cells_per_kg(CellsPerKg::exact(0.75e6)),
            "0.75 million cells/kg"
        );
    }

    #[test]
    fn rates_weights_and_percentages() {
        let rate = |ml_h: f64| PumpRate::from_ml_per_hour("r", ml_h).map(pump_rate);
        assert_eq!(rate(100.0), Ok("100 mL/h".to_owned()));
        assert_eq!(rate(109.2), Ok("109.2 mL/h".to_owned()));
        assert_eq!(rate(111.66666), Ok("111.7 mL/h".to_owned()));
        assert_eq!(kilograms(BodyWeight::exact(72.5747792)), "72.57 kg");
        assert_eq!(signed_percent(0.1 / 72.4), "+0.14%");
        assert_eq!(signed_percent(-0.1), "-10%");
        assert_eq!(signed_percent(0.0), "0%");
        assert_eq!(percent(0.1), "10%");
        assert_eq!(percent(0.93), "93%");
    }
}
