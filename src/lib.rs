//! drainpipe turns Heroku log-drain captures into typed `Heroku.Runtime` records.
//!
//! Data flows one way: [`input`] (bytes from files, directories, stdin, gzip) →
//! [`framer`] (RFC 6587 octet-counted frames) → [`parser`] (the RFC 5424 header, zero-copy) →
//! [`writer`] (NDJSON, CSV) or [`report`] (validation). [`pipeline`] runs those stages in
//! parallel over bounded blocks and keeps the output in input order; [`output`] is convert's
//! destination side. The binary in `main.rs` is only a command-line shell around this.

pub mod ansi;
pub mod detect;
pub mod error;
pub mod framer;
pub mod http;
pub mod input;
pub mod lines;
pub mod output;
pub mod parser;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod splitter;
pub mod timestamp;
pub mod writer;

pub use error::{Code, Diagnostic, Severity};
pub use parser::{parse, Record};
