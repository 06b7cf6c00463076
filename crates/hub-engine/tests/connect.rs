//! Port-level tests of connecting a store: invites, state, PKCE, scopes, reconnects, and
//! re-encryption after a key rotation.

use std::sync::{Arc, Mutex};

use chrono::Duration;
use hub_domain::*;
use hub_engine::testing::{self, *};
use hub_engine::{Actor, AesGcmCipher, CallbackParams, ConnectError, Engine, EngineConfig};
use hub_ports::*;

fn world() -> Shared {
    let w = Arc::new(Mutex::new(World::default()));
    w.lock().unwrap().add_store("s1");
    w
}

fn admin() -> Actor {
    Actor { who: "key:abc".into(), request_id: Some("req-1".into()), ip: Some("10.0.0.1".into()) }
}

/// A TikTok that records the authorize URL's state and challenge and answers the exchange.
fn tiktok_ok(open_id: &'static str) -> MockTikTokApi {
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url()
        .returning(|state, challenge| format!("https://tiktok.test/auth?state={state}&cc={challenge}"));
    t.expect_exchange_code().returning(move |code, verifier| {
        assert_eq!(code, "the-code");
        assert!(verifier.len() >= 43, "PKCE verifier sent");
        Ok(grant(open_id, "act.first", "rft.first"))
    });
    t.expect_user_info().returning(move |_| Ok(user(open_id, 10)));
    t
}

fn invite_token(url: &str) -> String {
    url.split("invite=").nth(1).unwrap().to_owned()
}

