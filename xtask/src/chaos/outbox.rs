//! `cargo xtask chaos`, the outbox trial: the hub SIGKILLed between a change and the delivery
//! of the notification it wrote, then started again.
//!
//! A receiver of xtask's own (plain HTTP on 127.0.0.1) is registered through the admin API
//! as a `standard` endpoint for `store.disconnected`. It answers each request after
//! [`ANSWER_DELAY`] (so deliveries are in flight when the kill lands), with 503 to the first
//! few (a seeded count: those rows are retried with backoff) and 200 after. Stores are
//! disconnected through `POST /admin/stores/{code}/disconnect`, [`PARALLEL`] at once; once a
//! seeded number of them has been answered, the hub is SIGKILLed. A second hub then starts
//! on the same database and the trial waits until no row is left to deliver (rows in flight
//! at the kill come back when their claim's lease ends, 60 s). Then:
//!
//! - **no change lost**: every disconnect the API answered 200 left its store DISCONNECTED;
//! - **one notification per change**: every DISCONNECTED store of the trial has exactly one
//!   `store.disconnected` outbox row (written in the change's transaction), and no other
//!   store has one;
//! - **nothing lost on the way**: every outbox row is DELIVERED and reached the receiver with
//!   a 200 answer (its `webhook-id` is `msg_<row id>`; the body names the store), and the
//!   receiver got nothing that is not in the outbox. A row that reached the receiver before
//!   the kill but whose answer the dead hub never read arrives again: at least once, counted
//!   as `redelivered`.
//!
//! The trial's stores are reconnected and its endpoint removed afterwards, so the parts after
//! it start from connected stores and an empty outbox.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::rig::{Chaos, PREFIX};
use super::rng::Rng;
use crate::harness::store_code;
use crate::util::Proc;

/// Stores disconnected (at most; fewer when chaos has fewer).
const CHANGES: usize = 40;
/// Disconnects in flight at once.
const PARALLEL: usize = 4;
/// How long the receiver holds each request before it answers.
const ANSWER_DELAY: Duration = Duration::from_millis(150);
/// The most requests the receiver refuses (503) before it accepts.
const MAX_REFUSED: usize = 8;
/// The longest the trial waits for the outbox to drain after the restart (a claim's lease is
/// 60 s).
const DRAIN_LIMIT: Duration = Duration::from_secs(120);
const EVENT: &str = "store.disconnected";

/// What the receiver saw.
#[derive(Debug, Default)]
struct Seen {
    /// Requests answered 503 before the first 200.
    refuse: usize,
    requests: usize,
    /// `webhook-id` → the store codes of the bodies answered 200, one per request.
    delivered: BTreeMap<String, Vec<String>>,
    /// Requests without a `webhook-id` or a readable body.
    malformed: usize,
}

/// What the trial found.
#[derive(Debug, Default)]
struct Figures {
    changes_answered: usize,
    changes_cut: usize,
    disconnected: usize,
    outbox_rows: i64,
    pending_at_kill: i64,
    receiver_requests: usize,
    refused: usize,
    redelivered: usize,
    lost_changes: usize,
    lost_deliveries: usize,
    unknown_deliveries: usize,
    rows_per_change_wrong: usize,
    drain_s: f64,
}

