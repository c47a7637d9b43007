//! The catalogue as the PostgreSQL JDBC driver reports it to the connector: the tables of the
//! configured types (`DatabaseMetaData.getTables`, with pgjdbc's table-type names), filtered
//! as Confluent's `TableMonitorThread` filters them; a table's columns (`getColumns`:
//! nullability, auto-increment); and a result's columns (`ResultSetMetaData`).

use sluice_config::jdbc_source::{JdbcSourceConfig, TableFilter};
use tokio_postgres::{Client, Statement};

use super::schema::{self, ColumnDefinition};
use crate::error::JdbcError;
use crate::identifier::TableId;

/// pgjdbc's `TABLE_TYPE` of a relation (`getTables`), computed by the server.
const TABLES: &str = "SELECT n.nspname, c.relname, CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema' \
  WHEN true THEN CASE WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind \
      WHEN 'r' THEN 'SYSTEM TABLE' WHEN 'v' THEN 'SYSTEM VIEW' ELSE NULL END \
    WHEN n.nspname = 'pg_toast' THEN CASE c.relkind WHEN 'r' THEN 'SYSTEM TOAST TABLE' ELSE NULL END \
    ELSE CASE c.relkind WHEN 'r' THEN 'TEMPORARY TABLE' WHEN 'p' THEN 'TEMPORARY TABLE' WHEN 'v' THEN 'TEMPORARY VIEW' ELSE NULL END END \
  WHEN false THEN CASE c.relkind WHEN 'r' THEN 'TABLE' WHEN 'p' THEN 'PARTITIONED TABLE' WHEN 'v' THEN 'VIEW' \
    WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE NULL END ELSE NULL END AS table_type \
  FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid \
  WHERE ($1::text IS NULL OR n.nspname LIKE $1) AND c.relkind IN ('r', 'p', 'v', 'f', 'm') \
  ORDER BY table_type, n.nspname, c.relname";

/// The tables to copy, in the driver's order (by type, schema, name).
pub async fn discover(client: &Client, cfg: &JdbcSourceConfig) -> Result<Vec<TableId>, JdbcError> {
    let rows = client
        .query(TABLES, &[&cfg.schema_pattern])
        .await
        .map_err(JdbcError::query("the table list", "reading the tables"))?;
    let types: Vec<String> = cfg
        .table_types
        .iter()
        .map(|t| t.to_ascii_uppercase())
        .collect();
    let mut tables = Vec::new();
    for row in rows {
        let table_type: Option<String> = row.get(2);
        if !table_type.is_some_and(|t| types.contains(&t)) {
            continue;
        }
        let table = TableId::new(row.get::<_, String>(0), row.get::<_, String>(1));
        if included(&cfg.tables, &table) {
            tables.push(table);
        }
    }
    let mut names: Vec<&str> = tables.iter().map(|t| t.table.as_str()).collect();
    names.sort_unstable();
    let mut duplicates: Vec<String> = Vec::new();
    for w in names.windows(2) {
        if w[0] == w[1] && !duplicates.iter().any(|d| d == w[0]) {
            duplicates.push(w[0].to_owned());
        }
    }
    if !duplicates.is_empty() {
        let key = match cfg.tables {
            TableFilter::Whitelist(_) => "table.whitelist",
            TableFilter::Blacklist(_) => "table.blacklist",
            _ => "table.whitelist' or 'table.blacklist",
        };
        let listed: Vec<String> = duplicates
            .iter()
            .map(|d| {
                let all: Vec<String> = tables
                    .iter()
                    .filter(|t| &t.table == d)
                    .map(TableId::unquoted)
                    .collect();
                format!("[{}]", all.join(", "))
            })
            .collect();
        return Err(JdbcError::Config {
            key: "table.whitelist",
            message: format!("The connector uses the unqualified table name as the topic name and has detected duplicate unqualified table names. This could lead to mixed data types in the topic and downstream processing errors. To prevent such processing errors, the JDBC Source connector fails to start when it detects duplicate table name configurations. Update the connector's '{key}' config to include exactly one table in each of the tables listed below: {}", listed.join(", ")),
        });
    }
    Ok(tables)
}

