"""Each composite on its own, in a small pipeline: ``beam.Create`` in, ``assert_that`` on what comes out.

The tier between DoFns called directly and whole CLI runs, in the style of Beam's own
``fileio_test.py``: `LedgersToRows`, the two bounded sources, the batch sink and the streaming
sink, each on real testnet-p19-lpf64 ledgers. Pipelines run on the in-process FnApiRunner (the
DirectRunner would first try to download Prism).
"""

from __future__ import annotations

import glob
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
import zstandard
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from beam_pipeline import DEAD_LETTER
from beam_pipeline.config import NETWORKS, DatastoreSourceConfig, ParquetSinkConfig, RpcSourceConfig
from beam_pipeline.decode import DecodeSettings, LedgersToRows
from beam_pipeline.handoff import DeadLetter, chunk_to_batch
from beam_pipeline.pipeline import event_time_windows
from beam_pipeline.records import get_table
from beam_pipeline.records.base import output_schema
from beam_pipeline.sinks.parquet import WriteHivePartitionedParquet
from beam_pipeline.sinks.partitioning import file_group_of
from beam_pipeline.sinks.streaming import WriteStreamingParquet, streaming_windowing
from beam_pipeline.sources import make_source
from beam_pipeline.sources.base import BATCH, ERROR, LEDGER, LedgerBlob
from beam_pipeline.sources.rpc import ReadRpcLedgers
from tests.damage import BAD, object_path
from tests.fakes.rpc_server import fake_rpc  # noqa: F401 - a fixture, used by name
from tests.harness import datastore
from tests.streaming._ledgers import FIRST, ledger_chunks, served

pytestmark = pytest.mark.timeout(120)
TestPipeline.__test__ = False  # a Beam pipeline, not a pytest class

STORE = "testnet-p19-lpf64"
TESTNET = NETWORKS["testnet"]
TABLES = ("ledgers", "transactions", "operations")
RUN = "r20240101T000000000000Z0c0f"
# Ledgers FIRST..FIRST+15 closed on 2022-06-10 between 04:23:44 and 04:25:00 UTC.
DAY = "year=2022/month=06/day=10"
HOUR = DAY + "/hour=04"


def pipeline() -> TestPipeline:
    return TestPipeline(runner=FnApiRunner())


def sequences(chunk) -> list[int]:
    """The ledger sequences of a chunk's rows (the column that holds it differs per table)."""
    column = {"ledgers": "sequence"}.get(chunk.table, "ledger_sequence")
    batch = chunk_to_batch(chunk, output_schema(get_table(chunk.table), "base64", False))
    return batch.column(column).to_pylist()


# --- LedgersToRows -------------------------------------------------------------------------------


def test_ledgers_to_rows_cuts_a_blob_per_file_group_and_dead_letters_a_failed_unit(shared_ledgers):
    """One batch object (64 ledgers) and one unit its source could not read, in dead-letter mode."""
    data = object_path(Path(datastore(STORE)), BAD).read_bytes()
    blob = LedgerBlob("batch-object", BATCH, zstandard.ZstdDecompressor().decompress(data), BAD, BAD + 63, BAD,
                      BAD + 63)
    unreadable = LedgerBlob("missing-object", ERROR, b"missing-object: no such object", BAD + 64, BAD + 127)
    sink = ParquetSinkConfig(local_path="unused", partition_by="ledger_range", ledgers_per_file=16)
    settings = DecodeSettings(TABLES, TESTNET, file_group_of(sink), run_id=RUN, on_error=DEAD_LETTER)

    with pipeline() as p:
        out = p | beam.Create([blob, unreadable]) | LedgersToRows(settings)
        groups = out.rows | "Groups" >> beam.Map(lambda c: (c.table, c.ledger))
        assert_that(groups, equal_to([(t, BAD + 16 * k) for t in TABLES for k in range(4)]), label="Groups")
        ledgers = (
            out.rows
            | "OnlyLedgers" >> beam.Filter(lambda c: c.table == "ledgers")
            | "Sequences" >> beam.FlatMap(sequences)
        )
        assert_that(ledgers, equal_to(list(range(BAD, BAD + 64))), label="EveryLedgerOnce")
        # Every row of a chunk belongs to the chunk's file group (its 16-ledger range here).
        misplaced = out.rows | "Misplaced" >> beam.FlatMap(
            lambda c: [(c.table, s) for s in sequences(c) if not c.ledger <= s < c.ledger + 16]
        )
        assert_that(misplaced, equal_to([]), label="NoRowOutsideItsGroup")
        expected = DeadLetter("missing-object", BAD + 64, "LedgerError", "missing-object: no such object")
        assert_that(out[DEAD_LETTER], equal_to([expected]), label="DeadLetters")


