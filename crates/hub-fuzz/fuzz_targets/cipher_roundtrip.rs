//! The token cipher round trip: any plaintext under any binding (associated data) decrypts to
//! itself, and any single changed byte (of the raw nonce ‖ ciphertext ‖ tag, or of the stored
//! text), a wrong binding or another key are all refused.

#![no_main]

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hub_domain::Secret;
use hub_engine::AesGcmCipher;
use hub_ports::TokenCipher;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    plaintext: String,
    binding: String,
    position: usize,
    flip: u8,
}

fuzz_target!(|input: Input| {
    let Input { plaintext, binding, position, flip } = input;
    let key = |id: &str, fill: u8| (id.to_owned(), Secret::new([fill; 32]));
    let cipher = AesGcmCipher::new(&[key("k2", 0x42), key("k1", 0x17)]).expect("valid keys");
    let ct = cipher.encrypt(&plaintext, &binding);
    let back = cipher.decrypt(&ct, &binding).expect("a fresh ciphertext decrypts");
    assert_eq!(back.expose(), &plaintext);
    assert!(!cipher.is_stale(&ct));

    let mask = flip.max(1);
    // One flipped byte of the raw nonce ‖ ciphertext ‖ tag.
    let (id, b64) = ct.split_once(':').expect("key id prefix");
    let mut raw = URL_SAFE_NO_PAD.decode(b64).expect("base64url");
    let i = position % raw.len();
    raw[i] ^= mask;
    let tampered = format!("{id}:{}", URL_SAFE_NO_PAD.encode(&raw));
    assert!(cipher.decrypt(&tampered, &binding).is_err(), "accepted raw byte {i} ^ {mask:#04x}");

    // One changed byte of the stored text (when it stays text).
    let mut bytes = ct.clone().into_bytes();
    let j = position % bytes.len();
    bytes[j] ^= mask;
    if let Ok(tampered) = String::from_utf8(bytes) {
        assert!(cipher.decrypt(&tampered, &binding).is_err(), "accepted text byte {j} ^ {mask:#04x}: {tampered}");
    }

    // Another binding, and a cipher without the key.
    let other = format!("{binding}\0");
    assert!(cipher.decrypt(&ct, &other).is_err(), "accepted another binding");
    let stranger = AesGcmCipher::new(&[key("k2", 0x43)]).expect("valid key");
    assert!(stranger.decrypt(&ct, &binding).is_err(), "another key decrypted it");
});
