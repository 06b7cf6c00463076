//! Logging set-up: `LOG_LEVEL`, `LOG_FORMAT=json`, and `DB_LOGGING` for SQL-level detail; and
//! the panic hook, which reports a panic as one log event instead of plain text on stderr.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber once. `RUST_LOG`, when set, overrides `LOG_LEVEL`.
pub fn init(config: &Config) {
    let mut directives = format!("{},actix_server=warn", config.log_level);
    if config.db_logging {
        directives.push_str(",hub_postgres=debug,diesel=debug");
    }
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The configured secret values, to be cut out of text that was not built from `Secret`s
/// (a panic message may format anything).
struct Redactor {
    /// Longest first, so a secret containing another is cut whole.
    secrets: Vec<String>,
}

impl Redactor {
    /// Values shorter than this are not searched for (they would mangle ordinary words; every
    /// secret the config accepts is longer).
    const MIN_LEN: usize = 8;

    fn from_config(config: &Config) -> Self {
        let mut secrets = vec![
            config.tiktok_client_secret.expose().clone(),
            String::from_utf8_lossy(config.state_secret.expose()).into_owned(),
            config.database_url.expose().clone(),
        ];
        secrets.extend(config.admin_api_keys.iter().map(|k| k.expose().clone()));
        for key in &config.token_keys {
            let hex = hex::encode(key.key.expose());
            secrets.push(hex.to_ascii_uppercase());
            secrets.push(hex);
        }
        // The password of DATABASE_URL on its own (`scheme://user:password@host/...`).
        let url = config.database_url.expose();
        if let Some(userinfo) = url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(u, _)| u)
            && let Some((_, password)) = userinfo.split_once(':')
        {
            secrets.push(password.to_owned());
        }
        secrets.retain(|s| s.len() >= Self::MIN_LEN);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Self { secrets }
    }

    fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |t, s| t.replace(s.as_str(), "[redacted]"))
    }
}

/// The text of a panic's payload (`panic!` with a message gives a `String` or a `&str`).
fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("(a panic without a message)")
}

/// Replaces the default panic output (plain text on stderr, outside the log format) with one
/// `ERROR` event, `panic`, in the configured format: the message, with every configured
/// secret value cut out, its location and the thread. A backtrace is added when
/// `RUST_BACKTRACE` asks for one. Call after [`init`].
pub fn install_panic_hook(config: &Config) {
    let redactor = Redactor::from_config(config);
    std::panic::set_hook(Box::new(move |info| {
        let message = redactor.redact(payload_text(info.payload()));
        let location =
            info.location().map_or_else(String::new, |l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        let backtrace = std::backtrace::Backtrace::capture();
        let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| redactor.redact(&backtrace.to_string()));
        if tracing::dispatcher::has_been_set() {
            tracing::error!(panic.message = %message, panic.location = %location, thread, backtrace, "panic");
        } else {
            eprintln!("tiktok-hub: panic in thread {thread} at {location}: {message}");
        }
    }));
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::process::Command;

    use super::*;

    const CLIENT_SECRET: &str = "canary-client-secret-4d1c9e0f7a";
    const API_KEYS: [&str; 2] = ["canary-admin-key-one-0123456789abcdef", "canary-admin-key-two-fedcba9876543210"];
    const STATE_SECRET: &str = "canary-state-secret-0123456789abcdef";
    const DB_PASSWORD: &str = "canary-db-password-77";
    const KEYS: [&str; 2] = [
        "a1a2a3a4a5a6a7a8a9b0b1b2b3b4b5b6b7b8b9c0c1c2c3c4c5c6c7c8c9d0d1d2",
        "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a090807060504030201000",
    ];

    fn config() -> Config {
        let env = HashMap::from([
            ("DATABASE_URL", format!("postgres://hub:{DB_PASSWORD}@127.0.0.1:5432/hub")),
            ("TIKTOK_CLIENT_KEY", "ck".to_owned()),
            ("TIKTOK_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
            ("TIKTOK_REDIRECT_URI", "https://hub.example.com/auth/tiktok/callback".to_owned()),
            ("TOKEN_ENC_KEY", format!("k2:{},k1:{}", KEYS[0], KEYS[1])),
            ("ADMIN_API_KEY", API_KEYS.join(",")),
            ("STATE_SECRET", STATE_SECRET.to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
        ]);
        Config::from_lookup(|k| env.get(k).cloned()).expect("a valid configuration")
    }

    /// Every configured secret, as configured and in the forms code might print it.
    fn canaries() -> Vec<String> {
        let mut all = vec![CLIENT_SECRET.to_owned(), STATE_SECRET.to_owned(), DB_PASSWORD.to_owned()];
        all.extend(API_KEYS.iter().map(|k| (*k).to_owned()));
        for k in KEYS {
            all.push(k.to_owned());
            all.push(k.to_ascii_uppercase());
        }
        all
    }

    #[test]
    fn the_redactor_cuts_every_configured_secret() {
        let r = Redactor::from_config(&config());
        let text = format!("before {} after", canaries().join(" | "));
        let cut = r.redact(&text);
        for c in canaries() {
            assert!(!cut.contains(&c), "{c} survived: {cut}");
        }
        assert!(cut.starts_with("before [redacted] | ") && cut.ends_with(" after"), "{cut}");
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
    }

    /// The hook in a process of its own (it is global): this test runs itself again as a child
    /// that loads a configuration, sets up logging and the hook as `tiktok-hub` does, and
    /// panics on two threads with messages holding every secret and the config's `Debug`. The
    /// parent reads the child's whole output: one JSON `panic` event per panic, no secret, and
    /// no plain-text panic report.
    #[test]
    fn a_panic_is_one_json_log_event_without_secrets() {
        const CHILD: &str = "TIKTOK_HUB_PANIC_HOOK_CHILD";
        if std::env::var_os(CHILD).is_some() {
            let config = config();
            init(&config);
            install_panic_hook(&config);
            let message = format!("bad state {config:?} {}", canaries().join(" "));
            let on_main = message.clone();
            assert!(std::panic::catch_unwind(move || panic!("{on_main}")).is_err());
            let worker = std::thread::Builder::new().name("hub-worker".into()).spawn(move || panic!("{message}"));
            assert!(worker.unwrap().join().is_err());
            return;
        }
        let name = "telemetry::tests::a_panic_is_one_json_log_event_without_secrets";
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env_remove("RUST_LOG")
            .env_remove("RUST_BACKTRACE")
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "the child failed:\n{stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "the child ran the test:\n{stdout}");
        for c in canaries() {
            assert!(!stdout.contains(&c) && !stderr.contains(&c), "{c} reached the output:\n{stderr}");
        }
        assert!(!stderr.contains("panicked at"), "the default report is replaced:\n{stderr}");
        let events: Vec<serde_json::Value> = stderr
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
            .collect();
        assert_eq!(events.len(), 2, "{stderr}");
        let mut threads: Vec<&str> = events.iter().map(|e| e["thread"].as_str().unwrap()).collect();
        threads.sort_unstable();
        assert_eq!(threads[0], "hub-worker");
        for e in &events {
            assert_eq!((e["level"].as_str(), e["message"].as_str()), (Some("ERROR"), Some("panic")), "{e}");
            assert!(e["panic.location"].as_str().unwrap().starts_with("crates/hub-app/src/telemetry.rs:"), "{e}");
            let text = e["panic.message"].as_str().unwrap();
            assert!(text.starts_with("bad state Config {") && text.contains("[redacted]"), "{text}");
        }
    }
}
