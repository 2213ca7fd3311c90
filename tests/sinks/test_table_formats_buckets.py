"""Delta and Iceberg archives on object stores, reached with the job's own storage settings.

moto's S3 server and gcp-storage-emulator on 127.0.0.1. The job names its bucket's endpoint and
region the way it does for Parquet (the sink's ``endpoint``/``region``; Beam's ``--s3_*`` flags for
``verify``); credentials come from the standard AWS chain, as for Beam's client. No ``AWS_ENDPOINT_URL``
or other variable tells delta-rs or pyiceberg where the store is: `table_formats.stores` derives
their settings. A first run (ledgers 2-40) and an overlapping rerun (20-65) must read back exactly as
the archive's Parquet files, read from the bucket by the format's own reader (delta-rs, pyiceberg)
given the store's settings independently of our code; the rerun must be one Delta commit with
removes and adds, one Iceberg overwrite snapshot; ``verify`` must find the log and the files equal.

On GCS the job reaches gcp-storage-emulator through STORAGE_EMULATOR_HOST, as Beam's client does.
Iceberg reads back exact there; Delta cannot run against the emulator (it lacks the XML listing
delta-rs uses), which a test pins with the exact error.

Iceberg needs a catalog outside an object-store archive: a named pyiceberg SQL catalog (SQLite on
local disk), configured the way a user does, through ``PYICEBERG_CATALOG__*`` variables.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from beam_pipeline import query
from beam_pipeline.sinks.table_formats import stores
from beam_pipeline.util import secrets, storage
from beam_pipeline.util.storage import StorageOptions
from tests.fakes.gcs_server import GcsServer, running_gcs_server_process
from tests.fakes.s3_server import FAKE_CREDENTIALS
from tests.harness import job_config, run_captured, verify_archive
from tests.sinks.test_table_formats import KEYS, LPF, PARTITION_COLUMNS, TABLES
from tests.sources.test_buckets import gcs, s3  # noqa: F401 - fixtures, used by name

pytest.importorskip("deltalake")
pytest.importorskip("pyiceberg")
pytestmark = pytest.mark.timeout(300)

CATALOG = "jobcat"
SCHEME = "ledger_day"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    from beam_pipeline.sample import write_sample_datastore

    path = tmp_path_factory.mktemp("tfbuckets") / "store"
    write_sample_datastore(str(path))
    return str(path)


@pytest.fixture
def catalog_env(tmp_path, monkeypatch) -> str:
    """A named SQL catalog in pyiceberg's environment configuration (read when pyiceberg is imported: re-read)."""
    import pyiceberg.catalog
    from pyiceberg.utils.config import Config

    monkeypatch.setenv(f"PYICEBERG_CATALOG__{CATALOG.upper()}__TYPE", "sql")
    monkeypatch.setenv(f"PYICEBERG_CATALOG__{CATALOG.upper()}__URI", f"sqlite:///{tmp_path / 'catalog.db'}")
    monkeypatch.setattr(pyiceberg.catalog, "_ENV_CONFIG", Config())
    return CATALOG


@pytest.fixture
def gcs_process(monkeypatch, shared_ledgers) -> Iterator[GcsServer]:
    """gcp-storage-emulator in a child process (see `running_gcs_server_process`)."""
    with running_gcs_server_process() as server:
        monkeypatch.setenv(storage.EMULATOR_ENV, server.endpoint)
        logging.getLogger("gcp_storage_emulator").setLevel(logging.WARNING)
        yield server
    monkeypatch.delenv(storage.EMULATOR_ENV)
    storage.prepare("gs://x")  # forget the anonymous credentials we gave Beam for the emulator


def _config(store: str, tmp_path: Path, start: int, end: int, fmt: str, storage_type: str, **sink_keys) -> dict:
    cfg = job_config(store, start, end, tmp_path, TABLES, partition_by=SCHEME, ledgers_per_file=LPF, table_format=fmt)
    sink = cfg["pipeline"]["consumers"][0]["config"]
    del sink["local_path"]
    sink.update(storage_type=storage_type, bucket_name="archive", path_prefix="v1", **sink_keys)
    if fmt == "iceberg":
        sink["iceberg_catalog"] = CATALOG
    return cfg


def _read(fmt: str, url: str, table: str, options: dict[str, str]) -> pa.Table:
    """The table read from the bucket by the format's own reader, given the store's settings by the test."""
    if fmt == "delta":
        from deltalake import DeltaTable

        return DeltaTable(f"{url}/{table}", storage_options=options).to_pyarrow_table()
    from pyiceberg.catalog import load_catalog

    return load_catalog(CATALOG, **options).load_table(("stellar", table)).scan().to_arrow()


