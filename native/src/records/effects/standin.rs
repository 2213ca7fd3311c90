//! MERGE: minimal stand-ins for shared ports that other helpers own, used only until their branches land.
//! Each item names the module that replaces it; this whole file goes away at the merge.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    AccountEntry, AccountEntryExt, AccountEntryExtensionV1Ext, AccountId, Asset, ClaimAtom, ClaimableBalanceId,
    ContractEvent, ContractEventBody, ContractEventType, ContractIdPreimage, Hash, HashIdPreimage,
    HashIdPreimageContractId, LedgerEntry, LedgerEntryChange, LedgerEntryExt, LedgerEntryType, Limits,
    LiquidityPoolParameters, PathPaymentStrictReceiveResult, PublicKey, ScAddress, ScVal, TransactionMeta,
    TransactionResultResult, Uint256, WriteXdr,
};

use crate::arrow_out::{go_string, hex};
use crate::ledger::Tx;
use crate::strkey;

// ---- MERGE: replace with records::operations::changes (n-ops) ----------------------------------------------

/// One entry's state before (None if created/restored) and after (None if removed) an operation.
pub struct Change<'a> {
    pub kind: LedgerEntryType,
    pub pre: Option<&'a LedgerEntry>,
    pub post: Option<&'a LedgerEntry>,
}

fn pair_changes(changes: &[LedgerEntryChange]) -> Result<Vec<Change<'_>>, String> {
    let mut out = Vec::new();
    for (i, change) in changes.iter().enumerate() {
        match change {
            LedgerEntryChange::State(_) => continue,
            LedgerEntryChange::Created(e) | LedgerEntryChange::Restored(e) => out.push(Change {
                kind: e.data.discriminant(),
                pre: None,
                post: Some(e),
            }),
            LedgerEntryChange::Updated(_) | LedgerEntryChange::Removed(_) => {
                let pre = match i.checked_sub(1).map(|j| &changes[j]) {
                    Some(LedgerEntryChange::State(e)) | Some(LedgerEntryChange::Restored(e)) => e,
                    _ => {
                        let name = match change {
                            LedgerEntryChange::Updated(_) => "LEDGER_ENTRY_UPDATED",
                            _ => "LEDGER_ENTRY_REMOVED",
                        };
                        return Err(format!("ledger entry change {i} ({name}) has no preceding state"));
                    }
                };
                let post = match change {
                    LedgerEntryChange::Updated(e) => Some(e),
                    _ => None,
                };
                out.push(Change {
                    kind: pre.data.discriminant(),
                    pre: Some(pre),
                    post,
                });
            }
        }
    }
    if out.len() > 1 {
        let mut keyed: Vec<(Vec<u8>, Change<'_>)> = out
            .into_iter()
            .map(|c| {
                let entry = c.pre.or(c.post).expect("a change has a side");
                (entry.to_key().to_xdr(Limits::none()).unwrap_or_default(), c)
            })
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        out = keyed.into_iter().map(|(_, c)| c).collect();
    }
    Ok(out)
}

/// The changes of operation `index` of a transaction (errors: the ValueError message).
pub fn operation_changes<'a>(tx: &Tx<'a>, index: usize, protocol: u32) -> Result<Vec<Change<'a>>, String> {
    if protocol <= 12 && matches!(tx.result_pair.result.result, TransactionResultResult::TxInternalError) {
        return Ok(Vec::new());
    }
    let changes = match tx.meta {
        TransactionMeta::V0(ops) => ops.get(index).map(|m| &m.changes),
        TransactionMeta::V1(m) => m.operations.get(index).map(|m| &m.changes),
        TransactionMeta::V2(m) => m.operations.get(index).map(|m| &m.changes),
        TransactionMeta::V3(m) => m.operations.get(index).map(|m| &m.changes),
        TransactionMeta::V4(m) => m.operations.get(index).map(|m| &m.changes),
    };
    match changes {
        None => Ok(Vec::new()),
        Some(c) => pair_changes(c.0.as_slice()),
    }
}

pub fn sponsoring_id(entry: &LedgerEntry) -> Option<&AccountId> {
    match &entry.ext {
        LedgerEntryExt::V1(v1) => v1.sponsoring_id.0.as_ref(),
        LedgerEntryExt::V0 => None,
    }
}

