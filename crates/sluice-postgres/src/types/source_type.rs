//! `column.propagate.source.type` / `datatype.propagate.source.type`: Debezium's
//! `PropagateSourceMetadataToSchemaParameter` adds the column's source type, length, scale and
//! name to its value schema. Length and scale are what pgjdbc's `TypeInfoCache` computes from
//! the type modifier, and Debezium reads them through two paths that differ in one case (an
//! unconstrained `numeric`): the snapshot's `DatabaseMetaData.getColumns` and streaming's
//! pgoutput Relation message (`ColumnMetaData`). Both are reproduced here.

use super::oid::*;
use super::{ColumnDesc, PgType, PgTypeKind};

pub const TYPE_PARAM: &str = "__debezium.source.column.type";
pub const LENGTH_PARAM: &str = "__debezium.source.column.length";
pub const SCALE_PARAM: &str = "__debezium.source.column.scale";
pub const NAME_PARAM: &str = "__debezium.source.column.name";

/// pgjdbc's `unknownLength` default.
const UNKNOWN_LENGTH: i32 = i32::MAX;

/// Where Debezium read a table's columns from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeSource {
    /// The snapshot: pgjdbc's `getColumns` (then Debezium's domain and vector fix-ups).
    Catalog,
    /// Streaming: a pgoutput Relation message, with each column's `atttypmod`.
    Relation,
}

/// The type name pgjdbc's `getColumns` reports, which the datatype patterns match and the
/// type parameter carries (upper-cased): `typname`, or `serial`/`bigserial`/`smallserial` for
/// an integer column whose default draws from a sequence.
pub fn driver_type_name(col: &ColumnDesc) -> &str {
    let name = col.ty.name.as_str();
    let sequence = col
        .default_expr
        .as_deref()
        .is_some_and(|d| d.contains("nextval("));
    match name {
        "int4" if sequence => "serial",
        "int8" if sequence => "bigserial",
        "int2" if sequence => "smallserial",
        _ => name,
    }
}

/// The four parameters, in the order Debezium adds them.
pub fn source_type_parameters(col: &ColumnDesc, from: ShapeSource) -> Vec<(String, String)> {
    let (length, scale) = length_and_scale(col, from);
    let mut out = vec![(TYPE_PARAM.to_string(), driver_type_name(col).to_uppercase())];
    if let Some(l) = length {
        out.push((LENGTH_PARAM.into(), l.to_string()));
    }
    if let Some(s) = scale {
        out.push((SCALE_PARAM.into(), s.to_string()));
    }
    out.push((NAME_PARAM.into(), col.name.clone()));
    out
}

fn length_and_scale(col: &ColumnDesc, from: ShapeSource) -> (Option<i32>, Option<i32>) {
    let ty = &col.ty;
    let typmod = col.typmod;
    if matches!(ty.name.as_str(), "vector" | "halfvec" | "sparsevec") {
        // The dimension is the modifier itself; a bare vector has no length.
        return ((typmod != -1).then_some(typmod), Some(0));
    }
    if matches!(ty.kind, PgTypeKind::Domain { .. }) {
        // Both paths resolve domains through Debezium's TypeRegistry.
        return (Some(default_length(ty)), Some(default_scale(ty)));
    }
    let oid = base_oid(ty);
    match from {
        ShapeSource::Catalog => {
            let numeric = ty.oid == NUMERIC;
            let mut length = precision(oid, typmod);
            if !numeric && length == 0 {
                length = display_size(oid, typmod);
            }
            // pgjdbc reports no DECIMAL_DIGITS for an unconstrained numeric.
            let digits = (!(numeric && typmod == -1)).then(|| scale(oid, typmod));
            (Some(length), digits)
        }
        ShapeSource::Relation if typmod != -1 => {
            (Some(precision(oid, typmod)), Some(scale(oid, typmod)))
        }
        ShapeSource::Relation => (Some(default_length(ty)), Some(default_scale(ty))),
    }
}

/// `PostgresType.getDefaultLength()`: a domain's own `typtypmod` applies to its base.
fn default_length(ty: &PgType) -> i32 {
    if let PgTypeKind::Domain { base, base_typmod } = &ty.kind {
        if *base_typmod == -1 {
            return default_length(base);
        }
        let mut size = precision(base_oid(base), *base_typmod);
        if size == 0 {
            size = display_size(base_oid(base), *base_typmod);
        }
        if size != 0 && size != UNKNOWN_LENGTH {
            return size;
        }
        // The domain's own OID is no type pgjdbc knows.
        return UNKNOWN_LENGTH;
    }
    let oid = base_oid(ty);
    match precision(oid, -1) {
        0 => display_size(oid, -1),
        size => size,
    }
}

