//! Typed configuration of the Debezium Postgres connector
//! (`io.debezium.connector.postgresql.PostgresConnector`).

/// `decimal.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DecimalHandlingMode {
    #[default]
    Precise,
    Double,
    String,
}

/// `time.precision.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimePrecisionMode {
    #[default]
    Adaptive,
    AdaptiveTimeMicroseconds,
    Connect,
}

/// `binary.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BinaryHandlingMode {
    #[default]
    Bytes,
    Base64,
    Base64UrlSafe,
    Hex,
}

/// `interval.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IntervalHandlingMode {
    #[default]
    Numeric,
    String,
}

/// `hstore.handling.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HstoreHandlingMode {
    #[default]
    Json,
    Map,
}

/// The options that decide how a Postgres value becomes a Connect value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeOptions {
    pub decimal: DecimalHandlingMode,
    pub time_precision: TimePrecisionMode,
    pub binary: BinaryHandlingMode,
    pub interval: IntervalHandlingMode,
    pub hstore: HstoreHandlingMode,
}

/// `snapshot.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot once when there is no offset, then stream.
    Initial,
    /// Snapshot on every start, then stream.
    Always,
    /// Stream only (`never` is the old spelling).
    NoData,
    /// Snapshot once, then stop.
    InitialOnly,
    /// Snapshot when there is no offset or the stored offset is no longer in the slot.
    WhenNeeded,
}

/// `publication.autocreate.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicationAutocreateMode {
    AllTables,
    Disabled,
    /// Sluice's default: only the included tables, with column lists for excluded columns.
    Filtered,
    NoTables,
}

/// Operations listed in `skipped.operations`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkippedOperations {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub truncate: bool,
}

/// A password that never prints.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(crate::raw::MASK)
    }
}

