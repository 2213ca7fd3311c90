//! Details of Soroban operations: invoke_host_function, extend_footprint_ttl and restore_footprint (reference:
//! `soroban.py`: the footprint, the contract arguments' four renderings, and the Stellar Asset Contract balance
//! changes found in the transaction's diagnostic events).

use sha2::{Digest, Sha256};
use stellar_xdr::curr::{
    AccountId, Asset, ContractEvent, ContractEventBody, ContractEventType, ContractIdPreimage, DiagnosticEvent,
    FeeBumpTransactionInnerTx, HostFunction, LedgerFootprint, LedgerKey, Limits, PublicKey, ScAddress, ScVal,
    SorobanTransactionData, TransactionEnvelope, TransactionExt, TransactionMeta, Uint256, WriteXdr,
};

use super::common::{rat_float_string, value_error, OpContext, Res};
use super::scval_text::{arm_name, scval_text};
use crate::arrow_out::{base64, hex};
use crate::scval::{address_strkey, write_json};
use crate::strkey;
use crate::util::assets::{asset_contract_id, canonical_asset, credit_asset, extract_asset};
use crate::util::pyjson::{without_go_escapes, Details, Val};

fn soroban_data<'a>(ctx: &OpContext<'a, '_>) -> Res<&'a SorobanTransactionData> {
    let ext = match ctx.tx.envelope {
        TransactionEnvelope::TxV0(_) => None,
        TransactionEnvelope::Tx(e) => Some(&e.tx.ext),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => Some(&i.tx.ext),
        },
    };
    match ext {
        Some(TransactionExt::V1(data)) => Ok(data),
        _ => Err(ctx.error("Soroban operation in a transaction without Soroban data".to_string())),
    }
}

fn xdr_of<T: WriteXdr>(v: &T) -> Res<Vec<u8>> {
    v.to_xdr(Limits::none()).map_err(|e| value_error(e.to_string()))
}

/// `ledger_key_hash` (read-only then read-write keys), optionally `contract_id`, and a null `contract_code_hash`.
fn footprint_details(ctx: &OpContext<'_, '_>, d: &mut Details, with_contract_id: bool) -> Res<()> {
    let footprint = &soroban_data(ctx)?.resources.footprint;
    let mut hashes = Vec::with_capacity(footprint.read_only.len() + footprint.read_write.len());
    for key in footprint.read_only.iter().chain(footprint.read_write.iter()) {
        hashes.push(Val::Str(hex(&Sha256::digest(xdr_of(key)?))));
    }
    d.set(
        "ledger_key_hash",
        if hashes.is_empty() {
            Val::Null
        } else {
            Val::List(hashes)
        },
    );
    if with_contract_id {
        d.set("contract_id", footprint_contract_id(footprint));
    }
    d.set("contract_code_hash", Val::Null);
    Ok(())
}

/// The first contract-data key's contract (read-write keys first), or "" if none.
fn footprint_contract_id(footprint: &LedgerFootprint) -> String {
    for key in footprint.read_write.iter().chain(footprint.read_only.iter()) {
        if let LedgerKey::ContractData(cd) = key {
            if let ScAddress::Contract(c) = &cd.contract {
                return strkey::encode(strkey::CONTRACT, &c.0 .0);
            }
        }
    }
    String::new()
}

/// The four renderings stellar-etl stores for contract arguments.
fn parameters<'v>(d: &mut Details, args: impl Iterator<Item = &'v ScVal>) -> Res<()> {
    let (mut params, mut decoded, mut as_json, mut as_json_decoded) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for arg in args {
        let arm = arm_name(arg);
        let raw = base64(&xdr_of(arg)?);
        let mut p = Details::new();
        p.set("type", arm);
        p.set("value", raw.clone());
        params.push(Val::Obj(p));
        let mut q = Details::new();
        q.set("type", arm);
        q.set("value", scval_text(arg));
        decoded.push(Val::Obj(q));
        as_json.push(Val::Str(raw));
        let mut json = String::new();
        write_json(arg, &mut json);
        as_json_decoded.push(Val::Raw(without_go_escapes(&json)));
    }
    d.set("parameters", Val::List(params));
    d.set("parameters_decoded", Val::List(decoded));
    d.set("parameters_json", Val::List(as_json));
    d.set("parameters_json_decoded", Val::List(as_json_decoded));
    Ok(())
}

