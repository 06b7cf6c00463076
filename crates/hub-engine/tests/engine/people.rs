//! Port-level tests of people and roles: the access rules of the use cases (role, scope, the
//! DENIED row), scoped lists and totals, sessions (idle and absolute ends, a new password,
//! disabling), sign-in (one answer, rehash), personal keys (never above their owner), and the
//! last active admin.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use hub_domain::*;
use hub_engine::testing::{self, *};
use hub_engine::{
    AddKey, AddUser, AdminError, AuthError, ChangeUser, Engine, EngineConfig, PasswordParams, PeopleConfig,
    PeopleError, ReportError, SyncError,
};
use hub_ports::*;

const PASSWORD: &str = "correct horse battery staple 9";

/// A clock the test moves.
#[derive(Clone)]
struct Moving(Arc<Mutex<DateTime<Utc>>>);

impl Clock for Moving {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

impl Moving {
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

fn cheap(params: PasswordParams) -> EngineConfig {
    EngineConfig { people: PeopleConfig { password: params, ..PeopleConfig::default() }, ..EngineConfig::default() }
}

const CHEAP: PasswordParams = PasswordParams { memory_kib: 1024, iterations: 1, parallelism: 1 };

/// Stores n1, n2 (north), s1 (south), z1 (no group); an engine over them with a moving clock.
fn setup(config: EngineConfig) -> (Shared, Engine, Moving) {
    let w: Shared = Arc::default();
    {
        let mut g = w.lock().unwrap();
        g.add_store_in("n1", "north");
        g.add_store_in("n2", "north");
        g.add_store_in("s1", "south");
        g.add_store("z1");
    }
    let clock = Moving(Arc::new(Mutex::new(t0())));
    let ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), Arc::new(clock.clone()));
    (w.clone(), Engine::new(ports, config, STATE_SECRET), clock)
}

fn scope(names: &[&str]) -> StoreScope {
    StoreScope::groups(names.iter().map(|n| StoreGroup::parse(n).unwrap()).collect())
}

fn actor(role: Role, scope: StoreScope) -> Actor {
    Actor { role, scope, ..Actor::break_glass("key:0123456789ab".into(), None, None) }
}

async fn user(e: &Engine, email: &str, role: Role, s: StoreScope) -> User {
    let add = AddUser {
        email: Email::parse(email).unwrap(),
        name: None,
        role,
        scope: s,
        password: Password::parse(PASSWORD).unwrap(),
    };
    e.people().add_user(&Actor::cli(), add).await.unwrap()
}

fn denied(w: &Shared) -> usize {
    w.lock().unwrap().audit.iter().filter(|a| a.outcome == AuditOutcome::Denied).count()
}

#[tokio::test]
async fn each_use_case_refuses_a_role_below_its_own_with_one_denied_row() {
    let (w, e, _) = setup(cheap(CHEAP));
    let viewer = actor(Role::Viewer, StoreScope::All);
    let new = NewStore::parse("x1", "X", "P", None).unwrap();
    assert_eq!(e.admin().create_store(&viewer, &new).await, Err(AdminError::Forbidden));
    assert_eq!(denied(&w), 1);
    let change = StoreChange::parse(Some("Y"), None, None, None).unwrap();
    assert_eq!(e.admin().update_store(&viewer, &code("n1"), &change).await, Err(AdminError::Forbidden));
    assert!(matches!(e.connect().issue_link(&viewer, &code("n1")).await, Err(hub_engine::ConnectError::Forbidden)));
    let req =
        hub_engine::SyncRequest { store: Some(code("n1")), selection: hub_engine::JobSelection::User, wait: true };
    assert_eq!(e.syncs().trigger(&viewer, req).await.unwrap_err(), SyncError::Forbidden);
    let add = AddKey {
        name: KeyName::parse("k").unwrap(),
        role: Role::Viewer,
        scope: StoreScope::All,
        expires_in_days: None,
    };
    assert!(matches!(e.people().create_key(&viewer, add).await, Err(PeopleError::Forbidden(_))));
    let operator = actor(Role::Operator, StoreScope::All);
    let add = AddUser {
        email: Email::parse("a@b.cd").unwrap(),
        name: None,
        role: Role::Viewer,
        scope: StoreScope::All,
        password: Password::parse(PASSWORD).unwrap(),
    };
    assert!(matches!(e.people().add_user(&operator, add).await, Err(PeopleError::Forbidden(_))));
    assert_eq!(denied(&w), 6, "one DENIED row per refusal, and nothing else written");
    let g = w.lock().unwrap();
    assert_eq!(g.audit.len(), 6);
    assert!(g.audit.iter().all(|a| a.actor == "key:0123456789ab" && a.actor_kind == ActorKind::BreakGlass));
    assert_eq!(g.stores.len(), 4);
}

