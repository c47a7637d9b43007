//! The Kafka client settings Kafka Connect users already have in their worker properties
//! (Java client names: `security.protocol`, `sasl.mechanism`, `sasl.jaas.config`, truststores
//! and keystores), with Connect's `producer.`/`consumer.`/`admin.` prefixes, translated into
//! librdkafka's settings; librdkafka's own names are taken as they are. Heroku Kafka's
//! environment (`KAFKA_URL`, `KAFKA_TRUSTED_CERT`, `KAFKA_CLIENT_CERT`, `KAFKA_CLIENT_CERT_KEY`,
//! `KAFKA_PREFIX`) is read too. A setting is translated or refused, never dropped: a JKS store,
//! which librdkafka cannot read, is refused with how to convert it.

use std::collections::BTreeMap;

use crate::keys::ConfigIssue;

/// librdkafka settings for every client, and for one kind of client.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KafkaClientSettings {
    pub common: Vec<(String, String)>,
    /// Source connectors' producers (`producer.`).
    pub producer: Vec<(String, String)>,
    /// Sink connectors' consumers (`consumer.`).
    pub consumer: Vec<(String, String)>,
    /// Admin clients and the dead letter queue's producer (`admin.`).
    pub admin: Vec<(String, String)>,
    /// Heroku's `KAFKA_PREFIX`: every topic and consumer group name starts with it.
    pub prefix: String,
}

