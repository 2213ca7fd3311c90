"""The archive on real Beam runners: Flink (embedded cluster) and Prism, batch and streaming.

Every job here is launched the way a user launches it, ``python -m beam_pipeline run`` in a
subprocess with the runner's flags (tests/runners/conftest.py), and compared with the in-process
FnApiRunner's archive of the same ledgers, table by table. The streaming test is the one place in
the suite where a processing-time trigger fires for real: the fake RPC server holds the chain
before the end ledger, so the job cannot end, and the test waits for the early pane's files in the
archive; then it cancels the job and restarts the same command, which must leave an exact archive.

The runners take minutes, so these tests are few and each is bounded (pytest-timeout, and every
wait below has its own deadline).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from beam_pipeline import argcheck
from beam_pipeline.cli import main
from beam_pipeline.sinks import filesets
from beam_pipeline.sinks.streaming import is_pane_of
from tests.harness import (
    assert_same_rows,
    datastore,
    job_config,
    manifests,
    parquet_files,
    read_table,
    run_job,
    write_config,
)
from tests.streaming._ledgers import FIRST, STORE
from tests.streaming.test_tail_end_to_end import TABLES, tail_config

pytestmark = pytest.mark.runners

RUNNER_CLASS = {"flink": "FlinkRunner", "prism": "PrismRunner", "flink_external": "FlinkRunner"}
BATCH_RUN_ID = "r20250101T000000000000Z0abc"  # the same run id in both runs: file names and rows compare
START, END = 1410100, 1410239  # batch: three data store objects, the first one partly
BATCH_TABLES = [*TABLES, "assets"]  # assets: the run-wide dedupe combine, across the runner's workers
HOLD, TAIL_END = FIRST + 39, FIRST + 99  # streaming: the chain is held at HOLD, the job ends at TAIL_END
TAIL_RUN, RESTART_RUN = "r20250102T000000000000Z0001", "r20250102T010000000000Z0002"


class Job:
    """One CLI run in its own process group (the runner's Java or Go service is its child)."""

    def __init__(self, cfg: dict, work: Path, name: str, *args: str):
        self.log_path = work / f"{name}.log"
        config = write_config(cfg, work, f"{name}.yaml")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "beam_pipeline", "run", "--config", config, *args],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log(self) -> str:
        """The end of the job's output, for failure messages."""
        return self.text()[-6000:]

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"job did not finish within {timeout} s:\n{self.log()}")

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user cancels a job: the CLI exits and the runner's service is stopped with it."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    def kill(self) -> None:
        """Ends what this job started: its process group (the CLI and the runner's service)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


@pytest.fixture
def jobs():
    """A factory of Jobs; every process group it started is killed after the test."""
    started: list[Job] = []

    def start(*args, **kwargs) -> Job:
        job = Job(*args, **kwargs)
        started.append(job)
        return job

    yield start
    for job in started:
        job.kill()


@pytest.fixture(scope="module")
def in_process_archive(tmp_path_factory, shared_ledgers) -> Path:
    """The reference: the batch job on the in-process FnApiRunner."""
    work = tmp_path_factory.mktemp("fnapi")
    cfg = job_config(datastore(STORE), START, END, work / "out", tables=BATCH_TABLES)
    assert run_job(cfg, work, f"--run_id={BATCH_RUN_ID}") == 0
    return work / "out"


@pytest.fixture(scope="module")
def hourly_batch_archive(tmp_path_factory, shared_ledgers) -> Path:
    """The streaming test's reference: the tail's ledgers archived by the batch job, hourly partitions."""
    work = tmp_path_factory.mktemp("hourly")
    cfg = job_config(datastore(STORE), FIRST, TAIL_END, work / "out", tables=BATCH_TABLES, partition_by="hour")
    assert run_job(cfg, work) == 0
    return work / "out"


@pytest.mark.timeout(360)
@pytest.mark.parametrize("name", ["flink", "prism", "flink_external"])
def test_archival_job_equals_the_in_process_run(name, request, in_process_archive, jobs, tmp_path):
    """Runners: FlinkRunner (embedded Flink 1.19, parallelism 2; LOOPBACK workers, and an EXTERNAL
    worker pool) and PrismRunner (LOOPBACK), against the FnApiRunner; data store testnet-p19-lpf64,
    ledgers 1410100-1410239."""
    args = request.getfixturevalue(f"{name}_args")
    out = tmp_path / "out"
    job = jobs(job_config(datastore(STORE), START, END, out, tables=BATCH_TABLES), tmp_path, "batch", *args,
               f"--run_id={BATCH_RUN_ID}")
    assert job.wait(300) == 0, job.log()
    for table in TABLES:
        assert_same_rows(in_process_archive, out, table)
    _assert_same_assets(in_process_archive, out)
    assert sorted(read_table(out, "ledgers")["sequence"].to_pylist()) == list(range(START, END + 1))
    # Same files (names carry table, ledger span, run id, shard): the same partition layout.
    assert [Path(p).relative_to(out) for p in parquet_files(out)] == [
        Path(p).relative_to(in_process_archive) for p in parquet_files(in_process_archive)]
    (manifest,) = manifests(out)
    assert manifest["runner"] == RUNNER_CLASS[name]
    # The job really went to that runner's service (not silently in-process).
    service = "prism" if name == "prism" else "job-server.jar"
    started = [line for line in job.text().splitlines() if "Really starting service" in line]
    assert started and service in started[0], job.log()
    if name == "flink_external":  # the harnesses came from the pool (two task slots: at least one worker)
        assert request.getfixturevalue("worker_pool")[1], "the worker pool started no SDK worker"


# Options of Beam's Java SDK and Flink runner that the Python SDK does not define: only the Flink job
# server describes them (FlinkPipelineOptions.checkpointingInterval, ApplicationNameOptions.appName).
JAVA_SIDE = ["--checkpointing_interval=60000", "--app_name=archiveprobe"]


def test_java_side_flink_options_are_refused_without_a_runner_to_describe_them(capsys):
    """Runner: none. The flags below are not Python options: the Flink tests that follow would pass
    vacuously if Beam's Python SDK ever defined them."""
    for flag in JAVA_SIDE:
        with pytest.raises(SystemExit):
            argcheck.check_run(["--config=x.yaml", flag])
        assert f"unknown flag {flag.split('=')[0]}" in capsys.readouterr().err


