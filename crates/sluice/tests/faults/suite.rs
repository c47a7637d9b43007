//! The fault suite: a real pipeline (`sluice worker` or `sluice run`, PostgreSQL → local topics
//! or Kafka) under a steady writer, faults injected at seeded random moments, and the output
//! checked against what the writer committed: nothing lost, per-key commit order, duplicates
//! only after the offset committed before a fault, the task RUNNING through transient faults,
//! the slot never confirmed past what was durable, memory bounded while the sink is away.
//! Everything random comes from the seed, so a failing run is repeated by its seed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex as StdMutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value as Json;
use tokio_postgres::Client;

use crate::common::*;
use crate::proxy::{Cut, Proxy};

/// One cluster of PostgreSQL for the tests that restart it: they take turns.
pub static FAULT_CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// splitmix64: small, seedable, the same on every machine.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// In `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() as u64 - 1) as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Kill9Run,
    Kill9Worker,
    PgRestartFast,
    PgRestartImmediate,
    WalsenderTerminate,
    PgNetDrop,
    PgNetStall,
    PgNetReset,
    KafkaNetDrop,
    KafkaNetStall,
    KafkaNetReset,
    BrokerStop,
    DiskFull,
}

impl Kind {
    pub const ALL: [Kind; 13] = [
        Kind::Kill9Run,
        Kind::Kill9Worker,
        Kind::PgRestartFast,
        Kind::PgRestartImmediate,
        Kind::WalsenderTerminate,
        Kind::PgNetDrop,
        Kind::PgNetStall,
        Kind::PgNetReset,
        Kind::KafkaNetDrop,
        Kind::KafkaNetStall,
        Kind::KafkaNetReset,
        Kind::BrokerStop,
        Kind::DiskFull,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Kill9Run => "kill9-run",
            Kind::Kill9Worker => "kill9-worker",
            Kind::PgRestartFast => "pg-restart-fast",
            Kind::PgRestartImmediate => "pg-restart-immediate",
            Kind::WalsenderTerminate => "walsender-terminate",
            Kind::PgNetDrop => "pg-net-drop",
            Kind::PgNetStall => "pg-net-stall",
            Kind::PgNetReset => "pg-net-reset",
            Kind::KafkaNetDrop => "kafka-net-drop",
            Kind::KafkaNetStall => "kafka-net-stall",
            Kind::KafkaNetReset => "kafka-net-reset",
            Kind::BrokerStop => "broker-stop",
            Kind::DiskFull => "disk-full",
        }
    }

    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn on_fault_cluster(self) -> bool {
        matches!(self, Kind::PgRestartFast | Kind::PgRestartImmediate)
    }

    fn needs_kafka(self) -> bool {
        matches!(
            self,
            Kind::KafkaNetDrop | Kind::KafkaNetStall | Kind::KafkaNetReset | Kind::BrokerStop
        )
    }

    /// The sink is away: the backlog must wait in the slot, not in Sluice's memory.
    fn sink_unreachable(self) -> bool {
        self.needs_kafka() || self == Kind::DiskFull
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moment {
    Snapshot,
    Switch,
    Streaming,
    MidTxn,
    /// Right after an offset commit was stored, before the source was told (local offsets).
    Commit,
}

impl Moment {
    pub fn parse(name: &str) -> Option<Moment> {
        [
            Moment::Snapshot,
            Moment::Switch,
            Moment::Streaming,
            Moment::MidTxn,
            Moment::Commit,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Moment::Snapshot => "snapshot",
            Moment::Switch => "switch",
            Moment::Streaming => "streaming",
            Moment::MidTxn => "mid-txn",
            Moment::Commit => "commit",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Local,
    Kafka,
}

/// How big and long a run is.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub runs: usize,
    pub kinds: Vec<Kind>,
    pub faults_per_run: usize,
    /// Rows in the captured table before the connector starts (the snapshot).
    pub rows: i64,
    /// The same, for runs whose first fault comes during the snapshot.
    pub snapshot_rows: i64,
    /// How long a cut network, a stopped broker or a full disk lasts, at most.
    pub outage_max: Duration,
    /// Draw every fault's moment from these (empty: the first fault from all, the others
    /// from those of streaming).
    pub moments: Vec<Moment>,
}

/// What one run found.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub faults: usize,
    pub moments: Vec<&'static str>,
    pub changes_checked: usize,
    pub covered_by_snapshot: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub longest_recovery: Duration,
    pub peak_rss_kb: u64,
    pub error_seen_in_status: bool,
    pub problems: Vec<String>,
    pub target: &'static str,
}

/// Servers the suite shares between runs: the source clusters and its own broker.
pub struct Servers {
    pub broker: Option<Broker>,
    pub kafka_proxy: Option<Proxy>,
}

impl Servers {
    pub async fn start(with_kafka: bool) -> Servers {
        if !with_kafka {
            return Servers {
                broker: None,
                kafka_proxy: None,
            };
        }
        // The broker advertises the proxy, so every connection a client opens goes through it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let advertised = listener.local_addr().unwrap().port();
        let mut broker = Broker::new(free_port(), advertised);
        broker.start();
        let proxy = Proxy::start_on(listener, broker.port);
        Servers {
            broker: Some(broker),
            kafka_proxy: Some(proxy),
        }
    }

    fn broker_panics(&self) -> usize {
        self.broker.as_ref().map_or(0, Broker::panics)
    }

    fn bootstrap(&self) -> Option<String> {
        self.kafka_proxy
            .as_ref()
            .map(|p| format!("127.0.0.1:{}", p.port))
    }
}

/// A Tansu broker of the suite's own, which it stops and starts.
pub struct Broker {
    pub port: u16,
    advertised: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    fn new(port: u16, advertised: u16) -> Self {
        Broker {
            port,
            advertised,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        }
    }

    /// scripts/test and scripts/faults build the (patched) broker and say where it is.
    fn bin() -> PathBuf {
        std::env::var("SLUICE_TEST_TANSU_BIN")
            .expect("SLUICE_TEST_TANSU_BIN: run through scripts/test or scripts/faults")
            .into()
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("tansu.log"))
            .unwrap();
        let child = Command::new(Self::bin())
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://127.0.0.1:{}", self.port),
                "--advertised-listener-url",
                &format!("tcp://127.0.0.1:{}", self.advertised),
                "--storage-engine",
                "sqlite://tansu.db",
                "--silent",
            ])
            .current_dir(self.dir.path())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start Tansu ({}): {e}", Self::bin().display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "Tansu did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        // A broker that fails to open its storage exits right after binding.
        std::thread::sleep(Duration::from_millis(300));
        let exited = self
            .child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        assert!(
            exited.is_none(),
            "Tansu exited after starting ({exited:?}): {}",
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }

    pub fn log(&self) -> PathBuf {
        self.dir.path().join("tansu.log")
    }

    /// A panic in the broker's log: unpatched Tansu 0.6 panicked when an idempotent producer
    /// bumped its epoch after a restart, and then failed every produce (scripts/tansu/).
    pub fn panics(&self) -> usize {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .matches("panicked at")
            .count()
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the writer committed, in commit order: (key, seq) per change.
#[derive(Default)]
struct Committed {
    changes: Vec<(i64, i64)>,
}

/// A steady writer: transactions of 1-4 updates on random keys (and now and then a big one),
/// each change setting `seq` to the next number, so loss, order and duplicates can be told.
struct Writer {
    stop: Arc<AtomicBool>,
    committed: Arc<StdMutex<Committed>>,
    big_commits: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

const WRITER_KEYS: u64 = 200;
pub const BIG_TXN: usize = 500;

impl Writer {
    fn start(pg: Pg, db: String, mut rng: Rng) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let committed = Arc::new(StdMutex::new(Committed::default()));
        let big_commits = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn({
            let (stop, committed, big_commits) =
                (stop.clone(), committed.clone(), big_commits.clone());
            async move {
                let mut client: Option<Client> = None;
                let mut seq: i64 = 0;
                let mut unknown: Option<Vec<(i64, i64)>> = None;
                let mut txns: u64 = 0;
                while !stop.load(Ordering::SeqCst) {
                    if client.is_none() {
                        client = pg.try_connect(&db).await;
                    }
                    let Some(c) = &client else {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    };
                    // A commit whose answer was lost: its last update tells whether it happened
                    // (only this writer updates the table).
                    if let Some(txn) = unknown.take() {
                        let &(k, s) = txn.last().unwrap();
                        match c.query_one("SELECT seq FROM kv WHERE k = $1", &[&k]).await {
                            Ok(row) => {
                                if row.get::<_, i64>(0) == s {
                                    committed.lock().unwrap().changes.extend(txn);
                                }
                            }
                            Err(_) => {
                                unknown = Some(txn);
                                client = None;
                            }
                        }
                        continue;
                    }
                    txns += 1;
                    let big = txns.is_multiple_of(150);
                    let n = if big {
                        BIG_TXN
                    } else {
                        rng.range(1, 4) as usize
                    };
                    let mut txn = Vec::with_capacity(n);
                    let mut sql = String::from("BEGIN;");
                    for _ in 0..n {
                        seq += 1;
                        let k = rng.range(1, WRITER_KEYS) as i64;
                        let _ = write!(sql, "UPDATE kv SET seq = {seq} WHERE k = {k};");
                        txn.push((k, seq));
                    }
                    sql.push_str("COMMIT;");
                    match c.batch_execute(&sql).await {
                        Ok(()) => {
                            committed.lock().unwrap().changes.extend(txn);
                            if big {
                                big_commits.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(_) => {
                            unknown = Some(txn);
                            client = None;
                        }
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        });
        Writer {
            stop,
            committed,
            big_commits,
            task,
        }
    }

    fn last_committed(&self) -> Option<(i64, i64)> {
        self.committed.lock().unwrap().changes.last().copied()
    }

    async fn finish(&mut self) -> Vec<(i64, i64)> {
        self.stop.store(true, Ordering::SeqCst);
        (&mut self.task).await.unwrap();
        std::mem::take(&mut self.committed.lock().unwrap().changes)
    }
}

/// One change event as read back: the key, the `seq` it carries, and where it came from.
#[derive(Debug, Clone, Copy)]
struct Event {
    k: i64,
    seq: i64,
    snapshot: bool,
    lsn: Option<u64>,
    /// `source.txId`.
    tx: Option<i64>,
    /// `source.sequence[0]`: where the transaction before this one in the stream committed.
    prev_commit: Option<u64>,
}

fn event_of(value: &Json) -> Option<Event> {
    let p = if value.get("payload").is_some() {
        &value["payload"]
    } else {
        value
    };
    let after = &p["after"];
    Some(Event {
        k: after["k"].as_i64()?,
        seq: after["seq"].as_i64()?,
        snapshot: p["op"] == "r",
        lsn: p["source"]["lsn"].as_u64(),
        tx: p["source"]["txId"].as_i64(),
        prev_commit: p["source"]["sequence"]
            .as_str()
            .and_then(|s| serde_json::from_str::<Vec<Option<String>>>(s).ok())
            .and_then(|v| v.first().cloned().flatten())
            .and_then(|l| l.parse().ok()),
    })
}

/// The output as a consumer sees it, read incrementally: a local topic up to its durable
/// length, or a Kafka topic from the beginning.
enum Reader {
    Local {
        dir: PathBuf,
        pos: u64,
    },
    Kafka {
        bootstrap: String,
        topic: String,
        consumer: Option<BaseConsumer>,
    },
}

impl Reader {
    fn read(&mut self, out: &mut Vec<Event>) {
        match self {
            Reader::Local { dir, pos } => {
                use std::io::{Read, Seek, SeekFrom};
                let durable: u64 = std::fs::read_to_string(dir.join("partition-0.durable"))
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0);
                if durable <= *pos {
                    return;
                }
                let Ok(mut f) = std::fs::File::open(dir.join("partition-0.jsonl")) else {
                    return;
                };
                let mut bytes = vec![0u8; (durable - *pos) as usize];
                if f.seek(SeekFrom::Start(*pos)).is_err() || f.read_exact(&mut bytes).is_err() {
                    return;
                }
                let Some(end) = bytes.iter().rposition(|&b| b == b'\n') else {
                    return;
                };
                for line in bytes[..end].split(|&b| b == b'\n') {
                    let v: Json = serde_json::from_slice(line).expect("topic lines are JSON");
                    if let Some(e) = event_of(&v["value"]) {
                        out.push(e);
                    }
                }
                *pos += end as u64 + 1;
            }
            Reader::Kafka {
                bootstrap,
                topic,
                consumer,
            } => {
                if consumer.is_none() {
                    *consumer = kafka_consumer(bootstrap, topic);
                }
                let Some(c) = consumer else { return };
                for _ in 0..100_000 {
                    match c.poll(Duration::ZERO) {
                        Some(Ok(m)) => {
                            if let Some(e) = m
                                .payload()
                                .and_then(|b| serde_json::from_slice::<Json>(b).ok())
                                .and_then(|v| event_of(&v))
                            {
                                out.push(e);
                            }
                        }
                        Some(Err(_)) | None => break,
                    }
                }
            }
        }
    }
}

fn kafka_consumer(bootstrap: &str, topic: &str) -> Option<BaseConsumer> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("faults"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .ok()?;
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(2))
        .ok()?;
    let t = metadata.topics().first()?;
    if t.error().is_some() || t.partitions().is_empty() {
        return None;
    }
    let mut tpl = TopicPartitionList::new();
    for p in t.partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .ok()?;
    }
    consumer.assign(&tpl).ok()?;
    Some(consumer)
}

/// The Sluice process of a run, as a worker (REST) or `sluice run` (REST on a fixed port).
struct Process {
    sluice: Sluice,
    worker: bool,
    config: Json,
    args: Vec<String>,
    api: Api,
}

impl Process {
    async fn start(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        if self.worker {
            self.api = Api::new(self.sluice.start_worker(&args));
        } else {
            let port = free_port();
            let mut all = args.clone();
            let port_s = port.to_string();
            all.extend(["--rest-port", &port_s]);
            self.sluice.start(std::slice::from_ref(&self.config), &all);
            self.api = Api::new(format!("http://127.0.0.1:{port}"));
        }
    }

    /// The task's state and last error, or None while the process does not answer.
    async fn task(&self, name: &str) -> Option<(String, Option<String>)> {
        let resp = self
            .api
            .http
            .get(format!("{}/connectors/{name}/status", self.api.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .ok()?;
        let v: Json = resp.json().await.ok()?;
        let task = &v["tasks"][0];
        Some((
            task["state"].as_str()?.to_owned(),
            task["last_error"]
                .as_str()
                .or(task["trace"].as_str())
                .map(str::to_owned),
        ))
    }

    fn rss_kb(&self) -> Option<u64> {
        let pid = self.sluice.pid()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

/// A tmpfs of its own for the data dir, so it can be filled.
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: &Path) -> Result<SmallDisk, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512m", "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (root needed): {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk {
            path: path.to_owned(),
        })
    }

    /// Fills the disk to the last byte.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let ballast = self.path.join("ballast");
        let mut f = std::fs::File::create(&ballast).unwrap();
        let chunk = vec![0u8; 1 << 20];
        while f.write_all(&chunk).is_ok() {}
        let mut byte = [0u8; 1];
        while f.write_all(&byte).is_ok() {
            byte[0] = 1;
        }
        ballast
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// A fault injected, and what was true just before it.
struct Injected {
    /// Events read before the fault; a replay starts after this.
    events_before: usize,
    /// The stream offset Sluice had committed (local topics only).
    committed_lsn: Option<u64>,
    /// Whether the committed offset said the snapshot was complete (None: unknown, Kafka).
    snapshot_committed: Option<bool>,
    moment: Moment,
}

/// Everything one run watches while it goes.
struct Run<'a> {
    kind: Kind,
    name: String,
    process: Process,
    reader: Reader,
    events: Vec<Event>,
    max_seq: HashMap<i64, i64>,
    writer: Writer,
    pg: Pg,
    db: String,
    slot: String,
    admin: Option<Client>,
    disk: Option<SmallDisk>,
    servers: &'a mut Servers,
    pg_proxy: Option<Proxy>,
    target: Target,
    outcome: Outcome,
    injected: Vec<Injected>,
    /// While Sluice is killed there is no one to ask.
    down: bool,
    /// The broker's panics before the run.
    broker_panics: usize,
}

impl Run<'_> {
    fn offsets_lsn(&self) -> Option<u64> {
        self.offset()
            .filter(|o| o.get("snapshot").is_none())
            .and_then(|o| o["lsn"].as_u64())
    }

    fn snapshot_committed(&self) -> Option<bool> {
        if self.target != Target::Local {
            return None;
        }
        Some(self.offset().is_some_and(|o| {
            o.get("snapshot").and_then(Json::as_bool) != Some(true)
                || o["last_snapshot_record"].as_bool() == Some(true)
        }))
    }

    fn offset(&self) -> Option<Json> {
        let path = self
            .process
            .sluice
            .data_dir()
            .join("offsets")
            .join(format!("{}.json", self.name));
        let v: Json = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(v[0]["offset"].clone())
    }

    async fn confirmed_flush(&mut self) -> Option<u64> {
        if self.admin.is_none() {
            self.admin = self.pg.try_connect(&self.db).await;
        }
        let row = match self
            .admin
            .as_ref()?
            .query_opt(
                "SELECT (confirmed_flush_lsn - '0/0')::int8 FROM pg_replication_slots WHERE slot_name = $1",
                &[&self.slot],
            )
            .await
        {
            Ok(r) => r,
            Err(_) => {
                self.admin = None;
                return None;
            }
        };
        row.and_then(|r| r.get::<_, Option<i64>>(0))
            .map(|v| v as u64)
    }

    /// One look at everything: the output, the task's state, memory, the slot.
    async fn tick(&mut self) {
        let from = self.events.len();
        self.reader.read(&mut self.events);
        for e in &self.events[from..] {
            let m = self.max_seq.entry(e.k).or_insert(i64::MIN);
            *m = (*m).max(e.seq);
        }
        if self.down {
            return;
        }
        if let Some(rss) = self.process.rss_kb() {
            self.outcome.peak_rss_kb = self.outcome.peak_rss_kb.max(rss);
        }
        if let Some((state, error)) = self.process.task(&self.name).await {
            if state == "FAILED" {
                let p = format!("task FAILED: {}", error.unwrap_or_default());
                if !self.outcome.problems.contains(&p) {
                    self.outcome.problems.push(p);
                }
            } else if error.is_some() {
                self.outcome.error_seen_in_status = true;
            }
        }
        // The slot may be confirmed only up to what is durable: read the slot first, the
        // offsets (written before the slot is confirmed) second.
        if self.target == Target::Local {
            if let Some(confirmed) = self.confirmed_flush().await {
                if let Some(committed) = self.offsets_lsn() {
                    if confirmed > committed {
                        self.outcome.problems.push(format!(
                            "slot confirmed_flush_lsn {confirmed} is beyond the committed offset {committed}"
                        ));
                    }
                }
            }
        }
    }

    async fn tick_for(&mut self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until {
            self.tick().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The connector's offsets file in the local store, once it exists.
    fn offsets_file(&self) -> Option<PathBuf> {
        let dir = self.process.sluice.data_dir().join("offsets");
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "json"))
    }

    fn log_has(&self, what: &str) -> bool {
        self.process.sluice.log_text().contains(what)
    }

    /// Waits for the moment to inject; returns the moment it really is (a snapshot may
    /// finish before it is caught).
    async fn wait_for_moment(&mut self, moment: Moment, rng: &mut Rng) -> Moment {
        let streaming_before = self.log_has("streaming changes");
        let deadline = Instant::now() + Duration::from_secs(180);
        let real = loop {
            assert!(
                Instant::now() < deadline,
                "{}: the moment {moment:?} never came\n{}",
                self.kind.name(),
                self.process.sluice.log_text()
            );
            match moment {
                Moment::Snapshot => {
                    if self.log_has("snapshot started") || !self.events.is_empty() {
                        tokio::time::sleep(Duration::from_millis(rng.range(0, 300))).await;
                        break if self.log_has("snapshot completed") {
                            Moment::Switch
                        } else {
                            Moment::Snapshot
                        };
                    }
                }
                Moment::Switch => {
                    if self.log_has("streaming changes") {
                        break if streaming_before {
                            Moment::Streaming
                        } else {
                            Moment::Switch
                        };
                    }
                }
                Moment::Streaming => {
                    if self.log_has("streaming changes") {
                        let d = Duration::from_millis(rng.range(200, 2500));
                        self.tick_for(d).await;
                        break Moment::Streaming;
                    }
                }
                Moment::MidTxn => {
                    if self.log_has("streaming changes") {
                        let seen = self.writer.big_commits.load(Ordering::SeqCst);
                        let until = Instant::now() + Duration::from_secs(30);
                        while self.writer.big_commits.load(Ordering::SeqCst) == seen
                            && Instant::now() < until
                        {
                            tokio::time::sleep(Duration::from_millis(2)).await;
                        }
                        break Moment::MidTxn;
                    }
                }
                Moment::Commit => {
                    if self.log_has("streaming changes") {
                        // Offsets in Kafka (connect-offsets) cannot be watched here.
                        let Some(path) = self.offsets_file() else {
                            break Moment::Streaming;
                        };
                        let before = std::fs::read(&path).ok();
                        let until = Instant::now() + Duration::from_secs(30);
                        while std::fs::read(&path).ok() == before && Instant::now() < until {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                        }
                        break Moment::Commit;
                    }
                }
            }
            self.tick().await;
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        real
    }

    /// Injects one fault and waits until it is over; returns when the fault ended.
    async fn inject(&mut self, rng: &mut Rng, outage_max: Duration) {
        let outage = Duration::from_millis(rng.range(500, outage_max.as_millis().max(600) as u64));
        match self.kind {
            Kind::Kill9Run | Kind::Kill9Worker => {
                self.process.sluice.kill();
                self.down = true;
                tokio::time::sleep(Duration::from_millis(rng.range(0, 1000))).await;
                self.process.start().await;
                self.down = false;
            }
            Kind::PgRestartFast | Kind::PgRestartImmediate => {
                let mode = if self.kind == Kind::PgRestartFast {
                    "fast"
                } else {
                    "immediate"
                };
                tokio::task::spawn_blocking(move || {
                    FaultCluster::from_env().pg_ctl(&["restart", "-m", mode])
                })
                .await
                .unwrap();
            }
            Kind::WalsenderTerminate => {
                let admin = self.pg.connect("postgres").await;
                let _ = admin
                    .execute(
                        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
                        &[&self.slot],
                    )
                    .await;
            }
            Kind::PgNetDrop | Kind::PgNetReset | Kind::KafkaNetDrop | Kind::KafkaNetReset => {
                let how = if matches!(self.kind, Kind::PgNetDrop | Kind::KafkaNetDrop) {
                    Cut::Drop
                } else {
                    Cut::Reset
                };
                self.proxy().cut(how);
                self.tick_for(outage).await;
                self.proxy().restore();
            }
            Kind::PgNetStall | Kind::KafkaNetStall => {
                self.proxy().stall();
                self.tick_for(outage).await;
                self.proxy().restore();
            }
            Kind::BrokerStop => {
                let broker = self.servers.broker.as_mut().unwrap();
                tokio::task::block_in_place(|| broker.stop());
                self.tick_for(outage).await;
                let broker = self.servers.broker.as_mut().unwrap();
                tokio::task::block_in_place(|| broker.start());
            }
            Kind::DiskFull => {
                let ballast = self.disk.as_ref().unwrap().fill();
                self.tick_for(outage).await;
                std::fs::remove_file(ballast).unwrap();
            }
        }
    }

    fn proxy(&self) -> &Proxy {
        match self.kind {
            Kind::PgNetDrop | Kind::PgNetStall | Kind::PgNetReset => {
                self.pg_proxy.as_ref().unwrap()
            }
            _ => self.servers.kafka_proxy.as_ref().unwrap(),
        }
    }

    /// Waits until the output holds the change `last` (or a later state of its key).
    async fn wait_covered(&mut self, last: Option<(i64, i64)>, secs: u64) -> bool {
        let Some((k, seq)) = last else { return true };
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            self.tick().await;
            if self.max_seq.get(&k).is_some_and(|&m| m >= seq) {
                return true;
            }
            if self.servers.broker_panics() > self.broker_panics {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

/// One run of one fault kind: a fresh database, Sluice, a writer, `faults_per_run` faults.
pub async fn run_once(
    kind: Kind,
    seed: u64,
    plan: &Plan,
    servers: &mut Servers,
) -> Result<Outcome, String> {
    let mut rng = Rng::new(seed);
    let moments: Vec<Moment> = (0..plan.faults_per_run)
        .map(|i| {
            if !plan.moments.is_empty() {
                rng.pick(&plan.moments)
            } else if i == 0 {
                rng.pick(&[
                    Moment::Snapshot,
                    Moment::Switch,
                    Moment::Streaming,
                    Moment::MidTxn,
                    Moment::Commit,
                ])
            } else {
                rng.pick(&[Moment::Streaming, Moment::MidTxn, Moment::Commit])
            }
        })
        .collect();
    // A snapshot of a few thousand rows is over in milliseconds: give a fault during the
    // snapshot something to interrupt.
    let rows = if moments.first() == Some(&Moment::Snapshot) {
        plan.snapshot_rows
    } else {
        plan.rows
    };
    let _turn = if kind.on_fault_cluster() {
        Some(FAULT_CLUSTER.lock().await)
    } else {
        None
    };
    let db = if kind.on_fault_cluster() {
        FaultCluster::from_env().database("faults").await
    } else {
        TestDb::empty("faults").await
    };
    db.exec(&format!(
        "CREATE TABLE kv (k bigint PRIMARY KEY, seq bigint NOT NULL, pad text);
         INSERT INTO kv SELECT g, 0, md5(g::text) FROM generate_series(1, {rows}) g"
    ))
    .await;
    // Offset commits are watched in the local offset store only.
    let commits_only = plan.moments == [Moment::Commit];
    let target = if kind.needs_kafka() {
        Target::Kafka
    } else if kind == Kind::DiskFull
        || servers.bootstrap().is_none()
        || commits_only
        || rng.range(0, 1) == 0
    {
        Target::Local
    } else {
        Target::Kafka
    };
    let dir = tempfile::tempdir().unwrap();
    let disk = if kind == Kind::DiskFull {
        Some(SmallDisk::mount(&dir.path().join("data"))?)
    } else {
        None
    };
    let pg_proxy = if matches!(kind, Kind::PgNetDrop | Kind::PgNetStall | Kind::PgNetReset) {
        Some(Proxy::start(db.pg.port).await)
    } else {
        None
    };
    let name = unique("flt");
    let mut config = db.connector(
        &name,
        &[
            ("table.include.list", "public.kv"),
            ("status.update.interval.ms", "500"),
            // Small records: the check reads every one back.
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "false"),
        ],
    );
    if let Some(p) = &pg_proxy {
        config["config"]["database.port"] = Json::String(p.port.to_string());
    }
    let slot = config["config"]["slot.name"].as_str().unwrap().to_owned();
    let mut args = Vec::new();
    if target == Target::Kafka {
        // Internal topics of its own: a worker on the shared broker would otherwise start
        // every earlier run's connectors too.
        let props = dir.path().join("worker.properties");
        std::fs::write(
            &props,
            format!(
                "offset.storage.topic=offsets-{name}\nconfig.storage.topic=configs-{name}\nstatus.storage.topic=status-{name}\ngroup.id={name}\n"
            ),
        )
        .unwrap();
        args.extend([
            "--bootstrap-servers".to_owned(),
            servers.bootstrap().unwrap(),
            "--worker-config".to_owned(),
            props.display().to_string(),
        ]);
    }
    let worker = kind != Kind::Kill9Run;
    let mut process = Process {
        sluice: Sluice::new(dir.path()),
        worker,
        config: config.clone(),
        args,
        api: Api::new(String::new()),
    };
    process.start().await;
    if worker {
        let (code, body) = process.api.post("/connectors", Some(config)).await;
        if !code.is_success() {
            return Err(format!("create connector: {code} {body}"));
        }
    }
    let topic = format!("{name}.public.kv");
    let reader = match target {
        Target::Local => Reader::Local {
            dir: process.sluice.data_dir().join("topics").join(&topic),
            pos: 0,
        },
        Target::Kafka => Reader::Kafka {
            bootstrap: servers.bootstrap().unwrap(),
            topic: topic.clone(),
            consumer: None,
        },
    };
    let broker_panics = servers.broker_panics();
    let writer = Writer::start(db.pg.clone(), db.name.clone(), Rng::new(rng.next_u64()));
    let mut run = Run {
        kind,
        name: name.clone(),
        process,
        reader,
        events: Vec::new(),
        max_seq: HashMap::new(),
        writer,
        pg: db.pg.clone(),
        db: db.name.clone(),
        slot,
        admin: None,
        disk,
        servers,
        pg_proxy,
        target,
        outcome: Outcome {
            target: if target == Target::Local {
                "local"
            } else {
                "kafka"
            },
            ..Outcome::default()
        },
        injected: Vec::new(),
        down: false,
        broker_panics,
    };

    for wanted in moments {
        let moment = run.wait_for_moment(wanted, &mut rng).await;
        run.tick().await;
        let rss_before = run.process.rss_kb().unwrap_or(0);
        run.injected.push(Injected {
            events_before: run.events.len(),
            committed_lsn: if target == Target::Local {
                run.offsets_lsn()
            } else {
                None
            },
            snapshot_committed: run.snapshot_committed(),
            moment,
        });
        run.outcome.peak_rss_kb = 0;
        run.inject(&mut rng, plan.outage_max).await;
        run.outcome.faults += 1;
        run.outcome.moments.push(moment.name());
        let ended = Instant::now();
        let last = run.writer.last_committed();
        if !run.wait_covered(last, 180).await {
            run.outcome.problems.push(format!(
                "no recovery within 180 s after a fault at {}",
                moment.name()
            ));
            break;
        }
        run.outcome.longest_recovery = run.outcome.longest_recovery.max(ended.elapsed());
        // The backlog of a sink that was away waits in the slot, not in Sluice's memory.
        if kind.sink_unreachable() && rss_before > 0 {
            let grew = run.outcome.peak_rss_kb.saturating_sub(rss_before);
            if grew > MEMORY_GROWTH_LIMIT_KB {
                run.outcome.problems.push(format!(
                    "memory grew by {} MB while the sink was away",
                    grew / 1024
                ));
            }
        }
    }
    run.tick_for(Duration::from_millis(rng.range(300, 1500)))
        .await;
    let committed = run.writer.finish().await;
    if !run.wait_covered(committed.last().copied(), 180).await {
        run.outcome
            .problems
            .push("the last committed change never arrived".into());
    }
    // Everything else committed is older: give the output a moment to settle.
    run.tick_for(Duration::from_millis(300)).await;
    check(&mut run, &committed, rows);
    if let Some((state, err)) = run.process.task(&name).await {
        if state != "RUNNING" {
            run.outcome.problems.push(format!(
                "task {state} at the end: {}",
                err.unwrap_or_default()
            ));
        }
    }
    if run.servers.broker_panics() > run.broker_panics {
        run.outcome
            .problems
            .push("the broker (Tansu) panicked, see its log".into());
    }
    if !run.outcome.problems.is_empty() {
        run.outcome.problems.push(format!(
            "seed {seed}, log {}",
            run.process.sluice.log.display()
        ));
        // Keep the evidence of a failed run.
        let kept = dir.keep();
        eprintln!("kept {}", kept.display());
        if let Some(b) = &run.servers.broker {
            let _ = std::fs::copy(b.log(), kept.join("tansu.log"));
        }
    }
    run.process.sluice.kill();
    drop(run.disk.take());
    let outcome = run.outcome.clone();
    drop(run);
    db.drop().await;
    Ok(outcome)
}

/// RSS growth allowed while a sink is away (the pipeline's queues are bounded well below).
const MEMORY_GROWTH_LIMIT_KB: u64 = 256 * 1024;

/// The output against what the writer committed.
fn check(run: &mut Run<'_>, committed: &[(i64, i64)], rows: i64) {
    let events = &run.events;
    let o = &mut run.outcome;
    // The snapshot: every row of the table.
    let mut snapshot_keys = vec![false; rows as usize + 1];
    let mut snapshot_seq: HashMap<i64, i64> = HashMap::new();
    let mut by_seq: HashMap<i64, usize> = HashMap::new();
    for e in events {
        if e.snapshot {
            if let Some(slot) = snapshot_keys.get_mut(e.k as usize) {
                *slot = true;
            }
            let s = snapshot_seq.entry(e.k).or_insert(i64::MIN);
            *s = (*s).max(e.seq);
        }
        *by_seq.entry(e.seq).or_default() += 1;
    }
    let missing_rows = snapshot_keys[1..].iter().filter(|&&seen| !seen).count();
    if missing_rows > 0 {
        o.problems
            .push(format!("{missing_rows} rows missing from the snapshot"));
        o.lost += missing_rows;
    }
    // Every committed change, or a snapshot that read its key's state after it.
    let mut lost = Vec::new();
    for &(k, seq) in committed {
        if by_seq.contains_key(&seq) {
            continue;
        }
        if snapshot_seq.get(&k).is_some_and(|&s| s >= seq) {
            o.covered_by_snapshot += 1;
            continue;
        }
        lost.push((k, seq));
    }
    o.changes_checked += committed.len() + rows as usize;
    o.lost += lost.len();
    if !lost.is_empty() {
        o.problems.push(format!(
            "{} committed changes lost, first (key, seq): {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        ));
    }
    // Per key, first sightings in output order follow commit order; a later sighting of the
    // same change is a duplicate, and must come from a replay after a fault, of a change at or
    // after the offset committed before that fault.
    // Where each transaction committed, from the next transaction's `sequence`, and its
    // highest change position: a transaction is durable before a fault when it committed
    // before the offset committed then. (An offset may lie inside a transaction's WAL: the
    // server's keepalive position between transactions sent, while it still reads a long one.)
    let mut commit_of: HashMap<i64, u64> = HashMap::new();
    let mut max_lsn: HashMap<i64, u64> = HashMap::new();
    let mut previous_tx = None;
    for e in events {
        if let (Some(tx), Some(lsn)) = (e.tx, e.lsn) {
            let m = max_lsn.entry(tx).or_insert(lsn);
            *m = (*m).max(lsn);
        }
        if e.tx != previous_tx {
            if let (Some(prev), Some(c)) = (previous_tx, e.prev_commit) {
                commit_of.entry(prev).or_insert(c);
            }
            previous_tx = e.tx;
        }
    }
    let durable_before = |e: &Event, offset: u64| match e.tx {
        Some(tx) => match commit_of.get(&tx) {
            Some(&commit) => commit < offset,
            None => max_lsn.get(&tx).is_some_and(|&m| m < offset),
        },
        None => e.lsn.is_some_and(|l| l < offset),
    };
    let mut seen: HashMap<(i64, i64), ()> = HashMap::new();
    let mut last: HashMap<i64, i64> = HashMap::new();
    let mut out_of_order = 0;
    for (pos, e) in events.iter().enumerate() {
        if seen.insert((e.k, e.seq), ()).is_some() {
            o.duplicates += 1;
            let fault = run.injected.iter().rev().find(|f| f.events_before <= pos);
            match fault {
                None => o.problems.push(format!(
                    "duplicate before any fault: key {} seq {}",
                    e.k, e.seq
                )),
                Some(f) => {
                    // A snapshot is taken again only if none was committed complete.
                    if e.snapshot && f.snapshot_committed == Some(true) {
                        o.problems.push(format!(
                            "snapshot record of key {} repeated after a fault although the snapshot was committed complete",
                            e.k
                        ));
                    }
                    if let (Some(c), Some(lsn), false) = (f.committed_lsn, e.lsn, e.snapshot) {
                        if durable_before(e, c) {
                            o.problems.push(format!(
                                "change at LSN {lsn} (key {} seq {}, transaction {:?}) repeated although its transaction committed before the offset {c}, committed before the fault at {}",
                                e.k,
                                e.seq,
                                e.tx,
                                f.moment.name()
                            ));
                        }
                    }
                }
            }
            continue;
        }
        let prev = last.entry(e.k).or_insert(i64::MIN);
        if e.seq < *prev {
            out_of_order += 1;
        }
        *prev = e.seq;
    }
    if out_of_order > 0 {
        o.problems.push(format!(
            "{out_of_order} changes out of commit order for their key"
        ));
    }
    o.problems.dedup();
    if o.problems.len() > 20 {
        o.problems.truncate(20);
    }
}

/// Totals per fault kind, for the summary table.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    pub runs: usize,
    pub faults: usize,
    pub changes_checked: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub longest_recovery: Duration,
    pub peak_rss_kb: u64,
    pub moments: HashMap<&'static str, usize>,
    pub targets: HashMap<&'static str, usize>,
    pub error_in_status: usize,
    pub failed_runs: usize,
    pub blocked: Option<String>,
}

impl Totals {
    pub fn add(&mut self, o: &Outcome) {
        self.runs += 1;
        self.faults += o.faults;
        self.changes_checked += o.changes_checked;
        self.lost += o.lost;
        self.duplicates += o.duplicates;
        self.longest_recovery = self.longest_recovery.max(o.longest_recovery);
        self.peak_rss_kb = self.peak_rss_kb.max(o.peak_rss_kb);
        for m in &o.moments {
            *self.moments.entry(m).or_default() += 1;
        }
        *self.targets.entry(o.target).or_default() += 1;
        if o.error_seen_in_status {
            self.error_in_status += 1;
        }
        if !o.problems.is_empty() {
            self.failed_runs += 1;
        }
    }
}

pub fn table(totals: &[(Kind, Totals)]) -> String {
    let mut s = String::from(
        "| fault | runs | faults | changes checked | lost | duplicates | longest recovery | peak RSS during recovery | moments (snapshot/switch/streaming/mid-txn/commit) | target (local/kafka) | runs with error in status | failed runs |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (kind, t) in totals {
        if let Some(why) = &t.blocked {
            let _ = writeln!(s, "| {} | blocked: {why} |||||||||||", kind.name());
            continue;
        }
        let m = |n: &str| t.moments.get(n).copied().unwrap_or(0);
        let g = |n: &str| t.targets.get(n).copied().unwrap_or(0);
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {:.1} s | {} MB | {}/{}/{}/{}/{} | {}/{} | {} | {} |",
            kind.name(),
            t.runs,
            t.faults,
            t.changes_checked,
            t.lost,
            t.duplicates,
            t.longest_recovery.as_secs_f64(),
            t.peak_rss_kb / 1024,
            m("snapshot"),
            m("switch"),
            m("streaming"),
            m("mid-txn"),
            m("commit"),
            g("local"),
            g("kafka"),
            t.error_in_status,
            t.failed_runs,
        );
    }
    s
}

/// Runs the plan: `runs` runs of every kind, seeds derived from the plan's seed. Returns the
/// totals and every problem found (with the seed that repeats it).
pub async fn run_plan(plan: &Plan) -> (Vec<(Kind, Totals)>, Vec<String>) {
    let with_kafka = plan.kinds.iter().any(|&k| k != Kind::DiskFull);
    let mut servers = Servers::start(with_kafka).await;
    let mut totals: Vec<(Kind, Totals)> =
        plan.kinds.iter().map(|&k| (k, Totals::default())).collect();
    let mut problems = Vec::new();
    for run in 0..plan.runs {
        for (kind, t) in totals.iter_mut() {
            // A run's seed depends on the plan's seed, its kind and its number only, so
            // `--kinds one-kind` repeats that kind's runs of a larger plan.
            let seed = Rng::new(plan.seed ^ ((*kind as u64) << 40) ^ run as u64).next_u64();
            if t.blocked.is_some() {
                continue;
            }
            eprintln!("[faults] run {run} {} seed {seed}", kind.name());
            match run_once(*kind, seed, plan, &mut servers).await {
                Ok(o) => {
                    eprintln!(
                        "[faults]   {} faults at {:?}, {} changes, {} lost, {} duplicates, recovery {:.1} s{}",
                        o.faults,
                        o.moments,
                        o.changes_checked,
                        o.lost,
                        o.duplicates,
                        o.longest_recovery.as_secs_f64(),
                        if o.problems.is_empty() { String::new() } else { format!(", PROBLEMS: {:?}", o.problems) }
                    );
                    for p in &o.problems {
                        problems.push(format!("{} (seed {seed}): {p}", kind.name()));
                    }
                    t.add(&o);
                }
                Err(why) => t.blocked = Some(why),
            }
        }
    }
    (totals, problems)
}
