//! Errors of the Postgres source, each phrased for the operator: which server, which user,
//! what the server said, and how to fix it. Passwords never appear.

use sluice_config::postgres::PostgresConfig;

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error("cannot connect to PostgreSQL at {host}:{port} as user {user:?} (database {dbname:?}): {reason}")]
    Connect {
        host: String,
        port: u16,
        user: String,
        dbname: String,
        reason: String,
    },
    #[error("PostgreSQL at {host}:{port} has wal_level={actual}; logical decoding needs wal_level=logical (run ALTER SYSTEM SET wal_level = logical; and restart the server)")]
    WalLevel {
        host: String,
        port: u16,
        actual: String,
    },
    #[error("user {user:?} may not use logical replication on {host}:{port}: it needs the REPLICATION attribute (ALTER ROLE {user} REPLICATION;) or superuser, and a pg_hba.conf entry for replication connections")]
    NoReplicationPrivilege {
        host: String,
        port: u16,
        user: String,
    },
    #[error("replication slot {slot:?} is already active (used by PID {pid}): another connector or client is reading it; stop it, or set slot.name to a slot of this connector's own")]
    SlotActive { slot: String, pid: i32 },
    #[error("replication slot {slot:?} uses the {plugin:?} plugin; Sluice decodes pgoutput: drop the slot or set slot.name to another slot")]
    SlotPlugin { slot: String, plugin: String },
    #[error("table.include.list entry {entry:?} matches no table in database {dbname:?} (tables are named <schema>.<table>, e.g. public.customer)")]
    UnknownTable { entry: String, dbname: String },
    #[error("publication {publication:?} does not exist and publication.autocreate.mode=disabled: create it (CREATE PUBLICATION {publication} FOR TABLE ...) or set publication.autocreate.mode=filtered")]
    PublicationMissing { publication: String },
    #[error("table {table} is captured but not in publication {publication:?}, so its changes would be lost: add it (ALTER PUBLICATION {publication} ADD TABLE {table}) or set publication.autocreate.mode=filtered")]
    NotPublished { table: String, publication: String },
    #[error("{message}")]
    SlotInvalidated { message: String },
    #[error("{message}")]
    SlotDropped { message: String },
    #[error("{context}: {reason}")]
    Query { context: String, reason: String },
    #[error("replication stream of slot {slot:?}: {reason}")]
    Replication { slot: String, reason: String },
    #[error("cannot decode a value of {table}.{column}: {reason}")]
    Value {
        table: String,
        column: String,
        reason: String,
    },
    #[error("pgoutput message: {0}")]
    Decode(#[from] crate::pgoutput::DecodeError),
}

/// SQLSTATEs a retry can get past: the server is shutting down or starting up, too many
/// connections, the slot still held by a walsender that has not noticed its client is gone.
const TRANSIENT_SQLSTATES: &[&str] = &[
    "57P01", // admin_shutdown
    "57P02", // crash_shutdown
    "57P03", // cannot_connect_now
    "53300", // too_many_connections
    "55006", // object_in_use (replication slot is active)
    "08000", "08001", "08003", "08004", "08006", // connection exceptions
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "53100", // disk_full
    "53200", // out_of_memory
];

impl PostgresError {
    /// Whether trying again can help: the connection went away or the server is not ready,
    /// as opposed to a refused login, a missing privilege or a bad config.
    pub fn is_transient(&self) -> bool {
        match self {
            PostgresError::Connect { reason, .. }
            | PostgresError::Query { reason, .. }
            | PostgresError::Replication { reason, .. } => transient_reason(reason),
            PostgresError::SlotActive { .. } => true,
            _ => false,
        }
    }
}

/// Reads the kind off a reason built by [`reason`] or by the replication client.
fn transient_reason(reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    if lower.contains("password authentication failed")
        || lower.contains("authentication error")
        || lower.contains("no pg_hba.conf entry")
        || lower.contains("does not exist")
        || lower.contains("permission denied")
        // TLS set up wrong: retrying cannot fix a certificate or a mode.
        || lower.contains("certificate")
        || lower.contains("does not support tls")
        || lower.contains("no encryption")
        || lower.contains("sslmode")
        || lower.contains("sslkey")
        || lower.contains("sslcert")
        || lower.contains("sslrootcert")
    {
        return false;
    }
    TRANSIENT_SQLSTATES.iter().any(|code| reason.contains(code))
        || [
            "connection refused",
            "connection reset",
            "broken pipe",
            "connection closed",
            "unexpected eof",
            "error communicating with the server",
            "the server ended the replication stream",
            "terminating connection",
            "the database system is",
            "timed out",
            "io error",
            "task error",
        ]
        .iter()
        .any(|s| lower.contains(s))
}

impl From<PostgresError> for sluice_core::error::ConnectorError {
    fn from(e: PostgresError) -> Self {
        if e.is_transient() {
            sluice_core::error::ConnectorError::transient(e)
        } else {
            sluice_core::error::ConnectorError::permanent(e)
        }
    }
}

/// The server's own words for a tokio-postgres error (message, detail, hint), else the
/// error chain.
pub fn reason(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            db.code().code()
        );
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!(" Hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        // tokio-postgres often repeats its source in its own text.
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(&format!(": {text}"));
        }
        src = inner.source();
    }
    s
}

pub fn connect_error(cfg: &PostgresConfig, reason: String) -> PostgresError {
    PostgresError::Connect {
        host: cfg.hostname.clone(),
        port: cfg.port,
        user: cfg.user.clone(),
        dbname: cfg.dbname.clone(),
        reason,
    }
}

/// Wraps a failed query with what was being done.
pub fn query_error(
    context: impl Into<String>,
) -> impl FnOnce(tokio_postgres::Error) -> PostgresError {
    let context = context.into();
    move |e| PostgresError::Query {
        context,
        reason: reason(&e),
    }
}
