//! A payment's page: the refund form, its CSRF check and idempotency.

mod common;
mod dashboard_support;

use dashboard_support::*;

#[tokio::test]
async fn refund_form_checks_csrf_and_a_double_submission_refunds_once() {
    let app = TestApp::sqlite().await;
    add_user(&app, "admin@example.org", Role::Admin).await;
    let admin = login(&app, "admin@example.org").await;
    let p = app.create(payment_body(5000)).await;
    let id = p["id"].as_str().unwrap();
    let path = format!("/payments/{id}");
    let detail = page(&app, Method::GET, &path, &admin, None).await;
    let csrf = hidden(&detail.text, "csrf");
    let key = hidden(&detail.text, "idempotency_key");
    let refund_path = format!("/payments/{id}/refund");

    let r = page(
        &app,
        Method::POST,
        &refund_path,
        &admin,
        Some(&[
            ("csrf", "forged"),
            ("idempotency_key", &key),
            ("amount", "10.00"),
            ("reason", "duplicate"),
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let form = [
        ("csrf", csrf.as_str()),
        ("idempotency_key", key.as_str()),
        ("amount", "10.00"),
        ("reason", "duplicate"),
    ];
    let first = page(&app, Method::POST, &refund_path, &admin, Some(&form)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.header("location"),
        Some(format!("{path}?notice=refunded").as_str())
    );
    let second = page(&app, Method::POST, &refund_path, &admin, Some(&form)).await;
    assert_eq!(
        second.header("location"),
        Some(format!("{path}?notice=already").as_str())
    );
    let stored = app.db.store.payment_with_refunds(id).await.unwrap();
    assert_eq!(stored.amount_refunded, 1000);
    assert_eq!(stored.refunds.unwrap().len(), 1);
    let after = page(
        &app,
        Method::GET,
        &format!("{path}?notice=refunded"),
        &admin,
        None,
    )
    .await;
    assert!(after.text.contains("Refund recorded."));
    assert!(after.text.contains("partially refunded"));
    assert!(
        after.text.contains("refund.created"),
        "audit trail shows the refund"
    );
    assert_eq!(hidden(&after.text, "amount"), "40.00");

    // More than remains, and nonsense amounts, are refused with the reason.
    let key2 = hidden(&after.text, "idempotency_key");
    for (amount, status, says) in [
        ("40.01", StatusCode::CONFLICT, "exceeds"),
        (
            "ten",
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be an amount such as 25.00",
        ),
    ] {
        let r = page(
            &app,
            Method::POST,
            &refund_path,
            &admin,
            Some(&[
                ("csrf", &csrf),
                ("idempotency_key", &key2),
                ("amount", amount),
                ("reason", "other"),
            ]),
        )
        .await;
        assert_eq!(r.status, status, "{amount}: {}", r.text);
        assert!(r.text.contains(says), "{amount}: {}", r.text);
    }
    assert_eq!(
        app.db.store.payment(id).await.unwrap().amount_refunded,
        1000
    );
}
