//! The dashboard in a real headless Chromium over WebDriver: log in, filter,
//! page forward and back, open a payment, refund it, log out. Every page
//! (login, overview, payments, a payment, donors, a donor, memberships,
//! campaigns, tokens and the error pages) is
//! checked at 1,400 px and 390 px wide for content that does not fit, and
//! kept as a screenshot per page and width under target/screenshots/.
//!
//! Needs `chromium` and `chromedriver` (Debian packages chromium and
//! chromium-driver). Marked `ignore` so `cargo test` runs on a machine with
//! only Rust; CI runs them with `cargo test --test browser -- --ignored`,
//! where a missing browser fails.

mod browser_support;
mod common;

use browser_support::{Layout, Session, add_user, click, find, text, wait_for, wait_for_url};
use fantoccini::Locator;
use payments::domain::{CampaignInput, Interval, MembershipStatus, Method, Status, Timestamp};
use payments::storage::Store;
use payments::storage::accounts::{Role, Scope};
use payments::storage::memberships::SubscriptionState;
use payments::storage::processor::{Effect, EventRecord, ProcessorPayment, Source};
use serde_json::json;

const LONG_EMAIL: &str = "maximiliana.wolfeschlegelsteinhausenbergerdorff@members.example.org";
const LONG_CAMPAIGN: &str = "2026-spring-membership-drive-newsletter-signup";

