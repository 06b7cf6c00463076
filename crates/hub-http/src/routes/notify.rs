//! Outgoing notification endpoints: `GET/POST /admin/webhooks`, `PATCH/DELETE
//! /admin/webhooks/{id}`, `POST /admin/webhooks/{id}/test`, `GET /admin/webhooks/{id}/deliveries`
//! (admins over every store).

use hub_domain::webhook::parse_events;
use hub_domain::{WebhookEndpointChange, WebhookFormat};
use hub_engine::AddEndpoint;
use paperclip::actix::web::{self, Json};
use paperclip::actix::{Apiv2Schema, CreatedJson, api_v2_operation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::extract::{AdminKey, Fields, FromBody, JsonBody};
use crate::json::notify::{
    CreatedWebhookJson, CreatedWebhookResponse, DeliveriesResponse, QueuedJson, QueuedResponse, WebhookResponse,
    WebhooksResponse,
};
use crate::params::IdParam;
use crate::state::AppState;

/// The most characters of an endpoint's URL.
const MAX_URL: usize = 2048;

fn url(raw: &str) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > MAX_URL {
        return Err(ApiError::invalid(format!("url must be an http(s) URL of 1-{MAX_URL} characters")));
    }
    Ok(raw.to_owned())
}

fn events(list: Option<Vec<&str>>) -> Result<Vec<hub_domain::WebhookEvent>, ApiError> {
    Ok(parse_events(list.ok_or_else(|| ApiError::invalid("events must be a list of event names"))?)?)
}

/// `POST /admin/webhooks` body.
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Apiv2Schema, Deserialize)]
pub struct CreateWebhookBody {
    /// Where to POST (http or https; not an internal address unless the hub allows it).
    pub url: String,
    /// Among store.connected, store.needs_reconnect, store.disconnected, sync.run.finished,
    /// report.gaps, digest.daily.
    pub events: Vec<String>,
    /// standard (default) or slack.
    pub format: Option<String>,
    /// store.needs_reconnect carries a fresh connect link (default false).
    pub include_connect_link: Option<bool>,
    #[serde(skip)]
    add: Option<AddEndpoint>,
}

impl FromBody for CreateWebhookBody {
    const FIELDS: &'static [&'static str] = &["url", "events", "format", "include_connect_link"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let add = AddEndpoint {
            url: url(f.string("url")?.ok_or_else(|| ApiError::invalid("url is required"))?)?,
            events: events(f.string_list("events")?.flatten())?,
            format: f.string("format")?.map(WebhookFormat::parse).transpose()?.unwrap_or(WebhookFormat::Standard),
            include_connect_link: f.bool("include_connect_link")?.unwrap_or(false),
        };
        Ok(Self { url: String::new(), events: Vec::new(), format: None, include_connect_link: None, add: Some(add) })
    }
}

/// `PATCH /admin/webhooks/{id}` body: the fields to change (at least one).
// The public fields document the body (OpenAPI); the handler takes the parsed value.
#[allow(dead_code)]
#[derive(Default, Apiv2Schema, Deserialize)]
pub struct UpdateWebhookBody {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub format: Option<String>,
    pub include_connect_link: Option<bool>,
    /// false disables the endpoint; true enables it again (and clears its failure count).
    pub enabled: Option<bool>,
    #[serde(skip)]
    change: WebhookEndpointChange,
}

impl FromBody for UpdateWebhookBody {
    const FIELDS: &'static [&'static str] = &["url", "events", "format", "include_connect_link", "enabled"];

    fn from_fields(f: &Fields) -> Result<Self, ApiError> {
        let change = WebhookEndpointChange {
            url: f.string("url")?.map(url).transpose()?,
            events: f.string_list("events")?.map(events).transpose()?,
            format: f.string("format")?.map(WebhookFormat::parse).transpose()?,
            include_connect_link: f.bool("include_connect_link")?,
            enabled: f.bool("enabled")?,
        };
        if change == WebhookEndpointChange::default() {
            return Err(ApiError::invalid(
                "The body must change at least one of url, events, format, include_connect_link, enabled",
            ));
        }
        Ok(Self { change, ..Self::default() })
    }
}

