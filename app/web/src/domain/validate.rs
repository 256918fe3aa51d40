//! Field-by-field reading of JSON bodies, so that every invalid or unknown
//! field gets its own entry in the error response (not just the first one).
//! What each field may hold is its type's business ([`super::values`]).

use serde::Serialize;
use serde_json::{Map, Value};

use super::values::FromField;

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

/// A field was present but wrong; its error is in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid;

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

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }

    fn read<T: FromField>(&mut self, name: &str, value: Value) -> Option<T> {
        let path = self.path(name);
        T::from_field(value, &path, &mut self.errors)
    }

    /// A field that must be present and not null.
    pub fn required<T: FromField>(&mut self, name: &str) -> Option<T> {
        match self.map.remove(name).filter(|v| !v.is_null()) {
            Some(value) => self.read(name, value),
            None => {
                let path = self.path(name);
                self.errors.push(FieldError::new(path, "is required"));
                None
            }
        }
    }

    /// A field that may be absent; `null` counts as absent. `Err(Invalid)` when
    /// present but invalid.
    pub fn optional<T: FromField>(&mut self, name: &str) -> Result<Option<T>, Invalid> {
        match self.map.remove(name).filter(|v| !v.is_null()) {
            Some(value) => self.read(name, value).map(Some).ok_or(Invalid),
            None => Ok(None),
        }
    }

    /// A field of a change: absent (`None`), `null` (`Some(None)`: clear it)
    /// or a value.
    pub fn nullable<T: FromField>(&mut self, name: &str) -> Result<Option<Option<T>>, Invalid> {
        match self.map.remove(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(value) => self.read(name, value).map(|v| Some(Some(v))).ok_or(Invalid),
        }
    }

    /// Every remaining field is unknown. `Ok` only when nothing was wrong.
    pub fn finish(mut self) -> Result<(), Vec<FieldError>> {
        let unknown: Vec<String> = self.map.keys().cloned().collect();
        for name in unknown {
            let path = self.path(&name);
            self.errors
                .push(FieldError::new(path, "is not a known field"));
        }
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    /// Moves this object's errors into the enclosing object's list.
    pub fn finish_into(self, errors: &mut Vec<FieldError>) -> bool {
        match self.finish() {
            Ok(()) => true,
            Err(mine) => {
                errors.extend(mine);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::values::{MinorUnits, PayerName};
    use serde_json::json;

    #[test]
    fn collects_every_error_and_unknown_fields() {
        let mut f = Fields::new("", json!({"a": 5, "b": "x", "c": null, "zzz": 1})).unwrap();
        assert_eq!(f.optional::<PayerName>("a"), Err(Invalid));
        assert_eq!(f.required::<MinorUnits>("b"), None);
        assert_eq!(f.required::<MinorUnits>("missing"), None);
        assert_eq!(f.optional::<MinorUnits>("c"), Ok(None));
        let errors = f.finish().unwrap_err();
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("a", "must be a string"),
                ("b", "must be an integer"),
                ("missing", "is required"),
                ("zzz", "is not a known field"),
            ]
        );
    }

    #[test]
    fn nested_paths_and_null_that_clears() {
        let mut f = Fields::new("payer", json!({"name": "", "n": 1.5, "d": null})).unwrap();
        assert_eq!(f.required::<PayerName>("name"), None);
        assert_eq!(f.optional::<MinorUnits>("n"), Err(Invalid));
        assert_eq!(f.nullable::<PayerName>("d"), Ok(Some(None)));
        assert_eq!(f.nullable::<PayerName>("absent"), Ok(None));
        let errors = f.finish().unwrap_err();
        assert_eq!(errors[0].field, "payer.name");
        assert_eq!(errors[1].field, "payer.n");
        assert_eq!(errors.len(), 2);
        assert_eq!(
            Fields::new("", json!([1])).err().unwrap(),
            [FieldError::new("body", "must be a JSON object")]
        );
    }
}
