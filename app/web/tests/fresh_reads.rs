//! A running server reads what other processes committed: after every
//! start-up path (`serve --migrate`, `demo`), a token revoked by another
//! process is refused by the next request, and payments seeded by another
//! process appear in every following request. Repeated many times because
//! the failure this guards against (the server reading an old snapshot of a
//! SQLite database) showed in a few runs out of twenty.

mod common;
mod process;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use payments::storage::TOKEN_CACHE_TTL;

use process::{Server, http, run, stderr, stdout};

/// Repetitions per start-up path on SQLite, and on MariaDB.
const SQLITE_RUNS: usize = 200;
const MYSQL_RUNS: usize = 20;
/// Repetitions run side by side (each is its own server and database).
const PARALLEL: usize = 4;

/// `payments ARGS` against `url` in `dir`; fails the test unless it succeeds.
fn cli(dir: &Path, url: &str, args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--database-url", url]);
    let o = run(&all, dir);
    assert!(o.status.success(), "payments {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Creates a read token from another process; returns (id, secret).
fn create_token(dir: &Path, url: &str, name: &str) -> (String, String) {
    let out = cli(
        dir,
        url,
        &["token", "create", "--name", name, "--scope", "read"],
    );
    let secret = out.lines().last().unwrap().to_owned();
    let id = out
        .split_whitespace()
        .find(|w| w.starts_with("tok_"))
        .unwrap_or_else(|| panic!("no token id in {out:?}"))
        .to_owned();
    (id, secret)
}

fn list(server: &Server, secret: &str) -> (u16, serde_json::Value) {
    let auth = format!("Bearer {secret}");
    let (status, body) = http(
        server.addr,
        "GET",
        "/api/v1/payments?limit=100",
        &[("Authorization", &auth)],
        "",
    );
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// The reproduction, once, on a server that has just started on `url`.
fn revoke_and_seed_are_seen(dir: &Path, url: &str, server: &Server, run_no: usize) {
    let (revoked_id, revoked) = create_token(dir, url, "to revoke");
    let (_, kept) = create_token(dir, url, "kept");
    assert_eq!(
        list(server, &revoked).0,
        200,
        "run {run_no}: a token created by another process is not seen"
    );
    cli(dir, url, &["token", "revoke", &revoked_id]);
    // The server trusts a token it read for at most TOKEN_CACHE_TTL: the
    // revocation must show within that, and then for good.
    let deadline = Instant::now() + TOKEN_CACHE_TTL + Duration::from_millis(200);
    while list(server, &revoked).0 != 401 {
        assert!(
            Instant::now() < deadline,
            "run {run_no}: a token revoked by another process is still accepted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    for _ in 0..3 {
        assert_eq!(
            list(server, &revoked).0,
            401,
            "run {run_no}: accepted again"
        );
    }

    cli(dir, url, &["seed", "--count", "100", "--days", "1"]);
    for request in 0..20 {
        let (status, page) = list(server, &kept);
        assert_eq!(status, 200, "run {run_no}, request {request}: {page}");
        let rows = page["data"].as_array().map_or(0, Vec::len);
        assert_eq!(
            rows, 100,
            "run {run_no}, request {request}: payments seeded by another process are missing"
        );
    }
}

/// `payments serve --migrate` on `url`, started from `dir`.
fn serve_with_migrate(dir: &Path, url: &str) -> Server {
    Server::spawn(
        dir,
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--migrate",
            "--database-url",
            url,
        ],
    )
}

/// Runs `runs` repetitions of `one`, `PARALLEL` at a time.
fn repeat(runs: usize, one: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= runs {
                        break;
                    }
                    one(n);
                }
            });
        }
    });
}

#[test]
fn sqlite_serve_with_migrate_reads_other_processes_writes() {
    repeat(SQLITE_RUNS, |n| {
        let dir = tempfile::tempdir().unwrap();
        let url = "sqlite://fresh.db";
        let mut server = serve_with_migrate(dir.path(), url);
        revoke_and_seed_are_seen(dir.path(), url, &server, n);
        server.kill();
    });
}

#[test]
fn sqlite_demo_reads_other_processes_writes() {
    // The demo seeds 50,000 payments into an empty database; one payment is
    // enough to skip that, so each run starts from a copy of this file.
    let template = tempfile::tempdir().unwrap();
    let url = "sqlite://demo.db";
    cli(template.path(), url, &["migrate"]);
    // Another seed than the runs' own, so the processor references differ.
    cli(
        template.path(),
        url,
        &["seed", "--count", "1", "--days", "400", "--seed", "7"],
    );
    repeat(SQLITE_RUNS, |n| {
        let dir = tempfile::tempdir().unwrap();
        // The file and its write-ahead log: what was seeded may still be in it.
        for file in ["demo.db", "demo.db-wal"] {
            let from = template.path().join(file);
            if from.exists() {
                std::fs::copy(from, dir.path().join(file)).unwrap();
            }
        }
        let mut server = Server::spawn(
            dir.path(),
            &["demo", "--bind", "127.0.0.1:0", "--database-url", url],
        );
        assert!(
            !server.log.iter().any(|l| l.contains("seeded")),
            "run {n}: the demo seeded although the database has a payment"
        );
        revoke_and_seed_are_seen(dir.path(), url, &server, n);
        server.kill();
    });
}

#[test]
fn mysql_serve_with_migrate_reads_other_processes_writes() {
    let Some(server_url) = common::mysql_server_url() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    repeat(MYSQL_RUNS, |n| {
        // A fresh, empty database each run: the server migrates it.
        let db = rt.block_on(common::empty_mysql_db(&server_url));
        let dir = tempfile::tempdir().unwrap();
        let mut server = serve_with_migrate(dir.path(), &db.url);
        revoke_and_seed_are_seen(dir.path(), &db.url, &server, n);
        server.kill();
    });
}
