//! Time units and calendar arithmetic: every time in the engine is ms since the Unix epoch (UTC).

/// Milliseconds per day.
pub const MS_PER_DAY: i64 = 86_400_000;
/// Milliseconds per hour.
pub const MS_PER_HOUR: i64 = 3_600_000;

/// Days to whole milliseconds (validated inputs never overflow).
pub(crate) fn days_to_ms(days: f64) -> i64 {
    (days * MS_PER_DAY as f64).round() as i64
}

/// `YYYY-MM-DD` of a UTC day number (days since 1970-01-01), by Howard Hinnant's
/// `civil_from_days`.
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(-1), "1969-12-31");
        // 2024-02-29 is day 19782 (python: (date(2024,2,29)-date(1970,1,1)).days)
        assert_eq!(civil_date(19_782), "2024-02-29");
        assert_eq!(civil_date(19_783), "2024-03-01");
        assert_eq!(civil_date(2_932_896), "9999-12-31");
    }
}
