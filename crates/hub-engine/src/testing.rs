//! Test support (feature `test-support`): a small in-memory [`World`] behind mockall mocks of
//! every repository port, so tests state only what TikTok does and check what was stored.
//!
//! Shared by this crate's tests and, through their dev-dependencies, by `hub-http`'s and
//! `hub-jobs`'s. The extension points are the arguments of [`ports`] (any [`TikTokApi`] and
//! [`Clock`]) and the fields of the [`Ports`] it returns, which a suite may replace before
//! building the [`Engine`] (a health check that can fail, another cipher); the reporting ports
//! are plugged with [`Engine::with_reports`].
//!
//! Times the database would set (a store's or invite's `created_at`, a log's `run_time`, a
//! snapshot row's `created_at`) are [`t0`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::{AesGcmCipher, Engine, EngineConfig, Ports};

/// The secret the test engines sign OAuth states with.
pub const STATE_SECRET: &[u8] = b"test-state-secret-0123456789abcdef";

/// What the mocked repositories hold.
#[derive(Default)]
pub struct World {
    pub stores: Vec<Store>,
    /// Accounts by store code.
    pub accounts: HashMap<String, Account>,
    pub user_rows: Vec<UserSnapshotRow>,
    pub video_rows: Vec<VideoSnapshotRow>,
    pub logs: Vec<SyncLog>,
    pub audit: Vec<NewAuditEntry>,
    pub runs: Vec<SyncRun>,
    pub invites: Vec<ConnectInvite>,
    /// OAuth states and whether each was consumed.
    pub states: Vec<(NewOAuthState, bool)>,
    /// Refresh leases by account id: owner and until when.
    pub leases: HashMap<i64, (String, DateTime<Utc>)>,
    /// Keys of the job locks held.
    pub held_locks: Vec<String>,
    /// Video stats a store's overview reports instead of the ones computed from
    /// [`World::video_rows`] (a fixture's summary).
    pub video_stats: HashMap<String, LatestVideoStats>,
    /// How often expired states and invites were purged.
    pub purges: usize,
    /// The last account id handed out.
    pub next_id: i64,
}

/// The world as the mocks share it.
pub type Shared = Arc<Mutex<World>>;

/// The tests' fixed "now": 2026-01-24 02:00 UTC.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap()
}

/// A store code that must parse.
pub fn code(s: &str) -> StoreCode {
    StoreCode::parse(s).unwrap()
}

/// The token cipher of [`World::connect`] and [`engine`] (one key, `k1`).
pub fn cipher() -> Arc<AesGcmCipher> {
    Arc::new(AesGcmCipher::new(&[("k1".to_owned(), Secret::new([42u8; 32]))]).unwrap())
}

/// A clock that always answers `now`.
pub fn fixed_clock(now: DateTime<Utc>) -> Arc<dyn Clock> {
    let mut clock = MockClock::new();
    clock.expect_now().return_const(now);
    Arc::new(clock)
}

impl World {
    /// A store `Store <code>`, created at [`t0`].
    pub fn add_store(&mut self, c: &str) {
        self.stores.push(Store {
            code: code(c),
            name: format!("Store {c}"),
            pic_name: "Pic".into(),
            pic_contact: None,
            created_at: t0(),
        });
    }

    /// A connected account whose tokens are `act.<code>` / `rft.<code>`, encrypted with
    /// [`cipher`], connected at [`t0`].
    pub fn connect(&mut self, c: &str, access_expires_in: Duration) {
        self.connect_at(c, t0(), access_expires_in);
    }

    /// [`World::connect`], connected at `at` (the refresh token lasts a year).
    pub fn connect_at(&mut self, c: &str, at: DateTime<Utc>, access_expires_in: Duration) {
        let cipher = cipher();
        self.next_id += 1;
        let acct = Account {
            id: AccountId(self.next_id),
            store_code: code(c),
            platform: "tiktok".into(),
            open_id: Some(format!("open-{c}")),
            tokens: Some(EncryptedTokens {
                access: cipher.encrypt(&format!("act.{c}"), &format!("{c}/access")),
                refresh: cipher.encrypt(&format!("rft.{c}"), &format!("{c}/refresh")),
            }),
            token_expires_at: Some(at + access_expires_in),
            refresh_token_expires_at: Some(at + Duration::days(365)),
            scopes: REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect(),
            status: ConnectionStatus::Connected,
            connected_at: Some(at),
            last_sync_time: None,
            last_refresh_at: None,
            created_at: at,
            updated_at: at,
        };
        self.accounts.insert(c.to_owned(), acct);
    }

