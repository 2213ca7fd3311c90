"""Refusing flags nobody understands, before any work is done.

Beam's own option parsing keeps going past a flag it does not know: ``--end_ledgr 85`` logs
"Unparseable argument" and the job then archives the config's whole range. Every command here
instead stops with exit 2, the flag, the closest valid one and the command's usage.

Which flags are valid depends on the command:

- ``run``: ours (`beam_pipeline.options`), Beam's standard options, the options the chosen runner
  registers (its module is imported first, as Beam does when it builds the runner), options of any
  other `PipelineOptions` subclass loaded in the process (a user's custom options), and, for a
  portable runner, the options its job service describes (a Flink job server's Java-side
  ``--checkpointing_interval``, ``--flink_conf_dir`` ...): the one at ``--job_endpoint``, or the job
  server the runner would start itself (FlinkRunner from ``--flink_job_server_jar``), started here for
  the question when a flag is left that nothing else defines. This is the parser Beam builds in
  ``PipelineOptions.get_all_options`` (every registered subclass's ``_add_argparse_args``), walked
  recursively so subclasses of subclasses count too, plus what ``PortableRunner`` adds at submission.
- the flex template's entry point: the same, except that of this project's own options only the
  template parameters ``templates/flex/metadata.json`` declares are accepted (Dataflow passes its
  own options, Beam's, beside them).
- every other subcommand: its argparse parser (`StrictParser`), plus Beam's options where the
  command reads storage through Beam's FileSystems (``verify``).

Values are not checked here: the real parsers do that (argparse's own errors also exit 2).
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NoReturn

EXIT_USAGE = 2
JOB_SERVICE_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class StrictParser(argparse.ArgumentParser):
    """An ArgumentParser that names the closest valid flag for an unknown one and never guesses prefixes.

    argparse's default accepts ``--ou`` for ``--out`` (``allow_abbrev``) and answers an unknown flag
    with "unrecognized arguments" only; here an abbreviation is an unknown flag like any other.
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):  # noqa: D102 - argparse's contract
        parsed, rest = self.parse_known_args(args, namespace)
        if rest:
            refuse(rest, option_strings(self), self.format_usage())
        return parsed


class _FlagCollector(argparse.ArgumentParser):
    """Collects option names from `PipelineOptions._add_argparse_args`, ignoring types and choices.

    Beam's classes call ``add_argument`` and ``add_value_provider_argument`` (templates); only the names
    and how many values each flag takes matter here, so a bad value is left to Beam's real parser, and a
    flag two classes both define (a user's subclass repeating one of Beam's) does not stop the check.
    """

    def __init__(self) -> None:
        super().__init__(allow_abbrev=False, add_help=False, conflict_handler="resolve")

    def add_argument(self, *args, **kwargs):  # noqa: D102
        for key in ("type", "choices", "required", "default"):
            kwargs.pop(key, None)
        action = kwargs.get("action", "store")
        if isinstance(action, type) and issubclass(action, argparse.BooleanOptionalAction):
            pass  # keeps its --no-<name> twin
        elif not isinstance(action, str):  # Beam's own Action classes (comma lists, dict unions) take one value
            kwargs["action"] = "append"
        return super().add_argument(*args, **kwargs)

    def add_value_provider_argument(self, *args, **kwargs):  # noqa: D102 - Beam's template-argument hook
        if args and not args[0].startswith("-"):
            return None  # positional value-provider arguments are given as --name=value too; Beam warns
        return self.add_argument(*args, **kwargs)


def option_strings(parser: argparse.ArgumentParser) -> list[str]:
    """Every ``--flag`` spelling a parser accepts."""
    return sorted({s for a in parser._actions for s in a.option_strings if s.startswith("--")})


def closest(flag: str, valid: Iterable[str]) -> str | None:
    """The valid flag nearest to ``flag`` (difflib, as Beam's warning does), or None when nothing is near."""
    found = difflib.get_close_matches(flag, list(valid), n=1, cutoff=0.6)
    return found[0] if found else None


def refuse(unknown: Sequence[str], valid: Iterable[str], usage: str) -> NoReturn:
    """Prints the first unknown flag, its closest valid one, the others, and the usage; exits 2."""
    valid = sorted(set(valid))
    flags = [u.split("=", 1)[0] for u in unknown if u.startswith("-")]
    if flags:
        flag = flags[0]
        near = closest(flag, valid)
        line = f"error: unknown flag {flag}" + (f" (did you mean {near}?)" if near else "")
        others = [f for f in dict.fromkeys(flags[1:]) if f != flag]
        if others:
            line += f"; also unknown: {', '.join(others)}"
    else:
        line = f"error: unexpected argument {unknown[0]!r}"
    print(f"{line}\n{usage.rstrip()}", file=sys.stderr, flush=True)
    raise SystemExit(EXIT_USAGE)


