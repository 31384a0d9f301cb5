//! The ledger's one door to its database: statements with numbered
//! parameters (`?1`), typed parameters and typed cells, and transactions
//! that commit whole or not at all. Every other module reads and writes
//! through [`Db`], never through a driver of its own.

use rusqlite::types::{ToSqlOutput, ValueRef};

use crate::error::{LedgerError, Result};

/// An open connection to the ledger's database.
pub(crate) enum Db {
    /// An SQLite file (or an SQLite database in memory).
    Sqlite(rusqlite::Connection),
    /// A database on a PostgreSQL server.
    Postgres(Box<crate::pg::Postgres>),
}

/// A value bound to a statement's numbered parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Param<'a> {
    Null,
    Integer(i64),
    /// A count or volume: one past `i64::MAX` is refused when bound, never
    /// wrapped.
    Unsigned(u64),
    Text(&'a str),
}

/// What can be bound to a parameter: text, integers, counts, and each of
/// them or NULL.
pub(crate) trait ToParam {
    fn param(&self) -> Param<'_>;
}

impl ToParam for str {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for String {
    fn param(&self) -> Param<'_> {
        Param::Text(self)
    }
}

impl ToParam for i64 {
    fn param(&self) -> Param<'_> {
        Param::Integer(*self)
    }
}

impl ToParam for u32 {
    fn param(&self) -> Param<'_> {
        Param::Integer(i64::from(*self))
    }
}

impl ToParam for u64 {
    fn param(&self) -> Param<'_> {
        Param::Unsigned(*self)
    }
}

impl ToParam for bool {
    fn param(&self) -> Param<'_> {
        Param::Integer(i64::from(*self))
    }
}

impl<T: ToParam + ?Sized> ToParam for &T {
    fn param(&self) -> Param<'_> {
        (**self).param()
    }
}

impl<T: ToParam> ToParam for Option<T> {
    fn param(&self) -> Param<'_> {
        self.as_ref().map_or(Param::Null, ToParam::param)
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match *self {
            Param::Null => Ok(ToSqlOutput::Owned(rusqlite::types::Value::Null)),
            Param::Integer(number) => Ok(ToSqlOutput::from(number)),
            Param::Unsigned(number) => i64::try_from(number)
                .map(ToSqlOutput::from)
                .map_err(|error| rusqlite::Error::ToSqlConversionFailure(Box::new(error))),
            Param::Text(text) => text.to_sql(),
        }
    }
}

/// The parameters of a statement, in order: `params![lot_id, number]`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::ToParam::param(&$value)),*] as &[$crate::db::Param<'_>]
    };
}
pub(crate) use params;

/// One row of a result.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// A cell as the ledger reads it: its tables hold integers, text and NULL.
#[derive(Debug)]
pub(crate) enum Value<'r> {
    Null,
    Integer(i64),
    Text(&'r str),
    /// A cell of another type: what the database calls it.
    Other(String),
}

impl Value<'_> {
    fn describe(&self) -> String {
        match self {
            Value::Null => "NULL".to_owned(),
            Value::Integer(number) => format!("the integer {number}"),
            Value::Text(text) => {
                format!("the text {:?}", text.chars().take(40).collect::<String>())
            }
            Value::Other(kind) => format!("a value of type {kind}"),
        }
    }
}

/// What a cell can be read as: integers, counts, text, and each of them
/// or NULL. A cell of another type, or a count out of range, is a fault,
/// never a made-up value.
pub(crate) trait Cell: Sized {
    /// The value read, or what it is instead.
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String>;
}

fn expected<T>(value: &Value<'_>, what: &str) -> std::result::Result<T, String> {
    Err(format!("{} where {what} belongs", value.describe()))
}

impl Cell for i64 {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Integer(number) => Ok(number),
            other => expected(&other, "an integer"),
        }
    }
}

impl Cell for u32 {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Integer(number) => u32::try_from(number)
                .map_err(|_| format!("{number} where a count from 0 to {} belongs", u32::MAX)),
            other => expected(&other, "a count"),
        }
    }
}