fn preimage_details(d: &mut Details, preimage: &ContractIdPreimage) {
    match preimage {
        ContractIdPreimage::Address(a) => {
            d.set("from", "address");
            d.set("address", address_strkey(&a.address));
        }
        ContractIdPreimage::Asset(asset) => {
            d.set("from", "asset");
            d.set("asset", canonical_asset(asset));
        }
    }
}

// --- Stellar Asset Contract balance changes -------------------------------------------------------

fn diagnostic_events<'a>(ctx: &OpContext<'a, '_>) -> Res<&'a [DiagnosticEvent]> {
    match ctx.tx.meta {
        TransactionMeta::V1(_) | TransactionMeta::V2(_) => Ok(&[]),
        TransactionMeta::V3(m) => Ok(m
            .soroban_meta
            .as_ref()
            .map_or(&[][..], |s| s.diagnostic_events.as_slice())),
        TransactionMeta::V4(m) => Ok(m.diagnostic_events.as_slice()),
        TransactionMeta::V0(_) => Err(ctx.error("TransactionMeta v0 has no diagnostic events".to_string())),
    }
}

/// The ed25519 key of a `G...` strkey, None unless it is one exactly (stellar_sdk's `decode_ed25519_public_key`).
fn decode_account_strkey(text: &[u8]) -> Option<[u8; 32]> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    if text.len() != 56 {
        return None;
    }
    let mut raw = Vec::with_capacity(35);
    let (mut acc, mut bits) = (0u64, 0u32);
    for &c in text {
        let v = ALPHABET.iter().position(|&a| a == c)? as u64;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            raw.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    let key: [u8; 32] = raw.get(1..33)?.try_into().ok()?;
    // Version byte, checksum and canonical form, all at once.
    (strkey::encode(strkey::ACCOUNT_ID, &key).as_bytes() == text).then_some(key)
}

/// A SEP-11 `native` / `CODE:ISSUER` asset string, or None if it is not one.
fn parse_canonical_asset(text: &[u8]) -> Option<Asset> {
    if text == b"native" {
        return Some(Asset::Native);
    }
    let mut parts = text.split(|&b| b == b':');
    let (code, issuer, extra) = (parts.next()?, parts.next()?, parts.next());
    if extra.is_some() {
        return None;
    }
    let key = decode_account_strkey(issuer)?;
    credit_asset(code, AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key))))
}

fn sc_address(v: &ScVal) -> Option<String> {
    match v {
        ScVal::Address(a) => Some(address_strkey(a)),
        _ => None,
    }
}

/// One `asset_balance_changes` entry for a SAC transfer/mint/clawback/burn event, else None.
pub fn sac_balance_change(event: &ContractEvent, network_id: &[u8; 32]) -> Res<Option<Val>> {
    if event.type_ != ContractEventType::Contract {
        return Ok(None);
    }
    let Some(contract_id) = &event.contract_id else {
        return Ok(None);
    };
    let ContractEventBody::V0(body) = &event.body;
    let topics = body.topics.as_slice();
    if topics.len() <= 2 {
        return Ok(None);
    }
    let ScVal::Symbol(fn_sym) = &topics[0] else {
        return Ok(None);
    };
    let fn_name: &'static str = match fn_sym.0.as_slice() {
        b"transfer" => "transfer",
        b"mint" => "mint",
        b"clawback" => "clawback",
        b"burn" => "burn",
        _ => return Ok(None),
    };
    let ScVal::String(last) = &topics[topics.len() - 1] else {
        return Ok(None);
    };
    if last.0.is_empty() {
        return Ok(None);
    }
    let Some(asset) = parse_canonical_asset(last.0.as_slice()) else {
        return Ok(None);
    };
    if asset_contract_id(&asset, network_id).map_err(value_error)? != contract_id.0 .0 {
        return Ok(None);
    }
    let amount = match &body.data {
        ScVal::I128(p) => Some(((p.hi as i128) << 64) | p.lo as i128),
        _ => None,
    };
    let (source, dest) = if fn_name == "burn" {
        if topics.len() != 3 {
            return Ok(None);
        }
        match sc_address(&topics[1]) {
            Some(s) => (Some(s), None),
            None => return Ok(None),
        }
    } else {
        if topics.len() != 4 {
            return Ok(None);
        }
        let (Some(first), Some(second)) = (sc_address(&topics[1]), sc_address(&topics[2])) else {
            return Ok(None);
        };
        match fn_name {
            "transfer" => (Some(first), Some(second)),
            "mint" => (None, Some(second)),
            _ => (Some(second), None), // clawback
        }
    };
    let Some(amount) = amount else {
        return Ok(None);
    };
    let mut change = Details::new();
    if let Some(s) = source.filter(|s| !s.is_empty()) {
        change.set("from", s);
    }
    if let Some(s) = dest.filter(|s| !s.is_empty()) {
        change.set("to", s);
    }
    change.set("type", fn_name);
    change.set("amount", rat_float_string(amount, 10_000_000, 7)?);
    let (kind, code, issuer) = extract_asset(&asset);
    change.set("asset_type", kind);
    if !matches!(asset, Asset::Native) {
        change.set("asset_code", code);
        change.set("asset_issuer", issuer);
    }
    Ok(Some(Val::Obj(change)))
}

