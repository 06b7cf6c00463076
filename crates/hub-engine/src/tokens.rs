//! Keeping access tokens fresh: proactive refresh before expiry, on-demand refresh when
//! TikTok refuses a token, one refresh per account at a time.
//!
//! Within a process a per-account mutex coalesces concurrent refreshes (the second caller
//! finds the pair already rotated and uses it); across processes a short database lease does
//! the same. The rotated pair is stored with a compare-and-swap on the old refresh
//! ciphertext, so a refresh token is never replayed and the newest pair always wins.

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
    /// run through `db`.
    pub fn new(
        db: Arc<DbGate>,
        accounts: Arc<dyn AccountRepo>,
        tiktok: Arc<dyn TikTokApi>,
        cipher: Arc<dyn TokenCipher>,
        clock: Arc<dyn Clock>,
        instance_id: String,
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

    async fn mark(&self, account: &Account, reason: ReconnectReason) -> TokenError {
        let status = ConnectionStatus::NeedReconnect(reason);
        if let Err(e) = self.db.run(self.accounts.set_status(account.id, status, self.clock.now())).await {
            tracing::warn!(store.code = %account.store_code, error = %e, "could not record the reconnect status");
        }
        TokenError::NeedsReconnect(reason)
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
                return Err(self.mark(&current, ReconnectReason::RefreshExpired).await);
            }
            let until = now + Duration::seconds(60);
            if self.db.run(self.accounts.try_lease_refresh(current.id, &self.instance_id, now, until)).await? {
                let result = self.rotate(&current, &tokens.refresh.clone()).await;
                let code = current.store_code.as_str();
                let release = while_unavailable("giving back a refresh lease", code, || {
                    self.db.run(self.accounts.release_refresh_lease(current.id, &self.instance_id))
                });
                if let Err(e) = release.await {
                    tracing::warn!(store.code = %current.store_code, error = %e, "could not release the refresh lease");
                }
                return result;
            }
            if started.elapsed() >= self.lease_wait {
                return Err(TokenError::LeaseBusy);
            }
            tokio::time::sleep(self.lease_poll).await;
        }
    }

    async fn rotate(&self, current: &Account, refresh_ct: &str) -> Result<(Refreshed, Account), TokenError> {
        let code = current.store_code.as_str();
        let refresh_token = self.cipher.decrypt(refresh_ct, &binding(code, TokenKind::Refresh))?;
        let grant = match self.tiktok.refresh(&refresh_token).await {
            Ok(g) => g,
            Err(TikTokError::InvalidGrant { .. }) => {
                let reason = if current.refresh_expired(self.clock.now()) {
                    ReconnectReason::RefreshExpired
                } else {
                    ReconnectReason::GrantInvalid
                };
                return Err(self.mark(current, reason).await);
            }
            Err(TikTokError::ScopeMissing { .. }) => {
                return Err(self.mark(current, ReconnectReason::ScopeMissing).await);
            }
            Err(e) => return Err(e.into()),
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
            return Ok((Refreshed::AlreadyFresh, fresh));
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
        Ok((Refreshed::Rotated, updated))
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
/// while the database is unavailable: well inside the refresh lease (60 s), so no other
/// instance refreshes the account meanwhile.
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

    async fn fail(&self, e: TikTokError) -> TokenError {
        match e {
            TikTokError::AccessTokenInvalid => self.tokens.mark(&self.account, ReconnectReason::TokenInvalid).await,
            TikTokError::ScopeMissing { .. } => self.tokens.mark(&self.account, ReconnectReason::ScopeMissing).await,
            other => other.into(),
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
