//! Confluent's JDBC source task (`JdbcSourceTask` with its `TableQuerier`s) as a Sluice
//! source. One querier per table (or one for the query) runs its statement every
//! `poll.interval.ms`, the least recently run first; its rows come back in pages of
//! `batch.max.rows` through a portal, each page a batch for the driver, with the offset of
//! the newest row. An offset only ever says "every row up to here was emitted", so a restart
//! after any stop, even kill -9, resumes without skipping rows (rows after the last durable
//! offset may be read again: at-least-once, as Confluent).
//!
//! What it must never do: keep a transaction open once a query's rows are read (each query
//! runs in its own read transaction, committed at its last page), or advance a timestamp
//! offset past rows it has not emitted (see `take_page` for rows sharing a timestamp).

mod criteria;
mod offset;
mod schema;
mod tables;
mod values;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use sluice_config::jdbc_source::{JdbcSourceConfig, Mode, TableFilter};
use sluice_core::data::{Data, Schema, SchemaType, Value};
use sluice_core::error::ConnectorError;
use sluice_core::logical;
use sluice_core::metrics as m;
use sluice_core::pipeline::Source;
use sluice_core::record::{Record, SourceBatch, SourceOffset};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Client, Row, Statement};

use crate::error::JdbcError;
use crate::identifier::TableId;
use criteria::{Bound, Criteria};
use offset::{Instant, Offset};
use schema::Getter;
use values::ValueContext;

/// How long `poll` waits for rows before returning an empty batch.
const POLL_WAIT: Duration = Duration::from_millis(500);
/// Pages read ahead of the driver.
const PAGES_AHEAD: usize = 2;

/// What a querier reads: a table, or the configured query.
#[derive(Debug, Clone, PartialEq)]
enum Target {
    Table(TableId),
    Query(String),
}

/// Confluent's `TableQuerier`: one table's (or the query's) statement and offsets.
struct Querier {
    target: Target,
    partition: Json,
    topic: String,
    criteria: Criteria,
    /// The offset of the newest row handed to the driver.
    offset: Offset,
    /// When its last query ended (`None`: never ran, due at once).
    last_update: Option<tokio::time::Instant>,
    /// For the rows-read metric.
    label: String,
}

impl Querier {
    fn what(&self) -> String {
        match &self.target {
            Target::Table(t) => format!("table {t}"),
            Target::Query(_) => "query".to_owned(),
        }
    }

    fn table(&self) -> Option<&TableId> {
        match &self.target {
            Target::Table(t) => Some(t),
            Target::Query(_) => None,
        }
    }
}

/// A page of rows from the read task, or its end.
enum Page {
    Rows(Vec<Row>),
    End,
}

/// The query in progress: its task holds the connection (a transaction borrows it) and sends
/// pages; `poll` turns them into records.
struct Reading {
    querier: usize,
    rx: mpsc::Receiver<Result<Page, JdbcError>>,
    task: Option<JoinHandle<Client>>,
    schema: Arc<Schema>,
    /// Per field: the result column, its getter and type.
    getters: Vec<(usize, Getter, Type)>,
    /// Field indices of the timestamp columns (COALESCE order) and of the incrementing one.
    timestamp_fields: Vec<usize>,
    incrementing_field: Option<usize>,
    /// Timestamp mode: the newest row, held back until the next one shows whether its
    /// timestamp may be committed (Confluent's `TimestampTableQuerier`).
    pending: Option<(Record, Option<Instant>)>,
}

