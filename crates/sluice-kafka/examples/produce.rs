//! Benchmark helper (`scripts/bench`): produces pre-encoded records through the same
//! `KafkaTopicSink` Sluice uses (with Connect's byte-array converter, which passes the bytes
//! through), to measure what the broker and librdkafka take without Sluice's source in front
//! of them.
//!
//! Usage: `produce BOOTSTRAP TOPIC_PREFIX FILE...` where each FILE is a local topic
//! (`partition-0.jsonl`). Records are read into memory first, then produced to
//! `<TOPIC_PREFIX><topic>` and flushed; prints `{"records":N,"seconds":S}` (the topics are
//! created, with one record each, before the clock starts).

use std::time::Instant;

use std::sync::Arc;

use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::json::Converter;
use sluice_core::record::Record;
use sluice_core::sink::Sink;
use sluice_kafka::{KafkaConnection, KafkaTopicSink, Role, TopicDefaults};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bootstrap, prefix, files @ ..] = args.as_slice() else {
        return Err("usage: produce BOOTSTRAP TOPIC_PREFIX FILE...".into());
    };
    let schema = Arc::new(Schema::new(SchemaType::Bytes).optional());
    let mut records = Vec::new();
    for file in files {
        for line in std::fs::read_to_string(file)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let bytes = |field: &str| match &v[field] {
                serde_json::Value::Null => Ok(None),
                other => serde_json::to_vec(other)
                    .map(|b| Some(Data::new(schema.clone(), Value::Bytes(b)))),
            };
            records.push(Record::new(
                format!("{prefix}{}", v["topic"].as_str().unwrap_or("unknown")),
                bytes("key")?,
                bytes("value")?,
                v["timestamp"].as_i64().unwrap_or(0),
            ));
        }
    }
    let mut sink = KafkaTopicSink::new(
        &KafkaConnection::plain(bootstrap),
        Role::Producer,
        TopicDefaults::default(),
        Converter::ByteArray,
        Converter::ByteArray,
    )?;
    // Topics exist before the clock starts, as they do for Sluice after its first batch.
    let mut topics: Vec<&Record> = Vec::new();
    for r in &records {
        if !topics.iter().any(|t| t.topic == r.topic) {
            topics.push(r);
        }
    }
    let first: Vec<Record> = topics.into_iter().cloned().collect();
    sink.write(&first).await?;
    sink.flush().await?;
    let start = Instant::now();
    for batch in records.chunks(2048) {
        sink.write(batch).await?;
    }
    sink.flush().await?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"records": records.len(), "seconds": seconds})
    );
    Ok(())
}
