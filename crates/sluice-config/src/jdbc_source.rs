//! Typed configuration of Confluent's JDBC source connector
//! (`io.confluent.connect.jdbc.JdbcSourceConnector`) on PostgreSQL, with the checks Confluent's
//! `JdbcSourceConnectorValidation` makes before a connector starts. Nothing here connects.

use regex::Regex;

use crate::keys::KeyReader;
use crate::postgres::Secret;

/// `mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Bulk,
    Incrementing,
    Timestamp,
    TimestampIncrementing,
}

impl Mode {
    pub fn uses_timestamp(self) -> bool {
        matches!(self, Mode::Timestamp | Mode::TimestampIncrementing)
    }

    pub fn uses_incrementing(self) -> bool {
        matches!(self, Mode::Incrementing | Mode::TimestampIncrementing)
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Bulk => "bulk",
            Mode::Incrementing => "incrementing",
            Mode::Timestamp => "timestamp",
            Mode::TimestampIncrementing => "timestamp+incrementing",
        }
    }
}

/// `numeric.mapping` (and the deprecated `numeric.precision.mapping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumericMapping {
    None,
    PrecisionOnly,
    BestFit,
    BestFitEagerDouble,
}

/// `timestamp.granularity`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampGranularity {
    ConnectLogical,
    MicrosLong,
    MicrosString,
    MicrosIsoDatetimeString,
    NanosLong,
    NanosString,
    NanosIsoDatetimeString,
}

/// `date.calendar.system`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateCalendar {
    /// java.util's hybrid calendar: Julian before 1582-10-15.
    Legacy,
    ProlepticGregorian,
}

/// `quote.sql.identifiers`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuoteMethod {
    Always,
    Never,
}

/// `transaction.isolation.mode`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Default,
    ReadUncommitted,
    ReadCommitted,
    RepeatableRead,
    Serializable,
}

/// Which tables are copied (table mode).
#[derive(Debug, Clone)]
pub enum TableFilter {
    /// No filter (only `timestamp.column.name` or `incrementing.column.name` was given).
    All,
    /// `table.whitelist`: exact names, `table`, `schema.table` or `"schema"."table"`.
    Whitelist(Vec<String>),
    /// `table.blacklist`
    Blacklist(Vec<String>),
    /// `table.include.list` / `table.exclude.list`: regexes on `schema.table`.
    Regex {
        include: Vec<Regex>,
        exclude: Vec<Regex>,
    },
}

/// Where to connect, from `connection.url` (plus `connection.user` / `connection.password`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionTarget {
    pub hosts: Vec<(String, u16)>,
    pub dbname: String,
    pub user: String,
    pub password: Secret,
    /// Driver parameters from the URL other than user, password and sslmode.
    pub params: Vec<(String, String)>,
}

impl ConnectionTarget {
    /// `host:port/db` as error messages name it (never the password).
    pub fn describe(&self) -> String {
        let hosts: Vec<String> = self.hosts.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        format!("{}/{}", hosts.join(","), self.dbname)
    }
}

/// Per-table column choices of `timestamp.columns.mapping` / `incrementing.column.mapping`.
#[derive(Debug, Clone)]
pub struct ColumnMapping<T> {
    pub table: Regex,
    pub columns: T,
}

#[derive(Debug, Clone)]
pub struct JdbcSourceConfig {
    pub connection: ConnectionTarget,
    pub connection_attempts: u32,
    pub connection_backoff_ms: u64,
    pub tables: TableFilter,
    pub catalog_pattern: Option<String>,
    pub schema_pattern: Option<String>,
    pub table_types: Vec<String>,
    pub numeric_mapping: NumericMapping,
    pub date_calendar: DateCalendar,
    pub mode: Mode,
    pub incrementing_column: String,
    pub timestamp_columns: Vec<String>,
    pub timestamp_columns_mapping: Vec<ColumnMapping<Vec<String>>>,
    pub incrementing_column_mapping: Vec<ColumnMapping<String>>,
    pub timestamp_initial: Option<i64>,
    pub validate_non_null: bool,
    /// `query` or `query.masked`: set means query mode.
    pub query: Option<String>,
    /// The query came from `query.masked`: never log it.
    pub query_masked: bool,
    pub quote: QuoteMethod,
    pub query_suffix: String,
    pub isolation: Isolation,
    pub poll_interval_ms: u64,
    pub batch_max_rows: usize,
    pub table_poll_interval_ms: u64,
    pub topic_prefix: String,
    pub timestamp_delay_ms: u64,
    /// `db.timezone`, resolved (IANA names, offsets and Java's short IDs).
    pub db_timezone: jiff::tz::TimeZone,
    pub db_timezone_name: String,
    pub timestamp_granularity: TimestampGranularity,
}

