//! Sponsorship effects, which any operation can cause, read from its ledger-entry changes
//! (reference: `beam_pipeline/records/effects/sponsorship.py`).

use std::collections::{BTreeMap, BTreeSet};

use stellar_xdr::curr::{LedgerEntryData, LedgerEntryType, TrustLineAsset};

use super::accounts::account_of;
use super::common::{none_attr, obj, sponsor_of, value_error, Fx, Res, E};
use crate::records::operations::changes::{signer_sponsors, Change};
use crate::records::operations::claimable::balance_id_hex;
use crate::util::assets::{canonical_asset, pool_id_hex, trust_line_asset_to_asset};
use crate::util::goformat::go_string;

/// (created, updated, removed) effect per sponsorable entry type.
fn entry_effects(kind: LedgerEntryType) -> Option<(E, E, E)> {
    Some(match kind {
        LedgerEntryType::Account => (
            E::AccountSponsorshipCreated,
            E::AccountSponsorshipUpdated,
            E::AccountSponsorshipRemoved,
        ),
        LedgerEntryType::Trustline => (
            E::TrustlineSponsorshipCreated,
            E::TrustlineSponsorshipUpdated,
            E::TrustlineSponsorshipRemoved,
        ),
        LedgerEntryType::Data => (
            E::DataSponsorshipCreated,
            E::DataSponsorshipUpdated,
            E::DataSponsorshipRemoved,
        ),
        LedgerEntryType::ClaimableBalance => (
            E::ClaimableBalanceSponsorshipCreated,
            E::ClaimableBalanceSponsorshipUpdated,
            E::ClaimableBalanceSponsorshipRemoved,
        ),
        _ => return None,
    })
}

/// The sponsorship effect of one entry change, if its sponsor appeared, changed or went away.
pub fn add_entry_sponsorship(fx: &mut Fx<'_, '_>, change: &Change<'_>) -> Res<()> {
    let Some((created, updated, removed)) = entry_effects(change.entry_type) else {
        return Ok(());
    };
    let (before, after) = (sponsor_of(change.pre), sponsor_of(change.post));
    let (effect, mut details) = match (before, after) {
        (None, Some(after)) => (created, obj([("sponsor", after.into())])),
        (Some(before), None) => (removed, obj([("former_sponsor", before.into())])),
        (Some(before), Some(after)) if before != after => (
            updated,
            obj([("new_sponsor", after.into()), ("former_sponsor", before.into())]),
        ),
        _ => return Ok(()),
    };
    let Some(entry) = change.post.or(change.pre) else {
        return Ok(());
    };
    match &entry.data {
        LedgerEntryData::Account(a) => fx.add_account_id(&a.account_id, effect, details),
        LedgerEntryData::Trustline(line) => {
            match &line.asset {
                TrustLineAsset::PoolShare(id) => {
                    details.set("asset_type", "liquidity_pool");
                    details.set("liquidity_pool_id", pool_id_hex(&id.0 .0));
                }
                other => {
                    let asset = trust_line_asset_to_asset(other).map_err(value_error)?;
                    details.set("asset", canonical_asset(&asset));
                }
            }
            fx.add_account_id(&line.account_id, effect, details);
        }
        LedgerEntryData::Data(d) => {
            details.set("data_name", go_string(d.data_name.0.as_slice()));
            fx.add_source(effect, details);
        }
        LedgerEntryData::ClaimableBalance(cb) => {
            details.set("balance_id", balance_id_hex(&cb.balance_id));
            fx.add_source(effect, details);
        }
        _ => return Err(none_attr("balance_id")),
    }
    Ok(())
}

/// Signer sponsorship effects of an account change, one per signer whose sponsor changed.
pub fn add_signer_sponsorship(fx: &mut Fx<'_, '_>, change: &Change<'_>) -> Res<()> {
    if change.entry_type != LedgerEntryType::Account {
        return Ok(());
    }
    let sponsors = |side| -> Res<_> {
        match side {
            None => Ok(Default::default()),
            // As a dict: a repeated signer keeps the last sponsor.
            Some(_) => Ok(signer_sponsors(account_of(side)?)
                .map_err(value_error)?
                .into_iter()
                .collect::<BTreeMap<String, String>>()),
        }
    };
    let before = sponsors(change.pre)?;
    let after = sponsors(change.post)?;
    let signers: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for signer in signers {
        match (before.get(signer), after.get(signer)) {
            (None, Some(new)) => fx.add_account_id(
                &account_of(change.post)?.account_id,
                E::SignerSponsorshipCreated,
                obj([("sponsor", new.clone().into()), ("signer", signer.clone().into())]),
            ),
            (Some(old), None) => fx.add_account_id(
                &account_of(change.pre)?.account_id,
                E::SignerSponsorshipRemoved,
                obj([
                    ("former_sponsor", old.clone().into()),
                    ("signer", signer.clone().into()),
                ]),
            ),
            (Some(old), Some(new)) if old != new => fx.add_account_id(
                &account_of(change.post)?.account_id,
                E::SignerSponsorshipUpdated,
                obj([
                    ("former_sponsor", old.clone().into()),
                    ("new_sponsor", new.clone().into()),
                    ("signer", signer.clone().into()),
                ]),
            ),
            _ => {}
        }
    }
    Ok(())
}
