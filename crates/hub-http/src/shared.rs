//! The HTTP limits shared by every instance through [`SharedLimits`] (the backend of the
//! TikTok budget: PostgreSQL or Redis): the admin rate per client address counts requests to
//! every instance, and failed keys and sign-ins from one address block it on every instance.
//!
//! Each instance keeps its own in-process limits as well (bounded tables, [`crate::limits`]):
//! they answer first, and they are all there is while the shared backend does not answer
//! (a shared check that fails lets the request through to the local ones, never refuses it).

use std::net::IpAddr;
use std::time::Duration;

use hub_ports::Rate;

use crate::error::ApiError;
use crate::limits::limit_key;
use crate::state::AppState;

fn failure_key(ip: IpAddr) -> String {
    format!("auth:{}", limit_key(ip))
}

/// The shared block of `ip`, when it is blocked on any instance.
pub(crate) async fn blocked(state: &AppState, ip: IpAddr) -> Option<Duration> {
    let shared = state.shared.as_ref()?;
    match shared.blocked(&failure_key(ip)).await {
        Ok(left) => left,
        Err(e) => {
            tracing::debug!(error = %e, "shared auth-failure block not checked");
            None
        }
    }
}

/// Counts a failed key or sign-in from `ip` on every instance.
pub(crate) async fn failed(state: &AppState, ip: IpAddr) {
    let Some(shared) = state.shared.as_ref() else { return };
    let max = state.config.auth_failure_max;
    if max == 0 {
        return;
    }
    match shared.fail(&failure_key(ip), max, state.config.auth_failure_block).await {
        Ok(Some(_)) => tracing::warn!("auth failures reached the limit; address blocked on every instance"),
        Ok(None) => {}
        Err(e) => tracing::debug!(error = %e, "shared auth failure not counted"),
    }
}

/// Forgets `ip`'s failures on every instance (it authenticated).
pub(crate) async fn succeeded(state: &AppState, ip: IpAddr) {
    if let Some(shared) = state.shared.as_ref()
        && let Err(e) = shared.forgive(&failure_key(ip)).await
    {
        tracing::debug!(error = %e, "shared auth failures not forgiven");
    }
}

/// The admin rate of `ip` across every instance: `Err` (429) once it is spent.
pub(crate) async fn admin_rate(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    let per_minute = state.config.rate_limit_admin_per_min;
    let Some(shared) = state.shared.as_ref().filter(|_| per_minute > 0) else { return Ok(()) };
    let rate = Rate { per_window: per_minute, window: Duration::from_secs(60), burst: per_minute };
    match shared.take(&format!("http:admin:{}", limit_key(ip)), 1, rate).await {
        Ok(t) if t.granted == 0 => {
            let wait = t.wait.as_secs() + u64::from(t.wait.subsec_nanos() > 0);
            Err(ApiError::rate_limited("Too many requests", wait.max(1)))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::debug!(error = %e, "shared admin rate not checked");
            Ok(())
        }
    }
}
