//! Test harness: real PostgreSQL 15 (and a real Kafka-protocol broker) started by
//! `scripts/test`, a fresh database per test cloned from the Pagila template, and the
//! `sluice` binary cargo just built, run as a child process.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub use reqwest::StatusCode;
use serde_json::Value as Json;
use tokio_postgres::{Client, NoTls};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with scripts/test, which starts PostgreSQL 15 and the Kafka broker")
    })
}

#[derive(Clone)]
pub struct Pg {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl Pg {
    pub fn from_env() -> Self {
        Pg {
            host: env("SLUICE_TEST_PG_HOST"),
            port: env("SLUICE_TEST_PG_PORT")
                .parse()
                .expect("SLUICE_TEST_PG_PORT is a port"),
            user: env("SLUICE_TEST_PG_USER"),
            password: env("SLUICE_TEST_PG_PASSWORD"),
        }
    }

    /// A connection, or `None` while the server is not reachable.
    pub async fn try_connect(&self, db: &str) -> Option<Client> {
        let (client, conn) = tokio_postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect(NoTls)
            .await
            .ok()?;
        tokio::spawn(conn);
        Some(client)
    }

    pub async fn connect(&self, db: &str) -> Client {
        let (client, conn) = tokio_postgres::Config::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(db)
            .connect(NoTls)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "connect to test PostgreSQL {}:{} db {db}: {e}",
                    self.host, self.port
                )
            });
        tokio::spawn(conn);
        client
    }
}

/// A database of its own for one test, with its slot and publication dropped afterwards.
pub struct TestDb {
    pub pg: Pg,
    pub name: String,
    pub client: Client,
}

static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros()
        % 1_000_000_000;
    format!("{prefix}_{}_{t}_{n}", std::process::id())
}

impl TestDb {
    /// A fresh copy of Pagila.
    pub async fn pagila(prefix: &str) -> Self {
        Self::create(prefix, Some(&env("SLUICE_TEST_PAGILA_TEMPLATE"))).await
    }

    /// An empty database.
    pub async fn empty(prefix: &str) -> Self {
        Self::create(prefix, None).await
    }

    async fn create(prefix: &str, template: Option<&str>) -> Self {
        let pg = Pg::from_env();
        let name = unique(prefix);
        let admin = pg.connect("postgres").await;
        let sql = match template {
            Some(t) => format!("CREATE DATABASE {name} TEMPLATE {t}"),
            None => format!("CREATE DATABASE {name}"),
        };
        // The template may be briefly in use by another test's CREATE DATABASE.
        let mut tries = 0;
        loop {
            match admin.batch_execute(&sql).await {
                Ok(()) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("{sql}: {e:?}"),
            }
        }
        let client = pg.connect(&name).await;
        TestDb { pg, name, client }
    }

    /// An empty database with `public.big (id int PRIMARY KEY, pad text)` holding ids 1..=rows.
    pub async fn with_big_table(prefix: &str, rows: i64) -> Self {
        let db = Self::empty(prefix).await;
        db.exec(&format!(
            "CREATE TABLE public.big (id int PRIMARY KEY, pad text);
             INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, {rows}) g"
        ))
        .await;
        db
    }

    pub async fn exec(&self, sql: &str) {
        self.client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }

    /// The columns of `public.<table>` in order, each with its type as `format_type` spells it.
    pub async fn column_types(&self, table: &str) -> Vec<(String, String)> {
        let sql =
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
                   WHERE a.attrelid = to_regclass('public.' || quote_ident($1)) AND a.attnum > 0 \
                   AND NOT a.attisdropped ORDER BY a.attnum";
        self.client
            .query(sql, &[&table])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect()
    }

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        self.client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .get(0)
    }

    pub async fn scalar_string(&self, sql: &str) -> Option<String> {
        self.client
            .query_one(sql, &[])
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .get(0)
    }

    /// A Debezium connector config for this database.
    pub fn connector(&self, name: &str, extra: &[(&str, &str)]) -> Json {
        let mut config = serde_json::json!({
            "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
            "database.hostname": self.pg.host,
            "database.port": self.pg.port.to_string(),
            "database.user": self.pg.user,
            "database.password": self.pg.password,
            "database.dbname": self.name,
            "topic.prefix": name,
            "slot.name": format!("slot_{}", self.name),
            "publication.name": format!("pub_{}", self.name),
        });
        for (k, v) in extra {
            config[*k] = Json::String((*v).to_owned());
        }
        serde_json::json!({"name": name, "config": config})
    }

    pub async fn slot_confirmed_flush(&self) -> Option<i64> {
        let row = self
            .client
            .query_opt(
                "SELECT (confirmed_flush_lsn - '0/0')::int8 FROM pg_replication_slots WHERE database = current_database()",
                &[],
            )
            .await
            .unwrap();
        row.and_then(|r| r.get(0))
    }

    pub async fn drop(self) {
        let admin = self.pg.connect("postgres").await;
        let _ = admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '{0}' AND active_pid IS NOT NULL;
                 SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{0}';",
                self.name
            ))
            .await;
        drop(self.client);
        let _ = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// A running `sluice run` process with its own data dir.
