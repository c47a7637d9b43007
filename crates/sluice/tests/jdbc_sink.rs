//! The JDBC sinks into PostgreSQL against real PostgreSQL 15: seed 003's partial PG → PG
//! replication (Pagila → Postgres source → local topics → sink into a separate target
//! database) converging through inserts, updates, deletes and primary-key changes, with
//! Confluent's sink after `ExtractNewRecordState` and Debezium's on raw envelopes; kill -9 of
//! the worker mid-stream then restart without loss or duplicates; records the target refuses
//! handled by `errors.tolerance` and the dead letter queue with their SQLSTATE.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value as Json};

fn jdbc_url(db: &TestDb) -> String {
    format!(
        "jdbc:postgresql://{}:{}/{}",
        db.pg.host, db.pg.port, db.name
    )
}

/// Seed 003's source: the tables to replicate, nothing else.
fn source(db: &TestDb, name: &str, tables: &str) -> Json {
    db.connector(name, &[("table.include.list", tables)])
}

/// Confluent's JDBC sink as seed 003 runs it: flat rows after `ExtractNewRecordState`
/// (tombstones kept so deletes reach the target), topic renamed to the bare table.
fn confluent_sink(target: &TestDb, prefix: &str) -> Json {
    json!({"name": "jdbc-sink-confluent", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "topics.regex": format!("{prefix}\\.public\\..*"),
        "connection.url": jdbc_url(target),
        "connection.user": target.pg.user,
        "connection.password": target.pg.password,
        "transforms": "unwrap,route",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.drop.tombstones": "false",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": "([^.]+)\\.([^.]+)\\.([^.]+)",
        "transforms.route.replacement": "$3",
        "auto.create": "true",
        "auto.evolve": "true",
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "pk.mode": "record_key",
    }})
}

/// Debezium's JDBC sink on the raw envelopes.
fn debezium_sink(target: &TestDb, prefix: &str) -> Json {
    json!({"name": "jdbc-sink-debezium", "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics.regex": format!("{prefix}\\.public\\..*"),
        "connection.url": jdbc_url(target),
        "connection.username": target.pg.user,
        "connection.password": target.pg.password,
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "schema.evolution": "basic",
        "collection.name.format": "${source.table}",
    }})
}

