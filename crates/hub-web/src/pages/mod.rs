//! One module per screen: its view model, its template and its handler together.

pub(crate) mod audit;
pub(crate) mod connect;
pub(crate) mod import;
pub(crate) mod login;
pub(crate) mod overview;
pub(crate) mod people;
pub(crate) mod people_forms;
pub(crate) mod store;
pub(crate) mod store_form;
pub(crate) mod stores;
pub(crate) mod sync;
pub(crate) mod videos;

use actix_web::{HttpResponse, web};

/// Registers every dashboard route.
pub(crate) fn config(cfg: &mut web::ServiceConfig) {
    use crate::routes::*;
    cfg.route("/dashboard", web::get().to(redirect_home))
        .route(HOME, web::get().to(overview::page))
        .route(LOGIN, web::get().to(login::page))
        .route(LOGIN, web::post().to(login::sign_in))
        .route(LOGOUT, web::post().to(login::sign_out))
        .route("/dashboard/assets/{name}", web::get().to(crate::assets::serve))
        .route(STORES, web::get().to(stores::page))
        .route(STORES, web::post().to(store_form::create))
        .route(STORES_CSV, web::get().to(stores::csv))
        .route(STORES_XLSX, web::get().to(stores::xlsx))
        .route(NEW_STORE, web::get().to(store_form::page))
        .route(IMPORT, web::get().to(import::page))
        .route(IMPORT, web::post().to(import::submit))
        .route(IMPORT_TEMPLATE, web::get().to(import::template))
        .route("/dashboard/stores/{code}", web::get().to(store::page))
        .route("/dashboard/stores/{code}/edit", web::get().to(store_form::edit_page))
        .route("/dashboard/stores/{code}/edit", web::post().to(store_form::update))
        .route("/dashboard/stores/{code}/connect-link", web::post().to(connect::issue))
        .route("/dashboard/stores/{code}/sync", web::post().to(sync::sync_store))
        .route(VIDEOS, web::get().to(videos::page))
        .route(SYNC, web::get().to(sync::page))
        .route(SYNC_LIVE, web::get().to(sync::live))
        .route(SYNC_RUN, web::post().to(sync::run))
        .route(AUDIT, web::get().to(audit::page))
        .route(PEOPLE, web::get().to(people::page))
        .route(PEOPLE, web::post().to(people_forms::add_user))
        .route(NEW_PERSON, web::get().to(people_forms::new_user))
        .route(NEW_KEY, web::get().to(people_forms::new_key))
        .route(PEOPLE_KEYS, web::post().to(people_forms::create_key))
        .route("/dashboard/people/keys/{id}/revoke", web::post().to(people_forms::revoke_key))
        .route("/dashboard/people/{id}/{action}", web::post().to(people_forms::set_active))
        .route("/dashboard/{tail:.*}", web::to(not_found));
}

/// `GET /dashboard` → `/dashboard/`.
pub(crate) async fn redirect_home() -> HttpResponse {
    crate::layout::see_other(crate::routes::HOME)
}

/// Any other URL under `/dashboard/`: the dashboard's own 404 page.
pub(crate) async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&crate::error::WebError::NotFound)
}
