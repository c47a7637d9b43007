//! The Kafka Connect REST API over HTTP against a running `sluice worker` and real PostgreSQL.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value as Json};

fn count(s: &Sluice, topic: &str, op: &str) -> usize {
    s.records(topic)
        .iter()
        .filter(|r| payload(r)["op"] == op)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn connector_lifecycle_over_rest() {
    let db = TestDb::pagila("rest").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let topic = "lc.public.language";

    let (code, root) = api.get("/").await;
    assert_eq!(code, StatusCode::OK);
    assert!(root["version"].is_string());
    let (_, plugins) = api.get("/connector-plugins").await;
    assert_eq!(
        plugins[0]["class"],
        "io.debezium.connector.postgresql.PostgresConnector"
    );

    let connector = db.connector("lc", &[("table.include.list", "public.language")]);
    let (code, created) = api.post("/connectors", Some(connector.clone())).await;
    assert_eq!(code, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "lc");
    assert_eq!(created["tasks"], json!([{"connector": "lc", "task": 0}]));
    let (code, conflict) = api.post("/connectors", Some(connector.clone())).await;
    assert_eq!(code, StatusCode::CONFLICT);
    assert_eq!(
        conflict,
        json!({"error_code": 409, "message": "Connector lc already exists"})
    );

    wait_for(60, "the snapshot", &w, || count(&w, topic, "r") == 6).await;
    let (_, status) = api.get("/connectors/lc/status").await;
    assert_eq!(status["connector"]["state"], "RUNNING");
    assert_eq!(status["tasks"][0]["state"], "RUNNING");
    assert_eq!(status["type"], "source");
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!(["lc"]));
    let (_, expanded) = api.get("/connectors?expand=status&expand=info").await;
    assert_eq!(expanded["lc"]["status"]["connector"]["state"], "RUNNING");
    assert_eq!(
        expanded["lc"]["info"]["config"]["table.include.list"],
        "public.language"
    );
    let (_, topics) = api.get("/connectors/lc/topics").await;
    assert_eq!(topics, json!({"lc": {"topics": [topic]}}));
    let (_, task) = api.get("/connectors/lc/tasks/0/status").await;
    assert_eq!(task["state"], "RUNNING");
    let (_, tasks) = api.get("/connectors/lc/tasks").await;
    assert_eq!(tasks[0]["id"], json!({"connector": "lc", "task": 0}));

    // Pause: no new events; resume: they flow.
    let (code, _) = api.put("/connectors/lc/pause", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(api.task_state("lc").await, "PAUSED");
    db.exec("INSERT INTO public.language (language_id, name) VALUES (50, 'Latin')")
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(&w, topic, "c"), 0, "a paused connector wrote events");
    let (code, _) = api.put("/connectors/lc/resume", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    wait_for(60, "the insert after resume", &w, || {
        count(&w, topic, "c") == 1
    })
    .await;

    // A config update restarts from the committed offset: no new snapshot.
    let mut updated = connector["config"].clone();
    updated["heartbeat.interval.ms"] = json!("1000");
    let (code, _) = api.put("/connectors/lc/config", Some(updated)).await;
    assert_eq!(code, StatusCode::OK);
    db.exec("INSERT INTO public.language (language_id, name) VALUES (51, 'Greek')")
        .await;
    wait_for(60, "the insert after the update", &w, || {
        count(&w, topic, "c") == 2
    })
    .await;
    assert_eq!(count(&w, topic, "r"), 6);
    let (_, config) = api.get("/connectors/lc/config").await;
    assert_eq!(config["heartbeat.interval.ms"], "1000");
    let (_, topics) = api.get("/connectors/lc/topics").await;
    assert!(
        topics["lc"]["topics"]
            .as_array()
            .unwrap()
            .contains(&json!(topic)),
        "topics survive an update: {topics}"
    );

    // Restarts.
    let (code, _) = api.post("/connectors/lc/restart", None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (code, body) = api
        .post("/connectors/lc/restart?includeTasks=true", None)
        .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(body["tasks"][0]["state"], "RESTARTING");
    let (code, body) = api
        .post(
            "/connectors/lc/restart?includeTasks=true&onlyFailed=true",
            None,
        )
        .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    assert_eq!(
        body["tasks"][0]["state"], "RUNNING",
        "a running task is not restarted by onlyFailed"
    );

    // Offsets: readable any time, changeable only when STOPPED; a reset snapshots again.
    let (_, offsets) = api.get("/connectors/lc/offsets").await;
    assert_eq!(offsets["offsets"][0]["partition"], json!({"server": "lc"}));
    assert!(offsets["offsets"][0]["offset"]["lsn"].is_u64());
    let (code, err) = api.delete("/connectors/lc/offsets").await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(err["message"].as_str().unwrap().contains("STOPPED"));
    let (code, _) = api.put("/connectors/lc/stop", None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (_, status) = api.get("/connectors/lc/status").await;
    assert_eq!(status["connector"]["state"], "STOPPED");
    assert_eq!(status["tasks"], json!([]));
    let (code, msg) = api.delete("/connectors/lc/offsets").await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(
        msg["message"],
        "The offsets for this connector have been reset successfully"
    );
    let (_, offsets) = api.get("/connectors/lc/offsets").await;
    assert_eq!(offsets, json!({"offsets": []}));
    let (code, _) = api.put("/connectors/lc/resume", None).await;
    assert_eq!(code, StatusCode::ACCEPTED);
    wait_for(60, "a fresh snapshot", &w, || {
        count(&w, topic, "r") == 6 + 8
    })
    .await;

    // Altering the offset to an LSN: the connector streams from there.
    api.put("/connectors/lc/stop", None).await;
    let lsn = db
        .scalar_i64("SELECT (pg_current_wal_lsn() - '0/0')::int8")
        .await;
    let (code, msg) = api
        .call(
            reqwest::Method::PATCH,
            "/connectors/lc/offsets",
            Some(json!({"offsets": [{"partition": {"server": "lc"}, "offset": {"lsn": lsn}}]})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{msg}");
    assert_eq!(
        msg["message"],
        "The offsets for this connector have been altered successfully"
    );
    let (_, offsets) = api.get("/connectors/lc/offsets").await;
    assert_eq!(offsets["offsets"][0]["offset"]["lsn"], lsn);
    api.put("/connectors/lc/resume", None).await;
    db.exec("INSERT INTO public.language (language_id, name) VALUES (52, 'Irish')")
        .await;
    wait_for(60, "the insert after the altered offset", &w, || {
        count(&w, topic, "c") == 3
    })
    .await;
    assert_eq!(
        count(&w, topic, "r"),
        6 + 8,
        "streaming resumed from the LSN, no snapshot"
    );

    // Delete, then 404s in Connect's error shape.
    let (code, _) = api.delete("/connectors/lc").await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let (code, err) = api.get("/connectors/lc").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(
        err,
        json!({"error_code": 404, "message": "Connector lc not found"})
    );
    let (code, _) = api.get("/connectors/lc/status").await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_masked_and_kept_on_round_trip() {
    let db = TestDb::pagila("mask").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let connector = db.connector("mk", &[("table.include.list", "public.language")]);
    let password = db.pg.password.clone();
    let (code, created) = api.post("/connectors", Some(connector)).await;
    assert_eq!(code, StatusCode::CREATED);
    assert_eq!(created["config"]["database.password"], "********");
    let (_, config) = api.get("/connectors/mk/config").await;
    assert_eq!(config["database.password"], "********");
    let (_, expanded) = api.get("/connectors?expand=info").await;
    assert_eq!(
        expanded["mk"]["info"]["config"]["database.password"],
        "********"
    );
    // GET → edit → PUT with the masked value keeps the stored password.
    let mut edited = config.clone();
    edited["max.batch.size"] = json!("100");
    let (code, _) = api.put("/connectors/mk/config", Some(edited)).await;
    assert_eq!(code, StatusCode::OK);
    wait_for(60, "the snapshot", &w, || {
        w.records("mk.public.language").len() == 6
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(api.task_state("mk").await, "RUNNING");
    assert!(
        !w.log_text().contains(&format!("password={password}"))
            && !w.log_text().contains(&format!("\"{password}\""))
    );
    let stored = std::fs::read_to_string(
        w.data_dir()
            .join("connectors")
            .read_dir()
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path(),
    )
    .unwrap();
    assert!(
        stored.contains(&format!("\"database.password\": \"{password}\"")),
        "the real password is stored"
    );
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn validation_reports_each_bad_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let class = "io.debezium.connector.postgresql.PostgresConnector";
    let base = json!({
        "connector.class": class, "database.hostname": "h", "database.user": "u",
        "database.password": "pw", "database.dbname": "d", "topic.prefix": "p"
    });
    let (code, ok) = api
        .put(
            &format!("/connector-plugins/{class}/config/validate"),
            Some(base.clone()),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(ok["error_count"], 0);
    assert_eq!(ok["name"], class);
    let password = ok["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "database.password")
        .unwrap();
    assert_eq!(password["value"]["value"], "********");

    let cases: &[(&str, Json, &str)] = &[
        ("database.port", json!("x"), "Not a number"),
        (
            "database.port",
            json!("70000"),
            "Value must be between 1 and 65535",
        ),
        (
            "snapshot.mode",
            json!("sometimes"),
            "Value must be one of initial",
        ),
        (
            "decimal.handling.mode",
            json!("exact"),
            "Value must be one of precise, double, string",
        ),
        (
            "time.precision.mode",
            json!("nanos"),
            "Value must be one of adaptive",
        ),
        (
            "publication.autocreate.mode",
            json!("some"),
            "Value must be one of all_tables",
        ),
        (
            "tombstones.on.delete",
            json!("maybe"),
            "Expected value to be either true or false",
        ),
        ("plugin.name", json!("wal3json"), "pgoutput"),
        ("slot.name", json!("Bad-Slot"), "lower case letters"),
        (
            "table.include.list",
            json!("(unclosed"),
            "not a valid regular expression",
        ),
        (
            "skipped.operations",
            json!("x"),
            "allowed operations are c, u, d, t, or none",
        ),
        (
            "heartbeat.interval.ms",
            json!("-5"),
            "Value must be between 0 and 2147483647",
        ),
        (
            "topic.prefix",
            json!("bad prefix!"),
            "may contain only letters",
        ),
        (
            "message.key.columns",
            json!("public.t"),
            "expected <fully-qualified table regex>",
        ),
        (
            "value.converter",
            json!("io.confluent.connect.avro.AvroConverter"),
            "JsonConverter",
        ),
    ];
    for (key, value, want) in cases {
        let mut config = base.clone();
        config[*key] = value.clone();
        let (code, body) = api
            .put(
                &format!("/connector-plugins/{class}/config/validate"),
                Some(config.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["error_count"], 1, "{key}={value}: {body}");
        let entry = body["configs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["value"]["name"] == *key)
            .unwrap();
        let errors = entry["value"]["errors"].to_string();
        assert!(errors.contains(want), "{key}={value}: {errors}");
        // Creating with it is refused with the same message, before anything starts.
        let (code, err) = api
            .post(
                "/connectors",
                Some(json!({"name": "bad", "config": config})),
            )
            .await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(err["message"]
            .as_str()
            .unwrap()
            .contains("Connector configuration is invalid and contains the following 1 error(s)"));
        assert!(err["message"].as_str().unwrap().contains(want));
    }
    let (code, body) = api
        .put(
            &format!("/connector-plugins/{class}/config/validate"),
            Some(json!({"connector.class": class})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["error_count"], 4, "{body}");
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!([]));
    w.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn worker_restart_keeps_connectors_states_and_offsets() {
    let db = TestDb::pagila("wrs").await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let topic = "wr.public.language";
    api.post(
        "/connectors",
        Some(db.connector("wr", &[("table.include.list", "public.language")])),
    )
    .await;
    let mut dropper = db.connector(
        "wd",
        &[
            ("table.include.list", "public.actor"),
            ("slot.drop.on.stop", "true"),
        ],
    );
    dropper["config"]["slot.name"] = json!(format!("slotd_{}", db.name));
    dropper["config"]["publication.name"] = json!(format!("pubd_{}", db.name));
    api.post("/connectors", Some(dropper)).await;
    wait_for(60, "the snapshot", &w, || count(&w, topic, "r") == 6).await;
    wait_for(60, "the second snapshot", &w, || {
        w.records("wd.public.actor").len() == 200
    })
    .await;
    api.put("/connectors/wd/pause", None).await;
    w.stop();

    db.exec("INSERT INTO public.language (language_id, name) VALUES (60, 'Welsh')")
        .await;
    let api = Api::new(w.start_worker(&[]));
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!(["wd", "wr"]));
    assert_eq!(api.task_state("wd").await, "PAUSED");
    wait_for(60, "the change made while down", &w, || {
        count(&w, topic, "c") == 1
    })
    .await;
    assert_eq!(
        count(&w, topic, "r"),
        6,
        "no second snapshot after a worker restart"
    );

    // Deleting a connector drops its slot (here already dropped by slot.drop.on.stop) and the
    // publication Sluice made for it, and says so; the other connector keeps its own.
    let slots = "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()";
    let publications = "SELECT count(*) FROM pg_publication";
    // The paused connector recreates the slot its clean stop dropped as its task starts,
    // which on a busy machine can come after the other connector's change.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while db.scalar_i64(slots).await < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(db.scalar_i64(slots).await, 2);
    assert_eq!(db.scalar_i64(publications).await, 2);
    let delete = |name: &str| {
        let req = api.http.delete(format!("{}/connectors/{name}", api.base));
        async move {
            let resp = req.send().await.unwrap();
            let cleanup = resp
                .headers()
                .get("sluice-cleanup")
                .map(|v| v.to_str().unwrap().to_owned());
            (resp.status(), cleanup.unwrap_or_default())
        }
    };
    let (code, cleanup) = delete("wd").await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    // (The slot went on stop already, or here if its walsender was still on its way out.)
    assert!(
        cleanup.starts_with("dropped")
            && cleanup.ends_with(&format!("publication pubd_{}", db.name)),
        "{cleanup}"
    );
    assert_eq!(db.scalar_i64(slots).await, 1);
    assert_eq!(db.scalar_i64(publications).await, 1);
    // With slot.drop.on.delete=false both stay; by default both go.
    let mut keeper = db.connector(
        "wk",
        &[
            ("table.include.list", "public.actor"),
            ("slot.drop.on.delete", "false"),
        ],
    );
    keeper["config"]["slot.name"] = json!(format!("slotk_{}", db.name));
    keeper["config"]["publication.name"] = json!(format!("pubk_{}", db.name));
    api.post("/connectors", Some(keeper)).await;
    wait_for(60, "the keeper's snapshot", &w, || {
        w.records("wk.public.actor").len() == 200
    })
    .await;
    let (_, cleanup) = delete("wk").await;
    assert!(cleanup.starts_with("kept replication slot"), "{cleanup}");
    assert_eq!(db.scalar_i64(slots).await, 2);
    let (_, cleanup) = delete("wr").await;
    assert_eq!(
        cleanup,
        format!(
            "dropped replication slot slot_{0} and publication pub_{0}",
            db.name
        )
    );
    assert_eq!(db.scalar_i64(slots).await, 1);
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_backed_worker_keeps_connectors_in_connect_topics() {
    let bootstrap = env("SLUICE_TEST_KAFKA");
    let db = TestDb::pagila("kworker").await;
    let suffix = unique("k");
    let props = format!(
        "bootstrap.servers={bootstrap}\nconfig.storage.topic=configs-{suffix}\noffset.storage.topic=offsets-{suffix}\nstatus.storage.topic=status-{suffix}\n"
    );
    let first_dir = tempfile::tempdir().unwrap();
    let worker_props = first_dir.path().join("worker.properties");
    std::fs::write(&worker_props, props).unwrap();
    let worker_props = worker_props.to_str().unwrap().to_owned();
    let name = unique("kw");
    let mut w = Sluice::new(first_dir.path());
    let api = Api::new(w.start_worker(&["--worker-config", &worker_props]));
    let (code, _) = api
        .post(
            "/connectors",
            Some(db.connector(&name, &[("table.include.list", "public.language")])),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    api.put(&format!("/connectors/{name}/pause"), None).await;
    let (_, root) = api.get("/").await;
    assert_eq!(root["store"], format!("kafka://{bootstrap}"));
    // Wait until the snapshot's offset is committed, then stop the worker.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        api.put(&format!("/connectors/{name}/resume"), None).await;
        let (_, offsets) = api.get(&format!("/connectors/{name}/offsets")).await;
        if offsets["offsets"][0]["offset"]["last_snapshot_record"] == true {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot offset\n{}",
            w.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    api.put(&format!("/connectors/{name}/pause"), None).await;
    // Paused: everything is committed and nothing moves (streaming offsets may have followed
    // the snapshot's).
    let (_, committed) = api.get(&format!("/connectors/{name}/offsets")).await;
    w.stop();

    // A new worker with an empty data dir finds the connector, its target state and its offsets.
    let second_dir = tempfile::tempdir().unwrap();
    let mut w2 = Sluice::new(second_dir.path());
    let api = Api::new(w2.start_worker(&["--worker-config", &worker_props]));
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!([name]));
    assert_eq!(api.task_state(&name).await, "PAUSED");
    let (_, config) = api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(config["table.include.list"], "public.language");
    let (_, offsets) = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(offsets, committed);
    assert!(offsets["offsets"][0]["offset"]["lsn"].is_u64(), "{offsets}");
    let (code, _) = api.delete(&format!("/connectors/{name}")).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    w2.stop();
    let w3_dir = tempfile::tempdir().unwrap();
    let mut w3 = Sluice::new(w3_dir.path());
    let api = Api::new(w3.start_worker(&["--worker-config", &worker_props]));
    let (_, list) = api.get("/connectors").await;
    assert_eq!(list, json!([]), "a deleted connector stays deleted");
    w3.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_masked_secret_without_a_stored_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let config = json!({
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector", "database.hostname": "h",
        "database.user": "u", "database.password": "********", "database.dbname": "d", "topic.prefix": "p"
    });
    let (code, err) = api.put("/connectors/new/config", Some(config)).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("database.password is the mask"),
        "{err}"
    );
    w.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn pausing_and_resuming_mid_snapshot_loses_nothing() {
    const ROWS: i64 = 60_000;
    let db = TestDb::with_big_table("pausesnap", ROWS).await;
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let (code, _) = api
        .post(
            "/connectors",
            Some(db.connector(
                "ps",
                &[
                    ("table.include.list", "public.big"),
                    ("max.batch.size", "500"),
                ],
            )),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED);
    // Pause and resume many times while the snapshot runs.
    for _ in 0..20 {
        api.put("/connectors/ps/pause", None).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        api.put("/connectors/ps/resume", None).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    db.exec("INSERT INTO public.big VALUES (0, 'end')").await;
    wait_for(120, "the end marker", &w, || {
        w.last_record("ps.public.big")
            .is_some_and(|r| key_payload(&r)["id"] == 0)
    })
    .await;
    let ids: Vec<i64> = w
        .records("ps.public.big")
        .iter()
        .filter_map(|r| key_payload(r)["id"].as_i64())
        .collect();
    let unique: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(
        unique,
        (0..=ROWS).collect(),
        "rows lost across pause/resume"
    );
    assert_eq!(
        ids.len() as i64,
        ROWS + 1,
        "rows duplicated across pause/resume"
    );
    w.stop();
    db.drop().await;
}
