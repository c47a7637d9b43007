//! The Postgres source task: start-up checks, publication and slot, snapshot, then streaming.
//!
//! Offsets (Debezium's shape, partition `{"server": <topic.prefix>}`):
//! - during the snapshot `{"lsn", "txId", "ts_usec", "snapshot": true, "last_snapshot_record"}`;
//!   a restart that finds `last_snapshot_record: false` snapshots again from scratch;
//! - while streaming `{"lsn", "lsn_commit", "lsn_proc", "txId", "ts_usec"}` where `lsn` is the
//!   end of the last transaction the sink made durable; a restart streams from there.
//!
//! The slot's flushed position is only ever moved by `commit`, i.e. after the sink is durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use pgwire_replication::{Lsn, ReplicationClient, ReplicationConfig, ReplicationEvent, TlsConfig};
use serde_json::{json, Value as Json};
use sluice_config::postgres::{PostgresConfig, PublicationAutocreateMode, SnapshotMode};
use sluice_core::data::Value;
use sluice_core::metrics as m;
use sluice_core::pipeline::{BoxError, Source};
use sluice_core::record::{SourceBatch, SourceOffset, SourceRecord};
use tokio_postgres::Client;

use crate::catalog::{self, quote_ident, TableInfo, SESSION_OPTIONS};
use crate::envelope::{Cell, Heartbeat, SharedSchemas, SourcePosition, TableEvents};
use crate::error::{query_error, PostgresError};
use crate::pgoutput::{self, LogicalMessage, OldTuple, Relation, Tuple, TupleValue};
use crate::snapshot::{snapshot_marker, ChunkedRows, TableCopy, TableRows};

/// How long an idle poll waits for the stream before returning an empty batch.
const IDLE_POLL: Duration = Duration::from_millis(250);

/// µs between the Unix epoch and Postgres' epoch (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

pub struct PostgresSource {
    cfg: Arc<PostgresConfig>,
    client: Client,
    shared: SharedSchemas,
    partition: Json,
    heartbeat: Option<(Heartbeat, tokio::time::Interval)>,
    phase: Phase,
    /// Samples the slot's WAL gauges while the source lives (also while paused).
    slot_sampler: tokio::task::JoinHandle<()>,
}

impl Drop for PostgresSource {
    fn drop(&mut self) {
        self.slot_sampler.abort();
    }
}

enum Phase {
    Snapshot(Box<SnapshotState>),
    Stream(Box<StreamState>),
    /// `initial_only`: the snapshot is done and nothing streams.
    Finished,
}

struct SnapshotState {
    tables: Vec<Arc<TableEvents>>,
    index: usize,
    copy: Option<TableRows>,
    /// The row read ahead, to know whether the current one is its table's last.
    ahead: Option<Value>,
    /// The snapshot transaction's own export, for chunk readers (`snapshot.max.threads` > 1).
    exported: Option<String>,
    first_of_table: bool,
    consistent_point: u64,
    tx_id: i64,
    started_us: i64,
    rows_in_table: u64,
    /// A progress bar for the table being read, when stderr is a terminal.
    bar: Option<indicatif::ProgressBar>,
}

struct StreamState {
    repl: ReplicationClient,
    /// pgoutput relation id → the table's events, rebuilt when a Relation message differs.
    relations: HashMap<u32, Arc<Captured>>,
    txn: Option<Txn>,
    last_commit_lsn: Option<u64>,
    /// The highest LSN put into an offset so far.
    last_offset_lsn: u64,
}