impl Cell for u64 {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Integer(number) => {
                u64::try_from(number).map_err(|_| format!("{number} where a count from 0 belongs"))
            }
            other => expected(&other, "a count"),
        }
    }
}

impl Cell for bool {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Integer(0) => Ok(false),
            Value::Integer(1) => Ok(true),
            other => expected(&other, "0 or 1"),
        }
    }
}

impl Cell for String {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Text(text) => Ok(text.to_owned()),
            other => expected(&other, "text"),
        }
    }
}

impl<T: Cell> Cell for Option<T> {
    fn from_value(value: Value<'_>) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Row<'_> {
    /// Cell `index` (from 0) as it is stored.
    fn value(&self, index: usize) -> Result<Value<'_>> {
        match self {
            Row::Sqlite(row) => Ok(match row.get_ref(index)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(number) => Value::Integer(number),
                ValueRef::Text(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => Value::Text(text),
                    Err(_) => Value::Other("text that is not UTF-8".to_owned()),
                },
                ValueRef::Real(_) => Value::Other("real".to_owned()),
                ValueRef::Blob(_) => Value::Other("blob".to_owned()),
            }),
            Row::Postgres(row) => crate::pg::cell_value(row, index),
        }
    }

    /// Cell `index` (from 0), typed.
    pub(crate) fn get<T: Cell>(&self, index: usize) -> Result<T> {
        T::from_value(self.value(index)?).map_err(|why| {
            LedgerError::internal(format!(
                "a stored cell does not read (column {index}): {why}"
            ))
        })
    }

    /// Cell `index` as borrowed text (no copy); anything else is a fault.
    pub(crate) fn text(&self, index: usize) -> Result<&str> {
        match self.value(index)? {
            Value::Text(text) => Ok(text),
            other => Err(LedgerError::internal(format!(
                "a stored cell does not read (column {index}): {} where text belongs",
                other.describe()
            ))),
        }
    }
}

/// How a transaction starts: `Write` takes the write lock at once, so
/// what it reads stays true until it commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lock {
    /// A consistent view to read: a writer committing meanwhile is not
    /// seen half-way.
    Read,
    Write,
    /// A write to the central ledger's site events: one push at a time.
    Sites,
}

impl Db {
    /// The first row of `sql`, where there is one.
    pub(crate) fn row<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<Option<T>> {
        match self {
            Db::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                match rows.next()? {
                    Some(row) => map(&Row::Sqlite(row)).map(Some),
                    None => Ok(None),
                }
            }
            Db::Postgres(server) => match server.query(sql, params)?.first() {
                Some(row) => map(&Row::Postgres(row)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// The first row of `sql`, which must be there (an aggregate, a row a
    /// foreign key guarantees); none is a fault naming `what`.
    pub(crate) fn one<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        map: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        self.row(sql, params, map)?.ok_or_else(|| {
            LedgerError::Tampered(format!("a row the ledger must hold is missing ({sql})"))
        })
    }

    /// Every row of `sql`, each given to `each` in order.
    pub(crate) fn each(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut each: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.scan(sql, params, |row| each(row).map(|()| true))
    }

    /// The rows of `sql`, each given to `next` in order until it says
    /// `false` (stop): the rows after it are not read.
    pub(crate) fn scan(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut next: impl FnMut(&Row<'_>) -> Result<bool>,
    ) -> Result<()> {
        match self {
            Db::Sqlite(connection) => {
                let mut statement = connection.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(params))?;
                while let Some(row) = rows.next()? {
                    if !next(&Row::Sqlite(row))? {
                        break;
                    }
                }
                Ok(())
            }
            Db::Postgres(server) => {
                for row in &server.query(sql, params)? {
                    if !next(&Row::Postgres(row))? {
                        break;
                    }
                }
                Ok(())
            }
        }
    }

    /// Every row of `sql`, mapped.
    pub(crate) fn rows<T>(
        &self,
        sql: &str,
        params: &[Param<'_>],
        mut map: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        self.each(sql, params, |row| {
            all.push(map(row)?);
            Ok(())
        })?;
        Ok(all)
    }

    /// Run `sql`; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<usize> {
        match self {
            Db::Sqlite(connection) => Ok(connection
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params))?),
            Db::Postgres(server) => server.execute(sql, params),
        }
    }

