//! `java.text.SimpleDateFormat` in UTC with the English locale, as Connect's transforms use it
//! (`TimestampConverter.format`, `TimestampRouter.timestamp.format`), and the ISO texts Connect
//! prints dates as (`Values.dateFormatFor`). Times are milliseconds since the epoch. Parsing is
//! lenient like Java's (fields roll over, trailing text is ignored) and never panics.

use sluice_core::logical::{civil_from_days, days_from_civil};

const MS_PER_DAY: i64 = 86_400_000;

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
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct DateFormat {
    pattern: String,
    items: Vec<Item>,
}

/// The broken-down UTC time of an instant.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    day_of_year: i64,
    weekday: usize,
    ms_of_day: i64,
}

fn civil(ms: i64) -> Civil {
    let days = ms.div_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        day_of_year: days - days_from_civil(year, 1, 1) + 1,
        // 1970-01-01 was a Thursday.
        weekday: (days + 3).rem_euclid(7) as usize,
        ms_of_day: ms.rem_euclid(MS_PER_DAY),
    }
}

impl DateFormat {
    /// Compiles a pattern; an illegal or unsupported letter is refused, as Java refuses it.
    pub fn new(pattern: &str) -> Result<DateFormat, String> {
        let mut items: Vec<Item> = Vec::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        let literal = |items: &mut Vec<Item>, c: char| match items.last_mut() {
            Some(Item::Literal(s)) => s.push(c),
            _ => items.push(Item::Literal(c.to_string())),
        };
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    literal(&mut items, '\'');
                    i += 2;
                    continue;
                }
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(format!("Unterminated quote in pattern {pattern}")),
                        Some('\'') if chars.get(j + 1) == Some(&'\'') => {
                            literal(&mut items, '\'');
                            j += 2;
                        }
                        Some('\'') => break,
                        Some(&q) => {
                            literal(&mut items, q);
                            j += 1;
                        }
                    }
                }
                i = j + 1;
            } else if c.is_ascii_alphabetic() {
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                match c {
                    'G' | 'y' | 'M' | 'L' | 'D' | 'd' | 'E' | 'u' | 'a' | 'H' | 'k' | 'K' | 'h'
                    | 'm' | 's' | 'S' | 'z' | 'Z' | 'X' => items.push(Item::Field(c, count)),
                    'w' | 'W' | 'F' | 'Y' => {
                        return Err(format!(
                            "Pattern letter '{c}' (week-based fields) is not supported by Sluice"
                        ))
                    }
                    _ => return Err(format!("Illegal pattern character '{c}'")),
                }
                i += count;
            } else {
                literal(&mut items, c);
                i += 1;
            }
        }
        Ok(DateFormat {
            pattern: pattern.to_owned(),
            items,
        })
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// `format(new Date(ms))` in UTC.
    pub fn format(&self, ms: i64) -> String {
        let t = civil(ms);
        let mut out = String::new();
        let pad = |out: &mut String, n: i64, width: usize| {
            if n < 0 {
                out.push('-');
            }
            out.push_str(&format!("{:0width$}", n.unsigned_abs(), width = width));
        };
        let hour = t.ms_of_day / 3_600_000;
        for item in &self.items {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::Field(c, n) => {
                    let n = *n;
                    match c {
                        'G' => out.push_str(if t.year > 0 { "AD" } else { "BC" }),
                        'y' => {
                            let year_of_era = if t.year > 0 { t.year } else { 1 - t.year };
                            if n == 2 {
                                pad(&mut out, year_of_era % 100, 2);
                            } else {
                                pad(&mut out, year_of_era, n);
                            }
                        }
                        'M' | 'L' => {
                            let name = MONTHS[(t.month as usize).saturating_sub(1) % 12];
                            match n {
                                1 | 2 => pad(&mut out, i64::from(t.month), n),
                                3 => out.push_str(&name[..3]),
                                _ => out.push_str(name),
                            }
                        }
                        'd' => pad(&mut out, i64::from(t.day), n),
                        'D' => pad(&mut out, t.day_of_year, n),
                        'E' => {
                            let name = WEEKDAYS[t.weekday];
                            out.push_str(if n >= 4 { name } else { &name[..3] });
                        }
                        'u' => pad(&mut out, t.weekday as i64 + 1, n),
                        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                        'H' => pad(&mut out, hour, n),
                        'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, n),
                        'K' => pad(&mut out, hour % 12, n),
                        'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
                        'm' => pad(&mut out, t.ms_of_day / 60_000 % 60, n),
                        's' => pad(&mut out, t.ms_of_day / 1000 % 60, n),
                        'S' => pad(&mut out, t.ms_of_day % 1000, n),
                        'z' => out.push_str(if n >= 4 {
                            "Coordinated Universal Time"
                        } else {
                            "UTC"
                        }),
                        'Z' => out.push_str("+0000"),
                        _ => out.push('Z'), // 'X': ISO 8601 zone, "Z" for UTC
                    }
                }
            }
        }
        out
    }

    /// `parse(text)`: milliseconds since the epoch, or `None` where Java throws ParseException.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let text: Vec<char> = text.chars().collect();
        let mut pos = 0;
        let mut f = Fields::default();
        for (index, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(s) => {
                    for c in s.chars() {
                        if text.get(pos) != Some(&c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, n) => {
                    while matches!(text.get(pos), Some(' ' | '\t')) {
                        pos += 1;
                    }
                    // Java reads exactly `n` digits when the next field abuts this one.
                    let abutting = matches!(
                        self.items.get(index + 1),
                        Some(Item::Field(next, m)) if is_numeric(*next, *m)
                    );
                    let width = (abutting && is_numeric(*c, *n)).then_some(*n);
                    pos = f.read(*c, *n, &text, pos, width)?;
                }
            }
        }
        Some(f.resolve())
    }
}

