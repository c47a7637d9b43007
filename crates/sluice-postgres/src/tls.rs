//! TLS to PostgreSQL for both connections, with libpq's meaning of each `sslmode`: the query
//! connection (tokio-postgres over rustls, verified here) and the replication connection
//! (pgwire-replication's rustls, given the same mode, files and host). A connection is never
//! made weaker than its mode asks: `allow` and `prefer` try the other way only when the server
//! refuses the first, and a chain is verified whenever a root certificate is configured.

use std::path::Path;
use std::sync::Arc;

use pgwire_replication::{SslMode as ReplMode, TlsConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sluice_config::postgres::PostgresConfig;
use sluice_config::tls::{PgTls, RootCert, SslMode};

use crate::error::PostgresError;

/// One way to try a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Plain,
    Tls,
}

/// The attempts a mode makes, in order.
pub fn attempts(mode: SslMode) -> &'static [Attempt] {
    match mode {
        SslMode::Disable => &[Attempt::Plain],
        SslMode::Allow => &[Attempt::Plain, Attempt::Tls],
        SslMode::Prefer => &[Attempt::Tls, Attempt::Plain],
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => &[Attempt::Tls],
    }
}

/// Whether a failed attempt lets the next one be tried: `prefer` falls back to plain only when
/// the server offers no TLS, `allow` moves on to TLS only when the server wants it.
pub fn next_allowed(mode: SslMode, failed: Attempt, reason: &str) -> bool {
    let lower = reason.to_ascii_lowercase();
    match (mode, failed) {
        (SslMode::Prefer, Attempt::Tls) => {
            lower.contains("does not support tls") || lower.contains("does not support ssl")
        }
        (SslMode::Allow, Attempt::Plain) => {
            lower.contains("no encryption")
                || lower.contains("ssl off")
                || lower.contains("hostssl")
        }
        _ => false,
    }
}

/// The rustls configuration of the query connection for this mode.
pub(crate) fn client_config(cfg: &PostgresConfig) -> Result<rustls::ClientConfig, PostgresError> {
    rustls_config(&cfg.tls).map_err(|reason| crate::error::connect_error(cfg, reason))
}

/// The rustls configuration of a query connection with these TLS settings (shared with the
/// JDBC connectors, so `sslmode` means the same everywhere); errors name the file at fault.
pub fn rustls_config(tls: &PgTls) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?;
    let roots = Arc::new(root_store(tls)?);
    let verifier: Arc<dyn ServerCertVerifier> = if tls.verify_chain() {
        let inner = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| format!("TLS setup: {e}"))?;
        if tls.mode == SslMode::VerifyFull {
            inner
        } else {
            Arc::new(ChainOnly(inner))
        }
    } else {
        Arc::new(NoVerification(provider))
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    match client_identity(tls)? {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("the client certificate and key do not go together: {e}")),
        None => Ok(builder.with_no_client_auth()),
    }
}

/// The replication connection's TLS for one attempt, with the same mode, files and host.
pub(crate) fn replication_tls(
    cfg: &PostgresConfig,
    attempt: Attempt,
) -> Result<TlsConfig, PostgresError> {
    let tls = &cfg.tls;
    if attempt == Attempt::Plain {
        return Ok(TlsConfig::disabled());
    }
    let mode = if tls.mode == SslMode::VerifyFull {
        ReplMode::VerifyFull
    } else if tls.verify_chain() {
        ReplMode::VerifyCa
    } else {
        ReplMode::Require
    };
    let ca = match &tls.root_cert {
        Some(RootCert::File(p)) => Some(p.clone()),
        // pgwire-replication trusts Mozilla's roots when given none.
        Some(RootCert::System) | None => None,
    };
    let mut out = TlsConfig {
        mode,
        ca_pem_path: ca,
        // The host as given, so a certificate naming an IP address is checked against it.
        sni_hostname: Some(cfg.hostname.clone()),
        client_cert_pem_path: None,
        client_key_pem_path: None,
        client_key_pkcs8_der: None,
    };
    if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
        out.client_cert_pem_path = Some(cert.clone());
        match load_key(tls, key).map_err(|r| tls_error(cfg, r))? {
            PrivateKeyDer::Pkcs8(der) => {
                out.client_key_pkcs8_der = Some(der.secret_pkcs8_der().to_vec())
            }
            // PKCS#1 and SEC1 keys come only as plain PEM, which it reads itself.
            _ => out.client_key_pem_path = Some(key.clone()),
        }
    }
    Ok(out)
}

fn tls_error(cfg: &PostgresConfig, reason: String) -> PostgresError {
    crate::error::connect_error(cfg, reason)
}

