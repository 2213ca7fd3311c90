"""The contract_events table against stellar-etl's golden rows and the real test ledgers.

The golden (`large_range_ledger_txs.golden`, 189 rows) has no ledgers here, so it checks every
per-event column through `event_fields` on each row's own ``contract_event_xdr``. The datastores check
which events each transaction yields, their order, and the ids, hashes and flags around them. Cases no
real ledger here holds (V3 contract events, V4 transaction-level fee events, a failed V4 transaction,
values stellar-etl cannot render) are built by editing copies of real transactions.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone

import pyarrow as pa
import pytest
from stellar_sdk import Keypair, StrKey, xdr

from beam_pipeline.records import get_table
from beam_pipeline.records.base import encode_xdr_columns, rows_to_columns
from beam_pipeline.records.contract_events import (
    ContractEventError,
    event_fields,
    transaction_events,
    transform,
)
from beam_pipeline.records.tables.contract_events import SCHEMA, TABLE
from beam_pipeline.util.accounts import account_address
from beam_pipeline.util.toid import parse, toid
from beam_pipeline.xdr.ledger import LedgerView, TxView
from tests.records._load import load_golden, load_ledgers

GOLDEN = load_golden("contract_events", "large_range_ledger_txs.golden")

# Columns that depend only on the event, i.e. everything event_fields returns.
EVENT_COLUMNS = [
    "in_successful_contract_call",
    "contract_id",
    "type",
    "type_string",
    "topics",
    "topics_decoded",
    "data",
    "data_decoded",
    "contract_event_xdr",
]

# (datastore, ledgers to load, total rows). The totals were read off the metas by hand and are what
# stellar-etl's rules give; the per-transaction test below re-derives them transaction by transaction.
DATASTORES = [
    ("testnet-p20-galexie", None, 0),  # TxMeta V3, no Soroban transaction
    ("mainnet-p21-53312000", None, 21),  # V3, one Soroban tx: no contract events, 21 diagnostic events
    ("mainnet-p22-56065483", None, 0),  # V3, two Soroban txs (one a fee bump) that emitted nothing
    ("standalone-p23-loadtest", None, 12200),  # V4, 200 txs x (10 operation + 51 diagnostic events)
    ("standalone-p25-loadtest", 2, 2480),  # V4, 496 of 516 txs with 5 operation events each
    # V4 meta of a classic ledger (CAP-67 classic events): 59 fee events, one per transaction (15 of them
    # failed, with no operation metas), plus 3 operation events (2 set_authorized, 1 transfer).
    ("mainnet-p13-30820015-metav4", None, 62),
    ("testnet-p19-lpf64", 4, 0),  # TxMeta V2: events did not exist yet
]


def _decoded(row: dict) -> dict:
    """A row in stellar-etl's JSON-lines form: XDR as base64, decoded columns as parsed JSON."""
    out = dict(row)
    out["topics"] = [base64.b64encode(t).decode() for t in row["topics"]]
    out["data"] = base64.b64encode(row["data"]).decode()
    out["contract_event_xdr"] = base64.b64encode(row["contract_event_xdr"]).decode()
    out["topics_decoded"] = json.loads(row["topics_decoded"])
    out["data_decoded"] = json.loads(row["data_decoded"])
    return out


@pytest.mark.parametrize("golden", GOLDEN, ids=[f"row{i}" for i in range(len(GOLDEN))])
def test_event_fields_reproduce_golden_row(golden: dict) -> None:
    event = xdr.DiagnosticEvent.from_xdr(golden["contract_event_xdr"])
    got = _decoded(event_fields(event))
    assert sorted(got) == sorted(EVENT_COLUMNS)
    assert got == {k: golden[k] for k in EVENT_COLUMNS}


def test_golden_covers_what_it_is_trusted_for() -> None:
    """The golden must keep exercising the decoded forms this table relies on it for."""
    assert len(GOLDEN) == 189
    kinds = set().union(*(_keys(r) for r in GOLDEN))
    assert {"symbol", "bytes", "vec", "map", "i128", "u128", "u64", "u32", "void"} <= kinds
    assert {r["contract_id"] == "" for r in GOLDEN} == {True, False}
    assert {r["in_successful_contract_call"] for r in GOLDEN} == {True, False}


