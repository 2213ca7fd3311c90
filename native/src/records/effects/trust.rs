//! Effects of trust lines: change_trust, allow_trust and set_trust_line_flags, and the `liquidity_pool_revoked`
//! effect of a revocation that pulls the trustor's pool shares (reference: `beam_pipeline/records/effects/trust.py`).

use std::collections::HashMap;

use stellar_xdr::curr::{
    AccountId, AllowTrustOp, AlphaNum12, AlphaNum4, Asset, AssetCode, ChangeTrustAsset, ChangeTrustOp, LedgerEntryData,
    LedgerEntryType, SetTrustLineFlagsOp, TrustLineAsset,
};

use super::claimable::{add_balance_created, balance_of};
use super::common::{
    add_asset, amount, muxed_account_id, none_attr, obj, pool_assets, pool_change, pool_details, value_error, Fx, Res,
    E, PLAIN,
};
use crate::records::operations::claimable::balance_id_hex;
use crate::strkey;
use crate::util::assets::{
    canonical_asset, change_trust_asset_to_asset, extract_asset, pool_id_from_params, pool_id_hex, pool_id_strkey,
    LIQUIDITY_POOL_SHARES,
};
use crate::util::pyjson::Val;

const AUTHORIZED: u32 = 1;
const AUTHORIZED_TO_MAINTAIN_LIABILITIES: u32 = 2;
/// xdr.TrustLineFlags bits and stellar-etl's keys for them ("liabilites" is its spelling).
const TRUST_FLAGS: [(u32, &str); 3] = [
    (AUTHORIZED, "authorized_flag"),
    (AUTHORIZED_TO_MAINTAIN_LIABILITIES, "authorized_to_maintain_liabilites"),
    (4, "clawback_enabled_flag"),
];

fn change_trust_type(line: &ChangeTrustAsset) -> i32 {
    match line {
        ChangeTrustAsset::Native => 0,
        ChangeTrustAsset::CreditAlphanum4(_) => 1,
        ChangeTrustAsset::CreditAlphanum12(_) => 2,
        ChangeTrustAsset::PoolShare(_) => 3,
    }
}

fn trust_line_type(line: &TrustLineAsset) -> i32 {
    match line {
        TrustLineAsset::Native => 0,
        TrustLineAsset::CreditAlphanum4(_) => 1,
        TrustLineAsset::CreditAlphanum12(_) => 2,
        TrustLineAsset::PoolShare(_) => 3,
    }
}

pub fn change_trust(fx: &mut Fx<'_, '_>, op: &ChangeTrustOp) -> Res<()> {
    for change in fx.changes()? {
        if change.entry_type != LedgerEntryType::Trustline {
            continue;
        }
        let (effect, entry) = match (change.pre, change.post) {
            (None, post) => (E::TrustlineCreated, post),
            (pre, None) => (E::TrustlineRemoved, pre),
            (_, post) => (E::TrustlineUpdated, post),
        };
        let Some(LedgerEntryData::Trustline(line)) = entry.map(|e| &e.data) else {
            return Err(none_attr("trust_line"));
        };
        // One effect only: the change of the trust line of the operation's kind (asset or pool share).
        if change_trust_type(&op.line) != trust_line_type(&line.asset) {
            continue;
        }
        let mut details = obj([("limit", amount(op.limit as i128).into())]);
        match &op.line {
            ChangeTrustAsset::PoolShare(params) => {
                let pool_id = pool_id_from_params(params).map_err(value_error)?;
                details.set("asset_type", LIQUIDITY_POOL_SHARES);
                details.set("liquidity_pool_id", pool_id_hex(&pool_id));
                details.set("liquidity_pool_id_strkey", pool_id_strkey(&pool_id));
            }
            line => {
                let asset = change_trust_asset_to_asset(line).map_err(value_error)?;
                add_asset(&mut details, &asset, &PLAIN)
            }
        }
        fx.add_source(effect, details);
        break;
    }
    Ok(())
}

