//! Private PostgreSQL clusters, run with the machine's own server binaries: the development
//! cluster of `cargo xtask db` (port 54329) and `cargo xtask chaos`'s own (port 54330).
//!
//! Where a cluster lives:
//! - as a normal user, in the checkout: `target/pg` and `target/chaos-pg`;
//! - as root, PostgreSQL has to run as the `postgres` user (through `runuser`; it refuses to
//!   run as root), who may be unable to enter the checkout (under `/root`, or in a
//!   `mktemp -d` folder of mode 0700). The cluster then lives in a folder of the system temp
//!   dir named after the checkout: `$TMPDIR/tiktok-hub-pg-<hash of the checkout's path>/pg`
//!   (and `/chaos-pg`). That folder is root's, mode 0711 (enterable, not listable); each
//!   cluster's folder in it is `postgres`'s own, mode 0700. The checkout's permissions are
//!   never changed. A cluster still running under `target/` from before (root, in a folder
//!   `postgres` can enter) is used, and stopped by `cargo xtask db down`, where it is.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::util;

/// Port of the development cluster (away from a system server on 5432).
const DEV_PORT: u16 = 54329;
/// Port of `cargo xtask chaos`'s own cluster.
const CHAOS_PORT: u16 = 54330;
/// The database the hub uses inside a private cluster.
const PRIVATE_DB: &str = "tiktok_hub";
/// The user the server binaries run as when xtask runs as root.
const SERVER_USER: &str = "postgres";

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

/// A short, stable name for a checkout: 12 hex digits of the FNV-1a hash of its path (the
/// same on every run and every Rust version, unlike `std`'s hasher).
pub fn checkout_key(checkout: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in checkout.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
}

/// The folder of the temp dir that holds a checkout's clusters when they run as another user.
pub fn shared_parent(checkout: &Path, temp: &Path) -> PathBuf {
    temp.join(format!("tiktok-hub-pg-{}", checkout_key(checkout)))
}

/// The folder of cluster `name` (`pg`, `chaos-pg`): under `target/` of the checkout, or, when
/// the server runs as another user, under [`shared_parent`].
pub fn cluster_dir(checkout: &Path, name: &str, other_user: bool, temp: &Path) -> PathBuf {
    if other_user { shared_parent(checkout, temp).join(name) } else { checkout.join("target").join(name) }
}

/// A private PostgreSQL cluster.
pub struct PrivateCluster {
    bin: PathBuf,
    /// The cluster's folder: `data/`, `server.log` and the server's socket.
    dir: PathBuf,
    data: PathBuf,
    port: u16,
    /// Run the server binaries as this user (PostgreSQL refuses to run as root).
    run_as: Option<String>,
    /// Whether `dir` is in the temp dir's folder of this checkout (made by xtask, for `run_as`).
    shared: bool,
}

impl PrivateCluster {
    /// The development cluster (`pg`, port 54329, or `XTASK_PG_PORT` when set: for a second
    /// checkout's cluster beside a first one's).
    pub fn dev() -> Result<Self> {
        let port = match std::env::var("XTASK_PG_PORT") {
            Ok(p) if !p.trim().is_empty() => {
                p.trim().parse().with_context(|| format!("XTASK_PG_PORT must be a port number, not {p:?}"))?
            }
            _ => DEV_PORT,
        };
        Self::named("pg", port)
    }

    /// `cargo xtask chaos`'s own cluster (`chaos-pg`, port 54330): chaos restarts it and
    /// terminates its connections, so it never uses a server anyone else uses.
    pub fn chaos() -> Result<Self> {
        Self::named("chaos-pg", CHAOS_PORT)
    }

    fn named(name: &str, port: u16) -> Result<Self> {
        let run_as = if util::output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0") {
            if !util::succeeds("id", &[SERVER_USER]) {
                bail!(
                    "running as root, and PostgreSQL refuses to run as root: create a `postgres` user or run as a normal user"
                );
            }
            Some(SERVER_USER.to_owned())
        } else {
            None
        };
        let checkout = util::root();
        let checkout = checkout.canonicalize().unwrap_or(checkout);
        let dir = cluster_dir(&checkout, name, run_as.is_some(), &std::env::temp_dir());
        let shared = run_as.is_some();
        let cluster = Self { bin: find_bin_dir()?, data: dir.join("data"), dir, port, run_as, shared };
        if cluster.run_as.is_some() {
            // A cluster started under target/ before root's clusters moved to the temp dir:
            // used while it runs (`db down` stops it; the next `db up` starts the new one).
            let legacy = checkout.join("target").join(name);
            if legacy.join("data").join("postmaster.pid").exists() {
                let old = Self {
                    bin: cluster.bin.clone(),
                    data: legacy.join("data"),
                    dir: legacy,
                    port,
                    run_as: cluster.run_as.clone(),
                    shared: false,
                };
                if old.running() {
                    return Ok(old);
                }
            }
        }
        Ok(cluster)
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

    /// Runs `cmd` as the cluster's owner. As another user it starts in `/`, a folder every
    /// user can enter (the server binaries fail when they cannot enter their working folder).
    fn as_owner(&self, cmd: &mut Command) -> Result<String> {
        match &self.run_as {
            None => util::output(cmd),
            Some(user) => {
                let mut wrapped = Command::new("runuser");
                wrapped.args(["-u", user, "--"]).arg(cmd.get_program()).args(cmd.get_args()).current_dir("/");
                util::output(&mut wrapped)
            }
        }
    }

