//! `cargo xtask tidy`: formatting, lints, the crate boundaries of docs/ARCHITECTURE.md, import
//! circles between files, and file sizes. This module only runs the checks; each lives in its
//! own module (`deps`, `imports`, `sizes`), which depends on none of the others but `imports`'s
//! file reader.

mod deps;
mod imports;
mod scc;
mod sizes;

use std::process::Command;

use anyhow::{Result, bail};

use crate::util;

/// One check of `cargo xtask tidy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Check {
    /// cargo fmt --check
    Fmt,
    /// clippy -D warnings on every target and feature
    Clippy,
    /// the core (hub-domain, hub-ports, hub-engine) reaches no adapter or wire/driver crate
    Core,
    /// no adapter depends on another adapter or on hub-app
    Adapters,
    /// no import circles between the files of a crate
    Imports,
    /// no hand-written source file over 600 lines
    Sizes,
}

/// The options of `cargo xtask tidy`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// Run only these checks (comma-separated or repeated)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "CHECK")]
    pub only: Vec<Check>,
}

pub fn run(args: &Args) -> Result<()> {
    let all = [Check::Fmt, Check::Clippy, Check::Core, Check::Adapters, Check::Imports, Check::Sizes];
    let chosen: Vec<Check> = all.into_iter().filter(|c| args.only.is_empty() || args.only.contains(c)).collect();
    let mut failed = Vec::new();
    for check in chosen {
        if let Err(e) = run_check(check) {
            eprintln!("xtask: {e:#}");
            failed.push(format!("{check:?}").to_lowercase());
        }
    }
    if !failed.is_empty() {
        bail!("tidy failed: {}", failed.join(", "));
    }
    eprintln!("xtask: tidy ok");
    Ok(())
}

fn run_check(check: Check) -> Result<()> {
    let root = util::root();
    match check {
        Check::Fmt => util::run(Command::new(util::cargo()).args(["fmt", "--all", "--", "--check"])),
        Check::Clippy => util::run(Command::new(util::cargo()).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ])),
        Check::Core => deps::core_boundaries(),
        Check::Adapters => deps::adapter_boundaries(),
        Check::Imports => {
            let report = imports::check(&root)?;
            if !report.circles.is_empty() {
                bail!(
                    "import circles: {} ({} crates, {} files)\n{}",
                    report.circles.len(),
                    report.crates,
                    report.files,
                    report.describe().trim_end()
                );
            }
            eprintln!("xtask: import circles: none ({} crates, {} files)", report.crates, report.files);
            Ok(())
        }
        Check::Sizes => {
            let files = sizes::line_counts(&root)?;
            let over = sizes::oversized(&files, sizes::LIMIT, sizes::EXEMPT);
            if !over.is_empty() {
                let list: Vec<String> = over.iter().map(|(p, n)| format!("{p}: {n} lines")).collect();
                bail!(
                    "file sizes: {} files over {} lines (exempt: {}):\n  {}",
                    over.len(),
                    sizes::LIMIT,
                    sizes::EXEMPT.join(", "),
                    list.join("\n  ")
                );
            }
            eprintln!("xtask: file sizes ok ({} files, none over {} lines)", files.len(), sizes::LIMIT);
            Ok(())
        }
    }
}
