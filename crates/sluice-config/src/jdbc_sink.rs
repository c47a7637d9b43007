//! Typed configuration of the JDBC sinks into PostgreSQL: Confluent's
//! `io.confluent.connect.jdbc.JdbcSinkConnector` and Debezium's
//! `io.debezium.connector.jdbc.JdbcSinkConnector` read into one struct (they name the same
//! ideas differently), with the checks both make before a task starts. Nothing here connects.

use crate::jdbc_source::{parse_url, time_zone, ConnectionTarget, QuoteMethod};
use crate::keys::KeyReader;
use crate::postgres::Secret;
use crate::tls::{self, PgTls, SslMode};

/// Which connector's conventions apply where the two differ (table names, envelopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// Flat records (after `ExtractNewRecordState`); `${topic}` is the table name as is.
    Confluent,
    /// Debezium envelopes (`op`, `before`, `after`) or flat records; `${topic}`'s dots become
    /// underscores.
    Debezium,
}

/// `insert.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsertMode {
    Insert,
    Upsert,
    Update,
}

/// `pk.mode` / `primary.key.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkMode {
    None,
    Kafka,
    RecordKey,
    RecordValue,
}

#[derive(Debug, Clone)]
pub struct JdbcSinkConfig {
    pub flavour: Flavour,
    pub connection: ConnectionTarget,
    pub tls: PgTls,
    pub connection_attempts: u32,
    pub connection_backoff_ms: u64,
    pub insert_mode: InsertMode,
    pub pk_mode: PkMode,
    pub pk_fields: Vec<String>,
    /// Confluent's `fields.whitelist` (field names); Debezium's `field.include.list`
    /// (`topic:field`, kept whole).
    pub fields_include: Vec<String>,
    /// Debezium's `field.exclude.list` (`topic:field`).
    pub fields_exclude: Vec<String>,
    pub delete_enabled: bool,
    pub truncate_enabled: bool,
    /// `auto.create` / `schema.evolution=basic`
    pub auto_create: bool,
    /// `auto.evolve` / `schema.evolution=basic`
    pub auto_evolve: bool,
    pub table_name_format: String,
    pub quote: QuoteMethod,
    pub batch_size: usize,
    pub use_reduction_buffer: bool,
    /// `db.timezone` / `database.time_zone`: how instants are written into columns without a
    /// zone.
    pub db_timezone: jiff::tz::TimeZone,
    /// `date.calendar.system=legacy`: Connect `Date`/`Timestamp` values before 1582-10-15
    /// are Julian dates.
    pub legacy_calendar: bool,
    pub replace_null_with_default: bool,
    /// `sluice.transaction.topic`: whole source transactions in commit order.
    pub transaction_topic: Option<String>,
    /// `sluice.offsets.table`
    pub offsets_table: String,
}

