//! Canary check: a flow with a distinctive client secret and real tokens, every error path
//! the client has, all tracing output captured (our events and reqwest/hyper's, at TRACE):
//! no secret, token, code or PKCE verifier appears anywhere.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use hub_domain::Secret;
use hub_ports::{TikTokApi, TikTokError};
use hub_tiktok::TikTokClient;
use tiktok_sandbox::{Rotation, SandboxConfig};
use tracing_subscriber::fmt::MakeWriter;

const CANARY_SECRET: &str = "CANARY-client-secret-7f3a9c1e5b2d";
const CANARY_VERIFIER: &str = "CANARY-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

// Current-thread runtime: the client's futures and reqwest/hyper's connection tasks all run
// on this thread, so the thread-local subscriber sees every event they emit.
#[tokio::test(flavor = "current_thread")]
async fn no_secret_reaches_logs_errors_or_debug_output() {
    let logs = Buffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (sb, cfg) = sandbox(SandboxConfig {
        client_secret: CANARY_SECRET.into(),
        rotation: Rotation::Strict,
        hang_secs: 30,
        ..sandbox_cfg()
    })
    .await;
    let api = client(&sb, &cfg);
    let mut canaries: Vec<String> = vec![CANARY_SECRET.into(), CANARY_VERIFIER.into()];
    let mut outputs: Vec<String> = Vec::new();
    let record = |e: TikTokError, outputs: &mut Vec<String>| {
        outputs.push(format!("{e} | {e:?} | {e:#?}"));
        e.reason()
    };

    // The happy path.
    let q = consent(&api, "canary-state", CANARY_VERIFIER).await;
    canaries.push(q["code"].clone());
    let g = api.exchange_code(&q["code"], CANARY_VERIFIER).await.expect("exchange");
    canaries.push(g.access_token.expose().clone());
    canaries.push(g.refresh_token.expose().clone());
    api.user_info(&g.access_token).await.expect("user");
    let page = api.video_list(&g.access_token, None, 20).await.expect("page");
    let ids: Vec<String> = page.videos.iter().take(20).map(|v| v.id.clone()).collect();
    api.video_query(&g.access_token, &ids).await.expect("query");
    let r = api.refresh(&g.refresh_token).await.expect("refresh");
    canaries.push(r.access_token.expose().clone());
    canaries.push(r.refresh_token.expose().clone());
    outputs.push(format!("{g:?} {r:#?} {api:?} {:?}", api.config()));

    // Every failure path, each carrying a real secret in the request.
    let e = api.exchange_code(&q["code"], CANARY_VERIFIER).await.expect_err("code reused");
    assert_eq!(record(e, &mut outputs), "invalid_grant");
    let e = api.refresh(&g.refresh_token).await.expect_err("replayed");
    assert_eq!(record(e, &mut outputs), "invalid_grant");
    let e = api.user_info(&r.access_token).await.expect_err("grant revoked by the replay");
    assert_eq!(record(e, &mut outputs), "access_token_invalid");

    let fresh = connect(&api).await;
    canaries.push(fresh.access_token.expose().clone());
    canaries.push(fresh.refresh_token.expose().clone());
    sb.update(|k| k.fault_internal_error = 1.0);
    let e = api.user_info(&fresh.access_token).await.expect_err("500s");
    assert_eq!(record(e, &mut outputs), "transient");
    sb.update(|k| {
        k.fault_internal_error = 0.0;
        k.fault_token_server_error = 1.0;
    });
    let e = api.refresh(&fresh.refresh_token).await.expect_err("server_error");
    assert_eq!(record(e, &mut outputs), "transient");
    sb.update(|k| k.fault_token_server_error = 0.0);

    let basic = Secret::new(sb.issue_tokens(2, "user.info.basic").access_token);
    canaries.push(basic.expose().clone());
    let e = api.video_list(&basic, None, 5).await.expect_err("scope");
    assert_eq!(record(e, &mut outputs), "scope_missing");

    let mut c = client_cfg(&sb, &cfg);
    c.client_secret = Secret::new("CANARY-wrong-secret-99887766".into());
    canaries.push("CANARY-wrong-secret-99887766".into());
    c.timeout = Duration::from_millis(200);
    c.max_retries = 0;
    let other = TikTokClient::new(c).expect("client");
    let e = other.refresh(&fresh.refresh_token).await.expect_err("invalid_client");
    assert_eq!(record(e, &mut outputs), "rejected");
    sb.update(|k| k.fault_hang = 1.0);
    let e = other.user_info(&fresh.access_token).await.expect_err("hung");
    assert_eq!(record(e, &mut outputs), "transient");
    sb.update(|k| k.fault_hang = 0.0);
    outputs.push(format!("{other:?}"));

    api.revoke(&fresh.access_token).await.expect("revoke");
    let e = api.user_info(&fresh.access_token).await.expect_err("revoked");
    assert_eq!(record(e, &mut outputs), "access_token_invalid");
    sb.stop().await;

    let logs = logs.text();
    // The capture works: one event per attempt, with TikTok's log ids.
    assert!(logs.contains("tiktok call"), "{logs}");
    for endpoint in ["oauth/token", "oauth/revoke", "user/info", "video/list", "video/query"] {
        assert!(logs.contains(endpoint), "no event for {endpoint}");
    }
    assert!(logs.contains("log_id=\"2"), "log ids are logged");
    let attempts: u64 = {
        let s = api.stats();
        s.token.calls + s.revoke.calls + s.user_info.calls + s.video_list.calls + s.video_query.calls
    };
    assert!(logs.matches("tiktok call").count() as u64 >= attempts);

    assert!(canaries.len() >= 11);
    for canary in &canaries {
        assert!(canary.len() >= 20, "distinctive canary {canary:?}");
        assert!(!logs.contains(canary.as_str()), "a secret leaked into the logs");
        for out in &outputs {
            assert!(!out.contains(canary.as_str()), "a secret leaked into {out}");
        }
    }
}
