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
    Actor::break_glass("key:abc".into(), Some("req-1".into()), Some("10.0.0.1".into()))
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

/// A TikTok that grants every exchange (`open-1`) and counts them.
fn counting_tiktok() -> (MockTikTokApi, Arc<Mutex<usize>>) {
    let token_calls = Arc::new(Mutex::new(0usize));
    let mut t = MockTikTokApi::new();
    t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
    let calls = token_calls.clone();
    t.expect_exchange_code().returning(move |_, _| {
        *calls.lock().unwrap() += 1;
        Ok(grant("open-1", "act.first", "rft.first"))
    });
    t.expect_user_info().returning(|_| Ok(user("open-1", 10)));
    (t, token_calls)
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
    let link = engine.connect().issue_link(&admin(), &code("s1")).await.unwrap();
    let started = engine.connect().begin_connect(&code("s1"), Some(&invite_token(&link.url))).await.unwrap();
    (state_of(&started.authorize_url), started.browser_cookie)
}

#[tokio::test]
async fn happy_path_stores_encrypted_tokens_and_audits() {
    let w = world();
    let engine = engine(&w, tiktok_ok("open-1"), t0(), EngineConfig::default());
    let link = engine.connect().issue_link(&admin(), &code("s1")).await.unwrap();
    assert!(link.url.starts_with("http://localhost:3000/connect/tiktok?store_code=s1&invite="));
    assert_eq!(link.expires_at, t0() + Duration::hours(72));
    let (state, cookie) = start(&engine).await;
    let done = engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap();
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
    let link = engine.connect().issue_link(&admin(), &code("s1")).await.unwrap();
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
        let err = engine.connect().begin_connect(&code(store), invite.as_deref()).await.unwrap_err();
        assert_eq!(err, ConnectError::InviteInvalid, "{store} {invite:?}");
    }
    // Expired.
    let later = testing::engine(&w, MockTikTokApi::new(), t0() + Duration::hours(73), EngineConfig::default());
    assert_eq!(later.connect().begin_connect(&code("s1"), Some(&good)).await.unwrap_err(), ConnectError::InviteInvalid);
    assert!(w.lock().unwrap().states.is_empty(), "no state was issued");
}

#[tokio::test]
async fn open_connect_setting_restores_the_open_flow() {
    let w = world();
    let config = EngineConfig { open_connect: true, ..Default::default() };
    let engine = engine(&w, tiktok_ok("o"), t0(), config);
    let started = engine.connect().begin_connect(&code("s1"), None).await.unwrap();
    assert!(started.authorize_url.contains("state="));
    assert_eq!(engine.connect().begin_connect(&code("nope"), None).await.unwrap_err(), ConnectError::StoreNotFound);
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
        let err = engine.connect().complete_connect(&params, cookie, None, None).await.unwrap_err();
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
        later.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap_err(),
        ConnectError::InvalidState
    );
}