impl JdbcSinkConfig {
    pub(crate) fn read(r: &mut KeyReader<'_>, flavour: Flavour) -> Self {
        let (user_key, pk_mode_key, pk_fields_key, tz_key) = match flavour {
            Flavour::Confluent => ("connection.user", "pk.mode", "pk.fields", "db.timezone"),
            Flavour::Debezium => (
                "connection.username",
                "primary.key.mode",
                "primary.key.fields",
                "database.time_zone",
            ),
        };
        let (connection, tls) = connection(r, user_key);
        let insert_mode = r.choice(
            "insert.mode",
            &[
                ("insert", InsertMode::Insert),
                ("upsert", InsertMode::Upsert),
                ("update", InsertMode::Update),
            ],
        );
        let pk_mode = r.choice(
            pk_mode_key,
            &[
                ("none", PkMode::None),
                ("kafka", PkMode::Kafka),
                ("record_key", PkMode::RecordKey),
                ("record_value", PkMode::RecordValue),
            ],
        );
        let mut pk_fields = r.list(pk_fields_key);
        if pk_mode == PkMode::Kafka {
            if pk_fields.is_empty() {
                pk_fields = ["__connect_topic", "__connect_partition", "__connect_offset"]
                    .map(String::from)
                    .to_vec();
            } else if pk_fields.len() != 3 {
                let v = pk_fields.join(",");
                r.issue(pk_fields_key, Some(&v), format!("{pk_mode_key}=kafka needs exactly three names (topic, partition, offset columns), or none for __connect_topic,__connect_partition,__connect_offset"));
            }
        }
        let delete_enabled = r.bool("delete.enabled");
        if delete_enabled && pk_mode != PkMode::RecordKey {
            r.issue(
                "delete.enabled",
                Some("true"),
                format!("Deletes are only supported for {pk_mode_key}=record_key"),
            );
        }
        if insert_mode != InsertMode::Insert && pk_mode == PkMode::None {
            let mode = r.get("insert.mode").unwrap_or("");
            r.issue(
                "insert.mode",
                Some(mode),
                format!("{mode} needs the primary key: set {pk_mode_key} to record_key, record_value or kafka"),
            );
        }
        let (fields_include, fields_exclude, truncate_enabled, auto_create, auto_evolve) =
            match flavour {
                Flavour::Confluent => {
                    r.choice(
                        "dialect.name",
                        &[("", ()), ("postgresqldatabasedialect", ())],
                    );
                    r.choice("date.timezone", &[("db_timezone", ()), ("utc", ())]);
                    r.string("timestamp.precision.mode");
                    r.list("timestamp.fields.list");
                    r.list("table.types");
                    r.int("max.retries");
                    r.int("retry.backoff.ms");
                    r.bool("trim.sensitive.log");
                    r.bool("mssql.use.merge.holdlock");
                    (
                        r.list("fields.whitelist"),
                        Vec::new(),
                        false,
                        r.bool("auto.create"),
                        r.bool("auto.evolve"),
                    )
                }
                Flavour::Debezium => {
                    for k in [
                        "connection.provider",
                        "collection.naming.strategy",
                        "column.naming.strategy",
                        "dialect.postgres.postgis.schema",
                    ] {
                        r.string(k);
                    }
                    for k in [
                        "connection.pool.min_size",
                        "connection.pool.max_size",
                        "connection.pool.acquire_increment",
                        "connection.pool.timeout",
                    ] {
                        r.int(k);
                    }
                    let include = r.list("field.include.list");
                    let exclude = r.list("field.exclude.list");
                    if !include.is_empty() && !exclude.is_empty() {
                        let v = r.get("field.exclude.list").map(str::to_owned);
                        r.issue(
                            "field.exclude.list",
                            v.as_deref(),
                            "cannot be set together with field.include.list",
                        );
                    }
                    let basic = r.choice("schema.evolution", &[("none", false), ("basic", true)]);
                    (include, exclude, r.bool("truncate.enabled"), basic, basic)
                }
            };
        let table_name_format = match flavour {
            Flavour::Confluent => r.string("table.name.format"),
            Flavour::Debezium => r.string("collection.name.format"),
        };
        let quote = match flavour {
            Flavour::Confluent => r.choice(
                "quote.sql.identifiers",
                &[
                    ("always", QuoteMethod::Always),
                    ("never", QuoteMethod::Never),
                ],
            ),
            // Debezium folds unquoted names as the database would; quoting keeps them as given.
            Flavour::Debezium => {
                if r.bool("quote.identifiers") {
                    QuoteMethod::Always
                } else {
                    QuoteMethod::Never
                }
            }
        };
        let tz_name = r.string(tz_key);
        let db_timezone = time_zone(&tz_name).unwrap_or_else(|| {
            r.issue(
                tz_key,
                Some(&tz_name),
                "not a time zone (an IANA name such as Europe/Paris, an offset such as +02:00, or UTC)",
            );
            jiff::tz::TimeZone::UTC
        });
        let legacy_calendar = flavour == Flavour::Confluent
            && r.choice(
                "date.calendar.system",
                &[("legacy", true), ("proleptic_gregorian", false)],
            );
        let replace_null_with_default =
            flavour == Flavour::Confluent && r.bool("replace.null.with.default");
        let use_reduction_buffer = flavour == Flavour::Debezium && r.bool("use.reduction.buffer");
        let batch_size = r.int("batch.size").max(1) as usize;
        let offsets_table = r.string("sluice.offsets.table");
        let transaction_topic = transaction_topic(r, flavour);
        // Debezium's pool retries on its own; the same three attempts ten seconds apart.
        let (connection_attempts, connection_backoff_ms) = match flavour {
            Flavour::Confluent => (
                r.int("connection.attempts").max(1) as u32,
                r.int("connection.backoff.ms").max(0) as u64,
            ),
            Flavour::Debezium => (3, 10_000),
        };
        JdbcSinkConfig {
            flavour,
            connection,
            tls,
            connection_attempts,
            connection_backoff_ms,
            insert_mode,
            pk_mode,
            pk_fields,
            fields_include,
            fields_exclude,
            delete_enabled,
            truncate_enabled,
            auto_create,
            auto_evolve,
            table_name_format,
            quote,
            batch_size,
            use_reduction_buffer,
            db_timezone,
            legacy_calendar,
            replace_null_with_default,
            offsets_table,
            transaction_topic,
        }
    }
}

