"""Local runs shuffle references to spilled chunks, not the chunks: same archive, nothing left over.

The in-process runner holds everything a step emits until the GroupByKey after it has all of it,
so the decode step parks each compressed chunk in a spill file (util/spill.py) and the runner
only holds SpillRefs. These tests check that the spill is really used, that it changes no row,
and that the spill directory goes away whether the run succeeds or fails.
"""

from __future__ import annotations

import functools
import glob
import os
from pathlib import Path

import pytest
import zstandard

from beam_pipeline import handoff
from beam_pipeline.config import NETWORKS
from beam_pipeline.decode import DecodeSettings, _DecodeToRowsFn
from beam_pipeline.handoff import chunk_to_batch
from beam_pipeline.records import get_table
from beam_pipeline.records.base import output_schema
from beam_pipeline.sinks.partitioning import file_group
from beam_pipeline.sources.base import BATCH, LedgerBlob
from beam_pipeline.util import spill
from tests.damage import BAD, copy_store, object_path
from tests.harness import assert_same_rows, datastore, job_config, run_job

pytestmark = pytest.mark.timeout(240)

STORE = "testnet-p19-lpf64"
START, END = 1410100, 1410239
TABLES = ["ledgers", "transactions", "operations"]
RUN_ID = "r20250101T000000000000Z05f1"


class SpillWatch:
    """Records, in this process, the spill files made and the chunks read back through them."""

    def __init__(self, monkeypatch):
        self.files: list[str] = []
        self.reads = 0
        self.inline = 0
        made, read, to_batch = spill.SpillFile.__init__, spill.read, handoff.chunk_to_batch

        def init(f, directory):
            made(f, directory)
            self.files.append(f.path)

        def counted_read(ref):
            self.reads += 1
            return read(ref)

        def counted_to_batch(chunk, schema):
            self.inline += isinstance(chunk.batch, bytes)
            return to_batch(chunk, schema)

        monkeypatch.setattr(spill.SpillFile, "__init__", init)
        monkeypatch.setattr(spill, "read", counted_read)
        for module in ("beam_pipeline.sinks.parquet", "beam_pipeline.sinks.streaming"):
            monkeypatch.setattr(f"{module}.chunk_to_batch", counted_to_batch)


def test_decode_step_parks_chunks_in_its_bundle_spill_file(tmp_path, shared_ledgers):
    """The DoFn called directly: every chunk is a SpillRef, and reads back as the in-memory chunk."""
    data = object_path(Path(datastore(STORE)), BAD).read_bytes()
    xdr = zstandard.ZstdDecompressor().decompress(data)
    blob = LedgerBlob("k", BATCH, xdr, BAD, BAD + 63, BAD, BAD + 63)

    def chunks(spill_dir):
        group = functools.partial(file_group, "ledger_range", 16, 1)  # four files' worth of ledgers
        settings = DecodeSettings(tuple(TABLES), NETWORKS["testnet"], group, pipeline_name="t", run_id=RUN_ID,
                                  spill_dir=spill_dir)
        fn = _DecodeToRowsFn(settings)
        fn.setup()
        fn.start_bundle()
        out = [tv.value for tv in fn.process(blob)]
        fn.finish_bundle()
        return out

    in_memory, spilled = chunks(None), chunks(str(tmp_path))
    assert len(spilled) == len(in_memory) == 4 * len(TABLES)
    assert all(isinstance(c.batch, bytes) for c in in_memory)
    assert all(isinstance(c.batch, spill.SpillRef) for c in spilled)
    assert len({c.batch.path for c in spilled}) == 1, "one spill file per bundle"
    for mem, sp in zip(in_memory, spilled, strict=True):
        schema = output_schema(get_table(mem.table), "base64", False)
        assert sp._replace(batch=b"") == mem._replace(batch=b"")
        assert chunk_to_batch(sp, schema).equals(chunk_to_batch(mem, schema))


