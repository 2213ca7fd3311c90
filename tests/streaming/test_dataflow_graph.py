"""The endless tail as Dataflow sees it, offline: translated, unbounded, inferred streaming.

DataflowRunner with ``--dry_run=True`` builds the job (the runner API proto and the Dataflow job
request) and returns without contacting the service, so a fake project, region and temp location do.
"""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.portability.api import beam_runner_api_pb2
from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

from beam_pipeline.config import parse_config
from beam_pipeline.pipeline import build_pipeline
from beam_pipeline.sinks.manifest import RunInfo
from tests.streaming._ledgers import FIRST, STORE

pytestmark = pytest.mark.timeout(120)

SDF_URN = "beam:transform:sdf_process_sized_element_and_restrictions:v1"


def _config(url: str, out: str):
    return parse_config({
        "pipeline": {
            "name": "tail",
            "source": {"type": "rpc", "config": {"rpc_url": url, "start_ledger": FIRST, "network": "testnet"}},
            "processors": [{"type": "ledgers"}, {"type": "transactions"}],
            "consumers": [{"type": "SaveToParquet", "config": {
                "storage_type": "GCS", "bucket_name": "fake-bucket", "partition_by": "hour",
                "rotation_interval_minutes": 5, "allowed_lateness_minutes": 10}}],
        }
    })


def test_endless_tail_translates_for_dataflow_as_a_streaming_job(fake_rpc, tmp_path):
    """Runner: DataflowRunner with --dry_run=True (no network). No --streaming flag is given: the
    runner infers streaming from the unbounded tail output."""
    server = fake_rpc(STORE)
    cfg = _config(server.url, str(tmp_path))
    assert cfg.streaming and cfg.source.end_ledger is None
    options = PipelineOptions([
        "--project=fake-project", "--region=us-central1", "--temp_location=gs://fake-bucket/tmp",
        "--dry_run=True", "--sdk_location=container",
    ])
    runner = DataflowRunner()
    p = beam.Pipeline(runner=runner, options=options)
    run = RunInfo("r20240101T000000000000Z0000", "tail", "2024-01-01T00:00:00Z", FIRST, None, "", "DataflowRunner",
                  "", "", cfg.processors, "gs://fake-bucket")
    built = build_pipeline(p, cfg, run, 0)
    assert "following the chain" in built.run.source
    result = p.run()
    proto = runner.proto_pipeline
    transforms = proto.components.transforms
    sdf = [t for t in transforms.values() if t.spec.urn == SDF_URN or "FollowLedgers" in t.unique_name]
    assert any("ReadLedgers/FollowLedgers" in t.unique_name for t in sdf)
    follow_out = [
        proto.components.pcollections[pc]
        for t in transforms.values() if t.unique_name == "ReadLedgers/FollowLedgers"
        for pc in t.outputs.values()
    ]
    assert follow_out and all(pc.is_bounded == beam_runner_api_pb2.IsBounded.UNBOUNDED for pc in follow_out)
    # Stable labels of the stations (what --update matches on).
    names = {t.unique_name for t in transforms.values()}
    for label in ("ReadLedgers", "LedgersToRows", "WindowByCloseTime", "WriteParquet/GroupByPartition",
                  "WriteParquet/CommitPane", "FinalizeRun"):
        assert label in names
    # The job request carries the streaming type, inferred by the runner (no --streaming was given).
    assert not options.view_as(StandardOptions).streaming
    assert result.job.proto.type.name == "JOB_TYPE_STREAMING"
