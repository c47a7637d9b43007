//! The seams between connectors and the one loop that drives them:
//! poll source → convert → write to sink → flush (durable) → commit offset → ack source.
//! The order is the durability argument: an offset is stored, and the source told it may
//! forget (e.g. the slot's flushed LSN), only after every record before it is durable.

use std::collections::BTreeSet;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::json::JsonConverter;
use crate::metrics as m;
use crate::offsets::OffsetStore;
use crate::record::{
    Json, ProducerRecord, RecordPosition, SourceBatch, SourceOffset, SourceRecord,
};
use crate::topics::{encode_line, LocalTopics, TopicError};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves once the records written before it was made are durable (`Sink::start_flush`).
pub type Durable = Pin<Box<dyn Future<Output = Result<(), BoxError>> + Send>>;

/// A source connector task.
pub trait Source: Send {
    /// Waits for the next records, returning within about a second even when there are
    /// none (possibly an empty batch), so the driver can react to pause and stop.
    fn poll(&mut self) -> impl Future<Output = Result<SourceBatch, BoxError>> + Send;
    /// Everything up to `offset` is durable downstream; the source may release it.
    fn commit(
        &mut self,
        offset: &SourceOffset,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
}

/// Where a connector's source offsets are kept (a file in the data dir, or Connect's
/// `connect-offsets` topic). `commit` returns only once the offset is durable.
pub trait OffsetBackend: Send + Sync {
    fn get(
        &self,
        connector: &str,
        partition: &Json,
    ) -> impl Future<Output = Result<Option<Json>, BoxError>> + Send;
    fn commit(
        &self,
        connector: &str,
        offset: &SourceOffset,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;
    /// Every stored offset of a connector (Connect's `GET /connectors/{name}/offsets`).
    fn list(
        &self,
        connector: &str,
    ) -> impl Future<Output = Result<Vec<SourceOffset>, BoxError>> + Send;
    /// Forgets every offset of a connector.
    fn clear(&self, connector: &str) -> impl Future<Output = Result<(), BoxError>> + Send;
}

impl OffsetBackend for OffsetStore {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, BoxError> {
        tokio::task::block_in_place(|| OffsetStore::get(self, connector, partition))
            .map_err(Into::into)
    }

    async fn commit(&self, connector: &str, offset: &SourceOffset) -> Result<(), BoxError> {
        tokio::task::block_in_place(|| OffsetStore::commit(self, connector, offset))
            .map_err(Into::into)
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, BoxError> {
        tokio::task::block_in_place(|| self.load(connector)).map_err(Into::into)
    }

    async fn clear(&self, connector: &str) -> Result<(), BoxError> {
        tokio::task::block_in_place(|| OffsetStore::clear(self, connector)).map_err(Into::into)
    }
}

/// A destination for converted records. `write` may buffer; `flush` returns only once every
/// record written so far is durable (fsynced, or acknowledged by all in-sync replicas).
pub trait Sink: Send {
    fn write(
        &mut self,
        records: &[ProducerRecord],
    ) -> impl Future<Output = Result<Vec<RecordPosition>, BoxError>> + Send;
    fn flush(&mut self) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// Starts making everything written so far durable and returns what resolves once it is,
    /// so that writing can go on meanwhile. By default: flushes now.
    fn start_flush(&mut self) -> impl Future<Output = Result<Durable, BoxError>> + Send {
        async move {
            self.flush().await?;
            Ok(Box::pin(std::future::ready(Ok(()))) as Durable)
        }
    }

    /// Converts and writes records. Sinks that can encode straight into their own buffers
    /// override this and skip the intermediate key and value bytes.
    fn write_source(
        &mut self,
        records: &[SourceRecord],
        key: JsonConverter,
        value: JsonConverter,
    ) -> impl Future<Output = Result<Vec<RecordPosition>, BoxError>> + Send {
        let converted: Vec<ProducerRecord> =
            records.iter().map(|r| convert(r, key, value)).collect();
        async move { self.write(&converted).await }
    }
}

impl Sink for LocalTopics {
    async fn write(&mut self, records: &[ProducerRecord]) -> Result<Vec<RecordPosition>, BoxError> {
        tokio::task::block_in_place(|| {
            records
                .iter()
                .map(|r| self.append(r))
                .collect::<Result<Vec<_>, TopicError>>()
        })
        .map_err(Into::into)
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        tokio::task::block_in_place(|| self.sync()).map_err(Into::into)
    }

