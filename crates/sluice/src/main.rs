//! The `sluice` command: wiring only. `run` and `worker` build a worker (herder + REST API)
//! over local topics or Kafka; `topics` reads local topics.

mod connectors_cli;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use sluice_config::worker::{InternalTopicConfig, WorkerConfig};
use sluice_config::{ConfigError, RawConfig};
use sluice_core::error::chain;
use sluice_core::offsets::OffsetStore;
use sluice_core::topics::{list_topics, TopicReader};
use sluice_kafka::{KafkaConnection, KafkaOffsetStore, TopicDefaults};
use sluice_worker::herder::check_config;
use sluice_worker::runner::Offsets;
use sluice_worker::store::ConfigStore;
use sluice_worker::{Herder, TopicStore};

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
    /// Worker properties file (Kafka Connect's worker keys: bootstrap.servers,
    /// offset.storage.topic, offset.flush.interval.ms, listeners or rest.port, key.converter,
    /// ...; and Sluice's data.dir).
    #[arg(long)]
    worker_config: Option<PathBuf>,
    /// REST API port.
    #[arg(long)]
    rest_port: Option<u16>,
    /// REST API address.
    #[arg(long, default_value = DEFAULT_REST_BIND)]
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
const DEFAULT_REST_BIND: &str = "127.0.0.1";

/// glibc hands memory back to the kernel as soon as 128 KiB lie free at the top of a heap, and
/// serves every allocation from 128 KiB up with a fresh mmap, so each pipeline batch (256 KiB)
/// came back as newly faulted, zeroed pages: 75,000-250,000 minor faults for a 3M-row snapshot.
/// With up to 32 MiB kept: ~2,200, about 10 % less CPU per row, and 3 MB more peak RSS.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 32 << 20);
    }
}

fn main() {
    use std::io::IsTerminal;
    keep_freed_memory();
    // rustls's one provider in this build, for every HTTPS client (S3, the CLI's REST calls).
    let _ = rustls::crypto::ring::default_provider().install_default();
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
            for t in list_topics(&data_dir(&d))? {
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
        } => tail(&data_dir(&dir), &topic, from_beginning, follow).await,
        Command::Connectors { args } => connectors_cli::run(args).await,
    }
}

fn data_dir(d: &DataDir) -> PathBuf {
    d.data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

/// The worker's properties file, typed and validated, with the command line on top.
fn worker_config(args: &WorkerArgs) -> Result<WorkerConfig> {
    let (source, props) = match &args.worker_config {
        Some(path) => {
            let text = std::fs::read(path)
                .with_context(|| format!("cannot read worker config {}", path.display()))?;
            let props = java_properties::read(text.as_slice()).with_context(|| {
                format!(
                    "worker config {} is not a valid .properties file",
                    path.display()
                )
            })?;
            (path.display().to_string(), props.into_iter().collect())
        }
        None => ("(defaults)".to_owned(), Default::default()),
    };
    let mut config = WorkerConfig::parse(&source, props)?;
    for w in &config.warnings {
        tracing::warn!("worker config {source}: {w}");
    }
    if let Some(dir) = &args.dir.data_dir {
        config.data_dir = dir.clone();
    }
    // Heroku Kafka's environment, when no brokers are named otherwise.
    if args.bootstrap_servers.is_none() && config.bootstrap_servers.is_none() {
        let env = |k: &str| std::env::var(k).ok();
        if let Some(h) = sluice_config::kafka::heroku(&env).map_err(anyhow::Error::msg)? {
            tracing::info!("Kafka from KAFKA_URL ({})", h.bootstrap);
            config.bootstrap_servers = Some(h.bootstrap);
            config.kafka.common.extend(h.settings);
            config.kafka.prefix = h.prefix;
        }
    }
    if let Some(b) = &args.bootstrap_servers {
        config.bootstrap_servers = Some(b.clone());
    }
    if let Some(p) = args.rest_port {
        config.rest_port = Some(p);
    }
    Ok(config)
}

async fn run_worker(args: WorkerArgs, files: Option<Vec<PathBuf>>) -> Result<()> {
    let config = worker_config(&args)?;
    // Config files are checked before anything starts, every problem listed.
    let mut from_files = Vec::new();
    for path in files.iter().flatten() {
        let raw = RawConfig::from_file(path)?;
        let checked = check_config(&raw, &config.converter_defaults);
        if !checked.issues.is_empty() {
            return Err(ConfigError::Invalid {
                connector: raw.name.clone(),
                issues: checked.issues,
            }
            .into());
        }
        if from_files.iter().any(|r: &RawConfig| r.name == raw.name) {
            bail!(
                "two connector configs are named {:?}; connector names must be unique",
                raw.name
            );
        }
        from_files.push(raw);
    }
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let topic_defaults = TopicDefaults {
        partitions: config.topic_defaults.partitions,
        replication_factor: config.topic_defaults.replication_factor,
    };
    let internal = |t: &InternalTopicConfig| TopicDefaults {
        partitions: t.partitions,
        replication_factor: t.replication_factor,
    };
    let (topics, offsets, store) = match &config.bootstrap_servers {
        Some(bootstrap) => {
            let conn = KafkaConnection {
                bootstrap: bootstrap.clone(),
                settings: std::sync::Arc::new(config.kafka.clone()),
            };
            (
                TopicStore::Kafka {
                    conn: conn.clone(),
                    defaults: topic_defaults,
                },
                Offsets::Kafka(
                    KafkaOffsetStore::open(&conn, &config.offsets.name, internal(&config.offsets))
                        .await
                        .map_err(|e| anyhow::anyhow!(chain(&e)))?,
                ),
                ConfigStore::kafka(&conn, &config.configs, &config.status).await?,
            )
        }
        None => (
            TopicStore::Local {
                data_dir: data_dir.clone(),
            },
            Offsets::File(OffsetStore::open(&data_dir)?),
            ConfigStore::file(&data_dir)?,
        ),
    };

    let port = config.rest_port.unwrap_or(DEFAULT_REST_PORT);
    let host = config
        .rest_host
        .clone()
        .filter(|_| args.rest_bind == DEFAULT_REST_BIND)
        .unwrap_or_else(|| args.rest_bind.clone());
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .with_context(|| format!("REST address {host} is not an IP address"))?;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Some(l),
        // `run` works without its REST API (e.g. several standalone runs on one host);
        // a worker has no other way to be driven.
        Err(e) if files.is_some() && config.rest_port.is_none() => {
            tracing::warn!("REST API not served: cannot listen on {addr}: {e}");
            None
        }
        Err(e) => bail!("cannot listen on {addr} for the REST API: {e}"),
    };
    let worker_id = listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or_else(|| "standalone".to_owned(), |a| a.to_string());

    let mut herder = Herder::new(worker_id.clone(), topics, offsets, store, args.stdout);
    herder.set_flush_interval(Duration::from_millis(config.offset_flush_interval_ms));
    herder.set_converter_defaults(config.converter_defaults.clone());
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
        tracing::info!("console on http://{worker_id}/ui/");
        let app = sluice_worker::rest::router(herder.clone(), Some(prometheus()?))
            .merge(sluice_worker::console::router(herder.clone()));
        let app = sluice_worker::auth::protect(app, config.rest_auth.clone(), addr.ip());
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
