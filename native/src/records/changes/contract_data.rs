//! The `contract_data` table: Soroban contract-data entry changes, with the Stellar Asset Contract's asset
//! (instance entries) and balances (balance entries) decoded as stellar-etl does (reference, which documents
//! both shapes: `beam_pipeline/records/changes/contract_data.py`). Nonce entries are skipped.

use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::ArrayRef;
use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    AccountId, Asset, ContractDataDurability, ContractDataEntry, LedgerEntryData, LedgerEntryType, Limits, PublicKey,
    ScAddress, ScVal, Uint256, WriteXdr,
};

use super::common::{reported, ChangeBuilders, ChangeColumns};
use super::extract::{compacted_of_type, EntryChange, ERR as CHANGE_ERR};
use crate::arrow_out::{hex, XdrColumn};
use crate::ledger::View;
use crate::records::{Options, RowError, TableBuilder};
use crate::scval::write_json;
use crate::strkey;
use crate::util::assets::{asset_contract_id, credit_asset, extract_asset};

const ERR: &str = "ValueError";

fn xdr<T: WriteXdr>(value: &T) -> Vec<u8> {
    value.to_xdr(Limits::none()).expect("a decoded value re-encodes")
}

fn sym(v: &ScVal) -> Option<&[u8]> {
    match v {
        ScVal::Symbol(s) => Some(s.0.as_slice()),
        _ => None,
    }
}

fn is_asset_info_key(v: &ScVal) -> bool {
    matches!(v, ScVal::Vec(Some(items)) if matches!(items.0.as_slice(), [one] if sym(one) == Some(b"AssetInfo")))
}

/// The asset of a verified SAC instance entry, else None (stellar-etl's AssetFromContractData).
fn asset_from_contract_data(cd: &ContractDataEntry, network_id: &[u8; 32], native_id: &[u8; 32]) -> Option<Asset> {
    let (ScVal::LedgerKeyContractInstance, ScVal::ContractInstance(instance)) = (&cd.key, &cd.val) else {
        return None;
    };
    let storage = instance.storage.as_ref()?;
    let info = storage.0.iter().find(|e| is_asset_info_key(&e.key)).map(|e| &e.val)?;
    let ScVal::Vec(Some(info)) = info else { return None };
    let [kind, body] = info.0.as_slice() else { return None };
    let contract_id = match &cd.contract {
        ScAddress::Contract(c) => Some(&c.0 .0),
        _ => None,
    };
    let kind = sym(kind);
    if kind == Some(b"Native") {
        if contract_id == Some(native_id) {
            return Some(Asset::Native);
        }
        // else: read on as the reference does (a credit body under a Native tag still counts if it verifies)
    } else if kind != Some(b"AlphaNum4") && kind != Some(b"AlphaNum12") {
        return None;
    }
    let ScVal::Map(Some(body)) = body else { return None };
    let [code_entry, issuer_entry] = body.0.as_slice() else {
        return None;
    };
    if sym(&code_entry.key) != Some(b"asset_code") {
        return None;
    }
    let ScVal::String(code) = &code_entry.val else {
        return None;
    };
    let code = code.0.as_slice();
    if code.is_empty() || sym(&issuer_entry.key) != Some(b"issuer") {
        return None;
    }
    let ScVal::Bytes(issuer) = &issuer_entry.val else {
        return None;
    };
    // Go's NewCreditAsset: a 32-byte issuer and a 1-12 byte code (the empty code is refused above).
    let issuer: [u8; 32] = issuer.0.as_slice().try_into().ok()?;
    let asset = credit_asset(code, AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(issuer))))?;
    if contract_id != asset_contract_id(&asset, network_id).ok().as_ref() {
        return None;
    }
    Some(asset)
}

/// (type, code, issuer) of the asset, the code without NULs (as the reference renders it).
fn asset_columns(asset: &Asset) -> (&'static str, String, String) {
    let (kind, code, issuer) = extract_asset(asset);
    (kind, code.replace('\0', ""), issuer)
}

