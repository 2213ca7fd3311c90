//! The pre-protocol-8 XLM reconciliation (reference: `beam_pipeline/records/token_transfers/reconcile.py`).
//!
//! The reference compares per-(holder, asset) delta maps of the changes and of the events, and reads only
//! the operation source's XLM entry of each; only account entries hold a `G...` holder's XLM, so here just
//! that one delta is computed on each side (the same numbers, without the maps).

use stellar_xdr::curr::{Asset, LedgerEntryData, Operation};

use super::event::{Addr, Kind, TokenEvent, TxContext};
use crate::records::operations::changes::Change;

/// The XLM balance change of account `key` over the changes.
fn account_delta(changes: &[Change<'_>], key: &[u8; 32]) -> i128 {
    let balance = |e: Option<&stellar_xdr::curr::LedgerEntry>| match e.map(|e| &e.data) {
        Some(LedgerEntryData::Account(a)) => Some((a.account_id.clone(), a.balance as i128)),
        _ => None,
    };
    let mut delta = 0;
    for c in changes {
        let (pre, post) = (balance(c.pre), balance(c.post));
        let Some((id, _)) = post.as_ref().or(pre.as_ref()) else {
            continue;
        };
        if Addr::of_account_id(id) != Addr::Account(*key) {
            continue;
        }
        delta += post.map_or(0, |(_, b)| b) - pre.map_or(0, |(_, b)| b);
    }
    delta
}

/// The XLM balance change of `holder` the events claim.
fn event_delta(events: &[TokenEvent], holder: &Addr) -> i128 {
    let mut delta = 0;
    for e in events {
        if e.asset != Some(Asset::Native) {
            continue;
        }
        let from = e.sender.as_ref() == Some(holder);
        let to = e.receiver.as_ref() == Some(holder);
        match e.kind {
            Kind::Fee | Kind::Burn | Kind::Clawback if from => delta -= e.amount,
            Kind::Transfer => {
                if from {
                    delta -= e.amount;
                }
                if to {
                    delta += e.amount;
                }
            }
            Kind::Mint if to => delta += e.amount,
            _ => {}
        }
    }
    delta
}

/// `events` with a mint first or a burn last for XLM the operation source gained or lost unexplained.
pub fn reconcile_xlm(
    ctx: &TxContext<'_, '_>,
    n: u32,
    op: &Operation,
    changes: &[Change<'_>],
    mut events: Vec<TokenEvent>,
) -> Vec<TokenEvent> {
    let holder = ctx.op_source(op).base();
    let Addr::Account(key) = holder else { return events };
    let diff = account_delta(changes, &key) - event_delta(&events, &holder);
    if diff == 0 {
        return events;
    }
    let event = |kind, sender, receiver, amount| TokenEvent {
        kind,
        sender,
        receiver,
        amount,
        asset: Some(Asset::Native),
        contract_id: ctx.sac_id(&Asset::Native),
        op_index: Some(n),
        to_muxed: None,
    };
    if diff > 0 {
        events.insert(0, event(Kind::Mint, None, Some(holder), diff));
    } else {
        events.push(event(Kind::Burn, Some(holder), None, -diff));
    }
    events
}
