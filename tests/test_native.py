"""The native core (native/, Rust) must build exactly the Arrow batches of the Python path.

Every object of every data store of ../shared/ledgers, and of the sample generator's output, goes
through the decode step twice (STELLAR_ARCHIVE_NATIVE=0, then =1) and the chunks it emits must be
equal: same tables, same order, same schema (metadata included), same values, in both XDR encodings
and with the run metadata columns. The job also asks for a table the core does not build, so the
mixed path (some tables native, some Python) is what is compared. Then damaged objects must fail
the same way on both paths (messages, ledgers, dead letters), and arbitrary bytes must never crash
the extension.

The core must be installed (pip install . / -e . with cargo): a missing core fails this module
unless STELLAR_ARCHIVE_NATIVE=0 says the run is meant to be pure Python.
"""

from __future__ import annotations

import functools
import gc
import random
import struct
import sys
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard
from stellar_sdk import TransactionEnvelope, xdr

from beam_pipeline import native
from beam_pipeline.config import NETWORKS
from beam_pipeline.decode import DecodeSettings, LedgerError, _DecodeToRowsFn
from beam_pipeline.handoff import DeadLetter, TableChunk, chunk_to_batch
from beam_pipeline.records import get_table, table_names
from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sinks.partitioning import file_group
from beam_pipeline.sources import sep54
from beam_pipeline.sources.base import BATCH, LedgerBlob
from tests.harness import DATASTORES
from tests.synthetic_changes import PASSPHRASE as SYNTHETIC_PASSPHRASE
from tests.synthetic_changes import config_and_code_blob, frozen_results_blob, soroban_upgrade

if native.mode() == "0":
    pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run", allow_module_level=True)
try:
    from beam_pipeline import _native
except ImportError as e:  # pragma: no cover - the point is to fail loudly
    pytest.fail(f"the native core is not built ({e}); run pip install -e . with cargo installed", pytrace=False)

NATIVE_TABLES = tuple(_native.tables())
# A table the core does not build yet rides along (while there is one), so the mixed path is the one compared.
_CHEAP_FIRST = ("account_signers", "offers", "trustlines")  # quick on the Python path, so the test stays short
PYTHON_TABLES = tuple(
    sorted((t for t in table_names() if t not in NATIVE_TABLES), key=lambda t: t not in _CHEAP_FIRST)
)[:1]
TABLES = (*NATIVE_TABLES, *PYTHON_TABLES)


def _stores() -> list[str]:
    return sorted(p.name for p in DATASTORES.iterdir() if (p / ".config.json").is_file())


def _blobs(root: Path) -> list[LedgerBlob]:
    """Every object at its formula key (root-level duplicates skipped), whole."""
    out = []
    for path in sorted(root.glob("*/*.xdr.zst*")):
        data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes(), read_across_frames=True).read()
        start, end = struct.unpack(">II", data[:8])
        out.append(LedgerBlob(path.name, BATCH, data, start, end, start, end))
    return out


def _decode_fn(passphrase: str, xdr_encoding: str, include_metadata: bool, on_error: str = "fail", tables=TABLES):
    group = functools.partial(file_group, "ledger_range", 16, 1)
    settings = DecodeSettings(
        tuple(tables),
        passphrase,
        group,
        xdr_encoding=xdr_encoding,
        include_metadata=include_metadata,
        pipeline_name="p",
        run_id="run-1",
        ingested_at_us=1_700_000_000_000_000,
        on_error=on_error,
    )
    fn = _DecodeToRowsFn(settings)
    fn.setup()
    return fn


def _outputs(monkeypatch, switch: str, blobs, passphrase, xdr_encoding, include_metadata, **kw) -> list:
    """Everything the decode step emits for the blobs under STELLAR_ARCHIVE_NATIVE=`switch`."""
    monkeypatch.setenv(native.MODE_ENV, switch)
    fn = _decode_fn(passphrase, xdr_encoding, include_metadata, **kw)
    assert (fn._native is not None) == (switch == "1")
    out = []
    for blob in blobs:
        for element in fn.process(blob):
            out.append(getattr(element, "value", element))
    fn.teardown()
    return out


def _batches(outputs: list, fn_schemas: dict) -> list[tuple[str, int, int, pa.RecordBatch]]:
    return [
        (c.table, c.ledger, c.close_time, chunk_to_batch(c, fn_schemas[c.table]))
        for c in outputs
        if isinstance(c, TableChunk)
    ]


def _assert_same(monkeypatch, blobs, passphrase, xdr_encoding, include_metadata) -> dict[str, list[pa.RecordBatch]]:
    """Asserts both paths emit the same chunks; returns the batches per table."""
    schemas = _decode_fn(passphrase, xdr_encoding, include_metadata)._schemas
    python = _batches(_outputs(monkeypatch, "0", blobs, passphrase, xdr_encoding, include_metadata), schemas)
    fast = _batches(_outputs(monkeypatch, "1", blobs, passphrase, xdr_encoding, include_metadata), schemas)
    assert [c[:3] for c in fast] == [c[:3] for c in python], "chunks differ (table, ledger, close time, order)"
    compared: dict[str, list[pa.RecordBatch]] = {}
    for (table, ledger, _, want), (_, _, _, got) in zip(python, fast, strict=True):
        assert got.schema.equals(want.schema, check_metadata=True), f"{table} {ledger}: schema differs"
        if not got.equals(want):
            for name in want.schema.names:
                assert got.column(name).to_pylist() == want.column(name).to_pylist(), f"{table} {ledger}: {name}"
        assert got.equals(want)
        compared.setdefault(table, []).append(got)
    assert compared, "no rows compared"
    return compared


