//! Effects of Soroban operations: invoke_host_function (from Stellar Asset Contract events), extend_footprint_ttl
//! and restore_footprint (reference: `beam_pipeline/records/effects/soroban.py`, which documents which SAC
//! events count).

use stellar_xdr::curr::{ContractEvent, LedgerEntryData, TransactionMeta};

use super::common::{obj, Fx, Res, E};
use crate::arrow_out::base64;
use crate::records::contract_events::is_soroban;
use crate::records::operations::soroban::sac_balance_change;
use crate::util::pyjson::{Details, Val};

/// The Go SDK's `GetContractEvents`: a Soroban transaction's contract events (of its one operation).
fn operation_events<'a>(fx: &Fx<'a, '_>) -> Res<&'a [ContractEvent]> {
    if !is_soroban(fx.ctx.tx.envelope) {
        return Err(fx
            .ctx
            .error("invoke_host_function in a transaction without Soroban data".to_string()));
    }
    Ok(match fx.ctx.tx.meta {
        TransactionMeta::V3(m) => m.soroban_meta.as_ref().map_or(&[][..], |s| s.events.as_slice()),
        TransactionMeta::V4(m) => m.operations.first().map_or(&[][..], |o| o.events.as_slice()),
        _ => &[],
    })
}

/// A party of a SAC balance change: a `G...` account gets the account effect; any other address (contract,
/// muxed ...) the contract effect on the operation's source, with the address under `contract`. The addresses
/// are strkeys of `ScAddress`es, so `G` is exactly an account (the reference's `is_valid_ed25519_public_key`).
fn party(fx: &mut Fx<'_, '_>, address: Option<&Val>, mut details: Details, account: E, contract: E) {
    let Some(Val::Str(address)) = address else {
        return;
    };
    if address.starts_with('G') {
        fx.add(address.clone(), account, details, None);
    } else {
        details.set("contract", address.clone());
        fx.add_source(contract, details);
    }
}

pub fn invoke_host_function(fx: &mut Fx<'_, '_>) -> Res<()> {
    let network_id = fx.ctx.network_id;
    for event in operation_events(fx)? {
        let Some(Val::Obj(change)) = sac_balance_change(event, network_id)? else {
            continue;
        };
        let mut details = Details::new();
        for key in ["asset_type", "asset_code", "asset_issuer"] {
            if let Some(v) = change.get(key) {
                details.set(key, v.clone());
            }
        }
        details.set("contract_event_type", change.get("type").cloned().unwrap_or(Val::Null));
        details.set("amount", change.get("amount").cloned().unwrap_or(Val::Null));
        let to_details = details.clone();
        party(fx, change.get("from"), details, E::AccountDebited, E::ContractDebited);
        party(
            fx,
            change.get("to"),
            to_details,
            E::AccountCredited,
            E::ContractCredited,
        );
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
            return Err(fx.ctx.error("footprint operation removed a ledger entry".to_string()));
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
