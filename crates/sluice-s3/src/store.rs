//! Where objects go: an S3 bucket (AWS, or any S3-compatible endpoint) through object_store,
//! or a local directory (`store.url=file:///dir`, a directory per bucket). An upload is whole
//! or absent (a single PUT, or a multipart upload completed at the end), and on a local disk
//! it is fsynced, so "uploaded" means a crash cannot take it back. Errors say whether trying
//! again can help: 5xx, throttling, timeouts and lost connections can; bad credentials, a
//! missing bucket or a refused request cannot, and the error names the bucket and the
//! server's reason.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart,
};
use sluice_config::s3::S3SinkConfig;
use sluice_core::error::ConnectorError;

#[derive(Debug, thiserror::Error)]
#[error("S3 sink, bucket {bucket} at {endpoint}: {what}: {reason}")]
pub struct StoreError {
    pub bucket: String,
    pub endpoint: String,
    pub what: String,
    pub reason: String,
}

/// The bucket the sink writes to.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    name: String,
    endpoint: String,
    part_size: usize,
    /// Set for a local directory: uploads are fsynced there.
    local_dir: Option<PathBuf>,
}

impl Bucket {
    pub fn open(cfg: &S3SinkConfig) -> Result<Self, ConnectorError> {
        let name = cfg.bucket.clone();
        if let Some(dir) = cfg
            .store_url
            .as_deref()
            .and_then(|u| u.strip_prefix("file://"))
        {
            let dir = PathBuf::from(dir).join(&name);
            let endpoint = format!("file://{}", dir.display());
            std::fs::create_dir_all(&dir).map_err(|e| {
                ConnectorError::permanent(StoreError {
                    bucket: name.clone(),
                    endpoint: endpoint.clone(),
                    what: "cannot create the bucket's directory".into(),
                    reason: e.to_string(),
                })
            })?;
            let store = LocalFileSystem::new_with_prefix(&dir).map_err(|e| {
                ConnectorError::permanent(StoreError {
                    bucket: name.clone(),
                    endpoint: endpoint.clone(),
                    what: "cannot open the directory".into(),
                    reason: e.to_string(),
                })
            })?;
            return Ok(Bucket {
                store: Arc::new(store),
                name,
                endpoint,
                part_size: cfg.part_size,
                local_dir: Some(dir),
            });
        }
        // object_store's HTTPS is reqwest on rustls, built with ring as its only provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&name)
            .with_region(&cfg.region)
            .with_virtual_hosted_style_request(!cfg.path_style)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(cfg.retry_backoff_ms.max(1)),
                    max_backoff: Duration::from_secs(20),
                    base: 2.0,
                },
                max_retries: cfg.part_retries,
                retry_timeout: Duration::from_secs(180),
            });
        let endpoint = match cfg.store_url.as_deref() {
            Some(url) if !url.starts_with("s3://") => {
                b = b
                    .with_endpoint(url)
                    .with_allow_http(url.starts_with("http://"));
                url.to_owned()
            }
            _ => format!("s3.{}.amazonaws.com", cfg.region),
        };
        if let (Some(id), Some(secret)) = (&cfg.access_key_id, &cfg.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = b.build().map_err(|e| {
            ConnectorError::permanent(StoreError {
                bucket: name.clone(),
                endpoint: endpoint.clone(),
                what: "cannot configure the S3 client".into(),
                reason: e.to_string(),
            })
        })?;
        Ok(Bucket {
            store: Arc::new(store),
            name,
            endpoint,
            part_size: cfg.part_size,
            local_dir: None,
        })
    }

    /// Checks that the bucket exists and the credentials may list it (Confluent's
    /// `bucketExists` at start).
    pub async fn check(&self, prefix: &str) -> Result<(), ConnectorError> {
        let prefix = (!prefix.is_empty()).then(|| ObjectPath::from(prefix));
        self.store
            .list_with_delimiter(prefix.as_ref())
            .await
            .map(|_| ())
            .map_err(|e| {
                self.error(
                    "cannot list the bucket (does it exist, may these credentials read it?)",
                    e,
                )
            })
    }

    /// Writes one object whole: a single PUT up to `s3.part.size`, a multipart upload of
    /// parts that size above it.
    pub async fn upload(&self, key: &str, bytes: Vec<u8>) -> Result<(), ConnectorError> {
        let path = ObjectPath::from(key);
        let what = || format!("cannot upload {key}");
        if bytes.len() <= self.part_size {
            self.store
                .put(&path, PutPayload::from(bytes))
                .await
                .map_err(|e| self.error(&what(), e))?;
        } else {
            let upload = self
                .store
                .put_multipart(&path)
                .await
                .map_err(|e| self.error(&what(), e))?;
            let mut w = WriteMultipart::new_with_chunk_size(upload, self.part_size);
            w.write(&bytes);
            w.finish().await.map_err(|e| self.error(&what(), e))?;
        }
        if let Some(dir) = &self.local_dir {
            let file = dir.join(key);
            tokio::task::spawn_blocking(move || fsync_file_and_parents(&file))
                .await
                .map_err(|e| ConnectorError::permanent(e.to_string()))?
                .map_err(|e| {
                    self.error(
                        &what(),
                        object_store::Error::Generic {
                            store: "LocalFileSystem",
                            source: Box::new(e),
                        },
                    )
                })?;
        }
        Ok(())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn error(&self, what: &str, e: object_store::Error) -> ConnectorError {
        let reason = sluice_core::error::chain(&e);
        let transient = is_transient(&e, &reason);
        let e = StoreError {
            bucket: self.name.clone(),
            endpoint: self.endpoint.clone(),
            what: what.to_owned(),
            reason,
        };
        if transient {
            ConnectorError::transient(e)
        } else {
            ConnectorError::permanent(e)
        }
    }
}

/// 5xx, throttling, timeouts, lost connections and a full local disk pass; a refusal
/// (4xx: credentials, permissions, a missing bucket) and a server certificate that cannot be
/// verified (a connect error, but retrying will not make it trusted) do not.
fn is_transient(e: &object_store::Error, reason: &str) -> bool {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } | E::PermissionDenied { .. } | E::Unauthenticated { .. } => false,
        _ => {
            let r = reason.to_ascii_lowercase();
            if r.contains("certificate") {
                return false;
            }
            r.contains("status code: 5")
                || r.contains("slowdown")
                || r.contains("throttl")
                || r.contains("requesttimeout")
                || r.contains("timed out")
                || r.contains("timeout")
                || r.contains("connection")
                || r.contains("error sending request")
                || r.contains("broken pipe")
                || r.contains("no space left")
        }
    }
}

/// An object written by the local store is only durable once its data and the directory
/// entries leading to it are on disk.
fn fsync_file_and_parents(file: &std::path::Path) -> std::io::Result<()> {
    std::fs::File::open(file)?.sync_all()?;
    if let Some(dir) = file.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}
