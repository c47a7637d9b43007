//! Dates, times, timestamps, timetz and intervals: PG's ISO text read the way java.time and pgjdbc
//! read it, then Debezium's values per `time.precision.mode` and `interval.handling.mode`. It must
//! never accept text java.time would reject (day 31 of a 30-day month, year 0): that is an error.

use std::sync::LazyLock;

use regex::Regex;
use sluice_config::postgres::{IntervalHandlingMode, TimePrecisionMode, TypeOptions};
use sluice_core::data::Value;
use sluice_core::logical::{civil_from_days, days_from_civil, Decimal as Dec, Round};

use super::{bad, Fail, Res};

// ---- dates and times -------------------------------------------------------------------------

const NANOS_PER_DAY: i64 = 86_400_000_000_000;
// PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY, which Debezium reads as epoch microseconds.
const TIMESTAMP_POS_INFINITY_MICROS: i64 = 9_223_372_036_825_200_000;
const TIMESTAMP_NEG_INFINITY_MICROS: i64 = -9_223_372_036_832_400_000;

fn month_length(y: i64, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

/// A byte cursor for PG's date/time text.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn new(s: &str) -> Cursor<'_> {
        Cursor {
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.b.get(self.i) == Some(&c);
        self.i += usize::from(hit);
        hit
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let hit = self.b[self.i..].starts_with(s.as_bytes());
        if hit {
            self.i += s.len();
        }
        hit
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Between `min` and `max` digits, as a number and the count read.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.i;
        let mut v: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
                    self.i += 1;
                }
                _ => break,
            }
        }
        let n = self.i - start;
        (n >= min).then_some((v, n))
    }

    fn done(&self) -> bool {
        self.i == self.b.len()
    }
}

/// Fractional seconds after a '.', as nanoseconds.
fn fraction_nanos(c: &mut Cursor, max_digits: usize) -> Option<i64> {
    if !c.eat(b'.') {
        return Some(0);
    }
    let (v, n) = c.digits(1, max_digits)?;
    Some(v * 10i64.pow(9 - n as u32))
}

/// `HH:MM[:SS[.f]]` as java.time's ISO_LOCAL_TIME reads it (SMART: 24:00 is the next midnight).
fn local_time(c: &mut Cursor, max_fraction: usize) -> Option<i64> {
    let (h, _) = c.digits(2, 2)?;
    c.eat(b':').then_some(())?;
    let (mi, _) = c.digits(2, 2)?;
    let (mut s, mut nanos) = (0, 0);
    if c.eat(b':') {
        s = c.digits(2, 2)?.0;
        nanos = fraction_nanos(c, max_fraction)?;
    }
    if h == 24 && mi == 0 && s == 0 && nanos == 0 {
        return Some(NANOS_PER_DAY);
    }
    (h < 24 && mi < 60 && s < 60).then_some(((h * 60 + mi) * 60 + s) * 1_000_000_000 + nanos)
}

/// The `+HH` / `-HH` every UTC offset starts with: the sign and the hours.
fn offset_sign_hours(c: &mut Cursor) -> Option<(i64, i64)> {
    let sign = match c.peek()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    c.i += 1;
    let (h, _) = c.digits(2, 2)?;
    Some((sign, h))
}

/// A UTC offset `+HH[:MM[:SS]]` (the shapes Debezium's two timestamptz formatters accept).
fn utc_offset(c: &mut Cursor) -> Option<i64> {
    let (sign, h) = offset_sign_hours(c)?;
    let mut secs = h * 3600;
    if c.eat(b':') {
        secs += c.digits(2, 2)?.0 * 60;
        if c.eat(b':') {
            secs += c.digits(2, 2)?.0;
        }
    }
    (secs <= 18 * 3600).then_some(sign * secs)
}

/// Y..Y-MM-DD (4 to 10 year digits, as Debezium's NON_ISO_LOCAL_DATE); era applied later.
fn date_part(c: &mut Cursor) -> Option<(i64, u32, u32)> {
    let (y, _) = c.digits(4, 10)?;
    c.eat(b'-').then_some(())?;
    let (m, _) = c.digits(2, 2)?;
    c.eat(b'-').then_some(())?;
    let (d, _) = c.digits(2, 2)?;
    Some((y, m as u32, d as u32))
}

