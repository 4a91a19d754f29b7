//! A thin wrapper over Spin's MySQL connection.
//!
//! Spin opens a new server connection on every `Connection::open` (no pool), so a
//! handler opens one [`Db`] per request and passes it down. What the wrapper adds:
//! - rows read by column name with lenient integer conversions ([`Row::get`]), since
//!   MySQL expressions change integer widths (`COUNT(*)` is BIGINT, `LAST_INSERT_ID()`
//!   BIGINT UNSIGNED...);
//! - [`Db::transaction`]: `START TRANSACTION` / `COMMIT`, `ROLLBACK` on error; a
//!   trapped instance drops the connection, which rolls back too;
//! - [`Db::last_insert_id`] / [`Db::row_count`]: Spin's `execute` returns neither, so they
//!   are read back on the same connection;
//! - [`DbError::Duplicate`]: MySQL error 1062 with the violated key's name, so callers
//!   turn it into a domain error (`UsernameTaken`) where the query runs.

use spin_sdk::mysql::{self, Column, DbValue, ParameterValue};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The `db_url` variable is missing or invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("cannot connect to MySQL: {0}")]
    Connect(String),
    /// InnoDB chose the statement's transaction as a deadlock victim (MySQL error 1213,
    /// SQLSTATE 40001) and rolled all of it back; the server's advice is to run it again
    /// ([`Db::transaction_retrying`] does).
    #[error("deadlock: {0}")]
    Deadlock(String),
    /// A unique key was violated (MySQL error 1062). `key` is the index name without a
    /// table prefix (`users_email_key`).
    #[error("duplicate value for unique key `{key}`")]
    Duplicate { key: String },
    #[error("query failed: {0}")]
    Query(String),
    #[error("cannot read column `{column}`: {why}")]
    Decode { column: String, why: String },
}

impl DbError {
    /// Whether MySQL could not be reached (down, restarting, the connection lost):
    /// the request may succeed a moment later, so it answers 503, not 500.
    pub fn is_unreachable(&self) -> bool {
        match self {
            DbError::Connect(_) => true,
            DbError::Query(why) => {
                let why = why.to_ascii_lowercase();
                [
                    "connection",
                    "broken pipe",
                    "os error",
                    "gone away",
                    "lost connection",
                    // The host's deadline on a frozen server, I/O failures in a result.
                    "timed out",
                    "io error",
                    "unexpected eof",
                ]
                .iter()
                .any(|sign| why.contains(sign))
            }
            _ => false,
        }
    }

    /// Whether this is a unique-key violation of `key`.
    pub fn is_duplicate_of(&self, key: &str) -> bool {
        matches!(self, DbError::Duplicate { key: k } if k == key)
    }

    fn from_mysql(e: mysql::MysqlError) -> Self {
        match e {
            mysql::MysqlError::ConnectionFailed(m) => DbError::Connect(m),
            mysql::MysqlError::QueryFailed(m) if is_deadlock_message(&m) => DbError::Deadlock(m),
            mysql::MysqlError::QueryFailed(m) => match duplicate_key(&m) {
                Some(key) => DbError::Duplicate { key },
                None => DbError::Query(m),
            },
            other => DbError::Query(other.to_string()),
        }
    }
}

/// Extracts the key name from a MySQL/MariaDB duplicate-entry message, e.g.
/// `ERROR 1062 (23000): Duplicate entry 'x' for key 'users.users_email_key'`.
/// MySQL 8 prefixes the table, MariaDB does not; both give `users_email_key`.
pub fn duplicate_key(message: &str) -> Option<String> {
    if !(message.contains("1062") || message.contains("Duplicate entry")) {
        return None;
    }
    let key = message
        .rsplit_once("for key '")
        .and_then(|(_, rest)| rest.split_once('\''))
        .map(|(key, _)| key)
        .unwrap_or("");
    Some(key.rsplit('.').next().unwrap_or(key).to_owned())
}

/// Something usable as a statement parameter.
pub trait IntoParam {
    fn into_param(self) -> ParameterValue;
}

