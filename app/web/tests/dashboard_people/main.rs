//! The donor, membership and campaign pages and the overview's membership
//! figures, on every backend. Expected numbers are worked out here from what
//! each test records, not read back from the code under test.

#[path = "../common/mod.rs"]
mod common;
#[path = "../dashboard_support/mod.rs"]
mod dashboard_support;

mod campaigns;
mod donors;
mod memberships;

use dashboard_support::*;
use payments::domain::{Interval, MembershipStatus, Timestamp};
use payments::storage::Store;
use payments::storage::memberships::SubscriptionState;
use payments::storage::processor::{Effect, EventRecord, Source};
use serde_json::json;

pub const DAY: i64 = 86_400_000_000;

/// A logged-in staff member's cookie on `app`.
pub async fn staff(app: &TestApp, role: Role) -> String {
    let email = format!("{}@example.org", role.as_str());
    add_user(app, &email, role).await;
    login(app, &email).await
}

pub async fn get(app: &TestApp, path: &str, cookie: &str) -> common::Response {
    page(app, Method::GET, path, cookie, None).await
}

/// Rows of the page's table body (the header row is the first `<tr>`).
pub fn rows(html: &str) -> usize {
    html.matches("<tr>").count().saturating_sub(1)
}

/// A `rel` link's target, unescaped.
pub fn rel(html: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let rest = html.split(&marker).nth(1)?;
    Some(rest.split('"').next()?.replace("&#38;", "&"))
}

/// The donor ids a donors page links to, in order.
pub fn donor_links(html: &str) -> Vec<String> {
    html.split("href=\"/donors/")
        .skip(1)
        .map(|s| s.split('"').next().unwrap().to_owned())
        .collect()
}

pub async fn gift(
    app: &TestApp,
    name: &str,
    email: &str,
    amount: i64,
    extra: serde_json::Value,
) -> String {
    let mut body = json!({"amount": amount, "currency": "USD", "method": "card",
                          "payer": {"name": name, "email": email}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    app.create(body).await["id"].as_str().unwrap().to_owned()
}

pub async fn refund(app: &TestApp, payment: &str, amount: i64) {
    let r = app
        .post(
            &format!("/api/v1/payments/{payment}/refunds"),
            json!({"amount": amount}),
            &uuid::Uuid::now_v7().to_string(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

pub fn subscription(
    id: &str,
    amount: i64,
    currency: &str,
    interval: Interval,
    status: MembershipStatus,
    email: &str,
) -> SubscriptionState {
    SubscriptionState {
        external_ref: id.to_owned(),
        amount,
        currency: currency.to_owned(),
        interval,
        status,
        campaign: Some("members-2026".to_owned()),
        cancel_at_period_end: false,
        started_at: Timestamp::now(),
        canceled_at: (status == MembershipStatus::Canceled).then(Timestamp::now),
        current_period_end: Some(Timestamp(Timestamp::now().0 + 30 * DAY)),
        member: Some((email.to_owned(), format!("Member {id}"))),
    }
}

pub async fn apply(store: &Store, effect: Effect, object: &str) {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let record = EventRecord {
        id: &id,
        kind: "customer.subscription.updated",
        object_id: Some(object),
        created: 1,
        source: Source::Webhook,
    };
    store.apply_event(&record, &effect).await.unwrap();
}

pub async fn member(store: &Store, s: SubscriptionState) {
    let object = s.external_ref.clone();
    apply(store, Effect::Membership(s), &object).await;
}
