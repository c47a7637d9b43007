//! Geometric types (point, box, lseg, path, polygon, circle, line) as Debezium's geometry structs
//! with WKB, and PostGIS geometry/geography. It must never re-encode PostGIS values: the server's
//! EWKB is kept whole and only its SRID is read.

use sluice_core::data::{Schema, SchemaType, Value};

use super::binary::parse_hex;
use super::{bad, named, Fail, Res, WithDoc};

const POINT_NAME: &str = "io.debezium.data.geometry.Point";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Shape {
    Box,
    Lseg,
    Path,
    Polygon,
}

impl Shape {
    pub(super) fn name(self) -> &'static str {
        match self {
            Shape::Box => "box",
            Shape::Lseg => "lseg",
            Shape::Path => "path",
            Shape::Polygon => "polygon",
        }
    }
}

pub(super) fn point_schema() -> Schema {
    named(SchemaType::Struct, POINT_NAME)
        .doc_text("Geometry (POINT)")
        .field("x", Schema::new(SchemaType::Float64))
        .field("y", Schema::new(SchemaType::Float64))
        .field("wkb", Schema::new(SchemaType::Bytes).optional())
        .field("srid", Schema::new(SchemaType::Int32).optional())
}

pub(super) fn geometry_schema() -> Schema {
    let extensions = Schema::map(
        Schema::new(SchemaType::String),
        Schema::new(SchemaType::String),
    )
    .optional();
    Schema::structure()
        .named("io.debezium.data.geometry.Geometry")
        .version(2)
        .doc_text("Geometry")
        .optional()
        .field("wkb", Schema::new(SchemaType::Bytes))
        .field("srid", Schema::new(SchemaType::Int32).optional())
        .field("extensions", extensions)
}

/// The numbers of a geometric value (`(1,2)`, `[(0,0),(1,1)]`, `<(1,2),3>`, `{1,2,3}`), checking
/// the opening bracket and, when `count` > 0, how many there are (otherwise an even count).
pub(super) fn coordinates(text: &str, open: &str, count: usize) -> Res<Vec<f64>> {
    let t = text.trim();
    if !t.starts_with(open) {
        return bad("not a geometric value of this type");
    }
    let numbers = t
        .split(|c: char| "()[]<>{},".contains(c))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<f64>().or_else(|_| bad("not a coordinate")))
        .collect::<Res<Vec<f64>>>()?;
    let ok = if count > 0 {
        numbers.len() == count
    } else {
        numbers.len() % 2 == 0 && !numbers.is_empty()
    };
    if !ok {
        return bad("wrong number of coordinates");
    }
    Ok(numbers)
}

fn wkb_header(ty: u32, capacity: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(capacity);
    out.push(1); // little-endian
    out.extend_from_slice(&ty.to_le_bytes());
    out
}

fn wkb_points(out: &mut Vec<u8>, points: &[[f64; 2]]) {
    out.extend_from_slice(&(points.len() as u32).to_le_bytes());
    for [x, y] in points {
        out.extend_from_slice(&x.to_le_bytes());
        out.extend_from_slice(&y.to_le_bytes());
    }
}

pub(super) fn wkb_line_string(points: &[[f64; 2]]) -> Vec<u8> {
    let mut out = wkb_header(2, 9 + points.len() * 16);
    wkb_points(&mut out, points);
    out
}

pub(super) fn wkb_polygon(ring: &[[f64; 2]]) -> Vec<u8> {
    let mut out = wkb_header(3, 13 + ring.len() * 16);
    out.extend_from_slice(&1u32.to_le_bytes());
    wkb_points(&mut out, ring);
    out
}

pub(super) fn point_value(x: f64, y: f64) -> Value {
    let mut wkb = wkb_header(1, 21);
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    Value::Struct(vec![
        Value::Float64(x),
        Value::Float64(y),
        Value::Bytes(wkb),
        Value::Null,
    ])
}

pub(super) fn geometry_value(wkb: Vec<u8>, extensions: Vec<(&str, &str)>) -> Value {
    let extensions = extensions
        .into_iter()
        .map(|(k, v)| (Value::from(k), Value::from(v)))
        .collect();
    Value::Struct(vec![Value::Bytes(wkb), Value::Null, Value::Map(extensions)])
}

