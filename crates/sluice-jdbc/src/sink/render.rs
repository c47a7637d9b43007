//! Connect values back into PostgreSQL: the column type `auto.create` gives a field (from its
//! Connect type and Debezium's semantic name), and each value as the text PostgreSQL's input
//! function reads for that type. Values travel as text and are cast by the server to the
//! column's own type, so an enum, a domain or a typmod is checked where it is defined.
//! Never guesses: a value whose schema cannot be written is an error naming the field.

use sluice_core::data::{Schema, SchemaType, Value};
use sluice_core::logical::{civil_from_days, Decimal, DECIMAL, DECIMAL_PRECISION};

/// How a target column's type is spelled in the catalog (what the text must suit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    /// `format_type(atttypid, atttypmod)`: what values are cast to.
    pub sql: String,
    /// `pg_type.typname` of the column (arrays: of the element, with `is_array`).
    pub base: String,
    pub is_array: bool,
}

/// The settings rendering depends on.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub db_timezone: jiff::tz::TimeZone,
    pub legacy_calendar: bool,
}

const GREGORIAN_CUTOVER_DAY: i64 = -141_427; // 1582-10-15

// Debezium's encodings of ±infinity for timestamps without zone (µs since the epoch).
const TIMESTAMP_POS_INFINITY_MICROS: i64 = 9_223_372_036_825_200_000;
const TIMESTAMP_NEG_INFINITY_MICROS: i64 = -9_223_372_036_832_400_000;
const DATE_POS_INFINITY: i64 = -2_147_472_692;
const DATE_NEG_INFINITY: i64 = -2_147_472_691;

/// The column type `auto.create` / `auto.evolve` gives a field: the source's own type when the
/// source propagates it (`column.propagate.source.type`), else one from the Connect schema.
pub fn sql_type(schema: &Schema) -> Result<String, String> {
    if let Some(ty) = source_type(schema) {
        return Ok(ty);
    }
    let name = schema.name.as_deref().unwrap_or("");
    Ok(match name {
        DECIMAL => match (schema.parameter(DECIMAL_PRECISION), schema.parameter("scale")) {
            (Some(p), Some(s)) if p.parse::<u32>().is_ok_and(|p| (1..=1000).contains(&p)) => {
                format!("numeric({p},{s})")
            }
            _ => "numeric".into(),
        },
        "io.debezium.data.VariableScaleDecimal" => "numeric".into(),
        "org.apache.kafka.connect.data.Date" | "io.debezium.time.Date" => "date".into(),
        "org.apache.kafka.connect.data.Time" | "io.debezium.time.Time" => "time(3)".into(),
        "io.debezium.time.MicroTime" | "io.debezium.time.NanoTime" => "time".into(),
        "org.apache.kafka.connect.data.Timestamp" | "io.debezium.time.Timestamp" => {
            "timestamp(3)".into()
        }
        "io.debezium.time.MicroTimestamp" | "io.debezium.time.NanoTimestamp" => {
            "timestamp".into()
        }
        "io.debezium.time.ZonedTimestamp" => "timestamptz".into(),
        "io.debezium.time.ZonedTime" => "timetz".into(),
        "io.debezium.time.MicroDuration" | "io.debezium.time.Interval" => "interval".into(),
        "io.debezium.data.Uuid" => "uuid".into(),
        "io.debezium.data.Json" => "json".into(),
        "io.debezium.data.Xml" => "xml".into(),
        "io.debezium.data.Ltree" => "ltree".into(),
        "io.debezium.data.Bits" => match schema.parameter("length").and_then(|l| l.parse::<u32>().ok()) {
            Some(n) if n < 2_147_483_647 => format!("bit({n})"),
            _ => "bit varying".into(),
        },
        "io.debezium.data.geometry.Point" => "point".into(),
        _ => match schema.ty {
            SchemaType::Int8 | SchemaType::Int16 => "smallint".into(),
            SchemaType::Int32 => "integer".into(),
            SchemaType::Int64 => "bigint".into(),
            SchemaType::Float32 => "real".into(),
            SchemaType::Float64 => "double precision".into(),
            SchemaType::Boolean => "boolean".into(),
            SchemaType::String => "text".into(),
            SchemaType::Bytes => "bytea".into(),
            SchemaType::Map => "jsonb".into(),
            SchemaType::Array => {
                let items = schema.items.as_deref().ok_or("an array schema without items")?;
                if items.ty == SchemaType::Array {
                    return Err("arrays of arrays cannot be a column type".into());
                }
                format!("{}[]", sql_type(items)?)
            }
            SchemaType::Struct => {
                return Err(format!(
                    "a struct{} has no column type: flatten it first (org.apache.kafka.connect.transforms.Flatten$Value)",
                    schema.name.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
                ))
            }
        },
    })
}

