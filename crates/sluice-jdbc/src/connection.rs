//! Connecting as the JDBC driver would from `connection.url`: the first of its hosts that
//! answers, retried `connection.attempts` times `connection.backoff.ms` apart (Confluent's
//! `CachedConnectionProvider`). The connection task runs beside the client until it closes.

use std::time::Duration;

use sluice_config::jdbc_source::ConnectionTarget;
use sluice_config::tls::{PgTls, SslMode};
use sluice_postgres::tls::{
    attempts as attempts_for, explain, next_allowed, rustls_config, Attempt,
};
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

/// One connection without TLS (the JDBC source), with the retries the config allows.
pub async fn connect(
    target: &ConnectionTarget,
    attempts: u32,
    backoff: Duration,
) -> Result<Client, JdbcError> {
    let plain = PgTls {
        mode: SslMode::Disable,
        ..PgTls::default()
    };
    connect_with_tls(target, &plain, attempts, backoff, "sluice-jdbc-source").await
}

/// One connection with libpq's meaning of `sslmode` (shared with the Postgres source: `prefer`
/// tries TLS and falls back to plain only when the server offers none), retried
/// `attempts` times `backoff` apart when the failure may pass.
pub async fn connect_with_tls(
    target: &ConnectionTarget,
    tls: &PgTls,
    attempts: u32,
    backoff: Duration,
    application: &str,
) -> Result<Client, JdbcError> {
    let mut cfg = tokio_postgres::Config::new();
    for (host, port) in &target.hosts {
        cfg.host(host).port(*port);
    }
    cfg.dbname(&target.dbname).user(&target.user);
    if !target.password.0.is_empty() {
        cfg.password(&target.password.0);
    }
    cfg.application_name(application);
    if !target.hosts.is_empty() {
        cfg.connect_timeout(Duration::from_secs(40));
    }
    for (k, v) in &target.params {
        if !apply_param(&mut cfg, k, v) {
            tracing::debug!(parameter = %k, "JDBC URL parameter has no counterpart in Sluice; ignored");
        }
    }
    let host = target
        .hosts
        .first()
        .map_or("localhost", |(h, _)| h.as_str());
    let mut tried = 0;
    loop {
        tried += 1;
        let tries = attempts_for(tls.mode);
        let mut outcome = Err((String::new(), false));
        for (i, attempt) in tries.iter().enumerate() {
            let connected = match attempt {
                Attempt::Plain => {
                    cfg.ssl_mode(tokio_postgres::config::SslMode::Disable);
                    cfg.connect(NoTls).await.map(|(client, conn)| {
                        tokio::spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "JDBC connection ended");
                            }
                        });
                        client
                    })
                }
                Attempt::Tls => {
                    // The verification is in the rustls configuration; tokio-postgres only insists.
                    cfg.ssl_mode(tokio_postgres::config::SslMode::Require);
                    let rustls = rustls_config(tls).map_err(|reason| JdbcError::Connect {
                        target: target.describe(),
                        user: target.user.clone(),
                        reason,
                        transient: false,
                    })?;
                    let make = tokio_postgres_rustls::MakeRustlsConnect::new(rustls);
                    cfg.connect(make).await.map(|(client, conn)| {
                        tokio::spawn(async move {
                            if let Err(e) = conn.await {
                                tracing::debug!(error = %e, "JDBC connection ended");
                            }
                        });
                        client
                    })
                }
            };
            match connected {
                Ok(client) => {
                    outcome = Ok(client);
                    break;
                }
                Err(e) => {
                    let why = reason(&e);
                    // A certificate the settings refuse will be refused again.
                    let tls_refused = *attempt == Attempt::Tls
                        && (why.contains("certificate") || why.contains("TLS handshake"));
                    let transient = is_transient(&e)
                        && !tls_refused
                        && e.code().map(|c| c.code()) != Some("28P01")
                        && e.code().map(|c| c.code()) != Some("28000");
                    if i + 1 < tries.len() && next_allowed(tls.mode, *attempt, &why) {
                        continue;
                    }
                    outcome = Err((explain(tls, host, &why), transient));
                    break;
                }
            }
        }
        match outcome {
            Ok(client) => return Ok(client),
            Err((why, transient)) => {
                if !transient || tried >= attempts.max(1) {
                    return Err(JdbcError::Connect {
                        target: target.describe(),
                        user: target.user.clone(),
                        reason: why,
                        transient,
                    });
                }
                tracing::warn!(target = %target.describe(), attempt = tried, of = attempts, error = %why, "cannot connect to PostgreSQL; trying again");
                tokio::time::sleep(backoff).await;
            }
        }
    }
}
