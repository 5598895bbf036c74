//! Results delivery by webhook: signing and its verification helper ([`signature`]),
//! secrets encrypted at rest ([`secret`]), and the delivery worker over the persisted
//! outbox ([`deliver`]; the SQL is in [`crate::outbox`]), and the SSRF filter on endpoint
//! URLs and resolved addresses ([`ssrf`]).

pub mod deliver;
pub mod secret;
pub mod signature;
pub mod ssrf;

pub use signature::{SignatureError, sign, signature_header, verify};
