//! `POST /webhooks/tiktok`: a forged signature, a stale timestamp, another app's client key
//! and a malformed body are refused with no side effect; a signed `authorization.removed`
//! marks the store's account revoked with TikTok's reason, once.

use hub_domain::*;
use hub_engine::testing::t0;
use hub_http::HttpConfig;
use hub_http::tiktok_webhook::{WebhookKeys, sign};

use crate::support::*;

const SECRET: &str = "webhook-test-client-secret";

fn harness_with_keys() -> Harness {
    let config = HttpConfig {
        tiktok_webhook: WebhookKeys {
            client_key: "ck".into(),
            client_secret: Secret::new(SECRET.into()),
            tolerance: std::time::Duration::from_secs(300),
        },
        ..http_config()
    };
    let h = Harness::with(config, Default::default());
    {
        let mut w = h.world();
        w.add_spec_store("store_jakarta_01", "Jakarta");
        w.connect_spec("store_jakarta_01");
    }
    h
}

fn body(client_key: &str, reason: &str) -> String {
    format!(
        r#"{{"client_key":"{client_key}","event":"authorization.removed","create_time":{},"user_openid":"user_open_id_123","content":"{{\"reason\":{reason}}}"}}"#,
        t0().timestamp()
    )
}

fn delivery(body: &str, secret: &str, t: i64) -> actix_web::test::TestRequest {
    post("/webhooks/tiktok")
        .insert_header(("Content-Type", "application/json"))
        .insert_header(("TikTok-Signature", format!("t={t},s={}", sign(secret, t, body.as_bytes()))))
        .set_payload(body.to_owned())
}

/// What a delivery may change: the account, the audit trail, the stored events.
fn snapshot(h: &Harness) -> (ConnectionStatus, bool, usize, usize) {
    let w = h.world();
    let a = &w.accounts["store_jakarta_01"];
    (a.status, a.tokens.is_some(), w.audit.len(), w.tiktok_events.len())
}

#[actix_web::test]
async fn refusals_change_nothing() {
    let h = harness_with_keys();
    let app = app!(h);
    let now = t0().timestamp();
    let before = snapshot(&h);
    let good = body("ck", "1");
    let cases = [
        ("forged signature", delivery(&good, "not-the-secret", now), 401),
        ("10 minutes old", delivery(&good, SECRET, now - 600), 401),
        ("another app", delivery(&body("other-app", "1"), SECRET, now), 400),
        ("malformed body", delivery("{\"client_key\":\"ck\",", SECRET, now), 400),
        ("unknown reason", delivery(&body("ck", "7"), SECRET, now), 400),
        ("no signature", post("/webhooks/tiktok").set_payload(good.clone()), 401),
    ];
    for (name, req, want) in cases {
        let (status, _, text) = call!(app, req);
        assert_eq!(status, want, "{name}: {text}");
        assert_eq!(snapshot(&h), before, "{name} changed something");
    }
}

#[actix_web::test]
async fn a_removed_authorization_marks_the_store_once() {
    let h = harness_with_keys();
    let app = app!(h);
    let good = body("ck", "1");
    let (status, _, text) = call!(app, delivery(&good, SECRET, t0().timestamp()));
    assert_eq!(status, 200, "{text}");
    let after = snapshot(&h);
    assert_eq!(after, (ConnectionStatus::NeedReconnect(ReconnectReason::Revoked), false, 1, 1));
    {
        let w = h.world();
        let row = &w.audit[0];
        assert_eq!((row.action.as_str(), row.outcome), ("account.revoked", AuditOutcome::Success));
        assert_eq!(row.store_code.as_ref().map(StoreCode::as_str), Some("store_jakarta_01"));
    }
    let (_, _, store) = call_json!(app, admin_get("/admin/stores/store_jakarta_01"));
    assert_eq!(store["data"]["connectionStatus"], "NEED_RECONNECT");
    assert_eq!(store["data"]["connectionReason"], "REVOKED");
    assert_eq!(store["data"]["revokeReason"], "user disconnected");

    // TikTok delivers again (a retry, a duplicate): acknowledged, nothing more.
    let (status, _, _) = call!(app, delivery(&good, SECRET, t0().timestamp() + 5));
    assert_eq!(status, 200);
    assert_eq!(snapshot(&h), after);

    // Another event: acknowledged and stored, nothing else.
    let other = good.replace("authorization.removed", "video.publish.completed");
    let (status, _, _) = call!(app, delivery(&other, SECRET, t0().timestamp()));
    assert_eq!(status, 200);
    assert_eq!(snapshot(&h).3, 2);
    assert_eq!(snapshot(&h).2, 1);
}
