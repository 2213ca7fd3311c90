//! Helpers several tables share (the twins of `beam_pipeline/util/*.py`).

pub mod accounts;