pub fn run(chaos: &mut Chaos, rng: &mut Rng) -> Result<Vec<String>> {
    let n = CHANGES.min(chaos.stores);
    let codes: Vec<String> = (0..n).map(|i| store_code(PREFIX, i)).collect();
    let refuse = rng.below(MAX_REFUSED + 1);
    // The kill: once this many disconnects were answered (a quarter to three quarters).
    let kill_after = n / 4 + rng.below(n / 2 + 1);
    let seen = Arc::new(Mutex::new(Seen { refuse, ..Seen::default() }));
    let receiver = chaos.rt.block_on(receive(Arc::clone(&seen)))?;
    let url = format!("http://{receiver}/hook");

    let first_row = chaos.sql_i64("SELECT coalesce(max(id), 0) FROM webhook_outbox")? + 1;
    let (mut hub_a, base_a, log_a) = start_hub(chaos, "outbox-a")?;
    let key = chaos.env.admin_key.clone();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().context("HTTP client")?;
    chaos.rt.block_on(register(&http, &base_a, &key, &url))?;

    // The changes, until the kill.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let driver = {
        let (http, base, key, codes, answered) =
            (http.clone(), base_a.clone(), key.clone(), codes.clone(), Arc::clone(&answered));
        chaos.rt.spawn(disconnect_all(http, base, key, codes, answered))
    };
    let started = Instant::now();
    while answered.lock().expect("answered").len() < kill_after {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("{kill_after} disconnects were not answered within 120 s (see {log_a})");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    hub_a.child.kill().context("SIGKILL of the hub")?;
    drop(hub_a);
    let tried = chaos.rt.block_on(driver).context("the disconnect driver panicked")?;
    let answered: BTreeSet<String> = answered.lock().expect("answered").iter().cloned().collect();
    let mut f = Figures {
        changes_answered: answered.len(),
        changes_cut: tried.saturating_sub(answered.len()),
        pending_at_kill: chaos
            .sql_i64(&format!("SELECT count(*) FROM webhook_outbox WHERE id >= {first_row} AND status = 'PENDING'"))?,
        ..Figures::default()
    };
    eprintln!(
        "xtask: outbox: the hub SIGKILLed after {} answered disconnects ({} cut), {} rows pending; the receiver refused {refuse} first",
        f.changes_answered, f.changes_cut, f.pending_at_kill
    );

    // The restart, and the outbox drained.
    let restarted = Instant::now();
    let (hub_b, _, log_b) = start_hub(chaos, "outbox-b")?;
    let undelivered = format!("SELECT count(*) FROM webhook_outbox WHERE id >= {first_row} AND status <> 'DELIVERED'");
    while chaos.sql_i64(&undelivered)? > 0 && restarted.elapsed() < DRAIN_LIMIT {
        std::thread::sleep(Duration::from_millis(100));
    }
    f.drain_s = restarted.elapsed().as_secs_f64();
    drop(hub_b);

    // The checks.
    let disconnected: BTreeSet<String> = chaos
        .sql("SELECT store_code FROM store_accounts WHERE status = 'DISCONNECTED'")?
        .lines()
        .map(str::to_owned)
        .collect();
    f.disconnected = disconnected.len();
    f.lost_changes = answered.difference(&disconnected).count();
    let mut rows: HashMap<String, (String, String)> = HashMap::new();
    let mut per_store: BTreeMap<String, usize> = BTreeMap::new();
    for line in chaos
        .sql(&format!(
            "SELECT id, coalesce(store_code, ''), status FROM webhook_outbox WHERE id >= {first_row} AND event = '{EVENT}'"
        ))?
        .lines()
    {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [id, code, status] = fields[..] {
            rows.insert(format!("msg_{id}"), (code.to_owned(), status.to_owned()));
            *per_store.entry(code.to_owned()).or_default() += 1;
        }
    }
    f.outbox_rows = rows.len() as i64;
    f.rows_per_change_wrong = disconnected.iter().filter(|c| per_store.get(*c) != Some(&1)).count()
        + per_store.keys().filter(|c| !disconnected.contains(*c)).count();
    let seen = std::mem::take(&mut *seen.lock().expect("seen"));
    f.receiver_requests = seen.requests;
    f.refused = seen.requests.min(seen.refuse);
    for (id, (code, status)) in &rows {
        match seen.delivered.get(id) {
            Some(stores) if status == "DELIVERED" && stores.iter().all(|s| s == code) => {
                f.redelivered += stores.len() - 1;
            }
            _ => f.lost_deliveries += 1,
        }
    }
    f.unknown_deliveries = seen.delivered.keys().filter(|id| !rows.contains_key(*id)).count() + seen.malformed;
    println!(
        "chaos outbox kills=1 changes={} answered={} cut={} disconnected={} outbox_rows={} pending_at_kill={} \
         receiver_requests={} refused={} redelivered={} lost_changes={} lost_deliveries={} unknown_deliveries={} \
         rows_per_change_wrong={} drain_s={:.1}",
        n,
        f.changes_answered,
        f.changes_cut,
        f.disconnected,
        f.outbox_rows,
        f.pending_at_kill,
        f.receiver_requests,
        f.refused,
        f.redelivered,
        f.lost_changes,
        f.lost_deliveries,
        f.unknown_deliveries,
        f.rows_per_change_wrong,
        f.drain_s
    );

    // Back to connected stores and no endpoint, for the parts after this one.
    chaos.sql("DELETE FROM webhook_endpoints")?;
    let to_reconnect: Vec<(String, String)> = disconnected.iter().map(|c| (c.clone(), String::new())).collect();
    chaos.reconnect(&to_reconnect)?;

    let mut problems = Vec::new();
    if f.pending_at_kill == 0 {
        problems.push("no notification was pending when the hub was killed: the trial proved nothing".to_owned());
    }
    if f.lost_changes > 0 {
        problems.push(format!("{} disconnects answered 200 left their store connected", f.lost_changes));
    }
    if f.rows_per_change_wrong > 0 {
        problems.push(format!("{} stores without exactly one {EVENT} row per change", f.rows_per_change_wrong));
    }
    if f.lost_deliveries > 0 {
        problems.push(format!(
            "{} outbox rows not delivered to the receiver within {DRAIN_LIMIT:?} of the restart",
            f.lost_deliveries
        ));
    }
    if f.unknown_deliveries > 0 {
        problems.push(format!("{} requests the receiver got match no outbox row", f.unknown_deliveries));
    }
    if problems.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![format!("outbox (logs {log_a} and {log_b}):\n    {}", problems.join("\n    "))])
}

