//! The SMTP connection, from `--smtp-url`:
//!
//! * `smtp://user:pass@host:587`: STARTTLS when the server offers it;
//! * `smtp://…?tls=required`: STARTTLS or nothing is sent;
//! * `smtps://…:465`: TLS from the first byte.
//!
//! Servers are checked against Mozilla's roots, and also against the CA of
//! `--smtp-ca-file` (a private relay). The URL's password is held as a
//! secret and never appears in a message or a log line.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::storage::outbox::OutboxMessage;

/// How long one SMTP conversation may take.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The mail flags, checked.
pub struct SmtpSettings {
    pub url: SecretString,
    /// PEM of a private CA that signs the server's certificate.
    pub ca_pem: Option<Vec<u8>>,
    /// `--mail-from`: `Name <address>` or an address; its domain is the
    /// name this side gives in EHLO.
    pub from: String,
}

/// Sends messages of the outbox.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the transport: it holds the credentials.
        f.debug_struct("Mailer")
            .field("from", &self.from.email)
            .finish()
    }
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: a 4xx answer, a connection or TLS failure.
    #[error("{0}")]
    Temporary(String),
    /// Refused for good: a 5xx answer, an address that cannot be sent to.
    #[error("{0}")]
    Permanent(String),
}

impl Mailer {
    /// The transport of `settings`; a sentence saying what is wrong
    /// otherwise (never the URL, which may hold a password).
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, String> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|_| format!("--mail-from {:?} is not a mail address", settings.from))?;
        let url = url::Url::parse(settings.url.expose_secret())
            .map_err(|_| "--smtp-url is not a URL (smtp://user:pass@host:587)".to_owned())?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("--smtp-url has no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let required = match url.query_pairs().find(|(k, _)| k == "tls") {
            None => false,
            Some((_, v)) if v == "required" => true,
            Some(_) => return Err("--smtp-url: the only tls= value is tls=required".into()),
        };
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(pem) = &settings.ca_pem {
            let ca = Certificate::from_pem(pem)
                .map_err(|_| "--smtp-ca-file holds no PEM certificate".to_owned())?;
            tls = tls.add_root_certificate(ca);
        }
        let tls = tls
            .build_rustls()
            .map_err(|e| format!("the SMTP TLS settings are not usable ({e})"))?;
        let (tls, port) = match url.scheme() {
            "smtp" if required => (Tls::Required(tls), 587),
            "smtp" => (Tls::Opportunistic(tls), 587),
            "smtps" => (Tls::Wrapper(tls), 465),
            _ => return Err("--smtp-url must start with smtp:// or smtps://".into()),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(port))
            .tls(tls)
            .timeout(Some(SMTP_TIMEOUT))
            .hello_name(ClientId::Domain(from.email.domain().to_owned()));
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_encoding(s).ok_or("--smtp-url: the user or password is not valid UTF-8")
            };
            let user = decode(url.username())?;
            let password = decode(url.password().unwrap_or(""))?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    /// Sends one message of the outbox, with its own Message-ID.
    pub async fn send(&self, m: &OutboxMessage) -> Result<(), SendError> {
        let to: Mailbox = m.recipient.0.parse().map_err(|_| {
            SendError::Permanent("the recipient is not a valid mail address".into())
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.0.as_str())
            .message_id(Some(m.message_id.0.clone()))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(m.text_body.0.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(m.html_body.0.clone()),
                    ),
            )
            .map_err(|_| SendError::Permanent("the message could not be built".into()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(classify)
    }
}

/// What is kept of an SMTP error: its class and code, never the server's
/// words (which may repeat the recipient's address).
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    if let Some(code) = e.status() {
        if e.is_permanent() {
            return SendError::Permanent(format!("the mail server refused the message ({code})"));
        }
        return SendError::Temporary(format!("the mail server deferred the message ({code})"));
    }
    let what = if e.is_timeout() {
        "the mail server did not answer in time"
    } else if e.is_tls() {
        "TLS with the mail server failed"
    } else if e.is_response() {
        "the mail server's answer could not be read"
    } else {
        // A refused handshake (an untrusted certificate) comes as an I/O
        // error of the connection.
        "could not talk to the mail server (the connection or TLS failed)"
    };
    SendError::Temporary(what.into())
}

/// Decodes `%xx` escapes of a URL's user or password.
fn percent_encoding(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> SmtpSettings {
        SmtpSettings {
            url: SecretString::from(url.to_owned()),
            ca_pem: None,
            from: "Example News <news@example.org>".into(),
        }
    }

    #[test]
    fn reads_the_url_forms() {
        assert!(Mailer::new(&settings("smtp://u:p%40ss@mail.example.org:587")).is_ok());
        assert!(Mailer::new(&settings("smtp://mail.example.org?tls=required")).is_ok());
        assert!(Mailer::new(&settings("smtps://u:p@mail.example.org")).is_ok());
    }

    #[test]
    fn refusals_never_repeat_the_password() {
        for url in [
            "http://u:hunter2@mail.example.org",
            "smtp://u:hunter2@mail.example.org?tls=maybe",
            "smtp://u:hunter2@",
        ] {
            let e = Mailer::new(&settings(url)).unwrap_err();
            assert!(!e.contains("hunter2"), "{e}");
        }
        let mut s = settings("smtp://u:hunter2@mail.example.org");
        s.from = "not an address".into();
        assert!(Mailer::new(&s).unwrap_err().contains("--mail-from"));
        let m = Mailer::new(&settings("smtp://u:hunter2@mail.example.org")).unwrap();
        assert!(!format!("{m:?}").contains("hunter2"));
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_encoding("p%40ss").as_deref(), Some("p@ss"));
        assert_eq!(percent_encoding("plain").as_deref(), Some("plain"));
        assert_eq!(percent_encoding("bad%zz"), None);
    }
}