impl std::fmt::Debug for KafkaClientSettings {
    // The settings carry passwords and keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names =
            |v: &Vec<(String, String)>| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        f.debug_struct("KafkaClientSettings")
            .field("common", &names(&self.common))
            .field("producer", &names(&self.producer))
            .field("consumer", &names(&self.consumer))
            .field("admin", &names(&self.admin))
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Whether a worker key is a Kafka client setting this module reads.
pub fn is_client_key(key: &str) -> bool {
    let k = ["producer.", "consumer.", "admin."]
        .iter()
        .find_map(|p| key.strip_prefix(p))
        .unwrap_or(key);
    k == "security.protocol"
        || k.starts_with("ssl.")
        || k.starts_with("sasl.")
        || k == "enable.ssl.certificate.verification"
}

/// librdkafka's names, taken as they are.
const NATIVE: &[&str] = &[
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.certificate.location",
    "ssl.certificate.pem",
    "ssl.key.location",
    "ssl.key.pem",
    "ssl.crl.location",
    "sasl.mechanisms",
    "sasl.username",
    "sasl.password",
    "enable.ssl.certificate.verification",
    "sasl.oauthbearer.method",
    "sasl.oauthbearer.client.id",
    "sasl.oauthbearer.client.secret",
    "sasl.oauthbearer.scope",
    "sasl.oauthbearer.token.endpoint.url",
    "sasl.oauthbearer.extensions",
];

/// Java client settings that librdkafka has no way to honour other than by default.
const JAVA_DEFAULT_ONLY: &[(&str, &str, &str)] = &[
    ("ssl.protocol", "TLSv1.3", "librdkafka negotiates the TLS version with OpenSSL (1.2 or 1.3)"),
    ("ssl.enabled.protocols", "TLSv1.2,TLSv1.3", "librdkafka negotiates the TLS version with OpenSSL (1.2 or 1.3)"),
    ("ssl.keymanager.algorithm", "SunX509", "a Java key manager setting"),
    ("ssl.trustmanager.algorithm", "PKIX", "a Java trust manager setting"),
    ("ssl.secure.random.implementation", "", "a Java setting"),
    ("ssl.engine.factory.class", "", "a Java setting"),
    ("ssl.provider", "", "a Java security provider setting"),
    ("sasl.kerberos.service.name", "", "Kerberos (GSSAPI) is not supported"),
    ("sasl.client.callback.handler.class", "", "Java callback classes do not exist in Sluice"),
    ("sasl.login.callback.handler.class", "", "Java callback classes do not exist in Sluice (OAUTHBEARER uses sasl.oauthbearer.token.endpoint.url)"),
    ("sasl.login.class", "", "Java login classes do not exist in Sluice"),
];

/// Translates the client settings of one prefix (`""`, `producer.`, ...).
fn translate(
    props: &BTreeMap<String, String>,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Vec<(String, String)> {
    let get = |k: &str| {
        props
            .get(&format!("{prefix}{k}"))
            .map(|v| v.trim().to_owned())
    };
    let mut issue = |k: &str, v: Option<&str>, message: String| {
        let key = format!("{prefix}{k}");
        issues.push(ConfigIssue {
            value: v.map(|v| {
                if crate::raw::is_secret_key(&key) {
                    crate::raw::MASK.to_owned()
                } else {
                    v.to_owned()
                }
            }),
            key,
            message,
        })
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| out.push((k.to_owned(), v));
    let mut handled: Vec<&str> = Vec::new();

    if let Some(p) = get("security.protocol") {
        handled.push("security.protocol");
        match p.to_ascii_uppercase().as_str() {
            "PLAINTEXT" | "SSL" | "SASL_PLAINTEXT" | "SASL_SSL" => {
                set("security.protocol", p.to_ascii_lowercase())
            }
            _ => issue(
                "security.protocol",
                Some(&p),
                "Value must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL".into(),
            ),
        }
    }
    if let Some(m) = get("sasl.mechanism") {
        handled.push("sasl.mechanism");
        match m.to_ascii_uppercase().as_str() {
            "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" | "OAUTHBEARER" => {
                set("sasl.mechanisms", m.to_ascii_uppercase())
            }
            "GSSAPI" => issue(
                "sasl.mechanism",
                Some(&m),
                "Kerberos (GSSAPI) is not supported by Sluice".into(),
            ),
            "AWS_MSK_IAM" => issue(
                "sasl.mechanism",
                Some(&m),
                "AWS_MSK_IAM is a Java-only mechanism; with MSK use SCRAM-SHA-512 (or OAUTHBEARER)"
                    .into(),
            ),
            _ => issue(
                "sasl.mechanism",
                Some(&m),
                "Value must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER".into(),
            ),
        }
    }
    if let Some(jaas) = get("sasl.jaas.config") {
        handled.push("sasl.jaas.config");
        match parse_jaas(&jaas) {
            Ok(Jaas::Password { username, password }) => {
                set("sasl.username", username);
                set("sasl.password", password);
            }
            Ok(Jaas::OAuth { options }) => {
                set("sasl.oauthbearer.method", "oidc".into());
                for (java, native) in [
                    ("clientId", "sasl.oauthbearer.client.id"),
                    ("clientSecret", "sasl.oauthbearer.client.secret"),
                    ("scope", "sasl.oauthbearer.scope"),
                ] {
                    if let Some(v) = options.get(java) {
                        set(native, v.clone());
                    }
                }
            }
            Err(why) => issue("sasl.jaas.config", Some(&jaas), why),
        }
    }
    if let Some(url) = get("sasl.oauthbearer.token.endpoint.url") {
        handled.push("sasl.oauthbearer.token.endpoint.url");
        set("sasl.oauthbearer.token.endpoint.url", url);
    }

    // Truststore: PEM only (librdkafka reads no JKS; PKCS12 only for keystores).
    let trust_type = get("ssl.truststore.type").map(|t| t.to_ascii_uppercase());
    let trust_location = get("ssl.truststore.location");
    let trust_certs = get("ssl.truststore.certificates");
    handled.extend([
        "ssl.truststore.type",
        "ssl.truststore.location",
        "ssl.truststore.certificates",
        "ssl.truststore.password",
    ]);
    match (trust_type.as_deref(), trust_location, trust_certs) {
        (_, None, None) => {}
        (Some("PEM"), Some(loc), None) => set("ssl.ca.location", loc),
        (Some("PEM"), None, Some(pem)) => set("ssl.ca.pem", pem),
        (Some("PEM"), Some(_), Some(_)) => issue("ssl.truststore.certificates", None, "set only one of ssl.truststore.location and ssl.truststore.certificates".into()),
        (None | Some("JKS"), Some(loc), _) => issue("ssl.truststore.location", Some(&loc), "a JKS truststore (the Java default type) cannot be read by librdkafka: export its CA certificates as PEM (keytool -exportcert -rfc -keystore truststore.jks -alias <alias> -file ca.pem) and set ssl.truststore.type=PEM".into()),
        (Some("PKCS12"), Some(loc), _) => issue("ssl.truststore.location", Some(&loc), "librdkafka reads truststores as PEM: openssl pkcs12 -in truststore.p12 -nokeys -out ca.pem, then ssl.truststore.type=PEM".into()),
        (Some(other), _, _) => issue("ssl.truststore.type", Some(other), "Value must be one of PEM (JKS and PKCS12 truststores must be converted to PEM for librdkafka)".into()),
        (None, None, Some(pem)) => set("ssl.ca.pem", pem),
    }
    if get("ssl.truststore.password").is_some_and(|p| !p.is_empty())
        && trust_type.as_deref() == Some("PEM")
    {
        issue(
            "ssl.truststore.password",
            None,
            "a PEM truststore has no password; remove it".into(),
        );
    }

    // Keystore: PKCS12 file, or PEM (a file, or the certificate chain and key themselves).
    let key_type = get("ssl.keystore.type").map(|t| t.to_ascii_uppercase());
    let key_location = get("ssl.keystore.location");
    let chain = get("ssl.keystore.certificate.chain");
    let key = get("ssl.keystore.key");
    let key_password = get("ssl.key.password");
    let store_password = get("ssl.keystore.password");
    handled.extend([
        "ssl.keystore.type",
        "ssl.keystore.location",
        "ssl.keystore.certificate.chain",
        "ssl.keystore.key",
        "ssl.key.password",
        "ssl.keystore.password",
    ]);
    match key_type.as_deref() {
        Some("PKCS12") => match key_location {
            Some(loc) => {
                set("ssl.keystore.location", loc);
                if let Some(p) = store_password {
                    set("ssl.keystore.password", p);
                }
            }
            None => issue("ssl.keystore.location", None, "ssl.keystore.type=PKCS12 needs ssl.keystore.location".into()),
        },
        Some("PEM") => {
            match (key_location, chain, key) {
                (Some(loc), None, None) => {
                    set("ssl.certificate.location", loc.clone());
                    set("ssl.key.location", loc);
                }
                (None, Some(chain), Some(key)) => {
                    set("ssl.certificate.pem", chain);
                    set("ssl.key.pem", key);
                }
                _ => issue("ssl.keystore.type", Some("PEM"), "a PEM keystore is either ssl.keystore.location (one file with the certificate chain and the key) or ssl.keystore.certificate.chain with ssl.keystore.key".into()),
            }
            if let Some(p) = key_password {
                set("ssl.key.password", p);
            }
        }
        None | Some("JKS") if key_location.is_some() => issue(
            "ssl.keystore.location",
            key_location.as_deref(),
            "a JKS keystore (the Java default type) cannot be read by librdkafka: convert it (keytool -importkeystore -srckeystore keystore.jks -destkeystore keystore.p12 -deststoretype PKCS12) and set ssl.keystore.type=PKCS12".into(),
        ),
        None | Some("JKS") => {
            if chain.is_some() || key.is_some() {
                issue("ssl.keystore.type", None, "ssl.keystore.certificate.chain and ssl.keystore.key need ssl.keystore.type=PEM".into());
            }
            if let Some(p) = key_password {
                set("ssl.key.password", p);
            }
        }
        Some(other) => issue("ssl.keystore.type", Some(other), "Value must be one of PKCS12, PEM (a JKS keystore must be converted)".into()),
    }

    if let Some(alg) = get("ssl.endpoint.identification.algorithm") {
        handled.push("ssl.endpoint.identification.algorithm");
        match alg.to_ascii_lowercase().as_str() {
            "https" => set("ssl.endpoint.identification.algorithm", "https".into()),
            "" | "none" => set("ssl.endpoint.identification.algorithm", "none".into()),
            _ => issue(
                "ssl.endpoint.identification.algorithm",
                Some(&alg),
                "Value must be https or empty (no host name check)".into(),
            ),
        }
    }
    for (k, default, why) in JAVA_DEFAULT_ONLY {
        handled.push(k);
        if let Some(v) = get(k) {
            if !v.eq_ignore_ascii_case(default) {
                issue(k, Some(&v), format!("is not supported by Sluice: {why}"));
            }
        }
    }
    for k in NATIVE {
        if handled.contains(k) {
            continue;
        }
        if let Some(v) = get(k) {
            handled.push(k);
            set(k, v);
        }
    }
    // Anything else under these names is a client setting Sluice does not know.
    for key in props.keys() {
        let Some(k) = key.strip_prefix(prefix) else {
            continue;
        };
        if prefix.is_empty()
            && ["producer.", "consumer.", "admin."]
                .iter()
                .any(|p| k.starts_with(p))
        {
            continue;
        }
        if is_client_key(k) && !handled.contains(&k) {
            issue(k, None, "is not a Kafka client setting Sluice knows (Java names are translated for librdkafka; librdkafka's own names are accepted)".into());
        }
    }
    out
}

enum Jaas {
    Password { username: String, password: String },
    OAuth { options: BTreeMap<String, String> },
}

/// `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`
/// (also ScramLoginModule, OAuthBearerLoginModule).
fn parse_jaas(text: &str) -> Result<Jaas, String> {
    let text = text.trim().trim_end_matches(';').trim();
    let (module, rest) = text
        .split_once(char::is_whitespace)
        .ok_or("expected '<LoginModule class> required key=\"value\" ...;'")?;
    let rest = rest.trim_start();
    let rest = rest
        .strip_prefix("required")
        .ok_or("the login module must be 'required'")?;
    let mut options = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => v.extend(chars.next()),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            chars.by_ref().take_while(|c| !c.is_whitespace()).collect()
        };
        options.insert(key.trim().to_owned(), value);
    }
    let simple = module.rsplit('.').next().unwrap_or(module);
    match simple {
        "PlainLoginModule" | "ScramLoginModule" => Ok(Jaas::Password {
            username: options.get("username").cloned().ok_or("username is missing")?,
            password: options.get("password").cloned().ok_or("password is missing")?,
        }),
        "OAuthBearerLoginModule" => Ok(Jaas::OAuth { options }),
        other => Err(format!(
            "login module {other} is not supported (PlainLoginModule, ScramLoginModule, OAuthBearerLoginModule are)"
        )),
    }
}

/// Heroku Kafka's environment, when `KAFKA_URL` is set: the brokers and the settings that go
/// with them.
pub struct HerokuKafka {
    pub bootstrap: String,
    pub settings: Vec<(String, String)>,
    pub prefix: String,
}

pub fn heroku(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<HerokuKafka>, String> {
    let Some(url) = env("KAFKA_URL").filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let mut tls = false;
    let mut hosts = Vec::new();
    for u in url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let (scheme, host) = u
            .split_once("://")
            .ok_or_else(|| format!("KAFKA_URL: {u} is not a kafka:// or kafka+ssl:// URL"))?;
        match scheme {
            "kafka+ssl" => tls = true,
            "kafka" => {}
            other => {
                return Err(format!(
                    "KAFKA_URL: the scheme {other}:// is not kafka:// or kafka+ssl://"
                ))
            }
        }
        hosts.push(host.trim_end_matches('/').to_owned());
    }
    let mut settings = Vec::new();
    if tls {
        settings.push(("security.protocol".into(), "ssl".into()));
        // Heroku's broker certificates do not carry the brokers' host names: the chain is
        // verified against KAFKA_TRUSTED_CERT, the name is not.
        settings.push((
            "ssl.endpoint.identification.algorithm".into(),
            "none".into(),
        ));
        if let Some(ca) = env("KAFKA_TRUSTED_CERT") {
            settings.push(("ssl.ca.pem".into(), ca));
        }
        match (env("KAFKA_CLIENT_CERT"), env("KAFKA_CLIENT_CERT_KEY")) {
            (Some(cert), Some(key)) => {
                settings.push(("ssl.certificate.pem".into(), cert));
                settings.push(("ssl.key.pem".into(), key));
            }
            (None, None) => {}
            _ => return Err("KAFKA_CLIENT_CERT and KAFKA_CLIENT_CERT_KEY go together".into()),
        }
    }
    Ok(Some(HerokuKafka {
        bootstrap: hosts.join(","),
        settings,
        prefix: env("KAFKA_PREFIX").unwrap_or_default(),
    }))
}

/// The client settings of a worker's properties.
pub fn client_settings(
    props: &BTreeMap<String, String>,
) -> Result<KafkaClientSettings, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let settings = KafkaClientSettings {
        common: translate(props, "", &mut issues),
        producer: translate(props, "producer.", &mut issues),
        consumer: translate(props, "consumer.", &mut issues),
        admin: translate(props, "admin.", &mut issues),
        prefix: String::new(),
    };
    if issues.is_empty() {
        Ok(settings)
    } else {
        Err(issues)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn get<'a>(v: &'a [(String, String)], k: &str) -> Option<&'a str> {
        v.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn java_names_become_librdkafka_names() {
        let s = client_settings(&props(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.jaas.config", r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="p\"w";"#),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/ca.pem"),
            ("ssl.endpoint.identification.algorithm", ""),
            ("producer.ssl.keystore.type", "PKCS12"),
            ("producer.ssl.keystore.location", "/k.p12"),
            ("producer.ssl.keystore.password", "kp"),
            ("consumer.ssl.keystore.type", "PEM"),
            ("consumer.ssl.keystore.certificate.chain", "-----BEGIN CERTIFICATE-----"),
            ("consumer.ssl.keystore.key", "-----BEGIN PRIVATE KEY-----"),
        ]))
        .unwrap();
        assert_eq!(get(&s.common, "security.protocol"), Some("sasl_ssl"));
        assert_eq!(get(&s.common, "sasl.mechanisms"), Some("SCRAM-SHA-512"));
        assert_eq!(get(&s.common, "sasl.username"), Some("alice"));
        assert_eq!(get(&s.common, "sasl.password"), Some("p\"w"));
        assert_eq!(get(&s.common, "ssl.ca.location"), Some("/ca.pem"));
        assert_eq!(
            get(&s.common, "ssl.endpoint.identification.algorithm"),
            Some("none")
        );
        assert_eq!(get(&s.producer, "ssl.keystore.location"), Some("/k.p12"));
        assert_eq!(get(&s.producer, "ssl.keystore.password"), Some("kp"));
        assert_eq!(
            get(&s.consumer, "ssl.certificate.pem"),
            Some("-----BEGIN CERTIFICATE-----")
        );
        assert_eq!(
            get(&s.consumer, "ssl.key.pem"),
            Some("-----BEGIN PRIVATE KEY-----")
        );
        assert!(!format!("{s:?}").contains("alice"));
        let native = client_settings(&props(&[
            ("ssl.ca.location", "/ca.pem"),
            ("sasl.username", "u"),
        ]))
        .unwrap();
        assert_eq!(get(&native.common, "ssl.ca.location"), Some("/ca.pem"));
    }

    #[test]
    fn what_librdkafka_cannot_do_is_refused_with_the_way_out() {
        let issues = client_settings(&props(&[
            ("ssl.truststore.location", "/t.jks"),
            ("ssl.keystore.location", "/k.jks"),
            ("sasl.mechanism", "GSSAPI"),
            ("sasl.jaas.config", "com.example.Custom required;"),
            ("ssl.enabled.protocols", "TLSv1.2"),
            ("ssl.bogus", "1"),
            (
                "producer.sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\";",
            ),
        ]))
        .unwrap_err();
        let text: Vec<String> = issues.iter().map(|i| i.to_string()).collect();
        let has = |s: &str| text.iter().any(|t| t.contains(s));
        assert!(has("keytool -exportcert"), "{text:?}");
        assert!(has("keytool -importkeystore"), "{text:?}");
        assert!(has("GSSAPI"), "{text:?}");
        assert!(has("Custom is not supported"), "{text:?}");
        assert!(has("ssl.enabled.protocols"), "{text:?}");
        assert!(has("ssl.bogus"), "{text:?}");
        assert!(
            has("producer.sasl.jaas.config") && has("password is missing"),
            "{text:?}"
        );
        // The JAAS text is masked in errors.
        assert!(
            !text.iter().any(|t| t.contains("username=\\\"u\\\"")),
            "{text:?}"
        );
    }

    #[test]
    fn heroku_environment() {
        let env = |k: &str| match k {
            "KAFKA_URL" => Some("kafka+ssl://a.example:9096,kafka+ssl://b.example:9096".to_owned()),
            "KAFKA_TRUSTED_CERT" => Some("CA1\nCA2".to_owned()),
            "KAFKA_CLIENT_CERT" => Some("CERT".to_owned()),
            "KAFKA_CLIENT_CERT_KEY" => Some("KEY".to_owned()),
            "KAFKA_PREFIX" => Some("tenant-".to_owned()),
            _ => None,
        };
        let h = heroku(&env).unwrap().unwrap();
        assert_eq!(h.bootstrap, "a.example:9096,b.example:9096");
        assert_eq!(h.prefix, "tenant-");
        assert_eq!(get(&h.settings, "ssl.ca.pem"), Some("CA1\nCA2"));
        assert_eq!(
            get(&h.settings, "ssl.endpoint.identification.algorithm"),
            Some("none")
        );
        assert!(heroku(&|_| None).unwrap().is_none());
    }
}
