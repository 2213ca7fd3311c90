"""Safety: writes stay inside the configured root, oversized and bomb objects are refused, XDR
decoding fails fast on hostile lengths and depth, and credentials appear nowhere.
"""

from __future__ import annotations

import struct
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import zstandard
from stellar_sdk import xdr

from beam_pipeline.cli import main
from beam_pipeline.xdr.ledger import decode_batch
from tests.damage import BAD, KEY, START, assert_nothing_left, copy_store, object_path
from tests.harness import datastore, job_config, parquet_files, run_captured, write_config

SENTINEL = "S3CRET-SENTINEL-" + uuid.uuid4().hex


# --- the root cannot be escaped ----------------------------------------------------------------------


def _sink(**keys) -> dict:
    cfg = job_config(datastore("testnet-p19-lpf64"), START, START + 2, "/tmp/unused", tables=["ledgers"])
    cfg["pipeline"]["consumers"][0]["config"].update(keys)
    return cfg


SINK = "pipeline.consumers[0].config"
ESCAPES = {
    "prefix with ..": (dict(path_prefix="archive/../../etc"), f"{SINK}.path_prefix: must stay inside the root"),
    "prefix only ..": (dict(path_prefix=".."), f"{SINK}.path_prefix: must stay inside the root"),
    "absolute prefix": (dict(path_prefix="/etc/cron.d"), f"{SINK}.path_prefix: must stay inside the root"),
    "prefix with a scheme": (dict(path_prefix="s3://other-bucket/x"), f"{SINK}.path_prefix: must stay inside the root"),
    "bucket with ..": (
        dict(storage_type="S3", bucket_name="lake/../other", local_path=None),
        f"{SINK}.bucket_name: a bucket name, not a URL or path",
    ),
    "bucket as URL": (
        dict(storage_type="GCS", bucket_name="gs://lake", local_path=None),
        f"{SINK}.bucket_name: a bucket name, not a URL or path",
    ),
    "local path as URL": (dict(local_path="s3://lake/archive"), f"{SINK}.local_path: a local directory, not a URL"),
}


@pytest.mark.parametrize("case", list(ESCAPES))
def test_sink_pieces_cannot_escape_the_root(case, tmp_path, capsys):
    keys, expected = ESCAPES[case]
    cfg = _sink(**{k: v for k, v in keys.items() if v is not None})
    if keys.get("local_path", "") is None:
        cfg["pipeline"]["consumers"][0]["config"].pop("local_path")
    path = write_config(cfg, tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path]) == 2
    err = capsys.readouterr().err
    assert path in err and expected in err
    assert not Path("/tmp/unused").exists()


