//! Records as they travel: a source builds `SourceRecord`s (Connect data), the converters turn
//! them into `ProducerRecord`s (bytes), sinks store those. Offsets travel beside the records
//! and are committed only after the sink made the records before them durable.

pub use serde_json::Value as Json;

use crate::data::Data;

/// A Kafka header. Values are bytes, `None` is a null header value.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub key: String,
    pub value: Option<Vec<u8>>,
}

/// Connect's `SourceRecord`: what a source produces, before conversion.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub topic: String,
    pub key: Option<Data>,
    /// `None` is a tombstone.
    pub value: Option<Data>,
    pub timestamp_ms: i64,
    pub headers: Vec<Header>,
}

/// A record after the key and value converters: what a sink writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub timestamp_ms: i64,
    pub headers: Vec<Header>,
}

/// Connect's source partition and offset maps (e.g. `{"server":"pagila"}` →
/// `{"lsn":123,"txId":9,...}`), kept as JSON so the REST offsets API can show them as is.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceOffset {
    pub partition: Json,
    pub offset: Json,
}

/// What one poll of a source returns. `offset`, when present, may be committed once every
/// record of this batch and of all earlier batches is durable in the sink.
#[derive(Debug, Default)]
pub struct SourceBatch {
    pub records: Vec<SourceRecord>,
    pub offset: Option<SourceOffset>,
    /// When the newest change in the batch was committed in the source (ms since epoch).
    pub source_ts_ms: Option<i64>,
    /// The source returned because nothing more was waiting: a good moment to make
    /// everything durable (under a backlog, the driver flushes by interval instead).
    pub caught_up: bool,
}

/// Where a sink put a record: the partition, and the offset when known at write time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordPosition {
    pub partition: i32,
    pub offset: Option<i64>,
}