/// Notification endpoints
///
/// Every endpoint, without its secret. Admins over every store.
#[api_v2_operation(tags(Notifications))]
async fn list(key: AdminKey, state: web::Data<AppState>) -> Result<Json<WebhooksResponse>, ApiError> {
    let endpoints = state.engine.notifications().endpoints(&key.0).await?;
    Ok(Json(WebhooksResponse::new(endpoints.into_iter().map(Into::into).collect())))
}

/// Register a notification endpoint
///
/// The URL is checked as every delivery checks it: http(s) only, and no private, loopback or
/// link-local address (after DNS resolution) unless the hub runs with
/// `WEBHOOK_ALLOW_PRIVATE=true`. The answer holds the endpoint's signing secret
/// (`whsec_…`), shown this once. Audited (action `webhook.create`).
#[api_v2_operation(tags(Notifications))]
async fn create(
    key: AdminKey,
    state: web::Data<AppState>,
    body: JsonBody<CreateWebhookBody>,
) -> Result<CreatedJson<CreatedWebhookResponse>, ApiError> {
    let add = body.0.add.ok_or_else(|| ApiError::invalid("The body is not an endpoint"))?;
    let created = state.engine.notifications().add(&key.0, add).await?;
    Ok(CreatedJson(CreatedWebhookResponse::new(CreatedWebhookJson {
        endpoint: created.endpoint.into(),
        secret: created.secret.expose().clone(),
    })))
}

/// Change a notification endpoint
///
/// URL (checked again), events, format, connect links, enabled. Enabling clears the
/// failure count and the reason. Audited (action `webhook.update`).
#[api_v2_operation(tags(Notifications))]
async fn update(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
    body: JsonBody<UpdateWebhookBody>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let id = path.into_inner().0;
    let endpoint = state.engine.notifications().update(&key.0, id, body.0.change).await?;
    Ok(Json(WebhookResponse::new(endpoint.into())))
}

/// Delete a notification endpoint
///
/// With its undelivered notifications and its attempts. Audited (action `webhook.delete`).
#[api_v2_operation(tags(Notifications))]
async fn delete(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<Json<QueuedResponse>, ApiError> {
    state.engine.notifications().delete(&key.0, path.into_inner().0).await?;
    Ok(Json(QueuedResponse::new(QueuedJson { queued: false })))
}

/// Send a test notification
///
/// Queues a `webhook.test` notification for the endpoint; it is delivered (and listed in
/// its deliveries) like any other. Audited (action `webhook.test`).
#[api_v2_operation(tags(Notifications))]
async fn test(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<Json<QueuedResponse>, ApiError> {
    state.engine.notifications().test(&key.0, path.into_inner().0).await?;
    Ok(Json(QueuedResponse::new(QueuedJson { queued: true })))
}

/// A notification endpoint's deliveries
///
/// Every attempt (the newest 500), newest first: the receiver's status or why there was
/// none.
#[api_v2_operation(tags(Notifications))]
async fn deliveries(
    key: AdminKey,
    state: web::Data<AppState>,
    path: web::Path<IdParam>,
) -> Result<Json<DeliveriesResponse>, ApiError> {
    let list = state.engine.notifications().deliveries(&key.0, path.into_inner().0).await?;
    Ok(Json(DeliveriesResponse::new(list.into_iter().map(Into::into).collect())))
}

pub(crate) fn config(cfg: &mut web::ServiceConfig<'_>) {
    cfg.service(web::resource("/admin/webhooks").route(web::get().to(list)).route(web::post().to(create)))
        .service(web::resource("/admin/webhooks/{id}").route(web::patch().to(update)).route(web::delete().to(delete)))
        .service(web::resource("/admin/webhooks/{id}/test").route(web::post().to(test)))
        .service(web::resource("/admin/webhooks/{id}/deliveries").route(web::get().to(deliveries)));
}
