//! Reading a quantity from text: a number, an optional "million", a unit.
//! The number is kept both as an `f64` and, where a unit needs exactness
//! (volumes, durations), as an exact decimal.

use std::str::FromStr;

use crate::error::{DoseError, Result};

/// Largest value any read quantity may take: beyond it a value is a typo or
/// an overflow, not a measurement (1e15 cells, 1e15 kg, 1e15 mL all are).
pub(crate) const LARGEST_PLAUSIBLE: f64 = 1e15;

/// The rule every read quantity keeps, as words for messages.
pub(crate) const POSITIVE_FINITE: &str = "a finite number greater than 0 and at most 1e15";

/// `value` if it is finite, above 0 and at most [`LARGEST_PLAUSIBLE`].
pub(crate) fn check_positive(field: &str, value: f64, unit: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 && value <= LARGEST_PLAUSIBLE {
        Ok(value)
    } else {
        Err(DoseError::invalid_quantity(
            field,
            value,
            unit,
            POSITIVE_FINITE,
        ))
    }
}

/// A decimal number exactly as written: `digits × 10^exponent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    digits: u128,
    exponent: i32,
}

impl Decimal {
    /// `self × numerator` as a whole number, if it is one (and fits).
    /// E.g. 2.2 × 3,600,000 (ms per hour) = 7,920,000.
    pub(crate) fn times_whole(self, numerator: u128) -> Option<u128> {
        let product = self.digits.checked_mul(numerator)?;
        if self.exponent >= 0 {
            let scale = 10u128.checked_pow(self.exponent.unsigned_abs())?;
            product.checked_mul(scale)
        } else {
            let scale = 10u128.checked_pow(self.exponent.unsigned_abs())?;
            (product % scale == 0).then_some(product / scale)
        }
    }
}

/// A number and the unit text after it, as read from a string such as
/// "12.5 million cells/mL" (the multiplier word is applied to the number).
pub(crate) struct RawQuantity<'a> {
    /// The number, with any "million" applied.
    pub value: f64,
    /// The number as written.
    number: &'a str,
    /// The power of ten of the multiplier word (6 for "million").
    multiplier: i32,
    /// The unit text, trimmed ("" when there is none).
    pub unit: &'a str,
}

impl RawQuantity<'_> {
    /// The number exactly, where it has at most 38 significant digits (read
    /// only by the units that need it: volumes and durations).
    pub fn exact(&self) -> Option<Decimal> {
        let d = parse_decimal(self.number)?;
        Some(Decimal {
            digits: d.digits,
            exponent: d.exponent.checked_add(self.multiplier)?,
        })
    }
}

/// Read `input` as a number followed by a unit. `example` is a well-formed
/// input for this field, shown in the message when `input` is malformed.
pub(crate) fn read_quantity<'a>(
    field: &str,
    input: &'a str,
    example: &str,
) -> Result<RawQuantity<'a>> {
    let malformed = |reason: &str| DoseError::Malformed {
        field: field.to_owned(),
        input: input.to_owned(),
        reason: reason.to_owned(),
        example: example.to_owned(),
    };
    let text = input.trim();
    if text.is_empty() {
        return Err(malformed("it is empty"));
    }
    let number_end = numeric_prefix_len(text);
    let (number, rest) = text.split_at(number_end);
    if number.is_empty() {
        return Err(malformed("it does not start with a number"));
    }
    if rest.starts_with(',') {
        return Err(malformed(
            "a comma is not a decimal point or thousands separator here; use a point (72.4) and no separators",
        ));
    }
    let value = f64::from_str(number).map_err(|_| malformed("the number is not well formed"))?;
    let rest = rest.trim_start();
    let (multiplier, unit) = match rest.split_once(char::is_whitespace) {
        Some((word, unit)) if word.eq_ignore_ascii_case("million") => (6, unit.trim()),
        Some((word, _)) if word.eq_ignore_ascii_case("billion") => {
            return Err(malformed(
                "'billion' is ambiguous; write the count in millions (1000 million) or as 1e9",
            ));
        }
        _ => (0, rest),
    };
    let value = if multiplier == 0 { value } else { value * 1e6 };
    Ok(RawQuantity {
        value,
        number,
        multiplier,
        unit,
    })
}

