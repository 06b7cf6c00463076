//! Signing in and out, and sessions: a 256-bit random token in an opaque cookie, stored only as
//! its SHA-256, ending after `session_idle` unused or `session_absolute` after sign-in, and at
//! once when the user's password changes or the user is disabled. Each session has a CSRF
//! token derived from its token (a browser that lacks the cookie cannot compute it).

use chrono::{DateTime, Duration, Utc};
use hub_domain::{Actor, AuditOutcome, Email, NewSession, Principal, Secret, User};

use crate::audit::Details;
use crate::people::password::Verified;
use crate::people::service::{AuthError, People, PeopleError, chrono};
use crate::state::{ct_eq, random_token, sha256_hex};

/// A successful sign-in: the session token (for the cookie, shown once), its CSRF token and end.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: User,
    pub session_token: Secret<String>,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

/// How often a session's `last_seen_at` is written (at most once a minute per session).
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// The CSRF token of a session token.
fn csrf_of(session_token: &str) -> String {
    sha256_hex(format!("hub-csrf:{session_token}").as_bytes())
}

impl People {
    /// Signs in with an email and a password. An unknown email, a disabled user and a wrong
    /// password get the same [`AuthError::Invalid`] after the same work (one argon2id check).
    /// Audited (`auth.login`, `SUCCESS` or `FAILURE`; an unknown email is `anonymous` and its
    /// text is not kept). A hash made with older parameters is replaced.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        request_id: Option<String>,
        ip: Option<String>,
    ) -> Result<LoggedIn, AuthError> {
        const ACTION: &str = "auth.login";
        let known = match Email::parse(email) {
            Ok(e) => self.users.credentials(&e).await?,
            Err(_) => None,
        };
        let Some(creds) = known else {
            self.hasher.verify_dummy(password).await.map_err(AuthError::Hashing)?;
            let actor = Actor::anonymous(request_id, ip);
            self.auditor.refused(&actor, ACTION, None, None, Details::error("bad_credentials")).await;
            return Err(AuthError::Invalid);
        };
        let user = creds.user;
        let actor = Actor {
            principal: Principal::User { id: user.id, email: user.email.clone() },
            role: user.role,
            scope: user.scope.clone(),
            request_id,
            ip,
        };
        let verified = self.hasher.verify(password, &creds.password_hash).await.map_err(AuthError::Hashing)?;
        let reason = match verified {
            Verified::No => Some("bad_credentials"),
            _ if !user.active => Some("user_disabled"),
            _ => None,
        };
        if let Some(reason) = reason {
            self.auditor.refused(&actor, ACTION, None, None, Details::error(reason)).await;
            return Err(AuthError::Invalid);
        }
        if verified == Verified::YesRehash {
            match self.hasher.hash(password).await {
                Ok(h) => {
                    if let Err(e) = self.users.rehash(user.id, &h).await {
                        tracing::warn!(error = %e, "could not store a rehashed password");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not rehash a password"),
            }
        }
        let now = self.clock.now();
        let token = random_token(32);
        let expires_at = now + chrono(self.config.session_absolute);
        let session =
            NewSession { token_hash: sha256_hex(token.as_bytes()), user: user.id, created_at: now, expires_at };
        let audit = actor.audit(ACTION, None, None, AuditOutcome::Success, None);
        self.users.record_login(&session, &audit).await?;
        tracing::info!(user.id = user.id.0, "signed in");
        Ok(LoggedIn { csrf_token: csrf_of(&token), session_token: Secret::new(token), user, expires_at })
    }

    /// The actor of a session token, or [`AuthError::Invalid`] (unknown, idle too long, past
    /// its absolute end, or its user disabled).
    pub async fn session(
        &self,
        token: &str,
        request_id: Option<String>,
        ip: Option<String>,
    ) -> Result<Actor, AuthError> {
        if token.is_empty() || token.len() > 128 {
            return Err(AuthError::Invalid);
        }
        let Some(session) = self.sessions.find(&sha256_hex(token.as_bytes())).await? else {
            return Err(AuthError::Invalid);
        };
        let now = self.clock.now();
        if !session.is_live(now, chrono(self.config.session_idle)) {
            return Err(AuthError::Invalid);
        }
        if now - session.last_seen_at >= TOUCH_EVERY
            && let Err(e) = self.sessions.touch(session.id, now).await
        {
            tracing::warn!(error = %e, "could not record a session's use");
        }
        let user = session.user;
        Ok(Actor {
            principal: Principal::User { id: user.id, email: user.email },
            role: user.role,
            scope: user.scope,
            request_id,
            ip,
        })
    }

    /// The CSRF token of a session: sent back in `X-CSRF-Token` (or a `csrf_token` form field)
    /// with every unsafe request made with the session's cookie.
    pub fn csrf_token(&self, session_token: &str) -> String {
        csrf_of(session_token)
    }

    /// Whether `presented` is the session's CSRF token (compared in constant time).
    pub fn csrf_ok(&self, session_token: &str, presented: &str) -> bool {
        ct_eq(&csrf_of(session_token), presented)
    }

    /// Records a request refused for a missing or wrong CSRF token or origin (`auth.csrf`,
    /// `DENIED`).
    pub async fn csrf_refused(&self, actor: &Actor, why: &str) {
        self.auditor.denied(actor, "auth.csrf", None, Details::error(why)).await;
    }

    /// Signs out: ends the session of `token`; audited (`auth.logout`).
    pub async fn logout(&self, actor: &Actor, token: &str) -> Result<(), PeopleError> {
        let audit = actor.audit("auth.logout", None, None, AuditOutcome::Success, None);
        if self.sessions.delete(&sha256_hex(token.as_bytes()), &audit).await? {
            Ok(())
        } else {
            Err(PeopleError::NoSession)
        }
    }
}
