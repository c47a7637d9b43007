//! What a result column becomes, exactly as the JDBC connector builds it on PostgreSQL: the
//! PostgreSQL JDBC driver first turns the column's type into a `java.sql.Types` code with a
//! precision and scale (pgjdbc's `TypeInfoCache`), then the dialect turns that into a Connect
//! schema and a getter (`GenericDatabaseDialect` and `PostgreSqlDatabaseDialect`, with
//! `numeric.mapping`). Types the connector does not support leave the column out of the
//! record, as Confluent does (it logs a warning once).

use std::sync::Arc;

use sluice_config::jdbc_source::{NumericMapping, TimestampGranularity};
use sluice_core::data::{Schema, SchemaType};
use sluice_core::logical;
use tokio_postgres::types::{Kind, Type};

/// `java.sql.Types`, as far as PostgreSQL needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JdbcType {
    Bit,
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Numeric,
    Char,
    Varchar,
    Binary,
    Date,
    Time,
    Timestamp,
    SqlXml,
    Other,
    Array,
    Struct,
    Distinct,
    RefCursor,
}

impl JdbcType {
    pub fn name(self) -> &'static str {
        match self {
            JdbcType::Bit => "BIT",
            JdbcType::SmallInt => "SMALLINT",
            JdbcType::Integer => "INTEGER",
            JdbcType::BigInt => "BIGINT",
            JdbcType::Real => "REAL",
            JdbcType::Double => "DOUBLE",
            JdbcType::Numeric => "NUMERIC",
            JdbcType::Char => "CHAR",
            JdbcType::Varchar => "VARCHAR",
            JdbcType::Binary => "BINARY",
            JdbcType::Date => "DATE",
            JdbcType::Time => "TIME",
            JdbcType::Timestamp => "TIMESTAMP",
            JdbcType::SqlXml => "SQLXML",
            JdbcType::Other => "OTHER",
            JdbcType::Array => "ARRAY",
            JdbcType::Struct => "STRUCT",
            JdbcType::Distinct => "DISTINCT",
            JdbcType::RefCursor => "REF_CURSOR",
        }
    }
}

/// A result column as pgjdbc's `ResultSetMetaData` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDefinition {
    /// The column label (alias or name): the field name.
    pub name: String,
    pub pg_type: Type,
    pub jdbc_type: JdbcType,
    pub precision: i32,
    pub scale: i32,
    /// false only for a column of a table declared NOT NULL (or of a NOT NULL domain).
    pub optional: bool,
    /// Filled from an identity column or a `nextval(...)` default.
    pub auto_increment: bool,
}

/// pgjdbc's `TypeInfoCache.getSQLType`.
pub fn jdbc_type(ty: &Type) -> JdbcType {
    match ty.kind() {
        Kind::Enum(_) => return JdbcType::Varchar,
        Kind::Array(_) => return JdbcType::Array,
        Kind::Composite(_) => return JdbcType::Struct,
        Kind::Domain(_) => return JdbcType::Distinct,
        _ => {}
    }
    match *ty {
        Type::BOOL | Type::BIT => JdbcType::Bit,
        Type::INT2 => JdbcType::SmallInt,
        Type::INT4 => JdbcType::Integer,
        Type::OID | Type::INT8 => JdbcType::BigInt,
        Type::MONEY | Type::FLOAT8 => JdbcType::Double,
        Type::FLOAT4 => JdbcType::Real,
        Type::NUMERIC => JdbcType::Numeric,
        Type::CHAR | Type::BPCHAR => JdbcType::Char,
        Type::VARCHAR | Type::TEXT | Type::NAME => JdbcType::Varchar,
        Type::BYTEA => JdbcType::Binary,
        Type::DATE => JdbcType::Date,
        Type::TIME | Type::TIMETZ => JdbcType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => JdbcType::Timestamp,
        Type::XML => JdbcType::SqlXml,
        Type::REFCURSOR => JdbcType::RefCursor,
        _ => JdbcType::Other,
    }
}

