//! The whole command line, table-driven: each case a command line and what it parses to (or
//! that clap refuses it).

use clap::Parser;

use super::{Cli, Command};
use crate::bench;

/// Parses `cargo xtask <raw>` and describes the result in a line, so the table stays readable.
fn parse(raw: &str) -> Result<String, String> {
    let argv = std::iter::once("xtask").chain(raw.split_whitespace());
    let cli = Cli::try_parse_from(argv).map_err(|e| format!("{:?}", e.kind()))?;
    Ok(match cli.command {
        Command::Demo(a) => format!("demo exit={} stores={}", a.exit, a.stores),
        Command::Db(c) => format!("db {}", format!("{c:?}").to_lowercase()),
        Command::Seed(a) => format!("seed stores={} days={} videos={}", a.stores, a.days, a.videos),
        Command::Test(a) => format!("test {:?}", a.passed()),
        Command::Tidy(a) => format!("tidy only={:?}", a.only),
        Command::Bench(bench::Command::Sync(a)) => format!(
            "bench sync stores={} videos={} time_scale={} latency={} release={} instances={} redis={}",
            a.stores, a.videos, a.time_scale, a.latency, !a.debug, a.instances, a.redis
        ),
        Command::Bench(c) => format!("{c:?}"),
        Command::Chaos(a) if a.check().is_err() => return Err("Refused by Args::check".into()),
        Command::Chaos(a) => format!(
            "chaos stores={} videos={} trials={} pg_restarts={} terminations={} seed={:?} rotation={} matrix={} instances={} outbox={} load={} rps={}",
            a.stores,
            a.videos,
            a.trials,
            a.pg_restarts,
            a.terminations,
            a.seed,
            a.rotation,
            a.matrix(),
            a.instances(),
            a.outbox(),
            a.load(),
            a.rps
        ),
        Command::Apicheck(a) => format!("apicheck {:?}", a.passed()),
        Command::Fuzz(a) => format!("fuzz seconds={} targets={:?} build_only={}", a.seconds, a.targets, a.build_only),
    })
}

