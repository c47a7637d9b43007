//! The console's view of topics: the list with record counts, and a live tail of one topic
//! as server-sent events. The tail samples: it forwards at most `rate` records a second and
//! counts the others as dropped, so a topic receiving thousands of events a second never
//! floods the browser. A search by key is applied before the sampling, so matches are not
//! dropped for records nobody asked for. Reading never moves any connector's position.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sluice_core::topics::{end_offset, list_topics, TopicReader};
use sluice_kafka::browse::{topic_counts, TailStart, TopicTail};
use tokio::sync::mpsc;

use super::{ConsoleError, ConsoleState};
use crate::runner::TopicStore;

/// Records shown when a tail starts at the end.
const LAST: i64 = 20;
/// Records forwarded per second when the page does not ask for another rate, and the most
/// it may ask for.
const DEFAULT_RATE: u32 = 50;
const MAX_RATE: u32 = 500;
/// Bytes of a local topic read at a time.
const READ_CHUNK: u64 = 4 << 20;

/// `GET /ui/api/topics`: every topic of the worker's store with its record count.
pub async fn list(State(state): State<ConsoleState>) -> Result<Json<Value>, ConsoleError> {
    let store = state.herder.topic_store().clone();
    let topics = tokio::task::spawn_blocking(move || counts(&store))
        .await
        .map_err(|e| ConsoleError::internal(e.to_string()))??;
    let topics: Vec<Value> = topics
        .into_iter()
        .map(|(name, records)| json!({"name": name, "records": records}))
        .collect();
    Ok(Json(
        json!({"store": state.herder.store_url(), "topics": topics}),
    ))
}

