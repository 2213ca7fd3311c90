"""One archival job, from its command line to its summary: what ``run`` and the flex template launch.

Run orchestration lives here rather than in `cli` so that every entry point (the command line,
the flex template's ``main.py``, the benchmarks) starts a job the same way without importing
another entry point: resolve the config and its overrides, name the run (run id, config digest),
make and remove the local spill directory, resume a tail from the archive, build and run the
graph, clean up after a failure, print the summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import time
from datetime import datetime, timezone

from beam_pipeline import argcheck
from beam_pipeline.config import ConfigError, PipelineConfig, as_time, describe, load_config
from beam_pipeline.util import secrets
from beam_pipeline.util.errors import first_line

EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_DEAD_LETTERS = 3

log = logging.getLogger("beam_pipeline")


def override_output(cfg: PipelineConfig, url: str) -> PipelineConfig:
    """``--output_path`` replaces the sink's root (local dir, gs://bucket/prefix, s3://bucket/prefix)."""
    sink = cfg.sink
    if "://" in url:
        scheme, rest = url.split("://", 1)
        bucket, _, prefix = rest.partition("/")
        storage = {"gs": "GCS", "s3": "S3"}.get(scheme)
        if storage is None:
            raise ConfigError("--output_path", [f"unsupported URL scheme {scheme!r} (use gs://, s3:// or a path)"])
        sink = dataclasses.replace(sink, storage_type=storage, bucket_name=bucket, path_prefix=prefix, local_path=None)
    else:
        sink = dataclasses.replace(sink, storage_type="FS", local_path=url, path_prefix="")
    return dataclasses.replace(cfg, consumers=(sink,))


def apply_storage_options(cfg: PipelineConfig, options) -> None:
    """Maps the config's bucket settings onto pipeline options (explicit Beam flags win).

    Per-bucket S3 settings (endpoint, region, path-style, anonymous) and the GCS emulator set-up
    live in `util.storage`; see there for why Beam's single S3Options are not enough.
    """
    from beam_pipeline.util import storage

    try:
        settings = storage.apply_options(cfg, options)
    except storage.StorageConfigError as e:
        raise ConfigError(cfg.config_file or "<config>", [str(e)]) from None
    for bucket, s in settings.items():
        log.info(
            "s3://%s: endpoint %s, region %s%s%s", bucket, s.endpoint_url or "AWS default", s.region or "default",
            ", path-style" if s.path_style else "", ", anonymous (unsigned)" if s.anonymous else "",
        )


def local_runner(options):
    """The configured runner, or the in-process FnApiRunner (DirectRunner would fetch Prism first)."""
    from apache_beam.options.pipeline_options import StandardOptions

    if options.view_as(StandardOptions).runner:
        return None
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def make_spill_dir(runner, options, run_id: str) -> str | None:
    """A fresh spill directory when the in-process runner runs the job (see util/spill.py), else None."""
    import tempfile

    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    from beam_pipeline.options import LocalRunOptions

    where = options.view_as(LocalRunOptions).local_spill_dir
    if not isinstance(runner, FnApiRunner) or where == "none":
        return None
    from beam_pipeline.util import spill

    path = tempfile.mkdtemp(prefix=f"{spill.SPILL_PREFIX}{run_id}-", dir=where or None)
    spill.claim_dir(path)
    for dead in spill.remove_dead_dirs(os.path.dirname(path), keep=path):
        log.warning("removed the spill directory %s of a run that died", dead)
    return path


def remove_spill_dir(path: str | None) -> None:
    import shutil

    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def refuse_legacy_layout(cfg: PipelineConfig) -> bool:
    """A ledger_range run into an archive of the old ``ledgers/S-E/`` layout would duplicate rows: refuse."""
    from beam_pipeline.migrate import has_legacy_ranges

    if cfg.sink.partition_by != "ledger_range" or not has_legacy_ranges(cfg.sink.root, cfg.processors):
        return False
    print(f"error: {cfg.sink.root} holds ledger-range directories of the old layout (TABLE/ledgers/START-END/); "
          f"run `python -m beam_pipeline migrate-layout --root {cfg.sink.root}` first", file=sys.stderr)
    return True


