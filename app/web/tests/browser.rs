//! The dashboard in a real headless Chromium over WebDriver: log in, filter,
//! page forward and back, open a payment, refund it, log out; screenshots of
//! the main pages at desktop and phone sizes under target/screenshots/.
//!
//! Needs `chromium` and `chromedriver` (Debian packages chromium and
//! chromium-driver). Marked `ignore` so `cargo test` runs on a machine with
//! only Rust; CI runs them with `cargo test --test browser -- --ignored`,
//! where a missing browser fails.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use payments::server::{Application, ServeConfig, Shutdown};
use payments::storage::accounts::Role;
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and waits until it answers.
async fn chromedriver() -> (Driver, u16) {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} (install chromium-driver): {e}"));
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (driver, port)
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                     format!("--user-data-dir={}", profile.display()), "--window-size=1280,800"]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver refused the session (is chromium installed?)")
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Saves the page at desktop (1280×800) and phone (390×844) sizes.
async fn shoot(c: &Client, name: &str) {
    for (label, w, h) in [("desktop", 1280, 800), ("phone", 390, 844)] {
        c.set_window_size(w, h).await.unwrap();
        let png = c.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(screenshots_dir().join(format!("{name}-{label}.png")), png).unwrap();
    }
    c.set_window_size(1280, 800).await.unwrap();
}

/// Waits (bounded) until the browser's URL satisfies `done`: a click that
/// navigates returns before the new page is there.
async fn wait_for_url(c: &Client, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = c.current_url().await.unwrap().to_string();
        if done(&url) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the browser is at {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromedriver; CI runs it with --ignored"]
async fn staff_log_in_filter_page_refund_and_log_out() {
    let db = common::sqlite_db().await;
    payments::seed::seed(&db.store, 400, 3, 90).await.unwrap();
    let hash = payments::passwords::hash_password(PASSWORD).unwrap();
    db.store
        .create_user("test", "admin@example.org", Role::Admin, &hash)
        .await
        .unwrap();
    let config = ServeConfig {
        bind: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    };
    let app = Application::build(db.store.clone(), config).unwrap();
    let base = format!("http://{}", app.local_addr());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stop_rx.await;
        Shutdown::Handover
    }));

    let (_driver, port) = chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(port, profile.path()).await;

    // Log in.
    c.goto(&format!("{base}/payments")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "anonymous → login"
    );
    shoot(&c, "login").await;
    c.find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys("admin@example.org")
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form.login button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let home = format!("{base}/");
    wait_for_url(&c, "the overview after logging in", |u| u == home).await;
    assert_eq!(text(&c, "h1").await, "Overview");
    assert!(
        c.find_all(Locator::Css("figure.chart svg"))
            .await
            .unwrap()
            .len()
            >= 2,
        "charts render"
    );
    shoot(&c, "overview").await;

    // Filter by status.
    c.find(Locator::Css("nav a[href='/payments']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the payments table", |u| u.ends_with("/payments")).await;
    c.find(Locator::Css("#status"))
        .await
        .unwrap()
        .select_by_value("succeeded")
        .await
        .unwrap();
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the filtered table", |u| u.contains("status=succeeded")).await;
    let badges = c.find_all(Locator::Css("tbody .badge")).await.unwrap();
    assert_eq!(badges.len(), 50, "a full page");
    for b in &badges {
        assert_eq!(b.text().await.unwrap(), "succeeded");
    }
    shoot(&c, "payments").await;
    let first_on_page_one = text(&c, "tbody tr td a").await;

    // Older, then newer again: the same first row, the filter kept.
    c.find(Locator::Css("a[rel=next]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the older page", |u| u.contains("after=")).await;
    let query = c
        .current_url()
        .await
        .unwrap()
        .query()
        .unwrap_or("")
        .to_owned();
    assert!(
        query.contains("status=succeeded") && query.contains("after="),
        "{query}"
    );
    assert_ne!(text(&c, "tbody tr td a").await, first_on_page_one);
    c.find(Locator::Css("a[rel=prev]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the newer page", |u| u.contains("before=")).await;
    assert_eq!(text(&c, "tbody tr td a").await, first_on_page_one);

    // Open a payment and refund it in full.
    c.find(Locator::Css("tbody tr td a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "a payment's page", |u| u.contains("/payments/pay_")).await;
    assert_eq!(text(&c, "h1 .badge").await, "succeeded");
    shoot(&c, "detail").await;
    c.find(Locator::Css("form[action$='/refund'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the refunded payment", |u| {
        u.contains("notice=refunded")
    })
    .await;
    assert_eq!(text(&c, "h1 .badge").await, "refunded");
    assert!(text(&c, ".notice").await.contains("Refund recorded"));
    assert!(
        c.find(Locator::Css("form[action$='/refund']"))
            .await
            .is_err(),
        "nothing left to refund"
    );
    shoot(&c, "detail-refunded").await;

    // Log out.
    c.find(Locator::Css("header form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(&c, "the login page after logging out", |u| {
        u.ends_with("/login")
    })
    .await;
    c.goto(&format!("{base}/")).await.unwrap();
    assert!(
        c.current_url().await.unwrap().path().ends_with("/login"),
        "the session is gone"
    );

    c.close().await.unwrap();
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
    for name in ["overview", "payments", "detail"] {
        for size in ["desktop", "phone"] {
            let file = screenshots_dir().join(format!("{name}-{size}.png"));
            assert!(
                std::fs::metadata(&file).unwrap().len() > 5_000,
                "{}",
                file.display()
            );
        }
    }
}