/// (holder contract id, amount) of a SAC-shaped balance entry, else None (ContractBalanceFromContractData).
fn balance_from_contract_data(cd: &ContractDataEntry) -> Option<([u8; 32], u128)> {
    let ScVal::Vec(Some(key)) = &cd.key else { return None };
    let [tag, holder] = key.0.as_slice() else { return None };
    if sym(tag) != Some(b"Balance") {
        return None;
    }
    let ScVal::Address(ScAddress::Contract(holder)) = holder else {
        return None;
    };
    let ScVal::Map(Some(val)) = &cd.val else { return None };
    let [amount, authorized, clawback] = val.0.as_slice() else {
        return None;
    };
    if sym(&amount.key) != Some(b"amount")
        || sym(&authorized.key) != Some(b"authorized")
        || !matches!(authorized.val, ScVal::Bool(_))
        || sym(&clawback.key) != Some(b"clawback")
        || !matches!(clawback.val, ScVal::Bool(_))
    {
        return None;
    }
    let ScVal::I128(amount) = &amount.val else { return None };
    if amount.hi < 0 {
        return None;
    }
    Some((holder.0 .0, ((amount.hi as u128) << 64) | amount.lo as u128))
}

pub struct Row {
    contract_id: String,
    key_type: &'static str,
    durability: &'static str,
    asset: Option<(&'static str, String, String)>,
    balance: Option<(String, String)>,
    change: ChangeColumns,
    ledger_key_hash: [u8; 32],
    key: Vec<u8>,
    key_decoded: String,
    val: Vec<u8>,
    val_decoded: String,
    contract_data_xdr: Vec<u8>,
    key_bytes: Vec<u8>,
}

/// The per-network values every row needs: the network id and the native asset's SAC id.
pub struct Network {
    id: [u8; 32],
    native_sac: [u8; 32],
}

impl Network {
    pub fn new(passphrase: &str) -> Self {
        let id = crate::ledger::network_id(passphrase);
        Network {
            id,
            native_sac: asset_contract_id(&Asset::Native, &id).expect("the native asset encodes"),
        }
    }
}

/// One row of a contract-data change, or None for a nonce entry.
fn change_row(change: &EntryChange<'_>, view: &View<'_>, net: &Network) -> Result<Option<Row>, RowError> {
    let entry = reported(change)?;
    let LedgerEntryData::ContractData(cd) = &entry.data else {
        return Err(RowError::new(
            CHANGE_ERR,
            "a contract data change holds another entry type".to_string(),
        ));
    };
    if matches!(cd.key, ScVal::LedgerKeyNonce(_)) {
        return Ok(None);
    }
    let key_bytes = change.key_bytes.as_slice();
    let ledger_key_hash: [u8; 32] = Sha256::digest(key_bytes).into();
    let ScAddress::Contract(contract) = &cd.contract else {
        return Err(RowError::new(
            ERR,
            format!(
                "ledger {}: contract data {} is not owned by a contract",
                view.sequence(),
                hex(&ledger_key_hash)
            ),
        ));
    };
    let asset = asset_from_contract_data(cd, &net.id, &net.native_sac).map(|a| asset_columns(&a));
    let balance = balance_from_contract_data(cd)
        .map(|(holder, amount)| (strkey::encode(strkey::CONTRACT, &holder), amount.to_string()));
    let mut key_decoded = String::new();
    write_json(&cd.key, &mut key_decoded);
    let mut val_decoded = String::new();
    write_json(&cd.val, &mut val_decoded);
    let val = xdr(&cd.val);
    // The LedgerKey is (type, contract address, key, durability) and the entry (ext v0, contract address, key,
    // durability, val): both XDRs are slices of the key's, which is at hand.
    let (key, contract_data_xdr) = match (key_bytes.get(40..key_bytes.len().saturating_sub(4)), key_bytes.get(4..)) {
        (Some(key), Some(after_type)) if !key.is_empty() => {
            let mut data_xdr = Vec::with_capacity(4 + after_type.len() + val.len());
            data_xdr.extend_from_slice(&[0, 0, 0, 0]);
            data_xdr.extend_from_slice(after_type);
            data_xdr.extend_from_slice(&val);
            (key.to_vec(), data_xdr)
        }
        _ => (xdr(&cd.key), xdr(cd)),
    };
    Ok(Some(Row {
        contract_id: strkey::encode(strkey::CONTRACT, &contract.0 .0),
        key_type: cd.key.discriminant().name(),
        durability: match cd.durability {
            ContractDataDurability::Temporary => "ContractDataDurabilityTemporary",
            ContractDataDurability::Persistent => "ContractDataDurabilityPersistent",
        },
        asset,
        balance,
        change: ChangeColumns::checked(change, entry, view)?,
        ledger_key_hash,
        key,
        key_decoded,
        val,
        val_decoded,
        contract_data_xdr,
        key_bytes: key_bytes.to_vec(),
    }))
}

pub struct ContractData {
    net: Network,
    contract_id: StringBuilder,
    key_type: StringBuilder,
    durability: StringBuilder,
    asset_code: StringBuilder,
    asset_issuer: StringBuilder,
    asset_type: StringBuilder,
    balance_holder: StringBuilder,
    balance: StringBuilder,
    change: ChangeBuilders,
    ledger_key_hash: StringBuilder,
    key: XdrColumn,
    key_decoded: StringBuilder,
    val: XdrColumn,
    val_decoded: StringBuilder,
    contract_data_xdr: XdrColumn,
    key_bytes: XdrColumn,
}

impl ContractData {
    pub fn new(opts: &Options) -> Self {
        let binary_xdr = opts.binary_xdr;
        ContractData {
            net: Network::new(&opts.passphrase),
            contract_id: StringBuilder::new(),
            key_type: StringBuilder::new(),
            durability: StringBuilder::new(),
            asset_code: StringBuilder::new(),
            asset_issuer: StringBuilder::new(),
            asset_type: StringBuilder::new(),
            balance_holder: StringBuilder::new(),
            balance: StringBuilder::new(),
            change: ChangeBuilders::new(),
            ledger_key_hash: StringBuilder::new(),
            key: XdrColumn::new(binary_xdr),
            key_decoded: StringBuilder::new(),
            val: XdrColumn::new(binary_xdr),
            val_decoded: StringBuilder::new(),
            contract_data_xdr: XdrColumn::new(binary_xdr),
            key_bytes: XdrColumn::new(binary_xdr),
        }
    }
}

impl TableBuilder for ContractData {
    type Row = Row;

