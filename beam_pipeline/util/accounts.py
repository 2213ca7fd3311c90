"""Account addresses as stellar-etl prints them: strkeys from XDR account types.

stellar-etl reports every account twice when it can be muxed: the underlying ``G...`` account
(``source_account``) and, only when the XDR carried a multiplexed account, the ``M...`` address
(``source_account_muxed``). These helpers keep that split in one place so every table agrees.
"""

from __future__ import annotations

from stellar_sdk import StrKey, xdr

from beam_pipeline.util.strkey import account_strkey


def account_id_address(account_id: xdr.AccountID) -> str:
    """The ``G...`` strkey of an AccountID (a PublicKey; only ed25519 keys exist)."""
    key = account_id.account_id
    if key.type != xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519:
        raise ValueError(f"unsupported public key type {key.type}")
    return account_strkey(key.ed25519.uint256)


def account_address(muxed_account: xdr.MuxedAccount) -> str:
    """The ``G...`` strkey of the account behind a (possibly multiplexed) MuxedAccount."""
    if muxed_account.type == xdr.CryptoKeyType.KEY_TYPE_ED25519:
        return account_strkey(muxed_account.ed25519.uint256)
    if muxed_account.type == xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        return account_strkey(muxed_account.med25519.ed25519.uint256)
    raise ValueError(f"unsupported muxed account type {muxed_account.type}")


def muxed_address(muxed_account: xdr.MuxedAccount) -> str | None:
    """The ``M...`` strkey of a multiplexed account, or None for a plain ed25519 one.

    stellar-etl leaves its ``*_muxed`` columns empty unless the account really is muxed.
    """
    if muxed_account.type != xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        return None
    med = muxed_account.med25519
    return StrKey.encode_med25519_public_key(med.ed25519.uint256 + med.id.uint64.to_bytes(8, "big"))


def muxed_id(muxed_account: xdr.MuxedAccount) -> int | None:
    """The 64-bit memo id of a multiplexed account, or None for a plain ed25519 one."""
    if muxed_account.type != xdr.CryptoKeyType.KEY_TYPE_MUXED_ED25519:
        return None
    return muxed_account.med25519.id.uint64


def signer_key_address(key: xdr.SignerKey) -> str:
    """The strkey of a signer (``G...``, ``T...`` pre-auth tx, ``X...`` hash-x or ``P...`` signed payload)."""
    t = key.type
    if t == xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519:
        return account_strkey(key.ed25519.uint256)
    if t == xdr.SignerKeyType.SIGNER_KEY_TYPE_PRE_AUTH_TX:
        return StrKey.encode_pre_auth_tx(key.pre_auth_tx.uint256)
    if t == xdr.SignerKeyType.SIGNER_KEY_TYPE_HASH_X:
        return StrKey.encode_sha256_hash(key.hash_x.uint256)
    if t == xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519_SIGNED_PAYLOAD:
        return StrKey.encode_ed25519_signed_payload(key.ed25519_signed_payload.to_xdr_bytes())
    raise ValueError(f"unsupported signer key type {t}")


def balance_span(changes: list[xdr.LedgerEntryChange], address: str) -> tuple[int, int]:
    """(balance before, balance after) of account `address` across ledger-entry changes, as stellar-etl
    reads them for fees: the last STATE entry is before, the last UPDATED entry after; a missing side is 0.

    `address` may be an M-address (stellar-etl passes the muxed fee source as is), which then matches nothing.
    """
    start = end = 0
    for change in changes:
        if change.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED:
            entry = change.updated
        elif change.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_STATE:
            entry = change.state
        else:
            continue
        if entry.data.type != xdr.LedgerEntryType.ACCOUNT:
            continue
        account = entry.data.account
        if account_id_address(account.account_id) != address:
            continue
        if change.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED:
            end = account.balance.int64
        else:
            start = account.balance.int64
    return start, end
