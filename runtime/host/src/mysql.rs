//! `fermyon:spin/mysql@2.0.0` on `mysql_async`, with Spin's semantics.
//!
//! - `open` checks the address against `allowed_outbound_hosts` (scheme `mysql`), then
//!   hands the guest a connection of its own. Spin builds a new connection per `open`; we
//!   take one from a `mysql_async::Pool` kept per URL in [`HostServices`](crate::HostServices)
//!   instead. The guest cannot tell: a pooled connection is reset (`COM_RESET_CONNECTION`:
//!   open transaction rolled back, session variables, temporary tables and prepared
//!   statements gone) before it is handed out again, so every `open` starts a fresh session,
//!   and dropping the resource without `COMMIT` still rolls back, as closing does on Spin.
//! - `query` and `execute` run one prepared statement with `?` parameters; `execute` returns
//!   nothing (no affected-row count), as on Spin.
//! - Column types map exactly as Spin maps them ([`column_type`]): integers, FLOAT, DOUBLE,
//!   CHAR/VARCHAR/TEXT and BINARY/VARBINARY/BLOB; any other column (DECIMAL, DATE, DATETIME,
//!   TIMESTAMP, TIME, YEAR, BIT, MySQL's JSON, ...) has type `other` and a non-NULL value in
//!   it fails the whole query with "Cannot convert value ...".
//! - Every connect and statement has a deadline ([`DEADLINE`]), as Redis commands do: a
//!   frozen server (a network partition, a stopped VM) answers the guest with an error
//!   it can turn into a 503 instead of holding the request for ever. A connection whose
//!   statement ran out of time is in an unknown state: it refuses further statements and
//!   is closed, never given back to the pool. (Spin sets no deadline; a guest cannot
//!   tell the difference except that a stuck server ends in an error.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::{FromValue, Queryable as _};
use wasmtime::component::Resource;

use crate::bindings::imports::fermyon::spin2_0_0::{mysql, rdbms_types as types};
use crate::observe::Interface;
use crate::SpinHostState;
use types::{Column, DbDataType, DbValue, Error, ParameterValue, RowSet};

/// Spin's per-instance cap on open connections (its resource table's capacity).
pub const MAX_CONNECTIONS_PER_INSTANCE: usize = 1024;
/// Connections a pool keeps open when idle.
const POOL_IDLE: usize = 8;
/// Spin's cap on the bytes of one query result held in the host.
pub const MAX_RESULT_BYTES: usize = 128 << 20;

/// How long a connect or one statement may take before it fails with "timed out".
pub const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A guest's open connection (the `connection` resource).
pub struct MysqlConnection {
    conn: mysql_async::Conn,
    /// A statement ran out of time: the connection's state is unknown.
    broken: bool,
}

impl MysqlConnection {
    /// Runs one statement under [`DEADLINE`]; after a timeout the connection is broken.
    async fn run<T>(
        &mut self,
        op: impl AsyncFnOnce(&mut mysql_async::Conn) -> Result<T, Error>,
    ) -> Result<T, Error> {
        if self.broken {
            return Err(Error::QueryFailed(
                "connection lost: an earlier statement timed out".into(),
            ));
        }
        match tokio::time::timeout(DEADLINE, op(&mut self.conn)).await {
            Ok(r) => r,
            Err(_) => {
                self.broken = true;
                Err(Error::QueryFailed(format!(
                    "connection timed out: MySQL did not answer within {} s",
                    DEADLINE.as_secs()
                )))
            }
        }
    }
}

/// One pool per database URL, shared by all instances; or, with pooling off
/// ([`crate::HostServices::set_mysql_pooling`]), a new connection per `open`, exactly as
/// Spin does, for measuring what a component gets there.
pub(crate) struct MysqlPools {
    pools: Mutex<HashMap<String, mysql_async::Pool>>,
    pooled: AtomicBool,
}

impl Default for MysqlPools {
    fn default() -> Self {
        Self {
            pools: Mutex::default(),
            pooled: AtomicBool::new(true),
        }
    }
}

impl MysqlPools {
    pub(crate) fn set_pooling(&self, on: bool) {
        self.pooled.store(on, Ordering::Relaxed);
    }

