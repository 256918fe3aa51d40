//! The donor and membership API under `/api/v1`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, Problem};
use super::extract::{ApiCaller, ApiQuery};
use crate::domain::listing::parse_object_id;
use crate::domain::people::{RawDonorParams, RawMembershipParams};
use crate::domain::{Donor, Membership};

/// A page of donors, newest first.
#[derive(Serialize, ToSchema)]
pub struct DonorList {
    /// Always `list`.
    #[schema(value_type = String, example = "list")]
    pub object: &'static str,
    pub data: Vec<Donor>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A page of memberships, newest started first.
#[derive(Serialize, ToSchema)]
pub struct MembershipList {
    /// Always `list`.
    #[schema(value_type = String, example = "list")]
    pub object: &'static str,
    pub data: Vec<Membership>,
    pub has_more: bool,
    /// Pass as `starting_after` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn json<T: Serialize>(value: &T) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::to_string(value).unwrap_or_default(),
    )
        .into_response()
}

/// List donors, newest first.
#[utoipa::path(
    get, path = "/api/v1/donors", tag = "donors",
    params(RawDonorParams),
    responses((status = 200, description = "A page of donors", body = DonorList)),
    security(("bearer" = []))
)]
pub async fn list_donors(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiQuery(raw): ApiQuery<RawDonorParams>,
) -> Result<Response, ApiError> {
    let q = raw.parse().map_err(ApiError::invalid)?;
    let page = state
        .store
        .list_donors(q.q.as_deref(), q.limit, &q.from)
        .await?;
    let next_cursor = page.next_cursor(Donor::cursor);
    Ok(json(&DonorList {
        object: "list",
        has_more: page.has_more,
        data: page.items,
        next_cursor,
    }))
}

/// One donor with totals per currency and memberships.
#[utoipa::path(
    get, path = "/api/v1/donors/{id}", tag = "donors",
    params(("id" = String, Path, description = "Donor id (don_…)")),
    responses(
        (status = 200, description = "The donor", body = Donor),
        (status = 404, description = "No such donor", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_donor(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_object_id(&id, "don").map_err(|_| ApiError::NotFound)?;
    Ok(json(&state.store.donor(&id).await?))
}

/// List memberships, newest first.
#[utoipa::path(
    get, path = "/api/v1/memberships", tag = "memberships",
    params(RawMembershipParams),
    responses((status = 200, description = "A page of memberships", body = MembershipList)),
    security(("bearer" = []))
)]
pub async fn list_memberships(
    State(state): State<AppState>,
    _caller: ApiCaller,
    ApiQuery(raw): ApiQuery<RawMembershipParams>,
) -> Result<Response, ApiError> {
    let q = raw.parse().map_err(ApiError::invalid)?;
    let page = state
        .store
        .list_memberships(q.status, q.limit, &q.from)
        .await?;
    let next_cursor = page.next_cursor(Membership::cursor);
    Ok(json(&MembershipList {
        object: "list",
        has_more: page.has_more,
        data: page.items,
        next_cursor,
    }))
}

/// One membership.
#[utoipa::path(
    get, path = "/api/v1/memberships/{id}", tag = "memberships",
    params(("id" = String, Path, description = "Membership id (mem_…)")),
    responses(
        (status = 200, description = "The membership", body = Membership),
        (status = 404, description = "No such membership", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn get_membership(
    State(state): State<AppState>,
    _caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_object_id(&id, "mem").map_err(|_| ApiError::NotFound)?;
    Ok(json(&state.store.membership(&id).await?))
}
