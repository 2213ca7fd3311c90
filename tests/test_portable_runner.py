"""The portable path Flink and other job servers use, exercised offline with Beam's local job service.

PortableRunner submits the pipeline proto to a job service over gRPC and the SDK harness runs the
DoFns; with ``--environment_type=LOOPBACK`` the harness is this test process. That is the same
submission, artifact staging and Fn API traffic as Flink's job server, without Java or Maven, so
pickling, coders and metrics problems of a portable run show up here. The archive it writes must
be row for row the one the in-process FnApiRunner writes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness import assert_same_rows, datastore, job_config, manifests, read_table, run_job

pytestmark = pytest.mark.timeout(240)  # a hung job or service fails the test instead of the suite

START, END = 1410100, 1410239  # testnet-p19-lpf64: three batch objects, the first one partly
TABLES = ["ledgers", "transactions", "operations"]
RUN_ID = "r20250101T000000000000Z0abc"  # the same run id in both runs: file names and rows compare


@pytest.fixture(scope="module")
def job_service(tmp_path_factory):
    """``local_job_service_main`` as a subprocess on a port it picks (no race for a "free" port)."""
    work = tmp_path_factory.mktemp("job_service")
    port_file = work / "port"
    log_path = work / "job_service.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "apache_beam.runners.portability.local_job_service_main",
                "--port",
                "0",
                "--port_file",
                str(port_file),
                "--staging_dir",
                str(work / "staging"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"job service did not start (exit {proc.poll()}):\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield int(port_file.read_text()), log_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="module")
def in_process_archive(tmp_path_factory, shared_ledgers) -> Path:
    work = tmp_path_factory.mktemp("fnapi")
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, work / "out", tables=TABLES)
    assert run_job(cfg, work, f"--run_id={RUN_ID}") == 0
    return work / "out"


def test_portable_runner_writes_the_same_archive(job_service, in_process_archive, tmp_path):
    port, service_log = job_service
    out = tmp_path / "out"
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, out, tables=TABLES)
    code = run_job(
        cfg,
        tmp_path,
        "--runner=PortableRunner",
        f"--job_endpoint=localhost:{port}",
        "--environment_type=LOOPBACK",
        f"--run_id={RUN_ID}",
    )
    assert code == 0
    for table in TABLES:
        assert_same_rows(in_process_archive, out, table)
    assert sorted(read_table(out, "ledgers")["sequence"].to_pylist()) == list(range(START, END + 1))
    (manifest,) = manifests(out)
    assert manifest["runner"] == "PortableRunner"
    # The job really went through the service (not silently run in-process).
    assert "Completed job" in service_log.read_text() and "state DONE" in service_log.read_text()
