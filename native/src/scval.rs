//! Soroban values as the JSON text stellar-etl writes to its `*_decoded` columns
//! (the twin of `beam_pipeline/util/scval.py`, which documents the form).
//!
//! The text is written directly: compact, object keys in sorted order (every object here has fixed keys,
//! written in that order), Go's escaping of `<`, `>`, `&`, U+2028 and U+2029.

use stellar_xdr::curr::{ClaimableBalanceId, ContractExecutable, ScAddress, ScError, ScMap, ScVal};

use crate::arrow_out::hex;
use crate::strkey;

const CLAIMABLE_BALANCE: u8 = 1 << 3; // B...
const LIQUIDITY_POOL: u8 = 11 << 3; // L...

/// Renders string/symbol bytes as the Rust XDR crate's escape-bytes does.
pub fn escape_bytes(data: &[u8], out: &mut String) {
    for &b in data {
        match b {
            0x00 => out.push_str("\\0"),
            0x09 => out.push_str("\\t"),
            0x0a => out.push_str("\\n"),
            0x0d => out.push_str("\\r"),
            0x5c => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                out.push_str("\\x");
                out.push_str(&hex(&[b]));
            }
        }
    }
}

/// A JSON string literal, escaped as Python's json.dumps(ensure_ascii=False) and then Go's HTML-safe rules.
pub fn json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The decimal text of a 256-bit unsigned integer given as big-endian 64-bit limbs.
pub fn u256_decimal(mut limbs: [u64; 4]) -> String {
    if limbs == [0; 4] {
        return "0".to_string();
    }
    const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19
    let mut parts = Vec::new();
    while limbs != [0; 4] {
        let mut rem: u128 = 0;
        for limb in limbs.iter_mut() {
            let cur = (rem << 64) | *limb as u128;
            *limb = (cur / CHUNK as u128) as u64;
            rem = cur % CHUNK as u128;
        }
        parts.push(rem as u64);
    }
    let mut out = parts.pop().expect("non-zero").to_string();
    while let Some(p) = parts.pop() {
        out.push_str(&format!("{p:019}"));
    }
    out
}

pub fn i256_decimal(hi_hi: i64, hi_lo: u64, lo_hi: u64, lo_lo: u64) -> String {
    let limbs = [hi_hi as u64, hi_lo, lo_hi, lo_lo];
    if hi_hi >= 0 {
        return u256_decimal(limbs);
    }
    // Two's complement negation over 256 bits.
    let mut neg = [!limbs[0], !limbs[1], !limbs[2], !limbs[3]];
    for limb in neg.iter_mut().rev() {
        let (v, carry) = limb.overflowing_add(1);
        *limb = v;
        if !carry {
            break;
        }
    }
    format!("-{}", u256_decimal(neg))
}

pub fn address_strkey(a: &ScAddress) -> String {
    match a {
        ScAddress::Account(id) => strkey::account_id(id),
        ScAddress::Contract(c) => strkey::encode(strkey::CONTRACT, &c.0 .0),
        ScAddress::MuxedAccount(m) => {
            let mut raw = m.ed25519.0.to_vec();
            raw.extend_from_slice(&m.id.to_be_bytes());
            strkey::encode(strkey::MUXED_ACCOUNT, &raw)
        }
        ScAddress::ClaimableBalance(ClaimableBalanceId::ClaimableBalanceIdTypeV0(h)) => {
            let mut raw = vec![0u8];
            raw.extend_from_slice(&h.0);
            strkey::encode(CLAIMABLE_BALANCE, &raw)
        }
        ScAddress::LiquidityPool(p) => strkey::encode(LIQUIDITY_POOL, &p.0 .0),
    }
}

fn tagged_str(tag: &str, value: &str, out: &mut String) {
    out.push_str("{\"");
    out.push_str(tag);
    out.push_str("\":");
    json_string(value, out);
    out.push('}');
}

fn error(e: &ScError, out: &mut String) {
    let (name, code) = match e {
        ScError::Contract(c) => {
            out.push_str(&format!("{{\"error\":{{\"contract\":{c}}}}}"));
            return;
        }
        ScError::WasmVm(c) => ("wasm_vm", c),
        ScError::Context(c) => ("context", c),
        ScError::Storage(c) => ("storage", c),
        ScError::Object(c) => ("object", c),
        ScError::Crypto(c) => ("crypto", c),
        ScError::Events(c) => ("events", c),
        ScError::Budget(c) => ("budget", c),
        ScError::Value(c) => ("value", c),
        ScError::Auth(c) => ("auth", c),
    };
    out.push_str(&format!("{{\"error\":{{\"{name}\":\"{}\"}}}}", snake(code.name())));
}

