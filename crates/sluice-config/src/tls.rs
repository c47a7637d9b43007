//! TLS to PostgreSQL with libpq's semantics, whatever spells it: Debezium's `database.ssl*`
//! keys, the `sslmode`/`sslrootcert`/... parameters of a `jdbc:postgresql://` or `postgres://`
//! URL. One description serves the query and the replication connections, so a mode means the
//! same on both. A mode is honoured or refused, never weakened.

use std::path::PathBuf;

use crate::postgres::Secret;

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain only.
    Disable,
    /// Plain first; TLS if the server insists.
    Allow,
    /// TLS first; plain if the server does not offer it (libpq's and Debezium's default).
    #[default]
    Prefer,
    /// TLS only; the chain is verified when a root certificate is given (as libpq does).
    Require,
    /// TLS, the chain verified.
    VerifyCa,
    /// TLS, the chain and the host name verified.
    VerifyFull,
}

impl SslMode {
    pub const NAMES: &'static [(&'static str, SslMode)] = &[
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ];

    pub fn parse(v: &str) -> Option<SslMode> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(v.trim()))
            .map(|(_, m)| *m)
    }

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("prefer", |(n, _)| n)
    }

    /// Whether the server's certificate chain must be checked.
    pub fn verifies(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file of CA certificates (`sslrootcert=<file>`).
    File(PathBuf),
    /// The public CAs Sluice ships (Mozilla's list, as `sslrootcert=system` in libpq 16).
    System,
}

/// The TLS settings of a PostgreSQL connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PgTls {
    pub mode: SslMode,
    pub root_cert: Option<RootCert>,
    /// Client certificate chain (PEM).
    pub cert: Option<PathBuf>,
    /// Client key: PEM (PKCS#8, PKCS#1, SEC1) or pgjdbc's DER PKCS#8 (`.pk8`), possibly
    /// encrypted with `password`.
    pub key: Option<PathBuf>,
    pub password: Option<Secret>,
}

impl PgTls {
    /// libpq's rule: with a root certificate, `require` (and the modes that may use TLS)
    /// verify the chain as `verify-ca` does.
    pub fn verify_chain(&self) -> bool {
        self.mode.verifies() || (self.root_cert.is_some() && self.mode != SslMode::Disable)
    }
}

/// libpq's default root certificate file, used when `sslrootcert` is not given and it exists.
pub fn default_root_cert() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")?;
    let path = PathBuf::from(home).join(".postgresql").join("root.crt");
    path.exists().then_some(path)
}

/// Reads `sslrootcert`'s value.
pub fn root_cert(value: &str) -> RootCert {
    if value.trim() == "system" {
        RootCert::System
    } else {
        RootCert::File(PathBuf::from(value.trim()))
    }
}

/// What is wrong with a set of TLS settings, as (setting, message) pairs; empty when fine.
pub fn problems(tls: &PgTls) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if tls.mode.verifies() && tls.root_cert.is_none() {
        out.push((
            "sslrootcert",
            format!(
                "sslmode={} verifies the server's certificate, so it needs the CA certificate: set sslrootcert to a PEM file (or to `system` for the public CAs)",
                tls.mode.name()
            ),
        ));
    }
    if let Some(RootCert::File(p)) = &tls.root_cert {
        if !p.exists() {
            out.push(("sslrootcert", format!("{} does not exist", p.display())));
        }
    }
    match (&tls.cert, &tls.key) {
        (Some(_), None) => out.push((
            "sslkey",
            "a client certificate (sslcert) needs its key (sslkey)".into(),
        )),
        (None, Some(_)) => out.push((
            "sslcert",
            "a client key (sslkey) needs its certificate (sslcert)".into(),
        )),
        _ => {}
    }
    for (name, path) in [("sslcert", &tls.cert), ("sslkey", &tls.key)] {
        if let Some(p) = path {
            if !p.exists() {
                out.push((name, format!("{} does not exist", p.display())));
            }
        }
    }
    if tls.mode == SslMode::Disable && (tls.cert.is_some() || tls.root_cert.is_some()) {
        out.push((
            "sslmode",
            "sslmode=disable sends no certificate and checks none, but certificates are configured: set sslmode=require or verify-full".into(),
        ));
    }
    out
}

/// libpq's TLS parameters of a connection URL (`postgres://...?sslmode=verify-full&...`,
/// Heroku's `DATABASE_URL`, a `jdbc:postgresql://` URL) as the connector keys that say the
/// same (`database.sslmode`, ...). `channel_binding=require` is refused: the replication
/// connection cannot bind the channel. Any other parameter is refused too, naming it.
pub fn url_params_to_keys<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(String, String)>, String> {
    let mut keys = Vec::new();
    for (key, value) in params {
        match key {
            "sslmode" => {
                if SslMode::parse(value).is_none() {
                    return Err(format!(
                        "sslmode={value} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                    ));
                }
                keys.push(("database.sslmode".into(), value.to_owned()));
            }
            "sslrootcert" | "sslcert" | "sslkey" | "sslpassword" => {
                keys.push((format!("database.{key}"), value.to_owned()))
            }
            "channel_binding" | "channelBinding" => match value {
                "disable" | "prefer" => {}
                "require" => return Err("channel_binding=require cannot be honoured: Sluice's replication connection authenticates with SCRAM-SHA-256 without channel binding; use channel_binding=prefer (or leave it out)".into()),
                other => return Err(format!("channel_binding={other} is not one of disable, prefer, require")),
            },
            other => return Err(format!("the URL parameter {other} is not supported")),
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parameters_become_connector_keys() {
        let keys =
            url_params_to_keys([("sslmode", "verify-full"), ("sslrootcert", "/ca.pem")]).unwrap();
        assert_eq!(
            keys,
            vec![
                ("database.sslmode".to_string(), "verify-full".to_string()),
                ("database.sslrootcert".to_string(), "/ca.pem".to_string())
            ]
        );
        assert!(url_params_to_keys([("channel_binding", "require")])
            .unwrap_err()
            .contains("cannot be honoured"));
        assert!(url_params_to_keys([("sslmode", "maybe")]).is_err());
        assert!(url_params_to_keys([("application_name", "x")])
            .unwrap_err()
            .contains("application_name"));
    }

    #[test]
    fn libpq_verifies_the_chain_whenever_a_root_certificate_is_given() {
        let mut tls = PgTls {
            mode: SslMode::Require,
            ..PgTls::default()
        };
        assert!(!tls.verify_chain());
        tls.root_cert = Some(RootCert::System);
        assert!(tls.verify_chain());
        tls.mode = SslMode::Disable;
        assert!(!tls.verify_chain());
    }
}
