//! A campaign on the donation page: its goal, progress and match while it
//! is open, carried to Checkout as metadata, refused once it has ended.

use axum::http::StatusCode;
use payments::domain::campaign::CampaignSpec;
use payments::domain::{Currency, Timestamp};

use super::{Harness, hidden};
use crate::common::payment_body;

fn spec(name: &str) -> CampaignSpec {
    CampaignSpec {
        name: name.into(),
        goal: Some(100_000),
        currency: Currency::USD,
        match_ratio: Some(200),
        match_cap: Some(50_000),
        ends_at: None,
    }
}

#[tokio::test]
async fn an_open_campaign_shows_its_goal_progress_and_match() {
    for h in Harness::all().await {
        let store = &h.app.db.store;
        store
            .create_campaign("test", "2026-year-end", &spec("Year-end drive"))
            .await
            .unwrap();
        // Two gifts of 100.00 USD to it (`payment_body` names it).
        h.app.create(payment_body(10_000)).await;
        h.app.create(payment_body(10_000)).await;
        let r = h.get("/donate?campaign=2026-year-end", None).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", h.name(), r.text);
        let html = &r.text;
        assert!(
            html.contains("<h2 id=\"campaign-name\">Year-end drive</h2>"),
            "{}: {html}",
            h.name()
        );
        // 200.00 given and 400.00 matched (2×, under the 500.00 cap) of 1,000.00.
        assert!(
            html.contains("600.00 USD raised of a 1,000.00 USD goal, from 2 gifts (60%)"),
            "{}: {html}",
            h.name()
        );
        assert!(html.contains(
            "<progress max=\"100\" value=\"60\" aria-labelledby=\"progress-text\">60%</progress>"
        ));
        assert!(
            html.contains("Your gift is matched 2×</strong>, while 100.00 USD of matching lasts."),
            "{html}"
        );
        assert_eq!(hidden(html, "campaign"), "2026-year-end");

        // Given to it: the campaign goes to Checkout as metadata.
        let page = super::load_page(&h.app, "/donate?campaign=2026-year-end").await;
        let body = page.body(&[
            ("amount", "25"),
            ("frequency", "monthly"),
            ("campaign", "2026-year-end"),
        ]);
        let r = h.post(&body, Some(&page.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.name(), r.text);
        let sent = h.creations().pop().unwrap();
        assert_eq!(sent.form_value("metadata[campaign]"), Some("2026-year-end"));
        assert_eq!(
            sent.form_value("subscription_data[metadata][campaign]"),
            Some("2026-year-end")
        );
        assert!(
            sent.form_value("cancel_url")
                .unwrap()
                .contains("&campaign=2026-year-end")
        );
        let page = super::load_page(&h.app, "/donate?campaign=2026-year-end").await;
        let r = h
            .post(
                &page.body(&[("amount", "25"), ("campaign", "2026-year-end")]),
                Some(&page.cookie),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let sent = h.creations().pop().unwrap();
        assert_eq!(
            sent.form_value("payment_intent_data[metadata][campaign]"),
            Some("2026-year-end")
        );
    }
}

#[tokio::test]
async fn a_match_used_up_or_a_campaign_without_goal_shows_less() {
    let h = Harness::sqlite().await;
    let store = &h.app.db.store;
    let capped = CampaignSpec {
        match_cap: Some(10_000),
        ..spec("Capped")
    };
    store
        .create_campaign("test", "2026-year-end", &capped)
        .await
        .unwrap();
    h.app.create(payment_body(10_000)).await;
    let html = h.get("/donate?campaign=2026-year-end", None).await.text;
    assert!(
        html.contains("<h2 id=\"campaign-name\">Capped</h2>"),
        "{html}"
    );
    assert!(!html.contains("matched"), "the match is used up: {html}");
    let plain = CampaignSpec {
        goal: None,
        match_ratio: None,
        match_cap: None,
        ..spec("Plain")
    };
    store
        .create_campaign("test", "spring", &plain)
        .await
        .unwrap();
    let html = h.get("/donate?campaign=spring", None).await.text;
    assert!(html.contains("0.00 USD raised from 0 gifts"), "{html}");
    assert!(!html.contains("<progress"));
}

#[tokio::test]
async fn an_ended_campaign_is_not_shown_and_not_given_to() {
    let h = Harness::sqlite().await;
    let ended = CampaignSpec {
        ends_at: Some(Timestamp(Timestamp::now().0 - 1_000_000)),
        ..spec("Last year")
    };
    h.app
        .db
        .store
        .create_campaign("test", "last-year", &ended)
        .await
        .unwrap();
    let page = super::load_page(&h.app, "/donate?campaign=last-year").await;
    assert!(!page.html.contains("Last year"), "{}", page.html);
    assert_eq!(
        hidden(&page.html, "campaign"),
        "",
        "the gift goes to the newsroom"
    );
    let r = h
        .post(
            &page.body(&[("amount", "25"), ("campaign", "last-year")]),
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(
        r.text
            .contains("<p class=\"field-error\" id=\"campaign-error\">This campaign has ended")
    );
    assert_eq!(
        hidden(&r.text, "campaign"),
        "",
        "sent again, it is a gift to the newsroom"
    );
    assert!(h.creations().is_empty());
}
