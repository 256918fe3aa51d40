//! Dashboard users and API tokens. Only hashes are stored: argon2 for
//! passwords, SHA-256 for token secrets (random 256-bit values need no
//! slow hash; a lookup by hash stays one indexed query).

use serde_json::json;
use sha2::{Digest, Sha256};

use super::audit::{self, AuditEntry};
use super::retry::TxError;
use super::text::Text;
use super::{Store, StoreError};
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
        let (token_ref, hash) = (&token, &hash_secret(&secret));
        self.write(|tx| {
            Box::pin(async move {
                tx.execute(
                    "INSERT INTO api_tokens (id, name, scope, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                    &[
                        token_ref.id.as_str().into(),
                        name.into(),
                        scope.as_str().into(),
                        hash.into(),
                        now.0.into(),
                    ],
                )
                .await?;
                let entry = AuditEntry {
                    at: now,
                    actor,
                    action: "token.created",
                    subject: &token_ref.id,
                    details: json!({"name": name, "scope": scope}),
                };
                audit::record(tx, &entry).await?;
                Ok(())
            })
        })
        .await?;
        Ok((token, secret))
    }

    pub async fn list_tokens(&self) -> Result<Vec<Token>, StoreError> {
        let sql =
            format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at DESC, id DESC");
        let sql = &sql;
        let rows: Vec<TokenRow> = self
            .read(|c| Box::pin(async move { c.fetch_all(sql, &[]).await }))
            .await?;
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// Revokes a token; revoking twice is not an error.
    pub async fn revoke_token(&self, actor: &str, id: &str) -> Result<Token, StoreError> {
        let now = Timestamp::now();
        self.tokens.forget(id);
        let select = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?");
        let select = &select;
        let row: Option<TokenRow> = self
            .write(|tx| {
                Box::pin(async move {
                    let changed = tx
                        .execute(
                            "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                            &[now.0.into(), id.into()],
                        )
                        .await?;
                    if changed == 1 {
                        let entry = AuditEntry {
                            at: now,
                            actor,
                            action: "token.revoked",
                            subject: id,
                            details: json!({}),
                        };
                        audit::record(tx, &entry).await?;
                    }
                    Ok(tx.fetch_optional(select, &[id.into()]).await?)
                })
            })
            .await?;
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
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = ? AND revoked_at IS NULL"
        );
        let (sql, hash_ref) = (&sql, &hash);
        let row: Option<TokenRow> = self
            .read(|c| Box::pin(async move { c.fetch_optional(sql, &[hash_ref.into()]).await }))
            .await?;
        let Some(token) = row.map(TokenRow::into_token).transpose()? else {
            return Ok(None);
        };
        let now = Timestamp::now();
        if token
            .last_used_at
            .is_none_or(|t| now.0 - t.0 > LAST_USED_GRANULARITY_MICROS)
        {
            let id = token.id.as_str();
            // Setting the same time twice changes nothing more: safe to repeat.
            self.read(|c| {
                Box::pin(async move {
                    c.execute(
                        "UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                        &[now.0.into(), id.into()],
                    )
                    .await
                })
            })
            .await?;
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
        let user_id = user.id.as_str();
        self.write(|tx| {
            Box::pin(async move {
                let inserted = tx
                    .execute(
                        "INSERT INTO users (id, email, role, password_hash, created_at) VALUES (?, ?, ?, ?, ?)",
                        &[
                            user_id.into(),
                            email.into(),
                            role.as_str().into(),
                            password_hash.into(),
                            now.0.into(),
                        ],
                    )
                    .await;
                if let Err(e) = &inserted
                    && tx.dialect().is_unique_violation(e)
                {
                    return Err(StoreError::Conflict(format!(
                        "a user with the email {email} already exists"
                    ))
                    .into());
                }
                inserted?;
                let entry = AuditEntry {
                    at: now,
                    actor,
                    action: "user.created",
                    subject: user_id,
                    details: json!({"role": role}),
                };
                audit::record(tx, &entry).await?;
                Ok(())
            })
        })
        .await?;
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
        let sql = &sql;
        let row: Option<(Text, Text, Text, Text)> = self
            .read(|c| Box::pin(async move { c.fetch_optional(sql, &[value.into()]).await }))
            .await?;
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
        let (count,): (i64,) = self
            .read(|c| Box::pin(async move { c.fetch_one("SELECT COUNT(*) FROM users", &[]).await }))
            .await?;
        Ok(count)
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
        self.write(|tx| Box::pin(set_password(tx, actor, email, password_hash, now)))
            .await?;
        self.user_by_email(email).await?.ok_or(StoreError::NotFound)
    }
}

/// The transaction of [`Store::set_user_password`].
async fn set_password(
    tx: &mut super::exec::Tx<'_>,
    actor: &str,
    email: &str,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), TxError> {
    let row: Option<(Text,)> = tx
        .fetch_optional("SELECT id FROM users WHERE email = ?", &[email.into()])
        .await?;
    let Some((id,)) = row else {
        return Err(StoreError::NotFound.into());
    };
    tx.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?",
        &[password_hash.into(), id.0.as_str().into()],
    )
    .await?;
    let entry = AuditEntry {
        at: now,
        actor,
        action: "user.password_changed",
        subject: &id.0,
        details: json!({}),
    };
    audit::record(tx, &entry).await?;
    Ok(())
}
