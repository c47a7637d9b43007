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
    /// `lost`: PostgreSQL invalidated the slot (max_slot_wal_keep_size).
    pub(crate) wal_status: Option<String>,
}

pub(crate) async fn slot_state(
    client: &Client,
    cfg: &PostgresConfig,
) -> Result<Option<SlotState>, PostgresError> {
    let row = client
        .query_opt(
            "SELECT coalesce(plugin::text, ''), active_pid, coalesce(confirmed_flush_lsn - '0/0', 0)::int8, wal_status::text
             FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
            &[&cfg.slot_name],
        )
        .await
        .map_err(query_error(format!("reading replication slot {}", cfg.slot_name)))?;
    Ok(row.map(|r| SlotState {
        plugin: r.get(0),
        active_pid: r.get(1),
        confirmed_flush: r.get::<_, i64>(2) as u64,
        wal_status: r.get(3),
    }))
}

/// Creates the slot on a replication connection. With `export`, the session stays open
/// (returned) so the snapshot it exported can be imported before it ends.
pub(crate) async fn create_slot(
    cfg: &PostgresConfig,
    export: bool,
) -> Result<(u64, Option<String>, Option<ReplicationClient>), PostgresError> {
    let sql = format!(
        "CREATE_REPLICATION_SLOT {} LOGICAL pgoutput (SNAPSHOT '{}')",
        quote_ident(&cfg.slot_name),
        if export { "export" } else { "nothing" }
    );
    // The session authenticates on its first command: run it inside, so sslmode's fallback
    // (allow, prefer) sees a refusal.
    let (session, rows) = connect_replication(cfg, |c| {
        let sql = sql.clone();
        async move {
            let mut session = ReplicationClient::connect_gated(c).await?;
            let rows = session.simple_query(&sql).await?;
            Ok((session, rows))
        }
    })
    .await?;
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
        let mut session = session;
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

/// Opens a replication session with the connector's TLS, trying what its `sslmode` allows in
/// order (`prefer`: TLS, then plain if the server offers none); `open` gets the configuration
/// and may go on using it (the client key file it names lives until `open` returns).
pub(crate) async fn connect_replication<T, F>(
    cfg: &PostgresConfig,
    open: impl Fn(ReplicationConfig) -> F,
) -> Result<T, PostgresError>
where
    F: std::future::Future<Output = Result<T, pgwire_replication::PgWireError>>,
{
    let attempts = crate::tls::attempts(cfg.tls.mode);
    for (i, attempt) in attempts.iter().enumerate() {
        let tls = crate::tls::replication_tls(cfg, *attempt)?;
        match open(replication_config(cfg).with_tls(tls)).await {
            Ok(t) => return Ok(t),
            Err(e) => {
                let more = i + 1 < attempts.len();
                if more && crate::tls::next_allowed(cfg.tls.mode, *attempt, &e.to_string()) {
                    tracing::debug!(attempt = ?attempts[i + 1], "sslmode={}: trying the other way: {e}", cfg.tls.mode.name());
                    continue;
                }
                return Err(repl_error(cfg, e));
            }
        }
    }
    Err(crate::error::connect_error(
        cfg,
        "no connection attempt was made".into(),
    ))
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
    let text = e.to_string();
    // PG 13+: "can no longer get changes from replication slot": the slot was invalidated.
    if text.contains("has been invalidated") || text.contains("can no longer get changes") {
        return PostgresError::SlotInvalidated {
            message: invalidated_message(cfg),
        };
    }
    if e.is_tls() {
        let reason = crate::tls::explain(&cfg.tls, &cfg.hostname, &text);
        return crate::error::connect_error(cfg, format!("replication connection: {reason}"));
    }
    if e.is_auth() || e.is_io() || e.is_server() && text.contains("28000") {
        let reason = crate::tls::explain(&cfg.tls, &cfg.hostname, &text);
        return crate::error::connect_error(cfg, reason);
    }
    PostgresError::Replication {
        slot: cfg.slot_name.clone(),
        reason: e.to_string(),
    }
}

/// What the worker knows of a connector's slot, sampled every few seconds on a connection
/// of its own, whatever the connector's state (a paused, stopped or failed connector's slot
/// still holds WAL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotHealth {
    pub exists: bool,
    pub active: bool,
    /// `pg_current_wal_lsn() - restart_lsn`: WAL the server keeps for the slot.
    pub retained_wal_bytes: u64,
    /// `pg_current_wal_lsn() - confirmed_flush_lsn`
    pub confirmed_flush_lag_bytes: u64,
    /// `pg_replication_slots.wal_status` (`reserved`, `extended`, `unreserved`, `lost`).
    pub wal_status: Option<String>,
    /// What an operator should hear about, newest state only.
    pub warnings: Vec<String>,
    /// Why the last sample failed, if it did.
    pub error: Option<String>,
}

