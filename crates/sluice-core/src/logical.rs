//! Connect's logical types (`Decimal`, `Date`, `Time`, `Timestamp`) shared by every
//! connector: their schema names, schemas, and the encoders between their Connect values and
//! text. Decimals are kept exactly as `java.math.BigDecimal` holds them, never through a float.

use crate::data::{Schema, SchemaType};

pub const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";
pub const DATE: &str = "org.apache.kafka.connect.data.Date";
pub const TIME: &str = "org.apache.kafka.connect.data.Time";
pub const TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
/// The precision parameter Connect's converters add to Decimal schemas.
pub const DECIMAL_PRECISION: &str = "connect.decimal.precision";

/// `Decimal.builder(scale)`: bytes holding the unscaled value (big-endian two's complement).
pub fn decimal_schema(scale: i32) -> Schema {
    Schema::new(SchemaType::Bytes)
        .named(DECIMAL)
        .version(1)
        .param("scale", scale.to_string())
}

/// `Date.builder()`: int32 days since the epoch.
pub fn date_schema() -> Schema {
    Schema::new(SchemaType::Int32).named(DATE).version(1)
}

/// `Time.builder()`: int32 milliseconds since midnight.
pub fn time_schema() -> Schema {
    Schema::new(SchemaType::Int32).named(TIME).version(1)
}

/// `Timestamp.builder()`: int64 milliseconds since the epoch.
pub fn timestamp_schema() -> Schema {
    Schema::new(SchemaType::Int64).named(TIMESTAMP).version(1)
}

/// The scale parameter of a Decimal schema.
pub fn decimal_scale(schema: &Schema) -> Option<i32> {
    schema.parameter("scale").and_then(|v| v.parse().ok())
}

/// Decimal text (`-12.5`, `1e3`) at a scale as unscaled bytes; `None` when it does not fit
/// the scale without rounding.
pub fn decimal_from_text(text: &str, scale: i32) -> Option<Vec<u8>> {
    if let Some(bytes) = fixed_scale_bytes(text, scale) {
        return Some(bytes);
    }
    Decimal::parse(text)?
        .with_scale(scale, Round::Unnecessary)
        .map(|d| d.unscaled_bytes())
}

