//! Confluent's JDBC connectors (`io.confluent.connect.jdbc.*`) on PostgreSQL. `source` is the
//! query-based source: it polls tables (or one query) and emits each row as a plain Connect
//! struct, remembering how far it got per table as Confluent's offsets do. It reads with
//! ordinary queries only: it never sees deletes, nor the states of a row between two polls.
//! `sink` writes topics' records into tables (Confluent's flat rows, Debezium's envelopes),
//! committing its consumer positions in the same transaction as the rows. Shared: the
//! connection with libpq's TLS modes (`connection`), identifiers and quoting (`identifier`),
//! errors (`error`).

pub mod connection;
pub mod error;
pub mod identifier;
pub mod sink;
pub mod source;

pub use error::JdbcError;
pub use sink::JdbcSink;
pub use source::JdbcSource;
