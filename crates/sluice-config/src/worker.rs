//! The worker's own properties (Connect's worker `.properties` file), typed and validated
//! like connector configs: every problem named, unknown keys reported, unsupported ones
//! refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::common::TopicCreation;
use crate::def::ConfigDef;
use crate::keys::{Delegated, KeyReader};
use crate::raw::MASK;
use crate::{ConfigError, ConfigIssue, RawConfig};

/// Connect's internal topic settings (`offset.storage.*`, `config.storage.*`,
/// `status.storage.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalTopicConfig {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
}

/// `rest.auth.*`: HTTP basic credentials and/or a bearer token. Secrets never reach `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct RestAuth {
    /// User name and password.
    pub basic: Option<(String, String)>,
    pub bearer: Option<String>,
}

impl RestAuth {
    pub fn is_enabled(&self) -> bool {
        self.basic.is_some() || self.bearer.is_some()
    }
}

impl std::fmt::Debug for RestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestAuth")
            .field("basic", &self.basic.as_ref().map(|(user, _)| (user, MASK)))
            .field("bearer", &self.bearer.as_ref().map(|_| MASK))
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub data_dir: PathBuf,
    pub bootstrap_servers: Option<String>,
    pub offsets: InternalTopicConfig,
    pub configs: InternalTopicConfig,
    pub status: InternalTopicConfig,
    pub offset_flush_interval_ms: u64,
    pub rest_port: Option<u16>,
    pub rest_host: Option<String>,
    pub topic_defaults: TopicCreation,
    /// Credentials every REST and console request must present; none when empty.
    pub rest_auth: RestAuth,
    /// Worker-level converter settings: connectors that do not set their own use these.
    pub converter_defaults: BTreeMap<String, String>,
    /// Kafka client settings (security), translated for librdkafka.
    pub kafka: crate::kafka::KafkaClientSettings,
    pub warnings: Vec<ConfigIssue>,
}

const CONVERTER_KEYS: &[&str] = &[
    "key.converter",
    "value.converter",
    "key.converter.schemas.enable",
    "value.converter.schemas.enable",
];

impl WorkerConfig {
    /// Parses worker properties (`source` names them in errors: the file's path).
    pub fn parse(source: &str, props: BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let raw = RawConfig {
            name: source.to_owned(),
            props,
        };
        let defs = [ConfigDef {
            keys: crate::defs::worker::WORKER,
        }];
        let kafka = crate::kafka::client_settings(&raw.props);
        let mut r = KeyReader::new(&raw, &defs);
        let topic = |r: &mut KeyReader<'_>, name: &str, partitions: Option<&str>, rf: &str| {
            InternalTopicConfig {
                name: r.string(name),
                partitions: partitions.map_or(1, |p| r.int(p) as i32),
                replication_factor: r.int(rf) as i32,
            }
        };
        let offsets = topic(
            &mut r,
            "offset.storage.topic",
            Some("offset.storage.partitions"),
            "offset.storage.replication.factor",
        );
        let configs = topic(
            &mut r,
            "config.storage.topic",
            None,
            "config.storage.replication.factor",
        );
        let status = topic(
            &mut r,
            "status.storage.topic",
            Some("status.storage.partitions"),
            "status.storage.replication.factor",
        );
        for t in [&offsets, &configs, &status] {
            if t.replication_factor == 0 || t.replication_factor < -1 {
                r.issue(
                    "offset.storage.replication.factor",
                    Some(&t.replication_factor.to_string()),
                    "must be -1 (the broker's default) or at least 1",
                );
            }
        }
        let rest_port = r.get("rest.port").map(|_| r.int("rest.port") as u16);
        let mut rest_host = r.get("rest.host.name").map(str::to_owned);
        let mut rest_port = rest_port;
        // `listeners=http://host:port`: the first http listener.
        if let Some(listeners) = r.get("listeners") {
            let first = listeners.split(',').map(str::trim).next().unwrap_or("");
            match first
                .strip_prefix("http://")
                .and_then(|hp| hp.rsplit_once(':'))
            {
                Some((host, port)) if port.parse::<u16>().is_ok() => {
                    rest_port = port.parse().ok();
                    if !host.is_empty() {
                        rest_host = Some(host.trim_matches(['[', ']']).to_owned());
                    }
                }
                _ => r.issue(
                    "listeners",
                    Some(listeners),
                    "expected http://host:port (https listeners are not supported)",
                ),
            }
        }
        let rest_auth = RestAuth {
            basic: match (
                r.opt_string("rest.auth.basic.username"),
                r.opt_string("rest.auth.basic.password"),
            ) {
                (Some(user), Some(password)) => Some((user, password)),
                (None, None) => None,
                (user, _) => {
                    let (set, missing) = if user.is_some() {
                        ("rest.auth.basic.username", "rest.auth.basic.password")
                    } else {
                        ("rest.auth.basic.password", "rest.auth.basic.username")
                    };
                    r.issue(
                        missing,
                        None,
                        format!("must be set too when {set} is: basic authentication needs both"),
                    );
                    None
                }
            },
            bearer: r.opt_string("rest.auth.bearer.token"),
        };
        if user_has_colon(&rest_auth) {
            r.issue(
                "rest.auth.basic.username",
                rest_auth.basic.as_ref().map(|(u, _)| u.as_str()),
                "must not contain ':' (HTTP basic credentials are user:password)",
            );
        }
        let config = WorkerConfig {
            data_dir: PathBuf::from(r.string("data.dir")),
            bootstrap_servers: r.get("bootstrap.servers").map(str::to_owned),
            offsets,
            configs,
            status,
            offset_flush_interval_ms: r.int("offset.flush.interval.ms") as u64,
            rest_port,
            rest_host,
            rest_auth,
            topic_defaults: TopicCreation {
                partitions: r.int("topic.creation.default.partitions") as i32,
                replication_factor: r.int("topic.creation.default.replication.factor") as i32,
            },
            converter_defaults: CONVERTER_KEYS
                .iter()
                .filter_map(|k| Some(((*k).to_owned(), r.get(k)?.to_owned())))
                .collect(),
            kafka: Default::default(),
            warnings: Vec::new(),
        };
        let (mut issues, warnings) = r.finish(&ClientKeys);
        let kafka = match kafka {
            Ok(k) => k,
            Err(more) => {
                issues.extend(more);
                Default::default()
            }
        };
        if !issues.is_empty() {
            return Err(ConfigError::Invalid {
                connector: format!("worker config {source}"),
                issues,
            });
        }
        Ok(WorkerConfig {
            warnings,
            kafka,
            ..config
        })
    }
}