/// `PostgresType.getDefaultScale()`.
fn default_scale(ty: &PgType) -> i32 {
    match &ty.kind {
        PgTypeKind::Domain { base, base_typmod } if *base_typmod == -1 => default_scale(base),
        PgTypeKind::Domain { base, base_typmod } => scale(base_oid(base), *base_typmod),
        _ => scale(base_oid(ty), -1),
    }
}

/// pgjdbc's `convertArrayToBaseOid`: an array is measured as its element.
fn base_oid(ty: &PgType) -> u32 {
    match &ty.kind {
        PgTypeKind::Array { element } => element.oid,
        _ => ty.oid,
    }
}

/// `TypeInfoCache.getPrecision`.
fn precision(oid: u32, typmod: i32) -> i32 {
    match oid {
        INT2 => 5,
        OID | INT4 => 10,
        INT8 => 19,
        FLOAT4 => 8,
        FLOAT8 => 17,
        NUMERIC if typmod == -1 => 0,
        NUMERIC => ((typmod - 4) & 0xFFFF_0000u32 as i32) >> 16,
        CHAR | BOOL => 1,
        BPCHAR | VARCHAR if typmod == -1 => UNKNOWN_LENGTH,
        BPCHAR | VARCHAR => typmod - 4,
        DATE | TIME | TIMETZ | INTERVAL | TIMESTAMP | TIMESTAMPTZ => display_size(oid, typmod),
        BIT => typmod,
        VARBIT if typmod == -1 => UNKNOWN_LENGTH,
        VARBIT => typmod,
        _ => UNKNOWN_LENGTH,
    }
}

/// `TypeInfoCache.getScale`.
fn scale(oid: u32, typmod: i32) -> i32 {
    match oid {
        FLOAT4 => 8,
        FLOAT8 => 17,
        NUMERIC if typmod == -1 => 0,
        NUMERIC => (typmod - 4) & 0xFFFF,
        TIME | TIMETZ | TIMESTAMP | TIMESTAMPTZ if typmod == -1 => 6,
        TIME | TIMETZ | TIMESTAMP | TIMESTAMPTZ => typmod,
        INTERVAL if typmod == -1 => 6,
        INTERVAL => typmod & 0xFFFF,
        _ => 0,
    }
}

