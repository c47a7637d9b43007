//! The conformance suite every sink runs (feature `conformance`): the driver feeds it numbered
//! records from a counting source, and faults are injected around it: a write that fails, a
//! flush that fails, a task killed between write and flush. After each, a new sink over the
//! same destination resumes from the committed offset, and the destination must hold every
//! record exactly once up to the offset committed before the fault, and every record after it
//! at least once. Nothing committed may be missing, at any point. Positions are a sink
//! connector's (`{"kafka_topic","kafka_partition"}` → `{"kafka_offset"}`, record `n` at offset
//! `n`), so a sink that retains records across flushes (`Sink::retained`) is held to them.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::watch;

use crate::data::{Data, Schema, SchemaType, Value};
use crate::error::ConnectorError;
use crate::pipeline::{self, OffsetBackend, PipelineOptions, Source, TaskControl, TaskStats};
use crate::record::{Consumed, Json, ProducerRecord, Record, SourceBatch, SourceOffset, Written};
use crate::sink::{Durable, Sink};
use crate::tolerance::ErrorPolicy;
use crate::transform::TransformChain;

/// A sink under test: how to open it (again, over the same destination) and read back what
/// its destination durably holds.
pub trait SinkUnderTest: Sync {
    type S: Sink + 'static;
    fn open(&self) -> impl Future<Output = Self::S> + Send;
    /// The record numbers the destination holds, in any order, duplicates included.
    fn read_back(&self) -> impl Future<Output = Vec<i64>> + Send;
}

/// The topic the suite's records carry.
pub const TOPIC: &str = "conformance";

/// Record `n`, read at offset `n` of partition 0: key and value the number itself (int64).
pub fn record(n: i64) -> Record {
    let schema = Arc::new(Schema::new(SchemaType::Int64));
    let mut r = Record::new(
        TOPIC,
        Some(Data::new(schema.clone(), Value::Int(n))),
        Some(Data::new(schema, Value::Int(n))),
        1_700_000_000_000 + n,
    );
    r.partition = Some(0);
    let text = n.to_string().into_bytes();
    r.consumed = Some(Arc::new(Consumed {
        record: ProducerRecord {
            topic: TOPIC.into(),
            key: Some(text.clone()),
            value: Some(text),
            timestamp_ms: r.timestamp_ms,
            headers: Vec::new(),
        },
        partition: 0,
        offset: n,
    }));
    r
}

/// Emits records `from..total` in batches of `batch`, each batch with the position after it.
struct Counting {
    next: i64,
    total: i64,
    batch: i64,
}

impl Source for Counting {
    async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        if self.next >= self.total {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return Ok(SourceBatch {
                caught_up: true,
                ..SourceBatch::default()
            });
        }
        // A source a little slower than the sink, so commits interleave with writes.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let end = (self.next + self.batch).min(self.total);
        let records = (self.next..end).map(record).collect();
        self.next = end;
        Ok(SourceBatch {
            records,
            offsets: vec![SourceOffset::consumer(TOPIC, 0, end)],
            caught_up: end >= self.total,
            ..SourceBatch::default()
        })
    }

    async fn commit(&mut self, _offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// Offsets in memory, as durable as the test needs: the last record committed.
#[derive(Default)]
struct Memory(Mutex<Option<i64>>);

impl Memory {
    fn committed(&self) -> Option<i64> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl OffsetBackend for Memory {
    async fn get(&self, _c: &str, _p: &Json) -> Result<Option<Json>, ConnectorError> {
        Ok(self.committed().map(|n| json!({"kafka_offset": n + 1})))
    }

    async fn commit(&self, _c: &str, offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        for o in offsets {
            if let Some((_, _, next)) = o.as_consumer() {
                *self.0.lock().unwrap_or_else(|e| e.into_inner()) = (next > 0).then_some(next - 1);
            }
        }
        Ok(())
    }

    async fn list(&self, _c: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
        Ok(Vec::new())
    }

    async fn clear(&self, _c: &str) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// Where to fail.
#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    /// The n-th call of `write` fails.
    Write(usize),
    /// The n-th flush fails.
    Flush(usize),
    /// From the n-th flush on, flushing does not finish until the task is killed.
    Hang(usize),
}

struct Faulty<S> {
    inner: S,
    fault: Fault,
    writes: usize,
    flushes: usize,
    killed: watch::Receiver<bool>,
}

/// Resolves once the task is killed, as an error: what the task does not get to commit.
fn until_killed(mut killed: watch::Receiver<bool>) -> Durable {
    Box::pin(async move {
        let _ = killed.wait_for(|k| *k).await;
        Err(ConnectorError::permanent("killed"))
    })
}

impl<S: Sink> Sink for Faulty<S> {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        self.writes += 1;
        if matches!(self.fault, Fault::Write(n) if n == self.writes) {
            return Err(ConnectorError::permanent("injected write failure"));
        }
        self.inner.write(records).await
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        self.flushes += 1;
        match self.fault {
            Fault::Flush(n) if n == self.flushes => {
                Err(ConnectorError::permanent("injected flush failure"))
            }
            Fault::Hang(n) if self.flushes >= n => until_killed(self.killed.clone()).await,
            _ => self.inner.flush().await,
        }
    }

    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        self.flushes += 1;
        match self.fault {
            Fault::Flush(n) if n == self.flushes => {
                Err(ConnectorError::permanent("injected flush failure"))
            }
            Fault::Hang(n) if self.flushes >= n => Ok(until_killed(self.killed.clone())),
            _ => self.inner.start_flush().await,
        }
    }

    fn retained(&self) -> Vec<SourceOffset> {
        self.inner.retained()
    }
}

