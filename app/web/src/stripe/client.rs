//! A thin typed client for the few Stripe endpoints the ledger uses.
//!
//! Every call carries `Authorization: Bearer <key>` and the pinned
//! `Stripe-Version`; every POST an `Idempotency-Key`. A call is retried (at
//! most twice, with backoff) only where Stripe says a retry is safe: a
//! connection failure or timeout, a 409 lock conflict, a 429, or a 5xx, and
//! never when Stripe answers `Stripe-Should-Retry: false`. POSTs are retried
//! only because they carry an idempotency key; the one DELETE (cancelling a
//! subscription) because doing it twice does it once. The secret key is never in
//! an error message or a log line.

use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::objects::{
    BalanceTransaction, Charge, CheckoutSession, Event, HasId, List, PaymentIntent, Refund,
    StripeErrorBody, Subscription,
};

/// The API version every request asks for: the shape of the objects this
/// client reads (invoices carry `parent.subscription_details`, as in
/// Stripe's own example objects).
pub const STRIPE_VERSION: &str = "2025-11-17.clover";

/// The largest answer read from Stripe (a list page of 100 events is far less).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Attempts per call, the first included.
const ATTEMPTS: u32 = 3;

/// Why a call to Stripe did not give an answer we can use.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered and refused (4xx): its message, safe to show staff.
    #[error("Stripe refused the request: {message}")]
    Refused {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// The object does not exist at Stripe.
    #[error("Stripe has no such object: {0}")]
    NotFound(String),
    /// No usable answer: connection failure, timeout, 5xx, or a body that is
    /// not what Stripe documents. The same request may be retried later.
    #[error("Stripe is unreachable: {0}")]
    Unavailable(String),
}

/// Whether a key is for live or test mode: events of the other mode are
/// not ours to record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyMode {
    Test,
    Live,
}

impl KeyMode {
    pub fn is_live(self) -> bool {
        self == KeyMode::Live
    }
}

/// Stripe's configuration: the key, the API base and the per-attempt timeout.
#[derive(Clone)]
pub struct StripeClient {
    http: HttpClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    base: String,
    key: SecretString,
    mode: KeyMode,
    timeout: Duration,
}

