"""STELLAR_ARCHIVE_NATIVE: the switch between the native core and the Python path, and the pure-Python fallback.

The extension is made unimportable by a None entry in sys.modules (what Python does for a module that
failed to import), so these run the same with and without a built core.
"""

from __future__ import annotations

import logging
import re
import sys

import pyarrow as pa
import pytest

from beam_pipeline import native
from beam_pipeline.config import NETWORKS


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


# --- the core's batch under the stored schema (native.conform): the core builds the stored types ------------

STORED = pa.schema([pa.field("sequence", pa.int64(), nullable=False, metadata={b"k": b"v"}),
                    ("sizes", pa.list_(pa.int64()))], metadata={b"table": b"t"})


def test_conform_puts_the_stored_names_and_metadata_on_the_core_columns_and_keeps_offsets_and_errors():
    core = pa.record_batch([pa.array([7, 8, 9]), pa.array([[1], None, [2**63 - 1, 0]])], names=["c0", "c1"])
    got = native.conform(core, [0, 1, 3], (2, "LedgerTransformError", "later"), STORED)
    assert got.batch.schema.equals(STORED, check_metadata=True)
    assert got.batch.to_pydict() == {"sequence": [7, 8, 9], "sizes": [[1], None, [2**63 - 1, 0]]}
    assert (got.offsets, got.error) == ([0, 1, 3], (2, "LedgerTransformError", "later"))


@pytest.mark.parametrize("column,built", [
    (0, pa.array([1], pa.uint32())),  # an XDR width the core must not leave for a cast here
    (0, pa.array(["1"])),
    (1, pa.array([[1]], pa.list_(pa.uint64()))),
])
def test_conform_refuses_any_type_difference_naming_the_column(column, built):
    arrays = [pa.array([1]), pa.array([[1]])]
    arrays[column] = built
    core = pa.record_batch(arrays, names=["c0", "c1"])
    name, stored = STORED.field(column).name, STORED.field(column).type
    want = f"column {name}: the native core built {built.type}, the table stores {stored}"
    with pytest.raises(TypeError, match=re.escape(want)):
        native.conform(core, [0, 1], None, STORED)
