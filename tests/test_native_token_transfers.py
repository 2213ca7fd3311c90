"""token_transfers in the native core against the Python reference, beyond what the data stores hold.

tests/test_native.py compares every native table on every data store; those stores hold no ledger
before protocol 13, so they never reach the pre-protocol-8 XLM reconciliation, inflation, or the
protocol 22 ledger that revokes pool shares into claimable balances. The reference processor's
ledgers under ``lcm/ttp`` do: here both paths build each of them and the rows must be equal.

Then ledgers the reference rejects (a claim without its claimable balance, results that do not
match the operations, malformed CAP-67 fee events, a fee account whose balance rises while paying,
an operation's changes that do not pair): both paths must fail with the same exception class and
message, which names the ledger, transaction and operation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from stellar_sdk import Network, xdr

from beam_pipeline import native
from beam_pipeline.records import token_transfers
from beam_pipeline.records.tables.token_transfers import SCHEMA
from beam_pipeline.xdr.ledger import LedgerView
from tests.harness import SHARED_LEDGERS
from tests.records._load import load_ledgers

if native.mode() == "0":
    pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run", allow_module_level=True)
try:
    from beam_pipeline import _native  # noqa: F401 - the import is the check
except ImportError as e:  # pragma: no cover - the point is to fail loudly
    pytest.fail(f"the native core is not built ({e}); run pip install -e . with cargo installed", pytrace=False)

TTP = SHARED_LEDGERS / "lcm" / "ttp"
PUBNET = Network.PUBLIC_NETWORK_PASSPHRASE
TABLE = "token_transfers"

Outcome = tuple[str, object]  # ("rows", batch) or ("error", (class name, message))


def _python(lcm: xdr.LedgerCloseMeta, passphrase: str) -> Outcome:
    try:
        rows = token_transfers.transform(LedgerView(lcm, passphrase))
    except Exception as e:  # noqa: BLE001 - the class and message are what is compared
        return "error", (type(e).__name__, str(e))
    return "rows", pa.RecordBatch.from_pylist(rows, schema=SCHEMA)


def _native_outcome(lcm: xdr.LedgerCloseMeta, passphrase: str, xdr_encoding: str = "base64") -> Outcome:
    core = native.NativeCore([TABLE], passphrase, xdr_encoding)
    built = core.batch(core.decode(lcm.to_xdr_bytes(), "ledger"), TABLE, [0], SCHEMA)
    if built.error is not None:
        _, class_name, message = built.error
        return "error", (class_name, message)
    return "rows", built.batch


def _assert_same(lcm: xdr.LedgerCloseMeta, passphrase: str) -> Outcome:
    want, got = _python(lcm, passphrase), _native_outcome(lcm, passphrase)
    assert got[0] == want[0], (got, want)
    if want[0] == "error":
        assert got[1] == want[1]
    else:
        if not got[1].equals(want[1]):
            for name in SCHEMA.names:
                assert got[1].column(name).to_pylist() == want[1].column(name).to_pylist(), name
        assert got[1].equals(want[1])
    return want


def _ttp_ledgers(path: Path) -> list[xdr.LedgerCloseMeta]:
    return [xdr.LedgerCloseMeta.from_xdr(line) for line in path.read_text().split() if line]


LEDGER_FILES = sorted(
    p.name
    for p in TTP.glob("*")
    if not p.name.endswith("-events") and not p.name.endswith("-output.txt") and p.name != "ledger-ttp-events.txt"
)


@pytest.mark.parametrize("name", LEDGER_FILES)
def test_native_rows_equal_python_rows_on_the_reference_processor_ledgers(name, shared_ledgers):
    ledgers = _ttp_ledgers(TTP / name)
    assert ledgers
    rows = 0
    for lcm in ledgers:
        kind, batch = _assert_same(lcm, PUBNET)
        assert kind == "rows"
        rows += batch.num_rows
    assert rows > 0


def test_the_reference_ledgers_reach_the_paths_the_stores_do_not(shared_ledgers):
    """XLM minted and burned by the pre-protocol-8 reconciliation, and CAP-38 revocations, are among the rows."""

    def rows(name: str) -> list[dict]:
        return [r for lcm in _ttp_ledgers(TTP / name) for r in _native_outcome(lcm, PUBNET)[1].to_pylist()]

    # The native asset has no issuer: its only mints and burns are the reconciliation's.
    for name, topic in [("xlm-mint-bug-ledger-9652679", "mint"), ("xlm-burn-bug-ledger-9722383", "burn")]:
        assert any(r["event_topic"] == topic and r["asset"] == "native" for r in rows(name)), name
    revoked = rows("revoke-trustline-ledger-56065483")
    assert any(r["from"].startswith("L") and (r["to"] or "").startswith("B") for r in revoked if r["from"])


# --- ledgers the reference rejects: the same class and message on both paths ---------------------------


def _candidates(source: str) -> Iterator[tuple[xdr.LedgerCloseMeta, str]]:
    """Ledgers of a ttp file or (the first 2 of) a data store, each freshly decoded (so free to damage)."""
    if (TTP / source).is_file():
        for line in (TTP / source).read_text().split():
            yield xdr.LedgerCloseMeta.from_xdr(line), PUBNET
        return
    for view in load_ledgers(source, 2):
        yield xdr.LedgerCloseMeta.from_xdr_bytes(view.lcm.to_xdr_bytes()), view.network_passphrase


def _damaged(source: str, find: Callable[[LedgerView], Callable[[], None] | None]) -> tuple[xdr.LedgerCloseMeta, str]:
    """The first ledger of `source` that `find` returns a damage for, damaged."""
    for lcm, passphrase in _candidates(source):
        damage = find(LedgerView(lcm, passphrase))
        if damage is not None:
            damage()
            return xdr.LedgerCloseMeta.from_xdr_bytes(lcm.to_xdr_bytes()), passphrase
    pytest.fail(f"no ledger of {source} has what the damage needs")


def _claim_changes(view: LedgerView) -> list[xdr.LedgerEntryChange] | None:
    """The raw changes of a successful claim of a claimable balance whose events are derived from them."""
    for tx in view.transactions:
        if not tx.successful or (tx.meta.v == 4 and tx.meta.v4.events):
            continue  # CAP-67 unified events do not read the operation's changes
        for i, op in enumerate(tx.operations):
            if op.body.type == xdr.OperationType.CLAIM_CLAIMABLE_BALANCE:
                return tx.operation_metas[i].changes.ledger_entry_changes
    return None


def _claim_without_balance(view: LedgerView):
    changes = _claim_changes(view)
    return None if changes is None else changes.clear


def _results_missing(view: LedgerView):
    for tx in view.transactions:
        if tx.successful and tx.meta.v != 4 and len(tx.operations) > 0:

            def damage(tx=tx):
                tx.operation_results.pop()

            return damage
    return None


def _unpaired_change(view: LedgerView):
    changes = _claim_changes(view) or []
    first_update = next(
        (j for j, c in enumerate(changes) if c.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED), None
    )
    if first_update is None:
        return None

    def damage():
        del changes[:first_update]  # an update with no state before it

    return damage


def _unified_fee_event(view: LedgerView, change: Callable[[xdr.ContractEvent], None]):
    for tx in view.transactions:
        if tx.meta.v == 4 and tx.meta.v4.events:
            return lambda: change(tx.meta.v4.events[0].event)
    return None


def _three_topics(event: xdr.ContractEvent) -> None:
    event.body.v0.topics.append(xdr.SCVal(xdr.SCValType.SCV_VOID))


def _amount_not_i128(event: xdr.ContractEvent) -> None:
    event.body.v0.data = xdr.SCVal(xdr.SCValType.SCV_U32, u32=xdr.Uint32(5))


def _payer_not_address(event: xdr.ContractEvent) -> None:
    event.body.v0.topics[1] = xdr.SCVal(xdr.SCValType.SCV_U32, u32=xdr.Uint32(5))


def _not_a_contract_event(event: xdr.ContractEvent) -> None:
    event.type = xdr.ContractEventType.SYSTEM


def _soroban_fee_rises(view: LedgerView):
    """A derived Soroban fee whose fee-processing changes show the payer's balance going up."""
    for tx in view.transactions:
        inner = tx.inner_envelope.tx
        soroban = not isinstance(inner, xdr.TransactionV0) and inner.ext.v == 1
        if not soroban or (tx.meta.v == 4 and tx.meta.v4.events):
            continue
        changes = tx.fee_changes.ledger_entry_changes
        updated = [c for c in changes if c.type == xdr.LedgerEntryChangeType.LEDGER_ENTRY_UPDATED]
        if updated:
            return lambda: setattr(updated[-1].updated.data.account.balance, "int64", 1 << 62)
    return None


