//! `/memberships`: recurring gifts, newest started first, filtered by
//! status, a page at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::Staff;
use super::view::{
    Choice, PageQuery, Pager, date, date_or_dash, membership_label, or_dash, per_interval,
};
use super::{Chrome, DashError, render};
use crate::domain::{Membership, MembershipStatus, PageFrom};
use crate::http::AppState;

const PAGE_SIZE: i64 = 50;

/// The filter as the form sends it (the page is read as a [`PageQuery`]).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MembershipsForm {
    status: String,
}

struct MembershipRowView {
    donor_id: Option<String>,
    donor: String,
    email: String,
    amount: String,
    status: &'static str,
    status_label: String,
    started: String,
    period_end: String,
    cancel_at_period_end: bool,
    campaign: String,
}

#[derive(Template)]
#[template(path = "memberships.html")]
struct MembershipsPage {
    chrome: Chrome,
    statuses: Vec<Choice>,
    status: String,
    errors: Vec<String>,
    rows: Vec<MembershipRowView>,
    pager: Pager,
}

/// `/memberships`: the table with keyset "newer/older" links that keep the
/// status filter.
pub async fn memberships(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<MembershipsForm>,
    Query(at): Query<PageQuery>,
) -> Result<Response, DashError> {
    let status_text = form.status.trim().to_owned();
    let mut page = MembershipsPage {
        chrome: Chrome::new(&staff, "memberships"),
        statuses: Choice::list(
            MembershipStatus::ALL.iter().map(|s| s.as_str()),
            &status_text,
        ),
        status: status_text.clone(),
        errors: Vec::new(),
        rows: Vec::new(),
        pager: Pager::default(),
    };
    let status = match status_text.as_str() {
        "" => None,
        s => MembershipStatus::parse(s)
            .map_err(|m| page.errors.push(format!("Status {m}.")))
            .ok(),
    };
    let from = at.from().unwrap_or_else(|e| {
        page.errors.push(e);
        PageFrom::Start
    });
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let result = state
        .store
        .list_memberships(status, PAGE_SIZE, &from)
        .await?;
    let ids: Vec<&str> = result
        .items
        .iter()
        .filter_map(|m| m.donor_id.as_deref())
        .collect();
    let names = state.store.donor_names(&ids).await?;
    page.pager = Pager::new(
        "/memberships",
        &[("status", &status_text)],
        &from,
        result.has_more,
        result.items.first().map(Membership::cursor),
        result.items.last().map(Membership::cursor),
    );
    page.rows = result
        .items
        .iter()
        .map(|m| {
            let (donor, email) = m
                .donor_id
                .as_ref()
                .and_then(|id| names.get(id))
                .cloned()
                .unwrap_or_else(|| ("(unknown)".into(), String::new()));
            MembershipRowView {
                donor_id: m.donor_id.clone(),
                donor,
                email,
                amount: per_interval(m.amount, &m.currency, m.interval),
                status: m.status.as_str(),
                status_label: membership_label(m.status),
                started: date(m.started_at),
                period_end: date_or_dash(m.current_period_end),
                cancel_at_period_end: m.cancel_at_period_end,
                campaign: or_dash(m.campaign.as_ref()),
            }
        })
        .collect();
    Ok(render(&page))
}
