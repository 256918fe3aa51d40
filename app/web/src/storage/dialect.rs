//! Every SQL difference between SQLite and MySQL/MariaDB lives here. The rest
//! of the storage layer writes one statement for both, with `?` placeholders.

/// Run on every new MySQL/MariaDB connection. With payments clustered by
/// (created_at, id), each filter index is also in primary-key order, which
/// lets the optimizer intersect two of them (status and campaign, say) and
/// then sort every match to return 25: seconds instead of a millisecond on
/// a million payments. Walking one filter index in keyset order is the plan
/// that stops after a page.
pub const MYSQL_SESSION_SETUP: &str =
    "SET SESSION optimizer_switch = 'index_merge_intersection=off'";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    MySql,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::MySql => "mysql",
        }
    }

    /// SQLite takes the write lock up front (a deferred transaction that reads
    /// first cannot upgrade once another writer commits); InnoDB locks rows.
    pub fn begin_write(self) -> &'static str {
        match self {
            Dialect::Sqlite => "BEGIN IMMEDIATE",
            Dialect::MySql => "BEGIN",
        }
    }

    /// Row lock for read-modify-write inside a transaction. SQLite already
    /// holds the database write lock (see `begin_write`).
    pub fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::MySql => " FOR UPDATE",
        }
    }

    /// A locking read that shares: sees rows other transactions committed
    /// after this one's snapshot (MySQL), and, after an `INSERT IGNORE` met
    /// the row (which takes a shared lock), does not ask for more.
    pub fn for_share(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::MySql => " LOCK IN SHARE MODE",
        }
    }

    /// `INSERT` that silently skips a row whose key exists.
    pub fn insert_ignore(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INSERT OR IGNORE",
            Dialect::MySql => "INSERT IGNORE",
        }
    }

    /// The most `?` placeholders one statement may carry: SQLite's
    /// SQLITE_MAX_VARIABLE_NUMBER (32,766 since 3.32) and the 16-bit parameter
    /// count of the MySQL protocol's prepared statements (65,535).
    pub fn max_placeholders(self) -> usize {
        match self {
            Dialect::Sqlite => 32_766,
            Dialect::MySql => 65_535,
        }
    }

    /// Upsert tail that adds the new row's counters to an existing rollup row.
    /// (`VALUES()` works on MariaDB and MySQL 8, where it is deprecated but kept.)
    /// `period` is the key's time column: `day` or `month`.
    pub fn rollup_upsert_tail(self, period: &str) -> String {
        match self {
            Dialect::Sqlite => format!(
                " ON CONFLICT (currency, dimension, {period}, value) DO UPDATE SET \
                 count = count + excluded.count, gross = gross + excluded.gross, \
                 refunded = refunded + excluded.refunded"
            ),
            Dialect::MySql => " ON DUPLICATE KEY UPDATE count = count + VALUES(count), \
                 gross = gross + VALUES(gross), refunded = refunded + VALUES(refunded)"
                .to_owned(),
        }
    }

    /// SUM of an integer column as a 64-bit integer (MariaDB returns DECIMAL).
    pub fn sum(self, column: &str) -> String {
        match self {
            Dialect::Sqlite => format!("SUM({column})"),
            Dialect::MySql => format!("CAST(SUM({column}) AS SIGNED)"),
        }
    }

    /// Case-insensitive substring match. MySQL columns for search use a
    /// `_ci` collation; SQLite's LIKE already ignores ASCII case.
    pub fn contains(self, column: &str) -> String {
        format!("{column} LIKE ? ESCAPE '\\\\'").replace(
            "\\\\",
            match self {
                Dialect::Sqlite => "\\",
                Dialect::MySql => "\\\\",
            },
        )
    }

    /// Whether an error is a transient lock conflict worth retrying the
    /// whole transaction for (deadlock, lock wait timeout, SQLite busy).
    pub fn is_retryable(self, error: &sqlx::Error) -> bool {
        let Some(db) = error.as_database_error() else {
            return false;
        };
        let code = db.code();
        match self {
            // SQLITE_BUSY (5) and its extended codes (…5 = 261, 517, …).
            Dialect::Sqlite => code.is_some_and(|c| c.parse::<i32>().is_ok_and(|n| n & 0xff == 5)),
            // MySQL reports SQLSTATE: 40001 deadlock, HY000 with 1205 lock wait timeout.
            Dialect::MySql => {
                code.as_deref() == Some("40001")
                    || db
                        .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                        .is_some_and(|e| matches!(e.number(), 1205 | 1213))
            }
        }
    }

    /// Whether an error is a unique-key violation.
    pub fn is_unique_violation(self, error: &sqlx::Error) -> bool {
        error
            .as_database_error()
            .is_some_and(|db| db.is_unique_violation())
    }
}

/// Whether an error means the connection itself is gone: a socket error, or
/// the server saying so before it closes the connection (MySQL/MariaDB 1927
/// connection killed, 1053 server shutting down, 4031 disconnected for
/// inactivity; 2006 and 2013 are "server has gone away" and "lost connection
/// during query"). Nothing that ran on it and was not committed is kept.
pub fn is_connection_lost(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .is_some_and(|e| matches!(e.number(), 1053 | 1927 | 2006 | 2013 | 4031)),
        _ => false,
    }
}

/// Escapes `%`, `_` and the escape character for a LIKE pattern.
pub fn like_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for ch in needle.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_escape_per_dialect() {
        assert_eq!(Dialect::Sqlite.contains("x"), "x LIKE ? ESCAPE '\\'");
        assert_eq!(Dialect::MySql.contains("x"), "x LIKE ? ESCAPE '\\\\'");
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
