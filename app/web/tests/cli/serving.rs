//! A served process: draining, metrics, handover, the demo, the health check.

use super::*;

/// Logs in through the dashboard form over a real connection; returns the status.
fn dashboard_login(addr: SocketAddr, email: &str, password: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    let cookie = page
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .map(|c| c.split(';').next().unwrap().to_owned())
        .expect("login cookie");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let form =
        serde_urlencoded::to_string([("email", email), ("password", password), ("csrf", &csrf)])
            .unwrap();
    let (status, _) = http(
        addr,
        "POST",
        "/login",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &form,
    );
    status
}

#[test]
fn serves_then_drains_on_sigterm_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        run(&["migrate", "--database-url", "sqlite://server.db"], d)
            .status
            .success()
    );
    let created = stdout(&run(
        &[
            "token",
            "create",
            "--name",
            "t",
            "--scope",
            "write",
            "--database-url",
            "sqlite://server.db",
        ],
        d,
    ));
    let token = created.lines().last().unwrap().to_owned();
    let auth = format!("Bearer {token}");
    let password = "a very secret staff password";
    let mut child = payments(
        &[
            "user",
            "create",
            "--email",
            "finance@example.org",
            "--role",
            "viewer",
            "--password-stdin",
            "--database-url",
            "sqlite://server.db",
        ],
        d,
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    let mut server = Server::start(d, &["--drain-delay", "2s", "--shutdown-grace", "10s"]);
    let addr = server.addr;
    assert_eq!(
        dashboard_login(addr, "finance@example.org", "wrong password"),
        401
    );
    assert_eq!(dashboard_login(addr, "finance@example.org", password), 303);

    let body = r#"{"amount": 1234, "currency": "USD", "method": "card", "payer": {"name": "Rosalind Franklin", "email": "rosalind.franklin@example.org"}}"#;
    let (status, created) = http(
        addr,
        "POST",
        "/api/v1/payments",
        &[
            ("Authorization", &auth),
            ("Idempotency-Key", "k1"),
            ("Content-Type", "application/json"),
        ],
        body,
    );
    assert_eq!(status, 201, "{created}");
    let (status, _) = http(
        addr,
        "GET",
        "/api/v1/payments?q=rosalind.franklin%40example.org",
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(status, 200);
    assert_eq!(http(addr, "GET", "/readyz", &[], "").0, 200);

    // A slow request: headers and half the body now, the rest after SIGTERM.
    let slow_body = body.replace("1234", "4321");
    let (first, rest) = slow_body.split_at(slow_body.len() / 2);
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        slow,
        "POST /api/v1/payments HTTP/1.1\r\nHost: test\r\nConnection: close\r\nAuthorization: {auth}\r\nIdempotency-Key: k2\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        slow_body.len()
    )
    .unwrap();
    slow.flush().unwrap();

    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Readiness turns 503 while the listener still accepts (the drain delay).
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut saw_draining = false;
    while Instant::now() < deadline {
        if http(addr, "GET", "/readyz", &[], "").0 == 503 {
            saw_draining = true;
            break;
        }
    }
    assert!(saw_draining, "/readyz never reported 503 during the drain");
    assert_eq!(
        http(addr, "GET", "/healthz", &[], "").0,
        200,
        "still serving while draining"
    );

    slow.write_all(rest.as_bytes()).unwrap();
    let mut response = String::new();
    slow.read_to_string(&mut response).unwrap();
    let (status, body) = parse_response(&response);
    assert_eq!(status, 201, "the in-flight request completed: {body}");

    let started = Instant::now();
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "did not exit");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0));
    assert!(TcpStream::connect(addr).is_err(), "the listener is closed");

    // Logs: JSON lines with request ids; no token, password or payer email.
    server.drain_log();
    assert!(server.log.len() > 5);
    for line in &server.log {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string(), "{line}");
        assert!(!line.contains(&token), "token in log: {line}");
        assert!(!line.contains("pmt_"), "token in log: {line}");
        assert!(!line.contains("rosalind"), "payer email in log: {line}");
        assert!(
            !line.contains(password) && !line.contains("wrong password"),
            "password in log: {line}"
        );
        assert!(
            !line.contains("finance@example.org"),
            "staff email in log: {line}"
        );
    }
    let requests: Vec<&String> = server
        .log
        .iter()
        .filter(|l| l.contains("\"message\":\"request\""))
        .collect();
    assert!(
        requests.iter().all(|l| l.contains("request_id")
            && l.contains("latency_ms")
            && l.contains("\"route\""))
    );
}

