//! Details of liquidity-pool operations: deposit and withdraw (reference: `liquidity_pools.py`, which explains
//! why the amounts come from the pool entry's change and the zero values of failed transactions).

use stellar_xdr::curr::{
    Asset, LedgerEntry, LedgerEntryData, LedgerEntryType, LiquidityPoolDepositOp, LiquidityPoolEntryBody,
    LiquidityPoolEntryConstantProduct, LiquidityPoolWithdrawOp,
};

use super::common::{add_asset, add_price, stroops_to_real, OpContext, Res};
use crate::arrow_out::hex;
use crate::util::assets::pool_id_strkey;
use crate::util::pyjson::Details;

/// A pool's assets and how its reserves and shares changed within one operation.
pub struct PoolDelta {
    pub asset_a: Asset,
    pub asset_b: Asset,
    pub reserve_a: i128,
    pub reserve_b: i128,
    pub shares: i128,
}

fn no_delta() -> PoolDelta {
    PoolDelta {
        asset_a: Asset::Native,
        asset_b: Asset::Native,
        reserve_a: 0,
        reserve_b: 0,
        shares: 0,
    }
}

/// The pool id and constant-product body of a liquidity pool entry (None for another entry type).
fn pool_of(entry: &LedgerEntry) -> Option<(&[u8; 32], &LiquidityPoolEntryConstantProduct)> {
    match &entry.data {
        LedgerEntryData::LiquidityPool(lp) => {
            let LiquidityPoolEntryBody::LiquidityPoolConstantProduct(cp) = &lp.body;
            Some((&lp.liquidity_pool_id.0 .0, cp))
        }
        _ => None,
    }
}

/// The first change to pool `pool_id` among the operation's (sorted) changes.
pub fn pool_delta(ctx: &OpContext<'_, '_>, pool_id: &[u8; 32]) -> Res<PoolDelta> {
    for change in ctx.changes()? {
        if change.entry_type != LedgerEntryType::LiquidityPool {
            continue;
        }
        let mut pre = None;
        let mut post = None;
        if let Some(entry) = change.pre {
            match pool_of(entry) {
                Some((id, cp)) if id == pool_id => pre = Some(cp),
                _ => continue,
            }
        }
        if let Some(entry) = change.post {
            match pool_of(entry) {
                Some((id, cp)) if id == pool_id => post = Some(cp),
                _ => continue,
            }
        }
        let Some(latest) = post.or(pre) else { continue };
        let amounts = |cp: Option<&LiquidityPoolEntryConstantProduct>| {
            cp.map_or((0i128, 0i128, 0i128), |c| {
                (c.reserve_a as i128, c.reserve_b as i128, c.total_pool_shares as i128)
            })
        };
        let ((pa, pb, ps), (qa, qb, qs)) = (amounts(pre), amounts(post));
        return Ok(PoolDelta {
            asset_a: latest.params.asset_a.clone(),
            asset_b: latest.params.asset_b.clone(),
            reserve_a: qa - pa,
            reserve_b: qb - pb,
            shares: qs - ps,
        });
    }
    Err(ctx.error(format!("liquidity pool change not found for pool {}", hex(pool_id))))
}

fn pool_id_details(d: &mut Details, pool_id: &[u8; 32]) {
    d.set("liquidity_pool_id", hex(pool_id));
    d.set("liquidity_pool_id_strkey", pool_id_strkey(pool_id));
}

pub fn liquidity_pool_deposit(ctx: &OpContext<'_, '_>, op: &LiquidityPoolDepositOp) -> Res<Details> {
    let pool_id = &op.liquidity_pool_id.0 .0;
    let mut d = Details::new();
    pool_id_details(&mut d, pool_id);
    let delta = if ctx.successful() {
        pool_delta(ctx, pool_id)?
    } else {
        no_delta()
    };
    add_asset(&mut d, &delta.asset_a, "reserve_a");
    d.set("reserve_a_max_amount", stroops_to_real(op.max_amount_a as i128));
    d.set("reserve_a_deposit_amount", stroops_to_real(delta.reserve_a));
    add_asset(&mut d, &delta.asset_b, "reserve_b");
    d.set("reserve_b_max_amount", stroops_to_real(op.max_amount_b as i128));
    d.set("reserve_b_deposit_amount", stroops_to_real(delta.reserve_b));
    add_price(&mut d, &op.min_price, "min")?;
    add_price(&mut d, &op.max_price, "max")?;
    d.set("shares_received", stroops_to_real(delta.shares));
    Ok(d)
}

pub fn liquidity_pool_withdraw(ctx: &OpContext<'_, '_>, op: &LiquidityPoolWithdrawOp) -> Res<Details> {
    let pool_id = &op.liquidity_pool_id.0 .0;
    let mut d = Details::new();
    pool_id_details(&mut d, pool_id);
    let delta = if ctx.successful() {
        pool_delta(ctx, pool_id)?
    } else {
        no_delta()
    };
    add_asset(&mut d, &delta.asset_a, "reserve_a");
    d.set("reserve_a_min_amount", stroops_to_real(op.min_amount_a as i128));
    d.set("reserve_a_withdraw_amount", stroops_to_real(-delta.reserve_a));
    add_asset(&mut d, &delta.asset_b, "reserve_b");
    d.set("reserve_b_min_amount", stroops_to_real(op.min_amount_b as i128));
    d.set("reserve_b_withdraw_amount", stroops_to_real(-delta.reserve_b));
    d.set("shares", stroops_to_real(op.amount as i128));
    Ok(d)
}
