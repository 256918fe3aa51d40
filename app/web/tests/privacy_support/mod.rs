//! Support for `tests/privacy.rs`: an application whose Stripe is the fake,
//! Stripe objects for a reader's gifts and membership, and raw reads of the
//! whole database (every text column of every table, every rollup row).
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use payments::storage::text::Text;
use serde_json::{Value, json};

use crate::common::{self, TestApp, TestDb};
use crate::stripe_support::*;

/// The application with the fake Stripe as its processor.
pub struct Setup {
    pub app: TestApp,
    pub fake: FakeStripe,
    pub stripe: payments::stripe::Stripe,
}

impl Setup {
    pub async fn new(db: TestDb) -> Setup {
        let fake = FakeStripe::start().await;
        let stripe = stripe_config(&fake, WEBHOOK_SECRET);
        let mut app = TestApp::new(db).await;
        let mut state = common::state(app.db.store.clone());
        state.stripe = Some(Arc::new(stripe.clone()));
        app.router = payments::http::router(state);
        Setup { app, fake, stripe }
    }

    pub async fn all() -> Vec<Setup> {
        common::on_every_backend(Setup::new).await
    }

    pub fn name(&self) -> &'static str {
        self.app.db.name
    }

    /// Delivers `object` in an event of `kind` to the webhook, signed, and
    /// expects it processed.
    pub async fn deliver(&self, id: &str, kind: &str, object: Value) {
        let body = serde_json::to_vec(&event(id, kind, now(), false, object)).unwrap();
        let request = Request::builder()
            .method(Method::POST)
            .uri("/webhooks/stripe")
            .header("content-type", "application/json")
            .header("stripe-signature", sign(WEBHOOK_SECRET, now(), &body))
            .body(Body::from(body))
            .unwrap();
        let r = self.app.send(request).await;
        assert_eq!(
            (r.status.as_u16(), r.json["outcome"].as_str()),
            (200, Some("processed")),
            "{}: {kind} {id}: {}",
            self.name(),
            r.text
        );
    }

    /// A succeeded card PaymentIntent at the fake, created now, with its
    /// charge and fee.
    pub fn put_payment(&self, pi: &str, amount: i64) {
        let (ch, txn) = (format!("ch_{pi}"), format!("txn_{pi}"));
        let mut intent = payment_intent(pi, amount, "usd", "succeeded", Some(&ch));
        intent["created"] = json!(now());
        self.fake.put(intent);
        self.fake
            .put(charge(&ch, pi, amount, "usd", "card", Some(&txn)));
        self.fake.put(balance_transaction(
            &txn,
            &ch,
            "charge",
            amount,
            amount / 30,
            "usd",
            now(),
        ));
    }

    /// A one-time gift through Checkout: its PaymentIntent at the fake and
    /// the `checkout.session.completed` event.
    pub async fn checkout_gift(&self, tag: &str, amount: i64, name: &str, email: &str) {
        let pi = format!("pi_{tag}");
        self.put_payment(&pi, amount);
        let mut session = checkout_session(
            &format!("cs_{tag}"),
            &pi,
            amount,
            "usd",
            "paid",
            Some(name),
            email,
            Some("2026-year-end"),
        );
        session["created"] = json!(now());
        self.deliver(
            &format!("evt_cs_{tag}"),
            "checkout.session.completed",
            session,
        )
        .await;
    }

    /// A membership's subscription at the fake in `status`, and one paid
    /// invoice of it (`invoice.paid`).
    pub async fn member_gift(
        &self,
        sub: &str,
        status: &str,
        tag: &str,
        amount: i64,
        name: &str,
        email: &str,
    ) {
        self.fake.put(subscription(
            sub,
            &format!("cus_{sub}"),
            status,
            amount,
            "usd",
            "month",
            now() + 86_400 * 30,
        ));
        let pi = format!("pi_{tag}");
        self.put_payment(&pi, amount);
        let mut inv = invoice(
            &format!("in_{tag}"),
            sub,
            Some(&pi),
            amount,
            "usd",
            email,
            name,
        );
        inv["created"] = json!(now());
        self.deliver(&format!("evt_in_{tag}"), "invoice.paid", inv)
            .await;
    }
}

/// Direct access to the test database, for what no API shows.
pub enum Raw {
    Sqlite(sqlx::SqlitePool),
    MySql(sqlx::MySqlPool),
}

type RollupRow = (Text, Text, Text, Text, i64, i64, i64);

impl Raw {
    pub async fn open(db: &TestDb) -> Raw {
        match db.name {
            "sqlite" => Raw::Sqlite(sqlx::SqlitePool::connect(&db.url).await.unwrap()),
            _ => Raw::MySql(sqlx::MySqlPool::connect(&db.url).await.unwrap()),
        }
    }

