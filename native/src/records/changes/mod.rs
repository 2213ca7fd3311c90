//! The ledger-entry change tables (the twins of `beam_pipeline/records/changes/`) and what they share.

pub mod account_signers;
pub mod accounts;
pub mod claimable_balances;
pub mod common;
pub mod config_settings;
pub mod contract_code;
pub mod contract_data;
pub mod extract;
pub mod ledger_entry_changes;
pub mod liquidity_pools;
pub mod offers;
pub mod restored_keys;
pub mod trustlines;
pub mod ttl;
