//! Tokens at rest: AES-256-GCM (ring) with a fresh random 96-bit nonce per encryption.
//!
//! A ciphertext reads `<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`. The associated data
//! is the caller's binding (`<store code>/access`, `<store code>/refresh`), so a ciphertext
//! copied to another row or column fails to decrypt. Several keys may be configured: the
//! first (newest) encrypts, every one decrypts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hub_domain::Secret;
use hub_ports::{CipherError, TokenCipher};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// The binding of a store's access or refresh token ciphertext.
pub fn binding(store_code: &str, which: TokenKind) -> String {
    format!("{store_code}/{}", which.as_str())
}

/// Which of an account's two tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// Why a key set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("at least one token key is required")]
    Empty,
    #[error("token key ids must be 1-16 letters or digits and unique")]
    BadId,
}

struct Key {
    id: String,
    key: LessSafeKey,
}

/// AES-256-GCM token cipher.
pub struct AesGcmCipher {
    /// Newest first.
    keys: Vec<Key>,
    rng: SystemRandom,
}

impl std::fmt::Debug for AesGcmCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|k| k.id.as_str()).collect();
        f.debug_struct("AesGcmCipher").field("key_ids", &ids).finish()
    }
}

impl AesGcmCipher {
    /// Builds the cipher from `(id, key)` pairs, newest first.
    pub fn new(keys: &[(String, Secret<[u8; 32]>)]) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut out: Vec<Key> = Vec::with_capacity(keys.len());
        for (id, key) in keys {
            let id_ok = !id.is_empty() && id.len() <= 16 && id.bytes().all(|b| b.is_ascii_alphanumeric());
            if !id_ok || out.iter().any(|k| &k.id == id) {
                return Err(KeyError::BadId);
            }
            let unbound = UnboundKey::new(&AES_256_GCM, key.expose()).map_err(|_| KeyError::Empty)?;
            out.push(Key { id: id.clone(), key: LessSafeKey::new(unbound) });
        }
        Ok(Self { keys: out, rng: SystemRandom::new() })
    }

    /// The id of the key that encrypts.
    pub fn newest_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Encrypts and decrypts a canary value: the health check's encryption self-test.
    pub fn self_test(&self) -> bool {
        let ct = self.encrypt("self-test", "health/self-test");
        self.decrypt(&ct, "health/self-test").is_ok_and(|p| p.expose() == "self-test")
    }
}

