//! The admin API key check: constant-time comparison against every configured key, and the
//! fingerprint that names a key in audit rows without revealing it.

use hub_domain::Secret;
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

/// The configured API keys, kept only as SHA-256 digests.
pub(crate) struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest(&SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// `key:<first 12 hex digits of SHA-256(key)>`: names a key in audit rows and logs.
pub(crate) fn fingerprint(key: &[u8]) -> String {
    format!("key:{}", &hex::encode(sha256(key))[..12])
}

impl ApiKeys {
    pub(crate) fn new(keys: &[Secret<String>]) -> Self {
        Self { digests: keys.iter().map(|k| sha256(k.expose().as_bytes())).collect() }
    }

    /// Whether `presented` is one of the keys. Every key is compared (no early exit), each in
    /// constant time over fixed-length digests, so timing tells nothing about any key.
    pub(crate) fn verify(&self, presented: &[u8]) -> bool {
        let candidate = sha256(presented);
        self.digests.iter().fold(false, |found, d| found | bool::from(d.ct_eq(&candidate)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configured_key_verifies_and_nothing_else() {
        let keys = ApiKeys::new(&[Secret::new("first-key".into()), Secret::new("second-key".into())]);
        assert!(keys.verify(b"first-key"));
        assert!(keys.verify(b"second-key"));
        for wrong in [&b""[..], b"first-ke", b"first-key ", b"FIRST-KEY", b"third"] {
            assert!(!keys.verify(wrong), "{wrong:?}");
        }
        assert!(!ApiKeys::new(&[]).verify(b""));
    }

    #[test]
    fn fingerprint_is_short_and_not_the_key() {
        let f = fingerprint(b"super-secret-admin-key-0123456789");
        assert!(f.starts_with("key:"));
        assert_eq!(f.len(), 4 + 12);
        assert!(!f.contains("super"));
        assert_eq!(f, fingerprint(b"super-secret-admin-key-0123456789"));
    }
}