pub(super) fn shape_value(shape: Shape, text: &str) -> Res<Value> {
    let t = text.trim();
    let (open, count) = match shape {
        Shape::Box => ("(", 4),
        Shape::Lseg => ("[", 4),
        Shape::Path => (if t.starts_with('[') { "[" } else { "(" }, 0),
        Shape::Polygon => ("(", 0),
    };
    let points: Vec<[f64; 2]> = coordinates(t, open, count)?
        .chunks(2)
        .map(|p| [p[0], p[1]])
        .collect();
    let mut extensions = vec![("type", shape.name())];
    let wkb = match shape {
        Shape::Box => {
            let ([x1, y1], [x2, y2]) = (points[0], points[1]);
            wkb_polygon(&[[x1, y1], [x1, y2], [x2, y2], [x2, y1], [x1, y1]])
        }
        Shape::Lseg => wkb_line_string(&points),
        Shape::Path => {
            extensions.push(("closed", if t.starts_with('(') { "true" } else { "false" }));
            wkb_line_string(&points)
        }
        Shape::Polygon => {
            let mut ring = points;
            let (first, last) = (ring[0], ring[ring.len() - 1]);
            // Debezium's closeRing compares coordinates exactly (NaN never closes).
            if first[0] != last[0] || first[1] != last[1] {
                ring.push(first);
            }
            wkb_polygon(&ring)
        }
    };
    Ok(geometry_value(wkb, extensions))
}

