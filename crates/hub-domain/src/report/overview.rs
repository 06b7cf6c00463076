//! The overview of one day: stores by connection status and the chain's totals with their
//! changes against the day before, 7 and 30 days before.

use chrono::{Duration, NaiveDate};

use super::rules::delta;
use crate::account::{ConnectionStatus, ReconnectReason};

/// The totals of one day across every store, as stored. `None` fields: no snapshot that day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayTotals {
    pub date: Option<NaiveDate>,
    /// Stores with a user snapshot that day.
    pub user_stores: i64,
    pub followers: i64,
    pub likes: i64,
    pub videos: i64,
    /// Stores with at least one video snapshot that day.
    pub video_stores: i64,
    /// Video snapshot rows that day.
    pub video_rows: i64,
    pub views: i64,
}

impl DayTotals {
    fn user(&self, v: i64) -> Option<i64> {
        (self.user_stores > 0).then_some(v)
    }

    fn video(&self, v: i64) -> Option<i64> {
        (self.video_rows > 0).then_some(v)
    }
}

/// How many stores are in each connection state (now: statuses have no history).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionCounts {
    pub stores: i64,
    pub connected: i64,
    pub never_connected: i64,
    pub disconnected: i64,
    /// Every reason, in [`ReconnectReason::ALL`] order, with 0 when no store has it.
    pub need_reconnect: Vec<(ReconnectReason, i64)>,
}

impl ConnectionCounts {
    /// Counts from `(status, stores)` pairs; `None` status = never connected.
    pub fn from_groups(groups: impl IntoIterator<Item = (Option<ConnectionStatus>, i64)>) -> Self {
        let mut c = Self { need_reconnect: ReconnectReason::ALL.iter().map(|r| (*r, 0)).collect(), ..Self::default() };
        let mut bump = |r: ReconnectReason, n: i64| {
            if let Some(slot) = c.need_reconnect.iter_mut().find(|(k, _)| *k == r) {
                slot.1 += n;
            }
        };
        let mut rest: Vec<(Option<ConnectionStatus>, i64)> = Vec::new();
        for (status, n) in groups {
            match status {
                Some(ConnectionStatus::NeedReconnect(r)) => bump(r, n),
                other => rest.push((other, n)),
            }
        }
        c.stores = c.need_reconnect.iter().map(|(_, n)| n).sum();
        for (status, n) in rest {
            c.stores += n;
            match status {
                None => c.never_connected += n,
                Some(ConnectionStatus::Connected) => c.connected += n,
                Some(ConnectionStatus::Disconnected) => c.disconnected += n,
                Some(ConnectionStatus::NeedReconnect(_)) => {}
            }
        }
        c
    }

    /// Stores needing reconnect, whatever the reason.
    pub fn need_reconnect_total(&self) -> i64 {
        self.need_reconnect.iter().map(|(_, n)| n).sum()
    }

    /// Stores needing someone's attention: NEED_RECONNECT (any reason) and DISCONNECTED.
    pub fn needing_attention(&self) -> i64 {
        self.need_reconnect_total() + self.disconnected
    }
}

/// One metric of the overview with its changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDeltas {
    /// `None` when the day has no data for this metric.
    pub value: Option<i64>,
    pub vs_previous_day: Option<i64>,
    pub vs_7_days: Option<i64>,
    pub vs_30_days: Option<i64>,
}

/// The overview of one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    pub date: NaiveDate,
    pub connections: ConnectionCounts,
    pub stores_with_snapshot: i64,
    pub stores_with_video_snapshot: i64,
    pub followers: MetricDeltas,
    pub likes: MetricDeltas,
    pub videos: MetricDeltas,
    pub views: MetricDeltas,
}

impl Overview {
    /// The dates whose totals the overview needs: the day, the day before, 7 and 30 days before.
    pub fn dates(date: NaiveDate) -> [NaiveDate; 4] {
        [date, date - Duration::days(1), date - Duration::days(7), date - Duration::days(30)]
    }

    /// Builds the overview from the totals of [`Overview::dates`] (in that order).
    pub fn build(date: NaiveDate, connections: ConnectionCounts, days: [DayTotals; 4]) -> Self {
        let metric = |get: &dyn Fn(&DayTotals) -> Option<i64>| {
            let value = get(&days[0]);
            MetricDeltas {
                value,
                vs_previous_day: delta(value, get(&days[1])),
                vs_7_days: delta(value, get(&days[2])),
                vs_30_days: delta(value, get(&days[3])),
            }
        };
        Self {
            date,
            connections,
            stores_with_snapshot: days[0].user_stores,
            stores_with_video_snapshot: days[0].video_stores,
            followers: metric(&|d| d.user(d.followers)),
            likes: metric(&|d| d.user(d.likes)),
            videos: metric(&|d| d.user(d.videos)),
            views: metric(&|d| d.video(d.views)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn overview_deltas_are_null_when_the_earlier_day_is_empty() {
        let day = |users, followers, video_rows, views| DayTotals {
            date: None,
            user_stores: users,
            followers,
            likes: followers * 2,
            videos: 3,
            video_stores: users,
            video_rows,
            views,
        };
        let o = Overview::build(
            d("2026-01-24"),
            ConnectionCounts::default(),
            [day(2, 100, 4, 1000), day(2, 90, 0, 0), day(0, 0, 4, 400), day(1, 40, 2, 100)],
        );
        assert_eq!(
            o.followers,
            MetricDeltas { value: Some(100), vs_previous_day: Some(10), vs_7_days: None, vs_30_days: Some(60) }
        );
        assert_eq!(
            o.views,
            MetricDeltas { value: Some(1000), vs_previous_day: None, vs_7_days: Some(600), vs_30_days: Some(900) }
        );
        assert_eq!(o.likes.vs_previous_day, Some(20));
        let empty = Overview::build(
            d("2026-01-24"),
            ConnectionCounts::default(),
            [day(0, 0, 0, 0), day(1, 1, 1, 1), day(1, 1, 1, 1), day(1, 1, 1, 1)],
        );
        assert_eq!(
            empty.followers,
            MetricDeltas { value: None, vs_previous_day: None, vs_7_days: None, vs_30_days: None }
        );
    }

    #[test]
    fn connection_counts_cover_every_reason() {
        let c = ConnectionCounts::from_groups([
            (None, 2),
            (Some(ConnectionStatus::Connected), 5),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::Revoked)), 1),
            (Some(ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing)), 2),
            (Some(ConnectionStatus::Disconnected), 1),
        ]);
        assert_eq!((c.stores, c.connected, c.never_connected, c.disconnected), (11, 5, 2, 1));
        assert_eq!(c.need_reconnect.len(), ReconnectReason::ALL.len());
        assert!(c.need_reconnect.contains(&(ReconnectReason::RefreshExpired, 0)));
        assert!(c.need_reconnect.contains(&(ReconnectReason::ScopeMissing, 2)));
        assert_eq!((c.need_reconnect_total(), c.needing_attention()), (3, 4));
    }
}
