//! How every Kafka client of the worker is configured: the brokers, the security settings
//! (translated from Connect's worker properties by `sluice_config::kafka`) for each kind of
//! client, and Heroku's topic and group name prefix.

use std::sync::{Arc, Mutex};

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::ConsumerContext;
use rdkafka::error::KafkaError;
use sluice_config::kafka::KafkaClientSettings;
use sluice_core::error::ConnectorError;

/// Which settings a client takes, as Connect applies its worker properties: the top-level
/// ones to every client, `producer.` to source connectors' producers, `consumer.` to sink
/// connectors' consumers, `admin.` to admin clients and the dead letter queue's producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Producer,
    Consumer,
    Admin,
    /// The worker's own clients (internal topics).
    Worker,
}

#[derive(Debug, Clone)]
pub struct KafkaConnection {
    pub bootstrap: String,
    /// Shared: every client and sink of the worker holds the connection.
    pub settings: Arc<KafkaClientSettings>,
}

impl KafkaConnection {
    /// Plain brokers, no security settings (tests, benchmarks).
    pub fn plain(bootstrap: &str) -> Self {
        KafkaConnection {
            bootstrap: bootstrap.to_owned(),
            settings: Arc::default(),
        }
    }

    pub fn client(&self, role: Role) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        let s = &self.settings;
        let specific = match role {
            Role::Producer => &s.producer,
            Role::Consumer => &s.consumer,
            Role::Admin => &s.admin,
            Role::Worker => &Vec::new(),
        };
        for (k, v) in s.common.iter().chain(specific) {
            c.set(k, v);
        }
        c
    }

    /// The name a topic or consumer group has in Kafka (Heroku's `KAFKA_PREFIX`).
    pub fn name(&self, logical: &str) -> String {
        format!("{}{logical}", self.settings.prefix)
    }

    /// The name Sluice knows a topic by, or `None` for a topic outside the prefix.
    pub fn logical<'a>(&self, actual: &'a str) -> Option<&'a str> {
        actual.strip_prefix(self.settings.prefix.as_str())
    }
}

/// A client context that keeps the last error librdkafka reported about the brokers (a
/// refused login, a failed TLS handshake), so a request that then times out can say why.
#[derive(Clone, Default)]
pub struct BrokerErrors(Arc<Mutex<Option<(std::time::Instant, String)>>>);

impl BrokerErrors {
    pub fn last(&self) -> Option<String> {
        self.recent(std::time::Duration::MAX)
    }

    /// The last error, if librdkafka reported it within `within`.
    pub fn recent(&self, within: std::time::Duration) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() <= within)
            .map(|(_, e)| e.clone())
    }

    /// An operation's error with what the brokers said, transient unless the brokers refused
    /// the client (a login, a certificate), which no retry fixes.
    pub fn explain(&self, e: &KafkaError, error: crate::error::KafkaSinkError) -> ConnectorError {
        let Some(last) = self.last() else {
            return crate::error::classify(e, error);
        };
        let lower = last.to_ascii_lowercase();
        let refused = lower.contains("authentication")
            || lower.contains("ssl handshake")
            || lower.contains("certificate");
        let error = error.with_cause(&last);
        if refused {
            ConnectorError::permanent(error)
        } else {
            crate::error::classify(e, error)
        }
    }
}

/// Whether the brokers answer `client` at all: a refused login or an untrusted certificate
/// shows here, within seconds and with the brokers' reason, rather than as a timeout of the
/// first real request. The client must be one whose events are polled (a producer), or its
/// context never hears the reason.
pub fn check_brokers<C: ClientContext>(
    client: &rdkafka::client::Client<C>,
    errors: &BrokerErrors,
    bootstrap: &str,
) -> Result<(), ConnectorError> {
    let timeout = std::time::Duration::from_secs(15);
    tokio::task::block_in_place(|| client.fetch_metadata(None, timeout))
        .map(|_| ())
        .map_err(|e| {
            let error = crate::error::KafkaSinkError::Connect {
                bootstrap: bootstrap.to_owned(),
                reason: e.to_string(),
            };
            errors.explain(&e, error)
        })
}

impl ClientContext for BrokerErrors {
    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!("Kafka client: {error}: {reason}");
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), format!("{error}: {reason}")));
    }
}

impl ConsumerContext for BrokerErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The librdkafka Sluice builds has what the worker's security settings need.
    #[test]
    fn librdkafka_is_built_with_tls_and_sasl() {
        let native = KafkaConnection::plain("localhost:9092")
            .client(Role::Worker)
            .create_native_config()
            .unwrap();
        let features = native.get("builtin.features").unwrap();
        for f in ["ssl", "sasl_plain", "sasl_scram", "sasl_oauthbearer"] {
            assert!(
                features.split(',').any(|x| x == f),
                "{f} missing from {features}"
            );
        }
    }

    #[test]
    fn names_carry_herokus_prefix() {
        let mut c = KafkaConnection::plain("b:9092");
        c.settings = Arc::new(KafkaClientSettings {
            prefix: "tenant-".into(),
            ..Default::default()
        });
        assert_eq!(c.name("connect-offsets"), "tenant-connect-offsets");
        assert_eq!(c.logical("tenant-a.b"), Some("a.b"));
        assert_eq!(c.logical("other"), None);
    }
}
