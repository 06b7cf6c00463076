//! Logging set-up: `LOG_LEVEL`, `LOG_FORMAT=json`, and `DB_LOGGING` for SQL-level detail.

use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

/// Installs the global subscriber once. `RUST_LOG`, when set, overrides `LOG_LEVEL`.
pub fn init(config: &Config) {
    let mut directives = format!("{},actix_server=warn", config.log_level);
    if config.db_logging {
        directives.push_str(",hub_postgres=debug,diesel=debug");
    }
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(directives));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
