//! Shared test fixtures: a fresh database per test on every available
//! backend (SQLite always; MySQL/MariaDB when PAYMENTS_TEST_MYSQL_URL is set),
//! and an in-process API client.
#![allow(dead_code)]

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use payments::http::{AppState, router};
use payments::server::ServeConfig;
use payments::storage::accounts::Scope;
use payments::storage::{ConnectOptions, Store};
use serde_json::Value;
use tower::ServiceExt;

/// A fresh, migrated database that is removed when dropped.
pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    pub store: Store,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    MySql {
        server_url: String,
        database: String,
    },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::MySql {
            server_url,
            database,
        } = &self.cleanup
        {
            let (server_url, database) = (server_url.clone(), database.clone());
            // Drop runs outside async code: use a runtime on its own thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use sqlx::Connection;
                    if let Ok(mut c) = sqlx::MySqlConnection::connect(&server_url).await {
                        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS `{database}`"))
                            .execute(&mut c)
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub fn mysql_server_url() -> Option<String> {
    std::env::var("PAYMENTS_TEST_MYSQL_URL")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Replaces the database name in a MySQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

pub async fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("test.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    TestDb {
        name: "sqlite",
        url,
        store,
        cleanup: Cleanup::Dir(dir),
    }
}

pub async fn mysql_db(server_url: &str) -> TestDb {
    let db = empty_mysql_db(server_url).await;
    db.store.migrate().await.unwrap();
    db
}

/// A new, empty MySQL/MariaDB database (not migrated), dropped with the value.
pub async fn empty_mysql_db(server_url: &str) -> TestDb {
    use sqlx::Connection;
    let database = format!("payments_test_{}", uuid::Uuid::now_v7().simple());
    let mut conn = sqlx::MySqlConnection::connect(server_url)
        .await
        .expect("PAYMENTS_TEST_MYSQL_URL is set but the server cannot be reached");
    sqlx::query(&format!(
        "CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let url = with_database(server_url, &database);
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    TestDb {
        name: "mysql",
        url,
        store,
        cleanup: Cleanup::MySql {
            server_url: server_url.to_owned(),
            database,
        },
    }
}

/// One fresh database per available backend.
/// `make` run on a fresh database of every available backend.
pub async fn on_every_backend<T, F, Fut>(make: F) -> Vec<T>
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut all = Vec::new();
    for db in databases().await {
        all.push(make(db).await);
    }
    all
}

pub async fn databases() -> Vec<TestDb> {
    if std::env::var_os("TEST_LOG").is_some() {
        payments::telemetry::init_logging(payments::telemetry::LogFormat::Text);
    }
    let mut dbs = vec![sqlite_db().await];
    if let Some(url) = mysql_server_url() {
        dbs.push(mysql_db(&url).await);
    }
    dbs
}

/// The router over a test database, with a write and a read token.
pub struct TestApp {
    pub db: TestDb,
    pub router: Router,
    pub write_token: String,
    pub read_token: String,
}

pub fn state(store: Store) -> AppState {
    let config = ServeConfig::default();
    AppState {
        store,
        draining: Default::default(),
        metrics: payments::telemetry::metrics_handle(),
        max_connections: config.max_connections,
        trust_proxy: false,
        request_timeout: config.request_timeout,
        cookie_key: payments::http::dashboard::session::cookie_key(
            secrecy::ExposeSecret::expose_secret(&config.session_key).as_bytes(),
        ),
        login_limiter: Default::default(),
        instance: config.instance_id.clone(),
        stripe: None,
        public_url: config.public_url.clone().into(),
        donations: std::sync::Arc::new(config.donations.clone()),
        donate_limiter: std::sync::Arc::new(payments::http::public::RateLimiter::per_minute(
            config.donations.forms_per_minute,
        )),
    }
}

impl TestApp {
    pub async fn new(db: TestDb) -> TestApp {
        let (_, write_token) = db
            .store
            .create_token("test", "writer", Scope::Write)
            .await
            .unwrap();
        let (_, read_token) = db
            .store
            .create_token("test", "reader", Scope::Read)
            .await
            .unwrap();
        let router = router(state(db.store.clone()));
        TestApp {
            db,
            router,
            write_token,
            read_token,
        }
    }

    pub async fn sqlite() -> TestApp {
        TestApp::new(sqlite_db().await).await
    }

    pub async fn all() -> Vec<TestApp> {
        on_every_backend(TestApp::new).await
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            text,
            json,
        }
    }

    /// A request with the write token and a JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        key: Option<&str>,
    ) -> Response {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(req.body(body).unwrap()).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(
            Method::GET,
            path,
            Some(&self.read_token.clone()),
            None,
            None,
        )
        .await
    }

    pub async fn post(&self, path: &str, body: Value, key: &str) -> Response {
        self.call(
            Method::POST,
            path,
            Some(&self.write_token.clone()),
            Some(body),
            Some(key),
        )
        .await
    }

    /// A POST with the write token and this exact body text (the bytes are
    /// sent as written, key order and whitespace included).
    pub async fn post_raw(&self, path: &str, body: &str, key: &str) -> Response {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.write_token))
            .header("idempotency-key", key)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.call(
            Method::PATCH,
            path,
            Some(&self.write_token.clone()),
            Some(body),
            None,
        )
        .await
    }

    /// Creates a payment and returns its JSON.
    pub async fn create(&self, body: Value) -> Value {
        let r = self
            .post("/api/v1/payments", body, &uuid::Uuid::now_v7().to_string())
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "{}: {}",
            self.db.name,
            r.text
        );
        r.json
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status; returns the error fields.
    pub fn problem(&self, status: u16) -> Vec<String> {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        for key in ["type", "title", "status", "detail"] {
            assert!(
                self.json.get(key).is_some(),
                "problem lacks {key}: {}",
                self.text
            );
        }
        assert_eq!(self.json["status"], status);
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub fn payment_body(amount: i64) -> Value {
    serde_json::json!({
        "amount": amount,
        "currency": "USD",
        "method": "card",
        "payer": {"name": "Ada Reader", "email": "ada@example.org"},
        "campaign": "2026-year-end",
    })
}
