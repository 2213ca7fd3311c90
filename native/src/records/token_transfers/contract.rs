//! Token movements announced by contract events: SEP-41 tokens and Stellar Asset Contracts
//! (reference: `beam_pipeline/records/token_transfers/contract.py`, which documents the topic layouts).

use stellar_xdr::curr::{
    AccountId, AlphaNum12, AlphaNum4, Asset, AssetCode12, AssetCode4, ContractEvent, ContractEventBody,
    ContractEventType, PublicKey, ScVal, Uint256,
};

use super::event::{mint_burn_or_transfer, Addr, Kind, TokenEvent, TtError, TtResult, TxContext};
use crate::arrow_out::go_string;

/// The integer of an i128 ScVal, else None.
pub fn i128_value(value: &ScVal) -> Option<i128> {
    match value {
        ScVal::I128(p) => Some(((p.hi as i128) << 64) | p.lo as i128),
        _ => None,
    }
}

/// The holder an address ScVal names, else None.
pub fn address_of(value: &ScVal) -> Option<Addr> {
    match value {
        ScVal::Address(a) => Some(Addr::of_sc_address(a)),
        _ => None,
    }
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The ed25519 key of a valid `G...` strkey (stellar_sdk's `is_valid_ed25519_public_key`), else None.
fn account_strkey_key(text: &str) -> Option<[u8; 32]> {
    let chars = text.as_bytes();
    if chars.len() != 56 {
        return None; // 35 bytes (version, key, checksum) are exactly 56 base32 characters
    }
    let mut raw = [0u8; 35];
    let (mut acc, mut bits, mut n) = (0u32, 0u32, 0usize);
    for &c in chars {
        let v = BASE32.iter().position(|&b| b == c)? as u32;
        acc = (acc << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            raw[n] = (acc >> bits) as u8;
            n += 1;
        }
        acc &= (1 << bits) - 1;
    }
    if raw[0] != crate::strkey::ACCOUNT_ID {
        return None;
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&raw[1..33]);
    // The checksum is the one encode computes: re-encoding must give the text back.
    (crate::strkey::encode(crate::strkey::ACCOUNT_ID, &key) == text).then_some(key)
}

/// Python's `re.match(r"^[A-Za-z0-9]{1,12}$", code)` (whose `$` also matches before one final newline).
fn valid_code(code: &str) -> bool {
    let body = code.strip_suffix('\n').unwrap_or(code);
    (1..=12).contains(&body.len()) && body.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The one classic asset a SEP-11 string names (`native` or `CODE:G...`), else None.
///
/// A 12-character code followed by a newline passes the reference's check and then fails to become an XDR
/// asset code: that ValueError is the `Err`.
pub fn sep11_asset(text: &str) -> Result<Option<Asset>, String> {
    if text.is_empty() || text.contains(',') {
        return Ok(None);
    }
    if text.to_lowercase() == "native" {
        return Ok(Some(Asset::Native));
    }
    let parts: Vec<&str> = text.split(':').collect();
    let [code, issuer] = parts.as_slice() else {
        return Ok(None);
    };
    if !valid_code(code) {
        return Ok(None);
    }
    let Some(key) = account_strkey_key(issuer) else {
        return Ok(None);
    };
    let issuer = AccountId(PublicKey::PublicKeyTypeEd25519(Uint256(key)));
    let bytes = code.as_bytes();
    if bytes.len() > 12 {
        return Err(format!(
            "The length of `asset_code12` should be 12, but got {}.",
            bytes.len()
        ));
    }
    Ok(Some(if bytes.len() <= 4 {
        let mut c = [0u8; 4];
        c[..bytes.len()].copy_from_slice(bytes);
        Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: AssetCode4(c),
            issuer,
        })
    } else {
        let mut c = [0u8; 12];
        c[..bytes.len()].copy_from_slice(bytes);
        Asset::CreditAlphanum12(AlphaNum12 {
            asset_code: AssetCode12(c),
            issuer,
        })
    }))
}

/// Amount and destination information of a CAP-67 event's data (an i128 or an ScMap).
fn v4_amount(value: &ScVal) -> Option<(i128, Option<u64>)> {
    let map = match value {
        ScVal::Map(m) => m.as_ref()?,
        other => return Some((i128_value(other)?, None)),
    };
    let mut amount = None;
    let mut muxed = None;
    for entry in map.0.iter() {
        let ScVal::Symbol(key) = &entry.key else { return None };
        match key.0.as_slice() {
            b"amount" => amount = Some(i128_value(&entry.val)?),
            b"to_muxed_id" => {
                muxed = match &entry.val {
                    ScVal::U64(id) => Some(*id),
                    ScVal::Bytes(_) | ScVal::String(_) => Some(0), // only the id arm has a value
                    _ => return None,
                }
            }
            _ => {}
        }
    }
    amount.map(|a| (a, muxed))
}

fn expected_topics(kind: Kind, meta_version: u32) -> usize {
    if meta_version == 3 {
        return if kind == Kind::Burn { 3 } else { 4 };
    }
    if kind == Kind::Transfer {
        4
    } else {
        3
    }
}

type Parties = (Option<Addr>, Option<Addr>);

/// (from, to) by SEP-41's topic layout, or None if an address is missing or invalid.
fn parties(kind: Kind, topics: &[ScVal], meta_version: u32) -> Option<Parties> {
    match kind {
        Kind::Transfer => {
            let sender = address_of(topics.get(1)?)?;
            let receiver = address_of(topics.get(2)?)?;
            Some((Some(sender), Some(receiver)))
        }
        Kind::Burn => Some((Some(address_of(topics.get(1)?)?), None)),
        _ => {
            // mint and clawback: v3 carries the admin first, v4 does not.
            let party = if meta_version == 3 {
                if topics.len() < 3 {
                    return None;
                }
                address_of(&topics[1])?;
                address_of(&topics[2])?
            } else {
                address_of(topics.get(1)?)?
            };
            Some(if kind == Kind::Mint {
                (None, Some(party))
            } else {
                (Some(party), None)
            })
        }
    }
}

/// The token movement a contract event announces, or None when it is no SEP-41 token event.
pub fn token_event(
    ctx: &TxContext<'_, '_>,
    op_index: u32,
    event: &ContractEvent,
    meta_version: u32,
) -> TtResult<Option<TokenEvent>> {
    let Some(mut out) = token_event_parts(ctx, op_index, event, meta_version) else {
        return Ok(None);
    };
    let topics = match &event.body {
        ContractEventBody::V0(body) => body.topics.as_slice(),
    };
    if topics.len() != expected_topics(out.kind, meta_version) {
        return Ok(Some(out));
    }
    let Some(ScVal::String(last)) = topics.last() else {
        return Ok(Some(out));
    };
    let Some(asset) = sep11_asset(&go_string(last.0.as_slice())).map_err(TtError::Value)? else {
        return Ok(Some(out));
    };
    if ctx.sac_id(&asset) != out.contract_id {
        return Ok(Some(out));
    }
    if meta_version == 3 && out.kind == Kind::Transfer {
        // Before CAP-67 the SAC called mints and burns by the issuer transfers.
        if let (Some(sender), Some(receiver)) = (out.sender.take(), out.receiver.take()) {
            let amount = out.amount;
            return Ok(Some(mint_burn_or_transfer(
                ctx, op_index, &asset, sender, receiver, amount, false,
            )));
        }
    }
    out.asset = Some(asset);
    Ok(Some(out))
}

/// The event without its asset: kind, parties, amount and contract, or None when it is no token event.
fn token_event_parts(
    ctx: &TxContext<'_, '_>,
    op_index: u32,
    event: &ContractEvent,
    meta_version: u32,
) -> Option<TokenEvent> {
    if event.type_ != ContractEventType::Contract {
        return None;
    }
    let contract_hash = &event.contract_id.as_ref()?.0 .0;
    if meta_version != 3 && meta_version != 4 {
        return None;
    }
    let ContractEventBody::V0(body) = &event.body;
    let topics = body.topics.as_slice();
    if topics.len() < 2 {
        return None;
    }
    let ScVal::Symbol(sym) = &topics[0] else { return None };
    let kind = match sym.0.as_slice() {
        b"transfer" => Kind::Transfer,
        b"mint" => Kind::Mint,
        b"burn" => Kind::Burn,
        b"clawback" => Kind::Clawback,
        _ => return None,
    };
    let (amount, muxed) = if meta_version == 3 {
        (i128_value(&body.data)?, None)
    } else {
        v4_amount(&body.data)?
    };
    let (sender, receiver) = parties(kind, topics, meta_version)?;
    Some(TokenEvent {
        kind,
        sender,
        receiver,
        amount,
        asset: None,
        contract_id: ctx.contract_strkey(contract_hash),
        op_index: Some(op_index),
        to_muxed: muxed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{Int128Parts, ScMap, ScMapEntry, ScSymbol};

    const ISSUER: &str = "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"; // the all-zero key

    #[test]
    fn sep11_strings_name_one_classic_asset_as_the_reference_reads_them() {
        assert_eq!(sep11_asset("native"), Ok(Some(Asset::Native)));
        assert_eq!(sep11_asset("NaTiVe"), Ok(Some(Asset::Native)));
        let Ok(Some(Asset::CreditAlphanum4(usd))) = sep11_asset(&format!("USD:{ISSUER}")) else {
            panic!("USD is an alphanum4 asset")
        };
        assert_eq!(usd.asset_code.0, *b"USD\0");
        assert!(matches!(
            sep11_asset(&format!("ABCDE:{ISSUER}")),
            Ok(Some(Asset::CreditAlphanum12(_)))
        ));
        // Python's `$` also matches before a final newline: the code keeps it.
        let Ok(Some(Asset::CreditAlphanum4(nl))) = sep11_asset(&format!("ABC\n:{ISSUER}")) else {
            panic!("a code with a final newline passes the reference's check")
        };
        assert_eq!(nl.asset_code.0, *b"ABC\n");
        assert!(sep11_asset(&format!("ABCDEFGHIJKL\n:{ISSUER}")).is_err());
        for bad in [
            String::new(),
            format!("USD:{ISSUER},native"),
            format!("US-D:{ISSUER}"),
            format!("USD:{ISSUER}:x"),
            "USD:GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHG".to_string(), // bad checksum
            format!("USD:{}", ISSUER.to_lowercase()),
        ] {
            assert_eq!(sep11_asset(&bad), Ok(None), "{bad:?}");
        }
    }

    fn i128(v: i64) -> ScVal {
        ScVal::I128(Int128Parts {
            hi: if v < 0 { -1 } else { 0 },
            lo: v as u64,
        })
    }

    fn entry(key: &str, val: ScVal) -> ScMapEntry {
        ScMapEntry {
            key: ScVal::Symbol(ScSymbol(key.try_into().unwrap())),
            val,
        }
    }

    #[test]
    fn cap67_amounts_are_an_i128_or_a_map_with_the_destination_id() {
        assert_eq!(i128_value(&i128(-5)), Some(-5));
        assert_eq!(v4_amount(&i128(7)), Some((7, None)));
        let map = |entries: Vec<ScMapEntry>| ScVal::Map(Some(ScMap(entries.try_into().unwrap())));
        assert_eq!(
            v4_amount(&map(vec![
                entry("amount", i128(9)),
                entry("to_muxed_id", ScVal::U64(42))
            ])),
            Some((9, Some(42)))
        );
        // Text and hash destinations carry no id: stellar-etl writes 0.
        let text = ScVal::String(stellar_xdr::curr::ScString("x".try_into().unwrap()));
        assert_eq!(
            v4_amount(&map(vec![entry("amount", i128(9)), entry("to_muxed_id", text)])),
            Some((9, Some(0)))
        );
        assert_eq!(v4_amount(&map(vec![entry("to_muxed_id", ScVal::U64(1))])), None);
        assert_eq!(v4_amount(&map(vec![entry("amount", ScVal::U32(1))])), None);
        assert_eq!(v4_amount(&ScVal::U32(1)), None);
    }
}
