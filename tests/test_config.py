"""Config loading: the issue's shape works, and every bad input names the file and key path."""

from __future__ import annotations

import pytest
import yaml

from beam_pipeline.config import (
    ConfigError,
    DatastoreSourceConfig,
    RpcSourceConfig,
    describe,
    load_config,
    load_config_text,
)

ISSUE_SHAPE = """
pipeline:
  name: parquet-archival-local
  source:
    type: datastore
    config:
      path: ../shared/ledgers/datastores/testnet-p19-lpf64
      start_ledger: 1410048
      end_ledger: 1410367
      network: testnet
  processors:
    - type: ledgers
    - type: transactions
    - type: operations
  consumers:
    - type: SaveToParquet
      config:
        storage_type: FS
        local_path: /tmp/archive
        path_prefix: stellar
        partition_by: ledger_day
        ledgers_per_file: 10000
        compression: zstd
        buffer_size: 10000
        max_file_size_mb: 128
        num_shards: 1
        include_metadata: false
        schema_evolution: true
        dry_run: false
        debug: false
"""


def _doc(**sink_overrides) -> dict:
    doc = yaml.safe_load(ISSUE_SHAPE)
    doc["pipeline"]["consumers"][0]["config"].update(sink_overrides)
    return doc


def _load(doc: dict, name: str = "job.yaml"):
    return load_config_text(yaml.safe_dump(doc), name)


def _problems(doc: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        _load(doc)
    assert str(e.value).startswith("job.yaml: invalid config")
    return e.value.problems


def test_issue_shape_loads_with_every_key():
    cfg = load_config_text(ISSUE_SHAPE, "job.yaml")
    assert cfg.name == "parquet-archival-local"
    assert isinstance(cfg.source, DatastoreSourceConfig)
    assert (cfg.source.start_ledger, cfg.source.end_ledger) == (1410048, 1410367)
    assert cfg.source.network_passphrase == "Test SDF Network ; September 2015"
    assert cfg.processors == ("ledgers", "transactions", "operations")
    sink = cfg.sink
    assert sink.root == "/tmp/archive/stellar"
    assert (sink.partition_by, sink.compression, sink.ledgers_per_file, sink.buffer_size) == (
        "ledger_day", "zstd", 10000, 10000)
    assert sink.max_file_size_mb == 128.0 and isinstance(sink.max_file_size_mb, float)
    assert not cfg.streaming


def test_ints_and_floats_both_accepted_where_numbers_are_expected():
    cfg = _load(_doc(max_file_size_mb=0.5, rotation_interval_minutes=15, buffer_size=100.0))
    assert cfg.sink.max_file_size_mb == 0.5
    assert cfg.sink.rotation_interval_minutes == 15.0
    assert cfg.sink.buffer_size == 100 and isinstance(cfg.sink.buffer_size, int)


def test_fractional_value_for_an_integer_key_is_an_error():
    problems = _problems(_doc(buffer_size=10.5))
    assert problems == ["pipeline.consumers[0].config.buffer_size: expected an integer, got float 10.5"]


def test_environment_expansion(monkeypatch):
    monkeypatch.setenv("ARCHIVE_ROOT", "/data/out")
    monkeypatch.setenv("START", "1410050")
    monkeypatch.delenv("UNSET_CODEC", raising=False)
    doc = _doc(local_path="${ARCHIVE_ROOT}/x", compression="${UNSET_CODEC:-snappy}")
    doc["pipeline"]["source"]["config"]["start_ledger"] = "${START}"
    cfg = _load(doc)
    assert cfg.sink.local_path == "/data/out/x"
    assert cfg.sink.compression == "snappy"
    assert cfg.source.start_ledger == 1410050  # a whole-value reference keeps the number type


def test_unset_variable_without_default_is_an_error(monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    problems = _problems(_doc(local_path="${NOPE_NOT_SET}"))
    assert problems == [
        "pipeline.consumers[0].config.local_path: environment variable NOPE_NOT_SET is not set and has no default"
    ]


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"compression": "lzma"}, "pipeline.consumers[0].config.compression: 'lzma' is not one of"),
        ({"storage_type": "HDFS"}, "pipeline.consumers[0].config.storage_type: 'HDFS' is not one of"),
        ({"partition_by": "week"}, "pipeline.consumers[0].config.partition_by: 'week' is not one of"),
        ({"buffer_size": "big"}, "pipeline.consumers[0].config.buffer_size: expected an integer"),
        ({"dry_run": "yes"}, "pipeline.consumers[0].config.dry_run: expected true or false"),
        ({"colour": "blue"}, "pipeline.consumers[0].config.colour: unknown key"),
        ({"num_shards": 0}, "pipeline.consumers[0].config.num_shards: must be greater than 0"),
        ({"path_prefix": "../escape"}, "pipeline.consumers[0].config.path_prefix: must stay inside the root"),
        ({"path_prefix": "gs://other/bucket"}, "pipeline.consumers[0].config.path_prefix: must stay inside"),
        ({"storage_type": "GCS", "local_path": None}, "pipeline.consumers[0].config.local_path: no value given"),
    ],
)
def test_bad_sink_values_name_the_key_path(overrides, expected):
    problems = _problems(_doc(**overrides))
    assert any(p.startswith(expected) for p in problems), problems


