//! The token ciphertext decoder (`AesGcmCipher::decrypt`): `<key id>:<base64url(nonce ‖
//! ciphertext ‖ tag)>` with the row's binding as associated data. No input is ever decrypted
//! (a fuzzer cannot forge a GCM tag), none panics, and the stale check copes with it too.

#![no_main]

use hub_domain::Secret;
use hub_engine::AesGcmCipher;
use hub_ports::TokenCipher;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let keys = [("k2".to_owned(), Secret::new([0x42; 32])), ("k1".to_owned(), Secret::new([0x17; 32]))];
    let cipher = AesGcmCipher::new(&keys).expect("valid keys");
    let text = String::from_utf8_lossy(data);
    for binding in ["store_01/access", "store_01/refresh", ""] {
        if let Ok(plain) = cipher.decrypt(&text, binding) {
            panic!("decrypted a forged ciphertext {text:?} ({binding:?}) to {} bytes", plain.expose().len());
        }
    }
    let _ = cipher.is_stale(&text);
});
