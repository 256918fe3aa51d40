//! The JSON API under `/api/v1`.

use crate::stripe::refunds::RefundError;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, Problem};
use super::extract::{ApiCaller, ApiQuery, JsonBody, idempotency_key, request_hash};
use crate::domain::{
    Cursor, IdempotencyKey, NewPayment, NewRefund, Payment, PaymentId, PaymentPatch, RawListParams,
    RawSummaryParams, Refund, Summary,
};
use crate::storage::payments::{IdempotencyClaim, Idempotent, RecordedResponse};

/// A page of payments, newest first.
#[derive(Serialize, ToSchema)]
pub struct PaymentList {
    /// Always `list`.
    #[schema(value_type = String, example = "list")]
    pub object: &'static str,
    pub data: Vec<Payment>,
    /// More payments exist past this page.
    pub has_more: bool,
    /// Pass as `starting_after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The `Idempotency-Key` header every POST carries. Written by hand because
/// the derive drops `required` and the description when a schema comes
/// from a function, and the limits must come from [`IdempotencyKey`].
pub struct IdempotencyHeader;

impl IntoParams for IdempotencyHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        vec![
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(utoipa::openapi::Required::True)
                .description(Some(
                    "1 to 255 visible ASCII characters; repeats replay the first response",
                ))
                .schema(Some(IdempotencyKey::schema()))
                .build(),
        ]
    }
}

