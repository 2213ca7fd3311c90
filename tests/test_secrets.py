"""Secrets by value: an S3 endpoint's userinfo is in no output of validate or run; an unreachable archive
fails the run at a deadline, and a failed run's cleanup is bounded and says what it left."""

from __future__ import annotations

import json
import logging
import socket
import uuid

import pytest

from beam_pipeline.cli import main
from tests.harness import datastore, job_config, write_config

SENTINEL = "PW" + uuid.uuid4().hex


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def _s3_sink_job(out_bucket: str, endpoint: str) -> dict:
    cfg = job_config(datastore("testnet-p19-lpf64"), 1410048, 1410060, "/unused", tables=["ledgers"])
    sink = cfg["pipeline"]["consumers"][0]["config"]
    sink.pop("local_path")
    sink.update(storage_type="S3", bucket_name=out_bucket, endpoint=endpoint, region="us-east-1")
    return cfg


def test_validate_does_not_print_the_userinfo_of_an_s3_endpoint(tmp_path, capsys):
    port = _closed_port()
    path = write_config(_s3_sink_job("archive", f"http://archiver:{SENTINEL}@127.0.0.1:{port}"), tmp_path)
    capsys.readouterr()
    assert main(["validate", "--config", path]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["consumers"][0]["endpoint"] == f"http://127.0.0.1:{port}"
    assert SENTINEL not in out.out + out.err


@pytest.mark.timeout(300)
def test_a_run_to_an_unreachable_archive_fails_at_its_deadline_naming_it(tmp_path, capsys, monkeypatch):
    """Before any work the run checks the archive (crashed commits, run ids: sinks/runs.py); Beam would
    retry that listing of an unreachable endpoint for many minutes. The listing has a total deadline, the
    error names what it waited for, and the endpoint's password is in no output."""
    from beam_pipeline.util import fs
    from tests.fakes.s3_server import FAKE_CREDENTIALS

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(fs, "REMOTE_DEADLINE_S", 2.0)
    port = _closed_port()
    path = write_config(_s3_sink_job("archive", f"http://archiver:{SENTINEL}@127.0.0.1:{port}"), tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path]) == 1
    out = capsys.readouterr()
    last = out.err.strip().splitlines()[-1]
    assert last.startswith("error: run ") and "cannot prepare the archive s3://archive" in last
    assert "listing s3://archive/" in last and "not finished within 2s" in last
    assert "<redacted>@127.0.0.1" in out.err  # the endpoint was logged, its userinfo was not
    assert SENTINEL not in out.out + out.err
    # The abandoned listing keeps retrying in its daemon thread; its warnings would outlive this test.
    logging.getLogger("apache_beam.utils.retry").setLevel(logging.ERROR)


@pytest.mark.timeout(120)
def test_a_failed_runs_cleanup_is_bounded_and_says_what_it_left(tmp_path, capsys, monkeypatch):
    """A run that fails after its start cleans up (sinks/runs.abandon_run); when the store does not answer,
    the run gives that CLEANUP_DEADLINE_S, says where it left temporary files, and exits."""
    import threading

    from beam_pipeline import job, pipeline
    from beam_pipeline.sinks import runs

    never = threading.Event()
    monkeypatch.setattr(job, "CLEANUP_DEADLINE_S", 1.0)
    monkeypatch.setattr(runs, "abandon_run", lambda root, run_id: never.wait())  # a store that never answers

    def failing_build(*args, **kwargs):
        raise RuntimeError("the write failed")

    monkeypatch.setattr(pipeline, "build_pipeline", failing_build)
    out_dir = tmp_path / "archive"
    cfg = job_config(datastore("testnet-p19-lpf64"), 1410048, 1410060, str(out_dir), tables=["ledgers"])
    path = write_config(cfg, tmp_path)
    capsys.readouterr()
    try:
        assert main(["run", "--config", path]) == 1
    finally:
        never.set()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith("error: run ") and "the write failed" in lines[-1]
    warning = next(line for line in lines if line.startswith("warning: run "))
    assert f"left its temporary files under {out_dir}/_temporary/" in warning
    assert "not finished within 1s (still retrying; given up)" in warning


@pytest.mark.timeout(300)
def test_an_unreachable_s3_data_store_fails_at_the_deadline_naming_the_object(tmp_path, capsys, monkeypatch):
    """Beam retries an unreachable S3 endpoint for many minutes per call; each remote read or existence
    check now has a total deadline, and the error names what it waited for."""
    from beam_pipeline.util import fs
    from tests.fakes.s3_server import FAKE_CREDENTIALS

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(fs, "REMOTE_DEADLINE_S", 2.0)
    cfg = job_config("s3://lake/testnet", 1410048, 1410060, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"]["config"].update(endpoint=f"http://127.0.0.1:{_closed_port()}", region="us-east-1")
    path = write_config(cfg, tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.endswith("failed: cannot read the data store manifest: reading s3://lake/testnet/.config.json: "
                         "not finished within 2s (still retrying; given up)"), last
    assert not [f for f in (tmp_path / "out").rglob("*") if f.is_file()]  # nothing written, not even temporary
    logging.getLogger("apache_beam.utils.retry").setLevel(logging.ERROR)  # see the test above
