//! Where a record's object goes: the partitioners of kafka-connect-storage-common (Default,
//! Field, TimeBased, Daily, Hourly) with their timestamp extractors, and Joda-Time's
//! `DateTimeFormat` patterns for `path.format`. A partitioner must be a pure function of the
//! record (and, for Wallclock, of the time it is given): that is what makes object keys repeat.

use sluice_config::s3::{Partitioner as PartitionerConfig, TimestampExtractor};
use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::logical;
use sluice_core::record::Record;

#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error("{0}")]
    Config(String),
    #[error("Error encoding partition: {0}")]
    Encode(String),
}

pub struct Partitioner {
    kind: Kind,
    extractor: Option<Extractor>,
    delim: String,
}

enum Kind {
    Default,
    Field(Vec<String>),
    Time {
        duration_ms: i64,
        format: Vec<Token>,
        zone: Zone,
    },
}

enum Extractor {
    Wallclock,
    Record,
    RecordField(String),
}

impl Partitioner {
    pub fn new(
        cfg: &PartitionerConfig,
        extractor: &TimestampExtractor,
        delim: &str,
    ) -> Result<Self, PartitionError> {
        let (kind, extractor) = match cfg {
            PartitionerConfig::Default => (Kind::Default, None),
            PartitionerConfig::Field(fields) => (Kind::Field(fields.clone()), None),
            PartitionerConfig::Time {
                duration_ms,
                path_format,
                timezone,
                ..
            } => {
                let extractor = match extractor {
                    TimestampExtractor::Wallclock => Extractor::Wallclock,
                    TimestampExtractor::Record => Extractor::Record,
                    TimestampExtractor::RecordField(f) => Extractor::RecordField(f.clone()),
                };
                let kind = Kind::Time {
                    duration_ms: *duration_ms,
                    format: parse_pattern(path_format).map_err(|e| {
                        PartitionError::Config(format!("path.format {path_format:?}: {e}"))
                    })?,
                    zone: Zone::named(timezone)?,
                };
                (kind, Some(extractor))
            }
        };
        Ok(Partitioner {
            kind,
            extractor,
            delim: delim.to_owned(),
        })
    }

    /// Whether this partitioner has a timestamp extractor (time-based rotation applies).
    pub fn is_time_based(&self) -> bool {
        self.extractor.is_some()
    }

    /// The record's time by the configured extractor (`TimestampExtractor.extract`).
    pub fn timestamp(&self, record: &Record, now_ms: i64) -> Result<Option<i64>, PartitionError> {
        Ok(match &self.extractor {
            None => None,
            Some(Extractor::Wallclock) => Some(now_ms),
            Some(Extractor::Record) => Some(record.timestamp_ms),
            Some(Extractor::RecordField(field)) => Some(field_timestamp(record, field)?),
        })
    }

    /// `Partitioner.encodePartition`: the record's encoded partition (`partition=0`,
    /// `country=United States`, `year=2024/month=01`).
    pub fn encode(
        &self,
        record: &Record,
        timestamp: Option<i64>,
    ) -> Result<String, PartitionError> {
        match &self.kind {
            Kind::Default => Ok(format!("partition={}", record.partition.unwrap_or(0))),
            Kind::Field(fields) => self.encode_fields(record, fields),
            Kind::Time {
                duration_ms,
                format,
                zone,
            } => {
                let ts = timestamp.ok_or_else(|| {
                    PartitionError::Encode(
                        "Unable to determine timestamp using timestamp.extractor".into(),
                    )
                })?;
                let local = ts + zone.offset_ms(ts);
                let bucket_local = (local / duration_ms) * duration_ms;
                let bucket =
                    bucket_local - zone.offset_ms(bucket_local - zone.offset_ms(bucket_local));
                Ok(format_time(
                    format,
                    bucket + zone.offset_ms(bucket),
                    zone.offset_ms(bucket),
                ))
            }
        }
    }

    fn encode_fields(&self, record: &Record, fields: &[String]) -> Result<String, PartitionError> {
        let Some(data) = record.value.as_ref() else {
            return Err(PartitionError::Encode("Value is not Struct type.".into()));
        };
        let (Some(schema), Value::Struct(_)) = (&data.schema, &data.value) else {
            return Err(PartitionError::Encode("Value is not Struct type.".into()));
        };
        let mut out = String::new();
        for name in fields {
            if !out.is_empty() {
                out.push_str(&self.delim);
            }
            let Some((field_schema, value)) = nested(schema, &data.value, name) else {
                return Err(PartitionError::Encode(format!(
                    "Field '{name}' is not present in the schema."
                )));
            };
            if value.is_null() {
                out.push_str(&format!("{name}=null"));
                continue;
            }
            let text = match (field_schema.ty, value) {
                (
                    SchemaType::Int8 | SchemaType::Int16 | SchemaType::Int32 | SchemaType::Int64,
                    Value::Int(n),
                ) => n.to_string(),
                (SchemaType::Boolean, Value::Boolean(b)) => b.to_string(),
                (SchemaType::String, v) => v.as_str().unwrap_or_default().to_owned(),
                (ty, _) => {
                    return Err(PartitionError::Encode(format!(
                        "Type {} is not supported as a partition key.",
                        ty.json_name()
                    )))
                }
            };
            out.push_str(&format!("{name}={text}"));
        }
        Ok(out)
    }
}

