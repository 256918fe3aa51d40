//! The one-shot commands: configuration errors, tokens and users, seeding.

use super::*;

#[test]
fn configuration_and_runtime_errors_are_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert_fails(
        &run(&["migrate", "--database-url", "postgres://db/x"], d),
        2,
        "unsupported database URL scheme 'postgres'",
    );
    assert_fails(
        &run(&["migrate", "--database-url", "payments.db"], d),
        2,
        "no scheme",
    );
    let err = assert_fails(
        &run(
            &[
                "migrate",
                "--database-url",
                "mysql://app:s3cretpw@127.0.0.1:1/payments",
            ],
            d,
        ),
        1,
        "cannot connect to MySQL",
    );
    assert!(!err.contains("s3cretpw"), "password leaked: {err}");
    assert_fails(
        &run(
            &["migrate", "--database-url", "sqlite:///no/such/dir/x.db"],
            d,
        ),
        1,
        "cannot open the SQLite database",
    );
    assert_fails(
        &run(&["serve", "--bind", "0.0.0.0:0"], d),
        2,
        "PAYMENTS_SESSION_KEY",
    );
    assert_fails(
        &run(&["serve", "--session-key", "short"], d),
        2,
        "at least 64 characters",
    );
    assert_fails(
        &run(&["serve", "--idle-timeout", "0s"], d),
        2,
        "--idle-timeout must be longer than zero",
    );
    let o = run(&["serve", "--drain-delay", "soon"], d);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let missing = d.join("missing-url-file");
    assert_fails(
        &run(
            &["migrate", "--database-url-file", missing.to_str().unwrap()],
            d,
        ),
        2,
        "cannot read the database URL file",
    );
    assert_fails(
        &run(&["healthcheck", "--url", "http://127.0.0.1:1/readyz"], d),
        1,
        "not ready",
    );
    // A port already in use.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_fails(
        &run(
            &["serve", "--bind", &addr, "--database-url", "sqlite://p.db"],
            d,
        ),
        1,
        "already in use",
    );
}

#[test]
fn stripe_configuration_errors_are_one_sentence_and_name_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let err = assert_fails(
        &run(
            &["serve", "--stripe-secret-key", "pk_test_publishable123"],
            d,
        ),
        2,
        "--stripe-secret-key must start with sk_test_ or sk_live_",
    );
    assert!(!err.contains("publishable123"), "{err}");
    let err = assert_fails(
        &run(
            &[
                "serve",
                "--stripe-secret-key",
                "sk_test_x",
                "--stripe-webhook-secret",
                "notawhsec",
            ],
            d,
        ),
        2,
        "each --stripe-webhook-secret must start with whsec_",
    );
    assert!(!err.contains("notawhsec"), "{err}");
    assert_fails(
        &run(&["serve", "--stripe-webhook-secret", "whsec_x"], d),
        2,
        "--stripe-webhook-secret needs --stripe-secret-key",
    );
    assert_fails(
        &run(
            &[
                "serve",
                "--stripe-secret-key",
                "sk_test_x",
                "--stripe-api-base",
                "ftp://x",
            ],
            d,
        ),
        2,
        "must be an http(s) URL",
    );
    assert_fails(
        &run(&["serve", "--public-url", "payments.example.org"], d),
        2,
        "--public-url \"payments.example.org\" must be an absolute http(s) URL",
    );
    assert_fails(
        &run(&["stripe", "sync", "--database-url", "sqlite://p.db"], d),
        2,
        "set --stripe-secret-key",
    );
    assert_fails(
        &run(
            &[
                "stripe",
                "reconcile",
                "--from",
                "2026-13-01",
                "--to",
                "2026-12-01",
            ],
            d,
        ),
        2,
        "is not a date",
    );
}

#[test]
fn the_database_url_can_come_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("url");
    std::fs::write(
        &file,
        format!("sqlite://{}/from-file.db\n", dir.path().display()),
    )
    .unwrap();
    let o = payments(&["migrate"], dir.path())
        .env("PAYMENTS_DATABASE_URL_FILE", &file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.path().join("from-file.db").exists());
    let both = payments(&["migrate", "--database-url", "sqlite://x.db"], dir.path())
        .env("PAYMENTS_DATABASE_URL_FILE", &file)
        .output()
        .unwrap();
    assert_fails(&both, 2, "only one of");
}

