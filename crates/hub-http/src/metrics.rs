//! `GET /metrics`: Prometheus text exposition format 0.0.4, rendered by hand (a few dozen
//! series do not need a metrics crate).
//!
//! Two kinds of series:
//! - the adapter's own, recorded by the [`track`] middleware: requests and their latency by
//!   method, **route pattern** (`/admin/stores/{store_code}`, never the raw path, so label
//!   values stay bounded; `unmatched` for paths no route has) and status;
//! - whatever a [`MetricsSource`] collects (the app plugs in the engine's sync counters, the
//!   TikTok client's per-endpoint counters and the database pool), as [`MetricFamily`]s.
//!
//! On the main port `/metrics` is an admin route (API key); [`serve_metrics`] serves the same
//! text without a key on a separate listener (`METRICS_ADDR`), meant for a private network.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::http::Method;
use actix_web::{HttpResponse, HttpServer};

/// The `Content-Type` of the text format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the HTTP latency histogram. `POST /admin/sync/run` with
/// `wait` runs a whole job, hence the long tail.
const HTTP_BUCKETS: [f64; 14] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// A metric's type line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    /// Only `_sum` and `_count` (no quantiles): a mean over any range.
    Summary,
}

impl MetricType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::Summary => "summary",
        }
    }
}

/// One sample's value.
#[derive(Debug, Clone, PartialEq)]
pub enum SampleValue {
    Number(f64),
    /// Cumulative buckets `(upper bound, count)` without `+Inf`, the sum and the count.
    Histogram {
        buckets: Vec<(f64, u64)>,
        sum: f64,
        count: u64,
    },
    Summary {
        sum: f64,
        count: u64,
    },
}

/// One labelled sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Vec<(String, String)>,
    pub value: SampleValue,
}

/// A metric with its help text, type and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFamily {
    pub name: String,
    pub help: String,
    pub kind: MetricType,
    pub samples: Vec<Sample>,
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

impl MetricFamily {
    pub fn new(name: &str, kind: MetricType, help: &str) -> Self {
        Self { name: name.to_owned(), help: help.to_owned(), kind, samples: Vec::new() }
    }

    pub fn counter(name: &str, help: &str) -> Self {
        Self::new(name, MetricType::Counter, help)
    }

    pub fn gauge(name: &str, help: &str) -> Self {
        Self::new(name, MetricType::Gauge, help)
    }

    /// Adds a plain sample.
    pub fn with(mut self, pairs: &[(&str, &str)], value: f64) -> Self {
        self.samples.push(Sample { labels: labels(pairs), value: SampleValue::Number(value) });
        self
    }

    /// Adds a histogram or summary sample.
    pub fn with_value(mut self, pairs: &[(&str, &str)], value: SampleValue) -> Self {
        self.samples.push(Sample { labels: labels(pairs), value });
        self
    }
}

/// What the app plugs in: everything but the HTTP series. Called on every scrape.
pub trait MetricsSource: Send + Sync {
    fn collect(&self) -> Pin<Box<dyn Future<Output = Vec<MetricFamily>> + Send + '_>>;
}

/// `1`, `0.25`, `NaN`, `+Inf`.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else {
        format!("{v}")
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn label_set(pairs: &[(String, String)], extra: Option<(&str, &str)>) -> String {
    let mut parts: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}=\"{}\"", escape_label(v))).collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{}\"", escape_label(v)));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

/// Renders families in the text format 0.0.4.
pub fn render(families: &[MetricFamily]) -> String {
    let mut out = String::new();
    for f in families {
        let help = f.help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {} {help}", f.name);
        let _ = writeln!(out, "# TYPE {} {}", f.name, f.kind.as_str());
        for s in &f.samples {
            match &s.value {
                SampleValue::Number(v) => {
                    let _ = writeln!(out, "{}{} {}", f.name, label_set(&s.labels, None), number(*v));
                }
                SampleValue::Histogram { buckets, sum, count } => {
                    for (le, n) in buckets {
                        let _ =
                            writeln!(out, "{}_bucket{} {n}", f.name, label_set(&s.labels, Some(("le", &number(*le)))));
                    }
                    let _ = writeln!(out, "{}_bucket{} {count}", f.name, label_set(&s.labels, Some(("le", "+Inf"))));
                    let _ = writeln!(out, "{}_sum{} {}", f.name, label_set(&s.labels, None), number(*sum));
                    let _ = writeln!(out, "{}_count{} {count}", f.name, label_set(&s.labels, None));
                }
                SampleValue::Summary { sum, count } => {
                    let _ = writeln!(out, "{}_sum{} {}", f.name, label_set(&s.labels, None), number(*sum));
                    let _ = writeln!(out, "{}_count{} {count}", f.name, label_set(&s.labels, None));
                }
            }
        }
    }
    out
}

