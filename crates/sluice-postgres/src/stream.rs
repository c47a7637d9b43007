//! Streaming from the slot: pgoutput messages in, Debezium change events and stream offsets out.
//! An offset must never point inside a transaction: it is the end of a committed one (or a
//! keepalive's position between transactions), so a restart never replays or skips half of one.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::FutureExt;
use pgwire_replication::{Lsn, ReplicationClient, ReplicationEvent};
use serde_json::{json, Value as Json};
use sluice_config::postgres::PostgresConfig;
use sluice_core::data::Value;
use sluice_core::metrics as m;
use sluice_core::record::{Record, SourceBatch, SourceOffset};
use tokio_postgres::Client;

use crate::catalog;
use crate::envelope::{Cell, Heartbeat, SharedSchemas, SourcePosition, TableEvents};
use crate::error::{query_error, PostgresError};
use crate::pgoutput::{self, LogicalMessage, OldTuple, Relation, Tuple, TupleValue};
use crate::slot::{connect_replication, repl_error};
use crate::source::{now_us, IDLE_POLL};
use crate::transaction::{TransactionCounts, TransactionTopic};
use crate::types::ShapeSource;

/// µs between the Unix epoch and Postgres' epoch (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

pub(crate) struct StreamState {
    repl: ReplicationClient,
    /// pgoutput relation id → the table's events, rebuilt when a Relation message differs.
    relations: HashMap<u32, Arc<Captured>>,
    txn: Option<Txn>,
    last_commit_lsn: Option<u64>,
    /// The highest LSN put into an offset so far.
    last_offset_lsn: u64,
    /// `provide.transaction.metadata`.
    transaction_topic: Option<TransactionTopic>,
}

struct Txn {
    xid: u32,
    commit_ts_us: i64,
    /// Event counters for the transaction block (with `provide.transaction.metadata`).
    counts: Option<TransactionCounts>,
}

impl StreamState {
    /// Opens a replication connection streaming from `start_lsn`.
    pub(crate) async fn start(
        cfg: &PostgresConfig,
        start_lsn: u64,
    ) -> Result<StreamState, PostgresError> {
        let queue = cfg.max_queue_size;
        let repl = connect_replication(cfg, |c| async move {
            let c = c.with_start_lsn(Lsn(start_lsn)).with_buffer_size(queue);
            let mut repl = ReplicationClient::connect(c).await?;
            repl.wait_started().await?;
            Ok(repl)
        })
        .await?;
        tracing::info!(slot = %cfg.slot_name, lsn = %Lsn(start_lsn), "streaming changes");
        Ok(StreamState {
            repl,
            relations: HashMap::new(),
            txn: None,
            last_commit_lsn: None,
            last_offset_lsn: start_lsn,
            transaction_topic: cfg.transaction_topic.clone().map(TransactionTopic::new),
        })
    }

