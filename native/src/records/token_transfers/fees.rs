//! Fee events: what each transaction paid, and the Soroban refund, as CAP-67 reports them
//! (reference: `beam_pipeline/records/token_transfers/fees.py`, which says where each amount comes from).

use stellar_xdr::curr::{
    Asset, ContractEventBody, ContractEventType, MuxedAccount, ScVal, TransactionEnvelope, TransactionMeta,
};

use super::contract::{address_of, i128_value};
use super::event::{Addr, Kind, TokenEvent, TtError, TtResult, TxContext};
use crate::util::accounts::balance_span;

/// The key of the account that paid the fee (the fee-bump's fee source, else the transaction source).
fn fee_account(ctx: &TxContext<'_, '_>) -> [u8; 32] {
    let payer = match ctx.tx.envelope {
        TransactionEnvelope::TxFeeBump(e) => &e.tx.fee_source,
        _ => match &ctx.source {
            Addr::Account(k) | Addr::Muxed(k, _) => return *k,
            _ => return [0; 32], // a transaction source is always an account
        },
    };
    match payer {
        MuxedAccount::Ed25519(k) => k.0,
        MuxedAccount::MuxedEd25519(m) => m.ed25519.0,
    }
}

fn fee(ctx: &TxContext<'_, '_>, payer: Addr, amount: i128) -> TokenEvent {
    TokenEvent {
        kind: Kind::Fee,
        sender: Some(payer),
        receiver: None,
        amount,
        asset: Some(Asset::Native),
        contract_id: ctx.sac_id(&Asset::Native),
        op_index: None,
        to_muxed: None,
    }
}

/// The charge (and any refund) derived from the result and the fee-account balance changes.
pub fn derived_fee_events(ctx: &TxContext<'_, '_>) -> TtResult<Vec<TokenEvent>> {
    let key = fee_account(ctx);
    let payer = Addr::Account(key);
    let tx = ctx.tx;
    if !ctx.is_soroban() {
        return Ok(vec![fee(ctx, payer, tx.result_pair.result.fee_charged as i128)]);
    }
    let (start, end) = balance_span(tx.fee_changes.0.iter(), Some(&key));
    if end > start {
        return Err(TtError::Token(format!(
            "{}: fee account balance rose during fee processing",
            ctx.place()
        )));
    }
    let mut events = vec![fee(ctx, payer.clone(), start as i128 - end as i128)];
    let after = match ctx.tx.meta {
        TransactionMeta::V3(m) => &m.tx_changes_after,
        TransactionMeta::V4(m) => &m.tx_changes_after,
        other => {
            let v = match other {
                TransactionMeta::V0(_) => 0,
                TransactionMeta::V1(_) => 1,
                _ => 2,
            };
            return Err(TtError::Token(format!(
                "{}: Soroban transaction with TransactionMeta v{v}",
                ctx.place()
            )));
        }
    };
    let post = tx.post_apply_fee_changes.map(|c| c.0.as_slice()).unwrap_or(&[]);
    let (start, end) = balance_span(after.0.iter().chain(post.iter()), Some(&key));
    if start > end {
        return Err(TtError::Token(format!(
            "{}: fee account balance fell in the refund",
            ctx.place()
        )));
    }
    if end > start {
        events.push(fee(ctx, payer, start as i128 - end as i128));
    }
    Ok(events)
}

/// Whether the meta carries CAP-67 transaction-level events (then every event is read from it).
pub fn has_unified_fee_events(meta: &TransactionMeta) -> bool {
    matches!(meta, TransactionMeta::V4(m) if !m.events.is_empty())
}

/// The `fee` events of the transaction-level events (one charge, at most one refund).
pub fn unified_fee_events(ctx: &TxContext<'_, '_>) -> TtResult<Vec<TokenEvent>> {
    let bad = |what: String| TtError::Token(format!("{}: {what}", ctx.place()));
    let TransactionMeta::V4(meta) = ctx.tx.meta else {
        return Err(bad("no transaction-level events".to_string()));
    };
    let contract = ctx.sac_id(&Asset::Native);
    let mut events = Vec::new();
    for tx_event in meta.events.iter() {
        let event = &tx_event.event;
        let contract_hash = match (&event.contract_id, event.type_) {
            (Some(id), ContractEventType::Contract) => &id.0 .0,
            _ => return Err(bad("invalid fee event".to_string())),
        };
        let ContractEventBody::V0(body) = &event.body;
        let topics = body.topics.as_slice();
        match topics.first() {
            Some(ScVal::Symbol(s)) if s.0.as_slice() == b"fee" => {}
            _ => continue, // other transaction-level events may come one day
        }
        if topics.len() != 2 {
            return Err(bad(format!("fee event with {} topics", topics.len())));
        }
        let Some(value) = i128_value(&body.data) else {
            return Err(bad("fee event amount is not an i128".to_string()));
        };
        let Some(payer) = address_of(&topics[1]) else {
            return Err(bad("fee event payer is not an address".to_string()));
        };
        if ctx.contract_strkey(contract_hash) != contract {
            return Err(bad("fee event not from the native asset's contract".to_string()));
        }
        events.push(fee(ctx, payer, value));
    }
    if events.is_empty() || events.len() > 2 {
        return Err(bad(format!("{} fee events (expected 1 or 2)", events.len())));
    }
    Ok(events)
}
