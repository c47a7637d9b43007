//! One connector task from config to its end: build the source and the sink, read the stored
//! offset, drive the pipeline until told to stop, then flush and close. The sink and offset
//! backends are enums so one `match` shows every destination Sluice knows.

use std::path::PathBuf;
use std::sync::Arc;

use sluice_config::ConnectorConfig;
use sluice_core::json::JsonConverter;
use sluice_core::offsets::OffsetStore;
use sluice_core::pipeline::{
    self, BoxError, Durable, OffsetBackend, PipelineOptions, Sink, TaskControl, TaskStats,
};
use sluice_core::record::{Json, ProducerRecord, RecordPosition, SourceOffset, SourceRecord};
use sluice_core::topics::LocalTopics;
use sluice_kafka::{KafkaOffsetStore, KafkaSink, TopicDefaults};
use sluice_postgres::PostgresSource;
use tokio::sync::watch;

/// Where a worker's records go: local topics in the data dir, or Kafka.
#[derive(Debug, Clone)]
pub enum Destination {
    Local {
        data_dir: PathBuf,
    },
    Kafka {
        bootstrap: String,
        defaults: TopicDefaults,
    },
}

pub enum AnySink {
    Local(LocalTopics),
    Kafka(KafkaSink),
}

impl Sink for AnySink {
    async fn write(&mut self, records: &[ProducerRecord]) -> Result<Vec<RecordPosition>, BoxError> {
        match self {
            AnySink::Local(s) => s.write(records).await,
            AnySink::Kafka(s) => s.write(records).await,
        }
    }

    async fn flush(&mut self) -> Result<(), BoxError> {
        match self {
            AnySink::Local(s) => s.flush().await,
            AnySink::Kafka(s) => s.flush().await,
        }
    }

    async fn start_flush(&mut self) -> Result<Durable, BoxError> {
        match self {
            AnySink::Local(s) => s.start_flush().await,
            AnySink::Kafka(s) => s.start_flush().await,
        }
    }

    async fn write_source(
        &mut self,
        records: &[SourceRecord],
        key: JsonConverter,
        value: JsonConverter,
    ) -> Result<Vec<RecordPosition>, BoxError> {
        match self {
            AnySink::Local(s) => s.write_source(records, key, value).await,
            AnySink::Kafka(s) => s.write_source(records, key, value).await,
        }
    }
}

/// Where a worker keeps source offsets: a file store beside local topics, Connect's
/// offsets topic beside Kafka topics.
pub enum Offsets {
    File(OffsetStore),
    Kafka(KafkaOffsetStore),
}

impl OffsetBackend for Offsets {
    async fn get(&self, connector: &str, partition: &Json) -> Result<Option<Json>, BoxError> {
        match self {
            Offsets::File(o) => OffsetBackend::get(o, connector, partition).await,
            Offsets::Kafka(o) => o.get(connector, partition).await,
        }
    }

    async fn commit(&self, connector: &str, offset: &SourceOffset) -> Result<(), BoxError> {
        match self {
            Offsets::File(o) => OffsetBackend::commit(o, connector, offset).await,
            Offsets::Kafka(o) => o.commit(connector, offset).await,
        }
    }

    async fn list(&self, connector: &str) -> Result<Vec<SourceOffset>, BoxError> {
        match self {
            Offsets::File(o) => OffsetBackend::list(o, connector).await,
            Offsets::Kafka(o) => o.list(connector).await,
        }
    }

    async fn clear(&self, connector: &str) -> Result<(), BoxError> {
        match self {
            Offsets::File(o) => OffsetBackend::clear(o, connector).await,
            Offsets::Kafka(o) => o.clear(connector).await,
        }
    }
}

impl Destination {
    /// The offset backend that goes with this destination.
    pub async fn offsets(
        &self,
        data_dir: &std::path::Path,
        offset_topic: &str,
    ) -> Result<Offsets, BoxError> {
        Ok(match self {
            Destination::Local { .. } => Offsets::File(OffsetStore::open(data_dir)?),
            Destination::Kafka { bootstrap, .. } => {
                Offsets::Kafka(KafkaOffsetStore::open(bootstrap, offset_topic).await?)
            }
        })
    }

    fn sink(&self, topic_defaults: Option<TopicDefaults>) -> Result<AnySink, BoxError> {
        Ok(match self {
            Destination::Local { data_dir } => AnySink::Local(LocalTopics::open(data_dir)?),
            Destination::Kafka {
                bootstrap,
                defaults,
            } => AnySink::Kafka(KafkaSink::new(
                bootstrap,
                topic_defaults.unwrap_or(*defaults),
            )?),
        })
    }
}

/// Everything one task run needs besides its config.
#[derive(Clone)]
pub struct TaskContext {
    pub destination: Destination,
    pub offsets: Arc<Offsets>,
    pub stats: Arc<TaskStats>,
    pub stdout: bool,
    pub flush_interval: std::time::Duration,
}

/// Runs a connector's task until `control` says Stop or it fails.
pub async fn run_task(
    name: &str,
    config: ConnectorConfig,
    topic_defaults: Option<TopicDefaults>,
    ctx: TaskContext,
    control: watch::Receiver<TaskControl>,
) -> Result<(), BoxError> {
    let sink = ctx.destination.sink(topic_defaults)?;
    match config {
        ConnectorConfig::Postgres(cfg) => {
            let opts = PipelineOptions {
                connector: name.to_owned(),
                key_converter: JsonConverter {
                    schemas_enable: cfg.key_schemas_enable,
                },
                value_converter: JsonConverter {
                    schemas_enable: cfg.value_schemas_enable,
                },
                stdout: ctx.stdout,
                stats: ctx.stats.clone(),
                flush_interval: ctx.flush_interval,
            };
            let partition = sluice_postgres::source::source_partition(&cfg);
            let stored = ctx
                .offsets
                .get(name, &partition)
                .await
                .map_err(|e| format!("cannot read the stored offsets: {e}"))?;
            let mut source = PostgresSource::start(*cfg, stored).await?;
            pipeline::run(opts, &mut source, sink, ctx.offsets.clone(), control).await?;
            source.stop().await?;
            Ok(())
        }
    }
}