    /// The next batch of changes. Offsets come only with a commit, or with a keepalive or a
    /// heartbeat between transactions.
    pub(crate) async fn poll(
        &mut self,
        cfg: &PostgresConfig,
        client: &Client,
        shared: &SharedSchemas,
        partition: &Json,
        heartbeat: &mut Option<(Heartbeat, tokio::time::Interval)>,
    ) -> Result<SourceBatch, PostgresError> {
        let mut batch = SourceBatch::default();
        // A poll returns within IDLE_POLL whatever arrives: the driver must see pause/stop
        // requests, and commit what is pending, even under a stream of keepalives (the server
        // sends one after another while it waits at shutdown for our confirmation).
        let deadline = tokio::time::Instant::now() + IDLE_POLL;
        loop {
            if tokio::time::Instant::now() >= deadline {
                batch.caught_up = true;
                return Ok(batch);
            }
            let idle = batch.records.is_empty() && batch.offsets.is_empty();
            let event = if idle {
                let wait = tokio::time::timeout_at(deadline, self.repl.recv());
                let received = match heartbeat.as_mut() {
                    Some((hb, tick)) => tokio::select! {
                        ev = wait => ev,
                        _ = tick.tick() => {
                            // The heartbeat carries the latest position, so the slot advances
                            // even when no captured table changes.
                            batch.records.push(hb.record(now_us() / 1000));
                            if self.txn.is_none() {
                                batch.offsets = vec![SourceOffset {
                                    partition: partition.clone(),
                                    offset: stream_offset(self.last_offset_lsn, self.last_commit_lsn, None, None),
                                }];
                            }
                            if let Some(q) = &cfg.heartbeat_action_query {
                                client.batch_execute(q).await.map_err(query_error("running heartbeat.action.query"))?;
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
                match self.repl.recv().now_or_never() {
                    Some(ev) => ev,
                    None => {
                        batch.caught_up = true;
                        return Ok(batch);
                    }
                }
            };
            let event = event.map_err(|e| repl_error(cfg, e))?.ok_or_else(|| {
                PostgresError::Replication {
                    slot: cfg.slot_name.clone(),
                    reason: "the server ended the replication stream".into(),
                }
            })?;
            match event {
                ReplicationEvent::Begin {
                    xid,
                    commit_time_micros,
                    final_lsn,
                } => {
                    let commit_ts_us = commit_time_micros + PG_EPOCH_OFFSET_US;
                    let counts = self.transaction_topic.as_ref().map(|t| {
                        let (begin, counts) = t.begin(
                            xid,
                            final_lsn.0,
                            commit_ts_us.div_euclid(1000),
                            now_us().div_euclid(1000),
                        );
                        batch.records.push(begin);
                        counts
                    });
                    self.txn = Some(Txn {
                        xid,
                        commit_ts_us,
                        counts,
                    });
                }
                ReplicationEvent::Commit {
                    lsn,
                    end_lsn,
                    commit_time_micros,
                } => {
                    let txn = self.txn.take();
                    let xid = txn.as_ref().map(|t| t.xid);
                    if let (Some(topic), Some(counts)) =
                        (&self.transaction_topic, txn.and_then(|t| t.counts))
                    {
                        batch.records.push(topic.end(
                            counts,
                            end_lsn.0,
                            (commit_time_micros + PG_EPOCH_OFFSET_US).div_euclid(1000),
                            now_us().div_euclid(1000),
                        ));
                    }
                    self.last_commit_lsn = Some(lsn.0);
                    self.last_offset_lsn = self.last_offset_lsn.max(end_lsn.0);
                    batch.offsets = vec![SourceOffset {
                        partition: partition.clone(),
                        offset: stream_offset(
                            end_lsn.0,
                            Some(lsn.0),
                            xid,
                            Some(commit_time_micros + PG_EPOCH_OFFSET_US),
                        ),
                    }];
                    batch.source_ts_ms =
                        Some((commit_time_micros + PG_EPOCH_OFFSET_US).div_euclid(1000));
                    if batch.records.len() >= cfg.max_batch_size {
                        return Ok(batch);
                    }
                }
                ReplicationEvent::KeepAlive {
                    wal_end,
                    reply_requested,
                    ..
                } => {
                    // Between transactions everything the server sent is in hand: its
                    // position may be confirmed once what came before is durable.
                    if self.txn.is_none() && wal_end.0 > self.last_offset_lsn {
                        self.last_offset_lsn = wal_end.0;
                        batch.offsets = vec![SourceOffset {
                            partition: partition.clone(),
                            offset: stream_offset(wal_end.0, self.last_commit_lsn, None, None),
                        }];
                    }
                    // The server waits for an answer (at shutdown, until we confirm all it
                    // sent): hand over now, so it becomes durable and confirmed at once.
                    if reply_requested {
                        batch.caught_up = true;
                        return Ok(batch);
                    }
                }
                ReplicationEvent::XLogData {
                    wal_start, data, ..
                } => {
                    let msg = pgoutput::decode(&data)?;
                    let now = now_us();
                    apply(
                        cfg,
                        client,
                        shared,
                        self,
                        msg,
                        wal_start.0,
                        now,
                        &mut batch.records,
                    )
                    .await?;
                    if batch.records.len() >= cfg.max_batch_size && self.txn.is_some() {
                        // A large transaction goes out in pieces; its offset comes with the commit.
                        return Ok(batch);
                    }
                }
                ReplicationEvent::Message { .. } | ReplicationEvent::StoppedAt { .. } => {}
            }
        }
    }

    /// Lets the slot's flushed position move to `lsn`: only what the sink made durable.
    pub(crate) fn commit(&self, lsn: u64) {
        self.repl.update_applied_lsn(Lsn(lsn));
    }

    /// Ends the replication connection (a clean stop).
    pub(crate) async fn shutdown(&mut self) {
        let _ = self.repl.shutdown().await;
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
    out: &mut Vec<Record>,
) -> Result<(), PostgresError> {
    let pos = SourcePosition {
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
            emit(
                &mut st.txn,
                out,
                table,
                table.change("c", None, Some(after), &pos, now),
                lsn,
            );
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
                    emit(
                        &mut st.txn,
                        out,
                        table,
                        table.change("d", Some(before.clone()), None, &pos, now),
                        lsn,
                    );
                    if cfg.tombstones_on_delete {
                        out.push(table.tombstone(&before, now));
                    }
                }
                if !cfg.skipped.create {
                    emit(
                        &mut st.txn,
                        out,
                        table,
                        table.change("c", None, Some(after), &pos, now),
                        lsn,
                    );
                }
            } else if !cfg.skipped.update {
                let before = match old {
                    Some(OldTuple::Full(_)) => before,
                    _ => None,
                };
                emit(
                    &mut st.txn,
                    out,
                    table,
                    table.change("u", before, Some(after), &pos, now),
                    lsn,
                );
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
            emit(
                &mut st.txn,
                out,
                table,
                table.change("d", Some(before.clone()), None, &pos, now),
                lsn,
            );
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
                    let record = rel.table.truncate(&pos, now);
                    emit(&mut st.txn, out, &rel.table, record, lsn);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Hands a change event on, counted in its transaction's metadata when that is on.
fn emit(
    txn: &mut Option<Txn>,
    out: &mut Vec<Record>,
    table: &TableEvents,
    mut record: Record,
    lsn: u64,
) {
    if let Some(counts) = txn.as_mut().and_then(|t| t.counts.as_mut()) {
        let collection = format!("{}.{}", table.table.schema, table.table.name);
        counts.event(&mut record, &collection, lsn);
    }
    out.push(record);
}

/// A change skipped by `skipped.operations`.
fn count_filtered(cfg: &PostgresConfig) {
    metrics::counter!(m::EVENTS_FILTERED, "connector" => cfg.name.clone()).increment(1);
}

fn stream_offset(
    lsn: u64,
    lsn_commit: Option<u64>,
    tx_id: Option<u32>,
    ts_usec: Option<i64>,
) -> Json {
    json!({"lsn": lsn, "lsn_commit": lsn_commit, "lsn_proc": lsn, "txId": tx_id, "ts_usec": ts_usec})
}

/// A captured table as the stream sees it: its events, and its relation's column order.
struct Captured {
    table: TableEvents,
    /// Column names in the order pgoutput tuples carry them.
    names: Vec<String>,
    /// For each event column, its index in the tuples (`None`: not sent).
    positions: Vec<Option<usize>>,
}

impl Captured {
    /// Row from a pgoutput tuple; `names` are the Relation message's column names, which may be
    /// fewer than the table's (publication column lists). In a key-only old tuple the non-key
    /// columns arrive as nulls and are filled as Debezium does.
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
    let table = TableEvents::new(info, cfg, shared, ShapeSource::Relation)?;
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
