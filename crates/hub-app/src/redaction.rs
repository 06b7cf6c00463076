//! Tests: no type that holds a secret prints it. A table renders every such type built around
//! canary values (`Debug`, alternate `Debug`, and `Display` where it has one) and searches the
//! text for each canary in every form code might print it; a scan of the workspace's sources
//! finds every struct or enum that holds a secret, directly or through another such type, and
//! requires it to be in the table or to be unprintable (no `Debug`, no `Display`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{TimeZone, Utc};
use hub_domain::{Account, AccountId, ConnectionStatus, EncryptedTokens, Secret, StoreCode, TokenMeta};
use hub_ports::{ConnectedAccount, TokenGrant};

use crate::config::{Config, TokenKey};

const CLIENT_SECRET: &str = "canary-client-secret-55aa10c3e9";
const API_KEY: &str = "canary-admin-key-0123456789abcdefghij";
const STATE_SECRET: &str = "canary-state-secret-0123456789abcdef";
const DB_PASSWORD: &str = "canary-db-password-31";
const ACCESS: &str = "act.canary-access-token-9f8e7d6c5b4a";
const REFRESH: &str = "rft.canary-refresh-token-1a2b3c4d5e6f";
const STORED_ACCESS: &str = "k1:canary-stored-access-ciphertext-0011";
const STORED_REFRESH: &str = "k1:canary-stored-refresh-ciphertext-2233";
const PASSWORD: &str = "canary-password-correct-horse-battery-77";
const PASSWORD_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$Y2FuYXJ5c2FsdA$canary-password-hash-0099";
const SESSION_TOKEN: &str = "canary-session-token-5e55i0n70k3n";
const PERSONAL_KEY: &str = "tth_canary-personal-api-key-0a1b2c3d4e";
const KEY: [u8; 32] = [
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90, 0x11, 0x22, 0x33,
    0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01,
];

/// Each canary in the forms a formatter could give it: as is; bytes as `Debug` lists them;
/// the key as hex.
fn canaries() -> Vec<String> {
    let mut all: Vec<String> =
        [CLIENT_SECRET, API_KEY, STATE_SECRET, DB_PASSWORD, ACCESS, REFRESH, PASSWORD, SESSION_TOKEN, PERSONAL_KEY]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
    // The hash's own part (after the parameters).
    all.push(PASSWORD_HASH.rsplit('$').next().unwrap_or_default().to_owned());
    // The ciphertexts without their key id prefix.
    all.extend([&STORED_ACCESS[3..], &STORED_REFRESH[3..]].map(str::to_owned));
    // Byte secrets: any 8 consecutive bytes as `Debug` of a slice or array prints them.
    let byte_list = |b: &[u8]| format!("{:?}", &b[..8]).trim_end_matches(']').to_owned();
    all.push(byte_list(&KEY));
    all.push(byte_list(STATE_SECRET.as_bytes()));
    let hex = hex::encode(KEY);
    all.push(hex.to_ascii_uppercase());
    all.push(hex);
    all
}