#[test]
fn command_lines() {
    let ok = |s: &str| Ok::<String, String>(s.to_owned());
    let err = |kind: &str| Err::<String, String>(kind.to_owned());
    let cases: &[(&str, Result<String, String>)] = &[
        // demo
        ("demo", ok("demo exit=false stores=300")),
        ("demo --exit --stores 20", ok("demo exit=true stores=20")),
        ("demo --stores 0", err("ValueValidation")),
        ("demo --stores 5001", err("ValueValidation")),
        ("demo --stores x", err("ValueValidation")),
        ("demo --bogus", err("UnknownArgument")),
        // db
        ("db up", ok("db up")),
        ("db migrate", ok("db migrate")),
        ("db reset", ok("db reset")),
        ("db down", ok("db down")),
        ("db url", ok("db url")),
        ("db", err("DisplayHelpOnMissingArgumentOrSubcommand")),
        ("db sideways", err("InvalidSubcommand")),
        // seed (the table of the old hand-written parser)
        ("seed --stores 10 --days 3", ok("seed stores=10 days=3 videos=20")),
        ("seed --days 30 --stores 10000 --videos 5", ok("seed stores=10000 days=30 videos=5")),
        ("seed --stores 99999 --days 3650 --videos 1000", ok("seed stores=99999 days=3650 videos=1000")),
        ("seed --stores 10", err("MissingRequiredArgument")),
        ("seed --stores 0 --days 1", err("ValueValidation")),
        ("seed --stores 100000 --days 1", err("ValueValidation")),
        ("seed --stores 1 --days 3651", err("ValueValidation")),
        ("seed --stores 1 --days 1 --videos 1001", err("ValueValidation")),
        ("seed --stores x --days 1", err("ValueValidation")),
        ("seed --stores 1 --days 1 --bogus", err("UnknownArgument")),
        ("seed --stores", err("InvalidValue")),
        // test: everything after it goes to the runner, flags and `--` included
        ("test", ok("test []")),
        ("test -p hub-engine sync", ok(r#"test ["-p", "hub-engine", "sync"]"#)),
        ("test --release -- --nocapture", ok(r#"test ["--release", "--", "--nocapture"]"#)),
        ("test sync -- --nocapture", ok(r#"test ["sync", "--", "--nocapture"]"#)),
        ("test -- --nocapture", ok(r#"test ["--", "--nocapture"]"#)),
        ("test --no-fail-fast -E test(sync) -j 2", ok(r#"test ["--no-fail-fast", "-E", "test(sync)", "-j", "2"]"#)),
        // tidy
        ("tidy", ok("tidy only=[]")),
        ("tidy --only imports", ok("tidy only=[Imports]")),
        ("tidy --only imports,sizes --only adapters", ok("tidy only=[Imports, Sizes, Adapters]")),
        ("tidy --only fmt,clippy,core", ok("tidy only=[Fmt, Clippy, Core]")),
        ("tidy --only everything", err("InvalidValue")),
        // bench
        (
            "bench sync --stores 300 --videos 50",
            ok("bench sync stores=300 videos=50 time_scale=1 latency=300-800 release=true instances=1 redis=false"),
        ),
        (
            "bench sync --stores 10000 --time-scale 20 --latency 0-0 --debug",
            ok("bench sync stores=10000 videos=50 time_scale=20 latency=0-0 release=false instances=1 redis=false"),
        ),
        (
            "bench sync --stores 1 --debug --release",
            ok("bench sync stores=1 videos=50 time_scale=1 latency=300-800 release=true instances=1 redis=false"),
        ),
        (
            "bench sync --stores 300 --videos 50 --instances 2 --redis",
            ok("bench sync stores=300 videos=50 time_scale=1 latency=300-800 release=true instances=2 redis=true"),
        ),
        ("bench sync --stores 1 --instances 3", err("ValueValidation")),
        ("bench sync --stores 1 --instances 0", err("ValueValidation")),
        ("bench sync", err("MissingRequiredArgument")),
        ("bench load --stores 1", err("InvalidSubcommand")),
        ("bench sync --stores 0", err("ValueValidation")),
        ("bench sync --stores 1 --latency 800-300", err("ValueValidation")),
        ("bench sync --stores 1 --time-scale 0.5", err("ValueValidation")),
        ("bench sync --stores 1 --bogus", err("UnknownArgument")),
        (
            "bench db",
            ok("Db(Args { stores: 1000, days: 365, videos: 100, export_rows: 10000000, reps: 100, reuse: false })"),
        ),
        (
            "bench db --videos 20 --reuse --export-rows 0",
            ok("Db(Args { stores: 1000, days: 365, videos: 20, export_rows: 0, reps: 100, reuse: true })"),
        ),
        ("bench db --stores 10", err("ValueValidation")),
        ("bench db --days 7", err("ValueValidation")),
        ("bench db --videos", err("InvalidValue")),
        ("bench db --reps 1", err("ValueValidation")),
        ("bench db --bogus 1", err("UnknownArgument")),
        ("bench api", ok("Api(Args { connections: 50, seconds: 15 })")),
        ("bench api --connections 10 --seconds 3", ok("Api(Args { connections: 10, seconds: 3 })")),
        ("bench api --connections 0", err("ValueValidation")),
        ("bench api --seconds 301", err("ValueValidation")),
        ("bench", err("DisplayHelpOnMissingArgumentOrSubcommand")),
        // chaos
        (
            "chaos",
            ok(
                "chaos stores=300 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=strict matrix=true instances=true outbox=true load=true rps=20",
            ),
        ),
        (
            "chaos --stores 30 --trials 3 --seed 7 --skip-load",
            ok(
                "chaos stores=30 videos=50 trials=3 pg_restarts=3 terminations=3 seed=Some(7) rotation=strict matrix=true instances=true outbox=true load=false rps=20",
            ),
        ),
        (
            "chaos --only load --rotation may --rps 5",
            ok(
                "chaos stores=300 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=may matrix=false instances=false outbox=false load=true rps=5",
            ),
        ),
        (
            "chaos --trials 2 --pg-restarts 1 --terminations 1 --only matrix",
            ok(
                "chaos stores=300 videos=50 trials=2 pg_restarts=1 terminations=1 seed=None rotation=strict matrix=true instances=false outbox=false load=false rps=20",
            ),
        ),
        (
            "chaos --only instances --stores 30",
            ok(
                "chaos stores=30 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=strict matrix=false instances=true outbox=false load=false rps=20",
            ),
        ),
        (
            "chaos --debug",
            ok(
                "chaos stores=300 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=strict matrix=true instances=true outbox=true load=false rps=20",
            ),
        ),
        (
            "chaos --only outbox --stores 30",
            ok(
                "chaos stores=30 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=strict matrix=false instances=false outbox=true load=false rps=20",
            ),
        ),
        (
            "chaos --debug --only outbox",
            ok(
                "chaos stores=300 videos=50 trials=20 pg_restarts=3 terminations=3 seed=None rotation=strict matrix=false instances=false outbox=true load=false rps=20",
            ),
        ),
        ("chaos --debug --only load", err("Refused by Args::check")),
        ("chaos --stores 0", err("ValueValidation")),
        ("chaos --only everything", err("InvalidValue")),
        ("chaos --rotation sometimes", err("InvalidValue")),
        ("chaos --rps 0", err("ValueValidation")),
        ("chaos --trials", err("InvalidValue")),
        ("chaos --skip-load --only load", err("ArgumentConflict")),
        ("chaos --bogus", err("UnknownArgument")),
        // apicheck: everything goes to schemathesis
        ("apicheck", ok("apicheck []")),
        ("apicheck --seed 1 -c not_a_server_error", ok(r#"apicheck ["--seed", "1", "-c", "not_a_server_error"]"#)),
        ("apicheck -- --seed 1", ok(r#"apicheck ["--", "--seed", "1"]"#)),
        // fuzz
        ("fuzz", ok("fuzz seconds=60 targets=[] build_only=false")),
        (
            "fuzz --seconds 20 state_decode admin_body",
            ok(r#"fuzz seconds=20 targets=["state_decode", "admin_body"] build_only=false"#),
        ),
        ("fuzz --build-only", ok("fuzz seconds=60 targets=[] build_only=true")),
        ("fuzz --seconds", err("InvalidValue")),
        ("fuzz --seconds 0", err("ValueValidation")),
        ("fuzz --jobs 2", err("UnknownArgument")),
        // help, everywhere
        ("--help", err("DisplayHelp")),
        ("help", err("DisplayHelp")),
        ("help bench", err("DisplayHelp")),
        ("bench sync --help", err("DisplayHelp")),
        (
            "bench web --stores 300 --days 90 --videos 50 --reuse",
            ok("Web(Args { stores: 300, days: 90, videos: 50, reps: 100, reuse: true })"),
        ),
        ("bench web --reps 5", err("ValueValidation")),
        ("db up --help", err("DisplayHelp")),
        ("", err("DisplayHelpOnMissingArgumentOrSubcommand")),
        ("nonsense", err("InvalidSubcommand")),
    ];
    for (raw, want) in cases {
        assert_eq!(&parse(raw), want, "cargo xtask {raw}");
    }
}

/// `--help` of every command and sub-command renders with its own usage line (and clap's
/// consistency checks pass).
#[test]
fn every_command_has_help() {
    use clap::CommandFactory;
    let cli = Cli::command();
    cli.clone().debug_assert();
    let mut paths = Vec::new();
    let mut stack = vec![(Vec::<String>::new(), cli)];
    while let Some((path, cmd)) = stack.pop() {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut p = path.clone();
            p.push(sub.get_name().to_owned());
            stack.push((p, sub.clone()));
        }
        paths.push(path);
    }
    // The top level, 9 commands, db's 5 and bench's 5.
    assert_eq!(paths.len(), 1 + 9 + 5 + 5);
    for path in paths {
        let argv = std::iter::once("xtask").chain(path.iter().map(String::as_str)).chain(["--help"]);
        let e = Cli::try_parse_from(argv).expect_err("help");
        assert_eq!(e.kind(), clap::error::ErrorKind::DisplayHelp, "{path:?}");
        let usage =
            format!("Usage: {}", ["cargo xtask".to_owned()].iter().chain(&path).cloned().collect::<Vec<_>>().join(" "));
        assert!(e.to_string().contains(&usage), "{path:?}: {e}");
    }
}
