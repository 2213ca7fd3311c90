"""The check that runs every effects test's transaction through the native core too (`effects_native`)
must be on wherever the core is, and must catch a difference."""

from __future__ import annotations

import pytest
from stellar_sdk import xdr

from beam_pipeline import native
from beam_pipeline.records import effects
from tests.records import effects_native
from tests.records.effects_fixtures import CREATED, OT, SRC, USD, muxed, run

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
