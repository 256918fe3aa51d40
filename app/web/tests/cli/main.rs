//! The `payments` binary as operators run it: exit codes and one-line
//! errors, token and user commands, seeding, and a real server that drains
//! and exits cleanly on SIGTERM; a reader's export and erasure, and
//! retention.

#[path = "../process/mod.rs"]
mod process;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use process::{ChildGuard, Server, http, parse_response, payments, run, stderr, stdout};

mod commands;
mod privacy;
mod serving;

/// Asserts the process failed with `code` and said one `error:` sentence.
fn assert_fails(o: &Output, code: i32, contains: &str) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    assert!(
        lines[0].contains(contains),
        "{:?} lacks {contains:?}",
        lines[0]
    );
    assert!(!err.contains("panicked"), "{err}");
    err
}