fn state_of(url: &str) -> String {
    url.split("state=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

fn callback(state: &str) -> CallbackParams {
    CallbackParams {
        code: Some("the-code".into()),
        state: Some(state.into()),
        scopes: Some("user.info.basic,user.info.stats,video.list".into()),
        ..Default::default()
    }
}

async fn start(engine: &Engine) -> (String, String) {
    let link = engine.issue_connect_link(&code("s1"), &admin()).await.unwrap();
    let started = engine.begin_connect(&code("s1"), Some(&invite_token(&link.url))).await.unwrap();
    (state_of(&started.authorize_url), started.browser_cookie)
}

#[tokio::test]
async fn happy_path_stores_encrypted_tokens_and_audits() {
    let w = world();
    let engine = engine(&w, tiktok_ok("open-1"), t0(), EngineConfig::default());
    let link = engine.issue_connect_link(&code("s1"), &admin()).await.unwrap();
    assert!(link.url.starts_with("http://localhost:3000/connect/tiktok?store_code=s1&invite="));
    assert_eq!(link.expires_at, t0() + Duration::hours(72));
    let (state, cookie) = start(&engine).await;
    let done = engine.complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap();
    assert_eq!((done.open_id.as_str(), done.replaced_open_id.clone()), ("open-1", None));

    let w = w.lock().unwrap();
    let acct = &w.accounts["s1"];
    assert_eq!(acct.status, ConnectionStatus::Connected);
    let tokens = acct.tokens.as_ref().unwrap();
    assert!(!tokens.access.contains("act.first") && !tokens.refresh.contains("rft.first"));
    assert_eq!(cipher().decrypt(&tokens.access, "s1/access").unwrap().expose(), "act.first");
    assert_eq!(cipher().decrypt(&tokens.refresh, "s1/refresh").unwrap().expose(), "rft.first");
    let actions: Vec<&str> = w.audit.iter().map(|a| a.action.as_str()).collect();
    assert!(actions.contains(&"connect_link.create") && actions.contains(&"account.connect"), "{actions:?}");
    assert_eq!(w.invites.iter().filter(|i| i.used_at.is_some()).count(), 1, "the flow's invite is spent");
    let link_audit = w.audit.iter().find(|a| a.action == "connect_link.create").unwrap();
    assert_eq!((link_audit.actor.as_str(), link_audit.request_id.as_deref()), ("key:abc", Some("req-1")));
}

#[tokio::test]
async fn without_a_valid_invite_nothing_reaches_tiktok() {
    let w = world();
    let engine = engine(&w, MockTikTokApi::new(), t0(), EngineConfig::default());
    let link = engine.issue_connect_link(&code("s1"), &admin()).await.unwrap();
    w.lock().unwrap().add_store("s2");
    let good = invite_token(&link.url);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("s1", None),
        ("s1", Some(String::new())),
        ("s1", Some("made-up".into())),
        ("s1", Some(format!("{good}x"))),
        ("s2", Some(good.clone())), // another store's invite
    ];
    for (store, invite) in cases {
        let err = engine.begin_connect(&code(store), invite.as_deref()).await.unwrap_err();
        assert_eq!(err, ConnectError::InviteInvalid, "{store} {invite:?}");
    }
    // Expired.
    let later = testing::engine(&w, MockTikTokApi::new(), t0() + Duration::hours(73), EngineConfig::default());
    assert_eq!(later.begin_connect(&code("s1"), Some(&good)).await.unwrap_err(), ConnectError::InviteInvalid);
    assert!(w.lock().unwrap().states.is_empty(), "no state was issued");
}

#[tokio::test]
async fn open_connect_setting_restores_the_open_flow() {
    let w = world();
    let config = EngineConfig { open_connect: true, ..Default::default() };
    let engine = engine(&w, tiktok_ok("o"), t0(), config);
    let started = engine.begin_connect(&code("s1"), None).await.unwrap();
    assert!(started.authorize_url.contains("state="));
    assert_eq!(engine.begin_connect(&code("nope"), None).await.unwrap_err(), ConnectError::StoreNotFound);
}

#[tokio::test]
async fn bad_states_are_refused_before_any_token_call() {
    let w = world();
    // No exchange_code expectation: a token call would panic.
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
    let engine = engine(&w, t, t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let mut tampered = state.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let cases: Vec<(CallbackParams, Option<&str>)> = vec![
        (CallbackParams { state: None, ..callback("") }, Some(&cookie)),
        (callback(&tampered), Some(&cookie)),
        (callback("garbage"), Some(&cookie)),
        (callback(&state), None),                    // no cookie
        (callback(&state), Some("another-browser")), // wrong cookie (consumes the state)
        (callback(&state), Some(&cookie)),           // replay
    ];
    for (params, cookie) in cases {
        let err = engine.complete_connect(&params, cookie, None, None).await.unwrap_err();
        assert_eq!(err, ConnectError::InvalidState, "{params:?} {cookie:?}");
    }
}

#[tokio::test]
async fn expired_state_is_refused() {
    let w = world();
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
    let engine = engine(&w, t, t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let later = testing::engine(&w, MockTikTokApi::new(), t0() + Duration::minutes(11), EngineConfig::default());
    assert_eq!(
        later.complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap_err(),
        ConnectError::InvalidState
    );
}

#[tokio::test]
async fn denial_and_partial_scopes_never_connect() {
    let cases: Vec<(CallbackParams, ConnectError)> = vec![
        (
            CallbackParams {
                error: Some("access_denied".into()),
                error_description: Some("User denied".into()),
                code: None,
                ..callback("")
            },
            ConnectError::Denied("User denied".into()),
        ),
        (
            CallbackParams { scopes: Some("user.info.basic,video.list".into()), ..callback("") },
            ConnectError::ScopeMissing("user.info.stats".into()),
        ),
        (
            CallbackParams { scopes: Some("user.info.basic".into()), ..callback("") },
            ConnectError::ScopeMissing("user.info.stats, video.list".into()),
        ),
        (CallbackParams { code: None, ..callback("") }, ConnectError::MissingCode),
    ];
    for (mut params, want) in cases {
        let w = world();
        let mut t = MockTikTokApi::new();
        t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
        let engine = engine(&w, t, t0(), EngineConfig::default());
        let (state, cookie) = start(&engine).await;
        params.state = Some(state);
        assert_eq!(engine.complete_connect(&params, Some(&cookie), None, None).await.unwrap_err(), want);
        let w = w.lock().unwrap();
        assert!(w.accounts.is_empty(), "no account for {want:?}");
        assert!(w.invites[0].used_at.is_none(), "the invite stays usable after {want:?}");
    }
}

#[tokio::test]
async fn reconnecting_another_account_is_audited() {
    let w = world();
    w.lock().unwrap().connect("s1", Duration::hours(10));
    let engine = engine(&w, tiktok_ok("open-other"), t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let done = engine
        .complete_connect(&callback(&state), Some(&cookie), Some("1.2.3.4".into()), Some("req-9".into()))
        .await
        .unwrap();
    assert_eq!(done.replaced_open_id.as_deref(), Some("open-s1"));
    let w = w.lock().unwrap();
    let replace = w.audit.iter().find(|a| a.action == "account.replace").expect("audited");
    let details = replace.details.as_deref().unwrap();
    assert!(details.contains("open-s1") && details.contains("open-other"), "{details}");
    assert_eq!(replace.ip.as_deref(), Some("1.2.3.4"));
    assert!(
        w.audit.iter().filter(|a| a.action.starts_with("account.")).all(|a| a.request_id.as_deref() == Some("req-9"))
    );
    assert_eq!(w.accounts["s1"].open_id.as_deref(), Some("open-other"));
}

#[tokio::test]
async fn an_invite_connects_once() {
    let w = world();
    let engine = engine(&w, tiktok_ok("o"), t0(), EngineConfig::default());
    let link = engine.issue_connect_link(&code("s1"), &admin()).await.unwrap();
    let token = invite_token(&link.url);
    // Two flows started from the same link (two tabs); only the first may complete.
    let a = engine.begin_connect(&code("s1"), Some(&token)).await.unwrap();
    let b = engine.begin_connect(&code("s1"), Some(&token)).await.unwrap();
    engine.complete_connect(&callback(&state_of(&a.authorize_url)), Some(&a.browser_cookie), None, None).await.unwrap();
    let err =
        engine.complete_connect(&callback(&state_of(&b.authorize_url)), Some(&b.browser_cookie), None, None).await;
    assert_eq!(err.unwrap_err(), ConnectError::InviteInvalid);
    assert_eq!(engine.begin_connect(&code("s1"), Some(&token)).await.unwrap_err(), ConnectError::InviteInvalid);
}

#[tokio::test]
async fn reencryption_moves_every_row_to_the_newest_key_and_can_rerun() {
    let w = Arc::new(Mutex::new(World::default()));
    for s in ["a", "b", "c"] {
        w.lock().unwrap().add_store(s);
        w.lock().unwrap().connect(s, Duration::hours(5));
    }
    let rotated = Arc::new(
        AesGcmCipher::new(&[("k2".to_owned(), Secret::new([7u8; 32])), ("k1".to_owned(), Secret::new([42u8; 32]))])
            .unwrap(),
    );
    let engine = engine_with_cipher(&w, MockTikTokApi::new(), t0(), EngineConfig::default(), rotated.clone());
    let first = engine.reencrypt_tokens(2).await.unwrap();
    assert_eq!((first.scanned, first.rewritten), (3, 3));
    let again = engine.reencrypt_tokens(2).await.unwrap();
    assert_eq!((again.rewritten, again.already_current), (0, 3));
    let w = w.lock().unwrap();
    for s in ["a", "b", "c"] {
        let t = w.accounts[s].tokens.as_ref().unwrap();
        assert!(t.access.starts_with("k2:") && t.refresh.starts_with("k2:"));
        assert_eq!(rotated.decrypt(&t.refresh, &format!("{s}/refresh")).unwrap().expose(), &format!("rft.{s}"));
    }
}