/// The PostgreSQL type named by Debezium's `__debezium.source.column.*` parameters, for the
/// built-in types whose values the Connect schema carries in a form that type reads back.
/// Enums, domains and extension types other than the listed ones fall back to the Connect
/// mapping (the target may not have them).
fn source_type(schema: &Schema) -> Option<String> {
    let ty = schema
        .parameter("__debezium.source.column.type")?
        .to_ascii_lowercase();
    let number = |k: &str| schema.parameter(k).and_then(|v| v.parse::<i64>().ok());
    let length = number("__debezium.source.column.length");
    let scale = number("__debezium.source.column.scale");
    // The widest char/varchar PostgreSQL accepts; above it the length means "unbounded".
    let sized = |name: &str| match length {
        Some(n @ 1..=10_485_760) => format!("{name}({n})"),
        _ => name.to_string(),
    };
    let (element, array) = match ty.strip_prefix('_') {
        Some(e) => (e, "[]"),
        None => (ty.as_str(), ""),
    };
    let base = match element {
        "varchar" => sized("varchar"),
        "bpchar" => sized("char"),
        "bit" => sized("bit"),
        "varbit" => sized("varbit"),
        "numeric" => match (length, scale) {
            (Some(p @ 1..=1000), Some(s)) if (0..=p).contains(&s) => format!("numeric({p},{s})"),
            _ => "numeric".into(),
        },
        // Six digits is also what no modifier means: the bare name is the same type.
        "timestamp" | "timestamptz" | "time" | "timetz" | "interval" => match scale {
            Some(s @ 0..=5) => format!("{element}({s})"),
            _ => element.to_string(),
        },
        "serial" | "bigserial" | "smallserial" if array.is_empty() => element.to_string(),
        "int2" | "int4" | "int8" | "float4" | "float8" | "bool" | "text" | "bytea" | "date"
        | "money" | "json" | "jsonb" | "xml" | "uuid" | "inet" | "cidr" | "macaddr"
        | "macaddr8" | "oid" | "hstore" | "citext" | "ltree" | "int4range" | "int8range"
        | "numrange" | "tsrange" | "tstzrange" | "daterange" | "point" => element.to_string(),
        _ => return None,
    };
    Some(format!("{base}{array}"))
}

