//! Connecting a store's TikTok account (Login Kit, OAuth 2.0 with PKCE).
//!
//! 1. An admin issues a connect link: a single-use, expiring invite (only its SHA-256 is
//!    stored). 2. Staff open it: the hub checks the invite, stores a one-time state nonce
//!    bound to a fresh browser cookie and a PKCE verifier, and redirects to TikTok's consent
//!    page (`disable_auto_auth=1`). 3. TikTok calls back: the state's signature, age, single
//!    use and cookie are checked before anything else; `error=` and missing scopes end the
//!    flow with no token call; the invite is consumed; the code is exchanged; the pair is
//!    encrypted and stored; a reconnect to a different TikTok account is audited.

use chrono::{DateTime, Duration, Utc};
use hub_domain::{
    Actor, AuditOutcome, NewConnectInvite, NewOAuthState, REQUIRED_SCOPES, StoreCode, missing_scopes, parse_scopes,
};
use hub_ports::{ConnectedAccount, RepoError, TikTokError};

use std::sync::Arc;

use crate::access::{Access, Permission, Refusal};
use crate::audit::{Auditor, Details};
use crate::config::EngineConfig;
use crate::ports::Ports;
use crate::state::{StateCodec, ct_eq, pkce_challenge, random_token, sha256_hex};
use crate::tokens::Tokens;

/// Why a connect step was refused. Messages are safe to show on the public pages: they never
/// carry TikTok's text or the callback's (a variant's data is for the log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error("Store not found")]
    StoreNotFound,
    /// The actor's role or store scope does not allow it (a `DENIED` row was written).
    #[error("Your role or store groups do not allow this")]
    Forbidden,
    /// No valid connect link (missing, unknown, used, expired, or for another store).
    #[error("This connect link is invalid, expired or already used. Ask your administrator for a new one.")]
    InviteInvalid,
    /// State missing, forged, expired, replayed, or opened in another browser.
    #[error("Invalid state parameter (possible CSRF attack)")]
    InvalidState,
    /// The user declined on TikTok's page (TikTok's `error_description`, logged only).
    #[error("Authorization was denied on TikTok")]
    Denied(String),
    /// Some required permission was not granted.
    #[error("Required permissions were not granted: {0}. Please connect again and allow every permission.")]
    ScopeMissing(String),
    /// The callback lacks `code`.
    #[error("The callback is missing the authorization code")]
    MissingCode,
    /// TikTok refused the code exchange or the first user call, or could not be reached (the
    /// cause is logged, never shown).
    #[error("TikTok could not complete the connection; please try again later")]
    TikTok(TikTokError),
    /// The database failed.
    #[error("internal error")]
    Storage(#[from] RepoError),
}

/// A connect link for a store's staff. Its URL holds the invite (a bearer credential until
/// used), so Debug leaves it out.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectLink {
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// Where to send the browser, and the cookie that binds the flow to it (left out of Debug).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectStart {
    pub authorize_url: String,
    /// Value of the browser-binding cookie (set it `HttpOnly; Secure; SameSite=Lax`).
    pub browser_cookie: String,
    /// How long the cookie and the state live.
    pub ttl: Duration,
}

/// What TikTok passed to the callback (Debug leaves out the authorization code).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub scopes: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for ConnectLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectLink").field("url", &REDACTED).field("expires_at", &self.expires_at).finish()
    }
}

impl std::fmt::Debug for ConnectStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectStart")
            .field("authorize_url", &self.authorize_url)
            .field("browser_cookie", &REDACTED)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl std::fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| REDACTED))
            .field("state", &self.state)
            .field("scopes", &self.scopes)
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// A completed connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub store_code: StoreCode,
    pub open_id: String,
    /// The previously connected TikTok account, when it was a different one.
    pub replaced_open_id: Option<String>,
}

impl ConnectError {
    /// The reason an audit row names.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::StoreNotFound => "store_not_found",
            Self::Forbidden => "forbidden",
            Self::InviteInvalid => "invite_invalid",
            Self::InvalidState => "invalid_state",
            Self::Denied(_) => "denied",
            Self::ScopeMissing(_) => "scope_missing",
            Self::MissingCode => "missing_code",
            Self::TikTok(_) => "tiktok",
            Self::Storage(_) => "storage",
        }
    }
}

impl From<Refusal> for ConnectError {
    fn from(e: Refusal) -> Self {
        match e {
            Refusal::Forbidden => Self::Forbidden,
            Refusal::StoreNotFound => Self::StoreNotFound,
            Refusal::Storage(e) => Self::Storage(e),
        }
    }
}

/// The connect use cases: connect links and the OAuth flow.
pub struct ConnectFlow {
    ports: Ports,
    config: EngineConfig,
    tokens: Arc<Tokens>,
    state: StateCodec,
    access: Access,
    auditor: Auditor,
}

