//! `/payments`: the filtered table, a page at a time, newest first.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::session::Staff;
use super::view::{Choice, Pager, money, money_if_any, neighbours, status_label, when};
use super::{Chrome, DashError, render};
use crate::domain::{
    Cursor, Filter, ListRequest, Method, PageFrom, Payment, RawListParams, Status, exponent_of,
    parse_major_units,
};
use crate::http::AppState;

const PAGE_SIZE: i64 = 50;

/// The table's filters as the form sends them (all text, all optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PaymentsForm {
    #[serde(skip_serializing_if = "String::is_empty")]
    q: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    method: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    currency: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    campaign: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    donor_id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    created_gte: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    created_lt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    amount_min: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    amount_max: String,
    #[serde(skip_serializing)]
    after: String,
    #[serde(skip_serializing)]
    before: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

impl PaymentsForm {
    /// The filter, or the messages to show above the table.
    pub(super) fn filter(&self) -> Result<Filter, Vec<String>> {
        let mut errors = Vec::new();
        let exponent = exponent_of(&self.currency.trim().to_uppercase());
        let mut amount = |label: &str, text: &str| -> Option<String> {
            let text = opt(text)?;
            match parse_major_units(&text, exponent) {
                Ok(v) => Some(v.to_string()),
                Err(m) => {
                    errors.push(format!("{label} {m}"));
                    None
                }
            }
        };
        let raw = RawListParams {
            amount_gte: amount("Min amount", &self.amount_min),
            amount_lte: amount("Max amount", &self.amount_max),
            q: opt(&self.q),
            status: opt(&self.status),
            method: opt(&self.method),
            currency: opt(&self.currency).map(|c| c.to_uppercase()),
            campaign: opt(&self.campaign),
            donor_id: opt(&self.donor_id),
            created_gte: opt(&self.created_gte),
            created_lt: opt(&self.created_lt),
            ..RawListParams::default()
        };
        match raw.filter() {
            Ok(filter) if errors.is_empty() => Ok(filter),
            Ok(_) => Err(errors),
            Err(fields) => {
                errors.extend(
                    fields
                        .into_iter()
                        .map(|e| format!("{} {}", e.field.replace('_', " "), e.message)),
                );
                Err(errors)
            }
        }
    }

    fn query(&self, extra: Option<(&str, String)>) -> String {
        let mut q = serde_urlencoded::to_string(self).unwrap_or_default();
        if let Some((k, v)) = extra {
            if !q.is_empty() {
                q.push('&');
            }
            q.push_str(&serde_urlencoded::to_string([(k, v)]).unwrap_or_default());
        }
        if q.is_empty() {
            String::new()
        } else {
            format!("?{q}")
        }
    }
}

struct PaymentRowView {
    id: String,
    created: String,
    name: String,
    email: String,
    amount: String,
    refunded: String,
    status: &'static str,
    status_label: String,
    method: &'static str,
    campaign: String,
}

impl PaymentRowView {
    fn new(p: &Payment) -> Self {
        PaymentRowView {
            id: p.id.clone(),
            created: when(p.created_at),
            name: p.payer.name.clone(),
            email: p.payer.email.clone(),
            amount: money(p.amount, &p.currency),
            refunded: money_if_any(p.amount_refunded, &p.currency),
            status: p.status.as_str(),
            status_label: status_label(p.status),
            method: p.method.as_str(),
            campaign: p.campaign.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "payments.html")]
struct PaymentsPage {
    chrome: Chrome,
    form: PaymentsForm,
    statuses: Vec<Choice>,
    methods: Vec<Choice>,
    errors: Vec<String>,
    rows: Vec<PaymentRowView>,
    pager: Pager,
    export_query: String,
}

/// `/payments`: the filtered table with keyset "newer/older" links.
pub async fn payments(
    State(state): State<AppState>,
    staff: Staff,
    Query(form): Query<PaymentsForm>,
) -> Result<Response, DashError> {
    let mut page = PaymentsPage {
        chrome: Chrome::new(&staff, "payments"),
        statuses: Choice::list(Status::ALL.iter().map(|s| s.as_str()), &form.status),
        methods: Choice::list(Method::ALL.iter().map(|m| m.as_str()), &form.method),
        errors: Vec::new(),
        rows: Vec::new(),
        pager: Pager::default(),
        export_query: form.query(None),
        form: form.clone(),
    };
    let filter = match form.filter() {
        Ok(f) => f,
        Err(errors) => {
            page.errors = errors;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
        }
    };
    let from = match (
        Cursor::decode(form.after.trim()),
        Cursor::decode(form.before.trim()),
    ) {
        (Some(c), _) => PageFrom::After(c),
        (None, Some(c)) => PageFrom::Before(c),
        _ => PageFrom::Start,
    };
    let result = state
        .store
        .list_payments(&ListRequest {
            filter,
            limit: PAGE_SIZE,
            from: from.clone(),
        })
        .await?;
    let cursor = |p: &Payment| {
        Cursor {
            created_at: p.created_at.0,
            id: p.id.clone(),
        }
        .encode()
    };
    let (newer_exist, older_exist) = neighbours(&from, result.has_more);
    if let (true, Some(first)) = (newer_exist, result.items.first()) {
        page.pager.prev = Some(format!(
            "/payments{}",
            form.query(Some(("before", cursor(first))))
        ));
    }
    if let (true, Some(last)) = (older_exist, result.items.last()) {
        page.pager.next = Some(format!(
            "/payments{}",
            form.query(Some(("after", cursor(last))))
        ));
    }
    page.rows = result.items.iter().map(PaymentRowView::new).collect();
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_form_converts_major_units_and_keeps_its_query() {
        let form = PaymentsForm {
            amount_min: "25".into(),
            currency: "jpy".into(),
            amount_max: "1,500".into(),
            q: "ada lovelace".into(),
            ..Default::default()
        };
        let f = form.filter().unwrap();
        assert_eq!((f.amount_gte, f.amount_lte), (Some(25), Some(1500)));
        assert_eq!(f.currency.unwrap().code(), "JPY");
        assert_eq!(
            form.query(Some(("after", "abc".into()))),
            "?q=ada+lovelace&currency=jpy&amount_min=25&amount_max=1%2C500&after=abc"
        );
        let bad = PaymentsForm {
            amount_min: "lots".into(),
            status: "lost".into(),
            ..Default::default()
        };
        assert_eq!(bad.filter().unwrap_err().len(), 2);
    }
}
