//! Kafka Connect style configuration: flat string keys (`database.hostname`, `slot.name`, ...)
//! parsed into typed structs and validated in one place. Every connector class declares its
//! keys (`defs`); every problem names the key, the bad value and what is allowed; secrets are
//! never echoed back.

pub mod common;
pub mod def;
pub mod defs;
pub mod file;
pub mod jdbc_sink;
pub mod jdbc_source;
pub mod kafka;
pub mod keys;
pub mod postgres;
pub mod raw;
pub mod s3;
pub mod tls;
pub mod worker;

pub use common::CommonConfig;
pub use def::ConfigDef;
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

/// Whether a connector reads from an external system into topics, or the other way round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectorKind {
    Source,
    Sink,
}

impl ConnectorKind {
    pub fn name(self) -> &'static str {
        match self {
            ConnectorKind::Source => "source",
            ConnectorKind::Sink => "sink",
        }
    }
}

/// Which connector a class name means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassId {
    Postgres,
    JdbcSource,
    FileSink,
    S3Sink,
    ConfluentJdbcSink,
    DebeziumJdbcSink,
}

/// A connector class Sluice runs: its Connect class name, kind and declared keys.
#[derive(Debug)]
pub struct ConnectorClass {
    pub id: ClassId,
    pub class: &'static str,
    pub kind: ConnectorKind,
    /// The version `/connector-plugins` reports (the version of the connector Sluice matches).
    pub version: &'static str,
    pub def: ConfigDef,
}

impl ConnectorClass {
    /// Every key a config of this class may set: its own, then Connect's shared ones.
    pub fn defs(&self) -> Vec<ConfigDef> {
        let kind = match self.kind {
            ConnectorKind::Source => defs::connect::SOURCE,
            ConnectorKind::Sink => defs::connect::SINK,
        };
        vec![
            self.def,
            ConfigDef {
                keys: defs::connect::COMMON,
            },
            ConfigDef { keys: kind },
        ]
    }

    /// Connect's plugin aliases: the simple class name, and that name without `Connector`.
    fn answers_to(&self, name: &str) -> bool {
        let simple = self.class.rsplit('.').next().unwrap_or(self.class);
        name == self.class || name == simple || Some(name) == simple.strip_suffix("Connector")
    }
}

/// Every connector class Sluice knows: this table is the one place to add one.
pub static CLASSES: &[ConnectorClass] = &[
    ConnectorClass {
        id: ClassId::Postgres,
        class: "io.debezium.connector.postgresql.PostgresConnector",
        kind: ConnectorKind::Source,
        version: env!("CARGO_PKG_VERSION"),
        def: ConfigDef {
            keys: defs::postgres::POSTGRES,
        },
    },
    ConnectorClass {
        id: ClassId::JdbcSource,
        class: "io.confluent.connect.jdbc.JdbcSourceConnector",
        kind: ConnectorKind::Source,
        // The kafka-connect-jdbc version whose behaviour Sluice matches.
        version: "10.10.0",
        def: ConfigDef {
            keys: defs::jdbc_source::JDBC_SOURCE,
        },
    },
    ConnectorClass {
        id: ClassId::FileSink,
        class: "org.apache.kafka.connect.file.FileStreamSinkConnector",
        kind: ConnectorKind::Sink,
        version: env!("CARGO_PKG_VERSION"),
        def: ConfigDef { keys: file::KEYS },
    },
    ConnectorClass {
        id: ClassId::S3Sink,
        class: "io.confluent.connect.s3.S3SinkConnector",
        kind: ConnectorKind::Sink,
        version: env!("CARGO_PKG_VERSION"),
        def: ConfigDef { keys: s3::KEYS },
    },
    ConnectorClass {
        id: ClassId::ConfluentJdbcSink,
        class: "io.confluent.connect.jdbc.JdbcSinkConnector",
        kind: ConnectorKind::Sink,
        version: "10.10.0",
        def: ConfigDef {
            keys: defs::jdbc_sink::CONFLUENT,
        },
    },
    ConnectorClass {
        id: ClassId::DebeziumJdbcSink,
        class: "io.debezium.connector.jdbc.JdbcSinkConnector",
        kind: ConnectorKind::Sink,
        version: "3.0.0.Final",
        def: ConfigDef {
            keys: defs::jdbc_sink::DEBEZIUM,
        },
    },
];

