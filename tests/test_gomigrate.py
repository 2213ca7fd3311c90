"""The Go pipeline's configs (cdp-pipeline-workflow's config/examples shapes) validate and run here.

config/examples/go/ holds each Go example with only paths, URLs, credentials and ranges adjusted;
the Go parts this job cannot honour are checked here to fail with an error that says what to do.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from beam_pipeline.cli import main
from beam_pipeline.config import ConfigError, DatastoreSourceConfig, RpcSourceConfig, load_config, parse_config
from beam_pipeline.consumers import DuckDBSinkConfig, PostgresSinkConfig, RedisSinkConfig, StdoutSinkConfig
from tests.harness import REPO, read_table

GO = REPO / "config" / "examples" / "go"
GO_EXAMPLES = sorted(GO.glob("*.yaml"))
ENV = ("LEDGERS_DIR", "SOURCE_BUCKET", "ARCHIVE_BUCKET", "WATCH_LIST", "REDIS_ADDRESS", "REDIS_URL", "DATABASE_URL",
       "RPC_URL", "RPC_AUTH_HEADER", "ARCHIVE_DIR", "DUCKDB_PATH")


@pytest.fixture
def repo_env(monkeypatch):
    monkeypatch.chdir(REPO)  # the examples name ../shared/ledgers and the watch list relative to the repository
    for var in ENV:
        monkeypatch.delenv(var, raising=False)


def _doc(name: str) -> dict:
    return yaml.safe_load((GO / name).read_text())


def _problems(doc: dict, pipeline: str | None = None) -> list[str]:
    with pytest.raises(ConfigError) as e:
        parse_config(doc, "go.yaml", pipeline)
    return e.value.problems


def test_every_go_example_is_here():
    assert {p.stem for p in GO_EXAMPLES} == {
        "parquet-archival-local", "parquet-archival-gcs", "parquet-archival-s3", "parquet-multi-consumer-pipeline",
        "parquet-test-dryrun", "contract_data_gcs_parquet", "contract_data_gcs_production", "rpc-batch-mode",
        "rpc-streaming-mode",
    }


@pytest.mark.parametrize("path", GO_EXAMPLES, ids=lambda p: p.name)
def test_go_example_validates(path: Path, repo_env):
    cfg = load_config(str(path))
    assert cfg.processors and cfg.sink


def test_go_examples_mean_what_they_meant(repo_env):
    by = {p.stem: load_config(str(p)) for p in GO_EXAMPLES}
    gcs = by["parquet-archival-gcs"]
    assert gcs.source.path == "gs://stellar-historical-data/ledgers/testnet"
    assert gcs.filters[0].contract_ids == ("CCW3NRDKAR242X3MSKQVFPFB23ZEEKQDGDZLK2P3LDCEIFV4AAR7VJXR",)
    assert isinstance(gcs.extra_consumers[0], RedisSinkConfig) and gcs.extra_consumers[0].ttl_seconds == 3600
    s3 = by["parquet-archival-s3"]
    assert isinstance(s3.source, RpcSourceConfig) and s3.source.poll_interval == 5.0 and s3.streaming
    (f,) = s3.filters
    assert (f.table, f.event_types) == ("contract_events", ("transfer", "mint", "burn"))
    local = by["parquet-archival-local"]
    assert local.sink.local_path == str(Path("~/Documents/data/stellar-archive").expanduser())
    assert isinstance(local.extra_consumers[0], PostgresSinkConfig)
    assert any("rotation_interval_minutes: has no effect in a batch job" in w for w in local.warnings)
    multi = by["parquet-multi-consumer-pipeline"]
    assert multi.processors == ("contract_data", "contract_events", "operations")
    (pay,) = multi.filters
    assert pay.min_amount == 1000.0 and "payment" in pay.operation_types
    assert [type(c) for c in multi.extra_consumers] == [PostgresSinkConfig, RedisSinkConfig, DuckDBSinkConfig]
    assert isinstance(by["parquet-test-dryrun"].extra_consumers[0], StdoutSinkConfig)
    prod = by["contract_data_gcs_production"]
    assert prod.name == "ContractDataArchival" and prod.extra_consumers[0].ttl_seconds == 3600
    batch = by["rpc-batch-mode"]
    assert batch.name == "BackfillPipeline" and not batch.streaming and batch.source.auth_header
    assert by["rpc-streaming-mode"].streaming


def test_what_the_go_files_do_that_this_job_cannot_is_a_clear_error(repo_env):
    doc = _doc("parquet-archival-local.yaml")
    doc["pipeline"]["source"] = {"type": "CaptiveCoreInboundAdapter", "config": {"network": "testnet"}}
    assert any("CaptiveCoreInboundAdapter is not supported" in p and "BufferedStorageSourceAdapter" in p
               for p in _problems(doc))
    for kind, advice in (("SaveToWebSocket", "SaveToRedis"), ("SaveToClickHouse", "Parquet")):
        doc = _doc("parquet-archival-s3.yaml")
        doc["pipeline"]["consumers"].append({"type": kind, "config": {"port": 8080}})
        assert any(f"{kind} is not supported" in p and advice in p for p in _problems(doc)), kind
    doc = _doc("rpc-batch-mode.yaml")
    doc["pipelines"]["BackfillPipeline"].update(processors=[], consumers=[])
    problems = _problems(doc)
    assert any("processors: expected a non-empty list" in p for p in problems)
    doc = _doc("contract_data_gcs_production.yaml")
    src = doc["pipelines"]["ContractDataArchival"]["source"]["config"]
    del src["end_ledger"]
    assert any("end_ledger: required for a data-store source, which cannot follow" in p for p in _problems(doc))
    src.update(continuous_mode=True, start_time_ago="1h")
    problems = _problems(doc)
    assert any("continuous_mode" in p and "RPCSourceAdapter" in p for p in problems)
    assert any("start_time_ago" in p for p in problems)


def test_processor_names_map_to_tables_and_unavailable_ones_say_so(repo_env):
    from beam_pipeline.records import table_names

    doc = _doc("parquet-test-dryrun.yaml")
    doc["pipeline"]["processors"] = [{"type": "TransformToAppTrade"}, {"type": "LatestLedger"}]
    assert load_cfg(doc).processors == ("trades", "ledgers")
    doc["pipeline"]["processors"] = [{"type": "StellarEffects"}]
    if "effects" in table_names():
        assert load_cfg(doc).processors == ("effects",)
    else:
        assert any("'StellarEffects' (not available yet" in p for p in _problems(doc))


def load_cfg(doc: dict):
    return parse_config(copy.deepcopy(doc), "go.yaml")


@pytest.mark.parametrize(("processor", "config", "expected"), [
    ("ContractDataProcessor", {"event_types": ["transfer"]}, "has no event topics"),
    ("LedgerReader", {"contract_addresses": ["CCW3NRDKAR242X3MSKQVFPFB23ZEEKQDGDZLK2P3LDCEIFV4AAR7VJXR"]},
     "has no contract_id column"),
    ("ContractEventProcessor", {"min_amount": "5"}, "min_amount applies to"),
    ("LedgerReader", {"account_ids": ["GA"]}, "has no account column"),
    ("ContractEventProcessor", {"contract_addresses": ["not-a-contract"]}, "is not a contract id"),
    ("ContractEventProcessor", {"watch_list": "/nonexistent/watch.json"}, "cannot read watch list"),
    ("ContractEventProcessor", {"colour": "red"}, "config.colour: unknown key"),
])
def test_a_filter_that_cannot_apply_is_a_config_error(processor, config, expected, repo_env):
    doc = _doc("parquet-test-dryrun.yaml")
    doc["pipeline"]["processors"] = [{"type": processor, "config": config}]
    assert any(expected in p for p in _problems(doc)), _problems(doc)


def test_pipelines_file_and_the_pipeline_flag(tmp_path, repo_env, capsys):
    two = {"pipelines": {
        "First": _doc("rpc-batch-mode.yaml")["pipelines"]["BackfillPipeline"],
        "Second": _doc("rpc-streaming-mode.yaml")["pipelines"]["StreamingPipeline"],
    }}
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(two))
    assert load_config(str(path), pipeline="Second").streaming
    assert load_config(str(path), pipeline="First").name == "First"
    assert main(["validate", "--config", str(path)]) == 2
    assert "several pipelines (First, Second); pick one with --pipeline NAME" in capsys.readouterr().err
    assert main(["validate", "--config", str(path), "--pipeline", "Third"]) == 2
    assert "--pipeline Third: no such pipeline (the file holds First, Second)" in capsys.readouterr().err
    assert main(["validate", "--config", str(path), "--pipeline", "First"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "First"
    # run knows the flag too (the command line refuses unknown flags): an unknown name is exit 2 before any work
    assert main(["run", "--config", str(path), "--pipeline", "Third"]) == 2


def test_env_default_when_set_but_empty_and_warnings(monkeypatch, repo_env):
    monkeypatch.setenv("ARCHIVE_DIR", "")
    cfg = load_config(str(GO / "rpc-batch-mode.yaml"))
    assert cfg.sink.local_path == "/tmp/rpc-backfill"  # as the shell's ${VAR:-default}
    doc = _doc("parquet-test-dryrun.yaml")
    doc["pipeline"]["consumers"][0]["config"]["bucket_name"] = "ignored"
    cfg = load_cfg(doc)
    assert any("bucket_name: has no effect with storage_type FS" in w for w in cfg.warnings)


def test_the_dry_run_example_runs_and_prints_json_lines(tmp_path, repo_env, monkeypatch, shared_ledgers, capfd):
    monkeypatch.setenv("ARCHIVE_DIR", str(tmp_path / "out"))
    assert main(["run", "--config", str(GO / "parquet-test-dryrun.yaml")]) == 0
    captured = capfd.readouterr()
    lines = [json.loads(ln) for ln in captured.out.splitlines() if ln.startswith('{"table"')]
    assert lines and {x["table"] for x in lines} == {"contract_data"}
    assert {x["row"]["ledger_sequence"] for x in lines} == {10048, 10049}
    assert not list((tmp_path / "out").rglob("*.parquet"))  # dry run: nothing written


def test_min_amount_and_payment_processor_keep_exactly_the_big_payments(tmp_path, repo_env, shared_ledgers):
    store = shared_ledgers / "datastores" / "mainnet-p22-56065483"

    def run(processor: dict, out: Path) -> list[dict]:
        doc = {"pipeline": {
            "name": "pay", "source": {"type": "FSBufferedStorageSourceAdapter", "config": {
                "path": str(store), "start_ledger": 56065483, "end_ledger": 56065483}},
            "processors": [processor],
            "consumers": [{"type": "SaveToParquet", "config": {"local_path": str(out)}}]}}
        cfg = tmp_path / f"{out.name}.yaml"
        cfg.write_text(yaml.safe_dump(doc))
        assert main(["run", "--config", str(cfg)]) == 0
        return read_table(out, "operations").to_pylist()

    every = run({"type": "TransformToAppOperation"}, tmp_path / "all")
    kept = run({"type": "PaymentProcessor", "config": {"min_amount": "1000.00"}}, tmp_path / "big")
    payments = ("payment", "path_payment_strict_receive", "path_payment_strict_send")
    expected = [r for r in every
                if r["type_string"] in payments and float(json.loads(r["details_json"])["amount"]) >= 1000]
    assert 0 < len(expected) < len(every)
    assert sorted(r["id"] for r in kept) == sorted(r["id"] for r in expected)
    assert {r["id"]: r for r in kept} == {r["id"]: r for r in expected}


def test_datastore_source_keys(repo_env):
    doc = _doc("parquet-archival-gcs.yaml")
    src = doc["pipeline"]["source"]
    src["type"] = "S3BufferedStorageSourceAdapter"
    del src["config"]["storage_type"]
    cfg = load_cfg(doc)
    assert isinstance(cfg.source, DatastoreSourceConfig)
    assert cfg.source.path == "s3://stellar-historical-data/ledgers/testnet"
    src["type"] = "BufferedStorageSource"
    src["config"]["storage_type"] = "FS"
    assert any("storage_type FS reads a local directory" in p for p in _problems(doc))


def test_custom_partition_function(tmp_path, repo_env, shared_ledgers):
    from tests.harness import datastore, job_config, run_job

    out = tmp_path / "out"
    cfg = job_config(datastore("testnet-p19-lpf64"), 1410048, 1410250, out, ["ledgers"],
                     partition_by="tests.partition_funcs:by_hundred")
    assert run_job(cfg, tmp_path) == 0
    dirs = sorted(p.parent.name for p in (out / "ledgers").rglob("*.parquet"))
    assert sorted(set(dirs)) == ["block=14100", "block=14101", "block=14102"]
    assert sorted(read_table(out, "ledgers").column("sequence").to_pylist()) == list(range(1410048, 1410251))
    for spec, expected in (("tests.partition_funcs:escaping", "escapes the table directory"),
                           ("tests.partition_funcs:failing", "calling it on ledger 2 failed: RuntimeError"),
                           ("tests.partition_funcs:missing", "cannot import it"),
                           ("no_such_module_xyz:f", "cannot import it")):
        doc = job_config(datastore("testnet-p19-lpf64"), 1410048, 1410050, out, ["ledgers"], partition_by=spec)
        assert any(expected in p for p in _problems(doc)), spec


def test_run_and_verify_pick_a_named_pipeline(tmp_path, repo_env, shared_ledgers, capfd):
    store = shared_ledgers / "datastores" / "testnet-p19-lpf64"

    def body(out: Path, end: int) -> dict:
        return {"source": {"type": "FSBufferedStorageSourceAdapter",
                           "config": {"path": str(store), "start_ledger": 1410048, "end_ledger": end}},
                "processors": [{"type": "LedgerReader"}],
                "consumers": [{"type": "SaveToParquet", "config": {"local_path": str(out)}}]}

    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump({"pipelines": {"Short": body(tmp_path / "short", 1410050),
                                                  "Long": body(tmp_path / "long", 1410060)}}))
    assert main(["run", "--config", str(path), "--pipeline", "Long"]) == 0
    assert not (tmp_path / "short").exists()
    assert sorted(read_table(tmp_path / "long", "ledgers").column("sequence").to_pylist()) == list(
        range(1410048, 1410061))
    capfd.readouterr()
    assert main(["verify", "--config", str(path), "--pipeline", "Long"]) == 0
    assert "ok, the archive is exact" in capfd.readouterr().out
