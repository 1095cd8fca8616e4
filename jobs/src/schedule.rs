//! When sweeps run: cron expressions in the bureau's time zone, and which
//! scheduled runs were missed while the daemon was down.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// A cron schedule in a time zone.
///
/// Five fields (`min hour day month weekday`, as in crontab) or six/seven
/// (with seconds first, and a year last), evaluated in the zone given, so
/// `30 2 * * *` is 02:30 Beijing time whatever the server's clock.
///
/// ```
/// use jobs::schedule::Schedule;
/// let s = Schedule::parse("30 2 * * *", chrono_tz::Asia::Shanghai).unwrap();
/// let t = "2026-01-31T18:30:00Z".parse().unwrap(); // 02:30 on 1 Feb in Beijing
/// assert_eq!(s.next_after(t).unwrap().to_rfc3339(), "2026-02-01T18:30:00+00:00");
/// ```
#[derive(Debug, Clone)]
pub struct Schedule {
    expr: String,
    cron: cron::Schedule,
    tz: Tz,
}

impl Schedule {
    /// Parses an expression; the error names it and says what is expected.
    pub fn parse(expr: &str, tz: Tz) -> Result<Schedule, String> {
        let fields = expr.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {expr}"),
            6 | 7 => expr.to_string(),
            _ => {
                return Err(format!(
                    "cron expression `{expr}` has {fields} fields; expected 5 (min hour day month weekday) or 6–7 (with seconds first)"
                ));
            }
        };
        let cron: cron::Schedule = full
            .parse()
            .map_err(|e| format!("cron expression `{expr}`: {e}"))?;
        Ok(Schedule {
            expr: expr.to_string(),
            cron,
            tz,
        })
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The first scheduled time strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .after(&t.with_timezone(&self.tz))
            .next()
            .map(|d| d.with_timezone(&Utc))
    }

    /// Scheduled times in `(after, until]`, oldest first, at most `limit`
    /// (the most recent ones).
    pub fn between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out: Vec<DateTime<Utc>> = vec![];
        for d in self.cron.after(&after.with_timezone(&self.tz)) {
            let d = d.with_timezone(&Utc);
            if d > until {
                break;
            }
            out.push(d);
            if out.len() > limit.max(1) * 2 + 1000 {
                // A very long outage: keep only the tail.
                out.drain(..out.len() - limit.max(1));
            }
        }
        let keep = out.len().saturating_sub(limit);
        out.split_off(keep)
    }
}

/// What the daemon does on start: the scheduled runs missed since the last
/// one that ran, caught up as ONE run (a sweep processes everything due as
/// of its time, so running each missed slot would only repeat work),
/// unless `max_catch_up` is 0. Returns the slot the catch-up run stands for.
pub fn catch_up(
    schedule: &Schedule,
    last_scheduled_run: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    max_catch_up: usize,
) -> Option<DateTime<Utc>> {
    if max_catch_up == 0 {
        return None;
    }
    let last = last_scheduled_run?;
    schedule.between(last, now, 1).pop()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America::New_York, Asia::Shanghai, UTC};

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn month_ends_in_beijing_time() {
        // 02:30 Beijing on the 1st: the instant is still in the previous month in UTC.
        let s = Schedule::parse("30 2 1 * *", Shanghai).unwrap();
        assert_eq!(
            s.next_after(t("2026-01-15T00:00:00Z")).unwrap(),
            t("2026-01-31T18:30:00Z")
        );
        assert_eq!(
            s.next_after(t("2026-12-15T00:00:00Z")).unwrap(),
            t("2026-12-31T18:30:00Z"),
            "across the year end"
        );
        // Daily at 00:10 Beijing across the end of February (2026: 28 days).
        let d = Schedule::parse("10 0 * * *", Shanghai).unwrap();
        assert_eq!(
            d.next_after(t("2026-02-28T16:10:00Z")).unwrap(),
            t("2026-03-01T16:10:00Z")
        );
        assert_eq!(
            d.next_after(t("2026-02-27T16:10:00Z")).unwrap(),
            t("2026-02-28T16:10:00Z")
        );
        // Monthly on the 31st skips the months without one.
        let m = Schedule::parse("0 3 31 * *", UTC).unwrap();
        assert_eq!(
            m.next_after(t("2026-03-31T03:00:00Z")).unwrap(),
            t("2026-05-31T03:00:00Z")
        );
        // Leap day: only in 2028.
        let leap = Schedule::parse("0 0 29 2 *", UTC).unwrap();
        assert_eq!(
            leap.next_after(t("2026-03-01T00:00:00Z")).unwrap(),
            t("2028-02-29T00:00:00Z")
        );
    }

    #[test]
    fn time_zones_and_daylight_saving() {
        // The same expression means different instants in different zones.
        let bj = Schedule::parse("0 2 * * *", Shanghai).unwrap();
        let utc = Schedule::parse("0 2 * * *", UTC).unwrap();
        let from = t("2026-11-22T00:00:00Z");
        assert_eq!(bj.next_after(from).unwrap(), t("2026-11-22T18:00:00Z"));
        assert_eq!(utc.next_after(from).unwrap(), t("2026-11-22T02:00:00Z"));
        // New York springs forward on 8 March 2026: 02:30 does not exist that day.
        let ny = Schedule::parse("30 2 * * *", New_York).unwrap();
        let n = ny.next_after(t("2026-03-08T05:00:00Z")).unwrap();
        assert_ne!(
            n,
            t("2026-03-08T06:30:00Z"),
            "no run at a wall time that does not exist: {n}"
        );
        // …and at 09:00 local the offset changed from -5 to -4.
        let nine = Schedule::parse("0 9 * * *", New_York).unwrap();
        assert_eq!(
            nine.next_after(t("2026-03-07T15:00:00Z")).unwrap(),
            t("2026-03-08T13:00:00Z")
        );
    }

    #[test]
    fn bad_expressions_say_what_is_expected() {
        let e = Schedule::parse("30 2 * *", Shanghai).unwrap_err();
        assert!(e.contains("4 fields") && e.contains("expected 5"), "{e}");
        let e = Schedule::parse("61 2 * * *", Shanghai).unwrap_err();
        assert!(e.contains("61 2 * * *"), "{e}");
    }

    #[test]
    fn missed_runs_are_caught_up_once() {
        let s = Schedule::parse("0 2 * * *", Shanghai).unwrap();
        // Last ran for the 20th; the daemon comes back on the 23rd at noon.
        let last = t("2026-11-19T18:00:00Z");
        let now = t("2026-11-23T04:00:00Z");
        assert_eq!(s.between(last, now, 10).len(), 3, "three slots were missed");
        assert_eq!(
            catch_up(&s, Some(last), now, 1),
            Some(t("2026-11-22T18:00:00Z")),
            "one run, for the latest slot"
        );
        assert_eq!(catch_up(&s, Some(last), now, 0), None, "catch-up disabled");
        // Nothing missed: nothing to catch up.
        assert_eq!(catch_up(&s, Some(t("2026-11-22T18:00:00Z")), now, 1), None);
        // A first start has nothing to catch up.
        assert_eq!(catch_up(&s, None, now, 1), None);
    }
}
