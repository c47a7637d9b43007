//! The one loop that drives every connector, source or sink:
//! poll source → transform → write to sink → flush (durable) → commit offsets → ack source.
//! The order is the durability argument: an offset is stored, and the source told it may
//! forget (the slot's flushed LSN, a consumer position), only after every record before it is
//! durable. A source connector's sink is a topic; a sink connector's source is a topic reader.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::{ConnectorError, ErrorKind};
use crate::metrics as m;
use crate::offsets::OffsetStore;
use crate::record::{
    durable_positions, merge_offsets, EncodedBatch, Json, Record, SourceBatch, SourceOffset,
    Unconverted,
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

/// What a running task reports to the worker (the REST API, the console's charts); the same
/// figures also go to `metrics`. Kept across task restarts, so the counters only grow.
#[derive(Debug)]
pub struct TaskStats {
    /// Topics this connector has written to or read from (Connect's `/connectors/{name}/topics`).
    pub topics: Mutex<BTreeSet<String>>,
    /// The driver is paused: it has made everything durable and polls no more.
    pub paused: AtomicBool,
    /// Records polled from the source ([`m::EVENTS_SEEN`]).
    pub events_seen: AtomicU64,
    /// Records the sink accepted ([`m::RECORDS_WRITTEN`]).
    pub records_written: AtomicU64,
    /// [`m::MS_BEHIND_SOURCE`] at the last commit; -1 before the first.
    pub ms_behind_source: AtomicI64,
    /// Offset commits completed (progress: a task that commits has recovered from its fault).
    pub offset_commits: AtomicU64,
    /// The source's snapshot, table by table, when it takes one.
    pub snapshot: Mutex<SnapshotProgress>,
    /// Set while a flush has waited longer than [`STALL_AFTER`] and the sink names a problem
    /// (`Sink::problem`); cleared when the flush completes.
    pub stalled: Mutex<Option<String>>,
}

/// How long a flush may wait before the task's status says what the sink is waiting on.
pub const STALL_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

impl Default for TaskStats {
    fn default() -> Self {
        TaskStats {
            topics: Mutex::default(),
            paused: AtomicBool::default(),
            events_seen: AtomicU64::default(),
            records_written: AtomicU64::default(),
            ms_behind_source: AtomicI64::new(-1),
            offset_commits: AtomicU64::default(),
            snapshot: Mutex::default(),
            stalled: Mutex::default(),
        }
    }
}

/// A snapshot's progress per table ([`m::SNAPSHOT_ROWS_SCANNED`] and
/// [`m::SNAPSHOT_ROWS_ESTIMATED`] per table, [`m::SNAPSHOT_RUNNING`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SnapshotProgress {
    pub running: bool,
    /// In the order they are read.
    pub tables: Vec<TableProgress>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableProgress {
    pub table: String,
    pub rows_scanned: u64,
    /// The planner's estimate, once the table's read began.
    pub rows_estimated: Option<i64>,
    pub done: bool,
}

impl SnapshotProgress {
    /// A new snapshot of these tables begins.
    pub fn begin(&mut self, tables: impl IntoIterator<Item = String>) {
        self.running = true;
        self.tables = tables
            .into_iter()
            .map(|table| TableProgress {
                table,
                rows_scanned: 0,
                rows_estimated: None,
                done: false,
            })
            .collect();
    }

    /// The table being read: rows so far, the estimate when known, whether it is done.
    pub fn table(&mut self, table: &str, rows_scanned: u64, estimated: Option<i64>, done: bool) {
        if let Some(t) = self.tables.iter_mut().find(|t| t.table == table) {
            t.rows_scanned = rows_scanned;
            t.rows_estimated = estimated.or(t.rows_estimated);
            t.done = done;
        }
    }

    pub fn finish(&mut self) {
        self.running = false;
    }
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
            opts.stats
                .events_seen
                .fetch_add(seen as u64, Ordering::Relaxed);
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
        // Records without offsets (a bulk query's) are made durable on the same schedule.
        if !offsets.is_empty() || !records.is_empty() {
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
        // Every partition's newest offset read so far, and what is committed of it: they
        // differ while the sink retains records across flushes (`Sink::retained`).
        let mut read: Vec<SourceOffset> = Vec::new();
        let mut committed: Vec<SourceOffset> = Vec::new();
        // While something is retained, the sink is flushed again now and then even when no
        // record comes (Connect calls `put` with nothing and `preCommit` on its timer), so
        // that what it uploads on its own schedule gets committed.
        let mut recheck: Option<tokio::time::Instant> = None;
        // When the flush in flight started, for the stall report.
        let mut flush_started = tokio::time::Instant::now();
        let mut stall_check = tokio::time::interval(std::time::Duration::from_secs(1));
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
                    // Asked before anything else is written: what this flush leaves open.
                    let retained = self.sink.retained();
                    merge_offsets(&mut read, commit.offsets.drain(..));
                    commit.offsets = durable_positions(&read, &retained, &committed);
                    recheck = (!retained.is_empty())
                        .then(|| tokio::time::Instant::now() + self.recheck_interval());
                    let offsets = offsets.clone();
                    let connector = self.opts.connector.clone();
                    flush_started = tokio::time::Instant::now();
                    in_flight = Some(Box::pin(async move {
                        durable.await?;
                        if !commit.offsets.is_empty() {
                            offsets
                                .commit(&connector, &commit.offsets)
                                .await
                                .map_err(PipelineError::Offsets)?;
                        }
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
            let recheck_due = recheck.filter(|_| open && in_flight.is_none() && next.is_none());
            tokio::select! {
                biased;
                done = finished(&mut in_flight) => {
                    in_flight = None;
                    self.report_stall(None);
                    let (commit, commits) = done?;
                    merge_offsets(&mut committed, commit.offsets.iter().cloned());
                    metrics::counter!(m::OFFSET_COMMITS, &self.label).increment(1);
                    if !commit.offsets.is_empty() {
                        self.opts.stats.offset_commits.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(ts) = commit.source_ts_ms {
                        let behind = now_ms().saturating_sub(ts).max(0);
                        metrics::gauge!(m::MS_BEHIND_SOURCE, &self.label).set(behind as f64);
                        self.opts.stats.ms_behind_source.store(behind, Ordering::Relaxed);
                    }
                    // A closed channel means the driver has stopped; nothing is waiting for this.
                    let _ = acks.send(Ack { offsets: commit.offsets, commits });
                }
                _ = stall_check.tick(), if in_flight.is_some() => {
                    let waited = flush_started.elapsed();
                    if waited >= STALL_AFTER {
                        let problem = self.sink.problem().map(|p| {
                            format!("records not yet durable after {} s: {p}", waited.as_secs())
                        });
                        self.report_stall(problem);
                    }
                }
                _ = sleep_until(recheck_due) => {
                    recheck = None;
                    next = Some((Commit::default(), 0));
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

    fn report_stall(&self, problem: Option<String>) {
        *self
            .opts
            .stats
            .stalled
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = problem;
    }

    /// How soon a sink that retains records is flushed again without new records.
    fn recheck_interval(&self) -> std::time::Duration {
        self.opts
            .flush_interval
            .max(std::time::Duration::from_millis(100))
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
            .records_written
            .fetch_add(records.len() as u64, Ordering::Relaxed);
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

/// Sleeps until `at`; never resolves without one.
async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Data, Schema, SchemaType, Value};
    use crate::record::{Consumed, ProducerRecord, Written};
    use crate::sink::Durable;
    use std::time::Duration;

    /// Reads offsets `0..total` of topic `t` once, then idles.
    struct Topic {
        next: i64,
        total: i64,
    }

    fn record(n: i64) -> Record {
        let schema = Arc::new(Schema::new(SchemaType::Int64));
        let mut r = Record::new("t", None, Some(Data::new(schema, Value::Int(n))), 0);
        r.partition = Some(0);
        r.consumed = Some(Arc::new(Consumed {
            record: ProducerRecord {
                topic: "t".into(),
                key: None,
                value: None,
                timestamp_ms: 0,
                headers: Vec::new(),
            },
            partition: 0,
            offset: n,
        }));
        r
    }

    impl Source for Topic {
        async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
            if self.next >= self.total {
                tokio::time::sleep(Duration::from_millis(10)).await;
                return Ok(SourceBatch {
                    caught_up: true,
                    ..SourceBatch::default()
                });
            }
            let records = (self.next..self.total).map(record).collect();
            self.next = self.total;
            Ok(SourceBatch {
                records,
                offsets: vec![SourceOffset::consumer("t", 0, self.total)],
                caught_up: true,
                ..SourceBatch::default()
            })
        }

        async fn commit(&mut self, _offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
            Ok(())
        }
    }

    /// Keeps every record from `open_from` on in an open file until `release` is set, as an
    /// S3 sink keeps a file that has not rotated.
    struct Holding {
        open_from: i64,
        written: Arc<Mutex<Vec<i64>>>,
        release: Arc<AtomicBool>,
    }

    impl Sink for Holding {
        async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
            let mut w = self.written.lock().unwrap();
            w.extend(records.iter().filter_map(|r| r.kafka_offset()));
            Ok(Written::default())
        }

        async fn flush(&mut self) -> Result<(), ConnectorError> {
            Ok(())
        }

        async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
            Ok(Box::pin(std::future::ready(Ok(()))))
        }

        fn retained(&self) -> Vec<SourceOffset> {
            let written = self.written.lock().unwrap();
            let open = written.iter().any(|n| *n >= self.open_from);
            if open && !self.release.load(Ordering::SeqCst) {
                vec![SourceOffset::consumer("t", 0, self.open_from)]
            } else {
                Vec::new()
            }
        }
    }

    #[derive(Default)]
    struct Commits(Mutex<Vec<Vec<SourceOffset>>>);

    impl OffsetBackend for Commits {
        async fn get(&self, _c: &str, _p: &Json) -> Result<Option<Json>, ConnectorError> {
            Ok(None)
        }
        async fn commit(&self, _c: &str, o: &[SourceOffset]) -> Result<(), ConnectorError> {
            self.0.lock().unwrap().push(o.to_vec());
            Ok(())
        }
        async fn list(&self, _c: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
            Ok(Vec::new())
        }
        async fn clear(&self, _c: &str) -> Result<(), ConnectorError> {
            Ok(())
        }
    }

    impl Commits {
        fn last(&self) -> Option<i64> {
            let all = self.0.lock().unwrap();
            all.iter()
                .flatten()
                .filter_map(SourceOffset::as_consumer)
                .map(|(_, _, n)| n)
                .next_back()
        }
    }

    fn test_options(stats: Arc<TaskStats>) -> PipelineOptions {
        PipelineOptions {
            connector: "c".into(),
            stats,
            flush_interval: Duration::from_millis(50),
            transforms: Arc::default(),
            errors: ErrorPolicy::default(),
            sink_class: "test".into(),
        }
    }

    /// A sink whose flushes wait until `release` is set, and which says why.
    struct Waiting {
        release: Arc<AtomicBool>,
    }

    impl Sink for Waiting {
        async fn write(&mut self, _records: &[Record]) -> Result<Written, ConnectorError> {
            Ok(Written::default())
        }

        async fn flush(&mut self) -> Result<(), ConnectorError> {
            Ok(())
        }

        async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
            let release = self.release.clone();
            Ok(Box::pin(async move {
                while !release.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(())
            }))
        }

        fn problem(&self) -> Option<String> {
            Some("broker away".into())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_flush_that_waits_long_shows_what_the_sink_waits_on_until_it_completes() {
        let release = Arc::new(AtomicBool::new(false));
        let stats: Arc<TaskStats> = Arc::default();
        let opts = test_options(stats.clone());
        let (tx, rx) = watch::channel(TaskControl::Run);
        let mut source = Topic { next: 0, total: 10 };
        let sink = Waiting {
            release: release.clone(),
        };
        let stalled = || stats.stalled.lock().unwrap().clone();
        let watcher = async {
            tokio::time::sleep(STALL_AFTER / 2).await;
            assert_eq!(stalled(), None, "reported before STALL_AFTER");
            tokio::time::sleep(STALL_AFTER).await;
            let shown = stalled().expect("a long flush is reported");
            assert!(shown.contains("broker away"), "{shown}");
            release.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(stalled(), None, "cleared once the flush completed");
            let _ = tx.send(TaskControl::Stop);
        };
        let commits = Arc::new(Commits::default());
        let run = run(opts, &mut source, sink, None::<Waiting>, commits, rx);
        let (result, ()) = tokio::join!(run, watcher);
        result.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn retained_records_hold_the_commit_until_the_sink_lets_them_go() {
        let release = Arc::new(AtomicBool::new(false));
        let sink = Holding {
            open_from: 6,
            written: Arc::default(),
            release: release.clone(),
        };
        let commits = Arc::new(Commits::default());
        let opts = test_options(Arc::default());
        let (tx, rx) = watch::channel(TaskControl::Run);
        let mut source = Topic { next: 0, total: 10 };
        let c = commits.clone();
        let watcher = async move {
            let wait = |want: i64| {
                let c = c.clone();
                async move {
                    for _ in 0..200 {
                        if c.last() == Some(want) {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    panic!("position {want} never committed: {:?}", c.last());
                }
            };
            // Records 6.. are open: the position stops at 6, however long it waits.
            wait(6).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(c.last(), Some(6));
            // The sink uploads on its own (a scheduled rotation): with no new record, the
            // next recheck commits the rest.
            release.store(true, Ordering::SeqCst);
            wait(10).await;
            let _ = tx.send(TaskControl::Stop);
        };
        let run = run(
            opts,
            &mut source,
            sink,
            None::<Holding>,
            commits.clone(),
            rx,
        );
        let (result, ()) = tokio::join!(run, watcher);
        result.unwrap();
        // Never a commit past what was durable, and no commit repeated.
        let all = commits.0.lock().unwrap().clone();
        let positions: Vec<i64> = all
            .iter()
            .flatten()
            .filter_map(SourceOffset::as_consumer)
            .map(|(_, _, n)| n)
            .collect();
        assert_eq!(positions, vec![6, 10], "{all:?}");
    }
}