    /// A connection to `address`: from its pool (reset), or new when pooling is off (a
    /// standalone `Conn` closes itself when dropped).
    async fn connect(&self, address: &str) -> Result<mysql_async::Conn, Error> {
        let conn = if self.pooled.load(Ordering::Relaxed) {
            self.pool(address)?.get_conn().await
        } else {
            mysql_async::Conn::new(connection_opts(address)?).await
        };
        conn.map_err(|e| Error::ConnectionFailed(format!("{e:?}")))
    }

    fn pool(&self, address: &str) -> Result<mysql_async::Pool, Error> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let opts = connection_opts(address)?;
        let pool = mysql_async::Pool::new(opts);
        pools.insert(address.to_owned(), pool.clone());
        Ok(pool)
    }

    /// Closes every pool (waits for their connections to be closed).
    pub(crate) async fn shutdown(&self) {
        let pools: Vec<_> = {
            let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
            pools.drain().map(|(_, p)| p).collect()
        };
        // `disconnect` waits for every connection to come back; an instance that outlived
        // the drain must not hold up the runtime's exit.
        for pool in pools {
            let _ =
                tokio::time::timeout(std::time::Duration::from_secs(5), pool.disconnect()).await;
        }
    }
}

/// Spin accepts `ssl-mode`/`sslmode` in the URL's query (which `mysql_async` would refuse):
/// it is removed, and any value other than `disabled` asks for TLS, which this runtime (built
/// without a TLS stack; it only talks to local databases) refuses.
fn connection_opts(address: &str) -> Result<mysql_async::Opts, Error> {
    let mut url =
        url::Url::parse(address).map_err(|e| Error::ConnectionFailed(format!("{e:?}")))?;
    let is_ssl = |k: &str| k.eq_ignore_ascii_case("ssl-mode") || k.eq_ignore_ascii_case("sslmode");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if pairs
        .iter()
        .any(|(k, v)| is_ssl(k) && !v.eq_ignore_ascii_case("disabled"))
    {
        return Err(Error::ConnectionFailed(
            "TLS connections to MySQL are not supported by rh-runtime".into(),
        ));
    }
    url.set_query(None);
    let rest: Vec<_> = pairs.iter().filter(|(k, _)| !is_ssl(k)).collect();
    if !rest.is_empty() {
        url.query_pairs_mut().extend_pairs(rest);
    }
    let opts = mysql_async::Opts::from_url(url.as_str())
        .map_err(|e| Error::ConnectionFailed(format!("{e:?}")))?;
    // The reset is what makes a pooled connection indistinguishable from a new one. The pool
    // must never make a guest wait for a connection Spin would simply open: its cap is Spin's
    // per-instance cap, so only the server's own `max_connections` refuses, as on Spin.
    let constraints = mysql_async::PoolConstraints::new(POOL_IDLE, MAX_CONNECTIONS_PER_INSTANCE)
        .expect("POOL_IDLE <= MAX_CONNECTIONS_PER_INSTANCE");
    let pool_opts = opts
        .pool_opts()
        .clone()
        .with_reset_connection(true)
        .with_constraints(constraints);
    Ok(mysql_async::OptsBuilder::from_opts(opts)
        .pool_opts(pool_opts)
        .into())
}

impl types::Host for SpinHostState {}
impl mysql::Host for SpinHostState {}

impl mysql::HostConnection for SpinHostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, Error>> {
        let metrics = self.services.metrics.clone();
        let component = self.cfg.component_id.clone();
        Ok(metrics
            .observe(
                &component,
                Interface::Mysql,
                "mysql.open",
                self.mysql_open(address),
            )
            .await)
    }

    async fn query(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let conn = self.table.get_mut(&conn)?;
        let call = conn.run(async |c| query(c, &statement, params).await);
        Ok(observed!(self, Interface::Mysql, "mysql.query", call))
    }

    async fn execute(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let conn = self.table.get_mut(&conn)?;
        let params = mysql_async::Params::Positional(params.into_iter().map(to_sql).collect());
        let call = conn.run(async |c| {
            c.exec_drop(statement.as_str(), params)
                .await
                .map_err(|e| Error::QueryFailed(format!("{e:?}")))
        });
        Ok(observed!(self, Interface::Mysql, "mysql.execute", call))
    }

    async fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        // Dropping the `Conn` gives it back to its pool, which resets it before reuse; a
        // broken one is closed instead (in the background, bounded: the server may be
        // frozen).
        let closed = self.table.delete(conn)?;
        self.mysql_connections -= 1;
        if closed.broken {
            tokio::spawn(async move {
                let _ = tokio::time::timeout(DEADLINE, closed.conn.disconnect()).await;
            });
        }
        Ok(())
    }
}

