//! Keeping access tokens fresh: proactive refresh before expiry, on-demand refresh when
//! TikTok refuses a token, one refresh per account at a time.
//!
//! Within a process a per-account mutex coalesces concurrent refreshes (the second caller
//! finds the pair already rotated and uses it); across processes a database lease does the
//! same. Every write keyed on a pair is a compare-and-swap on its refresh ciphertext:
//!
//! - the lease is taken only while the stored ciphertext is still the one read, so a pair
//!   another instance rotated in between is never spent (TikTok would refuse it);
//! - a status learned from a pair (`invalid_grant`, a refused token, a missing scope) is
//!   written only while that pair is still stored, so it never overwrites a rotation or a
//!   fresh reconnect;
//! - the rotated pair is stored only over the pair it replaced, so the newest pair wins.
//!
//! The lease lasts longer than the slowest token call with its retries
//! ([`EngineConfig::token_call_limit`](crate::EngineConfig)) plus the time a rotated pair's
//! store is retried ([`STORE_RETRY_FOR`]), so no other instance takes it over mid-refresh.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use hub_domain::{Account, AccountId, ConnectionStatus, EncryptedTokens, ReconnectReason, Secret, TokenMeta};
use hub_ports::{AccountRepo, CipherError, Clock, RepoError, TikTokApi, TikTokError, TokenCipher, TokenGrant};

use crate::cipher::{TokenKind, binding};
use crate::pace::DbGate;

