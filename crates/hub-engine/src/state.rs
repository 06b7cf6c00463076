//! OAuth `state`: random, HMAC-signed, expiring; single use and browser binding are enforced
//! with the stored nonce (see `connect`).
//!
//! `state = base64url(payload) "." base64url(HMAC-SHA256(STATE_SECRET, payload))` where
//! `payload = version(1) ‖ nonce(16) ‖ issued_at(i64 BE seconds) ‖ store_code`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hub_domain::StoreCode;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN + 8;
/// Longer states are refused before any decoding.
const MAX_STATE_LEN: usize = 256;

/// Why a state was refused. Deliberately coarse: the client learns only "invalid".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("malformed state")]
    Malformed,
    #[error("state signature mismatch")]
    BadSignature,
    #[error("state expired")]
    Expired,
}

/// A freshly issued state and the hash of its nonce (stored for single use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedState {
    pub state: String,
    pub nonce_hash: String,
}

/// What a valid state says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedState {
    pub nonce_hash: String,
    pub store_code: StoreCode,
    pub issued_at: DateTime<Utc>,
}

/// Issues and verifies states.
pub struct StateCodec {
    key: hmac::Key,
    ttl: Duration,
    rng: SystemRandom,
}

impl std::fmt::Debug for StateCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateCodec").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// SHA-256 of `data`, lower-case hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// `bytes` random bytes from the system source, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new().fill(&mut buf).expect("the system random source failed");
    URL_SAFE_NO_PAD.encode(buf)
}

/// The PKCE S256 challenge of a verifier.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()))
}

/// Constant-time equality of two strings (their lengths may leak, their contents do not).
pub fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl StateCodec {
    /// A codec signing with `secret`, accepting states younger than `ttl`.
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Self { key: hmac::Key::new(hmac::HMAC_SHA256, secret), ttl, rng: SystemRandom::new() }
    }

    /// Issues a state for `store_code` at `now`.
    pub fn issue(&self, store_code: &StoreCode, now: DateTime<Utc>) -> IssuedState {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("the system random source failed");
        let mut payload = Vec::with_capacity(HEADER_LEN + store_code.as_str().len());
        payload.push(VERSION);
        payload.extend_from_slice(&nonce);
        payload.extend_from_slice(&now.timestamp().to_be_bytes());
        payload.extend_from_slice(store_code.as_str().as_bytes());
        let tag = hmac::sign(&self.key, &payload);
        IssuedState {
            state: format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag.as_ref())),
            nonce_hash: sha256_hex(&nonce),
        }
    }

    /// Checks the signature and age of `state`.
    pub fn verify(&self, state: &str, now: DateTime<Utc>) -> Result<VerifiedState, StateError> {
        if state.len() > MAX_STATE_LEN {
            return Err(StateError::Malformed);
        }
        let (p64, t64) = state.split_once('.').ok_or(StateError::Malformed)?;
        let payload = URL_SAFE_NO_PAD.decode(p64).map_err(|_| StateError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(t64).map_err(|_| StateError::Malformed)?;
        hmac::verify(&self.key, &payload, &tag).map_err(|_| StateError::BadSignature)?;
        if payload.len() <= HEADER_LEN || payload[0] != VERSION {
            return Err(StateError::Malformed);
        }
        let nonce = &payload[1..1 + NONCE_LEN];
        let secs =
            i64::from_be_bytes(payload[1 + NONCE_LEN..HEADER_LEN].try_into().map_err(|_| StateError::Malformed)?);
        let issued_at = DateTime::from_timestamp(secs, 0).ok_or(StateError::Malformed)?;
        let code = std::str::from_utf8(&payload[HEADER_LEN..]).map_err(|_| StateError::Malformed)?;
        let store_code = StoreCode::parse(code).map_err(|_| StateError::Malformed)?;
        // A state from the future (clock skew beyond a minute) is as suspect as an old one.
        if now - issued_at >= self.ttl || issued_at - now > Duration::minutes(1) {
            return Err(StateError::Expired);
        }
        Ok(VerifiedState { nonce_hash: sha256_hex(nonce), store_code, issued_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn codec() -> StateCodec {
        StateCodec::new(b"state-secret-0123456789abcdef0123", Duration::minutes(10))
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 24, 9, 0, 0).unwrap()
    }

    #[test]
    fn issue_then_verify() {
        let code = StoreCode::parse("store_jakarta_01").unwrap();
        let issued = codec().issue(&code, t0());
        let v = codec().verify(&issued.state, t0() + Duration::minutes(9)).unwrap();
        assert_eq!(v.store_code, code);
        assert_eq!(v.nonce_hash, issued.nonce_hash);
        assert_ne!(codec().issue(&code, t0()).nonce_hash, issued.nonce_hash, "nonces are random");
    }

    #[test]
    fn expiry_and_skew() {
        let code = StoreCode::parse("s").unwrap();
        let issued = codec().issue(&code, t0());
        let cases = [
            (Duration::minutes(10), Err(StateError::Expired)),
            (Duration::minutes(-2), Err(StateError::Expired)),
            (Duration::seconds(599), Ok(())),
        ];
        for (offset, want) in cases {
            assert_eq!(codec().verify(&issued.state, t0() + offset).map(|_| ()), want, "{offset}");
        }
    }

    #[test]
    fn another_secret_rejects() {
        let code = StoreCode::parse("s").unwrap();
        let issued = codec().issue(&code, t0());
        let other = StateCodec::new(b"another-secret-0123456789abcdef012", Duration::minutes(10));
        assert_eq!(other.verify(&issued.state, t0()), Err(StateError::BadSignature));
    }

    /// Each state carries a 128-bit nonce from the system's random source: over 1,000 states
    /// the nonces are distinct and every one of their 128 bits takes both values (a counter,
    /// a clock or a shorter random would leave bits fixed).
    #[test]
    fn states_carry_128_random_bits() {
        let code = StoreCode::parse("s").unwrap();
        let c = codec();
        let nonces: Vec<u128> = (0..1000)
            .map(|_| {
                let state = c.issue(&code, t0()).state;
                let payload = URL_SAFE_NO_PAD.decode(state.split_once('.').unwrap().0).unwrap();
                assert_eq!(payload.len(), HEADER_LEN + 1);
                u128::from_be_bytes(payload[1..1 + NONCE_LEN].try_into().unwrap())
            })
            .collect();
        let distinct: std::collections::HashSet<_> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len());
        let (ones, zeros) = nonces.iter().fold((0u128, 0u128), |(o, z), n| (o | n, z | !n));
        assert_eq!((ones, zeros), (u128::MAX, u128::MAX), "every nonce bit varies");
    }

    #[test]
    fn pkce_matches_rfc7636_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    proptest! {
        /// Every single-byte mutation of a valid state is refused.
        #[test]
        fn mutated_states_are_refused(pos in any::<usize>(), byte in any::<u8>()) {
            let code = StoreCode::parse("store_01").unwrap();
            let issued = codec().issue(&code, t0());
            let mut bytes = issued.state.clone().into_bytes();
            let i = pos % bytes.len();
            prop_assume!(bytes[i] != byte);
            bytes[i] = byte;
            if let Ok(mutated) = String::from_utf8(bytes) {
                prop_assert!(codec().verify(&mutated, t0()).is_err(), "accepted {mutated}");
            }
        }

        #[test]
        fn garbage_never_panics(s in "\\PC{0,300}") {
            let _ = codec().verify(&s, t0());
        }
    }
}