/// The slot watch of one connector: gauges, warnings in the log and in `health`.
pub struct SlotWatch {
    pub health: Arc<std::sync::Mutex<SlotHealth>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SlotWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const WATCH_EVERY: Duration = Duration::from_secs(2);
/// How often a warning that still holds is logged again.
const WARN_AGAIN: Duration = Duration::from_secs(300);

/// Starts watching the connector's slot; `state` names the connector's task state
/// (`RUNNING`, `PAUSED`, ...), so a slot that grows while nothing reads it is called out.
pub fn watch_slot(
    cfg: Arc<PostgresConfig>,
    state: Arc<dyn Fn() -> &'static str + Send + Sync>,
) -> SlotWatch {
    let health = Arc::new(std::sync::Mutex::new(SlotHealth::default()));
    let task = tokio::spawn(watch(cfg, state, health.clone()));
    SlotWatch { health, task }
}

async fn watch(
    cfg: Arc<PostgresConfig>,
    state: Arc<dyn Fn() -> &'static str + Send + Sync>,
    health: Arc<std::sync::Mutex<SlotHealth>>,
) {
    let labels = [
        ("connector", cfg.name.clone()),
        ("slot", cfg.slot_name.clone()),
    ];
    let mut client = None;
    let mut tick = tokio::time::interval(WATCH_EVERY);
    let mut last_retained: Option<u64> = None;
    // When each warning was last logged.
    let mut logged: std::collections::HashMap<&'static str, std::time::Instant> =
        std::collections::HashMap::new();
    loop {
        tick.tick().await;
        if client.is_none() {
            match catalog::connect(&cfg).await {
                Ok(c) => client = Some(c),
                Err(e) => {
                    set(&health, |h| h.error = Some(e.to_string()));
                    continue;
                }
            }
        }
        let Some(c) = &client else { continue };
        let row = c
            .query_opt(
                "SELECT active, coalesce((pg_current_wal_lsn() - restart_lsn)::int8, 0),
                        coalesce((pg_current_wal_lsn() - confirmed_flush_lsn)::int8, 0),
                        wal_status::text
                 FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
                &[&cfg.slot_name],
            )
            .await;
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                set(&health, |h| h.error = Some(crate::error::reason(&e)));
                client = None;
                continue;
            }
        };
        let mut h = SlotHealth::default();
        if let Some(r) = row {
            h.exists = true;
            h.active = r.get(0);
            h.retained_wal_bytes = r.get::<_, i64>(1).max(0) as u64;
            h.confirmed_flush_lag_bytes = r.get::<_, i64>(2).max(0) as u64;
            h.wal_status = r.get(3);
        }
        metrics::gauge!(m::SLOT_RETAINED_WAL_BYTES, &labels).set(h.retained_wal_bytes as f64);
        metrics::gauge!(m::SLOT_CONFIRMED_FLUSH_LAG_BYTES, &labels)
            .set(h.confirmed_flush_lag_bytes as f64);
        let task = state();
        let mb = |b: u64| format!("{:.1} MB", b as f64 / 1_048_576.0);
        let mut warn = |key: &'static str, text: String, h: &mut SlotHealth| {
            if logged.get(key).is_none_or(|t| t.elapsed() >= WARN_AGAIN) {
                tracing::warn!(connector = %cfg.name, slot = %cfg.slot_name, "{text}");
                logged.insert(key, std::time::Instant::now());
            }
            h.warnings.push(text);
        };
        let warn_bytes = cfg.slot_retained_wal_warn_bytes;
        if h.exists && warn_bytes > 0 && h.retained_wal_bytes > warn_bytes {
            warn(
                "retained",
                format!(
                    "replication slot {} retains {} of WAL, more than slot.retained.wal.warn.bytes ({}); PostgreSQL keeps it on disk until the slot confirms it",
                    cfg.slot_name,
                    mb(h.retained_wal_bytes),
                    mb(warn_bytes)
                ),
                &mut h,
            );
        }
        let growing = last_retained.is_some_and(|before| h.retained_wal_bytes > before);
        if h.exists && task != "RUNNING" && growing {
            warn(
                "idle",
                format!(
                    "replication slot {} keeps WAL while the connector is {task} ({} retained and growing): resume the connector, or delete it to drop the slot",
                    cfg.slot_name,
                    mb(h.retained_wal_bytes)
                ),
                &mut h,
            );
        }
        match h.wal_status.as_deref() {
            Some("unreserved") => warn(
                "unreserved",
                format!(
                    "replication slot {} retains more WAL than max_slot_wal_keep_size allows: PostgreSQL will invalidate it at the next checkpoint unless it catches up",
                    cfg.slot_name
                ),
                &mut h,
            ),
            Some("lost") => warn("lost", invalidated_message(&cfg), &mut h),
            _ => {}
        }
        last_retained = h.exists.then_some(h.retained_wal_bytes);
        *health.lock().unwrap_or_else(|e| e.into_inner()) = h;
    }
}

