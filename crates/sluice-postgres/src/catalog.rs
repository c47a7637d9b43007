//! Reading the Postgres catalog: which tables are captured, their columns with types,
//! NOT NULL and defaults, and primary keys. Also the SQL connection every part uses, with the
//! session settings pinned so that text output never depends on the server's configuration.

use std::collections::HashMap;

use sluice_config::postgres::PostgresConfig;
use tokio_postgres::{Client, NoTls};

use crate::error::{connect_error, query_error, reason, PostgresError};
use crate::types::{ColumnDesc, PgType, PgTypeKind};

/// Session settings under which every value is read (snapshot and stream alike): the type
/// conversions parse exactly these output formats, and Debezium's output does not depend on
/// the server's TimeZone.
pub const SESSION_OPTIONS: &str = "-c DateStyle=ISO,MDY -c IntervalStyle=iso_8601 -c TimeZone=UTC -c extra_float_digits=3 -c bytea_output=hex -c lc_monetary=C";

/// A query connection, with the connector's TLS: every `sslmode` means what it means to
/// libpq (`prefer` tries TLS, then plain only if the server offers no TLS).
pub async fn connect(cfg: &PostgresConfig) -> Result<Client, PostgresError> {
    use crate::tls::{attempts, client_config, explain, next_allowed, Attempt};
    let mut pg = tokio_postgres::Config::new();
    pg.host(&cfg.hostname)
        .port(cfg.port)
        .user(&cfg.user)
        .password(cfg.password.0.as_bytes())
        .dbname(&cfg.dbname)
        .application_name(format!("sluice-{}", cfg.name))
        .options(SESSION_OPTIONS)
        .connect_timeout(std::time::Duration::from_secs(10));
    let tries = attempts(cfg.tls.mode);
    for (i, attempt) in tries.iter().enumerate() {
        let connected = match attempt {
            Attempt::Plain => {
                pg.ssl_mode(tokio_postgres::config::SslMode::Disable);
                pg.connect(NoTls).await.map(|(c, conn)| {
                    spawn_connection(conn);
                    c
                })
            }
            Attempt::Tls => {
                // The verification is in the rustls configuration; tokio-postgres only insists.
                pg.ssl_mode(tokio_postgres::config::SslMode::Require);
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(client_config(cfg)?);
                pg.connect(tls).await.map(|(c, conn)| {
                    spawn_connection(conn);
                    c
                })
            }
        };
        match connected {
            Ok(client) => return Ok(client),
            Err(e) => {
                let why = reason(&e);
                if i + 1 < tries.len() && next_allowed(cfg.tls.mode, *attempt, &why) {
                    continue;
                }
                return Err(connect_error(cfg, explain(&cfg.tls, &cfg.hostname, &why)));
            }
        }
    }
    Err(connect_error(cfg, "no connection attempt was made".into()))
}

