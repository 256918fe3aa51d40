//! A small SMTP server for the tests, on 127.0.0.1: EHLO (offering
//! STARTTLS until TLS is on), STARTTLS with a certificate made at test time
//! by a CA of its own ([`FakeSmtp::ca_pem`]), MAIL, RCPT, DATA, RSET, NOOP,
//! QUIT. The answer to the end of each DATA can be scripted ([`FakeSmtp::
//! answer_next`]: `451` defers, `550` refuses); a message answered 250 is
//! recorded with its envelope and whether it came over TLS.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types};

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct Delivered {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent (headers and body), lines joined with CRLF.
    pub data: String,
    /// Whether the session had switched to TLS (STARTTLS).
    pub tls: bool,
}

impl Delivered {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if let Some(v) = value.as_mut() {
                if line.starts_with([' ', '\t']) {
                    v.push_str(line.trim_start());
                    continue;
                }
                break;
            }
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                value = Some(v.trim().to_owned());
            }
        }
        value
    }
}

#[derive(Default)]
struct State {
    /// Answers to the end of the next DATAs; 250 once empty.
    answers: VecDeque<u16>,
    delivered: Vec<Delivered>,
    /// Every DATA answered, accepted or not.
    attempts: usize,
}

pub struct FakeSmtp {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    /// Woken at each accepted message.
    accepted: Arc<tokio::sync::Notify>,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn tls_acceptor() -> (TlsAcceptor, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test SMTP CA");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    (TlsAcceptor::from(Arc::new(config)), ca.pem())
}

impl FakeSmtp {
    pub async fn start() -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let (acceptor, ca_pem) = tls_acceptor();
        let shared = state.clone();
        let accepted = Arc::new(tokio::sync::Notify::new());
        let notify = accepted.clone();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (state, acceptor, notify) = (shared.clone(), acceptor.clone(), notify.clone());
                tokio::spawn(async move {
                    let _ = session(Box::new(socket), state, acceptor, notify).await;
                });
            }
        });
        FakeSmtp {
            addr,
            state,
            accepted,
            ca_pem,
            task,
        }
    }

    /// `smtp://user:secret@127.0.0.1:<port>` plus `query` (e.g. `?tls=required`).
    pub fn url(&self, query: &str) -> String {
        format!("smtp://mailer:s3cret-pass@{}{query}", self.addr)
    }

    /// The PEM of the CA that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The next DATAs are answered with these codes, in order.
    pub fn answer_next(&self, codes: &[u16]) {
        self.state.lock().unwrap().answers.extend(codes);
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.state.lock().unwrap().delivered.clone()
    }

    /// Waits until `n` messages were accepted.
    pub async fn wait_for_delivered(&self, n: usize) {
        loop {
            let woken = self.accepted.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.state.lock().unwrap().delivered.len() >= n {
                return;
            }
            woken.await;
        }
    }

    /// How many messages were offered (DATA ended), accepted or not.
    pub fn attempts(&self) -> usize {
        self.state.lock().unwrap().attempts
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn session(
    socket: Box<dyn Io>,
    state: Arc<Mutex<State>>,
    acceptor: TlsAcceptor,
    accepted: Arc<tokio::sync::Notify>,
) -> std::io::Result<()> {
    let mut io = BufReader::new(socket);
    let mut tls = false;
    io.get_mut().write_all(b"220 fake ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: String = match verb.as_str() {
            "EHLO" | "HELO" => {
                if tls {
                    "250-fake\r\n250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n".into()
                } else {
                    "250-fake\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n".into()
                }
            }
            "STARTTLS" if !tls => {
                io.get_mut().write_all(b"220 go ahead\r\n").await?;
                let plain = io.into_inner();
                let secured = acceptor.accept(plain).await?;
                io = BufReader::new(Box::new(secured));
                tls = true;
                continue;
            }
            "AUTH" => "235 authenticated\r\n".into(),
            "MAIL" => {
                from = address(&command);
                to.clear();
                "250 ok\r\n".into()
            }
            "RCPT" => {
                to.push(address(&command));
                "250 ok\r\n".into()
            }
            "DATA" => {
                io.get_mut().write_all(b"354 go on\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut l = String::new();
                    if io.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    let l = l.trim_end_matches(['\r', '\n']);
                    if l == "." {
                        break;
                    }
                    data.push(l.strip_prefix('.').unwrap_or(l).to_owned());
                }
                let code = {
                    let mut s = state.lock().unwrap();
                    s.attempts += 1;
                    let code = s.answers.pop_front().unwrap_or(250);
                    if code == 250 {
                        s.delivered.push(Delivered {
                            from: from.clone(),
                            to: to.clone(),
                            data: data.join("\r\n"),
                            tls,
                        });
                    }
                    code
                };
                accepted.notify_waiters();
                match code {
                    250 => "250 queued\r\n".into(),
                    c => format!("{c} not now, reader@example.org\r\n"),
                }
            }
            "RSET" | "NOOP" => "250 ok\r\n".into(),
            "QUIT" => {
                io.get_mut().write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => "502 unknown command\r\n".into(),
        };
        io.get_mut().write_all(reply.as_bytes()).await?;
    }
}

/// The address inside `<…>` of a MAIL or RCPT command.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(String::new(), |(a, _)| a.to_owned())
}