const LEGACY_AND_NEW: &str = "Cannot mix legacy and new configuration approaches. Legacy configurations (table.whitelist, table.blacklist, timestamp.column.name, incrementing.column.name) cannot be used together with new configurations (table.include.list, table.exclude.list, timestamp.columns.mapping, incrementing.column.mapping). Please choose one approach: either use all legacy configurations or all new configurations.";

impl JdbcSourceConfig {
    pub(crate) fn read(r: &mut KeyReader<'_>) -> Self {
        let connection = connection(r);
        let mode = match r.get("mode") {
            None => {
                r.issue(
                    "mode",
                    None,
                    "Query mode must be specified: one of bulk, incrementing, timestamp, timestamp+incrementing",
                );
                Mode::Bulk
            }
            Some(_) => r.choice(
                "mode",
                &[
                    ("bulk", Mode::Bulk),
                    ("incrementing", Mode::Incrementing),
                    ("timestamp", Mode::Timestamp),
                    ("timestamp+incrementing", Mode::TimestampIncrementing),
                ],
            ),
        };
        let whitelist = r.list("table.whitelist");
        let blacklist = r.list("table.blacklist");
        let include = r.regex_list_case_sensitive("table.include.list");
        let exclude = r.regex_list_case_sensitive("table.exclude.list");
        let incrementing_column = r.string("incrementing.column.name");
        let timestamp_columns = r.list("timestamp.column.name");
        let timestamp_columns_mapping = timestamp_mapping(r);
        let incrementing_column_mapping = incrementing_mapping(r);
        let query_plain = r.string("query");
        let query_masked = r.string("query.masked");
        let (query, masked) = match (query_plain.is_empty(), query_masked.is_empty()) {
            (true, true) => (None, false),
            (false, true) => (Some(query_plain), false),
            (true, false) => (Some(query_masked), true),
            (false, false) => {
                let msg = "Both 'query' and 'query.masked' configs cannot be set at the same time. Please use only one of them.";
                r.issue("query", None, msg);
                r.issue("query.masked", None, msg);
                (Some(query_plain), false)
            }
        };
        let legacy = !whitelist.is_empty()
            || !blacklist.is_empty()
            || !incrementing_column.is_empty()
            || !timestamp_columns.is_empty();
        let new = !include.is_empty()
            || !exclude.is_empty()
            || !timestamp_columns_mapping.is_empty()
            || !incrementing_column_mapping.is_empty();
        let filtering = !whitelist.is_empty()
            || !blacklist.is_empty()
            || !include.is_empty()
            || !exclude.is_empty();
        let query_key = if masked { "query.masked" } else { "query" };
        if let Some(q) = &query {
            if filtering {
                r.issue(query_key, None, "Do not specify table filtering configs with 'query'. Remove table.whitelist / table.blacklist / table.include.list / table.exclude.list when using query mode or 'query' when using table filtering mode.");
            }
            let starts_select = q
                .trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("select"))
                && !q
                    .trim_start()
                    .as_bytes()
                    .get(6)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
            if !starts_select {
                let shown = (!masked).then_some(q.as_str());
                r.issue(query_key, shown, format!("Only SELECT statements are supported for '{query_key}'. Please provide a statement that starts with SELECT."));
            }
            if mode.uses_incrementing() && incrementing_column.is_empty() {
                r.issue("incrementing.column.name", None, format!("'incrementing.column.name' must be provided when using mode 'incrementing' or 'timestamp+incrementing' with a custom query (it cannot be auto-discovered: there is no table to inspect; '{}' is not applied to a query)", "incrementing.column.mapping"));
            }
            if mode.uses_timestamp() && timestamp_columns.is_empty() {
                r.issue(
                    "timestamp.column.name",
                    None,
                    "must name the timestamp column(s) of the query in mode timestamp or timestamp+incrementing",
                );
            }
        } else if legacy && new {
            for (key, set) in [
                ("table.whitelist", !whitelist.is_empty()),
                ("table.blacklist", !blacklist.is_empty()),
                ("table.include.list", !include.is_empty()),
                ("table.exclude.list", !exclude.is_empty()),
                ("timestamp.column.name", !timestamp_columns.is_empty()),
                (
                    "timestamp.columns.mapping",
                    !timestamp_columns_mapping.is_empty(),
                ),
                ("incrementing.column.name", !incrementing_column.is_empty()),
                (
                    "incrementing.column.mapping",
                    !incrementing_column_mapping.is_empty(),
                ),
            ] {
                if set {
                    r.issue(key, None, LEGACY_AND_NEW);
                }
            }
        } else if !legacy && !new {
            r.issue("table.whitelist", None, "At least one table filtering configuration is required. Provide one of: table.whitelist, table.blacklist, table.include.list, or table.exclude.list.");
        } else if new {
            if !exclude.is_empty() && include.is_empty() {
                r.issue("table.exclude.list", None, "table.exclude.list cannot be used without table.include.list. Exclude list only applies to tables that match the include list.");
            }
            let ts_mapped = !timestamp_columns_mapping.is_empty();
            let inc_mapped = !incrementing_column_mapping.is_empty();
            if mode.uses_timestamp() != ts_mapped {
                let msg = if ts_mapped {
                    "Timestamp column configurations should not be provided if mode is not 'timestamp' or 'timestamp+incrementing'. Remove 'timestamp.columns.mapping'."
                } else {
                    "Timestamp column configuration must be provided when using mode 'timestamp' or 'timestamp+incrementing'. Provide 'timestamp.columns.mapping'."
                };
                r.issue("mode", Some(mode.name()), msg);
            } else if mode.uses_incrementing() != inc_mapped {
                let msg = if inc_mapped {
                    "Incrementing column configurations should not be provided if mode is not 'incrementing' or 'timestamp+incrementing'. Remove 'incrementing.column.mapping'."
                } else {
                    "Incrementing column configuration must be provided when using mode 'incrementing' or 'timestamp+incrementing'. Provide 'incrementing.column.mapping'."
                };
                r.issue("mode", Some(mode.name()), msg);
            }
        } else if !whitelist.is_empty() && !blacklist.is_empty() {
            r.issue(
                "table.blacklist",
                None,
                "table.whitelist is already specified; set only one of table.whitelist and table.blacklist",
            );
        }
        if mode.uses_timestamp() && query.is_none() && !new && timestamp_columns.is_empty() {
            r.issue(
                "timestamp.column.name",
                None,
                "must name the timestamp column(s) in mode timestamp or timestamp+incrementing",
            );
        }
        let tables = if !include.is_empty() || !exclude.is_empty() {
            TableFilter::Regex { include, exclude }
        } else if !whitelist.is_empty() {
            TableFilter::Whitelist(whitelist)
        } else if !blacklist.is_empty() {
            TableFilter::Blacklist(blacklist)
        } else {
            TableFilter::All
        };
        let numeric_mapping = match r.get("numeric.mapping") {
            Some(_) => r.choice(
                "numeric.mapping",
                &[
                    ("none", NumericMapping::None),
                    ("precision_only", NumericMapping::PrecisionOnly),
                    ("best_fit", NumericMapping::BestFit),
                    ("best_fit_eager_double", NumericMapping::BestFitEagerDouble),
                ],
            ),
            None if r.bool("numeric.precision.mapping") => NumericMapping::PrecisionOnly,
            None => NumericMapping::None,
        };
        if let Some(d) = r.get("dialect.name") {
            if !d.eq_ignore_ascii_case("PostgreSqlDatabaseDialect") {
                r.issue("dialect.name", Some(d), "Sluice's JDBC source speaks to PostgreSQL only: leave dialect.name empty or set PostgreSqlDatabaseDialect");
            }
        }
        let topic_prefix = r.string("topic.prefix");
        if topic_prefix.len() > 249 {
            r.issue(
                "topic.prefix",
                Some(&topic_prefix),
                "Topic prefix length must not exceed max topic name length, 249 chars",
            );
        } else if !topic_prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            r.issue("topic.prefix", Some(&topic_prefix), "Topic prefix must not contain any character other than ASCII alphanumerics, '.', '_' and '-'.");
        } else if query.is_some() && topic_prefix.is_empty() {
            r.issue(
                "topic.prefix",
                None,
                "with a query, topic.prefix is the whole name of the topic and must be set",
            );
        }
        let isolation = r.choice(
            "transaction.isolation.mode",
            &[
                ("default", Isolation::Default),
                ("read_uncommitted", Isolation::ReadUncommitted),
                ("read_committed", Isolation::ReadCommitted),
                ("repeatable_read", Isolation::RepeatableRead),
                ("serializable", Isolation::Serializable),
                ("sql_server_snapshot", Isolation::Default),
            ],
        );
        if let Some(v) = r.get("transaction.isolation.mode") {
            if v.eq_ignore_ascii_case("sql_server_snapshot") {
                r.issue(
                    "transaction.isolation.mode",
                    Some(v),
                    "Isolation mode of `SQL_SERVER_SNAPSHOT` can only be configured with a Sql Server Dialect",
                );
            }
        }
        let db_timezone_name = r.string("db.timezone");
        let db_timezone = match time_zone(&db_timezone_name) {
            Some(tz) => tz,
            None => {
                r.issue(
                    "db.timezone",
                    Some(&db_timezone_name),
                    "Invalid time zone identifier (an IANA name such as Europe/Paris, UTC, or an offset such as +02:00)",
                );
                jiff::tz::TimeZone::UTC
            }
        };
        let timestamp_initial = r.get("timestamp.initial").and_then(|v| match v.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                r.issue(
                    "timestamp.initial",
                    Some(v),
                    "Not a number of type LONG (epoch milliseconds, or -1 for the current time)",
                );
                None
            }
        });
        JdbcSourceConfig {
            connection,
            connection_attempts: r.int("connection.attempts") as u32,
            connection_backoff_ms: r.int("connection.backoff.ms") as u64,
            tables,
            catalog_pattern: r.get("catalog.pattern").map(str::to_owned),
            schema_pattern: r.get("schema.pattern").map(str::to_owned),
            table_types: r.list("table.types"),
            numeric_mapping,
            date_calendar: r.choice(
                "date.calendar.system",
                &[
                    ("legacy", DateCalendar::Legacy),
                    ("proleptic_gregorian", DateCalendar::ProlepticGregorian),
                ],
            ),
            mode,
            incrementing_column,
            timestamp_columns,
            timestamp_columns_mapping,
            incrementing_column_mapping,
            timestamp_initial,
            validate_non_null: r.bool("validate.non.null"),
            query,
            query_masked: masked,
            quote: r.choice(
                "quote.sql.identifiers",
                &[
                    ("always", QuoteMethod::Always),
                    ("never", QuoteMethod::Never),
                ],
            ),
            query_suffix: r.string("query.suffix"),
            isolation,
            poll_interval_ms: r.int("poll.interval.ms") as u64,
            batch_max_rows: r.int("batch.max.rows") as usize,
            table_poll_interval_ms: r.int("table.poll.interval.ms") as u64,
            topic_prefix,
            timestamp_delay_ms: r.int("timestamp.delay.interval.ms") as u64,
            db_timezone,
            db_timezone_name,
            timestamp_granularity: r.choice(
                "timestamp.granularity",
                &[
                    ("connect_logical", TimestampGranularity::ConnectLogical),
                    ("micros_long", TimestampGranularity::MicrosLong),
                    ("micros_string", TimestampGranularity::MicrosString),
                    (
                        "micros_iso_datetime_string",
                        TimestampGranularity::MicrosIsoDatetimeString,
                    ),
                    ("nanos_long", TimestampGranularity::NanosLong),
                    ("nanos_string", TimestampGranularity::NanosString),
                    (
                        "nanos_iso_datetime_string",
                        TimestampGranularity::NanosIsoDatetimeString,
                    ),
                ],
            ),
        }
    }

    /// The timestamp columns of a table: `timestamp.columns.mapping` when given, else
    /// `timestamp.column.name` (as `JdbcSourceTask.getTimestampColumns`).
    pub fn timestamp_columns_for(&self, schema_table: &str) -> Vec<String> {
        if self.timestamp_columns_mapping.is_empty() {
            return self.timestamp_columns.clone();
        }
        self.timestamp_columns_mapping
            .iter()
            .find(|m| m.table.is_match(schema_table))
            .map(|m| m.columns.clone())
            .unwrap_or_default()
    }

    /// The incrementing column of a table (empty: find the auto-incrementing one).
    pub fn incrementing_column_for(&self, schema_table: &str) -> String {
        if self.incrementing_column_mapping.is_empty() {
            return self.incrementing_column.clone();
        }
        self.incrementing_column_mapping
            .iter()
            .find(|m| m.table.is_match(schema_table))
            .map(|m| m.columns.clone())
            .unwrap_or_default()
    }
}