@pytest.fixture(scope="module")
def in_memory_archive(tmp_path_factory, shared_ledgers):
    work = tmp_path_factory.mktemp("in_memory")
    cfg = job_config(datastore(STORE), START, END, work / "out", tables=TABLES)
    assert run_job(cfg, work, f"--run_id={RUN_ID}", "--local_spill_dir=none") == 0
    return work / "out"


@pytest.mark.parametrize("workers", [1, 2])
def test_spilled_run_writes_the_same_rows_and_removes_its_spill(in_memory_archive, tmp_path, monkeypatch, workers):
    watch = SpillWatch(monkeypatch)
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    extra = ["--direct_num_workers=2", "--direct_running_mode=multi_processing"] if workers == 2 else []
    out = tmp_path / "out"
    cfg = job_config(datastore(STORE), START, END, out, tables=TABLES)
    assert run_job(cfg, tmp_path, f"--run_id={RUN_ID}", f"--local_spill_dir={spill_root}", *extra) == 0
    for table in TABLES:
        assert_same_rows(in_memory_archive, out, table)
    assert os.listdir(spill_root) == [], "the run's spill directory is removed"
    if workers == 1:  # worker processes patch nothing: only the in-process run can be watched
        assert watch.files and all(f.startswith(f"{spill_root}/beam-pipeline-spill-{RUN_ID}-") for f in watch.files)
        assert watch.reads > 0 and watch.inline == 0, (watch.reads, watch.inline)


def test_in_memory_run_spills_nothing(tmp_path, monkeypatch, shared_ledgers):
    watch = SpillWatch(monkeypatch)
    cfg = job_config(datastore(STORE), START, START + 20, tmp_path / "out", tables=["ledgers"])
    assert run_job(cfg, tmp_path, "--local_spill_dir=none") == 0
    assert watch.files == [] and watch.reads == 0 and watch.inline > 0


def test_failed_run_removes_its_spill(tmp_path, shared_ledgers, capsys):
    store = copy_store(tmp_path)
    object_path(store, BAD).write_bytes(b"not zstd")
    spill_root = tmp_path / "spill"
    spill_root.mkdir()
    cfg = job_config(str(store), START, END, tmp_path / "out", tables=["ledgers"])
    assert run_job(cfg, tmp_path, f"--local_spill_dir={spill_root}") == 1
    assert "error: run r" in capsys.readouterr().err
    assert glob.glob(f"{spill_root}/*") == []


def test_missing_spill_directory_is_a_usage_error(tmp_path, capsys, shared_ledgers):
    gone = tmp_path / "no" / "such"
    cfg = job_config(datastore(STORE), START, START, tmp_path / "out", tables=["ledgers"])
    assert run_job(cfg, tmp_path, f"--local_spill_dir={gone}") == 2
    err = capsys.readouterr().err
    assert "--local_spill_dir" in err and str(gone) in err
    assert not (tmp_path / "out").exists()


def test_a_run_removes_the_spill_directories_of_runs_that_died(tmp_path, shared_ledgers):
    """Issue #19: a killed run cannot remove its spill; the next run on this host does (live ones stay)."""
    import json
    import socket

    spill_root = tmp_path / "spill"
    dead, live, foreign = (spill_root / f"{spill.SPILL_PREFIX}{n}" for n in ("dead", "live", "foreign"))
    for d, pid in ((dead, 2**22 + 4321), (live, os.getppid())):
        d.mkdir(parents=True)
        (d / "chunks").write_bytes(b"x" * 100)
        (d / spill.OWNER_FILE).write_text(json.dumps({"host": socket.gethostname(), "pid": pid}))
    foreign.mkdir()  # not marked by this code: left alone
    cfg = job_config(datastore(STORE), START, START + 20, tmp_path / "out", tables=["ledgers"])
    assert run_job(cfg, tmp_path, f"--local_spill_dir={spill_root}") == 0
    assert sorted(p.name for p in spill_root.iterdir()) == sorted([live.name, foreign.name])