impl TokenCipher for AesGcmCipher {
    fn encrypt(&self, plaintext: &str, binding: &str) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("the system random source failed");
        let mut buf = Vec::with_capacity(NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        buf.extend_from_slice(&nonce);
        buf.extend_from_slice(plaintext.as_bytes());
        let mut body = buf.split_off(NONCE_LEN);
        key.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(binding.as_bytes()), &mut body)
            .expect("AES-GCM sealing cannot fail for inputs under 64 GiB");
        buf.extend_from_slice(&body);
        format!("{}:{}", key.id, URL_SAFE_NO_PAD.encode(&buf))
    }

    fn decrypt(&self, ciphertext: &str, binding: &str) -> Result<Secret<String>, CipherError> {
        let (id, b64) = ciphertext.split_once(':').ok_or(CipherError::Malformed)?;
        let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let raw = URL_SAFE_NO_PAD.decode(b64).map_err(|_| CipherError::Malformed)?;
        if raw.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(CipherError::Malformed);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Malformed)?;
        let mut body = body.to_vec();
        let plain =
            key.key.open_in_place(nonce, Aad::from(binding.as_bytes()), &mut body).map_err(|_| CipherError::Forged)?;
        String::from_utf8(plain.to_vec()).map(Secret::new).map_err(|_| CipherError::Forged)
    }

    fn is_stale(&self, ciphertext: &str) -> bool {
        ciphertext.split_once(':').is_none_or(|(id, _)| id != self.newest_key_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cipher(ids: &[(&str, u8)]) -> AesGcmCipher {
        let keys: Vec<(String, Secret<[u8; 32]>)> =
            ids.iter().map(|(id, fill)| ((*id).to_owned(), Secret::new([*fill; 32]))).collect();
        AesGcmCipher::new(&keys).unwrap()
    }

    #[test]
    fn round_trip_and_fresh_nonces() {
        let c = cipher(&[("k1", 7)]);
        let a = c.encrypt("act.token", "s1/access");
        let b = c.encrypt("act.token", "s1/access");
        assert_ne!(a, b, "each encryption uses a fresh nonce");
        assert!(a.starts_with("k1:"));
        assert_eq!(c.decrypt(&a, "s1/access").unwrap().expose(), "act.token");
        assert!(!a.contains("act.token"));
        assert!(c.self_test());
    }

    /// A 96-bit nonce from the system's random source per encryption: over 1,000 encryptions
    /// of one value the nonces are distinct and each of their 96 bits takes both values.
    #[test]
    fn every_encryption_draws_a_fresh_96_bit_nonce() {
        let c = cipher(&[("k1", 7)]);
        let nonces: Vec<u128> = (0..1000)
            .map(|_| {
                let ct = c.encrypt("act.same-token", "s1/access");
                let raw = URL_SAFE_NO_PAD.decode(ct.split_once(':').unwrap().1).unwrap();
                assert_eq!(raw.len(), NONCE_LEN + "act.same-token".len() + AES_256_GCM.tag_len());
                let mut n = [0u8; 16];
                n[4..].copy_from_slice(&raw[..NONCE_LEN]);
                u128::from_be_bytes(n)
            })
            .collect();
        let distinct: std::collections::HashSet<_> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len());
        let mask = (1u128 << 96) - 1;
        let (ones, zeros) = nonces.iter().fold((0u128, 0u128), |(o, z), n| (o | n, z | (!n & mask)));
        assert_eq!((ones, zeros), (mask, mask), "every nonce bit varies");
    }

    /// Exhaustively: each bit of a stored ciphertext (key id, nonce, body and tag, as stored
    /// text) flipped, with a second key configured: never decrypts.
    #[test]
    fn every_single_bit_flip_of_a_stored_ciphertext_is_rejected() {
        let c = cipher(&[("k1", 9), ("k3", 4)]);
        let stored = c.encrypt("act.0123456789abcdefghijklmnopqrstuvwxyz", "s/access");
        let mut tried = 0;
        for i in 0..stored.len() {
            for bit in 0..8 {
                let mut bytes = stored.clone().into_bytes();
                bytes[i] ^= 1 << bit;
                let Ok(flipped) = String::from_utf8(bytes) else { continue };
                assert!(c.decrypt(&flipped, "s/access").is_err(), "byte {i} bit {bit}: {flipped}");
                tried += 1;
            }
        }
        assert!(tried >= stored.len() * 7, "{tried}");
        assert!(c.decrypt(&stored, "s/access").is_ok());
    }

    #[test]
    fn binding_is_enforced() {
        let c = cipher(&[("k1", 7)]);
        let ct = c.encrypt("rft.token", &binding("s1", TokenKind::Refresh));
        let wrong = [binding("s2", TokenKind::Refresh), binding("s1", TokenKind::Access), String::new()];
        for b in wrong {
            assert_eq!(c.decrypt(&ct, &b), Err(CipherError::Forged), "{b}");
        }
    }

    #[test]
    fn rotation_old_keys_decrypt_newest_encrypts() {
        let old = cipher(&[("k1", 1)]);
        let ct_old = old.encrypt("t", "s/access");
        let rotated = cipher(&[("k2", 2), ("k1", 1)]);
        assert_eq!(rotated.decrypt(&ct_old, "s/access").unwrap().expose(), "t");
        assert!(rotated.is_stale(&ct_old));
        let ct_new = rotated.encrypt("t", "s/access");
        assert!(ct_new.starts_with("k2:"));
        assert!(!rotated.is_stale(&ct_new));
        assert_eq!(old.decrypt(&ct_new, "s/access"), Err(CipherError::UnknownKey("k2".into())));
    }

    #[test]
    fn malformed_inputs() {
        let c = cipher(&[("k1", 1)]);
        for bad in ["", "k1", "k1:", "k1:!!!", "k1:AAAA", "nocolon"] {
            assert!(matches!(c.decrypt(bad, "b"), Err(CipherError::Malformed)), "{bad:?}");
        }
        assert!(AesGcmCipher::new(&[]).is_err());
        let dup = [("k".to_owned(), Secret::new([0; 32])), ("k".to_owned(), Secret::new([1; 32]))];
        assert_eq!(AesGcmCipher::new(&dup).unwrap_err(), KeyError::BadId);
    }

    proptest! {
        #[test]
        fn any_flipped_bit_is_rejected(plain in "[ -~]{0,64}", pos in any::<usize>(), bit in 0u8..8) {
            let c = cipher(&[("k1", 9)]);
            let ct = c.encrypt(&plain, "s/access");
            let (id, b64) = ct.split_once(':').unwrap();
            let mut raw = URL_SAFE_NO_PAD.decode(b64).unwrap();
            let i = pos % raw.len();
            raw[i] ^= 1 << bit;
            let tampered = format!("{id}:{}", URL_SAFE_NO_PAD.encode(&raw));
            prop_assert!(c.decrypt(&tampered, "s/access").is_err());
        }

        #[test]
        fn decrypt_never_panics(input in "\\PC{0,120}") {
            let c = cipher(&[("k1", 9)]);
            let _ = c.decrypt(&input, "s/access");
        }

        #[test]
        fn round_trips_any_text(plain in "\\PC{0,200}") {
            let c = cipher(&[("k1", 3)]);
            let ct = c.encrypt(&plain, "x/refresh");
            let back = c.decrypt(&ct, "x/refresh").unwrap();
            prop_assert_eq!(back.expose(), &plain);
        }
    }
}
