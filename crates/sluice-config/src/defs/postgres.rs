//! Every key Debezium 3.x's PostgreSQL connector (`PostgresConnectorConfig` and what it inherits
//! from `RelationalDatabaseConnectorConfig`, `CommonConnectorConfig` and `JdbcConfiguration`)
//! declares or reads, with Debezium's defaults, groups and valid values, and how Sluice treats it.
//! Taken from debezium/debezium at 3.7.0-SNAPSHOT; the keys Connect shares are in `connect.rs`.

use crate::def::{ConfigKey, Importance, KeyType};

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Int, List, Long, Password, Short, String};

const I32_MAX: i64 = i32::MAX as i64;

const SIGNALS: &str = "signals and incremental snapshots are not implemented";
const NOTIFICATIONS: &str = "notifications are not implemented";
const SLOT_RETRY: &str = "replication slot connection retries are not configurable";
const LSN_FLUSH_TIMEOUT: &str = "LSN flush timeouts are not implemented";
const LSN_FLUSH_MODE: &str =
    "only flushing the LSN to the slot as offsets are committed (mode 'connector') is implemented";
const OFFSET_MISMATCH: &str = "offset/slot mismatch strategies are not implemented";
const DB_FILTERS: &str =
    "database filters are not implemented; the connector captures database.dbname";
const CUSTOM_SNAPSHOT: &str = "custom snapshotters are not implemented";
const CONFIG_BASED: &str = "snapshot.mode=configuration_based is not implemented";
const SNAPSHOT_LOCKING: &str = "snapshot table locking is not implemented";
const SNAPSHOT_QUERY: &str = "custom snapshot queries are not implemented";
const DELAYS: &str = "snapshot and streaming delays are not implemented";
const PARALLEL_SNAPSHOT: &str = "chunked parallel snapshots are not implemented";
const NAME_ADJUST: &str = "schema and field name adjustment is not implemented";
const LOGICAL_MESSAGES: &str = "filtering logical decoding messages is not implemented";
const MASKING: &str = "column masking and truncation are not implemented";
const OPENLINEAGE: &str = "OpenLineage integration is not implemented";
const GUARDRAILS: &str = "collection guardrails are not implemented";
const JMX: &str = "JMX metrics only; Sluice has no JMX";
const QUEUE: &str = "tunes Debezium's internal JVM change-event queue";

