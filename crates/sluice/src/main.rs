//! The `sluice` command: wiring only. `run` and `worker` build a worker (herder + REST API)
//! over local topics or Kafka; `topics` reads local topics.

mod connectors_cli;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use sluice_config::{ConnectorConfig, RawConfig};
use sluice_core::topics::{list_topics, TopicReader};
use sluice_kafka::TopicDefaults;
use sluice_worker::store::ConfigStore;
use sluice_worker::{Destination, Herder};

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
    /// Run connectors from config files (Debezium/Kafka Connect JSON or .properties), like
    /// connect-standalone; the REST API is served too. Stops when a connector fails.
    Run {
        #[command(flatten)]
        worker: WorkerArgs,
        /// Connector config files.
        #[arg(required = true)]
        configs: Vec<PathBuf>,
    },
    /// A long-running worker managed over the Kafka Connect REST API.
    Worker {
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Read local topics.
    Topics {
        #[command(subcommand)]
        command: TopicsCommand,
    },
    /// Manage a worker's connectors, Heroku style: create from a postgres:// URL, list,
    /// info, update, pause, resume, destroy, wait.
    Connectors {
        #[command(flatten)]
        args: connectors_cli::ConnectorsArgs,
    },
}

#[derive(Args)]
struct DataDir {
    /// Offsets, connector configs and local topics live here.
    #[arg(long, env = "SLUICE_DATA_DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct WorkerArgs {
    #[command(flatten)]
    dir: DataDir,
    /// Produce to Kafka at these brokers instead of local topics.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// Also print every record as one JSON line on stdout.
    #[arg(long)]
    stdout: bool,
    /// Worker properties file (data.dir, bootstrap.servers, offset.storage.topic,
    /// topic.creation.default.partitions, topic.creation.default.replication.factor, rest.port).
    #[arg(long)]
    worker_config: Option<PathBuf>,
    /// REST API port.
    #[arg(long)]
    rest_port: Option<u16>,
    /// REST API address.
    #[arg(long, default_value = "127.0.0.1")]
    rest_bind: String,
}

#[derive(Subcommand)]
enum TopicsCommand {
    /// List local topics.
    List(DataDir),
    /// Print a local topic's records as JSON lines.
    Tail {
        topic: String,
        #[command(flatten)]
        dir: DataDir,
        /// Start at the first record instead of the end.
        #[arg(long)]
        from_beginning: bool,
        /// Keep waiting for new records.
        #[arg(long, short)]
        follow: bool,
    },
}

const DEFAULT_DATA_DIR: &str = "./sluice-data";
const DEFAULT_REST_PORT: u16 = 8083;

fn main() {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colours only on a terminal: log files and pipes get plain text.
        .with_ansi(std::io::stderr().is_terminal())
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
        Command::Run { worker, configs } => run_worker(worker, Some(configs)).await,
        Command::Worker { worker } => run_worker(worker, None).await,
        Command::Topics {
            command: TopicsCommand::List(d),
        } => {
            for t in list_topics(&data_dir(&d, None))? {
                println!("{t}");
            }
            Ok(())
        }
        Command::Topics {
            command:
                TopicsCommand::Tail {
                    topic,
                    dir,
                    from_beginning,
                    follow,
                },
        } => tail(&data_dir(&dir, None), &topic, from_beginning, follow).await,
        Command::Connectors { args } => connectors_cli::run(args).await,
    }
}