CLASSIC = "ledgers-base64.txt"  # protocols 2-19: claims of claimable balances, derived events
UNIFIED = "mainnet-p13-30820015-metav4"  # TransactionMeta v4 with CAP-67 fee events
SOROBAN = "standalone-p23-loadtest"  # Soroban transactions with v4 meta but no CAP-67 events: derived fees

DAMAGES = {
    "claim without its balance": (CLASSIC, _claim_without_balance, "0 claimable balances removed (expected 1)"),
    "fewer results than operations": (CLASSIC, _results_missing, "operations but"),
    "an update without a state": (CLASSIC, _unpaired_change, "token transfers: ledger entry change 0"),
    "fee event with three topics": (
        UNIFIED,
        lambda v: _unified_fee_event(v, _three_topics),
        "fee event with 3 topics",
    ),
    "fee amount not an i128": (
        UNIFIED,
        lambda v: _unified_fee_event(v, _amount_not_i128),
        "fee event amount is not an i128",
    ),
    "fee payer not an address": (
        UNIFIED,
        lambda v: _unified_fee_event(v, _payer_not_address),
        "fee event payer is not an address",
    ),
    "fee event not from a contract": (
        UNIFIED,
        lambda v: _unified_fee_event(v, _not_a_contract_event),
        "invalid fee event",
    ),
    "soroban fee balance rises": (SOROBAN, _soroban_fee_rises, "fee account balance rose during fee processing"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_ledgers_the_reference_rejects_fail_alike_on_both_paths(damage, shared_ledgers):
    source, find, words = DAMAGES[damage]
    lcm, passphrase = _damaged(source, find)
    kind, (class_name, message) = _assert_same(lcm, passphrase)
    assert kind == "error"
    assert class_name == "TokenTransferError", message
    assert words in message
    seq = lcm.v0 or lcm.v1 or lcm.v2
    assert message.startswith(f"ledger {seq.ledger_header.header.ledger_seq.uint32} tx ")


def test_a_close_time_past_pythons_datetime_fails_alike_on_both_paths(shared_ledgers):
    """The reference reads the ledger's closed_at (a datetime) first, so even a ledger without events fails."""
    for name in ("burn-ledger-7762802", "revoke-trustline-ledger-56065483"):
        (lcm,) = _ttp_ledgers(TTP / name)
        body = lcm.v0 or lcm.v1 or lcm.v2
        body.ledger_header.header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(253402300800))
        kind, error = _assert_same(xdr.LedgerCloseMeta.from_xdr_bytes(lcm.to_xdr_bytes()), PUBNET)
        assert (kind, error) == ("error", ("ValueError", "year 10000 is out of range"))


def test_both_xdr_encodings_give_the_same_rows(shared_ledgers):
    """The table has no XDR column: the encoding must not change a value."""
    (lcm,) = _ttp_ledgers(TTP / "revoke-trustline-ledger-56065483")
    _, base64_rows = _native_outcome(lcm, PUBNET, "base64")
    _, binary_rows = _native_outcome(lcm, PUBNET, "binary")
    assert base64_rows.num_rows > 100 and base64_rows.equals(binary_rows)
