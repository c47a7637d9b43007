//! Sink connectors: a Postgres source writes a topic, Kafka's FileStreamSinkConnector reads
//! it back into a file, on local topics and on Kafka: pause/resume, kill -9 of the worker
//! mid-stream and a restart lose nothing, and duplicates appear only after the last committed
//! position. Also the dead letter queue, and what validate says of a config.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{json, Value as Json};

/// The ids in the file sink's output, one per line (`Struct{after=Struct{id=5,...`).
fn ids_in(path: &std::path::Path) -> Vec<i64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let rest = l.split("after=Struct{id=").nth(1)?;
            rest.split([',', '}']).next()?.parse().ok()
        })
        .collect()
}

/// `(offset, id)` of every create event in a topic.
fn topic_ids_local(s: &Sluice, topic: &str) -> Vec<(i64, i64)> {
    s.records(topic)
        .iter()
        .filter_map(|r| Some((r["offset"].as_i64()?, payload(r)["after"]["id"].as_i64()?)))
        .collect()
}

fn kafka_consumer(bootstrap: &str, group: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "10")
        .create()
        .unwrap()
}

fn topic_ids_kafka(bootstrap: &str, topic: &str) -> Vec<(i64, i64)> {
    let consumer = kafka_consumer(bootstrap, &unique("reader"));
    let (_, high) = consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut next = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while next < high && Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            next = m.offset() + 1;
            let v: Json = m
                .payload()
                .map_or(Json::Null, |b| serde_json::from_slice(b).unwrap());
            if let Some(id) = v["payload"]["after"]["id"].as_i64() {
                out.push((m.offset(), id));
            }
        }
    }
    out
}

/// The sink's committed position in partition 0 of `topic` (the next offset to read).
fn committed(store: &Store, s: &Sluice, sink: &str, topic: &str) -> i64 {
    match store {
        Store::Local => {
            let path = s.data_dir().join("offsets").join(format!("{sink}.json"));
            let all: Json = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or(json!([]));
            all.as_array()
                .unwrap()
                .iter()
                .find(|o| o["partition"]["kafka_topic"] == topic)
                .and_then(|o| o["offset"]["kafka_offset"].as_i64())
                .unwrap_or(0)
        }
        Store::Kafka(bootstrap) => {
            let consumer = kafka_consumer(bootstrap, &format!("connect-{sink}"));
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition(topic, 0);
            let c = consumer
                .committed_offsets(tpl, Duration::from_secs(10))
                .unwrap();
            match c.elements()[0].offset() {
                Offset::Offset(o) => o,
                _ => 0,
            }
        }
    }
}

enum Store {
    Local,
    Kafka(String),
}

async fn wait_ids(path: &std::path::Path, s: &Sluice, want: impl Fn(&[i64]) -> bool, what: &str) {
    wait_for(120, what, s, || want(&ids_in(path))).await;
}

