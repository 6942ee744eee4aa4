//! drainpipe turns Heroku log-drain captures into typed `Heroku.Runtime` records.
//!
//! Data flows one way, and the modules follow it:
//!
//! ```text
//! source ─▶ split ─▶ record ─▶ encode ─▶ sink
//! (bytes)   (units)  (fields)  (NDJSON,  (stdout, files,
//!                               CSV)      reports)
//!            └──────────── pipeline runs them ────────────┘
//! ```
//!
//! - [`source`]: inputs (files, directories, stdin), gzip, which format an input is;
//! - [`split`]: incremental splitters that cut bytes into units (octet frames, syslog lines,
//!   `heroku logs` messages, HTTP requests) and rejected regions;
//! - [`record`]: a unit's bytes parsed into a [`record::Record`], borrowing from them;
//! - [`encode`]: records to NDJSON or CSV bytes, Panther's fields included;
//! - [`sink`]: where results go, in input order (converted records, validation reports);
//! - [`pipeline`]: runs those stages in parallel over bounded blocks.
//!
//! Below them all, [`diag`] names every problem the data can have (one [`diag::Problem`] type,
//! one table of codes, every message text in one file) and [`text`] holds byte helpers. A
//! module only uses modules to its left in the picture, and those two. The binary in `main.rs`
//! is a command-line shell around this library. README.md and `docs/` hold the rules the code
//! follows; comments cite them.

#![deny(missing_docs)]

pub mod diag;
pub mod encode;
pub mod pipeline;
pub mod record;
pub mod sink;
pub mod source;
pub mod split;
pub mod text;
