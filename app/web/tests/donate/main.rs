//! The public donation pages against the local fake Stripe API: the form
//! and what it asks Checkout for, its refusals (fields, CSRF, rate limit,
//! Stripe refusing or down), the thanks page, and the fake's own Checkout
//! Sessions. Nothing here may write to the database.

#[path = "../common/mod.rs"]
mod common;
#[path = "../dashboard_support/mod.rs"]
mod dashboard_support;
#[path = "../stripe_support/harness.rs"]
mod harness;
#[path = "../process/mod.rs"]
mod process;
#[path = "../stripe_support/mod.rs"]
mod stripe_support;

mod campaign;
mod config;
mod fake;
mod form;
mod journey;
mod submit;
mod thanks;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Response, TestApp, TestDb};
use harness::Harness;
use stripe_support::*;

/// The form as a browser has it after `GET /donate`: its cookie and hidden fields.
#[derive(Clone, Debug)]
pub struct Page {
    pub cookie: String,
    pub csrf: String,
    pub nonce: String,
    pub html: String,
}

impl Harness {
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Response {
        get(&self.app, path, cookie).await
    }

    /// `GET /donate` as a browser without cookies loads it.
    pub async fn page(&self) -> Page {
        load_page(&self.app, "/donate").await
    }

    /// `POST /donate` with this body and cookie.
    pub async fn post(&self, body: &str, cookie: Option<&str>) -> Response {
        post(&self.app, body, cookie).await
    }

    /// The Checkout Session creations the fake received.
    pub fn creations(&self) -> Vec<Recorded> {
        self.fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path == "/v1/checkout/sessions")
            .collect()
    }
}

pub async fn get(app: &TestApp, path: &str, cookie: Option<&str>) -> Response {
    let mut req = Request::builder().method(Method::GET).uri(path);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.send(req.body(Body::empty()).unwrap()).await
}

pub async fn post(app: &TestApp, body: &str, cookie: Option<&str>) -> Response {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/donate")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    app.send(req.body(Body::from(body.to_owned())).unwrap())
        .await
}

pub async fn load_page(app: &TestApp, path: &str) -> Page {
    let r = get(app, path, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r
        .header("set-cookie")
        .expect("the form sets its CSRF cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("payments_donate="), "{cookie}");
    Page {
        cookie,
        csrf: hidden(&r.text, "csrf"),
        nonce: hidden(&r.text, "nonce"),
        html: r.text,
    }
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name} in the page"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

impl Page {
    /// A form body: the page's CSRF token and nonce, then `fields`.
    pub fn body(&self, fields: &[(&str, &str)]) -> String {
        let mut pairs = vec![("csrf", self.csrf.as_str()), ("nonce", self.nonce.as_str())];
        pairs.extend_from_slice(fields);
        serde_urlencoded::to_string(&pairs).unwrap()
    }
}

/// Rows in every table of the database: what "nothing was recorded" means.
pub async fn row_counts(db: &TestDb) -> BTreeMap<String, i64> {
    use sqlx::{Connection, Row};
    let mut counts = BTreeMap::new();
    if db.name == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        let tables: Vec<String> = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        for t in tables {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM \"{t}\""))
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get(0);
            counts.insert(t, n);
        }
    } else {
        let mut c = sqlx::MySqlConnection::connect(&db.url).await.unwrap();
        let tables: Vec<String> = sqlx::query(
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE()",
        )
        .fetch_all(&mut c)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
        for t in tables {
            let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM `{t}`"))
                .fetch_one(&mut c)
                .await
                .unwrap()
                .get(0);
            counts.insert(t, n);
        }
    }
    assert!(counts.contains_key("payments"), "{counts:?}");
    counts
}