/// Every single-byte mutation of a valid state (each position, each base64url character and
/// the separator) is refused with its cookie, before any token call; the untouched state then
/// completes, so the refusals were the mutations' doing.
#[tokio::test]
async fn every_single_byte_mutation_of_a_state_is_refused_before_any_token_call() {
    let w = world();
    let (t, token_calls) = counting_tiktok();
    let engine = engine(&w, t, t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let alphabet: Vec<u8> = (b'A'..=b'Z').chain(b'a'..=b'z').chain(b'0'..=b'9').chain(*b"-_.").collect();
    let mut tried = 0;
    for pos in 0..state.len() {
        for &b in &alphabet {
            let mut bytes = state.clone().into_bytes();
            if bytes[pos] == b {
                continue;
            }
            bytes[pos] = b;
            let mutated = String::from_utf8(bytes).unwrap();
            let err =
                engine.connect().complete_connect(&callback(&mutated), Some(&cookie), None, None).await.unwrap_err();
            assert_eq!(err, ConnectError::InvalidState, "position {pos} → {:?} accepted", b as char);
            tried += 1;
        }
    }
    assert!(tried >= state.len() * 60, "{tried} mutations");
    assert_eq!(*token_calls.lock().unwrap(), 0, "no mutation reached TikTok");
    engine
        .connect()
        .complete_connect(&callback(&state), Some(&cookie), None, None)
        .await
        .expect("the original is valid");
    assert_eq!(*token_calls.lock().unwrap(), 1);
}

/// A state that completed once is refused the second time, even with its own cookie.
#[tokio::test]
async fn a_replayed_state_is_refused_after_success_without_a_token_call() {
    let w = world();
    let (t, token_calls) = counting_tiktok();
    let engine = engine(&w, t, t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap();
    for _ in 0..3 {
        let err = engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap_err();
        assert_eq!(err, ConnectError::InvalidState);
    }
    assert_eq!(*token_calls.lock().unwrap(), 1, "only the first use exchanged a code");
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
        assert_eq!(engine.connect().complete_connect(&params, Some(&cookie), None, None).await.unwrap_err(), want);
        let w = w.lock().unwrap();
        assert!(w.accounts.is_empty(), "no account for {want:?}");
        assert!(w.invites[0].used_at.is_none(), "the invite stays usable after {want:?}");
    }
}

/// The callback may claim every scope while the token answer grants fewer: the answer wins,
/// and nothing is stored (a store connected before keeps its own account and tokens).
#[tokio::test]
async fn scopes_missing_from_the_token_answer_never_connect() {
    for previously_connected in [false, true] {
        let w = world();
        if previously_connected {
            w.lock().unwrap().connect("s1", Duration::hours(10));
        }
        let before = w.lock().unwrap().accounts.get("s1").cloned();
        let mut t = MockTikTokApi::new();
        t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
        t.expect_exchange_code().times(1).returning(|_, _| {
            Ok(TokenGrant {
                scopes: vec!["user.info.basic".into(), "video.list".into()],
                ..grant("open-x", "act.x", "rft.x")
            })
        });
        let engine = engine(&w, t, t0(), EngineConfig::default());
        let (state, cookie) = start(&engine).await;
        let err = engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap_err();
        assert_eq!(err, ConnectError::ScopeMissing("user.info.stats".into()));
        let w = w.lock().unwrap();
        assert_eq!(w.accounts.get("s1"), before.as_ref(), "previously connected: {previously_connected}");
        assert!(w.audit.iter().all(|a| !a.action.starts_with("account.")));
    }
}

/// TikTok's token answer without `scope` confirms no scope: the callback's `scopes` (which
/// came through the browser and claims all three) is not taken instead.
#[tokio::test]
async fn a_token_answer_without_scopes_never_connects_whatever_the_callback_claims() {
    for previously_connected in [false, true] {
        let w = world();
        if previously_connected {
            w.lock().unwrap().connect("s1", Duration::hours(10));
        }
        let before = w.lock().unwrap().accounts.get("s1").cloned();
        let mut t = MockTikTokApi::new();
        t.expect_authorize_url().returning(|s, _| format!("https://tiktok.test/auth?state={s}"));
        t.expect_exchange_code()
            .times(1)
            .returning(|_, _| Ok(TokenGrant { scopes: Vec::new(), ..grant("open-x", "act.x", "rft.x") }));
        t.expect_user_info().never();
        let engine = engine(&w, t, t0(), EngineConfig::default());
        let (state, cookie) = start(&engine).await;
        let err = engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap_err();
        assert_eq!(err, ConnectError::ScopeMissing("user.info.basic, user.info.stats, video.list".into()));
        let w = w.lock().unwrap();
        assert_eq!(w.accounts.get("s1"), before.as_ref(), "previously connected: {previously_connected}");
        assert!(w.audit.iter().all(|a| !a.action.starts_with("account.")));
    }
}

/// What the public pages show of a refusal never carries TikTok's text or the callback's.
#[test]
fn refusal_messages_carry_no_outside_text() {
    let canary = "canary <b>dns error: tiktok.internal</b>";
    for e in [
        ConnectError::Denied(canary.into()),
        ConnectError::TikTok(TikTokError::Rejected { code: "invalid_grant".into(), message: canary.into() }),
        ConnectError::TikTok(TikTokError::Transient { message: canary.into() }),
        ConnectError::TikTok(TikTokError::InvalidGrant { description: canary.into() }),
    ] {
        let shown = e.to_string();
        assert!(!shown.contains("canary") && !shown.contains("invalid_grant"), "{shown}");
    }
}

#[tokio::test]
async fn reconnecting_another_account_is_audited() {
    let w = world();
    w.lock().unwrap().connect("s1", Duration::hours(10));
    let engine = engine(&w, tiktok_ok("open-other"), t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let done = engine
        .connect()
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
    // Both tokens are the new account's: never one of each.
    let tokens = w.accounts["s1"].tokens.as_ref().unwrap();
    assert_eq!(cipher().decrypt(&tokens.access, "s1/access").unwrap().expose(), "act.first");
    assert_eq!(cipher().decrypt(&tokens.refresh, "s1/refresh").unwrap().expose(), "rft.first");
    assert_eq!(w.audit.iter().filter(|a| a.action == "account.replace").count(), 1);
}

#[tokio::test]
async fn reconnecting_the_same_account_is_not_a_replacement() {
    let w = world();
    w.lock().unwrap().connect("s1", Duration::hours(10));
    let engine = engine(&w, tiktok_ok("open-s1"), t0(), EngineConfig::default());
    let (state, cookie) = start(&engine).await;
    let done = engine.connect().complete_connect(&callback(&state), Some(&cookie), None, None).await.unwrap();
    assert_eq!(done.replaced_open_id, None);
    let w = w.lock().unwrap();
    assert!(w.audit.iter().all(|a| a.action != "account.replace"));
    assert_eq!(w.audit.iter().filter(|a| a.action == "account.connect").count(), 1);
    let tokens = w.accounts["s1"].tokens.as_ref().unwrap();
    assert_eq!(cipher().decrypt(&tokens.refresh, "s1/refresh").unwrap().expose(), "rft.first");
}

#[tokio::test]
async fn an_invite_connects_once() {
    let w = world();
    let engine = engine(&w, tiktok_ok("o"), t0(), EngineConfig::default());
    let link = engine.connect().issue_link(&admin(), &code("s1")).await.unwrap();
    let token = invite_token(&link.url);
    // Two flows started from the same link (two tabs); only the first may complete.
    let a = engine.connect().begin_connect(&code("s1"), Some(&token)).await.unwrap();
    let b = engine.connect().begin_connect(&code("s1"), Some(&token)).await.unwrap();
    engine
        .connect()
        .complete_connect(&callback(&state_of(&a.authorize_url)), Some(&a.browser_cookie), None, None)
        .await
        .unwrap();
    let err = engine
        .connect()
        .complete_connect(&callback(&state_of(&b.authorize_url)), Some(&b.browser_cookie), None, None)
        .await;
    assert_eq!(err.unwrap_err(), ConnectError::InviteInvalid);
    assert_eq!(
        engine.connect().begin_connect(&code("s1"), Some(&token)).await.unwrap_err(),
        ConnectError::InviteInvalid
    );
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
    let first = engine.system().reencrypt_tokens(2).await.unwrap();
    assert_eq!((first.scanned, first.rewritten), (3, 3));
    let again = engine.system().reencrypt_tokens(2).await.unwrap();
    assert_eq!((again.rewritten, again.already_current), (0, 3));
    let w = w.lock().unwrap();
    for s in ["a", "b", "c"] {
        let t = w.accounts[s].tokens.as_ref().unwrap();
        assert!(t.access.starts_with("k2:") && t.refresh.starts_with("k2:"));
        assert_eq!(rotated.decrypt(&t.refresh, &format!("{s}/refresh")).unwrap().expose(), &format!("rft.{s}"));
    }
}

/// Killed after any number of rows (the store goes away mid-pass), a re-encryption leaves
/// every row readable, its two tokens on one key, and a rerun moves exactly the rest.
#[tokio::test]
async fn reencryption_killed_after_any_row_leaves_every_row_readable_and_a_rerun_finishes() {
    const STORES: [&str; 5] = ["a", "b", "c", "d", "e"];
    let rotated = Arc::new(
        AesGcmCipher::new(&[("k2".to_owned(), Secret::new([7u8; 32])), ("k1".to_owned(), Secret::new([42u8; 32]))])
            .unwrap(),
    );
    for dies_after in 0..=STORES.len() {
        let w = Arc::new(Mutex::new(World::default()));
        for s in STORES {
            w.lock().unwrap().add_store(s);
            w.lock().unwrap().connect(s, Duration::hours(5));
        }
        // The first pass: after `dies_after` rewrites every further write fails.
        let mut accounts = MockAccountRepo::new();
        let s = w.clone();
        accounts.expect_list_with_tokens_after().returning(move |after, limit| {
            let w = s.lock().unwrap();
            let mut rows: Vec<Account> = w.accounts.values().filter(|a| a.id > after).cloned().collect();
            rows.sort_by_key(|a| a.id);
            rows.truncate(limit as usize);
            Ok(rows)
        });
        let s = w.clone();
        let written = Arc::new(Mutex::new(0usize));
        accounts.expect_replace_ciphertexts().returning(move |id, expected, new| {
            let mut done = written.lock().unwrap();
            if *done == dies_after {
                return Err(RepoError::Unavailable("the process was killed".into()));
            }
            let mut w = s.lock().unwrap();
            let a = w.accounts.values_mut().find(|a| a.id == id).unwrap();
            assert_eq!(a.tokens.as_ref(), Some(expected));
            a.tokens = Some(new.clone());
            *done += 1;
            Ok(true)
        });
        let mut ports = testing::ports(&w, Arc::new(MockTikTokApi::new()), fixed_clock(t0()));
        ports.accounts = Arc::new(accounts);
        ports.cipher = rotated.clone();
        let first =
            Engine::new(ports, EngineConfig::default(), testing::STATE_SECRET).system().reencrypt_tokens(2).await;
        assert_eq!(first.is_ok(), dies_after == STORES.len(), "killed after {dies_after}: {first:?}");

        let on_newest = |w: &World| {
            STORES
                .iter()
                .filter(|s| {
                    let t = w.accounts[**s].tokens.as_ref().unwrap();
                    let (access_key, refresh_key) = (&t.access[..3], &t.refresh[..3]);
                    assert_eq!(access_key, refresh_key, "{s}: the pair moves together");
                    let access = rotated.decrypt(&t.access, &format!("{s}/access")).unwrap();
                    let refresh = rotated.decrypt(&t.refresh, &format!("{s}/refresh")).unwrap();
                    assert_eq!((access.expose(), refresh.expose()), (&format!("act.{s}"), &format!("rft.{s}")));
                    access_key == "k2:"
                })
                .count()
        };
        assert_eq!(on_newest(&w.lock().unwrap()), dies_after, "killed after {dies_after}");

        let rerun = engine_with_cipher(&w, MockTikTokApi::new(), t0(), EngineConfig::default(), rotated.clone());
        let report = rerun.system().reencrypt_tokens(2).await.unwrap();
        let rest = (STORES.len() - dies_after) as u64;
        assert_eq!((report.rewritten, report.already_current, report.undecryptable), (rest, dies_after as u64, 0));
        assert_eq!(on_newest(&w.lock().unwrap()), STORES.len());
    }
}
