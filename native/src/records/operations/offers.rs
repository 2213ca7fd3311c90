//! Details of order-book offers: manage_buy_offer, manage_sell_offer and create_passive_sell_offer
//! (reference: `offers.py`).

use stellar_xdr::curr::{Asset, CreatePassiveSellOfferOp, ManageBuyOfferOp, ManageSellOfferOp, Price};

use super::common::{add_asset, add_price, stroops_to_real, Res};
use crate::util::pyjson::Details;

fn offer(mut d: Details, amount: i64, price: &Price, buying: &Asset, selling: &Asset) -> Res<Details> {
    d.set("amount", stroops_to_real(amount as i128));
    add_price(&mut d, price, "")?;
    add_asset(&mut d, buying, "buying");
    add_asset(&mut d, selling, "selling");
    Ok(d)
}

/// `amount` is the amount to buy here, the amount to sell for the sell-side operations.
pub fn manage_buy_offer(op: &ManageBuyOfferOp) -> Res<Details> {
    let mut d = Details::new();
    d.set("offer_id", op.offer_id);
    offer(d, op.buy_amount, &op.price, &op.buying, &op.selling)
}

pub fn manage_sell_offer(op: &ManageSellOfferOp) -> Res<Details> {
    let mut d = Details::new();
    d.set("offer_id", op.offer_id);
    offer(d, op.amount, &op.price, &op.buying, &op.selling)
}

pub fn create_passive_sell_offer(op: &CreatePassiveSellOfferOp) -> Res<Details> {
    offer(Details::new(), op.amount, &op.price, &op.buying, &op.selling)
}