fn counts(store: &TopicStore) -> Result<Vec<(String, i64)>, ConsoleError> {
    match store {
        TopicStore::Local { data_dir } => {
            let mut out = Vec::new();
            for topic in list_topics(data_dir)? {
                let records = end_offset(data_dir, &topic)?;
                out.push((topic, records));
            }
            Ok(out)
        }
        TopicStore::Kafka { conn, .. } => {
            topic_counts(conn).map_err(|e| ConsoleError::internal(sluice_core::error::chain(&e)))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct TailParams {
    /// `end` (the last few records, the default), `beginning`, or an offset.
    from: Option<String>,
    /// Only records whose key matches (see [`KeyQuery`]).
    key: Option<String>,
    /// Records forwarded per second at most.
    rate: Option<u32>,
}

/// `GET /ui/api/topics/{topic}/tail`: `record` events (the record as a local-topic JSON
/// line), and once a second a `stats` event (`{"shown","dropped","matched","scanned"}`).
pub async fn tail(
    State(state): State<ConsoleState>,
    Path(topic): Path<String>,
    Query(params): Query<TailParams>,
) -> Result<Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>>, ConsoleError> {
    let permit = state.tails.clone().try_acquire_owned().map_err(|_| {
        ConsoleError(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many topic tails are open on this worker; close one and try again".into(),
        )
    })?;
    let start = match params.from.as_deref().unwrap_or("end") {
        "end" => Start::Last(LAST),
        "beginning" => Start::Offset(0),
        n => Start::Offset(n.parse().map_err(|_| {
            ConsoleError(
                StatusCode::BAD_REQUEST,
                format!("from must be end, beginning or an offset, not {n:?}"),
            )
        })?),
    };
    let store = state.herder.topic_store().clone();
    let reader = tokio::task::spawn_blocking(move || Reader::open(&store, &topic, start))
        .await
        .map_err(|e| ConsoleError::internal(e.to_string()))??;
    let sampler = Sampler {
        key: params
            .key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(KeyQuery::parse),
        rate: params.rate.unwrap_or(DEFAULT_RATE).clamp(1, MAX_RATE),
    };
    let (tx, rx) = mpsc::channel::<TailEvent>(64);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        sampler.run(reader, tx)
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let event = match rx.recv().await? {
            TailEvent::Record(line) => Event::default()
                .event("record")
                .data(String::from_utf8_lossy(&line)),
            TailEvent::Stats(stats) => Event::default().event("stats").data(stats.to_string()),
            TailEvent::Failure(e) => Event::default().event("failure").data(e),
        };
        Some((Ok(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Debug, Clone, Copy)]
enum Start {
    /// The last `n` records.
    Last(i64),
    Offset(i64),
}

/// A topic being read, local or on Kafka.
enum Reader {
    Local(TopicReader),
    Kafka(TopicTail),
}

impl Reader {
    fn open(store: &TopicStore, topic: &str, start: Start) -> Result<Reader, ConsoleError> {
        match store {
            TopicStore::Local { data_dir } => {
                let offset = match start {
                    Start::Last(n) => (end_offset(data_dir, topic)? - n).max(0),
                    Start::Offset(o) => o,
                };
                Ok(Reader::Local(TopicReader::open_at(
                    data_dir, topic, offset,
                )?))
            }
            TopicStore::Kafka { conn, .. } => {
                let start = match start {
                    Start::Last(n) => TailStart::Last(n),
                    Start::Offset(0) => TailStart::Beginning,
                    Start::Offset(o) => TailStart::From(o),
                };
                TopicTail::open(conn, topic, start)
                    .map(Reader::Kafka)
                    .map_err(|e| ConsoleError(StatusCode::NOT_FOUND, sluice_core::error::chain(&e)))
            }
        }
    }

    /// The next records, waiting a little when there are none.
    fn read(&mut self) -> Result<Vec<Vec<u8>>, String> {
        match self {
            Reader::Local(r) => {
                let lines = r.read_lines_up_to(READ_CHUNK).map_err(|e| e.to_string())?;
                if lines.is_empty() {
                    std::thread::sleep(Duration::from_millis(200));
                }
                Ok(lines)
            }
            Reader::Kafka(t) => t
                .poll(2048, Duration::from_millis(200))
                .map_err(|e| sluice_core::error::chain(&e)),
        }
    }
}

/// What a tail sends the page.
#[derive(Debug)]
enum TailEvent {
    /// A record, as a local-topic JSON line.
    Record(Vec<u8>),
    /// Once a second: `{"shown","dropped","matched","scanned","rate"}`.
    Stats(Value),
    /// The topic cannot be read any more.
    Failure(String),
}

struct Sampler {
    key: Option<KeyQuery>,
    rate: u32,
}

impl Sampler {
    /// Reads until the page goes away (the channel closes) or the topic cannot be read.
    fn run(self, mut reader: Reader, tx: mpsc::Sender<TailEvent>) {
        let (mut shown, mut dropped, mut matched, mut scanned) = (0u64, 0u64, 0u64, 0u64);
        let mut window = Instant::now();
        let mut in_window = 0u32;
        let mut reported = Instant::now();
        loop {
            let lines = match reader.read() {
                Ok(lines) => lines,
                Err(e) => {
                    let _ = tx.blocking_send(TailEvent::Failure(e));
                    return;
                }
            };
            for line in lines {
                scanned += 1;
                if let Some(q) = &self.key {
                    if !q.matches_line(&line) {
                        continue;
                    }
                }
                matched += 1;
                if window.elapsed() >= Duration::from_secs(1) {
                    window = Instant::now();
                    in_window = 0;
                }
                if in_window >= self.rate {
                    dropped += 1;
                    continue;
                }
                in_window += 1;
                shown += 1;
                if tx.blocking_send(TailEvent::Record(line)).is_err() {
                    return;
                }
            }
            if reported.elapsed() >= Duration::from_secs(1) {
                reported = Instant::now();
                let stats = json!({"shown": shown, "dropped": dropped, "matched": matched, "scanned": scanned, "rate": self.rate});
                if tx.blocking_send(TailEvent::Stats(stats)).is_err() {
                    return;
                }
            }
            if tx.is_closed() {
                return;
            }
        }
    }
}

/// A search by key: `42` matches a key with any field equal to 42 (or a key that is 42);
/// `customer_id=42` only that field. Keys with a schema are compared on their payload.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyQuery {
    field: Option<String>,
    value: String,
}

impl KeyQuery {
    pub fn parse(q: &str) -> KeyQuery {
        match q.split_once('=') {
            Some((f, v)) => KeyQuery {
                field: Some(f.trim().to_owned()),
                value: v.trim().to_owned(),
            },
            None => KeyQuery {
                field: None,
                value: q.trim().to_owned(),
            },
        }
    }

    fn matches_line(&self, line: &[u8]) -> bool {
        #[derive(Deserialize)]
        struct KeyOnly {
            key: Value,
        }
        serde_json::from_slice::<KeyOnly>(line).is_ok_and(|l| self.matches(&l.key))
    }

    pub fn matches(&self, key: &Value) -> bool {
        let payload = match key {
            Value::Object(o) if o.contains_key("schema") && o.contains_key("payload") => {
                &o["payload"]
            }
            other => other,
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match (payload, &self.field) {
            (Value::Object(fields), Some(f)) => {
                fields.get(f).is_some_and(|v| text(v) == self.value)
            }
            (Value::Object(fields), None) => fields.values().any(|v| text(v) == self.value),
            (other, None) => text(other) == self.value,
            (_, Some(_)) => false,
        }
    }
}

/// Tails open at once on a worker (each holds a blocking thread).
pub const MAX_TAILS: usize = 16;

pub type TailPermits = Arc<tokio::sync::Semaphore>;

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::record::ProducerRecord;
    use sluice_core::topics::LocalTopics;

    #[test]
    fn the_tail_forwards_at_most_its_rate_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let mut topics = LocalTopics::open(dir.path()).unwrap();
        for i in 0..500 {
            topics
                .append(&ProducerRecord {
                    topic: "t".into(),
                    key: Some(format!("{{\"id\":{}}}", i % 50).into_bytes()),
                    value: Some(b"{}".to_vec()),
                    timestamp_ms: 0,
                    headers: vec![],
                })
                .unwrap();
        }
        topics.sync().unwrap();
        let store = TopicStore::Local {
            data_dir: dir.path().to_owned(),
        };
        let run = |key: Option<&str>, start: Start| {
            let reader = Reader::open(&store, "t", start).unwrap();
            let sampler = Sampler {
                key: key.map(KeyQuery::parse),
                rate: 7,
            };
            let (tx, mut rx) = mpsc::channel(1000);
            let reading = std::thread::spawn(move || sampler.run(reader, tx));
            let (mut records, mut stats) = (Vec::new(), None);
            while stats.is_none() {
                match rx.blocking_recv().unwrap() {
                    TailEvent::Record(line) => records.push(line),
                    TailEvent::Stats(s) => stats = Some(s),
                    TailEvent::Failure(e) => panic!("{e}"),
                }
            }
            drop(rx);
            reading.join().unwrap();
            (records, stats.unwrap())
        };
        // From the beginning: the first second shows 7 of 500.
        let (records, stats) = run(None, Start::Offset(0));
        assert_eq!(records.len(), 7);
        assert_eq!(stats["dropped"], 493);
        assert_eq!(stats["scanned"], 500);
        // A search by key first, then the cap.
        let (records, stats) = run(Some("id=3"), Start::Offset(0));
        assert_eq!(records.len(), 7);
        assert_eq!(stats["matched"], 10);
        assert_eq!(stats["dropped"], 3);
        assert!(records
            .iter()
            .all(|l| String::from_utf8_lossy(l).contains(r#""key":{"id":3}"#)));
        // From the end: the last few.
        let (records, _) = run(None, Start::Last(5));
        assert_eq!(records.len(), 5);
        assert!(String::from_utf8_lossy(&records[0]).contains(r#""offset":495"#));
        assert!(matches!(
            Reader::open(&store, "missing", Start::Last(5)),
            Err(ConsoleError(StatusCode::NOT_FOUND, _))
        ));
    }

    #[test]
    fn key_queries() {
        let with_schema =
            json!({"schema": {"type": "struct"}, "payload": {"customer_id": 42, "store": "x"}});
        let plain = json!({"customer_id": 42});
        assert!(KeyQuery::parse("42").matches(&with_schema));
        assert!(KeyQuery::parse("42").matches(&plain));
        assert!(KeyQuery::parse("customer_id=42").matches(&with_schema));
        assert!(KeyQuery::parse(" customer_id = 42 ").matches(&plain));
        assert!(KeyQuery::parse("store=x").matches(&with_schema));
        assert!(!KeyQuery::parse("4").matches(&plain), "whole values only");
        assert!(!KeyQuery::parse("store=42").matches(&with_schema));
        assert!(KeyQuery::parse("abc").matches(&json!("abc")));
        assert!(!KeyQuery::parse("42").matches(&Value::Null));
        let line = br#"{"topic":"t","partition":0,"offset":3,"timestamp":1,"key":{"id":7},"value":null,"headers":[]}"#;
        assert!(KeyQuery::parse("id=7").matches_line(line));
        assert!(!KeyQuery::parse("id=8").matches_line(line));
    }
}