impl Drop for Reading {
    fn drop(&mut self) {
        // A stopped task must not go on reading a large table in the background.
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The JDBC source task.
pub struct JdbcSource {
    cfg: Arc<JdbcSourceConfig>,
    connector: String,
    client: Option<Client>,
    queriers: Vec<Querier>,
    reading: Option<Reading>,
    /// Offsets stored before the start and committed since, by partition.
    committed: Vec<SourceOffset>,
    next_table_scan: Option<tokio::time::Instant>,
    values: ValueContext,
}

impl JdbcSource {
    /// Connects, finds the tables (or checks the query), checks their columns, and reads the
    /// stored offset of every partition.
    pub async fn start(
        connector: &str,
        cfg: JdbcSourceConfig,
        stored: Vec<SourceOffset>,
    ) -> Result<Self, JdbcError> {
        let client = crate::connection::connect(
            &cfg.connection,
            cfg.connection_attempts,
            Duration::from_millis(cfg.connection_backoff_ms),
        )
        .await?;
        let values = ValueContext {
            zone_is_utc: cfg
                .db_timezone
                .to_fixed_offset()
                .is_ok_and(|o| o.seconds() == 0),
            zone: cfg.db_timezone.clone(),
            calendar: cfg.date_calendar,
        };
        let mut source = JdbcSource {
            cfg: Arc::new(cfg),
            connector: connector.to_owned(),
            client: Some(client),
            queriers: Vec::new(),
            reading: None,
            committed: stored,
            next_table_scan: None,
            values,
        };
        source.check_catalog_pattern().await?;
        match source.cfg.query.clone() {
            Some(q) => {
                source.check_query(&q).await?;
                let querier = source.querier(Target::Query(q)).await?;
                source.queriers.push(querier);
            }
            None => {
                source.scan_tables().await?;
                if source.queriers.is_empty() {
                    return Err(JdbcError::Config {
                        key: table_key(&source.cfg.tables),
                        message: format!("no table of database {:?} matches it (with table.types={} and schema.pattern={}): the task has no table nor a query to read. Tables are named <schema>.<table>, e.g. public.address.", source.cfg.connection.dbname, source.cfg.table_types.join(","), source.cfg.schema_pattern.as_deref().unwrap_or("(any)")),
                    });
                }
            }
        }
        tracing::info!(
            connector,
            tables = source.queriers.len(),
            mode = source.cfg.mode.name(),
            "JDBC source started"
        );
        Ok(source)
    }

    fn client(&self) -> Result<&Client, JdbcError> {
        self.client.as_ref().ok_or_else(no_connection)
    }

    /// PostgreSQL's catalog is the database. pgjdbc before 42.7.5 ignored `catalog.pattern`
    /// and configs written then (seed 001's `"catalog.pattern": "public"`) name a schema with
    /// it; newer drivers find no table at all for such a pattern. Sluice ignores a pattern
    /// naming another database, and says so.
    async fn check_catalog_pattern(&self) -> Result<(), JdbcError> {
        let Some(pattern) = &self.cfg.catalog_pattern else {
            return Ok(());
        };
        let db: String = self
            .client()?
            .query_one("SELECT current_database()::text", &[])
            .await
            .map_err(JdbcError::query("the database", "reading its name"))?
            .get(0);
        if pattern != &db {
            tracing::warn!(catalog_pattern = %pattern, database = %db, "catalog.pattern names no database here (in PostgreSQL the catalog is the database); it is ignored, as PostgreSQL JDBC drivers before 42.7.5 ignored it. To choose schemas, set schema.pattern");
        }
        Ok(())
    }

    /// The query must parse and its objects exist (Confluent's `validateQuerySemantics`).
    async fn check_query(&self, query: &str) -> Result<(), JdbcError> {
        let key = if self.cfg.query_masked {
            "query.masked"
        } else {
            "query"
        };
        match self.client()?.prepare(query).await {
            Ok(_) => Ok(()),
            Err(e) if e.as_db_error().is_some() => Err(JdbcError::Config {
                key,
                message: format!("The configured query is not valid and has database/connection errors. Please provide the correct query by validating the query syntax and the existing table/column names with the database being connected: {}", crate::error::reason(&e)),
            }),
            Err(e) => Err(JdbcError::query("query", "preparing it")(e)),
        }
    }

    /// Finds the tables (`TableMonitorThread`): new ones get a querier, dropped ones lose it.
    async fn scan_tables(&mut self) -> Result<(), JdbcError> {
        // Called between queries only: no querier is being read.
        let found = tables::discover(self.client()?, &self.cfg).await?;
        let connector = self.connector.clone();
        self.queriers.retain(|q| {
            let keep = matches!(&q.target, Target::Table(t) if found.contains(t));
            if !keep {
                tracing::info!(connector = %connector, table = %q.what(), "table no longer matches; stopped reading it");
            }
            keep
        });
        for table in found {
            if self
                .queriers
                .iter()
                .any(|q| q.target == Target::Table(table.clone()))
            {
                continue;
            }
            let querier = self.querier(Target::Table(table)).await?;
            tracing::info!(connector = %self.connector, table = %querier.what(), topic = %querier.topic, "reading table");
            self.queriers.push(querier);
        }
        self.next_table_scan = Some(
            tokio::time::Instant::now() + Duration::from_millis(self.cfg.table_poll_interval_ms),
        );
        Ok(())
    }

    /// A querier with its columns checked and its offset: the stored one (protocol V1, then
    /// V0), else `timestamp.initial`, else from the beginning.
    async fn querier(&self, target: Target) -> Result<Querier, JdbcError> {
        let cfg = &self.cfg;
        let (partition, topic, read_from, criteria) = match &target {
            Target::Table(t) => {
                let criteria = self.table_criteria(t).await?;
                (
                    offset::table_partition(t),
                    format!("{}{}", cfg.topic_prefix, t.table),
                    offset::table_partitions_to_read(t).to_vec(),
                    criteria,
                )
            }
            Target::Query(_) => (
                offset::query_partition(),
                cfg.topic_prefix.clone(),
                vec![offset::query_partition()],
                Criteria {
                    incrementing: cfg
                        .mode
                        .uses_incrementing()
                        .then(|| cfg.incrementing_column.clone()),
                    timestamps: if cfg.mode.uses_timestamp() {
                        cfg.timestamp_columns.clone()
                    } else {
                        Vec::new()
                    },
                },
            ),
        };
        let stored = read_from.iter().find_map(|p| {
            self.committed
                .iter()
                .find(|o| &o.partition == p)
                .map(|o| Offset::from_json(&o.offset))
        });
        let offset = match stored {
            Some(o) => o,
            None => match cfg.timestamp_initial {
                Some(-1) => {
                    let now: std::time::SystemTime = self
                        .client()?
                        .query_one("SELECT CURRENT_TIMESTAMP", &[])
                        .await
                        .map_err(JdbcError::query("the database", "reading its current time"))?
                        .get(0);
                    Offset {
                        timestamp: Some(instant_of(now)),
                        incrementing: None,
                    }
                }
                Some(ms) => Offset {
                    timestamp: Some(Instant::from_millis(ms)),
                    incrementing: None,
                },
                None => Offset::default(),
            },
        };
        let label = match &target {
            Target::Table(t) => t.unquoted(),
            Target::Query(_) => "query".to_owned(),
        };
        Ok(Querier {
            target,
            partition,
            topic,
            criteria,
            offset,
            last_update: None,
            label,
        })
    }

    /// A table's criteria columns, checked as `JdbcSourceTask` checks them: they exist, and
    /// with `validate.non.null` the incrementing column and at least one timestamp column are
    /// NOT NULL. An empty incrementing column means the table's auto-incrementing one.
    async fn table_criteria(&self, table: &TableId) -> Result<Criteria, JdbcError> {
        let cfg = &self.cfg;
        let mode = cfg.mode;
        let name = table.unquoted();
        let mut incrementing = cfg.incrementing_column_for(&name);
        let timestamps = cfg.timestamp_columns_for(&name);
        if mode == Mode::Bulk {
            return Ok(Criteria {
                incrementing: None,
                timestamps: Vec::new(),
            });
        }
        let columns = tables::table_columns(self.client()?, table).await?;
        let find = |c: &str| columns.iter().find(|col| col.name.eq_ignore_ascii_case(c));
        if mode.uses_incrementing() {
            if incrementing.is_empty() {
                incrementing = columns
                    .iter()
                    .find(|c| c.auto_increment)
                    .map(|c| c.name.clone())
                    .ok_or_else(|| JdbcError::Config {
                        key: "incrementing.column.name",
                        message: format!("table '{name}' has no auto-incrementing column to use; name its strictly incrementing column in incrementing.column.name"),
                    })?;
            } else if find(&incrementing).is_none() {
                return Err(JdbcError::Config {
                    key: "incrementing.column.name",
                    message: format!(
                        "Incrementing column: {incrementing} does not exist in table '{name}'"
                    ),
                });
            }
        }
        if mode.uses_timestamp() {
            let missing: Vec<&str> = timestamps
                .iter()
                .filter(|c| find(c).is_none())
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(JdbcError::Config {
                    key: "timestamp.column.name",
                    message: format!(
                        "Timestamp columns: {} do not exist in table '{name}'",
                        missing.join(", ")
                    ),
                });
            }
        }
        if cfg.validate_non_null {
            if mode.uses_incrementing() && !find(&incrementing).is_some_and(|c| c.not_null) {
                return Err(JdbcError::Config {
                    key: "validate.non.null",
                    message: format!("Cannot make incremental queries using incrementing column {incrementing} on {name} because this column is nullable."),
                });
            }
            if mode.uses_timestamp()
                && !timestamps
                    .iter()
                    .any(|c| find(c).is_some_and(|c| c.not_null))
            {
                return Err(JdbcError::Config {
                    key: "validate.non.null",
                    message: format!("Cannot make incremental queries using timestamp columns {} on {name} because all of these columns are nullable.", timestamps.join(",")),
                });
            }
        }
        Ok(Criteria {
            incrementing: mode.uses_incrementing().then_some(incrementing),
            timestamps: if mode.uses_timestamp() {
                timestamps
            } else {
                Vec::new()
            },
        })
    }

    /// The querier due first (least recently run), and when it is due.
    fn next_due(&self, now: tokio::time::Instant) -> Option<(usize, tokio::time::Instant)> {
        let interval = Duration::from_millis(self.cfg.poll_interval_ms);
        self.queriers
            .iter()
            .enumerate()
            .map(|(i, q)| (i, q.last_update.map_or(now, |t| t + interval)))
            .min_by_key(|(_, due)| *due)
    }

    /// Prepares the querier's statement, describes its result and starts the read task.
    async fn start_reading(&mut self, i: usize) -> Result<(), JdbcError> {
        let cfg = self.cfg.clone();
        let q = &self.queriers[i];
        let what = q.what();
        let sql = criteria::statement(
            q.table(),
            match &q.target {
                Target::Query(s) => Some(s.as_str()),
                Target::Table(_) => None,
            },
            &q.criteria,
            cfg.quote,
            cfg.query_suffix.trim(),
        );
        if !cfg.query_masked {
            tracing::debug!(connector = %self.connector, sql = %sql, "running");
        }
        let client = self.client()?;
        let stmt = client
            .prepare(&sql)
            .await
            .map_err(JdbcError::query(what.clone(), "preparing its statement"))?;
        let columns = tables::result_columns(client, &stmt, &what).await?;
        let name = q.table().map(|t| t.table.as_str());
        let (schema, fields) = schema::record_schema(
            name,
            &columns,
            cfg.numeric_mapping,
            cfg.timestamp_granularity,
        )
        .map_err(|reason| JdbcError::Value {
            what: what.clone(),
            column: String::new(),
            reason,
        })?;
        let getters: Vec<(usize, Getter, Type)> = fields
            .into_iter()
            .map(|(col, g)| (col, g, columns[col].pg_type.clone()))
            .collect();
        let timestamp_fields = q
            .criteria
            .timestamps
            .iter()
            .map(|c| timestamp_field(&schema, &getters, c, &what))
            .collect::<Result<Vec<_>, _>>()?;
        let incrementing_field = match &q.criteria.incrementing {
            Some(c) => Some(schema.field_index(c).ok_or_else(|| JdbcError::Value {
                what: what.clone(),
                column: c.clone(),
                reason: format!(
                    "Incrementing column {c} not found in {}",
                    field_names(&schema)
                ),
            })?),
            None => None,
        };
        let begin = q.offset.timestamp_or_epoch();
        let last = q.offset.incrementing_or_start();
        let client = self.client.take().ok_or_else(no_connection)?;
        let (tx, rx) = mpsc::channel(PAGES_AHEAD);
        let read = ReadTask {
            stmt,
            criteria: q.criteria.clone(),
            begin,
            last,
            delay: Duration::from_millis(cfg.timestamp_delay_ms),
            zone: cfg.db_timezone.clone(),
            isolation: cfg.isolation,
            batch: cfg.batch_max_rows,
            what,
        };
        let task = tokio::spawn(read.run(client, tx));
        self.reading = Some(Reading {
            querier: i,
            rx,
            task: Some(task),
            schema,
            getters,
            timestamp_fields,
            incrementing_field,
            pending: None,
        });
        Ok(())
    }

    /// Turns a page into records with their offsets.
    fn take_page(&mut self, rows: Vec<Row>) -> Result<SourceBatch, JdbcError> {
        let Some(r) = self.reading.as_mut() else {
            return Ok(SourceBatch::default());
        };
        let q = &mut self.queriers[r.querier];
        let mode = self.cfg.mode;
        let now = now_ms();
        let mut records = Vec::with_capacity(rows.len() + 1);
        let n = rows.len();
        for row in rows {
            let (values, instants) = read_row(&row, &r.getters, &self.values, q)?;
            let timestamp = r.timestamp_fields.iter().find_map(|&f| instants[f]);
            let record = Record::new(
                q.topic.clone(),
                None,
                Some(Data::new(r.schema.clone(), Value::Struct(values))),
                now,
            );
            match mode {
                Mode::Bulk => records.push(record),
                Mode::Timestamp => {
                    if let Some((prev, prev_ts)) = r.pending.take() {
                        // The held-back row's timestamp may be committed once a row with a
                        // later one follows: rows sharing a timestamp are all read by then.
                        if prev_ts.is_none() || timestamp.is_none() || prev_ts < timestamp {
                            q.offset = Offset {
                                timestamp: prev_ts,
                                incrementing: None,
                            };
                        }
                        records.push(prev);
                    }
                    r.pending = Some((record, timestamp));
                }
                Mode::Incrementing | Mode::TimestampIncrementing => {
                    let id = incrementing_value(
                        &r.schema,
                        values_of(&record),
                        r.incrementing_field,
                        &q.what(),
                    )?;
                    q.offset = Offset {
                        timestamp: if mode == Mode::TimestampIncrementing {
                            timestamp
                        } else {
                            None
                        },
                        incrementing: Some(id),
                    };
                    records.push(record);
                }
            }
        }
        metrics::counter!(m::JDBC_ROWS_READ, "connector" => self.connector.clone(), "table" => q.label.clone())
            .increment(n as u64);
        let offsets = if mode == Mode::Bulk || records.is_empty() {
            Vec::new()
        } else {
            vec![offset::source_offset(&q.partition, q.offset)]
        };
        Ok(SourceBatch {
            records,
            offsets,
            ..SourceBatch::default()
        })
    }

    /// The query ended: the held-back row goes out with its own timestamp, the connection
    /// comes back, the querier waits for its next turn.
    async fn finish_reading(&mut self) -> Result<SourceBatch, JdbcError> {
        let Some(mut r) = self.reading.take() else {
            return Ok(SourceBatch::default());
        };
        if let Some(task) = r.task.take() {
            match task.await {
                Ok(client) => self.client = Some(client),
                Err(e) => {
                    return Err(JdbcError::Query {
                        what: self.queriers[r.querier].what(),
                        context: "reading its rows",
                        reason: format!("the read task ended: {e}"),
                        transient: true,
                    })
                }
            }
        }
        let q = &mut self.queriers[r.querier];
        q.last_update = Some(tokio::time::Instant::now());
        let mut batch = SourceBatch {
            caught_up: true,
            ..SourceBatch::default()
        };
        if let Some((record, ts)) = r.pending.take() {
            if ts.is_some() {
                q.offset = Offset {
                    timestamp: ts,
                    incrementing: None,
                };
            }
            batch.records.push(record);
            batch
                .offsets
                .push(offset::source_offset(&q.partition, q.offset));
        }
        Ok(batch)
    }

    async fn poll_once(&mut self) -> Result<SourceBatch, JdbcError> {
        if let Some(r) = self.reading.as_mut() {
            let page = match tokio::time::timeout(POLL_WAIT, r.rx.recv()).await {
                Err(_) => return Ok(SourceBatch::default()),
                Ok(page) => page,
            };
            return match page {
                Some(Ok(Page::Rows(rows))) => self.take_page(rows),
                Some(Ok(Page::End)) => self.finish_reading().await,
                Some(Err(e)) => {
                    self.reading = None;
                    Err(e)
                }
                None => {
                    let what = self.queriers[r.querier].what();
                    self.reading = None;
                    Err(JdbcError::Query {
                        what,
                        context: "reading its rows",
                        reason: "the read task stopped".into(),
                        transient: true,
                    })
                }
            };
        }
        let now = tokio::time::Instant::now();
        if self.cfg.query.is_none() && self.next_table_scan.is_some_and(|t| t <= now) {
            self.scan_tables().await?;
        }
        let Some((i, due)) = self.next_due(now) else {
            tokio::time::sleep(POLL_WAIT).await;
            return Ok(SourceBatch::default());
        };
        if due > now {
            let mut wake = due.min(now + POLL_WAIT);
            if let Some(scan) = self.next_table_scan {
                wake = wake.min(scan.max(now));
            }
            tokio::time::sleep_until(wake).await;
            return Ok(SourceBatch::default());
        }
        self.start_reading(i).await?;
        Ok(SourceBatch::default())
    }
}

impl Source for JdbcSource {
    async fn poll(&mut self) -> Result<SourceBatch, ConnectorError> {
        self.poll_once().await.map_err(ConnectorError::from)
    }

