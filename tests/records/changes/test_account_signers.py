"""``account_signers`` on real account changes, against the ``accounts`` table and the raw entries.

No stellar-etl signers output exists for the ledgers held here. On every data store each ledger's
signer rows are re-derived from the raw AccountEntry (thresholds byte 0 and the signer list) of
the ledger's account changes, and cross-checked with the ``accounts`` table's ``master_weight``;
sponsored signers, removed signers and sponsor-only changes, which the real data lacks, are on
hand-built entries.
"""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.records import get_table
from beam_pipeline.records.changes._extract import CREATED, REMOVED, UPDATED, EntryChange, compacted_of_type
from beam_pipeline.records.changes.account_signers import change_rows, signers_changed
from tests.records._load import datastore_names, load_ledgers

LIMITS = {"standalone-p25-loadtest": 4, "standalone-p23-loadtest": None}


def _key(raw: bytes) -> str:
    return StrKey.encode_ed25519_public_key(raw)


def _raw_signers(entry: xdr.LedgerEntry) -> dict[str, int]:
    """Signer -> weight straight from the entry: the master key if its weight byte is not 0, then the list."""
    account = entry.data.account
    out = {}
    if account.thresholds.thresholds[0]:
        out[_key(account.account_id.account_id.ed25519.uint256)] = account.thresholds.thresholds[0]
    for s in account.signers:
        if s.key.type == xdr.SignerKeyType.SIGNER_KEY_TYPE_HASH_X:  # mainnet p22 has some
            out[StrKey.encode_sha256_hash(s.key.hash_x.uint256)] = s.weight.uint32
        elif s.key.type == xdr.SignerKeyType.SIGNER_KEY_TYPE_PRE_AUTH_TX:
            out[StrKey.encode_pre_auth_tx(s.key.pre_auth_tx.uint256)] = s.weight.uint32
        else:
            out[_key(s.key.ed25519.uint256)] = s.weight.uint32
    return out


def _raw_sponsors(entry: xdr.LedgerEntry) -> list:
    ext = entry.data.account.ext
    if ext.v == 1 and ext.v1.ext.v == 2:
        return [d.to_xdr_bytes() for d in ext.v1.ext.v2.signer_sponsoring_i_ds]
    return [None] * len(entry.data.account.signers)


@pytest.mark.parametrize("store", datastore_names())
def test_signer_rows_are_the_raw_signers_of_each_account_change(store, shared_ledgers):
    table, accounts = get_table("account_signers"), get_table("accounts")
    seen = 0
    for view in load_ledgers(store, LIMITS.get(store)):
        rows = table.transform(view)
        by_account: dict[str, list[dict]] = {}
        for r in rows:
            assert r["ledger_sequence"] == view.sequence and r["closed_at"] == view.closed_at
            by_account.setdefault(r["account_id"], []).append(r)
        changes = {
            _key(c.entry.data.account.account_id.account_id.ed25519.uint256): c
            for c in compacted_of_type(view, xdr.LedgerEntryType.ACCOUNT)
        }
        assert set(by_account) <= set(changes)
        for account, change in changes.items():
            got = by_account.get(account, [])
            if change.change_type == UPDATED and _raw_signers(change.pre) == _raw_signers(change.post) \
                    and _raw_sponsors(change.pre) == _raw_sponsors(change.post):
                assert got == [], f"{account}: signers unchanged but rows written"
                continue
            seen += 1
            assert got == sorted(got, key=lambda r: (r["weight"], r["signer"]))
            current = _raw_signers(change.entry)
            live = {r["signer"]: r["weight"] for r in got if r["ledger_entry_change"] == change.change_type.value}
            assert live == current
            assert all(r["deleted"] == (change.change_type == REMOVED) for r in got if r["signer"] in current)
            gone = {r["signer"] for r in got if r["signer"] not in current}
            if change.change_type == UPDATED:
                assert gone == set(_raw_signers(change.pre)) - set(current)
                assert all(r["weight"] == 0 and r["deleted"] and r["ledger_entry_change"] == 2 for r in got
                           if r["signer"] in gone)
            else:
                assert gone == set()
        # The accounts table reports the master key's weight of the same changes.
        for a in accounts.transform(view):
            signer_rows = {r["signer"]: r for r in by_account.get(a["account_id"], [])}
            if a["ledger_entry_change"] != UPDATED.value and a["master_weight"] > 0:
                assert signer_rows[a["account_id"]]["weight"] == a["master_weight"]
            if a["master_weight"] == 0:
                assert a["account_id"] not in signer_rows or signer_rows[a["account_id"]]["weight"] == 0
    if store in ("testnet-p19-lpf64", "testnet-p20-galexie", "mainnet-p22-56065483", "standalone-p23-loadtest"):
        assert seen, f"{store}: no signer change checked"


def test_real_data_has_creations_removals_and_dropped_signers(shared_ledgers):
    """Guards the test above: the stores do exercise every kind of row."""
    kinds = set()
    for store in ("testnet-p19-lpf64", "mainnet-p22-56065483", "testnet-p20-galexie"):
        for view in load_ledgers(store):
            for r in get_table("account_signers").transform(view):
                kinds.add((r["ledger_entry_change"], r["deleted"], r["weight"] == 0))
    assert {(0, False, False), (1, False, False), (2, True, False), (2, True, True)} <= kinds


