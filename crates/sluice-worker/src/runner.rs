//! One connector task from config to its end: build its source, transforms and sink, read
//! the stored offsets, drive the pipeline until told to stop, then flush and close. A source
//! connector writes to the worker's topic store (local topics or Kafka); a sink connector
//! reads from it. The stores and sinks are enums, so one `match` shows every one Sluice knows.

use std::path::PathBuf;
use std::sync::Arc;

use sluice_config::{ConnectorConfig, ConnectorSettings};
use sluice_core::error::ConnectorError;
use sluice_core::json::Converter;
use sluice_core::offsets::OffsetStore;
use sluice_core::pipeline::{self, OffsetBackend, PipelineOptions, Source, TaskControl, TaskStats};
use sluice_core::record::{EncodedBatch, Json, Record, SourceOffset, Written};
use sluice_core::sink::{Durable, Sink, Tee};
use sluice_core::tolerance::Tolerance;
use sluice_core::topics::{LocalTopicSink, LocalTopicSource, LocalTopics, TopicSelection};
use sluice_jdbc::{JdbcSink, JdbcSource};
use sluice_kafka::{
    GroupConsumer, GroupOffsets, KafkaConnection, KafkaOffsetStore, KafkaTopicSink,
    KafkaTopicSource, Role, TopicDefaults,
};
use sluice_postgres::PostgresSource;
use sluice_s3::S3Sink;
use tokio::sync::watch;

use crate::file_sink::FileSink;

/// Where a worker's records live: local topics in the data dir, or Kafka.
#[derive(Debug, Clone)]
pub enum TopicStore {
    Local {
        data_dir: PathBuf,
    },
    Kafka {
        conn: KafkaConnection,
        defaults: TopicDefaults,
    },
}

impl TopicStore {
    /// A writer of topics with these converters (a source connector's records, or a dead
    /// letter queue's bytes: `role` says which Kafka client settings apply).
    pub fn sink(
        &self,
        role: Role,
        key: Converter,
        value: Converter,
        defaults: Option<TopicDefaults>,
    ) -> Result<TopicSink, ConnectorError> {
        Ok(match self {
            TopicStore::Local { data_dir } => TopicSink::Local(LocalTopicSink {
                topics: LocalTopics::open(data_dir)?,
                key,
                value,
            }),
            TopicStore::Kafka {
                conn,
                defaults: worker,
            } => TopicSink::Kafka(KafkaTopicSink::new(
                conn,
                role,
                defaults.unwrap_or(*worker),
                key,
                value,
            )?),
        })
    }

    /// `kafka://<bootstrap>` or `file://<data dir>`.
    pub fn url(&self) -> String {
        match self {
            TopicStore::Kafka { conn, .. } => format!("kafka://{}", conn.bootstrap),
            TopicStore::Local { data_dir } => {
                let abs = std::fs::canonicalize(data_dir).unwrap_or_else(|_| data_dir.clone());
                format!("file://{}", abs.display())
            }
        }
    }
}

pub enum TopicSink {
    Local(LocalTopicSink),
    Kafka(KafkaTopicSink),
}

impl Sink for TopicSink {
    async fn write(&mut self, records: &[Record]) -> Result<Written, ConnectorError> {
        match self {
            TopicSink::Local(s) => s.write(records).await,
            TopicSink::Kafka(s) => s.write(records).await,
        }
    }

    async fn write_encoded(&mut self, batch: &EncodedBatch) -> Result<Written, ConnectorError> {
        match self {
            TopicSink::Local(s) => s.write_encoded(batch).await,
            TopicSink::Kafka(s) => s.write_encoded(batch).await,
        }
    }

    async fn flush(&mut self) -> Result<(), ConnectorError> {
        match self {
            TopicSink::Local(s) => s.flush().await,
            TopicSink::Kafka(s) => s.flush().await,
        }
    }

    fn problem(&self) -> Option<String> {
        match self {
            TopicSink::Local(_) => None,
            TopicSink::Kafka(s) => s.problem(),
        }
    }

    async fn start_flush(&mut self) -> Result<Durable, ConnectorError> {
        match self {
            TopicSink::Local(s) => s.start_flush().await,
            TopicSink::Kafka(s) => s.start_flush().await,
        }
    }
}