def _keys(row: dict) -> set[str]:
    found: set[str] = set()

    def walk(v: object) -> None:
        if isinstance(v, dict):
            found.update(v)
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v == "void":
            found.add("void")

    walk(row["topics_decoded"])
    walk(row["data_decoded"])
    return found


def _is_soroban(tx: TxView) -> bool:
    env = tx.envelope
    if env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX_FEE_BUMP:
        env = env.fee_bump.tx.inner_tx
    return env.type == xdr.EnvelopeType.ENVELOPE_TYPE_TX and env.v1.tx.ext.soroban_data is not None


def _expected_events(tx: TxView) -> list[tuple[bytes, bool | None, int | None]]:
    """(ContractEvent XDR, in_successful_contract_call or None for "wrapped", op index) per stellar-etl."""
    meta = tx.meta
    if meta.v == 3:
        sm = meta.v3.soroban_meta
        if not _is_soroban(tx) or sm is None:
            return []
        return [(e.to_xdr_bytes(), None, 1) for e in sm.events] + [
            (d.event.to_xdr_bytes(), d.in_successful_contract_call, None) for d in sm.diagnostic_events
        ]
    if meta.v == 4:
        v4 = meta.v4
        out = [(te.event.to_xdr_bytes(), None, None) for te in v4.events]
        for i, op in enumerate(v4.operations, start=1):
            out += [(e.to_xdr_bytes(), None, i) for e in op.events]
        return out + [(d.event.to_xdr_bytes(), d.in_successful_contract_call, None) for d in v4.diagnostic_events]
    return []


@pytest.mark.parametrize(("name", "limit", "total"), DATASTORES, ids=[d[0] for d in DATASTORES])
def test_rows_follow_the_meta(name: str, limit: int | None, total: int) -> None:
    ledgers = load_ledgers(name, limit)
    assert ledgers, name
    count = 0
    for ledger in ledgers:
        rows = transform(ledger)
        count += len(rows)
        it = iter(rows)
        for tx in ledger.transactions:
            for event_xdr, in_success, op_index in _expected_events(tx):
                row = next(it)
                assert row["transaction_hash"] == tx.hash_hex
                assert row["transaction_id"] == toid(ledger.sequence, tx.index)
                assert row["successful"] is tx.successful
                assert row["ledger_sequence"] == ledger.sequence
                assert row["closed_at"] == ledger.closed_at
                diag = xdr.DiagnosticEvent.from_xdr_bytes(row["contract_event_xdr"])
                assert diag.event.to_xdr_bytes() == event_xdr
                assert row["in_successful_contract_call"] is (True if in_success is None else in_success)
                if op_index is None:
                    assert row["operation_id"] is None
                else:
                    assert parse(row["operation_id"]) == (ledger.sequence, tx.index, op_index)
                # The per-event columns are a function of the exported XDR alone.
                assert {k: row[k] for k in EVENT_COLUMNS} == event_fields(diag)
                body = diag.event.body.v0
                assert row["topics"] == [t.to_xdr_bytes() for t in body.topics]
                assert row["data"] == body.data.to_xdr_bytes()
        assert next(it, None) is None, f"ledger {ledger.sequence}: rows beyond the meta's events"
    assert count == total


@pytest.mark.parametrize("name", ["mainnet-p21-53312000", "standalone-p23-loadtest"])
def test_rows_convert_to_the_schema(name: str) -> None:
    rows = [r for ledger in load_ledgers(name) for r in transform(ledger)]
    columns = rows_to_columns(rows, SCHEMA)
    table = pa.Table.from_pydict(columns, schema=SCHEMA)
    assert table.num_rows == len(rows) > 0
    encode_xdr_columns(columns, SCHEMA, "base64")
    first = rows[0]
    assert columns["contract_event_xdr"][0] == base64.b64encode(first["contract_event_xdr"]).decode()
    assert columns["topics"][0] == [base64.b64encode(t).decode() for t in first["topics"]]
    assert xdr.DiagnosticEvent.from_xdr(columns["contract_event_xdr"][0]).to_xdr_bytes() == first["contract_event_xdr"]


