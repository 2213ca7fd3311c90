//! Details of claimable balances: create, claim and clawback; plus the claim-predicate JSON form
//! (reference: `claimable.py`, which documents the Go XDR library's predicate form).

use stellar_xdr::curr::{ClaimPredicate, ClaimableBalanceId, Claimant, CreateClaimableBalanceOp};

use super::common::{add_account, stroops_to_real, value_error, OpContext, Res};
use crate::arrow_out::hex;
use crate::strkey;
use crate::util::assets::{canonical_asset, CLAIMABLE_BALANCE_VERSION};
use crate::util::goformat::go_rfc3339;
use crate::util::pyjson::{Details, Val};

/// Hex of the id's full XDR (4-byte type then hash), as stellar-etl's `balance_id`.
pub fn balance_id_hex(id: &ClaimableBalanceId) -> String {
    let ClaimableBalanceId::ClaimableBalanceIdTypeV0(h) = id;
    let mut out = String::with_capacity(72);
    out.push_str("00000000");
    out.push_str(&hex(&h.0));
    out
}

/// The `B...` strkey: one type byte then the hash (SEP-23).
pub fn balance_id_strkey(id: &ClaimableBalanceId) -> String {
    let ClaimableBalanceId::ClaimableBalanceIdTypeV0(h) = id;
    let mut raw = [0u8; 33];
    raw[1..].copy_from_slice(&h.0);
    strkey::encode(CLAIMABLE_BALANCE_VERSION, &raw)
}

/// A claim predicate in the Go XDR library's JSON form.
pub fn predicate_json(p: &ClaimPredicate) -> Res<Val> {
    let mut d = Details::new();
    match p {
        ClaimPredicate::Unconditional => d.set("unconditional", true),
        ClaimPredicate::And(ps) => d.set("and", Val::List(ps.iter().map(predicate_json).collect::<Res<_>>()?)),
        ClaimPredicate::Or(ps) => d.set("or", Val::List(ps.iter().map(predicate_json).collect::<Res<_>>()?)),
        ClaimPredicate::Not(inner) => match inner {
            Some(inner) => d.set("not", predicate_json(inner)?),
            None => {
                return Err(value_error(
                    "NOT claim predicate without an inner predicate".to_string(),
                ))
            }
        },
        ClaimPredicate::BeforeAbsoluteTime(epoch) => {
            d.set("abs_before", go_rfc3339(*epoch));
            d.set("abs_before_epoch", epoch.to_string());
        }
        ClaimPredicate::BeforeRelativeTime(secs) => d.set("rel_before", secs.to_string()),
    }
    Ok(Val::Obj(d))
}

pub fn claimants_json(claimants: &[Claimant]) -> Res<Val> {
    if claimants.is_empty() {
        return Ok(Val::Null);
    }
    let mut out = Vec::with_capacity(claimants.len());
    for claimant in claimants {
        let Claimant::ClaimantTypeV0(v0) = claimant;
        let mut d = Details::new();
        d.set("destination", strkey::account_id(&v0.destination));
        d.set("predicate", predicate_json(&v0.predicate)?);
        out.push(Val::Obj(d));
    }
    Ok(Val::List(out))
}

pub fn create_claimable_balance(op: &CreateClaimableBalanceOp) -> Res<Details> {
    let mut d = Details::new();
    d.set("asset", canonical_asset(&op.asset));
    d.set("amount", stroops_to_real(op.amount as i128));
    d.set("claimants", claimants_json(op.claimants.as_slice())?);
    Ok(d)
}

pub fn claim_claimable_balance(ctx: &OpContext<'_, '_>, id: &ClaimableBalanceId) -> Details {
    let mut d = Details::new();
    d.set("balance_id", balance_id_hex(id));
    d.set("balance_id_strkey", balance_id_strkey(id));
    add_account(&mut d, &ctx.source(), "claimant");
    d
}

pub fn clawback_claimable_balance(id: &ClaimableBalanceId) -> Details {
    let mut d = Details::new();
    d.set("balance_id", balance_id_hex(id));
    d.set("balance_id_strkey", balance_id_strkey(id));
    d
}
