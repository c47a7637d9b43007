//! hstore, pgvector's vectors and one-dimensional arrays, with hstore pairs and sparsevec entries
//! in the order java.util.HashMap gives them. It must never guess at what it cannot read:
//! multi-dimensional arrays and malformed literals are errors.

use sluice_config::postgres::{HstoreHandlingMode, TypeOptions};
use sluice_core::data::{Schema, Value};

use super::geometry::Shape;
use super::time::{parse_time, time_value};
use super::{bad, decode, parse_num, Conv, Fail, Res};

// ---- hstore, vectors -------------------------------------------------------------------------

/// hstore output: `"k"=>"v", "k2"=>NULL`, backslash escapes inside quotes.
pub(super) fn parse_hstore(text: &str) -> Res<Vec<(String, Option<String>)>> {
    let mut chars = text.chars().peekable();
    let mut entries: Vec<(String, Option<String>)> = Vec::new();
    let quoted = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Option<String> {
        if chars.next()? != '"' {
            return None;
        }
        let mut s = String::new();
        loop {
            match chars.next()? {
                '"' => return Some(s),
                '\\' => s.push(chars.next()?),
                c => s.push(c),
            }
        }
    };
    let skip_ws = |chars: &mut std::iter::Peekable<std::str::Chars>| {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
    };
    loop {
        skip_ws(&mut chars);
        if chars.peek().is_none() {
            break;
        }
        let Some(key) = quoted(&mut chars) else {
            return bad("malformed hstore key");
        };
        skip_ws(&mut chars);
        if chars.next() != Some('=') || chars.next() != Some('>') {
            return bad("malformed hstore pair");
        }
        skip_ws(&mut chars);
        let value = if chars.peek() == Some(&'"') {
            Some(quoted(&mut chars).ok_or(Fail::Bad("malformed hstore value".into()))?)
        } else {
            let word: String =
                std::iter::from_fn(|| chars.next_if(|c| c.is_ascii_alphabetic())).collect();
            if !word.eq_ignore_ascii_case("NULL") {
                return bad("malformed hstore value");
            }
            None
        };
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
        skip_ws(&mut chars);
        match chars.next() {
            None => break,
            Some(',') => {}
            Some(_) => return bad("malformed hstore separator"),
        }
    }
    Ok(entries)
}

/// pgjdbc parses hstore into a java.util.HashMap: Debezium emits the pairs in its order.
pub(super) fn hstore_value(entries: Vec<(String, Option<String>)>, opts: &TypeOptions) -> Value {
    let hashes: Vec<i32> = entries.iter().map(|(k, _)| java_string_hash(k)).collect();
    let order = java_hash_map_order(&hashes, None);
    match opts.hstore {
        HstoreHandlingMode::Json => {
            let mut out = String::from("{");
            for (n, &i) in order.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                let (k, v) = &entries[i];
                push_jackson_string(&mut out, k);
                out.push(':');
                match v {
                    Some(v) => push_jackson_string(&mut out, v),
                    None => out.push_str("null"),
                }
            }
            out.push('}');
            Value::String(out)
        }
        HstoreHandlingMode::Map => Value::Map(
            order
                .iter()
                .map(|&i| {
                    let (k, v) = &entries[i];
                    (
                        Value::String(k.clone()),
                        v.clone().map_or(Value::Null, Value::String),
                    )
                })
                .collect(),
        ),
    }
}

fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)))
}

/// Iteration order of a java.util.HashMap after putting distinct keys with these hash codes,
/// in order, into `new HashMap<>()` or `new HashMap<>(initial_capacity)`: by bucket, then by
/// insertion (resizes keep relative order). Treeified buckets (8+ collisions) are not modelled.
fn java_hash_map_order(hashes: &[i32], initial_capacity: Option<usize>) -> Vec<usize> {
    let mut capacity = initial_capacity.map_or(16, |c| c.max(1).next_power_of_two());
    while hashes.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let bucket = |h: i32| {
        let h = h as u32;
        (h ^ (h >> 16)) as usize & (capacity - 1)
    };
    let mut order: Vec<usize> = (0..hashes.len()).collect();
    order.sort_by_key(|&i| (bucket(hashes[i]), i));
    order
}

