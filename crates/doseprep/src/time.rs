//! Instants and the site's clock. Arithmetic is on absolute instants
//! (`jiff::Timestamp`); every time a person reads is the wall-clock time of
//! the site's IANA time zone with its abbreviation ("2026-11-01 02:30 EST"),
//! right on both daylight-saving nights. Records keep the instant and the
//! zone as RFC 9557 text ("2026-11-01T02:30:00-05:00[America/Toronto]").
//!
//! The time zone database is the one bundled into this library (jiff's
//! `tzdb-bundle-always`), not the machine's: the core reads no file, and a
//! record verifies to the same times on every machine.

use std::fmt;
use std::sync::{Arc, OnceLock};

use jiff::fmt::temporal::DateTimeParser;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::{Timestamp, ZonedDateTime};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{DoseError, Result};

/// The bundled time zone database, opened once.
fn database() -> &'static TimeZoneDatabase {
    static DATABASE: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DATABASE.get_or_init(TimeZoneDatabase::bundled)
}

/// The time zone of the site's wall clocks, by its IANA name.
#[derive(Debug, Clone)]
pub struct SiteZone {
    name: Arc<str>,
    zone: TimeZone,
}

impl SiteZone {
    /// The zone of an IANA name such as "America/Toronto" or "Europe/Paris".
    /// An empty or unknown name, or a fixed offset, is refused.
    pub fn new(field: &str, name: &str) -> Result<SiteZone> {
        let trimmed = name.trim();
        let refuse = |reason: &str| {
            DoseError::invalid_protocol(
                field,
                format!("{name:?}"),
                &format!("{reason}; give the IANA name of the site's time zone, e.g. \"America/Toronto\" or \"Europe/Paris\""),
            )
        };
        if trimmed.is_empty() {
            return Err(refuse("is empty"));
        }
        let zone = database()
            .get(trimmed)
            .map_err(|_| refuse("is not a time zone in the IANA database"))?;
        let canonical = zone.iana_name().unwrap_or(trimmed).to_owned();
        Ok(SiteZone {
            name: Arc::from(canonical),
            zone,
        })
    }

    /// A zone compiled into the library (the built-in protocol's).
    pub(crate) fn built_in(name: &'static str, zone: TimeZone) -> SiteZone {
        SiteZone {
            name: Arc::from(name),
            zone,
        }
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The jiff zone.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// An instant on this site's clock.
    pub fn at(&self, instant: Timestamp) -> SiteTime {
        SiteTime {
            at: instant,
            zone: self.zone.clone(),
        }
    }
}

impl PartialEq for SiteZone {
    fn eq(&self, other: &SiteZone) -> bool {
        self.name == other.name
    }
}

/// An instant and the site zone it is read in.
#[derive(Debug, Clone)]
pub struct SiteTime {
    at: Timestamp,
    zone: TimeZone,
}

impl SiteTime {
    /// An instant read in a zone.
    pub fn new(instant: Timestamp, zone: TimeZone) -> SiteTime {
        SiteTime { at: instant, zone }
    }

    /// The instant.
    pub fn instant(&self) -> Timestamp {
        self.at
    }

    /// The zone it is read in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// As a jiff zoned datetime.
    pub fn zoned(&self) -> ZonedDateTime {
        self.at.to_zoned_datetime(self.zone.clone())
    }

    /// The wall-clock reading with the zone's abbreviation: "2026-11-01 02:30 EST".
    /// In the repeated hour of a fall-back night the UTC offset follows, so
    /// the two readings of the same wall-clock time cannot be confused:
    /// "2026-10-25 02:30 CEST (UTC+02:00)" then "2026-10-25 02:30 CET (UTC+01:00)".
    pub fn wall_clock(&self) -> String {
        self.read_as("%Y-%m-%d %H:%M %Z")
    }

    /// The wall-clock time of day: "02:30 EST" (with the UTC offset in a
    /// repeated hour, as [`SiteTime::wall_clock`]).
    pub fn time_of_day(&self) -> String {
        self.read_as("%H:%M %Z")
    }

    /// True when this wall-clock time occurs twice on this day (the hour a
    /// fall-back night repeats).
    pub fn in_repeated_hour(&self) -> bool {
        let civil = self.zoned().datetime();
        matches!(
            self.zone.to_ambiguous_timestamp(civil).offset(),
            AmbiguousOffset::Fold { .. }
        )
    }

    fn read_as(&self, format: &str) -> String {
        let zoned = self.zoned();
        let reading = zoned.strftime(format).to_string();
        if self.in_repeated_hour() {
            format!("{reading} (UTC{})", zoned.strftime("%:z"))
        } else {
            reading
        }
    }

    /// RFC 9557: "2026-11-01T02:30:00-05:00[America/Toronto]".
    pub fn rfc9557(&self) -> String {
        self.zoned().to_string()
    }

    /// The zone's abbreviation at this instant ("EST").
    pub fn abbreviation(&self) -> String {
        self.zone.to_offset_info(self.at).abbreviation().to_owned()
    }