macro_rules! into_param {
    ($($t:ty => $v:ident),* $(,)?) => {$(
        impl IntoParam for $t {
            fn into_param(self) -> ParameterValue { ParameterValue::$v(self) }
        }
    )*};
}
into_param!(i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, u8 => Uint8, u16 => Uint16,
    u32 => Uint32, u64 => Uint64, f64 => Floating64, bool => Boolean, String => Str,
    Vec<u8> => Binary);

impl IntoParam for &str {
    fn into_param(self) -> ParameterValue {
        ParameterValue::Str(self.to_owned())
    }
}

impl IntoParam for &String {
    fn into_param(self) -> ParameterValue {
        ParameterValue::Str(self.clone())
    }
}

impl<T: IntoParam> IntoParam for Option<T> {
    fn into_param(self) -> ParameterValue {
        self.map_or(ParameterValue::DbNull, IntoParam::into_param)
    }
}

/// Builds an array of `ParameterValue`s from mixed values, for `db.query(sql, &params![user_id, "name", None::<i64>])`.
#[macro_export]
macro_rules! params {
    ($($v:expr),* $(,)?) => { [$($crate::db::IntoParam::into_param($v)),*] };
}

/// A value readable from a column.
pub trait FromDb: Sized {
    fn from_db(v: &DbValue) -> Result<Self, String>;
}

fn as_i128(v: &DbValue) -> Option<i128> {
    Some(match v {
        DbValue::Boolean(b) => *b as i128,
        DbValue::Int8(n) => *n as i128,
        DbValue::Int16(n) => *n as i128,
        DbValue::Int32(n) => *n as i128,
        DbValue::Int64(n) => *n as i128,
        DbValue::Uint8(n) => *n as i128,
        DbValue::Uint16(n) => *n as i128,
        DbValue::Uint32(n) => *n as i128,
        DbValue::Uint64(n) => *n as i128,
        // Some servers send integer expressions as text in the binary protocol.
        DbValue::Str(s) => return s.trim().parse().ok(),
        _ => return None,
    })
}

macro_rules! from_db_int {
    ($($t:ty),*) => {$(
        impl FromDb for $t {
            fn from_db(v: &DbValue) -> Result<Self, String> {
                let n = as_i128(v).ok_or_else(|| format!("expected an integer, got {v:?}"))?;
                <$t>::try_from(n).map_err(|_| format!("{n} does not fit in {}", stringify!($t)))
            }
        }
    )*};
}
from_db_int!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromDb for bool {
    fn from_db(v: &DbValue) -> Result<Self, String> {
        as_i128(v)
            .map(|n| n != 0)
            .ok_or_else(|| format!("expected a boolean, got {v:?}"))
    }
}

impl FromDb for f64 {
    fn from_db(v: &DbValue) -> Result<Self, String> {
        match v {
            DbValue::Floating64(f) => Ok(*f),
            DbValue::Floating32(f) => Ok(*f as f64),
            other => as_i128(other)
                .map(|n| n as f64)
                .ok_or_else(|| format!("expected a number, got {other:?}")),
        }
    }
}

impl FromDb for String {
    fn from_db(v: &DbValue) -> Result<Self, String> {
        match v {
            DbValue::Str(s) => Ok(s.clone()),
            DbValue::Binary(b) => String::from_utf8(b.clone()).map_err(|e| e.to_string()),
            other => Err(format!("expected text, got {other:?}")),
        }
    }
}

impl FromDb for Vec<u8> {
    fn from_db(v: &DbValue) -> Result<Self, String> {
        match v {
            DbValue::Binary(b) => Ok(b.clone()),
            DbValue::Str(s) => Ok(s.as_bytes().to_vec()),
            other => Err(format!("expected bytes, got {other:?}")),
        }
    }
}

impl<T: FromDb> FromDb for Option<T> {
    fn from_db(v: &DbValue) -> Result<Self, String> {
        match v {
            DbValue::DbNull => Ok(None),
            other => T::from_db(other).map(Some),
        }
    }
}

