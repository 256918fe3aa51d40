//! The schema and its transactions on every available backend: migrations
//! from empty (also by two processes at once), and write transactions that
//! end early without leaving a pooled connection inside a transaction.

mod common;

use axum::http::StatusCode;
use common::{TestApp, databases, payment_body};
use payments::storage::accounts::Scope;
use payments::storage::{ConnectOptions, Store, StoreError};
use serde_json::json;

#[tokio::test]
async fn migrate_from_empty_twice_at_once_and_again() {
    for db in databases().await {
        // A second fresh schema: two processes' pools migrate it at the same time.
        let url = match db.name {
            "sqlite" => {
                let path = std::env::temp_dir().join(format!(
                    "payments-migrate-{}.db",
                    uuid::Uuid::now_v7().simple()
                ));
                format!("sqlite://{}", path.display())
            }
            _ => {
                use sqlx::Connection;
                let server = common::mysql_server_url().unwrap();
                let name = format!("payments_migrate_{}", uuid::Uuid::now_v7().simple());
                let mut c = sqlx::MySqlConnection::connect(&server).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE `{name}`"))
                    .execute(&mut c)
                    .await
                    .unwrap();
                common::with_database(&server, &name)
            }
        };
        let a = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        let b = Store::connect(&url, &ConnectOptions::default())
            .await
            .unwrap();
        // Before the migration, queries say what is missing.
        let err = a.list_tokens().await.unwrap_err();
        assert!(matches!(err, StoreError::NotMigrated), "{}: {err}", db.name);
        let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
        ra.unwrap_or_else(|e| panic!("{}: {e}", db.name));
        rb.unwrap_or_else(|e| panic!("{}: {e}", db.name));
        a.migrate().await.unwrap();
        // The schema works.
        let (token, _) = a.create_token("test", "t", Scope::Read).await.unwrap();
        assert_eq!(b.list_tokens().await.unwrap()[0].id, token.id);
        if db.name == "mysql" {
            use sqlx::Connection;
            let server = common::mysql_server_url().unwrap();
            let name = url.rsplit('/').next().unwrap().to_owned();
            let mut c = sqlx::MySqlConnection::connect(&server).await.unwrap();
            sqlx::query(&format!("DROP DATABASE `{name}`"))
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

/// Every way a write transaction can end early hands its connection back
/// outside the transaction: the migrator, a replayed or mismatched
/// idempotency key, an over-refund, a duplicate external_ref (a unique
/// violation inside the transaction) and a refused status change.
#[tokio::test]
async fn failed_transactions_leave_no_pooled_connection_inside_one() {
    for app in TestApp::all().await {
        let name = app.db.name;
        let store = &app.db.store;
        assert_eq!(store.migrate().await.unwrap(), 0, "{name}");
        assert_eq!(
            store.pooled_connections_in_transaction().await.unwrap(),
            0,
            "{name}: after the migrator"
        );

        let mut body = payment_body(500);
        body["external_ref"] = json!("ch_unique");
        assert_eq!(
            app.post("/api/v1/payments", body.clone(), "k").await.status,
            StatusCode::CREATED
        );
        // The same key again (replayed), with another body (422), and a new
        // key with the same external_ref (409 from the unique index).
        let replay = app.post("/api/v1/payments", body.clone(), "k").await;
        assert_eq!(replay.status, StatusCode::CREATED, "{name}");
        assert_eq!(replay.headers["idempotent-replayed"], "true", "{name}");
        let mismatch = app.post("/api/v1/payments", payment_body(501), "k").await;
        assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let duplicate = app.post("/api/v1/payments", body, "k2").await;
        assert_eq!(
            duplicate.status,
            StatusCode::CONFLICT,
            "{name}: {}",
            duplicate.text
        );

        let id = app.create(payment_body(1000)).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let refunds = format!("/api/v1/payments/{id}/refunds");
        let over = app.post(&refunds, json!({"amount": 1001}), "r1").await;
        assert_eq!(over.status, StatusCode::CONFLICT, "{name}: {}", over.text);
        let refused = app
            .patch(
                &format!("/api/v1/payments/{id}"),
                json!({"status": "pending"}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::CONFLICT,
            "{name}: {}",
            refused.text
        );

        assert_eq!(
            store.pooled_connections_in_transaction().await.unwrap(),
            0,
            "{name}: after the failed transactions"
        );
    }
    assert_eq!(
        payments::storage::released_in_transaction(),
        0,
        "a connection came back to a pool inside a transaction"
    );
}
