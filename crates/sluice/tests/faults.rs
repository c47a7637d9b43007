//! Faults a task must ride out without anyone's help: Sluice killed, PostgreSQL restarted,
//! its walsender terminated, the network to PostgreSQL or the broker cut or stalled, the broker
//! stopped, the data disk full. The task stays RUNNING (the error is retried with backoff and
//! shown in its status meanwhile), reconnects, and every change committed around the fault
//! arrives. A fault that cannot be survived (the slot dropped) ends in a clear FAILED.
//!
//! `cargo test` runs a short fixed-seed set; `scripts/faults` runs the long one (the ignored
//! `fault_suite` test, driven by SLUICE_FAULTS_* variables) and writes bench/FAULTS.md.

mod common;
#[path = "faults/proxy.rs"]
mod proxy;
#[path = "faults/suite.rs"]
mod suite;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::*;
use serde_json::Value as Json;
use suite::{run_plan, table, Kind, Moment, Plan, BIG_TXN};

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_keeps_the_task_running_and_loses_nothing() {
    let _turn = suite::FAULT_CLUSTER.lock().await;
    let cluster = FaultCluster::from_env();
    let db = cluster.database("restart").await;
    db.exec("CREATE TABLE public.t (id int PRIMARY KEY)").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("rs");
    let port = free_port();
    s.start(
        &[db.connector(
            &name,
            &[
                ("table.include.list", "public.t"),
                ("status.update.interval.ms", "500"),
            ],
        )],
        &["--rest-port", &port.to_string()],
    );
    s.wait_streaming().await;
    let api = Api::new(format!("http://127.0.0.1:{port}"));

    // A writer that keeps inserting through the restart, reconnecting as needed; it knows
    // which inserts were committed.
    let (pg, dbname) = (cluster.pg_clone(), db.name.clone());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writing = done.clone();
    let writer = tokio::spawn(async move {
        let mut committed = Vec::new();
        let mut client = None;
        let mut id = 1;
        while !writing.load(std::sync::atomic::Ordering::Relaxed) {
            if client.is_none() {
                client = pg.try_connect(&dbname).await;
            }
            let Some(c) = &client else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            match c
                .batch_execute(&format!("INSERT INTO public.t VALUES ({id})"))
                .await
            {
                Ok(()) => {
                    committed.push(id);
                    id += 1;
                }
                // The insert may or may not have committed; a retry tells.
                Err(e) if e.as_db_error().is_some_and(|d| d.code().code() == "23505") => id += 1,
                Err(_) => client = None,
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        committed
    });
    // Several restarts under the writer: each shutdown finishes (pg_ctl gives up after 120 s)
    // because Sluice confirms what the server sent when it asks at shutdown. Each comes once
    // the task has recovered from the last (new rows arrive, and an offset commit follows).
    let topic = format!("{name}.public.t");
    let newest = |s: &Sluice| {
        s.last_record(&topic)
            .and_then(|r| payload(&r)["after"]["id"].as_i64())
            .unwrap_or(0)
    };
    for _ in 0..3 {
        let before = newest(&s);
        wait_for(60, "rows after the last restart", &s, || {
            newest(&s) > before + 5
        })
        .await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let took = tokio::task::spawn_blocking({
            let c = FaultCluster::from_env();
            move || c.pg_ctl(&["restart", "-m", "fast"])
        })
        .await
        .unwrap();
        eprintln!("pg_ctl restart -m fast took {took:?}");
    }
    // While the server is away the task retries and stays RUNNING.
    let mut saw_retry = false;
    for _ in 0..100 {
        let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
        let task = &status["tasks"][0];
        assert_eq!(task["state"], "RUNNING", "{status}");
        if task["last_error"].is_string() {
            saw_retry = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let committed = writer.await.unwrap();
    let want: BTreeSet<i64> = committed.iter().map(|&i| i64::from(i)).collect();
    wait_for(120, "every committed row after the restart", &s, || {
        let got: BTreeSet<i64> = s
            .records(&topic)
            .iter()
            .filter_map(|r| payload(r)["after"]["id"].as_i64())
            .collect();
        want.is_subset(&got)
    })
    .await;
    let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(status["tasks"][0]["state"], "RUNNING", "{status}");
    // Recovered (offsets committed again): the error is no longer shown.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (_, status) = api.get(&format!("/connectors/{name}/status")).await;
        if status["tasks"][0]["last_error"].is_null() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the error stays after recovery: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        saw_retry || s.log_text().contains("retrying"),
        "no retry was seen\n{}",
        s.log_text()
    );
    // A task that recovered (committed offsets) starts its next retries from the first, short
    // delay: one run of attempts from 1 per restart, not one long run of growing delays.
    let attempts: Vec<u32> = s
        .log_text()
        .lines()
        .filter(|l| l.contains("task failed with a transient error"))
        .filter_map(|l| {
            l.split("attempt=")
                .nth(1)?
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let fresh_starts = attempts.iter().filter(|&&a| a == 1).count();
    assert!(
        fresh_starts >= 3,
        "retry attempts {attempts:?}\n{}",
        s.log_text()
    );
    s.stop();
    db.drop().await;
}

/// The short set: one run of each kind, one fault each, at a seeded moment.
async fn short_set(kinds: &[Kind], seed: u64) {
    let plan = Plan {
        seed,
        runs: 1,
        kinds: kinds.to_vec(),
        faults_per_run: 1,
        rows: 5_000,
        snapshot_rows: 40_000,
        outage_max: Duration::from_secs(3),
        moments: Vec::new(),
    };
    let (totals, problems) = run_plan(&plan).await;
    eprintln!("{}", table(&totals));
    assert!(problems.is_empty(), "{problems:#?}");
    for (kind, t) in &totals {
        match &t.blocked {
            // Only the disk needs a privilege (mounting a tmpfs); say so rather than fail.
            Some(why) if *kind == Kind::DiskFull => eprintln!("{} blocked: {why}", kind.name()),
            Some(why) => panic!("{} could not run: {why}", kind.name()),
            None => assert_eq!(t.faults, 1, "{}", kind.name()),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn short_set_sluice_and_postgres_faults() {
    short_set(
        &[
            Kind::Kill9Run,
            Kind::Kill9Worker,
            Kind::PgRestartFast,
            Kind::PgRestartImmediate,
            Kind::WalsenderTerminate,
            Kind::PgNetDrop,
            Kind::PgNetStall,
            Kind::PgNetReset,
        ],
        18,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn short_set_sink_faults() {
    short_set(
        &[
            Kind::KafkaNetDrop,
            Kind::KafkaNetStall,
            Kind::KafkaNetReset,
            Kind::BrokerStop,
            Kind::DiskFull,
        ],
        18,
    )
    .await;
}

/// The long run (`scripts/faults`): SLUICE_FAULTS_SEED, _RUNS, _KINDS (comma-separated names),
/// _FAULTS_PER_RUN, _OUTAGE_SECS, _OUT (the results file).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by scripts/faults"]
async fn fault_suite() {
    let var = |k: &str| std::env::var(format!("SLUICE_FAULTS_{k}")).ok();
    let seed = var("SEED").map_or(1, |s| s.parse().expect("SLUICE_FAULTS_SEED is a number"));
    let kinds: Vec<Kind> = match var("KINDS") {
        Some(list) if !list.is_empty() => list
            .split(',')
            .map(|n| Kind::parse(n.trim()).unwrap_or_else(|| panic!("unknown fault kind {n}")))
            .collect(),
        _ => Kind::ALL.to_vec(),
    };
    let plan = Plan {
        seed,
        runs: var("RUNS").map_or(5, |s| s.parse().unwrap()),
        kinds,
        faults_per_run: var("FAULTS_PER_RUN").map_or(3, |s| s.parse().unwrap()),
        rows: 5_000,
        snapshot_rows: 150_000,
        outage_max: Duration::from_secs(var("OUTAGE_SECS").map_or(5, |s| s.parse().unwrap())),
        moments: var("MOMENTS")
            .filter(|list| !list.is_empty())
            .map(|list| {
                list.split(',')
                    .map(|n| {
                        Moment::parse(n.trim()).unwrap_or_else(|| panic!("unknown moment {n}"))
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let started = std::time::Instant::now();
    let (totals, problems) = run_plan(&plan).await;
    let mut report = format!(
        "# Fault suite results\n\nWritten by `scripts/faults --seed {} --runs {} --faults-per-run {} --outage-secs {}{}{}` \
         in {:.0} min. Each run: a fresh table of {} rows (150 000 when the first fault comes during the snapshot), a steady writer \
         (transactions of 1-4 updates, every 150th one of {} updates), faults at seeded moments, \
         then every committed change looked up in the output. \"changes checked\" counts the \
         snapshot rows and the committed changes; \"lost\" must be 0; duplicates are counted and \
         each one checked to come after the offset committed before its fault.\n\n",
        plan.seed,
        plan.runs,
        plan.faults_per_run,
        plan.outage_max.as_secs(),
        var("KINDS").filter(|v| !v.is_empty()).map_or(String::new(), |k| format!(" --kinds {k}")),
        var("MOMENTS").filter(|v| !v.is_empty()).map_or(String::new(), |m| format!(" --moments {m}")),
        started.elapsed().as_secs_f64() / 60.0,
        plan.rows,
        BIG_TXN,
    );
    report.push_str(&table(&totals));
    if problems.is_empty() {
        report.push_str("\nNo problems found.\n");
    } else {
        report.push_str("\n## Problems\n\n");
        for p in &problems {
            report.push_str(&format!("- {p}\n"));
        }
    }
    let out = var("OUT")
        .unwrap_or_else(|| format!("{}/../../bench/FAULTS.md", env!("CARGO_MANIFEST_DIR")));
    std::fs::write(&out, &report).unwrap();
    eprintln!("{report}");
    assert!(problems.is_empty(), "{problems:#?}");
}

/// A slot dropped by an operator cannot be survived: the changes after the stored position
/// are gone. The task ends FAILED, saying so and how to start again (a new snapshot), and
/// that way back works.
#[tokio::test(flavor = "multi_thread")]
async fn a_slot_dropped_by_an_operator_fails_clearly() {
    let db = TestDb::empty("slotdrop").await;
    db.exec("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let name = unique("sd");
    api.post(
        "/connectors",
        Some(db.connector(&name, &[("table.include.list", "public.t")])),
    )
    .await;
    let topic = format!("{name}.public.t");
    db.exec("INSERT INTO public.t VALUES (2)").await;
    wait_for(60, "the first change", &w, || w.records(&topic).len() == 2).await;
    // What an operator does: end the walsender, drop the slot before Sluice is back on it.
    let admin = db.pg.connect("postgres").await;
    let mut dropped = false;
    for _ in 0..100 {
        let _ = admin
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = '{}' AND active_pid IS NOT NULL",
                db.name
            ))
            .await;
        if admin
            .batch_execute(&format!(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{}'",
                db.name
            ))
            .await
            .is_ok()
            && db.slot_confirmed_flush().await.is_none()
        {
            dropped = true;
            break;
        }
    }
    assert!(dropped, "could not drop the slot");
    db.exec("INSERT INTO public.t VALUES (3)").await;
    let trace = api.wait_failed(&name, 30).await;
    assert!(trace.contains("no longer exists"), "{trace}");
    assert!(
        trace.contains(&format!("DELETE /connectors/{name}/offsets")),
        "{trace}"
    );
    // Nothing was streamed from a new slot behind the user's back.
    assert_eq!(w.records(&topic).len(), 2);
    // The way back: stop, reset the offsets, resume: a new snapshot with every row.
    start_over(&api, &w, &name, &topic, 4).await;
    w.stop();
    db.drop().await;
}

/// Sink connectors' faults: the system they write into goes away and comes back. A writer
/// keeps changing the source meanwhile; the task stays RUNNING (never FAILED, polled all
/// along), and the target ends equal to the source. `SLUICE_FAULTS_SINK_RESTARTS` sets how
/// many restarts (default 3); the seed (`SLUICE_FAULTS_SEED`) how long each outage lasts.
struct SinkFaults {
    restarts: usize,
    rng: suite::Rng,
}

impl SinkFaults {
    fn from_env() -> Self {
        let var = |k: &str, d: u64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(d)
        };
        SinkFaults {
            restarts: var("SLUICE_FAULTS_SINK_RESTARTS", 3) as usize,
            rng: suite::Rng::new(var("SLUICE_FAULTS_SEED", 7)),
        }
    }
}

/// Inserts ids 1.. and updates an earlier one now and then, until told to stop; reconnects if
/// needed. Returns how many rows it inserted.
fn steady_writer(
    db: &TestDb,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<i64> {
    let (pg, name) = (db.pg.clone(), db.name.clone());
    tokio::spawn(async move {
        let client = pg.connect(&name).await;
        let mut id = 0i64;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            id += 1;
            client
                .batch_execute(&format!(
                    "BEGIN; INSERT INTO public.t VALUES ({id}, 0); \
                     UPDATE public.t SET v = v + 1 WHERE id = {}; COMMIT",
                    id / 2 + 1
                ))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        id
    })
}

/// `public.t`'s rows in a new connection (empty while the server is away).
async fn table_rows(pg: &Pg, db: &str) -> Vec<(i64, i32)> {
    let Some(c) = pg.try_connect(db).await else {
        return Vec::new();
    };
    c.query("SELECT id, v FROM public.t ORDER BY id", &[])
        .await
        .map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        .unwrap_or_default()
}

async fn target_rows(target: &TestDb) -> i64 {
    table_rows(&target.pg, &target.name).await.len() as i64
}

/// Polls the task's state until `stop`; returns the states seen and whether an error showed.
fn watch_states(
    api: Api,
    name: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<(BTreeSet<String>, bool)> {
    tokio::spawn(async move {
        let (mut states, mut errored) = (BTreeSet::new(), false);
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let (_, s) = api.get(&format!("/connectors/{name}/status")).await;
            let task = &s["tasks"][0];
            states.insert(task["state"].as_str().unwrap_or("none").to_owned());
            errored |= task["last_error"].is_string();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        (states, errored)
    })
}

/// A source of `public.t` and `sink` in `sluice run`, streaming, with the steady writer and
/// the watcher of the sink's task state started.
struct UnderWriter {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    writer: tokio::task::JoinHandle<i64>,
    watcher: tokio::task::JoinHandle<(BTreeSet<String>, bool)>,
    api: Api,
    sink_name: String,
}

impl UnderWriter {
    async fn start(s: &mut Sluice, db: &TestDb, name: &str, sink: Json) -> Self {
        let port = free_port();
        let sink_name = sink["name"].as_str().unwrap().to_owned();
        s.start(
            &[
                db.connector(name, &[("table.include.list", "public.t")]),
                sink,
            ],
            &["--rest-port", &port.to_string()],
        );
        s.wait_streaming().await;
        let api = Api::new(format!("http://127.0.0.1:{port}"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        UnderWriter {
            writer: steady_writer(db, stop.clone()),
            watcher: watch_states(api, sink_name.clone(), stop.clone()),
            stop,
            api: Api::new(format!("http://127.0.0.1:{port}")),
            sink_name,
        }
    }

    /// The sink's committed consumer position (Connect's offsets endpoint); 0 before any.
    async fn committed(&self) -> i64 {
        let (_, body) = self
            .api
            .get(&format!("/connectors/{}/offsets", self.sink_name))
            .await;
        body["offsets"][0]["offset"]["kafka_offset"]
            .as_i64()
            .unwrap_or(0)
    }

    /// Stops the writer and the watcher: rows inserted, task states seen, whether an error showed.
    async fn finish(self) -> (i64, BTreeSet<String>, bool) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let inserted = self.writer.await.unwrap();
        let (states, errored) = self.watcher.await.unwrap();
        (inserted, states, errored)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jdbc_sink_rides_out_target_database_restarts() {
    let _turn = suite::FAULT_CLUSTER.lock().await;
    let mut plan = SinkFaults::from_env();
    let cluster = FaultCluster::from_env();
    let db = TestDb::empty("sinkrs_src").await;
    db.exec("CREATE TABLE public.t (id bigint PRIMARY KEY, v int)")
        .await;
    let target = cluster.database("sinkrs_dst").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("sinkrs");
    let sink = serde_json::json!({"name": "target", "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics": format!("{name}.public.t"),
        "connection.url": format!("jdbc:postgresql://{}:{}/{}", target.pg.host, target.pg.port, target.name),
        "connection.username": target.pg.user,
        "connection.password": target.pg.password,
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "schema.evolution": "basic",
        "collection.name.format": "${source.table}",
    }});
    let run = UnderWriter::start(&mut s, &db, &name, sink).await;
    for i in 0..plan.restarts {
        // Once the sink has written since the last restart, the next one.
        let seen = target_rows(&target).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while target_rows(&target).await <= seen + 20 {
            assert!(
                std::time::Instant::now() < deadline,
                "the sink wrote nothing after restart {i}\n{}",
                s.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mode = if i % 2 == 0 { "fast" } else { "immediate" };
        let down = Duration::from_millis(plan.rng.range(200, 3000));
        tokio::task::spawn_blocking(move || {
            let c = FaultCluster::from_env();
            c.pg_ctl(&["stop", "-s", "-m", mode]);
            std::thread::sleep(down);
            c.pg_ctl(&["start", "-s", "-o", &format!("-p {}", c.pg.port)]);
        })
        .await
        .unwrap();
        eprintln!("restart {i}: -m {mode}, down {down:?}");
    }
    let (inserted, states, errored) = run.finish().await;
    let want = table_rows(&db.pg, &db.name).await;
    assert_eq!(want.len() as i64, inserted);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let got = table_rows(&target.pg, &target.name).await;
        if got == want {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the target has {} rows of {}, or different values\n{}",
            got.len(),
            want.len(),
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        !states.contains("FAILED"),
        "states seen: {states:?}\n{}",
        s.log_text()
    );
    assert!(errored, "the outage never showed in the task's status");
    eprintln!(
        "{} target restarts, {inserted} rows inserted and as many updates: target equal to source",
        plan.restarts
    );
    s.stop();
    db.drop().await;
    target.drop().await;
}

/// An S3-compatible server of this test's own (s3s-fs), stopped and started again on the same
/// port and directory.
struct S3Server {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

impl S3Server {
    const ACCESS: &'static str = "fault-access";
    const SECRET: &'static str = "fault-secret";

    fn start() -> Self {
        let mut server = S3Server {
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        std::fs::create_dir_all(server.dir.path().join("lake")).unwrap();
        server.up();
        server
    }

    fn up(&mut self) {
        let child = std::process::Command::new(env("SLUICE_TEST_S3S_BIN"))
            .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--access-key", Self::ACCESS, "--secret-key", Self::SECRET])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start s3s-fs (SLUICE_TEST_S3S_BIN)");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "s3s-fs did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// kill -9: whatever upload is under way is cut.
    fn down(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The bucket's JSON objects.
    fn objects(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "json") {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.path().join("lake"), &mut out);
        out
    }

    /// The bucket's objects' JSON lines.
    fn records(&self) -> Vec<Json> {
        self.objects()
            .iter()
            .flat_map(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                text.lines()
                    .filter_map(|l| serde_json::from_str(l).ok())
                    .collect::<Vec<Json>>()
            })
            .collect()
    }
}

impl S3Server {
    /// Offsets found in more than one object where a later copy lies below the position
    /// committed before the last fault preceding that copy's upload: `(offset, committed)`.
    /// An object `<topic>+<partition>+<start>.json` holds offsets `start..` in line order.
    fn copies_before_committed(&self, faults: &[(std::time::SystemTime, i64)]) -> Vec<(i64, i64)> {
        // offset → upload times of its copies
        let mut copies: BTreeMap<i64, Vec<std::time::SystemTime>> = BTreeMap::new();
        for p in self.objects() {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let start: i64 = stem.rsplit('+').next().unwrap().parse().unwrap();
            let at = std::fs::metadata(&p).unwrap().modified().unwrap();
            let lines = std::fs::read_to_string(&p)
                .unwrap_or_default()
                .lines()
                .count();
            for i in 0..lines as i64 {
                copies.entry(start + i).or_default().push(at);
            }
        }
        let mut early = Vec::new();
        for (offset, mut times) in copies {
            times.sort();
            for at in times.iter().skip(1) {
                let committed = faults
                    .iter()
                    .filter(|(t, _)| t <= at)
                    .map(|(_, c)| *c)
                    .next_back()
                    .unwrap_or(i64::MAX);
                if offset < committed {
                    early.push((offset, committed));
                }
            }
        }
        early
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.down();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_sink_rides_out_server_restarts() {
    let mut plan = SinkFaults::from_env();
    let mut server = S3Server::start();
    let db = TestDb::empty("s3rs").await;
    db.exec("CREATE TABLE public.t (id bigint PRIMARY KEY, v int)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("s3rs");
    let sink = serde_json::json!({"name": "lake", "config": {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "topics": format!("{name}.public.t"),
        "store.url": format!("http://127.0.0.1:{}", server.port),
        "s3.bucket.name": "lake",
        "aws.access.key.id": S3Server::ACCESS,
        "aws.secret.access.key": S3Server::SECRET,
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "flush.size": "100",
        "rotate.schedule.interval.ms": "1000",
        "timezone": "UTC",
    }});
    let run = UnderWriter::start(&mut s, &db, &name, sink).await;
    let mut faults = Vec::new();
    for i in 0..plan.restarts {
        // Once objects have been written since the last restart, the next one.
        let seen = server.records().len();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while server.records().len() <= seen + 100 {
            assert!(
                std::time::Instant::now() < deadline,
                "nothing uploaded after restart {i}\n{}",
                s.log_text()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let down = Duration::from_millis(plan.rng.range(200, 3000));
        // Read before the kill: positions only grow, so a copy written again after this fault
        // must start at or after this one.
        let committed = run.committed().await;
        faults.push((std::time::SystemTime::now(), committed));
        server.down();
        tokio::time::sleep(down).await;
        server.up();
        eprintln!("restart {i}: down {down:?}, committed {committed}");
    }
    let (inserted, states, errored) = run.finish().await;
    // Every change, keyed by its position in the log and its row.
    let changes = |records: &[Json]| -> BTreeMap<(i64, i64), usize> {
        let mut seen = BTreeMap::new();
        for r in records {
            let key = (
                r["source"]["lsn"].as_i64().unwrap_or(-1),
                r["after"]["id"].as_i64().unwrap_or(-1),
            );
            *seen.entry(key).or_insert(0) += 1;
        }
        seen
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let records = server.records();
        let inserts: BTreeSet<i64> = records
            .iter()
            .filter(|r| r["op"] == "c")
            .filter_map(|r| r["after"]["id"].as_i64())
            .collect();
        if inserts.len() as i64 == inserted {
            let seen = changes(&records);
            let twice = seen.values().filter(|n| **n > 1).count();
            assert_eq!(inserts.iter().next_back(), Some(&inserted));
            let early = server.copies_before_committed(&faults);
            assert!(
                early.is_empty(),
                "records written again below the position committed before the fault \
                 (offset, committed): {early:?}"
            );
            eprintln!(
                "{} server restarts; {} changes in the bucket, {twice} of them twice, \
                 every copy at or after the position committed before its fault",
                plan.restarts,
                seen.len()
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bucket has {} of {inserted} inserts\n{}",
            inserts.len(),
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        !states.contains("FAILED"),
        "states seen: {states:?}\n{}",
        s.log_text()
    );
    assert!(errored, "the outage never showed in the task's status");
    s.stop();
    db.drop().await;
}