/// A dotted field's schema and value (`DataUtils.getNestedField`); a null parent gives null.
fn nested<'a>(schema: &'a Schema, value: &'a Value, path: &str) -> Option<(&'a Schema, &'a Value)> {
    static NULL: Value = Value::Null;
    let mut schema = schema;
    let mut value = value;
    for part in path.split('.') {
        let i = schema.field_index(part)?;
        schema = &schema.fields[i].schema;
        value = match value {
            Value::Struct(vals) => vals.get(i).unwrap_or(&NULL),
            _ => &NULL,
        };
    }
    Some((schema, value))
}

/// `RecordFieldTimestampExtractor`: a Timestamp, an int32/int64 of milliseconds, or a string
/// (digits, or an ISO-8601 date-time).
fn field_timestamp(record: &Record, field: &str) -> Result<i64, PartitionError> {
    let err = || {
        PartitionError::Encode(format!(
            "Error extracting timestamp from record field: {field}"
        ))
    };
    let data = record.value.as_ref().ok_or_else(err)?;
    match (&data.schema, &data.value) {
        (Some(schema), Value::Struct(_)) => {
            let (s, v) = nested(schema, &data.value, field).ok_or_else(err)?;
            match (s.ty, v) {
                (_, Value::Int(n)) if s.name.as_deref() == Some(logical::TIMESTAMP) => Ok(*n),
                (SchemaType::Int32 | SchemaType::Int64, Value::Int(n)) => Ok(*n),
                (SchemaType::String, v) => {
                    parse_time_text(v.as_str().unwrap_or_default()).ok_or_else(err)
                }
                _ => Err(err()),
            }
        }
        (None, Value::Map(_)) => {
            let mut v = &data.value;
            for part in field.split('.') {
                let Value::Map(entries) = v else {
                    return Err(err());
                };
                v = entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(part))
                    .map(|(_, v)| v)
                    .ok_or_else(err)?;
            }
            match v {
                Value::Int(n) => Ok(*n),
                Value::Float64(f) => Ok(*f as i64),
                other => parse_time_text(other.as_str().ok_or_else(err)?).ok_or_else(err),
            }
        }
        _ => Err(PartitionError::Encode(
            "Value is not of Struct or Map type.".into(),
        )),
    }
}

fn parse_time_text(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.len() <= 19 && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = text.parse() {
            return Some(n);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    // Joda's dateTimeParser takes a zoneless date-time too (read as UTC here).
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(text, fmt) {
            return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
        }
    }
    None
}

/// A time zone: the tz database's rules, or a fixed offset.
pub enum Zone {
    Fixed(i64),
    Rules(tz::TimeZone),
}

impl Zone {
    pub fn named(name: &str) -> Result<Zone, PartitionError> {
        let name = name.trim();
        if name == "UTC" || name == "Z" || name.is_empty() {
            return Ok(Zone::Fixed(0));
        }
        if let Some(secs) = sluice_config::s3::parse_fixed_offset(name) {
            return Ok(Zone::Fixed(i64::from(secs) * 1000));
        }
        let path = std::path::Path::new("/usr/share/zoneinfo").join(name);
        let bytes = std::fs::read(&path).map_err(|e| {
            PartitionError::Config(format!(
                "timezone {name:?}: cannot read {}: {e}",
                path.display()
            ))
        })?;
        let zone = tz::TimeZone::from_tz_data(&bytes)
            .map_err(|e| PartitionError::Config(format!("timezone {name:?}: {e}")))?;
        Ok(Zone::Rules(zone))
    }

    /// Milliseconds east of UTC at this instant.
    pub fn offset_ms(&self, utc_ms: i64) -> i64 {
        match self {
            Zone::Fixed(ms) => *ms,
            Zone::Rules(z) => z
                .find_local_time_type(utc_ms.div_euclid(1000))
                .map_or(0, |t| i64::from(t.ut_offset()) * 1000),
        }
    }

