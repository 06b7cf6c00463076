//! `WebhookRepo`: the endpoints, the outbox (`webhook_outbox`) and the attempts
//! (`webhook_deliveries`); [`enqueue_in`] writes a notification's outbox rows inside the
//! transaction of the change it reports.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use hub_domain::webhook::split_events;
use hub_domain::{
    AttemptResult, NewAuditEntry, NewWebhookEndpoint, Notification, OutboxItem, WebhookDelivery, WebhookEndpoint,
    WebhookEndpointChange, WebhookEvent, WebhookFormat,
};
use hub_ports::{RepoError, RepoResult, WebhookRepo};

use crate::Db;
use crate::error::{RepoResultExt, corrupt, repo_err};
use crate::models::{NewAuditRow, store_code};
use crate::schema::{audit_logs, webhook_deliveries as wd, webhook_endpoints as we, webhook_outbox as wo};

#[derive(Queryable, Selectable)]
#[diesel(table_name = we, check_for_backend(diesel::pg::Pg))]
struct EndpointRow {
    id: i64,
    url: String,
    events: String,
    encrypted_secret: String,
    format: String,
    include_connect_link: bool,
    enabled: bool,
    disabled_reason: Option<String>,
    consecutive_failures: i32,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EndpointRow {
    fn into_domain(self) -> RepoResult<(WebhookEndpoint, String)> {
        let format = WebhookFormat::parse(&self.format).map_err(|_| corrupt("webhook format", &self.format))?;
        Ok((
            WebhookEndpoint {
                id: self.id,
                url: self.url,
                events: split_events(&self.events),
                format,
                include_connect_link: self.include_connect_link,
                enabled: self.enabled,
                disabled_reason: self.disabled_reason,
                consecutive_failures: self.consecutive_failures,
                created_by: self.created_by,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            self.encrypted_secret,
        ))
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = wo, check_for_backend(diesel::pg::Pg))]
struct OutboxRow {
    id: i64,
    event: String,
    store_code: Option<String>,
    summary: String,
    data: String,
    attempts: i32,
    created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = wd, check_for_backend(diesel::pg::Pg))]
struct DeliveryRow {
    id: i64,
    outbox_id: i64,
    event: String,
    attempt: i32,
    status_code: Option<i32>,
    success: bool,
    error: Option<String>,
    attempted_at: DateTime<Utc>,
}

/// Writes the notification's outbox rows on `conn` (inside the caller's transaction): one per
/// enabled endpoint subscribed to its event, or for `endpoint` only.
pub(crate) async fn enqueue_in(
    conn: &mut AsyncPgConnection,
    n: &Notification,
    endpoint: Option<i64>,
) -> Result<usize, diesel::result::Error> {
    diesel::sql_query(
        "INSERT INTO webhook_outbox
             (endpoint_id, event, store_code, summary, data, created_at, next_attempt_at, dedupe_key)
         SELECT id, $1, $2, $3, $4, $5, $5, $7 FROM webhook_endpoints
         WHERE CASE WHEN $6::bigint IS NULL THEN enabled AND $1 = ANY (string_to_array(events, ','))
                    ELSE id = $6 END
         ON CONFLICT (endpoint_id, dedupe_key) DO NOTHING",
    )
    .bind::<Text, _>(n.event.as_str())
    .bind::<Nullable<Text>, _>(n.store_code.as_ref().map(|c| c.as_str()))
    .bind::<Text, _>(&n.summary)
    .bind::<Text, _>(n.data.to_string())
    .bind::<Timestamptz, _>(n.at)
    .bind::<Nullable<BigInt>, _>(endpoint)
    .bind::<Nullable<Text>, _>(n.dedupe_key.as_deref())
    .execute(conn)
    .await
}

fn audit_row(audit: &NewAuditEntry) -> NewAuditRow<'_> {
    NewAuditRow::from(audit)
}