/// Length of the leading `[+-]digits[.digits][e[+-]digits]` of `text`.
fn numeric_prefix_len(text: &str) -> usize {
    let bytes = text.as_bytes();
    let mut end = 0;
    let mut seen_digit = false;
    let mut seen_exponent = false;
    while let Some(&byte) = bytes.get(end) {
        let accept = match byte {
            b'0'..=b'9' => {
                seen_digit = true;
                true
            }
            b'.' => !seen_exponent,
            b'+' | b'-' => end == 0 || matches!(bytes.get(end.wrapping_sub(1)), Some(b'e' | b'E')),
            b'e' | b'E' => {
                // An exponent only if digits follow ("1e6"), not a unit ("1 each").
                let next = bytes.get(end + 1).copied();
                let after_sign = bytes.get(end + 2).copied();
                let starts_exponent = matches!(next, Some(b'0'..=b'9'))
                    || (matches!(next, Some(b'+' | b'-'))
                        && matches!(after_sign, Some(b'0'..=b'9')));
                seen_digit && !seen_exponent && starts_exponent && {
                    seen_exponent = true;
                    true
                }
            }
            _ => false,
        };
        if !accept {
            break;
        }
        end += 1;
    }
    end
}

/// The exact decimal of a non-negative number such as "2.2", "0.001",
/// "1e6" or "1.25E+7"; `None` for a sign, more than 38 digits or an absurd
/// exponent (the `f64` value is used then, and exact units refuse it).
fn parse_decimal(number: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match number.find(['e', 'E']) {
        Some(at) => (
            number.get(..at)?,
            number.get(at + 1..)?.parse::<i32>().ok()?,
        ),
        None => (number, 0),
    };
    if exponent.unsigned_abs() > 1000 {
        return None;
    }
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut digits: u128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        digits = digits
            .checked_mul(10)?
            .checked_add(u128::from(byte - b'0'))?;
    }
    let fraction_digits = i32::try_from(fraction.len()).ok()?;
    Some(Decimal {
        digits,
        exponent: exponent.checked_sub(fraction_digits)?,
    })
}

/// The error for a number given without its unit.
pub(crate) fn missing_unit(field: &str, input: &str, example: &str) -> DoseError {
    DoseError::MissingUnit {
        field: field.to_owned(),
        input: input.to_owned(),
        example: example.to_owned(),
    }
}

/// The error for a unit this field does not take.
pub(crate) fn unknown_unit(field: &str, input: &str, unit: &str, hint: &str) -> DoseError {
    DoseError::UnknownUnit {
        field: field.to_owned(),
        input: input.to_owned(),
        unit: unit.to_owned(),
        hint: hint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decimal(text: &str) -> Option<(u128, i32)> {
        parse_decimal(text).map(|d| (d.digits, d.exponent))
    }

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(decimal("2.2"), Some((22, -1)));
        assert_eq!(decimal("0.001"), Some((1, -3)));
        assert_eq!(decimal("1e6"), Some((1, 6)));
        assert_eq!(decimal("1.25E+7"), Some((125, 5)));
        assert_eq!(decimal("5."), Some((5, 0)));
        assert_eq!(decimal(".5"), Some((5, -1)));
        assert_eq!(decimal("-1"), None);
        assert_eq!(decimal("."), None);
        assert_eq!(decimal("1e99999"), None);
    }

    #[test]
    fn whole_multiples() {
        let two_point_two = Decimal {
            digits: 22,
            exponent: -1,
        };
        assert_eq!(two_point_two.times_whole(3_600_000), Some(7_920_000));
        let tiny = Decimal {
            digits: 1,
            exponent: -4,
        };
        assert_eq!(tiny.times_whole(1000), None);
        let huge = Decimal {
            digits: 1,
            exponent: 40,
        };
        assert_eq!(huge.times_whole(1000), None);
    }
}