struct Txn {
    xid: u32,
    commit_ts_us: i64,
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

impl PostgresSource {
    /// Connects, checks the server, prepares the publication and slot, and decides between
    /// snapshot and streaming from the stored offset.
    pub async fn start(cfg: PostgresConfig, stored: Option<Json>) -> Result<Self, PostgresError> {
        let cfg = Arc::new(cfg);
        let client = catalog::connect(&cfg).await?;
        let level = catalog::wal_level(&client).await?;
        if level != "logical" {
            return Err(PostgresError::WalLevel {
                host: cfg.hostname.clone(),
                port: cfg.port,
                actual: level,
            });
        }
        if !catalog::can_replicate(&client).await? {
            return Err(PostgresError::NoReplicationPrivilege {
                host: cfg.hostname.clone(),
                port: cfg.port,
                user: cfg.user.clone(),
            });
        }
        let tables = catalog::captured_tables(&client, &cfg).await?;
        ensure_publication(&client, &cfg, &tables).await?;
        let slot = slot_state(&client, &cfg).await?;
        if let Some(pid) = slot.as_ref().and_then(|s| s.active_pid) {
            return Err(PostgresError::SlotActive {
                slot: cfg.slot_name.clone(),
                pid,
            });
        }
        if let Some(plugin) = slot
            .as_ref()
            .map(|s| &s.plugin)
            .filter(|p| *p != "pgoutput")
        {
            return Err(PostgresError::SlotPlugin {
                slot: cfg.slot_name.clone(),
                plugin: plugin.clone(),
            });
        }

        let snapshot_done = stored.as_ref().is_some_and(|o| {
            o.get("snapshot").and_then(Json::as_bool) != Some(true)
                || o.get("last_snapshot_record").and_then(Json::as_bool) == Some(true)
        });
        let stored_lsn = stored
            .as_ref()
            .and_then(|o| o.get("lsn"))
            .and_then(Json::as_u64);
        // A stored stream position whose slot is gone (dropped by slot.drop.on.stop or by
        // hand) cannot be resumed: the changes since are lost to the slot, so read the tables
        // again rather than silently skip them.
        let slot_lost = stored_lsn.is_some() && snapshot_done && slot.is_none();
        if slot_lost && cfg.snapshot_mode != SnapshotMode::NoData {
            tracing::warn!(slot = %cfg.slot_name, "the replication slot of the stored offset is gone; taking a new snapshot");
        }
        let need_snapshot = match cfg.snapshot_mode {
            SnapshotMode::Always => true,
            SnapshotMode::NoData => false,
            SnapshotMode::Initial | SnapshotMode::InitialOnly => !snapshot_done || slot_lost,
            // The stored position is gone if the slot was dropped or moved past it.
            SnapshotMode::WhenNeeded => {
                !snapshot_done
                    || slot.is_none()
                    || stored_lsn
                        .is_some_and(|l| slot.as_ref().is_some_and(|s| l < s.confirmed_flush))
            }
        };
        let heartbeat = (cfg.heartbeat_interval_ms > 0).then(|| {
            let mut tick = tokio::time::interval(Duration::from_millis(cfg.heartbeat_interval_ms));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            (Heartbeat::new(&cfg), tick)
        });
        let mut source = PostgresSource {
            partition: source_partition(&cfg),
            shared: SharedSchemas::new(),
            client,
            heartbeat,
            phase: Phase::Finished,
            slot_sampler: tokio::spawn(sample_slot(cfg.clone())),
            cfg,
        };
        if need_snapshot {
            source.phase = Phase::Snapshot(Box::new(
                source.begin_snapshot(&tables, slot.is_some()).await?,
            ));
        } else if cfg_only_snapshot(&source.cfg) {
            tracing::info!(
                "snapshot.mode=initial_only and the snapshot is complete: nothing to do"
            );
        } else {
            let start = match (stored_lsn, &slot) {
                (Some(lsn), _) => lsn,
                (None, Some(s)) => s.confirmed_flush,
                (None, None) => create_slot(&source.cfg, false).await?.0,
            };
            source.phase = Phase::Stream(Box::new(source.start_stream(start).await?));
        }
        Ok(source)
    }

    /// Drops and recreates the slot with an exported snapshot, and opens the snapshot
    /// transaction on the SQL connection.
    async fn begin_snapshot(
        &mut self,
        tables: &[TableInfo],
        slot_exists: bool,
    ) -> Result<SnapshotState, PostgresError> {
        let cfg = self.cfg.clone();
        if slot_exists {
            // Nothing durable depends on the old slot: no complete snapshot was committed, or
            // snapshot.mode asks for a new one whose own consistent point supersedes it.
            tracing::info!(slot = %cfg.slot_name, "dropping the replication slot to take a consistent snapshot");
            self.client
                .execute("SELECT pg_drop_replication_slot($1)", &[&cfg.slot_name])
                .await
                .map_err(query_error(format!(
                    "dropping replication slot {}",
                    cfg.slot_name
                )))?;
        }
        let (consistent_point, snapshot_name, mut session) = create_slot(&cfg, true).await?;
        let snapshot_name = snapshot_name.unwrap_or_default();
        self.client
            .batch_execute(&format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{}'",
                snapshot_name.replace('\'', "''")
            ))
            .await
            .map_err(query_error("importing the slot's exported snapshot"))?;
        // The transaction holds the snapshot now; the exporting session may end.
        if let Some(s) = session.as_mut() {
            s.abort();
        }
        let row = self
            .client
            // The snapshot's xmin, not txid_current(): an assigned xid would make every other
            // connector's CREATE_REPLICATION_SLOT wait for this whole snapshot to end.
            .query_one("SELECT txid_snapshot_xmin(txid_current_snapshot())", &[])
            .await
            .map_err(query_error("reading the snapshot transaction id"))?;
        let tx_id: i64 = row.get(0);
        let exported = if cfg.snapshot_max_threads > 1 {
            let row = self
                .client
                .query_one("SELECT pg_export_snapshot()", &[])
                .await
                .map_err(query_error("exporting the snapshot for parallel readers"))?;
            Some(row.get::<_, String>(0))
        } else {
            None
        };
        let mut events = Vec::new();
        for t in tables {
            events.push(Arc::new(TableEvents::new(t.clone(), &cfg, &self.shared)?));
        }
        tracing::info!(slot = %cfg.slot_name, lsn = %Lsn(consistent_point), tables = events.len(), "snapshot started");
        metrics::gauge!(m::SNAPSHOT_RUNNING, "connector" => cfg.name.clone()).set(1.0);
        Ok(SnapshotState {
            tables: events,
            index: 0,
            copy: None,
            ahead: None,
            exported,
            first_of_table: true,
            consistent_point,
            tx_id,
            started_us: now_us(),
            rows_in_table: 0,
            bar: None,
        })
    }