    async fn commit(&mut self, offsets: &[SourceOffset]) -> Result<(), ConnectorError> {
        sluice_core::record::merge_offsets(&mut self.committed, offsets.iter().cloned());
        Ok(())
    }
}

/// The read task: one read transaction, the database's current time for the criteria, the
/// statement through a portal, `batch.max.rows` rows a page.
struct ReadTask {
    stmt: Statement,
    criteria: Criteria,
    begin: Instant,
    last: i64,
    delay: Duration,
    zone: jiff::tz::TimeZone,
    isolation: sluice_config::jdbc_source::Isolation,
    batch: usize,
    what: String,
}

impl ReadTask {
    async fn run(self, mut client: Client, tx: mpsc::Sender<Result<Page, JdbcError>>) -> Client {
        if let Err(e) = self.read(&mut client, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
        client
    }

    async fn read(
        &self,
        client: &mut Client,
        tx: &mpsc::Sender<Result<Page, JdbcError>>,
    ) -> Result<(), JdbcError> {
        use sluice_config::jdbc_source::Isolation as I;
        use tokio_postgres::IsolationLevel as L;
        let err = |context| JdbcError::query(self.what.clone(), context);
        let mut builder = client.build_transaction().read_only(true);
        builder = match self.isolation {
            I::Default => builder,
            I::ReadUncommitted => builder.isolation_level(L::ReadUncommitted),
            I::ReadCommitted => builder.isolation_level(L::ReadCommitted),
            I::RepeatableRead => builder.isolation_level(L::RepeatableRead),
            I::Serializable => builder.isolation_level(L::Serializable),
        };
        let txn = builder
            .start()
            .await
            .map_err(err("starting its read transaction"))?;
        let end = if self.criteria.timestamps.is_empty() {
            Instant::EPOCH
        } else {
            // As Confluent: the database's clock, less timestamp.delay.interval.ms, read in
            // the transaction the query runs in.
            let now: std::time::SystemTime = txn
                .query_one("SELECT CURRENT_TIMESTAMP", &[])
                .await
                .map_err(err("reading the database's current time"))?
                .get(0);
            let now = instant_of(now);
            Instant {
                nanos: now.nanos - self.delay.as_nanos() as i128,
            }
        };
        let params = self.criteria.params(self.begin, end, self.last);
        let bound: Vec<Bound<'_>> = params
            .iter()
            .map(|p| Bound {
                param: p,
                zone: &self.zone,
            })
            .collect();
        let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = bound
            .iter()
            .map(|b| b as &(dyn tokio_postgres::types::ToSql + Sync))
            .collect();
        let portal = txn
            .bind(&self.stmt, &refs)
            .await
            .map_err(err("running its statement"))?;
        loop {
            let rows = txn
                .query_portal(&portal, self.batch as i32)
                .await
                .map_err(err("reading its rows"))?;
            let done = rows.len() < self.batch;
            if !rows.is_empty() && tx.send(Ok(Page::Rows(rows))).await.is_err() {
                return Ok(());
            }
            if done {
                break;
            }
        }
        txn.commit()
            .await
            .map_err(err("ending its read transaction"))?;
        let _ = tx.send(Ok(Page::End)).await;
        Ok(())
    }
}

/// A column's raw bytes in the binary format, whatever its type.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

type RowValues = (Vec<Value>, Vec<Option<Instant>>);

fn read_row(
    row: &Row,
    getters: &[(usize, Getter, Type)],
    ctx: &ValueContext,
    q: &Querier,
) -> Result<RowValues, JdbcError> {
    let mut values = Vec::with_capacity(getters.len());
    let mut instants = Vec::with_capacity(getters.len());
    for (col, getter, ty) in getters {
        let raw: Option<Raw<'_>> = row.try_get(*col).map_err(|e| JdbcError::Value {
            what: q.what(),
            column: row.columns()[*col].name().to_owned(),
            reason: e.to_string(),
        })?;
        match raw {
            None => {
                values.push(Value::Null);
                instants.push(None);
            }
            Some(Raw(bytes)) => {
                let (v, i) =
                    values::read(*getter, ty, bytes, ctx).map_err(|reason| JdbcError::Value {
                        what: q.what(),
                        column: row.columns()[*col].name().to_owned(),
                        reason,
                    })?;
                values.push(v);
                instants.push(i);
            }
        }
    }
    Ok((values, instants))
}