/// pgjdbc's `TypeInfoCache.getPrecision`, for the types whose precision matters here.
pub fn precision(ty: &Type, typmod: i32) -> i32 {
    match *ty {
        Type::INT2 => 5,
        Type::OID | Type::INT4 => 10,
        Type::INT8 => 19,
        Type::FLOAT4 => 8,
        Type::FLOAT8 => 17,
        Type::NUMERIC if typmod == -1 => 0,
        Type::NUMERIC => ((typmod - 4) & 0xFFFF_0000u32 as i32) >> 16,
        Type::CHAR | Type::BOOL => 1,
        Type::BPCHAR | Type::VARCHAR if typmod == -1 => i32::MAX,
        Type::BPCHAR | Type::VARCHAR => typmod - 4,
        Type::BIT => typmod,
        _ => i32::MAX,
    }
}

/// pgjdbc's `TypeInfoCache.getScale`.
pub fn scale(ty: &Type, typmod: i32) -> i32 {
    match *ty {
        Type::FLOAT4 => 8,
        Type::FLOAT8 => 17,
        Type::NUMERIC if typmod == -1 => 0,
        Type::NUMERIC => (typmod - 4) & 0xFFFF,
        Type::TIME | Type::TIMETZ | Type::TIMESTAMP | Type::TIMESTAMPTZ if typmod == -1 => 6,
        Type::TIME | Type::TIMETZ | Type::TIMESTAMP | Type::TIMESTAMPTZ => typmod,
        _ => 0,
    }
}

const NUMERIC_TYPE_SCALE_LOW: i32 = -84;
const NUMERIC_TYPE_SCALE_HIGH: i32 = 127;
const MAX_INTEGER_TYPE_PRECISION: i32 = 18;

/// How a column's value is read (the dialect's `ColumnConverter`: which `ResultSet` getter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Getter {
    Boolean,
    /// `getByte`: a numeric or a bit string read as a decimal number.
    Byte,
    Short,
    Int,
    Long,
    Float,
    Double,
    /// `getBigDecimal(col, scale)`.
    Decimal(i32),
    String,
    /// `getBytes`: bytea as is, a bit string as its text.
    Bytes,
    Date,
    Time,
    Timestamp(TimestampGranularity),
}

/// The dialect's `decimalScale` for PostgreSQL: an unconstrained numeric is read at scale 127.
pub fn decimal_scale(col: &ColumnDefinition) -> i32 {
    if col.scale == -127 || (col.precision == 0 && col.scale == 0) {
        NUMERIC_TYPE_SCALE_HIGH
    } else {
        col.scale
    }
}

fn integer(precision: i32) -> (SchemaType, Getter) {
    if precision > 9 {
        (SchemaType::Int64, Getter::Long)
    } else if precision > 4 {
        (SchemaType::Int32, Getter::Int)
    } else if precision > 2 {
        (SchemaType::Int16, Getter::Short)
    } else {
        (SchemaType::Int8, Getter::Byte)
    }
}

