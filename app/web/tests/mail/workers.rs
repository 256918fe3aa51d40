//! Several workers on one outbox, a worker that stops between sending and
//! marking, and `payments mail flush`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::{Harness, config};
use payments::domain::Timestamp;
use payments::mail::worker;
use payments::storage::{ConnectOptions, Store};

#[tokio::test]
async fn two_workers_racing_deliver_each_message_exactly_once() {
    for h in Harness::all().await {
        let who = h.name();
        for n in 0..12 {
            h.api_gift(
                &format!("reader{n}@example.org"),
                json!({"send_receipt": true}),
            )
            .await;
        }
        // Two replicas: their own pools on the same database.
        let other = Store::connect(&h.app.db.url, &ConnectOptions::default())
            .await
            .unwrap();
        let small = payments::mail::WorkerConfig {
            batch: 3,
            ..config()
        };
        let now = Timestamp::now();
        let (a, b) = tokio::join!(
            worker::flush(&h.app.db.store, &h.mailer, &small, now),
            worker::flush(&other, &h.mailer, &small, now),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.sent + b.sent, 12, "{who}: {a:?} {b:?}");
        let delivered = h.smtp.delivered();
        assert_eq!(delivered.len(), 12, "{who}");
        let mut seen: HashMap<String, usize> = HashMap::new();
        for m in &delivered {
            *seen.entry(m.header("Message-ID").unwrap()).or_default() += 1;
        }
        assert_eq!(seen.len(), 12, "{who}: each message once");
        assert!(
            h.outbox()
                .await
                .iter()
                .all(|m| &*m.status == "sent" && m.attempts == 1)
        );
        other.close().await;
    }
}

#[tokio::test]
async fn a_worker_stopped_between_send_and_mark_is_followed_with_the_same_message_id() {
    for h in Harness::all().await {
        let who = h.name();
        h.api_gift("ada@example.org", json!({"send_receipt": true}))
            .await;
        let store = &h.app.db.store;
        let t = Timestamp::now();
        let lease = Duration::from_secs(60);
        let claimed = store.claim_outbox(t, lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "{who}");
        // Sent, then the worker stops before marking it.
        h.mailer.send(&claimed[0]).await.unwrap();
        assert_eq!(
            h.flush_at(Timestamp(t.0 + 30_000_000)).await.sent,
            0,
            "{who}: leased"
        );
        let after = h.flush_at(Timestamp(t.0 + 61_000_000)).await;
        assert_eq!(after.sent, 1, "{who}: the lease expired");
        let delivered = h.smtp.delivered();
        assert_eq!(delivered.len(), 2, "{who}");
        let ids: Vec<String> = delivered
            .iter()
            .map(|m| m.header("Message-ID").unwrap())
            .collect();
        assert_eq!(
            ids[0], ids[1],
            "{who}: the copy carries the same Message-ID"
        );
        assert_eq!(ids[0], claimed[0].message_id.0);
        let row = &h.outbox().await[0];
        assert_eq!((&*row.status, row.attempts), ("sent", 2), "{who}");
    }
}

#[tokio::test]
async fn the_serving_worker_delivers_and_stops_when_told() {
    let h = Harness::sqlite().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(worker::run(
        h.app.db.store.clone(),
        h.mailer.clone(),
        config(),
        stopped,
    ));
    h.api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    tokio::time::timeout(Duration::from_secs(10), h.smtp.wait_for_delivered(1))
        .await
        .expect("the worker delivers the receipt");
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the worker stops")
        .unwrap();
    assert_eq!(&*h.outbox().await[0].status, "sent");
}

fn payments_cmd(db_url: &str) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_payments"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PAYMENTS_DATABASE_URL", db_url)
        .env("PAYMENTS_LOG_FORMAT", "json");
    c
}

#[tokio::test]
async fn mail_flush_sends_what_is_due_or_says_mail_is_not_configured() {
    let h = Harness::sqlite().await;
    h.api_gift("ada@example.org", json!({"send_receipt": true}))
        .await;
    let url = h.app.db.url.clone();
    let out = tokio::task::spawn_blocking({
        let url = url.clone();
        move || payments_cmd(&url).args(["mail", "flush"]).output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("mail is not configured"), "{stderr}");
    assert_eq!(
        h.outbox().await[0].status.0,
        "pending",
        "left in the outbox"
    );

    let dir = tempfile::tempdir().unwrap();
    let (url_file, ca_file) = (dir.path().join("smtp-url"), dir.path().join("ca.pem"));
    std::fs::write(&url_file, format!("{}\n", h.smtp.url(""))).unwrap();
    std::fs::write(&ca_file, h.smtp.ca_pem()).unwrap();
    let out = tokio::task::spawn_blocking(move || {
        payments_cmd(&url)
            .env("PAYMENTS_SMTP_URL_FILE", &url_file)
            .env("PAYMENTS_SMTP_CA_FILE", &ca_file)
            .env("PAYMENTS_MAIL_FROM", crate::FROM)
            .args(["mail", "flush"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout} {stderr}");
    assert_eq!(stdout.trim(), "sent 1, deferred 0, failed 0");
    assert!(
        !stderr.contains("s3cret") && !stderr.contains("ada@example.org"),
        "{stderr}"
    );
    assert_eq!(h.smtp.delivered().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_the_worker_and_stops_it_on_sigterm() {
    let smtp = super::smtp_server::FakeSmtp::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("server.db").display());
    let store = Store::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    store.set_letterhead(crate::letterhead());
    let new = payments::domain::NewPayment::from_json(json!({
        "amount": 1_000, "currency": "USD", "method": "check", "send_receipt": true,
        "payer": {"name": "Ada Reader", "email": "ada@example.org"},
    }))
    .unwrap();
    store
        .create_payment("test", None, &new, |p| {
            payments::storage::payments::RecordedResponse::new(p.id.clone())
        })
        .await
        .unwrap();
    store.close().await;
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, smtp.ca_pem()).unwrap();
    let smtp_url = smtp.url("?tls=required");
    let ca = ca.display().to_string();
    let mut server = crate::process::Server::start(
        dir.path(),
        &[
            "--smtp-url",
            &smtp_url,
            "--smtp-ca-file",
            &ca,
            "--mail-from",
            crate::FROM,
        ],
    );
    tokio::time::timeout(Duration::from_secs(20), smtp.wait_for_delivered(1))
        .await
        .expect("serve delivers the outbox");
    assert!(smtp.delivered()[0].tls);
    let term = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = server.child.wait().unwrap();
    server.read_log_to_end(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{:?}", server.log);
    let log = server.log.join("\n");
    assert!(log.contains("mail configured"), "{log}");
    assert!(
        log.contains("mail sent") && log.contains("\"stopped\""),
        "{log}"
    );
    assert!(
        !log.contains("s3cret") && !log.contains("ada@example.org"),
        "{log}"
    );
}

#[tokio::test]
async fn seeded_payments_mail_no_one() {
    let h = Harness::sqlite().await;
    payments::seed::seed(&h.app.db.store, 200, 7, 30)
        .await
        .unwrap();
    assert!(h.app.db.store.has_payments().await.unwrap());
    assert!(h.outbox().await.is_empty());
}
