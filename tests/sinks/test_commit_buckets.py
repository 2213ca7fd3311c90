"""The commit lock and the commit on S3 (moto) and GCS (gcp-storage-emulator): a lock held by a live
run refuses the commit and leaves the bucket as it was; the lock object is created exclusively.
"""

from __future__ import annotations

import json
import os

import pytest

from beam_pipeline.sinks import commit
from beam_pipeline.util import fs
from tests.harness import run_job
from tests.sources.test_buckets import _bucket_job, gcs, s3  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.timeout(240)

HOLDER = "r20990101T000000000000Zcccc"


def _live_lock() -> bytes:
    """A lock as a live run on this host holds it (our parent process)."""
    return json.dumps({"run_id": HOLDER, "host": os.uname().nodename, "pid": os.getppid(), "at": 4e9}).encode()


def _exercise(cfg, url: str, keys, delete, tmp_path, capsys, monkeypatch) -> None:
    assert run_job(cfg, tmp_path) == 0
    before = sorted(keys())
    lock = f"{url}/{commit.LOCK_DIR}/{commit.COMMIT_LOCK}"
    assert fs.create_exclusive(lock, _live_lock())
    assert not fs.create_exclusive(lock, b"second")  # exclusive: the first holder keeps it
    monkeypatch.setattr(commit, "LOCK_WAIT_SECONDS", 0.5)
    capsys.readouterr()
    assert run_job(cfg, tmp_path) == 1
    err = capsys.readouterr().err
    assert HOLDER in err and "overlapping runs are refused" in err
    assert sorted(k for k in keys() if "_locks" not in k) == before  # nothing of the refused run is final
    delete(lock)
    assert run_job(cfg, tmp_path) == 0  # the lock released, the rerun commits
    after = keys()
    assert not [k for k in after if "_temporary" in k or "_locks" in k or "_commits" in k], after
    assert len([k for k in after if "/_manifests/" in k]) == 2


def test_s3_commit_lock(s3, tmp_path, capsys, monkeypatch):  # noqa: F811 - the fixture
    s3.create_bucket("archive")
    cfg = _bucket_job("unused", "archive", "S3")
    cfg["pipeline"]["source"]["config"]["path"] = _local_store()
    cfg["pipeline"]["consumers"][0]["config"].update(endpoint=s3.endpoint, region="us-east-1")
    client = s3.client()
    _exercise(cfg, "s3://archive/archive/v1", lambda: s3.keys("archive"),
              lambda url: client.delete_object(Bucket="archive", Key=url.split("/", 3)[3]),
              tmp_path, capsys, monkeypatch)


def test_gcs_commit_lock(gcs, tmp_path, capsys, monkeypatch):  # noqa: F811 - the fixture
    gcs.create_bucket("archive")
    cfg = _bucket_job("unused", "archive", "GCS")
    cfg["pipeline"]["source"]["config"]["path"] = _local_store()
    _exercise(cfg, "gs://archive/archive/v1", lambda: gcs.keys("archive"), lambda url: fs.delete([url]),
              tmp_path, capsys, monkeypatch)


def _local_store() -> str:
    from tests.harness import datastore
    from tests.sources.test_buckets import P19

    return datastore(P19)


def _crash_then_repair(cfg, keys, tmp_path, capsys, monkeypatch) -> None:
    """A crash after the commit point (deletes fail), then a rerun that completes the crashed commit."""
    assert run_job(cfg, tmp_path) == 0

    def crash(paths):
        raise OSError("simulated crash before deleting superseded files")

    with monkeypatch.context() as m:
        m.setattr(fs, "delete", crash)
        assert run_job(cfg, tmp_path) == 1
    left = keys()
    assert [k for k in left if "/_commits/" in k], left  # the journal of the crashed commit
    assert run_job(cfg, tmp_path) == 0
    after = keys()
    assert not [k for k in after if "_temporary" in k or "_locks" in k or "_commits" in k], after
    assert len([k for k in after if "/_manifests/" in k]) == 3  # the crashed run's, completed, and the rerun's
    assert len([k for k in after if k.endswith(".parquet")]) == 2  # one set per table: nothing duplicated


def test_s3_crash_after_the_commit_point_is_repaired(s3, tmp_path, capsys, monkeypatch):  # noqa: F811
    s3.create_bucket("archive")
    cfg = _bucket_job("unused", "archive", "S3")
    cfg["pipeline"]["source"]["config"]["path"] = _local_store()
    cfg["pipeline"]["consumers"][0]["config"].update(endpoint=s3.endpoint, region="us-east-1")
    _crash_then_repair(cfg, lambda: s3.keys("archive"), tmp_path, capsys, monkeypatch)


def test_gcs_crash_after_the_commit_point_is_repaired(gcs, tmp_path, capsys, monkeypatch):  # noqa: F811
    gcs.create_bucket("archive")
    cfg = _bucket_job("unused", "archive", "GCS")
    cfg["pipeline"]["source"]["config"]["path"] = _local_store()
    _crash_then_repair(cfg, lambda: gcs.keys("archive"), tmp_path, capsys, monkeypatch)