    /// The connection status of store `c`'s account.
    pub fn status(&self, c: &str) -> ConnectionStatus {
        self.accounts[c].status
    }

    /// The log lines of `job` for store `c`, oldest first.
    pub fn log_for(&self, c: &str, job: JobKind) -> Vec<&NewSyncLog> {
        self.logs
            .iter()
            .map(|l| &l.log)
            .filter(|l| l.job == job && l.store_code.as_ref().is_some_and(|s| s.as_str() == c))
            .collect()
    }

    /// The audit rows of `action`, oldest first.
    pub fn audit_for(&self, action: &str) -> Vec<&NewAuditEntry> {
        self.audit.iter().filter(|a| a.action == action).collect()
    }

    /// The runs of `job`, oldest first.
    pub fn runs_of(&self, job: JobKind) -> Vec<SyncRun> {
        self.runs.iter().filter(|r| r.job == job).cloned().collect()
    }

    /// Stores with a user snapshot of `date`, sorted.
    pub fn user_snapshot_stores(&self, date: NaiveDate) -> Vec<String> {
        let mut v: Vec<String> = self
            .user_rows
            .iter()
            .filter(|r| r.snapshot.snapshot_date == date)
            .map(|r| r.snapshot.store_code.to_string())
            .collect();
        v.sort();
        v
    }

    fn overview(&self, s: &Store) -> StoreOverview {
        let a = self.accounts.get(s.code.as_str());
        let videos: Vec<&VideoSnapshot> =
            self.video_rows.iter().map(|r| &r.snapshot).filter(|r| r.store_code == s.code).collect();
        let last_video_date = videos.iter().map(|r| r.snapshot_date).max();
        let computed_video_stats = last_video_date.map(|d| {
            let day: Vec<&&VideoSnapshot> = videos.iter().filter(|r| r.snapshot_date == d).collect();
            LatestVideoStats {
                snapshot_date: d,
                total_videos: day.len() as i64,
                total_views: day.iter().map(|r| r.view_count).sum(),
            }
        });
        StoreOverview {
            store: s.clone(),
            account_id: a.map(|a| a.id),
            connection_status: a.map(|a| a.status),
            account_identifier: a.and_then(|a| a.open_id.clone()),
            connected_at: a.and_then(|a| a.connected_at),
            last_sync_time: a.and_then(|a| a.last_sync_time),
            token_expires_at: a.and_then(|a| a.token_expires_at),
            latest_user_stats: self
                .user_rows
                .iter()
                .map(|r| &r.snapshot)
                .filter(|r| r.store_code == s.code)
                .max_by_key(|r| r.snapshot_date)
                .map(|r| LatestUserStats {
                    snapshot_date: r.snapshot_date,
                    follower_count: r.follower_count,
                    likes_count: r.likes_count,
                    video_count: r.video_count,
                }),
            latest_video_stats: self.video_stats.get(s.code.as_str()).copied().or(computed_video_stats),
        }
    }
}

struct Held(Shared, String);
impl HeldLock for Held {}
impl Drop for Held {
    fn drop(&mut self) {
        self.0.lock().unwrap().held_locks.retain(|k| k != &self.1);
    }
}

/// Builds an engine over `world`, with `tiktok` as TikTok and a clock fixed at `now`.
pub fn engine(world: &Shared, tiktok: MockTikTokApi, now: DateTime<Utc>, config: EngineConfig) -> Engine {
    engine_with_cipher(world, tiktok, now, config, cipher())
}

/// [`engine`] with a given token cipher (key rotation tests).
pub fn engine_with_cipher(
    world: &Shared,
    tiktok: MockTikTokApi,
    now: DateTime<Utc>,
    config: EngineConfig,
    token_cipher: Arc<AesGcmCipher>,
) -> Engine {
    let mut ports = ports(world, Arc::new(tiktok), fixed_clock(now));
    ports.cipher = token_cipher;
    Engine::new(ports, config, STATE_SECRET)
}

