//! Connections to MySQL/MariaDB that the server drops: the store finds
//! them dead on use and carries on with fresh ones; while the server cannot
//! be reached at all, the API answers 503 quickly, and recovers with it.

mod common;
mod stripe_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::{TestApp, databases, payment_body};
use payments::domain::{Filter, ListRequest, NewPayment, PageFrom};
use payments::storage::accounts::Scope;
use payments::storage::payments::{Idempotent, RecordedResponse};
use payments::storage::{ConnectOptions, Store};
use sqlx::Connection;

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
        assert!(kill_all(&mut admin, &db.url).await > 0);
        // The next checkout finds the connection dead and opens one with the new URL.
        let tokens = store.list_tokens().await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].name, "lives-in-the-other-database");
    }
}

/// The database name in a MySQL URL.
fn database_of(url: &str) -> String {
    let path = url.rsplit('/').next().unwrap();
    path.split('?').next().unwrap().to_owned()
}

/// The ids of the server's connections to the database of `url`.
async fn connections_to(admin: &mut sqlx::MySqlConnection, url: &str) -> Vec<i64> {
    let ids: Vec<(i64,)> = sqlx::query_as(
        "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST WHERE DB = ?",
    )
    .bind(database_of(url))
    .fetch_all(&mut *admin)
    .await
    .unwrap();
    ids.into_iter().map(|(id,)| id).collect()
}

/// Kills every connection to the database of `url` and waits until the
/// server lists none of them; returns how many there were.
async fn kill_all(admin: &mut sqlx::MySqlConnection, url: &str) -> usize {
    let ids = connections_to(admin, url).await;
    for id in &ids {
        // One may end on its own meanwhile: then there is nothing to kill.
        let _ = sqlx::query(&format!("KILL CONNECTION {id}"))
            .execute(&mut *admin)
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while connections_to(admin, url)
        .await
        .iter()
        .any(|id| ids.contains(id))
    {
        assert!(
            Instant::now() < deadline,
            "the server kept a killed connection"
        );
        tokio::task::yield_now().await;
    }
    ids.len()
}

fn donation(amount: i64) -> NewPayment {
    NewPayment::from_json(serde_json::json!({
        "amount": amount, "currency": "USD", "method": "card",
        "payer": {"name": "Ada Reader", "email": "ada@example.org"},
    }))
    .unwrap()
}

async fn payment_count(store: &Store) -> usize {
    let req = ListRequest {
        filter: Filter::default(),
        limit: 100,
        from: PageFrom::Start,
    };
    store.list_payments(&req).await.unwrap().items.len()
}

/// Without a ping before each checkout, a connection the server dropped is
/// found by the statement that uses it: that statement runs once more on a
/// fresh connection, for the next read and for the next write alike, through
/// the store and through the API.
#[tokio::test]
async fn reads_and_writes_succeed_after_the_server_kills_every_connection() {
    let Some(server) = common::mysql_server_url() else {
        return;
    };
    let app = TestApp::new(common::mysql_db(&server).await).await;
    let store = &app.db.store;
    let mut admin = sqlx::MySqlConnection::connect(&server).await.unwrap();
    // Several pooled connections: reads at once.
    let (a, b, c) = tokio::join!(
        store.list_tokens(),
        store.list_tokens(),
        store.list_tokens()
    );
    for tokens in [a, b, c] {
        assert_eq!(tokens.unwrap().len(), 2);
    }

    assert!(kill_all(&mut admin, &app.db.url).await >= 2);
    let made = store
        .create_payment("test", None, &donation(500), |_| {
            RecordedResponse::default()
        })
        .await
        .unwrap();
    assert!(matches!(made, Idempotent::Done(_)), "{made:?}");

    assert!(kill_all(&mut admin, &app.db.url).await >= 1);
    assert_eq!(payment_count(store).await, 1, "the next read");

    assert!(kill_all(&mut admin, &app.db.url).await >= 1);
    let list = app.get("/api/v1/payments").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);

    assert!(kill_all(&mut admin, &app.db.url).await >= 1);
    let created = app
        .post("/api/v1/payments", payment_body(600), "after-kill")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(payment_count(store).await, 2, "one payment per write");

    assert!(kill_all(&mut admin, &app.db.url).await >= 1);
    store.ping().await.unwrap();
    assert_eq!(store.pooled_connections_in_transaction().await.unwrap(), 0);
}