def test_gcs_requires_bucket_name():
    doc = _doc(storage_type="GCS")
    del doc["pipeline"]["consumers"][0]["config"]["local_path"]
    assert _problems(doc) == ["pipeline.consumers[0].config.bucket_name: required when storage_type is GCS"]


def test_start_after_end_and_missing_required_keys_are_reported_together():
    doc = _doc()
    src = doc["pipeline"]["source"]["config"]
    src["start_ledger"], src["end_ledger"] = 20, 10
    del src["path"]
    doc["pipeline"]["processors"].append({"type": "no_such_table"})
    problems = _problems(doc)
    assert "pipeline.source.config.path: required key is missing" in problems
    assert "pipeline.source.config: start_ledger 20 is after end_ledger 10" not in problems  # no config built
    assert any(p.startswith("pipeline.processors[3].type: 'no_such_table' is not one of") for p in problems)
    doc["pipeline"]["source"]["config"]["path"] = "/x"
    problems = _problems(doc)
    assert "pipeline.source.config: start_ledger 20 is after end_ledger 10" in problems


def test_unknown_top_level_and_pipeline_keys():
    doc = _doc()
    doc["extra"] = 1
    doc["pipeline"]["sinks"] = []
    problems = _problems(doc)
    assert "extra: unknown top-level key (known: pipeline)" in problems
    assert any(p.startswith("pipeline.sinks: unknown key") for p in problems)


def test_yaml_syntax_error_and_unreadable_file_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("pipeline:\n  name: [unclosed\n")
    with pytest.raises(ConfigError) as e:
        load_config(str(bad))
    assert str(bad) in str(e.value) and "YAML syntax error" in str(e.value)
    with pytest.raises(ConfigError) as e:
        load_config(str(tmp_path / "missing.yaml"))
    assert "missing.yaml" in str(e.value) and "cannot read the file" in str(e.value)


def test_seed_era_source_aliases():
    doc = _doc()
    doc["pipeline"]["source"] = {
        "type": "BufferedStorageSourceAdapter",
        "config": {"bucket_name": "sdf-ledger-close-meta/ledgers/pubnet", "network": "pubnet",
                   "start_ledger": 5, "end_ledger": 9, "ledgers_per_file": 1, "files_per_partition": 64000,
                   "retry_limit": 2, "retry_wait": 3, "num_workers": 4, "buffer_size": 10},
    }
    cfg = _load(doc)
    assert cfg.source.path == "gs://sdf-ledger-close-meta/ledgers/pubnet"
    assert cfg.source.retry_wait == 3.0
    doc["pipeline"]["source"]["type"] = "S3BufferedStorageSourceAdapter"
    doc["pipeline"]["source"]["config"].update({"region": "us-east-2", "endpoint": "http://127.0.0.1:9000",
                                                "force_path_style": True})
    cfg = _load(doc)
    assert cfg.source.path.startswith("s3://sdf-ledger-close-meta/")
    assert cfg.source.force_path_style is True


def test_rpc_source_and_streaming_selection(monkeypatch):
    monkeypatch.setenv("RPC_AUTH", "Bearer sentinel-secret")
    doc = _doc()
    doc["pipeline"]["source"] = {
        "type": "RPCSourceAdapter",
        "config": {"rpc_url": "https://rpc.example", "start_ledger": 100, "auth_header": "${RPC_AUTH}",
                   "batch_size": 200},
    }
    cfg = _load(doc)
    assert isinstance(cfg.source, RpcSourceConfig)
    assert cfg.streaming  # no end ledger: tail the chain
    assert cfg.source.auth_header == "Bearer sentinel-secret"
    assert "sentinel-secret" not in repr(cfg)
    assert describe(cfg)["source"]["auth_header"] == "<redacted>"
    doc["pipeline"]["source"]["config"]["batch_size"] = 201
    assert any("batch_size: at most 200" in p for p in _problems(doc))


def test_command_line_range_override_is_validated():
    cfg = load_config_text(ISSUE_SHAPE, "job.yaml")
    assert cfg.with_range(1410100, None).source.start_ledger == 1410100
    with pytest.raises(ConfigError, match="start_ledger 1410368 is after end_ledger 1410367"):
        cfg.with_range(1410368, None)


def test_processor_aliases_and_duplicates():
    doc = _doc()
    doc["pipeline"]["processors"] = [{"type": "ContractData"}, {"type": "contract_data"}]
    assert any("listed twice" in p for p in _problems(doc))