fn json_response(status: StatusCode, body: String) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A repeat of a POST answered as the first was. Only what a POST created is
/// recorded (a refused one records nothing), so the first answer was a 201
/// whose body is the recorded response.
fn replayed(recorded: RecordedResponse) -> Response {
    let mut response = json_response(StatusCode::CREATED, recorded.into_string());
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

/// The idempotency record of a POST: who asks, with which key, for what.
fn idempotency(
    caller: &ApiCaller,
    headers: &HeaderMap,
    path: &str,
    body: &serde_json::Value,
) -> Result<IdempotencyClaim, ApiError> {
    Ok(IdempotencyClaim {
        principal: caller.actor(),
        key: idempotency_key(headers)?.into_string(),
        request_hash: request_hash("POST", path, body),
    })
}

/// The answer to an idempotent POST: 201 with what was made now, the first
/// answer again for a repeat, or 422 for a key reused with another request.
fn idempotent_response<T: Serialize>(
    outcome: Idempotent<T>,
    location: impl FnOnce(&T) -> Option<String>,
) -> Result<Response, ApiError> {
    match outcome {
        Idempotent::Done(made) => {
            let mut response = json_response(StatusCode::CREATED, to_json(&made));
            if let Some(v) = location(&made).and_then(|l| HeaderValue::from_str(&l).ok()) {
                response.headers_mut().insert(header::LOCATION, v);
            }
            Ok(response)
        }
        Idempotent::Replay(recorded) => Ok(replayed(recorded)),
        Idempotent::Mismatch => Err(ApiError::invalid(vec![crate::domain::FieldError::new(
            "Idempotency-Key",
            "was already used with a different request; use a new key",
        )])),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Record a payment.
#[utoipa::path(
    post, path = "/api/v1/payments", tag = "payments",
    params(IdempotencyHeader),
    request_body = NewPayment,
    responses(
        (status = 201, description = "Created (or replayed, with `Idempotent-Replayed: true`)", body = Payment),
        (status = 400, description = "Malformed JSON or missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Duplicate external_ref or key in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or key reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let idem = idempotency(&caller, &headers, "/api/v1/payments", &body)?;
    let new = NewPayment::from_json(body).map_err(ApiError::invalid)?;
    let outcome = state
        .store
        .create_payment(&caller.actor(), Some(&idem), &new, |p| {
            RecordedResponse::new(to_json(p))
        })
        .await?;
    idempotent_response(outcome, |p: &Payment| {
        Some(format!("/api/v1/payments/{}", p.id))
    })
}

/// List payments, newest first, with keyset pagination.
#[utoipa::path(
    get, path = "/api/v1/payments", tag = "payments",
    params(RawListParams),
    responses(
        (status = 200, description = "A page of payments", body = PaymentList),
    ),
    security(("bearer" = []))
)]
pub async fn list_payments(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiQuery(params): ApiQuery<RawListParams>,
) -> Result<Response, ApiError> {
    let req = params.list_request().map_err(ApiError::invalid)?;
    let page = state.store.list_payments(&req).await?;
    let older_exist = match req.from {
        crate::domain::PageFrom::Before(_) => !page.items.is_empty(),
        _ => page.has_more,
    };
    let next_cursor = page.items.last().filter(|_| older_exist).map(|p| {
        Cursor {
            created_at: p.created_at.0,
            id: p.id.clone(),
        }
        .encode()
    });
    let list = PaymentList {
        object: "list",
        has_more: page.has_more,
        data: page.items,
        next_cursor,
    };
    Ok(json_response(StatusCode::OK, to_json(&list)))
}

/// One payment with its refunds.
#[utoipa::path(
    get, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "Payment id (pay_…)")),
    responses(
        (status = 200, description = "The payment with `refunds`", body = Payment),
        (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_payment(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = PaymentId::parse(&id).ok_or(ApiError::NotFound)?;
    let payment = state.store.payment_with_refunds(id.as_str()).await?;
    Ok(json_response(StatusCode::OK, to_json(&payment)))
}

/// Change a payment's status, description or metadata.
#[utoipa::path(
    patch, path = "/api/v1/payments/{id}", tag = "payments",
    params(("id" = String, Path, description = "Payment id (pay_…)")),
    request_body = PaymentPatch,
    responses(
        (status = 200, description = "The updated payment", body = Payment),
        (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Status change not allowed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn update_payment(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let patch = PaymentPatch::from_json(body).map_err(ApiError::invalid)?;
    let id = PaymentId::parse(&id).ok_or(ApiError::NotFound)?;
    let payment = state
        .store
        .update_payment(&caller.actor(), id.as_str(), &patch)
        .await?;
    Ok(json_response(StatusCode::OK, to_json(&payment)))
}

/// Refund part or all of a payment.
#[utoipa::path(
    post, path = "/api/v1/payments/{id}/refunds", tag = "refunds",
    params(
        ("id" = String, Path, description = "Payment id (pay_…)"),
        IdempotencyHeader,
    ),
    request_body = NewRefund,
    responses(
        (status = 201, description = "Refunded (or replayed, with `Idempotent-Replayed: true`)", body = Refund),
        (status = 400, description = "Malformed JSON or missing Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such payment", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not refundable, more than remains, or refused by Stripe", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Stripe could not be reached; nothing was recorded (retry with the same key)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or key reused with another body", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create_refund(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let path = format!("/api/v1/payments/{id}/refunds");
    let idem = idempotency(&caller, &headers, &path, &body)?;
    let new = NewRefund::from_json(body).map_err(ApiError::invalid)?;
    let id = PaymentId::parse(&id).ok_or(ApiError::NotFound)?;
    let payment = state.store.payment(id.as_str()).await?;
    let outcome = crate::stripe::refunds::refund(
        &state.store,
        state.stripe.as_deref(),
        &caller.actor(),
        &idem,
        &payment,
        &new,
        |r| RecordedResponse::new(to_json(r)),
    )
    .await
    .map_err(|e| match e {
        RefundError::Store(e) => ApiError::from(e),
        RefundError::Refused(message) => {
            ApiError::Conflict(format!("Stripe refused the refund: {message}"))
        }
        e @ RefundError::Unreachable(_) => ApiError::BadGateway(e.to_string()),
    })?;
    idempotent_response(outcome, |_: &Refund| None)
}

/// Totals by day, status, method and campaign for one currency.
#[utoipa::path(
    get, path = "/api/v1/summary", tag = "summary",
    params(RawSummaryParams),
    responses(
        (status = 200, description = "Totals over the range", body = Summary),
    ),
    security(("bearer" = []))
)]
pub async fn summary(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiQuery(params): ApiQuery<RawSummaryParams>,
) -> Result<Response, ApiError> {
    let req = params
        .validate(chrono::Utc::now().date_naive())
        .map_err(ApiError::invalid)?;
    let summary = state.store.summary(&req).await?;
    Ok(json_response(StatusCode::OK, to_json(&summary)))
}
