//! `cargo xtask seed`: synthetic stores and history. (Being written.)

use anyhow::{Result, bail};

/// Runs a future on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

pub fn run(_args: &[String]) -> Result<()> {
    bail!("seed is not written yet")
}