def refuse_schema_change(cfg: PipelineConfig) -> bool:
    """One schema per table across the archive (see `sinks.archive_schema`); the error names table and columns."""
    from beam_pipeline.sinks.archive_schema import SchemaMismatchError, check_archive_schema

    sink = cfg.sink
    try:
        check_archive_schema(sink.root, cfg.processors, sink.xdr_encoding, sink.include_metadata,
                             sink.schema_evolution)
    except SchemaMismatchError as e:
        print(f"error: {e}", file=sys.stderr)
        return True
    return False


def refuse_unavailable_consumers(cfg: PipelineConfig) -> bool:
    """A PostgreSQL or Redis consumer that cannot write fails the run before the archive is touched."""
    from beam_pipeline.sinks.preflight import ConsumerUnavailable, check_consumers

    try:
        check_consumers(cfg)
    except ConsumerUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return True
    return False


def run(argv: list[str], wait: bool = True) -> int:
    """Runs the archival job; ``wait=False`` returns once the runner has the job (flex template launches)."""
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

    from beam_pipeline.options import ArchiveOptions
    from beam_pipeline.pipeline import build_pipeline
    from beam_pipeline.sinks import runs
    from beam_pipeline.sinks.commit import CommitError
    from beam_pipeline.sinks.filesets import new_run_id
    from beam_pipeline.sinks.manifest import RunInfo
    from beam_pipeline.summary import print_summary, query_metrics

    argcheck.check_run(argv)  # exits 2 on a flag nobody understands, before any work
    options = PipelineOptions(argv)
    args = options.view_as(ArchiveOptions)
    if not args.config:
        print("error: --config FILE is required", file=sys.stderr)
        return EXIT_CONFIG
    FileSystems.set_options(options)
    try:
        cfg, resolution = resolve_config(args, options)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return EXIT_CONFIG
    if cfg.streaming:  # --- following the chain: resume from the archive, run in streaming mode
        cfg = resume_from_archive(cfg)
        options.view_as(StandardOptions).streaming = True
        if cfg.source.end_ledger is None and not options.view_as(StandardOptions).runner:
            print("error: following the chain without an end ledger needs a streaming runner: pass "
                  "--runner=DataflowRunner, FlinkRunner or PrismRunner (see docs/streaming.md)", file=sys.stderr)
            return EXIT_CONFIG
    if refuse_legacy_layout(cfg) or refuse_schema_change(cfg) or refuse_unavailable_consumers(cfg):
        return EXIT_CONFIG
    started = datetime.now(timezone.utc)
    run_id = args.run_id or new_run_id(started)
    runner = local_runner(options)
    runner_name = type(runner).__name__ if runner else options.view_as(StandardOptions).runner
    digest = hashlib.sha256(json.dumps(describe(cfg), sort_keys=True, default=str).encode()).hexdigest()
    run = RunInfo(
        run_id=run_id,
        pipeline_name=cfg.name,
        started_at=started.isoformat().replace("+00:00", "Z"),
        start_ledger=cfg.source.start_ledger,
        end_ledger=cfg.source.end_ledger,
        source="",
        runner=runner_name,
        config_digest=digest,
        config_file=cfg.config_file,
        tables=cfg.processors,
        filters=tuple((f.table, json.dumps(f.describe(), sort_keys=True)) for f in cfg.filters),
        root=cfg.sink.root,
        dry_run=cfg.sink.dry_run,
        layout=(
            ("partition_by", cfg.sink.partition_by),
            ("ledgers_per_file", cfg.sink.ledgers_per_file),
            ("compression", cfg.sink.compression),
            ("xdr_encoding", cfg.sink.xdr_encoding),
            ("include_metadata", cfg.sink.include_metadata),
            ("table_format", cfg.sink.table_format),
            *((("iceberg_catalog", cfg.sink.iceberg_catalog), ("iceberg_namespace", cfg.sink.iceberg_namespace))
              if cfg.sink.table_format == "iceberg" else ()),
        ),
    )
    t0 = time.monotonic()
    try:
        spill_dir = make_spill_dir(runner, options, run_id)
    except OSError as e:
        print(f"error: --local_spill_dir: {e}", file=sys.stderr)
        return EXIT_CONFIG
    if not cfg.sink.dry_run:
        try:  # completes crashed commits, removes dead runs' leftovers, refuses a run id that would not win
            runs.prepare_run(cfg.sink.root, run_id)
        except Exception as e:  # noqa: BLE001 - a refused run id, or an unreachable archive: named
            remove_spill_dir(spill_dir)
            if isinstance(e, CommitError):
                print(f"error: {e}", file=sys.stderr)
                return EXIT_CONFIG
            print(f"error: run {run_id}: cannot prepare the archive {cfg.sink.root}: {root_cause(e)}",
                  file=sys.stderr)
            return EXIT_FAILED
    log.info("run %s: ledgers %s-%s -> %s%s", run_id, run.start_ledger, run.end_ledger, run.root,
             " (dry run)" if cfg.sink.dry_run else "")
    if spill_dir:
        log.info("run %s: decoded chunks wait in %s while they are shuffled", run_id, spill_dir)
    try:
        p = beam.Pipeline(runner=runner, options=options)
        built = build_pipeline(p, cfg, run, int(started.timestamp() * 1_000_000), spill_dir)
        result = p.run()
        if wait:
            result.wait_until_finish()
    except Exception as e:  # noqa: BLE001 - reported, temp files removed, non-zero exit
        if not cfg.sink.dry_run:
            abandon_run(cfg.sink.root, run_id)
        print(f"error: run {run_id} failed: {root_cause(e)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        remove_spill_dir(spill_dir)
        if wait:
            runs.end_run(run_id)
    if not wait or not ran_here(result):
        print(f"run {run_id}: {runner_name} took the job for ledgers {run.start_ledger}-{run.end_ledger}"
              f" -> {run.root}; not waiting for it here (template launch or dry run), its counters appear"
              " in the runner's UI", flush=True)
        return 0
    metrics = query_metrics(result)
    print_summary(built.run, cfg, metrics, time.monotonic() - t0)
    if resolution is not None:
        print("  " + resolution.describe(), flush=True)
    if metrics.get("dead_letters", 0):
        return EXIT_DEAD_LETTERS
    return 0


CLEANUP_DEADLINE_S = 30.0


def abandon_run(root: str, run_id: str) -> None:
    """After a failed run: complete its commit if it passed the commit point, else remove its temporary files.

    Bounded in time: the run has failed already, often because the store is unreachable, and Beam
    would retry the listing for minutes. After `CLEANUP_DEADLINE_S` the run says what it left and
    exits; the next run repairs it (`sinks/runs.py`).
    """
    from beam_pipeline.sinks import runs
    from beam_pipeline.sinks.commit import temp_root
    from beam_pipeline.util.deadline import call_with_deadline

    where = temp_root(root, run_id)
    try:
        outcome = call_with_deadline(lambda: runs.abandon_run(root, run_id), CLEANUP_DEADLINE_S, f"cleaning up {where}")
    except Exception as e:  # noqa: BLE001 - best effort; the run's error is what matters
        print(f"warning: run {run_id} left its temporary files under {where} ({first_line(e)}); the next run "
              "removes them, or remove them once the store is reachable", file=sys.stderr)
    else:
        log.warning("run %s failed and %s", run_id, outcome)


def resolve_config(args, options):
    """Config file + command-line overrides + storage settings + time range -> (config, time resolution).

    Everything that can be wrong with what the user asked for surfaces here as a ConfigError,
    before any Beam work starts.
    """
    from apache_beam.io.filesystems import FileSystems

    from beam_pipeline.sources.sep54 import DatastoreError
    from beam_pipeline.sources.timerange import TimeRangeError, resolve_time_range_detailed
    from beam_pipeline.util.storage import StorageConfigError

    where = args.config
    if args.run_id is not None:
        from beam_pipeline.sinks.filesets import is_run_id

        if not is_run_id(args.run_id):
            raise ConfigError("--run_id", [f"{args.run_id!r} is not a run id like r20260101T000000000000Zabcd"])
    cfg = load_config(args.config, options, args.pipeline)
    for w in cfg.warnings:
        print(f"warning: {args.config}: {w}", file=sys.stderr)
    cfg = cfg.with_range(args.start_ledger, args.end_ledger, flag_time(args.start_time, "--start_time"),
                         flag_time(args.end_time, "--end_time"))
    if args.output_path:
        cfg = override_output(cfg, args.output_path)
    configure_logging(cfg.sink.debug)
    secrets.register(secrets.config_secrets(cfg))
    try:
        apply_storage_options(cfg, options)
        FileSystems.set_options(options)
        cfg, resolution = resolve_time_range_detailed(cfg)
    except (StorageConfigError, TimeRangeError, DatastoreError) as e:
        raise ConfigError(where, [str(e)]) from None
    return cfg, resolution


def flag_time(value: str | None, flag: str):
    if value is None:
        return None
    try:
        return as_time(value)
    except TypeError as e:
        raise ConfigError(flag, [str(e)]) from None


def resume_from_archive(cfg: PipelineConfig) -> PipelineConfig:
    """A restarted tail starts at the first ledger of the archive's newest partitions, if later.

    See `sinks.streaming.resume_ledger`: re-archiving from there supersedes what a stopped run left,
    so stopping and starting the same command neither loses nor duplicates ledgers.
    """
    from beam_pipeline.sinks.streaming import resume_ledger

    start, end = cfg.source.start_ledger, cfg.source.end_ledger
    resume = resume_ledger(cfg.sink.root, cfg.processors, start=start)
    if resume is None or resume <= start:
        return cfg
    if end is not None:
        resume = min(resume, end)
    log.info("resuming from the archive at ledger %d (configured start %d)", resume, start)
    return cfg.with_range(resume, None)


def ran_here(result) -> bool:
    """False when the runner only translated the job, so there are no metrics to summarize.

    A Dataflow flex template launch runs this CLI with ``--template_location``: DataflowRunner writes
    the job there for the service to start and returns a result without a job id (waiting returns at
    once; querying its metrics raises). ``--dry_run`` returns Beam's base ``PipelineResult``, which
    has no metrics at all.
    """
    from apache_beam.runners.runner import PipelineResult

    return getattr(result, "has_job", True) is not False and type(result) is not PipelineResult


def root_cause(e: BaseException) -> str:
    """The innermost message of a runner's wrapped exception, without the worker traceback."""
    text = str(e).strip()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    for ln in reversed(lines):
        s = ln.strip()
        if s.startswith(("beam_pipeline.", "LedgerError", "DatastoreError", "ValueError", "RpcError", "OSError")):
            return s
    return lines[-1] if lines else type(e).__name__


def configure_logging(debug: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for noisy in ("apache_beam", "urllib3", "botocore", "google"):
        logging.getLogger(noisy).setLevel(logging.NOTSET if debug else logging.WARNING)
    # The in-process runner logs each failing element's worker traceback; the run's one-line
    # error names the object and ledger already, and debug: true shows the tracebacks.
    logging.getLogger("apache_beam.runners.common").setLevel(logging.NOTSET if debug else logging.CRITICAL)
    # basicConfig(force=True) replaced the root handlers: put the redacting filter back on them, so
    # that debug logs of urllib3, botocore and Beam never show a registered secret.
    secrets.protect_logging()
