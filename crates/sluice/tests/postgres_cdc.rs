//! End-to-end: real PostgreSQL 15, the sluice binary, local topics.

mod common;

use common::*;
use serde_json::Value as Json;
use std::collections::BTreeMap;

fn ops(records: &[Json]) -> Vec<String> {
    records
        .iter()
        .map(|r| {
            let p = payload(r);
            if p.is_null() {
                format!("tombstone {}", key_payload(r))
            } else {
                format!("{} {}", p["op"].as_str().unwrap_or("?"), key_payload(r))
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_then_stream_customer_and_address() {
    let db = TestDb::pagila("scn").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector(
            "scn",
            &[("table.include.list", "public.customer,public.address")],
        )],
        &[],
    );
    wait_for(120, "the snapshot of address", &s, || {
        s.records("scn.public.address").len() >= 603
    })
    .await;

    let customers = s.records("scn.public.customer");
    let addresses = s.records("scn.public.address");
    assert_eq!(customers.len(), 599);
    assert_eq!(addresses.len(), 603);
    let marker = |r: &Json| {
        payload(r)["source"]["snapshot"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(customers
        .iter()
        .chain(&addresses)
        .all(|r| payload(r)["op"] == "r"));
    assert_eq!(marker(&customers[0]), "first");
    assert_eq!(marker(&customers[1]), "true");
    assert_eq!(marker(&customers[598]), "last_in_data_collection");
    assert_eq!(marker(&addresses[0]), "first_in_data_collection");
    assert_eq!(marker(&addresses[301]), "true");
    assert_eq!(marker(&addresses[602]), "last");
    // Snapshot rows are read in the snapshot, keys are the primary keys.
    assert_eq!(
        key_payload(&customers[0]),
        &serde_json::json!({"customer_id": 1})
    );
    assert_eq!(payload(&customers[0])["after"]["first_name"], "MARY");
    assert!(payload(&customers[0])["before"].is_null());
    // Generated columns never reach pgoutput, so they are left out of snapshot events too.
    assert!(payload(&customers[0])["after"].get("active").is_none());

    db.exec("INSERT INTO public.address (address_id, address, district, city_id, phone) VALUES (9001, '1 Main St', 'D', 1, '555')").await;
    db.exec("UPDATE public.address SET phone = '556' WHERE address_id = 9001")
        .await;
    db.exec("UPDATE public.address SET address_id = 9002 WHERE address_id = 9001")
        .await;
    db.exec("DELETE FROM public.address WHERE address_id = 9002")
        .await;
    db.exec("ALTER TABLE public.address REPLICA IDENTITY FULL; UPDATE public.address SET district = 'E' WHERE address_id = 1").await;
    db.exec("TRUNCATE public.customer CASCADE").await;
    db.exec("INSERT INTO public.address (address_id, address, district, city_id, phone) VALUES (9100, 'end', 'D', 1, '1')").await;
    wait_for(60, "the streamed changes", &s, || {
        s.records("scn.public.address")
            .iter()
            .any(|r| key_payload(r)["address_id"] == 9100)
    })
    .await;

    let addresses = s.records("scn.public.address");
    let streamed = &addresses[603..];
    assert_eq!(
        ops(streamed),
        vec![
            r#"c {"address_id":9001}"#,
            r#"u {"address_id":9001}"#,
            r#"d {"address_id":9001}"#,
            r#"tombstone {"address_id":9001}"#,
            r#"c {"address_id":9002}"#,
            r#"d {"address_id":9002}"#,
            r#"tombstone {"address_id":9002}"#,
            r#"u {"address_id":1}"#,
            r#"c {"address_id":9100}"#,
        ]
    );
    let insert = payload(&streamed[0]);
    assert_eq!(insert["after"]["address"], "1 Main St");
    assert_eq!(insert["source"]["snapshot"], "false");
    assert_eq!(insert["source"]["table"], "address");
    assert!(insert["source"]["txId"].is_i64() && insert["source"]["lsn"].is_i64());
    // Default replica identity: no before on update; the delete's before has the key.
    assert!(payload(&streamed[1])["before"].is_null());
    assert_eq!(payload(&streamed[1])["after"]["phone"], "556");
    assert_eq!(payload(&streamed[5])["before"]["address_id"], 9002);
    // REPLICA IDENTITY FULL fills before.
    assert_eq!(payload(&streamed[7])["before"]["district"], "Alberta");
    assert_eq!(payload(&streamed[7])["after"]["district"], "E");
    // The truncate is skipped by default (skipped.operations=t), and no customer event follows.
    assert_eq!(s.records("scn.public.customer").len(), 599);
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn truncate_events_when_allowed_and_tables_without_key() {
    let db = TestDb::empty("trunc").await;
    db.exec("CREATE TABLE public.nokey (a int, b text); CREATE TABLE public.keyed (id int PRIMARY KEY, v text)").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector(
            "tr",
            &[
                ("skipped.operations", "none"),
                ("message.key.columns", "public.nokey:b"),
                ("tombstones.on.delete", "false"),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    db.exec("INSERT INTO public.nokey VALUES (1, 'x'); INSERT INTO public.keyed VALUES (1, 'y'); DELETE FROM public.keyed; TRUNCATE public.nokey").await;
    wait_for(60, "the truncate event", &s, || {
        s.records("tr.public.nokey").len() >= 2
    })
    .await;
    let nokey = s.records("tr.public.nokey");
    assert_eq!(ops(&nokey), vec![r#"c {"b":"x"}"#, "t null"]);
    let keyed = s.records("tr.public.keyed");
    // tombstones.on.delete=false: the delete has no tombstone.
    assert_eq!(ops(&keyed), vec![r#"c {"id":1}"#, r#"d {"id":1}"#]);
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn excluded_column_never_leaves_postgres() {
    let db = TestDb::pagila("excl").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let config = db.connector(
        "ex",
        &[
            ("table.include.list", "public.customer"),
            ("column.exclude.list", "public.customer.email"),
        ],
    );
    s.start(std::slice::from_ref(&config), &[]);
    s.wait_streaming().await;
    let publication = config["config"]["publication.name"]
        .as_str()
        .unwrap()
        .to_owned();
    let attnames = db
        .scalar_string(&format!(
            "SELECT array_to_string(attnames, ',') FROM pg_publication_tables WHERE pubname = '{publication}' AND tablename = 'customer'"
        ))
        .await
        .unwrap();
    assert_eq!(
        attnames,
        "customer_id,store_id,first_name,last_name,address_id,activebool,create_date,last_update"
    );
    db.exec("UPDATE public.customer SET email = 'new@example.com', first_name = 'Z' WHERE customer_id = 2").await;
    wait_for(60, "the update", &s, || {
        s.records("ex.public.customer").len() >= 600
    })
    .await;
    let text = std::fs::read_to_string(
        s.data_dir()
            .join("topics/ex.public.customer/partition-0.jsonl"),
    )
    .unwrap();
    assert!(
        !text.contains("\"email\""),
        "the excluded column appears in events"
    );
    assert!(!text.contains("example.com"));
    let last = s.records("ex.public.customer").pop().unwrap();
    assert_eq!(payload(&last)["after"]["first_name"], "Z");
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn heartbeats_advance_the_slot_while_captured_tables_are_idle() {
    let db = TestDb::pagila("hb").await;
    db.exec("CREATE TABLE public.busy (id serial PRIMARY KEY, payload text)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector(
            "hb",
            &[
                ("table.include.list", "public.customer"),
                ("heartbeat.interval.ms", "300"),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    let before = db.slot_confirmed_flush().await.unwrap();
    for _ in 0..50 {
        db.exec("INSERT INTO public.busy (payload) SELECT repeat('x', 500) FROM generate_series(1, 200)").await;
    }
    let target = db
        .scalar_i64("SELECT (pg_current_wal_lsn() - '0/0')::int8")
        .await;
    assert!(target > before + 1_000_000, "the writes made WAL");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let flushed = db.slot_confirmed_flush().await.unwrap();
        if flushed >= target {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "confirmed_flush_lsn stuck at {flushed}, WAL at {target}\n{}",
            s.log_text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let beats = s.records("__debezium-heartbeat.hb");
    assert!(!beats.is_empty());
    assert_eq!(
        key_payload(&beats[0]),
        &serde_json::json!({"serverName": "hb"})
    );
    assert!(payload(&beats[0])["ts_ms"].is_i64());
    assert_eq!(
        s.records("hb.public.customer").len(),
        599,
        "non-captured writes produced no events"
    );
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unchanged_toast_values_get_the_placeholder() {
    let db = TestDb::empty("toast").await;
    db.exec(
        "CREATE TABLE public.doc (id int PRIMARY KEY, body text, n int);
         ALTER TABLE public.doc ALTER body SET STORAGE EXTERNAL;
         INSERT INTO public.doc SELECT 1, string_agg(md5(g::text), ''), 0 FROM generate_series(1, 400) g",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(&[db.connector("toast", &[])], &[]);
    s.wait_streaming().await;
    db.exec("UPDATE public.doc SET n = 1 WHERE id = 1").await;
    wait_for(60, "the update", &s, || {
        s.records("toast.public.doc").len() >= 2
    })
    .await;
    let records = s.records("toast.public.doc");
    assert_eq!(
        payload(&records[0])["after"]["body"]
            .as_str()
            .unwrap()
            .len(),
        400 * 32
    );
    assert_eq!(
        payload(&records[1])["after"]["body"],
        "__debezium_unavailable_value"
    );
    assert_eq!(payload(&records[1])["after"]["n"], 1);
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshot_modes() {
    let db = TestDb::empty("modes").await;
    db.exec("CREATE TABLE public.t (id int PRIMARY KEY); INSERT INTO public.t VALUES (1), (2)")
        .await;
    let count = |s: &Sluice, op: &str| {
        s.records("m.public.t")
            .iter()
            .filter(|r| payload(r)["op"] == op)
            .count()
    };

    // no_data: existing rows are not read, changes stream.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(&[db.connector("m", &[("snapshot.mode", "no_data")])], &[]);
    s.wait_streaming().await;
    db.exec("INSERT INTO public.t VALUES (3)").await;
    wait_for(60, "the insert", &s, || count(&s, "c") == 1).await;
    assert_eq!(count(&s, "r"), 0);
    s.stop();
    db.exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()").await;

    // always: a snapshot on every start.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let always = db.connector("m", &[("snapshot.mode", "always")]);
    s.start(std::slice::from_ref(&always), &[]);
    wait_for(60, "the first snapshot", &s, || count(&s, "r") == 3).await;
    s.stop();
    s.start(&[always], &[]);
    wait_for(60, "the second snapshot", &s, || count(&s, "r") == 6).await;
    s.stop();
    db.exec("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()").await;

    // initial_only: the snapshot, then nothing streams.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector("m", &[("snapshot.mode", "initial_only")])],
        &[],
    );
    wait_for(60, "the snapshot", &s, || {
        s.log_text().contains("snapshot completed")
    })
    .await;
    db.exec("INSERT INTO public.t VALUES (4)").await;
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(count(&s, "r"), 3);
    assert_eq!(count(&s, "c"), 0);
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn several_connectors_in_one_process_and_stdout() {
    let db = TestDb::pagila("multi").await;
    db.exec("CREATE TABLE public.loose (a int, b text); INSERT INTO public.loose VALUES (1, 'x')")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let mut second = db.connector("m2", &[("table.include.list", "public.loose")]);
    second["config"]["slot.name"] = Json::String(format!("slot2_{}", db.name));
    second["config"]["publication.name"] = Json::String(format!("pub2_{}", db.name));
    s.start(
        &[
            db.connector("m1", &[("table.include.list", "public.language")]),
            second,
        ],
        &["--stdout"],
    );
    wait_for(60, "both snapshots", &s, || {
        s.records("m1.public.language").len() == 6 && s.records("m2.public.loose").len() == 1
    })
    .await;
    // A table without a primary key has a null key.
    let loose = s.records("m2.public.loose");
    assert!(loose[0]["key"].is_null());
    assert_eq!(payload(&loose[0])["after"]["b"], "x");
    // --stdout prints exactly the records written, in the local-topic line format.
    wait_for(10, "stdout", &s, || s.stdout_records().len() == 7).await;
    let mut printed = s.stdout_records();
    let mut written: Vec<Json> = s.records("m1.public.language");
    written.extend(loose);
    let sort_key = |r: &Json| format!("{}-{}", r["topic"], r["offset"]);
    printed.sort_by_key(sort_key);
    written.sort_by_key(sort_key);
    assert_eq!(printed, written);
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn partitioned_tables_are_captured_under_their_own_name() {
    let db = TestDb::empty("parted").await;
    db.exec(
        "CREATE TABLE public.parted (id int, day date, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
         CREATE TABLE public.parted_2024 PARTITION OF public.parted FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
         CREATE TABLE public.parted_2025 PARTITION OF public.parted FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
         INSERT INTO public.parted VALUES (1, '2024-05-01')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector("pt", &[("table.include.list", "public.parted")])],
        &[],
    );
    s.wait_streaming().await;
    db.exec("INSERT INTO public.parted VALUES (2, '2025-05-01'); UPDATE public.parted SET day = '2025-02-01' WHERE id = 1").await;
    wait_for(60, "the partition changes", &s, || {
        s.records("pt.public.parted").len() >= 5
    })
    .await;
    let ops = ops(&s.records("pt.public.parted"));
    // Moving a row across partitions is a delete + insert in Postgres.
    assert_eq!(
        ops,
        vec![
            r#"r {"id":1,"day":19844}"#.to_string(),
            r#"c {"id":2,"day":20209}"#.to_string(),
            r#"d {"id":1,"day":19844}"#.to_string(),
            r#"tombstone {"id":1,"day":19844}"#.to_string(),
            r#"c {"id":1,"day":20120}"#.to_string(),
        ]
    );
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inheritance_parent_is_snapshotted_with_its_childrens_rows() {
    // Debezium reads a table with SELECT, which returns the rows of its inheritance children
    // too; a plain COPY of the table would not.
    let db = TestDb::empty("inherit").await;
    db.exec(
        "CREATE TABLE public.animal (id int PRIMARY KEY, name text);
         CREATE TABLE public.dog (barks boolean) INHERITS (public.animal);
         INSERT INTO public.animal VALUES (1, 'cat');
         INSERT INTO public.dog VALUES (2, 'rex', true)",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector("inh", &[("table.include.list", "public.animal")])],
        &[],
    );
    s.wait_streaming().await;
    wait_for(60, "both rows", &s, || {
        s.records("inh.public.animal").len() >= 2
    })
    .await;
    let mut ops = ops(&s.records("inh.public.animal"));
    ops.sort();
    assert_eq!(
        ops,
        vec![r#"r {"id":1}"#.to_string(), r#"r {"id":2}"#.to_string()]
    );
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn parallel_snapshot_matches_a_single_read() {
    let db = TestDb::with_big_table("chunks", 60_000).await;
    // Holes, so chunks start and end among deleted rows; a second table after it, so the
    // markers span tables.
    db.exec(
        "DELETE FROM public.big WHERE id % 7 = 0;
         CREATE TABLE public.small (id int PRIMARY KEY); INSERT INTO public.small VALUES (1), (2)",
    )
    .await;
    let snapshot = |threads: &'static str, name: &'static str| {
        let db = &db;
        async move {
            let dir = tempfile::tempdir().unwrap();
            let mut s = Sluice::new(dir.path());
            let slot = format!("slot_{name}");
            let config = db.connector(
                name,
                &[
                    ("snapshot.mode", "initial_only"),
                    ("snapshot.max.threads", threads),
                    ("slot.name", slot.as_str()),
                    ("table.include.list", "public.big,public.small"),
                ],
            );
            s.start(&[config], &[]);
            wait_for(120, "the snapshot", &s, || {
                s.log_text().contains("snapshot completed")
            })
            .await;
            let rows: Vec<(Json, Json)> = ["big", "small"]
                .iter()
                .flat_map(|t| s.records(&format!("{name}.public.{t}")))
                .map(|r| {
                    let p = payload(&r);
                    (p["after"].clone(), p["source"]["snapshot"].clone())
                })
                .collect();
            let log = s.log_text();
            s.stop();
            (rows, log)
        }
    };
    let (single, _) = snapshot("1", "one").await;
    let (chunked, log) = snapshot("4", "four").await;
    assert!(
        log.contains("reading the table in chunks table=public.big chunks=4"),
        "the table was not read in 4 chunks:\n{log}"
    );
    assert_eq!(single.len(), 60_000 - 60_000 / 7 + 2);
    assert_eq!(single.first().map(|r| r.1.clone()), Some("first".into()));
    assert_eq!(single.last().map(|r| r.1.clone()), Some("last".into()));
    assert!(
        single == chunked,
        "chunked and single snapshots differ (first difference at record {:?})",
        single.iter().zip(&chunked).position(|(a, b)| a != b)
    );
    db.drop().await;
}

/// Debezium's TransactionMetadataIT: a BEGIN and an END per transaction on
/// `<prefix>.transaction`, and each change's `transaction` block. Ids are `<xid>:<lsn>`; only the
/// xid part is shared by the records of one transaction.
/// `column.propagate.source.type` / `datatype.propagate.source.type`, ported from Debezium's
/// RecordsSnapshotProducerIT (domains, money, enums) and RecordsStreamProducerIT (varchar and
/// numeric lengths). An unconstrained numeric differs between the two phases, as in Debezium.
#[tokio::test(flavor = "multi_thread")]
async fn source_types_are_propagated_into_value_schemas() {
    let db = TestDb::empty("prop").await;
    db.exec(
        "CREATE DOMAIN float83 AS numeric(8,3) DEFAULT 0.0; CREATE DOMAIN money2 AS MONEY DEFAULT 0.0; \
         CREATE DOMAIN varbit2 AS varbit(3); CREATE TYPE test_type AS ENUM ('V1', 'V2'); \
         CREATE TABLE alias_table (pk SERIAL, salary money, salary2 money2, a numeric(8,3), \
           area float83, bits varbit2, n numeric, vc varchar(2), t text, PRIMARY KEY(pk)); \
         CREATE TABLE enum_table (pk SERIAL, value test_type NOT NULL, PRIMARY KEY(pk)); \
         INSERT INTO alias_table (salary, salary2, a, area, bits, n, vc, t) \
           VALUES (7.25, 8.25, 12345.123, 12345.123, B'101', 1.5, 'ab', 'x'); \
         INSERT INTO enum_table (value) VALUES ('V1')",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector(
            "prop",
            &[
                ("decimal.handling.mode", "double"),
                (
                    "column.propagate.source.type",
                    "public.alias_table.(pk|salary.*|a|area|bits|n|vc)",
                ),
                (
                    "datatype.propagate.source.type",
                    "public\\.enum_table\\.TEST_TYPE",
                ),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    db.exec("INSERT INTO alias_table (n) VALUES (2.5)").await;
    wait_for(60, "the streamed insert", &s, || {
        s.records("prop.public.alias_table").len() >= 2
    })
    .await;
    // The `after` field's parameters, per column: only the propagated ones.
    let params = |record: &Json| -> BTreeMap<String, Vec<String>> {
        let fields = record["value"]["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "after")
            .unwrap()["fields"]
            .as_array()
            .unwrap()
            .clone();
        fields
            .iter()
            .map(|f| {
                let p = f["parameters"].as_object();
                let list = p
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.starts_with("__debezium.source.column."))
                    .map(|(k, v)| format!("{}={}", &k[25..], v.as_str().unwrap()))
                    .collect();
                (f["field"].as_str().unwrap().to_owned(), list)
            })
            .collect()
    };
    let expect = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    };
    const MAX: &str = "length=2147483647";
    let common: Vec<(&str, &[&str])> = vec![
        ("pk", &["type=SERIAL", "length=10", "scale=0", "name=pk"]),
        ("salary", &["type=MONEY", MAX, "scale=0", "name=salary"]),
        ("salary2", &["type=MONEY2", MAX, "scale=0", "name=salary2"]),
        ("a", &["type=NUMERIC", "length=8", "scale=3", "name=a"]),
        (
            "area",
            &["type=FLOAT83", "length=8", "scale=3", "name=area"],
        ),
        (
            "bits",
            &["type=VARBIT2", "length=3", "scale=0", "name=bits"],
        ),
        ("vc", &["type=VARCHAR", "length=2", "scale=0", "name=vc"]),
        ("t", &[]),
    ];
    let records = s.records("prop.public.alias_table");
    let mut snapshot = common.clone();
    snapshot.push(("n", &["type=NUMERIC", "length=0", "name=n"]));
    assert_eq!(params(&records[0]), expect(&snapshot));
    let mut streaming = common;
    streaming.push(("n", &["type=NUMERIC", "length=131089", "scale=0", "name=n"]));
    assert_eq!(params(&records[1]), expect(&streaming));
    // Parameters follow the converter's own, and keys carry none.
    let bits = &records[0]["value"]["schema"]["fields"][1]["fields"][5];
    assert_eq!(bits["name"], "io.debezium.data.Bits");
    assert_eq!(
        bits["parameters"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .unwrap(),
        "length"
    );
    assert!(!records[0]["key"]["schema"]
        .to_string()
        .contains("__debezium"));
    let enums = s.records("prop.public.enum_table");
    assert_eq!(
        params(&enums[0]),
        expect(&[
            ("pk", &[]),
            ("value", &["type=TEST_TYPE", MAX, "scale=0", "name=value"]),
        ])
    );
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transaction_metadata() {
    let db = TestDb::empty("txm").await;
    db.exec(
        "CREATE SCHEMA s1; CREATE SCHEMA s2; \
         CREATE TABLE s1.a (pk serial PRIMARY KEY, aa integer); \
         CREATE TABLE s2.a (pk serial PRIMARY KEY, aa integer, bb varchar(20)); \
         CREATE TABLE public.ignored (id int PRIMARY KEY)",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[db.connector(
            "txm",
            &[
                ("provide.transaction.metadata", "true"),
                ("table.include.list", "s1.a,s2.a"),
                ("snapshot.mode", "no_data"),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    db.exec("INSERT INTO s1.a (aa) VALUES (1); INSERT INTO s2.a (aa) VALUES (1)")
        .await;
    // One transaction: two changes of s1.a, a primary-key change of s2.a (a delete, its
    // tombstone and a create: two events), and a change of a table not captured.
    db.exec(
        "BEGIN; INSERT INTO s1.a (aa) VALUES (2); INSERT INTO public.ignored VALUES (1); \
         UPDATE s2.a SET pk = 10 WHERE pk = 1; UPDATE s1.a SET aa = 3 WHERE pk = 2; COMMIT",
    )
    .await;
    wait_for(60, "two END records", &s, || {
        s.records("txm.transaction").len() >= 4
    })
    .await;

    let tx = s.records("txm.transaction");
    let tx: Vec<&Json> = tx.iter().map(payload).collect();
    let xid = |id: &Json| id.as_str().unwrap().split(':').next().unwrap().to_owned();
    let lsn = |id: &Json| {
        id.as_str()
            .unwrap()
            .split(':')
            .nth(1)
            .unwrap()
            .parse::<i64>()
            .unwrap()
    };
    assert_eq!(tx[0]["status"], "BEGIN");
    assert!(tx[0]["event_count"].is_null() && tx[0]["data_collections"].is_null());
    assert_eq!(tx[1]["status"], "END");
    assert_eq!(xid(&tx[0]["id"]), xid(&tx[1]["id"]));
    assert_eq!(tx[1]["event_count"], 2);
    assert_eq!(
        tx[1]["data_collections"],
        serde_json::json!([
            {"data_collection": "s1.a", "event_count": 1},
            {"data_collection": "s2.a", "event_count": 1},
        ])
    );
    assert_eq!(tx[2]["status"], "BEGIN");
    assert_eq!(tx[3]["event_count"], 4);
    assert_eq!(
        tx[3]["data_collections"],
        serde_json::json!([
            {"data_collection": "s1.a", "event_count": 2},
            {"data_collection": "s2.a", "event_count": 2},
        ])
    );
    assert_ne!(xid(&tx[1]["id"]), xid(&tx[3]["id"]));
    assert!(lsn(&tx[2]["id"]) < lsn(&tx[3]["id"]));
    // ts_ms is the commit time; the key is the id.
    assert!(tx[3]["ts_ms"].as_i64().unwrap() > 1_600_000_000_000);
    let raw = s.records("txm.transaction");
    assert_eq!(
        key_payload(&raw[3]),
        &serde_json::json!({"id": tx[3]["id"]})
    );
    // SchemaFactory.transactionValueSchema as Connect's JSON converter writes it.
    assert_eq!(
        raw[3]["value"]["schema"],
        serde_json::json!({"type":"struct","fields":[
            {"type":"string","optional":false,"field":"status"},
            {"type":"string","optional":false,"field":"id"},
            {"type":"int64","optional":true,"field":"event_count"},
            {"type":"array","items":{"type":"struct","fields":[
                {"type":"string","optional":false,"field":"data_collection"},
                {"type":"int64","optional":false,"field":"event_count"}],
                "optional":true,"name":"event.collection","version":1},
             "optional":true,"field":"data_collections"},
            {"type":"int64","optional":false,"field":"ts_ms"}],
         "optional":false,"name":"io.debezium.connector.common.TransactionMetadataValue","version":1})
    );

    // The blocks: (topic, op, total_order, data_collection_order), tombstones not counted.
    let mut blocks = Vec::new();
    for topic in ["txm.s1.a", "txm.s2.a"] {
        for r in s.records(topic) {
            let p = payload(&r);
            if p.is_null() {
                continue;
            }
            let t = &p["transaction"];
            let in_second = xid(&t["id"]) == xid(&tx[3]["id"]);
            let in_first = xid(&t["id"]) == xid(&tx[1]["id"]);
            assert!(in_first || in_second, "{t}");
            assert_eq!(lsn(&t["id"]), p["source"]["lsn"].as_i64().unwrap());
            blocks.push((
                in_second,
                topic,
                p["op"].as_str().unwrap().to_owned(),
                t["total_order"].as_i64().unwrap(),
                t["data_collection_order"].as_i64().unwrap(),
            ));
        }
    }
    blocks.sort_by_key(|b| (b.0, b.3));
    let expected = [
        (false, "txm.s1.a", "c", 1, 1),
        (false, "txm.s2.a", "c", 2, 1),
        (true, "txm.s1.a", "c", 1, 1),
        (true, "txm.s2.a", "d", 2, 1),
        (true, "txm.s2.a", "c", 3, 2),
        (true, "txm.s1.a", "u", 4, 2),
    ];
    let got: Vec<_> = blocks
        .iter()
        .map(|(a, b, c, d, e)| (*a, *b, c.as_str(), *d, *e))
        .collect();
    assert_eq!(got, expected);
    s.stop();
    db.drop().await;
}
