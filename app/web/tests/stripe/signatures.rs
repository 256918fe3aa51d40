//! The webhook's signature check and its answers before any effect.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;

use super::common::TestApp;
use super::stripe_support::*;
use super::{Harness, test_event};

fn body() -> Vec<u8> {
    serde_json::to_vec(&test_event(
        "evt_sig",
        "customer.created",
        json!({"id": "cus_1"}),
    ))
    .unwrap()
}

#[tokio::test]
async fn only_a_signature_from_a_configured_secret_within_300_s_is_accepted() {
    let h = Harness::new(super::common::sqlite_db().await).await;
    let body = body();
    let t = now();
    let valid = sign(WEBHOOK_SECRET, t, &body);
    let v1 = |header: &str| header.split_once(",v1=").unwrap().1.to_owned();
    let wrong = sign("whsec_not_ours", t, &body);

    let refused = [
        ("no header", None),
        ("a malformed header", Some("v1=abc,t=".to_owned())),
        ("a header with no v1", Some(format!("t={t}"))),
        ("a non-hex v1", Some(format!("t={t},v1=zz"))),
        ("a wrong secret", Some(wrong.clone())),
        (
            "another timestamp than the signed one",
            Some(format!("t={},v1={}", t + 1, v1(&valid))),
        ),
        (
            "a stale timestamp (301 s)",
            Some(sign(WEBHOOK_SECRET, t - 301, &body)),
        ),
    ];
    for (what, header) in &refused {
        let r = h.post_webhook(&body, header.as_deref()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text);
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{what}"
        );
    }
    // A tampered body with the original signature.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        h.post_webhook(&tampered, Some(&valid)).await.status,
        StatusCode::BAD_REQUEST
    );
    // Nothing refused was recorded: the same event is new when valid.
    assert!(h.app.db.store.recent_events(10).await.unwrap().is_empty());

    // One of two v1 values valid (Stripe sends several while rolling secrets).
    let two = format!("t={t},v1={},v1={}", v1(&wrong), v1(&valid));
    let r = h.post_webhook(&body, Some(&two)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["outcome"], "ignored");
    // A timestamp ahead of us within the tolerance.
    let ahead = sign(WEBHOOK_SECRET, t + 200, &body);
    let r = h.post_webhook(&body, Some(&ahead)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["outcome"], "duplicate");
}

#[tokio::test]
async fn during_a_rotation_both_secrets_are_accepted() {
    let fake = FakeStripe::start().await;
    let mut app = TestApp::sqlite().await;
    let mut state = super::common::state(app.db.store.clone());
    let old = "whsec_old_secret";
    state.stripe = Some(Arc::new(stripe_config(
        &fake,
        &format!("{old}, {WEBHOOK_SECRET}"),
    )));
    app.router = payments::http::router(state);
    let h = Harness { app, fake };
    for (n, secret) in [old, WEBHOOK_SECRET].iter().enumerate() {
        let body = serde_json::to_vec(&test_event(
            &format!("evt_rot_{n}"),
            "customer.created",
            json!({"id": "cus_1"}),
        ))
        .unwrap();
        let r = h
            .post_webhook(&body, Some(&sign(secret, now(), &body)))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{secret}: {}", r.text);
    }
    let body = body();
    let r = h
        .post_webhook(&body, Some(&sign("whsec_retired", now(), &body)))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_event_is_400_and_an_oversized_one_413() {
    let h = Harness::new(super::common::sqlite_db().await).await;
    for not_an_event in [&b"[1,2,3]"[..], b"{\"id\":\"evt_1\"}", b"not json"] {
        let r = h
            .post_webhook(
                not_an_event,
                Some(&sign(WEBHOOK_SECRET, now(), not_an_event)),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains("not a Stripe event"), "{}", r.text);
    }
    // Declared too large: refused before reading.
    let big = vec![b' '; 1024 * 1024 + 1];
    let r = h
        .post_webhook(&big, Some(&sign(WEBHOOK_SECRET, now(), &big)))
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    // Streamed without a length: read only up to the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..17).map(|_| Ok(vec![b' '; 64 * 1024])).collect();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/webhooks/stripe")
        .header("stripe-signature", "t=1,v1=00")
        .body(Body::from_stream(futures_stream(chunks)))
        .unwrap();
    let response = h.app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let _ = response.into_body().collect().await;
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl tokio_stream::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    tokio_stream::iter(chunks)
}

use tower::ServiceExt;

#[tokio::test]
async fn without_stripe_configured_the_webhook_is_503() {
    let app = TestApp::sqlite().await;
    let body = body();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/webhooks/stripe")
        .header("stripe-signature", sign(WEBHOOK_SECRET, now(), &body))
        .body(Body::from(body))
        .unwrap();
    let r = app.send(request).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(r.text.contains("not configured"), "{}", r.text);
}
