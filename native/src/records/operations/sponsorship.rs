//! Details of sponsorship operations: begin/end sponsoring future reserves and revoke_sponsorship
//! (reference: `sponsorship.py`).

use stellar_xdr::curr::{LedgerKey, OperationBody, RevokeSponsorshipOp, TrustLineAsset};

use super::claimable::{balance_id_hex, balance_id_strkey};
use super::common::{add_account, value_error, OpContext, Res};
use crate::arrow_out::hex;
use crate::strkey;
use crate::util::assets::{canonical_asset, pool_id_strkey, trust_line_asset_to_asset};
use crate::util::goformat::go_string;
use crate::util::pyjson::Details;

pub fn begin_sponsoring_future_reserves(sponsored: &stellar_xdr::curr::AccountId) -> Details {
    let mut d = Details::new();
    d.set("sponsored_id", strkey::account_id(sponsored));
    d
}

/// `begin_sponsor`: the source of the nearest earlier begin op that sponsors this op's source, for successful
/// transactions only.
pub fn end_sponsoring_future_reserves(ctx: &OpContext<'_, '_>) -> Details {
    let mut d = Details::new();
    if !ctx.successful() {
        return d;
    }
    let sponsoree = strkey::account(&ctx.source());
    for op in ctx.ops[..ctx.index.min(ctx.ops.len())].iter().rev() {
        if let OperationBody::BeginSponsoringFutureReserves(begin) = &op.body {
            if strkey::account_id(&begin.sponsored_id) == sponsoree {
                add_account(&mut d, &ctx.source_of(op), "begin_sponsor");
                break;
            }
        }
    }
    d
}

fn ledger_key_details(d: &mut Details, key: &LedgerKey) -> Res<()> {
    match key {
        LedgerKey::Account(k) => d.set("account_id", strkey::account_id(&k.account_id)),
        LedgerKey::ClaimableBalance(k) => {
            d.set("claimable_balance_id", balance_id_hex(&k.balance_id));
            d.set("claimable_balance_id_strkey", balance_id_strkey(&k.balance_id));
        }
        LedgerKey::Data(k) => {
            d.set("data_account_id", strkey::account_id(&k.account_id));
            d.set("data_name", go_string(k.data_name.0.as_slice()));
        }
        LedgerKey::Offer(k) => d.set("offer_id", k.offer_id),
        LedgerKey::Trustline(k) => {
            d.set("trustline_account_id", strkey::account_id(&k.account_id));
            if let TrustLineAsset::PoolShare(pool) = &k.asset {
                d.set("trustline_liquidity_pool_id", hex(&pool.0 .0));
                d.set("trustline_liquidity_pool_id_strkey", pool_id_strkey(&pool.0 .0));
            } else {
                let asset = trust_line_asset_to_asset(&k.asset).map_err(value_error)?;
                d.set("trustline_asset", canonical_asset(&asset));
            }
        }
        LedgerKey::LiquidityPool(k) => {
            let id = &k.liquidity_pool_id.0 .0;
            d.set("liquidity_pool_id", hex(id));
            d.set("liquidity_pool_id_strkey", pool_id_strkey(id));
        }
        // Soroban entry keys cannot be sponsored; stellar-etl adds nothing for them.
        LedgerKey::ContractData(_) | LedgerKey::ContractCode(_) | LedgerKey::ConfigSetting(_) | LedgerKey::Ttl(_) => {}
    }
    Ok(())
}

pub fn revoke_sponsorship(op: &RevokeSponsorshipOp) -> Res<Details> {
    let mut d = Details::new();
    match op {
        RevokeSponsorshipOp::LedgerEntry(key) => ledger_key_details(&mut d, key)?,
        RevokeSponsorshipOp::Signer(s) => {
            d.set("signer_account_id", strkey::account_id(&s.account_id));
            d.set("signer_key", strkey::signer(&s.signer_key));
        }
    }
    Ok(d)
}
