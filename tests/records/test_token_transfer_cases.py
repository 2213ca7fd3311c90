"""The token transfer cases the real ledgers here do not reach, built as XDR and checked one by one.

The data stores and lcm/ttp ledgers (test_token_transfers.py) cover fees (classic, fee-bump-free
Soroban with refunds, CAP-67 fee events), payments, path payments, offers, claimable balance
creation and claims, revoked trust lines with pool shares, account creation and merges, SAC
transfers (v4) and the pre-protocol-8 reconciliation. Here: clawbacks, clawed-back claimable
balances, pool deposits and withdrawals, inflation, CAP-67 ``to_muxed_id`` data, v3 SAC events,
custom (non-SAC) tokens, memo-based destination information and stellar-etl's row rendering of
all of it. The transaction context is a real one (standalone-p23-loadtest, ledger 85).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib

import pytest
from stellar_sdk import Asset, Keypair, MuxedAccount, StrKey, scval, xdr

from beam_pipeline.records.operations.changes import Change
from beam_pipeline.records.token_transfers import event_row
from beam_pipeline.records.token_transfers.balances import (
    clawback,
    clawback_claimable_balance,
    liquidity_pool_deposit,
    liquidity_pool_withdraw,
)
from beam_pipeline.records.token_transfers.contract import token_event
from beam_pipeline.records.token_transfers.event import TokenEvent, TxContext, mint_burn_or_transfer
from beam_pipeline.records.token_transfers.payments import inflation, manage_offer, payment
from beam_pipeline.util.assets import asset_contract_id
from tests.records._load import load_ledgers

ISSUER, ALICE, BOB = (Keypair.from_raw_ed25519_seed(bytes([i]) * 32).public_key for i in (1, 2, 3))
USD = Asset("USD", ISSUER).to_xdr_object()
LONG = Asset("LONGCODE", ISSUER).to_xdr_object()
NATIVE = Asset.native().to_xdr_object()


@pytest.fixture(scope="module")
def ctx() -> TxContext:
    ledger = load_ledgers("standalone-p23-loadtest", 2)[1]
    assert ledger.sequence == 85
    return TxContext(ledger, ledger.transactions[0])


def _sac(ctx: TxContext, asset: xdr.Asset) -> str:
    return StrKey.encode_contract(asset_contract_id(asset, ctx.ledger.network_passphrase))


def _event(contract: bytes, topics: list[xdr.SCVal], data: xdr.SCVal) -> xdr.ContractEvent:
    return xdr.ContractEvent(
        ext=xdr.ExtensionPoint(0),
        contract_id=xdr.ContractID(xdr.Hash(contract)),
        type=xdr.ContractEventType.CONTRACT,
        body=xdr.ContractEventBody(0, v0=xdr.ContractEventV0(topics, data)),
    )


def _row(ctx: TxContext, e: TokenEvent) -> dict:
    return event_row(e, ctx.ledger.sequence, ctx.tx.index, ctx.tx.hash_hex, ctx.ledger.closed_at)


def _with_memo(ctx: TxContext, memo: xdr.Memo) -> TxContext:
    envelope = copy.deepcopy(ctx.tx.envelope)
    envelope.v1.tx.memo = memo
    return TxContext(ctx.ledger, dataclasses.replace(ctx.tx, envelope=envelope))


# --- contract events -------------------------------------------------------------------------------


def test_v4_sac_transfer_with_a_muxed_id_in_its_data(ctx):
    contract = asset_contract_id(USD, ctx.ledger.network_passphrase)
    data = scval.to_map(
        {scval.to_symbol("amount"): scval.to_int128(5), scval.to_symbol("to_muxed_id"): scval.to_uint64(7)}
    )
    topics = [
        scval.to_symbol("transfer"),
        scval.to_address(ALICE),
        scval.to_address(BOB),
        scval.to_string(f"USD:{ISSUER}"),
    ]
    e = token_event(ctx, 2, _event(contract, topics, data), 4)
    row = _row(ctx, e)
    assert (row["event_topic"], row["from"], row["to"], row["amount_raw"]) == ("transfer", ALICE, BOB, "5")
    assert (row["asset"], row["asset_type"], row["asset_code"]) == (
        f"credit_alphanum4:USD:{ISSUER}",
        "credit_alphanum4",
        "USD",
    )
    assert row["contract_id"] == _sac(ctx, USD) and row["amount"] == 5 * 0.0000001
    assert row["to_muxed_id"] == "7" and MuxedAccount.from_account(row["to_muxed"]).account_muxed_id == 7
    assert row["operation_id"] == (85 << 32) | (ctx.tx.index << 12) | 2


def test_a_text_muxed_id_is_written_as_id_0_like_stellar_etl(ctx):
    contract = asset_contract_id(USD, ctx.ledger.network_passphrase)
    data = scval.to_map(
        {scval.to_symbol("amount"): scval.to_int128(5), scval.to_symbol("to_muxed_id"): scval.to_string("hi")}
    )
    topics = [scval.to_symbol("mint"), scval.to_address(BOB), scval.to_string(f"USD:{ISSUER}")]
    row = _row(ctx, token_event(ctx, 1, _event(contract, topics, data), 4))
    assert (row["event_topic"], row["from"], row["to"], row["to_muxed_id"]) == ("mint", None, BOB, "0")
    assert MuxedAccount.from_account(row["to_muxed"]).account_id == BOB


def test_a_custom_token_has_no_asset_and_its_own_contract(ctx):
    contract = hashlib.sha256(b"my token").digest()
    big = 2**100
    topics = [scval.to_symbol("burn"), scval.to_address(ALICE), scval.to_string(f"USD:{ISSUER}")]
    row = _row(ctx, token_event(ctx, 1, _event(contract, topics, scval.to_int128(big)), 4))
    assert (row["event_topic"], row["from"], row["to"]) == ("burn", ALICE, None)
    assert (row["asset"], row["asset_type"], row["asset_code"], row["asset_issuer"]) == ("", "", None, None)
    assert row["contract_id"] == StrKey.encode_contract(contract) and row["amount_raw"] == str(big)


def test_v3_sac_transfer_from_the_issuer_is_a_mint_and_v3_mint_skips_the_admin(ctx):
    contract = asset_contract_id(USD, ctx.ledger.network_passphrase)
    asset = scval.to_string(f"USD:{ISSUER}")
    transfer = [scval.to_symbol("transfer"), scval.to_address(ISSUER), scval.to_address(BOB), asset]
    e = token_event(ctx, 1, _event(contract, transfer, scval.to_int128(9)), 3)
    assert (e.kind, e.sender, e.receiver, e.amount, e.asset) == ("mint", None, BOB, 9, USD)
    to_issuer = [scval.to_symbol("transfer"), scval.to_address(ALICE), scval.to_address(ISSUER), asset]
    assert token_event(ctx, 1, _event(contract, to_issuer, scval.to_int128(9)), 3).kind == "burn"
    mint = [scval.to_symbol("mint"), scval.to_address(ISSUER), scval.to_address(ALICE), asset]
    e = token_event(ctx, 1, _event(contract, mint, scval.to_int128(3)), 3)
    assert (e.kind, e.receiver, e.asset) == ("mint", ALICE, USD)
    # In v4 the same topics mean mint(to=ISSUER) with an unexpected topic count: no asset.
    assert token_event(ctx, 1, _event(contract, mint, scval.to_int128(3)), 4).asset is None


@pytest.mark.parametrize(
    "topics, data",
    [
        ([scval.to_symbol("approve"), scval.to_address(ALICE), scval.to_address(BOB)], scval.to_int128(1)),
        ([scval.to_symbol("transfer"), scval.to_address(ALICE), scval.to_address(BOB)], scval.to_int64(1)),
        ([scval.to_symbol("transfer"), scval.to_address(ALICE)], scval.to_int128(1)),
        ([scval.to_string("transfer"), scval.to_address(ALICE), scval.to_address(BOB)], scval.to_int128(1)),
        ([scval.to_symbol("transfer"), scval.to_symbol("x"), scval.to_address(BOB)], scval.to_int128(1)),
        (
            [scval.to_symbol("transfer"), scval.to_address(ALICE), scval.to_address(BOB)],
            scval.to_map({scval.to_symbol("to_muxed_id"): scval.to_uint64(1)}),
        ),
    ],
    ids=[
        "not-a-token-function",
        "amount-not-i128",
        "too-few-topics",
        "name-not-symbol",
        "bad-address",
        "map-no-amount",
    ],
)
def test_events_that_are_not_sep41_token_events_are_skipped(ctx, topics, data):
    assert token_event(ctx, 1, _event(hashlib.sha256(b"t").digest(), topics, data), 4) is None


# --- classic operations ---------------------------------------------------------------------------


def _op(body: xdr.OperationBody, source: str | MuxedAccount | None = None) -> xdr.Operation:
    if isinstance(source, str):
        source = MuxedAccount(source)
    src = None if source is None else source.to_xdr_object()
    return xdr.Operation(source_account=src, body=body)


def test_clawback_and_clawback_of_a_claimable_balance(ctx):
    body = xdr.OperationBody(
        xdr.OperationType.CLAWBACK,
        clawback_op=xdr.ClawbackOp(asset=USD, from_=MuxedAccount(ALICE, 12).to_xdr_object(), amount=xdr.Int64(40)),
    )
    (e,) = clawback(ctx, 1, _op(body, ISSUER), None, [])
    assert (e.kind, e.sender, e.receiver, e.amount, e.contract_id) == ("clawback", ALICE, None, 40, _sac(ctx, USD))
    balance_id = xdr.ClaimableBalanceID(
        xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(b"\x07" * 32)
    )
    entry = xdr.ClaimableBalanceEntry(balance_id, [], LONG, xdr.Int64(77), xdr.ClaimableBalanceEntryExt(0))
    removed = xdr.LedgerEntry(
        xdr.Uint32(1),
        xdr.LedgerEntryData(xdr.LedgerEntryType.CLAIMABLE_BALANCE, claimable_balance=entry),
        xdr.LedgerEntryExt(0),
    )
    body = xdr.OperationBody(
        xdr.OperationType.CLAWBACK_CLAIMABLE_BALANCE,
        clawback_claimable_balance_op=xdr.ClawbackClaimableBalanceOp(balance_id),
    )
    (e,) = clawback_claimable_balance(
        ctx, 1, _op(body, ISSUER), None, [Change(xdr.LedgerEntryType.CLAIMABLE_BALANCE, removed, None)]
    )
    row = _row(ctx, e)
    assert row["from"] == StrKey.encode_claimable_balance(b"\0" + b"\x07" * 32) and row["amount_raw"] == "77"
    assert (row["asset_type"], row["asset_code"]) == ("credit_alphanum12", "LONGCODE")


def _pool_entry(reserve_a: int, reserve_b: int) -> xdr.LedgerEntry:
    params = xdr.LiquidityPoolConstantProductParameters(NATIVE, USD, xdr.Int32(30))
    cp = xdr.LiquidityPoolEntryConstantProduct(
        params, xdr.Int64(reserve_a), xdr.Int64(reserve_b), xdr.Int64(1), xdr.Int64(1)
    )
    pool = xdr.LiquidityPoolEntry(
        xdr.PoolID(xdr.Hash(b"\x09" * 32)),
        xdr.LiquidityPoolEntryBody(xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT, constant_product=cp),
    )
    data = xdr.LedgerEntryData(xdr.LedgerEntryType.LIQUIDITY_POOL, liquidity_pool=pool)
    return xdr.LedgerEntry(xdr.Uint32(1), data, xdr.LedgerEntryExt(0))


def test_pool_deposit_and_withdrawal_move_the_reserve_deltas(ctx):
    pool = StrKey.encode_liquidity_pool(b"\x09" * 32)
    grow = [Change(xdr.LedgerEntryType.LIQUIDITY_POOL, _pool_entry(100, 50), _pool_entry(130, 60))]
    body = xdr.OperationBody(xdr.OperationType.LIQUIDITY_POOL_DEPOSIT)
    a, b = liquidity_pool_deposit(ctx, 1, _op(body, ALICE), None, grow)
    assert [(e.kind, e.sender, e.receiver, e.amount) for e in (a, b)] == [
        ("transfer", ALICE, pool, 30),
        ("transfer", ALICE, pool, 10),
    ]
    assert a.to_muxed is None  # no destination information for pools
    shrink = [Change(xdr.LedgerEntryType.LIQUIDITY_POOL, _pool_entry(130, 60), _pool_entry(100, 60))]
    body = xdr.OperationBody(xdr.OperationType.LIQUIDITY_POOL_WITHDRAW)
    a, b = liquidity_pool_withdraw(ctx, 1, _op(body, ISSUER), None, shrink)
    # Back to USD's issuer is a burn; the native reserve is a transfer; a side of 0 still yields its event.
    assert [(e.kind, e.sender, e.receiver, e.amount) for e in (a, b)] == [
        ("transfer", pool, ISSUER, 30),
        ("burn", pool, None, 0),
    ]


def test_inflation_mints_every_payout(ctx):
    payouts = [
        xdr.InflationPayout(Keypair.from_public_key(k).xdr_account_id(), xdr.Int64(n))
        for k, n in ((ALICE, 5), (BOB, 6))
    ]
    result = xdr.OperationResult(
        xdr.OperationResultCode.opINNER,
        tr=xdr.OperationResultTr(
            xdr.OperationType.INFLATION,
            inflation_result=xdr.InflationResult(xdr.InflationResultCode.INFLATION_SUCCESS, payouts),
        ),
    )
    events = inflation(ctx, 1, _op(xdr.OperationBody(xdr.OperationType.INFLATION)), result)
    assert [(e.kind, e.receiver, e.amount, e.contract_id) for e in events] == [
        ("mint", ALICE, 5, _sac(ctx, NATIVE)),
        ("mint", BOB, 6, _sac(ctx, NATIVE)),
    ]


@pytest.mark.parametrize(
    "memo, muxed_id",
    [
        (xdr.Memo(xdr.MemoType.MEMO_NONE), None),
        (xdr.Memo(xdr.MemoType.MEMO_ID, id=xdr.Uint64(99)), "99"),
        (xdr.Memo(xdr.MemoType.MEMO_TEXT, text=b"hello"), "0"),
        (xdr.Memo(xdr.MemoType.MEMO_HASH, hash=xdr.Hash(b"\x01" * 32)), "0"),
    ],
)
def test_a_payment_takes_its_destination_information_from_the_memo(ctx, memo, muxed_id):
    memo_ctx = _with_memo(ctx, memo)
    body = xdr.OperationBody(
        xdr.OperationType.PAYMENT,
        payment_op=xdr.PaymentOp(MuxedAccount(BOB).to_xdr_object(), NATIVE, xdr.Int64(10)),
    )
    (e,) = payment(memo_ctx, 1, _op(body, ALICE), None)
    row = _row(memo_ctx, e)
    assert (row["event_topic"], row["from"], row["to"], row["to_muxed_id"]) == ("transfer", ALICE, BOB, muxed_id)
    # A muxed destination's own id wins over the memo, and `to` is its G... account.
    body.payment_op.destination = MuxedAccount(BOB, 5).to_xdr_object()
    (e,) = payment(memo_ctx, 1, _op(body, ALICE), None)
    row = _row(memo_ctx, e)
    assert (row["to"], row["to_muxed_id"], row["to_muxed"]) == (BOB, "5", MuxedAccount(BOB, 5).account_muxed)


def test_issuer_rules_mint_burn_and_self_payment(ctx):
    assert mint_burn_or_transfer(ctx, 1, USD, ISSUER, ALICE, 1, True).kind == "mint"
    assert mint_burn_or_transfer(ctx, 1, USD, ALICE, ISSUER, 1, True).kind == "burn"
    self_pay = mint_burn_or_transfer(ctx, 1, USD, ISSUER, ISSUER, 1, True)
    assert (self_pay.kind, self_pay.sender, self_pay.receiver) == ("transfer", ISSUER, ISSUER)
    assert mint_burn_or_transfer(ctx, 1, NATIVE, ISSUER, ALICE, 1, True).kind == "transfer"
    muxed_issuer = MuxedAccount(ISSUER, 3).account_muxed
    assert mint_burn_or_transfer(ctx, 1, USD, muxed_issuer, ALICE, 1, True).sender is None  # a mint, from M... too


def test_a_passive_offer_that_crosses_moves_both_sides_of_each_fill(ctx):
    """Every fill is two movements: the seller's asset to the taker, the taker's to the seller."""
    atom = xdr.ClaimAtom(
        xdr.ClaimAtomType.CLAIM_ATOM_TYPE_ORDER_BOOK,
        order_book=xdr.ClaimOfferAtom(
            Keypair.from_public_key(BOB).xdr_account_id(), xdr.Int64(1), USD, xdr.Int64(20), NATIVE, xdr.Int64(30)
        ),
    )
    success = xdr.ManageOfferSuccessResult(
        [atom], xdr.ManageOfferSuccessResultOffer(xdr.ManageOfferEffect.MANAGE_OFFER_DELETED)
    )
    result = xdr.OperationResult(
        xdr.OperationResultCode.opINNER,
        tr=xdr.OperationResultTr(
            xdr.OperationType.CREATE_PASSIVE_SELL_OFFER,
            create_passive_sell_offer_result=xdr.ManageSellOfferResult(
                xdr.ManageSellOfferResultCode.MANAGE_SELL_OFFER_SUCCESS, success
            ),
        ),
    )
    taker = MuxedAccount(ALICE, 4)  # the taker is reported as its G... account
    sold, bought = manage_offer(
        ctx, 1, _op(xdr.OperationBody(xdr.OperationType.CREATE_PASSIVE_SELL_OFFER), taker), result
    )
    assert (sold.kind, sold.sender, sold.receiver, sold.amount, sold.asset) == ("transfer", BOB, ALICE, 20, USD)
    assert (bought.kind, bought.sender, bought.receiver, bought.amount, bought.asset) == (
        "transfer",
        ALICE,
        BOB,
        30,
        NATIVE,
    )
    assert sold.to_muxed is None and bought.to_muxed is None  # trades carry no destination information
