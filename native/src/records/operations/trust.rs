//! Details of trust-line operations: change_trust, allow_trust, set_trust_line_flags and clawback
//! (reference: `trust.py`).

use stellar_xdr::curr::{
    AccountId, AllowTrustOp, Asset, AssetCode, ChangeTrustAsset, ChangeTrustOp, ClawbackOp, MuxedAccount, PublicKey,
    SetTrustLineFlagsOp,
};

use super::common::{add_account, add_asset, flag_lists, stroops_to_real, value_error, OpContext, Res};
use crate::strkey;
use crate::util::assets::{
    change_trust_asset_to_asset, pool_id_from_params, pool_id_hex, pool_id_strkey, LIQUIDITY_POOL_SHARES,
};
use crate::util::pyjson::{Details, Val};

pub const TRUST_LINE_FLAGS: &[(u32, &str)] = &[
    (1, "authorized"),
    (2, "authorized_to_maintain_liabilities"),
    (4, "clawback_enabled"),
];

pub fn change_trust(ctx: &OpContext<'_, '_>, op: &ChangeTrustOp) -> Res<Details> {
    let mut d = Details::new();
    if let ChangeTrustAsset::PoolShare(params) = &op.line {
        let pool_id = pool_id_from_params(params).map_err(value_error)?;
        d.set("asset_type", LIQUIDITY_POOL_SHARES);
        d.set("liquidity_pool_id", pool_id_hex(&pool_id));
        d.set("liquidity_pool_id_strkey", pool_id_strkey(&pool_id));
    } else {
        add_asset(&mut d, &change_trust_asset_to_asset(&op.line).map_err(value_error)?, "");
        // The issuer is the trustee; the native asset has none (JSON null).
        let trustee = d.get("asset_issuer").cloned().unwrap_or(Val::Null);
        d.set("trustee", trustee);
    }
    add_account(&mut d, &ctx.source(), "trustor");
    d.set("limit", stroops_to_real(op.limit as i128));
    Ok(d)
}

/// allow_trust names only a code; the asset's issuer is the operation's source account.
fn issued_by_source(source: &MuxedAccount, code: &AssetCode) -> Asset {
    let key = match source {
        MuxedAccount::Ed25519(k) => k.clone(),
        MuxedAccount::MuxedEd25519(m) => m.ed25519.clone(),
    };
    let issuer = AccountId(PublicKey::PublicKeyTypeEd25519(key));
    match code {
        AssetCode::CreditAlphanum4(c) => Asset::CreditAlphanum4(stellar_xdr::curr::AlphaNum4 {
            asset_code: c.clone(),
            issuer,
        }),
        AssetCode::CreditAlphanum12(c) => Asset::CreditAlphanum12(stellar_xdr::curr::AlphaNum12 {
            asset_code: c.clone(),
            issuer,
        }),
    }
}

pub fn allow_trust(ctx: &OpContext<'_, '_>, op: &AllowTrustOp) -> Details {
    let mut d = Details::new();
    let source = ctx.source();
    add_asset(&mut d, &issued_by_source(&source, &op.asset), "");
    add_account(&mut d, &source, "trustee");
    d.set("trustor", strkey::account_id(&op.trustor));
    let flags = op.authorize;
    d.set("authorize", flags & 1 != 0);
    // The two newer flags appear only when set.
    if flags & 2 != 0 {
        d.set("authorize_to_maintain_liabilities", true);
    }
    if flags & 4 != 0 {
        d.set("clawback_enabled", true);
    }
    d
}

/// stellar-etl builds these lists from nil slices: no named bit means JSON null, not [].
fn add_trust_line_flags(d: &mut Details, flags: u32, prefix: &str) {
    if flags == 0 {
        return;
    }
    let (numbers, names) = flag_lists(flags, TRUST_LINE_FLAGS);
    let or_null = |v: Vec<Val>| if v.is_empty() { Val::Null } else { Val::List(v) };
    d.set(format!("{prefix}_flags"), or_null(numbers));
    d.set(format!("{prefix}_flags_s"), or_null(names));
}

pub fn set_trust_line_flags(op: &SetTrustLineFlagsOp) -> Details {
    let mut d = Details::new();
    d.set("trustor", strkey::account_id(&op.trustor));
    add_asset(&mut d, &op.asset, "");
    add_trust_line_flags(&mut d, op.set_flags, "set");
    add_trust_line_flags(&mut d, op.clear_flags, "clear");
    d
}

pub fn clawback(op: &ClawbackOp) -> Details {
    let mut d = Details::new();
    add_asset(&mut d, &op.asset, "");
    add_account(&mut d, &op.from, "from");
    d.set("amount", stroops_to_real(op.amount as i128));
    d
}
