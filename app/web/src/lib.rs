//! The payments service of The Markup.
//!
//! Layers: [`http`] (routes, extractors, errors) → [`domain`] (money,
//! payments, refunds, validation) and [`storage`] (pools, queries,
//! migrations, dialects). [`cli`] and [`server`] tie them together.

pub mod cli;
pub mod domain;
pub mod http;
pub mod mail;
pub mod passwords;
pub mod seed;
pub mod server;
pub mod statements;
pub mod storage;
pub mod stripe;
pub mod telemetry;