fn is_numeric(c: char, n: usize) -> bool {
    match c {
        'M' | 'L' => n <= 2,
        'G' | 'E' | 'a' | 'z' | 'Z' | 'X' => false,
        _ => true,
    }
}

#[derive(Default)]
struct Fields {
    bc: bool,
    year: Option<i64>,
    month: Option<i64>,
    day: Option<i64>,
    day_of_year: Option<i64>,
    hour: Option<i64>,
    hour12: Option<i64>,
    pm: Option<bool>,
    minute: i64,
    second: i64,
    millis: i64,
    offset_ms: i64,
}

impl Fields {
    fn read(
        &mut self,
        c: char,
        n: usize,
        text: &[char],
        pos: usize,
        width: Option<usize>,
    ) -> Option<usize> {
        match c {
            'G' => {
                let (i, end) = match_word(text, pos, &["AD", "BC"])?;
                self.bc = i == 1;
                Some(end)
            }
            'M' | 'L' if n >= 3 => {
                let (i, end) = match_word(text, pos, &MONTHS)
                    .or_else(|| match_word(text, pos, &MONTHS.map(|m| &m[..3])))?;
                self.month = Some(i as i64 + 1);
                Some(end)
            }
            'E' => {
                let (_, end) = match_word(text, pos, &WEEKDAYS)
                    .or_else(|| match_word(text, pos, &WEEKDAYS.map(|d| &d[..3])))?;
                Some(end)
            }
            'a' => {
                let (i, end) = match_word(text, pos, &["AM", "PM"])?;
                self.pm = Some(i == 1);
                Some(end)
            }
            'z' | 'Z' | 'X' => {
                let (offset, end) = read_zone(text, pos)?;
                self.offset_ms = offset;
                Some(end)
            }
            _ => {
                let (value, end) = read_number(text, pos, width)?;
                match c {
                    'y' => {
                        let digits = end - pos;
                        let two_digit = n <= 2
                            && digits == 2
                            && text[pos..end].iter().all(char::is_ascii_digit);
                        self.year = Some(if two_digit { century(value) } else { value });
                    }
                    'M' | 'L' => self.month = Some(value),
                    'd' => self.day = Some(value),
                    'D' => self.day_of_year = Some(value),
                    'u' => {}
                    'H' => self.hour = Some(value),
                    'k' => self.hour = Some(if value == 24 { 0 } else { value }),
                    'K' => self.hour12 = Some(value),
                    'h' => self.hour12 = Some(if value == 12 { 0 } else { value }),
                    'm' => self.minute = value,
                    's' => self.second = value,
                    _ => self.millis = value, // 'S'
                }
                Some(end)
            }
        }
    }

    /// The instant, rolling over out-of-range fields as a lenient Java calendar does.
    fn resolve(&self) -> i64 {
        let mut year = self.year.unwrap_or(1970);
        if self.bc {
            year = 1 - year;
        }
        let days = match (self.month, self.day, self.day_of_year) {
            (None, None, Some(doy)) => days_from_civil(year, 1, 1).saturating_add(doy - 1),
            (month, day, _) => {
                let m = month.unwrap_or(1) - 1;
                let y = year.saturating_add(m.div_euclid(12));
                let m = m.rem_euclid(12) as u32 + 1;
                days_from_civil(y, m, 1).saturating_add(day.unwrap_or(1) - 1)
            }
        };
        let hour = match (self.hour, self.hour12, self.pm) {
            (Some(h), _, _) => h,
            (None, Some(h), pm) => h + if pm == Some(true) { 12 } else { 0 },
            (None, None, Some(true)) => 12,
            _ => 0,
        };
        days.saturating_mul(MS_PER_DAY)
            .saturating_add(hour.saturating_mul(3_600_000))
            .saturating_add(self.minute.saturating_mul(60_000))
            .saturating_add(self.second.saturating_mul(1000))
            .saturating_add(self.millis)
            .saturating_sub(self.offset_ms)
    }
}

/// A two-digit year within 80 years before and 20 after now, as Java's default century.
fn century(two_digits: i64) -> i64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let start = civil(now_ms).year - 80;
    let candidate = start - start.rem_euclid(100) + two_digits;
    if candidate < start {
        candidate + 100
    } else {
        candidate
    }
}

