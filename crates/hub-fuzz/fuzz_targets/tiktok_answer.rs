//! TikTok's answers (hub-tiktok's decoder): both error envelopes and the answers of the token,
//! revoke, user/info, video/list and video/query calls, from status and body to what the client
//! returns, then a grant on to the expiries the engine stores.
//!
//! Input: byte 0 picks the call, bytes 1-2 are the HTTP status (big-endian), the rest is the
//! body. Asserted: no panic; success only with a 2xx status; a grant carries both tokens and
//! an open id; no error text holds the call's secrets.

#![no_main]

use chrono::{DateTime, Utc};
use hub_tiktok::fuzzing::{Answer, Call, answer, retry_after};
use libfuzzer_sys::fuzz_target;

const SECRETS: [&str; 2] = ["act.fuzz-access-token-0001", "fuzz-client-secret"];

fuzz_target!(|data: &[u8]| {
    let [pick, hi, lo, body @ ..] = data else { return };
    let call = Call::ALL[usize::from(*pick) % Call::ALL.len()];
    let status = u16::from_be_bytes([*hi, *lo]);
    match answer(call, status, body, &SECRETS) {
        Ok(a) => {
            assert!((200..300).contains(&status), "{call:?} succeeded with HTTP {status}");
            if let Answer::Grant(g) = a {
                assert!(!g.access_token.expose().is_empty() && !g.refresh_token.expose().is_empty());
                assert!(!g.open_id.is_empty());
                let now = DateTime::<Utc>::from_timestamp(1_769_245_200, 0).expect("a valid time");
                let meta = hub_engine::tokens::token_meta(&g, now);
                assert!(meta.access_expires_at >= now && meta.refresh_expires_at >= now);
            }
        }
        Err(e) => {
            let text = e.to_string();
            for s in SECRETS {
                assert!(!text.contains(s), "{call:?} error shows a secret: {text}");
            }
        }
    }
    let _ = retry_after(&String::from_utf8_lossy(body));
});
