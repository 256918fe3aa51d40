//! `POST /webhooks/stripe`: public, authenticated by Stripe's signature,
//! which is checked before the body is parsed (DESIGN §12).

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::storage::StoreError;
use crate::storage::processor::Source;
use crate::stripe::events::{self, HandleError};
use crate::stripe::objects::Event;

/// Stripe's events are far smaller; a larger body is not one.
pub const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Some(stripe) = state.stripe.as_deref() else {
        return Err(ApiError::NotYet("Stripe is not configured here".into()));
    };
    let Some(secrets) = stripe.webhook.as_ref() else {
        return Err(ApiError::NotYet(
            "no Stripe webhook secret is configured here".into(),
        ));
    };
    // A declared length over the limit is refused before reading anything;
    // an undeclared one is read only up to it.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > WEBHOOK_BODY_LIMIT as u64) {
        return Err(ApiError::TooLarge("1 MiB"));
    }
    let body = match Limited::new(body, WEBHOOK_BODY_LIMIT).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(ApiError::TooLarge("1 MiB"));
        }
        Err(_) => return Err(ApiError::BadRequest("the body could not be read".into())),
    };
    let now = chrono::Utc::now().timestamp();
    secrets
        .verify(
            headers.get("stripe-signature").map(|v| v.as_bytes()),
            &body,
            now,
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let event: Event = serde_json::from_slice(&body)
        .map_err(|_| ApiError::BadRequest("the body is not a Stripe event".into()))?;
    // Ids and types only: nothing else of the body is logged.
    tracing::info!(event = %event.id, kind = %event.kind, "stripe event");
    match events::handle(&state.store, &stripe.client, &event, Source::Webhook).await {
        Ok(outcome) => {
            Ok(Json(json!({"received": true, "outcome": outcome.as_str()})).into_response())
        }
        Err(HandleError::Unreadable(what)) => Err(ApiError::BadRequest(format!(
            "the event's object is not a readable {what}"
        ))),
        Err(HandleError::Stripe(e)) => Err(ApiError::NotYet(format!(
            "the event's object could not be fetched from Stripe now ({e})"
        ))),
        Err(HandleError::Store(e @ (StoreError::Unavailable(_) | StoreError::NotMigrated))) => {
            Err(ApiError::Unavailable(e.to_string()))
        }
        Err(HandleError::Store(StoreError::NotYet(reason))) => Err(ApiError::NotYet(reason)),
        // Stripe retries anything but a 2xx; a 503 keeps the event coming
        // back while the cause (logged here) is looked at.
        Err(HandleError::Store(e)) => {
            tracing::error!(event = %event.id, error = %e, "stripe event failed");
            Err(ApiError::NotYet(
                "the event could not be recorded now".into(),
            ))
        }
    }
}
