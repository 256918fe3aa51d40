//! The fake's Checkout Sessions, through the service's own Stripe client:
//! idempotency as Stripe keeps it, retrieval, refusals and misbehaviours.

use payments::stripe::StripeError;

use crate::stripe_support::*;

fn form(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn payment(amount: &str) -> Vec<(String, String)> {
    form(&[
        ("mode", "payment"),
        ("submit_type", "donate"),
        (
            "success_url",
            "http://127.0.0.1/donate/thanks?session_id={CHECKOUT_SESSION_ID}",
        ),
        ("cancel_url", "http://127.0.0.1/donate"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "usd"),
        ("line_items[0][price_data][unit_amount]", amount),
        ("line_items[0][price_data][product_data][name]", "Donation"),
        ("metadata[campaign]", "spring"),
    ])
}

#[tokio::test]
async fn sessions_are_idempotent_stored_and_retrievable() {
    let fake = FakeStripe::start().await;
    let client = stripe_config(&fake, WEBHOOK_SECRET).client;
    let first = client
        .create_checkout_session(&payment("2500"), "key-1")
        .await
        .unwrap();
    assert!(first.id.starts_with("cs_test_"), "{}", first.id);
    assert_eq!(
        first.url.as_deref(),
        Some(format!("{}/c/pay/{}", fake.base_url(), first.id).as_str())
    );
    assert_eq!(first.status.as_deref(), Some("open"));
    assert_eq!(first.payment_status, "unpaid");
    assert_eq!(first.amount_total, Some(2500));
    assert_eq!(first.metadata_value("campaign"), Some("spring"));
    let again = client
        .create_checkout_session(&payment("2500"), "key-1")
        .await
        .unwrap();
    assert_eq!(
        again.id, first.id,
        "the same key and body: the same session"
    );
    match client
        .create_checkout_session(&payment("2600"), "key-1")
        .await
    {
        Err(StripeError::Refused {
            status: 400,
            message,
            ..
        }) => {
            assert!(
                message.contains("Keys for idempotent requests"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    let other = client
        .create_checkout_session(&payment("2600"), "key-2")
        .await
        .unwrap();
    assert_ne!(other.id, first.id);
    assert_eq!(fake.objects("checkout.session").len(), 2);
    let read = client.checkout_session(&first.id).await.unwrap();
    assert_eq!(read.id, first.id);
    assert!(matches!(
        client.checkout_session("cs_test_missing").await,
        Err(StripeError::NotFound(_))
    ));
    // Paid: complete, with the reader's email, no URL.
    fake.complete_checkout_session(&first.id, "reader@example.org");
    let paid = client.checkout_session(&first.id).await.unwrap();
    assert_eq!(paid.status.as_deref(), Some("complete"));
    assert_eq!(paid.payment_status, "paid");
    assert_eq!(paid.url, None);
    assert_eq!(
        paid.customer_details.unwrap().email.as_deref(),
        Some("reader@example.org")
    );
    // The stand-in page, without a key.
    let page = get_text(&format!("{}/c/pay/{}", fake.base_url(), other.id)).await;
    assert!(
        page.contains("Fake Checkout") && page.contains("2600 usd"),
        "{page}"
    );
}

#[tokio::test]
async fn sessions_stripe_would_refuse_are_refused() {
    let fake = FakeStripe::start().await;
    let client = stripe_config(&fake, WEBHOOK_SECRET).client;
    let mut recurring_payment = payment("2500");
    recurring_payment.push((
        "line_items[0][price_data][recurring][interval]".into(),
        "month".into(),
    ));
    let mut subscription_without_interval = payment("2500");
    subscription_without_interval[0].1 = "subscription".into();
    let mut unknown = payment("2500");
    unknown.push(("amount".into(), "2500".into()));
    let mut bad_currency = payment("2500");
    bad_currency[5].1 = "USD".into();
    for (i, bad) in [
        recurring_payment,
        subscription_without_interval,
        unknown,
        bad_currency,
        payment("lots"),
    ]
    .iter()
    .enumerate()
    {
        let r = client
            .create_checkout_session(bad, &format!("bad-{i}"))
            .await;
        assert!(
            matches!(r, Err(StripeError::Refused { status: 400, .. })),
            "{i}: {r:?}"
        );
    }
    assert!(fake.objects("checkout.session").is_empty());
}

#[tokio::test]
async fn misbehaviours_apply_to_checkout_sessions_too() {
    let fake = FakeStripe::start().await;
    let client = stripe_config(&fake, WEBHOOK_SECRET).client;
    fake.set_post_behaviour(Behaviour::Status(500));
    let r = client.create_checkout_session(&payment("2500"), "k").await;
    assert!(matches!(r, Err(StripeError::Unavailable(_))), "{r:?}");
    assert_eq!(fake.requests().len(), 3, "retried, with its key");
    assert!(
        fake.requests()
            .iter()
            .all(|q| q.idempotency_key.as_deref() == Some("k"))
    );
    fake.set_behaviour(Behaviour::Refuse {
        status: 402,
        code: "card_declined",
        message: "no",
    });
    assert!(matches!(
        client.checkout_session("cs_test_x").await,
        Err(StripeError::Refused { status: 402, .. })
    ));
    fake.set_behaviour(Behaviour::Normal);
    assert!(
        client
            .create_checkout_session(&payment("2500"), "k")
            .await
            .is_ok()
    );
}

async fn get_text(url: &str) -> String {
    use http_body_util::{BodyExt, Empty};
    let client: hyper_util::client::legacy::Client<_, Empty<axum::body::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}
