//! `GET /metrics` in Prometheus text format, read back with an independent parser.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// The value of `name` with label connector=`connector`, parsed by prometheus-parse.
async fn metric(base: &str, name: &str, connector: &str) -> Option<f64> {
    let text = http_client()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text format");
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && s.labels.get("connector") == Some(connector))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

async fn wait_metric(
    base: &str,
    name: &str,
    connector: &str,
    what: &str,
    ok: impl Fn(f64) -> bool,
) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = metric(base, name, connector).await {
            if ok(v) {
                return v;
            }
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {name} to be {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_events_and_show_slot_lag_while_paused() {
    let db = TestDb::pagila("metrics").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let base = w.start_worker(&[]);
    let http = http_client();
    let connector = db.connector("mt", &[("table.include.list", "public.language")]);
    let resp = http
        .post(format!("{base}/connectors"))
        .json(&connector)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    wait_for(60, "the snapshot", &w, || {
        w.records("mt.public.language").len() == 6
    })
    .await;

    wait_metric(
        &base,
        "sluice_source_total_number_of_events_seen",
        "mt",
        "6",
        |v| v == 6.0,
    )
    .await;
    wait_metric(&base, "sluice_sink_records_written_total", "mt", "6", |v| {
        v == 6.0
    })
    .await;
    assert_eq!(
        metric(&base, "sluice_snapshot_rows_scanned", "mt").await,
        Some(6.0)
    );
    assert!(metric(&base, "sluice_snapshot_rows_estimated", "mt")
        .await
        .is_some());
    assert_eq!(
        metric(&base, "sluice_snapshot_running", "mt").await,
        Some(0.0)
    );

    db.exec("INSERT INTO public.language (language_id, name) VALUES (70, 'Basque')")
        .await;
    wait_metric(
        &base,
        "sluice_source_total_number_of_events_seen",
        "mt",
        "7",
        |v| v == 7.0,
    )
    .await;
    assert!(
        metric(&base, "sluice_source_milli_seconds_behind_source", "mt")
            .await
            .is_some()
    );

    // Paused, the slot falls behind while writes continue: the lag gauge grows.
    let resp = http
        .put(format!("{base}/connectors/mt/pause"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let before = wait_metric(
        &base,
        "sluice_postgres_slot_confirmed_flush_lag_bytes",
        "mt",
        "sampled",
        |_| true,
    )
    .await;
    for i in 0..20 {
        db.exec(&format!(
            "UPDATE public.language SET name = 'L{i}' WHERE language_id = 70"
        ))
        .await;
    }
    db.exec("CREATE TABLE public.filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g").await;
    let grown = wait_metric(
        &base,
        "sluice_postgres_slot_confirmed_flush_lag_bytes",
        "mt",
        "growing",
        |v| v > before + 1_000_000.0,
    )
    .await;
    assert!(
        metric(&base, "sluice_postgres_slot_retained_wal_bytes", "mt")
            .await
            .unwrap()
            >= grown
    );
    // Resumed, it catches up.
    http.put(format!("{base}/connectors/mt/resume"))
        .send()
        .await
        .unwrap();
    wait_metric(
        &base,
        "sluice_postgres_slot_confirmed_flush_lag_bytes",
        "mt",
        "shrinking",
        |v| v < grown / 2.0,
    )
    .await;
    w.stop();
    db.drop().await;
}
