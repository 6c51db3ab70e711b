//! The converted config: TOML tables in the order they are written, each key in the order it is set.

/// A TOML value as the importer writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
    Array(Vec<Value>),
    /// An inline table `{ key = value, ... }`.
    Inline(Vec<(String, Value)>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Self {
        Value::Str(s.into())
    }
}

/// One `[header]` or `[[header]]` table with a comment above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: &'static str,
    /// `[[header]]` (an array of tables) rather than `[header]`.
    pub array: bool,
    pub comments: Vec<String>,
    /// The keepalived block it came from.
    pub source: Option<crate::Loc>,
    pub entries: Vec<(String, Value)>,
}

impl Table {
    pub fn new(header: &'static str, array: bool) -> Self {
        Self {
            header,
            array,
            comments: Vec::new(),
            source: None,
            entries: Vec::new(),
        }
    }

    /// Sets `key`, replacing an earlier value (keepalived keeps the last one written).
    pub fn set(&mut self, key: &str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((key.to_owned(), value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| k != key);
    }

    /// Appends to the array `key`, creating it.
    pub fn push(&mut self, key: &str, value: Value) {
        if let Some((_, Value::Array(items))) = self.entries.iter_mut().find(|(k, _)| k == key) {
            items.push(value);
        } else {
            self.set(key, Value::Array(vec![value]));
        }
    }
}

/// Every table of the converted file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    pub global: Option<Table>,
    pub track_scripts: Vec<Table>,
    pub track_files: Vec<Table>,
    pub track_processes: Vec<Table>,
    pub instances: Vec<Table>,
    pub sync_groups: Vec<Table>,
}