/// Memberships in every status (one of the donor with long values, with a
/// renewal this month), and campaigns: open with a capped match, open with
/// a long slug, and ended.
async fn members_and_campaigns(store: &Store) {
    let day = 86_400_000_000;
    let now = Timestamp::now().0;
    let people = [
        (
            LONG_EMAIL,
            "Maximiliana Ottilie Wolfeschlegel",
            12_500,
            Interval::Year,
            MembershipStatus::Active,
        ),
        (
            "ines@example.org",
            "Inés Aguilar",
            1_000,
            Interval::Month,
            MembershipStatus::Active,
        ),
        (
            "tom@example.org",
            "Tom Okafor",
            500,
            Interval::Month,
            MembershipStatus::PastDue,
        ),
        (
            "ruth@example.org",
            "Ruth Baines",
            2_500,
            Interval::Month,
            MembershipStatus::Canceled,
        ),
        (
            "lee@example.org",
            "Lee Park",
            1_500,
            Interval::Month,
            MembershipStatus::Incomplete,
        ),
    ];
    for (n, (email, name, amount, interval, status)) in people.into_iter().enumerate() {
        let state = SubscriptionState {
            external_ref: format!("sub_browser{n}"),
            amount,
            currency: "USD".into(),
            interval,
            status,
            campaign: (n == 0).then(|| LONG_CAMPAIGN.to_owned()),
            cancel_at_period_end: n == 1,
            started_at: Timestamp(now - (n as i64 + 1) * 40 * day),
            canceled_at: (status == MembershipStatus::Canceled).then_some(Timestamp(now - day)),
            current_period_end: Some(Timestamp(now + 20 * day)),
            member: Some((email.into(), name.into())),
        };
        let pi = format!("pi_browser{n}");
        let renewal = ProcessorPayment {
            external_ref: pi.clone(),
            amount,
            currency: "USD".into(),
            status: Status::Succeeded,
            method: Method::Card,
            payer_name: name.into(),
            payer_email: email.into(),
            campaign: state.campaign.clone(),
            fee: None,
            subscription: Some(state.external_ref.clone()),
            membership: Some(state),
            created_at: Timestamp(now - day),
        };
        let id = format!("evt_browser{n}");
        let record = EventRecord {
            id: &id,
            kind: "invoice.paid",
            object_id: Some(&pi),
            created: 1,
            source: Source::Webhook,
        };
        store
            .apply_event(&record, &Effect::Payment(renewal))
            .await
            .unwrap();
    }
    let campaigns = [
        (
            "2026-year-end",
            "Year-end drive",
            Some("50,000"),
            Some("1"),
            Some("20000"),
            "2099-01-01",
        ),
        (
            LONG_CAMPAIGN,
            "Spring membership drive: newsletter sign-ups from the homepage banner",
            Some("10000"),
            Some("2"),
            None,
            "2099-06-01",
        ),
        (
            "2025-spring-drive",
            "Spring drive 2025",
            None,
            None,
            None,
            "2025-06-01",
        ),
    ];
    for (slug, name, goal, ratio, cap, ends) in campaigns {
        let spec = CampaignInput {
            name,
            goal,
            currency: Some("USD"),
            match_ratio: ratio,
            match_cap: cap,
            ends: Some(ends),
        }
        .parse()
        .unwrap();
        store.create_campaign("test", slug, &spec).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn staff_log_in_filter_page_refund_and_log_out() {
    let db = common::sqlite_db().await;
    payments::seed::seed(&db.store, 400, 3, 90).await.unwrap();
    add_user(&db.store, "admin@example.org", Role::Admin).await;
    let s = Session::start(db.store.clone()).await;
    let c = &s.c;
    let mut layout = Layout::default();

    // Log in.
    s.goto("/payments").await;
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "anonymous → login"
    );
    layout.check(c, "login").await;
    s.log_in("admin@example.org").await;
    assert_eq!(text(c, "h1").await, "Overview");
    assert!(
        c.find_all(Locator::Css("figure.chart svg"))
            .await
            .unwrap()
            .len()
            >= 2,
        "charts render"
    );
    layout.check(c, "overview").await;

    // Filter by status.
    click(c, "nav a[href='/payments']").await;
    wait_for_url(c, "the payments table", |u| u.ends_with("/payments")).await;
    find(c, "#status")
        .await
        .select_by_value("succeeded")
        .await
        .unwrap();
    click(c, "form.filters button[type=submit]").await;
    wait_for_url(c, "the filtered table", |u| u.contains("status=succeeded")).await;
    let badges = c.find_all(Locator::Css("tbody .badge")).await.unwrap();
    assert_eq!(badges.len(), 50, "a full page");
    for b in &badges {
        assert_eq!(b.text().await.unwrap(), "succeeded");
    }
    layout.check(c, "payments").await;
    let first_on_page_one = text(c, "tbody tr td a").await;

    // Older, then newer again: the same first row, the filter kept.
    click(c, "a[rel=next]").await;
    wait_for_url(c, "the older page", |u| u.contains("after=")).await;
    let query = c
        .current_url()
        .await
        .unwrap()
        .query()
        .unwrap_or("")
        .to_owned();
    assert!(
        query.contains("status=succeeded") && query.contains("after="),
        "{query}"
    );
    assert_ne!(text(c, "tbody tr td a").await, first_on_page_one);
    click(c, "a[rel=prev]").await;
    wait_for_url(c, "the newer page", |u| u.contains("before=")).await;
    assert_eq!(text(c, "tbody tr td a").await, first_on_page_one);

    // Open a payment and refund it in full.
    click(c, "tbody tr td a").await;
    wait_for_url(c, "a payment's page", |u| u.contains("/payments/pay_")).await;
    assert_eq!(text(c, "h1 .badge").await, "succeeded");
    layout.check(c, "payment").await;
    click(c, "form[action$='/refund'] button[type=submit]").await;
    wait_for_url(c, "the refunded payment", |u| u.contains("notice=refunded")).await;
    assert_eq!(text(c, "h1 .badge").await, "refunded");
    assert!(text(c, ".notice").await.contains("Refund recorded"));
    assert!(
        c.find(Locator::Css("form[action$='/refund']"))
            .await
            .is_err(),
        "nothing left to refund"
    );
    layout.check(c, "payment-refunded").await;

    // Log out.
    click(c, "header form[action='/logout'] button").await;
    wait_for_url(c, "the login page after logging out", |u| {
        u.ends_with("/login")
    })
    .await;
    s.goto("/").await;
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "the session is gone"
    );

    s.end().await;
    layout.assert_all_fit();
}

