//! Result values, read from PostgreSQL's binary format, as the JDBC connector's getters return
//! them: `getLong` of a numeric truncates, `getBigDecimal(col, scale)` refuses to round,
//! `getTimestamp(col, calendar)` reads a `timestamp` as a wall clock in `db.timezone`, dates
//! before 1582-10-15 follow java.util's Julian calendar unless `date.calendar.system` says
//! otherwise, and ±infinity become pgjdbc's sentinel instants. A value Java would refuse is an
//! error here too, never a different value.

use sluice_config::jdbc_source::{DateCalendar, TimestampGranularity};
use sluice_core::data::Value;
use sluice_core::logical::{self, civil_from_days, Decimal, Round};
use tokio_postgres::types::Type;

use super::offset::Instant;
use super::schema::Getter;

/// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_SECS: i64 = 946_684_800;
const PG_EPOCH_DAYS: i64 = 10_957;
/// pgjdbc's `PGStatement.DATE_POSITIVE_INFINITY` / `DATE_NEGATIVE_INFINITY` (ms).
const POSITIVE_INFINITY_MS: i64 = 9_223_372_036_825_200_000;
const NEGATIVE_INFINITY_MS: i64 = -9_223_372_036_832_400_000;
const MS_PER_DAY: i64 = 86_400_000;
/// 1582-10-15, the first day of the Gregorian calendar in java.util's hybrid calendar.
const GREGORIAN_CUTOVER_DAY: i64 = -141_427;

/// What the getters need besides the bytes.
#[derive(Debug, Clone)]
pub struct ValueContext {
    pub zone: jiff::tz::TimeZone,
    pub zone_is_utc: bool,
    pub calendar: DateCalendar,
}

/// One column's value, and for timestamps the instant behind it (offsets keep its nanos).
pub fn read(
    getter: Getter,
    ty: &Type,
    raw: &[u8],
    ctx: &ValueContext,
) -> Result<(Value, Option<Instant>), String> {
    let v = match getter {
        Getter::Boolean => Value::Boolean(boolean(ty, raw)?),
        Getter::Byte => Value::Int(integral(
            ty,
            raw,
            i64::from(i8::MIN),
            i64::from(i8::MAX),
            "byte",
        )?),
        Getter::Short => Value::Int(integral(
            ty,
            raw,
            i64::from(i16::MIN),
            i64::from(i16::MAX),
            "short",
        )?),
        Getter::Int => Value::Int(integral(
            ty,
            raw,
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            "int",
        )?),
        Getter::Long => Value::Int(integral(ty, raw, i64::MIN, i64::MAX, "long")?),
        Getter::Float => Value::Float32(f32::from_be_bytes(fixed(raw)?)),
        Getter::Double => Value::Float64(double(ty, raw)?),
        Getter::Decimal(scale) => {
            let text = match numeric_text(raw)? {
                Numeric::Finite(t) => t,
                other => return Err(format!("Bad value for type BigDecimal : {}", other.java())),
            };
            let bytes = logical::decimal_from_text(&text, scale)
                .ok_or_else(|| format!("Bad value for type BigDecimal : {text}"))?;
            Value::Bytes(bytes)
        }
        Getter::String => Value::String(string(ty, raw)?),
        Getter::Bytes => Value::Bytes(if *ty == Type::BIT {
            bit_text(raw)?.into_bytes()
        } else {
            raw.to_vec()
        }),
        Getter::Date => Value::Int(date_days(raw, ctx)?),
        Getter::Time => Value::Int(time_ms(ty, raw, ctx)?),
        Getter::Timestamp(g) => {
            let (value, instant) = timestamp(ty, raw, ctx, g)?;
            return Ok((value, instant));
        }
    };
    Ok((v, None))
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into()
        .map_err(|_| format!("expected {N} bytes, got {}", raw.len()))
}

fn boolean(ty: &Type, raw: &[u8]) -> Result<bool, String> {
    if *ty == Type::BIT {
        return Ok(bit_text(raw)? == "1");
    }
    Ok(raw.first().copied().unwrap_or(0) != 0)
}