/// The Kafka client keys are read by `crate::kafka`.
struct ClientKeys;

impl Delegated for ClientKeys {
    fn is_delegated(&self, key: &str) -> bool {
        crate::kafka::is_client_key(key)
    }
}

fn user_has_colon(auth: &RestAuth) -> bool {
    auth.basic
        .as_ref()
        .is_some_and(|(user, _)| user.contains(':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(props: &[(&str, &str)]) -> Result<WorkerConfig, ConfigError> {
        WorkerConfig::parse(
            "worker.properties",
            props
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn defaults_and_errors() {
        let w = parse(&[]).unwrap();
        assert_eq!(w.offsets.name, "connect-offsets");
        assert_eq!(w.offsets.partitions, 25);
        assert_eq!(w.status.partitions, 5);
        assert_eq!(w.offset_flush_interval_ms, 1000);
        let err = parse(&[("rest.port", "70000"), ("offset.flush.interval.ms", "soon")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Invalid value 70000 for configuration rest.port"),
            "{err}"
        );
        assert!(
            err.contains("Invalid value soon for configuration offset.flush.interval.ms"),
            "{err}"
        );
        let w = parse(&[("listeners", "http://0.0.0.0:8084"), ("bogus.key", "1")]).unwrap();
        assert_eq!(
            (w.rest_host.as_deref(), w.rest_port),
            (Some("0.0.0.0"), Some(8084))
        );
        assert!(
            w.warnings.iter().any(|i| i.key == "bogus.key"),
            "{:?}",
            w.warnings
        );
        assert!(!w.rest_auth.is_enabled());
        let w = parse(&[
            ("rest.auth.basic.username", "admin"),
            ("rest.auth.basic.password", "s3cret"),
            ("rest.auth.bearer.token", "t0ken"),
        ])
        .unwrap();
        assert_eq!(
            w.rest_auth.basic,
            Some(("admin".to_owned(), "s3cret".to_owned()))
        );
        assert_eq!(w.rest_auth.bearer.as_deref(), Some("t0ken"));
        let shown = format!("{:?}", w.rest_auth);
        assert!(
            !shown.contains("s3cret") && !shown.contains("t0ken"),
            "{shown}"
        );
        let err = parse(&[("rest.auth.basic.username", "admin")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("rest.auth.basic.password"), "{err}");
        let w = parse(&[
            ("security.protocol", "SSL"),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/ca.pem"),
        ])
        .unwrap();
        assert_eq!(
            w.kafka.common[0],
            ("security.protocol".to_string(), "ssl".to_string())
        );
        let err = parse(&[("security.protocol", "TLS")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("Invalid value TLS for configuration security.protocol"),
            "{err}"
        );
    }
}