fn read_number(text: &[char], pos: usize, width: Option<usize>) -> Option<(i64, usize)> {
    let mut i = pos;
    let negative = text.get(i) == Some(&'-');
    if negative {
        i += 1;
    }
    let start = i;
    let limit = width.map_or(text.len(), |w| (pos + w).min(text.len()));
    let mut value: i64 = 0;
    while i < limit {
        let Some(d) = text[i].to_digit(10) else { break };
        value = value.checked_mul(10)?.checked_add(i64::from(d))?;
        i += 1;
    }
    if i == start {
        return None;
    }
    Some((if negative { -value } else { value }, i))
}

/// The longest of `words` the text continues with (case-insensitive): its index and end.
fn match_word(text: &[char], pos: usize, words: &[&str]) -> Option<(usize, usize)> {
    words
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            let w: Vec<char> = w.chars().collect();
            text.len() >= pos + w.len()
                && text[pos..pos + w.len()]
                    .iter()
                    .zip(&w)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        })
        .max_by_key(|(_, w)| w.len())
        .map(|(i, w)| (i, pos + w.chars().count()))
}

/// `UTC`, `GMT`, `Z`, `+hh`, `+hhmm`, `+hh:mm`, optionally after `GMT`/`UTC`: the offset in ms.
fn read_zone(text: &[char], pos: usize) -> Option<(i64, usize)> {
    let mut i = pos;
    if text.get(i) == Some(&'Z') {
        return Some((0, i + 1));
    }
    if let Some((_, end)) = match_word(text, i, &["UTC", "GMT"]) {
        i = end;
        if !matches!(text.get(i), Some('+' | '-')) {
            return Some((0, i));
        }
    }
    let sign = match text.get(i)? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    i += 1;
    let digit = |k: usize| text.get(k).and_then(|c| c.to_digit(10)).map(i64::from);
    let hours = digit(i)? * 10 + digit(i + 1)?;
    i += 2;
    if text.get(i) == Some(&':') {
        i += 1;
    }
    let minutes = match (digit(i), digit(i + 1)) {
        (Some(a), Some(b)) => {
            i += 2;
            a * 10 + b
        }
        _ => 0,
    };
    Some((sign * (hours * 3_600_000 + minutes * 60_000), i))
}

/// `Values.dateFormatFor(date).format(date)`: a time before the first day after the epoch is
/// printed as a time, a whole day as a date, anything else as a timestamp (in UTC).
pub fn connect_date_text(ms: i64) -> String {
    let t = civil(ms);
    let time = || {
        format!(
            "{:02}:{:02}:{:02}.{:03}Z",
            t.ms_of_day / 3_600_000,
            t.ms_of_day / 60_000 % 60,
            t.ms_of_day / 1000 % 60,
            t.ms_of_day % 1000
        )
    };
    let year = if t.year > 0 { t.year } else { 1 - t.year };
    let date = || format!("{year:04}-{:02}-{:02}", t.month, t.day);
    if ms < MS_PER_DAY {
        time()
    } else if ms % MS_PER_DAY == 0 {
        date()
    } else {
        format!("{}T{}", date(), time())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE_PLUS_TIME: i64 = 86_401_234;

    #[test]
    fn formats_and_parses_connects_test_pattern() {
        let f = DateFormat::new("yyyy MM dd HH mm ss SSS z").unwrap();
        assert_eq!(f.format(DATE_PLUS_TIME), "1970 01 02 00 00 01 234 UTC");
        assert_eq!(f.parse("1970 01 02 00 00 01 234 UTC"), Some(DATE_PLUS_TIME));
        assert_eq!(f.parse("1970 01 02"), None);
    }

    #[test]
    fn patterns() {
        assert!(DateFormat::new("bad-format").is_err());
        assert!(DateFormat::new("'unterminated").is_err());
        let f = DateFormat::new("yyyyMMdd").unwrap();
        assert_eq!(f.format(1_483_425_001_864), "20170103");
        assert_eq!(f.parse("20170103"), Some(1_483_401_600_000));
        let f = DateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSSXXX").unwrap();
        assert_eq!(f.format(1_483_425_001_864), "2017-01-03T06:30:01.864Z");
        assert_eq!(
            f.parse("2017-01-03T07:30:01.864+01:00"),
            Some(1_483_425_001_864)
        );
        let f = DateFormat::new("EEE, d MMM yyyy hh:mm a ''yy").unwrap();
        assert_eq!(f.format(1_483_425_001_864), "Tue, 3 Jan 2017 06:30 AM '17");
        assert_eq!(
            f.parse("Tue, 3 Jan 2017 06:30 PM '17 trailing"),
            Some(1_483_425_000_000 + 12 * 3_600_000)
        );
        // Lenient: the 13th month is January of the next year.
        let f = DateFormat::new("yyyy-MM-dd").unwrap();
        assert_eq!(f.parse("2016-13-03"), Some(1_483_401_600_000));
    }

    #[test]
    fn connect_date_texts() {
        assert_eq!(connect_date_text(3_600_000), "01:00:00.000Z");
        assert_eq!(connect_date_text(86_400_000), "1970-01-02");
        assert_eq!(
            connect_date_text(DATE_PLUS_TIME),
            "1970-01-02T00:00:01.234Z"
        );
    }
}
