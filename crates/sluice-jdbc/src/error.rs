//! Errors of the JDBC connectors, each naming what it concerns: the server (never the
//! password), the table or query, the config key. Whether a retry can help is decided from
//! the SQLSTATE: a lost connection or a server restarting is transient; a dropped table, a
//! revoked privilege or a query that does not parse is permanent.

use sluice_core::error::ConnectorError;

#[derive(Debug, thiserror::Error)]
pub enum JdbcError {
    #[error(
        "cannot connect to PostgreSQL at {target} as user {user:?} (connection.url): {reason}"
    )]
    Connect {
        target: String,
        user: String,
        reason: String,
        transient: bool,
    },
    /// A statement about one table (or the query) failed.
    #[error("{what}: {context}: {reason}")]
    Query {
        /// `table "public"."address"` or `query`.
        what: String,
        context: &'static str,
        reason: String,
        transient: bool,
    },
    /// The config does not fit the database: a missing column, a nullable one, a query that
    /// does not parse. Names the key to change.
    #[error("Invalid value for configuration {key}: {message}")]
    Config { key: &'static str, message: String },
    #[error("{what}: column {column:?}: {reason}")]
    Value {
        what: String,
        column: String,
        reason: String,
    },
}

impl JdbcError {
    pub fn is_transient(&self) -> bool {
        match self {
            JdbcError::Connect { transient, .. } | JdbcError::Query { transient, .. } => *transient,
            JdbcError::Config { .. } | JdbcError::Value { .. } => false,
        }
    }

    /// Wraps a failed statement about `what` (a table or the query).
    pub fn query(
        what: impl Into<String>,
        context: &'static str,
    ) -> impl FnOnce(tokio_postgres::Error) -> JdbcError {
        let what = what.into();
        move |e| JdbcError::Query {
            what,
            context,
            transient: is_transient(&e),
            reason: reason(&e),
        }
    }
}

impl From<JdbcError> for ConnectorError {
    fn from(e: JdbcError) -> Self {
        if e.is_transient() {
            ConnectorError::transient(e)
        } else {
            ConnectorError::permanent(e)
        }
    }
}

/// Whether the statement may succeed when tried again: connection exceptions (class 08),
/// insufficient resources (53), the server shutting down or starting (57P01..57P03), a
/// cancelled statement (57014), serialization failures and deadlocks (40), a lock not
/// available (55P03), and a connection that went away (no SQLSTATE at all).
pub fn is_transient(e: &tokio_postgres::Error) -> bool {
    match e.code() {
        Some(code) => {
            let c = code.code();
            c.starts_with("08")
                || c.starts_with("53")
                || c.starts_with("40")
                || matches!(c, "57P01" | "57P02" | "57P03" | "57014" | "55P03")
        }
        // No SQLSTATE: the socket closed, an I/O error, a timeout.
        None => true,
    }
}

pub use sluice_postgres::error::reason;