    fn rows(&self, view: &View<'_>, opts: &Options) -> Result<Vec<Row>, RowError> {
        let changes = compacted_of_type(view, &opts.passphrase, LedgerEntryType::ContractData)?;
        let mut rows = Vec::with_capacity(changes.len());
        for c in &changes {
            rows.extend(change_row(c, view, &self.net)?);
        }
        Ok(rows)
    }

    fn append(&mut self, r: Row) {
        use std::fmt::Write;
        self.contract_id.append_value(&r.contract_id);
        // Go's String() of xdr.ScValType, e.g. ScValTypeScvLedgerKeyContractInstance
        let _ = write!(self.key_type, "ScValTypeScv{}", r.key_type);
        self.key_type.append_value("");
        self.durability.append_value(r.durability);
        let (asset_type, code, issuer) = r.asset.unwrap_or(("", String::new(), String::new()));
        self.asset_code.append_value(&code);
        self.asset_issuer.append_value(&issuer);
        self.asset_type.append_value(asset_type);
        let (holder, balance) = r.balance.unwrap_or_default();
        self.balance_holder.append_value(&holder);
        self.balance.append_value(&balance);
        self.change.append(&r.change);
        self.ledger_key_hash.append_value(hex(&r.ledger_key_hash));
        self.key.append(Some(&r.key));
        self.key_decoded.append_value(&r.key_decoded);
        self.val.append(Some(&r.val));
        self.val_decoded.append_value(&r.val_decoded);
        self.contract_data_xdr.append(Some(&r.contract_data_xdr));
        self.key_bytes.append(Some(&r.key_bytes));
    }

