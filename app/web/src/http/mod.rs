//! HTTP: the router, shared state, middleware and the mapping of errors to
//! responses. Handlers live in [`api`] and [`ops`].

pub mod api;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod ops;
pub mod routes;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
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
        .get("/api/v1/openapi.json", openapi::openapi_json)
        .get("/healthz", ops::healthz)
        .get("/readyz", ops::readyz)
        .get("/metrics", ops::metrics_authenticated);
    dashboard::routes(r)
}

/// (method, path) of every route [`router`] serves.
pub fn route_table() -> Vec<(axum::http::Method, &'static str)> {
    routes().table
}

/// The whole application as one router; tests drive it with `oneshot`.
pub fn router(state: AppState) -> Router {
    let timeout = state.request_timeout;
    routes()
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    security_headers,
                ))
                .layer(CatchPanicLayer::custom(|_| {
                    ApiError::Internal("a handler panicked".into()).into_response()
                }))
                .layer(middleware::from_fn(observe))
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

/// Logs one line per request (method, route template, status, latency and
/// request id — never the query string, which may hold an email) and
/// records the request metrics.
async fn observe(request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |p| p.as_str())
        .to_owned();
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let span = tracing::info_span!("request", %method, %route, request_id = %request_id);
    let response = next.run(request).instrument(span.clone()).await;
    let latency = start.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request"
        );
    });
    let labels = [
        ("method", method.to_string()),
        ("route", route),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels).record(latency.as_secs_f64());
    response
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Security headers on every response; HSTS only when the request came over
/// TLS through a trusted proxy.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
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
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
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
