//! Helpers several tables share (the twins of `beam_pipeline/util/*.py`).

pub mod accounts;
pub mod amounts;
pub mod assets;
pub mod farmhash;
pub mod goformat;
pub mod pyjson;
