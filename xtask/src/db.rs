//! `cargo xtask db …`, the development database: `DATABASE_URL` when it answers, otherwise a
//! private PostgreSQL cluster (see [`crate::pg`]: under `target/pg`, or, as root, in a folder
//! of the temp dir named after the checkout), started with the machine's own `initdb`/`pg_ctl`.

use anyhow::{Context, Result};

use crate::pg::{PrivateCluster, find_bin_dir};
use crate::util;

/// `cargo xtask db <command>`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Subcommand)]
pub enum Command {
    /// Start the database: DATABASE_URL when it answers, else a private PostgreSQL cluster
    /// (under target/pg; as root in $TMPDIR/tiktok-hub-pg-<hash>/pg) (prints the URL; idempotent)
    Up,
    /// Apply pending migrations
    Migrate,
    /// Drop and recreate the database, then migrate
    Reset,
    /// Stop the private cluster
    Down,
    /// Print the URL the other commands use
    Url,
}

pub fn run(cmd: &Command) -> Result<()> {
    match cmd {
        Command::Up => up().map(|url| println!("{url}")),
        Command::Migrate => migrate(),
        Command::Reset => reset(),
        Command::Down => down(),
        Command::Url => up_quiet().map(|url| println!("{url}")),
    }
}

/// Brings a database up and returns its URL, saying on stderr which one it is.
pub fn up() -> Result<String> {
    let url = up_inner(true)?;
    Ok(url)
}

/// Like [`up`], without the notes on stderr.
pub fn up_quiet() -> Result<String> {
    up_inner(false)
}

fn up_inner(verbose: bool) -> Result<String> {
    if let Ok(url) = std::env::var("DATABASE_URL")
        && !url.trim().is_empty()
    {
        if answers(&url) {
            if verbose {
                eprintln!("xtask: using DATABASE_URL ({})", redact(&url));
            }
            return Ok(url);
        }
        eprintln!("xtask: DATABASE_URL ({}) does not answer; using the private cluster", redact(&url));
    }
    let pg = PrivateCluster::dev()?;
    pg.ensure_running(verbose)?;
    Ok(pg.url())
}

/// Stops the private cluster, if it runs.
pub fn down() -> Result<()> {
    if PrivateCluster::dev()?.stop()? {
        eprintln!("xtask: private PostgreSQL stopped");
    } else {
        eprintln!("xtask: private PostgreSQL is not running");
    }
    Ok(())
}

/// Whether a PostgreSQL server answers at `url` (`pg_isready`).
fn answers(url: &str) -> bool {
    match find_bin_dir() {
        Ok(dir) => {
            util::succeeds(dir.join("pg_isready").to_str().unwrap_or("pg_isready"), &["-q", "-t", "3", "-d", url])
        }
        Err(_) => util::succeeds("pg_isready", &["-q", "-t", "3", "-d", url]),
    }
}

/// `postgres://u:p@h:5432/db?x=1` with `db` replaced by `name`.
pub fn with_database(url: &str, name: &str) -> Result<String> {
    let scheme_end = url.find("://").context("database URL without a scheme")? + 3;
    let (base, query) = match url[scheme_end..].find('?') {
        Some(q) => url.split_at(scheme_end + q),
        None => (url, ""),
    };
    // The path starts at the first '/' after the authority (user info may hold a '/').
    let authority_start = base[scheme_end..].rfind('@').map_or(scheme_end, |at| scheme_end + at + 1);
    let host_end = base[authority_start..].find('/').map_or(base.len(), |p| authority_start + p);
    Ok(format!("{}/{name}{query}", &base[..host_end]))
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Applies pending migrations to the database [`up`] chooses.
pub fn migrate() -> Result<()> {
    let url = up_quiet()?;
    util::block_on(async {
        let applied = hub_postgres::run_migrations(&url).await?;
        if applied.is_empty() {
            eprintln!("xtask: schema is up to date");
        }
        for m in applied {
            eprintln!("xtask: applied {m}");
        }
        anyhow::Ok(())
    })
}

/// Drops every table of the hub's database and migrates it again.
pub fn reset() -> Result<()> {
    let url = up_quiet()?;
    util::block_on(async {
        hub_postgres::reset_schema(&url).await?;
        anyhow::Ok(())
    })?;
    eprintln!("xtask: schema dropped");
    migrate()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_password_only() {
        let cases = [
            ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db", "postgres://h/db"),
            ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ];
        for (raw, want) in cases {
            assert_eq!(redact(raw), want);
        }
    }
}
