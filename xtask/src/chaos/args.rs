//! The options of `cargo xtask chaos`.

/// The part `--only` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// The crash matrix only
    Matrix,
    /// The load during a sync only
    Load,
    /// The two-instance trial only
    Instances,
    /// The outbox trial only (the hub killed between a change and its notification)
    Outbox,
}

/// The options of `cargo xtask chaos`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Args {
    /// Stores (and sandbox accounts) (1..=10000)
    #[arg(long, value_name = "N", default_value_t = 300, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
    pub stores: usize,
    /// Videos per account, on average (0..=1000)
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub videos: u32,
    /// SIGKILLs of a running `tiktok-hub sync`
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub trials: usize,
    /// `pg_ctl restart -m fast` during a run
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub pg_restarts: usize,
    /// `pg_terminate_backend` of every session during a run
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub terminations: usize,
    /// Seed of the fault points (a run prints its own, to replay it)
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// The sandbox's refresh-token rotation
    #[arg(long, value_name = "ROTATION", default_value = "strict", value_parser = ["strict", "may"])]
    pub rotation: String,
    /// Skip the load during a sync
    #[arg(long, conflicts_with = "only")]
    pub skip_load: bool,
    /// Run only this part
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// Use the debug build of the hub and the sandbox (the one `demo` and `apicheck` use)
    /// instead of building the release one: what CI runs, to spare a release build. It
    /// leaves out the load during a sync, whose pool and latency checks are about the
    /// release build; the figures in docs/RELIABILITY.md come from the release build.
    /// Not with `--only load`.
    #[arg(long)]
    pub debug: bool,
    /// Admin reads per second during the sync (1..=1000)
    #[arg(long, value_name = "RPS", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub rps: u32,
}

impl Args {
    /// Refuses what the options cannot mean together: the debug build's load part.
    pub fn check(&self) -> Result<(), String> {
        if self.debug && self.only == Some(Part::Load) {
            return Err("--debug leaves out the load during a sync; run `--only load` on the release build".into());
        }
        Ok(())
    }

    /// Whether the crash matrix runs.
    pub fn matrix(&self) -> bool {
        self.only.is_none_or(|p| p == Part::Matrix)
    }

    /// Whether the two-instance trial runs.
    pub fn instances(&self) -> bool {
        self.only.is_none_or(|p| p == Part::Instances)
    }

    /// Whether the outbox trial runs.
    pub fn outbox(&self) -> bool {
        self.only.is_none_or(|p| p == Part::Outbox)
    }

    /// Whether the load during a sync runs (never on the debug build).
    pub fn load(&self) -> bool {
        !self.skip_load && !self.debug && self.only.is_none_or(|p| p == Part::Load)
    }
}
