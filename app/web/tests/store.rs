//! Storage behaviour on every available backend: migrations, concurrency,
//! secrets at rest, and rollups that agree with the rows they summarise.

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::Datelike;
use chrono::NaiveDate;
use common::{TestApp, databases, payment_body};
use payments::domain::{
    Currency, Filter, ListRequest, MinorUnits, NewRefund, PageFrom, PaymentPatch, RefundReason,
    Status, SummaryRequest,
};
use payments::storage::accounts::{Scope, hash_secret};
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

#[tokio::test]
async fn no_secret_is_stored_in_plain_text() {
    for db in databases().await {
        let (token, secret) = token_and_user(&db.store, Scope::Write).await;
        assert!(secret.starts_with("pmt_") && secret.len() > 60);
        // Read every stored column of both tables back as text.
        let dump = dump_tables(&db.url).await;
        assert!(!dump.contains(&secret), "{}: token secret stored", db.name);
        assert!(
            !dump.contains(&secret["pmt_".len()..]),
            "{}: token secret stored",
            db.name
        );
        assert!(
            dump.contains(&hash_secret(&secret)),
            "{}: the hash is what is kept",
            db.name
        );
        assert!(
            !dump.contains("a long enough password"),
            "{}: password stored",
            db.name
        );
        assert!(dump.contains("$argon2id$"), "{}", db.name);
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_some()
        );
        db.store.revoke_token("test", &token.id).await.unwrap();
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_none(),
            "{}: revoked",
            db.name
        );
    }
}

/// A token named "ci" with `scope` and a viewer staff@example.org; returns
/// the token and its secret.
async fn token_and_user(store: &Store, scope: Scope) -> (payments::domain::Token, String) {
    let (token, secret) = store.create_token("test", "ci", scope).await.unwrap();
    let hash = payments::passwords::hash_password("a long enough password").unwrap();
    store
        .create_user(
            "test",
            "staff@example.org",
            payments::domain::Role::Viewer,
            &hash,
        )
        .await
        .unwrap();
    (token, secret)
}