/// The era suffix and end of input; returns the epoch day of the proleptic date.
fn finish_date(c: &mut Cursor, (yoe, m, d): (i64, u32, u32)) -> Option<i64> {
    let year = if c.eat_str(" BC") {
        1 - yoe
    } else {
        c.eat_str(" AD");
        yoe
    };
    let valid =
        c.done() && yoe >= 1 && (1..=12).contains(&m) && d >= 1 && d <= month_length(year, m);
    valid.then(|| days_from_civil(year, m, d))
}

pub(super) fn date_days(text: &str) -> Res<i64> {
    match text {
        // Debezium's POSITIVE/NEGATIVE_INFINITY_LOCAL_DATE (-5877611-06-21/22), through its int cast.
        "infinity" => Ok(-2_147_472_692),
        "-infinity" => Ok(-2_147_472_691),
        _ => {
            let mut c = Cursor::new(text);
            let date = date_part(&mut c);
            date.and_then(|date| finish_date(&mut c, date))
                .ok_or(Fail::Bad("not an ISO date".into()))
        }
    }
}

/// A timestamp(tz) as epoch seconds and nanoseconds.
fn parse_timestamp(text: &str, with_zone: bool) -> Option<(i64, i64)> {
    let mut c = Cursor::new(text);
    let date = date_part(&mut c)?;
    c.eat(b' ').then_some(())?;
    let nanos = local_time(&mut c, 9)?;
    let offset = if with_zone { utc_offset(&mut c)? } else { 0 };
    let days = finish_date(&mut c, date)?;
    let secs = days * 86_400 + nanos.div_euclid(1_000_000_000) - offset;
    Some((secs, nanos.rem_euclid(1_000_000_000)))
}

pub(super) fn epoch_micros(secs: i64, nanos: i64) -> Option<i64> {
    secs.checked_mul(1_000_000)?.checked_add(nanos / 1000)
}

pub(super) fn timestamp_value(text: &str, precision: i32, opts: &TypeOptions) -> Res<i64> {
    let micros = match text {
        "infinity" => TIMESTAMP_POS_INFINITY_MICROS,
        "-infinity" => TIMESTAMP_NEG_INFINITY_MICROS,
        _ => {
            let (secs, nanos) =
                parse_timestamp(text, false).ok_or(Fail::Bad("not an ISO timestamp".into()))?;
            epoch_micros(secs, nanos).ok_or(Fail::Bad(
                "beyond the microseconds a 64-bit integer holds".into(),
            ))?
        }
    };
    Ok(timestamp_for(micros, precision, opts))
}

pub(super) fn timestamp_for(micros: i64, precision: i32, opts: &TypeOptions) -> i64 {
    if opts.time_precision == TimePrecisionMode::Connect || precision <= 3 {
        micros.div_euclid(1000)
    } else {
        micros
    }
}

fn push_2(out: &mut String, v: i64) {
    out.push((b'0' + (v / 10 % 10) as u8) as char);
    out.push((b'0' + (v % 10) as u8) as char);
}

/// Seconds fraction as java.time prints it: `width` digits (truncated) when 1..=9, otherwise
/// ISO_LOCAL_TIME's shortest form (nothing for whole seconds).
fn push_fraction(out: &mut String, nanos: i64, width: i32) {
    let mut digits = [b'0'; 9];
    let mut v = nanos.rem_euclid(1_000_000_000);
    for d in digits.iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let len = if (1..=9).contains(&width) {
        width as usize
    } else {
        digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1)
    };
    if len > 0 {
        out.push('.');
        out.extend(digits[..len].iter().map(|&d| d as char));
    }
}

fn push_time_of_day(out: &mut String, secs_of_day: i64, nanos: i64, width: i32) {
    push_2(out, secs_of_day / 3600);
    out.push(':');
    push_2(out, secs_of_day / 60 % 60);
    out.push(':');
    push_2(out, secs_of_day % 60);
    push_fraction(out, nanos, width);
}