/// Requests of one (method, route, status).
#[derive(Debug, Clone, Default)]
struct RequestSeries {
    /// Per bucket of [`HTTP_BUCKETS`] (not cumulative), then above every bound.
    buckets: [u64; HTTP_BUCKETS.len() + 1],
    sum: f64,
    count: u64,
}

/// The adapter's own series.
#[derive(Debug, Default)]
struct HttpSeries {
    requests: Mutex<BTreeMap<(&'static str, String, u16), RequestSeries>>,
    in_flight: AtomicI64,
    /// Requests whose `X-Forwarded-For` was ignored (the peer is not a trusted proxy).
    untrusted_forwarded: std::sync::atomic::AtomicU64,
}

/// A bounded method label: the standard methods, else `OTHER`.
fn method_label(m: &Method) -> &'static str {
    match m.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        "TRACE" => "TRACE",
        "CONNECT" => "CONNECT",
        _ => "OTHER",
    }
}

impl HttpSeries {
    fn observe(&self, method: &'static str, route: String, status: u16, secs: f64) {
        let mut map = self.requests.lock().expect("http metrics poisoned");
        let s = map.entry((method, route, status)).or_default();
        let i = HTTP_BUCKETS.iter().position(|b| secs <= *b).unwrap_or(HTTP_BUCKETS.len());
        s.buckets[i] += 1;
        s.sum += secs;
        s.count += 1;
    }

    fn families(&self) -> Vec<MetricFamily> {
        let map = self.requests.lock().expect("http metrics poisoned").clone();
        let mut total = MetricFamily::counter(
            "tiktok_hub_http_requests_total",
            "HTTP requests answered, by method, route pattern and status.",
        );
        let mut latency = MetricFamily::new(
            "tiktok_hub_http_request_duration_seconds",
            MetricType::Histogram,
            "HTTP request latency (first byte of the request to the response), by method, route pattern and status.",
        );
        for ((method, route, status), s) in &map {
            let status = status.to_string();
            let l = [("method", *method), ("route", route.as_str()), ("status", status.as_str())];
            total = total.with(&l, s.count as f64);
            let mut cumulative = 0;
            let buckets = HTTP_BUCKETS
                .iter()
                .zip(&s.buckets)
                .map(|(b, n)| {
                    cumulative += n;
                    (*b, cumulative)
                })
                .collect();
            latency = latency.with_value(&l, SampleValue::Histogram { buckets, sum: s.sum, count: s.count });
        }
        let in_flight = MetricFamily::gauge("tiktok_hub_http_requests_in_flight", "HTTP requests being answered now.")
            .with(&[], self.in_flight.load(Ordering::Relaxed) as f64);
        let untrusted = MetricFamily::counter(
            "tiktok_hub_http_untrusted_forwarded_total",
            "Requests whose X-Forwarded-For was ignored because the peer is not in TRUSTED_PROXIES.",
        )
        .with(&[], self.untrusted_forwarded.load(Ordering::Relaxed) as f64);
        vec![total, latency, in_flight, untrusted]
    }
}

/// One request being answered (see [`Metrics::begin`]).
pub(crate) struct RequestTimer<'a> {
    series: &'a HttpSeries,
    method: &'static str,
    started: Instant,
}

impl RequestTimer<'_> {
    /// Records the answer: the matched route pattern (`None`: no route) and the status.
    pub(crate) fn finish(self, route: Option<String>, status: u16) {
        self.series.in_flight.fetch_sub(1, Ordering::Relaxed);
        let route = route.unwrap_or_else(|| "unmatched".to_owned());
        self.series.observe(self.method, route, status, self.started.elapsed().as_secs_f64());
    }
}