#[test]
fn commands_on_a_database_never_migrated_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for args in [
        &["seed", "--count", "10"][..],
        &["token", "create", "--name", "x", "--scope", "read"][..],
    ] {
        assert_fails(&run(args, d), 1, "run `payments migrate` first");
    }
}

#[test]
fn tokens_and_users() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(run(&["migrate"], d).status.success());
    let o = run(
        &[
            "token",
            "create",
            "--name",
            "donation form",
            "--scope",
            "write",
        ],
        d,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let secret = out.lines().last().unwrap();
    assert!(secret.starts_with("pmt_") && !secret.contains(' '), "{out}");
    let id = out
        .split_whitespace()
        .find(|w| w.starts_with("tok_"))
        .unwrap()
        .to_owned();
    let list = stdout(&run(&["token", "list"], d));
    assert!(
        list.contains(&id) && list.contains("active") && list.contains("donation form"),
        "{list}"
    );
    assert!(!list.contains(secret));
    assert!(run(&["token", "revoke", &id], d).status.success());
    assert!(stdout(&run(&["token", "list"], d)).contains("revoked"));
    assert_fails(&run(&["token", "revoke", "tok_nope"], d), 1, "no token");
    assert_eq!(
        run(&["token", "create", "--name", "x", "--scope", "admin"], d)
            .status
            .code(),
        Some(2)
    );

    let with_stdin = |password: &str, email: &str| {
        let mut child = payments(
            &[
                "user",
                "create",
                "--email",
                email,
                "--role",
                "admin",
                "--password-stdin",
            ],
            d,
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert_fails(
        &with_stdin("short", "a@example.org"),
        2,
        "at least 12 characters",
    );
    let ok = with_stdin("a long enough password", "a@example.org");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(!stdout(&ok).contains("a long enough password"));
    assert_fails(
        &with_stdin("a long enough password", "A@example.org"),
        1,
        "already exists",
    );
    assert_fails(
        &run(
            &[
                "user",
                "create",
                "--email",
                "not-an-email",
                "--role",
                "viewer",
            ],
            d,
        ),
        2,
        "not an email",
    );
    let generated = run(
        &[
            "user",
            "create",
            "--email",
            "v@example.org",
            "--role",
            "viewer",
        ],
        d,
    );
    assert!(
        stdout(&generated)
            .lines()
            .any(|l| l.starts_with("password: ") && l.len() == "password: ".len() + 20)
    );
}

#[test]
fn seeding_is_deterministic_and_can_skip_a_full_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dump = |db: &str| {
        let o = run(
            &[
                "seed",
                "--count",
                "300",
                "--seed",
                "5",
                "--days",
                "30",
                "--database-url",
                db,
            ],
            d,
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stdout(&o).contains("seeded 300 payments"), "{}", stdout(&o));
        rusqlite_dump(d, db)
    };
    for db in ["sqlite://a.db", "sqlite://b.db", "sqlite://c.db"] {
        assert!(run(&["migrate", "--database-url", db], d).status.success());
    }
    let a = dump("sqlite://a.db");
    let b = dump("sqlite://b.db");
    assert_eq!(a.len(), 300);
    assert_eq!(a, b, "the same seed gives the same data");
    let o = run(
        &[
            "seed",
            "--count",
            "300",
            "--seed",
            "6",
            "--days",
            "30",
            "--database-url",
            "sqlite://c.db",
        ],
        d,
    );
    assert!(o.status.success());
    assert_ne!(rusqlite_dump(d, "sqlite://c.db"), a);
    let again = run(
        &[
            "seed",
            "--count",
            "300",
            "--if-empty",
            "--database-url",
            "sqlite://a.db",
        ],
        d,
    );
    assert!(stdout(&again).contains("nothing seeded"));
    assert_eq!(rusqlite_dump(d, "sqlite://a.db").len(), 300);
}

/// Rows as text, through sqlx (already a dependency).
fn rusqlite_dump(dir: &std::path::Path, url: &str) -> Vec<(String, i64, String, String)> {
    let path = dir.join(url.trim_start_matches("sqlite://"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        sqlx::query_as("SELECT id, amount, payer_email, status FROM payments ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap()
    })
}
