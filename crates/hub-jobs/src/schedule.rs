//! Crontab expressions as the spec writes them (five fields, read in a time zone), turned
//! into the `cron` crate's schedules (seconds first, Sunday = 1).

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, Utc};

/// Why a schedule expression was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Not the expected number of fields.
    #[error("`{expr}`: expected {expected} fields ({layout}), found {found}")]
    FieldCount { expr: String, expected: usize, found: usize, layout: &'static str },
    /// The day-of-week field does not parse.
    #[error("`{expr}`: day of week `{field}`: {reason}")]
    DayOfWeek { expr: String, field: String, reason: String },
    /// Both day fields are restricted: crontab would match either, the `cron` crate both.
    #[error("`{expr}`: restrict the day of month or the day of week, not both")]
    BothDayFields { expr: String },
    /// The `cron` crate refused it (a value out of range, a bad token, …).
    #[error("`{expr}`: {reason}")]
    Invalid { expr: String, reason: String },
}

const FIVE: &str = "minute hour day-of-month month day-of-week";
const SIX: &str = "second minute hour day-of-month month day-of-week";

/// Parses a five-field crontab expression (`minute hour day-of-month month day-of-week`, as
/// in `CRON_SYNC_USER_DAILY=0 2 * * *`). Day of week follows crontab: 0 or 7 = Sunday,
/// 1 = Monday, names `sun`…`sat`. The schedule has no time zone of its own: the scheduler
/// reads it in the configured one.
pub fn parse_schedule(five_field: &str) -> Result<cron::Schedule, ScheduleError> {
    let fields: Vec<&str> = five_field.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(ScheduleError::FieldCount {
            expr: five_field.to_owned(),
            expected: 5,
            found: fields.len(),
            layout: FIVE,
        });
    }
    let [minute, hour, dom, month, dow] = [fields[0], fields[1], fields[2], fields[3], fields[4]];
    let dow_cron = crontab_days_of_week(dow).map_err(|reason| ScheduleError::DayOfWeek {
        expr: five_field.to_owned(),
        field: dow.to_owned(),
        reason,
    })?;
    if !is_any(dom) && dow_cron != "*" {
        return Err(ScheduleError::BothDayFields { expr: five_field.to_owned() });
    }
    let expr = format!("0 {minute} {hour} {dom} {month} {dow_cron}");
    cron::Schedule::from_str(&expr)
        .map_err(|e| ScheduleError::Invalid { expr: five_field.to_owned(), reason: e.to_string() })
}

/// Parses a six-field `cron`-crate expression (seconds first; the crate's own day-of-week
/// numbering, Sunday = 1). For tests, which need ticks seconds apart; the service's settings
/// go through [`parse_schedule`].
pub fn parse_seconds_schedule(six_field: &str) -> Result<cron::Schedule, ScheduleError> {
    let found = six_field.split_whitespace().count();
    if found != 6 {
        return Err(ScheduleError::FieldCount { expr: six_field.to_owned(), expected: 6, found, layout: SIX });
    }
    cron::Schedule::from_str(six_field)
        .map_err(|e| ScheduleError::Invalid { expr: six_field.to_owned(), reason: e.to_string() })
}

/// The next time `schedule`, read in `tz`, fires after `after`.
pub fn next_run(schedule: &cron::Schedule, tz: chrono_tz::Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&after.with_timezone(&tz)).next().map(|t| t.with_timezone(&Utc))
}

/// The last time `schedule`, read in `tz`, fired before `before`.
pub fn previous_run(schedule: &cron::Schedule, tz: chrono_tz::Tz, before: DateTime<Utc>) -> Option<DateTime<Utc>> {
    schedule.after(&before.with_timezone(&tz)).next_back().map(|t| t.with_timezone(&Utc))
}

fn is_any(field: &str) -> bool {
    field == "*" || field == "?"
}

/// Crontab's day-of-week field (0–7, Sunday = 0 and 7, names, ranges, steps, lists) as a
/// list of names the `cron` crate reads the same way, or `*` for every day.
fn crontab_days_of_week(field: &str) -> Result<String, String> {
    if is_any(field) {
        return Ok("*".into());
    }
    let mut days = BTreeSet::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s.parse().map_err(|_| format!("bad step `{s}`"))?;
                if step == 0 {
                    return Err("a step of 0".into());
                }
                (r, Some(step))
            }
            None => (item, None),
        };
        let (from, to) = if range == "*" {
            (0, 6)
        } else if let Some((a, b)) = range.split_once('-') {
            (day(a)?, day(b)?)
        } else {
            let d = day(range)?;
            // `5/2` means from 5 to the end, as in crontab.
            (d, if step.is_some() { 7 } else { d })
        };
        if from > to {
            return Err(format!("range `{range}` runs backwards"));
        }
        for d in (from..=to).step_by(step.unwrap_or(1) as usize) {
            days.insert(d % 7);
        }
    }
    if days.len() == 7 {
        return Ok("*".into());
    }
    const NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
    Ok(days.iter().map(|&d| NAMES[d as usize]).collect::<Vec<_>>().join(","))
}

/// One day of the week: 0–7 (0 and 7 = Sunday) or a three-letter name.
fn day(raw: &str) -> Result<u32, String> {
    const NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    if let Ok(n) = raw.parse::<u32>() {
        return if n <= 7 { Ok(n) } else { Err(format!("`{n}` is not a day (0–7)")) };
    }
    let lower = raw.to_ascii_lowercase();
    NAMES.iter().position(|n| *n == lower).map(|i| i as u32).ok_or_else(|| format!("`{raw}` is not a day"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crontab_days_become_cron_crate_names() {
        let cases = [
            ("*", "*"),
            ("0", "SUN"),
            ("7", "SUN"),
            ("1", "MON"),
            ("1-5", "MON,TUE,WED,THU,FRI"),
            ("5-7", "SUN,FRI,SAT"),
            ("sat,sun", "SUN,SAT"),
            ("Mon-Wed", "MON,TUE,WED"),
            ("*/2", "SUN,TUE,THU,SAT"),
            ("1/3", "MON,THU,SUN"),
            ("0-7", "*"),
        ];
        for (raw, want) in cases {
            let got = crontab_days_of_week(raw).unwrap();
            let want_set: BTreeSet<&str> = want.split(',').collect();
            let got_set: BTreeSet<&str> = got.split(',').collect();
            assert_eq!(got_set, want_set, "{raw}");
        }
        for bad in ["8", "mon-", "fri-mon", "*/0", "x", ""] {
            assert!(crontab_days_of_week(bad).is_err(), "{bad} should be refused");
        }
    }
}
