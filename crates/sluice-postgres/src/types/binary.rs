//! bytea and bit strings: PG's `hex` (or older `escape`) bytea output and bit text read into bytes,
//! then encoded per `binary.handling.mode`. It must never pass malformed text on as bytes: bad hex,
//! a bad escape or a character other than 0/1 in a bit string is an error.

use base64::Engine as _;
use sluice_config::postgres::{BinaryHandlingMode, TypeOptions};
use sluice_core::data::Value;

use super::{bad, Fail, Res};

pub(super) fn binary_value(bytes: Vec<u8>, opts: &TypeOptions) -> Value {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    match opts.binary {
        BinaryHandlingMode::Bytes => Value::Bytes(bytes),
        BinaryHandlingMode::Base64 => Value::String(STANDARD.encode(bytes)),
        BinaryHandlingMode::Base64UrlSafe => Value::String(URL_SAFE.encode(bytes)),
        BinaryHandlingMode::Hex => Value::String(hex_lower(&bytes)),
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
    out
}

fn hex_nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

pub(super) fn parse_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|p| Some(hex_nibble(p[0])? << 4 | hex_nibble(p[1])?))
        .collect()
}

/// bytea in `hex` output (`\x0102`), or the older `escape` format.
pub(super) fn parse_bytea(text: &str) -> Res<Vec<u8>> {
    let b = text.as_bytes();
    if let Some(hex) = b.strip_prefix(b"\\x") {
        return parse_hex(hex).ok_or(Fail::Bad("malformed hex bytea".into()));
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' {
            out.push(b[i]);
            i += 1;
        } else if b.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = b
                .get(i + 1..i + 4)
                .filter(|o| o.iter().all(|c| (b'0'..=b'7').contains(c)));
            let Some(oct) = oct else {
                return bad("malformed escape bytea");
            };
            let v = oct
                .iter()
                .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
            out.push(u8::try_from(v).or_else(|_| bad("malformed escape bytea"))?);
            i += 4;
        }
    }
    Ok(out)
}

/// A bit string as Debezium encodes it: java.util.BitSet.toByteArray of the string read with
/// its last character as bit 0, so little-endian and without trailing zero bytes.
pub(super) fn bits_to_bytes(text: &str) -> Res<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = vec![0u8; b.len().div_ceil(8)];
    for (i, &c) in b.iter().enumerate() {
        let bit = b.len() - 1 - i;
        match c {
            b'1' => out[bit / 8] |= 1 << (bit % 8),
            b'0' => {}
            _ => return bad("not a bit string"),
        }
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::tests::{arr, array_of, b, check, col, fails, nn, opts, plain, s, ty, value_of, OPT};

    #[test]
    fn bits_and_bit_strings() {
        // ARPT.schemaAndValuesForBinTypes
        let o = opts();
        let bits = |len: &str| format!(
            r#"{{"type":"bytes",{OPT},"name":"io.debezium.data.Bits","version":1,"parameters":{{"length":"{len}"}}}}"#
        );
        check(&o, &col(ty("bit"), 1), &plain("boolean"), &[("0", false.into()), ("1", true.into())]);
        check(&o, &col(ty("varbit"), 1), &plain("boolean"), &[("1", true.into())]);
        check(&o, &col(ty("bit"), 2), &bits("2"), &[("11", b(&[3]))]);
        check(&o, &col(ty("bit"), 7), &bits("7"), &[("1000000", b(&[64]))]);
        check(&o, &col(ty("varbit"), 2), &bits("2"), &[("00", b(&[]))]);
        check(&o, &col(ty("varbit"), 24), &bits("24"), &[("000000110000001000000001", b(&[1, 2, 3]))]);
        check(&o, &col(ty("varbit"), 64), &bits("64"),
            &[(&format!("1{}", "0".repeat(63)), b(&[0, 0, 0, 0, 0, 0, 0, 0x80]))]);
        check(&o, &col(ty("varbit"), -1), &bits("2147483647"),
            &[("101", b(&[5])), ("111011010001000110000001000000001", b(&[1, 2, 35, 0xda, 1]))]);
        assert!(fails(&col(ty("varbit"), 1), &o, "") && fails(&col(ty("bit"), 3), &o, "102"));
    }

    #[test]
    fn strings_and_binary_modes() {
        // ARPT.schemasAndValuesForStringTypes, ARPT.schemaAndValueForBytea{Bytes,Hex,Base64,Base64UrlSafe}
        let o = opts();
        check(&o, &col(ty("varchar"), 6), &plain("string"), &[("\u{17e}\u{161}", s("\u{17e}\u{161}"))]);
        check(&o, &col(ty("bpchar"), 9), &plain("string"), &[("cdef ", s("cdef ")), ("ab   ", s("ab   "))]);
        check(&o, &col(ty("text"), -1), &plain("string"), &[("some text", s("some text"))]);
        check(&o, &col(ty("char"), -1), &plain("string"), &[("a", s("a"))]);
        check(&o, &col(ty("name"), -1), &plain("string"), &[("pg_class", s("pg_class"))]);
        check(&o, &col(ty("citext"), -1), &plain("string"), &[("Hello World", s("Hello World"))]);
        check(&o, &nn(col(ty("bytea"), -1)), r#"{"type":"bytes","optional":false}"#, &[(r"\x030405", b(&[3, 4, 5]))]);
        let (bytea, bytea_array) = (col(ty("bytea"), -1), col(arr(ty("bytea")), -1));
        for (mode, schema, empty, one, two, three) in [
            (BinaryHandlingMode::Bytes, "bytes", b(&[]), b(&[1, 2, 3]), b(&[0, 1, 2]), b(&[3, 4, 5])),
            (BinaryHandlingMode::Hex, "string", s(""), s("010203"), s("000102"), s("030405")),
            (BinaryHandlingMode::Base64, "string", s(""), s("AQID"), s("AAEC"), s("AwQF")),
            (BinaryHandlingMode::Base64UrlSafe, "string", s(""), s("AQID"), s("AAEC"), s("AwQF")),
        ] {
            let o = TypeOptions { binary: mode, ..opts() };
            check(&o, &bytea, &plain(schema), &[(r"\x010203", one), (r"\x", empty)]);
            check(&o, &bytea_array, &array_of(&plain(schema), true),
                &[(r#"{"\\x000102","\\x030405"}"#, Value::Array(vec![two, three]))]);
        }
        let url = TypeOptions { binary: BinaryHandlingMode::Base64UrlSafe, ..opts() };
        assert_eq!(value_of(&bytea, &url, r"\xfbff"), s("-_8="));
        let standard = TypeOptions { binary: BinaryHandlingMode::Base64, ..opts() };
        assert_eq!(value_of(&bytea, &standard, r"\xfbff"), s("+/8="));
        // the escape output format, should a session not pin bytea_output
        assert_eq!(value_of(&bytea, &o, r"a\000\\b"), b(b"a\0\\b"));
        assert!(fails(&bytea, &o, r"\x0") && fails(&bytea, &o, r"\xzz") && fails(&bytea, &o, r"\9"));
    }
}
