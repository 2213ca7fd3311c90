//! Soroban values as Go's `xdr.ScVal.String()` prints them (stellar-etl's `parameters_decoded`; the twin of
//! `beam_pipeline/records/operations/scval_text.py`, which describes the form).

use stellar_xdr::curr::{ContractExecutable, ScError, ScMap, ScVal};

use crate::arrow_out::hex;
use crate::scval::{address_strkey, i256_decimal, u256_decimal};
use crate::util::goformat::{go_string, go_time_string};

/// Go's `ScVal.ArmForSwitch` name of each arm (the "type" of each serialized parameter).
pub fn arm_name(v: &ScVal) -> &'static str {
    match v {
        ScVal::Bool(_) => "B",
        ScVal::Void => "",
        ScVal::Error(_) => "Error",
        ScVal::U32(_) => "U32",
        ScVal::I32(_) => "I32",
        ScVal::U64(_) => "U64",
        ScVal::I64(_) => "I64",
        ScVal::Timepoint(_) => "Timepoint",
        ScVal::Duration(_) => "Duration",
        ScVal::U128(_) => "U128",
        ScVal::I128(_) => "I128",
        ScVal::U256(_) => "U256",
        ScVal::I256(_) => "I256",
        ScVal::Bytes(_) => "Bytes",
        ScVal::String(_) => "Str",
        ScVal::Symbol(_) => "Sym",
        ScVal::Vec(_) => "Vec",
        ScVal::Map(_) => "Map",
        ScVal::Address(_) => "Address",
        ScVal::ContractInstance(_) => "Instance",
        ScVal::LedgerKeyContractInstance => "",
        ScVal::LedgerKeyNonce(_) => "NonceKey",
    }
}

fn map_text(m: &ScMap, out: &mut String) {
    out.push('[');
    for (i, e) in m.0.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push('{');
        write_text(&e.key, out);
        out.push(' ');
        write_text(&e.val, out);
        out.push('}');
    }
    out.push(']');
}

fn error_text(e: &ScError, out: &mut String) {
    out.push_str("ScErrorTypeSce");
    out.push_str(e.discriminant().name());
    out.push('(');
    match e {
        ScError::Contract(code) => out.push_str(&code.to_string()),
        ScError::WasmVm(c)
        | ScError::Context(c)
        | ScError::Storage(c)
        | ScError::Object(c)
        | ScError::Crypto(c)
        | ScError::Events(c)
        | ScError::Budget(c)
        | ScError::Value(c)
        | ScError::Auth(c) => {
            out.push_str("ScErrorCodeScec");
            out.push_str(c.name());
        }
    }
    out.push(')');
}

/// `v` as Go's `ScVal.String()`.
pub fn scval_text(v: &ScVal) -> String {
    let mut out = String::new();
    write_text(v, &mut out);
    out
}

pub fn write_text(v: &ScVal, out: &mut String) {
    match v {
        ScVal::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ScVal::Void => out.push_str("(void)"),
        ScVal::Error(e) => error_text(e, out),
        ScVal::U32(x) => out.push_str(&x.to_string()),
        ScVal::I32(x) => out.push_str(&x.to_string()),
        ScVal::U64(x) => out.push_str(&x.to_string()),
        ScVal::I64(x) => out.push_str(&x.to_string()),
        ScVal::Timepoint(t) => out.push_str(&go_time_string(t.0 as i64)),
        ScVal::Duration(d) => out.push_str(&d.0.to_string()),
        ScVal::U128(p) => out.push_str(&(((p.hi as u128) << 64) | p.lo as u128).to_string()),
        ScVal::I128(p) => out.push_str(&((((p.hi as i128) << 64) | p.lo as i128).to_string())),
        ScVal::U256(p) => out.push_str(&u256_decimal([p.hi_hi, p.hi_lo, p.lo_hi, p.lo_lo])),
        ScVal::I256(p) => out.push_str(&i256_decimal(p.hi_hi, p.hi_lo, p.lo_hi, p.lo_lo)),
        ScVal::Bytes(b) => out.push_str(&hex(b.0.as_slice())),
        ScVal::String(s) => out.push_str(&go_string(s.0.as_slice())),
        ScVal::Symbol(s) => out.push_str(&go_string(s.0.as_slice())),
        ScVal::Vec(vec) => match vec {
            None => out.push_str("nil"),
            Some(items) => {
                out.push('[');
                for (i, item) in items.0.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    write_text(item, out);
                }
                out.push(']');
            }
        },
        ScVal::Map(m) => match m {
            None => out.push_str("nil"),
            Some(m) => map_text(m, out),
        },
        ScVal::Address(a) => out.push_str(&address_strkey(a)),
        ScVal::ContractInstance(inst) => {
            match &inst.executable {
                ContractExecutable::StellarAsset => out.push_str("(StellarAssetContract)"),
                ContractExecutable::Wasm(h) => out.push_str(&hex(&h.0)),
            }
            if let Some(storage) = inst.storage.as_ref().filter(|m| !m.0.is_empty()) {
                out.push_str(": ");
                map_text(storage, out);
            }
        }
        ScVal::LedgerKeyContractInstance => out.push_str("(LedgerKeyContractInstance)"),
        ScVal::LedgerKeyNonce(n) => {
            let x = n.nonce as i128;
            if x < 0 {
                out.push_str(&format!("{{-{:X}}}", -x));
            } else {
                out.push_str(&format!("{{{x:X}}}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{ScErrorCode, ScNonceKey};

    #[test]
    fn values_print_as_go_prints_them() {
        assert_eq!(
            scval_text(&ScVal::Error(ScError::Contract(7))),
            "ScErrorTypeSceContract(7)"
        );
        assert_eq!(
            scval_text(&ScVal::Error(ScError::WasmVm(ScErrorCode::InvalidAction))),
            "ScErrorTypeSceWasmVm(ScErrorCodeScecInvalidAction)"
        );
        assert_eq!(scval_text(&ScVal::LedgerKeyNonce(ScNonceKey { nonce: -255 })), "{-FF}");
        assert_eq!(scval_text(&ScVal::Vec(None)), "nil");
    }
}