/// The rows of a query.
pub struct Rows {
    columns: Vec<Column>,
    rows: Vec<Vec<DbValue>>,
}

impl Rows {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|values| Row {
            columns: &self.columns,
            values,
        })
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }
}

/// One row, read by column name.
#[derive(Clone, Copy)]
pub struct Row<'a> {
    columns: &'a [Column],
    values: &'a [DbValue],
}

impl Row<'_> {
    /// The value of column `name` (as named in the SELECT list, aliases included).
    pub fn get<T: FromDb>(&self, name: &str) -> Result<T, DbError> {
        let index = self
            .columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| DbError::Decode {
                column: name.to_owned(),
                why: "no such column in the result".into(),
            })?;
        T::from_db(&self.values[index]).map_err(|why| DbError::Decode {
            column: name.to_owned(),
            why,
        })
    }
}

/// One MySQL connection for the duration of a request.
pub struct Db {
    conn: mysql::Connection,
}

impl Db {
    /// Opens a connection with the `db_url` variable.
    pub fn open() -> Result<Self, DbError> {
        Self::open_url(&crate::config::db_url()?)
    }

    /// Opens a connection to `url`.
    pub fn open_url(url: &str) -> Result<Self, DbError> {
        mysql::Connection::open(url)
            .map(|conn| Self { conn })
            .map_err(DbError::from_mysql)
    }

    /// Runs a statement that returns rows.
    pub fn query(&self, sql: &str, params: &[ParameterValue]) -> Result<Rows, DbError> {
        let set = self.conn.query(sql, params).map_err(DbError::from_mysql)?;
        Ok(Rows {
            columns: set.columns,
            rows: set.rows,
        })
    }

    /// Runs a statement that returns no rows.
    pub fn execute(&self, sql: &str, params: &[ParameterValue]) -> Result<(), DbError> {
        self.conn.execute(sql, params).map_err(DbError::from_mysql)
    }

    /// Reads one value of the first row (`SELECT COUNT(*) ...`); `None` if no row.
    pub fn query_scalar<T: FromDb>(
        &self,
        sql: &str,
        params: &[ParameterValue],
    ) -> Result<Option<T>, DbError> {
        let rows = self.query(sql, params)?;
        match rows.rows.first().and_then(|r| r.first()) {
            None => Ok(None),
            Some(v) => T::from_db(v).map(Some).map_err(|why| DbError::Decode {
                column: "0".into(),
                why,
            }),
        }
    }

    /// The AUTO_INCREMENT id of the last INSERT on this connection.
    pub fn last_insert_id(&self) -> Result<u64, DbError> {
        self.query_scalar("SELECT LAST_INSERT_ID()", &[])?
            .ok_or_else(|| DbError::Query("LAST_INSERT_ID() returned no row".into()))
    }

    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    pub fn row_count(&self) -> Result<i64, DbError> {
        self.query_scalar("SELECT ROW_COUNT()", &[])?
            .ok_or_else(|| DbError::Query("ROW_COUNT() returned no row".into()))
    }

