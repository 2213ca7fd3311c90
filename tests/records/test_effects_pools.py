"""Liquidity-pool effects (created, deposited, withdrew, trade, revoked, removed): the inputs and expected
effects of stellar-etl's TestLiquidityPoolEffects, built with stellar_sdk."""

from __future__ import annotations

import pytest
from stellar_sdk import StrKey, xdr

from beam_pipeline.records.operations import OperationError
from tests.records.effects_fixtures import (
    NATIVE,
    OT,
    SRC,
    USD,
    USD_TEXT,
    T,
    account_id,
    created,
    entry,
    muxed,
    removed,
    run,
    state,
    trust_line,
    updated,
    usd_line,
)

# --- liquidity pools (stellar-etl TestLiquidityPoolEffects) -------------------------------------------

POOL_ID = bytes.fromhex("ea4e3e63a95fd840c1394f195722ffdcb2d0d4f0a26589c6ab557d81e6b0bf9d")
POOL_PARAMS = xdr.LiquidityPoolConstantProductParameters(NATIVE, USD, xdr.Int32(20))


def pool(reserve_a: int = 200, reserve_b: int = 100, shares: int = 1000) -> xdr.LedgerEntry:
    cp = xdr.LiquidityPoolEntryConstantProduct(
        POOL_PARAMS, xdr.Int64(reserve_a), xdr.Int64(reserve_b), xdr.Int64(shares), xdr.Int64(10)
    )
    body = xdr.LiquidityPoolEntryBody(xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT, constant_product=cp)
    return entry(
        xdr.LedgerEntryData(
            T.LIQUIDITY_POOL, liquidity_pool=xdr.LiquidityPoolEntry(xdr.PoolID(xdr.Hash(POOL_ID)), body)
        )
    )


def pool_json(a: str, b: str, shares: str) -> dict:
    return {
        "fee_bp": 20,
        "id": POOL_ID.hex(),
        "type": "constant_product",
        "total_trustlines": "10",
        "total_shares": shares,
        "reserves": [{"asset": "native", "amount": a}, {"asset": USD_TEXT, "amount": b}],
    }


def pool_share_line() -> xdr.TrustLineAsset:
    return xdr.TrustLineAsset(xdr.AssetType.ASSET_TYPE_POOL_SHARE, liquidity_pool_id=xdr.PoolID(xdr.Hash(POOL_ID)))


def test_pool_creation_by_change_trust() -> None:
    params = xdr.LiquidityPoolParameters(
        xdr.LiquidityPoolType.LIQUIDITY_POOL_CONSTANT_PRODUCT, constant_product=POOL_PARAMS
    )
    line = xdr.ChangeTrustAsset(xdr.AssetType.ASSET_TYPE_POOL_SHARE, liquidity_pool=params)
    body = xdr.OperationBody(OT.CHANGE_TRUST, change_trust_op=xdr.ChangeTrustOp(line, xdr.Int64(1000)))
    got = run(body, [created(pool()), created(trust_line(pool_share_line(), 0, 0))])
    assert got == [
        (
            SRC,
            None,
            "trustline_created",
            {
                "asset_type": "liquidity_pool_shares",
                "limit": "0.0001000",
                "liquidity_pool_id": POOL_ID.hex(),
                "liquidity_pool_id_strkey": StrKey.encode_liquidity_pool(POOL_ID),
            },
        ),
        (SRC, None, "liquidity_pool_created", {"liquidity_pool": pool_json("0.0000200", "0.0000100", "0.0001000")}),
    ]


def test_pool_deposit_reports_the_reserve_deltas() -> None:
    op = xdr.LiquidityPoolDepositOp(
        xdr.PoolID(xdr.Hash(POOL_ID)),
        xdr.Int64(100),
        xdr.Int64(200),
        xdr.Price(xdr.Int32(50), xdr.Int32(3)),
        xdr.Price(xdr.Int32(100), xdr.Int32(2)),
    )
    got = run(
        xdr.OperationBody(OT.LIQUIDITY_POOL_DEPOSIT, liquidity_pool_deposit_op=op),
        [state(pool()), updated(pool(250, 160, 1010))],
    )
    assert got == [
        (
            SRC,
            None,
            "liquidity_pool_deposited",
            {
                "liquidity_pool": pool_json("0.0000250", "0.0000160", "0.0001010"),
                "reserves_deposited": [
                    {"asset": "native", "amount": "0.0000050"},
                    {"asset": USD_TEXT, "amount": "0.0000060"},
                ],
                "shares_received": "0.0000010",
            },
        )
    ]


def test_pool_withdrawal_reports_what_left() -> None:
    op = xdr.LiquidityPoolWithdrawOp(xdr.PoolID(xdr.Hash(POOL_ID)), xdr.Int64(10), xdr.Int64(10), xdr.Int64(5))
    got = run(
        xdr.OperationBody(OT.LIQUIDITY_POOL_WITHDRAW, liquidity_pool_withdraw_op=op),
        [state(pool()), updated(pool(189, 94, 990))],
    )
    assert got == [
        (
            SRC,
            None,
            "liquidity_pool_withdrew",
            {
                "liquidity_pool": pool_json("0.0000189", "0.0000094", "0.0000990"),
                "reserves_received": [
                    {"asset": "native", "amount": "0.0000011"},
                    {"asset": USD_TEXT, "amount": "0.0000006"},
                ],
                "shares_redeemed": "0.0000010",
            },
        )
    ]


