//! Private PostgreSQL clusters under `target/`, run with the machine's own server binaries:
//! the development cluster of `cargo xtask db` (`target/pg`, port 54329) and `cargo xtask
//! chaos`'s own (`target/chaos-pg`, port 54330).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util;

/// Port of the private cluster (away from a system server on 5432).
const PRIVATE_PORT: u16 = 54329;
/// Port of `cargo xtask chaos`'s own cluster.
const CHAOS_PORT: u16 = 54330;
/// The database the hub uses inside the private cluster.
const PRIVATE_DB: &str = "tiktok_hub";

/// The directory holding `initdb`, `pg_ctl`, `psql`: `PG_BIN`, `pg_config --bindir`, the
/// newest `/usr/lib/postgresql/*/bin`, or `PATH`.
pub fn find_bin_dir() -> Result<PathBuf> {
    let has_initdb = |d: &Path| d.join("initdb").exists() && d.join("pg_ctl").exists();
    if let Ok(dir) = std::env::var("PG_BIN") {
        let dir = PathBuf::from(dir);
        if has_initdb(&dir) {
            return Ok(dir);
        }
    }
    if let Ok(out) = util::output(Command::new("pg_config").arg("--bindir")) {
        let dir = PathBuf::from(out.trim());
        if has_initdb(&dir) {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, d)| has_initdb(d))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Ok(dir);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if has_initdb(&dir) {
            return Ok(dir);
        }
    }
    bail!(
        "no PostgreSQL server binaries (initdb, pg_ctl) found: install them (Debian/Ubuntu: `apt-get install postgresql`, macOS: `brew install postgresql`) or set DATABASE_URL to a running server"
    )
}

/// A PostgreSQL cluster under `target/`, run with the machine's own server binaries.
pub struct PrivateCluster {
    bin: PathBuf,
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    /// Run the server binaries as this user (PostgreSQL refuses to run as root).
    run_as: Option<String>,
}

impl PrivateCluster {
    /// The development cluster (`target/pg`, port 54329).
    pub fn dev() -> Result<Self> {
        Self::at(util::root().join("target").join("pg"), PRIVATE_PORT)
    }

    /// `cargo xtask chaos`'s own cluster (`target/chaos-pg`, port 54330): chaos restarts it
    /// and terminates its connections, so it never uses a server anyone else uses.
    pub fn chaos() -> Result<Self> {
        Self::at(util::root().join("target").join("chaos-pg"), CHAOS_PORT)
    }

    fn at(dir: PathBuf, port: u16) -> Result<Self> {
        let run_as = if util::output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0") {
            if !util::succeeds("id", &["postgres"]) {
                bail!(
                    "running as root, and PostgreSQL refuses to run as root: create a `postgres` user or run as a normal user"
                );
            }
            Some("postgres".to_owned())
        } else {
            None
        };
        Ok(Self { bin: find_bin_dir()?, data: dir.join("data"), dir, port, run_as })
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// The hub's database in this cluster.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{PRIVATE_DB}", self.port)
    }

    /// Where the cluster lives (its data directory and `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `pg_ctl restart -m fast`: every session is cut, the server is back when it returns.
    pub fn restart(&self) -> Result<()> {
        let mut cmd = Command::new(self.bin("pg_ctl"));
        cmd.arg("-D").arg(&self.data).arg("-l").arg(self.dir.join("server.log"));
        self.as_owner(cmd.args(["-m", "fast", "-w", "-t", "60", "restart"])).map(|_| ())
    }

    /// Runs `sql` with `psql` on database `db`; returns the unaligned, tuples-only output
    /// (one line per row, columns separated by tabs).
    pub fn psql(&self, db: &str, sql: &str) -> Result<String> {
        let port = self.port.to_string();
        let args = ["-X", "-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1"];
        util::output(Command::new(self.bin("psql")).args(args).args(["-tA", "-F", "\t", "-c", sql]))
    }

    /// Stops the cluster if it runs; `Ok(false)` if it did not.
    pub fn stop(&self) -> Result<bool> {
        if !(self.data.join("PG_VERSION").exists() && self.running()) {
            return Ok(false);
        }
        self.as_owner(Command::new(self.bin("pg_ctl")).arg("-D").arg(&self.data).args(["-m", "fast", "-w", "stop"]))?;
        Ok(true)
    }

    /// Runs `cmd` as the cluster's owner.
    fn as_owner(&self, cmd: &mut Command) -> Result<String> {
        match &self.run_as {
            None => util::output(cmd),
            Some(user) => {
                let mut wrapped = Command::new("runuser");
                wrapped.args(["-u", user, "--"]).arg(cmd.get_program()).args(cmd.get_args());
                util::output(&mut wrapped)
            }
        }
    }

    fn running(&self) -> bool {
        self.as_owner(Command::new(self.bin("pg_ctl")).arg("-D").arg(&self.data).arg("status")).is_ok()
    }

    pub fn ensure_running(&self, verbose: bool) -> Result<()> {
        std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
        if let Some(user) = &self.run_as {
            util::output(Command::new("chown").arg(format!("{user}:")).arg(&self.dir))?;
        }
        if !self.data.join("PG_VERSION").exists() {
            if verbose {
                eprintln!("xtask: creating a private PostgreSQL cluster in {}", self.data.display());
            }
            self.as_owner(Command::new(self.bin("initdb")).arg("-D").arg(&self.data).args([
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ]))?;
        }
        if !self.running() {
            if verbose {
                eprintln!("xtask: starting the private PostgreSQL on 127.0.0.1:{}", self.port);
            }
            let opts = format!(
                "-p {} -c listen_addresses=127.0.0.1 -k {} -c max_connections=300",
                self.port,
                self.dir.display()
            );
            self.as_owner(
                Command::new(self.bin("pg_ctl"))
                    .arg("-D")
                    .arg(&self.data)
                    .arg("-l")
                    .arg(self.dir.join("server.log"))
                    .args(["-w", "-t", "60", "-o", &opts, "start"]),
            )
            .with_context(|| {
                format!("the private PostgreSQL did not start (see {})", self.dir.join("server.log").display())
            })?;
        }
        let psql = self.bin("psql");
        let port = self.port.to_string();
        let exists = util::output(Command::new(&psql).args([
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-tAc",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{PRIVATE_DB}'"),
        ]))?;
        if exists.trim() != "1" {
            util::output(Command::new(&psql).args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qc",
                &format!("CREATE DATABASE {PRIVATE_DB}"),
            ]))?;
        }
        Ok(())
    }
}
