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

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::Value as Json;
use suite::{run_plan, table, Kind, Plan, BIG_TXN};

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
    let writer = tokio::spawn(async move {
        let mut committed = Vec::new();
        let mut client = None;
        let mut id = 1;
        while id <= 300 {
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
    // because Sluice confirms what the server sent when it asks at shutdown.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
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
    let committed = writer.await.unwrap();
    let topic = format!("{name}.public.t");
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
    assert!(
        saw_retry || s.log_text().contains("retrying"),
        "no retry was seen\n{}",
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
    };
    let (totals, problems) = run_plan(&plan).await;
    eprintln!("{}", table(&totals));
    assert!(problems.is_empty(), "{problems:#?}");
    for (kind, t) in &totals {
        match &t.blocked {
            // Only the disk needs a privilege (mounting a tmpfs); say so rather than fail.
            Some(why) if *kind == Kind::DiskFull => eprintln!("{} blocked: {why}", kind.name()),
            Some(why) => panic!("{} could not run: {why}", kind.name()),
            // A run the broker itself spoiled (Tansu's storage panicked) does not count.
            None => assert_eq!(t.faults + t.voided, 1, "{}", kind.name()),
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
    };
    let started = std::time::Instant::now();
    let (totals, problems) = run_plan(&plan).await;
    let mut report = format!(
        "# Fault suite results\n\nWritten by `scripts/faults --seed {} --runs {} --faults-per-run {} --outage-secs {}{}` \
         in {:.0} min. Each run: a fresh table of {} rows (150 000 when the first fault comes during the snapshot), a steady writer \
         (transactions of 1-4 updates, every 150th one of {} updates), faults at seeded moments, \
         then every committed change looked up in the output. \"changes checked\" counts the \
         snapshot rows and the committed changes; \"lost\" must be 0; duplicates are counted and \
         each one checked to come after the offset committed before its fault.\n\n",
        plan.seed,
        plan.runs,
        plan.faults_per_run,
        plan.outage_max.as_secs(),
        var("KINDS").map_or(String::new(), |k| format!(" --kinds {k}")),
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
    let mut status = Json::Null;
    for _ in 0..300 {
        status = api.get(&format!("/connectors/{name}/status")).await.1;
        if status["tasks"][0]["state"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["tasks"][0]["state"], "FAILED", "{status}");
    let trace = status["tasks"][0]["trace"].as_str().unwrap();
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
