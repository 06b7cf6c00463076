//! A refresh storm: two real hub instances on one database and one TikTok sandbox, every
//! store's token due, and both instances refreshing every store at the same moment (the
//! refresh job and a video run on one, a sync of each store on both). TikTok rotates refresh
//! tokens strictly: spending a rotated one again revokes the grant, so a refresh token spent
//! twice would leave its store NEED_RECONNECT.

use serde_json::{Value, json};
use tiktok_sandbox::{LatencyMs, Rotation, SandboxConfig, TokenProfile};

use crate::support::*;

const STORES: usize = 24;

/// This instance's `oauth/token` calls, from its `/metrics`.
async fn token_calls(instance: &Instance) -> f64 {
    let res = instance.http.get(instance.url("/metrics")).header("X-API-KEY", API_KEY).send().await.unwrap();
    let text = res.text().await.unwrap();
    let series = "tiktok_hub_tiktok_requests_total{endpoint=\"oauth/token\"} ";
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .parse()
        .unwrap()
}

async fn sync(instance: &Instance, body: Value) -> (u16, Value) {
    instance.post("/admin/sync/run", body).await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_refreshing_every_store_at_once_rotate_each_token_once() {
    // Connect-time tokens last 240 s (TikTok's 2-hour profile at ×30): every one is due for the
    // refresh job (6-hour window) and close enough to expiry that a sync refreshes it first.
    let sandbox = SandboxConfig {
        accounts: STORES,
        videos_per_account: 2,
        rate_limit_per_min: 0,
        token_profile: TokenProfile::New,
        time_scale: 30.0,
        rotation: Rotation::Strict,
        ..SandboxConfig::default()
    };
    let hub = Hub::start(sandbox, &[]).await;
    let other = hub.another(&[]).await;
    let stores = connect_stores(&hub, STORES).await;
    let due = "SELECT count(*) AS n FROM store_accounts WHERE token_expires_at < now() + interval '5 minutes'";
    assert_eq!(sql(&hub, due).await, STORES as i64, "every token is due");
    // From now on TikTok answers slowly and issues day-long tokens: one rotation per store is
    // all it takes, and the refreshes of both instances overlap.
    hub.sandbox.update(|k| {
        k.token_profile = TokenProfile::Classic;
        k.time_scale = 1.0;
        k.latency_ms = Some(LatencyMs { min: 100, max: 400 });
    });
    let before = hub.sandbox.stats().token;
    let (a_before, b_before) = (token_calls(&hub).await, token_calls(&other).await);

    // The storm: A's refresh job, B's video run, and a user sync of each store on both.
    let mut calls = tokio::task::JoinSet::new();
    let job = |instance: &Instance, body: Value| {
        let (base, http) = (instance.base.clone(), instance.http.clone());
        async move {
            let res = http.post(format!("{base}/admin/sync/run")).header("X-API-KEY", API_KEY).json(&body).send();
            let res = res.await.unwrap();
            let status = res.status().as_u16();
            (body, status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    calls.spawn(job(&hub.instance, json!({"job": "refresh_tokens"})));
    calls.spawn(job(&other, json!({"job": "video"})));
    for (code, _) in &stores {
        for instance in [&hub.instance, &other] {
            calls.spawn(job(instance, json!({"job": "user", "store_code": code})));
        }
    }
    let mut answers = 0;
    while let Some(r) = calls.join_next().await {
        let (asked, status, body) = r.unwrap();
        assert_eq!(status, 200, "{asked}: {body}");
        let data = &body["data"];
        if asked.get("store_code").is_some() {
            assert_eq!(data["success"], true, "{asked}: {body}");
        } else if asked["job"] == "video" {
            assert_eq!(data["video_sync"]["successful"], STORES, "{body}");
        } else {
            assert_eq!(data["refresh_tokens"]["failed"], 0, "{body}");
        }
        answers += 1;
    }
    assert_eq!(answers, 2 + 2 * STORES);

    let after = hub.sandbox.stats().token;
    let (a, b) = (token_calls(&hub).await - a_before, token_calls(&other).await - b_before);
    println!("refresh storm: {STORES} stores, token calls A {a} + B {b}, TikTok saw {}", after.calls - before.calls);
    assert_eq!(after.errors - before.errors, 0, "no refresh token was refused (none spent twice)");
    assert_eq!(after.calls - before.calls, STORES as u64, "one rotation per store, across both instances");
    assert_eq!(after.ok - before.ok, STORES as u64);
    assert_eq!(a + b, STORES as f64, "each rotation was one instance's call");

    let not_connected = "SELECT count(*) AS n FROM store_accounts WHERE status <> 'CONNECTED'";
    assert_eq!(sql(&hub, not_connected).await, 0, "no store ends NEED_RECONNECT");
    assert_eq!(sql(&hub, due).await, 0, "every store holds its rotated, day-long pair");
    let leases = "SELECT count(*) AS n FROM store_accounts WHERE refresh_lease_owner IS NOT NULL";
    assert_eq!(sql(&hub, leases).await, 0, "every lease was given back");

    // The stored pairs are the live ones: a user sync on either instance succeeds without a
    // token call.
    let (status, body) = sync(&other, json!({"job": "user"})).await;
    assert_eq!((status, &body["data"]["user_sync"]["successful"]), (200, &json!(STORES)), "{body}");
    assert_eq!(hub.sandbox.stats().token.calls, after.calls, "no further rotation");
}