    /// Runs `f` inside a transaction: committed when it returns `Ok`, rolled back when it
    /// returns `Err` (the error is passed through).
    pub fn transaction<T, E: From<DbError>>(
        &self,
        f: impl FnOnce(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        self.execute("START TRANSACTION", &[])?;
        match f(self) {
            Ok(value) => {
                self.execute("COMMIT", &[])?;
                Ok(value)
            }
            Err(e) => {
                // If ROLLBACK itself fails the connection is broken, and the server rolls
                // back when it drops; the original error is the one worth reporting.
                if let Err(rb) = self.execute("ROLLBACK", &[]) {
                    crate::log_error!("rollback failed: {rb}");
                }
                Err(e)
            }
        }
    }

    /// [`Db::transaction`], run again (up to [`DEADLOCK_ATTEMPTS`] times in all) when InnoDB
    /// chose it as a deadlock victim: the server has already rolled the whole transaction
    /// back and advises a retry, so `f` starts again from nothing. Two transactions locking
    /// the same rows in different orders (two results sharing players, a result beside a
    /// tick's batch) are ordinary under load, not a fault to show the client.
    pub fn transaction_retrying<T, E: From<DbError> + IsDeadlock>(
        &self,
        mut f: impl FnMut(&Db) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut attempt = 1;
        loop {
            match self.transaction(&mut f) {
                Err(e) if attempt < DEADLOCK_ATTEMPTS && e.is_deadlock() => attempt += 1,
                other => return other,
            }
        }
    }
}

/// Errors that may stand for a deadlock victim, so [`Db::transaction_retrying`] knows
/// when to run a transaction again. Feature errors that wrap a [`DbError`] say whether it
/// is [`DbError::Deadlock`].
pub trait IsDeadlock {
    fn is_deadlock(&self) -> bool;
}

impl IsDeadlock for DbError {
    fn is_deadlock(&self) -> bool {
        matches!(self, DbError::Deadlock(_))
    }
}

/// Whether a MySQL error message is InnoDB's deadlock-victim error (1213, "Deadlock
/// found ...") or another serialization failure (SQLSTATE 40001, which also comes with
/// lock-wait rollbacks). Spin's MySQL interface hands errors over as text only, so this
/// is read from the text, once, where the error is first seen ([`DbError::Deadlock`]).
fn is_deadlock_message(message: &str) -> bool {
    message.contains("Deadlock found") || message.contains("(40001)")
}

/// How many times [`Db::transaction_retrying`] runs a transaction in all.
pub const DEADLOCK_ATTEMPTS: u32 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_key_names_are_read_from_mysql_and_mariadb_messages() {
        assert_eq!(
            duplicate_key(
                "ERROR 1062 (23000): Duplicate entry 'a@b.c' for key 'users.users_email_key'"
            ),
            Some("users_email_key".into())
        );
        assert_eq!(
            duplicate_key("Duplicate entry 'alice' for key 'users_username_lower_key'"),
            Some("users_username_lower_key".into())
        );
        assert_eq!(
            duplicate_key("ERROR 1146 (42S02): Table 'x' doesn't exist"),
            None
        );
    }

    #[test]
    fn deadlock_victims_are_told_apart_from_other_failures() {
        assert!(is_deadlock_message(
            "ERROR 1213 (40001): Deadlock found when trying to get lock; try restarting transaction"
        ));
        // A number that merely looks like the code is no deadlock.
        assert!(!is_deadlock_message("user 1213 vanished"));
        assert!(DbError::Deadlock("x".into()).is_deadlock());
        assert!(!DbError::Query("x".into()).is_deadlock());
    }

    #[test]
    fn integers_convert_across_widths_when_they_fit() {
        assert_eq!(u64::from_db(&DbValue::Int64(5)), Ok(5));
        assert_eq!(i64::from_db(&DbValue::Uint64(5)), Ok(5));
        assert_eq!(i32::from_db(&DbValue::Str("12".into())), Ok(12));
        assert!(u64::from_db(&DbValue::Int64(-1)).is_err());
        assert!(u8::from_db(&DbValue::Int32(300)).is_err());
        assert_eq!(Option::<u64>::from_db(&DbValue::DbNull), Ok(None));
        assert!(u64::from_db(&DbValue::DbNull).is_err());
    }

    #[test]
    fn text_reads_from_str_and_utf8_binary() {
        assert_eq!(String::from_db(&DbValue::Str("x".into())), Ok("x".into()));
        assert_eq!(
            String::from_db(&DbValue::Binary(b"y".to_vec())),
            Ok("y".into())
        );
    }

    #[test]
    fn the_params_macro_mixes_types() {
        let p = params![1u64, "a", None::<i64>, Some(2i32)];
        assert!(matches!(p[0], ParameterValue::Uint64(1)));
        assert!(matches!(&p[1], ParameterValue::Str(s) if s == "a"));
        assert!(matches!(p[2], ParameterValue::DbNull));
        assert!(matches!(p[3], ParameterValue::Int32(2)));
    }
}
