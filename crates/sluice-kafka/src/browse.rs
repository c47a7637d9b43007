//! What the worker's console reads of Kafka topics: the list with record counts (from the
//! partitions' watermarks) and a tail of one topic. The tail assigns itself every partition
//! and never joins a group nor commits, so looking at a topic never moves anyone's position.
//! Calls block (librdkafka): run them on a blocking thread.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{json, Value as Json};
use sluice_core::error::ConnectorError;

use crate::client::{KafkaConnection, Role};
use crate::error::{classify, KafkaSinkError};
use crate::producer::client_error;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A consumer with the worker's security settings.
fn consumer(conn: &KafkaConnection) -> Result<BaseConsumer, ConnectorError> {
    conn.client(Role::Consumer)
        .set("group.id", conn.name("sluice-console"))
        .set("client.id", "sluice-console")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("fetch.wait.max.ms", "100")
        .create()
        .map_err(client_error(&conn.bootstrap))
}

fn read_error(
    bootstrap: &str,
    topic: &str,
    what: &str,
) -> impl Fn(rdkafka::error::KafkaError) -> ConnectorError {
    let (bootstrap, topic, what) = (bootstrap.to_owned(), topic.to_owned(), what.to_owned());
    move |e| {
        let error = KafkaSinkError::Read {
            topic: topic.clone(),
            bootstrap: bootstrap.clone(),
            reason: format!("{what}: {e}"),
        };
        classify(&e, error)
    }
}

/// Every topic on the cluster with its record count (the sum over partitions of high minus
/// low watermark), sorted by name. Under a topic prefix (Heroku's multi-tenant plans), only
/// the prefix's topics, by their names without it.
pub fn topic_counts(conn: &KafkaConnection) -> Result<Vec<(String, i64)>, ConnectorError> {
    let bootstrap = conn.bootstrap.as_str();
    let consumer = consumer(conn)?;
    let metadata = consumer.fetch_metadata(None, TIMEOUT).map_err(read_error(
        bootstrap,
        "*",
        "reading the cluster's metadata",
    ))?;
    let mut out = Vec::new();
    for t in metadata.topics() {
        let Some(logical) = conn.logical(t.name()) else {
            continue;
        };
        let mut count = 0;
        for p in t.partitions() {
            let (low, high) = consumer
                .fetch_watermarks(t.name(), p.id(), TIMEOUT)
                .map_err(read_error(bootstrap, t.name(), "reading its watermarks"))?;
            count += (high - low).max(0);
        }
        out.push((logical.to_owned(), count));
    }
    out.sort();
    Ok(out)
}

/// Where a tail starts in each partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailStart {
    Beginning,
    /// The last `n` records of each partition.
    Last(i64),
    /// This offset in each partition.
    From(i64),
}

/// Reads one topic's records as they arrive, as local-topic JSON lines.
pub struct TopicTail {
    consumer: BaseConsumer,
}

impl TopicTail {
    pub fn open(
        conn: &KafkaConnection,
        topic: &str,
        start: TailStart,
    ) -> Result<Self, ConnectorError> {
        let (bootstrap, topic) = (conn.bootstrap.as_str(), conn.name(topic));
        let topic = topic.as_str();
        let consumer = consumer(conn)?;
        let metadata = consumer
            .fetch_metadata(Some(topic), TIMEOUT)
            .map_err(read_error(bootstrap, topic, "reading its metadata"))?;
        let offset = match start {
            TailStart::Beginning => Offset::Beginning,
            TailStart::Last(0) => Offset::End,
            TailStart::Last(n) => Offset::OffsetTail(n),
            TailStart::From(o) => Offset::Offset(o),
        };
        let mut tpl = TopicPartitionList::new();
        for t in metadata.topics().iter().filter(|t| t.name() == topic) {
            for p in t.partitions() {
                tpl.add_partition_offset(topic, p.id(), offset)
                    .map_err(read_error(bootstrap, topic, "assigning its partitions"))?;
            }
        }
        if tpl.count() == 0 {
            return Err(ConnectorError::permanent(format!(
                "topic {topic} does not exist on {bootstrap}"
            )));
        }
        consumer
            .assign(&tpl)
            .map_err(read_error(bootstrap, topic, "assigning its partitions"))?;
        Ok(TopicTail { consumer })
    }

    /// Up to `max` records, waiting at most `wait` for the first.
    pub fn poll(&self, max: usize, wait: Duration) -> Result<Vec<Vec<u8>>, ConnectorError> {
        let mut out = Vec::new();
        let mut timeout = wait;
        while out.len() < max {
            match self.consumer.poll(timeout) {
                None => break,
                Some(Ok(m)) => out.push(line(&m)),
                Some(Err(e)) => {
                    return Err(ConnectorError::transient(format!("reading the topic: {e}")))
                }
            }
            timeout = Duration::ZERO;
        }
        Ok(out)
    }
}

/// One record as a local-topic line: key and value embedded as JSON when they are, as text
/// otherwise.
fn line(m: &BorrowedMessage<'_>) -> Vec<u8> {
    let bytes = |b: Option<&[u8]>| match b {
        None => Json::Null,
        Some(b) => serde_json::from_slice(b)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(b).into_owned())),
    };
    let headers: Vec<Json> = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(
                    |h| json!({"key": h.key, "value": h.value.map(|v| String::from_utf8_lossy(v))}),
                )
                .collect()
        })
        .unwrap_or_default();
    let record = json!({
        "topic": m.topic(),
        "partition": m.partition(),
        "offset": m.offset(),
        "timestamp": m.timestamp().to_millis(),
        "key": bytes(m.key()),
        "value": bytes(m.payload()),
        "headers": headers,
    });
    serde_json::to_vec(&record).unwrap_or_default()
}
