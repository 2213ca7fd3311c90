"""The Dataflow flex template: its metadata, its image, and its entry point, checked offline.

What can go wrong with a template only shows at launch time on Google's side (a parameter the
pipeline does not know, a regex that rejects good input, an image whose Beam differs from the one
the graph was built with, a launch that crashes after writing the job). These tests catch each of
those here: parameters go through the real option parser, the Dockerfile and requirements are
compared with setup.py, ``main.py`` archives ledgers from a config stored in a (emulated) bucket, and
DataflowRunner translates the whole graph with ``--dry_run`` against the same ``main.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys

import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_runner_api_pb2
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from beam_pipeline.options import ArchiveOptions
from beam_pipeline.sinks.filesets import file_name, new_run_id, parse_file_name
from tests.fakes.gcs_server import running_gcs_server
from tests.harness import REPO, datastore, job_config, parquet_files, read_table, write_config

pytestmark = pytest.mark.timeout(240)  # a hung job or service fails the test instead of the suite

FLEX = REPO / "templates" / "flex"
START, END = 1410048, 1410100  # testnet-p19-lpf64: 53 ledgers in the first object
IMAGE = "us-central1-docker.pkg.dev/test-project/stellar/stellar-archive:test"

# For every template parameter: a value a user would type, the value ArchiveOptions must hold after
# parsing it, and an obviously wrong value each regex must refuse. A parameter added to
# metadata.json without a row here fails `test_parameter_round_trip`.
SAMPLES = {
    "config": ("gs://stellar-configs/jobs/pubnet.yaml", "gs://stellar-configs/jobs/pubnet.yaml", "/home/me/job.yaml"),
    "pipeline": ("ContractDataToGCS", "ContractDataToGCS", "two words"),
    "start_ledger": ("56065483", 56065483, "-5"),
    "end_ledger": ("56069999", 56069999, "12abc"),
    "start_time": ("2025-03-09T00:00:00Z", "2025-03-09T00:00:00Z", "2025-03-09 00:00"),
    "end_time": ("2025-03-10T01:02:03.5+02:00", "2025-03-10T01:02:03.5+02:00", "yesterday"),
    "output_path": ("gs://stellar-archive/pubnet", "gs://stellar-archive/pubnet", "ftp://host/archive"),
    "run_id": ("r20250309T005637000000Z00ab", "r20250309T005637000000Z00ab", "my run"),
}


# DataflowRunner builds the whole job offline with these: fake project and bucket, no credentials.
DATAFLOW_DRY_RUN = (
    "--runner=DataflowRunner",
    "--project=test-project",
    "--region=us-central1",
    "--temp_location=gs://test-bucket/tmp",
    "--no_auth",
    "--dry_run=True",
)


@pytest.fixture(autouse=True)
def no_default_staging_bucket(monkeypatch):
    """DataflowRunner falls back to creating a default bucket (over the network, with a 120 s timeout)
    when it rejects the given locations; fail at once instead, naming the cause."""
    from apache_beam.io.gcp import gcsio

    def refuse(options):
        raise AssertionError("DataflowRunner tried to reach GCS for a default staging bucket")

    monkeypatch.setattr(gcsio, "get_or_create_default_gcs_bucket", refuse)


@pytest.fixture(scope="module")
def metadata() -> dict:
    return json.loads((FLEX / "metadata.json").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (FLEX / "Dockerfile").read_text()


def beam_version_of_setup_py() -> str:
    m = re.search(r'^BEAM_VERSION = "([^"]+)"', (REPO / "setup.py").read_text(), re.M)
    assert m, "setup.py must pin BEAM_VERSION"
    return m[1]


def load_main():
    """templates/flex/main.py as a module (it is a script in the image, not part of the package)."""
    spec = importlib.util.spec_from_file_location("flex_template_main", FLEX / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def archive_option_dests() -> set[str]:
    parser = argparse.ArgumentParser()
    ArchiveOptions._add_argparse_args(parser)
    return {a.dest for a in parser._actions if a.dest != "help"}


# --- metadata.json -------------------------------------------------------------------------------


def test_metadata_has_the_fields_dataflow_reads(metadata):
    assert metadata["name"] and metadata["description"]
    names = [p["name"] for p in metadata["parameters"]]
    assert len(names) == len(set(names)), names
    for p in metadata["parameters"]:
        assert set(p) >= {"name", "label", "helpText", "isOptional", "regexes"}, p["name"]
        assert isinstance(p["isOptional"], bool) and p["label"] and p["helpText"], p["name"]
        assert p["regexes"] and all(re.compile(r) for r in p["regexes"]), p["name"]


def test_every_pipeline_option_is_declared_and_config_is_required(metadata):
    declared = {p["name"]: p for p in metadata["parameters"]}
    assert archive_option_dests() <= set(declared), archive_option_dests() - set(declared)
    assert declared["config"]["isOptional"] is False
    assert all(p["isOptional"] for name, p in declared.items() if name != "config")


@pytest.mark.parametrize("name", list(SAMPLES))
def test_parameter_round_trip(metadata, name):
    """The launcher passes ``--name=value``; ArchiveOptions must take it, and the regex must gate it."""
    param = next((p for p in metadata["parameters"] if p["name"] == name), None)
    assert param is not None, f"{name} is not declared in metadata.json"
    good, parsed, bad = SAMPLES[name]
    for regex in param["regexes"]:
        assert re.fullmatch(regex, good), (name, regex, good)
        assert not re.fullmatch(regex, bad), (name, regex, bad)
    options = PipelineOptions([f"--{name}={good}"]).view_as(ArchiveOptions)
    assert getattr(options, name) == parsed


def test_every_declared_parameter_has_a_sample(metadata):
    assert {p["name"] for p in metadata["parameters"]} == set(SAMPLES)


def test_run_id_regex_accepts_exactly_ids_the_sink_can_parse(metadata):
    """A run id the file-name parser rejects would make reruns blind to that run's files."""
    (regex,) = next(p for p in metadata["parameters"] if p["name"] == "run_id")["regexes"]
    for run_id in (new_run_id(), SAMPLES["run_id"][0]):
        assert re.fullmatch(regex, run_id)
        parsed = parse_file_name(file_name("ledgers", (START, END), run_id, 0, 0))
        assert parsed is not None and parsed.run_id == run_id
    assert parse_file_name(file_name("ledgers", (START, END), "manual-run", 0, 0)) is None
    assert not re.fullmatch(regex, "manual-run")


