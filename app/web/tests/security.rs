//! Security properties across the whole router: no anonymous access beyond
//! the public routes, and no SQL injection through any filter.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, payment_body};
use serde_json::json;

/// Routes anyone may call, and why.
const PUBLIC: &[(&str, &str)] = &[
    ("GET", "/login"),               // the login form
    ("POST", "/login"),              // logging in (CSRF-protected, rate-limited)
    ("GET", "/healthz"),             // liveness for the orchestrator
    ("GET", "/readyz"),              // readiness for load balancers
    ("GET", "/api/v1/openapi.json"), // the public API description
    ("GET", "/static/app.css"),      // the stylesheet the login page needs; no data
    ("POST", "/webhooks/stripe"),    // Stripe's events, authenticated by their signature
    ("GET", "/donate"),              // the public donation form
    ("POST", "/donate"),             // giving (CSRF-protected, rate-limited, stores nothing)
    ("GET", "/donate/thanks"),       // where Checkout returns the reader; a masked email at most
    ("GET", "/static/donate.css"),   // the public pages' stylesheet; no data
    ("GET", "/static/donate.js"),    // the donation form's optional script; no data
];

#[tokio::test]
async fn every_route_refuses_anonymous_access_except_the_public_ones() {
    let app = TestApp::sqlite().await;
    let table = payments::http::route_table();
    assert!(table.len() >= 22, "the table lists every route: {table:?}");
    for (method, path) in &table {
        let concrete = path.replace("{id}", "pay_0123");
        let mut req = Request::builder().method(method.clone()).uri(&concrete);
        let body = if *method == Method::GET {
            Body::empty()
        } else if path.starts_with("/api/") {
            req = req
                .header("content-type", "application/json")
                .header("idempotency-key", "anon");
            Body::from(payment_body(100).to_string())
        } else {
            req = req.header("content-type", "application/x-www-form-urlencoded");
            Body::from(
                "csrf=x&email=a%40example.org&password=x&amount=1&reason=other&name=x&scope=write",
            )
        };
        let r = app.send(req.body(body).unwrap()).await;
        let public = PUBLIC
            .iter()
            .any(|(m, p)| *m == method.as_str() && p == path);
        if public {
            assert_ne!(r.status, StatusCode::UNAUTHORIZED, "{method} {path}");
            assert!(
                r.header("location") != Some("/login") || *path == "/login",
                "{method} {path}"
            );
            continue;
        }
        if path.starts_with("/api/") || *path == "/metrics" {
            assert_eq!(
                r.status,
                StatusCode::UNAUTHORIZED,
                "{method} {path}: {}",
                r.text
            );
            assert!(r.header("www-authenticate").is_some(), "{method} {path}");
        } else {
            assert_eq!(r.status, StatusCode::SEE_OTHER, "{method} {path}");
            assert_eq!(r.header("location"), Some("/login"), "{method} {path}");
        }
    }
    // Every public route is in the table (the allow-list cannot go stale).
    for (m, p) in PUBLIC {
        assert!(
            table.iter().any(|(tm, tp)| tm.as_str() == *m && tp == p),
            "{m} {p} is not a route"
        );
    }
}

const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "' OR 1=1 --",
    "\" OR \"\"=\"",
    "%' OR 1=1 #",
    "1; DROP TABLE payments; --",
    "') UNION SELECT id, amount FROM payments --",
    "\\",
    "%",
    "_",
    "pay_' OR id LIKE '%",
];

const FILTERS: &[&str] = &[
    "q",
    "status",
    "method",
    "currency",
    "campaign",
    "created_gte",
    "created_lt",
    "amount_gte",
    "amount_lte",
    "limit",
    "starting_after",
    "ending_before",
];

