//! Byte-level text helpers every layer uses: ANSI escape sequences and checked ASCII.

pub mod ansi;
pub mod ascii;