def _assert_reads_as_archive(fmt: str, url: str, local: Path, options: dict[str, str], ledgers: int) -> None:
    """Every table as the format reads it from the bucket equals the archive's files (a downloaded copy)."""
    archive = query.connect(str(local))
    for table in TABLES:
        got = _read(fmt, url, table, options)
        data = [n for n in got.column_names if n not in PARTITION_COLUMNS[SCHEME]]
        columns = data + (PARTITION_COLUMNS[SCHEME] if fmt == "delta" else [])
        select = ", ".join(f'"{c}"' for c in columns)
        con = duckdb.connect()
        con.register("got", got)
        want = sorted(archive.sql(f'SELECT {select} FROM "{table}"').fetchall(), key=repr)
        assert sorted(con.sql(f"SELECT {select} FROM got").fetchall(), key=repr) == want, (fmt, table)
        n, distinct = con.sql(f'SELECT count(*), count(DISTINCT "{KEYS[table]}") FROM got').fetchall()[0]
        assert n == distinct, (table, n, distinct)
        if table == "ledgers":
            assert n == ledgers
            assert sorted(got.column("sequence").to_pylist()) == list(range(2, 2 + ledgers))


def _two_runs(fmt, storage_type, server, store, tmp_path, capsys, options, verify_flags=(), **sink_keys) -> Path:
    """Runs 2-40 then 20-65 into s3/gs://archive/v1; each run's tables read back exact. Returns the downloaded copy."""
    url = f"{'s3' if storage_type == 'S3' else 'gs'}://archive/v1"
    server.create_bucket("archive")
    for n, (start, end) in enumerate(((2, 40), (20, 65))):
        code, out, err = run_captured(capsys, _config(store, tmp_path, start, end, fmt, storage_type, **sink_keys),
                                      tmp_path)
        assert code == 0, err
        local = tmp_path / f"downloaded{n}"
        server.download("archive", "v1/", local)
        _assert_reads_as_archive(fmt, url, local, options, ledgers=39 if n == 0 else 64)
    rerun = sorted(p.name for p in (local / "_manifests").iterdir())[-1].removesuffix(".json")
    if fmt == "delta":
        log = sorted((local / "transactions" / "_delta_log").glob("*.json"))
        assert len(log) == 2, log  # created by the first run, one commit by the rerun
        actions = [json.loads(line) for line in log[1].read_text().splitlines() if line.strip()]
        assert {"remove", "add"} <= {next(iter(a)) for a in actions}
        assert next(a["commitInfo"] for a in actions if "commitInfo" in a)["stellar.run_id"] == rerun
    else:
        from pyiceberg.catalog import load_catalog

        table = load_catalog(CATALOG, **options).load_table(("stellar", "transactions"))
        assert table.location() == f"{url}/transactions"
        assert table.current_snapshot().summary.operation.value == "overwrite"
        assert table.current_snapshot().summary["stellar.run_id"] == rerun
        assert len(table.snapshots()) == 2
        assert not [p for p in local.rglob("*") if p.is_file() and "/_iceberg/" not in p.as_posix()
                    and p.suffix in (".avro", ".metadata.json")]  # metadata only below _iceberg/
    code, out = verify_archive(capsys, "--path", url, "--manifests", *verify_flags)
    assert code == 0, out
    assert "does not exist" not in out and "cannot be read" not in out, out
    return local


@pytest.mark.parametrize("fmt", ["delta", "iceberg"])
def test_a_table_format_on_s3_uses_the_jobs_endpoint_and_reads_back_exact_after_a_rerun(
        fmt, s3, store, tmp_path, capsys, monkeypatch, catalog_env):  # noqa: F811 - the fixture
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ALLOW_HTTP", raising=False)
    creds = {"aws_access_key_id": FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
             "aws_secret_access_key": FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}
    if fmt == "delta":
        options = {"aws_endpoint": s3.endpoint, "aws_region": "us-east-1", "aws_allow_http": "true", **creds}
    else:
        options = {"s3.endpoint": s3.endpoint, "s3.region": "us-east-1",
                   **{f"s3.{k.removeprefix('aws_').replace('_', '-')}": v for k, v in creds.items()}}
    before = len(s3.requests)
    _two_runs(fmt, "S3", s3, store, tmp_path, capsys, options,
              verify_flags=(f"--s3_endpoint_url={s3.endpoint}", "--s3_region_name=us-east-1"),
              endpoint=s3.endpoint, region="us-east-1")
    log = [r.path for r in s3.requests[before:]]
    marker = "/_delta_log/" if fmt == "delta" else "/_iceberg/"
    assert any(marker in p for p in log)  # the table format's log went to this endpoint


