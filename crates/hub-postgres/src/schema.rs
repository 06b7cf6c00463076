//! Diesel's view of the schema, written by hand to match `migrations/` exactly.
//! `tests/schema.rs` compares it with a migrated database so the two cannot drift.

diesel::table! {
    stores (store_code) {
        store_code -> Varchar,
        store_name -> Varchar,
        pic_name -> Varchar,
        pic_contact -> Nullable<Varchar>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        archived_at -> Nullable<Timestamptz>,
        store_group -> Nullable<Varchar>,
    }
}

diesel::table! {
    store_accounts (id) {
        id -> Int8,
        store_code -> Varchar,
        platform -> Varchar,
        account_identifier -> Nullable<Varchar>,
        encrypted_access_token -> Nullable<Text>,
        encrypted_refresh_token -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamptz>,
        refresh_token_expires_at -> Nullable<Timestamptz>,
        scopes -> Text,
        status -> Varchar,
        status_reason -> Nullable<Varchar>,
        connected_at -> Nullable<Timestamptz>,
        last_sync_time -> Nullable<Timestamptz>,
        last_refresh_at -> Nullable<Timestamptz>,
        refresh_lease_owner -> Nullable<Varchar>,
        refresh_lease_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        revoke_reason -> Nullable<Int2>,
    }
}

