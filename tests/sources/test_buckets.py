"""Data stores on S3 and GCS, archives written to S3 and GCS, against real local servers.

moto's S3 server and gcp-storage-emulator speak the real REST APIs, so Beam's own S3 and GCS
filesystems do all the IO here. Each job's rows are compared with the same job run on the local
copy of the data store; the bucket must hold the manifest and no ``_temporary`` objects afterwards.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from beam_pipeline.config import ConfigError, parse_config
from beam_pipeline.util import storage
from tests.fakes.gcs_server import GcsServer, running_gcs_server
from tests.fakes.s3_server import FAKE_CREDENTIALS, S3Server, running_s3_server
from tests.harness import datastore, job_config, manifests, read_table, run_job

pytestmark = pytest.mark.timeout(240)

P19 = "testnet-p19-lpf64"
START, END = 1410048, 1410100
TABLES = ["ledgers", "transactions"]
# Close times of 1410048 and of 1410101 (the first ledger after END; end_time is exclusive):
# the time range is START..END.
START_TIME, END_TIME = "2022-06-10T04:23:44Z", "2022-06-10T04:28:20Z"


@pytest.fixture
def s3(monkeypatch, shared_ledgers) -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1, with AWS credentials in the environment (the standard chain)."""
    for k, v in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")  # no profile from the machine running the tests
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with running_s3_server() as server:
        yield server


@pytest.fixture
def gcs(monkeypatch, shared_ledgers) -> Iterator[GcsServer]:
    with running_gcs_server() as server:
        monkeypatch.setenv(storage.EMULATOR_ENV, server.endpoint)
        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        yield server
    monkeypatch.delenv(storage.EMULATOR_ENV)
    storage.prepare("gs://x")  # forget the anonymous credentials we gave Beam for the emulator


@pytest.fixture(scope="module")
def local_rows(tmp_path_factory) -> dict[str, list]:
    """The reference: the same job on the local data store."""
    tmp = tmp_path_factory.mktemp("local")
    assert run_job(job_config(datastore(P19), START, END, tmp / "out", tables=TABLES), tmp) == 0
    return {t: _rows(read_table(tmp / "out", t)) for t in TABLES}


def _rows(table) -> list:
    return sorted(table.to_pylist(), key=repr)


def _bucket_job(source_path: str, out_bucket: str, storage_type: str, **source_keys) -> dict:
    cfg = job_config(source_path, START, END, "unused", tables=TABLES)
    sink = cfg["pipeline"]["consumers"][0]["config"]
    del sink["local_path"]
    sink.update(storage_type=storage_type, bucket_name=out_bucket, path_prefix="archive/v1")
    cfg["pipeline"]["source"]["config"].update(source_keys)
    return cfg


def _use_time_range(cfg: dict) -> dict:
    src = cfg["pipeline"]["source"]["config"]
    del src["start_ledger"], src["end_ledger"]
    src.update(start_time=START_TIME, end_time=END_TIME)
    return cfg


def _check_archive(keys: list[str], download, tmp_path: Path, local_rows: dict) -> None:
    assert not [k for k in keys if "_temporary" in k], keys
    made = [k for k in keys if k.startswith("archive/v1/_manifests/") and k.endswith(".json")]
    assert len(made) == 1, keys
    for t in TABLES:
        assert [k for k in keys if k.startswith(f"archive/v1/{t}/year=2022/month=06/day=10/")], keys
    out = tmp_path / "downloaded"
    download("archive/v1/", out)
    (manifest,) = manifests(out)
    assert manifest["ledger_range"] == {"start": START, "end": END}
    for t in TABLES:
        assert _rows(read_table(out, t)) == local_rows[t], t


# --- S3 ------------------------------------------------------------------------------------------


def test_s3_datastore_to_s3_archive(s3, tmp_path, local_rows):
    s3.create_bucket("ledgers")
    s3.create_bucket("archive")
    assert s3.upload_tree(datastore(P19), "ledgers", "stores/testnet") == 6
    cfg = _bucket_job("s3://ledgers/stores/testnet", "archive", "S3", endpoint=s3.endpoint, region="us-east-1")
    sink = cfg["pipeline"]["consumers"][0]["config"]
    sink.update(endpoint=s3.endpoint, region="us-east-1")

    assert run_job(cfg, tmp_path) == 0

    _check_archive(s3.keys("archive"), lambda p, d: s3.download("archive", p, d), tmp_path, local_rows)
    job = [r for r in s3.requests if not r.path.startswith("/moto-api")]
    assert {r.path.split("/")[1] for r in job} >= {"ledgers", "archive"}
    assert all(r.signed for r in job)  # credentials from the environment were used
    assert all(r.host.startswith("127.0.0.1:") for r in job)  # path-style: no bucket in the host name


