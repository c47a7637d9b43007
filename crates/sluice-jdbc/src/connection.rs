//! Connecting as the JDBC driver would from `connection.url`: the first of its hosts that
//! answers, retried `connection.attempts` times `connection.backoff.ms` apart (Confluent's
//! `CachedConnectionProvider`). The connection task runs beside the client until it closes.

use std::time::Duration;

use sluice_config::jdbc_source::ConnectionTarget;
use tokio_postgres::{Client, NoTls};

use crate::error::{is_transient, reason, JdbcError};

/// Driver parameters of a JDBC URL that PostgreSQL itself understands; the rest (pgjdbc's
/// own tuning: `prepareThreshold`, `tcpKeepAlive`, ...) have no effect here.
fn apply_param(cfg: &mut tokio_postgres::Config, key: &str, value: &str) -> bool {
    match key {
        "ApplicationName" | "application_name" => {
            cfg.application_name(value);
        }
        "options" => {
            cfg.options(value);
        }
        "connectTimeout" | "loginTimeout" => {
            if let Ok(s) = value.parse::<u64>() {
                if s > 0 {
                    cfg.connect_timeout(Duration::from_secs(s));
                }
            }
        }
        _ => return false,
    }
    true
}

/// One connection, with the retries the config allows.
pub async fn connect(
    target: &ConnectionTarget,
    attempts: u32,
    backoff: Duration,
) -> Result<Client, JdbcError> {
    let mut cfg = tokio_postgres::Config::new();
    for (host, port) in &target.hosts {
        cfg.host(host).port(*port);
    }
    cfg.dbname(&target.dbname).user(&target.user);
    if !target.password.0.is_empty() {
        cfg.password(&target.password.0);
    }
    cfg.application_name("sluice-jdbc-source");
    if !target.hosts.is_empty() {
        cfg.connect_timeout(Duration::from_secs(40));
    }
    for (k, v) in &target.params {
        if !apply_param(&mut cfg, k, v) {
            tracing::debug!(parameter = %k, "JDBC URL parameter has no counterpart in Sluice; ignored");
        }
    }
    let mut tried = 0;
    loop {
        tried += 1;
        match cfg.connect(NoTls).await {
            Ok((client, conn)) => {
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "JDBC source connection ended");
                    }
                });
                return Ok(client);
            }
            Err(e) => {
                let transient = is_transient(&e)
                    && e.code().map(|c| c.code()) != Some("28P01")
                    && e.code().map(|c| c.code()) != Some("28000");
                if !transient || tried >= attempts.max(1) {
                    return Err(JdbcError::Connect {
                        target: target.describe(),
                        user: target.user.clone(),
                        reason: reason(&e),
                        transient,
                    });
                }
                tracing::warn!(target = %target.describe(), attempt = tried, of = attempts, error = %reason(&e), "cannot connect to PostgreSQL; trying again");
                tokio::time::sleep(backoff).await;
            }
        }
    }
}
