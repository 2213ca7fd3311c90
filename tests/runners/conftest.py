"""The real runners (Flink, Prism) the tests in this folder run the archive on.

`make runners` (called by `make test`) builds them into `.cache/runners/` from the registries:
the Flink job server with Maven (templates/flink/fetch-job-server.sh), Prism with `go install` at
the pinned Beam version. The Makefile exports their paths in BEAM_PIPELINE_FLINK_JOB_SERVER_JAR
and BEAM_PIPELINE_PRISM, and the jar's Flink version in BEAM_PIPELINE_FLINK_VERSION. Outside
`make test` a missing runner skips these tests with the command that provides it; in CI (CI set)
it fails them, since there `make test` must have built it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.rpc_server import fake_rpc  # noqa: F401 - a fixture, used by name
from tests.harness import REPO

CACHE = REPO / ".cache" / "runners"
FLINK_VERSION = os.environ.get("BEAM_PIPELINE_FLINK_VERSION") or "1.19"  # the jar's Flink (Makefile)
FLINK_JAR_DEFAULT = CACHE / f"flink-{FLINK_VERSION}-beam-2.62.0" / "job-server.jar"
PRISM_DEFAULT = CACHE / "prism-2.77.0" / "prism"


def _provided(env: str, default: Path, what: str) -> Path:
    path = Path(os.environ.get(env) or default)
    if not path.is_file():
        message = f"{what} not found at {path} (set {env}, or run `make runners`)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def flink_args() -> list[str]:
    """FlinkRunner on an embedded Flink cluster, two task slots, the SDK harness in the launching process."""
    if shutil.which("java") is None:
        pytest.fail("java is not on PATH: the Flink job server needs Java 11 or 17")
    jar = _provided("BEAM_PIPELINE_FLINK_JOB_SERVER_JAR", FLINK_JAR_DEFAULT, "the Flink job server jar")
    return [
        "--runner=FlinkRunner", "--flink_master=[local]", f"--flink_version={FLINK_VERSION}",
        f"--flink_job_server_jar={jar}", "--parallelism=2", "--environment_type=LOOPBACK",
    ]


@pytest.fixture(scope="session")
def prism_args() -> list[str]:
    """PrismRunner on the prism binary built from Beam's Go module, the SDK harness in the launching process."""
    prism = _provided("BEAM_PIPELINE_PRISM", PRISM_DEFAULT, "the prism binary")
    return ["--runner=PrismRunner", f"--prism_location={prism}", "--environment_type=LOOPBACK"]


@pytest.fixture
def worker_pool(monkeypatch) -> Iterator[tuple[str, list[str]]]:
    """Beam's EXTERNAL worker pool (docs/deploy.md), in this process on a port it picks: (address, ids
    of the SDK workers it was asked to start). Its workers are processes running `python` from PATH,
    so the interpreter running the tests comes first there."""
    from apache_beam.runners.worker.worker_pool_main import BeamFnExternalWorkerPoolServicer

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    started: list[str] = []
    start_worker = BeamFnExternalWorkerPoolServicer.StartWorker

    def recording(self, request, context):
        started.append(request.worker_id)
        return start_worker(self, request, context)

    monkeypatch.setattr(BeamFnExternalWorkerPoolServicer, "StartWorker", recording)
    address, server = BeamFnExternalWorkerPoolServicer.start(use_process=True)
    try:
        yield address, started
    finally:
        server.stop(0)


@pytest.fixture
def flink_external_args(flink_args, worker_pool) -> list[str]:
    """FlinkRunner whose SDK harnesses are started by an EXTERNAL worker pool, not the launching process."""
    args = [a for a in flink_args if not a.startswith("--environment_type")]
    return [*args, "--environment_type=EXTERNAL", f"--environment_config={worker_pool[0]}"]


@pytest.fixture(params=["flink", "prism"])
def runner_args(request) -> tuple[str, list[str]]:
    """(name, command-line flags) of each real runner in turn."""
    return request.param, request.getfixturevalue(f"{request.param}_args")