    /// `DateTimeUtils.getNextTimeAdjustedByDay`: the next multiple of `period` after `now`,
    /// counted from this zone's midnight, and no later than the next midnight.
    pub fn next_time_adjusted_by_day(&self, now_ms: i64, period_ms: i64) -> i64 {
        let day = 86_400_000;
        let local = now_ms + self.offset_ms(now_ms);
        let midnight_local = local.div_euclid(day) * day;
        let start =
            midnight_local - self.offset_ms(midnight_local - self.offset_ms(midnight_local));
        let next_midnight_local = midnight_local + day;
        let next_start = next_midnight_local
            - self.offset_ms(next_midnight_local - self.offset_ms(next_midnight_local));
        let next = ((now_ms - start) / period_ms + 1) * period_ms;
        start + next.min(next_start - start)
    }
}

/// One piece of a Joda-Time pattern.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    Field(char, usize),
}

/// Parses a Joda-Time `DateTimeFormat` pattern: letters are fields (repeated for width or
/// text), text in single quotes is literal (`''` is a quote), anything else is literal.
fn parse_pattern(pattern: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut text = String::new();
            i += 1;
            if i < chars.len() && chars[i] == '\'' {
                out.push(Token::Literal("'".into()));
                i += 1;
                continue;
            }
            loop {
                match chars.get(i) {
                    None => return Err("unterminated quote".into()),
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        text.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        text.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push(Token::Literal(text));
        } else if c.is_ascii_alphabetic() {
            if !"GCYxwEeyDMdaKhHkmsSZz".contains(c) {
                return Err(format!("Illegal pattern component: {c}"));
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            out.push(Token::Field(c, n));
            i += n;
        } else {
            out.push(Token::Literal(c.to_string()));
            i += 1;
        }
    }
    Ok(out)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Formats local time `local_ms` (offset `offset_ms` from UTC). Text fields are English, as
/// Java prints them for `new Locale("en-US")` and for any locale it has no names for.
fn format_time(tokens: &[Token], local_ms: i64, offset_ms: i64) -> String {
    use chrono::{Datelike, Timelike};
    let t = chrono::DateTime::from_timestamp_millis(local_ms)
        .unwrap_or_default()
        .naive_utc();
    let mut out = String::new();
    let num = |out: &mut String, v: i64, width: usize| {
        if v < 0 {
            out.push('-');
        }
        out.push_str(&format!("{:0width$}", v.abs(), width = width));
    };
    for token in tokens {
        match token {
            Token::Literal(s) => out.push_str(s),
            Token::Field(c, n) => {
                let n = *n;
                match c {
                    'G' => out.push_str(if t.year() > 0 { "AD" } else { "BC" }),
                    'C' => num(&mut out, i64::from(t.year()) / 100, n),
                    'y' | 'Y' | 'x' => {
                        let year = match c {
                            'x' => t.iso_week().year(),
                            'Y' => t.year().max(1 - t.year()),
                            _ => t.year(),
                        };
                        if n == 2 {
                            num(&mut out, i64::from(year).rem_euclid(100), 2)
                        } else {
                            num(&mut out, i64::from(year), n)
                        }
                    }
                    'w' => num(&mut out, i64::from(t.iso_week().week()), n),
                    'e' => num(&mut out, i64::from(t.weekday().number_from_monday()), n),
                    'E' => {
                        let name = DAYS[t.weekday().num_days_from_monday() as usize];
                        out.push_str(if n >= 4 { name } else { &name[..3] });
                    }
                    'D' => num(&mut out, i64::from(t.ordinal()), n),
                    'M' if n >= 3 => {
                        let name = MONTHS[t.month0() as usize];
                        out.push_str(if n >= 4 { name } else { &name[..3] });
                    }
                    'M' => num(&mut out, i64::from(t.month()), n),
                    'd' => num(&mut out, i64::from(t.day()), n),
                    'a' => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
                    'K' => num(&mut out, i64::from(t.hour() % 12), n),
                    'h' => num(&mut out, i64::from((t.hour() + 11) % 12 + 1), n),
                    'H' => num(&mut out, i64::from(t.hour()), n),
                    'k' => num(&mut out, i64::from((t.hour() + 23) % 24 + 1), n),
                    'm' => num(&mut out, i64::from(t.minute()), n),
                    's' => num(&mut out, i64::from(t.second()), n),
                    'S' => {
                        let ms = format!("{:03}", local_ms.rem_euclid(1000));
                        let mut frac: String = ms.chars().take(n).collect();
                        while frac.len() < n {
                            frac.push('0');
                        }
                        out.push_str(&frac);
                    }
                    'Z' | 'z' => {
                        if offset_ms == 0 && *c == 'z' {
                            out.push_str("UTC");
                        } else {
                            let m = offset_ms.abs() / 60_000;
                            let sign = if offset_ms < 0 { '-' } else { '+' };
                            let sep = if n >= 2 { ":" } else { "" };
                            out.push_str(&format!("{sign}{:02}{sep}{:02}", m / 60, m % 60));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::data::Data;
    use std::sync::Arc;

    fn time(path: &str, duration_ms: i64, tz: &str) -> Partitioner {
        Partitioner::new(
            &PartitionerConfig::Time {
                duration_ms,
                path_format: path.into(),
                locale: "en-US".into(),
                timezone: tz.into(),
            },
            &TimestampExtractor::Record,
            "/",
        )
        .unwrap()
    }

    fn at(ts: i64) -> Record {
        Record::new("t", None, None, ts)
    }

    #[test]
    fn time_based_paths_as_joda_formats_them() {
        // 2024-03-10T09:45:30.123Z
        let ts = 1_710_063_930_123;
        let hourly = time(
            "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
            3_600_000,
            "UTC",
        );
        assert_eq!(
            hourly.encode(&at(ts), Some(ts)).unwrap(),
            "year=2024/month=03/day=10/hour=09"
        );
        // 10-minute buckets in New York (UTC-5 that morning, before the DST switch at 07:00 UTC... after it: UTC-4).
        let ny = time("YYYY-MM-dd'T'HH:mm", 600_000, "America/New_York");
        assert_eq!(ny.encode(&at(ts), Some(ts)).unwrap(), "2024-03-10T05:40");
        let text = time(
            "EEE, dd MMM yyyy; EEEE MMMM; D; a h:mm:ss.SSS ZZ",
            1,
            "+05:30",
        );
        assert_eq!(
            text.encode(&at(ts), Some(ts)).unwrap(),
            "Sun, 10 Mar 2024; Sunday March; 70; PM 3:15:30.123 +05:30"
        );
        assert!(parse_pattern("'unterminated").is_err());
        assert!(parse_pattern("YYYY-qq").is_err());
    }

    #[test]
    fn field_partitioner_keeps_spaces_and_reaches_nested_fields() {
        let inner = Arc::new(
            Schema::structure()
                .field("country", Schema::new(SchemaType::String).optional())
                .field("id", Schema::new(SchemaType::Int32)),
        );
        let schema = Arc::new(
            Schema::structure()
                .field("after", inner)
                .field("ok", Schema::new(SchemaType::Boolean)),
        );
        let value = Value::Struct(vec![
            Value::Struct(vec![Value::from("United States"), Value::Int(7)]),
            Value::Boolean(true),
        ]);
        let mut r = Record::new("t", None, Some(Data::new(schema, value)), 0);
        r.partition = Some(0);
        let p = Partitioner::new(
            &PartitionerConfig::Field(vec!["after.country".into(), "after.id".into(), "ok".into()]),
            &TimestampExtractor::Wallclock,
            "/",
        )
        .unwrap();
        assert_eq!(
            p.encode(&r, None).unwrap(),
            "after.country=United States/after.id=7/ok=true"
        );
        let missing = Partitioner::new(
            &PartitionerConfig::Field(vec!["nope".into()]),
            &TimestampExtractor::Wallclock,
            "/",
        )
        .unwrap();
        assert!(missing
            .encode(&r, None)
            .unwrap_err()
            .to_string()
            .contains("'nope' is not present"));
        let schemaless = Record::new("t", None, Some(Data::schemaless(Value::Map(vec![]))), 0);
        assert!(p.encode(&schemaless, None).is_err());
    }

    #[test]
    fn scheduled_rotation_aligns_to_midnight() {
        let utc = Zone::named("UTC").unwrap();
        // 2024-03-10T09:45:30Z, every hour: 10:00.
        assert_eq!(
            utc.next_time_adjusted_by_day(1_710_063_930_000, 3_600_000),
            1_710_064_800_000
        );
        // Every 7 hours from midnight: 14:00; never past the next midnight.
        assert_eq!(
            utc.next_time_adjusted_by_day(1_710_063_930_000, 7 * 3_600_000),
            1_710_079_200_000
        );
        assert_eq!(
            utc.next_time_adjusted_by_day(1_710_063_930_000, 86_400_000 * 2),
            1_710_115_200_000
        );
    }

    #[test]
    fn record_field_timestamps() {
        assert_eq!(parse_time_text("1487151930000"), Some(1_487_151_930_000));
        assert_eq!(
            parse_time_text("2017-02-15T09:45:30.000Z"),
            Some(1_487_151_930_000)
        );
        assert_eq!(
            parse_time_text("2017-02-15T09:45:30"),
            Some(1_487_151_930_000)
        );
        assert_eq!(parse_time_text("yesterday"), None);
    }
}
