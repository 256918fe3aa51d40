//! A short-lived, in-process cache of authenticated tokens.
//!
//! Every API request authenticates its token; without a cache that is a
//! second query (and pool checkout) beside the one the request is for. An
//! entry is trusted for [`TOKEN_CACHE_TTL`] after it was read from the
//! database, and never longer: a token revoked anywhere (another replica, the
//! CLI) is refused by every replica within that time, and at once by the
//! process that revoked it, which drops its own entry.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::Token;

/// How long a token read from the database is trusted without reading it
/// again: the bound on how late a revocation takes effect on a replica.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_millis(250);

/// More entries than this and expired ones are swept out (a guard against
/// unbounded growth; live tokens number in the dozens).
const SWEEP_ABOVE: usize = 1024;

#[derive(Default)]
pub struct TokenCache {
    /// By the SHA-256 hash of the secret: the token and when it was read.
    entries: Mutex<HashMap<String, (Token, Instant)>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCache")
    }
}

impl TokenCache {
    /// The token for this secret hash, if it was read less than the TTL ago.
    pub fn get(&self, hash: &str) -> Option<Token> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(hash)
            .filter(|(_, read_at)| read_at.elapsed() < TOKEN_CACHE_TTL)
            .map(|(token, _)| token.clone())
    }

    /// Remembers a live token read at `read_at` (taken before the query ran,
    /// so the entry never outlives what the database said by more than the TTL).
    pub fn put(&self, hash: String, token: Token, read_at: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= SWEEP_ABOVE {
            entries.retain(|_, (_, at)| at.elapsed() < TOKEN_CACHE_TTL);
        }
        entries.insert(hash, (token, read_at));
    }

    /// Forgets a token at once (it was revoked by this process).
    pub fn forget(&self, token_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (token, _)| token.id != token_id);
    }
}