@pytest.mark.timeout(240)
def test_java_side_flink_options_reach_the_flink_job(flink_args, jobs, tmp_path):
    """Runner: FlinkRunner (embedded Flink 1.19) started by Beam from the jar, no --job_endpoint: the CLI
    asks that job server which options it takes, so Java-side flags pass, and Flink gets them (the job
    is named after --app_name; data store testnet-p19-lpf64, ledgers 1410100-1410120)."""
    out = tmp_path / "out"
    job = jobs(job_config(datastore(STORE), START, START + 20, out, tables=["ledgers"]), tmp_path, "java_side",
               *flink_args, *JAVA_SIDE)
    assert job.wait(200) == 0, job.log()
    assert sorted(read_table(out, "ledgers")["sequence"].to_pylist()) == list(range(START, START + 21))
    named = [line for line in job.text().splitlines() if "switched from state RUNNING to FINISHED" in line]
    assert named and "Job archiveprobe-" in named[-1], job.log()


@pytest.mark.timeout(120)
def test_a_typo_of_a_java_side_flink_option_is_refused(flink_args, jobs, tmp_path):
    """Runner: FlinkRunner's job server (the jar) is started to be asked, then stopped; the typo exits 2
    naming the nearest option it describes, nothing is archived, and no process of the run is left."""
    out = tmp_path / "out"
    job = jobs(job_config(datastore(STORE), START, START + 20, out, tables=["ledgers"]), tmp_path, "typo",
               *flink_args, "--checkpointing_intervl=60000")
    assert job.wait(100) == 2, job.log()
    assert "unknown flag --checkpointing_intervl (did you mean --checkpointing_interval?)" in job.text()
    assert parquet_files(out) == [] and not manifests(out)
    with pytest.raises(ProcessLookupError):  # the job server (java) went with the CLI: its group is empty
        os.killpg(job.proc.pid, 0)


