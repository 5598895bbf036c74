//! # trustcap-verifier
//!
//! The HTTP service of TrustCap. A customer backend creates a verification session with
//! its API key and receives a short-lived client token; the browser SDK uses that token
//! to register a per-session Ed25519 key, fetch single-use nonces and upload signed
//! captures. Every upload is checked with [`trustcap_protocol::verify_capture`], its
//! images are sniffed, measured and decoded under limits ([`intake`]), and the capture
//! is stored together with the nonce consumption in one transaction ([`db`]).
//!
//! Accepted sessions are verified by the pipeline: a durable job queue in the database
//! ([`queue`]), pluggable checks ([`checks`]), per-tenant versioned rules and decisions
//! ([`rules`]), orchestrated as an explicit state machine
//! ([`domain::SessionStatus`], [`pipeline`]). Results reach the tenant by polling (with
//! ETag) and by signed webhooks from a persisted outbox ([`outbox`], [`webhook`]).
//! Images live in an object store ([`storage`]). SQLite by default, PostgreSQL supported.
//!
//! Entry points: [`startup::Application`] (bind + serve + workers) and
//! [`startup::router`] (the `axum::Router`), configured from [`config::Cli`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
pub mod checks;
pub mod clock;
pub mod config;
pub mod console;
pub mod credentials;
pub mod db;
pub mod domain;
pub mod erasure;
pub mod error;
pub mod extract;
pub mod intake;
pub mod openapi;
pub mod outbox;
pub mod pipeline;
pub mod queue;
pub mod routes;
pub mod rules;
pub mod screening;
pub mod startup;
pub mod storage;
pub mod time;
pub mod vault;
pub mod webhook;

pub use config::{Cli, Command, ServeArgs, ServiceSecret, load_or_create_secret};
pub use error::AppError;
pub use startup::{AppState, Application, Services, init_tracing, router};