fn config() -> Config {
    let env = BTreeMap::from([
        ("DATABASE_URL", format!("postgres://hub:{DB_PASSWORD}@127.0.0.1:5432/hub")),
        ("TIKTOK_CLIENT_KEY", "ck".to_owned()),
        ("TIKTOK_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("TIKTOK_REDIRECT_URI", "https://hub.example.com/auth/tiktok/callback".to_owned()),
        ("TOKEN_ENC_KEY", format!("k1:{}", hex::encode(KEY))),
        ("ADMIN_API_KEY", API_KEY.to_owned()),
        ("STATE_SECRET", STATE_SECRET.to_owned()),
    ]);
    Config::from_lookup(|k| env.get(k).cloned()).expect("a valid configuration")
}

fn stored() -> EncryptedTokens {
    EncryptedTokens { access: STORED_ACCESS.into(), refresh: STORED_REFRESH.into() }
}

/// Every way `v` prints through `Debug`.
fn debug(v: &impl std::fmt::Debug) -> String {
    format!("{v:?}\n{v:#?}")
}

/// Every way `v` prints.
fn both(v: &(impl std::fmt::Debug + std::fmt::Display)) -> String {
    format!("{}\n{v}\n{v:>40}", debug(v))
}

/// The table: each printable type that holds a secret, rendered.
fn renderings() -> Vec<(&'static str, String)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let now = Utc.with_ymd_and_hms(2026, 1, 24, 2, 0, 0).unwrap();
    let code = StoreCode::parse("s1").unwrap();
    let config = config();
    let grant = TokenGrant {
        access_token: Secret::new(ACCESS.into()),
        refresh_token: Secret::new(REFRESH.into()),
        open_id: "open-1".into(),
        expires_in: 7200,
        refresh_expires_in: 86_400,
        scopes: vec!["video.list".into()],
    };
    let account = Account {
        id: AccountId(1),
        store_code: code.clone(),
        platform: "tiktok".into(),
        open_id: Some("open-1".into()),
        tokens: Some(stored()),
        token_expires_at: Some(now),
        refresh_token_expires_at: Some(now),
        scopes: vec![],
        status: ConnectionStatus::Connected,
        connected_at: Some(now),
        last_sync_time: None,
        last_refresh_at: None,
        created_at: now,
        updated_at: now,
    };
    let connected = ConnectedAccount {
        store_code: code,
        open_id: "open-1".into(),
        tokens: stored(),
        meta: TokenMeta { access_expires_at: now, refresh_expires_at: now, scopes: vec![] },
        connected_at: now,
    };
    let pending = hub_domain::PendingRevocation {
        id: 1,
        store_code: StoreCode::parse("s1").unwrap(),
        open_id: Some("open-1".into()),
        tokens: stored(),
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
    };
    let retired =
        hub_ports::Retired { pending: Some(pending.clone()), disconnected: true, archived: false, links_revoked: 0 };
    let tiktok = hub_tiktok::TikTokConfig::new("ck", Secret::new(CLIENT_SECRET.into()), "https://x.example/cb");
    let client = hub_tiktok::TikTokClient::new(tiktok.clone()).expect("a client");
    let cipher = hub_engine::AesGcmCipher::new(&[("k1".into(), Secret::new(KEY))]).expect("a cipher");
    let codec = hub_engine::StateCodec::new(STATE_SECRET.as_bytes(), chrono::Duration::minutes(10));
    let http = crate::serve::http_config(&config);
    let people = people_renderings(now);
    let mut table = vec![
        ("Secret", both(&Secret::new(API_KEY.to_owned()))),
        ("Secret", both(&Secret::new(STATE_SECRET.as_bytes().to_vec()))),
        ("Secret", both(&Secret::new(KEY))),
        ("EncryptedTokens", debug(&stored())),
        ("Account", debug(&account)),
        ("StoreAccount", debug(&hub_engine::StoreAccount { account: account.clone(), has_valid_token: true })),
        ("ConnectedAccount", debug(&connected)),
        ("PendingRevocation", debug(&pending)),
        ("Retired", debug(&retired)),
        ("TokenGrant", debug(&grant)),
        ("AesGcmCipher", debug(&cipher)),
        ("StateCodec", debug(&codec)),
        ("TikTokConfig", debug(&tiktok)),
        ("TikTokClient", debug(&client)),
        ("HttpConfig", debug(&http)),
        ("WebhookKeys", debug(&http.tiktok_webhook)),
        ("TokenKey", debug(&TokenKey { id: "k1".into(), key: Secret::new(KEY) })),
        ("Config", debug(&config)),
    ];
    table.extend(people);
    table
}

/// The people types that hold a password, a hash, a session token or an API key.
fn people_renderings(now: chrono::DateTime<Utc>) -> Vec<(&'static str, String)> {
    use hub_domain::{
        ApiKey, ApiKeyId, DisplayName, Email, KeyName, NewUser, Password, Role, StoreScope, User, UserChange,
        UserCredentials, UserId,
    };
    let password = Password::parse(PASSWORD).expect("a valid password");
    let hash = Secret::new(PASSWORD_HASH.to_owned());
    let email = Email::parse("ops@example.com").expect("an email");
    let user = User {
        id: UserId(1),
        email: email.clone(),
        name: "Ops".into(),
        role: Role::Operator,
        scope: StoreScope::All,
        active: true,
        created_at: now,
        last_login_at: None,
    };
    let key = ApiKey {
        id: ApiKeyId(1),
        name: "BI".into(),
        fingerprint: "0123456789ab".into(),
        role: Role::Viewer,
        scope: StoreScope::All,
        owner: Some(UserId(1)),
        created_by: "user:1".into(),
        created_at: now,
        expires_at: None,
        last_used_at: None,
        revoked_at: None,
    };
    let change = UserChange { password_hash: Some(hash.clone()), ..UserChange::default() };
    vec![
        ("Password", debug(&password)),
        (
            "NewUser",
            debug(&NewUser {
                email: email.clone(),
                name: DisplayName::parse("Ops").expect("a name"),
                role: Role::Operator,
                scope: StoreScope::All,
                password_hash: hash.clone(),
            }),
        ),
        ("UserChange", debug(&change)),
        ("UserCredentials", debug(&UserCredentials { user: user.clone(), password_hash: hash })),
        (
            "AddUser",
            debug(&hub_engine::AddUser {
                email,
                name: None,
                role: Role::Operator,
                scope: StoreScope::All,
                password: password.clone(),
            }),
        ),
        (
            "ChangeUser",
            debug(&hub_engine::ChangeUser { password: Some(password), ..hub_engine::ChangeUser::default() }),
        ),
        ("CreatedKey", debug(&hub_engine::CreatedKey { key, secret: Secret::new(PERSONAL_KEY.to_owned()) })),
        (
            "LoggedIn",
            debug(&hub_engine::LoggedIn {
                user,
                session_token: Secret::new(SESSION_TOKEN.to_owned()),
                csrf_token: "csrf".into(),
                expires_at: now,
            }),
        ),
        ("KeyName", debug(&KeyName::parse("BI").expect("a key name"))),
        (
            "CreatedEndpoint",
            debug(&hub_engine::CreatedEndpoint {
                endpoint: hub_domain::WebhookEndpoint {
                    id: 1,
                    url: "https://hooks.example.com/hub".into(),
                    events: vec![hub_domain::WebhookEvent::StoreConnected],
                    format: hub_domain::WebhookFormat::Standard,
                    include_connect_link: false,
                    enabled: true,
                    disabled_reason: None,
                    consecutive_failures: 0,
                    created_by: "admin".into(),
                    created_at: now,
                    updated_at: now,
                },
                secret: Secret::new(PERSONAL_KEY.to_owned()),
            }),
        ),
    ]
}

#[test]
fn no_secret_bearing_type_prints_its_secret() {
    let canaries = canaries();
    for (name, text) in renderings() {
        assert!(text.len() > 10, "{name} printed something: {text}");
        for c in &canaries {
            assert!(!text.contains(c.as_str()), "{name} printed the canary {c:?}:\n{text}");
        }
    }
}

/// The canary forms are what unredacted printing gives: the same table without redaction
/// would be caught.
#[test]
fn the_canary_forms_catch_unredacted_printing() {
    let canaries = canaries();
    let leaks = [
        format!("{:?}", KEY),
        format!("{:?}", STATE_SECRET.as_bytes()),
        hex::encode(KEY),
        format!("{:?}", (CLIENT_SECRET, API_KEY, STATE_SECRET, DB_PASSWORD, ACCESS, REFRESH)),
        format!("{:?}", (STORED_ACCESS, STORED_REFRESH)),
        format!("{:?}", (PASSWORD, PASSWORD_HASH, SESSION_TOKEN, PERSONAL_KEY)),
    ]
    .join("\n");
    let unmatched: Vec<&String> = canaries.iter().filter(|c| !leaks.contains(c.as_str())).collect();
    assert_eq!(unmatched, [&hex::encode_upper(KEY)], "only the upper-case hex is not in the leak text");
}

/// Words that mark a field as holding a secret; every type holding one of them joins the list.
const SECRET_MARKERS: [&str; 4] = ["Secret<", "EncryptedTokens", "hmac::Key", "LessSafeKey"];

/// A struct or enum of the workspace's sources.
struct Item {
    name: String,
    file: String,
    body: String,
    derives_debug: bool,
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The structs and enums of every product crate's `src` (the sandbox is a dev tool).
fn items(sources: &BTreeMap<String, String>) -> Vec<Item> {
    let mut out = Vec::new();
    for (file, text) in sources {
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim_start();
            let t = t.strip_prefix("pub(crate) ").or_else(|| t.strip_prefix("pub ")).unwrap_or(t);
            let Some(rest) = t.strip_prefix("struct ").or_else(|| t.strip_prefix("enum ")) else { continue };
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            let derives_debug = lines[..i]
                .iter()
                .rev()
                .take_while(|l| l.trim_start().starts_with("#[") || l.trim_start().starts_with("///"))
                .any(|l| l.contains("derive(") && l.contains("Debug"));
            // The body: from the first `{` or `(` to its match (none for a unit struct).
            let from: String = lines[i..].join("\n");
            let body = match from.find(['{', '(', ';']) {
                Some(open) if &from[open..=open] != ";" => {
                    let mut depth = 0;
                    let mut end = open;
                    for (j, c) in from[open..].char_indices() {
                        match c {
                            '{' | '(' => depth += 1,
                            '}' | ')' => depth -= 1,
                            _ => {}
                        }
                        if depth == 0 {
                            end = open + j;
                            break;
                        }
                    }
                    from[open..=end].to_owned()
                }
                _ => String::new(),
            };
            out.push(Item { name, file: file.clone(), body, derives_debug });
        }
    }
    out
}

/// Whether some source implements `fmt_trait` for `name` by hand.
fn implements(sources: &BTreeMap<String, String>, fmt_trait: &str, name: &str) -> bool {
    let needle = format!("{fmt_trait} for {name}");
    sources.values().any(|text| {
        text.match_indices(&needle)
            .any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_'))
    })
}

#[test]
fn every_type_holding_a_secret_is_in_the_table_or_unprintable() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for dir in std::fs::read_dir(crates).unwrap().map(|e| e.unwrap().path()) {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("hub-") && name != "hub-fuzz" && dir.join("src").is_dir() {
            rust_files(&dir.join("src"), &mut files);
        }
    }
    // Not product code: this file, and the fuzz targets' support behind the `fuzzing` feature
    // (never built into the binary).
    let sources: BTreeMap<String, String> = files
        .iter()
        .filter(|p| !p.ends_with("hub-app/src/redaction.rs") && !p.ends_with("fuzzing.rs"))
        .map(|p| (p.strip_prefix(crates).unwrap().display().to_string(), std::fs::read_to_string(p).unwrap()))
        .collect();
    assert!(sources.len() > 40, "found {} source files", sources.len());
    let items = items(&sources);

    // Holding a secret spreads: a type with a field of a secret-holding type holds one too.
    let mut markers: BTreeSet<String> = SECRET_MARKERS.iter().map(|m| (*m).to_owned()).collect();
    let mut holders: BTreeMap<(String, String), &Item> = BTreeMap::new();
    loop {
        let before = holders.len();
        for item in &items {
            let holds = markers.iter().any(|m| {
                item.body.match_indices(m.as_str()).any(|(at, _)| {
                    let before = item.body[..at].chars().next_back();
                    let after = item.body[at + m.len()..].chars().next();
                    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    m.ends_with('<') || !(ident(before) || ident(after))
                })
            });
            if holds && holders.insert((item.name.clone(), item.file.clone()), item).is_none() {
                markers.insert(item.name.clone());
            }
        }
        if holders.len() == before {
            break;
        }
    }
    for known in ["Config", "Account", "TokenGrant", "AesGcmCipher", "StateCodec", "TikTokConfig", "Engine"] {
        assert!(holders.keys().any(|(name, _)| name == known), "the scan finds {known}: {:?}", holders.keys());
    }

    let table: BTreeSet<&str> = renderings().iter().map(|(name, _)| *name).collect();
    let mut missing = Vec::new();
    for ((name, _), item) in &holders {
        let printable =
            item.derives_debug || implements(&sources, "Debug", name) || implements(&sources, "Display", name);
        if printable && !table.contains(name.as_str()) {
            missing.push(format!("{name} ({})", item.file));
        }
    }
    assert!(missing.is_empty(), "types that hold a secret and print, missing from the table: {missing:?}");
}
