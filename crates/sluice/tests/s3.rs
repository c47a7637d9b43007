//! The S3 sink in a worker, against the S3-compatible server scripts/test starts
//! (`SLUICE_TEST_S3`; objects read back from its data directory): seed 001's three S3 sink
//! configs fed from Pagila, and a kill -9 of the worker while objects are being uploaded and
//! positions committed, after which the bucket holds every record exactly once.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use serde_json::{json, Value as Json};

struct S3 {
    url: String,
    access: String,
    secret: String,
    bucket: String,
    /// The bucket's directory in the server's data directory.
    dir: PathBuf,
}

impl S3 {
    fn bucket(prefix: &str) -> Self {
        let bucket = unique(prefix).replace('_', "-");
        let dir = Path::new(&env("SLUICE_TEST_S3_DIR")).join(&bucket);
        std::fs::create_dir_all(&dir).unwrap();
        S3 {
            url: env("SLUICE_TEST_S3"),
            access: env("SLUICE_TEST_S3_ACCESS_KEY"),
            secret: env("SLUICE_TEST_S3_SECRET_KEY"),
            bucket,
            dir,
        }
    }

    /// A sink config with this server, bucket and credentials filled in.
    fn sink(&self, name: &str, mut config: Json) -> Json {
        config["s3.bucket.name"] = json!(self.bucket);
        config["store.url"] = json!(self.url);
        config["aws.access.key.id"] = json!(self.access);
        config["aws.secret.access.key"] = json!(self.secret);
        json!({"name": name, "config": config})
    }

