//! The `config_settings` table: Soroban network configuration entry changes, one wide row per setting with
//! the columns of the other arms at zero/empty, as stellar-etl flattens them (reference, which explains the
//! alias columns: `beam_pipeline/records/changes/config_settings.py`; the column lists:
//! `beam_pipeline/records/tables/config_settings.py`).
//!
//! Protocol 26 (CAP-77) added the frozen-ledger-key and freeze-bypass settings (ids 17-20): their keys are
//! XDR `LedgerKey`s kept as opaque bytes, checked here to be one (stellar-etl decodes and re-encodes them),
//! and their transaction hashes are hex strings.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, ListBuilder, StringBuilder};
use arrow_array::ArrayRef;
use stellar_xdr::curr::{
    ConfigSettingEntry as C, ContractCostParams, EncodedLedgerKey, Hash, LedgerEntryData, LedgerEntryType, LedgerKey,
    Limits, ReadXdr, WriteXdr,
};

use super::common::{reported, ChangeBuilders, ChangeColumns};
use super::extract::{compacted_of_type, EntryChange, ERR};
use crate::arrow_out::{hex, XdrListColumn};
use crate::ints::{Int64Column, Uint64s};
use crate::ledger::{View, MAX_DEPTH};
use crate::records::{Options, RowError, TableBuilder};

/// The field's XDR type, as the reference's lists note it (every column is int64: `Get` widens the value).
#[derive(Clone, Copy)]
enum Ty {
    U32,
    I64,
    U64,
}

/// A column's value in the entry, None when the entry holds another arm (the column is then 0).
type Get = fn(&C) -> Option<i64>;

/// The arm's number itself.
macro_rules! num {
    ($arm:ident) => {
        |c: &C| match c {
            C::$arm(v) => Some(i64::from(*v)),
            _ => None,
        }
    };
}

/// A field of the arm.
macro_rules! field {
    ($arm:ident, $f:ident) => {
        |c: &C| match c {
            C::$arm(v) => Some(i64::from(v.$f)),
            _ => None,
        }
    };
}

use Ty::{I64, U32, U64};

const SCALARS: &[(Ty, Get)] = &[
    (U32, num!(ContractMaxSizeBytes)),
    (I64, field!(ContractComputeV0, ledger_max_instructions)),
    (I64, field!(ContractComputeV0, tx_max_instructions)),
    (I64, field!(ContractComputeV0, fee_rate_per_instructions_increment)),
    (U32, field!(ContractComputeV0, tx_memory_limit)),
    (U32, field!(ContractLedgerCostV0, ledger_max_disk_read_entries)), // ledger_max_read_ledger_entries
    (U32, field!(ContractLedgerCostV0, ledger_max_disk_read_entries)),
    (U32, field!(ContractLedgerCostV0, ledger_max_disk_read_bytes)), // ledger_max_read_bytes
    (U32, field!(ContractLedgerCostV0, ledger_max_disk_read_bytes)),
    (U32, field!(ContractLedgerCostV0, ledger_max_write_ledger_entries)),
    (U32, field!(ContractLedgerCostV0, ledger_max_write_bytes)),
    (U32, field!(ContractLedgerCostV0, tx_max_disk_read_entries)), // tx_max_read_ledger_entries
    (U32, field!(ContractLedgerCostV0, tx_max_disk_read_entries)),
    (U32, field!(ContractLedgerCostV0, tx_max_disk_read_bytes)), // tx_max_read_bytes
    (U32, field!(ContractLedgerCostV0, tx_max_disk_read_bytes)),
    (U32, field!(ContractLedgerCostV0, tx_max_write_ledger_entries)),
    (U32, field!(ContractLedgerCostV0, tx_max_write_bytes)),
    (I64, field!(ContractLedgerCostV0, fee_disk_read_ledger_entry)), // fee_read_ledger_entry
    (I64, field!(ContractLedgerCostV0, fee_disk_read_ledger_entry)),
    (I64, field!(ContractLedgerCostV0, fee_write_ledger_entry)),
    (I64, field!(ContractLedgerCostV0, fee_disk_read1_kb)), // fee_read_1kb
    (I64, field!(ContractLedgerCostExtV0, fee_write1_kb)),  // fee_write_1kb
    (I64, field!(ContractLedgerCostV0, fee_disk_read1_kb)),
    (I64, field!(ContractLedgerCostV0, soroban_state_target_size_bytes)), // bucket_list_target_size_bytes
    (I64, field!(ContractLedgerCostV0, soroban_state_target_size_bytes)),
    (I64, field!(ContractLedgerCostV0, rent_fee1_kb_soroban_state_size_low)), // write_fee_1kb_bucket_list_low
    (I64, field!(ContractLedgerCostV0, rent_fee1_kb_soroban_state_size_low)),
    (I64, field!(ContractLedgerCostV0, rent_fee1_kb_soroban_state_size_high)), // write_fee_1kb_bucket_list_high
    (I64, field!(ContractLedgerCostV0, rent_fee1_kb_soroban_state_size_high)),
    (U32, field!(ContractLedgerCostV0, soroban_state_rent_fee_growth_factor)), // bucket_list_write_fee_growth_factor
    (U32, field!(ContractLedgerCostV0, soroban_state_rent_fee_growth_factor)),
    (I64, field!(ContractHistoricalDataV0, fee_historical1_kb)),
    (U32, field!(ContractEventsV0, tx_max_contract_events_size_bytes)),
    (I64, field!(ContractEventsV0, fee_contract_events1_kb)),
    (U32, field!(ContractBandwidthV0, ledger_max_txs_size_bytes)),
    (U32, field!(ContractBandwidthV0, tx_max_size_bytes)),
    (I64, field!(ContractBandwidthV0, fee_tx_size1_kb)),
];

