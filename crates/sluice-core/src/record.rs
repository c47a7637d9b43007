//! Records as they travel. A source connector's records (Connect data) go through its
//! transforms into a topic; a sink connector reads them back from the topic (with the bytes
//! they had there, for the dead letter queue), through its transforms into the sink. Offsets
//! travel beside the records, one per source partition, and are committed only after the sink
//! made every record before them durable.

use std::sync::Arc;

pub use serde_json::Value as Json;

use crate::data::{Data, Schema};
use crate::error::BoxError;

/// A Kafka header. Values are bytes, `None` is a null header value.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// Connect's `ConnectRecord`: a `SourceRecord` on the way to a topic, a `SinkRecord` on the
/// way out of one.
#[derive(Debug, Clone)]
pub struct Record {
    pub topic: String,
    /// The topic partition: where a sink-side record was read; `None` on the source side
    /// (the producer's partitioner chooses).
    pub partition: Option<i32>,
    /// `None` is a null key.
    pub key: Option<Data>,
    /// `None` is a tombstone.
    pub value: Option<Data>,
    pub timestamp_ms: i64,
    pub headers: Vec<Header>,
    /// Sink side: the record as it was read, offset included.
    pub consumed: Option<Arc<Consumed>>,
}

impl Record {
    /// A source record for `topic`.
    pub fn new(topic: impl Into<String>, key: Option<Data>, value: Option<Data>, ts: i64) -> Self {
        Record {
            topic: topic.into(),
            partition: None,
            key,
            value,
            timestamp_ms: ts,
            headers: Vec::new(),
            consumed: None,
        }
    }

    /// The offset of a sink-side record in its topic partition.
    pub fn kafka_offset(&self) -> Option<i64> {
        self.consumed.as_ref().map(|c| c.offset)
    }
}

/// A record as bytes, after the key and value converters: what a topic holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp_ms: i64,
    pub headers: Vec<Header>,
}

/// A record read from a topic, as it was there.
#[derive(Debug, Clone, PartialEq)]
pub struct Consumed {
    pub record: ProducerRecord,
    pub partition: i32,
    pub offset: i64,
}

/// Connect's source partition and offset maps (e.g. `{"server":"pagila"}` →
/// `{"lsn":123,"txId":9,...}`), kept as JSON so the REST offsets API can show them as is.
/// Sink connectors use Connect's form for consumer positions:
/// `{"kafka_topic":"t","kafka_partition":0}` → `{"kafka_offset":42}` (the next offset to read).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOffset {
    pub partition: Json,
    pub offset: Json,
}

impl SourceOffset {
    /// A sink connector's position in one topic partition: the next offset to read.
    pub fn consumer(topic: &str, partition: i32, next_offset: i64) -> Self {
        SourceOffset {
            partition: serde_json::json!({"kafka_topic": topic, "kafka_partition": partition}),
            offset: serde_json::json!({"kafka_offset": next_offset}),
        }
    }

    /// `(topic, partition, next offset)` when this is a consumer position.
    pub fn as_consumer(&self) -> Option<(&str, i32, i64)> {
        Some((
            self.partition.get("kafka_topic")?.as_str()?,
            i32::try_from(self.partition.get("kafka_partition")?.as_i64()?).ok()?,
            self.offset.get("kafka_offset")?.as_i64()?,
        ))
    }
}

/// The positions to commit once a flush resolved: `read` (the newest offset of every source
/// partition read so far) with each consumer position held at the sink's `retained` offset of
/// its topic partition, keeping only what differs from `committed`.
pub fn durable_positions(
    read: &[SourceOffset],
    retained: &[SourceOffset],
    committed: &[SourceOffset],
) -> Vec<SourceOffset> {
    read.iter()
        .map(|o| {
            let held = o.as_consumer().and_then(|(t, p, next)| {
                retained
                    .iter()
                    .filter_map(SourceOffset::as_consumer)
                    .find(|(rt, rp, _)| *rt == t && *rp == p)
                    .filter(|(_, _, first_open)| *first_open < next)
                    .map(|(_, _, first_open)| SourceOffset::consumer(t, p, first_open))
            });
            held.unwrap_or_else(|| o.clone())
        })
        .filter(|o| !committed.contains(o))
        .collect()
}

/// Keeps the newest offset of each source partition, in first-seen order.
pub fn merge_offsets(into: &mut Vec<SourceOffset>, newer: impl IntoIterator<Item = SourceOffset>) {
    for o in newer {
        match into.iter_mut().find(|p| p.partition == o.partition) {
            Some(p) => p.offset = o.offset,
            None => into.push(o),
        }
    }
}

/// A record the source read but could not turn into Connect data (a sink connector's
/// converter refused its bytes); the connector's error policy decides what happens to it.
#[derive(Debug)]
pub struct Unconverted {
    pub consumed: Arc<Consumed>,
    pub error: BoxError,
}

