//! Effects of liquidity pools: deposit and withdraw, and the created/removed effects of any operation whose meta
//! creates or removes a pool entry (reference: `beam_pipeline/records/effects/liquidity_pools.py`).

use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType, PoolId};

use super::common::{
    amount, asset_amount, none_attr, obj, pool_assets, pool_change, pool_details, Fx, PoolChange, Res, E,
};
use crate::records::operations::changes::Change;
use crate::util::assets::pool_id_hex;
use crate::util::pyjson::Val;

fn pool<'a>(fx: &Fx<'a, '_>, pool_id: &PoolId) -> Res<PoolChange<'a>> {
    let id = &pool_id.0 .0;
    pool_change(fx.changes()?, Some(id)).ok_or_else(|| {
        fx.ctx.error(format!(
            "liquidity pool {} has no change in the operation's meta",
            pool_id_hex(id)
        ))
    })
}

fn reserves(pool: &PoolChange<'_>, sign: i128) -> Val {
    let (asset_a, asset_b) = pool_assets(pool.entry);
    Val::List(vec![
        asset_amount(asset_a, sign * pool.reserve_a),
        asset_amount(asset_b, sign * pool.reserve_b),
    ])
}

pub fn liquidity_pool_deposit(fx: &mut Fx<'_, '_>, pool_id: &PoolId) -> Res<()> {
    let pool = pool(fx, pool_id)?;
    fx.add_source(
        E::LiquidityPoolDeposited,
        obj([
            ("liquidity_pool", Val::Obj(pool_details(pool.entry))),
            ("reserves_deposited", reserves(&pool, 1)),
            ("shares_received", amount(pool.shares).into()),
        ]),
    );
    Ok(())
}

pub fn liquidity_pool_withdraw(fx: &mut Fx<'_, '_>, pool_id: &PoolId) -> Res<()> {
    let pool = pool(fx, pool_id)?;
    fx.add_source(
        E::LiquidityPoolWithdrew,
        obj([
            ("liquidity_pool", Val::Obj(pool_details(pool.entry))),
            ("reserves_received", reserves(&pool, -1)),
            ("shares_redeemed", amount(-pool.shares).into()),
        ]),
    );
    Ok(())
}

/// `liquidity_pool_created` / `_removed` on the source when the change creates/removes a pool.
pub fn add_pool_entry_effects(fx: &mut Fx<'_, '_>, change: &Change<'_>) -> Res<()> {
    if change.entry_type != LedgerEntryType::LiquidityPool {
        return Ok(());
    }
    match (change.pre, change.post) {
        (None, Some(post)) => {
            let LedgerEntryData::LiquidityPool(p) = &post.data else {
                return Err(none_attr("liquidity_pool"));
            };
            fx.add_source(
                E::LiquidityPoolCreated,
                obj([("liquidity_pool", Val::Obj(pool_details(p)))]),
            );
        }
        (Some(pre), None) => {
            let LedgerEntryData::LiquidityPool(p) = &pre.data else {
                return Err(none_attr("liquidity_pool"));
            };
            fx.add_source(
                E::LiquidityPoolRemoved,
                obj([("liquidity_pool_id", pool_id_hex(&p.liquidity_pool_id.0 .0).into())]),
            );
        }
        _ => {}
    }
    Ok(())
}