/// stellar-etl's `addTrustLineFlagsEffect`: written when either flag set is given (even 0).
fn add_flags_effect(
    fx: &mut Fx<'_, '_>,
    trustor: &AccountId,
    asset: &Asset,
    set_flags: Option<u32>,
    clear_flags: Option<u32>,
) {
    let mut details = obj([("trustor", strkey::account_id(trustor).into())]);
    add_asset(&mut details, asset, &PLAIN);
    for (flags, value) in [(set_flags, true), (clear_flags, false)] {
        let Some(flags) = flags else { continue };
        for (bit, key) in TRUST_FLAGS {
            if flags & bit != 0 {
                details.set(key, value);
            }
        }
    }
    if set_flags.is_some() || clear_flags.is_some() {
        fx.add_source(E::TrustlineFlagsUpdated, details);
    }
}

pub fn allow_trust(fx: &mut Fx<'_, '_>, op: &AllowTrustOp) -> Res<()> {
    let issuer = muxed_account_id(&fx.source);
    let asset = match &op.asset {
        AssetCode::CreditAlphanum4(code) => Asset::CreditAlphanum4(AlphaNum4 {
            asset_code: code.clone(),
            issuer,
        }),
        AssetCode::CreditAlphanum12(code) => Asset::CreditAlphanum12(AlphaNum12 {
            asset_code: code.clone(),
            issuer,
        }),
    };
    let mut details = obj([("trustor", strkey::account_id(&op.trustor).into())]);
    add_asset(&mut details, &asset, &PLAIN);
    fx.add_source(E::TrustlineFlagsUpdated, details);
    let authorize = op.authorize;
    if authorize & AUTHORIZED != 0 {
        add_flags_effect(fx, &op.trustor, &asset, Some(AUTHORIZED), None);
    } else if authorize & AUTHORIZED_TO_MAINTAIN_LIABILITIES != 0 {
        add_flags_effect(fx, &op.trustor, &asset, Some(AUTHORIZED_TO_MAINTAIN_LIABILITIES), None);
    } else {
        add_flags_effect(
            fx,
            &op.trustor,
            &asset,
            None,
            Some(AUTHORIZED | AUTHORIZED_TO_MAINTAIN_LIABILITIES),
        );
    }
    add_pool_revoked(fx)
}

pub fn set_trust_line_flags(fx: &mut Fx<'_, '_>, op: &SetTrustLineFlagsOp) -> Res<()> {
    add_flags_effect(fx, &op.trustor, &op.asset, Some(op.set_flags), Some(op.clear_flags));
    add_pool_revoked(fx)
}

/// Go's `Asset.LessThan` order: type, then code, then issuer.
fn asset_order(asset: &Asset) -> (i32, String, String) {
    let (_, code, issuer) = extract_asset(asset);
    let kind = match asset {
        Asset::Native => 0,
        Asset::CreditAlphanum4(_) => 1,
        Asset::CreditAlphanum12(_) => 2,
    };
    (kind, code, issuer)
}

/// Claimable balances created by a revocation, then `liquidity_pool_revoked` (if a pool changed).
pub fn add_pool_revoked(fx: &mut Fx<'_, '_>) -> Res<()> {
    let changes = fx.changes()?;
    let Some(pool) = pool_change(changes, None) else {
        return Ok(());
    };
    let mut created = Vec::new();
    for c in changes {
        if c.entry_type == LedgerEntryType::ClaimableBalance && c.pre.is_none() && c.post.is_some() {
            created.push(balance_of(c.post)?);
        }
    }
    if created.is_empty() {
        return Ok(());
    }
    let balance_ids: HashMap<String, String> = created
        .iter()
        .map(|cb| (canonical_asset(&cb.asset), balance_id_hex(&cb.balance_id)))
        .collect();
    let mut ordered: Vec<_> = created.iter().map(|cb| (asset_order(&cb.asset), *cb)).collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, entry) in ordered {
        add_balance_created(fx, entry)?;
    }
    let (asset_a, asset_b) = pool_assets(pool.entry);
    let mut revoked = Vec::new();
    for (asset, delta) in [(asset_a, pool.reserve_a), (asset_b, pool.reserve_b)] {
        if let Some(id) = balance_ids.get(&asset) {
            revoked.push(Val::Obj(obj([
                ("asset", asset.clone().into()),
                ("amount", amount(-delta).into()),
                ("claimable_balance_id", id.clone().into()),
            ])));
        }
    }
    fx.add_source(
        E::LiquidityPoolRevoked,
        obj([
            ("liquidity_pool", Val::Obj(pool_details(pool.entry))),
            ("reserves_revoked", Val::List(revoked)),
            ("shares_revoked", amount(-pool.shares).into()),
        ]),
    );
    Ok(())
}
