//! The target tables as the sink sees them: their columns and types read from the catalog,
//! created (`auto.create`, `schema.evolution=basic`) from the first record's schema, and given
//! the columns a record brings that they lack (`auto.evolve`). Without those keys a missing
//! table or column is an error naming it and the key that would allow it.

use std::collections::HashMap;

use sluice_config::jdbc_sink::{Flavour, JdbcSinkConfig};
use sluice_config::jdbc_source::QuoteMethod;
use tokio_postgres::Client;

use super::change::Change;
use super::render::{self, ColumnType};
use crate::error::JdbcError;
use crate::identifier::{column, TableId};

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

#[derive(Debug, Clone)]
pub struct Table {
    /// As SQL names it.
    pub sql: String,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn column(&self, name: &str, quote: QuoteMethod) -> Option<&Column> {
        self.columns.iter().find(|c| match quote {
            QuoteMethod::Always => c.name == name,
            // Unquoted names are folded to lower case by PostgreSQL.
            QuoteMethod::Never => c.name.eq_ignore_ascii_case(name),
        })
    }
}

/// The tables this task has looked up, forgotten when a transaction rolls back (it may have
/// undone their DDL).
#[derive(Default)]
pub struct Tables {
    known: HashMap<TableId, Table>,
}

impl Tables {
    pub fn forget(&mut self) {
        self.known.clear();
    }

    /// The table a change goes to, created or evolved as the config allows.
    pub async fn ensure(
        &mut self,
        client: &Client,
        cfg: &JdbcSinkConfig,
        change: &Change,
    ) -> Result<&Table, JdbcError> {
        let id = &change.table;
        let missing = |t: &Table| {
            change
                .columns()
                .filter(|f| t.column(&f.name, cfg.quote).is_none())
                .map(|f| f.name.clone())
                .collect::<Vec<_>>()
        };
        let needs_lookup = match self.known.get(id) {
            None => true,
            Some(t) => !missing(t).is_empty(),
        };
        if needs_lookup {
            let found = lookup(client, id, cfg.quote).await?;
            let table = match found {
                Some(t) => t,
                None if cfg.auto_create => {
                    create(client, cfg, change).await?;
                    lookup(client, id, cfg.quote)
                        .await?
                        .ok_or_else(|| JdbcError::Query {
                            what: format!("table {}", id.sql(cfg.quote)),
                            context: "created but not found",
                            reason: "the table is not visible after CREATE TABLE".into(),
                            transient: false,
                        })?
                }
                None => {
                    return Err(JdbcError::Config {
                        key: key(cfg, "auto.create"),
                        message: format!(
                            "table {} does not exist in the target; create it, or set {}",
                            id.sql(cfg.quote),
                            setting(cfg, "auto.create")
                        ),
                    })
                }
            };
            let absent = missing(&table);
            let table = if absent.is_empty() {
                table
            } else if cfg.auto_evolve {
                evolve(client, cfg, change, &table, &absent).await?;
                lookup(client, id, cfg.quote).await?.unwrap_or(table)
            } else {
                return Err(JdbcError::Config {
                    key: key(cfg, "auto.evolve"),
                    message: format!(
                        "table {} has no column {} that the record brings; add it, or set {}",
                        table.sql,
                        absent.join(", "),
                        setting(cfg, "auto.evolve")
                    ),
                });
            };
            self.known.insert(id.clone(), table);
        }
        Ok(&self.known[id])
    }
}

