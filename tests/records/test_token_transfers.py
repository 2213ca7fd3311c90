"""The token_transfers table against its two oracles, and against the ledgers' own balance changes.

* stellar-etl's golden rows for ledger 30820015 (both TransactionMeta versions: v4 is read from
  CAP-67 events, v2 is derived from operations; both must give the golden rows);
* the Go SDK token transfer processor's printed events for the ledgers under ``lcm/ttp/`` (mint,
  burn, the pre-protocol-8 XLM mint/burn bugs, the protocol 22 revoke-trust-line ledger with 359
  transactions, and five ledgers of protocols 2-19 printed by an older processor version);
* the reference's own ``VerifyEvents`` rule on every data store: per transaction, the events
  explain each (holder, asset) balance change of its fee, transaction and operation changes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from stellar_sdk import Network, StrKey, xdr

from beam_pipeline.records import token_transfers
from beam_pipeline.records import transactions as transactions_table
from beam_pipeline.records.operations.changes import pair_changes
from beam_pipeline.records.tables.token_transfers import SCHEMA
from beam_pipeline.records.token_transfers import ledger_events, transform
from beam_pipeline.records.token_transfers.contract import i128_value, sep11_asset
from beam_pipeline.records.token_transfers.event import TokenEvent, TokenTransferError
from beam_pipeline.records.token_transfers.reconcile import change_deltas, event_deltas
from beam_pipeline.util.assets import asset_contract_id, extract_asset
from beam_pipeline.util.scval import sc_address_strkey
from beam_pipeline.util.strkey import contract_strkey
from beam_pipeline.util.toid import toid
from beam_pipeline.xdr.ledger import LedgerView
from tests.harness import SHARED_LEDGERS
from tests.records._load import datastore_names, load_golden, load_ledgers

TTP = SHARED_LEDGERS / "lcm" / "ttp"
_BLOCK = re.compile(r"^### Event Type: (\w+)\n(\{.*?\n\})\n###", re.S | re.M)


def _ttp_ledgers(path: Path) -> list[LedgerView]:
    lines = [line for line in path.read_text().split() if line]
    return [LedgerView(xdr.LedgerCloseMeta.from_xdr(line), Network.PUBLIC_NETWORK_PASSPHRASE) for line in lines]


def _ttp_events(path: Path) -> list[tuple[str, dict]]:
    return [(kind, json.loads(body)) for kind, body in _BLOCK.findall(path.read_text())]


def _ref_asset(asset: dict | None) -> str | None:
    if asset is None:
        return None
    if asset.get("native"):
        return "native"
    issued = asset["issuedAsset"]
    return f"{issued['assetCode']}:{issued['issuer']}"


def _ref_event(kind: str, event: dict) -> dict:
    """A printed reference event in the flat form `_our_event` gives."""
    meta = event["meta"]
    body = event[kind]
    return {
        "type": kind,
        "ledger": meta["ledgerSequence"],
        "closed_at": meta["closedAt"],
        "tx_hash": meta["txHash"],
        "tx_index": meta["transactionIndex"],
        "op_index": meta.get("operationIndex"),
        "contract": meta["contractAddress"],
        "from": body.get("from"),
        "to": body.get("to"),
        "asset": _ref_asset(body.get("asset")),
        "amount": body["amount"],
    }


def _canonical(asset: xdr.Asset | None) -> str | None:
    if asset is None:
        return None
    kind, code, issuer = extract_asset(asset)
    return "native" if kind == "native" else f"{code}:{issuer}"


def _our_event(ledger: LedgerView, tx_index: int, tx_hash: str, e: TokenEvent) -> dict:
    return {
        "type": e.kind,
        "ledger": ledger.sequence,
        "closed_at": ledger.closed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tx_hash": tx_hash,
        "tx_index": tx_index,
        "op_index": e.op_index,
        "contract": e.contract_id,
        "from": e.sender,
        "to": e.receiver,
        "asset": _canonical(e.asset),
        "amount": str(e.amount),
    }


def _by_transaction(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for e in events:
        out.setdefault(e["tx_hash"], []).append(e)
    return out


def _net_fee(events: list[dict]) -> list[dict]:
    """A transaction's charge and refund as one net fee event, as the processor printed them until May 2025.

    The events under lcm/ttp come from go @ f29c8f3 (March 2025); go #5691 later split a Soroban
    fee into the charge and a negative refund, which is what stellar-etl exports and we write.
    """
    fees = [e for e in events if e["type"] == "fee"]
    if len(fees) < 2:
        return events
    net = dict(fees[0], amount=str(sum(int(e["amount"]) for e in fees)))
    return [net] + [e for e in events if e["type"] != "fee"]


EVENT_FILES = sorted(p.name[: -len("-events")] for p in TTP.glob("*-events"))


@pytest.mark.parametrize("name", EVENT_FILES)
def test_events_match_the_reference_processor_event_for_event(name):
    views = _ttp_ledgers(TTP / name)
    ref = [_ref_event(kind, event) for kind, event in _ttp_events(TTP / f"{name}-events")]
    ours = [_our_event(v, order, tx_hash, e) for v in views for order, tx_hash, e in ledger_events(v)]
    assert ref, "no reference events parsed"
    ref_by_tx, ours_by_tx = _by_transaction(ref), _by_transaction(ours)
    assert list(ref_by_tx) == list(ours_by_tx)
    for tx_hash, expected in ref_by_tx.items():
        # Within a transaction the order is the reference's: fee, then operation events in order.
        assert _net_fee(ours_by_tx[tx_hash]) == expected, tx_hash


def _balance_strkey(address: str) -> str:
    """A claimable balance id printed in hex, as its B... strkey (other addresses unchanged)."""
    if re.fullmatch("[0-9a-f]{64}", address):
        return StrKey.encode_claimable_balance(b"\0" + bytes.fromhex(address))
    return address


def test_older_processor_output_for_five_ledgers_of_protocols_2_to_19():
    """ledgers-base64.txt against an older printout: every movement a Fee or a Transfer.

    That version wrote mints as transfers from the issuer and burns as transfers to it, amounts
    in units with 7 decimals, 0-based operation indexes and claimable balance ids in hex; the
    events are mapped to that form, then all 1222 must be the same, transaction by transaction in
    the same order.
    """
    views = _ttp_ledgers(TTP / "ledgers-base64.txt")
    assert [v.protocol_version for v in views] == [2, 9, 11, 19, 17]
    ref = []
    for kind, event in _ttp_events(TTP / "ledger-ttp-events-output.txt"):
        body = event[kind.lower()]
        sender = _balance_strkey(body["from"]["strKey"])
        receiver = _balance_strkey(body["to"]["strKey"]) if "to" in body else None
        amount = Decimal(body["amount"]) * 10**7
        assert amount == amount.to_integral_value()
        op = event["meta"].get("operationIndex")
        ref.append((kind, event["meta"]["txHash"], op, sender, receiver, _ref_asset(event["asset"]), str(int(amount))))
    ours = []
    for v in views:
        for _, tx_hash, e in ledger_events(v):
            sender, receiver = e.sender, e.receiver
            if e.kind == "mint":
                sender = extract_asset(e.asset)[2]
            elif e.kind == "burn":
                receiver = extract_asset(e.asset)[2]
            kind = "Fee" if e.kind == "fee" else "Transfer"
            op = None if e.op_index is None else e.op_index - 1
            ours.append((kind, tx_hash, op, sender, receiver, _canonical(e.asset), str(e.amount)))
    assert len(ref) == 1222
    ref_by_tx: dict[str, list] = {}
    ours_by_tx: dict[str, list] = {}
    for row in ref:
        ref_by_tx.setdefault(row[1], []).append(row)
    for row in ours:
        ours_by_tx.setdefault(row[1], []).append(row)
    assert ours_by_tx == ref_by_tx


# --- stellar-etl's golden rows ----------------------------------------------------------------------


def _golden_form(row: dict) -> dict:
    return dict(row, closed_at=row["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ"))


def _row_key(row: dict) -> tuple:
    return row["transaction_id"], row["operation_id"] or 0, row["event_topic"], row["amount_raw"]


@pytest.mark.parametrize("store", ["mainnet-p13-30820015-metav4", "mainnet-p13-30820015-metav2"])
def test_rows_match_the_stellar_etl_golden_field_for_field(store):
    """v4 meta is read from its CAP-67 events, v2 meta derived from operations: both give the golden."""
    golden = load_golden("token_transfers", "one_ledger_token_transfers.golden")
    rows = transform(load_ledgers(store, 1)[0])
    assert set(rows[0]) == set(golden[0]) == set(SCHEMA.names)
    assert len({_row_key(g) for g in golden}) == len(golden) == len(rows)
    assert sorted((_golden_form(r) for r in rows), key=_row_key) == sorted(golden, key=_row_key)
    # Fee charges first, in application order; then the payment's transfer (with its memo id).
    assert [r["event_topic"] for r in rows] == ["fee"] * 59 + ["transfer"]
    assert [r["transaction_id"] for r in rows[:59]] == sorted(r["transaction_id"] for r in rows[:59])


# --- the ledgers' own balance changes ---------------------------------------------------------------


def _transaction_changes(tx) -> list:
    """Every paired change of a transaction (fee, before, operations, after, post-apply fee), as VerifyEvents."""
    meta = tx.meta
    lists = [tx.fee_changes.ledger_entry_changes]
    if meta.v == 1:
        lists.append(meta.v1.tx_changes.ledger_entry_changes)
    elif meta.v in (2, 3, 4):
        lists.append(getattr(meta, f"v{meta.v}").tx_changes_before.ledger_entry_changes)
    internal_error = tx.result.result.code == xdr.TransactionResultCode.txINTERNAL_ERROR
    if not (internal_error and tx.ledger.protocol_version <= 12):
        lists.extend(op.changes.ledger_entry_changes for op in tx.operation_metas)
    if meta.v in (2, 3, 4):
        lists.append(getattr(meta, f"v{meta.v}").tx_changes_after.ledger_entry_changes)
    if tx.post_apply_fee_changes is not None:
        lists.append(tx.post_apply_fee_changes.ledger_entry_changes)
    return [c for raw in lists for c in pair_changes(list(raw))]


def _all_ledgers() -> list[tuple[str, LedgerView]]:
    out = [(name, v) for name in datastore_names() for v in load_ledgers(name)]
    for path in sorted(TTP.iterdir()):
        if not path.name.endswith(("-events", ".txt")) or path.name == "ledgers-base64.txt":
            out.extend((path.name, v) for v in _ttp_ledgers(path))
    return out


def test_events_explain_every_balance_change_on_every_ledger():
    """The reference's VerifyEvents rule, per transaction, on every data store and every lcm/ttp ledger.

    For each (holder, asset) the events' sum equals the balance change of its account, trust line,
    claimable balance or pool entries (contract balances and unknown tokens aside).
    """
    checked = Counter()
    for name, ledger in _all_ledgers():
        events = ledger_events(ledger)
        by_tx: dict[int, list[TokenEvent]] = {}
        for order, _, e in events:
            by_tx.setdefault(order, []).append(e)
        for tx in ledger.transactions:
            from_events = event_deltas(by_tx.get(tx.index, []))
            from_changes = change_deltas(_transaction_changes(tx))
            assert from_events == from_changes, f"{name} ledger {ledger.sequence} tx {tx.hash_hex}"
            checked[name] += 1
    assert checked["standalone-p25-loadtest"] == 7740
    assert checked["mainnet-p22-56065483"] == 359
    assert len(checked) == len(datastore_names()) + 8  # 7 ledger files with events + ledgers-base64.txt


def test_fee_events_sum_to_the_fee_charged_of_every_transaction():
    for name in datastore_names():
        for ledger in load_ledgers(name):
            charged = Counter({r["id"]: r["fee_charged"] for r in transactions_table.transform(ledger)})
            paid: Counter = Counter()
            refunds = 0
            for r in transform(ledger):
                if r["event_topic"] == "fee":
                    paid[r["transaction_id"]] += int(r["amount_raw"])
                    refunds += r["amount_raw"].startswith("-")
            assert paid == charged, f"{name} ledger {ledger.sequence}"
    # The refunds are really there (p23 load test: every one of its 200 Soroban transactions).
    p23 = [r for v in load_ledgers("standalone-p23-loadtest") for r in transform(v) if r["event_topic"] == "fee"]
    assert sum(r["amount_raw"].startswith("-") for r in p23) == 200


def _sac_transfers(ledger: LedgerView) -> Counter:
    """(tx hash, operation id, from, to, amount, contract) of every SAC ``transfer`` event in the meta."""
    found: Counter = Counter()
    for tx in ledger.transactions:
        if tx.meta.v != 4 or not tx.successful:
            continue
        for i, op_meta in enumerate(tx.meta.v4.operations, start=1):
            for e in op_meta.events:
                topics = e.body.v0.topics
                if (
                    len(topics) != 4
                    or topics[0].type != xdr.SCValType.SCV_SYMBOL
                    or topics[0].sym.sc_symbol != b"transfer"
                ):
                    continue
                contract = contract_strkey(e.contract_id.contract_id.hash)
                asset = sep11_asset(topics[3].str.sc_string.decode())
                assert (
                    asset is not None
                    and contract_strkey(asset_contract_id(asset, ledger.network_passphrase)) == contract
                )
                amount = str(i128_value(e.body.v0.data))
                parties = (sc_address_strkey(topics[1].address), sc_address_strkey(topics[2].address))
                found[(tx.hash_hex, toid(ledger.sequence, tx.index, i), *parties, amount, contract)] += 1
    return found


def _invoke_operation_ids(ledger: LedgerView) -> set[int]:
    return {
        toid(ledger.sequence, tx.index, i)
        for tx in ledger.transactions
        for i, op in enumerate(tx.operations, start=1)
        if op.body.type == xdr.OperationType.INVOKE_HOST_FUNCTION
    }


@pytest.mark.parametrize("store", ["standalone-p23-loadtest", "standalone-p25-loadtest"])
def test_sac_transfer_events_are_token_transfers_with_their_contract_id(store):
    """Every SAC ``transfer`` event of the meta is a row (same parties, amount, contract); no other row
    comes from a contract call (the p25 load test's other contract events are not SEP-41 tokens)."""
    total = 0
    for ledger in load_ledgers(store):
        expected = _sac_transfers(ledger)
        invoke_ops = _invoke_operation_ids(ledger)
        rows = Counter(
            (r["transaction_hash"], r["operation_id"], r["from"], r["to"], r["amount_raw"], r["contract_id"])
            for r in transform(ledger)
            if r["operation_id"] in invoke_ops
        )
        assert rows == expected, f"{store} ledger {ledger.sequence}"
        total += sum(expected.values())
    assert total == {"standalone-p23-loadtest": 2000, "standalone-p25-loadtest": 0}[store]


def _assert_refund_order(ledger: LedgerView, refunds_last: bool) -> None:
    events = ledger_events(ledger)
    n = len(ledger.transactions)
    assert [e.kind for _, _, e in events[:n]] == ["fee"] * n and all(e.amount >= 0 for _, _, e in events[:n])
    refunds = [i for i, (_, _, e) in enumerate(events) if e.kind == "fee" and e.amount < 0]
    assert refunds, ledger.sequence
    if refunds_last:
        assert refunds == list(range(len(events) - len(refunds), len(events)))
        return
    for i in refunds:  # after its transaction's operation events, before any later transaction's
        order = events[i][0]
        assert all(o <= order for o, _, _ in events[n:i]) and all(o > order for o, _, _ in events[i + 1 :])


def test_soroban_refunds_follow_their_transaction_before_protocol_23_and_close_the_ledger_from_it(monkeypatch):
    """The reference's ledger order: all charges, then operation events, refunds per protocol (CAP-67)."""
    (p22,) = _ttp_ledgers(TTP / "revoke-trustline-ledger-56065483")
    _assert_refund_order(p22, refunds_last=False)
    p23 = load_ledgers("standalone-p23-loadtest", 2)[1]  # 100 Soroban transactions, each with a refund
    _assert_refund_order(p23, refunds_last=True)
    # The same ledger under the pre-23 rule interleaves its refunds (so the check above can fail).
    monkeypatch.setattr(token_transfers, "_REFUNDS_LAST_FROM_PROTOCOL", 24)
    _assert_refund_order(p23, refunds_last=False)
    with pytest.raises(AssertionError):
        _assert_refund_order(p23, refunds_last=True)


def test_meta_the_reference_rejects_is_an_error_naming_ledger_transaction_and_operation():
    """A claim whose claimable balance is missing from the operation's changes."""
    claim = xdr.OperationType.CLAIM_CLAIMABLE_BALANCE
    for ledger in _ttp_ledgers(TTP / "ledgers-base64.txt"):
        found = [
            (tx, i)
            for tx in ledger.transactions
            if tx.successful
            for i, op in enumerate(tx.operations)
            if op.body.type == claim
        ]
        if found:
            break
    else:
        pytest.fail("no successful claim in ledgers-base64.txt")
    tx, index = found[0]
    tx.operation_metas[index].changes.ledger_entry_changes = []
    where = rf"ledger {ledger.sequence} tx {tx.hash_hex} operation {index + 1}: 0 claimable balances removed"
    with pytest.raises(TokenTransferError, match=where):
        transform(ledger)
