//! Faults a task must ride out without anyone's help: PostgreSQL restarted under a running
//! connector. The task stays RUNNING (the error is retried with backoff and shown in its
//! status meanwhile), reconnects, and every change committed around the restart arrives.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;

#[tokio::test(flavor = "multi_thread")]
async fn postgres_restart_keeps_the_task_running_and_loses_nothing() {
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
