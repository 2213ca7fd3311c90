//! Sponsorship effects, which any operation can cause, read from its ledger-entry changes
//! (reference: `beam_pipeline/records/effects/sponsorship.py`).

use std::collections::BTreeSet;

use stellar_xdr::curr::{Asset, LedgerEntryData, LedgerEntryType, TrustLineAsset};

use super::accounts::account_of;
use super::common::{none_attr, sponsor_of, value_error, Fx, Res, E};
use super::details::Details;
use super::standin::{balance_id_hex, canonical_asset, signer_sponsors, Change};
use crate::arrow_out::{go_string, hex};

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

/// The plain Asset behind a non-pool trust-line asset.
pub fn trust_line_asset(line: &TrustLineAsset) -> Option<Asset> {
    match line {
        TrustLineAsset::Native => Some(Asset::Native),
        TrustLineAsset::CreditAlphanum4(a) => Some(Asset::CreditAlphanum4(a.clone())),
        TrustLineAsset::CreditAlphanum12(a) => Some(Asset::CreditAlphanum12(a.clone())),
        TrustLineAsset::PoolShare(_) => None,
    }
}

/// The sponsorship effect of one entry change, if its sponsor appeared, changed or went away.
pub fn add_entry_sponsorship(fx: &mut Fx<'_, '_>, change: &Change<'_>) -> Res<()> {
    let Some((created, updated, removed)) = entry_effects(change.kind) else {
        return Ok(());
    };
    let (before, after) = (sponsor_of(change.pre), sponsor_of(change.post));
    let (effect, mut details) = match (before, after) {
        (None, Some(after)) => (created, Details::of([("sponsor", after.into())])),
        (Some(before), None) => (removed, Details::of([("former_sponsor", before.into())])),
        (Some(before), Some(after)) if before != after => (
            updated,
            Details::of([("new_sponsor", after.into()), ("former_sponsor", before.into())]),
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
                    details.set("liquidity_pool_id", hex(&id.0 .0));
                }
                other => {
                    let asset = trust_line_asset(other).ok_or_else(|| value_error("a pool-share trust line"))?;
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
    if change.kind != LedgerEntryType::Account {
        return Ok(());
    }
    let sponsors = |side| -> Res<_> {
        match side {
            None => Ok(Default::default()),
            Some(_) => signer_sponsors(account_of(side)?).map_err(value_error),
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
                Details::of([("sponsor", new.clone().into()), ("signer", signer.clone().into())]),
            ),
            (Some(old), None) => fx.add_account_id(
                &account_of(change.pre)?.account_id,
                E::SignerSponsorshipRemoved,
                Details::of([
                    ("former_sponsor", old.clone().into()),
                    ("signer", signer.clone().into()),
                ]),
            ),
            (Some(old), Some(new)) if old != new => fx.add_account_id(
                &account_of(change.post)?.account_id,
                E::SignerSponsorshipUpdated,
                Details::of([
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
