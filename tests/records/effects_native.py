"""The native core's effects against the Python reference on the effects tests' own transactions.

No data store has every effect family (sponsorships, data entries, pool deposits, footprint
operations ... are rare on the networks our stores sample), so every transaction the effects tests
build is also put alone into a real ledger (the fixtures' host ledger, renumbered), and that ledger's
``effects`` rows are built on both paths: the native rows must equal the Python rows (schema and
values), or both must fail with the same error class and message.
"""

from __future__ import annotations

import pyarrow as pa
from stellar_sdk import xdr

from beam_pipeline import native
from beam_pipeline.records import effects
from beam_pipeline.records.tables.effects import SCHEMA
from beam_pipeline.xdr.ledger import LedgerView, TxView, network_id, transaction_hash

# How many transactions went through both paths (a test requires some did, so the check cannot go quiet).
CHECKED = {"transactions": 0}


def ledger_of(ledger: LedgerView, tx: TxView, close_time: int | None = None) -> xdr.LedgerCloseMeta:
    """`ledger` with `tx` as its only transaction (tx set, result pair hashed on the network, apply meta),
    closed at `close_time` when given."""
    lcm = xdr.LedgerCloseMeta.from_xdr_bytes(ledger.lcm.to_xdr_bytes())
    if lcm.v != 1:
        raise AssertionError(f"the host ledger must be a LedgerCloseMeta v1, not v{lcm.v}")
    body = lcm.v1
    if close_time is not None:
        body.ledger_header.header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(close_time))
    component = xdr.TxSetComponent(
        xdr.TxSetComponentType.TXSET_COMP_TXS_MAYBE_DISCOUNTED_FEE,
        txs_maybe_discounted_fee=xdr.TxSetComponentTxsMaybeDiscountedFee(None, [tx.envelope]),
    )
    phase = xdr.TransactionPhase(0, v0_components=[component])
    body.tx_set = xdr.GeneralizedTransactionSet(
        1, v1_tx_set=xdr.TransactionSetV1(body.tx_set.v1_tx_set.previous_ledger_hash, [phase])
    )
    tx_hash = transaction_hash(tx.envelope, network_id(ledger.network_passphrase))
    pair = xdr.TransactionResultPair(xdr.Hash(tx_hash), tx.result)
    body.tx_processing = [xdr.TransactionResultMeta(pair, xdr.LedgerEntryChanges([]), tx.meta)]
    return xdr.LedgerCloseMeta.from_xdr_bytes(lcm.to_xdr_bytes())


def check_native(ledger: LedgerView, tx: TxView, close_time: int | None = None) -> None:
    """Requires both paths to build the same effects rows (or the same error) for `tx` alone in a ledger.

    Does nothing when the native core is off or absent (a pure-Python run).
    """
    core = native.core()
    if core is None:
        return
    lcm = ledger_of(ledger, tx, close_time)
    passphrase = ledger.network_passphrase
    try:
        rows = effects.transform(LedgerView(lcm, passphrase))
        want, error = pa.RecordBatch.from_pylist(rows, schema=SCHEMA), None
    except Exception as e:  # noqa: BLE001 - compared with the core's error below
        want, error = None, (type(e).__name__, str(e))
    binding = native.NativeCore(["effects"], passphrase, "binary")
    got = binding.batch(binding.decode(lcm.to_xdr_bytes(), "ledger"), "effects", [0], SCHEMA)
    if error is not None:
        assert got.error is not None and tuple(got.error[1:]) == error, (got.error, error)
    else:
        assert got.error is None, got.error
        if not got.batch.equals(want):
            for name in want.schema.names:
                assert got.batch.column(name).to_pylist() == want.column(name).to_pylist(), name
        assert got.batch.equals(want)
    CHECKED["transactions"] += 1