#[tokio::test]
async fn a_scoped_actor_sees_and_counts_only_its_groups_stores() {
    let (w, e, _) = setup(cheap(CHEAP));
    {
        let mut g = w.lock().unwrap();
        for (i, c) in ["n1", "n2", "s1", "z1"].into_iter().enumerate() {
            g.connect(c, Duration::hours(24));
            g.user_rows.push(UserSnapshotRow {
                id: i as i64 + 1,
                snapshot: UserSnapshot {
                    store_code: code(c),
                    snapshot_date: NaiveDate::from_ymd_opt(2026, 1, 24).unwrap(),
                    follower_count: 10 * (i as i64 + 1),
                    following_count: 0,
                    likes_count: 0,
                    video_count: 0,
                    display_name: None,
                    avatar_url: None,
                },
                created_at: t0(),
            });
        }
    }
    let north = actor(Role::Viewer, scope(&["north"]));
    let stores = hub_engine::collect(e.admin().stores(&north).await.unwrap()).await.unwrap();
    let codes: Vec<&str> = stores.iter().map(|s| s.store.code.as_str()).collect();
    assert_eq!(codes, ["n1", "n2"]);
    let overview = e.reports().overview(&north, None).await.unwrap();
    assert_eq!(overview.connections.stores, 2);
    assert_eq!(overview.followers.value, Some(10 + 20));
    let everyone = e.reports().overview(&Actor::cli(), None).await.unwrap();
    assert_eq!((everyone.connections.stores, everyone.followers.value), (4, Some(100)));
    // The dashboard's chart: one total per day of the range, over the actor's stores only.
    let day = |d| NaiveDate::from_ymd_opt(2026, 1, d).unwrap();
    let days = e.reports().daily_totals(&north, DateRange { from: day(23), to: day(24) }).await.unwrap();
    let totals: Vec<_> = days.iter().map(|t| (t.date, t.user_stores, t.followers)).collect();
    assert_eq!(totals, [(Some(day(23)), 0, 0), (Some(day(24)), 2, 30)]);
    let year_and_a_day = DateRange { from: NaiveDate::from_ymd_opt(2025, 1, 22).unwrap(), to: day(24) };
    assert!(e.reports().daily_totals(&north, year_and_a_day).await.is_err(), "at most 366 days");
    let q = StoreReportQuery {
        range: DateRange {
            from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2026, 1, 24).unwrap(),
        },
        sort: StoreSort::Followers,
        order: SortOrder::Desc,
        limit: 50,
        offset: 0,
    };
    let page = e.reports().store_report(&north, &q).await.unwrap();
    assert_eq!((page.total, page.rows.len()), (2, 2));
    assert!(page.rows.iter().all(|r| r.store_group.as_ref().map(StoreGroup::as_str) == Some("north")));
    let gaps = e.reports().gaps(&north, GapsQuery::new(q.range, true).unwrap()).await.unwrap();
    assert_eq!(gaps.iter().map(|g| g.store_code.as_str()).collect::<Vec<_>>(), ["n1", "n2"]);
    // A store outside the scope is a missing store, for reads and changes alike, and its
    // refusal is audited like a missing store's (no DENIED row).
    assert_eq!(e.admin().store(&north, &code("s1")).await, Err(AdminError::StoreNotFound));
    assert_eq!(e.admin().store(&north, &code("z1")).await, Err(AdminError::StoreNotFound), "no group: outside");
    assert_eq!(e.reports().user_stats(&north, &code("s1"), q.range).await.err(), Some(ReportError::StoreNotFound));
    let op = actor(Role::Operator, scope(&["north"]));
    let change = StoreChange::parse(None, Some("Ann"), None, None).unwrap();
    assert_eq!(e.admin().update_store(&op, &code("s1"), &change).await, Err(AdminError::StoreNotFound));
    assert_eq!(denied(&w), 0);
    // Moving its store out of its groups, or creating one elsewhere: refused (DENIED).
    let out = StoreChange::parse(None, None, None, Some(Some("south"))).unwrap();
    assert_eq!(e.admin().update_store(&op, &code("n1"), &out).await, Err(AdminError::Forbidden));
    let elsewhere =
        NewStore::parse("x1", "X", "P", None).unwrap().with_group(Some(StoreGroup::parse("south").unwrap()));
    assert_eq!(e.admin().create_store(&op, &elsewhere).await, Err(AdminError::Forbidden));
    let nowhere = NewStore::parse("x2", "X", "P", None).unwrap();
    assert_eq!(e.admin().create_store(&op, &nowhere).await, Err(AdminError::Forbidden), "a scoped store needs a group");
    assert_eq!(denied(&w), 3);
    let inside = NewStore::parse("x3", "X", "P", None).unwrap().with_group(Some(StoreGroup::parse("north").unwrap()));
    assert!(e.admin().create_store(&op, &inside).await.is_ok());
    // Numbers over every store are not for a scoped actor.
    assert_eq!(e.syncs().status(&north).await.unwrap_err(), SyncError::Forbidden);
    let all = hub_engine::SyncRequest { store: None, selection: hub_engine::JobSelection::User, wait: true };
    assert_eq!(e.syncs().trigger(&op, all).await.unwrap_err(), SyncError::Forbidden);
    // The audit trail: a scoped reader sees its stores' rows only.
    let rows = e.admin().audit_logs(&north, &AuditFilter { limit: 100, ..Default::default() }).await.unwrap();
    assert!(
        !rows.is_empty()
            && rows.iter().all(|r| r
                .entry
                .store_code
                .as_ref()
                .is_some_and(|c| c.as_str().starts_with('n') || c.as_str() == "x3"))
    );
}