diesel::table! {
    tiktok_user_daily (id) {
        id -> Int8,
        store_code -> Varchar,
        snapshot_date -> Date,
        follower_count -> Nullable<Int8>,
        following_count -> Nullable<Int8>,
        likes_count -> Nullable<Int8>,
        video_count -> Nullable<Int8>,
        display_name -> Nullable<Varchar>,
        avatar_url -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    tiktok_video_daily (id) {
        id -> Int8,
        store_code -> Varchar,
        snapshot_date -> Date,
        video_id -> Varchar,
        view_count -> Nullable<Int8>,
        like_count -> Nullable<Int8>,
        comment_count -> Nullable<Int8>,
        share_count -> Nullable<Int8>,
        description -> Nullable<Text>,
        title -> Nullable<Varchar>,
        create_time -> Nullable<Timestamptz>,
        share_url -> Nullable<Text>,
        cover_image_url -> Nullable<Text>,
        duration -> Nullable<Int4>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Int8,
        job_name -> Varchar,
        scheduled_date -> Date,
        trigger -> Varchar,
        status -> Varchar,
        total -> Int8,
        processed -> Int8,
        succeeded -> Int8,
        failed -> Int8,
        skipped -> Int8,
        records -> Int8,
        message -> Nullable<Text>,
        owner -> Nullable<Varchar>,
        heartbeat_at -> Nullable<Timestamptz>,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sync_logs (id) {
        id -> Int8,
        run_id -> Nullable<Int8>,
        store_code -> Nullable<Varchar>,
        job_name -> Varchar,
        status -> Varchar,
        message -> Nullable<Text>,
        raw_error -> Nullable<Text>,
        duration_ms -> Nullable<Int8>,
        run_time -> Timestamptz,
    }
}

diesel::table! {
    audit_logs (id) {
        id -> Int8,
        created_at -> Timestamptz,
        actor -> Varchar,
        action -> Varchar,
        store_code -> Nullable<Varchar>,
        target -> Nullable<Text>,
        outcome -> Varchar,
        request_id -> Nullable<Varchar>,
        ip -> Nullable<Varchar>,
        details -> Nullable<Text>,
        actor_kind -> Varchar,
        actor_id -> Nullable<Int8>,
        actor_name -> Nullable<Varchar>,
    }
}

diesel::table! {
    connect_invites (id) {
        id -> Int8,
        token_hash -> Varchar,
        store_code -> Varchar,
        created_by -> Varchar,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tiktok_events (id) {
        id -> Int8,
        dedupe_key -> Varchar,
        event -> Varchar,
        user_openid -> Nullable<Varchar>,
        create_time -> Timestamptz,
        content -> Nullable<Text>,
        store_code -> Nullable<Varchar>,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    pending_revocations (id) {
        id -> Int8,
        store_code -> Varchar,
        open_id -> Nullable<Varchar>,
        encrypted_access_token -> Text,
        encrypted_refresh_token -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oauth_states (nonce_hash) {
        nonce_hash -> Varchar,
        store_code -> Varchar,
        invite_id -> Nullable<Int8>,
        browser_binding -> Varchar,
        pkce_verifier -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Varchar,
        display_name -> Varchar,
        role -> Varchar,
        store_groups -> Nullable<Text>,
        active -> Bool,
        password_hash -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        last_login_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        token_hash -> Varchar,
        user_id -> Int8,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        key_hash -> Varchar,
        fingerprint -> Varchar,
        name -> Varchar,
        role -> Varchar,
        store_groups -> Nullable<Text>,
        owner_id -> Nullable<Int8>,
        created_by -> Varchar,
        created_at -> Timestamptz,
        expires_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    shared_buckets (name) {
        #[max_length = 100]
        name -> Varchar,
        tokens -> Float8,
        refilled_at -> Timestamptz,
    }
}

diesel::table! {
    shared_failures (name) {
        #[max_length = 100]
        name -> Varchar,
        failures -> Int4,
        window_until -> Timestamptz,
        blocked_until -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    /// Kept by triggers on `tiktok_video_daily` (migration 2026-12-04-120000): never written
    /// by the adapter.
    tiktok_video_store_daily (snapshot_date, store_code) {
        #[max_length = 50]
        store_code -> Varchar,
        snapshot_date -> Date,
        video_rows -> Int8,
        views -> Int8,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Int8,
        url -> Text,
        events -> Text,
        encrypted_secret -> Text,
        format -> Varchar,
        include_connect_link -> Bool,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        consecutive_failures -> Int4,
        created_by -> Varchar,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_outbox (id) {
        id -> Int8,
        endpoint_id -> Int8,
        event -> Varchar,
        store_code -> Nullable<Varchar>,
        summary -> Text,
        data -> Text,
        status -> Varchar,
        attempts -> Int4,
        created_at -> Timestamptz,
        next_attempt_at -> Timestamptz,
        delivered_at -> Nullable<Timestamptz>,
        dedupe_key -> Nullable<Varchar>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Int8,
        outbox_id -> Int8,
        endpoint_id -> Int8,
        event -> Varchar,
        attempt -> Int4,
        status_code -> Nullable<Int4>,
        success -> Bool,
        error -> Nullable<Text>,
        attempted_at -> Timestamptz,
    }
}

diesel::joinable!(store_accounts -> stores (store_code));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(api_keys -> users (owner_id));
diesel::joinable!(tiktok_user_daily -> stores (store_code));
diesel::joinable!(tiktok_video_daily -> stores (store_code));
diesel::joinable!(tiktok_video_store_daily -> stores (store_code));
diesel::joinable!(connect_invites -> stores (store_code));
diesel::joinable!(oauth_states -> stores (store_code));
diesel::joinable!(pending_revocations -> stores (store_code));
diesel::joinable!(tiktok_events -> stores (store_code));
diesel::joinable!(oauth_states -> connect_invites (invite_id));
diesel::joinable!(sync_logs -> sync_runs (run_id));
diesel::joinable!(webhook_outbox -> webhook_endpoints (endpoint_id));
diesel::joinable!(webhook_deliveries -> webhook_outbox (outbox_id));

diesel::allow_tables_to_appear_in_same_query!(
    stores,
    store_accounts,
    tiktok_user_daily,
    tiktok_video_daily,
    tiktok_video_store_daily,
    sync_runs,
    sync_logs,
    audit_logs,
    connect_invites,
    oauth_states,
    pending_revocations,
    tiktok_events,
    users,
    sessions,
    api_keys,
    shared_buckets,
    shared_failures,
    webhook_endpoints,
    webhook_outbox,
    webhook_deliveries,
);
