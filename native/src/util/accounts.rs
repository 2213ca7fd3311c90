//! Account addresses as stellar-etl prints them (the twin of `beam_pipeline/util/accounts.py`).
//!
//! stellar-etl reports an account that can be muxed twice: the underlying `G...` account and, only when the XDR
//! carried a multiplexed account, the `M...` address. The strkey arithmetic is in `crate::strkey`; these are the
//! names the tables call, one per function of the reference, so every table agrees.

use stellar_xdr::curr::{AccountId, LedgerEntryChange, LedgerEntryData, MuxedAccount, PublicKey, SignerKey};

use crate::strkey;

/// The `G...` strkey of an AccountID (`account_id_address`; only ed25519 keys exist in the XDR).
pub fn account_id_address(id: &AccountId) -> String {
    strkey::account_id(id)
}

/// The ed25519 key of an AccountID.
pub fn account_key(id: &AccountId) -> &[u8; 32] {
    let PublicKey::PublicKeyTypeEd25519(key) = &id.0;
    &key.0
}

/// The `G...` strkey of the account behind a (possibly multiplexed) MuxedAccount (`account_address`).
pub fn account_address(muxed: &MuxedAccount) -> String {
    strkey::account(muxed)
}

/// The `M...` strkey of a multiplexed account, None for a plain ed25519 one (`muxed_address`).
pub fn muxed_address(muxed: &MuxedAccount) -> Option<String> {
    strkey::muxed(muxed)
}

/// The 64-bit memo id of a multiplexed account, None for a plain one (`muxed_id`).
pub fn muxed_id(muxed: &MuxedAccount) -> Option<u64> {
    match muxed {
        MuxedAccount::Ed25519(_) => None,
        MuxedAccount::MuxedEd25519(m) => Some(m.id),
    }
}

/// The strkey of a signer: `G...`, `T...` (pre-auth tx), `X...` (hash-x) or `P...` (signed payload).
pub fn signer_key_address(key: &SignerKey) -> String {
    strkey::signer(key)
}

/// The ed25519 key of a plain (not multiplexed) account; None for a muxed one.
pub fn plain_key(m: &MuxedAccount) -> Option<&[u8; 32]> {
    match m {
        MuxedAccount::Ed25519(k) => Some(&k.0),
        MuxedAccount::MuxedEd25519(_) => None,
    }
}

/// (balance before, balance after) of an account across ledger-entry changes, as stellar-etl reads them for
/// fees (`balance_span`): the last STATE entry is before, the last UPDATED entry after; a missing side is 0.
///
/// The reference takes an address, which may be an M-address (stellar-etl passes a muxed fee source as is)
/// and then matches nothing: here that is `key` None (see `plain_key`), and comparing raw keys spares a strkey
/// per change.
pub fn balance_span<'a>(
    changes: impl IntoIterator<Item = &'a LedgerEntryChange>,
    key: Option<&[u8; 32]>,
) -> (i64, i64) {
    let Some(key) = key else { return (0, 0) };
    let (mut start, mut end) = (0, 0);
    for change in changes {
        let (entry, after) = match change {
            LedgerEntryChange::Updated(e) => (e, true),
            LedgerEntryChange::State(e) => (e, false),
            _ => continue,
        };
        let LedgerEntryData::Account(account) = &entry.data else {
            continue;
        };
        if account_key(&account.account_id) != key {
            continue;
        }
        if after {
            end = account.balance;
        } else {
            start = account.balance;
        }
    }
    (start, end)
}

/// A plain account entry of `key` (all 32 bytes) holding `balance`: a fixture for the crate's unit tests.
#[cfg(test)]
pub fn test_account(key: u8, balance: i64) -> stellar_xdr::curr::LedgerEntry {
    use stellar_xdr::curr::{
        AccountEntry, AccountEntryExt, LedgerEntry, LedgerEntryExt, SequenceNumber, String32, Thresholds, Uint256,
    };
    LedgerEntry {
        last_modified_ledger_seq: 7,
        data: LedgerEntryData::Account(AccountEntry {
            account_id: AccountId(PublicKey::PublicKeyTypeEd25519(Uint256([key; 32]))),
            balance,
            seq_num: SequenceNumber(1),
            num_sub_entries: 0,
            inflation_dest: None,
            flags: 0,
            home_domain: String32::default(),
            thresholds: Thresholds([1, 0, 0, 0]),
            signers: Default::default(),
            ext: AccountEntryExt::V0,
        }),
        ext: LedgerEntryExt::V0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellar_xdr::curr::{MuxedAccountMed25519, Uint256};

    fn account_change(key: u8, balance: i64, updated: bool) -> LedgerEntryChange {
        let entry = test_account(key, balance);
        if updated {
            LedgerEntryChange::Updated(entry)
        } else {
            LedgerEntryChange::State(entry)
        }
    }

    #[test]
    fn balance_span_takes_the_last_state_and_update_of_the_account() {
        let changes = vec![
            account_change(1, 10, false),
            account_change(2, 99, false),
            account_change(1, 7, true),
            account_change(1, 8, false),
            account_change(1, 5, true),
        ];
        assert_eq!(balance_span(&changes, Some(&[1; 32])), (8, 5));
        assert_eq!(balance_span(&changes, Some(&[3; 32])), (0, 0));
        assert_eq!(balance_span(&changes, None), (0, 0));
    }

    #[test]
    fn muxed_accounts_split_into_account_and_id() {
        let m = MuxedAccount::MuxedEd25519(MuxedAccountMed25519 {
            id: 42,
            ed25519: Uint256([0; 32]),
        });
        assert_eq!(muxed_id(&m), Some(42));
        assert_eq!(
            account_address(&m),
            "GAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAWHF"
        );
        assert!(muxed_address(&m).is_some_and(|a| a.starts_with('M')));
        assert!(plain_key(&m).is_none());
        let plain = MuxedAccount::Ed25519(Uint256([0; 32]));
        assert_eq!(muxed_id(&plain), None);
        assert_eq!(muxed_address(&plain), None);
        assert_eq!(plain_key(&plain), Some(&[0u8; 32]));
    }
}
