//! MERGE: minimal stand-ins for helpers of the `operations` table's family modules (n-ops' port of
//! `records/operations/{claimable,payments,soroban}.py`), used only until they land; each section names the
//! module that replaces it, and this whole file goes away then.

use stellar_xdr::curr::{
    AccountId, Asset, ClaimAtom, ClaimableBalanceId, ContractEvent, ContractEventBody, ContractEventType,
    PathPaymentStrictReceiveResult, PublicKey, ScAddress, ScVal, Uint256,
};

use crate::arrow_out::hex;
use crate::strkey;
use crate::util::assets::{asset_contract_id, credit_asset, extract_asset};

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
    credit_asset(code, AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key))))
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

pub fn sac_balance_change(event: &ContractEvent, network_id: &[u8; 32]) -> Option<SacChange> {
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
    if asset_contract_id(&asset, network_id).ok()? != contract.0 .0 {
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
