"""The streaming sink: panes of hourly windows committed as superseding file sets.

The pane test drives `streaming_windowing` + `WriteStreamingParquet` with a `TestStream` on the
bundle-based DirectRunner in streaming mode (the one local runner that honours triggers and
processing time). Rows are the real `ledgers` table rows of testnet-p19-lpf64, re-stamped onto two
synthetic hours so that one test can show early, on-time, late and dropped data (the real ledgers
all closed within one hour); partitions follow the stamped times, so `closed_at` inside the rows
is not what places them here.
"""

from __future__ import annotations

import glob
import os
import uuid

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner
from apache_beam.testing.test_stream import TestStream
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.windowed_value import PaneInfoTiming

from beam_pipeline.config import ParquetSinkConfig
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.commit import FileRecord
from beam_pipeline.sinks.streaming import (
    WriteStreamingParquet,
    is_pane_of,
    net_file_records,
    pane_run_id,
    resume_ledger,
    streaming_windowing,
)
from tests.streaming._ledgers import FIRST, ledger_chunks

pytestmark = pytest.mark.timeout(120)
TestStream.__test__ = False  # a Beam transform, not a pytest class

RUN = "r20240101T000000000000Z00ab"
H0 = 1704067200  # 2024-01-01T00:00:00Z
H1 = H0 + 3600
P0 = "year=2024/month=01/day=01/hour=00"
P1 = "year=2024/month=01/day=01/hour=01"
_SEEN: dict[str, list] = {}


class _RecordPanes(beam.DoFn):
    def __init__(self, key: str):
        self._key = key

    def process(self, record, pane=beam.DoFn.PaneInfoParam):
        _SEEN.setdefault(self._key, []).append((pane.timing, record))


def _sink(tmp_path, **kw) -> ParquetSinkConfig:
    kw.setdefault("rotation_interval_minutes", 10)
    kw.setdefault("allowed_lateness_minutes", 30)
    return ParquetSinkConfig(local_path=str(tmp_path), partition_by="hour", **kw)


def _at(i: int, seconds: int) -> TimestampedValue:
    """Ledger FIRST+i's chunk, closed `seconds` after 2024-01-01T00:00Z."""
    chunk = ledger_chunks(16)[i]
    assert chunk.ledger == FIRST + i
    return TimestampedValue(chunk._replace(close_time=H0 + seconds), H0 + seconds)


def _ledgers_in(directory: str) -> list[int]:
    files = sorted(glob.glob(os.path.join(directory, "*.parquet")))
    return sorted(v for f in files for v in pq.read_table(f).column("sequence").to_pylist())


def test_panes_early_on_time_late_and_dropped(tmp_path):
    """Runner: BundleBasedDirectRunner (streaming=True) with TestStream.

    Hour 0 gets ledgers 0-4 (early pane after 10 min of processing time), 5-9 (second early pane),
    10 (on-time pane when the watermark passes 01:00), 11 (late, within 30 min: a late pane) and 12
    (after 01:30: dropped). Hour 1 gets 13-14, on time at the end. Each pane writes one set whose
    coverage spans everything so far and deletes the previous pane's set.
    """
    stream = (
        TestStream()
        .advance_watermark_to(H0)
        .add_elements([_at(i, 60 * (i + 1)) for i in range(5)])
        .advance_processing_time(601)
        .add_elements([_at(i, 60 * (i + 15)) for i in range(5, 10)])
        .advance_processing_time(601)
        .add_elements([_at(10, 3000)])
        .add_elements([_at(13, 3600 + 300), _at(14, 3600 + 360)])
        .advance_watermark_to(H1 + 600)  # hour 0 is closed: on-time pane with ledger 10
        .add_elements([_at(11, 3300)])  # late, within the allowed lateness
        .advance_watermark_to(H1 + 1900)  # past 01:30: hour 0 has expired
        .add_elements([_at(12, 3400)])  # too late: dropped by the runner
        .advance_watermark_to_infinity()
    )
    key = uuid.uuid4().hex
    sink = _sink(tmp_path)
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    with beam.Pipeline(runner=BundleBasedDirectRunner(), options=options) as p:
        _ = (
            p
            | stream
            | "Window" >> streaming_windowing(sink)
            | "Write" >> WriteStreamingParquet(sink, RUN)
            | "Record" >> beam.ParDo(_RecordPanes(key))
        )
    seen = _SEEN.pop(key)
    written = [(timing, r) for timing, r in seen if r.action == "written"]
    deleted = {r.path for _, r in seen if r.action == "deleted"}

    hour0 = [(timing, (r.first, r.last), filesets.parse_file_name(os.path.basename(r.path)).run_id)
             for timing, r in written if r.partition == P0]
    assert hour0 == [
        (PaneInfoTiming.EARLY, (FIRST, FIRST + 4), pane_run_id(RUN, 0)),
        (PaneInfoTiming.EARLY, (FIRST, FIRST + 9), pane_run_id(RUN, 1)),
        (PaneInfoTiming.ON_TIME, (FIRST, FIRST + 10), pane_run_id(RUN, 2)),
        (PaneInfoTiming.LATE, (FIRST, FIRST + 11), pane_run_id(RUN, 3)),
    ]
    hour1 = [(timing, (r.first, r.last)) for timing, r in written if r.partition == P1]
    assert hour1 == [(PaneInfoTiming.ON_TIME, (FIRST + 13, FIRST + 14))]
    # Every pane but the last of each hour was replaced by the next one.
    hour0_paths = [r.path for _, r in written if r.partition == P0]
    assert deleted == set(hour0_paths[:-1])

    d0, d1 = tmp_path / "ledgers" / P0, tmp_path / "ledgers" / P1
    assert _ledgers_in(str(d0)) == list(range(FIRST, FIRST + 12))  # exactly once; 12 was dropped
    assert _ledgers_in(str(d1)) == [FIRST + 13, FIRST + 14]
    names = [filesets.parse_file_name(n) for n in os.listdir(d0)]
    assert {(n.run_id, n.coverage) for n in names} == {(pane_run_id(RUN, 3), (FIRST, FIRST + 11))}
    assert not glob.glob(str(tmp_path / "_temporary" / "**" / "*.parquet"), recursive=True)
    # The manifest's view: only the surviving sets.
    net = net_file_records([r for _, r in seen])
    assert sorted(os.path.basename(r.path) for r in net) == sorted(os.listdir(d0) + os.listdir(d1))