@pytest.mark.parametrize("xdr_encoding,include_metadata", [("base64", True), ("binary", False)])
@pytest.mark.parametrize("store", _stores())
def test_native_batches_equal_python_batches_on_every_store(
    store, xdr_encoding, include_metadata, monkeypatch, shared_ledgers
):
    root = DATASTORES / store
    passphrase = sep54.parse_manifest((root / ".config.json").read_text(), store).network_passphrase
    blobs = _blobs(root)
    assert blobs, f"{store}: no objects"
    _assert_same(monkeypatch, blobs, passphrase, xdr_encoding, include_metadata)


def test_the_stores_exercise_every_native_table(shared_ledgers):
    """Every table the core builds has rows on some store (or the synthetic ledger), so no comparison is vacuous."""
    seen = set()
    blobs = [(SYNTHETIC_PASSPHRASE, config_and_code_blob())]
    for store in _stores():
        root = DATASTORES / store
        passphrase = sep54.parse_manifest((root / ".config.json").read_text(), store).network_passphrase
        blobs += [(passphrase, blob) for blob in _blobs(root)]
    for passphrase, blob in blobs:
        decoded = _native.decode(blob.data, "batch")
        positions = list(range(len(decoded.sequences())))
        for table in NATIVE_TABLES:
            _, _, offsets, error = decoded.rows(table, positions, passphrase, True)
            assert error is None, (blob.origin, table, error)
            if offsets[-1]:
                seen.add(table)
    assert seen == set(NATIVE_TABLES)


@pytest.mark.parametrize("xdr_encoding,include_metadata", [("base64", True), ("binary", False)])
def test_native_batches_equal_python_batches_on_config_setting_and_contract_code_changes(
    xdr_encoding, include_metadata, monkeypatch, shared_ledgers
):
    """No store changes config settings or contract code: a real ledger with such changes added (every arm)."""
    batches = _assert_same(monkeypatch, [config_and_code_blob()], SYNTHETIC_PASSPHRASE, xdr_encoding, include_metadata)
    settings = pa.Table.from_batches(batches["config_settings"])
    assert set(settings.column("config_setting_id").to_pylist()) == {s.value for s in xdr.ConfigSettingID}
    # protocol 26's settings reach their columns (so their comparison above is not between empty lists)
    for column in (
        "frozen_ledger_keys",
        "frozen_ledger_keys_to_freeze",
        "frozen_ledger_keys_to_unfreeze",
        "freeze_bypass_txs",
        "freeze_bypass_txs_to_add",
        "freeze_bypass_txs_to_remove",
    ):
        assert any(settings.column(column).to_pylist()), column


@pytest.mark.parametrize("xdr_encoding,include_metadata", [("base64", True), ("binary", False)])
def test_native_batches_equal_python_batches_on_protocol_26_result_codes(
    xdr_encoding, include_metadata, monkeypatch, shared_ledgers
):
    """txFROZEN_KEY_ACCESSED and the TRUSTLINE_FROZEN operation results (protocol 26) on both paths alike."""
    batches = _assert_same(monkeypatch, [frozen_results_blob()], SYNTHETIC_PASSPHRASE, xdr_encoding, include_metadata)
    codes = pa.Table.from_batches(batches["transactions"]).column("transaction_result_code").to_pylist()
    assert codes.count("TransactionResultCodeTxFrozenKeyAccessed") == 1
    assert codes.count("TransactionResultCodeTxFailed") == 3
    traces = set(pa.Table.from_batches(batches["operations"]).column("operation_trace_code").to_pylist())
    assert {
        "ClaimClaimableBalanceResultCodeClaimClaimableBalanceTrustlineFrozen",
        "LiquidityPoolDepositResultCodeLiquidityPoolDepositTrustlineFrozen",
        "LiquidityPoolWithdrawResultCodeLiquidityPoolWithdrawTrustlineFrozen",
    } <= traces


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "datastore"
    write_sample_datastore(str(out), ledgers=24, ledgers_per_batch=8, batches_per_partition=4)
    return out


@pytest.mark.parametrize("xdr_encoding,include_metadata", [("base64", False), ("binary", True)])
def test_native_batches_equal_python_batches_on_the_sample(sample_store, xdr_encoding, include_metadata, monkeypatch):
    passphrase = sep54.parse_manifest((sample_store / ".config.json").read_text(), "sample").network_passphrase
    blobs = _blobs(sample_store)
    assert len(blobs) == 4  # ledgers 2-25, 8 per object: 2-7, 8-15, 16-23, 24-25
    _assert_same(monkeypatch, blobs, passphrase, xdr_encoding, include_metadata)


