//! The overview: month totals, charts and breakdowns.

mod common;
mod dashboard_support;

use dashboard_support::*;
use serde_json::json;

#[tokio::test]
async fn overview_shows_totals_charts_and_breakdowns() {
    let app = TestApp::sqlite().await;
    add_user(&app, "viewer@example.org", Role::Viewer).await;
    let cookie = login(&app, "viewer@example.org").await;
    let empty = page(&app, Method::GET, "/", &cookie, None).await;
    assert!(empty.text.contains("No payments yet"));
    let mut a = payment_body(12_345);
    a["method"] = json!("paypal");
    app.create(a).await;
    app.create(payment_body(10_000)).await;
    let r = page(&app, Method::GET, "/", &cookie, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("223.45 USD"), "this month's gross");
    assert!(r.text.matches("<svg").count() >= 2, "two charts");
    assert!(r.text.contains("Daily gross and refunds"));
    assert!(r.text.contains("paypal") && r.text.contains("2026-year-end"));
    assert!(r.text.contains("<th scope=\"col\""), "table headers");
}
