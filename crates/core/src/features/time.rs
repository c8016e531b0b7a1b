//! Calendar arithmetic on millisecond timestamps, in a fixed time-zone offset.
//!
//! A fixed offset (not a tz database) keeps the core free of I/O and the features reproducible:
//! the operator picks the offset of the population the model watches (UTC by default).

pub const MS_PER_SECOND: i64 = 1_000;
pub const MS_PER_MINUTE: i64 = 60_000;
pub const MS_PER_HOUR: i64 = 3_600_000;
pub const MS_PER_DAY: i64 = 86_400_000;
/// Window of the weekly IP and device counts and of "new device".
pub const WEEK_MS: i64 = 7 * MS_PER_DAY;

/// Local calendar facts of one instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalTime {
    /// Hour of day with its fraction, in `[0, 24)`.
    pub hour: f64,
    /// Whole hour of day, 0..=23.
    pub hour_index: u8,
    /// Day of week, 0 = Monday ..= 6 = Sunday.
    pub weekday: u8,
}

impl LocalTime {
    /// Local time of `timestamp_ms` at `tz_offset_minutes` east of UTC.
    pub fn at(timestamp_ms: i64, tz_offset_minutes: i32) -> Self {
        let local = timestamp_ms.saturating_add(i64::from(tz_offset_minutes) * MS_PER_MINUTE);
        let ms_of_day = local.rem_euclid(MS_PER_DAY);
        let day = local.div_euclid(MS_PER_DAY);
        // 1970-01-01 was a Thursday (weekday 3 with Monday = 0).
        let weekday = (day + 3).rem_euclid(7) as u8;
        let hour_index = (ms_of_day / MS_PER_HOUR) as u8;
        LocalTime {
            hour: ms_of_day as f64 / MS_PER_HOUR as f64,
            hour_index,
            weekday,
        }
    }

    /// Saturday or Sunday.
    pub fn is_weekend(&self) -> bool {
        self.weekday >= 5
    }

    /// Monday–Friday and `start <= hour < end` (whole local hours).
    pub fn is_business_hours(&self, start: u8, end: u8) -> bool {
        !self.is_weekend() && self.hour_index >= start && self.hour_index < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-01-01T00:00:00Z was a Monday.
    const MONDAY_2024: i64 = 1_704_067_200_000;

    #[test]
    fn weekday_and_hour_in_utc() {
        let t = LocalTime::at(MONDAY_2024 + 10 * MS_PER_HOUR + 30 * MS_PER_MINUTE, 0);
        assert_eq!(t.weekday, 0);
        assert_eq!(t.hour_index, 10);
        assert!((t.hour - 10.5).abs() < 1e-12);
        assert!(t.is_business_hours(9, 18));
        assert!(!t.is_weekend());
        let sat = LocalTime::at(MONDAY_2024 + 5 * MS_PER_DAY + 12 * MS_PER_HOUR, 0);
        assert_eq!(sat.weekday, 5);
        assert!(sat.is_weekend());
        assert!(!sat.is_business_hours(9, 18));
        assert_eq!(LocalTime::at(0, 0).weekday, 3, "the epoch was a Thursday");
    }

    #[test]
    fn offsets_shift_hour_and_day() {
        // 23:00 UTC Sunday is 01:00 Monday at UTC+2 and 18:00 Sunday at UTC-5
        let t = MONDAY_2024 - MS_PER_HOUR;
        let east = LocalTime::at(t, 120);
        assert_eq!((east.weekday, east.hour_index), (0, 1));
        let west = LocalTime::at(t, -300);
        assert_eq!((west.weekday, west.hour_index), (6, 18));
        assert!(!LocalTime::at(MONDAY_2024 + 18 * MS_PER_HOUR, 0).is_business_hours(9, 18));
    }

    #[test]
    fn before_the_epoch_is_well_defined() {
        let t = LocalTime::at(-1, 0);
        assert_eq!(t.weekday, 2, "1969-12-31 was a Wednesday");
        assert_eq!(t.hour_index, 23);
        assert!(t.hour < 24.0);
    }
}