#[tokio::test]
async fn sql_injection_in_filters_neither_errors_nor_widens() {
    for app in TestApp::all().await {
        for i in 0..5 {
            app.create(payment_body(100 + i)).await;
        }
        let baseline = app.get("/api/v1/summary").await.json;
        assert_eq!(baseline["count"], 5, "{baseline}");
        for filter in FILTERS {
            for payload in INJECTIONS {
                let query = serde_urlencoded::to_string([(filter, payload)]).unwrap();
                let r = app.get(&format!("/api/v1/payments?{query}")).await;
                match r.status {
                    // Free-text filters match nothing: no payment has such a name or campaign.
                    StatusCode::OK => {
                        assert!(
                            matches!(*filter, "q" | "campaign"),
                            "{} {filter}={payload}: {}",
                            app.db.name,
                            r.text
                        );
                        assert_eq!(
                            r.json["data"],
                            json!([]),
                            "{} {filter}={payload} widened the result",
                            app.db.name
                        );
                    }
                    StatusCode::UNPROCESSABLE_ENTITY => {}
                    other => panic!("{} {filter}={payload}: {other} {}", app.db.name, r.text),
                }
                // The summary takes from, to and currency, and ignores the
                // list's filters: an injected currency is refused by name,
                // anything else leaves the figures exactly as they were.
                let s = app
                    .get(&format!(
                        "/api/v1/summary?{}",
                        serde_urlencoded::to_string([(filter, payload)]).unwrap()
                    ))
                    .await;
                if *filter == "currency" {
                    assert_eq!(s.problem(422), ["currency"], "{} {payload}", app.db.name);
                } else {
                    assert_eq!(s.status, StatusCode::OK, "{filter}={payload}: {}", s.text);
                    assert_eq!(s.json, baseline, "{} {filter}={payload}", app.db.name);
                }
                for param in ["from", "to"] {
                    let s = app
                        .get(&format!(
                            "/api/v1/summary?{}",
                            serde_urlencoded::to_string([(param, payload)]).unwrap()
                        ))
                        .await;
                    assert_eq!(s.problem(422), [param], "{} {param}={payload}", app.db.name);
                }
            }
        }
        // Everything is still there.
        let all = app.get("/api/v1/payments?limit=100").await;
        assert_eq!(
            all.json["data"].as_array().unwrap().len(),
            5,
            "{}",
            app.db.name
        );
        let one = app
            .get(&format!(
                "/api/v1/payments/{}",
                urlencoding("pay_' OR '1'='1")
            ))
            .await;
        assert_eq!(one.status, StatusCode::NOT_FOUND);
    }
}

fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap()["x=".len()..].to_owned()
}

/// A client that connects and sends nothing, one that sends its headers
/// slowly, and an idle keep-alive connection are all disconnected after the
/// idle timeout, so such clients cannot hold the process's connections
/// forever. A client that sends a whole request is served.
#[tokio::test]
async fn slow_and_idle_connections_are_closed_after_the_idle_timeout() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let db = common::sqlite_db().await;
    let config = payments::server::ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        idle_timeout: Duration::from_millis(400),
        ..Default::default()
    };
    let app = payments::server::Application::build(db.store.clone(), config).unwrap();
    let addr = app.local_addr();
    let server = tokio::spawn(app.run_until(std::future::pending()));

    // Reads until the server closes the connection; returns what it sent and
    // how long that took. A server that never closes fails the test.
    async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
        let started = Instant::now();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
                .await
                .expect("the server kept an idle connection open for 10 s");
            match read {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        (
            String::from_utf8_lossy(&seen).into_owned(),
            started.elapsed(),
        )
    }

    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (_, waited) = until_closed(&mut silent).await;
    assert!(
        waited < Duration::from_secs(5),
        "silent client kept {waited:?}"
    );

    let mut slow = TcpStream::connect(addr).await.unwrap();
    let trickle = tokio::spawn(async move {
        for chunk in [
            "GET /healthz HTTP/1.1\r\n",
            "Host: x\r\n",
            "X-Slow: 1\r\n",
            "X-Slow: 2\r\n",
        ] {
            if slow.write_all(chunk.as_bytes()).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        until_closed(&mut slow).await
    });
    let (answer, _) = trickle.await.unwrap();
    assert!(
        !answer.contains("200 OK"),
        "a request whose head took 1.2 s was served: {answer}"
    );

    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (answer, waited) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("ok"), "{answer}");
    assert!(
        waited < Duration::from_secs(5),
        "idle keep-alive kept {waited:?}"
    );

    server.abort();
}

/// At a handover the load balancer may still send on a kept-alive connection
/// to the old process: that request is served (with `Connection: close`)
/// instead of the connection being closed under it.
#[tokio::test]
async fn a_kept_alive_connection_carries_one_more_request_after_a_handover() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    async fn response_head(reader: &mut BufReader<TcpStream>) -> String {
        let mut head = String::new();
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).await.unwrap();
            if n == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        head
    }

    let db = common::sqlite_db().await;
    let config = payments::server::ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..Default::default()
    };
    let app = payments::server::Application::build(db.store.clone(), config).unwrap();
    let addr = app.local_addr();
    let (handover, signal) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = signal.await;
        payments::server::Shutdown::Handover
    }));

    let mut conn = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    conn.get_mut().write_all(request).await.unwrap();
    let head = response_head(&mut conn).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        !head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let mut body = [0u8; 2];
    conn.read_exact(&mut body).await.unwrap();

    handover.send(()).unwrap();
    // The listener closes at once: wait until new connections are refused.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while TcpStream::connect(addr).await.is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the listener stayed open"
        );
        tokio::task::yield_now().await;
    }
    conn.get_mut().write_all(request).await.unwrap();
    let head = response_head(&mut conn).await;
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "the kept-alive request was dropped: {head:?}"
    );
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"ok", "then the connection ends");
    server.await.unwrap().unwrap();
}
