//! The keys of the two JDBC sink connectors Sluice runs into PostgreSQL: Confluent's
//! `JdbcSinkConfig` (kafka-connect-jdbc 10.x) and Debezium's `JdbcSinkConnectorConfig`
//! (debezium-connector-jdbc 2.7/3.x): different names for the same ideas. Sluice's own keys
//! (the position table, the transaction-consistent mode) are declared in both.

use crate::def::{ConfigKey, Importance, KeyType};

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Int, List, Long, Password, String};

const I32_MAX: i64 = i32::MAX as i64;
const POOL: &str = "Sluice keeps one connection per task; there is no pool to size";
const RETRIES: &str =
    "Sluice retries transient errors itself (errors.retry.timeout, errors.retry.delay.max.ms)";

/// Sluice's keys, the same in both classes.
macro_rules! sluice_keys {
    (offsets) => {
        ConfigKey::new(
            "sluice.offsets.table",
            String,
            Medium,
            "Sluice",
            "Table in the target database holding the sink's consumer positions, written in the same transaction as each batch (created when missing).",
        )
        .default("__sluice_sink_offsets")
    };
    (transaction) => {
        ConfigKey::new(
            "sluice.transaction.topic",
            String,
            Medium,
            "Sluice",
            "Transaction-consistent mode: the source's transaction topic (provide.transaction.metadata=true), consumed with the tables' topics. Each source transaction is applied whole, in commit order, with session_replication_role=replica (Debezium's JdbcSinkConnector only).",
        )
    };
}

