//! Helpers for tests that run the `payments` binary as operators do: the
//! command, a served process and its log, and raw HTTP/1.1 requests.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub fn payments(args: &[&str], dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_payments"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("PAYMENTS_DATABASE_URL")
        .env_remove("PAYMENTS_SESSION_KEY")
        .env("PAYMENTS_LOG_FORMAT", "json")
        .stdin(Stdio::null());
    cmd
}

pub fn run(args: &[&str], dir: &std::path::Path) -> Output {
    payments(args, dir).output().unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A `payments serve` process and its log lines.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    pub lines: mpsc::Receiver<String>,
    pub log: Vec<String>,
}

impl Server {
    /// `payments serve --migrate` on `server.db` in `dir`, with `extra` flags.
    pub fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
        let mut args = vec![
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            "sqlite://server.db",
            "--migrate",
        ];
        args.extend_from_slice(extra);
        Server::spawn(dir, &args)
    }

    /// Runs `payments ARGS` (a command that serves: `serve` or `demo`, bound
    /// to port 0) and waits for its "listening" log line.
    pub fn spawn(dir: &std::path::Path, args: &[&str]) -> Server {
        let mut child = payments(args, dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut log = Vec::new();
        // The "listening" log line is the readiness signal and names the port.
        let addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("server did not start");
            log.push(line.clone());
            let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            if v["message"] == "listening" {
                break v["addr"].as_str().unwrap().parse().unwrap();
            }
        };
        Server {
            child,
            addr,
            lines,
            log,
        }
    }

    /// Stops the process (SIGKILL) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Reads the log to its end, once the process has exited (the reader
    /// thread stops at end of file); bounded by `within`.
    pub fn read_log_to_end(&mut self, within: Duration) {
        let deadline = std::time::Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => self.log.push(line),
                Err(_) => break,
            }
        }
    }

    pub fn drain_log(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
    }
}

/// A test that fails part-way must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request on a fresh connection; returns status and body.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    parse_response(&response)
}

pub fn parse_response(response: &str) -> (u16, String) {
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
