//! Column defaults as Debezium's PostgresDefaultValueConverter reads `pg_get_expr`: a placeholder
//! for generated values, otherwise the literal, through the column's converter. It must never fail
//! a column over its default: one it cannot read leaves the schema without one, as Debezium does.

use std::sync::LazyLock;

use regex::Regex;
use sluice_config::postgres::TypeOptions;
use sluice_core::data::Value;
use sluice_core::logical::{days_from_civil, Decimal as Dec};

use super::binary::bits_to_bytes;
use super::numeric::numeric_value;
use super::time::{
    backend_timestamp, epoch_micros, format_zoned_timestamp, interval_value, java_local_time,
    time_value, timestamp_for, Backend, Interval,
};
use super::{oid, ColumnDesc, Conv, PgTypeKind};

static LITERAL_DEFAULT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"'([^']*(?:''[^']*)*)'").ok());
static FUNCTION_DEFAULT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)").ok());
const CURRENT_DATE_TIMES: [&str; 5] = [
    "current_timestamp",
    "current_time",
    "current_date",
    "localtime",
    "localtimestamp",
];
const ZERO_UUID: &str = "00000000-0000-0000-0000-000000000000";

/// Debezium's extractDefault: a placeholder for generated values (functions, CURRENT_*), the
/// first quoted literal, or the raw text; `None` for a NULL default or unreadable text.
fn extract_default(expr: &str, placeholder: &str) -> Option<String> {
    let function = FUNCTION_DEFAULT
        .as_ref()
        .is_some_and(|re| re.is_match(expr));
    if function || CURRENT_DATE_TIMES.contains(&expr.to_lowercase().as_str()) {
        return Some(placeholder.to_owned());
    }
    if !expr.contains('\'') {
        return (!expr.starts_with("NULL::")).then(|| expr.to_owned());
    }
    let caps = LITERAL_DEFAULT.as_ref()?.captures(expr)?;
    Some(caps.get(1)?.as_str().replace("''", "'"))
}

pub(super) fn default_value(col: &ColumnDesc, conv: &Conv, opts: &TypeOptions) -> Option<Value> {
    let expr = col.default_expr.as_deref()?;
    let value = match &col.ty.kind {
        PgTypeKind::Enum { .. } => Value::String(enum_default(&col.ty.name, expr)?),
        // Debezium has mappers only for named base types: domains and arrays get no default.
        PgTypeKind::Domain { .. } | PgTypeKind::Array { .. } => return None,
        _ => builtin_default(col.ty.oid, expr, conv, opts)?,
    };
    // Connect cannot hold a struct default (KAFKA-12694): Debezium drops it.
    (!matches!(value, Value::Struct(_))).then_some(value)
}

fn builtin_default(type_oid: u32, expr: &str, conv: &Conv, opts: &TypeOptions) -> Option<Value> {
    use oid::*;
    // TRIM_DATA_TYPES: everything but the character types, json and xml.
    let trimmed = expr.trim();
    // parseNullDefault for the scalar mappers.
    let not_null = || (!trimmed.starts_with("NULL::")).then_some(());
    Some(match type_oid {
        BIT => {
            let s = extract_default(trimmed, "00")?;
            match conv {
                Conv::Bool { .. } if s.len() == 1 => Value::Boolean(s == "1"),
                Conv::Bool { .. } => Value::Boolean(i32::from_str_radix(&s, 2).ok()? != 0),
                Conv::Bits { .. } if s.len() == 1 => Value::Bytes(vec![u8::from(s == "1")]),
                Conv::Bits { .. } => Value::Bytes(bits_to_bytes(&s).ok()?),
                _ => return None,
            }
        }
        VARBIT => {
            let s = extract_default(trimmed, "0")?;
            match conv {
                Conv::Bool { .. } => Value::Boolean(i32::from_str_radix(&s, 2).ok()? != 0),
                _ => Value::Bytes(bits_to_bytes(&s).ok()?),
            }
        }
        BOOL => {
            not_null()?;
            Value::Boolean(extract_default(trimmed, "false")?.eq_ignore_ascii_case("true"))
        }
        BPCHAR | VARCHAR | TEXT | XML => Value::String(extract_default(expr, "")?),
        JSON | JSONB => Value::String(extract_default(expr, "{}")?),
        NUMERIC => {
            not_null()?;
            let Conv::Numeric {
                scale, variable, ..
            } = conv
            else {
                return None;
            };
            let dec = Dec::parse(&extract_default(trimmed, "0.0")?)?;
            numeric_value(dec, *scale, *variable, opts).ok()?
        }
        FLOAT4 => {
            not_null()?;
            Value::Float32(extract_default(trimmed, "0.0")?.trim().parse().ok()?)
        }
        FLOAT8 => {
            not_null()?;
            Value::Float64(extract_default(trimmed, "0.0")?.trim().parse().ok()?)
        }
        INT2 => {
            not_null()?;
            Value::Int(extract_default(trimmed, "0")?.parse::<i16>().ok()?.into())
        }
        INT4 => {
            not_null()?;
            Value::Int(extract_default(trimmed, "0")?.parse::<i32>().ok()?.into())
        }
        INT8 => {
            not_null()?;
            Value::Int(extract_default(trimmed, "0")?.parse::<i64>().ok()?)
        }
        UUID => Value::String(java_uuid(&extract_default(trimmed, ZERO_UUID)?)?),
        DATE => {
            let days = match backend_timestamp(&extract_default(trimmed, "1970-01-01")?)? {
                Backend::Infinity(positive) => {
                    // LocalDateTime.MAX/MIN's epoch day through Debezium's int cast.
                    if positive {
                        days_from_civil(999_999_999, 12, 31)
                    } else {
                        days_from_civil(-999_999_999, 1, 1)
                    }
                }
                Backend::At { days, .. } => days,
            };
            Value::Int((days as i32).into())
        }
        TIME => {
            let Conv::Time { precision } = conv else {
                return None;
            };
            let nanos = java_local_time(&extract_default(trimmed, "00:00")?)?;
            Value::Int(time_value(nanos, *precision, opts).ok()?)
        }
        TIMESTAMP => {
            let Conv::Timestamp { precision } = conv else {
                return None;
            };
            // pgjdbc ignores the zone here; infinity overflows Debezium's arithmetic, no default.
            let Backend::At { days, nanos, .. } =
                backend_timestamp(&extract_default(trimmed, "1970-01-01")?)?
            else {
                return None;
            };
            let micros = epoch_micros(days * 86_400, nanos)?;
            Value::Int(timestamp_for(micros, *precision, opts))
        }
        TIMESTAMPTZ => {
            let Conv::TimestampTz { scale } = conv else {
                return None;
            };
            let Backend::At {
                days,
                nanos,
                offset,
            } = backend_timestamp(&extract_default(trimmed, "1970-01-01")?)?
            else {
                return None;
            };
            let secs = days * 86_400 + nanos / 1_000_000_000 - offset;
            Value::String(format_zoned_timestamp(secs, nanos % 1_000_000_000, *scale))
        }
        INTERVAL => {
            let text = extract_default(trimmed, "epoch")?;
            // PGInterval reads Debezium's placeholder "epoch" as a zero interval.
            let interval = if text == "epoch" {
                Interval::default()
            } else {
                Interval::parse(&text).ok()?
            };
            interval_value(&interval, opts)
        }
        _ => return None,
    })
}