impl std::fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeClient")
            .field("base", &self.base)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl StripeClient {
    /// Checks the key's form and the base URL; makes no request.
    pub fn new(key: SecretString, base: &str, timeout: Duration) -> Result<Self, String> {
        let mode = match key.expose_secret() {
            k if k.starts_with("sk_live_") || k.starts_with("rk_live_") => KeyMode::Live,
            k if k.starts_with("sk_test_") || k.starts_with("rk_test_") => KeyMode::Test,
            _ => return Err("--stripe-secret-key must start with sk_test_ or sk_live_".into()),
        };
        let base = base.trim_end_matches('/').to_owned();
        let uri: Uri = base
            .parse()
            .map_err(|_| format!("--stripe-api-base {base:?} is not a URL"))?;
        if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
            return Err(format!("--stripe-api-base {base:?} must be an http(s) URL"));
        }
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .build();
        let http = HttpClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(https);
        Ok(StripeClient {
            http,
            base,
            key,
            mode,
            timeout,
        })
    }

    pub fn mode(&self) -> KeyMode {
        self.mode
    }

    /// `GET /v1/payment_intents/{id}` with its latest charge and that
    /// charge's balance transaction expanded: status, method and fee at once.
    pub async fn payment_intent(&self, id: &str) -> Result<PaymentIntent, StripeError> {
        let path = format!("/v1/payment_intents/{}", path_segment(id)?);
        self.get(&path, &[("expand[]", "latest_charge.balance_transaction")])
            .await
    }

    /// `GET /v1/subscriptions/{id}`.
    pub async fn subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        let path = format!("/v1/subscriptions/{}", path_segment(id)?);
        self.get(&path, &[]).await
    }

    /// `DELETE /v1/subscriptions/{id}`: cancels it now (no proration, no
    /// final invoice). A DELETE carries no idempotency key (Stripe ignores
    /// one there); cancelling is itself safe to repeat.
    pub async fn cancel_subscription(&self, id: &str) -> Result<Subscription, StripeError> {
        let uri = format!("{}/v1/subscriptions/{}", self.base, path_segment(id)?);
        self.call(Method::DELETE, &uri, None, None).await
    }

    /// `GET /v1/charges/{id}` with its balance transaction expanded.
    pub async fn charge(&self, id: &str) -> Result<Charge, StripeError> {
        let path = format!("/v1/charges/{}", path_segment(id)?);
        self.get(&path, &[("expand[]", "balance_transaction")])
            .await
    }

    /// `GET /v1/refunds?charge=…`: every refund of one charge.
    pub async fn refunds_of_charge(&self, charge: &str) -> Result<Vec<Refund>, StripeError> {
        self.list_all("/v1/refunds", &[("charge", charge)], |_| {})
            .await
    }

    /// `POST /v1/refunds`.
    pub async fn create_refund(
        &self,
        payment_intent: &str,
        amount: i64,
        reason: Option<&str>,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let amount = amount.to_string();
        let mut form = vec![("payment_intent", payment_intent), ("amount", &amount)];
        if let Some(reason) = reason {
            form.push(("reason", reason));
        }
        self.post("/v1/refunds", &form, idempotency_key).await
    }

    /// `POST /v1/checkout/sessions` with these form fields (see
    /// `stripe::checkout`); the same key and fields answer the same session.
    pub async fn create_checkout_session(
        &self,
        form: &[(String, String)],
        idempotency_key: &str,
    ) -> Result<CheckoutSession, StripeError> {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.post("/v1/checkout/sessions", &form, idempotency_key)
            .await
    }

    /// `GET /v1/checkout/sessions/{id}`; an id that is not one is `NotFound`.
    pub async fn checkout_session(&self, id: &str) -> Result<CheckoutSession, StripeError> {
        let path = format!("/v1/checkout/sessions/{}", path_segment(id)?);
        self.get(&path, &[]).await
    }

    /// `GET /v1/events` created at or after `created_gte` (Unix seconds),
    /// newest first; `on_page` hears how many each page brought.
    pub async fn events_since(
        &self,
        created_gte: i64,
        on_page: impl FnMut(usize),
    ) -> Result<Vec<Event>, StripeError> {
        let gte = created_gte.to_string();
        self.list_all("/v1/events", &[("created[gte]", &gte)], on_page)
            .await
    }

    /// `GET /v1/balance_transactions` created in `[from, to)` (Unix seconds).
    pub async fn balance_transactions_between(
        &self,
        from: i64,
        to: i64,
        on_page: impl FnMut(usize),
    ) -> Result<Vec<BalanceTransaction>, StripeError> {
        let (from, to) = (from.to_string(), to.to_string());
        let query = [
            ("created[gte]", from.as_str()),
            ("created[lt]", to.as_str()),
        ];
        self.list_all("/v1/balance_transactions", &query, on_page)
            .await
    }

    /// Every item of a list endpoint, 100 a page, each page starting after
    /// the last item of the one before.
    async fn list_all<T: DeserializeOwned + HasId>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        mut on_page: impl FnMut(usize),
    ) -> Result<Vec<T>, StripeError> {
        let mut all: Vec<T> = Vec::new();
        loop {
            let page: List<T> = {
                let mut q = query.to_vec();
                q.push(("limit", "100"));
                if let Some(last) = all.last() {
                    q.push(("starting_after", last.id()));
                }
                self.get(path, &q).await?
            };
            on_page(page.data.len());
            let done = !page.has_more || page.data.is_empty();
            all.extend(page.data);
            if done {
                return Ok(all);
            }
        }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, StripeError> {
        let query = serde_urlencoded::to_string(query)
            .map_err(|e| StripeError::Unavailable(format!("cannot encode the query: {e}")))?;
        let uri = if query.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{query}", self.base)
        };
        self.call(Method::GET, &uri, None, None).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, &str)],
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|e| StripeError::Unavailable(format!("cannot encode the form: {e}")))?;
        let uri = format!("{}{path}", self.base);
        self.call(Method::POST, &uri, Some(body), Some(idempotency_key))
            .await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Result<T, StripeError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self
                .attempt(method.clone(), uri, body.clone(), idempotency_key)
                .await;
            match outcome {
                Attempt::Answered(status, bytes) if status.is_success() => {
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        StripeError::Unavailable(format!("Stripe's answer is not understood: {e}"))
                    });
                }
                Attempt::Answered(status, bytes) => {
                    let error = answer_error(status, &bytes);
                    let retry = status == StatusCode::CONFLICT
                        || status == StatusCode::TOO_MANY_REQUESTS
                        || status.is_server_error();
                    if !retry || attempt >= ATTEMPTS {
                        return Err(error);
                    }
                }
                Attempt::ShouldRetry(false, status, bytes) => {
                    return Err(answer_error(status, &bytes));
                }
                Attempt::ShouldRetry(true, status, bytes) => {
                    if attempt >= ATTEMPTS {
                        return Err(answer_error(status, &bytes));
                    }
                }
                Attempt::Failed(reason) => {
                    if attempt >= ATTEMPTS {
                        return Err(StripeError::Unavailable(reason));
                    }
                }
            }
            tokio::time::sleep(backoff(attempt)).await;
        }
    }

    async fn attempt(
        &self,
        method: Method,
        uri: &str,
        body: Option<String>,
        idempotency_key: Option<&str>,
    ) -> Attempt {
        let mut request = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                "authorization",
                format!("Bearer {}", self.key.expose_secret()),
            )
            .header("stripe-version", STRIPE_VERSION)
            .header("user-agent", "payments.themarkup.org");
        if body.is_some() {
            request = request.header("content-type", "application/x-www-form-urlencoded");
        }
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let request = match request.body(Full::new(Bytes::from(body.unwrap_or_default()))) {
            Ok(r) => r,
            // Only a key or URL with characters a header cannot carry; the
            // message names neither.
            Err(_) => return Attempt::Failed("the request could not be built".into()),
        };
        let exchange = async {
            let response = self
                .http
                .request(request)
                .await
                .map_err(|e| format!("cannot reach Stripe ({})", connection_error(&e)))?;
            let status = response.status();
            let should_retry = response
                .headers()
                .get("stripe-should-retry")
                .and_then(|v| v.to_str().ok())
                .map(|v| v == "true");
            let bytes = Limited::new(response.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|_| "Stripe's answer could not be read".to_owned())?
                .to_bytes();
            Ok::<_, String>((status, should_retry, bytes))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Attempt::Failed(format!(
                "Stripe did not answer within {} ms",
                self.timeout.as_millis()
            )),
            Ok(Err(reason)) => Attempt::Failed(reason),
            Ok(Ok((status, Some(said), bytes))) if !status.is_success() => {
                Attempt::ShouldRetry(said, status, bytes)
            }
            Ok(Ok((status, _, bytes))) => Attempt::Answered(status, bytes),
        }
    }
}

