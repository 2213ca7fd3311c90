"""Change extraction and the change tables on real ledgers (no stellar-etl output exists for them).

Every expectation is re-derived from the raw meta by a simpler route than the code under test:
counts and entries straight from the LedgerEntryChanges lists, compaction from first/last change
per key, fee rows from the envelope's fee source, SAC balances from the decoded JSON.
"""

from __future__ import annotations

import collections
import hashlib
import json

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.records import get_table
from beam_pipeline.records.base import rows_to_columns
from beam_pipeline.records.changes import _extract
from beam_pipeline.records.changes._extract import (
    CREATED,
    REMOVED,
    RESTORED,
    STATE,
    UPDATED,
    LedgerChangeError,
    compact,
    pair_changes,
)
from beam_pipeline.records.changes.accounts import changed_except_signers
from beam_pipeline.util.accounts import account_address
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import ledger_key
from tests.records._load import load_ledgers

DATASTORES = [
    ("testnet-p20-galexie", None),
    ("mainnet-p21-53312000", None),
    ("mainnet-p22-56065483", None),
    ("standalone-p23-loadtest", None),
    ("standalone-p25-loadtest", 2),
    ("testnet-p19-lpf64", 8),
    ("mainnet-p13-30820015-metav4", None),
    ("mainnet-p13-30820015-metav2", None),
]
TYPED = {
    "accounts": xdr.LedgerEntryType.ACCOUNT,
    "trustlines": xdr.LedgerEntryType.TRUSTLINE,
    "offers": xdr.LedgerEntryType.OFFER,
    "liquidity_pools": xdr.LedgerEntryType.LIQUIDITY_POOL,
    "claimable_balances": xdr.LedgerEntryType.CLAIMABLE_BALANCE,
    "contract_data": xdr.LedgerEntryType.CONTRACT_DATA,
    "contract_code": xdr.LedgerEntryType.CONTRACT_CODE,
    "ttl": xdr.LedgerEntryType.TTL,
    "config_settings": xdr.LedgerEntryType.CONFIG_SETTING,
}


def _ids(params):
    return [f"{name}:{limit}" for name, limit in params]


def _raw_groups(ledger):
    """Every LedgerEntryChanges list of the ledger, read straight off the meta."""
    for tx in ledger.transactions:
        yield tx.fee_changes
        meta = tx.meta
        inner = {1: meta.v1, 2: meta.v2, 3: meta.v3, 4: meta.v4}.get(meta.v)
        if inner is not None:
            yield inner.tx_changes if meta.v == 1 else inner.tx_changes_before
        for op in tx.operation_metas:
            yield op.changes
        if meta.v >= 2:
            yield inner.tx_changes_after
        if tx.post_apply_fee_changes is not None:
            yield tx.post_apply_fee_changes
    for upgrade in ledger.upgrades:
        yield upgrade.changes


def _generic(ledger) -> list[dict]:
    return get_table("ledger_entry_changes").transform(ledger)


def test_datastores_cover_every_meta_version() -> None:
    """LCM v0/v1/v2 and TransactionMeta V2/V3/V4 occur below; V1 (protocol 9 era) is in none of the data."""
    lcm, meta = set(), set()
    for name, limit in DATASTORES:
        for ledger in load_ledgers(name, limit):
            lcm.add(ledger.version)
            meta |= {tx.meta.v for tx in ledger.transactions}
    assert lcm == {0, 1, 2}
    assert meta == {2, 3, 4}


