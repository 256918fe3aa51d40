//! `POST /donate`: what Checkout is asked for, once per submission, and
//! every refusal, none of which records anything.

use axum::http::StatusCode;

use super::{Harness, row_counts};
use crate::stripe_support::Behaviour;

/// The fields of a request, sorted by name.
fn fields(form: &[(String, String)]) -> Vec<(String, String)> {
    let mut sorted = form.to_vec();
    sorted.sort();
    sorted
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn a_one_time_gift_asks_checkout_for_exactly_these_fields() {
    for h in Harness::all().await {
        let before = row_counts(&h.app.db).await;
        let page = h.page().await;
        let body = page.body(&[
            ("frequency", "once"),
            ("amount", "25.00"),
            ("custom_amount", ""),
            ("currency", "USD"),
            ("campaign", ""),
        ]);
        let r = h.post(&body, Some(&page.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}: {}", h.name(), r.text);
        let sent = h.creations();
        assert_eq!(sent.len(), 1);
        let session = h.fake.objects("checkout.session").remove(0);
        assert_eq!(r.header("location"), session["url"].as_str());
        assert!(
            r.header("location")
                .unwrap()
                .starts_with(&format!("{}/c/pay/cs_test_", h.fake.base_url())),
            "{:?}",
            r.header("location")
        );
        let key = sent[0].idempotency_key.clone().unwrap();
        assert!(key.starts_with("donate-") && key.len() == 71, "{key}");
        assert_eq!(
            fields(&sent[0].form),
            pairs(&[
                ("mode", "payment"),
                ("submit_type", "donate"),
                (
                    "success_url",
                    "http://127.0.0.1:8080/donate/thanks?session_id={CHECKOUT_SESSION_ID}"
                ),
                (
                    "cancel_url",
                    "http://127.0.0.1:8080/donate?amount=25.00&frequency=once&currency=USD"
                ),
                ("line_items[0][quantity]", "1"),
                ("line_items[0][price_data][currency]", "usd"),
                ("line_items[0][price_data][unit_amount]", "2500"),
                (
                    "line_items[0][price_data][product_data][name]",
                    "Donation to The Markup"
                ),
                ("metadata[frequency]", "once"),
                ("metadata[cover_fees]", "false"),
                ("payment_intent_data[metadata][frequency]", "once"),
                ("payment_intent_data[metadata][cover_fees]", "false"),
            ]),
            "{}",
            h.name()
        );
        assert_eq!(
            row_counts(&h.app.db).await,
            before,
            "{}: nothing recorded",
            h.name()
        );
    }
}

#[tokio::test]
async fn a_membership_is_a_subscription_with_a_recurring_price() {
    let h = Harness::sqlite().await;
    for (frequency, interval, name) in [
        ("monthly", "month", "Monthly membership of The Markup"),
        ("yearly", "year", "Yearly membership of The Markup"),
    ] {
        h.fake.clear_requests();
        let page = h.page().await;
        let body = page.body(&[
            ("frequency", frequency),
            ("amount", "15"),
            ("custom_amount", ""),
        ]);
        let r = h.post(&body, Some(&page.cookie)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        let sent = &h.creations()[0];
        assert_eq!(
            fields(&sent.form),
            pairs(&[
                ("mode", "subscription"),
                (
                    "success_url",
                    "http://127.0.0.1:8080/donate/thanks?session_id={CHECKOUT_SESSION_ID}"
                ),
                (
                    "cancel_url",
                    &format!(
                        "http://127.0.0.1:8080/donate?amount=15.00&frequency={frequency}&currency=USD"
                    ),
                ),
                ("line_items[0][quantity]", "1"),
                ("line_items[0][price_data][currency]", "usd"),
                ("line_items[0][price_data][unit_amount]", "1500"),
                ("line_items[0][price_data][product_data][name]", name),
                ("line_items[0][price_data][recurring][interval]", interval),
                ("metadata[frequency]", frequency),
                ("metadata[cover_fees]", "false"),
                ("subscription_data[metadata][frequency]", frequency),
                ("subscription_data[metadata][cover_fees]", "false"),
            ])
        );
    }
}

#[tokio::test]
async fn the_same_form_sent_twice_makes_one_session() {
    let h = Harness::sqlite().await;
    let page = h.page().await;
    let body = page.body(&[
        ("frequency", "monthly"),
        ("amount", "10"),
        ("cover_fees", "on"),
    ]);
    let first = h.post(&body, Some(&page.cookie)).await;
    let second = h.post(&body, Some(&page.cookie)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.text);
    assert_eq!(second.status, StatusCode::SEE_OTHER, "{}", second.text);
    assert_eq!(first.header("location"), second.header("location"));
    let sent = h.creations();
    assert_eq!(sent.len(), 2, "both reached Stripe");
    assert_eq!(sent[0].idempotency_key, sent[1].idempotency_key);
    assert_eq!(h.fake.objects("checkout.session").len(), 1, "one session");
    // The same form with another amount is another gift: another key.
    let changed = page.body(&[
        ("frequency", "monthly"),
        ("amount", "15"),
        ("cover_fees", "on"),
    ]);
    let third = h.post(&changed, Some(&page.cookie)).await;
    assert_eq!(third.status, StatusCode::SEE_OTHER, "{}", third.text);
    assert_ne!(third.header("location"), first.header("location"));
    assert_ne!(h.creations()[2].idempotency_key, sent[0].idempotency_key);
    // And a new page (a new nonce) is a new gift too.
    let other = h.page().await;
    let fourth = h
        .post(
            &other.body(&[
                ("frequency", "monthly"),
                ("amount", "10"),
                ("cover_fees", "on"),
            ]),
            Some(&other.cookie),
        )
        .await;
    assert_ne!(fourth.header("location"), first.header("location"));
    assert_eq!(h.fake.objects("checkout.session").len(), 3);
}

#[tokio::test]
async fn covering_the_fee_adds_it_and_a_typed_amount_wins() {
    let h = Harness::sqlite().await;
    let page = h.page().await;
    let body = page.body(&[
        ("amount", "25.00"),
        ("custom_amount", "40"),
        ("cover_fees", "on"),
    ]);
    let r = h.post(&body, Some(&page.cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let sent = &h.creations()[0];
    // ceil((4000 + 30) / 0.978) = 4121.
    assert_eq!(
        sent.form_value("line_items[0][price_data][unit_amount]"),
        Some("4121")
    );
    assert_eq!(sent.form_value("metadata[cover_fees]"), Some("true"));
    assert_eq!(
        sent.form_value("payment_intent_data[metadata][cover_fees]"),
        Some("true")
    );
    assert!(
        sent.form_value("cancel_url")
            .unwrap()
            .ends_with("amount=40.00&frequency=once&currency=USD&cover_fees=on")
    );
    let session = h.fake.objects("checkout.session").remove(0);
    assert_eq!(session["amount_total"], 4121);
}

/// The fields sent, the field refused, its message.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn each_invalid_field_has_its_message_next_to_it() {
    let h = Harness::sqlite().await;
    let before = row_counts(&h.app.db).await;
    let cases: &[Case] = &[
        (
            &[("amount", "0.50")],
            "amount",
            "Enter an amount from 1.00 USD to 100,000.00 USD.",
        ),
        (
            &[("amount", "100000.01")],
            "amount",
            "Enter an amount from 1.00 USD to 100,000.00 USD.",
        ),
        (
            &[("custom_amount", "25.001")],
            "amount",
            "Enter an amount such as 25.00.",
        ),
        (
            &[("custom_amount", "1e3")],
            "amount",
            "Enter an amount such as 25.00.",
        ),
        (
            &[("custom_amount", "-5")],
            "amount",
            "Enter an amount such as 25.00.",
        ),
        (&[("amount", "")], "amount", "Choose or enter an amount."),
        (
            &[("amount", "25"), ("frequency", "weekly")],
            "frequency",
            "Choose one-time, monthly or yearly.",
        ),
        (
            &[("amount", "25"), ("currency", "EUR")],
            "currency",
            "We accept gifts in USD only.",
        ),
        (
            &[("amount", "25"), ("campaign", "no-such-campaign")],
            "campaign",
            "This campaign has ended or does not exist.",
        ),
    ];
    for (fields, field, message) in cases {
        let page = h.page().await;
        let r = h.post(&page.body(fields), Some(&page.cookie)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}: {}",
            r.text
        );
        let html = &r.text;
        let next_to = format!("<p class=\"field-error\" id=\"{field}-error\">{message}");
        assert!(
            html.contains(&next_to),
            "{fields:?}: no {next_to} in\n{html}"
        );
        assert!(html.contains("id=\"error-summary\""), "{fields:?}");
        assert!(html.contains("role=\"alert\""));
        if *field == "amount" {
            assert!(
                html.contains(
                    "aria-describedby=\"amount-hint amount-error\" aria-invalid=\"true\""
                )
            );
        }
        if *field == "frequency" {
            assert!(html.contains("aria-describedby=\"frequency-error\""));
        }
        // What the reader typed is kept.
        if let Some((_, typed)) = fields.iter().find(|(k, _)| *k == "custom_amount") {
            assert!(
                html.contains(&format!("value=\"{typed}\" aria-describedby")),
                "{typed}"
            );
        }
    }
    assert!(h.creations().is_empty(), "nothing reached Stripe");
    assert_eq!(row_counts(&h.app.db).await, before);
}

#[tokio::test]
async fn stripe_refusing_or_down_gives_the_form_again_with_a_plain_message() {
    for h in Harness::all().await {
        let before = row_counts(&h.app.db).await;
        let cases = [
            (
                Behaviour::Refuse {
                    status: 400,
                    code: "parameter_invalid_integer",
                    message: "Invalid integer: sk_test_secret-looking detail",
                },
                "could not start this payment",
            ),
            (
                Behaviour::Status(503),
                "could not reach our payment processor",
            ),
            (
                Behaviour::Status(500),
                "could not reach our payment processor",
            ),
            // Longer than the client waits (400 ms a try): last, since the
            // fake goes on to make the session after the client gave up.
            (
                Behaviour::Delay(std::time::Duration::from_millis(900)),
                "could not reach our payment processor",
            ),
        ];
        for (behaviour, plain) in cases {
            if matches!(behaviour, Behaviour::Delay(_)) {
                assert!(
                    h.fake.objects("checkout.session").is_empty(),
                    "{}",
                    h.name()
                );
            }
            h.fake.set_post_behaviour(behaviour);
            let page = h.page().await;
            let r = h
                .post(
                    &page.body(&[("amount", "25"), ("frequency", "monthly")]),
                    Some(&page.cookie),
                )
                .await;
            assert_eq!(
                r.status,
                StatusCode::BAD_GATEWAY,
                "{behaviour:?}: {}",
                r.text
            );
            assert!(r.text.contains(plain), "{behaviour:?}: {}", r.text);
            assert!(r.text.contains("nothing was charged"));
            assert!(
                !r.text.contains("Invalid integer") && !r.text.contains("simulated"),
                "Stripe's words are not shown"
            );
            assert!(
                r.text.contains("value=\"monthly\" checked"),
                "the form keeps the choice"
            );
            assert_ne!(
                super::hidden(&r.text, "nonce"),
                page.nonce,
                "a retry is a new request"
            );
        }
        h.fake.set_behaviour(Behaviour::Normal);
        assert_eq!(row_counts(&h.app.db).await, before, "{}", h.name());
    }
}

#[tokio::test]
async fn a_missing_or_wrong_csrf_token_is_refused() {
    let h = Harness::sqlite().await;
    let page = h.page().await;
    let other = h.page().await;
    let body = page.body(&[("amount", "25")]);
    for (body, cookie) in [
        (body.clone(), None),
        (body.clone(), Some(other.cookie.as_str())),
        (body.replace(&page.csrf, "0000"), Some(page.cookie.as_str())),
        ("amount=25".to_owned(), Some(page.cookie.as_str())),
        (body.clone(), Some("payments_donate=forged")),
    ] {
        let r = h.post(&body, cookie).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{body} {cookie:?}");
        assert!(r.text.contains("This form had expired"), "{}", r.text);
        assert!(r.text.contains("<form class=\"donate\""), "the form again");
    }
    assert!(h.creations().is_empty());
    let ok = h.post(&body, Some(&page.cookie)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
}

#[tokio::test]
async fn more_than_ten_forms_a_minute_from_one_address_are_refused() {
    let h = Harness::sqlite().await;
    let page = h.page().await;
    for i in 0..10 {
        let r = h
            .post(&page.body(&[("amount", "nope")]), Some(&page.cookie))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{i}");
    }
    let r = h
        .post(&page.body(&[("amount", "25")]), Some(&page.cookie))
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
    assert_eq!(r.header("retry-after"), Some("60"));
    assert!(r.text.contains("Wait a minute"), "{}", r.text);
    assert!(
        r.text.contains("<form class=\"donate\""),
        "a page, not a bare status"
    );
    assert!(h.creations().is_empty());
}
