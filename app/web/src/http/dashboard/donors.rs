//! `/donors`: every donor, newest first, searched by name or email, a page
//! at a time.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::Staff;
use super::view::{PageQuery, Pager, date_or_dash, money};
use super::{Chrome, DashError, render};
use crate::domain::listing::MAX_QUERY_CHARS;
use crate::domain::{Donor, MembershipStatus, PageFrom};
use crate::http::AppState;

const PAGE_SIZE: i64 = 50;

/// The search as the form sends it (the page is read as a [`PageQuery`]).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DonorsForm {
    q: String,
}

/// A donor's memberships in a word: the best standing of any of them.
pub(super) struct Standing {
    pub class: &'static str,
    pub label: &'static str,
    /// As the donor's page heads it ("former member").
    pub heading: &'static str,
}

pub(super) fn standing(d: &Donor) -> Standing {
    // Classes as the badges on /memberships have them.
    let best = [
        MembershipStatus::Active,
        MembershipStatus::PastDue,
        MembershipStatus::Canceled,
        MembershipStatus::Incomplete,
    ]
    .into_iter()
    .find(|s| d.memberships.iter().any(|m| m.status == *s));
    let (class, label, heading) = match best {
        Some(MembershipStatus::Active) => ("active", "active", "active member"),
        Some(MembershipStatus::PastDue) => ("past_due", "past due", "member, past due"),
        Some(MembershipStatus::Canceled) => ("canceled", "canceled", "former member"),
        Some(MembershipStatus::Incomplete) => ("incomplete", "incomplete", "membership incomplete"),
        None => ("", "none", ""),
    };
    Standing {
        class,
        label,
        heading,
    }
}

struct DonorRowView {
    id: String,
    name: String,
    email: String,
    first_gift: String,
    last_gift: String,
    /// Net given, one line per currency.
    totals: Vec<String>,
    standing: Standing,
}

impl DonorRowView {
    fn new(d: &Donor) -> DonorRowView {
        DonorRowView {
            id: d.id.clone(),
            name: d.name.clone(),
            email: d.email.clone(),
            first_gift: date_or_dash(d.first_gift_at),
            last_gift: date_or_dash(d.last_gift_at),
            totals: d
                .totals
                .iter()
                .map(|(code, t)| money(t.net, code))
                .collect(),
            standing: standing(d),
        }
    }
}

#[derive(Template)]
#[template(path = "donors.html")]
struct DonorsPage {
    chrome: Chrome,
    q: String,
    errors: Vec<String>,
    rows: Vec<DonorRowView>,
    pager: Pager,
}

/// `/donors`: the table with keyset "newer/older" links that keep the search.
pub async fn donors(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<DonorsForm>,
    Query(at): Query<PageQuery>,
) -> Result<Response, DashError> {
    let q = form.q.trim().to_owned();
    let mut page = DonorsPage {
        chrome: Chrome::new(&staff, "donors"),
        q: q.clone(),
        errors: Vec::new(),
        rows: Vec::new(),
        pager: Pager::default(),
    };
    if q.chars().count() > MAX_QUERY_CHARS {
        page.errors
            .push(format!("Search for at most {MAX_QUERY_CHARS} characters."));
    }
    let from = at.from().unwrap_or_else(|e| {
        page.errors.push(e);
        PageFrom::Start
    });
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    let search = (!q.is_empty()).then_some(q.as_str());
    let result = state.store.list_donors(search, PAGE_SIZE, &from).await?;
    page.pager = Pager::new(
        "/donors",
        &[("q", &q)],
        &from,
        result.has_more,
        result.items.first().map(Donor::cursor),
        result.items.last().map(Donor::cursor),
    );
    page.rows = result.items.iter().map(DonorRowView::new).collect();
    Ok(render(&page))
}
