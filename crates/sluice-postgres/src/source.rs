//! The Postgres source task: start-up checks, publication and slot, snapshot, then streaming.
//!
//! Offsets (Debezium's shape, partition `{"server": <topic.prefix>}`):
//! - during the snapshot `{"lsn", "txId", "ts_usec", "snapshot": true, "last_snapshot_record"}`;
//!   a restart that finds `last_snapshot_record: false` snapshots again from scratch;
//! - while streaming `{"lsn", "lsn_commit", "lsn_proc", "txId", "ts_usec"}` where `lsn` is the
//!   end of the last transaction the sink made durable; a restart streams from there.
//!
//! The slot's flushed position is only ever moved by `commit`, i.e. after the sink is durable.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pgwire_replication::Lsn;
use serde_json::{json, Value as Json};
use sluice_config::postgres::{PostgresConfig, SnapshotMode};
use sluice_core::error::ConnectorError;
use sluice_core::metrics as m;
use sluice_core::pipeline::{SnapshotProgress, Source, TaskStats};
use sluice_core::record::{SourceBatch, SourceOffset};
use tokio_postgres::Client;

use crate::catalog::{self, TableInfo};
use crate::copy_json::ReadEvents;
use crate::envelope::{Heartbeat, SharedSchemas, SourcePosition, TableEvents};
use crate::error::{query_error, PostgresError};
use crate::publication::ensure_publication;
use crate::slot::{create_slot, drop_slot, dropped_message, invalidated_message, slot_state};
use crate::snapshot::{row_from_copy, snapshot_marker, ChunkedRows, CopyRow, TableCopy, TableRows};
use crate::stream::StreamState;
use crate::types::ShapeSource;

/// How long an idle poll waits for the stream before returning an empty batch.
pub(crate) const IDLE_POLL: Duration = Duration::from_millis(250);

pub struct PostgresSource {
    cfg: Arc<PostgresConfig>,
    client: Client,
    shared: SharedSchemas,
    partition: Json,
    heartbeat: Option<(Heartbeat, tokio::time::Interval)>,
    phase: Phase,
    /// Where the snapshot's progress per table is reported (the worker's console).
    stats: Option<Arc<TaskStats>>,
    /// Snapshot rows go out as JSON payloads written straight from COPY text.
    encode_json: bool,
}

/// A snapshot batch stops at this many payload bytes too. The batches in flight between the
/// stages are most of a snapshot's memory: small ones keep it the same for a table of 100,000
/// rows as for one of 10,000,000 (2048 rows of 800 bytes filled only during long snapshots), and
/// cost no throughput in the bench (a few hundred rows still make one write).
const SNAPSHOT_BATCH_BYTES: usize = 256 << 10;

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
    /// The line read ahead, to know whether the current one is its table's last.
    ahead: Option<Bytes>,
    /// Payload bytes of the last encoded batch, to size the next one.
    last_batch_bytes: usize,
    /// The snapshot transaction's own export, for chunk readers (`snapshot.max.threads` > 1).
    exported: Option<String>,
    first_of_table: bool,
    consistent_point: u64,
    tx_id: i64,
    started_us: i64,
    rows_in_table: u64,
    /// The tables were announced to `stats`.
    announced: bool,
    /// A progress bar for the table being read, when stderr is a terminal.
    bar: Option<indicatif::ProgressBar>,
}