/// `TypeInfoCache.getDisplaySize`.
fn display_size(oid: u32, typmod: i32) -> i32 {
    match oid {
        INT2 => 6,
        INT4 => 11,
        OID => 10,
        INT8 => 20,
        FLOAT4 => 15,
        FLOAT8 => 25,
        CHAR | BOOL => 1,
        DATE => 13,
        TIME | TIMETZ | TIMESTAMP | TIMESTAMPTZ => {
            let seconds = match typmod {
                -1 => 7,
                0 => 0,
                1 => 3,
                n => n + 1,
            };
            match oid {
                TIME => 8 + seconds,
                TIMETZ => 8 + seconds + 6,
                TIMESTAMP => 13 + 1 + 8 + seconds,
                _ => 13 + 1 + 8 + seconds + 6,
            }
        }
        INTERVAL => 49,
        VARCHAR | BPCHAR if typmod == -1 => UNKNOWN_LENGTH,
        VARCHAR | BPCHAR => typmod - 4,
        NUMERIC if typmod == -1 => 131_089,
        NUMERIC => {
            let precision = ((typmod - 4) >> 16) & 0xFFFF;
            let scale = (typmod - 4) & 0xFFFF;
            1 + precision + i32::from(scale != 0)
        }
        BIT => typmod,
        VARBIT if typmod == -1 => UNKNOWN_LENGTH,
        VARBIT => typmod,
        _ => UNKNOWN_LENGTH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(oid: u32, name: &str) -> PgType {
        PgType {
            oid,
            name: name.into(),
            kind: PgTypeKind::Base,
        }
    }

    fn column(name: &str, ty: PgType, typmod: i32, default: Option<&str>) -> ColumnDesc {
        ColumnDesc {
            name: name.into(),
            ty,
            typmod,
            not_null: false,
            default_expr: default.map(str::to_owned),
        }
    }

    fn params(col: &ColumnDesc, from: ShapeSource) -> Vec<String> {
        source_type_parameters(col, from)
            .into_iter()
            .map(|(k, v)| format!("{}={v}", k.trim_start_matches("__debezium.source.column.")))
            .collect()
    }

    fn numeric_typmod(p: i32, s: i32) -> i32 {
        ((p << 16) | s) + 4
    }

    // The expectations are Debezium's (RecordsStreamProducerIT, RecordsSnapshotProducerIT).
    #[test]
    fn strings_and_numerics_as_debezium_propagates_them() {
        let vc = column("vc", base(VARCHAR, "varchar"), 6, None);
        for from in [ShapeSource::Catalog, ShapeSource::Relation] {
            assert_eq!(
                params(&vc, from),
                ["type=VARCHAR", "length=2", "scale=0", "name=vc"]
            );
        }
        let d = column("d", base(NUMERIC, "numeric"), numeric_typmod(3, 2), None);
        assert_eq!(
            params(&d, ShapeSource::Relation),
            ["type=NUMERIC", "length=3", "scale=2", "name=d"]
        );
        let money = column("salary", base(MONEY, "money"), -1, None);
        assert_eq!(
            params(&money, ShapeSource::Catalog),
            ["type=MONEY", "length=2147483647", "scale=0", "name=salary"]
        );
        let pk = column(
            "pk",
            base(INT4, "int4"),
            -1,
            Some("nextval('t_pk_seq'::regclass)"),
        );
        assert_eq!(
            params(&pk, ShapeSource::Catalog),
            ["type=SERIAL", "length=10", "scale=0", "name=pk"]
        );
    }

    #[test]
    fn unconstrained_numeric_differs_between_snapshot_and_streaming() {
        let n = column("n", base(NUMERIC, "numeric"), -1, None);
        assert_eq!(
            params(&n, ShapeSource::Catalog),
            ["type=NUMERIC", "length=0", "name=n"]
        );
        assert_eq!(
            params(&n, ShapeSource::Relation),
            ["type=NUMERIC", "length=131089", "scale=0", "name=n"]
        );
    }

    #[test]
    fn domains_resolve_through_their_base_types() {
        let domain = |name: &str, base: PgType, base_typmod| PgType {
            oid: 20_000,
            name: name.into(),
            kind: PgTypeKind::Domain {
                base: Box::new(base),
                base_typmod,
            },
        };
        let float83 = domain("float83", base(NUMERIC, "numeric"), numeric_typmod(8, 3));
        let money2 = domain("money2", base(MONEY, "money"), -1);
        let varbit2 = domain("varbit2", base(VARBIT, "varbit"), 3);
        for from in [ShapeSource::Catalog, ShapeSource::Relation] {
            assert_eq!(
                params(&column("area", float83.clone(), -1, None), from),
                ["type=FLOAT83", "length=8", "scale=3", "name=area"]
            );
            assert_eq!(
                params(&column("salary2", money2.clone(), -1, None), from),
                [
                    "type=MONEY2",
                    "length=2147483647",
                    "scale=0",
                    "name=salary2"
                ]
            );
            assert_eq!(
                params(&column("value", varbit2.clone(), -1, None), from),
                ["type=VARBIT2", "length=3", "scale=0", "name=value"]
            );
        }
    }

    #[test]
    fn arrays_and_times_are_measured_as_pgjdbc_measures_them() {
        let enum_array = PgType {
            oid: 20_001,
            name: "_test_type".into(),
            kind: PgTypeKind::Array {
                element: Box::new(PgType {
                    oid: 20_002,
                    name: "test_type".into(),
                    kind: PgTypeKind::Enum {
                        labels: vec!["V1".into(), "V2".into()],
                    },
                }),
            },
        };
        assert_eq!(
            params(&column("value", enum_array, -1, None), ShapeSource::Catalog),
            [
                "type=_TEST_TYPE",
                "length=2147483647",
                "scale=0",
                "name=value"
            ]
        );
        let varchar_array = PgType {
            oid: 1015,
            name: "_varchar".into(),
            kind: PgTypeKind::Array {
                element: Box::new(base(VARCHAR, "varchar")),
            },
        };
        assert_eq!(
            params(
                &column("tags", varchar_array, 24, None),
                ShapeSource::Relation
            ),
            ["type=_VARCHAR", "length=20", "scale=0", "name=tags"]
        );
        let ts3 = column("ts", base(TIMESTAMP, "timestamp"), 3, None);
        assert_eq!(
            params(&ts3, ShapeSource::Relation),
            ["type=TIMESTAMP", "length=26", "scale=3", "name=ts"]
        );
        let tstz = column("tz", base(TIMESTAMPTZ, "timestamptz"), -1, None);
        assert_eq!(
            params(&tstz, ShapeSource::Catalog),
            ["type=TIMESTAMPTZ", "length=35", "scale=6", "name=tz"]
        );
        let vector = column("v", base(20_003, "vector"), 3, None);
        assert_eq!(
            params(&vector, ShapeSource::Relation),
            ["type=VECTOR", "length=3", "scale=0", "name=v"]
        );
    }
}
