//! Every key Confluent's JDBC source connector (`JdbcSourceConnectorConfig`) declares, with its
//! defaults, groups and valid values, and how Sluice treats it. Taken from
//! confluentinc/kafka-connect-jdbc at 10.10.0-SNAPSHOT; the keys Connect shares are in `connect.rs`.

use crate::def::{ConfigKey, Importance, KeyType};

use Importance::{High, Low, Medium};
use KeyType::{Boolean, Class, Int, List, Long, Password, String};

const I32_MAX: i64 = i32::MAX as i64;

pub static JDBC_SOURCE: &[ConfigKey] = &[
    // ---- Database ----
    ConfigKey::new(
        "connection.url",
        String,
        High,
        "Database",
        "JDBC connection URL: jdbc:postgresql://host:port/db?params (a postgres:// URL is accepted too).",
    )
    .default(""),
    ConfigKey::new("connection.user", String, High, "Database", "JDBC connection user."),
    ConfigKey::new(
        "connection.password",
        Password,
        High,
        "Database",
        "JDBC connection password.",
    ),
    ConfigKey::new(
        "jdbc.credentials.provider.class",
        Class,
        Low,
        "Database",
        "Credentials provider or provider chain to use for authentication to database.",
    )
    .default("io.confluent.connect.jdbc.util.DefaultJdbcCredentialsProvider")
    .unsupported("credentials come from connection.user/connection.password or the URL"),
    ConfigKey::new(
        "connection.attempts",
        Int,
        Low,
        "Database",
        "Maximum number of attempts to retrieve a valid JDBC connection. Must be a positive integer.",
    )
    .default("3")
    .range(1, I32_MAX),
    ConfigKey::new(
        "connection.backoff.ms",
        Long,
        Low,
        "Database",
        "Backoff time in milliseconds between connection attempts.",
    )
    .default("10000")
    .range(0, i64::MAX),
    ConfigKey::new(
        "table.whitelist",
        List,
        Medium,
        "Database",
        "List of tables to include in copying. If specified, table.blacklist may not be set.",
    )
    .default(""),
    ConfigKey::new(
        "table.blacklist",
        List,
        Medium,
        "Database",
        "List of tables to exclude from copying. If specified, table.whitelist may not be set.",
    )
    .default(""),
    ConfigKey::new(
        "table.include.list",
        List,
        Medium,
        "Database",
        "Regular expressions matching the fully-qualified names (schema.table) of tables to copy.",
    ),
    ConfigKey::new(
        "table.exclude.list",
        List,
        Medium,
        "Database",
        "Regular expressions matching fully-qualified names of tables not to copy (needs table.include.list).",
    ),
    ConfigKey::new(
        "catalog.pattern",
        String,
        Medium,
        "Database",
        "Catalog pattern to fetch table metadata from the database (in PostgreSQL: the database).",
    ),
    ConfigKey::new(
        "schema.pattern",
        String,
        High,
        "Database",
        "Schema pattern (SQL LIKE) to fetch table metadata from the database; unset means every schema.",
    ),
    ConfigKey::new(
        "numeric.precision.mapping",
        Boolean,
        Low,
        "Database",
        "Deprecated: map NUMERIC values by precision to integral types (numeric.mapping=precision_only).",
    )
    .default("false"),
    ConfigKey::new(
        "numeric.mapping",
        String,
        Low,
        "Database",
        "Map NUMERIC values by precision and optionally scale to integral or decimal types.",
    )
    .one_of(&["none", "precision_only", "best_fit", "best_fit_eager_double"]),
    ConfigKey::new(
        "dialect.name",
        String,
        Low,
        "Database",
        "The database dialect; empty means found from the JDBC URL.",
    )
    .default(""),
    ConfigKey::new(
        "date.calendar.system",
        String,
        Low,
        "Database",
        "Calendar for DATE and TIMESTAMP values before 1582-10-15: LEGACY (Julian) or PROLEPTIC_GREGORIAN.",
    )
    .default("legacy")
    .one_of(&["legacy", "proleptic_gregorian"]),
    // ---- Mode ----
    ConfigKey::new(
        "mode",
        String,
        High,
        "Mode",
        "How each table is polled: bulk, incrementing, timestamp or timestamp+incrementing.",
    )
    .default("")
    .one_of(&["", "bulk", "timestamp", "incrementing", "timestamp+incrementing"]),
    ConfigKey::new(
        "incrementing.column.name",
        String,
        Medium,
        "Mode",
        "The strictly incrementing column used to detect new rows; empty means the auto-incrementing column.",
    )
    .default(""),
    ConfigKey::new(
        "timestamp.column.name",
        List,
        Medium,
        "Mode",
        "Comma separated list of timestamp columns, COALESCE'd in order, to detect new or modified rows.",
    )
    .default(""),
    ConfigKey::new(
        "timestamp.columns.mapping",
        List,
        Medium,
        "Mode",
        "Table regex to timestamp columns mappings: regex1:[col1|col2],regex2:[col3].",
    ),
    ConfigKey::new(
        "incrementing.column.mapping",
        List,
        Medium,
        "Mode",
        "Table regex to incrementing column mappings: regex1:col1,regex2:col2.",
    ),
    ConfigKey::new(
        "timestamp.initial",
        Long,
        Low,
        "Mode",
        "The epoch timestamp (ms) used for initial queries with timestamp criteria; -1 is the current time.",
    ),
    ConfigKey::new(
        "validate.non.null",
        Boolean,
        Low,
        "Mode",
        "Check that the incrementing and timestamp columns are NOT NULL before starting.",
    )
    .default("true"),
    ConfigKey::new(
        "query",
        String,
        Medium,
        "Mode",
        "The query selecting new or updated rows; the connector appends its WHERE and ORDER BY to it.",
    )
    .default(""),
    ConfigKey::new(
        "query.masked",
        Password,
        Medium,
        "Mode",
        "Same as query, but the query string is masked in logs and responses.",
    )
    .default(""),
    ConfigKey::new(
        "quote.sql.identifiers",
        String,
        Medium,
        "Mode",
        "When to quote table names, column names, and other identifiers in SQL statements.",
    )
    .default("always")
    .one_of(&["always", "never"]),
    ConfigKey::new(
        "query.suffix",
        String,
        Low,
        "Mode",
        "Suffix to append at the end of the generated query.",
    )
    .default(""),
    ConfigKey::new(
        "transaction.isolation.mode",
        String,
        Low,
        "Mode",
        "The transaction isolation level the queries run at; DEFAULT leaves the server's default.",
    )
    .default("default")
    .one_of(&[
        "default",
        "read_uncommitted",
        "read_committed",
        "repeatable_read",
        "serializable",
        "sql_server_snapshot",
    ]),
    ConfigKey::new(
        "query.retry.attempts",
        Int,
        Low,
        "Mode",
        "Number of times to retry SQL exceptions encountered when executing queries.",
    )
    .default("-1")
    .unsupported("failed queries are retried as the task's transient errors are (errors.max.retries, errors.retry.timeout)"),
    // ---- Connector ----
    ConfigKey::new(
        "table.types",
        List,
        Low,
        "Connector",
        "Table types to copy: TABLE, VIEW, MATERIALIZED VIEW, FOREIGN TABLE, PARTITIONED TABLE, ...",
    )
    .default("TABLE"),
    ConfigKey::new(
        "poll.interval.ms",
        Int,
        High,
        "Connector",
        "Frequency in ms to poll for new data in each table.",
    )
    .default("5000")
    .range(0, I32_MAX),
    ConfigKey::new(
        "batch.max.rows",
        Int,
        Low,
        "Connector",
        "Maximum number of rows to include in a single batch when polling for new data.",
    )
    .default("1000")
    .range(1, I32_MAX),
    ConfigKey::new(
        "max.buffer.size",
        Int,
        Low,
        "Connector",
        "The maximum number of records from the source database that can be buffered into memory.",
    )
    .default("0")
    .not_applicable("Sluice holds at most a few batches between the database and the topic and stops reading when the topic side is slower"),
    ConfigKey::new(
        "poll.linger.ms",
        Long,
        Low,
        "Connector",
        "The maximum time to wait for a record before returning an empty batch.",
    )
    .default("5000")
    .not_applicable("Sluice's source returns within about a second whether or not rows arrived"),
    ConfigKey::new(
        "table.monitoring.startup.polling.limit.ms",
        Long,
        Low,
        "Connector",
        "The amount of time to wait for the table monitoring thread to complete initial table read.",
    )
    .default("10000")
    .not_applicable("Sluice reads the table list before the first poll"),
    ConfigKey::new(
        "table.poll.interval.ms",
        Long,
        Low,
        "Connector",
        "Frequency in ms to poll for new or removed tables.",
    )
    .default("60000")
    .range(0, i64::MAX),
    ConfigKey::new(
        "topic.prefix",
        String,
        High,
        "Connector",
        "Prefix prepended to table names for topic names; with a query, the whole topic name.",
    )
    .default(""),
    ConfigKey::new(
        "timestamp.delay.interval.ms",
        Long,
        High,
        "Connector",
        "How long to wait after a row with a certain timestamp appears before including it.",
    )
    .default("0")
    .range(0, i64::MAX),
    ConfigKey::new(
        "db.timezone",
        String,
        Medium,
        "Connector",
        "Name of the JDBC timezone used in the connector when querying with time-based criteria.",
    )
    .default("UTC"),
    ConfigKey::new(
        "timestamp.granularity",
        String,
        Low,
        "Connector",
        "How timestamp columns are represented: connect_logical, micros_long, nanos_string, ...",
    )
    .default("connect_logical")
    .one_of(&[
        "connect_logical",
        "micros_long",
        "micros_string",
        "micros_iso_datetime_string",
        "nanos_long",
        "nanos_string",
        "nanos_iso_datetime_string",
    ]),
];
