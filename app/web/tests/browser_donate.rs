//! The donation page in a real headless Chromium: presets, a typed amount,
//! the frequency switch and covering the fee, with and without JavaScript;
//! the error page; the thanks page after the fake Stripe's Checkout. Each
//! page fits at 1,400 px and 390 px wide (screenshots `donate-*-<width>px.png`
//! under target/screenshots/), has no serious or critical axe-core
//! violation, and loads nothing from another origin.
//!
//! Needs chromium and chromedriver (scripts/install-browser) and axe-core
//! (scripts/install-tools puts it under .tools/axe; `AXE_CORE_JS` names
//! another copy). Marked `ignore` like `tests/browser.rs`; CI runs it with
//! `--ignored`, where anything missing fails.

mod browser_support;
mod common;
mod stripe_support;

use std::path::PathBuf;

use browser_support::{Layout, Session, click, find, free_port, text, wait_for, wait_for_url};
use fantoccini::Client;
use payments::domain::Currency;
use payments::domain::campaign::CampaignSpec;
use payments::server::ServeConfig;
use serde_json::{Value, json};
use stripe_support::{FakeStripe, WEBHOOK_SECRET, stripe_config};

/// The service on a known port (its public URL is Checkout's way back),
/// with the fake as its Stripe and as Checkout's origin.
async fn start(fake: &FakeStripe, javascript: bool) -> (common::TestDb, Session) {
    let db = common::sqlite_db().await;
    let port = free_port();
    let mut config = ServeConfig {
        bind: format!("127.0.0.1:{port}").parse().unwrap(),
        public_url: format!("http://127.0.0.1:{port}"),
        stripe: Some(stripe_config(fake, WEBHOOK_SECRET)),
        ..ServeConfig::default()
    };
    config.donations.checkout_origin = fake.base_url();
    let session = Session::start_with(db.store.clone(), config, javascript).await;
    (db, session)
}

/// axe-core's script, from the pinned `axe-selenium-python` package.
fn axe_source() -> String {
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .or_else(|| {
            let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.tools/axe/lib");
            std::fs::read_dir(lib).ok()?.flatten().find_map(|python| {
                let file = python
                    .path()
                    .join("site-packages/axe_selenium_python/node_modules/axe-core/axe.min.js");
                file.is_file().then_some(file)
            })
        });
    let path = path.expect("axe-core is missing: run scripts/install-tools (or set AXE_CORE_JS)");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs axe-core on the page; panics on any serious or critical violation.
async fn assert_accessible(c: &Client, axe: &str, page: &str) {
    c.execute(&format!("{axe}\nreturn typeof window.axe;"), vec![])
        .await
        .expect("axe-core loads");
    let found = c
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] })
              .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                 nodes: v.nodes.map((n) => n.target.join(" ")) }))))
              .catch((e) => done([{ id: "axe-failed", impact: "critical", help: String(e), nodes: [] }]));"#,
            vec![],
        )
        .await
        .expect("axe-core runs");
    let violations = found.as_array().unwrap();
    for v in violations {
        eprintln!(
            "{page}: axe {} ({}): {} {}",
            v["id"], v["impact"], v["help"], v["nodes"]
        );
    }
    let bad: Vec<&Value> = violations
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(
        bad.is_empty(),
        "{page}: serious or critical violations: {bad:#?}"
    );
}

/// Every resource the page loaded (and the page itself) came from `origin`.
async fn assert_same_origin(c: &Client, origin: &str, page: &str) {
    let names = c
        .execute(
            "return performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource')).map((e) => e.name);",
            vec![],
        )
        .await
        .unwrap();
    let names = names.as_array().unwrap();
    assert!(
        names.len() >= 2,
        "{page}: the page and its stylesheet at least: {names:?}"
    );
    for name in names {
        let name = name.as_str().unwrap();
        assert!(
            name.starts_with(&format!("{origin}/")),
            "{page}: {name} is not from {origin}"
        );
    }
}