const SCALARS_2: &[(Ty, Get)] = &[
    (U32, num!(ContractDataKeySizeBytes)),
    (U32, num!(ContractDataEntrySizeBytes)),
    (U32, field!(StateArchival, max_entry_ttl)),
    (U32, field!(StateArchival, min_temporary_ttl)),
    (U32, field!(StateArchival, min_persistent_ttl)),
    (U32, |_| None), // auto_bump_ledgers: a retired setting stellar-etl still emits as 0
    (I64, field!(StateArchival, persistent_rent_rate_denominator)),
    (I64, field!(StateArchival, temp_rent_rate_denominator)),
    (U32, field!(StateArchival, max_entries_to_archive)),
    (U32, field!(StateArchival, live_soroban_state_size_window_sample_size)), // bucket_list_size_window_sample_size
    (U32, field!(StateArchival, live_soroban_state_size_window_sample_size)),
    (U32, field!(StateArchival, live_soroban_state_size_window_sample_period)),
    (U64, field!(StateArchival, eviction_scan_size)),
    (U32, field!(StateArchival, starting_eviction_scan_level)),
    (U32, field!(ContractExecutionLanes, ledger_max_tx_count)),
];

const SCALARS_3: &[(Ty, Get)] = &[
    (U32, field!(ContractParallelComputeV0, ledger_max_dependent_tx_clusters)),
    (U32, field!(ContractLedgerCostExtV0, tx_max_footprint_entries)),
    (U32, field!(ScpTiming, ledger_target_close_time_milliseconds)),
    (U32, field!(ScpTiming, nomination_timeout_initial_milliseconds)),
    (U32, field!(ScpTiming, nomination_timeout_increment_milliseconds)),
    (U32, field!(ScpTiming, ballot_timeout_initial_milliseconds)),
    (U32, field!(ScpTiming, ballot_timeout_increment_milliseconds)),
];