/// Runs one statement on the test database, outside the store.
async fn execute_raw(url: &str, sql: &str) {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::MySqlPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

/// A scope or role the code does not know (written by a newer version, or by
/// hand) is an error, never quietly the weakest or the strongest one.
#[tokio::test]
async fn unknown_stored_scopes_and_roles_are_errors() {
    for db in databases().await {
        let (token, secret) = token_and_user(&db.store, Scope::Read).await;
        execute_raw(
            &db.url,
            &format!(
                "UPDATE api_tokens SET scope = 'admin' WHERE id = '{}'",
                token.id
            ),
        )
        .await;
        execute_raw(&db.url, "UPDATE users SET role = 'owner'").await;
        let authenticated = db.store.authenticate_token(&secret).await;
        assert!(
            matches!(authenticated, Err(StoreError::Corrupt(_))),
            "{}: {authenticated:?}",
            db.name
        );
        assert!(
            matches!(db.store.list_tokens().await, Err(StoreError::Corrupt(_))),
            "{}",
            db.name
        );
        let user = db.store.user_by_email("staff@example.org").await;
        assert!(
            matches!(user, Err(StoreError::Corrupt(_))),
            "{}: {user:?}",
            db.name
        );
    }
}

async fn dump_tables(url: &str) -> String {
    let query = "SELECT id, name, scope, secret_hash FROM api_tokens UNION ALL SELECT id, email, role, password_hash FROM users";
    let rows: Vec<(String, String, String, String)> = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as(query).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::MySqlPool::connect(url).await.unwrap();
        // CAST keeps binary-collation columns readable as text.
        sqlx::query_as(
            "SELECT CAST(id AS CHAR), CAST(name AS CHAR), CAST(scope AS CHAR), CAST(secret_hash AS CHAR) FROM api_tokens \
             UNION ALL SELECT CAST(id AS CHAR), CAST(email AS CHAR), CAST(role AS CHAR), CAST(password_hash AS CHAR) FROM users",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    rows.iter()
        .map(|r| format!("{} {} {} {}\n", r.0, r.1, r.2, r.3))
        .collect()
}

/// Totals recomputed from the rows themselves, as an oracle for the rollups.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    count: i64,
    gross: i64,
    refunded: i64,
    by_status: BTreeMap<String, (i64, i64)>,
    by_method: BTreeMap<String, (i64, i64, i64)>,
    by_campaign: BTreeMap<String, (i64, i64, i64)>,
    daily_gross: BTreeMap<NaiveDate, i64>,
    daily_refunded: BTreeMap<NaiveDate, i64>,
}

async fn recompute(store: &Store, currency: &str) -> Expected {
    let mut e = Expected::default();
    let mut from = PageFrom::Start;
    loop {
        let req = ListRequest {
            filter: Filter {
                currency: Some(Currency::parse(currency).unwrap()),
                ..Filter::default()
            },
            limit: 100,
            from,
        };
        let page = store.list_payments(&req).await.unwrap();
        for p in &page.items {
            let day = p.created_at.to_datetime().date_naive();
            let campaign = p.campaign.clone().unwrap_or_else(|| "(none)".into());
            let s = e.by_status.entry(p.status.as_str().into()).or_default();
            s.0 += 1;
            s.1 += p.amount;
            if p.status.is_captured() {
                e.count += 1;
                e.gross += p.amount;
                *e.daily_gross.entry(day).or_default() += p.amount;
                let m = e.by_method.entry(p.method.as_str().into()).or_default();
                m.0 += 1;
                m.1 += p.amount;
                let c = e.by_campaign.entry(campaign.clone()).or_default();
                c.0 += 1;
                c.1 += p.amount;
            }
            if p.amount_refunded > 0 {
                for r in store.refunds(&p.id).await.unwrap() {
                    e.refunded += r.amount;
                    *e.daily_refunded
                        .entry(r.created_at.to_datetime().date_naive())
                        .or_default() += r.amount;
                    e.by_method.entry(p.method.as_str().into()).or_default().2 += r.amount;
                    e.by_campaign.entry(campaign.clone()).or_default().2 += r.amount;
                }
            }
        }
        match (page.has_more, page.items.last()) {
            (true, Some(last)) => {
                from = PageFrom::After(payments::domain::Cursor {
                    created_at: last.created_at.0,
                    id: last.id.clone(),
                })
            }
            _ => break,
        }
    }
    e
}

/// One batch spread over years touches more rollup rows than one statement
/// may carry placeholders for (SQLite 32,766, MySQL 65,535): it must still
/// load, and the rollups must still add up.
#[tokio::test]
async fn a_batch_over_many_days_loads_and_adds_up() {
    for db in databases().await {
        let store = &db.store;
        let report = payments::seed::seed_in_batches(store, 8000, 5, 3000, 8000)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", db.name));
        assert_eq!(report.payments, 8000);
        let expected = recompute(store, "USD").await;
        let today = chrono::Utc::now().date_naive();
        let s = store
            .summary(&SummaryRequest {
                currency: Currency::USD,
                from: today - chrono::Days::new(3000),
                to: today,
            })
            .await
            .unwrap();
        assert_eq!(
            (s.count, s.gross, s.refunded),
            (expected.count, expected.gross, expected.refunded),
            "{}",
            db.name
        );
    }
}

#[tokio::test]
async fn rollups_agree_with_the_rows_after_seeding_and_writes() {
    for db in databases().await {
        let store = &db.store;
        // Three batches, two of them in flight at once; SQLite splits each
        // into two statements (at most 32,766 placeholders per statement).
        let report = payments::seed::seed_in_batches(store, 6000, 11, 60, 2500)
            .await
            .unwrap();
        assert_eq!(report.payments, 6000);
        assert!(report.refunds > 0, "{}: some refunds", db.name);
        // Writes through the normal paths on top of the seeded data.
        let page = store
            .list_payments(&ListRequest {
                filter: Filter {
                    status: Some(Status::Pending),
                    ..Filter::default()
                },
                limit: 10,
                from: PageFrom::Start,
            })
            .await
            .unwrap();
        for (i, p) in page.items.iter().enumerate() {
            let to = if i % 2 == 0 {
                Status::Succeeded
            } else {
                Status::Failed
            };
            store
                .update_payment(
                    "test",
                    &p.id,
                    &PaymentPatch {
                        status: Some(to),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
        }
        let page = store
            .list_payments(&ListRequest {
                filter: Filter {
                    status: Some(Status::Succeeded),
                    ..Filter::default()
                },
                limit: 20,
                from: PageFrom::Start,
            })
            .await
            .unwrap();
        for (i, p) in page.items.iter().enumerate() {
            let amount = if i % 3 == 0 {
                None
            } else {
                Some(1.max(p.amount / 3))
            };
            store
                .refund_payment(
                    "test",
                    None,
                    &p.id,
                    &NewRefund {
                        amount: amount.map(|a| MinorUnits::new(a).unwrap()),
                        reason: Some(RefundReason::Other),
                    },
                    |_| (201, String::new()),
                )
                .await
                .unwrap();
        }
        for currency in ["USD", "EUR"] {
            let expected = recompute(store, currency).await;
            let today = chrono::Utc::now().date_naive();
            let from = today - chrono::Days::new(70);
            let s = store
                .summary(&SummaryRequest {
                    currency: Currency::parse(currency).unwrap(),
                    from,
                    to: today,
                })
                .await
                .unwrap();
            assert_eq!(
                (s.count, s.gross, s.refunded),
                (expected.count, expected.gross, expected.refunded),
                "{} {currency}",
                db.name
            );
            assert_eq!(s.net, s.gross - s.refunded);
            // The per-currency totals (the dashboard's month cards) agree,
            // whether the range is whole months, part of one, or both.
            let codes = vec!["USD".to_owned(), "EUR".to_owned(), "JPY".to_owned()];
            let totals = store.totals_by_currency(&codes, from, today).await.unwrap();
            assert_eq!(
                totals.get(currency).copied().unwrap_or_default(),
                (s.count, s.gross, s.refunded),
                "{} {currency} totals_by_currency",
                db.name
            );
            let month_start = today.with_day(1).unwrap();
            let last_month_start = (month_start - chrono::Days::new(1)).with_day(1).unwrap();
            let whole = store
                .summary(&SummaryRequest {
                    currency: Currency::parse(currency).unwrap(),
                    from: last_month_start,
                    to: month_start - chrono::Days::new(1),
                })
                .await
                .unwrap();
            let totals = store
                .totals_by_currency(&codes, last_month_start, month_start - chrono::Days::new(1))
                .await
                .unwrap();
            assert_eq!(
                totals.get(currency).copied().unwrap_or_default(),
                (whole.count, whole.gross, whole.refunded),
                "{} {currency} last month",
                db.name
            );
            let by_status: BTreeMap<String, (i64, i64)> = s
                .by_status
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross)))
                .collect();
            assert_eq!(
                by_status, expected.by_status,
                "{} {currency} by_status",
                db.name
            );
            let by_method: BTreeMap<String, (i64, i64, i64)> = s
                .by_method
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross, b.refunded)))
                .collect();
            assert_eq!(
                by_method, expected.by_method,
                "{} {currency} by_method",
                db.name
            );
            let by_campaign: BTreeMap<String, (i64, i64, i64)> = s
                .by_campaign
                .iter()
                .map(|(k, b)| (k.clone(), (b.count, b.gross, b.refunded)))
                .collect();
            assert_eq!(
                by_campaign, expected.by_campaign,
                "{} {currency} by_campaign",
                db.name
            );
            assert_eq!(s.daily.len(), 71);
            for d in &s.daily {
                assert_eq!(
                    d.gross,
                    expected.daily_gross.get(&d.date).copied().unwrap_or(0),
                    "{} {}",
                    db.name,
                    d.date
                );
                assert_eq!(
                    d.refunded,
                    expected.daily_refunded.get(&d.date).copied().unwrap_or(0),
                    "{} {}",
                    db.name,
                    d.date
                );
            }
        }
    }
}

