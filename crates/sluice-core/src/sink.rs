//! The sink seam: where a pipeline's records end. For a source connector that is a topic
//! (local topics, or Kafka), for a sink connector the external system (a file, S3, a
//! database). A sink owns its format: topic sinks encode with their converters straight into
//! their buffers, others read the typed values. `write` may buffer; only `flush` (or the future
//! `start_flush` returns) promises durability, and offsets are committed only after it.
//! A sink that keeps records open across flushes (an S3 file is uploaded only when it rotates,
//! so that the same records always make the same objects) says where its open records start
//! (`retained`), and the driver commits no consumer position past that.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use crate::error::{BoxError, ConnectorError};
use crate::json::Converter;
use crate::record::{EncodedBatch, ProducerRecord, Record, SourceOffset, Written};
use crate::topics::{encode_line, encoded_line};

/// Resolves once the records written before it was made are durable (`Sink::start_flush`).
pub type Durable = Pin<Box<dyn Future<Output = Result<(), ConnectorError>> + Send>>;

pub trait Sink: Send {
    fn write(
        &mut self,
        records: &[Record],
    ) -> impl Future<Output = Result<Written, ConnectorError>> + Send;

    /// Writes records a source encoded as JSON payloads itself. Topic sinks take the payloads
    /// as they are; any other sink gets the records a consumer of the topic would read.
    fn write_encoded(
        &mut self,
        batch: &EncodedBatch,
    ) -> impl Future<Output = Result<Written, ConnectorError>> + Send {
        async move {
            let records = batch.to_records().map_err(ConnectorError::permanent)?;
            self.write(&records).await
        }
    }

    /// Returns once every record written so far is durable (fsynced, acknowledged by all
    /// in-sync replicas, uploaded, committed).
    fn flush(&mut self) -> impl Future<Output = Result<(), ConnectorError>> + Send;

    /// Starts making everything written so far durable and returns what resolves once it is,
    /// so that writing can go on meanwhile. By default: flushes now.
    fn start_flush(&mut self) -> impl Future<Output = Result<Durable, ConnectorError>> + Send {
        async move {
            self.flush().await?;
            Ok(Box::pin(std::future::ready(Ok(()))) as Durable)
        }
    }

    /// What a flush leaves open: for each topic partition whose records the sink still holds
    /// back (written to a file that has not rotated), the offset of the first of them, as a
    /// consumer position (`SourceOffset::consumer(topic, partition, first_open_offset)`).
    /// The driver asks right after `start_flush`/`flush`; once that flush resolves it commits
    /// no position of those partitions past these offsets, so a restart reads the held-back
    /// records again. By default nothing: a flush makes everything written durable.
    fn retained(&self) -> Vec<SourceOffset> {
        Vec::new()
    }

    /// What the sink's client is retrying on its own right now (librdkafka re-sending to a
    /// broker it cannot reach), for the task's status while a flush waits. By default nothing.
    fn problem(&self) -> Option<String> {
        None
    }
}

/// Turns a record into topic bytes with the connector's converters.
pub fn convert(
    record: &Record,
    key: &Converter,
    value: &Converter,
) -> Result<ProducerRecord, BoxError> {
    Ok(ProducerRecord {
        topic: record.topic.clone(),
        key: key.serialize(record.key.as_ref())?,
        value: value.serialize(record.value.as_ref())?,
        timestamp_ms: record.timestamp_ms,
        headers: record.headers.clone(),
    })
}

/// `--stdout`: prints every record one JSON line at a time, as local topics store it, after
/// the sink it wraps accepted it.
pub struct Tee<S> {
    pub inner: S,
    pub key: Converter,
    pub value: Converter,
    line: Vec<u8>,
}

impl<S> Tee<S> {
    pub fn new(inner: S, key: Converter, value: Converter) -> Self {
        Tee {
            inner,
            key,
            value,
            line: Vec::new(),
        }
    }
}

impl<S: Sink> Sink for Tee<S> {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let written = self.inner.write(records).await?;
        self.line.clear();
        for (i, r) in records.iter().enumerate() {
            if written.rejected.iter().any(|(j, _)| *j == i) {
                continue;
            }
            let Ok(bytes) = convert(r, &self.key, &self.value) else {
                continue;
            };
            let pos = written.positions.get(i);
            encode_line(
                &mut self.line,
                &bytes,
                pos.map_or(-1, |p| p.partition),
                pos.and_then(|p| p.offset),
            );
            self.line.push(b'\n');
        }
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) must not stop the pipeline.
        let _ = out.write_all(&self.line).and_then(|_| out.flush());
        Ok(written)
    }

    async fn write_encoded(&mut self, batch: &EncodedBatch) -> Result<Written, ConnectorError> {
        let (Some(key), Some(value)) = (self.key.as_json(), self.value.as_json()) else {
            return self
                .write(&batch.to_records().map_err(ConnectorError::permanent)?)
                .await;
        };
        let written = self.inner.write_encoded(batch).await?;
        self.line.clear();
        for (i, r) in batch.records.iter().enumerate() {
            if written.rejected.iter().any(|(j, _)| *j == i) {
                continue;
            }
            let pos = written.positions.get(i);
            encoded_line(
                &mut self.line,
                batch,
                r,
                key,
                value,
                pos.map_or(-1, |p| p.partition),
                pos.and_then(|p| p.offset),
            );
            self.line.push(b'\n');
        }
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&self.line).and_then(|_| out.flush());
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        self.inner.flush().await
    }

    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        self.inner.start_flush().await
    }

    fn retained(&self) -> Vec<SourceOffset> {
        self.inner.retained()
    }

    fn problem(&self) -> Option<String> {
        self.inner.problem()
    }
}