#[test]
fn metrics_listener_serves_without_auth() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--metrics-bind", "127.0.0.1:0"]);
    let listening = server
        .log
        .iter()
        .find(|l| l.contains("\"message\":\"listening\""))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(listening).unwrap();
    let metrics_addr: SocketAddr = v["metrics_addr"].as_str().unwrap().parse().unwrap();
    assert_eq!(http(server.addr, "GET", "/healthz", &[], "").0, 200);
    assert_eq!(
        http(server.addr, "GET", "/metrics", &[], "").0,
        401,
        "main listener needs a token"
    );
    let (status, text) = http(metrics_addr, "GET", "/metrics", &[], "");
    assert_eq!(status, 200);
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("db_pool_connections"), "{text}");
    let healthy = run(
        &[
            "healthcheck",
            "--url",
            &format!("http://{}/readyz", server.addr),
        ],
        dir.path(),
    );
    assert!(healthy.status.success(), "{}", stderr(&healthy));
    server.child.kill().unwrap();
    server.child.wait().unwrap();
}

#[test]
fn sigusr2_hands_over_without_the_drain_delay() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--drain-delay", "30s", "--reuse-port"]);
    assert_eq!(http(server.addr, "GET", "/healthz", &[], "").0, 200);
    // A second instance binds the same port while the first still serves.
    let second = {
        let args = [
            "serve",
            "--bind",
            &server.addr.to_string(),
            "--database-url",
            "sqlite://server.db",
            "--reuse-port",
        ];
        payments(&args, dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut second = ChildGuard(second);
    let started = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-USR2", &server.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let exit = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "handover waited for the drain delay"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
    server.read_log_to_end(Duration::from_secs(5));
    assert!(
        server.log.iter().any(|l| l.contains("handing over")),
        "{:?}",
        server.log
    );
    // The port is still served, by the second instance.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect(server.addr).is_ok()
            && http(server.addr, "GET", "/healthz", &[], "").0 == 200
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the second instance never served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = second.0.kill();
}

/// `payments demo` from an empty directory: migrates, seeds, prints the URL,
/// an admin login and a write token that all work, and stops on SIGTERM.
#[test]
fn demo_from_an_empty_directory_serves_what_it_prints() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = payments(&["demo", "--bind", "127.0.0.1:0"], dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut guard = ChildGuard(child);
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The banner is printed once the server listens: it is the readiness signal.
    let mut banner = Vec::new();
    while !banner.iter().any(|l: &String| l.contains("API token:")) {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .expect("the demo did not print its banner");
        banner.push(line);
    }
    let field = |label: &str| {
        banner
            .iter()
            .find_map(|l| l.trim().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} in {banner:?}"))
            .trim()
            .to_owned()
    };
    let addr: SocketAddr = field("Dashboard:")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let login = field("Login:");
    let (email, password) = login.split_once(" / ").unwrap();
    let token = field("API token:")
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    eprintln!("demo ready after {:.1} s", started.elapsed().as_secs_f64());

    assert!(dir.path().join("payments-demo.db").exists());
    assert_eq!(http(addr, "GET", "/readyz", &[], "").0, 200);
    let (status, body) = http(
        addr,
        "GET",
        "/api/v1/payments?limit=3",
        &[("Authorization", &format!("Bearer {token}"))],
        "",
    );
    assert_eq!(status, 200, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 3);
    assert_eq!(dashboard_login(addr, email, password), 303);
    assert_eq!(dashboard_login(addr, email, "not-the-password"), 401);

    Command::new("kill")
        .args(["-TERM", &guard.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the demo did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// `healthcheck` with an instance id passes only on the answer of the
/// process started with that id: during a swap two processes share the port
/// (SO_REUSEPORT), and the old one's 200 must not pass for the new one.
#[test]
fn healthcheck_checks_the_instance_that_answered() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &["--instance-id", "payments-new-1"]);
    let url = format!("http://{}/readyz", server.addr);
    let ours = run(
        &[
            "healthcheck",
            "--url",
            &url,
            "--instance-id",
            "payments-new-1",
        ],
        dir.path(),
    );
    assert!(ours.status.success(), "{}", stderr(&ours));
    let theirs = run(
        &[
            "healthcheck",
            "--url",
            &url,
            "--instance-id",
            "payments-new-2",
        ],
        dir.path(),
    );
    assert_fails(
        &theirs,
        1,
        "answered by another process (instance payments-new-1)",
    );
    // The same variable `serve` reads, as inside a container.
    let from_env = payments(&["healthcheck", "--url", &url], dir.path())
        .env("PAYMENTS_INSTANCE_ID", "payments-new-2")
        .output()
        .unwrap();
    assert_eq!(from_env.status.code(), Some(1), "{}", stderr(&from_env));
    let (status, _) = http(server.addr, "GET", "/healthz", &[], "");
    assert_eq!(status, 200);
    assert_fails(
        &run(&["serve", "--instance-id", "has space"], dir.path()),
        2,
        "instance id",
    );
    server.kill();
}
