//! `StoreRepo`: create with audit, conflicts, and the one-query store list.

use hub_domain::{AuditFilter, ConnectionStatus, NewStore, ReconnectReason, StoreGroup, StoreScope};
use hub_ports::{AccountRepo, AuditRepo, RepoError, SnapshotRepo, StoreRepo};
use hub_postgres::testing::TestDb;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn create_writes_the_store_and_its_audit_row_together() {
    let t = TestDb::new().await;
    let db = t.db();
    let new = NewStore::parse("store_jkt_01", " Jakarta ", "Ann", None).unwrap();
    let created = db.create(&new, &audit("store.create", Some("store_jkt_01"))).await.unwrap();
    assert_eq!(created.code.as_str(), "store_jkt_01");
    assert_eq!(created.name, "Jakarta");
    assert_eq!(created.pic_contact, None);
    assert_eq!(StoreRepo::get(db, &code("store_jkt_01")).await.unwrap(), Some(created));
    assert_eq!(StoreRepo::get(db, &code("nope")).await.unwrap(), None);

    let rows = db
        .list(&AuditFilter { action: Some("store.create".into()), limit: 10, ..AuditFilter::default() })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].entry, audit("store.create", Some("store_jkt_01")));
}

#[tokio::test(flavor = "multi_thread")]
async fn duplicate_store_is_a_conflict_and_writes_nothing() {
    let t = TestDb::new().await;
    let db = t.db();
    store(db, "dup").await;
    let again = NewStore::parse("dup", "Other name", "Bob", None).unwrap();
    let err = db.create(&again, &audit("store.create.again", Some("dup"))).await.unwrap_err();
    assert!(matches!(err, RepoError::Conflict(ref m) if m.contains("dup")), "{err:?}");
    assert_eq!(count(db, "stores").await, 1);
    assert_eq!(StoreRepo::get(db, &code("dup")).await.unwrap().unwrap().name, "Store dup");
    // The audit row of the failed attempt was rolled back with it.
    assert_eq!(count(db, "audit_logs").await, 1);
    assert_eq!(count(db, "audit_logs WHERE action = 'store.create.again'").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_audit_row_rolls_the_store_back() {
    let t = TestDb::new().await;
    let db = t.db();
    let mut bad = audit("store.create", Some("s1"));
    bad.actor = "x".repeat(101); // longer than VARCHAR(100)
    let err = db.create(&NewStore::parse("s1", "S", "Ann", None).unwrap(), &bad).await.unwrap_err();
    assert!(matches!(err, RepoError::Other(_)), "{err:?}");
    assert_eq!(count(db, "stores").await, 0);
    assert_eq!(count(db, "audit_logs").await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn list_overview_matches_independently_inserted_data() {
    let t = TestDb::new().await;
    let db = t.db();
    // b: connected, two user days, two video days (latest counts only the latest day).
    // a: no account, no snapshots. c: NEED_RECONNECT, user stats only. d: videos only.
    for s in ["b_store", "a_store", "c_store", "d_store"] {
        store(db, s).await;
    }
    let b = connect(db, "b_store", "b").await;
    let c = connect(db, "c_store", "c").await;
    let revoked = ConnectionStatus::NeedReconnect(ReconnectReason::Revoked);
    assert!(db.set_status_if(c.id, &c.tokens.clone().unwrap().refresh, revoked, t0()).await.unwrap());
    exec(
        db,
        "INSERT INTO tiktok_user_daily (store_code, snapshot_date, follower_count, likes_count, video_count)
         VALUES ('b_store', '2026-01-22', 90, 900, 8), ('b_store', '2026-01-23', 100, 1000, 9),
                ('c_store', '2026-01-20', 5, NULL, 1);
         INSERT INTO tiktok_video_daily (store_code, snapshot_date, video_id, view_count)
         VALUES ('b_store', '2026-01-22', '1', 1000), ('b_store', '2026-01-22', '2', 1000),
                ('b_store', '2026-01-22', '3', 1000),
                ('b_store', '2026-01-23', '1', 10), ('b_store', '2026-01-23', '2', 20),
                ('d_store', '2026-01-21', '9', NULL);",
    )
    .await;

    let list = db.stores_page(None, 1000).await.unwrap();
    let codes: Vec<&str> = list.iter().map(|o| o.store.code.as_str()).collect();
    assert_eq!(codes, ["a_store", "b_store", "c_store", "d_store"]);

    let a = &list[0];
    assert_eq!(
        (a.account_id, a.connection_status, a.latest_user_stats, a.latest_video_stats),
        (None, None, None, None)
    );

    let ob = &list[1];
    assert_eq!(ob.account_id, Some(b.id));
    assert_eq!(ob.connection_status, Some(ConnectionStatus::Connected));
    assert_eq!(ob.account_identifier.as_deref(), Some("open-b_store"));
    assert_eq!(ob.token_expires_at, b.token_expires_at);
    let u = ob.latest_user_stats.unwrap();
    assert_eq!((u.snapshot_date, u.follower_count, u.likes_count, u.video_count), (day(23), 100, 1000, 9));
    let v = ob.latest_video_stats.unwrap();
    assert_eq!((v.snapshot_date, v.total_videos, v.total_views), (day(23), 2, 30));

    let oc = &list[2];
    assert_eq!(oc.connection_status, Some(ConnectionStatus::NeedReconnect(ReconnectReason::Revoked)));
    assert_eq!(oc.latest_user_stats.unwrap().likes_count, 0);
    assert_eq!(oc.latest_video_stats, None);

    let od = &list[3];
    assert_eq!(od.latest_user_stats, None);
    let v = od.latest_video_stats.unwrap();
    assert_eq!((v.snapshot_date, v.total_videos, v.total_views), (day(21), 1, 0));

    // overview(code) is the same row as in the list.
    for o in &list {
        assert_eq!(db.overview(&o.store.code).await.unwrap().as_ref(), Some(o));
    }
    assert_eq!(db.overview(&code("missing")).await.unwrap(), None);

    // Upserting through the repository moves the numbers.
    db.upsert_videos(&[video_snap("d_store", day(24), 1, 7)]).await.unwrap();
    let v = db.overview(&code("d_store")).await.unwrap().unwrap().latest_video_stats.unwrap();
    assert_eq!((v.snapshot_date, v.total_videos, v.total_views), (day(24), 1, 7));
}

#[tokio::test(flavor = "multi_thread")]
async fn list_overview_orders_codes_bytewise() {
    let t = TestDb::new().await;
    let db = t.db();
    for s in ["b", "a-1", "a_1", "B", "a1"] {
        store(db, s).await;
    }
    let codes: Vec<String> =
        db.stores_page(None, 1000).await.unwrap().into_iter().map(|o| o.store.code.to_string()).collect();
    let mut want = codes.clone();
    want.sort();
    assert_eq!(codes, want);
    assert_eq!(codes.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_groups_in_a_scope_are_those_of_its_unarchived_stores() {
    let t = TestDb::new().await;
    let db = t.db();
    for s in ["g_n1", "g_n2", "g_s1", "g_w1", "g_none"] {
        store(db, s).await;
    }
    exec(
        db,
        "UPDATE stores SET store_group = 'north' WHERE store_code IN ('g_n1', 'g_n2');
         UPDATE stores SET store_group = 'south' WHERE store_code = 'g_s1';
         UPDATE stores SET store_group = 'west', archived_at = now() WHERE store_code = 'g_w1';",
    )
    .await;
    let g = |n: &str| StoreGroup::parse(n).unwrap();
    let names = |v: Vec<StoreGroup>| v.iter().map(|g| g.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(db.groups_in(&StoreScope::All).await.unwrap()), ["north", "south"], "sorted, once, no archived");
    let scoped = StoreScope::groups(vec![g("north"), g("west")]);
    assert_eq!(names(db.groups_in(&scoped).await.unwrap()), ["north"]);
    assert!(db.groups_in(&StoreScope::Groups(vec![])).await.unwrap().is_empty());
}
