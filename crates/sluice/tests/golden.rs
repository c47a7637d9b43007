//! Golden files of the event JSON for every type in the mapping table, snapshot and stream,
//! with and without schemas and in the non-default handling modes. Regenerate with
//! `UPDATE_GOLDEN=1 scripts/test golden` and review the diff: the files are the contract.

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value as Json;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/types")
}

/// Replaces what differs from run to run (times, WAL positions, transaction ids, database
/// name) with a marker, keeping the shape.
fn normalize(mut record: Json) -> Json {
    fn mask(v: &mut Json) {
        if !v.is_null() {
            *v = Json::String("<varies>".into());
        }
    }
    record.as_object_mut().map(|o| o.remove("timestamp"));
    for side in ["value"] {
        let v = &mut record[side];
        let p = if v.get("payload").is_some() {
            &mut v["payload"]
        } else {
            v
        };
        if p.is_null() {
            continue;
        }
        for k in ["ts_ms", "ts_us", "ts_ns"] {
            mask(&mut p[k]);
        }
        let src = &mut p["source"];
        for k in ["ts_ms", "ts_us", "ts_ns", "lsn", "txId", "sequence", "db"] {
            mask(&mut src[k]);
        }
        // The DEFAULT now() column differs per run.
        for row in ["before", "after"] {
            if p[row].is_object() {
                mask(&mut p[row]["c_created"]);
            }
        }
    }
    record
}

async fn run_case(file: &str, extra: &[(&str, &str)]) {
    let db = TestDb::empty("golden").await;
    db.exec(&std::fs::read_to_string(golden_dir().join("setup.sql")).unwrap())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(&[db.connector("golden", extra)], &[]);
    s.wait_streaming().await;
    db.exec(&std::fs::read_to_string(golden_dir().join("changes.sql")).unwrap())
        .await;
    let topic = "golden.public.all_types";
    wait_for(60, "all change events", &s, || s.records(topic).len() >= 9).await;
    s.stop();
    let got: Vec<Json> = s.records(topic).into_iter().map(normalize).collect();
    let path = golden_dir().join(file);
    let got_text: String = got
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got_text).unwrap();
    } else {
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (create it with UPDATE_GOLDEN=1)", path.display()));
        let want: Vec<&str> = want.lines().collect();
        let got: Vec<&str> = got_text.lines().collect();
        assert_eq!(got.len(), want.len(), "record count differs from {file}");
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g, w, "record {i} differs from {file}");
        }
    }
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_with_schemas() {
    run_case("events.jsonl", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_without_schemas() {
    run_case(
        "events-noschema.jsonl",
        &[
            ("key.converter.schemas.enable", "false"),
            ("value.converter.schemas.enable", "false"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_type_in_the_other_handling_modes() {
    run_case(
        "events-modes.jsonl",
        &[
            ("decimal.handling.mode", "string"),
            ("time.precision.mode", "connect"),
            ("binary.handling.mode", "base64"),
            ("interval.handling.mode", "string"),
            ("hstore.handling.mode", "map"),
        ],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn numeric_nan_in_precise_mode_fails_with_the_fix() {
    let db = TestDb::empty("nan").await;
    db.exec("CREATE TABLE public.n (id int PRIMARY KEY, v numeric); INSERT INTO public.n VALUES (1, 'NaN')").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(&[db.connector("nan", &[])], &[]);
    wait_for(60, "sluice to stop with an error", &s, || {
        s.log_text().contains("connector nan failed")
    })
    .await;
    let log = s.log_text();
    assert!(
        log.contains("decimal.handling.mode=double or string"),
        "{log}"
    );
    assert!(
        s.records("nan.public.n").is_empty(),
        "no wrong value was written"
    );
    db.drop().await;
}
