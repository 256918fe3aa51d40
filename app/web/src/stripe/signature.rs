//! Stripe's webhook signature: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=…]`,
//! each `v1` an HMAC-SHA256 of `"{t}.{raw body}"` keyed with the whole
//! endpoint secret (`whsec_…` included). Checked before the body is parsed.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How old a signature may be (Stripe's own libraries use the same bound).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a delivery is refused (each a 400 at the webhook).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing")]
    Missing,
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    #[error("no signature matches a configured webhook secret")]
    NoMatch,
    #[error("the signature's timestamp is more than {TOLERANCE_SECS} s from now")]
    Stale,
}

/// The endpoint secrets in force: one, or two during a rotation.
#[derive(Clone)]
pub struct WebhookSecrets(Vec<SecretString>);

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} configured)", self.0.len())
    }
}

impl WebhookSecrets {
    /// Parses the comma-separated `--stripe-webhook-secret` value.
    pub fn parse(value: &str) -> Result<Self, String> {
        let secrets: Vec<SecretString> = value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()))
            .collect();
        if secrets.is_empty() {
            return Err("--stripe-webhook-secret names no secret".into());
        }
        if secrets
            .iter()
            .any(|s| !s.expose_secret().starts_with("whsec_"))
        {
            return Err("each --stripe-webhook-secret must start with whsec_".into());
        }
        Ok(WebhookSecrets(secrets))
    }

    /// Checks `header` against `body` at `now` (Unix seconds).
    pub fn verify(
        &self,
        header: Option<&[u8]>,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let header = header.ok_or(SignatureError::Missing)?;
        let header = std::str::from_utf8(header).map_err(|_| SignatureError::Malformed)?;
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            let (key, value) = part
                .trim()
                .split_once('=')
                .ok_or(SignatureError::Malformed)?;
            match key {
                "t" => {
                    let t: i64 = value.parse().map_err(|_| SignatureError::Malformed)?;
                    timestamp = Some((value, t));
                }
                // Other schemes (v0 is Stripe's test scheme) are not ours to check.
                "v1" => signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?),
                _ => {}
            }
        }
        let (t_text, t) = timestamp.ok_or(SignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed);
        }
        let matched = self.0.iter().any(|secret| {
            let expected = sign(secret, t_text, body);
            // Every candidate is compared in full: no early exit on a match.
            signatures
                .iter()
                .fold(false, |any, sig| any | bool::from(sig.ct_eq(&expected)))
        });
        if !matched {
            return Err(SignatureError::NoMatch);
        }
        // Checked after the signature, so that a forged header cannot learn
        // anything from which of the two answers it gets.
        if (now - t).abs() > TOLERANCE_SECS {
            return Err(SignatureError::Stale);
        }
        Ok(())
    }
}

/// HMAC-SHA256 of `"{t}.{body}"` under `secret`.
fn sign(secret: &SecretString, t: &str, body: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// A `Stripe-Signature` header for `body`, as Stripe would send it (tests
/// and the local fake use it).
pub fn header_for(secret: &str, t: i64, body: &[u8]) -> String {
    let sig = sign(&SecretString::from(secret.to_owned()), &t.to_string(), body);
    format!("t={t},v1={}", hex::encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_700_000;
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    /// HMAC-SHA256 computed independently (Python's hmac module) for
    /// key "whsec_test", message "1764700000.{BODY}".
    const KNOWN: &str =
        "t=1764700000,v1=0c31cb83e51639ebcd705ce51db4aa8a4c29d071a62b1f4261af4bbdbab186ab";

    fn secrets(s: &str) -> WebhookSecrets {
        WebhookSecrets::parse(s).unwrap()
    }

    #[test]
    fn a_known_signature_verifies() {
        let header = header_for("whsec_test", NOW, BODY);
        assert_eq!(header, KNOWN);
        assert_eq!(
            secrets("whsec_test").verify(Some(KNOWN.as_bytes()), BODY, NOW),
            Ok(())
        );
    }

    #[test]
    fn refusals() {
        let s = secrets("whsec_test");
        let good = header_for("whsec_test", NOW, BODY);
        assert_eq!(s.verify(None, BODY, NOW), Err(SignatureError::Missing));
        for bad in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1764700000",
            "t=1764700000,v1=zz",
            "garbage",
        ] {
            assert_eq!(
                s.verify(Some(bad.as_bytes()), BODY, NOW),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            s.verify(Some(good.as_bytes()), b"{}", NOW),
            Err(SignatureError::NoMatch)
        );
        let other = header_for("whsec_other", NOW, BODY);
        assert_eq!(
            s.verify(Some(other.as_bytes()), BODY, NOW),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            s.verify(Some(good.as_bytes()), BODY, NOW + TOLERANCE_SECS),
            Ok(())
        );
        assert_eq!(
            s.verify(Some(good.as_bytes()), BODY, NOW + TOLERANCE_SECS + 1),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn rotation_accepts_either_secret_and_any_v1() {
        let s = secrets("whsec_old, whsec_new");
        for secret in ["whsec_old", "whsec_new"] {
            let h = header_for(secret, NOW, BODY);
            assert_eq!(s.verify(Some(h.as_bytes()), BODY, NOW), Ok(()));
        }
        // Stripe signs with each of the endpoint's secrets during its own rotation.
        let new = header_for("whsec_new", NOW, BODY);
        let sig = new.split_once(",v1=").unwrap().1;
        let two = format!("t={NOW},v1={},v1={sig},v0=ignored", "ab".repeat(32));
        assert_eq!(
            secrets("whsec_new").verify(Some(two.as_bytes()), BODY, NOW),
            Ok(())
        );
    }

    #[test]
    fn secrets_are_checked_and_never_printed() {
        assert!(WebhookSecrets::parse("").is_err());
        assert!(WebhookSecrets::parse("sk_test_x").is_err());
        let s = secrets("whsec_abc,whsec_def");
        assert_eq!(format!("{s:?}"), "WebhookSecrets(2 configured)");
    }
}
