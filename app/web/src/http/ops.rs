//! Operations endpoints: liveness, readiness, metrics.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::ApiCaller;

/// Names the process that answered /healthz or /readyz. Two processes may
/// share a port (SO_REUSEPORT during a swap); the deploy compares this with
/// the id it gave the new process, so an answer from the old one cannot pass
/// as the new one's readiness.
pub const INSTANCE_HEADER: &str = "x-payments-instance";

/// An instance id as a header value: 1–128 visible ASCII characters.
pub fn instance_header(id: &str) -> Result<HeaderValue, String> {
    if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("an instance id is 1 to 128 visible ASCII characters".into());
    }
    HeaderValue::from_str(id).map_err(|e| e.to_string())
}

/// A fresh random instance id, for a process not given one.
pub fn random_instance() -> HeaderValue {
    HeaderValue::from_str(&uuid::Uuid::now_v7().simple().to_string())
        .expect("a simple uuid is a valid header value")
}

/// 200 while the process runs; touches nothing.
pub async fn healthz(State(state): State<AppState>) -> Response {
    ([(INSTANCE_HEADER, state.instance.clone())], "ok").into_response()
}

/// 200 when the database answers within a second and we are not draining.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let instance = [(INSTANCE_HEADER, state.instance.clone())];
    if state.draining.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, instance, "draining").into_response();
    }
    match tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, instance, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                instance,
                "database unavailable",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            instance,
            "database timed out",
        )
            .into_response(),
    }
}

/// Prometheus text, for a caller with any live token.
pub async fn metrics_authenticated(
    state: State<AppState>,
    _caller: ApiCaller,
) -> Result<Response, ApiError> {
    Ok(metrics_open(state).await)
}

/// Prometheus text without authentication: only on the internal listener.
pub async fn metrics_open(State(state): State<AppState>) -> Response {
    let (size, idle) = state.store.pool_state();
    metrics::gauge!("db_pool_connections").set(f64::from(size));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    metrics::gauge!("db_pool_max_connections").set(f64::from(state.max_connections));
    let body = state.metrics.render();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}
