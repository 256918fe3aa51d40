//! [`FakeStripe`]: a real HTTP server on 127.0.0.1 answering the part of
//! Stripe's API this service uses, from objects a test stores, in Stripe's
//! shapes (objects, lists, errors, idempotency).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value, json};

/// How the server answers (see [`FakeStripe::set_behaviour`]). Requests are
/// recorded whatever it is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Answer as Stripe does.
    #[default]
    Normal,
    /// Answer this status with Stripe's `api_error` shape; a 5xx also carries
    /// `Stripe-Should-Retry: true`.
    Status(u16),
    /// Answer this status with a Stripe error of this `code` and `message`
    /// (`type` `card_error` for 402, else `invalid_request_error`).
    Refuse {
        status: u16,
        code: &'static str,
        message: &'static str,
    },
    /// Answer normally, after this delay (a timeout for a client that waits
    /// less).
    Delay(Duration),
}

/// One request as the server received it (before any misbehaviour).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The decoded query string, in order.
    pub query: Vec<(String, String)>,
    /// The decoded `application/x-www-form-urlencoded` body, in order.
    pub form: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub stripe_version: Option<String>,
    pub idempotency_key: Option<String>,
}

impl Recorded {
    /// The first form value named `name`.
    pub fn form_value(&self, name: &str) -> Option<&str> {
        first(&self.form, name)
    }

    /// The first query value named `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        first(&self.query, name)
    }
}

pub(super) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The object kind (`object` value) an id's prefix names.
pub(super) fn kind_of(id: &str) -> Option<&'static str> {
    let (prefix, _) = id.split_once('_')?;
    Some(match prefix {
        "pi" => "payment_intent",
        "ch" | "py" => "charge",
        "txn" => "balance_transaction",
        "re" | "pyr" => "refund",
        "du" | "dp" => "dispute",
        "in" => "invoice",
        "sub" => "subscription",
        "cs" => "checkout.session",
        "evt" => "event",
        _ => return None,
    })
}

struct Stored {
    seq: u64,
    object: Value,
}

/// A saved response to an `Idempotency-Key`, with what it answered.
struct Saved {
    method: String,
    path: String,
    params: Vec<(String, String)>,
    reply: Reply,
}

#[derive(Default)]
pub(super) struct Inner {
    objects: HashMap<String, Stored>,
    next_seq: u64,
    requests: Vec<Recorded>,
    behaviour: Behaviour,
    post_behaviour: Option<Behaviour>,
    idempotent: HashMap<String, Saved>,
    /// The fake's own base URL (Checkout Sessions' `url` points here).
    pub(super) base: String,
}

impl Inner {
    pub(super) fn put(&mut self, object: Value) {
        let id = object["id"]
            .as_str()
            .expect("a stored object has a string id")
            .to_owned();
        assert!(kind_of(&id).is_some(), "no known Stripe kind for id {id}");
        let seq = match self.objects.get(&id) {
            Some(old) => old.seq,
            None => {
                self.next_seq += 1;
                self.next_seq
            }
        };
        self.objects.insert(id, Stored { seq, object });
    }

    pub(super) fn get(&self, id: &str) -> Option<&Value> {
        self.objects.get(id).map(|s| &s.object)
    }

    /// Objects of `kind`, newest first by `created`, ties in insertion order.
    pub(super) fn list(&self, kind: &str) -> Vec<&Value> {
        let mut all: Vec<&Stored> = self
            .objects
            .iter()
            .filter(|(id, _)| kind_of(id) == Some(kind))
            .map(|(_, s)| s)
            .collect();
        all.sort_by_key(|s| (std::cmp::Reverse(s.object["created"].as_i64()), s.seq));
        all.into_iter().map(|s| &s.object).collect()
    }
}

