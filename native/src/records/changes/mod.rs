//! The ledger-entry change tables (the twins of `beam_pipeline/records/changes/`).

pub mod config_settings;
pub mod contract_code;
pub mod contract_data;
pub mod ledger_entry_changes;
pub mod restored_keys;
pub mod standin;
pub mod ttl;
