//! The native core of `beam_pipeline`: raw `LedgerCloseMetaBatch` XDR in, Arrow record batches out.
//!
//! The Python boundary is `python.rs` (feature `python`, on in the extension build); everything else is plain
//! Rust, tested by `cargo test` without Python.
//! The Python reference of each table is `beam_pipeline/records/<same path>.py`.

pub mod arrow_out;
pub mod ints;
pub mod ledger;
pub mod records;
pub mod scval;
pub mod spans;
pub mod strkey;
pub mod util;

#[cfg(feature = "python")]
mod python;
