//! Secrets and access data at rest on every available backend: only hashes
//! are stored, unknown scopes and roles are errors, and a revocation reaches
//! every replica within the token cache's bound.

mod common;

use common::databases;
use payments::storage::accounts::{Scope, hash_secret};
use payments::storage::{ConnectOptions, Store, StoreError};

#[tokio::test]
async fn no_secret_is_stored_in_plain_text() {
    for db in databases().await {
        let (token, secret) = token_and_user(&db.store, Scope::Write).await;
        assert!(secret.starts_with("pmt_") && secret.len() > 60);
        // Read every stored column of both tables back as text.
        let dump = dump_tables(&db.url).await;
        assert!(!dump.contains(&secret), "{}: token secret stored", db.name);
        assert!(
            !dump.contains(&secret["pmt_".len()..]),
            "{}: token secret stored",
            db.name
        );
        assert!(
            dump.contains(&hash_secret(&secret)),
            "{}: the hash is what is kept",
            db.name
        );
        assert!(
            !dump.contains("a long enough password"),
            "{}: password stored",
            db.name
        );
        assert!(dump.contains("$argon2id$"), "{}", db.name);
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_some()
        );
        db.store.revoke_token("test", &token.id).await.unwrap();
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_none(),
            "{}: revoked",
            db.name
        );
    }
}

/// A token named "ci" with `scope` and a viewer staff@example.org; returns
/// the token and its secret.
async fn token_and_user(store: &Store, scope: Scope) -> (payments::domain::Token, String) {
    let (token, secret) = store.create_token("test", "ci", scope).await.unwrap();
    let hash = payments::passwords::hash_password("a long enough password").unwrap();
    store
        .create_user(
            "test",
            "staff@example.org",
            payments::domain::Role::Viewer,
            &hash,
        )
        .await
        .unwrap();
    (token, secret)
}

/// Runs one statement on the test database, outside the store.
async fn execute_raw(url: &str, sql: &str) {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::MySqlPool::connect(url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
}

/// A scope or role the code does not know (written by a newer version, or by
/// hand) is an error, never quietly the weakest or the strongest one.
#[tokio::test]
async fn unknown_stored_scopes_and_roles_are_errors() {
    for db in databases().await {
        let (token, secret) = token_and_user(&db.store, Scope::Read).await;
        execute_raw(
            &db.url,
            &format!(
                "UPDATE api_tokens SET scope = 'admin' WHERE id = '{}'",
                token.id
            ),
        )
        .await;
        execute_raw(&db.url, "UPDATE users SET role = 'owner'").await;
        let authenticated = db.store.authenticate_token(&secret).await;
        assert!(
            matches!(authenticated, Err(StoreError::Corrupt(_))),
            "{}: {authenticated:?}",
            db.name
        );
        assert!(
            matches!(db.store.list_tokens().await, Err(StoreError::Corrupt(_))),
            "{}",
            db.name
        );
        let user = db.store.user_by_email("staff@example.org").await;
        assert!(
            matches!(user, Err(StoreError::Corrupt(_))),
            "{}: {user:?}",
            db.name
        );
    }
}

async fn dump_tables(url: &str) -> String {
    let query = "SELECT id, name, scope, secret_hash FROM api_tokens UNION ALL SELECT id, email, role, password_hash FROM users";
    let rows: Vec<(String, String, String, String)> = if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query_as(query).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::MySqlPool::connect(url).await.unwrap();
        // CAST keeps binary-collation columns readable as text.
        sqlx::query_as(
            "SELECT CAST(id AS CHAR), CAST(name AS CHAR), CAST(scope AS CHAR), CAST(secret_hash AS CHAR) FROM api_tokens \
             UNION ALL SELECT CAST(id AS CHAR), CAST(email AS CHAR), CAST(role AS CHAR), CAST(password_hash AS CHAR) FROM users",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    rows.iter()
        .map(|r| format!("{} {} {} {}\n", r.0, r.1, r.2, r.3))
        .collect()
}

/// Two replicas on one database: a token revoked through one is refused by
/// the other within the cache's bound (and by the first at once), so a
/// revocation takes effect everywhere within a second.
#[tokio::test]
async fn a_revoked_token_is_refused_by_every_replica_within_the_bound() {
    for db in databases().await {
        let other = Store::connect(&db.url, &ConnectOptions::default())
            .await
            .unwrap();
        let (token, secret) = db
            .store
            .create_token("test", "shared", Scope::Read)
            .await
            .unwrap();
        // Both replicas have just read (and cached) it.
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_some()
        );
        assert!(other.authenticate_token(&secret).await.unwrap().is_some());
        db.store.revoke_token("test", &token.id).await.unwrap();
        let revoked = std::time::Instant::now();
        assert!(
            db.store
                .authenticate_token(&secret)
                .await
                .unwrap()
                .is_none(),
            "{}: the revoking replica still accepts it",
            db.name
        );
        while other.authenticate_token(&secret).await.unwrap().is_some() {
            assert!(
                revoked.elapsed() <= payments::storage::TOKEN_CACHE_TTL,
                "{}: the other replica still accepts it after {:?}",
                db.name,
                revoked.elapsed()
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(payments::storage::TOKEN_CACHE_TTL <= std::time::Duration::from_secs(1));
        other.close().await;
    }
}