/// Every port over `world`: the repositories, job locks and a healthy database are mocks
/// reading and writing it; TikTok and the clock are the given ones; the cipher is [`cipher`].
/// Replace fields before `Engine::new(ports, config, STATE_SECRET)` to change one.
pub fn ports(world: &Shared, tiktok: Arc<dyn TikTokApi>, clock: Arc<dyn Clock>) -> Ports {
    Ports {
        stores: Arc::new(stores(world)),
        accounts: Arc::new(accounts(world)),
        snapshots: Arc::new(snapshots(world)),
        sync_logs: Arc::new(sync_logs(world)),
        sync_runs: Arc::new(sync_runs(world)),
        audit: Arc::new(audit(world)),
        connect: Arc::new(connect(world)),
        locks: Arc::new(locks(world)),
        health: Arc::new(healthy()),
        tiktok,
        cipher: cipher(),
        clock,
    }
}

fn stores(w: &Shared) -> MockStoreRepo {
    let mut stores = MockStoreRepo::new();
    let s = w.clone();
    stores.expect_list_overview().returning(move || {
        let w = s.lock().unwrap();
        Ok(w.stores.iter().map(|st| w.overview(st)).collect())
    });
    let s = w.clone();
    stores.expect_overview().returning(move |c| {
        let w = s.lock().unwrap();
        Ok(w.stores.iter().find(|st| &st.code == c).map(|st| w.overview(st)))
    });
    let s = w.clone();
    stores.expect_get().returning(move |c| Ok(s.lock().unwrap().stores.iter().find(|st| &st.code == c).cloned()));
    let s = w.clone();
    stores.expect_create().returning(move |n, a| {
        let mut w = s.lock().unwrap();
        if w.stores.iter().any(|st| st.code == n.code) {
            return Err(RepoError::Conflict("stores_pkey".into()));
        }
        let store = Store {
            code: n.code.clone(),
            name: n.name.to_string(),
            pic_name: n.pic_name.to_string(),
            pic_contact: n.pic_contact.as_ref().map(|p| p.to_string()),
            created_at: t0(),
        };
        w.stores.push(store.clone());
        w.audit.push(a.clone());
        Ok(store)
    });
    stores
}

fn accounts(w: &Shared) -> MockAccountRepo {
    let mut accounts = MockAccountRepo::new();
    let s = w.clone();
    accounts.expect_for_store().returning(move |c| Ok(s.lock().unwrap().accounts.get(c.as_str()).cloned()));
    let s = w.clone();
    accounts.expect_get().returning(move |id| Ok(s.lock().unwrap().accounts.values().find(|a| a.id == id).cloned()));
    let s = w.clone();
    accounts.expect_set_status().returning(move |id, status, _| {
        let mut w = s.lock().unwrap();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        a.status = status;
        Ok(())
    });
    let s = w.clone();
    accounts.expect_save_refreshed().returning(move |id, expected, tokens, meta, at| {
        let mut w = s.lock().unwrap();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        if a.tokens.as_ref().map(|t| t.refresh.as_str()) != Some(expected) {
            return Ok(false);
        }
        a.tokens = Some(tokens.clone());
        a.token_expires_at = Some(meta.access_expires_at);
        a.refresh_token_expires_at = Some(meta.refresh_expires_at);
        a.last_refresh_at = Some(at);
        Ok(true)
    });
    let s = w.clone();
    accounts.expect_try_lease_refresh().returning(move |id, owner, now, until| {
        let mut w = s.lock().unwrap();
        match w.leases.get(&id.0) {
            Some((o, u)) if o != owner && *u > now => Ok(false),
            _ => {
                w.leases.insert(id.0, (owner.to_owned(), until));
                Ok(true)
            }
        }
    });
    let s = w.clone();
    accounts.expect_release_refresh_lease().returning(move |id, owner| {
        let mut w = s.lock().unwrap();
        if w.leases.get(&id.0).is_some_and(|(o, _)| o == owner) {
            w.leases.remove(&id.0);
        }
        Ok(())
    });
    let s = w.clone();
    accounts.expect_release_refresh_leases_of().returning(move |owner| {
        let mut w = s.lock().unwrap();
        let before = w.leases.len();
        w.leases.retain(|_, (o, _)| o != owner);
        Ok((before - w.leases.len()) as u64)
    });
    let s = w.clone();
    accounts.expect_mark_synced().returning(move |id, at| {
        let mut w = s.lock().unwrap();
        if let Some(a) = w.accounts.values_mut().find(|a| a.id == id) {
            a.last_sync_time = Some(at);
        }
        Ok(())
    });
    let s = w.clone();
    accounts.expect_list_due_for_refresh().returning(move |before| {
        let w = s.lock().unwrap();
        let mut due: Vec<Account> = w
            .accounts
            .values()
            .filter(|a| a.status == ConnectionStatus::Connected && a.token_expires_at.is_some_and(|t| t < before))
            .cloned()
            .collect();
        due.sort_by_key(|a| a.token_expires_at);
        Ok(due)
    });
    let s = w.clone();
    accounts.expect_list_with_tokens_after().returning(move |after, limit| {
        let w = s.lock().unwrap();
        let mut rows: Vec<Account> =
            w.accounts.values().filter(|a| a.id > after && a.tokens.is_some()).cloned().collect();
        rows.sort_by_key(|a| a.id);
        rows.truncate(limit as usize);
        Ok(rows)
    });
    let s = w.clone();
    accounts.expect_replace_ciphertexts().returning(move |id, expected, new| {
        let mut w = s.lock().unwrap();
        let a = w.accounts.values_mut().find(|a| a.id == id).ok_or(RepoError::NotFound)?;
        if a.tokens.as_ref() != Some(expected) {
            return Ok(false);
        }
        a.tokens = Some(new.clone());
        Ok(true)
    });
    let s = w.clone();
    accounts.expect_save_connected().returning(move |c, audit| {
        let mut w = s.lock().unwrap();
        w.next_id += 1;
        let id = w.accounts.get(c.store_code.as_str()).map_or(AccountId(w.next_id), |a| a.id);
        let acct = Account {
            id,
            store_code: c.store_code.clone(),
            platform: "tiktok".into(),
            open_id: Some(c.open_id.clone()),
            tokens: Some(c.tokens.clone()),
            token_expires_at: Some(c.meta.access_expires_at),
            refresh_token_expires_at: Some(c.meta.refresh_expires_at),
            scopes: c.meta.scopes.clone(),
            status: ConnectionStatus::Connected,
            connected_at: Some(c.connected_at),
            last_sync_time: None,
            last_refresh_at: None,
            created_at: c.connected_at,
            updated_at: c.connected_at,
        };
        w.accounts.insert(c.store_code.to_string(), acct.clone());
        w.audit.extend(audit.iter().cloned());
        Ok(acct)
    });
    accounts
}