impl Decimal {
    /// `new BigDecimal(new BigInteger(bytes), scale)`.
    pub fn from_unscaled_bytes(bytes: &[u8], scale: i32) -> Decimal {
        let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
        let mut magnitude: Vec<u8> = bytes.to_vec();
        if negative {
            // Two's complement: invert and add one.
            for b in magnitude.iter_mut() {
                *b = !*b;
            }
            for b in magnitude.iter_mut().rev() {
                let (v, overflow) = b.overflowing_add(1);
                *b = v;
                if !overflow {
                    break;
                }
            }
        }
        // Base 256 to base 10, nine digits at a time.
        let mut limbs: Vec<u32> = Vec::new();
        for &byte in &magnitude {
            let mut carry = u64::from(byte);
            for limb in limbs.iter_mut() {
                let t = u64::from(*limb) * 256 + carry;
                *limb = (t % 1_000_000_000) as u32;
                carry = t / 1_000_000_000;
            }
            while carry > 0 {
                limbs.push((carry % 1_000_000_000) as u32);
                carry /= 1_000_000_000;
            }
        }
        let mut digits = Vec::new();
        for (i, limb) in limbs.iter().rev().enumerate() {
            let text = if i == 0 {
                limb.to_string()
            } else {
                format!("{limb:09}")
            };
            digits.extend_from_slice(text.as_bytes());
        }
        let lead = digits.iter().take_while(|d| **d == b'0').count();
        digits.drain(..lead);
        Decimal {
            negative: negative && !digits.is_empty(),
            digits,
            scale,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Round {
    Unnecessary,
    HalfUp,
    Down,
}

/// A decimal as java.math.BigDecimal holds it: an unscaled integer and a scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Decimal {
    pub negative: bool,
    /// ASCII digits of the unscaled magnitude without leading zeros; empty for zero.
    pub digits: Vec<u8>,
    pub scale: i32,
}

impl Decimal {
    pub fn zero() -> Decimal {
        Decimal {
            negative: false,
            digits: Vec::new(),
            scale: 0,
        }
    }

    /// `new BigDecimal(String)`.
    pub fn parse(s: &str) -> Option<Decimal> {
        let b = s.as_bytes();
        let (negative, mut i) = match b.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let (mut digits, mut fraction, mut point, mut any) = (Vec::new(), 0i64, false, false);
        while let Some(&c) = b.get(i) {
            match c {
                b'0'..=b'9' => {
                    any = true;
                    if !(digits.is_empty() && c == b'0') {
                        digits.push(c);
                    }
                    if point {
                        fraction += 1;
                    }
                }
                b'.' if !point => point = true,
                b'e' | b'E' => break,
                _ => return None,
            }
            i += 1;
        }
        if !any {
            return None;
        }
        let exponent: i64 = match b.get(i) {
            Some(_) => s.get(i + 1..)?.parse().ok()?,
            None => 0,
        };
        let scale = i32::try_from(fraction.checked_sub(exponent)?).ok()?;
        let negative = negative && !digits.is_empty();
        Some(Decimal {
            negative,
            digits,
            scale,
        })
    }

    pub fn negate(mut self) -> Decimal {
        self.negative = !self.negative && !self.digits.is_empty();
        self
    }

    /// `setScale(scale, rounding)`; `None` where Java throws.
    pub fn with_scale(&self, scale: i32, round: Round) -> Option<Decimal> {
        let mut digits = self.digits.clone();
        if scale >= self.scale {
            if !digits.is_empty() {
                let add = usize::try_from(i64::from(scale) - i64::from(self.scale)).ok()?;
                digits.resize(digits.len().checked_add(add)?, b'0');
            }
        } else {
            let drop = usize::try_from(i64::from(self.scale) - i64::from(scale)).ok()?;
            let keep = digits.len().saturating_sub(drop);
            let first_dropped = if drop > digits.len() {
                b'0'
            } else {
                digits[keep]
            };
            let exact = digits[keep..].iter().all(|d| *d == b'0');
            digits.truncate(keep);
            if !exact {
                match round {
                    Round::Unnecessary => return None,
                    Round::Down => {}
                    Round::HalfUp if first_dropped >= b'5' => increment(&mut digits),
                    Round::HalfUp => {}
                }
            }
            let lead = digits.iter().take_while(|d| **d == b'0').count();
            digits.drain(..lead);
        }
        let negative = self.negative && !digits.is_empty();
        Some(Decimal {
            negative,
            digits,
            scale,
        })
    }

    /// `stripTrailingZeros()` followed by Debezium's `setScale(0)` when the scale went negative.
    pub fn strip_trailing_zeros(&self) -> Decimal {
        let mut out = self.clone();
        if out.digits.is_empty() {
            out.scale = 0;
            return out;
        }
        while out.scale > 0 && out.digits.last() == Some(&b'0') {
            out.digits.pop();
            out.scale -= 1;
        }
        out
    }

    /// `toPlainString()`.
    pub fn to_plain_string(&self) -> String {
        let digits = if self.digits.is_empty() {
            "0"
        } else {
            ascii(&self.digits)
        };
        let mut out = String::with_capacity(digits.len() + 3);
        if self.negative {
            out.push('-');
        }
        match usize::try_from(self.scale) {
            Ok(0) => out.push_str(digits),
            Ok(scale) if digits.len() > scale => {
                out.push_str(&digits[..digits.len() - scale]);
                out.push('.');
                out.push_str(&digits[digits.len() - scale..]);
            }
            Ok(scale) => {
                out.push_str("0.");
                out.extend(std::iter::repeat_n('0', scale - digits.len()));
                out.push_str(digits);
            }
            Err(_) if self.digits.is_empty() => out.push('0'),
            Err(_) => {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', self.scale.unsigned_abs() as usize));
            }
        }
        out
    }

    /// `doubleValue()`, correctly rounded like Java's.
    pub fn to_f64(&self) -> f64 {
        let sign = if self.negative { "-" } else { "" };
        let digits = if self.digits.is_empty() {
            "0"
        } else {
            ascii(&self.digits)
        };
        format!("{sign}{digits}e{}", -i64::from(self.scale))
            .parse()
            .unwrap_or(f64::NAN)
    }

    /// `unscaledValue().toByteArray()`: minimal big-endian two's complement.
    pub fn unscaled_bytes(&self) -> Vec<u8> {
        let mut limbs: Vec<u32> = Vec::new();
        for chunk in self.digits.chunks(9) {
            let mut carry = chunk
                .iter()
                .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
            let mul = 10u64.pow(chunk.len() as u32);
            for limb in limbs.iter_mut() {
                let t = u64::from(*limb) * mul + carry;
                *limb = t as u32;
                carry = t >> 32;
            }
            if carry > 0 {
                limbs.push(carry as u32);
            }
        }
        let mut out = Vec::with_capacity(limbs.len() * 4 + 1);
        out.push(0u8);
        for limb in limbs.iter().rev() {
            out.extend_from_slice(&limb.to_be_bytes());
        }
        if self.negative {
            for b in out.iter_mut() {
                *b = !*b;
            }
            for b in out.iter_mut().rev() {
                let (v, overflow) = b.overflowing_add(1);
                *b = v;
                if !overflow {
                    break;
                }
            }
        }
        let sign = if self.negative { 0xFF } else { 0x00 };
        let mut start = 0;
        while start + 1 < out.len()
            && out[start] == sign
            && (out[start + 1] & 0x80) == (sign & 0x80)
        {
            start += 1;
        }
        out.split_off(start)
    }
}

pub(crate) fn ascii(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or("0")
}

fn increment(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return;
        }
    }
    digits.insert(0, b'1');
}

