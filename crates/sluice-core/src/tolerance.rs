//! Connect's error handling for single records (`errors.tolerance`, `errors.log.*`,
//! `errors.deadletterqueue.*`): a record that fails conversion, a transform or the sink's own
//! checks either fails the task (`none`, the default) with the record's coordinates, or is
//! skipped and counted (`all`), logged when asked, and for sink connectors written as it was
//! read to the dead letter queue topic with Connect's context headers.

use std::sync::Arc;

use crate::data::{Data, Schema, SchemaType, Value};
use crate::record::{Consumed, Header, Record};

/// `errors.tolerance`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tolerance {
    #[default]
    None,
    All,
}

/// A connector's error handling settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorPolicy {
    pub tolerance: Tolerance,
    /// `errors.log.enable`
    pub log: bool,
    /// `errors.log.include.messages`
    pub log_messages: bool,
    /// `errors.deadletterqueue.topic.name` (sink connectors only, as in Connect).
    pub dlq_topic: Option<String>,
    /// `errors.deadletterqueue.context.headers.enable`
    pub dlq_context_headers: bool,
}

/// Connect's `Stage`: where in the pipeline a record failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    KeyConverter,
    ValueConverter,
    Transformation,
    TaskPut,
    KafkaProduce,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
        }
    }
}

/// Where a failed record came from, for errors, logs and DLQ headers.
#[derive(Debug, Clone)]
pub struct Coordinates {
    pub topic: String,
    pub consumed: Option<Arc<Consumed>>,
}

impl Coordinates {
    pub fn of(record: &Record) -> Self {
        Coordinates {
            topic: record.topic.clone(),
            consumed: record.consumed.clone(),
        }
    }
}

impl std::fmt::Display for Coordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.consumed {
            Some(c) => write!(
                f,
                "topic {} partition {} offset {}",
                c.record.topic, c.partition, c.offset
            ),
            None => write!(f, "a record for topic {}", self.topic),
        }
    }
}

/// A record that failed, as the error policy sees it.
#[derive(Debug, Clone)]
pub struct RecordFailure {
    pub at: Coordinates,
    pub stage: Stage,
    /// The class that was running (the transform's, the converter's, the connector's).
    pub class: String,
    /// Connect's exception class for the DLQ header.
    pub exception: &'static str,
    pub message: String,
}

impl std::fmt::Display for RecordFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Tolerance exceeded in error handler: stage {} ({}) failed for {}: {}; set errors.tolerance=all to skip such records{}",
            self.stage.name(),
            self.class,
            self.at,
            self.message,
            if self.at.consumed.is_some() {
                " (and errors.deadletterqueue.topic.name to keep them)"
            } else {
                ""
            }
        )
    }
}

impl std::error::Error for RecordFailure {}

pub const DATA_EXCEPTION: &str = "org.apache.kafka.connect.errors.DataException";
pub const CONNECT_EXCEPTION: &str = "org.apache.kafka.connect.errors.ConnectException";

const HEADER_PREFIX: &str = "__connect.errors.";

/// The record to write to the dead letter queue: the bytes as they were read, with Connect's
/// context headers when `errors.deadletterqueue.context.headers.enable=true`.
pub fn dlq_record(
    policy: &ErrorPolicy,
    topic: &str,
    failure: &RecordFailure,
    connector: &str,
    task: u32,
) -> Option<Record> {
    let consumed = failure.at.consumed.as_ref()?;
    let bytes = |b: &Option<Vec<u8>>| {
        b.as_ref().map(|b| {
            Data::new(
                Arc::new(Schema::new(SchemaType::Bytes).optional()),
                Value::Bytes(b.clone()),
            )
        })
    };
    let original = &consumed.record;
    let mut headers = original.headers.clone();
    if policy.dlq_context_headers {
        let mut add = |name: &str, value: String| {
            headers.push(Header {
                key: format!("{HEADER_PREFIX}{name}"),
                value: Some(value.into_bytes()),
            })
        };
        add("topic", original.topic.clone());
        add("partition", consumed.partition.to_string());
        add("offset", consumed.offset.to_string());
        add("connector.name", connector.to_owned());
        add("task.id", task.to_string());
        add("stage", failure.stage.name().to_owned());
        add("class.name", failure.class.clone());
        add("exception.class.name", failure.exception.to_owned());
        add("exception.message", failure.message.clone());
        add(
            "exception.stacktrace",
            format!("{}: {}", failure.exception, failure.message),
        );
    }
    Some(Record {
        topic: topic.to_owned(),
        partition: None,
        key: bytes(&original.key),
        value: bytes(&original.value),
        timestamp_ms: original.timestamp_ms,
        headers,
        consumed: None,
    })
}