fn options() -> PipelineOptions {
    PipelineOptions {
        connector: "conformance".into(),
        stats: Arc::new(TaskStats::default()),
        // Commit as often as the sink allows, so faults land between several commits.
        flush_interval: Duration::ZERO,
        transforms: Arc::new(TransformChain::default()),
        errors: ErrorPolicy::default(),
        sink_class: "conformance".into(),
    }
}

/// One run of the pipeline from the committed offset until the source is drained (then
/// stopped) or the fault ends it.
async fn run_once<T: SinkUnderTest>(t: &T, offsets: &Arc<Memory>, total: i64, fault: Fault) {
    let (kill, killed) = watch::channel(false);
    let sink = Faulty {
        inner: t.open().await,
        fault,
        writes: 0,
        flushes: 0,
        killed,
    };
    let next = offsets.committed().map_or(0, |n| n + 1);
    let mut source = Counting {
        next,
        total,
        batch: 7,
    };
    let (tx, rx) = watch::channel(TaskControl::Run);
    let run = pipeline::run(
        options(),
        &mut source,
        sink,
        None::<Faulty<T::S>>,
        offsets.clone(),
        rx,
    );
    // Stop once everything is committed (a fault ends the run by itself); a hung flush is
    // a task about to be killed: after a while, it is.
    let watcher = async {
        let started = std::time::Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if offsets.committed() == Some(total - 1) {
                let _ = tx.send(TaskControl::Stop);
            }
            if matches!(fault, Fault::Hang(_)) && started.elapsed() > Duration::from_millis(500) {
                let _ = kill.send(true);
            }
        }
    };
    tokio::select! {
        _ = run => {}
        _ = watcher => {}
    }
}

/// Checks what the destination holds against what was committed.
async fn check<T: SinkUnderTest>(t: &T, committed: Option<i64>, total: i64, what: &str) {
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for n in t.read_back().await {
        *counts.entry(n).or_default() += 1;
    }
    if let Some(c) = committed {
        for n in 0..=c {
            assert!(
                counts.contains_key(&n),
                "{what}: record {n} is missing although offset {c} was committed"
            );
        }
    }
    for n in counts.keys() {
        assert!(*n >= 0 && *n < total, "{what}: unexpected record {n}");
    }
}

/// Runs every scenario against fresh destinations made by `make`.
pub async fn run_all<T: SinkUnderTest, F: Fn(&str) -> T>(make: F) {
    const TOTAL: i64 = 300;
    for (name, fault) in [
        ("clean run", Fault::None),
        ("failing 5th write", Fault::Write(5)),
        ("failing 3rd flush", Fault::Flush(3)),
        ("killed between write and flush", Fault::Hang(3)),
    ] {
        let t = make(name);
        let offsets = Arc::new(Memory::default());
        run_once(&t, &offsets, TOTAL, fault).await;
        let before = offsets.committed();
        check(&t, before, TOTAL, &format!("{name}, before the restart")).await;
        if !matches!(fault, Fault::None) {
            assert!(
                before.is_none_or(|c| c < TOTAL - 1),
                "{name}: the fault did not interrupt the run"
            );
            // A restart resumes from the committed offset.
            run_once(&t, &offsets, TOTAL, Fault::None).await;
        }
        assert_eq!(offsets.committed(), Some(TOTAL - 1), "{name}: not finished");
        check(
            &t,
            Some(TOTAL - 1),
            TOTAL,
            &format!("{name}, after the restart"),
        )
        .await;
        // Exactly once up to what was committed before the fault.
        let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
        for n in t.read_back().await {
            *counts.entry(n).or_default() += 1;
        }
        if let Some(c) = before {
            for n in 0..=c {
                assert_eq!(
                    counts.get(&n),
                    Some(&1),
                    "{name}: record {n} (committed before the fault at {c}) is duplicated"
                );
            }
        }
    }
}
