//! End to end: single message transforms on a real PostgreSQL 15 source, by their Connect and
//! Debezium class names — unwrap (`ExtractNewRecordState`), the outbox router (`EventRouter`),
//! and seed 001's chains — checked record by record in the local topics.

mod common;

use common::*;
use serde_json::{json, Value as Json};

/// The keys of a JSON object, in order.
fn keys(v: &Json) -> Vec<&str> {
    v.as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn header<'a>(record: &'a Json, key: &str) -> Option<&'a str> {
    record["headers"]
        .as_array()?
        .iter()
        .find(|h| h["key"] == key)
        .and_then(|h| h["value"].as_str())
}

/// A connector config with its own slot and publication (several may share a database).
fn connector(db: &TestDb, name: &str, extra: &[(&str, &str)]) -> Json {
    let slot = format!("slot_{name}_{}", db.name);
    let publication = format!("pub_{name}_{}", db.name);
    let mut keys: Vec<(&str, &str)> = vec![
        ("slot.name", slot.as_str()),
        ("publication.name", publication.as_str()),
    ];
    keys.extend_from_slice(extra);
    db.connector(name, &keys)
}

#[tokio::test(flavor = "multi_thread")]
async fn transforms_unwrap_rewrites_changes_into_flat_rows() {
    let db = TestDb::empty("smt_unwrap").await;
    db.exec(
        "CREATE TABLE public.items (id int PRIMARY KEY, name text NOT NULL, price numeric(6,2));
         ALTER TABLE public.items REPLICA IDENTITY FULL",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[connector(
            &db,
            "unwrap",
            &[
                ("table.include.list", "public.items"),
                ("transforms", "unwrap"),
                (
                    "transforms.unwrap.type",
                    "io.debezium.transforms.ExtractNewRecordState",
                ),
                (
                    "transforms.unwrap.delete.tombstone.handling.mode",
                    "rewrite",
                ),
                ("transforms.unwrap.add.fields", "op,table,lsn"),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    db.exec("INSERT INTO public.items VALUES (1, 'pen', 1.50)")
        .await;
    db.exec("UPDATE public.items SET name = 'ink pen' WHERE id = 1")
        .await;
    db.exec("DELETE FROM public.items WHERE id = 1").await;
    let topic = "unwrap.public.items";
    wait_for(60, "three flat rows", &s, || s.records(topic).len() >= 3).await;
    // A fourth record would be the delete's tombstone, which rewrite drops.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let records = s.records(topic);
    assert_eq!(records.len(), 3, "{records:#?}");

    let expected = [
        ("c", "pen", "false"),
        ("u", "ink pen", "false"),
        ("d", "ink pen", "true"),
    ];
    let mut last_lsn = 0;
    for (record, (op, name, deleted)) in records.iter().zip(expected) {
        let row = payload(record);
        assert_eq!(
            keys(row),
            [
                "id",
                "name",
                "price",
                "__deleted",
                "__op",
                "__table",
                "__lsn"
            ],
            "{record}"
        );
        assert_eq!(row["id"], 1);
        assert_eq!(row["name"], name);
        assert_eq!(row["price"], "AJY=", "1.50 in numeric(6,2)");
        assert_eq!(row["__deleted"], deleted);
        assert_eq!(row["__op"], op);
        assert_eq!(row["__table"], "items");
        let lsn = row["__lsn"].as_i64().expect("__lsn is a number");
        assert!(lsn > last_lsn, "LSNs grow: {lsn} after {last_lsn}");
        last_lsn = lsn;
        assert_eq!(key_payload(record), &json!({"id": 1}));

        // The row schema keeps Debezium's name; the added fields are optional, typed as in
        // the envelope.
        let schema = &record["value"]["schema"];
        assert_eq!(schema["name"], "unwrap.public.items.Value");
        assert_eq!(schema["optional"], false);
        let fields = schema["fields"].as_array().unwrap();
        let field = |name: &str| fields.iter().find(|f| f["field"] == name).unwrap();
        assert_eq!(field("__deleted")["type"], "string");
        assert_eq!(field("__deleted")["optional"], true);
        assert_eq!(field("__op")["type"], "string");
        assert_eq!(field("__lsn")["type"], "int64");
        assert_eq!(field("__lsn")["optional"], true);
    }
    s.stop();
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn transforms_outbox_rows_become_business_events() {
    let db = TestDb::empty("smt_outbox").await;
    db.exec(
        "CREATE TABLE public.outbox (
             id uuid PRIMARY KEY,
             aggregatetype varchar(255) NOT NULL,
             aggregateid varchar(255) NOT NULL,
             type varchar(255) NOT NULL,
             payload jsonb
         )",
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    s.start(
        &[connector(
            &db,
            "outbox",
            &[
                ("table.include.list", "public.outbox"),
                ("transforms", "outbox"),
                (
                    "transforms.outbox.type",
                    "io.debezium.transforms.outbox.EventRouter",
                ),
                (
                    "transforms.outbox.table.fields.additional.placement",
                    "type:header:eventType",
                ),
            ],
        )],
        &[],
    );
    s.wait_streaming().await;
    db.exec(
        "INSERT INTO public.outbox VALUES
           ('6f1e1d3a-0000-4000-8000-000000000001', 'Order', 'order-1', 'OrderCreated', '{\"id\": 1, \"total\": 10.5}'),
           ('6f1e1d3a-0000-4000-8000-000000000002', 'Customer', 'customer-7', 'CustomerRegistered', '{\"name\": \"Ada\"}');
         UPDATE public.outbox SET type = 'OrderChanged' WHERE aggregateid = 'order-1';
         DELETE FROM public.outbox WHERE aggregateid = 'customer-7';
         INSERT INTO public.outbox VALUES
           ('6f1e1d3a-0000-4000-8000-000000000003', 'Order', 'order-1', 'OrderShipped', '{\"id\": 1, \"shipped\": true}')",
    )
    .await;
    wait_for(60, "the order events", &s, || {
        s.records("outbox.event.Order").len() >= 2
    })
    .await;
    wait_for(60, "the update warning", &s, || {
        s.log_text().contains("Unexpected update message received")
    })
    .await;

    let orders = s.records("outbox.event.Order");
    assert_eq!(
        orders.len(),
        2,
        "the update and the delete are not events: {orders:#?}"
    );
    let customers = s.records("outbox.event.Customer");
    assert_eq!(customers.len(), 1, "{customers:#?}");
    for (record, id, event_type, body) in [
        (
            &orders[0],
            "6f1e1d3a-0000-4000-8000-000000000001",
            "OrderCreated",
            r#"{"id": 1, "total": 10.5}"#,
        ),
        (
            &orders[1],
            "6f1e1d3a-0000-4000-8000-000000000003",
            "OrderShipped",
            r#"{"id": 1, "shipped": true}"#,
        ),
        (
            &customers[0],
            "6f1e1d3a-0000-4000-8000-000000000002",
            "CustomerRegistered",
            r#"{"name": "Ada"}"#,
        ),
    ] {
        // The payload column is the value, with its own schema (jsonb: io.debezium.data.Json).
        assert_eq!(payload(record), body, "{record}");
        assert_eq!(record["value"]["schema"]["name"], "io.debezium.data.Json");
        assert_eq!(header(record, "id"), Some(id));
        assert_eq!(header(record, "eventType"), Some(event_type));
    }
    assert_eq!(key_payload(&orders[0]), "order-1");
    assert_eq!(key_payload(&orders[1]), "order-1");
    assert_eq!(key_payload(&customers[0]), "customer-7");
    assert_eq!(orders[0]["key"]["schema"]["type"], "string");
    // No raw change event of the outbox table is written.
    assert!(s.records("outbox.public.outbox").is_empty());
    s.stop();
    db.drop().await;
}

/// Seed 001's address rows as its article prints them (timestamps aside: its JDBC source wrote
/// milliseconds of another Pagila release).
fn seed_rows() -> Vec<Json> {
    vec![
        json!({"address_id": 100, "address": "1308 Arecibo Way", "address2": "", "district": "Georgia", "city_id": 41, "postal_code": "30695", "phone": "6171054059"}),
        json!({"address_id": 101, "address": "1599 Plock Drive", "address2": "", "district": "Tete", "city_id": 534, "postal_code": "71986", "phone": "817248913162"}),
        json!({"address_id": 102, "address": "669 Firozabad Loop", "address2": "", "district": "Abu Dhabi", "city_id": 12, "postal_code": "92265", "phone": "412903167998"}),
    ]
}

/// Seed 001's chains on the Pagila address table. The seed runs them on Confluent's JDBC
/// source, which Sluice does not have yet: here a Debezium source is unwrapped first, so its
/// rows are flat like the JDBC source's, and its topic is routed to the JDBC source's name.
/// The second chain runs on a source of its own: after the first chain the rows already carry
/// `message_source`, and an InsertField of an existing field is an error in Connect.
#[tokio::test(flavor = "multi_thread")]
async fn transforms_of_seed_001_chains() {
    let db = TestDb::pagila("smt_seed001").await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = Sluice::new(dir.path());
    let alt = connector(
        &db,
        "alt",
        &[
            ("topic.prefix", "pagila"),
            ("table.include.list", "public.address"),
            (
                "transforms",
                "unwrap,toJdbcTopic,createKey,extractInt,InsertTopic,InsertSourceDetails",
            ),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            // Seed-era keys (Debezium 1.x), still accepted.
            ("transforms.unwrap.drop.tombstones", "true"),
            ("transforms.unwrap.delete.handling.mode", "drop"),
            (
                "transforms.toJdbcTopic.type",
                "org.apache.kafka.connect.transforms.RegexRouter",
            ),
            ("transforms.toJdbcTopic.regex", "pagila\\.public\\.(.*)"),
            ("transforms.toJdbcTopic.replacement", "pagila.public.alt.$1"),
            (
                "transforms.createKey.type",
                "org.apache.kafka.connect.transforms.ValueToKey",
            ),
            ("transforms.createKey.fields", "address_id"),
            (
                "transforms.extractInt.type",
                "org.apache.kafka.connect.transforms.ExtractField$Key",
            ),
            ("transforms.extractInt.field", "address_id"),
            (
                "transforms.InsertTopic.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.InsertTopic.topic.field", "message_topic"),
            (
                "transforms.InsertSourceDetails.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            (
                "transforms.InsertSourceDetails.static.field",
                "message_source",
            ),
            ("transforms.InsertSourceDetails.static.value", "pagila"),
        ],
    );
    let lake = connector(
        &db,
        "lake",
        &[
            ("topic.prefix", "pagila"),
            ("table.include.list", "public.address"),
            // As the seed writes it, with a space after the first comma.
            (
                "transforms",
                "unwrap,RenameField, insertStaticField1,insertStaticField2,insertStaticField3",
            ),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.RenameField.type",
                "org.apache.kafka.connect.transforms.ReplaceField$Value",
            ),
            ("transforms.RenameField.renames", "district:state_province"),
            (
                "transforms.insertStaticField1.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            (
                "transforms.insertStaticField1.static.field",
                "message_source",
            ),
            ("transforms.insertStaticField1.static.value", "pagila"),
            (
                "transforms.insertStaticField2.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            (
                "transforms.insertStaticField2.static.field",
                "message_source_engine",
            ),
            ("transforms.insertStaticField2.static.value", "postgresql"),
            (
                "transforms.insertStaticField3.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.insertStaticField3.static.field", "environment"),
            ("transforms.insertStaticField3.static.value", "development"),
        ],
    );
    s.start(&[alt, lake], &[]);
    wait_for(180, "both snapshots of address", &s, || {
        s.records("pagila.public.alt.address").len() >= 603
            && s.records("pagila.public.address").len() >= 603
    })
    .await;

    // Chain 1: the key is the bare address_id, two fields appended.
    let alt = s.records("pagila.public.alt.address");
    assert_eq!(alt.len(), 603);
    for expected in seed_rows() {
        let id = expected["address_id"].as_i64().unwrap();
        let record = alt
            .iter()
            .find(|r| payload(r)["address_id"] == id)
            .unwrap_or_else(|| panic!("address {id}"));
        assert_eq!(record["topic"], "pagila.public.alt.address");
        assert_eq!(key_payload(record), id, "the key is the address_id itself");
        assert_eq!(record["key"]["schema"]["type"], "int32");
        assert_eq!(record["key"]["schema"]["optional"], false);
        let row = payload(record);
        assert_eq!(
            keys(row),
            [
                "address_id",
                "address",
                "address2",
                "district",
                "city_id",
                "postal_code",
                "phone",
                "last_update",
                "message_topic",
                "message_source"
            ]
        );
        for (field, value) in expected.as_object().unwrap() {
            assert_eq!(&row[field], value, "{field} of address {id}");
        }
        assert_eq!(row["message_topic"], "pagila.public.alt.address");
        assert_eq!(row["message_source"], "pagila");
        let fields = record["value"]["schema"]["fields"].as_array().unwrap();
        assert_eq!(
            fields[8],
            json!({"type": "string", "optional": true, "field": "message_topic"})
        );
        assert_eq!(
            fields[9],
            json!({"type": "string", "optional": true, "field": "message_source"})
        );
    }

    // Chain 2: district renamed in place (value and schema), three static fields appended.
    let lake = s.records("pagila.public.address");
    assert_eq!(lake.len(), 603);
    let seed = [
        (
            599,
            "1895 Zhezqazghan Drive",
            "California",
            "36693",
            "137809746111",
        ),
        (6, "1121 Loja Avenue", "California", "17886", "838635286649"),
        (
            18,
            "770 Bydgoszcz Avenue",
            "California",
            "16266",
            "517338314235",
        ),
    ];
    for (id, address, state, postal_code, phone) in seed {
        let record = lake
            .iter()
            .find(|r| payload(r)["address_id"] == id)
            .unwrap_or_else(|| panic!("address {id}"));
        let row = payload(record);
        assert_eq!(
            keys(row),
            [
                "address_id",
                "address",
                "address2",
                "state_province",
                "city_id",
                "postal_code",
                "phone",
                "last_update",
                "message_source",
                "message_source_engine",
                "environment"
            ]
        );
        assert_eq!(row["address"], address);
        assert_eq!(row["address2"], "");
        assert_eq!(row["state_province"], state);
        assert_eq!(row["postal_code"], postal_code);
        assert_eq!(row["phone"], phone);
        assert_eq!(row["message_source"], "pagila");
        assert_eq!(row["message_source_engine"], "postgresql");
        assert_eq!(row["environment"], "development");
        let fields = record["value"]["schema"]["fields"].as_array().unwrap();
        assert_eq!(fields[3]["field"], "state_province");
        assert_eq!(fields[3]["type"], "string");
        assert_eq!(fields[3]["optional"], false, "district is NOT NULL");
        // The key is Debezium's, untouched by this chain.
        assert_eq!(key_payload(record), &json!({"address_id": id}));
    }
    s.stop();
    db.drop().await;
}

/// A transform config that makes no sense stops `sluice run` before anything starts, naming
/// the alias and the key.
#[tokio::test(flavor = "multi_thread")]
async fn transforms_with_bad_options_are_config_errors() {
    let db = TestDb::empty("smt_bad").await;
    let dir = tempfile::tempdir().unwrap();
    let config = connector(
        &db,
        "bad",
        &[
            ("transforms", "InsertNothing,unwrap"),
            (
                "transforms.InsertNothing.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            (
                "transforms.unwrap.type",
                "io.debezium.transforms.ExtractNewRecordState",
            ),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "explode",
            ),
        ],
    );
    let path = dir.path().join("bad.json");
    std::fs::write(&path, serde_json::to_vec(&config).unwrap()).unwrap();
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        tokio::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(["run", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg(&path)
            .output(),
    )
    .await
    .expect("sluice run stops within 60 s")
    .expect("run sluice");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("transforms.InsertNothing.static.field")
            && stderr.contains("No field insertion configured"),
        "{stderr}"
    );
    assert!(
        stderr.contains("transforms.unwrap.delete.tombstone.handling.mode"),
        "{stderr}"
    );
    db.drop().await;
}
