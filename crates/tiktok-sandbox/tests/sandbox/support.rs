//! Helpers shared by the integration tests: real HTTP against `Sandbox::start`.
#![allow(dead_code)]

use std::collections::HashMap;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use tiktok_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

pub const ALL_SCOPES: &str = "user.info.basic,user.info.profile,user.info.stats,video.list";

/// A small sandbox (20 accounts, one worker) unless the test says otherwise.
pub fn cfg() -> SandboxConfig {
    SandboxConfig { accounts: 20, workers: 1, ..Default::default() }
}

pub struct T {
    pub sb: SandboxHandle,
    pub c: Client,
    pub key: String,
    pub secret: String,
    pub redirect_uri: String,
}

pub async fn start(cfg: SandboxConfig) -> T {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key = cfg.client_key.clone();
    let secret = cfg.client_secret.clone();
    let redirect_uri = cfg.redirect_uri.clone();
    let sb = Sandbox::start(cfg).await.expect("sandbox starts");
    let c = Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    T { sb, c, key, secret, redirect_uri }
}

/// `url?k=v&…`, form-encoded.
pub fn with_query<K: AsRef<str>, V: AsRef<str>>(url: &str, pairs: &[(K, V)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k.as_ref(), v.as_ref());
    }
    format!("{url}?{}", ser.finish())
}

/// Query parameters of a URL.
pub fn query_of(url: &str) -> HashMap<String, String> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

impl T {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sb.base_url())
    }

    /// Default authorize parameters with `overrides` applied (value `None` removes the key).
    pub fn authorize_params(&self, overrides: &[(&str, Option<&str>)]) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = vec![
            ("client_key".into(), self.key.clone()),
            ("response_type".into(), "code".into()),
            ("scope".into(), ALL_SCOPES.into()),
            ("redirect_uri".into(), self.redirect_uri.clone()),
            ("state".into(), "st-123".into()),
            ("disable_auto_auth".into(), "1".into()),
        ];
        for (k, v) in overrides {
            p.retain(|(pk, _)| pk != k);
            if let Some(v) = v {
                p.push((k.to_string(), v.to_string()));
            }
        }
        p
    }

    pub async fn authorize(&self, overrides: &[(&str, Option<&str>)]) -> reqwest::Response {
        self.c
            .get(with_query(&self.url("/v2/auth/authorize/"), &self.authorize_params(overrides)))
            .send()
            .await
            .expect("authorize request")
    }

    /// Authorize and return the callback's query parameters (asserts a 302 to the redirect URI).
    pub async fn authorize_redirect(&self, overrides: &[(&str, Option<&str>)]) -> HashMap<String, String> {
        let r = self.authorize(overrides).await;
        assert_eq!(r.status(), StatusCode::FOUND, "authorize should redirect");
        let loc = r.headers()["location"].to_str().unwrap().to_string();
        assert!(loc.starts_with(&format!("{}?", self.redirect_uri)), "redirects to the registered URI: {loc}");
        query_of(&loc)
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let r = self.c.post(self.url(path)).form(form).send().await.expect("form request");
        let s = r.status();
        (s, r.json().await.expect("json body"))
    }

    pub async fn exchange(&self, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
        let mut form = vec![
            ("client_key", self.key.as_str()),
            ("client_secret", self.secret.as_str()),
            ("code", code),
            ("grant_type", "authorization_code"),
            ("redirect_uri", self.redirect_uri.as_str()),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        self.post_form("/v2/oauth/token/", &form).await
    }

    pub async fn refresh(&self, rt: &str) -> (StatusCode, Value) {
        self.post_form(
            "/v2/oauth/token/",
            &[
                ("client_key", &self.key),
                ("client_secret", &self.secret),
                ("grant_type", "refresh_token"),
                ("refresh_token", rt),
            ],
        )
        .await
    }

    /// The whole consent → code → token flow; returns the token JSON.
    pub async fn connect(&self, overrides: &[(&str, Option<&str>)]) -> Value {
        let q = self.authorize_redirect(overrides).await;
        let code = q.get("code").expect("code in callback");
        let (s, t) = self.exchange(code, None).await;
        assert_eq!(s, StatusCode::OK);
        assert!(t["access_token"].is_string(), "{t}");
        t
    }

    pub async fn user_info(&self, token: &str, fields: &str) -> (StatusCode, Value) {
        let r = self
            .c
            .get(with_query(&self.url("/v2/user/info/"), &[("fields", fields)]))
            .bearer_auth(token)
            .send()
            .await
            .expect("user info");
        let s = r.status();
        (s, r.json().await.expect("json"))
    }

    pub async fn video_post(&self, path: &str, token: &str, fields: &str, body: &str) -> (StatusCode, Value) {
        let r = self
            .c
            .post(with_query(&self.url(path), &[("fields", fields)]))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("video request");
        let s = r.status();
        (s, r.json().await.expect("json"))
    }

    pub async fn video_list(&self, token: &str, fields: &str, body: &str) -> (StatusCode, Value) {
        self.video_post("/v2/video/list/", token, fields, body).await
    }

    pub async fn video_query(&self, token: &str, fields: &str, body: &str) -> (StatusCode, Value) {
        self.video_post("/v2/video/query/", token, fields, body).await
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.c.get(self.url(path)).send().await.expect("get");
        let s = r.status();
        (s, r.json().await.expect("json"))
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.c.post(self.url(path)).json(&body).send().await.expect("post");
        let s = r.status();
        (s, r.json().await.expect("json"))
    }
}

/// Asserts a v2 error envelope with `code`.
pub fn assert_api_error(status: StatusCode, body: &Value, want_status: u16, want_code: &str) {
    assert_eq!(status.as_u16(), want_status, "status for {want_code}: {body}");
    assert_eq!(body["error"]["code"], want_code, "{body}");
    assert!(body["error"]["log_id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
}

/// Asserts a flat OAuth error body.
pub fn assert_oauth_error(status: StatusCode, body: &Value, want_status: u16, want_error: &str) {
    assert_eq!(status.as_u16(), want_status, "status for {want_error}: {body}");
    assert_eq!(body["error"], want_error, "{body}");
    assert!(body["error_description"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert!(body["log_id"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
    assert!(body.get("access_token").is_none());
}
