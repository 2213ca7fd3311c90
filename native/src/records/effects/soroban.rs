//! Effects of Soroban operations: invoke_host_function (from Stellar Asset Contract events), extend_footprint_ttl
//! and restore_footprint (reference: `beam_pipeline/records/effects/soroban.py`, which documents which SAC
//! events count).

use stellar_xdr::curr::{
    ContractEvent, FeeBumpTransactionInnerTx, LedgerEntryData, ScAddress, TransactionEnvelope, TransactionExt,
    TransactionMeta,
};

use super::common::{add_asset, amount, obj, Fx, Res, E, PLAIN};
use super::standin::sac_balance_change;
use crate::arrow_out::base64;
use crate::scval::address_strkey;
use crate::util::pyjson::{Details, Val};

fn is_soroban(env: &TransactionEnvelope) -> bool {
    match env {
        TransactionEnvelope::TxV0(_) => false,
        TransactionEnvelope::Tx(e) => matches!(e.tx.ext, TransactionExt::V1(_)),
        TransactionEnvelope::TxFeeBump(e) => match &e.tx.inner_tx {
            FeeBumpTransactionInnerTx::Tx(i) => matches!(i.tx.ext, TransactionExt::V1(_)),
        },
    }
}

/// The Go SDK's `GetContractEvents`: a Soroban transaction's contract events (of its one operation).
fn operation_events<'a>(fx: &Fx<'a, '_>) -> Res<&'a [ContractEvent]> {
    if !is_soroban(fx.ctx.tx.envelope) {
        return Err(fx
            .ctx
            .error("invoke_host_function in a transaction without Soroban data"));
    }
    Ok(match fx.ctx.tx.meta {
        TransactionMeta::V3(m) => m.soroban_meta.as_ref().map_or(&[][..], |s| s.events.as_slice()),
        TransactionMeta::V4(m) => m.operations.first().map_or(&[][..], |o| o.events.as_slice()),
        _ => &[],
    })
}

fn party(fx: &mut Fx<'_, '_>, address: &ScAddress, mut details: Details, account: E, contract: E) {
    let text = address_strkey(address);
    if matches!(address, ScAddress::Account(_)) {
        fx.add(text, account, details, None);
    } else {
        details.set("contract", text);
        fx.add_source(contract, details);
    }
}

pub fn invoke_host_function(fx: &mut Fx<'_, '_>) -> Res<()> {
    let network_id = fx.ctx.network_id;
    for event in operation_events(fx)? {
        let Some(change) = sac_balance_change(event, network_id) else {
            continue;
        };
        let mut details = Details::new();
        add_asset(&mut details, &change.asset, &PLAIN);
        details.set("contract_event_type", change.kind);
        details.set("amount", amount(change.amount));
        let to_details = details.clone();
        if let Some(from) = &change.from {
            party(fx, from, details, E::AccountDebited, E::ContractDebited);
        }
        if let Some(to) = &change.to {
            party(fx, to, to_details, E::AccountCredited, E::ContractCredited);
        }
    }
    Ok(())
}

/// TTL key XDR: the LedgerEntryType TTL (9) then the key hash.
fn ttl_key_base64(key_hash: &[u8; 32]) -> String {
    let mut raw = [0u8; 36];
    raw[3] = 9;
    raw[4..].copy_from_slice(key_hash);
    base64(&raw)
}

/// Base64 TTL ledger keys of the entries the operation touched (every change must have a post state).
fn ttl_keys(fx: &Fx<'_, '_>) -> Res<Val> {
    let mut entries = Vec::new();
    for change in fx.changes()? {
        let Some(post) = change.post else {
            return Err(fx.ctx.error("footprint operation removed a ledger entry"));
        };
        if let LedgerEntryData::Ttl(ttl) = &post.data {
            entries.push(Val::Str(ttl_key_base64(&ttl.key_hash.0)));
        }
    }
    Ok(Val::List(entries))
}

pub fn extend_footprint_ttl(fx: &mut Fx<'_, '_>, extend_to: u32) -> Res<()> {
    let entries = ttl_keys(fx)?;
    fx.add_source(
        E::ExtendFootprintTtl,
        obj([("entries", entries), ("extend_to", extend_to.into())]),
    );
    Ok(())
}

pub fn restore_footprint(fx: &mut Fx<'_, '_>) -> Res<()> {
    let entries = ttl_keys(fx)?;
    fx.add_source(E::RestoreFootprint, obj([("entries", entries)]));
    Ok(())
}