# --- damaged input: the same failures on both paths ------------------------------------------------

TESTNET = NETWORKS["testnet"]


def _testnet_blob() -> LedgerBlob:
    return _blobs(DATASTORES / "testnet-p19-lpf64")[0]


def _failures(
    monkeypatch, switch: str, blob: LedgerBlob, on_error: str, tables=TABLES, passphrase: str = TESTNET
):
    """(rows per table, dead letters, raised error) of one blob under the switch."""
    monkeypatch.setenv(native.MODE_ENV, switch)
    fn = _decode_fn(passphrase, "base64", False, on_error, tables)
    rows, dead, raised = {}, [], None
    try:
        for element in fn.process(blob):
            value = getattr(element, "value", element)
            if isinstance(value, DeadLetter):
                dead.append(value)
            else:
                rows[value.table] = rows.get(value.table, 0) + value.rows
    except LedgerError as e:
        raised = e
    return rows, dead, raised


def _fails_alike(monkeypatch, damaged: LedgerBlob, tables, bad: int, *words: str, passphrase: str = TESTNET) -> dict:
    """Both paths, failing and dead-lettering: the same rows before ledger `bad`, the same error there (which
    contains each of `words`), the same one dead letter. Returns the rows per table of the ledgers before it."""
    for on_error in ("fail", "dead_letter"):
        p_rows, p_dead, p_raised = _failures(monkeypatch, "0", damaged, on_error, tables, passphrase)
        n_rows, n_dead, n_raised = _failures(monkeypatch, "1", damaged, on_error, tables, passphrase)
        assert n_rows == p_rows
        if on_error == "fail":
            assert n_raised is not None and n_raised.ledger == bad and str(n_raised) == str(p_raised)
            assert all(w in str(n_raised) for w in words), (words, str(n_raised))
        else:
            assert n_raised is None and len(n_dead) == 1 and n_dead[0] == p_dead[0] and n_dead[0].ledger == bad
    return n_rows


def _without_results(blob: LedgerBlob, seq: int) -> LedgerBlob:
    """The blob with one transaction result of ledger `seq` dropped: that ledger's rows cannot be built."""
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 == seq:
            assert body.tx_processing, "the damaged ledger must have transactions"
            body.tx_processing.pop()
    return blob._replace(data=batch.to_xdr_bytes())


def _first_ledger_with_transactions(blob: LedgerBlob) -> int:
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas[1:]:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.tx_processing:
            return body.ledger_header.header.ledger_seq.uint32
    raise AssertionError("no ledger with transactions")


@pytest.mark.parametrize("on_error", ["fail", "dead_letter"])
def test_a_ledger_whose_rows_fail_fails_the_same_way(monkeypatch, on_error, shared_ledgers):
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    damaged = _without_results(blob, bad)
    python = _failures(monkeypatch, "0", damaged, on_error)
    fast = _failures(monkeypatch, "1", damaged, on_error)
    assert fast == python or (str(fast[2]), fast[:2]) == (str(python[2]), python[:2])
    rows, dead, raised = fast
    if on_error == "fail":
        assert raised is not None and raised.ledger == bad
        assert f"ledger {bad} ({blob.origin}): table ledgers: LedgerTransformError:" in str(raised)
        assert "transactions in the set but" in str(raised)
        assert str(raised) == str(python[2])
    else:
        assert raised is None and len(dead) == 1 and dead[0].ledger == bad and dead[0] == python[1][0]
    # The ledgers before the bad one keep their rows, on both paths alike.
    assert rows.get("ledgers") == bad - blob.first


@pytest.mark.parametrize("damage", ["truncated", "flipped_version", "sequence_out_of_order"])
def test_a_malformed_batch_fails_naming_the_object_on_both_paths(monkeypatch, damage, shared_ledgers):
    blob = _testnet_blob()
    data = bytearray(blob.data)
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped_version":
        data[8 + 4 : 8 + 8] = struct.pack(">I", 7)  # the first LedgerCloseMeta's union discriminant
    else:
        batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
        metas = batch.ledger_close_metas
        metas[3], metas[4] = metas[4], metas[3]
        data = batch.to_xdr_bytes()
    damaged = blob._replace(data=bytes(data))
    for on_error in ("fail", "dead_letter"):
        p_rows, p_dead, p_raised = _failures(monkeypatch, "0", damaged, on_error)
        n_rows, n_dead, n_raised = _failures(monkeypatch, "1", damaged, on_error)
        assert n_rows == p_rows == {}
        if on_error == "fail":
            assert n_raised is not None and blob.origin in str(n_raised)
            assert n_raised.ledger == p_raised.ledger
            if damage == "sequence_out_of_order":
                assert str(n_raised) == str(p_raised)  # the same check, the same words
            else:  # the decoders word their own complaint; what precedes it is the same
                prefix = f"{blob.origin}: undecodable LedgerCloseMetaBatch XDR: "
                assert str(n_raised).startswith(prefix) and str(p_raised).startswith(prefix)
        else:
            assert n_raised is None and len(n_dead) == len(p_dead) == 1
            assert (n_dead[0].unit, n_dead[0].ledger, n_dead[0].error_class) == (
                p_dead[0].unit,
                p_dead[0].ledger,
                p_dead[0].error_class,
            )


