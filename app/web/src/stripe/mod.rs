//! Stripe, the payment processor: webhook signatures so far.

pub mod signature;