impl SpinHostState {
    async fn mysql_open(&mut self, address: String) -> Result<Resource<MysqlConnection>, Error> {
        if !self
            .cfg
            .allowed_outbound_hosts
            .allows_address(&address, "mysql")
        {
            return Err(Error::ConnectionFailed(format!(
                "address {address} is not permitted"
            )));
        }
        if self.mysql_connections >= MAX_CONNECTIONS_PER_INSTANCE {
            return Err(Error::ConnectionFailed("too many connections".into()));
        }
        let connect = self.services.mysql.connect(&address);
        let conn = match tokio::time::timeout(DEADLINE, connect).await {
            Ok(conn) => conn?,
            Err(_) => {
                return Err(Error::ConnectionFailed(format!(
                    "connecting to MySQL timed out after {} s",
                    DEADLINE.as_secs()
                )))
            }
        };
        let resource = self
            .table
            .push(MysqlConnection {
                conn,
                broken: false,
            })
            .map_err(|e| Error::Other(e.to_string()))?;
        self.mysql_connections += 1;
        Ok(resource)
    }
}

async fn query(
    conn: &mut mysql_async::Conn,
    statement: &str,
    params: Vec<ParameterValue>,
) -> Result<RowSet, Error> {
    let params = mysql_async::Params::Positional(params.into_iter().map(to_sql).collect());
    let mut result = conn
        .exec_iter(statement, params)
        .await
        .map_err(|e| Error::QueryFailed(format!("{e:?}")))?;
    let columns: Vec<Column> = result
        .columns()
        .map(|cols| {
            cols.iter()
                .map(|c| Column {
                    name: c.name_str().into_owned(),
                    data_type: column_type(c.column_type(), c.flags()),
                })
                .collect()
        })
        .unwrap_or_default();
    let raw_rows: Vec<mysql_async::Row> = result
        .collect()
        .await
        .map_err(|e| Error::Other(e.to_string()))?;
    let mut rows = Vec::with_capacity(raw_rows.len());
    let mut bytes = std::mem::size_of::<RowSet>();
    for row in raw_rows {
        let row = convert_row(row, &columns)?;
        bytes += row.iter().map(value_size).sum::<usize>();
        if bytes > MAX_RESULT_BYTES {
            return Err(Error::Other(format!(
                "query result exceeds limit of {MAX_RESULT_BYTES} bytes"
            )));
        }
        rows.push(row);
    }
    Ok(RowSet { columns, rows })
}

fn to_sql(value: ParameterValue) -> mysql_async::Value {
    use mysql_async::Value;
    match value {
        ParameterValue::Boolean(v) => Value::from(v),
        ParameterValue::Int8(v) => Value::from(v),
        ParameterValue::Int16(v) => Value::from(v),
        ParameterValue::Int32(v) => Value::from(v),
        ParameterValue::Int64(v) => Value::from(v),
        ParameterValue::Uint8(v) => Value::from(v),
        ParameterValue::Uint16(v) => Value::from(v),
        ParameterValue::Uint32(v) => Value::from(v),
        ParameterValue::Uint64(v) => Value::from(v),
        ParameterValue::Floating32(v) => Value::from(v),
        ParameterValue::Floating64(v) => Value::from(v),
        ParameterValue::Str(v) => Value::from(v),
        ParameterValue::Binary(v) => Value::from(v),
        ParameterValue::DbNull => Value::NULL,
    }
}