/// Java's `ZoneId.of` (and its `SHORT_IDS` fallback) on jiff's time zone database.
pub fn time_zone(name: &str) -> Option<jiff::tz::TimeZone> {
    const SHORT_IDS: &[(&str, &str)] = &[
        ("ACT", "Australia/Darwin"),
        ("AET", "Australia/Sydney"),
        ("AGT", "America/Argentina/Buenos_Aires"),
        ("ART", "Africa/Cairo"),
        ("AST", "America/Anchorage"),
        ("BET", "America/Sao_Paulo"),
        ("BST", "Asia/Dhaka"),
        ("CAT", "Africa/Harare"),
        ("CNT", "America/St_Johns"),
        ("CST", "America/Chicago"),
        ("CTT", "Asia/Shanghai"),
        ("EAT", "Africa/Addis_Ababa"),
        ("ECT", "Europe/Paris"),
        ("IET", "America/Indiana/Indianapolis"),
        ("IST", "Asia/Kolkata"),
        ("JST", "Asia/Tokyo"),
        ("MIT", "Pacific/Apia"),
        ("NET", "Asia/Yerevan"),
        ("NST", "Pacific/Auckland"),
        ("PLT", "Asia/Karachi"),
        ("PNT", "America/Phoenix"),
        ("PRT", "America/Puerto_Rico"),
        ("PST", "America/Los_Angeles"),
        ("SST", "Pacific/Guadalcanal"),
        ("VST", "Asia/Ho_Chi_Minh"),
        ("EST", "-05:00"),
        ("MST", "-07:00"),
        ("HST", "-10:00"),
    ];
    let name = name.trim();
    if name == "Z" || name.eq_ignore_ascii_case("UTC") || name.eq_ignore_ascii_case("GMT") {
        return Some(jiff::tz::TimeZone::UTC);
    }
    let offset = |s: &str| -> Option<jiff::tz::TimeZone> {
        let s = s
            .strip_prefix("UTC")
            .or_else(|| s.strip_prefix("GMT"))
            .or_else(|| s.strip_prefix("UT"))
            .unwrap_or(s);
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let parts: Vec<&str> = rest.split(':').collect();
        let num = |p: &str| p.parse::<i32>().ok();
        let (h, m, sec) = match parts.as_slice() {
            [h] if h.len() <= 2 => (num(h)?, 0, 0),
            [hm] if hm.len() == 4 => (num(&hm[..2])?, num(&hm[2..])?, 0),
            [h, m] => (num(h)?, num(m)?, 0),
            [h, m, s] => (num(h)?, num(m)?, num(s)?),
            _ => return None,
        };
        if h > 18 || m > 59 || sec > 59 {
            return None;
        }
        let secs = sign * (h * 3600 + m * 60 + sec);
        Some(jiff::tz::TimeZone::fixed(
            jiff::tz::Offset::from_seconds(secs).ok()?,
        ))
    };
    if let Some(tz) = offset(name) {
        return Some(tz);
    }
    if let Ok(tz) = jiff::tz::TimeZone::get(name) {
        return Some(tz);
    }
    let (_, target) = SHORT_IDS.iter().find(|(k, _)| *k == name)?;
    offset(target).or_else(|| jiff::tz::TimeZone::get(target).ok())
}