async fn sink_scenario(store: Store) {
    let db = TestDb::empty("sinks").await;
    db.exec("CREATE TABLE public.t (id serial PRIMARY KEY, v int)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let args: Vec<String> = match &store {
        Store::Local => vec![],
        // Internal topics of its own: other tests' connectors live in the shared broker.
        Store::Kafka(b) => {
            let props = dir.path().join("worker.properties");
            let id = unique("w");
            std::fs::write(
                &props,
                format!("config.storage.topic=cfg-{id}\noffset.storage.topic=off-{id}\nstatus.storage.topic=st-{id}\n"),
            )
            .unwrap();
            vec![
                "--bootstrap-servers".into(),
                b.clone(),
                "--worker-config".into(),
                props.display().to_string(),
            ]
        }
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let api = Api::new(w.start_worker(&args));
    let prefix = unique("sk");
    let topic = format!("{prefix}.public.t");
    let out = dir.path().join("out.txt");
    let source = db.connector(&prefix, &[("table.include.list", "public.t")]);
    let (code, body) = api.post("/connectors", Some(source)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let sink = json!({"name": "filesink", "config": {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "topics": topic,
        "file": out.display().to_string(),
    }});
    let (code, body) = api.post("/connectors", Some(sink)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    assert_eq!(body["type"], "sink");
    let (_, status) = api.get("/connectors/filesink/status").await;
    assert_eq!(status["type"], "sink", "{status}");

    db.exec("INSERT INTO public.t (v) SELECT g FROM generate_series(1, 50) g")
        .await;
    wait_ids(
        &out,
        &w,
        |ids| ids.len() >= 50,
        "the first 50 rows in the file",
    )
    .await;
    wait_for(30, "the sink's position to be committed", &w, || {
        committed(&store, &w, "filesink", &topic) == 50
    })
    .await;
    let (_, offsets) = api.get("/connectors/filesink/offsets").await;
    assert_eq!(
        offsets["offsets"][0],
        json!({"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 50}}),
        "{offsets}"
    );
    let (_, topics) = api.get("/connectors/filesink/topics").await;
    assert_eq!(topics["filesink"]["topics"], json!([topic]));

    // Paused: nothing is written; resumed: what came meanwhile is.
    let (code, _) = api.put("/connectors/filesink/pause", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(api.task_state("filesink").await, "PAUSED");
    db.exec("INSERT INTO public.t (v) SELECT g FROM generate_series(51, 70) g")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ids_in(&out).len(), 50, "written while paused");
    let (code, _) = api.put("/connectors/filesink/resume", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    wait_ids(
        &out,
        &w,
        |ids| ids.len() >= 70,
        "the rows inserted while paused",
    )
    .await;

    // kill -9 while a writer inserts, then a restart.
    let writer = {
        let pg = Pg::from_env();
        let name = db.name.clone();
        tokio::spawn(async move {
            let c = pg.connect(&name).await;
            for i in 71..=400 {
                c.batch_execute(&format!("INSERT INTO public.t (v) VALUES ({i})"))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        })
    };
    wait_ids(
        &out,
        &w,
        |ids| ids.len() >= 120,
        "rows written before the kill",
    )
    .await;
    w.kill();
    let before = committed(&store, &w, "filesink", &topic);
    writer.await.unwrap();
    let api = Api::new(w.start_worker(&args));
    wait_ids(
        &out,
        &w,
        |ids| (1..=400).all(|i| ids.contains(&i)),
        "every row after the restart",
    )
    .await;
    let in_topic = match &store {
        Store::Local => topic_ids_local(&w, &topic),
        Store::Kafka(b) => topic_ids_kafka(b, &topic),
    };
    let ids = ids_in(&out);
    let mut in_file: BTreeMap<i64, usize> = BTreeMap::new();
    for id in &ids {
        *in_file.entry(*id).or_default() += 1;
    }
    // Every topic record before the position committed at the kill is in the file exactly
    // as often as in the topic (the source may itself have duplicated after its own kill).
    let mut occurrences: BTreeMap<i64, (usize, bool)> = BTreeMap::new();
    for (offset, id) in &in_topic {
        let e = occurrences.entry(*id).or_default();
        e.0 += 1;
        e.1 |= *offset >= before;
    }
    let mut duplicated_after = 0;
    for (id, (count, after)) in &occurrences {
        let got = in_file.get(id).copied().unwrap_or(0);
        if *after {
            assert!(got >= 1, "row {id} is missing");
            duplicated_after += got.saturating_sub(*count);
        } else {
            assert_eq!(
                got, *count,
                "row {id} (before the committed position {before})"
            );
        }
    }
    eprintln!(
        "committed position at the kill: {before}; rows: {}; lines: {}; duplicated after the position: {duplicated_after}",
        occurrences.len(),
        ids.len()
    );
    assert_eq!(api.task_state("filesink").await, "RUNNING");
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn file_sink_on_local_topics_survives_pause_and_kill() {
    sink_scenario(Store::Local).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn file_sink_on_kafka_survives_pause_and_kill() {
    sink_scenario(Store::Kafka(env("SLUICE_TEST_KAFKA"))).await;
}

/// Reads a local topic's records with their headers as a map.
fn headers(record: &Json) -> BTreeMap<String, String> {
    record["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key"].as_str().unwrap().to_owned(),
                h["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letter_queue_gets_the_poison_record_with_its_context() {
    let db = TestDb::empty("dlq").await;
    db.exec(
        "CREATE TABLE public.t (id serial PRIMARY KEY, v int);
         CREATE TABLE public.poison (id serial PRIMARY KEY, v int);
         INSERT INTO public.t (v) SELECT g FROM generate_series(1, 5) g;
         INSERT INTO public.poison (v) VALUES (666);",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let prefix = unique("dl");
    let topic = format!("{prefix}.public.t");
    let good = db.connector(&prefix, &[("table.include.list", "public.t")]);
    // A second source writes plain JSON (no schema) into the same topic: for a sink that
    // expects schemas, that record is poison.
    let mut bad = db.connector(
        &format!("{prefix}b"),
        &[
            ("table.include.list", "public.poison"),
            ("value.converter.schemas.enable", "false"),
            ("transforms", "route"),
            (
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.route.regex", ".*\\.public\\.poison"),
            ("transforms.route.replacement", &topic),
        ],
    );
    bad["config"]["slot.name"] = json!(format!("slot_{}_b", db.name));
    bad["config"]["publication.name"] = json!(format!("pub_{}_b", db.name));
    for c in [good, bad] {
        let (code, body) = api.post("/connectors", Some(c)).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }
    let out = dir.path().join("out.txt");
    let dlq = format!("dlq-{prefix}");
    let sink = |name: &str, tolerance: &str, file: &std::path::Path| {
        json!({"name": name, "config": {
            "connector.class": "FileStreamSinkConnector",
            "topics": topic,
            "file": file.display().to_string(),
            "errors.tolerance": tolerance,
            "errors.log.enable": "true",
            "errors.deadletterqueue.topic.name": dlq,
            "errors.deadletterqueue.context.headers.enable": "true",
        }})
    };
    let (code, body) = api
        .post("/connectors", Some(sink("tolerant", "all", &out)))
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    wait_ids(&out, &w, |ids| ids.len() >= 5, "the good rows").await;
    wait_for(60, "the poison record in the DLQ", &w, || {
        !w.records(&dlq).is_empty()
    })
    .await;
    let dead = w.records(&dlq);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let h = headers(&dead[0]);
    let poison_offset = w
        .records(&topic)
        .iter()
        .find(|r| r["value"].get("schema").is_none())
        .and_then(|r| r["offset"].as_i64())
        .unwrap();
    assert_eq!(h["__connect.errors.topic"], topic);
    assert_eq!(h["__connect.errors.partition"], "0");
    assert_eq!(h["__connect.errors.offset"], poison_offset.to_string());
    assert_eq!(h["__connect.errors.connector.name"], "tolerant");
    assert_eq!(h["__connect.errors.task.id"], "0");
    assert_eq!(h["__connect.errors.stage"], "VALUE_CONVERTER");
    assert_eq!(
        h["__connect.errors.class.name"],
        "org.apache.kafka.connect.json.JsonConverter"
    );
    assert_eq!(
        h["__connect.errors.exception.class.name"],
        "org.apache.kafka.connect.errors.DataException"
    );
    assert!(
        h["__connect.errors.exception.message"].contains("schemas.enable requires"),
        "{h:?}"
    );
    // The record itself, as it was in the topic.
    assert_eq!(dead[0]["value"]["after"]["v"], 666);
    assert_eq!(ids_in(&out).len(), 5);

    // Without tolerance the task fails on that record, naming where it is.
    let strict_out = dir.path().join("strict.txt");
    let (code, _) = api
        .post("/connectors", Some(sink("strict", "none", &strict_out)))
        .await;
    assert_eq!(code, StatusCode::CREATED);
    wait_for(60, "the strict sink to fail", &w, || {
        w.log_text().contains("connector=strict") && w.log_text().contains("task failed")
    })
    .await;
    let (_, status) = api.get("/connectors/strict/status").await;
    assert_eq!(status["tasks"][0]["state"], "FAILED", "{status}");
    let trace = status["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.contains("Tolerance exceeded in error handler")
            && trace.contains(&format!("topic {topic} partition 0 offset {poison_offset}")),
        "{trace}"
    );
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_declares_every_key_and_reports_unsupported_and_unknown_ones() {
    let db = TestDb::empty("validate").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let (_, plugins) = api.get("/connector-plugins").await;
    let kinds: BTreeMap<String, String> = plugins
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["class"].as_str().unwrap().to_owned(),
                p["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        kinds["io.debezium.connector.postgresql.PostgresConnector"],
        "source"
    );
    assert_eq!(
        kinds["org.apache.kafka.connect.file.FileStreamSinkConnector"],
        "sink"
    );

    let mut config = db.connector("v", &[])["config"].clone();
    let validate = |config: Json| {
        let api = &api;
        async move {
            let (code, body) = api
                .put(
                    "/connector-plugins/io.debezium.connector.postgresql.PostgresConnector/config/validate",
                    Some(config),
                )
                .await;
            assert_eq!(code, StatusCode::OK, "{body}");
            body
        }
    };
    let value = |body: &Json, key: &str| -> Json {
        body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["definition"]["name"] == key)
            .map(|c| c["value"].clone())
            .unwrap_or_else(|| panic!("no entry for {key}"))
    };
    // A valid config: every declared key has a real definition.
    let body = validate(config.clone()).await;
    assert_eq!(body["error_count"], 0, "{body}");
    let configs = body["configs"].as_array().unwrap();
    assert!(configs.len() > 150, "{}", configs.len());
    for c in configs {
        let d = &c["definition"];
        assert!(!d["documentation"].as_str().unwrap().is_empty(), "{d}");
        assert!(d["group"].as_str().is_some_and(|g| !g.is_empty()), "{d}");
    }
    let port = configs
        .iter()
        .find(|c| c["definition"]["name"] == "database.port")
        .unwrap();
    assert_eq!(port["definition"]["type"], "INT");
    assert_eq!(port["definition"]["default_value"], "5432");
    let mode = value(&body, "snapshot.mode");
    assert!(mode["recommended_values"]
        .as_array()
        .unwrap()
        .contains(&json!("initial")));
    assert!(body["groups"]
        .as_array()
        .unwrap()
        .contains(&json!("Common")));

    // Known but not implemented, a bad TLS mode, unknown, older plugin, bad transform.
    config["incremental.snapshot.chunk.size"] = json!("5000");
    config["database.sslmode"] = json!("sometimes");
    config["not.a.key"] = json!("1");
    config["plugin.name"] = json!("wal2json");
    config["transforms"] = json!("unwrap");
    let body = validate(config.clone()).await;
    assert_eq!(body["error_count"], 3, "{body}");
    let errors = |key: &str| value(&body, key)["errors"].to_string();
    let warnings = |key: &str| value(&body, key)["warnings"].to_string();
    assert!(errors("incremental.snapshot.chunk.size").contains("is not supported by Sluice"));
    assert!(errors("database.sslmode").contains("Invalid value sometimes"));
    assert!(errors("transforms.unwrap.type").contains("Missing required configuration"));
    assert!(
        warnings("not.a.key").contains("Unknown configuration key"),
        "{body}"
    );
    assert!(warnings("plugin.name").contains("pgoutput"), "{body}");
    assert_eq!(value(&body, "database.password")["value"], "********");
    // The same refusal when creating it.
    let (code, err) = api
        .post("/connectors", Some(json!({"name": "v", "config": config})))
        .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("database.sslmode"),
        "{err}"
    );
    w.stop();
    db.drop().await;
}
