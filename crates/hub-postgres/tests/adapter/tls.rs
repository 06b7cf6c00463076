//! PostgreSQL over TLS, against real clusters made here: a CA and a server certificate for
//! `localhost` (made with rcgen), `initdb` in a temporary directory, `ssl = on` and a
//! `pg_hba.conf` of `hostssl` lines only (so any plaintext connection is refused); and a
//! second cluster without TLS for `prefer`'s fall-back. Each cluster is stopped and removed
//! on `Drop`.
//!
//! The server certificate names `localhost` only: connecting to `127.0.0.1` is a host-name
//! mismatch (refused by `verify-full`, accepted by `verify-ca`).
//!
//! Needs PostgreSQL's server binaries (`initdb`, `pg_ctl`; `PG_BIN`, `pg_config --bindir`,
//! `/usr/lib/postgresql/*/bin` or `PATH`) and, as root, `runuser` and a `postgres` user:
//! without them the tests fail, saying so.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use diesel::sql_types::{BigInt, Bool};
use diesel_async::RunQueryDsl;
use hub_ports::{DbHealth, JobLock};
use hub_postgres::testing::{TestDb, with_database};
use hub_postgres::{Db, DbConfig, SslMode};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose};

/// A password in every URL: no error line may show it (trust authentication ignores it).
const PASSWORD: &str = "canary-db-password-0123";

/// A CA: its PEM, and the issuer to sign server certificates with.
struct Ca {
    pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    Ca { pem: issuer.pem(), issuer }
}

