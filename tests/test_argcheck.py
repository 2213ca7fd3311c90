"""Every command refuses a flag nobody understands before any work: exit 2, the flag, the nearest one, usage.

Each typo case points the command at a real place it would write to (an archive root, an output file,
a datastore directory) and asserts that nothing was written there.
"""

from __future__ import annotations

import importlib.util
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_job_api_pb2, beam_job_api_pb2_grpc
from apache_beam.runners.portability.job_server import JobServer
from apache_beam.runners.portability.portable_runner import PortableRunner

from beam_pipeline import argcheck
from beam_pipeline.cli import main
from tests.harness import REPO, datastore, job_config, write_config

FLEX = REPO / "templates" / "flex"


class AuditOptions(PipelineOptions):
    """A user's own options class: Beam knows its flags once it is loaded, and so must the check."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--audit_label", help="a custom option")


class AuditDetailOptions(AuditOptions):
    """A subclass of a subclass: Beam's own walk (direct subclasses only) would miss it."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--audit_detail_level", type=int)


def exit_code(argv: list[str]) -> int:
    """The CLI's exit code, whether it returns it or exits with it (argparse style)."""
    try:
        return main(argv)
    except SystemExit as e:
        return e.code


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.fixture
def job(tmp_path, shared_ledgers) -> tuple[str, Path]:
    """A config over two real ledgers and the archive root it would write."""
    out = tmp_path / "archive"
    cfg = job_config(datastore("standalone-p23-loadtest"), 84, 85, out, tables=["ledgers"])
    return write_config(cfg, tmp_path), out


def test_run_typo_stops_before_any_work(job, capsys):
    config, out = job
    assert exit_code(["run", "--config", config, "--start_ledger", "84", "--end_ledgr", "85"]) == 2
    err = capsys.readouterr().err
    assert "unknown flag --end_ledgr (did you mean --end_ledger?)" in err
    assert "usage: python -m beam_pipeline run" in err and "--output_path" in err
    assert files_under(out) == []


def test_run_names_every_unknown_flag_and_a_stray_value(job, capsys):
    config, out = job
    assert exit_code(["run", "--config", config, "--runer=FlinkRunner", "--bogus"]) == 2
    err = capsys.readouterr().err
    assert "unknown flag --runer (did you mean --runner?); also unknown: --bogus" in err
    assert exit_code(["run", "--config", config, "stray"]) == 2
    assert "unexpected argument 'stray'" in capsys.readouterr().err
    assert files_under(out) == []


def test_run_accepts_ours_beams_the_runners_and_a_custom_class(job):
    config, _ = job
    argcheck.check_run([
        "--config", config, "--start-ledger=84", "--end_ledger", "85", "--local_spill_dir=none",
        "--runner=FlinkRunner", "--flink_master=localhost:8081", "--parallelism", "2",  # FlinkRunnerOptions
        "--temp_location=/tmp/x", "--project=p", "--region", "r", "--no_auth",  # GoogleCloudOptions
        "--environment_type=LOOPBACK", "--experiments=a", "--experiments=b", "--streaming",
        "--audit_label=x", "--audit_detail_level=3",  # the custom classes above
    ])


def test_a_custom_class_flag_typo_gets_its_suggestion(job, capsys):
    config, out = job
    assert exit_code(["run", "--config", config, "--audit_detail_levl=3"]) == 2
    assert "did you mean --audit_detail_level?" in capsys.readouterr().err
    assert files_under(out) == []


def test_a_runner_module_registers_its_options_before_the_check():
    # RenderRunner's options live in its own module, loaded when --runner names it.
    argcheck.check_run(["--config=x.yaml", "--runner=apache_beam.runners.render.RenderRunner",
                        "--render_output=/tmp/graph.dot"])
    with pytest.raises(SystemExit) as e:
        argcheck.check_run(["--config=x.yaml", "--render_output=/tmp/graph.dot", "--render_outptu=y"])
    assert e.value.code == 2


class _DescribingJobService(beam_job_api_pb2_grpc.JobServiceServicer):
    """A job service that describes one option, as Flink's job server describes its Java options."""

    def DescribePipelineOptions(self, request, context):  # noqa: N802 - gRPC's name
        option = beam_job_api_pb2.PipelineOptionDescriptor(
            name="checkpointing_interval", type=beam_job_api_pb2.PipelineOptionType.INTEGER,
            description="Flink checkpoint interval (ms)",
        )
        return beam_job_api_pb2.DescribePipelineOptionsResponse(options=[option])


