//! The worker's properties: Kafka Connect's `WorkerConfig`, `DistributedConfig` and
//! `StandaloneConfig` (with `RestServerConfig` and the Kafka client SSL/SASL keys they embed), from
//! apache/kafka at 4.0.0-SNAPSHOT, plus the older `rest.port`/`rest.host.name` and Sluice's own keys.
//! Connect declares no groups for these; the groups here only sort them for the docs.

use crate::def::{ConfigKey, Importance, KeyType};

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Double, Int, List, Long, Password, Short, String};

const I32_MAX: i64 = i32::MAX as i64;
const I16_MAX: i64 = i16::MAX as i64;

const TLS_SASL: &str = "TLS and SASL to Kafka are not implemented yet";
const CLUSTER: &str = "Connect cluster coordination; Sluice workers do not form a group";
const CLIENT: &str = "tunes the Java Kafka client";
const JMX: &str = "JMX metrics only; Sluice has no JMX";
const NOT_FORWARDED: &str = "Sluice workers do not forward requests to each other";
const CONVERTER_DOC: &str = "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.";

pub static WORKER: &[ConfigKey] = &[
    // ---- Worker (WorkerConfig) ----
    ConfigKey::new(
        "bootstrap.servers",
        List,
        High,
        "Worker",
        "A list of host/port pairs used to establish the initial connection to the Kafka cluster.",
    )
    .default("localhost:9092"),
    ConfigKey::new(
        "client.dns.lookup",
        String,
        Medium,
        "Worker",
        "Controls how the client uses DNS lookups.",
    )
    .default("use_all_dns_ips")
    .one_of(&["use_all_dns_ips", "resolve_canonical_bootstrap_servers_only"])
    .not_applicable(CLIENT),
    // Connect requires both converters in the worker config (no default).
    // Required by Connect; Sluice's connectors default to the JsonConverter.
    ConfigKey::new("key.converter", Class, High, "Worker", CONVERTER_DOC),
    ConfigKey::new("value.converter", Class, High, "Worker", CONVERTER_DOC),
    ConfigKey::new(
        "key.converter.schemas.enable",
        Boolean,
        High,
        "Worker",
        "Include schemas within each of the serialized keys (JsonConverter).",
    )
    .default("true"),
    ConfigKey::new(
        "value.converter.schemas.enable",
        Boolean,
        High,
        "Worker",
        "Include schemas within each of the serialized values (JsonConverter).",
    )
    .default("true"),
    ConfigKey::new(
        "header.converter",
        Class,
        Low,
        "Worker",
        "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka.",
    )
    .default("org.apache.kafka.connect.storage.SimpleHeaderConverter")
    .unsupported("headers are written as their string bytes (SimpleHeaderConverter)"),
    ConfigKey::new(
        "task.shutdown.graceful.timeout.ms",
        Long,
        Low,
        "Worker",
        "Amount of time to wait for tasks to shutdown gracefully.",
    )
    .default("5000")
    .not_applicable("a Connect task shutdown timeout with no counterpart in Sluice"),
    ConfigKey::new(
        "offset.flush.interval.ms",
        Long,
        Low,
        "Worker",
        "Interval at which to try committing offsets for tasks.",
    )
    // Sluice's default (Connect's is 60000): under a backlog, durable and committed every second.
    .default("1000"),
    ConfigKey::new(
        "offset.flush.timeout.ms",
        Long,
        Low,
        "Worker",
        "Maximum number of milliseconds to wait for records to flush and partition offset data to be committed to offset storage.",
    )
    .default("5000")
    .not_applicable("a Connect offset-commit timeout with no counterpart in Sluice"),
    ConfigKey::new(
        "plugin.path",
        List,
        Low,
        "Worker",
        "List of paths separated by commas (,) that contain plugins (connectors, converters, transformations).",
    )
    .not_applicable("Sluice's connectors are built in; there is no plugin class path"),
    ConfigKey::new(
        "plugin.discovery",
        String,
        Low,
        "Worker",
        "Method to use to discover plugins present in the classpath and plugin.path configuration.",
    )
    .default("hybrid_warn")
    .one_of(&["only_scan", "hybrid_warn", "hybrid_fail", "service_load"])
    .not_applicable("Sluice's connectors are built in; there is no plugin class path"),
    ConfigKey::new(
        "config.providers",
        List,
        Low,
        "Worker",
        "Comma-separated names of ConfigProvider classes, loaded and used in the order specified.",
    )
    .default("")
    .unsupported("config providers (${file:...}) are not implemented"),
    ConfigKey::new(
        "connector.client.config.override.policy",
        String,
        Medium,
        "Worker",
        "Class name or alias of implementation of ConnectorClientConfigOverridePolicy.",
    )
    .default("All")
    .unsupported("per-connector client overrides (producer.override.*) are not implemented"),
    ConfigKey::new(
        "topic.creation.enable",
        Boolean,
        Low,
        "Worker",
        "Whether to allow automatic creation of topics used by source connectors, when source connectors are configured with topic.creation. properties.",
    )
    .default("true")
    .unsupported("turning off topic creation for source connectors is not implemented"),
    ConfigKey::new(
        "topic.tracking.enable",
        Boolean,
        Low,
        "Worker",
        "Enable tracking the set of active topics per connector during runtime.",
    )
    .default("true")
    .unsupported("active topic tracking (/connectors/{name}/topics) is always on"),
    ConfigKey::new(
        "topic.tracking.allow.reset",
        Boolean,
        Low,
        "Worker",
        "If set to true, it allows user requests to reset the set of active topics per connector.",
    )
    .default("true")
    .unsupported("active topic tracking (/connectors/{name}/topics) is always on"),
    // ---- Metrics ----
    ConfigKey::new(
        "metrics.sample.window.ms",
        Long,
        Low,
        "Metrics",
        "The window of time a metrics sample is computed over.",
    )
    .default("30000")
    .range(0, i64::MAX)
    .not_applicable(JMX),
    ConfigKey::new(
        "metrics.num.samples",
        Int,
        Low,
        "Metrics",
        "The number of samples maintained to compute metrics.",
    )
    .default("2")
    .range(1, I32_MAX)
    .not_applicable(JMX),
    ConfigKey::new(
        "metrics.recording.level",
        String,
        Low,
        "Metrics",
        "The highest recording level for metrics.",
    )
    .default("INFO")
    .one_of(&["info", "debug"])
    .not_applicable(JMX),
    ConfigKey::new(
        "metric.reporters",
        List,
        Low,
        "Metrics",
        "A list of classes to use as metrics reporters.",
    )
    .default("org.apache.kafka.common.metrics.JmxReporter")
    .not_applicable(JMX),
    // ---- REST (RestServerConfig) ----
    ConfigKey::new(
        "listeners",
        List,
        Low,
        "REST",
        "List of comma-separated URIs the REST API will listen on. The supported protocols are HTTP and HTTPS.",
    )
    .default("http://:8083"),
    ConfigKey::new(
        "rest.advertised.host.name",
        String,
        Low,
        "REST",
        "If this is set, this is the hostname that will be given out to other workers to connect to.",
    )
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "rest.advertised.port",
        Int,
        Low,
        "REST",
        "If this is set, this is the port that will be given out to other workers to connect to.",
    )
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "rest.advertised.listener",
        String,
        Low,
        "REST",
        "Sets the advertised listener (HTTP or HTTPS) which will be given to other workers to use.",
    )
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "access.control.allow.origin",
        String,
        Low,
        "REST",
        "Value to set the Access-Control-Allow-Origin header to for REST API requests.",
    )
    .default("")
    .unsupported("CORS headers are not implemented"),
    ConfigKey::new(
        "access.control.allow.methods",
        String,
        Low,
        "REST",
        "Sets the methods supported for cross origin requests by setting the Access-Control-Allow-Methods header.",
    )
    .default("")
    .unsupported("CORS headers are not implemented"),
    ConfigKey::new(
        "response.http.headers.config",
        String,
        Low,
        "REST",
        "Rules for REST API HTTP response headers",
    )
    .default("")
    .unsupported("custom REST response headers are not implemented"),
    ConfigKey::new(
        "ssl.client.auth",
        String,
        Low,
        "REST",
        "Configures the REST server (HTTPS listeners) to request client authentication.",
    )
    .default("none")
    .one_of(&["required", "requested", "none"])
    .unsupported("HTTPS for the REST API is not implemented"),
    ConfigKey::new(
        "rest.extension.classes",
        List,
        Low,
        "REST",
        "Comma-separated names of ConnectRestExtension classes, loaded and called in the order specified.",
    )
    .default("")
    .unsupported("REST extensions are not implemented; for the basic authentication extension's job use rest.auth.basic.username and rest.auth.basic.password, or rest.auth.bearer.token"),
    ConfigKey::new(
        "admin.listeners",
        List,
        Low,
        "REST",
        "List of comma-separated URIs the Admin REST API will listen on.",
    )
    .unsupported("a separate admin REST listener is not implemented"),
    // Removed in Kafka 3.0 (replaced by listeners) but still in many worker files.
    ConfigKey::new(
        "rest.port",
        Int,
        Low,
        "REST",
        "Port for the REST API to listen on.",
    )
    .default("8083")
    .range(0, 65535),
    ConfigKey::new(
        "rest.host.name",
        String,
        Low,
        "REST",
        "Hostname for the REST API. If this is set, it will only bind to this interface.",
    ),
    // ---- Distributed (DistributedConfig) ----
    // group.id and the three *.storage.topic keys are required in distributed mode and
    // unknown in standalone mode, so they have no default here.
    ConfigKey::new(
        "group.id",
        String,
        High,
        "Distributed",
        "A unique string that identifies the Connect cluster group this worker belongs to.",
    )
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "session.timeout.ms",
        Int,
        High,
        "Distributed",
        "The timeout used to detect worker failures.",
    )
    .default("10000")
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "rebalance.timeout.ms",
        Int,
        High,
        "Distributed",
        "The maximum allowed time for each worker to join the group once a rebalance has begun.",
    )
    .default("60000")
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "heartbeat.interval.ms",
        Int,
        High,
        "Distributed",
        "The expected time between heartbeats to the group coordinator when using Kafka's group management facilities.",
    )
    .default("3000")
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "exactly.once.source.support",
        String,
        High,
        "Distributed",
        "Whether to enable exactly-once support for source connectors in the cluster by using transactions to write source records and their source offsets.",
    )
    .default("disabled")
    .one_of(&["disabled", "preparing", "enabled"])
    .unsupported("exactly-once source delivery (producer transactions) is not implemented"),
    ConfigKey::new(
        "metadata.max.age.ms",
        Long,
        Low,
        "Distributed",
        "The period of time in milliseconds after which we force a refresh of metadata.",
    )
    .default("300000")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "client.id",
        String,
        Low,
        "Distributed",
        "An id string to pass to the server when making requests.",
    )
    .default("")
    .not_applicable(CLIENT),
    ConfigKey::new(
        "send.buffer.bytes",
        Int,
        Medium,
        "Distributed",
        "The size of the TCP send buffer (SO_SNDBUF) to use when sending data. If the value is -1, the OS default will be used.",
    )
    .default("131072")
    .range(-1, I32_MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "receive.buffer.bytes",
        Int,
        Medium,
        "Distributed",
        "The size of the TCP receive buffer (SO_RCVBUF) to use when reading data. If the value is -1, the OS default will be used.",
    )
    .default("32768")
    .range(-1, I32_MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "reconnect.backoff.ms",
        Long,
        Low,
        "Distributed",
        "The base amount of time to wait before attempting to reconnect to a given host.",
    )
    .default("50")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "reconnect.backoff.max.ms",
        Long,
        Low,
        "Distributed",
        "The maximum amount of time in milliseconds to wait when reconnecting to a broker that has repeatedly failed to connect.",
    )
    .default("1000")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "socket.connection.setup.timeout.ms",
        Long,
        Low,
        "Distributed",
        "The amount of time the client will wait for the socket connection to be established.",
    )
    .default("10000")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "socket.connection.setup.timeout.max.ms",
        Long,
        Low,
        "Distributed",
        "The maximum amount of time the client will wait for the socket connection to be established.",
    )
    .default("30000")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "retry.backoff.ms",
        Long,
        Low,
        "Distributed",
        "The amount of time to wait before attempting to retry a failed request to a given topic partition.",
    )
    .default("100")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "retry.backoff.max.ms",
        Long,
        Low,
        "Distributed",
        "The maximum amount of time in milliseconds to wait when retrying a request to the broker that has repeatedly failed.",
    )
    .default("1000")
    .range(0, i64::MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "request.timeout.ms",
        Int,
        Medium,
        "Distributed",
        "The configuration controls the maximum amount of time the client will wait for the response of a request.",
    )
    .default("40000")
    .range(0, I32_MAX)
    .not_applicable(CLIENT),
    ConfigKey::new(
        "connections.max.idle.ms",
        Long,
        Medium,
        "Distributed",
        "Close idle connections after the number of milliseconds specified by this config.",
    )
    .default("540000")
    .not_applicable(CLIENT),
    ConfigKey::new(
        "metadata.recovery.strategy",
        String,
        Low,
        "Distributed",
        "Controls how the client recovers when none of the brokers known to it is available.",
    )
    .default("none")
    .one_of(&["none", "rebootstrap"])
    .not_applicable(CLIENT),
    ConfigKey::new(
        "worker.sync.timeout.ms",
        Int,
        Medium,
        "Distributed",
        "When the worker is out of sync with other workers and needs to resynchronize configurations, wait up to this amount of time before giving up.",
    )
    .default("3000")
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "worker.unsync.backoff.ms",
        Int,
        Medium,
        "Distributed",
        "When the worker is out of sync with other workers and fails to catch up within worker.sync.timeout.ms, leave the Connect cluster for this long before rejoining.",
    )
    .default("300000")
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "offset.storage.topic",
        String,
        High,
        "Distributed",
        "The name of the Kafka topic where source connector offsets are stored",
    )
    // Sluice's default: Connect requires it in distributed mode.
    .default("connect-offsets"),
    ConfigKey::new(
        "offset.storage.partitions",
        Int,
        Low,
        "Distributed",
        "The number of partitions used when creating the offset storage topic",
    )
    .default("25")
    .range(-1, I32_MAX),
    ConfigKey::new(
        "offset.storage.replication.factor",
        Short,
        Low,
        "Distributed",
        "Replication factor used when creating the offset storage topic",
    )
    .default("3")
    .range(-1, I16_MAX),
    ConfigKey::new(
        "config.storage.topic",
        String,
        High,
        "Distributed",
        "The name of the Kafka topic where connector configurations are stored",
    )
    // Sluice's default: Connect requires it in distributed mode.
    .default("connect-configs"),
    ConfigKey::new(
        "config.storage.replication.factor",
        Short,
        Low,
        "Distributed",
        "Replication factor used when creating the configuration storage topic",
    )
    .default("3")
    .range(-1, I16_MAX),
    ConfigKey::new(
        "status.storage.topic",
        String,
        High,
        "Distributed",
        "The name of the Kafka topic where connector and task status are stored",
    )
    // Sluice's default: Connect requires it in distributed mode.
    .default("connect-status"),
    ConfigKey::new(
        "status.storage.partitions",
        Int,
        Low,
        "Distributed",
        "The number of partitions used when creating the status storage topic",
    )
    .default("5")
    .range(-1, I32_MAX),
    ConfigKey::new(
        "status.storage.replication.factor",
        Short,
        Low,
        "Distributed",
        "Replication factor used when creating the status storage topic",
    )
    .default("3")
    .range(-1, I16_MAX),
    ConfigKey::new(
        "connect.protocol",
        String,
        Low,
        "Distributed",
        "Compatibility mode for Kafka Connect Protocol",
    )
    .default("sessioned")
    .one_of(&["eager", "compatible", "sessioned"])
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "scheduled.rebalance.max.delay.ms",
        Int,
        Low,
        "Distributed",
        "The maximum delay that is scheduled in order to wait for the return of one or more departed workers before rebalancing.",
    )
    .default("300000")
    .range(0, I32_MAX)
    .not_applicable(CLUSTER),
    ConfigKey::new(
        "inter.worker.key.ttl.ms",
        Int,
        Low,
        "Distributed",
        "The TTL of generated session keys used for internal request validation (in milliseconds)",
    )
    .default("3600000")
    .range(0, I32_MAX)
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "inter.worker.key.generation.algorithm",
        String,
        Low,
        "Distributed",
        "The algorithm to use for generating internal request keys.",
    )
    .default("HmacSHA256")
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "inter.worker.key.size",
        Int,
        Low,
        "Distributed",
        "The size of the key to use for signing internal requests, in bits.",
    )
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "inter.worker.signature.algorithm",
        String,
        Low,
        "Distributed",
        "The algorithm used to sign internal requests.",
    )
    .default("HmacSHA256")
    .not_applicable(NOT_FORWARDED),
    ConfigKey::new(
        "inter.worker.verification.algorithms",
        List,
        Low,
        "Distributed",
        "A list of permitted algorithms for verifying internal requests.",
    )
    .default("HmacSHA256")
    .not_applicable(NOT_FORWARDED),
    // ---- Standalone (StandaloneConfig) ----
    ConfigKey::new(
        "offset.storage.file.filename",
        String,
        High,
        "Standalone",
        "File to store source connector offsets",
    )
    .not_applicable("Sluice keeps offsets under data.dir"),
    // ---- Security: the Kafka clients' TLS (SslConfigs) and SASL (SaslConfigs) keys ----
    ConfigKey::new(
        "security.protocol",
        String,
        Medium,
        "Security",
        "Protocol used to communicate with brokers. Valid values are: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL.",
    )
    .default("PLAINTEXT")
    .one_of(&["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"])
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.protocol",
        String,
        Medium,
        "Security",
        "The SSL protocol used to generate the SSLContext.",
    )
    .default("TLSv1.3")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.provider",
        String,
        Medium,
        "Security",
        "The name of the security provider used for SSL connections.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.cipher.suites",
        List,
        Low,
        "Security",
        "A list of cipher suites.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.enabled.protocols",
        List,
        Medium,
        "Security",
        "The list of protocols enabled for SSL connections.",
    )
    .default("TLSv1.2,TLSv1.3")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.keystore.type",
        String,
        Medium,
        "Security",
        "The file format of the key store file.",
    )
    .default("JKS")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.keystore.location",
        String,
        High,
        "Security",
        "The location of the key store file.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.keystore.password",
        Password,
        High,
        "Security",
        "The store password for the key store file.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.key.password",
        Password,
        High,
        "Security",
        "The password of the private key in the key store file or the PEM key specified in 'ssl.keystore.key'.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.keystore.key",
        Password,
        High,
        "Security",
        "Private key in the format specified by 'ssl.keystore.type'.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.keystore.certificate.chain",
        Password,
        High,
        "Security",
        "Certificate chain in the format specified by 'ssl.keystore.type'.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.truststore.certificates",
        Password,
        High,
        "Security",
        "Trusted certificates in the format specified by 'ssl.truststore.type'.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.truststore.type",
        String,
        Medium,
        "Security",
        "The file format of the trust store file.",
    )
    .default("JKS")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.truststore.location",
        String,
        High,
        "Security",
        "The location of the trust store file.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.truststore.password",
        Password,
        High,
        "Security",
        "The password for the trust store file.",
    )
    .unsupported(TLS_SASL),
    // The JVM's KeyManagerFactory/TrustManagerFactory defaults (OpenJDK values).
    ConfigKey::new(
        "ssl.keymanager.algorithm",
        String,
        Low,
        "Security",
        "The algorithm used by key manager factory for SSL connections.",
    )
    .default("SunX509")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.trustmanager.algorithm",
        String,
        Low,
        "Security",
        "The algorithm used by trust manager factory for SSL connections.",
    )
    .default("PKIX")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.endpoint.identification.algorithm",
        String,
        Low,
        "Security",
        "The endpoint identification algorithm to validate server hostname using server certificate.",
    )
    .default("https")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.secure.random.implementation",
        String,
        Low,
        "Security",
        "The SecureRandom PRNG implementation to use for SSL cryptography operations.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "ssl.engine.factory.class",
        Class,
        Low,
        "Security",
        "The class of type org.apache.kafka.common.security.auth.SslEngineFactory to provide SSLEngine objects.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.kerberos.service.name",
        String,
        Medium,
        "Security",
        "The Kerberos principal name that Kafka runs as.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.kerberos.kinit.cmd",
        String,
        Low,
        "Security",
        "Kerberos kinit command path.",
    )
    .default("/usr/bin/kinit")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.kerberos.ticket.renew.window.factor",
        Double,
        Low,
        "Security",
        "Login thread will sleep until the specified window factor of time from last refresh to ticket's expiry has been reached.",
    )
    .default("0.8")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.kerberos.ticket.renew.jitter",
        Double,
        Low,
        "Security",
        "Percentage of random jitter added to the renewal time.",
    )
    .default("0.05")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.kerberos.min.time.before.relogin",
        Long,
        Low,
        "Security",
        "Login thread sleep time between refresh attempts.",
    )
    .default("60000")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.refresh.window.factor",
        Double,
        Low,
        "Security",
        "Login refresh thread will sleep until the specified window factor relative to the credential's lifetime has been reached.",
    )
    .default("0.8")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.refresh.window.jitter",
        Double,
        Low,
        "Security",
        "The maximum amount of random jitter relative to the credential's lifetime that is added to the login refresh thread's sleep time.",
    )
    .default("0.05")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.refresh.min.period.seconds",
        Short,
        Low,
        "Security",
        "The desired minimum time for the login refresh thread to wait before refreshing a credential, in seconds.",
    )
    .default("60")
    .range(0, 900)
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.refresh.buffer.seconds",
        Short,
        Low,
        "Security",
        "The amount of buffer time before credential expiration to maintain when refreshing a credential, in seconds.",
    )
    .default("300")
    .range(0, 3600)
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.mechanism",
        String,
        Medium,
        "Security",
        "SASL mechanism used for client connections.",
    )
    .default("GSSAPI")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.jaas.config",
        Password,
        Medium,
        "Security",
        "JAAS login context parameters for SASL connections in the format used by JAAS configuration files.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.client.callback.handler.class",
        Class,
        Medium,
        "Security",
        "The fully qualified name of a SASL client callback handler class that implements the AuthenticateCallbackHandler interface.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.callback.handler.class",
        Class,
        Medium,
        "Security",
        "The fully qualified name of a SASL login callback handler class that implements the AuthenticateCallbackHandler interface.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.class",
        Class,
        Medium,
        "Security",
        "The fully qualified name of a class that implements the Login interface.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.connect.timeout.ms",
        Int,
        Low,
        "Security",
        "The (optional) value in milliseconds for the external authentication provider connection timeout.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.read.timeout.ms",
        Int,
        Low,
        "Security",
        "The (optional) value in milliseconds for the external authentication provider read timeout.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.retry.backoff.max.ms",
        Long,
        Low,
        "Security",
        "The (optional) value in milliseconds for the maximum wait between login attempts to the external authentication provider.",
    )
    .default("10000")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.login.retry.backoff.ms",
        Long,
        Low,
        "Security",
        "The (optional) value in milliseconds for the initial wait between login attempts to the external authentication provider.",
    )
    .default("100")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.scope.claim.name",
        String,
        Low,
        "Security",
        "The OAuth claim for the scope is often named \"scope\", but this (optional) setting can provide a different name.",
    )
    .default("scope")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.sub.claim.name",
        String,
        Low,
        "Security",
        "The OAuth claim for the subject is often named \"sub\", but this (optional) setting can provide a different name.",
    )
    .default("sub")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.token.endpoint.url",
        String,
        Medium,
        "Security",
        "The URL for the OAuth/OIDC identity provider.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.jwks.endpoint.url",
        String,
        Medium,
        "Security",
        "The OAuth/OIDC provider URL from which the provider's JWKS (JSON Web Key Set) can be retrieved.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.jwks.endpoint.refresh.ms",
        Long,
        Low,
        "Security",
        "The (optional) value in milliseconds for the broker to wait between refreshing its JWKS (JSON Web Key Set) cache.",
    )
    .default("3600000")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
        Long,
        Low,
        "Security",
        "The (optional) value in milliseconds for the maximum wait between attempts to retrieve the JWKS (JSON Web Key Set).",
    )
    .default("10000")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms",
        Long,
        Low,
        "Security",
        "The (optional) value in milliseconds for the initial wait between JWKS (JSON Web Key Set) retrieval attempts.",
    )
    .default("100")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.clock.skew.seconds",
        Int,
        Low,
        "Security",
        "The (optional) value in seconds to allow for differences between the time of the OAuth/OIDC identity provider and the broker.",
    )
    .default("30")
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.expected.audience",
        List,
        Low,
        "Security",
        "The (optional) comma-delimited setting for the broker to use to verify that the JWT was issued for one of the expected audiences.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.expected.issuer",
        String,
        Low,
        "Security",
        "The (optional) setting for the broker to use to verify that the JWT was created by the expected issuer.",
    )
    .unsupported(TLS_SASL),
    ConfigKey::new(
        "sasl.oauthbearer.header.urlencode",
        Boolean,
        Low,
        "Security",
        "The (optional) setting to enable the OAuth client to URL-encode the client_id and client_secret in the authorization header.",
    )
    .default("false")
    .unsupported(TLS_SASL),
    // ---- Sluice ----
    ConfigKey::new(
        "rest.auth.basic.username",
        String,
        Medium,
        "Sluice",
        "User name that REST and console requests present with HTTP basic authentication, with rest.auth.basic.password (does the job of Connect's basic-auth REST extension).",
    ),
    ConfigKey::new(
        "rest.auth.basic.password",
        Password,
        Medium,
        "Sluice",
        "The password of rest.auth.basic.username.",
    ),
    ConfigKey::new(
        "rest.auth.bearer.token",
        Password,
        Medium,
        "Sluice",
        "Token that REST requests present as Authorization: Bearer <token>; the console asks for it once. With basic credentials also set, either is enough.",
    ),
    ConfigKey::new(
        "data.dir",
        String,
        Medium,
        "Sluice",
        "Where offsets, connector configs and local topics are kept.",
    )
    .default("./sluice-data"),
    ConfigKey::new(
        "topic.creation.default.partitions",
        Int,
        Low,
        "Sluice",
        "Partitions of the topics source connectors create, unless the connector config sets it; -1 uses the broker's default.",
    )
    .default("1")
    .range(-1, I32_MAX),
    ConfigKey::new(
        "topic.creation.default.replication.factor",
        Short,
        Low,
        "Sluice",
        "Replication factor of the topics source connectors create, unless the connector config sets it; -1 uses the broker's default.",
    )
    .default("1")
    .range(-1, I16_MAX),
];
