//! The one loop that drives every connector, source or sink:
//! poll source → transform → write to sink → flush (durable) → commit offsets → ack source.
//! The order is the durability argument: an offset is stored, and the source told it may
//! forget (the slot's flushed LSN, a consumer position), only after every record before it is
//! durable. A source connector's sink is a topic; a sink connector's source is a topic reader.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::{ConnectorError, ErrorKind};
use crate::metrics as m;
use crate::offsets::OffsetStore;
use crate::record::{
    merge_offsets, EncodedBatch, Json, Record, SourceBatch, SourceOffset, Unconverted,
};
use crate::sink::Sink;
use crate::tolerance::{
    dlq_record, Coordinates, ErrorPolicy, RecordFailure, Stage, Tolerance, CONNECT_EXCEPTION,
    DATA_EXCEPTION,
};
use crate::transform::TransformChain;

/// A source connector task, or a sink connector's topic reader.
pub trait Source: Send {
    /// Waits for the next records, returning within about a second even when there are
    /// none (possibly an empty batch), so the driver can react to pause and stop.
    fn poll(&mut self) -> impl Future<Output = Result<SourceBatch, ConnectorError>> + Send;
    /// Everything up to these offsets (one per source partition) is durable downstream and
    /// stored; the source may release it.
    fn commit(
        &mut self,
        offsets: &[SourceOffset],
    ) -> impl Future<Output = Result<(), ConnectorError>> + Send;
}

/// Where a connector's offsets are kept (a file in the data dir, Connect's `connect-offsets`
/// topic, a consumer group). `commit` returns only once the offsets are durable.
pub trait OffsetBackend: Send + Sync {
    fn get(
        &self,
        connector: &str,
        partition: &Json,
    ) -> impl Future<Output = Result<Option<Json>, ConnectorError>> + Send;
    fn commit(
        &self,
        connector: &str,
        offsets: &[SourceOffset],
    ) -> impl Future<Output = Result<(), ConnectorError>> + Send;
    /// Every stored offset of a connector (Connect's `GET /connectors/{name}/offsets`).
    fn list(
        &self,
        connector: &str,
    ) -> impl Future<Output = Result<Vec<SourceOffset>, ConnectorError>> + Send;
    /// Forgets every offset of a connector.
    fn clear(&self, connector: &str) -> impl Future<Output = Result<(), ConnectorError>> + Send;
}

fn offset_error(e: crate::offsets::OffsetError) -> ConnectorError {
    match &e {
        crate::offsets::OffsetError::Io { source, .. } if crate::error::io_is_transient(source) => {
            ConnectorError::transient(e)
        }
        _ => ConnectorError::permanent(e),
    }
}

impl OffsetBackend for OffsetStore {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, ConnectorError> {
        tokio::task::block_in_place(|| OffsetStore::get(self, connector, partition))
            .map_err(offset_error)
    }

    async fn commit(
        &self,
        connector: &str,
        offsets: &[SourceOffset],
    ) -> Result<(), ConnectorError> {
        tokio::task::block_in_place(|| OffsetStore::commit(self, connector, offsets))
            .map_err(offset_error)
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
        tokio::task::block_in_place(|| self.load(connector)).map_err(offset_error)
    }

    async fn clear(&self, connector: &str) -> Result<(), ConnectorError> {
        tokio::task::block_in_place(|| OffsetStore::clear(self, connector)).map_err(offset_error)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("source: {0}")]
    Source(ConnectorError),
    #[error("sink: {0}")]
    Sink(ConnectorError),
    #[error("offsets: {0}")]
    Offsets(ConnectorError),
    #[error("dead letter queue: {0}")]
    DeadLetterQueue(ConnectorError),
    #[error("{0}")]
    Record(RecordFailure),
}

impl PipelineError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            PipelineError::Source(e)
            | PipelineError::Sink(e)
            | PipelineError::Offsets(e)
            | PipelineError::DeadLetterQueue(e) => e.kind,
            PipelineError::Record(_) => ErrorKind::Permanent,
        }
    }
}

