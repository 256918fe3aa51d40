//! Mail to donors: the messages (compiled templates, plain text and HTML),
//! the SMTP connection, and the worker that delivers the outbox.
//!
//! A message is composed and written to the `outbox` in the transaction of
//! the event that causes it (`storage/outbox.rs`); the worker
//! ([`worker`]) claims due rows with a lease, sends them ([`smtp`]) and
//! marks them sent, so a crash between sending and marking re-sends with
//! the same Message-ID, and two workers never send one row twice.

pub mod messages;
pub mod smtp;
pub mod worker;

pub use messages::Composed;
pub use smtp::{Mailer, SendError, SmtpSettings};
pub use worker::{FlushReport, WorkerConfig};

/// Who the mail is from, as the messages name it: the organisation's legal
/// details and the site's own base URL for links.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letterhead {
    /// The organisation's legal name (`--org-name`).
    pub org_name: String,
    /// Its tax id (`--org-tax-id`), e.g. an EIN.
    pub tax_id: Option<String>,
    /// Its postal address (`--org-address`).
    pub address: Option<String>,
    /// The site's base URL (`--public-url`), without a trailing slash.
    pub public_url: String,
}

impl Default for Letterhead {
    fn default() -> Self {
        Letterhead {
            org_name: "The Markup".into(),
            tax_id: None,
            address: None,
            public_url: "http://127.0.0.1:8080".into(),
        }
    }
}

impl Letterhead {
    /// Where a donor manages their membership.
    pub fn manage_link(&self) -> String {
        format!("{}/account", self.public_url)
    }

    /// The domain of Message-IDs: the public URL's host.
    pub fn message_id_domain(&self) -> &str {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, r)| r);
        let host = rest.split(['/', '?']).next().unwrap_or(rest);
        // Without its port, and never empty.
        let host = match host.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => host,
        };
        if host.is_empty() { "localhost" } else { host }
    }

    /// A new Message-ID (with its angle brackets), made once per message.
    pub fn new_message_id(&self) -> String {
        format!("<{}@{}>", uuid::Uuid::now_v7(), self.message_id_domain())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_use_the_public_host() {
        let l = Letterhead {
            public_url: "https://payments.example.org:8443".into(),
            ..Letterhead::default()
        };
        assert_eq!(l.message_id_domain(), "payments.example.org");
        let id = l.new_message_id();
        assert!(id.starts_with('<') && id.ends_with("@payments.example.org>"));
        assert_ne!(id, l.new_message_id());
        assert_eq!(l.manage_link(), "https://payments.example.org:8443/account");
    }
}