    /// Run `work` in one transaction: committed when it returns `Ok`,
    /// rolled back when it fails or panics.
    pub(crate) fn transaction<T>(
        &self,
        lock: Lock,
        work: impl FnOnce(&Db) -> Result<T>,
    ) -> Result<T> {
        let begin = match (self, lock) {
            (Db::Sqlite(_), Lock::Read) => "BEGIN DEFERRED",
            // The write lock at once: two writers never read the same head.
            (Db::Sqlite(_), Lock::Write) => "BEGIN IMMEDIATE",
            // One snapshot for every statement of the read.
            (Db::Postgres(_), Lock::Read) => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            // Writers one at a time, as on SQLite: the lock on the head
            // conflicts with itself and with every insert or update, never
            // with a read. Each statement at READ COMMITTED then sees every
            // event committed before the lock was granted.
            (Db::Postgres(_), Lock::Write) => {
                "BEGIN ISOLATION LEVEL READ COMMITTED; LOCK TABLE head IN SHARE ROW EXCLUSIVE MODE"
            }
            // One push at a time, by an advisory lock: a pusher may only
            // select and insert, and a table lock in this mode needs more.
            (Db::Postgres(_), Lock::Sites) => {
                "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1685090931)"
            }
            // No central ledger is an SQLite file; a write lock all the same.
            (Db::Sqlite(_), Lock::Sites) => "BEGIN IMMEDIATE",
        };
        // Inside a transaction already (an export read in the snapshot its
        // verify read): a read is part of it; a write never nests.
        if self.in_transaction() {
            return match lock {
                Lock::Read => work(self),
                Lock::Write | Lock::Sites => Err(LedgerError::internal(
                    "a write was started inside another transaction".to_owned(),
                )),
            };
        }
        // Guarded before BEGIN: a BEGIN batch that fails half-way (the lock
        // refused) would leave an aborted transaction open on the
        // connection, and every later call failing.
        let open = Open(Some(self));
        self.batch(begin)?;
        self.set_in_transaction(true);
        let value = work(self)?;
        open.commit()?;
        Ok(value)
    }

    /// Whether a transaction is open on the connection.
    fn in_transaction(&self) -> bool {
        match self {
            Db::Sqlite(connection) => !connection.is_autocommit(),
            Db::Postgres(server) => server.in_transaction.get(),
        }
    }

    fn set_in_transaction(&self, open: bool) {
        if let Db::Postgres(server) = self {
            server.in_transaction.set(open);
        }
    }

    /// Statements without parameters, run as one.
    fn batch(&self, sql: &str) -> Result<()> {
        match self {
            Db::Sqlite(connection) => Ok(connection.execute_batch(sql)?),
            Db::Postgres(server) => server.batch(sql),
        }
    }

    /// Roll back the open transaction.
    fn rollback(&self) -> Result<()> {
        self.set_in_transaction(false);
        self.batch("ROLLBACK")
    }

    fn commit(&self) -> Result<()> {
        self.batch("COMMIT")?;
        self.set_in_transaction(false);
        Ok(())
    }
}

/// An open transaction: rolled back when dropped uncommitted (the work
/// failed or panicked), so the connection is never left inside one.
struct Open<'a>(Option<&'a Db>);

impl Open<'_> {
    fn commit(mut self) -> Result<()> {
        match self.0.take() {
            Some(db) => match db.commit() {
                Ok(()) => Ok(()),
                Err(error) => {
                    // A failed COMMIT (a full disk) may leave it open.
                    let _ = db.rollback(); // fallback-ok: the commit's own error is returned
                    Err(error)
                }
            },
            None => Ok(()),
        }
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if let Some(db) = self.0.take() {
            // fallback-ok: dropped on a failure, whose error is the one returned
            let _ = db.rollback();
        }
    }
}
