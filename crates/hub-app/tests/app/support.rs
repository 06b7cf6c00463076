//! Starts the real `tiktok-hub serve` binary against a fresh PostgreSQL database and an
//! in-process `tiktok-sandbox`, and drives it over HTTP.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hub_postgres::testing::TestDb;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use tiktok_sandbox::{Sandbox, SandboxConfig, SandboxHandle};

pub mod browser;

/// Canary secrets planted in the hub's configuration; none may ever appear in output.
pub const CLIENT_SECRET: &str = "canary-client-secret-5f1b2c3d4e5f60718293a4b5c6d7e8f9";
pub const API_KEY: &str = "canary-admin-key-7d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6";
pub const API_KEY_2: &str = "canary-second-key-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";
pub const ENC_KEY: &str = "c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7c4a7";
pub const STATE_SECRET: &str = "canary-state-secret-a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6";

/// One `tiktok-hub serve` process.
pub struct Instance {
    pub base: String,
    pub http: reqwest::Client,
    child: Child,
    /// Everything the process wrote to stdout and stderr.
    pub output: Arc<Mutex<String>>,
}

/// A hub with a database and a sandbox of its own (more processes can join them with
/// [`Hub::another`]). Derefs to its [`Instance`].
pub struct Hub {
    // Declared first: the process is stopped before the database is dropped.
    pub instance: Instance,
    pub db: TestDb,
    pub sandbox: SandboxHandle,
    /// The redirect URI registered with the sandbox.
    pub redirect: String,
}

impl std::ops::Deref for Hub {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.instance
    }
}

impl std::ops::DerefMut for Hub {
    fn deref_mut(&mut self) -> &mut Instance {
        &mut self.instance
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Hub {
    /// Starts the sandbox and the hub; `env` adds or overrides settings.
    pub async fn start(sandbox: SandboxConfig, env: &[(&str, &str)]) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let db = TestDb::new().await;
        let port = free_port();
        let redirect = format!("http://127.0.0.1:{port}/auth/tiktok/callback");
        let sandbox = Sandbox::start(SandboxConfig {
            client_secret: CLIENT_SECRET.into(),
            redirect_uri: redirect.clone(),
            ..sandbox
        })
        .await
        .expect("sandbox starts");
        let instance = Instance::spawn(db.url(), &sandbox.base_url(), &redirect, port, env).await;
        Self { instance, db, sandbox, redirect }
    }

    /// Another `tiktok-hub serve` process on this hub's database and sandbox (its OAuth
    /// redirect stays this hub's: connect stores through this one).
    pub async fn another(&self, env: &[(&str, &str)]) -> Instance {
        Instance::spawn(self.db.url(), &self.sandbox.base_url(), &self.redirect, free_port(), env).await
    }
}

impl Instance {
    /// Starts `tiktok-hub serve` on `port` and waits until `/health` answers.
    pub async fn spawn(db_url: &str, sandbox_url: &str, redirect: &str, port: u16, env: &[(&str, &str)]) -> Self {
        let base = format!("http://127.0.0.1:{port}");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tiktok-hub"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db_url)
            .env("TIKTOK_CLIENT_KEY", "sandbox-client-key")
            .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
            .env("TIKTOK_REDIRECT_URI", redirect)
            .env("TIKTOK_AUTH_BASE_URL", sandbox_url)
            .env("TIKTOK_API_BASE_URL", sandbox_url)
            .env("TOKEN_ENC_KEY", ENC_KEY)
            .env("ADMIN_API_KEY", format!("{API_KEY},{API_KEY_2}"))
            .env("STATE_SECRET", STATE_SECRET)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("CRON_ENABLED", "false")
            .env("LOG_LEVEL", "debug")
            .env("LOG_FORMAT", "json")
            .env("RATE_LIMIT_ADMIN_PER_MIN", "0")
            .env("RATE_LIMIT_OAUTH_PER_MIN", "0")
            .env("RATE_LIMIT_HEALTH_PER_MIN", "0")
            .env("SHUTDOWN_GRACE_SECONDS", "5")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tiktok-hub starts");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut o = out.lock().unwrap();
                    o.push_str(&line);
                    o.push('\n');
                }
            });
        }
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let instance = Self { base, http, child, output };
        instance.wait_healthy().await;
        instance
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = self.http.get(format!("{}/health", self.base)).send().await
                && r.status().is_success()
            {
                return;
            }
            assert!(Instant::now() < deadline, "hub never became healthy:\n{}", self.output.lock().unwrap());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// An admin request with the API key.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, self.url(path)).header("X-API-KEY", API_KEY);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.admin(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.admin(reqwest::Method::POST, path, Some(body)).await
    }

    /// Creates a store and connects it through the whole browser flow: connect link →
    /// /connect/tiktok (cookie) → the sandbox's consent (auto) → the callback with the cookie.
    /// Returns the callback page's status and body.
    pub async fn connect(&self, code: &str, account: Option<usize>) -> (u16, String) {
        let (status, link) = self.post(&format!("/admin/stores/{code}/connect-link"), serde_json::json!({})).await;
        assert_eq!(status, 200, "{link}");
        let url = link["data"]["url"].as_str().unwrap().to_owned();
        self.open_connect_link(&url, account).await
    }

    /// Opens a connect link as staff do: /connect/tiktok (cookie) → the sandbox's consent
    /// (auto) → the callback with the cookie. Returns the callback page's status and body.
    pub async fn open_connect_link(&self, url: &str, account: Option<usize>) -> (u16, String) {
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 302, "connect redirects to TikTok");
        let cookie = resp
            .headers()
            .get(SET_COOKIE)
            .expect("binding cookie")
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let mut authorize = resp.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(authorize.contains("disable_auto_auth=1") && authorize.contains("code_challenge="), "{authorize}");
        if let Some(i) = account {
            authorize.push_str(&format!("&sandbox_account={i}"));
        }
        let consent = self.http.get(&authorize).send().await.unwrap();
        assert_eq!(consent.status().as_u16(), 302, "auto-consent redirects back");
        let callback = consent.headers()[LOCATION].to_str().unwrap().to_owned();
        let done = self.http.get(&callback).header(COOKIE, cookie).send().await.unwrap();
        let status = done.status().as_u16();
        (status, done.text().await.unwrap())
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "the hub did not stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends SIGTERM and waits (without blocking the test's runtime, which also runs the
    /// sandbox) for the exit status.
    pub async fn stop(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "the hub did not stop after SIGTERM");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn logs(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// SIGKILL: the process dies at once, mid-whatever.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates `n` stores and connects store `i` to sandbox account `i`; returns (code, open_id).
pub async fn connect_stores(hub: &Hub, n: usize) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in 0..n {
        let code = format!("store_{i:02}");
        let (status, body) =
            hub.post("/admin/stores", json!({"store_code": code, "store_name": code, "pic_name": "PIC"})).await;
        assert_eq!(status, 201, "{body}");
        let (status, page) = hub.connect(&code, Some(i)).await;
        assert_eq!(status, 200, "{page}");
    }
    let (_, list) = hub.get("/admin/stores").await;
    for s in list["data"].as_array().unwrap() {
        assert_eq!(s["connectionStatus"], "CONNECTED", "{s}");
        out.push((s["storeCode"].as_str().unwrap().to_owned(), s["accountIdentifier"].as_str().unwrap().to_owned()));
    }
    assert_eq!(out.len(), n);
    out
}

