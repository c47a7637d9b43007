//! Kafka Connect style configuration: flat string keys (`database.hostname`, `slot.name`, ...)
//! parsed into typed structs and validated in one place. Every problem names the key, the bad
//! value and what is allowed; secrets are never echoed back.

pub mod postgres;
