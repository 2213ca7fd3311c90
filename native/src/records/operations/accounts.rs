//! Details of account-level operations: create_account, set_options, account_merge, inflation, manage_data
//! and bump_sequence (reference: `accounts.py`).

use stellar_xdr::curr::{CreateAccountOp, ManageDataOp, MuxedAccount, SetOptionsOp};

use super::common::{add_account, flag_lists, stroops_to_real, OpContext};
use crate::arrow_out::base64;
use crate::strkey;
use crate::util::goformat::go_string;
use crate::util::pyjson::{Details, Val};

/// Account flags in the order stellar-etl lists them.
pub const ACCOUNT_FLAGS: &[(u32, &str)] = &[
    (1, "auth_required"),
    (2, "auth_revocable"),
    (4, "auth_immutable"),
    (8, "auth_clawback_enabled"),
];

pub fn create_account(ctx: &OpContext<'_, '_>, op: &CreateAccountOp) -> Details {
    let mut d = Details::new();
    add_account(&mut d, &ctx.source(), "funder");
    d.set("account", strkey::account_id(&op.destination));
    d.set("starting_balance", stroops_to_real(op.starting_balance as i128));
    d
}

/// `<prefix>_flags` / `<prefix>_flags_s`, only when some flag bit is set (empty lists if unnamed).
fn add_flags(d: &mut Details, flags: Option<u32>, prefix: &str) {
    let Some(flags) = flags.filter(|f| *f > 0) else {
        return;
    };
    let (numbers, names) = flag_lists(flags, ACCOUNT_FLAGS);
    d.set(format!("{prefix}_flags"), Val::List(numbers));
    d.set(format!("{prefix}_flags_s"), Val::List(names));
}

pub fn set_options(op: &SetOptionsOp) -> Details {
    let mut d = Details::new();
    if let Some(dest) = &op.inflation_dest {
        d.set("inflation_dest", strkey::account_id(dest));
    }
    add_flags(&mut d, op.set_flags, "set");
    add_flags(&mut d, op.clear_flags, "clear");
    for (key, value) in [
        ("master_key_weight", op.master_weight),
        ("low_threshold", op.low_threshold),
        ("med_threshold", op.med_threshold),
        ("high_threshold", op.high_threshold),
    ] {
        if let Some(v) = value {
            d.set(key, v);
        }
    }
    if let Some(home) = &op.home_domain {
        d.set("home_domain", go_string(home.0.as_slice()));
    }
    if let Some(signer) = &op.signer {
        d.set("signer_key", strkey::signer(&signer.key));
        d.set("signer_weight", signer.weight);
    }
    d
}

pub fn account_merge(ctx: &OpContext<'_, '_>, destination: &MuxedAccount) -> Details {
    let mut d = Details::new();
    add_account(&mut d, &ctx.source(), "account");
    add_account(&mut d, destination, "into");
    d
}

/// Inflation carries no parameters; its details are empty (plus a sponsor, never present).
pub fn inflation() -> Details {
    Details::new()
}

pub fn manage_data(op: &ManageDataOp) -> Details {
    let mut d = Details::new();
    d.set("name", go_string(op.data_name.0.as_slice()));
    d.set("value", op.data_value.as_ref().map(|v| base64(v.0.as_slice())));
    d
}

/// stellar-etl prints the target sequence as a decimal string, not a number.
pub fn bump_sequence(bump_to: i64) -> Details {
    let mut d = Details::new();
    d.set("bump_to", bump_to.to_string());
    d
}