/// A bit string's text (`0101`), from `int32 length` + bytes.
fn bit_text(raw: &[u8]) -> Result<String, String> {
    let len = i32::from_be_bytes(fixed(raw.get(..4).unwrap_or(&[]))?) as usize;
    let bytes = &raw[4..];
    if bytes.len() * 8 < len {
        return Err("truncated bit string".into());
    }
    Ok((0..len)
        .map(|i| {
            if bytes[i / 8] & (0x80 >> (i % 8)) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect())
}

/// `getByte`/`getShort`/`getInt`/`getLong`: integers as they are, numerics truncated toward
/// zero, a bit string's text read as a decimal number; out of range is pgjdbc's error.
fn integral(ty: &Type, raw: &[u8], min: i64, max: i64, java: &str) -> Result<i64, String> {
    let (v, shown): (Option<i64>, String) = match *ty {
        Type::INT2 => {
            let v = i64::from(i16::from_be_bytes(fixed(raw)?));
            (Some(v), v.to_string())
        }
        Type::INT4 => {
            let v = i64::from(i32::from_be_bytes(fixed(raw)?));
            (Some(v), v.to_string())
        }
        Type::INT8 => {
            let v = i64::from_be_bytes(fixed(raw)?);
            (Some(v), v.to_string())
        }
        Type::OID => {
            let v = i64::from(u32::from_be_bytes(fixed(raw)?));
            (Some(v), v.to_string())
        }
        Type::NUMERIC => match numeric_text(raw)? {
            Numeric::Finite(text) => {
                let truncated = Decimal::parse(&text)
                    .and_then(|d| d.with_scale(0, Round::Down))
                    .map(|d| d.to_plain_string());
                (truncated.and_then(|t| t.parse().ok()), text)
            }
            other => (None, other.java().to_owned()),
        },
        Type::BIT => {
            let text = bit_text(raw)?;
            (text.parse().ok(), text)
        }
        _ => return Err(format!("cannot read a {} as a {java}", ty.name())),
    };
    match v {
        Some(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!("Bad value for type {java} : {shown}")),
    }
}

fn double(ty: &Type, raw: &[u8]) -> Result<f64, String> {
    match *ty {
        Type::FLOAT8 => Ok(f64::from_be_bytes(fixed(raw)?)),
        Type::FLOAT4 => Ok(f64::from(f32::from_be_bytes(fixed(raw)?))),
        // pgjdbc reads money's text ($1,234.56) without its symbols: cents / 100.
        Type::MONEY => Ok(i64::from_be_bytes(fixed(raw)?) as f64 / 100.0),
        Type::NUMERIC => match numeric_text(raw)? {
            Numeric::Finite(t) => t
                .parse()
                .map_err(|_| format!("Bad value for type double : {t}")),
            Numeric::NaN => Ok(f64::NAN),
            Numeric::PosInf => Ok(f64::INFINITY),
            Numeric::NegInf => Ok(f64::NEG_INFINITY),
        },
        _ => Err(format!("cannot read a {} as a double", ty.name())),
    }
}

fn string(ty: &Type, raw: &[u8]) -> Result<String, String> {
    let utf8 =
        |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| "text is not valid UTF-8".to_owned());
    match *ty {
        Type::JSONB => utf8(raw.get(1..).unwrap_or(&[])),
        Type::UUID => {
            let b: [u8; 16] = fixed(raw)?;
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            Ok(format!(
                "{}-{}-{}-{}-{}",
                &hex[..8],
                &hex[8..12],
                &hex[12..16],
                &hex[16..20],
                &hex[20..]
            ))
        }
        // "char": one byte.
        Type::CHAR => Ok(raw.iter().map(|b| char::from(*b)).collect()),
        _ => utf8(raw),
    }
}

/// A numeric's value as PostgreSQL prints it, or one of its special values.
#[derive(Debug, PartialEq)]
pub enum Numeric {
    Finite(String),
    NaN,
    PosInf,
    NegInf,
}

impl Numeric {
    fn java(&self) -> &'static str {
        match self {
            Numeric::NaN => "NaN",
            Numeric::PosInf => "Infinity",
            Numeric::NegInf => "-Infinity",
            Numeric::Finite(_) => "",
        }
    }
}