pub struct Sluice {
    pub dir: PathBuf,
    child: Option<Child>,
    pub log: PathBuf,
    /// Environment variables the process gets.
    pub envs: Vec<(String, String)>,
}

impl Sluice {
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    pub fn new(dir: &Path) -> Self {
        Sluice {
            dir: dir.to_owned(),
            child: None,
            log: dir.join("sluice.log"),
            envs: Vec::new(),
        }
    }

    /// Starts `sluice worker` on a free port; returns the REST base URL.
    pub fn start_worker(&mut self, extra_args: &[&str]) -> String {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut args: Vec<String> = vec![
            "worker".into(),
            "--data-dir".into(),
            self.data_dir().display().to_string(),
            "--rest-port".into(),
            port.to_string(),
        ];
        args.extend(extra_args.iter().map(|s| s.to_string()));
        self.spawn(&args);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "worker did not listen\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        format!("http://127.0.0.1:{port}")
    }

    fn spawn(&mut self, args: &[String]) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(args)
            .env("SLUICE_LOG", "info,sluice_postgres=debug")
            .envs(self.envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(std::fs::File::create(self.dir.join("stdout.jsonl")).unwrap())
            .stderr(log)
            .spawn()
            .expect("start sluice");
        self.child = Some(child);
    }

    /// Writes the connector configs and starts `sluice run` on them.
    pub fn start(&mut self, configs: &[Json], extra_args: &[&str]) {
        let mut args: Vec<String> = vec![
            "run".into(),
            "--data-dir".into(),
            self.data_dir().display().to_string(),
        ];
        args.extend(extra_args.iter().map(|s| s.to_string()));
        for (i, c) in configs.iter().enumerate() {
            let path = self.dir.join(format!("connector-{i}.json"));
            std::fs::write(&path, serde_json::to_vec_pretty(c).unwrap()).unwrap();
            args.push(path.display().to_string());
        }
        self.spawn(&args);
    }

    /// Waits until the connector streams (its snapshot, if any, is done).
    pub async fn wait_streaming(&self) {
        wait_for(120, "streaming to start", self, || {
            self.log_text().contains("streaming changes")
        })
        .await;
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// kill -9.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// A clean stop (SIGINT, as Ctrl-C).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            unsafe_sigint(c.id());
            let deadline = Instant::now() + Duration::from_secs(30);
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

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What `--stdout` printed, one JSON record per line.
    pub fn stdout_records(&self) -> Vec<Json> {
        let text = std::fs::read_to_string(self.dir.join("stdout.jsonl")).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("stdout lines are JSON"))
            .collect()
    }

    /// Bytes written to a local topic so far (cheap to poll).
    pub fn topic_bytes(&self, topic: &str) -> u64 {
        let path = self
            .data_dir()
            .join("topics")
            .join(topic)
            .join("partition-0.jsonl");
        std::fs::metadata(path).map_or(0, |m| m.len())
    }

    /// The last complete record of a local topic (cheap to poll on large topics).
    pub fn last_record(&self, topic: &str) -> Option<Json> {
        use std::io::{Read, Seek, SeekFrom};
        let path = self
            .data_dir()
            .join("topics")
            .join(topic)
            .join("partition-0.jsonl");
        let mut f = std::fs::File::open(path).ok()?;
        let len = f.metadata().ok()?.len();
        f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)))
            .ok()?;
        let mut tail = String::new();
        f.read_to_string(&mut tail).ok()?;
        tail.lines()
            .rev()
            .find_map(|l| serde_json::from_str(l).ok())
    }

    /// Records of a local topic, parsed.
    pub fn records(&self, topic: &str) -> Vec<Json> {
        let path = self
            .data_dir()
            .join("topics")
            .join(topic)
            .join("partition-0.jsonl");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        self.kill();
    }
}

fn unsafe_sigint(pid: u32) {
    let _ = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
}

/// Polls `check` until it returns true, failing with `what` and the sluice log after `secs`.
pub async fn wait_for(secs: u64, what: &str, sluice: &Sluice, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "timed out waiting for {what}\n--- sluice log ---\n{}",
        sluice.log_text()
    );
}

/// The payload of a record's value (schemas on), or Null for a tombstone.
pub fn payload(record: &Json) -> &Json {
    let v = &record["value"];
    if v.get("payload").is_some() {
        &v["payload"]
    } else {
        v
    }
}

