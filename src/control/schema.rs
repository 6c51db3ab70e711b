//! The status JSON schema as docs/status.md writes it, and a check of a JSON document against it.
//! The unit test holds the documentation and [`super::Status`]'s serialisation together; the
//! namespace tests check what a running daemon prints.
//!
//! docs/status.md documents each field in a table row whose first cell is its path in backquotes
//! (`instances[].last_transition.reason`; `[]` is "every element of the array") and whose second
//! cell is its type: `integer`, `string`, `boolean`, `object`, `array of strings`, `array of
//! objects` or `map of integers` (label -> count), each optionally followed by `or null`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Integer,
    String,
    Boolean,
    Object,
    Strings,
    Objects,
    IntegerMap,
}

/// A documented field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldType {
    pub kind: Kind,
    pub nullable: bool,
}

/// Every documented field by path.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    pub fields: BTreeMap<String, FieldType>,
}

/// What a check found: the problems, and the documented paths the document had a value for.
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<String>,
    pub seen: BTreeSet<String>,
}

impl Schema {
    /// The fields documented in `markdown` (see the module documentation).
    pub fn from_markdown(markdown: &str) -> Result<Schema, String> {
        let mut fields = BTreeMap::new();
        // Inside a table whose header is "| field | type | ...".
        let mut in_fields = false;
        for (n, line) in markdown.lines().enumerate() {
            let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
            // "| `path` | type | ..." splits into ["", "`path`", "type", ...].
            let (Some(path), Some(ty)) = (cells.get(1), cells.get(2)) else {
                in_fields = false;
                continue;
            };
            if (*path, *ty) == ("field", "type") {
                in_fields = true;
            }
            if !in_fields {
                continue;
            }
            let Some(path) = path.strip_prefix('`').and_then(|p| p.strip_suffix('`')) else {
                continue;
            };
            let ty = parse_type(ty).ok_or_else(|| {
                format!("docs/status.md:{}: `{path}`: unknown type {ty:?}", n + 1)
            })?;
            if fields.insert(path.to_owned(), ty).is_some() {
                return Err(format!(
                    "docs/status.md:{}: `{path}` documented twice",
                    n + 1
                ));
            }
        }
        if fields.is_empty() {
            return Err("docs/status.md documents no field".to_owned());
        }
        Ok(Schema { fields })
    }

    /// Checks `document` both ways: every field in it is documented with the type it has, and every
    /// documented field of each object in it is there.
    pub fn check(&self, document: &Value) -> Checked {
        let mut checked = Checked::default();
        self.check_object("", document, &mut checked);
        checked
    }

    fn check_object(&self, path: &str, value: &Value, checked: &mut Checked) {
        let Some(object) = value.as_object() else {
            checked
                .problems
                .push(format!("{}: not an object", display(path)));
            return;
        };
        for (key, child) in object {
            let child_path = join(path, key);
            match self.fields.get(&child_path) {
                None => checked
                    .problems
                    .push(format!("{child_path}: not documented")),
                Some(ty) => self.check_value(&child_path, *ty, child, checked),
            }
        }
        for documented in self.children(path) {
            let key = documented.rsplit('.').next().unwrap_or(documented);
            if !object.contains_key(key) {
                checked
                    .problems
                    .push(format!("{documented}: documented, missing from the output"));
            }
        }
    }

    fn check_value(&self, path: &str, ty: FieldType, value: &Value, checked: &mut Checked) {
        if value.is_null() {
            if !ty.nullable {
                checked.problems.push(format!("{path}: null"));
            }
            return;
        }
        checked.seen.insert(path.to_owned());
        let wrong = |what: &str| format!("{path}: {value} is not {what}");
        match ty.kind {
            Kind::Integer if !(value.is_u64() || value.is_i64()) => {
                checked.problems.push(wrong("an integer"))
            }
            Kind::String if !value.is_string() => checked.problems.push(wrong("a string")),
            Kind::Boolean if !value.is_boolean() => checked.problems.push(wrong("a boolean")),
            Kind::Object => self.check_object(path, value, checked),
            Kind::Strings => match value.as_array() {
                Some(items) if items.iter().all(Value::is_string) => {}
                _ => checked.problems.push(wrong("an array of strings")),
            },
            Kind::Objects => match value.as_array() {
                Some(items) => {
                    let element = format!("{path}[]");
                    for item in items {
                        self.check_object(&element, item, checked);
                    }
                }
                None => checked.problems.push(wrong("an array")),
            },
            Kind::IntegerMap => match value.as_object() {
                Some(map) if map.values().all(Value::is_u64) => {}
                _ => checked.problems.push(wrong("a map of integers")),
            },
            Kind::Integer | Kind::String | Kind::Boolean => {}
        }
    }

    /// The documented fields directly inside the object at `path`.
    fn children<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a String> + 'a {
        self.fields
            .keys()
            .filter(move |field| parent(field) == path)
    }
}

fn parse_type(text: &str) -> Option<FieldType> {
    let (text, nullable) = match text.strip_suffix(" or null") {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let kind = match text {
        "integer" => Kind::Integer,
        "string" => Kind::String,
        "boolean" => Kind::Boolean,
        "object" => Kind::Object,
        "array of strings" => Kind::Strings,
        "array of objects" => Kind::Objects,
        "map of integers" => Kind::IntegerMap,
        _ => return None,
    };
    Some(FieldType { kind, nullable })
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('.').map_or("", |(parent, _)| parent)
}

fn display(path: &str) -> &str {
    if path.is_empty() { "(top level)" } else { path }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
| field | type | meaning | example |
|---|---|---|---|
| `version` | integer | v | `1` |
| `items` | array of objects | i | |
| `items[].name` | string | n | `\"a\"` |
| `items[].peer` | string or null | p | `null` |
| `counts` | map of integers | c | `{}` |
";

    #[test]
    fn a_document_is_checked_both_ways_with_types() {
        let schema = Schema::from_markdown(DOC).unwrap();
        let good = serde_json::json!({
            "version": 1, "counts": {"x": 2},
            "items": [{"name": "a", "peer": null}, {"name": "b", "peer": "c"}]
        });
        let checked = schema.check(&good);
        assert!(checked.problems.is_empty(), "{:?}", checked.problems);
        assert!(checked.seen.contains("items[].peer"));
        let bad = serde_json::json!({
            "version": "1", "counts": {"x": "y"}, "extra": true,
            "items": [{"peer": 3}]
        });
        let problems = schema.check(&bad).problems;
        for expected in [
            "version: \"1\" is not an integer",
            "counts: {\"x\":\"y\"} is not a map of integers",
            "extra: not documented",
            "items[].peer: 3 is not a string",
            "items[].name: documented, missing from the output",
        ] {
            assert!(
                problems.iter().any(|p| p == expected),
                "{expected} in {problems:?}"
            );
        }
        assert_eq!(problems.len(), 5, "{problems:?}");
    }

    #[test]
    fn an_unknown_type_is_refused_with_its_line_and_other_tables_are_not_fields() {
        let err = Schema::from_markdown("| field | type |\n| `a` | number | x |").unwrap_err();
        assert!(err.contains(":2: `a`: unknown type"), "{err}");
        let schema = Schema::from_markdown(&format!("{DOC}\n| reason | to |\n| `x` | BACKUP |"));
        assert!(!schema.unwrap().fields.contains_key("x"));
    }
}