/// numeric_send: ndigits, weight, sign, dscale (int16 each), then base-10000 digits.
pub fn numeric_text(raw: &[u8]) -> Result<Numeric, String> {
    let word = |i: usize| -> Result<i16, String> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "truncated numeric".to_owned())
    };
    let ndigits = word(0)? as usize;
    let weight = i32::from(word(1)?);
    let sign = word(2)? as u16;
    let dscale = word(3)? as u16 as usize;
    match sign {
        0xC000 => return Ok(Numeric::NaN),
        0xD000 => return Ok(Numeric::PosInf),
        0xF000 => return Ok(Numeric::NegInf),
        _ => {}
    }
    let digit = |i: i32| -> Result<i16, String> {
        if i < 0 || i as usize >= ndigits {
            Ok(0)
        } else {
            word(4 + i as usize)
        }
    };
    let mut out = String::with_capacity(ndigits * 4 + dscale + 2);
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let d = digit(i)?;
            if i == 0 {
                out.push_str(&d.to_string());
            } else {
                out.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut frac = String::with_capacity(dscale + 4);
        let mut i = weight + 1;
        while frac.len() < dscale {
            frac.push_str(&format!("{:04}", digit(i)?));
            i += 1;
        }
        frac.truncate(dscale);
        out.push_str(&frac);
    }
    Ok(Numeric::Finite(out))
}

/// Days since the epoch of a date's fields in java.util's hybrid calendar (Julian before the
/// cutover), when the legacy calendar is asked for.
fn calendar_days(days: i64, calendar: DateCalendar) -> i64 {
    if calendar == DateCalendar::ProlepticGregorian || days >= GREGORIAN_CUTOVER_DAY {
        return days;
    }
    let (y, m, d) = civil_from_days(days);
    days_from_julian(y, m, d)
}

/// Days since 1970-01-01 of a Julian calendar date (astronomical year numbering).
pub fn days_from_julian(y: i64, m: u32, d: u32) -> i64 {
    let a = (14 - i64::from(m)) / 12;
    let y2 = y + 4800 - a;
    let m2 = i64::from(m) + 12 * a - 3;
    let jdn = i64::from(d) + (153 * m2 + 2) / 5 + 365 * y2 + y2.div_euclid(4) - 32083;
    jdn - 2_440_588
}

fn date_days(raw: &[u8], ctx: &ValueContext) -> Result<i64, String> {
    let d = i32::from_be_bytes(fixed(raw)?);
    if d == i32::MAX || d == i32::MIN {
        // pgjdbc's infinity dates are not midnights: Connect's Date refuses them.
        return Err("Kafka Connect Date type should not have any time fields set to non-zero values (the date is infinity)".into());
    }
    Ok(calendar_days(i64::from(d) + PG_EPOCH_DAYS, ctx.calendar))
}

fn time_ms(ty: &Type, raw: &[u8], ctx: &ValueContext) -> Result<i64, String> {
    let us = i64::from_be_bytes(fixed(raw.get(..8).unwrap_or(&[]))?);
    let ms = us / 1000;
    let ms = if *ty == Type::TIMETZ {
        // The zone is in seconds west of UTC.
        let west = i64::from(i32::from_be_bytes(fixed(raw.get(8..12).unwrap_or(&[]))?));
        ms + west * 1000
    } else if ctx.zone_is_utc {
        ms
    } else {
        // The time of day on 1970-01-01 in db.timezone.
        let offset = ctx.zone.to_offset(jiff::Timestamp::UNIX_EPOCH).seconds();
        ms - i64::from(offset) * 1000
    };
    if !(0..=MS_PER_DAY).contains(&ms) {
        return Err("Kafka Connect Time type should not have any date fields set to non-zero values (the time of day in db.timezone falls on another day)".into());
    }
    Ok(ms)
}

