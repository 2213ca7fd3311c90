"""The decode step called directly: one chunk per table and file group of a blob, rows in ledger order.

A blob's ledgers travel together when they go to the same file (partition, ledger chunk, shard);
cutting them apart must neither lose, repeat nor reorder a row.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pyarrow as pa
import pytest
import zstandard

from beam_pipeline.config import NETWORKS
from beam_pipeline.decode import DecodeSettings, LedgerError, _DecodeToRowsFn
from beam_pipeline.handoff import chunk_to_batch
from beam_pipeline.records import get_table
from beam_pipeline.records.base import output_schema
from beam_pipeline.sinks.partitioning import file_group
from beam_pipeline.sources.base import BATCH, LedgerBlob
from tests.damage import BAD, object_path
from tests.harness import datastore

TABLES = ("ledgers", "transactions", "operations")
FIRST, LAST = BAD, BAD + 63  # one object of testnet-p19-lpf64


@pytest.fixture(scope="module")
def blob(shared_ledgers) -> LedgerBlob:
    data = object_path(Path(datastore("testnet-p19-lpf64")), BAD).read_bytes()
    return LedgerBlob("k", BATCH, zstandard.ZstdDecompressor().decompress(data), FIRST, LAST, FIRST, LAST)


def emitted(blob: LedgerBlob, scheme: str = "ledger_day", per_file: int = 10000, shards: int = 1):
    """The DoFn's outputs for the blob, as a generator: it raises after yielding what succeeded."""
    group = functools.partial(file_group, scheme, per_file, shards)
    fn = _DecodeToRowsFn(DecodeSettings(TABLES, NETWORKS["testnet"], group, pipeline_name="t", run_id="r"))
    fn.setup()
    return fn.process(blob)


def decode(blob: LedgerBlob, *args) -> list:
    return list(emitted(blob, *args))


def rows(chunk) -> pa.Table:
    return pa.Table.from_batches([chunk_to_batch(chunk, output_schema(get_table(chunk.table), "base64", False))])


def ledgers_of(chunk) -> list[int]:
    column = {"ledgers": "sequence", "transactions": "ledger_sequence", "operations": "ledger_sequence"}
    return rows(chunk)[column[chunk.table]].to_pylist()


def test_one_chunk_per_table_when_the_blob_shares_one_file(blob):
    out = decode(blob)
    assert sorted(tv.value.table for tv in out) == sorted(TABLES)
    ledgers = next(tv.value for tv in out if tv.value.table == "ledgers")
    assert ledgers_of(ledgers) == list(range(FIRST, LAST + 1))
    for tv in out:
        chunk = tv.value
        assert (chunk.ledger, chunk.rows) == (FIRST, rows(chunk).num_rows)
        assert tv.timestamp.micros == chunk.close_time * 1_000_000
        assert ledgers_of(chunk) == sorted(ledgers_of(chunk))


@pytest.mark.parametrize(
    ("scheme", "per_file", "shards"),
    [("ledger_range", 16, 1), ("ledger_range", 10, 1), ("ledger_day", 10000, 3), ("ledger_range", 32, 2)],
)
def test_cut_by_file_group_keeps_every_row_once_and_in_order(blob, scheme, per_file, shards):
    whole = {tv.value.table: rows(tv.value) for tv in decode(blob)}
    cut = decode(blob, scheme, per_file, shards)
    for table in TABLES:
        chunks = [tv.value for tv in cut if tv.value.table == table]
        for chunk in chunks:
            groups = {file_group(scheme, per_file, shards, seq, chunk.close_time) for seq in ledgers_of(chunk)}
            assert groups == {file_group(scheme, per_file, shards, chunk.ledger, chunk.close_time)}
            assert ledgers_of(chunk) == sorted(ledgers_of(chunk)) and chunk.ledger == ledgers_of(chunk)[0]
        together = pa.concat_tables([rows(c) for c in chunks]).sort_by("id" if table != "ledgers" else "sequence")
        expected = whole[table].sort_by("id" if table != "ledgers" else "sequence")
        assert together.equals(expected), table
    per_table = len([tv for tv in cut if tv.value.table == "ledgers"])
    files = {(seq // per_file, seq % shards) for seq in range(FIRST, LAST + 1)}
    assert per_table == (len(files) if scheme == "ledger_range" else shards)


def test_a_failing_ledger_keeps_the_rows_of_the_ledgers_before_it(blob, monkeypatch):
    from beam_pipeline.records import ledgers as ledgers_table

    real = ledgers_table.ledger_row

    def failing(view):
        if view.sequence == FIRST + 40:
            raise ValueError("boom")
        return real(view)

    monkeypatch.setattr(ledgers_table, "ledger_row", failing)
    monkeypatch.setenv("STELLAR_ARCHIVE_NATIVE", "0")  # the patched Python table must be the one that runs
    out = []
    with pytest.raises(LedgerError, match=rf"ledger {FIRST + 40} \(k\): table ledgers: .*ValueError: boom"):
        for tv in emitted(blob, "ledger_range", 16, 1):
            out.append(tv.value)
    done = sorted(seq for c in out if c.table == "ledgers" for seq in ledgers_of(c))
    assert done == list(range(FIRST, FIRST + 40))


def test_the_settings_travel_to_workers_as_one_value(blob):
    """The DoFn pickles with its settings (the sink's file-group function included) and, unpickled,
    decodes as the original does; the settings are frozen, so a worker cannot change them."""
    import dataclasses

    from apache_beam.internal import pickler

    from beam_pipeline.config import ParquetSinkConfig
    from beam_pipeline.sinks.partitioning import file_group_of

    sink = ParquetSinkConfig(local_path="unused", partition_by="ledger_range", ledgers_per_file=16)
    settings = DecodeSettings(TABLES, NETWORKS["testnet"], file_group_of(sink), run_id="r")
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.run_id = "other"  # type: ignore[misc]
    fn = pickler.loads(pickler.dumps(_DecodeToRowsFn(settings)))
    # functools.partial compares by identity: compare the rest, the file groups by their output below.
    assert dataclasses.replace(fn._settings, file_group=None) == dataclasses.replace(settings, file_group=None)
    fn.setup()
    copied = [(tv.value.table, tv.value.ledger, tv.value.rows) for tv in fn.process(blob)]
    assert copied == [(tv.value.table, tv.value.ledger, tv.value.rows) for tv in decode(blob, "ledger_range", 16)]
    assert len(copied) == 4 * len(TABLES)
