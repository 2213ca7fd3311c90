"""trades, assets and account_signers while following the chain (RPC tail with an end ledger).

The tail of testnet-p19-lpf64 stays within one hour, so the per-window asset dedupe of a streaming
run must give exactly the batch run's rows; trades and signer rows must be the batch run's too.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

from beam_pipeline.config import parse_config
from beam_pipeline.pipeline import build_pipeline
from beam_pipeline.sinks.manifest import RunInfo
from tests.harness import datastore, job_config, read_table, run_job
from tests.streaming._ledgers import FIRST, LAST, STORE
from tests.streaming.test_tail_end_to_end import tail_config

pytestmark = pytest.mark.timeout(300)

TABLES = {"trades": ("history_operation_id", "order"), "assets": ("asset_id",),
          "account_signers": ("ledger_sequence", "account_id", "signer")}


def test_tail_writes_the_new_tables_as_the_batch_run_does(fake_rpc, tmp_path):
    server = fake_rpc(STORE)
    end = LAST  # the store's two order-book trades are in ledgers 1410241-1410242
    tail_out, batch_out = tmp_path / "tail", tmp_path / "batch"
    cfg = tail_config(server.url, tail_out, FIRST, end)
    cfg["pipeline"]["processors"] = [{"type": t} for t in TABLES]
    assert run_job(cfg, tmp_path) == 0
    batch = job_config(datastore(STORE), FIRST, end, batch_out, list(TABLES), partition_by="hour")
    assert run_job(batch, tmp_path) == 0
    for table, key in TABLES.items():
        streamed = sorted(read_table(tail_out, table).to_pylist(), key=lambda r: tuple(r[k] for k in key))
        batched = sorted(read_table(batch_out, table).to_pylist(), key=lambda r: tuple(r[k] for k in key))
        assert streamed == batched and batched, table
    ids = read_table(tail_out, "assets").column("asset_id").to_pylist()
    assert len(ids) == len(set(ids))


def test_the_asset_dedupe_translates_for_dataflow_streaming(fake_rpc, tmp_path):
    """Runner: DataflowRunner with --dry_run=True, as tests/streaming/test_dataflow_graph.py does."""
    server = fake_rpc(STORE)
    cfg = parse_config({
        "pipeline": {
            "name": "tail",
            "source": {"type": "rpc", "config": {"rpc_url": server.url, "start_ledger": FIRST, "network": "testnet"}},
            "processors": [{"type": "ledgers"}, {"type": "assets"}],
            "consumers": [{"type": "SaveToParquet", "config": {
                "storage_type": "GCS", "bucket_name": "fake-bucket", "partition_by": "hour",
                "rotation_interval_minutes": 5, "allowed_lateness_minutes": 10}}],
        }
    })
    options = PipelineOptions([
        "--project=fake-project", "--region=us-central1", "--temp_location=gs://fake-bucket/tmp",
        "--dry_run=True", "--sdk_location=container",
    ])
    runner = DataflowRunner()
    p = beam.Pipeline(runner=runner, options=options)
    run = RunInfo("r20240101T000000000000Z0000", "tail", "2024-01-01T00:00:00Z", FIRST, None, "", "DataflowRunner",
                  "", "", cfg.processors, "gs://fake-bucket")
    build_pipeline(p, cfg, run, 0)
    result = p.run()
    names = {t.unique_name for t in runner.proto_pipeline.components.transforms.values()}
    for label in ("DedupeRunWide/WindowByPartition", "DedupeRunWide/FirstMention", "DedupeRunWide/Merge",
                  "WindowByCloseTime", "WriteParquet/CommitPane"):
        assert label in names
    assert result.job.proto.type.name == "JOB_TYPE_STREAMING"
