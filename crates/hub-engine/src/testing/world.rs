//! The in-memory world the test ports read and write, and its fixtures.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use hub_domain::*;
use hub_ports::*;

use crate::AesGcmCipher;

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
    /// Keys of the job locks held. Removing a key is what a lost session does to a lock.
    pub held_locks: Vec<String>,
    /// How often each job lock key was taken: a holder whose take is not the latest lost
    /// the lock to another.
    pub lock_takes: HashMap<String, u64>,
    /// Video stats a store's overview reports instead of the ones computed from
    /// [`World::video_rows`] (a fixture's summary).
    pub video_stats: HashMap<String, LatestVideoStats>,
    /// How often expired states and invites were purged.
    pub purges: usize,
    /// The last account id handed out.
    pub next_id: i64,
    /// Grants still to revoke at TikTok.
    pub revocations: Vec<PendingRevocation>,
    /// TikTok's reason for a removed authorization, by store code.
    pub revoke_reasons: HashMap<String, RevokeReason>,
    /// TikTok's webhook events, as recorded.
    pub tiktok_events: Vec<TikTokEvent>,
    /// Users and their password hashes.
    pub users: Vec<(User, Secret<String>)>,
    /// Sessions: the token hash, the session, when it was last seen, and its id.
    pub sessions: Vec<(String, NewSession, DateTime<Utc>, i64)>,
    /// Personal API keys and their hashes.
    pub api_keys: Vec<(ApiKey, String)>,
    /// Notification endpoints and their encrypted secrets.
    pub webhooks: Vec<(WebhookEndpoint, String)>,
    /// Notifications queued: the endpoint and what.
    pub outbox: Vec<(i64, Notification)>,
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
    Arc::new(FixedClock(now))
}

/// A clock stopped at one instant.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

impl World {
    /// A store `Store <code>`, created at [`t0`].
    pub fn add_store(&mut self, c: &str) {
        self.stores.push(Store {
            code: code(c),
            name: format!("Store {c}"),
            pic_name: "Pic".into(),
            pic_contact: None,
            group: None,
            created_at: t0(),
            archived_at: None,
        });
    }

    /// A store `Store <code>` in `group`, created at [`t0`].
    pub fn add_store_in(&mut self, c: &str, group: &str) {
        self.add_store(c);
        self.stores.last_mut().expect("just added").group = Some(StoreGroup::parse(group).unwrap());
    }

    /// Whether store `c` is in `scope`.
    pub fn in_scope(&self, scope: &StoreScope, c: &StoreCode) -> bool {
        scope.is_all() || self.stores.iter().any(|s| &s.code == c && scope.allows(s.group.as_ref()))
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

    pub(crate) fn overview(&self, s: &Store) -> StoreOverview {
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
            revoke_reason: self.revoke_reasons.get(s.code.as_str()).copied(),
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