fn snapshots(w: &Shared) -> MockSnapshotRepo {
    let mut snapshots = MockSnapshotRepo::new();
    let s = w.clone();
    snapshots.expect_upsert_user().returning(move |rows| {
        let mut w = s.lock().unwrap();
        for r in rows {
            let same = |x: &UserSnapshotRow| {
                x.snapshot.store_code == r.store_code && x.snapshot.snapshot_date == r.snapshot_date
            };
            let id = w.user_rows.iter().find(|x| same(x)).map(|x| x.id);
            let id = id.unwrap_or_else(|| w.user_rows.iter().map(|x| x.id).max().unwrap_or(0) + 1);
            w.user_rows.retain(|x| !same(x));
            w.user_rows.push(UserSnapshotRow { id, snapshot: r.clone(), created_at: t0() });
        }
        Ok(rows.len() as u64)
    });
    let s = w.clone();
    snapshots.expect_upsert_videos().returning(move |rows| {
        let mut w = s.lock().unwrap();
        for r in rows {
            let same = |x: &VideoSnapshotRow| {
                x.snapshot.store_code == r.store_code
                    && x.snapshot.snapshot_date == r.snapshot_date
                    && x.snapshot.video_id == r.video_id
            };
            let id = w.video_rows.iter().find(|x| same(x)).map(|x| x.id);
            let id = id.unwrap_or_else(|| w.video_rows.iter().map(|x| x.id).max().unwrap_or(0) + 1);
            w.video_rows.retain(|x| !same(x));
            w.video_rows.push(VideoSnapshotRow { id, snapshot: r.clone(), created_at: t0() });
        }
        Ok(rows.len() as u64)
    });
    let s = w.clone();
    snapshots.expect_known_videos().returning(move |c, before| {
        let w = s.lock().unwrap();
        let videos = || w.video_rows.iter().map(|r| &r.snapshot).filter(|r| &r.store_code == c);
        let last = videos().filter(|r| r.snapshot_date < before).map(|r| r.snapshot_date).max();
        let mut rows: Vec<KnownVideo> = videos()
            .filter(|r| Some(r.snapshot_date) == last)
            .map(|r| KnownVideo { video_id: r.video_id.clone(), create_time: r.create_time })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.create_time));
        Ok(rows)
    });
    let s = w.clone();
    snapshots.expect_user_history().returning(move |c, since| {
        let w = s.lock().unwrap();
        Ok(w.user_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == c && r.snapshot.snapshot_date >= since)
            .cloned()
            .collect())
    });
    let s = w.clone();
    snapshots.expect_video_history().returning(move |c, since| {
        let w = s.lock().unwrap();
        Ok(w.video_rows
            .iter()
            .filter(|r| &r.snapshot.store_code == c && r.snapshot.snapshot_date >= since)
            .cloned()
            .collect())
    });
    snapshots
}

