"""STELLAR_ARCHIVE_NATIVE: the switch between the native core and the Python path, and the pure-Python fallback.

The extension is made unimportable by a None entry in sys.modules (what Python does for a module that
failed to import), so these run the same with and without a built core.
"""

from __future__ import annotations

import logging
import sys

import pyarrow as pa
import pytest

from beam_pipeline import native
from beam_pipeline.config import NETWORKS
from beam_pipeline.records.base import IntegerRangeError, columns_to_batch


@pytest.fixture
def without_core(monkeypatch):
    import beam_pipeline

    monkeypatch.setitem(sys.modules, "beam_pipeline._native", None)
    monkeypatch.delattr(beam_pipeline, "_native", raising=False)  # an earlier import left it on the package
    native._load.cache_clear()
    yield
    native._load.cache_clear()


def test_auto_without_the_core_runs_python_and_says_so_once(without_core, monkeypatch, caplog):
    monkeypatch.setenv(native.MODE_ENV, "auto")
    with caplog.at_level(logging.INFO, logger="beam_pipeline.native"):
        for _ in range(3):
            assert native.core() is None
            assert native.native_table_names() == frozenset()
            assert native.NativeCore.for_tables(["ledgers"], NETWORKS["testnet"], "base64") is None
    said = [r for r in caplog.records if "running without the native core" in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING


def test_required_core_that_is_missing_fails_loudly(without_core, monkeypatch):
    monkeypatch.setenv(native.MODE_ENV, "1")
    with pytest.raises(ImportError, match="STELLAR_ARCHIVE_NATIVE=1 but the native core"):
        native.core()


def test_zero_turns_the_core_off_even_when_installed(monkeypatch):
    monkeypatch.setenv(native.MODE_ENV, "0")
    native._load.cache_clear()
    assert native.core() is None
    assert native.NativeCore.for_tables(["ledgers", "transactions"], NETWORKS["testnet"], "base64") is None


def test_an_unknown_value_is_an_error_naming_the_variable(monkeypatch):
    monkeypatch.setenv(native.MODE_ENV, "yes")
    with pytest.raises(ValueError, match="STELLAR_ARCHIVE_NATIVE='yes'"):
        native.mode()


def test_the_decode_step_builds_every_table_in_python_without_the_core(without_core, monkeypatch, shared_ledgers):
    """A pure-Python install: the decode step runs and its chunks hold rows (nothing is silently skipped)."""
    import functools

    from beam_pipeline.decode import DecodeSettings, _DecodeToRowsFn
    from beam_pipeline.handoff import TableChunk
    from beam_pipeline.sinks.partitioning import file_group
    from tests.harness import DATASTORES

    monkeypatch.setenv(native.MODE_ENV, "auto")
    import zstandard

    from beam_pipeline.sources.base import BATCH, LedgerBlob

    path = sorted((DATASTORES / "testnet-p19-lpf64").glob("*/*.xdr.zst"))[0]
    data = zstandard.ZstdDecompressor().stream_reader(path.read_bytes()).read()
    start, end = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
    blob = LedgerBlob(path.name, BATCH, data, start, end, start, end)
    group = functools.partial(file_group, "ledger_range", 64, 1)
    fn = _DecodeToRowsFn(DecodeSettings(("ledgers", "transactions"), NETWORKS["testnet"], group))
    fn.setup()
    assert fn._native is None
    rows = {}
    for element in fn.process(blob):
        chunk = element.value
        assert isinstance(chunk, TableChunk)
        rows[chunk.table] = rows.get(chunk.table, 0) + chunk.rows
    assert rows["ledgers"] == blob.last - blob.first + 1 and rows["transactions"] > 0


# --- the core's XDR-typed integer columns, cast to the stored int64 (native.conform) ---------------------

INT64_SCHEMA = pa.schema([("sequence", pa.int64()), ("sizes", pa.list_(pa.int64()))])


def _core_batch(values: list[int], sizes: list[list[int] | None]) -> pa.RecordBatch:
    """A batch as the core builds it: the XDR's uint32 and list<uint64> columns."""
    return pa.record_batch([pa.array(values, pa.uint32()), pa.array(sizes, pa.list_(pa.uint64()))],
                           names=["sequence", "sizes"])


def test_conform_casts_to_the_stored_types_and_keeps_offsets_and_errors():
    core = _core_batch([7, 8, 9], [[1], None, [2**63 - 1, 0]])
    got = native.conform(core, [0, 1, 3], (2, "LedgerTransformError", "later"), INT64_SCHEMA)
    assert got.batch.schema.equals(INT64_SCHEMA) and got.batch.to_pydict() == core.to_pydict()
    assert (got.offsets, got.error) == ([0, 1, 3], (2, "LedgerTransformError", "later"))


@pytest.mark.parametrize("at", [0, 1, 2])
def test_conform_fails_the_first_ledger_with_a_value_beyond_int64_as_the_python_path_words_it(at):
    sizes = [[1], [2, 3], [4], [5]]
    sizes[at + 1 if at else 0] = [6, 2**64 - 1]  # ledger `at`'s last row (ledger 1 holds rows 1 and 2)
    core = _core_batch([1, 2, 3, 4], sizes)
    offsets = [0, 1, 3, 4]
    got = native.conform(core, offsets, None, INT64_SCHEMA)
    assert got.error[:2] == (at, "IntegerRangeError") and got.offsets == offsets[: at + 1]
    assert got.batch.to_pydict() == core.slice(0, offsets[at]).to_pydict()  # the rows of the ledgers before
    with pytest.raises(IntegerRangeError) as python:
        columns_to_batch({"sequence": [1], "sizes": [[6, 2**64 - 1]]}, INT64_SCHEMA)
    assert got.error[2] == str(python.value)
    assert "column sizes: value 18446744073709551615 does not fit the stored type int64" in str(python.value)


def test_conform_refuses_a_type_difference_other_than_integer_width():
    core = pa.record_batch([pa.array(["1"]), pa.array([[1]], pa.list_(pa.uint64()))], names=["sequence", "sizes"])
    with pytest.raises(TypeError, match="column sequence: the native core built string, the table stores int64"):
        native.conform(core, [0, 1], None, INT64_SCHEMA)
