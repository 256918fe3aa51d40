//! The dashboard's view of the outbox: `/outbox` for admins, and the
//! messages on a payment's and a donor's page.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::Harness;
use crate::dashboard_support::{self, Role};

async fn page(h: &Harness, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = dashboard_support::page(&h.app, Method::GET, path, cookie, None).await;
    (r.status, r.text)
}

#[tokio::test]
async fn the_outbox_page_shows_failed_retried_and_pending_messages_to_admins() {
    for h in Harness::all().await {
        let who = h.name();
        let refused = h
            .api_gift("refused@example.org", json!({"send_receipt": true}))
            .await;
        h.smtp.answer_next(&[550]);
        assert_eq!(h.flush().await.failed, 1, "{who}");
        h.api_gift("later@example.org", json!({"send_receipt": true}))
            .await;
        h.smtp.answer_next(&[451]);
        assert_eq!(h.flush().await.deferred, 1, "{who}");
        h.api_gift("waiting@example.org", json!({"send_receipt": true}))
            .await;

        dashboard_support::add_user(&h.app, "admin@example.org", Role::Admin).await;
        let admin = dashboard_support::login(&h.app, "admin@example.org").await;
        let (status, failed) = page(&h, &admin, "/outbox?show=failed").await;
        assert_eq!(status, StatusCode::OK, "{who}: {failed}");
        assert!(failed.contains("refused@example.org"), "{who}");
        assert!(
            failed.contains("Failed") && failed.contains("(550)"),
            "{who}: {failed}"
        );
        assert!(!failed.contains("later@example.org"), "{who}");
        assert!(
            failed.contains(r#"href="/outbox""#),
            "{who}: linked in the nav"
        );
        let (_, pending) = page(&h, &admin, "/outbox").await;
        assert!(
            pending.contains("later@example.org") && pending.contains("Retrying"),
            "{who}"
        );
        assert!(pending.contains("(451)"), "{who}");
        assert!(pending.contains("waiting@example.org") && pending.contains("Not sent yet"));
        assert!(!pending.contains("refused@example.org"), "{who}");
        let (_, retried) = page(&h, &admin, "/outbox?show=retried").await;
        assert!(
            retried.contains("later@example.org"),
            "{who}: waiting for its retry"
        );
        assert!(
            !retried.contains("waiting@example.org"),
            "{who}: never tried"
        );
        assert_eq!(
            page(&h, &admin, "/outbox?show=nonsense").await.0,
            StatusCode::NOT_FOUND
        );

        let (_, payment) = page(&h, &admin, &format!("/payments/{refused}")).await;
        assert!(
            payment.contains("Messages") && payment.contains("Receipt"),
            "{who}"
        );
        assert!(payment.contains("Failed"), "{who}: {payment}");
        let donor = h
            .app
            .db
            .store
            .donor_by_email("waiting@example.org")
            .await
            .unwrap()
            .unwrap();
        let (_, donor_page) = page(&h, &admin, &format!("/donors/{}", donor.id)).await;
        assert!(donor_page.contains("Not sent yet"), "{who}: {donor_page}");

        dashboard_support::add_user(&h.app, "viewer@example.org", Role::Viewer).await;
        let viewer = dashboard_support::login(&h.app, "viewer@example.org").await;
        assert_eq!(
            page(&h, &viewer, "/outbox").await.0,
            StatusCode::FORBIDDEN,
            "{who}"
        );
        let (_, overview) = page(&h, &viewer, "/").await;
        assert!(
            !overview.contains(r#"href="/outbox""#),
            "{who}: admins only"
        );
    }
}
