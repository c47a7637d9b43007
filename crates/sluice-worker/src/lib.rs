//! The worker around the pipelines: connectors created, updated, paused, resumed, stopped and
//! deleted at run time, their configs and target states persisted, the Kafka Connect REST API
//! that drives it all, and the web console beside it.

pub mod auth;
pub mod console;
pub mod file_sink;
pub mod herder;
pub mod rest;
pub mod runner;
pub mod store;

pub use herder::{Herder, HerderError};
pub use runner::TopicStore;
