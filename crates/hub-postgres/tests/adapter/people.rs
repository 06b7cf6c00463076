//! People (users, sessions, API keys), audit rows that name the actor, and the store-scope
//! filter of every cross-store query: for generated stores in two groups (and none), each
//! scoped answer equals the unscoped answer filtered by group.

use chrono::{Duration, NaiveDate};
use hub_domain::*;
use hub_ports::{
    ApiKeyRepo, AuditRepo, LAST_ADMIN, RepoError, ReportRepo, SessionRepo, SnapshotRepo, StoreRepo, SyncLogRepo,
    UserRepo,
};
use hub_postgres::testing::TestDb;

use crate::support::*;

fn hash(tag: &str) -> Secret<String> {
    Secret::new(format!("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA${tag}"))
}

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: Email::parse(email).unwrap(),
        name: DisplayName::parse("Someone").unwrap(),
        role,
        scope: StoreScope::All,
        password_hash: hash(email),
    }
}

fn groups(names: &[&str]) -> StoreScope {
    StoreScope::groups(names.iter().map(|n| StoreGroup::parse(n).unwrap()).collect())
}

fn session(user: UserId, tag: &str) -> NewSession {
    NewSession { token_hash: format!("{tag:0>64}"), user, created_at: t0(), expires_at: t0() + Duration::days(7) }
}