def test_p23_mixes_contract_typed_diagnostics() -> None:
    """Diagnostic copies of contract events keep type 1 and a null operation_id."""
    rows = transform(load_ledgers("standalone-p23-loadtest")[1])
    kinds = {(r["type_string"], r["operation_id"] is None) for r in rows}
    assert kinds == {
        ("ContractEventTypeContract", False),
        ("ContractEventTypeContract", True),
        ("ContractEventTypeDiagnostic", True),
    }
    assert all(r["contract_id"].startswith("C") for r in rows if r["type"] == 1)


def test_registered() -> None:
    assert get_table("contract_events") is TABLE
    assert TABLE.schema.names == [
        "transaction_hash",
        "transaction_id",
        "successful",
        "ledger_sequence",
        "closed_at",
        "in_successful_contract_call",
        "contract_id",
        "type",
        "type_string",
        "topics",
        "topics_decoded",
        "data",
        "data_decoded",
        "contract_event_xdr",
        "operation_id",
    ]


# --- cases built by editing copies of real transactions ---------------------------------------------


def _copy_tx(tx: TxView, meta: xdr.TransactionMeta | None = None) -> TxView:
    """A TxView with a private copy of the meta, so edits never reach the shared cached ledgers."""
    meta = meta or xdr.TransactionMeta.from_xdr_bytes(tx.meta.to_xdr_bytes())
    return TxView(tx.ledger, tx.index, tx.envelope, tx.result_pair, tx.fee_changes, meta)


def _soroban_tx(name: str) -> TxView:
    return next(tx for ledger in load_ledgers(name) for tx in ledger.transactions if _is_soroban(tx))


def _p25_operation_events() -> list[xdr.ContractEvent]:
    tx = next(t for t in load_ledgers("standalone-p25-loadtest", 1)[0].transactions if t.meta.v4.operations[0].events)
    return tx.meta.v4.operations[0].events


def _fee_event(account: str, stroops: int) -> xdr.ContractEvent:
    """A CAP-67 style fee event: emitted by the native asset contract with topics (fee, payer)."""
    native = xdr.ContractID(xdr.Hash(bytes(range(32))))
    topics = [
        xdr.SCVal(type=xdr.SCValType.SCV_SYMBOL, sym=xdr.SCSymbol(b"fee")),
        xdr.SCVal(
            type=xdr.SCValType.SCV_ADDRESS,
            address=xdr.SCAddress(
                xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT, account_id=Keypair.from_public_key(account).xdr_account_id()
            ),
        ),
    ]
    data = xdr.SCVal(type=xdr.SCValType.SCV_I128, i128=xdr.Int128Parts(xdr.Int64(0), xdr.Uint64(stroops)))
    return xdr.ContractEvent(
        xdr.ExtensionPoint(0),
        native,
        xdr.ContractEventType.CONTRACT,
        xdr.ContractEventBody(0, xdr.ContractEventV0(topics, data)),
    )


def test_v3_contract_events_come_first_with_operation_one() -> None:
    """No V3 ledger here has contract events, so give the p21 Soroban tx two real ones from p25."""
    tx = _copy_tx(_soroban_tx("mainnet-p21-53312000"))
    sm = tx.meta.v3.soroban_meta
    diagnostics = list(sm.diagnostic_events)
    sm.events = _p25_operation_events()[:2]
    events = transaction_events(tx)
    assert [(d.in_successful_contract_call, i) for d, i in events] == [(True, 1), (True, 1)] + [
        (d.in_successful_contract_call, None) for d in diagnostics
    ]
    assert [d.event.to_xdr_bytes() for d, _ in events[:2]] == [e.to_xdr_bytes() for e in sm.events]
    assert [d.to_xdr_bytes() for d, _ in events[2:]] == [d.to_xdr_bytes() for d in diagnostics]


def test_v3_soroban_meta_on_a_classic_tx_is_ignored() -> None:
    """stellar-etl reads V3 events only for Soroban envelopes (``IsSorobanTx``)."""
    soroban = _soroban_tx("mainnet-p21-53312000")
    classic = next(t for t in soroban.ledger.transactions if not _is_soroban(t))
    meta = xdr.TransactionMeta.from_xdr_bytes(classic.meta.to_xdr_bytes())
    meta.v3.soroban_meta = xdr.SorobanTransactionMeta.from_xdr_bytes(soroban.meta.v3.soroban_meta.to_xdr_bytes())
    assert transaction_events(_copy_tx(classic, meta)) == []


