//! The ledger-entry change tables (the twins of `beam_pipeline/records/changes/`) and what they share.

pub mod account_signers;
pub mod accounts;
pub mod claimable_balances;
pub mod common;
pub mod extract;
pub mod liquidity_pools;
pub mod offers;
pub mod trustlines;
