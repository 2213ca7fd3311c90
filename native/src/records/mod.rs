//! Tables, one module per table (the twins of `beam_pipeline/records/*.py`), and what they share.

use arrow_array::ArrayRef;

use crate::ledger::{Decoded, View};

pub mod assets;
pub mod changes;
pub mod contract_events;
pub mod effects;
pub mod ledgers;
pub mod operations;
pub mod token_transfers;
pub mod trades;
pub mod transactions;

/// The tables this build implements; the others stay on the Python path.
pub const TABLES: &[&str] = &[
    "ledgers",
    "transactions",
    "contract_events",
    "operations",
    "token_transfers",
    "accounts",
    "account_signers",
    "trustlines",
    "offers",
    "liquidity_pools",
    "claimable_balances",
    "contract_data",
    "contract_code",
    "config_settings",
    "ttl",
    "restored_keys",
    "ledger_entry_changes",
    "effects",
    "trades",
    "assets",
];

pub struct Options {
    pub passphrase: String,
    pub binary_xdr: bool,
}

/// Why one ledger's rows failed: the Python exception class the reference raises, and its message.
pub struct LedgerError {
    pub position: usize,
    pub class: String,
    pub message: String,
}

/// An error of a table's transform, before the ledger's position is known.
pub struct RowError {
    pub class: &'static str,
    pub message: String,
}

impl RowError {
    pub fn new(class: &'static str, message: String) -> Self {
        RowError { class, message }
    }
}

pub struct Built {
    pub columns: Vec<ArrayRef>,
    /// Row offset of each ledger's rows: one more entry than ledgers built.
    pub offsets: Vec<i64>,
    pub error: Option<LedgerError>,
}

/// A table: rows of one ledger computed first (so a failing ledger leaves nothing half-appended), then
/// appended to the column builders.
pub trait TableBuilder {
    type Row;
    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Self::Row>, RowError>;
    fn append(&mut self, row: Self::Row);
    fn finish(self) -> Vec<ArrayRef>;
}

fn run<T: TableBuilder>(mut table: T, blob: &Decoded, data: &[u8], positions: &[usize], opts: &Options) -> Built {
    let mut offsets = vec![0i64];
    let mut error = None;
    for (i, &p) in positions.iter().enumerate() {
        let view = match blob.spans.get(p) {
            Some(spans) => View::with_raw(&blob.metas[p], data, spans),
            None => View::new(&blob.metas[p]),
        };
        match table.rows(&view, opts) {
            Ok(rows) => {
                let n = rows.len() as i64;
                for row in rows {
                    table.append(row);
                }
                offsets.push(offsets.last().copied().unwrap_or(0) + n);
            }
            Err(e) => {
                error = Some(LedgerError {
                    position: i,
                    class: e.class.to_string(),
                    message: e.message,
                });
                break;
            }
        }
    }
    Built {
        columns: table.finish(),
        offsets,
        error,
    }
}

/// One table's columns for the ledgers at `positions` of a decoded blob; `data` is the blob's bytes, which it was
/// decoded from (its spans point into them; other bytes would give other raw XDR values, never a panic).
pub fn build(table: &str, metas: &Decoded, data: &[u8], positions: &[usize], opts: &Options) -> Result<Built, String> {
    use changes::*;
    macro_rules! table {
        ($builder:expr) => {
            Ok(run($builder, metas, data, positions, opts))
        };
    }
    match table {
        "ledgers" => table!(ledgers::Ledgers::new(opts)),
        "transactions" => table!(transactions::Transactions::new(opts)),
        "contract_events" => table!(contract_events::ContractEvents::new(opts)),
        "operations" => table!(operations::Operations::new(opts)),
        "token_transfers" => table!(token_transfers::TokenTransfers::new(opts)),
        "effects" => table!(effects::Effects::new(opts)),
        "trades" => table!(trades::Trades::new(opts)),
        "assets" => table!(assets::Assets::new(opts)),
        "accounts" => table!(accounts::Accounts::new(opts)),
        "account_signers" => table!(account_signers::AccountSigners::new(opts)),
        "trustlines" => table!(trustlines::Trustlines::new(opts)),
        "offers" => table!(offers::Offers::new(opts)),
        "liquidity_pools" => table!(liquidity_pools::LiquidityPools::new(opts)),
        "claimable_balances" => table!(claimable_balances::ClaimableBalances::new(opts)),
        "contract_data" => table!(contract_data::ContractData::new(opts)),
        "contract_code" => table!(contract_code::ContractCode::new(opts)),
        "config_settings" => table!(config_settings::ConfigSettings::new(opts)),
        "ttl" => table!(ttl::Ttl::new(opts)),
        "restored_keys" => table!(restored_keys::RestoredKeys::new(opts)),
        "ledger_entry_changes" => table!(ledger_entry_changes::Entries::new(opts)),
        other => Err(format!("table {other:?} is not implemented natively")),
    }
}

/// A Total Order ID (`beam_pipeline/util/toid.py`).
pub fn toid(ledger: u32, tx_order: u32, op_index: u32) -> Result<i64, String> {
    if tx_order >= 1 << 20 {
        return Err(format!(
            "transaction order {tx_order} out of range for a TOID (ledger {ledger})"
        ));
    }
    if op_index >= 1 << 12 {
        return Err(format!(
            "operation index {op_index} out of range for a TOID (ledger {ledger})"
        ));
    }
    if ledger >= 1 << 31 {
        return Err(format!("ledger {ledger} out of range for a TOID"));
    }
    Ok(((ledger as i64) << 32) | ((tx_order as i64) << 12) | op_index as i64)
}