def test_s3_anonymous_public_lake_read_unsigned_with_time_range(s3, tmp_path, local_rows):
    """A public-read bucket read with ``anonymous: true`` (as s3://aws-public-blockchain), written signed."""
    s3.create_bucket("public-lake", public_read=True)
    s3.create_bucket("archive")
    s3.upload_tree(datastore(P19), "public-lake", "v1.1/stellar/ledgers/testnet")
    cfg = _bucket_job(
        "s3://public-lake/v1.1/stellar/ledgers/testnet", "archive", "S3",
        endpoint=s3.endpoint, region="us-east-1", anonymous=True, force_path_style=True,
    )
    cfg["pipeline"]["consumers"][0]["config"].update(endpoint=s3.endpoint, region="us-east-1")
    setup = len(s3.requests)

    assert run_job(_use_time_range(cfg), tmp_path) == 0

    _check_archive(s3.keys("archive"), lambda p, d: s3.download("archive", p, d), tmp_path, local_rows)
    job = s3.requests[setup:]
    lake = [r for r in job if r.path.startswith("/public-lake")]
    archive = [r for r in job if r.path.startswith("/archive")]
    assert lake and archive
    assert not [r for r in lake if r.signed], "anonymous reads must not send credentials"
    assert {r.method for r in lake} <= {"GET", "HEAD"}  # listing (time range) and reading only
    assert all(r.signed for r in archive)


def test_s3_settings_from_config():
    cfg = parse_config(
        _bucket_job(
            "s3://lake/prefix", "out", "S3", endpoint="http://minio:9000", region="eu-west-1",
            force_path_style=True, anonymous=True,
        )
    )
    settings = storage.s3_settings_for_config(cfg)
    assert settings["lake"] == storage.S3BucketSettings("http://minio:9000", "eu-west-1", True, True)
    assert settings["out"] == storage.S3BucketSettings(None, None, False, False)
    lake = storage.make_s3_client(settings["lake"], {"region_name": None, "aws_access_key_id": "k",
                                                     "aws_secret_access_key": "s"})
    from botocore import UNSIGNED

    assert lake.meta.config.s3["addressing_style"] == "path"
    assert lake.meta.config.signature_version is UNSIGNED
    assert lake.meta.endpoint_url == "http://minio:9000" and lake.meta.region_name == "eu-west-1"
    pickle.loads(pickle.dumps(settings))  # plain data, shipped to workers as JSON


def test_one_bucket_with_two_settings_is_a_config_error():
    from apache_beam.options.pipeline_options import PipelineOptions

    from beam_pipeline.job import apply_storage_options

    cfg = parse_config(_bucket_job("s3://same/store", "same", "S3", anonymous=True), "job.yaml")
    with pytest.raises(ConfigError, match=r"job\.yaml.*\n.*consumers\[0\]\.config\.bucket_name: bucket 'same' is also"):
        apply_storage_options(cfg, PipelineOptions([]))


def test_anonymous_gcs_source_is_refused():
    cfg = parse_config(_bucket_job("gs://public/store", "out", "GCS", anonymous=True))
    with pytest.raises(storage.StorageConfigError, match=r"pipeline\.source\.config\.anonymous"):
        storage.s3_settings_for_config(cfg)


# --- GCS -----------------------------------------------------------------------------------------


def test_gcs_datastore_to_gcs_archive_with_time_range(gcs, tmp_path, local_rows):
    gcs.create_bucket("ledgers")
    gcs.create_bucket("archive")
    assert gcs.upload_tree(datastore(P19), "ledgers", "stores/testnet") == 6
    cfg = _use_time_range(_bucket_job("gs://ledgers/stores/testnet", "archive", "GCS"))

    t0 = time.monotonic()
    assert run_job(cfg, tmp_path) == 0
    # Beam's ADC lookup retries for ~30 s without credentials; the emulator path must skip it.
    assert time.monotonic() - t0 < 20

    _check_archive(gcs.keys("archive"), lambda p, d: gcs.download("archive", p, d), tmp_path, local_rows)


def test_gcs_emulator_credentials_only_while_the_emulator_is_set(gcs, monkeypatch):
    from apache_beam.internal.gcp import auth

    storage.prepare("gs://bucket/x")
    assert auth._Credentials._credentials_init and auth._Credentials._credentials is None
    monkeypatch.delenv(storage.EMULATOR_ENV)
    storage.prepare("gs://bucket/x")
    assert not auth._Credentials._credentials_init  # production: Beam looks up ADC itself again
    monkeypatch.setenv(storage.EMULATOR_ENV, gcs.endpoint)


def test_missing_gcs_datastore_names_the_manifest(gcs, tmp_path, capsys):
    gcs.create_bucket("empty")
    cfg = _bucket_job("gs://empty/nothing", "empty", "GCS")
    assert run_job(cfg, tmp_path) in (1, 2)
    assert "gs://empty/nothing/.config.json" in capsys.readouterr().err


def test_unknown_scheme_is_refused():
    with pytest.raises(storage.StorageConfigError, match="unsupported URL scheme 'ftp'"):
        storage.prepare("ftp://host/x")
    with pytest.raises(ConfigError):
        parse_config(_bucket_job("s3://a/b", "s3://not-a-bucket-name", "S3"))
