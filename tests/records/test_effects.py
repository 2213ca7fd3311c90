"""The effects table against stellar-etl's golden ledger, and internal consistency (trades vs. claim
atoms, payments vs. their amounts) on every real datastore.

The exact rows of each operation family are asserted on XDR-built transactions in
test_effects_operations.py (and test_effects_classic/pools/soroban/sponsorship.py).
"""

from __future__ import annotations

import json
from collections import defaultdict

import pyarrow as pa
import pytest
from stellar_sdk import xdr

from beam_pipeline.records import effects, get_table, trades
from beam_pipeline.records.base import rows_to_columns
from beam_pipeline.records.effects._common import read_claim
from beam_pipeline.util.accounts import account_address, account_id_address
from beam_pipeline.util.assets import extract_asset
from beam_pipeline.util.toid import toid
from tests.records._load import datastore_names, load_golden, load_ledgers

GOLDEN_DATASTORES = ["mainnet-p13-30820015-metav4", "mainnet-p13-30820015-metav2"]
LIMITS = {"standalone-p25-loadtest": 2}
OT = xdr.OperationType


def _as_golden(row: dict) -> dict:
    out = dict(row)
    out["details"] = json.loads(row["details"])
    out["closed_at"] = row["closed_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


@pytest.mark.parametrize("datastore", GOLDEN_DATASTORES)
def test_every_field_of_every_row_matches_stellar_etl_golden(datastore: str) -> None:
    golden = load_golden("effects", "one_ledger_effects.golden")
    [ledger] = load_ledgers(datastore)
    rows = [_as_golden(r) for r in effects.transform(ledger)]
    assert len(rows) == len(golden) == 7
    assert sorted(rows, key=lambda r: r["id"]) == sorted(golden, key=lambda g: g["id"])


# --- every datastore ---------------------------------------------------------------------------------


def _ledgers(name: str):
    return load_ledgers(name, LIMITS.get(name))


@pytest.mark.parametrize("datastore", datastore_names())
def test_every_datastore_transforms_and_stores(datastore: str) -> None:
    table = get_table("effects")
    for ledger in _ledgers(datastore):
        rows = effects.transform(ledger)
        pa.Table.from_pydict(rows_to_columns(rows, table.schema), schema=table.schema)
        by_op = defaultdict(list)
        for row in rows:
            assert row["ledger_sequence"] == ledger.sequence
            assert row["id"] == f"{row['operation_id']}-{row['index']}"
            assert row["type_string"] == effects.EffectType(row["type"]).name.lower()
            by_op[row["operation_id"]].append(row["index"])
        for indexes in by_op.values():
            assert indexes == list(range(len(indexes)))
        # failed transactions have no effects
        failed = {toid(ledger.sequence, tx.index, 0) >> 12 for tx in ledger.transactions if not tx.successful}
        assert not {r["operation_id"] >> 12 for r in rows} & failed


def _claims(op: xdr.Operation, tr: xdr.OperationResultTr) -> list:
    t = op.body.type
    if t == OT.MANAGE_SELL_OFFER:
        return tr.manage_sell_offer_result.success.offers_claimed
    if t == OT.MANAGE_BUY_OFFER:
        return tr.manage_buy_offer_result.success.offers_claimed
    if t == OT.CREATE_PASSIVE_SELL_OFFER:
        inner = tr.manage_sell_offer_result or tr.create_passive_sell_offer_result
        return inner.success.offers_claimed
    if t == OT.PATH_PAYMENT_STRICT_RECEIVE:
        return tr.path_payment_strict_receive_result.success.offers
    if t == OT.PATH_PAYMENT_STRICT_SEND:
        return tr.path_payment_strict_send_result.success.offers
    return []


def _asset_details(asset: xdr.Asset, prefix: str) -> dict:
    kind, code, issuer = extract_asset(asset)
    out = {f"{prefix}asset_type": kind}
    if code:
        out.update({f"{prefix}asset_code": code, f"{prefix}asset_issuer": issuer})
    return out


def _amount(stroops: int) -> str:
    return f"{stroops // 10**7}.{stroops % 10**7:07d}"


@pytest.mark.parametrize("datastore", datastore_names())
def test_trade_effects_are_the_claim_atoms_of_their_operation(datastore: str) -> None:
    """Every order-book fill gives a trade pair (buyer then seller) with its amounts, assets and offer id,
    and every trade effect belongs to a fill: counted independently of the effects code."""
    checked = 0
    for ledger in _ledgers(datastore):
        rows = effects.transform(ledger)
        trades = defaultdict(list)
        for row in rows:
            if row["type_string"] == "trade":
                trades[row["operation_id"]].append((row["address"], json.loads(row["details"])))
        expected = defaultdict(list)
        for tx in ledger.transactions:
            if not tx.successful:
                continue
            for i, op in enumerate(tx.operations):
                source = op.source_account or tx.inner_envelope.tx.source_account
                for atom in _claims(op, tx.operation_results[i].tr):
                    claim = read_claim(atom)
                    if claim.seller is None or (claim.amount_sold == 0 and claim.amount_bought == 0):
                        continue
                    seller = account_id_address(claim.seller)
                    buyer = account_address(source)
                    expected[toid(ledger.sequence, tx.index, i + 1)] += [
                        (
                            buyer,
                            {
                                "offer_id": claim.offer_id,
                                "seller": seller,
                                "bought_amount": _amount(claim.amount_sold),
                                "sold_amount": _amount(claim.amount_bought),
                                **_asset_details(claim.asset_sold, "bought_"),
                                **_asset_details(claim.asset_bought, "sold_"),
                            },
                        ),
                        (
                            seller,
                            {
                                "offer_id": claim.offer_id,
                                "seller": buyer,
                                "bought_amount": _amount(claim.amount_bought),
                                "sold_amount": _amount(claim.amount_sold),
                                **_asset_details(claim.asset_bought, "bought_"),
                                **_asset_details(claim.asset_sold, "sold_"),
                            },
                        ),
                    ]
        for details in [d for pairs in trades.values() for _, d in pairs]:
            details.pop("seller_muxed", None)
            details.pop("seller_muxed_id", None)
        assert dict(trades) == dict(expected)
        checked += sum(len(v) for v in expected.values())
    if datastore in ("mainnet-p21-53312000", "mainnet-p22-56065483", "testnet-p19-lpf64"):
        assert checked > 0


def _moved(op: xdr.Operation, result: xdr.OperationResult) -> tuple | None:
    """(destination, received amount, asset, sent amount, asset) of a payment-like operation, from the
    operation and its result (the path-payment fills give what was really sent or received)."""
    t = op.body.type
    if t == OT.PAYMENT:
        p = op.body.payment_op
        return p.destination, p.amount.int64, p.asset, p.amount.int64, p.asset
    if t == OT.PATH_PAYMENT_STRICT_SEND:
        p = op.body.path_payment_strict_send_op
        last = result.tr.path_payment_strict_send_result.success.last
        return p.destination, last.amount.int64, p.dest_asset, p.send_amount.int64, p.send_asset
    if t == OT.PATH_PAYMENT_STRICT_RECEIVE:
        p = op.body.path_payment_strict_receive_op
        success = result.tr.path_payment_strict_receive_result.success
        atoms = [read_claim(a) for a in success.offers]
        sent = success.last.amount.int64 if not atoms else 0
        for claim in atoms:  # the leading run of fills that bought the send asset
            if extract_asset(claim.asset_bought) != extract_asset(atoms[0].asset_bought):
                break
            sent += claim.amount_bought
        return p.destination, p.dest_amount.int64, p.dest_asset, sent, p.send_asset
    if t == OT.CREATE_ACCOUNT:
        p = op.body.create_account_op
        return (
            None,
            p.starting_balance.int64,
            None,
            p.starting_balance.int64,
            xdr.Asset(xdr.AssetType.ASSET_TYPE_NATIVE),
        )
    return None


@pytest.mark.parametrize("datastore", datastore_names())
def test_credits_and_debits_match_payments_and_account_creations(datastore: str) -> None:
    """Payments and path payments credit their destination and debit their source by what the operation
    and its result say moved; create_account debits its source by the starting balance."""
    checked = 0
    for ledger in _ledgers(datastore):
        by_op = defaultdict(list)
        for row in effects.transform(ledger):
            by_op[row["operation_id"]].append((row["type_string"], row["address"], json.loads(row["details"])))
        for tx in ledger.transactions:
            if not tx.successful:
                continue
            for i, op in enumerate(tx.operations):
                moved = _moved(op, tx.operation_results[i])
                if moved is None:
                    continue
                destination, received, received_asset, sent, sent_asset = moved
                source = account_address(op.source_account or tx.inner_envelope.tx.source_account)
                got = by_op[toid(ledger.sequence, tx.index, i + 1)]
                debit = ("account_debited", source, {"amount": _amount(sent), **_asset_details(sent_asset, "")})
                if destination is None:
                    assert got[1] == debit
                else:
                    credit = {"amount": _amount(received), **_asset_details(received_asset, "")}
                    assert got[:2] == [("account_credited", account_address(destination), credit), debit]
                checked += 1
    if datastore not in ("standalone-p23-loadtest", "standalone-p25-loadtest"):
        assert checked > 0


def _trade_asset(row: dict, side: str) -> tuple[str, str, str]:
    return row[f"{side}_asset_type"], row[f"{side}_asset_code"], row[f"{side}_asset_issuer"]


def _effect_asset(details: dict, prefix: str) -> tuple[str, str, str]:
    return (
        details[f"{prefix}asset_type"],
        details.get(f"{prefix}asset_code", ""),
        details.get(f"{prefix}asset_issuer", ""),
    )


def _canonical(asset: tuple[str, str, str]) -> str:
    return "native" if asset[0] == "native" else f"{asset[1]}:{asset[2]}"


def _from_trade_row(row: dict) -> list[tuple]:
    """The effects a trades row implies: for an order-book fill the buyer's then the seller's ``trade``
    effect, for a pool fill one ``liquidity_pool_trade`` on the buyer (amounts as floats, as trades has them)."""
    sold, bought = _trade_asset(row, "selling"), _trade_asset(row, "buying")
    seller, buyer = row["selling_account_address"], row["buying_account_address"]
    if row["trade_type"] == trades.TRADE_TYPE_LIQUIDITY_POOL:
        return [
            (
                buyer,
                "liquidity_pool_trade",
                row["selling_liquidity_pool_id"],
                (_canonical(sold), row["selling_amount"]),
                (_canonical(bought), row["buying_amount"]),
            )
        ]
    offer = row["selling_offer_id"]
    return [
        (buyer, "trade", offer, seller, sold, row["selling_amount"], bought, row["buying_amount"]),
        (seller, "trade", offer, buyer, bought, row["buying_amount"], sold, row["selling_amount"]),
    ]


def _from_effect(row: dict) -> tuple:
    """A trade effect in the same shape: (address, kind, offer or pool, ..., bought then sold side)."""
    d = json.loads(row["details"])
    if row["type_string"] == "liquidity_pool_trade":
        return (
            row["address"],
            "liquidity_pool_trade",
            d["liquidity_pool"]["id"],
            (d["sold"]["asset"], float(d["sold"]["amount"])),
            (d["bought"]["asset"], float(d["bought"]["amount"])),
        )
    return (
        row["address"],
        "trade",
        d["offer_id"],
        d["seller"],
        _effect_asset(d, "bought_"),
        float(d["bought_amount"]),
        _effect_asset(d, "sold_"),
        float(d["sold_amount"]),
    )


@pytest.mark.parametrize("datastore", datastore_names())
def test_trades_are_the_pairs_of_trade_effects(datastore: str) -> None:
    """Each trades row is exactly its fill's pair of ``trade`` effects (buyer's, then seller's: same offer
    id, accounts, assets and amounts) or, for a pool fill, its ``liquidity_pool_trade``; per operation in
    fill order, and no trade effect lacks its trades row."""
    checked = pools = 0
    for ledger in _ledgers(datastore):
        from_trades = defaultdict(list)
        for row in sorted(trades.transform(ledger), key=lambda r: (r["history_operation_id"], r["order"])):
            from_trades[row["history_operation_id"]] += _from_trade_row(row)
            pools += row["trade_type"] == trades.TRADE_TYPE_LIQUIDITY_POOL
        from_effects = defaultdict(list)
        for row in effects.transform(ledger):
            if row["type_string"] in ("trade", "liquidity_pool_trade"):
                from_effects[row["operation_id"]].append(_from_effect(row))
        assert dict(from_effects) == dict(from_trades)
        checked += sum(len(v) for v in from_trades.values())
    if datastore in ("mainnet-p21-53312000", "mainnet-p22-56065483", "testnet-p19-lpf64"):
        assert checked > 0
    if datastore in ("mainnet-p21-53312000", "mainnet-p22-56065483"):
        assert pools > 0
