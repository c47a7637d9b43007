//! numeric and money as Debezium encodes them per `decimal.handling.mode` (Connect Decimal,
//! VariableScaleDecimal, double or string), NaN and ±Infinity included. It must never round a
//! numeric(p,s) value to its scale, nor make NaN/Infinity a number in precise mode: both are errors.

use sluice_config::postgres::{DecimalHandlingMode, TypeOptions};
use sluice_core::data::Value;
use sluice_core::logical::{Decimal as Dec, Round};

use super::{Fail, Res};

pub(super) fn special_numeric(text: &str) -> Option<&'static str> {
    // PostgresValueConverter.toSpecialValue matches these spellings exactly.
    match text {
        "NaN" => Some("NaN"),
        "Infinity" => Some("Infinity"),
        "-Infinity" => Some("-Infinity"),
        _ => None,
    }
}

pub(super) fn special_numeric_value(special: &'static str, opts: &TypeOptions) -> Res<Value> {
    let (double, name) = match special {
        "NaN" => (f64::NAN, "NAN"),
        "Infinity" => (f64::INFINITY, "POSITIVE_INFINITY"),
        _ => (f64::NEG_INFINITY, "NEGATIVE_INFINITY"),
    };
    match opts.decimal {
        DecimalHandlingMode::Precise => Err(Fail::Special(special)),
        DecimalHandlingMode::Double => Ok(Value::Float64(double)),
        // SpecialValueDecimal.toString: the enum constant's name.
        DecimalHandlingMode::String => Ok(Value::String(name.into())),
    }
}

pub(super) fn numeric_value(
    dec: Dec,
    scale: i32,
    variable: bool,
    opts: &TypeOptions,
) -> Res<Value> {
    // Debezium sets a fixed-scale column's scale without rounding (ArithmeticException otherwise).
    let dec = if variable {
        dec
    } else {
        dec.with_scale(scale, Round::Unnecessary)
            .ok_or(Fail::Bad(format!(
                "has more than {scale} fractional digits"
            )))?
    };
    Ok(match opts.decimal {
        DecimalHandlingMode::Precise if variable => {
            let dec = dec.strip_trailing_zeros();
            Value::Struct(vec![
                Value::Int(dec.scale.into()),
                Value::Bytes(dec.unscaled_bytes()),
            ])
        }
        DecimalHandlingMode::Precise => Value::Bytes(dec.unscaled_bytes()),
        DecimalHandlingMode::Double => Value::Float64(dec.to_f64()),
        DecimalHandlingMode::String => Value::String(dec.to_plain_string()),
    })
}

/// money as PG prints it (`$1,234.56`, `-$1.00`, or `($1.00)` in some locales).
fn parse_money(text: &str) -> Option<Dec> {
    let t = text.trim();
    let (negative, body) = if let Some(rest) = t.strip_prefix('-') {
        (true, rest)
    } else if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        (true, inner)
    } else {
        (false, t)
    };
    // The currency symbol; with lc_monetary=C nothing follows the amount.
    let body = body.trim_start_matches(|c: char| !c.is_ascii_digit() && !".,-".contains(c));
    let (negative, body) = match body.strip_prefix('-') {
        Some(rest) => (!negative, rest),
        None => (negative, body),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let grouped = whole.bytes().all(|c| c.is_ascii_digit() || c == b',');
    if !grouped || !fraction.bytes().all(|c| c.is_ascii_digit()) || whole.starts_with(',') {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != ',').collect();
    let dec = Dec::parse(&digits)?;
    Some(if negative { dec.negate() } else { dec })
}

