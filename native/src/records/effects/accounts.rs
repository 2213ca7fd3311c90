//! Effects of account operations: create_account, account_merge, inflation, set_options, bump_sequence and
//! manage_data (reference: `beam_pipeline/records/effects/accounts.py`).

use stellar_xdr::curr::{
    AccountEntry, AccountMergeResult, CreateAccountOp, InflationResult, LedgerEntry, LedgerEntryData, LedgerEntryType,
    ManageDataOp, MuxedAccount, OperationResultTr, SetOptionsOp,
};

use std::collections::BTreeMap;

use super::common::{amount, none_attr, obj, Fx, Res, E};
use crate::arrow_out::base64;
use crate::records::changes::account_signers::signer_summary;
use crate::records::operations::changes::Change;
use crate::strkey;
use crate::util::goformat::go_string;
use crate::util::pyjson::{Details, Val};

/// xdr.AccountFlags bits and the keys stellar-etl's setAuthFlagDetails writes for them.
const ACCOUNT_FLAGS: [(u32, &str); 4] = [
    (1, "auth_required_flag"),
    (2, "auth_revocable_flag"),
    (4, "auth_immutable_flag"),
    (8, "auth_clawback_enabled_flag"),
];
const DEFAULT_SIGNER_WEIGHT: i64 = 1;

pub fn create_account(fx: &mut Fx<'_, '_>, op: &CreateAccountOp) -> Res<()> {
    let starting = amount(op.starting_balance as i128);
    fx.add_account_id(
        &op.destination,
        E::AccountCreated,
        obj([("starting_balance", starting.clone().into())]),
    );
    fx.add_source(
        E::AccountDebited,
        obj([("asset_type", "native".into()), ("amount", starting.into())]),
    );
    let destination = strkey::account_id(&op.destination);
    fx.add_account_id(
        &op.destination,
        E::SignerCreated,
        obj([
            ("public_key", destination.into()),
            ("weight", DEFAULT_SIGNER_WEIGHT.into()),
        ]),
    );
    Ok(())
}

pub fn account_merge(fx: &mut Fx<'_, '_>, destination: &MuxedAccount) -> Res<()> {
    let balance = match fx.tr()? {
        OperationResultTr::AccountMerge(AccountMergeResult::Success(b)) => *b,
        OperationResultTr::AccountMerge(_) => return Err(none_attr("int64")),
        _ => return Err(none_attr("source_account_balance")),
    };
    let details = obj([
        ("amount", amount(balance as i128).into()),
        ("asset_type", "native".into()),
    ]);
    fx.add_source(E::AccountDebited, details.clone());
    fx.add_muxed(destination, E::AccountCredited, details);
    fx.add_source(E::AccountRemoved, Details::new());
    Ok(())
}

pub fn inflation(fx: &mut Fx<'_, '_>) -> Res<()> {
    let payouts = match fx.tr()? {
        OperationResultTr::Inflation(InflationResult::Success(p)) => p.as_slice(),
        OperationResultTr::Inflation(_) => &[],
        _ => return Err(none_attr("payouts")),
    };
    for payout in payouts {
        fx.add_account_id(
            &payout.destination,
            E::AccountCredited,
            obj([
                ("amount", amount(payout.amount as i128).into()),
                ("asset_type", "native".into()),
            ]),
        );
    }
    Ok(())
}

fn flag_details(details: &mut Details, flags: u32, value: bool) {
    for (bit, key) in ACCOUNT_FLAGS {
        if flags & bit != 0 {
            details.set(key, value);
        }
    }
}

/// The account entry of a change side (AttributeError of the reference when the side is missing).
pub fn account_of(side: Option<&LedgerEntry>) -> Res<&AccountEntry> {
    match side.map(|e| &e.data) {
        Some(LedgerEntryData::Account(a)) => Ok(a),
        Some(_) => Err(none_attr("account")),
        None => Err(none_attr("data")),
    }
}

