//! Confluent's `io.confluent.connect.s3.S3SinkConnector` for Sluice: topics into objects on S3
//! (or any S3-compatible store, or a local directory), named and cut exactly as Confluent's
//! sink names and cuts them, so that a restart rewrites the same objects instead of adding
//! new ones. `sink` is the state machine, `partition` says where a record goes, `format`
//! makes an object's bytes, `store` puts them in the bucket.

pub mod format;
pub mod partition;
pub mod sink;
pub mod store;

pub use sink::S3Sink;
