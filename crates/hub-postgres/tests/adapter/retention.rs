//! `RetentionRepo`: old rows go in batches of the given size, oldest first; younger rows and
//! runs still RUNNING stay; log lines of a purged run stay without it.

use chrono::{Duration, Utc};
use hub_domain::{JobKind, NewSyncLog, RunCounts, RunStatus, RunTrigger, SyncLogStatus};
use hub_ports::{AuditRepo, Retained, RetentionRepo, SyncLogRepo, SyncRunRepo};
use hub_postgres::Db;
use hub_postgres::testing::TestDb;

use crate::support::*;

fn line(run_id: Option<i64>, msg: &str) -> NewSyncLog {
    NewSyncLog {
        run_id,
        store_code: None,
        job: JobKind::SyncUserDaily,
        status: SyncLogStatus::Success,
        message: msg.into(),
        raw_error: None,
        duration_ms: 1,
    }
}

/// Batches of `table` older than 90 days, `limit` rows each, until one comes back short.
async fn batches(db: &Db, table: Retained, limit: i64) -> Vec<u64> {
    let before = Utc::now() - Duration::days(90);
    let mut out = Vec::new();
    loop {
        let n = db.purge_batch(table, before, limit).await.unwrap();
        out.push(n);
        if n < limit as u64 {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn old_rows_go_in_batches_and_the_rest_stays() {
    let t = TestDb::new().await;
    let db = t.db();
    let now = Utc::now();
    let old = now - Duration::days(120);
    let day = old.date_naive();

    // Runs: 5 old and finished, 1 old and still RUNNING, 1 young and finished.
    let mut old_runs = Vec::new();
    for _ in 0..5 {
        let r = db.start(JobKind::SyncUserDaily, day, RunTrigger::Cron, 1, "host-1", old).await.unwrap();
        db.finish(r.id, RunStatus::Succeeded, &RunCounts::default(), None, old).await.unwrap();
        old_runs.push(r.id);
    }
    let running = db.start(JobKind::SyncVideoDaily, day, RunTrigger::Cron, 1, "host-1", old).await.unwrap();
    let young = db.start(JobKind::SyncUserDaily, now.date_naive(), RunTrigger::Manual, 1, "h", now).await.unwrap();
    db.finish(young.id, RunStatus::Succeeded, &RunCounts::default(), None, now).await.unwrap();

    // Log lines: 7 old (one of them of an old run), 2 young, one of which belongs to an old run.
    for i in 0..7 {
        let run = (i == 0).then_some(old_runs[0]);
        SyncLogRepo::insert(db, &line(run, &format!("old {i}"))).await.unwrap();
    }
    exec(db, "UPDATE sync_logs SET run_time = now() - interval '100 days'").await;
    SyncLogRepo::insert(db, &line(Some(old_runs[1]), "young of an old run")).await.unwrap();
    SyncLogRepo::insert(db, &line(Some(young.id), "young")).await.unwrap();

    // Audit rows: 4 old, 2 just under the period, 1 now.
    for i in 0..7 {
        AuditRepo::insert(db, &audit(&format!("a{i}"), None)).await.unwrap();
    }
    exec(db, "UPDATE audit_logs SET created_at = now() - interval '400 days' WHERE action IN ('a0','a1','a2','a3')")
        .await;
    exec(db, "UPDATE audit_logs SET created_at = now() - interval '89 days' WHERE action IN ('a4','a5')").await;

    // (table, batch size, batches answered, rows left)
    let cases: [(Retained, i64, &[u64], &str, i64); 3] = [
        (Retained::SyncLogs, 3, &[3, 3, 1], "sync_logs", 2),
        (Retained::SyncRuns, 2, &[2, 2, 1], "sync_runs", 2),
        (Retained::Audit, 4, &[4, 0], "audit_logs", 3),
    ];
    for (table, limit, want, name, left) in cases {
        assert_eq!(batches(db, table, limit).await, want, "{name}: batches of {limit}");
        assert_eq!(count(db, name).await, left, "{name}: rows left");
    }

    // The RUNNING run and the young one stay; the young line of a purged run stays, runless.
    assert_eq!(SyncRunRepo::get(db, running.id).await.unwrap().map(|r| r.status), Some(RunStatus::Running));
    assert!(SyncRunRepo::get(db, young.id).await.unwrap().is_some());
    assert!(SyncRunRepo::get(db, old_runs[4]).await.unwrap().is_none());
    let lines = SyncLogRepo::logs_page(db, &hub_domain::StoreScope::All, None, None, 10).await.unwrap();
    let mut got: Vec<(String, Option<i64>)> = lines.iter().map(|l| (l.log.message.clone(), l.log.run_id)).collect();
    got.sort();
    assert_eq!(got, vec![("young".to_owned(), Some(young.id)), ("young of an old run".to_owned(), None)]);
    assert_eq!(count(db, "audit_logs WHERE action IN ('a4','a5','a6')").await, 3, "younger audit rows stay");

    // Nothing older is left: a further pass deletes nothing.
    for table in Retained::ALL {
        assert_eq!(batches(db, table, 100).await, vec![0]);
    }
}
