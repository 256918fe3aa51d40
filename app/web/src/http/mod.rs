//! HTTP: the router, shared state, middleware and the mapping of errors to
//! responses. Handlers live in [`api`] and [`ops`].

pub mod api;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod people;
pub mod public;
pub mod routes;
pub mod webhook;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::storage::Store;
use error::ApiError;

/// Request bodies larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Everything a handler may need.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// Set on SIGTERM: `/readyz` answers 503 so load balancers stop sending.
    pub draining: Arc<AtomicBool>,
    pub metrics: PrometheusHandle,
    pub max_connections: u32,
    /// Honour `X-Forwarded-For` / `X-Forwarded-Proto` (behind a load balancer).
    pub trust_proxy: bool,
    /// Longest time a request may run before it is answered with 503.
    pub request_timeout: Duration,
    /// Encrypts and authenticates the session cookies (derived from the session key).
    pub cookie_key: axum_extra::extract::cookie::Key,
    pub login_limiter: Arc<dashboard::session::LoginLimiter>,
    /// This process's instance id, as the `x-payments-instance` header value.
    pub instance: HeaderValue,
    /// Stripe, when configured.
    pub stripe: Option<Arc<crate::stripe::Stripe>>,
    /// The site's own base URL (`--public-url`), without a trailing slash.
    pub public_url: Arc<str>,
    /// What the donation page offers and accepts.
    pub donations: Arc<crate::domain::donation::DonationConfig>,
    /// `POST /donate` per client address.
    pub donate_limiter: Arc<public::RateLimiter>,
}

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application as one router; tests drive it with `oneshot`.
/// Every route of the application, API and dashboard, in one table.
pub fn routes() -> routes::Routes {
    let r = routes::Routes::new()
        .get("/api/v1/payments", api::list_payments)
        .post("/api/v1/payments", api::create_payment)
        .get("/api/v1/payments/{id}", api::get_payment)
        .patch("/api/v1/payments/{id}", api::update_payment)
        .post("/api/v1/payments/{id}/refunds", api::create_refund)
        .get("/api/v1/summary", api::summary)
        .get("/api/v1/donors", people::list_donors)
        .get("/api/v1/donors/{id}", people::get_donor)
        .get("/api/v1/memberships", people::list_memberships)
        .get("/api/v1/memberships/{id}", people::get_membership)
        .get("/api/v1/openapi.json", openapi::openapi_json)
        .get("/healthz", ops::healthz)
        .get("/readyz", ops::readyz)
        .get("/metrics", ops::metrics_authenticated)
        .post("/webhooks/stripe", webhook::stripe_webhook);
    public::routes(dashboard::routes(r))
}

/// (method, path) of every route [`router`] serves.
pub fn route_table() -> Vec<(axum::http::Method, &'static str)> {
    routes().table
}

/// The whole application as one router; tests drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let timeout = state.request_timeout;
    // What the security headers need, rather than the whole state, which
    // the middleware would clone for every request.
    let policy = HeaderPolicy {
        trust_proxy: state.trust_proxy,
        draining: state.draining.clone(),
    };
    routes()
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(middleware::from_fn_with_state(policy, security_headers))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal("a handler panicked".into()).into_response()
                }))
                .layer(middleware::from_fn_with_state(
                    Arc::new(RequestMetrics::default()),
                    observe,
                ))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    timeout,
                ))
                .layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        .with_state(state)
}

/// The internal listener (`--metrics-bind`): metrics without authentication.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics_open))
        .route("/healthz", get(ops::healthz))
        .with_state(state)
}

/// Request ids: random (version 4) UUIDs, as tower-http's `MakeRequestUuid`
/// makes them, from the operating system's random source read 4 KiB at a
/// time rather than with one system call per request.
#[derive(Clone, Copy)]
struct RequestUuid;

impl MakeRequestId for RequestUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let uuid = uuid::Builder::from_random_bytes(random_bytes()).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let value = HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text)).ok()?;
        Some(RequestId::new(value))
    }
}

/// 16 bytes from the operating system's random source, through a
/// per-thread buffer refilled once it is used up.
fn random_bytes() -> [u8; 16] {
    thread_local! {
        static POOL: RefCell<([u8; 4096], usize)> = const { RefCell::new(([0; 4096], 4096)) };
    }
    POOL.with_borrow_mut(|(pool, used)| {
        if *used == pool.len() {
            getrandom::fill(pool).expect("the operating system has no random source");
            *used = 0;
        }
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&pool[*used..*used + 16]);
        *used += 16;
        bytes
    })
}

/// The request counter and latency histogram of each (route, method,
/// status), registered with the recorder on first use so that a request
/// only increments them. The recorder is installed before any router is
/// built (`AppState::metrics` comes from it).
#[derive(Default)]
struct RequestMetrics {
    by_route: RwLock<ByRoute>,
}