/// What one poll of a source returns. `offsets`, the newest offset of each source partition
/// the batch touched, may be committed once every record of this batch and of all earlier
/// batches is durable in the sink.
#[derive(Debug, Default)]
pub struct SourceBatch {
    pub records: Vec<Record>,
    pub unconverted: Vec<Unconverted>,
    pub offsets: Vec<SourceOffset>,
    /// When the newest change in the batch was committed in the source (ms since epoch).
    pub source_ts_ms: Option<i64>,
    /// The source returned because nothing more was waiting: a good moment to make
    /// everything durable (under a backlog, the driver flushes by interval instead).
    pub caught_up: bool,
    /// Records the source wrote as JSON payloads itself; they follow `records`.
    pub encoded: EncodedBatch,
}

impl SourceBatch {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
            && self.unconverted.is_empty()
            && self.offsets.is_empty()
            && self.encoded.is_empty()
    }
}

/// Records a source already wrote as the JSON converter's payloads (the snapshot's fast path:
/// COPY text straight into JSON, no Connect values in between). Every payload is exactly what
/// `json::write_value` writes for the record's schema and value; the topic sink's converter
/// adds the `{"schema":…,"payload":…}` wrapping when `schemas.enable` asks for it. A source
/// emits these only when the worker told it the records go to a topic through JSON converters
/// with no transforms on the way, so nothing needs the values.
#[derive(Debug, Default)]
pub struct EncodedBatch {
    /// Every payload of the batch, back to back: one buffer handed over whole.
    pub buf: Vec<u8>,
    pub topics: Vec<EncodedTopic>,
    pub records: Vec<EncodedRecord>,
}

/// A topic of an encoded batch, with the schemas of its records' keys and values.
#[derive(Debug, Clone)]
pub struct EncodedTopic {
    pub topic: String,
    pub key_schema: Option<Arc<Schema>>,
    pub value_schema: Option<Arc<Schema>>,
}

/// One record of an encoded batch: byte ranges of `EncodedBatch::buf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedRecord {
    /// Index into `EncodedBatch::topics`.
    pub topic: u32,
    /// `None` is a null key.
    pub key: Option<(usize, usize)>,
    /// `None` is a tombstone.
    pub value: Option<(usize, usize)>,
    pub timestamp_ms: i64,
}

impl EncodedBatch {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// The key payload of a record.
    pub fn key(&self, r: &EncodedRecord) -> Option<&[u8]> {
        r.key.map(|(s, e)| &self.buf[s..e])
    }

    /// The value payload of a record.
    pub fn value(&self, r: &EncodedRecord) -> Option<&[u8]> {
        r.value.map(|(s, e)| &self.buf[s..e])
    }

    /// The batch as Connect records, read back as a consumer of the topic would read them
    /// through the JSON converter (for a sink that has no way to take the payloads as they are).
    pub fn to_records(&self) -> Result<Vec<Record>, crate::json::ConvertError> {
        let read = |schema: &Option<Arc<Schema>>, bytes: Option<&[u8]>| {
            let Some(bytes) = bytes else {
                return Ok(None);
            };
            let json: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| crate::json::ConvertError(e.to_string()))?;
            let value = crate::json::to_connect(schema.as_deref(), &json)?;
            Ok(Some(Data {
                schema: schema.clone(),
                value,
            }))
        };
        self.records
            .iter()
            .map(|r| {
                let t = &self.topics[r.topic as usize];
                Ok(Record::new(
                    t.topic.clone(),
                    read(&t.key_schema, self.key(r))?,
                    read(&t.value_schema, self.value(r))?,
                    r.timestamp_ms,
                ))
            })
            .collect()
    }
}

/// Where a sink put a record: the partition, and the offset when known at write time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    pub partition: i32,
    pub offset: Option<i64>,
}

/// What a sink did with a batch: where each record went (when it knows), and the records it
/// refused one by one (by index), which the error policy handles while the rest go on.
#[derive(Debug, Default)]
pub struct Written {
    pub positions: Vec<RecordPosition>,
    pub rejected: Vec<(usize, BoxError)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_positions_hold_consumer_positions_at_retained_records() {
        let pg = SourceOffset {
            partition: serde_json::json!({"server": "s"}),
            offset: serde_json::json!({"lsn": 5}),
        };
        let read = vec![
            SourceOffset::consumer("a", 0, 100),
            SourceOffset::consumer("a", 1, 50),
            pg.clone(),
        ];
        let retained = vec![
            SourceOffset::consumer("a", 0, 40),
            // Retained from further than was read: nothing to hold back.
            SourceOffset::consumer("a", 1, 70),
        ];
        assert_eq!(
            durable_positions(&read, &retained, &[]),
            vec![
                SourceOffset::consumer("a", 0, 40),
                SourceOffset::consumer("a", 1, 50),
                pg.clone()
            ]
        );
        // What is already committed is not committed again.
        let committed = vec![SourceOffset::consumer("a", 0, 40), pg];
        assert_eq!(
            durable_positions(&read, &retained, &committed),
            vec![SourceOffset::consumer("a", 1, 50)]
        );
        assert_eq!(
            durable_positions(&read, &[], &committed),
            vec![
                SourceOffset::consumer("a", 0, 100),
                SourceOffset::consumer("a", 1, 50)
            ]
        );
    }
}
