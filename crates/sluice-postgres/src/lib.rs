//! Postgres log-based CDC, the `io.debezium.connector.postgresql.PostgresConnector` job.
//!
//! Data flow: publication + logical slot (created with an exported snapshot) → consistent
//! snapshot read inside that snapshot → pgoutput stream from the slot's consistent point.
//! The slot's flushed position only ever moves to what the sink made durable.

pub mod catalog;
pub mod copy_json;
pub mod envelope;
pub mod error;
pub mod pgoutput;
mod publication;
pub mod slot;
pub mod snapshot;
pub mod source;
mod stream;
pub mod tls;
mod transaction;
pub mod types;

pub use error::PostgresError;
pub use source::PostgresSource;
