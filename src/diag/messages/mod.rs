//! Every message text drainpipe reports about data, in one module: framing, lines and
//! inputs, HTTP captures, records.
//!
//! Each constructor takes the offset and the facts and returns a [`Problem`] with its code, so a
//! splitter or parser says *what* it found and this module says *how* that reads. Input bytes are
//! always shown through [`quote`](crate::diag::quote::quote) (escaped, cut short, drain tokens masked). Texts are part of
//! the output users see and tests pin (`tests/validate.rs` has one golden line per code): change
//! them here, deliberately.

mod framing;
mod http;
mod inputs;
mod records;

pub use framing::*;
pub use http::*;
pub use inputs::*;
pub use records::*;

use super::{Code, Problem};

/// How much of an offending line a `garbage` message quotes.
pub const GARBAGE_QUOTE: usize = 40;
/// How much of what follows an over-long frame a `frame-overrun` message quotes.
pub const OVERRUN_QUOTE: usize = 24;
/// How many digits of an over-long LEN a message quotes.
pub const LEN_QUOTE: usize = 32;
/// How much of a line a `heroku logs` or HTTP message quotes.
pub const LINE_QUOTE: usize = 40;

/// A problem: the one constructor the others go through.
fn p(code: Code, at: usize, message: String) -> Problem {
    Problem::new(code, at, message)
}