@pytest.mark.parametrize(("name", "limit"), DATASTORES, ids=_ids(DATASTORES))
def test_generic_rows_are_the_meta_changes(name: str, limit: int | None) -> None:
    for ledger in load_ledgers(name, limit):
        rows = _generic(ledger)
        non_state = [c for g in _raw_groups(ledger) for c in g.ledger_entry_changes if c.type != STATE]
        assert len(rows) == len(non_state) + len(ledger.evicted_keys), ledger.sequence
        assert [r["change_index"] for r in rows] == list(range(len(rows)))
        # Entries written by the meta are exactly the entries the rows carry (as multisets).
        written = collections.Counter()
        for c in non_state:
            entry = {CREATED: c.created, UPDATED: c.updated, RESTORED: c.restored}.get(c.type)
            if entry is not None:
                written[entry.to_xdr_bytes()] += 1
        carried = collections.Counter(r["val_xdr"] for r in rows if not r["deleted"])
        assert carried == written
        for r in rows:
            assert hashlib.sha256(r["key_xdr"]).hexdigest() == r["ledger_key_hash"]
            if r["val_xdr"] is not None:
                entry = xdr.LedgerEntry.from_xdr_bytes(r["val_xdr"])
                assert ledger_key(entry).to_xdr_bytes() == r["key_xdr"]
                assert r["last_modified_ledger"] == entry.last_modified_ledger_seq.uint32
        rows_to_columns(rows, get_table("ledger_entry_changes").schema)


@pytest.mark.parametrize(("name", "limit"), DATASTORES, ids=_ids(DATASTORES))
def test_generic_rows_carry_their_transaction_and_operation(name: str, limit: int | None) -> None:
    for ledger in load_ledgers(name, limit):
        txs = {tx.hash_hex: tx for tx in ledger.transactions}
        for r in _generic(ledger):
            if r["phase"] in ("upgrade", "eviction"):
                assert r["transaction_hash"] is None and r["operation_id"] is None
                continue
            tx = txs[r["transaction_hash"]]
            assert r["transaction_id"] == toid(ledger.sequence, tx.index)
            if r["phase"] == "operation":
                assert 1 <= r["operation_index"] <= len(tx.operations)
                assert r["operation_id"] == r["transaction_id"] + r["operation_index"]
            else:
                assert r["operation_index"] is None
            if r["phase"] == "fee":
                # Fees are charged to the fee source (the outer envelope of a fee bump).
                env = tx.envelope
                source = env.fee_bump.tx.fee_source if tx.is_fee_bump else tx.inner_envelope.tx.source_account
                if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_V0:
                    expected = StrKey.encode_ed25519_public_key(env.v0.tx.source_account_ed25519.uint256)
                else:
                    expected = account_address(source)
                entry = xdr.LedgerEntry.from_xdr_bytes(r["val_xdr"])
                assert (
                    StrKey.encode_ed25519_public_key(entry.data.account.account_id.account_id.ed25519.uint256)
                    == expected
                )


@pytest.mark.parametrize(("name", "limit"), DATASTORES, ids=_ids(DATASTORES))
def test_generic_rows_follow_reader_phase_order(name: str, limit: int | None) -> None:
    rank = {p: i for i, p in enumerate(["fee", "meta", "post_apply_fee", "upgrade", "eviction"])}
    for ledger in load_ledgers(name, limit):
        rows = _generic(ledger)
        coarse = [rank["meta" if r["phase"] in ("tx_before", "operation", "tx_after") else r["phase"]] for r in rows]
        assert coarse == sorted(coarse)
        meta_tx = [r["transaction_id"] for r in rows if r["phase"] in ("tx_before", "operation", "tx_after")]
        assert meta_tx == sorted(meta_tx)


def _expected_compaction(rows: list[dict]) -> dict[bytes, tuple[int, bool, bytes | None]]:
    """Per key: (change type, deleted, entry) after the ledger, from the key's first and last change."""
    by_key: dict[bytes, list[dict]] = {}
    for r in rows:
        if r["phase"] != "eviction":
            by_key.setdefault(r["key_xdr"], []).append(r)
    out = {}
    for key, changes in by_key.items():
        first, last = changes[0], changes[-1]
        if last["deleted"]:
            if first["change_type"] == "created":
                continue  # born and gone within the ledger
            # A removal reports the state before the ledger: the generic rows only carry it when the
            # removal is the key's only change (an update's pre-state is not a column), else unknown.
            out[key] = (REMOVED.value, True, last["val_xdr"] if len(changes) == 1 else None)
        elif first["change_type"] in ("created", "restored"):
            out[key] = (first["ledger_entry_change"], False, last["val_xdr"])
        else:
            out[key] = (UPDATED.value, False, last["val_xdr"])
    return out


