//! The JDBC sinks into PostgreSQL (Confluent's and Debezium's `JdbcSinkConnector`): records
//! read from topics become rows in target tables. Durability argument: everything written
//! between two flushes is one target transaction, and the consumer positions it covers are
//! written into `sluice.offsets.table` in that same transaction, so a crash anywhere leaves
//! the target with a batch and its positions, or with neither. The worker's own position store
//! is updated after the commit; on start the target's positions win.
//!
//! Writes are one statement per run of records for the same table and operation: rows travel
//! as text arrays through `unnest` and are cast by the server to each column's type, so a batch
//! is a handful of round trips whatever its size. A statement the target refuses for its data
//! (a value a column rejects, a constraint) is replayed record by record under savepoints, so
//! only the offending records are handed to the error policy, with their SQLSTATE.
//!
//! With `sluice.transaction.topic` (see `transactions`), changes are applied whole source
//! transaction by whole source transaction, in commit order, as PostgreSQL's own logical
//! replication applies them: with `session_replication_role = replica`, so the tables of the
//! initial snapshot can load in any order while the target keeps its foreign keys.

mod change;
pub mod render;
mod table;
mod transactions;

use std::collections::BTreeMap;
use std::time::Duration;

use sluice_config::jdbc_sink::{InsertMode, JdbcSinkConfig};
use sluice_core::error::{BoxError, ConnectorError};
use sluice_core::record::{Record, SourceOffset, Written};
use sluice_core::sink::Sink;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Client;

use crate::error::{is_transient, reason, JdbcError};
use crate::identifier::{column, TableId};
use change::{Change, Op};
use render::RenderOptions;
use table::{Table, Tables};
use transactions::{Kind, Transactions};

pub use change::Op as ChangeOp;

/// A record the target refused, with the server's words.
#[derive(Debug, thiserror::Error)]
#[error("{table}: {reason}")]
pub struct RecordRefused {
    table: String,
    reason: String,
}

pub struct JdbcSink {
    name: String,
    cfg: JdbcSinkConfig,
    client: Client,
    offsets_table: String,
    tables: Tables,
    opts: RenderOptions,
    in_transaction: bool,
    /// Next offset per topic partition, of everything written in the open transaction.
    positions: BTreeMap<(String, i32), i64>,
    /// The transaction-consistent mode.
    transactions: Option<Transactions>,
}

