//! `ConnectRepo` and `AuditRepo`: single-use invites and states, expiry, purge.

use std::sync::Arc;

use chrono::Duration;
use hub_domain::{AuditFilter, AuditOutcome, NewConnectInvite, NewOAuthState};
use hub_ports::{AuditRepo, ConnectRepo, RepoError};
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

fn state(hash: &str, store: &str, invite_id: Option<i64>) -> NewOAuthState {
    NewOAuthState {
        nonce_hash: hash.into(),
        store_code: code(store),
        invite_id,
        browser_binding: "b".repeat(64),
        pkce_verifier: Some("verifier".into()),
        expires_at: t0() + Duration::minutes(10),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn invites_are_stored_with_audit_and_found_by_hash() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let inv = db.create_invite(&invite("h1", "s1"), &audit("connect_link.create", Some("s1"))).await.unwrap();
    assert_eq!((inv.token_hash.as_str(), inv.used_at, inv.expires_at), ("h1", None, t0() + Duration::days(7)));
    assert_eq!(db.find_invite("h1").await.unwrap(), Some(inv));
    assert_eq!(db.find_invite("h2").await.unwrap(), None);
    assert_eq!(count(db, "audit_logs WHERE action = 'connect_link.create'").await, 1);

    // Same hash again: conflict, and neither row written.
    let err = db.create_invite(&invite("h1", "s1"), &audit("connect_link.again", Some("s1"))).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(_)), "{err:?}");
    // Unknown store: not found, nothing written.
    let err = db.create_invite(&invite("h3", "ghost"), &audit("connect_link.again", None)).await.unwrap_err();
    assert_eq!(err, RepoError::NotFound);
    assert_eq!(count(db, "connect_invites").await, 1);
    assert_eq!(count(db, "audit_logs WHERE action = 'connect_link.again'").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn consume_invite_once_and_only_before_expiry() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let a = db.create_invite(&invite("a", "s1"), &audit("x", None)).await.unwrap();
    let b = db.create_invite(&invite("b", "s1"), &audit("x", None)).await.unwrap();
    let expiry = t0() + Duration::days(7);
    // (id, now, expected)
    let cases = [
        (a.id, expiry, false), // expired exactly at expires_at
        (a.id, t0(), true),
        (a.id, t0(), false), // used
        (b.id, expiry + Duration::seconds(1), false),
        (999, t0(), false),
    ];
    for (id, now, want) in cases {
        assert_eq!(db.consume_invite(id, now).await.unwrap(), want, "{id} at {now}");
    }
    assert_eq!(db.find_invite("a").await.unwrap().unwrap().used_at, Some(t0()));
    assert_eq!(db.find_invite("b").await.unwrap().unwrap().used_at, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_invite_consumers_one_success() {
    let t = TestDb::new().await;
    let db = Arc::new(t.db().clone());
    store(&db, "s1").await;
    let inv = db.create_invite(&invite("a", "s1"), &audit("x", None)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.consume_invite(inv.id, t0()).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn consume_state_returns_it_once_before_expiry() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let inv = db.create_invite(&invite("i", "s1"), &audit("x", None)).await.unwrap();
    let s = state("n1", "s1", Some(inv.id));
    db.insert_state(&s).await.unwrap();
    db.insert_state(&state("n2", "s1", None)).await.unwrap();
    assert!(matches!(db.insert_state(&s).await, Err(RepoError::Conflict(_))));
    assert_eq!(db.insert_state(&state("n3", "ghost", None)).await, Err(RepoError::NotFound));

    let got = db.consume_state("n1", t0()).await.unwrap().unwrap();
    assert_eq!(got.state, s);
    assert_eq!(db.consume_state("n1", t0()).await.unwrap(), None, "single use");
    assert_eq!(db.consume_state("n2", t0() + Duration::minutes(10)).await.unwrap(), None, "expired");
    assert_eq!(db.consume_state("unknown", t0()).await.unwrap(), None);
    assert!(db.consume_state("n2", t0()).await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_concurrent_state_consumers_one_success() {
    let t = TestDb::new().await;
    let db = Arc::new(t.db().clone());
    store(&db, "s1").await;
    db.insert_state(&state("n", "s1", None)).await.unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.consume_state("n", t0()).await.unwrap().is_some() })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn purge_removes_only_what_expired_before() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    db.create_invite(&invite("keep", "s1"), &audit("x", None)).await.unwrap();
    let mut old = invite("old", "s1");
    old.expires_at = t0() - Duration::days(1);
    db.create_invite(&old, &audit("x", None)).await.unwrap();
    db.insert_state(&state("fresh", "s1", None)).await.unwrap();
    let mut stale = state("stale", "s1", None);
    stale.expires_at = t0() - Duration::minutes(1);
    db.insert_state(&stale).await.unwrap();

    assert_eq!(db.purge_expired(t0()).await.unwrap(), 2);
    assert_eq!(count(db, "connect_invites").await, 1);
    assert_eq!(count(db, "oauth_states").await, 1);
    assert!(db.find_invite("keep").await.unwrap().is_some());
    assert_eq!(db.purge_expired(t0()).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_list_filters_newest_first() {
    let t = TestDb::new().await;
    let db = t.db();
    let mut ids = Vec::new();
    for (action, store) in [("sync.run", None), ("store.create", Some("s1")), ("sync.run", Some("s1"))] {
        ids.push(AuditRepo::insert(db, &audit(action, store)).await.unwrap());
    }
    let mut denied = audit("auth", None);
    denied.outcome = AuditOutcome::Denied;
    ids.push(AuditRepo::insert(db, &denied).await.unwrap());
    let list = |action: Option<&str>, store: Option<&str>, limit| AuditFilter {
        action: action.map(Into::into),
        store_code: store.map(code),
        limit,
        ..AuditFilter::default()
    };
    let cases = [
        (list(None, None, 10), vec![ids[3], ids[2], ids[1], ids[0]]),
        (list(Some("sync.run"), None, 10), vec![ids[2], ids[0]]),
        (list(None, Some("s1"), 10), vec![ids[2], ids[1]]),
        (list(Some("sync.run"), Some("s1"), 10), vec![ids[2]]),
        (list(None, None, 1), vec![ids[3]]),
    ];
    for (filter, want) in cases {
        let got: Vec<i64> = AuditRepo::list(db, &filter).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(got, want, "{filter:?}");
    }
    let all = AuditRepo::list(db, &list(Some("auth"), None, 10)).await.unwrap();
    assert_eq!(all[0].entry, denied);
}
