//! Running statements on either backend. A statement is SQL text with `?`
//! placeholders and its [`Arg`]s; rows come back as any type both backends
//! decode ([`Decodable`]). The code of every read and write is then a plain
//! function over a [`Conn`] or a [`Tx`], written once for SQLite and MySQL.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use sqlx::mysql::{MySql, MySqlConnection, MySqlRow};
use sqlx::pool::PoolConnection;
use sqlx::query::Query;
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{Database, Encode, FromRow, Transaction, Type};

use super::Dialect;

/// One value per backend: a pool, a connection, a transaction.
#[derive(Clone, Debug)]
pub(crate) enum Backend<S, M> {
    Sqlite(S),
    MySql(M),
}

/// Expands `$body` once per backend with `$x` bound to the value inside a
/// [`Backend`] and `$d` to its [`Dialect`].
///
/// Why a macro: each backend keeps its native sqlx types (the `Any` driver
/// cannot decode several column types used here), so the two arms bind
/// values of different types and the body is type-checked once for each. A
/// generic function would need every sqlx bound spelled out at each use.
/// The macro only matches: any `?` or `return` is in the body, where it is
/// read. Shared code reaches a backend through it alone (the statement
/// methods below, the pool's own calls).
macro_rules! on_backend {
    ($value:expr, |$x:ident, $d:ident| $body:expr) => {
        match $value {
            $crate::storage::exec::Backend::Sqlite($x) => {
                #[allow(unused_variables)]
                let $d = $crate::storage::Dialect::Sqlite;
                $body
            }
            $crate::storage::exec::Backend::MySql($x) => {
                #[allow(unused_variables)]
                let $d = $crate::storage::Dialect::MySql;
                $body
            }
        }
    };
}
pub(crate) use on_backend;

/// A value bound to a `?` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Arg<'a> {
    Int(i64),
    Text(Cow<'a, str>),
    /// NULL in a text column.
    NoText,
    /// NULL in an integer column.
    NoInt,
}

impl From<i64> for Arg<'_> {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(v: &'a str) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(v: &'a String) -> Self {
        Arg::Text(Cow::Borrowed(v))
    }
}

impl From<String> for Arg<'_> {
    fn from(v: String) -> Self {
        Arg::Text(Cow::Owned(v))
    }
}

impl From<Option<i64>> for Arg<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::NoInt, Arg::Int)
    }
}

impl<'a> From<Option<&'a str>> for Arg<'a> {
    fn from(v: Option<&'a str>) -> Self {
        v.map_or(Arg::NoText, Arg::from)
    }
}

/// Binds `args` to `query` in order.
fn bind<'q, DB: Database>(
    mut query: Query<'q, DB, DB::Arguments<'q>>,
    args: &'q [Arg<'_>],
) -> Query<'q, DB, DB::Arguments<'q>>
where
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    Option<i64>: Encode<'q, DB> + Type<DB>,
{
    for arg in args {
        query = match arg {
            Arg::Int(v) => query.bind(*v),
            Arg::Text(v) => query.bind(v.as_ref()),
            Arg::NoText => query.bind(None::<&str>),
            Arg::NoInt => query.bind(None::<i64>),
        };
    }
    query
}

/// A row type that both backends decode.
pub(crate) trait Decodable:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, MySqlRow> + Send + Unpin
{
}

impl<T> Decodable for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, MySqlRow> + Send + Unpin
{
}

/// A connection of either backend, held by `S` (SQLite) or `M` (MySQL): a
/// pooled connection ([`Conn`]) or an open transaction ([`Tx`]).
///
/// `'a` outlives every borrow of a `Db`: it is how long the inputs of the
/// code run on it live, which lets [`Store::write`](super::Store::write)
/// hand a fresh one to the same code on each attempt.
pub(crate) struct Db<'a, S, M> {
    inner: Backend<S, M>,
    inputs: PhantomData<&'a ()>,
}

/// A pooled connection, outside any transaction.
pub(crate) type Conn<'a> = Db<'a, PoolConnection<Sqlite>, PoolConnection<MySql>>;

/// An open write transaction.
pub(crate) type Tx<'a> = Db<'a, Open<Sqlite>, Open<MySql>>;

/// A transaction of one backend, under a name without a lifetime: spelled
/// `Transaction<'static, _>` inside [`Tx`], the `'static` keeps a body run
/// on a `&mut Tx` from borrowing its inputs (rustc's implied bounds).
pub(crate) struct Open<DB: Database>(Transaction<'static, DB>);

impl<DB: Database> Deref for Open<DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.0
    }
}

impl<DB: Database> DerefMut for Open<DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.0
    }
}

impl<S, M> Db<'_, S, M> {
    pub(crate) fn dialect(&self) -> Dialect {
        on_backend!(&self.inner, |_held, d| d)
    }
}

impl<S, M> Db<'_, S, M>
where
    S: DerefMut<Target = SqliteConnection> + Send,
    M: DerefMut<Target = MySqlConnection> + Send,
{
    /// Runs a statement; returns the number of rows it changed.
    pub(crate) async fn execute(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<u64, sqlx::Error> {
        on_backend!(&mut self.inner, |c, d| Ok(bind(sqlx::query(sql), args)
            .execute(&mut **c)
            .await?
            .rows_affected()))
    }

    pub(crate) async fn fetch_all<R: Decodable>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<R>, sqlx::Error> {
        on_backend!(&mut self.inner, |c, d| {
            let rows = bind(sqlx::query(sql), args).fetch_all(&mut **c).await?;
            rows.iter().map(R::from_row).collect()
        })
    }

    pub(crate) async fn fetch_optional<R: Decodable>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<R>, sqlx::Error> {
        on_backend!(&mut self.inner, |c, d| {
            let row = bind(sqlx::query(sql), args)
                .fetch_optional(&mut **c)
                .await?;
            row.as_ref().map(R::from_row).transpose()
        })
    }

    pub(crate) async fn fetch_one<R: Decodable>(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<R, sqlx::Error> {
        on_backend!(&mut self.inner, |c, d| {
            let row = bind(sqlx::query(sql), args).fetch_one(&mut **c).await?;
            R::from_row(&row)
        })
    }
}

impl Tx<'_> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        on_backend!(self.inner, |tx, d| tx.0.commit().await)
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        on_backend!(self.inner, |tx, d| tx.0.rollback().await)
    }
}

impl From<PoolConnection<Sqlite>> for Conn<'_> {
    fn from(c: PoolConnection<Sqlite>) -> Self {
        Db {
            inner: Backend::Sqlite(c),
            inputs: PhantomData,
        }
    }
}

impl From<PoolConnection<MySql>> for Conn<'_> {
    fn from(c: PoolConnection<MySql>) -> Self {
        Db {
            inner: Backend::MySql(c),
            inputs: PhantomData,
        }
    }
}

impl From<Transaction<'static, Sqlite>> for Tx<'_> {
    fn from(tx: Transaction<'static, Sqlite>) -> Self {
        Db {
            inner: Backend::Sqlite(Open(tx)),
            inputs: PhantomData,
        }
    }
}

impl From<Transaction<'static, MySql>> for Tx<'_> {
    fn from(tx: Transaction<'static, MySql>) -> Self {
        Db {
            inner: Backend::MySql(Open(tx)),
            inputs: PhantomData,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_text_is_null_when_absent() {
        assert_eq!(Arg::from(None::<&str>), Arg::NoText);
        assert_eq!(Arg::from(Some("a")), Arg::Text(Cow::Borrowed("a")));
        assert_eq!(Arg::from(7), Arg::Int(7));
    }
}