#[tokio::test]
async fn a_changed_database_url_is_used_for_new_connections() {
    for db in databases().await {
        if db.name == "sqlite" {
            assert!(
                db.store.set_database_url("sqlite://elsewhere.db").is_err(),
                "SQLite keeps its file"
            );
            continue;
        }
        use sqlx::Connection;
        let server = common::mysql_server_url().unwrap();
        // A second database, as if the credentials had changed.
        let other = common::mysql_db(&server).await;
        other
            .store
            .create_token("test", "lives-in-the-other-database", Scope::Read)
            .await
            .unwrap();
        let store = Store::connect(
            &db.url,
            &ConnectOptions {
                max_connections: 1,
                ..ConnectOptions::default()
            },
        )
        .await
        .unwrap();
        assert!(store.list_tokens().await.unwrap().is_empty());
        assert!(store.set_database_url("mysql://[bad").is_err());
        store.set_database_url(&other.url).unwrap();
        // The pooled connection stays until it dies: the server drops it here.
        let mut admin = sqlx::MySqlConnection::connect(&server).await.unwrap();
        let this = db
            .url
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_owned();
        let ids: Vec<(i64,)> = sqlx::query_as(
            "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ?",
        )
        .bind(&this)
        .fetch_all(&mut admin)
        .await
        .unwrap();
        assert!(!ids.is_empty());
        for (id,) in ids {
            let _ = sqlx::query(&format!("KILL {id}")).execute(&mut admin).await;
        }
        // The next checkout finds the connection dead and opens one with the new URL.
        let tokens = store.list_tokens().await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].name, "lives-in-the-other-database");
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

/// Two replicas on one database: a token revoked through one is refused by
/// the other within the cache's bound (and by the first at once), so a
/// revocation takes effect everywhere within a second.
#[tokio::test]
async fn a_revoked_token_is_refused_by_every_replica_within_the_bound() {
    for db in databases().await {
        let other = Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap();
        let (token, secret) = db
            .store
            .create_token("test", "shared", Scope::Read)
            .await
            .unwrap();
        // Both replicas have just read (and cached) it.
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_some()
        );
        assert!(other.authenticate_token(&secret).await.unwrap().is_some());
        db.store.revoke_token("test", &token.id).await.unwrap();
        let revoked = std::time::Instant::now();
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_none(),
            "{}: the revoking replica still accepts it",
            db.name
        );
        while other.authenticate_token(&secret).await.unwrap().is_some() {
            assert!(
                revoked.elapsed() <= payments::storage::TOKEN_CACHE_TTL,
                "{}: the other replica still accepts it after {:?}",
                db.name,
                revoked.elapsed()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(payments::storage::TOKEN_CACHE_TTL <= std::time::Duration::from_secs(1));
        other.close().await;
    }
}
