//! The JSON shapes of the API, by resource: camelCase fields exactly as the spec shows
//! (request bodies snake_case), times as RFC 3339 with milliseconds and `Z`, dates as
//! `YYYY-MM-DD`. Each resource's CSV columns sit beside its shape: a CSV row is the JSON row
//! flattened (see `crate::csv`).

pub(crate) mod audit;
pub(crate) mod common;
pub(crate) mod connect;
pub(crate) mod lifecycle;
pub(crate) mod notify;
pub(crate) mod people;
pub(crate) mod reports;
pub(crate) mod stats;
pub(crate) mod stores;
pub(crate) mod sync;

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use serde::Serialize;

    use super::*;
    use crate::csv::leaf_paths;

    /// Each CSV column list names exactly the leaves of its JSON shape.
    #[test]
    fn column_lists_match_the_json_shapes() {
        fn check(columns: &[&str], sample: impl Serialize) {
            let mut paths = Vec::new();
            leaf_paths(&serde_json::to_value(sample).unwrap(), "", &mut paths);
            let mut want: Vec<&str> = columns.to_vec();
            want.sort_unstable();
            paths.sort_unstable();
            assert_eq!(paths, want);
        }
        let o = hub_domain::Overview::build(
            NaiveDate::from_ymd_opt(2026, 1, 24).unwrap(),
            hub_domain::ConnectionCounts::from_groups([]),
            [hub_domain::DayTotals::default(); 4],
        );
        check(reports::OVERVIEW_COLUMNS, reports::OverviewJson::from(o));
        let row = serde_json::json!({
            "storeCode": "", "storeName": "", "storeGroup": "", "followersFrom": 1, "followersTo": 1, "followerGrowth": 1,
            "followerGrowthPct": 1.0, "viewsFrom": 1, "viewsTo": 1, "viewGrowth": 1, "viewGrowthPct": 1.0,
            "engagement": 1.0, "missingFrom": false, "missingTo": false
        });
        check(reports::STORE_REPORT_COLUMNS, row);
        let store = stores::StoreJson {
            store_code: String::new(),
            store_name: String::new(),
            pic_name: String::new(),
            pic_contact: None,
            store_group: None,
            created_at: Utc::now(),
            connection_status: String::new(),
            connection_reason: None,
            revoke_reason: Some(String::new()),
            archived_at: Some(Utc::now()),
            account_id: None,
            account_identifier: None,
            connected_at: None,
            last_sync_time: None,
            token_expires_at: None,
            latest_user_stats: Some(stores::LatestUserStatsJson { follower_count: 0, likes_count: 0, video_count: 0 }),
            latest_video_stats: Some(stores::LatestVideoStatsJson { total_videos: 0, total_views: 0 }),
        };
        check(stores::STORE_COLUMNS, store);
    }
}