/// Where offsets are kept: source offsets in a file store beside local topics or in
/// Connect's offsets topic beside Kafka topics; a sink connector's positions in the file store
/// (local topics) or its consumer group (Kafka).
pub enum Offsets {
    File(OffsetStore),
    Kafka(KafkaOffsetStore),
    Group(GroupOffsets),
}

impl OffsetBackend for Offsets {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, ConnectorError> {
        match self {
            Offsets::File(o) => OffsetBackend::get(o, connector, partition).await,
            Offsets::Kafka(o) => o.get(connector, partition).await,
            Offsets::Group(o) => o.get(connector, partition).await,
        }
    }

    async fn commit(
        &self,
        connector: &str,
        offsets: &[SourceOffset],
    ) -> Result<(), ConnectorError> {
        match self {
            Offsets::File(o) => OffsetBackend::commit(o, connector, offsets).await,
            Offsets::Kafka(o) => o.commit(connector, offsets).await,
            Offsets::Group(o) => o.commit(connector, offsets).await,
        }
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, ConnectorError> {
        match self {
            Offsets::File(o) => OffsetBackend::list(o, connector).await,
            Offsets::Kafka(o) => o.list(connector).await,
            Offsets::Group(o) => o.list(connector).await,
        }
    }

    async fn clear(&self, connector: &str) -> Result<(), ConnectorError> {
        match self {
            Offsets::File(o) => OffsetBackend::clear(o, connector).await,
            Offsets::Kafka(o) => o.clear(connector).await,
            Offsets::Group(o) => o.clear(connector).await,
        }
    }
}

/// Everything one task run needs besides its config.
#[derive(Clone)]
pub struct TaskContext {
    pub topics: TopicStore,
    /// The worker's offset store (source offsets; sink positions on local topics).
    pub offsets: Arc<Offsets>,
    pub stats: Arc<TaskStats>,
    pub stdout: bool,
    pub flush_interval: std::time::Duration,
}

/// What the worker watches for a connector whatever its task does: for a Postgres source,
/// its replication slot (a paused, stopped or failed connector's slot still holds WAL).
pub enum Watch {
    Slot(sluice_postgres::slot::SlotWatch),
}

impl Watch {
    pub fn start(
        settings: &ConnectorSettings,
        state: Arc<dyn Fn() -> &'static str + Send + Sync>,
    ) -> Option<Watch> {
        match &settings.connector {
            ConnectorConfig::Postgres(cfg) => Some(Watch::Slot(sluice_postgres::slot::watch_slot(
                Arc::new((**cfg).clone()),
                state,
            ))),
            // A query-based source holds nothing on the server between polls.
            ConnectorConfig::JdbcSource(_)
            | ConnectorConfig::FileSink(_)
            | ConnectorConfig::S3Sink(_)
            | ConnectorConfig::JdbcSink(_) => None,
        }
    }

    /// Warnings for the connector's status.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Watch::Slot(w) => w
                .health
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .warnings
                .clone(),
        }
    }

    /// WAL the watched slot keeps on the server, once sampled and while the slot exists.
    pub fn retained_wal_bytes(&self) -> Option<u64> {
        match self {
            Watch::Slot(w) => {
                let h = w.health.lock().unwrap_or_else(|e| e.into_inner());
                h.exists.then_some(h.retained_wal_bytes)
            }
        }
    }

    /// What the status shows of the watched resource.
    pub fn status(&self) -> (&'static str, Json) {
        match self {
            Watch::Slot(w) => {
                let h = w.health.lock().unwrap_or_else(|e| e.into_inner()).clone();
                (
                    "slot",
                    serde_json::json!({
                        "exists": h.exists,
                        "active": h.active,
                        "retained_wal_bytes": h.retained_wal_bytes,
                        "confirmed_flush_lag_bytes": h.confirmed_flush_lag_bytes,
                        "wal_status": h.wal_status,
                        "error": h.error,
                    }),
                )
            }
        }
    }
}