/// `sluice.transaction.topic`: Debezium envelopes only, and a topic the connector consumes.
fn transaction_topic(r: &mut KeyReader<'_>, flavour: Flavour) -> Option<String> {
    const KEY: &str = "sluice.transaction.topic";
    let topic = r.get(KEY).filter(|t| !t.is_empty())?.to_owned();
    if flavour == Flavour::Confluent {
        r.issue(KEY, Some(&topic), "the transaction-consistent mode reads the transaction block of Debezium envelopes: use io.debezium.connector.jdbc.JdbcSinkConnector");
    }
    let props = &r.raw().props;
    let consumed = match (props.get("topics"), props.get("topics.regex")) {
        (Some(list), _) if !list.trim().is_empty() => list.split(',').any(|t| t.trim() == topic),
        (_, Some(re)) => {
            regex::Regex::new(&format!("^(?:{re})$")).is_ok_and(|re| re.is_match(&topic))
        }
        _ => true,
    };
    if !consumed {
        r.issue(
            KEY,
            Some(&topic),
            "must be one of the topics the connector consumes (topics or topics.regex)",
        );
    }
    Some(topic)
}

/// `connection.url` with the user and password keys; the URL's `ssl*` parameters become the
/// TLS settings as libpq reads them (pgjdbc's `ssl=true` means `verify-full`, as in pgjdbc).
fn connection(r: &mut KeyReader<'_>, user_key: &str) -> (ConnectionTarget, PgTls) {
    let url = r.string("connection.url");
    let mut target = ConnectionTarget {
        hosts: vec![("localhost".into(), 5432)],
        dbname: String::new(),
        user: r.string(user_key),
        password: Secret(r.string("connection.password")),
        params: Vec::new(),
    };
    let mut tls = PgTls::default();
    if url.is_empty() {
        return (target, tls);
    }
    let shown = crate::jdbc_source::redact_url(&url);
    match parse_url(&url) {
        Ok(parsed) => {
            target.hosts = parsed.hosts;
            target.dbname = parsed.dbname;
            if let Some(u) = parsed.user {
                target.user = u;
            }
            if let Some(p) = parsed.password {
                target.password = Secret(p);
            }
            let mut ssl_true = false;
            let mut mode_set = false;
            for (k, v) in parsed.params {
                match k.as_str() {
                    "sslmode" => match SslMode::parse(&v) {
                        Some(m) => {
                            tls.mode = m;
                            mode_set = true;
                        }
                        None => r.issue(
                            "connection.url",
                            Some(&shown),
                            format!("sslmode={v} is not one of disable, allow, prefer, require, verify-ca, verify-full"),
                        ),
                    },
                    "ssl" => ssl_true = v.eq_ignore_ascii_case("true") || v.is_empty(),
                    "sslrootcert" => tls.root_cert = Some(tls::root_cert(&v)),
                    "sslcert" => tls.cert = Some(v.into()),
                    "sslkey" => tls.key = Some(v.into()),
                    "sslpassword" => tls.password = Some(Secret(v)),
                    "sslfactory" | "sslhostnameverifier" | "sslpasswordcallback" => r.issue(
                        "connection.url",
                        Some(&shown),
                        format!("{k}: Java classes cannot run in Sluice; use sslmode and sslrootcert"),
                    ),
                    _ => target.params.push((k, v)),
                }
            }
            if ssl_true && !mode_set {
                tls.mode = SslMode::VerifyFull;
            }
            if tls.root_cert.is_none() && tls.mode != SslMode::Disable {
                tls.root_cert = tls::default_root_cert().map(tls::RootCert::File);
            }
            for (setting, message) in tls::problems(&tls) {
                r.issue(
                    "connection.url",
                    Some(&shown),
                    format!("{setting}: {message}"),
                );
            }
            if target.user.is_empty() {
                r.issue(
                    user_key,
                    None,
                    format!("no user to connect as: set {user_key} (or user=... in the URL's parameters)"),
                );
            }
        }
        Err(reason) => r.issue("connection.url", Some(&shown), reason),
    }
    (target, tls)
}

#[cfg(test)]
mod tests {
    use crate::raw::RawConfig;
    use crate::{ConnectorConfig, ConnectorSettings};