/// Why no usable access token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The account cannot be used until someone reconnects it (its status now says why).
    #[error("store needs to reconnect: {0}")]
    NeedsReconnect(ReconnectReason),
    /// The account is not connected (never was, or disconnected on purpose).
    #[error("account is not connected ({0})")]
    NotConnected(&'static str),
    /// TikTok failed in a way that may pass (rate limit, outage).
    #[error(transparent)]
    TikTok(#[from] TikTokError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] RepoError),
    /// A stored ciphertext does not decrypt with the configured keys.
    #[error("stored token does not decrypt: {0}")]
    Cipher(#[from] CipherError),
    /// Another instance holds the refresh lease and did not finish in time.
    #[error("token refresh is held by another instance")]
    LeaseBusy,
}

/// Refresh outcome for the refresh job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refreshed {
    /// This call rotated the pair.
    Rotated,
    /// Someone else rotated it meanwhile; the fresh pair is in place.
    AlreadyFresh,
}

/// The token service.
pub struct Tokens {
    /// Every repository call goes through the jobs' share of the pool.
    db: Arc<DbGate>,
    accounts: Arc<dyn AccountRepo>,
    tiktok: Arc<dyn TikTokApi>,
    cipher: Arc<dyn TokenCipher>,
    clock: Arc<dyn Clock>,
    instance_id: String,
    /// Refresh an access token that expires within this margin before using it.
    use_margin: Duration,
    locks: Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>,
    /// How long to wait for another instance's lease, and how often to look.
    lease_wait: std::time::Duration,
    lease_poll: std::time::Duration,
    /// How long a refresh lease is taken for ([`lease_for`]).
    lease_for: Duration,
}

/// Added to a lease beyond the token call and the store retries: clock skew between
/// instances, the budget wait before the call, the lease's own round trips.
pub const LEASE_MARGIN: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a refresh lease must last when one token call (with the client's retries) may
/// take up to `token_call_limit`: the call, then up to [`STORE_RETRY_FOR`] storing the pair,
/// then [`LEASE_MARGIN`].
pub fn lease_for(token_call_limit: std::time::Duration) -> std::time::Duration {
    token_call_limit + STORE_RETRY_FOR + LEASE_MARGIN
}

/// What a status write learned from a pair came to.
enum Marked {
    /// Written (or the write failed and was logged): the account needs a reconnect.
    Done(TokenError),
    /// The pair changed since it was read (rotated elsewhere, or reconnected): nothing was
    /// written, the stored pair is the one to use.
    PairChanged,
}

/// The longest token lifetime believed (ten years; TikTok issues at most 365 days). A longer
/// `expires_in` is read as this, a negative one as already expired.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 10 * 366 * 24 * 3600;

/// What is stored of a grant received at `now` besides its ciphertexts: expiries and scopes.
pub fn token_meta(grant: &TokenGrant, now: DateTime<Utc>) -> TokenMeta {
    let expiry = |secs: i64| {
        now.checked_add_signed(Duration::seconds(secs.clamp(0, MAX_TOKEN_LIFETIME_SECS)))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    TokenMeta {
        access_expires_at: expiry(grant.expires_in),
        refresh_expires_at: expiry(grant.refresh_expires_in),
        scopes: grant.scopes.clone(),
    }
}

impl Tokens {
    /// A token service for `instance_id` (written into refresh leases), its repository calls
    /// run through `db`; one token call with its retries takes at most `token_call_limit`.
    pub fn new(
        db: Arc<DbGate>,
        accounts: Arc<dyn AccountRepo>,
        tiktok: Arc<dyn TikTokApi>,
        cipher: Arc<dyn TokenCipher>,
        clock: Arc<dyn Clock>,
        instance_id: String,
        token_call_limit: std::time::Duration,
    ) -> Self {
        Self {
            db,
            accounts,
            tiktok,
            cipher,
            clock,
            instance_id,
            use_margin: Duration::minutes(5),
            locks: Mutex::new(HashMap::new()),
            lease_wait: std::time::Duration::from_secs(30),
            lease_poll: std::time::Duration::from_millis(200),
            lease_for: Duration::from_std(lease_for(token_call_limit)).unwrap_or(Duration::hours(1)),
        }
    }

    /// Encrypts a grant for `store_code`'s row.
    pub fn seal(&self, store_code: &str, grant: &TokenGrant) -> (EncryptedTokens, TokenMeta) {
        let now = self.clock.now();
        let tokens = EncryptedTokens {
            access: self.cipher.encrypt(grant.access_token.expose(), &binding(store_code, TokenKind::Access)),
            refresh: self.cipher.encrypt(grant.refresh_token.expose(), &binding(store_code, TokenKind::Refresh)),
        };
        (tokens, token_meta(grant, now))
    }

    fn usable(account: &Account) -> Result<&EncryptedTokens, TokenError> {
        match account.status {
            ConnectionStatus::Connected => account.tokens.as_ref().ok_or(TokenError::NotConnected("no tokens stored")),
            ConnectionStatus::NeedReconnect(r) => Err(TokenError::NeedsReconnect(r)),
            ConnectionStatus::Disconnected => Err(TokenError::NotConnected("disconnected")),
        }
    }

    /// Marks `account` `NEED_RECONNECT` for `reason`, learned from the pair it holds: only
    /// while that pair is still the stored one.
    async fn mark(&self, account: &Account, reason: ReconnectReason) -> Marked {
        let status = ConnectionStatus::NeedReconnect(reason);
        let Some(pair) = account.tokens.as_ref() else {
            return Marked::Done(TokenError::NeedsReconnect(reason));
        };
        let write = self.accounts.set_status_if(account.id, &pair.refresh, status, self.clock.now());
        match self.db.run(write).await {
            Ok(true) => Marked::Done(TokenError::NeedsReconnect(reason)),
            Ok(false) => {
                tracing::info!(store.code = %account.store_code, reason = reason.as_str(), "pair changed meanwhile; status not written");
                Marked::PairChanged
            }
            Err(e) => {
                tracing::warn!(store.code = %account.store_code, error = %e, "could not record the reconnect status");
                Marked::Done(TokenError::NeedsReconnect(reason))
            }
        }
    }

    /// A usable access token for `account`, refreshing first when it expires soon. Returns
    /// the (possibly updated) account with it.
    pub async fn access_token(&self, account: Account) -> Result<(Secret<String>, Account), TokenError> {
        Self::usable(&account)?;
        let now = self.clock.now();
        let account = if account.token_expires_at.is_none_or(|t| t - now <= self.use_margin) {
            self.refresh(&account).await?.1
        } else {
            account
        };
        let tokens = Self::usable(&account)?;
        let token = self.cipher.decrypt(&tokens.access, &binding(account.store_code.as_str(), TokenKind::Access))?;
        Ok((token, account))
    }

    fn account_lock(&self, id: AccountId) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().expect("token lock map poisoned");
        if map.len() > 10_000 {
            // Forget locks nobody holds, so the map stays bounded.
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        Arc::clone(map.entry(id).or_default())
    }

    /// Refreshes `seen` (the account as the caller last read it). When another caller
    /// already rotated the pair since, returns the fresh account without calling TikTok.
    pub async fn refresh(&self, seen: &Account) -> Result<(Refreshed, Account), TokenError> {
        let seen_refresh = Self::usable(seen)?.refresh.clone();
        let lock = self.account_lock(seen.id);
        let _guard = lock.lock().await;

        let started = std::time::Instant::now();
        loop {
            let current = self.db.run(self.accounts.get(seen.id)).await?.ok_or(RepoError::NotFound)?;
            let tokens = Self::usable(&current)?;
            if tokens.refresh != seen_refresh {
                return Ok((Refreshed::AlreadyFresh, current));
            }
            let now = self.clock.now();
            if current.refresh_expired(now) {
                match self.mark(&current, ReconnectReason::RefreshExpired).await {
                    Marked::Done(e) => return Err(e),
                    Marked::PairChanged => continue,
                }
            }
            let until = now + self.lease_for;
            let read = tokens.refresh.clone();
            let lease = self.accounts.try_lease_refresh(current.id, &self.instance_id, &read, now, until);
            if self.db.run(lease).await? {
                let result = self.rotate(&current, &read).await;
                let code = current.store_code.as_str();
                let release = while_unavailable("giving back a refresh lease", code, || {
                    self.db.run(self.accounts.release_refresh_lease(current.id, &self.instance_id))
                });
                if let Err(e) = release.await {
                    tracing::warn!(store.code = %current.store_code, error = %e, "could not release the refresh lease");
                }
                match result {
                    // TikTok refused a pair that is no longer stored: look again.
                    Ok(None) => continue,
                    Ok(Some(done)) => return Ok(done),
                    Err(e) => return Err(e),
                }
            }
            if started.elapsed() >= self.lease_wait {
                return Err(TokenError::LeaseBusy);
            }
            tokio::time::sleep(self.lease_poll).await;
        }
    }

    /// Spends `current`'s refresh token (ciphertext `refresh_ct`) under the lease. `Ok(None)`
    /// when TikTok refused it but the stored pair changed meanwhile (nothing was written).
    async fn rotate(&self, current: &Account, refresh_ct: &str) -> Result<Option<(Refreshed, Account)>, TokenError> {
        let code = current.store_code.as_str();
        let refresh_token = self.cipher.decrypt(refresh_ct, &binding(code, TokenKind::Refresh))?;
        let refused = match self.tiktok.refresh(&refresh_token).await {
            Ok(g) => Ok(g),
            Err(TikTokError::InvalidGrant { .. }) if current.refresh_expired(self.clock.now()) => {
                Err(ReconnectReason::RefreshExpired)
            }
            Err(TikTokError::InvalidGrant { .. }) => Err(ReconnectReason::GrantInvalid),
            Err(TikTokError::ScopeMissing { .. }) => Err(ReconnectReason::ScopeMissing),
            Err(e) => return Err(e.into()),
        };
        let grant = match refused {
            Ok(g) => g,
            Err(reason) => {
                return match self.mark(current, reason).await {
                    Marked::Done(e) => Err(e),
                    Marked::PairChanged => Ok(None),
                };
            }
        };
        let (tokens, meta) = self.seal(code, &grant);
        let now = self.clock.now();
        // TikTok may already consider the old refresh token spent: losing this write to a
        // database blip would lose the grant, so it is retried until the database is back.
        let stored = while_unavailable("storing a rotated token pair", code, || {
            self.db.run(self.accounts.save_refreshed(current.id, refresh_ct, &tokens, &meta, now))
        })
        .await?;
        if !stored {
            // Someone rotated the pair between our read and our write (not possible while we
            // hold the lease, unless it expired); theirs is stored, ours is dropped.
            tracing::warn!(store.code = %code, "refreshed pair lost a race; keeping the stored one");
            let fresh = self.db.run(self.accounts.get(current.id)).await?.ok_or(RepoError::NotFound)?;
            return Ok(Some((Refreshed::AlreadyFresh, fresh)));
        }
        let updated = Account {
            tokens: Some(tokens),
            token_expires_at: Some(meta.access_expires_at),
            refresh_token_expires_at: Some(meta.refresh_expires_at),
            scopes: meta.scopes,
            last_refresh_at: Some(now),
            updated_at: now,
            ..current.clone()
        };
        Ok(Some((Refreshed::Rotated, updated)))
    }

    /// A session that calls TikTok with the account's token, refreshing it first when it
    /// expires soon.
    pub async fn session(&self, account: Account) -> Result<TokenSession<'_>, TokenError> {
        let (token, account) = self.access_token(account).await?;
        Ok(TokenSession { tokens: self, account, token, refreshed_on_demand: false })
    }

    /// Whether the account's access token is due for the refresh job at `now`.
    pub fn due(&self, account: &Account, now: DateTime<Utc>, window: Duration) -> bool {
        account.refresh_due(now, window)
    }
}

/// How long a write that must not be lost (a rotated pair, the lease given back) is retried
/// while the database is unavailable: inside the refresh lease ([`lease_for`] counts it), so
/// no other instance refreshes the account meanwhile.
pub const STORE_RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(30);

/// Runs `op` again while it fails with [`RepoError::Unavailable`] (a server restart, a
/// failover, a terminated connection), backing off from 50 ms to 2 s, for up to
/// [`STORE_RETRY_FOR`]. A write that committed before its connection died is harmless to
/// repeat: the compare-and-swap then reports the pair already replaced (by this very write).
async fn while_unavailable<T, F, Fut>(what: &'static str, code: &str, mut op: F) -> Result<T, RepoError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RepoError>>,
{
    let deadline = tokio::time::Instant::now() + STORE_RETRY_FOR;
    let mut delay = std::time::Duration::from_millis(50);
    loop {
        match op().await {
            Err(RepoError::Unavailable(e)) if tokio::time::Instant::now() + delay < deadline => {
                tracing::warn!(store.code = code, error = %e, what, "database unavailable; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(std::time::Duration::from_secs(2));
            }
            other => return other,
        }
    }
}

/// Calls TikTok on behalf of one account. When TikTok says the access token is invalid, the
/// session refreshes once and retries once; a second refusal marks the account
/// `NEED_RECONNECT`. Scope errors mark it at once (refreshing cannot help).
pub struct TokenSession<'a> {
    tokens: &'a Tokens,
    account: Account,
    token: Secret<String>,
    refreshed_on_demand: bool,
}

impl TokenSession<'_> {
    /// The account as last stored (after any refresh).
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Runs `call` with the current token.
    pub async fn call<T, F, Fut>(&mut self, call: F) -> Result<T, TokenError>
    where
        F: Fn(Secret<String>) -> Fut,
        Fut: std::future::Future<Output = Result<T, TikTokError>>,
    {
        match call(self.token.clone()).await {
            Ok(v) => Ok(v),
            Err(TikTokError::AccessTokenInvalid) if !self.refreshed_on_demand => {
                self.refreshed_on_demand = true;
                let (_, account) = self.tokens.refresh(&self.account).await?;
                let tokens = Tokens::usable(&account)?;
                self.token = self
                    .tokens
                    .cipher
                    .decrypt(&tokens.access, &binding(account.store_code.as_str(), TokenKind::Access))?;
                self.account = account;
                match call(self.token.clone()).await {
                    Ok(v) => Ok(v),
                    Err(e) => Err(self.fail(e).await),
                }
            }
            Err(e) => Err(self.fail(e).await),
        }
    }

    /// The error of a failed call; a refused token or missing scope marks the account, unless
    /// its pair changed meanwhile (then the failure is TikTok's answer to a pair no longer in
    /// use, and the next call uses the stored one).
    async fn fail(&self, e: TikTokError) -> TokenError {
        let reason = match &e {
            TikTokError::AccessTokenInvalid => ReconnectReason::TokenInvalid,
            TikTokError::ScopeMissing { .. } => ReconnectReason::ScopeMissing,
            _ => return e.into(),
        };
        match self.tokens.mark(&self.account, reason).await {
            Marked::Done(err) => err,
            Marked::PairChanged => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_in: i64, refresh_expires_in: i64) -> TokenGrant {
        TokenGrant {
            access_token: Secret::new("act.1".into()),
            refresh_token: Secret::new("rft.1".into()),
            open_id: "o1".into(),
            expires_in,
            refresh_expires_in,
            scopes: vec!["video.list".into()],
        }
    }

    /// TikTok's answer decides the lifetimes, but an absurd one (as a fuzzed token answer
    /// had: `expires_in` beyond what a time span holds) must not panic the hub.
    #[test]
    fn token_meta_bounds_the_lifetimes_tiktok_states() {
        let now = DateTime::from_timestamp(1_769_245_200, 0).expect("valid");
        let m = token_meta(&grant(86_400, 31_536_000), now);
        assert_eq!(m.access_expires_at, now + Duration::days(1));
        assert_eq!(m.refresh_expires_at, now + Duration::days(365));
        assert_eq!(m.scopes, ["video.list"]);
        let cap = now + Duration::seconds(MAX_TOKEN_LIFETIME_SECS);
        let m = token_meta(&grant(i64::MAX, i64::MIN), now);
        assert_eq!((m.access_expires_at, m.refresh_expires_at), (cap, now));
        let m = token_meta(&grant(i64::MAX / 1000 + 1, -1), now);
        assert_eq!((m.access_expires_at, m.refresh_expires_at), (cap, now));
    }
}