async fn displayed(c: &Client, css: &str) -> bool {
    find(c, css).await.is_displayed().await.unwrap()
}

async fn value_of(c: &Client, css: &str) -> String {
    find(c, css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

async fn is_checked(c: &Client, css: &str) -> bool {
    find(c, css).await.prop("checked").await.unwrap().as_deref() == Some("true")
}

/// The Checkout Session the form's submission made (the browser is on
/// the fake's page for it).
async fn session_at_checkout(c: &Client, fake: &FakeStripe) -> Value {
    wait_for_url(c, "the fake Checkout page", |u| {
        u.contains("/c/pay/cs_test_")
    })
    .await;
    let url = c.current_url().await.unwrap();
    let id = url.path().rsplit('/').next().unwrap().to_owned();
    assert_eq!(text(c, "h1").await, "Fake Checkout");
    fake.get(&id).expect("the fake stored the session")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromedriver and axe-core; CI runs it with --ignored"]
async fn a_reader_gives_monthly_with_the_fee_covered() {
    let axe = axe_source();
    let fake = FakeStripe::start().await;
    let (db, s) = start(&fake, true).await;
    let c = &s.c;
    let mut layout = Layout::default();

    s.goto("/donate").await;
    assert_eq!(text(c, "h1").await, "Support The Markup");
    assert_same_origin(c, s.base(), "donate").await;
    layout.check(c, "donate").await;
    assert_accessible(c, &axe, "donate").await;
    // One-time presets shown, $25 chosen; the others hidden.
    assert!(displayed(c, "label[for='amount-once-2500']").await);
    assert!(!displayed(c, "label[for='amount-monthly-1000']").await);
    assert!(is_checked(c, "#amount-once-2500").await);
    assert_eq!(text(c, "#total").await, "25.00 USD");

    // Monthly: its presets, the same place in the list ($10), a monthly total.
    click(c, "label[for='freq-monthly']").await;
    assert!(displayed(c, "label[for='amount-monthly-1000']").await);
    assert!(!displayed(c, "label[for='amount-once-2500']").await);
    assert!(is_checked(c, "#amount-monthly-1000").await);
    assert_eq!(text(c, "#total").await, "10.00 USD a month");
    click(c, "label[for='cover_fees']").await;
    assert_eq!(text(c, ".fee").await, "0.54 USD");
    assert_eq!(text(c, "#total").await, "10.54 USD a month");
    click(c, "label[for='amount-monthly-2500']").await;
    assert_eq!(text(c, "#total").await, "25.87 USD a month");
    // A typed amount replaces the preset.
    find(c, "#custom_amount")
        .await
        .send_keys("40")
        .await
        .unwrap();
    assert!(!is_checked(c, "#amount-monthly-2500").await);
    assert_eq!(text(c, ".fee").await, "1.21 USD");
    assert_eq!(text(c, "#total").await, "41.21 USD a month");
    layout.check(c, "donate-monthly").await;

    click(c, "form.donate button[type=submit]").await;
    let session = session_at_checkout(c, &fake).await;
    assert_eq!(session["mode"], "subscription");
    assert_eq!(session["amount_total"], 4121);
    assert_eq!(
        session["metadata"],
        json!({"frequency": "monthly", "cover_fees": "true"})
    );

    // Paid: back on the thanks page.
    let id = session["id"].as_str().unwrap().to_owned();
    fake.complete_checkout_session(&id, "reader@example.org");
    click(c, "#success").await;
    wait_for_url(c, "the thanks page", |u| {
        u.contains("/donate/thanks?session_id=")
    })
    .await;
    assert!(text(c, "main").await.contains("41.21 USD a month"));
    assert!(text(c, "main").await.contains("r•••@example.org"));
    assert_same_origin(c, s.base(), "donate-thanks").await;
    layout.check(c, "donate-thanks").await;
    assert_accessible(c, &axe, "donate-thanks").await;

    // Errors: announced in a summary and next to the field.
    s.goto("/donate").await;
    find(c, "#custom_amount")
        .await
        .send_keys("0.5")
        .await
        .unwrap();
    click(c, "form.donate button[type=submit]").await;
    let summary = wait_for(c, "#error-summary").await;
    assert_eq!(
        summary.attr("role").await.unwrap().as_deref(),
        Some("alert")
    );
    assert!(
        text(c, "#amount-error")
            .await
            .contains("Enter an amount from 1.00 USD")
    );
    let input = find(c, "#custom_amount").await;
    assert_eq!(
        input.attr("aria-invalid").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(
        input
            .attr("aria-describedby")
            .await
            .unwrap()
            .unwrap()
            .contains("amount-error")
    );
    layout.check(c, "donate-errors").await;
    assert_accessible(c, &axe, "donate-errors").await;

    // A campaign: its progress bar and match, and the same checks.
    let drive = CampaignSpec {
        name: "Year-end drive".into(),
        goal: Some(1_000_000),
        currency: Currency::USD,
        match_ratio: Some(100),
        match_cap: Some(200_000),
        ends_at: None,
    };
    db.store
        .create_campaign("test", "2026-year-end", &drive)
        .await
        .unwrap();
    s.goto("/donate?campaign=2026-year-end").await;
    assert_eq!(text(c, "#campaign-name").await, "Year-end drive");
    assert!(displayed(c, "progress").await);
    assert!(text(c, ".match").await.contains("matched 1×"));
    layout.check(c, "donate-campaign").await;
    assert_accessible(c, &axe, "donate-campaign").await;
    click(c, "form.donate button[type=submit]").await;
    let session = session_at_checkout(c, &fake).await;
    assert_eq!(session["metadata"]["campaign"], "2026-year-end");

    // Unknown session: the plain 404 page.
    s.goto("/donate/thanks?session_id=cs_test_unknown").await;
    assert_eq!(text(c, "h1").await, "Not found");
    layout.check(c, "donate-not-found").await;

    s.end().await;
    layout.assert_all_fit();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium, chromedriver and axe-core; CI runs it with --ignored"]
async fn the_form_works_without_javascript() {
    let fake = FakeStripe::start().await;
    let (_db, s) = start(&fake, false).await;
    let c = &s.c;
    let mut layout = Layout::default();

    s.goto("/donate").await;
    // The script did not run: no live total.
    assert!(!displayed(c, "#total-line").await);
    // (axe-core itself needs page scripts: the JavaScript test checks the
    // same markup.)
    layout.check(c, "donate-nojs").await;
    // The stylesheet alone follows the frequency.
    click(c, "label[for='freq-yearly']").await;
    assert!(displayed(c, "label[for='amount-yearly-10000']").await);
    assert!(!displayed(c, "label[for='amount-once-2500']").await);
    click(c, "label[for='amount-yearly-10000']").await;
    click(c, "label[for='cover_fees']").await;
    assert_eq!(value_of(c, "#custom_amount").await, "");
    click(c, "form.donate button[type=submit]").await;
    let session = session_at_checkout(c, &fake).await;
    assert_eq!(session["mode"], "subscription");
    // ceil((10000 + 30) / 0.978) = 10256.
    assert_eq!(session["amount_total"], 10256);
    assert_eq!(session["metadata"]["frequency"], "yearly");
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.path == "/v1/checkout/sessions")
        .unwrap();
    assert_eq!(
        sent.form_value("line_items[0][price_data][recurring][interval]"),
        Some("year")
    );

    // An error without the script: the same summary and message.
    s.goto("/donate").await;
    find(c, "#custom_amount")
        .await
        .send_keys("lots")
        .await
        .unwrap();
    click(c, "form.donate button[type=submit]").await;
    wait_for(c, "#error-summary").await;
    assert!(
        text(c, "#amount-error")
            .await
            .contains("Enter an amount such as 25.00")
    );
    assert_eq!(value_of(c, "#custom_amount").await, "lots");
    layout.check(c, "donate-errors-nojs").await;

    s.end().await;
    layout.assert_all_fit();
}
