//! The `/metrics` source: the engine's sync and retention counters, the TikTok client's
//! per-endpoint counters, the database pool and the stores' connection state, named and labelled for
//! Prometheus. hub-http renders them next to its own HTTP series.
//!
//! Every label value comes from a closed set (job names, run states, endpoints, connection
//! states), so the number of series is fixed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use hub_engine::Engine;
use hub_http::{MetricFamily, MetricType, MetricsSource, SampleValue};
use hub_tiktok::{EndpointStats, TikTokClient};

/// How long a scrape may spend reading the stores (one query) before leaving them out.
const STORES_QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// Combines the engine, the TikTok client and the pool.
pub struct HubMetrics {
    pub engine: Arc<Engine>,
    pub tiktok: Arc<TikTokClient>,
}

impl MetricsSource for HubMetrics {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<MetricFamily>> + Send + '_>> {
        Box::pin(async move {
            let mut out = self.sync_families();
            out.extend(self.tiktok_families());
            out.extend(self.pool_families());
            out.extend(self.retention_families());
            out.extend(self.store_families().await);
            out
        })
    }
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl HubMetrics {
    fn sync_families(&self) -> Vec<MetricFamily> {
        let snapshot = self.engine.syncs().metrics();
        let mut runs = MetricFamily::counter(
            "tiktok_hub_sync_runs_total",
            "Sync runs this process finished, by job and end state (SUCCEEDED, PARTIAL, FAILED, INTERRUPTED).",
        );
        let mut duration = MetricFamily::new(
            "tiktok_hub_sync_run_duration_seconds",
            MetricType::Histogram,
            "Wall time of the sync runs this process finished, by job.",
        );
        let mut stores = MetricFamily::counter(
            "tiktok_hub_sync_stores_total",
            "Stores the finished runs went through, by job and outcome (succeeded, failed, skipped, not_done = \
             left by an interrupted run).",
        );
        let mut last_duration = MetricFamily::gauge(
            "tiktok_hub_sync_last_run_duration_seconds",
            "Wall time of the job's last finished run.",
        );
        let mut last_completed = MetricFamily::gauge(
            "tiktok_hub_sync_last_completed_timestamp_seconds",
            "Unix time at which the job's last run that went through every store (SUCCEEDED or PARTIAL) ended; \
             0 = none since start.",
        );
        for j in &snapshot.jobs {
            let job = j.job.as_str();
            for (status, n) in &j.runs {
                runs = runs.with(&[("job", job), ("status", status.as_str())], *n as f64);
            }
            duration = duration.with_value(
                &[("job", job)],
                SampleValue::Histogram {
                    buckets: j.duration.buckets.clone(),
                    sum: j.duration.sum,
                    count: j.duration.count,
                },
            );
            for (outcome, n) in [
                ("succeeded", j.stores_succeeded),
                ("failed", j.stores_failed),
                ("skipped", j.stores_skipped),
                ("not_done", j.stores_not_done),
            ] {
                stores = stores.with(&[("job", job), ("outcome", outcome)], n as f64);
            }
            if let Some(d) = j.last_duration {
                last_duration = last_duration.with(&[("job", job)], secs(d));
            }
            last_completed =
                last_completed.with(&[("job", job)], j.last_completed.map_or(0.0, |t| t.timestamp() as f64));
        }

        // Runs in progress in this process, with their live counters.
        let live = self.engine.syncs().live_runs();
        let mut in_progress =
            MetricFamily::gauge("tiktok_hub_sync_runs_in_progress", "Sync runs in progress in this process, by job.");
        let mut progress = MetricFamily::gauge(
            "tiktok_hub_sync_in_progress_stores",
            "Stores of the runs in progress: total, and processed so far.",
        );
        for job in hub_engine::metrics::METERED_JOBS {
            let name = job.as_str();
            let mine: Vec<_> = live.iter().filter(|r| r.job == job).collect();
            in_progress = in_progress.with(&[("job", name)], mine.len() as f64);
            let total: i64 = mine.iter().map(|r| r.total).sum();
            let processed: i64 = mine.iter().map(|r| r.processed).sum();
            progress = progress.with(&[("job", name), ("state", "total")], total as f64);
            progress = progress.with(&[("job", name), ("state", "processed")], processed as f64);
        }
        vec![runs, duration, stores, last_duration, last_completed, in_progress, progress]
    }

    fn tiktok_families(&self) -> Vec<MetricFamily> {
        let s = self.tiktok.stats();
        let endpoints: [(&str, EndpointStats); 5] = [
            ("oauth/token", s.token),
            ("oauth/revoke", s.revoke),
            ("user/info", s.user_info),
            ("video/list", s.video_list),
            ("video/query", s.video_query),
        ];
        let us = |v: u64| v as f64 / 1e6;
        let each = |name: &str, kind: MetricType, help: &str, f: &dyn Fn(&EndpointStats) -> SampleValue| {
            endpoints
                .iter()
                .fold(MetricFamily::new(name, kind, help), |fam, (ep, st)| fam.with_value(&[("endpoint", ep)], f(st)))
        };
        let n = |v: u64| SampleValue::Number(v as f64);
        vec![
            each(
                "tiktok_hub_tiktok_requests_total",
                MetricType::Counter,
                "HTTP attempts to TikTok (first tries and retries), by endpoint.",
                &|e| n(e.calls),
            ),
            each(
                "tiktok_hub_tiktok_rate_limited_total",
                MetricType::Counter,
                "TikTok attempts answered HTTP 429, by endpoint.",
                &|e| n(e.http_429),
            ),
            each(
                "tiktok_hub_tiktok_retries_total",
                MetricType::Counter,
                "TikTok attempts that were retries (429, 5xx, timeouts), by endpoint.",
                &|e| n(e.retries),
            ),
            each(
                "tiktok_hub_tiktok_errors_total",
                MetricType::Counter,
                "TikTok calls that failed after their retries, by endpoint.",
                &|e| n(e.errors),
            ),
            each(
                "tiktok_hub_tiktok_request_duration_seconds",
                MetricType::Summary,
                "Latency of TikTok attempts (send to body read), by endpoint; rate(_sum)/rate(_count) is the mean.",
                &|e| SampleValue::Summary { sum: us(e.latency_us_total), count: e.calls },
            ),
            each(
                "tiktok_hub_tiktok_budget_waits_total",
                MetricType::Counter,
                "TikTok attempts that waited for the client-side rate budget, by endpoint.",
                &|e| n(e.budget_waits),
            ),
            each(
                "tiktok_hub_tiktok_budget_wait_seconds_total",
                MetricType::Counter,
                "Time spent waiting for the client-side rate budget, by endpoint.",
                &|e| SampleValue::Number(us(e.budget_wait_us_total)),
            ),
        ]
    }

    fn retention_families(&self) -> Vec<MetricFamily> {
        let m = self.engine.retention().metrics();
        let mut purged = MetricFamily::counter(
            "tiktok_hub_retention_purged_rows_total",
            "Rows this process deleted because they outlived their retention period, by table.",
        );
        for (table, n) in &m.purged {
            purged = purged.with(&[("table", table.as_str())], *n as f64);
        }
        let last = MetricFamily::gauge(
            "tiktok_hub_retention_last_purge_timestamp_seconds",
            "Unix time at which this process's last complete retention purge ended; 0 = none since start.",
        )
        .with(&[], m.last_purge.map_or(0.0, |t| t.timestamp() as f64));
        vec![purged, last]
    }

    fn pool_families(&self) -> Vec<MetricFamily> {
        let p = self.engine.system().pool_stats();
        let g = self.engine.syncs().db_gate();
        vec![
            MetricFamily::gauge("tiktok_hub_db_pool_connections_in_use", "Pool connections checked out now.")
                .with(&[], p.size.saturating_sub(p.idle) as f64),
            MetricFamily::gauge("tiktok_hub_db_pool_connections_idle", "Open pool connections not in use.")
                .with(&[], p.idle as f64),
            MetricFamily::gauge("tiktok_hub_db_pool_waiting", "Callers waiting for a pool connection.")
                .with(&[], p.waiting as f64),
            MetricFamily::gauge(
                "tiktok_hub_db_pool_connections_max",
                "The most connections the pool opens (DB_POOL_SIZE).",
            )
            .with(&[], p.max_size as f64),
            MetricFamily::counter(
                "tiktok_hub_db_pool_queued_total",
                "Checkouts that found every pool connection taken and queued for one.",
            )
            .with(&[], p.queued_total as f64),
            MetricFamily::counter(
                "tiktok_hub_db_pool_queued_seconds_total",
                "Time those checkouts spent queued, in all.",
            )
            .with(&[], p.queued_wait_ms_total as f64 / 1000.0),
            MetricFamily::gauge(
                "tiktok_hub_sync_db_connections_max",
                "Pool connections the sync jobs may use at once; the rest are kept for the admin API.",
            )
            .with(&[], g.size as f64),
            MetricFamily::counter(
                "tiktok_hub_sync_db_waits_total",
                "Sync repository calls that waited because the jobs' share of the pool was in use.",
            )
            .with(&[], g.waits as f64),
            MetricFamily::counter("tiktok_hub_sync_db_wait_seconds_total", "Time those calls waited, in all.")
                .with(&[], g.wait.as_secs_f64()),
        ]
    }

    /// Stores by connection state, and access-token expiry of the connected ones.
    async fn store_families(&self) -> Vec<MetricFamily> {
        let gauges = match tokio::time::timeout(STORES_QUERY_TIMEOUT, self.engine.system().connection_gauges()).await {
            Ok(Ok(g)) => g,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: could not read the stores");
                return Vec::new();
            }
            Err(_) => {
                tracing::warn!("metrics: reading the stores timed out");
                return Vec::new();
            }
        };
        let mut by_state: std::collections::BTreeMap<(&'static str, &'static str), u64> = Default::default();
        for (status, reason) in [("CONNECTED", ""), ("DISCONNECTED", ""), ("NOT_CONNECTED", "")] {
            by_state.insert((status, reason), 0);
        }
        for (status, n) in &gauges.by_status {
            *by_state.entry(status.unwrap_or(("NOT_CONNECTED", ""))).or_default() += n;
        }
        let (expired, min_expiry) = (gauges.expired, gauges.min_expiry_secs);
        let mut states = MetricFamily::gauge(
            "tiktok_hub_stores",
            "Stores by connection status (CONNECTED, NEED_RECONNECT with its reason, DISCONNECTED, NOT_CONNECTED).",
        );
        for ((status, reason), n) in &by_state {
            states = states.with(&[("status", status), ("reason", reason)], *n as f64);
        }
        let mut out = vec![
            states,
            MetricFamily::gauge(
                "tiktok_hub_access_tokens_expired",
                "Connected accounts whose access token has expired (the refresh job or on-demand refresh failed).",
            )
            .with(&[], expired as f64),
        ];
        if let Some(left) = min_expiry {
            out.push(
                MetricFamily::gauge(
                    "tiktok_hub_access_token_min_expiry_seconds",
                    "Seconds until the soonest access token of a connected account expires (negative: expired).",
                )
                .with(&[], left),
            );
        }
        out
    }
}