/// Connector-level settings the driver needs.
#[derive(Clone)]
pub struct PipelineOptions {
    pub connector: String,
    pub stats: Arc<TaskStats>,
    /// Under a backlog, how often the sink is made durable and the offset committed (Connect's
    /// `offset.flush.interval.ms`); a source that caught up is flushed at once.
    pub flush_interval: std::time::Duration,
    pub transforms: Arc<TransformChain>,
    pub errors: ErrorPolicy,
    /// The sink's class, named when a record fails in it.
    pub sink_class: String,
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
    /// Topics this connector has written to or read from (Connect's `/connectors/{name}/topics`).
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

/// Runs one connector until `control` says Stop or a side fails; while it says Pause the
/// source is not polled. Everything written is durable and committed when this returns `Ok`.
/// `dlq`, when given, receives the records the error policy sends to the dead letter queue;
/// it is made durable together with the sink.
///
/// Two stages: this task polls the source; a sink stage transforms, writes, makes the sink
/// durable and stores offsets, so polling overlaps transforming, encoding, writing and fsync.
pub async fn run<S, K, D, O>(
    opts: PipelineOptions,
    source: &mut S,
    sink: K,
    dlq: Option<D>,
    offsets: Arc<O>,
    control: watch::Receiver<TaskControl>,
) -> Result<(), PipelineError>
where
    S: Source,
    K: Sink + 'static,
    D: Sink + 'static,
    O: OffsetBackend + 'static,
{
    let (tx, rx) = mpsc::channel(IN_FLIGHT);
    let (acks_tx, acks) = mpsc::unbounded_channel();
    // Its own thread: as a task it would mostly run on the driver's worker (tokio runs a
    // woken task on the waker's thread), and the stages would take turns instead of overlapping.
    let runtime = tokio::runtime::Handle::current();
    let stage = SinkStage {
        opts: opts.clone(),
        label: [("connector", opts.connector.clone())],
        sink,
        dlq,
    };
    let task =
        tokio::task::spawn_blocking(move || runtime.block_on(stage.run(offsets, rx, acks_tx)));
    let mut handle = StageHandle {
        tx,
        acks,
        unacked: 0,
        task: Some(task),
    };
    let result = drive(&opts, source, &mut handle, control).await;
    // The stage ends once it has handled everything sent before the channel closed.
    drop(handle.tx);
    match handle.task {
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
    stage: &mut StageHandle,
    mut control: watch::Receiver<TaskControl>,
) -> Result<(), PipelineError> {
    let label = [("connector", opts.connector.clone())];
    // The newest offsets not yet sent for commit, with the source time they cover.
    let mut pending: Option<Commit> = None;
    let mut last_commit = Instant::now();
    loop {
        stage.take_acks(source, false).await?;
        let now = *control.borrow_and_update();
        if now != TaskControl::Run {
            // Whatever was written before a stop or pause becomes durable and committed.
            if let Some(commit) = pending.take() {
                stage.send(ToSink::default(), Some(commit)).await?;
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
        let seen = batch.records.len() + batch.encoded.len();
        if seen > 0 {
            metrics::counter!(m::EVENTS_SEEN, &label).increment(seen as u64);
            metrics::histogram!(m::BATCH_SIZE, &label).record(seen as f64);
        }
        let SourceBatch {
            records,
            unconverted,
            offsets,
            source_ts_ms,
            caught_up,
            encoded,
        } = batch;
        if !offsets.is_empty() {
            let commit = pending.get_or_insert_with(Commit::default);
            merge_offsets(&mut commit.offsets, offsets);
            commit.source_ts_ms = source_ts_ms.or(commit.source_ts_ms);
        }
        // A source that caught up is made durable at once; under a backlog, by interval.
        let due = caught_up || last_commit.elapsed() >= opts.flush_interval;
        let commit = if due { pending.take() } else { None };
        if commit.is_some() {
            last_commit = Instant::now();
        }
        if !records.is_empty() || !unconverted.is_empty() || !encoded.is_empty() || commit.is_some()
        {
            stage
                .send(
                    ToSink {
                        records,
                        unconverted,
                        encoded,
                    },
                    commit,
                )
                .await?;
        }
    }
}

/// Offsets to commit once every record sent before them is durable.
#[derive(Default)]
struct Commit {
    offsets: Vec<SourceOffset>,
    source_ts_ms: Option<i64>,
}

impl Commit {
    fn merge(&mut self, newer: Commit) {
        merge_offsets(&mut self.offsets, newer.offsets);
        self.source_ts_ms = newer.source_ts_ms.or(self.source_ts_ms);
    }
}

/// One poll's records.
#[derive(Default)]
struct ToSink {
    records: Vec<Record>,
    unconverted: Vec<Unconverted>,
    /// Handed over whole, one buffer for the batch.
    encoded: EncodedBatch,
}

/// What the sink stage made durable: the offsets, and how many commits they cover.
struct Ack {
    offsets: Vec<SourceOffset>,
    commits: usize,
}

/// The driver's handle on the sink stage. The stage stops at its first error, which the
/// driver then reads from the task's result.
struct StageHandle {
    tx: mpsc::Sender<(ToSink, Option<Commit>)>,
    acks: mpsc::UnboundedReceiver<Ack>,
    /// Commits sent and not yet acknowledged.
    unacked: usize,
    /// Taken when the driver reads the stage's error.
    task: Option<JoinHandle<Result<(), PipelineError>>>,
}

impl StageHandle {
    async fn send(&mut self, msg: ToSink, commit: Option<Commit>) -> Result<(), PipelineError> {
        let commits = usize::from(commit.is_some());
        if self.tx.send((msg, commit)).await.is_err() {
            return Err(self.failure().await);
        }
        self.unacked += commits;
        Ok(())
    }

    /// Tells the source the newest offsets the stage made durable; with `all`, first waits
    /// until every commit sent has been.
    async fn take_acks<S: Source>(
        &mut self,
        source: &mut S,
        all: bool,
    ) -> Result<(), PipelineError> {
        let mut newest: Vec<SourceOffset> = Vec::new();
        loop {
            let ack = if all && self.unacked > 0 {
                match self.acks.recv().await {
                    Some(ack) => ack,
                    None => return Err(self.failure().await),
                }
            } else {
                match self.acks.try_recv() {
                    Ok(ack) => ack,
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    // The stage ended on its own: it failed, and the driver must not go on
                    // polling a source whose records nothing would write.
                    Err(mpsc::error::TryRecvError::Disconnected) => {
                        return Err(self.failure().await)
                    }
                }
            };
            self.unacked -= ack.commits;
            merge_offsets(&mut newest, ack.offsets);
        }
        if !newest.is_empty() {
            source
                .commit(&newest)
                .await
                .map_err(PipelineError::Source)?;
        }
        Ok(())
    }

    async fn failure(&mut self) -> PipelineError {
        let ended = || PipelineError::Sink(ConnectorError::permanent("the sink stage ended early"));
        let Some(task) = self.task.take() else {
            return ended();
        };
        match task.await {
            Ok(Err(e)) => e,
            Ok(Ok(())) => ended(),
            Err(e) => PipelineError::Sink(ConnectorError::permanent(format!(
                "the sink stage failed: {e}"
            ))),
        }
    }
}

type BothDurable = Pin<Box<dyn Future<Output = Result<(), PipelineError>> + Send>>;

type CommitInFlight = Pin<Box<dyn Future<Output = Result<(Commit, usize), PipelineError>> + Send>>;

/// Transforms and writes batches, and commits: sink (and dead letter queue) durable → offsets
/// stored → acknowledged to the driver (which tells the source), in this order or not at all.
/// One commit is in flight at a time and writing goes on meanwhile (a Kafka sink waits for
/// its deliveries without stopping to produce); commits arriving meanwhile are grouped.
struct SinkStage<K, D> {
    opts: PipelineOptions,
    label: [(&'static str, String); 1],
    sink: K,
    dlq: Option<D>,
}

impl<K: Sink, D: Sink> SinkStage<K, D> {
    async fn run<O: OffsetBackend + 'static>(
        mut self,
        offsets: Arc<O>,
        mut rx: mpsc::Receiver<(ToSink, Option<Commit>)>,
        acks: mpsc::UnboundedSender<Ack>,
    ) -> Result<(), PipelineError> {
        let mut in_flight: Option<CommitInFlight> = None;
        // The newest commit not started yet, and how many commits it stands for.
        let mut next: Option<(Commit, usize)> = None;
        let mut open = true;
        loop {
            if in_flight.is_none() {
                if let Some((mut commit, mut commits)) = next.take() {
                    // What already queued up shares this flush (a bounded number, so a fast
                    // source cannot postpone it forever).
                    for _ in 0..IN_FLIGHT {
                        let Ok((msg, newer)) = rx.try_recv() else {
                            break;
                        };
                        self.write(msg).await?;
                        if let Some(newer) = newer {
                            commit.merge(newer);
                            commits += 1;
                        }
                    }
                    let durable = self.start_flush().await?;
                    let offsets = offsets.clone();
                    let connector = self.opts.connector.clone();
                    in_flight = Some(Box::pin(async move {
                        durable.await?;
                        offsets
                            .commit(&connector, &commit.offsets)
                            .await
                            .map_err(PipelineError::Offsets)?;
                        Ok((commit, commits))
                    }));
                }
            }
            if !open && in_flight.is_none() {
                // Records sent without an offset are made durable too before the task ends.
                if let Some(dlq) = &mut self.dlq {
                    dlq.flush().await.map_err(PipelineError::DeadLetterQueue)?;
                }
                return self.sink.flush().await.map_err(PipelineError::Sink);
            }
            tokio::select! {
                biased;
                done = finished(&mut in_flight) => {
                    in_flight = None;
                    let (commit, commits) = done?;
                    metrics::counter!(m::OFFSET_COMMITS, &self.label).increment(1);
                    if let Some(ts) = commit.source_ts_ms {
                        let behind = now_ms().saturating_sub(ts).max(0);
                        metrics::gauge!(m::MS_BEHIND_SOURCE, &self.label).set(behind as f64);
                    }
                    // A closed channel means the driver has stopped; nothing is waiting for this.
                    let _ = acks.send(Ack { offsets: commit.offsets, commits });
                }
                msg = rx.recv(), if open => match msg {
                    None => open = false,
                    Some((msg, commit)) => {
                        self.write(msg).await?;
                        if let Some(commit) = commit {
                            next = Some(match next.take() {
                                Some((mut older, n)) => {
                                    older.merge(commit);
                                    (older, n + 1)
                                }
                                None => (commit, 1),
                            });
                        }
                    }
                },
            }
        }
    }

    /// Starts making the sink and the dead letter queue durable.
    async fn start_flush(&mut self) -> Result<BothDurable, PipelineError> {
        let sink = self.sink.start_flush().await.map_err(PipelineError::Sink)?;
        let dlq = match &mut self.dlq {
            Some(d) => Some(
                d.start_flush()
                    .await
                    .map_err(PipelineError::DeadLetterQueue)?,
            ),
            None => None,
        };
        Ok(Box::pin(async move {
            sink.await.map_err(PipelineError::Sink)?;
            if let Some(dlq) = dlq {
                dlq.await.map_err(PipelineError::DeadLetterQueue)?;
            }
            Ok(())
        }))
    }

    /// Transforms and writes one batch; records that fail go to the error policy.
    async fn write(&mut self, msg: ToSink) -> Result<(), PipelineError> {
        for u in msg.unconverted {
            let failure = RecordFailure {
                at: Coordinates {
                    topic: u.consumed.record.topic.clone(),
                    consumed: Some(u.consumed),
                },
                stage: Stage::ValueConverter,
                class: "org.apache.kafka.connect.json.JsonConverter".into(),
                exception: DATA_EXCEPTION,
                message: u.error.to_string(),
            };
            self.tolerate(failure).await?;
        }
        let mut encoded = msg.encoded;
        let mut records = msg.records;
        if !encoded.is_empty() && !self.opts.transforms.is_empty() {
            // Transforms need Connect data: read the payloads back as a consumer would.
            let read = encoded
                .to_records()
                .map_err(|e| PipelineError::Sink(ConnectorError::permanent(e)))?;
            records.extend(read);
            encoded = EncodedBatch::default();
        }
        self.write_encoded(&encoded).await?;
        let records = if self.opts.transforms.is_empty() {
            records
        } else {
            let mut out = Vec::with_capacity(records.len());
            for r in records {
                let at = Coordinates::of(&r);
                match self.opts.transforms.apply(r) {
                    Ok(Some(r)) => out.push(r),
                    Ok(None) => metrics::counter!(m::EVENTS_FILTERED, &self.label).increment(1),
                    Err(f) => {
                        self.tolerate(RecordFailure {
                            at,
                            stage: Stage::Transformation,
                            class: f.class,
                            exception: DATA_EXCEPTION,
                            message: f.error.to_string(),
                        })
                        .await?
                    }
                }
            }
            out
        };
        if records.is_empty() {
            return Ok(());
        }
        let written = self
            .sink
            .write(&records)
            .await
            .map_err(PipelineError::Sink)?;
        for (i, error) in written.rejected {
            let failure = RecordFailure {
                at: Coordinates::of(&records[i]),
                stage: Stage::TaskPut,
                class: self.opts.sink_class.clone(),
                exception: CONNECT_EXCEPTION,
                message: crate::error::chain(error.as_ref()),
            };
            self.tolerate(failure).await?;
        }
        metrics::counter!(m::RECORDS_WRITTEN, &self.label).increment(records.len() as u64);
        self.opts
            .stats
            .record_topics(records.iter().map(|r| r.topic.as_str()));
        Ok(())
    }

    /// Writes a batch the source encoded itself (no transforms: it goes to the sink as it is).
    async fn write_encoded(&mut self, encoded: &EncodedBatch) -> Result<(), PipelineError> {
        if encoded.is_empty() {
            return Ok(());
        }
        let written = self
            .sink
            .write_encoded(encoded)
            .await
            .map_err(PipelineError::Sink)?;
        if !written.rejected.is_empty() {
            let records = encoded
                .to_records()
                .map_err(|e| PipelineError::Sink(ConnectorError::permanent(e)))?;
            for (i, error) in written.rejected {
                let failure = RecordFailure {
                    at: Coordinates::of(&records[i]),
                    stage: Stage::TaskPut,
                    class: self.opts.sink_class.clone(),
                    exception: CONNECT_EXCEPTION,
                    message: crate::error::chain(error.as_ref()),
                };
                self.tolerate(failure).await?;
            }
        }
        metrics::counter!(m::RECORDS_WRITTEN, &self.label).increment(encoded.len() as u64);
        self.opts
            .stats
            .record_topics(encoded.topics.iter().map(|t| t.topic.as_str()));
        Ok(())
    }

    /// Applies `errors.tolerance` to one failed record.
    async fn tolerate(&mut self, failure: RecordFailure) -> Result<(), PipelineError> {
        let policy = &self.opts.errors;
        metrics::counter!(m::RECORD_ERRORS, &self.label).increment(1);
        if policy.tolerance == Tolerance::None {
            return Err(PipelineError::Record(failure));
        }
        metrics::counter!(m::RECORDS_SKIPPED, &self.label).increment(1);
        if policy.log {
            metrics::counter!(m::ERRORS_LOGGED, &self.label).increment(1);
            let record = match (&failure.at.consumed, policy.log_messages) {
                (Some(c), true) => format!(
                    " record: key={} value={}",
                    String::from_utf8_lossy(c.record.key.as_deref().unwrap_or(b"null")),
                    String::from_utf8_lossy(c.record.value.as_deref().unwrap_or(b"null"))
                ),
                _ => String::new(),
            };
            tracing::error!(
                connector = %self.opts.connector,
                "Error encountered in task {}-0. Executing stage '{}' with class '{}', where {}: {}{record}",
                self.opts.connector,
                failure.stage.name(),
                failure.class,
                failure.at,
                failure.message
            );
        }
        if let (Some(topic), Some(dlq)) = (&policy.dlq_topic, &mut self.dlq) {
            if let Some(record) = dlq_record(policy, topic, &failure, &self.opts.connector, 0) {
                dlq.write(std::slice::from_ref(&record))
                    .await
                    .map_err(PipelineError::DeadLetterQueue)?;
                metrics::counter!(m::DLQ_PRODUCE_REQUESTS, &self.label).increment(1);
            }
        }
        Ok(())
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

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