pub static POSTGRES: &[ConfigKey] = &[
    // ---- Connection ----
    ConfigKey::new(
        "database.hostname",
        String,
        High,
        "Connection",
        "Resolvable hostname or IP address of the database server.",
    )
    .required(),
    ConfigKey::new(
        "database.port",
        Int,
        High,
        "Connection",
        "Port of the database server.",
    )
    .default("5432")
    .range(1, 65535),
    ConfigKey::new(
        "database.user",
        String,
        High,
        "Connection",
        "Name of the database user to be used when connecting to the database.",
    )
    .required(),
    ConfigKey::new(
        "database.password",
        Password,
        High,
        "Connection",
        "Password of the database user to be used when connecting to the database.",
    ),
    ConfigKey::new(
        "database.dbname",
        String,
        High,
        "Connection",
        "The name of the database from which the connector should capture changes",
    )
    .required(),
    ConfigKey::new(
        "database.query.timeout.ms",
        Int,
        Low,
        "Connection",
        "Time to wait for a query to execute, given in milliseconds; zero means there is no limit.",
    )
    .default("600000")
    .unsupported("query timeouts are not implemented"),
    ConfigKey::new(
        "read.only",
        Boolean,
        Low,
        "Connection",
        "Switched connector to use alternative methods to deliver signals to Debezium instead of writing to signaling table",
    )
    .default("false")
    .unsupported("read-only mode (signals without a signaling table) is not implemented"),
    // ---- Connection Advanced SSL ----
    ConfigKey::new(
        "database.sslmode",
        String,
        Medium,
        "Connection Advanced SSL",
        "Whether to use an encrypted connection to Postgres.",
    )
    .default("prefer")
    .one_of(&["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]),
    ConfigKey::new(
        "database.sslcert",
        String,
        Medium,
        "Connection Advanced SSL",
        "File containing the SSL Certificate for the client.",
    )
    ,
    ConfigKey::new(
        "database.sslkey",
        String,
        Medium,
        "Connection Advanced SSL",
        "File containing the SSL private key for the client.",
    )
    ,
    ConfigKey::new(
        "database.sslpassword",
        Password,
        Medium,
        "Connection Advanced SSL",
        "Password to access the client private key from the file specified by 'database.sslkey'.",
    )
    ,
    ConfigKey::new(
        "database.sslrootcert",
        String,
        Medium,
        "Connection Advanced SSL",
        "File containing the root certificate(s) against which the server is validated.",
    )
    ,
    ConfigKey::new(
        "database.sslfactory",
        String,
        Medium,
        "Connection Advanced SSL",
        "A name of class to that creates SSL Sockets.",
    )
    .unsupported("Java socket factories do not exist in Sluice; sslmode, sslrootcert, sslcert and sslkey configure TLS"),
    // ---- Connection Advanced ----
    ConfigKey::new(
        "skip.messages.without.change",
        Boolean,
        Medium,
        "Connection Advanced",
        "Enable to skip publishing messages when there is no change in included columns.",
    )
    .default("false")
    .unsupported("skipping messages without a change in included columns is not implemented"),
    ConfigKey::new(
        "database.initial.statements",
        String,
        Low,
        "Connection Advanced",
        "A semicolon separated list of SQL statements to be executed when a JDBC connection to the database is established.",
    )
    .unsupported("statements run on connect are not implemented"),
    ConfigKey::new(
        "database.tcpKeepAlive",
        Boolean,
        Medium,
        "Connection Advanced",
        "Enable or disable TCP keep-alive probe to avoid dropping TCP connection",
    )
    .default("true")
    .not_applicable("a PostgreSQL JDBC driver socket option; Sluice manages its own connections"),
    // ---- Connection Advanced Replication ----
    ConfigKey::new(
        "plugin.name",
        String,
        Medium,
        "Connection Advanced Replication",
        "The name of the Postgres logical decoding plugin installed on the server.",
    )
    // Sluice decodes pgoutput whatever is named; configs for the older plugins run on it
    // with a warning (Debezium's own default is decoderbufs).
    .default("pgoutput")
    .one_of(&["pgoutput", "decoderbufs", "wal2json", "wal2json_rds", "wal2json_streaming", "wal2json_rds_streaming"]),
    ConfigKey::new(
        "slot.name",
        String,
        Medium,
        "Connection Advanced Replication",
        "The name of the Postgres logical decoding slot created for streaming changes from a plugin.",
    )
    .default("debezium"),
    ConfigKey::new(
        "publication.name",
        String,
        Medium,
        "Connection Advanced Replication",
        "The name of the Postgres 10+ publication used for streaming changes from a plugin.",
    )
    .default("dbz_publication"),
    ConfigKey::new(
        "publication.autocreate.mode",
        String,
        Medium,
        "Connection Advanced Replication",
        "Applies only when streaming changes using pgoutput. Determines how creation of a publication should work.",
    )
    .default("all_tables")
    .one_of(&["disabled", "all_tables", "filtered", "no_tables"]),
    ConfigKey::new(
        "replica.identity.autoset.values",
        String,
        Medium,
        "Connection Advanced Replication",
        "Applies only when streaming changes using pgoutput. Determines the value for Replica Identity at table level.",
    )
    .unsupported("setting REPLICA IDENTITY on tables is not implemented"),
    ConfigKey::new(
        "slot.drop.on.stop",
        Boolean,
        Medium,
        "Connection Advanced Replication",
        "Whether or not to drop the logical replication slot when the connector finishes orderly.",
    )
    .default("false"),
    // Sluice's own keys.
    ConfigKey::new(
        "slot.drop.on.delete",
        Boolean,
        Medium,
        "Connection Advanced Replication",
        "(Sluice) Whether deleting the connector drops its replication slot and the publication Sluice created for it, so an abandoned slot cannot fill the disk with WAL.",
    )
    .default("true"),
    ConfigKey::new(
        "slot.retained.wal.warn.bytes",
        Long,
        Medium,
        "Connection Advanced Replication",
        "(Sluice) Warn, in the log and the connector's status, when the slot retains more WAL than this many bytes (0: never).",
    )
    .default("1073741824")
    .range(0, i64::MAX),
    ConfigKey::new(
        "slot.failover",
        Boolean,
        Medium,
        "Connection Advanced Replication",
        "Whether or not to create a failover slot.",
    )
    .default("false")
    .unsupported("failover slots are not implemented"),
    ConfigKey::new(
        "slot.stream.params",
        String,
        Low,
        "Connection Advanced Replication",
        "Any optional parameters used by logical decoding plugin. Semi-colon separated.",
    )
    .unsupported("extra logical decoding plugin parameters are not implemented"),
    ConfigKey::new(
        "slot.max.retries",
        Int,
        Low,
        "Connection Advanced Replication",
        "How many times to retry connecting to a replication slot when an attempt fails.",
    )
    .default("6")
    .unsupported(SLOT_RETRY),
    ConfigKey::new(
        "slot.retry.delay.ms",
        Long,
        Low,
        "Connection Advanced Replication",
        "Time to wait between retry attempts when the connector fails to connect to a replication slot, given in milliseconds.",
    )
    .default("10000")
    .unsupported(SLOT_RETRY),
    ConfigKey::new(
        "status.update.interval.ms",
        Int,
        Medium,
        "Connection Advanced Replication",
        "Frequency for sending replication connection status updates to the server, given in milliseconds.",
    )
    // Sluice's default (Debezium's is 10000): the server sees the durable position within a
    // second of it becoming durable, so WAL is released that soon.
    .default("1000")
    .range(1, I32_MAX),
    ConfigKey::new(
        "lsn.flush.timeout.ms",
        Long,
        Medium,
        "Connection Advanced Replication",
        "Maximum time in milliseconds to wait for LSN flush operation to complete.",
    )
    .default("30000")
    .range(1, I32_MAX)
    .unsupported(LSN_FLUSH_TIMEOUT),
    ConfigKey::new(
        "lsn.flush.timeout.action",
        String,
        Medium,
        "Connection Advanced Replication",
        "Action to take when an LSN flush timeout occurs.",
    )
    .default("fail")
    .one_of(&["fail", "warn", "ignore"])
    .unsupported(LSN_FLUSH_TIMEOUT),
    ConfigKey::new(
        "xmin.fetch.interval.ms",
        Long,
        Medium,
        "Connection Advanced Replication",
        "Specify how often (in ms) the xmin will be fetched from the replication slot.",
    )
    .default("0")
    .range(0, i64::MAX)
    .unsupported("xmin tracking is not implemented"),
    ConfigKey::new(
        "offset.mismatch.strategy",
        String,
        Low,
        "Connection Advanced Replication",
        "Determines behavior when the connector's stored offset LSN differs from the replication slot's confirmed LSN.",
    )
    .default("no_validation")
    .one_of(&["no_validation", "trust_offset", "trust_slot", "trust_greater_lsn"])
    .unsupported(OFFSET_MISMATCH),
    ConfigKey::new(
        "internal.slot.seek.to.known.offset.on.start",
        Boolean,
        Low,
        "Connection Advanced Replication",
        "(Deprecated) Whether or not to seek to the last known offset on the replication slot.",
    )
    .default("false")
    .unsupported(OFFSET_MISMATCH),
    ConfigKey::new(
        "internal.create.slot.command.timeout",
        Long,
        Low,
        "Connection Advanced Replication",
        "The timeout in seconds for the creation of the replication slot.",
    )
    .default("90")
    .unsupported("the slot creation timeout is not configurable"),
    // ---- Filters ----
    ConfigKey::new(
        "table.include.list",
        List,
        High,
        "Filters",
        "The tables for which changes are to be captured",
    ),
    ConfigKey::new(
        "table.exclude.list",
        List,
        Medium,
        "Filters",
        "A comma-separated list of regular expressions that match the fully-qualified names of tables to be excluded from monitoring",
    ),
    ConfigKey::new(
        "table.ignore.builtin",
        Boolean,
        Low,
        "Filters",
        "Flag specifying whether built-in tables should be ignored.",
    )
    .default("true")
    .unsupported("system tables are always ignored"),
    ConfigKey::new(
        "column.exclude.list",
        List,
        Medium,
        "Filters",
        "Regular expressions matching columns to exclude from change events",
    ),
    ConfigKey::new(
        "column.include.list",
        List,
        Medium,
        "Filters",
        "Regular expressions matching columns to include in change events",
    ),
    ConfigKey::new(
        "schema.include.list",
        List,
        High,
        "Filters",
        "The schemas for which events should be captured",
    ),
    ConfigKey::new(
        "schema.exclude.list",
        List,
        Medium,
        "Filters",
        "The schemas for which events must not be captured",
    ),
    ConfigKey::new(
        "database.include.list",
        List,
        High,
        "Filters",
        "The databases for which changes are to be captured",
    )
    .unsupported(DB_FILTERS),
    ConfigKey::new(
        "database.exclude.list",
        List,
        Medium,
        "Filters",
        "A comma-separated list of regular expressions that match database names to be excluded from monitoring",
    )
    .unsupported(DB_FILTERS),
    // ---- Connector Snapshot ----
    ConfigKey::new(
        "snapshot.mode",
        String,
        Medium,
        "Connector Snapshot",
        "The criteria for running a snapshot upon startup of the connector.",
    )
    .default("initial")
    // "never" was removed in Debezium 3.3 (it meant "no_data"); older 3.x configs still use it.
    .one_of(&[
        "always",
        "initial",
        "no_data",
        "initial_only",
        "when_needed",
        "configuration_based",
        "custom",
        "never",
    ]),
    ConfigKey::new(
        "snapshot.isolation.mode",
        String,
        Low,
        "Connector Snapshot",
        "Controls which transaction isolation level is used.",
    )
    .default("serializable")
    .one_of(&["serializable", "repeatable_read", "read_committed", "read_uncommitted"])
    .unsupported("choosing the snapshot isolation level is not implemented"),
    ConfigKey::new(
        "snapshot.query.mode",
        String,
        Low,
        "Connector Snapshot",
        "Controls query used during the snapshot",
    )
    .default("select_all")
    .one_of(&["select_all", "custom"])
    .unsupported(SNAPSHOT_QUERY),
    ConfigKey::new(
        "snapshot.query.mode.custom.name",
        String,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.query.mode' is set as custom, the name of the custom implementation provided in the 'name()' method.",
    )
    .unsupported(SNAPSHOT_QUERY),
    ConfigKey::new(
        "snapshot.locking.mode",
        String,
        Low,
        "Connector Snapshot",
        "Controls how the connector holds locks on tables while performing the schema snapshot.",
    )
    .default("none")
    .one_of(&["shared", "none", "custom"])
    .unsupported(SNAPSHOT_LOCKING),
    ConfigKey::new(
        "snapshot.locking.mode.custom.name",
        String,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.locking.mode' is set as custom, the name of the custom implementation provided in the 'name()' method.",
    )
    .unsupported(SNAPSHOT_LOCKING),
    ConfigKey::new(
        "snapshot.mode.custom.name",
        String,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as custom, the name of the custom implementation provided in the 'name()' method.",
    )
    .unsupported(CUSTOM_SNAPSHOT),
    ConfigKey::new(
        "snapshot.mode.configuration.based.snapshot.data",
        Boolean,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as configuration_based, whether the data should be snapshotted.",
    )
    .default("false")
    .unsupported(CONFIG_BASED),
    ConfigKey::new(
        "snapshot.mode.configuration.based.snapshot.schema",
        Boolean,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as configuration_based, whether the schema should be snapshotted.",
    )
    .default("false")
    .unsupported(CONFIG_BASED),
    ConfigKey::new(
        "snapshot.mode.configuration.based.start.stream",
        Boolean,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as configuration_based, whether the stream should start after the snapshot.",
    )
    .default("false")
    .unsupported(CONFIG_BASED),
    ConfigKey::new(
        "snapshot.mode.configuration.based.snapshot.on.schema.error",
        Boolean,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as configuration_based, whether the schema should be snapshotted in case of error.",
    )
    .default("false")
    .unsupported(CONFIG_BASED),
    ConfigKey::new(
        "snapshot.mode.configuration.based.snapshot.on.data.error",
        Boolean,
        Medium,
        "Connector Snapshot",
        "When 'snapshot.mode' is set as configuration_based, whether the data should be snapshotted in case of error.",
    )
    .default("false")
    .unsupported(CONFIG_BASED),
    ConfigKey::new(
        "snapshot.delay.ms",
        Long,
        Low,
        "Connector Snapshot",
        "A delay period before a snapshot will begin, given in milliseconds.",
    )
    .default("0")
    .range(0, i64::MAX)
    .unsupported(DELAYS),
    ConfigKey::new(
        "snapshot.fetch.size",
        Int,
        Medium,
        "Connector Snapshot",
        "The maximum number of records that should be loaded into memory while performing a snapshot.",
    )
    // No declared default; PostgresConnectorConfig passes 10240 when it is unset.
    .range(0, I32_MAX)
    .not_applicable("a JDBC fetch size; Sluice reads snapshot rows in its own batches"),
    ConfigKey::new(
        "snapshot.include.collection.list",
        List,
        Medium,
        "Connector Snapshot",
        "The tables whose snapshot must be taken on creating or restarting the connector.",
    )
    .unsupported("snapshotting a subset of the captured tables is not implemented"),
    ConfigKey::new(
        "snapshot.max.threads",
        Int,
        Medium,
        "Connector Snapshot",
        "The maximum number of threads used to perform the snapshot.",
    )
    .default("1")
    .range(1, I32_MAX),
    ConfigKey::new(
        "snapshot.max.threads.multiplier",
        Int,
        Medium,
        "Connector Snapshot",
        "The factor used to scale the number of snapshot chunks per table.",
    )
    .default("1")
    .range(1, I32_MAX)
    .unsupported(PARALLEL_SNAPSHOT),
    ConfigKey::new(
        "legacy.snapshot.max.threads",
        Boolean,
        Low,
        "Connector Snapshot",
        "When enabled, uses the legacy table-per-thread parallel snapshot algorithm.",
    )
    .default("false")
    .aliases(&["internal.legacy.snapshot.max.threads"])
    .unsupported(PARALLEL_SNAPSHOT),
    ConfigKey::new(
        "streaming.delay.ms",
        Long,
        Low,
        "Connector Snapshot",
        "A delay period after the snapshot is completed and the streaming begins, given in milliseconds.",
    )
    .default("0")
    .range(0, i64::MAX)
    .unsupported(DELAYS),
    ConfigKey::new(
        "query.fetch.size",
        Int,
        Medium,
        "Connector Snapshot",
        "The maximum number of records that should be loaded into memory while streaming.",
    )
    .default("0")
    .range(0, I32_MAX)
    .not_applicable("a JDBC fetch size; Sluice does not stream through JDBC queries"),
    ConfigKey::new(
        "incremental.snapshot.watermarking.strategy",
        String,
        Low,
        "Connector Snapshot",
        "Specify the strategy used for watermarking during an incremental snapshot.",
    )
    .default("insert_insert")
    .one_of(&["insert_insert", "insert_delete"])
    .unsupported(SIGNALS),
    ConfigKey::new(
        "snapshot.lock.timeout.ms",
        Long,
        Medium,
        "Connector Snapshot",
        "The maximum number of millis to wait for table locks at the beginning of a snapshot.",
    )
    .default("10000")
    .unsupported(SNAPSHOT_LOCKING),
    ConfigKey::new(
        "snapshot.select.statement.overrides",
        String,
        Medium,
        "Connector Snapshot",
        "A comma-separated list of fully-qualified tables whose snapshot SELECT statement is overridden.",
    )
    .unsupported("overriding snapshot SELECT statements is not implemented"),
    ConfigKey::new(
        "internal.snapshot.scan.all.columns.force",
        Boolean,
        Low,
        "Connector Snapshot",
        "Restore pre 1.5 behaviour and scan all tables to discover columns.",
    )
    .default("false")
    .not_applicable("a JDBC metadata scan optimisation with no counterpart in Sluice"),
    ConfigKey::new(
        "snapshot.tables.order.by.row.count",
        String,
        Medium,
        "Connector Snapshot",
        "Controls the order in which tables are processed in the initial snapshot.",
    )
    .default("disabled")
    .one_of(&["ascending", "descending", "disabled"])
    .unsupported("ordering snapshot tables by row count is not implemented"),
    ConfigKey::new(
        "incremental.snapshot.chunk.size",
        Int,
        Medium,
        "Connector Snapshot",
        "The maximum size of chunk (number of documents/rows) for incremental snapshotting",
    )
    .default("1024")
    .range(0, I32_MAX)
    .unsupported(SIGNALS),
    // ---- Connector ----
    ConfigKey::new(
        "topic.prefix",
        String,
        High,
        "Connector",
        "Topic prefix that identifies and provides a namespace for the particular database server/cluster is capturing changes.",
    )
    .required()
    // Debezium 1.x's name (seed 003's era); Debezium 3 no longer reads it, Sluice does.
    .aliases(&["database.server.name"]),
    ConfigKey::new(
        "tombstones.on.delete",
        Boolean,
        Medium,
        "Connector",
        "Whether delete operations should be represented by a delete event and a subsequent tombstone event (true) or only by a delete event (false).",
    )
    .default("true"),
    ConfigKey::new(
        "binary.handling.mode",
        String,
        Low,
        "Connector",
        "Specify how binary (blob, binary, etc.) columns should be represented in change events.",
    )
    .default("bytes")
    .one_of(&["bytes", "base64", "base64-url-safe", "hex"]),
    ConfigKey::new(
        "schema.name.adjustment.mode",
        String,
        Low,
        "Connector",
        "Specify how schema names should be adjusted for compatibility with the message converter used by the connector.",
    )
    .default("none")
    .one_of(&["none", "avro", "avro_unicode"])
    .unsupported(NAME_ADJUST),
    ConfigKey::new(
        "field.name.adjustment.mode",
        String,
        Low,
        "Connector",
        "Specify how field names should be adjusted for compatibility with the message converter used by the connector.",
    )
    .default("none")
    .one_of(&["none", "avro", "avro_unicode"])
    .unsupported(NAME_ADJUST),
    ConfigKey::new(
        "event.converting.failure.handling.mode",
        String,
        Medium,
        "Connector",
        "Specify how failures during converting of event should be handled.",
    )
    .default("warn")
    .one_of(&["skip", "warn", "fail"])
    .unsupported("choosing how value conversion failures are handled is not implemented"),
    ConfigKey::new(
        "topic.naming.strategy",
        Class,
        Medium,
        "Connector",
        "The name of the TopicNamingStrategy class that should be used to determine the topic name for data change, schema change, transaction, heartbeat event etc.",
    )
    .default("io.debezium.schema.SchemaTopicNamingStrategy")
    .unsupported("custom topic naming strategies are not implemented"),
    ConfigKey::new(
        "notification.sink.topic.name",
        String,
        High,
        "Connector",
        "The name of the topic for the notifications.",
    )
    .unsupported(NOTIFICATIONS),
    ConfigKey::new(
        "custom.metric.tags",
        List,
        Low,
        "Connector",
        "A comma-separated list of key-value pairs that are appended to the MBean object name.",
    )
    .not_applicable(JMX),
    ConfigKey::new(
        "decimal.handling.mode",
        String,
        Medium,
        "Connector",
        "Specify how DECIMAL and NUMERIC columns should be represented in change events.",
    )
    .default("precise")
    .one_of(&["precise", "string", "double"]),
    ConfigKey::new(
        "time.precision.mode",
        String,
        Medium,
        "Connector",
        "Time, date, and timestamps can be represented with different kinds of precisions.",
    )
    .default("adaptive")
    .one_of(&[
        "adaptive",
        "adaptive_time_microseconds",
        "isostring",
        "connect",
        "microseconds",
        "nanoseconds",
        "structured",
    ]),
    ConfigKey::new(
        "include.schema.comments",
        Boolean,
        Medium,
        "Connector",
        "Whether the connector parse table and column's comment to metadata object.",
    )
    .default("false")
    .unsupported("table and column comments are not read"),
    ConfigKey::new(
        "hstore.handling.mode",
        String,
        Low,
        "Connector",
        "Specify how HSTORE columns should be represented in change events.",
    )
    .default("json")
    .one_of(&["json", "map"]),
    ConfigKey::new(
        "interval.handling.mode",
        String,
        Low,
        "Connector",
        "Specify how INTERVAL columns should be represented in change events.",
    )
    .default("numeric")
    .one_of(&["numeric", "string"]),
    ConfigKey::new(
        "message.prefix.include.list",
        List,
        Medium,
        "Connector",
        "A comma-separated list of regular expressions that match the logical decoding message prefixes to be monitored.",
    )
    .unsupported(LOGICAL_MESSAGES),
    ConfigKey::new(
        "message.prefix.exclude.list",
        List,
        Medium,
        "Connector",
        "A comma-separated list of regular expressions that match the logical decoding message prefixes to be excluded from monitoring.",
    )
    .unsupported(LOGICAL_MESSAGES),
    ConfigKey::new(
        "publish.via.partition.root",
        Boolean,
        Medium,
        "Connector",
        "A boolean that determines whether the connector should publish changes via the partition root.",
    )
    .default("false")
    .unsupported("publishing changes via the partition root is not implemented"),
    ConfigKey::new(
        "lsn.flush.mode",
        String,
        Low,
        "Connector",
        "Determines the LSN flushing strategy.",
    )
    // No declared default; unset means 'connector' (or what flush.lsn.source says).
    .one_of(&["connector", "manual", "connector_and_driver"])
    .unsupported(LSN_FLUSH_MODE),
    ConfigKey::new(
        "flush.lsn.source",
        Boolean,
        Low,
        "Connector",
        "(Deprecated) Boolean to determine if Debezium should flush LSN in the source postgres database.",
    )
    .default("true")
    .unsupported(LSN_FLUSH_MODE),
    ConfigKey::new(
        "unavailable.value.placeholder",
        String,
        Medium,
        "Connector",
        "Specify the constant that will be provided by Debezium to indicate that the original value is a toasted value not provided by the database.",
    )
    .default("__debezium_unavailable_value"),
    ConfigKey::new(
        "skipped.operations",
        List,
        Low,
        "Connector",
        "The comma-separated list of operations to skip during streaming: 'c' inserts, 'u' updates, 'd' deletes, 't' truncates, 'none' nothing.",
    )
    .default("t"),
    ConfigKey::new(
        "money.fraction.digits",
        Short,
        Low,
        "Connector",
        "Number of fractional digits when money type is converted to 'precise' decimal number.",
    )
    .default("2")
    .unsupported("changing the fraction digits of money values is not implemented"),
    // ---- Advanced Heartbeat ----
    ConfigKey::new(
        "heartbeat.interval.ms",
        Int,
        Medium,
        "Advanced Heartbeat",
        "Length of an interval in milli-seconds in in which the connector periodically sends heartbeat messages to a heartbeat topic.",
    )
    .default("0")
    .range(0, I32_MAX),
    ConfigKey::new(
        "heartbeat.topics.prefix",
        String,
        Low,
        "Advanced Heartbeat",
        "The prefix that is used to name heartbeat topics.",
    )
    .default("__debezium-heartbeat")
    .not_applicable(
        "Debezium's PostgreSQL connector ignores it as well; topic.heartbeat.prefix names the heartbeat topic",
    ),
    ConfigKey::new(
        "signal.poll.interval.ms",
        Long,
        Medium,
        "Advanced Heartbeat",
        "Interval for looking for new signals in registered channels, given in milliseconds.",
    )
    .default("5000")
    .range(1, I32_MAX)
    .unsupported(SIGNALS),
    ConfigKey::new(
        "heartbeat.action.query",
        String,
        Low,
        "Advanced Heartbeat",
        "The query executed with every heartbeat.",
    ),
    // ---- Connector Advanced ----
    ConfigKey::new(
        "provide.transaction.metadata",
        Boolean,
        Low,
        "Connector Advanced",
        "Enables transaction metadata extraction together with event counting",
    )
    .default("false"),
    ConfigKey::new(
        "converters",
        String,
        Low,
        "Connector Advanced",
        "Optional list of custom converters that would be used instead of default ones.",
    )
    .unsupported("custom value converters are not implemented"),
    ConfigKey::new(
        "post.processors",
        String,
        Low,
        "Connector Advanced",
        "Optional list of post processors.",
    )
    .unsupported("post processors are not implemented"),
    ConfigKey::new(
        "incremental.snapshot.allow.schema.changes",
        Boolean,
        Low,
        "Connector Advanced",
        "Detect schema change during an incremental snapshot and re-select a current chunk to avoid locking DDLs.",
    )
    .default("false")
    .unsupported(SIGNALS),
    ConfigKey::new(
        "signal.data.collection",
        List,
        Medium,
        "Connector Advanced",
        "The name of the data collection that is used to send signals/commands to Debezium.",
    )
    .unsupported(SIGNALS),
    ConfigKey::new(
        "signal.enabled.channels",
        List,
        Medium,
        "Connector Advanced",
        "List of channels names that are enabled.",
    )
    .default("source")
    .unsupported(SIGNALS),
    ConfigKey::new(
        "notification.enabled.channels",
        List,
        Medium,
        "Connector Advanced",
        "List of notification channels names that are enabled.",
    )
    .unsupported(NOTIFICATIONS),
    ConfigKey::new(
        "transaction.metadata.factory",
        Class,
        Low,
        "Connector Advanced",
        "Class to make transaction context & transaction struct/schemas",
    )
    .default("io.debezium.pipeline.txmetadata.DefaultTransactionMetadataFactory")
    .unsupported("custom transaction metadata factories are not implemented"),
    ConfigKey::new(
        "message.key.columns",
        String,
        Medium,
        "Connector Advanced",
        "A semicolon-separated list of expressions that match fully-qualified tables and column(s) to be used as message key.",
    ),
    // The next three are patterns: Debezium declares them under these literal names.
    ConfigKey::new(
        "column.mask.hash.([^.]+).with.salt.(.+)",
        String,
        Medium,
        "Connector Advanced",
        "A comma-separated list of regular expressions matching fully-qualified names of columns that should be masked by hashing the input.",
    )
    .unsupported(MASKING),
    ConfigKey::new(
        "column.mask.with.(d+).chars",
        String,
        Medium,
        "Connector Advanced",
        "A comma-separated list of regular expressions matching fully-qualified names of columns that should be masked with asterisks.",
    )
    .unsupported(MASKING),
    ConfigKey::new(
        "column.truncate.to.(d+).chars",
        Int,
        Medium,
        "Connector Advanced",
        "A comma-separated list of regular expressions matching fully-qualified names of columns that should be truncated.",
    )
    .unsupported(MASKING),
    ConfigKey::new(
        "column.propagate.source.type",
        List,
        Medium,
        "Connector Advanced",
        "A comma-separated list of regular expressions matching fully-qualified names of columns whose original type and length are added to the field schemas.",
    ),
    ConfigKey::new(
        "datatype.propagate.source.type",
        List,
        Medium,
        "Connector Advanced",
        "A comma-separated list of regular expressions matching database-specific data type names whose original type and length are added to the field schemas.",
    ),
    ConfigKey::new(
        "memory.management.schemas.class",
        Class,
        Low,
        "Connector Advanced",
        "The fully-qualified class name of the storage implementation for schema metadata.",
    )
    .default("io.debezium.relational.ConcurrentMapTableMappingStorage")
    .not_applicable("selects a JVM storage class for in-memory table metadata"),
    ConfigKey::new(
        "memory.management.tables.class",
        Class,
        Low,
        "Connector Advanced",
        "The fully-qualified class name of the storage implementation for table metadata.",
    )
    .default("io.debezium.relational.ConcurrentMapTableMappingStorage")
    .not_applicable("selects a JVM storage class for in-memory table metadata"),
    ConfigKey::new(
        "schema.refresh.mode",
        String,
        Medium,
        "Connector Advanced",
        "Specify the conditions that trigger a refresh of the in-memory schema for a table.",
    )
    .default("columns_diff")
    .one_of(&["columns_diff", "columns_diff_exclude_unchanged_toast"])
    .unsupported("schema refresh modes are not implemented"),
    ConfigKey::new(
        "include.unknown.datatypes",
        Boolean,
        Medium,
        "Connector Advanced",
        "Specify whether the fields of data type not supported by Debezium should be processed.",
    )
    .default("false")
    .unsupported("emitting columns of unknown types is not implemented"),
    ConfigKey::new(
        "sourceinfo.struct.maker",
        Class,
        Low,
        "Connector Advanced",
        "The name of the SourceInfoStructMaker class that returns SourceInfo schema and struct.",
    )
    .default("io.debezium.connector.postgresql.PostgresSourceInfoStructMaker")
    .unsupported("custom source info blocks are not implemented"),
    ConfigKey::new(
        "internal.custom.retriable.exception",
        String,
        Low,
        "Connector Advanced",
        "Provide a temporary workaround for an error that should be retriable.",
    )
    // Debezium declares this STRING key with the (Boolean) default false.
    .default("false")
    .unsupported("retrying on custom exception messages is not implemented"),
    // ---- Advanced ----
    ConfigKey::new(
        "retriable.restart.connector.wait.ms",
        Long,
        Low,
        "Advanced",
        "Time to wait before restarting connector after retriable exception occurs.",
    )
    .default("10000")
    .range(1, i64::MAX)
    .not_applicable("Sluice retries transient errors with its own backoff"),
    ConfigKey::new(
        "max.queue.size",
        Int,
        Medium,
        "Advanced",
        "Maximum size of the queue for change events read from the database log but not yet recorded or forwarded.",
    )
    .default("8192")
    .range(1, I32_MAX),
    ConfigKey::new(
        "max.batch.size",
        Int,
        Medium,
        "Advanced",
        "Maximum size of each batch of source records.",
    )
    .default("2048")
    .range(1, I32_MAX),
    ConfigKey::new(
        "poll.interval.ms",
        Long,
        Medium,
        "Advanced",
        "Time to wait for new change events to appear after receiving no events, given in milliseconds.",
    )
    .default("500")
    .range(1, I32_MAX)
    .not_applicable(QUEUE),
    ConfigKey::new(
        "poll.dispatch.interval.ms",
        Long,
        Medium,
        "Advanced",
        "Time to accumulate change events in the queue between subsequent polls.",
    )
    .default("0")
    .range(0, I32_MAX)
    .not_applicable(QUEUE),
    ConfigKey::new(
        "max.queue.size.in.bytes",
        Long,
        Medium,
        "Advanced",
        "Maximum size of the queue in bytes for change events read from the database log but not yet recorded or forwarded.",
    )
    .default("0")
    .range(0, i64::MAX)
    .not_applicable(QUEUE),
    ConfigKey::new(
        "queue.provider.type",
        String,
        Low,
        "Advanced",
        "The name of the queue provider implementation to use for buffering change events.",
    )
    .default("memory")
    .not_applicable(QUEUE),
    ConfigKey::new(
        "event.processing.failure.handling.mode",
        String,
        Medium,
        "Advanced",
        "Specify how failures during processing of events (i.e. when encountering a corrupted event) should be handled.",
    )
    .default("fail")
    .one_of(&["skip", "warn", "fail", "ignore"])
    .unsupported("skipping events that fail processing is not implemented"),
    ConfigKey::new(
        "internal.log.position.check.enable",
        Boolean,
        Medium,
        "Advanced",
        "When enabled the connector checks if the position stored in the offset is still available in the log",
    )
    .default("true")
    .unsupported("turning off the check that the stored position is still available is not implemented"),
    ConfigKey::new(
        "internal.advanced.metrics.enable",
        Boolean,
        Medium,
        "Advanced",
        "When enabled the connector will emit advanced streaming metrics",
    )
    .default("false")
    .not_applicable(JMX),
    ConfigKey::new(
        "connection.validation.timeout.ms",
        Long,
        Low,
        "Advanced",
        "The maximum time in milliseconds to wait for connection validation to complete.",
    )
    .default("60000")
    .range(1, i64::MAX)
    .unsupported("the connection validation timeout is not configurable"),
    ConfigKey::new(
        "executor.shutdown.timeout.ms",
        Long,
        Medium,
        "Advanced",
        "The maximum time in milliseconds to wait for task executor to shut down.",
    )
    .default("4000")
    .range(1, i64::MAX)
    .not_applicable("a JVM thread pool shutdown timeout"),
    ConfigKey::new(
        "openlineage.integration.enabled",
        Boolean,
        Low,
        "Advanced",
        "Enable Debezium to emit data lineage metadata through OpenLineage API",
    )
    .default("false")
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.config.file.path",
        String,
        Low,
        "Advanced",
        "Path to OpenLineage file configuration.",
    )
    .default("./openlineage.yml")
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.job.namespace",
        String,
        Low,
        "Advanced",
        "The job's namespace emitted by Debezium",
    )
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.job.description",
        String,
        Low,
        "Advanced",
        "The job's description emitted by Debezium",
    )
    .default("Debezium change data capture job")
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.job.tags",
        List,
        Low,
        "Advanced",
        "The job's tags emitted by Debezium. A comma-separated list of key-value pairs.",
    )
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.job.owners",
        List,
        Low,
        "Advanced",
        "The job's owners emitted by Debezium. A comma-separated list of key-value pairs.",
    )
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "openlineage.integration.dataset.kafka.bootstrap.server",
        String,
        Low,
        "Advanced",
        "The Kafka bootstrap server address used as input/output namespace.",
    )
    .unsupported(OPENLINEAGE),
    ConfigKey::new(
        "extended.headers.enabled",
        Boolean,
        Low,
        "Advanced",
        "Enable/Disable Debezium context headers that provides essential metadata for tracking and identifying the source of CDC events.",
    )
    .default("true")
    .unsupported("Debezium's context headers are not implemented"),
    ConfigKey::new(
        "guardrail.collections.max",
        Int,
        Medium,
        "Advanced",
        "The maximum number of collections or tables that can be captured by the connector.",
    )
    .default("0")
    .range(0, I32_MAX)
    .unsupported(GUARDRAILS),
    ConfigKey::new(
        "guardrail.collections.limit.action",
        String,
        Medium,
        "Advanced",
        "Specify the action to take when a guardrail collections limit is exceeded.",
    )
    .default("warn")
    .one_of(&["warn", "fail"])
    .unsupported(GUARDRAILS),
    ConfigKey::new(
        "custom.sanitize.pattern",
        String,
        Low,
        "Advanced",
        "Regular expression identifying configuration keys whose values should be masked.",
    )
    .default(r".*secret$|.*password$|.*sasl\.jaas\.config$|.*basic\.auth\.user\.info|.*registry\.auth\.client-secret|.*credentials\.json$|.*connectionstring$|.*connection\.string$")
    .unsupported("custom masking patterns are not implemented; PASSWORD keys are always masked"),
    ConfigKey::new(
        "signal.emit.failure.max.retries",
        Int,
        Medium,
        "Advanced",
        "The maximum number of retries after encountering an error emitting a window event.",
    )
    .default("0")
    .range(0, I32_MAX)
    .unsupported(SIGNALS),
    ConfigKey::new(
        "signal.emit.failure.backoff.ms",
        Long,
        Medium,
        "Advanced",
        "Duration to sleep for after encountering an error emitting a window event, given in milliseconds.",
    )
    .default("10000")
    .range(1, I32_MAX)
    .unsupported(SIGNALS),
    ConfigKey::new(
        "statistics.metrics.enabled",
        Boolean,
        Medium,
        "Advanced",
        "Enable to collect various kind of statistics, like latencies in record processing, and derived data like quantiles.",
    )
    .default("true")
    .not_applicable(JMX),
    ConfigKey::new(
        "internal.offset.activity.monitor.interval.ms",
        Long,
        Low,
        "Advanced",
        "The interval in milliseconds at which the connector checks for stale offsets during streaming.",
    )
    .default("600000")
    .range(0, i64::MAX)
    .not_applicable("used only by Debezium's MySQL and MariaDB connectors"),
    ConfigKey::new(
        "database.connection.factory.class",
        Class,
        Medium,
        "Advanced",
        "(Incubating) The factory class for creation of datasource connection pool.",
    )
    .unsupported("custom JDBC connection factories are not implemented"),
    // Read by the default topic naming strategy (AbstractTopicNamingStrategy).
    ConfigKey::new(
        "topic.delimiter",
        String,
        Low,
        "Advanced",
        "Specify the delimiter for topic name.",
    )
    .default(".")
    .unsupported("topic names always use '.' as the delimiter"),
    ConfigKey::new(
        "topic.cache.size",
        Int,
        Low,
        "Advanced",
        "The size used for holding the topic names in bounded concurrent hash map.",
    )
    .default("10000")
    .not_applicable("sizes a JVM cache of topic names"),
    ConfigKey::new(
        "topic.heartbeat.prefix",
        String,
        Low,
        "Advanced",
        "Specify the heartbeat topic name. Defaults to __debezium-heartbeat.${topic.prefix}",
    )
    .default("__debezium-heartbeat"),
    ConfigKey::new(
        "topic.heartbeat.name",
        String,
        Low,
        "Advanced",
        "Specify the full heartbeat topic name.",
    )
    .unsupported("a full heartbeat topic name is not implemented; use topic.heartbeat.prefix"),
    ConfigKey::new(
        "topic.transaction",
        String,
        Low,
        "Advanced",
        "Specify the transaction topic name. Defaults to ${topic.prefix}.transaction",
    )
    .default("transaction"),
];
