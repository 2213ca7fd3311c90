"""Secrets by value: an S3 endpoint's userinfo is in no output of validate or run; a failed write to an
unreachable endpoint ends with a bounded cleanup that says what it left."""

from __future__ import annotations

import json
import logging
import socket
import uuid

import pytest

from beam_pipeline import cli
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
def test_a_write_to_an_unreachable_endpoint_ends_with_a_bounded_cleanup(tmp_path, capsys, monkeypatch):
    """The write fails (connection refused); Beam would then retry the cleanup listing for minutes. The
    run gives the cleanup CLEANUP_DEADLINE_S, says what it left, and never shows the endpoint's password."""
    from tests.fakes.s3_server import FAKE_CREDENTIALS

    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(cli, "CLEANUP_DEADLINE_S", 2.0)
    port = _closed_port()
    path = write_config(_s3_sink_job("archive", f"http://archiver:{SENTINEL}@127.0.0.1:{port}"), tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path]) == 1
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert lines[-1].startswith("error: run ") and f"127.0.0.1:{port}/archive/_temporary/" in lines[-1]
    warning = next(line for line in lines if line.startswith("warning: run "))
    assert "left its temporary files under s3://archive/_temporary/" in warning
    assert "not finished within 2s (still retrying; given up)" in warning
    assert "<redacted>@127.0.0.1" in out.err  # the endpoint was logged and printed, its userinfo was not
    assert SENTINEL not in out.out + out.err
    # The abandoned cleanup keeps retrying in its daemon thread; its warnings would outlive this test.
    logging.getLogger("apache_beam.utils.retry").setLevel(logging.ERROR)


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
    assert not (tmp_path / "out").exists()
    logging.getLogger("apache_beam.utils.retry").setLevel(logging.ERROR)  # see the test above