def test_pane_supersedes_an_older_runs_rows_only_where_it_has_data(tmp_path):
    """Runner: BundleBasedDirectRunner (streaming=True). An older run's set for ledgers 0-9 meets a
    restarted run's panes for ledgers 3-5: the older rows outside 3-5 survive, 3-5 are not doubled."""
    old = "r20231231T000000000000Z0001"
    older_dir = tmp_path / "ledgers" / P0
    older_dir.mkdir(parents=True)
    import pyarrow as pa

    from beam_pipeline.handoff import chunk_to_batch
    from beam_pipeline.records import get_table
    from beam_pipeline.records.base import output_schema

    schema = output_schema(get_table("ledgers"), "base64", False)
    table = pa.Table.from_batches([chunk_to_batch(c, schema) for c in ledger_chunks(16)[:10]])
    pq.write_table(table, older_dir / filesets.file_name("ledgers", (FIRST, FIRST + 9), old, 0, 0))

    stream = (
        TestStream()
        .advance_watermark_to(H0)
        .add_elements([_at(i, 60 * i) for i in (3, 4, 5)])
        .advance_watermark_to_infinity()
    )
    sink = _sink(tmp_path)
    options = PipelineOptions([])
    options.view_as(StandardOptions).streaming = True
    key = uuid.uuid4().hex
    with beam.Pipeline(runner=BundleBasedDirectRunner(), options=options) as p:
        _ = p | stream | streaming_windowing(sink) | WriteStreamingParquet(sink, RUN) | beam.ParDo(_RecordPanes(key))
    assert _ledgers_in(str(older_dir)) == list(range(FIRST, FIRST + 10))
    sets = {filesets.parse_file_name(n).set_key for n in os.listdir(older_dir)}
    # The new set spans only its own ledgers; the older run's remaining rows were carried (0-2, 6-9).
    pane = pane_run_id(RUN, 0)
    assert sets == {(pane, FIRST + 3, FIRST + 5), (pane, FIRST, FIRST + 2), (pane, FIRST + 6, FIRST + 9)}
    _SEEN.pop(key)


def test_pane_run_ids_order_panes_within_a_run_and_before_the_next_run():
    """Runner: none. Pane ids sort after the run and its earlier panes, before a later run."""
    later = "r20240101T000001000000Z0f0f"
    ids = [pane_run_id(RUN, i) for i in (0, 1, 2, 10, 998_000)]
    assert ids == sorted(ids) and ids[0] > RUN and ids[-1] < later
    assert all(filesets.parse_file_name(filesets.file_name("t", (1, 2), i, 0, 0)) for i in ids)
    assert all(is_pane_of(i, RUN) for i in ids)
    assert not is_pane_of(later, RUN) and not is_pane_of("r20240101T000000000005Z0001", RUN)
    with pytest.raises(ValueError):
        pane_run_id(RUN, 1_000_000)


