//! The logical replication slot: its state on the server, its creation (exporting the snapshot the
//! consistent snapshot reads), the replication connection's settings and the WAL-retention gauges.
//! It must never advance the slot: only the stream's `commit`, after the sink is durable, does.

use std::sync::Arc;
use std::time::Duration;

use pgwire_replication::{Lsn, ReplicationClient, ReplicationConfig, TlsConfig};
use sluice_config::postgres::PostgresConfig;
use sluice_core::metrics as m;
use tokio_postgres::Client;

use crate::catalog::{self, quote_ident, SESSION_OPTIONS};
use crate::error::{query_error, PostgresError};

pub(crate) struct SlotState {
    pub(crate) plugin: String,
    pub(crate) active_pid: Option<i32>,
    pub(crate) confirmed_flush: u64,
}

pub(crate) async fn slot_state(
    client: &Client,
    cfg: &PostgresConfig,
) -> Result<Option<SlotState>, PostgresError> {
    let row = client
        .query_opt(
            "SELECT coalesce(plugin::text, ''), active_pid, coalesce(confirmed_flush_lsn - '0/0', 0)::int8
             FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
            &[&cfg.slot_name],
        )
        .await
        .map_err(query_error(format!("reading replication slot {}", cfg.slot_name)))?;
    Ok(row.map(|r| SlotState {
        plugin: r.get(0),
        active_pid: r.get(1),
        confirmed_flush: r.get::<_, i64>(2) as u64,
    }))
}

/// Creates the slot on a replication connection. With `export`, the session stays open
/// (returned) so the snapshot it exported can be imported before it ends.
pub(crate) async fn create_slot(
    cfg: &PostgresConfig,
    export: bool,
) -> Result<(u64, Option<String>, Option<ReplicationClient>), PostgresError> {
    let mut session = ReplicationClient::connect_gated(replication_config(cfg))
        .await
        .map_err(|e| repl_error(cfg, e))?;
    let sql = format!(
        "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT '{}')",
        quote_ident(&cfg.slot_name),
        if export { "export" } else { "nothing" }
    );
    let rows = session
        .simple_query(&sql)
        .await
        .map_err(|e| repl_error(cfg, e))?;
    let text = |i: usize| {
        rows.first()
            .and_then(|r| r.get(i))
            .and_then(|v| v.as_ref())
            .map(|b| String::from_utf8_lossy(b).into_owned())
    };
    let consistent_point =
        text(1)
            .and_then(|s| Lsn::parse(&s).ok())
            .ok_or_else(|| PostgresError::Replication {
                slot: cfg.slot_name.clone(),
                reason: "CREATE_REPLICATION_SLOT returned no consistent point".into(),
            })?;
    tracing::info!(slot = %cfg.slot_name, lsn = %consistent_point, "replication slot created");
    if export {
        Ok((consistent_point.0, text(2), Some(session)))
    } else {
        session.abort();
        Ok((consistent_point.0, None, None))
    }
}

/// Drops the slot, and with it the WAL it holds back on the server.
pub(crate) async fn drop_slot(client: &Client, cfg: &PostgresConfig) -> Result<(), PostgresError> {
    client
        .execute("SELECT pg_drop_replication_slot($1)", &[&cfg.slot_name])
        .await
        .map_err(query_error(format!(
            "dropping replication slot {}",
            cfg.slot_name
        )))?;
    Ok(())
}

pub(crate) fn replication_config(cfg: &PostgresConfig) -> ReplicationConfig {
    ReplicationConfig::new(
        cfg.hostname.clone(),
        cfg.user.clone(),
        cfg.password.0.clone(),
        cfg.dbname.clone(),
        cfg.slot_name.clone(),
        cfg.publication_name.clone(),
    )
    .with_port(cfg.port)
    .with_tls(TlsConfig::disabled())
    .with_options(SESSION_OPTIONS)
    .with_application_name(format!("sluice-{}", cfg.name))
    .with_status_interval(Duration::from_millis(
        cfg.status_update_interval_ms.clamp(100, 10_000),
    ))
    .with_wakeup_interval(Duration::from_secs(10))
}

pub(crate) fn repl_error(
    cfg: &PostgresConfig,
    e: pgwire_replication::PgWireError,
) -> PostgresError {
    if e.is_auth() || e.is_io() {
        return crate::error::connect_error(cfg, e.to_string());
    }
    PostgresError::Replication {
        slot: cfg.slot_name.clone(),
        reason: e.to_string(),
    }
}

/// Every few seconds, how much WAL the slot holds back on the server. Runs on its own
/// connection so the gauges keep moving while the connector is paused.
pub(crate) async fn sample_slot(cfg: Arc<PostgresConfig>) {
    let labels = [
        ("connector", cfg.name.clone()),
        ("slot", cfg.slot_name.clone()),
    ];
    let mut client = None;
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tick.tick().await;
        if client.is_none() {
            client = catalog::connect(&cfg).await.ok();
        }
        let Some(c) = &client else { continue };
        let row = c
            .query_opt(
                "SELECT (pg_current_wal_lsn() - restart_lsn)::int8, (pg_current_wal_lsn() - confirmed_flush_lsn)::int8
                 FROM pg_replication_slots WHERE slot_name = $1",
                &[&cfg.slot_name],
            )
            .await;
        match row {
            Ok(Some(r)) => {
                let retained: Option<i64> = r.get(0);
                let lag: Option<i64> = r.get(1);
                metrics::gauge!(m::SLOT_RETAINED_WAL_BYTES, &labels)
                    .set(retained.unwrap_or(0) as f64);
                metrics::gauge!(m::SLOT_CONFIRMED_FLUSH_LAG_BYTES, &labels)
                    .set(lag.unwrap_or(0) as f64);
            }
            Ok(None) => {}
            Err(_) => client = None,
        }
    }
}