fn map_entries(m: Option<&ScMap>, out: &mut String) {
    let Some(m) = m else {
        out.push_str("null");
        return;
    };
    out.push('[');
    for (i, e) in m.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"key\":");
        write_json(&e.key, out);
        out.push_str(",\"val\":");
        write_json(&e.val, out);
        out.push('}');
    }
    out.push(']');
}

/// Appends one ScVal's JSON to `out`.
pub fn write_json(v: &ScVal, out: &mut String) {
    match v {
        ScVal::Bool(b) => out.push_str(if *b { "{\"bool\":true}" } else { "{\"bool\":false}" }),
        ScVal::Void => out.push_str("\"void\""),
        ScVal::Error(e) => error(e, out),
        ScVal::U32(x) => out.push_str(&format!("{{\"u32\":{x}}}")),
        ScVal::I32(x) => out.push_str(&format!("{{\"i32\":{x}}}")),
        ScVal::U64(x) => tagged_str("u64", &x.to_string(), out),
        ScVal::I64(x) => tagged_str("i64", &x.to_string(), out),
        ScVal::Timepoint(t) => tagged_str("timepoint", &t.0.to_string(), out),
        ScVal::Duration(d) => tagged_str("duration", &d.0.to_string(), out),
        ScVal::U128(p) => tagged_str("u128", &(((p.hi as u128) << 64) | p.lo as u128).to_string(), out),
        ScVal::I128(p) => tagged_str("i128", &((((p.hi as i128) << 64) | p.lo as i128).to_string()), out),
        ScVal::U256(p) => tagged_str("u256", &u256_decimal([p.hi_hi, p.hi_lo, p.lo_hi, p.lo_lo]), out),
        ScVal::I256(p) => tagged_str("i256", &i256_decimal(p.hi_hi, p.hi_lo, p.lo_hi, p.lo_lo), out),
        ScVal::Bytes(b) => tagged_str("bytes", &hex(b.0.as_slice()), out),
        ScVal::String(s) => {
            let mut e = String::new();
            escape_bytes(s.0.as_slice(), &mut e);
            tagged_str("string", &e, out)
        }
        ScVal::Symbol(s) => {
            let mut e = String::new();
            escape_bytes(s.0.as_slice(), &mut e);
            tagged_str("symbol", &e, out)
        }
        ScVal::Vec(vec) => {
            out.push_str("{\"vec\":");
            match vec {
                None => out.push_str("null"),
                Some(items) => {
                    out.push('[');
                    for (i, item) in items.0.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        write_json(item, out);
                    }
                    out.push(']');
                }
            }
            out.push('}');
        }
        ScVal::Map(m) => {
            out.push_str("{\"map\":");
            map_entries(m.as_ref(), out);
            out.push('}');
        }
        ScVal::Address(a) => tagged_str("address", &address_strkey(a), out),
        ScVal::ContractInstance(inst) => {
            out.push_str("{\"contract_instance\":{\"executable\":");
            match &inst.executable {
                ContractExecutable::Wasm(h) => tagged_str("wasm", &hex(&h.0), out),
                ContractExecutable::StellarAsset => out.push_str("\"stellar_asset\""),
            }
            out.push_str(",\"storage\":");
            map_entries(inst.storage.as_ref(), out);
            out.push_str("}}");
        }
        ScVal::LedgerKeyContractInstance => out.push_str("\"ledger_key_contract_instance\""),
        ScVal::LedgerKeyNonce(n) => out.push_str(&format!("{{\"ledger_key_nonce\":{{\"nonce\":\"{}\"}}}}", n.nonce)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_integers_print_in_decimal() {
        assert_eq!(u256_decimal([0, 0, 0, 0]), "0");
        assert_eq!(u256_decimal([0, 0, 1, 0]), "18446744073709551616");
        assert_eq!(
            u256_decimal([u64::MAX; 4]),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
        assert_eq!(i256_decimal(-1, u64::MAX, u64::MAX, u64::MAX), "-1");
        assert_eq!(
            i256_decimal(i64::MIN, 0, 0, 0),
            "-57896044618658097711785492504343953926634992332820282019728792003956564819968"
        );
    }

    #[test]
    fn strings_escape_like_the_reference() {
        let mut s = String::new();
        escape_bytes("a\u{e9}\\\n<".as_bytes(), &mut s);
        assert_eq!(s, "a\\xc3\\xa9\\\\\\n<");
        let mut j = String::new();
        json_string(&s, &mut j);
        assert_eq!(j, "\"a\\\\xc3\\\\xa9\\\\\\\\\\\\n\\u003c\"");
    }
}