/// `connection.url` with `connection.user` / `connection.password`. As the PostgreSQL JDBC
/// driver does, `user` and `password` in the URL's parameters win over the connector's keys.
fn connection(r: &mut KeyReader<'_>) -> ConnectionTarget {
    let url = r.string("connection.url");
    let mut target = ConnectionTarget {
        hosts: vec![("localhost".into(), 5432)],
        dbname: String::new(),
        user: r.string("connection.user"),
        password: Secret(r.string("connection.password")),
        params: Vec::new(),
    };
    if url.is_empty() {
        r.issue(
            "connection.url",
            None,
            "Missing required configuration \"connection.url\" (e.g. jdbc:postgresql://host:5432/db)",
        );
        return target;
    }
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
            for (k, v) in parsed.params {
                if k.eq_ignore_ascii_case("sslmode") {
                    if !v.eq_ignore_ascii_case("disable")
                        && !v.eq_ignore_ascii_case("allow")
                        && !v.eq_ignore_ascii_case("prefer")
                    {
                        r.issue("connection.url", Some(&redact_url(&url)), format!("sslmode={v}: TLS connections to PostgreSQL are not implemented yet (only disable, allow and prefer, which connect without TLS)"));
                    }
                } else if k.eq_ignore_ascii_case("ssl") && v.eq_ignore_ascii_case("true") {
                    r.issue(
                        "connection.url",
                        Some(&redact_url(&url)),
                        "ssl=true: TLS connections to PostgreSQL are not implemented yet",
                    );
                } else {
                    target.params.push((k, v));
                }
            }
            if target.user.is_empty() {
                r.issue("connection.user", None, "no user to connect as: set connection.user (or user=... in the URL's parameters)");
            }
        }
        Err(reason) => r.issue("connection.url", Some(&redact_url(&url)), reason),
    }
    target
}