/// A TCP relay between the store and the server that can be cut (every
/// relayed connection closed, new ones refused) and restored on its port.
struct Relay {
    addr: SocketAddr,
    target: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = probe.local_addr().unwrap();
        drop(probe);
        let mut relay = Relay {
            addr,
            target,
            task: None,
        };
        relay.restore();
        relay
    }

    fn restore(&mut self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(64).unwrap();
        let target = self.target.clone();
        self.task = Some(tokio::spawn(async move {
            // Dropped with this task: every relayed connection closes.
            let mut relayed = tokio::task::JoinSet::new();
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                let target = target.clone();
                relayed.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Closes every relayed connection and the listener (new connections
    /// are refused), and returns once they are closed.
    async fn cut(&mut self) {
        let task = self.task.take().unwrap();
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }
}

/// `url` with its host and port replaced by `addr`.
fn via(url: &str, addr: SocketAddr) -> String {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").unwrap() + 3, |i| i + 1);
    let end = start + url[start..].find('/').unwrap();
    format!("{}{addr}{}", &url[..start], &url[end..])
}

/// The host and port of a MySQL URL.
fn host_of(url: &str) -> String {
    let start = url
        .find('@')
        .map_or_else(|| url.find("://").unwrap() + 3, |i| i + 1);
    let end = start + url[start..].find('/').unwrap();
    url[start..end].to_owned()
}

/// While the server cannot be reached, reads and writes answer 503 problem
/// details within the pool's acquire timeout, not the request timeout; once
/// it is back, the next requests succeed without a restart.
#[tokio::test]
async fn an_unreachable_server_is_503_quickly_and_recovery_needs_no_restart() {
    let Some(server) = common::mysql_server_url() else {
        return;
    };
    let mut app = TestApp::new(common::mysql_db(&server).await).await;
    let mut relay = Relay::start(host_of(&server)).await;
    let relayed = Store::connect(&via(&app.db.url, relay.addr), &ConnectOptions::default())
        .await
        .unwrap();
    app.router = payments::http::router(common::state(relayed.clone()));
    assert_eq!(app.get("/api/v1/payments").await.status, StatusCode::OK);

    relay.cut().await;
    let quickly = |started: Instant, what: &str| {
        let waited = started.elapsed();
        assert!(
            waited < payments::storage::ACQUIRE_TIMEOUT * 2,
            "{what} with the database gone took {waited:?}"
        );
    };
    let started = Instant::now();
    app.get("/api/v1/payments").await.problem(503);
    quickly(started, "a read");
    let started = Instant::now();
    app.post("/api/v1/payments", payment_body(700), "while-down")
        .await
        .problem(503);
    quickly(started, "a write");
    let started = Instant::now();
    let r = app
        .call(axum::http::Method::GET, "/readyz", None, None, None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    quickly(started, "readiness");

    relay.restore();
    let created = app
        .post("/api/v1/payments", payment_body(700), "while-down")
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let list = app.get("/api/v1/payments").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json["data"].as_array().unwrap().len(), 1);
    relayed.close().await;
}

/// Stripe's webhook while the database cannot be reached: 503 (so Stripe
/// delivers again), and the redelivery after recovery records the event once.
#[tokio::test]
async fn a_webhook_while_the_database_is_down_is_503_and_its_redelivery_counts_once() {
    use stripe_support::*;
    let Some(server) = common::mysql_server_url() else {
        return;
    };
    let mut app = TestApp::new(common::mysql_db(&server).await).await;
    let mut relay = Relay::start(host_of(&server)).await;
    let relayed = Store::connect(&via(&app.db.url, relay.addr), &ConnectOptions::default())
        .await
        .unwrap();
    let fake = FakeStripe::start().await;
    let mut state = common::state(relayed.clone());
    state.stripe = Some(std::sync::Arc::new(stripe_config(&fake, WEBHOOK_SECRET)));
    app.router = payments::http::router(state);
    fake.put(payment_intent(
        "pi_down",
        2500,
        "usd",
        "succeeded",
        Some("ch_down"),
    ));
    fake.put(charge(
        "ch_down",
        "pi_down",
        2500,
        "usd",
        "card",
        Some("txn_down"),
    ));
    fake.put(balance_transaction(
        "txn_down",
        "ch_down",
        "charge",
        2500,
        103,
        "usd",
        now(),
    ));
    let session = checkout_session(
        "cs_down",
        "pi_down",
        2500,
        "usd",
        "paid",
        None,
        "a@example.org",
        None,
    );
    let body = serde_json::to_vec(&event(
        "evt_down",
        "checkout.session.completed",
        now(),
        false,
        session,
    ))
    .unwrap();
    let deliver = || {
        let request = axum::http::Request::builder()
            .method(axum::http::Method::POST)
            .uri("/webhooks/stripe")
            .header("stripe-signature", sign(WEBHOOK_SECRET, now(), &body))
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        app.send(request)
    };

    relay.cut().await;
    let r = deliver().await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    relay.restore();
    let r = deliver().await;
    assert_eq!(
        (r.status, r.json["outcome"].as_str()),
        (StatusCode::OK, Some("processed")),
        "{}",
        r.text
    );
    let r = deliver().await;
    assert_eq!(r.json["outcome"], "duplicate", "{}", r.text);
    let recorded = app
        .db
        .store
        .payment_by_external_ref("pi_down")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.amount, 2500);
    relayed.close().await;
}

/// A new connection whose login the server refuses (a credentials rotation
/// before the new password has been read) answers 503, which clients and
/// the load balancer retry, not 500.
#[tokio::test]
async fn refused_credentials_on_a_new_connection_are_503() {
    use sqlx::Connection;
    let Some(server) = common::mysql_server_url() else {
        return;
    };
    let mut app = TestApp::new(common::mysql_db(&server).await).await;
    let store = Store::connect(
        &app.db.url,
        &ConnectOptions {
            max_connections: 1,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap();
    app.router = payments::http::router(common::state(store.clone()));
    assert_eq!(app.get("/api/v1/payments").await.status, StatusCode::OK);
    let refused = format!(
        "mysql://nobody_here:wrong@{}/{}",
        host_of(&server),
        database_of(&app.db.url)
    );
    store.set_database_url(&refused).unwrap();
    let mut admin = sqlx::MySqlConnection::connect(&server).await.unwrap();
    kill_all(&mut admin, &app.db.url).await;
    let r = app.get("/api/v1/payments").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
    assert!(!r.text.contains("wrong"), "{}", r.text);
}
