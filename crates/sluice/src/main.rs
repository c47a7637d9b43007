//! The `sluice` command: wiring only. Reads connector configs, builds each connector's
//! source and sink, runs them until Ctrl-C, and reads local topics.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use sluice_config::{ConnectorConfig, RawConfig};
use sluice_core::json::JsonConverter;
use sluice_core::offsets::OffsetStore;
use sluice_core::pipeline::{self, OffsetBackend, PipelineOptions, Sink};
use sluice_core::topics::{list_topics, LocalTopics, TopicReader};
use sluice_kafka::{KafkaOffsetStore, KafkaSink, TopicDefaults};
use sluice_postgres::PostgresSource;
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Database changes as events: Debezium-compatible CDC in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run connectors from config files (Debezium/Kafka Connect JSON or .properties), like connect-standalone.
    Run(RunArgs),
    /// Read local topics.
    Topics {
        #[command(subcommand)]
        command: TopicsCommand,
    },
}

#[derive(Args)]
struct WorkerArgs {
    /// Offsets and local topics live here.
    #[arg(long, env = "SLUICE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    worker: WorkerArgs,
    /// Produce to Kafka at these brokers instead of local topics.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Also print every record as one JSON line on stdout.
    #[arg(long)]
    stdout: bool,
    /// Worker properties file (data.dir, bootstrap.servers, topic.creation.default.partitions, topic.creation.default.replication.factor).
    #[arg(long)]
    worker_config: Option<PathBuf>,
    /// Connector config files.
    #[arg(required = true)]
    configs: Vec<PathBuf>,
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// List local topics.
    List(WorkerArgs),
    /// Print a local topic's records as JSON lines.
    Tail {
        topic: String,
        #[command(flatten)]
        worker: WorkerArgs,
        /// Start at the first record instead of the end.
        #[arg(long)]
        from_beginning: bool,
        /// Keep waiting for new records.
        #[arg(long, short)]
        follow: bool,
    },
}

const DEFAULT_DATA_DIR: &str = "./sluice-data";

fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = runtime.block_on(run(cli)) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run_connectors(args).await,
        Command::Topics {
            command: TopicsCommand::List(w),
        } => {
            for t in list_topics(&data_dir(&w, None))? {
                println!("{t}");
            }
            Ok(())
        }
        Command::Topics {
            command:
                TopicsCommand::Tail {
                    topic,
                    worker,
                    from_beginning,
                    follow,
                },
        } => tail(&data_dir(&worker, None), &topic, from_beginning, follow).await,
    }
}

fn data_dir(w: &WorkerArgs, from_file: Option<&str>) -> PathBuf {
    w.data_dir
        .clone()
        .or_else(|| from_file.map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

struct Worker {
    data_dir: PathBuf,
    bootstrap: Option<String>,
    offset_topic: String,
    topic_defaults: TopicDefaults,
}

fn worker_settings(args: &RunArgs) -> Result<Worker> {
    let props = match &args.worker_config {
        Some(path) => {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read worker config {}", path.display()))?;
            java_properties::read(text.as_slice()).with_context(|| {
                format!(
                    "worker config {} is not a valid .properties file",
                    path.display()
                )
            })?
        }
        None => Default::default(),
    };
    Ok(Worker {
        data_dir: data_dir(&args.worker, props.get("data.dir").map(String::as_str)),
        bootstrap: args
            .bootstrap_servers
            .clone()
            .or_else(|| props.get("bootstrap.servers").cloned()),
        offset_topic: props
            .get("offset.storage.topic")
            .cloned()
            .unwrap_or_else(|| "connect-offsets".to_owned()),
        topic_defaults: topic_defaults(|k| props.get(k).cloned())?.unwrap_or_default(),
    })
}

async fn run_connectors(args: RunArgs) -> Result<()> {
    let worker = worker_settings(&args)?;
    let mut connectors = Vec::new();
    for path in &args.configs {
        let raw = RawConfig::from_file(path)?;
        let parsed = ConnectorConfig::parse(&raw)?;
        if connectors
            .iter()
            .any(|(name, _, _): &(String, ConnectorConfig, _)| *name == raw.name)
        {
            bail!(
                "two connector configs are named {:?}; connector names must be unique",
                raw.name
            );
        }
        connectors.push((
            raw.name.clone(),
            parsed,
            topic_defaults(|k| raw.get(k).map(str::to_owned))?,
        ));
    }
    std::fs::create_dir_all(&worker.data_dir)
        .with_context(|| format!("cannot create data dir {}", worker.data_dir.display()))?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    match &worker.bootstrap {
        // With Kafka, offsets live in Connect's offsets topic next to the records.
        Some(bootstrap) => {
            let offsets = Arc::new(KafkaOffsetStore::open(bootstrap, &worker.offset_topic).await?);
            for (name, config, defaults) in connectors {
                let (bootstrap, defaults) =
                    (bootstrap.clone(), defaults.unwrap_or(worker.topic_defaults));
                let sink = move || Ok(KafkaSink::new(&bootstrap, defaults)?);
                let stop = stop_rx.clone();
                tasks.spawn(run_connector(
                    name,
                    config,
                    sink,
                    offsets.clone(),
                    args.stdout,
                    stop,
                ));
            }
        }
        None => {
            let offsets = Arc::new(OffsetStore::open(&worker.data_dir)?);
            for (name, config, _) in connectors {
                let data_dir = worker.data_dir.clone();
                let sink = move || Ok(LocalTopics::open(&data_dir)?);
                let stop = stop_rx.clone();
                tasks.spawn(run_connector(
                    name,
                    config,
                    sink,
                    offsets.clone(),
                    args.stdout,
                    stop,
                ));
            }
        }
    }

    let mut failed = None;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("stopping");
                let _ = stop_tx.send(true);
            }
            done = tasks.join_next() => match done {
                None => break,
                Some(Ok((name, Ok(())))) => tracing::info!(connector = %name, "connector stopped"),
                Some(Ok((name, Err(e)))) => {
                    tracing::error!(connector = %name, "connector failed: {e:#}");
                    failed.get_or_insert_with(|| format!("connector {name} failed: {e:#}"));
                    let _ = stop_tx.send(true);
                }
                Some(Err(e)) => {
                    failed.get_or_insert_with(|| format!("a connector task ended abnormally: {e}"));
                    let _ = stop_tx.send(true);
                }
            }
        }
    }
    match failed {
        Some(msg) => bail!(msg),
        None => Ok(()),
    }
}