/// A fake Stripe API on `127.0.0.1:<port>`, served on the test's runtime
/// until dropped.
pub struct FakeStripe {
    addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind the fake Stripe server");
        let addr = listener.local_addr().expect("its address");
        let inner = Arc::new(Mutex::new(Inner {
            base: format!("http://{addr}"),
            ..Inner::default()
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve fake Stripe");
        });
        FakeStripe { addr, inner, task }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `object` under its `id` (replacing one with that id, which
    /// keeps its place in insertion order). Its kind is its id's prefix:
    /// `pi_`, `ch_`, `txn_`, `re_`, `du_`/`dp_`, `in_`, `sub_`, `cs_`,
    /// `evt_`.
    pub fn put(&self, object: Value) {
        self.lock().put(object);
    }

    /// Stores an event (`evt_…`) for `GET /v1/events`.
    pub fn add_event(&self, event: Value) {
        assert_eq!(event["object"], "event", "add_event takes an event");
        self.lock().put(event);
    }

    /// The stored object with this id, as it is now.
    pub fn get(&self, id: &str) -> Option<Value> {
        self.lock().get(id).cloned()
    }

    /// Every stored object of this kind (`"refund"`, `"event"`, …), newest
    /// first as Stripe lists them.
    pub fn objects(&self, kind: &str) -> Vec<Value> {
        self.lock().list(kind).into_iter().cloned().collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Completes the stored Checkout Session `id` as a reader paying would
    /// (`status` `complete`, `payment_status` `paid`, `email` in
    /// `customer_details`, `url` null) and returns it.
    pub fn complete_checkout_session(&self, id: &str, email: &str) -> Value {
        let mut inner = self.lock();
        let mut session = inner.get(id).cloned().expect("a stored Checkout Session");
        super::checkout::complete(&mut session, email);
        inner.put(session.clone());
        session
    }

    /// How to answer every following request, until told otherwise; also
    /// ends a behaviour set with [`FakeStripe::set_post_behaviour`].
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        let mut inner = self.lock();
        inner.behaviour = behaviour;
        inner.post_behaviour = None;
    }

    /// How to answer following POSTs only; other methods keep the behaviour
    /// [`FakeStripe::set_behaviour`] set.
    pub fn set_post_behaviour(&self, behaviour: Behaviour) {
        self.lock().post_behaviour = Some(behaviour);
    }
}

#[derive(Clone)]
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Value,
    pub(super) headers: Vec<(&'static str, String)>,
}

impl Reply {
    pub(super) fn ok(body: Value) -> Reply {
        Reply {
            status: 200,
            body,
            headers: Vec::new(),
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            "request-id",
            HeaderValue::from_str(&random_id("req_")).unwrap(),
        );
        for (name, value) in self.headers {
            headers.insert(name, HeaderValue::from_str(&value).expect("header value"));
        }
        response
    }
}

/// Stripe's error shape: `{"error":{"type","code","message","param"}}`.
pub(super) fn error(
    status: u16,
    kind: &str,
    code: Option<&str>,
    message: String,
    param: Option<&str>,
) -> Reply {
    let mut e = Map::new();
    e.insert("type".into(), kind.into());
    if let Some(code) = code {
        e.insert("code".into(), code.into());
    }
    e.insert("message".into(), message.into());
    if let Some(param) = param {
        e.insert("param".into(), param.into());
    }
    Reply {
        status,
        body: json!({ "error": e }),
        headers: Vec::new(),
    }
}

pub(super) fn invalid(code: Option<&str>, message: String, param: Option<&str>) -> Reply {
    error(400, "invalid_request_error", code, message, param)
}

pub(super) fn missing(kind: &str, id: &str, param: &str) -> Reply {
    let message = format!("No such {kind}: '{id}'");
    error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        message,
        Some(param),
    )
}

pub(super) fn random_id(prefix: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).expect("random bytes");
    let tail: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    format!("{prefix}{tail}")
}

