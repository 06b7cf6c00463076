//! One decoder for every TikTok answer, whichever envelope it uses.
//!
//! TikTok speaks two dialects:
//! - the flat OAuth form of the token and revoke endpoints: success
//!   `{"access_token": …, …}`, failure `{"error": "invalid_grant", "error_description": …,
//!   "log_id": …}` — and failures often come with HTTP **200**;
//! - the v2 envelope of the Display API: `{"data": …, "error": {"code": "ok", "message": …,
//!   "log_id": …}}` (a legacy numeric `code: 0` also means success).
//!
//! The body decides. A call succeeds only when the body says so (`code` `"ok"`/`0`, or a
//! token body carrying `access_token`) **and** the status is 2xx; a body naming an error is
//! that error whatever the status; a body that says nothing (not JSON, no envelope) is judged
//! by the status.

use std::time::Duration;

use hub_ports::TikTokError;
use serde_json::{Map, Value};

/// What a successful answer carried.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Success {
    /// A v2 envelope whose `error.code` was `"ok"` or `0`: its `data` (`Null` when absent).
    Envelope(Value),
    /// A flat token answer (an object with `access_token`).
    Token(Map<String, Value>),
    /// 2xx with an empty body or a JSON object naming no error and no success marker
    /// (what `oauth/revoke/` answers). Only revoke accepts this.
    Bare,
}

/// The decoder's verdict on one HTTP answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    pub outcome: Result<Success, TikTokError>,
    /// TikTok's `log_id` from the body, when there was one.
    pub log_id: Option<String>,
    /// The server certainly did not act on the request: it said so with an explicit
    /// error code, a 429 or a 503. Non-idempotent calls (the token endpoint) retry only
    /// such failures; see `client.rs`.
    pub server_declined: bool,
}

/// Decodes one answer: `status` and the raw `body`.
pub(crate) fn decode(status: u16, body: &[u8]) -> Decoded {
    let ok_status = (200..300).contains(&status);
    let trimmed = body.trim_ascii();
    let by_status = |what: &str| Decoded {
        outcome: Err(if ok_status {
            rejected("invalid_response", format!("HTTP {status} with {what}"))
        } else {
            from_status(status, what)
        }),
        log_id: None,
        server_declined: matches!(status, 429 | 503),
    };
    if trimmed.is_empty() {
        return if ok_status {
            Decoded { outcome: Ok(Success::Bare), log_id: None, server_declined: false }
        } else {
            by_status("an empty body")
        };
    }
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(trimmed) else {
        return by_status("a body that is not a JSON object");
    };

    match obj.get("error") {
        // Flat OAuth error: {"error":"invalid_grant","error_description":…,"log_id":…}
        Some(Value::String(code)) if !code.is_empty() => {
            let log_id = text(obj.get("log_id"));
            let desc = text(obj.get("error_description")).unwrap_or_default();
            Decoded { outcome: Err(from_code(code, &desc, status, log_id.as_deref())), log_id, server_declined: true }
        }
        // v2 envelope: {"data":…,"error":{"code":…,"message":…,"log_id":…}}
        Some(Value::Object(err)) => {
            let log_id = text(err.get("log_id")).or_else(|| text(obj.get("log_id")));
            let code = match err.get("code") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            match code.as_deref() {
                Some("ok" | "0") if ok_status => Decoded {
                    outcome: Ok(Success::Envelope(obj.get("data").cloned().unwrap_or(Value::Null))),
                    log_id,
                    server_declined: false,
                },
                Some("ok" | "0") | None => Decoded { log_id, ..by_status("an envelope without an error code") },
                Some(code) => {
                    let msg = text(err.get("message")).unwrap_or_default();
                    Decoded {
                        outcome: Err(from_code(code, &msg, status, log_id.as_deref())),
                        log_id,
                        server_declined: true,
                    }
                }
            }
        }
        // No error named.
        _ => {
            let log_id = text(obj.get("log_id"));
            if !ok_status {
                return Decoded { log_id, ..by_status("a JSON body naming no error") };
            }
            let is_token = matches!(obj.get("access_token"), Some(Value::String(s)) if !s.is_empty());
            Decoded {
                outcome: Ok(if is_token { Success::Token(obj) } else { Success::Bare }),
                log_id,
                server_declined: false,
            }
        }
    }
}

/// Maps an error code TikTok named (OAuth or v2) to what the caller should do.
pub(crate) fn from_code(code: &str, message: &str, status: u16, log_id: Option<&str>) -> TikTokError {
    let msg = with_log_id(message, log_id);
    match code {
        "invalid_grant" => TikTokError::InvalidGrant { description: msg },
        "server_error" | "temporarily_unavailable" | "internal_error" => {
            TikTokError::Transient { message: format!("{code}: {msg}") }
        }
        "rate_limit_exceeded" => TikTokError::RateLimited { retry_after: None },
        "access_token_invalid" => TikTokError::AccessTokenInvalid,
        "scope_not_authorized" | "scope_permission_missed" => TikTokError::ScopeMissing { code: code.to_string() },
        "invalid_params"
        | "invalid_client"
        | "invalid_request"
        | "invalid_scope"
        | "unauthorized_client"
        | "unsupported_grant_type"
        | "unsupported_response_type"
        | "access_denied" => rejected(code, msg),
        // A code we do not know: the status is the best hint left.
        _ => match status {
            429 => TikTokError::RateLimited { retry_after: None },
            408 | 500..=599 => TikTokError::Transient { message: format!("{code}: {msg} (HTTP {status})") },
            _ => rejected(code, msg),
        },
    }
}

