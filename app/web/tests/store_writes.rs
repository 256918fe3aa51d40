//! Writes on every available backend: identical concurrent requests make
//! one payment, concurrent refunds never exceed the payment, and keys
//! recorded by earlier versions replay as they did.

mod common;

use axum::http::StatusCode;
use common::{TestApp, payment_body};
use payments::domain::{
    Filter, ListRequest, MinorUnits, NewRefund, PageFrom, RefundReason, Status,
};
use payments::storage::payments::{IdempotencyClaim, Idempotent, RecordedResponse};
use serde_json::json;

#[tokio::test]
async fn twenty_identical_concurrent_creates_make_one_payment() {
    for app in TestApp::all().await {
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let router = app.router.clone();
            let token = app.write_token.clone();
            tasks.push(tokio::spawn(async move {
                let request = axum::http::Request::post("/api/v1/payments")
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", "concurrent-create")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(payment_body(4242).to_string()))
                    .unwrap();
                let response = tower::ServiceExt::oneshot(router, request).await.unwrap();
                let status = response.status();
                let bytes = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                (
                    status,
                    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap(),
                )
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            let (status, body) = t.await.unwrap();
            // Waiting for the first request is allowed, so every answer is its replay.
            assert_eq!(status, StatusCode::CREATED, "{}: {body}", app.db.name);
            ids.push(body["id"].as_str().unwrap().to_owned());
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "{}: one payment id for all", app.db.name);
        let page = app
            .db
            .store
            .list_payments(&ListRequest {
                filter: Filter::default(),
                limit: 100,
                from: PageFrom::Start,
            })
            .await
            .unwrap();
        assert_eq!(page.items.len(), 1, "{}", app.db.name);
    }
}

#[tokio::test]
async fn concurrent_refunds_never_exceed_the_payment() {
    for app in TestApp::all().await {
        let p = app.create(payment_body(1000)).await;
        let id = p["id"].as_str().unwrap().to_owned();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let router = app.router.clone();
            let token = app.write_token.clone();
            let path = format!("/api/v1/payments/{id}/refunds");
            tasks.push(tokio::spawn(async move {
                let request = axum::http::Request::post(path)
                    .header("authorization", format!("Bearer {token}"))
                    .header("idempotency-key", format!("refund-{i}"))
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(json!({"amount": 300}).to_string()))
                    .unwrap();
                tower::ServiceExt::oneshot(router, request)
                    .await
                    .unwrap()
                    .status()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        let created = statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count();
        let refused = statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count();
        assert_eq!((created, refused), (3, 5), "{}: {statuses:?}", app.db.name);
        let payment = app.db.store.payment_with_refunds(&id).await.unwrap();
        assert_eq!(payment.amount_refunded, 900);
        assert_eq!(
            payment
                .refunds
                .unwrap()
                .iter()
                .map(|r| r.amount)
                .sum::<i64>(),
            900
        );
        assert_eq!(payment.status, Status::PartiallyRefunded);
    }
}

/// Runs one statement with text arguments on the test database, outside the
/// store; returns the rows it selected, every column read as text.
async fn raw(url: &str, sql: &str, args: &[&str]) -> Vec<Vec<String>> {
    use sqlx::Row;
    async fn run<DB: sqlx::Database>(
        pool: &sqlx::Pool<DB>,
        sql: &str,
        args: &[&str],
    ) -> Vec<Vec<String>>
    where
        for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'c> &'c sqlx::Pool<DB>: sqlx::Executor<'c, Database = DB>,
        String: for<'r> sqlx::Decode<'r, DB> + sqlx::Type<DB>,
        usize: sqlx::ColumnIndex<DB::Row>,
    {
        let mut query = sqlx::query(sql);
        for arg in args {
            query = query.bind(*arg);
        }
        let rows = query.fetch_all(pool).await.unwrap();
        rows.iter()
            .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
            .collect()
    }
    if url.starts_with("sqlite") {
        run(&sqlx::SqlitePool::connect(url).await.unwrap(), sql, args).await
    } else {
        run(&sqlx::MySqlPool::connect(url).await.unwrap(), sql, args).await
    }
}

/// Keys are kept 25 hours, so keys recorded by the version before this one
/// (which also kept the HTTP status in `status_code`) are still replayed
/// after an upgrade: the API answers the recorded body byte for byte, and
/// the dashboard's keys (recorded as 303 with an empty body) still stop a
/// second refund.
#[tokio::test]
async fn keys_recorded_before_an_upgrade_replay_as_they_did() {
    for app in TestApp::all().await {
        let name = app.db.name;
        let url = &app.db.url;
        let body = payment_body(1234);
        let first = app.post("/api/v1/payments", body.clone(), "today").await;
        assert_eq!(first.status, StatusCode::CREATED, "{name}: {}", first.text);
        // The principal and request hash of this request, as recorded now.
        let row = raw(
            url,
            "SELECT CAST(principal AS CHAR), CAST(request_hash AS CHAR) FROM idempotency_keys \
             WHERE idem_key = ?",
            &["today"],
        )
        .await;
        let (principal, hash) = (row[0][0].clone(), row[0][1].clone());
        // The row the earlier version wrote for the same request under
        // another key: the status in its column, the body with its own spacing.
        let recorded =
            format!("{{\"id\": \"pay_recorded_earlier\", \"amount\": 1234, \"note\": \"{name}\"}}");
        let now = payments::domain::Timestamp::now().0.to_string();
        raw(
            url,
            &format!(
                "INSERT INTO idempotency_keys \
                 (principal, idem_key, request_hash, status_code, response_body, created_at) \
                 VALUES (?, 'yesterday', ?, 201, ?, {now})"
            ),
            &[&principal, &hash, &recorded],
        )
        .await;
        let replay = app
            .post("/api/v1/payments", body.clone(), "yesterday")
            .await;
        assert_eq!(
            replay.status,
            StatusCode::CREATED,
            "{name}: {}",
            replay.text
        );
        assert_eq!(replay.header("idempotent-replayed"), Some("true"), "{name}");
        assert_eq!(
            replay.header("content-type"),
            Some("application/json"),
            "{name}"
        );
        assert_eq!(replay.text, recorded, "{name}: the recorded bytes");
        app.post("/api/v1/payments", payment_body(1), "yesterday")
            .await
            .problem(422);
        let list = app.get("/api/v1/payments").await;
        assert_eq!(list.json["data"].as_array().unwrap().len(), 1, "{name}");

        // A dashboard refund recorded as a 303 with no body.
        let id = first.json["id"].as_str().unwrap();
        let claim = IdempotencyClaim {
            principal: "user:usr_staff".into(),
            key: "refund-form".into(),
            request_hash: "a".repeat(64),
        };
        raw(
            url,
            &format!(
                "INSERT INTO idempotency_keys \
                 (principal, idem_key, request_hash, status_code, response_body, created_at) \
                 VALUES (?, ?, ?, 303, '', {now})"
            ),
            &[&claim.principal, &claim.key, &claim.request_hash],
        )
        .await;
        let refund = NewRefund {
            amount: Some(MinorUnits::new(100).unwrap()),
            reason: Some(RefundReason::Duplicate),
        };
        let outcome = app
            .db
            .store
            .refund_payment("user:usr_staff", Some(&claim), id, &refund, |_| {
                RecordedResponse::new("not recorded: a replay")
            })
            .await
            .unwrap();
        assert!(
            matches!(&outcome, Idempotent::Replay(r) if r.as_str().is_empty()),
            "{name}: {outcome:?}"
        );
        let payment = app.db.store.payment(id).await.unwrap();
        assert_eq!(payment.amount_refunded, 0, "{name}: no second refund");

        // A key an earlier version claimed and never answered is still busy.
        raw(
            url,
            &format!(
                "INSERT INTO idempotency_keys (principal, idem_key, request_hash, created_at) \
                 VALUES (?, 'unanswered', ?, {now})"
            ),
            &[&principal, &hash],
        )
        .await;
        app.post("/api/v1/payments", body, "unanswered")
            .await
            .problem(409);
    }
}