    async fn start_flush(&mut self) -> Result<Durable, BoxError> {
        let pending = tokio::task::block_in_place(|| self.start_sync())?;
        // fsync on a blocking thread: appending goes on meanwhile.
        Ok(Box::pin(async move {
            match tokio::task::spawn_blocking(move || pending.wait()).await {
                Ok(synced) => synced.map_err(Into::into),
                Err(e) => Err(format!("fsync of local topics failed: {e}").into()),
            }
        }))
    }

    async fn write_source(
        &mut self,
        records: &[SourceRecord],
        key: JsonConverter,
        value: JsonConverter,
    ) -> Result<Vec<RecordPosition>, BoxError> {
        tokio::task::block_in_place(|| {
            records
                .iter()
                .map(|r| self.append_converted(r, &key, &value))
                .collect::<Result<Vec<_>, TopicError>>()
        })
        .map_err(Into::into)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("source: {0}")]
    Source(BoxError),
    #[error("sink: {0}")]
    Sink(BoxError),
    #[error("offsets: {0}")]
    Offsets(BoxError),
}

/// Connector-level settings the driver needs.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub connector: String,
    pub key_converter: JsonConverter,
    pub value_converter: JsonConverter,
    /// Also print every record as one JSON line on stdout (`--stdout`).
    pub stdout: bool,
    pub stats: Arc<TaskStats>,
    /// Under a backlog, how often the sink is made durable and the offset committed (Connect's
    /// `offset.flush.interval.ms`); a source that caught up is flushed at once.
    pub flush_interval: std::time::Duration,
}

/// What the worker asks of a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskControl {
    Run,
    /// Stop polling the source; keep everything open (Connect's PAUSED).
    Pause,
    /// Finish: return from `run` (the caller flushes and closes).
    Stop,
}

/// What a running task reports to the REST API (counters go to `metrics`).
#[derive(Debug, Default)]
pub struct TaskStats {
    /// Topics this connector has written to (Connect's `/connectors/{name}/topics`).
    pub topics: Mutex<BTreeSet<String>>,
    /// The driver is paused: it has made everything durable and polls no more.
    pub paused: AtomicBool,
}

impl TaskStats {
    fn record_topics<'a>(&self, names: impl Iterator<Item = &'a str>) {
        let mut topics = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        for name in names {
            if !topics.contains(name) {
                topics.insert(name.to_owned());
            }
        }
    }
}

pub fn convert(record: &SourceRecord, key: JsonConverter, value: JsonConverter) -> ProducerRecord {
    ProducerRecord {
        topic: record.topic.clone(),
        key: key.serialize(record.key.as_ref()),
        value: value.serialize(record.value.as_ref()),
        timestamp_ms: record.timestamp_ms,
        headers: record.headers.clone(),
    }
}

/// Runs one connector until `control` says Stop or a side fails; while it says Pause the
/// source is not polled. Everything written is durable and committed when this returns `Ok`.
///
/// Two stages: this task polls the source; a sink task converts, writes, makes the sink
/// durable and stores offsets, so polling overlaps encoding, writing and fsync.
pub async fn run<S: Source, K: Sink + 'static, O: OffsetBackend + 'static>(
    opts: PipelineOptions,
    source: &mut S,
    sink: K,
    offsets: Arc<O>,
    control: watch::Receiver<TaskControl>,
) -> Result<(), PipelineError> {
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let (acks_tx, acks) = mpsc::unbounded_channel();
    // Its own thread: as a task it would mostly run on the driver's worker (tokio runs a
    // woken task on the waker's thread), and the stages would take turns instead of overlapping.
    let runtime = tokio::runtime::Handle::current();
    let stage_opts = opts.clone();
    let task = tokio::task::spawn_blocking(move || {
        runtime.block_on(sink_stage(stage_opts, sink, offsets, rx, acks_tx))
    });
    let mut stage = SinkStage {
        tx,
        acks,
        unacked: 0,
        task: Some(task),
    };
    let result = drive(&opts, source, &mut stage, control).await;
    // The stage ends once it has handled everything sent before the channel closed.
    drop(stage.tx);
    match stage.task {
        Some(task) => match task.await {
            Ok(Err(e)) if result.is_ok() => Err(e),
            _ => result,
        },
        None => result,
    }
}

/// Batches between the stages: enough to keep polling through an fsync, few enough to bound
/// memory when the sink is slower than the source (the source then waits).
const IN_FLIGHT: usize = 4;

