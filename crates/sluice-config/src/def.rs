//! Declared config keys, as Connect's `ConfigDef` declares them: name, type, default,
//! importance, documentation, group, allowed values. One table per connector class drives the
//! defaults the parser uses, the `definition` blocks of the REST validate endpoint and the docs.
//! A key a class declares but Sluice does not implement is refused when set to anything but its
//! default, never silently ignored.

/// Connect's `ConfigDef.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Boolean,
    String,
    Int,
    Short,
    Long,
    Double,
    List,
    Class,
    Password,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Boolean => "BOOLEAN",
            KeyType::String => "STRING",
            KeyType::Int => "INT",
            KeyType::Short => "SHORT",
            KeyType::Long => "LONG",
            KeyType::Double => "DOUBLE",
            KeyType::List => "LIST",
            KeyType::Class => "CLASS",
            KeyType::Password => "PASSWORD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importance {
    High,
    Medium,
    Low,
}

impl Importance {
    pub fn name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// A key's default: none (the key is required), null (optional, unset), or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Default {
    Required,
    Null,
    Value(&'static str),
}

/// What values a key takes, beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Valid {
    Any,
    /// Inclusive bounds, for numeric keys.
    Range(i64, i64),
    /// One of these (case-insensitive, as Debezium's enumerations are); they are the
    /// `recommended_values` of the validate endpoint.
    OneOf(&'static [&'static str]),
}

/// How Sluice treats a declared key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Honoured.
    Yes,
    /// Declared by Debezium or Connect but not implemented: a value other than the default is
    /// refused with this reason.
    Unsupported(&'static str),
    /// Has no counterpart in Sluice and cannot change what is captured or how it is secured
    /// (JMX names, JVM tuning): accepted, and this reason is logged once when it is set.
    NotApplicable(&'static str),
}

/// One declared key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigKey {
    pub name: &'static str,
    pub ty: KeyType,
    pub default: Default,
    pub importance: Importance,
    pub doc: &'static str,
    pub group: &'static str,
    pub valid: Valid,
    pub support: Support,
    /// Older spellings read when this key is not set (e.g. `database.server.name`).
    pub aliases: &'static [&'static str],
}

impl ConfigKey {
    pub const fn new(
        name: &'static str,
        ty: KeyType,
        importance: Importance,
        group: &'static str,
        doc: &'static str,
    ) -> Self {
        ConfigKey {
            name,
            ty,
            default: Default::Null,
            importance,
            doc,
            group,
            valid: Valid::Any,
            support: Support::Yes,
            aliases: &[],
        }
    }

    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Default::Value(value);
        self
    }

    pub const fn required(mut self) -> Self {
        self.default = Default::Required;
        self
    }

    pub const fn range(mut self, min: i64, max: i64) -> Self {
        self.valid = Valid::Range(min, max);
        self
    }

    pub const fn one_of(mut self, values: &'static [&'static str]) -> Self {
        self.valid = Valid::OneOf(values);
        self
    }

    pub const fn unsupported(mut self, reason: &'static str) -> Self {
        self.support = Support::Unsupported(reason);
        self
    }

    pub const fn not_applicable(mut self, reason: &'static str) -> Self {
        self.support = Support::NotApplicable(reason);
        self
    }

    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }

    pub fn default_value(&self) -> Option<&'static str> {
        match self.default {
            Default::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Whether `value` means the same as leaving the key unset.
    pub fn is_default(&self, value: &str) -> bool {
        let value = value.trim();
        match self.default {
            Default::Value(d) => d.eq_ignore_ascii_case(value),
            Default::Null => value.is_empty(),
            Default::Required => false,
        }
    }
}

/// The keys of one connector class (or of a part shared by several), in documentation order.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    pub keys: &'static [ConfigKey],
}

impl ConfigDef {
    pub fn find(&self, name: &str) -> Option<&'static ConfigKey> {
        self.keys
            .iter()
            .find(|k| k.name == name || k.aliases.contains(&name))
    }

    /// Group names in order of first appearance.
    pub fn groups(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for k in self.keys {
            if !out.contains(&k.group) {
                out.push(k.group);
            }
        }
        out
    }
}

/// Looks a key up in several definitions (a class's own keys, then the shared ones).
pub fn find_key(defs: &[ConfigDef], name: &str) -> Option<&'static ConfigKey> {
    defs.iter().find_map(|d| d.find(name))
}
