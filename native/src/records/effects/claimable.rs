//! Effects of claimable balances: create, claim and clawback, plus the created/claimant effects a trust-line
//! revocation also produces (reference: `beam_pipeline/records/effects/claimable.py`).

use stellar_xdr::curr::{
    ClaimableBalanceEntry, ClaimableBalanceEntryExt, ClaimableBalanceId, Claimant, LedgerEntry, LedgerEntryData,
    LedgerEntryType, OperationBody,
};

use super::common::{add_asset, amount, none_attr, obj, Fx, Res, E, PLAIN};
use crate::records::operations::claimable::{balance_id_hex, predicate_json};
use crate::util::assets::canonical_asset;
use crate::util::pyjson::Details;

const CLAWBACK_ENABLED: u32 = 1;

fn flags(entry: &ClaimableBalanceEntry) -> u32 {
    match &entry.ext {
        ClaimableBalanceEntryExt::V1(v1) => v1.flags,
        ClaimableBalanceEntryExt::V0 => 0,
    }
}

fn add_flag(details: &mut Details, entry: &ClaimableBalanceEntry) {
    if flags(entry) & CLAWBACK_ENABLED != 0 {
        details.set("claimable_balance_clawback_enabled_flag", true);
    }
}

/// `claimable_balance_created` on the source, then one `claimant_created` per claimant.
pub fn add_balance_created(fx: &mut Fx<'_, '_>, entry: &ClaimableBalanceEntry) -> Res<()> {
    let balance_id = balance_id_hex(&entry.balance_id);
    let value = amount(entry.amount as i128);
    let asset = canonical_asset(&entry.asset);
    let mut details = obj([
        ("balance_id", balance_id.clone().into()),
        ("amount", value.clone().into()),
        ("asset", asset.clone().into()),
    ]);
    add_flag(&mut details, entry);
    fx.add_source(E::ClaimableBalanceCreated, details);
    let claimants: &[Claimant] = match &fx.ctx.op.body {
        OperationBody::CreateClaimableBalance(op) => op.claimants.as_slice(),
        _ => entry.claimants.as_slice(),
    };
    for claimant in claimants {
        let Claimant::ClaimantTypeV0(v0) = claimant;
        let predicate = predicate_json(&v0.predicate)?;
        fx.add_account_id(
            &v0.destination,
            E::ClaimableBalanceClaimantCreated,
            obj([
                ("balance_id", balance_id.clone().into()),
                ("amount", value.clone().into()),
                ("predicate", predicate),
                ("asset", asset.clone().into()),
            ]),
        );
    }
    Ok(())
}

fn credit_details(entry: &ClaimableBalanceEntry) -> Details {
    let mut details = obj([("amount", amount(entry.amount as i128).into())]);
    add_asset(&mut details, &entry.asset, &PLAIN);
    details
}

/// The claimable balance of a change side.
pub fn balance_of(side: Option<&LedgerEntry>) -> Res<&ClaimableBalanceEntry> {
    match side.map(|e| &e.data) {
        Some(LedgerEntryData::ClaimableBalance(cb)) => Ok(cb),
        Some(_) => Err(none_attr("balance_id")),
        None => Err(none_attr("data")),
    }
}

pub fn create_claimable_balance(fx: &mut Fx<'_, '_>) -> Res<()> {
    let mut found = None;
    for change in fx.changes()? {
        if change.entry_type == LedgerEntryType::ClaimableBalance && change.post.is_some() {
            let entry = balance_of(change.post)?;
            add_balance_created(fx, entry)?;
            found = Some(entry);
            break;
        }
    }
    let Some(entry) = found else {
        return Err(fx.ctx.error("claimable balance entry not found".to_string()));
    };
    fx.add_source(E::AccountDebited, credit_details(entry));
    Ok(())
}

pub fn claim_claimable_balance(fx: &mut Fx<'_, '_>, id: &ClaimableBalanceId) -> Res<()> {
    let balance_id = balance_id_hex(id);
    let mut found = None;
    for change in fx.changes()? {
        if change.entry_type == LedgerEntryType::ClaimableBalance && change.pre.is_some() && change.post.is_none() {
            let candidate = balance_of(change.pre)?;
            if balance_id_hex(&candidate.balance_id) == balance_id {
                found = Some(candidate);
                break;
            }
        }
    }
    let Some(entry) = found else {
        return Err(fx.ctx.error(format!("change not found for balanceId : {balance_id}")));
    };
    let mut details = obj([
        ("amount", amount(entry.amount as i128).into()),
        ("balance_id", balance_id.into()),
        ("asset", canonical_asset(&entry.asset).into()),
    ]);
    add_flag(&mut details, entry);
    fx.add_source(E::ClaimableBalanceClaimed, details);
    fx.add_source(E::AccountCredited, credit_details(entry));
    Ok(())
}

pub fn clawback_claimable_balance(fx: &mut Fx<'_, '_>, id: &ClaimableBalanceId) -> Res<()> {
    fx.add_source(
        E::ClaimableBalanceClawedBack,
        obj([("balance_id", balance_id_hex(id).into())]),
    );
    for change in fx.changes()? {
        if change.entry_type == LedgerEntryType::ClaimableBalance && change.post.is_none() && change.pre.is_some() {
            fx.add_source(E::AccountCredited, credit_details(balance_of(change.pre)?));
            break;
        }
    }
    Ok(())
}