/// A connection URL as its parts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedUrl {
    pub hosts: Vec<(String, u16)>,
    pub dbname: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub params: Vec<(String, String)>,
}

/// `jdbc:postgresql://host1[:port1][,host2[:port2]]/[db][?k=v&...]` (also `jdbc:postgresql:db`
/// and `jdbc:postgresql:/`), or a libpq URL `postgres[ql]://[user[:password]@]host[:port]/db?k=v`.
pub fn parse_url(url: &str) -> Result<ParsedUrl, String> {
    let url = url.trim();
    let mut out = ParsedUrl::default();
    let (rest, libpq) = if let Some(rest) = url.strip_prefix("jdbc:postgresql:") {
        (rest, false)
    } else if let Some(rest) = url
        .strip_prefix("postgresql://")
        .or_else(|| url.strip_prefix("postgres://"))
    {
        (rest, true)
    } else if url.starts_with("jdbc:") {
        let sub = url.split(':').nth(1).unwrap_or("");
        return Err(format!("Sluice's JDBC source speaks to PostgreSQL only; the URL names the {sub:?} subprotocol (expected jdbc:postgresql://host:port/db)"));
    } else {
        return Err(
            "not a PostgreSQL JDBC URL (expected jdbc:postgresql://host:port/db or postgres://...)"
                .into(),
        );
    };
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    let (authority, db) = if libpq {
        match main.split_once('/') {
            Some((a, d)) => (a, d),
            None => (main, ""),
        }
    } else if let Some(after) = main.strip_prefix("//") {
        match after.split_once('/') {
            Some((a, d)) => (a, d),
            None => (after, ""),
        }
    } else {
        // jdbc:postgresql:db or jdbc:postgresql:/ (localhost)
        ("", main.trim_start_matches('/'))
    };
    let mut authority = authority.to_owned();
    if libpq {
        if let Some((cred, host)) = authority.rsplit_once('@') {
            let (u, p) = match cred.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (cred, None),
            };
            if !u.is_empty() {
                out.user = Some(percent_decode(u)?);
            }
            if let Some(p) = p {
                out.password = Some(percent_decode(p)?);
            }
            authority = host.to_owned();
        }
    }
    if authority.is_empty() {
        out.hosts.push(("localhost".into(), 5432));
    } else {
        for hp in authority.split(',') {
            let (h, p) = match hp.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(']') || !p.is_empty() => {
                    let port: u16 = p
                        .parse()
                        .map_err(|_| format!("the port {p:?} in the URL is not a number"))?;
                    (h, port)
                }
                _ => (hp, 5432),
            };
            let h = h.trim_start_matches('[').trim_end_matches(']');
            if h.is_empty() {
                return Err("the URL names an empty host".into());
            }
            out.hosts.push((h.to_owned(), p));
        }
    }
    out.dbname = percent_decode(db)?;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decode(k)?, percent_decode(v)?);
        match k.as_str() {
            "user" => out.user = Some(v),
            "password" => out.password = Some(v),
            "dbname" if libpq => out.dbname = v,
            _ => out.params.push((k, v)),
        }
    }
    if out.dbname.is_empty() {
        return Err("the URL names no database (jdbc:postgresql://host:port/<database>)".into());
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("bad %-escape in the URL near {:?}", &s[i..]))?;
                out.push(hex);
                i += 3;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "the URL's %-escapes are not UTF-8".to_owned())
}