#[tokio::test]
async fn sign_in_answers_the_same_for_every_failure_and_rehashes_old_hashes() {
    let (w, e, _) = setup(cheap(CHEAP));
    let ops = user(&e, "ops@example.com", Role::Operator, StoreScope::All).await;
    let p = e.people();
    for (email, password) in [
        ("nobody@example.com", PASSWORD),
        ("ops@example.com", "wrong password, long enough"),
        ("not an email", PASSWORD),
    ] {
        assert_eq!(p.login(email, password, None, None).await.err(), Some(AuthError::Invalid), "{email}");
    }
    let ok = p.login("OPS@example.com", PASSWORD, Some("r1".into()), Some("10.0.0.9".into())).await.unwrap();
    assert_eq!(ok.user.id, ops.id);
    assert_eq!(ok.expires_at, t0() + Duration::days(7));
    assert_eq!(p.csrf_token(ok.session_token.expose()), ok.csrf_token);
    // The session is stored by hash only.
    {
        let g = w.lock().unwrap();
        assert_eq!(g.sessions.len(), 1);
        assert_ne!(g.sessions[0].0, *ok.session_token.expose());
        assert!(g.users[0].1.expose().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
    }
    // Stronger parameters: the next sign-in rehashes.
    let ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), fixed_clock(t0()));
    let stronger = Engine::new(ports, cheap(PasswordParams { memory_kib: 2048, ..CHEAP }), STATE_SECRET);
    stronger.people().login("ops@example.com", PASSWORD, None, None).await.unwrap();
    assert!(w.lock().unwrap().users[0].1.expose().starts_with("$argon2id$v=19$m=2048,t=1,p=1$"));
    // Audited: the unknown address as anonymous, without its text; the person otherwise.
    let g = w.lock().unwrap();
    let logins: Vec<&NewAuditEntry> = g.audit.iter().filter(|a| a.action == "auth.login").collect();
    assert_eq!(logins.len(), 5);
    assert_eq!(logins.iter().filter(|a| a.actor == "anonymous").count(), 2);
    assert!(!format!("{logins:?}").contains("nobody@example.com"));
    assert!(logins.iter().any(|a| a.outcome == AuditOutcome::Success && a.request_id.as_deref() == Some("r1")));
}

