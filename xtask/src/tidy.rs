//! `cargo xtask tidy`: formatting, lints and the crate boundaries of docs/ARCHITECTURE.md.

use std::process::Command;

use anyhow::{Result, bail};

use crate::util;

/// Crates of the core, which must stay free of adapters.
const CORE: &[&str] = &["hub-domain", "hub-ports", "hub-engine"];
/// What the core may never depend on, directly or not.
const FORBIDDEN: &[&str] = &[
    "actix-web",
    "actix-http",
    "diesel",
    "diesel-async",
    "reqwest",
    "hyper",
    "paperclip",
    "apalis",
    "hub-postgres",
    "hub-tiktok",
    "hub-http",
    "hub-jobs",
    "tiktok-sandbox",
];

/// The options of `cargo xtask tidy` (none).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {}

pub fn run(_args: &Args) -> Result<()> {
    util::run(Command::new(util::cargo()).args(["fmt", "--all", "--", "--check"]))?;
    util::run(Command::new(util::cargo()).args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    boundaries()?;
    eprintln!("xtask: tidy ok");
    Ok(())
}

/// Checks with `cargo tree` that no core crate reaches an adapter or a wire/driver crate.
fn boundaries() -> Result<()> {
    let members = util::output(Command::new(util::cargo()).args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let mut problems = Vec::new();
    for krate in CORE.iter().filter(|k| members.contains(&format!("\"name\":\"{k}\""))) {
        let tree = util::output(
            Command::new(util::cargo())
                .args(["tree", "-p", krate, "-e", "normal", "--prefix", "none", "--format", "{p}"]),
        )?;
        for line in tree.lines() {
            let name = line.split_whitespace().next().unwrap_or_default();
            if FORBIDDEN.contains(&name) {
                problems.push(format!("{krate} depends on {name}"));
            }
        }
    }
    problems.sort();
    problems.dedup();
    if !problems.is_empty() {
        bail!("crate boundaries broken:\n  {}", problems.join("\n  "));
    }
    eprintln!("xtask: crate boundaries ok ({} checked)", CORE.join(", "));
    Ok(())
}