/// A value as the text the column's input function reads; `None` is SQL NULL.
pub fn text(
    schema: &Schema,
    value: &Value,
    target: &ColumnType,
    opts: &RenderOptions,
) -> Result<Option<String>, String> {
    if value.is_null() {
        return Ok(None);
    }
    let name = schema.name.as_deref().unwrap_or("");
    let int = || match value {
        Value::Int(i) => Ok(*i),
        other => Err(format!("{name} expects an integer, got {other:?}")),
    };
    let string = || {
        value
            .as_str()
            .ok_or_else(|| format!("{name} expects a string"))
    };
    Ok(Some(match name {
        DECIMAL => match value {
            Value::Bytes(b) => {
                let scale = sluice_core::logical::decimal_scale(schema).unwrap_or(0);
                Decimal::from_unscaled_bytes(b, scale).to_plain_string()
            }
            other => return Err(format!("a Decimal must be bytes, got {other:?}")),
        },
        "io.debezium.data.VariableScaleDecimal" => match value {
            Value::Struct(fields) => {
                let at = |f: &str| schema.field_index(f).and_then(|i| fields.get(i));
                match (at("scale"), at("value")) {
                    (Some(Value::Int(scale)), Some(Value::Bytes(b))) => {
                        Decimal::from_unscaled_bytes(b, *scale as i32).to_plain_string()
                    }
                    _ => return Err("a VariableScaleDecimal needs scale and value".into()),
                }
            }
            other => {
                return Err(format!(
                    "a VariableScaleDecimal must be a struct, got {other:?}"
                ))
            }
        },
        "org.apache.kafka.connect.data.Date" => date(int()?, opts.legacy_calendar),
        "io.debezium.time.Date" => match int()? {
            DATE_POS_INFINITY => "infinity".into(),
            DATE_NEG_INFINITY => "-infinity".into(),
            d => date(d, false),
        },
        "org.apache.kafka.connect.data.Time" | "io.debezium.time.Time" => {
            time_of_day(int()? * 1000)
        }
        "io.debezium.time.MicroTime" => time_of_day(int()?),
        "io.debezium.time.NanoTime" => time_of_day(int()?.div_euclid(1000)),
        "org.apache.kafka.connect.data.Timestamp" => {
            instant_micros(int()?.saturating_mul(1000), target, opts)?
        }
        "io.debezium.time.Timestamp" => local_micros(int()?.saturating_mul(1000), false),
        "io.debezium.time.MicroTimestamp" => match int()? {
            TIMESTAMP_POS_INFINITY_MICROS => "infinity".into(),
            TIMESTAMP_NEG_INFINITY_MICROS => "-infinity".into(),
            us => local_micros(us, false),
        },
        "io.debezium.time.NanoTimestamp" => local_micros(int()?.div_euclid(1000), false),
        "io.debezium.time.ZonedTimestamp" => iso_with_era(string()?),
        "io.debezium.time.MicroDuration" => format!("{} microseconds", int()?),
        "io.debezium.data.Bits" => match value {
            Value::Bytes(b) => {
                let length = schema
                    .parameter("length")
                    .and_then(|v| v.parse::<usize>().ok());
                bits(b, length.filter(|_| target.base == "bit"))
            }
            other => {
                return Err(format!(
                    "io.debezium.data.Bits must be bytes, got {other:?}"
                ))
            }
        },
        "io.debezium.data.geometry.Point" => match value {
            Value::Struct(fields) => {
                let at = |f: &str| schema.field_index(f).and_then(|i| fields.get(i));
                match (at("x"), at("y")) {
                    (Some(Value::Float64(x)), Some(Value::Float64(y))) => {
                        format!("({},{})", float(*x), float(*y))
                    }
                    _ => return Err("a Point needs x and y".into()),
                }
            }
            other => return Err(format!("a Point must be a struct, got {other:?}")),
        },
        "io.debezium.data.Json" if target.base == "hstore" => hstore_from_json(string()?)?,
        _ => plain(schema, value, target, opts)?,
    }))
}

fn plain(
    schema: &Schema,
    value: &Value,
    target: &ColumnType,
    opts: &RenderOptions,
) -> Result<String, String> {
    Ok(match value {
        Value::Null => "NULL".into(),
        Value::Boolean(b) => if *b { "true" } else { "false" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float32(f) => float32(*f),
        Value::Float64(f) => float(*f),
        Value::String(_) | Value::SharedString(_) => value.as_str().unwrap_or("").to_owned(),
        Value::Bytes(b) => {
            let mut s = String::with_capacity(2 + b.len() * 2);
            s.push_str("\\x");
            for byte in b {
                s.push_str(&format!("{byte:02x}"));
            }
            s
        }
        Value::Array(items) => {
            let item_schema = schema
                .items
                .as_deref()
                .ok_or("an array without an item schema")?;
            let item_target = ColumnType {
                sql: target.sql.trim_end_matches("[]").to_owned(),
                base: target.base.clone(),
                is_array: false,
            };
            let mut s = String::from("{");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                match text(item_schema, item, &item_target, opts)? {
                    None => s.push_str("NULL"),
                    Some(t) => {
                        s.push('"');
                        for c in t.chars() {
                            if c == '"' || c == '\\' {
                                s.push('\\');
                            }
                            s.push(c);
                        }
                        s.push('"');
                    }
                }
            }
            s.push('}');
            s
        }
        Value::Map(entries) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in entries {
                let key = k.as_str().ok_or("map keys must be strings")?.to_owned();
                let v = match v {
                    Value::Null => serde_json::Value::Null,
                    other => serde_json::Value::String(plain(
                        schema
                            .items
                            .as_deref()
                            .ok_or("a map without a value schema")?,
                        other,
                        target,
                        opts,
                    )?),
                };
                obj.insert(key, v);
            }
            if target.base == "hstore" {
                hstore_from_json(&serde_json::Value::Object(obj).to_string())?
            } else {
                serde_json::Value::Object(obj).to_string()
            }
        }
        Value::Struct(_) => {
            return Err(sql_type(schema)
                .err()
                .unwrap_or_else(|| "a struct has no column value".into()))
        }
    })
}

fn float(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        // Debug is Rust's shortest round-trip form (`1e300`, `0.1`), which PostgreSQL reads.
        format!("{f:?}")
    }
}

fn float32(f: f32) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f:?}")
    }
}