/// The instant of a timestamp value: a `timestamptz` as is, a `timestamp` as a wall clock in
/// `db.timezone`; `None` for ±infinity (returned as pgjdbc's sentinel milliseconds).
fn timestamp_instant(
    ty: &Type,
    raw: &[u8],
    ctx: &ValueContext,
) -> Result<Result<Instant, i64>, String> {
    let us = i64::from_be_bytes(fixed(raw)?);
    if us == i64::MAX {
        return Ok(Err(POSITIVE_INFINITY_MS));
    }
    if us == i64::MIN {
        return Ok(Err(NEGATIVE_INFINITY_MS));
    }
    let wall_us = i128::from(us) + i128::from(PG_EPOCH_SECS) * 1_000_000;
    let mut instant_us = wall_us;
    if *ty == Type::TIMESTAMP && !ctx.zone_is_utc {
        let secs = wall_us.div_euclid(1_000_000) as i64;
        let sub_us = wall_us.rem_euclid(1_000_000) as i64;
        let civil = jiff::tz::Offset::UTC
            .to_datetime(jiff::Timestamp::from_second(secs).map_err(|e| e.to_string())?);
        let instant = ctx
            .zone
            .to_ambiguous_timestamp(civil)
            .compatible()
            .map_err(|e| e.to_string())?;
        instant_us = i128::from(instant.as_second()) * 1_000_000 + i128::from(sub_us);
    }
    if ctx.calendar == DateCalendar::Legacy {
        let day = wall_us.div_euclid(86_400_000_000) as i64;
        let shift = calendar_days(day, ctx.calendar) - day;
        instant_us += i128::from(shift) * 86_400_000_000;
    }
    Ok(Ok(Instant {
        nanos: instant_us * 1000,
    }))
}

fn timestamp(
    ty: &Type,
    raw: &[u8],
    ctx: &ValueContext,
    g: TimestampGranularity,
) -> Result<(Value, Option<Instant>), String> {
    let instant = match timestamp_instant(ty, raw, ctx)? {
        Ok(i) => i,
        Err(sentinel_ms) => Instant::from_millis(sentinel_ms),
    };
    Ok((granular(instant, ctx, g), Some(instant)))
}

