//! The JSON API driven in-process (`oneshot`), against every available backend.

#[path = "../common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, payment_body};
use serde_json::{Value, json};

mod document;
mod listing;
mod people;
mod recording;