enum Attempt {
    /// An answer without a `Stripe-Should-Retry` header (or a success).
    Answered(StatusCode, Bytes),
    /// An error answer with Stripe's own word on retrying.
    ShouldRetry(bool, StatusCode, Bytes),
    /// No answer.
    Failed(String),
}

/// 250 ms, then 500 ms: short enough for a webhook answer, long enough for
/// Stripe's lock conflicts to clear.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(250 * u64::from(attempt))
}

fn answer_error(status: StatusCode, body: &[u8]) -> StripeError {
    let parsed: Option<StripeErrorBody> = serde_json::from_slice(body).ok();
    let (code, message) = match parsed {
        Some(b) => (b.error.code, b.error.message),
        None => (None, None),
    };
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return StripeError::Unavailable(format!("Stripe answered {}", status.as_u16()));
    }
    if status == StatusCode::NOT_FOUND {
        return StripeError::NotFound(message.unwrap_or_else(|| "not found".into()));
    }
    if status == StatusCode::UNAUTHORIZED {
        // Stripe's message names the key it was given: never repeat it.
        return StripeError::Unavailable("Stripe refused the configured secret key (401)".into());
    }
    StripeError::Refused {
        status: status.as_u16(),
        code,
        message: message.unwrap_or_else(|| format!("Stripe answered {}", status.as_u16())),
    }
}

/// The kind of a connection failure, without the URL (which is ours anyway)
/// or anything from the request.
fn connection_error(e: &hyper_util::client::legacy::Error) -> &'static str {
    if e.is_connect() {
        "connection failed"
    } else {
        "the connection broke"
    }
}

/// Ids go into paths: only the characters Stripe's ids are made of.
fn path_segment(id: &str) -> Result<&str, StripeError> {
    if !id.is_empty()
        && id.len() <= 255
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id)
    } else {
        Err(StripeError::NotFound("not a Stripe id".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn the_key_decides_the_mode_and_is_never_shown() {
        let live = StripeClient::new(
            key("sk_live_abc"),
            "https://api.stripe.com",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(live.mode(), KeyMode::Live);
        let test =
            StripeClient::new(key("sk_test_abc"), "http://127.0.0.1:9/", Duration::ZERO).unwrap();
        assert_eq!(test.mode(), KeyMode::Test);
        assert_eq!(test.base, "http://127.0.0.1:9");
        assert!(!format!("{test:?}").contains("sk_test_abc"));
        let err = StripeClient::new(key("pk_test_abc"), "https://api.stripe.com", Duration::ZERO)
            .unwrap_err();
        assert!(!err.contains("pk_test_abc"), "{err}");
        assert!(
            StripeClient::new(key("sk_test_abc"), "ftp://x", Duration::ZERO).is_err(),
            "only http(s) bases"
        );
    }

    #[test]
    fn errors_follow_the_status() {
        let body = br#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}"#;
        match answer_error(StatusCode::BAD_REQUEST, body) {
            StripeError::Refused { code, message, .. } => {
                assert_eq!(code.as_deref(), Some("charge_already_refunded"));
                assert_eq!(message, "Charge ch_1 has already been refunded.");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            answer_error(StatusCode::BAD_GATEWAY, b""),
            StripeError::Unavailable(_)
        ));
        assert!(matches!(
            answer_error(StatusCode::NOT_FOUND, b"{}"),
            StripeError::NotFound(_)
        ));
        let unauthorized = br#"{"error":{"message":"Invalid API Key provided: sk_test_***abc"}}"#;
        let shown = answer_error(StatusCode::UNAUTHORIZED, unauthorized).to_string();
        assert!(!shown.contains("sk_test"), "{shown}");
    }

    #[test]
    fn ids_in_paths_are_plain() {
        assert!(path_segment("pi_3MtwBwLkdIwHu7ix28a3tqPa").is_ok());
        assert!(path_segment("pi_1/../../v1/balance").is_err());
        assert!(path_segment("").is_err());
        assert!(path_segment("pi_1?expand=x").is_err());
    }
}
