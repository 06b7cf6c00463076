//! `WebhookRepo`: outbox rows written in the changes' transactions, claims with `FOR UPDATE
//! SKIP LOCKED` (two claimers never get one row), leases, attempts and disabling.

use std::collections::HashSet;

use chrono::Duration;
use hub_domain::{
    AttemptResult, ConnectionStatus, NewWebhookEndpoint, Notification, ReconnectReason, WebhookEndpointChange,
    WebhookEvent, WebhookFormat,
};
use hub_ports::{AccountRepo, LifecycleRepo, WebhookRepo};
use hub_postgres::Db;
use hub_postgres::testing::TestDb;

use crate::support::*;

async fn endpoint(db: &Db, events: &[WebhookEvent]) -> i64 {
    let new = NewWebhookEndpoint {
        url: "https://hooks.example.com/x".into(),
        events: events.to_vec(),
        format: WebhookFormat::Standard,
        include_connect_link: false,
        encrypted_secret: "ciphertext".into(),
        created_by: "cli".into(),
    };
    db.create_endpoint(&new, &audit("webhook.create", None)).await.unwrap().id
}

#[tokio::test(flavor = "multi_thread")]
async fn changes_write_their_outbox_rows_for_subscribed_enabled_endpoints_only() {
    let t = TestDb::new().await;
    let db = t.db();
    let wants = endpoint(db, &[WebhookEvent::StoreConnected, WebhookEvent::StoreNeedsReconnect]).await;
    let other = endpoint(db, &[WebhookEvent::DigestDaily]).await;
    let off = endpoint(db, &[WebhookEvent::StoreConnected, WebhookEvent::StoreDisconnected]).await;
    let change = WebhookEndpointChange { enabled: Some(false), ..Default::default() };
    db.update_endpoint(off, &change, t0(), &audit("webhook.update", None)).await.unwrap();
    let s1 = store(db, "s1").await;

    let account = connect(db, "s1", "t1").await;
    let status = ConnectionStatus::NeedReconnect(ReconnectReason::RefreshExpired);
    assert!(db.set_status_if(account.id, "refresh-t1", status, t0()).await.unwrap());
    // The same status again announces nothing new.
    assert!(db.set_status_if(account.id, "refresh-t1", status, t0()).await.unwrap());
    db.retire(&s1, false, t0(), &audit("store.disconnect", Some("s1"))).await.unwrap();

    let mut rows = Vec::new();
    for e in [wants, other, off] {
        rows.push(count(db, &format!("webhook_outbox WHERE endpoint_id = {e}")).await);
    }
    assert_eq!(rows, [2, 0, 0]);
    assert_eq!(count(db, "webhook_outbox WHERE event = 'store.needs_reconnect' AND store_code = 's1'").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_claimers_never_get_the_same_row_and_a_lease_runs_out() {
    let t = TestDb::new().await;
    let db = t.db().clone();
    let id = endpoint(&db, &[WebhookEvent::StoreDisconnected]).await;
    for i in 0..60 {
        let n = Notification::store_disconnected(&code(&format!("s{i}")), false, t0());
        assert_eq!(db.enqueue(&n, None).await.unwrap(), 1);
    }
    let lease = t0() + Duration::minutes(1);
    let claimer = |db: Db| async move {
        let mut mine = Vec::new();
        loop {
            let got = db.claim_due(t0(), lease, 3).await.unwrap();
            if got.is_empty() {
                return mine;
            }
            mine.extend(got.into_iter().map(|i| i.id));
        }
    };
    let (a, b, c) = tokio::join!(
        tokio::spawn(claimer(db.clone())),
        tokio::spawn(claimer(db.clone())),
        tokio::spawn(claimer(db.clone()))
    );
    let all: Vec<i64> = [a.unwrap(), b.unwrap(), c.unwrap()].concat();
    assert_eq!(all.len(), 60, "every row claimed once");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 60, "no row claimed twice");
    // While the lease runs nobody gets them; after it, they are due again (the claimer died).
    assert!(db.claim_due(t0() + Duration::seconds(59), lease, 100).await.unwrap().is_empty());
    let again = db.claim_due(lease, lease + Duration::minutes(1), 100).await.unwrap();
    assert_eq!(again.len(), 60);
    assert!(again.iter().all(|i| i.endpoint.id == id && i.event == WebhookEvent::StoreDisconnected));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daily_event_is_queued_once_per_endpoint_and_day() {
    let t = TestDb::new().await;
    let db = t.db();
    endpoint(db, &[WebhookEvent::ReportGaps]).await;
    let day = t0().date_naive();
    let range = hub_domain::DateRange { from: day - Duration::days(6), to: day };
    let n = Notification::report_gaps(range, &[], t0());
    assert_eq!(db.enqueue(&n, None).await.unwrap(), 1);
    // Another instance's tick of the same day.
    assert_eq!(db.enqueue(&n, None).await.unwrap(), 0);
    let next = hub_domain::DateRange { from: range.from + Duration::days(1), to: day + Duration::days(1) };
    assert_eq!(db.enqueue(&Notification::report_gaps(next, &[], t0()), None).await.unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn attempts_are_recorded_and_a_disabled_endpoint_is_not_claimed() {
    let t = TestDb::new().await;
    let db = t.db();
    let id = endpoint(db, &[WebhookEvent::StoreConnected]).await;
    db.enqueue(&Notification::store_connected(&code("s1"), t0()), None).await.unwrap();
    let lease = t0() + Duration::minutes(1);
    let item = db.claim_due(t0(), lease, 10).await.unwrap().remove(0);
    let retry = t0() + Duration::seconds(30);
    let failed = AttemptResult {
        status_code: Some(500),
        success: false,
        error: Some("HTTP 500".into()),
        at: t0(),
        retry_at: Some(retry),
        disable: None,
    };
    db.record_attempt(&item, &failed).await.unwrap();
    assert!(db.claim_due(retry - Duration::seconds(1), lease, 10).await.unwrap().is_empty());
    let item = db.claim_due(retry, retry + Duration::minutes(1), 10).await.unwrap().remove(0);
    assert_eq!((item.attempts, item.endpoint.consecutive_failures), (1, 1));
    let ok =
        AttemptResult { status_code: Some(200), success: true, error: None, at: retry, retry_at: None, disable: None };
    db.record_attempt(&item, &ok).await.unwrap();
    let list = db.deliveries(id, 10).await.unwrap();
    let got: Vec<(i32, Option<i32>, bool)> = list.iter().map(|d| (d.attempt, d.status_code, d.success)).collect();
    assert_eq!(got, [(2, Some(200), true), (1, Some(500), false)]);
    assert_eq!(count(db, "webhook_outbox WHERE status = 'DELIVERED'").await, 1);

    // A failure that disables the endpoint: its rows are no longer claimed.
    db.enqueue(&Notification::store_connected(&code("s2"), t0()), None).await.unwrap();
    let item = db.claim_due(retry, lease + Duration::hours(1), 10).await.unwrap().remove(0);
    let fatal = AttemptResult { disable: Some("20 consecutive failed deliveries".into()), ..failed };
    db.record_attempt(&item, &fatal).await.unwrap();
    let (e, _) = db.endpoint(id).await.unwrap().unwrap();
    assert_eq!((e.enabled, e.disabled_reason.as_deref()), (false, Some("20 consecutive failed deliveries")));
    assert!(db.claim_due(t0() + Duration::days(1), t0() + Duration::days(2), 10).await.unwrap().is_empty());
}