/// `YYYY-MM-DD`, `... BC` for years before 1 (astronomical year 0 is 1 BC).
fn ymd(y: i64, m: u32, d: u32) -> String {
    if y <= 0 {
        format!("{:04}-{m:02}-{d:02} BC", 1 - y)
    } else {
        format!("{y:04}-{m:02}-{d:02}")
    }
}

fn date(days: i64, legacy: bool) -> String {
    let (y, m, d) = if legacy && days < GREGORIAN_CUTOVER_DAY {
        julian_from_days(days)
    } else {
        civil_from_days(days)
    };
    ymd(y, m, d)
}

/// The Julian calendar date of days since 1970-01-01 (astronomical years), as java.util's
/// hybrid calendar shows dates before the Gregorian cutover.
fn julian_from_days(days: i64) -> (i64, u32, u32) {
    let jdn = days + 2_440_588;
    let c = jdn + 32_082;
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - (1461 * d).div_euclid(4);
    let m = (5 * e + 2).div_euclid(153);
    let day = (e - (153 * m + 2).div_euclid(5) + 1) as u32;
    let month = (m + 3 - 12 * m.div_euclid(10)) as u32;
    let year = d - 4800 + m.div_euclid(10);
    (year, month, day)
}

/// Microseconds since midnight as `HH:MM:SS.ffffff` (`24:00:00` for a whole day).
fn time_of_day(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (h, mi, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    format!("{h:02}:{mi:02}:{s:02}.{frac:06}")
}

/// A wall-clock time given as microseconds since the epoch, without a zone.
fn local_micros(us: i64, legacy: bool) -> String {
    let days = us.div_euclid(86_400_000_000);
    let rest = us.rem_euclid(86_400_000_000);
    let d = date(days, legacy);
    let (day, era) = match d.strip_suffix(" BC") {
        Some(day) => (day.to_owned(), " BC"),
        None => (d, ""),
    };
    format!("{day} {}{era}", time_of_day(rest))
}

/// An instant (Connect's `Timestamp`): with its UTC offset into a `timestamptz`, as the
/// wall-clock time in `db.timezone` into anything else (Confluent binds with that calendar).
fn instant_micros(us: i64, target: &ColumnType, opts: &RenderOptions) -> Result<String, String> {
    if target.base == "timestamptz" {
        return Ok(format!("{}+00", local_micros(us, opts.legacy_calendar)));
    }
    let ts = jiff::Timestamp::from_microsecond(us).map_err(|e| e.to_string())?;
    let offset = opts.db_timezone.to_offset(ts).seconds();
    Ok(local_micros(
        us + i64::from(offset) * 1_000_000,
        opts.legacy_calendar,
    ))
}

/// Debezium's ISO timestamps use astronomical years (`-0044-...`, `+10000-...`); PostgreSQL
/// reads eras: year 0 is 1 BC.
fn iso_with_era(s: &str) -> String {
    let (sign, rest) = match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    };
    let Some(dash) = rest.find('-') else {
        return s.to_owned();
    };
    let Ok(year) = rest[..dash].parse::<i64>() else {
        return s.to_owned();
    };
    let year = sign * year;
    if year > 0 {
        return format!("{year:04}{}", &rest[dash..]);
    }
    let body = &rest[dash..];
    // ISO `...Z` with era: PostgreSQL wants the era after the whole timestamp.
    format!("{:04}{} BC", 1 - year, body)
}