#[tokio::test]
async fn sessions_end_when_idle_at_their_absolute_end_and_on_a_new_password() {
    let config = EngineConfig {
        people: PeopleConfig {
            session_idle: std::time::Duration::from_secs(3600),
            session_absolute: std::time::Duration::from_secs(4 * 3600),
            password: CHEAP,
        },
        ..EngineConfig::default()
    };
    let (_, e, clock) = setup(config);
    let ops = user(&e, "ops@example.com", Role::Operator, scope(&["north"])).await;
    let p = e.people();
    let token = p.login("ops@example.com", PASSWORD, None, None).await.unwrap().session_token;
    let a = p.session(token.expose(), None, None).await.unwrap();
    assert_eq!((a.role, a.scope.clone(), a.person()), (Role::Operator, scope(&["north"]), Some(ops.id)));
    // Used every 59 minutes: alive until the absolute end.
    for _ in 0..4 {
        clock.advance(Duration::minutes(59));
        assert!(p.session(token.expose(), None, None).await.is_ok());
    }
    clock.advance(Duration::minutes(5));
    assert_eq!(p.session(token.expose(), None, None).await.err(), Some(AuthError::Invalid), "past the absolute end");
    // Idle for an hour: gone.
    let token = p.login("ops@example.com", PASSWORD, None, None).await.unwrap().session_token;
    clock.advance(Duration::minutes(61));
    assert_eq!(p.session(token.expose(), None, None).await.err(), Some(AuthError::Invalid), "idle");
    // A new password ends every session of the user.
    let token = p.login("ops@example.com", PASSWORD, None, None).await.unwrap().session_token;
    let change =
        ChangeUser { password: Some(Password::parse("another long passphrase 1").unwrap()), ..ChangeUser::default() };
    p.update_user(&Actor::cli(), ops.id, change).await.unwrap();
    assert_eq!(p.session(token.expose(), None, None).await.err(), Some(AuthError::Invalid));
    // Purging drops ended sessions.
    let token = p.login("ops@example.com", "another long passphrase 1", None, None).await.unwrap().session_token;
    clock.advance(Duration::hours(2));
    assert_eq!(e.system().purge_expired().await.unwrap(), 1);
    assert_eq!(p.session(token.expose(), None, None).await.err(), Some(AuthError::Invalid));
}