def test_pool_fill_of_a_path_payment() -> None:
    op = xdr.PathPaymentStrictSendOp(NATIVE, xdr.Int64(10), muxed(SRC), USD, xdr.Int64(5), [])
    atom = xdr.ClaimAtom(
        xdr.ClaimAtomType.CLAIM_ATOM_TYPE_LIQUIDITY_POOL,
        liquidity_pool=xdr.ClaimLiquidityAtom(xdr.PoolID(xdr.Hash(POOL_ID)), NATIVE, xdr.Int64(10), USD, xdr.Int64(5)),
    )
    success = xdr.PathPaymentStrictSendResultSuccess(
        [atom], xdr.SimplePaymentResult(account_id(SRC), USD, xdr.Int64(5))
    )
    result = xdr.OperationResultTr(
        OT.PATH_PAYMENT_STRICT_SEND,
        path_payment_strict_send_result=xdr.PathPaymentStrictSendResult(
            xdr.PathPaymentStrictSendResultCode.PATH_PAYMENT_STRICT_SEND_SUCCESS, success=success
        ),
    )
    got = run(
        xdr.OperationBody(OT.PATH_PAYMENT_STRICT_SEND, path_payment_strict_send_op=op),
        [state(pool()), updated(pool(189, 94, 990))],
        result,
    )
    usd = {"asset_code": "USD", "asset_issuer": SRC, "asset_type": "credit_alphanum4"}
    assert got == [
        (SRC, None, "account_credited", {"amount": "0.0000005", **usd}),
        (SRC, None, "account_debited", {"amount": "0.0000010", "asset_type": "native"}),
        (
            SRC,
            None,
            "liquidity_pool_trade",
            {
                "bought": {"amount": "0.0000005", "asset": USD_TEXT},
                "sold": {"amount": "0.0000010", "asset": "native"},
                "liquidity_pool": pool_json("0.0000189", "0.0000094", "0.0000990"),
            },
        ),
    ]


def test_revocation_withdraws_pool_shares_into_claimable_balances() -> None:
    op = xdr.SetTrustLineFlagsOp(account_id(SRC), USD, xdr.Uint32(1), xdr.Uint32(0))
    unconditional = xdr.ClaimPredicate(xdr.ClaimPredicateType.CLAIM_PREDICATE_UNCONDITIONAL)
    balance = xdr.ClaimableBalanceEntry(
        xdr.ClaimableBalanceID(
            xdr.ClaimableBalanceIDType.CLAIMABLE_BALANCE_ID_TYPE_V0, v0=xdr.Hash(bytes([0xA, 0xB]) + bytes(30))
        ),
        [xdr.Claimant(xdr.ClaimantType.CLAIMANT_TYPE_V0, v0=xdr.ClaimantV0(account_id(SRC), unconditional))],
        USD,
        xdr.Int64(100),
        xdr.ClaimableBalanceEntryExt(0),
    )
    pool_key = xdr.LedgerKey(T.LIQUIDITY_POOL, liquidity_pool=xdr.LedgerKeyLiquidityPool(xdr.PoolID(xdr.Hash(POOL_ID))))
    share_key = xdr.LedgerKey(T.TRUSTLINE, trust_line=xdr.LedgerKeyTrustLine(account_id(SRC), pool_share_line()))
    changes = [
        state(trust_line(usd_line(), 5, 100, 1)),
        updated(trust_line(usd_line(), 5, 100, 0)),
        state(trust_line(pool_share_line(), 1000, 2000, 1)),
        removed(share_key),
        created(entry(xdr.LedgerEntryData(T.CLAIMABLE_BALANCE, claimable_balance=balance))),
        state(pool()),
        removed(pool_key),
    ]
    got = run(xdr.OperationBody(OT.SET_TRUST_LINE_FLAGS, set_trust_line_flags_op=op), changes)
    balance_id = "000000000a0b" + "00" * 30
    cb = {"amount": "0.0000100", "asset": USD_TEXT, "balance_id": balance_id}
    assert got == [
        (
            SRC,
            None,
            "trustline_flags_updated",
            {
                "asset_code": "USD",
                "asset_issuer": SRC,
                "asset_type": "credit_alphanum4",
                "authorized_flag": False,
                "trustor": SRC,
            },
        ),
        (SRC, None, "claimable_balance_created", cb),
        (SRC, None, "claimable_balance_claimant_created", {**cb, "predicate": {"unconditional": True}}),
        (
            SRC,
            None,
            "liquidity_pool_revoked",
            {
                "liquidity_pool": pool_json("0.0000200", "0.0000100", "0.0001000"),
                "reserves_revoked": [{"amount": "0.0000100", "asset": USD_TEXT, "claimable_balance_id": balance_id}],
                "shares_revoked": "0.0001000",
            },
        ),
        (SRC, None, "liquidity_pool_removed", {"liquidity_pool_id": POOL_ID.hex()}),
    ]


def test_a_deposit_without_its_pool_change_is_an_error_naming_where() -> None:
    op = xdr.LiquidityPoolDepositOp(
        xdr.PoolID(xdr.Hash(POOL_ID)),
        xdr.Int64(100),
        xdr.Int64(200),
        xdr.Price(xdr.Int32(1), xdr.Int32(1)),
        xdr.Price(xdr.Int32(1), xdr.Int32(1)),
    )
    with pytest.raises(OperationError, match=r"ledger 1 tx 0+ operation 1: liquidity pool ea4e3e63.* has no change"):
        run(xdr.OperationBody(OT.LIQUIDITY_POOL_DEPOSIT, liquidity_pool_deposit_op=op), [])