pub const POSTGRES_CONNECTOR_CLASS: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// The class a `connector.class` value names.
pub fn find_class(name: &str) -> Option<&'static ConnectorClass> {
    CLASSES.iter().find(|c| c.answers_to(name.trim()))
}

/// Every connector class Sluice runs, with its own settings.
#[derive(Debug, Clone)]
pub enum ConnectorConfig {
    Postgres(Box<postgres::PostgresConfig>),
    JdbcSource(Box<jdbc_source::JdbcSourceConfig>),
    FileSink(file::FileSinkConfig),
    S3Sink(Box<s3::S3SinkConfig>),
    JdbcSink(Box<jdbc_sink::JdbcSinkConfig>),
}

/// A parsed, validated connector config.
#[derive(Debug, Clone)]
pub struct ConnectorSettings {
    pub name: String,
    pub class: &'static ConnectorClass,
    pub common: CommonConfig,
    pub connector: ConnectorConfig,
    /// What was accepted but deserves a word (unknown keys, keys with no effect, older
    /// spellings): logged when the connector starts, returned by validate.
    pub warnings: Vec<ConfigIssue>,
}

impl ConnectorSettings {
    /// Parses and validates a connector config (transform options aside: they belong to
    /// the transform catalogue), returning every problem at once.
    pub fn parse(raw: &RawConfig) -> Result<Self, ConfigError> {
        let (settings, issues, _) = Self::check(raw);
        match settings {
            Some(s) if issues.is_empty() => Ok(s),
            _ => Err(ConfigError::Invalid {
                connector: raw.name.clone(),
                issues,
            }),
        }
    }

    /// The parsed config when it is valid, its problems, and its warnings (reported even
    /// when there are problems, as validate shows both).
    pub fn check(raw: &RawConfig) -> (Option<Self>, Vec<ConfigIssue>, Vec<ConfigIssue>) {
        let class_name = raw.get("connector.class").map(str::trim).unwrap_or("");
        let Some(class) = find_class(class_name) else {
            let known: Vec<&str> = CLASSES.iter().map(|c| c.class).collect();
            let issue = if class_name.is_empty() {
                ConfigIssue {
                    key: "connector.class".into(),
                    value: None,
                    message: "Missing required configuration \"connector.class\" which has no default value.".into(),
                }
            } else {
                ConfigIssue {
                    key: "connector.class".into(),
                    value: Some(class_name.to_owned()),
                    message: format!(
                        "Class {class_name} could not be found; Sluice runs {}",
                        known.join(", ")
                    ),
                }
            };
            return (None, vec![issue], Vec::new());
        };
        let defs = class.defs();
        let mut r = KeyReader::new(raw, &defs);
        r.required_string("connector.class");
        r.string("name");
        if r.int("tasks.max") > 1 {
            let v = r.get("tasks.max");
            r.warn(
                "tasks.max",
                v,
                "Sluice runs one task per connector (as Debezium's Postgres connector always does)",
            );
        }
        let common = CommonConfig::read(&mut r, class.kind);
        let connector = match class.id {
            ClassId::Postgres => {
                ConnectorConfig::Postgres(Box::new(postgres::PostgresConfig::read(&mut r)))
            }
            ClassId::JdbcSource => {
                ConnectorConfig::JdbcSource(Box::new(jdbc_source::JdbcSourceConfig::read(&mut r)))
            }
            ClassId::FileSink => ConnectorConfig::FileSink(file::FileSinkConfig::read(&mut r)),
            ClassId::S3Sink => ConnectorConfig::S3Sink(Box::new(s3::S3SinkConfig::read(&mut r))),
            ClassId::ConfluentJdbcSink => ConnectorConfig::JdbcSink(Box::new(
                jdbc_sink::JdbcSinkConfig::read(&mut r, jdbc_sink::Flavour::Confluent),
            )),
            ClassId::DebeziumJdbcSink => ConnectorConfig::JdbcSink(Box::new(
                jdbc_sink::JdbcSinkConfig::read(&mut r, jdbc_sink::Flavour::Debezium),
            )),
        };
        let delegated = common.delegation();
        let (issues, warnings) = r.finish(&delegated);
        if !issues.is_empty() {
            return (None, issues, warnings);
        }
        let settings = ConnectorSettings {
            name: raw.name.clone(),
            class,
            common,
            connector,
            warnings: warnings.clone(),
        };
        (Some(settings), issues, warnings)
    }
}