impl ConnectFlow {
    pub(crate) fn new(
        ports: Ports,
        config: EngineConfig,
        tokens: Arc<Tokens>,
        state_secret: &[u8],
        access: Access,
    ) -> Self {
        Self {
            state: StateCodec::new(state_secret, config.state_ttl),
            auditor: access.auditor().clone(),
            access,
            ports,
            config,
            tokens,
        }
    }

    /// Issues a single-use connect link for `code` (operator; a store in the actor's scope),
    /// valid for the configured lifetime; audited (`connect_link.create`).
    pub async fn issue_link(&self, actor: &Actor, code: &StoreCode) -> Result<ConnectLink, ConnectError> {
        let issued = self.issue(actor, code).await;
        if let Err(e) = &issued
            && !matches!(e, ConnectError::Forbidden)
        {
            self.auditor.refused(actor, "connect_link.create", Some(code), None, Details::error(e.reason())).await;
        }
        issued
    }

    async fn issue(&self, actor: &Actor, code: &StoreCode) -> Result<ConnectLink, ConnectError> {
        let p = &self.ports;
        self.access.store(actor, Permission::ManageStores, "connect_link.create", code).await?;
        let token = random_token(32);
        let now = p.clock.now();
        let expires_at = now + Duration::from_std(self.config.connect_link_ttl).unwrap_or(Duration::hours(72));
        let invite = NewConnectInvite {
            token_hash: sha256_hex(token.as_bytes()),
            store_code: code.clone(),
            created_by: actor.who(),
            expires_at,
        };
        let audit = actor.audit("connect_link.create", Some(code), None, AuditOutcome::Success, None);
        let stored = p.connect.create_invite(&invite, &audit).await?;
        let url = format!(
            "{}/connect/tiktok?store_code={}&invite={}",
            self.config.public_base_url.trim_end_matches('/'),
            code,
            token
        );
        tracing::info!(store.code = %code, invite.id = stored.id, "connect link issued");
        Ok(ConnectLink { url, expires_at })
    }

    /// Starts the consent flow for `code`. Without a valid invite the answer is
    /// [`ConnectError::InviteInvalid`] (unless open connect is configured), and TikTok is
    /// never contacted.
    pub async fn begin_connect(&self, code: &StoreCode, invite: Option<&str>) -> Result<ConnectStart, ConnectError> {
        let p = &self.ports;
        let now = p.clock.now();
        let invite_id = match invite.filter(|i| !i.is_empty() && i.len() <= 128) {
            Some(token) => {
                let found = p.connect.find_invite(&sha256_hex(token.as_bytes())).await?;
                match found {
                    Some(inv) if inv.is_usable(now) && &inv.store_code == code => Some(inv.id),
                    _ => return Err(ConnectError::InviteInvalid),
                }
            }
            None if self.config.open_connect => None,
            None => return Err(ConnectError::InviteInvalid),
        };
        p.stores.get(code).await?.ok_or(ConnectError::StoreNotFound)?;
        let issued = self.state.issue(code, now);
        let cookie = random_token(32);
        let verifier = random_token(48);
        let ttl = self.config.state_ttl;
        p.connect
            .insert_state(&NewOAuthState {
                nonce_hash: issued.nonce_hash,
                store_code: code.clone(),
                invite_id,
                browser_binding: sha256_hex(cookie.as_bytes()),
                pkce_verifier: Some(verifier.clone()),
                expires_at: now + ttl,
            })
            .await?;
        Ok(ConnectStart {
            authorize_url: p.tiktok.authorize_url(&issued.state, &pkce_challenge(&verifier)),
            browser_cookie: cookie,
            ttl,
        })
    }

