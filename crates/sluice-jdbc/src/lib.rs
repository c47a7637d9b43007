//! Confluent's JDBC connectors (`io.confluent.connect.jdbc.*`) on PostgreSQL. `source` is the
//! query-based source: it polls tables (or one query) and emits each row as a plain Connect
//! struct, remembering how far it got per table as Confluent's offsets do. It reads with
//! ordinary queries only: it never sees deletes, nor the states of a row between two polls.
//! Shared with the JDBC sink to come: the connection (`connection`), identifiers and quoting
//! (`identifier`), errors (`error`).

pub mod connection;
pub mod error;
pub mod identifier;
pub mod source;

pub use error::JdbcError;
pub use source::JdbcSource;
