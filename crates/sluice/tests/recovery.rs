//! kill -9 at any point loses nothing: the snapshot restarts cleanly, streaming resumes from
//! the last committed offset, and duplicates only come after that offset.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use serde_json::Value as Json;

fn committed_lsn(s: &Sluice, connector: &str) -> Option<u64> {
    let text = std::fs::read_to_string(
        s.data_dir()
            .join("offsets")
            .join(format!("{connector}.json")),
    )
    .ok()?;
    let v: Json = serde_json::from_str(&text).ok()?;
    v[0]["offset"]["lsn"].as_u64()
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_during_snapshot_restarts_it_cleanly() {
    const ROWS: i64 = 100_000;
    let db = TestDb::with_big_table("kill_snap", ROWS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let config = db.connector("ks", &[("table.include.list", "public.big")]);
    s.start(std::slice::from_ref(&config), &[]);
    wait_for(60, "the first snapshot records", &s, || {
        s.topic_bytes("ks.public.big") > 0
    })
    .await;
    s.kill();
    let at_kill = s.records("ks.public.big").len();
    assert!(
        (at_kill as i64) < ROWS,
        "the snapshot finished before the kill ({at_kill} records): nothing was tested"
    );

    s.start(&[config], &[]);
    s.wait_streaming().await;
    db.exec("INSERT INTO public.big VALUES (0, 'after')").await;
    wait_for(120, "every row", &s, || {
        s.last_record("ks.public.big")
            .is_some_and(|r| key_payload(&r)["id"] == 0)
    })
    .await;
    let records = s.records("ks.public.big");
    let have: BTreeSet<i64> = records
        .iter()
        .filter_map(|r| key_payload(r)["id"].as_i64())
        .collect();
    assert_eq!(
        have,
        (0..=ROWS).collect::<BTreeSet<i64>>(),
        "rows lost across the kill"
    );
    // The second snapshot is complete on its own: first ... last, then the insert. (A torn
    // last line from the kill is cut, so it starts right after the records seen before.)
    let restarted = &records[records.len() - (ROWS as usize + 1)..];
    assert_eq!(payload(&restarted[0])["source"]["snapshot"], "first");
    assert_eq!(
        payload(&restarted[ROWS as usize - 1])["source"]["snapshot"],
        "last"
    );
    assert_eq!(payload(&restarted[ROWS as usize])["op"], "c");
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_during_streaming_resumes_without_loss() {
    let db = TestDb::empty("kill_stream").await;
    db.exec("CREATE TABLE public.counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO public.counter SELECT g, 0 FROM generate_series(1, 20) g").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let config = db.connector("kst", &[("max.batch.size", "50")]);
    s.start(std::slice::from_ref(&config), &[]);
    s.wait_streaming().await;

    const TXNS: usize = 600;
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let done = done.clone();
        let client = db.pg.connect(&db.name).await;
        tokio::spawn(async move {
            for i in 1..=TXNS {
                let key = (i % 20 + 1) as i32;
                client
                    .execute(
                        "UPDATE public.counter SET n = $1 WHERE id = $2",
                        &[&(i as i32), &key],
                    )
                    .await
                    .unwrap();
                done.store(i, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        })
    };
    while done.load(Ordering::SeqCst) < TXNS / 3 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    s.kill();
    let committed = committed_lsn(&s, "kst").expect("an offset was committed before the kill");
    writer.await.unwrap();
    s.start(&[config], &[]);
    db.exec("INSERT INTO public.counter VALUES (999, 0)").await;
    wait_for(90, "the end marker", &s, || {
        s.records("kst.public.counter")
            .iter()
            .any(|r| key_payload(r)["id"] == 999)
    })
    .await;

    let records = s.records("kst.public.counter");
    let updates: Vec<(i64, i64, u64)> = records
        .iter()
        .filter(|r| payload(r)["op"] == "u")
        .map(|r| {
            let p = payload(r);
            (
                p["after"]["id"].as_i64().unwrap(),
                p["after"]["n"].as_i64().unwrap(),
                p["source"]["lsn"].as_u64().unwrap(),
            )
        })
        .collect();
    // Every change is present.
    let seen: BTreeSet<i64> = updates.iter().map(|u| u.1).collect();
    let missing: Vec<usize> = (1..=TXNS)
        .filter(|i| !seen.contains(&(*i as i64)))
        .collect();
    assert!(missing.is_empty(), "lost changes: {missing:?}");
    // Duplicates only for changes after the committed offset (the end of the last committed
    // transaction, where the next one's first change may start).
    let mut count: HashMap<u64, usize> = HashMap::new();
    for u in &updates {
        *count.entry(u.2).or_default() += 1;
    }
    for u in &updates {
        if count[&u.2] > 1 {
            assert!(
                u.2 >= committed,
                "change at LSN {} (before the committed {committed}) was delivered twice",
                u.2
            );
        }
    }
    // Per key, in topic order and ignoring replayed values, changes keep their commit order.
    let mut per_key: HashMap<i64, Vec<i64>> = HashMap::new();
    for u in &updates {
        let values = per_key.entry(u.0).or_default();
        if !values.contains(&u.1) {
            values.push(u.1);
        }
    }
    for (key, values) in per_key {
        assert!(
            values.windows(2).all(|w| w[0] < w[1]),
            "changes of key {key} out of order: {values:?}"
        );
    }
    s.stop();
    db.drop().await;
}