/// Everything `/metrics` shows: the HTTP series and the plugged-in source.
pub struct Metrics {
    source: Option<Arc<dyn MetricsSource>>,
    http: HttpSeries,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("source", &self.source.is_some()).finish_non_exhaustive()
    }
}

impl Metrics {
    /// HTTP series only, plus `source`'s when given.
    pub fn new(source: Option<Arc<dyn MetricsSource>>) -> Self {
        Self { source, http: HttpSeries::default() }
    }

    /// Counts a request in flight until [`RequestTimer::finish`].
    pub(crate) fn begin(&self, method: &Method) -> RequestTimer<'_> {
        self.http.in_flight.fetch_add(1, Ordering::Relaxed);
        RequestTimer { series: &self.http, method: method_label(method), started: Instant::now() }
    }

    /// Counts a request whose `X-Forwarded-For` was ignored.
    pub(crate) fn count_untrusted_forwarded(&self) {
        self.http.untrusted_forwarded.fetch_add(1, Ordering::Relaxed);
    }

    /// The whole exposition.
    pub async fn render(&self) -> String {
        let mut families = match &self.source {
            Some(s) => s.collect().await,
            None => Vec::new(),
        };
        families.extend(self.http.families());
        render(&families)
    }
}

async fn plain_metrics(metrics: actix_web::web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok().content_type(CONTENT_TYPE).body(metrics.render().await)
}

/// Serves `GET /metrics` (no key; everything else 404) on `listener` with one worker, for a
/// scraper on a private network. Stop it through the returned server's handle.
pub fn serve_metrics(
    listener: std::net::TcpListener,
    metrics: Arc<Metrics>,
) -> std::io::Result<actix_web::dev::Server> {
    let data = actix_web::web::Data::from(metrics);
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(data.clone())
            .route("/metrics", actix_web::web::get().to(plain_metrics))
            .default_service(actix_web::web::to(HttpResponse::NotFound))
    })
    .workers(1)
    .shutdown_timeout(1)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_text_format() {
        let families = vec![
            MetricFamily::counter("x_total", "Things.\nMore").with(&[("job", "a\"b")], 3.0).with(&[], 0.5),
            MetricFamily::new("lat_seconds", MetricType::Histogram, "Latency.").with_value(
                &[("route", "/r/{id}")],
                SampleValue::Histogram { buckets: vec![(0.1, 1), (1.0, 2)], sum: 1.5, count: 3 },
            ),
            MetricFamily::new("s_seconds", MetricType::Summary, "S.")
                .with_value(&[], SampleValue::Summary { sum: 2.0, count: 4 }),
        ];
        let text = render(&families);
        let expected = "# HELP x_total Things.\\nMore\n# TYPE x_total counter\nx_total{job=\"a\\\"b\"} 3\nx_total 0.5\n\
            # HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n\
            lat_seconds_bucket{route=\"/r/{id}\",le=\"0.1\"} 1\nlat_seconds_bucket{route=\"/r/{id}\",le=\"1\"} 2\n\
            lat_seconds_bucket{route=\"/r/{id}\",le=\"+Inf\"} 3\nlat_seconds_sum{route=\"/r/{id}\"} 1.5\n\
            lat_seconds_count{route=\"/r/{id}\"} 3\n\
            # HELP s_seconds S.\n# TYPE s_seconds summary\ns_seconds_sum 2\ns_seconds_count 4\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn methods_are_a_closed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "OTHER");
    }

    #[test]
    fn http_series_are_cumulative() {
        let s = HttpSeries::default();
        s.observe("GET", "/health".into(), 200, 0.004);
        s.observe("GET", "/health".into(), 200, 0.2);
        s.observe("GET", "/health".into(), 200, 900.0);
        let text = render(&s.families());
        assert!(text.contains("tiktok_hub_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 3\n"));
        assert!(text.contains("le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("le=\"0.25\"} 2\n"), "{text}");
        assert!(text.contains("le=\"300\"} 2\n"), "{text}");
        assert!(text.contains("le=\"+Inf\"} 3\n"), "{text}");
    }
}
