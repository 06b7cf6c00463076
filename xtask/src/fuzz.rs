//! `cargo xtask fuzz [--seconds S] [--build-only] [TARGET…]`: the cargo-fuzz targets of
//! `crates/hub-fuzz`.
//!
//! Installs cargo-fuzz when missing, builds every target once (nightly, libFuzzer), then runs
//! each chosen target (all by default) for S seconds (60) on its grown corpus
//! (`crates/hub-fuzz/corpus/<target>`, ignored by git) plus its committed seeds
//! (`crates/hub-fuzz/seeds/<target>`). One line per target:
//!
//! ```text
//! fuzz target=state_decode seconds=60 execs=1234567 exec_s=20576 corpus=412 cov=1290 crashes=0
//! ```
//!
//! A crash (panic, failed assertion, sanitizer report, timeout or out-of-memory) prints the end
//! of libFuzzer's output and the artifact it wrote (`crates/hub-fuzz/artifacts/<target>/…`),
//! and the command fails. libFuzzer's whole output is kept in `target/fuzz-logs/<target>.log`.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::util;

const FUZZ_DIR: &str = "crates/hub-fuzz";
/// A single input taking longer than this counts as a failure (a hang or a quadratic blow-up).
const UNIT_TIMEOUT_S: u32 = 10;

/// The options of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// Seconds per target
    #[arg(long, value_name = "S", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    pub seconds: u32,
    /// Targets to run (all by default)
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Only install cargo-fuzz if missing and build the targets (CI builds them at low
    /// priority while other steps wait on the sandbox)
    #[arg(long)]
    pub build_only: bool,
}

/// What libFuzzer reported at the end of a run.
#[derive(Debug, Default, PartialEq)]
struct Stats {
    execs: u64,
    exec_per_s: u64,
    corpus: u64,
    cov: u64,
}

/// Reads the final figures from libFuzzer's output (`-print_final_stats=1` and its last
/// `#N … cov: C ft: F corp: U/S …` status line).
fn parse_stats(log: &str) -> Stats {
    let mut s = Stats::default();
    let field = |line: &str, key: &str| -> Option<u64> {
        let mut words = line.split_whitespace();
        words.find(|w| *w == key)?;
        words.next()?.split('/').next()?.parse().ok()
    };
    for line in log.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            s.execs = v.trim().parse().unwrap_or(s.execs);
        } else if let Some(v) = line.strip_prefix("stat::average_exec_per_sec:") {
            s.exec_per_s = v.trim().parse().unwrap_or(s.exec_per_s);
        } else if line.starts_with('#') {
            s.cov = field(line, "cov:").unwrap_or(s.cov);
            s.corpus = field(line, "corp:").unwrap_or(s.corpus);
        }
    }
    s
}

/// The crash input libFuzzer wrote, from its "Test unit written to …" line.
fn artifact(log: &str) -> Option<&str> {
    log.lines().rev().find_map(|l| l.split_once("Test unit written to ").map(|(_, p)| p.trim()))
}

/// `cargo` without the variables `cargo run` set for xtask: build scripts watch some of them
/// (ring reruns on `CARGO_MANIFEST_DIR`), so leaving them would rebuild every dependency
/// whenever the targets are also built by hand.
fn cargo() -> Command {
    let mut cmd = Command::new("cargo");
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let set_by_cargo_run = key.starts_with("CARGO_PKG_")
            || matches!(
                key,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
            );
        if set_by_cargo_run {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn ensure_cargo_fuzz() -> Result<()> {
    if !util::succeeds("cargo", &["+nightly", "--version"]) {
        bail!("the nightly toolchain is missing: rustup toolchain install nightly");
    }
    if !util::succeeds("cargo", &["+nightly", "fuzz", "--version"]) {
        eprintln!("xtask: cargo-fuzz is missing; installing it with `cargo install cargo-fuzz --locked`");
        util::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

pub fn run(args: &Args) -> Result<()> {
    ensure_cargo_fuzz()?;
    let root = util::root();
    let listed = util::output(cargo().current_dir(&root).args(["+nightly", "fuzz", "list", "--fuzz-dir", FUZZ_DIR]))?;
    let all: Vec<String> = listed.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    if let Some(unknown) = args.targets.iter().find(|t| !all.contains(t)) {
        bail!("unknown fuzz target {unknown:?}; targets: {}", all.join(", "));
    }
    let targets = if args.targets.is_empty() { all } else { args.targets.clone() };

    util::run(cargo().current_dir(&root).args(["+nightly", "fuzz", "build", "--fuzz-dir", FUZZ_DIR]))?;
    if args.build_only {
        return Ok(());
    }
    let logs = util::target_dir().join("fuzz-logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
    for target in &targets {
        run_target(&root, target, args.seconds, &logs.join(format!("{target}.log")))?;
    }
    Ok(())
}

fn run_target(root: &Path, target: &str, seconds: u32, log_path: &Path) -> Result<()> {
    let corpus = Path::new(FUZZ_DIR).join("corpus").join(target);
    std::fs::create_dir_all(root.join(&corpus)).with_context(|| format!("cannot create {}", corpus.display()))?;
    let seeds = Path::new(FUZZ_DIR).join("seeds").join(target);
    let log = File::create(log_path).with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut cmd = cargo();
    cmd.current_dir(root).args(["+nightly", "fuzz", "run", "--fuzz-dir", FUZZ_DIR, target]).arg(&corpus);
    if root.join(&seeds).is_dir() {
        cmd.arg(&seeds);
    }
    cmd.arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={UNIT_TIMEOUT_S}"))
        .arg("-print_final_stats=1")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let status = cmd.status().context("cannot start cargo fuzz")?;
    let out = std::fs::read_to_string(log_path).unwrap_or_default();
    let s = parse_stats(&out);
    let crashes = u8::from(!status.success());
    println!(
        "fuzz target={target} seconds={seconds} execs={} exec_s={} corpus={} cov={} crashes={crashes}",
        s.execs, s.exec_per_s, s.corpus, s.cov
    );
    if status.success() {
        return Ok(());
    }
    let lines: Vec<&str> = out.lines().collect();
    eprintln!("{}", lines[lines.len().saturating_sub(40)..].join("\n"));
    match artifact(&out) {
        Some(path) => bail!(
            "fuzz target {target} failed ({status}); input: {path}\n  reproduce: cargo +nightly fuzz run --fuzz-dir {FUZZ_DIR} {target} {path}\n  whole output: {}",
            log_path.display()
        ),
        None => bail!("fuzz target {target} failed ({status}); whole output: {}", log_path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_figures() {
        let log = "\
INFO: Seed: 1
#2\tINITED cov: 10 ft: 11 corp: 1/1b exec/s: 0 rss: 40Mb
#4096\tpulse  cov: 120 ft: 300 corp: 40/2Kb lim: 43 exec/s: 2048 rss: 50Mb
#91234\tDONE   cov: 133 ft: 350 corp: 52/3Kb lim: 400 exec/s: 4561 rss: 60Mb
Done 91234 runs in 20 second(s)
stat::number_of_executed_units: 91234
stat::average_exec_per_sec:     4561
stat::new_units_added:          51
";
        assert_eq!(parse_stats(log), Stats { execs: 91234, exec_per_s: 4561, corpus: 52, cov: 133 });
        let crash = "==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='x/'; Test unit written to crates/hub-fuzz/artifacts/t/crash-ab12\nBase64: AA==\n";
        assert_eq!(artifact(crash), Some("crates/hub-fuzz/artifacts/t/crash-ab12"));
        assert_eq!(artifact(log), None);
    }
}