/// The common case of a `numeric(p,s)` value without allocating big numbers: plain digits
/// (no exponent) whose unscaled value at `scale` fits in an i128. `None` sends the value down
/// the general path (which also produces the errors).
pub fn fixed_scale_bytes(text: &str, scale: i32) -> Option<Vec<u8>> {
    let (bytes, start) = fixed_scale_unscaled(text, scale)?;
    Some(bytes[start..].to_vec())
}

/// [`fixed_scale_bytes`] without allocating: the big-endian bytes and where the minimal form
/// starts in them.
pub fn fixed_scale_unscaled(text: &str, scale: i32) -> Option<([u8; 16], usize)> {
    let b = text.as_bytes();
    let (negative, digits) = match b.first()? {
        b'-' => (true, &b[1..]),
        _ => (false, b),
    };
    let (mut fraction, mut point) = (0i32, false);
    if digits.is_empty() || digits.len() > 38 {
        return None;
    }
    // Up to 18 digits fit a u64, whose arithmetic is cheaper than i128's.
    let mut small = 0u64;
    let mut unscaled = 0i128;
    let short = digits.len() <= 19;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                if short {
                    small = small * 10 + u64::from(c - b'0');
                } else {
                    unscaled = unscaled * 10 + i128::from(c - b'0');
                }
                fraction += i32::from(point);
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if short {
        unscaled = i128::from(small);
    }
    if fraction > scale {
        return None;
    }
    for _ in fraction..scale {
        unscaled = unscaled.checked_mul(10)?;
    }
    if negative {
        unscaled = -unscaled;
    }
    // BigInteger.toByteArray: minimal big-endian two's complement.
    let bytes = unscaled.to_be_bytes();
    let sign = if unscaled < 0 { 0xFF } else { 0x00 };
    let mut start = 0;
    while start + 1 < bytes.len()
        && bytes[start] == sign
        && (bytes[start + 1] & 0x80) == (sign & 0x80)
    {
        start += 1;
    }
    Some((bytes, start))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

impl Decimal {
    /// Java's `stripTrailingZeros()` on its own (the scale may go negative).
    pub fn strip_trailing_zeros_fully(&self) -> Decimal {
        let mut out = self.clone();
        if out.digits.is_empty() {
            out.scale = 0;
            return out;
        }
        while out.digits.last() == Some(&b'0') {
            out.digits.pop();
            out.scale -= 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_through_unscaled_bytes() {
        for (text, scale, bytes) in [
            ("1.10", 2, vec![0x6e]),
            ("-12345.67", 2, vec![0xed, 0x29, 0x79]),
            ("0", 0, vec![0]),
            ("-1", 0, vec![0xff]),
            ("128", 0, vec![0x00, 0x80]),
        ] {
            assert_eq!(
                decimal_from_text(text, scale),
                Some(bytes.clone()),
                "{text}"
            );
            assert_eq!(
                Decimal::from_unscaled_bytes(&bytes, scale).to_plain_string(),
                text,
                "{text}"
            );
        }
        let big = "-123456789012345678901234567890123456789012.345";
        let bytes = decimal_from_text(big, 3).unwrap();
        assert_eq!(
            Decimal::from_unscaled_bytes(&bytes, 3).to_plain_string(),
            big
        );
        assert_eq!(decimal_from_text("1.234", 2), None);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(civil_from_days(19_000), (2022, 1, 8));
    }
}