async fn drive<S: Source>(
    opts: &PipelineOptions,
    source: &mut S,
    stage: &mut SinkStage,
    mut control: watch::Receiver<TaskControl>,
) -> Result<(), PipelineError> {
    let label = [("connector", opts.connector.clone())];
    // The newest offset not yet sent for commit, with the source time it covers.
    let mut pending: Option<Commit> = None;
    let mut last_commit = Instant::now();
    loop {
        stage.take_acks(source, false).await?;
        let now = *control.borrow_and_update();
        if now != TaskControl::Run {
            // Whatever was written before a stop or pause becomes durable and committed.
            if let Some(commit) = pending.take() {
                stage.send(Vec::new(), Some(commit)).await?;
            }
            stage.take_acks(source, true).await?;
        }
        match now {
            TaskControl::Stop => return Ok(()),
            TaskControl::Pause => {
                opts.stats.paused.store(true, Ordering::SeqCst);
                let changed = control.changed().await;
                opts.stats.paused.store(false, Ordering::SeqCst);
                if changed.is_err() {
                    return Ok(());
                }
                continue;
            }
            TaskControl::Run => {}
        }
        // Never cancelled: a poll that had taken records from the source would lose them.
        // Sources return within a bounded time instead, so control changes are seen promptly.
        let batch = source.poll().await.map_err(PipelineError::Source)?;
        if !batch.records.is_empty() {
            metrics::counter!(m::EVENTS_SEEN, &label).increment(batch.records.len() as u64);
            metrics::histogram!(m::BATCH_SIZE, &label).record(batch.records.len() as f64);
        }
        if let Some(offset) = batch.offset {
            pending = Some(Commit {
                offset,
                source_ts_ms: batch.source_ts_ms,
            });
        }
        // A source that caught up is made durable at once; under a backlog, by interval.
        let due = batch.caught_up || last_commit.elapsed() >= opts.flush_interval;
        let commit = if due { pending.take() } else { None };
        if commit.is_some() {
            last_commit = Instant::now();
        }
        if !batch.records.is_empty() || commit.is_some() {
            stage.send(batch.records, commit).await?;
        }
    }
}

/// An offset to commit once every record sent before it is durable.
struct Commit {
    offset: SourceOffset,
    source_ts_ms: Option<i64>,
}

/// One poll's records, and the offset to commit after them.
struct ToSink {
    records: Vec<SourceRecord>,
    commit: Option<Commit>,
}

/// What the sink stage made durable: the newest offset, and how many commits it covers.
struct Ack {
    offset: SourceOffset,
    commits: usize,
}

/// The driver's handle on the sink stage. The stage stops at its first error, which the
/// driver then reads from the task's result.
struct SinkStage {
    tx: mpsc::Sender<ToSink>,
    acks: mpsc::UnboundedReceiver<Ack>,
    /// Commits sent and not yet acknowledged.
    unacked: usize,
    /// Taken when the driver reads the stage's error.
    task: Option<JoinHandle<Result<(), PipelineError>>>,
}

impl SinkStage {
    async fn send(
        &mut self,
        records: Vec<SourceRecord>,
        commit: Option<Commit>,
    ) -> Result<(), PipelineError> {
        let commits = usize::from(commit.is_some());
        if self.tx.send(ToSink { records, commit }).await.is_err() {
            return Err(self.failure().await);
        }
        self.unacked += commits;
        Ok(())
    }

    /// Tells the source the newest offset the stage made durable; with `all`, first waits
    /// until every commit sent has been.
    async fn take_acks<S: Source>(
        &mut self,
        source: &mut S,
        all: bool,
    ) -> Result<(), PipelineError> {
        let mut newest = None;
        loop {
            let ack = if all && self.unacked > 0 {
                match self.acks.recv().await {
                    Some(ack) => ack,
                    None => return Err(self.failure().await),
                }
            } else {
                match self.acks.try_recv() {
                    Ok(ack) => ack,
                    Err(_) => break,
                }
            };
            self.unacked -= ack.commits;
            newest = Some(ack.offset);
        }
        if let Some(offset) = newest {
            source
                .commit(&offset)
                .await
                .map_err(PipelineError::Source)?;
        }
        Ok(())
    }

    async fn failure(&mut self) -> PipelineError {
        let Some(task) = self.task.take() else {
            return PipelineError::Sink("the sink stage ended early".into());
        };
        match task.await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => PipelineError::Sink("the sink stage ended early".into()),
            Err(e) => PipelineError::Sink(format!("the sink stage failed: {e}").into()),
        }
    }
}