@pytest.mark.parametrize(("name", "limit"), DATASTORES, ids=_ids(DATASTORES))
def test_typed_tables_are_the_compacted_generic_rows(name: str, limit: int | None) -> None:
    for ledger in load_ledgers(name, limit):
        rows = _generic(ledger)
        expected = _expected_compaction(rows)
        compacted = _extract.compacted_changes(ledger)
        assert {c.key_bytes for c in compacted} == set(expected)
        for c in compacted:
            change_type, deleted, entry = expected[c.key_bytes]
            assert (c.change_type.value, c.deleted) == (change_type, deleted)
            if c.entry_type != xdr.LedgerEntryType.TTL and entry is not None:
                assert c.entry.to_xdr_bytes() == entry
        for table, entry_type in TYPED.items():
            t = get_table(table)
            out = t.transform(ledger)
            rows_to_columns(out, t.schema)
            of_type = [c for c in compacted if c.entry_type == entry_type]
            if table == "accounts":
                of_type = [c for c in of_type if changed_except_signers(c)]
            if table == "contract_data":
                of_type = [
                    c for c in of_type if c.entry.data.contract_data.key.type != xdr.SCValType.SCV_LEDGER_KEY_NONCE
                ]
            assert len(out) == len(of_type), (table, ledger.sequence)
            for row, c in zip(out, of_type, strict=True):
                assert row["last_modified_ledger"] == c.entry.last_modified_ledger_seq.uint32
                assert row["ledger_entry_change"] == c.change_type.value
                assert row["deleted"] == (c.change_type == REMOVED)
                assert row["ledger_sequence"] == ledger.sequence and row["closed_at"] == ledger.closed_at
        restored = get_table("restored_keys").transform(ledger)
        assert sorted(r["ledger_key_hash"] for r in restored) == sorted(
            k for k, (ct, _, _) in expected.items() if ct == RESTORED.value
        )


@pytest.mark.parametrize(("name", "limit"), DATASTORES, ids=_ids(DATASTORES))
def test_one_type_compacted_alone_is_that_type_of_the_whole_compaction(name, limit, monkeypatch) -> None:
    """A table of one entry type reads and compacts only its own changes: same changes, same order."""
    def summary(changes):
        return [
            (c.key_bytes, c.change_type, c.phase, c.op_index, c.pre and c.pre.to_xdr_bytes(),
             c.post and c.post.to_xdr_bytes())
            for c in changes
        ]

    seen = 0
    for ledger in load_ledgers(name, limit):
        monkeypatch.setattr(_extract, "_CACHE", _extract._LastLedgerCache())
        whole = _extract.compacted_changes(ledger)
        for entry_type in xdr.LedgerEntryType:
            monkeypatch.setattr(_extract, "_CACHE", _extract._LastLedgerCache())  # nothing cached
            alone = _extract.compacted_of_type(ledger, entry_type)
            assert summary(alone) == summary([c for c in whole if c.entry_type == entry_type])
            seen += len(alone)
    assert seen > 0


def test_p25_restorations_reach_restored_keys() -> None:
    ledger = load_ledgers("standalone-p25-loadtest", 2)[0]
    restored = {r["key_xdr"] for r in _generic(ledger) if r["change_type"] == "restored"}
    rows = get_table("restored_keys").transform(ledger)
    assert restored and {r["ledger_key_hash"] for r in rows} == restored
    assert {r["ledger_entry_type"] for r in rows} == {"LedgerEntryTypeContractData", "LedgerEntryTypeTtl"}


