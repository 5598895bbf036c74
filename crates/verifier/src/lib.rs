//! # trustcap-verifier
//!
//! The HTTP service of TrustCap. A customer backend creates a verification session with
//! its API key and receives a short-lived client token; the browser SDK uses that token
//! to register a per-session Ed25519 key, fetch single-use nonces and upload signed
//! captures. Every upload is checked with [`trustcap_protocol::verify_capture`], its
//! images are sniffed, measured and decoded under limits ([`intake`]), and the capture
//! is stored together with the nonce consumption in one transaction ([`db`]).
//!
//! Entry points: [`startup::Application`] (bind + serve) and [`startup::router`] (the
//! `axum::Router`), configured from [`config::Cli`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod extract;
pub mod intake;
pub mod routes;
pub mod startup;
pub mod time;

pub use config::{Cli, Command, ServeArgs, load_or_create_secret};
pub use error::AppError;
pub use startup::{AppState, Application, init_tracing, router};
