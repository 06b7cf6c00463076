//! Numbers and dates in people's terms: `23.9M`, `1,204`, `+1,204 (+2.1%)`.

use chrono::{DateTime, Utc};

/// `1234567` → `1,234,567`.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A short figure: `999`, `12.3K`, `23.9M`, `1.2B` (one decimal below 100 of a unit).
pub fn compact(n: i64) -> String {
    let abs = n.unsigned_abs() as f64;
    let sign = if n < 0 { "-" } else { "" };
    let (value, unit) = if abs >= 1e9 {
        (abs / 1e9, "B")
    } else if abs >= 1e6 {
        (abs / 1e6, "M")
    } else if abs >= 1e4 {
        (abs / 1e3, "K")
    } else {
        return thousands(n);
    };
    let text = if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.1}") };
    format!("{sign}{}{unit}", text.trim_end_matches(".0"))
}

/// A change with its sign: `+1,204`, `-12`, `0`.
pub fn signed(n: i64) -> String {
    if n > 0 { format!("+{}", thousands(n)) } else { thousands(n) }
}

/// A percentage with its sign and one decimal: `+2.1%`.
pub fn signed_pct(p: f64) -> String {
    if p > 0.0 { format!("+{p:.1}%") } else { format!("{p:.1}%") }
}

/// A change against an earlier value: `+1,204 (+2.1%)`; without a usable base, the change alone.
/// The percentage is the domain's growth rule ([`hub_domain::report::growth_pct`]).
pub fn change(delta: i64, base: Option<i64>) -> String {
    match hub_domain::report::growth_pct(base, base.map(|b| b + delta)) {
        Some(p) => format!("{} ({})", signed(delta), signed_pct(p)),
        None => signed(delta),
    }
}

/// Which way a change goes, for the arrow and its class.
pub fn trend(delta: i64) -> &'static str {
    match delta.signum() {
        1 => "up",
        -1 => "down",
        _ => "flat",
    }
}

/// A moment in the report time zone: `2026-12-03 02:00`.
pub fn local(at: DateTime<Utc>, tz: &chrono_tz::Tz) -> String {
    at.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A duration in seconds as `1h 02m`, `3m 20s`, `12s`.
pub fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m {sec:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_like_people_write_them() {
        let cases: &[(i64, &str, &str)] = &[
            (0, "0", "0"),
            (999, "999", "999"),
            (1000, "1,000", "1,000"),
            (9_999, "9,999", "9,999"),
            (12_345, "12,345", "12.3K"),
            (23_912_345, "23,912,345", "23.9M"),
            (100_000_000, "100,000,000", "100M"),
            (1_200_000_000, "1,200,000,000", "1.2B"),
            (-1_204, "-1,204", "-1,204"),
            (-2_500_000, "-2,500,000", "-2.5M"),
        ];
        for (n, full, short) in cases {
            assert_eq!(thousands(*n), *full, "{n}");
            assert_eq!(compact(*n), *short, "{n}");
        }
    }

    #[test]
    fn changes_carry_their_sign_and_share() {
        assert_eq!(change(1204, Some(57_333)), "+1,204 (+2.1%)");
        assert_eq!(change(-50, Some(1000)), "-50 (-5.0%)");
        assert_eq!(change(7, None), "+7");
        assert_eq!(change(7, Some(0)), "+7");
        assert_eq!(change(0, Some(10)), "0 (0.0%)");
        assert_eq!((trend(3), trend(-1), trend(0)), ("up", "down", "flat"));
    }

    #[test]
    fn durations_and_local_times() {
        assert_eq!(duration(12), "12s");
        assert_eq!(duration(200), "3m 20s");
        assert_eq!(duration(3720), "1h 02m");
        let at = DateTime::parse_from_rfc3339("2026-12-02T19:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(local(at, &chrono_tz::Asia::Jakarta), "2026-12-03 02:00");
    }
}