def test_a_fee_bump_whose_inner_success_has_no_results_fails_the_ledgers_table_alike(monkeypatch, shared_ledgers):
    """An outer txFEE_BUMP_INNER_SUCCESS around an inner txFROZEN_KEY_ACCESSED (protocol 26's void arm) is
    inconsistent: the ledgers table refuses it with the same words, naming the result, on both paths."""
    blob = _blobs(DATASTORES / "mainnet-p22-56065483")[0]
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    bump = xdr.TransactionResultCode.txFEE_BUMP_INNER_SUCCESS
    body, index = next(
        (lcm.v1, i)
        for lcm in batch.ledger_close_metas
        for i, tp in enumerate(lcm.v1.tx_processing)
        if tp.result.result.result.code == bump
    )
    bad = body.ledger_header.header.ledger_seq.uint32
    inner = body.tx_processing[index].result.result.result.inner_result_pair.result
    inner.result = xdr.InnerTransactionResultResult(xdr.TransactionResultCode.txFROZEN_KEY_ACCESSED)
    damaged = blob._replace(data=batch.to_xdr_bytes())
    words = f"table ledgers: LedgerTransformError: ledger {bad}: successful result {index} has no"
    _fails_alike(monkeypatch, damaged, ("ledgers", *PYTHON_TABLES), bad, words, passphrase=NETWORKS["pubnet"])


def _last_update_of(body, account_id: xdr.AccountID) -> xdr.LedgerEntry:
    """The last UPDATED entry of an account among a ledger's fee and transaction-meta changes."""
    lists = [tp.fee_processing for tp in body.tx_processing]
    for tp in body.tx_processing:
        meta = tp.tx_apply_processing
        inner = meta.v1 or meta.v2 or meta.v3 or meta.v4
        lists += [getattr(inner, "tx_changes", None), getattr(inner, "tx_changes_before", None)]
        lists += [op.changes for op in inner.operations] + [getattr(inner, "tx_changes_after", None)]
    last = None
    for changes in filter(None, lists):
        for c in changes.ledger_entry_changes:
            if c.updated is not None and c.updated.data.account and c.updated.data.account.account_id == account_id:
                last = c.updated
    assert last is not None
    return last


def _set_seq_time(account: xdr.AccountEntry, seq_time: int) -> None:
    """The account's sequence time (AccountEntry ext v3), with the v1 and v2 extensions it sits in if missing."""
    if account.ext.v == 0:
        v1 = xdr.AccountEntryExtensionV1(xdr.Liabilities(xdr.Int64(0), xdr.Int64(0)), xdr.AccountEntryExtensionV1Ext(0))
        account.ext = xdr.AccountEntryExt(1, v1=v1)
    v1 = account.ext.v1
    if v1.ext.v == 0:
        sponsors = [xdr.SponsorshipDescriptor(None) for _ in account.signers]
        v2 = xdr.AccountEntryExtensionV2(xdr.Uint32(0), xdr.Uint32(0), sponsors, xdr.AccountEntryExtensionV2Ext(0))
        v1.ext = xdr.AccountEntryExtensionV1Ext(2, v2=v2)
    v3 = xdr.AccountEntryExtensionV3(xdr.ExtensionPoint(0), xdr.Uint32(0), xdr.TimePoint(xdr.Uint64(seq_time)))
    v1.ext.v2.ext = xdr.AccountEntryExtensionV2Ext(3, v3=v3)


def _with_ledger_damaged(blob: LedgerBlob, seq: int, damage: str) -> LedgerBlob:
    """The blob with ledger `seq` (the fee changes of its first transaction, or its header) broken as `damage` says.

    "unpaired": its STATE entry dropped, so its UPDATED entry has no pre-state (the reader's rule);
    "created_twice": its UPDATED entry also appended as CREATED (the compactor's rule);
    "huge_weight": a signer of weight 2^32 - 1 added to the account (the largest uint32, which int64 holds);
    "far_future": the ledger closed in the year 10000 (past Python's datetime, which the rows' closed_at is);
    "huge_seq_time": the account's sequence time (an XDR uint64, AccountEntry ext v3) set to 2^64 - 1.
    """
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 != seq:
            continue
        changes = body.tx_processing[0].fee_processing.ledger_entry_changes
        kinds = [c.type.name for c in changes]
        assert kinds[:2] == ["LEDGER_ENTRY_STATE", "LEDGER_ENTRY_UPDATED"]
        if damage == "far_future":
            body.ledger_header.header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(253402300800))
        elif damage == "huge_seq_time":
            _set_seq_time(_last_update_of(body, changes[1].updated.data.account.account_id).data.account, 2**64 - 1)
        elif damage == "unpaired":
            del changes[0]
        elif damage == "huge_weight":  # on the account's last state in the ledger, the one compaction keeps
            account = _last_update_of(body, changes[1].updated.data.account.account_id).data.account
            key = xdr.SignerKey(xdr.SignerKeyType.SIGNER_KEY_TYPE_ED25519, ed25519=xdr.Uint256(bytes(32)))
            account.signers.append(xdr.Signer(key, xdr.Uint32(2**32 - 1)))
            if account.ext.v == 1 and account.ext.v1.ext.v == 2:
                account.ext.v1.ext.v2.signer_sponsoring_i_ds.append(xdr.SponsorshipDescriptor(None))
        else:
            created = xdr.LedgerEntryChange(xdr.LedgerEntryChangeType.LEDGER_ENTRY_CREATED, created=changes[1].updated)
            changes.append(created)
    return blob._replace(data=batch.to_xdr_bytes())


