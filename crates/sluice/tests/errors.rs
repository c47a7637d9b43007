//! Each way a start can go wrong gives one clear line naming the key or the server's reason,
//! exits non-zero, never panics, and never prints the password.

mod common;

use common::*;
use serde_json::Value as Json;

fn set(config: &mut Json, key: &str, value: &str) {
    config["config"][key] = Json::String(value.to_owned());
}

const SECRET: &str = "Sup3r-Secret-Pw";

#[tokio::test(flavor = "multi_thread")]
async fn connection_errors_name_host_port_user_and_reason() {
    let db = TestDb::empty("err_conn").await;
    // Nothing listens on port 1. A refused connection is transient and retried; with no
    // retries allowed the task fails at once with the reason.
    let mut c = db.connector("e1", &[("errors.max.retries", "0")]);
    set(&mut c, "database.port", "1");
    set(&mut c, "database.password", SECRET);
    let err = run_failing(60, &c);
    assert!(
        err.contains("cannot connect to PostgreSQL at 127.0.0.1:1 as user \"postgres\""),
        "{err}"
    );
    assert!(err.contains("refused"), "{err}");
    assert!(
        err.contains("gave up retrying after 0 attempt(s) (errors.max.retries=0)"),
        "{err}"
    );
    assert!(!err.contains(SECRET), "{err}");

    let mut c = db.connector("e2", &[]);
    set(&mut c, "database.password", SECRET);
    let err = run_failing(60, &c);
    assert!(
        err.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{} as user \"postgres\"",
            db.pg.port
        )),
        "{err}"
    );
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains(SECRET), "{err}");
    db.drop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn server_setup_errors_say_how_to_fix() {
    let db = TestDb::pagila("err_srv").await;

    // No REPLICATION attribute.
    let mut c = db.connector("e3", &[]);
    set(&mut c, "database.user", "sluice_norepl");
    set(&mut c, "database.password", "norepl");
    let err = run_failing(60, &c);
    assert!(
        err.contains("user \"sluice_norepl\" may not use logical replication"),
        "{err}"
    );
    assert!(
        err.contains("ALTER ROLE sluice_norepl REPLICATION"),
        "{err}"
    );

    // A table that does not exist.
    let c = db.connector(
        "e4",
        &[("table.include.list", "public.customer,public.nope")],
    );
    let err = run_failing(60, &c);
    assert!(
        err.contains("table.include.list entry \"public.nope\" matches no table"),
        "{err}"
    );

    // wal_level=replica on the second test cluster.
    let mut c = db.connector("e5", &[]);
    set(&mut c, "database.port", &env("SLUICE_TEST_PG_REPLICA_PORT"));
    set(&mut c, "database.dbname", "postgres");
    let err = run_failing(60, &c);
    assert!(
        err.contains("has wal_level=replica; logical decoding needs wal_level=logical"),
        "{err}"
    );

    // A slot another connector is streaming from (transient: retried until the retries,
    // here none, run out).
    let dir = tempfile::tempdir().unwrap();
    let mut first = Sluice::new(dir.path());
    let mut c = db.connector("e6", &[("table.include.list", "public.actor")]);
    first.start(std::slice::from_ref(&c), &[]);
    first.wait_streaming().await;
    set(&mut c, "errors.max.retries", "0");
    let err = run_failing(60, &c);
    assert!(err.contains("is already active (used by PID"), "{err}");
    first.stop();
    db.drop().await;
}

#[test]
fn malformed_configs_are_refused_before_connecting() {
    let config = serde_json::json!({"name": "bad", "config": {
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "database.hostname": "127.0.0.1",
        "database.port": "fifty",
        "database.user": "postgres",
        "database.password": SECRET,
        "database.dbname": "x",
        "snapshot.mode": "sometimes",
        "tombstones.on.delete": "maybe"
    }});
    let err = run_failing(60, &config);
    for want in [
        "connector \"bad\" has 4 invalid setting(s)",
        "Invalid value fifty for configuration database.port: Not a number",
        "Invalid value sometimes for configuration snapshot.mode: Value must be one of initial, always, no_data, never, initial_only, when_needed",
        "Invalid value maybe for configuration tombstones.on.delete: Expected value to be either true or false",
        "Missing required configuration \"topic.prefix\"",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    assert!(!err.contains(SECRET));
    let err = run_failing(
        60,
        &serde_json::json!({"name": "x", "config": {"connector.class": "com.acme.Nope"}}),
    );
    assert!(
        err.contains("Invalid value com.acme.Nope for configuration connector.class"),
        "{err}"
    );
}