/// What deleting a connector removes outside Sluice: a Postgres source's slot and the
/// publication Sluice created for it (unless `slot.drop.on.delete=false`, or another of
/// `others` uses the publication). Returns a sentence saying what was done.
pub async fn clean_up_on_delete(
    settings: &ConnectorSettings,
    others: &[ConnectorSettings],
) -> Option<String> {
    let ConnectorConfig::Postgres(cfg) = &settings.connector else {
        return None;
    };
    if !cfg.slot_drop_on_delete {
        return Some(format!(
            "kept replication slot {} and publication {} (slot.drop.on.delete=false)",
            cfg.slot_name, cfg.publication_name
        ));
    }
    let shared = others.iter().any(|o| match &o.connector {
        ConnectorConfig::Postgres(c) => {
            c.publication_name == cfg.publication_name
                && c.hostname == cfg.hostname
                && c.port == cfg.port
                && c.dbname == cfg.dbname
        }
        _ => false,
    });
    Some(match sluice_postgres::slot::drop_on_delete(cfg, shared).await {
        Ok(dropped) if dropped.is_empty() => "nothing to drop in the database".to_owned(),
        Ok(dropped) => format!("dropped {}", dropped.join(" and ")),
        Err(e) => format!(
            "could not drop replication slot {}: {e}; drop it by hand (SELECT pg_drop_replication_slot('{}')) or it keeps WAL on the server",
            cfg.slot_name, cfg.slot_name
        ),
    })
}

/// Records a sink connector's topic reader takes per poll.
const SINK_BATCH: usize = 2048;

/// The offset backend of a connector: the worker's, or for a sink connector on Kafka its
/// consumer group (also used by the REST offsets API while it is stopped).
pub fn sink_group_offsets(
    topics: &TopicStore,
    connector: &str,
    selection: &TopicSelection,
) -> Result<Option<GroupOffsets>, ConnectorError> {
    match topics {
        TopicStore::Kafka { conn, .. } => Ok(Some(GroupOffsets {
            group: GroupConsumer::new(conn, connector)?,
            selection: selection.clone(),
        })),
        TopicStore::Local { .. } => Ok(None),
    }
}

/// Runs a connector's task until `control` says Stop or it fails.
pub async fn run_task(
    name: &str,
    settings: &ConnectorSettings,
    ctx: TaskContext,
    control: watch::Receiver<TaskControl>,
) -> Result<(), ConnectorError> {
    let common = &settings.common;
    let (chain, _) = sluice_transforms::build_chain(common).map_err(|issues| {
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        ConnectorError::permanent(text.join("; "))
    })?;
    let opts = PipelineOptions {
        connector: name.to_owned(),
        stats: ctx.stats.clone(),
        flush_interval: ctx.flush_interval,
        transforms: Arc::new(chain),
        errors: common.errors.clone(),
        sink_class: settings.class.class.to_owned(),
    };
    let converters = (common.key_converter, common.value_converter);
    let stdout = ctx.stdout.then_some(converters);
    let defaults = common.topic_creation.map(|t| TopicDefaults {
        partitions: t.partitions,
        replication_factor: t.replication_factor,
    });
    match &settings.connector {
        ConnectorConfig::Postgres(cfg) => {
            let partition = sluice_postgres::source::source_partition(cfg);
            let stored = ctx.offsets.get(name, &partition).await?;
            let mut source = PostgresSource::start((**cfg).clone(), stored).await?;
            source.report_to(ctx.stats.clone());
            // Nothing between the source and the topic needs Connect values: the snapshot may
            // write its JSON straight from COPY text.
            source.encode_json(
                opts.transforms.is_empty()
                    && converters.0.writes_json()
                    && converters.1.writes_json(),
            );
            let sink = ctx
                .topics
                .sink(Role::Producer, converters.0, converters.1, defaults)?;
            let driven = drive(
                opts,
                &mut source,
                sink,
                None,
                ctx.offsets.clone(),
                control,
                stdout,
            )
            .await;
            // A snapshot cut short by the end of its task is no longer running.
            ctx.stats
                .snapshot
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .finish();
            driven?;
            source.stop().await?;
            Ok(())
        }
        ConnectorConfig::S3Sink(cfg) => {
            // Null values go to the error policy only where it tolerates them (Connect's
            // errant record reporter exists only then).
            let report_nulls = cfg.report_null_values && common.errors.tolerance == Tolerance::All;
            let sink = S3Sink::open(cfg, report_nulls).await?;
            run_sink(name, settings, &ctx, opts, sink, control, stdout).await
        }
        ConnectorConfig::JdbcSource(cfg) => {
            // Every partition's stored offset: one per table, or the query's.
            let stored = ctx.offsets.list(name).await?;
            let mut source = JdbcSource::start(name, (**cfg).clone(), stored).await?;
            let sink = ctx
                .topics
                .sink(Role::Producer, converters.0, converters.1, defaults)?;
            drive(
                opts,
                &mut source,
                sink,
                None,
                ctx.offsets.clone(),
                control,
                stdout,
            )
            .await
        }
        ConnectorConfig::FileSink(cfg) => {
            let sink = FileSink::open(cfg)?;
            run_sink(name, settings, &ctx, opts, sink, control, stdout).await
        }
        ConnectorConfig::JdbcSink(cfg) => {
            let sink = JdbcSink::open(name, (**cfg).clone()).await?;
            // The positions committed with the rows are the truth; the worker's store may
            // be behind them (it is written after the commit), never ahead.
            let positions = sink.stored_positions().await?;
            if !positions.is_empty() {
                if let Some(selection) = &common.topics {
                    match sink_group_offsets(&ctx.topics, name, selection)? {
                        Some(group) => group.commit(name, &positions).await?,
                        None => ctx.offsets.commit(name, &positions).await?,
                    }
                }
            }
            run_sink(name, settings, &ctx, opts, sink, control, stdout).await
        }
    }
}

