//! An application whose Stripe is the fake, on one database backend.
//! Include it with `#[path = "../stripe_support/harness.rs"] mod harness;`
//! beside `mod common;` and `mod stripe_support;`.
#![allow(dead_code)]

use std::sync::Arc;

use crate::common::{self, TestApp, TestDb};
use crate::stripe_support::{FakeStripe, WEBHOOK_SECRET, stripe_config};

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
        let mut all = Vec::new();
        for db in common::databases().await {
            all.push(Harness::new(db).await);
        }
        all
    }

    pub fn name(&self) -> &'static str {
        self.app.db.name
    }
}
