//! Kafka for Sluice: the topic sink of source connectors (idempotent producer, topics created
//! as Connect creates them), the topic reader of sink connectors (a consumer group per
//! connector), Connect's internal topics for offsets, configs and status, and what the
//! worker's console reads of topics.

pub mod browse;
pub mod client;
pub mod consumer;
pub mod error;
pub mod internal;
pub mod producer;

pub use client::{KafkaConnection, Role};
pub use consumer::{GroupConsumer, GroupOffsets, KafkaTopicSource};
pub use error::KafkaSinkError;
pub use internal::{InternalTopic, KafkaOffsetStore};
pub use producer::{KafkaTopicSink, TopicCreator, TopicDefaults};