@pytest.mark.parametrize(
    "damage,words",
    [
        ("unpaired", "table accounts: LedgerChangeError: ledger {bad} transaction "),
        ("unpaired", ": LEDGER_ENTRY_UPDATED change #0 in fee is not preceded by its state"),
        ("created_twice", "table accounts: LedgerChangeError: ledger {bad}: cannot create an entry that already"),
        ("far_future", "table accounts: ValueError: year 10000 is out of range"),
        ("huge_seq_time", "table accounts: IntegerRangeError: column sequence_time: value 18446744073709551615 "
                          "does not fit the stored type int64 (integer columns are int64; see docs/tables.md"),
    ],
)
def test_broken_entry_changes_fail_the_change_tables_the_same_way(monkeypatch, damage, words, shared_ledgers):
    """The change tables' reader and compactor (and the columns' types) refuse the same ledgers with the same
    words on both paths."""
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    damaged = _with_ledger_damaged(blob, bad, damage)
    tables = ("accounts", "account_signers", *PYTHON_TABLES)
    rows = _fails_alike(monkeypatch, damaged, tables, bad, f"ledger {bad} ({blob.origin}): ", words.format(bad=bad))
    assert rows.get("accounts")  # the ledgers before the bad one still have rows


def test_a_signer_weight_past_int32_is_stored_whole_on_both_paths(monkeypatch, shared_ledgers):
    """uint32 values are int64 columns (docs/tables.md): the largest weight is a value, not a failure."""
    blob = _testnet_blob()
    damaged = _with_ledger_damaged(blob, _first_ledger_with_transactions(blob), "huge_weight")
    weights = []
    for switch in ("0", "1"):
        monkeypatch.setenv(native.MODE_ENV, switch)
        fn = _decode_fn(TESTNET, "base64", False, "fail", ("account_signers",))
        schema = fn._schemas["account_signers"]
        chunks = [getattr(e, "value", e) for e in fn.process(damaged)]
        weights.append([w for c in chunks for w in chunk_to_batch(c, schema).column("weight").to_pylist()])
    assert weights[0] == weights[1] and 2**32 - 1 in weights[1]


def _with_account_owned_contract_data(blob: LedgerBlob, seq: int) -> LedgerBlob:
    """The blob with an upgrade of ledger `seq` creating contract data owned by an account (not a contract)."""
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 != seq:
            continue
        owner = xdr.SCAddress(
            xdr.SCAddressType.SC_ADDRESS_TYPE_ACCOUNT,
            account_id=xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(bytes(32)))),
        )
        void = xdr.SCVal(xdr.SCValType.SCV_VOID)
        data = xdr.ContractDataEntry(xdr.ExtensionPoint(0), owner, void, xdr.ContractDataDurability.PERSISTENT, void)
        entry = xdr.LedgerEntry(
            xdr.Uint32(seq),
            xdr.LedgerEntryData(xdr.LedgerEntryType.CONTRACT_DATA, contract_data=data),
            xdr.LedgerEntryExt(0),
        )
        created = xdr.LedgerEntryChange(xdr.LedgerEntryChangeType.LEDGER_ENTRY_CREATED, created=entry)
        upgrade = xdr.LedgerUpgrade(xdr.LedgerUpgradeType.LEDGER_UPGRADE_BASE_FEE, new_base_fee=xdr.Uint32(100))
        body.upgrades_processing.append(xdr.UpgradeEntryMeta(upgrade, xdr.LedgerEntryChanges([created])))
    return blob._replace(data=batch.to_xdr_bytes())


def test_contract_data_not_owned_by_a_contract_fails_the_same_way(monkeypatch, shared_ledgers):
    """contract_data refuses an entry owned by an account with the reference's ValueError, on both paths."""
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    damaged = _with_account_owned_contract_data(blob, bad)
    tables = ("ledgers", "contract_data", "ledger_entry_changes", *PYTHON_TABLES)
    words = f"table contract_data: ValueError: ledger {bad}: contract data "
    rows = _fails_alike(monkeypatch, damaged, tables, bad, words, "is not owned by a contract")
    assert rows.get("ledger_entry_changes")  # the ledgers before the bad one


def _data_key(name: bytes) -> bytes:
    owner = xdr.AccountID(xdr.PublicKey(xdr.PublicKeyType.PUBLIC_KEY_TYPE_ED25519, xdr.Uint256(bytes(32))))
    key = xdr.LedgerKey(xdr.LedgerEntryType.DATA, data=xdr.LedgerKeyData(owner, xdr.String64(name)))
    return key.to_xdr_bytes()