fn root_store(tls: &PgTls) -> Result<RootCertStore, String> {
    let mut roots = RootCertStore::empty();
    match &tls.root_cert {
        Some(RootCert::File(path)) => {
            let certs = read_certs(path, "sslrootcert")?;
            for c in certs {
                roots.add(c).map_err(|e| {
                    format!(
                        "sslrootcert {}: not a usable CA certificate: {e}",
                        path.display()
                    )
                })?;
            }
        }
        Some(RootCert::System) | None => {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    Ok(roots)
}

fn read_certs(path: &Path, setting: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect())
        .map_err(|e| format!("{setting} {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "{setting} {}: no PEM certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn client_identity(tls: &PgTls) -> Result<Option<Identity>, String> {
    let (Some(cert), Some(key)) = (&tls.cert, &tls.key) else {
        return Ok(None);
    };
    let chain = read_certs(cert, "sslcert")?;
    Ok(Some((chain, load_key(tls, key)?)))
}

/// The client key, whatever form pgjdbc or libpq users keep it in: PEM (PKCS#8, PKCS#1,
/// SEC1), DER PKCS#8 (`.pk8`), or encrypted PKCS#8 (PEM or DER) with `sslpassword`.
fn load_key(tls: &PgTls, path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let err = |why: String| format!("sslkey {}: {why}", path.display());
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let password = tls.password.as_ref().map(|p| p.0.as_str());
    let text = std::str::from_utf8(&bytes).ok();
    if let Some(text) = text.filter(|t| t.contains("-----BEGIN")) {
        if text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
            let Some(password) = password else {
                return Err(err("the key is encrypted: set sslpassword".into()));
            };
            let (_, doc) = pkcs8::SecretDocument::from_pem(text).map_err(|e| err(e.to_string()))?;
            return decrypt(doc.as_bytes(), password).map_err(err);
        }
        if text.contains("Proc-Type: 4,ENCRYPTED") {
            return Err(err(
                "legacy OpenSSL-encrypted PEM keys are not supported: convert it (openssl pkcs8 -topk8 -in key.pem -out key.pk8 -outform DER)".into(),
            ));
        }
        return PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| err(e.to_string()));
    }
    // DER: plain PKCS#8 (pgjdbc's .pk8), or encrypted PKCS#8.
    if pkcs8::PrivateKeyInfo::try_from(bytes.as_slice()).is_ok() {
        return Ok(PrivateKeyDer::Pkcs8(bytes.into()));
    }
    match password {
        Some(password) => decrypt(&bytes, password).map_err(err),
        None => Err(err(
            "not a PEM key nor a DER PKCS#8 key (if it is encrypted, set sslpassword)".into(),
        )),
    }
}

fn decrypt(der: &[u8], password: &str) -> Result<PrivateKeyDer<'static>, String> {
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der).map_err(|e| e.to_string())?;
    let doc = info
        .decrypt(password)
        .map_err(|_| "cannot decrypt the key: wrong sslpassword?".to_string())?;
    Ok(PrivateKeyDer::Pkcs8(doc.as_bytes().to_vec().into()))
}

/// What a TLS failure means, for the operator: which file, which host, what to change.
pub fn explain(tls: &PgTls, host: &str, reason: &str) -> String {
    let lower = reason.to_ascii_lowercase();
    let ca = match &tls.root_cert {
        Some(RootCert::File(p)) => p.display().to_string(),
        Some(RootCert::System) => "the public CAs (sslrootcert=system)".into(),
        None => "the public CAs".into(),
    };
    let hint = if lower.contains("unknownissuer")
        || lower.contains("unknown issuer")
        || lower.contains("badsignature")
    {
        format!("the server's certificate is not signed by a CA in {ca}")
    } else if lower.contains("notvalidforname")
        || lower.contains("not valid for name")
        || lower.contains("certnotvalidforname")
    {
        format!("the server's certificate does not name {host} (sslmode=verify-full checks the host name; verify-ca does not)")
    } else if lower.contains("does not support tls")
        || lower.contains("does not support ssl")
        || lower.contains("sslrequest rejected")
    {
        format!(
            "the server at {host} does not support TLS, and sslmode={} requires it",
            tls.mode.name()
        )
    } else if lower.contains("client certificate")
        || lower.contains("certificate authentication failed")
    {
        "the server requires a client certificate it accepts (set sslcert and sslkey; its CN must be the user name)".into()
    } else if lower.contains("no encryption") {
        format!("the server accepts only encrypted connections from here, and sslmode={} does not use TLS", tls.mode.name())
    } else if lower.contains("expired") {
        "the server's certificate has expired".into()
    } else {
        return reason.to_owned();
    };
    format!("{hint} ({reason})")
}

/// No verification: `require`/`prefer`/`allow` without a root certificate, as libpq.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (and `require` with a root certificate): the chain, not the name.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}