#[tokio::test]
async fn a_key_never_acts_above_its_owner_and_nobody_grants_more_than_they_have() {
    let (w, e, clock) = setup(cheap(CHEAP));
    let lead = user(&e, "lead@example.com", Role::Operator, scope(&["north", "south"])).await;
    let lead_actor = Actor {
        principal: Principal::User { id: lead.id, email: lead.email.clone() },
        ..actor(Role::Operator, scope(&["north", "south"]))
    };
    let p = e.people();
    let add = |role, s, days| AddKey { name: KeyName::parse("k").unwrap(), role, scope: s, expires_in_days: days };
    // Above its role, outside its scope, groups that do not exist: refused.
    assert!(matches!(
        p.create_key(&lead_actor, add(Role::Admin, StoreScope::All, None)).await,
        Err(PeopleError::Forbidden(_))
    ));
    assert!(matches!(
        p.create_key(&lead_actor, add(Role::Viewer, StoreScope::All, None)).await,
        Err(PeopleError::Forbidden(_))
    ));
    assert!(matches!(
        p.create_key(&lead_actor, add(Role::Viewer, scope(&["north", "east"]), None)).await,
        Err(PeopleError::Forbidden(_))
    ));
    let admin = actor(Role::Admin, StoreScope::All);
    let err = p.create_key(&admin, add(Role::Viewer, scope(&["east"]), None)).await.unwrap_err();
    assert!(matches!(&err, PeopleError::Invalid(d) if d.field() == "store_groups"), "{err:?}");
    // Within: the key acts with its own role and scope…
    let key = p.create_key(&lead_actor, add(Role::Operator, scope(&["north"]), Some(1))).await.unwrap();
    assert!(key.secret.expose().starts_with("tth_"));
    assert_eq!(key.key.owner, Some(lead.id));
    assert_eq!(key.key.fingerprint, hub_engine::state::sha256_hex(key.secret.expose().as_bytes())[..12]);
    let a = p.authenticate_key(key.secret.expose(), None, None).await.unwrap();
    assert_eq!(
        (a.role, a.scope.clone(), a.who()),
        (Role::Operator, scope(&["north"]), format!("apikey:{}", key.key.fingerprint))
    );
    // …capped by its owner's current role and scope.
    p.update_user(
        &Actor::cli(),
        lead.id,
        ChangeUser { role: Some(Role::Viewer), scope: Some(scope(&["south"])), ..ChangeUser::default() },
    )
    .await
    .unwrap();
    let a = p.authenticate_key(key.secret.expose(), None, None).await.unwrap();
    assert_eq!((a.role, a.scope), (Role::Viewer, scope(&[])), "viewer, and no store both scopes cover");
    // Expired after a day; refused when revoked or when the owner is disabled.
    clock.advance(Duration::days(1));
    assert_eq!(p.authenticate_key(key.secret.expose(), None, None).await.err(), Some(AuthError::Invalid));
    let other = p.create_key(&admin, add(Role::Viewer, StoreScope::All, None)).await.unwrap();
    assert!(p.authenticate_key(other.secret.expose(), None, None).await.is_ok());
    p.revoke_key(&admin, other.key.id).await.unwrap();
    assert_eq!(p.authenticate_key(other.secret.expose(), None, None).await.err(), Some(AuthError::Invalid));
    for bogus in ["", "tth_", "tth_nope", "not-a-key"] {
        assert_eq!(p.authenticate_key(bogus, None, None).await.err(), Some(AuthError::Invalid), "{bogus:?}");
    }
    // Someone else's key: an operator cannot revoke it (it answers like a missing key).
    let mine = p.create_key(&admin, add(Role::Viewer, StoreScope::All, None)).await.unwrap();
    let someone = actor(Role::Operator, StoreScope::All);
    assert_eq!(p.revoke_key(&someone, mine.key.id).await.err(), Some(PeopleError::KeyNotFound));
    // No secret in any audit row.
    let g = w.lock().unwrap();
    for row in &g.audit {
        let text = format!("{row:?}");
        assert!(!text.contains(&key.secret.expose()[4..]) && !text.contains(&other.secret.expose()[4..]), "{text}");
    }
}

#[tokio::test]
async fn the_hub_keeps_one_active_admin() {
    let (_, e, _) = setup(cheap(CHEAP));
    let first = user(&e, "first@example.com", Role::Admin, StoreScope::All).await;
    let p = e.people();
    let cli = Actor::cli();
    assert_eq!(p.disable_user(&cli, first.id).await.err(), Some(PeopleError::LastAdmin));
    let demote = ChangeUser { role: Some(Role::Operator), ..ChangeUser::default() };
    assert_eq!(p.update_user(&cli, first.id, demote.clone()).await.err(), Some(PeopleError::LastAdmin));
    let second = user(&e, "second@example.com", Role::Admin, StoreScope::All).await;
    assert!(p.update_user(&cli, first.id, demote).await.is_ok());
    assert_eq!(p.disable_user(&cli, second.id).await.err(), Some(PeopleError::LastAdmin));
    // A scoped admin changes only people inside its scope, and grants nothing wider.
    let north_admin = actor(Role::Admin, scope(&["north"]));
    let change = ChangeUser { name: Some(DisplayName::parse("X").unwrap()), ..ChangeUser::default() };
    assert!(matches!(p.update_user(&north_admin, second.id, change).await, Err(PeopleError::Forbidden(_))));
    let taken = AddUser {
        email: Email::parse("SECOND@example.com").unwrap(),
        name: None,
        role: Role::Viewer,
        scope: StoreScope::All,
        password: Password::parse(PASSWORD).unwrap(),
    };
    assert_eq!(
        p.add_user(&cli, taken).await.err(),
        Some(PeopleError::EmailTaken),
        "emails are unique whatever their case"
    );
}