#[async_trait]
impl WebhookRepo for Db {
    async fn endpoints(&self) -> RepoResult<Vec<WebhookEndpoint>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<EndpointRow> =
            we::table.select(EndpointRow::as_select()).order(we::id).load(&mut conn).await.repo()?;
        rows.into_iter().map(|r| r.into_domain().map(|(e, _)| e)).collect()
    }

    async fn endpoint(&self, id: i64) -> RepoResult<Option<(WebhookEndpoint, String)>> {
        let mut conn = self.repo_conn().await?;
        let row: Option<EndpointRow> =
            we::table.find(id).select(EndpointRow::as_select()).first(&mut conn).await.optional().repo()?;
        row.map(EndpointRow::into_domain).transpose()
    }

    async fn create_endpoint(&self, new: &NewWebhookEndpoint, audit: &NewAuditEntry) -> RepoResult<WebhookEndpoint> {
        let mut conn = self.repo_conn().await?;
        let events = hub_domain::webhook::join_events(&new.events);
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let row: EndpointRow = diesel::insert_into(we::table)
                    .values((
                        we::url.eq(&new.url),
                        we::events.eq(&events),
                        we::encrypted_secret.eq(&new.encrypted_secret),
                        we::format.eq(new.format.as_str()),
                        we::include_connect_link.eq(new.include_connect_link),
                        we::created_by.eq(&new.created_by),
                    ))
                    .returning(EndpointRow::as_returning())
                    .get_result(conn)
                    .await?;
                let mut audit = audit.clone();
                audit.target = Some(row.id.to_string());
                diesel::insert_into(audit_logs::table).values(audit_row(&audit)).execute(conn).await?;
                Ok(row)
            })
            .await
            .map_err(repo_err)?;
        row.into_domain().map(|(e, _)| e)
    }

    async fn update_endpoint(
        &self,
        id: i64,
        change: &WebhookEndpointChange,
        now: DateTime<Utc>,
        audit: &NewAuditEntry,
    ) -> RepoResult<WebhookEndpoint> {
        let mut conn = self.repo_conn().await?;
        let events = change.events.as_deref().map(hub_domain::webhook::join_events);
        let row = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let found: Option<EndpointRow> =
                    we::table.find(id).select(EndpointRow::as_select()).for_update().first(conn).await.optional()?;
                let Some(old) = found else { return Ok(None) };
                let (enabled, reason, failures) = match change.enabled {
                    Some(true) => (true, None, 0),
                    Some(false) => (false, Some("disabled by an admin".to_owned()), old.consecutive_failures),
                    None => (old.enabled, old.disabled_reason, old.consecutive_failures),
                };
                let format = change.format.map_or_else(|| old.format.clone(), |f| f.as_str().to_owned());
                let row: EndpointRow = diesel::update(we::table.find(id))
                    .set((
                        we::url.eq(change.url.as_deref().unwrap_or(&old.url)),
                        we::events.eq(events.as_deref().unwrap_or(&old.events)),
                        we::format.eq(&format),
                        we::include_connect_link.eq(change.include_connect_link.unwrap_or(old.include_connect_link)),
                        we::enabled.eq(enabled),
                        we::disabled_reason.eq(reason),
                        we::consecutive_failures.eq(failures),
                        we::updated_at.eq(now),
                    ))
                    .returning(EndpointRow::as_returning())
                    .get_result(conn)
                    .await?;
                diesel::insert_into(audit_logs::table).values(audit_row(audit)).execute(conn).await?;
                Ok(Some(row))
            })
            .await
            .map_err(repo_err)?;
        row.ok_or(RepoError::NotFound)?.into_domain().map(|(e, _)| e)
    }

    async fn delete_endpoint(&self, id: i64, audit: &NewAuditEntry) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let n = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let n = diesel::delete(we::table.find(id)).execute(conn).await?;
                if n == 1 {
                    diesel::insert_into(audit_logs::table).values(audit_row(audit)).execute(conn).await?;
                }
                Ok(n)
            })
            .await
            .map_err(repo_err)?;
        if n == 0 { Err(RepoError::NotFound) } else { Ok(()) }
    }

    async fn enqueue(&self, notification: &Notification, endpoint: Option<i64>) -> RepoResult<u64> {
        let mut conn = self.repo_conn().await?;
        let n = enqueue_in(&mut conn, notification, endpoint).await.repo()?;
        Ok(n as u64)
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> RepoResult<Vec<OutboxItem>> {
        let mut conn = self.repo_conn().await?;
        let rows = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let ids: Vec<i64> = wo::table
                    .filter(wo::status.eq("PENDING"))
                    .filter(wo::next_attempt_at.le(now))
                    .filter(wo::endpoint_id.eq_any(we::table.filter(we::enabled.eq(true)).select(we::id)))
                    .order((wo::next_attempt_at, wo::id))
                    .limit(limit)
                    .select(wo::id)
                    .for_update()
                    .skip_locked()
                    .load(conn)
                    .await?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                diesel::update(wo::table.filter(wo::id.eq_any(&ids)))
                    .set(wo::next_attempt_at.eq(lease_until))
                    .execute(conn)
                    .await?;
                wo::table
                    .inner_join(we::table)
                    .filter(wo::id.eq_any(&ids))
                    .order(wo::id)
                    .select((OutboxRow::as_select(), EndpointRow::as_select()))
                    .load::<(OutboxRow, EndpointRow)>(conn)
                    .await
            })
            .await
            .map_err(repo_err)?;
        rows.into_iter()
            .map(|(o, e)| {
                let (endpoint, encrypted_secret) = e.into_domain()?;
                let event = WebhookEvent::from_stored(&o.event).ok_or_else(|| corrupt("webhook event", &o.event))?;
                let data = serde_json::from_str(&o.data).map_err(|_| corrupt("webhook data", &o.data))?;
                Ok(OutboxItem {
                    id: o.id,
                    endpoint,
                    encrypted_secret,
                    event,
                    store_code: o.store_code.map(store_code).transpose()?,
                    summary: o.summary,
                    data,
                    created_at: o.created_at,
                    attempts: o.attempts,
                })
            })
            .collect()
    }

    async fn record_attempt(&self, item: &OutboxItem, r: &AttemptResult) -> RepoResult<()> {
        let mut conn = self.repo_conn().await?;
        let attempt = item.attempts + 1;
        conn.transaction::<_, diesel::result::Error, _>(async |conn| {
            diesel::insert_into(wd::table)
                .values((
                    wd::outbox_id.eq(item.id),
                    wd::endpoint_id.eq(item.endpoint.id),
                    wd::event.eq(item.event.as_str()),
                    wd::attempt.eq(attempt),
                    wd::status_code.eq(r.status_code),
                    wd::success.eq(r.success),
                    wd::error.eq(r.error.as_deref()),
                    wd::attempted_at.eq(r.at),
                ))
                .execute(conn)
                .await?;
            let status = match (r.success, r.retry_at) {
                (true, _) => "DELIVERED",
                (false, Some(_)) => "PENDING",
                (false, None) => "FAILED",
            };
            diesel::update(wo::table.find(item.id))
                .set((
                    wo::status.eq(status),
                    wo::attempts.eq(attempt),
                    wo::next_attempt_at.eq(r.retry_at.unwrap_or(r.at)),
                    wo::delivered_at.eq(r.success.then_some(r.at)),
                ))
                .execute(conn)
                .await?;
            let endpoint = we::table.find(item.endpoint.id);
            if r.success {
                diesel::update(endpoint).set(we::consecutive_failures.eq(0)).execute(conn).await?;
            } else if let Some(reason) = &r.disable {
                diesel::update(endpoint)
                    .set((
                        we::consecutive_failures.eq(we::consecutive_failures + 1),
                        we::enabled.eq(false),
                        we::disabled_reason.eq(reason),
                        we::updated_at.eq(r.at),
                    ))
                    .execute(conn)
                    .await?;
            } else {
                diesel::update(endpoint)
                    .set(we::consecutive_failures.eq(we::consecutive_failures + 1))
                    .execute(conn)
                    .await?;
            }
            Ok(())
        })
        .await
        .map_err(repo_err)
    }

    async fn deliveries(&self, endpoint: i64, limit: i64) -> RepoResult<Vec<WebhookDelivery>> {
        let mut conn = self.repo_conn().await?;
        let rows: Vec<DeliveryRow> = wd::table
            .filter(wd::endpoint_id.eq(endpoint))
            .order(wd::id.desc())
            .limit(limit)
            .select(DeliveryRow::as_select())
            .load(&mut conn)
            .await
            .repo()?;
        Ok(rows
            .into_iter()
            .map(|r| WebhookDelivery {
                id: r.id,
                outbox_id: r.outbox_id,
                event: r.event,
                attempt: r.attempt,
                status_code: r.status_code,
                success: r.success,
                error: r.error,
                attempted_at: r.attempted_at,
            })
            .collect())
    }
}
