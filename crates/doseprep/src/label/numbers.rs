//! Numbers for clinical output, by ISMP conventions, in one place:
//! a leading zero (0.5 mL), no trailing zero (5 mL, never 5.0 mL), a space
//! between number and unit, mL never cc, and counts of a million or more as
//! "72.4 million" with the full figure beside it ("72,400,000").
//!
//! Display rounding is to a fixed number of decimals per kind of quantity,
//! nearest value (ties resolved on the binary value, as Rust's formatter
//! does); the exact figures stay in the record.

use jiff::ZonedDateTime;

use crate::units::ExactVolume;

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
    let rounded = format!("{:.0}", value.abs());
    let digits = rounded.as_bytes();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value.is_sign_negative() && rounded != "0" {
        out.push('-');
    }
    for (index, digit) in rounded.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// [`decimal`] with thousands separators in the whole part: 1,000.5.
pub fn grouped_decimal(value: f64, decimals: usize) -> String {
    let text = decimal(value, decimals);
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let whole = grouped(whole.parse::<f64>().unwrap_or(0.0));
    let sign = if text.starts_with('-') && !whole.starts_with('-') {
        "-"
    } else {
        ""
    };
    if fraction.is_empty() {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    }
}

/// A count of cells: "72.4 million (72,400,000)" from a million up, else
/// "950,000". Never "billion" (ambiguous between long and short scales).
pub fn count(value: f64) -> String {
    if value.abs() >= 1e6 {
        format!(
            "{} million ({})",
            grouped_decimal(value / 1e6, 2),
            grouped(value)
        )
    } else {
        grouped(value)
    }
}

/// An exact volume: "5.8 mL", "0.5 mL", "50 mL".
pub fn volume(volume: ExactVolume) -> String {
    volume.to_string()
}

/// A volume in mL that is not a measured amount (an unrounded figure), to 3 decimals.
pub fn millilitres(ml: f64) -> String {
    format!("{} mL", decimal(ml, 3))
}

/// A body weight: "72.57 kg".
pub fn kilograms(kg: f64) -> String {
    format!("{} kg", decimal(kg, 2))
}

/// A pump rate, to the 0.1 mL/h pumps take: "100 mL/h", "109.2 mL/h".
pub fn pump_rate(ml_per_hour: f64) -> String {
    format!("{} mL/h", decimal(ml_per_hour, 1))
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

/// A time on a label: "2026-11-25 12:00 +00:00".
pub fn time(time: &ZonedDateTime) -> String {
    time.strftime("%Y-%m-%d %H:%M %:z").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(millilitres(5.792), "5.792 mL");
    }

    #[test]
    fn large_counts_in_millions_with_the_full_figure() {
        assert_eq!(count(72.4e6), "72.4 million (72,400,000)");
        assert_eq!(count(1e9), "1,000 million (1,000,000,000)");
        assert_eq!(count(1234.5e6), "1,234.5 million (1,234,500,000)");
        assert_eq!(grouped_decimal(-0.5, 2), "-0.5");
        assert_eq!(count(1e6), "1 million (1,000,000)");
        assert_eq!(count(72_574_779.2), "72.57 million (72,574,779)");
        assert_eq!(count(950_000.0), "950,000");
        assert_eq!(count(0.0), "0");
        assert_eq!(grouped(1234.0), "1,234");
        assert_eq!(grouped(123.0), "123");
        assert_eq!(grouped(-1234567.0), "-1,234,567");
    }

    #[test]
    fn rates_weights_and_percentages() {
        assert_eq!(pump_rate(100.0), "100 mL/h");
        assert_eq!(pump_rate(109.2), "109.2 mL/h");
        assert_eq!(pump_rate(111.66666), "111.7 mL/h");
        assert_eq!(kilograms(72.5747792), "72.57 kg");
        assert_eq!(signed_percent(0.1 / 72.4), "+0.14%");
        assert_eq!(signed_percent(-0.1), "-10%");
        assert_eq!(signed_percent(0.0), "0%");
        assert_eq!(percent(0.1), "10%");
        assert_eq!(percent(0.93), "93%");
    }
}