fn data_dir(d: &DataDir, from_file: Option<&str>) -> PathBuf {
    d.data_dir
        .clone()
        .or_else(|| from_file.map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

struct Settings {
    data_dir: PathBuf,
    destination: Destination,
    offset_topic: String,
    config_topic: String,
    status_topic: String,
    rest_port: Option<u16>,
    flush_interval: Duration,
}

fn settings(args: &WorkerArgs) -> Result<Settings> {
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
    let int = |key: &str| -> Result<Option<i64>> {
        props
            .get(key)
            .map(|v| {
                v.trim().parse().map_err(|_| {
                    anyhow::anyhow!(
                        "Invalid value {v} for configuration {key}: a whole number is expected"
                    )
                })
            })
            .transpose()
    };
    let topic = |key: &str, default: &str| {
        props
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    };
    let data_dir = data_dir(&args.dir, props.get("data.dir").map(String::as_str));
    let bootstrap = args
        .bootstrap_servers
        .clone()
        .or_else(|| props.get("bootstrap.servers").cloned());
    let destination = match bootstrap {
        Some(bootstrap) => Destination::Kafka {
            bootstrap,
            defaults: TopicDefaults {
                partitions: int("topic.creation.default.partitions")?.unwrap_or(1) as i32,
                replication_factor: int("topic.creation.default.replication.factor")?.unwrap_or(1)
                    as i32,
            },
        },
        None => Destination::Local {
            data_dir: data_dir.clone(),
        },
    };
    Ok(Settings {
        data_dir,
        destination,
        offset_topic: topic("offset.storage.topic", "connect-offsets"),
        config_topic: topic("config.storage.topic", "connect-configs"),
        status_topic: topic("status.storage.topic", "connect-status"),
        rest_port: args.rest_port.or(int("rest.port")?.map(|p| p as u16)),
        flush_interval: Duration::from_millis(
            int("offset.flush.interval.ms")?.unwrap_or(1000).max(0) as u64,
        ),
    })
}

async fn run_worker(args: WorkerArgs, files: Option<Vec<PathBuf>>) -> Result<()> {
    let settings = settings(&args)?;
    // Config files are checked before anything starts, every problem listed.
    let mut from_files = Vec::new();
    for path in files.iter().flatten() {
        let raw = RawConfig::from_file(path)?;
        ConnectorConfig::parse(&raw)?;
        if from_files.iter().any(|r: &RawConfig| r.name == raw.name) {
            bail!(
                "two connector configs are named {:?}; connector names must be unique",
                raw.name
            );
        }
        from_files.push(raw);
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("cannot create data dir {}", settings.data_dir.display()))?;
    let offsets = settings
        .destination
        .offsets(&settings.data_dir, &settings.offset_topic)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let store = match &settings.destination {
        Destination::Kafka { bootstrap, .. } => {
            ConfigStore::kafka(bootstrap, &settings.config_topic, &settings.status_topic).await?
        }
        Destination::Local { .. } => ConfigStore::file(&settings.data_dir)?,
    };

    let port = settings.rest_port.unwrap_or(DEFAULT_REST_PORT);
    let addr: SocketAddr = format!("{}:{port}", args.rest_bind)
        .parse()
        .with_context(|| format!("--rest-bind {} is not an IP address", args.rest_bind))?;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        // `run` works without its REST API (e.g. several standalone runs on one host);
        // a worker has no other way to be driven.
        Err(e) if files.is_some() && settings.rest_port.is_none() => {
            tracing::warn!("REST API not served: cannot listen on {addr}: {e}");
            None
        }
        Err(e) => bail!("cannot listen on {addr} for the REST API: {e}"),
    };
    let worker_id = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or_else(|| "standalone".to_owned(), |a| a.to_string());

    let mut herder = Herder::new(
        worker_id.clone(),
        settings.destination.clone(),
        offsets,
        store,
        args.stdout,
    );
    herder.set_flush_interval(settings.flush_interval);
    let mut failures = herder.report_failures();
    let herder = Arc::new(herder);
    if files.is_none() {
        herder.resume_stored().await?;
    }
    for raw in from_files {
        herder
            .put_config(&raw.name.clone(), raw.props, false)
            .await?;
    }
    if let Some(listener) = listener {
        tracing::info!("REST API on http://{worker_id}");
        let app = sluice_worker::rest::router(herder.clone(), Some(prometheus()?));
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("REST API stopped: {e}");
            }
        });
    }

    let result = tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("stopping");
            Ok(())
        }
        Some((name, error)) = failures.recv(), if files.is_some() => {
            Err(anyhow::anyhow!("connector {name} failed: {error}"))
        }
    };
    herder.shutdown().await;
    result
}

/// Installs the Prometheus recorder behind the `metrics` facade; returns what renders `/metrics`.
fn prometheus() -> Result<Arc<dyn Fn() -> String + Send + Sync>> {
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("cannot install the metrics recorder")?;
    let upkeep = handle.clone();
    // Without the exporter's own HTTP listener, histograms need their periodic upkeep here.
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    Ok(Arc::new(move || handle.render()))
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
