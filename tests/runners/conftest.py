"""The real runners (Flink, Prism) the tests in this folder run the archive on.

`make runners` (called by `make test`) builds them into `.cache/runners/` from the registries:
the Flink job server with Maven (templates/flink/fetch-job-server.sh), Prism with `go install` at
the pinned Beam version. The Makefile exports their paths in BEAM_PIPELINE_FLINK_JOB_SERVER_JAR
and BEAM_PIPELINE_PRISM. Outside `make test` a missing runner skips these tests with the command
that provides it; in CI (CI set) it fails them, since there `make test` must have built it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.harness import REPO

CACHE = REPO / ".cache" / "runners"
FLINK_VERSION = "1.19"
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


@pytest.fixture(params=["flink", "prism"])
def runner_args(request) -> tuple[str, list[str]]:
    """(name, command-line flags) of each real runner in turn."""
    return request.param, request.getfixturevalue(f"{request.param}_args")