def test_v4_transaction_events_first_then_operations_then_diagnostics() -> None:
    tx = _copy_tx(next(t for t in load_ledgers("standalone-p23-loadtest")[1].transactions))
    v4 = tx.meta.v4
    source = StrKey.encode_ed25519_public_key(tx.envelope.v1.tx.source_account.ed25519.uint256)
    v4.events = [
        xdr.TransactionEvent(xdr.TransactionEventStage.TRANSACTION_EVENT_STAGE_BEFORE_ALL_TXS, _fee_event(source, 500)),
        xdr.TransactionEvent(xdr.TransactionEventStage.TRANSACTION_EVENT_STAGE_AFTER_TX, _fee_event(source, 2**64 - 1)),
    ]
    events = transaction_events(tx)
    n_ops = len(v4.operations[0].events)
    assert [i for _, i in events] == [None, None] + [1] * n_ops + [None] * len(v4.diagnostic_events)
    fee = event_fields(events[1][0])
    assert fee["in_successful_contract_call"] is True
    assert json.loads(fee["topics_decoded"]) == [{"symbol": "fee"}, {"address": source}]
    assert json.loads(fee["data_decoded"]) == {"i128": "18446744073709551615"}
    assert fee["contract_id"] == StrKey.encode_contract(bytes(range(32)))
    # The stage is not part of the exported XDR: a TransactionEvent becomes a plain DiagnosticEvent.
    assert xdr.DiagnosticEvent.from_xdr_bytes(fee["contract_event_xdr"]).event.to_xdr_bytes() == (
        v4.events[1].event.to_xdr_bytes()
    )


def test_classic_v4_fee_events_on_a_real_ledger() -> None:
    """Every transaction, failed ones too, reports its fee first: payer = source, amount = fee charged."""
    ledger = load_ledgers("mainnet-p13-30820015-metav4")[0]
    rows = transform(ledger)
    failed = 0
    for tx in ledger.transactions:
        tx_rows = [r for r in rows if r["transaction_hash"] == tx.hash_hex]
        fee = tx_rows[0]
        payer = account_address(tx.envelope.v1.tx.source_account)
        assert json.loads(fee["topics_decoded"]) == [{"symbol": "fee"}, {"address": payer}]
        assert json.loads(fee["data_decoded"]) == {"i128": str(tx.result.fee_charged.int64)}
        assert fee["operation_id"] is None
        assert fee["in_successful_contract_call"] is True
        assert fee["successful"] is tx.successful
        if not tx.successful:
            failed += 1
            assert tx_rows == [fee]
        assert all(r["operation_id"] is not None for r in tx_rows[1:])
    assert failed == 15


def _ledger_copy(name: str) -> LedgerView:
    original = load_ledgers(name)[0]
    lcm = xdr.LedgerCloseMeta.from_xdr_bytes(original.lcm.to_xdr_bytes())
    return LedgerView(lcm, original.network_passphrase)


def test_unrenderable_value_names_ledger_and_transaction() -> None:
    ledger = _ledger_copy("mainnet-p21-53312000")
    tx = next(t for t in ledger.transactions if _is_soroban(t))
    body = tx.meta.v3.soroban_meta.diagnostic_events[3].event.body.v0
    body.data = xdr.SCVal(type=xdr.SCValType.SCV_EXECUTABLE_TAG, executable_tag=xdr.SCString(b"x"))
    with pytest.raises(ContractEventError, match=rf"ledger 53312000: transaction {tx.hash_hex} .*SCV_EXECUTABLE_TAG"):
        transform(ledger)


def test_closed_at_is_the_ledger_close_time() -> None:
    rows = transform(load_ledgers("mainnet-p21-53312000")[0])
    assert {r["closed_at"] for r in rows} == {datetime(2024, 9, 2, 10, 50, 19, tzinfo=timezone.utc)}
