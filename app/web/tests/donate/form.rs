//! `GET /donate`: the form, filled in from the query, public and self-contained.

use axum::http::StatusCode;

use super::{Harness, hidden, load_page};
use crate::common::TestApp;

#[tokio::test]
async fn the_form_needs_no_login_and_nothing_from_elsewhere() {
    let h = Harness::sqlite().await;
    let r = h.get("/donate", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("form-action 'self' https://checkout.stripe.com;"),
        "{csp}"
    );
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let html = &r.text;
    for external in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "@import",
    ] {
        assert!(!html.contains(external), "{external} in the page");
    }
    assert!(
        html.contains("<title>Donate · The Markup</title>"),
        "{html}"
    );
    // Labelled choices in fieldsets, in order: how often, then how much.
    let order = [
        "<legend>How often</legend>",
        "id=\"freq-once\" name=\"frequency\" value=\"once\" checked",
        "<legend>Amount (<span class=\"code\">USD</span>)</legend>",
        "<label for=\"custom_amount\">",
        "id=\"cover_fees\"",
        "<button type=\"submit\">",
    ];
    let mut at = 0;
    for part in order {
        let found = html[at..]
            .find(part)
            .unwrap_or_else(|| panic!("{part} after {at}"));
        at += found + part.len();
    }
    // The presets of every frequency; the second one-time preset is chosen.
    for id in [
        "amount-once-1000",
        "amount-monthly-500",
        "amount-yearly-100000",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(
        html.contains("id=\"amount-once-2500\" name=\"amount\" value=\"25.00\" checked"),
        "{html}"
    );
    assert_eq!(
        html.matches(" checked").count(),
        2,
        "one frequency, one amount"
    );
    // The fee for 25.00 USD, computed before the reader chooses.
    assert!(html.contains("Add <span class=\"fee\">0.87 USD</span> to cover the processing fee"));
    assert!(html.contains("2.2% + 0.30 USD"));
    assert!(!hidden(html, "nonce").is_empty() && !hidden(html, "csrf").is_empty());
    assert!(!html.contains("not configured"));
    // Assets: the page's own; all of it at most 30 KB.
    let mut weight = html.len();
    for (path, kind) in [
        ("/static/donate.css", "text/css"),
        ("/static/donate.js", "text/javascript"),
    ] {
        let asset = h.get(path, None).await;
        weight += asset.text.len();
        assert_eq!(asset.status, StatusCode::OK, "{path}");
        assert!(
            asset.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert!(html.contains(&format!("{path}?v=")), "{path} is linked");
    }
    assert!(
        weight <= 30 * 1024,
        "the page and what it loads: {weight} bytes"
    );
}

#[tokio::test]
async fn the_query_fills_the_form_in() {
    let h = Harness::sqlite().await;
    let html = h
        .get("/donate?amount=15&frequency=monthly&currency=USD", None)
        .await
        .text;
    assert!(html.contains("id=\"freq-monthly\" name=\"frequency\" value=\"monthly\" checked"));
    assert!(html.contains("id=\"amount-monthly-1500\" name=\"amount\" value=\"15.00\" checked"));
    assert!(html.contains("id=\"custom_amount\" name=\"custom_amount\" type=\"text\" inputmode=\"decimal\" autocomplete=\"off\" value=\"\""));
    // Not a preset: typed in, with the fee for it.
    let html = h
        .get("/donate?amount=40&frequency=yearly&cover_fees=on", None)
        .await
        .text;
    assert!(html.contains("value=\"yearly\" checked"));
    assert!(html.contains("autocomplete=\"off\" value=\"40\""), "{html}");
    assert_eq!(html.matches("name=\"amount\" value=").count(), 15);
    assert!(!html.contains("name=\"amount\" value=\"40.00\""));
    assert!(html.contains(
        "id=\"cover_fees\" name=\"cover_fees\" value=\"on\" aria-describedby=\"cover-hint\" checked"
    ));
    // ceil((4000 + 30) / 0.978) − 4000 = 121.
    assert!(
        html.contains("<span class=\"fee\">1.21 USD</span>"),
        "{html}"
    );
    assert!(
        html.contains("41.21 USD a year"),
        "the total for the script to start from"
    );
    // Nonsense is ignored, not an error.
    let r = h
        .get(
            "/donate?amount=lots&frequency=weekly&currency=XYZ&campaign=nope",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("value=\"once\" checked"));
    assert!(
        !r.text.contains("role=\"alert\""),
        "no errors on a fresh form"
    );
    assert!(
        !r.text.contains("class=\"campaign\""),
        "an unknown campaign is not shown"
    );
    assert_eq!(hidden(&r.text, "campaign"), "");
}

#[tokio::test]
async fn a_browser_keeps_its_csrf_cookie() {
    let h = Harness::sqlite().await;
    let first = h.page().await;
    let again = h.get("/donate", Some(&first.cookie)).await;
    assert!(again.header("set-cookie").is_none(), "the cookie is kept");
    assert_eq!(hidden(&again.text, "csrf"), first.csrf);
    assert_ne!(
        hidden(&again.text, "nonce"),
        first.nonce,
        "a new form, a new nonce"
    );
}

#[tokio::test]
async fn without_stripe_the_page_says_online_giving_is_not_configured() {
    let app = TestApp::sqlite().await;
    let page = load_page(&app, "/donate").await;
    assert!(
        page.html.contains("Online giving is not configured"),
        "{}",
        page.html
    );
    let r = super::post(&app, &page.body(&[("amount", "25")]), Some(&page.cookie)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(r.text.contains("Online giving is not configured"));
}