fn key(cfg: &JdbcSinkConfig, confluent: &'static str) -> &'static str {
    match cfg.flavour {
        Flavour::Confluent => confluent,
        Flavour::Debezium => "schema.evolution",
    }
}

fn setting(cfg: &JdbcSinkConfig, confluent: &'static str) -> String {
    match cfg.flavour {
        Flavour::Confluent => format!("{confluent}=true"),
        Flavour::Debezium => "schema.evolution=basic".into(),
    }
}

async fn lookup(
    client: &Client,
    id: &TableId,
    quote: QuoteMethod,
) -> Result<Option<Table>, JdbcError> {
    let sql = id.sql(quote);
    let rows = client
        .query(
            "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
                    coalesce(e.typname, t.typname)::text, t.typelem <> 0 AND t.typlen = -1 \
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_type e ON e.oid = t.typelem AND t.typlen = -1 \
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY a.attnum",
            &[&sql],
        )
        .await
        .map_err(JdbcError::query(
            format!("table {sql}"),
            "reading its columns",
        ))?;
    if rows.is_empty() {
        let exists: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&sql])
            .await
            .map_err(JdbcError::query(format!("table {sql}"), "looking it up"))?
            .get(0);
        if !exists {
            return Ok(None);
        }
    }
    Ok(Some(Table {
        sql,
        columns: rows
            .iter()
            .map(|r| Column {
                name: r.get(0),
                ty: ColumnType {
                    sql: r.get(1),
                    base: r.get(2),
                    is_array: r.get(3),
                },
            })
            .collect(),
    }))
}

fn column_ddl(cfg: &JdbcSinkConfig, f: &super::change::Field) -> Result<String, JdbcError> {
    let ty = render::sql_type(&f.schema).map_err(|message| JdbcError::Value {
        what: "auto.create".into(),
        column: f.name.clone(),
        reason: message,
    })?;
    let mut ddl = format!("{} {ty}", column(None, &f.name, cfg.quote));
    if !f.schema.optional {
        ddl.push_str(" NOT NULL");
    }
    Ok(ddl)
}

async fn create(client: &Client, cfg: &JdbcSinkConfig, change: &Change) -> Result<(), JdbcError> {
    let mut parts = Vec::new();
    for f in change.columns() {
        parts.push(column_ddl(cfg, f)?);
    }
    if !change.key.is_empty() {
        let pk: Vec<String> = change
            .key
            .iter()
            .map(|f| column(None, &f.name, cfg.quote))
            .collect();
        parts.push(format!("PRIMARY KEY({})", pk.join(", ")));
    }
    let sql = format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{})",
        change.table.sql(cfg.quote),
        parts.join(",\n")
    );
    tracing::info!(table = %change.table.sql(cfg.quote), "creating the target table (auto.create)");
    client.batch_execute(&sql).await.map_err(JdbcError::query(
        format!("table {}", change.table.sql(cfg.quote)),
        "CREATE TABLE",
    ))
}

async fn evolve(
    client: &Client,
    cfg: &JdbcSinkConfig,
    change: &Change,
    table: &Table,
    absent: &[String],
) -> Result<(), JdbcError> {
    for f in change.columns().filter(|f| absent.contains(&f.name)) {
        // A NOT NULL column cannot be added to rows that exist without a default: as
        // Confluent, such a field is refused.
        if !f.schema.optional && f.schema.default.is_none() {
            return Err(JdbcError::Config {
                key: key(cfg, "auto.evolve"),
                message: format!(
                    "cannot add the column {} to table {}: it is not optional and has no default value",
                    f.name, table.sql
                ),
            });
        }
        let mut ddl = column_ddl(cfg, f)?;
        if let Some(default) = &f.schema.default {
            let ty = render::sql_type(&f.schema).unwrap_or_default();
            let target = ColumnType {
                sql: ty.clone(),
                base: ty.clone(),
                is_array: false,
            };
            let opts = render::RenderOptions {
                db_timezone: cfg.db_timezone.clone(),
                legacy_calendar: cfg.legacy_calendar,
            };
            if let Ok(Some(text)) = render::text(&f.schema, default, &target, &opts) {
                ddl.push_str(&format!(" DEFAULT {}::{ty}", quote_literal(&text)));
            }
        }
        tracing::info!(table = %table.sql, column = %f.name, "adding a column (auto.evolve)");
        client
            .batch_execute(&format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {ddl}",
                table.sql
            ))
            .await
            .map_err(JdbcError::query(
                format!("table {}", table.sql),
                "ALTER TABLE ADD COLUMN",
            ))?;
    }
    Ok(())
}

pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