/// Signer strkey -> sponsor address, for sponsored signers (errors: the ValueError of the strict zip).
pub fn signer_sponsors(account: &AccountEntry) -> Result<BTreeMap<String, String>, String> {
    let AccountEntryExt::V1(v1) = &account.ext else {
        return Ok(BTreeMap::new());
    };
    let AccountEntryExtensionV1Ext::V2(v2) = &v1.ext else {
        return Ok(BTreeMap::new());
    };
    let ids = &v2.signer_sponsoring_i_ds;
    if ids.len() != account.signers.len() {
        let which = if ids.len() < account.signers.len() {
            "shorter"
        } else {
            "longer"
        };
        return Err(format!("zip() argument 2 is {which} than argument 1"));
    }
    let mut out = BTreeMap::new();
    for (signer, sponsor) in account.signers.iter().zip(ids.iter()) {
        if let Some(id) = &sponsor.0 {
            out.insert(strkey::signer(&signer.key), strkey::account_id(id));
        }
    }
    Ok(out)
}

// ---- MERGE: replace with util::assets (n-ops) ---------------------------------------------------------------

fn code_text(code: &[u8]) -> String {
    let end = code.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    go_string(&code[..end])
}

/// (type, code, issuer); code and issuer are "" for the native asset.
pub fn extract_asset(asset: &Asset) -> (&'static str, String, String) {
    match asset {
        Asset::Native => ("native", String::new(), String::new()),
        Asset::CreditAlphanum4(a) => (
            "credit_alphanum4",
            code_text(&a.asset_code.0),
            strkey::account_id(&a.issuer),
        ),
        Asset::CreditAlphanum12(a) => (
            "credit_alphanum12",
            code_text(&a.asset_code.0),
            strkey::account_id(&a.issuer),
        ),
    }
}

pub fn canonical_asset(asset: &Asset) -> String {
    match asset {
        Asset::Native => "native".to_string(),
        _ => {
            let (_, code, issuer) = extract_asset(asset);
            format!("{code}:{issuer}")
        }
    }
}

pub fn pool_id_from_params(params: &LiquidityPoolParameters) -> [u8; 32] {
    Sha256::digest(params.to_xdr(Limits::none()).unwrap_or_default()).into()
}

pub fn pool_id_strkey(pool_id: &[u8; 32]) -> String {
    strkey::encode(11 << 3, pool_id)
}

pub fn asset_contract_id(asset: &Asset, passphrase: &str) -> [u8; 32] {
    let preimage = HashIdPreimage::ContractId(HashIdPreimageContractId {
        network_id: Hash(crate::ledger::network_id(passphrase)),
        contract_id_preimage: ContractIdPreimage::Asset(asset.clone()),
    });
    Sha256::digest(preimage.to_xdr(Limits::none()).unwrap_or_default()).into()
}

// ---- MERGE: replace with util::goformat (n-ops) -------------------------------------------------------------

const GO_ABS_TO_UNIX: i128 = 9223372028683721448;

fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (month <= 2) as i128, month, day)
}

pub fn go_rfc3339(epoch: i64) -> String {
    let unix = (epoch as i128 + GO_ABS_TO_UNIX).rem_euclid(1 << 64) - GO_ABS_TO_UNIX;
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    let (year, month, day) = civil_from_days(days);
    let year_text = if year < 0 {
        format!("-{:04}", -year)
    } else {
        format!("{year:04}")
    };
    let text = format!(
        "{year_text}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    );
    if year > 9999 {
        format!("+{text}")
    } else {
        text
    }
}

// ---- MERGE: replace with records::operations::claimable (n-ops) --------------------------------------------

pub fn balance_id_hex(id: &ClaimableBalanceId) -> String {
    let ClaimableBalanceId::ClaimableBalanceIdTypeV0(h) = id;
    format!("00000000{}", hex(&h.0))
}

// ---- MERGE: replace with records::operations::payments (n-ops) ---------------------------------------------

fn claim_bought(atom: &ClaimAtom) -> (&Asset, i64) {
    match atom {
        ClaimAtom::V0(a) => (&a.asset_bought, a.amount_bought),
        ClaimAtom::OrderBook(a) => (&a.asset_bought, a.amount_bought),
        ClaimAtom::LiquidityPool(a) => (&a.asset_bought, a.amount_bought),
    }
}

pub fn strict_receive_send_amount(result: &PathPaymentStrictReceiveResult) -> i128 {
    let PathPaymentStrictReceiveResult::Success(success) = result else {
        return 0;
    };
    let Some(first) = success.offers.first() else {
        return success.last.amount as i128;
    };
    let first_asset = extract_asset(claim_bought(first).0);
    let mut total: i128 = 0;
    for atom in success.offers.iter() {
        let (asset, amount) = claim_bought(atom);
        if extract_asset(asset) != first_asset {
            break;
        }
        total += amount as i128;
    }
    total
}

// ---- MERGE: replace with records::operations::soroban (n-ops) ----------------------------------------------

/// A SAC balance change: parties, event name, amount (7-decimal text) and the asset.
pub struct SacChange {
    pub from: Option<ScAddress>,
    pub to: Option<ScAddress>,
    pub kind: &'static str,
    pub amount: i128,
    pub asset: Asset,
}

fn parse_canonical_asset(text: &[u8]) -> Option<Asset> {
    if text == b"native" {
        return Some(Asset::Native);
    }
    let parts: Vec<&[u8]> = text.split(|&b| b == b':').collect();
    let [code, issuer] = parts.as_slice() else {
        return None;
    };
    let key = strkey_decode_account(issuer)?;
    let issuer = AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key)));
    if code.len() <= 4 {
        let mut c = [0u8; 4];
        c[..code.len()].copy_from_slice(code);
        Some(Asset::CreditAlphanum4(stellar_xdr::curr::AlphaNum4 {
            asset_code: stellar_xdr::curr::AssetCode4(c),
            issuer,
        }))
    } else if code.len() <= 12 {
        let mut c = [0u8; 12];
        c[..code.len()].copy_from_slice(code);
        Some(Asset::CreditAlphanum12(stellar_xdr::curr::AlphaNum12 {
            asset_code: stellar_xdr::curr::AssetCode12(c),
            issuer,
        }))
    } else {
        None
    }
}