def _assert_same_assets(expected_root: Path, actual_root: Path) -> None:
    """assets has no id: every row, sorted; each asset once (the dedupe ran across the runner's workers)."""
    assets, reference = read_table(actual_root, "assets"), read_table(expected_root, "assets")
    assert reference.num_rows > 0 and assets.schema == reference.schema
    assert sorted(map(str, assets.to_pylist())) == sorted(map(str, reference.to_pylist()))
    assert len(set(assets["asset_id"].to_pylist())) == assets.num_rows


def _held_ledgers(out: Path) -> list[int] | None:
    """The archived ledger sequences, or None while a commit is replacing files under the reader."""
    try:
        return sorted(read_table(out, "ledgers")["sequence"].to_pylist()) if parquet_files(out, "ledgers") else []
    except (FileNotFoundError, OSError):
        return None


@pytest.mark.timeout(600)
def test_streaming_tail_early_panes_cancel_and_restart(runner_args, hourly_batch_archive, fake_rpc, jobs, tmp_path):
    """Runners: FlinkRunner / PrismRunner in streaming mode; the tail from the fake RPC server
    (testnet-p19-lpf64, all in hour 04 of 2022-06-10), hourly windows, a 6 s rotation interval.

    1. The chain is held at HOLD, before the end ledger: the job cannot end, yet the archive must
       come to hold exactly the ledgers FIRST..HOLD (early panes: processing-time firings).
    2. Ctrl-C cancels the job (no manifest), the chain is released, the same command runs again
       and ends at the end ledger.
    3. The archive equals the batch job's archive of the same ledgers, table by table, holds only
       the restarted run's file sets and passes `verify --manifests`.
    """
    name, args = runner_args
    server = fake_rpc(STORE)
    server.hold(HOLD)
    out = tmp_path / "out"
    cfg = tail_config(server.url, out, FIRST, TAIL_END, rotation_interval_minutes=0.1)
    cfg["pipeline"]["processors"].append({"type": "assets"})  # its per-hour dedupe fires at the watermark

    job = jobs(cfg, tmp_path, "tail", *args, f"--run_id={TAIL_RUN}")
    deadline = time.monotonic() + 300
    seen: list[int] | None = []
    while seen != list(range(FIRST, HOLD + 1)):
        assert job.proc.poll() is None, f"the tail ended although the chain is held:\n{job.log()}"
        assert time.monotonic() < deadline, f"no early pane with ledgers {FIRST}-{HOLD}; saw {seen}:\n{job.log()}"
        time.sleep(1)
        seen = _held_ledgers(out)
    # Every held ledger is visible while the job still waits for more: no on-time pane fired
    # (the hour is still open), so these are early panes.
    assert job.proc.poll() is None
    assert not manifests(out)
    job.interrupt()
    assert not manifests(out), "a cancelled run writes no manifest"

    server.release()
    restart = jobs(cfg, tmp_path, "restart", *args, f"--run_id={RESTART_RUN}")
    assert restart.wait(300) == 0, restart.log()

    assert sorted(read_table(out, "ledgers")["sequence"].to_pylist()) == list(range(FIRST, TAIL_END + 1))
    for table in TABLES:
        assert_same_rows(hourly_batch_archive, out, table)
    _assert_same_assets(hourly_batch_archive, out)
    runs = {filesets.parse_file_name(Path(p).name).set_key[0] for p in parquet_files(out)}
    assert runs and all(is_pane_of(r, RESTART_RUN) for r in runs), runs
    (manifest,) = manifests(out)
    assert manifest["run_id"] == RESTART_RUN and manifest["runner"] == RUNNER_CLASS[name]
    assert manifest["ledger_range"] == {"start": FIRST, "end": TAIL_END}
    assert main(["verify", "--path", str(out), "--manifests"]) == 0