/// PostGIS geometry/geography text output: hex EWKB, kept whole, SRID read from its header.
pub(super) fn postgis_value(text: &str, geography: bool) -> Res<Value> {
    let ewkb = parse_hex(text.as_bytes()).ok_or(Fail::Bad("not hex EWKB".into()))?;
    if ewkb.len() < 9 {
        return bad("EWKB too short");
    }
    let little = ewkb[0] != 0;
    let word = |at: usize| {
        let b = [ewkb[at], ewkb[at + 1], ewkb[at + 2], ewkb[at + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let srid = if word(1) & 0x2000_0000 != 0 {
        Value::Int(i64::from(word(5) as i32))
    } else {
        Value::Null
    };
    let mut fields = vec![Value::Bytes(ewkb), srid];
    if !geography {
        fields.push(Value::Null);
    }
    Ok(Value::Struct(fields))
}

#[cfg(test)]
#[rustfmt::skip] // case tables read best one case per line
mod tests {
    //! Debezium's cases, abbreviated as in `types::tests`.

    use super::*;
    use crate::types::tests::{b, check, col, fails, i, json_of, nn, opts, payload_of, point, s, ty, value_of, OPT};

    fn geometry(wkb: Vec<u8>, ext: &[(&str, &str)]) -> Value {
        let ext = ext.iter().map(|(k, v)| (s(k), s(v))).collect();
        Value::Struct(vec![Value::Bytes(wkb), Value::Null, Value::Map(ext)])
    }

    const POINT_FIELDS: &str = concat!(
        r#"[{"type":"double","optional":false,"field":"x"},{"type":"double","optional":false,"field":"y"},"#,
        r#"{"type":"bytes","optional":true,"field":"wkb"},{"type":"int32","optional":true,"field":"srid"}]"#
    );

    #[test]
    fn geometric_types() {
        // ARPT.schemaAndValuesForGeomTypes, ARPT.schemasAndValuesForDomainAliasTypes (box .. polygon),
        // ARPT.schemaAndValuesForPostgisTypes
        let o = opts();
        let point_schema = format!(
            r#"{{"type":"struct","fields":{POINT_FIELDS},{OPT},"name":"{POINT_NAME}","version":1,"doc":"Geometry (POINT)"}}"#
        );
        check(&o, &col(ty("point"), -1), &point_schema, &[("(1,1)", point(1.0, 1.0)), ("(-1.5,2e+20)", point(-1.5, 2e20))]);
        assert_eq!(payload_of(&col(ty("point"), -1), &o, "(1,1)"),
            r#"{"x":1.0,"y":1.0,"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAPA/","srid":null}"#);
        assert!(json_of(&nn(col(ty("point"), -1)), &o).contains(r#""optional":false,"name""#));
        let geometry_schema = concat!(
            r#"{"type":"struct","fields":[{"type":"bytes","optional":false,"field":"wkb"},"#,
            r#"{"type":"int32","optional":true,"field":"srid"},{"type":"map","keys":{"type":"string","optional":false},"#,
            r#""values":{"type":"string","optional":false},"optional":true,"field":"extensions"}],"optional":true,"#,
            r#""name":"io.debezium.data.geometry.Geometry","version":2,"doc":"Geometry"}"#
        );
        // Geometry's builder is optional, so even a NOT NULL box is
        assert_eq!(json_of(&nn(col(ty("box"), -1)), &o), geometry_schema);
        let (p00, p01, p02, p10, p11) = ([0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [1.0, 0.0], [1.0, 1.0]);
        check(&o, &col(ty("box"), -1), geometry_schema,
            &[("(1,1),(0,0)", geometry(wkb_polygon(&[p11, p10, p00, p01, p11]), &[("type", "box")]))]);
        check(&o, &col(ty("lseg"), -1), geometry_schema,
            &[("[(0,0),(0,1)]", geometry(wkb_line_string(&[p00, p01]), &[("type", "lseg")]))]);
        check(&o, &col(ty("path"), -1), geometry_schema, &[
            ("((0,0),(0,1),(0,2))", geometry(wkb_line_string(&[p00, p01, p02]), &[("type", "path"), ("closed", "true")])),
            ("[(0,0),(0,1)]", geometry(wkb_line_string(&[p00, p01]), &[("type", "path"), ("closed", "false")])),
        ]);
        check(&o, &col(ty("polygon"), -1), geometry_schema,
            &[("((0,0),(0,1),(1,0))", geometry(wkb_polygon(&[p00, p01, p10, p00]), &[("type", "polygon")]))]);
        assert_eq!(wkb_line_string(&[p00, p01]).len(), 41);
        let circle_schema = format!(concat!(
            r#"{{"type":"struct","fields":[{{"type":"struct","fields":{},"optional":false,"name":"{}","version":1,"#,
            r#""doc":"Geometry (POINT)","field":"center"}},{{"type":"double","optional":false,"field":"radius"}}],"#,
            r#""optional":true,"name":"io.debezium.data.geometry.Circle","version":1,"doc":"Geometry (CIRCLE)"}}"#
        ), POINT_FIELDS, POINT_NAME);
        check(&o, &col(ty("circle"), -1), &circle_schema,
            &[("<(10,4),10>", Value::Struct(vec![point(10.0, 4.0), Value::Float64(10.0)]))]);
        let line_schema = concat!(
            r#"{"type":"struct","fields":[{"type":"double","optional":false,"field":"a"},"#,
            r#"{"type":"double","optional":false,"field":"b"},{"type":"double","optional":false,"field":"c"}],"#,
            r#""optional":true,"name":"io.debezium.data.geometry.Line","version":1,"doc":"Geometry (LINE)"}"#
        );
        check(&o, &col(ty("line"), -1), line_schema, &[("{-1,0,0}", Value::Struct(vec![
            Value::Float64(-1.0), Value::Float64(0.0), Value::Float64(0.0),
        ]))]);
        // PostGIS: hex EWKB kept whole, SRID from its header
        let ewkb = "0101000020730C00001C7C613255DE6540787AA52C435C42C0";
        let want = Value::Struct(vec![b(&parse_hex(ewkb.as_bytes()).expect("hex")), i(3187), Value::Null]);
        assert_eq!(value_of(&col(ty("geometry"), -1), &o, ewkb), want);
        let Value::Struct(f) = value_of(&col(ty("geometry"), -1), &o, "010700000000000000") else { panic!() };
        assert_eq!(f[1], Value::Null);
        let geography = concat!(
            "0105000020E610000001000000010200000002000000A779C7293A2465400B462575025A46C0",
            "C66D3480B7FC6440C3D32B65195246C0"
        );
        let Value::Struct(f) = value_of(&col(ty("geography"), -1), &o, geography) else { panic!() };
        assert_eq!((f.len(), &f[1]), (2, &i(4326)));
        assert!(json_of(&col(ty("geography"), -1), &o)
            .contains(r#""name":"io.debezium.data.geometry.Geography","version":1,"doc":"Geography""#));
        for bad in ["1,1", "(1)", "(1,2,3)", "(a,b)"] {
            assert!(fails(&col(ty("point"), -1), &o, bad), "{bad}");
        }
    }
}