/// The URL with any password replaced by `********`, for messages.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let auth_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..auth_end].rfind('@') {
            let cred = &out[rest_start..rest_start + at];
            if let Some(colon) = cred.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, crate::raw::MASK);
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, params) = out.split_at(q + 1);
        let params: Vec<String> = params
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => {
                    format!("{k}={}", crate::raw::MASK)
                }
                _ => p.to_owned(),
            })
            .collect();
        out = format!("{head}{}", params.join("&"));
    }
    out
}

/// `timestamp.columns.mapping`: `regex1:[col1|col2],regex2:[col3]`.
fn timestamp_mapping(r: &mut KeyReader<'_>) -> Vec<ColumnMapping<Vec<String>>> {
    let key = "timestamp.columns.mapping";
    let mut out = Vec::new();
    for item in r.list(key) {
        let Some((re, cols)) = item.split_once(':').filter(|(_, c)| !c.contains(':')) else {
            r.issue(
                key,
                Some(&item),
                "Invalid format. Expected 'regex:[col1|col2|...]'",
            );
            continue;
        };
        let cols = cols.trim();
        let Some(inner) = cols.strip_prefix('[').and_then(|c| c.strip_suffix(']')) else {
            r.issue(
                key,
                Some(cols),
                "Columns list must be enclosed in square brackets",
            );
            continue;
        };
        let columns: Vec<String> = inner.split('|').map(|c| c.trim().to_owned()).collect();
        if inner.trim().is_empty() || columns.iter().any(String::is_empty) {
            r.issue(
                key,
                Some(cols),
                "Every column name should be non-empty string",
            );
            continue;
        }
        match whole_match(re.trim()) {
            Ok(table) => out.push(ColumnMapping { table, columns }),
            Err(e) => r.issue(key, Some(re), format!("Invalid regular expression: {e}")),
        }
    }
    out
}