    /// Completes the flow from TikTok's callback. `cookie` is the browser-binding cookie;
    /// `ip` and `request_id` go into the audit rows.
    pub async fn complete_connect(
        &self,
        params: &CallbackParams,
        cookie: Option<&str>,
        ip: Option<String>,
        request_id: Option<String>,
    ) -> Result<Connected, ConnectError> {
        let p = &self.ports;
        let now = p.clock.now();
        // 1. The state: signature and age, then single use, then the browser.
        let raw_state = params.state.as_deref().ok_or(ConnectError::InvalidState)?;
        let verified = self.state.verify(raw_state, now).map_err(|e| {
            tracing::warn!(reason = %e, "OAuth callback with an invalid state");
            ConnectError::InvalidState
        })?;
        let stored = p.connect.consume_state(&verified.nonce_hash, now).await?.ok_or_else(|| {
            tracing::warn!(store.code = %verified.store_code, "OAuth state replayed or expired");
            ConnectError::InvalidState
        })?;
        let state = stored.state;
        let cookie_ok = cookie.is_some_and(|c| ct_eq(&sha256_hex(c.as_bytes()), &state.browser_binding));
        if !cookie_ok || state.store_code != verified.store_code {
            tracing::warn!(store.code = %state.store_code, "OAuth callback from another browser");
            return Err(ConnectError::InvalidState);
        }
        let code = state.store_code.clone();
        let actor = Actor::store_staff(request_id, ip);

        // 2. What the user decided on TikTok's page.
        if let Some(error) = params.error.as_deref() {
            let description = params.error_description.clone().unwrap_or_else(|| error.to_owned());
            tracing::info!(store.code = %code, error, description, "TikTok authorization not granted");
            return Err(ConnectError::Denied(description));
        }
        let granted = parse_scopes(params.scopes.as_deref().unwrap_or_default());
        let missing = missing_scopes(&granted);
        if !missing.is_empty() {
            return Err(ConnectError::ScopeMissing(missing.join(", ")));
        }
        let auth_code = params.code.as_deref().filter(|c| !c.is_empty()).ok_or(ConnectError::MissingCode)?;

        // 3. The invite is spent now, before any token call.
        if let Some(invite_id) = state.invite_id
            && !p.connect.consume_invite(invite_id, now).await?
        {
            return Err(ConnectError::InviteInvalid);
        }

        // 4. Tokens.
        let verifier = state.pkce_verifier.clone().unwrap_or_default();
        let tiktok_failed = |step: &'static str| {
            let code = code.clone();
            move |e: TikTokError| {
                tracing::warn!(store.code = %code, step, error = %e, "TikTok refused the connection");
                ConnectError::TikTok(e)
            }
        };
        let grant = p.tiktok.exchange_code(auth_code, &verifier).await.map_err(tiktok_failed("code exchange"))?;
        // TikTok's own answer decides which scopes were granted: the callback's `scopes` came
        // through the browser. An answer that lists none confirms none.
        let token_missing = missing_scopes(&grant.scopes);
        if !token_missing.is_empty() {
            tracing::warn!(
                store.code = %code,
                granted = %grant.scopes.join(","),
                "TikTok's token answer lacks required scopes; not connected"
            );
            return Err(ConnectError::ScopeMissing(token_missing.join(", ")));
        }
        let user = p.tiktok.user_info(&grant.access_token).await.map_err(tiktok_failed("user info"))?;
        if !user.open_id.is_empty() && user.open_id != grant.open_id {
            return Err(tiktok_failed("user info")(TikTokError::Rejected {
                code: "open_id_mismatch".into(),
                message: "the token's user differs from the token answer's open_id".into(),
            }));
        }

        // 5. Store, auditing a change of TikTok account.
        let previous = p.accounts.for_store(&code).await?;
        let replaced_open_id = previous.and_then(|a| a.open_id).filter(|old| old != &grant.open_id);
        let (tokens, meta) = self.tokens.seal(code.as_str(), &grant);
        let mut audit = vec![actor.audit(
            "account.connect",
            Some(&code),
            Some(grant.open_id.clone()),
            AuditOutcome::Success,
            Some(Details::default().text("scopes", &meta.scopes.join(",")).build()),
        )];
        if let Some(old) = &replaced_open_id {
            audit.push(actor.audit(
                "account.replace",
                Some(&code),
                Some(grant.open_id.clone()),
                AuditOutcome::Success,
                Some(Details::default().text("previous_open_id", old).text("new_open_id", &grant.open_id).build()),
            ));
            tracing::warn!(store.code = %code, "store reconnected to a different TikTok account");
        }
        let connected = ConnectedAccount {
            store_code: code.clone(),
            open_id: grant.open_id.clone(),
            tokens,
            meta,
            connected_at: now,
        };
        p.accounts.save_connected(&connected, &audit).await?;
        tracing::info!(store.code = %code, "store connected");
        Ok(Connected { store_code: code, open_id: grant.open_id, replaced_open_id })
    }
}

/// The scopes the hub asks for, comma-separated.
pub fn requested_scopes() -> String {
    REQUIRED_SCOPES.join(",")
}

#[cfg(test)]
mod debug_tests {
    use super::*;

    #[test]
    fn invites_cookies_and_codes_never_print() {
        let canary = "canary-0123456789";
        let printed = [
            format!(
                "{:?}",
                ConnectLink {
                    url: format!("https://hub/connect/tiktok?invite={canary}"),
                    expires_at: DateTime::UNIX_EPOCH
                }
            ),
            format!(
                "{:?}",
                ConnectStart {
                    authorize_url: "https://tiktok/auth".into(),
                    browser_cookie: canary.into(),
                    ttl: Duration::minutes(10)
                }
            ),
            format!(
                "{:?}",
                CallbackParams { code: Some(canary.into()), state: Some("s".into()), ..Default::default() }
            ),
        ];
        for p in printed {
            assert!(!p.contains(canary) && p.contains(REDACTED), "{p}");
        }
    }
}