# --- sources -------------------------------------------------------------------------------------


def test_datastore_source_reads_the_objects_of_the_range_trimmed_to_it(shared_ledgers):
    """Ledgers 1410100-1410239 of a 64-ledgers-per-object store: three objects, the first trimmed."""
    cfg = DatastoreSourceConfig(path=datastore(STORE), start_ledger=1410100, end_ledger=1410239)
    source = make_source(cfg, 1410100, 1410239, "fail")
    assert source.network_passphrase == TESTNET
    with pipeline() as p:
        blobs = p | source | beam.Map(lambda b: (b.kind, b.first, b.last, b.expected_start, b.expected_end))
        assert_that(blobs, equal_to([
            (BATCH, 1410100, 1410111, 1410048, 1410111),
            (BATCH, 1410112, 1410175, 1410112, 1410175),
            (BATCH, 1410176, 1410239, 1410176, 1410239),
        ]))


def test_rpc_source_reads_every_ledger_once_as_served(fake_rpc):  # noqa: F811 - the fixture
    server = fake_rpc(STORE)
    cfg = RpcSourceConfig(rpc_url=server.url, retry_wait=0.01, timeout=5.0)
    first, last = FIRST + 5, FIRST + 40
    source = ReadRpcLedgers(cfg, first, last)
    expected = [(LEDGER, s, s, served()[s].meta_xdr) for s in range(first, last + 1)]
    with pipeline() as p:
        blobs = p | source | beam.Map(lambda b: (b.kind, b.first, b.last, b.data))
        assert_that(blobs, equal_to(expected))


# --- sinks ---------------------------------------------------------------------------------------


def _timestamped(chunks):
    return [TimestampedValue(c, c.close_time) for c in chunks]


def _written(record) -> tuple:
    return record.action, record.table, record.partition, record.first, record.last, record.rows


def _archived_ledgers(root: Path, partition: str) -> list[int]:
    files = sorted(glob.glob(f"{root}/ledgers/{partition}/*.parquet"))
    return sorted(s for f in files for s in pq.read_table(f, partitioning=None).column("sequence").to_pylist())


def test_batch_sink_stages_one_file_set_per_partition_and_plans_its_commit(tmp_path, shared_ledgers):
    """16 ledgers, ledger_range partitions of 8: two partition plans, each one staged file of its 8
    ledgers; nothing is final until the run applies every plan at once (`manifest.FinalizeRun`)."""
    sink = ParquetSinkConfig(local_path=str(tmp_path), partition_by="ledger_range", ledgers_per_file=8)
    with pipeline() as p:
        records = (
            p
            | beam.Create(_timestamped(ledger_chunks(16)))
            | beam.WindowInto(event_time_windows(sink))
            | WriteHivePartitionedParquet(sink, RUN, (FIRST, FIRST + 15))
            | beam.FlatMap(lambda plan: [_written(r) for r in plan.records])
        )
        assert_that(records, equal_to([
            ("written", "ledgers", f"ledger_range={FIRST}-{FIRST + 7}", FIRST, FIRST + 7, 8),
            ("written", "ledgers", f"ledger_range={FIRST + 8}-{FIRST + 15}", FIRST + 8, FIRST + 15, 8),
        ]))
    assert not glob.glob(f"{tmp_path}/ledgers/**/*.parquet", recursive=True)  # planned, not yet applied
    staged = glob.glob(f"{tmp_path}/_temporary/{RUN}/**/*.parquet", recursive=True)
    ledgers = sorted(s for f in staged for s in pq.read_table(f, partitioning=None).column("sequence").to_pylist())
    assert ledgers == list(range(FIRST, FIRST + 16))


def test_streaming_sink_commits_the_windows_pane_on_the_fnapi_runner(tmp_path, shared_ledgers):
    """The streaming writer with its own windowing, batch-style (one on-time pane per hour)."""
    sink = ParquetSinkConfig(local_path=str(tmp_path), partition_by="hour", rotation_interval_minutes=10)
    with pipeline() as p:
        records = (
            p
            | beam.Create(_timestamped(ledger_chunks(16)))
            | streaming_windowing(sink, early_panes=False)
            | WriteStreamingParquet(sink, RUN)
            | beam.Map(_written)
        )
        assert_that(records, equal_to([("written", "ledgers", HOUR, FIRST, FIRST + 15, 16)]))
    assert _archived_ledgers(tmp_path, HOUR) == list(range(FIRST, FIRST + 16))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledgers"]  # no empty _temporary/, _locks/, _commits/