/// `incrementing.column.mapping`: `regex1:col1,regex2:col2`.
fn incrementing_mapping(r: &mut KeyReader<'_>) -> Vec<ColumnMapping<String>> {
    let key = "incrementing.column.mapping";
    let mut out = Vec::new();
    for item in r.list(key) {
        let Some((re, col)) = item.split_once(':').filter(|(_, c)| !c.contains(':')) else {
            r.issue(
                key,
                Some(&item),
                "Invalid format. Expected 'regex:columnName'",
            );
            continue;
        };
        if col.trim().is_empty() {
            r.issue(key, Some(&item), "Column name cannot be empty");
            continue;
        }
        match whole_match(re.trim()) {
            Ok(table) => out.push(ColumnMapping {
                table,
                columns: col.trim().to_owned(),
            }),
            Err(e) => r.issue(key, Some(re), format!("Invalid regular expression: {e}")),
        }
    }
    out
}

/// Java's `String.matches`: the regex must match the whole input.
fn whole_match(re: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{re})$"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConfigError, ConnectorConfig, ConnectorSettings, RawConfig};

    fn parse(json: &str) -> Result<Box<JdbcSourceConfig>, ConfigError> {
        ConnectorSettings::parse(&RawConfig::from_json(json, "t").unwrap()).map(|s| {
            match s.connector {
                ConnectorConfig::JdbcSource(c) => c,
                other => panic!("not a JDBC source config: {other:?}"),
            }
        })
    }

    const BASE: &str = r#""connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","connection.url":"jdbc:postgresql://db.example:5433/pagila","connection.user":"u","connection.password":"s3cret""#;

    #[test]
    fn seed_001_configs_parse() {
        // jdbc_source_connector_postgresql_00, verbatim but for the URL and credentials.
        let c = parse(&format!(
            r#"{{{BASE},"topic.prefix":"pagila.public.","poll.interval.ms":5000,"mode":"timestamp","catalog.pattern":"public","table.whitelist":"address, city, country","timestamp.column.name":"last_update"}}"#
        ))
        .unwrap();
        assert_eq!(c.mode, Mode::Timestamp);
        assert_eq!(c.connection.hosts, vec![("db.example".to_owned(), 5433)]);
        assert_eq!(c.connection.dbname, "pagila");
        assert_eq!(c.connection.user, "u");
        assert!(
            matches!(&c.tables, TableFilter::Whitelist(w) if w == &["address", "city", "country"])
        );
        assert_eq!(c.timestamp_columns, ["last_update"]);
        assert_eq!(c.batch_max_rows, 1000);
        assert_eq!(c.numeric_mapping, NumericMapping::None);
        assert!(!format!("{c:?}").contains("s3cret"));
        // _02: a query, with incrementing.column.name set in timestamp mode (ignored there).
        let c = parse(&format!(
            r#"{{{BASE},"topic.prefix":"pagila.query","mode":"timestamp","timestamp.column.name":"last_update","query":"SELECT * FROM (SELECT a.address_id FROM address AS a) AS subquery","incrementing.column.name":"address_id","validate.non.null":"false"}}"#
        ))
        .unwrap();
        assert!(c.query.is_some() && !c.validate_non_null);
    }

    #[test]
    fn urls() {
        let p = parse_url("jdbc:postgresql://h1:5433,h2/db%20x?user=al&password=p%40ss&sslmode=disable&ApplicationName=x").unwrap();
        assert_eq!(
            p.hosts,
            vec![("h1".to_owned(), 5433), ("h2".to_owned(), 5432)]
        );
        assert_eq!(p.dbname, "db x");
        assert_eq!(p.user.as_deref(), Some("al"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        assert_eq!(p.params.len(), 2);
        let p = parse_url("postgres://bob:pw@localhost:6000/pagila").unwrap();
        assert_eq!(
            (p.user.as_deref(), p.password.as_deref(), p.dbname.as_str()),
            (Some("bob"), Some("pw"), "pagila")
        );
        assert_eq!(p.hosts, vec![("localhost".to_owned(), 6000)]);
        assert_eq!(
            parse_url("jdbc:postgresql:pagila").unwrap().hosts,
            vec![("localhost".to_owned(), 5432)]
        );
        assert!(parse_url("jdbc:mysql://h/db")
            .unwrap_err()
            .contains("mysql"));
        assert!(parse_url("jdbc:postgresql://h:x/db").is_err());
        assert_eq!(
            redact_url("postgres://bob:pw@h/db?password=x&a=b"),
            "postgres://bob:********@h/db?password=********&a=b"
        );
    }

    #[test]
    fn url_credentials_win_over_keys() {
        let c = parse(r#"{"connector.class":"io.confluent.connect.jdbc.JdbcSourceConnector","connection.url":"jdbc:postgresql://h/db?user=fromurl&password=pw","connection.user":"fromkey","mode":"bulk","table.whitelist":"a"}"#).unwrap();
        assert_eq!(c.connection.user, "fromurl");
        assert_eq!(c.connection.password.0, "pw");
    }

    #[test]
    fn confluent_validation_rules() {
        let err = |extra: &str| {
            parse(&format!(r#"{{{BASE}{extra}}}"#))
                .unwrap_err()
                .to_string()
        };
        assert!(err(r#","table.whitelist":"a""#).contains("Query mode must be specified"));
        assert!(err(r#","mode":"bulk""#)
            .contains("At least one table filtering configuration is required"));
        assert!(
            err(r#","mode":"bulk","table.whitelist":"a","table.include.list":"public.a""#)
                .contains("Cannot mix legacy and new configuration approaches")
        );
        assert!(err(
            r#","mode":"bulk","query":"SELECT 1","table.whitelist":"a","topic.prefix":"t""#
        )
        .contains("Do not specify table filtering configs with 'query'"));
        assert!(
            err(r#","mode":"bulk","query":"DELETE FROM a","topic.prefix":"t""#)
                .contains("Only SELECT statements are supported for 'query'")
        );
        assert!(
            err(r#","mode":"incrementing","query":"SELECT * FROM a","topic.prefix":"t""#)
                .contains("'incrementing.column.name' must be provided")
        );
        assert!(
            err(r#","mode":"timestamp","table.include.list":"public.a""#)
                .contains("Provide 'timestamp.columns.mapping'")
        );
        assert!(err(
            r#","mode":"bulk","table.include.list":"public.a","db.timezone":"Mars/Olympus""#
        )
        .contains("Invalid value Mars/Olympus for configuration db.timezone"));
        assert!(
            err(r#","mode":"bulk","table.whitelist":"a","topic.prefix":"a b""#)
                .contains("Topic prefix must not contain")
        );
        assert!(
            err(r#","mode":"bulk","table.whitelist":"a","numeric.mapping":"exact""#).contains(
                "Value must be one of none, precision_only, best_fit, best_fit_eager_double"
            )
        );
        assert!(!err(r#","mode":"bulk""#).contains("s3cret"));
    }

    #[test]
    fn mappings_and_numeric_precision() {
        let c = parse(&format!(
            r#"{{{BASE},"mode":"timestamp+incrementing","table.include.list":"public\\..*","timestamp.columns.mapping":"public.a.*:[updated|created],public.b:[ts]","incrementing.column.mapping":"public\\..*:id","numeric.precision.mapping":"true"}}"#
        ))
        .unwrap();
        assert_eq!(
            c.timestamp_columns_for("public.abc"),
            ["updated", "created"]
        );
        assert_eq!(c.timestamp_columns_for("public.b"), ["ts"]);
        assert_eq!(c.incrementing_column_for("public.b"), "id");
        assert_eq!(c.numeric_mapping, NumericMapping::PrecisionOnly);
    }

    #[test]
    fn every_honoured_key_is_read() {
        use crate::def::{ConfigDef, Support};
        use crate::defs::jdbc_source::JDBC_SOURCE;
        let raw = RawConfig::from_json(
            r#"{"connection.url":"jdbc:postgresql://h/db","connection.user":"u","mode":"bulk","table.whitelist":"a"}"#,
            "t",
        )
        .unwrap();
        let defs = [ConfigDef { keys: JDBC_SOURCE }];
        let mut r = KeyReader::new(&raw, &defs);
        let _ = JdbcSourceConfig::read(&mut r);
        for k in JDBC_SOURCE {
            if k.support == Support::Yes {
                assert!(
                    r.read_keys().contains(k.name),
                    "{} is declared but never read",
                    k.name
                );
            }
        }
    }

    #[test]
    fn time_zones_as_java_reads_them() {
        assert!(time_zone("UTC").is_some());
        assert!(time_zone("Europe/Paris").is_some());
        assert!(time_zone("+02:00").is_some());
        assert!(time_zone("GMT-5").is_some());
        assert!(time_zone("PST").is_some());
        assert!(time_zone("Nowhere/Else").is_none());
    }
}
