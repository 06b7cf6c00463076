//! `TikTokEventRepo`: TikTok's webhook events stored once, with their effect on the account.

use async_trait::async_trait;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use hub_domain::{ConnectionStatus, NewAuditEntry, Notification, ReconnectReason, TikTokEvent};
use hub_ports::{Deauthorization, RecordedEvent, RepoResult, TikTokEventRepo};

use crate::Db;
use crate::error::repo_err;
use crate::models::{NewAuditRow, store_code};
use crate::repo::notify::enqueue_in;
use crate::schema::{audit_logs, store_accounts as sa, tiktok_events as te};

#[async_trait]
impl TikTokEventRepo for Db {
    async fn record(&self, event: &TikTokEvent, deauthorization: Option<Deauthorization>) -> RepoResult<RecordedEvent> {
        let mut conn = self.repo_conn().await?;
        let (duplicate, store) = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let id: Option<i64> = diesel::insert_into(te::table)
                    .values((
                        te::dedupe_key.eq(&event.dedupe_key),
                        te::event.eq(&event.event),
                        te::user_openid.eq(&event.user_openid),
                        te::create_time.eq(event.create_time),
                        te::content.eq(&event.content),
                    ))
                    .on_conflict(te::dedupe_key)
                    .do_nothing()
                    .returning(te::id)
                    .get_result(conn)
                    .await
                    .optional()?;
                let Some(id) = id else { return Ok((true, None)) };
                let Some(d) = deauthorization.as_ref() else { return Ok((false, None)) };
                let status = ConnectionStatus::NeedReconnect(ReconnectReason::Revoked);
                let store: Option<String> = diesel::update(
                    sa::table
                        .filter(sa::account_identifier.eq(&d.open_id))
                        .filter(sa::status.ne(ConnectionStatus::Disconnected.as_str())),
                )
                .set((
                    sa::status.eq(status.as_str()),
                    sa::status_reason.eq(ReconnectReason::Revoked.as_str()),
                    sa::revoke_reason.eq(d.reason.code()),
                    sa::encrypted_access_token.eq(None::<String>),
                    sa::encrypted_refresh_token.eq(None::<String>),
                    sa::updated_at.eq(d.at),
                ))
                .returning(sa::store_code)
                .get_result(conn)
                .await
                .optional()?;
                if let Some(code) = &store {
                    diesel::update(te::table.find(id)).set(te::store_code.eq(code)).execute(conn).await?;
                    let mut audit: NewAuditEntry = d.audit.clone();
                    audit.store_code = Some(
                        crate::models::store_code(code.clone())
                            .map_err(|_| diesel::result::Error::DeserializationError("invalid store code".into()))?,
                    );
                    diesel::insert_into(audit_logs::table).values(NewAuditRow::from(&audit)).execute(conn).await?;
                    if let Some(code) = &audit.store_code {
                        let n = Notification::store_needs_reconnect(
                            code,
                            ReconnectReason::Revoked.as_str(),
                            Some(d.reason),
                            d.at,
                        );
                        enqueue_in(conn, &n, None).await?;
                    }
                }
                Ok((false, store))
            })
            .await
            .map_err(repo_err)?;
        Ok(RecordedEvent { duplicate, revoked_store: store.map(store_code).transpose()? })
    }
}