    async fn start_stream(&self, start_lsn: u64) -> Result<StreamState, PostgresError> {
        let cfg = &self.cfg;
        let repl_cfg = replication_config(cfg)
            .with_start_lsn(Lsn(start_lsn))
            .with_buffer_size(cfg.max_queue_size);
        let mut repl = ReplicationClient::connect(repl_cfg)
            .await
            .map_err(|e| repl_error(cfg, e))?;
        repl.wait_started().await.map_err(|e| repl_error(cfg, e))?;
        tracing::info!(slot = %cfg.slot_name, lsn = %Lsn(start_lsn), "streaming changes");
        Ok(StreamState {
            repl,
            relations: HashMap::new(),
            txn: None,
            last_commit_lsn: None,
            last_offset_lsn: start_lsn,
        })
    }

    fn offset(&self, offset: Json) -> SourceOffset {
        SourceOffset {
            partition: self.partition.clone(),
            offset,
        }
    }

    async fn poll_snapshot(&mut self) -> Result<SourceBatch, PostgresError> {
        let Phase::Snapshot(st) = &mut self.phase else {
            return Ok(SourceBatch::default());
        };
        let mut records = Vec::new();
        let now = now_us();
        while records.len() < self.cfg.max_batch_size && st.index < st.tables.len() {
            let table = st.tables[st.index].clone();
            if st.copy.is_none() {
                // Before the COPY: the connection answers nothing else until it is read out.
                let estimate = estimated_rows(&self.client, table.table.oid).await;
                metrics::gauge!(m::SNAPSHOT_ROWS_ESTIMATED, &table_label(&self.cfg, &table))
                    .set(estimate as f64);
                tracing::info!(table = %table.table.full_name(), estimated_rows = estimate, "snapshotting table");
                st.bar = progress_bar(&table.table.full_name(), estimate);
                let mut copy = match (
                    &st.exported,
                    chunk_ranges(&self.client, &self.cfg, &table).await?,
                ) {
                    (Some(snapshot), Some(ranges)) => {
                        tracing::info!(table = %table.table.full_name(), chunks = ranges.len(), "reading the table in chunks");
                        TableRows::Chunked(ChunkedRows::start(
                            self.cfg.clone(),
                            snapshot,
                            table.clone(),
                            &ranges,
                        ))
                    }
                    _ => TableRows::Single(
                        TableCopy::start(&self.client, &table, None).await?,
                        table.clone(),
                    ),
                };
                st.ahead = copy.next_row().await?;
                st.copy = Some(copy);
                st.first_of_table = true;
                st.rows_in_table = 0;
            }
            let Some(copy) = st.copy.as_mut() else {
                continue;
            };
            let Some(after) = st.ahead.take() else {
                st.copy = None;
                st.index += 1;
                continue;
            };
            st.ahead = copy.next_row().await?;
            let marker = snapshot_marker(
                st.first_of_table,
                st.ahead.is_none(),
                st.index == 0,
                st.index + 1 == st.tables.len(),
            );
            st.first_of_table = false;
            st.rows_in_table += 1;
            if let Some(bar) = &st.bar {
                bar.inc(1);
                if st.ahead.is_none() {
                    bar.finish();
                }
            }
            if st.rows_in_table % 10_000 == 0 || st.ahead.is_none() {
                metrics::gauge!(m::SNAPSHOT_ROWS_SCANNED, &table_label(&self.cfg, &table))
                    .set(st.rows_in_table as f64);
                if st.rows_in_table % 100_000 == 0 {
                    tracing::info!(table = %table.table.full_name(), rows = st.rows_in_table, "snapshot progress");
                }
            }
            let pos = SourcePosition {
                ts_us: st.started_us,
                snapshot: marker,
                last_commit_lsn: None,
                lsn: Some(st.consistent_point),
                tx_id: Some(st.tx_id),
            };
            records.push(table.change("r", None, Some(after), &pos, now));
        }
        let finished = st.index >= st.tables.len();
        let offset = json!({
            "lsn": st.consistent_point,
            "txId": st.tx_id,
            "ts_usec": st.started_us,
            "snapshot": true,
            "last_snapshot_record": finished,
        });
        if finished {
            let consistent_point = st.consistent_point;
            self.client
                .batch_execute("COMMIT")
                .await
                .map_err(query_error("ending the snapshot transaction"))?;
            tracing::info!("snapshot completed");
            metrics::gauge!(m::SNAPSHOT_RUNNING, "connector" => self.cfg.name.clone()).set(0.0);
            self.phase = if cfg_only_snapshot(&self.cfg) {
                Phase::Finished
            } else {
                Phase::Stream(Box::new(self.start_stream(consistent_point).await?))
            };
        }
        Ok(SourceBatch {
            records,
            offset: Some(self.offset(offset)),
            source_ts_ms: None,
            caught_up: finished,
        })
    }

