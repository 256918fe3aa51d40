//! Field-by-field validation of JSON bodies, so that every invalid or unknown
//! field gets its own entry in the error response (not just the first one).

use serde::Serialize;
use serde_json::{Map, Value};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field (dotted for nested fields, such as `payer.email`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Reads the fields of one JSON object, collecting every problem.
pub struct Fields<'a> {
    prefix: &'a str,
    map: Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Fields<'a> {
    /// `prefix` names the object for nested fields ("payer" → "payer.name").
    pub fn new(prefix: &'a str, value: Value) -> Result<Self, Vec<FieldError>> {
        match value {
            Value::Object(map) => Ok(Fields {
                prefix,
                map,
                errors: Vec::new(),
            }),
            _ => Err(vec![FieldError::new(
                if prefix.is_empty() { "body" } else { prefix },
                "must be a JSON object",
            )]),
        }
    }

    pub fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        let field = self.path(name);
        self.errors.push(FieldError::new(field, message));
    }

    pub fn extend(&mut self, errors: Vec<FieldError>) {
        self.errors.extend(errors);
    }

    /// The raw value of a field, `null` included, without taking it.
    pub fn peek(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    /// Removes a field. `null` counts as absent.
    pub fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name).filter(|v| !v.is_null())
    }

    pub fn required(&mut self, name: &str) -> Option<Value> {
        let value = self.take(name);
        if value.is_none() {
            self.error(name, "is required");
        }
        value
    }

    /// A string of `min..=max` characters.
    pub fn string(
        &mut self,
        name: &str,
        value: Option<Value>,
        min: usize,
        max: usize,
    ) -> Option<String> {
        match value? {
            Value::String(s) => {
                let chars = s.chars().count();
                if chars < min {
                    self.error(
                        name,
                        if min == 1 {
                            "must not be empty".to_owned()
                        } else {
                            format!("must be at least {min} characters")
                        },
                    );
                    None
                } else if chars > max {
                    self.error(name, format!("must be at most {max} characters"));
                    None
                } else {
                    Some(s)
                }
            }
            _ => {
                self.error(name, "must be a string");
                None
            }
        }
    }

    /// An integer within `min..=max`.
    pub fn integer(&mut self, name: &str, value: Option<Value>, min: i64, max: i64) -> Option<i64> {
        let value = value?;
        match value.as_i64() {
            Some(n) if (min..=max).contains(&n) => Some(n),
            Some(_) => {
                self.error(name, format!("must be between {min} and {max}"));
                None
            }
            None if value.is_number() => {
                self.error(
                    name,
                    format!("must be a whole number of minor units between {min} and {max}"),
                );
                None
            }
            None => {
                self.error(name, "must be an integer");
                None
            }
        }
    }

    /// A string parsed by `parse`, whose error message is used as is.
    pub fn parsed<T>(
        &mut self,
        name: &str,
        value: Option<Value>,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let s = self.string(name, value, 0, 10_000)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// Every remaining field is unknown; returns all collected errors.
    pub fn finish(mut self) -> Result<(), Vec<FieldError>> {
        let unknown: Vec<String> = self.map.keys().cloned().collect();
        for name in unknown {
            self.error(&name, "is not a known field");
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collects_every_error_and_unknown_fields() {
        let mut f = Fields::new("", json!({"a": 5, "b": "x", "c": true, "zzz": 1})).unwrap();
        let a = f.take("a");
        assert_eq!(f.string("a", a, 1, 10), None);
        let b = f.take("b");
        assert_eq!(f.integer("b", b, 0, 5), None);
        let c = f.required("missing");
        assert!(c.is_none());
        f.take("c");
        let errors = f.finish().unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["a", "b", "missing", "zzz"]);
    }

    #[test]
    fn nested_paths_and_bounds() {
        let mut f = Fields::new("payer", json!({"name": "", "n": 1.5})).unwrap();
        let name = f.take("name");
        assert_eq!(f.string("name", name, 1, 10), None);
        let n = f.take("n");
        assert_eq!(f.integer("n", n, 1, 10), None);
        let errors = f.finish().unwrap_err();
        assert_eq!(errors[0].field, "payer.name");
        assert_eq!(errors[1].field, "payer.n");
        assert!(Fields::new("", json!([1])).is_err());
    }
}
