//! Durations, read exactly ("2.2 h" is 7,920,000 ms, not 7920.000000000001 s)
//! and held as `jiff::SignedDuration`, which adds to instants exactly.

use jiff::SignedDuration;

use super::text::{missing_unit, read_quantity, unknown_unit};
use crate::error::{DoseError, Result};

/// Longest duration any setting may take (about 31.7 years).
const LONGEST_MS: u128 = 1_000_000_000_000;

/// Read "30 min", "3 h", "2.2 h", "90 s" or "1500 ms": greater than 0, a
/// whole number of milliseconds, at most 1e12 ms.
pub fn parse_duration(field: &str, input: &str) -> Result<SignedDuration> {
    const EXAMPLE: &str = "'30 min' or '3 h'";
    let raw = read_quantity(field, input, EXAMPLE)?;
    let ms_per_unit: u128 = match raw.unit {
        "" => return Err(missing_unit(field, input, EXAMPLE)),
        "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(unknown_unit(
                field,
                input,
                raw.unit,
                "write ms, s, min or h",
            ))
        }
    };
    let invalid = || {
        DoseError::invalid_quantity(
            field,
            raw.value,
            raw.unit,
            "greater than 0, a whole number of milliseconds and at most 1e12 ms",
        )
    };
    let ms = raw
        .exact()
        .and_then(|d| d.times_whole(ms_per_unit))
        .filter(|ms| *ms > 0 && *ms <= LONGEST_MS)
        .ok_or_else(invalid)?;
    i64::try_from(ms)
        .map(SignedDuration::from_millis)
        .map_err(|_| invalid())
}

/// "30 min", "3 h", "132 min", "90 s", "1.5 s": the largest of h, min, s
/// that divides the duration; else seconds with their decimals.
pub fn format_duration(duration: SignedDuration) -> String {
    let ms = duration.as_millis();
    if ms != 0 && ms % 3_600_000 == 0 {
        format!("{} h", ms / 3_600_000)
    } else if ms != 0 && ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{} s", ms / 1000)
    } else {
        let text = format!("{}.{:03}", ms / 1000, (ms % 1000).abs());
        format!("{} s", text.trim_end_matches('0'))
    }
}

/// A duration in hours, for rates (display and pump rates only).
pub(crate) fn hours(duration: SignedDuration) -> f64 {
    // Whole milliseconds (checked on the way in) as one exact f64, then one division.
    let ms = duration.as_secs() as f64 * 1000.0 + f64::from(duration.subsec_millis());
    ms / 3_600_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn durations_parse_exactly() {
        let ms = |s: &str| parse_duration("d", s).map(|d| d.as_millis());
        assert_eq!(ms("30 min"), Ok(1_800_000));
        assert_eq!(ms("3 h"), Ok(10_800_000));
        assert_eq!(ms("2.2 h"), Ok(7_920_000));
        assert_eq!(ms("1.1 h"), Ok(3_960_000));
        assert_eq!(ms("4.1 min"), Ok(246_000));
        assert_eq!(ms("90 min"), Ok(5_400_000));
        assert_eq!(ms("1.5 s"), Ok(1_500));
        assert_eq!(ms("0.5e1 min"), Ok(300_000));
        let kind = |s: &str| parse_duration("d", s).map_err(|e| e.kind());
        assert_eq!(kind("0 min"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("-5 min"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("0.0001 s"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("1e20 h"), Err(ErrorKind::InvalidQuantity));
        assert_eq!(kind("30"), Err(ErrorKind::Unit));
        assert_eq!(kind("30 days"), Err(ErrorKind::Unit));
    }

    #[test]
    fn durations_print_in_the_largest_unit_that_divides() {
        assert_eq!(format_duration(SignedDuration::from_mins(90)), "90 min");
        assert_eq!(format_duration(SignedDuration::from_hours(3)), "3 h");
        assert_eq!(
            format_duration(SignedDuration::from_millis(7_920_000)),
            "132 min"
        );
        assert_eq!(format_duration(SignedDuration::from_secs(45)), "45 s");
        assert_eq!(format_duration(SignedDuration::from_millis(1_500)), "1.5 s");
        assert_eq!(
            format_duration(SignedDuration::from_millis(1_250)),
            "1.25 s"
        );
    }
}
