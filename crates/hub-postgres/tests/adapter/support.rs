//! Fixtures shared by the adapter tests.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use diesel::sql_types::BigInt;
use diesel_async::RunQueryDsl;
use hub_domain::{ActorKind, AuditOutcome, NewAuditEntry, NewStore, StoreCode, VideoId, VideoSnapshot};
use hub_domain::{EncryptedTokens, TokenMeta, UserSnapshot};
use hub_ports::{AccountRepo, ConnectedAccount, StoreRepo};
use hub_postgres::Db;

pub fn code(raw: &str) -> StoreCode {
    StoreCode::parse(raw).unwrap()
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap()
}

pub fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, d).unwrap()
}

pub fn audit(action: &str, store: Option<&str>) -> NewAuditEntry {
    NewAuditEntry {
        actor: "key:abcd1234".into(),
        actor_kind: ActorKind::BreakGlass,
        actor_id: None,
        actor_name: Some("key:abcd1234".into()),
        action: action.into(),
        store_code: store.map(code),
        target: None,
        outcome: AuditOutcome::Success,
        request_id: Some("req-1".into()),
        ip: Some("127.0.0.1".into()),
        details: Some("{\"k\":1}".into()),
    }
}

pub async fn store(db: &Db, raw: &str) -> StoreCode {
    let new = NewStore::parse(raw, &format!("Store {raw}"), "Ann", Some("ann@example.com")).unwrap();
    db.create(&new, &audit("store.create", Some(raw))).await.unwrap();
    code(raw)
}

pub fn tokens(tag: &str) -> EncryptedTokens {
    EncryptedTokens { access: format!("access-{tag}"), refresh: format!("refresh-{tag}") }
}

pub fn meta(at: DateTime<Utc>) -> TokenMeta {
    TokenMeta {
        access_expires_at: at + Duration::hours(24),
        refresh_expires_at: at + Duration::days(365),
        scopes: vec!["user.info.basic".into(), "video.list".into()],
    }
}

pub async fn connect(db: &Db, raw: &str, tag: &str) -> hub_domain::Account {
    let acc = ConnectedAccount {
        store_code: code(raw),
        open_id: format!("open-{raw}"),
        tokens: tokens(tag),
        meta: meta(t0()),
        connected_at: t0(),
    };
    db.save_connected(&acc, &[]).await.unwrap()
}

pub fn user_snap(raw: &str, date: NaiveDate, followers: i64) -> UserSnapshot {
    UserSnapshot {
        store_code: code(raw),
        snapshot_date: date,
        follower_count: followers,
        following_count: 10,
        likes_count: followers * 2,
        video_count: 5,
        display_name: Some(format!("Display {raw}")),
        avatar_url: None,
    }
}

pub fn video_snap(raw: &str, date: NaiveDate, video: u64, views: i64) -> VideoSnapshot {
    VideoSnapshot {
        store_code: code(raw),
        snapshot_date: date,
        video_id: VideoId::parse(&format!("{}", 7_000_000_000_000_000_000u64 + video)).unwrap(),
        view_count: views,
        like_count: views / 10,
        comment_count: 1,
        share_count: 2,
        description: Some("desc".into()),
        title: None,
        create_time: Some(t0() - Duration::days(video as i64)),
        share_url: None,
        cover_image_url: None,
        duration: Some(15),
    }
}

/// `SELECT count(*) FROM <table>` (table names come from the tests, never from input).
pub async fn count(db: &Db, table: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await.unwrap();
    diesel::sql_query(format!("SELECT count(*) AS n FROM {table}")).get_result::<N>(&mut conn).await.unwrap().n
}

/// Runs SQL written by the test itself.
pub async fn exec(db: &Db, sql: &str) {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = db.conn().await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}