fn strkey_decode_account(text: &[u8]) -> Option<[u8; 32]> {
    let s = std::str::from_utf8(text).ok()?;
    match stellar_strkey_decode(s)? {
        (v, payload) if v == strkey::ACCOUNT_ID && payload.len() == 32 => payload.try_into().ok(),
        _ => None,
    }
}

/// Decodes a strkey (version byte, payload), checking length, padding-free base32 and checksum.
fn stellar_strkey_decode(s: &str) -> Option<(u8, Vec<u8>)> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = Vec::with_capacity(s.len() * 5 / 8);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if bits >= 5 || (acc & ((1 << bits) - 1)) != 0 || bytes.len() < 3 {
        return None;
    }
    let (body, crc) = bytes.split_at(bytes.len() - 2);
    let re = strkey::encode(body[0], &body[1..]);
    if re != s || crc.len() != 2 {
        return None;
    }
    Some((body[0], body[1..].to_vec()))
}

fn address_of(v: &ScVal) -> Option<&ScAddress> {
    match v {
        ScVal::Address(a) => Some(a),
        _ => None,
    }
}

pub fn sac_balance_change(event: &ContractEvent, passphrase: &str) -> Option<SacChange> {
    if event.type_ != ContractEventType::Contract {
        return None;
    }
    let contract = event.contract_id.as_ref()?;
    let ContractEventBody::V0(body) = &event.body;
    let topics = body.topics.as_slice();
    if topics.len() <= 2 {
        return None;
    }
    let ScVal::Symbol(fn_name) = &topics[0] else {
        return None;
    };
    let kind: &'static str = match fn_name.0.as_slice() {
        b"transfer" => "transfer",
        b"mint" => "mint",
        b"clawback" => "clawback",
        b"burn" => "burn",
        _ => return None,
    };
    let ScVal::String(last) = topics.last()? else {
        return None;
    };
    if last.0.is_empty() {
        return None;
    }
    let asset = parse_canonical_asset(last.0.as_slice())?;
    if asset_contract_id(&asset, passphrase) != contract.0 .0 {
        return None;
    }
    let amount = match &body.data {
        ScVal::I128(p) => Some(((p.hi as i128) << 64) | p.lo as i128),
        _ => None,
    };
    let (from, to) = if kind == "burn" {
        if topics.len() != 3 {
            return None;
        }
        (Some(address_of(&topics[1])?.clone()), None)
    } else {
        if topics.len() != 4 {
            return None;
        }
        let first = address_of(&topics[1])?.clone();
        let second = address_of(&topics[2])?.clone();
        match kind {
            "transfer" => (Some(first), Some(second)),
            "mint" => (None, Some(second)),
            _ => (Some(second), None),
        }
    };
    Some(SacChange {
        from,
        to,
        kind,
        amount: amount?,
        asset,
    })
}

// ---- MERGE: replace with records::changes::account_signers (n-changes) --------------------------------------

/// go-stellar-sdk's SignerSummary: signer strkey -> weight (master key when its weight is non-zero).
pub fn signer_summary(account: &AccountEntry) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let master = account.thresholds.0[0];
    if master > 0 {
        out.insert(strkey::account_id(&account.account_id), master as u32);
    }
    for s in account.signers.iter() {
        out.insert(strkey::signer(&s.key), s.weight);
    }
    out
}
