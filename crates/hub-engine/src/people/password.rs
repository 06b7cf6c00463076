//! Password hashing: argon2id with OWASP's current parameters (19 MiB, 2 passes, 1 lane), run
//! on the blocking pool (never on the async runtime's threads) and at most a few at a time, so
//! a flood of sign-ins cannot take the memory or the workers. Hashes are PHC strings
//! (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), so a change of parameters is seen at sign-in and
//! the password rehashed.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hub_domain::Secret;
use ring::rand::{SecureRandom, SystemRandom};
use tokio::sync::{OnceCell, Semaphore};

/// argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl PasswordParams {
    /// OWASP's Password Storage Cheat Sheet (argon2id: m = 19 MiB, t = 2, p = 1).
    pub const OWASP: Self = Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
}

impl Default for PasswordParams {
    fn default() -> Self {
        Self::OWASP
    }
}

/// Why hashing failed (bad parameters, or the blocking task died).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

/// The outcome of checking a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verified {
    No,
    Yes,
    /// Right, but hashed with other parameters than today's: rehash it.
    YesRehash,
}

/// Hashes and checks passwords.
pub(crate) struct Hasher {
    params: PasswordParams,
    permits: Arc<Semaphore>,
    /// A hash of a random password under today's parameters: an unknown email is checked
    /// against it, so it takes as long as a known one.
    dummy: OnceCell<Secret<String>>,
}

fn argon(p: PasswordParams) -> Result<Argon2<'static>, HashError> {
    let params = Params::new(p.memory_kib, p.iterations, p.parallelism, None).map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(p: PasswordParams, password: &str) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt).map_err(|_| HashError("no random salt".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError(e.to_string()))?;
    Ok(argon(p)?.hash_password(password.as_bytes(), &salt).map_err(|e| HashError(e.to_string()))?.to_string())
}

/// Checks `password` against `phc` (with the parameters written in it).
fn verify_now(p: PasswordParams, password: &str, phc: &str) -> Verified {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("a stored password hash is not a PHC string");
        return Verified::No;
    };
    if argon(p).map(|a| a.verify_password(password.as_bytes(), &parsed).is_ok()) != Ok(true) {
        return Verified::No;
    }
    if is_current(p, &parsed) { Verified::Yes } else { Verified::YesRehash }
}

/// Whether `parsed` is argon2id v19 with exactly `p`.
fn is_current(p: PasswordParams, parsed: &PasswordHash<'_>) -> bool {
    let same_params = Params::try_from(parsed)
        .is_ok_and(|h| (h.m_cost(), h.t_cost(), h.p_cost()) == (p.memory_kib, p.iterations, p.parallelism));
    parsed.algorithm.as_str() == Algorithm::Argon2id.ident().as_str()
        && parsed.version == Some(Version::V0x13.into())
        && same_params
}

impl Hasher {
    pub(crate) fn new(params: PasswordParams) -> Self {
        let at_once = std::thread::available_parallelism().map_or(2, usize::from).clamp(2, 8);
        Self { params, permits: Arc::new(Semaphore::new(at_once)), dummy: OnceCell::new() }
    }

    /// Runs `work` on the blocking pool, at most a few at a time.
    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| HashError(e.to_string()))
    }

    /// The PHC string of `password` under today's parameters.
    pub(crate) async fn hash(&self, password: &str) -> Result<Secret<String>, HashError> {
        let (p, password) = (self.params, password.to_owned());
        Ok(Secret::new(self.blocking(move || hash_now(p, &password)).await??))
    }

    /// Checks `password` against `phc`.
    pub(crate) async fn verify(&self, password: &str, phc: &Secret<String>) -> Result<Verified, HashError> {
        let (p, password, phc) = (self.params, password.to_owned(), phc.expose().clone());
        self.blocking(move || verify_now(p, &password, &phc)).await
    }

    /// Does the work of [`Hasher::verify`] against a hash nobody's password matches: an
    /// unknown account takes as long as a known one.
    pub(crate) async fn verify_dummy(&self, password: &str) -> Result<(), HashError> {
        let dummy = self
            .dummy
            .get_or_try_init(|| async {
                let mut random = [0u8; 32];
                SystemRandom::new().fill(&mut random).map_err(|_| HashError("no random bytes".into()))?;
                self.hash(&hex::encode(random)).await
            })
            .await?;
        self.verify(password, dummy).await.map(drop)
    }

    /// Prepares the dummy hash (at start-up, so the first unknown sign-in is not slower).
    pub(crate) async fn warm_up(&self) -> Result<(), HashError> {
        self.verify_dummy("warm-up").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: PasswordParams = PasswordParams { memory_kib: 1024, iterations: 1, parallelism: 1 };

    #[tokio::test]
    async fn hashes_verify_and_say_when_to_rehash() {
        let h = Hasher::new(CHEAP);
        let phc = h.hash("correct horse battery staple 9").await.unwrap();
        assert!(phc.expose().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{}", phc.expose());
        assert!(!phc.expose().contains("correct horse"));
        assert_eq!(h.verify("correct horse battery staple 9", &phc).await, Ok(Verified::Yes));
        assert_eq!(h.verify("correct horse battery staple 8", &phc).await, Ok(Verified::No));
        assert_eq!(h.verify("x", &Secret::new("not a phc".into())).await, Ok(Verified::No));
        let stronger = Hasher::new(PasswordParams { memory_kib: 2048, ..CHEAP });
        assert_eq!(stronger.verify("correct horse battery staple 9", &phc).await, Ok(Verified::YesRehash));
        assert_ne!(h.hash("same").await.unwrap(), h.hash("same").await.unwrap(), "fresh salt each time");
        h.verify_dummy("anything").await.unwrap();
    }

    #[test]
    fn the_default_is_owasps() {
        assert_eq!(PasswordParams::default(), PasswordParams { memory_kib: 19_456, iterations: 2, parallelism: 1 });
    }
}
