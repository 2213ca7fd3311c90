"""Several local worker processes: the cheapest way to use more than one core without a cluster.

``--direct_num_workers=2 --direct_running_mode=multi_processing`` makes the FnApiRunner start SDK
workers as subprocesses and hand bundles to them, so every DoFn, coder and shuffle runs across
process boundaries the way it does on Dataflow or Flink. The archive must be identical to the
single-process one: the same rows in every column, no row twice. (``multi_threading`` is not
tested on purpose: with Beam 2.77 it lost rows after a GroupByKey in a trial; docs/deploy.md
tells users to avoid it.)
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.harness import assert_same_rows, datastore, job_config, read_table, run_job

pytestmark = pytest.mark.timeout(240)  # a hung job or service fails the test instead of the suite

START, END = 1410100, 1410239  # testnet-p19-lpf64: three batch objects, the first one partly
TABLES = ["ledgers", "transactions", "operations", "token_transfers", "effects"]
RUN_ID = "r20250101T000000000000Z0def"


class WorkerProcessWatch:
    """Collects the pids of this process's SDK worker children while a job runs (Linux /proc)."""

    def __init__(self) -> None:
        self.pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> WorkerProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _poll(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.1):
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    status = Path(entry.path, "status").read_text()
                    cmdline = Path(entry.path, "cmdline").read_bytes()
                except OSError:
                    continue
                ppid = next((ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")), None)
                if ppid == me and b"apache_beam.runners.worker.sdk_worker_main" in cmdline:
                    self.pids.add(int(entry.name))


@pytest.fixture(scope="module")
def single_process_archive(tmp_path_factory, shared_ledgers) -> Path:
    work = tmp_path_factory.mktemp("single")
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, work / "out", tables=TABLES)
    assert run_job(cfg, work, f"--run_id={RUN_ID}") == 0
    return work / "out"


def test_two_worker_processes_write_the_same_rows(single_process_archive, tmp_path):
    out = tmp_path / "out"
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, out, tables=TABLES)
    with WorkerProcessWatch() as watch:
        code = run_job(
            cfg, tmp_path, "--direct_num_workers=2", "--direct_running_mode=multi_processing", f"--run_id={RUN_ID}"
        )
    assert code == 0
    assert len(watch.pids) == 2, f"expected 2 SDK worker processes, saw {sorted(watch.pids)}"
    for table in TABLES:
        assert_same_rows(single_process_archive, out, table)
    assert sorted(read_table(out, "ledgers")["sequence"].to_pylist()) == list(range(START, END + 1))