/// io.debezium.time.ZonedTimestamp: ISO-8601 in UTC, the year as ISO_LOCAL_DATE prints it.
pub(super) fn format_zoned_timestamp(secs: i64, nanos: i64, width: i32) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let mut out = String::with_capacity(32);
    if y > 9999 {
        out.push('+');
        out.push_str(&y.to_string());
    } else if y < -9999 {
        out.push_str(&y.to_string());
    } else {
        if y < 0 {
            out.push('-');
        }
        push_2(&mut out, y.abs() / 100);
        push_2(&mut out, y.abs() % 100);
    }
    out.push('-');
    push_2(&mut out, i64::from(m));
    out.push('-');
    push_2(&mut out, i64::from(d));
    out.push('T');
    push_time_of_day(&mut out, secs.rem_euclid(86_400), nanos, width);
    out.push('Z');
    out
}

pub(super) fn zoned_timestamp(text: &str, scale: i32) -> Res<String> {
    match text {
        "infinity" | "-infinity" => Ok(text.to_owned()),
        _ => {
            let (secs, nanos) =
                parse_timestamp(text, true).ok_or(Fail::Bad("not an ISO timestamptz".into()))?;
            // The fraction is as wide as the column's scale (6 unless declared).
            Ok(format_zoned_timestamp(secs, nanos, scale))
        }
    }
}