fn asset_balance_changes(ctx: &OpContext<'_, '_>) -> Res<Val> {
    let mut changes = Vec::new();
    for diag in diagnostic_events(ctx)? {
        if !diag.in_successful_contract_call || diag.event.type_ != ContractEventType::Contract {
            continue;
        }
        if let Some(change) = sac_balance_change(&diag.event, ctx.network_id)? {
            changes.push(change);
        }
    }
    Ok(Val::List(changes))
}

// --- operations -----------------------------------------------------------------------------------

pub fn invoke_host_function(ctx: &OpContext<'_, '_>, function: &HostFunction) -> Res<Details> {
    let mut d = Details::new();
    let go_name = match function {
        HostFunction::InvokeContract(_) => "HostFunctionTypeHostFunctionTypeInvokeContract",
        HostFunction::CreateContract(_) => "HostFunctionTypeHostFunctionTypeCreateContract",
        HostFunction::UploadContractWasm(_) => "HostFunctionTypeHostFunctionTypeUploadContractWasm",
        HostFunction::CreateContractV2(_) => "HostFunctionTypeHostFunctionTypeCreateContractV2",
    };
    d.set("function", go_name);
    match function {
        HostFunction::InvokeContract(call) => {
            d.set("type", "invoke_contract");
            footprint_details(ctx, &mut d, false)?;
            d.set("contract_id", address_strkey(&call.contract_address));
            let head = [
                ScVal::Address(call.contract_address.clone()),
                ScVal::Symbol(call.function_name.clone()),
            ];
            parameters(&mut d, head.iter().chain(call.args.iter()))?;
            d.set("asset_balance_changes", asset_balance_changes(ctx)?);
        }
        HostFunction::CreateContract(args) => {
            d.set("type", "create_contract");
            footprint_details(ctx, &mut d, true)?;
            preimage_details(&mut d, &args.contract_id_preimage);
        }
        HostFunction::UploadContractWasm(_) => {
            d.set("type", "upload_wasm");
            footprint_details(ctx, &mut d, false)?;
        }
        HostFunction::CreateContractV2(args) => {
            d.set("type", "create_contract_v2");
            footprint_details(ctx, &mut d, true)?;
            parameters(&mut d, args.constructor_args.iter())?;
            preimage_details(&mut d, &args.contract_id_preimage);
        }
    }
    Ok(d)
}

pub fn extend_footprint_ttl(ctx: &OpContext<'_, '_>, extend_to: u32) -> Res<Details> {
    let mut d = Details::new();
    d.set("type", "extend_footprint_ttl");
    d.set("extend_to", extend_to);
    footprint_details(ctx, &mut d, true)?;
    Ok(d)
}

pub fn restore_footprint(ctx: &OpContext<'_, '_>) -> Res<Details> {
    let mut d = Details::new();
    d.set("type", "restore_footprint");
    footprint_details(ctx, &mut d, true)?;
    Ok(d)
}