/// `message.key.columns`: `<table regex>:<col>,<col>;<table regex>:<col>`.
#[derive(Debug, Clone)]
pub struct MessageKeyColumns {
    pub table: regex::Regex,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct PostgresConfig {
    pub name: String,
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub password: Secret,
    pub dbname: String,
    /// `database.sslmode`, `database.sslrootcert`, `database.sslcert`, `database.sslkey`,
    /// `database.sslpassword`: for both the query and the replication connection.
    pub tls: crate::tls::PgTls,
    pub topic_prefix: String,
    pub slot_name: String,
    pub publication_name: String,
    pub publication_autocreate: PublicationAutocreateMode,
    pub slot_drop_on_stop: bool,
    pub schema_include: Vec<regex::Regex>,
    pub schema_exclude: Vec<regex::Regex>,
    pub table_include: Vec<regex::Regex>,
    /// `table.include.list` as written, for snapshot order (Debezium reads tables in this order).
    pub table_include_raw: Vec<String>,
    pub table_exclude: Vec<regex::Regex>,
    pub column_include: Vec<regex::Regex>,
    pub column_exclude: Vec<regex::Regex>,
    /// `column.propagate.source.type`: `schema.table.column` patterns.
    pub propagate_columns: Vec<regex::Regex>,
    /// `datatype.propagate.source.type`: `schema.table.typename` patterns.
    pub propagate_datatypes: Vec<regex::Regex>,
    pub snapshot_mode: SnapshotMode,
    pub heartbeat_interval_ms: u64,
    pub heartbeat_topics_prefix: String,
    pub heartbeat_action_query: Option<String>,
    pub types: TypeOptions,
    pub tombstones_on_delete: bool,
    pub message_key_columns: Vec<MessageKeyColumns>,
    pub skipped: SkippedOperations,
    /// `provide.transaction.metadata`: the transaction topic's name
    /// (`<topic.prefix>.<topic.transaction>`), `None` when off.
    pub transaction_topic: Option<String>,
    pub max_batch_size: usize,
    pub max_queue_size: usize,
    /// `snapshot.max.threads`: connections reading each table's snapshot at once (as block
    /// ranges of the table, in the same exported snapshot).
    pub snapshot_max_threads: usize,
    pub unavailable_value_placeholder: String,
    pub status_update_interval_ms: u64,
    /// `slot.drop.on.delete` (Sluice's): deleting the connector drops its slot and publication.
    pub slot_drop_on_delete: bool,
    /// `slot.retained.wal.warn.bytes` (Sluice's): warn above this much retained WAL (0: never).
    pub slot_retained_wal_warn_bytes: u64,
}

/// The `database.ssl*` keys, with libpq's defaults (`prefer`, `~/.postgresql/root.crt` when it
/// exists).
fn read_tls(r: &mut crate::KeyReader<'_>) -> crate::tls::PgTls {
    use crate::tls::{default_root_cert, problems, root_cert, RootCert, SslMode};
    let names: Vec<(&str, SslMode)> = SslMode::NAMES.to_vec();
    let mode = r.choice("database.sslmode", &names);
    let tls = crate::tls::PgTls {
        mode,
        root_cert: r
            .get("database.sslrootcert")
            .map(root_cert)
            .or_else(|| default_root_cert().map(RootCert::File)),
        cert: r.get("database.sslcert").map(std::path::PathBuf::from),
        key: r.get("database.sslkey").map(std::path::PathBuf::from),
        password: r.get("database.sslpassword").map(|p| Secret(p.to_owned())),
    };
    for (setting, message) in problems(&tls) {
        let key = format!("database.{setting}");
        let value = r.raw().get(&key).map(str::to_owned);
        r.issue(&key, value.as_deref(), message);
    }
    tls
}

/// Older decoding plugins whose events Debezium builds exactly as from pgoutput: a config
/// naming one runs on pgoutput (built into PostgreSQL 10+) with a warning.
const OTHER_PLUGINS: &[&str] = &[
    "decoderbufs",
    "wal2json",
    "wal2json_rds",
    "wal2json_streaming",
    "wal2json_rds_streaming",
];

impl PostgresConfig {
    pub(crate) fn read(r: &mut crate::KeyReader<'_>) -> Self {
        use PublicationAutocreateMode as P;
        let name = r.raw().name.clone();
        let hostname = r.required_string("database.hostname").unwrap_or_default();
        let port = r.int("database.port") as u16;
        let user = r.required_string("database.user").unwrap_or_default();
        let password = Secret(r.string("database.password"));
        let dbname = r.required_string("database.dbname").unwrap_or_default();
        let topic_prefix = match r.get("topic.prefix") {
            Some(v) => v.to_owned(),
            None => {
                r.issue("topic.prefix", None, "Missing required configuration \"topic.prefix\" which has no default value (it names the topics: <topic.prefix>.<schema>.<table>).");
                String::new()
            }
        };
        if r.raw().get("topic.prefix").is_none() && r.raw().get("database.server.name").is_some() {
            r.warn(
                "database.server.name",
                None,
                "is Debezium 1.x's name for topic.prefix; read as topic.prefix",
            );
        }
        if !topic_prefix.is_empty()
            && !topic_prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            r.issue("topic.prefix", Some(&topic_prefix), "may contain only letters, digits, '.', '_' and '-' (it becomes part of Kafka topic names)");
        }
        if let Some(plugin) = r.get("plugin.name") {
            if OTHER_PLUGINS.iter().any(|p| p.eq_ignore_ascii_case(plugin)) {
                r.warn("plugin.name", Some(plugin), "Sluice decodes pgoutput, the plugin built into PostgreSQL 10+; the change events are the same as with this plugin");
            } else if !plugin.eq_ignore_ascii_case("pgoutput") {
                r.issue("plugin.name", Some(plugin), "Sluice decodes pgoutput only (the plugin built into PostgreSQL 10+); set plugin.name=pgoutput");
            }
        }
        let tls = read_tls(r);
        let slot_name = r.string("slot.name");
        if !slot_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || slot_name.len() > 63
        {
            r.issue("slot.name", Some(&slot_name), "replication slot names may contain only lower case letters, digits and '_' (at most 63 characters)");
        }
        let publication_name = r.string("publication.name");
        // Sluice's default is `filtered` (Debezium's is all_tables): only the captured tables.
        let publication_autocreate = match r.get("publication.autocreate.mode") {
            None => P::Filtered,
            Some(_) => r.choice(
                "publication.autocreate.mode",
                &[
                    ("all_tables", P::AllTables),
                    ("disabled", P::Disabled),
                    ("filtered", P::Filtered),
                    ("no_tables", P::NoTables),
                ],
            ),
        };
        let schema_include = r.regex_list("schema.include.list");
        let schema_exclude = r.regex_list("schema.exclude.list");
        let table_include = r.regex_list("table.include.list");
        let table_include_raw = r.list("table.include.list");
        let table_exclude = r.regex_list("table.exclude.list");
        let column_include = r.regex_list("column.include.list");
        let column_exclude = r.regex_list("column.exclude.list");
        let propagate_columns = r.regex_list("column.propagate.source.type");
        let propagate_datatypes = r.regex_list("datatype.propagate.source.type");
        for (a, b, ia, ib) in [
            (
                "schema.include.list",
                "schema.exclude.list",
                !schema_include.is_empty(),
                !schema_exclude.is_empty(),
            ),
            (
                "table.include.list",
                "table.exclude.list",
                !table_include.is_empty(),
                !table_exclude.is_empty(),
            ),
            (
                "column.include.list",
                "column.exclude.list",
                !column_include.is_empty(),
                !column_exclude.is_empty(),
            ),
        ] {
            if ia && ib {
                let v = r.get(b);
                r.issue(
                    b,
                    v,
                    format!("\"{a}\" is already specified; set only one of {a} and {b}"),
                );
            }
        }
        let snapshot_mode = r.choice(
            "snapshot.mode",
            &[
                ("initial", SnapshotMode::Initial),
                ("always", SnapshotMode::Always),
                ("no_data", SnapshotMode::NoData),
                ("never", SnapshotMode::NoData),
                ("initial_only", SnapshotMode::InitialOnly),
                ("when_needed", SnapshotMode::WhenNeeded),
            ],
        );
        let types = TypeOptions {
            decimal: r.choice(
                "decimal.handling.mode",
                &[
                    ("precise", DecimalHandlingMode::Precise),
                    ("double", DecimalHandlingMode::Double),
                    ("string", DecimalHandlingMode::String),
                ],
            ),
            time_precision: r.choice(
                "time.precision.mode",
                &[
                    ("adaptive", TimePrecisionMode::Adaptive),
                    (
                        "adaptive_time_microseconds",
                        TimePrecisionMode::AdaptiveTimeMicroseconds,
                    ),
                    ("connect", TimePrecisionMode::Connect),
                ],
            ),
            binary: r.choice(
                "binary.handling.mode",
                &[
                    ("bytes", BinaryHandlingMode::Bytes),
                    ("base64", BinaryHandlingMode::Base64),
                    ("base64-url-safe", BinaryHandlingMode::Base64UrlSafe),
                    ("hex", BinaryHandlingMode::Hex),
                ],
            ),
            interval: r.choice(
                "interval.handling.mode",
                &[
                    ("numeric", IntervalHandlingMode::Numeric),
                    ("string", IntervalHandlingMode::String),
                ],
            ),
            hstore: r.choice(
                "hstore.handling.mode",
                &[
                    ("json", HstoreHandlingMode::Json),
                    ("map", HstoreHandlingMode::Map),
                ],
            ),
        };
        let mut skipped = SkippedOperations::default();
        let skipped_raw = r.string("skipped.operations");
        for op in skipped_raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            match op {
                "c" => skipped.create = true,
                "u" => skipped.update = true,
                "d" => skipped.delete = true,
                "t" => skipped.truncate = true,
                "none" => {}
                other => r.issue(
                    "skipped.operations",
                    Some(other),
                    "allowed operations are c, u, d, t, or none",
                ),
            }
        }
        let mut message_key_columns = Vec::new();
        if let Some(v) = r.get("message.key.columns") {
            for part in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let Some((table, cols)) = part.rsplit_once(':') else {
                    r.issue(
                        "message.key.columns",
                        Some(part),
                        "expected <fully-qualified table regex>:<column>,<column>;...",
                    );
                    continue;
                };
                let columns: Vec<String> = cols
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                match regex::RegexBuilder::new(&format!("^(?:{})$", table.trim()))
                    .case_insensitive(true)
                    .build()
                {
                    Ok(table) if !columns.is_empty() => {
                        message_key_columns.push(MessageKeyColumns { table, columns })
                    }
                    Ok(_) => r.issue(
                        "message.key.columns",
                        Some(part),
                        "no key columns given after ':'",
                    ),
                    Err(e) => r.issue(
                        "message.key.columns",
                        Some(part),
                        format!("not a valid regular expression: {e}"),
                    ),
                }
            }
        }
        let max_batch_size = r.int("max.batch.size") as usize;
        let max_queue_size = r.int("max.queue.size") as usize;
        if max_queue_size <= max_batch_size {
            let v = r.get("max.queue.size");
            r.issue("max.queue.size", v, "must be larger than max.batch.size");
        }
        // Debezium's pattern keys (`column.mask.with.<n>.chars`, ...).
        let masking: Vec<(String, String)> = r
            .raw()
            .props
            .iter()
            .filter(|(k, _)| k.starts_with("column.mask.") || k.starts_with("column.truncate."))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, v) in masking {
            r.issue(&k, Some(&v), "column masking and truncation are not supported by Sluice; leave the column out with column.exclude.list");
        }
        let transaction_topic = format!("{topic_prefix}.{}", r.string("topic.transaction"));
        let transaction_topic = r
            .bool("provide.transaction.metadata")
            .then_some(transaction_topic);
        PostgresConfig {
            name,
            hostname,
            port,
            user,
            password,
            dbname,
            tls,
            topic_prefix,
            slot_name,
            publication_name,
            publication_autocreate,
            slot_drop_on_stop: r.bool("slot.drop.on.stop"),
            schema_include,
            schema_exclude,
            table_include,
            table_include_raw,
            table_exclude,
            column_include,
            column_exclude,
            propagate_columns,
            propagate_datatypes,
            snapshot_mode,
            heartbeat_interval_ms: r.int("heartbeat.interval.ms") as u64,
            heartbeat_topics_prefix: r.string("topic.heartbeat.prefix"),
            heartbeat_action_query: r.get("heartbeat.action.query").map(str::to_owned),
            types,
            tombstones_on_delete: r.bool("tombstones.on.delete"),
            message_key_columns,
            skipped,
            transaction_topic,
            max_batch_size,
            max_queue_size,
            snapshot_max_threads: r.int("snapshot.max.threads") as usize,
            unavailable_value_placeholder: r.string("unavailable.value.placeholder"),
            status_update_interval_ms: r.int("status.update.interval.ms") as u64,
            slot_drop_on_delete: r.bool("slot.drop.on.delete"),
            slot_retained_wal_warn_bytes: r.int("slot.retained.wal.warn.bytes") as u64,
        }
    }

    /// Whether a table (`schema`, `table`) is captured, per the schema/table include and
    /// exclude lists. System schemas are never captured.
    pub fn captures_table(&self, schema: &str, table: &str) -> bool {
        if schema == "pg_catalog"
            || schema == "information_schema"
            || schema.starts_with("pg_toast")
        {
            return false;
        }
        let full = format!("{schema}.{table}");
        let schema_ok = (self.schema_include.is_empty()
            || self.schema_include.iter().any(|r| r.is_match(schema)))
            && !self.schema_exclude.iter().any(|r| r.is_match(schema));
        let table_ok = (self.table_include.is_empty()
            || self.table_include.iter().any(|r| r.is_match(&full)))
            && !self.table_exclude.iter().any(|r| r.is_match(&full));
        schema_ok && table_ok
    }

    /// Whether a column (`schema.table.column`) appears in events.
    pub fn captures_column(&self, schema: &str, table: &str, column: &str) -> bool {
        let full = format!("{schema}.{table}.{column}");
        (self.column_include.is_empty() || self.column_include.iter().any(|r| r.is_match(&full)))
            && !self.column_exclude.iter().any(|r| r.is_match(&full))
    }

    /// Whether a column's value schema carries its source type (Debezium's
    /// `PropagateSourceMetadataToSchemaParameter`); `type_name` as the JDBC driver names it.
    pub fn propagates_source_type(
        &self,
        schema: &str,
        table: &str,
        column: &str,
        type_name: &str,
    ) -> bool {
        let column = format!("{schema}.{table}.{column}");
        let datatype = format!("{schema}.{table}.{type_name}");
        self.propagate_columns.iter().any(|r| r.is_match(&column))
            || self
                .propagate_datatypes
                .iter()
                .any(|r| r.is_match(&datatype))
    }

    /// Columns forming the message key of a table when `message.key.columns` names it.
    pub fn key_columns_for(&self, schema: &str, table: &str) -> Option<&[String]> {
        let full = format!("{schema}.{table}");
        self.message_key_columns
            .iter()
            .find(|m| m.table.is_match(&full))
            .map(|m| m.columns.as_slice())
    }

    /// Snapshot order: tables in `table.include.list` order (Debezium reads them so), the
    /// rest by name.
    pub fn snapshot_rank(&self, schema: &str, table: &str) -> usize {
        let full = format!("{schema}.{table}");
        self.table_include
            .iter()
            .position(|r| r.is_match(&full))
            .unwrap_or(self.table_include.len())
    }
}