/// The frozen-key list columns (`frozen_ledger_keys`, `..._to_freeze`, `..._to_unfreeze`) of an entry, empty
/// for the other arms.
fn frozen_key_lists(cs: &C) -> [&[EncodedLedgerKey]; 3] {
    match cs {
        C::FrozenLedgerKeys(v) => [v.keys.as_slice(), &[], &[]],
        C::FrozenLedgerKeysDelta(v) => [&[], v.keys_to_freeze.as_slice(), v.keys_to_unfreeze.as_slice()],
        _ => [&[], &[], &[]],
    }
}
const FROZEN_KEY_COLUMNS: [&str; 3] = [
    "frozen_ledger_keys",
    "frozen_ledger_keys_to_freeze",
    "frozen_ledger_keys_to_unfreeze",
];

/// The bypass-transaction list columns (`freeze_bypass_txs`, `..._to_add`, `..._to_remove`), likewise.
fn bypass_tx_lists(cs: &C) -> [&[Hash]; 3] {
    match cs {
        C::FreezeBypassTxs(v) => [v.tx_hashes.as_slice(), &[], &[]],
        C::FreezeBypassTxsDelta(v) => [&[], v.add_txs.as_slice(), v.remove_txs.as_slice()],
        _ => [&[], &[], &[]],
    }
}

/// The keys of a frozen-key column, each checked to be the canonical XDR of a LedgerKey: it decodes whole
/// and re-encodes to the same bytes (so a lenient and a strict decoder agree on what passes; stellar-core
/// writes them from a LedgerKey). The reference's ValueError, in its words, otherwise.
fn encoded_keys(keys: &[EncodedLedgerKey], column: &str, sequence: u32) -> Result<Vec<Vec<u8>>, RowError> {
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let bytes = key.0.as_slice();
            let limits = Limits {
                depth: MAX_DEPTH,
                len: bytes.len(),
            };
            let canonical = LedgerKey::from_xdr(bytes, limits).and_then(|k| k.to_xdr(Limits::none()));
            match canonical {
                Ok(again) if again == bytes => Ok(again),
                _ => Err(RowError::new(
                    "ValueError",
                    format!("ledger {sequence}: {column} key {i} is not the canonical XDR of a LedgerKey"),
                )),
            }
        })
        .collect()
}

/// Cost parameters as stellar-etl's JSON: `[{"ConstTerm":"..","ExtV":"0","LinearTerm":".."},...]`.
fn cost_params(params: Option<&ContractCostParams>) -> String {
    let mut out = String::from("[");
    for (i, p) in params.map(|p| p.0.as_slice()).unwrap_or(&[]).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // ExtensionPoint has only v0
        out.push_str(&format!(
            "{{\"ConstTerm\":\"{}\",\"ExtV\":\"0\",\"LinearTerm\":\"{}\"}}",
            p.const_term, p.linear_term
        ));
    }
    out.push(']');
    out
}

/// The XDR uint64 columns (`Uint64s`), in schema order; both hold the state size window, so the first names a
/// size past int64.
const UINT64_COLUMNS: &[&str] = &["bucket_list_size_window", "live_soroban_state_size_window"];

pub struct Row {
    id: i32,
    scalars: Vec<i64>,
    cpu: String,
    mem: String,
    window: Vec<i64>,
    frozen_keys: [Vec<Vec<u8>>; 3],
    bypass_txs: [Vec<String>; 3],
    change: ChangeColumns,
}

