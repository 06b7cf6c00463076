//! The configuration's tests: every setting, its default and its errors; `.env.example`
//! documents every setting.

mod units {
    use std::collections::HashMap;

    use super::super::*;

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            ("DATABASE_URL", "postgres://hub:pw@localhost/hub".to_owned()),
            ("TIKTOK_CLIENT_KEY", "ck".to_owned()),
            ("TIKTOK_CLIENT_SECRET", "canary-client-secret".to_owned()),
            ("TIKTOK_REDIRECT_URI", "https://hub.example.com/auth/tiktok/callback".to_owned()),
            ("TOKEN_ENC_KEY", KEY.to_owned()),
            ("ADMIN_API_KEY", "canary-admin-key-0123456789abcdefghij".to_owned()),
            ("STATE_SECRET", "canary-state-secret-0123456789abcdef".to_owned()),
        ])
    }

    fn load(overrides: &[(&'static str, &str)]) -> Result<Config, ConfigError> {
        let mut env = base();
        for (k, v) in overrides {
            env.insert(k, (*v).to_owned());
        }
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let c = load(&[]).unwrap();
        assert_eq!((c.port, c.host.as_str()), (3000, "0.0.0.0"));
        assert_eq!((c.sync_concurrency, c.video_sync_concurrency, c.sync_max_concurrency), (30, 20, 100));
        assert_eq!(c.cron_sync_user_daily, "0 2 * * *");
        assert_eq!(c.public_base_url, "https://hub.example.com");
        assert_eq!(c.token_keys.len(), 1);
        assert_eq!(c.token_keys[0].id, "k1");
        assert_eq!(c.tiktok_api_base_url, "https://open.tiktokapis.com");
        assert_eq!((c.rate_limit_admin_per_min, c.rate_limit_oauth_per_min, c.auth_failure_max), (100, 10, 5));
        assert!(!c.oauth_open_connect);
        assert_eq!(c.db_statement_timeout, Some(Duration::from_secs(30)));
        assert_eq!(c.rate_limit_login_per_min, 10);
        assert_eq!(c.redis_key_prefix, "hub:");
        assert_eq!(
            (c.session_idle, c.session_absolute),
            (Duration::from_secs(8 * 3600), Duration::from_secs(7 * 86_400))
        );
    }

    #[test]
    fn session_lifetimes() {
        let c = load(&[("SESSION_IDLE_MINUTES", "30"), ("SESSION_ABSOLUTE_HOURS", "24")]).unwrap();
        assert_eq!((c.session_idle, c.session_absolute), (Duration::from_secs(1800), Duration::from_secs(86_400)));
        assert_eq!(load(&[("SESSION_IDLE_MINUTES", "0")]).unwrap_err().var, "SESSION_IDLE_MINUTES");
        assert_eq!(load(&[("SESSION_ABSOLUTE_HOURS", "x")]).unwrap_err().var, "SESSION_ABSOLUTE_HOURS");
    }

    #[test]
    fn open_connect_in_production_needs_the_second_setting() {
        let err = load(&[("APP_ENV", "production"), ("OAUTH_OPEN_CONNECT", "true")]).unwrap_err();
        assert_eq!(err.var, "OAUTH_OPEN_CONNECT");
        assert!(err.to_string().contains("OAUTH_OPEN_CONNECT_I_UNDERSTAND=true"), "{err}");
        let c = load(&[
            ("APP_ENV", "production"),
            ("OAUTH_OPEN_CONNECT", "true"),
            ("OAUTH_OPEN_CONNECT_I_UNDERSTAND", "true"),
        ])
        .unwrap();
        assert!(c.oauth_open_connect);
        assert!(load(&[("OAUTH_OPEN_CONNECT", "true")]).unwrap().oauth_open_connect, "development: allowed");
        assert!(load(&[("APP_ENV", "production"), ("OAUTH_OPEN_CONNECT_I_UNDERSTAND", "true")]).is_ok());
    }

    #[test]
    fn api_docs_modes() {
        assert_eq!(load(&[]).unwrap().api_docs, hub_http::ApiDocs::Public);
        assert_eq!(load(&[("API_DOCS", "key")]).unwrap().api_docs, hub_http::ApiDocs::AdminKey);
        assert_eq!(load(&[("API_DOCS", "OFF")]).unwrap().api_docs, hub_http::ApiDocs::Off);
    }

    #[test]
    fn database_tls_and_statement_timeout() {
        for url in [
            "postgres://hub:pw@db/hub?sslmode=disable",
            "postgres://hub:pw@db/hub?sslmode=require",
            "postgres://hub:pw@db/hub?sslmode=verify-full",
            "postgres://hub:pw@db/hub?sslmode=verify-ca&sslrootcert=/etc/ssl/db-ca.pem",
        ] {
            assert!(load(&[("DATABASE_URL", url)]).is_ok(), "{url}");
        }
        let err = load(&[("DATABASE_URL", "postgres://hub:pw-canary@db/hub?sslmode=verify-ca")]).unwrap_err();
        assert!(err.to_string().starts_with("DATABASE_URL sslmode=verify-ca needs sslrootcert"), "{err}");
        assert_eq!(load(&[("DB_STATEMENT_TIMEOUT", "0")]).unwrap().db_statement_timeout, None);
        assert_eq!(
            load(&[("DB_STATEMENT_TIMEOUT", "120")]).unwrap().db_statement_timeout,
            Some(Duration::from_secs(120))
        );
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases: &[(&'static str, &str)] = &[
            ("DATABASE_URL", ""),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", "postgres://hub:pw-canary@db/hub?sslmode=verify"),
            ("DATABASE_URL", "postgres://hub:pw-canary@db/hub?sslmode=verify-ca"),
            ("DB_STATEMENT_TIMEOUT", "-1"),
            ("DB_STATEMENT_TIMEOUT", "1.5"),
            ("TOKEN_ENC_KEY", "abcd"),
            ("TOKEN_ENC_KEY", &KEY.replace('0', "g")),
            ("TOKEN_ENC_KEY", "k1:zz,k2:zz"),
            ("ADMIN_API_KEY", "short"),
            ("ADMIN_API_KEY", ""),
            ("STATE_SECRET", "short"),
            ("TIKTOK_CLIENT_SECRET", " "),
            ("TIKTOK_REDIRECT_URI", "ftp://x"),
            ("TIKTOK_REDIRECT_URI", "https://x/cb?x=1"),
            ("PORT", "70000"),
            ("PORT", "abc"),
            ("DB_POOL_SIZE", "0"),
            ("SYNC_CONCURRENCY", "-1"),
            ("CRON_ENABLED", "maybe"),
            ("CRON_SYNC_USER_DAILY", "0 2 * *"),
            ("CRON_SYNC_USER_DAILY", "99 2 * * *"),
            ("TZ", "Mars/Olympus"),
            ("REPORT_TZ", "nowhere"),
            ("LOG_LEVEL", "loud"),
            ("LOG_FORMAT", "xml"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("APP_ENV", "staging"),
            ("API_DOCS", "private"),
            ("REDIS_KEY_PREFIX", "hub staging:"),
            ("OAUTH_OPEN_CONNECT_I_UNDERSTAND", "maybe"),
            ("METRICS_ADDR", "localhost"),
            ("SYNC_STALE_AFTER_SECONDS", "1"),
            ("SYNC_RETRY_DELAYS", "15,x"),
            ("SYNC_RETRY_DELAYS", "-1"),
            ("SYNC_RETRY_DELAYS", "2000"),
        ];
        for (var, value) in cases {
            let err = load(&[(var, value)]).expect_err(var);
            assert_eq!(err.var, *var, "{var}={value:?} → {err}");
            let line = err.to_string();
            assert!(!line.contains('\n'));
            let secret = ["DATABASE_URL", "TOKEN_ENC_KEY", "ADMIN_API_KEY", "STATE_SECRET", "TIKTOK_CLIENT_SECRET"];
            if secret.contains(var) && value.len() >= 3 {
                assert!(!line.contains(value), "{line} echoes the secret value");
            }
        }
    }

    #[test]
    fn operator_settings_of_metrics_and_scheduler() {
        let c = load(&[]).unwrap();
        assert_eq!(c.metrics_addr, None);
        assert_eq!(c.sync_stale_after, Duration::from_secs(120));
        let minutes: Vec<u64> = c.sync_retry_delays.iter().map(|d| d.as_secs() / 60).collect();
        assert_eq!(minutes, [15, 60, 180]);
        let c = load(&[
            ("METRICS_ADDR", "127.0.0.1:9464"),
            ("SYNC_STALE_AFTER_SECONDS", "4"),
            ("SYNC_RETRY_DELAYS", "0.05, 1"),
        ])
        .unwrap();
        assert_eq!(c.metrics_addr, Some("127.0.0.1:9464".parse().unwrap()));
        assert_eq!(c.sync_stale_after, Duration::from_secs(4));
        assert_eq!(c.sync_retry_delays, [Duration::from_secs(3), Duration::from_secs(60)]);
    }

    #[test]
    fn retention_periods_default_keep_forever_at_zero_and_refuse_the_rest() {
        let c = load(&[]).unwrap();
        assert_eq!((c.retention_sync_logs_days, c.retention_sync_runs_days, c.retention_audit_days), (90, 90, 365));
        // (variable, value, accepted days or the error)
        let cases: [(&str, &str, Option<u32>); 9] = [
            ("RETENTION_SYNC_LOGS_DAYS", "0", Some(0)),
            ("RETENTION_SYNC_LOGS_DAYS", "30", Some(30)),
            ("RETENTION_SYNC_RUNS_DAYS", " 7 ", Some(7)),
            ("RETENTION_AUDIT_DAYS", "36500", Some(36_500)),
            ("RETENTION_AUDIT_DAYS", "36501", None),
            ("RETENTION_AUDIT_DAYS", "-1", None),
            ("RETENTION_SYNC_RUNS_DAYS", "1.5", None),
            ("RETENTION_SYNC_LOGS_DAYS", "forever", None),
            ("RETENTION_SYNC_RUNS_DAYS", "", Some(90)),
        ];
        for (var, value, want) in cases {
            let got = load(&[(var, value)]);
            match want {
                Some(days) => {
                    let c = got.unwrap_or_else(|e| panic!("{var}={value}: {e}"));
                    let read = match var {
                        "RETENTION_SYNC_LOGS_DAYS" => c.retention_sync_logs_days,
                        "RETENTION_SYNC_RUNS_DAYS" => c.retention_sync_runs_days,
                        _ => c.retention_audit_days,
                    };
                    assert_eq!(read, days, "{var}={value}");
                }
                None => {
                    let e = got.unwrap_err();
                    assert_eq!(e.var, var, "{var}={value}");
                    assert!(e.to_string().contains("0 (keep forever) to 36500"), "{e}");
                }
            }
        }
    }

    #[test]
    fn several_token_keys_newest_first() {
        let other = KEY.replace('0', "1");
        let c = load(&[("TOKEN_ENC_KEY", &format!("k2:{other}, k1:{KEY}"))]).unwrap();
        let ids: Vec<&str> = c.token_keys.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(ids, ["k2", "k1"]);
        assert!(load(&[("TOKEN_ENC_KEY", &format!("k1:{other},k1:{KEY}"))]).is_err());
    }

    #[test]
    fn debug_output_holds_no_secret() {
        let c = load(&[]).unwrap();
        let dbg = format!("{c:?}");
        for canary in ["canary", "pw@", KEY] {
            assert!(!dbg.contains(canary), "{canary} leaked into Debug");
        }
    }

    /// TikTok compares the redirect URI byte for byte: it is kept exactly as configured.
    #[test]
    fn the_redirect_uri_is_kept_byte_for_byte() {
        for uri in [
            "https://Hub.Example.com:443/auth/tiktok/callback/",
            "https://hub.example.com/auth/%7Etiktok/./callback",
            "http://127.0.0.1:3000/auth/tiktok/callback",
        ] {
            assert_eq!(load(&[("TIKTOK_REDIRECT_URI", uri)]).unwrap().tiktok_redirect_uri, uri);
        }
    }

    #[test]
    fn trusted_proxy_networks_parse() {
        let cases = [
            ("10.0.0.0/8", Some(8)),
            ("127.0.0.1", Some(32)),
            ("::1", Some(128)),
            ("fd00::/8", Some(8)),
            ("10.0.0.0/33", None),
            ("nope", None),
        ];
        for (raw, prefix) in cases {
            assert_eq!(parse_net(raw).map(|n| n.prefix_len()), prefix, "{raw}");
        }
    }

    #[test]
    fn fatal_log_level_maps_to_error_and_node_env_is_honoured() {
        let c = load(&[("LOG_LEVEL", "FATAL"), ("NODE_ENV", "production")]).unwrap();
        assert_eq!(c.log_level, "error");
        assert_eq!(c.app_env, AppEnv::Production);
    }
}

mod docs {
    /// Every variable this module reads is documented in `.env.example`, and vice versa.
    #[test]
    fn env_example_documents_every_setting() {
        let source = include_str!("mod.rs");
        let source = &source[..source.find("#[cfg(test)]").expect("tests follow the code")];
        let example = include_str!("../../../../.env.example");
        let read: std::collections::BTreeSet<&str> = source
            .split('"')
            .filter(|t| t.len() >= 2 && t.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'))
            .filter(|t| t.contains('_') || *t == "PORT" || *t == "HOST" || *t == "TZ")
            .filter(|t| *t != "NODE_ENV" && *t != "RUST_LOG")
            .collect();
        assert!(read.len() > 30, "found only {read:?}");
        let documented: std::collections::BTreeSet<&str> = example
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.trim()))
            .collect();
        let undocumented: Vec<_> = read.difference(&documented).collect();
        let unknown: Vec<_> = documented.difference(&read).collect();
        assert!(undocumented.is_empty(), "read but not in .env.example: {undocumented:?}");
        assert!(unknown.is_empty(), "in .env.example but never read: {unknown:?}");
    }

    /// The example file itself is a valid configuration.
    #[test]
    fn env_example_parses() {
        let example = include_str!("../../../../.env.example");
        let map: std::collections::HashMap<String, String> = example
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
            .collect();
        super::super::Config::from_lookup(|k| map.get(k).cloned()).expect(".env.example must parse");
    }
}