/// A JSON string as Jackson's generator writes it (control characters as uppercase \u00XX).
fn push_jackson_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// pgvector `[1,2,3]`.
pub(super) fn vector_value(text: &str, half: bool) -> Res<Value> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'));
    let Some(inner) = inner else {
        return bad("not a vector");
    };
    inner
        .split(',')
        .map(|e| {
            let e = e.trim();
            if half {
                parse_num(e).map(Value::Float32)
            } else {
                parse_num(e).map(Value::Float64)
            }
        })
        .collect::<Res<Vec<Value>>>()
        .map(Value::Array)
}

/// pgvector sparsevec `{1:0.5,3:2}/5`; Debezium collects the entries in a HashMap<Short, Double>.
pub(super) fn sparse_vector_value(text: &str) -> Res<Value> {
    let Some((entries, dims)) = text.trim().split_once('/') else {
        return bad("not a sparse vector");
    };
    let dims: i16 = parse_num(dims.trim())?;
    let inner = entries
        .trim()
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'));
    let Some(inner) = inner.map(str::trim) else {
        return bad("not a sparse vector");
    };
    let mut pairs: Vec<(i16, f64)> = Vec::new();
    if !inner.is_empty() {
        for e in inner.split(',') {
            let Some((i, v)) = e.split_once(':') else {
                return bad("not a sparse vector");
            };
            pairs.push((parse_num(i.trim())?, parse_num(v.trim())?));
        }
    }
    let hashes: Vec<i32> = pairs.iter().map(|(i, _)| i32::from(*i)).collect();
    let order = java_hash_map_order(&hashes, Some(pairs.len()));
    let map = order
        .iter()
        .map(|&i| (Value::Int(pairs[i].0.into()), Value::Float64(pairs[i].1)));
    Ok(Value::Struct(vec![
        Value::Int(dims.into()),
        Value::Map(map.collect()),
    ]))
}

// ---- arrays ----------------------------------------------------------------------------------

/// A one-dimensional PG array literal: elements, `None` for unquoted NULL.
fn parse_array(text: &str, delimiter: char) -> Res<Vec<Option<String>>> {
    let mut t = text.trim();
    if t.starts_with('[') {
        // Explicit bounds, "[0:2]={...}".
        let Some((bounds, rest)) = t.split_once('=') else {
            return bad("malformed array");
        };
        if bounds.matches('[').count() != 1 {
            return bad("multi-dimensional arrays are not supported");
        }
        t = rest.trim();
    }
    let Some(inner) = t.strip_prefix('{').and_then(|r| r.strip_suffix('}')) else {
        return bad("not an array literal");
    };
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let element = match chars.peek() {
            Some('{') => return bad("multi-dimensional arrays are not supported"),
            Some('"') => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return bad("unterminated quoted array element"),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => s.push(c),
                            None => return bad("unterminated quoted array element"),
                        },
                        Some(c) => s.push(c),
                    }
                }
                while chars.next_if(|c| c.is_whitespace()).is_some() {}
                Some(s)
            }
            _ => {
                let mut s = String::new();
                while let Some(c) = chars.next_if(|c| *c != delimiter) {
                    match c {
                        '\\' => match chars.next() {
                            Some(c) => s.push(c),
                            None => return bad("dangling backslash in array element"),
                        },
                        '"' | '{' | '}' => return bad("malformed array element"),
                        c => s.push(c),
                    }
                }
                let s = s.trim_end().to_owned();
                if s.is_empty() {
                    return bad("empty unquoted array element");
                }
                (!s.eq_ignore_ascii_case("NULL")).then_some(s)
            }
        };
        out.push(element);
        match chars.next() {
            None => return Ok(out),
            Some(c) if c == delimiter => {}
            Some(_) => return bad("malformed array"),
        }
    }
}