def test_p23_sac_balances_decode() -> None:
    """Contract-held SAC balances: holder and i128 amount agree with the decoded key and value."""
    found = 0
    for ledger in load_ledgers("standalone-p23-loadtest"):
        for row in get_table("contract_data").transform(ledger):
            key, val = json.loads(row["key_decoded"]), json.loads(row["val_decoded"])
            if key.get("vec", [{}])[0] != {"symbol": "Balance"}:
                assert row["balance"] == ""
                continue
            amount = {e["key"]["symbol"]: e["val"] for e in val["map"]}["amount"]["i128"]
            assert row["balance"] == amount and int(amount) >= 0
            assert row["balance_holder"] == key["vec"][1]["address"]
            found += 1
    assert found == 1000


@pytest.mark.parametrize(("name", "limit"), [("mainnet-p21-53312000", None), ("mainnet-p22-56065483", None)])
def test_contract_data_rows_decode_their_xdr(name: str, limit: int | None) -> None:
    for ledger in load_ledgers(name, limit):
        rows = get_table("contract_data").transform(ledger)
        assert rows
        for row in rows:
            cd = xdr.ContractDataEntry.from_xdr_bytes(row["contract_data_xdr"])
            assert cd.key.to_xdr_bytes() == row["key"] and cd.val.to_xdr_bytes() == row["val"]
            assert StrKey.encode_contract(cd.contract.contract_id.contract_id.hash) == row["contract_id"]
            assert json.loads(row["key_decoded"]) and json.loads(row["val_decoded"])


def test_trustline_ledger_key_is_the_change_key() -> None:
    ledger = load_ledgers("mainnet-p21-53312000")[0]
    keys = {r["key_xdr"] for r in _generic(ledger) if r["ledger_entry_type"] == "LedgerEntryTypeTrustline"}
    rows = get_table("trustlines").transform(ledger)
    assert rows and {r["ledger_key"] for r in rows} <= keys
    for r in rows:
        key = xdr.LedgerKey.from_xdr_bytes(r["ledger_key"])
        assert StrKey.encode_ed25519_public_key(key.trust_line.account_id.account_id.ed25519.uint256) == r["account_id"]


# --- pairing and compaction rules on real entries ------------------------------------------------


@pytest.fixture(scope="module")
def entries() -> tuple[xdr.LedgerEntry, xdr.LedgerEntry, xdr.LedgerEntry]:
    """A real account entry, the same account modified, and a real TTL entry."""
    ledger = load_ledgers("standalone-p23-loadtest")[1]
    rows = _generic(ledger)
    acc = next(
        xdr.LedgerEntry.from_xdr_bytes(r["val_xdr"]) for r in rows if r["ledger_entry_type"] == "LedgerEntryTypeAccount"
    )
    later = xdr.LedgerEntry.from_xdr_bytes(acc.to_xdr_bytes())
    later.data.account.balance = xdr.Int64(acc.data.account.balance.int64 + 1)
    ttl = next(
        xdr.LedgerEntry.from_xdr_bytes(r["val_xdr"]) for r in rows if r["ledger_entry_type"] == "LedgerEntryTypeTtl"
    )
    return acc, later, ttl


def _c(kind, pre=None, post=None):
    entry = post if post is not None else pre
    key = ledger_key(entry)
    return _extract.EntryChange(entry.data.type, kind, pre, post, key, key.to_xdr_bytes(), "operation")


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [
        ("created,updated", ("created", None, "b")),
        ("updated,updated", ("updated", "a", "b")),
        ("created,removed", None),
        ("updated,removed", ("removed", "a", None)),
        ("removed,created", ("updated", "a", "b")),
        ("restored,updated", ("restored", None, "b")),
        ("restored,removed", ("removed", "b", None)),
    ],
)
def test_compaction_rules(entries, sequence: str, expected) -> None:
    a, b, _ = entries
    make = {
        "created": lambda i: _c(CREATED, post=a if i == 0 else b),
        "updated": lambda i: _c(UPDATED, pre=a, post=b),
        "removed": lambda i: _c(REMOVED, pre=a if i == 0 else b),
        "restored": lambda i: _c(RESTORED, post=a),
    }
    out = compact([make[k](i) for i, k in enumerate(sequence.split(","))], 7)
    if expected is None:
        assert out == []
        return
    kind, pre, post = expected
    (c,) = out
    pick = {"a": a, "b": b, None: None}
    assert c.change_type.name.lower() == f"ledger_entry_{kind}"
    assert c.pre is pick[pre] and c.post is pick[post]


