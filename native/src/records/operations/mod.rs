//! The `operations` table: one row per operation (reference: `beam_pipeline/records/operations/`).

pub mod changes;