    /// Offset from UTC at this instant, in seconds.
    pub fn offset_seconds(&self) -> i32 {
        self.zone.to_offset(self.at).seconds()
    }
}

/// Two site times are equal when they are the same instant read in the same zone.
impl PartialEq for SiteTime {
    fn eq(&self, other: &SiteTime) -> bool {
        self.at == other.at && self.zone.iana_name() == other.zone.iana_name()
    }
}

impl fmt::Display for SiteTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.wall_clock())
    }
}

impl Serialize for SiteTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc9557())
    }
}

impl<'de> Deserialize<'de> for SiteTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let zoned = parse_time("time", &text).map_err(serde::de::Error::custom)?;
        Ok(SiteTime {
            at: zoned.timestamp(),
            zone: zoned.time_zone().clone(),
        })
    }
}

/// `at + duration`, or `None` out of jiff's range. The same as
/// `Timestamp::checked_add`, in a few integer operations (a bag's times are
/// computed on every preparation).
#[inline]
pub(crate) fn add_duration(at: Timestamp, duration: jiff::SignedDuration) -> Option<Timestamp> {
    const NANOS_PER_SECOND: i32 = 1_000_000_000;
    let mut seconds = at.as_second().checked_add(duration.as_secs())?;
    // Each part is within ±(1e9 − 1), so the sum fits an i32.
    let mut nanos = at.subsec_nanosecond() + duration.subsec_nanos();
    if nanos >= NANOS_PER_SECOND {
        seconds = seconds.checked_add(1)?;
        nanos -= NANOS_PER_SECOND;
    } else if nanos <= -NANOS_PER_SECOND {
        seconds = seconds.checked_sub(1)?;
        nanos += NANOS_PER_SECOND;
    }
    Timestamp::new(seconds, nanos).ok()
}

