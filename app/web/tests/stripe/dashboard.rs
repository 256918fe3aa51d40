//! What staff see of Stripe: the payment's processor, ids, fee and dispute;
//! refunds through Stripe from the form; `/admin/stripe` for admins.

use serde_json::json;

use super::Harness;
use super::dashboard_support::{Method, Role, StatusCode, add_user, hidden, login, page};
use super::stripe_support::*;

#[tokio::test]
async fn the_payment_page_links_to_stripe_and_its_form_refunds_through_stripe() {
    let h = Harness::new(super::common::sqlite_db().await).await;
    h.fake.put(payment_intent(
        "pi_dash",
        2500,
        "usd",
        "succeeded",
        Some("ch_dash"),
    ));
    h.fake.put(charge(
        "ch_dash",
        "pi_dash",
        2500,
        "usd",
        "card",
        Some("txn_dash"),
    ));
    h.fake.put(balance_transaction(
        "txn_dash",
        "ch_dash",
        "charge",
        2500,
        103,
        "usd",
        now(),
    ));
    let session = checkout_session(
        "cs_dash",
        "pi_dash",
        2500,
        "usd",
        "paid",
        Some("Ada"),
        "ada@example.org",
        None,
    );
    h.expect(
        &super::test_event("evt_dash", "checkout.session.completed", session),
        "processed",
    )
    .await;
    h.expect(
        &super::test_event(
            "evt_dash_dispute",
            "charge.dispute.created",
            dispute(
                "du_dash",
                "ch_dash",
                "pi_dash",
                2500,
                "needs_response",
                "fraudulent",
            ),
        ),
        "processed",
    )
    .await;
    let id = h.payment_of("pi_dash").await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    add_user(&h.app, "admin@example.org", Role::Admin).await;
    add_user(&h.app, "viewer@example.org", Role::Viewer).await;
    let admin = login(&h.app, "admin@example.org").await;
    let detail = page(
        &h.app,
        Method::GET,
        &format!("/payments/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(detail.status, StatusCode::OK);
    assert!(
        detail
            .text
            .contains("href=\"https://dashboard.stripe.com/test/payments/pi_dash\""),
        "{}",
        detail.text
    );
    assert!(detail.text.contains("1.03 USD"), "the fee");
    assert!(
        detail
            .text
            .contains("needs response of 25.00 USD (fraudulent)"),
        "the dispute"
    );

    let form = [
        ("csrf", hidden(&detail.text, "csrf")),
        ("idempotency_key", hidden(&detail.text, "idempotency_key")),
        ("amount", "5.00".to_owned()),
        ("reason", "requested_by_customer".to_owned()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    h.fake.set_post_behaviour(Behaviour::Status(502));
    let refused = page(
        &h.app,
        Method::POST,
        &format!("/payments/{id}/refund"),
        &admin,
        Some(&form),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY, "{}", refused.text);
    assert!(
        refused.text.contains("Stripe could not be reached"),
        "{}",
        refused.text
    );
    h.fake.set_post_behaviour(Behaviour::Normal);
    let done = page(
        &h.app,
        Method::POST,
        &format!("/payments/{id}/refund"),
        &admin,
        Some(&form),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let refunds = h.fake.objects("refund");
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"], json!(500));
    let p = h.app.db.store.payment_with_refunds(&id).await.unwrap();
    assert_eq!(p.amount_refunded, 500);
    assert_eq!(
        p.refunds.unwrap()[0].external_ref.as_deref(),
        refunds[0]["id"].as_str()
    );

    let stripe_page = page(&h.app, Method::GET, "/admin/stripe", &admin, None).await;
    assert_eq!(stripe_page.status, StatusCode::OK);
    assert!(
        stripe_page.text.contains("configured (test mode)"),
        "{}",
        stripe_page.text
    );
    assert!(stripe_page.text.contains("evt_dash_dispute"));
    assert!(stripe_page.text.contains("charge.dispute.created"));
    let viewer = login(&h.app, "viewer@example.org").await;
    assert_eq!(
        page(&h.app, Method::GET, "/admin/stripe", &viewer, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}