impl JdbcSink {
    /// Connects and makes sure the positions table exists.
    pub async fn open(name: &str, cfg: JdbcSinkConfig) -> Result<Self, ConnectorError> {
        let client = crate::connection::connect_with_tls(
            &cfg.connection,
            &cfg.tls,
            cfg.connection_attempts,
            Duration::from_millis(cfg.connection_backoff_ms),
            "sluice-jdbc-sink",
        )
        .await?;
        let offsets_table = TableId::parse(&cfg.offsets_table)
            .ok_or_else(|| JdbcError::Config {
                key: "sluice.offsets.table",
                message: format!("{:?} is not a table name", cfg.offsets_table),
            })?
            .quoted();
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {offsets_table} (\
                   connector text NOT NULL, topic text NOT NULL, kafka_partition integer NOT NULL, \
                   next_offset bigint NOT NULL, PRIMARY KEY (connector, topic, kafka_partition))"
            ))
            .await
            .map_err(JdbcError::query(
                format!("table {offsets_table}"),
                "creating the positions table (sluice.offsets.table)",
            ))?;
        let opts = RenderOptions {
            db_timezone: cfg.db_timezone.clone(),
            legacy_calendar: cfg.legacy_calendar,
        };
        let transactions = match &cfg.transaction_topic {
            Some(topic) => {
                client
                    .batch_execute("SET session_replication_role = replica")
                    .await
                    .map_err(|e| JdbcError::Config {
                        key: "sluice.transaction.topic",
                        message: format!(
                            "the transaction-consistent mode applies changes with session_replication_role = replica, as PostgreSQL's logical replication does; the target refused it ({}): connect as a superuser, or GRANT SET ON PARAMETER session_replication_role TO the user",
                            reason(&e)
                        ),
                    })?;
                // The END position of the last transaction applied, kept beside the positions.
                let row = client
                    .query_opt(
                        &format!("SELECT next_offset FROM {offsets_table} WHERE connector = $1 AND topic = $2 AND kafka_partition = -1"),
                        &[&name, topic],
                    )
                    .await
                    .map_err(JdbcError::query(format!("table {offsets_table}"), "reading the last transaction applied"))?;
                let last_end = row.map(|r| r.get::<_, i64>(0) as u64);
                Some(Transactions::new(topic.clone(), last_end))
            }
            None => None,
        };
        Ok(JdbcSink {
            name: name.to_owned(),
            cfg,
            client,
            offsets_table,
            tables: Tables::default(),
            opts,
            in_transaction: false,
            positions: BTreeMap::new(),
            transactions,
        })
    }

    /// The consumer positions committed with the data: where this connector resumes.
    pub async fn stored_positions(&self) -> Result<Vec<SourceOffset>, ConnectorError> {
        let rows = self
            .client
            .query(
                &format!(
                    "SELECT topic, kafka_partition, next_offset FROM {} WHERE connector = $1 AND kafka_partition >= 0",
                    self.offsets_table
                ),
                &[&self.name],
            )
            .await
            .map_err(JdbcError::query(
                format!("table {}", self.offsets_table),
                "reading positions",
            ))?;
        Ok(rows
            .iter()
            .map(|r| SourceOffset::consumer(r.get(0), r.get(1), r.get(2)))
            .collect())
    }

    async fn begin(&mut self) -> Result<(), JdbcError> {
        if !self.in_transaction {
            self.client
                .batch_execute("BEGIN")
                .await
                .map_err(JdbcError::query("the target", "BEGIN"))?;
            self.in_transaction = true;
        }
        Ok(())
    }

    /// Applies changes in order, one statement per run of the same table and operation.
    async fn apply(&mut self, changes: &[(usize, Change)]) -> Result<(), Failure> {
        let mut start = 0;
        while start < changes.len() {
            let first = &changes[start].1;
            let mut end = start + 1;
            while end < changes.len()
                && end - start < self.cfg.batch_size
                && same_run(first, &changes[end].1)
            {
                end += 1;
            }
            self.apply_run(&changes[start..end]).await?;
            start = end;
        }
        Ok(())
    }

    async fn apply_run(&mut self, run: &[(usize, Change)]) -> Result<(), Failure> {
        let first = &run[0].1;
        let table = self
            .tables
            .ensure(&self.client, &self.cfg, first)
            .await
            .map_err(Failure::Task)?
            .clone();
        // Later changes of the same key win; a statement may touch a row only once.
        let run: Vec<&Change> = if first.key.is_empty() || first.op == Op::Truncate {
            run.iter().map(|(_, c)| c).collect()
        } else {
            let mut last: BTreeMap<Vec<Option<String>>, usize> = BTreeMap::new();
            for (i, (_, c)) in run.iter().enumerate() {
                let key = c
                    .key
                    .iter()
                    .map(|f| format!("{:?}", f.value))
                    .map(Some)
                    .collect();
                last.insert(key, i);
            }
            let mut keep: Vec<usize> = last.into_values().collect();
            keep.sort_unstable();
            keep.into_iter().map(|i| &run[i].1).collect()
        };
        let statement = statement(&self.cfg, &table, first)?;
        let mut arrays: Vec<Vec<Option<String>>> =
            vec![Vec::with_capacity(run.len()); statement.columns.len()];
        for c in &run {
            for (slot, name) in arrays.iter_mut().zip(&statement.columns) {
                let field = c.columns().find(|f| &f.name == name);
                let text = match field {
                    Some(f) => {
                        let col = table.column(&f.name, self.cfg.quote).ok_or_else(|| {
                            Failure::Data(format!("no column {} in {}", f.name, table.sql))
                        })?;
                        render::text(&f.schema, &f.value, &col.ty, &self.opts)
                            .map_err(|e| Failure::Data(format!("field {}: {e}", f.name)))?
                    }
                    None => None,
                };
                slot.push(text);
            }
        }
        let params: Vec<(&(dyn ToSql + Sync), Type)> = arrays
            .iter()
            .map(|a| (a as &(dyn ToSql + Sync), Type::TEXT_ARRAY))
            .collect();
        self.client
            .execute_typed(&statement.sql, &params)
            .await
            .map_err(|e| Failure::from_db(&table.sql, e))?;
        Ok(())
    }

    /// Replays changes one by one under savepoints after a statement failed for its data:
    /// the refused ones are returned, the rest stay written.
    async fn apply_one_by_one(
        &mut self,
        changes: &[(usize, Change)],
        rejected: &mut Vec<(usize, BoxError)>,
    ) -> Result<(), ConnectorError> {
        for one in changes.chunks(1) {
            self.savepoint("SAVEPOINT sluice_record").await?;
            match self.apply(one).await {
                Ok(()) => self.savepoint("RELEASE SAVEPOINT sluice_record").await?,
                Err(Failure::Data(reason)) => {
                    self.savepoint("ROLLBACK TO SAVEPOINT sluice_record")
                        .await?;
                    self.tables.forget();
                    rejected.push((
                        one[0].0,
                        Box::new(RecordRefused {
                            table: one[0].1.table.sql(self.cfg.quote),
                            reason,
                        }),
                    ));
                }
                Err(Failure::Task(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn savepoint(&self, sql: &str) -> Result<(), JdbcError> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(JdbcError::query("the target", "savepoint"))
    }

    fn lost(&mut self) {
        self.in_transaction = false;
        self.positions.clear();
        self.tables.forget();
    }
}

/// Why applying changes stopped.
enum Failure {
    /// The target refused the data (SQLSTATE class 22, 23, or a value Sluice cannot render):
    /// the records at fault go to the error policy.
    Data(String),
    /// Anything else stops the task (transient ones are retried by the worker).
    Task(JdbcError),
}

impl Failure {
    fn from_db(table: &str, e: tokio_postgres::Error) -> Failure {
        let data = e.code().is_some_and(|c| {
            let c = c.code();
            c.starts_with("22") || c.starts_with("23") || c == "42804" || c == "2200N"
        });
        if data {
            Failure::Data(reason(&e))
        } else {
            Failure::Task(JdbcError::Query {
                what: format!("table {table}"),
                context: "writing",
                transient: is_transient(&e),
                reason: reason(&e),
            })
        }
    }
}

fn same_run(a: &Change, b: &Change) -> bool {
    a.table == b.table
        && a.op == b.op
        && a.op != Op::Truncate
        && a.key.len() == b.key.len()
        && a.fields.len() == b.fields.len()
        && a.columns().zip(b.columns()).all(|(x, y)| x.name == y.name)
}

struct Statement {
    sql: String,
    /// Field names, in parameter order.
    columns: Vec<String>,
}

/// The one statement of a run: `INSERT ... SELECT FROM unnest(...) [ON CONFLICT ...]`,
/// `UPDATE ... FROM unnest(...)`, `DELETE ... USING unnest(...)`, or `TRUNCATE`.
fn statement(cfg: &JdbcSinkConfig, table: &Table, change: &Change) -> Result<Statement, Failure> {
    let q = cfg.quote;
    let ty = |name: &str| {
        table
            .column(name, q)
            .map(|c| c.ty.sql.clone())
            .ok_or_else(|| Failure::Data(format!("no column {name} in {}", table.sql)))
    };
    if change.op == Op::Truncate {
        return Ok(Statement {
            sql: format!("TRUNCATE {}", table.sql),
            columns: Vec::new(),
        });
    }
    let names: Vec<String> = match change.op {
        Op::Delete => change.key.iter().map(|f| f.name.clone()).collect(),
        _ => change.columns().map(|f| f.name.clone()).collect(),
    };
    let unnest = {
        let arrays: Vec<String> = (1..=names.len()).map(|i| format!("${i}::text[]")).collect();
        let aliases: Vec<String> = (1..=names.len()).map(|i| format!("p{i}")).collect();
        format!("unnest({}) AS u({})", arrays.join(", "), aliases.join(", "))
    };
    let cast = |i: usize, name: &str| -> Result<String, Failure> {
        Ok(format!("u.p{}::{}", i + 1, ty(name)?))
    };
    let key_match = |alias: &str| -> Result<String, Failure> {
        let mut parts = Vec::new();
        for (i, f) in change.key.iter().enumerate() {
            parts.push(format!(
                "{alias}.{} = {}",
                column(None, &f.name, q),
                cast(i, &f.name)?
            ));
        }
        Ok(parts.join(" AND "))
    };
    let sql = match (change.op, cfg.insert_mode) {
        (Op::Delete, _) => format!(
            "DELETE FROM {} AS t USING {unnest} WHERE {}",
            table.sql,
            key_match("t")?
        ),
        (_, InsertMode::Update) => {
            let mut sets = Vec::new();
            for (i, f) in change.fields.iter().enumerate() {
                sets.push(format!(
                    "{} = {}",
                    column(None, &f.name, q),
                    cast(change.key.len() + i, &f.name)?
                ));
            }
            if sets.is_empty() {
                return Ok(Statement {
                    sql: "SELECT 1 WHERE false".into(),
                    columns: Vec::new(),
                });
            }
            format!(
                "UPDATE {} AS t SET {} FROM {unnest} WHERE {}",
                table.sql,
                sets.join(", "),
                key_match("t")?
            )
        }
        (_, mode) => {
            let cols: Vec<String> = names.iter().map(|n| column(None, n, q)).collect();
            let mut values = Vec::new();
            for (i, n) in names.iter().enumerate() {
                values.push(cast(i, n)?);
            }
            let mut sql = format!(
                "INSERT INTO {} ({}) SELECT {} FROM {unnest}",
                table.sql,
                cols.join(", "),
                values.join(", ")
            );
            if mode == InsertMode::Upsert && !change.key.is_empty() {
                let keys: Vec<String> = change
                    .key
                    .iter()
                    .map(|f| column(None, &f.name, q))
                    .collect();
                let updates: Vec<String> = change
                    .fields
                    .iter()
                    .map(|f| {
                        let c = column(None, &f.name, q);
                        format!("{c} = EXCLUDED.{c}")
                    })
                    .collect();
                if updates.is_empty() {
                    sql.push_str(&format!(" ON CONFLICT ({}) DO NOTHING", keys.join(", ")));
                } else {
                    sql.push_str(&format!(
                        " ON CONFLICT ({}) DO UPDATE SET {}",
                        keys.join(", "),
                        updates.join(", ")
                    ));
                }
            }
            sql
        }
    };
    Ok(Statement {
        sql,
        columns: names,
    })
}

impl Sink for JdbcSink {
    fn retained(&self) -> Vec<SourceOffset> {
        let held = self.transactions.as_ref().map(|t| t.held_from());
        held.unwrap_or_default()
            .into_iter()
            .map(|((topic, partition), offset)| SourceOffset::consumer(&topic, partition, offset))
            .collect()
    }

    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        let mut written = Written::default();
        let mut changes = Vec::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            if let Some(c) = &r.consumed {
                let next = self
                    .positions
                    .entry((c.record.topic.clone(), c.partition))
                    .or_insert(0);
                *next = (*next).max(c.offset + 1);
            }
            match self.hold(r) {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    written.rejected.push((i, e.into()));
                    continue;
                }
            }
            match change::change(&self.cfg, r) {
                Ok(Some(c)) => changes.push((i, c)),
                Ok(None) => {}
                Err(e) => written.rejected.push((i, e.into())),
            }
        }
        let mut complete = Vec::new();
        while let Some(t) = self.transactions.as_mut().and_then(|t| t.next_complete()) {
            complete.push(t);
        }
        if changes.is_empty() && complete.is_empty() {
            return Ok(written);
        }
        let result = async {
            self.begin().await?;
            self.savepoint("SAVEPOINT sluice_batch").await?;
            match self.apply(&changes).await {
                Ok(()) => self.savepoint("RELEASE SAVEPOINT sluice_batch").await?,
                Err(Failure::Data(_)) => {
                    self.savepoint("ROLLBACK TO SAVEPOINT sluice_batch").await?;
                    self.tables.forget();
                    self.apply_one_by_one(&changes, &mut written.rejected)
                        .await?;
                }
                Err(Failure::Task(e)) => return Err(ConnectorError::from(e)),
            }
            for (changes, end_lsn) in complete {
                let changes: Vec<(usize, Change)> = changes.into_iter().map(|c| (0, c)).collect();
                match self.apply(&changes).await {
                    Ok(()) => {}
                    // Part of a transaction would break the mode's promise: the task stops.
                    Err(Failure::Data(reason)) => {
                        return Err(ConnectorError::permanent(format!(
                            "the source transaction ending at LSN {end_lsn} cannot be applied whole: {reason}"
                        )))
                    }
                    Err(Failure::Task(e)) => return Err(ConnectorError::from(e)),
                }
            }
            Ok::<_, ConnectorError>(())
        }
        .await;
        if let Err(e) = result {
            self.abandon().await;
            return Err(e);
        }
        written.rejected.sort_by_key(|(i, _)| *i);
        Ok(written)
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        if self.positions.is_empty() && !self.in_transaction {
            return Ok(());
        }
        let result = async {
            self.begin().await?;
            let (mut topics, mut partitions, mut offsets) = (Vec::new(), Vec::new(), Vec::new());
            let held = self
                .transactions
                .as_ref()
                .map(|t| t.held_from())
                .unwrap_or_default();
            for ((t, p), o) in &self.positions {
                topics.push(t.as_str());
                partitions.push(*p);
                offsets.push(held.get(&(t.clone(), *p)).map_or(*o, |h| (*h).min(*o)));
            }
            if let Some(Transactions {
                topic,
                last_end: Some(end),
                ..
            }) = &self.transactions
            {
                topics.push(topic.as_str());
                partitions.push(-1);
                offsets.push(*end as i64);
            }
            self.client
                .execute(
                    &format!(
                        "INSERT INTO {} (connector, topic, kafka_partition, next_offset) \
                         SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[]) \
                         ON CONFLICT (connector, topic, kafka_partition) \
                         DO UPDATE SET next_offset = EXCLUDED.next_offset",
                        self.offsets_table
                    ),
                    &[&self.name, &topics, &partitions, &offsets],
                )
                .await
                .map_err(JdbcError::query(
                    format!("table {}", self.offsets_table),
                    "writing positions",
                ))?;
            self.client
                .batch_execute("COMMIT")
                .await
                .map_err(JdbcError::query("the target", "COMMIT"))?;
            Ok::<_, JdbcError>(())
        }
        .await;
        self.in_transaction = false;
        self.positions.clear();
        if let Err(e) = result {
            self.abandon().await;
            return Err(e.into());
        }
        Ok(())
    }
}

