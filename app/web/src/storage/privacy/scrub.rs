//! Finding an erased reader's name and email in stored text and replacing
//! them: the pseudonym and its hash, free text (descriptions, metadata) and
//! recorded API responses. No database here.

use sha2::{Digest, Sha256};

use crate::domain::email_key;

/// The name every erased donor and their payments carry.
pub const ERASED_NAME: &str = "Erased donor";

/// The email an erased donor and their payments carry: unique per donor
/// (donors are one per email) and in the `.invalid` domain, which can never
/// receive mail (RFC 2606).
pub fn pseudonym(donor_id: &str) -> String {
    format!("erased-{donor_id}@invalid")
}

/// The key an erased email is recognised by. A plain SHA-256, not an HMAC:
/// no secret is shared by every process that records events (the server
/// and `stripe sync` may run without the session key), so a keyed hash
/// could not be checked everywhere. The prefix keeps it from matching lists
/// of plain email hashes; the table holds nothing else (see migration 0009).
pub fn email_hash(email: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"payments:erased-email:");
    h.update(email_key(email).as_bytes());
    hex::encode(h.finalize())
}

/// Shorter names are not searched for inside longer text (an initial would
/// match everywhere); a field equal to one is still replaced.
const MIN_NAME_CHARS: usize = 3;

/// The names and emails one donor was known by, and what replaces them.
pub struct Scrubber {
    /// Lower-cased, longest first, so an email is replaced before a name
    /// inside it.
    needles: Vec<(Vec<char>, String)>,
}

impl Scrubber {
    pub fn new<'a>(
        emails: impl IntoIterator<Item = &'a str>,
        names: impl IntoIterator<Item = &'a str>,
        pseudonym: &str,
    ) -> Scrubber {
        let mut needles: Vec<(Vec<char>, String)> = Vec::new();
        let mut add = |text: &str, with: &str| {
            let lower: Vec<char> = text.trim().chars().flat_map(char::to_lowercase).collect();
            if !lower.is_empty() && !needles.iter().any(|(n, _)| *n == lower) {
                needles.push((lower, with.to_owned()));
            }
        };
        for e in emails {
            add(e, pseudonym);
        }
        for n in names {
            add(n, ERASED_NAME);
        }
        needles.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        Scrubber { needles }
    }

    /// `text` with every name and email replaced, or `None` when it holds
    /// none of them.
    pub fn text(&self, text: &str) -> Option<String> {
        let lower: Vec<char> = text.trim().chars().flat_map(char::to_lowercase).collect();
        if let Some((_, with)) = self.needles.iter().find(|(n, _)| *n == lower) {
            return Some(with.clone());
        }
        let mut out = text.to_owned();
        let mut changed = false;
        for (needle, with) in &self.needles {
            if needle.len() < MIN_NAME_CHARS {
                continue;
            }
            if let Some(replaced) = replace_ignoring_case(&out, needle, with) {
                out = replaced;
                changed = true;
            }
        }
        changed.then_some(out)
    }

    /// Every string (keys too) of a JSON value scrubbed; `true` if any changed.
    pub fn json(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match value {
            Value::String(s) => match self.text(s) {
                Some(new) => {
                    *s = new;
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |c, v| self.json(v) | c),
            Value::Object(map) => {
                let mut changed = false;
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    changed |= self.json(&mut v);
                    let k = match self.text(&k) {
                        Some(new) => {
                            changed = true;
                            new
                        }
                        None => k,
                    };
                    map.insert(k, v);
                }
                changed
            }
            _ => false,
        }
    }

    /// Stored JSON text scrubbed, or `None` when unchanged. Text that is
    /// not JSON is scrubbed as text.
    pub fn json_text(&self, text: &str) -> Option<String> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut value) => self
                .json(&mut value)
                .then(|| serde_json::to_string(&value).unwrap_or_default()),
            Err(_) => self.text(text),
        }
    }
}

/// `text` with each occurrence of `needle` (lower-cased chars) replaced,
/// comparing without case; `None` when there is none.
fn replace_ignoring_case(text: &str, needle: &[char], with: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut found = false;
    let mut i = 0;
    'outer: while i < chars.len() {
        let (mut j, mut k) = (i, 0);
        while k < needle.len() {
            let Some(c) = chars.get(j) else { break };
            for lc in c.to_lowercase() {
                if needle.get(k) != Some(&lc) {
                    out.push(chars[i]);
                    i += 1;
                    continue 'outer;
                }
                k += 1;
            }
            j += 1;
        }
        if k < needle.len() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        out.push_str(with);
        found = true;
        i = j;
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ada() -> Scrubber {
        Scrubber::new(
            ["Ada@Example.org"],
            ["Ada Reader", "Ada R.", "A"],
            "erased-don_1@invalid",
        )
    }

    #[test]
    fn names_and_emails_are_replaced_whatever_their_case() {
        let s = ada();
        assert_eq!(s.text("ada reader").as_deref(), Some(ERASED_NAME));
        assert_eq!(s.text(" A ").as_deref(), Some(ERASED_NAME));
        assert_eq!(
            s.text("Gift of ADA READER <ada@EXAMPLE.org>").as_deref(),
            Some("Gift of Erased donor <erased-don_1@invalid>")
        );
        assert_eq!(s.text("A cheque, and another"), None, "initials only whole");
        assert_eq!(s.text("nothing here"), None);
        assert_eq!(
            s.text("Ada Readers' club").as_deref(),
            Some("Erased donors' club")
        );
    }

    #[test]
    fn json_is_scrubbed_in_values_and_keys() {
        let s = ada();
        let mut v = json!({"payer": {"name": "Ada R.", "email": "ada@example.org"},
                           "ada@example.org": ["x", "by Ada Reader"], "amount": 5});
        assert!(s.json(&mut v));
        assert_eq!(v["payer"]["name"], ERASED_NAME);
        assert_eq!(v["payer"]["email"], "erased-don_1@invalid");
        assert_eq!(v["erased-don_1@invalid"][1], "by Erased donor");
        assert_eq!(v["amount"], 5);
        assert_eq!(s.json_text(r#"{"k":"b"}"#), None);
        assert_eq!(
            s.json_text("not json, Ada Reader").as_deref(),
            Some("not json, Erased donor")
        );
    }

    #[test]
    fn the_hash_is_of_the_email_key() {
        assert_eq!(
            email_hash(" Ada@Example.ORG"),
            email_hash("ada@example.org")
        );
        assert_ne!(email_hash("ada@example.org"), email_hash("bo@example.org"));
        assert_eq!(email_hash("a@b.c").len(), 64);
        assert_eq!(pseudonym("don_1"), "erased-don_1@invalid");
    }
}
