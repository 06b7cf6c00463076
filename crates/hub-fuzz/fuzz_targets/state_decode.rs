//! The OAuth `state` decoder (`StateCodec::verify`).
//!
//! Every input, read as text, is refused by a codec with a fixed secret: a fuzzer cannot
//! forge an HMAC, so accepting one would be a bug. The same bytes are also signed as a payload
//! with that secret, which takes the decoder past the signature into its payload parsing:
//! it never panics, and what it accepts says exactly what the payload holds.

#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use hub_engine::StateCodec;
use hub_engine::state::sha256_hex;
use libfuzzer_sys::fuzz_target;
use ring::hmac;

const SECRET: &[u8] = b"fuzz-state-secret-0123456789abcdef";
/// Payload: version(1) ‖ nonce(16) ‖ issued_at(i64 BE) ‖ store code.
const HEADER_LEN: usize = 1 + 16 + 8;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_769_245_200, 0).expect("a valid time") // 2026-01-24T09:00:00Z
}

fuzz_target!(|data: &[u8]| {
    let codec = StateCodec::new(SECRET, Duration::minutes(10));

    let text = String::from_utf8_lossy(data);
    if let Ok(v) = codec.verify(&text, now()) {
        panic!("accepted an unsigned state {text:?}: {v:?}");
    }

    // The same bytes as a payload signed with the secret.
    let key = hmac::Key::new(hmac::HMAC_SHA256, SECRET);
    let tag = hmac::sign(&key, data);
    let state = format!("{}.{}", URL_SAFE_NO_PAD.encode(data), URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let Ok(v) = codec.verify(&state, now()) else { return };
    assert!(state.len() <= 256, "accepted a state of {} bytes", state.len());
    assert!(data.len() > HEADER_LEN && data[0] == 1, "accepted a payload without version 1 and a code");
    assert_eq!(v.nonce_hash, sha256_hex(&data[1..17]));
    let secs = i64::from_be_bytes(data[17..HEADER_LEN].try_into().expect("8 bytes"));
    assert_eq!(v.issued_at.timestamp(), secs);
    assert_eq!(v.store_code.as_str().as_bytes(), &data[HEADER_LEN..]);
    assert!(now() - v.issued_at < Duration::minutes(10) && v.issued_at - now() <= Duration::minutes(1));
});