/// The `db-data-type` Spin reports for a column, from its wire type and flags. Spin never
/// reports `boolean` (BOOLEAN is TINYINT(1): `int8`), and TEXT vs BLOB (both sent as
/// MYSQL_TYPE_BLOB) and CHAR vs BINARY are told apart by the BINARY flag.
pub fn column_type(ty: ColumnType, flags: ColumnFlags) -> DbDataType {
    use ColumnType as T;
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    let binary = flags.contains(ColumnFlags::BINARY_FLAG);
    match ty {
        T::MYSQL_TYPE_TINY if unsigned => DbDataType::Uint8,
        T::MYSQL_TYPE_TINY => DbDataType::Int8,
        T::MYSQL_TYPE_SHORT if unsigned => DbDataType::Uint16,
        T::MYSQL_TYPE_SHORT => DbDataType::Int16,
        // MEDIUMINT (INT24) widens to 32 bits, as on Spin.
        T::MYSQL_TYPE_INT24 | T::MYSQL_TYPE_LONG if unsigned => DbDataType::Uint32,
        T::MYSQL_TYPE_INT24 | T::MYSQL_TYPE_LONG => DbDataType::Int32,
        T::MYSQL_TYPE_LONGLONG if unsigned => DbDataType::Uint64,
        T::MYSQL_TYPE_LONGLONG => DbDataType::Int64,
        T::MYSQL_TYPE_FLOAT => DbDataType::Floating32,
        T::MYSQL_TYPE_DOUBLE => DbDataType::Floating64,
        T::MYSQL_TYPE_BLOB if !binary => DbDataType::Str,
        T::MYSQL_TYPE_BLOB | T::MYSQL_TYPE_MEDIUM_BLOB | T::MYSQL_TYPE_LONG_BLOB => {
            DbDataType::Binary
        }
        T::MYSQL_TYPE_STRING | T::MYSQL_TYPE_VAR_STRING if binary => DbDataType::Binary,
        T::MYSQL_TYPE_STRING | T::MYSQL_TYPE_VAR_STRING => DbDataType::Str,
        _ => DbDataType::Other,
    }
}

fn convert_row(mut row: mysql_async::Row, columns: &[Column]) -> Result<Vec<DbValue>, Error> {
    (0..row.len())
        .map(
            |i| match (row.take::<mysql_async::Value, _>(i), columns.get(i)) {
                (None | Some(mysql_async::Value::NULL), _) => Ok(DbValue::DbNull),
                (Some(_), None) => Err(Error::Other(format!("Can't get column at index {i}"))),
                (Some(value), Some(column)) => convert_value(value, column),
            },
        )
        .collect()
}

fn convert_value(value: mysql_async::Value, column: &Column) -> Result<DbValue, Error> {
    Ok(match column.data_type {
        DbDataType::Boolean => DbValue::Boolean(convert(value)?),
        DbDataType::Int8 => DbValue::Int8(convert(value)?),
        DbDataType::Int16 => DbValue::Int16(convert(value)?),
        DbDataType::Int32 => DbValue::Int32(convert(value)?),
        DbDataType::Int64 => DbValue::Int64(convert(value)?),
        DbDataType::Uint8 => DbValue::Uint8(convert(value)?),
        DbDataType::Uint16 => DbValue::Uint16(convert(value)?),
        DbDataType::Uint32 => DbValue::Uint32(convert(value)?),
        DbDataType::Uint64 => DbValue::Uint64(convert(value)?),
        DbDataType::Floating32 => DbValue::Floating32(convert(value)?),
        DbDataType::Floating64 => DbValue::Floating64(convert(value)?),
        DbDataType::Str => DbValue::Str(convert(value)?),
        DbDataType::Binary => DbValue::Binary(convert(value)?),
        DbDataType::Other => {
            return Err(Error::ValueConversionFailed(format!(
                "Cannot convert value {value:?} in column {} data type {:?}",
                column.name, column.data_type
            )))
        }
    })
}

fn convert<T: FromValue>(value: mysql_async::Value) -> Result<T, Error> {
    mysql_async::from_value_opt::<T>(value).map_err(|e| Error::ValueConversionFailed(e.to_string()))
}