@pytest.mark.parametrize("sequence", ["created,created", "removed,updated", "removed,removed", "updated,restored"])
def test_compaction_rejects_impossible_sequences(entries, sequence: str) -> None:
    a, b, _ = entries
    make = {
        "created": _c(CREATED, post=a),
        "updated": _c(UPDATED, pre=a, post=b),
        "removed": _c(REMOVED, pre=a),
        "restored": _c(RESTORED, post=a),
    }
    with pytest.raises(LedgerChangeError, match="ledger 7"):
        compact([make[k] for k in sequence.split(",")], 7)


def test_ttl_compaction_keeps_the_longest_ttl(entries) -> None:
    _, _, ttl = entries
    longer = xdr.LedgerEntry.from_xdr_bytes(ttl.to_xdr_bytes())
    longer.data.ttl.live_until_ledger_seq = xdr.Uint32(ttl.data.ttl.live_until_ledger_seq.uint32 + 100)
    (c,) = compact([_c(UPDATED, pre=ttl, post=longer), _c(UPDATED, pre=longer, post=ttl)], 7)
    assert c.post.data.ttl.live_until_ledger_seq.uint32 == longer.data.ttl.live_until_ledger_seq.uint32
    assert ttl.data.ttl.live_until_ledger_seq.uint32 + 100 == longer.data.ttl.live_until_ledger_seq.uint32


def test_pairing_requires_a_state_before_updates(entries) -> None:
    a, b, _ = entries
    ok = xdr.LedgerEntryChanges(
        [
            xdr.LedgerEntryChange(STATE, state=a),
            xdr.LedgerEntryChange(UPDATED, updated=b),
        ]
    )
    (c,) = pair_changes(ok, "operation", "ledger 9")
    assert c.pre is a and c.post is b and c.change_type == UPDATED
    bad = xdr.LedgerEntryChanges([xdr.LedgerEntryChange(UPDATED, updated=b)])
    with pytest.raises(LedgerChangeError, match="ledger 9"):
        pair_changes(bad, "operation", "ledger 9")


def test_signer_only_account_changes_are_not_account_rows(entries) -> None:
    a, b, _ = entries
    signed = xdr.LedgerEntry.from_xdr_bytes(a.to_xdr_bytes())
    signed.data.account.signers = [
        xdr.Signer(
            xdr.SignerKey(xdr.SignerKeyType.SIGNER_KEY_TYPE_HASH_X, hash_x=xdr.Uint256(b"\x07" * 32)), xdr.Uint32(1)
        )
    ]
    assert not changed_except_signers(_c(UPDATED, pre=a, post=signed))
    assert changed_except_signers(_c(UPDATED, pre=a, post=b))


def test_transaction_meta_v0_reads_as_operation_changes() -> None:
    """V0 meta (no tx-level changes) is not in the data: wrap a real V2 meta's operations in one."""
    ledger = load_ledgers("mainnet-p13-30820015-metav2")[0]
    tx = next(t for t in ledger.transactions if t.meta.v2.operations and t.successful)
    v0 = xdr.TransactionMeta(0, operations=tx.meta.v2.operations)
    original = tx.meta
    try:
        tx.meta = v0
        changes = _extract._meta_changes(tx)
    finally:
        tx.meta = original
    expected = [c for c in _extract._meta_changes(tx) if c.phase == "operation"]
    assert [(c.key_bytes, c.op_index, c.change_type) for c in changes] == [
        (c.key_bytes, c.op_index, c.change_type) for c in expected
    ]
    assert changes