/// The ZonedTimestamp JSON string of a timestamptz the session printed in UTC
/// (`YYYY-MM-DD HH:MM:SS[.f]+00`), reformatted without parsing into a date: what
/// `zoned_timestamp` then the JSON converter write for it. `false` (nothing written) for any
/// other shape, which the general path handles.
pub(super) fn write_utc_timestamp(out: &mut Vec<u8>, text: &str, width: i32) -> bool {
    let b = text.as_bytes();
    let Some(body) = b.strip_suffix(b"+00") else {
        return false;
    };
    if body.len() < 19 {
        return false;
    }
    let (date_time, fraction) = body.split_at(19);
    let digits_at = |i: &[usize]| i.iter().all(|&i| date_time[i].is_ascii_digit());
    if !digits_at(&[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
        || date_time[4] != b'-'
        || date_time[7] != b'-'
        || date_time[10] != b' '
        || date_time[13] != b':'
        || date_time[16] != b':'
        || &date_time[..4] == b"0000"
    {
        return false;
    }
    let fraction = match fraction {
        [] => &[][..],
        [b'.', digits @ ..]
            if (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) =>
        {
            digits
        }
        _ => return false,
    };
    out.push(b'"');
    out.extend_from_slice(&date_time[..10]);
    out.push(b'T');
    out.extend_from_slice(&date_time[11..]);
    if (1..=9).contains(&width) {
        // As wide as the column's precision: truncated or padded with zeros.
        let width = width as usize;
        out.push(b'.');
        let kept = fraction.len().min(width);
        out.extend_from_slice(&fraction[..kept]);
        out.resize(out.len() + width - kept, b'0');
    } else {
        // java.time's shortest form: no trailing zeros, nothing for whole seconds.
        let len = fraction
            .iter()
            .rposition(|&d| d != b'0')
            .map_or(0, |i| i + 1);
        if len > 0 {
            out.push(b'.');
            out.extend_from_slice(&fraction[..len]);
        }
    }
    out.extend_from_slice(b"Z\"");
    true
}

/// `time` text as Debezium's Strings.asDuration reads it: `H:M:S[.f]`, in nanoseconds.
pub(super) fn parse_time(text: &str) -> Res<i64> {
    let parse = || -> Option<i64> {
        let (hms, frac) = match text.split_once('.') {
            Some((hms, frac)) => (hms, frac),
            None => (text, ""),
        };
        let mut parts = hms.split(':');
        let mut total: i64 = 0;
        for _ in 0..3 {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            total = total.checked_mul(60)?.checked_add(p.parse().ok()?)?;
        }
        if parts.next().is_some() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let nanos: i64 = format!("{frac:0<9}").parse().ok()?;
        total.checked_mul(1_000_000_000)?.checked_add(nanos)
    };
    parse().ok_or(Fail::Bad("not a time of day".into()))
}

pub(super) fn time_value(nanos: i64, precision: i32, opts: &TypeOptions) -> Res<i64> {
    Ok(match opts.time_precision {
        TimePrecisionMode::Connect if nanos > NANOS_PER_DAY => {
            return bad("Connect's Time holds at most 24:00:00")
        }
        TimePrecisionMode::Connect => nanos / 1_000_000,
        TimePrecisionMode::Adaptive if precision <= 3 => nanos / 1_000_000,
        _ => nanos / 1000,
    })
}

static TIMETZ_BOUNDARY: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^24:00:00(?:\.0{1,6})?(?:Z|[+-]00(?::?00)?)$").ok());

/// io.debezium.time.ZonedTime: the time of day normalised to UTC, fraction trimmed.
pub(super) fn zoned_time(text: &str) -> Res<String> {
    // PostgresTimeBoundary: end of day at UTC keeps its 24.
    if TIMETZ_BOUNDARY.as_ref().is_some_and(|re| re.is_match(text)) {
        return Ok("24:00:00Z".into());
    }
    let parse = || -> Option<(i64, i64)> {
        let mut c = Cursor::new(text);
        let nanos = local_time(&mut c, 6)?;
        // Debezium's "[XXX][XX][X]": Z, +HH, +HHMM or +HH:MM.
        let offset = if c.eat(b'Z') {
            0
        } else {
            let (sign, h) = offset_sign_hours(&mut c)?;
            c.eat(b':');
            let mi = c.digits(2, 2).map_or(0, |(v, _)| v);
            (h <= 18 && mi < 60).then_some(())?;
            sign * (h * 3600 + mi * 60)
        };
        c.done().then_some(())?;
        let secs = (nanos / 1_000_000_000 - offset).rem_euclid(86_400);
        Some((secs, nanos % 1_000_000_000))
    };
    let (secs, nanos) = parse().ok_or(Fail::Bad("not a time with time zone".into()))?;
    let mut out = String::with_capacity(20);
    push_time_of_day(&mut out, secs, nanos, 0);
    out.push('Z');
    Ok(out)
}

// ---- interval --------------------------------------------------------------------------------

/// pgjdbc's PGInterval: int fields, seconds as whole seconds plus microseconds.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct Interval {
    years: i32,
    months: i32,
    days: i32,
    hours: i32,
    minutes: i32,
    whole_seconds: i32,
    micros: i32,
}

impl Interval {
    pub(super) fn parse(text: &str) -> Res<Interval> {
        let parsed = if text.starts_with('P') {
            Self::parse_iso(text)
        } else {
            Self::parse_verbose(text)
        };
        parsed.ok_or(Fail::Bad(
            "not an interval pgjdbc can read (IntervalStyle=iso_8601 expected)".into(),
        ))
    }

    fn set_seconds(&mut self, seconds: f64) -> Option<()> {
        if seconds.is_nan() {
            return None;
        }
        let total = java_round(seconds * 1e6);
        self.whole_seconds = i32::try_from(total / 1_000_000).ok()?;
        self.micros = (total % 1_000_000) as i32;
        Some(())
    }

    fn seconds(&self) -> f64 {
        f64::from(self.whole_seconds) + f64::from(self.micros) / 1e6
    }

    /// `P[nY][nM][nD][T[nH][nM][n.nS]]`, IntervalStyle=iso_8601's output.
    fn parse_iso(text: &str) -> Option<Interval> {
        let (date, time) = match text[1..].split_once('T') {
            Some((d, t)) => (d, Some(t)),
            None => (&text[1..], None),
        };
        let mut iv = Interval::default();
        let mut rest = date;
        for unit in [b'Y', b'M', b'D'] {
            if let Some((n, tail)) = iso_component(rest, unit) {
                let n: i32 = n.parse().ok()?;
                match unit {
                    b'Y' => iv.years = n,
                    b'M' => iv.months = n,
                    _ => iv.days = n,
                }
                rest = tail;
            }
        }
        if !rest.is_empty() {
            return None;
        }
        if let Some(mut rest) = time {
            for unit in [b'H', b'M', b'S'] {
                if let Some((n, tail)) = iso_component(rest, unit) {
                    match unit {
                        b'H' => iv.hours = n.parse().ok()?,
                        b'M' => iv.minutes = n.parse().ok()?,
                        _ => iv.set_seconds(n.parse().ok()?)?,
                    }
                    rest = tail;
                }
            }
            if !rest.is_empty() {
                return None;
            }
        }
        Some(iv)
    }

    /// The `postgres` IntervalStyle (`1 year 2 mons 3 days 04:05:06.78`), as PGInterval reads it,
    /// except that words it does not know are errors (pgjdbc reads them as a zero interval).
    fn parse_verbose(text: &str) -> Option<Interval> {
        let at = text.starts_with('@');
        let lowered = text.replace(['+', '@'], " ").to_lowercase();
        if lowered.contains("infinity") {
            return None;
        }
        let mut iv = Interval::default();
        let mut seconds = 0f64;
        let mut value: Option<&str> = None;
        let tokens: Vec<&str> = lowered.split_whitespace().collect();
        for (i, &token) in tokens.iter().enumerate() {
            if at && token == "ago" && i + 1 == tokens.len() && value.is_none() {
                break;
            }
            if i % 2 == 0 {
                let Some(colon) = token.find(':') else {
                    value = Some(token);
                    continue;
                };
                let negative = token.starts_with('-');
                let h: i32 = token.get(usize::from(negative)..colon)?.parse().ok()?;
                let m: i32 = token.get(colon + 1..colon + 3)?.parse().ok()?;
                let s: f64 = match token.get(colon + 1..)?.find(':') {
                    Some(at) => token.get(colon + 2 + at..)?.parse().ok()?,
                    None => 0.0,
                };
                let sign = if negative { -1 } else { 1 };
                (iv.hours, iv.minutes, seconds) = (sign * h, sign * m, f64::from(sign) * s);
                value = None;
            } else {
                let v = value.take()?;
                if token.starts_with("year") {
                    iv.years = v.parse().ok()?;
                } else if token.starts_with("mon") {
                    iv.months = v.parse().ok()?;
                } else if token.starts_with("day") {
                    iv.days = v.parse().ok()?;
                } else if token.starts_with("hour") {
                    iv.hours = v.parse().ok()?;
                } else if token.starts_with("min") {
                    iv.minutes = v.parse().ok()?;
                } else if token.starts_with("sec") {
                    seconds = v.parse().ok()?;
                } else {
                    return None;
                }
            }
        }
        if value.is_some() || tokens.is_empty() {
            return None;
        }
        if at && lowered.trim_end().ends_with("ago") {
            (iv.years, iv.months, iv.days) = (-iv.years, -iv.months, -iv.days);
            (iv.hours, iv.minutes, seconds) = (-iv.hours, -iv.minutes, -seconds);
        }
        iv.set_seconds(seconds)?;
        Some(iv)
    }

    /// MicroDuration.durationMicros with a month of 365.25/12 days, in Java's double arithmetic.
    fn micros(&self) -> i64 {
        const DAYS_PER_MONTH_AVG: f64 = 365.25 / 12.0;
        let months = self.years.wrapping_mul(12).wrapping_add(self.months);
        let days = f64::from(months) * DAYS_PER_MONTH_AVG + f64::from(self.days);
        let seconds = ((days * 24.0 + f64::from(self.hours)) * 60.0 + f64::from(self.minutes))
            * 60.0
            + self.seconds();
        (seconds * 1e6) as i64
    }

    /// io.debezium.time.Interval.toIsoString over BigDecimal.valueOf(getSeconds()).
    fn iso_string(&self) -> String {
        let seconds = Dec::parse(&format!("{:e}", self.seconds())).unwrap_or_else(Dec::zero);
        let seconds = if seconds.scale > 9 {
            seconds.with_scale(9, Round::Down).unwrap_or_else(Dec::zero)
        } else {
            seconds
        };
        let mut seconds = seconds.strip_trailing_zeros_fully();
        if seconds.digits.is_empty() {
            seconds = Dec::zero();
        }
        format!(
            "P{}Y{}M{}DT{}H{}M{}S",
            self.years,
            self.months,
            self.days,
            self.hours,
            self.minutes,
            seconds.to_plain_string()
        )
    }
}

/// One `<number><unit>` component at the start of `s`.
fn iso_component(s: &str, unit: u8) -> Option<(&str, &str)> {
    let end = s
        .bytes()
        .position(|c| !(c.is_ascii_digit() || c == b'-' || c == b'+' || c == b'.'))?;
    (end > 0 && s.as_bytes()[end] == unit).then(|| (&s[..end], &s[end + 1..]))
}

/// `Math.round(double)`: floor(x + 1/2), saturating.
fn java_round(x: f64) -> i64 {
    let f = x.floor();
    (if x - f >= 0.5 { f + 1.0 } else { f }) as i64
}

pub(super) fn interval_value(iv: &Interval, opts: &TypeOptions) -> Value {
    match opts.interval {
        IntervalHandlingMode::Numeric => Value::Int(iv.micros()),
        IntervalHandlingMode::String => Value::String(iv.iso_string()),
    }
}

// ---- pgjdbc's readings, for column defaults --------------------------------------------------

/// `LocalTime.parse`, with pgjdbc's 24:00:00 → LocalTime.MAX; nanoseconds of the day.
pub(super) fn java_local_time(s: &str) -> Option<i64> {
    if s == "24:00:00" {
        return Some(NANOS_PER_DAY - 1);
    }
    let mut c = Cursor::new(s);
    let nanos = local_time(&mut c, 9)?;
    (c.done() && nanos < NANOS_PER_DAY).then_some(nanos)
}

pub(super) enum Backend {
    Infinity(bool),
    At { days: i64, nanos: i64, offset: i64 },
}

/// pgjdbc's TimestampUtils.parseBackendTimestamp: `[date][ time][offset][ BC]`, zone UTC when absent.
pub(super) fn backend_timestamp(s: &str) -> Option<Backend> {
    match s {
        "infinity" => return Some(Backend::Infinity(true)),
        "-infinity" => return Some(Backend::Infinity(false)),
        _ => {}
    }
    let mut c = Cursor::new(s);
    let (mut y, mut m, mut d) = (1970, 1, 1);
    if s.as_bytes().get(2) != Some(&b':') {
        let (yy, _) = c.digits(1, 10)?;
        c.eat(b'-').then_some(())?;
        m = c.digits(1, 2)?.0 as u32;
        c.eat(b'-').then_some(())?;
        d = c.digits(1, 2)?.0 as u32;
        y = yy;
        c.eat(b' ');
    }
    let mut nanos = 0;
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        nanos = local_time(&mut c, 9)?;
    }
    let offset = if matches!(c.peek(), Some(b'+' | b'-')) {
        utc_offset(&mut c)?
    } else {
        0
    };
    let year = if c.eat_str(" BC") { 1 - y } else { y };
    c.eat_str(" AD");
    let valid = c.done() && (1..=12).contains(&m) && d >= 1 && d <= month_length(year, m);
    valid.then(|| Backend::At {
        days: days_from_civil(year, m, d),
        nanos,
        offset,
    })
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::tests::{arr, array_of, check, col, fails, i, ints, named, opts, s, ty};

    #[test]
    fn dates_and_times_adaptive() {
        // ARPT.schemaAndValuesForDateTimeTypes (RSP.shouldReceiveDeletesWithInfinityDate)
        let o = opts();
        let micro_ts = named("int64", "io.debezium.time.MicroTimestamp");
        check(&o, &col(ty("timestamp"), -1), &micro_ts, &[
            ("2016-11-04 13:51:30.123456", i(1_478_267_490_123_456)),
            ("21016-11-04 13:51:30.123456", i(601_060_312_290_123_456)),
            ("infinity", i(9_223_372_036_825_200_000)),
            ("-infinity", i(-9_223_372_036_832_400_000)),
        ]);
        check(&o, &col(ty("timestamp"), 6), &micro_ts, &[
            ("1936-10-25 22:10:12.608", i(-1_047_174_587_392_000)),
            ("21016-11-04 13:51:30.123457", i(601_060_312_290_123_457)),
            ("294247-01-01 23:59:59.999999", i(9_223_371_331_200_000_000 - 1)),
            ("4713-12-31 23:59:59.999999 BC", i(-210_831_897_600_000_001)),
        ]);
        check(&o, &col(ty("timestamp"), 3), &named("int64", "io.debezium.time.Timestamp"), &[
            ("2016-11-04 13:51:30.123", i(1_478_267_490_123)),
            ("21016-11-04 13:51:30.124", i(601_060_312_290_124)),
            ("infinity", i(9_223_372_036_825_200)),
            ("-infinity", i(-9_223_372_036_832_400)),
            ("1969-12-31 23:59:59.999", i(-1)),
        ]);
        let zoned_ts = named("string", "io.debezium.time.ZonedTimestamp");
        check(&o, &col(ty("timestamptz"), -1), &zoned_ts, &[
            ("2016-11-04 11:51:30.123456+00", s("2016-11-04T11:51:30.123456Z")),
            ("2016-11-04 13:51:30.123456+02", s("2016-11-04T11:51:30.123456Z")),
            ("2016-11-04 11:51:30+00", s("2016-11-04T11:51:30.000000Z")),
            ("21016-11-04 06:51:30.123456+00", s("+21016-11-04T06:51:30.123456Z")),
            ("21016-11-04 06:51:30+00", s("+21016-11-04T06:51:30.000000Z")),
            ("294247-01-01 23:59:59.999999+00", s("+294247-01-01T23:59:59.999999Z")),
            ("4714-12-31 23:59:59.999999+00 BC", s("-4713-12-31T23:59:59.999999Z")),
            ("0001-01-01 00:00:00+00 BC", s("0000-01-01T00:00:00.000000Z")),
            ("1900-01-01 00:00:00+00:53:28", s("1899-12-31T23:06:32.000000Z")),
            ("infinity", s("infinity")),
            ("-infinity", s("-infinity")),
        ]);
        // the fraction is as wide as the declared precision, none for (0) (ZonedTimestamp)
        check(&o, &col(ty("timestamptz"), 0), &zoned_ts, &[("2016-11-04 11:51:30+00", s("2016-11-04T11:51:30Z"))]);
        check(&o, &col(ty("timestamptz"), 3), &zoned_ts,
            &[("2016-11-04 11:51:30.12+00", s("2016-11-04T11:51:30.120Z"))]);
        check(&o, &col(ty("date"), -1), &named("int32", "io.debezium.time.Date"), &[
            ("2016-11-04", i(17109)), ("1970-01-01", i(0)), ("2000-02-29", i(11016)), ("2024-02-29", i(19782)),
            ("0044-03-15 BC", i(days_from_civil(-43, 3, 15))), ("10000-01-01", i(2_932_897)),
            ("infinity", i(-2_147_472_692)), ("-infinity", i(-2_147_472_691)),
        ]);
        check(&o, &col(ty("time"), -1), &named("int64", "io.debezium.time.MicroTime"),
            &[("13:51:30", i(49_890_000_000)), ("24:00:00", i(86_400_000_000)), ("00:00:00.000001", i(1))]);
        check(&o, &col(ty("time"), 3), &named("int32", "io.debezium.time.Time"), &[("13:51:30.123", i(49_890_123))]);
        let zoned_time = named("string", "io.debezium.time.ZonedTime");
        check(&o, &col(ty("timetz"), -1), &zoned_time, &[
            ("13:51:30.123789+02", s("11:51:30.123789Z")), ("01:00:00-03:30", s("04:30:00Z")),
            ("01:00:00+02", s("23:00:00Z")),
        ]);
        check(&o, &col(ty("timetz"), 3), &zoned_time, &[("13:51:30.123+02", s("11:51:30.123Z"))]);
        // RSP.shouldReceiveTwentyFourHourTimeWithTimeZone; off UTC, 24:00 is a plain midnight
        check(&o, &col(ty("timetz"), 0), &zoned_time, &[("24:00:00+00", s("24:00:00Z"))]);
        check(&o, &col(ty("timetz"), 6), &zoned_time, &[("24:00:00+02", s("22:00:00Z"))]);
        for bad in ["2023-02-29", "2016-13-01", "16-11-04", "2016-11-04 AD BC", "0000-01-01", "2016-11-04 "] {
            assert!(fails(&col(ty("date"), -1), &o, bad), "{bad}");
        }
        assert!(fails(&col(ty("timestamptz"), -1), &o, "2016-11-04 11:51:30"));
        assert!(fails(&col(ty("timestamp"), -1), &o, "2016-11-04 11:51:30+00"));
        assert!(fails(&col(ty("timetz"), -1), &o, "12:00:00+05:30:15"));
        assert_eq!(days_from_civil(-5_877_611, 6, 21), -2_147_472_692);
        assert_eq!(civil_from_days(days_from_civil(-4713, 12, 31)), (-4713, 12, 31));
    }

    #[test]
    fn dates_and_times_other_precision_modes() {
        // ARPT.schemaAndValuesForDateTimeTypesAdaptiveTimeMicroseconds
        let atm = TypeOptions { time_precision: TimePrecisionMode::AdaptiveTimeMicroseconds, ..opts() };
        check(&atm, &col(ty("time"), 3), &named("int64", "io.debezium.time.MicroTime"),
            &[("13:51:30.123", i(49_890_123_000))]);
        check(&atm, &col(ty("timestamp"), 3), &named("int64", "io.debezium.time.Timestamp"),
            &[("2016-11-04 13:51:30.123", i(1_478_267_490_123))]);
        check(&atm, &col(ty("timestamp"), -1), &named("int64", "io.debezium.time.MicroTimestamp"),
            &[("2016-11-04 13:51:30.123456", i(1_478_267_490_123_456))]);
        // connect: Connect's own logical types, in milliseconds
        let connect = TypeOptions { time_precision: TimePrecisionMode::Connect, ..opts() };
        check(&connect, &col(ty("date"), -1), &named("int32", "org.apache.kafka.connect.data.Date"),
            &[("2016-11-04", i(17109)), ("infinity", i(-2_147_472_692))]);
        check(&connect, &col(ty("time"), -1), &named("int32", "org.apache.kafka.connect.data.Time"),
            &[("13:51:30.123456", i(49_890_123)), ("24:00:00", i(86_400_000))]);
        check(&connect, &col(ty("timestamp"), 6), &named("int64", "org.apache.kafka.connect.data.Timestamp"),
            &[("2016-11-04 13:51:30.123456", i(1_478_267_490_123)), ("1969-12-31 23:59:59.9995", i(-1))]);
        check(&connect, &col(ty("timestamptz"), -1), &named("string", "io.debezium.time.ZonedTimestamp"),
            &[("2016-11-04 11:51:30.123456+00", s("2016-11-04T11:51:30.123456Z"))]);
        check(&connect, &col(ty("timetz"), -1), &named("string", "io.debezium.time.ZonedTime"),
            &[("11:51:30+00", s("11:51:30Z"))]);
        check(&connect, &col(arr(ty("date")), -1), &array_of(&named("int32", "org.apache.kafka.connect.data.Date"), true),
            &[("{1970-01-02}", ints(&[1]))]);
    }

    #[test]
    fn intervals() {
        // ARPT.schemaAndValuesForDateTimeTypes ("it"), ARPT.schemaAndValuesForIntervalAsString
        // (RSP.shouldReceiveChangesForIntervalAsString)
        let c = col(ty("interval"), -1);
        check(&opts(), &c, &named("int64", "io.debezium.time.MicroDuration"), &[
            ("P1Y2M3DT4H5M6.78S", i(37_091_106_780_000)),
            ("PT0S", i(0)),
            ("P1M", i(2_629_800_000_000)),
            ("P-1Y-2M3DT-4H-5M-6.78S", i(-36_572_706_780_000)),
            ("PT-0.5S", i(-500_000)),
            ("P3D", i(259_200_000_000)),
            ("1 year 2 mons 3 days 04:05:06.78", i(37_091_106_780_000)),
            ("@ 1 day ago", i(-86_400_000_000)),
        ]);
        let string = TypeOptions { interval: IntervalHandlingMode::String, ..opts() };
        check(&string, &c, &named("string", "io.debezium.time.Interval"), &[
            ("P1Y2M3DT4H5M6.78S", s("P1Y2M3DT4H5M6.78S")),
            ("PT0S", s("P0Y0M0DT0H0M0S")),
            ("P-1Y-2M3DT-4H-5M-6.78S", s("P-1Y-2M3DT-4H-5M-6.78S")),
            ("PT1M40S", s("P0Y0M0DT0H1M40S")),
            ("PT0.000001S", s("P0Y0M0DT0H0M0.000001S")),
        ]);
        // PG 17's infinite intervals: pgjdbc would read them as zero
        for bad in ["infinity", "-infinity", "P1X", "PT99999999999H", "nonsense", "1 fortnight"] {
            assert!(fails(&c, &opts(), bad), "{bad}");
        }
    }
}