/// A server certificate for `names`, signed by `ca`: (certificate PEM, key PEM).
fn server_cert(ca: &Ca, names: &[&str]) -> (String, String) {
    let mut params = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, names[0]);
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &*ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// The output of `cmd`, or a panic naming the command and its error output.
fn run(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let out = cmd.output().unwrap_or_else(|e| panic!("TLS tests: cannot run {shown}: {e}"));
    assert!(
        out.status.success(),
        "TLS tests: {shown} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The directory of `initdb` and `pg_ctl`.
fn pg_bin() -> PathBuf {
    let usable = |d: &Path| d.join("initdb").exists() && d.join("pg_ctl").exists();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(dir) = std::env::var("PG_BIN") {
        candidates.push(dir.into());
    }
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        candidates.push(String::from_utf8_lossy(&out.stdout).trim().into());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .collect();
    versions.sort();
    candidates.extend(versions.into_iter().rev().map(|(_, d)| d));
    candidates.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    candidates.into_iter().find(|d| usable(d)).unwrap_or_else(|| {
        panic!(
            "TLS tests need PostgreSQL's server binaries (initdb, pg_ctl): install them (Debian/Ubuntu: apt-get install postgresql) or set PG_BIN"
        )
    })
}

/// PostgreSQL refuses to run as root: as root the cluster runs as `postgres` through `runuser`.
fn cluster_owner() -> Option<(u32, u32)> {
    let uid = run(Command::new("id").arg("-u"));
    if uid.trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let out = Command::new("id").args([flag, "postgres"]).output().unwrap_or_else(|e| {
            panic!("TLS tests run as root and need the `postgres` user to run PostgreSQL: id failed: {e}")
        });
        assert!(
            out.status.success(),
            "TLS tests run as root: PostgreSQL refuses to run as root, and there is no `postgres` user to run it as"
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    Some((id("-u"), id("-g")))
}

/// A private cluster in a temporary directory, stopped and removed on `Drop`.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    owner: Option<(u32, u32)>,
}

impl Cluster {
    /// `tls`: the server's certificate and key (PEM); `ssl = on` and `hostssl` lines only.
    /// `None`: `ssl = off` and `host` lines.
    fn start(tls: Option<(&str, &str)>) -> Self {
        let bin = pg_bin();
        let owner = cluster_owner();
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let dir = std::env::temp_dir().join(format!("hub-pg-tls-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cluster = Self { data: dir.join("data"), bin, dir, port: free_port(), owner };
        cluster.chown(&cluster.dir);
        cluster.as_owner(Command::new(cluster.bin.join("initdb")).arg("-D").arg(&cluster.data).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]));
        let hba = match tls {
            Some((cert, key)) => {
                cluster.write("server.crt", cert, 0o644);
                cluster.write("server.key", key, 0o600);
                "hostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n"
            }
            None => "host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n",
        };
        cluster.write("pg_hba.conf", hba, 0o600);
        let opts = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c ssl={} -c fsync=off",
            cluster.port,
            cluster.dir.display(),
            if tls.is_some() { "on" } else { "off" }
        );
        cluster.as_owner(
            Command::new(cluster.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&cluster.data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &opts, "start"]),
        );
        cluster
    }

    fn chown(&self, path: &Path) {
        if let Some((uid, gid)) = self.owner {
            std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
        }
    }

    /// Writes `name` into the data directory, owned by the cluster's user.
    fn write(&self, name: &str, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.data.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        self.chown(&path);
    }

    /// Runs `cmd` as the cluster's user, from a directory that user can reach.
    fn as_owner(&self, cmd: &mut Command) -> String {
        cmd.current_dir(&self.dir);
        if self.owner.is_none() {
            return run(cmd);
        }
        let mut wrapped = Command::new("runuser");
        wrapped.args(["-u", "postgres", "--"]).arg(cmd.get_program()).args(cmd.get_args()).current_dir(&self.dir);
        run(&mut wrapped)
    }

    /// A URL of database `db` on this cluster by `host`, with `query` appended.
    fn url(&self, host: &str, db: &str, query: &str) -> String {
        format!("postgres://postgres:{PASSWORD}@{host}:{}/{db}{query}", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut stop = Command::new(self.bin.join("pg_ctl"));
        stop.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]);
        if self.owner.is_some() {
            let mut wrapped = Command::new("runuser");
            wrapped.args(["-u", "postgres", "--"]).arg(stop.get_program()).args(stop.get_args());
            stop = wrapped;
        }
        let _ = stop.current_dir(&self.dir).output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Writes a PEM file for the client side (under the test's own directory).
fn pem_file(dir: &Path, name: &str, pem: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, pem).unwrap();
    path.display().to_string()
}

#[derive(diesel::QueryableByName)]
struct Ssl {
    #[diesel(sql_type = Bool)]
    ssl: bool,
}

/// Whether the session of a pooled connection of `db` runs over TLS.
async fn session_ssl(db: &Db) -> bool {
    let mut conn = db.conn().await.unwrap();
    diesel::sql_query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .get_result::<Ssl>(&mut conn)
        .await
        .unwrap()
        .ssl
}

/// The one line of a refused connection, checked for the password and line breaks.
async fn refusal(url: &str) -> String {
    let err = Db::from_url(url, 1).await.expect_err("the connection must be refused");
    let line = err.to_string();
    eprintln!("refused: {line}");
    assert!(!line.contains(PASSWORD), "the password leaked: {line}");
    assert!(!line.contains('\n'), "not one line: {line}");
    line
}

/// verify-full against a TLS-only server: the pool, a job lock, migrations, the tooling
/// helpers, the health check and `TestDb` all connect, and over TLS.
#[tokio::test(flavor = "multi_thread")]
async fn verify_full_serves_the_pool_locks_and_migrations_over_tls() {
    let ca = ca("hub test CA");
    let (cert, key) = server_cert(&ca, &["localhost"]);
    let cluster = Cluster::start(Some((&cert, &key)));
    let ca_file = pem_file(&cluster.dir, "ca.pem", &ca.pem);
    let query = format!("?sslmode=verify-full&sslrootcert={ca_file}");
    let admin = cluster.url("localhost", "postgres", &query);

    hub_postgres::execute_batch(&admin, "CREATE DATABASE hub").await.unwrap();
    let url = with_database(&admin, "hub");
    let applied = hub_postgres::run_migrations(&url).await.unwrap();
    assert!(!applied.is_empty(), "migrations ran");
    assert!(hub_postgres::run_migrations(&url).await.unwrap().is_empty(), "and are recorded");
    let stores = hub_postgres::query_i64(&url, "SELECT count(*) AS n FROM stores").await.unwrap();
    assert_eq!(stores, 0);

    let db = Db::connect(&DbConfig {
        url: url.clone(),
        max_size: 2,
        wait_timeout: std::time::Duration::from_secs(10),
        statement_timeout: Some(std::time::Duration::from_secs(5)),
    })
    .await
    .unwrap();
    assert_eq!(db.sslmode(), SslMode::VerifyFull);
    assert!(session_ssl(&db).await, "pooled connections run over TLS");
    DbHealth::ping(&db).await.unwrap();
    let lock = db.try_acquire("tls-job").await.unwrap().expect("the lock is free");
    assert!(db.try_acquire("tls-job").await.unwrap().is_none(), "held on its own TLS connection");
    drop(lock);

    // The TLS sessions the server sees: every one encrypted.
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut conn = db.conn().await.unwrap();
    let plain: N = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.backend_type = 'client backend' AND NOT s.ssl",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    assert_eq!(plain.n, 0, "no plaintext session");
    drop(conn);

    // A test database on this server: template, migrations, clone and drop, all over TLS.
    let t = TestDb::on_server(&admin).await;
    assert!(session_ssl(t.db()).await);
    drop(t);
}

/// Wrong CA, wrong host name, `verify-ca`, `require`, and a plaintext attempt.
#[tokio::test(flavor = "multi_thread")]
async fn certificate_checks_fail_in_one_clear_line_and_require_never_goes_plain() {
    let ca_good = ca("hub test CA");
    let ca_other = ca("some other CA");
    let (cert, key) = server_cert(&ca_good, &["localhost"]);
    let cluster = Cluster::start(Some((&cert, &key)));
    let good = pem_file(&cluster.dir, "ca.pem", &ca_good.pem);
    let other = pem_file(&cluster.dir, "other-ca.pem", &ca_other.pem);

    // A CA that did not issue the server's certificate.
    for mode in ["verify-full", "verify-ca", "require"] {
        let line =
            refusal(&cluster.url("localhost", "postgres", &format!("?sslmode={mode}&sslrootcert={other}"))).await;
        assert!(line.contains(&format!("certificate not trusted by sslrootcert {other}")), "{mode}: {line}");
    }
    // The certificate names localhost; 127.0.0.1 is another host.
    let line =
        refusal(&cluster.url("127.0.0.1", "postgres", &format!("?sslmode=verify-full&sslrootcert={good}"))).await;
    assert!(line.contains("certificate does not match host 127.0.0.1"), "{line}");
    // verify-ca checks the chain only, require with a root file too (libpq's rule).
    for mode in ["verify-ca", "require"] {
        let db = Db::from_url(&cluster.url("127.0.0.1", "postgres", &format!("?sslmode={mode}&sslrootcert={good}")), 1)
            .await
            .unwrap_or_else(|e| panic!("{mode}: {e}"));
        assert!(session_ssl(&db).await, "{mode}");
    }
    // require without a root file: TLS, no certificate check.
    let db = Db::from_url(&cluster.url("127.0.0.1", "postgres", "?sslmode=require"), 1).await.unwrap();
    assert_eq!(db.sslmode(), SslMode::Require);
    assert!(session_ssl(&db).await, "require runs over TLS");
    // prefer (also the default) takes TLS when the server offers it.
    for query in ["?sslmode=prefer", ""] {
        let db = Db::from_url(&cluster.url("127.0.0.1", "postgres", query), 1).await.unwrap();
        assert!(session_ssl(&db).await, "{query:?}");
    }
    // The server refuses plaintext: what require never falls back to.
    let line = refusal(&cluster.url("127.0.0.1", "postgres", "?sslmode=disable")).await;
    assert!(line.contains("no pg_hba.conf entry") && line.contains("no encryption"), "{line}");
    // A root file that is missing is named at set-up, before any connection.
    let line =
        refusal(&cluster.url("localhost", "postgres", "?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")).await;
    assert!(line.contains("sslrootcert /nonexistent/ca.pem: cannot read it"), "{line}");
}

/// A server without TLS: prefer falls back to plaintext, disable stays plain, require and
/// verify-full refuse it.
#[tokio::test(flavor = "multi_thread")]
async fn prefer_falls_back_and_require_refuses_a_server_without_tls() {
    let cluster = Cluster::start(None);
    for query in ["?sslmode=prefer", "", "?sslmode=disable"] {
        let db = Db::from_url(&cluster.url("127.0.0.1", "postgres", query), 1).await.unwrap();
        assert!(!session_ssl(&db).await, "{query:?} over plaintext");
    }
    let ca = ca("hub test CA");
    let ca_file = pem_file(&cluster.dir, "ca.pem", &ca.pem);
    for query in ["?sslmode=require".to_owned(), format!("?sslmode=verify-full&sslrootcert={ca_file}")] {
        let line = refusal(&cluster.url("localhost", "postgres", &query)).await;
        assert!(line.contains("the server does not accept TLS"), "{query}: {line}");
    }
    // The same for a dedicated connection (tooling) and migrations.
    let err = hub_postgres::run_migrations(&cluster.url("127.0.0.1", "postgres", "?sslmode=require"))
        .await
        .expect_err("require");
    assert!(err.to_string().contains("the server does not accept TLS"), "{err}");
}