    async fn poll_stream(&mut self) -> Result<SourceBatch, PostgresError> {
        let mut batch = SourceBatch::default();
        loop {
            let Phase::Stream(st) = &mut self.phase else {
                return Ok(batch);
            };
            let idle = batch.records.is_empty() && batch.offset.is_none();
            let event = if idle {
                // Bounded, so the driver sees pause/stop requests while the slot is quiet.
                let wait = tokio::time::timeout(IDLE_POLL, st.repl.recv());
                let received = match self.heartbeat.as_mut() {
                    Some((hb, tick)) => tokio::select! {
                        ev = wait => ev,
                        _ = tick.tick() => {
                            // The heartbeat carries the latest position, so the slot advances
                            // even when no captured table changes.
                            batch.records.push(hb.record(now_us() / 1000));
                            if st.txn.is_none() {
                                batch.offset = Some(SourceOffset {
                                    partition: self.partition.clone(),
                                    offset: stream_offset(st.last_offset_lsn, st.last_commit_lsn, None, None),
                                });
                            }
                            if let Some(q) = &self.cfg.heartbeat_action_query {
                                self.client.batch_execute(q).await.map_err(query_error("running heartbeat.action.query"))?;
                            }
                            batch.caught_up = true;
                            return Ok(batch);
                        }
                    },
                    None => wait.await,
                };
                match received {
                    Ok(ev) => ev,
                    Err(_elapsed) => {
                        batch.caught_up = true;
                        return Ok(batch);
                    }
                }
            } else {
                match st.repl.recv().now_or_never() {
                    Some(ev) => ev,
                    None => {
                        batch.caught_up = true;
                        return Ok(batch);
                    }
                }
            };
            let event = event
                .map_err(|e| repl_error(&self.cfg, e))?
                .ok_or_else(|| PostgresError::Replication {
                    slot: self.cfg.slot_name.clone(),
                    reason: "the server ended the replication stream".into(),
                })?;
            match event {
                ReplicationEvent::Begin {
                    xid,
                    commit_time_micros,
                    ..
                } => {
                    st.txn = Some(Txn {
                        xid,
                        commit_ts_us: commit_time_micros + PG_EPOCH_OFFSET_US,
                    });
                }
                ReplicationEvent::Commit {
                    lsn,
                    end_lsn,
                    commit_time_micros,
                } => {
                    let xid = st.txn.take().map(|t| t.xid);
                    st.last_commit_lsn = Some(lsn.0);
                    st.last_offset_lsn = st.last_offset_lsn.max(end_lsn.0);
                    batch.offset = Some(SourceOffset {
                        partition: self.partition.clone(),
                        offset: stream_offset(
                            end_lsn.0,
                            Some(lsn.0),
                            xid,
                            Some(commit_time_micros + PG_EPOCH_OFFSET_US),
                        ),
                    });
                    batch.source_ts_ms =
                        Some((commit_time_micros + PG_EPOCH_OFFSET_US).div_euclid(1000));
                    if batch.records.len() >= self.cfg.max_batch_size {
                        return Ok(batch);
                    }
                }
                ReplicationEvent::KeepAlive { wal_end, .. } => {
                    if st.txn.is_none() && wal_end.0 > st.last_offset_lsn {
                        st.last_offset_lsn = wal_end.0;
                        batch.offset = Some(SourceOffset {
                            partition: self.partition.clone(),
                            offset: stream_offset(wal_end.0, st.last_commit_lsn, None, None),
                        });
                    }
                }
                ReplicationEvent::XLogData {
                    wal_start, data, ..
                } => {
                    let msg = pgoutput::decode(&data)?;
                    let now = now_us();
                    Self::apply(
                        &self.cfg,
                        &self.client,
                        &self.shared,
                        st,
                        msg,
                        wal_start.0,
                        now,
                        &mut batch.records,
                    )
                    .await?;
                    if batch.records.len() >= self.cfg.max_batch_size && st.txn.is_some() {
                        // A large transaction goes out in pieces; its offset comes with the commit.
                        return Ok(batch);
                    }
                }
                ReplicationEvent::Message { .. } | ReplicationEvent::StoppedAt { .. } => {}
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply(
        cfg: &PostgresConfig,
        client: &Client,
        shared: &SharedSchemas,
        st: &mut StreamState,
        msg: LogicalMessage,
        lsn: u64,
        now: i64,
        out: &mut Vec<SourceRecord>,
    ) -> Result<(), PostgresError> {
        let pos = |st: &StreamState| SourcePosition {
            ts_us: st.txn.as_ref().map_or(now, |t| t.commit_ts_us),
            snapshot: "false",
            last_commit_lsn: st.last_commit_lsn,
            lsn: Some(lsn),
            tx_id: st.txn.as_ref().map(|t| i64::from(t.xid)),
        };
        match msg {
            LogicalMessage::Relation(rel) => on_relation(cfg, client, shared, st, rel).await?,
            LogicalMessage::Insert { relation_id, new } => {
                let Some(rel) = st.relations.get(&relation_id).cloned() else {
                    return Ok(());
                };
                if cfg.skipped.create {
                    count_filtered(cfg);
                    return Ok(());
                }
                let table = &rel.table;
                let after = rel.row(&new, false)?;
                out.push(table.change("c", None, Some(after), &pos(st), now));
            }
            LogicalMessage::Update {
                relation_id,
                old,
                new,
            } => {
                let Some(rel) = st.relations.get(&relation_id).cloned() else {
                    return Ok(());
                };
                let table = &rel.table;
                let after = rel.row(&new, false)?;
                let before = match &old {
                    Some(OldTuple::Full(t)) => Some(rel.row(t, false)?),
                    Some(OldTuple::Key(t)) => Some(rel.row(t, true)?),
                    None => None,
                };
                let key_changed = match (&old, &before) {
                    (Some(OldTuple::Key(_)), Some(_)) => true,
                    (Some(OldTuple::Full(_)), Some(b)) => table.key_changed(b, &after),
                    _ => false,
                };
                if key_changed && table.has_key() {
                    // Debezium: a primary-key change is a delete of the old key and a create
                    // of the new one.
                    let Some(before) = before else { return Ok(()) };
                    if !cfg.skipped.delete {
                        out.push(table.change("d", Some(before.clone()), None, &pos(st), now));
                        if cfg.tombstones_on_delete {
                            out.push(table.tombstone(&before, now));
                        }
                    }
                    if !cfg.skipped.create {
                        out.push(table.change("c", None, Some(after), &pos(st), now));
                    }
                } else if !cfg.skipped.update {
                    let before = match old {
                        Some(OldTuple::Full(_)) => before,
                        _ => None,
                    };
                    out.push(table.change("u", before, Some(after), &pos(st), now));
                }
            }
            LogicalMessage::Delete { relation_id, old } => {
                let Some(rel) = st.relations.get(&relation_id).cloned() else {
                    return Ok(());
                };
                if cfg.skipped.delete {
                    count_filtered(cfg);
                    return Ok(());
                }
                let table = &rel.table;
                let before = match &old {
                    OldTuple::Full(t) => rel.row(t, false)?,
                    OldTuple::Key(t) => rel.row(t, true)?,
                };
                out.push(table.change("d", Some(before.clone()), None, &pos(st), now));
                if cfg.tombstones_on_delete {
                    out.push(table.tombstone(&before, now));
                }
            }
            LogicalMessage::Truncate { relation_ids, .. } => {
                if cfg.skipped.truncate {
                    count_filtered(cfg);
                    return Ok(());
                }
                for id in relation_ids {
                    if let Some(rel) = st.relations.get(&id) {
                        out.push(rel.table.truncate(&pos(st), now));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Drops the slot when `slot.drop.on.stop` asks for it (on a clean stop only).
    pub async fn stop(mut self) -> Result<(), PostgresError> {
        if let Phase::Stream(st) = &mut self.phase {
            let _ = st.repl.shutdown().await;
        }
        if self.cfg.slot_drop_on_stop {
            self.client
                .execute(
                    "SELECT pg_drop_replication_slot($1)",
                    &[&self.cfg.slot_name],
                )
                .await
                .map_err(query_error(format!(
                    "dropping replication slot {}",
                    self.cfg.slot_name
                )))?;
            tracing::info!(slot = %self.cfg.slot_name, "replication slot dropped (slot.drop.on.stop=true)");
        }
        Ok(())
    }
}

impl Source for PostgresSource {
    async fn poll(&mut self) -> Result<SourceBatch, BoxError> {
        let batch = match &self.phase {
            Phase::Snapshot(_) => self.poll_snapshot().await?,
            Phase::Stream(_) => self.poll_stream().await?,
            Phase::Finished => {
                tokio::time::sleep(IDLE_POLL).await;
                SourceBatch::default()
            }
        };
        Ok(batch)
    }

    async fn commit(&mut self, offset: &SourceOffset) -> Result<(), BoxError> {
        if let (Phase::Stream(st), Some(lsn)) =
            (&self.phase, offset.offset.get("lsn").and_then(Json::as_u64))
        {
            st.repl.update_applied_lsn(Lsn(lsn));
        }
        Ok(())
    }
}

/// On a terminal, a bar per table (rows read of the planner's estimate); elsewhere the log's
/// "snapshot progress" lines say the same.
fn progress_bar(table: &str, estimate: i64) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(estimate.max(1) as u64);
    let style = indicatif::ProgressStyle::with_template(
        "{prefix:>30} [{bar:40}] {pos}/~{len} rows {per_sec}",
    )
    .map(|s| s.progress_chars("=> "));
    if let Ok(style) = style {
        bar.set_style(style);
    }
    bar.set_prefix(table.to_owned());
    Some(bar)
}

/// A change skipped by `skipped.operations`.
fn count_filtered(cfg: &PostgresConfig) {
    metrics::counter!(m::EVENTS_FILTERED, "connector" => cfg.name.clone()).increment(1);
}

fn table_label(cfg: &PostgresConfig, table: &TableEvents) -> [(&'static str, String); 2] {
    [
        ("connector", cfg.name.clone()),
        ("table", table.table.full_name()),
    ]
}

/// Block ranges for reading a table with `snapshot.max.threads` connections, `None` when one
/// read is better: a single thread, a partitioned table (no blocks of its own), or a table
/// too small to be worth more connections.
async fn chunk_ranges(
    client: &Client,
    cfg: &PostgresConfig,
    table: &TableEvents,
) -> Result<Option<Vec<(u64, Option<u64>)>>, PostgresError> {
    let n = cfg.snapshot_max_threads as u64;
    if n < 2 || table.table.partitioned {
        return Ok(None);
    }
    let blocks: i64 = client
        .query_one(
            "SELECT pg_relation_size($1::oid) / current_setting('block_size')::int8",
            &[&table.table.oid],
        )
        .await
        .map_err(query_error("reading the table's size"))?
        .get(0);
    let blocks = blocks.max(0) as u64;
    // At least 64 blocks (512 kB) a chunk.
    if blocks < n * 64 {
        return Ok(None);
    }
    // The last range is open-ended: a row the snapshot sees cannot lie beyond the table's
    // current end, but nothing is lost if the size was read short.
    Ok(Some(
        (0..n)
            .map(|i| (blocks * i / n, (i + 1 < n).then(|| blocks * (i + 1) / n)))
            .collect(),
    ))
}

/// The planner's row estimate (`reltuples`), for snapshot progress; 0 when unknown.
async fn estimated_rows(client: &Client, oid: u32) -> i64 {
    client
        .query_one(
            "SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = $1",
            &[&oid],
        )
        .await
        .map_or(0, |r| r.get(0))
}

/// Every few seconds, how much WAL the slot holds back on the server. Runs on its own
/// connection so the gauges keep moving while the connector is paused.
async fn sample_slot(cfg: Arc<PostgresConfig>) {
    let labels = [
        ("connector", cfg.name.clone()),
        ("slot", cfg.slot_name.clone()),
    ];
    let mut client = None;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        if client.is_none() {
            client = catalog::connect(&cfg).await.ok();
        }
        let Some(c) = &client else { continue };
        let row = c
            .query_opt(
                "SELECT (pg_current_wal_lsn() - restart_lsn)::int8, (pg_current_wal_lsn() - confirmed_flush_lsn)::int8
                 FROM pg_replication_slots WHERE slot_name = $1",
                &[&cfg.slot_name],
            )
            .await;
        match row {
            Ok(Some(r)) => {
                let retained: Option<i64> = r.get(0);
                let lag: Option<i64> = r.get(1);
                metrics::gauge!(m::SLOT_RETAINED_WAL_BYTES, &labels)
                    .set(retained.unwrap_or(0) as f64);
                metrics::gauge!(m::SLOT_CONFIRMED_FLUSH_LAG_BYTES, &labels)
                    .set(lag.unwrap_or(0) as f64);
            }
            Ok(None) => {}
            Err(_) => client = None,
        }
    }
}

/// The source partition of a connector's offsets: `{"server": <topic.prefix>}` as Debezium.
pub fn source_partition(cfg: &PostgresConfig) -> Json {
    json!({"server": cfg.topic_prefix})
}

fn cfg_only_snapshot(cfg: &PostgresConfig) -> bool {
    cfg.snapshot_mode == SnapshotMode::InitialOnly
}

fn stream_offset(
    lsn: u64,
    lsn_commit: Option<u64>,
    tx_id: Option<u32>,
    ts_usec: Option<i64>,
) -> Json {
    json!({"lsn": lsn, "lsn_commit": lsn_commit, "lsn_proc": lsn, "txId": tx_id, "ts_usec": ts_usec})
}

/// Row from a pgoutput tuple; `names` are the Relation message's column names, which may be
/// fewer than the table's (publication column lists). In a key-only old tuple the non-key
/// columns arrive as nulls and are filled as Debezium does.
/// A captured table as the stream sees it: its events, and its relation's column order.
struct Captured {
    table: TableEvents,
    /// Column names in the order pgoutput tuples carry them.
    names: Vec<String>,
    /// For each event column, its index in the tuples (`None`: not sent).
    positions: Vec<Option<usize>>,
}

impl Captured {
    fn row(&self, tuple: &Tuple, key_only: bool) -> Result<Value, PostgresError> {
        let value_error = |i: usize, reason: &str| PostgresError::Value {
            table: self.table.table.full_name(),
            column: self.names.get(i).cloned().unwrap_or_default(),
            reason: reason.into(),
        };
        let mut failure = None;
        let row = self.table.row(|col| {
            let Some(i) = self.positions.get(col).copied().flatten() else {
                return Cell::Absent;
            };
            match tuple.get(i) {
                // Sluice never asks for binary tuples; text is the server encoding, UTF-8 expected.
                Some(TupleValue::Text(b)) => match std::str::from_utf8(b) {
                    Ok(text) => Cell::Text(text),
                    Err(_) => {
                        failure = Some(value_error(
                            i,
                            "the value is not valid UTF-8 (Sluice needs a UTF8 database)",
                        ));
                        Cell::Null
                    }
                },
                Some(TupleValue::Binary(_)) => {
                    failure = Some(value_error(
                        i,
                        "a binary-format value arrived, but text format was requested",
                    ));
                    Cell::Null
                }
                Some(TupleValue::UnchangedToast) => Cell::Unchanged,
                Some(TupleValue::Null) if key_only => Cell::Absent,
                _ => Cell::Null,
            }
        });
        match failure {
            Some(e) => Err(e),
            None => row,
        }
    }
}

/// A Relation message precedes the first change of a table in a session and follows DDL:
/// (re)read the table from the catalog and rebuild its schemas.
async fn on_relation(
    cfg: &PostgresConfig,
    client: &Client,
    shared: &SharedSchemas,
    st: &mut StreamState,
    rel: Relation,
) -> Result<(), PostgresError> {
    if !cfg.captures_table(&rel.namespace, &rel.name) {
        return Ok(());
    }
    let names: Vec<String> = rel.columns.iter().map(|c| c.name.clone()).collect();
    if st.relations.get(&rel.id).is_some_and(|c| c.names == names) {
        return Ok(());
    }
    let Some(info) = catalog::table_by_oid(client, cfg, rel.id).await? else {
        tracing::warn!(table = %format!("{}.{}", rel.namespace, rel.name), "table vanished from the catalog; its changes are skipped");
        return Ok(());
    };
    let table = TableEvents::new(info, cfg, shared)?;
    let positions = table
        .column_names()
        .map(|c| names.iter().position(|n| n == c))
        .collect();
    st.relations.insert(
        rel.id,
        Arc::new(Captured {
            table,
            names,
            positions,
        }),
    );
    Ok(())
}

struct SlotState {
    plugin: String,
    active_pid: Option<i32>,
    confirmed_flush: u64,
}

async fn slot_state(
    client: &Client,
    cfg: &PostgresConfig,
) -> Result<Option<SlotState>, PostgresError> {
    let row = client
        .query_opt(
            "SELECT coalesce(plugin::text, ''), active_pid, coalesce(confirmed_flush_lsn - '0/0', 0)::int8
             FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
            &[&cfg.slot_name],
        )
        .await
        .map_err(query_error(format!("reading replication slot {}", cfg.slot_name)))?;
    Ok(row.map(|r| SlotState {
        plugin: r.get(0),
        active_pid: r.get(1),
        confirmed_flush: r.get::<_, i64>(2) as u64,
    }))
}

/// Creates the slot on a replication connection. With `export`, the session stays open
/// (returned) so the snapshot it exported can be imported before it ends.
async fn create_slot(
    cfg: &PostgresConfig,
    export: bool,
) -> Result<(u64, Option<String>, Option<ReplicationClient>), PostgresError> {
    let mut session = ReplicationClient::connect_gated(replication_config(cfg))
        .await
        .map_err(|e| repl_error(cfg, e))?;
    let sql = format!(
        "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT '{}')",
        quote_ident(&cfg.slot_name),
        if export { "export" } else { "nothing" }
    );
    let rows = session
        .simple_query(&sql)
        .await
        .map_err(|e| repl_error(cfg, e))?;
    let text = |i: usize| {
        rows.first()
            .and_then(|r| r.get(i))
            .and_then(|v| v.as_ref())
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let consistent_point =
        text(1)
            .and_then(|s| Lsn::parse(&s).ok())
            .ok_or_else(|| PostgresError::Replication {
                slot: cfg.slot_name.clone(),
                reason: "CREATE_REPLICATION_SLOT returned no consistent point".into(),
            })?;
    tracing::info!(slot = %cfg.slot_name, lsn = %consistent_point, "replication slot created");
    if export {
        Ok((consistent_point.0, text(2), Some(session)))
    } else {
        session.abort();
        Ok((consistent_point.0, None, None))
    }
}

fn replication_config(cfg: &PostgresConfig) -> ReplicationConfig {
    ReplicationConfig::new(
        cfg.hostname.clone(),
        cfg.user.clone(),
        cfg.password.0.clone(),
        cfg.dbname.clone(),
        cfg.slot_name.clone(),
        cfg.publication_name.clone(),
    )
    .with_port(cfg.port)
    .with_tls(TlsConfig::disabled())
    .with_options(SESSION_OPTIONS)
    .with_application_name(format!("sluice-{}", cfg.name))
    .with_status_interval(Duration::from_millis(
        cfg.status_update_interval_ms.clamp(100, 10_000),
    ))
    .with_wakeup_interval(Duration::from_secs(10))
}

fn repl_error(cfg: &PostgresConfig, e: pgwire_replication::PgWireError) -> PostgresError {
    if e.is_auth() || e.is_io() {
        return crate::error::connect_error(cfg, e.to_string());
    }
    PostgresError::Replication {
        slot: cfg.slot_name.clone(),
        reason: e.to_string(),
    }
}

/// Creates or updates the publication per `publication.autocreate.mode`, then checks every
/// captured table is in it.
async fn ensure_publication(
    client: &Client,
    cfg: &PostgresConfig,
    tables: &[TableInfo],
) -> Result<(), PostgresError> {
    let name = quote_ident(&cfg.publication_name);
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_publication WHERE pubname = $1",
            &[&cfg.publication_name],
        )
        .await
        .map_err(query_error("reading publications"))?
        .is_some();
    let ctx = format!("preparing publication {}", cfg.publication_name);
    match cfg.publication_autocreate {
        PublicationAutocreateMode::Disabled if !exists => {
            return Err(PostgresError::PublicationMissing {
                publication: cfg.publication_name.clone(),
            })
        }
        PublicationAutocreateMode::Disabled => {}
        PublicationAutocreateMode::AllTables if !exists => {
            client
                .batch_execute(&format!(
                    "CREATE PUBLICATION {name} FOR ALL TABLES {VIA_ROOT}"
                ))
                .await
                .map_err(query_error(ctx))?;
        }
        PublicationAutocreateMode::AllTables => {}
        PublicationAutocreateMode::NoTables if !exists => {
            client
                .batch_execute(&format!("CREATE PUBLICATION {name} {VIA_ROOT}"))
                .await
                .map_err(query_error(ctx))?;
        }
        PublicationAutocreateMode::NoTables => {}
        PublicationAutocreateMode::Filtered => {
            // PG 15+ column lists keep excluded columns inside Postgres; before 15 they are
            // published and dropped by Sluice.
            let version: i32 = client
                .query_one("SELECT current_setting('server_version_num')::int4", &[])
                .await
                .map_err(query_error("reading the server version"))?
                .get(0);
            let list: Vec<String> = tables
                .iter()
                .map(|t| publication_entry(t, version >= 150_000))
                .collect();
            let sql = match (exists, list.is_empty()) {
                (false, true) => Some(format!("CREATE PUBLICATION {name} {VIA_ROOT}")),
                (false, false) => Some(format!(
                    "CREATE PUBLICATION {name} FOR TABLE {} {VIA_ROOT}",
                    list.join(", ")
                )),
                (true, false) => Some(format!(
                    "ALTER PUBLICATION {name} SET TABLE {}; ALTER PUBLICATION {name} SET (publish_via_partition_root = true)",
                    list.join(", ")
                )),
                (true, true) => None,
            };
            if let Some(sql) = sql {
                client.batch_execute(&sql).await.map_err(query_error(ctx))?;
            }
        }
    }
    // A partitioned table's changes arrive under its own name only when the publication
    // publishes via the partition root; otherwise they name partitions Sluice does not capture.
    let published = client
        .query(
            "SELECT n.nspname::text, r.relname::text, p.pubviaroot
             FROM pg_publication_tables pt JOIN pg_publication p ON p.pubname = pt.pubname
             JOIN pg_class r ON r.oid = coalesce(pg_partition_root(format('%I.%I', pt.schemaname, pt.tablename)::regclass), format('%I.%I', pt.schemaname, pt.tablename)::regclass)
             JOIN pg_namespace n ON n.oid = r.relnamespace
             WHERE pt.pubname = $1",
            &[&cfg.publication_name],
        )
        .await
        .map_err(query_error("reading pg_publication_tables"))?;
    for t in tables {
        let entry = published
            .iter()
            .find(|r| r.get::<_, String>(0) == t.schema && r.get::<_, String>(1) == t.name);
        match entry {
            None => {
                return Err(PostgresError::NotPublished {
                    table: t.full_name(),
                    publication: cfg.publication_name.clone(),
                })
            }
            Some(r) if t.partitioned && !r.get::<_, bool>(2) => {
                return Err(PostgresError::Query {
                    context: format!("checking publication {}", cfg.publication_name),
                    reason: format!(
                        "{} is partitioned but the publication sends its changes under the partitions' names: ALTER PUBLICATION {} SET (publish_via_partition_root = true)",
                        t.full_name(),
                        cfg.publication_name
                    ),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Publications Sluice creates name partitioned tables' changes after the table itself.
const VIA_ROOT: &str = "WITH (publish_via_partition_root = true)";

fn publication_entry(t: &TableInfo, column_lists: bool) -> String {
    let all_published = t
        .columns
        .iter()
        .filter(|c| !c.generated)
        .all(|c| c.captured);
    if all_published || !column_lists {
        t.quoted()
    } else {
        let cols: Vec<String> = t
            .captured_columns()
            .map(|c| quote_ident(&c.desc.name))
            .collect();
        format!("{} ({})", t.quoted(), cols.join(", "))
    }
}
