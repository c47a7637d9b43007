//! Connector config files as Kafka Connect takes them: the REST form `{"name":…,"config":{…}}`,
//! a flat JSON map, or a Java `.properties` file (as connect-standalone reads). Values are
//! strings; JSON numbers and booleans are accepted and turned into their text.

use std::collections::BTreeMap;
use std::path::Path;

use crate::ConfigError;

/// A connector's name and its flat `key → value` config.
#[derive(Clone, PartialEq)]
pub struct RawConfig {
    pub name: String,
    pub props: BTreeMap<String, String>,
}

impl std::fmt::Debug for RawConfig {
    // Secrets must never reach logs, even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let masked: BTreeMap<&str, &str> = self
            .props
            .iter()
            .map(|(k, v)| (k.as_str(), if is_secret_key(k) { MASK } else { v.as_str() }))
            .collect();
        f.debug_struct("RawConfig")
            .field("name", &self.name)
            .field("props", &masked)
            .finish()
    }
}

pub const MASK: &str = "********";

/// Keys whose values are secrets: masked in every log line, error and REST response.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.ends_with("password")
        || k == "query.masked"
        || k.ends_with(".secret")
        || k.ends_with(".token")
        || k.contains("secret.key")
        || k.ends_with("secret.access.key")
        || k.ends_with("sse.customer.key")
        || k.contains("sasl.jaas.config")
        || k.ends_with("ssl.key.pem")
        || k.ends_with("ssl.keystore.key")
        || k.ends_with("client.secret")
}

impl RawConfig {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    /// Reads a config file; `.properties` by extension, JSON otherwise.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let fallback_name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("connector");
        if path.extension().is_some_and(|e| e == "properties") {
            Self::from_properties(&text, fallback_name)
        } else {
            Self::from_json(&text, fallback_name)
        }
        .map_err(|reason| ConfigError::File {
            path: path.display().to_string(),
            reason,
        })
    }

    pub fn from_json(text: &str, fallback_name: &str) -> Result<Self, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let obj = json.as_object().ok_or("expected a JSON object")?;
        let (name, config) = match obj.get("config") {
            Some(serde_json::Value::Object(config)) => {
                let name = obj.get("name").and_then(|n| n.as_str()).map(str::to_owned);
                (name, config)
            }
            Some(_) => return Err("\"config\" must be a JSON object of string values".into()),
            None => (None, obj),
        };
        let mut props = BTreeMap::new();
        for (k, v) in config {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => return Err(format!("the value of {k:?} must be a string")),
            };
            props.insert(k.clone(), v);
        }
        let name = name
            .or_else(|| props.get("name").cloned())
            .unwrap_or_else(|| fallback_name.to_owned());
        props.insert("name".into(), name.clone());
        Ok(RawConfig { name, props })
    }

    pub fn from_properties(text: &str, fallback_name: &str) -> Result<Self, String> {
        let props: BTreeMap<String, String> = java_properties::read(text.as_bytes())
            .map_err(|e| format!("not a valid .properties file: {e}"))?
            .into_iter()
            .collect();
        let name = props
            .get("name")
            .cloned()
            .unwrap_or_else(|| fallback_name.to_owned());
        let mut props = props;
        props.insert("name".into(), name.clone());
        Ok(RawConfig { name, props })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_form_flat_form_and_properties() {
        let a = RawConfig::from_json(
            r#"{"name":"c1","config":{"database.port":5432,"slot.name":"s"}}"#,
            "f",
        )
        .unwrap();
        assert_eq!(a.name, "c1");
        assert_eq!(a.get("database.port"), Some("5432"));
        let b = RawConfig::from_json(r#"{"name":"c2","slot.name":"s"}"#, "f").unwrap();
        assert_eq!(b.name, "c2");
        let c = RawConfig::from_json(r#"{"slot.name":"s"}"#, "file-name").unwrap();
        assert_eq!(c.name, "file-name");
        let d = RawConfig::from_properties(
            "name=c4\n# comment\ndatabase.hostname = db\\\n.local\n",
            "f",
        )
        .unwrap();
        assert_eq!(d.name, "c4");
        assert_eq!(d.get("database.hostname"), Some("db.local"));
        assert!(RawConfig::from_json(r#"{"config":[1]}"#, "f").is_err());
        assert!(RawConfig::from_json(r#"{"a":{"b":1}}"#, "f")
            .unwrap_err()
            .contains("\"a\""));
    }

    #[test]
    fn debug_masks_secrets() {
        let a = RawConfig::from_json(r#"{"database.password":"hunter2","x":"y"}"#, "f").unwrap();
        let dbg = format!("{a:?}");
        assert!(!dbg.contains("hunter2") && dbg.contains(MASK), "{dbg}");
        assert!(is_secret_key("sasl.jaas.config") && is_secret_key("connection.password"));
        assert!(is_secret_key("aws.secret.access.key") && is_secret_key("s3.sse.customer.key"));
        assert!(!is_secret_key("aws.access.key.id"));
        assert!(is_secret_key("aws.session.token") && is_secret_key("rest.auth.bearer.token"));
        assert!(!is_secret_key("database.user"));
    }
}