pub fn key_payload(record: &Json) -> &Json {
    let k = &record["key"];
    if k.get("payload").is_some() {
        &k["payload"]
    } else {
        k
    }
}

/// An HTTP client (rustls's provider installed first, as the binary does).
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A client of the worker's REST API.
pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: String) -> Self {
        Api {
            base,
            http: http_client(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Json>,
    ) -> (StatusCode, Json) {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            if text.is_empty() {
                Json::Null
            } else {
                serde_json::from_str(&text).unwrap()
            },
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Json) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Option<Json>) -> (StatusCode, Json) {
        self.call(reqwest::Method::PUT, path, body).await
    }

    pub async fn post(&self, path: &str, body: Option<Json>) -> (StatusCode, Json) {
        self.call(reqwest::Method::POST, path, body).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Json) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    pub async fn task_state(&self, name: &str) -> String {
        let (_, s) = self.get(&format!("/connectors/{name}/status")).await;
        s["tasks"][0]["state"].as_str().unwrap_or("none").to_owned()
    }

    /// Polls the connector's task until it is FAILED, for up to `secs`; returns its trace.
    pub async fn wait_failed(&self, name: &str, secs: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (_, status) = self.get(&format!("/connectors/{name}/status")).await;
            let task = &status["tasks"][0];
            if task["state"] == "FAILED" {
                return task["trace"].as_str().unwrap_or_default().to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the task did not fail within {secs} s: {status}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The cluster scripts/test starts for tests that restart PostgreSQL.
pub struct FaultCluster {
    pub pg: Pg,
    pub dir: PathBuf,
}

impl FaultCluster {
    pub fn from_env() -> Self {
        FaultCluster {
            pg: Pg {
                host: "127.0.0.1".into(),
                port: env("SLUICE_TEST_FAULT_PG_PORT")
                    .parse()
                    .expect("SLUICE_TEST_FAULT_PG_PORT is a port"),
                user: "postgres".into(),
                password: "postgres".into(),
            },
            dir: PathBuf::from(env("SLUICE_TEST_FAULT_PG_DIR")),
        }
    }

    pub fn pg_clone(&self) -> Pg {
        Pg {
            host: self.pg.host.clone(),
            port: self.pg.port,
            user: self.pg.user.clone(),
            password: self.pg.password.clone(),
        }
    }

    /// An empty database of its own in this cluster.
    pub async fn database(&self, prefix: &str) -> TestDb {
        let name = unique(prefix);
        let admin = self.pg.connect("postgres").await;
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let client = self.pg.connect(&name).await;
        TestDb {
            pg: Pg {
                host: self.pg.host.clone(),
                port: self.pg.port,
                user: self.pg.user.clone(),
                password: self.pg.password.clone(),
            },
            name,
            client,
        }
    }

    /// `pg_ctl <args>` on this cluster, as its owner; returns how long it took.
    pub fn pg_ctl(&self, args: &[&str]) -> Duration {
        let bin = PathBuf::from(env("SLUICE_TEST_PG_BIN")).join("pg_ctl");
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let mut full: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        full.extend([
            "-D".into(),
            data.display().to_string(),
            "-l".into(),
            log.display().to_string(),
            "-w".into(),
            "-t".into(),
            "120".into(),
        ]);
        let as_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        let started = Instant::now();
        let status = if as_root {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&bin)
                .args(&full)
                .current_dir("/")
                .status()
        } else {
            Command::new(&bin).args(&full).status()
        }
        .expect("run pg_ctl");
        assert!(status.success(), "pg_ctl {args:?} failed");
        started.elapsed()
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `sluice run` on one config, which must fail (without a panic) within `within_secs`;
/// returns its stderr.
pub fn run_failing(within_secs: u64, config: &Json) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.json");
    std::fs::write(&path, serde_json::to_vec(config).unwrap()).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["run", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg(&path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(within_secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(
                !status.success(),
                "expected a failure, got success:\n{stderr}"
            );
            assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
            return stderr;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("sluice did not fail within {within_secs} s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The way back from a lost slot: stop the connector, reset its offsets, resume, and wait for
/// the new snapshot's `snapshot_rows` read events in `topic`; the task is RUNNING after.
pub async fn start_over(api: &Api, w: &Sluice, name: &str, topic: &str, snapshot_rows: usize) {
    api.put(&format!("/connectors/{name}/stop"), None).await;
    let (code, body) = api.delete(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    api.put(&format!("/connectors/{name}/resume"), None).await;
    wait_for(120, "the new snapshot", w, || {
        w.records(topic)
            .iter()
            .filter(|r| payload(r)["op"] == "r")
            .count()
            >= snapshot_rows
    })
    .await;
    assert_eq!(api.task_state(name).await, "RUNNING");
}