@pytest.fixture
def job_service():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    beam_job_api_pb2_grpc.add_JobServiceServicer_to_server(_DescribingJobService(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}"
    server.stop(0)


def test_options_a_job_service_describes_are_accepted(job_service, capsys):
    portable = ["--config=x.yaml", "--runner=PortableRunner", f"--job_endpoint={job_service}"]
    argcheck.check_run([*portable, "--checkpointing_interval=1000"])
    with pytest.raises(SystemExit) as e:
        argcheck.check_run([*portable, "--checkpointing_intervl=1000"])
    assert e.value.code == 2
    assert "did you mean --checkpointing_interval?" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # without the job service, nobody describes it
        argcheck.check_run(["--config=x.yaml", "--checkpointing_interval=1000"])


class _OwnJobServer(JobServer):
    """What FlinkRunner's ``default_job_server`` returns, in miniature: a job service the runner starts itself
    (here a gRPC server in this process describing ``--checkpointing_interval``), recording starts and stops."""

    events: list[str] = []

    def start(self):
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        beam_job_api_pb2_grpc.add_JobServiceServicer_to_server(_DescribingJobService(), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()
        self.events.append("start")
        return beam_job_api_pb2_grpc.JobServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    def stop(self):
        self._server.stop(0)
        self.events.append("stop")


class SelfStartingRunner(PortableRunner):
    """A portable runner that starts its own job server, as FlinkRunner does without --job_endpoint."""

    def default_job_server(self, options):
        return _OwnJobServer()


def test_a_runner_starting_its_own_job_server_is_asked_before_the_run(capsys):
    """Without --job_endpoint the job server the runner would start is started, asked and stopped, and
    only when a flag is left that no Python options class defines (it costs a JVM start for Flink)."""
    own = ["--config=x.yaml", f"--runner={__name__}.SelfStartingRunner"]
    _OwnJobServer.events.clear()
    argcheck.check_run([*own, "--parallelism=2"])
    assert _OwnJobServer.events == []  # nothing left to ask about: no job server started
    argcheck.check_run([*own, "--checkpointing_interval", "1000"])
    assert _OwnJobServer.events == ["start", "stop"]
    with pytest.raises(SystemExit) as e:
        argcheck.check_run([*own, "--checkpointing_intervl=1000"])
    assert e.value.code == 2
    assert "unknown flag --checkpointing_intervl (did you mean --checkpointing_interval?)" in capsys.readouterr().err
    assert _OwnJobServer.events == ["start", "stop"] * 2


@pytest.mark.parametrize(
    ("command", "typo", "suggestion"),
    [
        ("validate", "--confg", "--config"),
        ("verify", "--start_ledgr", "--start_ledger"),
        ("verify", "--bogus", None),
        ("query", "--roots", "--root"),
        ("schemas", "--ot", "--out"),
        ("sample", "--ledger", "--ledgers"),  # an abbreviation is not accepted either
    ],
)
def test_every_subcommand_refuses_a_typo(command, typo, suggestion, job, tmp_path, capsys):
    config, out = job
    written = tmp_path / "written"
    argv = {
        "validate": ["--config", config],
        "verify": ["--path", str(out)],
        "query": ["--root", str(out), "--sql", "SELECT 1"],
        "schemas": ["--out", str(written / "tables.md")],
        "sample": ["--out", str(written / "store"), "--ledgers", "4"],
    }[command]
    assert exit_code([command, *argv, typo, "3"]) == 2
    err = capsys.readouterr().err
    assert f"unknown flag {typo}" in err
    if suggestion:
        assert f"(did you mean {suggestion}?)" in err
    else:
        assert "did you mean" not in err
    assert f"usage: python -m beam_pipeline {command}" in err
    assert files_under(written) == [] and files_under(out) == []


def test_verify_still_takes_beams_storage_options(job, capsys):
    config, out = job
    # A Beam filesystem option passes the check; the (empty) archive is then what verify complains about.
    exit_code(["verify", "--path", str(out), "--s3_endpoint_url=http://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert "unknown flag" not in err and "usage:" not in err


def test_an_unknown_command_names_the_nearest(capsys):
    assert exit_code(["verfy", "--path", "x"]) == 2
    assert "unknown command 'verfy' (did you mean verify?)" in capsys.readouterr().err


# --- the flex template's entry point ---------------------------------------------------------------


def load_flex_main():
    spec = importlib.util.spec_from_file_location("flex_template_main_argcheck", FLEX / "main.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("flag", "suggestion"),
    [
        ("--end_ledgr=85", "--end_ledger"),  # a typo of a declared parameter
        ("--start-ledger=84", "--start_ledger"),  # the CLI's spelling is not a template parameter
        ("--local_spill_dir=/tmp", None),  # ours, but not declared in metadata.json
    ],
)
def test_flex_entry_point_refuses_undeclared_parameters(flag, suggestion, job, capsys):
    config, out = job
    flex = load_flex_main()
    with pytest.raises(SystemExit) as e:
        flex.run(["--config", config, "--project=p", "--region=r", flag])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"unknown flag {flag.split('=')[0]}" in err
    if suggestion:
        assert f"did you mean {suggestion}?" in err
    assert "usage: templates/flex/main.py" in err and "template parameters (metadata.json): --config" in err
    assert files_under(out) == []


def test_flex_entry_point_runs_with_declared_parameters(job, capsys):
    config, out = job
    assert load_flex_main().run(["--config", config, "--start_ledger=84", "--end_ledger=85"]) == 0
    assert any(p.suffix == ".parquet" for p in files_under(out))


def test_the_image_holds_the_metadata_the_entry_point_reads():
    dockerfile = (FLEX / "Dockerfile").read_text()
    assert "COPY templates/flex/metadata.json ${WORKDIR}/metadata.json" in dockerfile
    assert load_flex_main().METADATA.name == "metadata.json"


class FlagStyleOptions(PipelineOptions):
    """An options class using argparse's BooleanOptionalAction: --x and --no-x are both its flags."""

    @classmethod
    def _add_argparse_args(cls, parser):
        import argparse

        parser.add_argument("--audit_strict", action=argparse.BooleanOptionalAction, default=False)


def test_boolean_optional_flags_keep_their_negative_twin():
    argcheck.check_run(["--config=x.yaml", "--audit_strict", "--no-audit_strict"])


def test_flex_entry_point_without_its_metadata_says_so(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        argcheck.check_template(["--config=x.yaml"], tmp_path / "metadata.json", "main.py")
    assert e.value.code == 2
    assert f"{tmp_path / 'metadata.json'}: cannot read the template parameters" in capsys.readouterr().err
