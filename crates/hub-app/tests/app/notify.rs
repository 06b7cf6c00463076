//! Outgoing notifications end to end: the real hub, PostgreSQL, the TikTok sandbox and a
//! receiver listening on a local port (the hub runs with `WEBHOOK_ALLOW_PRIVATE=true` to reach
//! it).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::lifecycle::{deauthorize_twice, sandbox, setup, within};
use crate::support::*;

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: Vec<(String, String)>,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A tiny HTTP receiver: answers each request with the next status of its script (then 200)
/// and remembers what it got.
#[derive(Clone)]
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: &[u16]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://127.0.0.1:{}/hook", listener.local_addr().unwrap().port());
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.to_vec()));
        let (g, s) = (Arc::clone(&got), Arc::clone(&script));
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let (g, s) = (Arc::clone(&g), Arc::clone(&s));
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head, len) = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                            let len = head
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            buf.drain(..end + 4);
                            break (head, len);
                        }
                    };
                    while buf.len() < len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let headers = head
                        .lines()
                        .skip(1)
                        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
                        .collect();
                    g.lock().unwrap().push(Received { headers, body: String::from_utf8_lossy(&buf).into_owned() });
                    let status = {
                        let mut s = s.lock().unwrap();
                        if s.is_empty() { 200 } else { s.remove(0) }
                    };
                    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
                    let _ = sock.write_all(answer.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self { url, got }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Checks a Standard Webhooks signature as a receiver would: HMAC-SHA256 keyed with the
/// secret's base64 bytes over `id.timestamp.body`, compared in constant time.
fn signature_valid(secret: &str, r: &Received) -> bool {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").expect("whsec_ secret")).unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let signed = format!("{}.{}.{}", r.header("webhook-id"), r.header("webhook-timestamp"), r.body);
    r.header("webhook-signature").split(' ').any(|sig| {
        sig.strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|mac| ring::hmac::verify(&key, signed.as_bytes(), &mac).is_ok())
    })
}

async fn register(hub: &Hub, url: &str, events: &[&str]) -> (i64, String) {
    let (s, body) = hub.post("/admin/webhooks", json!({"url": url, "events": events})).await;
    assert_eq!(s, 201, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap().to_owned();
    (body["data"]["endpoint"]["id"].as_i64().unwrap(), secret)
}

const FAST: &[(&str, &str)] =
    &[("WEBHOOK_ALLOW_PRIVATE", "true"), ("WEBHOOK_POLL_MS", "100"), ("WEBHOOK_RETRY_BASE_MS", "100")];

#[tokio::test(flavor = "multi_thread")]
async fn a_deauthorization_sends_one_signed_needs_reconnect() {
    let hub = Hub::start(sandbox(), FAST).await;
    setup(&hub, "shop_n", 1).await;
    let receiver = Receiver::start(&[]).await;
    let (id, secret) = register(&hub, &receiver.url, &["store.needs_reconnect"]).await;
    // The secret is shown once: never in the list.
    let (_, list) = hub.get("/admin/webhooks").await;
    assert!(!list.to_string().contains(&secret), "{list}");
    assert_eq!(list["data"][0]["id"], id);

    deauthorize_twice(&hub, "shop_n", 1).await;
    assert!(within(Duration::from_secs(5), async || !receiver.received().is_empty()).await, "notified within 5 s");

    // TikTok's duplicate was acknowledged; several more delivery rounds pass: still one.
    assert!(within(Duration::from_secs(5), async || hub.sandbox.webhook_attempts() == [200, 200]).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 1, "{got:?}");
    let n = &got[0];
    assert!(signature_valid(&secret, n), "signature checks: {n:?}");
    let mut forged = n.clone();
    forged.body = forged.body.replace("shop_n", "shop_x");
    assert!(!signature_valid(&secret, &forged), "a changed body fails the check");
    let body = n.json();
    assert_eq!(body["type"], "store.needs_reconnect");
    assert_eq!(body["data"]["storeCode"], "shop_n");
    assert_eq!(body["data"]["reason"], "REVOKED");
    assert_eq!(body["data"]["revokeReason"], "user disconnected");
    assert!(n.header("webhook-id").starts_with("msg_"));

    let (_, d) = hub.get(&format!("/admin/webhooks/{id}/deliveries")).await;
    assert_eq!(d["count"], 1, "{d}");
    assert_eq!((d["data"][0]["success"].as_bool(), d["data"][0]["statusCode"].as_i64()), (Some(true), Some(200)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_receiver_failing_three_times_gets_one_successful_delivery_and_four_attempts_listed() {
    let hub = Hub::start(sandbox(), FAST).await;
    let receiver = Receiver::start(&[500, 503, 500]).await;
    let (id, secret) = register(&hub, &receiver.url, &["store.disconnected"]).await;
    let (s, _) = hub.post("/admin/stores", json!({"store_code": "shop_f", "store_name": "S", "pic_name": "P"})).await;
    assert_eq!(s, 201);
    let (s, a) = hub.admin(reqwest::Method::DELETE, "/admin/stores/shop_f", None).await;
    assert_eq!(s, 200, "{a}");

    assert!(within(Duration::from_secs(10), async || receiver.received().len() >= 4).await, "four attempts");
    // Later rounds send nothing more: the row is delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = receiver.received();
    assert_eq!(got.len(), 4, "{got:?}");
    let ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one message, retried: {ids:?}");
    assert!(got.iter().all(|r| signature_valid(&secret, r)));
    assert_eq!(got[3].json()["data"]["archived"], true);

    let (_, d) = hub.get(&format!("/admin/webhooks/{id}/deliveries")).await;
    assert_eq!(d["count"], 4, "{d}");
    let rows: Vec<(i64, i64, bool)> = d["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["attempt"].as_i64().unwrap(), r["statusCode"].as_i64().unwrap(), r["success"].as_bool().unwrap()))
        .collect();
    assert_eq!(rows, [(4, 200, true), (3, 500, false), (2, 503, false), (1, 500, false)]);
    let (_, list) = hub.get("/admin/webhooks").await;
    assert_eq!(
        (list["data"][0]["enabled"].as_bool(), list["data"][0]["consecutiveFailures"].as_i64()),
        (Some(true), Some(0))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn internal_webhook_targets_are_refused_without_webhook_allow_private() {
    let hub = Hub::start(sandbox(), &[]).await;
    let table = [
        "http://127.0.0.1/hook",
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        // A name resolving to loopback.
        "http://localhost:8080/hook",
        "ftp://example.com/hook",
    ];
    for url in table {
        let (s, body) = hub.post("/admin/webhooks", json!({"url": url, "events": ["store.connected"]})).await;
        assert_eq!(s, 400, "{url}: {body}");
        assert_eq!(body["error"]["code"], "INVALID_REQUEST", "{url}: {body}");
    }
    let (_, list) = hub.get("/admin/webhooks").await;
    assert_eq!(list["count"], 0, "{list}");
    let (_, audit) = hub.get("/admin/audit-logs?action=webhook.create").await;
    assert_eq!(audit["count"], table.len(), "each refusal audited: {audit}");
}