    /// Every object key in the bucket, sorted.
    fn keys(&self) -> Vec<String> {
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else if !p.file_name().unwrap().to_string_lossy().starts_with('.') {
                    out.push(p.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &self.dir, &mut out);
        out.sort();
        out
    }

    fn json_lines(&self, key: &str) -> Vec<Json> {
        std::fs::read_to_string(self.dir.join(key))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The value's row: itself, or `after` of a Debezium envelope.
fn row(v: &Json) -> &Json {
    if v.get("op").is_some() {
        &v["after"]
    } else {
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_s3_sinks_on_pagila() {
    let db = TestDb::pagila("seed001_s3").await;
    // jdbc_source_connector_postgresql_02's query, as a table a CDC source can capture.
    db.exec(
        "CREATE TABLE public.pagila_query AS SELECT * FROM (SELECT a.address_id, a.address, a.address2, city.city, a.district, a.postal_code, country.country, a.phone, a.last_update FROM address AS a INNER JOIN city ON a.city_id = city.city_id INNER JOIN country ON country.country_id = city.country_id ORDER BY address_id) AS subquery;
         ALTER TABLE public.pagila_query ADD PRIMARY KEY (address_id)",
    )
    .await;
    let s3 = S3::bucket("seed001");
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));

    // Seed 001's topics, from the Postgres source flattened by ExtractNewRecordState (the JDBC
    // source's own seed 001 test is in jdbc_source.rs).
    let source = |name: &str, prefix: &str, tables: &str, route: Option<(&str, &str)>| {
        let mut extra: Vec<(&str, String)> = vec![
            ("topic.prefix", prefix.to_owned()),
            ("table.include.list", tables.to_owned()),
            ("slot.name", format!("slot_{}_{prefix}", db.name)),
            ("publication.name", format!("pub_{}_{prefix}", db.name)),
        ];
        let mut transforms = vec!["unwrap"];
        extra.push((
            "transforms.unwrap.type",
            "io.debezium.transforms.ExtractNewRecordState".into(),
        ));
        if let Some((regex, replacement)) = route {
            transforms.push("route");
            extra.push((
                "transforms.route.type",
                "org.apache.kafka.connect.transforms.RegexRouter".into(),
            ));
            extra.push(("transforms.route.regex", regex.into()));
            extra.push(("transforms.route.replacement", replacement.into()));
        }
        let joined = transforms.join(",");
        extra.push(("transforms", joined));
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut c = db.connector(name, &extra);
        c["name"] = json!(name);
        c
    };
    for c in [
        source(
            "jdbc_source_connector_postgresql_00",
            "pagila",
            "public.address,public.city,public.country",
            None,
        ),
        source(
            "jdbc_source_connector_postgresql_01",
            "alt",
            "public.address",
            Some(("alt\\.public\\.address", "pagila.public.alt.address")),
        ),
        source(
            "jdbc_source_connector_postgresql_02",
            "q",
            "public.pagila_query",
            Some(("q\\.public\\.pagila_query", "pagila.query")),
        ),
    ] {
        let (code, body) = api.post("/connectors", Some(c)).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }

    // The seed's three sink configs, verbatim but for where the bucket is.
    let sink00 = json!({
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "tasks.max": 1,
        "topics.regex": "pagila.public.(.*)",
        "table.name.format": "${topic}",
        "s3.region": "us-east-1",
        "s3.bucket.name": "your-s3-bucket",
        "s3.part.size": 5242880,
        "flush.size": 100,
        "rotate.schedule.interval.ms": 60000,
        "timezone": "UTC",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
        "partitioner.class": "io.confluent.connect.storage.partitioner.DefaultPartitioner",
        "schema.compatibility": "NONE"
    });
    let mut sink01 = sink00.clone();
    sink01.as_object_mut().unwrap().remove("topics.regex");
    sink01.as_object_mut().unwrap().remove("table.name.format");
    sink01["topics"] = json!("pagila.public.alt.address");
    let sink02 = json!({
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "tasks.max": 1,
        "topics": "pagila.query",
        "s3.region": "us-east-1",
        "s3.bucket.name": "your-s3-bucket",
        "s3.part.size": 5242880,
        "flush.size": 100,
        "rotate.schedule.interval.ms": 60000,
        "timezone": "UTC",
        "storage.class": "io.confluent.connect.s3.storage.S3Storage",
        "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
        "parquet.codec": "gzip",
        "partitioner.class": "io.confluent.connect.storage.partitioner.FieldPartitioner",
        "partition.field.name": "country",
        "schema.compatibility": "NONE",
        "transforms": "RenameField, insertStaticField1,insertStaticField2,insertStaticField3",
        "transforms.RenameField.type": "org.apache.kafka.connect.transforms.ReplaceField$Value",
        "transforms.RenameField.renames": "district:state_province",
        "transforms.insertStaticField1.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.insertStaticField1.static.field": "message_source",
        "transforms.insertStaticField1.static.value": "pagila",
        "transforms.insertStaticField2.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.insertStaticField2.static.field": "message_source_engine",
        "transforms.insertStaticField2.static.value": "postgresql",
        "transforms.insertStaticField3.type": "org.apache.kafka.connect.transforms.InsertField$Value",
        "transforms.insertStaticField3.static.field": "environment",
        "transforms.insertStaticField3.static.value": "development"
    });
    let field = "country";
    for (name, c) in [
        ("s3_sink_connector_00", sink00),
        ("s3_sink_connector_01", sink01),
        ("s3_sink_connector_02", sink02),
    ] {
        let (code, body) = api.post("/connectors", Some(s3.sink(name, c))).await;
        assert_eq!(code, StatusCode::CREATED, "{body}");
    }

    // Seed 001's listing: a file per 100 records, the last ones by the 60 s schedule.
    let mut want: Vec<String> = Vec::new();
    for (topic, starts) in [("address", 0..=6), ("city", 0..=5), ("country", 0..=1)] {
        for s in starts {
            want.push(format!(
                "topics/pagila.public.{topic}/partition=0/pagila.public.{topic}+0+{:010}.json",
                s * 100
            ));
        }
    }
    let listing = |s3: &S3, topic: &str| -> Vec<String> {
        s3.keys()
            .into_iter()
            .filter(|k| k.starts_with(&format!("topics/{topic}/")))
            .collect()
    };
    wait_for(180, "seed 001's objects", &w, || {
        let have: Vec<String> = [
            "pagila.public.address",
            "pagila.public.city",
            "pagila.public.country",
        ]
        .iter()
        .flat_map(|t| listing(&s3, t))
        .collect();
        have.len() >= want.len()
            && listing(&s3, "pagila.public.alt.address").len() >= 7
            && listing(&s3, "pagila.query").len() > 100
    })
    .await;
    let mut have: Vec<String> = [
        "pagila.public.address",
        "pagila.public.city",
        "pagila.public.country",
    ]
    .iter()
    .flat_map(|t| listing(&s3, t))
    .collect();
    have.sort();
    assert_eq!(have, want);

    // The JSON objects hold every row once.
    for (topic, table) in [
        ("pagila.public.address", "address"),
        ("pagila.public.city", "city"),
        ("pagila.public.country", "country"),
        ("pagila.public.alt.address", "address"),
    ] {
        let rows: Vec<Json> = listing(&s3, topic)
            .iter()
            .flat_map(|k| s3.json_lines(k))
            .collect();
        let count = db
            .scalar_i64(&format!("SELECT count(*) FROM public.{table}"))
            .await;
        assert_eq!(rows.len() as i64, count, "{topic}");
        let ids: BTreeSet<i64> = rows
            .iter()
            .map(|r| row(r)[format!("{table}_id")].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len() as i64, count, "{topic}: distinct ids");
    }
    let alt = listing(&s3, "pagila.public.alt.address");
    assert_eq!(
        alt[1],
        "topics/pagila.public.alt.address/partition=0/pagila.public.alt.address+0+0000000100.json"
    );
    let sample = &s3.json_lines(&alt[1])[0];
    assert_eq!(row(sample)["address_id"], 101, "{sample}");

    // s3_sink_connector_02: gzip Parquet under country=.../, read back by pyarrow.
    let first_us = db
        .scalar_i64(
            "SELECT n - 1 FROM (SELECT country, row_number() OVER (ORDER BY address_id) AS n FROM public.pagila_query) r WHERE country = 'United States' ORDER BY n LIMIT 1",
        )
        .await;
    let us_key = format!(
        "topics/pagila.query/{field}=United States/pagila.query+0+{first_us:010}.gz.parquet"
    );
    let query = listing(&s3, "pagila.query");
    assert!(query.contains(&us_key), "{us_key} not in {query:?}");
    let script = r#"
import sys, json, os, pyarrow.parquet as pq
root, field = sys.argv[1], sys.argv[2]
rows, schema, mismatched = 0, None, 0
for d, _, files in os.walk(root):
    for f in files:
        t = pq.ParquetFile(os.path.join(d, f)).read()  # the file alone: no hive partition columns from its path
        rows += t.num_rows
        schema = t.schema
        part = os.path.basename(d).split('=', 1)[1]
        col = t.column(field.split('.')[0]).to_pylist()
        values = [v[field.split('.')[1]] if '.' in field else v for v in col]
        mismatched += sum(1 for v in values if v != part)
print(json.dumps({"rows": rows, "mismatched": mismatched, "schema": schema.to_string(show_schema_metadata=False)}))
"#;
    // The wait above sees the partitions' first objects; the last rows may still be on their way.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let read: Json = loop {
        let out = std::process::Command::new(env("SLUICE_TEST_PYTHON"))
            .arg("-c")
            .arg(script)
            .arg(s3.dir.join("topics/pagila.query"))
            .arg(field)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let read: Json = serde_json::from_slice(&out.stdout).unwrap();
        if read["rows"] == 603 || std::time::Instant::now() > deadline {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(read["rows"], 603, "{read}");
    assert_eq!(read["mismatched"], 0, "{read}");
    let schema = read["schema"].as_str().unwrap();
    for want in [
        "address_id: int32 not null",
        "country: string",
        "postal_code: string",
        "last_update: int64",
        // The sink's ReplaceField and InsertField, as seed 001 configures them.
        "state_province: string",
        "message_source: string",
        "environment: string",
    ] {
        assert!(schema.contains(want), "{want} not in\n{schema}");
    }
    w.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_uploads_and_commits_leaves_every_record_once() {
    const ROWS: i64 = 20_000;
    let db = TestDb::empty("s3_kill").await;
    db.exec(&format!(
        "CREATE TABLE public.t (id int PRIMARY KEY, v text);
         INSERT INTO public.t SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g"
    ))
    .await;
    let s3 = S3::bucket("kill");
    let dir = tempfile::tempdir().unwrap();
    let mut w = Sluice::new(dir.path());
    let api = Api::new(w.start_worker(&[]));
    let prefix = unique("k");
    let (code, body) = api
        .post(
            "/connectors",
            Some(db.connector(&prefix, &[("table.include.list", "public.t")])),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    // The snapshot done and committed first: a source killed mid-snapshot snapshots again,
    // and those duplicates in the topic are not the sink's to undo.
    w.wait_streaming().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sink = s3.sink(
        "lake",
        json!({
            "connector.class": "io.confluent.connect.s3.S3SinkConnector",
            "topics": format!("{prefix}.public.t"),
            "storage.class": "io.confluent.connect.s3.storage.S3Storage",
            "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
            "flush.size": "100",
        }),
    );
    let (code, body) = api.post("/connectors", Some(sink)).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    wait_for(120, "the first objects", &w, || s3.keys().len() >= 20).await;
    w.kill();
    let at_kill = s3.keys().len();
    let committed = std::fs::read(w.data_dir().join("offsets/lake.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Json>(&b).ok())
        .and_then(|o| o[0]["offset"]["kafka_offset"].as_i64())
        .unwrap_or(0);
    let _api = Api::new(w.start_worker(&[]));
    let files = (ROWS / 100) as usize;
    wait_for(180, "every object after the restart", &w, || {
        s3.keys().len() >= files
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let keys = s3.keys();
    let want: Vec<String> = (0..files)
        .map(|i| {
            format!(
                "topics/{prefix}.public.t/partition=0/{prefix}.public.t+0+{:010}.json",
                i * 100
            )
        })
        .collect();
    assert_eq!(keys, want, "only the names Confluent would give, once each");
    let mut seen: BTreeMap<i64, usize> = BTreeMap::new();
    for k in &keys {
        for r in s3.json_lines(k) {
            *seen.entry(row(&r)["id"].as_i64().unwrap()).or_default() += 1;
        }
    }
    assert_eq!(seen.len() as i64, ROWS);
    assert!(seen.values().all(|n| *n == 1), "a record written twice");
    eprintln!(
        "objects at the kill: {at_kill}; committed position then: {committed}; objects now: {}",
        keys.len()
    );
    assert!(
        committed < ROWS,
        "the kill came after everything was committed"
    );
    w.stop();
    db.drop().await;
}

/// HTTPS endpoints are verified against the system's roots (`SSL_CERT_FILE`/`SSL_CERT_DIR`
/// name others, as for every rustls-native-certs client): a worker that trusts the test CA
/// uploads, one that does not fails the task with the certificate error, nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoint_verified_against_the_trusted_roots() {
    let Ok(https) = std::env::var("SLUICE_TEST_S3_TLS") else {
        eprintln!("SLUICE_TEST_S3_TLS is not set: run scripts/test for the HTTPS S3 endpoint");
        return;
    };
    let db = TestDb::empty("s3_https").await;
    db.exec(
        "CREATE TABLE public.t (id int PRIMARY KEY, v text);
         INSERT INTO public.t SELECT g, 'v' || g FROM generate_series(1, 10) g",
    )
    .await;
    let mut s3 = S3::bucket("https");
    s3.url = https;
    let prefix = unique("h");
    let sink = |name: &str| {
        s3.sink(
            name,
            json!({
                "connector.class": "io.confluent.connect.s3.S3SinkConnector",
                "topics": format!("{prefix}.public.t"),
                "storage.class": "io.confluent.connect.s3.storage.S3Storage",
                "format.class": "io.confluent.connect.s3.format.json.JsonFormat",
                "flush.size": "10",
            }),
        )
    };

    let untrusting_dir = tempfile::tempdir().unwrap();
    let mut untrusting = Sluice::new(untrusting_dir.path());
    // An empty CA file: the test CA is not among the roots.
    let empty = untrusting_dir.path().join("no-roots.pem");
    std::fs::write(&empty, "").unwrap();
    untrusting
        .envs
        .push(("SSL_CERT_FILE".into(), empty.display().to_string()));
    let api = Api::new(untrusting.start_worker(&[]));
    let (code, body) = api
        .post(
            "/connectors",
            Some(db.connector(&prefix, &[("table.include.list", "public.t")])),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    untrusting.wait_streaming().await;
    let (code, body) = api.post("/connectors", Some(sink("lake-untrusting"))).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let trace = api.wait_failed("lake-untrusting", 60).await;
    assert!(
        trace.to_lowercase().contains("certificate"),
        "the task fails with the certificate error: {trace:?}\n{}",
        untrusting.log_text()
    );
    assert!(s3.keys().is_empty(), "{:?}", s3.keys());
    untrusting.stop();

    let trusting_dir = tempfile::tempdir().unwrap();
    let mut trusting = Sluice::new(trusting_dir.path());
    let ca = Path::new(&env("SLUICE_TEST_TLS_CERTS")).join("ca.crt");
    trusting
        .envs
        .push(("SSL_CERT_FILE".into(), ca.display().to_string()));
    let api = Api::new(trusting.start_worker(&[]));
    let (code, body) = api
        .post(
            "/connectors",
            Some(db.connector(&prefix, &[("table.include.list", "public.t")])),
        )
        .await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    let (code, body) = api.post("/connectors", Some(sink("lake"))).await;
    assert_eq!(code, StatusCode::CREATED, "{body}");
    wait_for(120, "the object over HTTPS", &trusting, || {
        !s3.keys().is_empty()
    })
    .await;
    let keys = s3.keys();
    let rows: BTreeSet<i64> = s3
        .json_lines(&keys[0])
        .iter()
        .map(|r| row(r)["id"].as_i64().unwrap())
        .collect();
    assert_eq!(rows, (1..=10).collect::<BTreeSet<i64>>());
    trusting.stop();
    db.drop().await;
}
