"""A job whose tables are all native never imports stellar_sdk; the Python path still does, with the same rows.

Importing stellar_sdk costs ~0.4 s of CPU, in the launcher and in every worker, which dominates a
short run. A table's schema and metadata (`beam_pipeline/records/tables/`) import no XDR library;
its Python row code and the Python path's decoder are imported on first use, and a time range is
resolved from the close times the native core reads. Each run here is the CLI in a child process
(the suite's own process imported stellar_sdk long ago), on the default in-process FnApiRunner,
reporting what it had imported when it finished.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from beam_pipeline import native
from beam_pipeline.config import DatastoreSourceConfig
from beam_pipeline.records import get_table, table_names
from beam_pipeline.records.base import LazyTransform
from beam_pipeline.sample import write_sample_datastore
from beam_pipeline.sources.timerange import resolve
from tests.harness import REPO, datastore, job_config, read_table, write_config

# Runs the CLI with the arguments after the report path, then writes its exit code and whether
# stellar_sdk (or any module of it) was imported to the report.
_RUN_AND_REPORT = textwrap.dedent(
    """
    import json, sys
    from beam_pipeline.cli import main
    code = main(sys.argv[2:])
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] == "stellar_sdk")
    with open(sys.argv[1], "w") as f:
        json.dump({"code": code, "stellar_sdk": loaded[:5]}, f)
    """
)


def _child(code: str, *args: str, native_mode: str | None = None, timeout: float = 300) -> None:
    env = dict(os.environ)
    env.pop(native.MODE_ENV, None)
    if native_mode is not None:
        env[native.MODE_ENV] = native_mode
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"child failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _run(tmp_path: Path, name: str, source: str, start: int, end: int, native_mode: str | None,
         **times: str) -> tuple[Path, dict]:
    """(archive root, report) of a CLI run of every table over `source` in a child process.

    `times` (start_time, end_time) replace the ledger range.
    """
    out = tmp_path / name
    cfg = job_config(source, start, end, out, table_names())
    if times:
        src = cfg["pipeline"]["source"]["config"]
        del src["start_ledger"], src["end_ledger"]
        src.update(times)
    config = write_config(cfg, tmp_path, f"{name}.yaml")
    report = tmp_path / f"{name}.json"
    _child(_RUN_AND_REPORT, str(report), "run", "--config", config, native_mode=native_mode)
    return out, json.loads(report.read_text())


def _rows(root: Path, table: str) -> Counter:
    """A table's rows as a multiset (files and row order within a table are the run's business)."""
    return Counter(json.dumps(row, sort_keys=True, default=str) for row in read_table(root, table).to_pylist())


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory) -> tuple[str, int, int]:
    root = tmp_path_factory.mktemp("sample")
    summary = write_sample_datastore(str(root), ledgers=24, ledgers_per_batch=8, batches_per_partition=4)
    return str(root), summary["first_ledger"], summary["last_ledger"]


STORES = {
    "sample": None,  # the generator's output: every operation family, in three objects
    "mainnet-p22-56065483": (56065483, 56065483),  # one busy mainnet ledger: 16 of the tables have rows
}


@pytest.mark.parametrize("store", STORES)
def test_an_all_native_run_never_imports_stellar_sdk_and_writes_the_python_paths_rows(store, sample_store, tmp_path):
    if native.mode() == "0":
        pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run")
    core = native.core()
    assert core is not None, "the native core is not built: run make native-dev (or pip install . with cargo)"
    assert set(core.tables()) == set(table_names()), "this test needs every table native"
    source, start, end = sample_store if STORES[store] is None else (datastore(store), *STORES[store])

    native_out, native_report = _run(tmp_path, "native", source, start, end, native_mode=None)
    python_out, python_report = _run(tmp_path, "python", source, start, end, native_mode="0")

    assert native_report == {"code": 0, "stellar_sdk": []}
    assert python_report["code"] == 0 and "stellar_sdk" in python_report["stellar_sdk"]  # the control: it can fail
    written = 0
    for table in table_names():
        want = _rows(python_out, table)
        assert _rows(native_out, table) == want, f"{store}: table {table} differs between the two runs"
        written += bool(want)
    assert written >= 10, f"{store}: only {written} tables have rows; the comparison would say little"


def test_a_time_range_is_resolved_without_stellar_sdk_too(tmp_path, monkeypatch):
    """start_time/end_time: the data store's close times are read by the native core."""
    if native.mode() == "0":
        pytest.skip("STELLAR_ARCHIVE_NATIVE=0: a pure-Python run")
    assert native.core() is not None, "the native core is not built: run make native-dev (or pip install . with cargo)"
    start, end = "2022-06-10T04:30:00Z", "2022-06-10T04:31:00Z"
    out, report = _run(tmp_path, "native", datastore("testnet-p19-lpf64"), 0, 0, None, start_time=start,
                       end_time=end)
    assert report == {"code": 0, "stellar_sdk": []}
    monkeypatch.setenv(native.MODE_ENV, "0")  # the expected range, from the Python path's reading of the headers
    times = {k: datetime.fromisoformat(v.replace("Z", "+00:00")) for k, v in (("start_time", start), ("end_time", end))}
    want = resolve(DatastoreSourceConfig(path=datastore("testnet-p19-lpf64"), **times))
    got = sorted(read_table(out, "ledgers").column("sequence").to_pylist())
    assert got == list(range(want.start_ledger, want.end_ledger + 1)) and len(got) > 5


def test_the_cli_the_graph_and_every_table_schema_import_without_stellar_sdk():
    """What every run imports, whatever its tables (config validation, sinks, verify read the schemas)."""
    code = textwrap.dedent(
        """
        import sys
        import beam_pipeline.cli, beam_pipeline.pipeline, beam_pipeline.sources.datastore
        from beam_pipeline.records import get_table, table_names
        from beam_pipeline.records.base import output_schema
        for name in table_names():
            output_schema(get_table(name), "base64", True)
        loaded = sorted(m for m in sys.modules if m.partition(".")[0] == "stellar_sdk")
        assert not loaded, loaded[:5]
        """
    )
    _child(code, timeout=120)


@pytest.mark.parametrize("name", table_names())
def test_every_table_names_python_row_code_that_exists(name):
    transform = get_table(name).transform
    assert isinstance(transform, LazyTransform)
    assert transform.module.startswith("beam_pipeline.records.") and ".tables." not in transform.module
    assert callable(getattr(importlib.import_module(transform.module), transform.function))
    assert pickle.loads(pickle.dumps(transform)) == transform