    /// Every (table, column) that can hold text: all columns on SQLite
    /// (any may hold text), the character columns on MySQL.
    pub async fn text_columns(&self) -> Vec<(String, String)> {
        match self {
            Raw::Sqlite(pool) => {
                let tables: Vec<(Text,)> =
                    sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                        .fetch_all(pool)
                        .await
                        .unwrap();
                let mut out = Vec::new();
                for (table,) in tables {
                    let columns: Vec<(Text,)> =
                        sqlx::query_as("SELECT name FROM pragma_table_info(?)")
                            .bind(&table.0)
                            .fetch_all(pool)
                            .await
                            .unwrap();
                    out.extend(columns.into_iter().map(|(c,)| (table.0.clone(), c.0)));
                }
                out
            }
            Raw::MySql(pool) => {
                let rows: Vec<(Text, Text)> = sqlx::query_as(
                    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN \
                     ('char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'json')",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                rows.into_iter().map(|(t, c)| (t.0, c.0)).collect()
            }
        }
    }

    /// The (table, column, count) of every text column holding `needle`,
    /// compared without case.
    pub async fn find(&self, needle: &str) -> Vec<(String, String, i64)> {
        let pattern = format!("%{}%", needle.to_lowercase());
        let mut found = Vec::new();
        for (table, column) in self.text_columns().await {
            let n: i64 = match self {
                Raw::Sqlite(pool) => sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM \"{table}\" WHERE lower(CAST(\"{column}\" AS TEXT)) LIKE ?"
                ))
                .bind(&pattern)
                .fetch_one(pool)
                .await
                .unwrap(),
                Raw::MySql(pool) => sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM `{table}` WHERE LOWER(`{column}`) LIKE ?"
                ))
                .bind(&pattern)
                .fetch_one(pool)
                .await
                .unwrap(),
            };
            if n > 0 {
                found.push((table, column, n));
            }
        }
        found
    }

    /// Every daily and monthly rollup row, in key order.
    pub async fn rollups(&self) -> Vec<RollupRow> {
        let mut rows = Vec::new();
        for (table, period) in [("daily_rollups", "day"), ("monthly_rollups", "month")] {
            let sql = format!(
                "SELECT currency, dimension, {period}, value, count, gross, refunded FROM {table} \
                 ORDER BY currency, dimension, {period}, value"
            );
            let part: Vec<RollupRow> = match self {
                Raw::Sqlite(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
                Raw::MySql(pool) => sqlx::query_as(&sql).fetch_all(pool).await.unwrap(),
            };
            rows.extend(part);
        }
        rows
    }

    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Raw::MySql(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }

    /// The `details` of every audit entry with this action.
    pub async fn audit_details(&self, action: &str) -> Vec<(String, Value)> {
        let sql = "SELECT subject, details FROM audit_log WHERE action = ? ORDER BY id";
        let rows: Vec<(Text, Text)> = match self {
            Raw::Sqlite(pool) => sqlx::query_as(sql).bind(action).fetch_all(pool).await,
            Raw::MySql(pool) => sqlx::query_as(sql).bind(action).fetch_all(pool).await,
        }
        .unwrap();
        rows.into_iter()
            .map(|(s, d)| (s.0, serde_json::from_str(&d).unwrap()))
            .collect()
    }

    pub async fn close(self) {
        match self {
            Raw::Sqlite(pool) => pool.close().await,
            Raw::MySql(pool) => pool.close().await,
        }
    }
}

/// The summary of every currency over every day that has a rollup row, to
/// today, as the API answers it (text, byte for byte).
pub async fn summaries(app: &TestApp, rollups: &[RollupRow]) -> Vec<String> {
    let mut currencies: Vec<&str> = rollups.iter().map(|r| r.0.0.as_str()).collect();
    currencies.sort();
    currencies.dedup();
    let today = chrono::Utc::now().date_naive();
    let first = rollups
        .iter()
        .filter_map(|r| chrono::NaiveDate::parse_from_str(&r.2.0, "%Y-%m-%d").ok())
        .min()
        .unwrap_or(today);
    let mut out = Vec::new();
    for currency in currencies {
        let mut from = first;
        while from <= today {
            let to = (from + chrono::Days::new(3000)).min(today);
            let r = app
                .get(&format!(
                    "/api/v1/summary?from={from}&to={to}&currency={currency}"
                ))
                .await;
            assert_eq!(r.status.as_u16(), 200, "{}", r.text);
            out.push(r.text);
            from = to + chrono::Days::new(1);
        }
    }
    out
}
