//! `GET /metrics` on the main port: an admin route (API key). `METRICS_ADDR` serves the same
//! text without a key ([`crate::serve_metrics`]).

use actix_web::HttpResponse;
use paperclip::actix::api_v2_operation;
use paperclip::actix::web;

use crate::error::ApiError;
use crate::extract::AdminKey;
use crate::metrics::CONTENT_TYPE;
use crate::routes::reply::{NoSchema, reply};
use crate::state::AppState;

reply!(
    /// The exposition text.
    MetricsReply {
        200 => NoSchema: "Prometheus text exposition format 0.0.4",
    }
);

/// Prometheus metrics
///
/// Sync runs (durations, outcomes, stores), TikTok calls by endpoint (requests, 429s,
/// retries, errors, latency, rate-budget waits), the database pool, stores by connection
/// status and token expiry, and HTTP requests by route pattern and status. Text exposition
/// format 0.0.4. The same text is served without a key on `METRICS_ADDR` when set.
#[api_v2_operation(tags(Monitoring), produces = "text/plain")]
async fn metrics(key: AdminKey, state: web::Data<AppState>) -> Result<MetricsReply, ApiError> {
    state.engine.permit(&key.0, hub_engine::Permission::ReadChainWide, "metrics.read").await?;
    Ok(MetricsReply(HttpResponse::Ok().content_type(CONTENT_TYPE).body(state.metrics.render().await)))
}

/// Fixes the `/metrics` operation of the OpenAPI 3 document: paperclip gives every response
/// the operation's `produces` type, but only the 200 is text; the errors are the JSON envelope.
pub(crate) fn finish_spec(spec: &mut serde_json::Value) {
    let Some(serde_json::Value::Object(responses)) = spec.pointer_mut("/paths/~1metrics/get/responses") else {
        return;
    };
    for (status, response) in responses.iter_mut() {
        let Some(serde_json::Value::Object(content)) = response.get_mut("content") else { continue };
        if status == "200" {
            content.clear();
            content.insert("text/plain".into(), serde_json::json!({ "schema": { "type": "string" } }));
        } else if let Some(text) = content.remove("text/plain") {
            content.insert("application/json".into(), text);
        }
    }
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
}