fn spawn_connection<S>(connection: tokio_postgres::Connection<tokio_postgres::Socket, S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("postgres connection closed: {e}");
        }
    });
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableInfo {
    pub oid: u32,
    pub schema: String,
    pub name: String,
    /// Every column in table order; `captured` says whether it appears in events.
    pub columns: Vec<CatalogColumn>,
    /// Primary key column names, in key order.
    pub primary_key: Vec<String>,
    /// `relreplident`: 'd' default, 'f' full, 'i' index, 'n' nothing.
    pub replica_identity: char,
    /// A partitioned table (its rows live in partitions).
    pub partitioned: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogColumn {
    pub desc: ColumnDesc,
    pub generated: bool,
    pub captured: bool,
}

impl TableInfo {
    pub fn full_name(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// `"schema"."table"`, quoted for SQL.
    pub fn quoted(&self) -> String {
        format!("{}.{}", quote_ident(&self.schema), quote_ident(&self.name))
    }

    pub fn captured_columns(&self) -> impl Iterator<Item = &CatalogColumn> {
        self.columns.iter().filter(|c| c.captured)
    }
}

pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

pub async fn wal_level(client: &Client) -> Result<String, PostgresError> {
    let row = client
        .query_one("SHOW wal_level", &[])
        .await
        .map_err(query_error("reading wal_level"))?;
    Ok(row.get(0))
}

pub async fn can_replicate(client: &Client) -> Result<bool, PostgresError> {
    let row = client
        .query_one(
            "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user",
            &[],
        )
        .await
        .map_err(query_error("reading the current role's attributes"))?;
    Ok(row.get(0))
}

/// The captured tables, in snapshot order (table.include.list order, then by name).
pub async fn captured_tables(
    client: &Client,
    cfg: &PostgresConfig,
) -> Result<Vec<TableInfo>, PostgresError> {
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text, c.relreplident::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
             ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(query_error("listing tables"))?;
    let all: Vec<(u32, String, String, String)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    for (entry, re) in cfg.table_include_raw.iter().zip(&cfg.table_include) {
        if !all
            .iter()
            .any(|(_, s, t, _)| re.is_match(&format!("{s}.{t}")))
        {
            return Err(PostgresError::UnknownTable {
                entry: entry.clone(),
                dbname: cfg.dbname.clone(),
            });
        }
    }
    let mut types = TypeCache::default();
    let mut tables = Vec::new();
    for (oid, schema, name, ident) in all {
        if cfg.captures_table(&schema, &name) {
            let ident = ident.chars().next().unwrap_or('d');
            tables.push(load_table(client, cfg, &mut types, oid, schema, name, ident).await?);
        }
    }
    tables.sort_by_key(|t| cfg.snapshot_rank(&t.schema, &t.name));
    Ok(tables)
}

/// Reads one table's columns and key. Also used when a pgoutput Relation message shows the
/// table changed.
pub async fn table_by_oid(
    client: &Client,
    cfg: &PostgresConfig,
    oid: u32,
) -> Result<Option<TableInfo>, PostgresError> {
    let row = client
        .query_opt(
            "SELECT n.nspname::text, c.relname::text, c.relreplident::text
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1",
            &[&oid],
        )
        .await
        .map_err(query_error("reading a table's name"))?;
    let Some(row) = row else { return Ok(None) };
    let ident: String = row.get(2);
    let mut types = TypeCache::default();
    Ok(Some(
        load_table(
            client,
            cfg,
            &mut types,
            oid,
            row.get(0),
            row.get(1),
            ident.chars().next().unwrap_or('d'),
        )
        .await?,
    ))
}

async fn load_table(
    client: &Client,
    cfg: &PostgresConfig,
    types: &mut TypeCache,
    oid: u32,
    schema: String,
    name: String,
    replica_identity: char,
) -> Result<TableInfo, PostgresError> {
    let context = format!("reading the columns of {schema}.{name}");
    let rows = client
        .query(
            "SELECT a.attname::text, a.atttypid, a.atttypmod, a.attnotnull,
                    pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> ''
             FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
            &[&oid],
        )
        .await
        .map_err(query_error(context.clone()))?;
    let mut columns = Vec::with_capacity(rows.len());
    for r in rows {
        let col_name: String = r.get(0);
        let generated: bool = r.get(5);
        let ty = types.get(client, r.get(1)).await?;
        // pgoutput never sends generated columns, so they are left out of snapshot events too:
        // a consumer sees the same row shape from both phases.
        let captured = !generated && cfg.captures_column(&schema, &name, &col_name);
        columns.push(CatalogColumn {
            desc: ColumnDesc {
                name: col_name,
                ty,
                typmod: r.get(2),
                not_null: r.get(3),
                default_expr: r.get(4),
            },
            generated,
            captured,
        });
    }
    // Key columns only: a PRIMARY KEY ... INCLUDE (...) index (Pagila's actor has one) also
    // lists its included columns in indkey, after the first indnkeyatts.
    let pk_rows = client
        .query(
            "SELECT a.attname::text FROM pg_index i
             CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE i.indrelid = $1 AND i.indisprimary AND k.ord <= i.indnkeyatts ORDER BY k.ord",
            &[&oid],
        )
        .await
        .map_err(query_error(context.clone()))?;
    let primary_key = pk_rows.iter().map(|r| r.get::<_, String>(0)).collect();
    let partitioned: bool = client
        .query_one("SELECT relkind = 'p' FROM pg_class WHERE oid = $1", &[&oid])
        .await
        .map_err(query_error(context))?
        .get(0);
    Ok(TableInfo {
        oid,
        schema,
        name,
        columns,
        primary_key,
        replica_identity,
        partitioned,
    })
}

/// pg_type lookups, resolving arrays, domains and enums to what the type mapping needs.
#[derive(Default)]
pub struct TypeCache {
    types: HashMap<u32, PgType>,
}

impl TypeCache {
    pub async fn get(&mut self, client: &Client, oid: u32) -> Result<PgType, PostgresError> {
        if let Some(t) = self.types.get(&oid) {
            return Ok(t.clone());
        }
        let t = Box::pin(self.load(client, oid)).await?;
        self.types.insert(oid, t.clone());
        Ok(t)
    }

    async fn load(&mut self, client: &Client, oid: u32) -> Result<PgType, PostgresError> {
        let row = client
            .query_opt(
                "SELECT t.typname::text, t.typtype::text, t.typelem, t.typbasetype, t.typtypmod, t.typcategory::text,
                        ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
                 FROM pg_type t WHERE t.oid = $1",
                &[&oid],
            )
            .await
            .map_err(query_error(format!("reading type {oid}")))?;
        let Some(row) = row else {
            return Ok(PgType {
                oid,
                name: format!("unknown type {oid}"),
                kind: PgTypeKind::Pseudo,
            });
        };
        let name: String = row.get(0);
        let typtype: String = row.get(1);
        let elem: u32 = row.get(2);
        let base: u32 = row.get(3);
        let base_typmod: i32 = row.get(4);
        let category: String = row.get(5);
        let labels: Vec<String> = row.get(6);
        let kind = match typtype.as_str() {
            "e" => PgTypeKind::Enum { labels },
            "d" => PgTypeKind::Domain {
                base: Box::new(Box::pin(self.get(client, base)).await?),
                base_typmod,
            },
            "r" | "m" => PgTypeKind::Range,
            "c" => PgTypeKind::Composite,
            "p" => PgTypeKind::Pseudo,
            _ if category == "A" && elem != 0 => PgTypeKind::Array {
                element: Box::new(Box::pin(self.get(client, elem)).await?),
            },
            _ => PgTypeKind::Base,
        };
        Ok(PgType { oid, name, kind })
    }
}