/// Read a time with its UTC offset ("2026-11-25T09:00:00+01:00") or with a
/// zone name ("2026-11-01T02:30:00-05:00[America/Toronto]"). A time without
/// an offset is refused: a record must say which clock it was read from.
pub fn parse_time(field: &str, input: &str) -> Result<ZonedDateTime> {
    let invalid = |reason: String| DoseError::InvalidTime {
        field: field.to_owned(),
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    let parser = DateTimeParser::new();
    if text.ends_with(']') {
        return parser
            .parse_zoned_datetime_with(database(), text)
            .map_err(|e| {
                invalid(format!(
                    "{e}; write it as 2026-11-01T02:30:00-05:00[America/Toronto]"
                ))
            });
    }
    let timestamp = parser.parse_timestamp(text).map_err(|e| {
        invalid(format!(
            "{e}; write a date and time with its UTC offset, e.g. 2026-11-25T09:00:00+01:00"
        ))
    })?;
    let pieces = parser
        .parse_pieces(text)
        .map_err(|e| invalid(e.to_string()))?;
    let offset = match pieces.offset() {
        Some(jiff::fmt::temporal::PiecesOffset::Numeric(numeric)) => numeric.offset(),
        _ => jiff::tz::Offset::UTC,
    };
    Ok(timestamp.to_zoned_datetime(TimeZone::fixed(offset)))
}

/// A time as its input form: RFC 3339 with the offset for a fixed offset
/// ("2026-11-25T09:00:00+01:00"), RFC 9557 for a named zone.
pub fn format_time(time: &ZonedDateTime) -> String {
    if time.time_zone().iana_name().is_some() {
        time.to_string()
    } else {
        time.timestamp()
            .display_with_offset(time.offset())
            .to_string()
    }
}

/// Serde for an input time: [`format_time`] and [`parse_time`].
pub mod time_text {
    use super::*;

    /// Write the time.
    pub fn serialize<S: Serializer>(
        time: &ZonedDateTime,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(time))
    }

    /// Read it back.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<ZonedDateTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_time("time", &text).map_err(serde::de::Error::custom)
    }

    /// The same for an optional time.
    pub mod option {
        use super::*;

        /// Write the time or nothing.
        pub fn serialize<S: Serializer>(
            time: &Option<ZonedDateTime>,
            serializer: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            match time {
                Some(time) => serializer.serialize_some(&format_time(time)),
                None => serializer.serialize_none(),
            }
        }

        /// Read a time, if present.
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> std::result::Result<Option<ZonedDateTime>, D::Error> {
            Option::<String>::deserialize(deserializer)?
                .map(|text| parse_time("time", &text))
                .transpose()
                .map_err(serde::de::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toronto() -> SiteZone {
        SiteZone::new("site.time_zone", "America/Toronto").unwrap_or_else(|_| {
            SiteZone::built_in("America/Toronto", jiff::tz::get!("America/Toronto"))
        })
    }

    fn instant(text: &str) -> Timestamp {
        parse_time("t", text)
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn fall_back_night_in_toronto_reads_the_wall_clock() {
        // 2026-11-01: clocks go back from 02:00 EDT to 01:00 EST. Thaw at
        // 00:30 EDT (04:30 UTC) + 3 h = 07:30 UTC = 02:30 EST.
        let thaw = instant("2026-11-01T00:30:00-04:00");
        let end = thaw
            .checked_add(jiff::SignedDuration::from_hours(3))
            .unwrap_or(thaw);
        let site = toronto();
        assert_eq!(site.at(thaw).wall_clock(), "2026-11-01 00:30 EDT");
        assert_eq!(site.at(end).wall_clock(), "2026-11-01 02:30 EST");
        assert_eq!(
            site.at(end).rfc9557(),
            "2026-11-01T02:30:00-05:00[America/Toronto]"
        );
    }

    #[test]
    fn a_time_in_the_repeated_hour_carries_its_utc_offset() {
        let toronto = toronto();
        let paris = SiteZone::built_in("Europe/Paris", jiff::tz::get!("Europe/Paris"));
        // (zone, instant in UTC, what a person reads). Toronto: back from
        // 02:00 EDT to 01:00 EST on 2026-11-01, forward from 02:00 EST to
        // 03:00 EDT on 2026-03-08. Paris: back from 03:00 CEST to 02:00 CET
        // on 2026-10-25, forward from 02:00 CET to 03:00 CEST on 2026-03-29.
        let cases = [
            (&toronto, "2026-11-01T04:59:00Z", "2026-11-01 00:59 EDT"),
            (
                &toronto,
                "2026-11-01T05:00:00Z",
                "2026-11-01 01:00 EDT (UTC-04:00)",
            ),
            (
                &toronto,
                "2026-11-01T05:30:00Z",
                "2026-11-01 01:30 EDT (UTC-04:00)",
            ),
            (
                &toronto,
                "2026-11-01T06:30:00Z",
                "2026-11-01 01:30 EST (UTC-05:00)",
            ),
            (&toronto, "2026-11-01T07:00:00Z", "2026-11-01 02:00 EST"),
            (&toronto, "2026-03-08T06:59:00Z", "2026-03-08 01:59 EST"),
            (&toronto, "2026-03-08T07:30:00Z", "2026-03-08 03:30 EDT"),
            (
                &paris,
                "2026-10-25T00:30:00Z",
                "2026-10-25 02:30 CEST (UTC+02:00)",
            ),
            (
                &paris,
                "2026-10-25T01:30:00Z",
                "2026-10-25 02:30 CET (UTC+01:00)",
            ),
            (&paris, "2026-10-25T02:00:00Z", "2026-10-25 03:00 CET"),
            (&paris, "2026-03-29T00:59:00Z", "2026-03-29 01:59 CET"),
            (&paris, "2026-03-29T01:30:00Z", "2026-03-29 03:30 CEST"),
        ];
        for (zone, utc, read) in cases {
            assert_eq!(zone.at(instant(utc)).wall_clock(), read, "{utc}");
        }
        assert_eq!(
            paris.at(instant("2026-10-25T01:30:00Z")).time_of_day(),
            "02:30 CET (UTC+01:00)"
        );
    }

    #[test]
    fn adding_durations_agrees_with_jiff() {
        let instants = [
            Timestamp::new(1_764_000_000, 0),
            Timestamp::new(1_764_000_000, 999_999_999),
            Timestamp::new(-5, -999_999_999),
            Timestamp::new(0, 0),
            Ok(Timestamp::MAX),
            Ok(Timestamp::MIN),
        ];
        let durations = [
            jiff::SignedDuration::from_hours(3),
            -jiff::SignedDuration::from_mins(30),
            jiff::SignedDuration::new(0, 1),
            jiff::SignedDuration::new(-1, -1),
            jiff::SignedDuration::from_millis(7_920_000),
        ];
        for instant in instants.into_iter().flatten() {
            for duration in durations {
                assert_eq!(
                    add_duration(instant, duration),
                    instant.checked_add(duration).ok(),
                    "{instant} {duration:?}"
                );
            }
        }
    }

    #[test]
    fn unknown_zones_are_named() {
        let error = SiteZone::new("site.time_zone", "America/Montréal").map_err(|e| e.to_string());
        assert!(
            matches!(&error, Err(m) if m.contains("\"America/Montréal\"") && m.contains("IANA")),
            "{error:?}"
        );
        assert!(SiteZone::new("site.time_zone", "").is_err());
        assert!(SiteZone::new("site.time_zone", "+05:00").is_err());
        assert_eq!(
            SiteZone::new("z", "europe/paris").map(|z| z.name().to_owned()),
            Ok("Europe/Paris".to_owned())
        );
    }

    #[test]
    fn times_without_an_offset_are_refused() {
        assert!(parse_time("t", "2026-11-25T09:00:00").is_err());
        assert!(parse_time("t", "2026-11-25T09:00:00Z").is_ok());
        let zoned = parse_time("t", "2026-11-01T02:30:00-05:00[America/Toronto]");
        assert_eq!(
            zoned.map(|z| format_time(&z)),
            Ok("2026-11-01T02:30:00-05:00[America/Toronto]".to_owned())
        );
        let fixed = parse_time("t", "2026-11-25T09:00:00+01:00");
        assert_eq!(
            fixed.map(|z| format_time(&z)),
            Ok("2026-11-25T09:00:00+01:00".to_owned())
        );
    }
}