/// One change's row; its XDR uint64 values go through `sizes` (checked once the ledger's rows are built).
fn change_row(change: &EntryChange<'_>, view: &View<'_>, sizes: &mut Uint64s) -> Result<Row, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::ConfigSetting(cs) = &entry.data else {
        return Err(RowError::new(
            ERR,
            "a config setting change holds another entry type".to_string(),
        ));
    };
    let scalars = SCALARS
        .iter()
        .chain(SCALARS_2)
        .chain(SCALARS_3)
        .map(|(_, get)| get(cs).unwrap_or(0))
        .collect();
    let (cpu, mem) = match cs {
        C::ContractCostParamsCpuInstructions(p) => (Some(p), None),
        C::ContractCostParamsMemoryBytes(p) => (None, Some(p)),
        _ => (None, None),
    };
    let window = match cs {
        C::LiveSorobanStateSizeWindow(w) => w.iter().map(|&v| sizes.get(0, v)).collect(),
        _ => Vec::new(),
    };
    let mut frozen_keys: [Vec<Vec<u8>>; 3] = Default::default();
    for ((out, keys), column) in frozen_keys.iter_mut().zip(frozen_key_lists(cs)).zip(FROZEN_KEY_COLUMNS) {
        *out = encoded_keys(keys, column, view.sequence())?;
    }
    let bypass_txs = bypass_tx_lists(cs).map(|hashes| hashes.iter().map(|h| hex(&h.0)).collect());
    Ok(Row {
        id: cs.discriminant() as i32,
        scalars,
        cpu: cost_params(cpu),
        mem: cost_params(mem),
        window,
        frozen_keys,
        bypass_txs,
        change: ChangeColumns::checked(change, entry, view)?,
    })
}

pub struct ConfigSettings {
    id: Int64Column,
    scalars: Vec<Int64Builder>,
    cpu: StringBuilder,
    mem: StringBuilder,
    bucket_list_size_window: ListBuilder<Int64Builder>,
    live_soroban_state_size_window: ListBuilder<Int64Builder>,
    frozen_keys: Vec<XdrListColumn>,
    bypass_txs: Vec<ListBuilder<StringBuilder>>,
    change: ChangeBuilders,
}

impl ConfigSettings {
    pub fn new(opts: &Options) -> Self {
        let binary_xdr = opts.binary_xdr;
        ConfigSettings {
            id: Int64Column::new(),
            scalars: SCALARS
                .iter()
                .chain(SCALARS_2)
                .chain(SCALARS_3)
                .map(|_| Int64Builder::new())
                .collect(),
            cpu: StringBuilder::new(),
            mem: StringBuilder::new(),
            bucket_list_size_window: ListBuilder::new(Int64Builder::new()),
            live_soroban_state_size_window: ListBuilder::new(Int64Builder::new()),
            frozen_keys: FROZEN_KEY_COLUMNS
                .iter()
                .map(|_| XdrListColumn::new(binary_xdr))
                .collect(),
            bypass_txs: (0..3).map(|_| ListBuilder::new(StringBuilder::new())).collect(), // bypass_tx_lists
            change: ChangeBuilders::new(),
        }
    }
}

impl TableBuilder for ConfigSettings {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let mut sizes = Uint64s::new(UINT64_COLUMNS);
        let rows = compacted_of_type(view, &opts.passphrase, LedgerEntryType::ConfigSetting)?
            .iter()
            .map(|c| change_row(c, view, &mut sizes))
            .collect::<Result<Vec<_>, _>>()?;
        sizes.finish()?;
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        self.id.append_value(r.id);
        for (col, v) in self.scalars.iter_mut().zip(r.scalars) {
            col.append_value(v);
        }
        self.cpu.append_value(&r.cpu);
        self.mem.append_value(&r.mem);
        for window in [
            &mut self.bucket_list_size_window,
            &mut self.live_soroban_state_size_window,
        ] {
            window.values().append_slice(&r.window);
            window.append(true);
        }
        for (col, keys) in self.frozen_keys.iter_mut().zip(&r.frozen_keys) {
            col.append(Some(keys.iter().map(Vec::as_slice)));
        }
        for (col, hashes) in self.bypass_txs.iter_mut().zip(&r.bypass_txs) {
            for h in hashes {
                col.values().append_value(h);
            }
            col.append(true);
        }
        self.change.append(&r.change);
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let (n1, n2) = (SCALARS.len(), SCALARS.len() + SCALARS_2.len());
        let mut out: Vec<ArrayRef> = vec![Arc::new(self.id.finish())];
        let mut scalars = self.scalars.iter_mut().map(|c| Arc::new(c.finish()) as ArrayRef);
        out.extend(scalars.by_ref().take(n1));
        out.push(Arc::new(self.cpu.finish()));
        out.push(Arc::new(self.mem.finish()));
        out.extend(scalars.by_ref().take(n2 - n1));
        out.push(Arc::new(self.bucket_list_size_window.finish()));
        out.push(Arc::new(self.live_soroban_state_size_window.finish()));
        out.extend(scalars);
        out.extend(self.frozen_keys.into_iter().map(|c| c.finish()));
        out.extend(self.bypass_txs.iter_mut().map(|c| Arc::new(c.finish()) as ArrayRef));
        out.extend(self.change.finish());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{ContractCostParamEntry, ExtensionPoint};