# --- Beam pipeline options -------------------------------------------------------------------------


def pipeline_option_classes() -> list[type]:
    """Every loaded `PipelineOptions` subclass, depth first, each once (Beam dedupes them by name too)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    import beam_pipeline.options  # noqa: F401 - registers ArchiveOptions, LocalRunOptions
    import beam_pipeline.util.storage  # noqa: F401 - registers StorageOptions

    seen: dict[str, type] = {}
    stack = list(reversed(PipelineOptions.__subclasses__()))
    while stack:
        cls = stack.pop()
        seen.setdefault(f"{cls.__module__}.{cls.__qualname__}", cls)
        stack.extend(reversed(cls.__subclasses__()))
    return list(seen.values())


def pipeline_flags(argv: Sequence[str], exclude: Iterable[type] = (), also_valid: Iterable[str] = ()) -> _FlagCollector:
    """A parser knowing every flag the pipeline options of ``argv`` can mean (see the module docstring).

    ``exclude``: option classes whose flags do not count (the flex template's undeclared ones);
    ``also_valid``: flags the caller defines itself. The runner's job service is asked only when a
    flag is left that nothing else defines: that may start a job server, which takes seconds.
    """
    runner = _runner_class(argv)  # imported first: a runner module may register its own options
    skip = set(exclude)
    parser = _FlagCollector()
    for cls in pipeline_option_classes():
        if cls not in skip and "_add_argparse_args" in vars(cls):  # an inherited one was added with its class
            cls._add_argparse_args(parser)
    for flag in also_valid:
        parser.add_argument(flag, nargs="?")
    if runner is not None and parser.parse_known_args(list(argv))[1]:
        for name in _job_service_options(runner, argv):
            parser.add_argument(f"--{name}", nargs="?")
    return parser


def check_pipeline_args(
    argv: Sequence[str], usage: str, also_valid: Iterable[str] = (), exclude: Iterable[type] = ()
) -> None:
    """Exits 2 (see `refuse`) when ``argv`` holds a flag no pipeline option class understands."""
    if any(a in ("-h", "--help") for a in argv):
        print(usage.rstrip(), flush=True)
        raise SystemExit(0)
    parser = pipeline_flags(argv, exclude, also_valid)
    _, rest = parser.parse_known_args(list(argv))
    if rest:
        refuse(rest, option_strings(parser), usage)


def usage(prog: str, classes: Iterable[type], note: str = "") -> str:
    """A usage line built from option classes' flags (``run``, the flex entry point), plus a note."""
    parser = StrictParser(prog=prog, add_help=False)
    for cls in classes:
        cls._add_argparse_args(parser)
    return parser.format_usage().rstrip() + (f"\n{note}" if note else "")


def own_option_classes() -> list[type]:
    """This project's option classes (whose flags a flex template must declare to accept)."""
    return [c for c in pipeline_option_classes() if c.__module__.split(".")[0] == "beam_pipeline"]


def template_parameters(metadata: Path) -> list[str]:
    """The ``--name`` flags a flex template's metadata.json declares."""
    try:
        params = json.loads(metadata.read_text(encoding="utf-8")).get("parameters", [])
    except (OSError, ValueError) as e:
        raise ValueError(f"{metadata}: cannot read the template parameters: {e}") from None
    return [f"--{p['name']}" for p in params]


def _runner_class(argv: Sequence[str]) -> type | None:
    """The class ``--runner`` names (its module imported), or None when none is given or it is unknown."""
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    name = PipelineOptions(list(argv)).view_as(StandardOptions).runner
    if not name:
        return None
    from apache_beam.runners.runner import create_runner

    try:
        return type(create_runner(name))
    except Exception:  # noqa: BLE001 - an unknown runner is Beam's error to report, with its own message
        return None


def _job_service_options(runner: type, argv: Sequence[str]) -> list[str]:
    """The options a portable runner's job service describes ([] for a runner that is not portable).

    PortableRunner asks its job service the same question when it submits, and hands the service
    the flags it describes (FlinkRunner's job server: every Java ``FlinkPipelineOptions`` option of
    the jar's version); asking before anything runs lets those flags pass this check. The service
    is the one at ``--job_endpoint``, or else the job server the runner starts itself.
    """
    from apache_beam.options.pipeline_options import PipelineOptions, PortableOptions
    from apache_beam.runners.portability.portable_runner import PortableRunner

    options = PipelineOptions(list(argv))
    endpoint = options.view_as(PortableOptions).job_endpoint
    if not issubclass(runner, PortableRunner) or endpoint == "embed":
        return []
    if not endpoint:
        return _own_job_server_options(runner, options)
    import grpc
    from apache_beam.portability.api import beam_job_api_pb2_grpc

    with grpc.insecure_channel(endpoint) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=JOB_SERVICE_TIMEOUT_S)
            return _described(beam_job_api_pb2_grpc.JobServiceStub(channel))
        except (grpc.FutureTimeoutError, grpc.RpcError) as e:
            log.warning("job service %s did not describe its options (%s); checking flags without them",
                        endpoint, type(e).__name__)
            return []


