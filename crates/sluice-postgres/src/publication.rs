//! The publication: created or updated per `publication.autocreate.mode`, then checked to carry
//! every captured table, a partitioned one under its own name. It must never let the task start on
//! a publication that would silently miss a captured table's changes: that is an error.

use sluice_config::postgres::{PostgresConfig, PublicationAutocreateMode};
use tokio_postgres::Client;

use crate::catalog::{quote_ident, TableInfo};
use crate::error::{query_error, PostgresError};

/// Creates or updates the publication per `publication.autocreate.mode`, then checks every
/// captured table is in it.
pub(crate) async fn ensure_publication(
    client: &Client,
    cfg: &PostgresConfig,
    tables: &[TableInfo],
) -> Result<(), PostgresError> {
    let name = quote_ident(&cfg.publication_name);
    let exists = client
        .query_opt(
            "SELECT 1 FROM pg_publication WHERE pubname = $1",
            &[&cfg.publication_name],
        )
        .await
        .map_err(query_error("reading publications"))?
        .is_some();
    let ctx = format!("preparing publication {}", cfg.publication_name);
    match cfg.publication_autocreate {
        PublicationAutocreateMode::Disabled if !exists => {
            return Err(PostgresError::PublicationMissing {
                publication: cfg.publication_name.clone(),
            })
        }
        PublicationAutocreateMode::Disabled => {}
        PublicationAutocreateMode::AllTables if !exists => {
            client
                .batch_execute(&format!(
                    "CREATE PUBLICATION {name} FOR ALL TABLES {VIA_ROOT}"
                ))
                .await
                .map_err(query_error(ctx))?;
        }
        PublicationAutocreateMode::AllTables => {}
        PublicationAutocreateMode::NoTables if !exists => {
            client
                .batch_execute(&format!("CREATE PUBLICATION {name} {VIA_ROOT}"))
                .await
                .map_err(query_error(ctx))?;
        }
        PublicationAutocreateMode::NoTables => {}
        PublicationAutocreateMode::Filtered => {
            // PG 15+ column lists keep excluded columns inside Postgres; before 15 they are
            // published and dropped by Sluice.
            let version: i32 = client
                .query_one("SELECT current_setting('server_version_num')::int4", &[])
                .await
                .map_err(query_error("reading the server version"))?
                .get(0);
            let list: Vec<String> = tables
                .iter()
                .map(|t| publication_entry(t, version >= 150_000))
                .collect();
            let sql = match (exists, list.is_empty()) {
                (false, true) => Some(format!("CREATE PUBLICATION {name} {VIA_ROOT}")),
                (false, false) => Some(format!(
                    "CREATE PUBLICATION {name} FOR TABLE {} {VIA_ROOT}",
                    list.join(", ")
                )),
                (true, false) => Some(format!(
                    "ALTER PUBLICATION {name} SET TABLE {}; ALTER PUBLICATION {name} SET (publish_via_partition_root = true)",
                    list.join(", ")
                )),
                (true, true) => None,
            };
            if let Some(sql) = sql {
                client.batch_execute(&sql).await.map_err(query_error(ctx))?;
            }
        }
    }
    // A partitioned table's changes arrive under its own name only when the publication
    // publishes via the partition root; otherwise they name partitions Sluice does not capture.
    let published = client
        .query(
            "SELECT n.nspname::text, r.relname::text, p.pubviaroot
             FROM pg_publication_tables pt JOIN pg_publication p ON p.pubname = pt.pubname
             JOIN pg_class r ON r.oid = coalesce(pg_partition_root(format('%I.%I', pt.schemaname, pt.tablename)::regclass), format('%I.%I', pt.schemaname, pt.tablename)::regclass)
             JOIN pg_namespace n ON n.oid = r.relnamespace
             WHERE pt.pubname = $1",
            &[&cfg.publication_name],
        )
        .await
        .map_err(query_error("reading pg_publication_tables"))?;
    for t in tables {
        let entry = published
            .iter()
            .find(|r| r.get::<_, String>(0) == t.schema && r.get::<_, String>(1) == t.name);
        match entry {
            None => {
                return Err(PostgresError::NotPublished {
                    table: t.full_name(),
                    publication: cfg.publication_name.clone(),
                })
            }
            Some(r) if t.partitioned && !r.get::<_, bool>(2) => {
                return Err(PostgresError::Query {
                    context: format!("checking publication {}", cfg.publication_name),
                    reason: format!(
                        "{} is partitioned but the publication sends its changes under the partitions' names: ALTER PUBLICATION {} SET (publish_via_partition_root = true)",
                        t.full_name(),
                        cfg.publication_name
                    ),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Publications Sluice creates name partitioned tables' changes after the table itself.
const VIA_ROOT: &str = "WITH (publish_via_partition_root = true)";

fn publication_entry(t: &TableInfo, column_lists: bool) -> String {
    let all_published = t
        .columns
        .iter()
        .filter(|c| !c.generated)
        .all(|c| c.captured);
    if all_published || !column_lists {
        t.quoted()
    } else {
        let cols: Vec<String> = t
            .captured_columns()
            .map(|c| quote_ident(&c.desc.name))
            .collect();
        format!("{} ({})", t.quoted(), cols.join(", "))
    }
}
