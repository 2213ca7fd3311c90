"""Every file in config/examples/ loads through beam_pipeline.config; the local one runs end to end.

The list is the directory listing, so a new example is tested without touching this file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from beam_pipeline.cli import main
from beam_pipeline.config import DatastoreSourceConfig, load_config
from tests.harness import REPO, manifests, read_table

EXAMPLES = sorted((REPO / "config" / "examples").glob("*.y*ml"))


def test_the_examples_directory_holds_the_documented_examples():
    names = {p.name for p in EXAMPLES}
    assert {
        "parquet-archival-local.yaml", "parquet-archival-gcs.yaml", "parquet-archival-s3.yaml",
        "parquet-test-dryrun.yaml", "aws-public-lake.yaml", "contract-data-gcs.yaml", "contract-events-hourly.yaml",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_loads(path: Path, monkeypatch):
    for var in ("SOURCE_BUCKET", "ARCHIVE_BUCKET", "START_LEDGER", "END_LEDGER", "START_TIME", "END_TIME"):
        monkeypatch.delenv(var, raising=False)  # the defaults written in the file are what is tested
    cfg = load_config(str(path))
    assert cfg.processors and cfg.consumers


def test_examples_say_what_they_promise():
    by_name = {p.name: load_config(str(p)) for p in EXAMPLES}
    gcs = by_name["parquet-archival-gcs.yaml"]
    assert gcs.source.path.startswith("gs://") and gcs.sink.partition_by == "ledger_range"
    s3 = by_name["parquet-archival-s3.yaml"]
    assert s3.sink.storage_type == "S3" and s3.sink.partition_by == "hour"
    assert not isinstance(s3.source, DatastoreSourceConfig)
    lake = by_name["aws-public-lake.yaml"]
    assert lake.source.path.startswith("s3://aws-public-blockchain/") and lake.source.anonymous
    assert lake.source.start_time is not None and lake.source.end_time is not None
    cd = by_name["contract-data-gcs.yaml"]
    assert cd.processors == ("contract_data",) and cd.sink.storage_type == "GCS"
    assert (cd.sink.partition_by, cd.sink.compression, cd.sink.max_file_size_mb) == ("ledger_day", "snappy", 256)
    assert by_name["contract-events-hourly.yaml"].sink.partition_by == "hour"
    dry = by_name["parquet-test-dryrun.yaml"].sink
    assert dry.dry_run and dry.debug and dry.buffer_size <= 1000


def test_local_example_runs_end_to_end(tmp_path, monkeypatch, shared_ledgers):
    monkeypatch.chdir(REPO)  # the example names ../shared/ledgers relative to the repository
    monkeypatch.delenv("LEDGERS_DIR", raising=False)
    out = tmp_path / "archive"
    code = main([
        "run", "--config", "config/examples/parquet-archival-local.yaml",
        "--start_ledger", "1410048", "--end_ledger", "1410070", "--output_path", str(out),
    ])
    assert code == 0
    ledgers = read_table(out, "ledgers")
    assert sorted(ledgers.column("sequence").to_pylist()) == list(range(1410048, 1410071))
    assert read_table(out, "transactions").num_rows > 0
    assert list(out.glob("ledgers/year=2022/month=06/day=10/*.parquet"))
    (manifest,) = manifests(out)
    assert manifest["ledger_range"] == {"start": 1410048, "end": 1410070}
