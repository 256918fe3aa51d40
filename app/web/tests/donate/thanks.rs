//! `GET /donate/thanks`: the details from Stripe, a plain 404 for anything
//! else, and thanks even when Stripe cannot be asked.

use axum::http::StatusCode;

use super::Harness;
use crate::stripe_support::Behaviour;

/// A session made through the form and paid at the fake.
async fn paid_session(h: &Harness, fields: &[(&str, &str)], email: &str) -> String {
    let page = h.page().await;
    let r = h.post(&page.body(fields), Some(&page.cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let id = r
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    h.fake.complete_checkout_session(&id, email);
    id
}

#[tokio::test]
async fn a_paid_session_shows_amount_frequency_and_the_masked_email() {
    let h = Harness::sqlite().await;
    let id = paid_session(
        &h,
        &[
            ("amount", "10"),
            ("frequency", "monthly"),
            ("cover_fees", "on"),
        ],
        "reader@example.org",
    )
    .await;
    let r = h
        .get(&format!("/donate/thanks?session_id={id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("<strong>10.54 USD a month</strong>"),
        "{}",
        r.text
    );
    assert!(r.text.contains("r•••@example.org"));
    assert!(
        !r.text.contains("reader@example.org"),
        "the email is masked"
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let got = h
        .fake
        .requests()
        .into_iter()
        .rfind(|q| q.method == "GET")
        .unwrap();
    assert_eq!(got.path, format!("/v1/checkout/sessions/{id}"));
    // A one-time gift.
    let id = paid_session(&h, &[("amount", "25")], "someone@example.com").await;
    let r = h
        .get(&format!("/donate/thanks?session_id={id}"), None)
        .await;
    assert!(r.text.contains("<strong>25.00 USD</strong>"), "{}", r.text);
    assert!(r.text.contains("s•••@example.com"));
}

#[tokio::test]
async fn an_open_session_is_not_thanked_for() {
    let h = Harness::sqlite().await;
    let page = h.page().await;
    let r = h
        .post(&page.body(&[("amount", "25")]), Some(&page.cookie))
        .await;
    let id = r
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let r = h
        .get(&format!("/donate/thanks?session_id={id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text.contains("Your donation was not completed"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("Thank you"));
}

#[tokio::test]
async fn an_unknown_or_malformed_id_is_a_plain_404_page() {
    let h = Harness::sqlite().await;
    let r = h
        .get("/donate/thanks?session_id=cs_test_nosuchsession", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert!(r.text.contains("<h1>Not found</h1>"), "{}", r.text);
    assert!(!r.text.contains("No such"), "Stripe's message is not shown");
    assert_eq!(h.fake.requests().len(), 1);
    for bad in [
        "/donate/thanks",
        "/donate/thanks?session_id=",
        "/donate/thanks?session_id=pi_123",
        "/donate/thanks?session_id=cs_test_..%2F..%2Fv1%2Fbalance",
        "/donate/thanks?session_id=%3Cscript%3E",
    ] {
        let r = h.get(bad, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(r.text.contains("<h1>Not found</h1>"), "{bad}");
        assert!(!r.text.contains("<script>"), "{bad}");
    }
    assert_eq!(
        h.fake.requests().len(),
        1,
        "malformed ids are not sent to Stripe"
    );
}

#[tokio::test]
async fn when_stripe_cannot_be_asked_the_reader_is_thanked_without_details() {
    let h = Harness::sqlite().await;
    let id = paid_session(&h, &[("amount", "25")], "reader@example.org").await;
    for behaviour in [
        Behaviour::Status(500),
        Behaviour::Delay(std::time::Duration::from_millis(900)),
    ] {
        h.fake.set_behaviour(behaviour);
        let r = h
            .get(&format!("/donate/thanks?session_id={id}"), None)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{behaviour:?}: {}", r.text);
        assert!(r.text.contains("Thank you"), "{}", r.text);
        assert!(
            !r.text.contains("25.00 USD") && !r.text.contains("•••"),
            "no details"
        );
    }
}
