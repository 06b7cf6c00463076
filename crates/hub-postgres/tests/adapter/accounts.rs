//! `AccountRepo`: connect/reconnect, compare-and-swap token writes, status, leases, lists.

use std::sync::Arc;

use chrono::Duration;
use hub_domain::{AccountId, AuditFilter, ConnectionStatus, ReconnectReason};
use hub_ports::{AccountRepo, AuditRepo, ConnectedAccount, RepoError};
use hub_postgres::testing::TestDb;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn save_connected_inserts_then_replaces_in_place_with_audit() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    assert_eq!(db.for_store(&code("s1")).await.unwrap(), None);

    let first = connect(db, "s1", "one").await;
    assert_eq!(first.status, ConnectionStatus::Connected);
    assert_eq!(first.tokens, Some(tokens("one")));
    assert_eq!(first.scopes, vec!["user.info.basic", "video.list"]);
    assert_eq!(first.platform, "tiktok");
    db.set_status(first.id, ConnectionStatus::NeedReconnect(ReconnectReason::ScopeMissing), t0()).await.unwrap();

    let later = t0() + Duration::days(3);
    let again = ConnectedAccount {
        store_code: code("s1"),
        open_id: "open-new".into(),
        tokens: tokens("two"),
        meta: meta(later),
        connected_at: later,
    };
    let audits = [audit("account.connect", Some("s1")), audit("connect_link.use", Some("s1"))];
    let second = db.save_connected(&again, &audits).await.unwrap();
    assert_eq!(second.id, first.id, "a reconnect keeps the row");
    assert_eq!(second.status, ConnectionStatus::Connected, "reason cleared");
    assert_eq!(second.open_id.as_deref(), Some("open-new"));
    assert_eq!(second.tokens, Some(tokens("two")));
    assert_eq!(second.connected_at, Some(later));
    assert_eq!(count(db, "store_accounts").await, 1);
    assert_eq!(db.get(first.id).await.unwrap(), Some(second.clone()));
    assert_eq!(db.for_store(&code("s1")).await.unwrap(), Some(second));
    let rows =
        db.list(&AuditFilter { store_code: Some(code("s1")), limit: 10, ..AuditFilter::default() }).await.unwrap();
    assert_eq!(rows.len(), 3); // store.create + the two above
}