def test_escape_through_an_environment_variable_is_caught(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARCHIVE_PREFIX", "../../outside")
    path = write_config(_sink(path_prefix="${ARCHIVE_PREFIX}"), tmp_path)
    capsys.readouterr()
    assert main(["validate", "--config", path]) == 2
    assert f"{SINK}.path_prefix: must stay inside the root" in capsys.readouterr().err


def test_output_path_override_rejects_unknown_schemes(tmp_path, capsys):
    path = write_config(_sink(), tmp_path)
    capsys.readouterr()
    assert main(["run", "--config", path, "--output_path", "file:///etc"]) == 2
    assert "unsupported URL scheme 'file'" in capsys.readouterr().err


# --- oversized objects and decompression bombs ---------------------------------------------------------


def test_object_larger_than_the_limit_is_refused(tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    assert object_path(store, BAD).stat().st_size > 20_000
    cfg = job_config(str(store), START, START + 30, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"]["config"]["max_object_size_mb"] = 0.02  # 20971 bytes
    code, _, err = run_captured(capsys, cfg, tmp_path)
    assert code == 1
    assert "is larger than the configured maximum of 20971 bytes" in err
    assert ".xdr.zst" in err.strip().splitlines()[-1]
    assert_nothing_left(tmp_path / "out")


def test_zstd_bomb_is_refused_without_inflating_it(tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    bomb = zstandard.ZstdCompressor(level=19).compress(b"\0" * (64 << 20))  # 64 MiB of zeros
    assert len(bomb) < 10_000
    object_path(store, BAD).write_bytes(bomb)
    cfg = job_config(str(store), START, START + 30, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"]["config"]["max_object_size_mb"] = 1  # at most 8 MiB after decompression
    code, _, err = run_captured(capsys, cfg, tmp_path)
    assert code == 1
    assert f"{KEY}: decompresses to more than 8388608 bytes; refused" in err
    assert_nothing_left(tmp_path / "out")


@pytest.mark.timeout(300)
def test_zstd_bomb_under_the_default_limit_is_dead_lettered_by_name(tmp_path, capsys, shared_ledgers):
    """2 GiB of zeros in 33 frames: past the default bound (8x the default max_object_size_mb), refused
    as it streams (tests/xdr/test_compression.py holds the memory claim), and under
    `on_error: dead_letter` a dead letter naming the object, not a MemoryError that names nothing."""
    store = copy_store(tmp_path)
    object_path(store, BAD).write_bytes(zstandard.ZstdCompressor(level=19).compress(bytes(64 << 20)) * 33)
    out = tmp_path / "out"
    cfg = job_config(str(store), START, START + 30, out, tables=["ledgers"])
    cfg["pipeline"]["on_error"] = "dead_letter"
    code, stdout, err = run_captured(capsys, cfg, tmp_path)
    assert code == 3, stdout + err
    (dl,) = (out / "_dead_letter").glob("*.parquet")
    (row,) = pq.read_table(dl).to_pylist()
    assert row["unit"] == KEY
    assert f"{KEY}: decompresses to more than {1 << 30} bytes; refused" in row["message"]


# --- XDR limits ------------------------------------------------------------------------------------


def test_huge_declared_array_length_fails_fast():
    """xdrlib3 checks a declared length against the bytes left before allocating anything."""
    payload = struct.pack(">III", START, START + 63, 0x7FFFFFFF) + b"\0" * 64
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="exceeds remaining input length"):
        decode_batch(payload)
    assert time.monotonic() - t0 < 1


def test_deeply_nested_xdr_hits_the_depth_limit():
    """A vector of a vector of ... 200k deep: stellar_sdk's unpackers carry a depth limit
    (DEFAULT_XDR_MAX_DEPTH) and stop with a ValueError long before Python's recursion limit."""
    level = struct.pack(">III", xdr.SCValType.SCV_VEC.value, 1, 1)  # SCV_VEC, vec present, 1 element
    deep = level * 200_000 + struct.pack(">I", xdr.SCValType.SCV_VOID.value)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="Maximum decoding depth reached"):
        xdr.SCVal.from_xdr_bytes(deep)
    assert time.monotonic() - t0 < 1


def test_huge_length_inside_an_object_is_an_error_naming_it(tmp_path, capsys, shared_ledgers):
    store = copy_store(tmp_path)
    payload = struct.pack(">III", BAD, BAD + 63, 0x7FFFFFFF) + b"\0" * 1024
    object_path(store, BAD).write_bytes(zstandard.ZstdCompressor().compress(payload))
    code, _, err = run_captured(capsys, job_config(str(store), START, START + 30, tmp_path / "out", tables=["ledgers"]),
                       tmp_path)
    assert code == 1
    assert f"{KEY}: undecodable LedgerCloseMetaBatch XDR" in err and "exceeds remaining input length" in err


# --- credentials ------------------------------------------------------------------------------------


def _all_bytes(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


def test_s3_credentials_appear_nowhere(tmp_path, capsys, monkeypatch, shared_ledgers):
    """A job reading an S3 data store with secret credentials (debug logging on, a dead letter, a
    failed run, a verify): the secret is in no output, manifest, dead letter or error message."""
    from tests.fakes.s3_server import running_s3_server

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA" + SENTINEL[-12:].upper())
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SENTINEL)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("ARCHIVE_SECRET_KEY", SENTINEL)
    store = copy_store(tmp_path)
    object_path(store, BAD).write_bytes(b"\x28\xb5\x2f\xfd" + b"\xff" * 64)  # a corrupt object: a dead letter
    texts: list[str] = []
    with running_s3_server() as s3:
        s3.create_bucket("lake")
        s3.upload_tree(store, "lake", "testnet")
        out = tmp_path / "out"
        cfg = job_config("s3://lake/testnet", START, START + 30, out, tables=["ledgers", "transactions"], debug=True)
        cfg["pipeline"]["on_error"] = "dead_letter"
        cfg["pipeline"]["source"]["config"].update(endpoint=s3.endpoint, region="us-east-1")
        code, stdout, stderr = run_captured(capsys, cfg, tmp_path)
        assert code == 3, stdout + stderr
        texts += [stdout, stderr]
        assert any(r.signed for r in s3.requests), "the secret credentials were not used at all"

        s3.client().delete_object(Bucket="lake", Key=f"testnet/{KEY}")
        cfg["pipeline"]["on_error"] = "fail"
        code, stdout, stderr = run_captured(capsys, cfg, tmp_path, "--output_path", str(tmp_path / "failed"))
        assert code == 1 and KEY in stderr
        texts += [stdout, stderr]

    capsys.readouterr()
    assert main(["verify", "--path", str(out), "--manifests"]) == 1  # the dead-lettered ledgers are missing
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    assert (out / "_dead_letter").is_dir() and parquet_files(out, "ledgers")
    for text in texts:
        assert SENTINEL not in text
        assert SENTINEL[-12:].upper() not in text
    for p, data in _all_bytes(out) + _all_bytes(tmp_path / "failed" if (tmp_path / "failed").exists() else out):
        assert SENTINEL.encode() not in data, p


def test_validate_redacts_the_rpc_auth_header(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ARCHIVE_RPC_AUTH", f"Bearer {SENTINEL}")
    cfg = job_config("unused", START, START + 5, tmp_path / "out", tables=["ledgers"])
    cfg["pipeline"]["source"] = {
        "type": "rpc",
        "config": {"rpc_url": "http://127.0.0.1:9/", "start_ledger": START, "end_ledger": START + 5,
                   "auth_header": "${ARCHIVE_RPC_AUTH}"},
    }
    path = write_config(cfg, tmp_path)
    capsys.readouterr()
    assert main(["validate", "--config", path]) == 0
    out = capsys.readouterr().out
    assert '"auth_header": "<redacted>"' in out
    assert SENTINEL not in out