fn value_size(value: &DbValue) -> usize {
    std::mem::size_of::<DbValue>()
        + match value {
            DbValue::Str(s) => s.len(),
            DbValue::Binary(b) => b.len(),
            _ => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_columns_keep_their_width_and_sign() {
        let u = ColumnFlags::UNSIGNED_FLAG;
        let none = ColumnFlags::empty();
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_TINY, none),
            DbDataType::Int8
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_TINY, u),
            DbDataType::Uint8
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_SHORT, u),
            DbDataType::Uint16
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_INT24, none),
            DbDataType::Int32
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_INT24, u),
            DbDataType::Uint32
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_LONG, none),
            DbDataType::Int32
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_LONGLONG, none),
            DbDataType::Int64
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_LONGLONG, u),
            DbDataType::Uint64
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_FLOAT, none),
            DbDataType::Floating32
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_DOUBLE, u),
            DbDataType::Floating64
        );
    }

    #[test]
    fn the_binary_flag_tells_text_from_bytes() {
        let b = ColumnFlags::BINARY_FLAG;
        let none = ColumnFlags::empty();
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_BLOB, none),
            DbDataType::Str
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_BLOB, b),
            DbDataType::Binary
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_VAR_STRING, none),
            DbDataType::Str
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_VAR_STRING, b),
            DbDataType::Binary
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_STRING, none),
            DbDataType::Str
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_STRING, b),
            DbDataType::Binary
        );
        assert_eq!(
            column_type(ColumnType::MYSQL_TYPE_LONG_BLOB, none),
            DbDataType::Binary
        );
    }

    #[test]
    fn types_spin_refuses_are_other() {
        for ty in [
            ColumnType::MYSQL_TYPE_DECIMAL,
            ColumnType::MYSQL_TYPE_NEWDECIMAL,
            ColumnType::MYSQL_TYPE_DATE,
            ColumnType::MYSQL_TYPE_DATETIME,
            ColumnType::MYSQL_TYPE_TIMESTAMP,
            ColumnType::MYSQL_TYPE_TIME,
            ColumnType::MYSQL_TYPE_YEAR,
            ColumnType::MYSQL_TYPE_BIT,
            ColumnType::MYSQL_TYPE_JSON,
            ColumnType::MYSQL_TYPE_VARCHAR,
            ColumnType::MYSQL_TYPE_TINY_BLOB,
            ColumnType::MYSQL_TYPE_NULL,
        ] {
            assert_eq!(
                column_type(ty, ColumnFlags::empty()),
                DbDataType::Other,
                "{ty:?}"
            );
        }
    }

    #[test]
    fn a_value_in_an_other_column_fails_the_conversion() {
        let column = Column {
            name: "d".into(),
            data_type: DbDataType::Other,
        };
        let err = convert_value(mysql_async::Value::Bytes(b"1.50".to_vec()), &column).unwrap_err();
        assert!(
            matches!(&err, Error::ValueConversionFailed(m) if m.starts_with("Cannot convert value"))
        );
    }

    #[test]
    fn values_convert_to_the_columns_type() {
        let col = |t| Column {
            name: "c".into(),
            data_type: t,
        };
        assert!(matches!(
            convert_value(mysql_async::Value::Int(-5), &col(DbDataType::Int8)),
            Ok(DbValue::Int8(-5))
        ));
        assert!(matches!(
            convert_value(mysql_async::Value::UInt(u64::MAX), &col(DbDataType::Uint64)),
            Ok(DbValue::Uint64(u64::MAX))
        ));
        assert!(matches!(
            convert_value(mysql_async::Value::Bytes(b"hi".to_vec()), &col(DbDataType::Str)),
            Ok(DbValue::Str(s)) if s == "hi"
        ));
        // An out-of-range value is a conversion error, not a silent truncation.
        assert!(matches!(
            convert_value(mysql_async::Value::Int(300), &col(DbDataType::Int8)),
            Err(Error::ValueConversionFailed(_))
        ));
    }

    #[test]
    fn tls_is_refused_and_ssl_mode_disabled_is_accepted() {
        assert!(matches!(
            connection_opts("mysql://u:p@127.0.0.1/db?ssl-mode=REQUIRED"),
            Err(Error::ConnectionFailed(m)) if m.contains("TLS")
        ));
        let opts = connection_opts("mysql://u:p@127.0.0.1/db?sslMode=DISABLED").unwrap();
        assert_eq!(opts.db_name(), Some("db"));
        assert!(opts.pool_opts().reset_connection());
    }
}
