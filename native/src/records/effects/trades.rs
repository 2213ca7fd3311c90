//! Effects of filled offers: manage_sell_offer, manage_buy_offer, create_passive_sell_offer, and the fills of
//! path payments (reference: `beam_pipeline/records/effects/trades.py`, which documents the four effect pairs
//! of an order-book fill).

use stellar_xdr::curr::{ManageBuyOfferResult, ManageSellOfferResult, MuxedAccount, OperationResultTr};

use super::common::{
    add_asset, amount, obj, pool_change, pool_details, read_claim, value_error, Claim, Fx, Res, BOUGHT, E, SOLD,
};
use crate::strkey;
use crate::util::assets::{canonical_asset, pool_id_hex};
use crate::util::pyjson::{Details, Val};

const FILL_EFFECTS: [E; 4] = [E::Trade, E::OfferUpdated, E::OfferRemoved, E::OfferCreated];

/// (buyer's details, seller's details) of one order-book fill, as stellar-etl's `tradeDetails`.
fn trade_details(buyer: &MuxedAccount, claim: &Claim<'_>, seller: String) -> (Details, Details) {
    let mut bought = obj([
        ("offer_id", claim.offer_id.into()),
        ("seller", seller.into()),
        ("bought_amount", amount(claim.amount_sold as i128).into()),
        ("sold_amount", amount(claim.amount_bought as i128).into()),
    ]);
    add_asset(&mut bought, claim.asset_sold, &BOUGHT);
    add_asset(&mut bought, claim.asset_bought, &SOLD);
    let mut sold = obj([
        ("offer_id", claim.offer_id.into()),
        ("bought_amount", amount(claim.amount_bought as i128).into()),
        ("sold_amount", amount(claim.amount_sold as i128).into()),
        ("seller", strkey::account(buyer).into()),
    ]);
    if let MuxedAccount::MuxedEd25519(m) = buyer {
        sold.set("seller_muxed", strkey::full(buyer));
        sold.set("seller_muxed_id", Val::UInt(m.id));
    }
    add_asset(&mut sold, claim.asset_bought, &BOUGHT);
    add_asset(&mut sold, claim.asset_sold, &SOLD);
    (bought, sold)
}

fn pool_trade(fx: &mut Fx<'_, '_>, claim: &Claim<'_>) -> Res<()> {
    let pool = pool_change(fx.changes()?, claim.pool_id);
    let Some(pool) = pool else {
        let id = claim.pool_id.map(|p| pool_id_hex(p)).unwrap_or_default();
        return Err(fx
            .ctx
            .error(format!("liquidity pool {id} of a fill has no change in the meta")));
    };
    let side = |asset, value: i64| {
        Val::Obj(obj([
            ("asset", Val::Str(canonical_asset(asset))),
            ("amount", amount(value as i128).into()),
        ]))
    };
    fx.add_source(
        E::LiquidityPoolTrade,
        obj([
            ("liquidity_pool", Val::Obj(pool_details(pool.entry))),
            ("sold", side(claim.asset_sold, claim.amount_sold)),
            ("bought", side(claim.asset_bought, claim.amount_bought)),
        ]),
    );
    Ok(())
}

/// The effects of an operation's fills (stellar-etl's `addIngestTradeEffects`).
pub fn add_fills(fx: &mut Fx<'_, '_>, buyer: &MuxedAccount, claims: &[Claim<'_>], strict_send: bool) -> Res<()> {
    for claim in claims {
        if claim.amount_sold == 0 && claim.amount_bought == 0 {
            continue;
        }
        let Some(seller) = &claim.seller else {
            pool_trade(fx, claim)?;
            continue;
        };
        let (bought, sold) = trade_details(buyer, claim, strkey::account_id(seller));
        for effect in FILL_EFFECTS {
            if effect == E::OfferCreated && strict_send {
                continue;
            }
            fx.add_muxed(buyer, effect, bought.clone());
            fx.add_account_id(seller, effect, sold.clone());
        }
    }
    Ok(())
}

fn offer_fills(fx: &mut Fx<'_, '_>, claimed: Option<&stellar_xdr::curr::ManageOfferSuccessResult>) -> Res<()> {
    let Some(success) = claimed else {
        return Err(value_error(
            "successful offer operation without a success result".to_string(),
        ));
    };
    let claims: Vec<_> = success.offers_claimed.iter().map(read_claim).collect();
    let source = fx.source.clone();
    add_fills(fx, &source, &claims, false)
}

pub fn manage_sell_offer(fx: &mut Fx<'_, '_>) -> Res<()> {
    let success = match fx.tr()? {
        OperationResultTr::ManageSellOffer(ManageSellOfferResult::Success(s)) => Some(s),
        _ => None,
    };
    offer_fills(fx, success)
}

pub fn manage_buy_offer(fx: &mut Fx<'_, '_>) -> Res<()> {
    let success = match fx.tr()? {
        OperationResultTr::ManageBuyOffer(ManageBuyOfferResult::Success(s)) => Some(s),
        _ => None,
    };
    offer_fills(fx, success)
}

/// stellar-core sets the manage_sell_offer arm on some passive-offer results; both are accepted.
pub fn create_passive_sell_offer(fx: &mut Fx<'_, '_>) -> Res<()> {
    let success = match fx.tr()? {
        OperationResultTr::ManageSellOffer(ManageSellOfferResult::Success(s))
        | OperationResultTr::CreatePassiveSellOffer(ManageSellOfferResult::Success(s)) => Some(s),
        _ => None,
    };
    offer_fills(fx, success)
}
