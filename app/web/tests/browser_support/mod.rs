//! The browser tests' harness: chromedriver and a headless Chromium, the
//! service on a random port, and the check that a page fits its window, with
//! a screenshot of each page and width.
#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use payments::server::{Application, ServeConfig, Shutdown};
use payments::storage::Store;
use payments::storage::accounts::Role;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = Duration::from_secs(15);

/// A window size every page must fit, and whether each table must fit
/// whole (on a phone a wide table may scroll inside its own box).
struct Size {
    width: i64,
    height: i64,
    tables_fit: bool,
}

const SIZES: [Size; 2] = [
    Size {
        width: 1400,
        height: 900,
        tables_fit: true,
    },
    Size {
        width: 390,
        height: 844,
        tables_fit: false,
    },
];

/// Returns `{problems, scrolling}`: what does not fit, and (for the report)
/// which table boxes scroll sideways. A table's box is any ancestor that
/// clips or scrolls horizontally.
const FIT_SCRIPT: &str = r#"
const tablesFit = arguments[0];
const doc = document.documentElement;
const view = doc.clientWidth;
const problems = [];
const scrolling = [];
const nameOf = (e) => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().split(/\s+/).join(".") : "");
// clientWidth leaves out a vertical scroll bar, so this is stricter than
// comparing with window.innerWidth.
if (doc.scrollWidth > view) {
  problems.push(`the page scrolls sideways: ${doc.scrollWidth} px wide in a ${view} px window`);
}
for (const table of document.querySelectorAll("table")) {
  const section = table.closest("section");
  const heading = (section && section.querySelector("h2")) || document.querySelector("h1");
  const what = `table "${heading ? heading.textContent.trim() : "?"}"`;
  const boxes = [table];
  for (let e = table.parentElement; e && e !== document.body; e = e.parentElement) {
    if (getComputedStyle(e).overflowX !== "visible") boxes.push(e);
  }
  for (const box of boxes) {
    if (box.scrollWidth > box.clientWidth) {
      const line = `${what}: ${nameOf(box)} holds ${box.scrollWidth} px in ${box.clientWidth} px`;
      (tablesFit ? problems : scrolling).push(line);
    }
  }
  // The outermost box is what the page lays out; the ones inside it scroll.
  const outer = boxes[boxes.length - 1];
  const right = outer.getBoundingClientRect().right;
  if (right > view + 0.5) {
    problems.push(`${what}: ${nameOf(outer)} ends at ${Math.round(right)} px, past the ${view} px window`);
  }
  if (tablesFit) {
    const hidden = [...table.querySelectorAll("th, td")].find((c) => c.getClientRects().length === 0);
    if (hidden) problems.push(`${what}: a column is hidden ("${hidden.textContent.trim()}")`);
  }
}
return { problems, scrolling };
"#;

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver leads its own process group, Chromium's processes with
        // it: a test that fails before closing the browser leaves none behind.
        if let Ok(group) = i32::try_from(self.0.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group;
            // no memory is involved.
            unsafe { libc::kill(-group, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver and waits until it answers.
async fn chromedriver() -> (Driver, u16) {
    let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port();
    let child = Command::new(&binary)
        .arg(format!("--port={port}"))
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary} (install chromium-driver): {e}"));
    let driver = Driver(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (driver, port)
}

async fn browser(port: u16, profile: &std::path::Path, javascript: bool) -> Client {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut args = vec![
        "--headless".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-dev-shm-usage".into(),
        format!("--user-data-dir={}", profile.display()),
        "--window-size=1400,900".into(),
    ];
    if !javascript {
        // The page's scripts off; WebDriver's own still run.
        args.push("--blink-settings=scriptEnabled=false".into());
    }
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver refused the session (is chromium installed?)")
}

/// The service on a random port, with chromedriver and a browser session.
pub struct Session {
    base: String,
    pub c: Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

impl Session {
    pub async fn start(store: Store) -> Session {
        let config = ServeConfig {
            bind: "127.0.0.1:0".parse().unwrap(),
            ..ServeConfig::default()
        };
        Session::start_with(store, config, true).await
    }

    /// The service with this configuration, in a browser whose pages may
    /// run scripts or not.
    pub async fn start_with(store: Store, config: ServeConfig, javascript: bool) -> Session {
        let app = Application::build(store, config).unwrap();
        let base = format!("http://{}", app.local_addr());
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stop_rx.await;
            Shutdown::Handover
        }));
        let (driver, port) = chromedriver().await;
        let profile = tempfile::tempdir().unwrap();
        let c = browser(port, profile.path(), javascript).await;
        Session {
            base,
            c,
            stop,
            server,
            _driver: driver,
            _profile: profile,
        }
    }

    pub async fn end(self) {
        self.c.close().await.unwrap();
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }

    /// The service's base URL (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    /// Fills the login form (the browser must be on it) and sends it.
    pub async fn submit_login(&self, email: &str, password: &str) {
        find(&self.c, "#email")
            .await
            .send_keys(email)
            .await
            .unwrap();
        find(&self.c, "#password")
            .await
            .send_keys(password)
            .await
            .unwrap();
        click(&self.c, "form.login button[type=submit]").await;
    }

    /// Logs in from the login page and waits for the overview.
    pub async fn log_in(&self, email: &str) {
        self.submit_login(email, PASSWORD).await;
        let home = format!("{}/", self.base);
        wait_for_url(&self.c, "the overview after logging in", |u| u == home).await;
    }
}

fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn run(c: &Client, script: &str, args: Vec<Value>) -> Value {
    c.execute(script, args)
        .await
        .unwrap_or_else(|e| panic!("script failed: {e}"))
}

/// Resolves once the page is `[width, height]` inside: a resize reaches the
/// page some time after the WebDriver call that made it has returned.
const RESIZED_SCRIPT: &str = r#"
const [width, height, done] = arguments;
const sized = () => window.innerWidth === width && window.innerHeight === height;
if (sized()) {
  done();
} else {
  window.addEventListener("resize", function check() {
    if (sized()) {
      window.removeEventListener("resize", check);
      done();
    }
  });
}
"#;

/// Sizes the window so that the page itself (the viewport) is
/// `width` × `height`, whatever frame the browser draws around it.
async fn set_viewport(c: &Client, width: i64, height: i64) {
    // Measured while the page is at rest: the last resize was waited for.
    let (outer_width, outer_height) = c.get_window_size().await.unwrap();
    let inner = run(c, "return [innerWidth, innerHeight];", vec![]).await;
    let outer = |size: i64, outer: u64, inner: &Value| {
        u32::try_from(size + i64::try_from(outer).unwrap() - inner.as_i64().unwrap()).unwrap()
    };
    c.set_window_size(
        outer(width, outer_width, &inner[0]),
        outer(height, outer_height, &inner[1]),
    )
    .await
    .unwrap();
    c.execute_async(RESIZED_SCRIPT, vec![json!(width), json!(height)])
        .await
        .unwrap_or_else(|e| panic!("the page did not become {width}×{height} px: {e}"));
}

/// What did not fit, over all the pages checked, and the screenshots taken.
#[derive(Default)]
pub struct Layout {
    problems: Vec<String>,
    shots: Vec<PathBuf>,
}

impl Layout {
    /// Checks the current page at each size and saves a full-length
    /// screenshot of it, `<page>-<width>px.png`.
    pub async fn check(&mut self, c: &Client, page: &str) {
        for size in &SIZES {
            set_viewport(c, size.width, size.height).await;
            let found = run(c, FIT_SCRIPT, vec![json!(size.tables_fit)]).await;
            let lines = |key: &str| {
                found[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| format!("{page} at {} px: {}", size.width, l.as_str().unwrap()))
                    .collect::<Vec<_>>()
            };
            for line in lines("scrolling") {
                eprintln!("scrolls in its own box: {line}");
            }
            self.problems.extend(lines("problems"));
            let length = run(c, "return document.documentElement.scrollHeight;", vec![])
                .await
                .as_i64()
                .unwrap();
            set_viewport(c, size.width, length.clamp(size.height, 8000)).await;
            let png = c.screenshot().await.unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a PNG");
            let file = screenshots_dir().join(format!("{page}-{}px.png", size.width));
            std::fs::write(&file, png).unwrap();
            self.shots.push(file);
        }
        set_viewport(c, SIZES[0].width, SIZES[0].height).await;
    }

    /// Every page fitted, and every screenshot has content.
    pub fn assert_all_fit(&self) {
        for file in &self.shots {
            assert!(
                std::fs::metadata(file).unwrap().len() > 5_000,
                "{}",
                file.display()
            );
        }
        assert!(
            self.problems.is_empty(),
            "content does not fit:\n{}",
            self.problems.join("\n")
        );
    }
}

/// Waits (bounded) until the browser's URL satisfies `done`: a click that
/// navigates returns before the new page is there.
pub async fn wait_for_url(c: &Client, what: &str, done: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let url = c.current_url().await.unwrap().to_string();
        if done(&url) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the browser is at {url}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn find(c: &Client, css: &str) -> Element {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// Waits (bounded) for an element of a page that is loading.
pub async fn wait_for(c: &Client, css: &str) -> Element {
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("timed out waiting for {css}: {e}"))
}

pub async fn click(c: &Client, css: &str) {
    find(c, css).await.click().await.unwrap();
}

pub async fn text(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.unwrap()
}

pub async fn add_user(store: &Store, email: &str, role: Role) {
    let hash = payments::passwords::hash_password(PASSWORD).unwrap();
    store.create_user("test", email, role, &hash).await.unwrap();
}