pub(super) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn decode(text: &[u8]) -> Option<Vec<(String, String)>> {
    serde_urlencoded::from_bytes(text).ok()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if method == Method::GET
        && let Some(id) = uri.path().strip_prefix("/c/pay/")
    {
        let inner = inner.lock().unwrap_or_else(|e| e.into_inner());
        return match super::checkout::page(&inner, id) {
            Some(html) => Html(html).into_response(),
            None => (StatusCode::NOT_FOUND, Html("<h1>No such session</h1>")).into_response(),
        };
    }
    let query = decode(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let form_body =
        header("content-type").is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"));
    let form = if form_body { decode(&body) } else { None };
    let recorded = Recorded {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query,
        form: form.clone().unwrap_or_default(),
        authorization: header("authorization"),
        stripe_version: header("stripe-version"),
        idempotency_key: header("idempotency-key"),
    };
    let behaviour = {
        let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.requests.push(recorded.clone());
        match inner.post_behaviour {
            Some(post) if method == Method::POST => post,
            _ => inner.behaviour,
        }
    };
    match behaviour {
        Behaviour::Normal => {}
        Behaviour::Delay(delay) => tokio::time::sleep(delay).await,
        Behaviour::Status(status) => {
            let message = format!("An unexpected error occurred (a simulated {status}).");
            let mut reply = error(status, "api_error", None, message, None);
            if status >= 500 {
                reply.headers.push(("stripe-should-retry", "true".into()));
            }
            return reply.into_response();
        }
        Behaviour::Refuse {
            status,
            code,
            message,
        } => {
            let kind = if status == 402 {
                "card_error"
            } else {
                "invalid_request_error"
            };
            return error(status, kind, Some(code), message.into(), None).into_response();
        }
    }
    if !body.is_empty() && form.is_none() {
        let kind = header("content-type").unwrap_or_else(|| "none".into());
        return invalid(
            None,
            format!("Invalid request: unsupported Content-Type {kind}."),
            None,
        )
        .into_response();
    }
    let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    answer(&mut inner, &recorded).into_response()
}

fn answer(inner: &mut Inner, req: &Recorded) -> Reply {
    if let Some(refused) = check_key(req.authorization.as_deref()) {
        return refused;
    }
    if req.method != "POST" {
        return super::routes::route(inner, req);
    }
    let Some(key) = req.idempotency_key.clone() else {
        return super::routes::route(inner, req);
    };
    let mut params = req.form.clone();
    params.sort();
    if let Some(saved) = inner.idempotent.get(&key) {
        if saved.method == req.method && saved.path == req.path && saved.params == params {
            let mut reply = saved.reply.clone();
            reply.headers.push(("idempotent-replayed", "true".into()));
            return reply;
        }
        let message = format!(
            "Keys for idempotent requests can only be used with the same parameters they were \
             first used with. Try using a key other than '{key}' if you meant to execute a \
             different request."
        );
        return error(400, "idempotency_error", None, message, None);
    }
    let mut reply = super::routes::route(inner, req);
    reply.headers.push(("idempotency-key", key.clone()));
    // Like Stripe, a request that failed validation saves no result.
    if (200..300).contains(&reply.status) {
        let saved = Saved {
            method: req.method.clone(),
            path: req.path.clone(),
            params,
            reply: reply.clone(),
        };
        inner.idempotent.insert(key, saved);
    }
    reply
}

fn check_key(authorization: Option<&str>) -> Option<Reply> {
    let unauthorized =
        |message: String| Some(error(401, "invalid_request_error", None, message, None));
    let Some(value) = authorization else {
        return unauthorized(
            "You did not provide an API key. You need to provide your API key in the \
             Authorization header, using Bearer auth (e.g. 'Authorization: Bearer \
             YOUR_SECRET_KEY')."
                .into(),
        );
    };
    let key = value.strip_prefix("Bearer ").unwrap_or("");
    let valid = ["sk_test_", "sk_live_"]
        .iter()
        .any(|p| key.strip_prefix(p).is_some_and(|rest| !rest.is_empty()));
    if valid {
        return None;
    }
    let shown: String = key.chars().take(8).collect();
    unauthorized(format!("Invalid API Key provided: {shown}***"))
}