/// extractEnumDefault: `'label'::type` whose cast names this enum; the label is taken as is.
fn enum_default(type_name: &str, expr: &str) -> Option<String> {
    let cast = expr.rfind("::")?;
    let suffix = &expr[cast + 2..];
    let last = match suffix.strip_suffix('"') {
        Some(quoted) => &quoted[quoted.rfind('"')? + 1..],
        None => suffix.rsplit('.').next()?,
    };
    if last != type_name {
        return None;
    }
    let value = &expr[..cast];
    (value.len() >= 2 && value.starts_with('\'') && value.ends_with('\''))
        .then(|| value[1..value.len() - 1].to_owned())
}

/// `UUID.fromString(s).toString()`.
fn java_uuid(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 5 || s.len() > 36 {
        return None;
    }
    let mut v = [0u64; 5];
    for (slot, p) in v.iter_mut().zip(&parts) {
        if p.is_empty() || p.len() > 16 {
            return None;
        }
        *slot = u64::from_str_radix(p, 16).ok()?;
    }
    Some(format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        v[0] & 0xFFFF_FFFF,
        v[1] & 0xFFFF,
        v[2] & 0xFFFF,
        v[3] & 0xFFFF,
        v[4] & 0xFFFF_FFFF_FFFF
    ))
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::tests::{arr, b, col, dflt, domain, i, json_of, nn, numeric, opts, s, schema_of, ty};
    use crate::types::PgType;
    use sluice_config::postgres::DecimalHandlingMode;

    #[test]
    fn defaults() {
        let status = PgType {
            oid: 70_001,
            name: "Status".into(),
            kind: PgTypeKind::Enum { labels: vec!["DRAFT".into(), "DONE".into()] },
        };
        // (type, typmod, NOT NULL, pg_get_expr, default)
        let cases: Vec<(PgType, i32, bool, &str, Option<Value>)> = vec![
            // DVC.shouldSetTheNullValueIn{Snapshot,Streaming}
            (ty("int4"), -1, true, "nextval('a_pk_seq'::regclass)", Some(i(0))),
            (ty("int4"), -1, false, "NULL::integer", None),
            (ty("varchar"), 68, false, "NULL::character varying", None),
            (ty("varchar"), 68, false, "'NULL'::character varying", Some(s("NULL"))),
            (ty("varchar"), 68, false, "'MYVALUE'::character varying", Some(s("MYVALUE"))),
            (ty("varchar"), 68, false, "'NULL::character varying'::character varying", Some(s("NULL::character varying"))),
            // generated values get the type's placeholder, nullable or not (DVC dt1, dt2, dt3)
            (ty("timestamp"), -1, false, "CURRENT_TIMESTAMP", Some(i(0))),
            (ty("date"), -1, false, "CURRENT_DATE", Some(i(0))),
            (ty("time"), -1, false, "CURRENT_TIME", Some(i(0))),
            (ty("timestamptz"), -1, true, "now()", Some(s("1970-01-01T00:00:00.000000Z"))),
            (ty("text"), -1, true, "upper('x'::text)", Some(s(""))),
            (ty("interval"), -1, true, "(now() - CURRENT_TIMESTAMP)", Some(i(0))),
            // DVC.testShouldHandleDefaultValueFunctionsWithSchemaPrefixes
            (ty("uuid"), -1, true, "s2.tst_generate_random_uuid()", Some(s(ZERO_UUID))),
            (ty("uuid"), -1, true, "'76019D1A-AD2E-4B22-96E9-1A6D6543C818'::uuid", Some(s("76019d1a-ad2e-4b22-96e9-1a6d6543c818"))),
            // DVC.shouldTruncateDefaultValuePrecisionToMatchColumnMaxPrecision
            (ty("numeric"), numeric(12, 0), true, "0.0", Some(b(&[0]))),
            (ty("numeric"), numeric(12, 0), true, "2.25", None),
            (ty("numeric"), numeric(6, 2), true, "'-1.5'::numeric", Some(b(&[0xff, 0x6a]))),
            (ty("numeric"), -1, true, "1.5", None), // a struct default is dropped (KAFKA-12694)
            // DVC.shouldHandleQuotedEnumTypeDefaultValues
            (status.clone(), -1, true, r#"'DRAFT'::s1."Status""#, Some(s("DRAFT"))),
            (status, -1, true, "'DRAFT'::other", None),
            // literals as pg_get_expr prints them
            (ty("int4"), -1, true, "'-1'::integer", Some(i(-1))),
            (ty("int4"), -1, true, "(-1)", None), // Integer.parseInt("(-1)") fails in Debezium too
            (ty("int8"), -1, true, "'9223372036854775807'::bigint", Some(i(i64::MAX))),
            (ty("int2"), -1, true, "'1'::smallint", Some(i(1))),
            (ty("bool"), -1, true, "true", Some(true.into())),
            (ty("bool"), -1, true, "false", Some(false.into())),
            (ty("float8"), -1, true, "'1.5'::double precision", Some(Value::Float64(1.5))),
            (ty("float4"), -1, true, "'1.5'::real", Some(Value::Float32(1.5))),
            (ty("text"), -1, true, "'it''s'::text", Some(s("it's"))),
            (ty("bpchar"), 9, true, "'abc'::bpchar", Some(s("abc"))),
            (ty("jsonb"), -1, true, "'{}'::jsonb", Some(s("{}"))),
            (ty("bit"), 3, true, r#"B'101'::"bit""#, Some(b(&[5]))),
            (ty("bit"), 1, true, r#"B'1'::"bit""#, Some(true.into())),
            (ty("varbit"), 1, true, "B'0'::bit varying", Some(false.into())),
            (ty("date"), -1, true, "'2016-11-04'::date", Some(i(17109))),
            (ty("date"), -1, true, "'infinity'::date", Some(i(169_560_311))), // (int) of LocalDate.MAX's day
            (ty("time"), -1, true, "'13:51:30'::time without time zone", Some(i(49_890_000_000))),
            (ty("time"), -1, true, "'24:00:00'::time without time zone", Some(i(86_399_999_999))), // LocalTime.MAX
            (ty("timestamp"), 3, true, "'2016-11-04 13:51:30.123'::timestamp without time zone", Some(i(1_478_267_490_123))),
            (ty("timestamptz"), -1, true, "'2020-01-01 10:00:00+02'::timestamp with time zone",
                Some(s("2020-01-01T08:00:00.000000Z"))),
            (ty("timestamptz"), -1, true, "'infinity'::timestamp with time zone", None),
            (ty("interval"), -1, true, "'P1D'::interval", Some(i(86_400_000_000))),
            (ty("interval"), -1, true, "'1 day'::interval", Some(i(86_400_000_000))),
            // no mapper: money, timetz, domains, arrays
            (ty("money"), -1, true, "0.0", None),
            (ty("timetz"), -1, true, "CURRENT_TIME", None),
            (domain("int2", ty("int4"), -1), -1, true, "0", None),
            (arr(ty("int4")), -1, true, "'{}'::integer[]", None),
        ];
        for (t, typmod, not_null, expr, want) in cases {
            let c = dflt(col(t, typmod), expr);
            let c = if not_null { nn(c) } else { c };
            assert_eq!(schema_of(&c, &opts()).default, want, "{expr}");
        }
        assert_eq!(json_of(&dflt(nn(col(ty("numeric"), numeric(12, 0))), "0.0"), &opts()), concat!(
            r#"{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"#,
            r#""parameters":{"scale":"0","connect.decimal.precision":"12"},"default":"AA=="}"#
        ));
        // string mode keeps the column's scale
        let string = TypeOptions { decimal: DecimalHandlingMode::String, ..opts() };
        assert_eq!(schema_of(&dflt(nn(col(ty("numeric"), numeric(6, 2))), "1.5"), &string).default, Some(s("1.50")));
    }
}