def _bool_key(flag: int) -> bytes:
    """A contract-data key whose ScVal is SCV_BOOL with `flag` as its 4 bytes (only 0 and 1 are canonical)."""
    contract = xdr.SCAddress(
        xdr.SCAddressType.SC_ADDRESS_TYPE_CONTRACT, contract_id=xdr.ContractID(xdr.Hash(bytes(range(32))))
    )
    val = xdr.SCVal(xdr.SCValType.SCV_BOOL, b=True)
    data = xdr.LedgerKeyContractData(contract, val, xdr.ContractDataDurability.TEMPORARY)
    out = xdr.LedgerKey(xdr.LedgerEntryType.CONTRACT_DATA, contract_data=data).to_xdr_bytes()
    bool_at = 4 + 4 + 32 + 4  # key type, address type, contract id, ScVal type
    assert out[bool_at : bool_at + 4] == struct.pack(">I", 1)
    return out[:bool_at] + struct.pack(">I", flag) + out[bool_at + 4 :]


# Encoded frozen keys that are not a LedgerKey's canonical XDR (each after two that are, so the index shows).
BAD_FROZEN_KEYS = {
    "trailing byte": _data_key(b"abcd") + b"\0",
    "truncated": _data_key(b"abcd")[:-3],
    "unknown entry type": struct.pack(">I", 99) + _data_key(b"abcd")[4:],
    "non-zero padding": _data_key(b"abc")[:-1] + b"\x07",
    "boolean 2": _bool_key(2),
    "empty": b"",
}


@pytest.mark.parametrize("damage", sorted(BAD_FROZEN_KEYS))
def test_a_frozen_key_that_is_not_a_ledger_key_fails_the_same_way(monkeypatch, damage, shared_ledgers):
    """config_settings refuses a frozen key (protocol 26) that is not a LedgerKey with the same ValueError."""
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    # a padded name and a canonical boolean pass on both paths; the third key fails
    keys = [xdr.EncodedLedgerKey(k) for k in (_data_key(b"abc"), _bool_key(1), BAD_FROZEN_KEYS[damage])]
    setting = xdr.ConfigSettingEntry(
        xdr.ConfigSettingID.CONFIG_SETTING_FROZEN_LEDGER_KEYS_DELTA,
        frozen_ledger_keys_delta=xdr.FrozenLedgerKeysDelta([], keys),
    )
    data = xdr.LedgerEntryData(xdr.LedgerEntryType.CONFIG_SETTING, config_setting=setting)
    entry = xdr.LedgerEntry(xdr.Uint32(bad), data, xdr.LedgerEntryExt(0))
    created = xdr.LedgerEntryChange(xdr.LedgerEntryChangeType.LEDGER_ENTRY_CREATED, created=entry)
    upgrade = xdr.LedgerUpgrade(xdr.LedgerUpgradeType.LEDGER_UPGRADE_BASE_FEE, new_base_fee=xdr.Uint32(100))
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 == bad:
            body.upgrades_processing.append(xdr.UpgradeEntryMeta(upgrade, xdr.LedgerEntryChanges([created])))
    damaged = blob._replace(data=batch.to_xdr_bytes())
    words = f"table config_settings: ValueError: ledger {bad}: frozen_ledger_keys_to_unfreeze key 2 is not"
    _fails_alike(monkeypatch, damaged, ("config_settings", *PYTHON_TABLES), bad, words)


SOROBAN_CHANGE_TABLES = (
    "contract_data",
    "contract_code",
    "config_settings",
    "ttl",
    "restored_keys",
    "ledger_entry_changes",
)


@pytest.mark.parametrize("table", SOROBAN_CHANGE_TABLES)
def test_a_far_future_close_time_fails_the_soroban_change_tables_alike(monkeypatch, table, shared_ledgers):
    """Past the year 9999 the reference's closed_at (a datetime) raises for each row: each table, on both paths."""
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 == bad:
            body.upgrades_processing.append(soroban_upgrade(bad))  # rows for every one of these tables
            body.ledger_header.header.scp_value.close_time = xdr.TimePoint(xdr.Uint64(253402300800))
    damaged = blob._replace(data=batch.to_xdr_bytes())
    p_rows, _, p_raised = _failures(monkeypatch, "0", damaged, "fail", (table, *PYTHON_TABLES))
    n_rows, _, n_raised = _failures(monkeypatch, "1", damaged, "fail", (table, *PYTHON_TABLES))
    assert n_rows == p_rows
    assert n_raised is not None and n_raised.ledger == bad and str(n_raised) == str(p_raised)
    assert f"table {table}: ValueError: year 10000 is out of range" in str(n_raised)


# --- the decoded blob and its bytes ----------------------------------------------------------------


