//! The check of a day after its run: every connected store has the day's user snapshot and
//! the sandbox's videos, nothing is duplicated, and nothing is left held.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use anyhow::{Context, Result, bail};

use super::rig::{Chaos, DB_NAME, DayRun, PREFIX};
use crate::harness::{get_json, sql_text};

/// Sandbox requests in flight while reading every account's videos.
const PARALLEL: usize = 16;

/// The state of a day after its run: the invariants.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Check {
    pub date: String,
    pub connected: usize,
    /// Stores not CONNECTED, with their status and reason.
    pub not_connected: Vec<(String, String)>,
    /// Connected stores without exactly the day's user snapshot or the sandbox's video set.
    pub missing: usize,
    /// Video ids of the sandbox missing from the day, and ids the sandbox does not have.
    pub videos_missing: usize,
    pub videos_extra: usize,
    /// Keys (store, date) or (store, date, video) with more than one row.
    pub duplicates: i64,
    /// Advisory locks held in the database with no hub running.
    pub locks: i64,
    /// Refresh leases still set with no hub running.
    pub leases: i64,
    /// `sync_runs` rows still RUNNING with no hub running.
    pub running: i64,
}

impl Check {
    /// Every store connected and [`Check::data_clean`].
    pub fn clean(&self) -> bool {
        self.not_connected.is_empty() && self.data_clean()
    }

    /// The day complete for every connected store, nothing duplicated, nothing left held.
    pub fn data_clean(&self) -> bool {
        self.missing == 0 && self.duplicates == 0 && self.locks == 0 && self.leases == 0 && self.running == 0
    }

    pub fn brief(&self) -> String {
        format!(
            "date={} connected={} missing={} (videos -{} +{}) duplicates={} locks={} leases={} running={} not_connected={:?}",
            self.date,
            self.connected,
            self.missing,
            self.videos_missing,
            self.videos_extra,
            self.duplicates,
            self.locks,
            self.leases,
            self.running,
            self.not_connected
        )
    }
}

impl Chaos {
    /// Checks the day of `run` (its runs' scheduled date) against the database and the sandbox.
    pub fn check_day(&self, run: &DayRun) -> Result<Check> {
        let date = match run.run_ids.first() {
            Some(id) => self.sql(&format!("SELECT scheduled_date FROM sync_runs WHERE id = {id}"))?.trim().to_owned(),
            None => self.sql("SELECT max(scheduled_date) FROM sync_runs")?.trim().to_owned(),
        };
        if date.is_empty() {
            bail!("no sync run to check");
        }
        let d = sql_text(&date);
        let mut c = Check { date: date.clone(), ..Check::default() };
        let mut connected: Vec<(String, usize)> = Vec::new();
        for line in self.sql("SELECT store_code, status, coalesce(status_reason, '') FROM store_accounts")?.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(code), Some(status)) = (f.first(), f.get(1)) else { continue };
            if *status == "CONNECTED" {
                let index = code.strip_prefix(PREFIX).and_then(|n| n.parse::<usize>().ok()).context("store code")? - 1;
                connected.push(((*code).to_owned(), index));
            } else {
                c.not_connected.push(((*code).to_owned(), format!("{status} {}", f.get(2).unwrap_or(&""))));
            }
        }
        c.connected = connected.len();
        let users: HashSet<String> = self
            .sql(&format!("SELECT store_code FROM tiktok_user_daily WHERE snapshot_date = {d}"))?
            .lines()
            .map(str::to_owned)
            .collect();
        let mut videos: HashMap<String, HashSet<String>> = HashMap::new();
        for line in self
            .sql(&format!(
                "SELECT store_code, string_agg(video_id::text, ',') FROM tiktok_video_daily WHERE snapshot_date = {d} GROUP BY 1"
            ))?
            .lines()
        {
            if let Some((code, ids)) = line.split_once('\t') {
                videos.insert(code.to_owned(), ids.split(',').map(str::to_owned).collect());
            }
        }
        // The sandbox's view at the run's end: videos posted after the run began may or may
        // not have been seen, so only those before are required.
        let want = self.sandbox_videos(&connected)?;
        let since = run.sandbox_started;
        for (code, index) in &connected {
            let have = videos.get(code).cloned().unwrap_or_default();
            let all = want.get(index).cloned().unwrap_or_default();
            let required: HashSet<&String> = all.iter().filter(|(_, t)| *t < since).map(|(id, _)| id).collect();
            let known: HashSet<&String> = all.iter().map(|(id, _)| id).collect();
            let missing = required.iter().filter(|id| !have.contains(**id)).count();
            let extra = have.iter().filter(|id| !known.contains(id)).count();
            c.videos_missing += missing;
            c.videos_extra += extra;
            if missing > 0 || extra > 0 || !users.contains(code) {
                c.missing += 1;
            }
        }
        c.duplicates = self.sql_i64(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM tiktok_user_daily GROUP BY store_code, snapshot_date HAVING count(*) > 1) u)
                  + (SELECT count(*) FROM (SELECT 1 FROM tiktok_video_daily GROUP BY store_code, snapshot_date, video_id HAVING count(*) > 1) v)",
        )?;
        c.locks = self.sql_i64(&format!(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
             WHERE l.locktype = 'advisory' AND l.granted AND d.datname = {}",
            sql_text(DB_NAME)
        ))?;
        c.leases = self.sql_i64(
            "SELECT count(*) FROM store_accounts WHERE refresh_lease_owner IS NOT NULL OR refresh_lease_until IS NOT NULL",
        )?;
        c.running = self.sql_i64("SELECT count(*) FROM sync_runs WHERE status = 'RUNNING'")?;
        Ok(c)
    }

    /// Every connected account's visible videos in the sandbox: (id, create_time) by index.
    fn sandbox_videos(&self, connected: &[(String, usize)]) -> Result<BTreeMap<usize, Vec<(String, i64)>>> {
        let wanted: Vec<(usize, String)> =
            connected.iter().map(|(_, i)| (*i, self.open_ids.get(*i).cloned().unwrap_or_default())).collect();
        let sb = self.sb.clone();
        self.rt.block_on(async move {
            let queue = Arc::new(std::sync::Mutex::new(wanted));
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..PARALLEL {
                let (queue, sb) = (queue.clone(), sb.clone());
                tasks.spawn(async move {
                    let mut out = Vec::new();
                    loop {
                        let Some((i, open_id)) = queue.lock().expect("queue").pop() else { return anyhow::Ok(out) };
                        let list = get_json(&sb, &format!("/sandbox/accounts/{open_id}/videos")).await?;
                        let ids: Vec<(String, i64)> = list
                            .as_array()
                            .context("videos is not a list")?
                            .iter()
                            .filter_map(|v| Some((v.get("id")?.as_str()?.to_owned(), v.get("create_time")?.as_i64()?)))
                            .collect();
                        out.push((i, ids));
                    }
                });
            }
            let mut all = BTreeMap::new();
            while let Some(r) = tasks.join_next().await {
                all.extend(r.context("sandbox task panicked")??);
            }
            Ok(all)
        })
    }
}