/// A timestamp as `timestamp.granularity` represents it (`TimestampGranularity.fromTimestamp`,
/// with `DateTimeUtils`' arithmetic on `getTime()` and `getNanos()`).
fn granular(i: Instant, ctx: &ValueContext, g: TimestampGranularity) -> Value {
    use TimestampGranularity as G;
    // Java's `getTime() / 1000` truncates toward zero.
    let secs = i.millis() / 1000;
    let micros = || secs * 1_000_000 + i.nanos_of_second() / 1000;
    let nanos = || i128::from(secs) * 1_000_000_000 + i128::from(i.nanos_of_second());
    match g {
        G::ConnectLogical => Value::Int(i.millis()),
        G::MicrosLong => Value::Int(micros()),
        G::MicrosString => Value::String(micros().to_string()),
        G::NanosLong => Value::Int(nanos() as i64),
        G::NanosString => Value::String(nanos().to_string()),
        G::MicrosIsoDatetimeString | G::NanosIsoDatetimeString => {
            let digits = if g == G::MicrosIsoDatetimeString {
                6
            } else {
                9
            };
            let ts = jiff::Timestamp::from_second(i.nanos.div_euclid(1_000_000_000) as i64)
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
            let dt = ctx.zone.to_datetime(ts);
            let frac = format!("{:09}", i.nanos_of_second());
            Value::String(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{}",
                dt.year(),
                dt.month(),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                &frac[..digits]
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_core::logical::days_from_civil;

    fn utc() -> ValueContext {
        ValueContext {
            zone: jiff::tz::TimeZone::UTC,
            zone_is_utc: true,
            calendar: DateCalendar::Legacy,
        }
    }

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: u16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        for w in [ndigits, weight, sign as i16, dscale as i16] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numerics_as_postgres_prints_them() {
        let t = |raw: Vec<u8>| match numeric_text(&raw).unwrap() {
            Numeric::Finite(s) => s,
            other => format!("{other:?}"),
        };
        assert_eq!(t(numeric(2, 0, 0, 2, &[12, 5000])), "12.50");
        assert_eq!(t(numeric(1, -1, 0x4000, 4, &[5])), "-0.0005");
        assert_eq!(t(numeric(2, 1, 0, 0, &[1, 0])), "10000");
        assert_eq!(t(numeric(0, 0, 0, 0, &[])), "0");
        assert_eq!(t(numeric(1, -2, 0, 6, &[1200])), "0.000012");
        assert_eq!(t(numeric(0, 0, 0xC000, 0, &[])), "NaN");
    }

    #[test]
    fn getters_refuse_what_java_refuses() {
        let ctx = utc();
        let n = numeric(2, 0, 0, 2, &[12, 5000]);
        let (v, _) = read(Getter::Decimal(2), &Type::NUMERIC, &n, &ctx).unwrap();
        assert_eq!(v, Value::Bytes(vec![0x04, 0xe2])); // 1250
        assert!(read(Getter::Decimal(1), &Type::NUMERIC, &n, &ctx).is_ok());
        let n2 = numeric(2, 0, 0, 2, &[12, 5500]);
        assert!(read(Getter::Decimal(1), &Type::NUMERIC, &n2, &ctx)
            .unwrap_err()
            .contains("Bad value for type BigDecimal : 12.55"));
        // getLong truncates toward zero; getByte refuses 300.
        assert_eq!(
            read(Getter::Long, &Type::NUMERIC, &n, &ctx).unwrap().0,
            Value::Int(12)
        );
        let big = numeric(1, 0, 0, 0, &[300]);
        assert!(read(Getter::Byte, &Type::NUMERIC, &big, &ctx)
            .unwrap_err()
            .contains("Bad value for type byte : 300"));
        let nan = numeric(0, 0, 0xC000, 0, &[]);
        assert!(read(Getter::Decimal(2), &Type::NUMERIC, &nan, &ctx)
            .unwrap_err()
            .contains("NaN"));
        assert!(
            matches!(read(Getter::Double, &Type::NUMERIC, &nan, &ctx).unwrap().0, Value::Float64(f) if f.is_nan())
        );
        // bit(3) '101' read with getByte is the number 101; bit(10) its text bytes.
        let bits = [0, 0, 0, 3, 0b1010_0000];
        assert_eq!(
            read(Getter::Byte, &Type::BIT, &bits, &ctx).unwrap().0,
            Value::Int(101)
        );
        assert_eq!(
            read(Getter::Bytes, &Type::BIT, &bits, &ctx).unwrap().0,
            Value::Bytes(b"101".to_vec())
        );
        assert_eq!(
            read(Getter::Boolean, &Type::BOOL, &[1], &ctx).unwrap().0,
            Value::Boolean(true)
        );
        let uuid = [
            0x12u8, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0, 1, 2, 3, 4, 5, 6, 7,
        ];
        assert_eq!(
            read(Getter::String, &Type::UUID, &uuid, &ctx).unwrap().0,
            Value::String("12345678-9abc-def0-0001-020304050607".into())
        );
        assert_eq!(
            read(Getter::Double, &Type::MONEY, &1250i64.to_be_bytes(), &ctx)
                .unwrap()
                .0,
            Value::Float64(12.5)
        );
    }

    #[test]
    fn timestamps_dates_and_times() {
        let ctx = utc();
        // 2017-02-15 09:45:30.508453 as a timestamp.
        let wall = (days_from_civil(2017, 2, 15) - PG_EPOCH_DAYS) * 86_400_000_000
            + ((9 * 60 + 45) * 60 + 30) * 1_000_000
            + 508_453;
        let (v, i) = read(
            Getter::Timestamp(TimestampGranularity::ConnectLogical),
            &Type::TIMESTAMP,
            &wall.to_be_bytes(),
            &ctx,
        )
        .unwrap();
        assert_eq!(v, Value::Int(1_487_151_930_508));
        assert_eq!(i.unwrap().nanos_of_second(), 508_453_000);
        let (v, _) = read(
            Getter::Timestamp(TimestampGranularity::MicrosLong),
            &Type::TIMESTAMP,
            &wall.to_be_bytes(),
            &ctx,
        )
        .unwrap();
        assert_eq!(v, Value::Int(1_487_151_930_508_453));
        let (v, _) = read(
            Getter::Timestamp(TimestampGranularity::NanosIsoDatetimeString),
            &Type::TIMESTAMP,
            &wall.to_be_bytes(),
            &ctx,
        )
        .unwrap();
        assert_eq!(v, Value::String("2017-02-15T09:45:30.508453000".into()));
        // The same wall clock in Europe/Paris (UTC+1 in February) is an hour earlier.
        let paris = ValueContext {
            zone: jiff::tz::TimeZone::get("Europe/Paris").unwrap(),
            zone_is_utc: false,
            calendar: DateCalendar::Legacy,
        };
        let (v, _) = read(
            Getter::Timestamp(TimestampGranularity::ConnectLogical),
            &Type::TIMESTAMP,
            &wall.to_be_bytes(),
            &paris,
        )
        .unwrap();
        assert_eq!(v, Value::Int(1_487_151_930_508 - 3_600_000));
        // timestamptz is an instant: the zone does not matter.
        let (v, _) = read(
            Getter::Timestamp(TimestampGranularity::ConnectLogical),
            &Type::TIMESTAMPTZ,
            &wall.to_be_bytes(),
            &paris,
        )
        .unwrap();
        assert_eq!(v, Value::Int(1_487_151_930_508));
        let inf = read(
            Getter::Timestamp(TimestampGranularity::ConnectLogical),
            &Type::TIMESTAMP,
            &i64::MAX.to_be_bytes(),
            &ctx,
        )
        .unwrap()
        .0;
        assert_eq!(inf, Value::Int(POSITIVE_INFINITY_MS));
        // Dates: 2017-02-15, and 1000-01-01 in the Julian calendar (legacy) or not.
        let d = (days_from_civil(2017, 2, 15) - PG_EPOCH_DAYS) as i32;
        assert_eq!(
            read(Getter::Date, &Type::DATE, &d.to_be_bytes(), &ctx)
                .unwrap()
                .0,
            Value::Int(17_212)
        );
        let old = (days_from_civil(1000, 1, 1) - PG_EPOCH_DAYS) as i32;
        assert_eq!(
            read(Getter::Date, &Type::DATE, &old.to_be_bytes(), &ctx)
                .unwrap()
                .0,
            Value::Int(days_from_julian(1000, 1, 1))
        );
        assert_eq!(days_from_julian(1582, 10, 5), days_from_civil(1582, 10, 15));
        let modern = ValueContext {
            calendar: DateCalendar::ProlepticGregorian,
            ..utc()
        };
        assert_eq!(
            read(Getter::Date, &Type::DATE, &old.to_be_bytes(), &modern)
                .unwrap()
                .0,
            Value::Int(days_from_civil(1000, 1, 1))
        );
        // time 10:00:00.123456 → 36000123 ms; timetz 10:00+02 → 08:00 UTC.
        let t = 36_000_123_456i64;
        assert_eq!(
            read(Getter::Time, &Type::TIME, &t.to_be_bytes(), &ctx)
                .unwrap()
                .0,
            Value::Int(36_000_123)
        );
        let mut tz = 36_000_000_000i64.to_be_bytes().to_vec();
        tz.extend_from_slice(&(-7200i32).to_be_bytes());
        assert_eq!(
            read(Getter::Time, &Type::TIMETZ, &tz, &ctx).unwrap().0,
            Value::Int(28_800_000)
        );
    }
}