#[tokio::test(flavor = "multi_thread")]
async fn users_are_unique_by_email_whatever_its_case_and_their_changes_are_audited() {
    let t = TestDb::new().await;
    let db = t.db();
    let mut ops = new_user("ops@example.com", Role::Operator);
    ops.scope = groups(&["north", "south"]);
    let u = UserRepo::create(db, &ops, &audit("user.create", None)).await.unwrap();
    assert_eq!((u.role, u.active, u.scope.clone()), (Role::Operator, true, groups(&["north", "south"])));
    // The check constraint keeps emails in lower case; the unique index is on lower(email).
    let upper = "INSERT INTO users (email, display_name, role, password_hash) VALUES ('OPS@example.com', 'x', 'viewer', '$argon2id$x')";
    let mut conn = db.conn().await.unwrap();
    use diesel_async::SimpleAsyncConnection;
    assert!(conn.batch_execute(upper).await.is_err(), "no upper-case email is stored");
    drop(conn);
    let again = UserRepo::create(db, &new_user("ops@example.com", Role::Viewer), &audit("user.create", None)).await;
    assert!(matches!(again, Err(RepoError::Conflict(_))), "{again:?}");
    assert_eq!(count(db, "audit_logs").await, 1, "the refused create wrote nothing");
    let creds = db.credentials(&Email::parse("OPS@EXAMPLE.COM").unwrap()).await.unwrap().unwrap();
    assert_eq!(
        (creds.user.id, creds.password_hash.expose().as_str()),
        (u.id, hash("ops@example.com").expose().as_str())
    );
    assert_eq!(UserRepo::list(db, Some(u.id)).await.unwrap().len(), 1);
    // A change, with its audit row; disabling deletes the sessions in the same transaction.
    db.record_login(&session(u.id, "a"), &audit("auth.login", None)).await.unwrap();
    assert_eq!(UserRepo::get(db, u.id).await.unwrap().unwrap().last_login_at, Some(t0()));
    let change = UserChange { role: Some(Role::Viewer), scope: Some(StoreScope::All), ..UserChange::default() };
    let changed = UserRepo::update(db, u.id, &change, &audit("user.update", None)).await.unwrap();
    assert_eq!((changed.role, changed.scope), (Role::Viewer, StoreScope::All));
    assert_eq!(count(db, "sessions").await, 1, "a role change keeps sessions");
    let off = UserChange { active: Some(false), ..UserChange::default() };
    UserRepo::update(db, u.id, &off, &audit("user.disable", None)).await.unwrap();
    assert_eq!(count(db, "sessions").await, 0);
    assert_eq!(count(db, "audit_logs").await, 4);
    db.rehash(u.id, &hash("rehashed")).await.unwrap();
    assert_eq!(count(db, "audit_logs").await, 4, "a rehash is not audited");
    assert_eq!(UserRepo::update(db, UserId(999), &off, &audit("x", None)).await, Err(RepoError::NotFound));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_concurrent_demotions_cannot_leave_the_hub_without_an_admin() {
    // Several rounds, a database each: the race must be lost the same way every time.
    for round in 0..5 {
        let t = TestDb::new().await;
        let db = t.db();
        let a = UserRepo::create(db, &new_user("a@example.com", Role::Admin), &audit("u", None)).await.unwrap();
        let b = UserRepo::create(db, &new_user("b@example.com", Role::Admin), &audit("u", None)).await.unwrap();
        let demote = UserChange { role: Some(Role::Operator), ..UserChange::default() };
        let row = audit("user.update", None);
        let (ra, rb) =
            tokio::join!(UserRepo::update(db, a.id, &demote, &row), UserRepo::update(db, b.id, &demote, &row));
        let refused = [&ra, &rb].iter().filter(|r| matches!(r, Err(RepoError::Conflict(c)) if c == LAST_ADMIN)).count();
        assert_eq!((refused, ra.is_ok() as usize + rb.is_ok() as usize), (1, 1), "round {round}: {ra:?} {rb:?}");
        assert_eq!(count(db, "users WHERE role = 'admin' AND active").await, 1);
        assert_eq!(count(db, "audit_logs WHERE action = 'user.update'").await, 1, "the refused change wrote nothing");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_and_keys_are_found_by_hash_touched_ended_and_purged() {
    let t = TestDb::new().await;
    let db = t.db();
    let u = UserRepo::create(db, &new_user("ops@example.com", Role::Operator), &audit("u", None)).await.unwrap();
    db.record_login(&session(u.id, "s1"), &audit("auth.login", None)).await.unwrap();
    let s = SessionRepo::find(db, &format!("{:0>64}", "s1")).await.unwrap().unwrap();
    assert_eq!((s.user.id, s.last_seen_at, s.expires_at), (u.id, t0(), t0() + Duration::days(7)));
    assert!(SessionRepo::find(db, &"f".repeat(64)).await.unwrap().is_none());
    SessionRepo::touch(db, s.id, t0() + Duration::hours(1)).await.unwrap();
    assert_eq!(
        SessionRepo::find(db, &format!("{:0>64}", "s1")).await.unwrap().unwrap().last_seen_at,
        t0() + Duration::hours(1)
    );
    db.record_login(&session(u.id, "s2"), &audit("auth.login", None)).await.unwrap();
    assert!(SessionRepo::delete(db, &format!("{:0>64}", "s2"), &audit("auth.logout", None)).await.unwrap());
    assert!(!SessionRepo::delete(db, &format!("{:0>64}", "s2"), &audit("auth.logout", None)).await.unwrap());
    assert_eq!(count(db, "audit_logs WHERE action = 'auth.logout'").await, 1, "only a real sign-out is audited");
    // Purged: idle since before the cut, or past the absolute end.
    assert_eq!(db.purge(t0() + Duration::hours(2), t0()).await.unwrap(), 0);
    assert_eq!(db.purge(t0() + Duration::hours(2), t0() + Duration::hours(2)).await.unwrap(), 1);

    // Keys: stored by hash, with their owner (or none).
    let key = |name: &str, owner: Option<UserId>| NewApiKey {
        name: KeyName::parse(name).unwrap(),
        key_hash: format!("{name:0>64}"),
        fingerprint: "0123456789ab".into(),
        role: Role::Viewer,
        scope: groups(&["north"]),
        owner,
        created_by: "user:1".into(),
        expires_at: Some(t0() + Duration::days(1)),
    };
    let k1 = ApiKeyRepo::create(db, &key("mine", Some(u.id)), &audit("api_key.create", None)).await.unwrap();
    let k2 = ApiKeyRepo::create(db, &key("ownerless", None), &audit("api_key.create", None)).await.unwrap();
    let found = ApiKeyRepo::find(db, &format!("{:0>64}", "mine")).await.unwrap().unwrap();
    assert_eq!(
        (found.key.id, found.key.scope.clone(), found.owner.map(|o| o.id)),
        (k1.id, groups(&["north"]), Some(u.id))
    );
    assert!(ApiKeyRepo::find(db, &format!("{:0>64}", "ownerless")).await.unwrap().unwrap().owner.is_none());
    assert_eq!(ApiKeyRepo::list(db, Some(u.id)).await.unwrap().len(), 1);
    assert_eq!(ApiKeyRepo::list(db, None).await.unwrap().iter().map(|k| k.id).collect::<Vec<_>>(), [k2.id, k1.id]);
    ApiKeyRepo::touch(db, k1.id, t0() + Duration::minutes(5)).await.unwrap();
    assert!(ApiKeyRepo::revoke(db, k1.id, t0(), &audit("api_key.revoke", None)).await.unwrap());
    assert!(!ApiKeyRepo::revoke(db, k1.id, t0() + Duration::hours(1), &audit("api_key.revoke", None)).await.unwrap());
    let k = ApiKeyRepo::get(db, k1.id).await.unwrap().unwrap();
    assert_eq!((k.revoked_at, k.last_used_at), (Some(t0()), Some(t0() + Duration::minutes(5))), "revoked once");
    // Only hashes are stored.
    assert_eq!(count(db, "api_keys WHERE length(key_hash) = 64").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_rows_name_the_actor_and_filter_by_actor_and_scope() {
    let t = TestDb::new().await;
    let db = t.db();
    for (c, g) in [("n1", Some("north")), ("s1", Some("south")), ("z1", None)] {
        let s = NewStore::parse(c, c, "P", None).unwrap().with_group(g.map(|g| StoreGroup::parse(g).unwrap()));
        StoreRepo::create(db, &s, &audit("store.create", Some(c))).await.unwrap();
    }
    let person = Actor {
        principal: Principal::User { id: UserId(7), email: Email::parse("ops@example.com").unwrap() },
        role: Role::Operator,
        scope: StoreScope::All,
        request_id: Some("r".into()),
        ip: None,
    };
    AuditRepo::insert(db, &person.audit("store.update", Some(&code("n1")), None, AuditOutcome::Success, None))
        .await
        .unwrap();
    AuditRepo::insert(db, &person.audit("user.create", None, None, AuditOutcome::Denied, None)).await.unwrap();
    let mine = AuditRepo::list(db, &AuditFilter { actor: Some("user:7".into()), limit: 50, ..AuditFilter::default() })
        .await
        .unwrap();
    assert_eq!(mine.len(), 2);
    let e = &mine[0].entry;
    assert_eq!(
        (e.actor_kind, e.actor_id, e.actor_name.as_deref()),
        (ActorKind::User, Some(7), Some("ops@example.com"))
    );
    let all = AuditRepo::list(db, &AuditFilter { limit: 50, ..AuditFilter::default() }).await.unwrap();
    let north =
        AuditRepo::list(db, &AuditFilter { stores_in: Some(groups(&["north"])), limit: 50, ..AuditFilter::default() })
            .await
            .unwrap();
    let want: Vec<i64> =
        all.iter().filter(|r| r.entry.store_code.as_ref().is_some_and(|c| c.as_str() == "n1")).map(|r| r.id).collect();
    assert_eq!(north.iter().map(|r| r.id).collect::<Vec<_>>(), want);
    let any_store =
        AuditRepo::list(db, &AuditFilter { stores_in: Some(StoreScope::All), limit: 50, ..AuditFilter::default() })
            .await
            .unwrap();
    assert_eq!(any_store.len(), 4, "every row about a store, none without one");
}

/// A small deterministic generator (no dependency needed for a handful of draws).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Every cross-store query with a scope returns what it returns without one, filtered to the
/// scope's stores: the store list, the overview's counts and totals, the store report (rows,
/// order, total), the top videos, the gap facts and the sync logs; over generated stores in
/// `north`, `south` and no group, for several seeds.
#[tokio::test(flavor = "multi_thread")]
async fn every_scoped_query_is_the_unscoped_one_filtered_by_group() {
    for seed in 1..=3u64 {
        let t = TestDb::new().await;
        let db = t.db();
        let mut rng = Lcg(seed);
        let names = ["north", "south", ""];
        let mut group_of = std::collections::BTreeMap::new();
        for i in 0..12 {
            let c = format!("g{seed}_{i:02}");
            let g = names[rng.next(3) as usize];
            let s = NewStore::parse(&c, &c, "P", None).unwrap().with_group(optional_group(Some(g)).unwrap());
            StoreRepo::create(db, &s, &audit("store.create", Some(&c))).await.unwrap();
            group_of.insert(c.clone(), g);
            if rng.next(4) > 0 {
                connect(db, &c, &c).await;
                for d in 1..=3 {
                    if rng.next(5) > 0 {
                        db.upsert_user(&[user_snap(&c, day(d), 100 + rng.next(900) as i64)]).await.unwrap();
                        let videos: Vec<_> =
                            (0..rng.next(4)).map(|v| video_snap(&c, day(d), v, 10 + rng.next(1000) as i64)).collect();
                        db.upsert_videos(&videos).await.unwrap();
                    }
                }
                let log = NewSyncLog {
                    run_id: None,
                    store_code: Some(code(&c)),
                    job: JobKind::SyncUserDaily,
                    status: SyncLogStatus::Success,
                    message: "ok".into(),
                    raw_error: None,
                    duration_ms: 1,
                };
                SyncLogRepo::insert(db, &log).await.unwrap();
            }
        }
        let summary = NewSyncLog {
            store_code: None,
            job: JobKind::SyncUserDaily,
            status: SyncLogStatus::Success,
            message: "job".into(),
            raw_error: None,
            duration_ms: 1,
            run_id: None,
        };
        SyncLogRepo::insert(db, &summary).await.unwrap();
        let in_north = |c: &StoreCode| group_of[c.as_str()] == "north";
        let north = groups(&["north"]);
        let range = DateRange { from: day(1), to: day(3) };

        let all = db.stores_page(None, 1000).await.unwrap();
        let scoped = db.stores_page_in(&north, None, 1000).await.unwrap();
        assert_eq!(
            scoped,
            all.iter().filter(|o| in_north(&o.store.code)).cloned().collect::<Vec<_>>(),
            "seed {seed}: stores"
        );
        assert!(!scoped.is_empty() && scoped.len() < all.len(), "seed {seed}: both groups drawn");

        let mut want: Vec<(Option<ConnectionStatus>, i64)> = Vec::new();
        for o in scoped.iter() {
            match want.iter_mut().find(|(s, _)| *s == o.connection_status) {
                Some((_, n)) => *n += 1,
                None => want.push((o.connection_status, 1)),
            }
        }
        let mut got = db.connection_counts_in(&north).await.unwrap();
        let key = |x: &(Option<ConnectionStatus>, i64)| format!("{:?}", x.0);
        got.sort_by_key(key);
        want.sort_by_key(key);
        assert_eq!(got, want, "seed {seed}: connection counts");

        let dates: Vec<NaiveDate> = (1..=3).map(day).collect();
        let totals = db.day_totals_in(&north, &dates).await.unwrap();
        let q = StoreReportQuery {
            range: DateRange { from: day(1), to: day(1) },
            sort: StoreSort::Followers,
            order: SortOrder::Desc,
            limit: 1000,
            offset: 0,
        };
        for (i, d) in dates.iter().enumerate() {
            let q = StoreReportQuery { range: DateRange { from: *d, to: *d }, ..q };
            let (rows, _) = db.store_report(&q).await.unwrap();
            let north_rows: Vec<&StoreEnds> = rows.iter().filter(|r| in_north(&r.store_code)).collect();
            let followers: i64 = north_rows.iter().filter_map(|r| r.followers_to).sum();
            let views: i64 = north_rows.iter().filter_map(|r| r.views_to).sum();
            let with_user = north_rows.iter().filter(|r| r.followers_to.is_some()).count() as i64;
            assert_eq!(
                (totals[i].followers, totals[i].views, totals[i].user_stores),
                (followers, views, with_user),
                "seed {seed}: totals of {d}"
            );
        }

        for sort in StoreSort::ALL {
            let q = StoreReportQuery { range, sort, order: SortOrder::Desc, limit: 1000, offset: 0 };
            let (all_rows, _) = db.store_report(&q).await.unwrap();
            let (rows, total) = db.store_report_in(&north, &q).await.unwrap();
            let want: Vec<StoreEnds> = all_rows.into_iter().filter(|r| in_north(&r.store_code)).collect();
            assert_eq!((rows.len() as i64, &rows), (total, &want), "seed {seed}: store report by {sort:?}");
            let (past, total_past) = db.store_report_in(&north, &StoreReportQuery { offset: 500, ..q }).await.unwrap();
            assert_eq!((past.len(), total_past), (0, total), "seed {seed}: the total past the last page");
        }

        for sort in VideoSort::ALL {
            let q = TopVideosQuery { range, sort, store: None, group: None, limit: 1000 };
            let all_top = db.top_videos(&q).await.unwrap();
            let top = db.top_videos_in(&north, &q).await.unwrap();
            let want: Vec<TopVideo> = all_top.into_iter().filter(|v| in_north(&v.store_code)).collect();
            assert_eq!(top, want, "seed {seed}: top videos by {sort:?}");
        }

        let all_days = db.store_days(range, "UTC", None, 1000).await.unwrap();
        let days = db.store_days_in(&north, range, "UTC", None, 1000).await.unwrap();
        assert_eq!(
            days,
            all_days.into_iter().filter(|d| in_north(&d.store_code)).collect::<Vec<StoreDays>>(),
            "seed {seed}: gaps"
        );

        let all_logs = SyncLogRepo::logs_page(db, &StoreScope::All, None, None, 1000).await.unwrap();
        let logs = SyncLogRepo::logs_page(db, &north, None, None, 1000).await.unwrap();
        let want: Vec<SyncLog> =
            all_logs.into_iter().filter(|l| l.log.store_code.as_ref().is_some_and(in_north)).collect();
        assert_eq!(logs, want, "seed {seed}: sync logs (no summary line)");
    }
}