/// `TableMonitorThread`'s filters: the whitelist and blacklist match `schema.table`,
/// `"schema"."table"` or the bare table name; the regex lists match `schema.table`.
pub fn included(filter: &TableFilter, table: &TableId) -> bool {
    let names = || [table.unquoted(), table.quoted(), table.table.clone()];
    match filter {
        TableFilter::All => true,
        TableFilter::Whitelist(w) => names().iter().any(|n| w.contains(n)),
        TableFilter::Blacklist(b) => !names().iter().any(|n| b.contains(n)),
        TableFilter::Regex { include, exclude } => {
            let s = table.unquoted();
            include.iter().any(|r| r.is_match(&s)) && !exclude.iter().any(|r| r.is_match(&s))
        }
    }
}

/// A column of a table, as `getColumns` describes it.
#[derive(Debug, Clone)]
pub struct TableColumn {
    pub name: String,
    pub not_null: bool,
    pub auto_increment: bool,
}

/// The columns of a table (none when it does not exist).
pub async fn table_columns(
    client: &Client,
    table: &TableId,
) -> Result<Vec<TableColumn>, JdbcError> {
    const SQL: &str = "SELECT a.attname::text, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), \
        a.attidentity <> '' OR coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%', false) \
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
        WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
    let schema = table.schema.clone().unwrap_or_else(|| "public".into());
    let rows = client
        .query(SQL, &[&schema, &table.table])
        .await
        .map_err(JdbcError::query(
            format!("table {table}"),
            "reading its columns",
        ))?;
    Ok(rows
        .iter()
        .map(|r| TableColumn {
            name: r.get(0),
            not_null: r.get(1),
            auto_increment: r.get(2),
        })
        .collect())
}

/// A prepared statement's result columns as pgjdbc's `ResultSetMetaData` describes them: a
/// column read straight from a table carries that column's NOT NULL and auto-increment; any
/// other (an expression) is nullable.
pub async fn result_columns(
    client: &Client,
    stmt: &Statement,
    what: &str,
) -> Result<Vec<ColumnDefinition>, JdbcError> {
    const SQL: &str = "SELECT a.attrelid::int8, a.attnum::int4, a.attnotnull OR (t.typtype = 'd' AND t.typnotnull), \
        a.attidentity <> '' OR coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid) LIKE '%nextval(%', false) \
        FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
        LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
        WHERE a.attrelid = ANY($1::int8[]::oid[]) AND a.attnum > 0";
    let oids: Vec<i64> = stmt
        .columns()
        .iter()
        .filter_map(|c| c.table_oid().filter(|o| *o != 0).map(i64::from))
        .collect();
    let meta = if oids.is_empty() {
        Vec::new()
    } else {
        client.query(SQL, &[&oids]).await.map_err(JdbcError::query(
            what.to_owned(),
            "reading the result's columns",
        ))?
    };
    Ok(stmt
        .columns()
        .iter()
        .map(|c| {
            let ty = c.type_().clone();
            let typmod = c.type_modifier();
            let found = match (c.table_oid(), c.column_id()) {
                (Some(oid), Some(num)) if oid != 0 => meta.iter().find(|r| {
                    r.get::<_, i64>(0) == i64::from(oid) && r.get::<_, i32>(1) == i32::from(num)
                }),
                _ => None,
            };
            ColumnDefinition {
                name: c.name().to_owned(),
                jdbc_type: schema::jdbc_type(&ty),
                precision: schema::precision(&ty, typmod),
                scale: schema::scale(&ty, typmod),
                pg_type: ty,
                optional: !found.is_some_and(|r| r.get::<_, bool>(2)),
                auto_increment: found.is_some_and(|r| r.get::<_, bool>(3)),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    #[test]
    fn filters_as_table_monitor_thread() {
        let t = TableId::new("public", "address");
        let w =
            |names: &[&str]| TableFilter::Whitelist(names.iter().map(|s| s.to_string()).collect());
        assert!(included(&w(&["address", "city"]), &t));
        assert!(included(&w(&["public.address"]), &t));
        assert!(included(&w(&["\"public\".\"address\""]), &t));
        assert!(!included(&w(&["Address"]), &t));
        assert!(!included(&w(&["other.address"]), &t));
        let b = TableFilter::Blacklist(vec!["address".into()]);
        assert!(!included(&b, &t));
        assert!(included(&b, &TableId::new("public", "city")));
        let r = TableFilter::Regex {
            include: vec![Regex::new("^(?:public\\..*)$").unwrap()],
            exclude: vec![Regex::new("^(?:.*\\.city)$").unwrap()],
        };
        assert!(included(&r, &t));
        assert!(!included(&r, &TableId::new("public", "city")));
        assert!(included(&TableFilter::All, &t));
    }
}