fn set(health: &std::sync::Mutex<SlotHealth>, f: impl FnOnce(&mut SlotHealth)) {
    f(&mut health.lock().unwrap_or_else(|e| e.into_inner()));
}

/// What happened to an invalidated slot, and the way back.
pub(crate) fn invalidated_message(cfg: &PostgresConfig) -> String {
    format!(
        "replication slot {} was invalidated by PostgreSQL: it retained more WAL than max_slot_wal_keep_size allows, and the changes it held are gone. To start again from a new snapshot: stop the connector, reset its offsets (DELETE /connectors/{}/offsets) and resume it",
        cfg.slot_name, cfg.name
    )
}

/// What happened to a slot dropped under a stored position, and the way back.
pub(crate) fn dropped_message(cfg: &PostgresConfig, stored_lsn: u64) -> String {
    format!(
        "replication slot {} no longer exists (it was dropped outside Sluice), so the changes after the stored position {} are gone. To start again from a new snapshot: stop the connector, reset its offsets (DELETE /connectors/{}/offsets) and resume it; snapshot.mode=when_needed does this by itself",
        cfg.slot_name,
        Lsn(stored_lsn),
        cfg.name
    )
}

/// What deleting a connector removes from the database: its slot, and the publication
/// Sluice created for it (unless another connector uses it). Returns what was dropped.
pub async fn drop_on_delete(
    cfg: &PostgresConfig,
    publication_shared: bool,
) -> Result<Vec<String>, PostgresError> {
    let client = catalog::connect(cfg).await?;
    let mut dropped = Vec::new();
    // The walsender of the stopped task may take a moment to go away.
    for attempt in 0..50 {
        let active: Option<bool> = client
            .query_opt(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()",
                &[&cfg.slot_name],
            )
            .await
            .map_err(query_error(format!("reading replication slot {}", cfg.slot_name)))?
            .map(|r| r.get(0));
        match active {
            None => break,
            Some(true) if attempt < 49 => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Some(_) => {
                drop_slot(&client, cfg).await?;
                dropped.push(format!("replication slot {}", cfg.slot_name));
                break;
            }
        }
    }
    let created_by_sluice =
        cfg.publication_autocreate != sluice_config::postgres::PublicationAutocreateMode::Disabled;
    if created_by_sluice && !publication_shared {
        let n = client
            .execute(
                &format!(
                    "DROP PUBLICATION IF EXISTS {}",
                    quote_ident(&cfg.publication_name)
                ),
                &[],
            )
            .await
            .map_err(query_error(format!(
                "dropping publication {}",
                cfg.publication_name
            )));
        n?;
        dropped.push(format!("publication {}", cfg.publication_name));
    }
    Ok(dropped)
}