# --- Dockerfile and requirements ---------------------------------------------------------------------


def test_beam_sdk_image_is_the_pinned_beam_version(dockerfile):
    tags = re.findall(r"^FROM\s+apache/beam_python(\d+\.\d+)_sdk:(\S+)", dockerfile, re.M)
    assert len(tags) == 1, tags
    assert tags[0][1] == beam_version_of_setup_py()


def test_one_python_version_across_the_three_images(dockerfile):
    (sdk_python,) = re.findall(r"^FROM\s+apache/beam_python(\d+\.\d+)_sdk:", dockerfile, re.M)
    (launcher,) = re.findall(
        r"^FROM\s+gcr\.io/dataflow-templates-base/python(\d+)-template-launcher-base", dockerfile, re.M
    )
    # The final image and the native core's builder stage share the base, hence one version.
    (base,) = set(re.findall(r"^FROM\s+python:(\d+\.\d+)[-\s]", dockerfile, re.M))
    assert sdk_python == base == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert launcher == base.replace(".", "")


def test_image_is_launcher_and_worker(dockerfile):
    assert re.search(r"COPY --from=\S+ /opt/apache/beam /opt/apache/beam", dockerfile)
    assert re.search(r"COPY --from=\S+ /opt/google/dataflow/python_template_launcher ", dockerfile)
    assert re.search(r'^ENTRYPOINT \["/opt/apache/beam/boot"\]\s*$', dockerfile, re.M)
    workdir = re.search(r"^ARG WORKDIR=(\S+)", dockerfile, re.M)[1]
    py_file = re.search(r'^ENV FLEX_TEMPLATE_PYTHON_PY_FILE="([^"]+)"', dockerfile, re.M)[1]
    copied = {
        dst.replace("${WORKDIR}", workdir): src for src, dst in re.findall(r"^COPY (\S+) (\S+)$", dockerfile, re.M)
    }
    assert copied.get(py_file.replace("${WORKDIR}", workdir)) == "templates/flex/main.py"
    for src in copied.values():  # the build context is the repository root
        assert (REPO / src).exists(), src