fn sync_logs(w: &Shared) -> MockSyncLogRepo {
    let mut sync_logs = MockSyncLogRepo::new();
    let s = w.clone();
    sync_logs.expect_insert().returning(move |l| {
        let mut w = s.lock().unwrap();
        let id = w.logs.len() as i64 + 1;
        w.logs.push(SyncLog { id, log: l.clone(), run_time: t0() });
        Ok(id)
    });
    let s = w.clone();
    sync_logs.expect_list().returning(move |store, limit| {
        let w = s.lock().unwrap();
        Ok(w.logs
            .iter()
            .rev()
            .filter(|l| store.is_none() || l.log.store_code == store)
            .take(limit as usize)
            .cloned()
            .collect())
    });
    sync_logs
}

fn sync_runs(w: &Shared) -> MockSyncRunRepo {
    let mut sync_runs = MockSyncRunRepo::new();
    let s = w.clone();
    sync_runs.expect_start().returning(move |job, date, trigger, total, owner, now| {
        let mut w = s.lock().unwrap();
        let run = SyncRun {
            id: w.runs.len() as i64 + 1,
            job,
            scheduled_date: date,
            trigger,
            status: RunStatus::Running,
            counts: RunCounts { total, ..Default::default() },
            message: None,
            owner: Some(owner.to_owned()),
            heartbeat_at: Some(now),
            started_at: now,
            finished_at: None,
        };
        w.runs.push(run.clone());
        Ok(run)
    });
    let s = w.clone();
    sync_runs.expect_progress().returning(move |id, counts, now| {
        let mut w = s.lock().unwrap();
        let run = &mut w.runs[id as usize - 1];
        run.counts = *counts;
        run.heartbeat_at = Some(now);
        Ok(())
    });
    let s = w.clone();
    sync_runs.expect_finish().returning(move |id, status, counts, message, now| {
        let mut w = s.lock().unwrap();
        let run = &mut w.runs[id as usize - 1];
        run.status = status;
        run.counts = *counts;
        run.message = message;
        run.finished_at = Some(now);
        Ok(())
    });
    let s = w.clone();
    sync_runs.expect_get().returning(move |id| Ok(s.lock().unwrap().runs.iter().find(|r| r.id == id).cloned()));
    let s = w.clone();
    sync_runs.expect_latest().returning(move |job| {
        let w = s.lock().unwrap();
        Ok(w.runs.iter().filter(|r| r.job == job).max_by_key(|r| (r.started_at, r.id)).cloned())
    });
    let s = w.clone();
    sync_runs.expect_running().returning(move || {
        Ok(s.lock().unwrap().runs.iter().filter(|r| r.status == RunStatus::Running).cloned().collect())
    });
    let s = w.clone();
    sync_runs.expect_latest_for_tick().returning(move |job, tick| {
        let w = s.lock().unwrap();
        Ok(w.runs.iter().any(|r| r.job == job && r.trigger == RunTrigger::Cron && r.started_at >= tick))
    });
    let s = w.clone();
    sync_runs.expect_interrupt_stale().returning(move |stale_before, now| {
        let mut w = s.lock().unwrap();
        let mut n = 0;
        for r in w.runs.iter_mut() {
            if r.status == RunStatus::Running && r.heartbeat_at.unwrap_or(r.started_at) < stale_before {
                r.status = RunStatus::Interrupted;
                r.finished_at = Some(now);
                n += 1;
            }
        }
        Ok(n)
    });
    sync_runs
}

fn audit(w: &Shared) -> MockAuditRepo {
    let mut audit = MockAuditRepo::new();
    let s = w.clone();
    audit.expect_insert().returning(move |e| {
        let mut w = s.lock().unwrap();
        w.audit.push(e.clone());
        Ok(w.audit.len() as i64)
    });
    let s = w.clone();
    audit.expect_list().returning(move |f| {
        let w = s.lock().unwrap();
        Ok(w.audit
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| f.action.as_ref().is_none_or(|a| &e.action == a))
            .filter(|(_, e)| f.store_code.is_none() || e.store_code == f.store_code)
            .take(f.limit as usize)
            .map(|(i, e)| AuditEntry { id: i as i64 + 1, entry: e.clone(), created_at: t0() })
            .collect())
    });
    audit
}