    fn finish(mut self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = vec![
            Arc::new(self.contract_id.finish()),
            Arc::new(self.key_type.finish()),
            Arc::new(self.durability.finish()),
            Arc::new(self.asset_code.finish()),
            Arc::new(self.asset_issuer.finish()),
            Arc::new(self.asset_type.finish()),
            Arc::new(self.balance_holder.finish()),
            Arc::new(self.balance.finish()),
        ];
        out.extend(self.change.finish());
        out.extend([
            Arc::new(self.ledger_key_hash.finish()) as ArrayRef,
            self.key.finish(),
            Arc::new(self.key_decoded.finish()),
            self.val.finish(),
            Arc::new(self.val_decoded.finish()),
            self.contract_data_xdr.finish(),
            self.key_bytes.finish(),
        ]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{ContractId, ExtensionPoint, Hash, Int128Parts, ScMap, ScMapEntry, ScSymbol, ScVec};

    fn sym(s: &str) -> ScVal {
        ScVal::Symbol(ScSymbol(s.as_bytes().try_into().unwrap()))
    }

    fn balance_entry(holder: ScAddress, hi: i64) -> ContractDataEntry {
        let entry = |k: &str, v: ScVal| ScMapEntry { key: sym(k), val: v };
        let val = ScMap(
            vec![
                entry("amount", ScVal::I128(Int128Parts { hi, lo: 5 })),
                entry("authorized", ScVal::Bool(true)),
                entry("clawback", ScVal::Bool(false)),
            ]
            .try_into()
            .unwrap(),
        );
        ContractDataEntry {
            ext: ExtensionPoint::V0,
            contract: ScAddress::Contract(ContractId(Hash([1; 32]))),
            key: ScVal::Vec(Some(ScVec(
                vec![sym("Balance"), ScVal::Address(holder)].try_into().unwrap(),
            ))),
            durability: ContractDataDurability::Persistent,
            val: ScVal::Map(Some(val)),
        }
    }

    #[test]
    fn sac_balances_of_contract_holders_only() {
        let holder = ScAddress::Contract(ContractId(Hash([2; 32])));
        assert_eq!(
            balance_from_contract_data(&balance_entry(holder.clone(), 1)),
            Some(([2; 32], (1u128 << 64) | 5))
        );
        assert_eq!(balance_from_contract_data(&balance_entry(holder, -1)), None);
        let account = ScAddress::Account(AccountId(PublicKey::PublicKeyTypeEd25519(Uint256([3; 32]))));
        assert_eq!(balance_from_contract_data(&balance_entry(account, 1)), None);
    }

    #[test]
    fn the_native_sac_is_recognised_by_its_contract_id() {
        let net = Network::new("Standalone Network ; February 2017");
        let info = ScMapEntry {
            key: ScVal::Vec(Some(ScVec(vec![sym("AssetInfo")].try_into().unwrap()))),
            val: ScVal::Vec(Some(ScVec(vec![sym("Native"), ScVal::Void].try_into().unwrap()))),
        };
        let instance = |id: [u8; 32]| ContractDataEntry {
            ext: ExtensionPoint::V0,
            contract: ScAddress::Contract(ContractId(Hash(id))),
            key: ScVal::LedgerKeyContractInstance,
            durability: ContractDataDurability::Persistent,
            val: ScVal::ContractInstance(stellar_xdr::curr::ScContractInstance {
                executable: stellar_xdr::curr::ContractExecutable::StellarAsset,
                storage: Some(ScMap(vec![info.clone()].try_into().unwrap())),
            }),
        };
        // stellar_sdk: Asset.native().contract_id("Standalone Network ; February 2017") is CDMLFMKM...
        assert!(strkey::encode(strkey::CONTRACT, &net.native_sac).starts_with("CDMLFMKM"));
        let found = asset_from_contract_data(&instance(net.native_sac), &net.id, &net.native_sac);
        assert_eq!(found, Some(Asset::Native));
        assert_eq!(
            asset_from_contract_data(&instance([9; 32]), &net.id, &net.native_sac),
            None
        );
    }
}
