//! The ledger-entry change tables (the twins of `beam_pipeline/records/changes/`) and what they share.

pub mod account_signers;
pub mod accounts;
pub mod common;
pub mod extract;
