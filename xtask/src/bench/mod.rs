//! `cargo xtask bench sync|db|api|web|xlsx`: the benchmarks (docs/PERFORMANCE.md). This module only
//! dispatches; what the benchmarks share is in `common`, which depends on none of them.

mod api;
mod common;
mod db;
mod instances;
mod sync;
mod web;
mod xlsx;

use anyhow::Result;

/// `cargo xtask bench <benchmark>`.
#[derive(Debug, Clone, PartialEq, clap::Subcommand)]
pub enum Command {
    /// The daily sync against tiktok-sandbox at TikTok's limits, day 1 and day 2
    ///
    /// Runs `tiktok-hub sync --job all` twice (day 1, day 2) in a fresh database
    /// tiktok_hub_bench; one line per day with wall time, the rate-limit floor, 429s, failures
    /// and peak RSS. With `--instances 2` (database tiktok_hub_bench_pair) a second instance
    /// syncs one store at a time through `POST /admin/sync/run` during each day's run, both on
    /// one TikTok budget (PostgreSQL, or Redis with `--redis`), and the day is checked.
    Sync(sync::Args),
    /// Database throughput and latency in tiktok_hub_benchdb
    ///
    /// Ingest (adapter upserts vs COPY), p50/p99 of the store list, history and report
    /// queries, and a CSV export streamed through the real hub with its peak RSS.
    Db(db::Args),
    /// wrk against the release `tiktok-hub serve`, per admin read route
    ///
    /// tiktok_hub_benchapi, 300 stores × 30 days × 50 videos: requests/s, p50, p99 and errors
    /// per admin read route and /health.
    Api(api::Args),
    /// The dashboard's pages at scale, p50/p95 per page, and the overview's cold-load bytes
    ///
    /// tiktok_hub_benchweb, 1,000 stores × 365 days × 100 videos (bench db's data set): 100
    /// sequential requests per page signed in as an admin; one line per page and one for the
    /// overview's cold load (docs/PERFORMANCE.md).
    Web(web::Args),
    /// The XLSX export of 1,000,000 sync-log lines through the real hub, read back
    ///
    /// tiktok_hub_benchxlsx: `GET /admin/sync/logs?format=xlsx` from the release hub, its
    /// time and peak RSS, then the file read back with calamine (every row, typed cells).
    Xlsx(xlsx::Args),
}

pub fn run(cmd: &Command) -> Result<()> {
    match cmd {
        Command::Sync(args) => sync::run(args),
        Command::Db(args) => db::run(args),
        Command::Api(args) => api::run(args),
        Command::Web(args) => web::run(args),
        Command::Xlsx(args) => xlsx::run(args),
    }
}