def test_requirements_pin_beam_and_satisfy_setup_py():
    pins = {}
    for line in (FLEX / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"unpinned requirement {line!r}"
            assert canonicalize_name(name) not in pins, f"{name} pinned twice"
            pins[canonicalize_name(name)] = version
    assert pins["apache-beam"] == beam_version_of_setup_py()
    requires = importlib.metadata.distribution("stellar-beam-archive").requires or []
    direct = [Requirement(r) for r in requires if "extra ==" not in r]
    assert {canonicalize_name(r.name) for r in direct} >= {"apache-beam", "stellar-sdk", "pyarrow", "zstandard"}
    for req in direct:
        assert req.specifier.contains(pins[canonicalize_name(req.name)], prereleases=True), (str(req), pins)


# --- the entry point -----------------------------------------------------------------------------------


def test_main_archives_from_a_config_in_a_bucket(tmp_path, shared_ledgers):
    """Runs main.py as the launcher does (a script with --name=value arguments), config on GCS (emulated).

    The config's own range and output directory are overridden by the template parameters, so the
    rows prove that start_ledger, end_ledger and output_path reached the job.
    """
    decoy = tmp_path / "config-sink"
    out = tmp_path / "archive"
    cfg = job_config(datastore("testnet-p19-lpf64"), START, START + 200, decoy, tables=["ledgers", "transactions"])
    local = write_config(cfg, tmp_path)
    with running_gcs_server() as gcs:
        gcs.create_bucket("stellar-configs")
        gcs.client().bucket("stellar-configs").blob("jobs/testnet.yaml").upload_from_filename(local)
        env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs.endpoint}
        args = [
            "--config=gs://stellar-configs/jobs/testnet.yaml",
            f"--start_ledger={START}",
            f"--end_ledger={END}",
            f"--output_path={out}",
        ]
        proc = subprocess.run(
            [sys.executable, str(FLEX / "main.py"), *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"ledgers {START}-{END}: {END - START + 1} archived" in proc.stdout
    ledgers = read_table(out, "ledgers")
    assert sorted(ledgers["sequence"].to_pylist()) == list(range(START, END + 1))
    assert read_table(out, "transactions").num_rows > 0
    assert not decoy.exists()


def test_dataflow_dry_run_translates_the_graph_offline(tmp_path, shared_ledgers, monkeypatch, capsys):
    """DataflowRunner builds the whole Dataflow job without submitting it (no network, no credentials).

    This is the launch path of the template minus the upload: the graph must translate, every
    environment must be the template image, and main.py must return 0 without waiting for the job
    or asking it for metrics (Google's launcher requires the program to exit once the job is handed over).
    """
    from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

    translated = {}
    real_run_pipeline = DataflowRunner.run_pipeline

    def recording_run_pipeline(self, pipeline, options, pipeline_proto=None):
        result = real_run_pipeline(self, pipeline, options, pipeline_proto)
        translated.update(runner=self, result=result)
        return result

    monkeypatch.setattr(DataflowRunner, "run_pipeline", recording_run_pipeline)
    out = tmp_path / "archive"
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, out, tables=["ledgers", "transactions"])
    code = load_main().run(
        [
            "--config",
            write_config(cfg, tmp_path),
            *DATAFLOW_DRY_RUN,
            "--job_name=stellar-archive-dry-run",
            f"--sdk_container_image={IMAGE}",
        ]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    assert "not waiting for it here" in capsys.readouterr().out
    proto = translated["runner"].proto_pipeline
    top_level = {t.unique_name for t in proto.components.transforms.values() if "/" not in t.unique_name}
    assert {"ReadLedgers", "LedgersToRows", "WindowByCloseTime", "WriteParquet", "FinalizeRun"} <= top_level
    assert proto.components.environments
    for env in proto.components.environments.values():
        assert env.urn == "beam:env:docker:v1"
        assert beam_runner_api_pb2.DockerPayload.FromString(env.payload).container_image == IMAGE
    assert translated["result"].job.proto.type.name == "JOB_TYPE_BATCH"
    assert parquet_files(out) == []


def test_dataflow_launch_without_the_worker_image_is_refused(tmp_path, shared_ledgers, capsys):
    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, tmp_path / "archive", tables=["ledgers"])
    main = load_main()
    args = [
        "--config",
        write_config(cfg, tmp_path),
        *DATAFLOW_DRY_RUN,
    ]
    assert main.run(args) == 2
    assert "--sdk_container_image" in capsys.readouterr().err
    assert main.missing_worker_image(["--template_location=gs://b/t/job_object"])
    assert not main.missing_worker_image([*args, f"--sdk_container_image={IMAGE}"])
    assert not main.missing_worker_image(["--config=x.yaml"])  # local runners need no image


def test_cli_on_dataflow_reports_a_translated_job_instead_of_metrics(tmp_path, shared_ledgers, capsys):
    """``python -m beam_pipeline run`` waits, but a job that was only translated has no metrics to query.

    ``--dry_run`` returns Beam's base PipelineResult, and a launch with ``--template_location`` (how
    the flex template launcher has DataflowRunner write the job) returns a result without a job id;
    asking either for metrics raises, which would fail a launch that had succeeded.
    """
    from apache_beam.runners.dataflow.dataflow_metrics import DataflowMetrics
    from apache_beam.runners.dataflow.dataflow_runner import DataflowPipelineResult, DataflowRunner

    from beam_pipeline.cli import main
    from beam_pipeline.job import ran_here

    cfg = job_config(datastore("testnet-p19-lpf64"), START, END, tmp_path / "archive", tables=["ledgers"])
    code = main(
        [
            "run",
            "--config",
            write_config(cfg, tmp_path),
            *DATAFLOW_DRY_RUN,
            f"--sdk_container_image={IMAGE}",
        ]
    )
    assert code == 0, capsys.readouterr().err[-2000:]
    assert "not waiting for it here" in capsys.readouterr().out
    # What DataflowRunner returns after writing the job to --template_location (create_job gave no job).
    template_result = DataflowPipelineResult(None, DataflowRunner())
    template_result.metric_results = DataflowMetrics(None, template_result, None)
    assert template_result.is_in_terminal_state()  # so wait_until_finish returns at once
    with pytest.raises(ValueError, match="Job id is unknown"):
        template_result.metrics().query()
    assert not ran_here(template_result)