pub(crate) fn now_us() -> i64 {
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
        // A stored stream position whose slot is gone cannot be resumed: the changes since
        // are lost to the slot. Dropped by Sluice itself (slot.drop.on.stop) or with
        // snapshot.mode=when_needed, a new snapshot is what the user asked for; dropped by
        // someone else, the task fails and says so, rather than skip changes or replace
        // them with a snapshot unasked.
        let slot_lost = stored_lsn.is_some() && snapshot_done && slot.is_none();
        if slot_lost && cfg.snapshot_mode == SnapshotMode::Initial && !cfg.slot_drop_on_stop {
            return Err(PostgresError::SlotDropped {
                message: dropped_message(&cfg, stored_lsn.unwrap_or_default()),
            });
        }
        if slot_lost && cfg.snapshot_mode != SnapshotMode::NoData {
            tracing::warn!(slot = %cfg.slot_name, "the replication slot of the stored offset is gone; taking a new snapshot");
        }
        // An invalidated slot has lost the changes after the stored position: say so, and how
        // to start again, rather than stream with a gap (a new snapshot recreates the slot).
        let invalidated = slot.as_ref().and_then(|s| s.wal_status.as_deref()) == Some("lost");
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
            encode_json: false,
            cfg,
            stats: None,
        };
        if invalidated && !need_snapshot && source.cfg.snapshot_mode != SnapshotMode::WhenNeeded {
            return Err(PostgresError::SlotInvalidated {
                message: invalidated_message(&source.cfg),
            });
        }
        if need_snapshot || invalidated {
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
            source.phase = Phase::Stream(Box::new(StreamState::start(&source.cfg, start).await?));
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
            drop_slot(&self.client, &cfg).await?;
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
            events.push(Arc::new(TableEvents::new(
                t.clone(),
                &cfg,
                &self.shared,
                ShapeSource::Catalog,
            )?));
        }
        tracing::info!(slot = %cfg.slot_name, lsn = %Lsn(consistent_point), tables = events.len(), "snapshot started");
        metrics::gauge!(m::SNAPSHOT_RUNNING, "connector" => cfg.name.clone()).set(1.0);
        Ok(SnapshotState {
            tables: events,
            index: 0,
            copy: None,
            ahead: None,
            last_batch_bytes: 0,
            exported,
            first_of_table: true,
            consistent_point,
            tx_id,
            started_us: now_us(),
            rows_in_table: 0,
            announced: false,
            bar: None,
        })
    }

    /// Whether snapshot records may go out as JSON payloads the source writes itself (COPY
    /// text straight into JSON, the snapshot's fast path): only when they go to a topic
    /// through JSON converters with no transforms on the way. The records are the same bytes.
    pub fn encode_json(&mut self, on: bool) {
        self.encode_json = on;
    }

    fn offset(&self, offset: Json) -> SourceOffset {
        SourceOffset {
            partition: self.partition.clone(),
            offset,
        }
    }

    /// Reports the snapshot's progress per table to `stats` from now on.
    pub fn report_to(&mut self, stats: Arc<TaskStats>) {
        self.stats = Some(stats);
    }

    async fn poll_snapshot(&mut self) -> Result<SourceBatch, PostgresError> {
        let Phase::Snapshot(st) = &mut self.phase else {
            return Ok(SourceBatch::default());
        };
        let progress = |f: &mut dyn FnMut(&mut SnapshotProgress)| {
            if let Some(stats) = &self.stats {
                f(&mut stats.snapshot.lock().unwrap_or_else(|e| e.into_inner()));
            }
        };
        if !st.announced {
            st.announced = true;
            progress(&mut |p| p.begin(st.tables.iter().map(|t| t.table.full_name())));
        }
        let mut records = Vec::new();
        let now = now_us();
        let max = self.cfg.max_batch_size;
        let mut encoded = self
            .encode_json
            .then(|| ReadEvents::new(now, max, st.last_batch_bytes + st.last_batch_bytes / 8));
        let full = |records: &Vec<_>, encoded: &Option<ReadEvents>| match encoded {
            Some(e) => e.len() >= max || e.bytes() >= SNAPSHOT_BATCH_BYTES,
            None => records.len() >= max,
        };
        while !full(&records, &encoded) && st.index < st.tables.len() {
            let table = st.tables[st.index].clone();
            if st.copy.is_none() {
                // Before the COPY: the connection answers nothing else until it is read out.
                let estimate = estimated_rows(&self.client, table.table.oid).await;
                metrics::gauge!(m::SNAPSHOT_ROWS_ESTIMATED, &table_label(&self.cfg, &table))
                    .set(estimate as f64);
                progress(&mut |p| p.table(&table.table.full_name(), 0, Some(estimate), false));
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
                    _ => TableRows::Single(TableCopy::start(&self.client, &table, None).await?),
                };
                st.ahead = copy.next_line().await?;
                st.copy = Some(copy);
                st.first_of_table = true;
                st.rows_in_table = 0;
            }
            let Some(copy) = st.copy.as_mut() else {
                continue;
            };
            let Some(line) = st.ahead.take() else {
                st.copy = None;
                st.index += 1;
                continue;
            };
            st.ahead = copy.next_line().await?;
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
                let (rows, done) = (st.rows_in_table, st.ahead.is_none());
                progress(&mut |p| p.table(&table.table.full_name(), rows, None, done));
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
            match &mut encoded {
                Some(events) => events.push(&table, &line, &pos)?,
                None => {
                    let after = row_from_copy(&table, &CopyRow::parse(&line))?;
                    records.push(table.change("r", None, Some(after), &pos, now));
                }
            }
        }
        let encoded = encoded.map(ReadEvents::finish).unwrap_or_default();
        st.last_batch_bytes = encoded.buf.len();
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
            progress(&mut |p| p.finish());
            self.phase = if cfg_only_snapshot(&self.cfg) {
                Phase::Finished
            } else {
                Phase::Stream(Box::new(
                    StreamState::start(&self.cfg, consistent_point).await?,
                ))
            };
        }
        Ok(SourceBatch {
            records,
            encoded,
            offsets: vec![self.offset(offset)],
            caught_up: finished,
            ..SourceBatch::default()
        })
    }

    async fn poll_stream(&mut self) -> Result<SourceBatch, PostgresError> {
        let Phase::Stream(st) = &mut self.phase else {
            return Ok(SourceBatch::default());
        };
        st.poll(
            &self.cfg,
            &self.client,
            &self.shared,
            &self.partition,
            &mut self.heartbeat,
        )
        .await
    }

    /// Drops the slot when `slot.drop.on.stop` asks for it (on a clean stop only).
    pub async fn stop(mut self) -> Result<(), PostgresError> {
        if let Phase::Stream(st) = &mut self.phase {
            st.shutdown().await;
        }
        if self.cfg.slot_drop_on_stop {
            drop_slot(&self.client, &self.cfg).await?;
            tracing::info!(slot = %self.cfg.slot_name, "replication slot dropped (slot.drop.on.stop=true)");
        }
        Ok(())
    }
}

impl Source for PostgresSource {
    async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
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

    async fn commit(&mut self, offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        let lsn = offsets
            .iter()
            .filter(|o| o.partition == self.partition)
            .filter_map(|o| o.offset.get("lsn").and_then(Json::as_u64))
            .max();
        if let (Phase::Stream(st), Some(lsn)) = (&self.phase, lsn) {
            st.commit(lsn);
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

/// The source partition of a connector's offsets: `{"server": <topic.prefix>}` as Debezium.
pub fn source_partition(cfg: &PostgresConfig) -> Json {
    json!({"server": cfg.topic_prefix})
}

fn cfg_only_snapshot(cfg: &PostgresConfig) -> bool {
    cfg.snapshot_mode == SnapshotMode::InitialOnly
}