def test_a_decoded_blob_references_its_bytes_instead_of_copying_them(shared_ledgers):
    """The raw XDR columns are read from the caller's bytes object, which the Blob keeps alive (no second copy)."""
    def raw_columns(blob) -> list:
        schema, array, _, error = blob.rows("transactions", list(range(len(blob.sequences()))), TESTNET, True)
        assert error is None
        return pa.record_batch(_Capsules(schema, array)).to_pylist()

    data = bytes(bytearray(_testnet_blob().data))  # an object only this test holds
    held = sys.getrefcount(data)
    blob = _native.decode(data, "batch")
    assert sys.getrefcount(data) == held + 1  # the Blob's reference
    temporary = _native.decode(bytes(bytearray(data)), "batch")  # kept alive by the Blob alone
    gc.collect()
    noise = [bytes([i % 251]) * 4096 for i in range(2048)]  # reuse freed memory, if any was freed
    want = raw_columns(blob)
    assert want and raw_columns(temporary) == want and noise
    del blob
    gc.collect()
    assert sys.getrefcount(data) == held


# --- arbitrary bytes: errors, never a crash ------------------------------------------------------

FUZZ_CASES = 400


def test_arbitrary_and_mutated_bytes_never_crash_the_extension(shared_ledgers):
    """Bounded fuzzing: random bytes, truncations and bit flips of a real batch, through decode and every table.

    Each case must either build batches or raise the core's NativeError (a ValueError): a panic
    would surface as another exception type, a crash would end the test process.
    """
    seed_data = _testnet_blob().data
    small = _blobs(DATASTORES / "mainnet-p13-30820015-metav2")[0].data
    rng = random.Random(20261201)
    outcomes = {"ok": 0, "error": 0}
    for i in range(FUZZ_CASES):
        base = seed_data if i % 2 else small
        kind = i % 4
        if kind == 0:
            data = rng.randbytes(rng.randrange(0, 512))
        elif kind == 1:
            data = base[: rng.randrange(0, len(base))]
        else:
            data = bytearray(base)
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            data = bytes(data)
        try:
            blob = _native.decode(data, "batch")
            positions = list(range(len(blob.sequences())))
            for table in NATIVE_TABLES:
                blob.rows(table, positions, TESTNET, bool(i % 3))
            outcomes["ok"] += 1
        except _native.NativeError:
            outcomes["error"] += 1
    assert outcomes["error"] > 0 and sum(outcomes.values()) == FUZZ_CASES


# --- integer ranges: a value the stored int64 cannot hold fails its ledger alike on both paths -----------


def _p25_blobs() -> list[LedgerBlob]:
    return sorted(_blobs(DATASTORES / "standalone-p25-loadtest"), key=lambda b: b.first)  # one ledger each


def _with_huge_state_size(seq: int) -> LedgerBlob:
    """Three consecutive protocol-25 ledgers (LedgerCloseMeta v2) in one batch, ledger `seq` claiming a
    live Soroban state of 2^64 - 1 bytes: an XDR uint64 beyond int64 (docs/tables.md, Integer types)."""
    blobs = _p25_blobs()[:3]
    metas = [m for b in blobs for m in xdr.LedgerCloseMetaBatch.from_xdr_bytes(b.data).ledger_close_metas]
    for lcm in metas:
        if lcm.v2.ledger_header.header.ledger_seq.uint32 == seq:
            lcm.v2.total_byte_size_of_live_soroban_state = xdr.Uint64(2**64 - 1)
    first, last = blobs[0].first, blobs[-1].last
    data = xdr.LedgerCloseMetaBatch(xdr.Uint32(first), xdr.Uint32(last), metas).to_xdr_bytes()
    return LedgerBlob("p25-three", BATCH, data, first, last, first, last)


def _edited(blob: LedgerBlob, seq: int, edit) -> LedgerBlob:
    """The blob with `edit(body)` applied to ledger `seq`'s LedgerCloseMeta body."""
    batch = xdr.LedgerCloseMetaBatch.from_xdr_bytes(blob.data)
    for lcm in batch.ledger_close_metas:
        body = lcm.v0 or lcm.v1 or lcm.v2
        if body.ledger_header.header.ledger_seq.uint32 == seq:
            edit(body)
    return blob._replace(data=batch.to_xdr_bytes())


def _huge_min_seq_age(body) -> None:
    """The ledger's first transaction given preconditions v2 with a min_seq_age of 2^64 - 1 (an XDR uint64); its
    result pair's hash follows the envelope's new hash, which pairs them on both paths."""
    envelope = body.tx_set.txs[0]
    old = TransactionEnvelope.from_xdr_object(envelope, TESTNET).hash()
    tx = envelope.v1.tx
    v2 = xdr.PreconditionsV2(tx.cond.time_bounds, None, None, xdr.Duration(xdr.Uint64(2**64 - 1)), xdr.Uint32(0), [])
    tx.cond = xdr.Preconditions(xdr.PreconditionType.PRECOND_V2, v2=v2)
    new = TransactionEnvelope.from_xdr_object(envelope, TESTNET).hash()
    (pair,) = [tp.result for tp in body.tx_processing if tp.result.transaction_hash.hash == old]
    pair.transaction_hash = xdr.Hash(new)


