//! A store's lifecycle end to end: disconnect and archive call the sandbox's revoke, after
//! which the sandbox refuses the old tokens; history stays; restore brings the store back.

use hub_engine::AesGcmCipher;
use hub_engine::cipher::{TokenKind, binding};
use hub_ports::{AccountRepo, TokenCipher};
use serde_json::{Value, json};
use tiktok_sandbox::SandboxConfig;

use crate::support::*;

pub(crate) fn sandbox() -> SandboxConfig {
    SandboxConfig { accounts: 3, videos_per_account: 3, rate_limit_per_min: 0, ..SandboxConfig::default() }
}

/// The store's access token in plain text, as the hub stored it (the test knows the key).
async fn access_token(hub: &Hub, code: &str) -> String {
    let key: [u8; 32] = hex_key(ENC_KEY);
    let cipher = AesGcmCipher::new(&[("k1".into(), hub_domain::Secret::new(key))]).unwrap();
    let account = hub.db.db().for_store(&hub_domain::StoreCode::parse(code).unwrap()).await.unwrap().unwrap();
    let tokens = account.tokens.expect("tokens stored");
    cipher.decrypt(&tokens.access, &binding(code, TokenKind::Access)).unwrap().expose().clone()
}

fn hex_key(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// The sandbox's user/info answer code for `token`.
async fn user_info_code(hub: &Hub, token: &str) -> String {
    let r: Value = hub
        .http
        .get(format!("{}/v2/user/info/?fields=open_id", hub.sandbox.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["error"]["code"].as_str().unwrap_or_default().to_owned()
}

pub(crate) async fn setup(hub: &Hub, code: &str, account: usize) -> String {
    let (s, _) = hub.post("/admin/stores", json!({"store_code": code, "store_name": "S", "pic_name": "P"})).await;
    assert_eq!(s, 201);
    let (s, page) = hub.connect(code, Some(account)).await;
    assert_eq!(s, 200, "{page}");
    let (s, run) = hub.post("/admin/sync/run", json!({"job": "user"})).await;
    assert_eq!(s, 200, "{run}");
    let token = access_token(hub, code).await;
    assert_eq!(user_info_code(hub, &token).await, "ok");
    token
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnect_and_archive_revoke_at_tiktok_keep_history_and_restore_works() {
    let hub = Hub::start(sandbox(), &[]).await;
    let old_a = setup(&hub, "shop_a", 1).await;
    let old_b = setup(&hub, "shop_b", 2).await;
    let (_, history_a) = hub.get("/admin/stores/shop_a/user-stats?days=7").await;
    let (_, history_b) = hub.get("/admin/stores/shop_b/user-stats?days=7").await;
    assert_eq!(history_a["count"], 1);
    let revokes = hub.sandbox.stats().revoke.calls;

    // Disconnect: revoked at TikTok, tokens wiped, status DISCONNECTED, history kept.
    let (s, d) = hub.post("/admin/stores/shop_a/disconnect", json!({})).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!((d["data"]["changed"].as_bool(), d["data"]["revoke"].as_str()), (Some(true), Some("revoked")));
    assert_eq!(d["data"]["store"]["connectionStatus"], "DISCONNECTED");
    assert_eq!(hub.sandbox.stats().revoke.calls, revokes + 1);
    assert_eq!(user_info_code(&hub, &old_a).await, "access_token_invalid");
    let account = hub.db.db().for_store(&hub_domain::StoreCode::parse("shop_a").unwrap()).await.unwrap().unwrap();
    assert_eq!(account.tokens, None);
    assert_eq!(hub.get("/admin/stores/shop_a/user-stats?days=7").await.1, history_a);
    // Idempotent: nothing more at TikTok.
    let (s, again) = hub.post("/admin/stores/shop_a/disconnect", json!({})).await;
    assert_eq!((s, again["data"]["changed"].as_bool()), (200, Some(false)));
    assert_eq!(hub.sandbox.stats().revoke.calls, revokes + 1);

    // Archive: revoked too, out of the list, back with include=archived; history kept.
    let (s, a) = hub.admin(reqwest::Method::DELETE, "/admin/stores/shop_b", None).await;
    assert_eq!(s, 200, "{a}");
    assert_eq!(a["data"]["revoke"], "revoked");
    assert_eq!(user_info_code(&hub, &old_b).await, "access_token_invalid");
    let codes = |v: &Value| -> Vec<String> {
        v["data"].as_array().unwrap().iter().map(|s| s["storeCode"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(codes(&hub.get("/admin/stores").await.1), ["shop_a"]);
    let (_, all) = hub.get("/admin/stores?include=archived").await;
    assert_eq!(codes(&all), ["shop_a", "shop_b"]);
    assert!(all["data"][1]["archivedAt"].is_string());
    assert_eq!(hub.get("/admin/stores/shop_b/user-stats?days=7").await.1, history_b);
    let (s, link) = hub.post("/admin/stores/shop_b/connect-link", json!({})).await;
    assert_eq!(s, 409, "an archived store gets no connect link: {link}");

    // Restore: back in the list, still disconnected, and it can be connected again.
    let (s, r) = hub.post("/admin/stores/shop_b/restore", json!({})).await;
    assert_eq!((s, r["data"]["changed"].as_bool()), (200, Some(true)));
    assert_eq!(codes(&hub.get("/admin/stores").await.1), ["shop_a", "shop_b"]);
    assert_eq!(r["data"]["store"]["connectionStatus"], "DISCONNECTED");
    let (s, page) = hub.connect("shop_b", Some(2)).await;
    assert_eq!(s, 200, "{page}");

    // Links: a new one revokes the old; DELETE revokes all.
    let (_, first) = hub.post("/admin/stores/shop_a/connect-link", json!({})).await;
    let (_, _second) = hub.post("/admin/stores/shop_a/connect-link", json!({})).await;
    let old_link = first["data"]["url"].as_str().unwrap();
    let r = hub.http.get(old_link).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403, "the older link is revoked");
    let (s, d) = hub.admin(reqwest::Method::DELETE, "/admin/stores/shop_a/connect-link", None).await;
    assert_eq!((s, d["data"]["revoked"].as_u64()), (200, Some(1)));

    // Every change audited.
    let (_, audit) = hub.get("/admin/audit-logs?limit=100").await;
    let actions: Vec<&str> = audit["data"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    for a in ["store.disconnect", "store.archive", "store.restore", "connect_link.revoke"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "store.disconnect").count(), 2);
}

/// Polls `check` every 50 ms until it holds or `limit` passes; whether it held.
pub(crate) async fn within(limit: std::time::Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Has the sandbox revoke `code`'s account with TikTok's `reason` and deliver the signed
/// `authorization.removed` to the hub twice (TikTok delivers at least once).
pub(crate) async fn deauthorize_twice(hub: &Hub, code: &str, reason: u8) {
    let store = hub.get(&format!("/admin/stores/{code}")).await.1;
    let open_id = store["data"]["accountIdentifier"].as_str().unwrap().to_owned();
    let url = hub.url("/webhooks/tiktok");
    hub.sandbox.update(|k| {
        k.webhook_url = Some(url);
        k.webhook_duplicates = 1;
    });
    let r = hub
        .http
        .post(format!("{}/sandbox/accounts/{open_id}/deauthorize?reason={reason}", hub.sandbox.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn tiktok_deauthorization_reaches_the_store_within_seconds_once() {
    let hub = Hub::start(sandbox(), &[]).await;
    let old = setup(&hub, "shop_w", 1).await;
    deauthorize_twice(&hub, "shop_w", 1).await;
    let shows_it = within(std::time::Duration::from_secs(5), async || {
        let (_, s) = hub.get("/admin/stores/shop_w").await;
        s["data"]["connectionStatus"] == "NEED_RECONNECT" && s["data"]["revokeReason"] == "user disconnected"
    })
    .await;
    assert!(shows_it, "the store shows the revocation within 5 s");
    assert_eq!(user_info_code(&hub, &old).await, "access_token_invalid");

    // Both deliveries acknowledged; the second changed nothing.
    assert!(within(std::time::Duration::from_secs(5), async || hub.sandbox.webhook_attempts() == [200, 200]).await);
    let (_, audit) = hub.get("/admin/audit-logs?action=account.revoked").await;
    assert_eq!(audit["count"], 1, "{audit}");
    assert_eq!(audit["data"][0]["storeCode"], "shop_w");
    let (_, s) = hub.get("/admin/stores/shop_w").await;
    assert_eq!(s["data"]["connectionReason"], "REVOKED");
}
