"""The check that runs every effects test's transaction through the native core too (`effects_native`)
must be on wherever the core is and must catch a difference; and transactions the reference refuses
(unpaired changes, missing or mismatched results, missing entries) fail with the same error on both paths."""

from __future__ import annotations

import pytest
from stellar_sdk import xdr

from beam_pipeline import native
from beam_pipeline.records import effects
from beam_pipeline.records.operations import OperationError
from tests.records import effects_native
from tests.records.effects_fixtures import (
    CREATED,
    NATIVE,
    OT,
    SRC,
    USD,
    T,
    account_id,
    created,
    entry,
    ledger_at,
    muxed,
    run,
    trust_line,
    tx_view,
    updated,
    usd_line,
)

if native.mode() == "0":
    pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run", allow_module_level=True)


def _payment() -> xdr.OperationBody:
    return xdr.OperationBody(OT.PAYMENT, payment_op=xdr.PaymentOp(muxed(CREATED, 9), USD, xdr.Int64(125_000_000)))


def test_the_effects_tests_compare_the_native_core() -> None:
    assert native.core() is not None, "the native core is not installed: the effects tests would not compare it"
    before = effects_native.CHECKED["transactions"]
    assert [r[2] for r in run(_payment(), op_source=muxed(SRC, 5))] == ["account_credited", "account_debited"]
    assert effects_native.CHECKED["transactions"] == before + 1


def test_the_comparison_fails_when_the_paths_differ(monkeypatch) -> None:
    real = effects.transform

    def one_row_short(ledger):
        return real(ledger)[:-1]

    monkeypatch.setattr(effects, "transform", one_row_short)
    with pytest.raises(AssertionError):
        run(_payment())


def _account(address: str) -> xdr.LedgerEntry:
    acc = xdr.AccountEntry(
        account_id(address),
        xdr.Int64(10**8),
        xdr.SequenceNumber(xdr.Int64(1)),
        xdr.Uint32(0),
        None,
        xdr.Uint32(0),
        xdr.String32(b""),
        xdr.Thresholds(bytes([1, 0, 0, 0])),
        [],
        xdr.AccountEntryExt(0),
    )
    return entry(xdr.LedgerEntryData(T.ACCOUNT, account=acc))


def _wrong_arm() -> xdr.OperationResultTr:
    return xdr.OperationResultTr(OT.PAYMENT, payment_result=xdr.PaymentResult(xdr.PaymentResultCode.PAYMENT_SUCCESS))


# Transactions the reference refuses, each with its OperationError; `run` compares the core's error first.
BROKEN = {
    "unpaired change": (
        lambda: run(_payment(), [updated(trust_line(usd_line()))]),
        r"operation 1: payment effects: ValueError: ledger entry change 0 \(LEDGER_ENTRY_UPDATED\) has no preceding",
    ),
    "no result body": (
        lambda: run(xdr.OperationBody(OT.ACCOUNT_MERGE, destination=muxed(CREATED))),
        r"operation 1: successful transaction without an operation result body$",
    ),
    "result of another operation": (
        lambda: run(xdr.OperationBody(OT.ACCOUNT_MERGE, destination=muxed(CREATED)), [], _wrong_arm()),
        r"account_merge effects: AttributeError: 'NoneType' object has no attribute 'source_account_balance'$",
    ),
    "created account bumped": (
        lambda: run(
            xdr.OperationBody(OT.BUMP_SEQUENCE, bump_sequence_op=xdr.BumpSequenceOp(xdr.SequenceNumber(xdr.Int64(5)))),
            [created(_account(SRC))],
        ),
        r"bump_sequence effects: AttributeError: 'NoneType' object has no attribute 'data'$",
    ),
    "claimable balance without its entry": (
        lambda: run(
            xdr.OperationBody(
                OT.CREATE_CLAIMABLE_BALANCE,
                create_claimable_balance_op=xdr.CreateClaimableBalanceOp(USD, xdr.Int64(25), []),
            )
        ),
        r"operation 1: claimable balance entry not found$",
    ),
    "offer without success": (
        lambda: run(
            xdr.OperationBody(
                OT.MANAGE_SELL_OFFER,
                manage_sell_offer_op=xdr.ManageSellOfferOp(
                    USD, NATIVE, xdr.Int64(1), xdr.Price(xdr.Int32(1), xdr.Int32(1)), xdr.Int64(0)
                ),
            ),
            [],
            xdr.OperationResultTr(
                OT.MANAGE_SELL_OFFER,
                manage_sell_offer_result=xdr.ManageSellOfferResult(
                    xdr.ManageSellOfferResultCode.MANAGE_SELL_OFFER_MALFORMED
                ),
            ),
        ),
        r"manage_sell_offer effects: ValueError: successful offer operation without a success result$",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_refused_transactions_fail_alike_on_both_paths(case: str) -> None:
    build, message = BROKEN[case]
    before = effects_native.CHECKED["transactions"]
    with pytest.raises(OperationError, match=message):
        build()
    assert effects_native.CHECKED["transactions"] == before + 1  # the core failed with the same class and message


@pytest.mark.parametrize("close_time", [253402300799, 253402300800, 2**40, 2**63, 2**64 - 1])
def test_close_times_beyond_python_datetimes_fail_alike(close_time: int) -> None:
    """A row's closed_at is a datetime on the reference's path: past year 9999 the ledger fails, in the same words."""
    ledger = ledger_at(1)
    op = xdr.Operation(None, _payment())
    tx = xdr.Transaction(
        muxed(SRC),
        xdr.Uint32(100),
        xdr.SequenceNumber(xdr.Int64(1)),
        xdr.Preconditions(xdr.PreconditionType.PRECOND_NONE),
        xdr.Memo(xdr.MemoType.MEMO_NONE),
        [op],
        xdr.TransactionExt(0),
    )
    envelope = xdr.TransactionEnvelope(xdr.EnvelopeType.ENVELOPE_TYPE_TX, v1=xdr.TransactionV1Envelope(tx, []))
    result = xdr.TransactionResult(
        xdr.Int64(100),
        xdr.TransactionResultResult(
            xdr.TransactionResultCode.txSUCCESS, results=[xdr.OperationResult(xdr.OperationResultCode.opNOT_SUPPORTED)]
        ),
        xdr.TransactionResultExt(0),
    )
    meta = xdr.TransactionMeta(2, v2=xdr.TransactionMetaV2(xdr.LedgerEntryChanges([]), [], xdr.LedgerEntryChanges([])))
    before = effects_native.CHECKED["transactions"]
    effects_native.check_native(ledger, tx_view(ledger, envelope, result, meta), close_time)
    assert effects_native.CHECKED["transactions"] == before + 1