    #[test]
    fn columns_follow_the_reference_lists() {
        // SCALARS, SCALARS_2, SCALARS_3 of records/tables/config_settings.py
        assert_eq!((SCALARS.len(), SCALARS_2.len(), SCALARS_3.len()), (37, 15, 7));
        let cs = C::ContractEventsV0(stellar_xdr::curr::ConfigSettingContractEventsV0 {
            tx_max_contract_events_size_bytes: 7,
            fee_contract_events1_kb: -9,
        });
        let values: Vec<i64> = SCALARS.iter().map(|(_, get)| get(&cs).unwrap_or(0)).collect();
        // tx_max_contract_events_size_bytes and fee_contract_events_1kb are columns 33 and 34 (1-based)
        assert_eq!((values[32], values[33]), (7, -9));
        assert_eq!(values.iter().filter(|&&v| v != 0).count(), 2);
    }

    #[test]
    fn frozen_keys_must_be_canonical_ledger_keys() {
        use stellar_xdr::curr::{LedgerKeyTtl, StringM};
        let key = LedgerKey::Ttl(LedgerKeyTtl {
            key_hash: Hash([7; 32]),
        });
        let good = key.to_xdr(Limits::none()).unwrap();
        // a data key named "abc": one byte of padding at the end
        let mut data = vec![0, 0, 0, 3, 0, 0, 0, 0];
        data.extend([9; 32]);
        data.extend([0, 0, 0, 3, b'a', b'b', b'c', 0]);
        let name: StringM<64> = "abc".try_into().unwrap();
        assert!(matches!(LedgerKey::from_xdr(&data, Limits::none()), Ok(LedgerKey::Data(d)) if d.data_name.0 == name));
        let padded = {
            let mut d = data.clone();
            *d.last_mut().unwrap() = 7;
            d
        };
        let trailing = [good.as_slice(), &[0]].concat();
        let encoded = |b: &[u8]| EncodedLedgerKey(b.to_vec().try_into().unwrap());
        let Ok(ok) = encoded_keys(&[encoded(&good), encoded(&data)], "frozen_ledger_keys", 5) else {
            panic!("canonical keys refused");
        };
        assert_eq!(ok, vec![good.clone(), data]);
        for bad in [padded, trailing, good[..good.len() - 1].to_vec(), Vec::new()] {
            let err = encoded_keys(&[encoded(&good), encoded(&bad)], "frozen_ledger_keys", 5).unwrap_err();
            assert_eq!(
                (err.class, err.message.as_str()),
                (
                    "ValueError",
                    "ledger 5: frozen_ledger_keys key 1 is not the canonical XDR of a LedgerKey"
                )
            );
        }
    }

    #[test]
    fn cost_params_are_stellar_etl_json() {
        assert_eq!(cost_params(None), "[]");
        let entry = |c, l| ContractCostParamEntry {
            ext: ExtensionPoint::V0,
            const_term: c,
            linear_term: l,
        };
        let params = ContractCostParams(vec![entry(4, 0), entry(-1, i64::MAX)].try_into().unwrap());
        assert_eq!(
            cost_params(Some(&params)),
            r#"[{"ConstTerm":"4","ExtV":"0","LinearTerm":"0"},{"ConstTerm":"-1","ExtV":"0","LinearTerm":"9223372036854775807"}]"#
        );
    }
}