/// By route template: the handles of each (method, status) seen on it.
type ByRoute = HashMap<String, Vec<(Method, u16, Handles)>>;

#[derive(Clone)]
struct Handles {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

impl RequestMetrics {
    fn handles(&self, method: &Method, route: &str, status: u16) -> Handles {
        let find = |by_route: &ByRoute| {
            by_route.get(route).and_then(|seen| {
                seen.iter()
                    .find(|(m, s, _)| m == method && *s == status)
                    .map(|(_, _, h)| h.clone())
            })
        };
        if let Some(handles) = find(&self.by_route.read().unwrap_or_else(|e| e.into_inner())) {
            return handles;
        }
        let labels = [
            ("method", method.to_string()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        let handles = Handles {
            requests: metrics::counter!("http_requests_total", &labels),
            duration: metrics::histogram!("http_request_duration_seconds", &labels),
        };
        let mut by_route = self.by_route.write().unwrap_or_else(|e| e.into_inner());
        if let Some(handles) = find(&by_route) {
            return handles;
        }
        by_route.entry(route.to_owned()).or_default().push((
            method.clone(),
            status,
            handles.clone(),
        ));
        handles
    }
}

/// Logs one line per request (method, route template, status, latency and
/// request id — never the query string, which may hold an email) and
/// records the request metrics.
async fn observe(
    State(metrics): State<Arc<RequestMetrics>>,
    request: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let route = matched.as_ref().map_or("unmatched", |p| p.as_str());
    let span = {
        let request_id = request
            .headers()
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", %method, %route, request_id = %request_id)
    };
    // The line is logged inside the span, which carries the request's fields.
    let (response, latency) = async move {
        let response = next.run(request).await;
        let latency = start.elapsed();
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request"
        );
        (response, latency)
    }
    .instrument(span)
    .await;
    let handles = metrics.handles(&method, route, response.status().as_u16());
    handles.requests.increment(1);
    handles.duration.record(latency.as_secs_f64());
    response
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// What [`security_headers`] reads from the state.
#[derive(Clone)]
struct HeaderPolicy {
    trust_proxy: bool,
    draining: Arc<AtomicBool>,
}

/// Security headers on every response; HSTS only when the request came over
/// TLS through a trusted proxy.
async fn security_headers(
    State(state): State<HeaderPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let https = dashboard::session::is_https(request.headers(), state.trust_proxy);
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    if https {
        set(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=63072000; includeSubDomains",
        );
    }
    if state.draining.load(Ordering::Relaxed) {
        // Shutting down: this connection ends after this response (hyper
        // closes it), rather than being closed idle under the client's next
        // request.
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("this method is not allowed on this path".into())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn request_ids_are_distinct_random_uuids() {
        let request = Request::new(axum::body::Body::empty());
        let mut seen = HashSet::new();
        // Several refills of the per-thread buffer (256 ids each).
        for _ in 0..1000 {
            let id = RequestUuid.make_request_id(&request).unwrap();
            let text = id.header_value().to_str().unwrap().to_owned();
            let uuid = uuid::Uuid::parse_str(&text).unwrap();
            assert_eq!(uuid.get_version(), Some(uuid::Version::Random), "{text}");
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122, "{text}");
            assert_eq!(
                text,
                uuid.hyphenated().to_string(),
                "lower case, hyphenated"
            );
            assert!(seen.insert(text), "a repeated id");
        }
    }

    #[test]
    fn request_metrics_keep_their_names_and_labels() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let cache = RequestMetrics::default();
        metrics::with_local_recorder(&recorder, || {
            for status in [200, 200, 404] {
                let h = cache.handles(&Method::GET, "/api/v1/payments/{id}", status);
                h.requests.increment(1);
                h.duration.record(0.002);
            }
            let h = cache.handles(&Method::POST, "/api/v1/payments", 201);
            h.requests.increment(1);
            h.duration.record(0.02);
        });
        let text = handle.render();
        for line in [
            r#"http_requests_total{method="GET",route="/api/v1/payments/{id}",status="200"} 2"#,
            r#"http_requests_total{method="GET",route="/api/v1/payments/{id}",status="404"} 1"#,
            r#"http_requests_total{method="POST",route="/api/v1/payments",status="201"} 1"#,
            r#"http_request_duration_seconds_count{method="GET",route="/api/v1/payments/{id}",status="200"} 2"#,
            r#"http_request_duration_seconds_sum{method="POST",route="/api/v1/payments",status="201"} 0.02"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
        }
        let cached = cache.by_route.read().unwrap();
        assert_eq!(cached["/api/v1/payments/{id}"].len(), 2);
        assert_eq!(cached["/api/v1/payments"].len(), 1);
    }
}