/// Every row of `table` in `db` as text, over the columns the target has, each read as the
/// source's type (auto.create writes `char(n)` into `text`, padding kept), sorted.
async fn rows(db: &TestDb, table: &str, columns: &[(String, String)]) -> Vec<String> {
    let cols: Vec<String> = columns
        .iter()
        .map(|(c, ty)| format!("t.\"{c}\"::{ty}::text"))
        .collect();
    let sql = format!(
        "SELECT ROW({})::text AS r FROM public.\"{table}\" t ORDER BY 1",
        cols.join(", ")
    );
    db.client
        .query(&sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// The target's columns with the source's type of each.
async fn target_columns(source: &TestDb, target: &TestDb, table: &str) -> Vec<(String, String)> {
    let source_types: BTreeMap<String, String> =
        source.column_types(table).await.into_iter().collect();
    target
        .column_types(table)
        .await
        .into_iter()
        .map(|(name, ty)| {
            let ty = source_types.get(&name).cloned().unwrap_or(ty);
            (name, ty)
        })
        .collect()
}

/// The rows that differ between source and target (both ways), per table; empty when equal.
async fn differences(
    source: &TestDb,
    target: &TestDb,
    tables: &[&str],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for table in tables {
        let columns = target_columns(source, target, table).await;
        if columns.is_empty() {
            out.insert(table.to_string(), "missing in the target".into());
            continue;
        }
        let a = rows(source, table, &columns).await;
        let b = rows(target, table, &columns).await;
        if a != b {
            let only_a: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(3).collect();
            let only_b: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(3).collect();
            out.insert(
                table.to_string(),
                format!(
                    "source {} rows, target {}; only in source {only_a:?}; only in target {only_b:?}",
                    a.len(),
                    b.len()
                ),
            );
        }
    }
    out
}

async fn converge(s: &Sluice, source: &TestDb, target: &TestDb, tables: &[&str], secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let diff = differences(source, target, tables).await;
        if diff.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "target did not converge: {diff:#?}\n--- sluice log ---\n{}",
                s.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

const SEED_TABLES: &str = "public.actor,public.category,public.country,public.city,public.language";
const TABLES: &[&str] = &["actor", "category", "country", "city", "language"];

/// Inserts, updates, deletes and a primary-key change on the replicated tables.
async fn mutate(db: &TestDb) {
    db.exec(
        "INSERT INTO public.actor (first_name, last_name) VALUES ('ADA', 'LOVELACE'), ('ALAN', 'TURING');
         UPDATE public.actor SET last_name = 'UPDATED' WHERE actor_id IN (1, 2, 3);
         INSERT INTO public.category (name) VALUES ('Documentary 2');
         UPDATE public.country SET country = country || ' (renamed)' WHERE country_id = 7;
         INSERT INTO public.city (city, country_id) VALUES ('Nowhere', 7);
         DELETE FROM public.language WHERE language_id = 6;
         UPDATE public.category SET category_id = 1000 WHERE category_id = 16;",
    )
    .await;
    // An actor with no films can go; a primary key change on another.
    db.exec(
        "INSERT INTO public.actor (actor_id, first_name, last_name) VALUES (5000, 'TEMP', 'ROW');
         DELETE FROM public.actor WHERE actor_id = 5000;
         UPDATE public.actor SET actor_id = 7000 WHERE actor_id = (SELECT max(actor_id) FROM public.actor WHERE first_name = 'ALAN');",
    )
    .await;
}

async fn seed_003(sink: fn(&TestDb, &str) -> Json, prefix: &str) {
    let db = TestDb::pagila(prefix).await;
    let target = TestDb::empty(&format!("{prefix}_target")).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("s003");
    s.start(
        &[source(&db, &name, SEED_TABLES), sink(&target, &name)],
        &[],
    );
    s.wait_streaming().await;
    converge(&s, &db, &target, TABLES, 120).await;
    mutate(&db).await;
    converge(&s, &db, &target, TABLES, 120).await;
    // The positions live with the data.
    let committed = target
        .scalar_i64("SELECT count(*) FROM public.__sluice_sink_offsets")
        .await;
    assert_eq!(committed, TABLES.len() as i64);
    // A schema change mid-stream: the new column reaches the target (auto.evolve / basic).
    db.exec(
        "ALTER TABLE public.category ADD COLUMN note text;
         UPDATE public.category SET note = 'evolved' WHERE category_id = 1;",
    )
    .await;
    // The comparison runs over the target's columns, so it agrees before the sink has added
    // the new one: wait for the column and its value first.
    let deadline = Instant::now() + Duration::from_secs(120);
    let sql = "SELECT note FROM public.category WHERE category_id = 1";
    loop {
        let note = target.client.query_opt(sql, &[]).await;
        if let Ok(Some(row)) = &note {
            if row.get::<_, Option<String>>(0).as_deref() == Some("evolved") {
                break;
            }
        }
        // On a timeout, whether the source wrote the evolved row tells which side stalled.
        assert!(
            Instant::now() < deadline,
            "{sql}: {note:?}\n--- last category records ---\n{:?}\n--- sluice log ---\n{}",
            s.records(&format!("{name}.public.category"))
                .iter()
                .rev()
                .take(2)
                .map(|r| payload(r)["after"].to_string())
                .collect::<Vec<_>>(),
            s.log_text()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    converge(&s, &db, &target, TABLES, 120).await;
    s.stop();
    db.drop().await;
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_003_confluent_sink_after_unwrap_converges() {
    seed_003(confluent_sink, "jsink_conf").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_003_debezium_sink_on_envelopes_converges() {
    seed_003(debezium_sink, "jsink_dbz").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_batch_then_restart_no_loss_no_duplicates() {
    let db = TestDb::empty("jsink_kill").await;
    let target = TestDb::empty("jsink_kill_target").await;
    const N: i64 = 300_000;
    db.exec(&format!(
        "CREATE TABLE public.events (id bigint PRIMARY KEY, body text, at timestamptz);
         INSERT INTO public.events SELECT g, md5(g::text), now() FROM generate_series(1, {N}) g"
    ))
    .await;
    // Plain INSERTs without a key in the target: a record applied twice is a second row.
    target
        .exec("CREATE TABLE public.events (id bigint, body text, at timestamptz)")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("kill");
    let sink = json!({"name": "jdbc-kill", "config": {
        "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
        "topics": format!("{name}.public.events"),
        "connection.url": jdbc_url(&target),
        "connection.user": target.pg.user,
        "connection.password": target.pg.password,
        "transforms": "unwrap,route",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
        "transforms.route.regex": ".*\\.(.*)",
        "transforms.route.replacement": "$1",
        "insert.mode": "insert",
        "pk.mode": "none",
    }});
    let configs = [source(&db, &name, "public.events"), sink];
    s.start(&configs, &[]);
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        at_kill = target
            .scalar_i64("SELECT count(*) FROM public.events")
            .await;
        if at_kill > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.kill();
    assert!(
        at_kill > 0 && at_kill < N,
        "the kill must land mid-stream (target had {at_kill} of {N} rows)\n{}",
        s.log_text()
    );
    s.start(&configs, &[]);
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let n = target
            .scalar_i64("SELECT count(*) FROM public.events")
            .await;
        if n >= N || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Let anything duplicated arrive before counting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rows = target
        .scalar_i64("SELECT count(*) FROM public.events")
        .await;
    let distinct = target
        .scalar_i64("SELECT count(DISTINCT id) FROM public.events")
        .await;
    assert_eq!((rows, distinct), (N, N), "{}", s.log_text());
    assert!(differences(&db, &target, &["events"]).await.is_empty());
    s.stop();
    db.drop().await;
    target.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_records_follow_errors_tolerance_with_sqlstate_and_coordinates() {
    let db = TestDb::empty("jsink_bad").await;
    let target = TestDb::empty("jsink_bad_target").await;
    db.exec(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int);
         INSERT INTO public.t VALUES (1, 5), (2, 5000), (3, 7);",
    )
    .await;
    target
        .exec("CREATE TABLE public.t (id int PRIMARY KEY, v int CHECK (v < 1000))")
        .await;
    let name = unique("bad");
    let topic = format!("{name}.public.t");
    let sink = |sink_name: &str, tolerance: &str| {
        json!({"name": sink_name, "config": {
            "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
            "topics": topic,
            "connection.url": jdbc_url(&target),
            "connection.username": target.pg.user,
            "connection.password": target.pg.password,
            "insert.mode": "upsert",
            "primary.key.mode": "record_key",
            "collection.name.format": "${source.table}",
            "errors.tolerance": tolerance,
            "errors.deadletterqueue.topic.name": format!("dlq-{name}"),
            "errors.deadletterqueue.context.headers.enable": "true",
        }})
    };
    // Tolerance none: the task fails naming the record and the SQLSTATE; nothing is applied
    // past it.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[source(&db, &name, "public.t"), sink("strict", "none")],
        &[],
    );
    wait_for(90, "the refused record's error", &s, || {
        s.log_text().contains("23514")
    })
    .await;
    let log = s.log_text();
    let line = log.lines().find(|l| l.contains("23514")).unwrap();
    assert!(
        line.contains(&format!("topic {topic} partition 0 offset 1")),
        "{line}"
    );
    assert!(line.contains("t_v_check"), "{line}");
    s.kill();
    // Tolerance all: the good rows land, the bad one is in the DLQ with its context.
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name2 = unique("bad");
    let topic2 = format!("{name2}.public.t");
    let mut tolerant = sink("tolerant", "all");
    tolerant["config"]["topics"] = json!(topic2);
    let mut src = source(&db, &name2, "public.t");
    src["config"]["slot.name"] = json!(format!("slot2_{}", db.name));
    s.start(&[src, tolerant], &[]);
    let dlq = format!("dlq-{name}");
    wait_for(90, "the refused record in the DLQ", &s, || {
        !s.records(&dlq).is_empty()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while target.scalar_i64("SELECT count(*) FROM public.t").await < 2 && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ids: Vec<i32> = target
        .client
        .query("SELECT id FROM public.t ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, vec![1, 3]);
    let dead = s.records(&dlq);
    assert_eq!(dead.len(), 1, "{dead:?}");
    let headers: BTreeMap<String, String> = dead[0]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["key"].as_str().unwrap().to_owned(),
                h["value"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(headers["__connect.errors.topic"], topic2);
    assert_eq!(headers["__connect.errors.offset"], "1");
    assert_eq!(headers["__connect.errors.stage"], "TASK_PUT");
    assert!(
        headers["__connect.errors.exception.message"].contains("SQLSTATE 23514"),
        "{headers:?}"
    );
    s.stop();
    db.drop().await;
    target.drop().await;
}

/// A column added in the source mid-stream, without `schema.evolution`: the task fails, naming
/// the table, the column and the key that would add it; nothing after it is applied.
#[tokio::test(flavor = "multi_thread")]
async fn a_column_added_without_evolution_fails_naming_table_and_column() {
    let db = TestDb::empty("jsink_evo").await;
    let target = TestDb::empty("jsink_evo_target").await;
    db.exec(
        "CREATE TABLE public.t (id int PRIMARY KEY, v int); INSERT INTO public.t VALUES (1, 1)",
    )
    .await;
    target
        .exec("CREATE TABLE public.t (id int PRIMARY KEY, v int)")
        .await;
    let name = unique("evo");
    let sink = json!({"name": "no-evolution", "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics": format!("{name}.public.t"),
        "connection.url": jdbc_url(&target),
        "connection.username": target.pg.user,
        "connection.password": target.pg.password,
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        "collection.name.format": "${source.table}",
    }});
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(&[source(&db, &name, "public.t"), sink], &[]);
    s.wait_streaming().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while target.scalar_i64("SELECT count(*) FROM public.t").await < 1 {
        assert!(Instant::now() < deadline, "{}", s.log_text());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    db.exec("ALTER TABLE public.t ADD COLUMN note text; INSERT INTO public.t VALUES (2, 2, 'new')")
        .await;
    wait_for(90, "the sink's error", &s, || {
        s.log_text().contains("has no column")
    })
    .await;
    let log = s.log_text();
    let line = log.lines().find(|l| l.contains("has no column")).unwrap();
    for part in ["table t has no column note", "schema.evolution=basic"] {
        assert!(line.contains(part), "{part} missing from: {line}");
    }
    assert_eq!(target.scalar_i64("SELECT count(*) FROM public.t").await, 1);
    s.stop();
    db.drop().await;
    target.drop().await;
}

/// The sink's connection honours libpq's `sslmode` from the URL: against a server that takes
/// only TLS, `verify-full` with the CA writes; `disable` and a CA that did not sign the
/// server's certificate fail with a clear error (and no password in it).
#[tokio::test(flavor = "multi_thread")]
async fn sink_connection_uses_tls_as_libpq_does() {
    let port = env("SLUICE_TEST_TLS_PG_PORT");
    let socket = env("SLUICE_TEST_TLS_PG_SOCKET");
    let certs = std::path::PathBuf::from(env("SLUICE_TEST_TLS_CERTS"));
    let target_db = unique("jsink_tls");
    let psql = |db: &str, sql: &str| {
        let out = std::process::Command::new("psql")
            .args([
                "-X",
                "-qtA",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                &socket,
                "-p",
                &port,
            ])
            .args(["-U", "postgres", "-d", db, "-c", sql])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    psql("postgres", &format!("CREATE DATABASE {target_db}"));
    let db = TestDb::empty("jsink_tls_src").await;
    db.exec("CREATE TABLE public.t (id int PRIMARY KEY, v text); INSERT INTO public.t VALUES (1, 'one'), (2, 'two')")
        .await;
    let name = unique("tls");
    let sink = |sink_name: &str, params: &str| {
        json!({"name": sink_name, "config": {
            "connector.class": "io.confluent.connect.jdbc.JdbcSinkConnector",
            "topics": format!("{name}.public.t"),
            "connection.url": format!("jdbc:postgresql://localhost:{port}/{target_db}?{params}"),
            "connection.user": "sluice_tls",
            "connection.password": "tlspass",
            "transforms": "unwrap,route",
            "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
            "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.route.regex": ".*\\.(.*)",
            "transforms.route.replacement": "$1",
            "auto.create": "true",
            "insert.mode": "upsert",
            "pk.mode": "record_key",
        }})
    };
    let ca = certs.join("ca.crt").display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[
            source(&db, &name, "public.t"),
            sink("tls-ok", &format!("sslmode=verify-full&sslrootcert={ca}")),
        ],
        &[],
    );
    let deadline = Instant::now() + Duration::from_secs(90);
    let rows = "SELECT CASE WHEN to_regclass('public.t') IS NULL THEN 0 \
                ELSE (xpath('//n/text()', query_to_xml('SELECT count(*) AS n FROM public.t', false, false, '')))[1]::text::int END";
    while psql(&target_db, rows) != "2" {
        assert!(Instant::now() < deadline, "{}", s.log_text());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.stop();
    for (params, expected) in [
        ("sslmode=disable".to_string(), "no encryption"),
        (
            format!(
                "sslmode=verify-ca&sslrootcert={}",
                certs.join("other-ca.crt").display()
            ),
            "other-ca.crt",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Sluice::new(dir.path());
        let mut src = source(&db, &unique("tlsbad"), "public.t");
        src["config"]["slot.name"] = json!(format!("slot_{}", unique("b")));
        s.start(&[src, sink("tls-bad", &params)], &[]);
        wait_for(60, expected, &s, || s.log_text().contains(expected)).await;
        let log = s.log_text();
        assert!(log.contains("connection.url"), "{log}");
        assert!(!log.contains("tlspass"), "{log}");
        s.kill();
    }
    db.drop().await;
    psql(
        "postgres",
        &format!("DROP DATABASE {target_db} WITH (FORCE)"),
    );
}

/// The transaction-consistent mode: the target keeps Pagila's foreign keys (and its triggers,
/// which must not fire for replicated rows); a writer commits multi-table transactions while a
/// checker queries the target all along: it never sees a rental without its customer, nor a
/// customer whose rental is missing or from another transaction. The worker is killed with
/// -9 mid-stream: the source sends transactions again, which the sink skips.
#[tokio::test(flavor = "multi_thread")]
async fn transaction_consistent_mode_keeps_foreign_keys_through_a_kill() {
    let db = TestDb::pagila("jsink_tx").await;
    let target = TestDb::pagila("jsink_tx_target").await;
    target
        .exec("TRUNCATE public.customer, public.rental CASCADE")
        .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let name = unique("tx");
    let source = db.connector(
        &name,
        &[
            ("table.include.list", "public.customer,public.rental"),
            ("provide.transaction.metadata", "true"),
        ],
    );
    let sink = json!({"name": "jdbc-tx", "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics.regex": format!("{name}\\.(public\\.(customer|rental)|transaction)"),
        "sluice.transaction.topic": format!("{name}.transaction"),
        "connection.url": jdbc_url(&target),
        "connection.username": target.pg.user,
        "connection.password": target.pg.password,
        "insert.mode": "upsert",
        "delete.enabled": "true",
        "primary.key.mode": "record_key",
        "collection.name.format": "${source.table}",
    }});
    let configs = [source, sink];
    s.start(&configs, &[]);
    s.wait_streaming().await;
    let tables = ["customer", "rental"];
    converge(&s, &db, &target, &tables, 120).await;

    // Each writer customer has exactly one rental, and last_name = 'V' || its inventory_id.
    let check = "SELECT \
        (SELECT count(*) FROM public.customer c WHERE c.email LIKE 'txw-%' AND (SELECT count(*) \
           FROM public.rental r WHERE r.customer_id = c.customer_id AND c.last_name = 'V' || r.inventory_id) <> 1) \
      + (SELECT count(*) FROM public.rental r WHERE NOT EXISTS \
           (SELECT 1 FROM public.customer c WHERE c.customer_id = r.customer_id)), \
        (SELECT count(*) FROM public.customer WHERE email LIKE 'txw-%')";
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checker = {
        let client = target.pg.connect(&target.name).await;
        let stop = stop.clone();
        tokio::spawn(async move {
            let (mut checks, mut bad, mut seen) =
                (0u64, Vec::new(), std::collections::BTreeSet::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let row = client.query_one(check, &[]).await.unwrap();
                let (violations, customers): (i64, i64) = (row.get(0), row.get(1));
                if violations != 0 {
                    bad.push(customers);
                }
                seen.insert(customers);
                checks += 1;
            }
            (checks, bad, seen.len())
        })
    };

    let mut ids = Vec::new();
    for i in 0..450i64 {
        match i % 4 {
            0 | 1 => {
                let id = db
                    .scalar_i64(&format!(
                        "WITH c AS (INSERT INTO public.customer (store_id, first_name, last_name, email, address_id) \
                           VALUES (1, 'TX', 'V1', 'txw-{i}', 1) RETURNING customer_id), \
                         r AS (INSERT INTO public.rental (inventory_id, customer_id, staff_id, rental_period) \
                           SELECT 1, customer_id, 1, tsrange('2026-01-01', NULL) FROM c) \
                         SELECT customer_id::bigint FROM c"
                    ))
                    .await;
                ids.push(id);
            }
            2 => {
                let id = ids[ids.len() / 2];
                let k = i % 4000 + 1;
                db.exec(&format!(
                    "BEGIN; UPDATE public.customer SET last_name = 'V{k}' WHERE customer_id = {id}; \
                     UPDATE public.rental SET inventory_id = {k} WHERE customer_id = {id}; COMMIT"
                ))
                .await;
            }
            _ => {
                let id = ids.remove(0);
                db.exec(&format!(
                    "BEGIN; DELETE FROM public.rental WHERE customer_id = {id}; \
                     DELETE FROM public.customer WHERE customer_id = {id}; COMMIT"
                ))
                .await;
            }
        }
        if i == 200 {
            // One large transaction (two changes of each of 16,044 rentals, shipped by the
            // source in pieces before its commit), and the kill while it is on its way: the
            // source sends it again whole, and the sink must apply it once.
            let rentals = format!("{name}.public.rental");
            let before = s.topic_bytes(&rentals);
            db.exec(
                "BEGIN; UPDATE public.rental SET last_update = last_update + interval '1 second'; \
                 UPDATE public.rental SET last_update = last_update - interval '1 second'; COMMIT",
            )
            .await;
            let deadline = Instant::now() + Duration::from_secs(60);
            while s.topic_bytes(&rentals) < before + 1_000_000 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            s.kill();
            s.start(&configs, &[]);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    converge(&s, &db, &target, &tables, 120).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (checks, bad, states) = checker.await.unwrap();
    assert!(
        bad.is_empty(),
        "the target showed half transactions: {bad:?}"
    );
    assert!(
        states > 10,
        "the checker saw only {states} states in {checks} checks"
    );
    // The last transaction applied is kept with the positions.
    let last_end = target
        .scalar_i64(&format!(
            "SELECT next_offset FROM public.__sluice_sink_offsets WHERE topic = '{name}.transaction' AND kafka_partition = -1"
        ))
        .await;
    assert!(last_end > 0);
    let ends: Vec<String> = s
        .records(&format!("{name}.transaction"))
        .iter()
        .filter(|r| payload(r)["status"] == "END")
        .map(|r| payload(r)["id"].to_string())
        .collect();
    let distinct: std::collections::BTreeSet<&String> = ends.iter().collect();
    // Changes sent twice: the same (xid, total_order).
    let mut changes = std::collections::BTreeSet::new();
    let mut again = 0;
    for topic in ["customer", "rental"] {
        for r in s.records(&format!("{name}.public.{topic}")) {
            let t = &payload(&r)["transaction"];
            if t.is_object() {
                let xid = t["id"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .next()
                    .unwrap()
                    .to_owned();
                if !changes.insert((xid, t["total_order"].as_i64())) {
                    again += 1;
                }
            }
        }
    }
    eprintln!(
        "{checks} checks saw {states} states; {} transactions ({} ENDs sent again), {} changes ({again} sent again)",
        distinct.len(),
        ends.len() - distinct.len(),
        changes.len()
    );
    assert!(
        again > 0,
        "the kill was meant to land inside the large transaction"
    );
    assert!(!s.log_text().contains("foreign key"), "{}", s.log_text());
    s.stop();
    db.drop().await;
    target.drop().await;
}

/// The mode needs `session_replication_role`: a user who may not set it gets a clear failure.
#[tokio::test(flavor = "multi_thread")]
async fn transaction_consistent_mode_needs_the_replica_role() {
    let target = TestDb::empty("jsink_txrole").await;
    let user = unique("plain");
    target
        .exec(&format!(
            "CREATE ROLE {user} LOGIN PASSWORD 'secret-pw'; GRANT ALL ON SCHEMA public TO {user}"
        ))
        .await;
    let sink = json!({"name": "jdbc-txrole", "config": {
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "topics": "pg.transaction,pg.public.a",
        "sluice.transaction.topic": "pg.transaction",
        "connection.url": jdbc_url(&target),
        "connection.username": user,
        "connection.password": "secret-pw",
        "primary.key.mode": "record_key",
    }});
    let err = run_failing(60, &sink);
    assert!(
        err.contains("session_replication_role") && err.contains("GRANT SET ON PARAMETER"),
        "{err}"
    );
    assert!(!err.contains("secret-pw"));
    target
        .exec(&format!("DROP OWNED BY {user}; DROP ROLE {user}"))
        .await;
    target.drop().await;
}