fn connect(w: &Shared) -> MockConnectRepo {
    let mut connect = MockConnectRepo::new();
    let s = w.clone();
    connect.expect_create_invite().returning(move |inv, a| {
        let mut w = s.lock().unwrap();
        let stored = ConnectInvite {
            id: w.invites.len() as i64 + 1,
            token_hash: inv.token_hash.clone(),
            store_code: inv.store_code.clone(),
            created_by: inv.created_by.clone(),
            created_at: t0(),
            expires_at: inv.expires_at,
            used_at: None,
        };
        w.invites.push(stored.clone());
        w.audit.push(a.clone());
        Ok(stored)
    });
    let s = w.clone();
    connect
        .expect_find_invite()
        .returning(move |h| Ok(s.lock().unwrap().invites.iter().find(|i| i.token_hash == h).cloned()));
    let s = w.clone();
    connect.expect_consume_invite().returning(move |id, now| {
        let mut w = s.lock().unwrap();
        let inv = w.invites.iter_mut().find(|i| i.id == id).ok_or(RepoError::NotFound)?;
        if inv.is_usable(now) {
            inv.used_at = Some(now);
            Ok(true)
        } else {
            Ok(false)
        }
    });
    let s = w.clone();
    connect.expect_insert_state().returning(move |st| {
        s.lock().unwrap().states.push((st.clone(), false));
        Ok(())
    });
    let s = w.clone();
    connect.expect_consume_state().returning(move |h, now| {
        let mut w = s.lock().unwrap();
        match w.states.iter_mut().find(|(st, used)| st.nonce_hash == h && !used && st.expires_at > now) {
            Some((st, used)) => {
                *used = true;
                Ok(Some(OAuthState { state: st.clone(), created_at: now }))
            }
            None => Ok(None),
        }
    });
    let s = w.clone();
    connect.expect_purge_expired().returning(move |before| {
        let mut w = s.lock().unwrap();
        w.purges += 1;
        let n = w.states.len() + w.invites.len();
        w.states.retain(|(st, _)| st.expires_at >= before);
        w.invites.retain(|i| i.expires_at >= before);
        Ok((n - w.states.len() - w.invites.len()) as u64)
    });
    connect
}

fn locks(w: &Shared) -> MockJobLock {
    let mut locks = MockJobLock::new();
    let s = w.clone();
    locks.expect_try_acquire().returning(move |key| {
        let mut w = s.lock().unwrap();
        if w.held_locks.iter().any(|k| k == key) {
            return Ok(None);
        }
        w.held_locks.push(key.to_owned());
        Ok(Some(Box::new(Held(s.clone(), key.to_owned())) as Box<dyn HeldLock>))
    });
    locks
}

fn healthy() -> MockDbHealth {
    let mut health = MockDbHealth::new();
    health.expect_ping().returning(|| Ok(()));
    health.expect_pool_stats().returning(PoolStats::default);
    health
}

/// A TikTok user with `followers` followers.
pub fn user(open_id: &str, followers: i64) -> TikTokUser {
    TikTokUser {
        open_id: open_id.into(),
        display_name: Some("Shop".into()),
        avatar_url: None,
        follower_count: followers,
        following_count: 1,
        likes_count: followers * 3,
        video_count: 5,
    }
}

/// `n` videos, newest first, ids 1000000000000000000 + i.
pub fn videos(n: usize) -> Vec<TikTokVideo> {
    (0..n)
        .map(|i| TikTokVideo {
            id: (1_000_000_000_000_000_000u64 + (n - i) as u64).to_string(),
            create_time: Some(1_700_000_000 + (n - i) as i64 * 3600),
            view_count: 100 * (n - i) as i64,
            like_count: 10,
            comment_count: 1,
            share_count: 1,
            ..Default::default()
        })
        .collect()
}

/// A grant as TikTok would answer a refresh or code exchange.
pub fn grant(open_id: &str, access: &str, refresh: &str) -> TokenGrant {
    TokenGrant {
        access_token: Secret::new(access.into()),
        refresh_token: Secret::new(refresh.into()),
        open_id: open_id.into(),
        expires_in: 86_400,
        refresh_expires_in: 31_536_000,
        scopes: REQUIRED_SCOPES.iter().map(|s| s.to_string()).collect(),
    }
}