def test_ledger_range_partitions_cannot_stream(tmp_path):
    """Runner: none. ledger_range partitions have no event-time end: refused with the reason."""
    with pytest.raises(ValueError, match="ledger_range partitions have no event-time end"):
        streaming_windowing(ParquetSinkConfig(local_path=str(tmp_path), partition_by="ledger_range"))


def _touch(root, table, partition, first, last, run):
    d = root / table / partition
    d.mkdir(parents=True, exist_ok=True)
    (d / filesets.file_name(table, (first, last), run, 0, 0)).write_bytes(b"")


def test_resume_ledger_restarts_at_the_newest_partitions(tmp_path):
    """Runner: none. Resume = first live ledger of the newest partition and the one before it."""
    r1, r2 = "r20240101T000000000000Z0001", "r20240101T010000000000Z0002"
    assert resume_ledger(str(tmp_path), ["ledgers"]) is None
    _touch(tmp_path, "ledgers", "year=2024/month=01/day=01/hour=00", 100, 799, r1)
    _touch(tmp_path, "ledgers", "year=2024/month=01/day=01/hour=01", 800, 1499, r1)
    _touch(tmp_path, "ledgers", "year=2024/month=01/day=01/hour=02", 1500, 1620, r1)
    _touch(tmp_path, "transactions", "year=2024/month=01/day=01/hour=02", 1502, 1620, r1)
    assert resume_ledger(str(tmp_path), ["ledgers", "transactions"]) == 800
    assert resume_ledger(str(tmp_path), ["ledgers", "transactions"], windows_back=0) == 1500
    # A newer set that supersedes the head of hour 1 moves nothing earlier; sets' live parts count.
    _touch(tmp_path, "ledgers", "year=2024/month=01/day=01/hour=01", 700, 900, r2)
    assert resume_ledger(str(tmp_path), ["ledgers"]) == 700
    # Foreign files are ignored.
    (tmp_path / "ledgers" / "year=2024/month=01/day=01/hour=02" / "notes.txt").write_text("x")
    assert resume_ledger(str(tmp_path), ["ledgers"], windows_back=0) == 1500


def test_net_file_records_drop_files_replaced_within_the_run():
    """Runner: none. A pane's file replaced by a later pane is neither listed nor reported as replaced."""
    def rec(action, path):
        return FileRecord(action, path, "ledgers", P0, 1, 2, 0, 0, "", 1)

    records = [rec("written", "a"), rec("deleted", "a"), rec("written", "b"), rec("deleted", "old"),
               rec("carried", "c"), rec("deleted", "c"), rec("carried", "d")]
    assert [(r.action, r.path) for r in net_file_records(records)] == [
        ("written", "b"), ("deleted", "old"), ("carried", "d")]


def test_example_config_is_an_hourly_streaming_tail():
    """Runner: none. config/examples/rpc-tail-hourly.yaml is streaming, hourly, with early and late panes."""
    from beam_pipeline.config import load_config
    from tests.harness import REPO

    cfg = load_config(str(REPO / "config" / "examples" / "rpc-tail-hourly.yaml"))
    assert cfg.streaming and cfg.source.follow and cfg.source.end_ledger is None
    windowing = streaming_windowing(cfg.sink).windowing
    assert windowing.windowfn.size == 3600
    assert windowing.triggerfn.early.underlying.delay == 600
    assert windowing.allowed_lateness == 1800


def test_resume_never_skips_a_gap_after_the_configured_start(tmp_path):
    """Runner: none. Issue #19: a backfill of 1410060-1410067 must not make a tail from 1410048 skip ledgers."""
    backfill = "r20240101T000000000000Z0001"
    _touch(tmp_path, "ledgers", "year=2022/month=06/day=10/hour=04", 1410060, 1410067, backfill)
    _touch(tmp_path, "transactions", "year=2022/month=06/day=10/hour=04", 1410060, 1410067, backfill)
    assert resume_ledger(str(tmp_path), ["ledgers", "transactions"], start=1410048) == 1410048
    # Covered from the start on: the newest partitions' rule applies (re-archive their first live ledger).
    _touch(tmp_path, "ledgers", "year=2022/month=06/day=10/hour=03", 1410040, 1410059, backfill)
    assert resume_ledger(str(tmp_path), ["ledgers", "transactions"], start=1410048) == 1410040
    assert resume_ledger(str(tmp_path), ["ledgers"], start=1410048, windows_back=0) == 1410060
    # A hole inside the covered stretch stops the resume there.
    _touch(tmp_path, "ledgers", "year=2022/month=06/day=10/hour=05", 1410070, 1410080, backfill)
    assert resume_ledger(str(tmp_path), ["ledgers"], start=1410048, windows_back=0) == 1410068