    fn parse(pairs: &[(&str, &str)]) -> Result<ConnectorSettings, String> {
        let raw = RawConfig {
            name: "sink".into(),
            props: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        ConnectorSettings::parse(&raw).map_err(|e| e.to_string())
    }

    const CONFLUENT: &str = "io.confluent.connect.jdbc.JdbcSinkConnector";
    const DEBEZIUM: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";

    #[test]
    fn both_classes_read_their_own_names_for_the_same_ideas() {
        let c = parse(&[
            ("connector.class", CONFLUENT),
            ("topics", "t"),
            (
                "connection.url",
                "jdbc:postgresql://db:5433/target?sslmode=disable",
            ),
            ("connection.user", "u"),
            ("insert.mode", "upsert"),
            ("pk.mode", "record_key"),
            ("delete.enabled", "true"),
            ("auto.create", "true"),
        ])
        .unwrap();
        let ConnectorConfig::JdbcSink(c) = c.connector else {
            panic!()
        };
        assert_eq!(c.connection.hosts, vec![("db".to_string(), 5433)]);
        assert_eq!(c.insert_mode, super::InsertMode::Upsert);
        assert!(c.auto_create && !c.auto_evolve && c.delete_enabled);
        let d = parse(&[
            ("connector.class", DEBEZIUM),
            ("topics", "t"),
            ("connection.url", "jdbc:postgresql://db/target"),
            ("connection.username", "u"),
            ("primary.key.mode", "record_key"),
            ("schema.evolution", "basic"),
            ("table.name.format", "${source.table}"),
        ])
        .unwrap();
        let ConnectorConfig::JdbcSink(d) = d.connector else {
            panic!()
        };
        assert!(d.auto_create && d.auto_evolve);
        assert_eq!(d.table_name_format, "${source.table}");
        assert_eq!(d.pk_mode, super::PkMode::RecordKey);
    }

    #[test]
    fn refusals_name_the_key_the_value_and_what_is_allowed() {
        let e = parse(&[
            ("connector.class", CONFLUENT),
            ("topics", "t"),
            ("connection.url", "jdbc:postgresql://db/target"),
            ("connection.user", "u"),
            ("delete.enabled", "true"),
        ])
        .unwrap_err();
        assert!(
            e.contains("delete.enabled") && e.contains("pk.mode=record_key"),
            "{e}"
        );
        let e = parse(&[
            ("connector.class", CONFLUENT),
            ("topics", "t"),
            ("connection.url", "jdbc:postgresql://db/target"),
            ("connection.user", "u"),
            ("insert.mode", "merge"),
        ])
        .unwrap_err();
        assert!(
            e.contains("insert.mode") && e.contains("merge") && e.contains("upsert"),
            "{e}"
        );
        let e = parse(&[
            ("connector.class", DEBEZIUM),
            ("topics", "t"),
            ("connection.url", "jdbc:mysql://db/target"),
            ("connection.username", "u"),
        ])
        .unwrap_err();
        assert!(e.contains("connection.url") && e.contains("mysql"), "{e}");
        let e = parse(&[
            ("connector.class", CONFLUENT),
            ("topics", "t"),
            (
                "connection.url",
                "jdbc:postgresql://db/target?sslmode=verify-full",
            ),
            ("connection.user", "u"),
            ("connection.password", "hunter2"),
            ("table.types", "VIEW"),
        ])
        .unwrap_err();
        assert!(
            e.contains("sslrootcert") && e.contains("table.types"),
            "{e}"
        );
        assert!(!e.contains("hunter2"));
    }

    #[test]
    fn transaction_topic_is_debeziums_and_consumed() {
        let base = |class, topics: (&'static str, &'static str), user| {
            parse(&[
                ("connector.class", class),
                topics,
                ("connection.url", "jdbc:postgresql://db/target"),
                (user, "u"),
                ("sluice.transaction.topic", "pg.transaction"),
            ])
        };
        let ok = base(DEBEZIUM, ("topics.regex", "pg\\..*"), "connection.username").unwrap();
        let ConnectorConfig::JdbcSink(c) = ok.connector else {
            panic!()
        };
        assert_eq!(c.transaction_topic.as_deref(), Some("pg.transaction"));
        let e = base(
            DEBEZIUM,
            ("topics", "pg.public.a,pg.public.b"),
            "connection.username",
        )
        .unwrap_err();
        assert!(
            e.contains("sluice.transaction.topic") && e.contains("must be one of the topics"),
            "{e}"
        );
        let e = base(CONFLUENT, ("topics", "pg.transaction"), "connection.user").unwrap_err();
        assert!(
            e.contains("io.debezium.connector.jdbc.JdbcSinkConnector"),
            "{e}"
        );
    }
}