    fn running(&self) -> bool {
        self.as_owner(Command::new(self.bin("pg_ctl")).arg("-D").arg(&self.data).arg("status")).is_ok()
    }

    /// Creates the cluster's folder. As another user: its parent in the temp dir (root's,
    /// 0711), then the folder itself (the server user's, 0700).
    fn prepare_dir(&self) -> Result<()> {
        match (&self.run_as, self.dir.parent()) {
            (Some(user), Some(parent)) if self.shared => {
                own_folder(parent, 0o711, None)?;
                own_folder(&self.dir, 0o700, Some(user))
            }
            _ => std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display())),
        }
    }

    /// What to do when the server binaries fail in this cluster's folder, in one line.
    fn fix_hint(&self, what: &str, e: &anyhow::Error) -> String {
        let first = format!("{e:#}");
        let first = first.lines().next().unwrap_or_default();
        match &self.run_as {
            Some(user) => format!(
                "the private PostgreSQL {what} in {} (run as `{user}`): {first}; fix: let `{user}` enter {} and every folder above it (or delete it so xtask makes it again), or set DATABASE_URL to a running server",
                self.dir.display(),
                self.dir.display()
            ),
            None => format!(
                "the private PostgreSQL {what} in {}: {first}; see {} (or set DATABASE_URL to a running server)",
                self.dir.display(),
                self.dir.join("server.log").display()
            ),
        }
    }

    pub fn ensure_running(&self, verbose: bool) -> Result<()> {
        self.prepare_dir()?;
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
            ]))
            .map_err(|e| anyhow::anyhow!(self.fix_hint("cannot be created", &e)))?;
        }
        if self.running() {
            // Started earlier with another XTASK_PG_PORT: the URL would name the wrong server.
            let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap_or_default();
            if let Some(actual) = pid_file.lines().nth(3).map(str::trim).filter(|p| *p != self.port.to_string()) {
                bail!(
                    "the private PostgreSQL in {} runs on port {actual}, not {}: set XTASK_PG_PORT={actual}, or stop it with `cargo xtask db down`",
                    self.dir.display(),
                    self.port
                );
            }
        } else {
            let port = self.port.to_string();
            if util::succeeds(
                self.bin("pg_isready").to_str().unwrap_or("pg_isready"),
                &["-q", "-h", "127.0.0.1", "-p", &port],
            ) {
                bail!(
                    "port {port} is taken by another PostgreSQL (another checkout's private cluster?): stop it with `cargo xtask db down` in that checkout, set XTASK_PG_PORT to a free port, or set DATABASE_URL to a running server"
                );
            }
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
            .map_err(|e| {
                anyhow::anyhow!(self.fix_hint("did not start", &e))
                    .context(format!("see {}", self.dir.join("server.log").display()))
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

/// Makes `dir` a real folder (not a link) with `mode`, owned by root or, with `owner`, by that
/// user; refuses one someone else made (the temp dir is shared by every user).
fn own_folder(dir: &Path, mode: u32, owner: Option<&str>) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if !m.file_type().is_dir() => {
            bail!("{} is not a folder: remove it, then run the command again", dir.display())
        }
        Ok(m) => {
            let allowed = match owner {
                None => m.uid() == 0,
                Some(user) => m.uid() == 0 || Some(m.uid()) == uid_of(user),
            };
            if !allowed {
                bail!(
                    "{} belongs to uid {}, not to root{}: remove it, then run the command again",
                    dir.display(),
                    m.uid(),
                    owner.map(|u| format!(" or {u}")).unwrap_or_default()
                );
            }
        }
        Err(_) => std::fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?,
    }
    if let Some(user) = owner {
        util::output(Command::new("chown").arg(format!("{user}:")).arg(dir))?;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", dir.display()))
}

fn uid_of(user: &str) -> Option<u32> {
    util::output(Command::new("id").args(["-u", user])).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_of_root_live_in_the_temp_dir_named_after_the_checkout() {
        let tmp = Path::new("/tmp");
        let a = Path::new("/root/work/main");
        let b = Path::new("/tmp/tmp.x1Yz/main");
        assert_eq!(cluster_dir(a, "pg", false, tmp), Path::new("/root/work/main/target/pg"));
        assert_eq!(cluster_dir(a, "chaos-pg", false, tmp), Path::new("/root/work/main/target/chaos-pg"));
        let key = checkout_key(a);
        assert_eq!(key.len(), 12);
        assert!(key.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(key, checkout_key(Path::new("/root/work/main")), "the same checkout, the same folder");
        assert_ne!(key, checkout_key(b));
        assert_eq!(cluster_dir(a, "pg", true, tmp), tmp.join(format!("tiktok-hub-pg-{key}")).join("pg"));
        assert_eq!(cluster_dir(a, "chaos-pg", true, tmp).parent(), Some(shared_parent(a, tmp).as_path()));
        // A fixed value: the folder of a checkout must not move between builds or toolchains.
        assert_eq!(checkout_key(Path::new("/")), "af63a24c8601");
    }
}
