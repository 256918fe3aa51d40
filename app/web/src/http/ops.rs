//! Operations endpoints: liveness, readiness, metrics.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::ApiCaller;

/// 200 while the process runs; touches nothing.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 when the database answers within a second and we are not draining.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.draining.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "draining").into_response();
    }
    match tokio::time::timeout(Duration::from_secs(1), state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database timed out").into_response(),
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