/// The pages and states the journey above does not reach: a failed login,
/// filter errors, a payment with long values and a partial refund, a refused
/// refund, donors, a donor, memberships and campaigns (with a form's
/// errors), the token admin, and the error pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn every_page_fits_at_1400_and_390_px() {
    let db = common::sqlite_db().await;
    payments::seed::seed(&db.store, 400, 3, 90).await.unwrap();
    add_user(&db.store, "admin@example.org", Role::Admin).await;
    add_user(&db.store, "viewer@example.org", Role::Viewer).await;
    // Long values without spaces, as processors and campaign tools make them.
    let long = payments::domain::NewPayment::from_json(json!({
        "amount": 123_456_789,
        "currency": "USD",
        "method": "wire",
        "payer": {
            "name": "Maximiliana Ottilie Wolfeschlegel",
            "email": "maximiliana.wolfeschlegelsteinhausenbergerdorff@members.example.org",
        },
        "campaign": "2026-spring-membership-drive-newsletter-signup",
        "description": "Annual membership, paid by bank transfer after the spring appeal.",
        "external_ref": "py_3PqLkJ2eZvKYlo2C1aBcDeFgHiJkLmNoPqRsTuVwXyZ",
        "metadata": {
            "utm_campaign": "spring_newsletter_signup_2026_homepage_banner_variant_b",
            "source": "homepage",
        },
    }))
    .unwrap();
    let long = db
        .store
        .create_payment("test", None, &long, |_| Default::default())
        .await
        .unwrap();
    let payments::storage::payments::Idempotent::Done(long) = long else {
        panic!("a new payment");
    };
    db.store
        .create_token("test", "website donation form", Scope::Write)
        .await
        .unwrap();
    members_and_campaigns(&db.store).await;
    let s = Session::start(db.store.clone()).await;
    let c = &s.c;
    let mut layout = Layout::default();

    s.goto("/login").await;
    s.submit_login("admin@example.org", "not the password")
        .await;
    assert!(
        wait_for(c, ".notice.error")
            .await
            .text()
            .await
            .unwrap()
            .contains("Wrong email or password")
    );
    layout.check(c, "login-failed").await;
    s.goto("/login").await;
    s.log_in("admin@example.org").await;

    s.goto("/payments").await;
    assert!(
        text(c, "tbody tr")
            .await
            .contains("Maximiliana Ottilie Wolfeschlegel")
    );
    layout.check(c, "payments-long-values").await;
    s.goto("/payments?amount_min=lots&status=lost").await;
    assert!(text(c, ".notice.error").await.contains("Min amount"));
    layout.check(c, "payments-invalid-filter").await;
    s.goto("/payments?q=nobody-by-this-name").await;
    assert!(text(c, ".empty").await.contains("No payments match"));
    layout.check(c, "payments-none-match").await;

    // A partial refund: the refunds table next to the details.
    s.goto(&format!("/payments/{}", long.id)).await;
    let amount = find(c, "#amount").await;
    amount.clear().await.unwrap();
    amount.send_keys("1.00").await.unwrap();
    click(c, "form[action$='/refund'] button[type=submit]").await;
    wait_for_url(c, "the partly refunded payment", |u| {
        u.contains("notice=refunded")
    })
    .await;
    assert_eq!(text(c, "h1 .badge").await, "partially refunded");
    assert!(
        text(c, "table[aria-labelledby=refunds]")
            .await
            .contains("1.00 USD")
    );
    layout.check(c, "payment-partly-refunded").await;
    let amount = find(c, "#amount").await;
    amount.clear().await.unwrap();
    amount.send_keys("2000000.00").await.unwrap();
    click(c, "form[action$='/refund'] button[type=submit]").await;
    wait_for_url(c, "the refused refund", |u| u.ends_with("/refund")).await;
    assert!(text(c, ".notice.error").await.contains("Not refunded"));
    layout.check(c, "payment-refund-refused").await;

    // The overview's membership cards and recurring revenue chart.
    s.goto("/").await;
    assert_eq!(text(c, "#members + .cards .figure").await, "3");
    assert!(
        find(c, "#members ~ figure svg")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    layout.check(c, "overview-members").await;

    // Donors: a full page, then the donor with long values.
    s.goto("/donors").await;
    assert_eq!(
        c.find_all(Locator::Css("tbody tr")).await.unwrap().len(),
        50,
        "a full page"
    );
    layout.check(c, "donors").await;
    find(c, "#q")
        .await
        .send_keys("wolfeschlegel")
        .await
        .unwrap();
    click(c, "form.filters button[type=submit]").await;
    wait_for_url(c, "the donor search", |u| u.contains("q=wolfeschlegel")).await;
    click(c, "tbody tr a").await;
    wait_for_url(c, "a donor's page", |u| u.contains("/donors/don_")).await;
    assert!(text(c, "h1").await.contains("Maximiliana"));
    assert!(
        text(c, "table[aria-labelledby=memberships]")
            .await
            .contains("125.00 USD / year")
    );
    assert!(
        find(c, "#history ~ figure svg")
            .await
            .is_displayed()
            .await
            .unwrap()
    );
    layout.check(c, "donor").await;

    s.goto("/memberships").await;
    assert_eq!(c.find_all(Locator::Css("tbody tr")).await.unwrap().len(), 5);
    layout.check(c, "memberships").await;
    s.goto("/memberships?status=past_due").await;
    assert!(text(c, "tbody").await.contains("Tom Okafor"));

    // Campaigns, then the create form sent with bad fields.
    s.goto("/campaigns").await;
    assert_eq!(
        c.find_all(Locator::Css("section.campaign"))
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        text(c, "#campaign-2025-spring-drive .badge")
            .await
            .contains("ended")
    );
    layout.check(c, "campaigns").await;
    click(c, "#new-campaign summary").await;
    find(c, "#new-slug")
        .await
        .send_keys("year end")
        .await
        .unwrap();
    find(c, "#new-goal").await.send_keys("lots").await.unwrap();
    click(c, "form[action^='/campaigns#'] button[type=submit]").await;
    wait_for(c, "#new-slug-error").await;
    assert!(text(c, "#new-name-error").await.contains("Name must be"));
    layout.check(c, "campaigns-invalid").await;

    // Token admin: the secret shown once, then the list with a revoked token.
    s.goto("/admin/tokens").await;
    find(c, "#name")
        .await
        .send_keys("donation form on the membership page")
        .await
        .unwrap();
    find(c, "#scope")
        .await
        .select_by_value("write")
        .await
        .unwrap();
    click(c, "form[action='/admin/tokens'] button[type=submit]").await;
    assert!(
        wait_for(c, "code.secret")
            .await
            .text()
            .await
            .unwrap()
            .starts_with("pmt_")
    );
    layout.check(c, "tokens-created").await;
    s.goto("/admin/tokens").await;
    click(c, "form[action$='/revoke'] button[type=submit]").await;
    wait_for_url(c, "the revoked token", |u| u.contains("notice=revoked")).await;
    assert!(text(c, "tbody").await.contains("revoked 20"));
    layout.check(c, "tokens").await;

    // Error pages.
    s.goto("/payments/pay_missing").await;
    assert_eq!(text(c, "h1").await, "Not found");
    layout.check(c, "error-not-found").await;
    s.goto("/").await;
    click(c, "header form[action='/logout'] button").await;
    wait_for_url(c, "the login page", |u| u.ends_with("/login")).await;
    s.log_in("viewer@example.org").await;
    s.goto("/admin/tokens").await;
    assert_eq!(text(c, "h1").await, "Not allowed");
    layout.check(c, "error-forbidden").await;

    s.end().await;
    layout.assert_all_fit();
}