pub(super) fn money_value(text: &str, opts: &TypeOptions) -> Res<Value> {
    let dec = parse_money(text).ok_or(Fail::Bad("not a money amount".into()))?;
    Ok(match opts.decimal {
        DecimalHandlingMode::Precise => {
            let dec = dec
                .with_scale(2, Round::HalfUp)
                .ok_or(Fail::Bad("out of range".into()))?;
            Value::Bytes(dec.unscaled_bytes())
        }
        DecimalHandlingMode::Double => Value::Float64(dec.to_f64()),
        DecimalHandlingMode::String => Value::String(dec.to_plain_string()),
    })
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::decode_text;
    use crate::types::tests::{
        b, check, col, decimal, fails, nn, numeric, opts, payload_of, plain, s, schema_of, ty, value_of, vsd, OPT, VSD,
    };
    use sluice_core::logical::fixed_scale_bytes;

    #[test]
    fn numerics_in_precise_mode() {
        // ARPT.schemasAndValuesForBigDecimalEncodedNumericTypes
        let o = opts();
        check(&o, &col(ty("numeric"), numeric(3, 2)), &decimal(2, Some(3)),
            &[("1.10", b(&[110])), ("1.00", b(&[100])), ("-1.10", b(&[0x92])), ("0.00", b(&[0]))]);
        check(&o, &col(ty("numeric"), numeric(4, 0)), &decimal(0, Some(4)), &[("10", b(&[10])), ("22", b(&[22]))]);
        check(&o, &col(ty("numeric"), numeric(6, 4)), &decimal(4, Some(6)), &[("22.2200", b(&[0x03, 0x63, 0xf8]))]);
        check(&o, &nn(col(ty("numeric"), numeric(3, 2))), &decimal(2, Some(3)).replace(OPT, r#""optional":false"#),
            &[("3.30", b(&[0x01, 0x4a]))]);
        check(&o, &col(ty("numeric"), -1), VSD, &[
            ("10.1111", vsd(4, &[0x01, 0x8a, 0xf7])), ("22.2222", vsd(4, &[0x03, 0x64, 0x0e])), ("10", vsd(0, &[10])),
            ("10.1000", vsd(1, &[101])), ("100", vsd(0, &[100])), ("0.000", vsd(0, &[0])), ("-0.5", vsd(1, &[0xfb])),
        ]);
        // compat.md: 1.10 in numeric(3,2) is "bg=="
        assert_eq!(payload_of(&col(ty("numeric"), numeric(3, 2)), &o, "1.10"), r#""bg==""#);
        // BigInteger.toByteArray at the byte boundaries and beyond 64 bits
        let big = col(ty("numeric"), numeric(50, 0));
        let mut two_128 = vec![1u8];
        two_128.extend([0u8; 16]);
        let mut two_127 = vec![0u8, 0x80];
        two_127.extend([0u8; 15]);
        let mut minus_two_127 = vec![0x80u8];
        minus_two_127.extend([0u8; 15]);
        for (text, want) in [
            ("127", vec![0x7f]), ("128", vec![0x00, 0x80]), ("-128", vec![0x80]), ("-129", vec![0xff, 0x7f]),
            ("-1", vec![0xff]), ("255", vec![0x00, 0xff]), ("256", vec![0x01, 0x00]),
            ("340282366920938463463374607431768211456", two_128),
            ("170141183460469231731687303715884105728", two_127),
            ("-170141183460469231731687303715884105728", minus_two_127),
        ] {
            assert_eq!(value_of(&big, &o, text), b(&want), "{text}");
        }
        // 10^999 = 2^999 * 5^999: 3319 bits, so 415 bytes ending in 124 zero bytes
        let Value::Struct(fields) = value_of(&col(ty("numeric"), -1), &o, &format!("1{}", "0".repeat(999))) else {
            panic!("not a struct")
        };
        let Value::Bytes(bytes) = &fields[1] else { panic!("not bytes") };
        assert_eq!(bytes.len(), 415);
        assert!(bytes[291..].iter().all(|b| *b == 0) && bytes[290] == 0x80);
        // NaN and infinities cannot be precise
        for text in ["NaN", "Infinity", "-Infinity"] {
            for c in [col(ty("numeric"), numeric(3, 2)), col(ty("numeric"), -1)] {
                let err = decode_text(&c, &schema_of(&c, &o), text, &o).unwrap_err().to_string();
                assert!(err.contains("set decimal.handling.mode=double or string"), "{err}");
            }
        }
        // more fractional digits than the column's scale would need rounding: refuse
        assert!(fails(&col(ty("numeric"), numeric(3, 2)), &o, "1.234"));
    }

    #[test]
    fn numerics_as_double_and_string() {
        // ARPT.schemasAndValuesFor{Double,String}EncodedNumericTypes, ...StringEncodedNumericTypesWithInfinity
        let double = TypeOptions { decimal: DecimalHandlingMode::Double, ..opts() };
        let string = TypeOptions { decimal: DecimalHandlingMode::String, ..opts() };
        let special = [("NaN", f64::NAN, "NAN"), ("Infinity", f64::INFINITY, "POSITIVE_INFINITY"),
            ("-Infinity", f64::NEG_INFINITY, "NEGATIVE_INFINITY")];
        for (typmod, cases) in [
            (numeric(3, 2), vec![("1.10", 1.1, "1.10"), ("1.00", 1.0, "1.00")]),
            (numeric(4, 0), vec![("10", 10.0, "10")]),
            (numeric(6, 4), vec![("22.2200", 22.22, "22.2200"), ("22.0000", 22.0, "22.0000")]),
            (-1, vec![("10.1111", 10.1111, "10.1111"), ("22", 22.0, "22"), ("-0.50", -0.5, "-0.50")]),
        ] {
            let c = col(ty("numeric"), typmod);
            let all: Vec<_> = cases.into_iter().chain(special).collect();
            let doubles: Vec<_> = all.iter().map(|(t, d, _)| (*t, Value::Float64(*d))).collect();
            let strings: Vec<_> = all.iter().map(|(t, _, st)| (*t, s(st))).collect();
            check(&double, &c, &plain("double"), &doubles);
            check(&string, &c, &plain("string"), &strings);
        }
    }

    #[test]
    fn money_in_each_mode() {
        // ARPT.schemaAndValuesFor{,Negative}MoneyTypes; lc_monetary=C prints "-$1,234.11"
        let c = col(ty("money"), -1);
        let cents = |n: i64| b(&Dec::parse(&n.to_string()).expect("decimal").unscaled_bytes());
        check(&opts(), &c, &decimal(2, None), &[
            ("$1,234.11", cents(123411)), ("-$1,234.11", cents(-123411)), ("($1,234.11)", cents(-123411)),
            ("$0.00", b(&[0])), ("-$92,233,720,368,547,758.08", cents(i64::MIN)),
        ]);
        check(&TypeOptions { decimal: DecimalHandlingMode::Double, ..opts() }, &c, &plain("double"),
            &[("$1,234.11", Value::Float64(1234.11)), ("-$1,234.11", Value::Float64(-1234.11))]);
        check(&TypeOptions { decimal: DecimalHandlingMode::String, ..opts() }, &c, &plain("string"),
            &[("$1,234.11", s("1234.11")), ("($1,234.11)", s("-1234.11")), ("$0.00", s("0.00"))]);
        for bad in ["$12abc", "1.234,56 EUR", "$1.2.3", "$,1", ""] {
            assert!(fails(&c, &opts(), bad), "{bad}");
        }
    }

    #[test]
    fn fixed_scale_fast_path_matches_the_general_one() {
        let general = |text: &str, scale: i32| {
            Dec::parse(text)
                .and_then(|d| d.with_scale(scale, Round::Unnecessary))
                .map(|d| d.unscaled_bytes())
        };
        let mut cases: Vec<(String, i32)> = [
            ("0", 2), ("-0.00", 2), ("127", 0), ("128", 0), ("-128", 0), ("-129", 0), ("255", 0),
            ("32767.5", 1), ("-12345.67", 2), ("0.01", 2), ("-0.01", 2), ("1.5", 4),
            ("99999999999999999999999999999999999999", 0), ("-9999999999999999999.99", 2),
            ("170141183460469231731687303715884105727", 0), ("1.234", 2), ("1e3", 0), ("", 0),
            ("12a", 0), ("-", 0), ("1.2.3", 2), (".5", 1), ("5.", 0),
        ]
        .iter()
        .map(|(t, s)| (t.to_string(), *s))
        .collect();
        // A deterministic spread of magnitudes, signs and scales.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 30) as usize + 1;
            let frac = (x >> 8) as usize % (digits + 1);
            let mut t = String::new();
            if x & 1 == 1 {
                t.push('-');
            }
            let mut y = x;
            for i in 0..digits {
                if i == digits - frac && frac > 0 {
                    t.push('.');
                }
                t.push((b'0' + (y % 10) as u8) as char);
                y = (y / 10) ^ (y << 3);
            }
            cases.push((t, ((x >> 20) % 12) as i32));
        }
        let mut fast_ones = 0;
        for (text, scale) in cases {
            if let Some(fast) = fixed_scale_bytes(&text, scale) {
                assert_eq!(Some(fast), general(&text, scale), "{text} at scale {scale}");
                fast_ones += 1;
            }
        }
        assert!(fast_ones > 5_000, "only {fast_ones} values took the fast path");
    }
}
