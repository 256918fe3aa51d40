//! Refunds of Stripe payments through the API: Stripe first, then the
//! ledger with Stripe's id; nothing recorded when Stripe refuses or cannot
//! be reached; never more than the payment.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::Harness;
use super::stripe_support::*;

/// A succeeded card payment of `amount` recorded from its Checkout event;
/// returns its ledger id.
async fn stripe_payment(h: &Harness, tag: &str, amount: i64) -> String {
    let (pi, ch, txn) = (
        format!("pi_{tag}"),
        format!("ch_{tag}"),
        format!("txn_{tag}"),
    );
    h.fake
        .put(payment_intent(&pi, amount, "usd", "succeeded", Some(&ch)));
    h.fake
        .put(charge(&ch, &pi, amount, "usd", "card", Some(&txn)));
    h.fake.put(balance_transaction(
        &txn,
        &ch,
        "charge",
        amount,
        30,
        "usd",
        now(),
    ));
    let session = checkout_session(
        &format!("cs_{tag}"),
        &pi,
        amount,
        "usd",
        "paid",
        Some("Ada"),
        "ada@example.org",
        None,
    );
    h.expect(
        &super::test_event(&format!("evt_{tag}"), "checkout.session.completed", session),
        "processed",
    )
    .await;
    h.payment_of(&pi).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn refund_posts(h: &Harness) -> Vec<Recorded> {
    h.fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/v1/refunds")
        .collect()
}

#[tokio::test]
async fn a_refund_goes_to_stripe_once_and_its_webhook_changes_nothing() {
    for h in Harness::all().await {
        let id = stripe_payment(&h, "rf1", 5000).await;
        h.fake.clear_requests();
        let path = format!("/api/v1/payments/{id}/refunds");
        let r = h
            .app
            .post(
                &path,
                json!({"amount": 1200, "reason": "duplicate"}),
                "k-rf1",
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", h.name(), r.text);
        let re = r.json["external_ref"].as_str().unwrap().to_owned();
        assert!(re.starts_with("re_"), "{}", r.text);
        let posts = refund_posts(&h);
        assert_eq!(posts.len(), 1, "{}", h.name());
        assert_eq!(posts[0].form_value("payment_intent"), Some("pi_rf1"));
        assert_eq!(posts[0].form_value("amount"), Some("1200"));
        assert_eq!(posts[0].form_value("reason"), Some("duplicate"));
        let key = posts[0].idempotency_key.clone().unwrap();
        assert!(!key.contains("k-rf1"), "our key is not Stripe's");
        assert_eq!(
            posts[0].authorization.as_deref(),
            Some(&*format!("Bearer {SECRET_KEY}"))
        );
        assert!(posts[0].stripe_version.is_some());

        // A repeat of the request is answered from the ledger.
        let again = h
            .app
            .post(
                &path,
                json!({"amount": 1200, "reason": "duplicate"}),
                "k-rf1",
            )
            .await;
        assert_eq!(again.status, StatusCode::CREATED);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.json["id"], r.json["id"]);
        assert_eq!(refund_posts(&h).len(), 1, "a replay does not call Stripe");

        // Stripe's own events about the same refund change nothing.
        let made = h.fake.get(&re).unwrap();
        h.expect(
            &super::test_event("evt_rf1_created", "refund.created", made.clone()),
            "processed",
        )
        .await;
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(p["amount_refunded"], 1200, "{}", h.name());
        assert_eq!(p["refunds"].as_array().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn stripes_refund_events_after_the_api_answer_change_nothing() {
    for h in Harness::all().await {
        let id = stripe_payment(&h, "rf2", 4000).await;
        let path = format!("/api/v1/payments/{id}/refunds");
        let r = h.app.post(&path, json!({"amount": 4000}), "k-rf2").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let refunds = h.fake.objects("refund");
        assert_eq!(refunds.len(), 1);
        h.expect(
            &super::test_event("evt_rf2_refund", "refund.updated", refunds[0].clone()),
            "processed",
        )
        .await;
        let mut charge_event = h.fake.get("ch_rf2").unwrap();
        charge_event["amount_refunded"] = json!(4000);
        h.expect(
            &super::test_event("evt_rf2_ch", "charge.refunded", charge_event),
            "processed",
        )
        .await;
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(
            (p["amount_refunded"].clone(), p["status"].clone()),
            (json!(4000), json!("refunded"))
        );
        assert_eq!(p["refunds"].as_array().unwrap().len(), 1, "{}", h.name());
    }
}

#[tokio::test]
async fn refused_is_409_unreachable_is_502_and_nothing_is_recorded() {
    for h in Harness::all().await {
        let id = stripe_payment(&h, "rf3", 3000).await;
        let path = format!("/api/v1/payments/{id}/refunds");
        let unchanged = |p: &Value| {
            assert_eq!(p["amount_refunded"], 0, "{p}");
            assert!(p["refunds"].as_array().unwrap().is_empty());
        };

        h.fake.set_post_behaviour(Behaviour::Refuse {
            status: 400,
            code: "charge_disputed",
            message: "This charge has been disputed.",
        });
        let r = h
            .app
            .post(&path, json!({"amount": 1000}), "k-refused")
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
        assert!(
            r.text.contains("This charge has been disputed."),
            "{}",
            r.text
        );
        unchanged(&h.app.get(&format!("/api/v1/payments/{id}")).await.json);
        assert_eq!(refund_posts(&h).len(), 1, "a refusal is not retried");

        h.fake.clear_requests();
        h.fake.set_post_behaviour(Behaviour::Status(500));
        let r = h.app.post(&path, json!({"amount": 1000}), "k-retry").await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
        assert!(!r.text.contains(SECRET_KEY));
        unchanged(&h.app.get(&format!("/api/v1/payments/{id}")).await.json);
        // Stripe said the 500 may be retried: three attempts in all, each
        // with the same idempotency key.
        let posts = refund_posts(&h);
        assert_eq!(posts.len(), 3, "{}", h.name());
        assert!(
            posts
                .iter()
                .all(|p| p.idempotency_key == posts[0].idempotency_key)
        );

        // A timeout: Stripe may have made the refund after all; the retry
        // with the same key finds it rather than making another.
        h.fake
            .set_post_behaviour(Behaviour::Delay(Duration::from_secs(2)));
        let r = h.app.post(&path, json!({"amount": 1000}), "k-retry").await;
        assert_eq!(r.status, StatusCode::BAD_GATEWAY, "{}", r.text);
        unchanged(&h.app.get(&format!("/api/v1/payments/{id}")).await.json);

        h.fake.set_post_behaviour(Behaviour::Normal);
        let r = h.app.post(&path, json!({"amount": 1000}), "k-retry").await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", h.name(), r.text);
        let at_stripe: Vec<Value> = h
            .fake
            .objects("refund")
            .into_iter()
            .filter(|r| r["payment_intent"] == "pi_rf3")
            .collect();
        assert_eq!(at_stripe.len(), 1, "{}: {at_stripe:?}", h.name());
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(p["amount_refunded"], 1000);
        assert_eq!(p["refunds"][0]["external_ref"], at_stripe[0]["id"]);
    }
}

#[tokio::test]
async fn concurrent_refunds_and_webhooks_never_exceed_the_payment() {
    for h in Harness::all().await {
        let id = stripe_payment(&h, "rf4", 5000).await;
        let path = format!("/api/v1/payments/{id}/refunds");
        let mut answers = Vec::new();
        {
            let calls = (0..6).map(|n| {
                let (h, path) = (&h, &path);
                async move {
                    h.app
                        .post(path, json!({"amount": 1500}), &format!("k-conc-{n}"))
                        .await
                }
            });
            for r in futures_util::future::join_all(calls).await {
                answers.push(r.status);
            }
        }
        // Stripe's events about each refund it made, delivered after.
        for (n, made) in h.fake.objects("refund").into_iter().enumerate() {
            if made["payment_intent"] == "pi_rf4" {
                h.expect(
                    &super::test_event(&format!("evt_conc_{n}"), "refund.updated", made),
                    "processed",
                )
                .await;
            }
        }
        let made: i64 = h
            .fake
            .objects("refund")
            .iter()
            .filter(|r| r["payment_intent"] == "pi_rf4")
            .map(|r| r["amount"].as_i64().unwrap())
            .sum();
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.json;
        let refunded = p["amount_refunded"].as_i64().unwrap();
        assert!(refunded <= 5000, "{}: {refunded}", h.name());
        assert_eq!(
            refunded,
            made,
            "{}: the ledger has what Stripe refunded",
            h.name()
        );
        let created = answers
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count() as i64;
        assert_eq!(created * 1500, refunded, "{answers:?}");
        assert!(
            answers
                .iter()
                .all(|s| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s)),
            "{answers:?}"
        );
    }
}

/// Stripe's webhook about a refund can arrive before the API has recorded
/// Stripe's answer: the API's write then finds the refund by Stripe's id
/// and answers with it, refunding nothing twice.
#[tokio::test]
async fn a_webhook_first_then_the_api_answer_makes_one_refund() {
    for h in Harness::all().await {
        let id = stripe_payment(&h, "rf5", 4000).await;
        let made = refund("re_rf5", "pi_rf5", "ch_rf5", 1500, "succeeded");
        h.fake.put(made.clone());
        h.expect(
            &super::test_event("evt_rf5_refund", "refund.created", made),
            "processed",
        )
        .await;
        let claim = payments::storage::payments::IdempotencyClaim {
            principal: "tok_test".into(),
            key: "k-rf5".into(),
            request_hash: "h".into(),
        };
        let new = payments::domain::NewRefund {
            amount: Some(payments::domain::MinorUnits::new(1500).unwrap()),
            reason: None,
        };
        let outcome = h
            .app
            .db
            .store
            .record_refund("tok_test", Some(&claim), &id, &new, Some("re_rf5"), |_| {
                payments::storage::payments::RecordedResponse::default()
            })
            .await
            .unwrap();
        match outcome {
            payments::storage::payments::Idempotent::Done(r) => {
                assert_eq!(r.external_ref.as_deref(), Some("re_rf5"));
                assert_eq!(r.amount, 1500);
            }
            other => panic!("{}: {other:?}", h.name()),
        }
        let p = h.app.get(&format!("/api/v1/payments/{id}")).await.json;
        assert_eq!(p["amount_refunded"], 1500, "{}", h.name());
        assert_eq!(p["refunds"].as_array().unwrap().len(), 1);
    }
}