fn signer_effects(fx: &mut Fx<'_, '_>, change: &Change<'_>) -> Res<()> {
    // As dicts: equality ignores order, iteration is sorted by signer.
    let before: BTreeMap<String, u32> = signer_summary(account_of(change.pre)?).into_iter().collect();
    let after: BTreeMap<String, u32> = signer_summary(account_of(change.post)?).into_iter().collect();
    if before == after {
        return Ok(());
    }
    for (key, weight) in &before {
        match after.get(key) {
            None => fx.add_source(E::SignerRemoved, obj([("public_key", key.clone().into())])),
            Some(w) if w != weight => fx.add_source(
                E::SignerUpdated,
                obj([("public_key", key.clone().into()), ("weight", (*w).into())]),
            ),
            Some(_) => {}
        }
    }
    for (key, weight) in &after {
        if !before.contains_key(key) {
            fx.add_source(
                E::SignerCreated,
                obj([("public_key", key.clone().into()), ("weight", (*weight).into())]),
            );
        }
    }
    Ok(())
}

pub fn set_options(fx: &mut Fx<'_, '_>, op: &SetOptionsOp) -> Res<()> {
    if let Some(home) = &op.home_domain {
        fx.add_source(
            E::AccountHomeDomainUpdated,
            obj([("home_domain", go_string(home.0.as_slice()).into())]),
        );
    }
    let mut thresholds = Details::new();
    for (key, value) in [
        ("low_threshold", op.low_threshold),
        ("med_threshold", op.med_threshold),
        ("high_threshold", op.high_threshold),
    ] {
        if let Some(v) = value {
            thresholds.set(key, v);
        }
    }
    if !thresholds.is_empty() {
        fx.add_source(E::AccountThresholdsUpdated, thresholds);
    }
    let mut flags = Details::new();
    if let Some(f) = op.set_flags {
        flag_details(&mut flags, f, true);
    }
    if let Some(f) = op.clear_flags {
        flag_details(&mut flags, f, false);
    }
    if !flags.is_empty() {
        fx.add_source(E::AccountFlagsUpdated, flags);
    }
    if let Some(dest) = &op.inflation_dest {
        fx.add_source(
            E::AccountInflationDestinationUpdated,
            obj([("inflation_destination", strkey::account_id(dest).into())]),
        );
    }
    for change in fx.changes()? {
        if change.entry_type == LedgerEntryType::Account {
            signer_effects(fx, change)?;
        }
    }
    Ok(())
}

pub fn bump_sequence(fx: &mut Fx<'_, '_>) -> Res<()> {
    for change in fx.changes()? {
        if change.entry_type != LedgerEntryType::Account {
            continue;
        }
        let before = account_of(change.pre)?.seq_num.0;
        let after = account_of(change.post)?.seq_num.0;
        if before != after {
            fx.add_source(E::SequenceBumped, obj([("new_seq", after.into())]));
        }
        break;
    }
    Ok(())
}

pub fn manage_data(fx: &mut Fx<'_, '_>, op: &ManageDataOp) -> Res<()> {
    let mut details = obj([("name", go_string(op.data_name.0.as_slice()).into())]);
    // stellar-etl starts from effect type 0 (account_created) and keeps it when no data entry changed.
    let mut effect = E::AccountCreated;
    for change in fx.changes()? {
        if change.entry_type != LedgerEntryType::Data {
            continue;
        }
        if let Some(post) = change.post {
            let LedgerEntryData::Data(d) = &post.data else {
                return Err(none_attr("data_value"));
            };
            details.set("value", Val::Str(base64(d.data_value.0.as_slice())));
        }
        effect = match (change.pre, change.post) {
            (None, _) => E::DataCreated,
            (_, None) => E::DataRemoved,
            _ => E::DataUpdated,
        };
        break;
    }
    fx.add_source(effect, details);
    Ok(())
}
