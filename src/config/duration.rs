//! The duration grammar of the config file, kept small and strict so a value means one thing:
//!
//! ```text
//! duration = digits [ "." digits ] unit
//! unit     = "ms" | "s" | "m" | "h"
//! ```
//!
//! Examples: `"0s"`, `"10ms"`, `"1s"`, `"1.5s"`, `"2m"`, `"1h"`. No spaces, no sign, no compound forms such as
//! `"1m30s"`, no bare numbers (is `1` a second or a millisecond?). The value must be a whole number of
//! milliseconds: `"1.0005s"` and `"1.5ms"` are rejected rather than rounded.

use std::time::Duration;

/// Why a duration string was rejected; `Display` completes the sentence "expected ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Not `digits[.digits]unit`.
    Syntax,
    /// Finer than a millisecond.
    SubMillisecond,
    /// Does not fit in a u64 of milliseconds.
    Overflow,
}

impl std::fmt::Display for DurationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DurationError::Syntax => {
                "a duration: a number and a unit (ms, s, m or h), such as \"100ms\", \"1s\" or \"1.5s\""
            }
            DurationError::SubMillisecond => "a whole number of milliseconds",
            DurationError::Overflow => "a duration of a sane size",
        })
    }
}

/// Parses the grammar above into whole milliseconds.
pub fn parse_millis(text: &str) -> Result<u64, DurationError> {
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else if let Some(n) = text.strip_suffix('h') {
        (n, 3_600_000)
    } else {
        return Err(DurationError::Syntax);
    };
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(DurationError::Syntax);
    }
    if number.contains('.') && fraction.is_empty() {
        return Err(DurationError::Syntax);
    }
    // Exact arithmetic: value = (whole.fraction) * unit, which must come out a whole number of ms.
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 9 {
        // A non-zero digit below 1e-9 of an hour (the largest unit) is always a fraction of a millisecond.
        return Err(DurationError::SubMillisecond);
    }
    let scale = 10u128.pow(fraction.len() as u32);
    let whole: u128 = whole.parse().map_err(|_| DurationError::Overflow)?;
    let fraction: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| DurationError::Syntax)?
    };
    let scaled = whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .and_then(|n| n.checked_mul(u128::from(unit_ms)))
        .ok_or(DurationError::Overflow)?;
    if scaled % scale != 0 {
        return Err(DurationError::SubMillisecond);
    }
    let millis = u64::try_from(scaled / scale).map_err(|_| DurationError::Overflow)?;
    Ok(millis)
}

/// Parses the grammar above into a `Duration`.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    parse_millis(text).map(Duration::from_millis)
}

/// Formats milliseconds back into the grammar, the shortest exact way (`1500` -> `"1.5s"`).
pub fn format_millis(millis: u64) -> String {
    if millis == 0 {
        "0s".to_owned()
    } else if millis.is_multiple_of(3_600_000) {
        format!("{}h", millis / 3_600_000)
    } else if millis.is_multiple_of(60_000) {
        format!("{}m", millis / 60_000)
    } else if millis.is_multiple_of(1_000) {
        format!("{}s", millis / 1_000)
    } else if millis > 1_000 && millis.is_multiple_of(10) {
        let text = format!("{}.{:03}", millis / 1_000, millis % 1_000);
        format!("{}s", text.trim_end_matches('0'))
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_each_unit_and_fractions_down_to_a_millisecond() {
        assert_eq!(parse_millis("0s"), Ok(0));
        assert_eq!(parse_millis("10ms"), Ok(10));
        assert_eq!(parse_millis("1s"), Ok(1_000));
        assert_eq!(parse_millis("1.5s"), Ok(1_500));
        assert_eq!(parse_millis("40.95s"), Ok(40_950));
        assert_eq!(parse_millis("0.001s"), Ok(1));
        assert_eq!(parse_millis("1.2500s"), Ok(1_250));
        assert_eq!(parse_millis("2m"), Ok(120_000));
        assert_eq!(parse_millis("0.5m"), Ok(30_000));
        assert_eq!(parse_millis("0.00005m"), Ok(3));
        assert_eq!(parse_millis("1h"), Ok(3_600_000));
        assert_eq!(parse_millis("0.0000025h"), Ok(9));
    }

    #[test]
    fn rejects_anything_outside_the_grammar() {
        for bad in [
            "", "1", "s", "ms", "1 s", " 1s", "-1s", "+1s", "1.s", ".5s", "1d", "1m30s", "1S",
            "1e3ms", "1,5s", "1sec",
        ] {
            assert_eq!(parse_millis(bad), Err(DurationError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn rejects_sub_millisecond_precision_instead_of_rounding() {
        assert_eq!(parse_millis("1.5ms"), Err(DurationError::SubMillisecond));
        assert_eq!(parse_millis("1.0005s"), Err(DurationError::SubMillisecond));
        assert_eq!(
            parse_millis("0.0000005h"),
            Err(DurationError::SubMillisecond)
        ); // 1.8 ms
        assert_eq!(
            parse_millis("1.0000000001h"),
            Err(DurationError::SubMillisecond)
        );
        assert_eq!(parse_millis("1.0ms"), Ok(1));
    }

    #[test]
    fn rejects_overflow() {
        assert_eq!(
            parse_millis("99999999999999999999s"),
            Err(DurationError::Overflow)
        );
        assert_eq!(
            parse_millis("18446744073709551615s"),
            Err(DurationError::Overflow)
        );
    }

    #[test]
    fn formats_the_shortest_exact_form() {
        assert_eq!(format_millis(0), "0s");
        assert_eq!(format_millis(10), "10ms");
        assert_eq!(format_millis(1_000), "1s");
        assert_eq!(format_millis(1_500), "1.5s");
        assert_eq!(format_millis(40_950), "40.95s");
        assert_eq!(format_millis(120_000), "2m");
        assert_eq!(format_millis(86_400_000), "24h");
        for ms in [0, 1, 10, 999, 1_001, 1_010, 1_500, 40_950, 60_000, 90_000] {
            assert_eq!(parse_millis(&format_millis(ms)), Ok(ms));
        }
    }
}