/// Connect's `topic.creation.default.*` (KIP-158), from a connector (which wins) or the worker.
fn topic_defaults(get: impl Fn(&str) -> Option<String>) -> Result<Option<TopicDefaults>> {
    let int = |key: &str| -> Result<Option<i32>> {
        get(key)
            .map(|v| {
                v.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "Invalid value {v} for configuration {key}: a whole number is expected"
                    )
                })
            })
            .transpose()
    };
    let partitions = int("topic.creation.default.partitions")?;
    let replication = int("topic.creation.default.replication.factor")?;
    if partitions.is_none() && replication.is_none() {
        return Ok(None);
    }
    Ok(Some(TopicDefaults {
        partitions: partitions.unwrap_or(1),
        replication_factor: replication.unwrap_or(1),
    }))
}

/// Runs one connector to its end; returns its name with the outcome.
async fn run_connector<K: Sink, O: OffsetBackend>(
    name: String,
    config: ConnectorConfig,
    sink: impl FnOnce() -> Result<K>,
    offsets: Arc<O>,
    stdout: bool,
    stop: watch::Receiver<bool>,
) -> (String, Result<()>) {
    let result = async {
        let mut sink = sink()?;
        match config {
            ConnectorConfig::Postgres(cfg) => {
                let opts = PipelineOptions {
                    connector: name.clone(),
                    key_converter: JsonConverter {
                        schemas_enable: cfg.key_schemas_enable,
                    },
                    value_converter: JsonConverter {
                        schemas_enable: cfg.value_schemas_enable,
                    },
                    stdout,
                };
                let stored = offsets
                    .get(&name, &sluice_postgres::source::source_partition(&cfg))
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot read the stored offsets: {e}"))?;
                let mut source = PostgresSource::start(*cfg, stored).await?;
                pipeline::run(opts, &mut source, &mut sink, offsets.as_ref(), stop).await?;
                sink.flush().await.map_err(|e| anyhow::anyhow!(e))?;
                source.stop().await?;
                Ok(())
            }
        }
    };
    let result = result.await;
    (name, result)
}

async fn tail(data_dir: &Path, topic: &str, from_beginning: bool, follow: bool) -> Result<()> {
    use std::io::Write;
    let mut reader = TopicReader::open(data_dir, topic, from_beginning)?;
    loop {
        let lines = reader.read_lines()?;
        let mut out = std::io::stdout().lock();
        for l in &lines {
            out.write_all(l)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        drop(out);
        if !follow {
            return Ok(());
        }
        if lines.is_empty() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