def test_s3_settings_from_beams_flags_reach_both_libraries_and_stay_secret(monkeypatch):
    """Flags Beam's S3 filesystem takes (endpoint, region, keys, no SSL) become delta-rs' and pyiceberg's
    settings; the keys are registered as secrets, so no log line or message shows them."""
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    key, secret = "AKIAFLAGKEY123", "flag-secret-value-456"
    monkeypatch.setattr(FileSystems, "_pipeline_options", PipelineOptions([
        "--s3_endpoint_url=https://minio.example:9000", "--s3_region_name=eu-west-3", f"--s3_access_key_id={key}",
        f"--s3_secret_access_key={secret}", "--s3_disable_ssl"]))
    assert stores.delta_storage_options("s3://bucket/v1") == {
        "aws_endpoint": "https://minio.example:9000", "aws_region": "eu-west-3", "aws_access_key_id": key,
        "aws_secret_access_key": secret, "aws_allow_http": "true"}
    assert stores.iceberg_properties("s3://bucket/v1") == {
        "s3.endpoint": "https://minio.example:9000", "s3.region": "eu-west-3", "s3.access-key-id": key,
        "s3.secret-access-key": secret}
    assert key not in secrets.redact(f"failed with {key} {secret}") and secret not in secrets.redact(secret)
    assert secret not in repr(stores.access("s3://bucket/v1"))
    # The config's per-bucket settings (the sink's endpoint, a public source) win over the flags for their bucket.
    options = PipelineOptions([f"--s3_access_key_id={key}", f"--s3_secret_access_key={secret}"])
    options.view_as(StorageOptions).s3_bucket_settings = (
        json.dumps({"lake": {"endpoint_url": "http://127.0.0.1:9", "region": "ap-south-1", "path_style": True,
                             "anonymous": True}}))
    monkeypatch.setattr(FileSystems, "_pipeline_options", options)
    assert stores.delta_storage_options("s3://lake/x") == {
        "aws_endpoint": "http://127.0.0.1:9", "aws_region": "ap-south-1", "aws_allow_http": "true",
        "aws_skip_signature": "true"}
    assert stores.iceberg_properties("s3://lake/x") == {
        "s3.endpoint": "http://127.0.0.1:9", "s3.region": "ap-south-1", "s3.anonymous": "true"}
    assert stores.delta_storage_options("/local/archive") == {} == stores.iceberg_properties("/local/archive")



def test_delta_on_the_gcs_emulator_stops_at_its_missing_xml_listing(gcs, store, tmp_path, capsys):  # noqa: F811
    """gcp-storage-emulator implements GCS' JSON API only; delta-rs (Rust's object_store) lists a Delta log
    through the XML API (``GET /BUCKET?list-type=2``), which the emulator answers with 501. The request goes
    to the emulator the job uses (STORAGE_EMULATOR_HOST, turned into object_store's settings by stores.py),
    and the run fails naming the cause in one line, with the Parquet commit left for the next run to complete.
    Delta on GCS is therefore untested here (docs/table_formats.md)."""
    gcs.create_bucket("archive")
    code, _, err = run_captured(capsys, _config(store, tmp_path, 2, 40, "delta", "GCS"), tmp_path)
    assert code == 1
    line = next(x for x in err.splitlines() if x.startswith("error: run "))
    assert f"GET {gcs.endpoint}/archive?list-type=2&prefix=v1%2F" in line and "501 Not Implemented" in line, err
    assert "the next run completes the commit" in line
    assert [k for k in gcs.keys("archive", "v1/_commits/")], "the journal stays for the next run"



def test_iceberg_on_gcs_uses_the_jobs_emulator_and_reads_back_exact_after_a_rerun(
        gcs_process, store, tmp_path, capsys, catalog_env):
    """The job reaches the emulator through STORAGE_EMULATOR_HOST, as Beam's client does; pyiceberg gets it
    from stores.py. Read back here with the emulator given explicitly."""
    options = {"gcs.service.host": gcs_process.endpoint, "gcs.oauth2.token": "emulator",
               "gcs.oauth2.token-expires-at": str(2**41)}
    _two_runs("iceberg", "GCS", gcs_process, store, tmp_path, capsys, options)