pub static CONFLUENT: &[ConfigKey] = &[
    ConfigKey::new(
        "connection.url",
        String,
        High,
        "Connection",
        "JDBC connection URL: jdbc:postgresql://host:port/db?params (a postgres:// URL is accepted too).",
    )
    .required(),
    ConfigKey::new("connection.user", String, High, "Connection", "JDBC connection user."),
    ConfigKey::new("connection.password", Password, High, "Connection", "JDBC connection password."),
    ConfigKey::new(
        "connection.attempts",
        Int,
        Low,
        "Connection",
        "Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.",
    )
    .default("3")
    .range(1, I32_MAX),
    ConfigKey::new(
        "connection.backoff.ms",
        Long,
        Low,
        "Connection",
        "Backoff time in milliseconds between connection attempts.",
    )
    .default("10000")
    .range(0, i64::MAX),
    ConfigKey::new(
        "dialect.name",
        String,
        Low,
        "Connection",
        "The name of the database dialect that should be used for this connector.",
    )
    .default("")
    .one_of(&["", "postgresqldatabasedialect"]),
    ConfigKey::new(
        "insert.mode",
        String,
        High,
        "Writes",
        "The insertion mode to use: insert, upsert (INSERT ... ON CONFLICT DO UPDATE) or update.",
    )
    .default("insert")
    .one_of(&["insert", "upsert", "update"]),
    ConfigKey::new(
        "batch.size",
        Int,
        Medium,
        "Writes",
        "Specifies how many records to attempt to batch together for insertion into the destination table, when possible.",
    )
    .default("3000")
    .range(0, I32_MAX),
    ConfigKey::new(
        "delete.enabled",
        Boolean,
        Medium,
        "Writes",
        "Whether to treat null record values as deletes. Requires pk.mode to be record_key.",
    )
    .default("false"),
    ConfigKey::new(
        "replace.null.with.default",
        Boolean,
        Medium,
        "Writes",
        "Whether to replace null value with default value.",
    )
    .default("true"),
    ConfigKey::new(
        "table.name.format",
        String,
        Medium,
        "Data Mapping",
        "A format string for the destination table name, which may contain '${topic}' as a placeholder for the originating topic name.",
    )
    .default("${topic}"),
    ConfigKey::new(
        "pk.mode",
        String,
        High,
        "Data Mapping",
        "The primary key mode: none, kafka, record_key, record_value.",
    )
    .default("none")
    .one_of(&["none", "kafka", "record_key", "record_value"]),
    ConfigKey::new(
        "pk.fields",
        List,
        Medium,
        "Data Mapping",
        "List of comma-separated primary key field names; its meaning depends on pk.mode.",
    )
    .default(""),
    ConfigKey::new(
        "fields.whitelist",
        List,
        Medium,
        "Data Mapping",
        "List of comma-separated record value field names. If empty, all fields from the record value are utilized.",
    )
    .default(""),
    ConfigKey::new(
        "db.timezone",
        String,
        Medium,
        "Data Mapping",
        "Name of the JDBC timezone that should be used in the connector when inserting time-based values.",
    )
    .default("UTC"),
    ConfigKey::new(
        "date.timezone",
        String,
        Medium,
        "Data Mapping",
        "Name of the timezone used for DATE values: DB_TIMEZONE or UTC.",
    )
    .default("db_timezone")
    .one_of(&["db_timezone", "utc"]),
    ConfigKey::new(
        "date.calendar.system",
        String,
        Low,
        "Data Mapping",
        "Calendar used to turn days and milliseconds since the epoch into dates: LEGACY (Julian before 1582-10-15) or PROLEPTIC_GREGORIAN.",
    )
    .default("legacy")
    .one_of(&["legacy", "proleptic_gregorian"]),
    ConfigKey::new(
        "timestamp.precision.mode",
        String,
        Low,
        "Data Mapping",
        "Precision of timestamp fields named in timestamp.fields.list.",
    )
    .default("microseconds")
    .unsupported("string timestamps with nanoseconds (timestamp.fields.list) are not implemented"),
    ConfigKey::new(
        "timestamp.fields.list",
        List,
        Low,
        "Data Mapping",
        "String fields holding timestamps with nanosecond precision.",
    )
    .default("")
    .unsupported("string timestamps with nanoseconds are not implemented"),
    ConfigKey::new(
        "auto.create",
        Boolean,
        Medium,
        "DDL Support",
        "Whether to automatically create the destination table based on record schema if it is found to be missing by issuing CREATE.",
    )
    .default("false"),
    ConfigKey::new(
        "auto.evolve",
        Boolean,
        Medium,
        "DDL Support",
        "Whether to automatically add columns in the table schema when found to be missing relative to the record schema by issuing ALTER.",
    )
    .default("false"),
    ConfigKey::new(
        "quote.sql.identifiers",
        String,
        Medium,
        "DDL Support",
        "When to quote table names, column names, and other identifiers in SQL statements: always or never.",
    )
    .default("always")
    .one_of(&["always", "never"]),
    ConfigKey::new(
        "table.types",
        List,
        Low,
        "DDL Support",
        "The comma-separated types of database tables to which the sink connector can write.",
    )
    .default("TABLE")
    .unsupported("Sluice writes into tables only (views and partitioned parents are not looked up)"),
    ConfigKey::new(
        "max.retries",
        Int,
        Medium,
        "Retries",
        "The maximum number of times to retry on errors before failing the task.",
    )
    .default("10")
    .range(0, I32_MAX)
    .not_applicable(RETRIES),
    ConfigKey::new(
        "retry.backoff.ms",
        Int,
        Medium,
        "Retries",
        "The time in milliseconds to wait following an error before a retry attempt is made.",
    )
    .default("3000")
    .range(0, I32_MAX)
    .not_applicable(RETRIES),
    ConfigKey::new(
        "trim.sensitive.log",
        Boolean,
        Low,
        "Writes",
        "Whether to trim sensitive information from logs.",
    )
    .default("false")
    .not_applicable("Sluice never logs record values from this sink"),
    ConfigKey::new(
        "mssql.use.merge.holdlock",
        Boolean,
        Low,
        "Writes",
        "Whether to use HOLDLOCK when performing a MERGE INTO upsert statement (SQL Server).",
    )
    .default("true")
    .not_applicable("SQL Server only"),
    sluice_keys!(offsets),
    sluice_keys!(transaction),
];

