//! Kafka Connect style configuration: flat string keys (`database.hostname`, `slot.name`, ...)
//! parsed into typed structs and validated in one place. Every problem names the key, the bad
//! value and what is allowed; secrets are never echoed back.

pub mod keys;
pub mod postgres;
pub mod raw;

pub use keys::{ConfigIssue, KeyReader};
pub use raw::RawConfig;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read connector config {path}: {reason}")]
    File { path: String, reason: String },
    #[error("connector {connector:?} has {} invalid setting(s):\n{}", issues.len(), issues.iter().map(|i| format!("  - {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid {
        connector: String,
        issues: Vec<ConfigIssue>,
    },
}

/// Every connector class Sluice knows: one match shows them all.
#[derive(Debug, Clone)]
pub enum ConnectorConfig {
    Postgres(Box<postgres::PostgresConfig>),
}

pub const POSTGRES_CONNECTOR_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

impl ConnectorConfig {
    /// Parses and validates a connector config, returning every problem at once.
    pub fn parse(raw: &RawConfig) -> Result<Self, ConfigError> {
        let mut r = KeyReader::new(raw);
        let class = r.required_string("connector.class");
        // Connect's per-connector topic creation (KIP-158); -1 means the broker default.
        r.int(
            "topic.creation.default.partitions",
            1,
            -1,
            i64::from(i32::MAX),
        );
        r.int(
            "topic.creation.default.replication.factor",
            1,
            -1,
            i64::from(i16::MAX),
        );
        let parsed = match class.as_deref() {
            Some(POSTGRES_CONNECTOR_CLASS) | Some("PostgresConnector") => Some(
                ConnectorConfig::Postgres(Box::new(postgres::PostgresConfig::read(&mut r))),
            ),
            Some(other) => {
                r.issue(
                    "connector.class",
                    Some(other),
                    format!("unknown connector class; Sluice runs {POSTGRES_CONNECTOR_CLASS}"),
                );
                None
            }
            None => None,
        };
        match (parsed, r.finish()) {
            (Some(c), issues) if issues.is_empty() => Ok(c),
            (_, issues) => Err(ConfigError::Invalid {
                connector: raw.name.clone(),
                issues,
            }),
        }
    }
}
