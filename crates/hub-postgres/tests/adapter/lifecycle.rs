//! `LifecycleRepo`: disconnect and archive move the ciphertexts into a pending revocation in
//! the transaction that wipes them; restore; revoked links; the retry bookkeeping.

use chrono::Duration;
use hub_domain::{ConnectionStatus, NewConnectInvite};
use hub_ports::{AccountRepo, ConnectRepo, LifecycleRepo, RepoError, SnapshotRepo, StoreRepo};
use hub_postgres::testing::TestDb;

use crate::support::*;

fn invite(hash: &str, store: &str) -> NewConnectInvite {
    NewConnectInvite {
        token_hash: hash.into(),
        store_code: code(store),
        created_by: "key:abcd1234".into(),
        expires_at: t0() + Duration::days(7),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnect_moves_the_tokens_into_a_pending_revocation_and_keeps_history() {
    let t = TestDb::new().await;
    let db = t.db();
    let s1 = store(db, "s1").await;
    connect(db, "s1", "t1").await;
    db.upsert_user(&[user_snap("s1", day(20), 100)]).await.unwrap();
    let history = count(db, "tiktok_user_daily").await;

    let r = db.retire(&s1, false, t0(), &audit("store.disconnect", Some("s1"))).await.unwrap();
    assert!(r.disconnected && !r.archived);
    let p = r.pending.expect("tokens to revoke");
    assert_eq!((p.tokens.access.as_str(), p.tokens.refresh.as_str()), ("access-t1", "refresh-t1"));
    assert_eq!(p.open_id.as_deref(), Some("open-s1"));
    let a = db.for_store(&s1).await.unwrap().unwrap();
    assert_eq!((a.status, a.tokens), (ConnectionStatus::Disconnected, None));
    assert_eq!(count(db, "audit_logs WHERE action = 'store.disconnect'").await, 1);
    assert_eq!(count(db, "tiktok_user_daily").await, history);

    // Again: nothing left to move, still audited.
    let again = db.retire(&s1, false, t0(), &audit("store.disconnect", Some("s1"))).await.unwrap();
    assert!(!again.disconnected && again.pending.is_none());
    assert_eq!(count(db, "pending_revocations").await, 1);
    assert_eq!(count(db, "audit_logs WHERE action = 'store.disconnect'").await, 2);

    // The retry bookkeeping.
    assert_eq!(db.due_revocations(t0() - Duration::seconds(1), 10).await.unwrap(), vec![]);
    assert_eq!(db.due_revocations(t0(), 10).await.unwrap(), vec![p.clone()]);
    db.revocation_failed(p.id, "transient", t0() + Duration::minutes(1)).await.unwrap();
    assert_eq!(db.due_revocations(t0(), 10).await.unwrap(), vec![]);
    let due = db.due_revocations(t0() + Duration::minutes(1), 10).await.unwrap();
    assert_eq!(due[0].attempts, 1);
    db.revocation_done(p.id).await.unwrap();
    assert_eq!(count(db, "pending_revocations").await, 0);
    assert_eq!(db.revocation_failed(p.id, "x", t0()).await, Err(RepoError::NotFound));
}

#[tokio::test(flavor = "multi_thread")]
async fn archive_hides_the_store_revokes_links_and_restore_brings_it_back() {
    let t = TestDb::new().await;
    let db = t.db();
    let s1 = store(db, "s1").await;
    store(db, "s2").await;
    connect(db, "s1", "t1").await;
    db.create_invite(&invite("h1", "s1"), &audit("x", None)).await.unwrap();

    let r = db.retire(&s1, true, t0(), &audit("store.archive", Some("s1"))).await.unwrap();
    assert!(r.archived && r.disconnected && r.pending.is_some());
    assert_eq!(r.links_revoked, 1);
    assert!(!db.find_invite("h1").await.unwrap().unwrap().is_usable(t0()));
    let codes = |v: Vec<hub_domain::StoreOverview>| v.into_iter().map(|o| o.store.code.to_string()).collect::<Vec<_>>();
    assert_eq!(codes(db.stores_page(None, 10).await.unwrap()), ["s2"]);
    assert_eq!(codes(db.all_stores_page_in(&hub_domain::StoreScope::All, None, 10).await.unwrap()), ["s1", "s2"]);
    assert_eq!(StoreRepo::get(db, &s1).await.unwrap().unwrap().archived_at, Some(t0()));

    let again = db.retire(&s1, true, t0() + Duration::hours(1), &audit("store.archive", Some("s1"))).await.unwrap();
    assert!(!again.archived && !again.disconnected && again.pending.is_none() && again.links_revoked == 0);
    assert_eq!(StoreRepo::get(db, &s1).await.unwrap().unwrap().archived_at, Some(t0()), "the first archive time stays");

    assert!(db.restore(&s1, &audit("store.restore", Some("s1"))).await.unwrap());
    assert!(!db.restore(&s1, &audit("store.restore", Some("s1"))).await.unwrap());
    assert_eq!(codes(db.stores_page(None, 10).await.unwrap()), ["s1", "s2"]);
    assert_eq!(count(db, "audit_logs WHERE action IN ('store.archive', 'store.restore')").await, 4);

    let ghost = code("ghost");
    assert_eq!(db.retire(&ghost, true, t0(), &audit("store.archive", None)).await, Err(RepoError::NotFound));
    assert_eq!(db.restore(&ghost, &audit("store.restore", None)).await, Err(RepoError::NotFound));
    assert_eq!(count(db, "audit_logs WHERE store_code IS NULL AND action LIKE 'store.%'").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_links_spares_used_ones_and_other_stores() {
    let t = TestDb::new().await;
    let db = t.db();
    let s1 = store(db, "s1").await;
    store(db, "s2").await;
    let used = db.create_invite(&invite("used", "s1"), &audit("x", None)).await.unwrap();
    db.consume_invite(used.id, t0()).await.unwrap();
    db.create_invite(&invite("open", "s1"), &audit("x", None)).await.unwrap();
    db.create_invite(&invite("other", "s2"), &audit("x", None)).await.unwrap();
    assert_eq!(db.revoke_invites(&s1, t0(), &audit("connect_link.revoke", Some("s1"))).await.unwrap(), 1);
    assert_eq!(db.revoke_invites(&s1, t0(), &audit("connect_link.revoke", Some("s1"))).await.unwrap(), 0);
    assert!(db.find_invite("other").await.unwrap().unwrap().is_usable(t0()));
    assert_eq!(db.find_invite("used").await.unwrap().unwrap().revoked_at, None);
    assert_eq!(count(db, "audit_logs WHERE action = 'connect_link.revoke'").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tiktok_event_is_stored_once_and_marks_the_account_revoked() {
    use hub_domain::{ReconnectReason, RevokeReason, TikTokEvent, TikTokEventKind};
    use hub_ports::{Deauthorization, TikTokEventRepo};
    let t = TestDb::new().await;
    let db = t.db();
    let s1 = store(db, "s1").await;
    connect(db, "s1", "t1").await;
    let event = TikTokEvent {
        dedupe_key: "d".repeat(64),
        event: "authorization.removed".into(),
        kind: TikTokEventKind::AuthorizationRemoved(RevokeReason::UserDisconnected),
        user_openid: Some("open-s1".into()),
        create_time: t0(),
        content: Some("{\"reason\":1}".into()),
    };
    let d = Deauthorization {
        open_id: "open-s1".into(),
        reason: RevokeReason::UserDisconnected,
        at: t0(),
        audit: audit("account.revoked", None),
    };
    let r = db.record(&event, Some(d.clone())).await.unwrap();
    assert!(!r.duplicate);
    assert_eq!(r.revoked_store, Some(s1.clone()));
    let a = db.for_store(&s1).await.unwrap().unwrap();
    assert_eq!((a.status, a.tokens), (ConnectionStatus::NeedReconnect(ReconnectReason::Revoked), None));
    let o = db.overview(&s1).await.unwrap().unwrap();
    assert_eq!(o.revoke_reason, Some(RevokeReason::UserDisconnected));
    assert_eq!(count(db, "audit_logs WHERE action = 'account.revoked' AND store_code = 's1'").await, 1);

    let again = db.record(&event, Some(d)).await.unwrap();
    assert!(again.duplicate && again.revoked_store.is_none());
    assert_eq!(count(db, "audit_logs WHERE action = 'account.revoked'").await, 1);
    assert_eq!(count(db, "tiktok_events").await, 1);

    // A later status other than REVOKED drops TikTok's reason (learned from a pair stored since).
    exec(db, "UPDATE store_accounts SET encrypted_refresh_token = 'pair-2' WHERE store_code = 's1'").await;
    let set = ConnectionStatus::NeedReconnect(ReconnectReason::GrantInvalid);
    assert!(db.set_status_if(a.id, "pair-2", set, t0()).await.unwrap());
    assert_eq!(db.overview(&s1).await.unwrap().unwrap().revoke_reason, None);
}
