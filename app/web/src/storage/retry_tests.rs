//! Write transactions whose MySQL/MariaDB connection the server drops,
//! before COMMIT (run once more, one payment) and at COMMIT (not run again).
//! They run when PAYMENTS_TEST_MYSQL_URL names a server.

use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;

use super::exec::Tx;
use super::payments::{IdempotencyClaim, Idempotent, RecordedResponse, create};
use super::{ConnectOptions, Store, StoreError};
use crate::domain::{Currency, Filter, ListRequest, NewPayment, PageFrom, Payment};

/// A migrated database of its own on the test server, dropped afterwards.
struct Database {
    server: String,
    name: String,
    store: Store,
}

impl Database {
    async fn new() -> Option<Database> {
        let server = std::env::var("PAYMENTS_TEST_MYSQL_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("payments_retry_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::MySqlConnection::connect(&server).await.unwrap();
        sqlx::query(&format!(
            "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        ))
        .execute(&mut admin)
        .await
        .unwrap();
        let base = server.rsplit_once('/').unwrap().0;
        let store = Store::connect(&format!("{base}/{name}"), &ConnectOptions::default())
            .await
            .unwrap();
        store.migrate().await.unwrap();
        Some(Database {
            server,
            name,
            store,
        })
    }

    /// Kills the server side of the connection `tx` runs on, from another
    /// connection, as a failover or an operator would.
    async fn kill(&self, tx: &mut Tx<'_>) {
        let (id,): (i64,) = tx
            .fetch_one("SELECT CAST(CONNECTION_ID() AS SIGNED)", &[])
            .await
            .unwrap();
        let mut admin = sqlx::MySqlConnection::connect(&self.server).await.unwrap();
        sqlx::query(&format!("KILL CONNECTION {id}"))
            .execute(&mut admin)
            .await
            .unwrap();
    }

    async fn payments(&self) -> Vec<Payment> {
        let req = ListRequest {
            filter: Filter::default(),
            limit: 100,
            from: PageFrom::Start,
        };
        self.store.list_payments(&req).await.unwrap().items
    }

    async fn drop_database(self) {
        self.store.close().await;
        let mut admin = sqlx::MySqlConnection::connect(&self.server).await.unwrap();
        sqlx::query(&format!("DROP DATABASE `{}`", self.name))
            .execute(&mut admin)
            .await
            .unwrap();
    }
}

fn donation() -> NewPayment {
    NewPayment::from_json(serde_json::json!({
        "amount": 2500, "currency": "USD", "method": "card",
        "payer": {"name": "Ada Reader", "email": "ada@example.org"},
        "campaign": "2026-year-end",
    }))
    .unwrap()
}

fn claim(key: &str) -> IdempotencyClaim {
    IdempotencyClaim {
        principal: "token:tok_test".into(),
        key: key.into(),
        request_hash: "b".repeat(64),
    }
}

/// Where the connection dies while a payment is being created.
#[derive(Clone, Copy)]
enum Dies {
    /// On the first attempt, after all its work, at the next statement
    /// (still before COMMIT).
    BeforeCommit,
    /// On every attempt, just before COMMIT is sent.
    AtCommit,
}

/// Creates [`donation`] with the key `key` through `Store::write`, killing
/// its connection as `dies` says; returns the outcome and how many times
/// the transaction ran.
async fn create_while_dying(
    db: &Database,
    key: &str,
    dies: Dies,
) -> (Result<Idempotent<Payment>, StoreError>, usize) {
    let (new, claim) = (donation(), claim(key));
    let record = |p: &Payment| RecordedResponse::new(p.id.clone());
    let attempts = AtomicUsize::new(0);
    let org = crate::mail::Letterhead::default();
    let (new_ref, claim_ref, record_ref, attempts_ref) = (&new, &claim, &record, &attempts);
    let org = &org;
    let outcome = db
        .store
        .write(|tx| {
            Box::pin(async move {
                let attempt = attempts_ref.fetch_add(1, Ordering::SeqCst) + 1;
                let made = create(tx, org, "test", Some(claim_ref), new_ref, record_ref).await?;
                match dies {
                    Dies::BeforeCommit if attempt == 1 => {
                        db.kill(tx).await;
                        tx.execute("SELECT 1", &[]).await?;
                    }
                    Dies::BeforeCommit => {}
                    Dies::AtCommit => db.kill(tx).await,
                }
                Ok(made)
            })
        })
        .await;
    (outcome, attempts.load(Ordering::SeqCst))
}

/// The payment transaction does all its work, then its connection dies and
/// the next statement, still before COMMIT, finds it dead: the server rolled
/// the work back, so the transaction runs once more and one payment (one
/// idempotency record, one audit entry, one count in the rollups) is made.
#[tokio::test]
async fn a_write_whose_connection_dies_before_commit_runs_once_more() {
    let Some(db) = Database::new().await else {
        return;
    };
    let (outcome, attempts) =
        create_while_dying(&db, "dies-before-commit", Dies::BeforeCommit).await;
    let outcome = outcome.unwrap();
    assert_eq!(attempts, 2, "run exactly once more");
    let Idempotent::Done(payment) = outcome else {
        panic!("{outcome:?}");
    };
    let stored = db.payments().await;
    assert_eq!(stored.len(), 1, "one payment");
    assert_eq!(stored[0].id, payment.id);
    assert_eq!(db.store.audit_trail(&payment.id).await.unwrap().len(), 1);
    let today = payment.created_at.to_datetime().date_naive();
    let summary = db
        .store
        .summary(&crate::domain::SummaryRequest {
            currency: Currency::USD,
            from: today,
            to: today,
        })
        .await
        .unwrap();
    assert_eq!((summary.count, summary.gross), (1, 2500));
    // The key is recorded once, with the second attempt's payment.
    let again = db
        .store
        .create_payment(
            "test",
            Some(&claim("dies-before-commit")),
            &donation(),
            |_| RecordedResponse::default(),
        )
        .await
        .unwrap();
    assert!(
        matches!(&again, Idempotent::Replay(r) if r.as_str() == payment.id),
        "{again:?}"
    );
    db.drop_database().await;
}

/// The connection dies just before COMMIT is sent: COMMIT fails, and the
/// transaction is not run again (had the server committed before the
/// connection died, a second run would double the payment). The caller is
/// told the database is unavailable; nothing was committed, and the key is
/// free for the client's retry.
#[tokio::test]
async fn a_write_whose_connection_dies_at_commit_is_not_run_again() {
    let Some(db) = Database::new().await else {
        return;
    };
    let (outcome, attempts) = create_while_dying(&db, "dies-at-commit", Dies::AtCommit).await;
    assert_eq!(attempts, 1, "not run again");
    assert!(
        matches!(outcome, Err(StoreError::Unavailable(_))),
        "{outcome:?}"
    );
    assert!(db.payments().await.is_empty(), "nothing committed");
    let retried = db
        .store
        .create_payment("test", Some(&claim("dies-at-commit")), &donation(), |p| {
            RecordedResponse::new(p.id.clone())
        })
        .await
        .unwrap();
    assert!(matches!(retried, Idempotent::Done(_)), "{retried:?}");
    assert_eq!(db.payments().await.len(), 1);
    db.drop_database().await;
}