/// Judges an answer whose body said nothing usable, by its status alone.
pub(crate) fn from_status(status: u16, what: &str) -> TikTokError {
    match status {
        429 => TikTokError::RateLimited { retry_after: None },
        408 | 500..=599 => TikTokError::Transient { message: format!("HTTP {status} with {what}") },
        _ => rejected(&format!("http_{status}"), format!("HTTP {status} with {what}")),
    }
}

pub(crate) fn rejected(code: &str, message: impl Into<String>) -> TikTokError {
    TikTokError::Rejected { code: code.to_string(), message: message.into() }
}

fn with_log_id(message: &str, log_id: Option<&str>) -> String {
    match log_id {
        Some(id) if !id.is_empty() => format!("{message} (log_id {id})"),
        _ => message.to_string(),
    }
}

/// A string field, tolerating numbers; `None` for absent, null or empty.
pub(crate) fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A 64-bit count: absent, null or garbage → 0; numbers and numeric strings accepted.
pub(crate) fn count(v: Option<&Value>) -> i64 {
    opt_i64(v).unwrap_or(0)
}

/// An optional integer, tolerating floats and numeric strings.
pub(crate) fn opt_i64(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
            .or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses a `Retry-After` header given in seconds (TikTok documents none; honour one if sent).
pub(crate) fn retry_after(value: Option<&str>) -> Option<Duration> {
    value?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, PartialEq)]
    enum Want {
        Envelope,
        Token,
        Bare,
        Err(&'static str),
    }

    fn check(status: u16, body: &str, want: Want) {
        let d = decode(status, body.as_bytes());
        let got = match &d.outcome {
            Ok(Success::Envelope(_)) => Want::Envelope,
            Ok(Success::Token(_)) => Want::Token,
            Ok(Success::Bare) => Want::Bare,
            Err(e) => Want::Err(e.reason()),
        };
        assert_eq!(got, want, "status {status} body {body:?} → {:?}", d.outcome);
    }

    #[test]
    fn decision_table() {
        use Want::*;
        let cases: &[(u16, &str, Want)] = &[
            // v2 envelope successes
            (200, r#"{"data":{"user":{}},"error":{"code":"ok","message":"","log_id":"L1"}}"#, Envelope),
            (200, r#"{"data":{},"error":{"code":0,"message":""}}"#, Envelope),
            (200, r#"{"data":{},"error":{"code":"0"}}"#, Envelope),
            (200, r#"{"error":{"code":"ok"}}"#, Envelope),
            // "ok" body with a failing status is judged by the status
            (500, r#"{"data":{},"error":{"code":"ok"}}"#, Err("transient")),
            (404, r#"{"data":{},"error":{"code":"ok"}}"#, Err("rejected")),
            // v2 errors, with their usual statuses and with HTTP 200
            (
                401,
                r#"{"data":{},"error":{"code":"access_token_invalid","message":"x","log_id":"L"}}"#,
                Err("access_token_invalid"),
            ),
            (200, r#"{"data":{},"error":{"code":"access_token_invalid","message":"x"}}"#, Err("access_token_invalid")),
            (401, r#"{"error":{"code":"scope_not_authorized","message":"x"}}"#, Err("scope_missing")),
            (400, r#"{"error":{"code":"scope_permission_missed","message":"x"}}"#, Err("scope_missing")),
            (400, r#"{"error":{"code":"invalid_params","message":"x"}}"#, Err("rejected")),
            (429, r#"{"error":{"code":"rate_limit_exceeded","message":"x"}}"#, Err("rate_limited")),
            (200, r#"{"error":{"code":"rate_limit_exceeded","message":"x"}}"#, Err("rate_limited")),
            (500, r#"{"error":{"code":"internal_error","message":"x"}}"#, Err("transient")),
            (200, r#"{"error":{"code":"internal_error","message":"x"}}"#, Err("transient")),
            // legacy numeric error codes: unknown, so the status decides
            (200, r#"{"data":{},"error":{"code":10002,"message":"x"}}"#, Err("rejected")),
            (503, r#"{"data":{},"error":{"code":10002,"message":"x"}}"#, Err("transient")),
            (429, r#"{"error":{"code":"some_new_limit","message":"x"}}"#, Err("rate_limited")),
            // envelope without a code: not a success
            (200, r#"{"data":{"user":{}},"error":{}}"#, Err("rejected")),
            (200, r#"{"data":{"user":{}}}"#, Bare),
            // flat OAuth successes and errors, with HTTP 200 and 400
            (
                200,
                r#"{"access_token":"act.x","refresh_token":"rft.y","open_id":"o","expires_in":1,"refresh_expires_in":2,"scope":"a","token_type":"Bearer"}"#,
                Token,
            ),
            (200, r#"{"error":"invalid_grant","error_description":"gone","log_id":"L"}"#, Err("invalid_grant")),
            (400, r#"{"error":"invalid_grant","error_description":"gone"}"#, Err("invalid_grant")),
            (200, r#"{"error":"invalid_client","error_description":"bad"}"#, Err("rejected")),
            (200, r#"{"error":"invalid_request","error_description":"bad"}"#, Err("rejected")),
            (200, r#"{"error":"unsupported_grant_type"}"#, Err("rejected")),
            (200, r#"{"error":"server_error","error_description":"x"}"#, Err("transient")),
            (500, r#"{"error":"server_error","error_description":"x"}"#, Err("transient")),
            (200, r#"{"error":"temporarily_unavailable"}"#, Err("transient")),
            (200, r#"{"error":"rate_limit_exceeded"}"#, Err("rate_limited")),
            // token body refused by the status
            (500, r#"{"access_token":"act.x"}"#, Err("transient")),
            // an empty "error" string names no error
            (200, r#"{"access_token":"act.x","error":""}"#, Token),
            (200, r#"{"access_token":""}"#, Bare),
            // revoke's answers
            (200, "{}", Bare),
            (200, "", Bare),
            (200, "  \n", Bare),
            // non-JSON bodies: judged by status
            (502, "<html>Bad Gateway</html>", Err("transient")),
            (504, "", Err("transient")),
            (429, "Too Many Requests", Err("rate_limited")),
            (408, "timeout", Err("transient")),
            (404, "<html>not found</html>", Err("rejected")),
            (400, "", Err("rejected")),
            (302, "", Err("rejected")),
            (200, "<html>captive portal</html>", Err("rejected")),
            (200, "[1,2]", Err("rejected")),
            (200, "null", Err("rejected")),
            // JSON naming no error with a failing status
            (503, r#"{"message":"down"}"#, Err("transient")),
            (401, r#"{"message":"nope"}"#, Err("rejected")),
        ];
        for (status, body, want) in cases {
            let want = match want {
                Envelope => Envelope,
                Token => Token,
                Bare => Bare,
                Err(r) => Err(r),
            };
            check(*status, body, want);
        }
    }

    #[test]
    fn keeps_tiktok_messages_and_log_ids() {
        let d = decode(
            200,
            br#"{"error":"invalid_grant","error_description":"Refresh token is invalid.","log_id":"20240101ABC"}"#,
        );
        assert_eq!(d.log_id.as_deref(), Some("20240101ABC"));
        assert!(d.server_declined);
        assert_eq!(
            d.outcome,
            Result::Err(TikTokError::InvalidGrant {
                description: "Refresh token is invalid. (log_id 20240101ABC)".into()
            })
        );
        let d =
            decode(400, br#"{"data":{},"error":{"code":"invalid_params","message":"Invalid field: x","log_id":"L9"}}"#);
        assert_eq!(d.log_id.as_deref(), Some("L9"));
        assert_eq!(
            d.outcome,
            Result::Err(TikTokError::Rejected {
                code: "invalid_params".into(),
                message: "Invalid field: x (log_id L9)".into()
            })
        );
        let d = decode(401, br#"{"error":{"code":"scope_not_authorized","message":"m"}}"#);
        assert_eq!(d.outcome, Result::Err(TikTokError::ScopeMissing { code: "scope_not_authorized".into() }));
    }

    #[test]
    fn envelope_data_is_handed_over() {
        let d = decode(200, br#"{"data":{"user":{"open_id":"o1"}},"error":{"code":"ok"}}"#);
        assert_eq!(d.outcome, Ok(Success::Envelope(json!({"user":{"open_id":"o1"}}))));
        let d = decode(200, br#"{"error":{"code":0}}"#);
        assert_eq!(d.outcome, Ok(Success::Envelope(Value::Null)));
    }

    #[test]
    fn server_declined_only_when_the_server_said_so() {
        assert!(decode(503, b"").server_declined);
        assert!(decode(429, b"slow down").server_declined);
        assert!(!decode(502, b"<html>").server_declined);
        assert!(!decode(504, b"").server_declined);
        assert!(decode(500, br#"{"error":"server_error"}"#).server_declined);
    }

    #[test]
    fn lenient_fields() {
        assert_eq!(count(None), 0);
        assert_eq!(count(Some(&Value::Null)), 0);
        assert_eq!(count(Some(&json!(9_007_199_254_740_993_i64))), 9_007_199_254_740_993);
        assert_eq!(count(Some(&json!("12"))), 12);
        assert_eq!(count(Some(&json!(3.0))), 3);
        assert_eq!(count(Some(&json!("x"))), 0);
        assert_eq!(text(Some(&json!(7_300_000_000_000_000_001_u64))).as_deref(), Some("7300000000000000001"));
        assert_eq!(text(Some(&json!(""))), None);
        assert_eq!(retry_after(Some(" 3 ")), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT")), None);
    }
}
