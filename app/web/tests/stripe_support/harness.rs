//! An application whose Stripe is the fake, on one database backend.
//! Include it with `#[path = "../stripe_support/harness.rs"] mod harness;`
//! beside `mod common;` and `mod stripe_support;`.
#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::Value;

use crate::common::{self, Response, TestApp, TestDb};
use crate::stripe_support::{FakeStripe, WEBHOOK_SECRET, now, sign, stripe_config};

/// Posts `body` to `app`'s webhook with this `Stripe-Signature` (none when
/// `None`).
pub async fn post_webhook(app: &TestApp, body: &[u8], signature: Option<&str>) -> Response {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/webhooks/stripe")
        .header("content-type", "application/json");
    if let Some(s) = signature {
        req = req.header("stripe-signature", s);
    }
    app.send(req.body(Body::from(body.to_vec())).unwrap()).await
}

/// Delivers `event` to `app` signed now, as Stripe would.
pub async fn deliver_to(app: &TestApp, event: &Value) -> Response {
    let body = serde_json::to_vec(event).unwrap();
    let signature = sign(WEBHOOK_SECRET, now(), &body);
    post_webhook(app, &body, Some(&signature)).await
}

/// The application and the fake Stripe it talks to.
pub struct Harness {
    pub app: TestApp,
    pub fake: FakeStripe,
}

impl Harness {
    pub async fn new(db: TestDb) -> Harness {
        let fake = FakeStripe::start().await;
        let mut app = TestApp::new(db).await;
        let mut state = common::state(app.db.store.clone());
        state.stripe = Some(Arc::new(stripe_config(&fake, WEBHOOK_SECRET)));
        app.router = payments::http::router(state);
        Harness { app, fake }
    }

    pub async fn sqlite() -> Harness {
        Harness::new(common::sqlite_db().await).await
    }

    /// One for each available backend.
    pub async fn all() -> Vec<Harness> {
        common::on_every_backend(Harness::new).await
    }

    pub fn name(&self) -> &'static str {
        self.app.db.name
    }

    /// Posts `body` to the webhook with this `Stripe-Signature` (none when `None`).
    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> Response {
        post_webhook(&self.app, body, signature).await
    }

    /// Delivers `event` signed now, as Stripe would.
    pub async fn deliver(&self, event: &Value) -> Response {
        deliver_to(&self.app, event).await
    }
}
