//! Table and column identifiers as Confluent's `TableId`, `ColumnId` and `ExpressionBuilder`
//! write them for PostgreSQL: `"schema"."table"`, quoted unless `quote.sql.identifiers=never`.
//! Unlike Confluent, a double quote inside a name is doubled, so such names stay valid SQL.

use std::fmt;

use sluice_config::jdbc_source::QuoteMethod;

/// A table: `schema.table` (PostgreSQL's catalog, the database, is never part of it: the
/// dialect drops what the driver reports, so names stay two-part on every driver version).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TableId {
    pub schema: Option<String>,
    pub table: String,
}

impl TableId {
    pub fn new(schema: impl Into<String>, table: impl Into<String>) -> Self {
        TableId {
            schema: Some(schema.into()),
            table: table.into(),
        }
    }

    /// `schema.table` without quotes (Confluent's `toUnquotedString`, the V1 offset partition).
    pub fn unquoted(&self) -> String {
        match &self.schema {
            Some(s) => format!("{s}.{}", self.table),
            None => self.table.clone(),
        }
    }

    /// The table as SQL names it.
    pub fn sql(&self, quote: QuoteMethod) -> String {
        let mut out = String::new();
        if let Some(s) = &self.schema {
            push_identifier(&mut out, s, quote);
            out.push('.');
        }
        push_identifier(&mut out, &self.table, quote);
        out
    }

    /// `"schema"."table"`, always quoted (one of the whitelist's accepted spellings).
    pub fn quoted(&self) -> String {
        self.sql(QuoteMethod::Always)
    }

    /// A configured name (`table`, `schema.table`, `"schema"."table"`), as Confluent's
    /// `IdentifierRules.parseQualifiedIdentifier`; `None` when it does not parse.
    pub fn parse(fqn: &str) -> Option<TableId> {
        let mut parts = Vec::new();
        let mut rest = fqn;
        loop {
            let segment;
            if let Some(after) = rest.strip_prefix('"') {
                let end = after.find('"')?;
                segment = &after[..end];
                rest = &after[end + 1..];
                if let Some(r) = rest.strip_prefix('.') {
                    if r.is_empty() {
                        return None;
                    }
                    rest = r;
                }
            } else {
                match rest.find('.') {
                    Some(i) => {
                        segment = &rest[..i];
                        rest = &rest[i + 1..];
                        if rest.is_empty() {
                            return None;
                        }
                    }
                    None => {
                        segment = rest;
                        rest = "";
                    }
                }
            }
            parts.push(segment.to_owned());
            if rest.is_empty() {
                break;
            }
        }
        match parts.len() {
            1 => Some(TableId {
                schema: None,
                table: parts.pop()?,
            }),
            2 | 3 => {
                let table = parts.pop()?;
                Some(TableId {
                    schema: parts.pop(),
                    table,
                })
            }
            _ => None,
        }
    }
}

impl fmt::Display for TableId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.quoted())
    }
}

/// A column, qualified by its table in table mode (`"public"."address"."last_update"`), bare
/// in query mode (`"last_update"`), as Confluent's criteria name them.
pub fn column(table: Option<&TableId>, name: &str, quote: QuoteMethod) -> String {
    let mut out = match table {
        Some(t) => {
            let mut s = t.sql(quote);
            s.push('.');
            s
        }
        None => String::new(),
    };
    push_identifier(&mut out, name, quote);
    out
}

fn push_identifier(out: &mut String, name: &str, quote: QuoteMethod) {
    match quote {
        QuoteMethod::Always => {
            out.push('"');
            out.push_str(&name.replace('"', "\"\""));
            out.push('"');
        }
        QuoteMethod::Never => out.push_str(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_write() {
        let t = TableId::parse("\"public\".\"address\"").unwrap();
        assert_eq!(t, TableId::new("public", "address"));
        assert_eq!(t.unquoted(), "public.address");
        assert_eq!(t.quoted(), "\"public\".\"address\"");
        assert_eq!(t.sql(QuoteMethod::Never), "public.address");
        assert_eq!(TableId::parse("address").unwrap().schema, None);
        assert_eq!(
            TableId::parse("pagila.public.address").unwrap(),
            TableId::new("public", "address")
        );
        assert!(TableId::parse("public.").is_none());
        assert!(TableId::parse("\"unclosed").is_none());
        assert_eq!(
            column(Some(&t), "last_update", QuoteMethod::Always),
            "\"public\".\"address\".\"last_update\""
        );
        assert_eq!(column(None, "id", QuoteMethod::Never), "id");
        assert_eq!(TableId::new("s", "we\"ird").quoted(), "\"s\".\"we\"\"ird\"");
    }
}