def _huge_state_size_window(body) -> None:
    """An upgrade of the ledger setting the live Soroban state size window to [1, 2^64 - 1, 2^63] (XDR uint64s)."""
    def setting(sizes: list[int]) -> xdr.LedgerEntry:
        entry = xdr.ConfigSettingEntry(
            xdr.ConfigSettingID.CONFIG_SETTING_LIVE_SOROBAN_STATE_SIZE_WINDOW,
            live_soroban_state_size_window=[xdr.Uint64(n) for n in sizes],
        )
        data = xdr.LedgerEntryData(xdr.LedgerEntryType.CONFIG_SETTING, config_setting=entry)
        return xdr.LedgerEntry(body.ledger_header.header.ledger_seq, data, xdr.LedgerEntryExt(0))

    t = xdr.LedgerEntryChangeType
    changes = [xdr.LedgerEntryChange(t.LEDGER_ENTRY_STATE, state=setting([1])),
               xdr.LedgerEntryChange(t.LEDGER_ENTRY_UPDATED, updated=setting([1, 2**64 - 1, 2**63]))]
    upgrade = xdr.LedgerUpgrade(xdr.LedgerUpgradeType.LEDGER_UPGRADE_BASE_FEE, new_base_fee=xdr.Uint32(100))
    body.upgrades_processing.append(xdr.UpgradeEntryMeta(upgrade, xdr.LedgerEntryChanges(changes)))


def _p25_case() -> tuple[LedgerBlob, int, str]:
    bad = _p25_blobs()[0].first + 1
    return _with_huge_state_size(bad), bad, NETWORKS["standalone"]


def _testnet_case(edit) -> tuple[LedgerBlob, int, str]:
    blob = _testnet_blob()
    bad = _first_ledger_with_transactions(blob)
    return _edited(blob, bad, edit), bad, TESTNET


@pytest.mark.parametrize("on_error", ["fail", "dead_letter"])
@pytest.mark.parametrize("table,column,case", [
    ("ledgers", "total_byte_size_of_bucket_list", _p25_case),  # both size columns hold it: the first names it
    ("transactions", "min_account_sequence_age", functools.partial(_testnet_case, _huge_min_seq_age)),
    ("config_settings", "bucket_list_size_window", functools.partial(_testnet_case, _huge_state_size_window)),
])
def test_a_uint64_beyond_int64_fails_its_ledger_naming_table_column_and_ledger_on_both_paths(
    monkeypatch, on_error, table, column, case, shared_ledgers
):
    """Each XDR uint64 column (the core converts them to int64 itself, native/src/ints.rs) refuses 2^64 - 1 with
    the same words and ledger on both paths (accounts' sequence_time: the change-table test above); the ledgers
    before it keep their rows, it has none."""
    assert table in NATIVE_TABLES
    blob, bad, passphrase = case()
    python = _failures(monkeypatch, "0", blob, on_error, passphrase=passphrase)
    fast = _failures(monkeypatch, "1", blob, on_error, passphrase=passphrase)
    rows, dead, raised = fast
    assert rows == python[0] and rows.get("ledgers") == bad - blob.first > 0
    want = (f"ledger {bad} ({blob.origin}): table {table}: IntegerRangeError: column {column}: "
            "value 18446744073709551615 does not fit the stored type int64")
    if on_error == "fail":
        assert raised is not None and raised.ledger == bad and str(raised).startswith(want), str(raised)
        assert str(raised) == str(python[2])
    else:
        assert raised is None and len(dead) == 1 and dead[0] == python[1][0]
        assert (dead[0].ledger, dead[0].error_class) == (bad, "LedgerError") and want in dead[0].message


# --- the core builds every column in its stored type: nothing is cast on the Python side ------------------


def test_the_core_builds_every_table_in_its_stored_types_on_every_store(shared_ledgers):
    """native.conform refuses a type difference (TypeError) rather than casting: this names every column a change
    to the core would leave for a cast, per table and encoding, on a blob of every store and the synthetic one."""
    assert len(NATIVE_TABLES) == len(table_names()) == 20
    blobs = [(SYNTHETIC_PASSPHRASE, config_and_code_blob())]
    for store in _stores():
        root = DATASTORES / store
        passphrase = sep54.parse_manifest((root / ".config.json").read_text(), store).network_passphrase
        blobs.append((passphrase, _blobs(root)[0]))
    wrong = set()
    for passphrase, blob in blobs:
        decoded = _native.decode(blob.data, "batch")
        positions = list(range(len(decoded.sequences())))
        for table in NATIVE_TABLES:
            for encoding in ("binary", "base64"):
                schema, array, _, error = decoded.rows(table, positions, passphrase, encoding == "binary")
                assert error is None, (blob.origin, table, error)
                built = pa.record_batch(_Capsules(schema, array)).schema
                stored = get_table(table).storage_schema(encoding)
                assert len(built) == len(stored), (table, encoding)
                wrong |= {(table, encoding, f.name, str(b.type), str(f.type))
                          for b, f in zip(built, stored, strict=True) if not b.type.equals(f.type)}
    assert not wrong, sorted(wrong)


class _Capsules:
    """The core's (schema, array) PyCapsules as an object pyarrow imports (the Arrow PyCapsule interface)."""

    def __init__(self, schema, array):
        self._capsules = (schema, array)

    def __arrow_c_array__(self, requested_schema=None):
        return self._capsules
