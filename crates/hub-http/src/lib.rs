//! The hub's HTTP adapter (actix-web): the admin REST API, the public OAuth pages, the
//! OpenAPI document and Swagger UI.
//!
//! Handlers call the engine's use cases ([`hub_engine::Engine`]) and never reach a port.
//! Each resource has one route module (`routes/*.rs`) that serves its JSON and CSV forms
//! through one use case, and exposes `config(cfg)`; [`build_app`] assembles them with the
//! middleware (request ids, security headers, CORS, per-IP limits, the API-key guard) and
//! the error envelope of [`ApiError`].

mod allow;
mod auth;
mod authn;
mod csv;
mod error;
mod export;
mod extract;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod html;
mod import_file;
mod json;
mod limits;
mod metrics;
mod middleware;
mod openapi;
mod params;
mod request;
mod roles;
mod routes;
mod shared;
mod state;
pub mod tiktok_webhook;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpServer, web};
use paperclip::actix::OpenApiExt;
use paperclip::v2::models::{DefaultApiRaw, Info};

pub use error::{ApiError, Code};
pub use limits::{AuthFailures, FailureKey, IpLimiter, LimitClock};
pub use metrics::{MetricFamily, MetricType, Metrics, MetricsSource, Sample, SampleValue, serve_metrics};
pub use openapi::STORE_CODE_EXAMPLE;
pub use routes::docs::{SWAGGER_UI_VERSION, asset_names as docs_asset_names};
pub use state::{API_TITLE, ApiDocs, AppState, HttpConfig, Mount, TrackedClients};

/// The whole application: every route, the docs, the middleware and the extractor settings.
pub fn build_app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let spec = DefaultApiRaw {
        info: Info {
            title: API_TITLE.into(),
            version: state.config.version.clone(),
            description: Some(
                "Admin REST API (X-API-KEY) and public OAuth pages of the hub. Every error answers \
                 {\"success\":false,\"error\":{\"code\",\"message\",\"requestId\"}}."
                    .into(),
            ),
            ..Default::default()
        },
        ..Default::default()
    };
    let body_limit = state.config.body_limit_bytes;
    let mount = state.mount.clone();
    // Docs routes (and a mounted adapter's) are registered first, outside any scope, straight
    // on the actix app.
    App::new()
        .configure(routes::docs::config)
        .configure(move |cfg| {
            if let Some(m) = &mount {
                (m.configure)(cfg);
            }
        })
        .wrap_api_with_spec(spec)
        .app_data(state)
        .app_data(extract::json_config(body_limit))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .app_data(web::PayloadConfig::new(body_limit))
        .configure(routes::config)
        .with_raw_json_spec_v3(|app, spec| {
            // Every route is registered by now: the document's paths (plus the documentation
            // routes) are the method table of the `Allow` header on 405 answers.
            let mut allow = allow::AllowTable::from_spec(&spec);
            for route in routes::docs::DOCS_ROUTES {
                allow.add(route, [actix_web::http::Method::GET]);
            }
            app.app_data(web::Data::new(allow))
                .service(paperclip::actix::web::resource(routes::docs::SPEC_PATH).route(routes::docs::spec_route(spec)))
        })
        .default_service(web::to(routes::reply::not_found))
        .wrap(actix_web::middleware::from_fn(middleware::guard))
        .wrap(actix_web::middleware::from_fn(middleware::request_context))
        .wrap(actix_web::middleware::from_fn(middleware::track))
        .build()
}

/// Serves the app on `listener` with `HTTP_WORKERS` workers. Stop it through the returned
/// server's handle (`server.handle().stop(true)` drains requests in flight).
pub fn serve(listener: std::net::TcpListener, state: AppState) -> std::io::Result<actix_web::dev::Server> {
    let workers = state.config.workers.max(1);
    let state = web::Data::new(state);
    let server = HttpServer::new(move || build_app(state.clone()))
        .workers(workers)
        .shutdown_timeout(30)
        .disable_signals()
        .listen(listener)?
        .run();
    Ok(server)
}