impl JdbcSink {
    /// Transaction-consistent mode: holds `record` back if it belongs to a source transaction
    /// (`Ok(true)`: nothing more to do with it now); `Ok(false)` for a record outside any.
    fn hold(&mut self, record: &Record) -> Result<bool, String> {
        let Some(txns) = self.transactions.as_mut() else {
            return Ok(false);
        };
        let at = record
            .consumed
            .as_ref()
            .map(|c| (c.record.topic.clone(), c.partition, c.offset))
            .unwrap_or_else(|| (record.topic.clone(), 0, 0));
        match txns.kind(record)? {
            Kind::Begin => Ok(true),
            Kind::End {
                xid,
                end_lsn,
                count,
            } => {
                txns.end(xid, end_lsn, count, at)?;
                Ok(true)
            }
            Kind::Change { xid, order } => {
                // A change the sink cannot read still counts towards its transaction.
                let change = change::change(&self.cfg, record);
                let refused = change.as_ref().err().cloned();
                txns.hold(xid, order, at, change.unwrap_or(None));
                refused.map_or(Ok(true), Err)
            }
            // A tombstone follows its delete, which is in the transaction.
            Kind::Outside if record.value.is_none() => Ok(true),
            Kind::Outside => Ok(false),
        }
    }

    /// After an error the open transaction is gone (or must go): nothing of it is committed,
    /// and the positions it covered will be read again.
    async fn abandon(&mut self) {
        if self.in_transaction && !self.client.is_closed() {
            let _ = self.client.batch_execute("ROLLBACK").await;
        }
        self.lost();
    }
}
