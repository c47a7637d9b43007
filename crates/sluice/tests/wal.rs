//! WAL safety: the slot's confirmed position follows what is durable, a paused connector's
//! growing slot is called out, an invalidated slot ends in a clear FAILED state with the way
//! back, and deleting a connector drops its slot (see rest.rs).

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::Value as Json;

/// The LSN Sluice last committed for a connector (its offsets file).
fn committed_lsn(s: &Sluice, connector: &str) -> Option<u64> {
    let text = std::fs::read(
        s.data_dir()
            .join("offsets")
            .join(format!("{connector}.json")),
    )
    .ok()?;
    let v: Json = serde_json::from_slice(&text).ok()?;
    v[0]["offset"]["lsn"].as_u64()
}

#[tokio::test(flavor = "multi_thread")]
async fn confirmed_position_follows_durability_under_a_steady_writer() {
    let db = TestDb::empty("walfollow").await;
    db.exec("CREATE TABLE public.t (id serial PRIMARY KEY, v int)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("wf");
    s.start(
        &[db.connector(&name, &[("table.include.list", "public.t")])],
        &[],
    );
    s.wait_streaming().await;
    // The DBA's test: 20 rows every 50 ms.
    let writer = {
        let (pg, dbname) = (Pg::from_env(), db.name.clone());
        tokio::spawn(async move {
            let c = pg.connect(&dbname).await;
            for _ in 0..100 {
                c.batch_execute("INSERT INTO public.t (v) SELECT g FROM generate_series(1, 20) g")
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let mut seen = BTreeSet::new();
    while !writer.is_finished() {
        if let Some(lsn) = db.slot_confirmed_flush().await {
            seen.insert(lsn);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    writer.await.unwrap();
    // The confirmed position moved along with the writes, not once in a while.
    assert!(
        seen.len() >= 5,
        "confirmed_flush_lsn took only {} values",
        seen.len()
    );
    // Once quiet, the server sees everything Sluice made durable.
    wait_for(
        30,
        "confirmed_flush_lsn to reach the committed offset",
        &s,
        || {
            let committed = committed_lsn(&s, &name);
            let confirmed = futures_lite(db.slot_confirmed_flush());
            committed.is_some() && confirmed.map(|c| c as u64) >= committed
        },
    )
    .await;
    s.stop();
    db.drop().await;
}

/// Runs a small future to completion from sync code inside the test runtime.
fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paused_connector_whose_slot_grows_is_called_out() {
    let db = TestDb::empty("walwarn").await;
    db.exec("CREATE TABLE public.t (id serial PRIMARY KEY, pad text)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let name = unique("ww");
    let config = db.connector(
        &name,
        &[
            ("table.include.list", "public.t"),
            ("slot.retained.wal.warn.bytes", "200000"),
        ],
    );
    api.post("/connectors", Some(config)).await;
    wait_for(60, "streaming", &w, || {
        w.log_text().contains("streaming changes")
    })
    .await;
    api.put(&format!("/connectors/{name}/pause"), None).await;
    for _ in 0..5 {
        db.exec(
            "INSERT INTO public.t (pad) SELECT repeat('x', 1000) FROM generate_series(1, 1000)",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    let mut status = Json::Null;
    for _ in 0..100 {
        status = api.get(&format!("/connectors/{name}/status")).await.1;
        let warnings = status["warnings"].to_string();
        if warnings.contains("more than slot.retained.wal.warn.bytes")
            && warnings.contains("keeps WAL while the connector is PAUSED")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let warnings = status["warnings"].to_string();
    assert!(
        warnings.contains("more than slot.retained.wal.warn.bytes"),
        "{status}"
    );
    assert!(
        warnings.contains("keeps WAL while the connector is PAUSED"),
        "{status}"
    );
    assert!(
        status["slot"]["retained_wal_bytes"].as_u64().unwrap() > 200_000,
        "{status}"
    );
    assert!(w
        .log_text()
        .contains("keeps WAL while the connector is PAUSED"));
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalidated_slot_fails_clearly_and_a_new_snapshot_recovers() {
    let cluster = FaultCluster::from_env();
    let db = cluster.database("walinval").await;
    // `big` is not captured, but its WAL is retained by the slot all the same.
    db.exec("CREATE TABLE public.t (id serial PRIMARY KEY, pad text); INSERT INTO public.t (pad) VALUES ('a'); CREATE TABLE public.big (pad text)")
        .await;
    let admin = cluster.pg.connect("postgres").await;
    admin
        .batch_execute("ALTER SYSTEM SET max_slot_wal_keep_size = '32MB'")
        .await
        .unwrap();
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let name = unique("wi");
    api.post(
        "/connectors",
        Some(db.connector(&name, &[("table.include.list", "public.t")])),
    )
    .await;
    wait_for(60, "streaming", &w, || {
        w.log_text().contains("streaming changes")
    })
    .await;
    api.put(&format!("/connectors/{name}/pause"), None).await;
    // Far more WAL than the slot may keep, then checkpoints: PostgreSQL invalidates it.
    for _ in 0..4 {
        db.exec("INSERT INTO public.big SELECT repeat(md5(g::text), 32) FROM generate_series(1, 30000) g; SELECT pg_switch_wal(); CHECKPOINT")
            .await;
    }
    let lost = "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND wal_status = 'lost'";
    for _ in 0..50 {
        if db.scalar_i64(lost).await == 1 {
            break;
        }
        db.exec("CHECKPOINT").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(db.scalar_i64(lost).await, 1, "the slot was not invalidated");
    api.put(&format!("/connectors/{name}/resume"), None).await;
    let trace = api.wait_failed(&name, 30).await;
    assert!(
        trace.contains("was invalidated by PostgreSQL") && trace.contains("max_slot_wal_keep_size"),
        "{trace}"
    );
    assert!(
        trace.contains(&format!("DELETE /connectors/{name}/offsets")),
        "{trace}"
    );
    // The way back: stop, reset the offsets, resume: a new snapshot, then streaming.
    admin
        .batch_execute("ALTER SYSTEM RESET max_slot_wal_keep_size")
        .await
        .unwrap();
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .unwrap();
    start_over(&api, &w, &name, &format!("{name}.public.t"), 2).await;
    w.stop();
    db.drop().await;
}