#[cfg(test)]
mod tests {
    use crate::{ConfigError, ConnectorConfig, ConnectorSettings, RawConfig};

    fn parse(json: &str) -> Result<ConnectorConfig, ConfigError> {
        ConnectorSettings::parse(&RawConfig::from_json(json, "t").unwrap()).map(|s| s.connector)
    }

    const BASE: &str = r#""connector.class":"io.debezium.connector.postgresql.PostgresConnector","database.hostname":"h","database.user":"u","database.password":"s3cret","database.dbname":"d","topic.prefix":"p""#;

    #[test]
    fn defaults_and_filters() {
        let c = parse(&format!(
            r#"{{"name":"c",{BASE},"table.include.list":"public.customer,public.addr.*","column.exclude.list":"public.customer.email"}}"#
        ))
        .unwrap();
        let ConnectorConfig::Postgres(c) = c else {
            panic!("not a Postgres config")
        };
        assert_eq!(c.port, 5432);
        assert_eq!(c.slot_name, "debezium");
        assert_eq!(c.publication_name, "dbz_publication");
        assert_eq!(
            c.publication_autocreate,
            super::PublicationAutocreateMode::Filtered
        );
        assert!(c.captures_table("public", "customer"));
        assert!(c.captures_table("PUBLIC", "Address"));
        assert!(!c.captures_table("public", "customers"));
        assert!(!c.captures_table("public", "film"));
        assert!(!c.captures_column("public", "customer", "email"));
        assert!(c.captures_column("public", "customer", "email2"));
        assert!(c.skipped.truncate && !c.skipped.delete);
        assert_eq!(c.snapshot_rank("public", "address"), 1);
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn every_problem_is_reported_with_key_value_and_allowed() {
        let err = parse(&format!(
            r#"{{"name":"c",{BASE},"database.port":"54x","snapshot.mode":"sometimes","plugin.name":"nope","table.include.list":"a","table.exclude.list":"b","decimal.handling.mode":"exact","column.exclude.list":"(unclosed"}}"#
        ))
        .unwrap_err()
        .to_string();
        for want in [
            "Invalid value 54x for configuration database.port: Not a number",
            "Invalid value sometimes for configuration snapshot.mode: Value must be one of initial, always, no_data, never, initial_only, when_needed",
            "Invalid value nope for configuration plugin.name",
            "table.exclude.list",
            "Invalid value exact for configuration decimal.handling.mode: Value must be one of precise, double, string",
            "Invalid value (unclosed for configuration column.exclude.list: not a valid regular expression",
        ] {
            assert!(err.contains(want), "missing {want:?} in:\n{err}");
        }
        assert!(!err.contains("s3cret"));
        let missing =
            parse(r#"{"connector.class":"io.debezium.connector.postgresql.PostgresConnector"}"#)
                .unwrap_err()
                .to_string();
        for key in [
            "database.hostname",
            "database.user",
            "database.dbname",
            "topic.prefix",
        ] {
            assert!(
                missing.contains(&format!("Missing required configuration \"{key}\"")),
                "{missing}"
            );
        }
        let unknown = parse(r#"{"connector.class":"com.example.Nope"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            unknown.contains("Invalid value com.example.Nope for configuration connector.class"),
            "{unknown}"
        );
    }
}