/// `tiktok-hub serve` that delivers notifications to private addresses, polls often and
/// retries soon: (process, base URL, log).
fn start_hub(chaos: &Chaos, label: &str) -> Result<(Proc, String, String)> {
    let envs = [("WEBHOOK_ALLOW_PRIVATE", "true"), ("WEBHOOK_POLL_MS", "50"), ("WEBHOOK_RETRY_BASE_MS", "100")];
    let (proc, base, log) = chaos.serve(label, &envs)?;
    Ok((proc, base, log.display().to_string()))
}

/// Registers the receiver for [`EVENT`].
async fn register(http: &reqwest::Client, base: &str, key: &str, url: &str) -> Result<()> {
    let answer = http
        .post(format!("{base}/admin/webhooks"))
        .header("X-API-KEY", key)
        .json(&json!({"url": url, "events": [EVENT], "format": "standard"}))
        .send()
        .await
        .context("POST /admin/webhooks")?;
    let status = answer.status();
    if !status.is_success() {
        bail!("POST /admin/webhooks answered {status}: {}", answer.text().await.unwrap_or_default());
    }
    Ok(())
}

/// Disconnects `codes`, [`PARALLEL`] at once, until the hub stops answering; pushes each
/// code answered 200 to `answered`; returns how many were sent.
async fn disconnect_all(
    http: reqwest::Client,
    base: String,
    key: String,
    codes: Vec<String>,
    answered: Arc<Mutex<Vec<String>>>,
) -> usize {
    let queue = Arc::new(Mutex::new(codes.into_iter().rev().collect::<Vec<_>>()));
    let sent = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..PARALLEL {
        let (http, base, key, queue, answered, sent) =
            (http.clone(), base.clone(), key.clone(), Arc::clone(&queue), Arc::clone(&answered), Arc::clone(&sent));
        tasks.spawn(async move {
            loop {
                let Some(code) = queue.lock().expect("queue").pop() else { return };
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let answer =
                    http.post(format!("{base}/admin/stores/{code}/disconnect")).header("X-API-KEY", &key).send().await;
                match answer {
                    Ok(a) if a.status().is_success() => answered.lock().expect("answered").push(code),
                    // The hub was killed (or refused): no more changes.
                    _ => return,
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    sent.load(std::sync::atomic::Ordering::Relaxed)
}

/// Starts the receiver on 127.0.0.1; returns its `host:port`.
async fn receive(seen: Arc<Mutex<Seen>>) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("binding the receiver")?;
    let addr = listener.local_addr()?.to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, Arc::clone(&seen)));
        }
    });
    Ok(addr)
}

/// Reads one request, waits [`ANSWER_DELAY`], records it and answers 503 or 200.
async fn answer(mut stream: tokio::net::TcpStream, seen: Arc<Mutex<Seen>>) {
    let Ok(Some((id, body))) = read_request(&mut stream).await else { return };
    tokio::time::sleep(ANSWER_DELAY).await;
    let store = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.pointer("/data/storeCode").and_then(Value::as_str).map(str::to_owned));
    let ok = {
        let mut s = seen.lock().expect("seen");
        s.requests += 1;
        let ok = s.requests > s.refuse;
        match (ok, id, store) {
            (false, ..) => {}
            (true, Some(id), Some(store)) => s.delivered.entry(id).or_default().push(store),
            (true, ..) => s.malformed += 1,
        }
        ok
    };
    let status = if ok { "200 OK" } else { "503 Service Unavailable" };
    let _ = stream
        .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
        .await;
    let _ = stream.shutdown().await;
}

/// One HTTP/1.1 request: its `webhook-id` header and body (`None` when the peer closed first).
async fn read_request(stream: &mut tokio::net::TcpStream) -> Result<Option<(Option<String>, Vec<u8>)>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_string();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    };
    let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        raw.extend_from_slice(&buf[..n]);
    }
    Ok(Some((header("webhook-id"), raw[head_end..head_end + length].to_vec())))
}