fn values_of(record: &Record) -> &[Value] {
    match record.value.as_ref().map(|d| &d.value) {
        Some(Value::Struct(v)) => v,
        _ => &[],
    }
}

/// `extractOffsetIncrementedId`: an integer, or a Decimal of scale 0 within a long.
fn incrementing_value(
    schema: &Schema,
    values: &[Value],
    field: Option<usize>,
    what: &str,
) -> Result<i64, JdbcError> {
    let Some(f) = field else {
        return Err(JdbcError::Value {
            what: what.to_owned(),
            column: String::new(),
            reason: "no incrementing column".into(),
        });
    };
    let fs = &schema.fields[f].schema;
    let bad = |reason: String| JdbcError::Value {
        what: what.to_owned(),
        column: schema.fields[f].name.clone(),
        reason,
    };
    match (&values[f], fs.ty) {
        (Value::Null, ty) => Err(bad(format!(
            "Null value for incrementing column of type: {}",
            ty.json_name().to_ascii_uppercase()
        ))),
        (Value::Int(i), _) => Ok(*i),
        (Value::Bytes(b), SchemaType::Bytes) if fs.name.as_deref() == Some(logical::DECIMAL) => {
            let scale = logical::decimal_scale(fs).unwrap_or(0);
            if scale != 0 {
                return Err(bad(
                    "Scale of Decimal value for incrementing column must be 0".into(),
                ));
            }
            logical::Decimal::from_unscaled_bytes(b, 0)
                .to_plain_string()
                .parse()
                .map_err(|_| {
                    bad("Decimal value for incrementing column exceeded Long.MAX_VALUE".into())
                })
        }
        (_, ty) => Err(bad(format!(
            "Invalid type for incrementing column: {}",
            ty.json_name().to_ascii_uppercase()
        ))),
    }
}