pub static DEBEZIUM: &[ConfigKey] = &[
    ConfigKey::new(
        "connection.url",
        String,
        High,
        "Connection",
        "Valid JDBC URL: jdbc:postgresql://host:port/db?params (a postgres:// URL is accepted too).",
    )
    .required(),
    ConfigKey::new("connection.username", String, High, "Connection", "Name of the database user to be used when connecting to the connection."),
    ConfigKey::new("connection.password", Password, High, "Connection", "Password of the database user to be used when connecting to the connection."),
    ConfigKey::new(
        "connection.provider",
        Class,
        Low,
        "Connection",
        "Hibernate connection provider class.",
    )
    .default("org.hibernate.c3p0.internal.C3P0ConnectionProvider")
    .not_applicable(POOL),
    ConfigKey::new("connection.pool.min_size", Int, Low, "Connection", "Minimum number of connection in the connection pool.")
        .default("5")
        .not_applicable(POOL),
    ConfigKey::new("connection.pool.max_size", Int, Low, "Connection", "Maximum number of connection in the connection pool.")
        .default("32")
        .not_applicable(POOL),
    ConfigKey::new("connection.pool.acquire_increment", Int, Low, "Connection", "Connection pool acquire increment.")
        .default("32")
        .not_applicable(POOL),
    ConfigKey::new("connection.pool.timeout", Int, Low, "Connection", "Connection pool timeout.")
        .default("1800")
        .not_applicable(POOL),
    ConfigKey::new(
        "insert.mode",
        String,
        High,
        "Writes",
        "Insert mode: insert, upsert (INSERT ... ON CONFLICT DO UPDATE) or update.",
    )
    .default("insert")
    .one_of(&["insert", "upsert", "update"]),
    ConfigKey::new(
        "delete.enabled",
        Boolean,
        Medium,
        "Writes",
        "Whether to treat delete events (and tombstones) as deletes. Requires primary.key.mode record_key.",
    )
    .default("false"),
    ConfigKey::new(
        "truncate.enabled",
        Boolean,
        Medium,
        "Writes",
        "Whether to process truncate events (op t) by truncating the target table.",
    )
    .default("false"),
    ConfigKey::new(
        "collection.name.format",
        String,
        Medium,
        "Writes",
        "A format string for the table: ${topic} (its dots become underscores), ${source.schema}, ${source.table}, ${source.db}.",
    )
    .default("${topic}")
    .aliases(&["table.name.format"]),
    ConfigKey::new(
        "primary.key.mode",
        String,
        High,
        "Writes",
        "How the primary key is found: none, kafka, record_key, record_value.",
    )
    .default("none")
    .one_of(&["none", "kafka", "record_key", "record_value"]),
    ConfigKey::new(
        "primary.key.fields",
        List,
        Medium,
        "Writes",
        "Comma-separated field names of the primary key; its meaning depends on primary.key.mode.",
    )
    .default(""),
    ConfigKey::new(
        "schema.evolution",
        String,
        Medium,
        "Writes",
        "How to react to a table or column the target lacks: none, or basic (create tables, add columns).",
    )
    .default("none")
    .one_of(&["none", "basic"]),
    ConfigKey::new(
        "quote.identifiers",
        Boolean,
        Medium,
        "Writes",
        "Whether to quote table and column names.",
    )
    .default("false"),
    ConfigKey::new(
        "database.time_zone",
        String,
        Medium,
        "Writes",
        "Time zone used for temporal values without a zone.",
    )
    .default("UTC"),
    ConfigKey::new(
        "batch.size",
        Int,
        Medium,
        "Writes",
        "Maximum number of records written in one statement.",
    )
    .default("500")
    .range(1, I32_MAX),
    ConfigKey::new(
        "use.reduction.buffer",
        Boolean,
        Medium,
        "Writes",
        "Keep only the last change of each primary key within a batch.",
    )
    .default("false"),
    ConfigKey::new(
        "field.include.list",
        List,
        Medium,
        "Filters",
        "Fields to write, as <topic>:<field>.",
    )
    .default(""),
    ConfigKey::new(
        "field.exclude.list",
        List,
        Medium,
        "Filters",
        "Fields not to write, as <topic>:<field>.",
    )
    .default(""),
    ConfigKey::new(
        "collection.naming.strategy",
        Class,
        Low,
        "Writes",
        "Class resolving table names.",
    )
    .default("io.debezium.connector.jdbc.naming.DefaultTableNamingStrategy")
    .aliases(&["table.naming.strategy"])
    .unsupported("custom Java naming strategies cannot run in Sluice; use collection.name.format"),
    ConfigKey::new(
        "column.naming.strategy",
        Class,
        Low,
        "Writes",
        "Class resolving column names.",
    )
    .default("io.debezium.connector.jdbc.naming.DefaultColumnNamingStrategy")
    .unsupported("custom Java naming strategies cannot run in Sluice"),
    ConfigKey::new(
        "dialect.postgres.postgis.schema",
        String,
        Low,
        "Writes",
        "Schema where the PostgreSQL PostGIS extension is installed.",
    )
    .default("public")
    .unsupported("PostGIS geometries are not implemented (geometric points are)"),
    sluice_keys!(offsets),
    sluice_keys!(transaction),
];