/// Converts and writes batches, and commits: sink durable → offset stored → acknowledged to
/// the driver (which tells the source), in this order or not at all. One commit is in flight
/// at a time and writing goes on meanwhile (a Kafka sink waits for its deliveries without
/// stopping to produce); commits arriving meanwhile are grouped into the next one.
async fn sink_stage<K: Sink, O: OffsetBackend + 'static>(
    opts: PipelineOptions,
    mut sink: K,
    offsets: Arc<O>,
    mut rx: mpsc::Receiver<ToSink>,
    acks: mpsc::UnboundedSender<Ack>,
) -> Result<(), PipelineError> {
    let label = [("connector", opts.connector.clone())];
    let mut line = Vec::new();
    let mut in_flight: Option<CommitInFlight> = None;
    // The newest commit not started yet, and how many commits it stands for.
    let mut next: Option<(Commit, usize)> = None;
    let mut open = true;
    loop {
        if in_flight.is_none() {
            if let Some((mut commit, mut commits)) = next.take() {
                // What already queued up shares this flush (a bounded number, so a fast source
                // cannot postpone it forever).
                for _ in 0..IN_FLIGHT {
                    let Ok(msg) = rx.try_recv() else { break };
                    if let Some(newer) = write(&opts, &label, &mut sink, msg, &mut line).await? {
                        commit = newer;
                        commits += 1;
                    }
                }
                let durable = sink.start_flush().await.map_err(PipelineError::Sink)?;
                let offsets = offsets.clone();
                let connector = opts.connector.clone();
                in_flight = Some(Box::pin(async move {
                    durable.await.map_err(PipelineError::Sink)?;
                    offsets
                        .commit(&connector, &commit.offset)
                        .await
                        .map_err(PipelineError::Offsets)?;
                    Ok((commit, commits))
                }));
            }
        }
        if !open && in_flight.is_none() {
            // Records sent without an offset are made durable too before the task ends.
            return sink.flush().await.map_err(PipelineError::Sink);
        }
        tokio::select! {
            biased;
            done = finished(&mut in_flight) => {
                in_flight = None;
                let (commit, commits) = done?;
                metrics::counter!(m::OFFSET_COMMITS, &label).increment(1);
                if let Some(ts) = commit.source_ts_ms {
                    let behind = now_ms().saturating_sub(ts).max(0);
                    metrics::gauge!(m::MS_BEHIND_SOURCE, &label).set(behind as f64);
                }
                // A closed channel means the driver has stopped; nothing is waiting for this.
                let _ = acks.send(Ack {
                    offset: commit.offset,
                    commits,
                });
            }
            msg = rx.recv(), if open => match msg {
                None => open = false,
                Some(msg) => {
                    if let Some(commit) = write(&opts, &label, &mut sink, msg, &mut line).await? {
                        let commits = next.take().map_or(1, |(_, n)| n + 1);
                        next = Some((commit, commits));
                    }
                }
            },
        }
    }
}

/// The commit in flight's result; never resolves when there is none.
async fn finished(
    in_flight: &mut Option<CommitInFlight>,
) -> Result<(Commit, usize), PipelineError> {
    match in_flight {
        Some(commit) => commit.await,
        None => std::future::pending().await,
    }
}

type CommitInFlight = Pin<Box<dyn Future<Output = Result<(Commit, usize), PipelineError>> + Send>>;

/// Converts and writes one batch; returns its commit, if any.
async fn write<K: Sink>(
    opts: &PipelineOptions,
    label: &[(&'static str, String); 1],
    sink: &mut K,
    msg: ToSink,
    line: &mut Vec<u8>,
) -> Result<Option<Commit>, PipelineError> {
    if msg.records.is_empty() {
        return Ok(msg.commit);
    }
    let (key, value) = (opts.key_converter, opts.value_converter);
    if opts.stdout {
        let records: Vec<ProducerRecord> =
            msg.records.iter().map(|r| convert(r, key, value)).collect();
        let positions = sink.write(&records).await.map_err(PipelineError::Sink)?;
        print_lines(&records, &positions, line);
    } else {
        sink.write_source(&msg.records, key, value)
            .await
            .map_err(PipelineError::Sink)?;
    }
    metrics::counter!(m::RECORDS_WRITTEN, label).increment(msg.records.len() as u64);
    opts.stats
        .record_topics(msg.records.iter().map(|r| r.topic.as_str()));
    Ok(msg.commit)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn print_lines(records: &[ProducerRecord], positions: &[RecordPosition], line: &mut Vec<u8>) {
    line.clear();
    for (r, p) in records.iter().zip(positions) {
        encode_line(line, r, p.partition, p.offset);
        line.push(b'\n');
    }
    let mut out = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) must not stop the pipeline.
    let _ = out.write_all(line).and_then(|_| out.flush());
}