pub(super) fn array_value(
    element: &Conv,
    schema: &Schema,
    text: &str,
    opts: &TypeOptions,
) -> Res<Value> {
    let Some(items) = schema.items.as_deref() else {
        return bad("the schema is not an array schema");
    };
    let delimiter = if *element == Conv::Shape(Shape::Box) {
        ';'
    } else {
        ','
    };
    let mut out = Vec::new();
    for e in parse_array(text, delimiter)? {
        out.push(match e {
            None if items.optional => Value::Null,
            None => {
                return bad(
                    "NULL element, but Debezium's element schema for this array is required",
                )
            }
            Some(s) => match element {
                // pgjdbc hands time[] elements over as java.sql.Time: whole milliseconds, and
                // 24:00:00 wraps to midnight.
                Conv::Time { precision } => {
                    let millis = parse_time(&s)? / 1_000_000 % 86_400_000;
                    Value::Int(time_value(millis * 1_000_000, *precision, opts)?)
                }
                _ => decode(element, items, &s, opts)?,
            },
        });
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::tests::{
        arr, array_of, b, check, col, decimal, domain, f64s, fails, i, ints, mood, named, nn, numeric, opts, plain, s,
        strs, ty, value_of, vsd, VSD,
    };
    use crate::types::{column_schema, JSON_NAME};

    #[test]
    fn hstore_as_json_and_map() {
        // ARPT.schemaAndValueFieldFor{Json,Map}EncodedHStoreType{,WithMultipleValues,WithNullValues,
        // WithSpecialCharacters}: pgjdbc fills a java.util.HashMap, whose buckets order the pairs.
        let c = col(ty("hstore"), -1);
        check(&opts(), &c, &named("string", JSON_NAME), &[
            (r#""key"=>"val""#, s(r#"{"key":"val"}"#)),
            (r#""key1"=>"val1", "key2"=>"val2", "key3"=>"val3""#, s(r#"{"key1":"val1","key2":"val2","key3":"val3"}"#)),
            (r#""key1"=>"val1", "key2"=>NULL"#, s(r#"{"key1":"val1","key2":null}"#)),
            (r#""key_#1"=>"val 1", "key 2"=>" ##123 78""#, s(r#"{"key_#1":"val 1","key 2":" ##123 78"}"#)),
            (r#""key4"=>"val4", "key5"=>NULL"#, s(r#"{"key5":null,"key4":"val4"}"#)),
            (r#""q\"uote"=>"back\\slash", "ctl"=>"a	b""#, s(r#"{"q\"uote":"back\\slash","ctl":"a\tb"}"#)),
            ("", s("{}")),
        ]);
        let map = TypeOptions { hstore: HstoreHandlingMode::Map, ..opts() };
        let map_schema =
            r#"{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true}"#;
        check(&map, &c, map_schema, &[
            (r#""key4"=>"val4", "key5"=>NULL"#, Value::Map(vec![(s("key5"), Value::Null), (s("key4"), s("val4"))])),
            (r#""key"=>"val""#, Value::Map(vec![(s("key"), s("val"))])),
        ]);
        let text = r#"{"\"key4\"=>\"val4\", \"key5\"=>NULL","\"key6\"=>\"val6\""}"#;
        check(&opts(), &col(arr(ty("hstore")), -1), &array_of(&named("string", JSON_NAME), true),
            &[(text, strs(&[r#"{"key5":null,"key4":"val4"}"#, r#"{"key6":"val6"}"#]))]);
        // more than 12 keys: the table grows to 32 buckets
        let keys: Vec<String> = (0..20).map(|n| format!("k{n}")).collect();
        let hashes: Vec<i32> = keys.iter().map(|k| java_string_hash(k)).collect();
        let buckets: Vec<u32> =
            java_hash_map_order(&hashes, None).iter().map(|&n| { let h = hashes[n] as u32; (h ^ (h >> 16)) & 31 }).collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]));
        for bad in [r#""k"=>"#, r#""k"=>"v" x"#, r#""k"=>nil"#, r#"k=>"v""#] {
            assert!(fails(&c, &opts(), bad), "{bad}");
        }
    }

    #[test]
    fn arrays() {
        // ARPT.schemasAndValuesForArrayTypes, ...ArrayTypesWithNullValues
        let o = opts();
        check(&o, &col(arr(ty("int4")), -1), &array_of(&plain("int32"), true),
            &[("{1,2,3}", ints(&[1, 2, 3])), ("{}", ints(&[])), ("[0:1]={7,8}", ints(&[7, 8]))]);
        check(&o, &col(arr(ty("int8")), -1), &array_of(&plain("int64"), true),
            &[("{1550166368505037572}", ints(&[1_550_166_368_505_037_572]))]);
        check(&o, &col(arr(ty("oid")), -1), &array_of(&plain("int64"), true), &[("{3,4000000000}", ints(&[3, 4_000_000_000]))]);
        check(&o, &col(arr(ty("text")), -1), &array_of(&plain("string"), true), &[
            ("{one,two,three}", strs(&["one", "two", "three"])),
            (r#"{"NULL",NULL,"a\\b","c\"d","e,f"," g ",""}"#,
                Value::Array(vec![s("NULL"), Value::Null, s("a\\b"), s("c\"d"), s("e,f"), s(" g "), s("")])),
        ]);
        check(&o, &col(arr(ty("bpchar")), 14), &array_of(&plain("string"), true),
            &[(r#"{"cone      ","ctwo      ","cthree    "}"#, strs(&["cone      ", "ctwo      ", "cthree    "]))]);
        check(&o, &col(arr(ty("date")), -1), &array_of(&named("int32", "io.debezium.time.Date"), true),
            &[("{2016-11-04,2016-11-05,2016-11-06}", ints(&[17109, 17110, 17111]))]);
        check(&o, &col(arr(ty("numeric")), numeric(10, 2)), &array_of(&decimal(2, Some(10)), true),
            &[("{1.20,3.40,5.60}", Value::Array(vec![b(&[120]), b(&[0x01, 0x54]), b(&[0x02, 0x30])]))]);
        check(&o, &col(arr(ty("numeric")), -1), &array_of(VSD, true),
            &[("{1.1,2.22,3.333}", Value::Array(vec![vsd(1, &[11]), vsd(2, &[0, 222]), vsd(3, &[0x0d, 0x05])]))]);
        check(&o, &col(arr(ty("citext")), -1), &array_of(&plain("string"), true),
            &[("{four,five,six}", strs(&["four", "five", "six"]))]);
        check(&o, &col(arr(ty("inet")), -1), &array_of(&plain("string"), true),
            &[("{192.168.2.0/12,192.168.1.1,192.168.0.2/1}", strs(&["192.168.2.0/12", "192.168.1.1", "192.168.0.2/1"]))]);
        check(&o, &col(arr(ty("tsrange")), -1), &array_of(&plain("string"), true), &[(
            r#"{"[\"2019-03-31 15:30:00\",infinity)","[\"2019-03-31 15:30:00\",\"2019-04-30 15:30:00\"]"}"#,
            strs(&[r#"["2019-03-31 15:30:00",infinity)"#, r#"["2019-03-31 15:30:00","2019-04-30 15:30:00"]"#]),
        )]);
        check(&o, &col(arr(ty("uuid")), -1), &array_of(&named("string", "io.debezium.data.Uuid"), true),
            &[("{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}", strs(&["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]))]);
        check(&o, &col(arr(ty("json")), -1), &array_of(&named("string", JSON_NAME), true),
            &[(r#"{"{\"bar\": \"baz\"}","{\"foo\": \"qux\"}"}"#, strs(&[r#"{"bar": "baz"}"#, r#"{"foo": "qux"}"#]))]);
        check(&o, &col(arr(ty("bool")), -1), &array_of(&plain("boolean"), true),
            &[("{t,f,NULL}", Value::Array(vec![true.into(), false.into(), Value::Null]))]);
        check(&o, &col(arr(ty("float8")), -1), &array_of(&plain("double"), true), &[("{1.5,NaN}", f64s(&[1.5, f64::NAN]))]);
        check(&o, &col(arr(ty("ltree")), -1), &array_of(&named("string", "io.debezium.data.Ltree"), true),
            &[("{Ship.Frigate,Ship.Destroyer}", strs(&["Ship.Frigate", "Ship.Destroyer"]))]);
        // RSP enum array test: the element schema stays required, so a NULL element cannot be written
        let enum_items = concat!(
            r#"{"type":"string","optional":false,"name":"io.debezium.data.Enum","version":1,"#,
            r#""parameters":{"allowed":"sad,ok,happy"}}"#
        );
        check(&o, &nn(col(arr(mood()), -1)), &array_of(enum_items, false), &[("{sad,happy}", strs(&["sad", "happy"]))]);
        assert!(fails(&col(arr(mood()), -1), &o, "{sad,NULL}"));
        // arrays of types without a schema in Debezium are left out; bit[] cannot work at all
        for element in ["money", "interval", "xml", "point", "name", "varbit", "refcursor", "tsquery"] {
            assert!(column_schema(&col(arr(ty(element)), -1), &o).expect("no error").is_none(), "{element}[]");
        }
        assert!(column_schema(&col(arr(domain("d", ty("int4"), -1)), -1), &o).expect("no error").is_none());
        let err = column_schema(&col(arr(ty("bit")), 3), &o).unwrap_err().to_string();
        assert!(err.contains("_bit") && err.contains("column.exclude.list"), "{err}");
        // RSP.shouldReceiveTwentyFourHourTimeWithTimeZoneArray
        check(&o, &nn(col(arr(ty("timetz")), -1)), &array_of(&named("string", "io.debezium.time.ZonedTime"), false),
            &[("{24:00:00+00,24:00:00+00,00:00:00+00,NULL}",
                Value::Array(vec![s("24:00:00Z"), s("24:00:00Z"), s("00:00:00Z"), Value::Null]))]);
        // multi-dimensional arrays are refused rather than guessed at
        for bad in ["{{1,2},{3,4}}", "[1:2][1:1]={{1},{2}}", "{1,2", "{1,,2}", "{\"1}", "1,2"] {
            assert!(fails(&col(arr(ty("int4")), -1), &o, bad), "{bad}");
        }
        // box[] separates elements with ';'
        let Value::Array(boxes) = value_of(&col(arr(ty("box")), -1), &o, "{(1,1),(0,0);(2,2),(1,1)}") else { panic!() };
        assert_eq!(boxes.len(), 2);
    }

    #[test]
    fn time_arrays() {
        // ARPT.schemaAndValuesForTimeArrayTypes
        let o = opts();
        // pgjdbc hands time[] elements over as java.sql.Time: whole milliseconds, 24:00:00 wraps
        check(&o, &col(arr(ty("time")), -1), &array_of(&named("int64", "io.debezium.time.MicroTime"), true), &[
            ("{00:01:02,01:02:03}", ints(&[62_000_000, 3_723_000_000])),
            ("{12:00:00.123456,24:00:00}", ints(&[43_200_123_000, 0])),
        ]);
        check(&o, &col(arr(ty("timetz")), -1), &array_of(&named("string", "io.debezium.time.ZonedTime"), true),
            &[("{11:51:02+00,13:51:03+01}", strs(&["11:51:02Z", "12:51:03Z"]))]);
        check(&o, &col(arr(ty("timestamp")), -1), &array_of(&named("int64", "io.debezium.time.MicroTimestamp"), true),
            &[(r#"{"2020-04-01 00:01:02","2020-04-01 01:02:03"}"#, ints(&[1_585_699_262_000_000, 1_585_702_923_000_000]))]);
        check(&o, &col(arr(ty("timestamptz")), -1), &array_of(&named("string", "io.debezium.time.ZonedTimestamp"), true),
            &[(r#"{"2020-04-01 11:51:02+00","2020-04-01 12:51:03+00"}"#,
                strs(&["2020-04-01T11:51:02.000000Z", "2020-04-01T12:51:03.000000Z"]))]);
    }

    #[test]
    fn vectors() {
        let o = opts();
        check(&o, &col(ty("vector"), -1), concat!(
            r#"{"type":"array","items":{"type":"double","optional":false},"optional":true,"#,
            r#""name":"io.debezium.data.DoubleVector","version":1}"#
        ), &[("[1,2.5,3]", f64s(&[1.0, 2.5, 3.0]))]);
        check(&o, &col(ty("halfvec"), -1), concat!(
            r#"{"type":"array","items":{"type":"float","optional":false},"optional":true,"#,
            r#""name":"io.debezium.data.FloatVector","version":1}"#
        ), &[("[1.5]", Value::Array(vec![Value::Float32(1.5)]))]);
        let entries = Value::Map(vec![(i(1), Value::Float64(0.5)), (i(3), Value::Float64(2.0))]);
        assert_eq!(value_of(&col(ty("sparsevec"), -1), &o, "{1:0.5,3:2}/5"), Value::Struct(vec![i(5), entries]));
    }

}
