//! Who may do what: dashboard users with a role, API tokens with a scope.

use super::names::string_enum;
use super::payment::Timestamp;

string_enum!(
    /// What an API token may do: `read` allows GETs, `write` everything.
    Scope {
        Read,
        Write,
    }
);

string_enum!(
    /// What a dashboard user may do: viewers look, admins also refund and
    /// manage tokens.
    Role {
        Admin,
        Viewer,
    }
);

/// An API token as listed (never with its secret).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Token {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub password_hash: String,
}