def _own_job_server_options(runner: type, options) -> list[str]:
    """The options described by the job server ``runner`` starts at submission, started here and stopped.

    It is the very server Beam would start (``default_job_server``: FlinkRunner's
    ``java -jar`` of ``--flink_job_server_jar``, or the jar Beam fetches), so what it describes is
    what it will take. Asking costs one more start of it (seconds for a JVM), paid only by a run
    with a flag no Python options class defines: a Java-side option, or a typo that is then refused.
    A service that describes nothing (Prism, an uber-jar submission) leaves such flags refused.
    """
    try:
        server = runner().default_job_server(options)
    except NotImplementedError:  # PortableRunner itself: it needs --job_endpoint
        return []
    log.warning("starting %s's job server to ask which options it takes (a flag no Python options class "
                "defines)", runner.__name__)
    try:
        return _described(server.start())
    except Exception as e:  # noqa: BLE001 - the flags are then refused, and this says why
        log.warning("%s's job server did not describe its options (%s: %s); checking flags without them",
                    runner.__name__, type(e).__name__, e)
        return []
    finally:
        server.stop()


def _described(service) -> list[str]:
    """The option names a job service (a gRPC stub, or Beam's in-process servicer) describes."""
    from apache_beam.portability.api import beam_job_api_pb2

    response = service.DescribePipelineOptions(beam_job_api_pb2.DescribePipelineOptionsRequest(),
                                               timeout=JOB_SERVICE_TIMEOUT_S)
    return [o.name for o in response.options]


# --- the commands' hooks ---------------------------------------------------------------------------

RUN_PROG = "python -m beam_pipeline run"
BEAM_NOTE = ("  plus Beam's pipeline options (--runner, --temp_location, --project, a runner's own ...);"
             " see the README, 'Beam options and ours'")


def check_run(argv: Sequence[str]) -> None:
    """``run``: exits 2 on a flag neither we, Beam, the runner nor a loaded options class defines."""
    from beam_pipeline.options import ArchiveOptions, LocalRunOptions

    check_pipeline_args(argv, usage(RUN_PROG, [ArchiveOptions, LocalRunOptions], BEAM_NOTE))


def check_template(argv: Sequence[str], metadata: Path, prog: str) -> None:
    """The flex entry point: as `check_run`, but of our own flags only the declared parameters pass."""
    from beam_pipeline.options import ArchiveOptions

    try:
        declared = template_parameters(metadata)
    except ValueError as e:  # an image built without metadata.json beside main.py
        print(f"error: {e}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_USAGE) from None
    template_usage = usage(prog, [ArchiveOptions], "  template parameters (metadata.json): "
                           + ", ".join(declared) + "\n" + BEAM_NOTE)
    parser = pipeline_flags(argv, exclude=own_option_classes(), also_valid=declared)
    _, rest = parser.parse_known_args(list(argv))
    if rest:
        refuse(rest, option_strings(parser), template_usage)


def check_command(argv: Sequence[str], parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, list[str]]:
    """A subcommand's own flags, plus Beam's options (storage settings); returns (its args, Beam's args)."""
    args, rest = parser.parse_known_args(list(argv))
    if rest:
        check_pipeline_args(rest, parser.format_usage(), also_valid=option_strings(parser))
    return args, rest


def command_typo(name: str, commands: Iterable[str]) -> str:
    """The message for an unknown subcommand, with the nearest one."""
    near = closest(name, commands)
    return f"error: unknown command {name!r}" + (f" (did you mean {near}?)" if near else "")