/// A sink connector's pipeline: its topics read from the worker's store, positions kept with
/// them, rejected records sent to the dead letter queue when one is configured.
async fn run_sink<K: Sink + 'static>(
    name: &str,
    settings: &ConnectorSettings,
    ctx: &TaskContext,
    opts: PipelineOptions,
    sink: K,
    control: watch::Receiver<TaskControl>,
    stdout: Option<(Converter, Converter)>,
) -> Result<(), ConnectorError> {
    let common = &settings.common;
    let Some(selection) = common.topics.clone() else {
        return Err(ConnectorError::permanent(
            "a sink connector needs topics or topics.regex",
        ));
    };
    let dlq = match &common.errors.dlq_topic {
        Some(_) => Some(ctx.topics.sink(
            Role::Admin,
            Converter::ByteArray,
            Converter::ByteArray,
            Some(TopicDefaults {
                partitions: 1,
                replication_factor: common.dlq_replication_factor,
            }),
        )?),
        None => None,
    };
    let (key, value) = (common.key_converter, common.value_converter);
    match &ctx.topics {
        TopicStore::Local { data_dir } => {
            let stored = ctx.offsets.list(name).await?;
            let mut source =
                LocalTopicSource::new(data_dir, selection, key, value, stored, SINK_BATCH);
            drive(
                opts,
                &mut source,
                sink,
                dlq,
                ctx.offsets.clone(),
                control,
                stdout,
            )
            .await
        }
        TopicStore::Kafka { .. } => {
            let Some(group) = sink_group_offsets(&ctx.topics, name, &selection)? else {
                return Ok(());
            };
            let mut source =
                KafkaTopicSource::new(group.group.clone(), &selection, key, value, SINK_BATCH)?;
            let offsets = Arc::new(Offsets::Group(group));
            drive(opts, &mut source, sink, dlq, offsets, control, stdout).await
        }
    }
}

/// The pipeline, with the `--stdout` tee around the sink when asked.
async fn drive<S: Source, K: Sink + 'static, O: OffsetBackend + 'static>(
    opts: PipelineOptions,
    source: &mut S,
    sink: K,
    dlq: Option<TopicSink>,
    offsets: Arc<O>,
    control: watch::Receiver<TaskControl>,
    stdout: Option<(Converter, Converter)>,
) -> Result<(), ConnectorError> {
    let result = match stdout {
        Some((key, value)) => {
            pipeline::run(
                opts,
                source,
                Tee::new(sink, key, value),
                dlq,
                offsets,
                control,
            )
            .await
        }
        None => pipeline::run(opts, source, sink, dlq, offsets, control).await,
    };
    result.map_err(|e| ConnectorError {
        kind: e.kind(),
        error: Box::new(e),
    })
}
