//! Year-end giving statements: the PDF (`pdf`), read from the ledger by
//! [`crate::storage::Store::statement`].

pub mod pdf;

pub use pdf::{Issuer, render};