pub async fn sql(hub: &Hub, query: &str) -> i64 {
    hub_postgres::query_i64(hub.db.url(), query).await.unwrap_or_else(|e| panic!("{query}: {e}"))
}

/// Polls `check` every 100 ms until it holds; panics with `what` after `limit`.
pub async fn until<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out after {limit:?} waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `tiktok-hub ARGS` against `hub`'s database (the settings `serve` has), with `stdin`;
/// its exit status and standard output. Standard error is returned too, for messages.
pub fn cli(hub: &Hub, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_tiktok-hub"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", hub.db.url())
        .env("TIKTOK_CLIENT_KEY", "sandbox-client-key")
        .env("TIKTOK_CLIENT_SECRET", CLIENT_SECRET)
        .env("TIKTOK_REDIRECT_URI", &hub.redirect)
        .env("TOKEN_ENC_KEY", ENC_KEY)
        .env("ADMIN_API_KEY", API_KEY)
        .env("STATE_SECRET", STATE_SECRET)
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tiktok-hub runs");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A request to `path` with the session cookie, and — for anything but GET — the hub's own
/// origin and the session's CSRF token.
pub fn with_session(
    instance: &Instance,
    method: reqwest::Method,
    path: &str,
    cookie: &str,
    csrf: &str,
) -> reqwest::RequestBuilder {
    let unsafe_method = method != reqwest::Method::GET;
    let mut req = instance.http.request(method, instance.url(path)).header(COOKIE, cookie);
    if unsafe_method {
        req = req.header("Origin", &instance.base).header("X-CSRF-Token", csrf);
    }
    req
}

/// Signs in; the session cookie (`hub_session=…`) and the CSRF token.
pub async fn sign_in(instance: &Instance, email: &str, password: &str) -> (String, String) {
    let res = instance
        .http
        .post(instance.url("/auth/login"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "sign-in of {email}");
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    (cookie, body["data"]["csrfToken"].as_str().unwrap().to_owned())
}
