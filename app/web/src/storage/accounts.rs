//! Dashboard users and API tokens. Only hashes are stored: argon2 for
//! passwords, SHA-256 for token secrets (random 256-bit values need no
//! slow hash; a lookup by hash stays one indexed query).

use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::{self, AuditEntry};
use super::text::Text;
use super::{Store, StoreError, on_pool};
pub use crate::domain::{Role, Scope, Token, User};
use crate::domain::{Timestamp, new_id};

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Text,
    name: Text,
    scope: Text,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    /// A scope the code does not know is refused, never read as `read`.
    fn into_token(self) -> Result<Token, StoreError> {
        let scope = Scope::parse(&self.scope).map_err(|_| {
            StoreError::Corrupt(format!("token {} has an unknown scope", self.id.0))
        })?;
        Ok(Token {
            scope,
            id: self.id.0,
            name: self.name.0,
            created_at: Timestamp(self.created_at),
            last_used_at: self.last_used_at.map(Timestamp),
            revoked_at: self.revoked_at.map(Timestamp),
        })
    }
}

/// The prefix of every token secret, so leaked secrets are recognisable.
pub const TOKEN_PREFIX: &str = "pmt_";

/// SHA-256 of a token secret, hex-encoded: what the database keeps.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A fresh 256-bit secret from the operating system's CSPRNG.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

const TOKEN_COLUMNS: &str = "id, name, scope, created_at, last_used_at, revoked_at";

/// `last_used_at` is refreshed at most this often, so authenticated reads do
/// not each turn into a write.
const LAST_USED_GRANULARITY_MICROS: i64 = 60_000_000;

impl Store {
    /// Creates a token and returns it with its secret (shown once).
    pub async fn create_token(
        &self,
        actor: &str,
        name: &str,
        scope: Scope,
    ) -> Result<(Token, String), StoreError> {
        let secret = new_secret();
        let now = Timestamp::now();
        let token = Token {
            id: new_id("tok"),
            name: name.to_owned(),
            scope,
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        };
        on_pool!(self, |pool, d| {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            sqlx::query(
                "INSERT INTO api_tokens (id, name, scope, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(token.id.as_str())
            .bind(name)
            .bind(scope.as_str())
            .bind(hash_secret(&secret))
            .bind(now.0)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut *tx,
                &AuditEntry {
                    at: now,
                    actor,
                    action: "token.created",
                    subject: &token.id,
                    details: json!({"name": name, "scope": scope}),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok((token, secret))
    }

    pub async fn list_tokens(&self) -> Result<Vec<Token>, StoreError> {
        let rows: Vec<TokenRow> = on_pool!(self, |pool, d| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC"
            ))
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// Revokes a token; revoking twice is not an error.
    pub async fn revoke_token(&self, actor: &str, id: &str) -> Result<Token, StoreError> {
        let now = Timestamp::now();
        self.tokens.forget(id);
        let row: Option<TokenRow> = on_pool!(self, |pool, d| {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let changed = sqlx::query(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            )
            .bind(now.0)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 1 {
                audit::record(
                    &mut *tx,
                    &AuditEntry {
                        at: now,
                        actor,
                        action: "token.revoked",
                        subject: id,
                        details: json!({}),
                    },
                )
                .await?;
            }
            let row = sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?"
            ))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            row
        });
        // Forgotten again after the commit: a request that read the token
        // while the revocation ran must not leave it cached.
        self.tokens.forget(id);
        row.ok_or(StoreError::NotFound)?.into_token()
    }

    /// The live (not revoked) token with this secret, if any.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<Token>, StoreError> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 200 {
            return Ok(None);
        }
        let hash = hash_secret(secret);
        if let Some(token) = self.tokens.get(&hash) {
            return Ok(Some(token));
        }
        let read_at = std::time::Instant::now();
        let row: Option<TokenRow> = on_pool!(self, |pool, d| {
            sqlx::query_as(&format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ? AND revoked_at IS NULL"
            ))
            .bind(&hash)
            .fetch_optional(pool)
            .await?
        });
        let Some(token) = row.map(TokenRow::into_token).transpose()? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        if token
            .last_used_at
            .is_none_or(|t| now.0 - t.0 > LAST_USED_GRANULARITY_MICROS)
        {
            on_pool!(self, |pool, d| {
                sqlx::query("UPDATE api_tokens SET last_used_at = ? WHERE id = ?")
                    .bind(now.0)
                    .bind(token.id.as_str())
                    .execute(pool)
                    .await?;
            });
        }
        self.tokens.put(hash, token.clone(), read_at);
        Ok(Some(token))
    }

    /// Creates a dashboard user with an already hashed password.
    pub async fn create_user(
        &self,
        actor: &str,
        email: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        let user = User {
            id: new_id("usr"),
            email: email.to_owned(),
            role,
            password_hash: password_hash.to_owned(),
        };
        let now = Timestamp::now();
        on_pool!(self, |pool, d| {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let inserted = sqlx::query(
                "INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(user.id.as_str())
            .bind(email)
            .bind(role.as_str())
            .bind(password_hash)
            .bind(now.0)
            .execute(&mut *tx)
            .await;
            if let Err(e) = &inserted
                && d.is_unique_violation(e)
            {
                return Err(StoreError::Conflict(format!(
                    "a user with the email {email} already exists"
                )));
            }
            inserted?;
            audit::record(
                &mut *tx,
                &AuditEntry {
                    at: now,
                    actor,
                    action: "user.created",
                    subject: &user.id,
                    details: json!({"role": role}),
                },
            )
            .await?;
            tx.commit().await?;
        });
        Ok(user)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.user_where("email", email).await
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.user_where("id", id).await
    }

    /// The user whose `column` (a name from this file, never input) is `value`.
    async fn user_where(
        &self,
        column: &'static str,
        value: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT id, email, role, password_hash FROM users WHERE {column} = ?");
        let row: Option<(Text, Text, Text, Text)> = on_pool!(self, |pool, d| {
            sqlx::query_as(&sql)
                .bind(value)
                .fetch_optional(pool)
                .await?
        });
        // A role the code does not know is refused, never read as `viewer`.
        row.map(|(id, email, role, password_hash)| {
            let role = Role::parse(&role)
                .map_err(|_| StoreError::Corrupt(format!("user {} has an unknown role", id.0)))?;
            Ok(User {
                id: id.0,
                email: email.0,
                role,
                password_hash: password_hash.0,
            })
        })
        .transpose()
    }

    pub async fn user_count(&self) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool, d| {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
                .fetch_one(pool)
                .await?
        }))
    }
}

impl Store {
    /// Replaces a user's password hash; `NotFound` when there is no such user.
    pub async fn set_user_password(
        &self,
        actor: &str,
        email: &str,
        password_hash: &str,
    ) -> Result<User, StoreError> {
        let now = Timestamp::now();
        on_pool!(self, |pool, d| {
            let mut tx = pool.begin_with(d.begin_write()).await?;
            let row: Option<(Text,)> = sqlx::query_as("SELECT id FROM users WHERE email = ?")
                .bind(email)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((id,)) = row else {
                return Err(StoreError::NotFound);
            };
            sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
                .bind(password_hash)
                .bind(id.0.as_str())
                .execute(&mut *tx)
                .await?;
            audit::record(
                &mut *tx,
                &AuditEntry {
                    at: now,
                    actor,
                    action: "user.password_changed",
                    subject: &id.0,
                    details: json!({}),
                },
            )
            .await?;
            tx.commit().await?;
        });
        self.user_by_email(email).await?.ok_or(StoreError::NotFound)
    }
}