/// `addFieldToSchema` and `columnConverterFor` together: the field's schema and its getter,
/// or `None` when the connector leaves the column out.
pub fn field(
    col: &ColumnDefinition,
    numeric: NumericMapping,
    granularity: TimestampGranularity,
) -> Option<(Schema, Getter)> {
    let plain = |ty: SchemaType, g: Getter| Some((Schema::new(ty), g));
    let (schema, getter) = match col.jdbc_type {
        JdbcType::Bit if col.precision <= 1 => plain(SchemaType::Boolean, Getter::Boolean)?,
        JdbcType::Bit if col.precision <= 8 => plain(SchemaType::Int8, Getter::Byte)?,
        JdbcType::Bit => plain(SchemaType::Bytes, Getter::Bytes)?,
        JdbcType::Other => {
            let name = col.pg_type.name();
            if col.pg_type == Type::JSON || col.pg_type == Type::JSONB || col.pg_type == Type::UUID
            {
                plain(SchemaType::String, Getter::String)?
            } else {
                tracing::warn!(column = %col.name, r#type = %name, "JDBC type OTHER ({name}) not currently supported: the column is left out of the records");
                return None;
            }
        }
        JdbcType::SmallInt => plain(SchemaType::Int16, Getter::Short)?,
        JdbcType::Integer => plain(SchemaType::Int32, Getter::Int)?,
        JdbcType::BigInt => plain(SchemaType::Int64, Getter::Long)?,
        JdbcType::Real => plain(SchemaType::Float32, Getter::Float)?,
        JdbcType::Double => plain(SchemaType::Float64, Getter::Double)?,
        JdbcType::Numeric => numeric_field(col, numeric),
        JdbcType::Char | JdbcType::Varchar | JdbcType::SqlXml => {
            plain(SchemaType::String, Getter::String)?
        }
        JdbcType::Binary => plain(SchemaType::Bytes, Getter::Bytes)?,
        JdbcType::Date => (logical::date_schema(), Getter::Date),
        JdbcType::Time => (logical::time_schema(), Getter::Time),
        JdbcType::Timestamp => (
            timestamp_schema(granularity),
            Getter::Timestamp(granularity),
        ),
        other => {
            tracing::warn!(column = %col.name, r#type = %col.pg_type.name(), "JDBC type {} ({}) not currently supported: the column is left out of the records", other.name(), col.pg_type.name());
            return None;
        }
    };
    Some((schema.required(!col.optional), getter))
}

fn timestamp_schema(granularity: TimestampGranularity) -> Schema {
    use TimestampGranularity as G;
    match granularity {
        G::ConnectLogical => logical::timestamp_schema(),
        G::MicrosLong | G::NanosLong => Schema::new(SchemaType::Int64),
        G::MicrosString
        | G::MicrosIsoDatetimeString
        | G::NanosString
        | G::NanosIsoDatetimeString => Schema::new(SchemaType::String),
    }
}

fn numeric_field(col: &ColumnDefinition, mapping: NumericMapping) -> (Schema, Getter) {
    let (p, s) = (col.precision, col.scale);
    let as_integer = |p| {
        let (ty, g) = integer(p);
        (Schema::new(ty), g)
    };
    let double = || (Schema::new(SchemaType::Float64), Getter::Double);
    match mapping {
        NumericMapping::PrecisionOnly if s == 0 && p <= MAX_INTEGER_TYPE_PRECISION => {
            return as_integer(p)
        }
        NumericMapping::BestFit if p <= MAX_INTEGER_TYPE_PRECISION => {
            if (NUMERIC_TYPE_SCALE_LOW..1).contains(&s) {
                return as_integer(p);
            } else if s > 0 {
                return double();
            }
        }
        NumericMapping::BestFitEagerDouble => {
            if (NUMERIC_TYPE_SCALE_LOW..1).contains(&s) {
                if p <= MAX_INTEGER_TYPE_PRECISION {
                    return as_integer(p);
                }
            } else if s > 0 {
                return double();
            }
        }
        _ => {}
    }
    let scale = decimal_scale(col);
    (
        logical::decimal_schema(scale).param(logical::DECIMAL_PRECISION, p.to_string()),
        Getter::Decimal(scale),
    )
}

/// Per field of a record: its result column and getter.
pub type FieldGetters = Vec<(usize, Getter)>;

/// The record schema of a result: a struct named after the table (unnamed for a query),
/// with the supported columns as fields; and for each field its column index and getter.
pub fn record_schema(
    name: Option<&str>,
    columns: &[ColumnDefinition],
    numeric: NumericMapping,
    granularity: TimestampGranularity,
) -> Result<(Arc<Schema>, FieldGetters), String> {
    let mut schema = Schema::structure();
    if let Some(n) = name {
        schema = schema.named(n);
    }
    let mut getters = Vec::with_capacity(columns.len());
    for (i, col) in columns.iter().enumerate() {
        let Some((field, getter)) = field(col, numeric, granularity) else {
            continue;
        };
        if schema.field_index(&col.name).is_some() {
            return Err(format!(
                "Cannot create field because of field name duplication {}",
                col.name
            ));
        }
        schema = schema.field(col.name.clone(), field);
        getters.push((i, getter));
    }
    Ok((Arc::new(schema), getters))
}

#[cfg(test)]
mod tests {
    use super::*;
    use NumericMapping::*;
    use SchemaType as T;

    fn numeric(p: i32, s: i32, optional: bool) -> ColumnDefinition {
        ColumnDefinition {
            name: "n".into(),
            pg_type: Type::NUMERIC,
            jdbc_type: JdbcType::Numeric,
            precision: p,
            scale: s,
            optional,
            auto_increment: false,
        }
    }

    /// GenericDatabaseDialectTypeTest's table: (expected type, mapping, precision, scale).
    #[test]
    fn numeric_mapping_as_generic_dialect_type_test() {
        let cases: &[(T, NumericMapping, i32, i32)] = &[
            (T::Int64, PrecisionOnly, 18, 0),
            (T::Int32, PrecisionOnly, 8, 0),
            (T::Int16, PrecisionOnly, 3, 0),
            (T::Int8, PrecisionOnly, 1, 0),
            (T::Bytes, PrecisionOnly, 18, 1),
            (T::Bytes, PrecisionOnly, 8, 1),
            (T::Bytes, PrecisionOnly, 3, -1),
            (T::Bytes, PrecisionOnly, 1, -1),
            (T::Int64, BestFit, 18, -1),
            (T::Int32, BestFit, 8, -1),
            (T::Int16, BestFit, 3, 0),
            (T::Int8, BestFit, 1, 0),
            (T::Bytes, BestFit, 19, -1),
            (T::Int64, BestFitEagerDouble, 18, -1),
            (T::Int32, BestFitEagerDouble, 8, -1),
            (T::Int16, BestFitEagerDouble, 3, 0),
            (T::Int8, BestFitEagerDouble, 1, 0),
            (T::Bytes, BestFitEagerDouble, 19, -1),
            (T::Float64, BestFit, 18, 127),
            (T::Float64, BestFit, 8, 1),
            (T::Bytes, BestFit, 19, 1),
            (T::Float64, BestFitEagerDouble, 18, 127),
            (T::Float64, BestFitEagerDouble, 8, 1),
            (T::Float64, BestFitEagerDouble, 19, 1),
            (T::Float64, BestFitEagerDouble, 32, 12),
            (T::Bytes, None, 8, 0),
        ];
        for &(want, mapping, p, s) in cases {
            for optional in [false, true] {
                let (schema, _) = field(
                    &numeric(p, s, optional),
                    mapping,
                    TimestampGranularity::ConnectLogical,
                )
                .unwrap();
                assert_eq!(schema.ty, want, "{mapping:?} numeric({p},{s})");
                assert_eq!(schema.optional, optional);
                if want == T::Bytes {
                    assert_eq!(schema.name.as_deref(), Some(logical::DECIMAL));
                    assert_eq!(
                        schema.parameters,
                        vec![
                            (
                                "scale".to_owned(),
                                decimal_scale(&numeric(p, s, optional)).to_string()
                            ),
                            ("connect.decimal.precision".to_owned(), p.to_string())
                        ]
                    );
                }
            }
        }
    }

    #[test]
    fn unconstrained_numeric_reads_at_scale_127() {
        let col = numeric(0, 0, true);
        let (schema, getter) = field(&col, None, TimestampGranularity::ConnectLogical).unwrap();
        assert_eq!(logical::decimal_scale(&schema), Some(127));
        assert_eq!(getter, Getter::Decimal(127));
        // best_fit sees precision 0, scale 0 as an integer, as Confluent does.
        assert_eq!(
            field(&col, BestFit, TimestampGranularity::ConnectLogical)
                .unwrap()
                .1,
            Getter::Byte
        );
    }

    #[test]
    fn postgres_types_as_pgjdbc_reports_them() {
        assert_eq!(jdbc_type(&Type::BOOL), JdbcType::Bit);
        assert_eq!(precision(&Type::BOOL, -1), 1);
        assert_eq!(jdbc_type(&Type::TEXT), JdbcType::Varchar);
        assert_eq!(jdbc_type(&Type::MONEY), JdbcType::Double);
        assert_eq!(jdbc_type(&Type::TIMESTAMPTZ), JdbcType::Timestamp);
        assert_eq!(jdbc_type(&Type::UUID), JdbcType::Other);
        assert_eq!(jdbc_type(&Type::INT4_ARRAY), JdbcType::Array);
        assert_eq!(jdbc_type(&Type::INTERVAL), JdbcType::Other);
        // numeric(5,2): typmod = (5 << 16 | 2) + 4
        let typmod = ((5 << 16) | 2) + 4;
        assert_eq!(
            (
                precision(&Type::NUMERIC, typmod),
                scale(&Type::NUMERIC, typmod)
            ),
            (5, 2)
        );
        assert_eq!(precision(&Type::VARCHAR, 54), 50);
        assert_eq!(precision(&Type::BIT, 3), 3);
    }

    #[test]
    fn fields_as_postgres_dialect_builds_them() {
        let col = |ty: Type, typmod: i32, optional: bool| ColumnDefinition {
            name: "c".into(),
            jdbc_type: jdbc_type(&ty),
            precision: precision(&ty, typmod),
            scale: scale(&ty, typmod),
            pg_type: ty,
            optional,
            auto_increment: false,
        };
        let f = |c: &ColumnDefinition| field(c, None, TimestampGranularity::ConnectLogical);
        let (s, g) = f(&col(Type::BOOL, -1, false)).unwrap();
        assert_eq!((s.ty, s.optional, g), (T::Boolean, false, Getter::Boolean));
        assert_eq!(f(&col(Type::BIT, 5, true)).unwrap().0.ty, T::Int8);
        assert_eq!(f(&col(Type::BIT, 9, true)).unwrap().0.ty, T::Bytes);
        assert_eq!(f(&col(Type::JSONB, -1, true)).unwrap().0.ty, T::String);
        assert_eq!(f(&col(Type::UUID, -1, true)).unwrap().0.ty, T::String);
        assert!(f(&col(Type::INTERVAL, -1, true)).is_none());
        assert!(f(&col(Type::TEXT_ARRAY, -1, true)).is_none());
        assert!(f(&col(Type::VARBIT, -1, true)).is_none());
        let (s, _) = f(&col(Type::TIMESTAMP, -1, false)).unwrap();
        assert_eq!(s.name.as_deref(), Some(logical::TIMESTAMP));
        assert_eq!(
            f(&col(Type::DATE, -1, true)).unwrap().0.name.as_deref(),
            Some(logical::DATE)
        );
        assert_eq!(
            f(&col(Type::TIMETZ, -1, true)).unwrap().0.name.as_deref(),
            Some(logical::TIME)
        );
        assert_eq!(f(&col(Type::INT2, -1, true)).unwrap().0.ty, T::Int16);
        assert_eq!(f(&col(Type::OID, -1, true)).unwrap().0.ty, T::Int64);
        assert_eq!(f(&col(Type::FLOAT4, -1, true)).unwrap().0.ty, T::Float32);
        let micros = field(
            &col(Type::TIMESTAMPTZ, -1, true),
            None,
            TimestampGranularity::MicrosLong,
        )
        .unwrap();
        assert_eq!(
            (micros.0.ty, micros.0.name.clone()),
            (T::Int64, Option::None)
        );
    }

    #[test]
    fn duplicate_field_names_are_refused() {
        let c = numeric(5, 0, false);
        let err = record_schema(
            Option::None,
            &[c.clone(), c],
            None,
            TimestampGranularity::ConnectLogical,
        )
        .unwrap_err();
        assert!(err.contains("field name duplication n"), "{err}");
    }
}