#[tokio::test(flavor = "multi_thread")]
async fn save_connected_for_an_unknown_store_writes_nothing() {
    let t = TestDb::new().await;
    let db = t.db();
    let acc = ConnectedAccount {
        store_code: code("ghost"),
        open_id: "o".into(),
        tokens: tokens("x"),
        meta: meta(t0()),
        connected_at: t0(),
    };
    let err = db.save_connected(&acc, &[audit("account.connect", Some("ghost"))]).await.unwrap_err();
    assert_eq!(err, RepoError::NotFound);
    assert_eq!(count(db, "audit_logs").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn save_refreshed_is_compare_and_swap() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let acc = connect(db, "s1", "one").await;
    let at = t0() + Duration::hours(20);

    // Stale expectation: nothing changes.
    assert!(!db.save_refreshed(acc.id, "refresh-zero", &tokens("two"), &meta(at), at).await.unwrap());
    assert_eq!(db.get(acc.id).await.unwrap().unwrap().tokens, Some(tokens("one")));

    assert!(db.save_refreshed(acc.id, "refresh-one", &tokens("two"), &meta(at), at).await.unwrap());
    let now = db.get(acc.id).await.unwrap().unwrap();
    assert_eq!(now.tokens, Some(tokens("two")));
    assert_eq!(now.last_refresh_at, Some(at));
    assert_eq!(now.token_expires_at, Some(meta(at).access_expires_at));
    // The old refresh token is no longer the expected one.
    assert!(!db.save_refreshed(acc.id, "refresh-one", &tokens("three"), &meta(at), at).await.unwrap());
    // Unknown id.
    assert!(!db.save_refreshed(AccountId(999), "refresh-two", &tokens("x"), &meta(at), at).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_refreshes_have_one_winner() {
    let t = TestDb::new().await;
    let db = Arc::new(t.db().clone());
    store(&db, "s1").await;
    let acc = connect(&db, "s1", "one").await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.save_refreshed(acc.id, "refresh-one", &tokens(&format!("n{i}")), &meta(t0()), t0()).await.unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn replace_ciphertexts_needs_both_expected_values() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let acc = connect(db, "s1", "one").await;
    let mut half = tokens("one");
    half.access = "access-other".into();
    assert!(!db.replace_ciphertexts(acc.id, &half, &tokens("re")).await.unwrap());
    assert!(db.replace_ciphertexts(acc.id, &tokens("one"), &tokens("re")).await.unwrap());
    assert!(!db.replace_ciphertexts(acc.id, &tokens("one"), &tokens("re2")).await.unwrap());
    assert_eq!(db.get(acc.id).await.unwrap().unwrap().tokens, Some(tokens("re")));
}

#[tokio::test(flavor = "multi_thread")]
async fn set_status_writes_status_and_reason() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let acc = connect(db, "s1", "one").await;
    let mut cases = vec![ConnectionStatus::Disconnected, ConnectionStatus::Connected];
    cases.extend(ReconnectReason::ALL.map(ConnectionStatus::NeedReconnect));
    cases.push(ConnectionStatus::Connected);
    for status in cases {
        db.set_status(acc.id, status, t0()).await.unwrap();
        assert_eq!(db.get(acc.id).await.unwrap().unwrap().status, status);
        let with_reason = count(db, "store_accounts WHERE status_reason IS NOT NULL").await;
        assert_eq!(with_reason, i64::from(status.reason().is_some()), "{status:?}");
    }
    assert_eq!(db.set_status(AccountId(999), ConnectionStatus::Connected, t0()).await, Err(RepoError::NotFound));
    assert_eq!(db.mark_synced(AccountId(999), t0()).await, Err(RepoError::NotFound));
    db.mark_synced(acc.id, t0()).await.unwrap();
    assert_eq!(db.get(acc.id).await.unwrap().unwrap().last_sync_time, Some(t0()));
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_of_connected_and_due_accounts() {
    let t = TestDb::new().await;
    let db = t.db();
    for s in ["c", "a", "b", "d"] {
        store(db, s).await;
        connect(db, s, s).await;
    }
    // expiries: a +24h (from meta), b +1h, c +3h, d disconnected.
    exec(
        db,
        "UPDATE store_accounts SET token_expires_at = '2026-01-24 03:00:00+00' WHERE store_code = 'b';
         UPDATE store_accounts SET token_expires_at = '2026-01-24 05:00:00+00' WHERE store_code = 'c';
         UPDATE store_accounts SET status = 'DISCONNECTED', token_expires_at = '2026-01-24 01:00:00+00'
           WHERE store_code = 'd';",
    )
    .await;
    let connected: Vec<String> = db.list_connected().await.unwrap().iter().map(|a| a.store_code.to_string()).collect();
    assert_eq!(connected, ["a", "b", "c"]);
    let cases = [
        (t0(), vec![]),
        (t0() + Duration::hours(2), vec!["b"]),
        (t0() + Duration::hours(6), vec!["b", "c"]),
        (t0() + Duration::hours(48), vec!["b", "c", "a"]),
    ];
    for (before, want) in cases {
        let due: Vec<String> =
            db.list_due_for_refresh(before).await.unwrap().iter().map(|a| a.store_code.to_string()).collect();
        assert_eq!(due, want, "before {before}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_lease_is_exclusive_until_it_expires_or_is_released() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "s1").await;
    let id = connect(db, "s1", "one").await.id;
    let now = t0();
    let m = Duration::minutes;
    let until = now + m(5);
    // (owner, now, until, taken)
    let steps = [
        ("w1", now, until, true),
        ("w2", now, until, false),
        ("w1", now + m(1), until, true), // re-entrant for its owner
        ("w2", now + m(4), now + m(9), false),
        ("w2", until, now + m(10), true), // expired at `until`
        ("w1", until, now + m(10), false),
    ];
    for (owner, at, lease_until, want) in steps {
        let got = db.try_lease_refresh(id, owner, at, lease_until).await.unwrap();
        assert_eq!(got, want, "{owner} at {at}");
    }
    // Only the holder can release.
    db.release_refresh_lease(id, "w1").await.unwrap();
    assert!(!db.try_lease_refresh(id, "w1", until, until + m(5)).await.unwrap());
    db.release_refresh_lease(id, "w2").await.unwrap();
    assert!(db.try_lease_refresh(id, "w1", until, until + m(5)).await.unwrap());
    assert!(!db.try_lease_refresh(AccountId(999), "w1", now, until).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_owners_leases_are_released_and_no_one_elses() {
    let t = TestDb::new().await;
    let db = t.db();
    let mut ids = Vec::new();
    for (code, open_id) in [("s1", "one"), ("s2", "two"), ("s3", "three")] {
        store(db, code).await;
        ids.push(connect(db, code, open_id).await.id);
    }
    let (now, until) = (t0(), t0() + Duration::minutes(1));
    for (id, owner) in [(ids[0], "dead"), (ids[1], "dead"), (ids[2], "alive")] {
        assert!(db.try_lease_refresh(id, owner, now, until).await.unwrap());
    }
    assert_eq!(db.release_refresh_leases_of("dead").await.unwrap(), 2);
    assert_eq!(db.release_refresh_leases_of("dead").await.unwrap(), 0);
    // The dead owner's accounts are free at once, well before their lease would expire.
    assert!(db.try_lease_refresh(ids[0], "next", now, until).await.unwrap());
    assert!(db.try_lease_refresh(ids[1], "next", now, until).await.unwrap());
    assert!(!db.try_lease_refresh(ids[2], "next", now, until).await.unwrap(), "a live owner keeps its lease");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_lease_takers_have_one_winner() {
    let t = TestDb::new().await;
    let db = Arc::new(t.db().clone());
    store(&db, "s1").await;
    let id = connect(&db, "s1", "one").await.id;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.try_lease_refresh(id, &format!("w{i}"), t0(), t0() + Duration::minutes(5)).await.unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_with_tokens_after_pages_by_id() {
    let t = TestDb::new().await;
    let db = t.db();
    let mut ids = Vec::new();
    for s in ["a", "b", "c", "d", "e"] {
        store(db, s).await;
        ids.push(connect(db, s, s).await.id);
    }
    exec(
        db,
        "UPDATE store_accounts SET encrypted_access_token = NULL, encrypted_refresh_token = NULL
         WHERE store_code = 'c'",
    )
    .await;
    let page = |after: AccountId, limit| async move {
        db.list_with_tokens_after(after, limit).await.unwrap().into_iter().map(|a| a.id).collect::<Vec<_>>()
    };
    assert_eq!(page(AccountId(0), 2).await, [ids[0], ids[1]]);
    assert_eq!(page(ids[1], 2).await, [ids[3], ids[4]]);
    assert_eq!(page(ids[4], 2).await, []);
}