/// Debezium's `Bits`: little-endian bytes, bit 0 the rightmost. `length` pads a `bit(n)`
/// value to its width; a `bit varying` value starts at its highest set bit (Debezium's
/// encoding does not keep leading zeros).
fn bits(bytes: &[u8], length: Option<usize>) -> String {
    let highest = bytes
        .iter()
        .enumerate()
        .rev()
        .find(|(_, b)| **b != 0)
        .map_or(0, |(i, b)| i * 8 + (8 - b.leading_zeros() as usize));
    let n = length.unwrap_or(highest).max(highest);
    (0..n)
        .rev()
        .map(|bit| {
            let set = bytes
                .get(bit / 8)
                .is_some_and(|b| b & (1 << (bit % 8)) != 0);
            if set {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

/// Debezium's `hstore.handling.mode=json` text back into hstore's `"k"=>"v"` form.
fn hstore_from_json(json: &str) -> Result<String, String> {
    let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(json)
        .map_err(|e| format!("hstore value is not a JSON object: {e}"))?;
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let parts: Vec<String> = obj
        .iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Null => "NULL".to_owned(),
                serde_json::Value::String(s) => quote(s),
                other => quote(&other.to_string()),
            };
            format!("{}=>{v}", quote(k))
        })
        .collect();
    Ok(parts.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::logical::days_from_civil;

    #[test]
    fn dates_times_and_eras() {
        assert_eq!(date(0, false), "1970-01-01");
        assert_eq!(date(days_from_civil(-43, 3, 15), false), "0044-03-15 BC");
        assert_eq!(time_of_day(86_400_000_000), "24:00:00.000000");
        assert_eq!(local_micros(-1, false), "1969-12-31 23:59:59.999999");
        assert_eq!(
            iso_with_era("-4713-12-31T23:59:59.999999Z"),
            "4714-12-31T23:59:59.999999Z BC"
        );
        assert_eq!(
            iso_with_era("+10000-01-01T00:00:00Z"),
            "10000-01-01T00:00:00Z"
        );
        assert_eq!(
            iso_with_era("2016-11-04T11:51:30.000000Z"),
            "2016-11-04T11:51:30.000000Z"
        );
        // 1582-10-04 (Julian) is the day before 1582-10-15 (Gregorian).
        assert_eq!(date(GREGORIAN_CUTOVER_DAY - 1, true), "1582-10-04");
        assert_eq!(date(GREGORIAN_CUTOVER_DAY - 1, false), "1582-10-14");
    }

    #[test]
    fn bits_as_debezium_encodes_them() {
        assert_eq!(bits(&[3], Some(2)), "11");
        assert_eq!(bits(&[64], Some(7)), "1000000");
        assert_eq!(bits(&[], Some(2)), "00");
        assert_eq!(bits(&[1, 2, 3], Some(24)), "000000110000001000000001");
        assert_eq!(bits(&[1], None), "1");
    }

    #[test]
    fn propagated_source_types_become_the_column_type() {
        let with = |ty: SchemaType, params: &[(&str, &str)]| {
            let mut s = Schema::new(ty);
            for (k, v) in params {
                s = s.param(format!("__debezium.source.column.{k}"), *v);
            }
            sql_type(&s).unwrap()
        };
        let s = SchemaType::String;
        let max = "2147483647";
        assert_eq!(
            with(s, &[("type", "VARCHAR"), ("length", "2"), ("scale", "0")]),
            "varchar(2)"
        );
        assert_eq!(with(s, &[("type", "VARCHAR"), ("length", max)]), "varchar");
        assert_eq!(with(s, &[("type", "BPCHAR"), ("length", "6")]), "char(6)");
        assert_eq!(
            with(s, &[("type", "_BPCHAR"), ("length", "6")]),
            "char(6)[]"
        );
        assert_eq!(with(s, &[("type", "JSONB"), ("length", max)]), "jsonb");
        assert_eq!(with(s, &[("type", "TSTZRANGE")]), "tstzrange");
        let f = SchemaType::Float64;
        assert_eq!(
            with(f, &[("type", "MONEY"), ("length", max), ("scale", "0")]),
            "money"
        );
        assert_eq!(
            with(f, &[("type", "NUMERIC"), ("length", "8"), ("scale", "3")]),
            "numeric(8,3)"
        );
        // A snapshot of an unconstrained numeric carries length 0 and no scale.
        assert_eq!(with(f, &[("type", "NUMERIC"), ("length", "0")]), "numeric");
        let i = SchemaType::Int64;
        assert_eq!(
            with(
                i,
                &[("type", "TIMESTAMP"), ("length", "26"), ("scale", "3")]
            ),
            "timestamp(3)"
        );
        assert_eq!(
            with(
                i,
                &[("type", "TIMESTAMP"), ("length", "29"), ("scale", "6")]
            ),
            "timestamp"
        );
        assert_eq!(
            with(SchemaType::Int32, &[("type", "SERIAL"), ("length", "10")]),
            "serial"
        );
        // Enums and domains may not exist in the target: the Connect mapping decides.
        assert_eq!(with(s, &[("type", "MOOD"), ("length", max)]), "text");
        assert_eq!(
            with(f, &[("type", "FLOAT83"), ("length", "8"), ("scale", "3")]),
            "double precision"
        );
    }

    #[test]
    fn hstore_and_floats() {
        assert_eq!(
            hstore_from_json(r#"{"a":"1","b":null}"#).unwrap(),
            r#""a"=>"1","b"=>NULL"#
        );
        assert_eq!(float(3.0), "3.0");
        assert_eq!(float(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(float32(3.3), "3.3");
    }
}