# --- hand-built entries --------------------------------------------------------------------------

ACCOUNT, SIGNER_A, SIGNER_B, SPONSOR = (bytes([i]) * 32 for i in (1, 2, 3, 4))
LEDGER = SimpleNamespace(sequence=100, closed_at=datetime(2024, 1, 1, tzinfo=timezone.utc))


def _account_id(raw: bytes) -> xdr.AccountID:
    return xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, ed25519=xdr.Uint256(raw)))


def _entry(last_modified: int, master: int, signers: list[tuple[bytes, int, bytes | None]], balance: int = 1):
    """An account entry; each signer is (key, weight, sponsor or None); sponsors need the v2 extension."""
    xdr_signers = [
        xdr.Signer(xdr.SignerKey(xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519, ed25519=xdr.Uint256(k)), xdr.Uint32(w))
        for k, w, _ in signers
    ]
    ext = xdr.AccountEntryExt(0)
    if any(s is not None for _, _, s in signers):
        v2 = xdr.AccountEntryExtensionV2(
            xdr.Uint32(0), xdr.Uint32(0),
            [xdr.SponsorshipDescriptor(_account_id(s) if s else None) for _, _, s in signers],
            xdr.AccountEntryExtensionV2Ext(0),
        )
        v1 = xdr.AccountEntryExtensionV1(xdr.Liabilities(xdr.Int64(0), xdr.Int64(0)),
                                         xdr.AccountEntryExtensionV1Ext(2, v2))
        ext = xdr.AccountEntryExt(1, v1)
    account = xdr.AccountEntry(
        _account_id(ACCOUNT), xdr.Int64(balance), xdr.SequenceNumber(xdr.Int64(1)), xdr.Uint32(len(signers)), None,
        xdr.Uint32(0), xdr.String32(b""), xdr.Thresholds(bytes([master, 0, 0, 0])), xdr_signers, ext,
    )
    data = xdr.LedgerEntryData(xdr.LedgerEntryType.ACCOUNT, account=account)
    return xdr.LedgerEntry(xdr.Uint32(last_modified), data, xdr.LedgerEntryExt(0))


def _change(change_type, pre, post) -> EntryChange:
    key = xdr.LedgerKey(xdr.LedgerEntryType.ACCOUNT, account=xdr.LedgerKeyAccount(_account_id(ACCOUNT)))
    return EntryChange(xdr.LedgerEntryType.ACCOUNT, change_type, pre, post, key, key.to_xdr_bytes(), "operation")


def _rows(change) -> list[tuple]:
    return [(r["signer"], r["weight"], r["sponsor"], r["last_modified_ledger"], r["ledger_entry_change"], r["deleted"])
            for r in change_rows(change, LEDGER)]


A, B, S, M = _key(SIGNER_A), _key(SIGNER_B), _key(SPONSOR), _key(ACCOUNT)


def test_a_removed_sponsored_signer_is_a_deleted_row_with_its_former_sponsor():
    pre = _entry(90, 1, [(SIGNER_A, 5, SPONSOR), (SIGNER_B, 2, None)])
    post = _entry(100, 1, [(SIGNER_B, 2, None)])
    change = _change(UPDATED, pre, post)
    assert signers_changed(change)
    assert _rows(change) == [
        (A, 0, S, 90, 2, True),  # weight 0 sorts first
        (M, 1, None, 100, 1, False),
        (B, 2, None, 100, 1, False),
    ]


def test_a_change_of_sponsor_alone_is_a_signer_change():
    pre = _entry(90, 1, [(SIGNER_A, 5, None)])
    post = _entry(100, 1, [(SIGNER_A, 5, SPONSOR)])
    change = _change(UPDATED, pre, post)
    assert signers_changed(change)
    assert _rows(change) == [(M, 1, None, 100, 1, False), (A, 5, S, 100, 1, False)]


def test_a_balance_change_is_not_a_signer_change():
    change = _change(UPDATED, _entry(90, 1, [(SIGNER_A, 5, SPONSOR)]), _entry(100, 1, [(SIGNER_A, 5, SPONSOR)], 7))
    assert not signers_changed(change)


def test_a_master_key_of_weight_zero_is_no_signer_and_a_deleted_account_lists_its_signers():
    entry = _entry(90, 0, [(SIGNER_B, 3, SPONSOR), (SIGNER_A, 3, None)])
    removed = _change(REMOVED, entry, None)
    assert signers_changed(removed)
    assert _rows(removed) == sorted([(A, 3, None, 90, 2, True), (B, 3, S, 90, 2, True)])
    created = _change(CREATED, None, _entry(100, 0, []))
    assert _rows(created) == []
    # Dropping the master key's weight to 0 removes it as a signer.
    lowered = _change(UPDATED, _entry(90, 2, []), _entry(100, 0, []))
    assert signers_changed(lowered) and _rows(lowered) == [(M, 0, None, 90, 2, True)]