/// `findCaseSensitiveTimestampColumns`: the field named exactly, else the one field whose
/// name matches ignoring case; it must hold timestamps.
fn timestamp_field(
    schema: &Schema,
    getters: &[(usize, Getter, Type)],
    column: &str,
    what: &str,
) -> Result<usize, JdbcError> {
    let err = |reason: String| JdbcError::Value {
        what: what.to_owned(),
        column: column.to_owned(),
        reason,
    };
    let index = match schema.field_index(column) {
        Some(i) => i,
        None => {
            let matches: Vec<usize> = schema
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.name.eq_ignore_ascii_case(column))
                .map(|(i, _)| i)
                .collect();
            match matches.as_slice() {
                [i] => *i,
                [] => {
                    return Err(err(format!(
                        "Timestamp column {column} not found in {}",
                        field_names(schema)
                    )))
                }
                _ => return Err(err(format!("Timestamp column {column} not found in columns read from database: {}. Could not fall back to case-insensitively selecting a column because there were multiple columns whose names case-insensitively matched the specified name", field_names(schema)))),
            }
        }
    };
    match getters[index].1 {
        Getter::Timestamp(_) => Ok(index),
        _ => Err(err(format!(
            "is of type {}, not a timestamp: the timestamp column must be a timestamp or timestamptz",
            getters[index].2.name()
        ))),
    }
}

fn field_names(schema: &Schema) -> String {
    schema
        .fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The connection is with the read task (a query's error lost it): the task starts over.
fn no_connection() -> JdbcError {
    JdbcError::Query {
        what: "connection".into(),
        context: "no connection",
        reason: "the connection was lost with a failed query".into(),
        transient: true,
    }
}

fn table_key(filter: &TableFilter) -> &'static str {
    match filter {
        TableFilter::Whitelist(_) | TableFilter::All => "table.whitelist",
        TableFilter::Blacklist(_) => "table.blacklist",
        TableFilter::Regex { .. } => "table.include.list",
    }
}

fn instant_of(t: std::time::SystemTime) -> Instant {
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Instant {
            nanos: d.as_nanos() as i128,
        },
        Err(e) => Instant {
            nanos: -(e.duration().as_nanos() as i128),
        },
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
